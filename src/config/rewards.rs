//! The spec's rewards-and-penalties variables: the `rewards:` section of a devnet YAML.
//!
//! Every variable of the spec's "Variables" table is a field here, in the spec's order, named
//! by the spec's name in lower snake case; its YAML key is the spec's exact SCREAMING_CASE name
//! and its default is the spec's number. Penalties keep the spec's negative sign. Three
//! variables are *not from the spec* (DESIGN.md, "Where the spec is silent or inconsistent"):
//! `REWARD_T2_PROVER`, `SLASH_INVALID_PROOF` and `SLASH_EQUIVOCATION`.
//!
//! All amounts are in reward units (the ledger's integer unit of value).

use serde::{Deserialize, Serialize};

/// What a variable measures, which decides the sign it must have.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum VariableKind {
    /// A number of provers (`PROVERS_PER_PROOF`, `PROVERS_PER_AGGPROOF`); never negative.
    Count,
    /// A payment minted to a node's balance, in reward units; never negative.
    Reward,
    /// A loss taken out of a node's stake, in reward units, written with the spec's negative
    /// sign; never positive. Covers the spec's `PENALTY_*` and our `SLASH_*`.
    Penalty,
}

/// One row of [`Rewards::variables`]: a variable, its value in this configuration and its
/// provenance.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Variable {
    /// The spec's name, which is also the YAML key, e.g. `"REWARD_FULL_PROOF_PROVER_T1"`.
    pub name: &'static str,
    /// The value: reward units, or a number of provers for [`VariableKind::Count`].
    /// Values above `i64::MAX` (refused by validation) saturate.
    pub value: i64,
    /// What the variable measures, hence its sign.
    pub kind: VariableKind,
    /// `true` when the variable is in the spec's "Variables" table; `false` for our additions.
    pub from_spec: bool,
    /// One line saying what the variable pays or takes, and when.
    pub doc: &'static str,
}

/// Widening to the ledger's signed amount, saturating (validation refuses values that would
/// saturate).
trait Signed: Copy {
    fn signed(self) -> i64;
}

impl Signed for u64 {
    fn signed(self) -> i64 {
        i64::try_from(self).unwrap_or(i64::MAX)
    }
}

impl Signed for i64 {
    fn signed(self) -> i64 {
        self
    }
}

/// Defines [`Rewards`], its `Default` (the spec's numbers) and [`Rewards::variables`] from one
/// list, so the struct, the defaults and the table cannot drift apart.
macro_rules! rewards {
    ($(
        #[doc = $doc:literal]
        $name:literal => $field:ident: $ty:ty = $default:expr, $kind:ident, from_spec: $from_spec:literal;
    )+) => {
        /// The spec's incentive variables (spec, "Variables"; rewards and penalties of phases
        /// T1–T5 and of the gigagas AggProof), plus the three we had to add.
        ///
        /// Rust field = the spec name in lower snake case; YAML key = the spec's exact name;
        /// default = the spec's number. Rewards (`u64`) are minted to balances, penalties and
        /// slashes (`i64`, negative like in the spec) come out of stake (DESIGN.md). Every
        /// amount is in reward units.
        #[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
        #[serde(deny_unknown_fields, default)]
        pub struct Rewards {
            $(
                #[doc = $doc]
                #[serde(rename = $name)]
                pub $field: $ty,
            )+
        }

        impl Default for Rewards {
            /// The spec's numbers ("Variables" table), and our documented defaults for the
            /// three variables the spec lacks.
            fn default() -> Self {
                Self { $($field: $default,)+ }
            }
        }

        impl Rewards {
            /// Every variable's name (= YAML key), in the spec's order, ours last in their
            /// phase.
            pub const NAMES: &'static [&'static str] = &[$($name),+];

            /// Every variable with its value in this configuration, kind, provenance and
            /// meaning, in the spec's order.
            #[must_use]
            pub fn variables(&self) -> Vec<Variable> {
                vec![$(
                    Variable {
                        name: $name,
                        value: Signed::signed(self.$field),
                        kind: VariableKind::$kind,
                        from_spec: $from_spec,
                        doc: $doc.trim_ascii(),
                    },
                )+]
            }
        }
    };
}

rewards! {
    /// Number of provers selected per block: `num_provers_selected = min(PROVERS_PER_PROOF, available_provers / 2)` (spec, "Prover Selection and Assignment").
    "PROVERS_PER_PROOF" => provers_per_proof: u64 = 200, Count, from_spec: true;
    /// Number of provers selected to aggregate sub-blocks into a full block (spec, "Extension for Multiple Sub-blocks").
    "PROVERS_PER_AGGPROOF" => provers_per_aggproof: u64 = 5, Count, from_spec: true;

    /// T1: paid to each selected prover when a valid full proof is submitted in T1.
    "REWARD_FULL_PROOF_PROVER_T1" => reward_full_proof_prover_t1: u64 = 9000, Reward, from_spec: true;
    /// T1: paid, on top, to the prover that sends the valid full proof in T1.
    "REWARD_FULL_PROOF_SENDER_T1" => reward_full_proof_sender_t1: u64 = 50, Reward, from_spec: true;
    /// T1: paid to the validator (the proposer) that includes a valid full proof in T1.
    "REWARD_FULL_PROOF_VALIDATOR_T1" => reward_full_proof_validator_t1: u64 = 1000, Reward, from_spec: true;
    /// T1 without a full proof: paid to the including proposer per valid commitment.
    "REWARD_T1_VALIDATOR" => reward_t1_validator: u64 = 3, Reward, from_spec: true;
    /// T1 without a full proof: taken from each selected prover that fails to commit.
    "PENALTY_T1_PROVER" => penalty_t1_prover: i64 = -1, Penalty, from_spec: true;

    /// T2: paid to each selected prover when a valid full proof is submitted in T2.
    "REWARD_FULL_PROOF_PROVER_T2" => reward_full_proof_prover_t2: u64 = 8000, Reward, from_spec: true;
    /// T2: paid, on top, to the prover that sends the valid full proof in T2.
    "REWARD_FULL_PROOF_SENDER_T2" => reward_full_proof_sender_t2: u64 = 40, Reward, from_spec: true;
    /// T2: paid to the validator (the proposer) that includes a valid full proof in T2.
    "REWARD_FULL_PROOF_VALIDATOR_T2" => reward_full_proof_validator_t2: u64 = 900, Reward, from_spec: true;
    /// T2 without a full proof: paid to the including proposer per valid partial proof.
    "REWARD_T2_VALIDATOR" => reward_t2_validator: u64 = 3, Reward, from_spec: true;
    /// T2 without a full proof: taken from each selected prover whose partial-proof submission fails.
    "PENALTY_T2_PROVER" => penalty_t2_prover: i64 = -3, Penalty, from_spec: true;
    /// Not from the spec (used in its T2 text, missing from its table): T2 without a full proof, paid to each prover per valid partial proof.
    "REWARD_T2_PROVER" => reward_t2_prover: u64 = 10, Reward, from_spec: false;

    /// T3: paid to the aggregator per partial proof of others it reuses (averaged over the valid full proofs).
    "REWARD_PROVER_REUSING_T3" => reward_prover_reusing_t3: u64 = 40, Reward, from_spec: true;
    /// T3: paid to a prover per time its partial proof is reused by others (averaged over the valid full proofs).
    "REWARD_PROVER_REUSED_T3" => reward_prover_reused_t3: u64 = 40, Reward, from_spec: true;
    /// T3: paid to a prover that submits a valid full proof.
    "REWARD_PROVER_T3" => reward_prover_t3: u64 = 50, Reward, from_spec: true;
    /// T3: paid to the including proposer per valid full proof.
    "REWARD_VALIDATOR_T3" => reward_validator_t3: u64 = 1, Reward, from_spec: true;
    /// T3: taken from a selected prover for non-participation.
    "PENALTY_PROVER_T3" => penalty_prover_t3: i64 = -1, Penalty, from_spec: true;
    /// T3: taken from a prover per time its partial proof is not reused by others.
    "PENALTY_PROVER_NOTREUSED_T3" => penalty_prover_notreused_t3: i64 = -1, Penalty, from_spec: true;

    /// T4 (fallback aggregation): as `REWARD_PROVER_REUSING_T3`, with the table's T4 number.
    "REWARD_PROVER_REUSING_T4" => reward_prover_reusing_t4: u64 = 30, Reward, from_spec: true;
    /// T4: as `REWARD_PROVER_REUSED_T3`, with the table's T4 number.
    "REWARD_PROVER_REUSED_T4" => reward_prover_reused_t4: u64 = 30, Reward, from_spec: true;
    /// T4: as `REWARD_PROVER_T3`, with the table's T4 number.
    "REWARD_PROVER_T4" => reward_prover_t4: u64 = 40, Reward, from_spec: true;
    /// T4: as `REWARD_VALIDATOR_T3`, with the table's T4 number.
    "REWARD_VALIDATOR_T4" => reward_validator_t4: u64 = 1, Reward, from_spec: true;
    /// T4: as `PENALTY_PROVER_T3`, with the table's T4 number.
    "PENALTY_PROVER_T4" => penalty_prover_t4: i64 = -2, Penalty, from_spec: true;
    /// T4: as `PENALTY_PROVER_NOTREUSED_T3`, with the table's T4 number.
    "PENALTY_PROVER_NOTREUSED_T4" => penalty_prover_notreused_t4: i64 = -1, Penalty, from_spec: true;

    /// T5 (last fallback aggregation): as `REWARD_PROVER_REUSING_T3`, with the table's T5 number.
    "REWARD_PROVER_REUSING_T5" => reward_prover_reusing_t5: u64 = 20, Reward, from_spec: true;
    /// T5: as `REWARD_PROVER_REUSED_T3`, with the table's T5 number.
    "REWARD_PROVER_REUSED_T5" => reward_prover_reused_t5: u64 = 20, Reward, from_spec: true;
    /// T5: as `REWARD_PROVER_T3`, with the table's T5 number.
    "REWARD_PROVER_T5" => reward_prover_t5: u64 = 40, Reward, from_spec: true;
    /// T5: as `REWARD_VALIDATOR_T3`, with the table's T5 number.
    "REWARD_VALIDATOR_T5" => reward_validator_t5: u64 = 1, Reward, from_spec: true;
    /// T5: as `PENALTY_PROVER_T3`, with the table's T5 number.
    "PENALTY_PROVER_T5" => penalty_prover_t5: i64 = -4, Penalty, from_spec: true;
    /// T5: as `PENALTY_PROVER_NOTREUSED_T3`, with the table's T5 number.
    "PENALTY_PROVER_NOTREUSED_T5" => penalty_prover_notreused_t5: i64 = -1, Penalty, from_spec: true;

    /// Gigagas: paid to each aggregator prover of a valid AggProof.
    "REWARD_AGG_PROOF_PROVER" => reward_agg_proof_prover: u64 = 50, Reward, from_spec: true;
    /// Gigagas: paid to the validator (the proposer) that includes a valid AggProof.
    "REWARD_AGG_PROOF_VALIDATOR" => reward_agg_proof_validator: u64 = 3, Reward, from_spec: true;

    /// Not from the spec: taken from the stake of a prover that submits an invalid or stolen proof.
    "SLASH_INVALID_PROOF" => slash_invalid_proof: i64 = -100, Penalty, from_spec: false;
    /// Not from the spec: taken from the stake of a node that sends two different messages in one phase (the spec's one-transaction rule).
    "SLASH_EQUIVOCATION" => slash_equivocation: i64 = -200, Penalty, from_spec: false;
}

impl Rewards {
    /// Every variable as `(spec name, value, from_spec)`, in the spec's order: the rows the
    /// TUI help and the docs print. Values are reward units (numbers of provers for
    /// `PROVERS_PER_*`); `from_spec` is `false` for the variables DESIGN.md adds.
    #[must_use]
    pub fn table(&self) -> Vec<(&'static str, i64, bool)> {
        self.variables()
            .into_iter()
            .map(|v| (v.name, v.value, v.from_spec))
            .collect()
    }

    /// The value of the variable with this spec name (= YAML key), if there is one.
    #[must_use]
    pub fn get(&self, name: &str) -> Option<i64> {
        self.variables()
            .into_iter()
            .find(|v| v.name == name)
            .map(|v| v.value)
    }

    /// The kind of the variable with this spec name, if there is one.
    #[must_use]
    pub fn kind_of(name: &str) -> Option<VariableKind> {
        Self::default()
            .variables()
            .into_iter()
            .find(|v| v.name == name)
            .map(|v| v.kind)
    }

    /// Checks every sign: counts at least 1 where the protocol needs them, rewards not above
    /// `i64::MAX` (the ledger is signed), penalties and slashes at most 0 and above `i64::MIN`.
    ///
    /// `sub_block_sets` is `network_params.num_sub_block_sets`: `PROVERS_PER_AGGPROOF` must be
    /// at least 1 only when there are sub-blocks to aggregate (gigagas extension).
    ///
    /// # Errors
    ///
    /// `(field, reason)`: the field path (`rewards.<SPEC_NAME>`) and a sentence saying why.
    pub fn validate(&self, sub_block_sets: u32) -> Result<(), (String, String)> {
        let raw: Vec<(&'static str, i128)> = vec![
            ("PROVERS_PER_PROOF", i128::from(self.provers_per_proof)),
            (
                "PROVERS_PER_AGGPROOF",
                i128::from(self.provers_per_aggproof),
            ),
        ];
        for (name, value) in raw {
            let needed = name == "PROVERS_PER_PROOF" || sub_block_sets > 1;
            if needed && value < 1 {
                let why = if name == "PROVERS_PER_PROOF" {
                    "at least one prover must be selected per block"
                } else {
                    "with more than one sub-block set, at least one prover must aggregate them"
                };
                return Err((
                    format!("rewards.{name}"),
                    format!("rewards.{name} = {value} is impossible: {why}"),
                ));
            }
        }
        for v in self.variables() {
            let field = format!("rewards.{}", v.name);
            match v.kind {
                VariableKind::Count | VariableKind::Reward if v.value == i64::MAX => {
                    return Err((
                        field.clone(),
                        format!(
                            "{field} is too large: amounts must fit the ledger's signed 64-bit \
                             reward units (at most {})",
                            i64::MAX - 1
                        ),
                    ));
                }
                VariableKind::Penalty if v.value > 0 => {
                    return Err((
                        field.clone(),
                        format!(
                            "{field} = {} is impossible: penalties and slashes take value out of \
                             stake, so they are written with the spec's negative sign (use {})",
                            v.value, -v.value
                        ),
                    ));
                }
                VariableKind::Penalty if v.value == i64::MIN => {
                    return Err((
                        field.clone(),
                        format!(
                            "{field} is too large: amounts must fit the ledger's signed 64-bit \
                             reward units (at least {})",
                            i64::MIN + 1
                        ),
                    ));
                }
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_unique_and_match_the_serde_keys() {
        let mut names = Rewards::NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), Rewards::NAMES.len());
        let yaml = serde_yaml::to_string(&Rewards::default()).unwrap();
        let map: serde_yaml::Mapping = serde_yaml::from_str(&yaml).unwrap();
        let keys: Vec<&str> = map.keys().map(|k| k.as_str().unwrap()).collect();
        assert_eq!(keys, Rewards::NAMES);
    }

    #[test]
    fn kinds_follow_the_name_prefix() {
        for v in Rewards::default().variables() {
            let expected = if v.name.starts_with("PROVERS_PER_") {
                VariableKind::Count
            } else if v.name.starts_with("REWARD_") {
                VariableKind::Reward
            } else {
                assert!(v.name.starts_with("PENALTY_") || v.name.starts_with("SLASH_"));
                VariableKind::Penalty
            };
            assert_eq!(v.kind, expected, "{}", v.name);
            assert!(!v.doc.is_empty() && !v.doc.starts_with(' '));
            assert_eq!(
                v.from_spec,
                !v.doc.starts_with("Not from the spec"),
                "{}",
                v.name
            );
        }
    }

    #[test]
    fn get_and_kind_of() {
        let r = Rewards::default();
        assert_eq!(r.get("PENALTY_T2_PROVER"), Some(-3));
        assert_eq!(r.get("NOPE"), None);
        assert_eq!(
            Rewards::kind_of("SLASH_EQUIVOCATION"),
            Some(VariableKind::Penalty)
        );
    }

    #[test]
    fn validate_names_the_variable() {
        let mut r = Rewards::default();
        assert_eq!(r.validate(1), Ok(()));
        r.penalty_prover_t4 = 2;
        let (field, reason) = r.validate(1).unwrap_err();
        assert_eq!(field, "rewards.PENALTY_PROVER_T4");
        assert!(reason.contains("negative sign (use -2)"), "{reason}");

        let mut r = Rewards {
            provers_per_aggproof: 0,
            ..Rewards::default()
        };
        assert_eq!(r.validate(1), Ok(()));
        assert_eq!(r.validate(2).unwrap_err().0, "rewards.PROVERS_PER_AGGPROOF");
        r.reward_prover_t5 = u64::MAX;
        assert_eq!(r.validate(1).unwrap_err().0, "rewards.REWARD_PROVER_T5");
    }
}
