//! MockProver tests of the chain and link circuits: satisfied witnesses pass
//! at the chosen `k` (and not at `k - 1`), wrong public inputs fail with the
//! exact `VerifyFailure`.

use dpgnet_circuits::{
    ChainCircuit, ChainPublic, Fp, LinkCircuit, LinkPublic,
    chain::ROW_ROOT_OUT,
    native::{chain_root, fp_from_u64},
};
use ff::Field;
use halo2_proofs::{
    dev::{FailureLocation, MockProver, VerifyFailure},
    plonk::{Any, Error},
};

fn txs(n: u64) -> Vec<Fp> {
    (0..n).map(|i| fp_from_u64(1000 + i)).collect()
}

fn chain_public(txs: &[Fp]) -> ChainPublic {
    let root_in = fp_from_u64(42);
    ChainPublic {
        root_in,
        root_out: chain_root(root_in, txs),
        prover: fp_from_u64(0xbeef),
    }
}

fn link_public(n: u64) -> LinkPublic {
    LinkPublic {
        roots: (0..=n).map(|i| fp_from_u64(7 * i + 1)).collect(),
        aggregator: fp_from_u64(0xa991),
        bloom: fp_from_u64(0xb100),
    }
}

/// Regions per `hash2`: sponge initial state, absorb (pad-and-add), permutation.
const REGIONS_PER_HASH: usize = 3;
/// Row of the squeezed output inside the "permute state" region.
const OUTPUT_OFFSET: usize = 36;

/// Index of the last region: `loads` load regions, then `hashes` hashes.
fn last_region(loads: usize, hashes: usize) -> usize {
    loads + REGIONS_PER_HASH * hashes - 1
}

/// The copy constraint between the circuit's result (the first state word of
/// the last permutation) and the instance row fails on both ends.
fn permutation_failure(instance_row: usize, region: usize) -> Vec<VerifyFailure> {
    let offset = OUTPUT_OFFSET;
    vec![
        VerifyFailure::Permutation {
            column: (Any::Instance, 0).into(),
            location: FailureLocation::OutsideRegion { row: instance_row },
        },
        VerifyFailure::Permutation {
            column: (Any::Advice, 0).into(),
            location: FailureLocation::InRegion {
                region: (region, "permute state").into(),
                offset,
            },
        },
    ]
}

#[test]
fn chain_passes_at_min_k_and_not_below() {
    let txs = txs(4);
    let circuit = ChainCircuit::new(&txs);
    let k = ChainCircuit::min_k(4).unwrap();
    assert_eq!(k, 8);
    let instance = vec![chain_public(&txs).to_instance()];
    let prover = MockProver::run(k, &circuit, instance.clone()).unwrap();
    assert_eq!(prover.verify(), Ok(()));
    assert!(matches!(
        MockProver::run(k - 1, &circuit, instance),
        Err(Error::NotEnoughRowsAvailable { current_k }) if current_k == k - 1
    ));
}

#[test]
fn chain_k_per_shape() {
    let ks: Vec<u32> = [0, 1, 8, 12, 13, 16, 24, 25, 32]
        .into_iter()
        .map(|n| ChainCircuit::min_k(n).unwrap())
        .collect();
    assert_eq!(ks, [4, 6, 9, 9, 10, 10, 10, 11, 11]);
}

#[test]
fn chain_with_no_txs_is_the_identity() {
    let public = chain_public(&[]);
    assert_eq!(public.root_in, public.root_out);
    let prover = MockProver::run(4, &ChainCircuit::new(&[]), vec![public.to_instance()]).unwrap();
    assert_eq!(prover.verify(), Ok(()));
}

#[test]
fn chain_fails_with_wrong_root_out() {
    let txs = txs(4);
    let mut public = chain_public(&txs);
    public.root_out += Fp::ONE;
    let prover = MockProver::run(8, &ChainCircuit::new(&txs), vec![public.to_instance()]).unwrap();
    assert_eq!(
        prover.verify(),
        Err(permutation_failure(ROW_ROOT_OUT, last_region(2, 4)))
    );
}

#[test]
fn chain_fails_with_wrong_tx() {
    let txs = txs(4);
    let public = chain_public(&txs);
    let mut other = txs.clone();
    other[2] = fp_from_u64(7);
    let prover =
        MockProver::run(8, &ChainCircuit::new(&other), vec![public.to_instance()]).unwrap();
    assert_eq!(
        prover.verify(),
        Err(permutation_failure(ROW_ROOT_OUT, last_region(2, 4)))
    );
}

#[test]
fn link_passes_at_min_k_and_not_below() {
    let circuit = LinkCircuit::new(4);
    let k = LinkCircuit::min_k(4).unwrap();
    assert_eq!(k, 8);
    let instance = vec![link_public(4).to_instance()];
    let prover = MockProver::run(k, &circuit, instance.clone()).unwrap();
    assert_eq!(prover.verify(), Ok(()));
    assert!(matches!(
        MockProver::run(k - 1, &circuit, instance),
        Err(Error::NotEnoughRowsAvailable { current_k }) if current_k == k - 1
    ));
}

#[test]
fn link_fails_with_wrong_digest() {
    let public = link_public(4);
    let mut instance = public.to_instance();
    let digest_row = instance.len() - 1;
    instance[digest_row] += Fp::ONE;
    let prover = MockProver::run(8, &LinkCircuit::new(4), vec![instance]).unwrap();
    assert_eq!(
        prover.verify(),
        Err(permutation_failure(digest_row, last_region(1, 6)))
    );
}

#[test]
fn link_fails_when_bloom_changes_but_digest_does_not() {
    let public = link_public(4);
    let mut instance = public.to_instance();
    let bloom_row = instance.len() - 2;
    instance[bloom_row] += Fp::ONE;
    let prover = MockProver::run(8, &LinkCircuit::new(4), vec![instance.clone()]).unwrap();
    assert_eq!(
        prover.verify(),
        Err(permutation_failure(instance.len() - 1, last_region(1, 6)))
    );
}
