//! The Poseidon hash-chain chip shared by the chain and link circuits:
//! load cells (private or copied from the instance column), `hash2` them with
//! the `halo2_gadgets` `Pow5Chip`, and expose results as public inputs.
//!
//! Layout: three advice columns (the Poseidon state, all equality-enabled),
//! one advice column for the partial S-box, six fixed columns of round
//! constants (one of them also holds global constants), one instance column.
//! One `hash2` takes about 41 rows.

use halo2_gadgets::poseidon::{
    Hash, Pow5Chip, Pow5Config,
    primitives::{ConstantLength, P128Pow5T3},
};
use halo2_proofs::{
    circuit::{AssignedCell, Chip, Layouter, Value},
    plonk::{Advice, Column, ConstraintSystem, Error, Instance},
};

use crate::Fp;

/// Poseidon width (state size) used everywhere in this crate.
const WIDTH: usize = 3;
/// Poseidon rate (field elements absorbed per permutation).
const RATE: usize = 2;

/// A cell holding a field element inside a circuit.
pub type Var = AssignedCell<Fp, Fp>;

/// Columns of the hash-chain chip.
#[derive(Clone, Debug)]
pub struct HashChainConfig {
    /// Poseidon state columns; also used to load inputs.
    state: [Column<Advice>; WIDTH],
    /// The circuit's single public-input column.
    instance: Column<Instance>,
    /// The Poseidon `Pow5Chip` configuration.
    poseidon: Pow5Config<Fp, WIDTH, RATE>,
}

/// What the chain and link circuits need: a Poseidon hash chain over cells
/// that come from the witness or from the public inputs.
///
/// # Errors
/// Every method returns halo2's synthesis error, e.g.
/// `Error::NotEnoughRowsAvailable` when the circuit does not fit in `2^k` rows.
#[allow(clippy::missing_errors_doc)]
pub trait HashChainInstructions: Chip<Fp> {
    /// Witnesses private values (e.g. the transactions of a sub-block), laid
    /// out three per row. Returns one cell per value, in order.
    fn load_private(
        &self,
        layouter: impl Layouter<Fp>,
        values: &[Value<Fp>],
    ) -> Result<Vec<Var>, Error>;

    /// Copies the given rows of the instance column into advice cells (with a
    /// copy constraint), so that the proof is valid only for those public
    /// inputs. Returns one cell per row, in order.
    fn load_public(&self, layouter: impl Layouter<Fp>, rows: &[usize]) -> Result<Vec<Var>, Error>;

    /// `hash2(a, b)`: Poseidon `P128Pow5T3`, `ConstantLength<2>`.
    fn hash2(&self, layouter: impl Layouter<Fp>, a: Var, b: Var) -> Result<Var, Error>;

    /// Folds `hash2` over `items` starting from `init`
    /// (same as [`crate::native::chain_root`]).
    fn fold(
        &self,
        mut layouter: impl Layouter<Fp>,
        init: Var,
        items: &[Var],
    ) -> Result<Var, Error> {
        items.iter().enumerate().try_fold(init, |acc, (i, item)| {
            self.hash2(
                layouter.namespace(|| format!("hash2 #{i}")),
                acc,
                item.clone(),
            )
        })
    }

    /// Constrains `var` to equal the public input at `row` of the instance column.
    fn expose_public(
        &self,
        layouter: impl Layouter<Fp>,
        var: &Var,
        row: usize,
    ) -> Result<(), Error>;
}

/// The hash-chain chip (see [`HashChainInstructions`]).
#[derive(Clone, Debug)]
pub struct HashChainChip {
    config: HashChainConfig,
}

impl HashChainChip {
    /// Allocates the columns (4 advice, 6 fixed, 1 instance) and configures
    /// the Poseidon gadget.
    pub fn configure(meta: &mut ConstraintSystem<Fp>) -> HashChainConfig {
        let state = [(); WIDTH].map(|()| meta.advice_column());
        let partial_sbox = meta.advice_column();
        let rc_a = [(); WIDTH].map(|()| meta.fixed_column());
        let rc_b = [(); WIDTH].map(|()| meta.fixed_column());
        let instance = meta.instance_column();

        meta.enable_equality(instance);
        // The sponge's initial capacity word is a constant.
        meta.enable_constant(rc_b[0]);

        let poseidon = Pow5Chip::configure::<P128Pow5T3>(meta, state, partial_sbox, rc_a, rc_b);

        HashChainConfig {
            state,
            instance,
            poseidon,
        }
    }

    /// Builds the chip from its configuration.
    #[must_use]
    pub fn construct(config: HashChainConfig) -> Self {
        Self { config }
    }
}

impl Chip<Fp> for HashChainChip {
    type Config = HashChainConfig;
    type Loaded = ();

    fn config(&self) -> &Self::Config {
        &self.config
    }

    fn loaded(&self) -> &Self::Loaded {
        &()
    }
}

impl HashChainInstructions for HashChainChip {
    fn load_private(
        &self,
        mut layouter: impl Layouter<Fp>,
        values: &[Value<Fp>],
    ) -> Result<Vec<Var>, Error> {
        let state = self.config.state;
        layouter.assign_region(
            || "load private",
            |mut region| {
                values
                    .iter()
                    .enumerate()
                    .map(|(i, value)| {
                        region.assign_advice(
                            || format!("private {i}"),
                            state[i % WIDTH],
                            i / WIDTH,
                            || *value,
                        )
                    })
                    .collect()
            },
        )
    }

    fn load_public(
        &self,
        mut layouter: impl Layouter<Fp>,
        rows: &[usize],
    ) -> Result<Vec<Var>, Error> {
        let HashChainConfig {
            state, instance, ..
        } = self.config;
        layouter.assign_region(
            || "load public",
            |mut region| {
                rows.iter()
                    .enumerate()
                    .map(|(i, row)| {
                        region.assign_advice_from_instance(
                            || format!("public row {row}"),
                            instance,
                            *row,
                            state[i % WIDTH],
                            i / WIDTH,
                        )
                    })
                    .collect()
            },
        )
    }

    fn hash2(&self, mut layouter: impl Layouter<Fp>, a: Var, b: Var) -> Result<Var, Error> {
        // `Hash::init` consumes the chip and `hash` consumes the hasher: one chip per hash.
        let chip = Pow5Chip::construct(self.config.poseidon.clone());
        let hasher = Hash::<_, _, P128Pow5T3, ConstantLength<2>, WIDTH, RATE>::init(
            chip,
            layouter.namespace(|| "init"),
        )?;
        hasher.hash(layouter.namespace(|| "hash"), [a, b])
    }

    fn expose_public(
        &self,
        mut layouter: impl Layouter<Fp>,
        var: &Var,
        row: usize,
    ) -> Result<(), Error> {
        layouter.constrain_instance(var.cell(), self.config.instance, row)
    }
}
