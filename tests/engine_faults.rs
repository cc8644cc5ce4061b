//! The protocol engine under faults: invalid and stolen proofs, equivocation, duplicates,
//! replays, missing commitments and partials, malformed aggregations, unknown senders,
//! shell errors and ejection. Exact amounts from the default devnet's table
//! (`SLASH_INVALID_PROOF` −100 and `SLASH_EQUIVOCATION` −200 are ours, DESIGN.md).

mod common;

use alloy_primitives::{Address, B256};
use common::engine_harness::*;
use dpgnet::config::SlashDestination;
use dpgnet::protocol::{
    EngineError, EntryKind, Event, Message, Outcome, Phase, PhaseBlock, WarningKind,
};

/// Begin slot 1 and return the selected provers; shape as in engine_honest: sel[0], sel[2]
/// on {0,2}, sel[1], sel[3] on {1,3}.
fn start(h: &mut Harness) -> Vec<Address> {
    h.begin();
    let s = h.asg(0).selected;
    assert_eq!(h.asg(0).assignments[&s[0]], vec![0, 2]);
    assert_eq!(h.asg(0).assignments[&s[1]], vec![1, 3]);
    assert_eq!(h.asg(0).assignments[&s[2]], vec![0, 2]);
    assert_eq!(h.asg(0).assignments[&s[3]], vec![1, 3]);
    s
}

fn rejected_because(ev: &[Event], who: Address, needle: &str) {
    let hit = inclusions(ev)
        .into_iter()
        .find(|(f, ok, r)| *f == who && !ok && r.as_deref().is_some_and(|r| r.contains(needle)));
    assert!(
        hit.is_some(),
        "{who} should be rejected with '{needle}': {:?}",
        inclusions(ev)
    );
}

fn slashes(ev: &[Event]) -> Vec<(Address, u64, String)> {
    entries(ev)
        .into_iter()
        .filter(|e| e.kind == EntryKind::Slash)
        .map(|e| (e.node, e.applied, e.rule))
        .collect()
}

#[test]
fn invalid_proof_is_rejected_warned_and_slashed() {
    let mut h = Harness::new();
    let s = start(&mut h);
    let prop = h.proposer();
    h.honest_t1();
    let before = h.accounts();
    let ev = h.apply(
        Phase::T2,
        vec![
            h.partials(s[0], 0),
            h.partials(s[1], 0),
            invalid(h.partials(s[2], 0)),
            h.partials(s[3], 0),
        ],
    );
    rejected_because(&ev, s[2], "invalid proof");
    assert_eq!(warnings(&ev), vec![(s[2], WarningKind::InvalidProof)]);
    assert_eq!(
        slashes(&ev),
        vec![(s[2], 100, "SLASH_INVALID_PROOF".to_string())]
    );
    // s[2]: slashed 100, and both its partials missing: PENALTY_T2_PROVER 3 × 2.
    // Others +20; proposer 3 × 6 valid partials.
    assert_deltas(
        &before,
        &h.accounts(),
        &[
            (s[2], -106, 0),
            (s[0], 0, 20),
            (s[1], 0, 20),
            (s[3], 0, 20),
            (prop, 0, 18),
        ],
    );
    assert_eq!(h.account(s[2]).slashed, 100);
    assert_eq!(h.account(s[2]).penalties, 6);
    // Its partials are not reusable.
    let ev = h.apply(
        Phase::T3,
        vec![h.aggregate_from(s[0], 0, &[s[2], s[1], s[2], s[3]])],
    );
    rejected_because(&ev, s[0], "was not accepted in T2");
    let ev = h.apply(
        Phase::T4,
        vec![h.aggregate_from(s[1], 0, &[s[0], s[3], s[0], s[3]])],
    );
    let st = settlement(&ev).unwrap();
    assert_eq!(st.outcome, Outcome::FinalizedT4);
    assert!(st.conservation_ok);
    assert_eq!(st.proofs_submitted, 8 + 1 + 1);
    assert_eq!(st.proofs_valid, 6 + 1 + 1);
}

#[test]
fn stolen_proof_is_detected_and_slashed() {
    let mut h = Harness::new();
    let s = start(&mut h);
    h.honest_t1();
    let before = h.accounts();
    // s[2] ({0,2}, like s[0]) copies s[0]'s partial proofs byte for byte and sends them as
    // its own; the validators' verdict is Invalid (the address public input differs).
    let mut stolen = h.partials(s[0], 0);
    stolen.from = s[2];
    let ev = h.apply(
        Phase::T2,
        vec![
            h.partials(s[0], 0),
            h.partials(s[1], 0),
            invalid(stolen),
            h.partials(s[3], 0),
        ],
    );
    rejected_because(&ev, s[2], "stolen proof");
    assert_eq!(warnings(&ev), vec![(s[2], WarningKind::StolenProof)]);
    assert_eq!(
        slashes(&ev),
        vec![(s[2], 100, "SLASH_INVALID_PROOF".to_string())]
    );
    let d = deltas(&before, &h.accounts());
    assert_eq!(d[&s[2]], (-106, 0));
    assert_eq!(d[&s[0]], (0, 20));
}

#[test]
fn front_running_thief_does_not_frame_the_owner() {
    // The thief's copy is included BEFORE the owner's own submission. The copy does not
    // verify (the address public input differs), so it must not become the "original":
    // the owner is accepted and not slashed; the thief is slashed.
    let mut h = Harness::new();
    let s = start(&mut h);
    h.honest_t1();
    let before = h.accounts();
    let mut stolen = h.partials(s[0], 0);
    stolen.from = s[2];
    let ev = h.apply(
        Phase::T2,
        vec![
            invalid(stolen),
            h.partials(s[0], 0),
            h.partials(s[1], 0),
            h.partials(s[3], 0),
        ],
    );
    let inc = inclusions(&ev);
    assert!(!inc[0].1);
    assert!(inc[1].1, "the owner's own partials are accepted: {inc:?}");
    assert_eq!(
        slashes(&ev),
        vec![(s[2], 100, "SLASH_INVALID_PROOF".to_string())]
    );
    assert!(warnings(&ev).iter().all(|(n, _)| *n == s[2]));
    let d = deltas(&before, &h.accounts());
    assert_eq!(d[&s[0]], (0, 20));
    assert_eq!(d[&s[2]], (-106, 0));
}

#[test]
fn stolen_proof_in_an_aggregation_is_detected() {
    let mut h = Harness::new();
    let s = start(&mut h);
    h.honest_t1();
    h.honest_t2();
    // s[1] "proves" sub-blocks 0 and 2 itself by inlining s[0]'s partial bytes.
    let own = vec![h.partial(s[0], 0, 0), h.partial(s[0], 0, 2)];
    let reused = vec![h.pref(s[1], 0, 1), h.pref(s[3], 0, 3)];
    let ev = h.apply(Phase::T3, vec![invalid(h.aggregate(s[1], 0, reused, own))]);
    assert_eq!(warnings(&ev), vec![(s[1], WarningKind::StolenProof)]);
    assert_eq!(
        slashes(&ev),
        vec![(s[1], 100, "SLASH_INVALID_PROOF".to_string())]
    );
    assert!(settlement(&ev).is_none());
}

#[test]
fn equivocation_is_slashed_once_and_the_first_commit_counts() {
    let mut h = Harness::new();
    let s = start(&mut h);
    let prop = h.proposer();
    let before = h.accounts();
    let ev = h.apply(
        Phase::T1,
        vec![
            h.commit(s[0], 0),
            h.commit_hash(s[0], 0, B256::repeat_byte(1)),
            h.commit_hash(s[0], 0, B256::repeat_byte(2)),
            h.commit(s[1], 0),
            h.commit(s[2], 0),
            h.commit(s[3], 0),
        ],
    );
    let inc = inclusions(&ev);
    assert!(inc[0].1);
    assert!(!inc[1].1 && !inc[2].1);
    assert_eq!(warnings(&ev), vec![(s[0], WarningKind::Equivocation)]);
    assert_eq!(
        slashes(&ev),
        vec![(s[0], 200, "SLASH_EQUIVOCATION".to_string())]
    );
    // 4 valid commitments; s[0] is not penalized for failing to commit.
    assert_deltas(&before, &h.accounts(), &[(s[0], -200, 0), (prop, 0, 12)]);
    // The first commitment still opens in T2.
    let ev = h.honest_t2();
    assert!(inclusions(&ev).iter().all(|i| i.1));
}

#[test]
fn exact_duplicate_is_rejected_without_penalty() {
    let mut h = Harness::new();
    let s = start(&mut h);
    let prop = h.proposer();
    let before = h.accounts();
    let c = h.commit(s[0], 0);
    let ev = h.apply(
        Phase::T1,
        vec![
            c.clone(),
            c,
            h.commit(s[1], 0),
            h.commit(s[2], 0),
            h.commit(s[3], 0),
        ],
    );
    rejected_because(&ev, s[0], "duplicate");
    assert!(warnings(&ev).is_empty());
    assert_deltas(&before, &h.accounts(), &[(prop, 0, 12)]);
    // Duplicate partials in T2: counted once.
    let before = h.accounts();
    let p = h.partials(s[0], 0);
    let ev = h.apply(
        Phase::T2,
        vec![
            p.clone(),
            p,
            h.partials(s[1], 0),
            h.partials(s[2], 0),
            h.partials(s[3], 0),
        ],
    );
    rejected_because(&ev, s[0], "duplicate");
    assert!(warnings(&ev).is_empty());
    assert_eq!(h.engine.set_state(0).unwrap().accepted_partials().len(), 8);
    assert_deltas(
        &before,
        &h.accounts(),
        &[
            (prop, 0, 24),
            (s[0], 0, 20),
            (s[1], 0, 20),
            (s[2], 0, 20),
            (s[3], 0, 20),
        ],
    );
}

#[test]
fn replayed_message_from_the_previous_slot_is_stale() {
    let mut h = Harness::new();
    h.begin();
    let old_commits: Vec<_> = h.asg(0).selected.iter().map(|p| h.commit(*p, 0)).collect();
    h.honest_t1();
    h.honest_t2();
    let old_partials: Vec<_> = h
        .asg(0)
        .selected
        .iter()
        .map(|p| h.partials(*p, 0))
        .collect();
    let agg = h.honest_aggregate(h.asg(0).aggregators[0], 0);
    let old_agg = agg.clone();
    settlement(&h.apply(Phase::T3, vec![agg])).unwrap();

    h.begin();
    let s = h.asg(0).selected;
    let before = h.accounts();
    // Replays only: nothing accepted, no warning, no slash; the T1 rows see no commitment.
    let ev = h.apply(Phase::T1, old_commits.clone());
    for (f, ok, r) in inclusions(&ev) {
        assert!(!ok, "{f}");
        assert!(r.unwrap().contains("stale"));
    }
    assert!(warnings(&ev).is_empty());
    assert!(slashes(&ev).is_empty());
    // Every selected prover failed to commit: −1 each; proposer 0 (no valid commitment).
    let expected: Vec<_> = s.iter().map(|p| (*p, -1, 0)).collect();
    assert_deltas(&before, &h.accounts(), &expected);
    // Replayed partials and aggregation: stale as well, and they do not take the sender's
    // one transaction of the phase.
    let mut t2 = old_partials;
    t2.extend(s.iter().map(|p| h.partials(*p, 0)));
    let ev = h.apply(Phase::T2, t2);
    assert!(warnings(&ev).is_empty());
    assert!(slashes(&ev).is_empty());
    let ev = h.apply(Phase::T3, vec![old_agg]);
    let inc = inclusions(&ev);
    assert!(!inc[0].1 && inc[0].2.as_deref().unwrap().contains("stale"));
    assert!(slashes(&ev).is_empty());
}

#[test]
fn replayed_message_in_the_next_slot_does_not_block_the_real_one() {
    let mut h = Harness::new();
    h.honest_slot();
    let old: Vec<_> = {
        // Slot-1 commitments rebuilt for the slot-1 assignment.
        h.asg(0).selected.iter().map(|p| h.commit(*p, 0)).collect()
    };
    h.begin();
    let s = h.asg(0).selected;
    let prop = h.proposer();
    let before = h.accounts();
    let mut inc = old;
    inc.extend(s.iter().map(|p| h.commit(*p, 0)));
    let ev = h.apply(Phase::T1, inc);
    assert!(warnings(&ev).is_empty());
    assert_deltas(&before, &h.accounts(), &[(prop, 0, 12)]);
}

#[test]
fn missing_commitment_and_partials_are_penalized() {
    let mut h = Harness::new();
    let s = start(&mut h);
    let prop = h.proposer();
    let before = h.accounts();
    // s[3] never commits.
    h.apply(
        Phase::T1,
        vec![h.commit(s[0], 0), h.commit(s[1], 0), h.commit(s[2], 0)],
    );
    assert_deltas(&before, &h.accounts(), &[(prop, 0, 9), (s[3], -1, 0)]);
    let before = h.accounts();
    // T2: s[0] sends one partial of two; s[3] (not committed) tries its partials;
    // s[1] sends both; s[2] sends nothing.
    let ev = h.apply(
        Phase::T2,
        vec![
            h.partials_of(s[0], 0, &[2]),
            h.partials(s[3], 0),
            h.partials(s[1], 0),
        ],
    );
    rejected_because(&ev, s[3], "no valid T1 commitment");
    // s[0]: +10, −3; s[1]: +20; s[2]: −6; s[3]: −6; proposer 3 × 3 valid partials.
    assert_deltas(
        &before,
        &h.accounts(),
        &[
            (s[0], -3, 10),
            (s[1], 0, 20),
            (s[2], -6, 0),
            (s[3], -6, 0),
            (prop, 0, 9),
        ],
    );
    // T3: s[1] aggregates: 0 ← own inline, 1 ← s[1]'s own partial, 2 ← s[0], 3 ← own.
    let before = h.accounts();
    let reused = vec![h.pref(s[1], 0, 1), h.pref(s[0], 0, 2), h.pref(s[1], 0, 3)];
    let own = vec![h.partial(s[1], 0, 0)];
    let ev = h.apply(Phase::T3, vec![h.aggregate(s[1], 0, reused, own)]);
    let st = settlement(&ev).unwrap();
    assert_eq!(st.outcome, Outcome::FinalizedT3);
    // s[1]: 50 + 40 × 1 other reused; s[0]: partial 2 reused +40;
    // non-participation (no accepted partial, no aggregation): s[2] and s[3] −1 each;
    // proposer +1.
    assert_deltas(
        &before,
        &h.accounts(),
        &[
            (s[1], 0, 90),
            (s[0], 0, 40),
            (s[2], -1, 0),
            (s[3], -1, 0),
            (prop, 0, 1),
        ],
    );
    assert!(st.conservation_ok);
}

#[test]
fn bad_commitment_does_not_count() {
    let mut h = Harness::new();
    let s = start(&mut h);
    let prop = h.proposer();
    let before = h.accounts();
    // Committed to the wrong roots (swapped), and one for another prover's assignment.
    let wrong = h.commitment(s[1], 0);
    let ev = h.apply(
        Phase::T1,
        vec![
            h.commit_hash(s[0], 0, wrong),
            h.commit(s[1], 0),
            h.commit(s[2], 0),
            h.commit(s[3], 0),
        ],
    );
    rejected_because(&ev, s[0], "commitment does not match");
    assert_deltas(&before, &h.accounts(), &[(prop, 0, 9), (s[0], -1, 0)]);
}

#[test]
fn partial_for_an_unassigned_sub_block_is_rejected() {
    let mut h = Harness::new();
    let s = start(&mut h);
    h.honest_t1();
    let before = h.accounts();
    let ev = h.apply(
        Phase::T2,
        vec![
            h.partials_of(s[0], 0, &[0, 1]),
            h.partials_of(s[1], 0, &[1, 1]),
            h.partials(s[2], 0),
            {
                // Wrong roots for sub-block 3.
                let mut m = h.partials(s[3], 0);
                if let Message::Partials(ps) = &mut m.msg {
                    ps[1].root_out = B256::repeat_byte(9);
                }
                m
            },
        ],
    );
    rejected_because(&ev, s[0], "sub-block 1 is not assigned");
    rejected_because(&ev, s[1], "submitted twice");
    rejected_because(&ev, s[3], "roots do not match");
    assert!(slashes(&ev).is_empty());
    let prop = h.proposer();
    assert_deltas(
        &before,
        &h.accounts(),
        &[
            (s[0], -6, 0),
            (s[1], -6, 0),
            (s[2], 0, 20),
            (s[3], -6, 0),
            (prop, 0, 6),
        ],
    );
}

#[test]
fn malformed_aggregations_are_rejected() {
    let mut h = Harness::new();
    let s = start(&mut h);
    h.honest_t1();
    h.honest_t2();
    let before = h.accounts();
    // Wrong bloom.
    let mut bad_bloom = h.aggregate_from(s[0], 0, &[s[2], s[1], s[2], s[3]]);
    if let Message::Aggregate(a) = &mut bad_bloom.msg {
        a.bloom = B256::repeat_byte(7);
    }
    // Not covering sub-block 3.
    let partial = h.aggregate(
        s[1],
        0,
        vec![h.pref(s[0], 0, 0), h.pref(s[3], 0, 1), h.pref(s[0], 0, 2)],
        vec![],
    );
    // Covering sub-block 0 twice.
    let twice = h.aggregate(
        s[2],
        0,
        vec![
            h.pref(s[0], 0, 0),
            h.pref(s[1], 0, 1),
            h.pref(s[0], 0, 2),
            h.pref(s[1], 0, 3),
        ],
        vec![h.partial(s[2], 0, 0)],
    );
    // Reusing a partial that does not exist (s[0] never proved sub-block 1).
    let ghost = h.aggregate_from(s[3], 0, &[s[2], s[0], s[2], s[1]]);
    let ev = h.apply(Phase::T3, vec![bad_bloom, partial, twice, ghost]);
    rejected_because(&ev, s[0], "BloomHash");
    rejected_because(&ev, s[1], "every sub-block exactly once");
    rejected_because(&ev, s[2], "every sub-block exactly once");
    rejected_because(&ev, s[3], "was not accepted in T2");
    assert!(settlement(&ev).is_none());
    assert!(entries(&ev).is_empty());
    assert_deltas(&before, &h.accounts(), &[]);
    assert_eq!(h.engine.current(), Some((1, Phase::T4)));
}

#[test]
fn unknown_senders_and_wrong_kinds_are_rejected_without_panic() {
    let mut h = Harness::new();
    let s = start(&mut h);
    let before = h.accounts();
    let mut from_stranger = h.commit(s[0], 0);
    from_stranger.from = stranger();
    let mut from_validator = h.commit(s[0], 0);
    from_validator.from = validator(1);
    let unselected: Vec<Address> = provers().into_iter().filter(|p| !s.contains(p)).collect();
    let (unselected, unselected2) = (unselected[0], unselected[1]);
    let mut other_set = h.commit(s[1], 0);
    if let Message::Commit(c) = &mut other_set.msg {
        c.set = 5;
    }
    let ev = h.apply(
        Phase::T1,
        vec![
            invalid(from_stranger),
            from_validator,
            h.commit_hash(unselected, 0, B256::repeat_byte(3)),
            other_set,
            valid(s[2], Message::Partials(vec![])),
            h.full_proof(unselected2, 0),
            h.aggregate_from(s[3], 0, &[s[0]; 4]),
        ],
    );
    rejected_because(&ev, stranger(), "not a staked prover");
    rejected_because(&ev, validator(1), "not a staked prover");
    rejected_because(&ev, unselected, "not selected");
    rejected_because(&ev, unselected2, "only selected provers submit full proofs");
    rejected_because(&ev, s[1], "no sub-block set 5");
    rejected_because(&ev, s[2], "stale");
    rejected_because(&ev, s[3], "aggregation opens in T3");
    assert!(slashes(&ev).is_empty());
    // Nobody committed: each selected prover −1, nothing else (the stranger has no account).
    let expected: Vec<_> = s.iter().map(|p| (*p, -1, 0)).collect();
    assert_deltas(&before, &h.accounts(), &expected);
    assert!(h.engine.ledger().account(&stranger()).is_none());
}

#[test]
fn late_commitment_is_warned() {
    let mut h = Harness::new();
    let s = start(&mut h);
    h.apply(
        Phase::T1,
        vec![h.commit(s[0], 0), h.commit(s[1], 0), h.commit(s[2], 0)],
    );
    let ev = h.apply(Phase::T2, vec![h.commit(s[3], 0), h.partials(s[0], 0)]);
    rejected_because(&ev, s[3], "late");
    assert_eq!(warnings(&ev), vec![(s[3], WarningKind::Late)]);
    assert!(slashes(&ev).is_empty());
}

#[test]
fn late_partials_do_not_cost_the_aggregator_its_t3_transaction() {
    // A slow prover's partials land in the T3 block; it then aggregates in T3 with its own
    // inline partials. The late message is rejected (Late), but it is not a T3
    // transaction: the aggregation must not be treated as equivocation.
    let mut h = Harness::new();
    let s = start(&mut h);
    h.honest_t1();
    h.apply(
        Phase::T2,
        vec![
            h.partials(s[1], 0),
            h.partials(s[2], 0),
            h.partials(s[3], 0),
        ],
    );
    let late = h.partials(s[0], 0);
    let reused = vec![h.pref(s[1], 0, 1), h.pref(s[3], 0, 3)];
    let own = vec![h.partial(s[0], 0, 0), h.partial(s[0], 0, 2)];
    let agg = h.aggregate(s[0], 0, reused, own);
    let ev = h.apply(Phase::T3, vec![late, agg]);
    assert_eq!(warnings(&ev), vec![(s[0], WarningKind::Late)]);
    assert!(slashes(&ev).is_empty(), "{:?}", slashes(&ev));
    let st = settlement(&ev).expect("finalized in T3");
    assert_eq!(st.outcome, Outcome::FinalizedT3);
}

#[test]
fn shell_errors() {
    let mut h = Harness::new();
    // No slot yet.
    let block = PhaseBlock {
        slot: 1,
        phase: Phase::T1,
        proposer: validator(1),
        included: vec![],
    };
    assert_eq!(h.engine.apply_block(&block), Err(EngineError::NoSlot));
    h.begin();
    // Wrong phase, wrong slot.
    let mut b = PhaseBlock {
        slot: 1,
        phase: Phase::T2,
        proposer: h.proposer(),
        included: vec![],
    };
    assert_eq!(
        h.engine.apply_block(&b),
        Err(EngineError::WrongPhase {
            slot: 1,
            phase: Phase::T1,
            got_slot: 1,
            got_phase: Phase::T2
        })
    );
    b.slot = 0;
    b.phase = Phase::T1;
    assert_eq!(
        h.engine.apply_block(&b),
        Err(EngineError::WrongPhase {
            slot: 1,
            phase: Phase::T1,
            got_slot: 0,
            got_phase: Phase::T1
        })
    );
    // begin_slot twice.
    assert_eq!(h.try_begin(2), Err(EngineError::SlotInProgress(1)));
    // Nothing moved.
    assert_eq!(h.engine.current(), Some((1, Phase::T1)));
    h.honest_t1();
    h.honest_t2();
    let agg = h.asg(0).aggregators[0];
    settlement(&h.apply(Phase::T3, vec![h.honest_aggregate(agg, 0)])).unwrap();
    // After settlement: apply_block has no slot; a non-increasing slot is refused.
    assert_eq!(h.engine.apply_block(&b), Err(EngineError::NoSlot));
    assert_eq!(
        h.try_begin(1),
        Err(EngineError::SlotNotIncreasing { last: 1, got: 1 })
    );
    assert_eq!(
        h.try_begin(0),
        Err(EngineError::SlotNotIncreasing { last: 1, got: 0 })
    );
    // Bad roots.
    let mut input = h.input(5);
    input.roots[0].pop();
    assert!(matches!(
        h.engine.begin_slot(input),
        Err(EngineError::BadRoots(_))
    ));
    // A gap is fine.
    assert!(h.try_begin(7).is_ok());
}

#[test]
fn slash_destinations() {
    for (dest, burned, treasury, to_proposer) in [
        (SlashDestination::Burn, 100 + 6, 0, 0),
        (SlashDestination::Protocol, 0, 106, 0),
        (SlashDestination::Proposer, 0, 0, 106),
    ] {
        let mut p = default_params();
        p.slashed_to = dest;
        let mut h = Harness::with_params(p);
        let s = start(&mut h);
        let prop = h.proposer();
        h.honest_t1();
        let before = h.accounts();
        let ev = h.apply(
            Phase::T2,
            vec![
                h.partials(s[0], 0),
                h.partials(s[1], 0),
                invalid(h.partials(s[2], 0)),
                h.partials(s[3], 0),
            ],
        );
        assert_eq!(slashes(&ev).len(), 1);
        let d = deltas(&before, &h.accounts());
        assert_eq!(d[&s[2]], (-106, 0));
        assert_eq!(d[&prop], (0, 18 + to_proposer), "{dest:?}");
        let t = h.engine.ledger().totals();
        assert_eq!(t.burned, burned, "{dest:?}");
        assert_eq!(t.treasury, treasury, "{dest:?}");
        assert!(h.engine.ledger().conservation_ok());
    }
}

#[test]
fn slashed_below_min_stake_is_ejected_and_never_selected_again() {
    let mut p = default_params();
    p.rewards.slash_invalid_proof = -950;
    let mut h = Harness::with_params(p);
    let s = start(&mut h);
    let victim = s[2];
    h.honest_t1();
    let ev = h.apply(
        Phase::T2,
        vec![
            h.partials(s[0], 0),
            h.partials(s[1], 0),
            invalid(h.partials(victim, 0)),
            h.partials(s[3], 0),
        ],
    );
    assert_eq!(
        slashes(&ev),
        vec![(victim, 950, "SLASH_INVALID_PROOF".to_string())]
    );
    // 1000 − 950 − 6 (missing partials) = 44 < min_stake 100; ejected when the slot settles.
    let ev = h.apply(
        Phase::T3,
        vec![h.aggregate_from(s[0], 0, &[s[0], s[1], s[0], s[3]])],
    );
    let st = settlement(&ev).expect("settled");
    let ejected: Vec<_> = ev
        .iter()
        .filter_map(|e| match e {
            Event::Ejected { slot, node, stake } => Some((*slot, *node, *stake)),
            _ => None,
        })
        .collect();
    // The victim is not reused (owner of no accepted partial) and is not penalized in T3
    // beyond non-participation: −1.
    assert_eq!(ejected, vec![(1, victim, 43)]);
    assert_eq!(
        st.accounts
            .iter()
            .find(|a| a.address == victim)
            .unwrap()
            .stake,
        43
    );
    assert!(!h.engine.available_provers().contains(&victim));
    assert_eq!(h.engine.available_provers().len(), 7);
    // Having left the prover set, it may not aggregate either ("any prover" means a
    // prover of the set): its T3 full proof is rejected and earns nothing.
    h.begin();
    h.honest_t1();
    h.honest_t2();
    let before = h.accounts();
    let ev = h.apply(Phase::T3, vec![h.full_proof(victim, 0)]);
    rejected_because(&ev, victim, "not a staked prover");
    assert!(settlement(&ev).is_none());
    assert_deltas(&before, &h.accounts(), &[]);
    let a = h.asg(0);
    settlement(&h.apply(Phase::T4, vec![h.honest_aggregate(a.aggregators[1], 0)])).unwrap();
    let mut ejections = 0;
    for _ in 0..40 {
        h.begin();
        let a = h.asg(0);
        // min(200, 7 / 2) = 3 selected from the 7 remaining provers.
        assert_eq!(a.selected.len(), 3);
        assert!(!a.selected.contains(&victim));
        h.honest_t1();
        h.honest_t2();
        let ev = h.apply(Phase::T3, vec![h.honest_aggregate(a.aggregators[0], 0)]);
        assert!(settlement(&ev).unwrap().conservation_ok);
        ejections += ev
            .iter()
            .filter(|e| matches!(e, Event::Ejected { .. }))
            .count();
    }
    assert_eq!(ejections, 0, "ejected once only");
}
