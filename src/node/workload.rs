//! The seeded block workload: transactions per sub-block and the state roots.
//!
//! DESIGN.md "Block workload": each slot a workload generator (seeded) produces a
//! block of transactions, split into `num_partial_proofs` sub-blocks. A transaction
//! is a Pallas field element; a sub-block moves the state root by the Poseidon
//! chain `root ← H(root, tx)` (the partial circuit's statement).

use alloy_primitives::{B256, keccak256};
use dpgnet_circuits::{Fp, native};

use super::circuits::fp_b256;

/// The workload shape and seed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Workload {
    /// Devnet seed.
    pub seed: u64,
    /// Sub-blocks per set.
    pub num_partial_proofs: u32,
    /// Transactions per sub-block.
    pub txs_per_sub_block: u32,
    /// Sub-block sets per block.
    pub num_sets: u32,
}

impl Workload {
    fn fp(&self, domain: &[u8], parts: &[u64]) -> Fp {
        let mut buf = domain.to_vec();
        buf.extend_from_slice(&self.seed.to_be_bytes());
        for p in parts {
            buf.extend_from_slice(&p.to_be_bytes());
        }
        native::fp_from_uniform(&keccak256(buf).0)
    }

    /// The transactions of sub-block `sub_block` of set `set` of block `block`.
    #[must_use]
    pub fn txs(&self, block: u64, set: u32, sub_block: u32) -> Vec<Fp> {
        (0..self.txs_per_sub_block)
            .map(|i| {
                self.fp(
                    b"dpgnet/tx",
                    &[block, u64::from(set), u64::from(sub_block), u64::from(i)],
                )
            })
            .collect()
    }

    /// All transactions of set `set` of block `block`, sub-blocks concatenated
    /// (the full proof's witness).
    #[must_use]
    pub fn set_txs(&self, block: u64, set: u32) -> Vec<Fp> {
        (0..self.num_partial_proofs)
            .flat_map(|sb| self.txs(block, set, sb))
            .collect()
    }

    /// The state roots of block `block`: per set, `num_partial_proofs + 1` roots;
    /// sets chain into each other. The block's first root is derived from the seed
    /// and the height.
    #[must_use]
    pub fn roots(&self, block: u64) -> Vec<Vec<B256>> {
        let mut root = self.fp(b"dpgnet/state", &[block]);
        let mut out = Vec::with_capacity(self.num_sets as usize);
        for set in 0..self.num_sets {
            let mut rs = vec![fp_b256(root)];
            for sb in 0..self.num_partial_proofs {
                root = native::chain_root(root, &self.txs(block, set, sb));
                rs.push(fp_b256(root));
            }
            out.push(rs);
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roots_chain_and_depend_on_block() {
        let w = Workload {
            seed: 7,
            num_partial_proofs: 4,
            txs_per_sub_block: 8,
            num_sets: 2,
        };
        let r = w.roots(3);
        assert_eq!(r.len(), 2);
        assert_eq!(r[0].len(), 5);
        assert_eq!(r[0][4], r[1][0], "sets chain");
        assert_ne!(w.roots(4)[0][0], r[0][0]);
        assert_eq!(w.roots(3), r);
    }
}
