//! End to end, in-process: real halo2 proofs through T1–T5 on the default devnet.

use dpgnet::app::Msg;
use dpgnet::config::Devnet;
use dpgnet::orchestrator::{Control, RunOptions, RuntimeKind, run};
use std::collections::BTreeMap;

use alloy_primitives::Address;
use dpgnet::protocol::{Account, EntryKind, Event, Outcome, Settlement};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// Devnets in one test binary run one at a time: on 2 cores, parallel devnets
/// would starve each other's provers past the phase windows.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Long windows: `--fast` closes each phase as soon as its messages are in, so the
/// windows only matter if something is missing, and a loaded CI machine must not
/// turn slow proving into a fallback phase.
fn patient(mut devnet: Devnet) -> Devnet {
    let w = &mut devnet.network_params.phase_seconds;
    (w.t1, w.t2, w.t3, w.t4, w.t5) = (30.0, 60.0, 30.0, 30.0, 30.0);
    devnet
}

async fn run_devnet(
    devnet: Devnet,
    slots: u64,
) -> (Vec<Event>, Vec<dpgnet::orchestrator::SlotTiming>) {
    let _serial = SERIAL.lock().await;
    let devnet = patient(devnet);
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (_ctl_tx, ctl_rx) = watch::channel(Control::default());
    let opts = RunOptions {
        devnet,
        runtime: RuntimeKind::Inproc,
        slots: Some(slots),
        fast: true,
        params_dir: None,
        plan: Vec::new(),
        keep: false,
        publish_rpc: false,
    };
    let timings = run(opts, tx, ctl_rx, CancellationToken::new())
        .await
        .expect("devnet runs");
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
    let s = settlements(&events);
    assert_eq!(s.len(), 2, "{events:#?}");
    for st in &s {
        assert_eq!(
            st.outcome,
            Outcome::FinalizedT3,
            "slot {}: {:#?}",
            st.slot,
            st.entries
        );
        assert!(st.conservation_ok);
        // 8 partial proofs + 1 link proof, all valid.
        assert_eq!(st.proofs_submitted, 9);
        assert_eq!(st.proofs_valid, 9);
    }
    assert_eq!(timings.len(), 2);
    for t in &timings {
        assert!(
            t.proving_critical_path_s > 0.0 && t.wall_s >= t.proving_critical_path_s,
            "{t:?}"
        );
        eprintln!(
            "slot {}: wall {:.3}s, proving critical path {:.3}s, ratio {:.3}",
            t.slot,
            t.wall_s,
            t.proving_critical_path_s,
            t.wall_s / t.proving_critical_path_s
        );
    }
}

/// Per-account (balance, stake) deltas of a settlement against the accounts before it.
fn deltas(before: &[Account], after: &[Account]) -> BTreeMap<Address, (i64, i64)> {
    let b: BTreeMap<Address, &Account> = before.iter().map(|a| (a.address, a)).collect();
    after
        .iter()
        .map(|a| {
            let p = b[&a.address];
            (
                a.address,
                (
                    a.balance as i64 - p.balance as i64,
                    a.stake as i64 - p.stake as i64,
                ),
            )
        })
        .collect()
}

/// The spec's table for an honest slot of the default devnet (4 partials,
/// redundancy 2, 4 provers selected with 2 sub-blocks each, T3 aggregation reusing
/// other provers' partials), with real proofs end to end.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn honest_slot_moves_balances_exactly_as_the_spec_table() {
    let (events, _) = run_devnet(Devnet::default_devnet(), 1).await;
    let genesis = events
        .iter()
        .find_map(|e| match e {
            Event::Genesis { accounts, .. } => Some(accounts.clone()),
            _ => None,
        })
        .unwrap();
    let (proposer, set) = events
        .iter()
        .find_map(|e| match e {
            Event::SlotStarted { proposer, sets, .. } => Some((*proposer, sets[0].clone())),
            _ => None,
        })
        .unwrap();
    let s = &settlements(&events)[0];
    assert_eq!(s.outcome, Outcome::FinalizedT3);
    let d = deltas(&genesis, &s.accounts);
    // Proposer: REWARD_T1_VALIDATOR x 4 commitments + REWARD_T2_VALIDATOR x 8
    // partials + REWARD_VALIDATOR_T3 x 1 full proof = 12 + 24 + 1.
    assert_eq!(d[&proposer], (37, 0));
    // Aggregator: REWARD_T2_PROVER x 2 + REWARD_PROVER_T3 + REWARD_PROVER_REUSING_T3 x 4.
    let agg = set.aggregators[0];
    assert_eq!(d[&agg], (20 + 50 + 4 * 40, 0));
    // The other selected provers: REWARD_T2_PROVER x 2 each, REWARD_PROVER_REUSED_T3
    // x 40 per reused partial (4 reused in all), PENALTY_PROVER_NOTREUSED_T3 = -1 per
    // partial not reused (2 in all, taken from stake).
    let others: Vec<(i64, i64)> = set
        .selected
        .iter()
        .filter(|p| **p != agg)
        .map(|p| d[p])
        .collect();
    assert_eq!(others.len(), 3);
    assert_eq!(others.iter().map(|x| x.0).sum::<i64>(), 3 * 20 + 4 * 40);
    assert_eq!(others.iter().map(|x| x.1).sum::<i64>(), -2);
    for (bal, stake) in &others {
        assert!(*bal >= 20 && *stake <= 0 && *stake >= -2, "{others:?}");
        // Each partial is either reused (+40) or not (-1): 2 partials per prover.
        assert_eq!((*bal - 20) / 40 + (-*stake), 2, "{others:?}");
    }
    // Nobody else moves.
    for (addr, delta) in &d {
        if *addr != proposer && !set.selected.contains(addr) {
            assert_eq!(*delta, (0, 0), "{addr}");
        }
    }
    assert_eq!(s.payments, 487);
    assert_eq!(s.totals.minted, 487);
    assert_eq!(s.totals.burned, 2);
    assert!(s.entries.iter().all(|e| e.kind != EntryKind::Slash));
}

/// The gigagas extension: two sub-block sets, each proven by its own prover set,
/// then a block-level AggProof by the PROVERS_PER_AGGPROOF group.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_sub_block_sets_finalize_through_an_agg_proof() {
    let mut d = Devnet::default_devnet();
    d.network_params.num_sub_block_sets = 2;
    d.validate().expect("valid gigagas devnet");
    let (events, _) = run_devnet(d, 1).await;
    let group = events
        .iter()
        .find_map(|e| match e {
            Event::AggGroupSelected { group, .. } => Some(group.clone()),
            _ => None,
        })
        .expect("an AggProof group is selected");
    // 8 provers, 2 sets of 2 selected, so 4 remain for the group (PROVERS_PER_AGGPROOF = 5).
    assert_eq!(group.len(), 4);
    let s = &settlements(&events)[0];
    assert!(s.conservation_ok);
    assert_eq!(
        s.outcome,
        Outcome::FinalizedT4,
        "sets finalize in T3, the AggProof follows in T4"
    );
    let agg_paid: Vec<_> = s
        .entries
        .iter()
        .filter(|e| e.rule == "REWARD_AGG_PROOF_PROVER")
        .collect();
    assert_eq!(agg_paid.len(), 4);
    assert!(
        agg_paid
            .iter()
            .all(|e| e.amount == 50 && group.contains(&e.node))
    );
    assert_eq!(
        s.entries
            .iter()
            .filter(|e| e.rule == "REWARD_AGG_PROOF_VALIDATOR")
            .map(|e| e.amount)
            .sum::<u64>(),
        3
    );
}
