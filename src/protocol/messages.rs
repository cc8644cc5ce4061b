//! Protocol messages that provers submit and validators include in phase blocks.
//!
//! Source: spec "Multi-phase Proof Generation" (T1 commitments, T2 partial proofs,
//! T3–T5 aggregated full proofs with a BloomHash of reused partials) and DESIGN.md
//! ("Commitments (T1)", "Partial proof", "Aggregation (T3–T5)").
//!
//! Signatures are checked by the node shell before a message reaches the engine;
//! an [`Included`] carries the recovered sender. Proof bytes are opaque here: the
//! engine only hashes them (keccak-256) to detect reuse and theft.

use alloy_primitives::{Address, B256, Bytes, keccak256};
use serde::{Deserialize, Serialize};

use super::types::{Phase, SetId, Slot};

/// A T1 commitment: keccak of (prover address, slot, set, assigned sub-blocks and
/// their claimed `(root_in, root_out)`), see [`commitment_hash`]. Opened by the
/// prover's T2 partial proofs. Spec T1: "Commit to the signed challenge".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Commitment {
    /// Slot the commitment is for.
    pub slot: Slot,
    /// Sub-block set (0 without the gigagas extension).
    pub set: SetId,
    /// The 32-byte commitment.
    pub hash: B256,
}

/// A partial proof: one sub-block takes `root_in` to `root_out`; the prover's
/// address is a public input of the halo2 proof. Spec T2.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PartialProof {
    /// Slot.
    pub slot: Slot,
    /// Sub-block set.
    pub set: SetId,
    /// Index of the sub-block within the set, `0..num_partial_proofs`.
    pub sub_block: u32,
    /// State root before the sub-block (32 bytes, a Pallas field element).
    pub root_in: B256,
    /// State root after the sub-block.
    pub root_out: B256,
    /// The halo2 proof (about 2.4 KB at k = 9).
    pub proof: Bytes,
}

/// A full proof of the whole block (or, with the gigagas extension, of one set),
/// submitted directly by a strong prover in T1 or T2. Spec T1/T2 "Optionally
/// submit a full proof".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FullProof {
    /// Slot.
    pub slot: Slot,
    /// Sub-block set.
    pub set: SetId,
    /// State root before the block.
    pub root_in: B256,
    /// State root after the block.
    pub root_out: B256,
    /// The halo2 proof.
    pub proof: Bytes,
}

/// A reference to another prover's included partial proof, reused by an aggregation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct PartialRef {
    /// Sub-block index.
    pub sub_block: u32,
    /// The prover who submitted the partial.
    pub prover: Address,
    /// keccak-256 of the partial proof's bytes.
    pub proof_hash: B256,
}

/// An aggregated full proof (T3–T5): every sub-block covered either by a reused
/// partial ([`PartialRef`]) or by a partial the aggregator proves itself
/// (`own`), plus a link proof binding the chain of roots, the aggregator's address
/// and `bloom`. Spec T3: "Any prover may submit a full proof, including a
/// BloomHash summarizing reused partial proofs".
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Aggregation {
    /// Slot.
    pub slot: Slot,
    /// Sub-block set.
    pub set: SetId,
    /// Partials of other provers (or the aggregator's own earlier ones) that this
    /// aggregation reuses.
    pub reused: Vec<PartialRef>,
    /// Partials proved by the aggregator and carried inline (fallback for
    /// sub-blocks that nobody delivered in T2).
    pub own: Vec<PartialProof>,
    /// BloomHash of the reused partials: [`bloom_hash`] of `reused`.
    pub bloom: B256,
    /// The halo2 link proof.
    pub link_proof: Bytes,
}

/// The block-level AggProof of the gigagas extension (spec "Extension for Multiple
/// Sub-blocks"): a link proof over the sub-block sets' boundary roots, binding the
/// aggregator and the BloomHash of the proofs that finalized each set.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AggProof {
    /// Slot.
    pub slot: Slot,
    /// Boundary roots: the block's first root, then each set's last root
    /// (`num_sub_block_sets + 1` roots).
    pub roots: Vec<B256>,
    /// One reference per set, in set order: `sub_block` = set index, `prover` = who
    /// finalized the set, `proof_hash` = the finalizing proof (full or link proof).
    pub sets: Vec<PartialRef>,
    /// BloomHash of `sets`: [`bloom_hash`].
    pub bloom: B256,
    /// The halo2 link proof over `roots`.
    pub link_proof: Bytes,
}

/// The set id carried by [`Message::AggProof`], which spans all sets.
pub const BLOCK_LEVEL: SetId = SetId::MAX;

/// A protocol message. Spec: "Only one transaction per prover is allowed" per phase.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "body", rename_all = "snake_case")]
pub enum Message {
    /// T1 commitment.
    Commit(Commitment),
    /// T2 partial proofs (all of one prover's assigned sub-blocks in one transaction).
    Partials(Vec<PartialProof>),
    /// A direct full proof (T1 or T2).
    FullProof(FullProof),
    /// An aggregated full proof (T3–T5).
    Aggregate(Aggregation),
    /// The gigagas block-level AggProof over all sub-block sets.
    AggProof(AggProof),
}

/// The kind of a [`Message`], for events and displays.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum MessageKind {
    /// [`Message::Commit`].
    Commit,
    /// [`Message::Partials`].
    Partials,
    /// [`Message::FullProof`].
    FullProof,
    /// [`Message::Aggregate`].
    Aggregate,
    /// [`Message::AggProof`].
    AggProof,
}

impl Message {
    /// The message's kind.
    #[must_use]
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Commit(_) => MessageKind::Commit,
            Message::Partials(_) => MessageKind::Partials,
            Message::FullProof(_) => MessageKind::FullProof,
            Message::Aggregate(_) => MessageKind::Aggregate,
            Message::AggProof(_) => MessageKind::AggProof,
        }
    }

    /// The slot the message is for.
    #[must_use]
    pub fn slot(&self) -> Slot {
        match self {
            Message::Commit(c) => c.slot,
            Message::Partials(p) => p.first().map_or(Slot::MAX, |p| p.slot),
            Message::FullProof(f) => f.slot,
            Message::Aggregate(a) => a.slot,
            Message::AggProof(a) => a.slot,
        }
    }

    /// The sub-block set the message is for.
    #[must_use]
    pub fn set(&self) -> SetId {
        match self {
            Message::Commit(c) => c.set,
            Message::Partials(p) => p.first().map_or(0, |p| p.set),
            Message::FullProof(f) => f.set,
            Message::Aggregate(a) => a.set,
            Message::AggProof(_) => BLOCK_LEVEL,
        }
    }

    /// Number of proofs the message carries (partials, full proofs, link proofs).
    #[must_use]
    pub fn proof_count(&self) -> u32 {
        match self {
            Message::Commit(_) => 0,
            Message::Partials(p) => p.len() as u32,
            Message::FullProof(_) => 1,
            Message::Aggregate(a) => 1 + a.own.len() as u32,
            Message::AggProof(_) => 1,
        }
    }
}

/// The validators' verdict on the cryptography of a message: signature and every
/// halo2 proof in it (with the sender's address as the prover public input).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", content = "reason", rename_all = "snake_case")]
pub enum Verdict {
    /// Every proof verified.
    Valid,
    /// Some proof failed; the reason is for humans.
    Invalid(String),
}

impl Verdict {
    /// True for [`Verdict::Valid`].
    #[must_use]
    pub fn is_valid(&self) -> bool {
        matches!(self, Verdict::Valid)
    }
}

/// A message included in a phase block, with its recovered sender and verdict.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Included {
    /// Address recovered from the message's secp256k1 signature.
    pub from: Address,
    /// The sender's 65-byte signature over the message envelope, so that every
    /// validator can re-check it (the engine itself ignores it).
    #[serde(default)]
    pub signature: Bytes,
    /// The message.
    pub msg: Message,
    /// The validators' verdict on its proofs.
    pub verdict: Verdict,
}

/// A finalized phase block: what the slot's proposer included during one phase,
/// attested by more than 2/3 of the validators (DESIGN.md "Chain").
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseBlock {
    /// Slot.
    pub slot: Slot,
    /// The phase this block closes.
    pub phase: Phase,
    /// The proposer that built it.
    pub proposer: Address,
    /// Included messages in inclusion order.
    pub included: Vec<Included>,
}

/// The T1 commitment a prover makes to its assignment: keccak-256 over
/// `address ‖ slot (8 bytes BE) ‖ set (4 bytes BE) ‖ for each assigned sub-block:
/// index (4 bytes BE) ‖ root_in ‖ root_out`. DESIGN.md "Commitments (T1)".
#[must_use]
pub fn commitment_hash(
    prover: Address,
    slot: Slot,
    set: SetId,
    claims: &[(u32, B256, B256)],
) -> B256 {
    let mut buf = Vec::with_capacity(20 + 12 + claims.len() * 68);
    buf.extend_from_slice(prover.as_slice());
    buf.extend_from_slice(&slot.to_be_bytes());
    buf.extend_from_slice(&set.to_be_bytes());
    for (i, rin, rout) in claims {
        buf.extend_from_slice(&i.to_be_bytes());
        buf.extend_from_slice(rin.as_slice());
        buf.extend_from_slice(rout.as_slice());
    }
    keccak256(buf)
}

/// The BloomHash of a set of reused partials (spec T3): a 2048-bit Bloom filter
/// (Ethereum `logsBloom` construction: 3 bits per item from the item's keccak)
/// over each reference's `proof_hash`, then keccak-256 of the filter's 256 bytes.
#[must_use]
pub fn bloom_hash(reused: &[PartialRef]) -> B256 {
    let mut bloom = [0u8; 256];
    for r in reused {
        let h = keccak256(r.proof_hash);
        for i in 0..3 {
            let bit = (usize::from(h[2 * i]) << 8 | usize::from(h[2 * i + 1])) & 2047;
            bloom[255 - bit / 8] |= 1 << (bit % 8);
        }
    }
    keccak256(bloom)
}

/// keccak-256 of proof bytes: the identity of a proof for reuse and theft detection.
#[must_use]
pub fn proof_hash(proof: &[u8]) -> B256 {
    keccak256(proof)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Regression: an internally tagged enum cannot serialize `Partials(Vec<_>)`,
    /// which made every partial-proof submission unsignable.
    #[test]
    fn every_message_kind_round_trips_through_json() {
        let p = PartialProof {
            slot: 1,
            set: 0,
            sub_block: 2,
            root_in: B256::repeat_byte(1),
            root_out: B256::repeat_byte(2),
            proof: Bytes::from_static(&[9, 9]),
        };
        let msgs = [
            Message::Commit(Commitment {
                slot: 1,
                set: 0,
                hash: B256::ZERO,
            }),
            Message::Partials(vec![p.clone(), p.clone()]),
            Message::FullProof(FullProof {
                slot: 1,
                set: 0,
                root_in: B256::ZERO,
                root_out: B256::ZERO,
                proof: Bytes::new(),
            }),
            Message::Aggregate(Aggregation {
                slot: 1,
                set: 0,
                reused: vec![],
                own: vec![p],
                bloom: B256::ZERO,
                link_proof: Bytes::new(),
            }),
        ];
        for m in msgs {
            let json = serde_json::to_string(&m).expect("serializes");
            assert_eq!(serde_json::from_str::<Message>(&json).expect("parses"), m);
        }
    }
}
