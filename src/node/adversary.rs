//! The adversary agent: a node that holds the keys of the provers it corrupts and
//! runs a strategy with each of them, switchable live.
//!
//! Threat model: `adversarial-procurement-paper.txt` §2 (a one-slot Byzantine
//! attacker corrupting up to f provers, Remark 2.1). Strategies, each named after
//! the text that motivates it:
//! - `honest`: behave like an honest prover (the default).
//! - `withhold`: commit but never prove (spec T1/T2 penalties);
//!   `silent`: never commit nor prove.
//! - `late`: prove honestly but deliver every message one phase after its window
//!   (spec "Multi-phase Proof Generation": phases close on time).
//! - `invalid_proof`: submit proofs that do not verify (one byte flipped).
//! - `steal`: resubmit another prover's valid partial proof under its own key (spec
//!   T1: "The proof must include the prover's public key as a public output to
//!   prevent proof stealing").
//! - `equivocate`: two different commitments in T1 (spec T1: "Only one transaction
//!   per prover is allowed").
//! - `no_reuse`: aggregate in every aggregation phase without reusing anybody's
//!   partials, proving every sub-block itself (griefs spec T3's
//!   `REWARD_PROVER_REUSED` / `PENALTY_PROVER_NOTREUSED`).
//! - `sybil[:c]`: the corrupted identities are one operator's split stake and share
//!   its capacity of `c` partial proofs per slot (default 2); identities beyond it
//!   commit but cannot deliver (`capacity-oracles-post.txt` §3, Sybil splitting).
//! - `targeted_liveness[:f]`: after seeing the slot's assignment, corrupt up to `f`
//!   selected provers for that one slot, the designated aggregators first, to cause
//!   a liveness fault (paper §2, Remark 2.1); default f = 3.

use std::collections::HashMap;
use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use alloy_primitives::{Address, Bytes};
use jsonrpsee::core::{RpcResult, async_trait};
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use tracing::{info, warn};

use super::crypto::{NodeKey, Signed};
use super::prover::{ProverCore, Submitter, check_notice};
use super::rpc::{
    Corruption, PhaseNotice, ProofTiming, ProverApiClient, ProverApiServer, SetView,
    ValidatorApiClient, code, kind, rpc_err,
};
use super::validator::earliest_phase;
use crate::protocol::{Aggregation, Commitment, Message, PartialProof, Phase, Slot, bloom_hash};

/// An adversary strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case", tag = "name")]
pub enum Strategy {
    /// Behave honestly.
    Honest,
    /// Commit, never prove.
    Withhold,
    /// Never commit, never prove.
    Silent,
    /// Deliver every message one phase late.
    Late,
    /// Submit proofs with one byte flipped.
    InvalidProof,
    /// Copy other provers' partial proofs and submit them as its own.
    Steal,
    /// Two different commitments in T1.
    Equivocate,
    /// Aggregate without reusing anybody's partials.
    NoReuse,
    /// Split identities sharing one operator's capacity.
    Sybil {
        /// Partial proofs the operator can produce per slot, over all identities.
        capacity: u32,
    },
    /// Corrupt up to `f` selected provers for one slot, designated aggregators first.
    TargetedLiveness {
        /// Corruption budget per slot.
        f: u32,
    },
}

/// The strategy names, for help texts and errors.
pub const STRATEGY_NAMES: &[&str] = &[
    "honest",
    "withhold",
    "silent",
    "late",
    "invalid_proof",
    "steal",
    "equivocate",
    "no_reuse",
    "sybil[:capacity]",
    "targeted_liveness[:f]",
];

impl FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        let (name, arg) = match s.split_once(':') {
            Some((n, a)) => (n, Some(a)),
            None => (s, None),
        };
        let num = |default: u32| -> Result<u32, String> {
            arg.map_or(Ok(default), |a| {
                a.parse::<u32>().ok().filter(|n| *n > 0).ok_or_else(|| {
                    format!("`{s}`: the parameter after ':' must be a positive integer")
                })
            })
        };
        let plain = |st: Strategy| -> Result<Strategy, String> {
            if arg.is_some() {
                Err(format!("strategy `{name}` takes no parameter"))
            } else {
                Ok(st)
            }
        };
        match name {
            "honest" | "none" => plain(Strategy::Honest),
            "withhold" => plain(Strategy::Withhold),
            "silent" => plain(Strategy::Silent),
            "late" => plain(Strategy::Late),
            "invalid_proof" => plain(Strategy::InvalidProof),
            "steal" => plain(Strategy::Steal),
            "equivocate" => plain(Strategy::Equivocate),
            "no_reuse" => plain(Strategy::NoReuse),
            "sybil" => Ok(Strategy::Sybil { capacity: num(2)? }),
            "targeted_liveness" => Ok(Strategy::TargetedLiveness { f: num(3)? }),
            other => Err(format!(
                "unknown adversary strategy `{other}` (known: {})",
                STRATEGY_NAMES.join(", ")
            )),
        }
    }
}

impl std::fmt::Display for Strategy {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Strategy::Honest => f.write_str("honest"),
            Strategy::Withhold => f.write_str("withhold"),
            Strategy::Silent => f.write_str("silent"),
            Strategy::Late => f.write_str("late"),
            Strategy::InvalidProof => f.write_str("invalid_proof"),
            Strategy::Steal => f.write_str("steal"),
            Strategy::Equivocate => f.write_str("equivocate"),
            Strategy::NoReuse => f.write_str("no_reuse"),
            Strategy::Sybil { capacity } => write!(f, "sybil:{capacity}"),
            Strategy::TargetedLiveness { f: n } => write!(f, "targeted_liveness:{n}"),
        }
    }
}

/// Flip one byte in the middle of a proof.
#[must_use]
pub fn tamper(proof: &Bytes) -> Bytes {
    let mut v = proof.to_vec();
    if !v.is_empty() {
        let i = v.len() / 2;
        v[i] ^= 0x5a;
    }
    Bytes::from(v)
}

fn tamper_message(m: Message) -> Message {
    match m {
        Message::Partials(ps) => Message::Partials(
            ps.into_iter()
                .map(|p| PartialProof {
                    proof: tamper(&p.proof),
                    ..p
                })
                .collect(),
        ),
        Message::FullProof(mut f) => {
            f.proof = tamper(&f.proof);
            Message::FullProof(f)
        }
        Message::Aggregate(mut a) => {
            a.link_proof = tamper(&a.link_proof);
            Message::Aggregate(a)
        }
        Message::AggProof(mut a) => {
            a.link_proof = tamper(&a.link_proof);
            Message::AggProof(a)
        }
        c @ Message::Commit(_) => c,
    }
}

/// The adversary agent node.
#[derive(Clone)]
pub struct AdversaryNode {
    key: NodeKey,
    cores: Arc<Vec<Arc<ProverCore>>>,
    strategies: Arc<Mutex<HashMap<Address, Strategy>>>,
    submitter: Arc<Submitter>,
    validators: Arc<OnceLock<Vec<Address>>>,
    provers: Arc<OnceLock<Vec<(Address, HttpClient)>>>,
    late: Arc<Mutex<Vec<(Phase, Signed<Message>)>>>,
    capacity_used: Arc<Mutex<HashMap<Slot, u32>>>,
    steal_wait: Duration,
}

impl std::fmt::Debug for AdversaryNode {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "AdversaryNode({})", self.key.address())
    }
}

impl AdversaryNode {
    /// An adversary agent with its own key, holding the corrupted identities
    /// `cores`, all running `strategy`. `steal_wait` bounds how long `steal` watches
    /// the mempool for a proof to copy.
    #[must_use]
    pub fn new(
        key: NodeKey,
        cores: Vec<ProverCore>,
        strategy: Strategy,
        steal_wait: Duration,
    ) -> Self {
        let strategies = cores.iter().map(|c| (c.address(), strategy)).collect();
        AdversaryNode {
            key,
            cores: Arc::new(cores.into_iter().map(Arc::new).collect()),
            strategies: Arc::new(Mutex::new(strategies)),
            submitter: Arc::new(Submitter::default()),
            validators: Arc::new(OnceLock::new()),
            provers: Arc::new(OnceLock::new()),
            late: Arc::new(Mutex::new(Vec::new())),
            capacity_used: Arc::new(Mutex::new(HashMap::new())),
            steal_wait,
        }
    }

    /// The agent's own address (the signer of corruption orders).
    #[must_use]
    pub fn address(&self) -> Address {
        self.key.address()
    }

    /// Connect to the validators.
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

    /// Connect to the honest provers (for one-slot corruption orders).
    ///
    /// # Errors
    /// An unparsable URL.
    pub fn set_provers(&self, provers: &[(Address, String)]) -> Result<(), String> {
        let cs = provers
            .iter()
            .map(|(a, u)| {
                HttpClientBuilder::default()
                    .build(u)
                    .map(|c| (*a, c))
                    .map_err(|e| format!("{u}: {e}"))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let _ = self.provers.set(cs);
        Ok(())
    }

    fn strategies(&self) -> std::sync::MutexGuard<'_, HashMap<Address, Strategy>> {
        self.strategies
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// The strategy of identity `who` (honest if unknown).
    #[must_use]
    pub fn strategy_of(&self, who: &Address) -> Strategy {
        self.strategies()
            .get(who)
            .copied()
            .unwrap_or(Strategy::Honest)
    }

    /// The strategy of every corrupted identity.
    #[must_use]
    pub fn all_strategies(&self) -> Vec<(Address, Strategy)> {
        self.cores
            .iter()
            .map(|c| (c.address(), self.strategy_of(&c.address())))
            .collect()
    }

    /// Switch the strategy of `targets` (all identities when `None`); takes effect
    /// at the next phase notice.
    pub fn set_strategy(&self, s: Strategy, targets: Option<&[Address]>) {
        let mut map = self.strategies();
        for c in self.cores.iter() {
            let a = c.address();
            if targets.is_none_or(|t| t.contains(&a)) {
                info!(target: "dpgnet::adversary", prover = %a, strategy = %s, "strategy set");
                map.insert(a, s);
            }
        }
    }

    /// Kill the agent: it sends nothing from now on.
    pub fn kill(&self) {
        self.submitter.kill();
    }

    /// Pause or resume the agent.
    pub fn set_paused(&self, paused: bool) {
        self.submitter.set_paused(paused);
    }

    /// The corrupted identities.
    #[must_use]
    pub fn identities(&self) -> Vec<Address> {
        self.cores.iter().map(|c| c.address()).collect()
    }

    fn sign(core: &ProverCore, m: Message) -> Option<Signed<Message>> {
        core.key()
            .sign(kind::MESSAGE, m)
            .map_err(|e| warn!(target: "dpgnet::adversary", error = %e, "cannot sign"))
            .ok()
    }

    async fn sign_submit(&self, core: &ProverCore, m: Message) {
        if let Some(s) = Self::sign(core, m) {
            self.submitter.submit(s).await;
        }
    }

    /// `late`: hold a message until the phase after its own has opened.
    fn hold_late(&self, core: &ProverCore, m: Message) {
        if let Some(s) = Self::sign(core, m) {
            let due = earliest_phase(&s.payload).next().unwrap_or(Phase::T5);
            self.late
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push((due, s));
        }
    }

    async fn release_late(&self, slot: Slot, phase: Phase) {
        let due: Vec<Signed<Message>> = {
            let mut held = self
                .late
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner);
            held.retain(|(_, m)| m.payload.slot() >= slot);
            let (now, later): (Vec<_>, Vec<_>) = held
                .drain(..)
                .partition(|(p, m)| m.payload.slot() < slot || *p <= phase);
            *held = later;
            now.into_iter().map(|(_, m)| m).collect()
        };
        for m in due {
            info!(target: "dpgnet::adversary", slot, kind = ?m.payload.kind(), "delivering late");
            self.submitter.send(m).await;
        }
    }

    /// `steal`: in T2, watch the public mempool for another prover's partial of a
    /// sub-block assigned to `core`, and resubmit its bytes under `core`'s key.
    async fn steal(&self, core: Arc<ProverCore>, notice: PhaseNotice) {
        let me = core.address();
        let Some(client) = self.submitter.first_validator() else {
            return;
        };
        let deadline = Instant::now() + self.steal_wait;
        let mine_all = self.identities();
        for view in &notice.sets {
            let Some(mine) = view.assignment.assignments.get(&me) else {
                continue;
            };
            loop {
                let pool: Vec<Signed<Message>> = client.mempool().await.unwrap_or_default();
                let copied: Option<PartialProof> = pool
                    .iter()
                    .filter(|m| !mine_all.contains(&m.signer))
                    .filter_map(|m| match &m.payload {
                        Message::Partials(ps) => Some(ps.clone()),
                        _ => None,
                    })
                    .flatten()
                    .find(|p| p.slot == notice.slot && mine.contains(&p.sub_block));
                if let Some(p) = copied {
                    info!(target: "dpgnet::adversary", prover = %me, sub_block = p.sub_block, "stealing a partial proof");
                    self.sign_submit(&core, Message::Partials(vec![p])).await;
                    break;
                }
                if Instant::now() >= deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    /// `no_reuse`: an aggregation proving every sub-block itself (blocking).
    fn aggregate_without_reuse(
        core: &ProverCore,
        notice: &PhaseNotice,
        view: &SetView,
    ) -> Option<Message> {
        let stripped = SetView {
            accepted: Vec::new(),
            ..view.clone()
        };
        match core.aggregate(notice.slot, notice.block, &stripped, notice.phase)? {
            Message::Aggregate(a) => Some(Message::Aggregate(Aggregation {
                bloom: bloom_hash(&[]),
                ..a
            })),
            other => Some(other),
        }
    }

    /// `targeted_liveness`: corrupt up to `f` selected provers for this slot, the
    /// designated aggregators (T3, T4, T5) first, then the other selected provers.
    /// Own identities among them withhold; honest ones receive a signed one-slot
    /// corruption order and go silent.
    async fn corrupt_targets(&self, notice: &PhaseNotice, f: u32) -> Vec<Address> {
        let mut targets = Vec::new();
        for view in &notice.sets {
            for a in view
                .assignment
                .aggregators
                .iter()
                .chain(view.assignment.selected.iter())
            {
                if !targets.contains(a) && targets.len() < f as usize {
                    targets.push(*a);
                }
            }
        }
        let order = match self
            .key
            .sign(kind::CORRUPTION, Corruption { slot: notice.slot })
        {
            Ok(o) => o,
            Err(e) => {
                warn!(target: "dpgnet::adversary", error = %e, "cannot sign a corruption order");
                return targets;
            }
        };
        let provers = self.provers.get().cloned().unwrap_or_default();
        for t in &targets {
            if let Some((_, c)) = provers.iter().find(|(a, _)| a == t) {
                match c.corrupt(order.clone()).await {
                    Ok(()) => {
                        info!(target: "dpgnet::adversary", prover = %t, slot = notice.slot, "corrupted for one slot")
                    }
                    Err(e) => {
                        warn!(target: "dpgnet::adversary", prover = %t, error = %e, "corruption refused")
                    }
                }
            }
        }
        targets
    }

    #[allow(clippy::too_many_lines)]
    async fn act(&self, notice: PhaseNotice) {
        self.release_late(notice.slot, notice.phase).await;
        // One-slot adaptive corruption happens first, on the T1 notice.
        let mut corrupted_now: Vec<Address> = Vec::new();
        if notice.phase == Phase::T1 {
            let budget = self
                .all_strategies()
                .iter()
                .filter_map(|(_, s)| match s {
                    Strategy::TargetedLiveness { f } => Some(*f),
                    _ => None,
                })
                .max();
            if let Some(f) = budget {
                corrupted_now = self.corrupt_targets(&notice, f).await;
            }
        }
        for core in self.cores.iter().cloned() {
            let me = core.address();
            let strategy = self.strategy_of(&me);
            match strategy {
                Strategy::Silent => {}
                Strategy::TargetedLiveness { .. } => {
                    // Withhold when targeted this slot (or already selected); else honest.
                    let selected = notice.sets.iter().any(|v| v.assignment.is_selected(&me));
                    if !selected && !corrupted_now.contains(&me) {
                        self.honest(core, &notice, false).await;
                    }
                }
                Strategy::Withhold => {
                    for m in core.immediate_messages(&notice) {
                        self.sign_submit(&core, m).await;
                    }
                }
                Strategy::Equivocate => {
                    for m in core.immediate_messages(&notice) {
                        let Message::Commit(c) = &m else { continue };
                        let other = Message::Commit(Commitment {
                            hash: !c.hash,
                            ..c.clone()
                        });
                        // The real commitment first, then the conflicting one, in
                        // order (sent together they could arrive swapped, and the real
                        // one would become the equivocation). The second breaks the
                        // one-transaction rule; with `--fast`, T1 may already have
                        // closed and it is judged late instead.
                        for x in [m.clone(), other] {
                            if let Some(s) = Self::sign(&core, x) {
                                self.submitter.send(s).await;
                            }
                        }
                    }
                    self.honest(core, &notice, true).await;
                }
                Strategy::Steal => {
                    for m in core.immediate_messages(&notice) {
                        self.sign_submit(&core, m).await;
                    }
                    if notice.phase == Phase::T2 {
                        let me = self.clone();
                        let n = notice.clone();
                        tokio::spawn(async move { me.steal(core, n).await });
                    }
                }
                Strategy::NoReuse => {
                    let has_aggregation_duty = notice.phase.is_aggregation();
                    for m in core.immediate_messages(&notice) {
                        self.sign_submit(&core, m).await;
                    }
                    let me = self.clone();
                    let n = notice.clone();
                    tokio::spawn(async move {
                        let c = core.clone();
                        let n2 = n.clone();
                        let msgs = tokio::task::spawn_blocking(move || {
                            if has_aggregation_duty {
                                n2.sets
                                    .iter()
                                    .filter(|v| v.finalized.is_none())
                                    .filter_map(|v| Self::aggregate_without_reuse(&c, &n2, v))
                                    .collect()
                            } else {
                                c.proven_messages(&n2)
                            }
                        })
                        .await
                        .unwrap_or_default();
                        for m in msgs {
                            me.sign_submit(&core, m).await;
                        }
                    });
                }
                Strategy::Sybil { capacity } => {
                    for m in core.immediate_messages(&notice) {
                        self.sign_submit(&core, m).await;
                    }
                    // The operator's capacity is shared by all its identities.
                    let wanted: u32 = notice
                        .sets
                        .iter()
                        .filter_map(|v| v.assignment.assignments.get(&me))
                        .map(|sbs| sbs.len() as u32)
                        .sum();
                    let granted = notice.phase == Phase::T1 && wanted > 0 && {
                        let mut used = self
                            .capacity_used
                            .lock()
                            .unwrap_or_else(std::sync::PoisonError::into_inner);
                        used.retain(|s, _| *s + 2 >= notice.slot);
                        let u = used.entry(notice.slot).or_insert(0);
                        if *u + wanted <= capacity {
                            *u += wanted;
                            true
                        } else {
                            false
                        }
                    };
                    if granted || notice.phase.is_aggregation() {
                        self.honest(core, &notice, true).await;
                    } else if wanted > 0 {
                        info!(target: "dpgnet::adversary", prover = %me, slot = notice.slot, "sybil identity out of capacity");
                    }
                }
                Strategy::Honest | Strategy::InvalidProof | Strategy::Late => {
                    self.play(core, &notice, strategy, false).await;
                }
            }
        }
    }

    /// Deliver one message of `core` the way `strategy` does: tampered
    /// (`invalid_proof`), held one phase (`late`), or as is.
    async fn deliver(&self, core: &ProverCore, strategy: Strategy, m: Message) {
        match strategy {
            Strategy::InvalidProof => self.sign_submit(core, tamper_message(m)).await,
            Strategy::Late => self.hold_late(core, m),
            _ => self.sign_submit(core, m).await,
        }
    }

    /// Play one identity's notice honestly, each message delivered the way
    /// `strategy` does ([`Self::deliver`]); `skip_immediate` when its commitments
    /// were already handled.
    async fn play(
        &self,
        core: Arc<ProverCore>,
        notice: &PhaseNotice,
        strategy: Strategy,
        skip_immediate: bool,
    ) {
        if !skip_immediate {
            for m in core.immediate_messages(notice) {
                self.deliver(&core, strategy, m).await;
            }
        }
        let me = self.clone();
        let n = notice.clone();
        tokio::spawn(async move {
            let c = core.clone();
            let msgs = tokio::task::spawn_blocking(move || c.proven_messages(&n))
                .await
                .unwrap_or_default();
            for m in msgs {
                me.deliver(&core, strategy, m).await;
            }
        });
    }

    /// Honest behaviour for one identity.
    async fn honest(&self, core: Arc<ProverCore>, notice: &PhaseNotice, skip_immediate: bool) {
        self.play(core, notice, Strategy::Honest, skip_immediate)
            .await;
    }
}

#[async_trait]
impl ProverApiServer for AdversaryNode {
    async fn notice(&self, notice: Signed<PhaseNotice>) -> RpcResult<()> {
        if !self.submitter.is_alive() || self.submitter.is_paused() {
            return Err(rpc_err(code::INTERNAL, "node is down"));
        }
        check_notice(&notice, self.validators.get().map_or(&[], Vec::as_slice))?;
        let n = notice.payload;
        self.submitter.phase_opened(n.slot, n.phase).await;
        self.act(n).await;
        Ok(())
    }

    async fn timings(&self, slot: Slot) -> RpcResult<Vec<ProofTiming>> {
        Ok(self.cores.iter().flat_map(|c| c.timings(slot)).collect())
    }

    async fn identities(&self) -> RpcResult<Vec<Address>> {
        Ok(AdversaryNode::identities(self))
    }

    async fn corrupt(&self, _order: Signed<Corruption>) -> RpcResult<()> {
        Err(rpc_err(
            code::NOT_NOW,
            "the adversary agent cannot be corrupted: it already is",
        ))
    }

    async fn set_strategy(&self, strategy: String, targets: Vec<Address>) -> RpcResult<()> {
        let parsed: Strategy = strategy
            .parse()
            .map_err(|e: String| rpc_err(code::NOT_NOW, e))?;
        let ids = self.identities();
        if let Some(t) = targets.iter().find(|t| !ids.contains(t)) {
            return Err(rpc_err(
                code::NOT_NOW,
                format!("{t} is not a prover this adversary agent controls"),
            ));
        }
        AdversaryNode::set_strategy(
            self,
            parsed,
            if targets.is_empty() {
                None
            } else {
                Some(&targets)
            },
        );
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_parse_with_parameters_and_unknown_is_a_clear_error() {
        assert_eq!("steal".parse::<Strategy>(), Ok(Strategy::Steal));
        assert_eq!("honest".parse::<Strategy>(), Ok(Strategy::Honest));
        assert_eq!(
            "sybil".parse::<Strategy>(),
            Ok(Strategy::Sybil { capacity: 2 })
        );
        assert_eq!(
            "sybil:5".parse::<Strategy>(),
            Ok(Strategy::Sybil { capacity: 5 })
        );
        assert_eq!(
            "targeted_liveness:4".parse::<Strategy>(),
            Ok(Strategy::TargetedLiveness { f: 4 })
        );
        let e = "bribe".parse::<Strategy>().unwrap_err();
        assert!(e.contains("bribe") && e.contains("withhold"), "{e}");
        assert!("sybil:0".parse::<Strategy>().is_err());
        assert!("steal:3".parse::<Strategy>().is_err());
        for s in [
            "late",
            "equivocate",
            "no_reuse",
            "silent",
            "withhold",
            "invalid_proof",
        ] {
            let st: Strategy = s.parse().unwrap();
            assert_eq!(st.to_string(), s);
        }
    }

    #[test]
    fn tamper_changes_exactly_one_byte() {
        let p = Bytes::from(vec![0u8; 10]);
        let t = tamper(&p);
        assert_eq!(p.iter().zip(t.iter()).filter(|(a, b)| a != b).count(), 1);
    }
}
