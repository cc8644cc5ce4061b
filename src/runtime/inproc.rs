//! The in-process runtime: every node is a tokio task serving JSON-RPC on
//! 127.0.0.1 (DESIGN.md "Runtimes", `inproc`). Faults act on the node objects
//! directly: a killed node stops answering and sending at once, even mid-proof.

use std::sync::Arc;
use std::time::Duration;

use alloy_primitives::Address;
use jsonrpsee::server::{Server, ServerHandle};
use tokio::sync::mpsc::UnboundedSender;

use super::{RuntimeKind, Started, http};
use crate::app::{Msg, NodeInfo};
use crate::config::Devnet;
use crate::node::rpc::{ProverApiServer, ValidatorApiServer};
use crate::node::validator::Topology;
use crate::node::{
    AdversaryNode, Circuits, NodeKey, ProverCore, ProverNode, Strategy, ValidatorNode,
};
use crate::orchestrator::{Fault, OrchestratorError, genesis, workload};
use crate::protocol::{Engine, EngineParams, Role};

/// A node the runtime can fault.
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

/// The in-process runtime (`--runtime inproc`).
pub struct InprocRuntime {
    circuits: Arc<Circuits>,
    handles: Vec<ServerHandle>,
    faultable: Vec<(String, ServerHandle, Faultable)>,
    infos: Vec<NodeInfo>,
    adversary: Option<AdversaryNode>,
}

impl InprocRuntime {
    /// A runtime whose nodes share `circuits` (keys are generated once).
    #[must_use]
    pub fn new(circuits: Arc<Circuits>) -> Self {
        Self {
            circuits,
            handles: vec![],
            faultable: vec![],
            infos: vec![],
            adversary: None,
        }
    }
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

fn name_of_adversary(infos: &[NodeInfo]) -> String {
    infos
        .iter()
        .rev()
        .find(|i| i.role == Role::Adversary)
        .map(|i| i.name.clone())
        .unwrap_or_default()
}

fn node_err(node: &str) -> impl Fn(String) -> OrchestratorError + '_ {
    move |reason| OrchestratorError::Node {
        node: node.to_string(),
        reason,
    }
}

impl super::Runtime for InprocRuntime {
    fn kind(&self) -> RuntimeKind {
        RuntimeKind::Inproc
    }

    async fn start(
        &mut self,
        devnet: &Devnet,
        _tx: &UnboundedSender<Msg>,
    ) -> Result<Started, OrchestratorError> {
        let np = &devnet.network_params;
        let seed = np.seed;
        let workload = workload(devnet);
        let specs = devnet.nodes();
        let genesis = genesis(devnet);
        let params = EngineParams::from_devnet(devnet);
        let circuits = self.circuits.clone();
        let mut validators = Vec::new();
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
                        np.phase_seconds,
                    );
                    let (url, h) = serve(&name, node.clone().into_rpc()).await?;
                    self.handles.push(h);
                    self.infos.push(NodeInfo {
                        name,
                        role: s.role,
                        address: key.address(),
                        adversary_controlled: false,
                        endpoint: url.clone(),
                    });
                    validators.push((key.address(), http(&format!("http://{url}"))?));
                    validator_nodes.push((node, format!("http://{url}")));
                }
                Role::Prover if s.corrupted => {
                    self.infos.push(NodeInfo {
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
                    self.faultable
                        .push((name.clone(), h.clone(), Faultable::Prover(node.clone())));
                    self.handles.push(h);
                    self.infos.push(NodeInfo {
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
        let mut prover_names: Vec<String> = specs
            .iter()
            .filter(|s| s.role == Role::Prover && !s.corrupted)
            .map(|s| format!("prover-{}", s.index))
            .collect();
        if let Some((name, key, strategy)) = adversary_spec {
            let strategy: Strategy = strategy
                .as_deref()
                .unwrap_or("honest")
                .parse()
                .map_err(node_err(&name))?;
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
            adv.set_provers(&honest).map_err(node_err(&name))?;
            for (n, _) in &prover_nodes {
                n.set_adversary(adv.address());
            }
            adv.set_validators(&vlist).map_err(node_err(&name))?;
            let (url, h) = serve(&name, adv.clone().into_rpc()).await?;
            self.faultable
                .push((name.clone(), h.clone(), Faultable::Adversary(adv.clone())));
            self.handles.push(h);
            self.infos.push(NodeInfo {
                name,
                role: Role::Adversary,
                address: key.address(),
                adversary_controlled: false,
                endpoint: url.clone(),
            });
            prover_urls.push(format!("http://{url}"));
            prover_names.push(name_of_adversary(&self.infos));
            self.adversary = Some(adv);
        }
        for (node, url) in &validator_nodes {
            node.set_topology(Topology {
                validators: vlist.clone(),
                provers: prover_urls.clone(),
            })
            .map_err(node_err(url))?;
        }
        for (node, url) in &prover_nodes {
            node.set_validators(&vlist).map_err(node_err(url))?;
        }
        Ok(Started {
            infos: self.infos.clone(),
            validators,
            provers: prover_urls
                .iter()
                .map(|u| http(u))
                .collect::<Result<_, _>>()?,
            prover_names,
        })
    }

    async fn apply(&mut self, fault: &Fault) -> Result<(Vec<Msg>, Option<String>), String> {
        let name = fault
            .node()
            .ok_or_else(|| format!("{fault}: not a node fault"))?;
        let Some((_, handle, target)) = self.faultable.iter().find(|(n, _, _)| n == name) else {
            return Err(format!("{fault}: no such prover or adversary node"));
        };
        let reason = match fault {
            Fault::Kill(_) => {
                target.kill();
                let _ = handle.stop();
                Some("killed")
            }
            Fault::Pause(_) => {
                target.set_paused(true);
                Some("paused")
            }
            Fault::Resume(_) => {
                target.set_paused(false);
                None
            }
            _ => {
                return Err(format!(
                    "{fault}: the inproc runtime cannot do this (it needs containers: \
                     --runtime docker)"
                ));
            }
        };
        let msgs = self
            .infos
            .iter()
            .find(|i| i.name == name)
            .map(|i| match reason {
                Some(r) => Msg::NodeDown {
                    address: i.address,
                    reason: r.into(),
                },
                None => Msg::NodeUp { address: i.address },
            })
            .into_iter()
            .collect();
        Ok((msgs, None))
    }

    async fn set_strategy(
        &mut self,
        strategy: &Strategy,
        targets: Option<Vec<Address>>,
    ) -> Result<(), String> {
        let adv = self
            .adversary
            .as_ref()
            .ok_or("this devnet has no adversary agent")?;
        adv.set_strategy(*strategy, targets.as_deref());
        Ok(())
    }

    async fn identities(&mut self) -> Vec<Address> {
        self.adversary
            .as_ref()
            .map(AdversaryNode::identities)
            .unwrap_or_default()
    }

    async fn watch(&mut self) -> Vec<Msg> {
        Vec::new()
    }

    async fn stop(self, _keep: bool) {
        for h in &self.handles {
            let _ = h.stop();
        }
        for h in self.handles {
            h.stopped().await;
        }
    }
}
