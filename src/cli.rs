//! The command line: `dpgnet up` (the terminal UI) and `dpgnet run --headless` (CI),
//! parsed with clap, and their dispatch to the TUI and headless mode.
//!
//! Exit codes (STYLE.md): 0 ok, 1 an expectation failed, 2 bad config or usage
//! (clap's own code for usage errors), 3 runtime error, 130 interrupted. Each
//! [`Failure`] knows its code; `main` prints it as one sentence.

use std::path::{Path, PathBuf};

use anyhow::anyhow;
use clap::error::ErrorKind;
use clap::{Args, CommandFactory, Parser, Subcommand};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::app::{Effect, LogLine, Model, Msg};
use crate::config::{self, ConfigError, Devnet};
use crate::headless::{
    self, EXIT_EXPECTATION, EXIT_INTERRUPTED, EXIT_OK, EXIT_RUNTIME, EXIT_USAGE,
};
use crate::logging::{self, LoggingError};
use crate::orchestrator::{self, Control, RunOptions, RuntimeKind};
use crate::protocol::Event;
use crate::tui;

/// The devnet file used when `--devnet` is not given, if it exists.
pub const DEFAULT_DEVNET_PATH: &str = "devnet/default.yaml";

const AFTER_HELP: &str = "\
Examples:
  dpgnet up                                   watch the default devnet in the terminal UI
  dpgnet up --devnet my-devnet.yaml --seed 3
  dpgnet run --headless --slots 5 --fast --report report.json
  dpgnet run --headless --slots 3 --seed 42 --expect-finalized   (CI: exit 1 on a liveness fault)

Without --devnet, dpgnet uses devnet/default.yaml in the current directory if it
exists, else the built-in default devnet.

Exit codes: 0 ok, 1 expectation failed, 2 bad config or usage, 3 runtime error,
130 interrupted.

Logs: RUST_LOG filters them (default dpgnet=info); `run` writes them to stderr, `up`
to a file.";

const RUN_AFTER_HELP: &str = "\
Output:
  stdout   one JSON line per settled slot: slot, block, outcome, proofs_submitted,
           proofs_valid, paid/penalized/slashed {address: units}, payments, loss,
           conservation_ok, warnings, wall_s
  stderr   logs, then a summary table of the slots, totals and the result
  --report a JSON report of the whole run (slots, totals, nodes, exit_code)

Exit codes: 0 ok; 1 ledger conservation violated (always), or with --expect-finalized
a slot that ended in a liveness fault; 2 bad config or usage; 3 runtime error;
130 interrupted.

Examples:
  dpgnet run --headless --slots 5 --fast
  dpgnet run --headless --slots 3 --seed 42 --fast --expect-finalized --report out.json
  dpgnet run --headless --slots 10 --devnet my-devnet.yaml | jq .outcome";

const UP_AFTER_HELP: &str = "\
Keys: q quit, p pause/resume, ? help, arrows (or j) select a node, a attack menu
(strategy, targets, slot; Enter launches), h stop the attack. On the selected node:
k kill, z pause/unpause, r restart, x disconnect/reconnect (restart and disconnect
need --runtime docker).

Logs go to dpgnet.log in the current directory (or --log-file / $DPGNET_LOG_FILE),
never to the screen.

Examples:
  dpgnet up
  dpgnet up --devnet my-devnet.yaml --seed 3 --fast
  dpgnet up --runtime docker --keep      (leave the containers; `dpgnet down` later)";

/// `dpgnet`: a devnet orchestrator for distributed proof generation.
#[derive(Debug, Parser)]
#[command(
    name = "dpgnet",
    version,
    about = "Devnet orchestrator for distributed proof generation: validators, halo2 provers \
             and an adversary run the T1-T5 proving protocol slot by slot",
    after_help = AFTER_HELP,
    arg_required_else_help = true
)]
pub struct Cli {
    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The subcommands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Start a devnet and watch it slot by slot in the terminal UI.
    #[command(after_help = UP_AFTER_HELP)]
    Up(UpArgs),
    /// Run a devnet without a UI for N slots (CI): NDJSON per slot on stdout, a summary on
    /// stderr, an optional JSON report, and an exit code.
    #[command(after_help = RUN_AFTER_HELP)]
    Run(RunArgs),
    /// Measure the speed goals in one run: prove/verify per circuit and k, batch against
    /// single verification, slot wall time against the proving critical path (--fast).
    #[command(after_help = crate::bench::BENCH_AFTER_HELP)]
    Bench(crate::bench::BenchArgs),
    /// Attack scenarios (devnet/scenarios/*.yaml): list them, or run one headless and
    /// check its expectations (exit 0 when every one holds, 1 otherwise).
    Scenario(crate::scenario::ScenarioArgs),
    /// The research's mechanism math for practitioners: optimal designated committee and
    /// mixing probability, symmetric committees and lotteries (adversarial-procurement
    /// paper), capacity-audit thresholds and Sybil strategies (capacity-oracles post).
    Analyze(crate::mechanism::analyze_cmd::AnalyzeArgs),
    /// A fast Monte Carlo simulator (simulated, not proven): the same engine and mechanisms
    /// with modelled proofs; loss, liveness fault rate, payments and slashing with 95%
    /// confidence intervals, and `--compare` for a table and a plot of loss against P.
    #[command(after_help = crate::mechanism::sim::SIM_AFTER_HELP)]
    Sim(crate::mechanism::sim::SimArgs),
    /// Remove every container and network dpgnet created (of one devnet with --devnet),
    /// including leftovers of a crashed run.
    Down(DownArgs),
    /// List the devnets running on Docker and the state of their containers.
    Status,
    /// Show one node's container log, or every node's merged with a name prefix.
    Logs(LogsArgs),
    /// Write a Docker Compose file equivalent to a devnet on the Docker runtime.
    #[command(after_help = COMPOSE_AFTER_HELP)]
    Compose(ComposeArgs),
    /// Run one node of a devnet (a container's entry point; configured by env).
    #[command(hide = true)]
    Node(crate::runtime::node_cmd::NodeArgs),
}

/// Options shared by `up` and `run`: which devnet, how, where.
#[derive(Debug, Clone, Args)]
pub struct DevnetArgs {
    /// Devnet definition (YAML). Default: devnet/default.yaml in the current directory if
    /// it exists, else the built-in default devnet.
    #[arg(long, value_name = "FILE")]
    pub devnet: Option<PathBuf>,
    /// Seed of the workload and the genesis RANDAO mix (overrides network_params.seed).
    /// Same seed, same run.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Close each phase as soon as every expected message is in, instead of waiting out
    /// its window.
    #[arg(long)]
    pub fast: bool,
    /// Where the nodes run: docker (one container per node), inproc (tasks in this
    /// process), or auto (docker when a daemon answers, else inproc).
    #[arg(
        long,
        value_enum,
        value_name = "RUNTIME",
        default_value = "auto",
        env = "DPGNET_RUNTIME"
    )]
    pub runtime: RuntimeKind,
    /// Docker: leave the containers running when dpgnet exits (remove them later
    /// with `dpgnet down`).
    #[arg(long)]
    pub keep: bool,
    /// Docker: publish validator-0's RPC on 127.0.0.1 (a free port; see `docker ps`).
    #[arg(long)]
    pub publish_rpc: bool,
    /// Devnet YAML text, used when no --devnet file is given (containers get their
    /// devnet this way).
    #[arg(
        long,
        env = "DPGNET_DEVNET_YAML",
        value_name = "YAML",
        hide = true,
        hide_env_values = true
    )]
    pub devnet_yaml: Option<String>,
    /// Directory of the halo2 parameter cache (default: the orchestrator's location).
    #[arg(long, value_name = "DIR")]
    pub params_dir: Option<PathBuf>,
}

const COMPOSE_AFTER_HELP: &str = "\
The file has one service per validator, honest prover and adversary agent, named and
labelled as `--runtime docker` names them, on the devnet's bridge network, plus an
`orchestrator` service that runs the slots from inside the network. The devnet YAML
travels in each service's environment.

Examples:
  dpgnet compose --devnet devnet/default.yaml > compose.yaml
  DPGNET_IMAGE=dpgnet-node:<hash> docker compose -f compose.yaml up
  dpgnet compose --build --out compose/compose.yaml   (with a build: section)";

/// `dpgnet down`.
#[derive(Debug, Clone, Args)]
pub struct DownArgs {
    /// Only this devnet (its name in the YAML); default: every dpgnet devnet.
    #[arg(long, value_name = "NAME")]
    pub devnet: Option<String>,
}

/// `dpgnet logs`.
#[derive(Debug, Clone, Args)]
pub struct LogsArgs {
    /// The node (`prover-3`) or container (`dpgnet-default-prover-3`); default: all.
    pub node: Option<String>,
    /// Keep streaming new lines.
    #[arg(short, long)]
    pub follow: bool,
    /// Only this devnet.
    #[arg(long, value_name = "NAME")]
    pub devnet: Option<String>,
}

/// `dpgnet compose`.
#[derive(Debug, Clone, Args)]
pub struct ComposeArgs {
    /// Devnet definition (YAML). Default: devnet/default.yaml, else the built-in one.
    #[arg(long, value_name = "FILE")]
    pub devnet: Option<PathBuf>,
    /// Write here instead of stdout.
    #[arg(long, value_name = "FILE")]
    pub out: Option<PathBuf>,
    /// Image of the services (overridable at `up` time with $DPGNET_IMAGE).
    #[arg(long, value_name = "IMAGE", default_value = "dpgnet-node:latest")]
    pub image: String,
    /// Add a build section using compose/Dockerfile (needs a registry for its bases).
    #[arg(long)]
    pub build: bool,
    /// Slots the orchestrator service runs.
    #[arg(long, value_name = "N", default_value_t = 3)]
    pub slots: u64,
}

/// `dpgnet up`.
#[derive(Debug, Clone, Args)]
pub struct UpArgs {
    /// The devnet and how to run it.
    #[command(flatten)]
    pub devnet: DevnetArgs,
    /// Stop after N slots (default: run until you quit).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub slots: Option<u64>,
    /// Log file (logs never go to the screen).
    #[arg(
        long,
        value_name = "FILE",
        env = "DPGNET_LOG_FILE",
        default_value = "dpgnet.log"
    )]
    pub log_file: PathBuf,
}

/// `dpgnet run`.
#[derive(Debug, Clone, Args)]
pub struct RunArgs {
    /// Run without the terminal UI; required (the TUI is `dpgnet up`).
    #[arg(long)]
    pub headless: bool,
    /// Number of slots to run (required).
    #[arg(long, value_name = "N", value_parser = clap::value_parser!(u64).range(1..))]
    pub slots: Option<u64>,
    /// Write a JSON report of the run to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Exit 1 unless every slot is finalized (no liveness fault).
    #[arg(long)]
    pub expect_finalized: bool,
    /// The devnet and how to run it.
    #[command(flatten)]
    pub devnet: DevnetArgs,
}

impl Cli {
    /// Parse the process's arguments; on a usage error print it and exit 2 (on
    /// `--help`/`--version`, print and exit 0).
    #[must_use]
    pub fn parse_or_exit() -> Self {
        let cli = Self::parse();
        if let Err(e) = cli.check() {
            e.exit();
        }
        cli
    }

    /// Usage rules clap's derive cannot express, as clap errors (exit code 2).
    ///
    /// # Errors
    /// `run` without `--headless` or without `--slots`.
    pub fn check(&self) -> Result<(), clap::Error> {
        let Command::Run(run) = &self.command else {
            return Ok(());
        };
        let mut cli = Self::command();
        cli.build();
        let mut cmd = cli.find_subcommand("run").cloned().unwrap_or(cli);
        if !run.headless {
            return Err(cmd.error(
                ErrorKind::MissingRequiredArgument,
                "`dpgnet run` only runs headless for now: pass --headless (the terminal UI is \
                 `dpgnet up`)",
            ));
        }
        if run.slots.is_none() {
            return Err(cmd.error(
                ErrorKind::MissingRequiredArgument,
                "`dpgnet run --headless` needs --slots N: the number of slots to run",
            ));
        }
        Ok(())
    }
}

/// Why dpgnet exits with a non-zero code. Display: the one sentence `main` prints.
#[derive(Debug, thiserror::Error)]
pub enum Failure {
    /// The devnet file is missing, malformed or impossible (exit 2).
    #[error("{0}")]
    Config(#[from] ConfigError),
    /// Logging could not be set up (exit 2 for a bad `RUST_LOG`, else 3).
    #[error("{0}")]
    Logging(#[from] LoggingError),
    /// An expectation of the run failed (exit 1).
    #[error("expectation failed: {0}")]
    Expectation(String),
    /// The devnet, the terminal or an output failed (exit 3).
    #[error("{0:#}")]
    Runtime(anyhow::Error),
    /// Interrupted by Ctrl-C (exit 130).
    #[error("interrupted")]
    Interrupted,
    /// Impossible arguments (exit 2).
    #[error("{0}")]
    Usage(String),
}

impl Failure {
    /// The process exit code for this failure.
    #[must_use]
    pub fn exit_code(&self) -> u8 {
        match self {
            Failure::Config(_)
            | Failure::Usage(_)
            | Failure::Logging(LoggingError::Filter { .. }) => EXIT_USAGE,
            Failure::Logging(_) | Failure::Runtime(_) => EXIT_RUNTIME,
            Failure::Expectation(_) => EXIT_EXPECTATION,
            Failure::Interrupted => EXIT_INTERRUPTED,
        }
    }
}

/// Install the tracing subscriber the command wants: a file for `up`, stderr for `run`.
///
/// # Errors
/// See [`logging::init_tui`] and [`logging::init_headless`].
pub fn init_logging(cli: &Cli) -> Result<(), Failure> {
    match &cli.command {
        Command::Up(up) => logging::init_tui(&up.log_file)?,
        Command::Run(_)
        | Command::Bench(_)
        | Command::Scenario(_)
        | Command::Analyze(_)
        | Command::Sim(_)
        | Command::Down(_)
        | Command::Status
        | Command::Logs(_)
        | Command::Compose(_)
        | Command::Node(_) => {
            logging::init_headless()?;
        }
    }
    Ok(())
}

/// Run the command. `interrupt` is cancelled on Ctrl-C; the devnet then stops and the
/// command fails with [`Failure::Interrupted`].
///
/// # Errors
/// A [`Failure`] carrying the exit code.
pub async fn dispatch(cli: Cli, interrupt: CancellationToken) -> Result<(), Failure> {
    match cli.command {
        Command::Up(args) => up(args, interrupt).await,
        Command::Run(args) => run(args, interrupt).await,
        Command::Bench(args) => crate::bench::command(args, interrupt).await,
        Command::Scenario(args) => crate::scenario::command(args, interrupt).await,
        Command::Analyze(args) => analyze(&args),
        Command::Sim(args) => crate::mechanism::sim::command(&args),
        Command::Down(args) => down(args).await,
        Command::Status => status().await,
        Command::Logs(args) => logs(args).await,
        Command::Compose(args) => compose(&args),
        Command::Node(args) => crate::runtime::node_cmd::run(args, interrupt)
            .await
            .map_err(Failure::Runtime),
    }
}

async fn down(args: DownArgs) -> Result<(), Failure> {
    use crate::runtime::docker;
    let d = docker::connect()
        .await
        .map_err(|e| Failure::Runtime(e.into()))?;
    let removed = docker::down(&d, args.devnet.as_deref())
        .await
        .map_err(|e| Failure::Runtime(e.into()))?;
    eprintln!(
        "dpgnet: removed {} container(s){}{} and {} network(s){}{}",
        removed.containers.len(),
        if removed.containers.is_empty() {
            ""
        } else {
            ": "
        },
        removed.containers.join(", "),
        removed.networks.len(),
        if removed.networks.is_empty() {
            ""
        } else {
            ": "
        },
        removed.networks.join(", "),
    );
    Ok(())
}

async fn status() -> Result<(), Failure> {
    let table = crate::runtime::docker::status_table()
        .await
        .map_err(|e| Failure::Runtime(e.into()))?;
    print!("{table}");
    Ok(())
}

async fn logs(args: LogsArgs) -> Result<(), Failure> {
    let mut out = std::io::stdout();
    crate::runtime::docker::logs(
        args.devnet.as_deref(),
        args.node.as_deref(),
        args.follow,
        &mut out,
    )
    .await
    .map_err(|e| Failure::Runtime(e.into()))
}

fn compose(args: &ComposeArgs) -> Result<(), Failure> {
    let (devnet, _) = load_devnet(args.devnet.as_deref(), None)?;
    let text = crate::runtime::compose::compose_file(
        &devnet,
        &crate::runtime::compose::ComposeOptions {
            image: args.image.clone(),
            build: args.build,
            slots: args.slots,
            fast: true,
        },
    )
    .map_err(|e| Failure::Runtime(anyhow!(e)))?;
    match &args.out {
        Some(path) => std::fs::write(path, text).map_err(|e| {
            Failure::Runtime(
                anyhow::Error::new(e).context(format!("cannot write {}", path.display())),
            )
        }),
        None => {
            print!("{text}");
            Ok(())
        }
    }
}

/// `dpgnet analyze`: validate (exit 2 with one sentence), then print to stdout.
fn analyze(args: &crate::mechanism::analyze_cmd::AnalyzeArgs) -> Result<(), Failure> {
    crate::mechanism::analyze_cmd::validate(args).map_err(Failure::Usage)?;
    let mut out = std::io::stdout().lock();
    crate::mechanism::analyze_cmd::run(args, &mut out).map_err(Failure::Runtime)
}

/// Where the devnet came from, for the stderr line.
fn load_devnet(path: Option<&Path>, yaml: Option<&str>) -> Result<(Devnet, String), ConfigError> {
    if let Some(path) = path {
        return Ok((config::load(path)?, path.display().to_string()));
    }
    if let Some(text) = yaml {
        return Ok((
            config::parse(text, "$DPGNET_DEVNET_YAML")?,
            "$DPGNET_DEVNET_YAML".into(),
        ));
    }
    let default = Path::new(DEFAULT_DEVNET_PATH);
    if default.is_file() {
        Ok((config::load(default)?, DEFAULT_DEVNET_PATH.to_owned()))
    } else {
        Ok((
            Devnet::default_devnet(),
            format!("the built-in default (no {DEFAULT_DEVNET_PATH} here)"),
        ))
    }
}

/// The run options of `args` (devnet loaded, `--seed` applied), announced on stderr.
async fn options(args: &DevnetArgs, slots: Option<u64>) -> Result<RunOptions, Failure> {
    let (mut devnet, source) = load_devnet(args.devnet.as_deref(), args.devnet_yaml.as_deref())?;
    if let Some(seed) = args.seed {
        devnet.network_params.seed = seed;
    }
    let (runtime, why) = crate::runtime::resolve(args.runtime).await;
    if runtime == RuntimeKind::Inproc
        && std::env::var("DPGNET_REQUIRE_DOCKER").is_ok_and(|v| v == "1")
        && args.runtime == RuntimeKind::Auto
    {
        return Err(Failure::Runtime(anyhow!(
            "DPGNET_REQUIRE_DOCKER=1 but {why}"
        )));
    }
    eprintln!(
        "dpgnet: devnet {} from {source}, {why}, seed {}",
        devnet.name, devnet.network_params.seed
    );
    Ok(RunOptions {
        devnet,
        runtime,
        slots,
        fast: args.fast,
        params_dir: args.params_dir.clone(),
        plan: Vec::new(),
        keep: args.keep,
        publish_rpc: args.publish_rpc,
    })
}

async fn run(args: RunArgs, interrupt: CancellationToken) -> Result<(), Failure> {
    let opts = options(&args.devnet, args.slots).await?;
    let outcome = headless::run_headless(
        opts,
        args.report,
        args.expect_finalized,
        interrupt.child_token(),
    )
    .await
    .map_err(|e| Failure::Runtime(e.into()))?;
    let report = outcome.report;
    match report.exit_code {
        EXIT_OK => Ok(()),
        EXIT_INTERRUPTED => Err(Failure::Interrupted),
        EXIT_RUNTIME => Err(Failure::Runtime(match outcome.error {
            Some(e) => anyhow::Error::new(e).context("the devnet failed"),
            None => anyhow!("{}", report.failures.join("; ")),
        })),
        _ => Err(Failure::Expectation(report.failures.join("; "))),
    }
}

async fn up(args: UpArgs, interrupt: CancellationToken) -> Result<(), Failure> {
    let opts = options(&args.devnet, args.slots).await?;
    let log_file = args.log_file.display().to_string();
    let mut model = Model::new(
        &opts.devnet.name,
        opts.runtime.as_str(),
        opts.devnet.network_params.seed,
    );
    model.slots_target = opts.slots;

    let cancel = interrupt.child_token();
    let (msg_tx, msg_rx) = mpsc::unbounded_channel();
    let (effect_tx, mut effect_rx) = mpsc::unbounded_channel();
    let (control_tx, control_rx) = watch::channel(Control::default());
    // Attacks launched from the UI (the attack menu, `h`) reach the orchestrator here.
    let (faults_tx, faults_rx) = mpsc::unbounded_channel();

    // The orchestrator's messages pass through a relay on their way to the UI, which
    // notes conservation violations: those fail the run (exit 1) even in the UI.
    let (relay_tx, mut relay_rx) = mpsc::unbounded_channel();
    let orchestrator = tokio::spawn({
        let cancel = cancel.clone();
        let log = relay_tx.clone();
        async move {
            let result =
                orchestrator::run_with_faults(opts, relay_tx, control_rx, faults_rx, cancel).await;
            if let Err(e) = &result {
                tracing::error!(target: "dpgnet::cli", error = %e, "devnet failed");
                let _ = log.send(Msg::Log(LogLine::error(
                    None,
                    format!("devnet failed: {e}"),
                )));
            }
            result
        }
    });
    let relay = tokio::spawn(async move {
        let mut violated = Vec::new();
        while let Some(msg) = relay_rx.recv().await {
            if let Msg::Engine(Event::Settled(s)) = &msg
                && !s.conservation_ok
            {
                violated.push(s.slot);
            }
            if msg_tx.send(msg).is_err() {
                break;
            }
        }
        violated
    });
    let effects = tokio::spawn({
        let cancel = cancel.clone();
        async move {
            while let Some(effect) = effect_rx.recv().await {
                match effect {
                    Effect::Quit => cancel.cancel(),
                    Effect::SetPaused(paused) => {
                        let _ = control_tx.send(Control { paused });
                    }
                    Effect::Inject(step) => {
                        tracing::info!(
                            target: "dpgnet::cli",
                            slot = step.slot,
                            fault = %step.fault,
                            "attack injected from the UI"
                        );
                        // The orchestrator may already be gone (devnet stopped).
                        let _ = faults_tx.send(step);
                    }
                }
            }
        }
    });

    let ui = tui::run(model, msg_rx, effect_tx, cancel.clone()).await;
    // Whatever ended the UI, stop the devnet and wait for it to tear down.
    cancel.cancel();
    let devnet = orchestrator.await;
    let violated = relay.await.unwrap_or_default();
    let _ = effects.await;

    let model = ui.map_err(|e| Failure::Runtime(e.context("the terminal UI failed")))?;
    eprintln!(
        "dpgnet: devnet {} stopped after {} settled slot{} (logs: {log_file})",
        model.devnet,
        model.history.len(),
        if model.history.len() == 1 { "" } else { "s" }
    );
    if !violated.is_empty() {
        let list: Vec<String> = violated.iter().map(u64::to_string).collect();
        return Err(Failure::Expectation(format!(
            "ledger conservation was violated in slot{} {}",
            if violated.len() == 1 { "" } else { "s" },
            list.join(", ")
        )));
    }
    if interrupt.is_cancelled() {
        return Err(Failure::Interrupted);
    }
    match devnet {
        Ok(Ok(_timings)) => Ok(()),
        Ok(Err(e)) => Err(Failure::Runtime(
            anyhow::Error::new(e).context("the devnet failed"),
        )),
        Err(join) => Err(Failure::Runtime(
            anyhow::Error::new(join).context("the devnet task died"),
        )),
    }
}
