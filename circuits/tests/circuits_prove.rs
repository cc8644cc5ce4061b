//! Real proofs: prove / verify round trips, rejection of tampered, truncated
//! and stolen proofs, batch verification, and pinned verifying keys.

use std::{
    sync::{Arc, OnceLock},
    time::Instant,
};

use dpgnet_circuits::{
    ChainKeys, ChainPublic, CircuitError, DEFAULT_SUB_BLOCK_TXS, Fp, LinkKeys, LinkPublic,
    ParamsCache,
    native::{address_to_fp, chain_root, fp_from_u64, fp_from_uniform},
};

/// blake2b-256 of the pinned verifying keys. A change means the circuit
/// changed: every deployed verifier must be updated with it.
const CHAIN8_VK_DIGEST: &str = "15bfd5f77850f9e72e2b5c084162bebc9563aef24739f1ff4c0ce89ce665eabf";
const CHAIN32_VK_DIGEST: &str = "11c295c2a5329050b7f440dda57bdfb97fbecc946b093b362fa154192586df89";
const LINK4_VK_DIGEST: &str = "7b6e4b982e94b303a796f4ed838b364b6b0967856d5228a20cb5032c167ef2e3";

/// Params shared by this test binary, kept under cargo's per-target temp dir
/// so they are generated once.
fn cache() -> &'static ParamsCache {
    static CACHE: OnceLock<ParamsCache> = OnceLock::new();
    CACHE.get_or_init(|| ParamsCache::new(format!("{}/params", env!("CARGO_TARGET_TMPDIR"))))
}

fn chain8() -> &'static ChainKeys {
    static KEYS: OnceLock<ChainKeys> = OnceLock::new();
    KEYS.get_or_init(|| ChainKeys::new(DEFAULT_SUB_BLOCK_TXS, cache()).unwrap())
}

fn link4() -> &'static LinkKeys {
    static KEYS: OnceLock<LinkKeys> = OnceLock::new();
    KEYS.get_or_init(|| LinkKeys::new(4, cache()).unwrap())
}

fn txs(seed: u64, n: usize) -> Vec<Fp> {
    (0..n as u64)
        .map(|i| {
            let mut h = [0u8; 32];
            h[..8].copy_from_slice(&seed.to_le_bytes());
            h[8..16].copy_from_slice(&i.to_le_bytes());
            h[31] = 0xee;
            fp_from_uniform(&h)
        })
        .collect()
}

fn alice() -> Fp {
    address_to_fp(&[0xa1; 20])
}

fn mallory() -> Fp {
    address_to_fp(&[0x66; 20])
}

/// One proof of sub-block `seed` by `prover`.
fn chain_proof(seed: u64, prover: Fp) -> (ChainPublic, Vec<u8>) {
    let keys = chain8();
    let root_in = fp_from_u64(seed);
    let txs = txs(seed, keys.n_txs());
    let started = Instant::now();
    let (root_out, proof) = keys.prove(root_in, &txs, prover).unwrap();
    eprintln!("chain n=8 prove: {:?}", started.elapsed());
    assert_eq!(root_out, chain_root(root_in, &txs));
    (
        ChainPublic {
            root_in,
            root_out,
            prover,
        },
        proof,
    )
}

fn assert_rejected(result: Result<(), CircuitError>) {
    assert!(
        matches!(
            result,
            Err(CircuitError::InvalidProof | CircuitError::Malformed(_))
        ),
        "{result:?}"
    );
}

#[test]
fn chain_proof_round_trip() {
    let (public, proof) = chain_proof(1, alice());
    assert_eq!(proof.len(), chain8().proof_len());
    let started = Instant::now();
    chain8().verify(&public, &proof).unwrap();
    eprintln!(
        "chain n=8 verify: {:?}, {} bytes",
        started.elapsed(),
        proof.len()
    );
}

#[test]
fn chain_proof_is_bound_to_prover_and_roots() {
    let (public, proof) = chain_proof(2, alice());
    // Anti-stealing: the same proof under another prover's address fails.
    let stolen = ChainPublic {
        prover: mallory(),
        ..public
    };
    assert!(matches!(
        chain8().verify(&stolen, &proof),
        Err(CircuitError::InvalidProof)
    ));
    let wrong_out = ChainPublic {
        root_out: public.root_out + Fp::from(1),
        ..public
    };
    assert!(matches!(
        chain8().verify(&wrong_out, &proof),
        Err(CircuitError::InvalidProof)
    ));
    let wrong_in = ChainPublic {
        root_in: public.root_in + Fp::from(1),
        ..public
    };
    assert!(matches!(
        chain8().verify(&wrong_in, &proof),
        Err(CircuitError::InvalidProof)
    ));
}

#[test]
fn chain_rejects_tampered_truncated_and_random_bytes() {
    let (public, proof) = chain_proof(3, alice());
    let keys = chain8();

    let mut flipped = proof.clone();
    flipped[proof.len() / 2] ^= 0x01;
    assert_rejected(keys.verify(&public, &flipped));

    for bad in [&proof[..proof.len() - 1], &proof[..32], &[][..]] {
        assert!(matches!(
            keys.verify(&public, bad),
            Err(CircuitError::Malformed(_))
        ));
    }
    let mut longer = proof.clone();
    longer.push(0);
    assert!(matches!(
        keys.verify(&public, &longer),
        Err(CircuitError::Malformed(_))
    ));

    for fill in [0x00, 0xff, 0x5a] {
        assert_rejected(keys.verify(&public, &vec![fill; proof.len()]));
    }
    let noise: Vec<u8> = (0..proof.len()).map(|i| (i * 7919 % 251) as u8).collect();
    assert_rejected(keys.verify(&public, &noise));
}

#[test]
fn chain_prove_checks_shape() {
    let err = chain8()
        .prove(Fp::from(0), &txs(4, 7), alice())
        .unwrap_err();
    assert!(matches!(
        err,
        CircuitError::Shape {
            expected: 8,
            got: 7
        }
    ));
}

#[test]
fn batch_verify_finds_the_one_bad_proof() {
    let keys = chain8();
    let proofs: Vec<(ChainPublic, Vec<u8>)> =
        (10..16).map(|seed| chain_proof(seed, alice())).collect();
    let mut items: Vec<(ChainPublic, &[u8])> = proofs
        .iter()
        .map(|(p, proof)| (*p, proof.as_slice()))
        .collect();

    let started = Instant::now();
    assert_eq!(keys.batch_verify(&items), vec![true; 6]);
    eprintln!("batch of 6 (all good): {:?}", started.elapsed());

    let mut tampered = proofs[3].1.clone();
    let mid = tampered.len() / 2;
    tampered[mid] ^= 0x01;
    items[3].1 = &tampered;
    let started = Instant::now();
    assert_eq!(
        keys.batch_verify(&items),
        vec![true, true, true, false, true, true]
    );
    eprintln!("batch of 6 (one bad): {:?}", started.elapsed());

    // A stolen proof and a truncated one in the same batch.
    items[3].1 = &proofs[3].1;
    items[1].0.prover = mallory();
    let short = &proofs[4].1[..100];
    items[4].1 = short;
    assert_eq!(
        keys.batch_verify(&items),
        vec![true, false, true, true, false, true]
    );

    assert!(keys.batch_verify(&[]).is_empty());
}

fn link_public() -> LinkPublic {
    let roots = (0..5).map(|i| fp_from_u64(100 + i)).collect();
    LinkPublic {
        roots,
        aggregator: alice(),
        bloom: fp_from_uniform(&[0xb1; 32]),
    }
}

#[test]
fn link_proof_round_trip_and_binding() {
    let keys = link4();
    let public = link_public();
    let started = Instant::now();
    let proof = keys.prove(&public).unwrap();
    eprintln!("link n=4 prove: {:?}", started.elapsed());
    assert_eq!(proof.len(), keys.proof_len());
    let started = Instant::now();
    keys.verify(&public, &proof).unwrap();
    eprintln!(
        "link n=4 verify: {:?}, {} bytes",
        started.elapsed(),
        proof.len()
    );

    let stolen = LinkPublic {
        aggregator: mallory(),
        ..public.clone()
    };
    assert!(matches!(
        keys.verify(&stolen, &proof),
        Err(CircuitError::InvalidProof)
    ));
    let other_bloom = LinkPublic {
        bloom: public.bloom + Fp::from(1),
        ..public.clone()
    };
    assert!(matches!(
        keys.verify(&other_bloom, &proof),
        Err(CircuitError::InvalidProof)
    ));
    let mut swapped = public.clone();
    swapped.roots.swap(1, 2);
    assert!(matches!(
        keys.verify(&swapped, &proof),
        Err(CircuitError::InvalidProof)
    ));

    let mut flipped = proof.clone();
    flipped[proof.len() / 2] ^= 0x80;
    assert_rejected(keys.verify(&public, &flipped));

    let mut short = public.clone();
    short.roots.pop();
    assert!(matches!(
        keys.verify(&short, &proof),
        Err(CircuitError::Shape {
            expected: 5,
            got: 4
        })
    ));
    assert!(matches!(
        keys.prove(&short),
        Err(CircuitError::Shape {
            expected: 5,
            got: 4
        })
    ));
}

#[test]
fn pinned_verifying_keys_and_k() {
    let chain32 = ChainKeys::new(32, cache()).unwrap();
    let pinned = [
        (
            "chain n=8",
            chain8().k(),
            chain8().vk_digest(),
            chain8().proof_len(),
        ),
        (
            "chain n=32",
            chain32.k(),
            chain32.vk_digest(),
            chain32.proof_len(),
        ),
        (
            "link n=4",
            link4().k(),
            link4().vk_digest(),
            link4().proof_len(),
        ),
    ];
    for (name, k, digest, len) in &pinned {
        eprintln!("{name}: k={k} proof_len={len} vk_digest={digest}");
    }
    assert_eq!(chain8().k(), 9);
    assert_eq!(chain32.k(), 11);
    assert_eq!(link4().k(), 8);
    assert_eq!(
        [
            chain8().proof_len(),
            chain32.proof_len(),
            link4().proof_len()
        ],
        [2272, 2400, 2208]
    );
    assert_eq!(chain8().vk_digest(), CHAIN8_VK_DIGEST);
    assert_eq!(chain32.vk_digest(), CHAIN32_VK_DIGEST);
    assert_eq!(link4().vk_digest(), LINK4_VK_DIGEST);
    // Keys of the same k share the cached params.
    assert!(Arc::ptr_eq(chain8().params(), &cache().get(9).unwrap()));
}
