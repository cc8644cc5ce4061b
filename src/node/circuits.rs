//! The circuit keys a node needs, and the bridge between protocol types (B256,
//! Address) and circuit types (Pallas `Fp`).
//!
//! DESIGN.md "Partial proof", "Full proof", "Aggregation (T3–T5)".

use std::sync::Arc;

use alloy_primitives::{Address, B256};
use dpgnet_circuits::{
    ChainKeys, ChainPublic, CircuitError, Fp, LinkKeys, LinkPublic, ParamsCache, native,
};

use crate::protocol::{Message, Verdict};

/// Proving and verifying keys for the three circuits of one devnet shape.
#[derive(Debug)]
pub struct Circuits {
    /// Partial proof: one sub-block of `txs_per_sub_block` transactions.
    pub partial: ChainKeys,
    /// Full proof: the whole set, `num_partial_proofs × txs_per_sub_block` transactions.
    pub full: ChainKeys,
    /// Link proof over `num_partial_proofs` sub-blocks.
    pub link: LinkKeys,
    /// Gigagas: the AggProof's link proof over `num_sub_block_sets` sets (`None`
    /// with one set).
    pub set_link: Option<LinkKeys>,
}

impl Circuits {
    /// Generate (or read from the on-disk params cache) the keys for a shape.
    /// Costs about 1–4 s at the default shape (params per k are cached on disk).
    ///
    /// # Errors
    /// [`CircuitError`] from key generation or the params cache.
    pub fn load(
        num_partial_proofs: u32,
        txs_per_sub_block: u32,
        num_sub_block_sets: u32,
        cache: &ParamsCache,
    ) -> Result<Arc<Self>, CircuitError> {
        let n = num_partial_proofs as usize;
        let t = txs_per_sub_block as usize;
        let sets = num_sub_block_sets as usize;
        Ok(Arc::new(Circuits {
            partial: ChainKeys::new(t, cache)?,
            full: ChainKeys::new(n * t, cache)?,
            link: LinkKeys::new(n, cache)?,
            set_link: if sets > 1 {
                Some(LinkKeys::new(sets, cache)?)
            } else {
                None
            },
        }))
    }

    /// Verify the proofs of `msg` as sent by `from`: every partial proof (halo2
    /// batch verification), a full proof, or an aggregation's link proof and inline
    /// partials. `set_roots` are the set's workload roots (the link proof's public
    /// chain). Commitments carry no proof and are always valid here.
    #[must_use]
    pub fn verify_message(
        &self,
        from: Address,
        msg: &Message,
        set_roots: Option<&[B256]>,
    ) -> Verdict {
        let prover = address_fp(from);
        let chain_pub = |rin: &B256, rout: &B256| -> Option<ChainPublic> {
            Some(ChainPublic {
                root_in: b256_fp(rin)?,
                root_out: b256_fp(rout)?,
                prover,
            })
        };
        let batch = |items: &[(&B256, &B256, &[u8])]| -> Result<(), String> {
            let mut publics = Vec::with_capacity(items.len());
            for (rin, rout, _) in items {
                publics.push(chain_pub(rin, rout).ok_or("root is not a field element")?);
            }
            let args: Vec<(ChainPublic, &[u8])> =
                publics.into_iter().zip(items.iter().map(|i| i.2)).collect();
            let ok = self.partial.batch_verify(&args);
            match ok.iter().position(|b| !b) {
                Some(i) => Err(format!("partial proof #{i} does not verify")),
                None => Ok(()),
            }
        };
        let result: Result<(), String> = match msg {
            Message::Commit(_) => Ok(()),
            Message::Partials(ps) => {
                if ps.is_empty() {
                    Err("no partial proofs".into())
                } else {
                    let items: Vec<_> = ps
                        .iter()
                        .map(|p| (&p.root_in, &p.root_out, p.proof.as_ref()))
                        .collect();
                    batch(&items)
                }
            }
            Message::FullProof(f) => match chain_pub(&f.root_in, &f.root_out) {
                Some(public) => self
                    .full
                    .verify(&public, &f.proof)
                    .map_err(|e| format!("full proof: {e}")),
                None => Err("root is not a field element".into()),
            },
            Message::Aggregate(a) => {
                let own: Vec<_> = a
                    .own
                    .iter()
                    .map(|p| (&p.root_in, &p.root_out, p.proof.as_ref()))
                    .collect();
                let own_ok = if own.is_empty() { Ok(()) } else { batch(&own) };
                own_ok.and_then(|()| {
                    let roots = set_roots.ok_or("unknown set roots")?;
                    let public =
                        link_public(roots, from, &a.bloom).ok_or("root is not a field element")?;
                    self.link
                        .verify(&public, &a.link_proof)
                        .map_err(|e| format!("link proof: {e}"))
                })
            }
            Message::AggProof(a) => match (&self.set_link, link_public(&a.roots, from, &a.bloom)) {
                (None, _) => Err("this devnet has one sub-block set: no AggProof circuit".into()),
                (_, None) => Err("root is not a field element".into()),
                (Some(keys), Some(public)) => keys
                    .verify(&public, &a.link_proof)
                    .map_err(|e| format!("AggProof link proof: {e}")),
            },
        };
        match result {
            Ok(()) => Verdict::Valid,
            Err(e) => Verdict::Invalid(e),
        }
    }
}

/// The link proof's public inputs: the set's chain of roots, the aggregator, and
/// the BloomHash reduced into the field.
#[must_use]
pub fn link_public(roots: &[B256], aggregator: Address, bloom: &B256) -> Option<LinkPublic> {
    let roots = roots.iter().map(b256_fp).collect::<Option<Vec<Fp>>>()?;
    Some(LinkPublic {
        roots,
        aggregator: address_fp(aggregator),
        bloom: native::fp_from_uniform(&bloom.0),
    })
}

/// An address as a field element (160 bits always fit).
#[must_use]
pub fn address_fp(a: Address) -> Fp {
    native::address_to_fp(&a.0.0)
}

/// A canonical field element from 32 bytes, `None` if non-canonical.
#[must_use]
pub fn b256_fp(b: &B256) -> Option<Fp> {
    native::fp_from_bytes(&b.0)
}

/// A field element as 32 bytes (canonical little-endian).
#[must_use]
pub fn fp_b256(x: Fp) -> B256 {
    B256::from(native::fp_to_bytes(x))
}
