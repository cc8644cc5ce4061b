//! The prover node: really proves partial, full and link proofs with halo2 and
//! submits them, signed, to every validator.
//!
//! Spec "Multi-phase Proof Generation": T1 commit (or a full proof), T2 partial
//! proofs, T3–T5 aggregation ("Any prover may submit a full proof, including a
//! BloomHash summarizing reused partial proofs"). dpgnet's honest provers prove
//! eagerly from the T1 notice on and submit when the message's phase opens.

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use alloy_primitives::{Address, B256, Bytes};
use futures::future::join_all;
use jsonrpsee::core::{RpcResult, async_trait};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use tracing::{debug, warn};

use super::circuits::{Circuits, address_fp, b256_fp, fp_b256, link_public};
use super::crypto::{NodeKey, Signed};
use super::rpc::{
    Corruption, PhaseNotice, ProofTiming, ProverApiServer, SetView, ValidatorApiClient, code, kind,
    rpc_err,
};
use super::validator::earliest_phase;
use super::workload::Workload;
use crate::config::FullProofPhase;
use crate::protocol::{
    AggProof, Aggregation, Commitment, FullProof, Message, PartialProof, PartialRef, Phase, Slot,
    bloom_hash, commitment_hash,
};

/// One prover identity's honest logic (used by prover nodes and, per corrupted
/// identity, by the adversary agent).
pub struct ProverCore {
    key: NodeKey,
    circuits: Arc<Circuits>,
    workload: Workload,
    full_proof: Option<FullProofPhase>,
    timings: Mutex<Vec<ProofTiming>>,
}

impl std::fmt::Debug for ProverCore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "ProverCore({})", self.key.address())
    }
}

impl ProverCore {
    /// A prover identity. `full_proof` makes it a strong prover that submits a full
    /// proof in T1 or T2 when selected.
    #[must_use]
    pub fn new(
        key: NodeKey,
        circuits: Arc<Circuits>,
        workload: Workload,
        full_proof: Option<FullProofPhase>,
    ) -> Self {
        ProverCore {
            key,
            circuits,
            workload,
            full_proof,
            timings: Mutex::new(Vec::new()),
        }
    }

    /// The identity's address.
    #[must_use]
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// The identity's key (the adversary signs with it).
    #[must_use]
    pub fn key(&self) -> &NodeKey {
        &self.key
    }

    fn record(&self, slot: Slot, phase: Phase, started: Instant) {
        let t = ProofTiming {
            slot,
            phase,
            prover: self.address(),
            seconds: started.elapsed().as_secs_f64(),
        };
        self.timings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .push(t);
    }

    /// Proving timings recorded for `slot`.
    #[must_use]
    pub fn timings(&self, slot: Slot) -> Vec<ProofTiming> {
        self.timings
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .iter()
            .filter(|t| t.slot == slot)
            .copied()
            .collect()
    }

    /// The T1 commitment for set `view` (DESIGN.md "Commitments (T1)").
    #[must_use]
    pub fn commitment(&self, slot: Slot, view: &SetView) -> Option<Message> {
        let mine = view.assignment.assignments.get(&self.address())?;
        let claims: Vec<(u32, B256, B256)> = mine
            .iter()
            .map(|&b| (b, view.roots[b as usize], view.roots[b as usize + 1]))
            .collect();
        let hash = commitment_hash(self.address(), slot, view.assignment.set, &claims);
        Some(Message::Commit(Commitment {
            slot,
            set: view.assignment.set,
            hash,
        }))
    }

    /// Prove one sub-block (blocking; ~0.2 s at k = 9 on 2 cores).
    fn prove_partial(
        &self,
        slot: Slot,
        block: u64,
        view: &SetView,
        sub_block: u32,
    ) -> Option<PartialProof> {
        let set = view.assignment.set;
        let root_in = b256_fp(&view.roots[sub_block as usize])?;
        let txs = self.workload.txs(block, set, sub_block);
        match self
            .circuits
            .partial
            .prove(root_in, &txs, address_fp(self.address()))
        {
            Ok((root_out, proof)) => Some(PartialProof {
                slot,
                set,
                sub_block,
                root_in: view.roots[sub_block as usize],
                root_out: fp_b256(root_out),
                proof: Bytes::from(proof),
            }),
            Err(e) => {
                warn!(target: "dpgnet::prover", error = %e, "partial proof failed");
                None
            }
        }
    }

    /// Prove every assigned sub-block of `view` (blocking).
    #[must_use]
    pub fn prove_partials(&self, slot: Slot, block: u64, view: &SetView) -> Option<Message> {
        let mine = view.assignment.assignments.get(&self.address())?.clone();
        let started = Instant::now();
        let ps: Vec<PartialProof> = mine
            .iter()
            .filter_map(|&b| self.prove_partial(slot, block, view, b))
            .collect();
        self.record(slot, Phase::T2, started);
        (!ps.is_empty()).then_some(Message::Partials(ps))
    }

    /// Prove the whole set as one full proof (blocking; bigger circuit).
    #[must_use]
    pub fn prove_full(
        &self,
        slot: Slot,
        block: u64,
        view: &SetView,
        phase: Phase,
    ) -> Option<Message> {
        let set = view.assignment.set;
        let started = Instant::now();
        let root_in = b256_fp(&view.roots[0])?;
        let txs = self.workload.set_txs(block, set);
        let (root_out, proof) = self
            .circuits
            .full
            .prove(root_in, &txs, address_fp(self.address()))
            .ok()?;
        self.record(slot, phase, started);
        Some(Message::FullProof(FullProof {
            slot,
            set,
            root_in: view.roots[0],
            root_out: fp_b256(root_out),
            proof: Bytes::from(proof),
        }))
    }

    /// Aggregate set `view` (blocking): for every sub-block reuse another prover's
    /// accepted partial if there is one (that earns REWARD_PROVER_REUSING and pays
    /// them REWARD_PROVER_REUSED), else its own accepted partial, else prove it
    /// inline; then the BloomHash and the link proof.
    #[must_use]
    pub fn aggregate(
        &self,
        slot: Slot,
        block: u64,
        view: &SetView,
        phase: Phase,
    ) -> Option<Message> {
        let me = self.address();
        let started = Instant::now();
        let n = view.roots.len() - 1;
        let mut reused = Vec::new();
        let mut own = Vec::new();
        for sb in 0..n as u32 {
            let pick = |mine: bool| -> Option<PartialRef> {
                view.accepted
                    .iter()
                    .map(|(r, _, _)| *r)
                    .find(|r| r.sub_block == sb && (r.prover == me) == mine)
            };
            if let Some(r) = pick(false).or_else(|| pick(true)) {
                reused.push(r);
            } else {
                own.push(self.prove_partial(slot, block, view, sb)?);
            }
        }
        let bloom = bloom_hash(&reused);
        let public = link_public(&view.roots, me, &bloom)?;
        let link_proof = self.circuits.link.prove(&public).ok()?;
        self.record(slot, phase, started);
        Some(Message::Aggregate(Aggregation {
            slot,
            set: view.assignment.set,
            reused,
            own,
            bloom,
            link_proof: Bytes::from(link_proof),
        }))
    }

    /// Gigagas: the block-level AggProof over the finalized sets (blocking; a link
    /// proof over `num_sub_block_sets + 1` boundary roots).
    #[must_use]
    pub fn agg_proof(&self, notice: &PhaseNotice) -> Option<Message> {
        let (roots, sets) = notice.agg_target.clone()?;
        let keys = self.circuits.set_link.as_ref()?;
        let started = Instant::now();
        let bloom = bloom_hash(&sets);
        let public = link_public(&roots, self.address(), &bloom)?;
        let link_proof = keys.prove(&public).ok()?;
        self.record(notice.slot, notice.phase, started);
        Some(Message::AggProof(AggProof {
            slot: notice.slot,
            roots,
            sets,
            bloom,
            link_proof: Bytes::from(link_proof),
        }))
    }

    /// The messages this identity sends at once for a notice, without proving:
    /// its T1 commitments (unless it is a T1 strong prover).
    #[must_use]
    pub fn immediate_messages(&self, notice: &PhaseNotice) -> Vec<Message> {
        if notice.phase != Phase::T1 || self.full_proof == Some(FullProofPhase::T1) {
            return Vec::new();
        }
        notice
            .sets
            .iter()
            .filter(|v| v.finalized.is_none())
            .filter_map(|v| self.commitment(notice.slot, v))
            .collect()
    }

    /// The honest messages that need proving for a notice (blocking). T1 yields a
    /// T1 full proof, or the eagerly proven partials (or a T2 full proof), which
    /// the [`Submitter`] holds until T2 opens; T3–T5 yield an aggregation when
    /// this identity is the phase's designated aggregator.
    #[must_use]
    pub fn proven_messages(&self, notice: &PhaseNotice) -> Vec<Message> {
        let me = self.address();
        let mut out = Vec::new();
        if notice.phase >= Phase::T2 && notice.agg_group.contains(&me) {
            out.extend(self.agg_proof(notice));
        }
        for view in notice.sets.iter().filter(|v| v.finalized.is_none()) {
            let selected = view.assignment.is_selected(&me);
            match notice.phase {
                Phase::T1 if selected => match self.full_proof {
                    Some(FullProofPhase::T1) => {
                        out.extend(self.prove_full(notice.slot, notice.block, view, Phase::T1))
                    }
                    Some(FullProofPhase::T2) => {
                        out.extend(self.prove_full(notice.slot, notice.block, view, Phase::T2))
                    }
                    None => out.extend(self.prove_partials(notice.slot, notice.block, view)),
                },
                p if p.is_aggregation() && view.assignment.aggregators[p.index() - 3] == me => {
                    out.extend(self.aggregate(notice.slot, notice.block, view, p));
                }
                _ => {}
            }
        }
        out
    }
}

/// Sends signed messages to every validator, each at the right phase: a message
/// is held until a notice shows its phase open (T2 partials proven during T1, a
/// T2 full proof).
pub struct Submitter {
    alive: std::sync::atomic::AtomicBool,
    paused: std::sync::atomic::AtomicBool,
    validators: OnceLock<Vec<HttpClient>>,
    held: Mutex<HashMap<Slot, Vec<Signed<Message>>>>,
    open: Mutex<HashSet<(Slot, Phase)>>,
}

impl std::fmt::Debug for Submitter {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Submitter")
    }
}

impl Default for Submitter {
    fn default() -> Self {
        Submitter {
            alive: std::sync::atomic::AtomicBool::new(true),
            paused: std::sync::atomic::AtomicBool::new(false),
            validators: OnceLock::new(),
            held: Mutex::new(HashMap::new()),
            open: Mutex::new(HashSet::new()),
        }
    }
}

impl Submitter {
    /// Connect to the validators' RPC URLs.
    ///
    /// # Errors
    /// An unparsable URL.
    pub fn connect(&self, urls: &[String]) -> Result<(), String> {
        let cs = urls
            .iter()
            .map(|u| {
                HttpClientBuilder::default()
                    .request_timeout(Duration::from_secs(30))
                    .build(u)
                    .map_err(|e| format!("{u}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let _ = self.validators.set(cs);
        Ok(())
    }

    /// Record that `phase` of `slot` is open and release held messages.
    pub async fn phase_opened(&self, slot: Slot, phase: Phase) {
        let release: Vec<Signed<Message>> = {
            let mut open = self
                .open
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            open.retain(|(s, _)| *s + 2 >= slot);
            for p in Phase::ALL.iter().filter(|p| **p <= phase) {
                open.insert((slot, *p));
            }
            let mut held = self
                .held
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            held.retain(|s, _| *s + 2 >= slot);
            let mine = held.entry(slot).or_default();
            let (now, later): (Vec<_>, Vec<_>) = mine
                .drain(..)
                .partition(|m| earliest_phase(&m.payload) <= phase);
            *mine = later;
            now
        };
        for m in release {
            self.send(m).await;
        }
    }

    /// Submit now if the message's phase is open, else hold it.
    pub async fn submit(&self, msg: Signed<Message>) {
        let slot = msg.payload.slot();
        let ready = {
            let open = self
                .open
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            open.contains(&(slot, earliest_phase(&msg.payload)))
        };
        if ready {
            self.send(msg).await;
        } else {
            self.held
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .entry(slot)
                .or_default()
                .push(msg);
        }
    }

    /// A client of the first validator (to read the public mempool).
    #[must_use]
    pub fn first_validator(&self) -> Option<HttpClient> {
        self.validators.get().and_then(|v| v.first().cloned())
    }

    /// Stop sending for good (the node was killed). Work in flight is dropped.
    pub fn kill(&self) {
        self.alive.store(false, std::sync::atomic::Ordering::SeqCst);
    }

    /// Freeze or thaw the node (in-process `docker pause`): while paused it
    /// answers no notice and its outgoing messages wait.
    pub fn set_paused(&self, paused: bool) {
        self.paused
            .store(paused, std::sync::atomic::Ordering::SeqCst);
    }

    /// True while paused.
    #[must_use]
    pub fn is_paused(&self) -> bool {
        self.paused.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// False once killed.
    #[must_use]
    pub fn is_alive(&self) -> bool {
        self.alive.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Send to every validator now, regardless of phase.
    pub async fn send(&self, msg: Signed<Message>) {
        if !self.is_alive() {
            return;
        }
        let Some(vs) = self.validators.get() else {
            return;
        };
        for r in join_all(vs.iter().map(|c| c.submit(msg.clone()))).await {
            if let Err(e) = r {
                debug!(target: "dpgnet::prover", error = %e, "submission refused");
            }
        }
    }
}

/// Check a notice's signature against the validator set.
///
/// # Errors
/// A JSON-RPC error when the notice is forged or not from a validator.
pub fn check_notice(
    notice: &Signed<PhaseNotice>,
    validators: &[Address],
) -> Result<(), jsonrpsee::types::ErrorObjectOwned> {
    let signer = notice
        .verify(kind::NOTICE)
        .map_err(|e| rpc_err(code::BAD_SIGNATURE, e.to_string()))?;
    if !validators.contains(&signer) {
        return Err(rpc_err(
            code::BAD_SIGNATURE,
            format!("notice signed by {signer}, not a validator"),
        ));
    }
    Ok(())
}

/// An honest prover node.
#[derive(Clone, Debug)]
pub struct ProverNode {
    core: Arc<ProverCore>,
    submitter: Arc<Submitter>,
    validators: Arc<OnceLock<Vec<Address>>>,
    adversary: Arc<OnceLock<Address>>,
    corrupted: Arc<Mutex<HashSet<Slot>>>,
}

impl ProverNode {
    /// A prover node for one identity.
    #[must_use]
    pub fn new(core: ProverCore) -> Self {
        ProverNode {
            core: Arc::new(core),
            submitter: Arc::new(Submitter::default()),
            validators: Arc::new(OnceLock::new()),
            adversary: Arc::new(OnceLock::new()),
            corrupted: Arc::new(Mutex::new(HashSet::new())),
        }
    }

    /// The prover's address.
    #[must_use]
    pub fn address(&self) -> Address {
        self.core.address()
    }

    /// Connect to the validators (addresses and RPC URLs).
    ///
    /// # Errors
    /// An unparsable URL.
    pub fn set_validators(&self, validators: &[(Address, String)]) -> Result<(), String> {
        let _ = self
            .validators
            .set(validators.iter().map(|v| v.0).collect());
        self.submitter
            .connect(&validators.iter().map(|v| v.1.clone()).collect::<Vec<_>>())
    }

    /// Kill the node: it answers no notice and sends nothing from now on, even
    /// proofs that are being computed (in-process equivalent of `docker kill`).
    pub fn kill(&self) {
        self.submitter.kill();
    }

    /// Pause or resume the node (in-process equivalent of `docker pause`).
    pub fn set_paused(&self, paused: bool) {
        self.submitter.set_paused(paused);
    }

    /// Register the devnet's adversary agent, the only signer whose one-slot
    /// corruption orders this node obeys (devnet fault injection).
    pub fn set_adversary(&self, adversary: Address) {
        let _ = self.adversary.set(adversary);
    }

    fn is_corrupted(&self, slot: Slot) -> bool {
        self.corrupted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .contains(&slot)
    }
}

#[async_trait]
impl ProverApiServer for ProverNode {
    async fn notice(&self, notice: Signed<PhaseNotice>) -> RpcResult<()> {
        if !self.submitter.is_alive() || self.submitter.is_paused() {
            return Err(rpc_err(code::INTERNAL, "node is down"));
        }
        check_notice(&notice, self.validators.get().map_or(&[], Vec::as_slice))?;
        let n = notice.payload;
        if self.is_corrupted(n.slot) {
            debug!(target: "dpgnet::prover", slot = n.slot, "corrupted for this slot: silent");
            return Ok(());
        }
        self.submitter.phase_opened(n.slot, n.phase).await;
        let core = self.core.clone();
        let submitter = self.submitter.clone();
        for m in self.core.immediate_messages(&n) {
            match self.core.key().sign(kind::MESSAGE, m) {
                Ok(s) => self.submitter.submit(s).await,
                Err(e) => warn!(target: "dpgnet::prover", error = %e, "cannot sign"),
            }
        }
        tokio::spawn(async move {
            let c = core.clone();
            let msgs = tokio::task::spawn_blocking(move || c.proven_messages(&n))
                .await
                .unwrap_or_default();
            for m in msgs {
                match core.key().sign(kind::MESSAGE, m) {
                    Ok(s) => submitter.submit(s).await,
                    Err(e) => warn!(target: "dpgnet::prover", error = %e, "cannot sign"),
                }
            }
        });
        Ok(())
    }

    async fn timings(&self, slot: Slot) -> RpcResult<Vec<ProofTiming>> {
        Ok(self.core.timings(slot))
    }

    async fn identities(&self) -> RpcResult<Vec<Address>> {
        Ok(vec![self.address()])
    }

    async fn set_strategy(&self, _strategy: String, _targets: Vec<Address>) -> RpcResult<()> {
        Err(rpc_err(
            code::NOT_NOW,
            "an honest prover has no strategy to switch: ask the adversary agent",
        ))
    }

    async fn corrupt(&self, order: Signed<Corruption>) -> RpcResult<()> {
        let signer = order
            .verify(kind::CORRUPTION)
            .map_err(|e| rpc_err(code::BAD_SIGNATURE, e.to_string()))?;
        if self.adversary.get() != Some(&signer) {
            return Err(rpc_err(
                code::BAD_SIGNATURE,
                format!("{signer} is not this devnet's adversary agent"),
            ));
        }
        warn!(target: "dpgnet::prover", slot = order.payload.slot, "corrupted by the adversary for one slot");
        self.corrupted
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .insert(order.payload.slot);
        Ok(())
    }
}
