//! Headless (CI) mode: the TUI's app loop without a screen. One JSON line per settled
//! slot on stdout, a human summary on stderr, a JSON report file and an exit code.
//!
//! The same [`update`] as the TUI runs on a [`Model`] (STYLE.md: "Headless mode
//! reuses the same update; only the output differs"). [`Collector`] is the pure core:
//! it takes [`Msg`]s with a time stamp and hands back a [`SlotReport`] when a slot
//! settles; [`build_report`], [`exit_code`] and [`summary`] are pure functions of what
//! it collected. [`run_headless`] is the IO shell around them: it spawns the
//! orchestrator, feeds the collector, writes stdout, stderr and the report file.
//!
//! Money comes from the engine's [`Settlement`]s only: `paid` sums a slot's reward
//! entries per node, `penalized` and `slashed` the `applied` part of its penalty and
//! slash entries, and the totals are the engine's ledger totals.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io::{self, Write};
use std::path::{Path, PathBuf};
use std::time::Instant;

use serde::{Deserialize, Serialize};
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};
use tokio::sync::watch;
use tokio_util::sync::CancellationToken;

use crate::app::{Effect, LogLevel, Model, Msg, update};
use crate::orchestrator::{self, Control, OrchestratorError, RunOptions, SlotTiming};
use crate::protocol::{EntryKind, Event, Outcome, Phase, Role, Settlement, WarningKind};

/// Exit code: every expectation held.
pub const EXIT_OK: u8 = 0;
/// Exit code: an expectation failed (conservation violated, or with
/// `--expect-finalized` a slot that was not finalized).
pub const EXIT_EXPECTATION: u8 = 1;
/// Exit code: bad config or usage.
pub const EXIT_USAGE: u8 = 2;
/// Exit code: runtime or infrastructure error.
pub const EXIT_RUNTIME: u8 = 3;
/// Exit code: interrupted (Ctrl-C).
pub const EXIT_INTERRUPTED: u8 = 130;

/// The JSON report written to `--report FILE`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Devnet name (from the YAML).
    pub devnet: String,
    /// Runtime the nodes ran on, e.g. `inproc`.
    pub runtime: String,
    /// The run's seed (`--seed`, else the YAML's `network_params.seed`).
    pub seed: u64,
    /// Whether phases closed early once every expected message was in (`--fast`).
    pub fast: bool,
    /// Slots asked for with `--slots`, if bounded.
    #[serde(default)]
    pub slots_requested: Option<u64>,
    /// One entry per settled slot, in order.
    pub slots: Vec<SlotReport>,
    /// Ledger totals after the last settled slot and sums over the run.
    pub totals: Totals,
    /// True when every settled slot passed the engine's conservation check.
    pub conservation_ok: bool,
    /// Every node the runtime started, with its stake and balance at the end.
    pub nodes: Vec<NodeReport>,
    /// The process's exit code (0 ok, 1 expectation failed, 3 runtime error, 130
    /// interrupted).
    pub exit_code: u8,
    /// Why the exit code is not 0, one sentence per reason.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
    /// Faults and attack switches applied during the run, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub faults: Vec<FaultReport>,
    /// The devnet's mechanism and its parameters as the engine announced them,
    /// e.g. `designated m=3 q=0.42 payment=100` (absent before genesis).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mechanism: Option<String>,
}

/// One settled slot: a line of the NDJSON stream and an entry of [`Report::slots`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SlotReport {
    /// Slot.
    pub slot: u64,
    /// Block height proven (a block is carried over after a liveness fault).
    pub block: u64,
    /// How the slot ended, e.g. `finalized_t3` or `liveness_fault`.
    pub outcome: Outcome,
    /// Proofs carried by included messages.
    pub proofs_submitted: u32,
    /// Of which valid.
    pub proofs_valid: u32,
    /// Rewards per node (checksummed address → reward units).
    pub paid: BTreeMap<String, u64>,
    /// Protocol penalties actually taken from stake, per node.
    pub penalized: BTreeMap<String, u64>,
    /// Slashing actually taken from stake, per node.
    pub slashed: BTreeMap<String, u64>,
    /// Rewards minted in the slot (engine's figure).
    pub payments: u64,
    /// Loss of the slot: payments + P × [liveness fault] (engine's figure).
    pub loss: u64,
    /// The engine's conservation check after the slot.
    pub conservation_ok: bool,
    /// Detector findings of the slot.
    pub warnings: Vec<WarningReport>,
    /// Wall time of the slot, seconds: the orchestrator's measure in the report; in the
    /// NDJSON line, the time between the slot's start and settlement events as
    /// received.
    pub wall_s: f64,
    /// Critical path of the slot's proving, seconds (from the orchestrator; absent
    /// from the NDJSON lines and when the orchestrator gave no timing).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub proving_critical_path_s: Option<f64>,
}

/// A detector finding, as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct WarningReport {
    /// The node at fault (checksummed address).
    pub node: String,
    /// What was detected, e.g. `stolen_proof`.
    pub kind: WarningKind,
    /// The phase, e.g. `t2`.
    pub phase: Phase,
    /// Human detail.
    pub detail: String,
}

/// Run totals: the engine's ledger totals after the last settled slot (at genesis if
/// none settled) and sums over the settled slots.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Totals {
    /// Stake plus balances at genesis.
    pub genesis: u64,
    /// Rewards minted since genesis.
    pub minted: u64,
    /// Penalties and slashing burned.
    pub burned: u64,
    /// The protocol treasury.
    pub treasury: u64,
    /// Σ stake at the end.
    pub stake: u64,
    /// Σ balance at the end.
    pub balance: u64,
    /// Σ payments over the settled slots.
    pub payments: u64,
    /// Σ loss over the settled slots.
    pub loss: u64,
    /// Number of settled slots that were liveness faults.
    pub liveness_faults: u64,
    /// Number of settled slots.
    pub slots: u64,
}

/// A node the runtime started, with its ledger state at the end of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NodeReport {
    /// Human name, e.g. `prover-3`.
    pub name: String,
    /// Its role.
    pub role: Role,
    /// Its checksummed address.
    pub address: String,
    /// True for a prover whose key the adversary agent holds.
    pub adversary_controlled: bool,
    /// Stake at the end, reward units.
    pub stake: u64,
    /// Balance at the end, reward units.
    pub balance: u64,
    /// Why the runtime reports it down at the end (e.g. `killed (container
    /// exited)`); absent while up.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub down: Option<String>,
    /// Its container's last state on the Docker runtime (`running`, `exited`, …).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub container: Option<String>,
}

/// A fault or attack switch the orchestrator applied.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultReport {
    /// The slot it hit (applied before or during it).
    pub slot: u64,
    /// What was done, e.g. `kill prover-3` or `strategy steal on prover-7`.
    pub fault: String,
}

/// What the run was asked to do: the report's header and the expectations.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RunMeta {
    /// Devnet name.
    pub devnet: String,
    /// Runtime name.
    pub runtime: String,
    /// Seed.
    pub seed: u64,
    /// `--fast`.
    pub fast: bool,
    /// `--slots N`.
    pub slots_requested: Option<u64>,
    /// `--expect-finalized`: every requested slot must settle finalized.
    pub expect_finalized: bool,
}

impl RunMeta {
    /// The header of a run of `opts`.
    #[must_use]
    pub fn of(opts: &RunOptions, expect_finalized: bool) -> Self {
        Self {
            devnet: opts.devnet.name.clone(),
            runtime: opts.runtime.as_str().to_owned(),
            seed: opts.devnet.network_params.seed,
            fast: opts.fast,
            slots_requested: opts.slots,
            expect_finalized,
        }
    }
}

/// How the orchestrator's run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RunEnd {
    /// It returned normally.
    Completed,
    /// It was cancelled (Ctrl-C).
    Interrupted,
    /// It failed; the error's sentence.
    Failed(String),
}

/// The pure core of headless mode: the app [`Model`] plus what the report needs and
/// the model does not keep (each slot's warnings, settlements and timings).
#[derive(Debug, Clone)]
pub struct Collector {
    model: Model,
    /// Warnings of slots that have not settled yet.
    pending_warnings: BTreeMap<u64, Vec<WarningReport>>,
    /// When each unsettled slot started, seconds on the caller's clock.
    started_at: BTreeMap<u64, f64>,
    slots: Vec<SlotReport>,
    /// Event-log lines seen so far (kept + dropped), to hand new ones to tracing.
    log_seen: u64,
}

/// What one [`Collector::handle`] produced.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Handled {
    /// Effects returned by [`update`].
    pub effects: Vec<Effect>,
    /// The slot that settled with this message, if one did.
    pub settled: Option<SlotReport>,
}

impl Collector {
    /// A collector around `model` (usually fresh from [`Model::new`]).
    #[must_use]
    pub fn new(model: Model) -> Self {
        let log_seen = log_total(&model);
        Self {
            model,
            pending_warnings: BTreeMap::new(),
            started_at: BTreeMap::new(),
            slots: Vec::new(),
            log_seen,
        }
    }

    /// The app model, as [`update`] left it.
    #[must_use]
    pub fn model(&self) -> &Model {
        &self.model
    }

    /// The slots settled so far.
    #[must_use]
    pub fn slots(&self) -> &[SlotReport] {
        &self.slots
    }

    /// Apply `msg`, received at `now_s` seconds on the caller's clock.
    pub fn handle(&mut self, msg: Msg, now_s: f64) -> Handled {
        let mut settled = None;
        if let Msg::Engine(event) = &msg {
            match event {
                Event::SlotStarted { slot, .. } => {
                    self.started_at.entry(*slot).or_insert(now_s);
                }
                Event::Warning {
                    slot,
                    phase,
                    node,
                    kind,
                    detail,
                } => {
                    let warning = WarningReport {
                        node: node.to_string(),
                        kind: *kind,
                        phase: *phase,
                        detail: detail.clone(),
                    };
                    // A finding about a slot that already settled (a late message)
                    // joins that slot's report; its NDJSON line is already out.
                    match self.slots.iter_mut().rev().find(|s| s.slot == *slot) {
                        Some(done) => done.warnings.push(warning),
                        None => self
                            .pending_warnings
                            .entry(*slot)
                            .or_default()
                            .push(warning),
                    }
                }
                Event::Settled(s) => {
                    let warnings = self.pending_warnings.remove(&s.slot).unwrap_or_default();
                    let wall_s = self
                        .started_at
                        .remove(&s.slot)
                        .map_or(0.0, |t| round_ms(now_s - t));
                    let report = slot_report(s, warnings, wall_s);
                    self.slots.push(report.clone());
                    settled = Some(report);
                }
                _ => {}
            }
        }
        let effects = update(&mut self.model, msg);
        Handled { effects, settled }
    }

    /// Event-log lines [`update`] added since the last call, oldest first.
    pub fn take_new_log_lines(&mut self) -> Vec<(LogLevel, Option<u64>, String)> {
        let total = log_total(&self.model);
        let new = usize::try_from(total.saturating_sub(self.log_seen)).unwrap_or(usize::MAX);
        self.log_seen = total;
        let log = &self.model.log;
        log.iter()
            .skip(log.len().saturating_sub(new))
            .map(|l| (l.level, l.slot, l.text.clone()))
            .collect()
    }

    /// The report of the run so far; see [`build_report`].
    #[must_use]
    pub fn finish(&self, meta: &RunMeta, timings: &[SlotTiming], end: &RunEnd) -> Report {
        build_report(meta, &self.model, self.slots.clone(), timings, end)
    }
}

fn log_total(model: &Model) -> u64 {
    (model.log.len() as u64).saturating_add(model.log.dropped())
}

fn round_ms(seconds: f64) -> f64 {
    (seconds.max(0.0) * 1000.0).round() / 1000.0
}

/// The report of one settlement: per-node sums of its ledger entries (rewards by
/// `amount`, penalties and slashes by what was `applied`), with the given warnings
/// and wall time.
#[must_use]
pub fn slot_report(s: &Settlement, warnings: Vec<WarningReport>, wall_s: f64) -> SlotReport {
    let mut paid = BTreeMap::new();
    let mut penalized = BTreeMap::new();
    let mut slashed = BTreeMap::new();
    for e in &s.entries {
        let (map, units) = match e.kind {
            EntryKind::Reward => (&mut paid, e.amount),
            EntryKind::Penalty => (&mut penalized, e.applied),
            EntryKind::Slash => (&mut slashed, e.applied),
        };
        if units > 0 {
            let sum: &mut u64 = map.entry(e.node.to_string()).or_default();
            *sum = sum.saturating_add(units);
        }
    }
    SlotReport {
        slot: s.slot,
        block: s.block,
        outcome: s.outcome,
        proofs_submitted: s.proofs_submitted,
        proofs_valid: s.proofs_valid,
        paid,
        penalized,
        slashed,
        payments: s.payments,
        loss: s.loss,
        conservation_ok: s.conservation_ok,
        warnings,
        wall_s,
        proving_critical_path_s: None,
    }
}

/// The report of a run: `slots` with the orchestrator's `timings` merged in (they
/// replace the observed wall times), the totals and nodes from `model`, and the exit
/// code and failure sentences of [`exit_code`].
#[must_use]
pub fn build_report(
    meta: &RunMeta,
    model: &Model,
    mut slots: Vec<SlotReport>,
    timings: &[SlotTiming],
    end: &RunEnd,
) -> Report {
    for s in &mut slots {
        if let Some(t) = timings.iter().find(|t| t.slot == s.slot) {
            s.wall_s = round_ms(t.wall_s);
            s.proving_critical_path_s = Some(round_ms(t.proving_critical_path_s));
        }
    }
    let ledger = model.totals.unwrap_or_default();
    let totals = Totals {
        genesis: ledger.genesis,
        minted: ledger.minted,
        burned: ledger.burned,
        treasury: ledger.treasury,
        stake: ledger.stake,
        balance: ledger.balance,
        payments: slots.iter().fold(0, |n, s| n.saturating_add(s.payments)),
        loss: slots.iter().fold(0, |n, s| n.saturating_add(s.loss)),
        liveness_faults: slots.iter().filter(|s| !s.outcome.is_finalized()).count() as u64,
        slots: slots.len() as u64,
    };
    let nodes = model
        .nodes
        .iter()
        .map(|r| NodeReport {
            name: r.info.name.clone(),
            role: r.info.role,
            address: r.info.address.to_string(),
            adversary_controlled: r.info.adversary_controlled,
            stake: r.stake,
            balance: r.balance,
            down: (!r.up).then(|| r.down_reason.clone()),
            container: r.container.clone(),
        })
        .collect();
    let (code, failures) = exit_code(meta, &slots, end);
    Report {
        devnet: meta.devnet.clone(),
        runtime: meta.runtime.clone(),
        seed: meta.seed,
        fast: meta.fast,
        slots_requested: meta.slots_requested,
        conservation_ok: slots.iter().all(|s| s.conservation_ok),
        slots,
        totals,
        nodes,
        exit_code: code,
        failures,
        mechanism: model.mechanism.as_ref().map(|(kind, params)| {
            std::iter::once(kind.clone())
                .chain(params.iter().map(|(k, v)| format!("{k}={v}")))
                .collect::<Vec<_>>()
                .join(" ")
        }),
        faults: model
            .faults
            .iter()
            .map(|(slot, fault)| FaultReport {
                slot: *slot,
                fault: fault.clone(),
            })
            .collect(),
    }
}

/// The exit code of a run and one sentence per reason it is not 0.
///
/// In order of precedence: a conservation violation in any slot is always
/// [`EXIT_EXPECTATION`]; then a failed run is [`EXIT_RUNTIME`]; an interrupted one
/// [`EXIT_INTERRUPTED`]; then, with `expect_finalized`, a liveness fault or fewer
/// settled slots than requested is [`EXIT_EXPECTATION`]; otherwise [`EXIT_OK`].
#[must_use]
pub fn exit_code(meta: &RunMeta, slots: &[SlotReport], end: &RunEnd) -> (u8, Vec<String>) {
    let mut failures = Vec::new();
    let violated: Vec<u64> = slots
        .iter()
        .filter(|s| !s.conservation_ok)
        .map(|s| s.slot)
        .collect();
    if !violated.is_empty() {
        failures.push(format!(
            "ledger conservation was violated in {}",
            slot_list(&violated)
        ));
    }
    match end {
        RunEnd::Completed => {}
        RunEnd::Interrupted => failures.push(format!(
            "the run was interrupted after {} settled slot{}",
            slots.len(),
            plural(slots.len())
        )),
        RunEnd::Failed(e) => failures.push(format!("the devnet failed: {e}")),
    }
    let mut expectation_failed = false;
    if meta.expect_finalized {
        let faults: Vec<u64> = slots
            .iter()
            .filter(|s| !s.outcome.is_finalized())
            .map(|s| s.slot)
            .collect();
        if !faults.is_empty() {
            expectation_failed = true;
            failures.push(format!(
                "{} ended in a liveness fault (--expect-finalized)",
                slot_list(&faults)
            ));
        }
        if let (Some(n), RunEnd::Completed) = (meta.slots_requested, end)
            && (slots.len() as u64) < n
        {
            expectation_failed = true;
            failures.push(format!(
                "only {} of {n} requested slots settled (--expect-finalized)",
                slots.len()
            ));
        }
    }
    let code = if !violated.is_empty() {
        EXIT_EXPECTATION
    } else {
        match end {
            RunEnd::Failed(_) => EXIT_RUNTIME,
            RunEnd::Interrupted => EXIT_INTERRUPTED,
            RunEnd::Completed if expectation_failed => EXIT_EXPECTATION,
            RunEnd::Completed => EXIT_OK,
        }
    };
    (code, failures)
}

fn plural(n: impl TryInto<u8>) -> &'static str {
    if matches!(n.try_into(), Ok(1)) {
        ""
    } else {
        "s"
    }
}

/// `slot 3` or `slots 1, 2, 5`.
fn slot_list(slots: &[u64]) -> String {
    let list: Vec<String> = slots.iter().map(u64::to_string).collect();
    format!("slot{} {}", plural(slots.len()), list.join(", "))
}

/// The human summary printed on stderr at the end: one row per slot, the totals, the
/// conservation check, who was slashed, and the verdict.
#[must_use]
pub fn summary(report: &Report) -> String {
    let names: BTreeMap<&str, &str> = report
        .nodes
        .iter()
        .map(|n| (n.address.as_str(), n.name.as_str()))
        .collect();
    let name = |addr: &str| {
        names
            .get(addr)
            .map_or_else(|| addr.to_owned(), |n| (*n).to_owned())
    };
    let mut out = String::new();
    let requested = report
        .slots_requested
        .map_or_else(String::new, |n| format!(" of {n}"));
    let _ = writeln!(
        out,
        "dpgnet run: devnet {}, runtime {}, seed {}{}: {} slot{} settled{requested}",
        report.devnet,
        report.runtime,
        report.seed,
        if report.fast { ", fast" } else { "" },
        report.slots.len(),
        plural(report.slots.len()),
    );
    if !report.slots.is_empty() {
        let _ = writeln!(
            out,
            "{:>6} {:>6}  {:<15} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8}",
            "slot", "block", "outcome", "proofs", "paid", "penalized", "slashed", "loss", "wall_s"
        );
        for s in &report.slots {
            let sum =
                |m: &BTreeMap<String, u64>| m.values().fold(0u64, |a, v| a.saturating_add(*v));
            let _ = writeln!(
                out,
                "{:>6} {:>6}  {:<15} {:>9} {:>9} {:>9} {:>9} {:>9} {:>8.2}{}",
                s.slot,
                s.block,
                s.outcome.as_str(),
                format!("{}/{}", s.proofs_valid, s.proofs_submitted),
                sum(&s.paid),
                sum(&s.penalized),
                sum(&s.slashed),
                s.loss,
                s.wall_s,
                if s.conservation_ok {
                    ""
                } else {
                    "  CONSERVATION VIOLATED"
                },
            );
        }
    }
    let t = &report.totals;
    let _ = writeln!(
        out,
        "totals: payments {}, loss {}, liveness faults {} of {} slot{}",
        t.payments,
        t.loss,
        t.liveness_faults,
        t.slots,
        plural(t.slots)
    );
    let _ = writeln!(
        out,
        "ledger: genesis {}, minted {}, burned {}, treasury {}, stake {}, balance {}",
        t.genesis, t.minted, t.burned, t.treasury, t.stake, t.balance
    );
    let _ = writeln!(
        out,
        "conservation: {}",
        if report.conservation_ok {
            "ok in every slot"
        } else {
            "VIOLATED"
        }
    );
    let mut slashed: BTreeMap<&str, u64> = BTreeMap::new();
    for s in &report.slots {
        for (addr, units) in &s.slashed {
            let sum = slashed.entry(addr.as_str()).or_default();
            *sum = sum.saturating_add(*units);
        }
    }
    if !slashed.is_empty() {
        let list: Vec<String> = slashed
            .iter()
            .map(|(addr, units)| format!("{} {units}", name(addr)))
            .collect();
        let _ = writeln!(out, "slashed: {}", list.join(", "));
    }
    let warnings: usize = report.slots.iter().map(|s| s.warnings.len()).sum();
    if warnings > 0 {
        let _ = writeln!(out, "warnings: {warnings}");
    }
    let verdict = match report.exit_code {
        EXIT_OK => "ok",
        EXIT_INTERRUPTED => "interrupted",
        _ => "FAILED",
    };
    if report.failures.is_empty() {
        let _ = writeln!(out, "result: {verdict} (exit {})", report.exit_code);
    } else {
        let _ = writeln!(
            out,
            "result: {verdict} (exit {}): {}",
            report.exit_code,
            report.failures.join("; ")
        );
    }
    out
}

/// Errors of headless mode's own IO (the orchestrator's failures are part of the
/// [`HeadlessOutcome`]).
#[derive(Debug, thiserror::Error)]
pub enum HeadlessError {
    /// The NDJSON line could not be written to stdout.
    #[error("cannot write to stdout: {0}")]
    Stdout(io::Error),
    /// The report file could not be written.
    #[error("cannot write the report {}: {source}", path.display())]
    Report {
        /// The report path.
        path: PathBuf,
        /// The underlying error.
        source: io::Error,
    },
}

/// How a headless run ended.
#[derive(Debug)]
pub struct HeadlessOutcome {
    /// The report (also written to `--report`); its `exit_code` is the process's.
    pub report: Report,
    /// The orchestrator's error, if it failed.
    pub error: Option<OrchestratorError>,
}

/// Run a devnet headless: spawn the orchestrator, feed its messages through the app
/// [`update`] (via [`Collector`]), write one JSON line per settled slot on stdout,
/// then the [`summary`] on stderr and the [`Report`] to `report` when given.
///
/// Cancelling `cancel` stops the devnet; the run then counts as interrupted.
///
/// # Errors
/// [`HeadlessError`] when stdout or the report file cannot be written (the devnet is
/// stopped first).
pub async fn run_headless(
    opts: RunOptions,
    report: Option<PathBuf>,
    expect_finalized: bool,
    cancel: CancellationToken,
) -> Result<HeadlessOutcome, HeadlessError> {
    let meta = RunMeta::of(&opts, expect_finalized);
    let mut model = Model::new(&meta.devnet, &meta.runtime, meta.seed);
    model.slots_target = opts.slots;
    let mut collector = Collector::new(model);

    let (tx, rx) = unbounded_channel();
    let (control_tx, control_rx) = watch::channel(Control::default());
    tracing::info!(
        target: "dpgnet::headless",
        devnet = %meta.devnet,
        runtime = %meta.runtime,
        seed = meta.seed,
        slots = ?meta.slots_requested,
        fast = meta.fast,
        "starting devnet"
    );
    let orchestrator = tokio::spawn(orchestrator::run(opts, tx, control_rx, cancel.clone()));

    let streamed = {
        let mut stdout = io::stdout();
        consume(rx, &mut collector, &mut stdout, |effect| match effect {
            Effect::Quit => cancel.cancel(),
            Effect::SetPaused(paused) => {
                let _ = control_tx.send(Control { paused });
            }
            // Only the TUI's attack menu injects; headless runs follow their plan.
            Effect::Inject(_) => {}
        })
        .await
    };
    if streamed.is_err() {
        cancel.cancel();
    }
    let joined = orchestrator.await;
    let (timings, error, end) = match joined {
        Ok(Ok(timings)) => {
            let end = if cancel.is_cancelled() {
                RunEnd::Interrupted
            } else {
                RunEnd::Completed
            };
            (timings, None, end)
        }
        Ok(Err(e)) => {
            let end = RunEnd::Failed(e.to_string());
            (Vec::new(), Some(e), end)
        }
        Err(join) => (
            Vec::new(),
            None,
            RunEnd::Failed(format!("the orchestrator task died: {join}")),
        ),
    };
    streamed.map_err(HeadlessError::Stdout)?;

    let report_data = collector.finish(&meta, &timings, &end);
    eprint!("{}", summary(&report_data));
    if let Some(path) = report {
        write_report(&path, &report_data)?;
        tracing::info!(target: "dpgnet::headless", path = %path.display(), "report written");
    }
    Ok(HeadlessOutcome {
        report: report_data,
        error,
    })
}

/// Feed every message of `rx` to `collector` (until the sender is dropped), write one
/// JSON line to `out` per settled slot (flushed), pass effects to `on_effect` and new
/// event-log lines to tracing.
///
/// # Errors
/// Writing to `out` failed; the remaining messages are not consumed.
pub async fn consume(
    mut rx: UnboundedReceiver<Msg>,
    collector: &mut Collector,
    out: &mut impl Write,
    mut on_effect: impl FnMut(Effect),
) -> io::Result<()> {
    let clock = Instant::now();
    while let Some(msg) = rx.recv().await {
        let handled = collector.handle(msg, clock.elapsed().as_secs_f64());
        for effect in handled.effects {
            on_effect(effect);
        }
        for (level, slot, text) in collector.take_new_log_lines() {
            match level {
                LogLevel::Info => tracing::debug!(target: "dpgnet::headless", ?slot, "{text}"),
                LogLevel::Warn => tracing::warn!(target: "dpgnet::headless", ?slot, "{text}"),
                LogLevel::Error => tracing::error!(target: "dpgnet::headless", ?slot, "{text}"),
            }
        }
        if let Some(slot) = handled.settled {
            serde_json::to_writer(&mut *out, &slot).map_err(io::Error::other)?;
            out.write_all(b"\n")?;
            out.flush()?;
        }
    }
    Ok(())
}

/// Write `report` as pretty JSON to `path`.
///
/// # Errors
/// The file cannot be written.
pub fn write_report(path: &Path, report: &Report) -> Result<(), HeadlessError> {
    let mut text = serde_json::to_string_pretty(report).map_err(|e| HeadlessError::Report {
        path: path.to_owned(),
        source: io::Error::other(e),
    })?;
    text.push('\n');
    std::fs::write(path, text).map_err(|source| HeadlessError::Report {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use alloy_primitives::{Address, keccak256};
    use serde_json::{Value, json};

    use super::*;
    use crate::app::NodeInfo;
    use crate::protocol::{Account, LedgerEntry, LedgerTotals};

    fn addr(name: &str) -> Address {
        Address::from_slice(&keccak256(name.as_bytes())[12..])
    }

    fn nodes() -> Vec<NodeInfo> {
        [
            ("validator-1", Role::Validator, false),
            ("prover-1", Role::Prover, false),
            ("prover-2", Role::Prover, false),
            ("prover-3", Role::Prover, true),
            ("adversary", Role::Adversary, false),
        ]
        .into_iter()
        .enumerate()
        .map(|(i, (name, role, adv))| NodeInfo {
            name: name.to_owned(),
            role,
            address: addr(name),
            adversary_controlled: adv,
            endpoint: format!("127.0.0.1:{}", 40_000 + i),
        })
        .collect()
    }

    fn entry(slot: u64, node: &str, kind: EntryKind, amount: u64, applied: u64) -> LedgerEntry {
        LedgerEntry {
            slot,
            phase: Phase::T3,
            node: addr(node),
            kind,
            amount,
            rule: "RULE".to_owned(),
            applied,
        }
    }

    fn account(name: &str, role: Role, stake: u64, balance: u64) -> Account {
        Account {
            address: addr(name),
            role,
            stake,
            balance,
            rewards: 0,
            penalties: 0,
            slashed: 0,
        }
    }

    fn totals(minted: u64, burned: u64, stake: u64, balance: u64) -> LedgerTotals {
        LedgerTotals {
            genesis: 35_000,
            minted,
            burned,
            treasury: 0,
            stake,
            balance,
        }
    }

    fn genesis() -> Msg {
        Msg::Engine(Event::Genesis {
            accounts: vec![
                account("validator-1", Role::Validator, 32_000, 0),
                account("prover-1", Role::Prover, 1_000, 0),
                account("prover-2", Role::Prover, 1_000, 0),
                account("prover-3", Role::Prover, 1_000, 0),
            ],
            totals: totals(0, 0, 35_000, 0),
        })
    }

    fn started(slot: u64) -> Msg {
        Msg::Engine(Event::SlotStarted {
            slot,
            block: slot,
            proposer: addr("validator-1"),
            randao_mix: keccak256(b"mix"),
            sets: Vec::new(),
        })
    }

    fn warning(slot: u64, node: &str, kind: WarningKind) -> Msg {
        Msg::Engine(Event::Warning {
            slot,
            phase: Phase::T2,
            node: addr(node),
            kind,
            detail: "same bytes as prover-1".to_owned(),
        })
    }

    /// Slot 0 finalized in T3: prover-1 paid twice (10 + 50), prover-2 paid 10 and
    /// penalized 1, prover-3 slashed 100 of which 100 applied, the proposer paid 3.
    fn settled_0() -> Settlement {
        Settlement {
            slot: 0,
            block: 0,
            outcome: Outcome::FinalizedT3,
            proofs_submitted: 5,
            proofs_valid: 4,
            entries: vec![
                entry(0, "prover-1", EntryKind::Reward, 10, 10),
                entry(0, "prover-1", EntryKind::Reward, 50, 50),
                entry(0, "prover-2", EntryKind::Reward, 10, 10),
                entry(0, "validator-1", EntryKind::Reward, 3, 3),
                entry(0, "prover-2", EntryKind::Penalty, 1, 1),
                entry(0, "prover-3", EntryKind::Slash, 100, 100),
            ],
            payments: 73,
            loss: 73,
            totals: totals(73, 101, 34_899, 73),
            conservation_ok: true,
            accounts: vec![
                account("validator-1", Role::Validator, 32_000, 3),
                account("prover-1", Role::Prover, 1_000, 60),
                account("prover-2", Role::Prover, 999, 10),
                account("prover-3", Role::Prover, 900, 0),
            ],
        }
    }

    /// Slot 1: a liveness fault; prover-3's penalty of 4 is capped to 0 applied
    /// (kept out of the map), prover-2 penalized 4.
    fn settled_1(conservation_ok: bool) -> Settlement {
        Settlement {
            slot: 1,
            block: 1,
            outcome: Outcome::LivenessFault,
            proofs_submitted: 2,
            proofs_valid: 2,
            entries: vec![
                entry(1, "prover-2", EntryKind::Penalty, 4, 4),
                entry(1, "prover-3", EntryKind::Penalty, 4, 0),
            ],
            payments: 0,
            loss: 10_000,
            totals: totals(73, 105, 34_895, 73),
            conservation_ok,
            accounts: vec![
                account("validator-1", Role::Validator, 32_000, 3),
                account("prover-1", Role::Prover, 1_000, 60),
                account("prover-2", Role::Prover, 995, 10),
                account("prover-3", Role::Prover, 900, 0),
            ],
        }
    }

    fn meta(expect_finalized: bool) -> RunMeta {
        RunMeta {
            devnet: "t".to_owned(),
            runtime: "inproc".to_owned(),
            seed: 42,
            fast: true,
            slots_requested: Some(2),
            expect_finalized,
        }
    }

    /// Feed the two slots; returns the collector and the settled slot lines.
    fn collect(conservation_ok: bool) -> (Collector, Vec<SlotReport>) {
        let mut c = Collector::new(Model::new("t", "inproc", 42));
        let mut lines = Vec::new();
        let msgs = [
            (Msg::NodesStarted(nodes()), 0.0),
            (genesis(), 0.0),
            (started(0), 1.0),
            (warning(0, "prover-3", WarningKind::StolenProof), 2.0),
            (Msg::Engine(Event::Settled(settled_0())), 3.5),
            (started(1), 4.0),
            (
                Msg::Engine(Event::Settled(settled_1(conservation_ok))),
                9.25,
            ),
        ];
        for (msg, t) in msgs {
            if let Some(s) = c.handle(msg, t).settled {
                lines.push(s);
            }
        }
        (c, lines)
    }

    #[test]
    fn slot_line_sums_entries_per_node() {
        let (_, lines) = collect(true);
        assert_eq!(lines.len(), 2);
        let v = serde_json::to_value(&lines[0]).unwrap();
        let a = |n: &str| addr(n).to_string();
        assert_eq!(
            v,
            json!({
                "slot": 0,
                "block": 0,
                "outcome": "finalized_t3",
                "proofs_submitted": 5,
                "proofs_valid": 4,
                "paid": {a("prover-1"): 60, a("prover-2"): 10, a("validator-1"): 3},
                "penalized": {a("prover-2"): 1},
                "slashed": {a("prover-3"): 100},
                "payments": 73,
                "loss": 73,
                "conservation_ok": true,
                "warnings": [{
                    "node": a("prover-3"),
                    "kind": "stolen_proof",
                    "phase": "t2",
                    "detail": "same bytes as prover-1",
                }],
                "wall_s": 2.5,
            })
        );
        // Penalties count what was applied; a fully capped one is left out.
        let v = serde_json::to_value(&lines[1]).unwrap();
        assert_eq!(v["penalized"], json!({a("prover-2"): 4}));
        assert_eq!(v["outcome"], "liveness_fault");
        assert_eq!(v["wall_s"], 5.25);
        assert_eq!(v["warnings"], json!([]));
    }

    #[test]
    fn addresses_are_checksummed() {
        let (_, lines) = collect(true);
        let key = lines[0].slashed.keys().next().unwrap();
        assert_eq!(key, &addr("prover-3").to_checksum(None));
        assert!(key.starts_with("0x") && key.chars().any(|c| c.is_ascii_uppercase()));
    }

    #[test]
    fn report_totals_nodes_and_timings() {
        let (c, _) = collect(true);
        let timings = [
            SlotTiming {
                slot: 0,
                wall_s: 3.0,
                proving_critical_path_s: 1.25,
            },
            SlotTiming {
                slot: 1,
                wall_s: 22.0,
                proving_critical_path_s: 0.5,
            },
        ];
        let r = c.finish(&meta(false), &timings, &RunEnd::Completed);
        let v = serde_json::to_value(&r).unwrap();
        assert_eq!(v["devnet"], "t");
        assert_eq!(v["runtime"], "inproc");
        assert_eq!(v["seed"], 42);
        assert_eq!(v["fast"], true);
        assert_eq!(
            v["totals"],
            json!({
                "genesis": 35_000, "minted": 73, "burned": 105, "treasury": 0,
                "stake": 34_895, "balance": 73, "payments": 73, "loss": 10_073,
                "liveness_faults": 1, "slots": 2,
            })
        );
        assert_eq!(v["conservation_ok"], true);
        assert_eq!(v["exit_code"], 0);
        assert!(v.get("failures").is_none());
        assert_eq!(v["slots"][0]["wall_s"], 3.0);
        assert_eq!(v["slots"][0]["proving_critical_path_s"], 1.25);
        assert_eq!(v["slots"][1]["block"], 1);
        assert_eq!(v["nodes"].as_array().unwrap().len(), 5);
        assert_eq!(
            v["nodes"][2],
            json!({
                "name": "prover-2", "role": "prover", "address": addr("prover-2").to_string(),
                "adversary_controlled": false, "stake": 995, "balance": 10,
            })
        );
        assert_eq!(v["nodes"][3]["adversary_controlled"], true);
        // The report parses back.
        let back: Report = serde_json::from_value(v).unwrap();
        assert_eq!(back, r);
    }

    #[test]
    fn liveness_fault_fails_only_with_expect_finalized() {
        let (c, _) = collect(true);
        let r = c.finish(&meta(false), &[], &RunEnd::Completed);
        assert_eq!(r.exit_code, EXIT_OK);
        let r = c.finish(&meta(true), &[], &RunEnd::Completed);
        assert_eq!(r.exit_code, EXIT_EXPECTATION);
        assert_eq!(
            r.failures,
            ["slot 1 ended in a liveness fault (--expect-finalized)"]
        );
        // Without timings the observed wall time stays and no critical path is given.
        assert_eq!(r.slots[1].wall_s, 5.25);
        assert_eq!(r.slots[1].proving_critical_path_s, None);
    }

    #[test]
    fn conservation_violation_is_always_exit_1() {
        let (c, _) = collect(false);
        for end in [
            RunEnd::Completed,
            RunEnd::Interrupted,
            RunEnd::Failed("boom".to_owned()),
        ] {
            let r = c.finish(&meta(false), &[], &end);
            assert!(!r.conservation_ok);
            assert_eq!(r.exit_code, EXIT_EXPECTATION, "{end:?}");
            assert_eq!(r.failures[0], "ledger conservation was violated in slot 1");
        }
    }

    #[test]
    fn runtime_errors_and_interrupts() {
        let (c, _) = collect(true);
        let r = c.finish(
            &meta(true),
            &[],
            &RunEnd::Failed("node prover-1: gone".into()),
        );
        assert_eq!(r.exit_code, EXIT_RUNTIME);
        assert!(
            r.failures
                .contains(&"the devnet failed: node prover-1: gone".to_owned())
        );
        let r = c.finish(&meta(false), &[], &RunEnd::Interrupted);
        assert_eq!(r.exit_code, EXIT_INTERRUPTED);
        assert_eq!(
            r.failures,
            ["the run was interrupted after 2 settled slots"]
        );
    }

    #[test]
    fn missing_slots_fail_expect_finalized() {
        let mut c = Collector::new(Model::new("t", "inproc", 42));
        for msg in [
            Msg::NodesStarted(nodes()),
            genesis(),
            started(0),
            Msg::Engine(Event::Settled(settled_0())),
        ] {
            c.handle(msg, 0.0);
        }
        let r = c.finish(&meta(true), &[], &RunEnd::Completed);
        assert_eq!(r.exit_code, EXIT_EXPECTATION);
        assert_eq!(
            r.failures,
            ["only 1 of 2 requested slots settled (--expect-finalized)"]
        );
        assert_eq!(c.finish(&meta(false), &[], &RunEnd::Completed).exit_code, 0);
    }

    #[test]
    fn no_slot_reports_genesis_totals() {
        let mut c = Collector::new(Model::new("t", "inproc", 42));
        c.handle(Msg::NodesStarted(nodes()), 0.0);
        c.handle(genesis(), 0.0);
        let r = c.finish(&meta(false), &[], &RunEnd::Interrupted);
        assert_eq!(r.totals.genesis, 35_000);
        assert_eq!(r.totals.stake, 35_000);
        assert_eq!(r.totals.slots, 0);
        assert!(r.conservation_ok);
        assert_eq!(r.nodes[1].stake, 1_000);
    }

    #[test]
    fn late_warning_joins_its_settled_slot() {
        let (mut c, _) = collect(true);
        c.handle(warning(0, "prover-1", WarningKind::Late), 10.0);
        let r = c.finish(&meta(false), &[], &RunEnd::Completed);
        assert_eq!(r.slots[0].warnings.len(), 2);
        assert_eq!(r.slots[0].warnings[1].kind, WarningKind::Late);
    }

    #[test]
    fn summary_names_slots_totals_and_verdict() {
        let (c, _) = collect(false);
        let r = c.finish(&meta(true), &[], &RunEnd::Completed);
        let s = summary(&r);
        assert!(s.contains("devnet t, runtime inproc, seed 42, fast: 2 slots settled of 2"));
        assert!(s.contains("finalized_t3"));
        assert!(s.contains("4/5"));
        assert!(s.contains("liveness_fault"));
        assert!(s.contains("CONSERVATION VIOLATED"));
        assert!(s.contains("liveness faults 1 of 2 slots"));
        assert!(s.contains("slashed: prover-3 100"));
        assert!(s.contains("result: FAILED (exit 1): ledger conservation was violated"));
        let (c, _) = collect(true);
        let s = summary(&c.finish(&meta(false), &[], &RunEnd::Completed));
        assert!(s.contains("conservation: ok in every slot"));
        assert!(s.contains("result: ok (exit 0)"));
    }

    #[tokio::test]
    async fn consume_writes_one_flushed_line_per_settled_slot() {
        let (tx, rx) = unbounded_channel();
        for msg in [
            Msg::NodesStarted(nodes()),
            genesis(),
            started(0),
            Msg::Engine(Event::Settled(settled_0())),
            started(1),
            Msg::Engine(Event::Settled(settled_1(true))),
        ] {
            tx.send(msg).unwrap();
        }
        drop(tx);
        let mut c = Collector::new(Model::new("t", "inproc", 42));
        let mut out = Vec::new();
        consume(rx, &mut c, &mut out, |_| {}).await.unwrap();
        let text = String::from_utf8(out).unwrap();
        let lines: Vec<Value> = text
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 2);
        assert_eq!(lines[0]["slot"], 0);
        assert_eq!(lines[1]["outcome"], "liveness_fault");
        assert!(lines[0].get("proving_critical_path_s").is_none());
        // The same update as the TUI ran: the model holds the history.
        assert_eq!(c.model().history.len(), 2);
    }

    #[test]
    fn app_fixture_run_reports_its_slots() {
        let mut c = Collector::new(Model::new("default", "inproc", 42));
        for msg in crate::app::fixtures::msgs() {
            c.handle(msg, 0.0);
        }
        let r = c.finish(&meta(false), &[], &RunEnd::Completed);
        assert_eq!(r.slots.len(), c.model().history.len());
        for (s, h) in r.slots.iter().zip(&c.model().history) {
            assert_eq!(
                (s.slot, s.outcome, s.payments),
                (h.slot, h.outcome, h.payments)
            );
        }
        assert_eq!(r.totals.genesis, c.model().totals.unwrap().genesis);
    }
}
