//! The one error type of this crate: every fallible call returns [`CircuitError`].

/// Why building keys, proving or verifying failed.
///
/// Verification never panics on bad input: undecodable bytes give
/// [`CircuitError::Malformed`], well-formed bytes that do not verify give
/// [`CircuitError::InvalidProof`].
#[derive(Debug, thiserror::Error)]
pub enum CircuitError {
    /// The input does not have the shape the keys were built for: e.g.
    /// `txs.len()` differs from the key's `n_txs` (a partial proof covers
    /// exactly one padded sub-block), or a link statement has the wrong number
    /// of sub-block roots (`n_sub_blocks + 1` expected).
    #[error("shape mismatch: the keys expect {expected} items, got {got}")]
    Shape {
        /// Number of items the verifying key fixes.
        expected: usize,
        /// Number of items supplied.
        got: usize,
    },
    /// The circuit needs more than `2^max_k` rows; proving it would need
    /// unreasonably large parameters.
    #[error("the circuit does not fit in 2^{max_k} rows")]
    TooLarge {
        /// Largest `k` (log2 of the row count) this crate will use.
        max_k: u32,
    },
    /// The proof decodes but does not verify: wrong public inputs (another
    /// prover's address, other roots, another Bloom hash) or tampered bytes.
    #[error("proof does not verify against these public inputs")]
    InvalidProof,
    /// The proof bytes cannot be decoded: wrong length (truncated, empty,
    /// trailing bytes) or a non-canonical point or scalar encoding.
    #[error("malformed proof: {0}")]
    Malformed(String),
    /// Key generation or proving failed inside halo2 (e.g. the witness does
    /// not satisfy the circuit, or `k` is too small). Carries halo2's message.
    #[error("circuit synthesis failed: {0}")]
    Synthesis(String),
    /// Reading, generating or writing the public parameters (the IPA
    /// commitment key, `params-k{k}.bin`) failed.
    #[error("public parameters: {0}")]
    Params(#[source] std::io::Error),
}

impl CircuitError {
    /// Maps a halo2 error raised while building keys or proving.
    pub(crate) fn synthesis(err: &halo2_proofs::plonk::Error) -> Self {
        CircuitError::Synthesis(err.to_string())
    }

    /// Maps a halo2 error raised while verifying one proof.
    pub(crate) fn verification(err: halo2_proofs::plonk::Error) -> Self {
        use halo2_proofs::plonk::Error;
        match err {
            Error::Transcript(io) => CircuitError::Malformed(io.to_string()),
            Error::InvalidInstances | Error::InstanceTooLarge => {
                CircuitError::Malformed(err.to_string())
            }
            _ => CircuitError::InvalidProof,
        }
    }
}
