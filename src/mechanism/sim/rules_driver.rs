//! The non-spec mechanisms in the simulator: a [`Mechanism`] from `rules.rs` asked for
//! its request each slot, modelled deliveries, then its payout.
//!
//! No ledger: every slot starts from the same stakes (the paper's one-slot model,
//! Rem. 2.1), so slots are independent. Loss (paper Def. 2.1, Def. 2.2; with stake
//! Cor. 3.2, Rem. 3.9) = payments + P × [liveness fault] − slashes, because
//! `Payout::slashes` are paid to the protocol as insurance.
//!
//! The attacker (`--strategy`):
//! * static strategies corrupt the last `f` provers (address order), as the devnet's
//!   adversary does; a corrupted prover that is asked never delivers in time
//!   (`withhold`, `silent`, `late`, `invalid_proof` all amount to no valid proof here);
//! * `worst_case` is the paper's attacker (Rem. 2.1): it sees the slot's strategy
//!   profile (who is designated, who is on the committee) but not the members' coins,
//!   corrupts up to `f` provers, and takes the branch with the larger expected loss:
//!   - `designated`: the designate and `f − 1` committee members; withhold gives
//!     `P·(1 − q)^{m−f+1} − slashed`, behaving gives the fixed total `T` (Lem. 3.4,
//!     `analysis::designated_branches`; ties within one reward unit go to the attack);
//!   - `lottery`: `f` committee members; withhold gives `R·(1 − (1 − q)^{m−f}) +
//!     P·(1 − q)^{m−f}` (Lem. A.1's proof), behaving `R·(1 − (1 − q)^m) + P·(1 − q)^m`;
//!   - `pay_deliverers`: `f` committee members; withhold gives `(m − f)·q·c +
//!     P·(1 − q)^{m−f}`, behaving `m·q·c + P·(1 − q)^m`. The paper's other branch
//!     (Ex. 3.3: deliver all `f`, unasked ones too) is not open here, because dpgnet's
//!     rule pays and counts only asked provers;
//!   - other kinds (`spec` reduced rule, `capacity_audit`, `dual_auction`,
//!     `proof_tree`): an oracle attacker that corrupts the first `f` asked provers and,
//!     seeing this slot's draws, takes whichever of withholding and behaving costs the
//!     protocol more in this slot — an upper bound on the paper's coin-blind attacker.

use std::collections::HashSet;

use alloy_primitives::Address;

use super::model::ProofModel;
use super::rng::{LogNormal, SimRng};
use super::{AttackStrategy, SimError, SlotSample};
use crate::mechanism::rules::{Delivery, Mechanism, MechanismKind, Payout, ProverInfo, Request};

/// What the worst-case attacker needs to know about the mechanism (read back from
/// [`Mechanism::params`], so user overrides are honoured).
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    Designated {
        q: f64,
        total: f64,
        stake: f64,
        correlated: bool,
    },
    Lottery {
        q: f64,
        prize: f64,
    },
    PayDeliverers {
        q: f64,
        cost: f64,
    },
    Other,
}

/// A parameter of `params()` as a number.
fn param(params: &[(String, String)], key: &str) -> Option<f64> {
    params
        .iter()
        .find(|(k, _)| k == key)
        .and_then(|(_, v)| v.parse().ok())
}

/// The attacker's view of `mech`.
fn shape(kind: MechanismKind, mech: &dyn Mechanism) -> Shape {
    let p = mech.params();
    match kind {
        MechanismKind::Designated => Shape::Designated {
            q: param(&p, "q").unwrap_or(0.0),
            total: param(&p, "T").unwrap_or(0.0),
            stake: param(&p, "stake").unwrap_or(0.0),
            correlated: p.iter().any(|(k, v)| k == "correlated" && v == "true"),
        },
        MechanismKind::Lottery => Shape::Lottery {
            q: param(&p, "q").unwrap_or(0.0),
            prize: param(&p, "prize").unwrap_or(0.0),
        },
        MechanismKind::PayDeliverers => Shape::PayDeliverers {
            q: param(&p, "q").unwrap_or(0.0),
            cost: param(&p, "proof_cost").unwrap_or(0.0),
        },
        _ => Shape::Other,
    }
}

/// The worst-case attacker's choice between its two branches (expected losses of the
/// protocol, reward units): it withholds unless behaving costs the protocol more by over
/// one reward unit. At the paper's optimum the branches are equal by construction
/// (Lem. 3.2) and differ only by the rounding of payments to whole reward units; ties go
/// to the attack, the branch whose faults and slashes the simulation is there to measure.
fn prefers_attack(withhold: f64, behave: f64) -> bool {
    withhold + 1.0 >= behave
}

/// One replica of a rules-based simulation.
pub(crate) struct RulesWorld {
    mech: Box<dyn Mechanism>,
    shape: Shape,
    provers: Vec<ProverInfo>,
    statically_corrupted: HashSet<Address>,
    budget: usize,
    strategy: AttackStrategy,
    rng: SimRng,
    latency: LogNormal,
    failure_rate: f64,
    deadline: f64,
    penalty: f64,
    /// Per-prover stake, reward units (slashes are capped at it).
    stake: f64,
}

/// The simulated provers, address order: stake from the devnet, capacity 1 proof per
/// slot and cost `proof_cost` per proof; `dual_auction` bids per transaction, so there
/// prover `i` has cost `1 + (i mod 10)` and capacity 4 (dpgnet's choice: the briefing
/// gives no numbers).
pub(crate) fn provers(
    kind: MechanismKind,
    n: usize,
    stake: u64,
    proof_cost: u64,
) -> Vec<ProverInfo> {
    (0..n)
        .map(|i| {
            let mut bytes = [0u8; 20];
            bytes[0] = 0x02;
            bytes[12..].copy_from_slice(&(i as u64).to_be_bytes());
            let (capacity, cost) = if kind == MechanismKind::DualAuction {
                (4, 1 + (i as u64 % 10))
            } else {
                (1, proof_cost)
            };
            ProverInfo {
                address: Address::from(bytes),
                stake,
                capacity,
                cost,
            }
        })
        .collect()
}

impl RulesWorld {
    /// A replica: `mech` over `provers`, the last `corrupted` of them statically
    /// corrupted; `penalty` and `stake` in reward units.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn new(
        kind: MechanismKind,
        mech: Box<dyn Mechanism>,
        provers: Vec<ProverInfo>,
        corrupted: usize,
        strategy: AttackStrategy,
        model: &ProofModel,
        deadline: f64,
        penalty: u64,
        rng: SimRng,
    ) -> Self {
        let n = provers.len();
        let statically_corrupted = provers[n - corrupted..].iter().map(|p| p.address).collect();
        let stake = provers.first().map_or(0.0, |p| p.stake as f64);
        Self {
            shape: shape(kind, mech.as_ref()),
            mech,
            provers,
            statically_corrupted,
            budget: corrupted,
            strategy,
            rng,
            latency: LogNormal::from_mean_sd(model.latency_mean_s, model.latency_sd_s),
            failure_rate: model.failure_rate,
            deadline,
            penalty: penalty as f64,
            stake,
        }
    }

    /// An honest asked prover's delivery: fails with the failure rate, else delivers
    /// its allocation if its proving time meets the deadline.
    fn honest_delivery(&mut self, request: &Request, who: Address) -> Delivery {
        let fails = self.rng.bernoulli(self.failure_rate);
        let on_time = self.latency.sample(&mut self.rng) <= self.deadline;
        let delivered = !fails && on_time;
        Delivery {
            prover: who,
            delivered,
            amount: if delivered {
                request.allocated(&who)
            } else {
                0
            },
        }
    }

    /// The worst-case attacker's targets and whether withholding is its better branch
    /// (`None`: decide per slot by the oracle).
    fn worst_case(&self, request: &Request) -> (Vec<Address>, Option<bool>) {
        let f = self.budget;
        if f == 0 {
            return (Vec::new(), Some(false));
        }
        let p = self.penalty;
        let committee = |skip: Option<Address>, k: usize| -> Vec<Address> {
            request
                .committee
                .iter()
                .copied()
                .filter(|a| Some(*a) != skip)
                .take(k)
                .collect()
        };
        match self.shape {
            Shape::Designated {
                q,
                total,
                stake,
                correlated,
            } => {
                let Some(d) = request.designated else {
                    return (Vec::new(), Some(false));
                };
                let mut targets = vec![d];
                targets.extend(committee(Some(d), f - 1));
                let m = request.committee.len();
                let honest = m - (targets.len() - 1);
                let per = stake.min(self.stake);
                let slashed = if correlated {
                    per * (m + 1) as f64
                } else {
                    per
                };
                let withhold = p * (1.0 - q).powi(honest as i32) - slashed;
                (targets, Some(prefers_attack(withhold, total)))
            }
            Shape::Lottery { q, prize } => {
                let m = request.committee.len();
                let targets = committee(None, f);
                let miss_w = (1.0 - q).powi((m - targets.len()) as i32);
                let miss_b = (1.0 - q).powi(m as i32);
                let withhold = prize * (1.0 - miss_w) + p * miss_w;
                let behave = prize * (1.0 - miss_b) + p * miss_b;
                (targets, Some(prefers_attack(withhold, behave)))
            }
            Shape::PayDeliverers { q, cost } => {
                let m = request.committee.len();
                let targets = committee(None, f);
                let k = m - targets.len();
                let withhold = k as f64 * q * cost + p * (1.0 - q).powi(k as i32);
                let behave = m as f64 * q * cost + p * (1.0 - q).powi(m as i32);
                (targets, Some(prefers_attack(withhold, behave)))
            }
            Shape::Other => (request.asked.iter().copied().take(f).collect(), None),
        }
    }

    fn loss(&self, payout: &Payout) -> (f64, f64, f64) {
        let paid = payout.total_paid() as f64;
        let slashed = payout.total_slashed() as f64;
        let fault = if payout.liveness_fault {
            self.penalty
        } else {
            0.0
        };
        (paid + fault - slashed, paid, slashed)
    }

    /// One slot.
    ///
    /// # Errors
    /// None today; the signature matches the engine driver's.
    pub(crate) fn step(&mut self, slot: u64) -> Result<SlotSample, SimError> {
        let request = {
            let rng = &mut self.rng;
            let mut draw = || rng.uniform();
            self.mech.request(slot, &self.provers, &mut draw)
        };
        let (targets, withhold): (Vec<Address>, Option<bool>) = match self.strategy {
            AttackStrategy::Honest => (Vec::new(), Some(false)),
            AttackStrategy::WorstCase => self.worst_case(&request),
            _ => (
                request
                    .asked
                    .iter()
                    .copied()
                    .filter(|a| self.statically_corrupted.contains(a))
                    .collect(),
                Some(true),
            ),
        };
        // Honest draws for every asked prover (the same draws serve both of the oracle's
        // branches).
        let honest: Vec<Delivery> = request
            .asked
            .clone()
            .into_iter()
            .map(|a| self.honest_delivery(&request, a))
            .collect();
        let attacked_deliveries = |honest: &[Delivery]| -> Vec<Delivery> {
            honest
                .iter()
                .map(|d| {
                    if targets.contains(&d.prover) {
                        Delivery {
                            prover: d.prover,
                            delivered: false,
                            amount: 0,
                        }
                    } else {
                        *d
                    }
                })
                .collect()
        };
        let (payout, attacked) = match withhold {
            Some(false) => (
                self.mech.settle(slot, &self.provers, &request, &honest),
                false,
            ),
            Some(true) => (
                self.mech
                    .settle(slot, &self.provers, &request, &attacked_deliveries(&honest)),
                request.asked.iter().any(|a| targets.contains(a))
                    || request.designated.is_some_and(|d| targets.contains(&d)),
            ),
            None => {
                let behave = self.mech.settle(slot, &self.provers, &request, &honest);
                let attack =
                    self.mech
                        .settle(slot, &self.provers, &request, &attacked_deliveries(&honest));
                if self.loss(&attack).0 > self.loss(&behave).0 {
                    (attack, true)
                } else {
                    (behave, false)
                }
            }
        };
        let (loss, paid, slashed) = self.loss(&payout);
        Ok(SlotSample {
            loss,
            fault: payout.liveness_fault,
            payments: paid,
            slashed,
            insurance: slashed,
            attacked,
        })
    }
}
