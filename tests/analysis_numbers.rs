//! Every number the two analysis texts state, recomputed by `dpgnet analyze`.
//!
//! The seed texts lost their typeset math: variables and many parameter values
//! are blank in `adversarial-procurement-paper.txt` ("Let (), and ."), and the
//! post's figure parameters live in figures that are not in the text. Where a
//! parameter had to be identified by fitting, the test says so, and
//! `parameter_identification_scan` (ignored; run with `--ignored`) shows it is
//! the only fit in the searched range. `docs/analysis.md` has the same list as
//! a "text says / dpgnet computes" table.
//!
//! Numbers stated by `shared/seeds/adversarial-procurement-paper.txt`:
//!
//! | where | number | test |
//! | --- | --- | --- |
//! | §A.19 table, l. 527–531, left half | B = 0, 10, 50, 100, 500; B/P = 0%, 0.1%, 0.5%, 1%, 5%; Desig. 10.62, 9.78, 8.32, 7.48, 5.31; Symm. 10.12, 9.79, 9.64, 9.56, 9.37; % red. –, 3.3%, 17.8%, 26.1%, 47.5% | `table_a19_left_half` (n = 100, f = 33, P = 10⁴: fitted) |
//! | §A.19 table, right half | B = 0, 0.02, 0.1, 0.2, 1; B/P = 0%…5%; Desig. 4.12, 4.11, 4.09, 4.06, 3.81; Symm. 3.99, 3.99, 3.99, 3.98, 3.97; % red. –, –, –, –, 4.5% | `table_a19_right_half` (α = 0.5, P = 20, n = 200: fitted; n ∈ 196…208 fit too) |
//! | Ex. 3.7, l. 213 | "5% of P", loss drops 47.5% | `examples_3_7_and_3_8` |
//! | Ex. 3.8, l. 215 | "5% of P", loss drops 4.5% | `examples_3_7_and_3_8` |
//! | Rem. 3.11, l. 217 | the difference is "a full order of magnitude" | `examples_3_7_and_3_8` |
//! | Ex. 3.6, l. 198–200 | stake P per prover makes the cost the minimal 1 | `example_3_6_unbounded_stake` |
//! | Thm. 3.1, l. 95 / l. 110 | designated is within "1 unit" ("additive-1 approximation") | `theorem_3_1_additive_one` |
//! | Lem. A.1 proof, l. ~440 | lottery "relative error of 1" (a 2-approximation) | `lemma_a1_lottery_relative_error_one` |
//! | Rem. 4.3, l. 244 | "up to 50% of the prover set" ⇔ α = 0.5 | `remark_4_3_half_honest` |
//! | Rem. 4.1 / 4.4, l. 240, 247 | 189 ETH ≈ $440,000; 100 provers; 32 ETH; "33% more"; "1.5 orders of magnitude" | `remarks_4_1_and_4_4_arithmetic` (context, not model outputs; the stake amounts themselves are blank in the text) |
//! | Rem. 4.2, l. 242 | proofs cost "on the order of $0.1" | context only (no formula) |
//! | §1, l. 12 | "two-core CPU and a 10 MBit/s" | context only (no formula) |
//!
//! Ex. 3.4, Ex. 3.5, Rem. 3.7, Ex. B.1–B.6 and Figs. 3.1–3.3, A.2, B.2 state
//! their values only in stripped math or in figures: nothing to check.
//!
//! Numbers stated by `shared/seeds/capacity-oracles-post.txt`:
//!
//! | where | number | test |
//! | --- | --- | --- |
//! | §4.2, l. 164 (left subplot) | ε = 0.017: α = 1/5, N = 44 Sybils, utility 0.0245 > honest 0.017 | `post_figure_left_subplot` (p = 2, S = 50: fitted, figure parameters not in text) |
//! | §4.2, l. 164 (right subplot) | ε = 0.034: α = 1, N = 1 is optimal, utility 0.034 | `post_figure_right_subplot` |
//! | §4.2, l. 176 | protocol cost 2ε* = (1 + 1^p)·ε* | `post_protocol_cost_is_two_epsilon_star` |
//! | §4.2, l. 178 | S = 8, p = 2: protocol cost 0.2 ("20%") | `post_heatmap_s8_p2` (computed 2/9 = 0.222) |
//! | §4.2, l. 178 | S = 8 means a stake of 8× the unit cost | units only |
//! | §4.2 note 1, l. 182 | "S ≈ 10"; low stake: cost converges to 1 | `post_low_stake_cost_is_one` |
//! | §4.2 note 2, l. 183 | "p ≈ 1.5"; lower curvature: cost "about 0.5" | `post_low_curvature_cost_about_half` |
//! | §5 item 1, l. 204 | "about 20% of the cost" | `post_heatmap_s8_p2` |
//! | §5 item 2, l. 205 | 10× stake sufficient "in most regimes" | `post_stake_ten_suffices` |
//! | §4.2, l. 156–158 | U(N, α) < α^{p−1}, so α > ε^{1/(p−1)} | `post_utility_bound` |
//! | §4.1, l. 123–136 | linear rewards: concentration on αε = 0.97 > honest | `post_linear_rewards_vulnerable` (α, ε of the figure not in text) |
//! | §4.2, l. 146 | convexity: 2·r(c/2) < r(c) | `post_convexity_discourages_halving` |
//! | §5 item 5, l. 208; note 4 | "50%", "1/3" of allocated work | design remarks, no formula |
//! | §1, l. 28 | "12-second" slot | context only |

use std::time::Instant;

use dpgnet::mechanism::analysis::{
    self, AnalysisError, DEFAULT_HONEST_FRACTIONS, DEFAULT_PENALTIES, DEFAULT_POWERS,
    DEFAULT_STAKES, MechanismKind, Optimality, ProcurementParams,
};
use dpgnet::mechanism::analyze_cmd::{
    self, AnalyzeArgs, AnalyzeCommand, CapacityArgs, DesignatedArgs,
};

fn params(n: u64, f: u64, p: f64, b: f64) -> ProcurementParams {
    ProcurementParams {
        provers: n,
        corrupted: f,
        penalty: p,
        stake: b,
    }
}

/// `|computed − stated| ≤ half a unit of the stated last digit` (+ float slack).
fn assert_rounds_to(computed: f64, stated: f64, decimals: i32, what: &str) {
    let half = 0.5 * 10f64.powi(-decimals) + 1e-12;
    assert!(
        (computed - stated).abs() <= half,
        "{what}: text says {stated}, dpgnet computes {computed}"
    );
}

struct TableRow {
    stake: f64,
    stake_over_p_percent: f64,
    desig: f64,
    symm: f64,
    reduction_percent: Option<f64>,
}

fn check_table(n: u64, f: u64, penalty: f64, rows: &[TableRow]) {
    for row in rows {
        let pr = params(n, f, penalty, row.stake);
        let d = analysis::optimal_designated(&pr).unwrap();
        let s = analysis::optimal_symmetric(&pr).unwrap();
        let what = format!("n={n} f={f} P={penalty} B={}", row.stake);
        assert_rounds_to(
            100.0 * row.stake / penalty,
            row.stake_over_p_percent,
            1,
            &format!("{what} B/P"),
        );
        assert_rounds_to(d.loss, row.desig, 2, &format!("{what} Desig."));
        assert_rounds_to(s.loss, row.symm, 2, &format!("{what} Symm."));
        let red = analysis::stake_loss_reduction(&pr).unwrap();
        match (red, row.reduction_percent) {
            (Some(r), Some(stated)) => {
                assert_rounds_to(100.0 * r, stated, 1, &format!("{what} % red."));
            }
            (None, None) => {}
            (got, want) => panic!("{what} % red.: text says {want:?}, dpgnet computes {got:?}"),
        }
    }
}

/// §A.19 left half (Ex. 3.7): n = 100 provers, f = 33 corrupted (α = 0.67),
/// P = 10⁴. The text's "Let (), and ." lost n, α and P; B/P = 5% at B = 500
/// gives P = 10⁴, and (n, f) = (100, 33) is the only pair with n ≤ 300 that
/// reproduces all ten losses (see `parameter_identification_scan`).
#[test]
fn table_a19_left_half() {
    let row = |stake, pct, desig, symm, red| TableRow {
        stake,
        stake_over_p_percent: pct,
        desig,
        symm,
        reduction_percent: red,
    };
    check_table(
        100,
        33,
        1e4,
        &[
            row(0.0, 0.0, 10.62, 10.12, None),
            row(10.0, 0.1, 9.78, 9.79, Some(3.3)),
            row(50.0, 0.5, 8.32, 9.64, Some(17.8)),
            row(100.0, 1.0, 7.48, 9.56, Some(26.1)),
            row(500.0, 5.0, 5.31, 9.37, Some(47.5)),
        ],
    );
    // The honest fraction 0.67 maps to exactly these n, f.
    let pr = ProcurementParams::from_honest_fraction(100, 0.67, 1e4, 0.0).unwrap();
    assert_eq!(pr.corrupted, 33);
    let pr = ProcurementParams::from_honest_fraction(100, 2.0 / 3.0, 1e4, 0.0).unwrap();
    assert_eq!(pr.corrupted, 33);
}

/// §A.19 right half (Ex. 3.8): n = 200, f = 100 (α = 0.5), P = 20 (B/P = 5%
/// at B = 1). "–" where the staked designated loss is not below the staked
/// symmetric bound. The fit pins α = 0.5 and n ≈ 200: every even
/// n ∈ {196, …, 208} with f = n/2 reproduces all ten losses to the printed
/// digits; 200 is the round one.
#[test]
fn table_a19_right_half() {
    let row = |stake, pct, desig, symm, red| TableRow {
        stake,
        stake_over_p_percent: pct,
        desig,
        symm,
        reduction_percent: red,
    };
    check_table(
        200,
        100,
        20.0,
        &[
            row(0.0, 0.0, 4.12, 3.99, None),
            row(0.02, 0.1, 4.11, 3.99, None),
            row(0.1, 0.5, 4.09, 3.99, None),
            row(0.2, 1.0, 4.06, 3.98, None),
            row(1.0, 5.0, 3.81, 3.97, Some(4.5)),
        ],
    );
}

/// Ex. 3.7 (47.5%), Ex. 3.8 (4.5%) and Rem. 3.11 ("a full order of magnitude").
#[test]
fn examples_3_7_and_3_8() {
    let r37 = analysis::stake_loss_reduction(&params(100, 33, 1e4, 0.05 * 1e4))
        .unwrap()
        .unwrap();
    let r38 = analysis::stake_loss_reduction(&params(200, 100, 20.0, 0.05 * 20.0))
        .unwrap()
        .unwrap();
    assert_rounds_to(100.0 * r37, 47.5, 1, "Ex. 3.7");
    assert_rounds_to(100.0 * r38, 4.5, 1, "Ex. 3.8");
    assert!(r37 / r38 >= 10.0, "Rem. 3.11: ratio {}", r37 / r38);
}

/// Ex. 3.6: with enough stake the protocol reaches the minimal cost 1 (one
/// proof, always delivered by the designate).
#[test]
fn example_3_6_unbounded_stake() {
    for &(n, f, p) in &[(10, 5, 100.0), (100, 33, 1e4), (200, 100, 20.0)] {
        let d = analysis::optimal_designated(&params(n, f, p, p)).unwrap();
        assert!((d.loss - 1.0).abs() < 1e-12, "n={n} P={p}: {}", d.loss);
        assert_eq!(d.mixing_probability, 0.0);
    }
}

/// Thm. 3.1 / Cor. 3.1: the optimal designated loss is within 1 of every
/// mechanism's loss, so in particular of the symmetric lower bound's and of the
/// (implementable) lottery's.
#[test]
fn theorem_3_1_additive_one() {
    for &n in &[5u64, 20, 100] {
        for &a in &[0.2, 0.5, 0.67, 0.9] {
            for &p in &[2.0, 20.0, 1e3, 1e6] {
                let pr = ProcurementParams::from_honest_fraction(n, a, p, 0.0).unwrap();
                let r = analysis::analyze_designated(&pr).unwrap();
                assert!(r.designated.loss <= r.symmetric.loss + 1.0 + 1e-9, "{pr:?}");
                assert!(r.designated.loss <= r.lottery.loss + 1.0 + 1e-9, "{pr:?}");
                assert!(r.lower_bound <= r.optimal_loss);
            }
        }
    }
}

/// Lem. A.1: the lottery with prize eq. (8) at the symmetric minimizer has
/// relative error at most 1 against the symmetric optimum (a 2-approximation).
#[test]
fn lemma_a1_lottery_relative_error_one() {
    for &n in &[5u64, 20, 100, 200] {
        for &a in &[0.2, 0.5, 0.67, 0.9] {
            for &p in &[5.0, 20.0, 1e3, 1e4, 1e6] {
                let pr = ProcurementParams::from_honest_fraction(n, a, p, 0.0).unwrap();
                let r = analysis::analyze_designated(&pr).unwrap();
                let la1 = r.lottery_at_symmetric_optimum.expect("unstaked");
                let rel = (la1 - r.symmetric.loss) / r.symmetric.loss;
                assert!(rel <= 1.0 + 1e-9, "{pr:?}: relative error {rel}");
                assert!(r.lottery.loss <= la1 + 1e-9);
            }
        }
    }
}

/// Lem. 3.2 and Lem. 3.4: at the optimal designated equilibrium both branches
/// of the lower bound are equal and the fixed payment is the loss.
#[test]
fn lemma_3_4_designated_equality() {
    for &(n, f, p, b) in &[
        (100, 33, 1e4, 0.0),
        (100, 33, 1e4, 500.0),
        (200, 100, 20.0, 1.0),
    ] {
        let pr = params(n, f, p, b);
        let d = analysis::optimal_designated(&pr).unwrap();
        let (l, r) = analysis::designated_branches(&pr, d.committee_size, d.mixing_probability);
        assert!((l - r).abs() <= 1e-9 * l, "{pr:?}: {l} vs {r}");
        assert!((d.fixed_payment - d.loss).abs() < 1e-12);
    }
}

/// Lem. 3.8 / 3.9: for small P the minimizer of L is designated, for large P
/// symmetric (α < 1).
#[test]
fn lemmas_3_8_and_3_9_shape_changes_with_p() {
    for &(n, a) in &[(20u64, 0.5), (100, 0.67), (50, 0.8)] {
        let small = analysis::analyze_designated(
            &ProcurementParams::from_honest_fraction(n, a, 2.0, 0.0).unwrap(),
        )
        .unwrap();
        assert_eq!(small.optimality, Optimality::DesignatedExact, "n={n} α={a}");
        let large = analysis::analyze_designated(
            &ProcurementParams::from_honest_fraction(n, a, 1e7, 0.0).unwrap(),
        )
        .unwrap();
        assert_eq!(large.optimality, Optimality::Bounded, "n={n} α={a}");
    }
}

/// Lem. 3.11 / 3.12: the discrete optimum approaches the continuous closed
/// form `W(αPe^{α(1+B)})/α − B` as n grows, and the two-term expansion of W
/// approaches it as P grows.
#[test]
fn lemmas_3_11_and_3_12_continuous_limit() {
    for &(a, p, b) in &[
        (0.5, 20.0, 0.0),
        (0.67, 1e4, 0.0),
        (0.67, 1e4, 500.0),
        (0.5, 20.0, 1.0),
    ] {
        let cont = analysis::designated_loss_continuous(a, p, b);
        let mut prev_err = f64::INFINITY;
        for n in [100u64, 1000, 20_000] {
            let pr = ProcurementParams::from_honest_fraction(n, a, p, b).unwrap();
            let d = analysis::optimal_designated(&pr).unwrap().loss;
            let err = (d - cont).abs() / cont;
            assert!(
                err < prev_err + 1e-4,
                "α={a} P={p} B={b} n={n}: {d} vs {cont}"
            );
            prev_err = err;
        }
        assert!(prev_err < 0.005, "α={a} P={p} B={b}: error {prev_err}");
    }
    let mut prev = f64::INFINITY;
    for p in [1e3, 1e6, 1e12, 1e24] {
        let exact = analysis::designated_loss_continuous(0.5, p, 0.0);
        let asym = analysis::designated_loss_asymptotic(0.5, p, 0.0);
        let rel = (asym - exact).abs() / exact;
        assert!(rel < prev, "P={p}: {rel}");
        prev = rel;
    }
    assert!(prev < 0.01);
}

/// Rem. 4.3: "up to 50% of the prover set" is the honest fraction α = 0.5.
#[test]
fn remark_4_3_half_honest() {
    let pr = ProcurementParams::from_honest_fraction(200, 0.5, 20.0, 0.0).unwrap();
    assert_eq!(pr.corrupted, 100);
    assert!((pr.honest_fraction() - 0.5).abs() < 1e-15);
}

/// Rem. 4.1 and Rem. 4.4, as arithmetic: 189 ETH ≈ $440,000 prices ETH at
/// ≈ $2,328; "33% more" than 32 ETH is ≈ 42.6 ETH ≈ $99,000 per prover, so
/// 100 provers stake ≈ $10⁷, "on the order of" 10^1.5 × $440,000 ≈ $1.4·10⁷.
/// (The stake amounts themselves are blank in the text; these are context
/// numbers, not outputs of the model.)
#[test]
fn remarks_4_1_and_4_4_arithmetic() {
    let eth_usd: f64 = 440_000.0 / 189.0;
    assert!((eth_usd - 2328.0).abs() < 1.0);
    let per_prover_usd = 1.33 * 32.0 * eth_usd;
    assert!(
        (per_prover_usd / 1e5 - 1.0).abs() < 0.02,
        "{per_prover_usd}"
    );
    let total = 100.0 * per_prover_usd;
    let order = 10f64.powf(1.5) * 440_000.0;
    assert!(
        (total.log10() - order.log10()).abs() < 0.5,
        "{total} vs {order}"
    );
}

// ---------------------------------------------------------------------------
// capacity-oracles-post.txt
// ---------------------------------------------------------------------------

/// §4.2, left subplot: at ε = 0.017 the best Sybil strategy splits into bids
/// α = 1/5 with N = 44 identities, utility 0.0245, against the honest 0.017.
/// The figure's p and S are not in the text; p = 2, S = 50 is the only fit
/// over p ∈ {1.2, 1.25, …, 4}, S ∈ {1, …, 200} (`parameter_identification_scan`),
/// and it is consistent with the right subplot (ε = 0.034 truthful needs
/// S ≥ 1/0.034 − 1 ≈ 28.4).
#[test]
fn post_figure_left_subplot() {
    let (best, truncated) = analysis::best_sybil(0.017, 2.0, 50.0);
    assert!(!truncated);
    assert_eq!(best.split, 5, "α = 1/5");
    assert_eq!(best.identities, 44);
    assert_rounds_to(best.utility, 0.0245, 4, "U(44, 1/5)");
    assert_rounds_to(best.honest_utility, 0.017, 3, "honest utility");
    assert_eq!(analysis::best_identities(5, 0.017, 2.0, 50.0).0, 44);
    assert!(best.utility > best.honest_utility);
}

/// §4.2, right subplot: at ε = 0.034 honest bidding (α = 1, N = 1) is optimal
/// and earns ε = 0.034; every Sybil strategy is worse.
#[test]
fn post_figure_right_subplot() {
    let (best, _) = analysis::best_sybil(0.034, 2.0, 50.0);
    assert_eq!((best.split, best.identities), (1, 1));
    assert_rounds_to(best.utility, 0.034, 3, "honest utility");
    for j in 2..=60 {
        let (_, u) = analysis::best_identities(j, 0.034, 2.0, 50.0);
        assert!(u < 0.034, "α = 1/{j}: {u}");
    }
    // So ε*(2, 50) lies in (0.017, 0.034].
    let a = analysis::analyze_capacity(2.0, 50.0).unwrap();
    assert!(a.epsilon_star > 0.017 && a.epsilon_star <= 0.034, "{a:?}");
}

/// §4.2: the protocol pays (1 + 1^p)·ε* = 2ε* for unit capacity.
#[test]
fn post_protocol_cost_is_two_epsilon_star() {
    for &(p, s) in &[(2.0, 8.0), (1.5, 10.0), (3.0, 30.0)] {
        let a = analysis::analyze_capacity(p, s).unwrap();
        assert_eq!(a.protocol_cost, (1.0 + 1f64.powf(p)) * a.epsilon_star);
    }
}

/// §4.2 (l. 178) and §5 item 1: "with S = 8 and p = 2, we have a protocol
/// cost of 0.2" ("20%"). dpgnet computes ε* = 1/(1 + S) = 1/9 exactly (two
/// full duplicate bids are the binding deviation), so 2ε* = 0.222, which the
/// text rounds to one decimal.
#[test]
fn post_heatmap_s8_p2() {
    let a = analysis::analyze_capacity(2.0, 8.0).unwrap();
    assert!((a.epsilon_star - 1.0 / 9.0).abs() < 1e-12, "{a:?}");
    assert_eq!(a.binding_split, 1);
    assert_rounds_to(a.protocol_cost, 0.2, 1, "S = 8, p = 2 protocol cost");
    assert_eq!(
        (a.sybil_just_below.identities, a.sybil_just_below.split),
        (2, 1)
    );
}

/// §4.2 note 1: "with low amounts of stake, the protocol cost converges to 1":
/// at S = 1 (the grid's lowest stake) 2ε* = 2/(1 + S) = 1 for every p. (As
/// S → 0 the cost keeps rising to 2: ε* = 1/(1 + S) → 1.)
#[test]
fn post_low_stake_cost_is_one() {
    for &p in &DEFAULT_POWERS {
        let a = analysis::analyze_capacity(p, 1.0).unwrap();
        assert!((a.protocol_cost - 1.0).abs() < 1e-12, "p={p}: {a:?}");
    }
    let a = analysis::analyze_capacity(2.0, 0.01).unwrap();
    assert!(a.protocol_cost > 1.9);
}

/// §4.2 note 2: below p ≈ 1.5 "the protocol cost remains about 0.5".
#[test]
fn post_low_curvature_cost_about_half() {
    for &s in &[6.0, 8.0, 10.0, 20.0, 50.0] {
        let a = analysis::analyze_capacity(1.25, s).unwrap();
        assert!(
            (a.protocol_cost - 0.5).abs() < 0.05,
            "S={s}: {}",
            a.protocol_cost
        );
        assert!(a.binding_split > 1, "splitting attacks bind");
    }
    // and at p = 1.5 with S ≈ 10 the cost has fallen to about 0.2
    let a = analysis::analyze_capacity(1.5, 10.0).unwrap();
    assert!(a.protocol_cost < 0.25, "{a:?}");
}

/// §5 item 2: a stake of 10× the unit cost keeps the oracle cheap "in most
/// regimes": for p ≥ 1.5, 2ε* ≤ 0.25 at S = 10.
#[test]
fn post_stake_ten_suffices() {
    for &p in DEFAULT_POWERS.iter().filter(|p| **p >= 1.5) {
        let a = analysis::analyze_capacity(p, 10.0).unwrap();
        assert!(a.protocol_cost <= 0.25, "p={p}: {}", a.protocol_cost);
    }
}

/// §4.2: honest bidding earns ε, and every split earns U(N, α) < α^{p−1}.
#[test]
fn post_utility_bound() {
    for &(eps, p, s) in &[(0.017, 2.0, 50.0), (0.1, 1.5, 10.0), (0.3, 3.0, 2.0)] {
        assert!((analysis::sybil_utility(1, 1, eps, p, s) - eps).abs() < 1e-15);
        for j in 1..40u64 {
            let bound = (1.0 / j as f64).powf(p - 1.0);
            for n in [1u64, j, 2 * j, 10 * j, 100 * j] {
                let u = analysis::sybil_utility(n, j, eps, p, s);
                assert!(u < bound, "eps={eps} p={p} j={j} N={n}: {u} ≥ {bound}");
            }
        }
    }
}

/// §4.1: with linear rewards r(b) = λb, N identities bidding α/N each (α > 1,
/// here αε = 0.97) concentrate the allocated capacity on αε and earn close to
/// αελ > ελ, whatever the stake.
#[test]
fn post_linear_rewards_vulnerable() {
    let (eps, alpha, lambda) = (0.1, 9.7, 1.0);
    assert!((alpha * eps - 0.97_f64).abs() < 1e-12);
    for s in [10.0, 1e3, 1e6] {
        let honest = analysis::sybil_utility_general(1, 1.0, eps, lambda * 1.0, s);
        assert!((honest - eps * lambda).abs() < 1e-15);
        // Small N: the overallocation tail (and so the slashing) is heavy;
        // large N concentrates it away, whatever S is.
        let mut best = f64::NEG_INFINITY;
        for n in [100u64, 10_000, 1_000_000, 10_000_000] {
            let bid = alpha / n as f64;
            best = best.max(analysis::sybil_utility_general(
                n,
                bid,
                eps,
                lambda * bid,
                s,
            ));
        }
        assert!(best > 0.9 * lambda && best > honest, "S={s}: {best}");
    }
}

/// §4.2: by convexity of r(x) = x^p, one bid of c beats two of c/2.
#[test]
fn post_convexity_discourages_halving() {
    for &p in &DEFAULT_POWERS {
        assert!(2.0 * 0.5f64.powf(p) < 1.0);
    }
}

// ---------------------------------------------------------------------------
// Grids, bad input, the command's output
// ---------------------------------------------------------------------------

#[test]
fn grids_are_ten_by_ten_and_fast() {
    let t = Instant::now();
    let g = analysis::capacity_grid(&DEFAULT_POWERS, &DEFAULT_STAKES).unwrap();
    let cap = t.elapsed();
    assert_eq!((g.rows.len(), g.cols.len(), g.cells.len()), (10, 10, 10));
    assert!(g.cells.iter().all(|r| r.len() == 10));
    assert!(
        g.cells
            .iter()
            .flatten()
            .all(|c| c.protocol_cost > 0.0 && c.protocol_cost <= 2.0 && !c.truncated)
    );
    // More stake never makes the oracle dearer.
    for r in &g.cells {
        assert!(
            r.windows(2)
                .all(|w| w[1].epsilon_star <= w[0].epsilon_star + 1e-12)
        );
    }
    let t = Instant::now();
    let d =
        analysis::designated_grid(100, 0.0, &DEFAULT_HONEST_FRACTIONS, &DEFAULT_PENALTIES).unwrap();
    let des = t.elapsed();
    assert_eq!((d.rows.len(), d.cols.len(), d.cells.len()), (10, 10, 10));
    assert!(d.cells.iter().all(|r| r.len() == 10));
    assert!(d.cells.iter().flatten().all(|c| c.designated_loss >= 1.0));
    let t = Instant::now();
    let big = analysis::designated_grid(1000, 10.0, &DEFAULT_HONEST_FRACTIONS, &DEFAULT_PENALTIES)
        .unwrap();
    let des_big = t.elapsed();
    assert_eq!(big.cells.len(), 10);
    println!(
        "grid timings: capacity {cap:?}, designated n=100 {des:?}, designated n=1000 {des_big:?}"
    );
    for elapsed in [cap, des, des_big] {
        assert!(
            elapsed.as_secs_f64() < 5.0,
            "issue #5: a 10×10 grid in under 5 s"
        );
    }
}

#[test]
fn bad_input_is_rejected_with_one_sentence() {
    let designated = |n, a: Option<f64>, f: Option<u64>, p: Option<f64>, b| AnalyzeArgs {
        command: AnalyzeCommand::Designated(DesignatedArgs {
            provers: n,
            honest_fraction: a,
            corrupted: f,
            penalty: p,
            stake: b,
            grid: false,
            json: false,
        }),
    };
    let capacity = |p: Option<f64>, s: Option<f64>| AnalyzeArgs {
        command: AnalyzeCommand::Capacity(CapacityArgs {
            power: p,
            stake: s,
            grid: false,
            json: false,
        }),
    };
    let cases = [
        (designated(0, Some(0.5), None, Some(10.0), 0.0), "provers"),
        (
            designated(10, Some(0.0), None, Some(10.0), 0.0),
            "honest fraction",
        ),
        (
            designated(10, Some(1.5), None, Some(10.0), 0.0),
            "honest fraction",
        ),
        (
            designated(10, Some(-0.1), None, Some(10.0), 0.0),
            "honest fraction",
        ),
        (
            designated(10, Some(f64::NAN), None, Some(10.0), 0.0),
            "honest fraction",
        ),
        (designated(10, Some(0.5), None, Some(-1.0), 0.0), "penalty"),
        (
            designated(10, Some(0.5), None, Some(f64::INFINITY), 0.0),
            "penalty",
        ),
        (designated(10, Some(0.5), None, Some(10.0), -2.0), "stake"),
        (designated(10, None, Some(10), Some(10.0), 0.0), "corrupted"),
        (
            designated(10_000_000, Some(0.5), None, Some(10.0), 0.0),
            "provers",
        ),
        (capacity(Some(0.0), Some(8.0)), "power"),
        (capacity(Some(-1.0), Some(8.0)), "power"),
        (capacity(Some(1.0), Some(8.0)), "power"),
        (capacity(Some(2.0), Some(0.0)), "stake"),
        (capacity(Some(2.0), Some(-5.0)), "stake"),
        (capacity(Some(f64::NAN), Some(5.0)), "power"),
    ];
    for (args, word) in cases {
        let msg = analyze_cmd::validate(&args).expect_err(word);
        assert!(msg.contains(word), "{msg:?} should mention {word}");
        assert!(
            msg.ends_with('.') && !msg.contains('\n'),
            "one sentence: {msg:?}"
        );
        let mut out = Vec::new();
        let err = analyze_cmd::run(&args, &mut out).expect_err("run rejects it too");
        assert_eq!(err.to_string(), msg);
        assert!(out.is_empty());
    }
    // The library says the same.
    assert_eq!(
        ProcurementParams::from_honest_fraction(0, 0.5, 1.0, 0.0),
        Err(AnalysisError::NoProvers)
    );
    assert!(matches!(
        analysis::analyze_capacity(0.5, 8.0),
        Err(AnalysisError::Power(_))
    ));
}

fn run_to_string(args: &AnalyzeArgs) -> String {
    let mut out = Vec::new();
    analyze_cmd::run(args, &mut out).unwrap();
    String::from_utf8(out).unwrap()
}

fn designated_args(json: bool, grid: bool) -> AnalyzeArgs {
    AnalyzeArgs {
        command: AnalyzeCommand::Designated(DesignatedArgs {
            provers: 100,
            honest_fraction: Some(0.67),
            corrupted: None,
            penalty: Some(1e4),
            stake: 500.0,
            grid,
            json,
        }),
    }
}

fn capacity_args(json: bool, grid: bool) -> AnalyzeArgs {
    AnalyzeArgs {
        command: AnalyzeCommand::Capacity(CapacityArgs {
            power: Some(2.0),
            stake: Some(8.0),
            grid,
            json,
        }),
    }
}

#[test]
fn run_prints_the_key_numbers_and_their_sources() {
    let text = run_to_string(&designated_args(false, false));
    for needle in [
        "5.3141", // designated loss, §A.19 "5.31"
        "9.3697", // symmetric bound, §A.19 "9.37"
        "1 + 99", // committee
        "optimal: designated",
        "Lem. 3.4",
        "Def. A.2",
        "Rem. 3.9",
        "adversarial-procurement-paper.txt",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
    let text = run_to_string(&capacity_args(false, false));
    for needle in [
        "0.111111",
        "0.222222",
        "N = 2 identities",
        "§4.2",
        "capacity-oracles-post.txt",
    ] {
        assert!(text.contains(needle), "missing {needle:?} in\n{text}");
    }
}

#[test]
fn run_json_is_valid_and_complete() {
    let v: serde_json::Value =
        serde_json::from_str(&run_to_string(&designated_args(true, false))).unwrap();
    assert_eq!(v["optimal"], "designated");
    assert_eq!(v["optimality"], "designated_exact");
    assert_eq!(v["params"]["corrupted"], 33);
    assert_eq!(v["designated"]["committee_size"], 99);
    let loss = v["designated"]["loss"].as_f64().unwrap();
    assert_rounds_to(loss, 5.31, 2, "JSON designated loss");
    assert!(v["lottery"]["prize"].as_f64().unwrap() >= 1.0);

    let v: serde_json::Value =
        serde_json::from_str(&run_to_string(&capacity_args(true, false))).unwrap();
    assert!((v["epsilon_star"].as_f64().unwrap() - 1.0 / 9.0).abs() < 1e-12);
    assert!((v["protocol_cost"].as_f64().unwrap() - 2.0 / 9.0).abs() < 1e-12);
    assert_eq!(v["sybil_just_below"]["identities"], 2);

    let v: serde_json::Value =
        serde_json::from_str(&run_to_string(&capacity_args(true, true))).unwrap();
    assert_eq!(v["cells"].as_array().unwrap().len(), 10);
    assert_eq!(v["cells"][0].as_array().unwrap().len(), 10);
    let v: serde_json::Value =
        serde_json::from_str(&run_to_string(&designated_args(true, true))).unwrap();
    assert_eq!(v["cells"].as_array().unwrap().len(), 10);
}

#[test]
fn run_grid_prints_a_labelled_heatmap() {
    let text = run_to_string(&capacity_args(false, true));
    assert!(text.contains("2e*(p, S)"), "{text}");
    let rows: Vec<&str> = text.lines().filter(|l| l.contains(" |")).collect();
    assert_eq!(rows.len(), 11, "header + 10 rows:\n{text}");
    assert!(text.contains("0.22"), "S = 8, p = 2 cell:\n{text}");
    let text = run_to_string(&designated_args(false, true));
    let rows: Vec<&str> = text.lines().filter(|l| l.contains(" |")).collect();
    assert_eq!(rows.len(), 11, "header + 10 rows:\n{text}");
    assert!(
        text.contains('D') && text.contains("honest fraction"),
        "{text}"
    );
}

#[test]
fn which_mechanism_is_optimal_follows_the_paper() {
    // Unstaked, n = 100, α = 0.67, P = 10⁴: the symmetric bound (10.12) is
    // below designated (10.62); designated is still the best implemented.
    let r = analysis::analyze_designated(&params(100, 33, 1e4, 0.0)).unwrap();
    assert_eq!(r.optimality, Optimality::Bounded);
    assert_eq!(r.optimal, MechanismKind::Designated);
    assert!(r.lower_bound < r.optimal_loss);
    // Stake B = 10 already makes designated exactly optimal (9.78 < 9.79).
    let r = analysis::analyze_designated(&params(100, 33, 1e4, 10.0)).unwrap();
    assert_eq!(r.optimality, Optimality::DesignatedExact);
}

/// Identifies the parameters the texts lost, by scanning for every setting
/// that reproduces all the stated numbers. Slow: run with `--ignored`.
#[test]
#[ignore = "parameter identification scan, ~1 min"]
fn parameter_identification_scan() {
    let left = [
        (0.0, 10.62, 10.12),
        (10.0, 9.78, 9.79),
        (50.0, 8.32, 9.64),
        (100.0, 7.48, 9.56),
        (500.0, 5.31, 9.37),
    ];
    let right = [
        (0.0, 4.12, 3.99),
        (0.02, 4.11, 3.99),
        (0.1, 4.09, 3.99),
        (0.2, 4.06, 3.98),
        (1.0, 3.81, 3.97),
    ];
    for (penalty, rows) in [(1e4, left), (20.0, right)] {
        let mut fits = Vec::new();
        for n in 2..=300u64 {
            for f in 1..n {
                let ok = rows.iter().all(|&(b, d, s)| {
                    let pr = params(n, f, penalty, b);
                    (analysis::optimal_designated(&pr).unwrap().loss - d).abs() <= 0.005 + 1e-12
                        && (analysis::optimal_symmetric(&pr).unwrap().loss - s).abs()
                            <= 0.005 + 1e-12
                });
                if ok {
                    fits.push((n, f));
                }
            }
        }
        println!("P = {penalty}: (n, f) reproducing the §A.19 half-table: {fits:?}");
    }
    let mut fits = Vec::new();
    for p100 in (120..=400).step_by(5) {
        let p = f64::from(p100) / 100.0;
        for s in 1..=200 {
            let s = f64::from(s);
            let (left, _) = analysis::best_sybil(0.017, p, s);
            let (right, _) = analysis::best_sybil(0.034, p, s);
            if left.split == 5
                && left.identities == 44
                && (left.utility - 0.0245).abs() <= 0.00005
                && right.split == 1
                && right.identities == 1
            {
                fits.push((p, s));
            }
        }
    }
    println!("(p, S) reproducing the post's figure: {fits:?}");
}
