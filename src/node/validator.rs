//! The validator node: mempool, proof verification (halo2 batch verification),
//! phase blocks, attestations, and a replica of the pure engine.
//!
//! DESIGN.md "Chain": each slot has a proposer; it includes submissions; the
//! others verify and attest; more than 2/3 attestations finalize. Spec "Overview":
//! validators "verify submitted zk-proofs".

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use alloy_primitives::{Address, B256};
use futures::future::join_all;
use jsonrpsee::core::{RpcResult, async_trait};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use tokio::sync::Notify;
use tracing::{debug, info, warn};

use super::circuits::Circuits;
use super::crypto::{NodeKey, Signed, recover};
use super::rpc::{
    Attestation, CommitRequest, DriveResult, EventsPage, PhaseNotice, ProverApiClient, SetView,
    SlotStart, ValidatorApiClient, ValidatorApiServer, ValidatorStatus, code, kind, rpc_err,
};
use super::workload::Workload;
use crate::config::PhaseWindows;
use crate::protocol::{
    Engine, Event, Included, Message, Outcome, Phase, PhaseBlock, SlotInput, Verdict, reveal_digest,
};

/// Who the validator talks to.
#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// Every validator (including this one): address and RPC URL.
    pub validators: Vec<(Address, String)>,
    /// Every prover-API endpoint (prover nodes and the adversary agent).
    pub provers: Vec<String>,
}

/// The earliest phase whose block may include `msg` (later inclusion is "late").
#[must_use]
pub fn earliest_phase(msg: &Message) -> Phase {
    match msg {
        Message::Commit(_) | Message::FullProof(_) => Phase::T1,
        Message::Partials(_) => Phase::T2,
        Message::Aggregate(_) => Phase::T3,
        // Sets can finalize in T1, so the block-level AggProof may come from T2 on.
        Message::AggProof(_) => Phase::T2,
    }
}

#[derive(Debug, Clone)]
struct Pooled {
    digest: B256,
    msg: Signed<Message>,
    verdict: Option<Verdict>,
}

#[derive(Debug)]
struct State {
    engine: Engine,
    events: Vec<Event>,
    mempool: Vec<Pooled>,
    seen: HashSet<B256>,
    verdicts: HashMap<B256, Verdict>,
    clock: Option<(Phase, Instant, f64)>,
}

impl State {
    fn pump(&mut self) {
        let evs = self.engine.drain_events();
        self.events.extend(evs);
    }

    fn roots_for(&self, msg: &Message) -> Option<Vec<B256>> {
        let (slot, _) = self.engine.current()?;
        if msg.slot() != slot {
            return None;
        }
        self.engine.set_state(msg.set()).map(|s| s.roots.clone())
    }
}

struct Inner {
    key: NodeKey,
    circuits: Arc<Circuits>,
    workload: Workload,
    windows: PhaseWindows,
    state: Mutex<State>,
    notify: Notify,
    topology: OnceLock<(Topology, Vec<(Address, HttpClient)>, Vec<HttpClient>)>,
}

/// A validator node. Cheap to clone (shared state).
#[derive(Clone)]
pub struct ValidatorNode {
    inner: Arc<Inner>,
}

fn client(url: &str) -> Result<HttpClient, String> {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(120))
        .build(url)
        .map_err(|e| format!("{url}: {e}"))
}

impl ValidatorNode {
    /// A validator with its key, an engine replica at genesis, the circuit keys,
    /// the workload generator and the phase windows (seconds).
    #[must_use]
    pub fn new(
        key: NodeKey,
        engine: Engine,
        circuits: Arc<Circuits>,
        workload: Workload,
        windows: PhaseWindows,
    ) -> Self {
        let mut state = State {
            engine,
            events: Vec::new(),
            mempool: Vec::new(),
            seen: HashSet::new(),
            verdicts: HashMap::new(),
            clock: None,
        };
        state.pump();
        ValidatorNode {
            inner: Arc::new(Inner {
                key,
                circuits,
                workload,
                windows,
                state: Mutex::new(state),
                notify: Notify::new(),
                topology: OnceLock::new(),
            }),
        }
    }

    /// The validator's address.
    #[must_use]
    pub fn address(&self) -> Address {
        self.inner.key.address()
    }

    /// Connect to the other nodes (once, after every server is listening).
    ///
    /// # Errors
    /// A URL that cannot be parsed.
    pub fn set_topology(&self, topo: Topology) -> Result<(), String> {
        let me = self.address();
        let peers = topo
            .validators
            .iter()
            .filter(|(a, _)| *a != me)
            .map(|(a, u)| client(u).map(|c| (*a, c)))
            .collect::<Result<Vec<_>, _>>()?;
        let provers = topo
            .provers
            .iter()
            .map(|u| client(u))
            .collect::<Result<Vec<_>, _>>()?;
        let _ = self.inner.topology.set((topo, peers, provers));
        Ok(())
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.inner
            .state
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn n_validators(&self) -> usize {
        self.lock().engine.validators().len()
    }

    /// Attestations needed to finalize a block: more than 2/3 of the validators.
    fn quorum(&self) -> usize {
        self.n_validators() * 2 / 3 + 1
    }

    /// Verify a pooled message's proofs off the async threads and store the verdict.
    async fn verify_pooled(
        &self,
        digest: B256,
        from: Address,
        msg: Message,
        roots: Option<Vec<B256>>,
    ) -> Verdict {
        let circuits = self.inner.circuits.clone();
        let verdict = tokio::task::spawn_blocking(move || {
            circuits.verify_message(from, &msg, roots.as_deref())
        })
        .await
        .unwrap_or_else(|e| Verdict::Invalid(format!("verifier crashed: {e}")));
        let mut st = self.lock();
        st.verdicts.insert(digest, verdict.clone());
        if let Some(p) = st.mempool.iter_mut().find(|p| p.digest == digest) {
            p.verdict = Some(verdict.clone());
        }
        drop(st);
        self.inner.notify.notify_waiters();
        verdict
    }

    /// The verdict of `digest`, verifying now if it is not cached.
    async fn verdict_of(&self, digest: B256, from: Address, msg: &Message) -> Verdict {
        let (cached, roots) = {
            let st = self.lock();
            (st.verdicts.get(&digest).cloned(), st.roots_for(msg))
        };
        match cached {
            Some(v) => v,
            None => self.verify_pooled(digest, from, msg.clone(), roots).await,
        }
    }

    fn begin_slot_local(
        &self,
        start: &Signed<SlotStart>,
    ) -> Result<(), jsonrpsee::types::ErrorObjectOwned> {
        let signer = start
            .verify(kind::SLOT_START)
            .map_err(|e| rpc_err(code::BAD_SIGNATURE, e.to_string()))?;
        let mut st = self.lock();
        let slot = start.payload.slot;
        let expected = st.engine.proposer_for(slot);
        if signer != expected {
            return Err(rpc_err(
                code::NOT_NOW,
                format!("slot {slot} is proposed by {expected}, not {signer}"),
            ));
        }
        let revealer = recover(&reveal_digest(slot), &start.payload.reveal)
            .map_err(|e| rpc_err(code::BAD_SIGNATURE, format!("RANDAO reveal: {e}")))?;
        if revealer != signer {
            return Err(rpc_err(
                code::BAD_SIGNATURE,
                "RANDAO reveal not signed by the proposer",
            ));
        }
        let roots = self.inner.workload.roots(st.engine.next_block());
        st.engine
            .begin_slot(SlotInput {
                slot,
                reveal: start.payload.reveal.clone(),
                roots,
            })
            .map_err(|e| rpc_err(code::NOT_NOW, e.to_string()))?;
        st.mempool.retain(|p| p.msg.payload.slot() >= slot);
        st.clock = Some((Phase::T1, Instant::now(), self.inner.windows.t1));
        st.pump();
        drop(st);
        // Messages that arrived before the slot began could not be verified
        // against the set roots; re-verify aggregations lazily at block time.
        Ok(())
    }

    fn apply_local(&self, block: &PhaseBlock) -> Result<(), String> {
        let mut st = self.lock();
        if st.engine.current() != Some((block.slot, block.phase)) {
            return Ok(()); // already applied (idempotent commit)
        }
        st.engine.apply_block(block).map_err(|e| e.to_string())?;
        let included: HashSet<Vec<u8>> = block
            .included
            .iter()
            .map(|i| i.signature.to_vec())
            .collect();
        st.mempool
            .retain(|p| !included.contains(p.msg.signature.as_ref()));
        st.clock = st
            .engine
            .current()
            .map(|(_, ph)| (ph, Instant::now(), self.inner.windows.get(ph.index())));
        st.pump();
        Ok(())
    }

    fn notice(&self) -> Option<PhaseNotice> {
        let st = self.lock();
        let (slot, phase) = st.engine.current()?;
        let mut sets = Vec::new();
        let mut set = 0;
        while let Some(s) = st.engine.set_state(set) {
            sets.push(SetView {
                assignment: s.assignment.clone(),
                roots: s.roots.clone(),
                accepted: s.accepted_partials(),
                finalized: s.finalized,
            });
            set += 1;
        }
        let agg_target = if st.engine.agg_done().is_none() {
            st.engine.agg_target()
        } else {
            None
        };
        Some(PhaseNotice {
            slot,
            block: st.engine.next_block(),
            phase,
            sets,
            agg_group: st.engine.agg_group().to_vec(),
            agg_target,
        })
    }

    /// True when, for every expected sender of the open phase, a verified message
    /// eligible in this phase is pooled (fast mode closes the phase then).
    fn expected_in(&self) -> bool {
        let st = self.lock();
        let Some((slot, phase)) = st.engine.current() else {
            return true;
        };
        let expected = st.engine.expected_senders();
        expected.iter().all(|(set, who)| {
            st.mempool.iter().any(|p| {
                p.msg.signer == *who
                    && p.msg.payload.slot() == slot
                    && p.msg.payload.set() == *set
                    && p.verdict.is_some()
                    && earliest_phase(&p.msg.payload) <= phase
                    && (phase < Phase::T3
                        || matches!(
                            p.msg.payload,
                            Message::Aggregate(_) | Message::FullProof(_) | Message::AggProof(_)
                        ))
                    && (*set != crate::protocol::BLOCK_LEVEL
                        || matches!(p.msg.payload, Message::AggProof(_)))
            })
        })
    }

    async fn build_block(&self, slot: u64, phase: Phase) -> PhaseBlock {
        let pending: Vec<Pooled> = {
            let st = self.lock();
            st.mempool
                .iter()
                .filter(|p| p.msg.payload.slot() == slot && earliest_phase(&p.msg.payload) <= phase)
                .cloned()
                .collect()
        };
        let mut included = Vec::with_capacity(pending.len());
        for p in pending {
            let verdict = match p.verdict {
                Some(v) => v,
                None => {
                    self.verdict_of(p.digest, p.msg.signer, &p.msg.payload)
                        .await
                }
            };
            included.push(Included {
                from: p.msg.signer,
                signature: p.msg.signature,
                msg: p.msg.payload,
                verdict,
            });
        }
        PhaseBlock {
            slot,
            phase,
            proposer: self.address(),
            included,
        }
    }

    fn peers(&self) -> Vec<(Address, HttpClient)> {
        self.inner
            .topology
            .get()
            .map(|t| t.1.clone())
            .unwrap_or_default()
    }

    fn prover_clients(&self) -> Vec<HttpClient> {
        self.inner
            .topology
            .get()
            .map(|t| t.2.clone())
            .unwrap_or_default()
    }

    fn broadcast_notice(&self) {
        let Some(notice) = self.notice() else { return };
        let Ok(signed) = self.inner.key.sign(kind::NOTICE, notice) else {
            return;
        };
        for c in self.prover_clients() {
            let s = signed.clone();
            tokio::spawn(async move {
                if let Err(e) = c.notice(s).await {
                    debug!(target: "dpgnet::validator", error = %e, "notice not delivered");
                }
            });
        }
    }

    async fn wait_phase(&self, fast: bool, window: f64) {
        let deadline = Instant::now() + Duration::from_secs_f64(window);
        loop {
            let notified = self.inner.notify.notified();
            if fast && self.expected_in() {
                return;
            }
            let now = Instant::now();
            if now >= deadline {
                return;
            }
            let _ =
                tokio::time::timeout((deadline - now).min(Duration::from_millis(250)), notified)
                    .await;
        }
    }

    /// Propose, collect attestations, commit. Falls back to an empty block when
    /// the quorum refuses the first one.
    async fn finalize_phase(&self, block: PhaseBlock) -> Result<(), String> {
        let mut block = block;
        for attempt in 0..2 {
            let signed = self
                .inner
                .key
                .sign(kind::BLOCK, block.clone())
                .map_err(|e| e.to_string())?;
            let digest = signed.digest().map_err(|e| e.to_string())?;
            let peers = self.peers();
            let answers = join_all(peers.iter().map(|(_, c)| c.propose(signed.clone()))).await;
            let mut atts = vec![self.attest(&signed, digest)?];
            for (i, a) in answers.into_iter().enumerate() {
                match a {
                    Ok(att)
                        if att.payload.block_hash == digest
                            && att.verify(kind::ATTESTATION) == Ok(peers[i].0) =>
                    {
                        atts.push(att);
                    }
                    Ok(_) => {
                        warn!(target: "dpgnet::validator", peer = %peers[i].0, "bad attestation")
                    }
                    Err(e) => {
                        warn!(target: "dpgnet::validator", peer = %peers[i].0, error = %e, "no attestation")
                    }
                }
            }
            if atts.len() >= self.quorum() {
                let req = CommitRequest {
                    block: signed,
                    attestations: atts,
                };
                let _ = join_all(peers.iter().map(|(_, c)| c.commit(req.clone()))).await;
                return self.apply_local(&block);
            }
            warn!(target: "dpgnet::validator", slot = block.slot, phase = %block.phase, attempt, got = atts.len(), "no quorum; proposing an empty block");
            block.included.clear();
        }
        Err("no quorum even for an empty block".into())
    }

    fn attest(
        &self,
        block: &Signed<crate::protocol::PhaseBlock>,
        digest: B256,
    ) -> Result<Signed<Attestation>, String> {
        self.inner
            .key
            .sign(
                kind::ATTESTATION,
                Attestation {
                    slot: block.payload.slot,
                    phase: block.payload.phase,
                    block_hash: digest,
                },
            )
            .map_err(|e| e.to_string())
    }

    /// The engine events so far (for in-process inspection and tests).
    #[must_use]
    pub fn events(&self) -> Vec<Event> {
        self.lock().events.clone()
    }
}

#[async_trait]
impl ValidatorApiServer for ValidatorNode {
    async fn submit(&self, msg: Signed<Message>) -> RpcResult<B256> {
        let from = msg
            .verify(kind::MESSAGE)
            .map_err(|e| rpc_err(code::BAD_SIGNATURE, e.to_string()))?;
        let digest = msg
            .digest()
            .map_err(|e| rpc_err(code::INTERNAL, e.to_string()))?;
        let roots = {
            let mut st = self.lock();
            if !st.seen.insert(digest) {
                return Err(rpc_err(
                    code::REPLAY,
                    "replayed message: this exact signed message was already received",
                ));
            }
            let last = st.engine.current().map(|(s, _)| s);
            if let Some(cur) = last {
                if msg.payload.slot() < cur {
                    return Err(rpc_err(
                        code::NOT_NOW,
                        format!(
                            "message for slot {} but slot {cur} is open",
                            msg.payload.slot()
                        ),
                    ));
                }
            }
            st.mempool.push(Pooled {
                digest,
                msg: msg.clone(),
                verdict: None,
            });
            st.roots_for(&msg.payload)
        };
        debug!(target: "dpgnet::validator", from = %from, kind = ?msg.payload.kind(), "message pooled");
        let me = self.clone();
        tokio::spawn(async move {
            me.verify_pooled(digest, from, msg.payload, roots).await;
        });
        Ok(digest)
    }

    async fn begin_slot(&self, start: Signed<SlotStart>) -> RpcResult<()> {
        self.begin_slot_local(&start)
    }

    async fn propose(&self, block: Signed<PhaseBlock>) -> RpcResult<Signed<Attestation>> {
        let signer = block
            .verify(kind::BLOCK)
            .map_err(|e| rpc_err(code::BAD_SIGNATURE, e.to_string()))?;
        {
            let st = self.lock();
            if st.engine.current() != Some((block.payload.slot, block.payload.phase)) {
                return Err(rpc_err(
                    code::NOT_NOW,
                    "block is not for the open slot and phase",
                ));
            }
            if st.engine.current_proposer() != Some(signer) {
                return Err(rpc_err(
                    code::NOT_NOW,
                    format!("{signer} is not this slot's proposer"),
                ));
            }
        }
        for inc in &block.payload.included {
            let env = Signed {
                kind: kind::MESSAGE.to_string(),
                signer: inc.from,
                signature: inc.signature.clone(),
                payload: inc.msg.clone(),
            };
            if env.verify(kind::MESSAGE).is_err() {
                return Err(rpc_err(
                    code::BAD_SIGNATURE,
                    format!("included message from {} has a bad signature", inc.from),
                ));
            }
            let digest = env
                .digest()
                .map_err(|e| rpc_err(code::INTERNAL, e.to_string()))?;
            let mine = self.verdict_of(digest, inc.from, &inc.msg).await;
            if mine.is_valid() != inc.verdict.is_valid() {
                return Err(rpc_err(
                    code::DISAGREE,
                    format!(
                        "verdict on {}'s {:?} disagrees: mine is {:?}",
                        inc.from,
                        inc.msg.kind(),
                        mine
                    ),
                ));
            }
        }
        let digest = block
            .digest()
            .map_err(|e| rpc_err(code::INTERNAL, e.to_string()))?;
        self.attest(&block, digest)
            .map_err(|e| rpc_err(code::INTERNAL, e))
    }

    async fn commit(&self, req: CommitRequest) -> RpcResult<()> {
        let signer = req
            .block
            .verify(kind::BLOCK)
            .map_err(|e| rpc_err(code::BAD_SIGNATURE, e.to_string()))?;
        let digest = req
            .block
            .digest()
            .map_err(|e| rpc_err(code::INTERNAL, e.to_string()))?;
        let validators: HashSet<Address> =
            self.lock().engine.validators().iter().copied().collect();
        if !validators.contains(&signer) {
            return Err(rpc_err(
                code::BAD_SIGNATURE,
                "block not signed by a validator",
            ));
        }
        let mut voters = HashSet::new();
        for a in &req.attestations {
            if let Ok(v) = a.verify(kind::ATTESTATION) {
                if validators.contains(&v) && a.payload.block_hash == digest {
                    voters.insert(v);
                }
            }
        }
        if voters.len() < self.quorum() {
            return Err(rpc_err(
                code::NOT_NOW,
                format!("{} attestations, {} needed", voters.len(), self.quorum()),
            ));
        }
        self.apply_local(&req.block.payload)
            .map_err(|e| rpc_err(code::INTERNAL, e))
    }

    async fn drive_slot(&self, slot: u64, fast: bool) -> RpcResult<DriveResult> {
        let started = Instant::now();
        let reveal = self.inner.key.sign_digest(&reveal_digest(slot));
        let start = self
            .inner
            .key
            .sign(kind::SLOT_START, SlotStart { slot, reveal })
            .map_err(|e| rpc_err(code::INTERNAL, e.to_string()))?;
        self.begin_slot_local(&start)?;
        let peers = self.peers();
        for (i, r) in join_all(peers.iter().map(|(_, c)| c.begin_slot(start.clone())))
            .await
            .into_iter()
            .enumerate()
        {
            if let Err(e) = r {
                warn!(target: "dpgnet::validator", peer = %peers[i].0, error = %e, "peer did not begin the slot");
            }
        }
        info!(target: "dpgnet::validator", slot, "slot started");
        loop {
            let Some((s, phase)) = self.lock().engine.current() else {
                break;
            };
            debug_assert_eq!(s, slot);
            self.broadcast_notice();
            self.wait_phase(fast, self.inner.windows.get(phase.index()))
                .await;
            let block = self.build_block(slot, phase).await;
            self.finalize_phase(block)
                .await
                .map_err(|e| rpc_err(code::INTERNAL, e))?;
            if self.lock().engine.slot_done() {
                break;
            }
        }
        let outcome = self
            .lock()
            .events
            .iter()
            .rev()
            .find_map(|e| match e {
                Event::Settled(s) if s.slot == slot => Some(s.outcome),
                _ => None,
            })
            .unwrap_or(Outcome::LivenessFault);
        // Tell provers the slot is over (the notice of a settled slot has no phase
        // open; provers drop state for older slots on the next notice).
        Ok(DriveResult {
            slot,
            outcome,
            wall_s: started.elapsed().as_secs_f64(),
        })
    }

    async fn events(&self, cursor: u64) -> RpcResult<EventsPage> {
        let st = self.lock();
        let from = (cursor as usize).min(st.events.len());
        let to = (from + 500).min(st.events.len());
        Ok(EventsPage {
            events: st.events[from..to].to_vec(),
            next: to as u64,
        })
    }

    async fn status(&self) -> RpcResult<ValidatorStatus> {
        let st = self.lock();
        let (slot, phase) = st
            .engine
            .current()
            .map_or((None, None), |(s, p)| (Some(s), Some(p)));
        let (elapsed, window) = st
            .clock
            .map_or((0.0, 0.0), |(_, t, w)| (t.elapsed().as_secs_f64(), w));
        Ok(ValidatorStatus {
            address: self.address(),
            slot,
            phase,
            phase_elapsed_s: elapsed,
            phase_window_s: window,
            mempool: st.mempool.len(),
        })
    }

    async fn mempool(&self) -> RpcResult<Vec<Signed<Message>>> {
        Ok(self.lock().mempool.iter().map(|p| p.msg.clone()).collect())
    }

    async fn proposer(&self, slot: u64) -> RpcResult<Address> {
        Ok(self.lock().engine.proposer_for(slot))
    }
}
