//! Orchestration: start a devnet on a runtime, drive it slot by slot, and stream
//! what happens as [`crate::app::Msg`]s to the TUI or the headless reporter.
//!
//! STUB: the lead is implementing this file; the signatures below are final.

use std::path::PathBuf;

use tokio::sync::{mpsc::UnboundedSender, watch};
use tokio_util::sync::CancellationToken;

use crate::app::Msg;
use crate::config::Devnet;

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
}

/// Live controls from the TUI.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Control {
    /// Do not start new slots while paused.
    pub paused: bool,
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
    let _ = (opts, tx, control, cancel);
    Err(OrchestratorError::Engine("not implemented yet".into()))
}
