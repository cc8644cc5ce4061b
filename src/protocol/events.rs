//! What the engine emits. The TUI and the reports display these and nothing else:
//! the engine is the single source of truth for money (DESIGN.md "Shape").

use alloy_primitives::{Address, B256};
use serde::{Deserialize, Serialize};

use super::ledger::{Account, LedgerTotals};
use super::messages::{MessageKind, Verdict};
use super::selection::SetAssignment;
use super::types::{Outcome, Phase, Slot};
use crate::mechanism::rules::{Delivery, Request};

/// An engine output, in emission order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "event", rename_all = "snake_case")]
pub enum Event {
    /// The ledger at genesis (emitted once, by [`super::Engine::new`]).
    Genesis {
        /// Every account, sorted by address.
        accounts: Vec<Account>,
        /// Totals at genesis.
        totals: LedgerTotals,
    },
    /// A slot began: the proposer, the RANDAO mix used for selection, and each
    /// sub-block set's selected provers and assignment (spec "Prover Selection and
    /// Assignment").
    SlotStarted {
        /// Slot.
        slot: Slot,
        /// Block height being proven (a block is carried over after a liveness fault).
        block: u64,
        /// The slot's proposer.
        proposer: Address,
        /// RANDAO mix used for this slot's selection.
        randao_mix: B256,
        /// One entry per sub-block set.
        sets: Vec<SetAssignment>,
    },
    /// Gigagas: the PROVERS_PER_AGGPROOF provers selected to aggregate the
    /// sub-block sets into a full block (spec "Extension for Multiple Sub-blocks").
    AggGroupSelected {
        /// Slot.
        slot: Slot,
        /// The group, in RANDAO order.
        group: Vec<Address>,
    },
    /// A phase opened.
    PhaseOpened {
        /// Slot.
        slot: Slot,
        /// Phase.
        phase: Phase,
    },
    /// A message was included in a phase block.
    MessageIncluded {
        /// Slot.
        slot: Slot,
        /// Phase whose block included it.
        phase: Phase,
        /// Sender.
        from: Address,
        /// Message kind.
        kind: MessageKind,
        /// Number of proofs it carried.
        proofs: u32,
        /// The validators' verdict on the proofs.
        verdict: Verdict,
        /// Whether the engine accepted it under the protocol rules (sender selected,
        /// right phase, one transaction per prover, roots and commitment match).
        accepted: bool,
        /// Why it was not accepted, if so.
        rejection: Option<String>,
    },
    /// A detector fired (late, equivocating, invalid or stolen proof).
    Warning {
        /// Slot.
        slot: Slot,
        /// Phase.
        phase: Phase,
        /// The node at fault.
        node: Address,
        /// What was detected.
        kind: WarningKind,
        /// Human detail.
        detail: String,
    },
    /// A phase closed. `finalized` is true when it produced the block's full proof.
    PhaseClosed {
        /// Slot.
        slot: Slot,
        /// Phase.
        phase: Phase,
        /// True if a valid full proof was finalized in this phase.
        finalized: bool,
    },
    /// One ledger movement (also listed in the slot's [`Settlement`]).
    Ledger(LedgerEntry),
    /// The slot settled.
    Settled(Settlement),
    /// The devnet's mechanism (emitted once, after [`Event::Genesis`]): its YAML name and
    /// effective parameters (defaults filled in) for headers and reports. `spec` lists
    /// the selection parameters of the table it runs.
    MechanismChosen {
        /// The mechanism's YAML name.
        kind: String,
        /// `(name, value)` pairs, in the mechanism's order.
        params: Vec<(String, String)>,
    },
    /// The slot's mechanism settled (emitted just before [`Event::Settled`], whose entries
    /// include these payments and slashes): who was asked, who delivered, what was paid
    /// and slashed (`src/mechanism/rules.rs`). Under `spec` the table rows already
    /// applied and this summarises them per node (the proposer's rewards included).
    MechanismSettled {
        /// Slot.
        slot: Slot,
        /// The mechanism's YAML name (`spec`, `designated`, …).
        kind: String,
        /// Whom it asked (the set's selected provers, in request order), with the
        /// designate, audited provers, committee, allocation and tree where it has them
        /// (boxed: it is the largest field of any event).
        request: Box<Request>,
        /// What each asked prover delivered (valid, in time), in `request.asked` order.
        deliveries: Vec<Delivery>,
        /// The asked provers that delivered.
        delivered: Vec<Address>,
        /// Payments, reward units, per node.
        payments: Vec<(Address, u64)>,
        /// Stake taken, reward units (as applied, capped at stake), per node; under a
        /// non-spec mechanism it went to the protocol treasury as insurance.
        slashes: Vec<(Address, u64)>,
        /// The slot ended without a valid full proof (the engine's liveness fault).
        liveness_fault: bool,
        /// `capacity_audit`: the capacity oracle's value published at the end of an
        /// epoch (total capacity bid), capacity units.
        capacity_oracle: Option<u64>,
    },
    /// A prover fell below `min_stake` and left the prover set (DESIGN.md).
    Ejected {
        /// Slot.
        slot: Slot,
        /// The prover.
        node: Address,
        /// Its remaining stake, reward units.
        stake: u64,
    },
}

/// A detector's finding (issue "adversary": tokio-console-style warnings).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WarningKind {
    /// A message for a phase that had already closed.
    Late,
    /// Two different messages from one prover in one phase (one-transaction rule).
    Equivocation,
    /// A proof that does not verify.
    InvalidProof,
    /// A proof whose bytes equal another prover's proof (resubmitted under another key).
    StolenProof,
}

/// The kind of a ledger movement.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EntryKind {
    /// Minted into the node's balance.
    Reward,
    /// A protocol penalty taken from stake (spec `PENALTY_*`).
    Penalty,
    /// Slashing for misbehaviour taken from stake (not from the spec: invalid or
    /// stolen proofs, equivocation).
    Slash,
}

/// One ledger movement, in reward units, with the spec variable that caused it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LedgerEntry {
    /// Slot.
    pub slot: Slot,
    /// Phase whose table row applied.
    pub phase: Phase,
    /// The account.
    pub node: Address,
    /// Reward, penalty or slash.
    pub kind: EntryKind,
    /// Magnitude in reward units (always positive; `kind` gives the direction).
    pub amount: u64,
    /// The spec variable (e.g. `REWARD_T1_VALIDATOR`) or rule that applied.
    pub rule: String,
    /// What actually left the stake (penalties are capped at the remaining stake).
    pub applied: u64,
}

/// The per-slot settlement: outcome, movements and the conservation check.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settlement {
    /// Slot.
    pub slot: Slot,
    /// Block height proven (or attempted).
    pub block: u64,
    /// How the slot ended.
    pub outcome: Outcome,
    /// Proofs carried by included messages (partials, full and link proofs).
    pub proofs_submitted: u32,
    /// Of which valid.
    pub proofs_valid: u32,
    /// Every ledger movement of this slot.
    pub entries: Vec<LedgerEntry>,
    /// Rewards minted this slot, reward units.
    pub payments: u64,
    /// Loss of this slot: payments + P × [liveness fault] (paper's loss metric).
    pub loss: u64,
    /// Ledger totals after the slot.
    pub totals: LedgerTotals,
    /// stake + balances + burned + treasury == genesis + minted, after the slot.
    pub conservation_ok: bool,
    /// Every account after the slot, sorted by address.
    pub accounts: Vec<Account>,
}
