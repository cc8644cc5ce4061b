//! `dpgnet bench`: measures the speed goals side by side in one run —
//! prove and verify time per circuit and `k`, batch verification of 32 partial
//! proofs against 32 single verifications, and, in `--fast` mode, each slot's wall
//! time against the critical path of the proving done in it.
//!
//! The shell ([`measure`]) builds the keys, proves, verifies and runs the default
//! devnet in-process through [`orchestrator::run`]; everything after the samples are
//! in (medians, ratios, the goals, the text table, the JSON and the markdown section
//! of `BENCHMARKS.md`) is pure and unit-tested.
//!
//! The machine is shared and noisy, so absolute times move between runs: the goals
//! are ratios of times measured in the same run, with single and batch verification
//! interleaved in one loop.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::time::Instant;

use clap::Args;
use dpgnet_circuits::native::{address_to_fp, fp_from_u64};
use dpgnet_circuits::{
    ChainKeys, ChainPublic, CircuitError, Fp, LinkKeys, LinkPublic, ParamsCache,
};
use serde::Serialize;
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use crate::app::Msg;
use crate::cli::Failure;
use crate::config::Devnet;
use crate::orchestrator::{self, Control, OrchestratorError, RunOptions, RuntimeKind};
use crate::protocol::Event;

/// Goal 2: batch verification of [`BATCH_PROOFS`] partial proofs may take at most
/// this fraction of as many single verifications (ratio of median times).
pub const BATCH_RATIO_GOAL: f64 = 0.25;

/// Goal 3: in `--fast` mode the mean over slots of (slot wall time / critical path of
/// the proving in the slot) may be at most this ratio.
pub const SLOT_OVERHEAD_GOAL: f64 = 1.15;

/// Number of partial proofs in the batch-verification comparison.
pub const BATCH_PROOFS: usize = 32;

/// Chain circuit shapes measured, in transactions per proof: 8 is the default
/// devnet's partial proof (k 9), 32 its full proof (4 sub-blocks × 8, k 11).
pub const CHAIN_TXS: [usize; 3] = [8, 16, 32];

/// Sub-blocks of the link proof measured (the default devnet's T3 link proof).
pub const LINK_SUB_BLOCKS: usize = 4;

/// The `after_help` text of `dpgnet bench`.
pub const BENCH_AFTER_HELP: &str = "\
Measures, in one run on this machine:
  1. prove and verify time per circuit and k (chain 8/16/32 txs, link 4 sub-blocks)
  2. batch verification of 32 partial proofs against 32 single verifications
     (interleaved in one loop; goal: batch/single <= 0.25)
  3. the default devnet, in-process, --fast, N slots: slot wall time against the
     critical path of its proving (goal: mean wall/critical <= 1.15)

Output: a progress line per step on stderr, then a table on stdout (with --json: JSON
on stdout and the table on stderr). --markdown FILE writes the BENCHMARKS.md section.

Exit codes: 0 every goal met; 1 a goal missed; 3 runtime error; 130 interrupted.

Examples:
  dpgnet bench
  dpgnet bench --slots 5 --samples 10 --markdown bench.md
  dpgnet bench --json | jq .batch.ratio";

/// `dpgnet bench`.
#[derive(Debug, Clone, Args)]
pub struct BenchArgs {
    /// Slots of the default devnet to run in --fast mode (every slot is reported).
    #[arg(long, value_name = "N", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..))]
    pub slots: u64,
    /// Seed of the devnet (overrides network_params.seed).
    #[arg(long, value_name = "S")]
    pub seed: Option<u64>,
    /// Repetitions of each prove/verify and single/batch measurement; medians are
    /// reported.
    #[arg(long, value_name = "K", default_value_t = 10, value_parser = clap::value_parser!(u32).range(1..))]
    pub samples: u32,
    /// Directory of the halo2 parameter cache (default: $DPGNET_PARAMS_DIR, else
    /// ~/.cache/dpgnet/params).
    #[arg(long, value_name = "DIR")]
    pub params_dir: Option<PathBuf>,
    /// Print the results as JSON on stdout (the table goes to stderr).
    #[arg(long)]
    pub json: bool,
    /// Write the results as a markdown section (for BENCHMARKS.md) to FILE.
    #[arg(long, value_name = "FILE")]
    pub markdown: Option<PathBuf>,
    /// Transactions per partial proof in the batch-verification step (8 → k 9,
    /// the default devnet's sub-block; 16 → k 10).
    #[arg(long, value_name = "TXS", default_value_t = dpgnet_circuits::DEFAULT_SUB_BLOCK_TXS)]
    pub batch_txs: usize,
    /// Measure the runtimes instead: up → first finalized slot on inproc, Docker and
    /// docker-compose; image build cold/warm; memory per prover container.
    #[arg(long)]
    pub runtimes: bool,
}

/// Why a benchmark run could not complete (goals missed are not errors: see
/// [`BenchReport::failures`]).
#[derive(Debug, thiserror::Error)]
pub enum BenchError {
    /// Key generation, the params cache or proving failed.
    #[error("circuits: {0}")]
    Circuits(#[from] CircuitError),
    /// A freshly made proof did not verify (a bug, not a slow machine).
    #[error("a valid proof was rejected: {0}")]
    Rejected(String),
    /// The devnet failed.
    #[error("devnet: {0}")]
    Devnet(#[from] OrchestratorError),
    /// A measuring task panicked or was cancelled.
    #[error("measuring task: {0}")]
    Task(String),
    /// Interrupted by Ctrl-C.
    #[error("interrupted")]
    Interrupted,
}

/// Prove and verify times of one circuit shape.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CircuitBench {
    /// What the proof is in the protocol: `partial`, `chain`, `full` or `link`.
    pub name: String,
    /// The circuit: `chain` or `link`.
    pub circuit: String,
    /// Transactions per proof (chain) or sub-blocks (link).
    pub size: usize,
    /// log2 of the circuit's rows.
    pub k: u32,
    /// Bytes of every proof of this shape.
    pub proof_bytes: usize,
    /// Every proving time, seconds, in sample order.
    pub prove_samples_s: Vec<f64>,
    /// Every verification time (one proof, single verifier), seconds.
    pub verify_samples_s: Vec<f64>,
    /// Median proving time, seconds.
    pub prove_median_s: f64,
    /// Median verification time, seconds.
    pub verify_median_s: f64,
}

impl CircuitBench {
    /// A shape's results from its samples (seconds); medians are 0 without samples.
    #[must_use]
    pub fn from_samples(
        name: &str,
        circuit: &str,
        size: usize,
        k: u32,
        proof_bytes: usize,
        prove_samples_s: Vec<f64>,
        verify_samples_s: Vec<f64>,
    ) -> Self {
        Self {
            name: name.to_owned(),
            circuit: circuit.to_owned(),
            size,
            k,
            proof_bytes,
            prove_median_s: median(&prove_samples_s).unwrap_or(0.0),
            verify_median_s: median(&verify_samples_s).unwrap_or(0.0),
            prove_samples_s,
            verify_samples_s,
        }
    }

    /// "8 txs" or "4 sub-blocks".
    fn size_label(&self) -> String {
        if self.circuit == "link" {
            format!("{} sub-blocks", self.size)
        } else {
            format!("{} txs", self.size)
        }
    }
}

/// Batch against single verification of the same partial proofs (goal 2).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BatchBench {
    /// Proofs verified per sample.
    pub proofs: usize,
    /// `k` of the partial-proof circuit.
    pub k: u32,
    /// Time to verify all proofs one by one, seconds, per sample.
    pub single_samples_s: Vec<f64>,
    /// Time to verify all proofs in one batch, seconds, per sample.
    pub batch_samples_s: Vec<f64>,
    /// Median of `single_samples_s`, seconds.
    pub single_median_s: f64,
    /// Median of `batch_samples_s`, seconds.
    pub batch_median_s: f64,
    /// `batch_median_s / single_median_s` (ratio); `None` if undefined.
    pub ratio: Option<f64>,
    /// The goal: `ratio` at most this.
    pub goal_max: f64,
    /// True when `ratio` is defined and at most `goal_max`.
    pub met: bool,
}

impl BatchBench {
    /// The comparison from interleaved samples (seconds), against [`BATCH_RATIO_GOAL`].
    #[must_use]
    pub fn from_samples(
        proofs: usize,
        k: u32,
        single_samples_s: Vec<f64>,
        batch_samples_s: Vec<f64>,
    ) -> Self {
        let single_median_s = median(&single_samples_s).unwrap_or(0.0);
        let batch_median_s = median(&batch_samples_s).unwrap_or(0.0);
        let ratio = ratio(batch_median_s, single_median_s);
        Self {
            proofs,
            k,
            single_samples_s,
            batch_samples_s,
            single_median_s,
            batch_median_s,
            ratio,
            goal_max: BATCH_RATIO_GOAL,
            met: ratio.is_some_and(|r| r <= BATCH_RATIO_GOAL),
        }
    }
}

/// One slot of the `--fast` devnet run (goal 3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlotOverhead {
    /// Slot number.
    pub slot: u64,
    /// How the slot ended (`finalized_t3`, `liveness_fault`, …), if its settlement
    /// was seen.
    pub outcome: Option<String>,
    /// Wall time from slot start to settlement, seconds.
    pub wall_s: f64,
    /// Critical path of the proving done in the slot, seconds.
    pub proving_critical_path_s: f64,
    /// `wall_s / proving_critical_path_s` (ratio); `None` without proving.
    pub ratio: Option<f64>,
}

impl SlotOverhead {
    /// A slot's overhead from its two times, seconds.
    #[must_use]
    pub fn new(
        slot: u64,
        outcome: Option<String>,
        wall_s: f64,
        proving_critical_path_s: f64,
    ) -> Self {
        Self {
            slot,
            outcome,
            wall_s,
            proving_critical_path_s,
            ratio: ratio(wall_s, proving_critical_path_s),
        }
    }
}

/// Every slot of the `--fast` run and the mean/max overhead ratio (goal 3).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SlotsBench {
    /// Every slot, none discarded.
    pub slots: Vec<SlotOverhead>,
    /// Mean of the slots' ratios; `None` if a slot has no ratio or there is no slot.
    pub mean_ratio: Option<f64>,
    /// Largest of the slots' ratios; `None` as for `mean_ratio`.
    pub max_ratio: Option<f64>,
    /// The goal: `mean_ratio` at most this.
    pub goal_max: f64,
    /// True when `mean_ratio` is defined and at most `goal_max`.
    pub met: bool,
}

impl SlotsBench {
    /// Mean and max over `slots`, against [`SLOT_OVERHEAD_GOAL`]. A slot without a
    /// ratio (no proving) makes the mean undefined and the goal missed: nothing is
    /// discarded.
    #[must_use]
    pub fn from_slots(slots: Vec<SlotOverhead>) -> Self {
        let ratios: Option<Vec<f64>> = slots.iter().map(|s| s.ratio).collect();
        let (mean_ratio, max_ratio) = match ratios {
            Some(r) if !r.is_empty() => (
                Some(r.iter().sum::<f64>() / r.len() as f64),
                r.iter().copied().reduce(f64::max),
            ),
            _ => (None, None),
        };
        Self {
            slots,
            mean_ratio,
            max_ratio,
            goal_max: SLOT_OVERHEAD_GOAL,
            met: mean_ratio.is_some_and(|m| m <= SLOT_OVERHEAD_GOAL),
        }
    }
}

/// Where and how the benchmark ran.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchMeta {
    /// CPUs available to this process (`std::thread::available_parallelism`).
    pub cores: usize,
    /// `/proc/loadavg`'s 1, 5 and 15 minute load averages at the start, if readable.
    pub load_start: Option<String>,
    /// The same at the end.
    pub load_end: Option<String>,
    /// Repetitions of every prove/verify and single/batch measurement.
    pub samples: u32,
    /// Devnet name.
    pub devnet: String,
    /// Devnet seed.
    pub seed: u64,
    /// Whole run, seconds (keys, proving, devnet).
    pub total_s: f64,
}

/// Everything one `dpgnet bench` run measured.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BenchReport {
    /// Machine and settings.
    pub meta: BenchMeta,
    /// Goal 1: prove/verify per circuit and `k`.
    pub circuits: Vec<CircuitBench>,
    /// Goal 2: batch against single verification.
    pub batch: BatchBench,
    /// Goal 3: slot wall time against the proving critical path.
    pub slots: SlotsBench,
    /// True when goals 2 and 3 are both met.
    pub goals_met: bool,
}

impl BenchReport {
    /// A report from its parts; `goals_met` is derived.
    #[must_use]
    pub fn new(
        meta: BenchMeta,
        circuits: Vec<CircuitBench>,
        batch: BatchBench,
        slots: SlotsBench,
    ) -> Self {
        let goals_met = batch.met && slots.met;
        Self {
            meta,
            circuits,
            batch,
            slots,
            goals_met,
        }
    }

    /// One sentence per missed goal (empty when every goal is met).
    #[must_use]
    pub fn failures(&self) -> Vec<String> {
        let mut out = Vec::new();
        if !self.batch.met {
            out.push(format!(
                "batch verification of {} partial proofs costs {} of single verification \
                 (goal <= {})",
                self.batch.proofs,
                fmt_ratio(self.batch.ratio),
                self.batch.goal_max
            ));
        }
        if !self.slots.met {
            out.push(format!(
                "mean slot wall time / proving critical path is {} (goal <= {})",
                fmt_ratio(self.slots.mean_ratio),
                self.slots.goal_max
            ));
        }
        out
    }
}

/// Median of `samples` (mean of the two middle values for an even count); `None`
/// when empty. NaNs sort last.
#[must_use]
pub fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len().is_multiple_of(2) {
        f64::midpoint(sorted[mid - 1], sorted[mid])
    } else {
        sorted[mid]
    })
}

/// `num / den`, or `None` when `den` is not a positive finite number.
#[must_use]
pub fn ratio(num: f64, den: f64) -> Option<f64> {
    (den.is_finite() && den > 0.0 && num.is_finite()).then(|| num / den)
}

fn fmt_ratio(r: Option<f64>) -> String {
    r.map_or_else(|| "n/a".to_owned(), |r| format!("{r:.3}"))
}

fn verdict(met: bool) -> &'static str {
    if met { "MET" } else { "MISSED" }
}

fn loads(meta: &BenchMeta) -> String {
    let show = |l: &Option<String>| l.clone().unwrap_or_else(|| "n/a".to_owned());
    format!("{} -> {}", show(&meta.load_start), show(&meta.load_end))
}

/// The human table printed at the end of `dpgnet bench`.
#[must_use]
pub fn render_table(r: &BenchReport) -> String {
    let m = &r.meta;
    let mut s = String::new();
    let _ = writeln!(
        s,
        "dpgnet bench: {} cores, load average {} (1/5/15 min), {} samples, devnet {} seed {}, \
         {:.0} s in all",
        m.cores,
        loads(m),
        m.samples,
        m.devnet,
        m.seed,
        m.total_s
    );
    let _ = writeln!(s, "\n1. Prove and verify (median of {} samples)", m.samples);
    let _ = writeln!(
        s,
        "  {:<8} {:<6} {:<13} {:>3} {:>8} {:>10} {:>10}",
        "proof", "circuit", "size", "k", "bytes", "prove ms", "verify ms"
    );
    for c in &r.circuits {
        let _ = writeln!(
            s,
            "  {:<8} {:<6} {:<13} {:>3} {:>8} {:>10.1} {:>10.2}",
            c.name,
            c.circuit,
            c.size_label(),
            c.k,
            c.proof_bytes,
            c.prove_median_s * 1e3,
            c.verify_median_s * 1e3
        );
    }
    let b = &r.batch;
    let per = |t: f64| t * 1e3 / b.proofs.max(1) as f64;
    let _ = writeln!(
        s,
        "\n2. Verify {} partial proofs (k {}), single and batch interleaved, median of {}",
        b.proofs,
        b.k,
        b.single_samples_s.len()
    );
    let _ = writeln!(
        s,
        "  {} single verifications  {:>9.1} ms  ({:.2} ms/proof)",
        b.proofs,
        b.single_median_s * 1e3,
        per(b.single_median_s)
    );
    let _ = writeln!(
        s,
        "  one batch of {}           {:>9.1} ms  ({:.2} ms/proof)",
        b.proofs,
        b.batch_median_s * 1e3,
        per(b.batch_median_s)
    );
    let _ = writeln!(
        s,
        "  ratio batch/single        {:>9}     goal <= {}  {}",
        fmt_ratio(b.ratio),
        b.goal_max,
        verdict(b.met)
    );
    let sl = &r.slots;
    let _ = writeln!(
        s,
        "\n3. Default devnet, --fast, {} slots (none discarded)",
        sl.slots.len()
    );
    let _ = writeln!(
        s,
        "  {:>4}  {:<14} {:>8} {:>16} {:>14}",
        "slot", "outcome", "wall s", "critical path s", "wall/critical"
    );
    for o in &sl.slots {
        let _ = writeln!(
            s,
            "  {:>4}  {:<14} {:>8.3} {:>16.3} {:>14}",
            o.slot,
            o.outcome.as_deref().unwrap_or("?"),
            o.wall_s,
            o.proving_critical_path_s,
            fmt_ratio(o.ratio)
        );
    }
    let _ = writeln!(
        s,
        "  mean wall/critical {}, max {}     goal mean <= {}  {}",
        fmt_ratio(sl.mean_ratio),
        fmt_ratio(sl.max_ratio),
        sl.goal_max,
        verdict(sl.met)
    );
    let _ = writeln!(
        s,
        "\n{}",
        if r.goals_met {
            "All goals met."
        } else {
            "A goal was missed."
        }
    );
    s
}

/// The markdown section for `BENCHMARKS.md`: settings, the three tables, the ratios
/// with their goals and MET/MISSED.
#[must_use]
pub fn render_markdown(r: &BenchReport) -> String {
    let m = &r.meta;
    let mut s = String::new();
    let _ = writeln!(s, "### `dpgnet bench` results\n");
    let _ = writeln!(
        s,
        "{} cores; load average (1/5/15 min) {}; {} samples per measurement; devnet \
         `{}`, seed {}; whole run {:.0} s.\n",
        m.cores,
        loads(m),
        m.samples,
        m.devnet,
        m.seed,
        m.total_s
    );
    let _ = writeln!(s, "#### 1. Prove and verify per circuit and k (medians)\n");
    let _ = writeln!(
        s,
        "| proof | circuit | size | k | proof bytes | prove (ms) | verify (ms) |"
    );
    let _ = writeln!(s, "|---|---|---|---:|---:|---:|---:|");
    for c in &r.circuits {
        let _ = writeln!(
            s,
            "| {} | {} | {} | {} | {} | {:.1} | {:.2} |",
            c.name,
            c.circuit,
            c.size_label(),
            c.k,
            c.proof_bytes,
            c.prove_median_s * 1e3,
            c.verify_median_s * 1e3
        );
    }
    let b = &r.batch;
    let per = |t: f64| t * 1e3 / b.proofs.max(1) as f64;
    let _ = writeln!(
        s,
        "\n#### 2. Batch verification of {} partial proofs (k {})\n",
        b.proofs, b.k
    );
    let _ = writeln!(
        s,
        "Single and batch verification of the same {} proofs alternate in one loop \
         ({} samples each); medians.\n",
        b.proofs,
        b.single_samples_s.len()
    );
    let _ = writeln!(s, "| verification | median (ms) | per proof (ms) |");
    let _ = writeln!(s, "|---|---:|---:|");
    let _ = writeln!(
        s,
        "| {} single | {:.1} | {:.2} |",
        b.proofs,
        b.single_median_s * 1e3,
        per(b.single_median_s)
    );
    let _ = writeln!(
        s,
        "| one batch of {} | {:.1} | {:.2} |",
        b.proofs,
        b.batch_median_s * 1e3,
        per(b.batch_median_s)
    );
    let _ = writeln!(
        s,
        "\n**batch / single = {}** (goal <= {}): **{}**\n",
        fmt_ratio(b.ratio),
        b.goal_max,
        verdict(b.met)
    );
    let sl = &r.slots;
    let _ = writeln!(
        s,
        "#### 3. Slot wall time against the proving critical path (`--fast`, {} slots)\n",
        sl.slots.len()
    );
    let _ = writeln!(
        s,
        "| slot | outcome | wall (s) | proving critical path (s) | wall / critical path |"
    );
    let _ = writeln!(s, "|---:|---|---:|---:|---:|");
    for o in &sl.slots {
        let _ = writeln!(
            s,
            "| {} | {} | {:.3} | {:.3} | {} |",
            o.slot,
            o.outcome.as_deref().unwrap_or("?"),
            o.wall_s,
            o.proving_critical_path_s,
            fmt_ratio(o.ratio)
        );
    }
    let _ = writeln!(
        s,
        "\n**mean wall / critical path = {}**, max {} (goal: mean <= {}): **{}**",
        fmt_ratio(sl.mean_ratio),
        fmt_ratio(sl.max_ratio),
        sl.goal_max,
        verdict(sl.met)
    );
    s
}

/// `/proc/loadavg`'s first three fields, if readable.
fn load_average() -> Option<String> {
    let text = std::fs::read_to_string("/proc/loadavg").ok()?;
    let fields: Vec<&str> = text.split_whitespace().take(3).collect();
    (fields.len() == 3).then(|| fields.join(" "))
}

fn progress(line: &str) {
    eprintln!("bench: {line}");
}

/// The keys of one measured shape.
enum Keys {
    Chain(ChainKeys),
    Link(LinkKeys),
}

impl Keys {
    fn k(&self) -> u32 {
        match self {
            Keys::Chain(k) => k.k(),
            Keys::Link(k) => k.k(),
        }
    }

    fn proof_len(&self) -> usize {
        match self {
            Keys::Chain(k) => k.proof_len(),
            Keys::Link(k) => k.proof_len(),
        }
    }

    /// Proves once and verifies that proof once; (prove, verify) in seconds.
    fn prove_verify(&self, sample: u64) -> Result<(f64, f64), BenchError> {
        match self {
            Keys::Chain(keys) => {
                let root_in = fp_from_u64(sample);
                let txs = txs(sample, keys.n_txs());
                let prover = address_to_fp(&[0xa1; 20]);
                let started = Instant::now();
                let (root_out, proof) = keys.prove(root_in, &txs, prover)?;
                let prove_s = started.elapsed().as_secs_f64();
                let public = ChainPublic {
                    root_in,
                    root_out,
                    prover,
                };
                let started = Instant::now();
                keys.verify(&public, &proof)
                    .map_err(|e| BenchError::Rejected(e.to_string()))?;
                Ok((prove_s, started.elapsed().as_secs_f64()))
            }
            Keys::Link(keys) => {
                let n = keys.n_sub_blocks() as u64;
                let public = LinkPublic {
                    roots: (0..=n).map(|i| fp_from_u64(sample << 32 | i)).collect(),
                    aggregator: address_to_fp(&[0xa9; 20]),
                    bloom: fp_from_u64(0xb100 + sample),
                };
                let started = Instant::now();
                let proof = keys.prove(&public)?;
                let prove_s = started.elapsed().as_secs_f64();
                let started = Instant::now();
                keys.verify(&public, &proof)
                    .map_err(|e| BenchError::Rejected(e.to_string()))?;
                Ok((prove_s, started.elapsed().as_secs_f64()))
            }
        }
    }
}

/// `n` distinct transactions for sample `seed`.
fn txs(seed: u64, n: usize) -> Vec<Fp> {
    (0..n as u64).map(|i| fp_from_u64(seed << 32 | i)).collect()
}

fn check_cancel(cancel: &CancellationToken) -> Result<(), BenchError> {
    if cancel.is_cancelled() {
        Err(BenchError::Interrupted)
    } else {
        Ok(())
    }
}

/// Goal 1 (blocking): every shape proved and verified `samples` times, the shapes
/// taking turns within each sample so that noise spreads over all of them.
fn measure_circuits(
    cache: &ParamsCache,
    samples: u32,
    cancel: &CancellationToken,
) -> Result<Vec<CircuitBench>, BenchError> {
    let mut shapes: Vec<(&str, &str, usize, Keys)> = Vec::new();
    for n in CHAIN_TXS {
        let name = match n {
            8 => "partial",
            32 => "full",
            _ => "chain",
        };
        let keys = ChainKeys::new(n, cache)?;
        progress(&format!("keys: chain {n} txs, k {}", keys.k()));
        shapes.push((name, "chain", n, Keys::Chain(keys)));
        check_cancel(cancel)?;
    }
    let link = LinkKeys::new(LINK_SUB_BLOCKS, cache)?;
    progress(&format!(
        "keys: link {LINK_SUB_BLOCKS} sub-blocks, k {}",
        link.k()
    ));
    shapes.push(("link", "link", LINK_SUB_BLOCKS, Keys::Link(link)));

    let mut times: Vec<(Vec<f64>, Vec<f64>)> = vec![(Vec::new(), Vec::new()); shapes.len()];
    for sample in 0..samples {
        check_cancel(cancel)?;
        let started = Instant::now();
        for ((_, _, _, keys), (prove, verify)) in shapes.iter().zip(&mut times) {
            let (p, v) = keys.prove_verify(u64::from(sample) + 1)?;
            prove.push(p);
            verify.push(v);
        }
        progress(&format!(
            "prove+verify sample {}/{samples} ({:.1} s)",
            sample + 1,
            started.elapsed().as_secs_f64()
        ));
    }
    Ok(shapes
        .into_iter()
        .zip(times)
        .map(|((name, circuit, size, keys), (prove, verify))| {
            CircuitBench::from_samples(
                name,
                circuit,
                size,
                keys.k(),
                keys.proof_len(),
                prove,
                verify,
            )
        })
        .collect())
}

/// Goal 2 (blocking): [`BATCH_PROOFS`] partial proofs by distinct provers, then
/// `samples` rounds of (32 single verifications, one batch), the order alternating
/// between rounds.
fn measure_batch(
    cache: &ParamsCache,
    samples: u32,
    batch_txs: usize,
    cancel: &CancellationToken,
) -> Result<BatchBench, BenchError> {
    let keys = ChainKeys::new(batch_txs, cache)?;
    let started = Instant::now();
    let mut proofs = Vec::with_capacity(BATCH_PROOFS);
    for i in 0..BATCH_PROOFS as u64 {
        check_cancel(cancel)?;
        let root_in = fp_from_u64(0x1000 + i);
        let prover = address_to_fp(&[i as u8 + 1; 20]);
        let (root_out, proof) = keys.prove(root_in, &txs(0x1000 + i, keys.n_txs()), prover)?;
        let public = ChainPublic {
            root_in,
            root_out,
            prover,
        };
        proofs.push((public, proof));
    }
    progress(&format!(
        "proved {BATCH_PROOFS} partial proofs (k {}) in {:.1} s",
        keys.k(),
        started.elapsed().as_secs_f64()
    ));
    let items: Vec<(ChainPublic, &[u8])> = proofs
        .iter()
        .map(|(public, proof)| (*public, proof.as_slice()))
        .collect();

    let single = || -> Result<f64, BenchError> {
        let started = Instant::now();
        for (public, proof) in &items {
            keys.verify(public, proof)
                .map_err(|e| BenchError::Rejected(e.to_string()))?;
        }
        Ok(started.elapsed().as_secs_f64())
    };
    let batch = || -> Result<f64, BenchError> {
        let started = Instant::now();
        let valid = keys.batch_verify(&items);
        let elapsed = started.elapsed().as_secs_f64();
        if valid.iter().all(|v| *v) {
            Ok(elapsed)
        } else {
            Err(BenchError::Rejected("batch verification failed".into()))
        }
    };
    let (mut singles, mut batches) = (Vec::new(), Vec::new());
    for sample in 0..samples {
        check_cancel(cancel)?;
        if sample.is_multiple_of(2) {
            singles.push(single()?);
            batches.push(batch()?);
        } else {
            batches.push(batch()?);
            singles.push(single()?);
        }
        progress(&format!(
            "verify sample {}/{samples}: {BATCH_PROOFS} single {:.1} ms, batch {:.1} ms",
            sample + 1,
            singles[singles.len() - 1] * 1e3,
            batches[batches.len() - 1] * 1e3
        ));
    }
    Ok(BatchBench::from_samples(
        BATCH_PROOFS,
        keys.k(),
        singles,
        batches,
    ))
}

/// Goal 3: the devnet of `opts` run in-process in `--fast` mode; every slot's wall
/// time and proving critical path, with its outcome.
async fn measure_slots(
    opts: RunOptions,
    cancel: &CancellationToken,
) -> Result<Vec<SlotOverhead>, BenchError> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (_control_tx, control_rx) = watch::channel(Control::default());
    let devnet = tokio::spawn(orchestrator::run(opts, tx, control_rx, cancel.clone()));
    let started = Instant::now();
    let mut outcomes = Vec::new();
    while let Some(msg) = rx.recv().await {
        if let Msg::Engine(Event::Settled(s)) = msg {
            progress(&format!(
                "devnet slot {} settled: {} ({:.1} s since start)",
                s.slot,
                s.outcome,
                started.elapsed().as_secs_f64()
            ));
            outcomes.push((s.slot, s.outcome.as_str().to_owned()));
        }
    }
    let timings = devnet
        .await
        .map_err(|e| BenchError::Task(e.to_string()))??;
    check_cancel(cancel)?;
    Ok(timings
        .iter()
        .map(|t| {
            let outcome = outcomes
                .iter()
                .find(|(slot, _)| *slot == t.slot)
                .map(|(_, o)| o.clone());
            SlotOverhead::new(t.slot, outcome, t.wall_s, t.proving_critical_path_s)
        })
        .collect())
}

/// Runs the three measurements of `args` (see the module docs) and builds the report.
///
/// # Errors
/// [`BenchError`] when keys, proving, verification or the devnet fail, or on
/// `cancel`.
pub async fn measure(
    args: &BenchArgs,
    cancel: &CancellationToken,
) -> Result<BenchReport, BenchError> {
    let started = Instant::now();
    let load_start = load_average();
    let cores = std::thread::available_parallelism().map_or(1, std::num::NonZero::get);
    let cache = args
        .params_dir
        .clone()
        .map_or_else(ParamsCache::default_location, ParamsCache::new);
    progress(&format!(
        "{cores} cores, load average {}, params in {}",
        load_start.as_deref().unwrap_or("n/a"),
        cache.dir().display()
    ));

    let samples = args.samples;
    let batch_txs = args.batch_txs;
    let (circuits, batch) = tokio::task::spawn_blocking({
        let cancel = cancel.clone();
        move || -> Result<_, BenchError> {
            progress("step 1/3: prove and verify per circuit and k");
            let circuits = measure_circuits(&cache, samples, &cancel)?;
            progress("step 2/3: batch against single verification");
            let batch = measure_batch(&cache, samples, batch_txs, &cancel)?;
            Ok((circuits, batch))
        }
    })
    .await
    .map_err(|e| BenchError::Task(e.to_string()))??;

    let mut devnet = Devnet::default_devnet();
    if let Some(seed) = args.seed {
        devnet.network_params.seed = seed;
    }
    let (name, seed) = (devnet.name.clone(), devnet.network_params.seed);
    progress(&format!(
        "step 3/3: devnet {name} (built-in default), seed {seed}, --fast, {} slots",
        args.slots
    ));
    let opts = RunOptions {
        devnet,
        runtime: RuntimeKind::Inproc,
        slots: Some(args.slots),
        fast: true,
        params_dir: args.params_dir.clone(),
        plan: Vec::new(),
        keep: false,
        publish_rpc: false,
    };
    let slots = measure_slots(opts, cancel).await?;

    let meta = BenchMeta {
        cores,
        load_start,
        load_end: load_average(),
        samples,
        devnet: name,
        seed,
        total_s: started.elapsed().as_secs_f64(),
    };
    Ok(BenchReport::new(
        meta,
        circuits,
        batch,
        SlotsBench::from_slots(slots),
    ))
}

fn write_markdown(path: &Path, report: &BenchReport) -> Result<(), Failure> {
    std::fs::write(path, render_markdown(report)).map_err(|e| {
        Failure::Runtime(anyhow::Error::new(e).context(format!("cannot write {}", path.display())))
    })
}

/// `dpgnet bench`: measure, print the table (or JSON), write the markdown section,
/// and fail with exit code 1 when a goal is missed.
///
/// # Errors
/// [`Failure::Expectation`] for a missed goal, [`Failure::Interrupted`] on Ctrl-C,
/// [`Failure::Runtime`] when measuring or writing fails.
pub async fn command(args: BenchArgs, interrupt: CancellationToken) -> Result<(), Failure> {
    if args.runtimes {
        let params = args
            .params_dir
            .clone()
            .or_else(|| std::env::var_os("DPGNET_PARAMS_DIR").map(PathBuf::from));
        let b = crate::runtime::startup_bench::measure(args.seed.unwrap_or(7), params)
            .await
            .map_err(|e| Failure::Runtime(e.context("runtime bench failed")))?;
        let md = crate::runtime::startup_bench::markdown(&b);
        if args.json {
            println!(
                "{}",
                serde_json::to_string_pretty(&b).map_err(|e| Failure::Runtime(e.into()))?
            );
        } else {
            print!("{md}");
        }
        if let Some(path) = &args.markdown {
            std::fs::write(path, &md).map_err(|e| Failure::Runtime(e.into()))?;
        }
        return Ok(());
    }
    let report = match measure(&args, &interrupt.child_token()).await {
        Ok(report) => report,
        Err(BenchError::Interrupted) => return Err(Failure::Interrupted),
        Err(e) => {
            return Err(Failure::Runtime(
                anyhow::Error::new(e).context("bench failed"),
            ));
        }
    };
    if args.json {
        eprint!("{}", render_table(&report));
        let json = serde_json::to_string_pretty(&report)
            .map_err(|e| Failure::Runtime(anyhow::Error::new(e)))?;
        println!("{json}");
    } else {
        print!("{}", render_table(&report));
    }
    if let Some(path) = &args.markdown {
        write_markdown(path, &report)?;
        progress(&format!("markdown written to {}", path.display()));
    }
    let failures = report.failures();
    if failures.is_empty() {
        Ok(())
    } else {
        Err(Failure::Expectation(failures.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn meta() -> BenchMeta {
        BenchMeta {
            cores: 2,
            load_start: Some("1.00 2.00 3.00".into()),
            load_end: None,
            samples: 3,
            devnet: "default".into(),
            seed: 7,
            total_s: 61.4,
        }
    }

    fn circuit() -> CircuitBench {
        CircuitBench::from_samples(
            "partial",
            "chain",
            8,
            9,
            2272,
            vec![0.7, 0.5, 0.6],
            vec![0.030, 0.020, 0.025],
        )
    }

    #[test]
    fn median_of_odd_even_and_empty() {
        assert_eq!(median(&[]), None);
        assert_eq!(median(&[3.0]), Some(3.0));
        assert_eq!(median(&[5.0, 1.0, 3.0]), Some(3.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[1.0, f64::NAN, 2.0]), Some(2.0));
    }

    #[test]
    fn ratio_needs_a_positive_finite_denominator() {
        assert_eq!(ratio(1.0, 4.0), Some(0.25));
        assert_eq!(ratio(1.0, 0.0), None);
        assert_eq!(ratio(1.0, -1.0), None);
        assert_eq!(ratio(1.0, f64::INFINITY), None);
        assert_eq!(ratio(f64::NAN, 1.0), None);
    }

    #[test]
    fn circuit_medians() {
        let c = circuit();
        assert_eq!(c.prove_median_s, 0.6);
        assert_eq!(c.verify_median_s, 0.025);
        assert_eq!(c.size_label(), "8 txs");
    }

    #[test]
    fn batch_goal_is_a_ratio_of_medians() {
        // Medians 0.8 and 0.2: exactly the goal, which is met.
        let b = BatchBench::from_samples(32, 9, vec![0.9, 0.8, 0.7], vec![0.1, 0.2, 0.3]);
        assert_eq!(b.single_median_s, 0.8);
        assert_eq!(b.batch_median_s, 0.2);
        assert_eq!(b.ratio, Some(0.25));
        assert!(b.met);
        let b = BatchBench::from_samples(32, 9, vec![0.8], vec![0.21]);
        assert!(!b.met);
        let b = BatchBench::from_samples(32, 9, vec![], vec![]);
        assert_eq!(b.ratio, None);
        assert!(!b.met);
    }

    #[test]
    fn slot_overhead_mean_max_and_goal() {
        let slots = SlotsBench::from_slots(vec![
            SlotOverhead::new(0, Some("finalized_t3".into()), 2.2, 2.0),
            SlotOverhead::new(1, Some("finalized_t3".into()), 2.0, 2.0),
        ]);
        assert_eq!(slots.slots[0].ratio, Some(1.1));
        assert_eq!(slots.mean_ratio, Some(1.05));
        assert_eq!(slots.max_ratio, Some(1.1));
        assert!(slots.met);

        let slow = SlotsBench::from_slots(vec![SlotOverhead::new(0, None, 3.0, 2.0)]);
        assert_eq!(slow.mean_ratio, Some(1.5));
        assert!(!slow.met);

        // A slot without proving is not discarded: the goal cannot be shown met.
        let none = SlotsBench::from_slots(vec![
            SlotOverhead::new(0, None, 2.0, 2.0),
            SlotOverhead::new(1, None, 2.0, 0.0),
        ]);
        assert_eq!(none.slots[1].ratio, None);
        assert_eq!(none.mean_ratio, None);
        assert!(!none.met);
        assert!(!SlotsBench::from_slots(vec![]).met);
    }

    fn report(batch_single: f64, wall: f64) -> BenchReport {
        BenchReport::new(
            meta(),
            vec![circuit()],
            BatchBench::from_samples(32, 9, vec![batch_single], vec![0.2]),
            SlotsBench::from_slots(vec![SlotOverhead::new(
                0,
                Some("finalized_t3".into()),
                wall,
                2.0,
            )]),
        )
    }

    #[test]
    fn failures_name_each_missed_goal() {
        let ok = report(1.0, 2.0);
        assert!(ok.goals_met);
        assert!(ok.failures().is_empty());

        let bad = report(0.5, 2.4);
        assert!(!bad.goals_met);
        assert_eq!(
            bad.failures(),
            vec![
                "batch verification of 32 partial proofs costs 0.400 of single verification \
                 (goal <= 0.25)"
                    .to_owned(),
                "mean slot wall time / proving critical path is 1.200 (goal <= 1.15)".to_owned(),
            ]
        );
    }

    #[test]
    fn markdown_has_the_tables_ratios_and_verdicts() {
        let md = render_markdown(&report(1.0, 2.4));
        assert!(
            md.contains("| partial | chain | 8 txs | 9 | 2272 | 600.0 | 25.00 |"),
            "{md}"
        );
        assert!(md.contains("| 32 single | 1000.0 | 31.25 |"), "{md}");
        assert!(md.contains("| one batch of 32 | 200.0 | 6.25 |"), "{md}");
        assert!(
            md.contains("**batch / single = 0.200** (goal <= 0.25): **MET**"),
            "{md}"
        );
        assert!(
            md.contains("| 0 | finalized_t3 | 2.400 | 2.000 | 1.200 |"),
            "{md}"
        );
        assert!(
            md.contains(
                "**mean wall / critical path = 1.200**, max 1.200 (goal: mean <= 1.15): **MISSED**"
            ),
            "{md}"
        );
        assert!(
            md.contains("2 cores; load average (1/5/15 min) 1.00 2.00 3.00 -> n/a"),
            "{md}"
        );
    }

    #[test]
    fn table_shows_ratios_and_result() {
        let t = render_table(&report(1.0, 2.0));
        assert!(
            t.contains("ratio batch/single            0.200     goal <= 0.25  MET"),
            "{t}"
        );
        assert!(t.contains("mean wall/critical 1.000, max 1.000"), "{t}");
        assert!(t.ends_with("All goals met.\n"), "{t}");
    }

    #[test]
    fn json_has_machine_readable_fields() {
        let v = serde_json::to_value(report(1.0, 2.0)).unwrap();
        assert_eq!(v["batch"]["ratio"], 0.2);
        assert_eq!(v["slots"]["mean_ratio"], 1.0);
        assert_eq!(v["goals_met"], true);
        assert_eq!(v["circuits"][0]["k"], 9);
    }
}
