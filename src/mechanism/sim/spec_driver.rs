//! The `spec` mechanism in the simulator: the real pure engine (`crate::protocol`)
//! driven with modelled messages.
//!
//! Each slot: [`Engine::begin_slot`] selects and assigns; every selected prover's
//! behaviour is drawn (honest: a failure draw and a proving time; corrupted: the
//! attack strategy); the T1–T5 phase blocks are built from those behaviours with
//! `Valid` (or, for `invalid_proof`, `Invalid`) verdicts standing in for halo2
//! verification, and applied until the slot settles. Payments, penalties, slashes,
//! ejections and the liveness fault all come from the engine's [`Settlement`]; this
//! module only decides who sends what, and when.
//!
//! Timing (the devnet's phase windows, `network_params.phase_seconds`): an honest
//! prover starts proving its partials when T1 opens (as `node/prover.rs` does) and
//! they land in the block of the phase in which its proving time ends; past T2 they
//! are late (the engine rejects them and warns). A phase's designated aggregator
//! starts when its phase opens, reuses the accepted partials (another prover's first,
//! as `ProverCore::aggregate`), proves the missing ones inline, and its aggregation
//! lands in the phase in which its proving time (one draw, plus one per inline
//! partial) ends; one phase late it is a valid aggregation of the next phase.
//!
//! Attackers: static strategies corrupt the last `f` provers of genesis and play as
//! `node/adversary.rs` does (`withhold` commits and never proves, `silent` sends
//! nothing, `late` sends everything one phase late, `invalid_proof` sends proofs the
//! validators reject). `worst_case` is the paper's one-slot attacker (Rem. 2.1) as a
//! targeted liveness attack: it sees the assignment, corrupts the designated
//! aggregators first and withholds when the expected extra fault penalty exceeds the
//! rewards withholding saves (`SpecWorld::attack_pays`).

use std::collections::HashMap;

use alloy_primitives::{Address, B256, Bytes};

use super::model::ProofModel;
use super::rng::{LogNormal, SimRng};
use super::{AttackStrategy, SimError, SlotSample};
use crate::config::{Devnet, Role, SlashDestination};
use crate::protocol::{
    Aggregation, Commitment, Engine, EngineParams, EntryKind, Event, GenesisAccount, Included,
    Message, Outcome, PartialProof, PartialRef, Phase, PhaseBlock, SetAssignment, SlotInput,
    Verdict, bloom_hash, commitment_hash,
};

/// What one selected prover does in a slot.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Actor {
    /// Honest: proving work fails or takes `latency` seconds from T1's opening.
    Honest { fails: bool, latency: f64 },
    /// Corrupted, running a strategy (never `Honest` or `WorstCase`: those resolve).
    Corrupt(AttackStrategy),
}

/// One replica of the spec simulation: an engine from genesis and its random stream.
pub(crate) struct SpecWorld {
    engine: Engine,
    /// The engine's parameters and genesis, to restart from every `horizon` slots.
    params: EngineParams,
    genesis: Vec<GenesisAccount>,
    /// Slots per engine run (0: never restart).
    horizon: u64,
    /// Slots run on the current engine.
    age: u64,
    /// Engine runs started so far (varies the RANDAO seed of each restart).
    runs: u64,
    rng: SimRng,
    latency: LogNormal,
    failure_rate: f64,
    strategy: AttackStrategy,
    /// The provers the static strategies corrupt: the last `f` of genesis.
    statically_corrupted: HashMap<Address, ()>,
    /// The corruption budget `f`.
    budget: usize,
    /// Phase windows T1..T5, seconds.
    windows: [f64; 5],
    penalty: u64,
    insured: bool,
    /// The T3 aggregation rewards of one slot, reward units (see [`Self::attack_pays`]).
    rewards_t3: f64,
    /// Slots that could not start because too few provers were left.
    pub(crate) exhausted: u64,
    /// Provers ejected so far.
    pub(crate) ejected: u64,
}

/// A distinct address per (role tag, index).
fn address(tag: u8, i: usize) -> Address {
    let mut bytes = [0u8; 20];
    bytes[0] = tag;
    bytes[12..].copy_from_slice(&(i as u64).to_be_bytes());
    Address::from(bytes)
}

/// Distinct workload roots of `slot` (no hashing: only equality matters here).
fn root(slot: u64, index: u32) -> B256 {
    let mut b = [0u8; 32];
    b[0] = 0x52;
    b[8..16].copy_from_slice(&slot.to_be_bytes());
    b[16..20].copy_from_slice(&index.to_be_bytes());
    B256::from(b)
}

/// Opaque proof bytes, distinct per (prover, slot, sub-block or link tag).
fn proof_bytes(who: Address, slot: u64, tag: u32) -> Bytes {
    let mut b = Vec::with_capacity(32);
    b.extend_from_slice(who.as_slice());
    b.extend_from_slice(&slot.to_be_bytes());
    b.extend_from_slice(&tag.to_be_bytes());
    Bytes::from(b)
}

fn included(from: Address, msg: Message, valid: bool) -> Included {
    Included {
        from,
        signature: Bytes::new(),
        msg,
        verdict: if valid {
            Verdict::Valid
        } else {
            Verdict::Invalid("simulated invalid proof".into())
        },
    }
}

impl SpecWorld {
    /// A fresh engine at genesis: the devnet's validators (count and stake) and
    /// `provers` provers at the devnet's prover stake; `seed` seeds the engine's
    /// RANDAO and this replica's draws.
    ///
    /// # Errors
    /// [`SimError::Usage`] for a shape the engine cannot run.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        devnet: &Devnet,
        model: &ProofModel,
        provers: usize,
        sub_blocks: u32,
        corrupted: usize,
        strategy: AttackStrategy,
        penalty: u64,
        seed: u64,
        horizon: u64,
        rng: SimRng,
    ) -> Result<Self, SimError> {
        let mut params = EngineParams::from_devnet(devnet);
        params.seed = seed;
        params.liveness_penalty = penalty;
        params.num_partial_proofs = sub_blocks;
        // The engine runs the spec's table here, whatever the devnet's `mechanism:` says
        // (the other kinds are simulated by `rules_driver`).
        params.mechanism = crate::mechanism::rules::MechanismConfig::default();
        let stake_of = |role: Role| {
            devnet
                .participants
                .iter()
                .find(|p| p.role == role)
                .map_or(crate::config::Participant::default_stake(role), |p| p.stake)
        };
        let np = &devnet.network_params;
        let validators = (0..devnet.count(Role::Validator) as usize).map(|i| GenesisAccount {
            address: address(0x01, i),
            role: Role::Validator,
            stake: stake_of(Role::Validator),
            balance: np.genesis_validator_balance,
        });
        let prover_accounts: Vec<GenesisAccount> = (0..provers)
            .map(|i| GenesisAccount {
                address: address(0x02, i),
                role: Role::Prover,
                stake: stake_of(Role::Prover),
                balance: np.genesis_prover_balance,
            })
            .collect();
        let statically_corrupted = prover_accounts[provers - corrupted..]
            .iter()
            .map(|g| (g.address, ()))
            .collect();
        let genesis: Vec<GenesisAccount> = validators.chain(prover_accounts).collect();
        let r = &params.rewards;
        let rewards_t3 = (r.reward_prover_t3
            + r.reward_validator_t3
            + (r.reward_prover_reusing_t3 + r.reward_prover_reused_t3) * u64::from(sub_blocks))
            as f64;
        let mut engine =
            Engine::new(params.clone(), &genesis).map_err(|e| SimError::Usage(e.to_string()))?;
        engine.drain_events();
        Ok(Self {
            engine,
            params,
            genesis,
            horizon,
            age: 0,
            runs: 1,
            rng,
            latency: LogNormal::from_mean_sd(model.latency_mean_s, model.latency_sd_s),
            failure_rate: model.failure_rate,
            strategy,
            statically_corrupted,
            budget: corrupted,
            windows: np.phase_seconds.as_array(),
            penalty,
            insured: np.slashed_to != SlashDestination::Burn,
            rewards_t3,
            exhausted: 0,
            ejected: 0,
        })
    }

    fn honest(&mut self) -> Actor {
        let fails = self.rng.bernoulli(self.failure_rate);
        let latency = self.latency.sample(&mut self.rng);
        Actor::Honest { fails, latency }
    }

    /// The phase (0-based, T1 = 0) in whose window a job started at the opening of
    /// phase `start` and taking `t` seconds ends; `None` after T5.
    fn arrival(&self, start: usize, t: f64) -> Option<usize> {
        let mut end = 0.0;
        for (i, w) in self.windows.iter().enumerate().skip(start) {
            end += w;
            if t <= end {
                return Some(i);
            }
        }
        None
    }

    /// Probability that the aggregator of phase `i` (0-based, 2..=4), if honest, fails
    /// to land an aggregation by the end of T5 (its work fails, or one proving-time draw
    /// runs past T5; inline partials are ignored).
    fn miss(&self, i: usize) -> f64 {
        let left: f64 = self.windows[i..].iter().sum();
        let f = self.failure_rate;
        f + (1.0 - f) * (1.0 - self.latency.cdf(left))
    }

    /// Whether the worst-case attacker withholds with `targets`: the expected extra
    /// fault penalty, `P × (P(fault | attack) − P(fault | honest))` with the fault
    /// probabilities of the aggregators left honest ([`Self::miss`]), must reach what
    /// withholding can save the protocol at most, the T3 aggregation rewards
    /// (`REWARD_PROVER_T3 + REWARD_VALIDATOR_T3 + (REWARD_PROVER_REUSING_T3 +
    /// REWARD_PROVER_REUSED_T3) × sub-blocks`). So with every aggregator covered it
    /// attacks whenever P exceeds those rewards, and with fewer it attacks when the
    /// remaining aggregators are slow or unreliable enough.
    fn attack_pays(&self, asg: &SetAssignment, targets: &[Address]) -> bool {
        let mut honest = 1.0;
        let mut attacked = 1.0;
        for (k, a) in asg.aggregators.iter().enumerate() {
            let m = self.miss(k + 2);
            honest *= m;
            if !targets.contains(a) {
                attacked *= m;
            }
        }
        let r = &self.rewards_t3;
        self.penalty as f64 * (attacked - honest) >= *r
    }

    /// Each selected prover's behaviour this slot, and whether the slot is attacked.
    fn actors(&mut self, asg: &SetAssignment) -> (Vec<Actor>, bool) {
        let worst_targets: Option<Vec<Address>> = match self.strategy {
            AttackStrategy::WorstCase if self.budget > 0 => {
                // Targeted liveness (paper Rem. 2.1): having seen the assignment, corrupt
                // the designated aggregators of T3, T4 and T5 in that order, then other
                // selected provers, and withhold.
                let mut t: Vec<Address> = Vec::with_capacity(self.budget);
                for p in asg.aggregators.iter().chain(&asg.selected) {
                    if t.len() >= self.budget {
                        break;
                    }
                    if !t.contains(p) {
                        t.push(*p);
                    }
                }
                self.attack_pays(asg, &t).then_some(t)
            }
            _ => None,
        };
        let attacked = worst_targets.is_some();
        let actors = asg
            .selected
            .iter()
            .map(|p| {
                let corrupt = match (&worst_targets, self.strategy) {
                    (Some(t), _) => t.contains(p).then_some(AttackStrategy::Withhold),
                    (None, AttackStrategy::WorstCase | AttackStrategy::Honest) => None,
                    (None, s) => self.statically_corrupted.contains_key(p).then_some(s),
                };
                match corrupt {
                    Some(s) => Actor::Corrupt(s),
                    None => self.honest(),
                }
            })
            .collect();
        let attacked = attacked
            || (!matches!(
                self.strategy,
                AttackStrategy::Honest | AttackStrategy::WorstCase
            ) && asg
                .selected
                .iter()
                .any(|p| self.statically_corrupted.contains_key(p)));
        (actors, attacked)
    }

    /// Runs slot `slot` through the engine.
    ///
    /// # Errors
    /// [`SimError::Engine`] if the engine refuses a call (a bug of this driver).
    pub(crate) fn step(&mut self, slot: u64) -> Result<SlotSample, SimError> {
        if self.horizon > 0 && self.age == self.horizon {
            // A new engine run from genesis (a fresh prover set), with its own RANDAO.
            let mut p = self.params.clone();
            p.seed ^= self.runs.wrapping_mul(0xA076_1D64_78BD_642F);
            let mut e =
                Engine::new(p, &self.genesis).map_err(|e| SimError::Engine(e.to_string()))?;
            e.drain_events();
            self.engine = e;
            self.age = 0;
            self.runs += 1;
        }
        self.age += 1;
        let n = self.engine.params().num_partial_proofs;
        let input = SlotInput {
            slot,
            reveal: Bytes::copy_from_slice(&self.rng.next_u64().to_be_bytes()),
            roots: vec![(0..=n).map(|i| root(slot, i)).collect()],
        };
        if let Err(e) = self.engine.begin_slot(input) {
            self.engine.drain_events();
            return match e {
                // Too few provers left to select R distinct ones: no proof can be
                // produced, so the slot is a liveness fault with no payments.
                crate::protocol::EngineError::Selection(_) => {
                    self.exhausted += 1;
                    Ok(SlotSample {
                        loss: self.penalty as f64,
                        fault: true,
                        ..SlotSample::default()
                    })
                }
                e => Err(SimError::Engine(e.to_string())),
            };
        }
        self.engine.drain_events();
        let proposer = self.engine.current_proposer().expect("slot begun");
        let state = self.engine.set_state(0).expect("set 0");
        let asg = state.assignment.clone();
        let roots = state.roots.clone();
        let (actors, attacked) = self.actors(&asg);
        let actor_of: HashMap<Address, Actor> = asg
            .selected
            .iter()
            .copied()
            .zip(actors.iter().copied())
            .collect();

        // Messages by the phase (0-based) whose block includes them.
        let mut blocks: [Vec<Included>; 5] = Default::default();
        for (p, actor) in asg.selected.iter().zip(&actors) {
            let sbs = &asg.assignments[p];
            let commit = || {
                let claims: Vec<(u32, B256, B256)> = sbs
                    .iter()
                    .map(|&b| (b, roots[b as usize], roots[b as usize + 1]))
                    .collect();
                Message::Commit(Commitment {
                    slot,
                    set: 0,
                    hash: commitment_hash(*p, slot, 0, &claims),
                })
            };
            let partials = || {
                Message::Partials(
                    sbs.iter()
                        .map(|&b| PartialProof {
                            slot,
                            set: 0,
                            sub_block: b,
                            root_in: roots[b as usize],
                            root_out: roots[b as usize + 1],
                            proof: proof_bytes(*p, slot, b),
                        })
                        .collect(),
                )
            };
            // (commit phase, partials phase, partials valid)
            let plan: (Option<usize>, Option<usize>, bool) = match *actor {
                Actor::Honest { fails, latency } => (
                    Some(0),
                    if fails {
                        None
                    } else {
                        self.arrival(0, latency).map(|i| i.max(1))
                    },
                    true,
                ),
                Actor::Corrupt(AttackStrategy::Withhold) => (Some(0), None, true),
                Actor::Corrupt(AttackStrategy::Silent) => (None, None, true),
                Actor::Corrupt(AttackStrategy::Late) => (Some(1), Some(2), true),
                Actor::Corrupt(AttackStrategy::InvalidProof) => (Some(0), Some(1), false),
                Actor::Corrupt(AttackStrategy::Honest | AttackStrategy::WorstCase) => {
                    unreachable!("resolved to honest actors")
                }
            };
            if let Some(i) = plan.0 {
                blocks[i].push(included(*p, commit(), true));
            }
            if let Some(i) = plan.1
                && !sbs.is_empty()
            {
                blocks[i].push(included(*p, partials(), plan.2));
            }
        }

        for (i, phase) in Phase::ALL.into_iter().enumerate() {
            if self.engine.slot_done() {
                break;
            }
            if i >= 2 {
                self.aggregate(slot, i, &asg, &roots, &actor_of, &mut blocks);
            }
            let block = PhaseBlock {
                slot,
                phase,
                proposer,
                included: std::mem::take(&mut blocks[i]),
            };
            self.engine
                .apply_block(&block)
                .map_err(|e| SimError::Engine(e.to_string()))?;
        }
        let mut sample = SlotSample {
            attacked,
            ..SlotSample::default()
        };
        for e in self.engine.drain_events() {
            match e {
                Event::Settled(s) => {
                    let taken: u64 = s
                        .entries
                        .iter()
                        .filter(|e| matches!(e.kind, EntryKind::Penalty | EntryKind::Slash))
                        .map(|e| e.applied)
                        .sum();
                    let insurance = if self.insured { taken } else { 0 };
                    sample.fault = s.outcome == Outcome::LivenessFault;
                    sample.payments = s.payments as f64;
                    sample.slashed = taken as f64;
                    sample.insurance = insurance as f64;
                    sample.loss = s.loss as f64 - insurance as f64;
                }
                Event::Ejected { .. } => self.ejected += 1,
                _ => {}
            }
        }
        Ok(sample)
    }

    /// The designated aggregator of phase `i` (0-based, 2..=4) starts now: queue its
    /// aggregation into the block of the phase in which it ends.
    fn aggregate(
        &mut self,
        slot: u64,
        i: usize,
        asg: &SetAssignment,
        roots: &[B256],
        actor_of: &HashMap<Address, Actor>,
        blocks: &mut [Vec<Included>; 5],
    ) {
        let who = asg.aggregators[i - 2];
        let (arrive, valid) = match actor_of[&who] {
            Actor::Honest { fails: true, .. } => return,
            Actor::Honest { .. } => (None, true),
            Actor::Corrupt(AttackStrategy::Late) => (Some(i + 1), true),
            Actor::Corrupt(AttackStrategy::InvalidProof) => (Some(i), false),
            Actor::Corrupt(_) => return,
        };
        let accepted = self
            .engine
            .set_state(0)
            .map(|s| s.accepted_partials())
            .unwrap_or_default();
        let n = roots.len() - 1;
        let mut reused = Vec::with_capacity(n);
        let mut own = Vec::new();
        for sb in 0..n as u32 {
            let pick = |mine: bool| -> Option<PartialRef> {
                accepted
                    .iter()
                    .map(|(r, _, _)| *r)
                    .find(|r| r.sub_block == sb && (r.prover == who) == mine)
            };
            if let Some(r) = pick(false).or_else(|| pick(true)) {
                reused.push(r);
            } else {
                own.push(PartialProof {
                    slot,
                    set: 0,
                    sub_block: sb,
                    root_in: roots[sb as usize],
                    root_out: roots[sb as usize + 1],
                    proof: proof_bytes(who, slot, sb),
                });
            }
        }
        let arrive = match arrive {
            Some(a) => Some(a),
            None => {
                // The link proof and each inline partial: one proving-time draw each.
                let mut t = 0.0;
                for _ in 0..=own.len() {
                    t += self.latency.sample(&mut self.rng);
                }
                self.arrival(i, t)
            }
        };
        let Some(arrive) = arrive.filter(|a| *a < 5) else {
            return;
        };
        // One transaction per prover per phase: the same prover may already have an
        // aggregation in that block (a late one of an earlier phase).
        if blocks[arrive].iter().any(|m| m.from == who) {
            return;
        }
        let msg = Message::Aggregate(Aggregation {
            slot,
            set: 0,
            bloom: bloom_hash(&reused),
            reused,
            own,
            link_proof: proof_bytes(who, slot, u32::MAX),
        });
        blocks[arrive].push(included(who, msg, valid));
    }
}
