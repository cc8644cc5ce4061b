//! Small shared protocol types: slots, phases, roles and slot outcomes.

use serde::{Deserialize, Serialize};

/// A slot number (one block per slot). Spec: "For each new block …".
pub type Slot = u64;

/// Index of a sub-block set within a block (the spec's gigagas extension,
/// "Extension for Multiple Sub-blocks"). `0` when the devnet has one set.
pub type SetId = u32;

/// The five phases of a slot. Spec: "Multi-phase Proof Generation".
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Phase {
    /// T1: challenge commitment (plus an optional full proof).
    T1,
    /// T2: partial proof submission (plus an optional full proof).
    T2,
    /// T3: full proof aggregation.
    T3,
    /// T4: first fallback aggregation phase.
    T4,
    /// T5: last fallback aggregation phase; a slot without a valid full proof
    /// after T5 suffers a liveness fault.
    T5,
}

impl Phase {
    /// All phases in order.
    pub const ALL: [Phase; 5] = [Phase::T1, Phase::T2, Phase::T3, Phase::T4, Phase::T5];

    /// 1-based index (T1 → 1 … T5 → 5).
    #[must_use]
    pub fn index(self) -> usize {
        self as usize + 1
    }

    /// The phase after this one, `None` after T5.
    #[must_use]
    pub fn next(self) -> Option<Phase> {
        Phase::ALL.get(self.index()).copied()
    }

    /// True for the aggregation phases T3, T4 and T5.
    #[must_use]
    pub fn is_aggregation(self) -> bool {
        self >= Phase::T3
    }

    /// Display label, "T1" … "T5".
    #[must_use]
    pub fn label(self) -> &'static str {
        ["T1", "T2", "T3", "T4", "T5"][self as usize]
    }
}

impl std::fmt::Display for Phase {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.label())
    }
}

/// The role of a node (defined with the devnet YAML, where it is spelled).
pub use crate::config::Role;

/// How a slot ended. The report's `outcome` field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    /// A valid full proof was included in T1.
    FinalizedT1,
    /// A valid full proof was included in T2.
    FinalizedT2,
    /// A valid aggregated full proof was included in T3.
    FinalizedT3,
    /// … in the fallback phase T4.
    FinalizedT4,
    /// … in the fallback phase T5.
    FinalizedT5,
    /// No valid full proof by the end of T5 (DESIGN.md "Liveness fault").
    LivenessFault,
}

impl Outcome {
    /// The outcome of a full proof finalized in `phase`.
    #[must_use]
    pub fn finalized_in(phase: Phase) -> Outcome {
        match phase {
            Phase::T1 => Outcome::FinalizedT1,
            Phase::T2 => Outcome::FinalizedT2,
            Phase::T3 => Outcome::FinalizedT3,
            Phase::T4 => Outcome::FinalizedT4,
            Phase::T5 => Outcome::FinalizedT5,
        }
    }

    /// The report spelling, e.g. `finalized_t3` or `liveness_fault`.
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Outcome::FinalizedT1 => "finalized_t1",
            Outcome::FinalizedT2 => "finalized_t2",
            Outcome::FinalizedT3 => "finalized_t3",
            Outcome::FinalizedT4 => "finalized_t4",
            Outcome::FinalizedT5 => "finalized_t5",
            Outcome::LivenessFault => "liveness_fault",
        }
    }

    /// True unless this is a liveness fault.
    #[must_use]
    pub fn is_finalized(self) -> bool {
        self != Outcome::LivenessFault
    }
}

impl std::fmt::Display for Outcome {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}
