//! The app model and its `update`: the Elm-architecture core shared by the TUI and headless mode.
//!
//! Everything the screen or the headless report shows lives in [`Model`]. Only
//! [`update`] changes it, one [`Msg`] at a time, and it returns the [`Effect`]s the
//! orchestrator must carry out (quit, pause the engine clock, inject an attack).
//! Money is never computed here: stakes, balances and totals are copied from the
//! engine's [`Event`]s, the single source of truth (DESIGN.md "Shape"); the
//! [`OutcomeTotals`] only add up the engine's own settlements.
//!
//! Keys reach [`update`] as [`Action`]s through two tables of data:
//! [`KEYBINDINGS`] for the main screen and [`ATTACK_MENU_KEYBINDINGS`] while the
//! attack menu is open ([`Model::key_context`] says which one is live).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use alloy_primitives::Address;

use crate::node::adversary::{STRATEGY_NAMES, Strategy};
use crate::orchestrator::{Fault, PlanStep};
use crate::protocol::{
    EntryKind, Event, LedgerEntry, LedgerTotals, MessageKind, Outcome, Phase, Role, SetAssignment,
    Settlement, Verdict, WarningKind,
};

/// Default capacity of the [`EventLog`] ring buffer.
pub const DEFAULT_LOG_CAPACITY: usize = 1000;

/// A node the runtime started: its identity and where it listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeInfo {
    /// Human name, e.g. `prover-3`.
    pub name: String,
    /// Its protocol role.
    pub role: Role,
    /// Its address (secp256k1 key), its identity in the protocol.
    pub address: Address,
    /// True for a prover whose key the adversary agent holds.
    pub adversary_controlled: bool,
    /// Its JSON-RPC endpoint, e.g. `127.0.0.1:40123`.
    pub endpoint: String,
}

/// What a node did in the current slot, as far as the engine's events tell.
///
/// Within a slot the status only moves forward in this order (a later variant
/// wins over an earlier one), except [`NodeStatus::Down`], which stays until the
/// runtime reports the node up again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum NodeStatus {
    /// Not selected this slot.
    Idle,
    /// Selected and assigned sub-blocks.
    Selected,
    /// Its T1 commitment was included and valid.
    Committed,
    /// Its partial proofs or a direct full proof were included and valid.
    Proved,
    /// Its aggregated full proof was included and valid.
    Aggregated,
    /// It received a reward this slot.
    Paid,
    /// It suffered a protocol penalty this slot.
    Penalized,
    /// It was slashed this slot.
    Slashed,
    /// The runtime reports it unreachable.
    Down,
}

impl NodeStatus {
    /// Display label, e.g. `paid`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            NodeStatus::Idle => "idle",
            NodeStatus::Selected => "selected",
            NodeStatus::Committed => "committed",
            NodeStatus::Proved => "proved",
            NodeStatus::Aggregated => "aggregated",
            NodeStatus::Paid => "paid",
            NodeStatus::Penalized => "penalized",
            NodeStatus::Slashed => "slashed",
            NodeStatus::Down => "down",
        }
    }
}

/// One row of the nodes table.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeRow {
    /// Who the node is.
    pub info: NodeInfo,
    /// Bonded stake, reward units, as last reported by the engine.
    pub stake: u64,
    /// Liquid balance, reward units, as last reported by the engine.
    pub balance: u64,
    /// This slot's assigned sub-block indices (empty when not selected).
    pub assignment: Vec<u32>,
    /// What it did this slot.
    pub status: NodeStatus,
    /// False while the runtime reports it down.
    pub up: bool,
    /// Why it is down (the runtime's words), empty while up.
    pub down_reason: String,
    /// Its container's state (`running`, `paused`, `exited`, `disconnected`), on
    /// the Docker runtime; `None` in-process.
    pub container: Option<String>,
}

impl NodeRow {
    /// Raise the status to `status` unless the row already shows a later one
    /// (or is down).
    fn raise(&mut self, status: NodeStatus) {
        if self.status != NodeStatus::Down && status > self.status {
            self.status = status;
        }
    }
}

/// How one slot ended, as settled by the engine.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SlotSummary {
    /// Slot.
    pub slot: u64,
    /// Its outcome.
    pub outcome: Outcome,
    /// Rewards minted in the slot (engine's figure).
    pub payments: u64,
    /// The slot's loss (engine's figure: payments + P × liveness fault).
    pub loss: u64,
}

/// Severity of a [`LogLine`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum LogLevel {
    /// Normal progress.
    Info,
    /// Something a node did wrong, or a rejected message.
    Warn,
    /// A liveness fault, a conservation violation or an orchestrator error.
    Error,
}

impl LogLevel {
    /// Fixed-width label, e.g. `WARN`.
    #[must_use]
    pub fn label(self) -> &'static str {
        match self {
            LogLevel::Info => "INFO",
            LogLevel::Warn => "WARN",
            LogLevel::Error => "ERR ",
        }
    }
}

/// One line of the event log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    /// The slot it concerns, if any.
    pub slot: Option<u64>,
    /// Severity.
    pub level: LogLevel,
    /// The text.
    pub text: String,
}

impl LogLine {
    /// An [`LogLevel::Info`] line.
    pub fn info(slot: Option<u64>, text: impl Into<String>) -> Self {
        Self {
            slot,
            level: LogLevel::Info,
            text: text.into(),
        }
    }

    /// A [`LogLevel::Warn`] line.
    pub fn warn(slot: Option<u64>, text: impl Into<String>) -> Self {
        Self {
            slot,
            level: LogLevel::Warn,
            text: text.into(),
        }
    }

    /// A [`LogLevel::Error`] line.
    pub fn error(slot: Option<u64>, text: impl Into<String>) -> Self {
        Self {
            slot,
            level: LogLevel::Error,
            text: text.into(),
        }
    }
}

/// A bounded ring buffer of [`LogLine`]s that counts what it had to drop
/// (tokio-console style: the count is shown, never hidden).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventLog {
    lines: VecDeque<LogLine>,
    capacity: usize,
    dropped: u64,
}

impl Default for EventLog {
    fn default() -> Self {
        Self::with_capacity(DEFAULT_LOG_CAPACITY)
    }
}

impl EventLog {
    /// An empty log keeping at most `capacity` lines (at least one).
    #[must_use]
    pub fn with_capacity(capacity: usize) -> Self {
        let capacity = capacity.max(1);
        Self {
            lines: VecDeque::with_capacity(capacity.min(4096)),
            capacity,
            dropped: 0,
        }
    }

    /// Append a line, dropping (and counting) the oldest one when full.
    pub fn push(&mut self, line: LogLine) {
        if self.lines.len() == self.capacity {
            self.lines.pop_front();
            self.dropped = self.dropped.saturating_add(1);
        }
        self.lines.push_back(line);
    }

    /// The kept lines, oldest first.
    pub fn iter(&self) -> impl DoubleEndedIterator<Item = &LogLine> + ExactSizeIterator {
        self.lines.iter()
    }

    /// Number of kept lines.
    #[must_use]
    pub fn len(&self) -> usize {
        self.lines.len()
    }

    /// True when no line is kept.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.lines.is_empty()
    }

    /// The maximum number of kept lines.
    #[must_use]
    pub fn capacity(&self) -> usize {
        self.capacity
    }

    /// How many lines were dropped because the buffer was full.
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.dropped
    }
}

/// How many detector warnings the model keeps (the count of all of them is kept too).
pub const WARNINGS_CAPACITY: usize = 100;

/// One detector finding, as the engine raised it ([`Event::Warning`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WarningRow {
    /// Slot.
    pub slot: u64,
    /// Phase.
    pub phase: Phase,
    /// The node at fault.
    pub node: Address,
    /// What was detected.
    pub kind: WarningKind,
    /// The engine's detail text.
    pub detail: String,
}

/// What one honest node lost over the run, reward units.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Hurt {
    /// Protocol penalties taken from its stake (applied amounts).
    pub penalties: u64,
    /// Slashes taken from its stake (applied amounts).
    pub slashed: u64,
}

impl Hurt {
    /// Penalties plus slashes.
    #[must_use]
    pub fn total(self) -> u64 {
        self.penalties.saturating_add(self.slashed)
    }
}

/// The run's outcome so far, added up from the engine's [`Settlement`]s only
/// (never from loose ledger events, so nothing is counted twice).
///
/// The attacker is every node marked [`NodeInfo::adversary_controlled`] (and the
/// adversary agent itself); every other node is honest.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct OutcomeTotals {
    /// Settlements added up.
    pub slots: u64,
    /// Stake slashed from adversary-controlled provers (applied amounts).
    pub attacker_slashed: u64,
    /// Protocol penalties taken from adversary-controlled provers (applied amounts).
    pub attacker_penalties: u64,
    /// Rewards paid to adversary-controlled provers.
    pub attacker_rewards: u64,
    /// Σ settlement payments (rewards minted).
    pub payments: u64,
    /// Σ settlement loss: payments + P × liveness faults (the paper's loss).
    pub loss: u64,
    /// Slots that ended in a liveness fault.
    pub liveness_faults: u64,
    /// Honest nodes that were penalized or slashed, with what they lost.
    pub honest_hurt: BTreeMap<Address, Hurt>,
}

impl OutcomeTotals {
    /// What left the attacker's stake: slashes plus penalties.
    #[must_use]
    pub fn attacker_lost(&self) -> u64 {
        self.attacker_slashed
            .saturating_add(self.attacker_penalties)
    }

    /// The liveness part of the loss: Σ loss − Σ payments = P × liveness faults.
    #[must_use]
    pub fn liveness_loss(&self) -> u64 {
        self.loss.saturating_sub(self.payments)
    }

    /// Add one settlement; `is_attacker` tells adversary-controlled accounts apart.
    pub fn add(&mut self, s: &Settlement, is_attacker: impl Fn(&Address) -> bool) {
        self.slots = self.slots.saturating_add(1);
        self.payments = self.payments.saturating_add(s.payments);
        self.loss = self.loss.saturating_add(s.loss);
        if s.outcome == Outcome::LivenessFault {
            self.liveness_faults = self.liveness_faults.saturating_add(1);
        }
        for e in &s.entries {
            let attacker = is_attacker(&e.node);
            match (e.kind, attacker) {
                (EntryKind::Reward, true) => {
                    self.attacker_rewards = self.attacker_rewards.saturating_add(e.amount);
                }
                (EntryKind::Reward, false) => {}
                (EntryKind::Penalty, true) => {
                    self.attacker_penalties = self.attacker_penalties.saturating_add(e.applied);
                }
                (EntryKind::Slash, true) => {
                    self.attacker_slashed = self.attacker_slashed.saturating_add(e.applied);
                }
                (EntryKind::Penalty, false) => {
                    let h = self.honest_hurt.entry(e.node).or_default();
                    h.penalties = h.penalties.saturating_add(e.applied);
                }
                (EntryKind::Slash, false) => {
                    let h = self.honest_hurt.entry(e.node).or_default();
                    h.slashed = h.slashed.saturating_add(e.applied);
                }
            }
        }
    }
}

/// A field of the [`AttackMenu`], in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum MenuField {
    /// The strategy list.
    Strategy,
    /// The strategy's number (parameterized strategies only).
    Param,
    /// The adversary-controlled provers to switch.
    Targets,
    /// The slot before which the switch applies.
    Slot,
}

/// One strategy the attack menu offers, read from [`STRATEGY_NAMES`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StrategyChoice {
    /// The name the adversary parses, e.g. `sybil`.
    pub name: &'static str,
    /// For a parameterized strategy, its parameter's name and default, e.g.
    /// `("capacity", 2)`.
    pub param: Option<(&'static str, u32)>,
}

/// Every strategy of [`STRATEGY_NAMES`], in its order. A parameterized entry
/// (`sybil[:capacity]`) gets the default its [`Strategy`] parser gives it.
#[must_use]
pub fn strategy_choices() -> Vec<StrategyChoice> {
    STRATEGY_NAMES
        .iter()
        .map(|&entry| match entry.split_once("[:") {
            Some((name, rest)) => {
                let default = name
                    .parse::<Strategy>()
                    .ok()
                    .and_then(|s| {
                        s.to_string()
                            .split_once(':')
                            .and_then(|(_, n)| n.parse().ok())
                    })
                    .unwrap_or(1);
                StrategyChoice {
                    name,
                    param: Some((rest.trim_end_matches(']'), default)),
                }
            }
            None => StrategyChoice {
                name: entry,
                param: None,
            },
        })
        .collect()
}

/// True for a strategy string that stops an attack (`honest`, `none`).
#[must_use]
pub fn is_honest(strategy: &str) -> bool {
    matches!(strategy.parse::<Strategy>(), Ok(Strategy::Honest))
}

/// The largest value the attack menu's number field takes.
pub const MENU_PARAM_MAX: u32 = 999;

/// The attack menu's state: what the user picked so far.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AttackMenu {
    /// The focused field.
    pub field: MenuField,
    /// Index into [`strategy_choices`].
    pub strategy: usize,
    /// The chosen strategy's number (its default when it was picked).
    pub param: u32,
    /// The adversary-controlled provers by name, and whether each is a target.
    pub targets: Vec<(String, bool)>,
    /// The highlighted target.
    pub cursor: usize,
    /// The slot before which the step applies.
    pub slot: u64,
    /// The lowest slot offered: the running one (applied at once).
    pub min_slot: u64,
    /// True once the user changed the slot; until then it follows the next slot.
    pub slot_edited: bool,
    /// Why the last Enter did not launch, if it did not.
    pub error: Option<String>,
}

impl AttackMenu {
    /// A menu for `model`: the first attack strategy, every adversary-controlled
    /// prover, the next slot.
    #[must_use]
    pub fn new(model: &Model) -> Self {
        let choices = strategy_choices();
        let strategy = choices.iter().position(|c| !is_honest(c.name)).unwrap_or(0);
        let targets = model
            .nodes
            .iter()
            .filter(|r| r.info.adversary_controlled)
            .map(|r| (r.info.name.clone(), true))
            .collect();
        Self {
            field: MenuField::Strategy,
            strategy,
            param: choices
                .get(strategy)
                .and_then(|c| c.param)
                .map_or(0, |(_, d)| d),
            targets,
            cursor: 0,
            slot: model.next_slot(),
            min_slot: model.slot.unwrap_or(0),
            slot_edited: false,
            error: None,
        }
    }

    /// The chosen strategy.
    #[must_use]
    pub fn choice(&self) -> StrategyChoice {
        strategy_choices()[self.strategy]
    }

    /// The strategy string the adversary parses, e.g. `invalid_proof` or `sybil:3`.
    #[must_use]
    pub fn strategy_arg(&self) -> String {
        let c = self.choice();
        match c.param {
            Some(_) => format!("{}:{}", c.name, self.param),
            None => c.name.to_owned(),
        }
    }

    /// The fields of the menu, in Tab order (the number field only when the
    /// strategy takes one).
    #[must_use]
    pub fn fields(&self) -> Vec<MenuField> {
        let mut f = vec![MenuField::Strategy];
        if self.choice().param.is_some() {
            f.push(MenuField::Param);
        }
        f.extend([MenuField::Targets, MenuField::Slot]);
        f
    }

    /// The plan step Enter launches. Every target picked means all of them (an
    /// empty target list, which also covers identities the adversary adds later).
    ///
    /// # Errors
    /// No target is picked while there are some to pick.
    pub fn plan_step(&self) -> Result<PlanStep, String> {
        let picked: Vec<String> = self
            .targets
            .iter()
            .filter(|(_, on)| *on)
            .map(|(n, _)| n.clone())
            .collect();
        if picked.is_empty() && !self.targets.is_empty() {
            return Err("pick at least one target (Space)".to_owned());
        }
        let targets = if picked.len() == self.targets.len() {
            Vec::new()
        } else {
            picked
        };
        Ok(PlanStep {
            slot: self.slot,
            fault: Fault::Strategy {
                strategy: self.strategy_arg(),
                targets,
            },
        })
    }

    fn move_field(&mut self, forward: bool) {
        let fields = self.fields();
        let i = fields.iter().position(|f| *f == self.field).unwrap_or(0);
        let n = fields.len();
        self.field = fields[if forward {
            (i + 1) % n
        } else {
            (i + n - 1) % n
        }];
    }

    fn select_strategy(&mut self, index: usize) {
        let choices = strategy_choices();
        self.strategy = index.min(choices.len() - 1);
        self.param = choices[self.strategy].param.map_or(0, |(_, d)| d);
    }

    fn bump_slot(&mut self, up: bool) {
        self.slot_edited = true;
        self.slot = if up {
            self.slot.saturating_add(1)
        } else {
            self.slot.saturating_sub(1).max(self.min_slot)
        };
    }

    fn bump_param(&mut self, up: bool) {
        self.param = if up {
            (self.param + 1).min(MENU_PARAM_MAX)
        } else {
            self.param.saturating_sub(1).max(1)
        };
    }

    /// ↑ (`up`) or ↓ inside the focused field.
    fn step(&mut self, up: bool) {
        match self.field {
            MenuField::Strategy => {
                let i = if up {
                    self.strategy.saturating_sub(1)
                } else {
                    self.strategy + 1
                };
                self.select_strategy(i);
            }
            MenuField::Param => self.bump_param(up),
            MenuField::Targets => {
                self.cursor = if up {
                    self.cursor.saturating_sub(1)
                } else {
                    (self.cursor + 1).min(self.targets.len().saturating_sub(1))
                };
            }
            MenuField::Slot => self.bump_slot(up),
        }
    }
}

/// Everything the TUI and the headless report display.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    /// Devnet name (from the YAML).
    pub devnet: String,
    /// Runtime in use, e.g. `inproc` or `docker`.
    pub runtime: String,
    /// The run's seed.
    pub seed: u64,
    /// One row per started node, in start order.
    pub nodes: Vec<NodeRow>,
    /// The current slot, once one started.
    pub slot: Option<u64>,
    /// The current phase, once one opened.
    pub phase: Option<Phase>,
    /// Seconds elapsed in the current phase (from the orchestrator's clock).
    pub phase_elapsed_s: f64,
    /// Length of the current phase window, seconds (0 when unknown).
    pub phase_window_s: f64,
    /// Number of slots to run (headless `--slots N`), if bounded.
    pub slots_target: Option<u64>,
    /// Settled slots, oldest first.
    pub history: Vec<SlotSummary>,
    /// The event log.
    pub log: EventLog,
    /// True while the user paused the devnet.
    pub paused: bool,
    /// True while the help popup is shown.
    pub show_help: bool,
    /// Set when the user asked to quit.
    pub should_quit: bool,
    /// Ledger totals from the last `Genesis` or `Settled` event.
    pub totals: Option<LedgerTotals>,
    /// The engine's conservation check from the last settlement (true until one fails).
    pub conservation_ok: bool,
    /// Index of the highlighted row of the nodes table.
    pub selected_node: usize,
    /// The current slot's proposer.
    pub proposer: Option<Address>,
    /// The attack menu, while it is open.
    pub attack_menu: Option<AttackMenu>,
    /// The attack running now (a non-honest strategy switched on and not stopped),
    /// e.g. `invalid_proof` or `steal on prover-7`.
    pub attack: Option<String>,
    /// Slots that were attacked: a fault applied before or during them, or an
    /// attack running when they started.
    pub attacked: BTreeSet<u64>,
    /// The latest detector warnings, oldest first (at most [`WARNINGS_CAPACITY`]).
    pub warnings: VecDeque<WarningRow>,
    /// Every detector warning seen, kept or not.
    pub warnings_total: u64,
    /// What the attacker and the protocol lost so far, from the settlements.
    pub outcome: OutcomeTotals,
    /// Set while the runtime cannot reach its backend (the Docker daemon): the
    /// sentence to show; `None` when connected or in-process.
    pub runtime_connection: Option<String>,
    /// Every fault applied, in order: (slot, what).
    pub faults: Vec<(u64, String)>,
    /// The devnet's mechanism and its parameters ([`Event::MechanismChosen`]), shown in
    /// the header; `None` until the engine announces it.
    pub mechanism: Option<(String, Vec<(String, String)>)>,
}

impl Model {
    /// An empty model for devnet `devnet` on runtime `runtime` with seed `seed`.
    #[must_use]
    pub fn new(devnet: &str, runtime: &str, seed: u64) -> Self {
        Self {
            devnet: devnet.to_owned(),
            runtime: runtime.to_owned(),
            seed,
            nodes: Vec::new(),
            slot: None,
            phase: None,
            phase_elapsed_s: 0.0,
            phase_window_s: 0.0,
            slots_target: None,
            history: Vec::new(),
            log: EventLog::default(),
            paused: false,
            show_help: false,
            should_quit: false,
            totals: None,
            conservation_ok: true,
            selected_node: 0,
            proposer: None,
            attack_menu: None,
            attack: None,
            attacked: BTreeSet::new(),
            warnings: VecDeque::new(),
            warnings_total: 0,
            outcome: OutcomeTotals::default(),
            runtime_connection: None,
            faults: Vec::new(),
            mechanism: None,
        }
    }

    /// The next slot to start: one past the current slot, or 0 before any started.
    #[must_use]
    pub fn next_slot(&self) -> u64 {
        self.slot.map_or(0, |s| s.saturating_add(1))
    }

    /// Which keybindings are live: the attack menu's while it is open (and the
    /// help popup is not over it), the main screen's otherwise.
    #[must_use]
    pub fn key_context(&self) -> KeyContext {
        if self.attack_menu.is_some() && !self.show_help {
            KeyContext::AttackMenu
        } else {
            KeyContext::Main
        }
    }

    /// True for an account the adversary holds: an adversary-controlled prover or
    /// the adversary agent itself.
    #[must_use]
    pub fn is_attacker(&self, address: &Address) -> bool {
        self.node(address)
            .is_some_and(|r| r.info.adversary_controlled || r.info.role == Role::Adversary)
    }

    /// The row of the node with `address`.
    #[must_use]
    pub fn node(&self, address: &Address) -> Option<&NodeRow> {
        self.nodes.iter().find(|r| r.info.address == *address)
    }

    fn node_mut(&mut self, address: &Address) -> Option<&mut NodeRow> {
        self.nodes.iter_mut().find(|r| r.info.address == *address)
    }

    /// `prover-3 (0x1234…abcd)` for a known node, the short address otherwise.
    #[must_use]
    pub fn node_label(&self, address: &Address) -> String {
        match self.node(address) {
            Some(r) => format!("{} ({})", r.info.name, short_addr(address)),
            None => short_addr(address),
        }
    }
}

/// Everything that can change the [`Model`].
#[derive(Debug, Clone, PartialEq)]
pub enum Msg {
    /// The runtime started these nodes (replaces the node table).
    NodesStarted(Vec<NodeInfo>),
    /// The engine emitted an event.
    Engine(Event),
    /// The orchestrator's clock inside the current phase.
    PhaseProgress {
        /// Slot.
        slot: u64,
        /// Phase.
        phase: Phase,
        /// Seconds elapsed in the phase.
        elapsed_s: f64,
        /// Length of the phase window, seconds.
        window_s: f64,
    },
    /// The runtime lost a node.
    NodeDown {
        /// The node.
        address: Address,
        /// Why (for the log).
        reason: String,
    },
    /// The runtime reaches a node again.
    NodeUp {
        /// The node.
        address: Address,
    },
    /// A line for the event log from the orchestrator.
    Log(LogLine),
    /// The Docker runtime saw a node's container change state (`running`,
    /// `paused`, `exited`, `restarting`, `disconnected`, `removed`).
    ContainerState {
        /// The node.
        address: Address,
        /// The new state.
        state: String,
    },
    /// The runtime lost or regained its connection (the Docker daemon).
    RuntimeConnection {
        /// True when reachable again.
        connected: bool,
        /// One sentence for the log and the footer.
        detail: String,
    },
    /// A user action (a key mapped through [`KEYBINDINGS`]).
    Key(Action),
    /// A timer tick (no state change today; lets views animate later).
    Tick,
    /// The orchestrator applied a fault or switched the adversary's strategy
    /// before or during `slot`.
    FaultApplied {
        /// The slot it affects (the next slot to start, or the running one).
        slot: u64,
        /// What was done.
        fault: crate::orchestrator::Fault,
    },
}

/// A user action.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Action {
    /// Quit dpgnet.
    Quit,
    /// Pause or resume the devnet.
    TogglePause,
    /// Show or hide the help popup.
    ToggleHelp,
    /// Hide the help popup if shown.
    CloseHelp,
    /// Move the node cursor up.
    Up,
    /// Move the node cursor down.
    Down,
    /// Kill the selected node.
    KillNode,
    /// Pause the selected node, or unpause it if paused.
    PauseNode,
    /// Restart the selected node.
    RestartNode,
    /// Cut the selected node off the network, or put it back.
    DisconnectNode,
    /// Open the attack menu.
    OpenAttackMenu,
    /// Switch every adversary-controlled prover back to `honest`, at once.
    StopAttack,
    /// Attack menu: focus the next field.
    MenuNextField,
    /// Attack menu: focus the previous field.
    MenuPrevField,
    /// Attack menu: previous strategy or target, or the focused number + 1.
    MenuUp,
    /// Attack menu: next strategy or target, or the focused number − 1.
    MenuDown,
    /// Attack menu: pick or unpick the highlighted target.
    MenuToggle,
    /// Attack menu: the focused number (the slot unless the strategy's number is
    /// focused) + 1.
    MenuPlus,
    /// Attack menu: the focused number (the slot unless the strategy's number is
    /// focused) − 1.
    MenuMinus,
    /// Attack menu: launch the attack.
    MenuLaunch,
    /// Attack menu: close without launching.
    MenuClose,
}

/// What the orchestrator must do after an [`update`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Effect {
    /// Stop the devnet and exit.
    Quit,
    /// Pause (`true`) or resume (`false`) the engine's clock.
    SetPaused(bool),
    /// Apply a plan step live (an attack from the menu, or stopping it); the
    /// orchestrator answers with [`Msg::FaultApplied`] once it applied it.
    Inject(PlanStep),
}

/// A key, independent of the terminal library.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Key {
    /// A printable character without modifiers (besides Shift).
    Char(char),
    /// A character pressed with Ctrl.
    Ctrl(char),
    /// Arrow up.
    Up,
    /// Arrow down.
    Down,
    /// Arrow left.
    Left,
    /// Arrow right.
    Right,
    /// Tab.
    Tab,
    /// Shift-Tab.
    BackTab,
    /// Enter.
    Enter,
    /// Escape.
    Esc,
}

impl Key {
    /// Display label, e.g. `q`, `↑`, `Esc`, `Ctrl-c`, `Space`.
    #[must_use]
    pub fn label(self) -> String {
        match self {
            Key::Char(' ') => "Space".to_owned(),
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{c}"),
            Key::Up => "↑".to_owned(),
            Key::Down => "↓".to_owned(),
            Key::Left => "←".to_owned(),
            Key::Right => "→".to_owned(),
            Key::Tab => "Tab".to_owned(),
            Key::BackTab => "S-Tab".to_owned(),
            Key::Enter => "Enter".to_owned(),
            Key::Esc => "Esc".to_owned(),
        }
    }
}

/// One keybinding: the key, the action and what the help popup says about it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Keybinding {
    /// The key.
    pub key: Key,
    /// The action it triggers.
    pub action: Action,
    /// Help text.
    pub description: &'static str,
}

/// Which keybinding table is live.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyContext {
    /// The main screen: [`KEYBINDINGS`].
    Main,
    /// The attack menu is open: [`ATTACK_MENU_KEYBINDINGS`].
    AttackMenu,
}

impl KeyContext {
    /// The keybindings of this context, in help-popup order.
    #[must_use]
    pub fn bindings(self) -> &'static [Keybinding] {
        match self {
            KeyContext::Main => KEYBINDINGS,
            KeyContext::AttackMenu => ATTACK_MENU_KEYBINDINGS,
        }
    }
}

const fn bind(key: Key, action: Action, description: &'static str) -> Keybinding {
    Keybinding {
        key,
        action,
        description,
    }
}

/// Every main-screen keybinding, in help-popup order. Used both to map keys and
/// to render help and the footer.
pub const KEYBINDINGS: &[Keybinding] = &[
    bind(Key::Char('q'), Action::Quit, "quit (stops the devnet)"),
    bind(Key::Ctrl('c'), Action::Quit, "quit (stops the devnet)"),
    bind(Key::Char('p'), Action::TogglePause, "pause / resume"),
    bind(Key::Char('?'), Action::ToggleHelp, "show / hide this help"),
    bind(Key::Esc, Action::CloseHelp, "close this help"),
    bind(Key::Up, Action::Up, "previous node"),
    bind(Key::Down, Action::Down, "next node"),
    bind(Key::Char('j'), Action::Down, "next node"),
    bind(
        Key::Char('k'),
        Action::KillNode,
        "kill the selected node (docker kill)",
    ),
    bind(
        Key::Char('z'),
        Action::PauseNode,
        "pause / unpause the selected node",
    ),
    bind(
        Key::Char('r'),
        Action::RestartNode,
        "restart the selected node (docker)",
    ),
    bind(
        Key::Char('x'),
        Action::DisconnectNode,
        "disconnect / reconnect the selected node (docker)",
    ),
    bind(
        Key::Char('a'),
        Action::OpenAttackMenu,
        "attack menu: strategy, targets, slot",
    ),
    bind(
        Key::Char('h'),
        Action::StopAttack,
        "stop the attack (strategy honest, now)",
    ),
];

/// The attack menu's keybindings, live while it is open, in help-popup order.
pub const ATTACK_MENU_KEYBINDINGS: &[Keybinding] = &[
    bind(Key::Tab, Action::MenuNextField, "next field"),
    bind(Key::Right, Action::MenuNextField, "next field"),
    bind(Key::BackTab, Action::MenuPrevField, "previous field"),
    bind(Key::Left, Action::MenuPrevField, "previous field"),
    bind(Key::Up, Action::MenuUp, "previous item / number + 1"),
    bind(Key::Char('k'), Action::MenuUp, "previous item / number + 1"),
    bind(Key::Down, Action::MenuDown, "next item / number − 1"),
    bind(Key::Char('j'), Action::MenuDown, "next item / number − 1"),
    bind(Key::Char(' '), Action::MenuToggle, "pick / unpick a target"),
    bind(
        Key::Char('+'),
        Action::MenuPlus,
        "slot (or focused number) + 1",
    ),
    bind(
        Key::Char('='),
        Action::MenuPlus,
        "slot (or focused number) + 1",
    ),
    bind(
        Key::Char('-'),
        Action::MenuMinus,
        "slot (or focused number) − 1",
    ),
    bind(Key::Enter, Action::MenuLaunch, "launch the attack"),
    bind(Key::Esc, Action::MenuClose, "close the menu"),
    bind(Key::Char('?'), Action::ToggleHelp, "show / hide this help"),
    bind(Key::Ctrl('c'), Action::Quit, "quit (stops the devnet)"),
];

/// The main-screen action bound to `key`, if any.
#[must_use]
pub fn action_for(key: Key) -> Option<Action> {
    action_in(KeyContext::Main, key)
}

/// The action bound to `key` in `context`, if any.
#[must_use]
pub fn action_in(context: KeyContext, key: Key) -> Option<Action> {
    context
        .bindings()
        .iter()
        .find(|b| b.key == key)
        .map(|b| b.action)
}

/// `0x1234…abcd`: the first and last two bytes of an address, lowercase hex.
#[must_use]
pub fn short_addr(address: &Address) -> String {
    let hex = hex::encode(address.as_slice());
    format!("0x{}…{}", &hex[..4], &hex[hex.len() - 4..])
}

/// Apply `msg` to `model`; the returned effects are for the orchestrator.
pub fn update(model: &mut Model, msg: Msg) -> Vec<Effect> {
    match msg {
        Msg::NodesStarted(infos) => {
            model.log.push(LogLine::info(
                None,
                format!("{} nodes started", infos.len()),
            ));
            model.nodes = infos
                .into_iter()
                .map(|info| NodeRow {
                    info,
                    stake: 0,
                    balance: 0,
                    assignment: Vec::new(),
                    status: NodeStatus::Idle,
                    up: true,
                    down_reason: String::new(),
                    container: None,
                })
                .collect();
            model.selected_node = model.selected_node.min(model.nodes.len().saturating_sub(1));
        }
        Msg::Engine(event) => on_event(model, event),
        Msg::PhaseProgress {
            slot,
            phase,
            elapsed_s,
            window_s,
        } => {
            model.slot = Some(slot);
            model.phase = Some(phase);
            model.phase_elapsed_s = elapsed_s;
            model.phase_window_s = window_s;
        }
        Msg::NodeDown { address, reason } => {
            let label = model.node_label(&address);
            if let Some(row) = model.node_mut(&address) {
                row.up = false;
                row.status = NodeStatus::Down;
                row.down_reason.clone_from(&reason);
            }
            model.log.push(LogLine::error(
                model.slot,
                format!("{label} down: {reason}"),
            ));
        }
        Msg::NodeUp { address } => {
            let label = model.node_label(&address);
            if let Some(row) = model.node_mut(&address) {
                row.up = true;
                row.down_reason.clear();
                if row.status == NodeStatus::Down {
                    row.status = if row.assignment.is_empty() {
                        NodeStatus::Idle
                    } else {
                        NodeStatus::Selected
                    };
                }
            }
            model
                .log
                .push(LogLine::info(model.slot, format!("{label} up again")));
        }
        Msg::Log(line) => model.log.push(line),
        Msg::ContainerState { address, state } => {
            let label = model.node_label(&address);
            let slot = model.slot;
            if let Some(row) = model.node_mut(&address) {
                let first = row.container.is_none();
                row.container = Some(state.clone());
                let running = state == "running";
                if running && !row.up {
                    row.up = true;
                    row.down_reason.clear();
                    if row.status == NodeStatus::Down {
                        row.status = NodeStatus::Idle;
                    }
                } else if !running && row.up {
                    row.up = false;
                    row.status = NodeStatus::Down;
                    row.down_reason = format!("container {state}");
                }
                if !first || !running {
                    model
                        .log
                        .push(LogLine::warn(slot, format!("{label}: container {state}")));
                }
            }
        }
        Msg::RuntimeConnection { connected, detail } => {
            model.runtime_connection = (!connected).then(|| detail.clone());
            model.log.push(if connected {
                LogLine::info(model.slot, detail)
            } else {
                LogLine::error(model.slot, detail)
            });
        }
        Msg::Key(action) => return on_action(model, action),
        Msg::Tick => {}
        Msg::FaultApplied { slot, fault } => on_fault_applied(model, slot, &fault),
    }
    Vec::new()
}

/// Mark the slot a fault hit and track the running attack. A non-honest strategy
/// starts (or changes) the attack, `honest` on every prover stops it; kill and
/// pause mark their slot only.
fn on_fault_applied(model: &mut Model, slot: u64, fault: &Fault) {
    model
        .log
        .push(LogLine::warn(Some(slot), format!("fault: {fault}")));
    model.faults.push((slot, fault.to_string()));
    match fault {
        Fault::Strategy { strategy, targets } if is_honest(strategy) => {
            if targets.is_empty() {
                model.attack = None;
            }
        }
        Fault::Strategy { strategy, targets } => {
            model.attack = Some(if targets.is_empty() {
                strategy.clone()
            } else {
                format!("{strategy} on {}", targets.join(", "))
            });
            model.attacked.insert(slot);
        }
        Fault::Kill(_) | Fault::Pause(_) | Fault::Restart(_) | Fault::Disconnect(_) => {
            model.attacked.insert(slot);
        }
        Fault::Resume(_) | Fault::Reconnect(_) => {}
    }
}

fn on_action(model: &mut Model, action: Action) -> Vec<Effect> {
    match action {
        Action::Quit => {
            model.should_quit = true;
            return vec![Effect::Quit];
        }
        Action::TogglePause => {
            model.paused = !model.paused;
            return vec![Effect::SetPaused(model.paused)];
        }
        Action::ToggleHelp => model.show_help = !model.show_help,
        Action::CloseHelp => model.show_help = false,
        Action::Up => model.selected_node = model.selected_node.saturating_sub(1),
        Action::Down => {
            model.selected_node =
                (model.selected_node + 1).min(model.nodes.len().saturating_sub(1));
        }
        Action::KillNode | Action::PauseNode | Action::RestartNode | Action::DisconnectNode => {
            return on_node_fault(model, action);
        }
        Action::OpenAttackMenu => {
            if model.attack_menu.is_none() {
                model.attack_menu = Some(AttackMenu::new(model));
            }
            model.show_help = false;
        }
        Action::StopAttack => {
            let step = PlanStep {
                slot: model.slot.unwrap_or(0),
                fault: Fault::Strategy {
                    strategy: "honest".to_owned(),
                    targets: Vec::new(),
                },
            };
            model.log.push(LogLine::info(
                model.slot,
                "stop attack requested: strategy honest on every corrupted prover",
            ));
            return vec![Effect::Inject(step)];
        }
        Action::MenuNextField
        | Action::MenuPrevField
        | Action::MenuUp
        | Action::MenuDown
        | Action::MenuToggle
        | Action::MenuPlus
        | Action::MenuMinus
        | Action::MenuLaunch
        | Action::MenuClose => return on_menu_action(model, action),
    }
    Vec::new()
}

/// A fault key (`k`, `z`, `r`, `x`) on the highlighted node: inject the fault now.
/// Pause and disconnect toggle on the node's container state. Corrupted provers
/// have no process of their own (the adversary agent holds their keys).
fn on_node_fault(model: &mut Model, action: Action) -> Vec<Effect> {
    let Some(row) = model.nodes.get(model.selected_node) else {
        return Vec::new();
    };
    let name = row.info.name.clone();
    if row.info.adversary_controlled {
        model.log.push(LogLine::warn(
            model.slot,
            format!("{name} runs inside the adversary agent: select adversary-0 to fault it"),
        ));
        return Vec::new();
    }
    let state = row.container.as_deref().unwrap_or("");
    let fault = match action {
        Action::KillNode => Fault::Kill(name),
        Action::PauseNode
            if state == "paused"
                || (row.status == NodeStatus::Down && row.down_reason.starts_with("paused")) =>
        {
            Fault::Resume(name)
        }
        Action::PauseNode => Fault::Pause(name),
        Action::RestartNode => Fault::Restart(name),
        _ if state == "disconnected" => Fault::Reconnect(name),
        _ => Fault::Disconnect(name),
    };
    model.log.push(LogLine::warn(
        model.slot,
        format!("fault requested: {fault}"),
    ));
    vec![Effect::Inject(PlanStep {
        slot: model.slot.unwrap_or(0),
        fault,
    })]
}

/// An attack-menu action; ignored while the menu is closed.
fn on_menu_action(model: &mut Model, action: Action) -> Vec<Effect> {
    let Some(menu) = model.attack_menu.as_mut() else {
        return Vec::new();
    };
    if action != Action::MenuLaunch {
        menu.error = None;
    }
    match action {
        Action::MenuNextField => menu.move_field(true),
        Action::MenuPrevField => menu.move_field(false),
        Action::MenuUp => menu.step(true),
        Action::MenuDown => menu.step(false),
        Action::MenuToggle => {
            if menu.field == MenuField::Targets
                && let Some((_, on)) = menu.targets.get_mut(menu.cursor)
            {
                *on = !*on;
            }
        }
        Action::MenuPlus | Action::MenuMinus => {
            let up = action == Action::MenuPlus;
            if menu.field == MenuField::Param {
                menu.bump_param(up);
            } else {
                menu.bump_slot(up);
            }
        }
        Action::MenuLaunch => match menu.plan_step() {
            Ok(step) => {
                let when = if model.slot.is_some_and(|s| step.slot <= s) {
                    "now".to_owned()
                } else {
                    format!("before slot {}", step.slot)
                };
                model.log.push(LogLine::info(
                    model.slot,
                    format!("attack queued: {} ({when})", step.fault),
                ));
                model.attack_menu = None;
                return vec![Effect::Inject(step)];
            }
            Err(e) => menu.error = Some(e),
        },
        Action::MenuClose => model.attack_menu = None,
        _ => {}
    }
    Vec::new()
}

fn on_event(model: &mut Model, event: Event) {
    match event {
        Event::AggGroupSelected { slot, group } => {
            let names: Vec<String> = group.iter().map(|a| model.node_label(a)).collect();
            model.log.push(LogLine::info(
                Some(slot),
                format!("AggProof group: {}", names.join(", ")),
            ));
        }
        Event::Genesis { accounts, totals } => {
            for a in &accounts {
                if let Some(row) = model.node_mut(&a.address) {
                    row.stake = a.stake;
                    row.balance = a.balance;
                }
            }
            model.totals = Some(totals);
            model.log.push(LogLine::info(
                None,
                format!(
                    "genesis: {} accounts, {} reward units",
                    accounts.len(),
                    totals.genesis
                ),
            ));
        }
        Event::SlotStarted {
            slot,
            block,
            proposer,
            sets,
            ..
        } => on_slot_started(model, slot, block, proposer, &sets),
        Event::PhaseOpened { slot, phase } => {
            model.slot = Some(slot);
            model.phase = Some(phase);
            model.phase_elapsed_s = 0.0;
        }
        Event::MessageIncluded {
            slot,
            phase,
            from,
            kind,
            proofs,
            verdict,
            accepted,
            rejection,
        } => {
            let label = model.node_label(&from);
            let what = kind_label(kind);
            if accepted && verdict.is_valid() {
                if let Some(row) = model.node_mut(&from) {
                    row.raise(match kind {
                        MessageKind::Commit => NodeStatus::Committed,
                        MessageKind::Partials | MessageKind::FullProof => NodeStatus::Proved,
                        MessageKind::Aggregate | MessageKind::AggProof => NodeStatus::Aggregated,
                    });
                }
                let proofs = match proofs {
                    0 => String::new(),
                    1 => ", 1 proof".to_owned(),
                    n => format!(", {n} proofs"),
                };
                model.log.push(LogLine::info(
                    Some(slot),
                    format!("{phase}: {what} from {label} included{proofs}"),
                ));
            } else {
                let mut why = Vec::new();
                if !accepted {
                    why.push(format!(
                        "rejected: {}",
                        rejection.as_deref().unwrap_or("no reason given")
                    ));
                }
                if let Verdict::Invalid(reason) = &verdict {
                    why.push(format!("invalid: {reason}"));
                }
                model.log.push(LogLine::warn(
                    Some(slot),
                    format!("{phase}: {what} from {label} {}", why.join("; ")),
                ));
            }
        }
        Event::Warning {
            slot,
            phase,
            node,
            kind,
            detail,
        } => {
            let label = model.node_label(&node);
            let text = if detail.is_empty() {
                String::new()
            } else {
                format!(": {detail}")
            };
            model.log.push(LogLine::warn(
                Some(slot),
                format!("{phase}: ⚠ {} by {label}{text}", warning_label(kind)),
            ));
            if model.warnings.len() == WARNINGS_CAPACITY {
                model.warnings.pop_front();
            }
            model.warnings.push_back(WarningRow {
                slot,
                phase,
                node,
                kind,
                detail,
            });
            model.warnings_total = model.warnings_total.saturating_add(1);
        }
        Event::PhaseClosed {
            slot,
            phase,
            finalized,
        } => {
            if model.slot == Some(slot) && model.phase == Some(phase) {
                model.phase_elapsed_s = model.phase_window_s;
            }
            if finalized {
                model.log.push(LogLine::info(
                    Some(slot),
                    format!("{phase}: full proof finalized"),
                ));
            }
        }
        Event::Ledger(entry) => on_ledger(model, &entry),
        Event::Settled(s) => on_settled(model, &s),
        Event::MechanismChosen { kind, params } => {
            model
                .log
                .push(LogLine::info(None, format!("mechanism: {kind}")));
            model.mechanism = Some((kind, params));
        }
        Event::MechanismSettled {
            slot,
            kind,
            request,
            delivered,
            payments,
            slashes,
            ..
        } => {
            let line = mechanism_line(model, &kind, &request, &delivered, &payments, &slashes);
            model.log.push(LogLine::info(Some(slot), line));
        }
        Event::Ejected { slot, node, stake } => {
            let label = model.node_label(&node);
            model.log.push(LogLine::warn(
                Some(slot),
                format!("{label} ejected from the prover set (stake {stake})"),
            ));
        }
    }
}

/// One log line per settled slot: who the mechanism asked (`*` the designate), who
/// delivered, who was paid and slashed (reward units).
fn mechanism_line(
    model: &Model,
    kind: &str,
    request: &crate::mechanism::rules::Request,
    delivered: &[Address],
    payments: &[(Address, u64)],
    slashes: &[(Address, u64)],
) -> String {
    let name = |a: &Address| {
        model
            .node(a)
            .map_or_else(|| short_addr(a), |r| r.info.name.clone())
    };
    let names = |v: &mut dyn Iterator<Item = String>| {
        let v: Vec<String> = v.collect();
        if v.is_empty() {
            "–".to_owned()
        } else {
            v.join(", ")
        }
    };
    let asked = names(&mut request.asked.iter().map(|a| {
        let star = if request.designated == Some(*a) {
            "*"
        } else {
            ""
        };
        format!("{}{star}", name(a))
    }));
    let got = names(&mut delivered.iter().map(&name));
    let paid = names(&mut payments.iter().map(|(a, n)| format!("{} {n}", name(a))));
    let mut line = format!("{kind}: asked {asked}; delivered {got}; paid {paid}");
    if !slashes.is_empty() {
        let cut = names(&mut slashes.iter().map(|(a, n)| format!("{} {n}", name(a))));
        line.push_str(&format!("; slashed {cut}"));
    }
    line
}

fn on_slot_started(
    model: &mut Model,
    slot: u64,
    block: u64,
    proposer: Address,
    sets: &[SetAssignment],
) {
    model.slot = Some(slot);
    model.phase = None;
    model.phase_elapsed_s = 0.0;
    model.proposer = Some(proposer);
    if model.attack.is_some() {
        model.attacked.insert(slot);
    }
    if let Some(menu) = model.attack_menu.as_mut() {
        menu.min_slot = slot;
        menu.slot = if menu.slot_edited {
            menu.slot.max(slot)
        } else {
            slot.saturating_add(1)
        };
    }
    for row in &mut model.nodes {
        row.assignment.clear();
        if row.status != NodeStatus::Down {
            row.status = NodeStatus::Idle;
        }
    }
    let mut selected = 0usize;
    for set in sets {
        for (addr, subs) in &set.assignments {
            selected += 1;
            if let Some(row) = model.node_mut(addr) {
                row.assignment.extend_from_slice(subs);
                row.assignment.sort_unstable();
                row.assignment.dedup();
                row.raise(NodeStatus::Selected);
            }
        }
    }
    let proposer = model.node_label(&proposer);
    let block = if block == slot {
        String::new()
    } else {
        format!(" (block {block})")
    };
    let sets = if sets.len() > 1 {
        format!(" in {} sets", sets.len())
    } else {
        String::new()
    };
    let provers = if selected == 1 { "prover" } else { "provers" };
    model.log.push(LogLine::info(
        Some(slot),
        format!(
            "slot {slot}{block} started: proposer {proposer}, {selected} {provers} selected{sets}"
        ),
    ));
}

fn on_ledger(model: &mut Model, entry: &LedgerEntry) {
    let status = match entry.kind {
        EntryKind::Reward => NodeStatus::Paid,
        EntryKind::Penalty => NodeStatus::Penalized,
        EntryKind::Slash => NodeStatus::Slashed,
    };
    if let Some(row) = model.node_mut(&entry.node) {
        row.raise(status);
    }
    if entry.kind == EntryKind::Slash {
        let label = model.node_label(&entry.node);
        model.log.push(LogLine::warn(
            Some(entry.slot),
            format!(
                "{}: {label} slashed {} (applied {}) by {}",
                entry.phase, entry.amount, entry.applied, entry.rule
            ),
        ));
    }
}

fn on_settled(model: &mut Model, s: &Settlement) {
    model.history.push(SlotSummary {
        slot: s.slot,
        outcome: s.outcome,
        payments: s.payments,
        loss: s.loss,
    });
    for a in &s.accounts {
        if let Some(row) = model.node_mut(&a.address) {
            row.stake = a.stake;
            row.balance = a.balance;
        }
    }
    model.totals = Some(s.totals);
    model.conservation_ok = s.conservation_ok;
    let mut outcome = std::mem::take(&mut model.outcome);
    outcome.add(s, |a| model.is_attacker(a));
    model.outcome = outcome;
    let text = format!(
        "slot {} {}, paid {}, loss {}",
        s.slot, s.outcome, s.payments, s.loss
    );
    model.log.push(if s.outcome == Outcome::LivenessFault {
        LogLine::error(Some(s.slot), text)
    } else {
        LogLine::info(Some(s.slot), text)
    });
    if !s.conservation_ok {
        model.log.push(LogLine::error(
            Some(s.slot),
            format!("slot {}: ledger conservation VIOLATED", s.slot),
        ));
    }
}

fn kind_label(kind: MessageKind) -> &'static str {
    match kind {
        MessageKind::Commit => "commit",
        MessageKind::Partials => "partials",
        MessageKind::FullProof => "full proof",
        MessageKind::Aggregate => "aggregate",
        MessageKind::AggProof => "AggProof",
    }
}

/// Display label of a detector finding, e.g. `stolen proof`.
#[must_use]
pub fn warning_label(kind: WarningKind) -> &'static str {
    match kind {
        WarningKind::Late => "late message",
        WarningKind::Equivocation => "equivocation",
        WarningKind::InvalidProof => "invalid proof",
        WarningKind::StolenProof => "stolen proof",
    }
}

/// A representative devnet run, for the TUI's and the app's tests.
#[cfg(test)]
pub(crate) mod fixtures {
    use std::collections::BTreeMap;

    use alloy_primitives::{Address, B256, keccak256};

    use super::{Model, Msg, NodeInfo, update};
    use crate::orchestrator::Fault;
    use crate::protocol::{
        Account, EntryKind, Event, LedgerEntry, LedgerTotals, MessageKind, Outcome, Phase, Role,
        SetAssignment, Settlement, Verdict, WarningKind,
    };

    /// A deterministic address for a node name.
    pub(crate) fn addr(name: &str) -> Address {
        Address::from_slice(&keccak256(name.as_bytes())[12..])
    }

    /// 4 validators, 8 provers (prover-7 and prover-8 adversary-controlled), 1 adversary.
    pub(crate) fn nodes() -> Vec<NodeInfo> {
        let mut out = Vec::new();
        let mut port = 40100;
        let mut push = |name: String, role, adv| {
            port += 1;
            out.push(NodeInfo {
                address: addr(&name),
                name,
                role,
                adversary_controlled: adv,
                endpoint: format!("127.0.0.1:{port}"),
            });
        };
        for i in 1..=4 {
            push(format!("validator-{i}"), Role::Validator, false);
        }
        for i in 1..=8 {
            push(format!("prover-{i}"), Role::Prover, i >= 7);
        }
        push("adversary".to_owned(), Role::Adversary, false);
        out
    }

    /// Ledger accounts of every validator and prover with the given stake and balance.
    fn accounts(f: impl Fn(&str) -> (u64, u64)) -> Vec<Account> {
        let mut v: Vec<Account> = nodes()
            .into_iter()
            .filter(|n| n.role != Role::Adversary)
            .map(|n| {
                let (stake, balance) = f(&n.name);
                Account {
                    address: n.address,
                    role: n.role,
                    stake,
                    balance,
                    rewards: 0,
                    penalties: 0,
                    slashed: 0,
                }
            })
            .collect();
        v.sort_by_key(|a| a.address);
        v
    }

    fn assignment(provers: &[(&str, Vec<u32>)]) -> SetAssignment {
        let assignments: BTreeMap<Address, Vec<u32>> =
            provers.iter().map(|(n, s)| (addr(n), s.clone())).collect();
        SetAssignment {
            set: 0,
            selected: provers.iter().map(|(n, _)| addr(n)).collect(),
            assignments,
            aggregators: [addr(provers[0].0), addr(provers[1].0), addr(provers[2].0)],
        }
    }

    fn included(slot: u64, phase: Phase, from: &str, kind: MessageKind, proofs: u32) -> Msg {
        Msg::Engine(Event::MessageIncluded {
            slot,
            phase,
            from: addr(from),
            kind,
            proofs,
            verdict: Verdict::Valid,
            accepted: true,
            rejection: None,
        })
    }

    fn entry(
        slot: u64,
        phase: Phase,
        node: &str,
        kind: EntryKind,
        amount: u64,
        rule: &str,
    ) -> LedgerEntry {
        LedgerEntry {
            slot,
            phase,
            node: addr(node),
            kind,
            amount,
            rule: rule.to_owned(),
            applied: amount,
        }
    }

    /// A strategy switch the orchestrator applied before `slot`.
    pub(crate) fn strategy(slot: u64, strategy: &str, targets: &[&str]) -> Msg {
        Msg::FaultApplied {
            slot,
            fault: Fault::Strategy {
                strategy: strategy.to_owned(),
                targets: targets.iter().map(|t| (*t).to_owned()).collect(),
            },
        }
    }

    /// The messages of a two-slot attacked run: `steal` on prover-7 from slot 1,
    /// which finalizes in T3 with prover-7 slashed for a stolen proof; `withhold` on
    /// every corrupted prover from slot 2, a liveness fault in which honest prover-2
    /// is penalized too; now in slot 3's T2 (attack still on).
    pub(crate) fn msgs() -> Vec<Msg> {
        let genesis_stake = |n: &str| {
            if n.starts_with("validator") {
                (32_000, 0)
            } else {
                (10_000, 0)
            }
        };
        let genesis = accounts(genesis_stake);
        let mut m = vec![
            Msg::NodesStarted(nodes()),
            Msg::Engine(Event::Genesis {
                accounts: genesis,
                totals: LedgerTotals {
                    genesis: 208_000,
                    minted: 0,
                    burned: 0,
                    treasury: 0,
                    stake: 208_000,
                    balance: 0,
                },
            }),
            strategy(1, "steal", &["prover-7"]),
            // Slot 1: four provers, redundancy 2, finalized in T3.
            Msg::Engine(Event::SlotStarted {
                slot: 1,
                block: 1,
                proposer: addr("validator-2"),
                randao_mix: B256::ZERO,
                sets: vec![assignment(&[
                    ("prover-1", vec![0, 1]),
                    ("prover-3", vec![1, 2]),
                    ("prover-5", vec![2, 3]),
                    ("prover-7", vec![0, 3]),
                ])],
            }),
            Msg::Engine(Event::PhaseOpened {
                slot: 1,
                phase: Phase::T1,
            }),
        ];
        for p in ["prover-1", "prover-3", "prover-5", "prover-7"] {
            m.push(included(1, Phase::T1, p, MessageKind::Commit, 0));
        }
        m.push(Msg::Engine(Event::PhaseClosed {
            slot: 1,
            phase: Phase::T1,
            finalized: false,
        }));
        m.push(Msg::Engine(Event::PhaseOpened {
            slot: 1,
            phase: Phase::T2,
        }));
        for p in ["prover-1", "prover-3", "prover-5"] {
            m.push(included(1, Phase::T2, p, MessageKind::Partials, 2));
        }
        m.push(Msg::Engine(Event::Warning {
            slot: 1,
            phase: Phase::T2,
            node: addr("prover-7"),
            kind: WarningKind::StolenProof,
            detail: "partial 0 equals prover-1's".to_owned(),
        }));
        m.push(Msg::Engine(Event::MessageIncluded {
            slot: 1,
            phase: Phase::T2,
            from: addr("prover-7"),
            kind: MessageKind::Partials,
            proofs: 2,
            verdict: Verdict::Invalid("prover public input mismatch".to_owned()),
            accepted: false,
            rejection: Some("stolen proof".to_owned()),
        }));
        m.push(Msg::Engine(Event::PhaseClosed {
            slot: 1,
            phase: Phase::T2,
            finalized: false,
        }));
        m.push(Msg::Engine(Event::PhaseOpened {
            slot: 1,
            phase: Phase::T3,
        }));
        m.push(included(
            1,
            Phase::T3,
            "prover-1",
            MessageKind::Aggregate,
            1,
        ));
        m.push(Msg::Engine(Event::PhaseClosed {
            slot: 1,
            phase: Phase::T3,
            finalized: true,
        }));
        let rewards = [
            ("validator-2", 40, "REWARD_T1_VALIDATOR"),
            ("prover-1", 120, "REWARD_T3_AGGREGATOR"),
            ("prover-3", 50, "REWARD_T2_PROVER"),
            ("prover-5", 50, "REWARD_T2_PROVER"),
        ];
        let mut entries1: Vec<LedgerEntry> = rewards
            .into_iter()
            .map(|(n, amount, rule)| entry(1, Phase::T3, n, EntryKind::Reward, amount, rule))
            .collect();
        entries1.push(entry(
            1,
            Phase::T2,
            "prover-7",
            EntryKind::Penalty,
            100,
            "PENALTY_T2_PROVER",
        ));
        entries1.push(entry(
            1,
            Phase::T2,
            "prover-7",
            EntryKind::Slash,
            5_000,
            "stolen_proof",
        ));
        m.extend(
            entries1
                .iter()
                .cloned()
                .map(|e| Msg::Engine(Event::Ledger(e))),
        );
        let after1 = |n: &str| match n {
            "validator-2" => (32_000, 40),
            "prover-1" => (10_000, 120),
            "prover-3" | "prover-5" => (10_000, 50),
            "prover-7" => (4_900, 0),
            n if n.starts_with("validator") => (32_000, 0),
            _ => (10_000, 0),
        };
        m.push(Msg::Engine(Event::Settled(Settlement {
            slot: 1,
            block: 1,
            outcome: Outcome::FinalizedT3,
            proofs_submitted: 9,
            proofs_valid: 7,
            entries: entries1,
            payments: 260,
            loss: 260,
            totals: LedgerTotals {
                genesis: 208_000,
                minted: 260,
                burned: 5_100,
                treasury: 0,
                stake: 202_900,
                balance: 260,
            },
            conservation_ok: true,
            accounts: accounts(after1),
        })));
        // Slot 2: the adversary's provers withhold; nobody aggregates: liveness fault.
        m.push(strategy(2, "withhold", &[]));
        m.push(Msg::Engine(Event::SlotStarted {
            slot: 2,
            block: 2,
            proposer: addr("validator-3"),
            randao_mix: B256::ZERO,
            sets: vec![assignment(&[
                ("prover-2", vec![0, 1]),
                ("prover-8", vec![1, 2]),
                ("prover-4", vec![2, 3]),
                ("prover-6", vec![0, 3]),
            ])],
        }));
        for phase in Phase::ALL {
            m.push(Msg::Engine(Event::PhaseOpened { slot: 2, phase }));
            m.push(Msg::Engine(Event::PhaseClosed {
                slot: 2,
                phase,
                finalized: false,
            }));
        }
        let entries2 = vec![
            entry(
                2,
                Phase::T2,
                "prover-8",
                EntryKind::Penalty,
                100,
                "PENALTY_T2_PROVER",
            ),
            entry(
                2,
                Phase::T2,
                "prover-2",
                EntryKind::Penalty,
                100,
                "PENALTY_T2_PROVER",
            ),
        ];
        m.extend(
            entries2
                .iter()
                .cloned()
                .map(|e| Msg::Engine(Event::Ledger(e))),
        );
        let after2 = |n: &str| match n {
            "prover-8" | "prover-2" => (9_900, 0),
            n => after1(n),
        };
        m.push(Msg::Engine(Event::Settled(Settlement {
            slot: 2,
            block: 2,
            outcome: Outcome::LivenessFault,
            proofs_submitted: 0,
            proofs_valid: 0,
            entries: entries2,
            payments: 0,
            loss: 1_000,
            totals: LedgerTotals {
                genesis: 208_000,
                minted: 260,
                burned: 5_300,
                treasury: 0,
                stake: 202_700,
                balance: 260,
            },
            conservation_ok: true,
            accounts: accounts(after2),
        })));
        // Slot 3: block 2 carried over, now in T2.
        m.push(Msg::Engine(Event::SlotStarted {
            slot: 3,
            block: 2,
            proposer: addr("validator-4"),
            randao_mix: B256::ZERO,
            sets: vec![assignment(&[
                ("prover-1", vec![0, 1]),
                ("prover-2", vec![1, 2]),
                ("prover-4", vec![2, 3]),
                ("prover-7", vec![0, 3]),
            ])],
        }));
        m.push(Msg::Engine(Event::PhaseOpened {
            slot: 3,
            phase: Phase::T1,
        }));
        m.push(included(3, Phase::T1, "prover-1", MessageKind::Commit, 0));
        m.push(included(3, Phase::T1, "prover-2", MessageKind::Commit, 0));
        m.push(Msg::Engine(Event::PhaseClosed {
            slot: 3,
            phase: Phase::T1,
            finalized: false,
        }));
        m.push(Msg::Engine(Event::PhaseOpened {
            slot: 3,
            phase: Phase::T2,
        }));
        m.push(Msg::PhaseProgress {
            slot: 3,
            phase: Phase::T2,
            elapsed_s: 1.5,
            window_s: 4.0,
        });
        m.push(Msg::Engine(Event::Warning {
            slot: 3,
            phase: Phase::T2,
            node: addr("prover-7"),
            kind: WarningKind::Equivocation,
            detail: "two partials messages".to_owned(),
        }));
        m.push(Msg::NodeDown {
            address: addr("prover-6"),
            reason: "connection refused".to_owned(),
        });
        m
    }

    /// The model after [`msgs`], with a 10-slot target.
    pub(crate) fn model() -> Model {
        let mut model = Model::new("default", "inproc", 42);
        model.slots_target = Some(10);
        for msg in msgs() {
            update(&mut model, msg);
        }
        model
    }
}

#[cfg(test)]
mod tests {
    use super::fixtures::{addr, model};
    use super::*;

    fn row<'a>(m: &'a Model, name: &str) -> &'a NodeRow {
        m.node(&addr(name))
            .unwrap_or_else(|| panic!("no row {name}"))
    }

    #[test]
    fn short_addr_keeps_two_bytes_each_side() {
        let a: Address = "0x1234567890abcdef1234567890abcdef1234abcd"
            .parse()
            .unwrap();
        assert_eq!(short_addr(&a), "0x1234…abcd");
    }

    #[test]
    fn statuses_follow_the_engine_events() {
        let m = model();
        assert_eq!(m.slot, Some(3));
        assert_eq!(m.phase, Some(Phase::T2));
        assert_eq!(m.proposer, Some(addr("validator-4")));
        // Slot 3: prover-1 and prover-2 committed, prover-4 and prover-7 selected only.
        assert_eq!(row(&m, "prover-1").status, NodeStatus::Committed);
        assert_eq!(row(&m, "prover-2").status, NodeStatus::Committed);
        assert_eq!(row(&m, "prover-4").status, NodeStatus::Selected);
        assert_eq!(row(&m, "prover-7").status, NodeStatus::Selected);
        assert_eq!(row(&m, "prover-7").assignment, vec![0, 3]);
        assert_eq!(row(&m, "prover-3").status, NodeStatus::Idle);
        assert!(row(&m, "prover-3").assignment.is_empty());
        assert_eq!(row(&m, "prover-6").status, NodeStatus::Down);
        assert!(!row(&m, "prover-6").up);
    }

    #[test]
    fn slashed_wins_over_penalized_wins_over_paid() {
        let mut m = model();
        let a = addr("prover-1");
        let entry = |kind| {
            Msg::Engine(Event::Ledger(LedgerEntry {
                slot: 3,
                phase: Phase::T3,
                node: a,
                kind,
                amount: 1,
                rule: "r".to_owned(),
                applied: 1,
            }))
        };
        update(&mut m, entry(EntryKind::Reward));
        assert_eq!(row(&m, "prover-1").status, NodeStatus::Paid);
        update(&mut m, entry(EntryKind::Slash));
        assert_eq!(row(&m, "prover-1").status, NodeStatus::Slashed);
        update(&mut m, entry(EntryKind::Penalty));
        update(&mut m, entry(EntryKind::Reward));
        assert_eq!(row(&m, "prover-1").status, NodeStatus::Slashed);
        // A down node stays down.
        update(
            &mut m,
            Msg::NodeDown {
                address: a,
                reason: "gone".to_owned(),
            },
        );
        update(&mut m, entry(EntryKind::Reward));
        assert_eq!(row(&m, "prover-1").status, NodeStatus::Down);
        update(&mut m, Msg::NodeUp { address: a });
        assert_eq!(row(&m, "prover-1").status, NodeStatus::Selected);
        assert!(row(&m, "prover-1").up);
    }

    #[test]
    fn stake_and_balance_come_from_settled_accounts() {
        let m = model();
        assert_eq!(
            (row(&m, "prover-7").stake, row(&m, "prover-7").balance),
            (4_900, 0)
        );
        assert_eq!(
            (row(&m, "prover-8").stake, row(&m, "prover-8").balance),
            (9_900, 0)
        );
        assert_eq!(
            (row(&m, "prover-1").stake, row(&m, "prover-1").balance),
            (10_000, 120)
        );
        assert_eq!(
            (row(&m, "validator-2").stake, row(&m, "validator-2").balance),
            (32_000, 40)
        );
        // The adversary has no account: untouched.
        assert_eq!(
            (row(&m, "adversary").stake, row(&m, "adversary").balance),
            (0, 0)
        );
        let t = m.totals.unwrap();
        assert_eq!((t.minted, t.burned, t.stake), (260, 5_300, 202_700));
        assert!(m.conservation_ok);
        let outcomes: Vec<_> = m
            .history
            .iter()
            .map(|h| (h.slot, h.outcome, h.loss))
            .collect();
        assert_eq!(
            outcomes,
            vec![
                (1, Outcome::FinalizedT3, 260),
                (2, Outcome::LivenessFault, 1_000)
            ]
        );
    }

    #[test]
    fn settled_copies_a_conservation_violation() {
        let mut m = model();
        let Some(Msg::Engine(Event::Settled(mut s))) = fixtures::msgs()
            .into_iter()
            .find(|m| matches!(m, Msg::Engine(Event::Settled(_))))
        else {
            unreachable!()
        };
        s.slot = 3;
        s.conservation_ok = false;
        update(&mut m, Msg::Engine(Event::Settled(s)));
        assert!(!m.conservation_ok);
        let last = m.log.iter().last().unwrap();
        assert_eq!(last.level, LogLevel::Error);
        assert!(last.text.contains("VIOLATED"), "{}", last.text);
    }

    #[test]
    fn log_lines_name_nodes_and_outcomes() {
        let m = model();
        let texts: Vec<&str> = m.log.iter().map(|l| l.text.as_str()).collect();
        let has = |needle: &str| texts.iter().any(|t| t.contains(needle));
        assert!(has("slot 1 started: proposer validator-2 ("), "{texts:#?}");
        assert!(has("4 provers selected"), "{texts:#?}");
        assert!(has("slot 1 finalized_t3, paid 260, loss 260"), "{texts:#?}");
        assert!(
            has("slot 2 liveness_fault, paid 0, loss 1000"),
            "{texts:#?}"
        );
        assert!(has("stolen proof by prover-7 (0x"), "{texts:#?}");
        assert!(has("prover-7 (0x"), "{texts:#?}");
        assert!(
            has("rejected: stolen proof; invalid: prover public input mismatch"),
            "{texts:#?}"
        );
        assert!(
            has("slashed 5000 (applied 5000) by stolen_proof"),
            "{texts:#?}"
        );
        assert!(has("slot 3 (block 2) started"), "{texts:#?}");
    }

    #[test]
    fn ring_buffer_drops_and_counts_beyond_capacity() {
        let mut log = EventLog::with_capacity(3);
        for i in 0..5 {
            log.push(LogLine::info(Some(i), format!("line {i}")));
        }
        assert_eq!(log.len(), 3);
        assert_eq!(log.dropped(), 2);
        let kept: Vec<_> = log.iter().map(|l| l.text.clone()).collect();
        assert_eq!(kept, ["line 2", "line 3", "line 4"]);
        assert_eq!(EventLog::with_capacity(0).capacity(), 1);
        assert_eq!(EventLog::default().capacity(), DEFAULT_LOG_CAPACITY);
    }

    #[test]
    fn selected_node_is_clamped() {
        let mut m = model();
        let n = m.nodes.len();
        update(&mut m, Msg::Key(Action::Up));
        assert_eq!(m.selected_node, 0);
        for _ in 0..n + 5 {
            update(&mut m, Msg::Key(Action::Down));
        }
        assert_eq!(m.selected_node, n - 1);
        update(&mut m, Msg::Key(Action::Up));
        assert_eq!(m.selected_node, n - 2);
        let mut empty = Model::new("d", "inproc", 0);
        update(&mut empty, Msg::Key(Action::Down));
        assert_eq!(empty.selected_node, 0);
    }

    #[test]
    fn keys_produce_effects() {
        let mut m = Model::new("d", "inproc", 0);
        assert_eq!(
            update(&mut m, Msg::Key(Action::TogglePause)),
            vec![Effect::SetPaused(true)]
        );
        assert!(m.paused);
        assert_eq!(
            update(&mut m, Msg::Key(Action::TogglePause)),
            vec![Effect::SetPaused(false)]
        );
        assert!(update(&mut m, Msg::Key(Action::ToggleHelp)).is_empty());
        assert!(m.show_help);
        update(&mut m, Msg::Key(Action::CloseHelp));
        assert!(!m.show_help);
        assert_eq!(update(&mut m, Msg::Key(Action::Quit)), vec![Effect::Quit]);
        assert!(m.should_quit);
    }

    #[test]
    fn keybindings_map_keys() {
        assert_eq!(action_for(Key::Char('q')), Some(Action::Quit));
        assert_eq!(action_for(Key::Ctrl('c')), Some(Action::Quit));
        assert_eq!(action_for(Key::Char('p')), Some(Action::TogglePause));
        assert_eq!(action_for(Key::Char('?')), Some(Action::ToggleHelp));
        assert_eq!(action_for(Key::Esc), Some(Action::CloseHelp));
        assert_eq!(action_for(Key::Char('j')), Some(Action::Down));
        assert_eq!(action_for(Key::Up), Some(Action::Up));
        assert_eq!(action_for(Key::Char('k')), Some(Action::KillNode));
        assert_eq!(action_for(Key::Char('z')), Some(Action::PauseNode));
        assert_eq!(action_for(Key::Char('r')), Some(Action::RestartNode));
        assert_eq!(action_for(Key::Char('x')), Some(Action::DisconnectNode));
        assert_eq!(action_for(Key::Char('y')), None);
    }

    fn injected(effects: &[Effect]) -> Vec<Fault> {
        effects
            .iter()
            .filter_map(|e| match e {
                Effect::Inject(step) => Some(step.fault.clone()),
                _ => None,
            })
            .collect()
    }

    #[test]
    fn fault_keys_act_on_the_selected_node_and_toggle_on_its_container_state() {
        let mut m = Model::new("d", "docker", 1);
        update(&mut m, Msg::NodesStarted(super::fixtures::nodes()));
        let p1 = m
            .nodes
            .iter()
            .position(|r| r.info.name == "prover-1")
            .unwrap();
        m.selected_node = p1;
        let a = addr("prover-1");
        let kill = update(&mut m, Msg::Key(Action::KillNode));
        assert_eq!(injected(&kill), vec![Fault::Kill("prover-1".into())]);
        assert_eq!(
            injected(&update(&mut m, Msg::Key(Action::PauseNode))),
            vec![Fault::Pause("prover-1".into())]
        );
        // Docker reports it paused: `z` now unpauses, and the row shows it down.
        update(
            &mut m,
            Msg::ContainerState {
                address: a,
                state: "paused".into(),
            },
        );
        assert!(!m.nodes[p1].up);
        assert_eq!(m.nodes[p1].container.as_deref(), Some("paused"));
        assert_eq!(
            injected(&update(&mut m, Msg::Key(Action::PauseNode))),
            vec![Fault::Resume("prover-1".into())]
        );
        // Disconnected: `x` reconnects; running again: the row is up.
        update(
            &mut m,
            Msg::ContainerState {
                address: a,
                state: "disconnected".into(),
            },
        );
        assert_eq!(
            injected(&update(&mut m, Msg::Key(Action::DisconnectNode))),
            vec![Fault::Reconnect("prover-1".into())]
        );
        update(
            &mut m,
            Msg::ContainerState {
                address: a,
                state: "running".into(),
            },
        );
        assert!(m.nodes[p1].up);
        assert_eq!(
            injected(&update(&mut m, Msg::Key(Action::DisconnectNode))),
            vec![Fault::Disconnect("prover-1".into())]
        );
        assert_eq!(
            injected(&update(&mut m, Msg::Key(Action::RestartNode))),
            vec![Fault::Restart("prover-1".into())]
        );
        // A corrupted prover has no process of its own: nothing is injected.
        m.selected_node = m
            .nodes
            .iter()
            .position(|r| r.info.name == "prover-7")
            .unwrap();
        assert!(injected(&update(&mut m, Msg::Key(Action::KillNode))).is_empty());
    }

    #[test]
    fn losing_the_daemon_shows_in_the_model_until_it_returns() {
        let mut m = Model::new("d", "docker", 1);
        update(
            &mut m,
            Msg::RuntimeConnection {
                connected: false,
                detail: "Docker daemon unreachable".into(),
            },
        );
        assert_eq!(
            m.runtime_connection.as_deref(),
            Some("Docker daemon unreachable")
        );
        update(
            &mut m,
            Msg::RuntimeConnection {
                connected: true,
                detail: "back".into(),
            },
        );
        assert_eq!(m.runtime_connection, None);
    }

    fn open_menu(m: &mut Model) {
        assert!(update(m, Msg::Key(Action::OpenAttackMenu)).is_empty());
        assert_eq!(m.key_context(), KeyContext::AttackMenu);
    }

    fn press(m: &mut Model, actions: &[Action]) -> Vec<Effect> {
        actions
            .iter()
            .flat_map(|a| update(m, Msg::Key(*a)))
            .collect()
    }

    #[test]
    fn strategy_choices_follow_the_adversary() {
        let choices = strategy_choices();
        let names: Vec<&str> = choices.iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            [
                "honest",
                "withhold",
                "silent",
                "late",
                "invalid_proof",
                "steal",
                "equivocate",
                "no_reuse",
                "sybil",
                "targeted_liveness"
            ]
        );
        let params: Vec<_> = choices.iter().filter_map(|c| c.param).collect();
        assert_eq!(params, [("capacity", 2), ("f", 3)]);
        // Every string the menu can build parses.
        for c in choices {
            let arg = c
                .param
                .map_or(c.name.to_owned(), |(_, d)| format!("{}:{d}", c.name));
            assert!(arg.parse::<Strategy>().is_ok(), "{arg}");
        }
        assert!(is_honest("honest") && is_honest("none") && !is_honest("steal"));
    }

    #[test]
    fn attack_menu_launches_the_exact_plan_step() {
        let mut m = model();
        open_menu(&mut m);
        let menu = m.attack_menu.as_ref().unwrap();
        // Defaults: the first attack strategy, every corrupted prover, the next slot.
        assert_eq!(menu.strategy_arg(), "withhold");
        assert_eq!(
            menu.targets,
            vec![("prover-7".to_owned(), true), ("prover-8".to_owned(), true)]
        );
        assert_eq!((menu.slot, menu.min_slot), (4, 3));
        // withhold → silent → late → invalid_proof; no number field for it.
        press(&mut m, &[Action::MenuDown; 3]);
        let menu = m.attack_menu.as_ref().unwrap();
        assert_eq!(menu.strategy_arg(), "invalid_proof");
        assert_eq!(
            menu.fields(),
            [MenuField::Strategy, MenuField::Targets, MenuField::Slot]
        );
        // Targets: unpick prover-8; slot: one later.
        press(
            &mut m,
            &[
                Action::MenuNextField,
                Action::MenuDown,
                Action::MenuToggle,
                Action::MenuNextField,
                Action::MenuPlus,
            ],
        );
        assert_eq!(m.attack_menu.as_ref().unwrap().field, MenuField::Slot);
        let effects = press(&mut m, &[Action::MenuLaunch]);
        assert_eq!(
            effects,
            vec![Effect::Inject(PlanStep {
                slot: 5,
                fault: Fault::Strategy {
                    strategy: "invalid_proof".to_owned(),
                    targets: vec!["prover-7".to_owned()],
                },
            })]
        );
        assert!(m.attack_menu.is_none());
        assert_eq!(m.key_context(), KeyContext::Main);
        let last = m.log.iter().last().unwrap();
        assert_eq!(
            last.text,
            "attack queued: strategy invalid_proof on prover-7 (before slot 5)"
        );
    }

    #[test]
    fn attack_menu_number_field_and_slot_bounds() {
        let mut m = model();
        open_menu(&mut m);
        // withhold (1) → sybil (8): its capacity defaults to 2.
        press(&mut m, &[Action::MenuDown; 7]);
        let menu = m.attack_menu.as_ref().unwrap();
        assert_eq!((menu.strategy_arg(), menu.param), ("sybil:2".to_owned(), 2));
        // Focus the number: ↑ and + raise it, ↓ lowers it, never below 1.
        press(
            &mut m,
            &[
                Action::MenuNextField,
                Action::MenuUp,
                Action::MenuPlus,
                Action::MenuPlus,
                Action::MenuDown,
            ],
        );
        let menu = m.attack_menu.as_ref().unwrap();
        assert_eq!(
            (menu.field, menu.strategy_arg()),
            (MenuField::Param, "sybil:4".to_owned())
        );
        press(&mut m, &[Action::MenuMinus; 10]);
        assert_eq!(m.attack_menu.as_ref().unwrap().param, 1);
        // Back to the strategy list: moving resets the number to the new default.
        press(&mut m, &[Action::MenuPrevField, Action::MenuDown]);
        assert_eq!(
            m.attack_menu.as_ref().unwrap().strategy_arg(),
            "targeted_liveness:3"
        );
        press(&mut m, &[Action::MenuDown; 3]);
        assert_eq!(
            m.attack_menu.as_ref().unwrap().strategy_arg(),
            "targeted_liveness:3"
        );
        // Shift-Tab wraps to the slot; it never goes below the running slot (3).
        press(&mut m, &[Action::MenuPrevField]);
        assert_eq!(m.attack_menu.as_ref().unwrap().field, MenuField::Slot);
        press(
            &mut m,
            &[Action::MenuMinus, Action::MenuDown, Action::MenuMinus],
        );
        assert_eq!(m.attack_menu.as_ref().unwrap().slot, 3);
        let effects = press(&mut m, &[Action::MenuLaunch]);
        assert_eq!(
            effects,
            vec![Effect::Inject(PlanStep {
                slot: 3,
                fault: Fault::Strategy {
                    strategy: "targeted_liveness:3".to_owned(),
                    targets: Vec::new(),
                },
            })]
        );
        assert!(m.log.iter().last().unwrap().text.ends_with("(now)"));
    }

    #[test]
    fn attack_menu_slot_follows_the_next_slot_until_edited() {
        let started = |slot| {
            Msg::Engine(Event::SlotStarted {
                slot,
                block: slot,
                proposer: addr("validator-1"),
                randao_mix: alloy_primitives::B256::ZERO,
                sets: Vec::new(),
            })
        };
        let mut m = model();
        open_menu(&mut m);
        update(&mut m, started(4));
        let menu = m.attack_menu.as_ref().unwrap();
        assert_eq!((menu.slot, menu.min_slot), (5, 4));
        // Once edited, the slot stays, but never falls behind the running slot.
        press(&mut m, &[Action::MenuPlus]);
        update(&mut m, started(5));
        assert_eq!(m.attack_menu.as_ref().unwrap().slot, 6);
        update(&mut m, started(7));
        assert_eq!(m.attack_menu.as_ref().unwrap().slot, 7);
    }

    #[test]
    fn attack_menu_needs_a_target_and_closes_on_esc() {
        let mut m = model();
        open_menu(&mut m);
        press(
            &mut m,
            &[
                Action::MenuNextField,
                Action::MenuToggle,
                Action::MenuDown,
                Action::MenuToggle,
            ],
        );
        assert!(press(&mut m, &[Action::MenuLaunch]).is_empty());
        let menu = m.attack_menu.as_ref().unwrap();
        assert_eq!(
            menu.error.as_deref(),
            Some("pick at least one target (Space)")
        );
        // Any other key clears the error; Esc closes without launching.
        press(&mut m, &[Action::MenuToggle]);
        assert!(m.attack_menu.as_ref().unwrap().error.is_none());
        assert!(press(&mut m, &[Action::MenuClose]).is_empty());
        assert!(m.attack_menu.is_none());
        // Menu actions with the menu closed do nothing.
        assert!(press(&mut m, &[Action::MenuLaunch, Action::MenuDown]).is_empty());
        assert_eq!(m.selected_node, 0);
    }

    #[test]
    fn menu_keys_are_live_only_in_the_menu() {
        let mut m = model();
        assert_eq!(
            action_in(m.key_context(), Key::Char('a')),
            Some(Action::OpenAttackMenu)
        );
        assert_eq!(
            action_in(m.key_context(), Key::Char('h')),
            Some(Action::StopAttack)
        );
        assert_eq!(action_in(m.key_context(), Key::Enter), None);
        open_menu(&mut m);
        let ctx = m.key_context();
        assert_eq!(action_in(ctx, Key::Enter), Some(Action::MenuLaunch));
        assert_eq!(action_in(ctx, Key::Esc), Some(Action::MenuClose));
        assert_eq!(action_in(ctx, Key::Tab), Some(Action::MenuNextField));
        assert_eq!(action_in(ctx, Key::BackTab), Some(Action::MenuPrevField));
        assert_eq!(action_in(ctx, Key::Char(' ')), Some(Action::MenuToggle));
        assert_eq!(action_in(ctx, Key::Char('+')), Some(Action::MenuPlus));
        assert_eq!(action_in(ctx, Key::Char('-')), Some(Action::MenuMinus));
        assert_eq!(action_in(ctx, Key::Char('j')), Some(Action::MenuDown));
        // q does not quit from the menu (Ctrl-c does).
        assert_eq!(action_in(ctx, Key::Char('q')), None);
        assert_eq!(action_in(ctx, Key::Ctrl('c')), Some(Action::Quit));
        // Help over the menu: the main keys are live, Esc closes the help first.
        update(&mut m, Msg::Key(Action::ToggleHelp));
        assert_eq!(m.key_context(), KeyContext::Main);
        update(&mut m, Msg::Key(Action::CloseHelp));
        assert_eq!(m.key_context(), KeyContext::AttackMenu);
        assert_eq!(Key::Char(' ').label(), "Space");
    }

    #[test]
    fn stop_attack_injects_honest_now() {
        let mut m = model();
        assert_eq!(m.attack.as_deref(), Some("withhold"));
        let effects = update(&mut m, Msg::Key(Action::StopAttack));
        assert_eq!(
            effects,
            vec![Effect::Inject(PlanStep {
                slot: 3,
                fault: Fault::Strategy {
                    strategy: "honest".to_owned(),
                    targets: Vec::new(),
                },
            })]
        );
        // The attack stops once the orchestrator applied it; slot 4 is not attacked.
        update(&mut m, fixtures::strategy(3, "honest", &[]));
        assert_eq!(m.attack, None);
        update(
            &mut m,
            Msg::Engine(Event::SlotStarted {
                slot: 4,
                block: 3,
                proposer: addr("validator-1"),
                randao_mix: alloy_primitives::B256::ZERO,
                sets: Vec::new(),
            }),
        );
        assert_eq!(m.attacked.iter().copied().collect::<Vec<_>>(), [1, 2, 3]);
    }

    #[test]
    fn fault_applied_marks_the_slot() {
        let mut m = Model::new("d", "inproc", 0);
        update(
            &mut m,
            Msg::FaultApplied {
                slot: 7,
                fault: Fault::Kill("prover-3".to_owned()),
            },
        );
        assert!(m.attacked.contains(&7));
        assert_eq!(m.attack, None);
        update(
            &mut m,
            Msg::FaultApplied {
                slot: 7,
                fault: Fault::Resume("prover-3".to_owned()),
            },
        );
        assert_eq!(m.attacked.len(), 1);
        // A strategy marks its slot and every slot started while it runs.
        update(
            &mut m,
            fixtures::strategy(9, "steal", &["prover-7", "prover-8"]),
        );
        assert_eq!(m.attack.as_deref(), Some("steal on prover-7, prover-8"));
        assert!(m.attacked.contains(&9));
        // Honest on a subset leaves the attack on the others running.
        update(&mut m, fixtures::strategy(9, "honest", &["prover-8"]));
        assert!(m.attack.is_some());
        assert_eq!(
            m.log.iter().last().unwrap().text,
            "fault: strategy honest on prover-8"
        );
        // The fixture run: steal before slot 1, withhold before slot 2, still on in 3.
        let m = model();
        assert_eq!(m.attacked.iter().copied().collect::<Vec<_>>(), [1, 2, 3]);
        assert_eq!(m.next_slot(), 4);
    }

    #[test]
    fn outcome_totals_come_from_settlements_only() {
        let mut m = model();
        let o = &m.outcome;
        assert_eq!(o.slots, 2);
        // prover-7: penalty 100 + slash 5000 in slot 1; prover-8: penalty 100 in slot 2.
        assert_eq!(
            (o.attacker_slashed, o.attacker_penalties, o.attacker_rewards),
            (5_000, 200, 0)
        );
        assert_eq!(o.attacker_lost(), 5_200);
        // Payments 260 + 0; loss 260 + (0 + P = 1000).
        assert_eq!((o.payments, o.loss, o.liveness_faults), (260, 1_260, 1));
        assert_eq!(o.liveness_loss(), 1_000);
        assert_eq!(
            o.honest_hurt
                .iter()
                .map(|(a, h)| (*a, *h))
                .collect::<Vec<_>>(),
            vec![(
                addr("prover-2"),
                Hurt {
                    penalties: 100,
                    slashed: 0
                }
            )]
        );
        // A loose ledger event is not counted: only settlements are.
        let before = m.outcome.clone();
        let loose = LedgerEntry {
            slot: 3,
            phase: Phase::T2,
            node: addr("prover-3"),
            kind: EntryKind::Slash,
            amount: 999,
            rule: "x".to_owned(),
            applied: 999,
        };
        update(&mut m, Msg::Engine(Event::Ledger(loose)));
        assert_eq!(m.outcome, before);
        // A hand-made settlement: the attacker earns, the applied amounts count.
        let entry = |node: &str, kind, amount, applied| LedgerEntry {
            slot: 3,
            phase: Phase::T3,
            node: addr(node),
            kind,
            amount,
            rule: "r".to_owned(),
            applied,
        };
        let totals = m.totals.unwrap();
        update(
            &mut m,
            Msg::Engine(Event::Settled(Settlement {
                slot: 3,
                block: 2,
                outcome: Outcome::FinalizedT4,
                proofs_submitted: 4,
                proofs_valid: 3,
                entries: vec![
                    entry("prover-7", EntryKind::Reward, 30, 30),
                    entry("prover-1", EntryKind::Reward, 70, 70),
                    entry("prover-8", EntryKind::Penalty, 100, 60),
                    entry("prover-3", EntryKind::Slash, 500, 400),
                    entry("prover-2", EntryKind::Slash, 50, 50),
                    entry("prover-2", EntryKind::Penalty, 10, 10),
                ],
                payments: 100,
                loss: 100,
                totals,
                conservation_ok: true,
                accounts: Vec::new(),
            })),
        );
        let o = &m.outcome;
        assert_eq!(o.slots, 3);
        assert_eq!(
            (o.attacker_slashed, o.attacker_penalties, o.attacker_rewards),
            (5_000, 260, 30)
        );
        assert_eq!((o.payments, o.loss, o.liveness_faults), (360, 1_360, 1));
        let hurt: Vec<_> = o
            .honest_hurt
            .iter()
            .map(|(a, h)| (*a, h.penalties, h.slashed))
            .collect();
        let mut want = vec![(addr("prover-2"), 110, 50), (addr("prover-3"), 0, 400)];
        want.sort();
        assert_eq!(hurt, want);
        assert_eq!(o.honest_hurt[&addr("prover-2")].total(), 160);
    }

    #[test]
    fn warnings_keep_the_latest_and_count_all() {
        let mut m = model();
        let got: Vec<_> = m
            .warnings
            .iter()
            .map(|w| (w.slot, w.phase, w.node, w.kind, w.detail.as_str()))
            .collect();
        assert_eq!(
            got,
            vec![
                (
                    1,
                    Phase::T2,
                    addr("prover-7"),
                    WarningKind::StolenProof,
                    "partial 0 equals prover-1's"
                ),
                (
                    3,
                    Phase::T2,
                    addr("prover-7"),
                    WarningKind::Equivocation,
                    "two partials messages"
                ),
            ]
        );
        assert_eq!(m.warnings_total, 2);
        for i in 0..WARNINGS_CAPACITY as u64 + 5 {
            update(
                &mut m,
                Msg::Engine(Event::Warning {
                    slot: 10 + i,
                    phase: Phase::T1,
                    node: addr("prover-8"),
                    kind: WarningKind::Late,
                    detail: String::new(),
                }),
            );
        }
        assert_eq!(m.warnings.len(), WARNINGS_CAPACITY);
        assert_eq!(m.warnings_total, WARNINGS_CAPACITY as u64 + 7);
        assert_eq!(m.warnings.front().unwrap().slot, 15);
        assert_eq!(
            m.warnings.back().unwrap().slot,
            10 + WARNINGS_CAPACITY as u64 + 4
        );
    }

    #[test]
    fn phase_progress_and_close_drive_the_gauge() {
        let mut m = model();
        assert_eq!((m.phase_elapsed_s, m.phase_window_s), (1.5, 4.0));
        update(
            &mut m,
            Msg::Engine(Event::PhaseClosed {
                slot: 3,
                phase: Phase::T2,
                finalized: false,
            }),
        );
        assert_eq!(m.phase_elapsed_s, 4.0);
        update(
            &mut m,
            Msg::Engine(Event::PhaseOpened {
                slot: 3,
                phase: Phase::T3,
            }),
        );
        assert_eq!((m.phase, m.phase_elapsed_s), (Some(Phase::T3), 0.0));
    }
}
