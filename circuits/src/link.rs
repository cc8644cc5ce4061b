//! The link circuit: the small aggregation proof binding the chain of
//! sub-block roots, the aggregator's address and the Bloom hash of reused
//! partial proofs into one digest.
//!
//! Spec: "T3: Full Proof Aggregation Phase" — "any prover may submit a full
//! proof, including a `BloomHash` summarizing reused partial proofs" — and
//! "Extension for Multiple Sub-blocks (Gigagas)": aggregators combine
//! sub-blocks into a full block.

use ff::Field;
use halo2_proofs::{
    circuit::{Layouter, SimpleFloorPlanner},
    plonk::{Circuit, ConstraintSystem, Error},
};

use crate::{
    CircuitError, Fp,
    hash_chain::{HashChainChip, HashChainConfig, HashChainInstructions},
    native,
};

/// Public inputs of a link proof (the digest is derived, never passed).
///
/// Instance column, `n + 4` rows for `n` sub-blocks:
/// `[roots[0], …, roots[n], aggregator, bloom, digest]` with
/// `digest = link_digest(roots, aggregator, bloom)`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct LinkPublic {
    /// The `n + 1` state roots delimiting `n` sub-blocks:
    /// sub-block `i` goes from `roots[i]` to `roots[i + 1]`.
    pub roots: Vec<Fp>,
    /// The aggregator's address ([`crate::native::address_to_fp`]).
    pub aggregator: Fp,
    /// `BloomHash` summarizing the reused partial proofs (spec T3), as a field element.
    pub bloom: Fp,
}

impl LinkPublic {
    /// Number of sub-blocks this statement covers (`roots.len() - 1`, or 0).
    #[must_use]
    pub fn n_sub_blocks(&self) -> usize {
        self.roots.len().saturating_sub(1)
    }

    /// `link_digest(roots, aggregator, bloom)` ([`crate::native::link_digest`]).
    #[must_use]
    pub fn digest(&self) -> Fp {
        native::link_digest(&self.roots, self.aggregator, self.bloom)
    }

    /// The instance column: `[roots.., aggregator, bloom, digest]` (`n + 4` rows).
    #[must_use]
    pub fn to_instance(&self) -> Vec<Fp> {
        let mut instance = self.roots.clone();
        instance.extend([self.aggregator, self.bloom, self.digest()]);
        instance
    }
}

/// The link circuit for `n` sub-blocks.
///
/// Public inputs: `[roots[0..=n], aggregator, bloom, digest]` (`n + 4` rows).
/// Every input is copied from the instance column into advice cells and
/// `digest == link_digest(roots, aggregator, bloom)` is computed in-circuit
/// with `n + 2` Poseidon hashes (about 41 rows each). There is no private
/// witness. The verifying key fixes `n`.
#[derive(Clone, Debug)]
pub struct LinkCircuit {
    n_sub_blocks: usize,
}

impl LinkCircuit {
    /// The link circuit over `n_sub_blocks` sub-blocks (`n_sub_blocks + 1` roots).
    #[must_use]
    pub fn new(n_sub_blocks: usize) -> Self {
        Self { n_sub_blocks }
    }

    /// Number of sub-blocks (the shape fixed by the verifying key).
    #[must_use]
    pub fn n_sub_blocks(&self) -> usize {
        self.n_sub_blocks
    }

    /// Number of public inputs: `n_sub_blocks + 4`.
    #[must_use]
    pub fn instance_len(&self) -> usize {
        self.n_sub_blocks + 4
    }

    /// Smallest `k` (`2^k` rows, including blinding rows) for which the link
    /// circuit over `n_sub_blocks` fits (9 for 4 sub-blocks).
    ///
    /// # Errors
    /// [`CircuitError::TooLarge`] above [`crate::MAX_K`].
    pub fn min_k(n_sub_blocks: usize) -> Result<u32, CircuitError> {
        let circuit = Self::new(n_sub_blocks);
        let public = LinkPublic {
            roots: vec![Fp::ZERO; n_sub_blocks + 1],
            aggregator: Fp::ZERO,
            bloom: Fp::ZERO,
        };
        crate::keys::smallest_k(&circuit, &public.to_instance())
    }
}

impl Circuit<Fp> for LinkCircuit {
    type Config = HashChainConfig;
    type FloorPlanner = SimpleFloorPlanner;

    fn without_witnesses(&self) -> Self {
        self.clone()
    }

    fn configure(meta: &mut ConstraintSystem<Fp>) -> Self::Config {
        HashChainChip::configure(meta)
    }

    fn synthesize(
        &self,
        config: Self::Config,
        mut layouter: impl Layouter<Fp>,
    ) -> Result<(), Error> {
        let chip = HashChainChip::construct(config);
        let n = self.n_sub_blocks;

        // roots[0..=n], aggregator (row n + 1), bloom (row n + 2).
        let rows: Vec<usize> = (0..n + 3).collect();
        let public = chip.load_public(layouter.namespace(|| "roots, aggregator, bloom"), &rows)?;
        let (first, rest) = public.split_first().ok_or(Error::Synthesis)?;

        let digest = chip.fold(layouter.namespace(|| "link digest"), first.clone(), rest)?;
        chip.expose_public(layouter.namespace(|| "digest"), &digest, n + 3)
    }
}
