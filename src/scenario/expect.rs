//! Scenario expectations: assertoor-style thresholds, one string each, such as
//! `slashed[adversary] >= 100` or `outcome[slot=1] == finalized_t3`, parsed into an
//! [`Expectation`] and measured on a headless [`Report`].
//!
//! Grammar: `METRIC[SELECTOR,...]? OP VALUE`, OP one of `== != <= >= < >`. A selector
//! item is `slot=N` (one slot instead of the whole run), a warning kind (for
//! `warnings`), or who: `adversary` (the adversary-controlled provers), `honest` (every
//! other node), `all`, or a node name such as `prover-3`. The metrics are listed in
//! [`Metric`]; `docs/scenarios.md` has the table.

use std::collections::BTreeSet;
use std::fmt;

use serde::{Serialize, Serializer};

use crate::headless::{Report, SlotReport};
use crate::protocol::{Outcome, WarningKind};

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<=`
    Le,
    /// `>=`
    Ge,
    /// `<`
    Lt,
    /// `>`
    Gt,
}

impl Op {
    const ALL: [(&'static str, Op); 6] = [
        ("==", Op::Eq),
        ("!=", Op::Ne),
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("<", Op::Lt),
        (">", Op::Gt),
    ];

    /// The spelling, e.g. `>=`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, o)| *o == self)
            .map_or("?", |(s, _)| s)
    }

    /// The operator that holds exactly when this one does not.
    #[must_use]
    pub fn negated(self) -> Op {
        match self {
            Op::Eq => Op::Ne,
            Op::Ne => Op::Eq,
            Op::Le => Op::Gt,
            Op::Ge => Op::Lt,
            Op::Lt => Op::Ge,
            Op::Gt => Op::Le,
        }
    }

    fn holds(self, ord: std::cmp::Ordering) -> bool {
        use std::cmp::Ordering::{Equal, Greater, Less};
        match self {
            Op::Eq => ord == Equal,
            Op::Ne => ord != Equal,
            Op::Le => ord != Greater,
            Op::Ge => ord != Less,
            Op::Lt => ord == Less,
            Op::Gt => ord == Greater,
        }
    }
}

/// What an expectation measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Settled slots that ended in a liveness fault.
    LivenessFaults,
    /// Settled slots that were finalized (in any phase).
    Finalized,
    /// Settled slots.
    Slots,
    /// Stake slashed (invalid or stolen proofs, equivocation), reward units.
    Slashed,
    /// Protocol penalties taken from stake (`PENALTY_*`), reward units.
    Penalized,
    /// Rewards paid, reward units.
    Paid,
    /// `slashed[honest]`.
    HonestSlashed,
    /// Detector warnings (late, equivocation, invalid or stolen proof).
    Warnings,
    /// A slot's outcome (`finalized_t1` … `finalized_t5`, `liveness_fault`).
    Outcome,
    /// Loss: payments + P × liveness faults (the engine's figure), reward units.
    Loss,
    /// Rewards minted, reward units.
    Payments,
    /// Proofs carried by included messages.
    ProofsSubmitted,
    /// Of which valid.
    ProofsValid,
    /// The engine's ledger conservation check (`true` / `false`).
    ConservationOk,
    /// Stake at the end of the run, reward units.
    Stake,
    /// Balance at the end of the run, reward units.
    Balance,
}

/// The kind of value a metric has.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Number,
    Bool,
    Outcome,
}

impl Metric {
    const ALL: [(&'static str, Metric); 16] = [
        ("liveness_faults", Metric::LivenessFaults),
        ("finalized", Metric::Finalized),
        ("slots", Metric::Slots),
        ("slashed", Metric::Slashed),
        ("penalized", Metric::Penalized),
        ("paid", Metric::Paid),
        ("honest_slashed", Metric::HonestSlashed),
        ("warnings", Metric::Warnings),
        ("outcome", Metric::Outcome),
        ("loss", Metric::Loss),
        ("payments", Metric::Payments),
        ("proofs_submitted", Metric::ProofsSubmitted),
        ("proofs_valid", Metric::ProofsValid),
        ("conservation_ok", Metric::ConservationOk),
        ("stake", Metric::Stake),
        ("balance", Metric::Balance),
    ];

    /// The spelling, e.g. `liveness_faults`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        Self::ALL
            .iter()
            .find(|(_, m)| *m == self)
            .map_or("?", |(s, _)| s)
    }

    /// Every metric name, for help texts and errors.
    #[must_use]
    pub fn names() -> Vec<&'static str> {
        Self::ALL.iter().map(|(s, _)| *s).collect()
    }

    fn kind(self) -> Kind {
        match self {
            Metric::Outcome => Kind::Outcome,
            Metric::ConservationOk => Kind::Bool,
            _ => Kind::Number,
        }
    }

    /// Whether the metric takes `slot=N`.
    fn takes_slot(self) -> bool {
        !matches!(
            self,
            Metric::LivenessFaults
                | Metric::Finalized
                | Metric::Slots
                | Metric::Stake
                | Metric::Balance
        )
    }

    /// Whether the metric takes who (`adversary`, `honest`, `all`, a node name).
    fn takes_who(self) -> bool {
        matches!(
            self,
            Metric::Slashed
                | Metric::Penalized
                | Metric::Paid
                | Metric::Warnings
                | Metric::Stake
                | Metric::Balance
        )
    }

    /// The selector forms the metric takes, for errors.
    fn usage(self) -> String {
        let m = self.as_str();
        match (self.takes_who(), self.takes_slot(), self) {
            (_, _, Metric::Warnings) => format!("`{m}[KIND,WHO,slot=N]`, each item optional"),
            (_, _, Metric::Outcome) => format!("`{m}[slot=N]`"),
            (true, true, _) => format!("`{m}[WHO]`, `{m}[WHO,slot=N]` or `{m}[slot=N]`"),
            (true, false, _) => format!("`{m}[WHO]`"),
            (false, true, _) => format!("`{m}` or `{m}[slot=N]`"),
            (false, false, _) => format!("`{m}` without a selector"),
        }
    }
}

/// Whose ledger entries or warnings a metric counts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Who {
    /// Every node.
    All,
    /// The provers whose keys the adversary agent holds.
    Adversary,
    /// Every node the adversary does not control.
    Honest,
    /// One node, by name (`prover-3`, `validator-0`).
    Node(String),
}

impl fmt::Display for Who {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Who::All => f.write_str("all"),
            Who::Adversary => f.write_str("adversary"),
            Who::Honest => f.write_str("honest"),
            Who::Node(n) => f.write_str(n),
        }
    }
}

/// The `[...]` part of an expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Selector {
    /// Whose entries count (default: every node).
    pub who: Who,
    /// One slot instead of the whole run.
    pub slot: Option<u64>,
    /// `warnings` only: one kind of warning.
    pub kind: Option<WarningKind>,
}

/// A value an expectation compares with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Value {
    /// A count or an amount of reward units.
    Number(u64),
    /// `true` / `false`.
    Bool(bool),
    /// A slot outcome.
    Outcome(Outcome),
}

impl fmt::Display for Value {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Value::Number(n) => write!(f, "{n}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Outcome(o) => f.write_str(o.as_str()),
        }
    }
}

impl Serialize for Value {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Value::Number(n) => s.serialize_u64(*n),
            Value::Bool(b) => s.serialize_bool(*b),
            Value::Outcome(o) => s.serialize_str(o.as_str()),
        }
    }
}

/// Why an expectation string does not parse: the 0-based character offset of the
/// offending token in the string, and a sentence.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// Character offset of the offending token within the expectation string.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl ParseError {
    fn at(offset: usize, message: impl Into<String>) -> Self {
        Self {
            offset,
            message: message.into(),
        }
    }
}

/// Character offsets of the parts of an expectation that are checked against the
/// devnet after parsing (node names, slot numbers).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
struct Spans {
    who: Option<usize>,
    slot: Option<usize>,
}

/// One parsed expectation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Expectation {
    /// The string as written in the scenario file.
    pub text: String,
    /// What is measured.
    pub metric: Metric,
    /// Whose and which slot.
    pub selector: Selector,
    /// The comparison.
    pub op: Op,
    /// The value compared with.
    pub value: Value,
    spans: Spans,
}

/// The outcome names, as in the report.
const OUTCOMES: [Outcome; 6] = [
    Outcome::FinalizedT1,
    Outcome::FinalizedT2,
    Outcome::FinalizedT3,
    Outcome::FinalizedT4,
    Outcome::FinalizedT5,
    Outcome::LivenessFault,
];

/// The warning kinds, as in the report.
const WARNING_KINDS: [(&str, WarningKind); 4] = [
    ("late", WarningKind::Late),
    ("equivocation", WarningKind::Equivocation),
    ("invalid_proof", WarningKind::InvalidProof),
    ("stolen_proof", WarningKind::StolenProof),
];

fn warning_name(kind: WarningKind) -> &'static str {
    WARNING_KINDS
        .iter()
        .find(|(_, k)| *k == kind)
        .map_or("?", |(s, _)| s)
}

/// A string scanned by characters, with offsets in characters.
struct Scan<'a> {
    chars: Vec<char>,
    pos: usize,
    text: &'a str,
}

impl Scan<'_> {
    fn skip_ws(&mut self) {
        while self.chars.get(self.pos).is_some_and(|c| c.is_whitespace()) {
            self.pos += 1;
        }
    }

    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).copied()
    }

    fn take_while(&mut self, f: impl Fn(char) -> bool) -> String {
        let start = self.pos;
        while self.peek().is_some_and(&f) {
            self.pos += 1;
        }
        self.chars[start..self.pos].iter().collect()
    }

    fn rest(&self) -> String {
        self.chars[self.pos..].iter().collect()
    }
}

impl Expectation {
    /// Parse one expectation string.
    ///
    /// # Errors
    /// [`ParseError`] with the offset of the offending token: an unknown metric, a
    /// selector the metric does not take, a missing or unknown operator, an operator
    /// the value kind does not allow, or a value that is not a number, `true`/`false`
    /// or an outcome name as the metric needs.
    pub fn parse(text: &str) -> Result<Self, ParseError> {
        let mut s = Scan {
            chars: text.chars().collect(),
            pos: 0,
            text,
        };
        s.skip_ws();
        let metric_at = s.pos;
        let name = s.take_while(|c| c.is_ascii_alphanumeric() || c == '_');
        if name.is_empty() {
            return Err(ParseError::at(
                metric_at,
                format!(
                    "expected a metric name (one of {})",
                    Metric::names().join(", ")
                ),
            ));
        }
        let metric = Metric::ALL
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, m)| *m)
            .ok_or_else(|| {
                ParseError::at(
                    metric_at,
                    format!(
                        "unknown metric `{name}` (known: {})",
                        Metric::names().join(", ")
                    ),
                )
            })?;
        let (selector, spans) = if s.peek() == Some('[') {
            parse_selector(&mut s, metric)?
        } else {
            (
                Selector {
                    who: Who::All,
                    slot: None,
                    kind: None,
                },
                Spans::default(),
            )
        };
        if metric == Metric::Outcome && selector.slot.is_none() {
            return Err(ParseError::at(
                metric_at,
                format!("`outcome` needs a slot: {}", metric.usage()),
            ));
        }
        s.skip_ws();
        let op_at = s.pos;
        let rest = s.rest();
        let Some((spelling, op)) = Op::ALL.iter().find(|(o, _)| rest.starts_with(o)) else {
            let found: String = rest.chars().take_while(|c| !c.is_whitespace()).collect();
            let found = if found.is_empty() {
                "the end".to_owned()
            } else {
                format!("`{found}`")
            };
            return Err(ParseError::at(
                op_at,
                format!(
                    "expected an operator (==, !=, <=, >=, <, >) after `{}`, found {found}",
                    s.text[..byte_of(s.text, op_at)].trim_end()
                ),
            ));
        };
        s.pos += spelling.chars().count();
        if metric.kind() != Kind::Number && !matches!(op, Op::Eq | Op::Ne) {
            return Err(ParseError::at(
                op_at,
                format!(
                    "`{}` compares with == or != only, not {spelling}",
                    metric.as_str()
                ),
            ));
        }
        s.skip_ws();
        let value_at = s.pos;
        let raw = s.rest();
        let raw = raw.trim_end();
        let value = parse_value(metric, raw).map_err(|m| ParseError::at(value_at, m))?;
        Ok(Expectation {
            text: text.to_owned(),
            metric,
            selector,
            op: *op,
            value,
            spans,
        })
    }

    /// The expectation that holds exactly when this one fails (the operator negated):
    /// used to check that a scenario's expectations would catch a broken run.
    #[must_use]
    pub fn negated(&self) -> Expectation {
        let mut e = self.clone();
        e.op = self.op.negated();
        e.text = e.to_string();
        e
    }

    /// The node name in the selector and its character offset, if any (checked
    /// against the devnet by the scenario loader).
    #[must_use]
    pub fn node(&self) -> Option<(&str, usize)> {
        match &self.selector.who {
            Who::Node(n) => Some((n.as_str(), self.spans.who.unwrap_or(0))),
            _ => None,
        }
    }

    /// The slot in the selector and its character offset, if any.
    #[must_use]
    pub fn slot(&self) -> Option<(u64, usize)> {
        self.selector
            .slot
            .map(|n| (n, self.spans.slot.unwrap_or(0)))
    }

    /// Measure the metric on `report`.
    ///
    /// # Errors
    /// Why it cannot be measured: the selected slot did not settle, or the named node
    /// is not in the report.
    pub fn measure(&self, report: &Report) -> Result<Value, String> {
        let sel = &self.selector;
        let slots: Vec<&SlotReport> = match sel.slot {
            Some(n) => vec![
                report
                    .slots
                    .iter()
                    .find(|s| s.slot == n)
                    .ok_or_else(|| format!("slot {n} did not settle"))?,
            ],
            None => report.slots.iter().collect(),
        };
        let who = if self.metric == Metric::HonestSlashed {
            Who::Honest
        } else {
            sel.who.clone()
        };
        let members = members(report, &who)?;
        let count = |f: &dyn Fn(&SlotReport) -> bool| slots.iter().filter(|s| f(s)).count() as u64;
        let sum =
            |f: &dyn Fn(&SlotReport) -> u64| slots.iter().fold(0u64, |a, s| a.saturating_add(f(s)));
        let by_node = |m: &std::collections::BTreeMap<String, u64>| {
            m.iter()
                .filter(|(a, _)| members.as_ref().is_none_or(|set| set.contains(a.as_str())))
                .fold(0u64, |a, (_, v)| a.saturating_add(*v))
        };
        Ok(match self.metric {
            Metric::LivenessFaults => Value::Number(count(&|s| !s.outcome.is_finalized())),
            Metric::Finalized => Value::Number(count(&|s| s.outcome.is_finalized())),
            Metric::Slots => Value::Number(slots.len() as u64),
            Metric::Slashed | Metric::HonestSlashed => Value::Number(sum(&|s| by_node(&s.slashed))),
            Metric::Penalized => Value::Number(sum(&|s| by_node(&s.penalized))),
            Metric::Paid => Value::Number(sum(&|s| by_node(&s.paid))),
            Metric::Warnings => Value::Number(sum(&|s| {
                s.warnings
                    .iter()
                    .filter(|w| sel.kind.is_none_or(|k| k == w.kind))
                    .filter(|w| {
                        members
                            .as_ref()
                            .is_none_or(|set| set.contains(w.node.as_str()))
                    })
                    .count() as u64
            })),
            Metric::Outcome => {
                Value::Outcome(slots.first().map_or(Outcome::LivenessFault, |s| s.outcome))
            }
            Metric::Loss => Value::Number(sum(&|s| s.loss)),
            Metric::Payments => Value::Number(sum(&|s| s.payments)),
            Metric::ProofsSubmitted => Value::Number(sum(&|s| u64::from(s.proofs_submitted))),
            Metric::ProofsValid => Value::Number(sum(&|s| u64::from(s.proofs_valid))),
            Metric::ConservationOk => Value::Bool(
                slots.iter().all(|s| s.conservation_ok)
                    && (sel.slot.is_some() || report.conservation_ok),
            ),
            Metric::Stake | Metric::Balance => Value::Number(
                report
                    .nodes
                    .iter()
                    .filter(|n| {
                        members
                            .as_ref()
                            .is_none_or(|set| set.contains(n.address.as_str()))
                    })
                    .fold(0u64, |a, n| {
                        a.saturating_add(if self.metric == Metric::Stake {
                            n.stake
                        } else {
                            n.balance
                        })
                    }),
            ),
        })
    }

    /// Measure and compare: the [`Checked`] line of the scenario report.
    #[must_use]
    pub fn check(&self, report: &Report) -> Checked {
        match self.measure(report) {
            Ok(measured) => Checked {
                expect: self.text.clone(),
                pass: self.holds(measured),
                measured: Some(measured),
                note: None,
            },
            Err(note) => Checked {
                expect: self.text.clone(),
                measured: None,
                pass: false,
                note: Some(note),
            },
        }
    }

    /// Whether `measured` satisfies the comparison.
    #[must_use]
    pub fn holds(&self, measured: Value) -> bool {
        match (measured, self.value) {
            (Value::Number(a), Value::Number(b)) => self.op.holds(a.cmp(&b)),
            (Value::Bool(a), Value::Bool(b)) => self.op.holds(if a == b {
                std::cmp::Ordering::Equal
            } else {
                std::cmp::Ordering::Less
            }),
            (Value::Outcome(a), Value::Outcome(b)) => self.op.holds(if a == b {
                std::cmp::Ordering::Equal
            } else {
                std::cmp::Ordering::Less
            }),
            _ => false,
        }
    }
}

impl fmt::Display for Expectation {
    /// The canonical spelling, e.g. `warnings[stolen_proof,adversary,slot=0] >= 1`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sel = &self.selector;
        let mut items = Vec::new();
        if let Some(k) = sel.kind {
            items.push(warning_name(k).to_owned());
        }
        if sel.who != Who::All {
            items.push(sel.who.to_string());
        }
        if let Some(n) = sel.slot {
            items.push(format!("slot={n}"));
        }
        f.write_str(self.metric.as_str())?;
        if !items.is_empty() {
            write!(f, "[{}]", items.join(","))?;
        }
        write!(f, " {} {}", self.op.as_str(), self.value)
    }
}

/// One expectation of a scenario run: as written, what was measured, and whether it
/// held. `measured` is absent (and `note` says why) when it could not be measured.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Checked {
    /// The expectation as written.
    pub expect: String,
    /// The measured value.
    pub measured: Option<Value>,
    /// Whether the expectation held.
    pub pass: bool,
    /// Why it could not be measured, if so.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// The checksummed addresses `who` stands for in `report` (`None`: every node).
fn members(report: &Report, who: &Who) -> Result<Option<BTreeSet<String>>, String> {
    let pick = |f: &dyn Fn(&crate::headless::NodeReport) -> bool| {
        Some(
            report
                .nodes
                .iter()
                .filter(|n| f(n))
                .map(|n| n.address.clone())
                .collect(),
        )
    };
    Ok(match who {
        Who::All => None,
        Who::Adversary => pick(&|n| n.adversary_controlled),
        Who::Honest => pick(&|n| !n.adversary_controlled),
        Who::Node(name) => {
            let set: BTreeSet<String> = report
                .nodes
                .iter()
                .filter(|n| n.name == *name)
                .map(|n| n.address.clone())
                .collect();
            if set.is_empty() {
                return Err(format!("no node named {name} in the run"));
            }
            Some(set)
        }
    })
}

/// The byte index of character offset `chars` in `s`.
fn byte_of(s: &str, chars: usize) -> usize {
    s.char_indices().nth(chars).map_or(s.len(), |(b, _)| b)
}

/// True for a node name: `validator-N`, `prover-N`, `adversary-N`.
fn is_node_name(s: &str) -> bool {
    s.split_once('-').is_some_and(|(role, n)| {
        matches!(role, "validator" | "prover" | "adversary")
            && !n.is_empty()
            && n.chars().all(|c| c.is_ascii_digit())
    })
}

fn parse_selector(s: &mut Scan<'_>, metric: Metric) -> Result<(Selector, Spans), ParseError> {
    let open = s.pos;
    s.pos += 1;
    let mut sel = Selector {
        who: Who::All,
        slot: None,
        kind: None,
    };
    let mut spans = Spans::default();
    let close = (s.pos..s.chars.len())
        .find(|&i| s.chars[i] == ']')
        .ok_or_else(|| ParseError::at(open, "unclosed `[`: a selector ends with `]`"))?;
    let mut start = s.pos;
    for i in s.pos..=close {
        if i < close && s.chars[i] != ',' {
            continue;
        }
        let raw: String = s.chars[start..i].iter().collect();
        let lead = raw.chars().take_while(|c| c.is_whitespace()).count();
        let item = raw.trim();
        let at = start + lead;
        start = i + 1;
        if item.is_empty() {
            return Err(ParseError::at(
                at,
                format!(
                    "empty selector item; {} takes {}",
                    metric.as_str(),
                    metric.usage()
                ),
            ));
        }
        let wrong = |what: &str| {
            ParseError::at(
                at,
                format!(
                    "`{}` takes no {what}: use {}",
                    metric.as_str(),
                    metric.usage()
                ),
            )
        };
        if let Some(n) = item.strip_prefix("slot") {
            let n = n
                .trim_start()
                .strip_prefix('=')
                .map(str::trim)
                .ok_or_else(|| {
                    ParseError::at(at, format!("`{item}`: a slot selector is written `slot=N`"))
                })?;
            if !metric.takes_slot() {
                return Err(wrong("slot"));
            }
            if sel.slot.is_some() {
                return Err(ParseError::at(at, "two slot selectors"));
            }
            sel.slot = Some(n.parse().map_err(|_| {
                ParseError::at(at, format!("`{item}`: the slot must be a number (slot=N)"))
            })?);
            spans.slot = Some(at);
        } else if let Some((_, kind)) = WARNING_KINDS.iter().find(|(n, _)| *n == item) {
            if metric != Metric::Warnings {
                return Err(wrong("warning kind"));
            }
            if sel.kind.is_some() {
                return Err(ParseError::at(at, "two warning kinds"));
            }
            sel.kind = Some(*kind);
        } else {
            let who = match item {
                "adversary" => Who::Adversary,
                "honest" => Who::Honest,
                "all" => Who::All,
                n if is_node_name(n) => Who::Node(n.to_owned()),
                other => {
                    let kinds = if metric == Metric::Warnings {
                        format!(
                            ", a warning kind ({})",
                            WARNING_KINDS.map(|(n, _)| n).join(", ")
                        )
                    } else {
                        String::new()
                    };
                    return Err(ParseError::at(
                        at,
                        format!(
                            "unknown selector `{other}`: expected slot=N{kinds}, adversary, honest, all or a node name such as prover-3"
                        ),
                    ));
                }
            };
            if !metric.takes_who() {
                return Err(wrong("node selector"));
            }
            if spans.who.is_some() {
                return Err(ParseError::at(at, "two node selectors"));
            }
            sel.who = who;
            spans.who = Some(at);
        }
    }
    s.pos = close + 1;
    Ok((sel, spans))
}

fn parse_value(metric: Metric, raw: &str) -> Result<Value, String> {
    if raw.is_empty() {
        return Err("expected a value after the operator".to_owned());
    }
    match metric.kind() {
        Kind::Number => raw.parse::<u64>().map(Value::Number).map_err(|_| {
            format!(
                "`{raw}` is not a number: `{}` is a count or an amount of reward units",
                metric.as_str()
            )
        }),
        Kind::Bool => match raw {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err(format!("`{raw}` is not true or false")),
        },
        Kind::Outcome => OUTCOMES
            .iter()
            .find(|o| o.as_str() == raw)
            .map(|o| Value::Outcome(*o))
            .ok_or_else(|| {
                format!(
                    "`{raw}` is not an outcome (one of {})",
                    OUTCOMES.map(Outcome::as_str).join(", ")
                )
            }),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::headless::{NodeReport, Totals, WarningReport};
    use crate::protocol::{Phase, Role};

    fn e(s: &str) -> Expectation {
        Expectation::parse(s).unwrap_or_else(|err| panic!("{s}: {err:?}"))
    }

    fn err(s: &str) -> ParseError {
        Expectation::parse(s).expect_err(s)
    }

    #[test]
    fn parses_metrics_selectors_operators_and_values() {
        let x = e("slashed[adversary] >= 100");
        assert_eq!(x.metric, Metric::Slashed);
        assert_eq!(x.selector.who, Who::Adversary);
        assert_eq!((x.op, x.value), (Op::Ge, Value::Number(100)));
        let x = e("  warnings[ stolen_proof , prover-7, slot=1 ]==1 ");
        assert_eq!(x.selector.kind, Some(WarningKind::StolenProof));
        assert_eq!(x.selector.who, Who::Node("prover-7".into()));
        assert_eq!(x.selector.slot, Some(1));
        assert_eq!(x.node(), Some(("prover-7", 27)));
        assert_eq!(x.slot(), Some((1, 37)));
        assert_eq!(x.to_string(), "warnings[stolen_proof,prover-7,slot=1] == 1");
        let x = e("outcome[slot=1] == finalized_t3");
        assert_eq!(x.value, Value::Outcome(Outcome::FinalizedT3));
        assert_eq!(e("conservation_ok == true").value, Value::Bool(true));
        assert_eq!(e("honest_slashed == 0").metric, Metric::HonestSlashed);
        assert_eq!(e("liveness_faults<1").op, Op::Lt);
        assert_eq!(e("loss[slot=0] > 10000").op, Op::Gt);
        assert_eq!(e("payments != 0").op, Op::Ne);
        assert_eq!(e("paid[honest,slot=0] <= 9").op, Op::Le);
        for m in Metric::names() {
            assert_eq!(
                Metric::ALL
                    .iter()
                    .find(|(n, _)| *n == m)
                    .unwrap()
                    .1
                    .as_str(),
                m
            );
        }
    }

    #[test]
    fn errors_point_at_the_offending_token() {
        let x = err("slashd[adversary] >= 1");
        assert_eq!(x.offset, 0);
        assert!(
            x.message.contains("unknown metric `slashd`"),
            "{}",
            x.message
        );
        let x = err("slashed[adversary] => 1");
        assert_eq!(x.offset, 19);
        assert!(x.message.contains("expected an operator"), "{}", x.message);
        assert!(x.message.contains("found `=>`"), "{}", x.message);
        let x = err("slashed[adversary] = 1");
        assert_eq!(x.offset, 19);
        let x = err("liveness_faults");
        assert_eq!(x.offset, 15);
        assert!(x.message.contains("found the end"), "{}", x.message);
        let x = err("slashed >= lots");
        assert_eq!(x.offset, 11);
        assert!(
            x.message.contains("`lots` is not a number"),
            "{}",
            x.message
        );
        let x = err("outcome[slot=1] == finalised_t3");
        assert_eq!(x.offset, 19);
        assert!(x.message.contains("finalized_t3"), "{}", x.message);
        let x = err("outcome[slot=1] >= finalized_t3");
        assert_eq!(x.offset, 16);
        let x = err("outcome == finalized_t3");
        assert!(x.message.contains("needs a slot"), "{}", x.message);
        let x = err("warnings[stolen,slot=1] >= 1");
        assert_eq!(x.offset, 9);
        assert!(
            x.message.contains("unknown selector `stolen`"),
            "{}",
            x.message
        );
        let x = err("loss[adversary] >= 1");
        assert_eq!(x.offset, 5);
        assert!(
            x.message.contains("`loss` takes no node selector"),
            "{}",
            x.message
        );
        let x = err("finalized[slot=1] == 1");
        assert_eq!(x.offset, 10);
        let x = err("slashed[stolen_proof] == 1");
        assert_eq!(x.offset, 8);
        let x = err("slashed[slot=x] == 1");
        assert_eq!(x.offset, 8);
        let x = err("slashed[adversary >= 1");
        assert_eq!(x.offset, 7);
        assert_eq!(err("conservation_ok == yes").offset, 19);
        assert_eq!(err("warnings[late,] == 0").offset, 14);
        assert_eq!(err("").offset, 0);
        // Offsets count characters, not bytes.
        assert_eq!(err("slashed[adversary] ≥ 1").offset, 19);
    }

    #[test]
    fn negation_flips_every_operator() {
        for (a, b) in [("==", "!="), ("<=", ">"), (">=", "<")] {
            let x = e(&format!("payments {a} 5"));
            assert_eq!(x.negated().to_string(), format!("payments {b} 5"));
            assert_eq!(x.negated().negated().op, x.op);
        }
        let x = e("outcome[slot=0]==liveness_fault");
        assert_eq!(x.negated().text, "outcome[slot=0] != liveness_fault");
    }

    fn addr(n: u8) -> String {
        format!("0x{:040x}", n)
    }

    fn node(name: &str, n: u8, adv: bool, stake: u64) -> NodeReport {
        NodeReport {
            name: name.into(),
            role: if name.starts_with('v') {
                Role::Validator
            } else {
                Role::Prover
            },
            address: addr(n),
            adversary_controlled: adv,
            stake,
            balance: 5,
            down: None,
            container: None,
        }
    }

    fn slot(n: u64, outcome: Outcome) -> SlotReport {
        SlotReport {
            slot: n,
            block: n,
            outcome,
            proofs_submitted: 9,
            proofs_valid: 8,
            paid: BTreeMap::from([(addr(1), 10), (addr(2), 20), (addr(3), 3)]),
            penalized: BTreeMap::from([(addr(2), 1)]),
            slashed: BTreeMap::from([(addr(3), 100)]),
            payments: 33,
            loss: if outcome.is_finalized() { 33 } else { 10_033 },
            conservation_ok: true,
            warnings: vec![WarningReport {
                node: addr(3),
                kind: WarningKind::InvalidProof,
                phase: Phase::T2,
                detail: String::new(),
            }],
            wall_s: 1.0,
            proving_critical_path_s: None,
        }
    }

    fn report() -> Report {
        Report {
            devnet: "t".into(),
            runtime: "inproc".into(),
            seed: 1,
            fast: true,
            slots_requested: Some(2),
            slots: vec![
                slot(0, Outcome::LivenessFault),
                slot(1, Outcome::FinalizedT3),
            ],
            totals: Totals::default(),
            conservation_ok: true,
            nodes: vec![
                node("validator-0", 1, false, 32_000),
                node("prover-0", 2, false, 998),
                node("prover-1", 3, true, 800),
            ],
            exit_code: 0,
            failures: vec![],
            faults: vec![],
            mechanism: None,
        }
    }

    fn measured(s: &str) -> Value {
        e(s).measure(&report())
            .unwrap_or_else(|m| panic!("{s}: {m}"))
    }

    #[test]
    fn measures_each_metric_on_a_report() {
        use Value::{Bool, Number};
        assert_eq!(measured("liveness_faults == 0"), Number(1));
        assert_eq!(measured("finalized == 0"), Number(1));
        assert_eq!(measured("slots == 0"), Number(2));
        assert_eq!(measured("slashed == 0"), Number(200));
        assert_eq!(measured("slashed[adversary] == 0"), Number(200));
        assert_eq!(measured("slashed[honest] == 0"), Number(0));
        assert_eq!(measured("honest_slashed == 0"), Number(0));
        assert_eq!(measured("honest_slashed[slot=1] == 0"), Number(0));
        assert_eq!(measured("paid[honest,slot=1] == 0"), Number(30));
        assert_eq!(measured("paid[prover-1] == 0"), Number(6));
        assert_eq!(measured("penalized[prover-0,slot=0] == 0"), Number(1));
        assert_eq!(measured("warnings == 0"), Number(2));
        assert_eq!(
            measured("warnings[invalid_proof,adversary,slot=0] == 0"),
            Number(1)
        );
        assert_eq!(measured("warnings[late] == 0"), Number(0));
        assert_eq!(measured("warnings[honest] == 0"), Number(0));
        assert_eq!(
            measured("outcome[slot=0] == finalized_t3"),
            Value::Outcome(Outcome::LivenessFault)
        );
        assert_eq!(measured("loss == 0"), Number(10_066));
        assert_eq!(measured("loss[slot=1] == 0"), Number(33));
        assert_eq!(measured("payments == 0"), Number(66));
        assert_eq!(measured("proofs_submitted == 0"), Number(18));
        assert_eq!(measured("proofs_valid[slot=0] == 0"), Number(8));
        assert_eq!(measured("conservation_ok == false"), Bool(true));
        assert_eq!(measured("stake[adversary] == 0"), Number(800));
        assert_eq!(measured("stake == 0"), Number(33_798));
        assert_eq!(measured("balance[honest] == 0"), Number(10));
    }

    #[test]
    fn checks_pass_fail_and_unmeasurable() {
        let r = report();
        let c = e("slashed[adversary] >= 100").check(&r);
        assert_eq!((c.pass, c.measured), (true, Some(Value::Number(200))));
        let c = e("outcome[slot=0] == finalized_t3").check(&r);
        assert!(!c.pass);
        let c = e("outcome[slot=0] != finalized_t3").check(&r);
        assert!(c.pass);
        let c = e("conservation_ok == true").check(&r);
        assert!(c.pass);
        let c = e("outcome[slot=5] == finalized_t3").check(&r);
        assert_eq!((c.pass, c.measured), (false, None));
        assert_eq!(c.note.as_deref(), Some("slot 5 did not settle"));
        let c = e("paid[prover-9] >= 0").check(&r);
        assert_eq!(c.note.as_deref(), Some("no node named prover-9 in the run"));
        let json = serde_json::to_value(e("outcome[slot=1] == finalized_t3").check(&r)).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"expect": "outcome[slot=1] == finalized_t3", "measured": "finalized_t3", "pass": true})
        );
        // Every expectation and its negation disagree.
        for s in [
            "slashed >= 200",
            "liveness_faults == 1",
            "loss < 5",
            "conservation_ok == true",
        ] {
            let x = e(s);
            assert_ne!(x.check(&r).pass, x.negated().check(&r).pass, "{s}");
        }
    }
}
