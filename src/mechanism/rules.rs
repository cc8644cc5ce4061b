//! The procurement rules of a slot behind one trait: who is asked to prove, and who is paid
//! or slashed once the deliveries are known.
//!
//! A [`Mechanism`] is pure: it reads no clock and does no IO. Its randomness comes in as a
//! closure of uniform draws in `[0, 1)` (RANDAO-derived on the live devnet, seeded in the
//! simulator), so equal inputs give equal requests and payouts. The devnet YAML picks one
//! with `mechanism: {kind: …, params: {…}}` ([`MechanismConfig`]); [`build`] checks the
//! parameters and returns the boxed rule.
//!
//! **Units.** Money (payments, slashes, stakes, costs, fees, prizes) is in integer *reward
//! units*, the ledger's unit. Capacity is in proofs (or transactions, for `dual_auction`)
//! per slot. Probabilities are plain numbers in `[0, 1]`. Where a seed states a rule in
//! proof-cost units (the paper's "cost of one proof is 1"), the parameter `proof_cost`
//! converts it to reward units and amounts are rounded to the nearest unit.
//!
//! The seed texts (`shared/seeds/`) lost their typeset formulas; each rule below is
//! rebuilt from the prose and proofs and says which section it follows.
//!
//! | kind | seed, section |
//! | --- | --- |
//! | `spec` | `distributed-proof-generation-spec.txt`, "Prover Selection" and the T2/T3 rows (one-delivery reduction; the live engine runs the full table) |
//! | `designated` | `adversarial-procurement-paper.txt` Def. 3.1, Lem. 3.4 (proof A.5), Rem. 3.3; stake §3.4, Cor. 3.2, Rem. 3.9–3.10 |
//! | `lottery` | the paper, Ex. 3.2, Def. A.2, eq. (8) |
//! | `pay_deliverers` | the paper, Ex. 3.3 |
//! | `capacity_audit` | `capacity-oracles-post.txt` §3.2, §4 |
//! | `dual_auction` | `proof-dual-auction-briefing.txt` ("Analysis", "Parameters") |
//! | `proof_tree` | `aztec-prover-network-notes.txt` ("Protocol-elected provers", uncle rewards) |

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::str::FromStr;

use alloy_primitives::Address;
use serde::{Deserialize, Serialize};

/// One prover as a mechanism sees it at the start of a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct ProverInfo {
    /// The prover's identity.
    pub address: Address,
    /// Stake left, reward units; slashes are capped at it.
    pub stake: u64,
    /// Capacity bid, proofs (or transactions for `dual_auction`) per slot.
    pub capacity: u64,
    /// Cost bid, reward units per proof (or per transaction for `dual_auction`).
    pub cost: u64,
}

/// Whom a mechanism asks to deliver in one slot.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
pub struct Request {
    /// The designate (the deterministic deliverer), when the mechanism has one.
    pub designated: Option<Address>,
    /// The provers asked to deliver, the designate first, no duplicates.
    pub asked: Vec<Address>,
    /// The provers whose capacity bid is audited this slot (`capacity_audit`), else empty.
    pub audited: Vec<Address>,
    /// Every committee member drawn, asked or not (`designated`, `lottery`,
    /// `pay_deliverers`: members whose mixing coin came up tails are here but not in
    /// `asked`); empty for other kinds.
    pub committee: Vec<Address>,
    /// Units each asked prover is asked to deliver (proofs, transactions or tree nodes),
    /// in `asked` order; empty when each asked prover owes one proof.
    pub allocation: Vec<(Address, u64)>,
    /// A uniform draw in `[0, 1)` taken at request time for settle-time lotteries
    /// (`lottery` picks its winner with it), so that `settle` needs no randomness.
    pub draw: f64,
    /// The proof tree (`proof_tree`): nodes leaves first, root last; empty otherwise.
    pub tree: Vec<TreeNode>,
}

impl Request {
    /// Units `who` is asked to deliver: its `allocation` entry, else 1 if asked, else 0.
    #[must_use]
    pub fn allocated(&self, who: &Address) -> u64 {
        match self.allocation.iter().find(|(a, _)| a == who) {
            Some((_, n)) => *n,
            None => u64::from(self.asked.contains(who)),
        }
    }
}

/// What one prover delivered in a slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Delivery {
    /// The prover.
    pub prover: Address,
    /// True when it delivered valid proofs in time for everything it was asked.
    pub delivered: bool,
    /// Units delivered validly in time: proofs, transactions or tree nodes (1 when the
    /// mechanism counts no units and `delivered` is true).
    pub amount: u64,
}

/// The money a mechanism moves at the end of a slot.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Payout {
    /// Payments, reward units, one entry per paid prover (no zero entries).
    pub payments: Vec<(Address, u64)>,
    /// Slashes, reward units taken from stake (already capped at the prover's stake), paid
    /// to the protocol as insurance; one entry per slashed prover, no zero entries.
    pub slashes: Vec<(Address, u64)>,
    /// True when no asked prover delivered (no proof: the paper's liveness failure).
    pub liveness_fault: bool,
    /// The capacity oracle's published value, capacity units: the total capacity bid
    /// (`capacity_audit`, at the end of each epoch), else `None`.
    pub capacity_oracle: Option<u64>,
}

impl Payout {
    /// Sum of the payments, reward units (saturating).
    #[must_use]
    pub fn total_paid(&self) -> u64 {
        self.payments
            .iter()
            .fold(0u64, |s, (_, a)| s.saturating_add(*a))
    }

    /// Sum of the slashes, reward units (saturating).
    #[must_use]
    pub fn total_slashed(&self) -> u64 {
        self.slashes
            .iter()
            .fold(0u64, |s, (_, a)| s.saturating_add(*a))
    }

    /// The payment to `who`, reward units (0 if none).
    #[must_use]
    pub fn paid(&self, who: &Address) -> u64 {
        self.payments
            .iter()
            .filter(|(a, _)| a == who)
            .map(|(_, n)| *n)
            .sum()
    }

    /// The slash of `who`, reward units (0 if none).
    #[must_use]
    pub fn slashed(&self, who: &Address) -> u64 {
        self.slashes
            .iter()
            .filter(|(a, _)| a == who)
            .map(|(_, n)| *n)
            .sum()
    }
}

/// A slot's procurement rule: selection and delivery requests, then payments and slashes.
///
/// Call order per slot: [`Mechanism::request`] with the eligible provers in a fixed order (genesis order on the devnet)
/// and a source of uniform draws; the provers in `Request::asked` prove; then
/// [`Mechanism::settle`] with the same provers, the request and one [`Delivery`] per
/// prover that was asked (others may be included and are paid only where the rule says).
pub trait Mechanism: Send + Sync + fmt::Debug {
    /// The kind's YAML name: `"spec"`, `"designated"`, ….
    fn kind(&self) -> &'static str;
    /// The effective parameters (defaults filled in), as `(name, value)` for headers and
    /// reports, in a fixed order.
    fn params(&self) -> Vec<(String, String)>;
    /// Whom to ask this slot. `rng` yields uniform draws in `[0, 1)`; the number of draws
    /// taken depends only on the inputs.
    fn request(&self, slot: u64, provers: &[ProverInfo], rng: &mut dyn FnMut() -> f64) -> Request;
    /// Payments and slashes once the deliveries of `request` are known.
    fn settle(
        &self,
        slot: u64,
        provers: &[ProverInfo],
        request: &Request,
        deliveries: &[Delivery],
    ) -> Payout;
    /// Checks the parameters against the number of eligible provers (e.g. a committee
    /// larger than the provers). Errors: one sentence naming the parameter.
    fn check_provers(&self, provers: usize) -> Result<(), String> {
        let _ = provers;
        Ok(())
    }
}

/// The mechanisms a devnet can run (YAML `mechanism.kind`, snake case).
#[derive(
    Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default, Serialize, Deserialize,
)]
#[serde(rename_all = "snake_case")]
pub enum MechanismKind {
    /// The spec's T1–T5 table (the default; the engine's own rules).
    #[default]
    Spec,
    /// Designated prover + committee mixing with `q` (the paper, Def. 3.1, Lem. 3.4).
    Designated,
    /// Lottery prize among deliverers (the paper, Ex. 3.2, Def. A.2).
    Lottery,
    /// Pay every deliverer (the paper, Ex. 3.3).
    PayDeliverers,
    /// Capacity bids with random audits and slashing (the capacity-oracles post, §3.2, §4).
    CapacityAudit,
    /// Prooφ dual auction (the dual-auction briefing).
    DualAuction,
    /// Aztec-style proof tree with sibling fallback and uncle rewards (the Aztec notes).
    ProofTree,
}

impl MechanismKind {
    /// Every kind, in declaration order.
    pub const ALL: [Self; 7] = [
        Self::Spec,
        Self::Designated,
        Self::Lottery,
        Self::PayDeliverers,
        Self::CapacityAudit,
        Self::DualAuction,
        Self::ProofTree,
    ];

    /// The YAML name.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Spec => "spec",
            Self::Designated => "designated",
            Self::Lottery => "lottery",
            Self::PayDeliverers => "pay_deliverers",
            Self::CapacityAudit => "capacity_audit",
            Self::DualAuction => "dual_auction",
            Self::ProofTree => "proof_tree",
        }
    }
}

impl fmt::Display for MechanismKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for MechanismKind {
    type Err = String;

    /// Parses a YAML name. Errors: "unknown mechanism `x` (expected one of …)".
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|k| k.name() == s)
            .ok_or_else(|| {
                format!(
                    "unknown mechanism `{s}` (expected one of {})",
                    Self::ALL.map(Self::name).join(", ")
                )
            })
    }
}

/// The devnet YAML's `mechanism:` key: a kind and its parameters (see each kind's struct
/// for the parameter names, defaults and units). The default is `spec` with no parameters.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MechanismConfig {
    /// Which mechanism.
    pub kind: MechanismKind,
    /// Its parameters by name; numbers, or lists of numbers for `fees`/`bids`/`costs`.
    #[serde(default)]
    pub params: BTreeMap<String, serde_yaml::Value>,
}

impl MechanismConfig {
    /// A config of `kind` with the given numeric parameters.
    #[must_use]
    pub fn with(kind: MechanismKind, params: &[(&str, f64)]) -> Self {
        Self {
            kind,
            params: params
                .iter()
                .map(|(k, v)| ((*k).to_owned(), serde_yaml::Value::from(*v)))
                .collect(),
        }
    }
}

/// Builds the mechanism a config names, with its defaults filled in.
///
/// # Errors
/// One sentence: an unknown parameter for the kind, a value that is not a number, a
/// negative amount, a probability outside `[0, 1]`, or a value the rule cannot use
/// (e.g. `p < 1`, `capacity_cap = 0`). Checks that need the prover count are in
/// [`Mechanism::check_provers`] (see [`build_for`]).
pub fn build(cfg: &MechanismConfig) -> Result<Box<dyn Mechanism>, String> {
    let p = Params::new(cfg)?;
    Ok(match cfg.kind {
        MechanismKind::Spec => Box::new(SpecRule::from_params(&p)?),
        MechanismKind::Designated => Box::new(Designated::from_params(&p)?),
        MechanismKind::Lottery => Box::new(Lottery::from_params(&p)?),
        MechanismKind::PayDeliverers => Box::new(PayDeliverers::from_params(&p)?),
        MechanismKind::CapacityAudit => Box::new(CapacityAudit::from_params(&p)?),
        MechanismKind::DualAuction => Box::new(DualAuction::from_params(&p)?),
        MechanismKind::ProofTree => Box::new(ProofTree::from_params(&p)?),
    })
}

/// [`build`], then [`Mechanism::check_provers`] with `provers` eligible provers.
///
/// # Errors
/// Those of [`build`] and of `check_provers` (e.g. `m` larger than the provers allow).
pub fn build_for(cfg: &MechanismConfig, provers: usize) -> Result<Box<dyn Mechanism>, String> {
    let m = build(cfg)?;
    m.check_provers(provers)?;
    Ok(m)
}

// ---------------------------------------------------------------------------
// Parameter parsing
// ---------------------------------------------------------------------------

/// The parameter names each kind accepts.
fn known_params(kind: MechanismKind) -> &'static [&'static str] {
    match kind {
        MechanismKind::Spec => &[
            "provers_per_proof",
            "num_partial_proofs",
            "redundancy",
            "reward_partial",
            "penalty_partial",
            "reward_aggregator",
        ],
        MechanismKind::Designated => &["m", "q", "proof_cost", "stake", "correlated"],
        MechanismKind::Lottery => &["m", "q", "proof_cost", "prize"],
        MechanismKind::PayDeliverers => &["m", "q", "proof_cost"],
        MechanismKind::CapacityAudit => &["epsilon", "p", "stake", "unit", "epoch_slots", "bids"],
        MechanismKind::DualAuction => &[
            "fees",
            "txs",
            "fee_min",
            "fee_max",
            "fee_seed",
            "capacity_cap",
            "costs",
            "capacities",
        ],
        MechanismKind::ProofTree => &[
            "leaves",
            "leaf_reward",
            "merge_reward",
            "uncle_reward",
            "stake",
        ],
    }
}

/// A checked view of a config's parameters.
struct Params<'a> {
    kind: MechanismKind,
    map: &'a BTreeMap<String, serde_yaml::Value>,
}

impl<'a> Params<'a> {
    fn new(cfg: &'a MechanismConfig) -> Result<Self, String> {
        let known = known_params(cfg.kind);
        if let Some(bad) = cfg.params.keys().find(|k| !known.contains(&k.as_str())) {
            return Err(format!(
                "mechanism `{}` has no parameter `{bad}` (known: {})",
                cfg.kind,
                known.join(", ")
            ));
        }
        Ok(Self {
            kind: cfg.kind,
            map: &cfg.params,
        })
    }

    fn number(&self, key: &str) -> Result<Option<f64>, String> {
        match self.map.get(key) {
            None => Ok(None),
            Some(v) => match v.as_f64() {
                Some(x) if x.is_finite() => Ok(Some(x)),
                _ => Err(format!(
                    "mechanism `{}` parameter `{key}` must be a finite number",
                    self.kind
                )),
            },
        }
    }

    /// A real ≥ `min` (default `default`).
    fn real(&self, key: &str, default: f64, min: f64) -> Result<f64, String> {
        let x = self.number(key)?.unwrap_or(default);
        if x < min {
            return Err(format!(
                "mechanism `{}` parameter `{key}` must be at least {min} (got {x})",
                self.kind
            ));
        }
        Ok(x)
    }

    /// A probability in `[0, 1]`.
    fn prob(&self, key: &str, default: f64) -> Result<f64, String> {
        let x = self.number(key)?.unwrap_or(default);
        if !(0.0..=1.0).contains(&x) {
            return Err(format!(
                "mechanism `{}` parameter `{key}` must be a probability in [0, 1] (got {x})",
                self.kind
            ));
        }
        Ok(x)
    }

    /// A whole number ≥ `min`.
    fn int(&self, key: &str, default: u64, min: u64) -> Result<u64, String> {
        let Some(x) = self.number(key)? else {
            return Ok(default);
        };
        if x.fract() != 0.0 || !(0.0..=1e15).contains(&x) {
            return Err(format!(
                "mechanism `{}` parameter `{key}` must be a whole number ≥ 0 (got {x})",
                self.kind
            ));
        }
        let n = x as u64;
        if n < min {
            return Err(format!(
                "mechanism `{}` parameter `{key}` must be at least {min} (got {n})",
                self.kind
            ));
        }
        Ok(n)
    }

    fn optional_int(&self, key: &str, min: u64) -> Result<Option<u64>, String> {
        if self.map.contains_key(key) {
            self.int(key, 0, min).map(Some)
        } else {
            Ok(None)
        }
    }

    fn flag(&self, key: &str, default: bool) -> Result<bool, String> {
        match self.map.get(key) {
            None => Ok(default),
            Some(v) => v.as_bool().ok_or_else(|| {
                format!(
                    "mechanism `{}` parameter `{key}` must be true or false",
                    self.kind
                )
            }),
        }
    }

    /// A list of whole numbers ≥ 0.
    fn ints(&self, key: &str) -> Result<Option<Vec<u64>>, String> {
        let Some(v) = self.map.get(key) else {
            return Ok(None);
        };
        let err = || {
            format!(
                "mechanism `{}` parameter `{key}` must be a list of whole numbers ≥ 0",
                self.kind
            )
        };
        let seq = v.as_sequence().ok_or_else(err)?;
        seq.iter()
            .map(|x| match x.as_f64() {
                Some(f) if f >= 0.0 && f.fract() == 0.0 && f <= 1e15 => Ok(f as u64),
                _ => Err(err()),
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Some)
    }
}

// ---------------------------------------------------------------------------
// Shared helpers
// ---------------------------------------------------------------------------

/// `k` distinct indices of `0..n`, drawn uniformly (partial Fisher–Yates, one draw each).
fn pick_distinct(n: usize, k: usize, rng: &mut dyn FnMut() -> f64) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..n).collect();
    let k = k.min(n);
    for i in 0..k {
        let j = i + uniform_index(n - i, rng);
        idx.swap(i, j);
    }
    idx.truncate(k);
    idx
}

/// A uniform index of `0..n` (`n ≥ 1`) from one draw.
fn uniform_index(n: usize, rng: &mut dyn FnMut() -> f64) -> usize {
    let u = rng().clamp(0.0, 1.0);
    ((u * n as f64) as usize).min(n.saturating_sub(1))
}

/// Reward units from proof-cost units, rounded to the nearest unit.
fn units(x: f64) -> u64 {
    if x.is_finite() && x > 0.0 {
        x.round() as u64
    } else {
        0
    }
}

fn delivered_set(deliveries: &[Delivery]) -> BTreeSet<Address> {
    deliveries
        .iter()
        .filter(|d| d.delivered)
        .map(|d| d.prover)
        .collect()
}

fn stake_of(provers: &[ProverInfo], who: &Address) -> u64 {
    provers
        .iter()
        .find(|p| &p.address == who)
        .map_or(0, |p| p.stake)
}

/// Accumulates payments and slashes in first-seen order, dropping zeros.
#[derive(Default)]
struct Book {
    payments: Vec<(Address, u64)>,
    slashes: Vec<(Address, u64)>,
}

impl Book {
    fn pay(&mut self, who: Address, amount: u64) {
        add(&mut self.payments, who, amount);
    }

    /// Slashes `amount` capped at the prover's stake.
    fn slash(&mut self, provers: &[ProverInfo], who: Address, amount: u64) {
        let already = self
            .slashes
            .iter()
            .find(|(a, _)| *a == who)
            .map_or(0, |(_, n)| *n);
        let left = stake_of(provers, &who).saturating_sub(already);
        add(&mut self.slashes, who, amount.min(left));
    }

    fn finish(self, liveness_fault: bool) -> Payout {
        Payout {
            payments: self.payments,
            slashes: self.slashes,
            liveness_fault,
            capacity_oracle: None,
        }
    }
}

fn add(list: &mut Vec<(Address, u64)>, who: Address, amount: u64) {
    if amount == 0 {
        return;
    }
    if let Some(e) = list.iter_mut().find(|(a, _)| *a == who) {
        e.1 = e.1.saturating_add(amount);
    } else {
        list.push((who, amount));
    }
}

/// Draws a committee of `m` distinct provers and flips each member's coin with `q`;
/// returns `(committee, asked members)` in draw order.
fn committee_with_coins(
    provers: &[ProverInfo],
    exclude: Option<usize>,
    m: usize,
    q: f64,
    rng: &mut dyn FnMut() -> f64,
) -> (Vec<Address>, Vec<Address>) {
    let pool: Vec<usize> = (0..provers.len()).filter(|i| Some(*i) != exclude).collect();
    let picks = pick_distinct(pool.len(), m, rng);
    let committee: Vec<Address> = picks.iter().map(|i| provers[pool[*i]].address).collect();
    let asked = committee.iter().copied().filter(|_| rng() < q).collect();
    (committee, asked)
}

fn fmt_f(x: f64) -> String {
    format!("{x}")
}

// ---------------------------------------------------------------------------
// spec
// ---------------------------------------------------------------------------

/// `spec`: the spec's selection and its T2/T3 rows reduced to one delivery per prover,
/// for the simulator (`distributed-proof-generation-spec.txt`, "Prover Selection and
/// Assignment", T2 and T3 incentives). **On the live devnet the engine runs the full
/// T1–T5 table itself** and this rule's `settle` is not used there.
///
/// * request: `min(provers_per_proof, n / 2)` provers uniformly without replacement (the
///   engine additionally weights by reputation); each is allocated
///   `⌈num_partial_proofs × redundancy / s⌉` partial proofs (the spec's `num_airs_assigned`).
/// * settle: each asked prover gets `reward_partial × amount` (default 10 =
///   `REWARD_T2_PROVER`) and is slashed `penalty_partial × (allocated − amount)` (default
///   3 = `|PENALTY_T2_PROVER|`); the first deliverer in `asked` order aggregates and gets
///   `reward_aggregator` (default 50 = `REWARD_PROVER_T3`). No deliverer: liveness fault.
#[derive(Debug, Clone, PartialEq)]
pub struct SpecRule {
    /// `PROVERS_PER_PROOF`.
    pub provers_per_proof: u64,
    /// Sub-blocks per block.
    pub num_partial_proofs: u64,
    /// Distinct provers per sub-block.
    pub redundancy: u64,
    /// Reward units per valid partial proof.
    pub reward_partial: u64,
    /// Reward units slashed per assigned partial proof not delivered.
    pub penalty_partial: u64,
    /// Reward units to the aggregator.
    pub reward_aggregator: u64,
}

impl SpecRule {
    fn from_params(p: &Params<'_>) -> Result<Self, String> {
        Ok(Self {
            provers_per_proof: p.int("provers_per_proof", 200, 1)?,
            num_partial_proofs: p.int("num_partial_proofs", 4, 1)?,
            redundancy: p.int("redundancy", 2, 1)?,
            reward_partial: p.int("reward_partial", 10, 0)?,
            penalty_partial: p.int("penalty_partial", 3, 0)?,
            reward_aggregator: p.int("reward_aggregator", 50, 0)?,
        })
    }
}

impl Mechanism for SpecRule {
    fn kind(&self) -> &'static str {
        "spec"
    }

    fn params(&self) -> Vec<(String, String)> {
        vec![
            (
                "provers_per_proof".into(),
                self.provers_per_proof.to_string(),
            ),
            (
                "num_partial_proofs".into(),
                self.num_partial_proofs.to_string(),
            ),
            ("redundancy".into(), self.redundancy.to_string()),
        ]
    }

    fn request(&self, _slot: u64, provers: &[ProverInfo], rng: &mut dyn FnMut() -> f64) -> Request {
        let s =
            (provers.len() / 2).min(usize::try_from(self.provers_per_proof).unwrap_or(usize::MAX));
        let asked: Vec<Address> = pick_distinct(provers.len(), s, rng)
            .into_iter()
            .map(|i| provers[i].address)
            .collect();
        let per = if s == 0 {
            0
        } else {
            (self.num_partial_proofs * self.redundancy.min(s as u64)).div_ceil(s as u64)
        };
        Request {
            allocation: asked.iter().map(|a| (*a, per)).collect(),
            asked,
            ..Request::default()
        }
    }

    fn settle(
        &self,
        _slot: u64,
        provers: &[ProverInfo],
        request: &Request,
        deliveries: &[Delivery],
    ) -> Payout {
        let mut book = Book::default();
        let mut first = None;
        for who in &request.asked {
            let owed = request.allocated(who);
            let got = deliveries
                .iter()
                .find(|d| &d.prover == who)
                .map_or(0, |d| d.amount.min(owed));
            if got > 0
                && first.is_none()
                && deliveries.iter().any(|d| &d.prover == who && d.delivered)
            {
                first = Some(*who);
            }
            book.pay(*who, self.reward_partial.saturating_mul(got));
            book.slash(
                provers,
                *who,
                self.penalty_partial.saturating_mul(owed - got),
            );
        }
        if let Some(agg) = first {
            book.pay(agg, self.reward_aggregator);
        }
        book.finish(first.is_none())
    }
}

// ---------------------------------------------------------------------------
// designated
// ---------------------------------------------------------------------------

/// `designated`: one designated prover asked deterministically and a committee of `m`
/// provers each asked with mixing probability `q` (`adversarial-procurement-paper.txt`,
/// Def. 3.1), paid by the recipe of Lem. 3.4 (proof in A.5) and Rem. 3.3.
///
/// * request: the designate is drawn uniformly from the provers; `m` committee members
///   uniformly from the rest; each member's coin is drawn with `q` (dpgnet draws the
///   members' mixing coins from the RANDAO on their behalf, so the nodes prove only when
///   asked).
/// * settle, with `c = proof_cost` (reward units per proof, the paper's unit cost):
///   - (Rem. 3.3 (ii)) every payment is conditioned on the designate delivering; if it
///     does not, nobody is paid.
///   - (Rem. 3.3 (i)) otherwise the protocol pays the fixed total `T = round(c·(1 + m·q))`
///     however many copies arrive: the committee members who delivered split the prize
///     `R = round(c · m·q / (1 − (1 − q)^m))` evenly (eq. (8); `R = c` when `m·q = 0`),
///     and the designate gets `T` minus what the committee got (its expected payment is
///     `c`, so each party is indifferent, A.5).
///   - (§3.4, Cor. 3.2, Rem. 3.9) with `stake = S > 0`, a designate that does not deliver
///     is slashed `S`; with `correlated: true` every committee member is slashed `S` too
///     (Rem. 3.10's correlated slashing, aggregate `B = (m + 1)·S`). Slashes are capped at
///     the prover's stake and paid to the protocol as insurance.
/// * liveness fault: no asked prover delivered.
///
/// Parameters (defaults): `m` (2), `q` (0.5), `proof_cost` (100), `stake` (0),
/// `correlated` (false). Errors: `q ∉ [0, 1]`; `m + 1` more than the provers.
#[derive(Debug, Clone, PartialEq)]
pub struct Designated {
    /// Committee size `m`.
    pub m: u64,
    /// Mixing probability `q`.
    pub q: f64,
    /// Reward units per proof (the paper's unit cost).
    pub proof_cost: u64,
    /// Slash `S` per prover, reward units.
    pub stake: u64,
    /// Slash the committee too when the designate fails.
    pub correlated: bool,
}

impl Designated {
    fn from_params(p: &Params<'_>) -> Result<Self, String> {
        Ok(Self {
            m: p.int("m", 2, 0)?,
            q: p.prob("q", 0.5)?,
            proof_cost: p.int("proof_cost", 100, 0)?,
            stake: p.int("stake", 0, 0)?,
            correlated: p.flag("correlated", false)?,
        })
    }

    /// The fixed total `T = round(c·(1 + m·q))`, reward units.
    #[must_use]
    pub fn total(&self) -> u64 {
        units(self.proof_cost as f64 * (1.0 + self.m as f64 * self.q))
    }

    /// The committee prize `R = round(c · m·q / (1 − (1 − q)^m))`, reward units.
    #[must_use]
    pub fn prize(&self) -> u64 {
        units(self.proof_cost as f64 * prize_factor(self.m, self.q)).min(self.total())
    }
}

/// `m·q / (1 − (1 − q)^m)`, the indifference prize of eq. (8) in proof-cost units (1 when
/// `m·q = 0`).
fn prize_factor(m: u64, q: f64) -> f64 {
    let mq = m as f64 * q;
    if mq < 1e-12 {
        1.0
    } else {
        mq / (1.0 - (1.0 - q).powf(m as f64))
    }
}

impl Mechanism for Designated {
    fn kind(&self) -> &'static str {
        "designated"
    }

    fn params(&self) -> Vec<(String, String)> {
        vec![
            ("m".into(), self.m.to_string()),
            ("q".into(), fmt_f(self.q)),
            ("proof_cost".into(), self.proof_cost.to_string()),
            ("T".into(), self.total().to_string()),
            ("R".into(), self.prize().to_string()),
            ("stake".into(), self.stake.to_string()),
            ("correlated".into(), self.correlated.to_string()),
        ]
    }

    fn check_provers(&self, provers: usize) -> Result<(), String> {
        if self.m as usize + 1 > provers {
            return Err(format!(
                "mechanism `designated` parameter `m` = {} is impossible: it needs m + 1 ≤ provers ({provers} eligible provers)",
                self.m
            ));
        }
        Ok(())
    }

    fn request(&self, _slot: u64, provers: &[ProverInfo], rng: &mut dyn FnMut() -> f64) -> Request {
        if provers.is_empty() {
            return Request::default();
        }
        let d = uniform_index(provers.len(), rng);
        let designate = provers[d].address;
        let (committee, members) =
            committee_with_coins(provers, Some(d), self.m as usize, self.q, rng);
        let mut asked = vec![designate];
        asked.extend(members);
        Request {
            designated: Some(designate),
            asked,
            committee,
            ..Request::default()
        }
    }

    fn settle(
        &self,
        _slot: u64,
        provers: &[ProverInfo],
        request: &Request,
        deliveries: &[Delivery],
    ) -> Payout {
        let got = delivered_set(deliveries);
        let asked_delivered = request.asked.iter().any(|a| got.contains(a));
        let mut book = Book::default();
        let Some(designate) = request.designated else {
            return book.finish(!asked_delivered);
        };
        if got.contains(&designate) {
            let members: Vec<Address> = request
                .asked
                .iter()
                .copied()
                .filter(|a| *a != designate && got.contains(a))
                .collect();
            let total = self.total();
            let mut to_committee = 0;
            if !members.is_empty() {
                let each = self.prize() / members.len() as u64;
                for a in &members {
                    book.pay(*a, each);
                }
                to_committee = each * members.len() as u64;
            }
            // The designate first in the payment list.
            let mut book2 = Book::default();
            book2.pay(designate, total - to_committee);
            book2.payments.extend(book.payments);
            book = book2;
        } else if self.stake > 0 {
            book.slash(provers, designate, self.stake);
            if self.correlated {
                for a in &request.committee {
                    book.slash(provers, *a, self.stake);
                }
            }
        }
        book.finish(!asked_delivered)
    }
}

// ---------------------------------------------------------------------------
// lottery
// ---------------------------------------------------------------------------

/// `lottery`: a committee of `m` provers each asked with probability `q`; a fixed prize
/// goes to one deliverer drawn uniformly (`adversarial-procurement-paper.txt`, Ex. 3.2,
/// Def. A.2). No deliverer, no payment (and a liveness fault). No stake (the paper's
/// permissionless setting, §4.1).
///
/// * prize (reward units): `prize` if given, else eq. (8)'s indifference prize
///   `round(proof_cost · m·q / (1 − (1 − q)^m))`.
/// * the winner is `deliverers[⌊draw · k⌋]`, deliverers in `asked` order, `draw` the
///   request's uniform draw.
///
/// Parameters (defaults): `m` (3), `q` (0.5), `proof_cost` (100), `prize`.
/// Errors: `q ∉ [0, 1]`; `m` more than the provers.
#[derive(Debug, Clone, PartialEq)]
pub struct Lottery {
    /// Committee size `m`.
    pub m: u64,
    /// Mixing probability `q`.
    pub q: f64,
    /// Reward units per proof.
    pub proof_cost: u64,
    /// The prize, reward units.
    pub prize: u64,
}

impl Lottery {
    fn from_params(p: &Params<'_>) -> Result<Self, String> {
        let m = p.int("m", 3, 1)?;
        let q = p.prob("q", 0.5)?;
        let proof_cost = p.int("proof_cost", 100, 0)?;
        let prize = match p.optional_int("prize", 0)? {
            Some(x) => x,
            None => units(proof_cost as f64 * prize_factor(m, q)),
        };
        Ok(Self {
            m,
            q,
            proof_cost,
            prize,
        })
    }
}

impl Mechanism for Lottery {
    fn kind(&self) -> &'static str {
        "lottery"
    }

    fn params(&self) -> Vec<(String, String)> {
        vec![
            ("m".into(), self.m.to_string()),
            ("q".into(), fmt_f(self.q)),
            ("prize".into(), self.prize.to_string()),
        ]
    }

    fn check_provers(&self, provers: usize) -> Result<(), String> {
        if self.m as usize > provers {
            return Err(format!(
                "mechanism `lottery` parameter `m` = {} is impossible: it needs m ≤ provers ({provers} eligible provers)",
                self.m
            ));
        }
        Ok(())
    }

    fn request(&self, _slot: u64, provers: &[ProverInfo], rng: &mut dyn FnMut() -> f64) -> Request {
        let (committee, asked) = committee_with_coins(provers, None, self.m as usize, self.q, rng);
        let draw = rng();
        Request {
            asked,
            committee,
            draw,
            ..Request::default()
        }
    }

    fn settle(
        &self,
        _slot: u64,
        _provers: &[ProverInfo],
        request: &Request,
        deliveries: &[Delivery],
    ) -> Payout {
        let got = delivered_set(deliveries);
        let deliverers: Vec<Address> = request
            .asked
            .iter()
            .copied()
            .filter(|a| got.contains(a))
            .collect();
        let mut book = Book::default();
        if !deliverers.is_empty() {
            let mut draw_rng = || request.draw;
            let w = uniform_index(deliverers.len(), &mut draw_rng);
            book.pay(deliverers[w], self.prize);
        }
        book.finish(deliverers.is_empty())
    }
}

// ---------------------------------------------------------------------------
// pay_deliverers
// ---------------------------------------------------------------------------

/// `pay_deliverers`: ask `m` provers (default all) each with probability `q` and pay every
/// asked prover that delivers `proof_cost` (`adversarial-procurement-paper.txt`, Ex. 3.3:
/// "paying any prover that delivers 1"; the payment exactly offsets the cost, so provers
/// are indifferent). No stake.
///
/// Parameters (defaults): `m` (all provers), `q` (0.5), `proof_cost` (100).
/// Errors: `q ∉ [0, 1]`; `m` more than the provers.
#[derive(Debug, Clone, PartialEq)]
pub struct PayDeliverers {
    /// Committee size, `None` = every prover.
    pub m: Option<u64>,
    /// Mixing probability `q`.
    pub q: f64,
    /// Reward units paid per delivered proof.
    pub proof_cost: u64,
}

impl PayDeliverers {
    fn from_params(p: &Params<'_>) -> Result<Self, String> {
        Ok(Self {
            m: p.optional_int("m", 1)?,
            q: p.prob("q", 0.5)?,
            proof_cost: p.int("proof_cost", 100, 0)?,
        })
    }
}

impl Mechanism for PayDeliverers {
    fn kind(&self) -> &'static str {
        "pay_deliverers"
    }

    fn params(&self) -> Vec<(String, String)> {
        vec![
            (
                "m".into(),
                self.m.map_or_else(|| "all".to_owned(), |m| m.to_string()),
            ),
            ("q".into(), fmt_f(self.q)),
            ("proof_cost".into(), self.proof_cost.to_string()),
        ]
    }

    fn check_provers(&self, provers: usize) -> Result<(), String> {
        match self.m {
            Some(m) if m as usize > provers => Err(format!(
                "mechanism `pay_deliverers` parameter `m` = {m} is impossible: it needs m ≤ provers ({provers} eligible provers)"
            )),
            _ => Ok(()),
        }
    }

    fn request(&self, _slot: u64, provers: &[ProverInfo], rng: &mut dyn FnMut() -> f64) -> Request {
        let m = self.m.map_or(provers.len(), |m| m as usize);
        let (committee, asked) = committee_with_coins(provers, None, m, self.q, rng);
        Request {
            asked,
            committee,
            ..Request::default()
        }
    }

    fn settle(
        &self,
        _slot: u64,
        _provers: &[ProverInfo],
        request: &Request,
        deliveries: &[Delivery],
    ) -> Payout {
        let got = delivered_set(deliveries);
        let mut book = Book::default();
        let mut any = false;
        for a in request.asked.iter().filter(|a| got.contains(*a)) {
            any = true;
            book.pay(*a, self.proof_cost);
        }
        book.finish(!any)
    }
}

// ---------------------------------------------------------------------------
// capacity_audit
// ---------------------------------------------------------------------------

/// `capacity_audit`: suppliers bid capacity `b`; each bid is audited independently with
/// probability `ε`; an audited supplier that delivers its full bid is paid
/// `unit · (b + b^p)` (production cost `b` plus the convex reward `r(b) = b^p`), one that
/// delivers less is slashed `S` (`capacity-oracles-post.txt` §3.2 allocation and payment
/// rule, §4 with `r(x) = x^p`). Unaudited suppliers are neither paid nor asked.
///
/// * bids: `ProverInfo::capacity`; with `bids: [..]` given, the `i`-th prover of the
///   `provers` slice bids `bids[i]` instead (the list must cover the provers; on the
///   devnet the slice is the non-ejected provers in genesis order).
/// * the capacity oracle (§1.1, §2.2): the total capacity bid, published in
///   `Payout::capacity_oracle` at the last slot of each epoch of `epoch_slots` slots.
/// * liveness fault: no audited supplier delivered (including no audit at all).
///
/// Parameters (defaults): `epsilon` (0.5), `p` (2, ≥ 1), `stake` (`S`, 100 reward units),
/// `unit` (10 reward units per unit of work), `epoch_slots` (1), `bids`.
/// Errors: `epsilon ∉ [0, 1]`, `p < 1`, `epoch_slots = 0`, `bids` shorter than the provers.
#[derive(Debug, Clone, PartialEq)]
pub struct CapacityAudit {
    /// Audit probability `ε`.
    pub epsilon: f64,
    /// Reward power `p`.
    pub p: f64,
    /// Slash `S`, reward units.
    pub stake: u64,
    /// Reward units per unit of work.
    pub unit: u64,
    /// Slots per oracle epoch.
    pub epoch_slots: u64,
    /// Bids by prover index (the order of the `provers` slice), overriding `ProverInfo::capacity`.
    pub bids: Option<Vec<u64>>,
}

impl CapacityAudit {
    fn from_params(p: &Params<'_>) -> Result<Self, String> {
        Ok(Self {
            epsilon: p.prob("epsilon", 0.5)?,
            p: p.real("p", 2.0, 1.0)?,
            stake: p.int("stake", 100, 0)?,
            unit: p.int("unit", 10, 0)?,
            epoch_slots: p.int("epoch_slots", 1, 1)?,
            bids: p.ints("bids")?,
        })
    }

    /// The payment for a fully delivered bid `b`: `round(unit · (b + b^p))` reward units.
    #[must_use]
    pub fn payment(&self, b: u64) -> u64 {
        units(self.unit as f64 * (b as f64 + (b as f64).powf(self.p)))
    }

    /// The bid of `provers[i]`.
    fn bid(&self, provers: &[ProverInfo], i: usize) -> u64 {
        match &self.bids {
            Some(b) => b.get(i).copied().unwrap_or(0),
            None => provers[i].capacity,
        }
    }
}

impl Mechanism for CapacityAudit {
    fn kind(&self) -> &'static str {
        "capacity_audit"
    }

    fn params(&self) -> Vec<(String, String)> {
        let mut v = vec![
            ("epsilon".into(), fmt_f(self.epsilon)),
            ("p".into(), fmt_f(self.p)),
            ("S".into(), self.stake.to_string()),
            ("unit".into(), self.unit.to_string()),
            ("epoch_slots".into(), self.epoch_slots.to_string()),
        ];
        if let Some(b) = &self.bids {
            v.push((
                "bids".into(),
                b.iter().map(u64::to_string).collect::<Vec<_>>().join(","),
            ));
        }
        v
    }

    fn check_provers(&self, provers: usize) -> Result<(), String> {
        match &self.bids {
            Some(b) if b.len() < provers => Err(format!(
                "mechanism `capacity_audit` parameter `bids` has {} entries for {provers} provers",
                b.len()
            )),
            _ => Ok(()),
        }
    }

    fn request(&self, _slot: u64, provers: &[ProverInfo], rng: &mut dyn FnMut() -> f64) -> Request {
        let mut audited = Vec::new();
        let mut allocation = Vec::new();
        for (i, p) in provers.iter().enumerate() {
            if rng() < self.epsilon {
                audited.push(p.address);
                allocation.push((p.address, self.bid(provers, i)));
            }
        }
        Request {
            asked: audited.clone(),
            audited,
            allocation,
            ..Request::default()
        }
    }

    fn settle(
        &self,
        slot: u64,
        provers: &[ProverInfo],
        request: &Request,
        deliveries: &[Delivery],
    ) -> Payout {
        let mut book = Book::default();
        let mut any = false;
        for who in &request.audited {
            let b = request.allocated(who);
            let d = deliveries.iter().find(|d| &d.prover == who);
            let full = d.is_some_and(|d| d.delivered && d.amount >= b);
            if d.is_some_and(|d| d.delivered) {
                any = true;
            }
            if full {
                book.pay(*who, self.payment(b));
            } else {
                book.slash(provers, *who, self.stake);
            }
        }
        let mut out = book.finish(!any);
        if (slot + 1).is_multiple_of(self.epoch_slots) {
            out.capacity_oracle = Some(
                (0..provers.len())
                    .map(|i| self.bid(provers, i))
                    .fold(0u64, u64::saturating_add),
            );
        }
        out
    }
}

// ---------------------------------------------------------------------------
// dual_auction
// ---------------------------------------------------------------------------

/// `dual_auction`: Prooφ's dual auction (`proof-dual-auction-briefing.txt`, "Analysis":
/// "selecting transactions with the highest value up to a fixed capacity limit and then
/// compensating provers whose costs are below the average fee of the selected batch").
///
/// * user side: the slot's fee bids (reward units per transaction) are `fees: [..]`
///   (the same every slot) or, without `fees`, `txs` bids drawn uniformly in
///   `[fee_min, fee_max]` by a splitmix64 generator seeded with `fee_seed ⊕ slot`
///   (seeded data: dpgnet has no users). The batch is the highest `capacity_cap` fees;
///   `price` = the batch's average fee, rounded down.
/// * prover side: cost and capacity bids are `ProverInfo::cost`/`capacity`, or `costs` /
///   `capacities` lists by prover index (the order of the `provers` slice). Provers with `cost < price` win,
///   cheapest first (ties by address); the batch's transactions are allocated to them in
///   that order up to each one's capacity. Winners left without transactions are not
///   asked.
/// * settle: each asked prover that delivered is paid `price × min(amount, allocated)`;
///   the rest of the fee pool is the protocol's. No stake.
/// * liveness fault: no asked prover delivered (or nobody could be asked).
///
/// Parameters (defaults): `fees`, `txs` (16), `fee_min` (1), `fee_max` (20), `fee_seed`
/// (0), `capacity_cap` (8, ≥ 1), `costs`, `capacities`.
/// Errors: `fee_min > fee_max`, `capacity_cap = 0`, an empty `fees`, lists shorter than
/// the provers.
#[derive(Debug, Clone, PartialEq)]
pub struct DualAuction {
    /// Fixed fee bids, reward units per transaction.
    pub fees: Option<Vec<u64>>,
    /// Generated bids per slot.
    pub txs: u64,
    /// Lowest generated fee.
    pub fee_min: u64,
    /// Highest generated fee.
    pub fee_max: u64,
    /// Generator seed.
    pub fee_seed: u64,
    /// Batch capacity cap, transactions.
    pub capacity_cap: u64,
    /// Cost bids by prover index.
    pub costs: Option<Vec<u64>>,
    /// Capacity bids by prover index.
    pub capacities: Option<Vec<u64>>,
}

/// splitmix64: the fee generator's step.
fn splitmix64(state: &mut u64) -> u64 {
    *state = state.wrapping_add(0x9E37_79B9_7F4A_7C15);
    let mut z = *state;
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

impl DualAuction {
    fn from_params(p: &Params<'_>) -> Result<Self, String> {
        let s = Self {
            fees: p.ints("fees")?,
            txs: p.int("txs", 16, 1)?,
            fee_min: p.int("fee_min", 1, 0)?,
            fee_max: p.int("fee_max", 20, 0)?,
            fee_seed: p.int("fee_seed", 0, 0)?,
            capacity_cap: p.int("capacity_cap", 8, 1)?,
            costs: p.ints("costs")?,
            capacities: p.ints("capacities")?,
        };
        if s.fee_min > s.fee_max {
            return Err(format!(
                "mechanism `dual_auction` needs fee_min ≤ fee_max (got {} > {})",
                s.fee_min, s.fee_max
            ));
        }
        if s.fees.as_ref().is_some_and(Vec::is_empty) {
            return Err("mechanism `dual_auction` parameter `fees` must not be empty".into());
        }
        Ok(s)
    }

    /// The slot's fee bids, reward units per transaction, in bid order.
    #[must_use]
    pub fn fee_bids(&self, slot: u64) -> Vec<u64> {
        if let Some(f) = &self.fees {
            return f.clone();
        }
        let mut st = self.fee_seed ^ slot.wrapping_mul(0xA24B_AED4_963E_E407);
        let span = self.fee_max - self.fee_min + 1;
        (0..self.txs)
            .map(|_| self.fee_min + splitmix64(&mut st) % span)
            .collect()
    }

    /// The batch (highest fees up to the cap, descending) and its average fee (rounded
    /// down), reward units.
    #[must_use]
    pub fn batch(&self, slot: u64) -> (Vec<u64>, u64) {
        let mut f = self.fee_bids(slot);
        f.sort_unstable_by(|a, b| b.cmp(a));
        f.truncate(self.capacity_cap as usize);
        let price = if f.is_empty() {
            0
        } else {
            f.iter().sum::<u64>() / f.len() as u64
        };
        (f, price)
    }

    fn cost(&self, provers: &[ProverInfo], i: usize) -> u64 {
        self.costs
            .as_ref()
            .map_or(provers[i].cost, |c| c.get(i).copied().unwrap_or(u64::MAX))
    }

    fn capacity(&self, provers: &[ProverInfo], i: usize) -> u64 {
        self.capacities
            .as_ref()
            .map_or(provers[i].capacity, |c| c.get(i).copied().unwrap_or(0))
    }
}

impl Mechanism for DualAuction {
    fn kind(&self) -> &'static str {
        "dual_auction"
    }

    fn params(&self) -> Vec<(String, String)> {
        let mut v = vec![("capacity_cap".into(), self.capacity_cap.to_string())];
        match &self.fees {
            Some(f) => v.push((
                "fees".into(),
                f.iter().map(u64::to_string).collect::<Vec<_>>().join(","),
            )),
            None => {
                v.push(("txs".into(), self.txs.to_string()));
                v.push((
                    "fees".into(),
                    format!("{}..={}", self.fee_min, self.fee_max),
                ));
                v.push(("fee_seed".into(), self.fee_seed.to_string()));
            }
        }
        v
    }

    fn check_provers(&self, provers: usize) -> Result<(), String> {
        for (name, l) in [("costs", &self.costs), ("capacities", &self.capacities)] {
            if let Some(l) = l
                && l.len() < provers
            {
                return Err(format!(
                    "mechanism `dual_auction` parameter `{name}` has {} entries for {provers} provers",
                    l.len()
                ));
            }
        }
        Ok(())
    }

    fn request(&self, slot: u64, provers: &[ProverInfo], _rng: &mut dyn FnMut() -> f64) -> Request {
        let (batch, price) = self.batch(slot);
        let mut winners: Vec<usize> = (0..provers.len())
            .filter(|i| self.cost(provers, *i) < price)
            .collect();
        winners.sort_by_key(|i| (self.cost(provers, *i), provers[*i].address));
        let mut left = batch.len() as u64;
        let mut allocation = Vec::new();
        for i in winners {
            if left == 0 {
                break;
            }
            let take = self.capacity(provers, i).min(left);
            if take > 0 {
                allocation.push((provers[i].address, take));
                left -= take;
            }
        }
        Request {
            asked: allocation.iter().map(|(a, _)| *a).collect(),
            allocation,
            ..Request::default()
        }
    }

    fn settle(
        &self,
        slot: u64,
        _provers: &[ProverInfo],
        request: &Request,
        deliveries: &[Delivery],
    ) -> Payout {
        let (_, price) = self.batch(slot);
        let mut book = Book::default();
        let mut any = false;
        for who in &request.asked {
            if let Some(d) = deliveries.iter().find(|d| &d.prover == who && d.delivered) {
                any = true;
                book.pay(
                    *who,
                    price.saturating_mul(d.amount.min(request.allocated(who))),
                );
            }
        }
        book.finish(!any)
    }
}

// ---------------------------------------------------------------------------
// proof_tree
// ---------------------------------------------------------------------------

/// `proof_tree`: the Aztec notes' protocol-elected provers
/// (`aztec-prover-network-notes.txt`, "Protocol-elected provers"; uncle rewards from
/// "Payments").
///
/// * request: each of `leaves` leaves is assigned to a prover drawn uniformly (the VRF:
///   the devnet's RANDAO draws); each merge node of two adjacent nodes is given to the
///   prover of one of its two children (one draw, left if `< 0.5`), up to the root (an
///   odd node out is carried up a level unchanged). `allocation` = nodes per prover.
/// * settle: a prover that `delivered` produces all its nodes. A node whose prover failed
///   is produced by the sibling's prover if that one delivered ("its sibling is
///   incentivised to step in"; for a merge node, the other child's prover), and a merge
///   node needs both children. A prover is paid `leaf_reward` per leaf and `merge_reward`
///   per merge node **assigned to it** that it produced, only if the root is produced
///   ("the sibling gets rewarded only for the nodes that were assigned for them", the
///   failing prover gets nothing). If the root is not produced (liveness fault), every
///   node a delivering prover produced was neglected and earns `uncle_reward` instead;
///   a valid delivery from a prover that was not asked is neglected too and earns
///   `uncle_reward × amount`. With `stake > 0`, an asked prover that failed is slashed
///   `stake` (the notes' optional slashing).
///
/// Parameters (defaults): `leaves` (4, ≥ 1), `leaf_reward` (40), `merge_reward` (20),
/// `uncle_reward` (10), `stake` (0). Reward units.
#[derive(Debug, Clone, PartialEq)]
pub struct ProofTree {
    /// Leaves of the tree.
    pub leaves: u64,
    /// Reward units per leaf.
    pub leaf_reward: u64,
    /// Reward units per merge node.
    pub merge_reward: u64,
    /// Reward units per neglected valid proof.
    pub uncle_reward: u64,
    /// Slash per failing asked prover.
    pub stake: u64,
}

/// A node of a proof tree: its assigned prover and children (none for a leaf).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct TreeNode {
    /// Assigned prover.
    pub prover: Address,
    /// Children indices into the node list (leaves have none).
    pub children: Option<(usize, usize)>,
}

impl ProofTree {
    fn from_params(p: &Params<'_>) -> Result<Self, String> {
        Ok(Self {
            leaves: p.int("leaves", 4, 1)?,
            leaf_reward: p.int("leaf_reward", 40, 0)?,
            merge_reward: p.int("merge_reward", 20, 0)?,
            uncle_reward: p.int("uncle_reward", 10, 0)?,
            stake: p.int("stake", 0, 0)?,
        })
    }

    /// Builds the tree from leaf provers and merge-node coins (one per merge node, in
    /// construction order; `true` = the left child's prover). Nodes are in construction
    /// order, leaves first; the root is last.
    #[must_use]
    pub fn tree(leaf_provers: &[Address], coins: &mut dyn FnMut() -> bool) -> Vec<TreeNode> {
        let mut nodes: Vec<TreeNode> = leaf_provers
            .iter()
            .map(|p| TreeNode {
                prover: *p,
                children: None,
            })
            .collect();
        let mut level: Vec<usize> = (0..nodes.len()).collect();
        while level.len() > 1 {
            let mut next = Vec::new();
            for pair in level.chunks(2) {
                if let [l, r] = pair {
                    let prover = if coins() {
                        nodes[*l].prover
                    } else {
                        nodes[*r].prover
                    };
                    nodes.push(TreeNode {
                        prover,
                        children: Some((*l, *r)),
                    });
                    next.push(nodes.len() - 1);
                } else {
                    next.push(pair[0]);
                }
            }
            level = next;
        }
        nodes
    }

    /// The sibling of each node (`None` for the root and an odd node carried up).
    fn siblings(nodes: &[TreeNode]) -> Vec<Option<usize>> {
        let mut sib = vec![None; nodes.len()];
        for n in nodes {
            if let Some((l, r)) = n.children {
                sib[l] = Some(r);
                sib[r] = Some(l);
            }
        }
        sib
    }
}

impl Mechanism for ProofTree {
    fn kind(&self) -> &'static str {
        "proof_tree"
    }

    fn params(&self) -> Vec<(String, String)> {
        vec![
            ("leaves".into(), self.leaves.to_string()),
            ("leaf_reward".into(), self.leaf_reward.to_string()),
            ("merge_reward".into(), self.merge_reward.to_string()),
            ("uncle_reward".into(), self.uncle_reward.to_string()),
            ("stake".into(), self.stake.to_string()),
        ]
    }

    fn request(&self, _slot: u64, provers: &[ProverInfo], rng: &mut dyn FnMut() -> f64) -> Request {
        if provers.is_empty() {
            return Request::default();
        }
        let leaf_provers: Vec<Address> = (0..self.leaves)
            .map(|_| provers[uniform_index(provers.len(), rng)].address)
            .collect();
        let nodes = Self::tree(&leaf_provers, &mut || rng() < 0.5);
        let mut allocation: Vec<(Address, u64)> = Vec::new();
        for n in &nodes {
            add(&mut allocation, n.prover, 1);
        }
        Request {
            asked: allocation.iter().map(|(a, _)| *a).collect(),
            allocation,
            tree: nodes,
            ..Request::default()
        }
    }

    fn settle(
        &self,
        _slot: u64,
        provers: &[ProverInfo],
        request: &Request,
        deliveries: &[Delivery],
    ) -> Payout {
        let got = delivered_set(deliveries);
        let nodes = &request.tree;
        let sib = Self::siblings(nodes);
        let mut book = Book::default();
        // produced[i] = Some(producer) when node i exists.
        let mut produced: Vec<Option<Address>> = vec![None; nodes.len()];
        for (i, n) in nodes.iter().enumerate() {
            let children_ok = n
                .children
                .is_none_or(|(l, r)| produced[l].is_some() && produced[r].is_some());
            if !children_ok {
                continue;
            }
            if got.contains(&n.prover) {
                produced[i] = Some(n.prover);
            } else {
                let fallback = match n.children {
                    Some((l, r)) => {
                        let other = if nodes[l].prover == n.prover { r } else { l };
                        Some(nodes[other].prover)
                    }
                    None => sib[i].map(|s| nodes[s].prover),
                };
                if let Some(f) = fallback.filter(|f| got.contains(f)) {
                    produced[i] = Some(f);
                }
            }
        }
        let root_ok = produced.last().is_some_and(Option::is_some);
        for (i, n) in nodes.iter().enumerate() {
            if produced[i] != Some(n.prover) {
                continue;
            }
            let reward = if !root_ok {
                self.uncle_reward
            } else if n.children.is_some() {
                self.merge_reward
            } else {
                self.leaf_reward
            };
            book.pay(n.prover, reward);
        }
        for d in deliveries {
            if d.delivered && !request.asked.contains(&d.prover) {
                book.pay(d.prover, self.uncle_reward.saturating_mul(d.amount));
            }
        }
        if self.stake > 0 {
            for a in request.asked.iter().filter(|a| !got.contains(*a)) {
                book.slash(provers, *a, self.stake);
            }
        }
        book.finish(!root_ok)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(n: u8) -> Address {
        Address::repeat_byte(n)
    }

    fn provers(n: u8, stake: u64) -> Vec<ProverInfo> {
        (1..=n)
            .map(|i| ProverInfo {
                address: addr(i),
                stake,
                capacity: 2,
                cost: 5,
            })
            .collect()
    }

    /// A deterministic draw sequence, cycling through `xs`.
    fn seq(xs: &[f64]) -> impl FnMut() -> f64 + '_ {
        let mut i = 0;
        move || {
            let x = xs[i % xs.len()];
            i += 1;
            x
        }
    }

    fn del(who: Address, delivered: bool, amount: u64) -> Delivery {
        Delivery {
            prover: who,
            delivered,
            amount,
        }
    }

    fn cfg(kind: MechanismKind, params: &[(&str, f64)]) -> MechanismConfig {
        MechanismConfig::with(kind, params)
    }

    #[test]
    fn kinds_round_trip_through_strings_and_yaml() {
        for k in MechanismKind::ALL {
            assert_eq!(k.name().parse::<MechanismKind>(), Ok(k));
            assert_eq!(k.to_string(), k.name());
            assert_eq!(
                build(&MechanismConfig {
                    kind: k,
                    params: BTreeMap::new()
                })
                .unwrap()
                .kind(),
                k.name()
            );
        }
        let err = "vickrey".parse::<MechanismKind>().unwrap_err();
        assert!(err.contains("unknown mechanism `vickrey`"), "{err}");
        let c: MechanismConfig =
            serde_yaml::from_str("kind: capacity_audit\nparams: {epsilon: 0.25, bids: [1, 2]}\n")
                .unwrap();
        assert_eq!(c.kind, MechanismKind::CapacityAudit);
        let m = build(&c).unwrap();
        assert!(m.params().contains(&("epsilon".into(), "0.25".into())));
        assert!(serde_yaml::from_str::<MechanismConfig>("kind: nope\n").is_err());
        assert!(serde_yaml::from_str::<MechanismConfig>("kind: spec\nextra: 1\n").is_err());
        assert_eq!(MechanismConfig::default().kind, MechanismKind::Spec);
    }

    #[test]
    fn impossible_params_are_rejected_with_the_parameter_named() {
        let cases: Vec<(MechanismConfig, &str)> = vec![
            (
                cfg(MechanismKind::Designated, &[("q", 1.5)]),
                "`q` must be a probability",
            ),
            (
                cfg(MechanismKind::Designated, &[("q", -0.1)]),
                "`q` must be a probability",
            ),
            (
                cfg(MechanismKind::Designated, &[("w", 1.0)]),
                "no parameter `w`",
            ),
            (
                cfg(MechanismKind::Designated, &[("m", 1.5)]),
                "`m` must be a whole number",
            ),
            (
                cfg(MechanismKind::Lottery, &[("m", 0.0)]),
                "`m` must be at least 1",
            ),
            (
                cfg(MechanismKind::CapacityAudit, &[("p", 0.5)]),
                "`p` must be at least 1",
            ),
            (
                cfg(MechanismKind::CapacityAudit, &[("epsilon", 2.0)]),
                "`epsilon` must be a probability",
            ),
            (
                cfg(MechanismKind::CapacityAudit, &[("epoch_slots", 0.0)]),
                "`epoch_slots` must be at least 1",
            ),
            (
                cfg(MechanismKind::DualAuction, &[("capacity_cap", 0.0)]),
                "`capacity_cap` must be at least 1",
            ),
            (
                cfg(
                    MechanismKind::DualAuction,
                    &[("fee_min", 9.0), ("fee_max", 3.0)],
                ),
                "fee_min ≤ fee_max",
            ),
            (
                cfg(MechanismKind::ProofTree, &[("leaves", 0.0)]),
                "`leaves` must be at least 1",
            ),
            (
                cfg(MechanismKind::Spec, &[("stake", 1.0)]),
                "no parameter `stake`",
            ),
        ];
        for (c, want) in cases {
            let err = build(&c).unwrap_err();
            assert!(err.contains(want), "{:?}: {err}", c.params);
        }
        let mut c = cfg(MechanismKind::CapacityAudit, &[]);
        c.params
            .insert("bids".into(), serde_yaml::from_str("[1, -2]").unwrap());
        assert!(build(&c).unwrap_err().contains("`bids` must be a list"));
        c.params
            .insert("bids".into(), serde_yaml::from_str("[1, 2]").unwrap());
        assert!(
            build_for(&c, 3)
                .unwrap_err()
                .contains("`bids` has 2 entries for 3 provers")
        );
        assert!(build_for(&c, 2).is_ok());
        let mut c = cfg(MechanismKind::DualAuction, &[]);
        c.params
            .insert("fees".into(), serde_yaml::from_str("[]").unwrap());
        assert!(build(&c).unwrap_err().contains("`fees` must not be empty"));
        let mut c = cfg(MechanismKind::Designated, &[]);
        c.params
            .insert("q".into(), serde_yaml::from_str("high").unwrap());
        assert!(
            build(&c)
                .unwrap_err()
                .contains("`q` must be a finite number")
        );
        // m > provers.
        let d = cfg(MechanismKind::Designated, &[("m", 4.0)]);
        assert!(build_for(&d, 4).unwrap_err().contains("m + 1 ≤ provers"));
        assert!(build_for(&d, 5).is_ok());
        let l = cfg(MechanismKind::Lottery, &[("m", 4.0)]);
        assert!(build_for(&l, 3).unwrap_err().contains("m ≤ provers"));
        let p = cfg(MechanismKind::PayDeliverers, &[("m", 9.0)]);
        assert!(build_for(&p, 8).unwrap_err().contains("m ≤ provers"));
    }

    #[test]
    fn designated_request_asks_the_designate_first_and_members_by_coin() {
        let d = build(&cfg(MechanismKind::Designated, &[("m", 3.0), ("q", 0.5)])).unwrap();
        let ps = provers(8, 100);
        // designate draw 0.3 → index 2; committee picks from the other 7; coins 0.1, 0.9, 0.2.
        let draws = [0.3, 0.0, 0.0, 0.0, 0.1, 0.9, 0.2];
        let r = d.request(0, &ps, &mut seq(&draws));
        assert_eq!(r.designated, Some(addr(3)));
        assert_eq!(r.committee.len(), 3);
        assert!(!r.committee.contains(&addr(3)));
        // Members whose coin < q are asked: the 1st and the 3rd.
        assert_eq!(r.asked, vec![addr(3), r.committee[0], r.committee[2]]);
        // q = 1 asks everyone, q = 0 only the designate.
        let all = build(&cfg(MechanismKind::Designated, &[("m", 3.0), ("q", 1.0)])).unwrap();
        assert_eq!(all.request(0, &ps, &mut seq(&[0.5, 0.99])).asked.len(), 4);
        let none = build(&cfg(MechanismKind::Designated, &[("m", 3.0), ("q", 0.0)])).unwrap();
        assert_eq!(none.request(0, &ps, &mut seq(&[0.5, 0.0])).asked.len(), 1);
    }

    #[test]
    fn designated_pays_the_fixed_total_only_when_the_designate_delivers() {
        // m = 2, q = 0.5, c = 100: T = 100·(1 + 1) = 200; R = 100·1/(1 − 0.25) = 133.
        let d = Designated {
            m: 2,
            q: 0.5,
            proof_cost: 100,
            stake: 0,
            correlated: false,
        };
        assert_eq!((d.total(), d.prize()), (200, 133));
        let ps = provers(4, 1000);
        let req = Request {
            designated: Some(addr(1)),
            asked: vec![addr(1), addr(2), addr(3)],
            committee: vec![addr(2), addr(3)],
            ..Request::default()
        };
        // Designate alone: the whole T.
        let p = d.settle(
            0,
            &ps,
            &req,
            &[del(addr(1), true, 1), del(addr(2), false, 0)],
        );
        assert_eq!(p.payments, vec![(addr(1), 200)]);
        assert!(!p.liveness_fault);
        // One member delivers: it gets R, the designate T − R.
        let p = d.settle(
            0,
            &ps,
            &req,
            &[del(addr(1), true, 1), del(addr(2), true, 1)],
        );
        assert_eq!(p.payments, vec![(addr(1), 67), (addr(2), 133)]);
        // Two members split R (66 each, the odd unit to the designate); total still T.
        let p = d.settle(
            0,
            &ps,
            &req,
            &[
                del(addr(1), true, 1),
                del(addr(2), true, 1),
                del(addr(3), true, 1),
            ],
        );
        assert_eq!(
            p.payments,
            vec![(addr(1), 68), (addr(2), 66), (addr(3), 66)]
        );
        assert_eq!(p.total_paid(), 200);
        // A delivering prover that was not asked (addr 4) is not paid.
        let p = d.settle(
            0,
            &ps,
            &req,
            &[del(addr(1), true, 1), del(addr(4), true, 1)],
        );
        assert_eq!(p.payments, vec![(addr(1), 200)]);
        // Designate fails: nobody is paid even though a member delivered; no fault.
        let p = d.settle(
            0,
            &ps,
            &req,
            &[del(addr(1), false, 0), del(addr(2), true, 1)],
        );
        assert!(p.payments.is_empty() && p.slashes.is_empty());
        assert!(!p.liveness_fault);
        // Nothing at all: liveness fault.
        assert!(d.settle(0, &ps, &req, &[]).liveness_fault);
    }

    #[test]
    fn designated_slashes_the_designate_or_everyone_when_correlated() {
        let mut ps = provers(4, 1000);
        ps[2].stake = 30; // addr 3 has less stake than S.
        let req = Request {
            designated: Some(addr(1)),
            asked: vec![addr(1), addr(2)],
            committee: vec![addr(2), addr(3)],
            ..Request::default()
        };
        let d = Designated {
            m: 2,
            q: 0.5,
            proof_cost: 100,
            stake: 50,
            correlated: false,
        };
        let p = d.settle(0, &ps, &req, &[del(addr(2), true, 1)]);
        assert_eq!(p.slashes, vec![(addr(1), 50)]);
        assert!(p.payments.is_empty());
        let c = Designated {
            correlated: true,
            ..d.clone()
        };
        let p = c.settle(0, &ps, &req, &[]);
        // Every committee member, asked or not, capped at its stake.
        assert_eq!(p.slashes, vec![(addr(1), 50), (addr(2), 50), (addr(3), 30)]);
        assert_eq!(p.total_slashed(), 130);
        assert!(p.liveness_fault);
        // A delivering designate is never slashed.
        let p = c.settle(0, &ps, &req, &[del(addr(1), true, 1)]);
        assert!(p.slashes.is_empty());
    }

    #[test]
    fn lottery_pays_one_prize_to_the_drawn_deliverer() {
        let l = build(&cfg(MechanismKind::Lottery, &[("m", 3.0), ("q", 0.5)])).unwrap();
        // prize = 100 · 1.5 / (1 − 0.125) = 171.43 → 171.
        assert!(l.params().contains(&("prize".into(), "171".into())));
        let ps = provers(5, 100);
        // committee picks (3 draws), coins 0.1 0.2 0.9, then the lottery draw 0.7.
        let r = l.request(0, &ps, &mut seq(&[0.0, 0.0, 0.0, 0.1, 0.2, 0.9, 0.7]));
        assert_eq!(r.committee.len(), 3);
        assert_eq!(r.asked, r.committee[..2].to_vec());
        assert!((r.draw - 0.7).abs() < 1e-12);
        let ds = [del(r.asked[0], true, 1), del(r.asked[1], true, 1)];
        let p = l.settle(0, &ps, &r, &ds);
        // ⌊0.7 · 2⌋ = 1: the second deliverer.
        assert_eq!(p.payments, vec![(r.asked[1], 171)]);
        let p = l.settle(0, &ps, &r, &ds[..1]);
        assert_eq!(p.payments, vec![(r.asked[0], 171)]);
        let p = l.settle(0, &ps, &r, &[]);
        assert!(p.payments.is_empty() && p.liveness_fault);
        let fixed = build(&cfg(MechanismKind::Lottery, &[("prize", 500.0)])).unwrap();
        assert!(fixed.params().contains(&("prize".into(), "500".into())));
    }

    #[test]
    fn pay_deliverers_pays_each_asked_deliverer_the_proof_cost() {
        let m = build(&cfg(
            MechanismKind::PayDeliverers,
            &[("q", 0.5), ("proof_cost", 70.0)],
        ))
        .unwrap();
        let ps = provers(4, 100);
        // 4 picks (all provers), coins 0.1 0.6 0.3 0.8 → 2 asked.
        let r = m.request(0, &ps, &mut seq(&[0.0, 0.0, 0.0, 0.0, 0.1, 0.6, 0.3, 0.8]));
        assert_eq!(r.committee.len(), 4);
        assert_eq!(r.asked, vec![r.committee[0], r.committee[2]]);
        let ds = [
            del(r.asked[0], true, 1),
            del(r.asked[1], true, 1),
            del(r.committee[1], true, 1),
        ];
        let p = m.settle(0, &ps, &r, &ds);
        assert_eq!(p.payments, vec![(r.asked[0], 70), (r.asked[1], 70)]);
        assert!(!p.liveness_fault);
        assert!(m.settle(0, &ps, &r, &ds[2..]).liveness_fault);
    }

    #[test]
    fn capacity_audit_pays_b_plus_b_to_the_p_and_slashes_shortfalls() {
        let c = CapacityAudit {
            epsilon: 0.5,
            p: 2.0,
            stake: 100,
            unit: 10,
            epoch_slots: 2,
            bids: None,
        };
        // unit · (b + b^p): b = 3 → 10 · (3 + 9) = 120; b = 2 → 60.
        assert_eq!((c.payment(3), c.payment(2), c.payment(0)), (120, 60, 0));
        let mut ps = provers(4, 1000);
        ps[0].capacity = 3;
        ps[3].stake = 40;
        // Audit draws: 0.1 (yes), 0.7 (no), 0.2 (yes), 0.4 (yes).
        let r = c.request(1, &ps, &mut seq(&[0.1, 0.7, 0.2, 0.4]));
        assert_eq!(r.audited, vec![addr(1), addr(3), addr(4)]);
        assert_eq!(r.asked, r.audited);
        assert_eq!(r.allocation, vec![(addr(1), 3), (addr(3), 2), (addr(4), 2)]);
        let p = c.settle(
            1,
            &ps,
            &r,
            &[
                del(addr(1), true, 3),
                del(addr(3), true, 1),
                del(addr(2), true, 2),
            ],
        );
        assert_eq!(p.payments, vec![(addr(1), 120)]);
        // addr 3 delivered 1 of 2: slashed S; addr 4 nothing: slashed its 40 of stake.
        assert_eq!(p.slashes, vec![(addr(3), 100), (addr(4), 40)]);
        assert!(!p.liveness_fault);
        // Slot 1 ends an epoch of 2: the oracle is Σ b = 3 + 2 + 2 + 2.
        assert_eq!(p.capacity_oracle, Some(9));
        assert_eq!(c.settle(2, &ps, &r, &[]).capacity_oracle, None);
        // ε = 0: nobody audited, nothing asked, a liveness fault.
        let z = CapacityAudit {
            epsilon: 0.0,
            ..c.clone()
        };
        let r = z.request(0, &ps, &mut seq(&[0.0]));
        assert!(r.asked.is_empty());
        assert!(z.settle(0, &ps, &r, &[]).liveness_fault);
        // Explicit bids override capacities.
        let b = CapacityAudit {
            bids: Some(vec![1, 1, 4, 1]),
            epsilon: 1.0,
            ..c
        };
        let r = b.request(0, &ps, &mut seq(&[0.0]));
        assert_eq!(r.allocated(&addr(3)), 4);
        // p = 1.5, b = 4: 10 · (4 + 8) = 120.
        assert_eq!(CapacityAudit { p: 1.5, ..b }.payment(4), 120);
    }

    #[test]
    fn dual_auction_takes_fees_in_order_and_pays_provers_below_the_average() {
        let mut c = cfg(MechanismKind::DualAuction, &[("capacity_cap", 3.0)]);
        c.params.insert(
            "fees".into(),
            serde_yaml::from_str("[10, 20, 30, 40, 5]").unwrap(),
        );
        c.params.insert(
            "costs".into(),
            serde_yaml::from_str("[10, 29, 30, 5]").unwrap(),
        );
        c.params.insert(
            "capacities".into(),
            serde_yaml::from_str("[2, 2, 2, 0]").unwrap(),
        );
        let m = build_for(&c, 4).unwrap();
        let ps = provers(4, 100);
        // Batch [40, 30, 20], price 30. Costs < 30: p4 (5, no capacity), p1 (10), p2 (29).
        let r = m.request(0, &ps, &mut seq(&[0.5]));
        assert_eq!(r.asked, vec![addr(1), addr(2)]);
        assert_eq!(r.allocation, vec![(addr(1), 2), (addr(2), 1)]);
        let p = m.settle(0, &ps, &r, &[del(addr(1), true, 2), del(addr(2), true, 1)]);
        assert_eq!(p.payments, vec![(addr(1), 60), (addr(2), 30)]);
        // A partial delivery is paid for what arrived; over-delivery is capped.
        let p = m.settle(0, &ps, &r, &[del(addr(1), true, 1), del(addr(2), true, 5)]);
        assert_eq!(p.payments, vec![(addr(1), 30), (addr(2), 30)]);
        assert!(
            m.settle(0, &ps, &r, &[del(addr(1), false, 0)])
                .liveness_fault
        );
        // Generated fees: seeded, in range, per slot.
        let g = DualAuction::from_params(
            &Params::new(&cfg(
                MechanismKind::DualAuction,
                &[
                    ("txs", 50.0),
                    ("fee_min", 3.0),
                    ("fee_max", 9.0),
                    ("fee_seed", 11.0),
                ],
            ))
            .unwrap(),
        )
        .unwrap();
        let f0 = g.fee_bids(0);
        assert_eq!(f0.len(), 50);
        assert!(f0.iter().all(|f| (3..=9).contains(f)));
        assert_eq!(f0, g.fee_bids(0));
        assert_ne!(f0, g.fee_bids(1));
        let (batch, price) = g.batch(0);
        assert_eq!(batch.len(), 8);
        assert!(batch.windows(2).all(|w| w[0] >= w[1]));
        assert_eq!(price, batch.iter().sum::<u64>() / 8);
        // Nobody cheap enough: nobody asked, a liveness fault.
        let mut dear = ps.clone();
        for p in &mut dear {
            p.cost = 1_000;
        }
        let r = g.request(0, &dear, &mut seq(&[0.5]));
        assert!(r.asked.is_empty());
        assert!(g.settle(0, &dear, &r, &[]).liveness_fault);
    }

    fn tree_request(t: &ProofTree, leaf_provers: &[Address], left: bool) -> Request {
        let nodes = ProofTree::tree(leaf_provers, &mut || left);
        let mut allocation = Vec::new();
        for n in &nodes {
            add(&mut allocation, n.prover, 1);
        }
        let _ = t;
        Request {
            asked: allocation.iter().map(|(a, _)| *a).collect(),
            allocation,
            tree: nodes,
            ..Request::default()
        }
    }

    #[test]
    fn proof_tree_assigns_leaves_and_merges_to_a_child_prover() {
        let t = build(&cfg(MechanismKind::ProofTree, &[("leaves", 4.0)])).unwrap();
        let ps = provers(4, 100);
        // Leaves → p1, p2, p3, p4 (draws 0, .25, .5, .75); merge coins: right, left, right.
        let r = t.request(0, &ps, &mut seq(&[0.0, 0.25, 0.5, 0.75, 0.9, 0.1, 0.9]));
        let who: Vec<Address> = r.tree.iter().map(|n| n.prover).collect();
        // (p1,p2)→p2, (p3,p4)→p3, root (p2,p3)→p3.
        assert_eq!(
            who,
            vec![
                addr(1),
                addr(2),
                addr(3),
                addr(4),
                addr(2),
                addr(3),
                addr(3)
            ]
        );
        assert_eq!(r.tree[6].children, Some((4, 5)));
        assert_eq!(
            r.allocation,
            vec![(addr(1), 1), (addr(2), 2), (addr(3), 3), (addr(4), 1)]
        );
        // 3 leaves: the odd leaf is carried up a level.
        let n = ProofTree::tree(&[addr(1), addr(2), addr(3)], &mut || true);
        assert_eq!(n.len(), 5);
        assert_eq!(n[3].children, Some((0, 1)));
        assert_eq!(n[4].children, Some((3, 2)));
    }

    #[test]
    fn proof_tree_pays_assigned_nodes_with_sibling_fallback_and_uncles() {
        let t = ProofTree {
            leaves: 4,
            leaf_reward: 40,
            merge_reward: 20,
            uncle_reward: 10,
            stake: 25,
        };
        let ps = provers(5, 100);
        let leaves = [addr(1), addr(2), addr(3), addr(4)];
        // Merges to the left child: (A,B)→A, (C,D)→C, root→A.
        let r = tree_request(&t, &leaves, true);
        let all: Vec<Delivery> = leaves.iter().map(|a| del(*a, true, 1)).collect();
        let p = t.settle(0, &ps, &r, &all);
        assert_eq!(
            p.payments,
            vec![(addr(1), 80), (addr(2), 40), (addr(3), 60), (addr(4), 40)]
        );
        assert!(!p.liveness_fault && p.slashes.is_empty());
        // B fails: A steps in for B's leaf unpaid; B gets nothing and is slashed.
        let p = t.settle(0, &ps, &r, &[all[0], all[2], all[3]]);
        assert_eq!(
            p.payments,
            vec![(addr(1), 80), (addr(3), 60), (addr(4), 40)]
        );
        assert_eq!(p.slashes, vec![(addr(2), 25)]);
        assert!(!p.liveness_fault);
        // A fails: B covers leaf 0, but the merge (A) falls back to B, and the root (A)
        // to the other child's prover C.
        let p = t.settle(0, &ps, &r, &all[1..]);
        assert_eq!(
            p.payments,
            vec![(addr(2), 40), (addr(3), 60), (addr(4), 40)]
        );
        assert!(!p.liveness_fault);
        // A and B fail: their subtree is missing, the root too; C and D's valid proofs
        // were neglected: uncle rewards (C: leaf + merge, D: leaf). E volunteered 2.
        let p = t.settle(0, &ps, &r, &[all[2], all[3], del(addr(5), true, 2)]);
        assert_eq!(
            p.payments,
            vec![(addr(3), 20), (addr(4), 10), (addr(5), 20)]
        );
        assert_eq!(p.slashes, vec![(addr(1), 25), (addr(2), 25)]);
        assert!(p.liveness_fault);
    }

    #[test]
    fn spec_rule_pays_partials_and_the_aggregator() {
        let s = build(&cfg(MechanismKind::Spec, &[])).unwrap();
        let ps = provers(8, 100);
        let r = s.request(0, &ps, &mut seq(&[0.0]));
        // min(200, 8/2) = 4 provers, 4 · 2 / 4 = 2 partials each.
        assert_eq!(r.asked.len(), 4);
        assert!(r.allocation.iter().all(|(_, n)| *n == 2));
        let a = r.asked.clone();
        let p = s.settle(
            0,
            &ps,
            &r,
            &[del(a[0], false, 1), del(a[1], true, 2), del(a[2], true, 2)],
        );
        // a0: 1 partial (10), short 1 (slash 3); a1 aggregates: 20 + 50; a2: 20; a3: slash 6.
        assert_eq!(p.payments, vec![(a[0], 10), (a[1], 70), (a[2], 20)]);
        assert_eq!(p.slashes, vec![(a[0], 3), (a[3], 6)]);
        assert!(!p.liveness_fault);
        assert!(s.settle(0, &ps, &r, &[]).liveness_fault);
    }

    #[test]
    fn pick_distinct_is_a_permutation_prefix() {
        let xs = [0.99, 0.5, 0.0, 0.3];
        let v = pick_distinct(6, 6, &mut seq(&xs));
        let mut s = v.clone();
        s.sort_unstable();
        assert_eq!(s, (0..6).collect::<Vec<_>>());
        assert_eq!(pick_distinct(3, 5, &mut seq(&xs)).len(), 3);
        assert_eq!(uniform_index(4, &mut || 1.0), 3);
    }
}
