//! The adversary agent: a node that holds the keys of the provers it corrupts and
//! runs a strategy with them.
//!
//! Threat model: `adversarial-procurement-paper.txt` §2 (a Byzantine attacker
//! corrupting up to f provers). Strategies implemented so far:
//! - `honest`: the corrupted identities behave like honest provers (default).
//! - `withhold`: never commit nor prove (spec T1 `PENALTY_T1_PROVER`, T2 penalties).
//! - `invalid_proof`: submit proofs that do not verify (one byte flipped).
//! - `steal`: resubmit another prover's valid partial proof under its own key (the
//!   spec's anti-stealing rule: "The proof must include the prover's public key as
//!   a public output to prevent proof stealing").

use std::str::FromStr;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::{Duration, Instant};

use alloy_primitives::{Address, Bytes};
use jsonrpsee::core::{RpcResult, async_trait};
use tracing::{info, warn};

use super::crypto::Signed;
use super::prover::{ProverCore, Submitter, check_notice};
use super::rpc::{PhaseNotice, ProofTiming, ProverApiServer, ValidatorApiClient, kind};
use crate::protocol::{Message, PartialProof, Phase, Slot};

/// An adversary strategy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Strategy {
    /// Behave honestly.
    Honest,
    /// Never commit, never prove.
    Withhold,
    /// Submit proofs with one byte flipped.
    InvalidProof,
    /// Copy other provers' partial proofs and submit them as its own.
    Steal,
}

impl FromStr for Strategy {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "honest" | "none" => Ok(Strategy::Honest),
            "withhold" => Ok(Strategy::Withhold),
            "invalid_proof" => Ok(Strategy::InvalidProof),
            "steal" => Ok(Strategy::Steal),
            other => Err(format!(
                "unknown adversary strategy `{other}` (known: honest, withhold, invalid_proof, steal)"
            )),
        }
    }
}

/// Flip one byte in the middle of a proof.
#[must_use]
pub fn tamper(proof: &Bytes) -> Bytes {
    let mut v = proof.to_vec();
    if !v.is_empty() {
        let i = v.len() / 2;
        v[i] ^= 0x5a;
    }
    Bytes::from(v)
}

fn tamper_message(m: Message) -> Message {
    match m {
        Message::Partials(ps) => Message::Partials(
            ps.into_iter()
                .map(|p| PartialProof {
                    proof: tamper(&p.proof),
                    ..p
                })
                .collect(),
        ),
        Message::FullProof(mut f) => {
            f.proof = tamper(&f.proof);
            Message::FullProof(f)
        }
        Message::Aggregate(mut a) => {
            a.link_proof = tamper(&a.link_proof);
            Message::Aggregate(a)
        }
        Message::AggProof(mut a) => {
            a.link_proof = tamper(&a.link_proof);
            Message::AggProof(a)
        }
        c @ Message::Commit(_) => c,
    }
}

/// The adversary agent node.
#[derive(Clone, Debug)]
pub struct AdversaryNode {
    cores: Arc<Vec<Arc<ProverCore>>>,
    strategy: Arc<Mutex<Strategy>>,
    submitter: Arc<Submitter>,
    validators: Arc<OnceLock<Vec<Address>>>,
    steal_wait: Duration,
}

impl AdversaryNode {
    /// An adversary holding the corrupted identities `cores`. `steal_wait` bounds
    /// how long `steal` watches the mempool for a proof to copy.
    #[must_use]
    pub fn new(cores: Vec<ProverCore>, strategy: Strategy, steal_wait: Duration) -> Self {
        AdversaryNode {
            cores: Arc::new(cores.into_iter().map(Arc::new).collect()),
            strategy: Arc::new(Mutex::new(strategy)),
            submitter: Arc::new(Submitter::default()),
            validators: Arc::new(OnceLock::new()),
            steal_wait,
        }
    }

    /// Connect to the validators.
    ///
    /// # Errors
    /// An unparsable URL.
    pub fn set_validators(&self, validators: &[(Address, String)]) -> Result<(), String> {
        let _ = self
            .validators
            .set(validators.iter().map(|v| v.0).collect());
        self.submitter
            .connect(&validators.iter().map(|v| v.1.clone()).collect::<Vec<_>>())
    }

    /// Kill the agent: it sends nothing from now on.
    pub fn kill(&self) {
        self.submitter.kill();
    }

    /// The current strategy.
    #[must_use]
    pub fn strategy(&self) -> Strategy {
        *self
            .strategy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Switch strategy (takes effect at the next notice).
    pub fn set_strategy(&self, s: Strategy) {
        info!(target: "dpgnet::adversary", strategy = ?s, "strategy set");
        *self
            .strategy
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner) = s;
    }

    /// The corrupted identities.
    #[must_use]
    pub fn identities(&self) -> Vec<Address> {
        self.cores.iter().map(|c| c.address()).collect()
    }

    async fn sign_submit(&self, core: &ProverCore, m: Message) {
        match core.key().sign(kind::MESSAGE, m) {
            Ok(s) => self.submitter.submit(s).await,
            Err(e) => warn!(target: "dpgnet::adversary", error = %e, "cannot sign"),
        }
    }

    /// `steal`: in T2, watch the public mempool for another prover's partial of a
    /// sub-block assigned to `core`, and resubmit its bytes under `core`'s key.
    async fn steal(&self, core: Arc<ProverCore>, notice: PhaseNotice) {
        let me = core.address();
        let Some(client) = self.submitter.first_validator() else {
            return;
        };
        let deadline = Instant::now() + self.steal_wait;
        for view in &notice.sets {
            let Some(mine) = view.assignment.assignments.get(&me) else {
                continue;
            };
            loop {
                let pool: Vec<Signed<Message>> = client.mempool().await.unwrap_or_default();
                let copied: Vec<PartialProof> = pool
                    .iter()
                    .filter(|m| m.signer != me && !self.identities().contains(&m.signer))
                    .filter_map(|m| match &m.payload {
                        Message::Partials(ps) => Some(ps.clone()),
                        _ => None,
                    })
                    .flatten()
                    .filter(|p| p.slot == notice.slot && mine.contains(&p.sub_block))
                    .collect();
                if let Some(p) = copied.into_iter().next() {
                    info!(target: "dpgnet::adversary", prover = %me, sub_block = p.sub_block, "stealing a partial proof");
                    self.sign_submit(&core, Message::Partials(vec![p])).await;
                    break;
                }
                if Instant::now() >= deadline {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        }
    }

    async fn act(&self, notice: PhaseNotice) {
        let strategy = self.strategy();
        for core in self.cores.iter().cloned() {
            match strategy {
                Strategy::Withhold => {}
                Strategy::Honest | Strategy::InvalidProof => {
                    for m in core.immediate_messages(&notice) {
                        self.sign_submit(&core, m).await;
                    }
                    let me = self.clone();
                    let n = notice.clone();
                    tokio::spawn(async move {
                        let c = core.clone();
                        let msgs = tokio::task::spawn_blocking(move || c.proven_messages(&n))
                            .await
                            .unwrap_or_default();
                        for m in msgs {
                            let m = if strategy == Strategy::InvalidProof {
                                tamper_message(m)
                            } else {
                                m
                            };
                            me.sign_submit(&core, m).await;
                        }
                    });
                }
                Strategy::Steal => {
                    for m in core.immediate_messages(&notice) {
                        self.sign_submit(&core, m).await;
                    }
                    if notice.phase == Phase::T2 {
                        let me = self.clone();
                        let n = notice.clone();
                        tokio::spawn(async move { me.steal(core, n).await });
                    }
                }
            }
        }
    }
}

#[async_trait]
impl ProverApiServer for AdversaryNode {
    async fn notice(&self, notice: Signed<PhaseNotice>) -> RpcResult<()> {
        check_notice(&notice, self.validators.get().map_or(&[], Vec::as_slice))?;
        let n = notice.payload;
        self.submitter.phase_opened(n.slot, n.phase).await;
        self.act(n).await;
        Ok(())
    }

    async fn timings(&self, slot: Slot) -> RpcResult<Vec<ProofTiming>> {
        Ok(self.cores.iter().flat_map(|c| c.timings(slot)).collect())
    }

    async fn identities(&self) -> RpcResult<Vec<Address>> {
        Ok(AdversaryNode::identities(self))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strategies_parse_and_unknown_is_a_clear_error() {
        assert_eq!("steal".parse::<Strategy>(), Ok(Strategy::Steal));
        assert_eq!("honest".parse::<Strategy>(), Ok(Strategy::Honest));
        let e = "bribe".parse::<Strategy>().unwrap_err();
        assert!(e.contains("bribe") && e.contains("withhold"), "{e}");
    }

    #[test]
    fn tamper_changes_exactly_one_byte() {
        let p = Bytes::from(vec![0u8; 10]);
        let t = tamper(&p);
        assert_eq!(p.iter().zip(t.iter()).filter(|(a, b)| a != b).count(), 1);
    }
}
