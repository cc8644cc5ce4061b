//! Orchestration: start a devnet on a runtime, drive it slot by slot, and stream
//! what happens as [`crate::app::Msg`]s to the TUI or the headless reporter.
//!
//! Data flow (DESIGN.md "Shape"): runtime starts nodes → nodes exchange signed
//! messages → validators feed them to the pure engine → the engine emits events →
//! this module streams the events of one validator's replica to the views.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use alloy_primitives::Address;
use dpgnet_circuits::ParamsCache;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};
use jsonrpsee::server::{Server, ServerHandle};
use tracing::{info, warn};

use tokio::sync::{mpsc::UnboundedSender, watch};
use tokio_util::sync::CancellationToken;

use crate::app::{LogLine, Msg, NodeInfo};
use crate::config::Devnet;
use crate::node::rpc::{
    ProofTiming, ProverApiClient, ProverApiServer, ValidatorApiClient, ValidatorApiServer,
};
use crate::node::validator::Topology;
use crate::node::workload::Workload;
use crate::node::{
    AdversaryNode, Circuits, NodeKey, ProverCore, ProverNode, Strategy, ValidatorNode,
};
use crate::protocol::{Engine, EngineParams, Event, GenesisAccount, Phase, Role};

/// Where nodes run (DESIGN.md "Runtimes"). Only `inproc` exists for now.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RuntimeKind {
    /// Tokio tasks in this process, each node a JSON-RPC server on 127.0.0.1.
    Inproc,
}

impl RuntimeKind {
    /// The name shown to users.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RuntimeKind::Inproc => "inproc",
        }
    }
}

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
            Fault::Strategy { strategy, targets } if targets.is_empty() => {
                write!(f, "strategy {strategy} on every corrupted prover")
            }
            Fault::Strategy { strategy, targets } => {
                write!(f, "strategy {strategy} on {}", targets.join(", "))
            }
        }
    }
}

/// A node the orchestrator can fault.
#[derive(Clone)]
enum Faultable {
    Prover(ProverNode),
    Adversary(AdversaryNode),
}

impl Faultable {
    fn kill(&self) {
        match self {
            Faultable::Prover(p) => p.kill(),
            Faultable::Adversary(a) => a.kill(),
        }
    }

    fn set_paused(&self, paused: bool) {
        match self {
            Faultable::Prover(p) => p.set_paused(paused),
            Faultable::Adversary(a) => a.set_paused(paused),
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

/// A running in-process devnet: the servers, and the clients to reach them.
struct Devnet0 {
    handles: Vec<ServerHandle>,
    faultable: Vec<(String, ServerHandle, Faultable)>,
    infos: Vec<NodeInfo>,
    validators: Vec<(Address, HttpClient)>,
    provers: Vec<HttpClient>,
    adversary: Option<AdversaryNode>,
}

fn http(url: &str) -> Result<HttpClient, OrchestratorError> {
    HttpClientBuilder::default()
        .request_timeout(Duration::from_secs(600))
        .build(url)
        .map_err(|e| OrchestratorError::Node {
            node: url.to_string(),
            reason: e.to_string(),
        })
}

async fn serve(
    name: &str,
    methods: impl Into<jsonrpsee::Methods>,
) -> Result<(String, ServerHandle), OrchestratorError> {
    let server =
        Server::builder()
            .build("127.0.0.1:0")
            .await
            .map_err(|e| OrchestratorError::Node {
                node: name.into(),
                reason: format!("cannot bind 127.0.0.1: {e}"),
            })?;
    let addr = server.local_addr().map_err(|e| OrchestratorError::Node {
        node: name.into(),
        reason: e.to_string(),
    })?;
    Ok((addr.to_string(), server.start(methods)))
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

/// Start every node of `devnet` in this process (the `inproc` runtime).
async fn start_inproc(
    devnet: &Devnet,
    circuits: Arc<Circuits>,
) -> Result<Devnet0, OrchestratorError> {
    let np = &devnet.network_params;
    let seed = np.seed;
    let workload = workload(devnet);
    let specs = devnet.nodes();
    let genesis = genesis(devnet);
    let params = EngineParams::from_devnet(devnet);
    let mut d = Devnet0 {
        handles: vec![],
        faultable: vec![],
        infos: vec![],
        validators: vec![],
        provers: vec![],
        adversary: None,
    };
    let mut validator_nodes = Vec::new();
    let mut prover_nodes = Vec::new();
    let mut corrupted = Vec::new();
    let mut adversary_spec = None;
    for s in &specs {
        let key = NodeKey::derive(seed, s.role, s.index);
        let name = format!("{}-{}", s.role.as_str(), s.index);
        match s.role {
            Role::Validator => {
                let engine = Engine::new(params.clone(), &genesis)
                    .map_err(|e| OrchestratorError::Engine(e.to_string()))?;
                let node = ValidatorNode::new(
                    key.clone(),
                    engine,
                    circuits.clone(),
                    workload,
                    np.phase_seconds.clone(),
                );
                let (url, h) = serve(&name, node.clone().into_rpc()).await?;
                d.handles.push(h);
                d.infos.push(NodeInfo {
                    name,
                    role: s.role,
                    address: key.address(),
                    adversary_controlled: false,
                    endpoint: url.clone(),
                });
                d.validators
                    .push((key.address(), http(&format!("http://{url}"))?));
                validator_nodes.push((node, format!("http://{url}")));
            }
            Role::Prover if s.corrupted => {
                d.infos.push(NodeInfo {
                    name,
                    role: s.role,
                    address: key.address(),
                    adversary_controlled: true,
                    endpoint: "(adversary)".into(),
                });
                corrupted.push(ProverCore::new(
                    key,
                    circuits.clone(),
                    workload,
                    s.full_proof,
                ));
            }
            Role::Prover => {
                let node = ProverNode::new(ProverCore::new(
                    key.clone(),
                    circuits.clone(),
                    workload,
                    s.full_proof,
                ));
                let (url, h) = serve(&name, node.clone().into_rpc()).await?;
                d.faultable
                    .push((name.clone(), h.clone(), Faultable::Prover(node.clone())));
                d.handles.push(h);
                d.infos.push(NodeInfo {
                    name,
                    role: s.role,
                    address: key.address(),
                    adversary_controlled: false,
                    endpoint: url.clone(),
                });
                prover_nodes.push((node, format!("http://{url}")));
            }
            Role::Adversary => adversary_spec = Some((name, key, s.strategy.clone())),
        }
    }
    let vlist: Vec<(Address, String)> = validator_nodes
        .iter()
        .map(|(n, u)| (n.address(), u.clone()))
        .collect();
    let mut prover_urls: Vec<String> = prover_nodes.iter().map(|(_, u)| u.clone()).collect();
    if let Some((name, key, strategy)) = adversary_spec {
        let strategy: Strategy =
            strategy
                .as_deref()
                .unwrap_or("honest")
                .parse()
                .map_err(|e: String| OrchestratorError::Node {
                    node: name.clone(),
                    reason: e,
                })?;
        let steal_wait = Duration::from_secs_f64(np.phase_seconds.t2 * 0.8);
        let adv = AdversaryNode::new(
            key.clone(),
            std::mem::take(&mut corrupted),
            strategy,
            steal_wait,
        );
        let honest: Vec<(Address, String)> = prover_nodes
            .iter()
            .map(|(n, u)| (n.address(), u.clone()))
            .collect();
        adv.set_provers(&honest)
            .map_err(|e| OrchestratorError::Node {
                node: name.clone(),
                reason: e,
            })?;
        for (n, _) in &prover_nodes {
            n.set_adversary(adv.address());
        }
        adv.set_validators(&vlist)
            .map_err(|e| OrchestratorError::Node {
                node: name.clone(),
                reason: e,
            })?;
        let (url, h) = serve(&name, adv.clone().into_rpc()).await?;
        d.faultable
            .push((name.clone(), h.clone(), Faultable::Adversary(adv.clone())));
        d.handles.push(h);
        d.infos.push(NodeInfo {
            name,
            role: Role::Adversary,
            address: key.address(),
            adversary_controlled: false,
            endpoint: url.clone(),
        });
        prover_urls.push(format!("http://{url}"));
        d.adversary = Some(adv);
    }
    for (node, url) in &validator_nodes {
        node.set_topology(Topology {
            validators: vlist.clone(),
            provers: prover_urls.clone(),
        })
        .map_err(|e| OrchestratorError::Node {
            node: url.clone(),
            reason: e,
        })?;
    }
    for (node, url) in &prover_nodes {
        node.set_validators(&vlist)
            .map_err(|e| OrchestratorError::Node {
                node: url.clone(),
                reason: e,
            })?;
    }
    d.provers = prover_urls
        .iter()
        .map(|u| http(u))
        .collect::<Result<_, _>>()?;
    Ok(d)
}

fn apply_fault(d: &Devnet0, tx: &UnboundedSender<Msg>, slot: u64, fault: &Fault) {
    let log = |line: LogLine| {
        let _ = tx.send(Msg::Log(line));
    };
    let node = |name: &str| d.faultable.iter().find(|(n, _, _)| n == name);
    let address = |name: &str| d.infos.iter().find(|i| i.name == name).map(|i| i.address);
    match fault {
        Fault::Kill(name) | Fault::Pause(name) | Fault::Resume(name) => {
            let Some((_, handle, target)) = node(name) else {
                log(LogLine::warn(
                    None,
                    format!("{fault}: no such prover or adversary node"),
                ));
                return;
            };
            match fault {
                Fault::Kill(_) => {
                    target.kill();
                    let _ = handle.stop();
                }
                Fault::Pause(_) => target.set_paused(true),
                _ => target.set_paused(false),
            }
            warn!(target: "dpgnet::orchestrator", fault = %fault, "fault applied");
            let _ = tx.send(Msg::FaultApplied {
                slot,
                fault: fault.clone(),
            });
            if let Some(address) = address(name) {
                let _ = tx.send(match fault {
                    Fault::Resume(_) => Msg::NodeUp { address },
                    Fault::Kill(_) => Msg::NodeDown {
                        address,
                        reason: "killed".into(),
                    },
                    _ => Msg::NodeDown {
                        address,
                        reason: "paused".into(),
                    },
                });
            }
        }
        Fault::Strategy { strategy, targets } => {
            let Some(adv) = &d.adversary else {
                log(LogLine::warn(
                    None,
                    format!("{fault}: this devnet has no adversary agent"),
                ));
                return;
            };
            let parsed: Strategy = match strategy.parse() {
                Ok(s) => s,
                Err(e) => {
                    log(LogLine::warn(None, e));
                    return;
                }
            };
            let mut addrs = Vec::new();
            for t in targets {
                match address(t).filter(|a| adv.identities().contains(a)) {
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
            adv.set_strategy(
                parsed,
                if targets.is_empty() {
                    None
                } else {
                    Some(&addrs)
                },
            );
            warn!(target: "dpgnet::orchestrator", fault = %fault, "attack switched");
            let _ = tx.send(Msg::FaultApplied {
                slot,
                fault: fault.clone(),
            });
        }
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
        let Ok(page) = c.events(*cursor).await else {
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
    let _ = tx.send(Msg::Log(LogLine::info(
        None,
        "generating circuit keys (params cached on disk)…",
    )));
    let (n, t, sets) = (
        np.num_partial_proofs,
        np.txs_per_sub_block,
        np.num_sub_block_sets,
    );
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
    let d = start_inproc(&opts.devnet, circuits).await?;
    info!(target: "dpgnet::orchestrator", nodes = d.infos.len(), runtime = opts.runtime.as_str(), "devnet up");
    let _ = tx.send(Msg::NodesStarted(d.infos.clone()));
    let mut cursor = 0u64;
    pump(&d.validators, &mut cursor, &tx, None).await;
    let mut timings = Vec::new();
    let result = drive(
        &opts,
        &d,
        &tx,
        &mut control,
        &mut faults,
        &cancel,
        &mut cursor,
        &mut timings,
    )
    .await;
    // Flush the remaining events, then stop every server.
    pump(&d.validators, &mut cursor, &tx, None).await;
    for h in &d.handles {
        let _ = h.stop();
    }
    for h in d.handles {
        h.stopped().await;
    }
    result.map(|()| timings)
}

async fn drive(
    opts: &RunOptions,
    d: &Devnet0,
    tx: &UnboundedSender<Msg>,
    control: &mut watch::Receiver<Control>,
    faults: &mut tokio::sync::mpsc::UnboundedReceiver<PlanStep>,
    cancel: &CancellationToken,
    cursor: &mut u64,
    timings: &mut Vec<SlotTiming>,
) -> Result<(), OrchestratorError> {
    let first = &d.validators[0].1;
    let mut slot = 0u64;
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
            apply_fault(d, tx, slot, &step.fault);
        }
        plan.retain(|p| p.slot > slot);
        let proposer = first
            .proposer(slot)
            .await
            .map_err(|e| OrchestratorError::Node {
                node: "validator-0".into(),
                reason: e.to_string(),
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
                        apply_fault(d, tx, slot, &step.fault);
                    } else {
                        plan.push(step);
                    }
                }
                _ = tick.tick() => {
                    pump(&d.validators, cursor, tx, None).await;
                    if let Ok(st) = first.status().await {
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
        let mut slot_timings = Vec::new();
        for p in &d.provers {
            match p.timings(slot).await {
                Ok(t) => slot_timings.extend(t),
                Err(e) => {
                    warn!(target: "dpgnet::orchestrator", error = %e, "no timings from a prover")
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
