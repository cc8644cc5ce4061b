//! `dpgnet sim --compare`: every mechanism on the same seed and the same attacker over a
//! grid of liveness penalties `P`, as a table (Markdown and CSV) and a plot of loss
//! against `P` (SVG, one line per mechanism with 95% confidence bars), so a person can
//! see where each mechanism wins (issue 5). Every number is simulated ([`super::sim`]).
//!
//! For `designated`, `lottery` and `pay_deliverers` the committee size and mixing
//! probability are re-optimised at each `P` (the paper's optimum, as `dpgnet analyze`
//! prints it) unless `--param kind:m=…` and `kind:q=…` fix them; the other kinds keep
//! their parameters across the grid.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use plotters::coord::ranged1d::ValueFormatter;
use plotters::prelude::*;
use serde::Serialize;

use super::rules::MechanismKind;
use super::sim::stats::Estimate;
use super::sim::{self, AttackStrategy, LABEL, SimError, SimMechanism, SimSetup};

/// One mechanism at one penalty.
#[derive(Debug, Clone, Serialize)]
pub struct ComparePoint {
    /// `P`, reward units.
    pub penalty: u64,
    /// Mean loss per slot, reward units.
    pub loss: Estimate,
    /// Liveness fault rate.
    pub liveness_fault_rate: Estimate,
    /// Mean payments per slot, reward units.
    pub payments: Estimate,
    /// Mean penalties + slashes per slot, reward units.
    pub slashed: Estimate,
    /// The paper's formula at the mechanism's parameters, reward units (see
    /// [`sim::SimReport::analysis_loss`]).
    pub analysis_loss: Option<f64>,
    /// The mechanism's effective parameters at this penalty.
    pub params: Vec<(String, String)>,
}

/// One mechanism over the grid.
#[derive(Debug, Clone, Serialize)]
pub struct CompareSeries {
    /// The mechanism's name.
    pub mechanism: String,
    /// One point per penalty, in grid order.
    pub points: Vec<ComparePoint>,
}

/// The lowest-loss mechanism at one penalty.
#[derive(Debug, Clone, Serialize)]
pub struct Winner {
    /// `P`, reward units.
    pub penalty: u64,
    /// The mechanism with the lowest mean loss.
    pub mechanism: String,
    /// The runner-up, if any.
    pub runner_up: Option<String>,
    /// True when the two 95% intervals overlap (the win is not significant).
    pub within_ci: bool,
}

/// A whole comparison.
#[derive(Debug, Clone, Serialize)]
pub struct CompareReport {
    /// Always "simulated".
    pub label: &'static str,
    /// `n`.
    pub provers: usize,
    /// `f`.
    pub corrupted: usize,
    /// The attack strategy.
    pub strategy: AttackStrategy,
    /// The seed (the same for every mechanism and penalty).
    pub seed: u64,
    /// Slots per point.
    pub slots: u64,
    /// Reward units per proof.
    pub proof_cost: u64,
    /// The penalty grid, reward units.
    pub penalties: Vec<u64>,
    /// One series per mechanism, in the order asked.
    pub series: Vec<CompareSeries>,
    /// The winner at each penalty.
    pub winners: Vec<Winner>,
}

/// The default penalty grid: `proof_cost` × 2, 5, 10, 20, 50, 100, 200, 500, 1000.
#[must_use]
pub fn default_penalties(proof_cost: u64) -> Vec<u64> {
    [2, 5, 10, 20, 50, 100, 200, 500, 1000]
        .iter()
        .map(|k| k * proof_cost)
        .collect()
}

/// Runs every mechanism of `list` at every penalty (`None`: [`default_penalties`]),
/// all on `setup`'s seed and attacker.
///
/// # Errors
/// [`SimError::Usage`] for an unknown or repeated mechanism, bad parameters or an empty
/// grid (checked before anything runs); the simulation's own errors.
pub fn run(
    setup: &SimSetup,
    list: &[String],
    params: &[String],
    penalties: Option<&[u64]>,
) -> Result<CompareReport, SimError> {
    let grid = penalties.map_or_else(
        || default_penalties(setup.model.proof_cost),
        <[u64]>::to_vec,
    );
    if grid.is_empty() || grid.contains(&0) {
        return Err(SimError::Usage(
            "--penalties needs at least one penalty, each at least 1 reward unit".into(),
        ));
    }
    let names: Vec<String> = list
        .iter()
        .map(|s| s.trim().to_owned())
        .filter(|s| !s.is_empty())
        .collect();
    if names.is_empty() {
        return Err(SimError::Usage(
            "--compare needs at least one mechanism".into(),
        ));
    }
    for p in params {
        match sim::parse_param(p)?.0 {
            None => {
                return Err(SimError::Usage(format!(
                    "with --compare, prefix --param with its mechanism, e.g. \
                     `designated:{p}`"
                )));
            }
            Some(k) if !names.contains(&k) => {
                return Err(SimError::Usage(format!(
                    "--param `{p}` is for `{k}`, which --compare does not list"
                )));
            }
            Some(_) => {}
        }
    }
    let mut mechanisms = Vec::new();
    for name in &names {
        if names.iter().filter(|n| *n == name).count() > 1 {
            return Err(SimError::Usage(format!("--compare names `{name}` twice")));
        }
        let kind: MechanismKind = name.parse().map_err(SimError::Usage)?;
        let p = sim::params_for(params, kind.name(), false)?;
        mechanisms.push(SimMechanism::parse(name, &p)?);
    }
    // Check every mechanism's parameters before the long runs.
    for m in &mechanisms {
        if let SimMechanism::Rules(cfg) = m {
            let mut s = setup.clone();
            s.penalty = grid[0];
            sim::resolve_config(cfg, &s)?;
        }
    }
    let mut series = Vec::new();
    for m in &mechanisms {
        let mut points = Vec::new();
        for &p in &grid {
            let mut s = setup.clone();
            s.penalty = p;
            let r = sim::run(&s, m)?;
            eprintln!(
                "dpgnet sim ({LABEL}): {} at P = {p}: loss {} reward units ({:.1} s)",
                m.name(),
                r.loss.display(2),
                r.wall_s
            );
            points.push(ComparePoint {
                penalty: p,
                loss: r.loss,
                liveness_fault_rate: r.liveness_fault_rate,
                payments: r.payments,
                slashed: r.slashed,
                analysis_loss: r.analysis_loss,
                params: r.mechanism_params,
            });
        }
        series.push(CompareSeries {
            mechanism: m.name().to_owned(),
            points,
        });
    }
    let winners = grid
        .iter()
        .enumerate()
        .map(|(i, &p)| {
            let mut order: Vec<(&str, Estimate)> = series
                .iter()
                .map(|s| (s.mechanism.as_str(), s.points[i].loss))
                .collect();
            order.sort_by(|a, b| a.1.mean.total_cmp(&b.1.mean));
            let within_ci = order
                .get(1)
                .is_some_and(|second| second.1.ci95_low <= order[0].1.ci95_high);
            Winner {
                penalty: p,
                mechanism: order[0].0.to_owned(),
                runner_up: order.get(1).map(|s| s.0.to_owned()),
                within_ci,
            }
        })
        .collect();
    Ok(CompareReport {
        label: LABEL,
        provers: setup.provers,
        corrupted: setup.corrupted(),
        strategy: setup.strategy,
        seed: setup.seed,
        slots: setup.slots,
        proof_cost: setup.model.proof_cost,
        penalties: grid,
        series,
        winners,
    })
}

fn header(r: &CompareReport) -> String {
    format!(
        "{LABEL}: loss per slot (reward units, mean ± 95% CI) by mechanism and liveness \
         penalty P; n = {}, f = {}, strategy {}, seed {}, {} slots per cell, proof cost {} \
         reward units",
        r.provers,
        r.corrupted,
        r.strategy.name(),
        r.seed,
        r.slots,
        r.proof_cost
    )
}

/// The comparison as Markdown: the loss table, the fault-rate table and the winners.
#[must_use]
pub fn markdown(r: &CompareReport) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "## {}\n", header(r));
    let _ = write!(s, "| P ({LABEL}) |");
    for x in &r.series {
        let _ = write!(s, " {} |", x.mechanism);
    }
    let _ = write!(s, " lowest loss |\n|---:|");
    for _ in &r.series {
        s.push_str("---:|");
    }
    s.push_str("---|\n");
    for (i, p) in r.penalties.iter().enumerate() {
        let _ = write!(s, "| {p} |");
        for x in &r.series {
            let e = &x.points[i].loss;
            let _ = write!(s, " {} |", e.display(2));
        }
        let w = &r.winners[i];
        let _ = writeln!(
            s,
            " {}{} |",
            w.mechanism,
            if w.within_ci { " (tie within CI)" } else { "" }
        );
    }
    let _ = writeln!(s, "\n{LABEL}: liveness fault rate (mean ± 95% CI)\n");
    let _ = write!(s, "| P ({LABEL}) |");
    for x in &r.series {
        let _ = write!(s, " {} |", x.mechanism);
    }
    s.push_str("\n|---:|");
    for _ in &r.series {
        s.push_str("---:|");
    }
    s.push('\n');
    for (i, p) in r.penalties.iter().enumerate() {
        let _ = write!(s, "| {p} |");
        for x in &r.series {
            let _ = write!(s, " {} |", x.points[i].liveness_fault_rate.display(4));
        }
        s.push('\n');
    }
    s
}

/// The comparison as CSV, one row per (mechanism, penalty); the first column says
/// "simulated".
#[must_use]
pub fn csv(r: &CompareReport) -> String {
    let mut s = String::from(
        "label,mechanism,penalty,loss_mean,loss_ci95_low,loss_ci95_high,loss_std_error,\
         liveness_fault_rate,fault_ci95_low,fault_ci95_high,payments_mean,slashed_mean,\
         analysis_loss,params\n",
    );
    for x in &r.series {
        for p in &x.points {
            let params: Vec<String> = p.params.iter().map(|(k, v)| format!("{k}={v}")).collect();
            let _ = writeln!(
                s,
                "{LABEL},{},{},{},{},{},{},{},{},{},{},{},{},\"{}\"",
                x.mechanism,
                p.penalty,
                p.loss.mean,
                p.loss.ci95_low,
                p.loss.ci95_high,
                p.loss.std_error,
                p.liveness_fault_rate.mean,
                p.liveness_fault_rate.ci95_low,
                p.liveness_fault_rate.ci95_high,
                p.payments.mean,
                p.slashed.mean,
                p.analysis_loss.map_or_else(String::new, |a| a.to_string()),
                params.join(" ")
            );
        }
    }
    s
}

/// Draws loss against `P` (log-log when every interval is positive, else a linear loss
/// axis), one line per mechanism with 95% confidence bars, to an SVG file.
///
/// # Errors
/// [`SimError::Io`] if the file cannot be written.
pub fn plot_svg(r: &CompareReport, path: &Path) -> Result<(), SimError> {
    let io = |e: String| SimError::Io(format!("cannot draw {}: {e}", path.display()));
    let xs: Vec<f64> = r.penalties.iter().map(|p| *p as f64).collect();
    let (xmin, xmax) = (
        xs.iter().copied().fold(f64::INFINITY, f64::min),
        xs.iter().copied().fold(f64::NEG_INFINITY, f64::max),
    );
    let (xmin, xmax) = if xmin == xmax {
        (xmin / 2.0, xmax * 2.0)
    } else {
        (xmin / 1.3, xmax * 1.3)
    };
    let all = r.series.iter().flat_map(|s| s.points.iter());
    let lo = all
        .clone()
        .map(|p| p.loss.ci95_low.min(p.loss.mean))
        .fold(f64::INFINITY, f64::min);
    let hi = all
        .map(|p| p.loss.ci95_high.max(p.loss.mean))
        .fold(f64::NEG_INFINITY, f64::max);
    let title = format!(
        "{LABEL}: loss per slot vs liveness penalty P (n = {}, f = {}, {}, {} slots)",
        r.provers,
        r.corrupted,
        r.strategy.name(),
        r.slots
    );
    let root = SVGBackend::new(path, (1000, 640)).into_drawing_area();
    root.fill(&WHITE).map_err(|e| io(e.to_string()))?;
    if lo > 0.0 {
        let (ylo, yhi) = (lo / 1.5, hi * 1.5);
        let mut chart = builder(&root, &title)
            .build_cartesian_2d((xmin..xmax).log_scale(), (ylo..yhi).log_scale())
            .map_err(|e| io(e.to_string()))?;
        draw_chart(&mut chart, r, "log scale", ylo).map_err(io)?;
    } else {
        let pad = (hi - lo).abs().max(1.0) * 0.08;
        let (ylo, yhi) = (lo - pad, hi + pad);
        let mut chart = builder(&root, &title)
            .build_cartesian_2d((xmin..xmax).log_scale(), ylo..yhi)
            .map_err(|e| io(e.to_string()))?;
        draw_chart(&mut chart, r, "linear", ylo).map_err(io)?;
    }
    root.present().map_err(|e| io(e.to_string()))?;
    Ok(())
}

/// The chart frame: caption and label areas.
fn builder<'a, 'b>(
    root: &'a DrawingArea<SVGBackend<'b>, plotters::coord::Shift>,
    title: &str,
) -> ChartBuilder<'a, 'b, SVGBackend<'b>> {
    let mut b = ChartBuilder::on(root);
    b.caption(title, ("sans-serif", 24))
        .margin(18)
        .x_label_area_size(50)
        .y_label_area_size(80);
    b
}

/// Mesh, one line per mechanism and the legend, on a chart whose y axis is
/// `y_scale` (`log scale` or `linear`); bars are clamped to `floor`.
fn draw_chart<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    r: &CompareReport,
    y_scale: &str,
    floor: f64,
) -> Result<(), String>
where
    X: Ranged<ValueType = f64> + ValueFormatter<f64>,
    Y: Ranged<ValueType = f64> + ValueFormatter<f64>,
{
    let e = |e: DrawingAreaErrorKind<std::io::Error>| e.to_string();
    chart
        .configure_mesh()
        .x_desc("P, loss of a liveness fault (reward units, log scale)")
        .y_desc(if y_scale == "linear" {
            format!("{LABEL} loss per slot (reward units)")
        } else {
            format!("{LABEL} loss per slot (reward units, {y_scale})")
        })
        .label_style(("sans-serif", 15))
        .axis_desc_style(("sans-serif", 16))
        .draw()
        .map_err(e)?;
    for (i, s) in r.series.iter().enumerate() {
        draw_series(chart, s, Palette99::pick(i).to_rgba(), floor)?;
    }
    chart
        .configure_series_labels()
        .background_style(WHITE.mix(0.85))
        .border_style(BLACK)
        .label_font(("sans-serif", 16))
        .position(SeriesLabelPosition::UpperLeft)
        .draw()
        .map_err(e)
}

/// One mechanism's line, points and 95% bars (lower ends clamped to `floor`).
fn draw_series<'a, X, Y>(
    chart: &mut ChartContext<'a, SVGBackend<'a>, Cartesian2d<X, Y>>,
    s: &CompareSeries,
    colour: RGBAColor,
    floor: f64,
) -> Result<(), String>
where
    X: Ranged<ValueType = f64>,
    Y: Ranged<ValueType = f64>,
{
    let pts: Vec<(f64, f64)> = s
        .points
        .iter()
        .map(|p| (p.penalty as f64, p.loss.mean))
        .collect();
    chart
        .draw_series(LineSeries::new(pts.clone(), colour.stroke_width(2)))
        .map_err(|e| e.to_string())?
        .label(s.mechanism.clone())
        .legend(move |(x, y)| PathElement::new(vec![(x, y), (x + 24, y)], colour.stroke_width(3)));
    chart
        .draw_series(
            pts.iter()
                .map(|&(x, y)| Circle::new((x, y), 3, colour.filled())),
        )
        .map_err(|e| e.to_string())?;
    chart
        .draw_series(s.points.iter().map(|p| {
            let x = p.penalty as f64;
            PathElement::new(
                vec![(x, p.loss.ci95_low.max(floor)), (x, p.loss.ci95_high)],
                colour.stroke_width(1),
            )
        }))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// Writes `compare.md`, `compare.csv` and `loss_vs_penalty.svg` into `dir` (created if
/// missing); returns their paths.
///
/// # Errors
/// [`SimError::Io`] if the directory or a file cannot be written.
pub fn write(r: &CompareReport, dir: &Path) -> Result<Vec<PathBuf>, SimError> {
    std::fs::create_dir_all(dir)
        .map_err(|e| SimError::Io(format!("cannot create {}: {e}", dir.display())))?;
    let md = dir.join("compare.md");
    let csv_path = dir.join("compare.csv");
    let svg = dir.join("loss_vs_penalty.svg");
    let put = |p: &Path, text: String| {
        std::fs::write(p, text)
            .map_err(|e| SimError::Io(format!("cannot write {}: {e}", p.display())))
    };
    put(&md, markdown(r))?;
    put(&csv_path, csv(r))?;
    plot_svg(r, &svg)?;
    Ok(vec![md, csv_path, svg])
}
