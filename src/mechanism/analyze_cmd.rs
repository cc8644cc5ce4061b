//! `dpgnet analyze`: the paper's and the post's math as a command for
//! practitioners: optimal parameters, worst-case losses, `ε*(p, S)`, heatmaps.
//!
//! The CLI maps an `Err` from [`validate`] or [`run`] to exit code 2 (bad
//! usage); every message is one sentence.

use std::fmt::Write as _;
use std::io::Write;
use std::time::Instant;

use clap::{Args, Subcommand};

use super::analysis::{
    self, AnalysisError, CapacityAnalysis, DesignatedAnalysis, Grid, MechanismKind, Optimality,
    ProcurementParams, SymmetricBinding,
};

const DESIGNATED_AFTER_HELP: &str = "\
Units: the cost of producing one proof is 1 (paper §2), so the penalty P, the
stake B and every loss are in proof costs. The attacker corrupts up to
f = n - ceil(alpha * n) provers for one slot (paper §2, Rem. 2.1).

Examples:
  dpgnet analyze designated --provers 100 --honest-fraction 0.67 --penalty 10000
  dpgnet analyze designated --provers 100 --honest-fraction 0.67 --penalty 10000 --stake 500
  dpgnet analyze designated --provers 200 --corrupted 100 --penalty 20 --json
  dpgnet analyze designated --provers 50 --grid";

const CAPACITY_AFTER_HELP: &str = "\
Units: the cost of one unit of work is 1 (post §2), so the stake S, utilities
and the protocol cost 2e* are in unit-work costs; e* is a probability.

Examples:
  dpgnet analyze capacity --power 2 --stake 8
  dpgnet analyze capacity --power 1.5 --stake 20 --json
  dpgnet analyze capacity --grid";

/// `dpgnet analyze`: optimal mechanism parameters from the research seeds.
#[derive(Debug, Clone, Args)]
pub struct AnalyzeArgs {
    /// Which analysis.
    #[command(subcommand)]
    pub command: AnalyzeCommand,
}

/// The analyses.
#[derive(Debug, Clone, Subcommand)]
pub enum AnalyzeCommand {
    /// Designated leader + committee, symmetric committees, lottery
    /// (adversarial-procurement-paper.txt).
    #[command(after_help = DESIGNATED_AFTER_HELP)]
    Designated(DesignatedArgs),
    /// Random capacity audits with convex rewards and slashing: e*(p, S)
    /// (capacity-oracles-post.txt).
    #[command(after_help = CAPACITY_AFTER_HELP)]
    Capacity(CapacityArgs),
}

/// `dpgnet analyze designated`.
#[derive(Debug, Clone, Args)]
pub struct DesignatedArgs {
    /// Number of provers n.
    #[arg(long, value_name = "N")]
    pub provers: u64,
    /// Fraction of provers that are honest, in (0, 1].
    #[arg(
        long,
        value_name = "A",
        allow_negative_numbers = true,
        conflicts_with = "corrupted",
        required_unless_present_any = ["corrupted", "grid"]
    )]
    pub honest_fraction: Option<f64>,
    /// Number of provers the attacker corrupts, f < n (instead of --honest-fraction).
    #[arg(long, value_name = "F")]
    pub corrupted: Option<u64>,
    /// Penalty P of a liveness fault, in proof costs.
    #[arg(
        long,
        value_name = "P",
        allow_negative_numbers = true,
        required_unless_present = "grid"
    )]
    pub penalty: Option<f64>,
    /// Aggregate stake B the protocol may slash as insurance, in proof costs.
    #[arg(
        long,
        value_name = "B",
        default_value_t = 0.0,
        allow_negative_numbers = true
    )]
    pub stake: f64,
    /// Print a heatmap over (penalty P, honest fraction) instead.
    #[arg(long)]
    pub grid: bool,
    /// Machine-readable JSON output.
    #[arg(long)]
    pub json: bool,
}

/// `dpgnet analyze capacity`.
#[derive(Debug, Clone, Args)]
pub struct CapacityArgs {
    /// Reward power p of r(x) = x^p.
    #[arg(
        long,
        value_name = "p",
        allow_negative_numbers = true,
        required_unless_present = "grid"
    )]
    pub power: Option<f64>,
    /// Stake S slashed per audited bid not fully delivered, in unit-work costs.
    #[arg(
        long,
        value_name = "S",
        allow_negative_numbers = true,
        required_unless_present = "grid"
    )]
    pub stake: Option<f64>,
    /// Print a heatmap of the protocol cost 2e* over (p, S) instead.
    #[arg(long)]
    pub grid: bool,
    /// Machine-readable JSON output.
    #[arg(long)]
    pub json: bool,
}

/// Checks the arguments; the error is one sentence for the CLI to print with
/// exit code 2.
///
/// # Errors
/// An input outside the model (no provers, an honest fraction outside (0, 1],
/// a negative penalty or stake, p outside the supported range, …).
pub fn validate(args: &AnalyzeArgs) -> Result<(), String> {
    match &args.command {
        AnalyzeCommand::Designated(d) => designated_params(d).map(|_| ()),
        AnalyzeCommand::Capacity(c) => capacity_inputs(c).map(|_| ()),
    }
    .map_err(|e| sentence(&e.to_string()))
}

/// Runs the analysis and writes a human table, a heatmap or JSON to `out`.
///
/// # Errors
/// Invalid arguments (the message of [`validate`]) or a failed write.
pub fn run(args: &AnalyzeArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    validate(args).map_err(anyhow::Error::msg)?;
    match &args.command {
        AnalyzeCommand::Designated(d) => run_designated(d, out),
        AnalyzeCommand::Capacity(c) => run_capacity(c, out),
    }
}

fn sentence(s: &str) -> String {
    let mut s = s.trim().to_string();
    if !s.ends_with('.') {
        s.push('.');
    }
    s
}

/// The parameters of a designated run; with `--grid` only `n`, `B` matter.
fn designated_params(d: &DesignatedArgs) -> Result<Option<ProcurementParams>, AnalysisError> {
    let penalty = d.penalty.unwrap_or(1.0);
    let params = match (d.honest_fraction, d.corrupted) {
        (Some(a), _) => ProcurementParams::from_honest_fraction(d.provers, a, penalty, d.stake)?,
        (None, Some(f)) => {
            let p = ProcurementParams {
                provers: d.provers,
                corrupted: f,
                penalty,
                stake: d.stake,
            };
            p.validate()?;
            p
        }
        (None, None) => {
            // --grid without a point: check n and B on a dummy α = 1.
            ProcurementParams::from_honest_fraction(d.provers, 1.0, penalty, d.stake)?;
            return Ok(None);
        }
    };
    if d.penalty.is_none() {
        return Ok(None);
    }
    Ok(Some(params))
}

fn capacity_inputs(c: &CapacityArgs) -> Result<Option<(f64, f64)>, AnalysisError> {
    match (c.power, c.stake) {
        (Some(p), Some(s)) => {
            analysis::validate_capacity(p, s)?;
            Ok(Some((p, s)))
        }
        (Some(p), None) => {
            analysis::validate_capacity(p, 1.0)?;
            Ok(None)
        }
        (None, Some(s)) => {
            analysis::validate_capacity(2.0, s)?;
            Ok(None)
        }
        (None, None) => Ok(None),
    }
}

fn run_designated(d: &DesignatedArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    if d.grid {
        let start = Instant::now();
        let grid = analysis::designated_grid(
            d.provers,
            d.stake,
            &analysis::DEFAULT_HONEST_FRACTIONS,
            &analysis::DEFAULT_PENALTIES,
        )?;
        let elapsed = start.elapsed();
        if d.json {
            serde_json::to_writer_pretty(&mut *out, &grid)?;
            writeln!(out)?;
        } else {
            write_designated_grid(out, d.provers, d.stake, &grid, elapsed.as_secs_f64())?;
        }
        return Ok(());
    }
    let params = designated_params(d)?.expect("validated: penalty and α or f are present");
    let a = analysis::analyze_designated(&params)?;
    if d.json {
        serde_json::to_writer_pretty(&mut *out, &a)?;
        writeln!(out)?;
    } else {
        out.write_all(designated_table(&a).as_bytes())?;
    }
    Ok(())
}

fn run_capacity(c: &CapacityArgs, out: &mut dyn Write) -> anyhow::Result<()> {
    if c.grid {
        let start = Instant::now();
        let grid = analysis::capacity_grid(&analysis::DEFAULT_POWERS, &analysis::DEFAULT_STAKES)?;
        let elapsed = start.elapsed();
        if c.json {
            serde_json::to_writer_pretty(&mut *out, &grid)?;
            writeln!(out)?;
        } else {
            write_capacity_grid(out, &grid, elapsed.as_secs_f64())?;
        }
        return Ok(());
    }
    let (p, s) = capacity_inputs(c)?.expect("validated: --power and --stake are present");
    let a = analysis::analyze_capacity(p, s)?;
    if c.json {
        serde_json::to_writer_pretty(&mut *out, &a)?;
        writeln!(out)?;
    } else {
        out.write_all(capacity_table(&a).as_bytes())?;
    }
    Ok(())
}

/// The human table of `analyze designated`.
#[must_use]
pub fn designated_table(a: &DesignatedAnalysis) -> String {
    let p = &a.params;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "dpgnet analyze designated: adversarial-procurement-paper.txt"
    );
    let _ = writeln!(
        s,
        "  provers n = {}, honest fraction {:.4} ({} honest, attacker corrupts up to f = {}; §2, Rem. 2.1)",
        p.provers,
        a.honest_fraction,
        p.honest(),
        p.corrupted
    );
    let _ = writeln!(
        s,
        "  liveness penalty P = {}, aggregate stake B = {}  (units: one proof costs 1, §2)",
        num(p.penalty),
        num(p.stake)
    );
    let _ = writeln!(s);
    let header = MechRow {
        name: "mechanism",
        committee: "committee".into(),
        honest: "honest left".into(),
        q: "mixing q".into(),
        loss: "worst-case loss".into(),
        source: "from",
    };
    header.write(&mut s);
    let d = &a.designated;
    MechRow {
        name: "designated",
        committee: format!("1 + {}", d.committee_size),
        honest: d.honest_committee.to_string(),
        q: format!("{:.6}", d.mixing_probability),
        loss: format!("{:.4}", d.loss),
        source: "Def. 3.1, Lem. 3.2, Lem. 3.4; stake: Cor. 3.2",
    }
    .write(&mut s);
    let sy = &a.symmetric;
    MechRow {
        name: "symmetric (bound)",
        committee: sy.committee_size.to_string(),
        honest: sy.honest_committee.to_string(),
        q: format!("{:.6}", sy.mixing_probability),
        loss: format!("{:.4}", sy.loss),
        source: match sy.binding {
            SymmetricBinding::Equality => "Def. 3.2, Def. 3.5, Lem. 3.2; stake: Cor. A.2",
            SymmetricBinding::LeftMinimum => "Def. 3.2, Def. 3.5 (left branch at its minimum)",
        },
    }
    .write(&mut s);
    let l = &a.lottery;
    MechRow {
        name: "lottery",
        committee: l.committee_size.to_string(),
        honest: l.committee_size.saturating_sub(p.corrupted).to_string(),
        q: format!("{:.6}", l.mixing_probability),
        loss: format!("{:.4}", l.loss),
        source: "Ex. 3.2, Def. A.2, eq. (8); no stake",
    }
    .write(&mut s);
    let pd = &a.pay_deliverers;
    MechRow {
        name: "pay deliverers",
        committee: p.provers.to_string(),
        honest: p.honest().to_string(),
        q: format!("{:.6}", pd.mixing_probability),
        loss: format!("{:.4}", pd.loss),
        source: "Ex. 3.3; no stake",
    }
    .write(&mut s);
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  designated: pay a fixed {:.4} whenever the designate delivers (Rem. 3.3); under the worst attack a fault has probability {:.3e}{}",
        d.fixed_payment,
        d.fault_probability_under_attack,
        if p.stake > 0.0 {
            format!(
                " and the stake B = {} is slashed to the protocol as insurance (Rem. 3.9)",
                num(p.stake)
            )
        } else {
            String::new()
        }
    );
    match a.lottery_at_symmetric_optimum {
        Some(la1) => {
            let _ = writeln!(
                s,
                "  lottery: prize R = {:.4} (eq. (8)); at the symmetric optimum the lottery loses {:.4} <= 2 x bound {:.4} (Lem. A.1)",
                l.prize,
                la1,
                2.0 * sy.loss
            );
        }
        None => {
            let _ = writeln!(
                s,
                "  lottery: prize R = {:.4} (eq. (8)); it takes no stake (Rem. 4.6)",
                l.prize
            );
        }
    }
    let _ = writeln!(
        s,
        "  continuous limit n -> infinity at this honest fraction: designated loss {:.4} = W(aPe^(a(1+B)))/a - B (Lem. 3.11, Lem. 3.12)",
        a.designated_continuous_limit
    );
    let _ = writeln!(s);
    let verdict = match a.optimality {
        Optimality::DesignatedExact => format!(
            "optimal: designated, loss {:.4}: it is at most the symmetric lower bound, so it is optimal among all mechanisms (Lem. 3.3, Lem. 3.4)",
            a.optimal_loss
        ),
        Optimality::Bounded => format!(
            "optimal: {}, loss {:.4}, the best implemented mechanism here; the symmetric lower bound {:.4} is lower, so the true optimum lies in [{:.4}, {:.4}] and designated is within 1 of it (Thm. 3.1){}",
            a.optimal.name(),
            a.optimal_loss,
            a.lower_bound,
            a.lower_bound,
            a.optimal_loss,
            if a.optimal == MechanismKind::Designated {
                ""
            } else {
                "; the symmetric bound is not always implementable (Ex. 3.4)"
            }
        ),
    };
    let _ = writeln!(s, "  {verdict}");
    s
}

/// The human table of `analyze capacity`.
#[must_use]
pub fn capacity_table(a: &CapacityAnalysis) -> String {
    let mut s = String::new();
    let y = &a.sybil_just_below;
    let _ = writeln!(s, "dpgnet analyze capacity: capacity-oracles-post.txt");
    let _ = writeln!(
        s,
        "  reward r(x) = x^p with p = {}, stake S = {} slashed per audited bid not fully delivered (§3.2, §4.2)",
        num(a.power),
        num(a.stake)
    );
    let _ = writeln!(
        s,
        "  units: one unit of work costs 1 (§2); a delivered bid b is paid b + b^p; honest utility at audit probability e is e"
    );
    let _ = writeln!(s);
    let rows = [
        (
            "e*(p, S)",
            format!("{:.6}", a.epsilon_star),
            "least audit probability with truthful bidding optimal (§4.2)",
        ),
        (
            "protocol cost 2e*",
            format!("{:.6}", a.protocol_cost),
            "(1 + 1^p)·e* for unit capacity (§4.2)",
        ),
        (
            "binding split",
            format!("a = 1/{}", a.binding_split),
            if a.binding_split == 1 {
                "duplicate full bids: e*_1 = 1/(1+S) exactly"
            } else {
                "splitting into smaller bids"
            },
        ),
    ];
    for (name, value, note) in rows {
        let _ = writeln!(s, "  {name:<34} {value:>12}  {note}");
    }
    let _ = writeln!(s);
    let _ = writeln!(
        s,
        "  best Sybil strategy just below e* (e = {:.6}; §4.2 U(N, a)):",
        y.audit_probability
    );
    let _ = writeln!(
        s,
        "    N = {} identities each bidding a = 1/{} = {:.4} (reports {:.4} units of capacity)",
        y.identities, y.split, y.bid, y.reported_capacity
    );
    let _ = writeln!(
        s,
        "    utility {:.8} vs honest {:.8} (gain {:.2e})",
        y.utility,
        y.honest_utility,
        y.utility - y.honest_utility
    );
    if a.truncated {
        let _ = writeln!(
            s,
            "  warning: the search over bids a = 1/j stopped at j = {}; e* is a lower bound",
            analysis::MAX_SPLIT
        );
    }
    s
}

/// One line of the mechanism table.
struct MechRow {
    name: &'static str,
    committee: String,
    honest: String,
    q: String,
    loss: String,
    source: &'static str,
}

impl MechRow {
    fn write(&self, s: &mut String) {
        let _ = writeln!(
            s,
            "  {:<22} {:>10} {:>12} {:>12} {:>16}  {}",
            self.name, self.committee, self.honest, self.q, self.loss, self.source
        );
    }
}

/// Shade blocks from low to high.
const SHADES: [char; 5] = [' ', '░', '▒', '▓', '█'];

fn shade(v: f64, lo: f64, hi: f64, log: bool) -> char {
    let (v, lo, hi) = if log {
        (v.max(1e-300).ln(), lo.max(1e-300).ln(), hi.max(1e-300).ln())
    } else {
        (v, lo, hi)
    };
    let t = if hi > lo { (v - lo) / (hi - lo) } else { 0.0 };
    let i = (t * (SHADES.len() - 1) as f64).round() as usize;
    SHADES[i.min(SHADES.len() - 1)]
}

/// A number in at most 6 characters.
fn compact(v: f64) -> String {
    if !v.is_finite() {
        return "-".into();
    }
    let a = v.abs();
    if a >= 1e5 {
        format!("{v:.0e}")
    } else if a >= 100.0 {
        format!("{v:.0}")
    } else if a >= 10.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

/// A plain number: integers without decimals.
fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.0}")
    } else {
        format!("{v}")
    }
}

struct Heatmap<'a> {
    title: String,
    row_label: &'a str,
    col_label: &'a str,
    rows: Vec<String>,
    cols: Vec<String>,
    values: Vec<Vec<f64>>,
    markers: Option<Vec<Vec<char>>>,
    log: bool,
    footer: Vec<String>,
}

fn write_heatmap(out: &mut dyn Write, h: &Heatmap<'_>) -> std::io::Result<()> {
    const CELL: usize = 9;
    let finite = h.values.iter().flatten().copied().filter(|v| v.is_finite());
    let lo = finite.clone().fold(f64::INFINITY, f64::min);
    let hi = finite.fold(f64::NEG_INFINITY, f64::max);
    let corner = format!("{} \\ {}", h.row_label, h.col_label);
    let label_w = h
        .rows
        .iter()
        .map(|r| r.chars().count())
        .chain([corner.chars().count()])
        .max()
        .unwrap_or(0);
    writeln!(out, "{}", h.title)?;
    writeln!(out)?;
    write!(out, "{corner:>label_w$} |")?;
    for c in &h.cols {
        write!(out, "{c:>CELL$}")?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "{}-+{}",
        "-".repeat(label_w),
        "-".repeat(CELL * h.cols.len())
    )?;
    for (i, r) in h.rows.iter().enumerate() {
        write!(out, "{r:>label_w$} |")?;
        for (j, v) in h.values[i].iter().enumerate() {
            let sh = shade(*v, lo, hi, h.log);
            let mark = h.markers.as_ref().map_or(' ', |m| m[i][j]);
            let text = if mark == ' ' {
                compact(*v)
            } else {
                format!("{mark} {}", compact(*v))
            };
            write!(out, " {sh}{sh}{text:>w$}", w = CELL - 3)?;
        }
        writeln!(out)?;
    }
    writeln!(out)?;
    writeln!(
        out,
        "shade: '{}' lowest {} ... '{}' highest {}{}",
        SHADES[0],
        compact(lo),
        SHADES[SHADES.len() - 1],
        compact(hi),
        if h.log { " (log scale)" } else { "" }
    )?;
    for f in &h.footer {
        writeln!(out, "{f}")?;
    }
    Ok(())
}

fn write_capacity_grid(
    out: &mut dyn Write,
    g: &Grid<analysis::CapacityCell>,
    secs: f64,
) -> std::io::Result<()> {
    let h = Heatmap {
        title: "dpgnet analyze capacity --grid: protocol cost 2e*(p, S) for a perfect capacity oracle (capacity-oracles-post.txt §4.2)".into(),
        row_label: "p",
        col_label: "S",
        rows: g.rows.iter().map(|v| num(*v)).collect(),
        cols: g.cols.iter().map(|v| num(*v)).collect(),
        values: g
            .cells
            .iter()
            .map(|r| r.iter().map(|c| c.protocol_cost).collect())
            .collect(),
        markers: Some(
            g.cells
                .iter()
                .map(|r| r.iter().map(|c| if c.truncated { '>' } else { ' ' }).collect())
                .collect(),
        ),
        log: false,
        footer: vec![
            "rows: reward power p of r(x) = x^p; columns: stake S in unit-work costs; cells: 2e*, unit-work costs".into(),
            format!("computed exactly in {:.1} ms ('>' would mark a truncated search: a lower bound)", secs * 1e3),
        ],
    };
    write_heatmap(out, &h)
}

fn write_designated_grid(
    out: &mut dyn Write,
    provers: u64,
    stake: f64,
    g: &Grid<analysis::DesignatedCell>,
    secs: f64,
) -> std::io::Result<()> {
    let h = Heatmap {
        title: format!(
            "dpgnet analyze designated --grid: optimal designated loss, n = {provers} provers, stake B = {} (adversarial-procurement-paper.txt Def. 3.1, Lem. 3.4)",
            num(stake)
        ),
        row_label: "alpha",
        col_label: "P",
        rows: g.rows.iter().map(|v| num(*v)).collect(),
        cols: g.cols.iter().map(|v| compact(*v)).collect(),
        values: g
            .cells
            .iter()
            .map(|r| r.iter().map(|c| c.designated_loss).collect())
            .collect(),
        markers: Some(
            g.cells
                .iter()
                .map(|r| r.iter().map(|c| if c.designated_optimal { 'D' } else { 's' }).collect())
                .collect(),
        ),
        log: true,
        footer: vec![
            "rows: honest fraction alpha (f = n - ceil(alpha n)); columns: liveness penalty P; cells: worst-case loss in proof costs".into(),
            "D: designated is optimal among all mechanisms (loss <= symmetric bound, Lem. 3.3, 3.4); s: the symmetric bound is lower (designated within 1 of optimal, Thm. 3.1)".into(),
            format!("computed exactly in {:.1} ms", secs * 1e3),
        ],
    };
    write_heatmap(out, &h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use clap::Parser;

    #[derive(Debug, Parser)]
    struct Cli {
        #[command(flatten)]
        args: AnalyzeArgs,
    }

    fn parse(argv: &[&str]) -> AnalyzeArgs {
        let mut v = vec!["analyze"];
        v.extend_from_slice(argv);
        Cli::try_parse_from(v).expect("parses").args
    }

    #[test]
    fn negative_penalty_reaches_validate() {
        let a = parse(&[
            "designated",
            "--provers",
            "10",
            "--honest-fraction",
            "0.5",
            "--penalty",
            "-3",
        ]);
        let e = validate(&a).unwrap_err();
        assert!(e.contains("penalty"), "{e}");
        assert!(e.ends_with('.'));
    }

    #[test]
    fn grid_needs_no_point() {
        let a = parse(&["capacity", "--grid"]);
        assert!(validate(&a).is_ok());
        let a = parse(&["designated", "--provers", "20", "--grid"]);
        assert!(validate(&a).is_ok());
    }
}
