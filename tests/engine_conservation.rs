//! Property test of the protocol engine's ledger: random slots with random honest and
//! faulty behaviour (missing, invalid, stolen, duplicate, equivocating, late and
//! malformed messages, random aggregators, direct full proofs), random slash destination,
//! one or two sub-block sets, either proposer selection. After every slot's `Settled`:
//! conservation holds, recomputed independently from the settlement's accounts and totals
//! and from its ledger entries; no stake ever grows; the engine never errors on content.

mod common;

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256};
use common::engine_harness::*;
use dpgnet::config::{ProposerSelection, SlashDestination};
use dpgnet::protocol::{
    Account, EngineError, EntryKind, Event, Included, Message, Outcome, Phase, SetId, Settlement,
};
use proptest::prelude::*;
use proptest::test_runner::TestCaseError;

/// splitmix64: the per-slot behaviour is drawn from the slot's proptest seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }
    fn pct(&mut self, p: usize) -> bool {
        self.below(100) < p
    }
    fn pick<T: Copy>(&mut self, v: &[T]) -> T {
        v[self.below(v.len())]
    }
    fn shuffle<T>(&mut self, v: &mut [T]) {
        for i in (1..v.len()).rev() {
            let j = self.below(i + 1);
            v.swap(i, j);
        }
    }
}

fn n_sets(h: &Harness) -> SetId {
    h.engine.params().num_sub_block_sets
}

fn t1(h: &Harness, rng: &mut Rng, out: &mut Vec<Included>) {
    for s in 0..n_sets(h) {
        for p in h.asg(s).selected {
            match rng.below(100) {
                0..70 => out.push(h.commit(p, s)),
                70..75 => {}
                75..80 => {
                    out.push(h.commit_hash(p, s, B256::repeat_byte(rng.below(250) as u8 + 1)))
                }
                80..85 => {
                    out.push(h.commit(p, s));
                    out.push(h.commit(p, s));
                }
                85..90 => {
                    out.push(h.commit(p, s));
                    out.push(h.commit_hash(p, s, B256::repeat_byte(0xab)));
                }
                90..93 => out.push(invalid(h.commit(p, s))),
                93..95 => out.push(h.full_proof(p, s)),
                95..97 => out.push(invalid(h.full_proof(p, s))),
                _ => out.push(h.partials(p, s)),
            }
        }
    }
}

fn t2(h: &Harness, rng: &mut Rng, out: &mut Vec<Included>) {
    for s in 0..n_sets(h) {
        let a = h.asg(s);
        for p in a.selected.clone() {
            let mine = a.assignments[&p].clone();
            match rng.below(100) {
                0..60 => out.push(h.partials(p, s)),
                60..65 => {}
                65..70 => out.push(h.partials_of(p, s, &mine[..1])),
                70..75 => out.push(invalid(h.partials(p, s))),
                75..80 => {
                    // Steal another selected prover's partial bytes.
                    let victim = rng.pick(&a.selected);
                    let mut m = h.partials(victim, s);
                    m.from = p;
                    out.push(if rng.pct(80) { invalid(m) } else { m });
                }
                80..84 => {
                    out.push(h.partials(p, s));
                    out.push(h.partials(p, s));
                }
                84..88 => {
                    out.push(h.partials(p, s));
                    out.push(h.partials_of(p, s, &mine[..1]));
                }
                88..91 => {
                    let other = (0..h.engine.params().num_partial_proofs)
                        .find(|b| !mine.contains(b))
                        .unwrap_or(0);
                    out.push(h.partials_of(p, s, &[other]));
                }
                91..93 => out.push(h.full_proof(p, s)),
                93..95 => out.push(invalid(h.full_proof(p, s))),
                _ => out.push(h.commit(p, s)),
            }
        }
    }
}

fn aggregation(h: &Harness, rng: &mut Rng, out: &mut Vec<Included>) {
    let all = provers();
    for s in 0..n_sets(h) {
        let state = h.engine.set_state(s).expect("set");
        if state.finalized.is_some() {
            // Occasionally poke a finalized set.
            if rng.pct(10) {
                out.push(h.aggregate_from(rng.pick(&all), s, &[rng.pick(&all); 4]));
            }
            continue;
        }
        let a = h.asg(s);
        let accepted = state.accepted_partials();
        let n = h.engine.params().num_partial_proofs;
        let k = rng.below(4);
        for i in 0..k {
            let who = if i == 0 && rng.pct(70) {
                a.aggregators[rng.below(3)]
            } else if rng.pct(80) {
                rng.pick(&a.selected)
            } else {
                rng.pick(&all)
            };
            let mut reused = Vec::new();
            let mut own = Vec::new();
            for b in 0..n {
                let cands: Vec<_> = accepted
                    .iter()
                    .filter(|(r, _, _)| r.sub_block == b)
                    .collect();
                if !cands.is_empty() && rng.pct(80) {
                    reused.push(rng.pick(&cands).0);
                } else {
                    own.push(h.partial(who, s, b));
                }
            }
            let mut m = h.aggregate(who, s, reused, own);
            match rng.below(100) {
                0..70 => {}
                70..76 => {
                    if let Message::Aggregate(ag) = &mut m.msg {
                        ag.bloom = B256::repeat_byte(1);
                    }
                }
                76..82 => {
                    if let Message::Aggregate(ag) = &mut m.msg {
                        if !ag.reused.is_empty() {
                            ag.reused.pop();
                        } else {
                            ag.own.pop();
                        }
                    }
                }
                82..88 => m = invalid(m),
                88..92 => m = h.full_proof(who, s),
                92..96 => {
                    if a.assignments.contains_key(&who) {
                        m = h.partials(who, s);
                    }
                }
                _ => {
                    // Reuse a partial that was never accepted.
                    if let Message::Aggregate(ag) = &mut m.msg
                        && let Some(r) = ag.reused.first_mut()
                    {
                        r.proof_hash = B256::repeat_byte(0x42);
                        ag.bloom = dpgnet::protocol::bloom_hash(&ag.reused);
                    }
                }
            }
            out.push(m);
            if rng.pct(5) {
                // Equivocating aggregator.
                out.push(h.aggregate_from(who, s, &[who; 4]));
            }
        }
    }
}

fn junk(h: &Harness, rng: &mut Rng, stale: &[Included], out: &mut Vec<Included>) {
    if !stale.is_empty() && rng.pct(30) {
        out.push(rng.pick_cloned(stale));
    }
    if rng.pct(15) {
        let mut m = h.full_proof(h.asg(0).selected[0], 0);
        m.from = if rng.pct(50) {
            stranger()
        } else {
            validator(1)
        };
        out.push(m);
    }
    if rng.pct(10) {
        let sel = h.asg(0).selected;
        let outsider = provers().into_iter().find(|p| !sel.contains(p));
        if let Some(o) = outsider {
            out.push(h.commit_hash(o, 0, B256::repeat_byte(5)));
        }
    }
    if rng.pct(5) {
        out.push(valid(h.asg(0).selected[0], Message::Partials(vec![])));
    }
}

trait PickCloned {
    fn pick_cloned<T: Clone>(&mut self, v: &[T]) -> T;
}

impl PickCloned for Rng {
    fn pick_cloned<T: Clone>(&mut self, v: &[T]) -> T {
        v[self.below(v.len())].clone()
    }
}

/// Independent checks of one settlement against the accounts before the slot.
#[allow(clippy::too_many_arguments)]
fn check_settlement(
    st: &Settlement,
    prev: &[Account],
    prev_totals: (u64, u64, u64),
    genesis_stake: &BTreeMap<Address, u64>,
    sink: SlashDestination,
    proposer: Address,
    liveness_penalty: u64,
    failed: bool,
) -> Result<(), TestCaseError> {
    prop_assert!(
        st.conservation_ok,
        "conservation_ok false at slot {}",
        st.slot
    );
    let t = st.totals;
    let stake: u128 = st.accounts.iter().map(|a| u128::from(a.stake)).sum();
    let balance: u128 = st.accounts.iter().map(|a| u128::from(a.balance)).sum();
    prop_assert_eq!(u128::from(t.stake), stake);
    prop_assert_eq!(u128::from(t.balance), balance);
    prop_assert_eq!(t.genesis, genesis_total());
    prop_assert_eq!(
        stake + balance + u128::from(t.burned) + u128::from(t.treasury),
        u128::from(t.genesis) + u128::from(t.minted)
    );
    for a in &st.accounts {
        prop_assert!(
            a.stake <= genesis_stake[&a.address],
            "{} stake grew",
            a.address
        );
    }
    // Recompute every account from the entries.
    let (prev_minted, prev_burned, prev_treasury) = prev_totals;
    let mut want: BTreeMap<Address, (i128, i128)> = prev
        .iter()
        .map(|a| (a.address, (i128::from(a.stake), i128::from(a.balance))))
        .collect();
    let (mut rewards, mut taken) = (0u64, 0u64);
    for e in &st.entries {
        prop_assert_eq!(e.slot, st.slot);
        let w = want.get_mut(&e.node).expect("entry for a known account");
        match e.kind {
            EntryKind::Reward => {
                prop_assert_eq!(e.applied, e.amount);
                w.1 += i128::from(e.amount);
                rewards += e.amount;
            }
            EntryKind::Penalty | EntryKind::Slash => {
                prop_assert!(e.applied <= e.amount);
                w.0 -= i128::from(e.applied);
                taken += e.applied;
            }
        }
        prop_assert!(e.amount > 0);
    }
    if sink == SlashDestination::Proposer {
        want.get_mut(&proposer).unwrap().1 += i128::from(taken);
    }
    for a in &st.accounts {
        let w = want[&a.address];
        prop_assert_eq!(
            (i128::from(a.stake), i128::from(a.balance)),
            w,
            "account {} at slot {}",
            a.address,
            st.slot
        );
    }
    prop_assert_eq!(st.payments, rewards);
    prop_assert_eq!(t.minted, prev_minted + rewards);
    let (db, dt) = match sink {
        SlashDestination::Burn => (taken, 0),
        SlashDestination::Protocol => (0, taken),
        SlashDestination::Proposer => (0, 0),
    };
    prop_assert_eq!(t.burned, prev_burned + db);
    prop_assert_eq!(t.treasury, prev_treasury + dt);
    prop_assert_eq!(st.outcome == Outcome::LivenessFault, failed);
    prop_assert_eq!(
        st.loss,
        st.payments + if failed { liveness_penalty } else { 0 }
    );
    Ok(())
}

/// What a run went through, to check that the generator reaches the interesting paths.
#[derive(Debug, Default)]
struct Stats {
    slots: usize,
    outcomes: BTreeMap<&'static str, usize>,
    warnings: BTreeMap<String, usize>,
    ejected: usize,
    rejected: usize,
}

fn run(
    sink: SlashDestination,
    sets: u32,
    stake_weighted: bool,
    seeds: &[u64],
) -> Result<Stats, TestCaseError> {
    let mut stats = Stats::default();
    let mut params = default_params();
    params.slashed_to = sink;
    params.num_sub_block_sets = sets;
    if stake_weighted {
        params.proposer_selection = ProposerSelection::StakeWeighted;
    }
    let liveness_penalty = params.liveness_penalty;
    let mut h = Harness::with_params(params);
    let genesis_stake: BTreeMap<Address, u64> =
        genesis().iter().map(|g| (g.address, g.stake)).collect();
    let mut stale: Vec<Included> = Vec::new();
    let mut block = 0;
    for (i, seed) in seeds.iter().enumerate() {
        let mut rng = Rng(*seed);
        let slot = h.next_slot + rng.below(2) as u64;
        let available = h.engine.available_provers().len();
        let per_set = ((available / sets as usize) / 2).min(200);
        let prev = h.accounts();
        let tt = h.engine.ledger().totals();
        let prev_totals = (tt.minted, tt.burned, tt.treasury);
        match h.try_begin(slot) {
            Ok(_) => prop_assert!(per_set >= 2),
            Err(e) => {
                prop_assert!(
                    per_set < 2,
                    "begin_slot failed with {available} available: {e}"
                );
                prop_assert!(matches!(e, EngineError::Selection(_)));
                return Ok(stats);
            }
        }
        h.next_slot = slot + 1;
        prop_assert_eq!(h.engine.next_block(), block);
        let proposer = h.proposer();
        let mut next_stale = Vec::new();
        let mut settled = None;
        while !h.engine.slot_done() {
            let (_, phase) = h.engine.current().unwrap();
            let mut inc = Vec::new();
            match phase {
                Phase::T1 => t1(&h, &mut rng, &mut inc),
                Phase::T2 => t2(&h, &mut rng, &mut inc),
                _ => aggregation(&h, &mut rng, &mut inc),
            }
            // Gigagas: once every set is finalized, the AggProof group may submit
            // block-level AggProofs (valid or not).
            if phase >= Phase::T2 && h.engine.agg_done().is_none() {
                if let Some((roots, refs)) = h.engine.agg_target() {
                    let group = h.engine.agg_group().to_vec();
                    if !group.is_empty() && rng.below(3) > 0 {
                        let from = group[rng.below(group.len())];
                        let verdict = if rng.below(4) > 0 {
                            dpgnet::protocol::Verdict::Valid
                        } else {
                            dpgnet::protocol::Verdict::Invalid("bad AggProof".into())
                        };
                        let msg = Message::AggProof(dpgnet::protocol::AggProof {
                            slot,
                            roots,
                            bloom: dpgnet::protocol::bloom_hash(&refs),
                            sets: refs,
                            link_proof: alloy_primitives::Bytes::from(vec![
                                rng.below(250) as u8 + 1;
                                8
                            ]),
                        });
                        inc.push(Included {
                            from,
                            signature: alloy_primitives::Bytes::new(),
                            msg,
                            verdict,
                        });
                    }
                }
            }
            next_stale.extend(inc.iter().take(3).cloned());
            junk(&h, &mut rng, &stale, &mut inc);
            rng.shuffle(&mut inc);
            let ev = match h.try_apply(phase, inc) {
                Ok(ev) => ev,
                Err(e) => return Err(TestCaseError::fail(format!("slot {slot} {phase}: {e}"))),
            };
            prop_assert!(h.engine.ledger().conservation_ok());
            if let Some(st) = settlement(&ev) {
                settled = Some(st);
            }
            for e in &ev {
                match e {
                    Event::Ejected { node, stake, .. } => {
                        prop_assert!(*stake < h.engine.params().min_stake);
                        prop_assert!(!h.engine.available_provers().contains(node));
                        stats.ejected += 1;
                    }
                    Event::Warning { kind, .. } => {
                        *stats.warnings.entry(format!("{kind:?}")).or_default() += 1;
                    }
                    Event::MessageIncluded {
                        accepted: false, ..
                    } => stats.rejected += 1,
                    _ => {}
                }
            }
        }
        let st = settled.expect("a slot that is done has settled");
        let failed = (0..sets).any(|s| h.engine.set_state(s).unwrap().failed)
            || (sets > 1 && h.engine.agg_done().is_none());
        check_settlement(
            &st,
            &prev,
            prev_totals,
            &genesis_stake,
            sink,
            proposer,
            liveness_penalty,
            failed,
        )?;
        prop_assert_eq!(&st.accounts, &h.accounts());
        prop_assert_eq!(st.block, block);
        if !failed {
            block += 1;
        }
        prop_assert_eq!(h.engine.next_block(), block);
        stale = next_stale;
        stats.slots = i + 1;
        *stats.outcomes.entry(st.outcome.as_str()).or_default() += 1;
    }
    Ok(stats)
}

fn sink_of(i: u8) -> SlashDestination {
    [
        SlashDestination::Burn,
        SlashDestination::Protocol,
        SlashDestination::Proposer,
    ][usize::from(i % 3)]
}

proptest! {
    #![proptest_config(ProptestConfig {
        cases: 96,
        failure_persistence: None,
        ..ProptestConfig::default()
    })]

    #[test]
    fn ledger_is_conserved_after_every_slot(
        sink in 0u8..3,
        gigagas in prop::bool::weighted(0.25),
        stake_weighted in any::<bool>(),
        seeds in prop::collection::vec(any::<u64>(), 1..12),
    ) {
        let st = run(sink_of(sink), if gigagas { 2 } else { 1 }, stake_weighted, &seeds)?;
        prop_assert!(st.slots > 0);
    }
}

#[test]
fn long_faulty_run_conserves() {
    // A fixed, long run (many ejections likely) as a regression anchor.
    let mut outcomes = BTreeMap::new();
    let mut warnings = BTreeMap::new();
    let (mut ejected, mut slots) = (0, 0);
    for sink in 0..3u8 {
        for sets in [1, 2] {
            let seeds: Vec<u64> = (0..60)
                .map(|i| (u64::from(sink) << 40) ^ 0x1234_5678 ^ (i * 7919))
                .collect();
            let st = run(sink_of(sink), sets, sink == 1, &seeds).unwrap();
            for (k, v) in st.outcomes {
                *outcomes.entry(k).or_insert(0) += v;
            }
            for (k, v) in st.warnings {
                *warnings.entry(k).or_insert(0) += v;
            }
            ejected += st.ejected;
            slots += st.slots;
        }
    }
    eprintln!("slots {slots}, outcomes {outcomes:?}, warnings {warnings:?}, ejected {ejected}");
    // The generator reaches every outcome and every detector.
    for o in [
        "finalized_t1",
        "finalized_t2",
        "finalized_t3",
        "finalized_t4",
        "liveness_fault",
    ] {
        assert!(outcomes.contains_key(o), "{o} never reached: {outcomes:?}");
    }
    for w in ["Late", "Equivocation", "InvalidProof", "StolenProof"] {
        assert!(warnings.contains_key(w), "{w} never fired: {warnings:?}");
    }
    assert!(ejected > 0);
}
