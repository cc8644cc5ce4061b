//! Prove and verify times per circuit shape and `k` (chain n_txs 8, 16, 32;
//! link n = 4), and batch verification of 32 partial proofs against 32 single
//! verifications, measured in the same run.
//!
//! Run: `cargo bench -p dpgnet-circuits --bench prove_verify`. Params are
//! cached under cargo's per-target temp dir.

use std::{hint::black_box, time::Duration};

use criterion::{
    BenchmarkGroup, BenchmarkId, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use dpgnet_circuits::{
    ChainKeys, ChainPublic, Fp, LinkKeys, LinkPublic, ParamsCache,
    native::{address_to_fp, fp_from_u64},
};
use ff::Field;

/// Number of partial proofs in the batch-verification comparison.
const BATCH: usize = 32;

fn cache() -> ParamsCache {
    ParamsCache::new(format!("{}/params", env!("CARGO_TARGET_TMPDIR")))
}

fn txs(seed: u64, n: usize) -> Vec<Fp> {
    (0..n as u64).map(|i| fp_from_u64(seed << 32 | i)).collect()
}

fn chain_proof(keys: &ChainKeys, seed: u64) -> (ChainPublic, Vec<u8>) {
    let root_in = fp_from_u64(seed);
    let prover = address_to_fp(&[0xa1; 20]);
    let (root_out, proof) = keys
        .prove(root_in, &txs(seed, keys.n_txs()), prover)
        .expect("prove");
    (
        ChainPublic {
            root_in,
            root_out,
            prover,
        },
        proof,
    )
}

fn configured<'a>(c: &'a mut Criterion, name: &str) -> BenchmarkGroup<'a, WallTime> {
    let mut group = c.benchmark_group(name);
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(4));
    group
}

fn chain(c: &mut Criterion) {
    let cache = cache();
    for n in [8, 16, 32] {
        let keys = ChainKeys::new(n, &cache).expect("keys");
        let id = format!("n{n}_k{}", keys.k());
        let txs = txs(1, n);
        let prover = address_to_fp(&[0xa1; 20]);

        let mut group = configured(c, "chain_prove");
        group.bench_function(BenchmarkId::from_parameter(&id), |b| {
            b.iter(|| keys.prove(black_box(Fp::ONE), &txs, prover).expect("prove"));
        });
        group.finish();

        let (public, proof) = chain_proof(&keys, 1);
        let mut group = configured(c, "chain_verify");
        group.bench_function(BenchmarkId::from_parameter(&id), |b| {
            b.iter(|| keys.verify(black_box(&public), &proof).expect("verify"));
        });
        group.finish();
        eprintln!(
            "chain {id}: proof {} bytes, vk {}",
            proof.len(),
            keys.vk_digest()
        );
    }
}

fn link(c: &mut Criterion) {
    let keys = LinkKeys::new(4, &cache()).expect("keys");
    let id = format!("n4_k{}", keys.k());
    let public = LinkPublic {
        roots: (0..5).map(fp_from_u64).collect(),
        aggregator: address_to_fp(&[0xa9; 20]),
        bloom: fp_from_u64(0xb100),
    };

    let mut group = configured(c, "link_prove");
    group.bench_function(BenchmarkId::from_parameter(&id), |b| {
        b.iter(|| keys.prove(black_box(&public)).expect("prove"));
    });
    group.finish();

    let proof = keys.prove(&public).expect("prove");
    let mut group = configured(c, "link_verify");
    group.bench_function(BenchmarkId::from_parameter(&id), |b| {
        b.iter(|| keys.verify(black_box(&public), &proof).expect("verify"));
    });
    group.finish();
    eprintln!(
        "link {id}: proof {} bytes, vk {}",
        proof.len(),
        keys.vk_digest()
    );
}

fn batch(c: &mut Criterion) {
    let keys = ChainKeys::new(dpgnet_circuits::DEFAULT_SUB_BLOCK_TXS, &cache()).expect("keys");
    let proofs: Vec<(ChainPublic, Vec<u8>)> = (0..BATCH as u64)
        .map(|seed| chain_proof(&keys, seed))
        .collect();
    let items: Vec<(ChainPublic, &[u8])> = proofs
        .iter()
        .map(|(p, proof)| (*p, proof.as_slice()))
        .collect();
    let id = format!("{BATCH}x_n{}_k{}", keys.n_txs(), keys.k());

    let mut group = configured(c, "verify_32_partial_proofs");
    group.bench_function(BenchmarkId::new("batch", &id), |b| {
        b.iter(|| {
            let valid = keys.batch_verify(black_box(&items));
            assert!(valid.iter().all(|v| *v));
        });
    });
    group.bench_function(BenchmarkId::new("single", &id), |b| {
        b.iter(|| {
            for (public, proof) in &items {
                keys.verify(black_box(public), proof).expect("verify");
            }
        });
    });
    group.finish();
}

criterion_group!(benches, chain, link, batch);
criterion_main!(benches);
