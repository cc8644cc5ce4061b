//! End to end, in-process: real halo2 proofs through T1–T5 on the default devnet.

use dpgnet::app::Msg;
use dpgnet::config::Devnet;
use dpgnet::orchestrator::{Control, RunOptions, RuntimeKind, run};
use dpgnet::protocol::{Event, Outcome, Settlement};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

async fn run_devnet(devnet: Devnet, slots: u64) -> (Vec<Event>, Vec<dpgnet::orchestrator::SlotTiming>) {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (_ctl_tx, ctl_rx) = watch::channel(Control::default());
    let opts = RunOptions { devnet, runtime: RuntimeKind::Inproc, slots: Some(slots), fast: true, params_dir: None };
    let timings = run(opts, tx, ctl_rx, CancellationToken::new()).await.expect("devnet runs");
    let mut events = Vec::new();
    while let Ok(m) = rx.try_recv() {
        if let Msg::Engine(e) = m {
            events.push(e);
        }
    }
    (events, timings)
}

fn settlements(events: &[Event]) -> Vec<Settlement> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Settled(s) => Some(s.clone()),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn default_devnet_finalizes_every_slot_with_real_proofs() {
    let (events, timings) = run_devnet(Devnet::default_devnet(), 2).await;
    for e in &events {
        if !matches!(e, Event::Ledger(_) | Event::Genesis { .. }) {
            eprintln!("{}", serde_json::to_string(e).unwrap().chars().take(300).collect::<String>());
        }
    }
    let s = settlements(&events);
    assert_eq!(s.len(), 2, "{events:#?}");
    for st in &s {
        assert_eq!(st.outcome, Outcome::FinalizedT3, "slot {}: {:#?}", st.slot, st.entries);
        assert!(st.conservation_ok);
        // 8 partial proofs + 1 link proof, all valid.
        assert_eq!(st.proofs_submitted, 9);
        assert_eq!(st.proofs_valid, 9);
    }
    assert_eq!(timings.len(), 2);
    for t in &timings {
        assert!(t.proving_critical_path_s > 0.0 && t.wall_s >= t.proving_critical_path_s, "{t:?}");
        eprintln!("slot {}: wall {:.3}s, proving critical path {:.3}s, ratio {:.3}", t.slot, t.wall_s, t.proving_critical_path_s, t.wall_s / t.proving_critical_path_s);
    }
}
