//! In-process devnet under faults, with real halo2 proofs: a tampered proof, a
//! stolen proof and a prover killed mid-slot are each rejected or absorbed, and
//! penalized exactly as the engine's rules say, while the ledger conserves value.

use std::collections::BTreeMap;

use alloy_primitives::{Address, Bytes};
use dpgnet::app::Msg;
use dpgnet::config::{Devnet, Role};
use dpgnet::node::NodeKey;
use dpgnet::orchestrator::{
    Control, Fault, PlanStep, RunOptions, RuntimeKind, genesis, run_with_faults, workload,
};
use dpgnet::protocol::{
    Engine, EngineParams, EntryKind, Event, MessageKind, Outcome, SetAssignment, Settlement,
    SlotInput, WarningKind,
};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// The default devnet with short windows and the given adversary strategy.
fn devnet(strategy: &str, seed: u64) -> Devnet {
    let mut d = Devnet::default_devnet();
    d.network_params.seed = seed;
    let w = &mut d.network_params.phase_seconds;
    (w.t1, w.t2, w.t3, w.t4, w.t5) = (20.0, 12.0, 20.0, 20.0, 20.0);
    for p in &mut d.participants {
        if p.role == Role::Adversary {
            p.strategy = Some(strategy.to_string());
        }
    }
    d
}

/// Slot 0's selection, computed with the pure engine exactly as validators do.
fn slot0(d: &Devnet) -> SetAssignment {
    let mut e = Engine::new(EngineParams::from_devnet(d), &genesis(d)).unwrap();
    e.begin_slot(SlotInput {
        slot: 0,
        reveal: Bytes::from(vec![0u8; 65]),
        roots: workload(d).roots(0),
    })
    .unwrap();
    e.set_state(0).unwrap().assignment.clone()
}

fn corrupted(d: &Devnet) -> Vec<Address> {
    d.nodes()
        .iter()
        .filter(|s| s.corrupted)
        .map(|s| NodeKey::derive(d.network_params.seed, s.role, s.index).address())
        .collect()
}

/// A seed whose slot 0 selects a corrupted prover that is not the T3 aggregator
/// and shares a sub-block with an honest prover.
fn seed_with_corrupted_selected() -> (u64, Address) {
    for seed in 1..500 {
        let d = devnet("honest", seed);
        let a = slot0(&d);
        let bad = corrupted(&d);
        for who in &a.selected {
            if !bad.contains(who) || a.aggregators[0] == *who || bad.contains(&a.aggregators[0]) {
                continue;
            }
            let shares = a.assignments[who]
                .iter()
                .all(|sb| a.provers_of(*sb).iter().any(|p| !bad.contains(p)));
            if shares {
                return (seed, *who);
            }
        }
    }
    panic!("no seed found");
}

/// Devnets in one test binary run one at a time (2 cores).
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

async fn run(d: Devnet, slots: u64, kill_at_slot_start: Option<String>) -> Vec<Event> {
    let _serial = SERIAL.lock().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (_ctl, ctl_rx) = watch::channel(Control::default());
    let (ftx, frx) = mpsc::unbounded_channel();
    let opts = RunOptions {
        devnet: d,
        runtime: RuntimeKind::Inproc,
        slots: Some(slots),
        fast: true,
        params_dir: None,
        plan: Vec::new(),
        keep: false,
        publish_rpc: false,
    };
    let task = tokio::spawn(run_with_faults(
        opts,
        tx,
        ctl_rx,
        frx,
        CancellationToken::new(),
    ));
    let mut events = Vec::new();
    let mut kill = kill_at_slot_start;
    while let Some(m) = rx.recv().await {
        if let Msg::Engine(e) = m {
            if matches!(e, Event::PhaseOpened { slot: 0, .. }) {
                if let Some(name) = kill.take() {
                    ftx.send(PlanStep {
                        slot: 0,
                        fault: Fault::Kill(name),
                    })
                    .unwrap();
                }
            }
            events.push(e);
        }
    }
    task.await.unwrap().expect("devnet runs");
    events
}

fn settled(events: &[Event], slot: u64) -> Settlement {
    events
        .iter()
        .find_map(|e| match e {
            Event::Settled(s) if s.slot == slot => Some(s.clone()),
            _ => None,
        })
        .expect("slot settled")
}

fn entries_of(s: &Settlement, who: Address) -> BTreeMap<String, (EntryKind, u64)> {
    s.entries
        .iter()
        .filter(|e| e.node == who)
        .map(|e| (e.rule.clone(), (e.kind, e.applied)))
        .collect()
}

fn warnings(events: &[Event]) -> Vec<(Address, WarningKind)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Warning { node, kind, .. } => Some((*node, *kind)),
            _ => None,
        })
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn tampered_proof_is_rejected_and_slashed_while_the_slot_finalizes() {
    let (seed, victim_slot_prover) = seed_with_corrupted_selected();
    let d = devnet("invalid_proof", seed);
    let bad = corrupted(&d);
    let a = slot0(&d);
    let events = run(d, 1, None).await;
    let s = settled(&events, 0);
    assert_eq!(
        s.outcome,
        Outcome::FinalizedT3,
        "redundancy covers the tampered partials"
    );
    assert!(s.conservation_ok);
    // The selected corrupted prover's partials were included, judged invalid, slashed.
    let included_invalid = events.iter().any(|e| {
        matches!(e, Event::MessageIncluded { from, kind: MessageKind::Partials, accepted: false, verdict, .. }
            if *from == victim_slot_prover && !verdict.is_valid())
    });
    assert!(
        included_invalid,
        "tampered partials included with an invalid verdict"
    );
    assert!(warnings(&events).contains(&(victim_slot_prover, WarningKind::InvalidProof)));
    let mine = entries_of(&s, victim_slot_prover);
    assert_eq!(
        mine.get("SLASH_INVALID_PROOF"),
        Some(&(EntryKind::Slash, 100))
    );
    let missed = a.assignments[&victim_slot_prover].len() as u64;
    assert_eq!(
        mine.get("PENALTY_T2_PROVER"),
        Some(&(EntryKind::Penalty, 3 * missed))
    );
    assert!(!mine.contains_key("REWARD_T2_PROVER"));
    // No honest node is slashed.
    for e in &s.entries {
        if e.kind == EntryKind::Slash {
            assert!(bad.contains(&e.node), "honest node slashed: {e:?}");
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn stolen_proof_is_rejected_and_slashed() {
    let (seed, thief) = seed_with_corrupted_selected();
    let d = devnet("steal", seed);
    let bad = corrupted(&d);
    let events = run(d, 1, None).await;
    let s = settled(&events, 0);
    assert!(s.conservation_ok);
    assert_eq!(s.outcome, Outcome::FinalizedT3);
    assert!(
        warnings(&events).contains(&(thief, WarningKind::StolenProof)),
        "warnings: {:?}",
        warnings(&events)
    );
    let mine = entries_of(&s, thief);
    assert_eq!(
        mine.get("SLASH_INVALID_PROOF"),
        Some(&(EntryKind::Slash, 100))
    );
    assert!(
        !mine.contains_key("REWARD_T2_PROVER"),
        "a thief earns nothing for T2"
    );
    // The owners of the copied proofs are not slashed.
    assert!(
        s.entries
            .iter()
            .filter(|e| e.kind == EntryKind::Slash)
            .all(|e| bad.contains(&e.node))
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn prover_killed_mid_slot_is_covered_by_redundancy() {
    let d = devnet("honest", 7);
    let a = slot0(&d);
    let bad = corrupted(&d);
    // Kill an honest selected prover that is not the T3 aggregator.
    let specs = d.nodes();
    let (victim, name) = specs
        .iter()
        .filter(|s| s.role == Role::Prover && !s.corrupted)
        .map(|s| {
            (
                NodeKey::derive(7, s.role, s.index).address(),
                format!("prover-{}", s.index),
            )
        })
        .find(|(addr, _)| a.is_selected(addr) && a.aggregators[0] != *addr && !bad.contains(addr))
        .expect("an honest selected prover");
    let events = run(d, 1, Some(name)).await;
    let s = settled(&events, 0);
    assert!(s.conservation_ok);
    assert!(s.outcome.is_finalized(), "{:?}", s.outcome);
    let mine = entries_of(&s, victim);
    let n = a.assignments[&victim].len() as u64;
    // It committed in T1 (before it died) or was penalized for not committing; it
    // never delivered its partials.
    assert_eq!(
        mine.get("PENALTY_T2_PROVER"),
        Some(&(EntryKind::Penalty, 3 * n)),
        "{mine:?}"
    );
    assert!(!mine.contains_key("REWARD_T2_PROVER"));
    assert!(
        s.entries.iter().all(|e| e.kind != EntryKind::Slash),
        "nobody is slashed for a crash"
    );
}
