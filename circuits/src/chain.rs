//! The chain circuit: a sub-block (partial proof) or whole-block (full proof)
//! state transition `root_out = chain_root(root_in, txs)`, bound to the prover.
//!
//! Spec: "Multi-phase Proof Generation / T2: Partial Proof Submission Phase"
//! (one proof per sub-block) and T1/T2 "optionally submit a full proof" (the
//! same circuit over every sub-block's transactions concatenated). The
//! prover's address is a public input ("Multi-phase Proof Generation / T1:
//! the proof must include the prover's public key as a public output to
//! prevent proof stealing").

use ff::Field;
use halo2_proofs::{
    circuit::{Layouter, SimpleFloorPlanner, Value},
    plonk::{Circuit, ConstraintSystem, Error},
};

use crate::{
    CircuitError, Fp,
    hash_chain::{HashChainChip, HashChainConfig, HashChainInstructions},
};

/// Instance row of the sub-block's input state root.
pub const ROW_ROOT_IN: usize = 0;
/// Instance row of the sub-block's output state root.
pub const ROW_ROOT_OUT: usize = 1;
/// Instance row of the prover's address (see [`crate::native::address_to_fp`]).
pub const ROW_PROVER: usize = 2;
/// Number of public inputs of the chain circuit (instance rows).
pub const CHAIN_INSTANCE_LEN: usize = 3;

/// Public inputs of a chain proof, in instance-column order
/// `[root_in, root_out, prover]`.
///
/// Spec: "Multi-phase Proof Generation / T1" — the prover's public key is a
/// public input, so a proof verified under another prover's address fails.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ChainPublic {
    /// State root before the transactions.
    pub root_in: Fp,
    /// State root after the transactions: `chain_root(root_in, txs)`.
    pub root_out: Fp,
    /// The prover's address as a field element ([`crate::native::address_to_fp`]).
    pub prover: Fp,
}

impl ChainPublic {
    /// The instance column: `[root_in, root_out, prover]` (3 rows).
    #[must_use]
    pub fn to_instance(&self) -> Vec<Fp> {
        vec![self.root_in, self.root_out, self.prover]
    }
}

/// The chain circuit over exactly `n_txs` private transactions.
///
/// Public inputs (one instance column): `[root_in, root_out, prover]`.
/// Constraints: `root_out == chain_root(root_in, txs)` with one Poseidon
/// `Pow5Chip` hash per transaction (about 41 rows each); `root_in` and
/// `prover` are copied from the instance column into advice cells, binding
/// the proof to that prover. The verifying key fixes `n_txs`: callers pad
/// sub-blocks to a fixed size.
#[derive(Clone, Debug)]
pub struct ChainCircuit {
    txs: Vec<Value<Fp>>,
}

impl ChainCircuit {
    /// A circuit with the given transactions as witness (`n_txs = txs.len()`).
    #[must_use]
    pub fn new(txs: &[Fp]) -> Self {
        Self {
            txs: txs.iter().copied().map(Value::known).collect(),
        }
    }

    /// The witness-free circuit of shape `n_txs`, for key generation.
    #[must_use]
    pub fn unknown(n_txs: usize) -> Self {
        Self {
            txs: vec![Value::unknown(); n_txs],
        }
    }

    /// Number of transactions this circuit hashes.
    #[must_use]
    pub fn n_txs(&self) -> usize {
        self.txs.len()
    }

    /// Smallest `k` (the circuit has `2^k` rows, including blinding rows) for
    /// which a chain circuit over `n_txs` transactions fits. Found by laying
    /// the circuit out with `MockProver` for increasing `k`: 9 for 8
    /// transactions, 10 for 16, 11 for 32.
    ///
    /// # Errors
    /// [`CircuitError::TooLarge`] above [`crate::MAX_K`].
    pub fn min_k(n_txs: usize) -> Result<u32, CircuitError> {
        let dummy = Self::new(&vec![Fp::ZERO; n_txs]);
        crate::keys::smallest_k(&dummy, &[Fp::ZERO; CHAIN_INSTANCE_LEN])
    }
}

impl Circuit<Fp> for ChainCircuit {
    type Config = HashChainConfig;
    type FloorPlanner = SimpleFloorPlanner;

    fn without_witnesses(&self) -> Self {
        Self::unknown(self.txs.len())
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

        // `prover` is only copied: the copy constraint alone makes the proof
        // invalid under any other address (anti-stealing).
        let public = chip.load_public(
            layouter.namespace(|| "root_in, prover"),
            &[ROW_ROOT_IN, ROW_PROVER],
        )?;
        let root_in = public[0].clone();

        let txs = chip.load_private(layouter.namespace(|| "txs"), &self.txs)?;
        let root_out = chip.fold(layouter.namespace(|| "chain"), root_in, &txs)?;
        chip.expose_public(layouter.namespace(|| "root_out"), &root_out, ROW_ROOT_OUT)
    }
}
