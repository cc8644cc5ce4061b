//! Native (out-of-circuit) Poseidon hashing and field encodings, equal bit for bit
//! to what the circuits compute.
//!
//! The protocol layer uses these to compute the public inputs of a proof
//! (sub-block roots, the link digest) without proving anything.

use ff::{Field, FromUniformBytes, PrimeField};
use halo2_gadgets::poseidon::primitives::{self as poseidon, ConstantLength, P128Pow5T3};

use crate::Fp;

/// Poseidon hash of two field elements: `P128Pow5T3`, `ConstantLength<2>`,
/// width 3, rate 2 — the same instance as the in-circuit `Pow5Chip` gadget
/// (one hash is about 41 circuit rows).
#[must_use]
pub fn hash2(a: Fp, b: Fp) -> Fp {
    poseidon::Hash::<Fp, P128Pow5T3, ConstantLength<2>, 3, 2>::init().hash([a, b])
}

/// State transition of one sub-block ("Multi-phase Proof Generation / T2":
/// the statement a partial proof proves): `root = hash2(root, tx)` folded
/// over `txs` in order, starting from `root_in`. With no transactions the root
/// is unchanged.
///
/// The full proof (T1/T2 "optionally submit a full proof") is the same fold
/// over all sub-blocks' transactions concatenated.
#[must_use]
pub fn chain_root(root_in: Fp, txs: &[Fp]) -> Fp {
    txs.iter().fold(root_in, |root, tx| hash2(root, *tx))
}

/// Digest bound by a link proof ("T3: Full Proof Aggregation Phase": a full
/// proof "including a `BloomHash` summarizing reused partial proofs"):
/// `hash2` folded from `roots[0]` over `roots[1..]`, then over `aggregator`,
/// then over `bloom`.
///
/// `roots` are the `n + 1` state roots delimiting `n` sub-blocks. An empty
/// `roots` slice is treated as a single zero root.
#[must_use]
pub fn link_digest(roots: &[Fp], aggregator: Fp, bloom: Fp) -> Fp {
    let (first, rest) = roots.split_first().unwrap_or((&Fp::ZERO, &[]));
    let acc = chain_root(*first, rest);
    hash2(hash2(acc, aggregator), bloom)
}

/// Canonical 32-byte little-endian encoding of a field element.
#[must_use]
pub fn fp_to_bytes(x: Fp) -> [u8; 32] {
    x.to_repr()
}

/// Decodes a canonical 32-byte little-endian encoding; `None` if the value
/// is not below the field modulus.
#[must_use]
pub fn fp_from_bytes(bytes: &[u8; 32]) -> Option<Fp> {
    Option::from(Fp::from_repr(*bytes))
}

/// Maps a 20-byte Ethereum address to a field element (big-endian integer
/// value of the address; 160 bits always fit in the 255-bit field, so the map
/// is injective). This is how a prover's public key enters a proof as a
/// public input ("the proof must include the prover's public key as a public
/// output to prevent proof stealing", Multi-phase Proof Generation / T1).
#[must_use]
pub fn address_to_fp(address: &[u8; 20]) -> Fp {
    let base = Fp::from(256);
    address.iter().fold(Fp::ZERO, |acc, byte| {
        acc * base + Fp::from(u64::from(*byte))
    })
}

/// Reduces a 32-byte hash (e.g. keccak-256 of a transaction) into the field:
/// the bytes are read as a little-endian integer, zero-extended to 64 bytes
/// and reduced modulo the field order. Total and deterministic.
#[must_use]
pub fn fp_from_uniform(bytes32: &[u8; 32]) -> Fp {
    let mut wide = [0u8; 64];
    wide[..32].copy_from_slice(bytes32);
    Fp::from_uniform_bytes(&wide)
}

/// Embeds a `u64` into the field (exact, no reduction).
#[must_use]
pub fn fp_from_u64(x: u64) -> Fp {
    Fp::from(x)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chain_root_of_nothing_is_identity() {
        let r = fp_from_u64(7);
        assert_eq!(chain_root(r, &[]), r);
        assert_eq!(chain_root(r, &[fp_from_u64(1)]), hash2(r, fp_from_u64(1)));
    }

    #[test]
    fn link_digest_folds_roots_then_aggregator_then_bloom() {
        let roots: Vec<Fp> = (0..5).map(fp_from_u64).collect();
        let (a, b) = (fp_from_u64(100), fp_from_u64(200));
        let mut acc = roots[0];
        for r in &roots[1..] {
            acc = hash2(acc, *r);
        }
        assert_eq!(link_digest(&roots, a, b), hash2(hash2(acc, a), b));
    }

    #[test]
    fn encodings_round_trip() {
        let x = hash2(fp_from_u64(1), fp_from_u64(2));
        assert_eq!(fp_from_bytes(&fp_to_bytes(x)), Some(x));
        assert_eq!(fp_from_bytes(&[0xff; 32]), None);
        assert_eq!(fp_to_bytes(fp_from_u64(258))[..2], [2, 1]);

        let mut addr = [0u8; 20];
        addr[19] = 1;
        assert_eq!(address_to_fp(&addr), Fp::ONE);
        assert_eq!(address_to_fp(&[0xff; 20]), {
            let mut v = Fp::ZERO;
            for _ in 0..20 {
                v = v * fp_from_u64(256) + fp_from_u64(255);
            }
            v
        });

        let mut h = [0u8; 32];
        h[0] = 5;
        assert_eq!(fp_from_uniform(&h), fp_from_u64(5));
        // Above the modulus: reduced, never rejected.
        let _ = fp_from_uniform(&[0xff; 32]);
    }
}
