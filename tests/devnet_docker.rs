//! The Docker runtime on this machine's Docker Engine, with real containers and
//! real halo2 proofs: three slots finalize with one container per node, `down`
//! leaves nothing behind (and nothing of anyone else's is touched), a prover's
//! container killed mid-slot is absorbed or recorded while the ledger conserves
//! value, network and pause faults round-trip, and an unreachable daemon is one
//! clear sentence with exit code 3.
//!
//! Without a daemon these tests say so loudly and pass, unless
//! `DPGNET_REQUIRE_DOCKER=1` (CI sets it), which turns a missing daemon into a
//! failure.

use std::process::{Command, Output};
use std::time::Duration;

use dpgnet::app::Msg;
use dpgnet::config::{Devnet, Role};
use dpgnet::node::NodeKey;
use dpgnet::orchestrator::{Control, Fault, PlanStep, RunOptions, RuntimeKind, run_with_faults};
use dpgnet::protocol::{Event, Outcome};
use dpgnet::runtime::docker;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

const BIN: &str = env!("CARGO_BIN_EXE_dpgnet");

/// Docker devnets in this binary run one at a time (2 cores).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// True when a daemon answers; panics when none does and Docker is required.
async fn docker_or_skip(test: &str) -> bool {
    match docker::ping().await {
        Ok(_) => true,
        Err(e) => {
            assert!(
                std::env::var("DPGNET_REQUIRE_DOCKER").as_deref() != Ok("1"),
                "DPGNET_REQUIRE_DOCKER=1 but no Docker daemon answers: {e}"
            );
            eprintln!("SKIPPED {test}: no Docker daemon answers ({e})");
            false
        }
    }
}

/// The default devnet renamed (so tests never touch each other's containers),
/// with patient windows.
fn devnet(name: &str, seed: u64) -> Devnet {
    let mut d = Devnet::default_devnet();
    d.name = name.to_string();
    d.network_params.seed = seed;
    let w = &mut d.network_params.phase_seconds;
    (w.t1, w.t2, w.t3, w.t4, w.t5) = (12.0, 14.0, 12.0, 12.0, 12.0);
    d
}

fn write_devnet(d: &Devnet, dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join(format!("{}.yaml", d.name));
    std::fs::write(&path, serde_yaml::to_string(d).unwrap()).unwrap();
    path
}

async fn leftovers(name: &str) -> (Vec<String>, Vec<String>) {
    let d = docker::connect().await.unwrap();
    let c = docker::containers(&d, Some(name)).await.unwrap();
    let n = docker::networks(&d, Some(name)).await.unwrap();
    (c.into_iter().map(|r| r.name).collect(), n)
}

fn dpgnet(args: &[&str]) -> Output {
    Command::new(BIN).args(args).output().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn three_slots_finalize_in_containers_and_down_leaves_nothing() {
    if !docker_or_skip("three_slots_finalize_in_containers").await {
        return;
    }
    let _serial = SERIAL.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let d = devnet("ci-docker-run", 7);
    let file = write_devnet(&d, tmp.path());
    let report = tmp.path().join("report.json");
    let mut child = tokio::process::Command::new(BIN)
        .args([
            "run",
            "--headless",
            "--runtime",
            "docker",
            "--slots",
            "3",
            "--fast",
        ])
        .arg("--devnet")
        .arg(&file)
        .arg("--report")
        .arg(&report)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    // While it runs, Docker shows one running container per node: 4 validators,
    // 6 honest provers and the adversary agent (its 2 corrupted provers live in it).
    let want = d.nodes().iter().filter(|s| !s.corrupted).count();
    assert_eq!(want, 11);
    let mut most_running = 0;
    for _ in 0..600 {
        let (names, _) = leftovers("ci-docker-run").await;
        let dk = docker::connect().await.unwrap();
        let rows = docker::containers(&dk, Some("ci-docker-run"))
            .await
            .unwrap();
        let running = rows.iter().filter(|r| r.state == "running").count();
        most_running = most_running.max(running);
        if running == want {
            for s in d.nodes().iter().filter(|s| !s.corrupted) {
                let n = docker::container_name(&d.name, s.role, s.index);
                assert!(names.contains(&n), "{n} missing from {names:?}");
                let row = rows.iter().find(|r| r.name == n).unwrap();
                assert_eq!(row.role, s.role.as_str());
                assert_eq!(row.index, s.index.to_string());
                assert_eq!(row.devnet, "ci-docker-run");
            }
            break;
        }
        if child.try_wait().unwrap().is_some() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(most_running, want, "one running container per node");
    let out = child.wait_with_output().await.unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "dpgnet run failed:\n{stderr}");
    assert!(stderr.contains("runtime docker"), "{stderr}");
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    assert_eq!(r["runtime"], "docker");
    assert!(
        r["mechanism"].as_str().unwrap().starts_with("spec"),
        "{}",
        r["mechanism"]
    );
    let slots = r["slots"].as_array().unwrap();
    assert_eq!(slots.len(), 3);
    for s in slots {
        assert_eq!(s["outcome"], "finalized_t3", "{s}");
        assert_eq!(s["conservation_ok"], true);
    }
    // Torn down: no container, no network.
    assert_eq!(leftovers("ci-docker-run").await, (vec![], vec![]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prover_container_killed_mid_slot_is_absorbed_and_value_is_conserved() {
    if !docker_or_skip("prover_container_killed_mid_slot").await {
        return;
    }
    let _serial = SERIAL.lock().await;
    // The image holds the dpgnet binary next to this test binary (see
    // `image::node_binary`), the same one BIN names.
    assert_eq!(
        dpgnet::runtime::image::node_binary()
            .unwrap()
            .canonicalize()
            .unwrap(),
        std::path::Path::new(BIN).canonicalize().unwrap()
    );
    let d = devnet("ci-docker-kill", 11);
    let seed = d.network_params.seed;
    let honest: Vec<(String, alloy_primitives::Address)> = d
        .nodes()
        .iter()
        .filter(|s| s.role == Role::Prover && !s.corrupted)
        .map(|s| {
            (
                format!("prover-{}", s.index),
                NodeKey::derive(seed, s.role, s.index).address(),
            )
        })
        .collect();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (_ctl, ctl_rx) = watch::channel(Control::default());
    let (ftx, frx) = mpsc::unbounded_channel();
    let opts = RunOptions {
        devnet: d,
        runtime: RuntimeKind::Docker,
        slots: Some(2),
        fast: true,
        params_dir: std::env::var_os("DPGNET_PARAMS_DIR").map(Into::into),
        plan: vec![
            // Slot 0: cut a prover off the network, freeze another; slot 1 undoes both.
            PlanStep {
                slot: 0,
                fault: Fault::Disconnect("prover-5".into()),
            },
            PlanStep {
                slot: 0,
                fault: Fault::Pause("prover-4".into()),
            },
            PlanStep {
                slot: 1,
                fault: Fault::Reconnect("prover-5".into()),
            },
            PlanStep {
                slot: 1,
                fault: Fault::Resume("prover-4".into()),
            },
            // A prover restarts with the same keys; a validator restart is refused
            // (it would come back with a genesis replica).
            PlanStep {
                slot: 1,
                fault: Fault::Restart("prover-4".into()),
            },
            PlanStep {
                slot: 1,
                fault: Fault::Restart("validator-1".into()),
            },
        ],
        keep: false,
        publish_rpc: false,
    };
    let task = tokio::spawn(run_with_faults(
        opts,
        tx,
        ctl_rx,
        frx,
        CancellationToken::new(),
    ));
    let mut events = Vec::new();
    let mut killed = None;
    let mut faults = Vec::new();
    let mut states: Vec<(alloy_primitives::Address, String)> = Vec::new();
    while let Some(m) = rx.recv().await {
        match m {
            Msg::Engine(e) => {
                // Mid-slot: once slot 0's T2 is open, kill a selected honest prover
                // that is not paused or cut off.
                if let Event::SlotStarted { slot: 0, sets, .. } = &e {
                    let victim = honest
                        .iter()
                        .find(|(n, a)| {
                            n != "prover-4" && n != "prover-5" && sets[0].selected.contains(a)
                        })
                        .cloned();
                    killed = victim;
                }
                if let (Event::PhaseOpened { slot: 0, phase }, Some((name, _))) = (&e, &killed)
                    && *phase == dpgnet::protocol::Phase::T2
                {
                    ftx.send(PlanStep {
                        slot: 0,
                        fault: Fault::Kill(name.clone()),
                    })
                    .unwrap();
                }
                events.push(e);
            }
            Msg::FaultApplied { fault, .. } => faults.push(fault),
            Msg::ContainerState { address, state } => states.push((address, state)),
            _ => {}
        }
    }
    task.await.unwrap().expect("the devnet runs");
    let (name, address) = killed.expect("an honest prover was selected in slot 0");
    assert!(faults.contains(&Fault::Kill(name.clone())), "{faults:?}");
    for f in ["prover-5", "prover-4"] {
        assert!(
            faults.iter().any(|x| x.node() == Some(f)),
            "{f} faulted: {faults:?}"
        );
    }
    assert!(faults.contains(&Fault::Reconnect("prover-5".into())));
    assert!(faults.contains(&Fault::Resume("prover-4".into())));
    assert!(faults.contains(&Fault::Restart("prover-4".into())));
    assert!(
        !faults.contains(&Fault::Restart("validator-1".into())),
        "a validator restart must be refused"
    );
    // Docker itself saw the container exit.
    assert!(
        states.iter().any(|(a, s)| *a == address && s == "exited"),
        "container state of {name}: {states:?}"
    );
    let settled: Vec<_> = events
        .iter()
        .filter_map(|e| match e {
            Event::Settled(s) => Some(s.clone()),
            _ => None,
        })
        .collect();
    assert_eq!(settled.len(), 2);
    for s in &settled {
        assert!(s.conservation_ok, "slot {} conserves value", s.slot);
        assert!(
            matches!(
                s.outcome,
                Outcome::FinalizedT3
                    | Outcome::FinalizedT4
                    | Outcome::FinalizedT5
                    | Outcome::LivenessFault
            ),
            "{:?}",
            s.outcome
        );
    }
    // After the kill (at T2's opening) nothing from the killed prover is included:
    // no T3–T5 message in slot 0 and nothing at all in slot 1.
    let after_kill: Vec<_> = events
        .iter()
        .filter(|e| {
            matches!(e, Event::MessageIncluded { slot, phase, from, .. }
                if *from == address
                    && (*slot == 1 || *phase > dpgnet::protocol::Phase::T2))
        })
        .collect();
    assert!(
        after_kill.is_empty(),
        "{name} spoke after its death: {after_kill:?}"
    );
    // And it earns nothing in slot 1.
    let paid: u64 = settled[1]
        .entries
        .iter()
        .filter(|e| e.node == address && e.kind == dpgnet::protocol::EntryKind::Reward)
        .map(|e| e.applied)
        .sum();
    assert_eq!(paid, 0, "killed prover {name} earned nothing in slot 1");
    assert_eq!(leftovers("ci-docker-kill").await, (vec![], vec![]));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn keep_leaves_the_devnet_and_down_removes_exactly_ours() {
    if !docker_or_skip("keep_then_down").await {
        return;
    }
    let _serial = SERIAL.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let d = devnet("ci-docker-keep", 3);
    let file = write_devnet(&d, tmp.path());
    let out = dpgnet(&[
        "run",
        "--headless",
        "--runtime",
        "docker",
        "--slots",
        "1",
        "--fast",
        "--keep",
        "--devnet",
        file.to_str().unwrap(),
    ]);
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let (names, nets) = leftovers("ci-docker-keep").await;
    assert_eq!(names.len(), 11, "--keep left the containers: {names:?}");
    assert_eq!(nets, vec!["dpgnet-ci-docker-keep".to_string()]);
    // `status` lists it.
    let st = dpgnet(&["status"]);
    let text = String::from_utf8_lossy(&st.stdout);
    assert!(
        text.contains("devnet ci-docker-keep: 11/11 containers running"),
        "{text}"
    );
    // `logs` of one node shows its startup line.
    let logs = dpgnet(&["logs", "validator-0", "--devnet", "ci-docker-keep"]);
    let text = String::from_utf8_lossy(&logs.stdout);
    assert!(text.contains("serving JSON-RPC"), "{text}");
    // A container of the same image without our labels must survive `down`.
    let dk = docker::connect().await.unwrap();
    let tag = dpgnet::runtime::image::tag_for(std::path::Path::new(BIN)).unwrap();
    let stranger = "dpgnet-test-stranger-not-ours";
    let _ = Command::new("docker").args(["rm", "-f", stranger]).output();
    let made = Command::new("docker")
        .args(["create", "--name", stranger, &tag, "status"])
        .output()
        .unwrap();
    assert!(
        made.status.success(),
        "{}",
        String::from_utf8_lossy(&made.stderr)
    );
    let out = dpgnet(&["down", "--devnet", "ci-docker-keep"]);
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stderr).contains("removed 11 container(s)"));
    assert_eq!(leftovers("ci-docker-keep").await, (vec![], vec![]));
    let still = dk.inspect_container(stranger, None).await;
    let _ = Command::new("docker").args(["rm", "-f", stranger]).output();
    assert!(still.is_ok(), "down removed a container without our labels");
}

#[test]
fn an_unreachable_daemon_is_one_sentence_and_exit_3() {
    let out = Command::new(BIN)
        .args(["run", "--headless", "--runtime", "docker", "--slots", "1"])
        .env("DOCKER_HOST", "unix:///nonexistent/dpgnet-test.sock")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(3), "{stderr}");
    assert!(
        stderr.contains("cannot reach the Docker daemon"),
        "{stderr}"
    );
    assert!(stderr.contains("--runtime inproc"), "{stderr}");
    // `auto` falls back to in-process and says so (checked without running slots:
    // `status` needs the daemon and fails the same way).
    let st = Command::new(BIN)
        .arg("status")
        .env("DOCKER_HOST", "unix:///nonexistent/dpgnet-test.sock")
        .output()
        .unwrap();
    assert_eq!(st.status.code(), Some(3));
    assert!(String::from_utf8_lossy(&st.stderr).contains("--runtime inproc"));
}

#[test]
fn auto_without_a_daemon_runs_in_process_and_says_so() {
    let tmp = tempfile::tempdir().unwrap();
    let d = devnet("ci-auto", 5);
    let file = write_devnet(&d, tmp.path());
    let out = Command::new(BIN)
        .args(["run", "--headless", "--slots", "1", "--fast", "--devnet"])
        .arg(&file)
        .env("DOCKER_HOST", "unix:///nonexistent/dpgnet-test.sock")
        .env_remove("DPGNET_REQUIRE_DOCKER")
        .env_remove("DPGNET_RUNTIME")
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("runtime inproc (auto: no Docker daemon answered"),
        "{stderr}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_kill_prover_scenario_holds_on_docker_and_its_report_shows_the_kill() {
    if !docker_or_skip("kill_prover scenario on docker").await {
        return;
    }
    let _serial = SERIAL.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let report = tmp.path().join("scenario.json");
    let out = Command::new(BIN)
        .args([
            "scenario",
            "run",
            "kill_prover",
            "--headless",
            "--runtime",
            "docker",
            "--report",
        ])
        .arg(&report)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let run = &r["run"];
    assert_eq!(run["runtime"], "docker");
    assert!(
        run["faults"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["slot"] == 1 && f["fault"] == "kill prover-5"),
        "{}",
        run["faults"]
    );
    let p5 = run["nodes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|n| n["name"] == "prover-5")
        .unwrap();
    assert_eq!(p5["container"], "exited", "{p5}");
    assert!(p5["down"].as_str().unwrap().contains("killed"), "{p5}");
    assert_eq!(leftovers("default").await, (vec![], vec![]));
}

#[test]
fn the_checked_in_compose_file_is_what_dpgnet_compose_writes() {
    let out = dpgnet(&["compose", "--devnet", "devnet/default.yaml", "--build"]);
    assert_eq!(out.status.code(), Some(0));
    let written = String::from_utf8(out.stdout).unwrap();
    let checked_in = std::fs::read_to_string("compose/compose.yaml").unwrap();
    assert!(
        written == checked_in,
        "compose/compose.yaml is stale: run `dpgnet compose --devnet devnet/default.yaml \
         --build --out compose/compose.yaml`"
    );
    // One service per node container plus the orchestrator, on our network.
    let v: serde_yaml::Value = serde_yaml::from_str(&written).unwrap();
    assert_eq!(v["services"].as_mapping().unwrap().len(), 12);
    assert_eq!(
        v["networks"]["devnet"]["name"].as_str(),
        Some("dpgnet-default")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn ctrl_c_tears_the_containers_down_and_exits_130() {
    if !docker_or_skip("ctrl_c_tears_down").await {
        return;
    }
    let _serial = SERIAL.lock().await;
    let tmp = tempfile::tempdir().unwrap();
    let d = devnet("ci-docker-int", 9);
    let file = write_devnet(&d, tmp.path());
    let mut child = tokio::process::Command::new(BIN)
        .args([
            "run",
            "--headless",
            "--runtime",
            "docker",
            "--slots",
            "50",
            "--fast",
        ])
        .arg("--devnet")
        .arg(&file)
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // Wait until the devnet runs, then interrupt it as a terminal's Ctrl-C would.
    let mut up = false;
    for _ in 0..600 {
        let dk = docker::connect().await.unwrap();
        let rows = docker::containers(&dk, Some("ci-docker-int"))
            .await
            .unwrap();
        if rows.iter().filter(|r| r.state == "running").count() == 11 {
            up = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(up, "the devnet never came up");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let pid = child.id().unwrap().to_string();
    assert!(
        Command::new("kill")
            .args(["-INT", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("dpgnet exits after Ctrl-C")
        .unwrap();
    assert_eq!(status.code(), Some(130));
    assert_eq!(leftovers("ci-docker-int").await, (vec![], vec![]));
}
