//! Attack scenarios: a devnet, a plan of faults by slot (attacknet's `planSteps`) and
//! expectations (assertoor-style thresholds), loaded from `devnet/scenarios/NAME.yaml`
//! and run headless; `dpgnet scenario list` and `dpgnet scenario run`.
//!
//! [`parse`] / [`load`] / [`find`] turn a file into a checked [`Scenario`] (every
//! refusal is a [`ConfigError`] with the file, line and column); [`run`] runs it with
//! [`headless::run_headless`] and [`evaluate`] measures its expectations on the
//! headless [`Report`], which the [`ScenarioReport`] embeds unchanged. The format is
//! documented in `docs/scenarios.md`.

mod expect;
mod locate;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use clap::{Args, Subcommand};
use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;

pub use expect::{Checked, Expectation, Metric, Op, ParseError, Selector, Value, Who};

use crate::cli::Failure;
use crate::config::{self, ConfigError, Devnet, NetworkParams, Role};
use crate::headless::{
    self, EXIT_EXPECTATION, EXIT_INTERRUPTED, EXIT_OK, EXIT_RUNTIME, HeadlessError, Report,
};
use crate::node::Strategy;
use crate::orchestrator::{Fault, OrchestratorError, PlanStep, RunOptions, RuntimeKind};

/// The directory scenarios are read from, relative to the current directory.
pub const SCENARIO_DIR: &str = "devnet/scenarios";

/// The shipped scenarios, compiled in: `(name, YAML)`. `list` and `run NAME` use them
/// when `devnet/scenarios/` is not in the current directory.
pub const BUILTIN: &[(&str, &str)] = &[
    ("honest", include_str!("../devnet/scenarios/honest.yaml")),
    (
        "withhold",
        include_str!("../devnet/scenarios/withhold.yaml"),
    ),
    ("silent", include_str!("../devnet/scenarios/silent.yaml")),
    ("late", include_str!("../devnet/scenarios/late.yaml")),
    (
        "invalid_proof",
        include_str!("../devnet/scenarios/invalid_proof.yaml"),
    ),
    ("steal", include_str!("../devnet/scenarios/steal.yaml")),
    (
        "equivocate",
        include_str!("../devnet/scenarios/equivocate.yaml"),
    ),
    (
        "no_reuse",
        include_str!("../devnet/scenarios/no_reuse.yaml"),
    ),
    ("sybil", include_str!("../devnet/scenarios/sybil.yaml")),
    (
        "targeted_liveness",
        include_str!("../devnet/scenarios/targeted_liveness.yaml"),
    ),
    (
        "kill_prover",
        include_str!("../devnet/scenarios/kill_prover.yaml"),
    ),
];

/// A checked scenario, ready to run.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// The scenario's name (the file stem).
    pub name: String,
    /// What it demonstrates, citing the spec text that motivates it.
    pub description: String,
    /// Where it was read from: a path, or `built-in NAME`.
    pub origin: String,
    /// The devnet, with the scenario's overrides applied.
    pub devnet: Devnet,
    /// Where the devnet came from (a path, `built-in devnet/default.yaml` or `inline`).
    pub devnet_source: String,
    /// Slots to run.
    pub slots: u64,
    /// Close each phase as soon as every expected message is in (`fast:`, default
    /// true); the devnet's windows remain the upper bound.
    pub fast: bool,
    /// Faults by slot, applied at the start of their slot.
    pub plan: Vec<PlanStep>,
    /// Expectations, in file order.
    pub expect: Vec<Expectation>,
    /// Where the nodes run: in-process unless `scenario run --runtime` says
    /// otherwise (restart and disconnect steps need `docker`).
    pub runtime: RuntimeKind,
}

impl Scenario {
    /// The strategies and faults the scenario uses, in first-use order: the devnet
    /// adversary's initial strategy, then each plan step's strategy or fault kind
    /// (`kill`, `pause`, `resume`); `honest` (stopping an attack) is left out.
    #[must_use]
    pub fn strategies(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        let mut push = |s: String| {
            if !out.contains(&s) {
                out.push(s);
            }
        };
        if let Some(s) = self
            .devnet
            .participants
            .iter()
            .find(|p| p.role == Role::Adversary)
            .and_then(|p| p.strategy.clone())
            .filter(|s| s != "honest")
        {
            push(s);
        }
        for step in &self.plan {
            match &step.fault {
                Fault::Strategy { strategy, .. } if strategy == "honest" => {}
                Fault::Strategy { strategy, .. } => push(strategy.clone()),
                Fault::Kill(_) => push("kill".to_owned()),
                Fault::Pause(_) => push("pause".to_owned()),
                Fault::Resume(_) => push("resume".to_owned()),
                Fault::Restart(_) => push("restart".to_owned()),
                Fault::Disconnect(_) => push("disconnect".to_owned()),
                Fault::Reconnect(_) => push("reconnect".to_owned()),
            }
        }
        out
    }

    /// The first sentence of the description, cut to at most `max` characters (for
    /// `scenario list`).
    #[must_use]
    pub fn summary(&self, max: usize) -> String {
        let d = self
            .description
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" ");
        let first = match d.find(". ") {
            Some(i) => &d[..=i],
            None => &d,
        };
        if first.chars().count() <= max {
            return first.to_owned();
        }
        let cut: String = first.chars().take(max.saturating_sub(1)).collect();
        format!("{}…", cut.trim_end())
    }
}

/// Where a scenario's relative `devnet:` path is resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Base {
    /// The directory of the scenario file.
    Dir(PathBuf),
    /// A compiled-in scenario: `../default.yaml` is the compiled-in default devnet.
    Builtin,
}

/// The YAML form of a scenario.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct ScenarioYaml {
    name: String,
    #[serde(default)]
    description: String,
    devnet: DevnetRef,
    /// Typed only to check keys and types with positions; the values are re-read
    /// loosely so that only the keys written override.
    #[serde(default)]
    #[allow(dead_code)]
    overrides: Option<NetworkParams>,
    slots: u64,
    #[serde(default = "yes")]
    fast: bool,
    #[serde(default)]
    plan: Vec<StepYaml>,
    #[serde(default)]
    expect: Vec<String>,
}

fn yes() -> bool {
    true
}

/// `overrides:` as written (only the keys given).
#[derive(Deserialize)]
struct OverridesYaml {
    #[serde(default)]
    overrides: Option<serde_yaml::Mapping>,
}

/// `devnet:` — a path relative to the scenario file, or an inline devnet.
enum DevnetRef {
    Path(String),
    Inline(Box<Devnet>),
}

impl<'de> Deserialize<'de> for DevnetRef {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> serde::de::Visitor<'de> for V {
            type Value = DevnetRef;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a path to a devnet file, or an inline devnet mapping")
            }
            fn visit_str<E: serde::de::Error>(self, v: &str) -> Result<DevnetRef, E> {
                Ok(DevnetRef::Path(v.to_owned()))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                map: A,
            ) -> Result<DevnetRef, A::Error> {
                Devnet::deserialize(serde::de::value::MapAccessDeserializer::new(map))
                    .map(|d| DevnetRef::Inline(Box::new(d)))
            }
        }
        d.deserialize_any(V)
    }
}

/// One plan step as written: `slot` and exactly one of `strategy` (with optional
/// `targets`), `kill`, `pause`, `resume`.
#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct StepYaml {
    slot: u64,
    #[serde(default)]
    strategy: Option<String>,
    #[serde(default)]
    targets: Option<Vec<String>>,
    #[serde(default)]
    kill: Option<String>,
    #[serde(default)]
    pause: Option<String>,
    #[serde(default)]
    resume: Option<String>,
    #[serde(default)]
    restart: Option<String>,
    #[serde(default)]
    disconnect: Option<String>,
    #[serde(default)]
    reconnect: Option<String>,
}

/// A positioned error in the scenario source.
fn at(origin: &str, pos: Option<(usize, usize)>, message: impl Into<String>) -> ConfigError {
    let (line, column) = pos.unwrap_or((0, 0));
    ConfigError::Syntax {
        origin: origin.to_owned(),
        line,
        column,
        message: message.into(),
    }
}

fn syntax(origin: &str, e: &serde_yaml::Error) -> ConfigError {
    let (line, column) = e.location().map_or((0, 0), |l| (l.line(), l.column()));
    let mut message = e.to_string();
    let suffix = format!(" at line {line} column {column}");
    if let Some(i) = message.find(&suffix) {
        message.replace_range(i..i + suffix.len(), "");
    }
    ConfigError::Syntax {
        origin: origin.to_owned(),
        line,
        column,
        message,
    }
}

/// Parse and check a scenario. `origin` names the source in errors; `base` resolves
/// a relative `devnet:` path.
///
/// # Errors
/// [`ConfigError`] with the line and column: malformed YAML, unknown keys, a devnet
/// that does not load, overrides the devnet refuses, a plan step with an unknown
/// strategy, an unknown node or a slot outside the run, an expectation that does not
/// parse or names an unknown node or slot.
pub fn parse(src: &str, origin: &str, base: &Base) -> Result<Scenario, ConfigError> {
    let y: ScenarioYaml = serde_yaml::from_str(src).map_err(|e| syntax(origin, &e))?;
    let key_pos = |key: &str| locate::key(src, key).map(|l| (l, 1));
    if y.name.is_empty()
        || !y
            .name
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_' || c == '-')
    {
        return Err(at(
            origin,
            key_pos("name"),
            format!(
                "name `{}` must be lowercase letters, digits, '_' or '-'",
                y.name
            ),
        ));
    }
    if y.slots == 0 {
        return Err(at(origin, key_pos("slots"), "slots must be at least 1"));
    }
    let (mut devnet, devnet_source) = match y.devnet {
        DevnetRef::Path(p) => resolve_devnet(&p, base)?,
        DevnetRef::Inline(d) => {
            d.validate().map_err(|(field, reason)| {
                at(
                    origin,
                    key_pos("devnet"),
                    format!("devnet.{field}: {reason}"),
                )
            })?;
            (*d, "inline".to_owned())
        }
    };
    if let Ok(OverridesYaml {
        overrides: Some(over),
    }) = serde_yaml::from_str::<OverridesYaml>(src)
    {
        devnet.network_params = apply_overrides(&devnet.network_params, over)
            .map_err(|m| at(origin, key_pos("overrides"), format!("overrides: {m}")))?;
        devnet.validate().map_err(|(field, reason)| {
            at(
                origin,
                key_pos("overrides"),
                format!("overrides: {field}: {reason}"),
            )
        })?;
    }
    let nodes = NodeNames::of(&devnet);
    if let Some(s) = nodes.adversary_strategy.as_deref() {
        s.parse::<Strategy>().map_err(|e| {
            at(
                origin,
                key_pos("devnet"),
                format!("devnet: adversary strategy: {e}"),
            )
        })?;
    }
    let plan = y
        .plan
        .into_iter()
        .enumerate()
        .map(|(i, step)| check_step(src, origin, i, step, y.slots, &nodes))
        .collect::<Result<Vec<_>, _>>()?;
    let expect = y
        .expect
        .iter()
        .enumerate()
        .map(|(i, text)| check_expectation(src, origin, i, text, y.slots, &nodes))
        .collect::<Result<Vec<_>, _>>()?;
    Ok(Scenario {
        name: y.name,
        description: y.description.trim().to_owned(),
        origin: origin.to_owned(),
        devnet,
        devnet_source,
        slots: y.slots,
        fast: y.fast,
        plan,
        expect,
        runtime: RuntimeKind::Inproc,
    })
}

/// Read and parse the scenario file at `path`; its name must be the file stem.
///
/// # Errors
/// [`ConfigError::Io`] when the file cannot be read, otherwise as [`parse`].
pub fn load(path: &Path) -> Result<Scenario, ConfigError> {
    let src = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
        path: path.to_owned(),
        source,
    })?;
    let origin = path.display().to_string();
    let dir = path.parent().map_or_else(PathBuf::new, Path::to_path_buf);
    let s = parse(&src, &origin, &Base::Dir(dir))?;
    let stem = path
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or_default();
    if s.name != stem {
        return Err(at(
            &origin,
            locate::key(&src, "name").map(|l| (l, 1)),
            format!("name `{}` must be the file's stem, `{stem}`", s.name),
        ));
    }
    Ok(s)
}

/// The compiled-in scenario `name`, if there is one.
///
/// # Errors
/// As [`parse`] (a shipped scenario always parses: `tests/scenarios.rs` loads each).
pub fn builtin(name: &str) -> Option<Result<Scenario, ConfigError>> {
    BUILTIN
        .iter()
        .find(|(n, _)| *n == name)
        .map(|(n, src)| parse(src, &format!("built-in {n}"), &Base::Builtin))
}

/// The scenario `name_or_file`: a path to a file (it contains `/` or ends in `.yaml` /
/// `.yml`, or exists), else `devnet/scenarios/NAME.yaml` in the current directory,
/// else the compiled-in scenario of that name.
///
/// # Errors
/// As [`load`] / [`parse`]; an unknown name is [`ConfigError::Invalid`] listing the
/// known ones.
pub fn find(name_or_file: &str) -> Result<Scenario, ConfigError> {
    let path = Path::new(name_or_file);
    let looks_like_file = name_or_file.contains('/')
        || path.extension().is_some_and(|e| e == "yaml" || e == "yml")
        || path.is_file();
    if looks_like_file {
        return load(path);
    }
    let local = Path::new(SCENARIO_DIR).join(format!("{name_or_file}.yaml"));
    if local.is_file() {
        return load(&local);
    }
    builtin(name_or_file).unwrap_or_else(|| {
        let known: Vec<&str> = BUILTIN.iter().map(|(n, _)| *n).collect();
        Err(ConfigError::Invalid {
            origin: name_or_file.to_owned(),
            field: "scenario".to_owned(),
            line: None,
            reason: format!(
                "no scenario named `{name_or_file}` in {SCENARIO_DIR}/ or built in (known: {})",
                known.join(", ")
            ),
        })
    })
}

/// Every scenario `scenario list` shows: the files of `devnet/scenarios/` when that
/// directory exists in the current directory, else the compiled-in ones. Each entry is
/// the scenario or why it does not load, with where it came from.
#[must_use]
pub fn all() -> Vec<(String, Result<Scenario, ConfigError>)> {
    let dir = Path::new(SCENARIO_DIR);
    if let Ok(entries) = std::fs::read_dir(dir) {
        let mut files: Vec<PathBuf> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "yaml" || e == "yml"))
            .collect();
        files.sort();
        return files
            .into_iter()
            .map(|p| (p.display().to_string(), load(&p)))
            .collect();
    }
    BUILTIN
        .iter()
        .map(|(n, src)| {
            let origin = format!("built-in {n}");
            (origin.clone(), parse(src, &origin, &Base::Builtin))
        })
        .collect()
}

fn resolve_devnet(rel: &str, base: &Base) -> Result<(Devnet, String), ConfigError> {
    match base {
        Base::Dir(dir) => {
            let path = dir.join(rel);
            Ok((config::load(&path)?, path.display().to_string()))
        }
        Base::Builtin => {
            if Path::new(rel)
                .file_name()
                .is_some_and(|f| f == "default.yaml")
            {
                let d = config::parse(config::DEFAULT_YAML, "built-in devnet/default.yaml")?;
                Ok((d, "built-in devnet/default.yaml".to_owned()))
            } else {
                Err(ConfigError::Invalid {
                    origin: "built-in scenario".to_owned(),
                    field: "devnet".to_owned(),
                    line: None,
                    reason: format!(
                        "devnet `{rel}`: a built-in scenario can only use ../default.yaml; run \
                         it from a directory holding {SCENARIO_DIR}/"
                    ),
                })
            }
        }
    }
}

/// Deep-merge `over` into `params` (mappings merge key by key, e.g. `phase_seconds`).
fn apply_overrides(
    params: &NetworkParams,
    over: serde_yaml::Mapping,
) -> Result<NetworkParams, String> {
    fn merge(into: &mut serde_yaml::Value, from: serde_yaml::Value) {
        match (into, from) {
            (serde_yaml::Value::Mapping(a), serde_yaml::Value::Mapping(b)) => {
                for (k, v) in b {
                    match a.get_mut(&k) {
                        Some(slot) => merge(slot, v),
                        None => {
                            a.insert(k, v);
                        }
                    }
                }
            }
            (slot, v) => *slot = v,
        }
    }
    let mut value = serde_yaml::to_value(params).map_err(|e| e.to_string())?;
    merge(&mut value, serde_yaml::Value::Mapping(over));
    serde_yaml::from_value(value).map_err(|e| e.to_string())
}

/// The node names of a devnet, for checking plan steps and expectations.
struct NodeNames {
    /// Every node name.
    all: Vec<String>,
    /// Honest provers (can be killed, paused, resumed).
    honest_provers: Vec<String>,
    /// Provers the adversary holds (strategy targets).
    corrupted: Vec<String>,
    /// The adversary agent, if any.
    adversary: Option<String>,
    /// Its initial strategy.
    adversary_strategy: Option<String>,
}

impl NodeNames {
    fn of(devnet: &Devnet) -> Self {
        let mut n = NodeNames {
            all: Vec::new(),
            honest_provers: Vec::new(),
            corrupted: Vec::new(),
            adversary: None,
            adversary_strategy: None,
        };
        for s in devnet.nodes() {
            let name = format!("{}-{}", s.role.as_str(), s.index);
            n.all.push(name.clone());
            match s.role {
                Role::Prover if s.corrupted => n.corrupted.push(name),
                Role::Prover => n.honest_provers.push(name),
                Role::Adversary => {
                    n.adversary = Some(name);
                    n.adversary_strategy.clone_from(&s.strategy);
                }
                Role::Validator => {}
            }
        }
        n
    }
}

fn check_step(
    src: &str,
    origin: &str,
    i: usize,
    step: StepYaml,
    slots: u64,
    nodes: &NodeNames,
) -> Result<PlanStep, ConfigError> {
    let step_pos = locate::plan_step(src, i);
    if step.slot >= slots {
        return Err(at(
            origin,
            locate::plan_value(src, i, "slot", &step.slot.to_string()),
            format!(
                "plan step at slot {} never runs: the scenario runs slots 0..={}",
                step.slot,
                slots - 1
            ),
        ));
    }
    let given: Vec<&str> = [
        ("strategy", step.strategy.is_some()),
        ("kill", step.kill.is_some()),
        ("pause", step.pause.is_some()),
        ("resume", step.resume.is_some()),
        ("restart", step.restart.is_some()),
        ("disconnect", step.disconnect.is_some()),
        ("reconnect", step.reconnect.is_some()),
    ]
    .into_iter()
    .filter_map(|(k, set)| set.then_some(k))
    .collect();
    if given.len() != 1 {
        return Err(at(
            origin,
            step_pos,
            format!(
                "a plan step has exactly one of strategy, kill, pause, resume, restart, disconnect, \
                 reconnect (found {})",
                if given.is_empty() {
                    "none".to_owned()
                } else {
                    given.join(", ")
                }
            ),
        ));
    }
    if step.targets.is_some() && step.strategy.is_none() {
        return Err(at(
            origin,
            locate::plan_value(src, i, "targets", "["),
            "targets go with a strategy step only",
        ));
    }
    let fault = if let Some(strategy) = step.strategy {
        if let Err(e) = strategy.parse::<Strategy>() {
            return Err(at(
                origin,
                locate::plan_value(src, i, "strategy", &strategy),
                e,
            ));
        }
        if nodes.corrupted.is_empty() {
            return Err(at(
                origin,
                locate::plan_value(src, i, "strategy", &strategy),
                "this devnet's adversary controls no prover: a strategy step has nothing to run on \
                 (add `{role: adversary, controls: N}`)",
            ));
        }
        let targets = step.targets.unwrap_or_default();
        for t in &targets {
            if !nodes.corrupted.contains(t) {
                let why = if nodes.all.contains(t) {
                    format!("`{t}` is not held by the adversary")
                } else {
                    format!("no node named `{t}` in this devnet")
                };
                return Err(at(
                    origin,
                    locate::plan_value(src, i, "targets", t),
                    format!(
                        "{why}: strategy targets are corrupted provers ({})",
                        nodes.corrupted.join(", ")
                    ),
                ));
            }
        }
        Fault::Strategy { strategy, targets }
    } else {
        let (key, name) = [
            ("kill", &step.kill),
            ("pause", &step.pause),
            ("resume", &step.resume),
            ("restart", &step.restart),
            ("disconnect", &step.disconnect),
            ("reconnect", &step.reconnect),
        ]
        .into_iter()
        .find_map(|(k, v)| v.as_ref().map(|v| (k, v.clone())))
        .unwrap_or(("kill", String::new()));
        let ok = nodes.honest_provers.contains(&name) || nodes.adversary.as_ref() == Some(&name);
        if !ok {
            let why = if nodes.corrupted.contains(&name) {
                format!(
                    "`{name}` is held by the adversary agent and has no node of its own: use \
                     `strategy: silent` with `targets: [{name}]`"
                )
            } else if nodes.all.contains(&name) {
                format!(
                    "`{name}` cannot be faulted: only provers and the adversary agent can be killed, paused or resumed"
                )
            } else {
                format!(
                    "no node named `{name}` in this devnet (provers: {})",
                    nodes.honest_provers.join(", ")
                )
            };
            return Err(at(origin, locate::plan_value(src, i, key, &name), why));
        }
        match key {
            "kill" => Fault::Kill(name),
            "pause" => Fault::Pause(name),
            "restart" => Fault::Restart(name),
            "disconnect" => Fault::Disconnect(name),
            "reconnect" => Fault::Reconnect(name),
            _ => Fault::Resume(name),
        }
    };
    Ok(PlanStep {
        slot: step.slot,
        fault,
    })
}

fn check_expectation(
    src: &str,
    origin: &str,
    i: usize,
    text: &str,
    slots: u64,
    nodes: &NodeNames,
) -> Result<Expectation, ConfigError> {
    let start = locate::expectation(src, i, text);
    let pos = |offset: usize| start.map(|(l, c)| (l, c + offset));
    let e = Expectation::parse(text).map_err(|e| {
        at(
            origin,
            pos(e.offset),
            format!("expectation `{text}`: {}", e.message),
        )
    })?;
    if let Some((name, offset)) = e.node()
        && !nodes.all.contains(&name.to_owned())
    {
        return Err(at(
            origin,
            pos(offset),
            format!("expectation `{text}`: no node named `{name}` in this devnet"),
        ));
    }
    if let Some((slot, offset)) = e.slot()
        && slot >= slots
    {
        return Err(at(
            origin,
            pos(offset),
            format!(
                "expectation `{text}`: slot {slot} is not run (the scenario runs slots 0..={})",
                slots - 1
            ),
        ));
    }
    Ok(e)
}

/// One plan step as reported.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StepReport {
    /// The slot at whose start it applied.
    pub slot: u64,
    /// What it did, e.g. `strategy steal on prover-7`.
    pub fault: String,
}

/// The JSON report of a scenario run (`--report FILE`): the scenario, each
/// expectation with its measured value, the verdict, and the headless run's own
/// [`Report`] unchanged under `run`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioReport {
    /// Scenario name.
    pub scenario: String,
    /// Its description.
    pub description: String,
    /// Where it was read from.
    pub source: String,
    /// Where its devnet came from.
    pub devnet_source: String,
    /// Slots asked for.
    pub slots: u64,
    /// The plan.
    pub plan: Vec<StepReport>,
    /// Each expectation, measured.
    pub expectations: Vec<Checked>,
    /// True when every expectation held.
    pub passed: bool,
    /// The process's exit code: 0 every expectation held, 1 one failed (or ledger
    /// conservation was violated), 3 runtime error, 130 interrupted.
    pub exit_code: u8,
    /// Why the exit code is not 0, one sentence per reason.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub failures: Vec<String>,
    /// The headless run's report.
    pub run: Report,
}

/// Measure `scenario`'s expectations on the headless `run` report and decide the exit
/// code: a runtime error (3) or an interrupt (130) wins; otherwise 1 when an
/// expectation failed or the run itself failed one (conservation), else 0.
#[must_use]
pub fn evaluate(scenario: &Scenario, run: Report) -> ScenarioReport {
    let expectations: Vec<Checked> = scenario.expect.iter().map(|e| e.check(&run)).collect();
    let passed = expectations.iter().all(|c| c.pass);
    let mut failures = run.failures.clone();
    for c in expectations.iter().filter(|c| !c.pass) {
        failures.push(match (&c.measured, &c.note) {
            (Some(v), _) => format!("expectation `{}` failed: measured {v}", c.expect),
            (None, Some(n)) => format!("expectation `{}` failed: {n}", c.expect),
            (None, None) => format!("expectation `{}` failed", c.expect),
        });
    }
    let exit_code = match run.exit_code {
        EXIT_RUNTIME | EXIT_INTERRUPTED => run.exit_code,
        EXIT_OK if passed => EXIT_OK,
        _ => EXIT_EXPECTATION,
    };
    ScenarioReport {
        scenario: scenario.name.clone(),
        description: scenario.description.clone(),
        source: scenario.origin.clone(),
        devnet_source: scenario.devnet_source.clone(),
        slots: scenario.slots,
        plan: scenario
            .plan
            .iter()
            .map(|p| StepReport {
                slot: p.slot,
                fault: p.fault.to_string(),
            })
            .collect(),
        expectations,
        passed,
        exit_code,
        failures,
        run,
    }
}

/// How a scenario run ended.
#[derive(Debug)]
pub struct ScenarioOutcome {
    /// The report; its `exit_code` is the process's.
    pub report: ScenarioReport,
    /// The orchestrator's error, if the devnet failed.
    pub error: Option<OrchestratorError>,
}

/// The run options of `scenario`: in-process, its slots, plan and `fast`.
#[must_use]
pub fn options(scenario: &Scenario, params_dir: Option<PathBuf>) -> RunOptions {
    RunOptions {
        devnet: scenario.devnet.clone(),
        runtime: scenario.runtime,
        slots: Some(scenario.slots),
        fast: scenario.fast,
        params_dir,
        plan: scenario.plan.clone(),
        keep: false,
        publish_rpc: false,
    }
}

/// Run `scenario` headless (in-process, `--fast` unless it says `fast: false`; NDJSON per slot on stdout and the
/// headless summary on stderr, as `dpgnet run --headless`) and evaluate it.
///
/// # Errors
/// [`HeadlessError`] when stdout cannot be written.
pub async fn run(
    scenario: &Scenario,
    params_dir: Option<PathBuf>,
    cancel: CancellationToken,
) -> Result<ScenarioOutcome, HeadlessError> {
    let outcome =
        headless::run_headless(options(scenario, params_dir), None, false, cancel).await?;
    Ok(ScenarioOutcome {
        report: evaluate(scenario, outcome.report),
        error: outcome.error,
    })
}

/// The human table of a scenario report: one line per expectation with its measured
/// value, then the verdict.
#[must_use]
pub fn table(report: &ScenarioReport) -> String {
    let mut out = String::new();
    let failed = report.expectations.iter().filter(|c| !c.pass).count();
    let _ = writeln!(
        out,
        "scenario {}: {} expectation{}, {} held, {failed} failed",
        report.scenario,
        report.expectations.len(),
        if report.expectations.len() == 1 {
            ""
        } else {
            "s"
        },
        report.expectations.len() - failed,
    );
    let width = report
        .expectations
        .iter()
        .map(|c| c.expect.len())
        .max()
        .unwrap_or(0);
    for c in &report.expectations {
        let measured = match (&c.measured, &c.note) {
            (Some(v), _) => format!("measured {v}"),
            (None, Some(n)) => format!("not measured: {n}"),
            (None, None) => "not measured".to_owned(),
        };
        let _ = writeln!(
            out,
            "  {}  {:<width$}  {measured}",
            if c.pass { "pass" } else { "FAIL" },
            c.expect
        );
    }
    let verdict = match report.exit_code {
        EXIT_OK => "ok",
        EXIT_INTERRUPTED => "interrupted",
        _ => "FAILED",
    };
    let _ = writeln!(
        out,
        "scenario {}: {verdict} (exit {})",
        report.scenario, report.exit_code
    );
    out
}

/// `dpgnet scenario`.
#[derive(Debug, Clone, Args)]
pub struct ScenarioArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: ScenarioCommand,
}

/// The `scenario` subcommands.
#[derive(Debug, Clone, Subcommand)]
pub enum ScenarioCommand {
    /// List the scenarios of devnet/scenarios/ (else the built-in ones): name, slots,
    /// strategies, description.
    List,
    /// Run a scenario headless and check its expectations: exit 0 when every one holds,
    /// 1 otherwise.
    #[command(after_help = RUN_AFTER_HELP)]
    Run(ScenarioRunArgs),
}

const RUN_AFTER_HELP: &str = "\
A scenario runs in-process with --fast (each phase closes once every expected message
is in; the windows of its devnet remain the upper bound) unless its file says
`fast: false`. The terminal UI does not run scenarios yet: without --headless the
scenario runs headless anyway.

Output: stdout one JSON line per settled slot; stderr the run's summary, then one line
per expectation with its measured value and pass/FAIL; --report the JSON scenario report
(expectations, verdict, and the run's report under `run`).

Exit codes: 0 every expectation held; 1 one failed (or ledger conservation was violated);
2 bad scenario or devnet file; 3 runtime error; 130 interrupted.

Examples:
  dpgnet scenario list
  dpgnet scenario run steal --headless
  dpgnet scenario run devnet/scenarios/sybil.yaml --headless --seed 3 --report out.json";

/// `dpgnet scenario run`.
#[derive(Debug, Clone, Args)]
pub struct ScenarioRunArgs {
    /// The scenario: a name (devnet/scenarios/NAME.yaml, else built in) or a file.
    #[arg(value_name = "NAME|FILE")]
    pub scenario: String,
    /// Run without the terminal UI (the only mode for now; see below).
    #[arg(long)]
    pub headless: bool,
    /// Seed of the workload and the genesis RANDAO mix (overrides the scenario's). A
    /// different seed selects different provers: the attack may then miss.
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Write the JSON scenario report to FILE.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// Directory of the halo2 parameter cache (default: the orchestrator's location).
    #[arg(long, value_name = "DIR")]
    pub params_dir: Option<PathBuf>,
    /// Where the nodes run (scenarios default to in-process; `restart`, `disconnect`
    /// and `reconnect` steps need docker).
    #[arg(long, value_enum, value_name = "RUNTIME", default_value = "inproc")]
    pub runtime: RuntimeKind,
}

/// Run `dpgnet scenario ...`.
///
/// # Errors
/// A [`Failure`] carrying the exit code: a bad scenario (2), a failed expectation (1),
/// a runtime error (3), an interrupt (130).
pub async fn command(args: ScenarioArgs, interrupt: CancellationToken) -> Result<(), Failure> {
    match args.command {
        ScenarioCommand::List => list(),
        ScenarioCommand::Run(run_args) => run_command(run_args, interrupt).await,
    }
}

fn list() -> Result<(), Failure> {
    let mut rows = Vec::new();
    let mut first_error = None;
    for (origin, s) in all() {
        match s {
            Ok(s) => rows.push((
                s.name.clone(),
                s.slots,
                s.strategies().join(","),
                s.summary(90),
            )),
            Err(e) => {
                eprintln!("dpgnet: {e}");
                first_error.get_or_insert(e);
                rows.push((
                    origin,
                    0,
                    "-".to_owned(),
                    "(does not load, see above)".to_owned(),
                ));
            }
        }
    }
    let w0 = rows.iter().map(|r| r.0.len()).max().unwrap_or(0).max(4);
    let w2 = rows.iter().map(|r| r.2.len()).max().unwrap_or(0).max(10);
    println!(
        "{:<w0$}  {:>5}  {:<w2$}  DESCRIPTION",
        "NAME", "SLOTS", "STRATEGIES"
    );
    for (name, slots, strategies, description) in rows {
        println!("{name:<w0$}  {slots:>5}  {strategies:<w2$}  {description}");
    }
    match first_error {
        Some(e) => Err(Failure::Config(e)),
        None => Ok(()),
    }
}

async fn run_command(args: ScenarioRunArgs, interrupt: CancellationToken) -> Result<(), Failure> {
    let mut scenario = find(&args.scenario)?;
    scenario.runtime = args.runtime;
    if let Some(seed) = args.seed {
        scenario.devnet.network_params.seed = seed;
    }
    if !args.headless {
        eprintln!(
            "dpgnet: the terminal UI does not run scenarios yet: running scenario {} headless",
            scenario.name
        );
    }
    let plan: Vec<String> = scenario
        .plan
        .iter()
        .map(|p| format!("slot {}: {}", p.slot, p.fault))
        .collect();
    eprintln!(
        "dpgnet: scenario {} from {}, devnet {} from {}, seed {}, {} slot{}; plan: {}",
        scenario.name,
        scenario.origin,
        scenario.devnet.name,
        scenario.devnet_source,
        scenario.devnet.network_params.seed,
        scenario.slots,
        if scenario.slots == 1 { "" } else { "s" },
        if plan.is_empty() {
            "none".to_owned()
        } else {
            plan.join("; ")
        },
    );
    let outcome = run(&scenario, args.params_dir, interrupt.child_token())
        .await
        .map_err(|e| Failure::Runtime(e.into()))?;
    let report = outcome.report;
    eprint!("{}", table(&report));
    if let Some(path) = &args.report {
        write_report(path, &report).map_err(|e| Failure::Runtime(e.into()))?;
    }
    match report.exit_code {
        EXIT_OK => Ok(()),
        EXIT_INTERRUPTED => Err(Failure::Interrupted),
        EXIT_RUNTIME => Err(Failure::Runtime(match outcome.error {
            Some(e) => anyhow::Error::new(e).context("the devnet failed"),
            None => anyhow::anyhow!("{}", report.failures.join("; ")),
        })),
        _ => Err(Failure::Expectation(report.failures.join("; "))),
    }
}

/// Write `report` as pretty JSON to `path`.
///
/// # Errors
/// [`HeadlessError::Report`] when the file cannot be written.
pub fn write_report(path: &Path, report: &ScenarioReport) -> Result<(), HeadlessError> {
    let mut text = serde_json::to_string_pretty(report).map_err(|e| HeadlessError::Report {
        path: path.to_owned(),
        source: std::io::Error::other(e),
    })?;
    text.push('\n');
    std::fs::write(path, text).map_err(|source| HeadlessError::Report {
        path: path.to_owned(),
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const DEVNET: &str = "devnet: ../default.yaml";

    fn scenario(body: &str) -> Result<Scenario, ConfigError> {
        parse(
            &format!("name: t\nslots: 2\n{DEVNET}\n{body}"),
            "t.yaml",
            &Base::Builtin,
        )
    }

    fn error(body: &str) -> String {
        scenario(body).expect_err(body).to_string()
    }

    #[test]
    fn every_builtin_parses_and_is_named_after_its_key() {
        for (name, _) in BUILTIN {
            let s = builtin(name)
                .unwrap()
                .unwrap_or_else(|e| panic!("{name}: {e}"));
            assert_eq!(s.name, *name);
            assert!(!s.expect.is_empty(), "{name} has no expectations");
            assert!(!s.description.is_empty(), "{name} has no description");
            assert!((2..=3).contains(&s.slots), "{name}: {} slots", s.slots);
        }
        assert!(builtin("nope").is_none());
    }

    #[test]
    fn plan_steps_become_faults() {
        let s = scenario(
            "plan:\n  - {slot: 0, strategy: steal, targets: [prover-7]}\n  - slot: 1\n    kill: prover-2\n  - {slot: 1, strategy: honest}\nexpect: [liveness_faults == 0]\n",
        )
        .unwrap();
        assert_eq!(
            s.plan,
            vec![
                PlanStep {
                    slot: 0,
                    fault: Fault::Strategy {
                        strategy: "steal".into(),
                        targets: vec!["prover-7".into()]
                    }
                },
                PlanStep {
                    slot: 1,
                    fault: Fault::Kill("prover-2".into())
                },
                PlanStep {
                    slot: 1,
                    fault: Fault::Strategy {
                        strategy: "honest".into(),
                        targets: vec![]
                    }
                },
            ]
        );
        assert_eq!(s.strategies(), ["steal", "kill"]);
        assert!(s.fast);
        assert!(!scenario("fast: false\n").unwrap().fast);
        assert_eq!(s.summary(100), "");
        assert_eq!(s.devnet_source, "built-in devnet/default.yaml");
    }

    #[test]
    fn summary_is_the_first_sentence_cut_to_width() {
        let s = scenario("description: >\n  One two.  Three\n  four.\n").unwrap();
        assert_eq!(s.description, "One two.  Three four.");
        assert_eq!(s.summary(100), "One two.");
        assert_eq!(s.summary(5), "One…");
    }

    #[test]
    fn overrides_change_only_the_keys_written() {
        let s = scenario("overrides: {seed: 11, phase_seconds: {t2: 30}}\n").unwrap();
        let np = &s.devnet.network_params;
        assert_eq!(np.seed, 11);
        assert_eq!(np.phase_seconds.t2, 30.0);
        assert_eq!(np.phase_seconds.t1, 2.0);
        assert_eq!(np.redundancy_factor, 2);
        let e = error("overrides:\n  sed: 3\n");
        assert!(
            e.starts_with("t.yaml:5:3: overrides: unknown field `sed`"),
            "{e}"
        );
        let e = error("overrides: {redundancy_factor: 9}\n");
        assert!(
            e.starts_with("t.yaml:4:1: overrides: network_params.redundancy_factor"),
            "{e}"
        );
    }

    #[test]
    fn inline_devnets_load_and_report_their_errors_in_place() {
        let src = "name: t\nslots: 1\ndevnet:\n  participants:\n    - {role: validator}\n    - {role: prover, count: 4}\n    - {role: adversary, controls: 1}\nplan: [{slot: 0, strategy: withhold}]\n";
        let s = parse(src, "t.yaml", &Base::Builtin).unwrap();
        assert_eq!(s.devnet_source, "inline");
        assert_eq!(s.devnet.count(Role::Prover), 4);
        let bad = src.replace("count: 4", "cont: 4");
        let e = parse(&bad, "t.yaml", &Base::Builtin)
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("t.yaml:6:"), "{e}");
        assert!(e.contains("unknown field `cont`"), "{e}");
    }

    #[test]
    fn plan_errors_point_at_the_value() {
        let e = error("plan:\n  - slot: 0\n    strategy: bribe\n");
        assert!(
            e.starts_with("t.yaml:6:15: unknown adversary strategy `bribe`"),
            "{e}"
        );
        let e = error("plan:\n  - {slot: 0, strategy: steal, targets: [prover-6, prover-9]}\n");
        assert!(
            e.starts_with("t.yaml:5:52: no node named `prover-9`"),
            "{e}"
        );
        let e = error("plan:\n  - {slot: 0, strategy: steal, targets: [prover-1]}\n");
        assert!(
            e.starts_with("t.yaml:5:42: `prover-1` is not held by the adversary"),
            "{e}"
        );
        let e = error("plan:\n  - {slot: 0, kill: validator-0}\n");
        assert!(
            e.starts_with("t.yaml:5:21: `validator-0` cannot be faulted"),
            "{e}"
        );
        let e = error("plan:\n  - {slot: 0, pause: prover-7}\n");
        assert!(e.contains("held by the adversary agent"), "{e}");
        let e = error("plan:\n  - {slot: 5, resume: prover-1}\n");
        assert!(
            e.starts_with("t.yaml:5:12: plan step at slot 5 never runs"),
            "{e}"
        );
        let e = error("plan:\n  - {slot: 0}\n");
        assert!(
            e.starts_with("t.yaml:5:5: a plan step has exactly one of"),
            "{e}"
        );
        let e = error("plan:\n  - {slot: 0, kill: prover-1, targets: [prover-7]}\n");
        assert!(e.contains("targets go with a strategy step only"), "{e}");
        let e = error("plan:\n  - {slot: 0, strategy: steal, kil: prover-1}\n");
        assert!(e.starts_with("t.yaml:5:"), "{e}");
        assert!(e.contains("unknown field `kil`"), "{e}");
    }

    #[test]
    fn expectation_errors_point_at_the_token() {
        let e = error("expect:\n  - liveness_faults <= 0\n  - slashed[adversary] => 100\n");
        assert!(
            e.starts_with(
                "t.yaml:6:24: expectation `slashed[adversary] => 100`: expected an operator"
            ),
            "{e}"
        );
        let e = error("expect:\n  - \"slashd >= 1\"\n");
        assert!(
            e.starts_with("t.yaml:5:6: expectation `slashd >= 1`: unknown metric `slashd`"),
            "{e}"
        );
        let e = error("expect:\n  - paid[prover-12] >= 1\n");
        assert!(
            e.starts_with(
                "t.yaml:5:10: expectation `paid[prover-12] >= 1`: no node named `prover-12`"
            ),
            "{e}"
        );
        let e = error("expect:\n  - outcome[slot=2] == finalized_t3\n");
        assert!(
            e.starts_with(
                "t.yaml:5:13: expectation `outcome[slot=2] == finalized_t3`: slot 2 is not run"
            ),
            "{e}"
        );
        let e = error("expect: [conservation_ok == maybe]\n");
        assert!(e.starts_with("t.yaml:4:29: "), "{e}");
    }

    #[test]
    fn top_level_errors() {
        let e = parse(
            "name: t\nslots: 0\ndevnet: ../default.yaml\n",
            "t.yaml",
            &Base::Builtin,
        )
        .unwrap_err()
        .to_string();
        assert_eq!(e, "t.yaml:2:1: slots must be at least 1");
        let e = parse(
            "name: T\nslots: 1\ndevnet: ../default.yaml\n",
            "t.yaml",
            &Base::Builtin,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("t.yaml:1:1: name `T`"), "{e}");
        let e = parse(
            "name: t\nslots: 1\ndevnet: ../other.yaml\n",
            "t.yaml",
            &Base::Builtin,
        )
        .unwrap_err()
        .to_string();
        assert!(e.contains("can only use ../default.yaml"), "{e}");
        let e = parse(
            "name: t\nslots: 1\ndevnet: ../default.yaml\nexpects: []\n",
            "t.yaml",
            &Base::Builtin,
        )
        .unwrap_err()
        .to_string();
        assert!(e.starts_with("t.yaml:4:1: unknown field `expects`"), "{e}");
        let e = find("no-such-scenario").unwrap_err().to_string();
        assert!(
            e.contains("no scenario named `no-such-scenario`") && e.contains("steal"),
            "{e}"
        );
    }

    fn run_report(exit_code: u8) -> Report {
        Report {
            devnet: "d".into(),
            runtime: "inproc".into(),
            seed: 1,
            fast: true,
            slots_requested: Some(1),
            slots: vec![],
            totals: headless::Totals::default(),
            conservation_ok: true,
            nodes: vec![],
            exit_code,
            failures: if exit_code == 0 {
                vec![]
            } else {
                vec!["boom".into()]
            },
            faults: vec![],
            mechanism: None,
        }
    }

    #[test]
    fn evaluate_decides_the_exit_code() {
        let s = scenario("expect: [slots == 0]\n").unwrap();
        let r = evaluate(&s, run_report(0));
        assert_eq!((r.passed, r.exit_code), (true, 0));
        let s = scenario("expect: [slots >= 1, liveness_faults == 0]\n").unwrap();
        let r = evaluate(&s, run_report(0));
        assert_eq!((r.passed, r.exit_code), (false, 1));
        assert_eq!(r.failures, ["expectation `slots >= 1` failed: measured 0"]);
        let t = table(&r);
        assert!(t.contains("FAIL  slots >= 1"), "{t}");
        assert!(t.contains("pass  liveness_faults == 0  measured 0"), "{t}");
        assert!(t.contains("scenario t: FAILED (exit 1)"), "{t}");
        assert_eq!(evaluate(&s, run_report(3)).exit_code, 3);
        assert_eq!(evaluate(&s, run_report(130)).exit_code, 130);
        let ok = scenario("expect: [slots == 0]\n").unwrap();
        assert_eq!(evaluate(&ok, run_report(1)).exit_code, 1);
        let json = serde_json::to_value(evaluate(&ok, run_report(0))).unwrap();
        assert_eq!(json["expectations"][0]["measured"], 0);
        assert_eq!(json["run"]["devnet"], "d");
        assert!(json.get("failures").is_none());
    }
}
