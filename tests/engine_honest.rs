//! The protocol engine on honest slots: the spec's T1–T5 reward table applied to
//! hand-built phase blocks, with every account's exact delta computed by hand from the
//! spec's numbers (spec "Variables"; `REWARD_T2_PROVER` = 10 is ours, DESIGN.md).

mod common;

use alloy_primitives::{Address, B256};
use common::engine_harness::*;
use dpgnet::protocol::{Event, Included, Outcome, Phase, Settlement};

/// The default devnet's selection shape: 4 of 8 provers, 2 sub-blocks each, 2 provers per
/// sub-block, sel[0] and sel[2] on {0, 2}, sel[1] and sel[3] on {1, 3}.
fn check_default_shape(h: &Harness) -> Vec<Address> {
    let a = h.asg(0);
    assert_eq!(a.selected.len(), 4);
    let mut d = a.selected.clone();
    d.sort();
    d.dedup();
    assert_eq!(d.len(), 4, "distinct");
    assert!(a.selected.iter().all(|p| provers().contains(p)));
    let s = a.selected.clone();
    assert_eq!(a.assignments[&s[0]], vec![0, 2]);
    assert_eq!(a.assignments[&s[1]], vec![1, 3]);
    assert_eq!(a.assignments[&s[2]], vec![0, 2]);
    assert_eq!(a.assignments[&s[3]], vec![1, 3]);
    assert_eq!(a.aggregators, [s[0], s[1], s[2]]);
    s
}

fn phase_closed(ev: &[Event], phase: Phase) -> bool {
    ev.iter().any(|e| matches!(e, Event::PhaseClosed { phase: p, finalized, .. } if *p == phase && *finalized))
}

fn check_settlement(s: &Settlement, minted: u64, burned: u64) {
    assert!(s.conservation_ok);
    assert_eq!(s.totals.genesis, genesis_total());
    assert_eq!(s.totals.minted, minted);
    assert_eq!(s.payments, minted);
    assert_eq!(s.totals.burned, burned);
    assert_eq!(s.totals.treasury, 0);
    let stake: u64 = s.accounts.iter().map(|a| a.stake).sum();
    let balance: u64 = s.accounts.iter().map(|a| a.balance).sum();
    assert_eq!(stake + balance + burned, genesis_total() + minted);
}

#[test]
fn honest_slot_pays_the_t1_t2_t3_table() {
    let mut h = Harness::new();
    let before = h.accounts();
    let slot = h.begin();
    assert_eq!(slot, 1);
    // Round robin: slot 1 → validators[1].
    assert_eq!(h.proposer(), validator(2));
    let s = check_default_shape(&h);
    let prop = h.proposer();

    let ev = h.honest_t1();
    assert!(inclusions(&ev).iter().all(|(_, ok, _)| *ok));
    assert_eq!(h.engine.current(), Some((1, Phase::T2)));
    let ev = h.honest_t2();
    assert!(inclusions(&ev).iter().all(|(_, ok, _)| *ok));
    assert_eq!(h.engine.set_state(0).unwrap().accepted_partials().len(), 8);

    // The designated T3 aggregator s[0] (sub-blocks {0,2}) reuses another prover's partial
    // for every sub-block: 0 ← s[2], 1 ← s[1], 2 ← s[2], 3 ← s[3].
    let agg = h.asg(0).aggregators[0];
    assert_eq!(agg, s[0]);
    let ev = h.apply(
        Phase::T3,
        vec![h.aggregate_from(agg, 0, &[s[2], s[1], s[2], s[3]])],
    );
    assert!(inclusions(&ev).iter().all(|(_, ok, _)| *ok));
    assert!(phase_closed(&ev, Phase::T3));
    let st = settlement(&ev).expect("settled");
    assert!(h.engine.slot_done());
    assert_eq!(st.outcome, Outcome::FinalizedT3);
    assert_eq!(st.slot, 1);
    assert_eq!(st.block, 0);
    assert_eq!(h.engine.next_block(), 1);
    assert_eq!(st.proofs_submitted, 8 + 1);
    assert_eq!(st.proofs_valid, 9);

    // Hand-computed from the spec's table (default numbers):
    //  proposer: T1 3×4 = 12, T2 3×8 = 24, T3 1×1 = 1                 → +37
    //  s[0] (aggregator): T2 10×2 = 20, T3 50 + 40×4 = 210            → +230
    //  s[1]: T2 20, sub-block 1 reused once +40, sub-block 3 not −1   → +60, stake −1
    //  s[2]: T2 20, sub-blocks 0 and 2 reused +80                      → +100
    //  s[3]: T2 20, sub-block 3 reused +40, sub-block 1 not −1         → +60, stake −1
    let after = h.accounts();
    assert_deltas(
        &before,
        &after,
        &[
            (prop, 0, 37),
            (s[0], 0, 230),
            (s[1], -1, 60),
            (s[2], 0, 100),
            (s[3], -1, 60),
        ],
    );
    assert_eq!(st.accounts, after);
    check_settlement(&st, 37 + 230 + 60 + 100 + 60, 2);
    assert_eq!(st.loss, 487);

    // The entries name the spec variables.
    let rules = |who: Address| -> Vec<(String, u64)> {
        st.entries
            .iter()
            .filter(|e| e.node == who)
            .map(|e| (e.rule.clone(), e.amount))
            .collect()
    };
    assert_eq!(
        rules(prop),
        vec![
            ("REWARD_T1_VALIDATOR".into(), 12),
            ("REWARD_T2_VALIDATOR".into(), 24),
            ("REWARD_VALIDATOR_T3".into(), 1)
        ]
    );
    let mut r0 = rules(s[0]);
    r0.sort();
    assert_eq!(
        r0,
        vec![
            ("REWARD_PROVER_REUSING_T3".into(), 160),
            ("REWARD_PROVER_T3".into(), 50),
            ("REWARD_T2_PROVER".into(), 20)
        ]
    );
    let mut r1 = rules(s[1]);
    r1.sort();
    assert_eq!(
        r1,
        vec![
            ("PENALTY_PROVER_NOTREUSED_T3".into(), 1),
            ("REWARD_PROVER_REUSED_T3".into(), 40),
            ("REWARD_T2_PROVER".into(), 20)
        ]
    );
    for e in &st.entries {
        assert_eq!(e.slot, 1);
        assert_eq!(e.applied, e.amount);
    }
}

#[test]
fn honest_aggregate_helper_prefers_other_provers() {
    let mut h = Harness::new();
    let st = h.honest_slot();
    assert_eq!(st.outcome, Outcome::FinalizedT3);
    // Every reuse is of another prover: the aggregator earns 40 × 4.
    let agg = h.asg(0).aggregators[0];
    let reusing: u64 = st
        .entries
        .iter()
        .filter(|e| e.node == agg && e.rule == "REWARD_PROVER_REUSING_T3")
        .map(|e| e.amount)
        .sum();
    assert_eq!(reusing, 160);
    assert!(st.conservation_ok);
}

#[test]
fn t1_full_proof_finalizes_in_t1() {
    let mut h = Harness::new();
    let before = h.accounts();
    h.begin();
    let s = check_default_shape(&h);
    let prop = h.proposer();
    // s[1] sends a full proof; the others commit (no commit reward when a full proof lands).
    let ev = h.apply(
        Phase::T1,
        vec![h.commit(s[0], 0), h.full_proof(s[1], 0), h.commit(s[2], 0)],
    );
    assert!(inclusions(&ev).iter().all(|(_, ok, _)| *ok));
    assert!(phase_closed(&ev, Phase::T1));
    let st = settlement(&ev).expect("settled in T1");
    assert_eq!(st.outcome, Outcome::FinalizedT1);
    assert!(h.engine.slot_done());
    assert_eq!(h.engine.current(), None);
    // Each selected prover +9000 (even s[3], which did nothing), the sender +50 extra,
    // the proposer +1000; nothing else — no REWARD_T1_VALIDATOR, no PENALTY_T1_PROVER.
    assert_deltas(
        &before,
        &h.accounts(),
        &[
            (s[0], 0, 9000),
            (s[1], 0, 9050),
            (s[2], 0, 9000),
            (s[3], 0, 9000),
            (prop, 0, 1000),
        ],
    );
    check_settlement(&st, 4 * 9000 + 50 + 1000, 0);
    assert_eq!(st.entries.len(), 6);
    assert_eq!(h.engine.next_block(), 1);
}

#[test]
fn t2_full_proof_finalizes_in_t2_after_the_t1_rows() {
    let mut h = Harness::new();
    let before = h.accounts();
    h.begin();
    let s = check_default_shape(&h);
    let prop = h.proposer();
    // T1: s[3] does not commit.
    h.apply(
        Phase::T1,
        vec![h.commit(s[0], 0), h.commit(s[1], 0), h.commit(s[2], 0)],
    );
    let mid = h.accounts();
    // T1 rows: proposer 3 × 3 commitments = 9; s[3] PENALTY_T1_PROVER −1.
    assert_deltas(&before, &mid, &[(prop, 0, 9), (s[3], -1, 0)]);
    // T2: s[2] sends the full proof, s[0] and s[1] their partials (not rewarded: a full
    // proof landed, so the "otherwise" rows do not apply).
    let ev = h.apply(
        Phase::T2,
        vec![
            h.partials(s[0], 0),
            h.full_proof(s[2], 0),
            h.partials(s[1], 0),
        ],
    );
    assert!(inclusions(&ev).iter().all(|(_, ok, _)| *ok));
    assert!(phase_closed(&ev, Phase::T2));
    let st = settlement(&ev).expect("settled in T2");
    assert_eq!(st.outcome, Outcome::FinalizedT2);
    assert_deltas(
        &mid,
        &h.accounts(),
        &[
            (s[0], 0, 8000),
            (s[1], 0, 8000),
            (s[2], 0, 8040),
            (s[3], 0, 8000),
            (prop, 0, 900),
        ],
    );
    check_settlement(&st, 9 + 4 * 8000 + 40 + 900, 1);
    assert_eq!(st.payments, 9 + 32_940);
}

#[test]
fn withheld_t3_falls_back_to_the_t4_aggregator() {
    let mut h = Harness::new();
    let before = h.accounts();
    h.begin();
    let s = check_default_shape(&h);
    let prop = h.proposer();
    h.honest_t1();
    h.honest_t2();
    // The T3 aggregator withholds: an empty T3 block.
    let ev = h.apply(Phase::T3, vec![]);
    assert!(settlement(&ev).is_none());
    assert!(!phase_closed(&ev, Phase::T3));
    assert!(entries(&ev).is_empty(), "no T3 rows without a full proof");
    assert_eq!(h.engine.current(), Some((1, Phase::T4)));
    assert_eq!(h.engine.expected_senders(), vec![(0, s[1])]);
    // T4: aggregators[1] = s[1] (sub-blocks {1,3}) reuses 0 ← s[0], 1 ← s[3], 2 ← s[2],
    // 3 ← s[3].
    let ev = h.apply(
        Phase::T4,
        vec![h.aggregate_from(s[1], 0, &[s[0], s[3], s[2], s[3]])],
    );
    let st = settlement(&ev).expect("settled in T4");
    assert_eq!(st.outcome, Outcome::FinalizedT4);
    // By hand, T4 numbers: REUSING 30, REUSED 30, PROVER 40, VALIDATOR 1, NOTREUSED −1.
    //  proposer 12 + 24 + 1 = 37
    //  s[1]: 20 + 40 + 30×4 = 180
    //  s[0]: 20 + 30 (sub-block 0), sub-block 2 not reused −1
    //  s[2]: 20 + 30 (sub-block 2), sub-block 0 not reused −1
    //  s[3]: 20 + 60
    assert_deltas(
        &before,
        &h.accounts(),
        &[
            (prop, 0, 37),
            (s[1], 0, 180),
            (s[0], -1, 50),
            (s[2], -1, 50),
            (s[3], 0, 80),
        ],
    );
    check_settlement(&st, 37 + 180 + 50 + 50 + 80, 2);
    assert!(
        st.entries
            .iter()
            .filter(|e| e.phase == Phase::T4)
            .all(|e| e.rule.ends_with("_T4"))
    );
}

#[test]
fn t5_aggregator_finalizes_in_t5() {
    let mut h = Harness::new();
    let before = h.accounts();
    h.begin();
    let s = check_default_shape(&h);
    let prop = h.proposer();
    h.honest_t1();
    h.honest_t2();
    h.apply(Phase::T3, vec![]);
    h.apply(Phase::T4, vec![]);
    // aggregators[2] = s[2] ({0,2}): 0 ← s[0], 1 ← s[1], 2 ← s[0], 3 ← s[1].
    let ev = h.apply(
        Phase::T5,
        vec![h.aggregate_from(s[2], 0, &[s[0], s[1], s[0], s[1]])],
    );
    let st = settlement(&ev).expect("settled in T5");
    assert_eq!(st.outcome, Outcome::FinalizedT5);
    // T5: REUSING 20, REUSED 20, PROVER 40, VALIDATOR 1, NOTREUSED −1.
    //  s[2]: 20 + 40 + 80 = 140; s[0]: 20 + 40; s[1]: 20 + 40; s[3]: 20, −2.
    assert_deltas(
        &before,
        &h.accounts(),
        &[
            (prop, 0, 37),
            (s[2], 0, 140),
            (s[0], 0, 60),
            (s[1], 0, 60),
            (s[3], -2, 20),
        ],
    );
    check_settlement(&st, 37 + 140 + 60 + 60 + 20, 2);
}

#[test]
fn all_aggregators_withhold_is_a_liveness_fault_and_the_block_carries_over() {
    let mut h = Harness::new();
    let before = h.accounts();
    let mix0 = h.engine.mix();
    let ev = h.try_begin(1).unwrap();
    h.next_slot = 2;
    let (mix1, sel1) = match &ev[0] {
        Event::SlotStarted {
            randao_mix,
            sets,
            block,
            ..
        } => {
            assert_eq!(*block, 0);
            (*randao_mix, sets[0].selected.clone())
        }
        e => panic!("{e:?}"),
    };
    assert_eq!(mix1, mix0.0);
    let s = check_default_shape(&h);
    let prop = h.proposer();
    h.honest_t1();
    h.honest_t2();
    for p in [Phase::T3, Phase::T4] {
        let ev = h.apply(p, vec![]);
        assert!(settlement(&ev).is_none());
    }
    let ev = h.apply(Phase::T5, vec![]);
    let st = settlement(&ev).expect("settled after T5");
    assert_eq!(st.outcome, Outcome::LivenessFault);
    assert!(h.engine.set_state(0).unwrap().failed);
    // Only the T1 and T2 rows: proposer 12 + 24, each prover 20.
    assert_deltas(
        &before,
        &h.accounts(),
        &[
            (prop, 0, 36),
            (s[0], 0, 20),
            (s[1], 0, 20),
            (s[2], 0, 20),
            (s[3], 0, 20),
        ],
    );
    check_settlement(&st, 116, 0);
    assert_eq!(st.payments, 116);
    assert_eq!(st.loss, 116 + 10_000);
    assert_eq!(st.loss, st.payments + h.engine.params().liveness_penalty);
    // The block is carried over.
    assert_eq!(st.block, 0);
    assert_eq!(h.engine.next_block(), 0);
    // The next slot proves the same block with a fresh selection from a new mix.
    let ev = h.try_begin(2).unwrap();
    h.next_slot = 3;
    match &ev[0] {
        Event::SlotStarted {
            block,
            randao_mix,
            sets,
            slot,
            ..
        } => {
            assert_eq!(*slot, 2);
            assert_eq!(*block, 0);
            assert_ne!(*randao_mix, mix1);
            assert_ne!(sets[0].selected, sel1, "a fresh selection");
        }
        e => panic!("{e:?}"),
    }
    let st = {
        h.honest_t1();
        h.honest_t2();
        let agg = h.asg(0).aggregators[0];
        let ev = h.apply(Phase::T3, vec![h.honest_aggregate(agg, 0)]);
        settlement(&ev).unwrap()
    };
    assert_eq!(st.block, 0);
    assert_eq!(st.outcome, Outcome::FinalizedT3);
    assert_eq!(h.engine.next_block(), 1);
}

#[test]
fn two_valid_aggregations_average_the_reuse_rows() {
    let mut h = Harness::new();
    let before = h.accounts();
    h.begin();
    let s = check_default_shape(&h);
    let prop = h.proposer();
    h.honest_t1();
    h.honest_t2();
    // A = s[0]: 0 ← s[2], 1 ← s[3], 2 ← s[2], 3 ← s[3].
    // B = s[1]: 0 ← s[0], 1 ← s[3], 2 ← s[2], 3 ← s[3].
    let ev = h.apply(
        Phase::T3,
        vec![
            h.aggregate_from(s[0], 0, &[s[2], s[3], s[2], s[3]]),
            h.aggregate_from(s[1], 0, &[s[0], s[3], s[2], s[3]]),
        ],
    );
    assert!(inclusions(&ev).iter().all(|(_, ok, _)| *ok));
    let st = settlement(&ev).expect("settled");
    assert_eq!(st.outcome, Outcome::FinalizedT3);
    // m = 2. Each partial is judged against each aggregation by someone else:
    //  s[0] {0,2}: vs B: 0 reused, 2 not            → reused 1, not 1
    //  s[1] {1,3}: vs A: neither reused             → reused 0, not 2
    //  s[2] {0,2}: vs A: both; vs B: 2 yes, 0 not   → reused 3, not 1
    //  s[3] {1,3}: vs A: both; vs B: both           → reused 4, not 0
    // REUSED: 40 × k / 2 (floor): s[0] 20, s[1] 0, s[2] 60, s[3] 80.
    // NOTREUSED: 1 × k / 2 (floor): s[0] 0, s[1] 1, s[2] 0.
    // REUSING: each 40 × 4 / 2 = 80; REWARD_PROVER_T3 50 each (not averaged).
    // Proposer: 12 + 24 + 1 × 2 valid full proofs = 38.
    assert_deltas(
        &before,
        &h.accounts(),
        &[
            (prop, 0, 38),
            (s[0], 0, 20 + 80 + 50 + 20),
            (s[1], -1, 20 + 80 + 50),
            (s[2], 0, 20 + 60),
            (s[3], 0, 20 + 80),
        ],
    );
    check_settlement(&st, 38 + 170 + 150 + 80 + 100, 1);
    let reusing: Vec<u64> = st
        .entries
        .iter()
        .filter(|e| e.rule == "REWARD_PROVER_REUSING_T3")
        .map(|e| e.amount)
        .collect();
    assert_eq!(reusing, vec![80, 80]);
}

#[test]
fn uneven_average_floors() {
    // Three aggregations (m = 3): averaged amounts that do not divide evenly are floored.
    let mut h = Harness::new();
    let before = h.accounts();
    h.begin();
    let s = check_default_shape(&h);
    let prop = h.proposer();
    h.honest_t1();
    h.honest_t2();
    // A = s[0]: 0 ← s[2], 1 ← s[1], 2 ← s[2], 3 ← s[1]  (4 others)
    // B = s[1]: 0 ← s[0], 1 ← s[1], 2 ← s[0], 3 ← s[1]  (2 others: 0, 2)
    // C = s[2]: 0 ← s[2], 1 ← s[3], 2 ← s[2], 3 ← s[3]  (2 others: 1, 3)
    let ev = h.apply(
        Phase::T3,
        vec![
            h.aggregate_from(s[0], 0, &[s[2], s[1], s[2], s[1]]),
            h.aggregate_from(s[1], 0, &[s[0], s[1], s[0], s[1]]),
            h.aggregate_from(s[2], 0, &[s[2], s[3], s[2], s[3]]),
        ],
    );
    assert!(inclusions(&ev).iter().all(|(_, ok, _)| *ok));
    let st = settlement(&ev).unwrap();
    // REUSING: A 160/3 = 53, B 80/3 = 26, C 80/3 = 26.
    //  s[0] {0,2}: vs B both reused, vs C both not      → reused 2, not 2
    //  s[1] {1,3}: vs A both reused, vs C both not      → reused 2, not 2
    //  s[2] {0,2}: vs A both reused, vs B both not      → reused 2, not 2
    //  s[3] {1,3}: vs A not, vs B not, vs C both reused → reused 2, not 4
    // REUSED 40 × 2 / 3 = 26 each; NOTREUSED 2/3 = 0 for s[0..3], 4/3 = 1 for s[3].
    // Proposer: 12 + 24 + 3.
    assert_deltas(
        &before,
        &h.accounts(),
        &[
            (prop, 0, 39),
            (s[0], 0, 20 + 53 + 50 + 26),
            (s[1], 0, 20 + 26 + 50 + 26),
            (s[2], 0, 20 + 26 + 50 + 26),
            (s[3], -1, 20 + 26),
        ],
    );
    check_settlement(&st, 39 + 149 + 122 + 122 + 46, 1);
}

#[test]
fn gigagas_sets_get_disjoint_provers_and_settle_independently() {
    let mut p = default_params();
    p.num_sub_block_sets = 2;
    let mut h = Harness::with_params(p);
    let before = h.accounts();
    h.begin();
    let prop = h.proposer();
    let a0 = h.asg(0);
    let a1 = h.asg(1);
    // min(200, (8 / 2) / 2) = 2 per set, redundancy 2 → both get every sub-block.
    assert_eq!(a0.selected.len(), 2);
    assert_eq!(a1.selected.len(), 2);
    assert!(
        a0.selected.iter().all(|x| !a1.selected.contains(x)),
        "disjoint"
    );
    for a in [&a0, &a1] {
        for p in &a.selected {
            assert_eq!(a.assignments[p], vec![0, 1, 2, 3]);
        }
    }
    // Set chaining of roots (harness) and per-set roots.
    assert_eq!(h.set_roots(0)[4], h.set_roots(1)[0]);
    let (x0, y0) = (a0.selected[0], a0.selected[1]);
    let (x1, y1) = (a1.selected[0], a1.selected[1]);
    assert_eq!(a0.aggregators[0], x0);
    assert_eq!(a1.aggregators[1], y1);
    // A commitment for the other set is not valid.
    let ev = h.apply(
        Phase::T1,
        vec![
            h.commit(x0, 0),
            h.commit(y0, 0),
            h.commit(x1, 1),
            h.commit(y1, 1),
            h.commit_hash(x0, 1, h.commitment(x0, 0)),
        ],
    );
    let inc = inclusions(&ev);
    assert_eq!(inc.iter().filter(|i| i.1).count(), 4);
    assert!(!inc[4].1);
    h.honest_t2();
    // Set 0 finalizes in T3; set 1's T3 aggregator withholds.
    let ev = h.apply(Phase::T3, vec![h.aggregate_from(x0, 0, &[y0; 4])]);
    assert!(settlement(&ev).is_none());
    assert_eq!(h.engine.set_state(0).unwrap().finalized, Some(Phase::T3));
    assert_eq!(h.engine.set_state(1).unwrap().finalized, None);
    assert_eq!(h.engine.current(), Some((1, Phase::T4)));
    assert_eq!(h.engine.expected_senders(), vec![(1, y1)]);
    // Set 0 is closed: a T4 aggregation for it is rejected and moves no money.
    let late0 = h.aggregate_from(y0, 0, &[x0; 4]);
    let ev = h.apply(Phase::T4, vec![late0, h.aggregate_from(y1, 1, &[x1; 4])]);
    let inc = inclusions(&ev);
    assert!(!inc[0].1);
    assert!(inc[1].1);
    // Both sets are final, but with several sets the block needs the AggProof
    // (spec "Extension for Multiple Sub-blocks"): the slot goes on to T5.
    assert!(settlement(&ev).is_none());
    let group = h.engine.agg_group().to_vec();
    assert_eq!(
        group.len(),
        4,
        "the 4 provers no set selected (PROVERS_PER_AGGPROOF = 5)"
    );
    assert!(
        group
            .iter()
            .all(|g| !a0.selected.contains(g) && !a1.selected.contains(g))
    );
    assert_eq!(
        h.engine.expected_senders(),
        group
            .iter()
            .map(|g| (dpgnet::protocol::BLOCK_LEVEL, *g))
            .collect::<Vec<_>>()
    );
    let (roots, refs) = h.engine.agg_target().expect("every set finalized");
    assert_eq!(
        roots,
        vec![h.set_roots(0)[0], h.set_roots(0)[4], h.set_roots(1)[4]]
    );
    assert_eq!(
        (refs[0].prover, refs[1].prover),
        (x0, y1),
        "who finalized each set"
    );
    let agg = |from, bloom| Included {
        from,
        signature: alloy_primitives::Bytes::new(),
        msg: dpgnet::protocol::Message::AggProof(dpgnet::protocol::AggProof {
            slot: 1,
            roots: roots.clone(),
            sets: refs.clone(),
            bloom,
            link_proof: alloy_primitives::Bytes::from(vec![7u8; 8]),
        }),
        verdict: dpgnet::protocol::Verdict::Valid,
    };
    let good_bloom = dpgnet::protocol::bloom_hash(&refs);
    // An outsider's and a wrong-bloom AggProof are rejected; the group's counts.
    let ev = h.apply(
        Phase::T5,
        vec![
            agg(x0, good_bloom),
            agg(group[1], B256::ZERO),
            agg(group[0], good_bloom),
        ],
    );
    let inc = inclusions(&ev);
    assert_eq!(
        inc.iter().map(|i| i.1).collect::<Vec<_>>(),
        vec![false, false, true]
    );
    let st = settlement(&ev).expect("the AggProof finalizes the block");
    assert_eq!(st.outcome, Outcome::FinalizedT5);
    // Proposer: T1 3 × 4, T2 3 × 16, T3 1, T4 1, REWARD_AGG_PROOF_VALIDATOR 3 = 65.
    // Set 0 (T3): x0 40 + 50 + 40×4 = 250; y0 40 + 40×4 = 200.
    // Set 1 (T4): y1 40 + 40 + 30×4 = 200; x1 40 + 30×4 = 160.
    // AggProof: REWARD_AGG_PROOF_PROVER 50 to its sender.
    assert_deltas(
        &before,
        &h.accounts(),
        &[
            (prop, 0, 65),
            (x0, 0, 250),
            (y0, 0, 200),
            (y1, 0, 200),
            (x1, 0, 160),
            (group[0], 0, 50),
        ],
    );
    check_settlement(&st, 65 + 250 + 200 + 200 + 160 + 50, 0);
    assert_eq!(h.engine.next_block(), 1);
}

#[test]
fn gigagas_one_set_failing_is_a_liveness_fault() {
    let mut p = default_params();
    p.num_sub_block_sets = 2;
    let mut h = Harness::with_params(p);
    h.begin();
    h.honest_t1();
    h.honest_t2();
    let a0 = h.asg(0);
    let ev = h.apply(Phase::T3, vec![h.honest_aggregate(a0.aggregators[0], 0)]);
    assert!(settlement(&ev).is_none());
    h.apply(Phase::T4, vec![]);
    let st = settlement(&h.apply(Phase::T5, vec![])).unwrap();
    assert_eq!(st.outcome, Outcome::LivenessFault);
    assert!(h.engine.set_state(1).unwrap().failed);
    assert_eq!(h.engine.set_state(0).unwrap().finalized, Some(Phase::T3));
    assert_eq!(st.loss, st.payments + 10_000);
    assert_eq!(h.engine.next_block(), 0);
}

#[test]
fn many_honest_slots_conserve_and_rotate_proposers() {
    let mut h = Harness::new();
    let mut minted = 0;
    for i in 1..=12u64 {
        let before = h.accounts();
        let st = h.honest_slot();
        assert_eq!(st.slot, i);
        assert_eq!(st.block, i - 1);
        assert_eq!(st.outcome, Outcome::FinalizedT3);
        // Honest aggregation reusing others: 487 minted per slot, 2 burned.
        let d = deltas(&before, &h.accounts());
        let proposer = validators()[(i % 4) as usize];
        assert_eq!(d[&proposer], (0, 37));
        minted += 487;
        assert_eq!(st.totals.minted, minted);
        assert_eq!(st.totals.burned, 2 * i);
        assert!(st.conservation_ok);
    }
}
