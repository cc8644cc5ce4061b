//! Attack scenarios end to end: every shipped scenario (`devnet/scenarios/*.yaml`) runs
//! in-process with real halo2 proofs (`--fast`) and every expectation holds, while its
//! negation fails on the same run (so a broken run would fail the scenario); the
//! attacked slot's ledger deltas of one attacker identity and one honest prover match
//! the spec's table, derived by hand below; the selections the descriptions claim are
//! the pure engine's; and the `dpgnet scenario` CLI exits 0, 1 or 2 as documented.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use alloy_primitives::Bytes;
use dpgnet::config::{ConfigError, Role};
use dpgnet::headless::Report;
use dpgnet::node::NodeKey;
use dpgnet::orchestrator::{genesis, workload};
use dpgnet::protocol::{Engine, EngineParams, SetAssignment, SlotInput};
use dpgnet::scenario::{self, Base, ScenarioReport};
use tokio_util::sync::CancellationToken;

/// Devnets in one test binary run one at a time (2 cores).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("devnet/scenarios")
}

fn path(name: &str) -> PathBuf {
    dir().join(format!("{name}.yaml"))
}

/// Run the shipped scenario `name`; assert that every expectation held and that the
/// negation of each one fails on the same report.
async fn run(name: &str) -> ScenarioReport {
    let s = scenario::load(&path(name)).unwrap_or_else(|e| panic!("{e}"));
    let out = {
        let _serial = SERIAL.lock().await;
        scenario::run(&s, None, CancellationToken::new())
            .await
            .expect("stdout")
    };
    assert!(out.error.is_none(), "{name}: {:?}", out.error);
    let r = out.report;
    for c in &r.expectations {
        assert!(
            c.pass,
            "{name}: `{}` failed, measured {:?} {:?}",
            c.expect, c.measured, c.note
        );
    }
    assert_eq!(
        (r.passed, r.exit_code),
        (true, 0),
        "{name}: {:?}",
        r.failures
    );
    assert!(r.run.conservation_ok);
    for e in &s.expect {
        let broken = e.negated();
        assert!(
            !broken.check(&r.run).pass,
            "{name}: `{broken}` (the negation of `{}`) also held",
            e.text
        );
    }
    r
}

/// One node's ledger movements in one slot, reward units.
#[derive(Debug, PartialEq, Eq)]
struct Delta {
    paid: u64,
    penalized: u64,
    slashed: u64,
}

fn delta(r: &Report, slot: u64, name: &str) -> Delta {
    let address = &r
        .nodes
        .iter()
        .find(|n| n.name == name)
        .unwrap_or_else(|| panic!("no node {name}"))
        .address;
    let s = r
        .slots
        .iter()
        .find(|s| s.slot == slot)
        .unwrap_or_else(|| panic!("slot {slot} did not settle"));
    let get = |m: &std::collections::BTreeMap<String, u64>| m.get(address).copied().unwrap_or(0);
    Delta {
        paid: get(&s.paid),
        penalized: get(&s.penalized),
        slashed: get(&s.slashed),
    }
}

fn d(paid: u64, penalized: u64, slashed: u64) -> Delta {
    Delta {
        paid,
        penalized,
        slashed,
    }
}

// The spec's table (devnet/default.yaml): REWARD_T2_PROVER 10 per valid partial,
// PENALTY_T1_PROVER 1, PENALTY_T2_PROVER 3 per assigned partial not delivered validly,
// REWARD_PROVER_REUSING_T3 40 / REWARD_PROVER_REUSED_T3 40 per partial,
// REWARD_PROVER_T3 50, PENALTY_PROVER_T3 1, PENALTY_PROVER_NOTREUSED_T3 1 per partial,
// T4: 30 / 30 / 40 / PENALTY_PROVER_T4 2; SLASH_INVALID_PROOF 100, SLASH_EQUIVOCATION
// 200. With 8 provers, 4 are selected and each is assigned 4 x 2 / 4 = 2 partials.

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn honest() {
    let r = run("honest").await;
    // prover-6 (held by the adversary, honest here) shares sub-blocks 0 and 2 with the
    // aggregator prover-0: 10 x 2 partials + 40 x 2 reused = 100.
    assert_eq!(delta(&r.run, 0, "prover-6"), d(100, 0, 0));
    // The aggregator prover-0: 10 x 2 + 40 x 4 others' partials reused + 50 = 230.
    assert_eq!(delta(&r.run, 0, "prover-0"), d(230, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn withhold() {
    let r = run("withhold").await;
    // Committed (no T1 penalty), no partial: 3 x 2 missed + PENALTY_PROVER_T3 1 = 7.
    assert_eq!(delta(&r.run, 0, "prover-6"), d(0, 7, 0));
    // prover-5 holds the other copies of sub-blocks 1 and 3: 10 x 2 + 40 x 2 reused.
    assert_eq!(delta(&r.run, 0, "prover-5"), d(100, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn silent() {
    let r = run("silent").await;
    // No commitment: PENALTY_T1_PROVER 1 + 3 x 2 missed + PENALTY_PROVER_T3 1 = 8.
    assert_eq!(delta(&r.run, 0, "prover-6"), d(0, 8, 0));
    // prover-5: 10 x 2 + 40 x 2 reused.
    assert_eq!(delta(&r.run, 0, "prover-5"), d(100, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn late() {
    let r = run("late").await;
    // The late commitment is judged in T2 and the late partials in T3: as if never
    // sent, 1 + 3 x 2 + 1 = 8; never slashed.
    assert_eq!(delta(&r.run, 0, "prover-6"), d(0, 8, 0));
    // prover-0 holds the other copies of sub-blocks 1 and 3: 10 x 2 + 40 x 2.
    assert_eq!(delta(&r.run, 0, "prover-0"), d(100, 0, 0));
    // The commitment, at least, is always caught (the partials when they land before
    // T3 closes).
    let phases: Vec<_> = r.run.slots[0].warnings.iter().map(|w| w.phase).collect();
    assert!(phases.contains(&dpgnet::protocol::Phase::T2), "{phases:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn invalid_proof() {
    let r = run("invalid_proof").await;
    // SLASH_INVALID_PROOF 100 for the message of tampered partials; PENALTY_T2_PROVER
    // 3 x 2 missed partials + PENALTY_PROVER_T3 1 = 7.
    assert_eq!(delta(&r.run, 0, "prover-7"), d(0, 7, 100));
    // prover-3 holds the other copies: 10 x 2 + 40 x 2 reused.
    assert_eq!(delta(&r.run, 0, "prover-3"), d(100, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn steal() {
    let r = run("steal").await;
    // The copy of prover-3's proof: SLASH_INVALID_PROOF 100; no valid partial:
    // 3 x 2 + PENALTY_PROVER_T3 1 = 7.
    assert_eq!(delta(&r.run, 0, "prover-7"), d(0, 7, 100));
    // The owner is paid as if nothing happened: 10 x 2 + 40 x 2 reused.
    assert_eq!(delta(&r.run, 0, "prover-3"), d(100, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn equivocate() {
    let r = run("equivocate").await;
    // SLASH_EQUIVOCATION 200 for the second commitment; the first one stands, so it
    // proves and is paid: 10 x 2 + 40 x 2 reused by the aggregator prover-5.
    assert_eq!(delta(&r.run, 0, "prover-6"), d(100, 0, 200));
    // The aggregator prover-5: 10 x 2 + 40 x 4 reused + 50 = 230.
    assert_eq!(delta(&r.run, 0, "prover-5"), d(230, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn no_reuse() {
    let r = run("no_reuse").await;
    // The aggregator reuses nothing: 10 x 2 + REWARD_PROVER_T3 50, no reusing reward.
    assert_eq!(delta(&r.run, 0, "prover-6"), d(70, 0, 0));
    // prover-4: 10 x 2, and PENALTY_PROVER_NOTREUSED_T3 1 x 2 partials instead of
    // 40 x 2 reused (compare the honest scenario's 100).
    assert_eq!(delta(&r.run, 0, "prover-4"), d(20, 2, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn sybil() {
    let r = run("sybil").await;
    // prover-7 is out of the operator's capacity: committed, no partial:
    // 3 x 2 + PENALTY_PROVER_T3 1 = 7.
    assert_eq!(delta(&r.run, 0, "prover-7"), d(0, 7, 0));
    // prover-6 used the capacity: 10 x 2 + 40 x 2 reused.
    assert_eq!(delta(&r.run, 0, "prover-6"), d(100, 0, 0));
    // The honest prover-2 (sub-blocks 0 and 2): 10 x 2 + 40 x 2 reused.
    assert_eq!(delta(&r.run, 0, "prover-2"), d(100, 0, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn targeted_liveness() {
    let r = run("targeted_liveness").await;
    // The adversary's own prover-6 (the T5 aggregator) stays silent:
    // PENALTY_T1_PROVER 1 + 3 x 2; a liveness fault applies no T3-T5 rows.
    assert_eq!(delta(&r.run, 0, "prover-6"), d(0, 7, 0));
    // The untargeted honest prover-5 delivers: 10 x 2, nothing else.
    assert_eq!(delta(&r.run, 0, "prover-5"), d(20, 0, 0));
    // The block is carried over to slot 1.
    assert_eq!((r.run.slots[1].slot, r.run.slots[1].block), (1, 0));
    assert_eq!(r.run.slots[0].loss, r.run.slots[0].payments + 10_000);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn kill_prover() {
    let r = run("kill_prover").await;
    // Dead from the start of slot 1: PENALTY_T1_PROVER 1 + 3 x 2 + PENALTY_PROVER_T4 2
    // (T3 had no full proof, so its rows do not apply); never slashed.
    assert_eq!(delta(&r.run, 1, "prover-5"), d(0, 9, 0));
    // The T4 aggregator prover-1: 10 x 2 + REWARD_PROVER_REUSING_T4 30 x 4 +
    // REWARD_PROVER_T4 40 = 180.
    assert_eq!(delta(&r.run, 1, "prover-1"), d(180, 0, 0));
}

/// Slot 0's selection, computed with the pure engine as validators do, by name.
fn slot0(devnet: &dpgnet::config::Devnet) -> (Vec<String>, SetAssignment) {
    let mut e = Engine::new(EngineParams::from_devnet(devnet), &genesis(devnet)).unwrap();
    e.begin_slot(SlotInput {
        slot: 0,
        reveal: Bytes::from(vec![0u8; 65]),
        roots: workload(devnet).roots(0),
    })
    .unwrap();
    let a = e.set_state(0).unwrap().assignment.clone();
    let seed = devnet.network_params.seed;
    let names = a
        .selected
        .iter()
        .map(|addr| {
            let s = devnet
                .nodes()
                .into_iter()
                .find(|s| {
                    s.role == Role::Prover
                        && NodeKey::derive(seed, s.role, s.index).address() == *addr
                })
                .unwrap();
            format!("prover-{}", s.index)
        })
        .collect();
    (names, a)
}

#[test]
fn seeds_select_the_provers_the_descriptions_name() {
    // Slot 0's selected provers in order: the 1st, 2nd and 3rd are the designated T3,
    // T4 and T5 aggregators; 1st and 3rd share sub-blocks 0 and 2, 2nd and 4th 1 and 3.
    let claims = [
        ("honest", ["prover-0", "prover-1", "prover-6", "prover-5"]),
        ("withhold", ["prover-0", "prover-5", "prover-2", "prover-6"]),
        ("silent", ["prover-0", "prover-5", "prover-2", "prover-6"]),
        ("late", ["prover-2", "prover-0", "prover-1", "prover-6"]),
        (
            "invalid_proof",
            ["prover-2", "prover-3", "prover-4", "prover-7"],
        ),
        ("steal", ["prover-2", "prover-3", "prover-0", "prover-7"]),
        (
            "equivocate",
            ["prover-5", "prover-0", "prover-6", "prover-4"],
        ),
        ("no_reuse", ["prover-6", "prover-0", "prover-4", "prover-3"]),
        ("sybil", ["prover-3", "prover-6", "prover-2", "prover-7"]),
        (
            "targeted_liveness",
            ["prover-0", "prover-1", "prover-6", "prover-5"],
        ),
        (
            "kill_prover",
            ["prover-2", "prover-0", "prover-1", "prover-5"],
        ),
    ];
    for (name, selected) in claims {
        let s = scenario::load(&path(name)).unwrap();
        let (names, a) = slot0(&s.devnet);
        assert_eq!(names, selected, "{name}");
        assert_eq!(a.assignments[&a.selected[0]], [0, 2], "{name}");
        assert_eq!(a.assignments[&a.selected[3]], [1, 3], "{name}");
        let listed = selected.iter().map(|p| p.to_string()).collect::<Vec<_>>();
        let text = format!(
            "{}, {}, {} and {} in slot 0",
            listed[0], listed[1], listed[2], listed[3]
        );
        assert!(
            s.description.contains(&text),
            "{name}: the description should say `{text}`"
        );
    }
}

#[test]
fn every_scenario_file_is_built_in_and_every_strategy_has_one() {
    let mut files: Vec<String> = std::fs::read_dir(dir())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .map(|p| p.file_stem().unwrap().to_string_lossy().into_owned())
        .collect();
    files.sort();
    let mut built: Vec<String> = scenario::BUILTIN
        .iter()
        .map(|(n, _)| (*n).to_owned())
        .collect();
    built.sort();
    assert_eq!(files, built);
    for (name, src) in scenario::BUILTIN {
        assert_eq!(std::fs::read_to_string(path(name)).unwrap(), *src, "{name}");
    }
    let used: Vec<String> = files
        .iter()
        .flat_map(|n| scenario::load(&path(n)).unwrap().strategies())
        .map(|s| s.split(':').next().unwrap().to_owned())
        .collect();
    for strategy in [
        "withhold",
        "late",
        "invalid_proof",
        "steal",
        "equivocate",
        "no_reuse",
        "sybil",
        "targeted_liveness",
        "kill",
    ] {
        assert!(
            used.iter().any(|u| u == strategy),
            "no scenario uses {strategy}"
        );
    }
}

/// A scenario source in `devnet/scenarios/` (so `../default.yaml` resolves) with the
/// given plan and expectations.
fn parse_bad(body: &str) -> String {
    let src = format!("name: bad\ndescription: x\ndevnet: ../default.yaml\nslots: 2\n{body}");
    match scenario::parse(&src, "bad.yaml", &Base::Dir(dir())) {
        Ok(_) => panic!("parsed: {body}"),
        Err(e @ ConfigError::Syntax { .. }) => e.to_string(),
        Err(e) => panic!("not a positioned error: {e}"),
    }
}

#[test]
fn parse_errors_name_the_line_and_column() {
    // Line 5 is `plan:` / `expect:`, line 6 the first item.
    let e = parse_bad("expect:\n  - liveness_faults <= 0\n  - slashed[adversary] =< 100\n");
    assert_eq!(
        e,
        "bad.yaml:7:24: expectation `slashed[adversary] =< 100`: expected an operator \
         (==, !=, <=, >=, <, >) after `slashed[adversary]`, found `=<`"
    );
    let e = parse_bad("expect:\n  - stolen[adversary] >= 1\n");
    assert!(
        e.starts_with("bad.yaml:6:5: expectation `stolen[adversary] >= 1`: unknown metric `stolen` (known: liveness_faults,"),
        "{e}"
    );
    let e = parse_bad("plan:\n  - slot: 0\n    strategy: bribe\n");
    assert!(
        e.starts_with(
            "bad.yaml:7:15: unknown adversary strategy `bribe` (known: honest, withhold,"
        ),
        "{e}"
    );
    let e = parse_bad("plan:\n  - {slot: 1, strategy: steal, targets: [prover-9]}\n");
    assert!(
        e.starts_with("bad.yaml:6:42: no node named `prover-9` in this devnet"),
        "{e}"
    );
    let e = parse_bad("plan:\n  - {slot: 1, kill: prover-9}\n");
    assert!(
        e.starts_with("bad.yaml:6:21: no node named `prover-9` in this devnet"),
        "{e}"
    );
    let e = parse_bad("expect:\n  - warnings[stolen_proof,prover-8] >= 1\n");
    assert!(e.starts_with("bad.yaml:6:27: expectation"), "{e}");
    let e = parse_bad("expect:\n  - outcome[slot=1] == finalized\n");
    assert!(e.starts_with("bad.yaml:6:24: expectation"), "{e}");
}

fn dpgnet(args: &[&str], cwd: &Path) -> Output {
    Command::new(env!("CARGO_BIN_EXE_dpgnet"))
        .args(args)
        .current_dir(cwd)
        .env("RUST_LOG", "dpgnet=warn")
        .output()
        .expect("the dpgnet binary runs")
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[test]
fn list_shows_every_scenario_from_the_repo_and_built_in() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let tmp = tempfile::tempdir().unwrap();
    for cwd in [root, tmp.path()] {
        let out = dpgnet(&["scenario", "list"], cwd);
        assert_eq!(out.status.code(), Some(0), "{}", text(&out.stderr));
        let stdout = text(&out.stdout);
        assert!(stdout.starts_with("NAME"), "{stdout}");
        for (name, _) in scenario::BUILTIN {
            assert!(
                stdout.lines().any(|l| l.starts_with(&format!("{name} "))),
                "{name}: {stdout}"
            );
        }
        assert!(stdout.contains("targeted_liveness:3"), "{stdout}");
    }
}

#[test]
fn a_bad_scenario_file_exits_2_with_its_position() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("bad.yaml");
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("devnet/default.yaml");
    std::fs::write(
        &file,
        format!(
            "name: bad\ndevnet: {}\nslots: 1\nexpect:\n  - finalized >== 1\n",
            default.display()
        ),
    )
    .unwrap();
    let out = dpgnet(
        &["scenario", "run", file.to_str().unwrap(), "--headless"],
        tmp.path(),
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out.stderr));
    let stderr = text(&out.stderr);
    assert!(
        stderr.contains(&format!(
            "{}:5:17: expectation `finalized >== 1`: `= 1` is not a number",
            file.display()
        )),
        "{stderr}"
    );
    let out = dpgnet(&["scenario", "run", "no_such_scenario"], tmp.path());
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out.stderr).contains("no scenario named `no_such_scenario`"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_expectation_exits_1_and_a_right_one_exits_0() {
    let tmp = tempfile::tempdir().unwrap();
    let file = tmp.path().join("wrong.yaml");
    let default = Path::new(env!("CARGO_MANIFEST_DIR")).join("devnet/default.yaml");
    std::fs::write(
        &file,
        format!(
            "name: wrong\ndevnet: {}\noverrides:\n  seed: 5\n  phase_seconds: {{t1: 4, t2: 20, t3: 20}}\n\
             slots: 1\nexpect:\n  - finalized == 1\n  - liveness_faults >= 1\n  - paid[prover-0,slot=0] == 999\n",
            default.display()
        ),
    )
    .unwrap();
    let report = tmp.path().join("report.json");
    let (wrong, right) = {
        let _serial = SERIAL.lock().await;
        let wrong = dpgnet(
            &[
                "scenario",
                "run",
                file.to_str().unwrap(),
                "--headless",
                "--report",
                report.to_str().unwrap(),
            ],
            tmp.path(),
        );
        // A shipped scenario by name, from a directory without devnet/scenarios/: the
        // built-in copy; without --headless it says so and runs headless.
        let right = dpgnet(&["scenario", "run", "honest"], tmp.path());
        (wrong, right)
    };
    let stderr = text(&wrong.stderr);
    assert_eq!(wrong.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("pass  finalized == 1"), "{stderr}");
    assert!(
        stderr.contains("FAIL  liveness_faults >= 1          measured 0"),
        "{stderr}"
    );
    assert!(
        stderr.contains("FAIL  paid[prover-0,slot=0] == 999  measured 230"),
        "{stderr}"
    );
    assert!(
        stderr.contains("scenario wrong: FAILED (exit 1)"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "dpgnet: expectation failed: expectation `liveness_faults >= 1` failed: measured 0"
        ),
        "{stderr}"
    );
    let json: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report).unwrap()).unwrap();
    assert_eq!(json["exit_code"], 1);
    assert_eq!(json["passed"], false);
    assert_eq!(
        json["expectations"][1],
        serde_json::json!({"expect": "liveness_faults >= 1", "measured": 0, "pass": false})
    );
    assert_eq!(json["run"]["slots"][0]["outcome"], "finalized_t3");
    // NDJSON on stdout, one line per slot.
    assert_eq!(text(&wrong.stdout).lines().count(), 1);

    let stderr = text(&right.stderr);
    assert_eq!(right.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("the terminal UI does not run scenarios yet"),
        "{stderr}"
    );
    assert!(
        stderr.contains("scenario honest from built-in honest"),
        "{stderr}"
    );
    assert!(stderr.contains("scenario honest: ok (exit 0)"), "{stderr}");
}
