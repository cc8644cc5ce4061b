//! The devnet definition: the YAML file (shaped like Kurtosis' `network_params.yaml`) that
//! says which nodes run, how long each phase lasts and what every reward and penalty is;
//! loading it, and refusing impossible parameters with the line and the reason.
//!
//! Reference of every key: `docs/devnet-yaml.md`; the annotated default: `devnet/default.yaml`.
//! Parameters marked *not from the spec* are our choices where the spec is silent
//! (DESIGN.md, "Where the spec is silent or inconsistent").

mod locate;
mod rewards;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

pub use rewards::{Rewards, Variable, VariableKind};

use crate::mechanism::rules::{self, MechanismConfig, MechanismKind};

/// The text of `devnet/default.yaml`, compiled in: what [`Devnet::default_devnet`] parses.
pub const DEFAULT_YAML: &str = include_str!("../devnet/default.yaml");

/// Largest `txs_per_sub_block`: the partial-proof circuit is sized for at most this many
/// transactions per sub-block.
pub const MAX_TXS_PER_SUB_BLOCK: u32 = 64;

/// A whole devnet definition: one YAML file.
///
/// Only `participants` is required; every other key has the default documented on its field
/// (the values of `devnet/default.yaml`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Devnet {
    /// The devnet's name, `[a-z0-9-]+`; containers are named `dpgnet-<name>-<role>-<n>`
    /// (DESIGN.md, "Conventions"). Default `devnet`.
    #[serde(default = "default_name")]
    pub name: String,
    /// The nodes to run, grouped by role, in order: prover indices (and which provers the
    /// adversary corrupts) follow this order.
    pub participants: Vec<Participant>,
    /// Timing, workload, selection and ledger parameters.
    #[serde(default)]
    pub network_params: NetworkParams,
    /// The spec's rewards and penalties, keyed by the spec's names.
    #[serde(default)]
    pub rewards: Rewards,
    /// The slot's procurement rule (`mechanism: {kind: …, params: {…}}`): who is asked to
    /// prove and who is paid or slashed. Default `spec`, the `rewards` table above; the other
    /// kinds replace the table (`src/mechanism/rules.rs`, `docs/devnet-yaml.md`).
    #[serde(default, skip_serializing_if = "is_spec")]
    pub mechanism: MechanismConfig,
    /// The simulator's proof model (`sim: {latency_mean_s, latency_sd_s, failure_rate,
    /// …}`), read by `dpgnet sim` (docs/sim.md); the devnet itself ignores it, so one
    /// file serves both.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sim: Option<serde_yaml::Value>,
}

fn is_spec(m: &MechanismConfig) -> bool {
    *m == MechanismConfig::default()
}

fn default_name() -> String {
    "devnet".to_owned()
}

/// A node's role (spec, "Overview"; the adversary from the procurement paper's threat model).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Role {
    /// Takes part in consensus: proposes, includes submissions, verifies and attests.
    Validator,
    /// Stakes separately and generates proofs when selected.
    Prover,
    /// The adversary agent: holds the keys of the provers it corrupts and runs a strategy.
    Adversary,
}

impl Role {
    /// The YAML spelling, also used in container names: `validator`, `prover`, `adversary`.
    #[must_use]
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Validator => "validator",
            Self::Prover => "prover",
            Self::Adversary => "adversary",
        }
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One entry of `participants`: `count` nodes of one role with the same parameters.
///
/// In YAML `stake` defaults by role: 32000 for validators, 1000 for provers, 0 for the
/// adversary (which has no stake of its own: the provers it corrupts keep theirs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(from = "ParticipantYaml")]
pub struct Participant {
    /// The role of these nodes.
    pub role: Role,
    /// How many nodes; at least 1 (exactly 1 for the adversary). Default 1.
    pub count: u32,
    /// Stake of each node, reward units. Validators: weight under stake-weighted proposer
    /// selection; provers: the bond penalties and slashes come out of (DESIGN.md), ejected
    /// below `network_params.min_stake`.
    pub stake: u64,
    /// Provers only: each of these provers also submits a full proof of the whole block in
    /// this phase (a "strong prover", spec T1/T2 "optionally submit a full proof"). Default:
    /// none.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub full_proof: Option<FullProofPhase>,
    /// Adversary only: how many provers it corrupts — the LAST `controls` provers in
    /// participant order. At most the number of provers. Default 0.
    #[serde(default, skip_serializing_if = "is_zero")]
    pub controls: u32,
    /// Adversary only: the strategy it runs, by name (checked by the adversary module, not
    /// here). `honest` behaves honestly. Default: none, which also behaves honestly.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub strategy: Option<String>,
}

fn is_zero(n: &u32) -> bool {
    *n == 0
}

impl Participant {
    /// The stake a participant of this role gets when the YAML does not say, reward units.
    #[must_use]
    pub const fn default_stake(role: Role) -> u64 {
        match role {
            Role::Validator => 32_000,
            Role::Prover => 1_000,
            Role::Adversary => 0,
        }
    }
}

/// The YAML form of a [`Participant`]: the same keys, with `stake` optional so that its
/// default can depend on the role.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ParticipantYaml {
    role: Role,
    #[serde(default = "one")]
    count: u32,
    #[serde(default)]
    stake: Option<u64>,
    #[serde(default)]
    full_proof: Option<FullProofPhase>,
    #[serde(default)]
    controls: u32,
    #[serde(default)]
    strategy: Option<String>,
}

fn one() -> u32 {
    1
}

impl From<ParticipantYaml> for Participant {
    fn from(p: ParticipantYaml) -> Self {
        Self {
            role: p.role,
            count: p.count,
            stake: p.stake.unwrap_or(Self::default_stake(p.role)),
            full_proof: p.full_proof,
            controls: p.controls,
            strategy: p.strategy,
        }
    }
}

/// The phase in which a strong prover submits its full proof (spec, T1 and T2: "optionally
/// submit a full proof").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FullProofPhase {
    /// T1, the challenge-commitment phase (`REWARD_FULL_PROOF_*_T1`).
    T1,
    /// T2, the partial-proof phase (`REWARD_FULL_PROOF_*_T2`).
    T2,
}

/// Where penalties and slashed stake go. *Not from the spec*: the spec does not say
/// (DESIGN.md: burned, or under the procurement paper's insurance reading paid to the
/// protocol or the proposer).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SlashDestination {
    /// Destroyed: total supply shrinks.
    #[default]
    Burn,
    /// Paid to the proposer of the slot that includes the evidence.
    Proposer,
    /// Paid to the protocol's treasury account (insurance against liveness faults).
    Protocol,
}

/// How each slot's proposer is chosen among the validators (DESIGN.md, "Chain").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProposerSelection {
    /// Validators take turns in participant order.
    #[default]
    RoundRobin,
    /// Drawn from the RANDAO mix with probability proportional to stake.
    StakeWeighted,
}

/// The wall-clock window of each phase of a slot, seconds (spec, "Multi-phase Proof
/// Generation"; DESIGN.md: slot = T1..T5). Every window must be finite and > 0.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PhaseWindows {
    /// T1, challenge commitment (and optional full proof), seconds. Default 2.
    pub t1: f64,
    /// T2, partial-proof submission (and optional full proof), seconds. Default 8.
    pub t2: f64,
    /// T3, full-proof aggregation, seconds. Default 4.
    pub t3: f64,
    /// T4, first fallback aggregation, seconds. Default 4.
    pub t4: f64,
    /// T5, last fallback aggregation, seconds. Default 4.
    pub t5: f64,
}

impl Default for PhaseWindows {
    fn default() -> Self {
        Self {
            t1: 2.0,
            t2: 8.0,
            t3: 4.0,
            t4: 4.0,
            t5: 4.0,
        }
    }
}

impl PhaseWindows {
    /// The window of phase `T<phase>`, seconds.
    ///
    /// # Panics
    ///
    /// If `phase` is not in `1..=5`.
    #[must_use]
    pub fn get(&self, phase: usize) -> f64 {
        match phase {
            1 => self.t1,
            2 => self.t2,
            3 => self.t3,
            4 => self.t4,
            5 => self.t5,
            _ => panic!("there is no phase T{phase}: phases are T1..=T5"),
        }
    }

    /// The five windows in order T1..T5, seconds.
    #[must_use]
    pub const fn as_array(&self) -> [f64; 5] {
        [self.t1, self.t2, self.t3, self.t4, self.t5]
    }

    /// The length of a slot: the sum of the five windows, seconds.
    #[must_use]
    pub fn total(&self) -> f64 {
        self.as_array().iter().sum()
    }
}

/// Timing, workload, selection and ledger parameters (`network_params:`). Each default is
/// the value in `devnet/default.yaml`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct NetworkParams {
    /// The window of each phase, seconds.
    pub phase_seconds: PhaseWindows,
    /// Sub-blocks per block, one partial proof each (the spec's `num_of_partial_proofs`,
    /// "sub-AIRs"). At least 1. Default 4.
    pub num_partial_proofs: u32,
    /// How many distinct selected provers prove each sub-block (the spec's
    /// `redundancy_factor`). At least 1 and at most the prover-set size
    /// ([`Devnet::prover_set_size`]). Default 2.
    pub redundancy_factor: u32,
    /// Transactions per sub-block; fixes the partial circuit's size (its `k`). In
    /// `1..=`[`MAX_TXS_PER_SUB_BLOCK`]. Default 8.
    pub txs_per_sub_block: u32,
    /// Independent sub-block sets per block (spec, "Extension for Multiple Sub-blocks
    /// (Gigagas)"), each with its own disjoint prover set, aggregated by
    /// `PROVERS_PER_AGGPROOF` provers. At least 1. Default 1 (no extension).
    pub num_sub_block_sets: u32,
    /// Seed of the workload generator and of the genesis RANDAO mix; same seed, same run.
    /// Default 7.
    pub seed: u64,
    /// `P`, the protocol's loss per liveness fault (a slot whose T5 ends without a valid full
    /// proof), reward units (procurement paper: loss = payments + P × liveness fault).
    /// Default 10000.
    pub liveness_penalty: u64,
    /// *Not from the spec*: where penalties and slashed stake go. Default `burn`.
    pub slashed_to: SlashDestination,
    /// *Not from the spec*: a prover whose stake falls below this is ejected from the set
    /// (DESIGN.md), reward units; every validator and prover starts at or above it. Default
    /// 100.
    pub min_stake: u64,
    /// *Not from the spec*: reputation step; a prover's selection weight is
    /// `1 + min(reputation_cap, valid_history × reputation_step)` (spec: "increased (but
    /// bounded)"), where `valid_history` counts its valid submissions. Finite, ≥ 0. Default
    /// 0.05.
    pub reputation_step: f64,
    /// *Not from the spec*: the bound on the reputation bonus (see `reputation_step`).
    /// Finite, ≥ 0. Default 0.5.
    pub reputation_cap: f64,
    /// How each slot's proposer is chosen. Default `round_robin`.
    pub proposer_selection: ProposerSelection,
    /// Each validator's balance at genesis, reward units (separate from stake). Default 0.
    pub genesis_validator_balance: u64,
    /// Each prover's balance at genesis, reward units (separate from stake). Default 0.
    pub genesis_prover_balance: u64,
}

impl Default for NetworkParams {
    fn default() -> Self {
        Self {
            phase_seconds: PhaseWindows::default(),
            num_partial_proofs: 4,
            redundancy_factor: 2,
            txs_per_sub_block: 8,
            num_sub_block_sets: 1,
            seed: 7,
            liveness_penalty: 10_000,
            slashed_to: SlashDestination::Burn,
            min_stake: 100,
            reputation_step: 0.05,
            reputation_cap: 0.5,
            proposer_selection: ProposerSelection::RoundRobin,
            genesis_validator_balance: 0,
            genesis_prover_balance: 0,
        }
    }
}

/// One node of a devnet, with its participant's parameters expanded: see [`Devnet::nodes`].
#[derive(Debug, Clone, PartialEq)]
pub struct NodeSpec {
    /// Its role.
    pub role: Role,
    /// Its 0-based index among the nodes of its role, in participant order.
    pub index: u32,
    /// The index of the `participants` entry it comes from.
    pub participant: usize,
    /// Its stake, reward units.
    pub stake: u64,
    /// Provers: the phase in which it submits a full proof, if it is a strong prover.
    pub full_proof: Option<FullProofPhase>,
    /// Provers: whether the adversary holds its key (it is among the last `controls` provers).
    pub corrupted: bool,
    /// Adversary: its strategy name.
    pub strategy: Option<String>,
}

/// Why a devnet file could not be used. Display: `origin:line:column: message`, ready for the
/// CLI (exit code 2, "bad config").
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("cannot read devnet file {}: {source}", path.display())]
    Io {
        /// The path that was read.
        path: PathBuf,
        /// The underlying error.
        source: std::io::Error,
    },
    /// Not YAML, or not a devnet: bad indentation, a value of the wrong type, an unknown or
    /// missing key (as reported by `serde_yaml`, with its position).
    #[error("{origin}{}: {message}", syntax_position(.line, .column))]
    Syntax {
        /// The file name (or another label) the source came from.
        origin: String,
        /// 1-based line, 0 if the parser gave no position (e.g. an empty file).
        line: usize,
        /// 1-based column, 0 if the parser gave no position.
        column: usize,
        /// What is wrong, prefixed by the path of the key when there is one
        /// (`network_params: unknown field ...`).
        message: String,
    },
    /// Well-formed, but impossible: a parameter the protocol cannot run with.
    #[error("{origin}{}: {reason}", line_position(.line))]
    Invalid {
        /// The file name (or another label) the source came from.
        origin: String,
        /// The offending field's path, e.g. `network_params.redundancy_factor`,
        /// `participants[1].count`, `rewards.PENALTY_T1_PROVER`.
        field: String,
        /// The 1-based line of the field, when the field is written in the file (`None` for
        /// a value left to its default).
        line: Option<usize>,
        /// A full sentence naming the field and its value and saying why it is refused.
        reason: String,
    },
}

/// `:line:column`, or nothing when the parser gave no position (0).
fn syntax_position(line: &usize, column: &usize) -> String {
    match (*line, *column) {
        (0, _) => String::new(),
        (line, 0) => format!(":{line}"),
        (line, column) => format!(":{line}:{column}"),
    }
}

/// `:line`, or nothing when the field is not written in the file.
fn line_position(line: &Option<usize>) -> String {
    line.map_or_else(String::new, |line| format!(":{line}"))
}

/// Reads and parses the devnet file at `path`; see [`parse`].
///
/// # Errors
///
/// [`ConfigError::Io`] if the file cannot be read, otherwise as [`parse`].
pub fn load(path: &Path) -> Result<Devnet, ConfigError> {
    let src = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_owned(),
        source,
    })?;
    parse(&src, &path.display().to_string())
}

/// Parses and validates a devnet definition. `origin` names the source in errors (usually
/// the file's path).
///
/// # Errors
///
/// [`ConfigError::Syntax`] for malformed YAML, wrong types, unknown or missing keys;
/// [`ConfigError::Invalid`] for impossible parameters ([`Devnet::validate`]) and for
/// negative rewards.
pub fn parse(src: &str, origin: &str) -> Result<Devnet, ConfigError> {
    let invalid = |(field, reason): (String, String)| ConfigError::Invalid {
        origin: origin.to_owned(),
        line: locate::line_of(src, &field),
        field,
        reason,
    };
    check_reward_signs(src).map_err(invalid)?;
    let devnet: Devnet = serde_yaml::from_str(src).map_err(|e| syntax_error(&e, origin))?;
    devnet.validate().map_err(invalid)?;
    Ok(devnet)
}

fn syntax_error(error: &serde_yaml::Error, origin: &str) -> ConfigError {
    let (line, column) = error.location().map_or((0, 0), |l| (l.line(), l.column()));
    let mut message = error.to_string();
    // serde_yaml appends the position we report in front; say it once.
    let suffix = format!(" at line {line} column {column}");
    if let Some(at) = message.find(&suffix) {
        message.replace_range(at..at + suffix.len(), "");
    }
    ConfigError::Syntax {
        origin: origin.to_owned(),
        line,
        column,
        message,
    }
}

/// Rewards are `u64`, so a negative one would only surface as a type error; catch it first
/// and refuse it naming the variable. Anything that is not a readable `rewards` mapping is
/// left for the typed parse to report.
fn check_reward_signs(src: &str) -> Result<(), (String, String)> {
    #[derive(Deserialize)]
    struct Loose {
        #[serde(default)]
        rewards: Option<serde_yaml::Mapping>,
    }
    let Ok(Loose {
        rewards: Some(rewards),
    }) = serde_yaml::from_str::<Loose>(src)
    else {
        return Ok(());
    };
    for (key, value) in &rewards {
        let (Some(name), Some(value)) = (key.as_str(), value.as_i64()) else {
            continue;
        };
        let kind = Rewards::kind_of(name);
        if value < 0 && matches!(kind, Some(VariableKind::Reward | VariableKind::Count)) {
            let field = format!("rewards.{name}");
            let why = if kind == Some(VariableKind::Count) {
                "it is a number of provers"
            } else {
                "rewards are paid to nodes, never taken; value is taken by the PENALTY_* and \
                 SLASH_* variables"
            };
            let reason = format!("{field} = {value} is impossible: {why}");
            return Err((field, reason));
        }
    }
    Ok(())
}

impl Devnet {
    /// The devnet of `devnet/default.yaml` (compiled in as [`DEFAULT_YAML`]).
    ///
    /// # Panics
    ///
    /// Never in a tested build: `tests/config_yaml.rs` parses the file.
    #[must_use]
    pub fn default_devnet() -> Self {
        match parse(DEFAULT_YAML, "devnet/default.yaml") {
            Ok(devnet) => devnet,
            Err(e) => panic!("the built-in devnet/default.yaml is invalid: {e}"),
        }
    }

    /// The number of nodes with this role, summed over participants.
    #[must_use]
    pub fn count(&self, role: Role) -> u32 {
        self.participants
            .iter()
            .filter(|p| p.role == role)
            .fold(0, |n, p| n.saturating_add(p.count))
    }

    /// How many provers the adversary corrupts (the last ones in participant order); 0
    /// without an adversary.
    #[must_use]
    pub fn corrupted_provers(&self) -> u32 {
        self.participants
            .iter()
            .filter(|p| p.role == Role::Adversary)
            .map(|p| p.controls)
            .sum()
    }

    /// The size of the prover set selected for one sub-block set:
    /// `min(PROVERS_PER_PROOF, pool / 2)` (spec, "Prover Selection and Assignment") where
    /// `pool = provers / num_sub_block_sets`.
    ///
    /// *Not from the spec* for more than one sub-block set: the spec wants one prover set per
    /// sub-block and a prover on one proof at a time, so we split the provers into
    /// `num_sub_block_sets` disjoint pools and apply the spec's formula to each.
    #[must_use]
    pub fn prover_set_size(&self) -> u32 {
        let sets = self.network_params.num_sub_block_sets.max(1);
        let pool = self.count(Role::Prover) / sets;
        let half = u64::from(pool / 2);
        half.min(self.rewards.provers_per_proof) as u32
    }

    /// Every node, in participant order, with its participant's parameters.
    #[must_use]
    pub fn nodes(&self) -> Vec<NodeSpec> {
        let provers = self.count(Role::Prover);
        let honest = provers.saturating_sub(self.corrupted_provers());
        let mut next = [0u32; 3];
        let mut out = Vec::new();
        for (participant, p) in self.participants.iter().enumerate() {
            for _ in 0..p.count {
                let slot = &mut next[p.role as usize];
                let index = *slot;
                *slot += 1;
                out.push(NodeSpec {
                    role: p.role,
                    index,
                    participant,
                    stake: p.stake,
                    full_proof: p.full_proof,
                    corrupted: p.role == Role::Prover && index >= honest,
                    strategy: p.strategy.clone(),
                });
            }
        }
        out
    }

    /// Checks that the protocol can run with these parameters.
    ///
    /// # Errors
    ///
    /// The first problem found, as `(field, reason)`: the field's path
    /// (`network_params.redundancy_factor`, `participants[2].controls`,
    /// `rewards.PENALTY_T1_PROVER`) and a full sentence naming the value and saying why it is
    /// impossible. [`parse`] turns it into [`ConfigError::Invalid`] with the line.
    pub fn validate(&self) -> Result<(), (String, String)> {
        self.validate_name()?;
        self.validate_participants()?;
        self.validate_network()?;
        self.rewards
            .validate(self.network_params.num_sub_block_sets)?;
        self.validate_selection()?;
        self.validate_mechanism()
    }

    /// Checks the `mechanism:` key: its parameters ([`rules::build_for`] with the prover
    /// count), one sub-block set for every kind but `spec`, and (`proof_tree`) one leaf per
    /// sub-block. The field is `mechanism.params.<name>` when the error names a parameter
    /// that is written, else `mechanism.kind`.
    fn validate_mechanism(&self) -> Result<(), (String, String)> {
        let m = &self.mechanism;
        if m.kind == MechanismKind::Spec && m.params.is_empty() {
            return Ok(());
        }
        let field = |reason: &str| {
            m.params
                .keys()
                .find(|k| reason.contains(&format!("`{k}`")))
                .map_or_else(
                    || "mechanism.kind".to_owned(),
                    |k| format!("mechanism.params.{k}"),
                )
        };
        let provers = self.count(Role::Prover) as usize;
        let cfg = mechanism_for(self);
        if let Err(reason) = rules::build_for(&cfg, provers) {
            return Err(fail(field(&reason), format!("mechanism: {reason}")));
        }
        let n = &self.network_params;
        if m.kind != MechanismKind::Spec && n.num_sub_block_sets != 1 {
            return Err(fail(
                "mechanism.kind",
                format!(
                    "mechanism `{}` needs network_params.num_sub_block_sets = 1 (got {}): the \
                     mechanisms procure one proof per slot",
                    m.kind, n.num_sub_block_sets
                ),
            ));
        }
        if m.kind == MechanismKind::ProofTree
            && let Some(leaves) = cfg.params.get("leaves").and_then(serde_yaml::Value::as_f64)
            && leaves != f64::from(n.num_partial_proofs)
        {
            return Err(fail(
                "mechanism.params.leaves",
                format!(
                    "mechanism `proof_tree` parameter `leaves` = {leaves} is impossible: on the \
                     devnet each leaf is one sub-block, and network_params.num_partial_proofs = {}",
                    n.num_partial_proofs
                ),
            ));
        }
        Ok(())
    }

    fn validate_name(&self) -> Result<(), (String, String)> {
        let ok = !self.name.is_empty()
            && self
                .name
                .bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
        if ok {
            Ok(())
        } else {
            Err(fail(
                "name",
                format!(
                    "name = {:?} is impossible: it goes into container names, so it must be \
                     one or more of a-z, 0-9 and '-'",
                    self.name
                ),
            ))
        }
    }

    fn validate_participants(&self) -> Result<(), (String, String)> {
        let min_stake = self.network_params.min_stake;
        let mut adversary = None;
        for (i, p) in self.participants.iter().enumerate() {
            let at = |key: &str| format!("participants[{i}].{key}");
            if p.count == 0 {
                return Err(fail(
                    at("count"),
                    format!(
                        "{} = 0 is impossible: a participant entry stands for at least one node \
                         (remove the entry instead)",
                        at("count")
                    ),
                ));
            }
            if p.role != Role::Adversary && p.stake < min_stake {
                return Err(fail(
                    at("stake"),
                    format!(
                        "{} = {} is impossible: it is below network_params.min_stake = \
                         {min_stake}, so the {} would be ejected before the first slot",
                        at("stake"),
                        p.stake,
                        p.role
                    ),
                ));
            }
            if p.role != Role::Prover && p.full_proof.is_some() {
                return Err(fail(
                    at("full_proof"),
                    format!(
                        "{} is set on a {}: only provers submit full proofs",
                        at("full_proof"),
                        p.role
                    ),
                ));
            }
            if p.role != Role::Adversary {
                if p.controls != 0 {
                    return Err(fail(
                        at("controls"),
                        format!(
                            "{} = {} is set on a {}: only the adversary corrupts provers",
                            at("controls"),
                            p.controls,
                            p.role
                        ),
                    ));
                }
                if p.strategy.is_some() {
                    return Err(fail(
                        at("strategy"),
                        format!(
                            "{} is set on a {}: only the adversary runs a strategy",
                            at("strategy"),
                            p.role
                        ),
                    ));
                }
                continue;
            }
            if let Some(first) = adversary {
                return Err(fail(
                    format!("participants[{i}]"),
                    format!(
                        "participants[{i}] is a second adversary entry (the first is \
                         participants[{first}]): the threat model has one adversary, which \
                         corrupts several provers through `controls`"
                    ),
                ));
            }
            adversary = Some(i);
            if p.count != 1 {
                return Err(fail(
                    at("count"),
                    format!(
                        "{} = {} is impossible for the adversary: there is one adversary agent, \
                         which corrupts several provers through `controls`",
                        at("count"),
                        p.count
                    ),
                ));
            }
            let provers = self.count(Role::Prover);
            if p.controls > provers {
                return Err(fail(
                    at("controls"),
                    format!(
                        "{} = {} is impossible: the devnet has only {provers} provers to corrupt",
                        at("controls"),
                        p.controls
                    ),
                ));
            }
        }
        let validators = self.count(Role::Validator);
        if validators == 0 {
            return Err(fail(
                "participants",
                "participants has no validator: at least one is needed to propose, and \
                 finality needs attestations from more than 2/3 of the validators"
                    .to_owned(),
            ));
        }
        let provers = self.count(Role::Prover);
        if provers < 2 {
            let field = self.first_entry(Role::Prover).map_or_else(
                || "participants".to_owned(),
                |i| format!("participants[{i}].count"),
            );
            return Err(fail(
                field,
                format!(
                    "participants has {provers} prover(s), which is impossible: each block \
                     selects min(PROVERS_PER_PROOF, provers / 2) provers, so at least 2 are \
                     needed"
                ),
            ));
        }
        Ok(())
    }

    fn first_entry(&self, role: Role) -> Option<usize> {
        self.participants.iter().position(|p| p.role == role)
    }

    fn validate_network(&self) -> Result<(), (String, String)> {
        let n = &self.network_params;
        for (phase, seconds) in (1..).zip(n.phase_seconds.as_array()) {
            if !(seconds.is_finite() && seconds > 0.0) {
                let field = format!("network_params.phase_seconds.t{phase}");
                return Err(fail(
                    field.clone(),
                    format!(
                        "{field} = {seconds} is impossible: every phase needs a finite window \
                         longer than 0 seconds for its messages to be sent and included"
                    ),
                ));
            }
        }
        let at_least_one = [
            (
                "num_partial_proofs",
                n.num_partial_proofs,
                "every block is split into at least one sub-block",
            ),
            (
                "redundancy_factor",
                n.redundancy_factor,
                "every sub-block must be assigned to at least one prover",
            ),
            (
                "num_sub_block_sets",
                n.num_sub_block_sets,
                "a block has at least one set of sub-blocks",
            ),
        ];
        for (key, value, why) in at_least_one {
            if value == 0 {
                let field = format!("network_params.{key}");
                return Err(fail(
                    field.clone(),
                    format!("{field} = 0 is impossible: {why}"),
                ));
            }
        }
        if !(1..=MAX_TXS_PER_SUB_BLOCK).contains(&n.txs_per_sub_block) {
            return Err(fail(
                "network_params.txs_per_sub_block",
                format!(
                    "network_params.txs_per_sub_block = {} is impossible: the partial-proof \
                     circuit proves 1 to {MAX_TXS_PER_SUB_BLOCK} transactions per sub-block",
                    n.txs_per_sub_block
                ),
            ));
        }
        for (key, value) in [
            ("reputation_step", n.reputation_step),
            ("reputation_cap", n.reputation_cap),
        ] {
            if !(value.is_finite() && value >= 0.0) {
                let field = format!("network_params.{key}");
                return Err(fail(
                    field.clone(),
                    format!(
                        "{field} = {value} is impossible: the selection weight \
                         1 + min(reputation_cap, valid_history × reputation_step) must be a \
                         finite number of at least 1"
                    ),
                ));
            }
        }
        Ok(())
    }

    /// Checks that the provers suffice for the selection and assignment rules; runs after
    /// the participant, network and reward checks, whose values it relies on.
    fn validate_selection(&self) -> Result<(), (String, String)> {
        let n = &self.network_params;
        let provers = self.count(Role::Prover);
        let set = self.prover_set_size();
        if set == 0 {
            // Only reachable with several sub-block sets: one set alone has >= 2 provers.
            return Err(fail(
                "network_params.num_sub_block_sets",
                format!(
                    "network_params.num_sub_block_sets = {} is impossible with {provers} \
                     provers: each sub-block set needs its own disjoint pool of at least 2 \
                     provers (min(PROVERS_PER_PROOF, pool / 2) of them are selected)",
                    n.num_sub_block_sets
                ),
            ));
        }
        if n.redundancy_factor > set {
            return Err(fail(
                "network_params.redundancy_factor",
                format!(
                    "network_params.redundancy_factor = {r} is impossible: a sub-block needs \
                     {r} distinct provers, but each sub-block set selects only {set} \
                     (min(PROVERS_PER_PROOF = {}, {} provers / 2))",
                    self.rewards.provers_per_proof,
                    provers / n.num_sub_block_sets,
                    r = n.redundancy_factor,
                ),
            ));
        }
        Ok(())
    }
}

/// The devnet's mechanism config with the devnet's defaults filled in: `proof_tree` gets
/// `leaves = num_partial_proofs` (one leaf per sub-block) unless written.
#[must_use]
pub fn mechanism_for(d: &Devnet) -> MechanismConfig {
    let mut cfg = d.mechanism.clone();
    if cfg.kind == MechanismKind::ProofTree && !cfg.params.contains_key("leaves") {
        cfg.params.insert(
            "leaves".to_owned(),
            serde_yaml::Value::from(d.network_params.num_partial_proofs),
        );
    }
    cfg
}

fn fail(field: impl Into<String>, reason: String) -> (String, String) {
    (field.into(), reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn devnet(yaml: &str) -> Result<Devnet, ConfigError> {
        parse(yaml, "t.yaml")
    }

    const MIN: &str = "participants:\n  - {role: validator}\n  - {role: prover, count: 4}\n";

    #[test]
    fn default_params_equal_the_default_file() {
        let d = Devnet::default_devnet();
        assert_eq!(d.network_params, NetworkParams::default());
        assert_eq!(d.rewards, Rewards::default());
        assert_eq!(d.name, "default");
    }

    #[test]
    fn round_trips_through_yaml() {
        let d = Devnet::default_devnet();
        let yaml = serde_yaml::to_string(&d).unwrap();
        assert_eq!(parse(&yaml, "dump").unwrap(), d);
    }

    #[test]
    fn stake_defaults_by_role() {
        let d = devnet(
            "participants: [{role: validator}, {role: prover, count: 4}, {role: adversary}]",
        )
        .unwrap();
        let stakes: Vec<u64> = d.participants.iter().map(|p| p.stake).collect();
        assert_eq!(stakes, [32_000, 1_000, 0]);
        assert_eq!(d.participants[1].count, 4);
        assert_eq!(d.participants[0].count, 1);
    }

    #[test]
    fn nodes_mark_the_last_provers_corrupted() {
        let d = Devnet::default_devnet();
        let nodes = d.nodes();
        assert_eq!(nodes.len(), 13);
        let corrupted: Vec<u32> = nodes
            .iter()
            .filter(|n| n.corrupted)
            .map(|n| n.index)
            .collect();
        assert_eq!(corrupted, [6, 7]);
        assert!(
            nodes
                .iter()
                .filter(|n| n.corrupted)
                .all(|n| n.role == Role::Prover)
        );
        assert_eq!(nodes[12].role, Role::Adversary);
        assert_eq!(nodes[12].index, 0);
        assert_eq!(nodes[12].strategy.as_deref(), Some("honest"));
    }

    #[test]
    fn prover_set_size_follows_the_spec_formula_per_pool() {
        let mut d = Devnet::default_devnet();
        assert_eq!(d.prover_set_size(), 4);
        d.rewards.provers_per_proof = 3;
        assert_eq!(d.prover_set_size(), 3);
        d.network_params.num_sub_block_sets = 2;
        assert_eq!(d.prover_set_size(), 2);
        d.network_params.num_sub_block_sets = 5;
        assert_eq!(d.prover_set_size(), 0);
        assert_eq!(
            d.validate().unwrap_err().0,
            "network_params.num_sub_block_sets"
        );
    }

    #[test]
    fn phase_windows() {
        let w = PhaseWindows::default();
        assert_eq!(w.get(2), 8.0);
        assert_eq!(w.get(5), 4.0);
        assert_eq!(w.total(), 22.0);
    }

    #[test]
    #[should_panic(expected = "there is no phase T6")]
    fn phase_six_panics() {
        let _ = PhaseWindows::default().get(6);
    }

    #[test]
    fn role_specific_keys_are_refused_elsewhere() {
        let e = devnet(&format!("{MIN}  - {{role: validator, controls: 1}}\n")).unwrap_err();
        assert!(
            matches!(e, ConfigError::Invalid { ref field, line: Some(4), .. } if field == "participants[2].controls"),
            "{e}"
        );
        let e = devnet(&format!("{MIN}  - {{role: validator, full_proof: t1}}\n")).unwrap_err();
        assert!(
            e.to_string().contains("only provers submit full proofs"),
            "{e}"
        );
        let e = devnet(&format!(
            "{MIN}  - {{role: adversary}}\n  - {{role: adversary}}\n"
        ))
        .unwrap_err();
        assert!(
            e.to_string()
                .starts_with("t.yaml:5: participants[3] is a second adversary"),
            "{e}"
        );
        let e = devnet(&format!("{MIN}  - {{role: adversary, count: 2}}\n")).unwrap_err();
        assert!(
            matches!(e, ConfigError::Invalid { ref field, .. } if field == "participants[2].count"),
            "{e}"
        );
    }

    #[test]
    fn mechanism_key_parses_defaults_to_spec_and_refuses_impossible_params() {
        let d = devnet(MIN).unwrap();
        assert_eq!(d.mechanism, MechanismConfig::default());
        // Left out, it is not written back either.
        assert!(!serde_yaml::to_string(&d).unwrap().contains("mechanism"));
        let y = format!("{MIN}mechanism:\n  kind: designated\n  params:\n    m: 2\n    q: 0.25\n");
        let d = devnet(&y).unwrap();
        assert_eq!(d.mechanism.kind, MechanismKind::Designated);
        assert_eq!(devnet(&serde_yaml::to_string(&d).unwrap()).unwrap(), d);
        // q outside [0, 1]: the parameter's line (line 8 of the file).
        let y = format!("{MIN}mechanism:\n  kind: designated\n  params:\n    m: 2\n    q: 1.5\n");
        let e = devnet(&y).unwrap_err();
        assert!(
            matches!(e, ConfigError::Invalid { ref field, line: Some(8), .. } if field == "mechanism.params.q"),
            "{e}"
        );
        assert!(e.to_string().contains("probability in [0, 1]"), "{e}");
        // m + 1 > 4 provers.
        let y = format!("{MIN}mechanism:\n  kind: designated\n  params:\n    m: 4\n");
        let e = devnet(&y).unwrap_err();
        assert!(
            matches!(e, ConfigError::Invalid { ref field, line: Some(7), .. } if field == "mechanism.params.m"),
            "{e}"
        );
        // An unknown parameter, an unknown kind.
        let y = format!("{MIN}mechanism:\n  kind: lottery\n  params: {{z: 1}}\n");
        let e = devnet(&y).unwrap_err();
        assert!(e.to_string().contains("no parameter `z`"), "{e}");
        let y = format!("{MIN}mechanism:\n  kind: vickrey\n");
        assert!(matches!(
            devnet(&y).unwrap_err(),
            ConfigError::Syntax { line: 5, .. }
        ));
        // Several sub-block sets, and proof-tree leaves that are not the sub-blocks.
        let y = format!(
            "{MIN}network_params: {{num_sub_block_sets: 2, redundancy_factor: 1}}\nmechanism: {{kind: pay_deliverers}}\n"
        );
        let e = devnet(&y).unwrap_err();
        assert!(
            matches!(e, ConfigError::Invalid { ref field, .. } if field == "mechanism.kind"),
            "{e}"
        );
        let y = format!("{MIN}mechanism:\n  kind: proof_tree\n  params:\n    leaves: 8\n");
        let e = devnet(&y).unwrap_err();
        assert!(
            matches!(e, ConfigError::Invalid { ref field, line: Some(7), .. } if field == "mechanism.params.leaves"),
            "{e}"
        );
        // Left out, proof_tree's leaves default to the sub-blocks.
        let y = format!("{MIN}mechanism: {{kind: proof_tree}}\n");
        let d = devnet(&y).unwrap();
        assert_eq!(
            mechanism_for(&d).params["leaves"].as_u64(),
            Some(u64::from(d.network_params.num_partial_proofs))
        );
    }

    #[test]
    fn name_and_stake_and_counts() {
        let e = devnet(&format!("name: My_Net\n{MIN}")).unwrap_err();
        assert_eq!(
            e.to_string(),
            "t.yaml:1: name = \"My_Net\" is impossible: it goes into container names, so it \
             must be one or more of a-z, 0-9 and '-'"
        );
        let e = devnet(
            "participants:\n  - role: validator\n    stake: 99\n  - {role: prover, count: 2}\n",
        )
        .unwrap_err();
        assert!(
            matches!(e, ConfigError::Invalid { ref field, line: Some(3), .. } if field == "participants[0].stake"),
            "{e}"
        );
        let e = devnet("participants:\n  - {role: prover, count: 2}\n").unwrap_err();
        assert!(
            e.to_string()
                .starts_with("t.yaml:1: participants has no validator"),
            "{e}"
        );
        let e = devnet("participants:\n  - {role: validator}\n  - {role: prover, count: 1}\n")
            .unwrap_err();
        assert!(
            matches!(e, ConfigError::Invalid { ref field, line: Some(3), .. } if field == "participants[1].count"),
            "{e}"
        );
        let e = devnet(&format!("{MIN}network_params:\n  txs_per_sub_block: 65\n")).unwrap_err();
        assert!(
            matches!(e, ConfigError::Invalid { ref field, line: Some(5), .. } if field == "network_params.txs_per_sub_block"),
            "{e}"
        );
        let e = devnet(&format!("{MIN}network_params:\n  reputation_cap: .nan\n")).unwrap_err();
        assert!(
            matches!(e, ConfigError::Invalid { ref field, .. } if field == "network_params.reputation_cap"),
            "{e}"
        );
    }

    #[test]
    fn empty_source_is_a_syntax_error() {
        let e = devnet("").unwrap_err();
        assert!(matches!(e, ConfigError::Syntax { .. }), "{e}");
        assert!(e.to_string().starts_with("t.yaml"), "{e}");
    }

    #[test]
    fn io_error_names_the_path() {
        let e = load(Path::new("/nonexistent/devnet.yaml")).unwrap_err();
        assert!(matches!(e, ConfigError::Io { .. }));
        assert!(
            e.to_string()
                .starts_with("cannot read devnet file /nonexistent/devnet.yaml: "),
            "{e}"
        );
    }
}
