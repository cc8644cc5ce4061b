//! The app model and its `update`: the Elm-architecture core shared by the TUI and headless mode.
//!
//! Everything the screen or the headless report shows lives in [`Model`]. Only
//! [`update`] changes it, one [`Msg`] at a time, and it returns the [`Effect`]s the
//! orchestrator must carry out (quit, pause the engine clock). Money is never
//! computed here: stakes, balances and totals are copied from the engine's
//! [`Event`]s, the single source of truth (DESIGN.md "Shape").

use std::collections::VecDeque;

use alloy_primitives::Address;

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
        }
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
}

/// What the orchestrator must do after an [`update`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Effect {
    /// Stop the devnet and exit.
    Quit,
    /// Pause (`true`) or resume (`false`) the engine's clock.
    SetPaused(bool),
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
    /// Escape.
    Esc,
}

impl Key {
    /// Display label, e.g. `q`, `↑`, `Esc`, `Ctrl-c`.
    #[must_use]
    pub fn label(self) -> String {
        match self {
            Key::Char(c) => c.to_string(),
            Key::Ctrl(c) => format!("Ctrl-{c}"),
            Key::Up => "↑".to_owned(),
            Key::Down => "↓".to_owned(),
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

/// Every keybinding, in help-popup order. Used both to map keys and to render help.
pub const KEYBINDINGS: &[Keybinding] = &[
    Keybinding {
        key: Key::Char('q'),
        action: Action::Quit,
        description: "quit (stops the devnet)",
    },
    Keybinding {
        key: Key::Ctrl('c'),
        action: Action::Quit,
        description: "quit (stops the devnet)",
    },
    Keybinding {
        key: Key::Char('p'),
        action: Action::TogglePause,
        description: "pause / resume",
    },
    Keybinding {
        key: Key::Char('?'),
        action: Action::ToggleHelp,
        description: "show / hide this help",
    },
    Keybinding {
        key: Key::Esc,
        action: Action::CloseHelp,
        description: "close this help",
    },
    Keybinding {
        key: Key::Up,
        action: Action::Up,
        description: "previous node",
    },
    Keybinding {
        key: Key::Char('k'),
        action: Action::Up,
        description: "previous node",
    },
    Keybinding {
        key: Key::Down,
        action: Action::Down,
        description: "next node",
    },
    Keybinding {
        key: Key::Char('j'),
        action: Action::Down,
        description: "next node",
    },
];

/// The action bound to `key`, if any.
#[must_use]
pub fn action_for(key: Key) -> Option<Action> {
    KEYBINDINGS.iter().find(|b| b.key == key).map(|b| b.action)
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
        Msg::Key(action) => return on_action(model, action),
        Msg::Tick => {}
        Msg::FaultApplied { slot, fault } => {
            model.log.push(LogLine::warn(Some(slot), format!("fault: {fault}")));
        }
    }
    Vec::new()
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
            let detail = if detail.is_empty() {
                String::new()
            } else {
                format!(": {detail}")
            };
            model.log.push(LogLine::warn(
                Some(slot),
                format!("{phase}: ⚠ {} by {label}{detail}", warning_label(kind)),
            ));
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
        Event::Ejected { slot, node, stake } => {
            let label = model.node_label(&node);
            model.log.push(LogLine::warn(
                Some(slot),
                format!("{label} ejected from the prover set (stake {stake})"),
            ));
        }
    }
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

    fn ledger(
        slot: u64,
        phase: Phase,
        node: &str,
        kind: EntryKind,
        amount: u64,
        rule: &str,
    ) -> Msg {
        Msg::Engine(Event::Ledger(LedgerEntry {
            slot,
            phase,
            node: addr(node),
            kind,
            amount,
            rule: rule.to_owned(),
            applied: amount,
        }))
    }

    /// The messages of a two-slot run: slot 1 finalized in T3 with prover-7 slashed
    /// for a stolen proof, slot 2 a liveness fault, now in slot 3's T2.
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
        for (n, amount, rule) in rewards {
            m.push(ledger(1, Phase::T3, n, EntryKind::Reward, amount, rule));
        }
        m.push(ledger(
            1,
            Phase::T2,
            "prover-7",
            EntryKind::Penalty,
            100,
            "PENALTY_T2_PROVER",
        ));
        m.push(ledger(
            1,
            Phase::T2,
            "prover-7",
            EntryKind::Slash,
            5_000,
            "stolen_proof",
        ));
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
            entries: Vec::new(),
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
        m.push(ledger(
            2,
            Phase::T2,
            "prover-8",
            EntryKind::Penalty,
            100,
            "PENALTY_T2_PROVER",
        ));
        let after2 = |n: &str| match n {
            "prover-8" => (9_900, 0),
            n => after1(n),
        };
        m.push(Msg::Engine(Event::Settled(Settlement {
            slot: 2,
            block: 2,
            outcome: Outcome::LivenessFault,
            proofs_submitted: 0,
            proofs_valid: 0,
            entries: Vec::new(),
            payments: 0,
            loss: 1_000,
            totals: LedgerTotals {
                genesis: 208_000,
                minted: 260,
                burned: 5_200,
                treasury: 0,
                stake: 202_800,
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
        assert_eq!((t.minted, t.burned, t.stake), (260, 5_200, 202_800));
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
        assert_eq!(action_for(Key::Char('x')), None);
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
