//! The Docker runtime (DESIGN.md "Runtimes", `docker`), over the Docker Engine
//! API with bollard.
//!
//! Topology of a devnet named `D`:
//! - one private bridge network `dpgnet-D`;
//! - one container per validator, honest prover and the adversary agent, named
//!   `dpgnet-D-<role>-<n>` and labelled with the devnet, role, index and creation
//!   time ([`LABEL_DEVNET`], …); corrupted provers live inside the adversary agent;
//! - no host port is published, except validator-0's RPC on 127.0.0.1 when asked
//!   (`--publish-rpc`); the orchestrator reaches nodes at their bridge addresses;
//! - each container gets its role, index and the devnet YAML through env and the
//!   halo2 parameter cache as a bind mount (`/params`).
//!
//! `dpgnet down|status|logs` act on whatever carries [`LABEL_MANAGED`], so they
//! also clean up after a crashed run.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use alloy_primitives::Address;
use bollard::Docker;
use bollard::models::{
    ContainerCreateBody, EndpointSettings, HostConfig, NetworkConnectRequest, NetworkCreateRequest,
    NetworkDisconnectRequest, NetworkingConfig, PortBinding,
};
use bollard::query_parameters::{
    BuildImageOptionsBuilder, CreateContainerOptionsBuilder, KillContainerOptionsBuilder,
    ListContainersOptionsBuilder, ListNetworksOptionsBuilder, LogsOptionsBuilder,
    RemoveContainerOptionsBuilder, RestartContainerOptionsBuilder,
};
use futures::StreamExt;
use tokio::sync::mpsc::UnboundedSender;

use super::image::{self, ImageError};
use super::node_cmd::peer_url;
use super::{NODE_PORT, RuntimeKind, Started, http};
use crate::app::{LogLine, Msg, NodeInfo};
use crate::config::Devnet;
use crate::node::NodeKey;
use crate::node::Strategy;
use crate::node::rpc::{ProverApiClient, ValidatorApiClient};
use crate::orchestrator::{Fault, OrchestratorError};
use crate::protocol::Role;

/// Label on everything dpgnet creates (value `true`).
pub const LABEL_MANAGED: &str = "dpgnet.managed";
/// Label: the devnet's name.
pub const LABEL_DEVNET: &str = "dpgnet.devnet";
/// Label: the node's role (`validator`, `prover`, `adversary`).
pub const LABEL_ROLE: &str = "dpgnet.role";
/// Label: the node's index within its role.
pub const LABEL_INDEX: &str = "dpgnet.index";
/// Label: creation time, seconds since the Unix epoch.
pub const LABEL_CREATED: &str = "dpgnet.created";

/// How long nodes get to answer their RPC after their containers start.
const READY_TIMEOUT: Duration = Duration::from_secs(240);
/// Cap of the reconnect backoff when the daemon goes away.
const MAX_BACKOFF: Duration = Duration::from_secs(8);

/// Docker runtime failures.
#[derive(Debug, thiserror::Error)]
pub enum DockerError {
    /// No daemon answered (exit code 3 with a suggestion).
    #[error(
        "cannot reach the Docker daemon ({0}); start Docker, or run the nodes in this \
         process with --runtime inproc"
    )]
    Unreachable(String),
    /// The daemon refused a request.
    #[error("docker: {0}")]
    Api(String),
    /// The node image could not be made.
    #[error("node image: {0}")]
    Image(#[from] ImageError),
}

fn api(context: &str) -> impl Fn(bollard::errors::Error) -> DockerError + '_ {
    move |e| DockerError::Api(format!("{context}: {e}"))
}

/// Connect to the local daemon (`DOCKER_HOST` or the default socket) and agree
/// on an API version.
///
/// # Errors
/// [`DockerError::Unreachable`] when no daemon answers within 3 s.
pub async fn connect() -> Result<Docker, DockerError> {
    let docker = Docker::connect_with_local_defaults()
        .map_err(|e| DockerError::Unreachable(e.to_string()))?;
    let fut = docker.negotiate_version();
    match tokio::time::timeout(Duration::from_secs(3), fut).await {
        Ok(Ok(d)) => Ok(d),
        Ok(Err(e)) => Err(DockerError::Unreachable(e.to_string())),
        Err(_) => Err(DockerError::Unreachable("no answer within 3 s".into())),
    }
}

/// The daemon's version, if one answers.
///
/// # Errors
/// [`DockerError::Unreachable`].
pub async fn ping() -> Result<String, DockerError> {
    let d = connect().await?;
    let v = d
        .version()
        .await
        .map_err(|e| DockerError::Unreachable(e.to_string()))?;
    Ok(v.version.unwrap_or_else(|| "?".into()))
}

/// `name` reduced to what container and network names allow: lowercase ASCII
/// letters, digits and `-`.
#[must_use]
pub fn sanitize(name: &str) -> String {
    let s: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() {
                c.to_ascii_lowercase()
            } else {
                '-'
            }
        })
        .collect();
    let s = s.trim_matches('-').to_string();
    if s.is_empty() { "devnet".into() } else { s }
}

/// The container name of node (`role`, `index`) of devnet `devnet`:
/// `dpgnet-<devnet>-<role>-<n>`.
#[must_use]
pub fn container_name(devnet: &str, role: Role, index: u32) -> String {
    format!("dpgnet-{}-{}-{index}", sanitize(devnet), role.as_str())
}

/// The bridge network of devnet `devnet`: `dpgnet-<devnet>`.
#[must_use]
pub fn network_name(devnet: &str) -> String {
    format!("dpgnet-{}", sanitize(devnet))
}

fn label_filter(devnet: Option<&str>) -> HashMap<String, Vec<String>> {
    let mut labels = vec![format!("{LABEL_MANAGED}=true")];
    if let Some(d) = devnet {
        labels.push(format!("{LABEL_DEVNET}={}", sanitize(d)));
    }
    HashMap::from([("label".to_string(), labels)])
}

/// One container dpgnet manages, as `status` lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ContainerRow {
    /// Container name.
    pub name: String,
    /// Devnet label.
    pub devnet: String,
    /// Role label.
    pub role: String,
    /// Index label.
    pub index: String,
    /// Docker's state (`running`, `paused`, `exited`, …).
    pub state: String,
    /// Docker's status line (e.g. `Up 3 minutes`).
    pub status: String,
}

/// Every container carrying our labels (of one devnet when given), sorted by
/// name.
///
/// # Errors
/// [`DockerError`].
pub async fn containers(
    docker: &Docker,
    devnet: Option<&str>,
) -> Result<Vec<ContainerRow>, DockerError> {
    let opts = ListContainersOptionsBuilder::default()
        .all(true)
        .filters(&label_filter(devnet))
        .build();
    let list = docker
        .list_containers(Some(opts))
        .await
        .map_err(api("list containers"))?;
    let mut rows: Vec<ContainerRow> = list
        .into_iter()
        .map(|c| {
            let labels = c.labels.unwrap_or_default();
            let get = |k: &str| labels.get(k).cloned().unwrap_or_default();
            ContainerRow {
                name: c
                    .names
                    .and_then(|n| n.first().cloned())
                    .unwrap_or_default()
                    .trim_start_matches('/')
                    .to_string(),
                devnet: get(LABEL_DEVNET),
                role: get(LABEL_ROLE),
                index: get(LABEL_INDEX),
                state: c.state.map(|s| s.to_string()).unwrap_or_default(),
                status: c.status.unwrap_or_default(),
            }
        })
        .collect();
    rows.sort_by(|a, b| a.name.cmp(&b.name));
    Ok(rows)
}

/// Networks carrying our labels (of one devnet when given).
///
/// # Errors
/// [`DockerError`].
pub async fn networks(docker: &Docker, devnet: Option<&str>) -> Result<Vec<String>, DockerError> {
    let opts = ListNetworksOptionsBuilder::default()
        .filters(&label_filter(devnet))
        .build();
    let list = docker
        .list_networks(Some(opts))
        .await
        .map_err(api("list networks"))?;
    let mut names: Vec<String> = list.into_iter().filter_map(|n| n.name).collect();
    names.sort();
    Ok(names)
}

/// What `down` removed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Removed {
    /// Container names.
    pub containers: Vec<String>,
    /// Network names.
    pub networks: Vec<String>,
}

/// Remove every container and network carrying our labels (of one devnet when
/// given), running or not: `dpgnet down`, and the cleanup of a crashed run.
///
/// # Errors
/// [`DockerError`] when listing fails; a container that vanished meanwhile is
/// not an error.
pub async fn down(docker: &Docker, devnet: Option<&str>) -> Result<Removed, DockerError> {
    let mut removed = Removed::default();
    let rows = containers(docker, devnet).await?;
    let opts = RemoveContainerOptionsBuilder::default().force(true).build();
    let results = futures::future::join_all(
        rows.iter()
            .map(|r| docker.remove_container(&r.name, Some(opts.clone()))),
    )
    .await;
    for (r, res) in rows.iter().zip(results) {
        match res {
            Ok(()) => removed.containers.push(r.name.clone()),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            Err(e) => return Err(DockerError::Api(format!("remove {}: {e}", r.name))),
        }
    }
    for n in networks(docker, devnet).await? {
        match docker.remove_network(&n).await {
            Ok(()) => removed.networks.push(n),
            Err(bollard::errors::Error::DockerResponseServerError {
                status_code: 404, ..
            }) => {}
            Err(e) => return Err(DockerError::Api(format!("remove network {n}: {e}"))),
        }
    }
    Ok(removed)
}

/// Build the node image for this binary unless it exists; returns its tag.
/// Progress lines go to `progress`.
///
/// # Errors
/// [`DockerError::Image`] or [`DockerError::Api`] when the build fails.
pub async fn ensure_image(
    docker: &Docker,
    progress: &mut (dyn FnMut(String) + Send),
) -> Result<String, DockerError> {
    let binary = image::node_binary()?;
    let ctx = tokio::task::spawn_blocking(move || image::context_for(&binary))
        .await
        .map_err(|e| DockerError::Api(e.to_string()))??;
    if docker.inspect_image(&ctx.tag).await.is_ok() {
        progress(format!("image {} is up to date", ctx.tag));
        return Ok(ctx.tag);
    }
    progress(format!(
        "building image {} (FROM scratch: the dpgnet binary and {} shared libraries, nothing pulled)…",
        ctx.tag,
        ctx.libraries.len()
    ));
    let started = Instant::now();
    let ctx2 = ctx.clone();
    let tar = tokio::task::spawn_blocking(move || ctx2.tar())
        .await
        .map_err(|e| DockerError::Api(e.to_string()))??;
    let opts = BuildImageOptionsBuilder::default()
        .dockerfile("Dockerfile")
        .t(&ctx.tag)
        .rm(true)
        .forcerm(true)
        .labels(&HashMap::from([(LABEL_MANAGED, "true")]))
        .build();
    let mut stream = docker.build_image(opts, None, Some(bollard::body_full(tar.into())));
    while let Some(item) = stream.next().await {
        let info = item.map_err(api("image build"))?;
        if let Some(e) = info.error_detail.and_then(|d| d.message) {
            return Err(DockerError::Api(format!("image build: {e}")));
        }
        if let Some(line) = info.stream.map(|s| s.trim().to_string())
            && !line.is_empty()
        {
            progress(format!("  {line}"));
        }
    }
    progress(format!(
        "image {} built in {:.1} s",
        ctx.tag,
        started.elapsed().as_secs_f64()
    ));
    Ok(ctx.tag)
}

/// A node container of a running devnet.
#[derive(Debug, Clone)]
struct NodeContainer {
    /// Node name (`prover-3`).
    name: String,
    /// Container name (`dpgnet-default-prover-3`).
    container: String,
    address: Address,
}

/// The Docker runtime (`--runtime docker`).
pub struct DockerRuntime {
    docker: Docker,
    params_dir: PathBuf,
    publish_rpc: bool,
    devnet: String,
    network: String,
    nodes: Vec<NodeContainer>,
    states: HashMap<String, String>,
    disconnected: HashSet<String>,
    connected: bool,
    next_probe: Instant,
    backoff: Duration,
}

impl DockerRuntime {
    /// Connect to the daemon. `params_dir` is the host's halo2 parameter cache,
    /// mounted into every container.
    ///
    /// # Errors
    /// [`DockerError::Unreachable`].
    pub async fn connect(params_dir: PathBuf, publish_rpc: bool) -> Result<Self, DockerError> {
        Ok(Self {
            docker: connect().await?,
            params_dir,
            publish_rpc,
            devnet: String::new(),
            network: String::new(),
            nodes: Vec::new(),
            states: HashMap::new(),
            disconnected: HashSet::new(),
            connected: true,
            next_probe: Instant::now(),
            backoff: Duration::from_millis(500),
        })
    }

    fn node(&self, name: &str) -> Result<&NodeContainer, String> {
        self.nodes.iter().find(|n| n.name == name).ok_or_else(|| {
            format!(
                "no node {name} runs in a container (corrupted provers live in the adversary agent)"
            )
        })
    }

    async fn ip_of(&self, container: &str) -> Result<String, DockerError> {
        let info = self
            .docker
            .inspect_container(container, None)
            .await
            .map_err(api("inspect container"))?;
        info.network_settings
            .and_then(|n| n.networks)
            .and_then(|mut n| n.remove(&self.network))
            .and_then(|e| e.ip_address)
            .filter(|ip| !ip.is_empty())
            .ok_or_else(|| {
                DockerError::Api(format!("{container} has no address on {}", self.network))
            })
    }
}

fn log(tx: &UnboundedSender<Msg>, text: String) {
    tracing::info!(target: "dpgnet::docker", "{text}");
    let _ = tx.send(Msg::Log(LogLine::info(None, text)));
}

impl super::Runtime for DockerRuntime {
    fn kind(&self) -> RuntimeKind {
        RuntimeKind::Docker
    }

    async fn start(
        &mut self,
        devnet: &Devnet,
        tx: &UnboundedSender<Msg>,
    ) -> Result<Started, OrchestratorError> {
        let d = &self.docker;
        self.devnet = sanitize(&devnet.name);
        self.network = network_name(&devnet.name);
        let leftovers = down(d, Some(&self.devnet)).await?;
        if !leftovers.containers.is_empty() || !leftovers.networks.is_empty() {
            log(
                tx,
                format!(
                    "removed leftovers of an earlier run: {} container(s), {} network(s)",
                    leftovers.containers.len(),
                    leftovers.networks.len()
                ),
            );
        }
        let tag = ensure_image(d, &mut |line| log(tx, line)).await?;
        let created = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |t| t.as_secs())
            .to_string();
        let base_labels = |role: &str, index: &str| {
            HashMap::from([
                (LABEL_MANAGED.to_string(), "true".to_string()),
                (LABEL_DEVNET.to_string(), self.devnet.clone()),
                (LABEL_ROLE.to_string(), role.to_string()),
                (LABEL_INDEX.to_string(), index.to_string()),
                (LABEL_CREATED.to_string(), created.clone()),
            ])
        };
        d.create_network(NetworkCreateRequest {
            name: self.network.clone(),
            driver: Some("bridge".into()),
            labels: Some(base_labels("network", "")),
            ..Default::default()
        })
        .await
        .map_err(api("create network"))?;
        std::fs::create_dir_all(&self.params_dir).map_err(|e| {
            DockerError::Api(format!("cannot create {}: {e}", self.params_dir.display()))
        })?;
        let params = std::fs::canonicalize(&self.params_dir).unwrap_or(self.params_dir.clone());
        let yaml = serde_yaml::to_string(devnet)
            .map_err(|e| DockerError::Api(format!("cannot serialize the devnet: {e}")))?;
        let seed = devnet.network_params.seed;
        let mut infos = Vec::new();
        let mut bodies = Vec::new();
        let specs = devnet.nodes();
        for s in &specs {
            let key = NodeKey::derive(seed, s.role, s.index);
            let name = format!("{}-{}", s.role.as_str(), s.index);
            if s.corrupted {
                infos.push(NodeInfo {
                    name,
                    role: s.role,
                    address: key.address(),
                    adversary_controlled: true,
                    endpoint: "(adversary)".into(),
                });
                continue;
            }
            let container = container_name(&devnet.name, s.role, s.index);
            let publish = self.publish_rpc && s.role == Role::Validator && s.index == 0;
            let port = format!("{NODE_PORT}/tcp");
            let body = ContainerCreateBody {
                image: Some(tag.clone()),
                cmd: Some(vec!["node".into()]),
                env: Some(vec![
                    format!("DPGNET_ROLE={}", s.role.as_str()),
                    format!("DPGNET_INDEX={}", s.index),
                    format!("DPGNET_DEVNET_YAML={yaml}"),
                    "DPGNET_PARAMS_DIR=/params".into(),
                    format!(
                        "RUST_LOG={}",
                        std::env::var("DPGNET_NODE_LOG").unwrap_or_else(|_| "dpgnet=info".into())
                    ),
                ]),
                labels: Some(base_labels(s.role.as_str(), &s.index.to_string())),
                exposed_ports: Some(vec![port.clone()]),
                host_config: Some(HostConfig {
                    binds: Some(vec![format!("{}:/params", params.display())]),
                    network_mode: Some(self.network.clone()),
                    port_bindings: publish.then(|| {
                        HashMap::from([(
                            port.clone(),
                            Some(vec![PortBinding {
                                host_ip: Some("127.0.0.1".into()),
                                host_port: Some(String::new()),
                            }]),
                        )])
                    }),
                    ..Default::default()
                }),
                networking_config: Some(NetworkingConfig {
                    endpoints_config: Some(HashMap::from([(
                        self.network.clone(),
                        EndpointSettings {
                            aliases: Some(vec![name.clone()]),
                            ..Default::default()
                        },
                    )])),
                }),
                ..Default::default()
            };
            bodies.push((container.clone(), body));
            self.nodes.push(NodeContainer {
                name: name.clone(),
                container,
                address: key.address(),
            });
            infos.push(NodeInfo {
                name,
                role: s.role,
                address: key.address(),
                adversary_controlled: false,
                endpoint: String::new(),
            });
        }
        // Create every container at once, then start them all at once.
        let created =
            futures::future::join_all(bodies.into_iter().map(|(name, body)| async move {
                d.create_container(
                    Some(CreateContainerOptionsBuilder::default().name(&name).build()),
                    body,
                )
                .await
                .map_err(|e| DockerError::Api(format!("create container {name}: {e}")))
            }))
            .await;
        for r in created {
            r?;
        }
        let starts = futures::future::join_all(
            self.nodes
                .iter()
                .map(|n| d.start_container(&n.container, None)),
        )
        .await;
        for (n, r) in self.nodes.iter().zip(starts) {
            r.map_err(|e| DockerError::Api(format!("start {}: {e}", n.container)))?;
        }
        log(
            tx,
            format!(
                "started {} containers on network {} (docker ps --filter label={LABEL_DEVNET}={})",
                self.nodes.len(),
                self.network,
                self.devnet
            ),
        );
        // Addresses on the bridge, then wait until every node answers.
        let mut validators = Vec::new();
        let mut provers = Vec::new();
        let mut prover_names = Vec::new();
        for n in &self.nodes {
            let ip = self.ip_of(&n.container).await?;
            let endpoint = format!("{ip}:{NODE_PORT}");
            if let Some(i) = infos.iter_mut().find(|i| i.name == n.name) {
                i.endpoint.clone_from(&endpoint);
            }
            let client = http(&format!("http://{endpoint}"))?;
            if n.name.starts_with("validator-") {
                validators.push((n.address, client));
            } else {
                provers.push(client);
                prover_names.push(n.name.clone());
            }
        }
        let deadline = Instant::now() + READY_TIMEOUT;
        let mut ready = vec![false; validators.len() + provers.len()];
        let mut last_report = 0;
        while ready.iter().any(|r| !r) {
            for (i, (_, c)) in validators.iter().enumerate() {
                if !ready[i] {
                    ready[i] = c.status().await.is_ok();
                }
            }
            for (j, c) in provers.iter().enumerate() {
                let i = validators.len() + j;
                if !ready[i] {
                    ready[i] = c.identities().await.is_ok();
                }
            }
            let n = ready.iter().filter(|r| **r).count();
            if n != last_report {
                last_report = n;
                log(tx, format!("{n}/{} nodes answer their RPC", ready.len()));
            }
            if n == ready.len() {
                break;
            }
            if Instant::now() > deadline {
                let rows = containers(d, Some(&self.devnet)).await.unwrap_or_default();
                let dead: Vec<String> = rows
                    .iter()
                    .filter(|r| r.state != "running")
                    .map(|r| format!("{} ({})", r.name, r.status))
                    .collect();
                return Err(OrchestratorError::Node {
                    node: "devnet".into(),
                    reason: format!(
                        "only {n}/{} nodes answered within {} s{}; see `dpgnet logs`",
                        ready.len(),
                        READY_TIMEOUT.as_secs(),
                        if dead.is_empty() {
                            String::new()
                        } else {
                            format!(" (not running: {})", dead.join(", "))
                        }
                    ),
                });
            }
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
        Ok(Started {
            infos,
            validators,
            provers,
            prover_names,
        })
    }

    async fn apply(&mut self, fault: &Fault) -> Result<(Vec<Msg>, Option<String>), String> {
        let name = fault
            .node()
            .ok_or_else(|| format!("{fault}: not a node fault"))?;
        let node = self
            .node(name)
            .map_err(|e| format!("{fault}: {e}"))?
            .clone();
        let d = &self.docker;
        let c = node.container.as_str();
        let err = |e: bollard::errors::Error| format!("{fault}: {e}");
        let mut new_url = None;
        let down = |reason: &str| Msg::NodeDown {
            address: node.address,
            reason: reason.into(),
        };
        let up = Msg::NodeUp {
            address: node.address,
        };
        let msg = match fault {
            Fault::Kill(_) => {
                d.kill_container(
                    c,
                    Some(
                        KillContainerOptionsBuilder::default()
                            .signal("SIGKILL")
                            .build(),
                    ),
                )
                .await
                .map_err(err)?;
                down("killed (container exited)")
            }
            Fault::Pause(_) => {
                d.pause_container(c).await.map_err(err)?;
                down("paused (container frozen)")
            }
            Fault::Resume(_) => {
                d.unpause_container(c).await.map_err(err)?;
                up
            }
            Fault::Restart(_) if name.starts_with("validator-") => {
                return Err(format!(
                    "{fault}: a restarted validator would come back with a genesis engine \
                     replica and no way to catch up (no state sync yet); kill, pause or \
                     disconnect it instead"
                ));
            }
            Fault::Restart(_) => {
                d.restart_container(
                    c,
                    Some(RestartContainerOptionsBuilder::default().t(1).build()),
                )
                .await
                .map_err(err)?;
                self.disconnected.remove(name);
                if let Ok(ip) = self.ip_of(c).await {
                    new_url = Some(format!("http://{ip}:{NODE_PORT}"));
                }
                up
            }
            Fault::Disconnect(_) => {
                d.disconnect_network(
                    &self.network,
                    NetworkDisconnectRequest {
                        container: c.to_string(),
                        force: Some(true),
                    },
                )
                .await
                .map_err(err)?;
                self.disconnected.insert(name.to_string());
                down("disconnected from the network")
            }
            Fault::Reconnect(_) => {
                d.connect_network(
                    &self.network,
                    NetworkConnectRequest {
                        container: c.to_string(),
                        endpoint_config: Some(EndpointSettings {
                            aliases: Some(vec![name.to_string()]),
                            ..Default::default()
                        }),
                    },
                )
                .await
                .map_err(err)?;
                self.disconnected.remove(name);
                if let Ok(ip) = self.ip_of(c).await {
                    new_url = Some(format!("http://{ip}:{NODE_PORT}"));
                }
                up
            }
            Fault::Strategy { .. } => return Err(format!("{fault}: not a node fault")),
        };
        Ok((vec![msg], new_url))
    }

    async fn set_strategy(
        &mut self,
        strategy: &Strategy,
        targets: Option<Vec<Address>>,
    ) -> Result<(), String> {
        let adv = self.node("adversary-0")?.container.clone();
        let ip = self.ip_of(&adv).await.map_err(|e| e.to_string())?;
        let c = http(&format!("http://{ip}:{NODE_PORT}")).map_err(|e| e.to_string())?;
        c.set_strategy(strategy.to_string(), targets.unwrap_or_default())
            .await
            .map_err(|e| format!("adversary agent: {e}"))
    }

    async fn identities(&mut self) -> Vec<Address> {
        let Ok(adv) = self.node("adversary-0").map(|n| n.container.clone()) else {
            return Vec::new();
        };
        let Ok(ip) = self.ip_of(&adv).await else {
            return Vec::new();
        };
        match http(&format!("http://{ip}:{NODE_PORT}")) {
            Ok(c) => c.identities().await.unwrap_or_default(),
            Err(_) => Vec::new(),
        }
    }

    async fn watch(&mut self) -> Vec<Msg> {
        let now = Instant::now();
        if now < self.next_probe {
            return Vec::new();
        }
        let mut out = Vec::new();
        let rows = match containers(&self.docker, Some(&self.devnet)).await {
            Ok(rows) => rows,
            Err(e) => {
                if self.connected {
                    self.connected = false;
                    out.push(Msg::RuntimeConnection {
                        connected: false,
                        detail: format!("Docker daemon unreachable: {e}"),
                    });
                }
                self.next_probe = now + self.backoff;
                self.backoff = (self.backoff * 2).min(MAX_BACKOFF);
                return out;
            }
        };
        if !self.connected {
            self.connected = true;
            out.push(Msg::RuntimeConnection {
                connected: true,
                detail: "Docker daemon reachable again".into(),
            });
        }
        self.backoff = Duration::from_millis(500);
        for n in &self.nodes {
            let state = rows
                .iter()
                .find(|r| r.name == n.container)
                .map_or_else(|| "removed".to_string(), |r| r.state.clone());
            let state = if self.disconnected.contains(&n.name) && state == "running" {
                "disconnected".to_string()
            } else {
                state
            };
            if self.states.get(&n.name) != Some(&state) {
                self.states.insert(n.name.clone(), state.clone());
                out.push(Msg::ContainerState {
                    address: n.address,
                    state: state.clone(),
                });
            }
        }
        out
    }

    async fn stop(self, keep: bool) {
        if keep {
            tracing::info!(target: "dpgnet::docker", devnet = %self.devnet, "--keep: leaving the containers running");
            eprintln!(
                "dpgnet: --keep: devnet {} is still running; `dpgnet down --devnet {}` removes it",
                self.devnet, self.devnet
            );
            return;
        }
        if let Err(e) = down(&self.docker, Some(&self.devnet)).await {
            tracing::error!(target: "dpgnet::docker", error = %e, "teardown failed");
            eprintln!(
                "dpgnet: teardown failed ({e}); run `dpgnet down --devnet {}`",
                self.devnet
            );
        }
    }
}

/// A devnet someone else started (`docker compose up` of a `dpgnet compose`
/// file): nodes are reached by their container names, which only resolve inside
/// the devnet's network, so the orchestrator runs there too (the compose file's
/// `orchestrator` service). Node faults are not available.
#[derive(Debug, Default)]
pub struct AttachedRuntime {
    adversary: Option<String>,
}

impl super::Runtime for AttachedRuntime {
    fn kind(&self) -> RuntimeKind {
        RuntimeKind::Attached
    }

    async fn start(
        &mut self,
        devnet: &Devnet,
        tx: &UnboundedSender<Msg>,
    ) -> Result<Started, OrchestratorError> {
        let seed = devnet.network_params.seed;
        let mut s = Started {
            infos: vec![],
            validators: vec![],
            provers: vec![],
            prover_names: vec![],
        };
        for n in devnet.nodes() {
            let key = NodeKey::derive(seed, n.role, n.index);
            let name = format!("{}-{}", n.role.as_str(), n.index);
            let url = peer_url(&devnet.name, n.role, n.index);
            s.infos.push(NodeInfo {
                name: name.clone(),
                role: n.role,
                address: key.address(),
                adversary_controlled: n.corrupted,
                endpoint: if n.corrupted {
                    "(adversary)".into()
                } else {
                    url.trim_start_matches("http://").into()
                },
            });
            if n.corrupted {
                continue;
            }
            match n.role {
                Role::Validator => s.validators.push((key.address(), http(&url)?)),
                _ => {
                    if n.role == Role::Adversary {
                        self.adversary = Some(url.clone());
                    }
                    s.provers.push(http(&url)?);
                    s.prover_names.push(name);
                }
            }
        }
        let deadline = Instant::now() + READY_TIMEOUT;
        for (i, (_, c)) in s.validators.iter().enumerate() {
            while c.status().await.is_err() {
                if Instant::now() > deadline {
                    return Err(OrchestratorError::Node {
                        node: format!("validator-{i}"),
                        reason: "did not answer".into(),
                    });
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
        for (c, name) in s.provers.iter().zip(&s.prover_names) {
            while c.identities().await.is_err() {
                if Instant::now() > deadline {
                    return Err(OrchestratorError::Node {
                        node: name.clone(),
                        reason: "did not answer".into(),
                    });
                }
                tokio::time::sleep(Duration::from_millis(250)).await;
            }
        }
        log(tx, format!("attached to {} running nodes", s.infos.len()));
        Ok(s)
    }

    async fn apply(&mut self, fault: &Fault) -> Result<(Vec<Msg>, Option<String>), String> {
        Err(format!(
            "{fault}: an attached devnet cannot be faulted from here (use docker itself)"
        ))
    }

    async fn set_strategy(
        &mut self,
        strategy: &Strategy,
        targets: Option<Vec<Address>>,
    ) -> Result<(), String> {
        let url = self
            .adversary
            .as_ref()
            .ok_or("this devnet has no adversary agent")?;
        let c = http(url).map_err(|e| e.to_string())?;
        c.set_strategy(strategy.to_string(), targets.unwrap_or_default())
            .await
            .map_err(|e| format!("adversary agent: {e}"))
    }

    async fn identities(&mut self) -> Vec<Address> {
        match self.adversary.as_ref().map(|u| http(u)) {
            Some(Ok(c)) => c.identities().await.unwrap_or_default(),
            _ => Vec::new(),
        }
    }

    async fn watch(&mut self) -> Vec<Msg> {
        Vec::new()
    }

    async fn stop(self, _keep: bool) {}
}

/// `dpgnet status`: devnets and their containers, grouped by devnet.
///
/// # Errors
/// [`DockerError`].
pub async fn status_table() -> Result<String, DockerError> {
    let docker = connect().await?;
    let rows = containers(&docker, None).await?;
    let nets = networks(&docker, None).await?;
    if rows.is_empty() && nets.is_empty() {
        return Ok("no dpgnet devnet is running (nothing carries the dpgnet labels)\n".into());
    }
    let mut by: BTreeMap<String, Vec<&ContainerRow>> = BTreeMap::new();
    for r in &rows {
        by.entry(r.devnet.clone()).or_default().push(r);
    }
    let mut out = String::new();
    for (devnet, rows) in &by {
        let running = rows.iter().filter(|r| r.state == "running").count();
        let net = network_name(devnet);
        out.push_str(&format!(
            "devnet {devnet}: {running}/{} containers running, network {}\n",
            rows.len(),
            if nets.contains(&net) {
                net.as_str()
            } else {
                "(missing)"
            }
        ));
        out.push_str(&format!(
            "  {:<36} {:<10} {:<10} {}\n",
            "CONTAINER", "ROLE", "STATE", "STATUS"
        ));
        for r in rows {
            out.push_str(&format!(
                "  {:<36} {:<10} {:<10} {}\n",
                r.name, r.role, r.state, r.status
            ));
        }
    }
    for n in &nets {
        let d = n.trim_start_matches("dpgnet-");
        if !by.contains_key(d) {
            out.push_str(&format!("network {n} (no containers)\n"));
        }
    }
    Ok(out)
}

/// `dpgnet logs [NODE] [-f]`: one node's log, or every node's merged with a
/// `name | ` prefix, written to `out` as it arrives.
///
/// # Errors
/// [`DockerError`]; an unknown node lists the known ones.
pub async fn logs(
    devnet: Option<&str>,
    node: Option<&str>,
    follow: bool,
    out: &mut (dyn std::io::Write + Send),
) -> Result<(), DockerError> {
    let docker = connect().await?;
    let rows = containers(&docker, devnet).await?;
    let picked: Vec<&ContainerRow> = match node {
        None => rows.iter().collect(),
        Some(n) => rows
            .iter()
            .filter(|r| r.name == n || format!("{}-{}", r.role, r.index) == n)
            .collect(),
    };
    if picked.is_empty() {
        let known: Vec<String> = rows.iter().map(|r| r.name.clone()).collect();
        return Err(DockerError::Api(match node {
            Some(n) => format!(
                "no dpgnet container named {n}; known: {}",
                if known.is_empty() {
                    "none".into()
                } else {
                    known.join(", ")
                }
            ),
            None => "no dpgnet container exists".into(),
        }));
    }
    let prefix = picked.len() > 1;
    let streams = picked.iter().map(|r| {
        let label = format!("{}-{}", r.role, r.index);
        let opts = LogsOptionsBuilder::default()
            .stdout(true)
            .stderr(true)
            .follow(follow)
            .build();
        docker
            .logs(&r.name, Some(opts))
            .map(move |item| (label.clone(), item))
            .boxed()
    });
    let mut merged = futures::stream::select_all(streams);
    while let Some((label, item)) = merged.next().await {
        let Ok(chunk) = item else { continue };
        let text = chunk.to_string();
        for line in text.lines() {
            let _ = if prefix {
                writeln!(out, "{label:<12}| {line}")
            } else {
                writeln!(out, "{line}")
            };
        }
    }
    Ok(())
}
