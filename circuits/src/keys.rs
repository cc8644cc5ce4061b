//! Proving and verifying keys per circuit shape, and the prove / verify /
//! batch-verify calls the protocol makes.
//!
//! Keys are built once per shape (`n_txs` for chain proofs, `n_sub_blocks`
//! for link proofs) and shared behind an `Arc` across tasks: every method
//! takes `&self`. All calls block (CPU-bound, up to about a second): call
//! them from `spawn_blocking` in async code.

use std::{fmt, io, sync::Arc, time::Instant};

use blake2::{Blake2b, Digest, digest::consts::U32};
use ff::Field;
use group::{CurveAffine, GroupEncoding};
use halo2_proofs::{
    dev::MockProver,
    pasta::EqAffine,
    plonk::{
        BatchVerifier, Circuit, Error, ProvingKey, SingleVerifier, VerifyingKey, create_proof,
        keygen_pk, keygen_vk, verify_proof,
    },
    transcript::{Blake2bRead, Blake2bWrite, Challenge255},
};
use rand::rngs::SysRng;
use rand_core::UnwrapErr;
use tracing::debug;

use crate::{
    CircuitError, Fp, MAX_K,
    chain::{ChainCircuit, ChainPublic},
    link::{LinkCircuit, LinkPublic},
    native,
    params::{ParamsCache, VestaParams},
};

/// Smallest `k` tried when sizing a circuit.
const MIN_K: u32 = 4;

/// Smallest `k` in `MIN_K..=MAX_K` for which `circuit` (with a witness) lays
/// out, found with `MockProver::run` (which enforces the same usable-row
/// limit, `2^k - blinding_factors - 1`, as key generation).
pub(crate) fn smallest_k<C: Circuit<Fp>>(
    circuit: &C,
    instance: &[Fp],
) -> Result<u32, CircuitError> {
    for k in MIN_K..=MAX_K {
        match MockProver::run(k, circuit, vec![instance.to_vec()]) {
            Ok(_) => return Ok(k),
            Err(Error::NotEnoughRowsAvailable { .. } | Error::InstanceTooLarge) => {}
            Err(e) => return Err(CircuitError::synthesis(&e)),
        }
    }
    Err(CircuitError::TooLarge { max_k: MAX_K })
}

/// Keys of one circuit shape plus the facts derived from them.
struct KeyPair {
    params: Arc<VestaParams>,
    /// Holds the verifying key too (`pk.get_vk()`).
    pk: ProvingKey<EqAffine>,
    k: u32,
    /// Exact length of every proof for this key, in bytes.
    proof_len: usize,
    vk_digest: String,
}

impl KeyPair {
    fn new<C: Circuit<Fp>>(
        circuit: &C,
        k: u32,
        instance_len: usize,
        cache: &ParamsCache,
    ) -> Result<Self, CircuitError> {
        let params = cache.get(k)?;
        let started = Instant::now();
        let vk = keygen_vk(&params, circuit).map_err(|e| CircuitError::synthesis(&e))?;
        let pk = keygen_pk(&params, vk, circuit).map_err(|e| CircuitError::synthesis(&e))?;
        let vk_digest = digest_vk(pk.get_vk());
        let proof_len = measure_proof_len(&params, pk.get_vk(), instance_len);
        debug!(
            target: "dpgnet::circuits::keys",
            k,
            proof_len,
            vk_digest = %vk_digest,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "keys generated"
        );
        Ok(Self {
            params,
            pk,
            k,
            proof_len,
            vk_digest,
        })
    }

    fn prove<C: Circuit<Fp>>(&self, circuit: C, instance: &[Fp]) -> Result<Vec<u8>, CircuitError> {
        let started = Instant::now();
        let mut transcript =
            Blake2bWrite::<_, EqAffine, Challenge255<_>>::init(Vec::with_capacity(self.proof_len));
        create_proof(
            &self.params,
            &self.pk,
            &[circuit],
            &[&[instance]],
            UnwrapErr(SysRng),
            &mut transcript,
        )
        .map_err(|e| CircuitError::synthesis(&e))?;
        let proof = transcript.finalize();
        debug!(
            target: "dpgnet::circuits::keys",
            k = self.k,
            bytes = proof.len(),
            elapsed_ms = started.elapsed().as_millis() as u64,
            "proved"
        );
        if proof.len() != self.proof_len {
            return Err(CircuitError::Synthesis(format!(
                "proof is {} bytes, the key predicts {}",
                proof.len(),
                self.proof_len
            )));
        }
        Ok(proof)
    }

    fn check_len(&self, proof: &[u8]) -> Result<(), CircuitError> {
        if proof.len() == self.proof_len {
            Ok(())
        } else {
            Err(CircuitError::Malformed(format!(
                "proof is {} bytes, expected {}",
                proof.len(),
                self.proof_len
            )))
        }
    }

    fn verify(&self, instance: &[Fp], proof: &[u8]) -> Result<(), CircuitError> {
        self.check_len(proof)?;
        let strategy = SingleVerifier::new(&self.params);
        let mut transcript = Blake2bRead::<_, EqAffine, Challenge255<_>>::init(proof);
        verify_proof(
            &self.params,
            self.pk.get_vk(),
            strategy,
            &[&[instance]],
            &mut transcript,
        )
        .map_err(CircuitError::verification)
    }

    fn batch_verify(&self, items: &[(Vec<Fp>, &[u8])]) -> Vec<bool> {
        let mut valid = vec![false; items.len()];
        let mut batch = BatchVerifier::new();
        let mut in_batch = Vec::with_capacity(items.len());
        for (i, (instance, proof)) in items.iter().enumerate() {
            // Wrong-length proofs are invalid without any curve arithmetic.
            if self.check_len(proof).is_ok() {
                batch.add_proof(vec![vec![instance.clone()]], proof.to_vec());
                in_batch.push(i);
            }
        }
        if in_batch.is_empty() {
            return valid;
        }
        let started = Instant::now();
        let all_ok = batch.finalize(&self.params, self.pk.get_vk());
        debug!(
            target: "dpgnet::circuits::keys",
            k = self.k,
            proofs = in_batch.len(),
            all_ok,
            elapsed_ms = started.elapsed().as_millis() as u64,
            "batch verified"
        );
        for i in in_batch {
            // `finalize` only says "some proof is bad": find which one by one.
            valid[i] = all_ok || {
                let (instance, proof) = &items[i];
                self.verify(instance, proof).is_ok()
            };
        }
        valid
    }
}

/// Hex of blake2b-256 over `format!("{:?}", vk.pinned())`.
fn digest_vk(vk: &VerifyingKey<EqAffine>) -> String {
    let pinned = format!("{:?}", vk.pinned());
    hex::encode(Blake2b::<U32>::digest(pinned.as_bytes()))
}

/// Number of bytes the verifier reads for this key: every proof for a given
/// verifying key has the same length. Measured by running the verifier on an
/// endless stream of one 32-byte word that decodes both as a (non-identity)
/// vesta point and as a canonical scalar, so every read succeeds; the final
/// check then fails, which is expected.
fn measure_proof_len(
    params: &VestaParams,
    vk: &VerifyingKey<EqAffine>,
    instance_len: usize,
) -> usize {
    /// Reader yielding `word` forever and counting the bytes read.
    struct Filler {
        word: [u8; 32],
        read: usize,
    }
    impl io::Read for Filler {
        fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
            for b in buf.iter_mut() {
                *b = self.word[self.read % 32];
                self.read += 1;
            }
            Ok(buf.len())
        }
    }

    let word = (1u64..=1024)
        .map(|x| {
            let mut word = [0u8; 32];
            word[..8].copy_from_slice(&x.to_le_bytes());
            word
        })
        .find(|word| {
            let point: Option<EqAffine> = EqAffine::from_bytes(word).into();
            point.is_some_and(|p| !bool::from(p.is_identity()))
        })
        .expect("about half of all x coordinates are on the curve");

    let mut filler = Filler { word, read: 0 };
    let instance = vec![Fp::ONE; instance_len];
    let mut transcript = Blake2bRead::<_, EqAffine, Challenge255<_>>::init(&mut filler);
    let outcome = verify_proof(
        params,
        vk,
        SingleVerifier::new(params),
        &[&[&instance]],
        &mut transcript,
    );
    debug_assert!(outcome.is_err(), "a constant word is not a valid proof");
    filler.read
}

/// Keys for the chain circuit with a fixed number of transactions: partial
/// proofs of one sub-block ("Multi-phase Proof Generation / T2", `n_txs` = the
/// padded sub-block size, [`crate::DEFAULT_SUB_BLOCK_TXS`]) or full proofs of a
/// whole block (T1/T2 "optionally submit a full proof", `n_txs` = all
/// sub-blocks' transactions).
///
/// Holds the shared params, the proving key (which holds the verifying key),
/// `k` and `n_txs`. `Send + Sync`: share it behind an `Arc`.
pub struct ChainKeys {
    keys: KeyPair,
    n_txs: usize,
}

impl fmt::Debug for ChainKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ChainKeys")
            .field("n_txs", &self.n_txs)
            .field("k", &self.keys.k)
            .field("proof_len", &self.keys.proof_len)
            .field("vk_digest", &self.keys.vk_digest)
            .finish_non_exhaustive()
    }
}

impl ChainKeys {
    /// Generates keys for `n_txs` transactions at the smallest `k` that fits
    /// (see [`ChainCircuit::min_k`]: 9 for 8 txs, 10 for 16, 11 for 32), with
    /// params from `cache`. Takes about 0.1–0.5 s plus params generation on
    /// the first use of a `k`.
    ///
    /// # Errors
    /// [`CircuitError::Params`] if the params cannot be loaded or stored,
    /// [`CircuitError::TooLarge`] above [`crate::MAX_K`],
    /// [`CircuitError::Synthesis`] if key generation fails.
    pub fn new(n_txs: usize, cache: &ParamsCache) -> Result<Self, CircuitError> {
        let k = ChainCircuit::min_k(n_txs)?;
        let keys = KeyPair::new(
            &ChainCircuit::unknown(n_txs),
            k,
            crate::chain::CHAIN_INSTANCE_LEN,
            cache,
        )?;
        Ok(Self { keys, n_txs })
    }

    /// log2 of the number of rows of the circuit.
    #[must_use]
    pub fn k(&self) -> u32 {
        self.keys.k
    }

    /// Number of transactions per proof, fixed by the verifying key.
    #[must_use]
    pub fn n_txs(&self) -> usize {
        self.n_txs
    }

    /// Length in bytes of every proof for these keys (about 2.4 KB).
    #[must_use]
    pub fn proof_len(&self) -> usize {
        self.keys.proof_len
    }

    /// Hex blake2b-256 of the pinned verifying key (`format!("{:?}", vk.pinned())`):
    /// identifies the circuit shape; changes whenever the circuit changes.
    #[must_use]
    pub fn vk_digest(&self) -> String {
        self.keys.vk_digest.clone()
    }

    /// The verifying key.
    #[must_use]
    pub fn vk(&self) -> &VerifyingKey<EqAffine> {
        self.keys.pk.get_vk()
    }

    /// The public parameters (shared with other keys of the same `k`).
    #[must_use]
    pub fn params(&self) -> &Arc<VestaParams> {
        &self.keys.params
    }

    /// Proves `root_out = chain_root(root_in, txs)` bound to `prover`
    /// (an address from [`native::address_to_fp`]). Returns `root_out` and
    /// the proof ([`Self::proof_len`] bytes).
    ///
    /// # Errors
    /// [`CircuitError::Shape`] if `txs.len() != n_txs`;
    /// [`CircuitError::Synthesis`] if proving fails.
    pub fn prove(
        &self,
        root_in: Fp,
        txs: &[Fp],
        prover: Fp,
    ) -> Result<(Fp, Vec<u8>), CircuitError> {
        if txs.len() != self.n_txs {
            return Err(CircuitError::Shape {
                expected: self.n_txs,
                got: txs.len(),
            });
        }
        let public = ChainPublic {
            root_in,
            root_out: native::chain_root(root_in, txs),
            prover,
        };
        let proof = self
            .keys
            .prove(ChainCircuit::new(txs), &public.to_instance())?;
        Ok((public.root_out, proof))
    }

    /// Verifies one proof against its public inputs (about 5–25 ms).
    ///
    /// # Errors
    /// [`CircuitError::Malformed`] for undecodable bytes (wrong length,
    /// invalid encodings); [`CircuitError::InvalidProof`] if the proof does not
    /// verify for these inputs (e.g. another prover's address).
    pub fn verify(&self, public: &ChainPublic, proof: &[u8]) -> Result<(), CircuitError> {
        self.keys.verify(&public.to_instance(), proof)
    }

    /// Verifies many proofs with one halo2 `BatchVerifier` (one multi-scalar
    /// multiplication for all, several times cheaper per proof than
    /// [`Self::verify`]). If the batch fails, each proof is re-verified alone
    /// to find the bad ones. Returns one `bool` per item, in order; empty
    /// input gives an empty vector.
    #[must_use]
    pub fn batch_verify(&self, items: &[(ChainPublic, &[u8])]) -> Vec<bool> {
        let items: Vec<(Vec<Fp>, &[u8])> = items
            .iter()
            .map(|(public, proof)| (public.to_instance(), *proof))
            .collect();
        self.keys.batch_verify(&items)
    }
}

/// Keys for the link circuit over a fixed number of sub-blocks ("T3: Full
/// Proof Aggregation Phase", "Extension for Multiple Sub-blocks (Gigagas)").
///
/// Holds the shared params, the proving key (which holds the verifying key),
/// `k` and `n_sub_blocks`. `Send + Sync`: share it behind an `Arc`.
pub struct LinkKeys {
    keys: KeyPair,
    n_sub_blocks: usize,
}

impl fmt::Debug for LinkKeys {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LinkKeys")
            .field("n_sub_blocks", &self.n_sub_blocks)
            .field("k", &self.keys.k)
            .field("proof_len", &self.keys.proof_len)
            .field("vk_digest", &self.keys.vk_digest)
            .finish_non_exhaustive()
    }
}

impl LinkKeys {
    /// Generates keys for `n_sub_blocks` sub-blocks at the smallest `k` that
    /// fits (see [`LinkCircuit::min_k`]: 9 for 4 sub-blocks).
    ///
    /// # Errors
    /// As [`ChainKeys::new`].
    pub fn new(n_sub_blocks: usize, cache: &ParamsCache) -> Result<Self, CircuitError> {
        let k = LinkCircuit::min_k(n_sub_blocks)?;
        let circuit = LinkCircuit::new(n_sub_blocks);
        let keys = KeyPair::new(&circuit, k, circuit.instance_len(), cache)?;
        Ok(Self { keys, n_sub_blocks })
    }

    /// log2 of the number of rows of the circuit.
    #[must_use]
    pub fn k(&self) -> u32 {
        self.keys.k
    }

    /// Number of sub-blocks per link proof (`n_sub_blocks + 1` roots).
    #[must_use]
    pub fn n_sub_blocks(&self) -> usize {
        self.n_sub_blocks
    }

    /// Length in bytes of every proof for these keys.
    #[must_use]
    pub fn proof_len(&self) -> usize {
        self.keys.proof_len
    }

    /// Hex blake2b-256 of the pinned verifying key (see [`ChainKeys::vk_digest`]).
    #[must_use]
    pub fn vk_digest(&self) -> String {
        self.keys.vk_digest.clone()
    }

    /// The verifying key.
    #[must_use]
    pub fn vk(&self) -> &VerifyingKey<EqAffine> {
        self.keys.pk.get_vk()
    }

    /// The public parameters (shared with other keys of the same `k`).
    #[must_use]
    pub fn params(&self) -> &Arc<VestaParams> {
        &self.keys.params
    }

    fn check_shape(&self, public: &LinkPublic) -> Result<(), CircuitError> {
        if public.roots.len() == self.n_sub_blocks + 1 {
            Ok(())
        } else {
            Err(CircuitError::Shape {
                expected: self.n_sub_blocks + 1,
                got: public.roots.len(),
            })
        }
    }

    /// Proves `digest = link_digest(roots, aggregator, bloom)`; the digest is
    /// computed here, never passed in.
    ///
    /// # Errors
    /// [`CircuitError::Shape`] if `roots.len() != n_sub_blocks + 1`;
    /// [`CircuitError::Synthesis`] if proving fails.
    pub fn prove(&self, public: &LinkPublic) -> Result<Vec<u8>, CircuitError> {
        self.check_shape(public)?;
        self.keys
            .prove(LinkCircuit::new(self.n_sub_blocks), &public.to_instance())
    }

    /// Verifies a link proof; the digest is recomputed from `public`.
    ///
    /// # Errors
    /// [`CircuitError::Shape`] for the wrong number of roots, otherwise as
    /// [`ChainKeys::verify`].
    pub fn verify(&self, public: &LinkPublic, proof: &[u8]) -> Result<(), CircuitError> {
        self.check_shape(public)?;
        self.keys.verify(&public.to_instance(), proof)
    }
}

/// Keys are shared across tokio tasks behind an `Arc`.
const _: () = {
    const fn assert_send_sync<T: Send + Sync>() {}
    assert_send_sync::<ChainKeys>();
    assert_send_sync::<LinkKeys>();
    assert_send_sync::<ParamsCache>();
};
