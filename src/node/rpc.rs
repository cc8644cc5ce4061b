//! The JSON-RPC APIs (over HTTP, jsonrpsee) of validators and provers, and the
//! payloads they exchange. Every protocol payload travels in a [`Signed`] envelope.
//!
//! Flow (DESIGN.md "Chain"): provers `validator_submit` signed messages to every
//! validator; the slot's proposer `validator_beginSlot`s the others, pushes a
//! signed `prover_notice` at each phase opening, builds each phase block,
//! `validator_propose`s it, collects > 2/3 attestations and `validator_commit`s it.

use alloy_primitives::{Address, B256, Bytes};
use jsonrpsee::core::RpcResult;
use jsonrpsee::proc_macros::rpc;
use jsonrpsee::types::ErrorObjectOwned;
use serde::{Deserialize, Serialize};

use super::crypto::Signed;
use crate::protocol::{
    Event, Message, Outcome, PartialRef, Phase, PhaseBlock, SetAssignment, Slot,
};

/// Signed payload kinds (domain separation of signatures).
pub mod kind {
    /// A prover's protocol message.
    pub const MESSAGE: &str = "message";
    /// A proposer's slot start with its RANDAO reveal.
    pub const SLOT_START: &str = "slot_start";
    /// A proposer's phase notice to provers.
    pub const NOTICE: &str = "notice";
    /// A proposer's phase block.
    pub const BLOCK: &str = "block";
    /// A validator's attestation.
    pub const ATTESTATION: &str = "attestation";
    /// The adversary agent's one-slot corruption order.
    pub const CORRUPTION: &str = "corruption";
}

/// JSON-RPC error codes of dpgnet nodes.
pub mod code {
    /// The signature does not match the claimed signer.
    pub const BAD_SIGNATURE: i32 = -32001;
    /// The exact message was already received (replay).
    pub const REPLAY: i32 = -32002;
    /// Not for the current slot/phase, or not from the expected signer.
    pub const NOT_NOW: i32 = -32003;
    /// The block's verdicts disagree with this validator's verification.
    pub const DISAGREE: i32 = -32004;
    /// An internal failure.
    pub const INTERNAL: i32 = -32010;
}

/// Build a JSON-RPC error.
#[must_use]
pub fn rpc_err(code: i32, msg: impl Into<String>) -> ErrorObjectOwned {
    ErrorObjectOwned::owned(code, msg.into(), None::<()>)
}

/// A slot start: the proposer's RANDAO reveal (a signature over
/// [`crate::protocol::reveal_digest`] of the slot).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SlotStart {
    /// Slot.
    pub slot: Slot,
    /// 65-byte reveal.
    pub reveal: Bytes,
}

/// What provers need to know about one sub-block set at a phase opening.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetView {
    /// Selection and assignment.
    pub assignment: SetAssignment,
    /// The set's state roots (`num_partial_proofs + 1`).
    pub roots: Vec<B256>,
    /// Accepted partial proofs so far: reference, root_in, root_out.
    pub accepted: Vec<(PartialRef, B256, B256)>,
    /// Set when the set already has a finalized full proof.
    pub finalized: Option<Phase>,
}

/// A proposer's notice that `phase` of `slot` is open.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PhaseNotice {
    /// Slot.
    pub slot: Slot,
    /// Block height being proven.
    pub block: u64,
    /// The phase that just opened.
    pub phase: Phase,
    /// Per set.
    pub sets: Vec<SetView>,
    /// Gigagas: the AggProof group (empty with one set).
    #[serde(default)]
    pub agg_group: Vec<Address>,
    /// Gigagas: when every set is finalized and the AggProof is still missing, its
    /// expected boundary roots and set-proof references.
    #[serde(default)]
    pub agg_target: Option<(Vec<B256>, Vec<PartialRef>)>,
}

/// A validator's vote for a phase block.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attestation {
    /// Slot.
    pub slot: Slot,
    /// Phase.
    pub phase: Phase,
    /// keccak-256 of the signed block's envelope digest.
    pub block_hash: B256,
}

/// A block with the attestations that finalize it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommitRequest {
    /// The proposer's signed block.
    pub block: Signed<PhaseBlock>,
    /// More than 2/3 of the validators' signed attestations.
    pub attestations: Vec<Signed<Attestation>>,
}

/// A page of a validator's engine events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EventsPage {
    /// Events from the cursor on.
    pub events: Vec<Event>,
    /// The cursor for the next call.
    pub next: u64,
}

/// A validator's view of the chain clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidatorStatus {
    /// Validator address.
    pub address: Address,
    /// Open slot, if any.
    pub slot: Option<Slot>,
    /// Open phase, if any.
    pub phase: Option<Phase>,
    /// Seconds since the phase opened (proposer only; 0 otherwise).
    pub phase_elapsed_s: f64,
    /// The phase's window, seconds.
    pub phase_window_s: f64,
    /// Messages waiting in the mempool.
    pub mempool: usize,
}

/// Result of driving one slot.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DriveResult {
    /// Slot.
    pub slot: Slot,
    /// Outcome.
    pub outcome: Outcome,
    /// Wall time from slot start to settlement, seconds.
    pub wall_s: f64,
}

/// How long a prover spent proving for one phase of a slot.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct ProofTiming {
    /// Slot.
    pub slot: Slot,
    /// Phase whose submission the proving produced.
    pub phase: Phase,
    /// The prover identity.
    pub prover: Address,
    /// Proving wall time, seconds.
    pub seconds: f64,
}

/// The validator API.
#[rpc(server, client, namespace = "validator")]
pub trait ValidatorApi {
    /// Submit a signed protocol message (broadcast to every validator).
    /// Errors: BAD_SIGNATURE, REPLAY, NOT_NOW.
    #[method(name = "submit")]
    async fn submit(&self, msg: Signed<Message>) -> RpcResult<B256>;

    /// The proposer starts a slot (RANDAO reveal).
    #[method(name = "beginSlot")]
    async fn begin_slot(&self, start: Signed<SlotStart>) -> RpcResult<()>;

    /// The proposer asks for an attestation of a phase block.
    #[method(name = "propose")]
    async fn propose(&self, block: Signed<PhaseBlock>) -> RpcResult<Signed<Attestation>>;

    /// A phase block with > 2/3 attestations: apply it.
    #[method(name = "commit")]
    async fn commit(&self, req: CommitRequest) -> RpcResult<()>;

    /// Drive `slot` as its proposer (called by the orchestrator). `fast` closes
    /// phases when every expected message is in.
    #[method(name = "driveSlot")]
    async fn drive_slot(&self, slot: Slot, fast: bool) -> RpcResult<DriveResult>;

    /// Engine events from `cursor` on (at most 500).
    #[method(name = "events")]
    async fn events(&self, cursor: u64) -> RpcResult<EventsPage>;

    /// Chain clock and mempool size.
    #[method(name = "status")]
    async fn status(&self) -> RpcResult<ValidatorStatus>;

    /// The public mempool of the open slot (gossip is public).
    #[method(name = "mempool")]
    async fn mempool(&self) -> RpcResult<Vec<Signed<Message>>>;

    /// The proposer of `slot`.
    #[method(name = "proposer")]
    async fn proposer(&self, slot: Slot) -> RpcResult<Address>;
}

/// The prover API (served by prover nodes and by the adversary agent).
#[rpc(server, client, namespace = "prover")]
pub trait ProverApi {
    /// A proposer's signed phase notice.
    #[method(name = "notice")]
    async fn notice(&self, notice: Signed<PhaseNotice>) -> RpcResult<()>;

    /// Proving durations for `slot`.
    #[method(name = "timings")]
    async fn timings(&self, slot: Slot) -> RpcResult<Vec<ProofTiming>>;

    /// The prover identities this node holds.
    #[method(name = "identities")]
    async fn identities(&self) -> RpcResult<Vec<Address>>;

    /// Devnet fault injection: the devnet's registered adversary agent corrupts
    /// this prover for one slot (it goes silent for that slot) — the paper's
    /// one-slot adaptive corruption (§2, Remark 2.1). Refused from anyone else.
    #[method(name = "corrupt")]
    async fn corrupt(&self, order: Signed<Corruption>) -> RpcResult<()>;

    /// Operator control of the adversary agent (the demo's steering wheel, not a
    /// protocol message): switch `targets` (all corrupted identities when empty)
    /// to `strategy` (e.g. `steal`, `sybil:2`). Honest provers refuse it. It is
    /// reachable only on the devnet's private network (or in-process).
    #[method(name = "setStrategy")]
    async fn set_strategy(&self, strategy: String, targets: Vec<Address>) -> RpcResult<()>;
}

/// A one-slot corruption order from the adversary agent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Corruption {
    /// The slot during which the prover is controlled by the adversary.
    pub slot: Slot,
}
