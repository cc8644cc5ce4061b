//! RANDAO: the randomness beacon that drives selection.
//!
//! Spec "Prover Selection and Assignment": "a deterministically random subset of
//! provers is selected using a mechanism such as RANDAO". As on Ethereum, each
//! slot's proposer signs a reveal and the mix becomes `mix XOR keccak256(reveal)`.
//! Signature checking is the node shell's job; the engine only mixes.

use alloy_primitives::{B256, keccak256};
use serde::{Deserialize, Serialize};

/// The current RANDAO mix (32 bytes).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct RandaoMix(pub B256);

impl RandaoMix {
    /// The genesis mix of a devnet: `keccak256("dpgnet/randao/genesis" ‖ seed (8 bytes BE))`.
    #[must_use]
    pub fn genesis(seed: u64) -> Self {
        let mut buf = b"dpgnet/randao/genesis".to_vec();
        buf.extend_from_slice(&seed.to_be_bytes());
        RandaoMix(keccak256(buf))
    }

    /// Mix in a proposer's signed reveal (65-byte secp256k1 signature bytes).
    pub fn mix_in(&mut self, reveal: &[u8]) {
        self.0 ^= keccak256(reveal);
    }

    /// A deterministic 64-bit draw for `(domain, slot, set, counter)` from this mix:
    /// the first 8 bytes of `keccak256(mix ‖ domain ‖ slot ‖ set ‖ counter)`.
    #[must_use]
    pub fn draw(&self, domain: &[u8], slot: u64, set: u32, counter: u64) -> u64 {
        let mut buf = Vec::with_capacity(32 + domain.len() + 20);
        buf.extend_from_slice(self.0.as_slice());
        buf.extend_from_slice(domain);
        buf.extend_from_slice(&slot.to_be_bytes());
        buf.extend_from_slice(&set.to_be_bytes());
        buf.extend_from_slice(&counter.to_be_bytes());
        let h = keccak256(buf);
        u64::from_be_bytes(h[..8].try_into().expect("8 bytes"))
    }
}

/// The message a proposer signs as its RANDAO reveal for `epoch`:
/// `keccak256("dpgnet/randao/reveal" ‖ epoch (8 bytes BE))`.
#[must_use]
pub fn reveal_digest(epoch: u64) -> B256 {
    let mut buf = b"dpgnet/randao/reveal".to_vec();
    buf.extend_from_slice(&epoch.to_be_bytes());
    keccak256(buf)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mixing_is_deterministic_and_changes_the_mix() {
        let mut a = RandaoMix::genesis(7);
        let b = RandaoMix::genesis(7);
        assert_eq!(a, b);
        assert_ne!(a, RandaoMix::genesis(8));
        a.mix_in(&[1u8; 65]);
        assert_ne!(a, b);
        let mut c = b;
        c.mix_in(&[1u8; 65]);
        assert_eq!(a, c);
        // XOR: mixing the same reveal twice restores the mix.
        c.mix_in(&[1u8; 65]);
        assert_eq!(c, b);
        assert_ne!(a.draw(b"x", 1, 0, 0), a.draw(b"x", 1, 0, 1));
    }
}
