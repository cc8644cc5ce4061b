//! `dpgnet bench --runtimes`: the Docker runtime's speed goals, measured side by
//! side in one run (issue "Real containers", Speed):
//! - time from `up` to the first finalized slot on the in-process runtime, the
//!   Docker runtime, and `docker-compose up` of the `dpgnet compose` file for the
//!   same devnet with the same image (goal: Docker runtime ≤ compose);
//! - node image build time, cold (image removed first) and warm (up to date);
//! - resident memory of each prover container at the default circuit size, read
//!   from `docker stats` (the cgroup's usage) while the devnet runs.

use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::Stdio;
use std::time::{Duration, Instant};

use bollard::query_parameters::{RemoveImageOptionsBuilder, StatsOptionsBuilder};
use futures::StreamExt;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

use super::RuntimeKind;
use super::compose::{ComposeOptions, compose_file};
use super::docker::{self, DockerError};
use crate::app::Msg;
use crate::config::Devnet;
use crate::orchestrator::{Control, RunOptions, run_with_faults};
use crate::protocol::{Event, Outcome};

/// What was measured (seconds, bytes).
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct RuntimeBench {
    /// Image build with no image present, seconds.
    pub image_cold_s: f64,
    /// Image check when it is up to date, seconds.
    pub image_warm_s: f64,
    /// Up to the first finalized slot, in-process, seconds.
    pub inproc_first_slot_s: f64,
    /// Up to the first finalized slot, Docker runtime, seconds.
    pub docker_first_slot_s: f64,
    /// Up to the first finalized slot, `docker-compose up`, seconds.
    pub compose_first_slot_s: Option<f64>,
    /// Resident memory of each prover container (bytes), sampled mid-run.
    pub prover_rss_bytes: Vec<(String, u64)>,
    /// Image size, bytes.
    pub image_bytes: u64,
}

fn bench_devnet(seed: u64) -> Devnet {
    let mut d = Devnet::default_devnet();
    d.name = "bench".into();
    d.network_params.seed = seed;
    d
}

/// Run the devnet for one slot on `runtime`; seconds from the call to the first
/// finalized settlement. With `rss`, prover containers' memory is sampled once
/// the slot has started.
async fn first_slot(
    devnet: &Devnet,
    runtime: RuntimeKind,
    params_dir: Option<PathBuf>,
    rss: Option<&mut Vec<(String, u64)>>,
) -> anyhow::Result<f64> {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (_ctl, ctl_rx) = watch::channel(Control::default());
    let (_ftx, frx) = mpsc::unbounded_channel();
    let opts = RunOptions {
        devnet: devnet.clone(),
        runtime,
        slots: Some(1),
        fast: true,
        params_dir,
        plan: Vec::new(),
        keep: false,
        publish_rpc: false,
    };
    let started = Instant::now();
    let task = tokio::spawn(run_with_faults(
        opts,
        tx,
        ctl_rx,
        frx,
        CancellationToken::new(),
    ));
    let mut first = None;
    let mut rss = rss;
    while let Some(m) = rx.recv().await {
        match m {
            Msg::Engine(Event::PhaseOpened {
                slot: 0,
                phase: crate::protocol::Phase::T2,
            }) => {
                if let Some(out) = rss.take() {
                    *out = prover_memory(&devnet.name).await.unwrap_or_default();
                }
            }
            Msg::Engine(Event::Settled(s))
                if first.is_none() && s.outcome != Outcome::LivenessFault =>
            {
                first = Some(started.elapsed().as_secs_f64());
            }
            _ => {}
        }
    }
    task.await??;
    first.ok_or_else(|| anyhow::anyhow!("no slot finalized on {}", runtime.as_str()))
}

/// Memory usage of each running prover container of `devnet` (bytes).
async fn prover_memory(devnet: &str) -> Result<Vec<(String, u64)>, DockerError> {
    let d = docker::connect().await?;
    let rows = docker::containers(&d, Some(devnet)).await?;
    let mut out = Vec::new();
    for r in rows
        .iter()
        .filter(|r| r.role == "prover" && r.state == "running")
    {
        let opts = StatsOptionsBuilder::default()
            .stream(false)
            .one_shot(true)
            .build();
        if let Some(Ok(s)) = d.stats(&r.name, Some(opts)).next().await {
            let usage = s.memory_stats.and_then(|m| m.usage).unwrap_or(0);
            out.push((r.name.clone(), usage));
        }
    }
    Ok(out)
}

/// `docker-compose up` of the compose file for `devnet` with image `tag`:
/// seconds until the orchestrator service prints its first finalized slot.
async fn compose_first_slot(
    devnet: &Devnet,
    tag: &str,
    params: &std::path::Path,
) -> anyhow::Result<f64> {
    let file =
        std::env::temp_dir().join(format!("dpgnet-bench-compose-{}.yaml", std::process::id()));
    let text = compose_file(
        devnet,
        &ComposeOptions {
            image: tag.to_string(),
            build: false,
            slots: 1,
            fast: true,
        },
    )
    .map_err(|e| anyhow::anyhow!(e))?;
    std::fs::write(&file, text)?;
    let project = format!("dpgnet-{}", docker::sanitize(&devnet.name));
    let compose = |args: &[&str]| {
        let mut c = tokio::process::Command::new("docker-compose");
        c.arg("-p").arg(&project).arg("-f").arg(&file).args(args);
        c.env("DPGNET_PARAMS_DIR", params);
        c.env("DPGNET_IMAGE", tag);
        c
    };
    let started = Instant::now();
    let mut child = compose(&["up", "--no-color", "--abort-on-container-exit"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| anyhow::anyhow!("cannot run docker-compose: {e}"))?;
    let stdout = child
        .stdout
        .take()
        .ok_or_else(|| anyhow::anyhow!("no stdout"))?;
    let mut lines = BufReader::new(stdout).lines();
    let mut first = None;
    let deadline = Duration::from_secs(600);
    while let Ok(Ok(Some(line))) = tokio::time::timeout(deadline, lines.next_line()).await {
        if line.contains("\"outcome\":\"finalized") {
            first = Some(started.elapsed().as_secs_f64());
            break;
        }
    }
    let _ = child.kill().await;
    let _ = compose(&["down", "--remove-orphans", "-t", "1"])
        .output()
        .await;
    let d = docker::connect().await?;
    let _ = docker::down(&d, Some(&devnet.name)).await;
    first.ok_or_else(|| anyhow::anyhow!("docker-compose: no finalized slot printed"))
}

/// Measure everything, in one run, in this order: image cold, image warm, inproc,
/// docker, compose.
///
/// # Errors
/// Docker unreachable, a devnet failure.
pub async fn measure(seed: u64, params_dir: Option<PathBuf>) -> anyhow::Result<RuntimeBench> {
    let d = docker::connect().await?;
    let devnet = bench_devnet(seed);
    let _ = docker::down(&d, Some(&devnet.name)).await;
    let binary = super::image::node_binary()?;
    let tag = super::image::tag_for(&binary)?;
    let _ = d
        .remove_image(
            &tag,
            Some(RemoveImageOptionsBuilder::default().force(true).build()),
            None,
        )
        .await;
    let mut quiet = |_line: String| {};
    let t = Instant::now();
    docker::ensure_image(&d, &mut quiet).await?;
    let image_cold_s = t.elapsed().as_secs_f64();
    let t = Instant::now();
    docker::ensure_image(&d, &mut quiet).await?;
    let image_warm_s = t.elapsed().as_secs_f64();
    let image_bytes = d
        .inspect_image(&tag)
        .await
        .ok()
        .and_then(|i| i.size)
        .unwrap_or(0)
        .max(0) as u64;
    let inproc_first_slot_s =
        first_slot(&devnet, RuntimeKind::Inproc, params_dir.clone(), None).await?;
    let mut prover_rss_bytes = Vec::new();
    let docker_first_slot_s = first_slot(
        &devnet,
        RuntimeKind::Docker,
        params_dir.clone(),
        Some(&mut prover_rss_bytes),
    )
    .await?;
    let params = params_dir.unwrap_or_else(|| {
        dpgnet_circuits::ParamsCache::default_location()
            .dir()
            .to_path_buf()
    });
    let compose_first_slot_s = match compose_first_slot(&devnet, &tag, &params).await {
        Ok(s) => Some(s),
        Err(e) => {
            eprintln!("dpgnet bench: compose measurement failed: {e:#}");
            None
        }
    };
    Ok(RuntimeBench {
        image_cold_s,
        image_warm_s,
        inproc_first_slot_s,
        docker_first_slot_s,
        compose_first_slot_s,
        prover_rss_bytes,
        image_bytes,
    })
}

/// The markdown section for BENCHMARKS.md.
#[must_use]
pub fn markdown(b: &RuntimeBench) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "## Runtimes: startup, image, memory (`dpgnet bench --runtimes`)\n"
    );
    let _ = writeln!(
        s,
        "One run, in this order; the default devnet (4 validators, 6 honest provers, the adversary agent with 2), `--fast`, params cached.\n"
    );
    let _ = writeln!(s, "| measure | seconds | ratio |");
    let _ = writeln!(s, "| --- | ---: | ---: |");
    let _ = writeln!(
        s,
        "| up → first finalized slot, in-process | {:.2} | 1.00 |",
        b.inproc_first_slot_s
    );
    let _ = writeln!(
        s,
        "| up → first finalized slot, Docker runtime | {:.2} | {:.2} × inproc |",
        b.docker_first_slot_s,
        b.docker_first_slot_s / b.inproc_first_slot_s
    );
    match b.compose_first_slot_s {
        Some(c) => {
            let _ = writeln!(
                s,
                "| up → first finalized slot, `docker-compose up` | {c:.2} | {:.2} × inproc |",
                c / b.inproc_first_slot_s
            );
            let _ = writeln!(
                s,
                "\n**Docker runtime / compose: {:.2}** (goal ≤ 1: {}).\n",
                b.docker_first_slot_s / c,
                if b.docker_first_slot_s <= c {
                    "met"
                } else {
                    "MISSED"
                }
            );
        }
        None => {
            let _ = writeln!(
                s,
                "| up → first finalized slot, `docker-compose up` | failed | – |"
            );
        }
    }
    let _ = writeln!(
        s,
        "\nImage build: cold {:.2} s, warm (up to date) {:.3} s, ratio {:.3}; image size {:.1} MB.\n",
        b.image_cold_s,
        b.image_warm_s,
        b.image_warm_s / b.image_cold_s,
        b.image_bytes as f64 / 1e6
    );
    if !b.prover_rss_bytes.is_empty() {
        let mb: Vec<f64> = b
            .prover_rss_bytes
            .iter()
            .map(|(_, v)| *v as f64 / 1e6)
            .collect();
        let mean = mb.iter().sum::<f64>() / mb.len() as f64;
        let max = mb.iter().copied().fold(0.0, f64::max);
        let _ = writeln!(
            s,
            "Memory per prover container (cgroup usage at slot 0's T2, partial k 9 / full k 11 keys loaded): mean {mean:.0} MB, max {max:.0} MB over {} containers.",
            mb.len()
        );
    }
    s
}
