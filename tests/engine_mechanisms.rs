//! The pure engine under the non-spec mechanisms (`src/mechanism/rules.rs`): the
//! mechanism's request becomes the set's selection and assignment, only the mechanism
//! moves money at settlement (slashes into the treasury), value is conserved, and the
//! `spec` default keeps its table and only gains the two summary events.

mod common;

use alloy_primitives::Address;
use common::engine_harness::{Harness, default_params, genesis_total, settlement};
use dpgnet::mechanism::rules::{MechanismConfig, MechanismKind};
use dpgnet::protocol::{
    Engine, EngineError, EngineParams, EntryKind, Event, Included, Outcome, Phase,
};

fn params(kind: MechanismKind, p: &[(&str, f64)]) -> EngineParams {
    let mut e = default_params();
    e.mechanism = MechanismConfig::with(kind, p);
    e
}

fn with_list(mut e: EngineParams, key: &str, yaml: &str) -> EngineParams {
    e.mechanism
        .params
        .insert(key.to_owned(), serde_yaml::from_str(yaml).unwrap());
    e
}

/// The `MechanismSettled` event among `events`.
fn mech(events: &[Event]) -> Event {
    events
        .iter()
        .find(|e| matches!(e, Event::MechanismSettled { .. }))
        .cloned()
        .expect("MechanismSettled")
}

/// An aggregation by `who`: for each sub-block, another assigned prover's partial (not
/// one of `skip`, who sent none) if there is one, else `who`'s own partial, reused or
/// proven inline.
fn aggregate(h: &Harness, who: Address, skip: &[Address]) -> Included {
    let a = h.asg(0);
    let n = h.engine.params().num_partial_proofs;
    let mut reused = Vec::new();
    let mut own = Vec::new();
    for b in 0..n {
        match a
            .provers_of(b)
            .into_iter()
            .find(|p| *p != who && !skip.contains(p))
        {
            Some(o) => reused.push(h.pref(o, 0, b)),
            None if a.provers_of(b).contains(&who) => reused.push(h.pref(who, 0, b)),
            None => own.push(h.partial(who, 0, b)),
        }
    }
    h.aggregate(who, 0, reused, own)
}

/// T1 and T2 honest for every selected prover except `skip`, then T3 by the aggregator.
fn run_slot(h: &mut Harness, skip: &[Address]) -> Vec<Event> {
    h.begin();
    let sel = h.asg(0).selected;
    let commits = sel.iter().map(|p| h.commit(*p, 0)).collect();
    h.apply(Phase::T1, commits);
    let parts = sel
        .iter()
        .filter(|p| !skip.contains(p) && !h.asg(0).assignments[*p].is_empty())
        .map(|p| h.partials(*p, 0))
        .collect();
    h.apply(Phase::T2, parts);
    let mut ev = Vec::new();
    for (i, phase) in [Phase::T3, Phase::T4, Phase::T5].into_iter().enumerate() {
        if h.engine.slot_done() {
            break;
        }
        let agg = h.asg(0).aggregators[i];
        let inc = if skip.contains(&agg) || sel.is_empty() {
            vec![]
        } else {
            vec![aggregate(h, agg, skip)]
        };
        ev = h.apply(phase, inc);
    }
    ev
}

#[test]
fn designated_pays_the_fixed_total_when_the_designate_delivers() {
    // m = 3, q = 1: everybody asked; T = 100 (1 + 3) = 400, R = 100 · 3 / 1 = 300.
    let mut h = Harness::with_params(params(
        MechanismKind::Designated,
        &[("m", 3.0), ("q", 1.0), ("proof_cost", 100.0)],
    ));
    assert!(h.log.iter().any(|e| matches!(
        e,
        Event::MechanismChosen { kind, params } if kind == "designated"
            && params.contains(&("T".to_owned(), "400".to_owned()))
    )));
    let ev = run_slot(&mut h, &[]);
    let s = settlement(&ev).unwrap();
    assert_eq!(s.outcome, Outcome::FinalizedT3);
    let Event::MechanismSettled {
        request, payments, ..
    } = mech(&ev)
    else {
        unreachable!()
    };
    let a = h.asg(0);
    assert_eq!(a.selected, request.asked);
    assert_eq!(a.aggregators[0], request.designated.unwrap());
    assert_eq!(request.asked.len(), 4);
    // Members 100 each, the designate 400 − 300.
    assert_eq!(payments.iter().map(|p| p.1).collect::<Vec<_>>(), [100; 4]);
    // Only the mechanism's entries, all in T3, nothing to the proposer.
    assert!(s.entries.iter().all(|e| e.rule == "mechanism:designated"));
    assert!(s.entries.iter().all(|e| e.phase == Phase::T3));
    assert_eq!(s.payments, 400);
    assert!(s.conservation_ok);
    assert_eq!(
        s.totals.minted + genesis_total(),
        s.totals.stake + s.totals.balance
    );
}

#[test]
fn a_withholding_designate_is_slashed_into_the_treasury_and_nobody_is_paid() {
    // The default devnet burns slashes; the mechanism's go to the treasury regardless.
    let mut h = Harness::with_params(params(
        MechanismKind::Designated,
        &[("m", 3.0), ("q", 1.0), ("stake", 70.0)],
    ));
    h.begin();
    let designate = h.asg(0).selected[0];
    // Re-run the slot from scratch with the designate withholding.
    let mut h = Harness::with_params(params(
        MechanismKind::Designated,
        &[("m", 3.0), ("q", 1.0), ("stake", 70.0)],
    ));
    let ev = run_slot(&mut h, &[designate]);
    let s = settlement(&ev).unwrap();
    // T3 (the designate) failed; the first member aggregated in T4.
    assert_eq!(s.outcome, Outcome::FinalizedT4);
    assert_eq!(s.payments, 0);
    let slashes: Vec<_> = s
        .entries
        .iter()
        .filter(|e| e.kind == EntryKind::Slash)
        .map(|e| (e.node, e.applied))
        .collect();
    assert_eq!(slashes, [(designate, 70)]);
    assert_eq!(s.totals.treasury, 70);
    assert_eq!(s.totals.burned, 0);
    assert_eq!(h.account(designate).stake, 930);
    assert!(s.conservation_ok);
    let Event::MechanismSettled {
        delivered,
        liveness_fault,
        ..
    } = mech(&ev)
    else {
        unreachable!()
    };
    assert!(!delivered.contains(&designate));
    assert_eq!(delivered.len(), 3);
    assert!(!liveness_fault);
}

#[test]
fn capacity_audit_allocates_each_audited_bid_and_slashes_a_shortfall() {
    let p = with_list(
        params(
            MechanismKind::CapacityAudit,
            &[
                ("epsilon", 1.0),
                ("p", 2.0),
                ("stake", 100.0),
                ("unit", 10.0),
            ],
        ),
        "bids",
        "[1, 2, 3, 1, 2, 1, 1, 4]",
    );
    let mut h = Harness::with_params(p);
    h.begin();
    let a = h.asg(0);
    // Everybody audited, in genesis order; bid b = b sub-blocks, consecutive, cyclic.
    let sizes: Vec<usize> = a.selected.iter().map(|p| a.assignments[p].len()).collect();
    assert_eq!(sizes, [1, 2, 3, 1, 2, 1, 1, 4]);
    assert_eq!(a.assignments[&a.selected[0]], [0]);
    assert_eq!(a.assignments[&a.selected[1]], [1, 2]);
    assert_eq!(a.assignments[&a.selected[2]], [0, 1, 3]);
    let short = a.selected[2];
    let mut h2 = Harness::with_params(with_list(
        params(
            MechanismKind::CapacityAudit,
            &[
                ("epsilon", 1.0),
                ("p", 2.0),
                ("stake", 100.0),
                ("unit", 10.0),
            ],
        ),
        "bids",
        "[1, 2, 3, 1, 2, 1, 1, 4]",
    ));
    let ev = run_slot(&mut h2, &[short]);
    let s = settlement(&ev).unwrap();
    let pay = |i: usize| {
        s.entries
            .iter()
            .filter(|e| e.node == a.selected[i] && e.kind == EntryKind::Reward)
            .map(|e| e.amount)
            .sum::<u64>()
    };
    // unit (b + b²): b = 1 → 20, b = 2 → 60, b = 4 → 200.
    assert_eq!((pay(0), pay(1), pay(2), pay(7)), (20, 60, 0, 200));
    assert_eq!(s.totals.treasury, 100);
    let Event::MechanismSettled {
        capacity_oracle, ..
    } = mech(&ev)
    else {
        unreachable!()
    };
    assert_eq!(capacity_oracle, Some(15));
}

#[test]
fn proof_tree_leaves_are_the_sub_blocks() {
    let mut h = Harness::with_params(params(MechanismKind::ProofTree, &[]));
    h.begin();
    let a = h.asg(0);
    // 4 leaves = 4 sub-blocks, each with exactly one prover.
    for b in 0..4 {
        assert_eq!(a.provers_of(b).len(), 1, "{a:?}");
    }
    let mut h = Harness::with_params(params(MechanismKind::ProofTree, &[]));
    let ev = run_slot(&mut h, &[]);
    let s = settlement(&ev).unwrap();
    // 4 leaves × 40 + 3 merges × 20.
    assert_eq!(s.payments, 220);
}

#[test]
fn a_mechanism_that_asks_nobody_runs_to_a_liveness_fault() {
    let mut h = Harness::with_params(params(MechanismKind::PayDeliverers, &[("q", 0.0)]));
    h.begin();
    assert!(h.asg(0).selected.is_empty());
    // Fast mode waits for nobody.
    assert!(h.engine.expected_senders().is_empty());
    let mut last = Vec::new();
    for phase in Phase::ALL {
        last = h.apply(phase, vec![]);
        assert!(h.engine.expected_senders().is_empty());
    }
    let s = settlement(&last).unwrap();
    assert_eq!(s.outcome, Outcome::LivenessFault);
    assert_eq!(s.payments, 0);
    assert_eq!(s.loss, 10_000);
}

#[test]
fn impossible_mechanisms_are_engine_errors() {
    let e = Engine::new(
        params(MechanismKind::Designated, &[("m", 8.0)]),
        &common::engine_harness::genesis(),
    )
    .unwrap_err();
    assert!(
        matches!(e, EngineError::Mechanism(ref m) if m.contains("m + 1 ≤ provers")),
        "{e}"
    );
    let mut p = params(MechanismKind::Lottery, &[]);
    p.num_sub_block_sets = 2;
    let mut h = Harness::with_params(p);
    let e = h.try_begin(1).unwrap_err();
    assert!(matches!(e, EngineError::Mechanism(_)), "{e}");
}

#[test]
fn spec_keeps_its_table_and_summarises_it() {
    let mut h = Harness::new();
    assert!(h.log.iter().any(|e| matches!(
        e,
        Event::MechanismChosen { kind, .. } if kind == "spec"
    )));
    let s = h.honest_slot();
    let ev = h.log.clone();
    let Event::MechanismSettled {
        kind,
        request,
        payments,
        delivered,
        ..
    } = mech(&ev)
    else {
        unreachable!()
    };
    assert_eq!(kind, "spec");
    assert_eq!(request.asked, h.asg(0).selected);
    assert_eq!(delivered, request.asked);
    assert!(s.entries.iter().all(|e| !e.rule.starts_with("mechanism:")));
    assert_eq!(payments.iter().map(|p| p.1).sum::<u64>(), s.payments);
    // The summary comes right before the settlement.
    let i = ev
        .iter()
        .position(|e| matches!(e, Event::MechanismSettled { .. }))
        .unwrap();
    assert!(matches!(ev[i + 1], Event::Settled(_)));
}
