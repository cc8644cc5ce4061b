//! Orchestration: start a devnet on a runtime, drive it slot by slot, and stream
//! what happens as [`crate::app::Msg`]s to the TUI or the headless reporter.
//!
//! Data flow (DESIGN.md "Shape"): runtime starts nodes → nodes exchange signed
//! messages → validators feed them to the pure engine → the engine emits events →
//! this module streams the events of one validator's replica to the views.

use std::path::PathBuf;
use std::time::Duration;

use alloy_primitives::Address;
use dpgnet_circuits::ParamsCache;
use jsonrpsee::http_client::HttpClient;
use tracing::{info, warn};

use tokio::sync::{mpsc::UnboundedSender, watch};
use tokio_util::sync::CancellationToken;

use crate::app::{LogLine, Msg};
use crate::config::Devnet;
use crate::node::rpc::{ProofTiming, ProverApiClient, ValidatorApiClient};
use crate::node::workload::Workload;
use crate::node::{Circuits, NodeKey, Strategy};
use crate::protocol::{Event, GenesisAccount, Phase, Role};
use crate::runtime::{Runtime, Started};

pub use crate::runtime::RuntimeKind;

/// How long the orchestrator waits for a node's answer to a bookkeeping call
/// (events, status, timings) before it moves on without it.
const RPC_PATIENCE: Duration = Duration::from_secs(2);

/// What to run.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// The devnet definition (already validated).
    pub devnet: Devnet,
    /// Where nodes run.
    pub runtime: RuntimeKind,
    /// Stop after this many slots; `None` runs until cancelled.
    pub slots: Option<u64>,
    /// Close each phase as soon as every expected message is in.
    pub fast: bool,
    /// Directory of the halo2 parameter cache (`None`: the default location).
    pub params_dir: Option<PathBuf>,
    /// Faults to inject, each just before its slot starts (scenario plan steps,
    /// shaped like attacknet's `planSteps`).
    pub plan: Vec<PlanStep>,
    /// Docker: leave the containers and network running at the end (`--keep`).
    pub keep: bool,
    /// Docker: publish validator-0's RPC on 127.0.0.1 (a free host port).
    pub publish_rpc: bool,
}

/// One plan step: at the start of `slot`, apply `fault`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlanStep {
    /// The slot before which the fault is applied.
    pub slot: u64,
    /// What to do.
    pub fault: Fault,
}

/// Live controls from the TUI.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Control {
    /// Do not start new slots while paused.
    pub paused: bool,
}

/// A fault injected into a running devnet (DESIGN.md: faults like Kurtosis'
/// `disruptoor_params`; TUI keys and scenario steps later).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fault {
    /// Kill the named node (e.g. `prover-3`): it stops answering and sending at
    /// once, even mid-proof.
    Kill(String),
    /// Freeze the named node: it misses notices and its messages wait.
    Pause(String),
    /// Thaw a paused node.
    Resume(String),
    /// Restart the named node (Docker: `docker restart`; it rejoins with a fresh
    /// process and the same keys).
    Restart(String),
    /// Cut the named node off the devnet's network (Docker: network disconnect).
    Disconnect(String),
    /// Put a disconnected node back on the network.
    Reconnect(String),
    /// Switch the adversary agent's strategy (e.g. `steal`, `sybil:2`) on the named
    /// corrupted provers, or on all of them when `targets` is empty; `honest` stops
    /// an attack.
    Strategy {
        /// Strategy name, as in the devnet YAML.
        strategy: String,
        /// Corrupted prover names (e.g. `prover-7`); empty means all.
        targets: Vec<String>,
    },
}

impl std::fmt::Display for Fault {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Fault::Kill(n) => write!(f, "kill {n}"),
            Fault::Pause(n) => write!(f, "pause {n}"),
            Fault::Resume(n) => write!(f, "resume {n}"),
            Fault::Restart(n) => write!(f, "restart {n}"),
            Fault::Disconnect(n) => write!(f, "disconnect {n}"),
            Fault::Reconnect(n) => write!(f, "reconnect {n}"),
            Fault::Strategy { strategy, targets } if targets.is_empty() => {
                write!(f, "strategy {strategy} on every corrupted prover")
            }
            Fault::Strategy { strategy, targets } => {
                write!(f, "strategy {strategy} on {}", targets.join(", "))
            }
        }
    }
}

impl Fault {
    /// The node a node fault acts on (`None` for a strategy switch).
    #[must_use]
    pub fn node(&self) -> Option<&str> {
        match self {
            Fault::Kill(n)
            | Fault::Pause(n)
            | Fault::Resume(n)
            | Fault::Restart(n)
            | Fault::Disconnect(n)
            | Fault::Reconnect(n) => Some(n),
            Fault::Strategy { .. } => None,
        }
    }
}

/// Orchestration failures (exit code 3 in the CLI).
#[derive(Debug, thiserror::Error)]
pub enum OrchestratorError {
    /// Circuit keys or parameters could not be set up.
    #[error("circuit setup failed: {0}")]
    Circuits(String),
    /// A node could not be started or reached.
    #[error("node {node}: {reason}")]
    Node {
        /// Node name.
        node: String,
        /// What failed.
        reason: String,
    },
    /// The engine refused the orchestrator's call (a bug).
    #[error("engine: {0}")]
    Engine(String),
    /// The Docker runtime failed (daemon unreachable, image build, containers).
    #[error("{0}")]
    Docker(#[from] crate::runtime::docker::DockerError),
}

/// Per-slot timing measured by the orchestrator (seconds).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct SlotTiming {
    /// Slot.
    pub slot: u64,
    /// Wall time from slot start to settlement, seconds.
    pub wall_s: f64,
    /// Critical path of the proving done in the slot, seconds: the longest chain
    /// of proving durations reported by provers along the phases.
    pub proving_critical_path_s: f64,
}

/// The critical path of the proving in one slot, seconds: for each phase, the
/// longest proving any prover did for that phase's submissions, summed over phases
/// (the phases run one after another; provers within a phase run in parallel).
#[must_use]
pub fn critical_path(timings: &[ProofTiming]) -> f64 {
    Phase::ALL
        .iter()
        .map(|p| {
            timings
                .iter()
                .filter(|t| t.phase == *p)
                .map(|t| t.seconds)
                .fold(0.0, f64::max)
        })
        .sum()
}

/// The ledger's genesis accounts of `devnet`: every validator and prover (the
/// adversary agent holds no account), with the devnet keys of
/// [`NodeKey::derive`].
#[must_use]
pub fn genesis(devnet: &Devnet) -> Vec<GenesisAccount> {
    let np = &devnet.network_params;
    devnet
        .nodes()
        .iter()
        .filter(|s| s.role != Role::Adversary)
        .map(|s| GenesisAccount {
            address: NodeKey::derive(np.seed, s.role, s.index).address(),
            role: s.role,
            stake: s.stake,
            balance: if s.role == Role::Validator {
                np.genesis_validator_balance
            } else {
                np.genesis_prover_balance
            },
        })
        .collect()
}

/// The workload generator of `devnet`.
#[must_use]
pub fn workload(devnet: &Devnet) -> Workload {
    let np = &devnet.network_params;
    Workload {
        seed: np.seed,
        num_partial_proofs: np.num_partial_proofs,
        txs_per_sub_block: np.txs_per_sub_block,
        num_sets: np.num_sub_block_sets,
    }
}

/// Apply `fault` through the runtime, before or during `slot`, and tell the views.
/// A failure is a warning in the log, never a crash: a demo goes on.
async fn apply_fault<R: Runtime>(
    rt: &mut R,
    started: &mut Started,
    tx: &UnboundedSender<Msg>,
    slot: u64,
    fault: &Fault,
) {
    let log = |line: LogLine| {
        let _ = tx.send(Msg::Log(line));
    };
    let address = |name: &str| {
        started
            .infos
            .iter()
            .find(|i| i.name == name)
            .map(|i| i.address)
    };
    match fault {
        Fault::Strategy { strategy, targets } => {
            let parsed: Strategy = match strategy.parse() {
                Ok(s) => s,
                Err(e) => {
                    log(LogLine::warn(None, e));
                    return;
                }
            };
            let identities = rt.identities().await;
            let mut addrs = Vec::new();
            for t in targets {
                match address(t).filter(|a| identities.contains(a)) {
                    Some(a) => addrs.push(a),
                    None => {
                        log(LogLine::warn(
                            None,
                            format!("{fault}: {t} is not a corrupted prover"),
                        ));
                        return;
                    }
                }
            }
            let targets = (!targets.is_empty()).then_some(addrs);
            if let Err(e) = rt.set_strategy(&parsed, targets).await {
                log(LogLine::warn(None, format!("{fault}: {e}")));
                return;
            }
            warn!(target: "dpgnet::orchestrator", fault = %fault, "attack switched");
            let _ = tx.send(Msg::FaultApplied {
                slot,
                fault: fault.clone(),
            });
        }
        _ => match rt.apply(fault).await {
            Err(e) => log(LogLine::warn(None, e)),
            Ok((msgs, new_url)) => {
                warn!(target: "dpgnet::orchestrator", fault = %fault, "fault applied");
                let _ = tx.send(Msg::FaultApplied {
                    slot,
                    fault: fault.clone(),
                });
                for m in msgs {
                    let _ = tx.send(m);
                }
                if let (Some(url), Some(name)) = (new_url, fault.node()) {
                    started.moved(name, &url);
                }
            }
        },
    }
}

/// Copy engine events from the first reachable validator into `tx`, starting at
/// `cursor`; returns the new cursor and whether `slot` has settled.
async fn pump(
    validators: &[(Address, HttpClient)],
    cursor: &mut u64,
    tx: &UnboundedSender<Msg>,
    settled_slot: Option<u64>,
) -> bool {
    let mut settled = false;
    for (_, c) in validators {
        // A paused or cut-off validator must not stall the views: skip it.
        let Ok(Ok(page)) = tokio::time::timeout(RPC_PATIENCE, c.events(*cursor)).await else {
            continue;
        };
        for e in page.events {
            if let (Event::Settled(s), Some(want)) = (&e, settled_slot) {
                settled |= s.slot == want;
            }
            let _ = tx.send(Msg::Engine(e));
        }
        *cursor = page.next;
        break;
    }
    settled
}

/// Start the devnet, run `opts.slots` slots (or until `cancel`), streaming every
/// engine event and node status change into `tx` as [`Msg`]s, then tear it down.
/// Returns the per-slot timings.
///
/// # Errors
/// [`OrchestratorError`] on setup or node failures (not on protocol faults: those
/// are events).
pub async fn run(
    opts: RunOptions,
    tx: UnboundedSender<Msg>,
    control: watch::Receiver<Control>,
    cancel: CancellationToken,
) -> Result<Vec<SlotTiming>, OrchestratorError> {
    let (_faults_tx, faults_rx) = tokio::sync::mpsc::unbounded_channel();
    run_with_faults(opts, tx, control, faults_rx, cancel).await
}

/// [`run`], plus live fault injection: every [`PlanStep`] received on `faults` is
/// applied at the start of its slot, or at once (mid-slot if a slot is running)
/// when its slot has already started, and reported as a [`Msg::FaultApplied`].
///
/// # Errors
/// As [`run`].
pub async fn run_with_faults(
    opts: RunOptions,
    tx: UnboundedSender<Msg>,
    mut control: watch::Receiver<Control>,
    mut faults: tokio::sync::mpsc::UnboundedReceiver<PlanStep>,
    cancel: CancellationToken,
) -> Result<Vec<SlotTiming>, OrchestratorError> {
    let np = opts.devnet.network_params.clone();
    let cache = opts
        .params_dir
        .clone()
        .map_or_else(ParamsCache::default_location, ParamsCache::new);
    let cache_dir = cache.dir().to_path_buf();
    let (n, t, sets) = (
        np.num_partial_proofs,
        np.txs_per_sub_block,
        np.num_sub_block_sets,
    );
    let (kind, why) = crate::runtime::resolve(opts.runtime).await;
    let _ = tx.send(Msg::Log(LogLine::info(None, why)));
    if kind != RuntimeKind::Inproc {
        // Containers generate their own keys; they only need the IPA params on disk
        // (made once here, so eleven containers do not all generate them).
        let _ = tx.send(Msg::Log(LogLine::info(
            None,
            "checking the halo2 params cache (mounted into every container)…",
        )));
        let dir = cache_dir.clone();
        tokio::task::spawn_blocking(move || ensure_params(&ParamsCache::new(dir), n, t, sets))
            .await
            .map_err(|e| OrchestratorError::Circuits(e.to_string()))?
            .map_err(|e| OrchestratorError::Circuits(e.to_string()))?;
    }
    match kind {
        RuntimeKind::Docker | RuntimeKind::Auto => {
            let rt =
                crate::runtime::docker::DockerRuntime::connect(cache_dir.clone(), opts.publish_rpc)
                    .await
                    .map_err(OrchestratorError::Docker)?;
            run_on(rt, &opts, &tx, &mut control, &mut faults, &cancel).await
        }
        RuntimeKind::Attached => {
            let rt = crate::runtime::docker::AttachedRuntime::default();
            run_on(rt, &opts, &tx, &mut control, &mut faults, &cancel).await
        }
        RuntimeKind::Inproc => {
            let _ = tx.send(Msg::Log(LogLine::info(
                None,
                "generating circuit keys (params cached on disk)…",
            )));
            let circuits = tokio::task::spawn_blocking(move || Circuits::load(n, t, sets, &cache))
                .await
                .map_err(|e| OrchestratorError::Circuits(e.to_string()))?
                .map_err(|e| OrchestratorError::Circuits(e.to_string()))?;
            let _ = tx.send(Msg::Log(LogLine::info(
                None,
                format!(
                    "circuits ready: partial k={}, full k={}, link k={}",
                    circuits.partial.k(),
                    circuits.full.k(),
                    circuits.link.k()
                ),
            )));
            let rt = crate::runtime::inproc::InprocRuntime::new(circuits);
            run_on(rt, &opts, &tx, &mut control, &mut faults, &cancel).await
        }
    }
}

/// Make sure the params file of every `k` the devnet's circuits use is in `cache`
/// (generated when missing): partial and full proofs, the link proof, and the
/// set-level link proof with several sub-block sets.
///
/// # Errors
/// [`dpgnet_circuits::CircuitError`] from `min_k` or the cache.
fn ensure_params(
    cache: &ParamsCache,
    n: u32,
    t: u32,
    sets: u32,
) -> Result<(), dpgnet_circuits::CircuitError> {
    use dpgnet_circuits::{ChainCircuit, LinkCircuit};
    let (n, t) = (n as usize, t as usize);
    let mut ks = vec![
        ChainCircuit::min_k(t)?,
        ChainCircuit::min_k(n * t)?,
        LinkCircuit::min_k(n)?,
    ];
    if sets > 1 {
        ks.push(LinkCircuit::min_k(sets as usize)?);
    }
    for k in ks {
        cache.get(k)?;
    }
    Ok(())
}

/// Start the devnet on `rt`, drive it, then tear it down (unless `opts.keep`).
async fn run_on<R: Runtime>(
    mut rt: R,
    opts: &RunOptions,
    tx: &UnboundedSender<Msg>,
    control: &mut watch::Receiver<Control>,
    faults: &mut tokio::sync::mpsc::UnboundedReceiver<PlanStep>,
    cancel: &CancellationToken,
) -> Result<Vec<SlotTiming>, OrchestratorError> {
    let started = tokio::select! {
        r = rt.start(&opts.devnet, tx) => Some(r),
        () = cancel.cancelled() => None,
    };
    let mut started = match started {
        Some(Ok(s)) => s,
        Some(Err(e)) => {
            rt.stop(opts.keep).await;
            return Err(e);
        }
        // Interrupted while starting: tear down what exists; the caller reports the
        // interrupt (exit 130), not an error.
        None => {
            rt.stop(opts.keep).await;
            return Ok(Vec::new());
        }
    };
    info!(target: "dpgnet::orchestrator", nodes = started.infos.len(), runtime = rt.kind().as_str(), "devnet up");
    let _ = tx.send(Msg::NodesStarted(started.infos.clone()));
    let mut cursor = 0u64;
    pump(&started.validators, &mut cursor, tx, None).await;
    let mut timings = Vec::new();
    let result = drive(
        opts,
        &mut rt,
        &mut started,
        tx,
        control,
        faults,
        cancel,
        &mut cursor,
        &mut timings,
    )
    .await;
    // Flush the remaining events, then stop every node.
    pump(&started.validators, &mut cursor, tx, None).await;
    rt.stop(opts.keep).await;
    result.map(|()| timings)
}

#[allow(clippy::too_many_arguments)]
async fn drive<R: Runtime>(
    opts: &RunOptions,
    rt: &mut R,
    d: &mut Started,
    tx: &UnboundedSender<Msg>,
    control: &mut watch::Receiver<Control>,
    faults: &mut tokio::sync::mpsc::UnboundedReceiver<PlanStep>,
    cancel: &CancellationToken,
    cursor: &mut u64,
    timings: &mut Vec<SlotTiming>,
) -> Result<(), OrchestratorError> {
    let mut slot = 0u64;
    let mut last_watch = std::time::Instant::now();
    let mut plan: Vec<PlanStep> = opts.plan.clone();
    loop {
        if opts.slots.is_some_and(|n| slot >= n) || cancel.is_cancelled() {
            return Ok(());
        }
        while control.borrow().paused {
            tokio::select! {
                () = cancel.cancelled() => return Ok(()),
                r = control.changed() => if r.is_err() { break },
            }
        }
        while let Ok(step) = faults.try_recv() {
            plan.push(step);
        }
        for step in plan.iter().filter(|p| p.slot <= slot) {
            apply_fault(rt, d, tx, slot, &step.fault).await;
        }
        plan.retain(|p| p.slot > slot);
        // Any validator can say who proposes (RANDAO is replicated); ask them in
        // turn so one paused or cut-off validator does not stop the devnet.
        let mut proposer = None;
        let mut last_err = String::from("no validator answered");
        let mut first = d.validators[0].1.clone();
        for (_, v) in &d.validators {
            match tokio::time::timeout(RPC_PATIENCE, v.proposer(slot)).await {
                Ok(Ok(p)) => {
                    proposer = Some(p);
                    first = v.clone();
                    break;
                }
                Ok(Err(e)) => last_err = e.to_string(),
                Err(_) => last_err = "no answer within 2 s".into(),
            }
        }
        let proposer = proposer.ok_or_else(|| OrchestratorError::Node {
            node: "validators".into(),
            reason: format!("cannot learn slot {slot}'s proposer: {last_err}"),
        })?;
        let client = d
            .validators
            .iter()
            .find(|(a, _)| *a == proposer)
            .map(|(_, c)| c.clone())
            .ok_or_else(|| {
                OrchestratorError::Engine(format!("proposer {proposer} is not a validator"))
            })?;
        let fast = opts.fast;
        let mut drive = tokio::spawn(async move { client.drive_slot(slot, fast).await });
        // Stream events and the phase clock while the slot runs.
        let mut tick = tokio::time::interval(Duration::from_millis(100));
        let res = loop {
            tokio::select! {
                () = cancel.cancelled() => { drive.abort(); return Ok(()) }
                r = &mut drive => break r,
                Some(step) = faults.recv() => {
                    if step.slot <= slot {
                        apply_fault(rt, d, tx, slot, &step.fault).await;
                    } else {
                        plan.push(step);
                    }
                }
                _ = tick.tick() => {
                    if last_watch.elapsed() >= Duration::from_millis(500) {
                        last_watch = std::time::Instant::now();
                        for m in rt.watch().await {
                            let _ = tx.send(m);
                        }
                    }
                    pump(&d.validators, cursor, tx, None).await;
                    if let Ok(Ok(st)) = tokio::time::timeout(RPC_PATIENCE, first.status()).await {
                        if let (Some(s), Some(p)) = (st.slot, st.phase) {
                            let _ = tx.send(Msg::PhaseProgress { slot: s, phase: p, elapsed_s: st.phase_elapsed_s, window_s: st.phase_window_s });
                        }
                    }
                }
            }
        };
        let res = res
            .map_err(|e| OrchestratorError::Engine(format!("slot driver task: {e}")))?
            .map_err(|e| OrchestratorError::Node {
                node: format!("proposer {proposer}"),
                reason: e.to_string(),
            })?;
        // Make sure the slot's settlement has reached the views.
        for _ in 0..50 {
            if pump(&d.validators, cursor, tx, Some(slot)).await {
                break;
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // Ask every prover at once, each with a short patience: a killed, paused
        // or disconnected prover must not hold up the next slot.
        let answers = futures::future::join_all(
            d.provers
                .iter()
                .map(|p| tokio::time::timeout(RPC_PATIENCE, p.timings(slot))),
        )
        .await;
        let mut slot_timings = Vec::new();
        for a in answers {
            match a {
                Ok(Ok(t)) => slot_timings.extend(t),
                Ok(Err(e)) => {
                    warn!(target: "dpgnet::orchestrator", error = %e, "no timings from a prover");
                }
                Err(_) => {
                    warn!(target: "dpgnet::orchestrator", "a prover did not answer for its timings");
                }
            }
        }
        timings.push(SlotTiming {
            slot,
            wall_s: res.wall_s,
            proving_critical_path_s: critical_path(&slot_timings),
        });
        slot += 1;
    }
}
