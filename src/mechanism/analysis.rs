//! The analysis math of the research seeds, as pure functions.
//!
//! Two texts, two parts:
//!
//! * `adversarial-procurement-paper.txt` ("the paper"): a protocol procures one
//!   proof from `n` provers, at most `f` of whom a one-slot Byzantine attacker
//!   corrupts (§2, Rem. 2.1). **Units:** the cost of producing one proof is 1
//!   (§2 "Setup"), so payments, the liveness penalty `P`, the aggregate stake
//!   `B` and every loss below are in *proof-cost units*; probabilities are
//!   plain numbers in `[0, 1]`. The loss of a mechanism is the worst case over
//!   the attacker of `payments + P × [no proof]` (Def. 2.1, Def. 2.2), minus
//!   slashed stake paid to the protocol as insurance (Rem. 3.9, Cor. 3.2).
//! * `capacity-oracles-post.txt` ("the post"): suppliers bid capacity, each bid
//!   is audited with probability `ε`, a fully delivered bid `b` is paid
//!   `b + b^p`, a short one loses the stake `S` (§3.2, §4). **Units:** the cost
//!   of one unit of work is 1 (§2 of the post, "per-unit cost of production
//!   normalized to 1"), so `S`, utilities and the protocol cost `2ε*` are in
//!   *unit-work costs*.
//!
//! The paper's lower bound (Lem. 3.1 eq. (1)) on a strategy vector `π` sorted
//! decreasingly is
//!
//! ```text
//! L(π) = max( Σ π_i + P·Π_i (1 − π_i) ,  P·Π_{i>f} (1 − π_i) − B )
//! ```
//!
//! (`B = 0` without stake; with stake it is `L_B` of Cor. 3.2, whose right
//! branch shifts by the slashed bond). Every optimum here is an exact integer
//! search over committee sizes and a root-find or a convex line search over the
//! mixing probability; see each function.
//!
//! The seed text has lost its typeset formulas; every formula below was
//! rebuilt from the surrounding prose and the proofs, and then checked against
//! every number the two texts still state (`tests/analysis_numbers.rs`,
//! `docs/analysis.md`).

use serde::Serialize;
use thiserror::Error;

/// The largest prover count the exact searches accept.
pub const MAX_PROVERS: u64 = 100_000;

/// The smallest reward power `p` the capacity search accepts.
///
/// Below it the attacker's useful splits `α = 1/j` reach `j ≈ ε^{-1/(p-1)}`
/// (§4.2: "α > ε^{1/(p−1)}"), which is unbounded as `p → 1` (§4.1: linear
/// rewards are always vulnerable).
pub const MIN_POWER: f64 = 1.2;

/// The largest reward power `p` the capacity search accepts.
pub const MAX_POWER: f64 = 20.0;

/// The largest split `j` (bid `α = 1/j`) the capacity search examines; past it
/// a result is marked `truncated`.
pub const MAX_SPLIT: u64 = 20_000;

/// Why an analysis could not run: each message is one sentence.
#[derive(Debug, Clone, PartialEq, Error)]
pub enum AnalysisError {
    /// There must be at least one prover.
    #[error("the number of provers must be at least 1")]
    NoProvers,
    /// The exact search is bounded.
    #[error("the number of provers must be at most {MAX_PROVERS} (got {0})")]
    TooManyProvers(u64),
    /// The honest fraction α must lie in (0, 1].
    #[error("the honest fraction must be greater than 0 and at most 1 (got {0})")]
    HonestFraction(f64),
    /// At least one prover must be honest.
    #[error(
        "the number of corrupted provers ({corrupted}) must be less than the number of provers ({provers})"
    )]
    TooManyCorrupted {
        /// Corrupted provers asked for.
        corrupted: u64,
        /// Provers in total.
        provers: u64,
    },
    /// The liveness penalty P must be a finite number ≥ 0.
    #[error("the penalty must be a finite number of at least 0 (got {0})")]
    Penalty(f64),
    /// The aggregate stake B must be a finite number ≥ 0.
    #[error("the stake must be a finite number of at least 0 (got {0})")]
    Stake(f64),
    /// The reward power p is outside the range the search supports.
    #[error(
        "the reward power p must be between {MIN_POWER} and {MAX_POWER} (got {0}); the post's convex rewards need p > 1 and linear rewards are always open to Sybil splitting (§4.1)"
    )]
    Power(f64),
    /// The capacity stake S must be a positive finite number.
    #[error(
        "the stake S must be a positive finite number (got {0}); with S = 0 nothing deters duplicate bids"
    )]
    CapacityStake(f64),
    /// The audit probability ε must lie in (0, 1].
    #[error("the audit probability must be greater than 0 and at most 1 (got {0})")]
    AuditProbability(f64),
}

// ---------------------------------------------------------------------------
// Inputs of the paper's model
// ---------------------------------------------------------------------------

/// The paper's model parameters (§2, Rem. 2.1, Cor. 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct ProcurementParams {
    /// `n`: pseudonymous provers.
    pub provers: u64,
    /// `f`: provers the attacker may corrupt for one slot (Rem. 2.1).
    pub corrupted: u64,
    /// `P`: the penalty of a liveness fault, in proof-cost units (§2).
    pub penalty: f64,
    /// `B`: aggregate stake the protocol may slash as insurance, in proof-cost
    /// units (§3.4, Cor. 3.2); 0 for the unstaked model.
    pub stake: f64,
}

impl ProcurementParams {
    /// Parameters from an honest fraction `α`: at least `⌈α·n⌉` provers are
    /// honest, so the attacker corrupts `f = n − ⌈α·n⌉` (§2: "at least … of
    /// them are honest"; §3.3 "honest proportion").
    ///
    /// # Errors
    /// Any input outside the model (see [`ProcurementParams::validate`]).
    pub fn from_honest_fraction(
        provers: u64,
        honest_fraction: f64,
        penalty: f64,
        stake: f64,
    ) -> Result<Self, AnalysisError> {
        if !(honest_fraction > 0.0 && honest_fraction <= 1.0) {
            return Err(AnalysisError::HonestFraction(honest_fraction));
        }
        check_provers(provers)?;
        let honest = honest_count(provers, honest_fraction);
        let params = Self {
            provers,
            corrupted: provers - honest,
            penalty,
            stake,
        };
        params.validate()?;
        Ok(params)
    }

    /// Checks that the parameters describe the paper's model.
    ///
    /// # Errors
    /// No provers, too many provers, `f ≥ n`, a negative or non-finite `P` or `B`.
    pub fn validate(&self) -> Result<(), AnalysisError> {
        check_provers(self.provers)?;
        if self.corrupted >= self.provers {
            return Err(AnalysisError::TooManyCorrupted {
                corrupted: self.corrupted,
                provers: self.provers,
            });
        }
        if !(self.penalty.is_finite() && self.penalty >= 0.0) {
            return Err(AnalysisError::Penalty(self.penalty));
        }
        if !(self.stake.is_finite() && self.stake >= 0.0) {
            return Err(AnalysisError::Stake(self.stake));
        }
        Ok(())
    }

    /// Honest provers `h = n − f`.
    #[must_use]
    pub fn honest(&self) -> u64 {
        self.provers - self.corrupted
    }

    /// The honest fraction `α = h / n`.
    #[must_use]
    pub fn honest_fraction(&self) -> f64 {
        self.honest() as f64 / self.provers as f64
    }
}

fn check_provers(provers: u64) -> Result<(), AnalysisError> {
    if provers == 0 {
        return Err(AnalysisError::NoProvers);
    }
    if provers > MAX_PROVERS {
        return Err(AnalysisError::TooManyProvers(provers));
    }
    Ok(())
}

/// `⌈α·n⌉`, robust to the floating-point error of `α·n` (0.29 × 100 is
/// 28.999…): products within 1e-9 of an integer count as that integer.
#[must_use]
pub fn honest_count(provers: u64, honest_fraction: f64) -> u64 {
    let x = honest_fraction * provers as f64;
    let rounded = x.round();
    let h = if (x - rounded).abs() < 1e-9 {
        rounded
    } else {
        x.ceil()
    };
    (h as u64).clamp(1, provers)
}

// ---------------------------------------------------------------------------
// The paper: designated leader + committee
// ---------------------------------------------------------------------------

/// `(1 − q)^k` for a real `k ≥ 0`, accurate for large `k` and small `q`.
fn survive(q: f64, k: f64) -> f64 {
    if k <= 0.0 {
        return 1.0;
    }
    if q >= 1.0 {
        return 0.0;
    }
    (k * (-q).ln_1p()).exp()
}

/// Honest committee members left when the attacker corrupts the designate and
/// `f − 1` committee members (as `i64`, ≤ 0 when it can corrupt them all).
fn designated_honest_committee(committee: u64, corrupted: u64) -> i64 {
    committee as i64 + 1 - corrupted as i64
}

/// The two branches of the lower bound (Lem. 3.1 eq. (1), with stake Cor. 3.2)
/// on a designated uniform committee vector `(1, q × m, 0 …)` (Def. 3.1).
///
/// Left: the attacker behaves (`1 + m·q` expected payments; the designate always
/// delivers so no fault). Right: the attacker corrupts the designate and the
/// `f − 1` largest committee members and withholds; the remaining
/// `k = m − f + 1` honest members all miss with probability `(1 − q)^k`, and
/// the protocol slashes `B` (Rem. 3.9). With `f = 0` nobody can stop the
/// designate, so the right branch is `−B`. Units: proof-cost units.
#[must_use]
pub fn designated_branches(params: &ProcurementParams, committee: u64, q: f64) -> (f64, f64) {
    let left = 1.0 + committee as f64 * q;
    let right = if params.corrupted == 0 {
        -params.stake
    } else {
        let k = designated_honest_committee(committee, params.corrupted);
        if k <= 0 {
            params.penalty - params.stake
        } else {
            params.penalty * survive(q, k as f64) - params.stake
        }
    };
    (left, right)
}

/// The worst-case loss of the designated mechanism with committee `m` and
/// mixing probability `q`: `max` of [`designated_branches`]. By Lem. 3.4 the
/// payment rule of Rem. 3.3 achieves exactly this loss. Units: proof-cost units.
#[must_use]
pub fn designated_loss(params: &ProcurementParams, committee: u64, q: f64) -> f64 {
    let (l, r) = designated_branches(params, committee, q);
    l.max(r)
}

/// The designated equilibrium for a fixed committee size `m`: the `q` at which
/// both branches are equal (Lem. 3.2, Cor. A.1), i.e. the root of
/// `1 + m·q = P·(1 − q)^{m−f+1} − B`, or `q = 0` when `1 ≥ P − B` already.
/// The left side increases and the right decreases in `q`, so the root is
/// unique; their gap is increasing and concave, so Newton's method from
/// `q = 0` climbs monotonically to it (machine precision, bisection fallback).
/// Closed forms exist for `k = 1` and `k = 2` ([`designated_q_closed_form`])
/// and the tests check the root-finder against them.
#[must_use]
pub fn designated_q_for_committee(params: &ProcurementParams, committee: u64) -> f64 {
    let (l0, r0) = designated_branches(params, committee, 0.0);
    if l0 >= r0 || committee == 0 {
        return 0.0;
    }
    let k = designated_honest_committee(committee, params.corrupted);
    if k <= 0 {
        return 0.0;
    }
    // g(q) = 1 + m q − P(1 − q)^k + B is increasing and concave, so Newton's
    // method from q = 0 (where g < 0) climbs monotonically to the root
    // without overshooting; bisection finishes it off if it stalls.
    let (m, k, p) = (committee as f64, k as f64, params.penalty);
    let g = |q: f64| {
        let (l, r) = designated_branches(params, committee, q);
        l - r
    };
    let mut q = 0.0;
    for _ in 0..500 {
        let gq = g(q);
        if gq >= 0.0 {
            return q;
        }
        let slope = m + p * k * survive(q, k - 1.0);
        let next = (q - gq / slope).min(1.0);
        if next <= q {
            // Converged from the left to machine precision.
            return q;
        }
        q = next;
    }
    bisect_increasing(g, q, 1.0)
}

/// Closed forms of the designated equality `1 + m·q = P(1 − q)^k − B` for
/// `k = m − f + 1 ∈ {1, 2}` honest committee members (linear and quadratic in
/// `q`); `None` for other `k` (no closed form: Rem. 3.5).
#[must_use]
pub fn designated_q_closed_form(params: &ProcurementParams, committee: u64) -> Option<f64> {
    if params.corrupted == 0 {
        return None;
    }
    let k = designated_honest_committee(committee, params.corrupted);
    let (p, b, m) = (params.penalty, params.stake, committee as f64);
    if p - b <= 1.0 {
        return Some(0.0);
    }
    match k {
        // 1 + m q = P (1 − q) − B
        1 => Some((p - b - 1.0) / (p + m)),
        // P q² − (2P + m) q + (P − B − 1) = 0, smaller root in [0, 1]
        2 => {
            let (a2, a1, a0) = (p, -(2.0 * p + m), p - b - 1.0);
            let disc = a1 * a1 - 4.0 * a2 * a0;
            Some((-a1 - disc.sqrt()) / (2.0 * a2))
        }
        _ => None,
    }
}

/// The optimal designated uniform committee equilibrium (Def. 3.1, Lem. 3.4,
/// Def. 3.5 / Def. 4.1 "designated" side, with stake Cor. 3.2).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DesignatedOptimum {
    /// `m`: committee size besides the designate (provers asked with prob. `q`).
    pub committee_size: u64,
    /// `m − f + 1`: committee members left honest in the worst case (≥ 0).
    pub honest_committee: u64,
    /// `q`: each committee member's probability of being asked to prove.
    pub mixing_probability: f64,
    /// The worst-case loss, proof-cost units (Lem. 3.4: equals `L`).
    pub loss: f64,
    /// The fixed total payment `1 + m·q`, made whenever the designate
    /// delivers, however many proofs arrive (Rem. 3.3 (i)); proof-cost units.
    pub fixed_payment: f64,
    /// Probability of a liveness fault under the worst attacker:
    /// `(1 − q)^{m−f+1}` (1 if the attacker can corrupt the whole committee).
    pub fault_probability_under_attack: f64,
    /// Stake `B` slashed and paid to the protocol when the designate fails
    /// (Rem. 3.9, Cor. 3.2); proof-cost units.
    pub slashed_on_attack: f64,
}

/// The optimal designated mechanism: exact search over every committee size
/// `m ∈ {0, …, n−1}`, each with its equality `q` ([`designated_q_for_committee`]).
/// Ties go to the smaller committee.
///
/// # Errors
/// Parameters outside the model ([`ProcurementParams::validate`]).
pub fn optimal_designated(params: &ProcurementParams) -> Result<DesignatedOptimum, AnalysisError> {
    params.validate()?;
    let mut best: Option<(u64, f64, f64)> = None;
    for m in 0..params.provers {
        let q = designated_q_for_committee(params, m);
        let loss = designated_loss(params, m, q);
        if best.is_none_or(|(_, _, l)| loss < l) {
            best = Some((m, q, loss));
        }
    }
    let (m, q, loss) = best.expect("n ≥ 1 gives m = 0");
    let k = designated_honest_committee(m, params.corrupted);
    let fault = if params.corrupted == 0 {
        0.0
    } else if k <= 0 {
        1.0
    } else {
        survive(q, k as f64)
    };
    Ok(DesignatedOptimum {
        committee_size: m,
        honest_committee: k.max(0) as u64,
        mixing_probability: q,
        loss,
        fixed_payment: 1.0 + m as f64 * q,
        fault_probability_under_attack: fault,
        slashed_on_attack: params.stake,
    })
}

// ---------------------------------------------------------------------------
// The paper: symmetric committees (lower bound)
// ---------------------------------------------------------------------------

/// The two branches of the lower bound (Lem. 3.1 eq. (1), Cor. 3.2) on a
/// symmetric committee vector `(q × m, 0 …)` (Def. 3.2): left
/// `m·q + P(1 − q)^m` (attacker behaves), right `P(1 − q)^{m−f} − B` (attacker
/// corrupts `f` committee members and withholds). Proof-cost units.
#[must_use]
pub fn symmetric_branches(params: &ProcurementParams, committee: u64, q: f64) -> (f64, f64) {
    let m = committee as f64;
    let left = m * q + params.penalty * survive(q, m);
    let k = committee as i64 - params.corrupted as i64;
    let right = if k <= 0 {
        params.penalty - params.stake
    } else {
        params.penalty * survive(q, k as f64) - params.stake
    };
    (left, right)
}

/// Which branch of `L` holds at a symmetric optimum.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum SymmetricBinding {
    /// Both branches equal (Lem. 3.2).
    Equality,
    /// The attacker-behaves branch at its own minimum `(1 − q)^{m−1} = 1/P`
    /// already exceeds the attack branch.
    LeftMinimum,
}

/// The minimizing symmetric committee equilibrium of the lower bound `L`
/// (Def. 3.2, Def. 3.5; with stake Cor. 3.2, Cor. A.2).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SymmetricOptimum {
    /// `m`: committee size (each member asked with probability `q`).
    pub committee_size: u64,
    /// `m − f`: committee members left honest in the worst case.
    pub honest_committee: u64,
    /// `q`: the mixing probability.
    pub mixing_probability: f64,
    /// `min L` over symmetric vectors, proof-cost units. A *lower bound*: it is
    /// the protocol's loss only when a payment rule implements it (Def. 3.3,
    /// Lem. 3.6); Ex. 3.4 shows it sometimes is not.
    pub loss: f64,
    /// Which branch of `L` binds.
    pub binding: SymmetricBinding,
}

/// The symmetric `q` for a fixed committee size `m > f`: the minimizer over
/// `q ∈ [0, 1]` of `max(left, right)` of [`symmetric_branches`]. Both branches
/// are convex in `q`; `left` is minimal at `q_A = 1 − P^{−1/(m−1)}` (where
/// `(1 − q)^{m−1} = 1/P`), `right` decreases. If `left(q_A) ≥ right(q_A)` the
/// optimum is `q_A`; otherwise it is the unique crossing `left = right` on
/// `(q_A, 1]` (Lem. 3.2), found by safeguarded Newton.
#[must_use]
pub fn symmetric_q_for_committee(
    params: &ProcurementParams,
    committee: u64,
) -> (f64, SymmetricBinding) {
    let m = committee as f64;
    let p = params.penalty;
    let q_left = if committee <= 1 {
        if p > 1.0 { 1.0 } else { 0.0 }
    } else if p > 1.0 {
        1.0 - p.powf(-1.0 / (m - 1.0))
    } else {
        0.0
    };
    let (l, r) = symmetric_branches(params, committee, q_left);
    if l >= r {
        return (q_left, SymmetricBinding::LeftMinimum);
    }
    let g = |q: f64| {
        let (l, r) = symmetric_branches(params, committee, q);
        l - r
    };
    let k = (committee as i64 - params.corrupted as i64).max(0) as f64;
    let dg = |q: f64| m - m * p * survive(q, m - 1.0) + p * k * survive(q, k - 1.0);
    (
        newton_bracketed(g, dg, q_left, 1.0),
        SymmetricBinding::Equality,
    )
}

/// The best symmetric committee: exact search over `m ∈ {f+1, …, n}` of
/// [`symmetric_q_for_committee`]. Ties go to the smaller committee. This is
/// the "Symm." column of the paper's table in §A.19.
///
/// # Errors
/// Parameters outside the model ([`ProcurementParams::validate`]).
pub fn optimal_symmetric(params: &ProcurementParams) -> Result<SymmetricOptimum, AnalysisError> {
    params.validate()?;
    let mut best: Option<SymmetricOptimum> = None;
    for m in (params.corrupted + 1)..=params.provers {
        let (q, binding) = symmetric_q_for_committee(params, m);
        let (l, r) = symmetric_branches(params, m, q);
        let loss = l.max(r);
        if best.is_none_or(|b| loss < b.loss) {
            best = Some(SymmetricOptimum {
                committee_size: m,
                honest_committee: m - params.corrupted,
                mixing_probability: q,
                loss,
                binding,
            });
        }
    }
    Ok(best.expect("f < n gives m = n"))
}

// ---------------------------------------------------------------------------
// The paper: lottery (Ex. 3.2, Def. A.2, Lem. A.1) and pay-deliverers (Ex. 3.3)
// ---------------------------------------------------------------------------

/// The lottery prize of eq. (8): with `m` members each delivering with
/// probability `q`, a deliverer wins the prize with probability
/// `E[1/(1+Y)] = (1 − (1 − q)^m)/(m·q)`, `Y ~ Bin(m−1, q)`, so the prize that
/// makes each member indifferent (expected payment = cost 1) is
/// `R = m·q / (1 − (1 − q)^m)` proof-cost units (`→ 1` as `q → 0`).
#[must_use]
pub fn lottery_prize(committee: u64, q: f64) -> f64 {
    let m = committee as f64;
    let none = survive(q, m);
    let mq = m * q;
    if mq < 1e-12 { 1.0 } else { mq / (1.0 - none) }
}

/// The lottery's worst-case loss (Lem. A.1 proof): the protocol pays `R` when
/// any proof arrives and `P` when none does, so the attacker withholds its `f`
/// committee members (or delivers, if `R > P`):
/// `max(R, R·(1 − (1 − q)^{m−f}) + P·(1 − q)^{m−f})`. No stake (Rem. 4.6: the
/// lottery fits the permissionless, stake-free setting). Proof-cost units.
#[must_use]
pub fn lottery_loss(params: &ProcurementParams, committee: u64, q: f64) -> f64 {
    let r = lottery_prize(committee, q);
    let k = committee as i64 - params.corrupted as i64;
    let miss = if k <= 0 { 1.0 } else { survive(q, k as f64) };
    r.max(r * (1.0 - miss) + params.penalty * miss)
}

/// The best lottery found by [`optimal_lottery`].
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct LotteryOptimum {
    /// `m`: members who play the lottery (mix with probability `q`).
    pub committee_size: u64,
    /// `q`: the mixing probability.
    pub mixing_probability: f64,
    /// `R`, eq. (8), proof-cost units.
    pub prize: f64,
    /// Worst-case loss ([`lottery_loss`]), proof-cost units.
    pub loss: f64,
}

/// The best lottery: exact search over `m ∈ {f+1, …, n}`; for each `m` a
/// 256-point scan of `q ∈ (0, 1]` refined by golden-section search in the best
/// bracket (the tests check it against a 100 000-point scan).
///
/// # Errors
/// Parameters outside the model ([`ProcurementParams::validate`]).
pub fn optimal_lottery(params: &ProcurementParams) -> Result<LotteryOptimum, AnalysisError> {
    params.validate()?;
    let mut best: Option<LotteryOptimum> = None;
    for m in (params.corrupted + 1)..=params.provers {
        let (q, loss) = scan_then_golden(|q| lottery_loss(params, m, q), 256);
        if best.is_none_or(|b| loss < b.loss) {
            best = Some(LotteryOptimum {
                committee_size: m,
                mixing_probability: q,
                prize: lottery_prize(m, q),
                loss,
            });
        }
    }
    Ok(best.expect("f < n gives m = n"))
}

/// Ex. 3.3's "pay deliverers" rule: all `n` provers mix with `q`, every
/// delivered proof is paid 1. The attacker either withholds (`(n−f)·q` paid,
/// fault with probability `(1 − q)^{n−f}`) or delivers all `f` (`f` more paid,
/// no fault): loss `(n−f)·q + max(P·(1 − q)^{n−f}, f)`. Proof-cost units.
#[must_use]
pub fn pay_deliverers_loss(params: &ProcurementParams, q: f64) -> f64 {
    let k = params.honest() as f64;
    k * q + (params.penalty * survive(q, k)).max(params.corrupted as f64)
}

/// The best pay-deliverers rule (Ex. 3.3).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct PayDeliverersOptimum {
    /// `q`: every prover's mixing probability.
    pub mixing_probability: f64,
    /// Worst-case loss, proof-cost units.
    pub loss: f64,
}

/// The best `q` for [`pay_deliverers_loss`] (convex in `q`: golden section).
///
/// # Errors
/// Parameters outside the model ([`ProcurementParams::validate`]).
pub fn optimal_pay_deliverers(
    params: &ProcurementParams,
) -> Result<PayDeliverersOptimum, AnalysisError> {
    params.validate()?;
    let (q, loss) = scan_then_golden(|q| pay_deliverers_loss(params, q), 64);
    let (q, loss) = if pay_deliverers_loss(params, 0.0) <= loss {
        (0.0, pay_deliverers_loss(params, 0.0))
    } else {
        (q, loss)
    };
    Ok(PayDeliverersOptimum {
        mixing_probability: q,
        loss,
    })
}

// ---------------------------------------------------------------------------
// The paper: continuous limit (Lem. 3.11, Lem. 3.12)
// ---------------------------------------------------------------------------

/// The principal branch `W₀(x)` of the Lambert W function for `x ≥ 0`
/// (`W e^W = x`), by Halley's iteration (or Newton on `w + ln w = ln x` for
/// large `x`).
#[must_use]
pub fn lambert_w0(x: f64) -> f64 {
    assert!(x >= 0.0, "lambert_w0 needs x ≥ 0");
    if x == 0.0 {
        return 0.0;
    }
    lambert_w0_of_exp(x.ln())
}

/// `W₀(e^y)`, usable when `e^y` overflows (Lem. 3.12 with a large stake).
#[must_use]
pub fn lambert_w0_of_exp(y: f64) -> f64 {
    if y > 1.0 {
        // Solve w + ln w = y by Newton from w = y − ln y.
        let mut w = y - y.ln();
        for _ in 0..100 {
            let f = w + w.ln() - y;
            let step = f / (1.0 + 1.0 / w);
            w -= step;
            if step.abs() <= 1e-15 * w.abs() {
                break;
            }
        }
        w
    } else {
        let x = y.exp();
        let mut w = if x < 1.0 { x * (1.0 - x) } else { 0.5 };
        for _ in 0..100 {
            let ew = w.exp();
            let f = w * ew - x;
            let wp1 = w + 1.0;
            let step = f / (ew * wp1 - (w + 2.0) * f / (2.0 * wp1));
            w -= step;
            if step.abs() <= 1e-16 * (1.0 + w.abs()) {
                break;
            }
        }
        w
    }
}

/// The optimal designated loss in the continuous limit `n → ∞` with honest
/// fraction `α` (proof of Lem. 3.10 eq. (11); with stake eq. (14)):
/// `1 + c = P·e^{−α·c} − B`, `L = 1 + c`, whose solution (proofs of Lem. 3.11
/// and Lem. 3.12, "the definition of the Lambert W function") is
///
/// ```text
/// L = W₀(α·P·e^{α(1+B)}) / α − B      (L = 1 when P − B ≤ 1)
/// ```
///
/// Proof-cost units. `α ∈ (0, 1]`.
#[must_use]
pub fn designated_loss_continuous(honest_fraction: f64, penalty: f64, stake: f64) -> f64 {
    if penalty - stake <= 1.0 {
        return 1.0;
    }
    let a = honest_fraction;
    lambert_w0_of_exp((a * penalty).ln() + a * (1.0 + stake)) / a - stake
}

/// The two-term asymptotic expansion `W(x) ≈ ln x − ln ln x` applied to
/// [`designated_loss_continuous`] (Lem. 3.11: "the first two terms of the
/// asymptotic expansion"; Lem. 3.12): with `y = ln(αP) + α(1+B)`,
/// `L ≈ (y − ln y)/α − B`. Unstaked, this is `(ln(αP) − ln ln(αP e^α))/α + 1`,
/// the `(1/α)·log(αP)` scaling of Lem. 3.11. Proof-cost units.
#[must_use]
pub fn designated_loss_asymptotic(honest_fraction: f64, penalty: f64, stake: f64) -> f64 {
    let a = honest_fraction;
    let y = (a * penalty).ln() + a * (1.0 + stake);
    (y - y.ln()) / a - stake
}

// ---------------------------------------------------------------------------
// The paper: the whole comparison
// ---------------------------------------------------------------------------

/// A mechanism of the paper that `analyze` compares.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum MechanismKind {
    /// Designated leader + uniform committee (Def. 3.1, Lem. 3.4).
    Designated,
    /// The symmetric committee lower bound (Def. 3.2, Def. 3.5).
    Symmetric,
    /// The lottery payment rule (Ex. 3.2, Def. A.2).
    Lottery,
    /// Pay every deliverer 1 (Ex. 3.3).
    PayDeliverers,
}

impl MechanismKind {
    /// The name `analyze` prints.
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::Designated => "designated",
            Self::Symmetric => "symmetric",
            Self::Lottery => "lottery",
            Self::PayDeliverers => "pay_deliverers",
        }
    }
}

/// What the comparison can say about optimality.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Optimality {
    /// The designated loss is at most the symmetric lower bound, so by
    /// Lem. 3.3 it is the minimum of `L` over all strategy vectors, and by
    /// Lem. 3.4 it is implemented: designated is optimal among *all*
    /// mechanisms.
    DesignatedExact,
    /// The symmetric lower bound is lower: the true optimum lies in
    /// `[symmetric bound, best implemented loss]` and designated is within 1
    /// of it (Thm. 3.1, Cor. 3.1).
    Bounded,
}

/// `dpgnet analyze designated`: every mechanism of the paper at one point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DesignatedAnalysis {
    /// The inputs.
    pub params: ProcurementParams,
    /// `α = (n − f)/n`.
    pub honest_fraction: f64,
    /// The optimal designated mechanism.
    pub designated: DesignatedOptimum,
    /// The best symmetric committee (lower bound `L`).
    pub symmetric: SymmetricOptimum,
    /// The best lottery.
    pub lottery: LotteryOptimum,
    /// The loss of the lottery of Lem. A.1 (at the symmetric minimizer's `m`,
    /// `q`, prize eq. (8)): its relative error against the symmetric optimum
    /// is at most 1. Unstaked only (`None` when `B > 0`: Lem. A.1 compares
    /// with the unstaked bound).
    pub lottery_at_symmetric_optimum: Option<f64>,
    /// The best pay-deliverers rule (Ex. 3.3).
    pub pay_deliverers: PayDeliverersOptimum,
    /// Designated loss in the `n → ∞` limit at the same `α` (Lem. 3.11/3.12).
    pub designated_continuous_limit: f64,
    /// The best mechanism that a payment rule implements here.
    pub optimal: MechanismKind,
    /// Its worst-case loss, proof-cost units.
    pub optimal_loss: f64,
    /// `min(designated, symmetric)`: a lower bound on the loss of every
    /// mechanism (Lem. 3.1, Lem. 3.3, Cor. 3.2).
    pub lower_bound: f64,
    /// What is proven about `optimal`.
    pub optimality: Optimality,
}

/// Runs every mechanism of the paper at one parameter point and says which is
/// optimal (see [`Optimality`]).
///
/// # Errors
/// Parameters outside the model ([`ProcurementParams::validate`]).
pub fn analyze_designated(params: &ProcurementParams) -> Result<DesignatedAnalysis, AnalysisError> {
    let designated = optimal_designated(params)?;
    let symmetric = optimal_symmetric(params)?;
    let lottery = optimal_lottery(params)?;
    let pay_deliverers = optimal_pay_deliverers(params)?;
    let lottery_at_symmetric_optimum = (params.stake == 0.0).then(|| {
        lottery_loss(
            params,
            symmetric.committee_size,
            symmetric.mixing_probability,
        )
    });
    let implemented = [
        (MechanismKind::Designated, designated.loss),
        (MechanismKind::Lottery, lottery.loss),
        (MechanismKind::PayDeliverers, pay_deliverers.loss),
    ];
    let (optimal, optimal_loss) =
        implemented.into_iter().fold(
            implemented[0],
            |best, c| if c.1 < best.1 { c } else { best },
        );
    let lower_bound = designated.loss.min(symmetric.loss);
    let optimality = if designated.loss <= symmetric.loss * (1.0 + 1e-12) {
        Optimality::DesignatedExact
    } else {
        Optimality::Bounded
    };
    Ok(DesignatedAnalysis {
        params: *params,
        honest_fraction: params.honest_fraction(),
        designated,
        symmetric,
        lottery,
        lottery_at_symmetric_optimum,
        pay_deliverers,
        designated_continuous_limit: designated_loss_continuous(
            params.honest_fraction(),
            params.penalty,
            params.stake,
        ),
        optimal,
        optimal_loss,
        lower_bound,
        optimality,
    })
}

/// The loss reduction that stake buys, as the paper's §A.19 table reports it
/// ("% red."): relative to the best unstaked loss `min(L_D, L_S)` at `B = 0`,
/// the staked designated loss. `None` where the staked designated loss is not
/// below the staked symmetric bound (the table prints "–" there). A fraction
/// (0.475 = 47.5%).
///
/// # Errors
/// Parameters outside the model.
pub fn stake_loss_reduction(params: &ProcurementParams) -> Result<Option<f64>, AnalysisError> {
    let unstaked = ProcurementParams {
        stake: 0.0,
        ..*params
    };
    let base = optimal_designated(&unstaked)?
        .loss
        .min(optimal_symmetric(&unstaked)?.loss);
    let d = optimal_designated(params)?.loss;
    let s = optimal_symmetric(params)?.loss;
    if params.stake > 0.0 && d < s {
        Ok(Some((base - d) / base))
    } else {
        Ok(None)
    }
}

// ---------------------------------------------------------------------------
// The post: capacity audits, Sybil splitting, ε*(p, S)
// ---------------------------------------------------------------------------

/// `ln Γ(x)` for `x > 0` (Lanczos, g = 7, 9 terms; ~1e-15 relative).
#[must_use]
pub fn ln_gamma(x: f64) -> f64 {
    const G: f64 = 7.0;
    const C: [f64; 9] = [
        0.999_999_999_999_809_9,
        676.520_368_121_885_1,
        -1_259.139_216_722_402_8,
        771.323_428_777_653_1,
        -176.615_029_162_140_6,
        12.507_343_278_686_905,
        -0.138_571_095_265_720_12,
        9.984_369_578_019_572e-6,
        1.505_632_735_149_311_6e-7,
    ];
    if x < 0.5 {
        // Reflection.
        let pi = std::f64::consts::PI;
        return (pi / (pi * x).sin()).ln() - ln_gamma(1.0 - x);
    }
    let x = x - 1.0;
    let mut a = C[0];
    let t = x + G + 0.5;
    for (i, c) in C.iter().enumerate().skip(1) {
        a += c / (x + i as f64);
    }
    0.5 * (2.0 * std::f64::consts::PI).ln() + (x + 0.5) * t.ln() - t + a.ln()
}

/// The continued fraction of the incomplete beta function (modified Lentz).
fn beta_cf(a: f64, b: f64, x: f64) -> f64 {
    const TINY: f64 = 1e-300;
    let (qab, qap, qam) = (a + b, a + 1.0, a - 1.0);
    let mut c = 1.0;
    let mut d = 1.0 - qab * x / qap;
    if d.abs() < TINY {
        d = TINY;
    }
    d = 1.0 / d;
    let mut h = d;
    for m in 1..100_000 {
        let m = f64::from(m);
        let m2 = 2.0 * m;
        let aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        h *= d * c;
        let aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1.0 + aa * d;
        if d.abs() < TINY {
            d = TINY;
        }
        c = 1.0 + aa / c;
        if c.abs() < TINY {
            c = TINY;
        }
        d = 1.0 / d;
        let del = d * c;
        h *= del;
        if (del - 1.0).abs() < 1e-15 {
            break;
        }
    }
    h
}

/// The regularized incomplete beta function `I_x(a, b)`, `a, b > 0`.
#[must_use]
pub fn regularized_beta(a: f64, b: f64, x: f64) -> f64 {
    if x <= 0.0 {
        return 0.0;
    }
    if x >= 1.0 {
        return 1.0;
    }
    let ln_front = ln_gamma(a + b) - ln_gamma(a) - ln_gamma(b) + a * x.ln() + b * (-x).ln_1p();
    let front = ln_front.exp();
    if x < (a + 1.0) / (a + b + 2.0) {
        front * beta_cf(a, b, x) / a
    } else {
        1.0 - front * beta_cf(b, a, 1.0 - x) / b
    }
}

/// `P(X ≥ k)` for `X ~ Binomial(n, ε)` (the post's "X ∼ Binomial(N, ε)",
/// §4.1–§4.2), via `I_ε(k, n − k + 1)`.
#[must_use]
pub fn binomial_tail(n: u64, k: u64, eps: f64) -> f64 {
    if k == 0 {
        return 1.0;
    }
    if k > n {
        return 0.0;
    }
    if eps <= 0.0 {
        return 0.0;
    }
    if eps >= 1.0 {
        return 1.0;
    }
    regularized_beta(k as f64, (n - k + 1) as f64, eps).clamp(0.0, 1.0)
}

/// `E[(X − d)^+]` for `X ~ Binomial(n, ε)`: the expected number of audited
/// identities beyond the `d` the supplier can serve, via
/// `E[X·1{X ≥ d}] = n·ε·P(Bin(n−1, ε) ≥ d−1)`.
#[must_use]
pub fn expected_excess(n: u64, d: u64, eps: f64) -> f64 {
    let mean = n as f64 * eps;
    if d == 0 {
        return mean;
    }
    if n == 0 {
        return 0.0;
    }
    let v = mean * binomial_tail(n - 1, d - 1, eps) - d as f64 * binomial_tail(n, d, eps);
    v.max(0.0)
}

/// The utility of a Sybil strategy with a general reward (§4.1 and §4.2): a
/// unit-capacity supplier submits `n` identities, each bidding `bid`; `X ~
/// Bin(n, ε)` of them are audited; it can serve `d = ⌊1/bid⌋` of them and earns
/// `reward` (= r(bid), on top of its cost) on each, and loses `S` on each
/// audited identity it cannot serve:
///
/// ```text
/// U = reward·E[min(X, d)] − S·E[max(X − d, 0)]
/// ```
///
/// Unit-work cost units. With `reward = λ·bid` this is §4.1's linear-rewards
/// attack (`bid = α/N`, `α > 1`).
#[must_use]
pub fn sybil_utility_general(identities: u64, bid: f64, eps: f64, reward: f64, stake: f64) -> f64 {
    let d = (1.0 / bid + 1e-9).floor().max(0.0) as u64;
    let excess = expected_excess(identities, d, eps);
    let served = identities as f64 * eps - excess;
    reward * served - stake * excess
}

/// §4.2's utility `U(N, α) = α^p·E[min(X, ⌊1/α⌋)] − S·E[max(X − ⌊1/α⌋, 0)]`,
/// `X ~ Bin(N, ε)`, for the bid `α = 1/split` (the post: "it is sufficient only
/// to consider α ∈ {1, 1/2, 1/3, …}"). Unit-work cost units; honest bidding
/// (`N = 1`, `α = 1`) earns exactly `ε`.
#[must_use]
pub fn sybil_utility(identities: u64, split: u64, eps: f64, power: f64, stake: f64) -> f64 {
    let a = (split as f64).powf(-power);
    let excess = expected_excess(identities, split, eps);
    a * (identities as f64 * eps - excess) - stake * excess
}

/// The utility-maximizing number of identities for the bid `α = 1/split`.
///
/// Adding one identity changes `U` by `ε·[α^p − (α^p + S)·P(Bin(N, ε) ≥ j)]`
/// (it is audited with probability `ε`, and then it is served unless `j`
/// others already are), so `U` is unimodal in `N` (as the post states without
/// proof) and the optimum is the first `N` with `P(Bin(N, ε) ≥ j) ≥
/// α^p/(α^p + S)`, found by doubling then binary search. Returns `(N, U)`.
#[must_use]
pub fn best_identities(split: u64, eps: f64, power: f64, stake: f64) -> (u64, f64) {
    let a = (split as f64).powf(-power);
    let tau = a / (a + stake);
    // For N < j nothing is ever slashed, so N* ≥ j.
    let lo = split.max(1);
    if binomial_tail(lo, split, eps) >= tau {
        return (lo, sybil_utility(lo, split, eps, power, stake));
    }
    let mut hi = lo.max((split as f64 / eps).ceil() as u64);
    while binomial_tail(hi, split, eps) < tau {
        hi = hi.saturating_mul(2);
        if hi == u64::MAX {
            break;
        }
    }
    // Invariant: T(lo) < tau ≤ T(hi).
    let mut lo = lo;
    while hi - lo > 1 {
        let mid = lo + (hi - lo) / 2;
        if binomial_tail(mid, split, eps) >= tau {
            hi = mid;
        } else {
            lo = mid;
        }
    }
    (hi, sybil_utility(hi, split, eps, power, stake))
}

/// A Sybil strategy of §4.2: `identities` bids of `bid = 1/split` each.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SybilStrategy {
    /// `N`: identities.
    pub identities: u64,
    /// `j`, with `α = 1/j`.
    pub split: u64,
    /// `α`: each identity's bid, a fraction of the true (unit) capacity.
    pub bid: f64,
    /// Total reported capacity `N·α` (1 is truthful).
    pub reported_capacity: f64,
    /// `U(N, α)`, unit-work cost units.
    pub utility: f64,
    /// The audit probability it was evaluated at.
    pub audit_probability: f64,
    /// The honest utility `ε` at that audit probability.
    pub honest_utility: f64,
}

/// The best strategy `max_{N ≥ 1, α ∈ {1, 1/2, …}} U(N, α)` at audit
/// probability `ε`. The search over `j` stops once `j^{1−p} ≤` the best
/// utility found, since `U(N, 1/j) < α^{p−1} = j^{1−p}` (§4.2), or at
/// [`MAX_SPLIT`] (then the second value is `true`).
#[must_use]
pub fn best_sybil(eps: f64, power: f64, stake: f64) -> (SybilStrategy, bool) {
    let mut best = (1u64, 1u64, f64::NEG_INFINITY);
    let mut j = 1u64;
    let mut truncated = false;
    loop {
        if (j as f64).powf(1.0 - power) <= best.2 {
            break;
        }
        if j > MAX_SPLIT {
            truncated = true;
            break;
        }
        let (n, u) = best_identities(j, eps, power, stake);
        if u > best.2 {
            best = (n, j, u);
        }
        j += 1;
    }
    let (n, j, u) = best;
    (
        SybilStrategy {
            identities: n,
            split: j,
            bid: 1.0 / j as f64,
            reported_capacity: n as f64 / j as f64,
            utility: u,
            audit_probability: eps,
            honest_utility: eps,
        },
        truncated,
    )
}

/// `ε*(p, S) = inf{ε ∈ [0, 1] : max_{N, α} U(N, α) ≤ ε}` (§4.2), computed
/// exactly rather than by the post's scan over `ε`:
///
/// * `U(N, α; ε)/ε` is non-increasing in `ε` (the expected excess is convex in
///   `ε` and 0 at 0), so the truthful set is an interval `[ε*, 1]` and
///   `ε* = max_j ε*_j` over the per-split thresholds.
/// * `j = 1` (duplicate full bids) gives `ε*_1 = 1/(1 + S)` exactly: a second
///   identity pays iff `ε < 1/(1 + S)`.
/// * `ε*_j ≤ j^{1−p}`, so splits with `j^{1−p} ≤` the running maximum are
///   skipped; any other `j` is first tested at the running maximum and only
///   bisected when it breaks it.
///
/// Returns `(ε*, the binding split j, truncated)`; `truncated` means the
/// search hit [`MAX_SPLIT`] and `ε*` is a lower bound.
#[must_use]
pub fn epsilon_star(power: f64, stake: f64) -> (f64, u64, bool) {
    let mut eps = 1.0 / (1.0 + stake);
    let mut binding = 1;
    let mut j = 2u64;
    let mut truncated = false;
    while (j as f64).powf(1.0 - power) > eps {
        if j > MAX_SPLIT {
            truncated = true;
            break;
        }
        let fails = |e: f64| best_identities(j, e, power, stake).1 > e;
        if fails(eps) {
            let (mut lo, mut hi) = (eps, (j as f64).powf(1.0 - power).min(1.0));
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if mid <= lo || mid >= hi {
                    break;
                }
                if fails(mid) {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            eps = hi;
            binding = j;
        }
        j += 1;
    }
    (eps, binding, truncated)
}

/// `dpgnet analyze capacity`: the price of a perfect capacity oracle.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CapacityAnalysis {
    /// `p`: reward power, `r(x) = x^p` (§4.2).
    pub power: f64,
    /// `S`: stake slashed per short-delivered audited bid, unit-work costs.
    pub stake: f64,
    /// `ε*(p, S)`: the least audit probability at which truthful bidding is
    /// optimal (§4.2).
    pub epsilon_star: f64,
    /// The split `j` (bid `1/j`) whose threshold is `ε*`.
    pub binding_split: u64,
    /// The protocol cost `2ε*` for unit capacity: `(1 + 1^p)·ε*` (§4.2).
    pub protocol_cost: f64,
    /// The best Sybil strategy at `ε = ε*·(1 − 1e-6)`, just below `ε*`.
    pub sybil_just_below: SybilStrategy,
    /// The search hit [`MAX_SPLIT`]: `ε*` is then a lower bound.
    pub truncated: bool,
}

/// Validates `(p, S)` for the capacity analysis.
///
/// # Errors
/// `p` outside `[MIN_POWER, MAX_POWER]`, `S` not positive and finite.
pub fn validate_capacity(power: f64, stake: f64) -> Result<(), AnalysisError> {
    if !(power.is_finite() && (MIN_POWER..=MAX_POWER).contains(&power)) {
        return Err(AnalysisError::Power(power));
    }
    if !(stake.is_finite() && stake > 0.0) {
        return Err(AnalysisError::CapacityStake(stake));
    }
    Ok(())
}

/// `ε*(p, S)`, the protocol cost `2ε*`, and the best Sybil strategy just below
/// `ε*` (§3.2, §4.2).
///
/// # Errors
/// See [`validate_capacity`].
pub fn analyze_capacity(power: f64, stake: f64) -> Result<CapacityAnalysis, AnalysisError> {
    validate_capacity(power, stake)?;
    let (eps, binding, truncated) = epsilon_star(power, stake);
    let below = eps * (1.0 - 1e-6);
    let (sybil, t2) = best_sybil(below, power, stake);
    Ok(CapacityAnalysis {
        power,
        stake,
        epsilon_star: eps,
        binding_split: binding,
        protocol_cost: 2.0 * eps,
        sybil_just_below: sybil,
        truncated: truncated || t2,
    })
}

// ---------------------------------------------------------------------------
// Grids
// ---------------------------------------------------------------------------

/// A heatmap's worth of results: `cells[row][col]` for `rows × cols`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Grid<T> {
    /// What the rows vary.
    pub row_label: String,
    /// Row values.
    pub rows: Vec<f64>,
    /// What the columns vary.
    pub col_label: String,
    /// Column values.
    pub cols: Vec<f64>,
    /// One result per (row, column).
    pub cells: Vec<Vec<T>>,
}

/// Default reward powers `p` of the capacity grid.
pub const DEFAULT_POWERS: [f64; 10] = [1.25, 1.5, 1.75, 2.0, 2.25, 2.5, 3.0, 3.5, 4.0, 5.0];
/// Default stakes `S` of the capacity grid (unit-work costs).
pub const DEFAULT_STAKES: [f64; 10] = [1.0, 2.0, 4.0, 6.0, 8.0, 10.0, 15.0, 20.0, 30.0, 50.0];
/// Default penalties `P` of the designated grid (proof-cost units).
pub const DEFAULT_PENALTIES: [f64; 10] = [2.0, 5.0, 10.0, 20.0, 50.0, 100.0, 1e3, 1e4, 1e5, 1e6];
/// Default honest fractions `α` of the designated grid.
pub const DEFAULT_HONEST_FRACTIONS: [f64; 10] = [0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.67, 0.8, 0.9, 1.0];

/// One cell of the capacity grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct CapacityCell {
    /// `ε*(p, S)`.
    pub epsilon_star: f64,
    /// `2ε*`.
    pub protocol_cost: f64,
    /// The binding split `j`.
    pub binding_split: u64,
    /// The search hit [`MAX_SPLIT`].
    pub truncated: bool,
}

/// `ε*` and `2ε*` over a grid: rows are powers `p`, columns stakes `S`.
///
/// # Errors
/// Any `(p, S)` outside [`validate_capacity`].
pub fn capacity_grid(powers: &[f64], stakes: &[f64]) -> Result<Grid<CapacityCell>, AnalysisError> {
    let mut cells = Vec::with_capacity(powers.len());
    for &p in powers {
        let mut row = Vec::with_capacity(stakes.len());
        for &s in stakes {
            validate_capacity(p, s)?;
            let (eps, binding, truncated) = epsilon_star(p, s);
            row.push(CapacityCell {
                epsilon_star: eps,
                protocol_cost: 2.0 * eps,
                binding_split: binding,
                truncated,
            });
        }
        cells.push(row);
    }
    Ok(Grid {
        row_label: "power p".into(),
        rows: powers.to_vec(),
        col_label: "stake S".into(),
        cols: stakes.to_vec(),
        cells,
    })
}

/// One cell of the designated grid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct DesignatedCell {
    /// Corrupted provers `f` at this honest fraction.
    pub corrupted: u64,
    /// Optimal designated loss.
    pub designated_loss: f64,
    /// Optimal designated committee size.
    pub committee_size: u64,
    /// Its mixing probability.
    pub mixing_probability: f64,
    /// The symmetric lower bound.
    pub symmetric_loss: f64,
    /// Designated ≤ symmetric bound: designated is exactly optimal.
    pub designated_optimal: bool,
}

/// The paper's mechanisms over a grid: rows are honest fractions `α`, columns
/// penalties `P`, for `n` provers and stake `B`.
///
/// # Errors
/// Any point outside the model.
pub fn designated_grid(
    provers: u64,
    stake: f64,
    honest_fractions: &[f64],
    penalties: &[f64],
) -> Result<Grid<DesignatedCell>, AnalysisError> {
    let mut cells = Vec::with_capacity(honest_fractions.len());
    for &a in honest_fractions {
        let mut row = Vec::with_capacity(penalties.len());
        for &p in penalties {
            let params = ProcurementParams::from_honest_fraction(provers, a, p, stake)?;
            let d = optimal_designated(&params)?;
            let s = optimal_symmetric(&params)?;
            row.push(DesignatedCell {
                corrupted: params.corrupted,
                designated_loss: d.loss,
                committee_size: d.committee_size,
                mixing_probability: d.mixing_probability,
                symmetric_loss: s.loss,
                designated_optimal: d.loss <= s.loss * (1.0 + 1e-12),
            });
        }
        cells.push(row);
    }
    Ok(Grid {
        row_label: "honest fraction α".into(),
        rows: honest_fractions.to_vec(),
        col_label: "penalty P".into(),
        cols: penalties.to_vec(),
        cells,
    })
}

// ---------------------------------------------------------------------------
// Numerics
// ---------------------------------------------------------------------------

/// The root of an increasing `g` on `[lo, hi]` with `g(lo) < 0 ≤ g(hi)`, by
/// bisection to machine precision (returns the upper end of the final bracket).
fn bisect_increasing(g: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let (mut lo, mut hi) = (lo, hi);
    if g(hi) < 0.0 {
        return hi;
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if g(mid) < 0.0 {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    hi
}

/// The root of an increasing `g` on `[lo, hi]` with `g(lo) < 0 ≤ g(hi)`:
/// Newton steps from the bracket's midpoint, falling back to bisection
/// whenever a step leaves the bracket (a safeguarded Newton; same answer as
/// [`bisect_increasing`], in a handful of iterations).
fn newton_bracketed(g: impl Fn(f64) -> f64, dg: impl Fn(f64) -> f64, lo: f64, hi: f64) -> f64 {
    let (mut lo, mut hi) = (lo, hi);
    if g(hi) < 0.0 {
        return hi;
    }
    let mut x = 0.5 * (lo + hi);
    for _ in 0..300 {
        let gx = g(x);
        if gx == 0.0 {
            return x;
        }
        if gx < 0.0 {
            lo = x;
        } else {
            hi = x;
        }
        let d = dg(x);
        let newton = x - gx / d;
        let next = if d > 0.0 && newton > lo && newton < hi {
            newton
        } else {
            0.5 * (lo + hi)
        };
        if (next - x).abs() <= 2.0 * f64::EPSILON * x.abs() || hi - lo <= 2.0 * f64::EPSILON * hi {
            return next.clamp(lo, hi);
        }
        x = next;
    }
    x
}

/// Minimizes `f` on `(0, 1]`: a `points`-point scan, then golden-section
/// search in the bracket around the best point. Returns `(x, f(x))`.
fn scan_then_golden(f: impl Fn(f64) -> f64, points: u32) -> (f64, f64) {
    let step = 1.0 / f64::from(points);
    let mut best_i = 1;
    let mut best_v = f(step);
    for i in 2..=points {
        let v = f(step * f64::from(i));
        if v < best_v {
            best_i = i;
            best_v = v;
        }
    }
    let lo = step * f64::from(best_i - 1);
    let hi = (step * f64::from(best_i + 1)).min(1.0);
    let (x, v) = golden_min(&f, lo.max(1e-12), hi);
    if v < best_v {
        (x, v)
    } else {
        (step * f64::from(best_i), best_v)
    }
}

/// Golden-section minimization of a unimodal `f` on `[lo, hi]`.
fn golden_min(f: &impl Fn(f64) -> f64, lo: f64, hi: f64) -> (f64, f64) {
    let r = (5f64.sqrt() - 1.0) / 2.0;
    let (mut a, mut b) = (lo, hi);
    let mut c = b - r * (b - a);
    let mut d = a + r * (b - a);
    let (mut fc, mut fd) = (f(c), f(d));
    for _ in 0..200 {
        if (b - a).abs() < 1e-15 {
            break;
        }
        if fc < fd {
            b = d;
            d = c;
            fd = fc;
            c = b - r * (b - a);
            fc = f(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + r * (b - a);
            fd = f(d);
        }
    }
    let x = 0.5 * (a + b);
    (x, f(x))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(n: u64, f: u64, p: f64, b: f64) -> ProcurementParams {
        ProcurementParams {
            provers: n,
            corrupted: f,
            penalty: p,
            stake: b,
        }
    }

    #[test]
    fn honest_count_rounds_up_but_tolerates_float_error() {
        assert_eq!(honest_count(100, 2.0 / 3.0), 67);
        assert_eq!(honest_count(100, 0.29), 29);
        assert_eq!(honest_count(10, 0.7), 7);
        assert_eq!(honest_count(200, 0.5), 100);
        assert_eq!(honest_count(3, 0.01), 1);
    }

    #[test]
    fn bisection_matches_closed_forms_for_one_and_two_honest_members() {
        for &(n, f, p, b) in &[
            (10, 5, 100.0, 0.0),
            (10, 5, 1e4, 3.0),
            (50, 20, 20.0, 0.5),
            (7, 6, 1e6, 0.0),
        ] {
            let pr = params(n, f, p, b);
            for m in [f, f + 1] {
                let cf = designated_q_closed_form(&pr, m).expect("k ∈ {1,2}");
                let bi = designated_q_for_committee(&pr, m);
                assert!((cf - bi).abs() < 1e-12, "m={m} closed {cf} bisect {bi}");
            }
        }
    }

    #[test]
    fn designated_equality_holds_at_the_optimum() {
        let pr = params(100, 33, 1e4, 0.0);
        let d = optimal_designated(&pr).unwrap();
        let (l, r) = designated_branches(&pr, d.committee_size, d.mixing_probability);
        assert!((l - r).abs() < 1e-9 * l, "{l} vs {r}");
    }

    #[test]
    fn designated_optimum_beats_a_fine_grid_over_m_and_q() {
        let pr = params(12, 5, 300.0, 0.0);
        let d = optimal_designated(&pr).unwrap();
        let mut best = f64::INFINITY;
        for m in 0..12 {
            for i in 0..=20_000 {
                best = best.min(designated_loss(&pr, m, f64::from(i) / 20_000.0));
            }
        }
        assert!(
            d.loss <= best + 1e-12 && best - d.loss < 1e-3,
            "{} vs {best}",
            d.loss
        );
    }

    #[test]
    fn symmetric_optimum_beats_a_fine_grid_over_m_and_q() {
        let pr = params(12, 5, 300.0, 2.0);
        let s = optimal_symmetric(&pr).unwrap();
        let mut best = f64::INFINITY;
        for m in 6..=12 {
            for i in 0..=20_000 {
                let (l, r) = symmetric_branches(&pr, m, f64::from(i) / 20_000.0);
                best = best.min(l.max(r));
            }
        }
        assert!(
            s.loss <= best + 1e-12 && best - s.loss < 1e-3,
            "{} vs {best}",
            s.loss
        );
    }

    #[test]
    fn lottery_optimum_beats_a_fine_scan() {
        let pr = params(20, 8, 1e3, 0.0);
        let l = optimal_lottery(&pr).unwrap();
        let mut best = f64::INFINITY;
        for m in 9..=20 {
            for i in 1..=100_000 {
                best = best.min(lottery_loss(&pr, m, f64::from(i) / 100_000.0));
            }
        }
        assert!(
            l.loss <= best + 1e-9 && best - l.loss < 1e-6,
            "{} vs {best}",
            l.loss
        );
    }

    #[test]
    fn lottery_prize_makes_members_indifferent() {
        // E[R / (1 + Y)], Y ~ Bin(m−1, q), must be exactly the proof cost 1.
        for &(m, q) in &[(5u64, 0.3f64), (30, 0.05), (1, 0.7)] {
            let r = lottery_prize(m, q);
            let mut e = 0.0;
            for y in 0..m {
                let pmf =
                    (ln_gamma(m as f64) - ln_gamma(y as f64 + 1.0) - ln_gamma((m - y) as f64)
                        + y as f64 * q.ln()
                        + (m - 1 - y) as f64 * (1.0 - q).ln())
                    .exp();
                e += pmf * r / (1.0 + y as f64);
            }
            assert!((e - 1.0).abs() < 1e-12, "m={m} q={q}: {e}");
        }
    }

    #[test]
    fn lambert_w_inverts() {
        for &x in &[1e-6, 0.1, 1.0, std::f64::consts::E, 10.0, 1e4, 1e12] {
            let w = lambert_w0(x);
            assert!((w * w.exp() - x).abs() < 1e-12 * x.max(1.0), "x={x} w={w}");
        }
    }

    #[test]
    fn binomial_tail_matches_direct_sums() {
        for &(n, eps) in &[(44u64, 0.017f64), (200, 0.3), (7, 0.9), (1000, 0.01)] {
            let pmf: Vec<f64> = (0..=n)
                .map(|x| {
                    (ln_gamma(n as f64 + 1.0)
                        - ln_gamma(x as f64 + 1.0)
                        - ln_gamma((n - x) as f64 + 1.0)
                        + x as f64 * eps.ln()
                        + (n - x) as f64 * (1.0 - eps).ln())
                    .exp()
                })
                .collect();
            for k in 0..=n.min(60) {
                let direct: f64 = pmf[k as usize..].iter().sum();
                let t = binomial_tail(n, k, eps);
                assert!((t - direct).abs() < 1e-12, "n={n} k={k}: {t} vs {direct}");
            }
            for d in 0..=n.min(30) {
                let direct: f64 = (d..=n).map(|x| (x - d) as f64 * pmf[x as usize]).sum();
                let e = expected_excess(n, d, eps);
                assert!((e - direct).abs() < 1e-11, "n={n} d={d}: {e} vs {direct}");
            }
        }
    }

    #[test]
    fn best_identities_is_the_argmax_over_n() {
        for &(j, eps, p, s) in &[
            (5u64, 0.017, 2.0, 50.0),
            (1, 0.05, 2.0, 8.0),
            (3, 0.2, 1.5, 10.0),
        ] {
            let (n, u) = best_identities(j, eps, p, s);
            let mut best = (0, f64::NEG_INFINITY);
            for cand in 1..2000 {
                let v = sybil_utility(cand, j, eps, p, s);
                if v > best.1 + 1e-15 {
                    best = (cand, v);
                }
            }
            assert_eq!(n, best.0, "j={j} eps={eps}");
            assert!((u - best.1).abs() < 1e-14);
        }
    }

    #[test]
    fn epsilon_star_is_the_truthfulness_threshold() {
        for &(p, s) in &[(2.0, 8.0), (2.0, 50.0), (1.5, 10.0), (3.0, 20.0)] {
            let (e, _, t) = epsilon_star(p, s);
            assert!(!t);
            let above = best_sybil(e * (1.0 + 1e-9), p, s).0;
            assert!(
                above.utility <= above.honest_utility * (1.0 + 1e-9),
                "{p},{s}: {above:?}"
            );
            let below = best_sybil(e * (1.0 - 1e-6), p, s).0;
            assert!(below.utility > below.honest_utility, "{p},{s}: {below:?}");
        }
    }
}
