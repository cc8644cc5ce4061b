//! `dpgnet sim` (issue 5): the simulated loss of `designated` under the paper's worst-case
//! attacker against `analysis.rs` (what `dpgnet analyze designated` prints), liveness
//! fault rates at the extremes, reproducibility, `--compare`'s table and plot, and usage
//! errors through the binary. Every number here is simulated.

use std::path::Path;
use std::process::{Command, Output};

use dpgnet::config::{Devnet, Role};
use dpgnet::mechanism::analysis::{self, ProcurementParams};
use dpgnet::mechanism::sim::model::ProofModel;
use dpgnet::mechanism::sim::{self, AttackStrategy, SimMechanism, SimReport, SimSetup};

/// A setup on the default devnet with an exact proof model (no failures, constant
/// proving time well inside every deadline), so the paper's model applies.
fn setup(provers: usize, adversary_fraction: f64, penalty: u64, slots: u64) -> SimSetup {
    SimSetup {
        devnet: Devnet::default_devnet(),
        model: ProofModel {
            latency_mean_s: 1.0,
            latency_sd_s: 0.0,
            failure_rate: 0.0,
            deadline_s: None,
            proof_cost: 10_000,
        },
        provers,
        sub_blocks: 4,
        adversary_fraction,
        strategy: AttackStrategy::WorstCase,
        penalty,
        seed: 11,
        slots,
        replicas: 8,
        horizon: 100,
        threads: 2,
    }
}

fn designated(params: &[(&str, f64)]) -> SimMechanism {
    let p: Vec<(String, serde_yaml::Value)> = params
        .iter()
        .map(|(k, v)| ((*k).to_owned(), serde_yaml::Value::from(*v)))
        .collect();
    SimMechanism::parse("designated", &p).unwrap()
}

/// The simulated mean loss is within 3 standard errors of `predicted` (reward units), and
/// a prediction 20% higher is not: the test can fail.
#[track_caller]
fn agrees(r: &SimReport, predicted: f64) {
    let e = r.loss;
    assert!(e.std_error > 0.0, "the attack branch is random: {e:?}");
    assert!(
        e.within_se(predicted, 3.0),
        "simulated {} ± {} (SE) vs analysis {predicted}",
        e.mean,
        e.std_error
    );
    assert!(
        !e.within_se(predicted * 1.2, 3.0),
        "a prediction 20% off ({}) must fall outside 3 SE of {} ± {}",
        predicted * 1.2,
        e.mean,
        e.std_error
    );
}

#[test]
fn designated_matches_analyze_at_the_papers_optimum() {
    // §A.19's right half: n = 200, α = 0.5, P = 20 proof costs, B = 0 → L_D = 4.1195.
    let c = 10_000.0;
    let s = setup(200, 0.5, 200_000, 100_000);
    let pp = ProcurementParams::from_honest_fraction(200, 0.5, 20.0, 0.0).unwrap();
    let opt = analysis::optimal_designated(&pp).unwrap();
    assert!((opt.loss - 4.1195).abs() < 1e-3);
    let r = sim::run(&s, &designated(&[])).unwrap();
    assert_eq!(r.corrupted, 100);
    assert!(
        r.attacked.mean > 0.999,
        "the attacker withholds: {:?}",
        r.attacked
    );
    // The simulation ran the optimum's m and q.
    let m = r.mechanism_params.iter().find(|(k, _)| k == "m").unwrap();
    assert_eq!(m.1, opt.committee_size.to_string());
    agrees(&r, opt.loss * c);
    // The fault rate is (1 − q)^{m−f+1}.
    let fr = r.liveness_fault_rate;
    assert!(
        (fr.mean - opt.fault_probability_under_attack).abs() <= 3.0 * fr.std_error,
        "{fr:?} vs {}",
        opt.fault_probability_under_attack
    );
}

#[test]
fn designated_with_stake_matches_analyze() {
    // The same point with B = 1 proof cost slashed from the designate (Cor. 3.2):
    // L_D = 3.8141. The provers need stake ≥ S = B·c to be slashed in full.
    let c = 10_000.0;
    let mut s = setup(200, 0.5, 200_000, 100_000);
    for p in &mut s.devnet.participants {
        if p.role == Role::Prover {
            p.stake = 1_000_000;
        }
    }
    let pp = ProcurementParams::from_honest_fraction(200, 0.5, 20.0, 1.0).unwrap();
    let opt = analysis::optimal_designated(&pp).unwrap();
    assert!((opt.loss - 3.8141).abs() < 1e-3);
    let r = sim::run(&s, &designated(&[("stake", c)])).unwrap();
    agrees(&r, opt.loss * c);
    // The designate is slashed whenever the attacker withholds.
    assert!((r.insurance.mean - c).abs() < 1e-6, "{:?}", r.insurance);
}

#[test]
fn designated_matches_analyze_at_the_papers_left_table_point() {
    // §A.19's left half: n = 100, f = 33, P = 10⁴ proof costs → L_D = 10.6184; faults are
    // rare (p ≈ 1e-3), so this needs many slots.
    let c = 10_000.0;
    let s = setup(100, 0.33, 100_000_000, 600_000);
    let pp = ProcurementParams {
        provers: 100,
        corrupted: 33,
        penalty: 1e4,
        stake: 0.0,
    };
    let opt = analysis::optimal_designated(&pp).unwrap();
    assert!((opt.loss - 10.6184).abs() < 1e-3);
    let r = sim::run(&s, &designated(&[])).unwrap();
    assert_eq!(r.corrupted, 33);
    agrees(&r, opt.loss * c);
}

#[test]
fn designated_off_the_optimum_matches_designated_loss() {
    // A fixed committee m = 20 mixing with q = 0.05 against f = 10 of 50 at P = 100:
    // withholding (100 · 0.95^11 ≈ 56.9) beats behaving (1 + 20 · 0.05 = 2).
    let c = 10_000.0;
    let s = setup(50, 0.2, 1_000_000, 100_000);
    let pp = ProcurementParams {
        provers: 50,
        corrupted: 10,
        penalty: 100.0,
        stake: 0.0,
    };
    let predicted = analysis::designated_loss(&pp, 20, 0.05);
    assert!((predicted - 100.0 * 0.95f64.powi(11)).abs() < 1e-9);
    let r = sim::run(&s, &designated(&[("m", 20.0), ("q", 0.05)])).unwrap();
    agrees(&r, predicted * c);
    assert_eq!(
        r.analysis_loss.map(|a| (a / c * 1e6).round()),
        Some((predicted * 1e6).round())
    );
}

#[test]
fn liveness_faults_at_the_extremes() {
    // Every prover corrupted and withholding: every slot is a liveness fault, for the
    // engine and for the paper's mechanisms.
    for mech in [SimMechanism::Spec, designated(&[])] {
        let mut s = setup(20, 1.0, 10_000, 400);
        s.strategy = AttackStrategy::Withhold;
        let r = sim::run(&s, &mech).unwrap();
        assert_eq!(r.corrupted, 20);
        assert_eq!(r.liveness_fault_rate.mean, 1.0, "{}", r.mechanism);
        assert!(r.loss.mean >= 10_000.0);
    }
    // Honest provers that never fail: no fault.
    for mech in [SimMechanism::Spec, designated(&[])] {
        let mut s = setup(20, 0.0, 10_000, 400);
        s.model.latency_mean_s = 3.0;
        s.model.latency_sd_s = 1.5;
        let r = sim::run(&s, &mech).unwrap();
        assert_eq!(r.liveness_fault_rate.mean, 0.0, "{}", r.mechanism);
        assert!(r.payments.mean > 0.0);
    }
    // And the spec engine with 200 provers, as in the benchmark.
    let mut s = setup(200, 0.0, 10_000, 200);
    s.model.latency_sd_s = 1.0;
    let r = sim::run(&s, &SimMechanism::Spec).unwrap();
    assert_eq!(r.liveness_fault_rate.mean, 0.0);
}

#[test]
fn invalid_proofs_are_slashed_by_the_engine() {
    // Every prover sends proofs that do not verify: the engine slashes each invalid
    // message (SLASH_INVALID_PROOF = 100: 4 partials messages and 3 aggregations a slot)
    // and no slot finalizes. Money comes from the engine's own settlement.
    // A short horizon: slashed 100 per invalid message, a prover would be ejected after
    // 9 of them (stake 1000, min_stake 100).
    let mut s = setup(8, 1.0, 10_000, 200);
    s.strategy = AttackStrategy::InvalidProof;
    s.horizon = 2;
    let r = sim::run(&s, &SimMechanism::Spec).unwrap();
    assert_eq!((r.ejected, r.exhausted_slots), (0, 0));
    assert_eq!(r.liveness_fault_rate.mean, 1.0);
    // Plus PENALTY_T2_PROVER (3) for each of the 8 assigned partials not delivered validly.
    assert_eq!(r.slashed.mean, 7.0 * 100.0 + 8.0 * 3.0, "{:?}", r.slashed);
    // The default devnet burns what it takes: no insurance, the loss is payments + P.
    assert_eq!(r.insurance.mean, 0.0);
    assert!((r.loss.mean - (r.payments.mean + 10_000.0)).abs() < 1e-6);
}

#[test]
fn the_spec_worst_case_attacker_needs_the_aggregators() {
    // With 8 provers, 4 are selected and 3 designated aggregators: a budget of 3 covers
    // them all and every slot fails; with P below the T3 rewards the attack does not pay.
    let mut s = setup(8, 3.0 / 8.0, 100_000, 400);
    s.model.latency_sd_s = 0.5;
    let r = sim::run(&s, &SimMechanism::Spec).unwrap();
    assert_eq!(r.corrupted, 3);
    assert_eq!(r.liveness_fault_rate.mean, 1.0);
    s.penalty = 100;
    let r = sim::run(&s, &SimMechanism::Spec).unwrap();
    assert_eq!(r.liveness_fault_rate.mean, 0.0);
    assert_eq!(r.attacked.mean, 0.0);
}

/// The report's numbers without the wall-clock fields.
fn numbers(r: &SimReport) -> String {
    let mut v = serde_json::to_value(r).unwrap();
    for k in [
        "wall_s",
        "threads",
        "slots_per_s",
        "prover_slot_steps_per_s",
    ] {
        v.as_object_mut().unwrap().remove(k);
    }
    v.to_string()
}

#[test]
fn same_seed_same_numbers_other_seed_other_numbers() {
    for mech in [SimMechanism::Spec, designated(&[])] {
        // P = 20 proof costs: designated mixes (m > 0), so its loss is random too.
        let mut s = setup(20, 0.25, 200_000, 600);
        s.model.latency_sd_s = 1.5;
        s.model.failure_rate = 0.05;
        let a = sim::run(&s, &mech).unwrap();
        let b = sim::run(&s, &mech).unwrap();
        assert_eq!(numbers(&a), numbers(&b), "{}", a.mechanism);
        // The thread count does not change the result.
        s.threads = 1;
        let c = sim::run(&s, &mech).unwrap();
        assert_eq!(numbers(&a), numbers(&c), "{}", a.mechanism);
        s.seed += 1;
        let d = sim::run(&s, &mech).unwrap();
        assert_ne!(numbers(&a), numbers(&d), "{}", a.mechanism);
        assert_ne!(a.loss.mean, d.loss.mean, "{}", a.mechanism);
    }
}

fn dpgnet(args: &[&str], dir: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dpgnet"))
        .args(args)
        .current_dir(dir)
        .env_remove("RUST_LOG")
        .output()
        .expect("the dpgnet binary runs")
}

#[test]
fn compare_writes_a_table_and_a_plot_naming_every_mechanism() {
    let dir = tempfile::tempdir().unwrap();
    let all = "spec,designated,lottery,pay_deliverers,capacity_audit,dual_auction,proof_tree";
    let out = dpgnet(
        &[
            "sim",
            "--compare",
            all,
            "--adversary-fraction",
            "0.25",
            "--slots",
            "400",
            "--penalties",
            "200,2000,20000",
            "--out",
            "out",
        ],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let md = std::fs::read_to_string(dir.path().join("out/compare.md")).unwrap();
    let csv = std::fs::read_to_string(dir.path().join("out/compare.csv")).unwrap();
    let svg = std::fs::read_to_string(dir.path().join("out/loss_vs_penalty.svg")).unwrap();
    assert!(svg.starts_with("<svg"), "an SVG");
    assert!(svg.len() > 2_000);
    for text in [&stdout.to_string(), &md, &svg] {
        assert!(text.contains("simulated"), "labelled simulated");
    }
    for name in all.split(',') {
        assert!(md.contains(name), "{name} in the table");
        assert!(svg.contains(name), "{name} in the plot");
        assert_eq!(
            csv.lines()
                .filter(|l| l.starts_with(&format!("simulated,{name},")))
                .count(),
            3,
            "{name}: one CSV row per penalty"
        );
    }
}

#[test]
fn cli_json_and_usage_errors() {
    let dir = tempfile::tempdir().unwrap();
    let out = dpgnet(
        &[
            "sim",
            "--slots",
            "200",
            "--mechanism",
            "designated",
            "--adversary-fraction",
            "0.25",
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["label"], "simulated");
    assert_eq!(v["mechanism"], "designated");
    assert!(v["loss"]["ci95_low"].as_f64().unwrap() <= v["loss"]["mean"].as_f64().unwrap());

    let bad: [(&[&str], &str); 6] = [
        (
            &["sim", "--adversary-fraction", "1.5"],
            "--adversary-fraction must be between 0 and 1",
        ),
        (
            &["sim", "--mechanism", "auction"],
            "unknown mechanism `auction`",
        ),
        (
            &["sim", "--compare", "spec,nope"],
            "unknown mechanism `nope`",
        ),
        (
            &["sim", "--mechanism", "designated", "--param", "zeta=1"],
            "has no parameter `zeta`",
        ),
        (&["sim", "--strategy", "bribe"], "invalid value 'bribe'"),
        (
            &["sim", "--compare", "spec,designated", "--param", "m=3"],
            "prefix --param with its mechanism",
        ),
    ];
    for (args, msg) in bad {
        let out = dpgnet(args, dir.path());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {stderr}");
        assert!(stderr.contains(msg), "{args:?}: {stderr}");
    }
}

#[test]
fn the_devnet_files_sim_section_sets_the_proof_model() {
    let dir = tempfile::tempdir().unwrap();
    let yaml = "\
name: t
participants:
  - role: validator
    count: 4
  - role: prover
    count: 8
sim:
  latency_mean_s: 2
  latency_sd_s: 0
  failure_rate: 0
  proof_cost: 50
";
    std::fs::write(dir.path().join("d.yaml"), yaml).unwrap();
    let out = dpgnet(
        &["sim", "--devnet", "d.yaml", "--slots", "100", "--json"],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["model"]["latency_mean_s"], 2.0);
    assert_eq!(v["model"]["proof_cost"], 50);
    assert_eq!(v["liveness_fault_rate"]["mean"], 0.0);
    // Without --mechanism, the devnet's `mechanism:` (kind and parameters) runs.
    let file = Path::new(env!("CARGO_MANIFEST_DIR")).join("devnet/mechanisms/designated.yaml");
    let out = dpgnet(
        &[
            "sim",
            "--devnet",
            file.to_str().unwrap(),
            "--slots",
            "100",
            "--json",
        ],
        dir.path(),
    );
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert_eq!(v["mechanism"], "designated");
    assert!(
        v["mechanism_params"].to_string().contains(r#"["m","2"]"#),
        "{v}"
    );
    std::fs::write(
        dir.path().join("bad.yaml"),
        yaml.replace("failure_rate: 0", "failure_rate: 2"),
    )
    .unwrap();
    let out = dpgnet(
        &["sim", "--devnet", "bad.yaml", "--slots", "10"],
        dir.path(),
    );
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("failure rate"), "{stderr}");
}
