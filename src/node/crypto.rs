//! Node keys and signed messages (secp256k1 via alloy).
//!
//! DESIGN.md "Keys": every node has a secp256k1 key; its address is its identity;
//! every submission is signed. A [`Signed`] envelope signs
//! `keccak256("dpgnet/v1/" ‖ kind ‖ serde_json(payload))`, so a signature for one
//! kind of payload can never be replayed as another.

use alloy_primitives::{Address, B256, Bytes, Signature, keccak256};
use alloy_signer::SignerSync;
use alloy_signer_local::PrivateKeySigner;
use serde::{Deserialize, Serialize, de::DeserializeOwned};

use crate::protocol::Role;

/// Signature failures.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum CryptoError {
    /// The signature bytes are not a 65-byte secp256k1 signature.
    #[error("malformed signature: {0}")]
    Malformed(String),
    /// The signature recovers to a different address than the claimed signer
    /// (forged, or the payload was altered after signing).
    #[error("signature recovers to {recovered}, not the claimed signer {claimed}")]
    WrongSigner {
        /// Claimed signer.
        claimed: Address,
        /// Recovered address.
        recovered: Address,
    },
    /// The payload could not be serialized.
    #[error("payload: {0}")]
    Payload(String),
}

/// A node's secp256k1 key.
#[derive(Clone)]
pub struct NodeKey {
    signer: PrivateKeySigner,
}

impl std::fmt::Debug for NodeKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "NodeKey({})", self.address())
    }
}

impl NodeKey {
    /// The devnet key of node `index` of `role`: the private key is
    /// `keccak256("dpgnet/key" ‖ seed ‖ role ‖ index)` (re-hashed in the negligible
    /// case that it is not a valid scalar). Devnet keys are reproducible by design;
    /// never use them for value.
    #[must_use]
    pub fn derive(seed: u64, role: Role, index: u32) -> Self {
        let mut buf = b"dpgnet/key".to_vec();
        buf.extend_from_slice(&seed.to_be_bytes());
        buf.push(role as u8);
        buf.extend_from_slice(&index.to_be_bytes());
        let mut sk = keccak256(&buf);
        loop {
            if let Ok(signer) = PrivateKeySigner::from_bytes(&sk) {
                return NodeKey { signer };
            }
            sk = keccak256(sk);
        }
    }

    /// A key from 32 secret bytes (hex in container env).
    ///
    /// # Errors
    /// [`CryptoError::Malformed`] when the bytes are not a valid scalar.
    pub fn from_secret(secret: &B256) -> Result<Self, CryptoError> {
        PrivateKeySigner::from_bytes(secret)
            .map(|signer| NodeKey { signer })
            .map_err(|e| CryptoError::Malformed(e.to_string()))
    }

    /// The 32 secret bytes (to hand a key to a container).
    #[must_use]
    pub fn secret(&self) -> B256 {
        B256::from_slice(&self.signer.credential().to_bytes())
    }

    /// The node's address.
    #[must_use]
    pub fn address(&self) -> Address {
        self.signer.address()
    }

    /// Sign a 32-byte digest; returns the 65-byte signature.
    #[must_use]
    pub fn sign_digest(&self, digest: &B256) -> Bytes {
        let sig = self
            .signer
            .sign_hash_sync(digest)
            .expect("local signing cannot fail");
        Bytes::copy_from_slice(&sig.as_bytes())
    }

    /// Sign `payload` of `kind` into a [`Signed`] envelope.
    ///
    /// # Errors
    /// [`CryptoError::Payload`] if the payload cannot be serialized.
    pub fn sign<T: Serialize>(&self, kind: &str, payload: T) -> Result<Signed<T>, CryptoError> {
        let digest = envelope_digest(kind, &payload)?;
        Ok(Signed {
            kind: kind.to_string(),
            signer: self.address(),
            signature: self.sign_digest(&digest),
            payload,
        })
    }
}

fn envelope_digest<T: Serialize>(kind: &str, payload: &T) -> Result<B256, CryptoError> {
    let mut buf = format!("dpgnet/v1/{kind}/").into_bytes();
    serde_json::to_writer(&mut buf, payload).map_err(|e| CryptoError::Payload(e.to_string()))?;
    Ok(keccak256(buf))
}

/// Recover the address that signed `digest`.
///
/// # Errors
/// [`CryptoError::Malformed`].
pub fn recover(digest: &B256, signature: &[u8]) -> Result<Address, CryptoError> {
    let sig = Signature::try_from(signature).map_err(|e| CryptoError::Malformed(e.to_string()))?;
    sig.recover_address_from_prehash(digest)
        .map_err(|e| CryptoError::Malformed(e.to_string()))
}

/// A payload with its signer and secp256k1 signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signed<T> {
    /// Domain of the payload (e.g. `"message"`, `"block"`, `"attestation"`).
    pub kind: String,
    /// Claimed signer.
    pub signer: Address,
    /// 65-byte signature over the envelope digest.
    pub signature: Bytes,
    /// The payload.
    pub payload: T,
}

impl<T: Serialize + DeserializeOwned> Signed<T> {
    /// The digest that was signed.
    ///
    /// # Errors
    /// [`CryptoError::Payload`].
    pub fn digest(&self) -> Result<B256, CryptoError> {
        envelope_digest(&self.kind, &self.payload)
    }

    /// Check the signature against the claimed signer and the expected `kind`;
    /// returns the signer.
    ///
    /// # Errors
    /// [`CryptoError`] when forged, altered or of another kind.
    pub fn verify(&self, kind: &str) -> Result<Address, CryptoError> {
        if self.kind != kind {
            return Err(CryptoError::Payload(format!(
                "expected a signed {kind}, got a signed {}",
                self.kind
            )));
        }
        let recovered = recover(&self.digest()?, &self.signature)?;
        if recovered != self.signer {
            return Err(CryptoError::WrongSigner {
                claimed: self.signer,
                recovered,
            });
        }
        Ok(recovered)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_deterministic_and_distinct() {
        let a = NodeKey::derive(7, Role::Prover, 0);
        assert_eq!(a.address(), NodeKey::derive(7, Role::Prover, 0).address());
        assert_ne!(a.address(), NodeKey::derive(7, Role::Prover, 1).address());
        assert_ne!(
            a.address(),
            NodeKey::derive(7, Role::Validator, 0).address()
        );
        assert_eq!(
            NodeKey::from_secret(&a.secret()).unwrap().address(),
            a.address()
        );
    }

    #[test]
    fn forged_altered_and_mislabelled_signatures_are_rejected() {
        let a = NodeKey::derive(1, Role::Prover, 0);
        let b = NodeKey::derive(1, Role::Prover, 1);
        let s = a.sign("message", 42u64).unwrap();
        assert_eq!(s.verify("message"), Ok(a.address()));
        // Forged: claims b but signed by a.
        let mut forged = s.clone();
        forged.signer = b.address();
        assert!(matches!(
            forged.verify("message"),
            Err(CryptoError::WrongSigner { .. })
        ));
        // Altered payload.
        let mut altered = s.clone();
        altered.payload = 43;
        assert!(matches!(
            altered.verify("message"),
            Err(CryptoError::WrongSigner { .. })
        ));
        // Another kind.
        assert!(s.verify("block").is_err());
        // Garbage signature.
        let mut junk = s;
        junk.signature = Bytes::from_static(&[1, 2, 3]);
        assert!(matches!(
            junk.verify("message"),
            Err(CryptoError::Malformed(_))
        ));
    }
}
