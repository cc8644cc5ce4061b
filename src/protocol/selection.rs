//! Prover selection and assignment of partial proofs.
//!
//! Spec "Prover Selection and Assignment":
//! `num_provers_selected = Min(PROVERS_PER_PROOF, availableProvers / 2)`,
//! `num_airs_assigned = (num_of_partial_proofs / num_provers_selected) * redundancy_factor`,
//! selection "deterministically random" from RANDAO, reputation-weighted but
//! bounded (DESIGN.md: weight `1 + min(cap, valid_history × step)`).

use std::collections::BTreeMap;

use alloy_primitives::Address;
use serde::{Deserialize, Serialize};

use super::randao::RandaoMix;
use super::types::{SetId, Slot};

/// One sub-block set's selection and assignment for a slot.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SetAssignment {
    /// Sub-block set index.
    pub set: SetId,
    /// Selected provers, in RANDAO order.
    pub selected: Vec<Address>,
    /// Each selected prover's assigned sub-block indices (ascending).
    pub assignments: BTreeMap<Address, Vec<u32>>,
    /// Designated aggregators for T3, T4 and T5 (not from the spec: the spec lets
    /// "any prover" aggregate; dpgnet's honest provers aggregate when designated so
    /// that fast mode knows whom to wait for).
    pub aggregators: [Address; 3],
}

impl SetAssignment {
    /// The provers assigned to `sub_block`.
    #[must_use]
    pub fn provers_of(&self, sub_block: u32) -> Vec<Address> {
        self.assignments
            .iter()
            .filter(|(_, sbs)| sbs.contains(&sub_block))
            .map(|(a, _)| *a)
            .collect()
    }

    /// True if `who` is selected in this set.
    #[must_use]
    pub fn is_selected(&self, who: &Address) -> bool {
        self.assignments.contains_key(who)
    }
}

/// `Min(PROVERS_PER_PROOF, availableProvers / 2)`, spec "Prover Selection".
#[must_use]
pub fn num_provers_selected(provers_per_proof: u64, available: usize) -> usize {
    (available / 2).min(usize::try_from(provers_per_proof).unwrap_or(usize::MAX))
}

/// Weighted sampling without replacement of `n` provers from `candidates`
/// (address, weight in thousandths; weights ≥ 1), driven by the RANDAO mix.
/// Deterministic for equal inputs; candidates are considered in address order.
#[must_use]
pub fn select_provers(
    mix: &RandaoMix,
    slot: Slot,
    set: SetId,
    candidates: &[(Address, u64)],
    n: usize,
) -> Vec<Address> {
    let mut pool: Vec<(Address, u64)> = candidates.to_vec();
    pool.sort_by_key(|(a, _)| *a);
    let mut out = Vec::with_capacity(n.min(pool.len()));
    let mut counter = 0u64;
    while out.len() < n && !pool.is_empty() {
        let total: u128 = pool.iter().map(|(_, w)| u128::from((*w).max(1))).sum();
        let draw = u128::from(mix.draw(b"select", slot, set, counter)) % total;
        counter += 1;
        let mut acc = 0u128;
        let idx = pool
            .iter()
            .position(|(_, w)| {
                acc += u128::from((*w).max(1));
                draw < acc
            })
            .expect("draw < total");
        out.push(pool.remove(idx).0);
    }
    out
}

/// Assign `num_partial_proofs` sub-blocks to the `selected` provers so that each
/// sub-block goes to `redundancy` distinct provers: sub-block `b`'s `r`-th copy
/// goes to `selected[(b + r·⌊s/R⌋) mod s]`. Each prover gets
/// `num_partial_proofs × R / s` sub-blocks when that divides evenly (the spec's
/// `num_airs_assigned`), otherwise the ceiling or floor of it.
///
/// Returns `None` when `redundancy` is 0 or exceeds `selected.len()`.
#[must_use]
pub fn assign(
    selected: &[Address],
    num_partial_proofs: u32,
    redundancy: u32,
) -> Option<BTreeMap<Address, Vec<u32>>> {
    let s = selected.len();
    let r = redundancy as usize;
    if r == 0 || r > s {
        return None;
    }
    let stride = s / r;
    let mut out: BTreeMap<Address, Vec<u32>> = selected.iter().map(|a| (*a, Vec::new())).collect();
    for b in 0..num_partial_proofs {
        for copy in 0..r {
            let who = selected[(b as usize + copy * stride) % s];
            out.get_mut(&who).expect("selected").push(b);
        }
    }
    Some(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addrs(n: u8) -> Vec<Address> {
        (1..=n).map(Address::repeat_byte).collect()
    }

    #[test]
    fn selected_count_follows_the_spec_formula() {
        assert_eq!(num_provers_selected(200, 8), 4);
        assert_eq!(num_provers_selected(200, 9), 4);
        assert_eq!(num_provers_selected(3, 8), 3);
        assert_eq!(num_provers_selected(200, 1), 0);
    }

    #[test]
    fn assignment_gives_each_sub_block_r_distinct_provers() {
        let sel = addrs(4);
        let a = assign(&sel, 4, 2).unwrap();
        for b in 0..4 {
            let mut who: Vec<_> = a
                .iter()
                .filter(|(_, v)| v.contains(&b))
                .map(|(k, _)| *k)
                .collect();
            who.dedup();
            assert_eq!(who.len(), 2, "sub-block {b}");
        }
        // (4 / 4) * 2 = 2 each, as the spec's num_airs_assigned.
        assert!(a.values().all(|v| v.len() == 2));
        assert_eq!(assign(&sel, 4, 0), None);
        assert_eq!(assign(&sel, 4, 5), None);
    }

    #[test]
    fn selection_is_deterministic_distinct_and_weighted() {
        let mix = RandaoMix::genesis(1);
        let cands: Vec<_> = addrs(8).into_iter().map(|a| (a, 1000)).collect();
        let s1 = select_provers(&mix, 3, 0, &cands, 4);
        assert_eq!(s1, select_provers(&mix, 3, 0, &cands, 4));
        let mut d = s1.clone();
        d.sort();
        d.dedup();
        assert_eq!(d.len(), 4);
        // A prover with overwhelming weight is nearly always picked first.
        let mut heavy = cands.clone();
        heavy[0].1 = 1_000_000_000;
        let hits = (0..50)
            .filter(|slot| select_provers(&mix, *slot, 0, &heavy, 1)[0] == heavy[0].0)
            .count();
        assert!(hits >= 49, "{hits}");
    }
}
