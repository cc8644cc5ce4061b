//! `dpgnet node`: run ONE node of a devnet, as a container's entry point.
//!
//! Everything a node needs reaches it through the environment (or flags): the
//! devnet YAML (`DPGNET_DEVNET_YAML`, or a mounted file named by
//! `DPGNET_DEVNET_FILE`), its role and index (`DPGNET_ROLE`, `DPGNET_INDEX`) and
//! the halo2 parameter cache (`DPGNET_PARAMS_DIR`, mounted read-write so the first
//! node to need a `k` writes it once). Keys are the devnet keys of
//! [`NodeKey::derive`] (seed, role, index), exactly as in-process, and peers are
//! reached by their container names on the devnet's bridge network
//! ([`super::docker::container_name`]), so a restarted or reconnected peer is found
//! again whatever its new address.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use alloy_primitives::Address;
use anyhow::{Context, anyhow};
use clap::Args;
use dpgnet_circuits::ParamsCache;
use jsonrpsee::server::Server;
use tokio_util::sync::CancellationToken;

use super::NODE_PORT;
use super::docker::container_name;
use crate::config::{self, Devnet};
use crate::node::rpc::{ProverApiServer, ValidatorApiServer};
use crate::node::validator::Topology;
use crate::node::{
    AdversaryNode, Circuits, NodeKey, ProverCore, ProverNode, Strategy, ValidatorNode,
};
use crate::orchestrator::{genesis, workload};
use crate::protocol::{Engine, EngineParams, Role};

/// `dpgnet node` (what runs inside each container; not for interactive use).
#[derive(Debug, Clone, Args)]
pub struct NodeArgs {
    /// The node's role.
    #[arg(long, env = "DPGNET_ROLE", value_parser = parse_role)]
    pub role: Role,
    /// The node's index within its role (0-based).
    #[arg(long, env = "DPGNET_INDEX", default_value_t = 0)]
    pub index: u32,
    /// Devnet YAML file (e.g. a mounted `/etc/dpgnet/devnet.yaml`).
    #[arg(long, env = "DPGNET_DEVNET_FILE", value_name = "FILE")]
    pub devnet: Option<PathBuf>,
    /// Devnet YAML text, when no file is given.
    #[arg(
        long,
        env = "DPGNET_DEVNET_YAML",
        value_name = "YAML",
        hide_env_values = true
    )]
    pub devnet_yaml: Option<String>,
    /// Address to serve JSON-RPC on.
    #[arg(long, env = "DPGNET_LISTEN", default_value = "0.0.0.0:8545")]
    pub listen: SocketAddr,
    /// Directory of the halo2 parameter cache.
    #[arg(long, env = "DPGNET_PARAMS_DIR", value_name = "DIR")]
    pub params_dir: Option<PathBuf>,
}

fn parse_role(s: &str) -> Result<Role, String> {
    match s {
        "validator" => Ok(Role::Validator),
        "prover" => Ok(Role::Prover),
        "adversary" => Ok(Role::Adversary),
        other => Err(format!(
            "unknown role `{other}` (validator, prover or adversary)"
        )),
    }
}

/// The devnet of `args`: the file if given, else the YAML text.
///
/// # Errors
/// Neither given, or the YAML is invalid (with its line and column).
pub fn devnet_of(args: &NodeArgs) -> anyhow::Result<Devnet> {
    match (&args.devnet, &args.devnet_yaml) {
        (Some(path), _) => Ok(config::load(path)?),
        (None, Some(text)) => Ok(config::parse(text, "$DPGNET_DEVNET_YAML")?),
        (None, None) => Err(anyhow!(
            "no devnet: set DPGNET_DEVNET_FILE or DPGNET_DEVNET_YAML (or --devnet FILE)"
        )),
    }
}

/// The RPC URL of node (`role`, `index`) of `devnet` on its bridge network.
#[must_use]
pub fn peer_url(devnet: &str, role: Role, index: u32) -> String {
    format!("http://{}:{NODE_PORT}", container_name(devnet, role, index))
}

/// Run the node until `interrupt` (SIGINT/SIGTERM). Prints one line when it
/// serves.
///
/// # Errors
/// Bad devnet, no such node in it, circuit setup or bind failures.
pub async fn run(args: NodeArgs, interrupt: CancellationToken) -> anyhow::Result<()> {
    let devnet = devnet_of(&args)?;
    let np = &devnet.network_params;
    let specs = devnet.nodes();
    let me = specs
        .iter()
        .find(|s| s.role == args.role && s.index == args.index)
        .ok_or_else(|| {
            anyhow!(
                "devnet {} has no {}-{}",
                devnet.name,
                args.role.as_str(),
                args.index
            )
        })?;
    if me.corrupted {
        return Err(anyhow!(
            "prover-{} is controlled by the adversary agent; it runs inside adversary-0",
            args.index
        ));
    }
    let name = format!("{}-{}", args.role.as_str(), args.index);
    let cache = args
        .params_dir
        .clone()
        .map_or_else(ParamsCache::default_location, ParamsCache::new);
    let (n, t, sets) = (
        np.num_partial_proofs,
        np.txs_per_sub_block,
        np.num_sub_block_sets,
    );
    let started = std::time::Instant::now();
    let circuits = tokio::task::spawn_blocking(move || Circuits::load(n, t, sets, &cache))
        .await?
        .map_err(|e| anyhow!("circuit setup failed: {e}"))?;
    eprintln!(
        "dpgnet node {name}: circuit keys ready in {:.1} s",
        started.elapsed().as_secs_f64()
    );
    let seed = np.seed;
    let wl = workload(&devnet);
    let key = NodeKey::derive(seed, me.role, me.index);
    let url = |role: Role, index: u32| peer_url(&devnet.name, role, index);
    let validators: Vec<(Address, String)> = specs
        .iter()
        .filter(|s| s.role == Role::Validator)
        .map(|s| {
            (
                NodeKey::derive(seed, s.role, s.index).address(),
                url(s.role, s.index),
            )
        })
        .collect();
    let honest: Vec<(Address, String)> = specs
        .iter()
        .filter(|s| s.role == Role::Prover && !s.corrupted)
        .map(|s| {
            (
                NodeKey::derive(seed, s.role, s.index).address(),
                url(s.role, s.index),
            )
        })
        .collect();
    let adversary = specs.iter().find(|s| s.role == Role::Adversary);
    let server = Server::builder()
        .build(args.listen)
        .await
        .with_context(|| format!("cannot listen on {}", args.listen))?;
    let methods: jsonrpsee::Methods = match me.role {
        Role::Validator => {
            let engine = Engine::new(EngineParams::from_devnet(&devnet), &genesis(&devnet))
                .map_err(|e| anyhow!("engine: {e}"))?;
            let node = ValidatorNode::new(key, engine, circuits, wl, np.phase_seconds);
            let mut provers: Vec<String> = honest.iter().map(|(_, u)| u.clone()).collect();
            if let Some(a) = adversary {
                provers.push(url(a.role, a.index));
            }
            node.set_topology(Topology {
                validators: validators.clone(),
                provers,
            })
            .map_err(|e| anyhow!(e))?;
            node.into_rpc().into()
        }
        Role::Prover => {
            let node = ProverNode::new(ProverCore::new(key, circuits, wl, me.full_proof));
            node.set_validators(&validators).map_err(|e| anyhow!(e))?;
            if let Some(a) = adversary {
                node.set_adversary(NodeKey::derive(seed, a.role, a.index).address());
            }
            node.into_rpc().into()
        }
        Role::Adversary => {
            let corrupted: Vec<ProverCore> = specs
                .iter()
                .filter(|s| s.role == Role::Prover && s.corrupted)
                .map(|s| {
                    ProverCore::new(
                        NodeKey::derive(seed, s.role, s.index),
                        circuits.clone(),
                        wl,
                        s.full_proof,
                    )
                })
                .collect();
            let strategy: Strategy = me
                .strategy
                .as_deref()
                .unwrap_or("honest")
                .parse()
                .map_err(|e: String| anyhow!(e))?;
            let steal_wait = Duration::from_secs_f64(np.phase_seconds.t2 * 0.8);
            let adv = AdversaryNode::new(key, corrupted, strategy, steal_wait);
            adv.set_provers(&honest).map_err(|e| anyhow!(e))?;
            adv.set_validators(&validators).map_err(|e| anyhow!(e))?;
            adv.into_rpc().into()
        }
    };
    let handle = server.start(methods);
    eprintln!(
        "dpgnet node {name} of devnet {} serving JSON-RPC on {}",
        devnet.name, args.listen
    );
    tokio::select! {
        () = interrupt.cancelled() => {}
        () = terminated() => {}
        () = handle.clone().stopped() => {}
    }
    let _ = handle.stop();
    eprintln!("dpgnet node {name}: stopped");
    Ok(())
}

/// Resolves on SIGTERM (`docker stop`); never on platforms without it.
async fn terminated() {
    #[cfg(unix)]
    {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
            return;
        }
    }
    std::future::pending::<()>().await;
}
