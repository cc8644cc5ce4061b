//! halo2 circuits of dpgnet: partial (sub-block) and full-block chain proofs,
//! aggregation link proofs, their keys, and the params cache.
//!
//! Proof system: Halo 2 (PLONK with IPA commitments over the Pasta curves, no
//! trusted setup; `halo2_proofs` 0.4). Circuits are over pallas [`Fp`] with
//! `vesta` params. Hashing is Poseidon `P128Pow5T3` (width 3, rate 2), the
//! same in-circuit ([`hash_chain`]) and natively ([`native`]).
//!
//! How the protocol (`distributed-proof-generation-spec`) maps onto it:
//!
//! - partial proof ("Multi-phase Proof Generation / T2"): a [`ChainCircuit`]
//!   over one sub-block of [`DEFAULT_SUB_BLOCK_TXS`] transactions, public
//!   inputs `[root_in, root_out, prover]`;
//! - full proof (T1/T2 "optionally submit a full proof"): the same circuit
//!   over the whole block's transactions (larger `n_txs` and `k`);
//! - link proof ("T3: Full Proof Aggregation Phase", BloomHash): a
//!   [`LinkCircuit`] binding the sub-block roots, the aggregator and the Bloom
//!   hash of reused partial proofs;
//! - anti-stealing ("the proof must include the prover's public key as a
//!   public output to prevent proof stealing", T1): the prover's / aggregator's
//!   address is a public input copied into the circuit.
//!
//! Entry points: [`ParamsCache`] → [`ChainKeys`] / [`LinkKeys`] →
//! `prove` / `verify` / `batch_verify`. Every call blocks; use
//! `spawn_blocking` from async code.

pub mod chain;
pub mod error;
pub mod hash_chain;
pub mod keys;
pub mod link;
pub mod native;
pub mod params;

pub use halo2_proofs::pasta::Fp;

pub use chain::{ChainCircuit, ChainPublic};
pub use error::CircuitError;
pub use keys::{ChainKeys, LinkKeys};
pub use link::{LinkCircuit, LinkPublic};
pub use params::ParamsCache;

/// Default padded sub-block size (transactions per partial proof): a chain
/// circuit of 8 hashes fits in `k = 9` (512 rows).
pub const DEFAULT_SUB_BLOCK_TXS: usize = 8;

/// Largest `k` (log2 of circuit rows) this crate will size a circuit to or
/// generate params for: `2^18` rows, about 6,000 transactions in one chain
/// proof; `Params::new(18)` takes minutes and 17 MB on disk.
pub const MAX_K: u32 = 18;
