//! Runtimes: where the nodes of a devnet run (DESIGN.md "Runtimes").
//!
//! A [`Runtime`] starts every node of a devnet, applies faults to them and tears
//! them down. Two implementations run the *same node code*:
//! - [`inproc::InprocRuntime`]: tokio tasks in this process, each node a JSON-RPC
//!   server on 127.0.0.1;
//! - [`docker::DockerRuntime`]: one container per validator, honest prover and the
//!   adversary agent, from a locally built `FROM scratch` image ([`image`]), on a
//!   private bridge network, driven over bollard.
//!
//! The orchestrator ([`crate::orchestrator`]) drives slots through the validators'
//! RPC whichever runtime started them. `dpgnet node` ([`node_cmd`]) is what runs
//! inside a container; `dpgnet compose` ([`compose`]) writes an equivalent compose
//! file; `dpgnet down|status|logs` ([`docker`]) manage what carries our labels.

pub mod compose;
pub mod docker;
pub mod image;
pub mod inproc;
pub mod node_cmd;
pub mod startup_bench;

use std::future::Future;

use alloy_primitives::Address;
use jsonrpsee::http_client::{HttpClient, HttpClientBuilder};

use crate::app::{Msg, NodeInfo};
use crate::config::Devnet;
use crate::node::Strategy;
use crate::orchestrator::{Fault, OrchestratorError};

/// The port every node listens on inside its container (JSON-RPC over HTTP).
pub const NODE_PORT: u16 = 8545;

/// Which runtime runs the nodes (`--runtime`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum RuntimeKind {
    /// Docker when a daemon answers, in-process otherwise (the choice is printed).
    Auto,
    /// One local container per node, built and started over the Docker Engine API.
    Docker,
    /// Tokio tasks in this process, each node a JSON-RPC server on 127.0.0.1.
    Inproc,
    /// Nodes already running elsewhere (e.g. `docker compose up` of a file written
    /// by `dpgnet compose`), reached by their container names; nothing is started
    /// or torn down.
    Attached,
}

impl RuntimeKind {
    /// The name shown to users.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            RuntimeKind::Auto => "auto",
            RuntimeKind::Docker => "docker",
            RuntimeKind::Inproc => "inproc",
            RuntimeKind::Attached => "attached",
        }
    }
}

/// Resolve `auto`: Docker when a daemon answers within a couple of seconds, else
/// in-process. Returns the choice and a sentence saying why.
pub async fn resolve(kind: RuntimeKind) -> (RuntimeKind, String) {
    if kind != RuntimeKind::Auto {
        return (kind, format!("runtime {} (as asked)", kind.as_str()));
    }
    match docker::ping().await {
        Ok(version) => (
            RuntimeKind::Docker,
            format!("runtime docker (auto: Docker Engine {version} answered)"),
        ),
        Err(e) => (
            RuntimeKind::Inproc,
            format!("runtime inproc (auto: no Docker daemon answered: {e})"),
        ),
    }
}

/// The nodes a runtime started: what the orchestrator drives.
#[derive(Clone)]
pub struct Started {
    /// Every node (validators, provers, corrupted provers, the adversary agent).
    pub infos: Vec<NodeInfo>,
    /// Validators: address and RPC client, in index order.
    pub validators: Vec<(Address, HttpClient)>,
    /// Prover-API clients: honest provers and the adversary agent.
    pub provers: Vec<HttpClient>,
    /// The node name of each entry of `provers`, in the same order.
    pub prover_names: Vec<String>,
}

impl Started {
    /// Point the clients of node `name` at `url` (a restarted or reconnected
    /// container can come back on a new address). Unknown names are ignored.
    pub fn moved(&mut self, name: &str, url: &str) {
        let Ok(client) = http(url) else { return };
        let Some(info) = self.infos.iter_mut().find(|i| i.name == name) else {
            return;
        };
        info.endpoint = url.trim_start_matches("http://").to_string();
        if let Some(v) = self.validators.iter_mut().find(|(a, _)| *a == info.address) {
            v.1 = client;
        } else if let Some(i) = self.prover_names.iter().position(|n| n == name) {
            self.provers[i] = client;
        }
    }
}

/// A JSON-RPC client to `url` with a generous request timeout (proving takes
/// seconds; a slot driver call lasts a whole slot).
///
/// # Errors
/// [`OrchestratorError::Node`] when the URL is malformed.
pub fn http(url: &str) -> Result<HttpClient, OrchestratorError> {
    HttpClientBuilder::default()
        .request_timeout(std::time::Duration::from_secs(600))
        .build(url)
        .map_err(|e| OrchestratorError::Node {
            node: url.to_string(),
            reason: e.to_string(),
        })
}

/// Where nodes run. Implementations start the same node code, apply faults to it
/// and tear it down; the orchestrator is generic over them.
pub trait Runtime: Send {
    /// Which runtime this is (for the header and the report).
    fn kind(&self) -> RuntimeKind;

    /// Start every node of `devnet` and return once each answers its RPC. Progress
    /// (image build, containers started, nodes ready) goes to `tx` as log lines.
    ///
    /// # Errors
    /// [`OrchestratorError`] when a node cannot be started or never answers.
    fn start(
        &mut self,
        devnet: &Devnet,
        tx: &tokio::sync::mpsc::UnboundedSender<Msg>,
    ) -> impl Future<Output = Result<Started, OrchestratorError>> + Send;

    /// Apply a node fault (`Kill`, `Pause`, `Resume`, `Restart`, `Disconnect`,
    /// `Reconnect`) to the named node. Returns the messages the views should see
    /// (node up/down) and, when the node's RPC endpoint changed (a restarted or
    /// reconnected container may get a new address), its new URL.
    ///
    /// # Errors
    /// A sentence when the node does not exist or the fault is not supported here.
    fn apply(
        &mut self,
        fault: &Fault,
    ) -> impl Future<Output = Result<(Vec<Msg>, Option<String>), String>> + Send;

    /// Switch the adversary agent's strategy on `targets` (all identities when
    /// `None`).
    ///
    /// # Errors
    /// A sentence when there is no adversary or it cannot be reached.
    fn set_strategy(
        &mut self,
        strategy: &Strategy,
        targets: Option<Vec<Address>>,
    ) -> impl Future<Output = Result<(), String>> + Send;

    /// The adversary agent's identities (corrupted provers); empty without one.
    fn identities(&mut self) -> impl Future<Output = Vec<Address>> + Send;

    /// Poll the runtime's own view of the nodes (container states, the daemon
    /// connection) and return what changed since the last poll.
    fn watch(&mut self) -> impl Future<Output = Vec<Msg>> + Send;

    /// Stop every node; with `keep`, leave them running (Docker: `--keep`).
    fn stop(self, keep: bool) -> impl Future<Output = ()> + Send;
}
