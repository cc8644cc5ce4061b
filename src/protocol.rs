//! The pure protocol engine (sans-IO): slots, phases T1–T5, selection, assignment and the ledger.
//!
//! Source: `distributed-proof-generation-spec.txt` (the whole text) and DESIGN.md
//! ("The protocol, concretely", "Where the spec is silent or inconsistent").
//!
//! Nothing in this module reads a clock, touches a socket, spawns a task or proves.
//! Inputs are slot starts with their workload roots, phase blocks of included
//! messages with the validators' verification verdicts, and phase closes; outputs
//! are [`Event`]s, including one [`Settlement`] per slot. The call order is:
//!
//! 1. [`Engine::begin_slot`] — selection and assignment (emits `SlotStarted`).
//! 2. for each phase T1..=T5: [`Engine::apply_block`] once with the finalized phase
//!    block (the included messages and their verdicts), which closes the phase.
//!    [`Engine::current_phase`] says which phase is open; [`Engine::slot_done`] says
//!    when the slot has settled (a finalized full proof, or a liveness fault after T5).

mod engine;
mod events;
mod ledger;
mod messages;
mod randao;
mod selection;
mod types;

pub use engine::{Engine, EngineError, EngineParams, GenesisAccount, SetState, SlotInput};
pub use events::{EntryKind, Event, LedgerEntry, Settlement, WarningKind};
pub use ledger::{Account, Ledger, LedgerError, LedgerTotals};
pub use messages::{
    AggProof, Aggregation, BLOCK_LEVEL, Commitment, FullProof, Included, Message, MessageKind,
    PartialProof, PartialRef, PhaseBlock, Verdict, bloom_hash, commitment_hash, proof_hash,
};
pub use randao::{RandaoMix, reveal_digest};
pub use selection::{SetAssignment, assign, num_provers_selected, select_provers};
pub use types::{Outcome, Phase, Role, SetId, Slot};
