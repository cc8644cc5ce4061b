//! `dpgnet sim`: a fast Monte Carlo simulator of the mechanisms, with modelled proofs.
//!
//! The same pure engine (`crate::protocol`) and the same mechanisms
//! (`crate::mechanism::rules`) as the devnet, but no proof is computed: a prover's
//! proving time is a log-normal draw and its work fails with a fixed rate
//! ([`model::ProofModel`], the devnet YAML's `sim:` section or flags). Every output says
//! "simulated". Issue 5; the loss is the paper's (`adversarial-procurement-paper.txt`
//! Def. 2.1, Def. 2.2, with stake Cor. 3.2 and Rem. 3.9):
//!
//! ```text
//! loss of a slot = payments + P × [liveness fault] − slashes paid to the protocol
//! ```
//!
//! in reward units. For `spec` the payments, penalties, slashes and faults are the
//! engine's own [`crate::protocol::Settlement`]s; penalties and slashes count as
//! insurance (reduce the loss) only when the devnet's `slashed_to` is `protocol` or
//! `proposer` (the paper's insurance reading), not when they are burned. For the
//! other kinds, `Payout::slashes` are always paid to the protocol.
//!
//! **Monte Carlo.** The slots are split over `replicas` independent replicas (each its
//! own engine from genesis, its own random sub-stream of `--seed`), run on up to
//! `threads` OS threads; results are combined in replica order, so a seed gives the same
//! numbers whatever the thread count. Means come with 95% confidence intervals from
//! batch means ([`stats`]). `docs/sim.md` has the whole model.

pub mod model;
pub mod rng;
mod rules_driver;
mod spec_driver;
pub mod stats;

use std::collections::BTreeMap;
use std::io::Write;
use std::path::PathBuf;
use std::sync::Mutex;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Instant;

use clap::Args;
use serde::Serialize;

use crate::cli::Failure;
use crate::config::{ConfigError, Devnet, Role};
use crate::mechanism::analysis::{self, ProcurementParams};
use crate::mechanism::rules::{self, MechanismConfig, MechanismKind};
use model::ProofModel;
use rng::SimRng;
use stats::{Batch, Estimate};

/// The label on every simulated number, line, table and plot.
pub const LABEL: &str = "simulated";

/// Batches per run (spread over the replicas) for the confidence intervals.
pub const TARGET_BATCHES: u64 = 64;

/// Default number of replicas: fixed, so results do not depend on the machine.
pub const DEFAULT_REPLICAS: u64 = 8;

/// The largest liveness penalty accepted, reward units (sums of payments and penalties
/// stay far from `u64` overflow).
pub const MAX_PENALTY: u64 = 1_000_000_000_000_000;

/// Default engine run length for `spec`, slots (see [`SimSetup::horizon`]): long
/// enough for reputation to build up, short enough that the stake a prover loses to
/// penalties while repeatedly corrupted (≈ 6 reward units per attacked selection in the
/// default devnet) does not eject it.
pub const DEFAULT_HORIZON: u64 = 100;

/// Why a simulation could not run. Display: one sentence.
#[derive(Debug, thiserror::Error)]
pub enum SimError {
    /// Impossible arguments (CLI exit code 2).
    #[error("{0}")]
    Usage(String),
    /// The devnet file (exit code 2).
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// The engine refused a call: a bug of the simulator (exit code 3).
    #[error("the engine refused a simulated slot: {0}")]
    Engine(String),
    /// Writing an output failed (exit code 3).
    #[error("{0}")]
    Io(String),
}

impl From<SimError> for Failure {
    fn from(e: SimError) -> Self {
        match e {
            SimError::Usage(s) => Failure::Usage(s),
            SimError::Config(c) => Failure::Config(c),
            e @ (SimError::Engine(_) | SimError::Io(_)) => Failure::Runtime(anyhow::anyhow!(e)),
        }
    }
}

/// What the corrupted provers do (`--strategy`). Names follow the devnet's adversary
/// (`node/adversary.rs`); `worst_case` is the paper's attacker (Rem. 2.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, clap::ValueEnum)]
#[serde(rename_all = "snake_case")]
#[value(rename_all = "snake_case")]
pub enum AttackStrategy {
    /// Corrupted provers behave honestly (a baseline).
    Honest,
    /// Commit but never prove (spec); never deliver (other kinds).
    Withhold,
    /// Send nothing at all.
    Silent,
    /// Every message one phase late (spec); past the deadline (other kinds).
    Late,
    /// Proofs that do not verify (slashed by the spec engine).
    InvalidProof,
    /// The paper's one-slot attacker: sees the slot's selection, corrupts up to `f`
    /// provers where it hurts most and withholds when that costs the protocol more.
    WorstCase,
}

impl AttackStrategy {
    /// The CLI spelling.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Honest => "honest",
            Self::Withhold => "withhold",
            Self::Silent => "silent",
            Self::Late => "late",
            Self::InvalidProof => "invalid_proof",
            Self::WorstCase => "worst_case",
        }
    }
}

/// Which mechanism a simulation runs.
#[derive(Debug, Clone, PartialEq)]
pub enum SimMechanism {
    /// The spec's T1–T5 table, run by the real engine.
    Spec,
    /// A rule of `rules.rs` (never `MechanismKind::Spec`), with its parameters.
    Rules(MechanismConfig),
}

impl SimMechanism {
    /// A mechanism by name with `key=value` parameters. `spec` is the engine (it takes
    /// no parameters: the devnet YAML sets the engine's).
    ///
    /// # Errors
    /// Unknown name, or parameters for `spec`.
    pub fn parse(name: &str, params: &[(String, serde_yaml::Value)]) -> Result<Self, SimError> {
        let kind: MechanismKind = name.parse().map_err(SimError::Usage)?;
        if kind == MechanismKind::Spec {
            if let Some((k, _)) = params.first() {
                return Err(SimError::Usage(format!(
                    "`spec` runs the engine with the devnet's own parameters and takes no \
                     --param (got `{k}`); set them in the devnet YAML"
                )));
            }
            return Ok(Self::Spec);
        }
        Ok(Self::Rules(MechanismConfig {
            kind,
            params: params.iter().cloned().collect::<BTreeMap<_, _>>(),
        }))
    }

    /// The YAML name.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match self {
            Self::Spec => "spec",
            Self::Rules(c) => c.kind.name(),
        }
    }
}

/// Everything a simulation needs besides the mechanism.
#[derive(Debug, Clone)]
pub struct SimSetup {
    /// The devnet (network parameters, rewards, stakes, phase windows).
    pub devnet: Devnet,
    /// The proof model.
    pub model: ProofModel,
    /// `n`: provers.
    pub provers: usize,
    /// Sub-blocks per block for `spec` (the engine's `num_partial_proofs`).
    pub sub_blocks: u32,
    /// Fraction of the provers the attacker may corrupt, in `[0, 1]`: `f = ⌊a·n⌋`.
    pub adversary_fraction: f64,
    /// What the corrupted provers do.
    pub strategy: AttackStrategy,
    /// `P`: the loss of a liveness fault, reward units.
    pub penalty: u64,
    /// The seed of every random draw.
    pub seed: u64,
    /// Slots to simulate (over all replicas).
    pub slots: u64,
    /// Independent replicas.
    pub replicas: u64,
    /// `spec`: slots per engine run; each replica restarts its engine from genesis
    /// every `horizon` slots (0: never).
    pub horizon: u64,
    /// OS threads (results do not depend on it).
    pub threads: usize,
}

impl SimSetup {
    /// `f = ⌊a·n⌋` (products within 1e-9 of an integer count as it).
    #[must_use]
    pub fn corrupted(&self) -> usize {
        let x = self.adversary_fraction * self.provers as f64;
        ((x + 1e-9).floor() as usize).min(self.provers)
    }

    /// The paper's parameters of this setup in proof-cost units (`None` when `f = n`,
    /// outside the paper's model).
    #[must_use]
    pub fn procurement(&self, stake: f64) -> Option<ProcurementParams> {
        let c = self.model.proof_cost as f64;
        let p = ProcurementParams {
            provers: self.provers as u64,
            corrupted: self.corrupted() as u64,
            penalty: self.penalty as f64 / c,
            stake: stake / c,
        };
        p.validate().ok().map(|()| p)
    }

    /// Checks the setup.
    ///
    /// # Errors
    /// [`SimError::Usage`] naming the bad value.
    pub fn validate(&self) -> Result<(), SimError> {
        let usage = |s: String| Err(SimError::Usage(s));
        if !(0.0..=1.0).contains(&self.adversary_fraction) {
            return usage(format!(
                "--adversary-fraction must be between 0 and 1 (got {})",
                self.adversary_fraction
            ));
        }
        if self.provers == 0 {
            return usage("--provers must be at least 1".into());
        }
        if self.slots == 0 {
            return usage("--slots must be at least 1".into());
        }
        if self.replicas == 0 {
            return usage("--replicas must be at least 1".into());
        }
        if self.penalty > MAX_PENALTY {
            return usage(format!(
                "--penalty must be at most {MAX_PENALTY} reward units (got {})",
                self.penalty
            ));
        }
        if self.sub_blocks == 0 {
            return usage("--sub-blocks must be at least 1".into());
        }
        self.model.validate().map_err(SimError::Usage)
    }
}

/// One simulated slot's numbers (reward units; `fault` and `attacked` as 0/1).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct SlotSample {
    /// payments + P·fault − insurance.
    pub loss: f64,
    /// A liveness fault (no full proof / no delivered proof).
    pub fault: bool,
    /// Rewards paid (minted).
    pub payments: f64,
    /// Penalties and slashes taken from stake.
    pub slashed: f64,
    /// The part of `slashed` paid to the protocol (the paper's insurance).
    pub insurance: f64,
    /// The attacker acted against the protocol in this slot.
    pub attacked: bool,
}

impl SlotSample {
    fn values(&self) -> [f64; QUANTITIES] {
        [
            self.loss,
            f64::from(u8::from(self.fault)),
            self.payments,
            self.slashed,
            self.insurance,
            f64::from(u8::from(self.attacked)),
        ]
    }
}

const QUANTITIES: usize = 6;

/// The result of one simulation. Units: reward units unless the field says otherwise.
#[derive(Debug, Clone, Serialize)]
pub struct SimReport {
    /// Always "simulated".
    pub label: &'static str,
    /// The mechanism's name.
    pub mechanism: String,
    /// Its effective parameters.
    pub mechanism_params: Vec<(String, String)>,
    /// The devnet's name.
    pub devnet: String,
    /// `n`.
    pub provers: usize,
    /// `f`, the attacker's budget.
    pub corrupted: usize,
    /// `f / n` as asked.
    pub adversary_fraction: f64,
    /// The attack strategy.
    pub strategy: AttackStrategy,
    /// `P`, reward units.
    pub penalty: u64,
    /// The seed.
    pub seed: u64,
    /// Slots simulated.
    pub slots: u64,
    /// Replicas.
    pub replicas: u64,
    /// `spec`: slots per engine run (0: one run per replica).
    pub horizon: u64,
    /// The proof model.
    pub model: ProofModel,
    /// Mean loss per slot (payments + P × fault − insurance).
    pub loss: Estimate,
    /// Mean loss per slot in proof costs (`loss / proof_cost`).
    pub loss_in_proof_costs: Estimate,
    /// Fraction of slots with a liveness fault.
    pub liveness_fault_rate: Estimate,
    /// Mean payments per slot.
    pub payments: Estimate,
    /// Mean penalties + slashes per slot.
    pub slashed: Estimate,
    /// Mean insurance (slashes paid to the protocol) per slot.
    pub insurance: Estimate,
    /// Fraction of slots in which the attacker acted.
    pub attacked: Estimate,
    /// What the paper's formula (`analysis.rs`) gives for this mechanism at its actual
    /// parameters, reward units: `designated`, `lottery`, `pay_deliverers` under
    /// `worst_case` only, else `None`.
    pub analysis_loss: Option<f64>,
    /// `spec`: provers ejected (stake below `min_stake`), over all replicas.
    pub ejected: u64,
    /// `spec`: slots that could not start (too few provers left), counted as faults.
    pub exhausted_slots: u64,
    /// Wall time, seconds.
    pub wall_s: f64,
    /// Threads used.
    pub threads: usize,
    /// Slots per second of wall time.
    pub slots_per_s: f64,
    /// Prover-slot steps per second (`provers × slots / wall_s`).
    pub prover_slot_steps_per_s: f64,
}

/// The `rules.rs` config the simulator runs for `cfg`: `proof_cost` from the model
/// unless given, and for `designated`, `lottery` and `pay_deliverers`, the committee
/// size `m` and mixing probability `q` of the paper's optimum at this setup
/// (`analysis::optimal_*`, the numbers `dpgnet analyze designated` prints) unless one
/// is given; for `designated` with only `m` given, `q` is that committee's equilibrium
/// (`analysis::designated_q_for_committee`). A lone `q` keeps `rules.rs`'s default `m`. Returns the config and the paper's predicted worst-case loss at the
/// effective `(m, q)`, reward units (`None` when `f = n` or for other kinds).
///
/// # Errors
/// [`SimError::Usage`] for parameters `rules::build_for` refuses.
pub fn resolve_config(
    cfg: &MechanismConfig,
    setup: &SimSetup,
) -> Result<(MechanismConfig, Option<f64>), SimError> {
    let mut cfg = cfg.clone();
    let kind = cfg.kind;
    let c = setup.model.proof_cost;
    let paper = matches!(
        kind,
        MechanismKind::Designated | MechanismKind::Lottery | MechanismKind::PayDeliverers
    );
    if paper {
        cfg.params
            .entry("proof_cost".into())
            .or_insert_with(|| serde_yaml::Value::from(c));
    }
    let c = cfg
        .params
        .get("proof_cost")
        .and_then(serde_yaml::Value::as_f64)
        .unwrap_or(c as f64);
    let stake = match kind {
        MechanismKind::Designated => cfg
            .params
            .get("stake")
            .and_then(serde_yaml::Value::as_f64)
            .unwrap_or(0.0),
        _ => 0.0,
    };
    let mut setup_c = setup.clone();
    setup_c.model.proof_cost = c.max(1.0) as u64;
    let pp = setup_c.procurement(stake);
    let (has_m, has_q) = (cfg.params.contains_key("m"), cfg.params.contains_key("q"));
    if let (MechanismKind::Designated, Some(pp), true, false) = (kind, pp, has_m, has_q) {
        // A fixed committee: its equilibrium q (both branches equal, Lem. 3.2).
        if let Some(m) = cfg.params.get("m").and_then(serde_yaml::Value::as_u64) {
            let q = analysis::designated_q_for_committee(&pp, m);
            cfg.params.insert("q".into(), serde_yaml::Value::from(q));
        }
    }
    if let (true, Some(pp), false, false) = (paper, pp, has_m, has_q) {
        let (m, q) = match kind {
            MechanismKind::Designated => {
                let o = analysis::optimal_designated(&pp)
                    .map_err(|e| SimError::Usage(e.to_string()))?;
                (Some(o.committee_size), o.mixing_probability)
            }
            MechanismKind::Lottery => {
                let o =
                    analysis::optimal_lottery(&pp).map_err(|e| SimError::Usage(e.to_string()))?;
                (Some(o.committee_size), o.mixing_probability)
            }
            _ => {
                let o = analysis::optimal_pay_deliverers(&pp)
                    .map_err(|e| SimError::Usage(e.to_string()))?;
                (None, o.mixing_probability)
            }
        };
        if let Some(m) = m {
            cfg.params
                .entry("m".into())
                .or_insert_with(|| serde_yaml::Value::from(m));
        }
        cfg.params
            .entry("q".into())
            .or_insert_with(|| serde_yaml::Value::from(q));
    }
    let mech = rules::build_for(&cfg, setup.provers).map_err(SimError::Usage)?;
    let predicted = match (pp, setup.strategy) {
        (Some(pp), AttackStrategy::WorstCase) => {
            let ps = mech.params();
            let num = |k: &str| {
                ps.iter()
                    .find(|(a, _)| a == k)
                    .and_then(|(_, v)| v.parse::<f64>().ok())
            };
            let q = num("q").unwrap_or(0.0);
            match kind {
                MechanismKind::Designated => {
                    let m = num("m").unwrap_or(0.0) as u64;
                    let correlated = ps.iter().any(|(k, v)| k == "correlated" && v == "true");
                    let b = if correlated {
                        stake * (m + 1) as f64 / c
                    } else {
                        stake / c
                    };
                    let pp = ProcurementParams { stake: b, ..pp };
                    Some(analysis::designated_loss(&pp, m, q) * c)
                }
                MechanismKind::Lottery => {
                    let m = num("m").unwrap_or(0.0) as u64;
                    Some(analysis::lottery_loss(&pp, m, q) * c)
                }
                MechanismKind::PayDeliverers if num("m").is_none() => {
                    Some(analysis::pay_deliverers_loss(&pp, q) * c)
                }
                _ => None,
            }
        }
        _ => None,
    };
    Ok((cfg, predicted))
}

/// The output of one replica.
struct ReplicaOut {
    batches: Vec<Batch>,
    ejected: u64,
    exhausted: u64,
}

/// A replica's simulation state.
enum World {
    Spec(Box<spec_driver::SpecWorld>),
    Rules(Box<rules_driver::RulesWorld>),
}

impl World {
    fn step(&mut self, slot: u64) -> Result<SlotSample, SimError> {
        match self {
            World::Spec(w) => w.step(slot),
            World::Rules(w) => w.step(slot),
        }
    }
}

/// Runs one simulation.
///
/// # Errors
/// [`SimError::Usage`] for a bad setup or mechanism parameters; [`SimError::Engine`]
/// if the engine refuses a simulated slot.
pub fn run(setup: &SimSetup, mechanism: &SimMechanism) -> Result<SimReport, SimError> {
    setup.validate()?;
    let f = setup.corrupted();
    let n = setup.provers;
    let prover_stake = setup
        .devnet
        .participants
        .iter()
        .find(|p| p.role == Role::Prover)
        .map_or(
            crate::config::Participant::default_stake(Role::Prover),
            |p| p.stake,
        );
    let (resolved, predicted) = match mechanism {
        SimMechanism::Spec => {
            if setup.devnet.network_params.num_sub_block_sets != 1 {
                return Err(SimError::Usage(
                    "dpgnet sim runs one sub-block set (network_params.num_sub_block_sets: 1)"
                        .into(),
                ));
            }
            let r = setup.devnet.network_params.redundancy_factor as usize;
            let selected = (n / 2)
                .min(usize::try_from(setup.devnet.rewards.provers_per_proof).unwrap_or(usize::MAX));
            if selected < r.max(1) {
                return Err(SimError::Usage(format!(
                    "spec needs at least {} provers: min(PROVERS_PER_PROOF, provers / 2) must \
                     reach the redundancy factor {r} (got --provers {n})",
                    2 * r.max(1)
                )));
            }
            (None, None)
        }
        SimMechanism::Rules(cfg) => {
            if cfg.kind == MechanismKind::Spec {
                return Err(SimError::Usage(
                    "the spec mechanism is simulated by the engine: use SimMechanism::Spec".into(),
                ));
            }
            let (c, p) = resolve_config(cfg, setup)?;
            (Some(c), p)
        }
    };
    let mech_params = match &resolved {
        Some(c) => rules::build(c).map_err(SimError::Usage)?.params(),
        None => vec![
            ("num_partial_proofs".into(), setup.sub_blocks.to_string()),
            (
                "redundancy_factor".into(),
                setup.devnet.network_params.redundancy_factor.to_string(),
            ),
            (
                "slashed_to".into(),
                format!("{:?}", setup.devnet.network_params.slashed_to).to_lowercase(),
            ),
        ],
    };
    let deadline = setup
        .model
        .deadline_s
        .unwrap_or_else(|| setup.devnet.network_params.phase_seconds.total());

    let sizes = stats::split(setup.slots, setup.replicas);
    let per_replica_batches = TARGET_BATCHES.div_ceil(setup.replicas).max(1);
    let make_world = |r: usize| -> Result<World, SimError> {
        let rng = SimRng::stream(setup.seed, r as u64);
        match &resolved {
            None => Ok(World::Spec(Box::new(spec_driver::SpecWorld::new(
                &setup.devnet,
                &setup.model,
                n,
                setup.sub_blocks,
                f,
                setup.strategy,
                setup.penalty,
                setup.seed ^ (r as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15),
                setup.horizon,
                rng,
            )?))),
            Some(cfg) => {
                let mech = rules::build_for(cfg, n).map_err(SimError::Usage)?;
                let provers =
                    rules_driver::provers(cfg.kind, n, prover_stake, setup.model.proof_cost);
                Ok(World::Rules(Box::new(rules_driver::RulesWorld::new(
                    cfg.kind,
                    mech,
                    provers,
                    f,
                    setup.strategy,
                    &setup.model,
                    deadline,
                    setup.penalty,
                    rng,
                ))))
            }
        }
    };
    let run_replica = |r: usize| -> Result<ReplicaOut, SimError> {
        let mut world = make_world(r)?;
        let first: u64 = sizes[..r].iter().sum::<u64>() + 1;
        let mut batches = Vec::new();
        let mut slot = first;
        for size in stats::split(sizes[r], per_replica_batches) {
            if size == 0 {
                continue;
            }
            let mut b = Batch::new(QUANTITIES);
            for _ in 0..size {
                b.add(&world.step(slot)?.values());
                slot += 1;
            }
            batches.push(b);
        }
        let (ejected, exhausted) = match &world {
            World::Spec(w) => (w.ejected, w.exhausted),
            World::Rules(_) => (0, 0),
        };
        Ok(ReplicaOut {
            batches,
            ejected,
            exhausted,
        })
    };

    let started = Instant::now();
    let replicas = setup.replicas as usize;
    let threads = setup.threads.clamp(1, replicas);
    let results: Mutex<Vec<Option<Result<ReplicaOut, SimError>>>> =
        Mutex::new((0..replicas).map(|_| None).collect());
    let next = AtomicUsize::new(0);
    std::thread::scope(|s| {
        for _ in 0..threads {
            s.spawn(|| {
                loop {
                    let r = next.fetch_add(1, Ordering::Relaxed);
                    if r >= replicas {
                        break;
                    }
                    let out = run_replica(r);
                    results.lock().expect("results lock")[r] = Some(out);
                }
            });
        }
    });
    let wall_s = started.elapsed().as_secs_f64();
    let mut batches = Vec::new();
    let (mut ejected, mut exhausted) = (0, 0);
    for out in results.into_inner().expect("results lock") {
        let out = out.expect("every replica ran")?;
        batches.extend(out.batches);
        ejected += out.ejected;
        exhausted += out.exhausted;
    }
    let est = |q: usize| stats::estimate(&batches, q);
    // Rates live in [0, 1]: clip the normal-approximation interval to it.
    let rate = |e: Estimate| Estimate {
        ci95_low: e.ci95_low.max(0.0),
        ci95_high: e.ci95_high.min(1.0),
        ..e
    };
    let loss = est(0);
    let c = setup.model.proof_cost as f64;
    let per_cost = Estimate {
        mean: loss.mean / c,
        std_error: loss.std_error / c,
        ci95_low: loss.ci95_low / c,
        ci95_high: loss.ci95_high / c,
        batches: loss.batches,
    };
    Ok(SimReport {
        label: LABEL,
        mechanism: mechanism.name().to_owned(),
        mechanism_params: mech_params,
        devnet: setup.devnet.name.clone(),
        provers: n,
        corrupted: f,
        adversary_fraction: setup.adversary_fraction,
        strategy: setup.strategy,
        penalty: setup.penalty,
        seed: setup.seed,
        slots: setup.slots,
        replicas: setup.replicas,
        horizon: setup.horizon,
        model: setup.model,
        loss,
        loss_in_proof_costs: per_cost,
        liveness_fault_rate: rate(est(1)),
        payments: est(2),
        slashed: est(3),
        insurance: est(4),
        attacked: rate(est(5)),
        analysis_loss: predicted,
        ejected,
        exhausted_slots: exhausted,
        wall_s,
        threads,
        slots_per_s: setup.slots as f64 / wall_s.max(1e-9),
        prover_slot_steps_per_s: (setup.slots as f64 * n as f64) / wall_s.max(1e-9),
    })
}

// ---------------------------------------------------------------------------
// The command
// ---------------------------------------------------------------------------

/// `dpgnet sim` help epilogue.
pub const SIM_AFTER_HELP: &str = "\
Every number is simulated: proofs are modelled (log-normal proving time, failure rate),
not computed. Loss per slot = payments + P x [liveness fault] - slashes paid to the
protocol, in reward units (the paper's Def. 2.1/2.2 with stake as insurance, Rem. 3.9).

The proof model comes from the devnet file's optional `sim:` section (latency_mean_s,
latency_sd_s, failure_rate, deadline_s, proof_cost), then from the flags. For
designated, lottery and pay_deliverers, m and q default to the paper's optimum at
this n, f, P (what `dpgnet analyze designated` prints). docs/sim.md has the model.

Examples:
  dpgnet sim --provers 200 --slots 10000
  dpgnet sim --mechanism designated --provers 100 --adversary-fraction 0.33 --penalty 1000000
  dpgnet sim --mechanism designated --param stake=500 --adversary-fraction 0.5 --json
  dpgnet sim --compare spec,designated,lottery,pay_deliverers --adversary-fraction 0.25 \\
             --slots 4000 --out sim-out   (table + loss_vs_penalty.svg)

Exit codes: 0 ok, 2 bad arguments or devnet file, 3 runtime error.";

/// `dpgnet sim` arguments.
#[derive(Debug, Clone, Args)]
pub struct SimArgs {
    /// Devnet definition (YAML) for the network parameters, rewards and stakes, with an
    /// optional `sim:` section for the proof model. Default: devnet/default.yaml if it
    /// exists, else the built-in default devnet.
    #[arg(long, value_name = "FILE")]
    pub devnet: Option<PathBuf>,
    /// Slots to simulate (per mechanism and penalty).
    #[arg(long, value_name = "N", default_value_t = 10_000)]
    pub slots: u64,
    /// Provers `n` (default: the devnet's provers).
    #[arg(long, value_name = "N")]
    pub provers: Option<usize>,
    /// Fraction of the provers the attacker may corrupt, 0..=1 (`f = floor(a n)`).
    #[arg(long, value_name = "A", default_value_t = 0.0)]
    pub adversary_fraction: f64,
    /// What the corrupted provers do.
    #[arg(long, value_enum, value_name = "S", default_value = "worst_case")]
    pub strategy: AttackStrategy,
    /// P, the loss of a liveness fault, reward units (default: the devnet's
    /// network_params.liveness_penalty).
    #[arg(long, value_name = "P")]
    pub penalty: Option<u64>,
    /// Seed of every random draw (default: the devnet's network_params.seed).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// The mechanism: spec (the engine), designated, lottery, pay_deliverers,
    /// capacity_audit, dual_auction, proof_tree. Default: the devnet's `mechanism:`
    /// (kind and parameters; --param adds to or overrides them), else spec.
    #[arg(long, value_name = "KIND")]
    pub mechanism: Option<String>,
    /// A mechanism parameter `key=value` (value in YAML: 3, 0.5, true, [1,2]);
    /// repeatable. With --compare, prefix the kind: `designated:stake=500`.
    #[arg(long = "param", value_name = "KEY=VALUE")]
    pub params: Vec<String>,
    /// Compare mechanisms (comma-separated) on the same seed and attacker over a grid of
    /// penalties: writes a table and a plot of loss against P to --out.
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub compare: Option<Vec<String>>,
    /// The penalty grid of --compare, reward units, comma-separated (default: proof_cost
    /// times 2, 5, 10, 20, 50, 100, 200, 500, 1000).
    #[arg(long, value_name = "LIST", value_delimiter = ',')]
    pub penalties: Option<Vec<u64>>,
    /// Output directory of --compare (created if missing).
    #[arg(long, value_name = "DIR", default_value = "sim-out")]
    pub out: PathBuf,
    /// Sub-blocks per block for spec (default: the devnet's num_partial_proofs).
    #[arg(long, value_name = "N")]
    pub sub_blocks: Option<u32>,
    /// Mean proving time, seconds (overrides sim.latency_mean_s).
    #[arg(long, value_name = "SECONDS")]
    pub latency_mean_s: Option<f64>,
    /// Standard deviation of the proving time, seconds (overrides sim.latency_sd_s).
    #[arg(long, value_name = "SECONDS")]
    pub latency_sd_s: Option<f64>,
    /// Probability that an honest prover's work fails in a slot (overrides
    /// sim.failure_rate).
    #[arg(long, value_name = "RATE")]
    pub failure_rate: Option<f64>,
    /// Reward units per proof, the paper's unit cost (overrides sim.proof_cost).
    #[arg(long, value_name = "UNITS")]
    pub proof_cost: Option<u64>,
    /// Independent replicas (the result depends on it, not on --threads).
    #[arg(long, value_name = "R", default_value_t = DEFAULT_REPLICAS)]
    pub replicas: u64,
    /// spec: restart each replica's engine from genesis every H slots, so that stake
    /// drained by penalties under a sustained attack does not eject the whole prover set
    /// (0: one engine per replica, to study that drain).
    #[arg(long, value_name = "H", default_value_t = DEFAULT_HORIZON)]
    pub horizon: u64,
    /// OS threads (default: the machine's cores).
    #[arg(long, value_name = "T")]
    pub threads: Option<usize>,
    /// Print JSON instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Parses `key=value` (value as YAML) with an optional `kind:` prefix.
///
/// # Errors
/// No `=`, or an empty key.
pub fn parse_param(s: &str) -> Result<(Option<String>, String, serde_yaml::Value), SimError> {
    let Some((lhs, value)) = s.split_once('=') else {
        return Err(SimError::Usage(format!(
            "--param `{s}` must look like key=value (e.g. stake=500)"
        )));
    };
    let (kind, key) = match lhs.split_once(':') {
        Some((k, key)) => (Some(k.trim().to_owned()), key.trim().to_owned()),
        None => (None, lhs.trim().to_owned()),
    };
    if key.is_empty() {
        return Err(SimError::Usage(format!("--param `{s}` has no key")));
    }
    let value = serde_yaml::from_str(value.trim())
        .unwrap_or_else(|_| serde_yaml::Value::from(value.trim()));
    Ok((kind, key, value))
}

/// The parameters of `kind` among `params` (unprefixed ones only when `single`).
///
/// # Errors
/// A malformed `--param`.
pub fn params_for(
    params: &[String],
    kind: &str,
    single: bool,
) -> Result<Vec<(String, serde_yaml::Value)>, SimError> {
    let mut out = Vec::new();
    for p in params {
        let (k, key, value) = parse_param(p)?;
        match k {
            Some(k) if k == kind => out.push((key, value)),
            None if single => out.push((key, value)),
            _ => {}
        }
    }
    Ok(out)
}

/// The setup of `args` (devnet loaded, flags applied), and where the devnet came from.
///
/// # Errors
/// A bad devnet file or flag.
pub fn setup_of(args: &SimArgs) -> Result<(SimSetup, String), SimError> {
    let (devnet, mut model, source) = model::load_devnet(args.devnet.as_deref())?;
    if let Some(x) = args.latency_mean_s {
        model.latency_mean_s = x;
    }
    if let Some(x) = args.latency_sd_s {
        model.latency_sd_s = x;
    }
    if let Some(x) = args.failure_rate {
        model.failure_rate = x;
    }
    if let Some(x) = args.proof_cost {
        model.proof_cost = x;
    }
    let setup = SimSetup {
        provers: args.provers.unwrap_or(devnet.count(Role::Prover) as usize),
        sub_blocks: args
            .sub_blocks
            .unwrap_or(devnet.network_params.num_partial_proofs),
        adversary_fraction: args.adversary_fraction,
        strategy: args.strategy,
        penalty: args
            .penalty
            .unwrap_or(devnet.network_params.liveness_penalty),
        seed: args.seed.unwrap_or(devnet.network_params.seed),
        slots: args.slots,
        replicas: args.replicas,
        horizon: args.horizon,
        threads: args.threads.unwrap_or_else(|| {
            std::thread::available_parallelism().map_or(1, std::num::NonZeroUsize::get)
        }),
        model,
        devnet,
    };
    setup.validate()?;
    Ok((setup, source))
}

/// `dpgnet sim`: one mechanism (table or JSON on stdout) or `--compare`.
///
/// # Errors
/// [`Failure::Usage`] (exit 2) for bad arguments, [`Failure::Config`] for a bad devnet
/// file, [`Failure::Runtime`] (exit 3) otherwise.
pub fn command(args: &SimArgs) -> Result<(), Failure> {
    let (setup, source) = setup_of(args)?;
    eprintln!(
        "dpgnet sim ({LABEL}): devnet {} from {source}, {} provers, f = {}, strategy {}, \
         seed {}, {} slots on {} replicas",
        setup.devnet.name,
        setup.provers,
        setup.corrupted(),
        setup.strategy.name(),
        setup.seed,
        setup.slots,
        setup.replicas
    );
    if let Some(list) = &args.compare {
        let report =
            crate::mechanism::compare::run(&setup, list, &args.params, args.penalties.as_deref())?;
        let written = crate::mechanism::compare::write(&report, &args.out)?;
        let mut out = std::io::stdout().lock();
        if args.json {
            let json =
                serde_json::to_string_pretty(&report).map_err(|e| SimError::Io(e.to_string()))?;
            writeln!(out, "{json}").map_err(|e| SimError::Io(e.to_string()))?;
        } else {
            write!(out, "{}", crate::mechanism::compare::markdown(&report))
                .map_err(|e| SimError::Io(e.to_string()))?;
        }
        for p in written {
            eprintln!("dpgnet sim ({LABEL}): wrote {}", p.display());
        }
        return Ok(());
    }
    let (name, mut params) = match &args.mechanism {
        Some(name) => (name.clone(), Vec::new()),
        None => {
            // The devnet's own `mechanism:` and its parameters.
            let m = crate::config::mechanism_for(&setup.devnet);
            let params = if m.kind == MechanismKind::Spec {
                Vec::new()
            } else {
                m.params.into_iter().collect()
            };
            (m.kind.name().to_owned(), params)
        }
    };
    for (k, v) in params_for(&args.params, &name, true)? {
        params.retain(|(key, _)| *key != k);
        params.push((k, v));
    }
    let mechanism = SimMechanism::parse(&name, &params)?;
    let report = run(&setup, &mechanism)?;
    let mut out = std::io::stdout().lock();
    let text = if args.json {
        serde_json::to_string_pretty(&report).map_err(|e| SimError::Io(e.to_string()))? + "\n"
    } else {
        render(&report)
    };
    out.write_all(text.as_bytes())
        .map_err(|e| SimError::Io(e.to_string()))?;
    Ok(())
}

/// The human table of one report; every line says "simulated".
#[must_use]
pub fn render(r: &SimReport) -> String {
    let mut s = String::new();
    let params: Vec<String> = r
        .mechanism_params
        .iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect();
    s += &format!(
        "{LABEL}: mechanism {} ({})\n",
        r.mechanism,
        params.join(", ")
    );
    s += &format!(
        "{LABEL}: n = {}, f = {} (fraction {}), strategy {}, P = {} reward units, seed {}\n",
        r.provers,
        r.corrupted,
        r.adversary_fraction,
        r.strategy.name(),
        r.penalty,
        r.seed
    );
    s += &format!(
        "{LABEL}: proof model: latency {} ± {} s (log-normal), failure rate {}, proof cost {} \
         reward units\n",
        r.model.latency_mean_s, r.model.latency_sd_s, r.model.failure_rate, r.model.proof_cost
    );
    s += &format!("{LABEL}: quantity (per slot)          | mean ± 95% CI\n");
    let row = |name: &str, e: &Estimate, d: usize| {
        format!(
            "{LABEL}: {name:<30} | {} [{:.d$}, {:.d$}]\n",
            e.display(d),
            e.ci95_low,
            e.ci95_high,
            d = d
        )
    };
    s += &row("loss (reward units)", &r.loss, 3);
    s += &row("loss (proof costs)", &r.loss_in_proof_costs, 4);
    s += &row("liveness fault rate", &r.liveness_fault_rate, 5);
    s += &row("payments (reward units)", &r.payments, 3);
    s += &row("penalties + slashes", &r.slashed, 3);
    s += &row("of which insurance", &r.insurance, 3);
    s += &row("slots attacked", &r.attacked, 4);
    if let Some(a) = r.analysis_loss {
        let inside = (a - r.loss.mean).abs() <= r.loss.half_width();
        s += &format!(
            "{LABEL}: the paper's formula (analysis.rs) at these parameters: {a:.3} reward units \
             ({}the 95% CI)\n",
            if inside { "inside " } else { "outside " }
        );
    }
    if r.mechanism == "spec" {
        s += &format!(
            "{LABEL}: provers ejected {}, slots without enough provers {}\n",
            r.ejected, r.exhausted_slots
        );
    }
    s += &format!(
        "{LABEL}: {} slots in {:.3} s on {} threads: {:.0} slots/s, {:.0} prover-slot steps/s\n",
        r.slots, r.wall_s, r.threads, r.slots_per_s, r.prover_slot_steps_per_s
    );
    s
}
