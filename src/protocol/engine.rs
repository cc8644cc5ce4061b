//! The slot/phase state machine and the spec's reward table.
//!
//! Source: spec "Multi-phase Proof Generation" (T1–T5 and their incentives),
//! "Prover Selection and Assignment", and DESIGN.md "Where the spec is silent or
//! inconsistent". Every choice the spec leaves open is marked *not from the spec*
//! below and in `docs/protocol.md`.
//!
//! Call order: [`Engine::new`] → per slot [`Engine::begin_slot`] → one
//! [`Engine::apply_block`] per phase until [`Engine::slot_done`]; drain
//! [`Engine::drain_events`] whenever convenient.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::Arc;

use alloy_primitives::{Address, B256, Bytes};

use super::events::{EntryKind, Event, LedgerEntry, Settlement, WarningKind};
use super::ledger::{Ledger, LedgerError, Sink};
use super::messages::{
    BLOCK_LEVEL, Included, Message, PartialRef, PhaseBlock, bloom_hash, commitment_hash, proof_hash,
};
use super::randao::RandaoMix;
use super::selection::{SetAssignment, assign, num_provers_selected, select_provers};
use super::types::{Outcome, Phase, Role, SetId, Slot};
use crate::config::{Devnet, ProposerSelection, Rewards, SlashDestination, mechanism_for};
use crate::mechanism::rules::{
    self, Delivery, Mechanism, MechanismConfig, MechanismKind, ProverInfo, Request,
};

/// Engine parameters, taken from the devnet YAML.
#[derive(Debug, Clone, PartialEq)]
pub struct EngineParams {
    /// The spec's variables table (plus the not-from-spec rows), reward units.
    pub rewards: Rewards,
    /// Sub-blocks (partial proofs) per block or per sub-block set.
    pub num_partial_proofs: u32,
    /// Distinct provers per sub-block.
    pub redundancy_factor: u32,
    /// Sub-block sets per block (gigagas extension); 1 normally.
    pub num_sub_block_sets: u32,
    /// Devnet seed (genesis RANDAO mix).
    pub seed: u64,
    /// P: protocol loss per liveness fault, reward units (paper's loss metric).
    pub liveness_penalty: u64,
    /// Where taken stake goes.
    pub slashed_to: SlashDestination,
    /// Provers below this stake are ejected, reward units (not from the spec).
    pub min_stake: u64,
    /// Reputation step per valid submission (not from the spec).
    pub reputation_step: f64,
    /// Reputation cap (not from the spec).
    pub reputation_cap: f64,
    /// Round robin or stake-weighted proposer.
    pub proposer_selection: ProposerSelection,
    /// The slot's procurement rule (YAML `mechanism:`). `spec` (the default) runs the
    /// table above; any other kind chooses the selected provers with
    /// [`Mechanism::request`] and replaces the table by [`Mechanism::settle`] at slot
    /// settlement (see [`Engine::begin_slot`] and `docs/protocol.md`, "Mechanisms").
    pub mechanism: MechanismConfig,
}

impl EngineParams {
    /// Parameters of a devnet definition.
    #[must_use]
    pub fn from_devnet(d: &Devnet) -> Self {
        let n = &d.network_params;
        EngineParams {
            rewards: d.rewards.clone(),
            num_partial_proofs: n.num_partial_proofs,
            redundancy_factor: n.redundancy_factor,
            num_sub_block_sets: n.num_sub_block_sets,
            seed: n.seed,
            liveness_penalty: n.liveness_penalty,
            slashed_to: n.slashed_to,
            min_stake: n.min_stake,
            reputation_step: n.reputation_step,
            reputation_cap: n.reputation_cap,
            proposer_selection: n.proposer_selection,
            mechanism: mechanism_for(d),
        }
    }
}

/// A genesis account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct GenesisAccount {
    /// Address.
    pub address: Address,
    /// Validator or prover (adversary agents hold no account).
    pub role: Role,
    /// Bonded stake, reward units.
    pub stake: u64,
    /// Liquid balance, reward units.
    pub balance: u64,
}

/// What the shell supplies at the start of a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotInput {
    /// The slot number; must be greater than the previous slot.
    pub slot: Slot,
    /// The proposer's RANDAO reveal (signature bytes, already checked by the shell
    /// against [`Engine::proposer_for`]).
    pub reveal: Bytes,
    /// For each sub-block set, the `num_partial_proofs + 1` state roots of the
    /// block's workload: `roots[i]` → `roots[i+1]` is sub-block `i`. Consecutive sets
    /// chain (set `s`'s last root is set `s+1`'s first).
    pub roots: Vec<Vec<B256>>,
}

/// Engine errors: a shell that calls out of order or a bad genesis. Messages from
/// nodes never cause an error; they are rejected inside the slot instead.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum EngineError {
    /// `apply_block` without a slot in progress.
    #[error("no slot in progress")]
    NoSlot,
    /// `begin_slot` while a slot is still in progress.
    #[error("slot {0} is still in progress")]
    SlotInProgress(Slot),
    /// The slot number did not increase.
    #[error("slot {got} does not follow slot {last}")]
    SlotNotIncreasing {
        /// Last slot.
        last: Slot,
        /// Requested slot.
        got: Slot,
    },
    /// A block for another slot or phase.
    #[error("block for slot {got_slot} {got_phase}, but slot {slot} {phase} is open")]
    WrongPhase {
        /// Open slot.
        slot: Slot,
        /// Open phase.
        phase: Phase,
        /// Block's slot.
        got_slot: Slot,
        /// Block's phase.
        got_phase: Phase,
    },
    /// The workload roots have the wrong shape.
    #[error("workload roots: {0}")]
    BadRoots(String),
    /// Too few provers to select a set with the redundancy factor.
    #[error("cannot select provers: {0}")]
    Selection(String),
    /// No validator at genesis.
    #[error("genesis has no validator")]
    NoValidators,
    /// Ledger failure (overflow or unknown account).
    #[error(transparent)]
    Ledger(#[from] LedgerError),
    /// The mechanism's parameters are impossible for this genesis (one sentence from
    /// [`rules::build_for`]), or it needs one sub-block set.
    #[error("mechanism: {0}")]
    Mechanism(String),
}

/// One accepted partial proof.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct AcceptedPartial {
    r: PartialRef,
    root_in: B256,
    root_out: B256,
}

/// One accepted full proof in an aggregation phase.
#[derive(Debug, Clone, PartialEq, Eq)]
struct AggEntry {
    aggregator: Address,
    reused: Vec<PartialRef>,
    proof: B256,
}

/// Per-set state within a slot.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SetState {
    /// Selection and assignment.
    pub assignment: SetAssignment,
    /// The set's roots (`num_partial_proofs + 1`).
    pub roots: Vec<B256>,
    /// Phase in which a valid full proof was finalized.
    pub finalized: Option<Phase>,
    /// True when the set failed (no full proof by the end of T5).
    pub failed: bool,
    /// The proof that finalized the set (`sub_block` = set index), for the
    /// gigagas AggProof.
    pub final_proof: Option<PartialRef>,
    committed: BTreeSet<Address>,
    t1_full: BTreeSet<Address>,
    full_senders: Vec<(Address, B256)>,
    partials: Vec<AcceptedPartial>,
    aggs: Vec<AggEntry>,
    txs: HashMap<(Phase, Address), Message>,
    equivocated: BTreeSet<(Phase, Address)>,
}

impl SetState {
    fn new(assignment: SetAssignment, roots: Vec<B256>) -> Self {
        SetState {
            assignment,
            roots,
            finalized: None,
            failed: false,
            final_proof: None,
            committed: BTreeSet::new(),
            t1_full: BTreeSet::new(),
            full_senders: Vec::new(),
            partials: Vec::new(),
            aggs: Vec::new(),
            txs: HashMap::new(),
            equivocated: BTreeSet::new(),
        }
    }

    /// What each selected prover delivered, for [`Mechanism::settle`]: `delivered` when it
    /// committed in T1 and every assigned sub-block has its accepted partial (T2, so in
    /// time), or it sent an accepted full proof in T1/T2; `amount` = its accepted partials
    /// (its assigned count, at least 1, for a full proof).
    fn deliveries(&self) -> Vec<Delivery> {
        self.assignment
            .selected
            .iter()
            .map(|p| {
                let owed = self.assignment.assignments.get(p).map_or(0, Vec::len) as u64;
                let valid = self.partials.iter().filter(|a| a.r.prover == *p).count() as u64;
                let full = self.full_senders.iter().any(|(a, _)| a == p);
                Delivery {
                    prover: *p,
                    delivered: full || (self.committed.contains(p) && valid >= owed),
                    amount: if full { owed.max(1) } else { valid },
                }
            })
            .collect()
    }

    /// The accepted valid partial proofs of this set: (reference, root_in, root_out).
    #[must_use]
    pub fn accepted_partials(&self) -> Vec<(PartialRef, B256, B256)> {
        self.partials
            .iter()
            .map(|p| (p.r, p.root_in, p.root_out))
            .collect()
    }

    fn settled(&self) -> bool {
        self.finalized.is_some() || self.failed
    }
}

#[derive(Debug, Clone)]
struct SlotState {
    slot: Slot,
    block: u64,
    proposer: Address,
    phase: Phase,
    sets: Vec<SetState>,
    done: bool,
    entries: Vec<LedgerEntry>,
    /// A non-spec mechanism's request and the provers it saw.
    request: Option<(Request, Vec<ProverInfo>)>,
    proofs_submitted: u32,
    proofs_valid: u32,
    seen_proofs: HashMap<B256, Address>,
    /// Gigagas: the PROVERS_PER_AGGPROOF provers that aggregate the sets.
    agg_group: Vec<Address>,
    /// Gigagas: valid AggProof senders of the open phase.
    agg_valid: Vec<Address>,
    /// Gigagas: AggProof senders per phase (one transaction per phase).
    agg_txs: BTreeSet<(Phase, Address)>,
    /// Gigagas: the phase whose block included a valid AggProof.
    agg_done: Option<Phase>,
    /// Gigagas: no valid AggProof by the end of T5.
    agg_failed: bool,
}

impl SlotState {
    fn agg_pending(&self) -> bool {
        self.sets.len() > 1
            && self.agg_done.is_none()
            && !self.agg_failed
            && self.sets.iter().all(|s| s.finalized.is_some())
    }

    fn agg_target(&self) -> Option<(Vec<B256>, Vec<PartialRef>)> {
        if self.sets.len() < 2 {
            return None;
        }
        let mut roots = vec![*self.sets.first()?.roots.first()?];
        let mut refs = Vec::with_capacity(self.sets.len());
        for s in &self.sets {
            roots.push(*s.roots.last()?);
            refs.push(s.final_proof?);
        }
        Some((roots, refs))
    }

    fn all_settled(&self) -> bool {
        let sets_settled = self.sets.iter().all(SetState::settled);
        let any_failed = self.sets.iter().any(|s| s.failed);
        sets_settled
            && (self.sets.len() == 1 || any_failed || self.agg_done.is_some() || self.agg_failed)
    }
}

/// The pure protocol engine. See the module docs for the call order.
#[derive(Debug, Clone)]
pub struct Engine {
    params: EngineParams,
    ledger: Ledger,
    mix: RandaoMix,
    validators: Vec<Address>,
    provers: Vec<Address>,
    ejected: BTreeSet<Address>,
    valid_history: BTreeMap<Address, u64>,
    block: u64,
    last_slot: Option<Slot>,
    cur: Option<SlotState>,
    events: Vec<Event>,
    /// The non-spec mechanism, `None` for `spec`.
    mechanism: Option<Arc<dyn Mechanism>>,
}

impl Engine {
    /// A fresh engine at genesis. Emits [`Event::Genesis`].
    ///
    /// # Errors
    /// [`EngineError::NoValidators`], duplicate accounts or overflow;
    /// [`EngineError::Mechanism`] for impossible mechanism parameters.
    pub fn new(params: EngineParams, genesis: &[GenesisAccount]) -> Result<Self, EngineError> {
        let mut ledger = Ledger::default();
        let mut validators = Vec::new();
        let mut provers = Vec::new();
        for g in genesis {
            ledger.open(g.address, g.role, g.stake, g.balance)?;
            match g.role {
                Role::Validator => validators.push(g.address),
                Role::Prover => provers.push(g.address),
                Role::Adversary => {}
            }
        }
        if validators.is_empty() {
            return Err(EngineError::NoValidators);
        }
        let mechanism = if params.mechanism.kind == MechanismKind::Spec {
            None
        } else {
            let m = rules::build_for(&params.mechanism, provers.len())
                .map_err(EngineError::Mechanism)?;
            Some(Arc::from(m))
        };
        let mix = RandaoMix::genesis(params.seed);
        let mut e = Engine {
            params,
            ledger,
            mix,
            validators,
            provers,
            ejected: BTreeSet::new(),
            valid_history: BTreeMap::new(),
            block: 0,
            last_slot: None,
            cur: None,
            events: Vec::new(),
            mechanism,
        };
        e.events.push(Event::Genesis {
            accounts: e.ledger.accounts().cloned().collect(),
            totals: e.ledger.totals(),
        });
        let (kind, params) = match &e.mechanism {
            Some(m) => (m.kind().to_owned(), m.params()),
            None => (
                "spec".to_owned(),
                vec![
                    (
                        "PROVERS_PER_PROOF".to_owned(),
                        e.params.rewards.provers_per_proof.to_string(),
                    ),
                    (
                        "redundancy".to_owned(),
                        e.params.redundancy_factor.to_string(),
                    ),
                ],
            ),
        };
        e.events.push(Event::MechanismChosen { kind, params });
        Ok(e)
    }

    /// The engine's parameters.
    #[must_use]
    pub fn params(&self) -> &EngineParams {
        &self.params
    }

    /// The ledger (read-only: only the engine moves money).
    #[must_use]
    pub fn ledger(&self) -> &Ledger {
        &self.ledger
    }

    /// The current RANDAO mix (the one the next slot's selection uses).
    #[must_use]
    pub fn mix(&self) -> RandaoMix {
        self.mix
    }

    /// Validators in genesis order.
    #[must_use]
    pub fn validators(&self) -> &[Address] {
        &self.validators
    }

    /// The block height the next slot proves (a liveness fault carries it over).
    #[must_use]
    pub fn next_block(&self) -> u64 {
        self.block
    }

    /// The proposer of `slot`: round robin over validators, or stake-weighted
    /// from the RANDAO mix (DESIGN.md "Chain").
    #[must_use]
    pub fn proposer_for(&self, slot: Slot) -> Address {
        match self.params.proposer_selection {
            ProposerSelection::RoundRobin => {
                self.validators[(slot % self.validators.len() as u64) as usize]
            }
            ProposerSelection::StakeWeighted => {
                let cands: Vec<(Address, u64)> = self
                    .validators
                    .iter()
                    .map(|v| (*v, self.ledger.account(v).map_or(1, |a| a.stake.max(1))))
                    .collect();
                select_provers(&self.mix, slot, u32::MAX, &cands, 1)[0]
            }
        }
    }

    /// The open slot and phase, if a slot is in progress.
    #[must_use]
    pub fn current(&self) -> Option<(Slot, Phase)> {
        self.cur
            .as_ref()
            .filter(|c| !c.done)
            .map(|c| (c.slot, c.phase))
    }

    /// True when the last begun slot has settled (or none was begun).
    #[must_use]
    pub fn slot_done(&self) -> bool {
        self.cur.as_ref().is_none_or(|c| c.done)
    }

    /// The state of set `set` of the current (or last) slot.
    #[must_use]
    pub fn set_state(&self, set: SetId) -> Option<&SetState> {
        self.cur.as_ref().and_then(|c| c.sets.get(set as usize))
    }

    /// The proposer of the current (or last) slot.
    #[must_use]
    pub fn current_proposer(&self) -> Option<Address> {
        self.cur.as_ref().map(|c| c.proposer)
    }

    /// Take the events emitted so far.
    pub fn drain_events(&mut self) -> Vec<Event> {
        std::mem::take(&mut self.events)
    }

    /// Provers that may be selected: staked, not ejected.
    #[must_use]
    pub fn available_provers(&self) -> Vec<Address> {
        self.provers
            .iter()
            .filter(|p| !self.ejected.contains(*p))
            .copied()
            .collect()
    }

    fn weight(&self, p: &Address) -> u64 {
        let hist = self.valid_history.get(p).copied().unwrap_or(0) as f64;
        let bonus = (hist * self.params.reputation_step)
            .min(self.params.reputation_cap)
            .max(0.0);
        ((1.0 + bonus) * 1000.0).round() as u64
    }

    /// Start `input.slot`: select provers per sub-block set from the current RANDAO
    /// mix, assign sub-blocks with the redundancy factor, then mix in the reveal.
    /// Sets get disjoint prover sets ("A prover may only be assigned to one proof at
    /// a time"); each set selects `Min(PROVERS_PER_PROOF, available / (2 × sets))`
    /// (the spec's formula, split evenly across sets: not from the spec).
    ///
    /// # Errors
    /// [`EngineError::SlotInProgress`], [`EngineError::SlotNotIncreasing`],
    /// [`EngineError::BadRoots`], [`EngineError::Selection`].
    pub fn begin_slot(&mut self, input: SlotInput) -> Result<(), EngineError> {
        if let Some(c) = &self.cur {
            if !c.done {
                return Err(EngineError::SlotInProgress(c.slot));
            }
        }
        if let Some(last) = self.last_slot {
            if input.slot <= last {
                return Err(EngineError::SlotNotIncreasing {
                    last,
                    got: input.slot,
                });
            }
        }
        let n_sets = self.params.num_sub_block_sets as usize;
        let n = self.params.num_partial_proofs as usize;
        if input.roots.len() != n_sets || input.roots.iter().any(|r| r.len() != n + 1) {
            return Err(EngineError::BadRoots(format!(
                "expected {n_sets} sets of {} roots",
                n + 1
            )));
        }
        if let Some(mech) = self.mechanism.clone() {
            return self.begin_mechanism_slot(&*mech, input);
        }
        let mut pool: Vec<(Address, u64)> = self
            .available_provers()
            .iter()
            .map(|p| (*p, self.weight(p)))
            .collect();
        let per_set = num_provers_selected(
            self.params.rewards.provers_per_proof,
            pool.len() / n_sets.max(1),
        );
        let mut sets = Vec::with_capacity(n_sets);
        for (s, roots) in input.roots.iter().enumerate() {
            let set = s as SetId;
            let selected = select_provers(&self.mix, input.slot, set, &pool, per_set);
            pool.retain(|(a, _)| !selected.contains(a));
            let assignments = assign(
                &selected,
                self.params.num_partial_proofs,
                self.params.redundancy_factor,
            )
            .ok_or_else(|| {
                EngineError::Selection(format!(
                    "{} provers selected for set {set} but redundancy_factor is {}",
                    selected.len(),
                    self.params.redundancy_factor
                ))
            })?;
            let k = selected.len();
            let aggregators = [selected[0], selected[1 % k], selected[2 % k]];
            sets.push(SetState::new(
                SetAssignment {
                    set,
                    selected,
                    assignments,
                    aggregators,
                },
                roots.clone(),
            ));
        }
        // Gigagas (spec "Extension for Multiple Sub-blocks"): "A group of
        // PROVERS_PER_AGGPROOF provers is also selected to aggregate sub-blocks into a
        // full block", from the provers no set selected (all provers if none is left).
        let agg_group = if n_sets > 1 {
            if pool.is_empty() {
                pool = self
                    .available_provers()
                    .iter()
                    .map(|p| (*p, self.weight(p)))
                    .collect();
            }
            let k = usize::try_from(self.params.rewards.provers_per_aggproof)
                .unwrap_or(usize::MAX)
                .min(pool.len());
            select_provers(&self.mix, input.slot, BLOCK_LEVEL, &pool, k)
        } else {
            Vec::new()
        };
        self.open_slot(&input, sets, agg_group, None);
        Ok(())
    }

    /// Mixes in the reveal, emits `SlotStarted` (and the AggProof group) and opens T1.
    fn open_slot(
        &mut self,
        input: &SlotInput,
        sets: Vec<SetState>,
        agg_group: Vec<Address>,
        request: Option<(Request, Vec<ProverInfo>)>,
    ) {
        let proposer = self.proposer_for(input.slot);
        let used_mix = self.mix;
        self.mix.mix_in(&input.reveal);
        self.last_slot = Some(input.slot);
        self.events.push(Event::SlotStarted {
            slot: input.slot,
            block: self.block,
            proposer,
            randao_mix: used_mix.0,
            sets: sets.iter().map(|s| s.assignment.clone()).collect(),
        });
        if !agg_group.is_empty() {
            self.events.push(Event::AggGroupSelected {
                slot: input.slot,
                group: agg_group.clone(),
            });
        }
        self.events.push(Event::PhaseOpened {
            slot: input.slot,
            phase: Phase::T1,
        });
        self.cur = Some(SlotState {
            slot: input.slot,
            block: self.block,
            proposer,
            phase: Phase::T1,
            sets,
            done: false,
            entries: Vec::new(),
            request,
            proofs_submitted: 0,
            proofs_valid: 0,
            seen_proofs: HashMap::new(),
            agg_group,
            agg_valid: Vec::new(),
            agg_txs: BTreeSet::new(),
            agg_done: None,
            agg_failed: false,
        });
    }

    /// `begin_slot` under a non-spec mechanism (one sub-block set): the provers the
    /// mechanism asks ([`Mechanism::request`], uniform draws from the RANDAO mix under the
    /// domain `mechanism`) are the set's selected provers, in request order, so the
    /// designate (if any) is the T3 aggregator. Sub-blocks go to them by the first rule
    /// that applies:
    /// * a proof tree (`Request::tree`): leaf `i` is sub-block `i`, to the leaf's prover;
    /// * an allocation (`Request::allocation`, units = partial proofs): the asked provers
    ///   in order take their units of consecutive sub-blocks, cyclically, at most every
    ///   sub-block each;
    /// * otherwise [`assign`] with `min(redundancy_factor, asked)` copies.
    ///
    /// Sub-blocks nobody holds are proven inline by the aggregator. A mechanism that asks
    /// nobody leaves the set empty: the slot runs to a liveness fault. The provers it sees
    /// are the available provers in genesis order with their stake, capacity
    /// `num_partial_proofs` and cost 0 (YAML lists such as `bids` override these).
    fn begin_mechanism_slot(
        &mut self,
        mech: &dyn Mechanism,
        input: SlotInput,
    ) -> Result<(), EngineError> {
        if input.roots.len() != 1 {
            return Err(EngineError::Mechanism(format!(
                "mechanism `{}` runs with one sub-block set, not {}",
                mech.kind(),
                input.roots.len()
            )));
        }
        let n = self.params.num_partial_proofs;
        let infos: Vec<ProverInfo> = self
            .available_provers()
            .iter()
            .map(|p| ProverInfo {
                address: *p,
                stake: self.ledger.account(p).map_or(0, |a| a.stake),
                capacity: u64::from(n),
                cost: 0,
            })
            .collect();
        let mix = self.mix;
        let slot = input.slot;
        let mut counter = 0u64;
        let mut draw = || {
            let x = mix.draw(b"mechanism", slot, 0, counter);
            counter += 1;
            (x >> 11) as f64 / (1u64 << 53) as f64
        };
        let request = mech.request(slot, &infos, &mut draw);
        let mut selected: Vec<Address> = Vec::with_capacity(request.asked.len());
        for a in &request.asked {
            if infos.iter().any(|i| i.address == *a) && !selected.contains(a) {
                selected.push(*a);
            }
        }
        let mut assignments: BTreeMap<Address, Vec<u32>> =
            selected.iter().map(|a| (*a, Vec::new())).collect();
        if !request.tree.is_empty() {
            let leaves = request.tree.iter().filter(|t| t.children.is_none());
            for (i, leaf) in leaves.enumerate().take(n as usize) {
                if let Some(v) = assignments.get_mut(&leaf.prover) {
                    v.push(i as u32);
                }
            }
        } else if !request.allocation.is_empty() {
            let mut cursor = 0u32;
            for a in &selected {
                let k = request.allocated(a).min(u64::from(n)) as u32;
                let v = assignments.get_mut(a).expect("selected");
                for j in 0..k {
                    v.push((cursor + j) % n);
                }
                v.sort_unstable();
                cursor = (cursor + k) % n.max(1);
            }
        } else if !selected.is_empty() {
            let r = self.params.redundancy_factor.min(selected.len() as u32);
            assignments = assign(&selected, n, r).expect("1 <= r <= selected");
        }
        let aggregators = if selected.is_empty() {
            [Address::ZERO; 3]
        } else {
            let k = selected.len();
            [selected[0], selected[1 % k], selected[2 % k]]
        };
        let set = SetState::new(
            SetAssignment {
                set: 0,
                selected,
                assignments,
                aggregators,
            },
            input.roots[0].clone(),
        );
        self.open_slot(&input, vec![set], Vec::new(), Some((request, infos)));
        Ok(())
    }

    /// The senders whose message closes the open phase early in `--fast` mode:
    /// every selected prover in T1 and T2, the designated aggregator in T3–T5,
    /// over the sets that have not settled.
    #[must_use]
    pub fn expected_senders(&self) -> Vec<(SetId, Address)> {
        let Some(c) = self.cur.as_ref().filter(|c| !c.done) else {
            return Vec::new();
        };
        let mut out = Vec::new();
        for s in c.sets.iter().filter(|s| !s.settled()) {
            let set = s.assignment.set;
            match c.phase {
                Phase::T1 | Phase::T2 => {
                    out.extend(s.assignment.selected.iter().map(|a| (set, *a)));
                }
                // A mechanism may ask nobody: then no aggregator is awaited.
                _ if s.assignment.selected.is_empty() => {}
                p => out.push((set, s.assignment.aggregators[p.index() - 3])),
            }
        }
        if c.agg_pending() {
            out.extend(c.agg_group.iter().map(|a| (BLOCK_LEVEL, *a)));
        }
        out
    }

    /// Gigagas: the AggProof group of the current (or last) slot (empty with one set).
    #[must_use]
    pub fn agg_group(&self) -> &[Address] {
        self.cur.as_ref().map_or(&[], |c| c.agg_group.as_slice())
    }

    /// Gigagas: the phase in which the current (or last) slot's AggProof was included.
    #[must_use]
    pub fn agg_done(&self) -> Option<Phase> {
        self.cur.as_ref().and_then(|c| c.agg_done)
    }

    /// Gigagas: the AggProof's expected public data once every set is finalized —
    /// the boundary roots (block start, then each set's end) and one reference per
    /// set to the proof that finalized it.
    #[must_use]
    pub fn agg_target(&self) -> Option<(Vec<B256>, Vec<PartialRef>)> {
        let c = self.cur.as_ref()?;
        c.agg_target()
    }

    /// Apply the finalized block of the open phase: judge every included message
    /// under the protocol rules, apply the phase's table rows, then open the next
    /// phase or settle the slot.
    ///
    /// # Errors
    /// [`EngineError::NoSlot`], [`EngineError::WrongPhase`], ledger errors.
    pub fn apply_block(&mut self, block: &PhaseBlock) -> Result<(), EngineError> {
        let (slot, phase) = self.current().ok_or(EngineError::NoSlot)?;
        if block.slot != slot || block.phase != phase {
            return Err(EngineError::WrongPhase {
                slot,
                phase,
                got_slot: block.slot,
                got_phase: block.phase,
            });
        }
        for inc in &block.included {
            self.judge(phase, inc)?;
        }
        let mut finalized_now = false;
        let n_sets = self.cur.as_ref().map_or(0, |c| c.sets.len());
        for s in 0..n_sets {
            if self.cur.as_ref().is_some_and(|c| !c.sets[s].settled()) {
                finalized_now |= self.settle_phase(s, phase)?;
            }
        }
        finalized_now = self.settle_agg_proof(phase, finalized_now)?;
        self.events.push(Event::PhaseClosed {
            slot,
            phase,
            finalized: finalized_now,
        });
        let all_settled = self.cur.as_ref().is_some_and(SlotState::all_settled);
        if all_settled {
            self.settle_slot()?;
        } else if let Some(next) = phase.next() {
            if let Some(c) = self.cur.as_mut() {
                c.phase = next;
            }
            self.events.push(Event::PhaseOpened { slot, phase: next });
        }
        Ok(())
    }

    /// Gigagas: pay the AggProof rows when a valid AggProof was included in this
    /// phase (REWARD_AGG_PROOF_PROVER to each group prover that submitted one,
    /// REWARD_AGG_PROOF_VALIDATOR to the including proposer). With several sets the
    /// block is finalized only by the AggProof; none by the end of T5 is a liveness
    /// fault. Not from the spec: the spec puts the AggProof in T1, but it can only
    /// exist once every set has its full proof, so it is accepted in any phase after
    /// that. Returns whether the block finalized now (for one set: `sets_finalized`).
    fn settle_agg_proof(
        &mut self,
        phase: Phase,
        sets_finalized: bool,
    ) -> Result<bool, EngineError> {
        let Some(c) = self.cur.as_mut() else {
            return Err(EngineError::NoSlot);
        };
        if c.sets.len() < 2 {
            return Ok(sets_finalized);
        }
        let senders = std::mem::take(&mut c.agg_valid);
        if c.agg_done.is_some() || c.sets.iter().any(|s| s.failed) {
            return Ok(false);
        }
        let proposer = c.proposer;
        if !senders.is_empty() {
            c.agg_done = Some(phase);
            let r = self.params.rewards.clone();
            for who in senders {
                self.pay(
                    phase,
                    who,
                    r.reward_agg_proof_prover,
                    "REWARD_AGG_PROOF_PROVER",
                )?;
            }
            self.pay(
                phase,
                proposer,
                r.reward_agg_proof_validator,
                "REWARD_AGG_PROOF_VALIDATOR",
            )?;
            return Ok(true);
        }
        if phase == Phase::T5 {
            c.agg_failed = true;
        }
        Ok(false)
    }

    /// Gigagas: judge an AggProof (spec "Extension for Multiple Sub-blocks").
    fn judge_agg_proof(
        &mut self,
        phase: Phase,
        inc: &Included,
    ) -> Result<Result<(), String>, EngineError> {
        let Message::AggProof(a) = &inc.msg else {
            return Ok(Err("not an AggProof".into()));
        };
        let from = inc.from;
        let c = self.cur.as_ref().ok_or(EngineError::NoSlot)?;
        if a.slot != c.slot {
            return Ok(Err(format!(
                "message is for slot {}, not slot {} (stale or replayed)",
                a.slot, c.slot
            )));
        }
        if c.sets.len() < 2 {
            return Ok(Err(
                "this devnet has one sub-block set: there is nothing to AggProof".into(),
            ));
        }
        if let Some(p) = c.agg_done {
            return Ok(Err(format!(
                "the block's AggProof was already included in {p}"
            )));
        }
        if !self.is_prover(&from) {
            return Ok(Err("sender is not a staked prover".into()));
        }
        if !c.agg_group.contains(&from) {
            return Ok(Err("sender is not in the slot's AggProof group".into()));
        }
        if c.agg_txs.contains(&(phase, from)) {
            return Ok(Err("one AggProof per prover per phase".into()));
        }
        let target = c.agg_target();
        self.cur
            .as_mut()
            .expect("slot")
            .agg_txs
            .insert((phase, from));
        if let super::messages::Verdict::Invalid(reason) = &inc.verdict {
            self.warn(phase, from, WarningKind::InvalidProof, reason.clone());
            let amt = self.params.rewards.slash_invalid_proof;
            self.take(phase, from, amt, EntryKind::Slash, "SLASH_INVALID_PROOF")?;
            return Ok(Err(format!("invalid proof: {reason}")));
        }
        let Some((roots, refs)) = target else {
            return Ok(Err("not every sub-block set is finalized yet".into()));
        };
        if a.roots != roots {
            return Ok(Err("AggProof boundary roots do not match the block".into()));
        }
        if a.sets != refs {
            return Ok(Err(
                "AggProof does not reference the proofs that finalized the sets".into(),
            ));
        }
        if a.bloom != bloom_hash(&a.sets) {
            return Ok(Err(
                "BloomHash does not match the referenced set proofs".into()
            ));
        }
        self.cur.as_mut().expect("slot").agg_valid.push(from);
        Ok(Ok(()))
    }

    fn sink(&self, proposer: Address) -> Sink {
        match self.params.slashed_to {
            SlashDestination::Burn => Sink::Burn,
            SlashDestination::Protocol => Sink::Treasury,
            SlashDestination::Proposer => Sink::Account(proposer),
        }
    }

    /// Mint `amount` to `to` under `rule`. Zero amounts are skipped.
    fn pay(
        &mut self,
        phase: Phase,
        to: Address,
        amount: u64,
        rule: &str,
    ) -> Result<(), EngineError> {
        if amount == 0 {
            return Ok(());
        }
        self.ledger.reward(to, amount)?;
        self.record(phase, to, EntryKind::Reward, amount, amount, rule);
        Ok(())
    }

    /// Take `|amount|` from `from`'s stake (a spec penalty, or a slash).
    fn take(
        &mut self,
        phase: Phase,
        from: Address,
        amount: i64,
        kind: EntryKind,
        rule: &str,
    ) -> Result<(), EngineError> {
        let proposer = self.cur.as_ref().map_or(from, |c| c.proposer);
        let sink = self.sink(proposer);
        self.take_to(phase, from, amount, kind, rule, sink)
    }

    /// [`Self::take`] into an explicit sink.
    fn take_to(
        &mut self,
        phase: Phase,
        from: Address,
        amount: i64,
        kind: EntryKind,
        rule: &str,
        sink: Sink,
    ) -> Result<(), EngineError> {
        let amount = amount.unsigned_abs();
        if amount == 0 || self.ledger.account(&from).is_none() {
            return Ok(());
        }
        let applied = self
            .ledger
            .take_stake(from, amount, kind == EntryKind::Slash, sink)?;
        self.record(phase, from, kind, amount, applied, rule);
        Ok(())
    }

    fn record(
        &mut self,
        phase: Phase,
        node: Address,
        kind: EntryKind,
        amount: u64,
        applied: u64,
        rule: &str,
    ) {
        let slot = self.cur.as_ref().map_or(0, |c| c.slot);
        let e = LedgerEntry {
            slot,
            phase,
            node,
            kind,
            amount,
            rule: rule.to_string(),
            applied,
        };
        if let Some(c) = self.cur.as_mut() {
            c.entries.push(e.clone());
        }
        self.events.push(Event::Ledger(e));
    }

    fn warn(&mut self, phase: Phase, node: Address, kind: WarningKind, detail: String) {
        let slot = self.cur.as_ref().map_or(0, |c| c.slot);
        self.events.push(Event::Warning {
            slot,
            phase,
            node,
            kind,
            detail,
        });
    }

    /// A prover of the set: a prover account that has not been ejected.
    // Fix (engine tests): an ejected prover "left the prover set" (DESIGN.md, `Ejected`),
    // so its messages are rejected like any non-prover's; before, it could still
    // aggregate in T3–T5 ("any prover may submit") and collect `REWARD_PROVER_T*`.
    fn is_prover(&self, a: &Address) -> bool {
        !self.ejected.contains(a)
            && self
                .ledger
                .account(a)
                .is_some_and(|acct| acct.role == Role::Prover)
    }

    /// Judge one included message and emit `MessageIncluded` (plus warnings and
    /// slashing). Not from the spec: an invalid or stolen proof is slashed
    /// `SLASH_INVALID_PROOF`; a second, different message in one phase (the spec's
    /// one-transaction rule) is slashed `SLASH_EQUIVOCATION`.
    fn judge(&mut self, phase: Phase, inc: &Included) -> Result<(), EngineError> {
        let result = if matches!(inc.msg, Message::AggProof(_)) {
            self.judge_agg_proof(phase, inc)?
        } else {
            self.judge_inner(phase, inc)?
        };
        let c = self.cur.as_mut().ok_or(EngineError::NoSlot)?;
        let count = inc.msg.proof_count();
        c.proofs_submitted += count;
        if inc.verdict.is_valid() {
            c.proofs_valid += count;
        }
        if result.is_ok() {
            self.valid_history
                .entry(inc.from)
                .and_modify(|h| *h += u64::from(count.min(1)))
                .or_insert(u64::from(count.min(1)));
        }
        self.events.push(Event::MessageIncluded {
            slot: c.slot,
            phase,
            from: inc.from,
            kind: inc.msg.kind(),
            proofs: count,
            verdict: inc.verdict.clone(),
            accepted: result.is_ok(),
            rejection: result.err(),
        });
        Ok(())
    }

    #[allow(clippy::too_many_lines)]
    fn judge_inner(
        &mut self,
        phase: Phase,
        inc: &Included,
    ) -> Result<Result<(), String>, EngineError> {
        let from = inc.from;
        let c = self.cur.as_ref().ok_or(EngineError::NoSlot)?;
        let slot = c.slot;
        if inc.msg.slot() != slot {
            return Ok(Err(format!(
                "message is for slot {}, not slot {slot} (stale or replayed)",
                inc.msg.slot()
            )));
        }
        let set_id = inc.msg.set() as usize;
        let Some(set) = c.sets.get(set_id) else {
            return Ok(Err(format!("no sub-block set {set_id}")));
        };
        if let Some(p) = set.finalized {
            return Ok(Err(format!("set {set_id} was already finalized in {p}")));
        }
        if !self.is_prover(&from) {
            return Ok(Err("sender is not a staked prover".into()));
        }
        // Fix (engine tests): a message of a kind this phase does not accept (a late
        // commitment or late partials, an early partial or aggregation) is rejected below
        // and is not one of the phase's transactions, so it does not take the sender's
        // one transaction: a slow prover whose T2 partials land in the T3 block may still
        // aggregate in T3 without being slashed for equivocation.
        let wrong_phase = match inc.msg {
            Message::Commit(_) => phase != Phase::T1,
            Message::Partials(_) => phase != Phase::T2,
            Message::FullProof(_) => false,
            Message::Aggregate(_) => !phase.is_aggregation(),
            Message::AggProof(_) => true,
        };
        // One transaction per prover per phase (spec T1).
        let prev = if wrong_phase {
            None
        } else {
            set.txs.get(&(phase, from))
        };
        if let Some(prev) = prev {
            if *prev == inc.msg {
                return Ok(Err("duplicate of an included message".into()));
            }
            let first = !set.equivocated.contains(&(phase, from));
            if first {
                self.cur.as_mut().expect("slot").sets[set_id]
                    .equivocated
                    .insert((phase, from));
                self.warn(
                    phase,
                    from,
                    WarningKind::Equivocation,
                    format!("second, different {:?} message in {phase}", inc.msg.kind()),
                );
                let amt = self.params.rewards.slash_equivocation;
                self.take(phase, from, amt, EntryKind::Slash, "SLASH_EQUIVOCATION")?;
            }
            return Ok(Err(
                "second message in one phase (one-transaction rule)".into()
            ));
        }
        if !wrong_phase {
            self.cur.as_mut().expect("slot").sets[set_id]
                .txs
                .insert((phase, from), inc.msg.clone());
        }

        // Proof hashes carried, for theft detection.
        let hashes: Vec<B256> = match &inc.msg {
            Message::Commit(_) => vec![],
            Message::Partials(ps) => ps.iter().map(|p| proof_hash(&p.proof)).collect(),
            Message::FullProof(f) => vec![proof_hash(&f.proof)],
            Message::Aggregate(a) => std::iter::once(proof_hash(&a.link_proof))
                .chain(a.own.iter().map(|p| proof_hash(&p.proof)))
                .collect(),
            Message::AggProof(a) => vec![proof_hash(&a.link_proof)],
        };
        let stolen_from = {
            let c = self.cur.as_ref().expect("slot");
            hashes
                .iter()
                .find_map(|h| c.seen_proofs.get(h).filter(|o| **o != from).copied())
        };
        if let Some(owner) = stolen_from {
            self.warn(
                phase,
                from,
                WarningKind::StolenProof,
                format!("proof bytes equal a proof already submitted by {owner}"),
            );
            let amt = self.params.rewards.slash_invalid_proof;
            self.take(phase, from, amt, EntryKind::Slash, "SLASH_INVALID_PROOF")?;
            return Ok(Err(format!("stolen proof (first submitted by {owner})")));
        }
        // Fix (engine tests): only proofs that verify establish who owns their bytes. A
        // proof's public input is its prover's address, so a copy submitted under another
        // key never verifies; recording it would let a thief whose copy is included
        // before the original "own" the bytes and get the real owner flagged and slashed
        // as the thief.
        if inc.verdict.is_valid() {
            let c = self.cur.as_mut().expect("slot");
            for h in &hashes {
                c.seen_proofs.entry(*h).or_insert(from);
            }
        }
        if let crate::protocol::Verdict::Invalid(reason) = &inc.verdict {
            self.warn(phase, from, WarningKind::InvalidProof, reason.clone());
            let amt = self.params.rewards.slash_invalid_proof;
            self.take(phase, from, amt, EntryKind::Slash, "SLASH_INVALID_PROOF")?;
            return Ok(Err(format!("invalid proof: {reason}")));
        }

        let c = self.cur.as_ref().expect("slot");
        let set = &c.sets[set_id];
        let selected = set.assignment.is_selected(&from);
        let n = set.roots.len() - 1;
        let verdict: Result<(), String> = match (&inc.msg, phase) {
            (Message::Commit(cm), Phase::T1) => {
                if !selected {
                    Err("not selected for this set".into())
                } else {
                    let claims: Vec<(u32, B256, B256)> = set.assignment.assignments[&from]
                        .iter()
                        .map(|&b| (b, set.roots[b as usize], set.roots[b as usize + 1]))
                        .collect();
                    let expect = commitment_hash(from, slot, set_id as SetId, &claims);
                    if cm.hash == expect {
                        Ok(())
                    } else {
                        Err("commitment does not match the assignment and its roots".into())
                    }
                }
            }
            (Message::Commit(_), _) => {
                self.warn(phase, from, WarningKind::Late, "commitment after T1".into());
                Err("commitment after T1 (late)".into())
            }
            (Message::FullProof(f), p) => {
                if p <= Phase::T2 && !selected {
                    Err("only selected provers submit full proofs in T1/T2".into())
                } else if f.root_in != set.roots[0] || f.root_out != set.roots[n] {
                    Err("full proof roots do not match the block".into())
                } else {
                    Ok(())
                }
            }
            (Message::Partials(_), Phase::T1) => Err("partial proofs open in T2".into()),
            (Message::Partials(ps), Phase::T2) => {
                if !selected {
                    Err("not selected for this set".into())
                } else if !set.committed.contains(&from) {
                    Err("no valid T1 commitment to open".into())
                } else {
                    let mine = &set.assignment.assignments[&from];
                    let mut seen = BTreeSet::new();
                    ps.iter()
                        .map(|p| {
                            if p.set as usize != set_id || p.slot != slot {
                                Err("partials for several slots or sets in one message".to_string())
                            } else if !mine.contains(&p.sub_block) {
                                Err(format!(
                                    "sub-block {} is not assigned to the sender",
                                    p.sub_block
                                ))
                            } else if !seen.insert(p.sub_block) {
                                Err(format!("sub-block {} submitted twice", p.sub_block))
                            } else if p.root_in != set.roots[p.sub_block as usize]
                                || p.root_out != set.roots[p.sub_block as usize + 1]
                            {
                                Err(format!("sub-block {} roots do not match", p.sub_block))
                            } else {
                                Ok(())
                            }
                        })
                        .collect::<Result<(), String>>()
                }
            }
            (Message::Partials(_), _) => {
                self.warn(
                    phase,
                    from,
                    WarningKind::Late,
                    "partial proofs after T2".into(),
                );
                Err("partial proofs after T2 (late)".into())
            }
            (Message::AggProof(_), _) => Err("AggProofs are judged at block level".into()),
            (Message::Aggregate(_), Phase::T1 | Phase::T2) => Err("aggregation opens in T3".into()),
            (Message::Aggregate(a), _) => {
                let mut covered = vec![0u32; n];
                let mut bad = None;
                for r in &a.reused {
                    match covered.get_mut(r.sub_block as usize) {
                        Some(x) => *x += 1,
                        None => bad = Some(format!("sub-block {} out of range", r.sub_block)),
                    }
                    if !set.partials.iter().any(|p| p.r == *r) {
                        bad = Some(format!(
                            "reused partial for sub-block {} by {} was not accepted in T2",
                            r.sub_block, r.prover
                        ));
                    }
                }
                for p in &a.own {
                    match covered.get_mut(p.sub_block as usize) {
                        Some(x) => *x += 1,
                        None => bad = Some(format!("sub-block {} out of range", p.sub_block)),
                    }
                    if (p.sub_block as usize) < n
                        && (p.root_in != set.roots[p.sub_block as usize]
                            || p.root_out != set.roots[p.sub_block as usize + 1])
                    {
                        bad = Some(format!("own partial {} roots do not match", p.sub_block));
                    }
                }
                if let Some(b) = bad {
                    Err(b)
                } else if covered.iter().any(|c| *c != 1) {
                    Err("aggregation must cover every sub-block exactly once".into())
                } else if a.bloom != bloom_hash(&a.reused) {
                    Err("BloomHash does not match the reused partials".into())
                } else {
                    Ok(())
                }
            }
        };
        if verdict.is_err() {
            return Ok(verdict);
        }
        // Record acceptance.
        let c = self.cur.as_mut().expect("slot");
        let set = &mut c.sets[set_id];
        match (&inc.msg, phase) {
            (Message::Commit(_), _) => {
                set.committed.insert(from);
            }
            (Message::FullProof(f), p) if p <= Phase::T2 => {
                if p == Phase::T1 {
                    set.t1_full.insert(from);
                }
                set.full_senders.push((from, proof_hash(&f.proof)));
            }
            (Message::FullProof(f), _) => {
                set.aggs.push(AggEntry {
                    aggregator: from,
                    reused: vec![],
                    proof: proof_hash(&f.proof),
                });
            }
            (Message::Partials(ps), _) => {
                for p in ps {
                    set.partials.push(AcceptedPartial {
                        r: PartialRef {
                            sub_block: p.sub_block,
                            prover: from,
                            proof_hash: proof_hash(&p.proof),
                        },
                        root_in: p.root_in,
                        root_out: p.root_out,
                    });
                }
            }
            (Message::Aggregate(a), _) => {
                set.aggs.push(AggEntry {
                    aggregator: from,
                    reused: a.reused.clone(),
                    proof: proof_hash(&a.link_proof),
                });
            }
            (Message::AggProof(_), _) => {}
        }
        Ok(Ok(()))
    }

    /// Apply phase `phase`'s table rows to set `s`; returns true if the set
    /// finalized in this phase.
    fn settle_phase(&mut self, s: usize, phase: Phase) -> Result<bool, EngineError> {
        let r = self.params.rewards.clone();
        let c = self.cur.as_ref().ok_or(EngineError::NoSlot)?;
        let proposer = c.proposer;
        let set = c.sets[s].clone();
        let selected = set.assignment.selected.clone();
        let finalized = if self.mechanism.is_some() {
            // A non-spec mechanism pays at slot settlement instead of the table rows.
            match phase {
                Phase::T1 | Phase::T2 => !set.full_senders.is_empty(),
                _ => !set.aggs.is_empty(),
            }
        } else {
            match phase {
                Phase::T1 | Phase::T2 => {
                    let (prover_r, sender_r, val_r, names) = if phase == Phase::T1 {
                        (
                            r.reward_full_proof_prover_t1,
                            r.reward_full_proof_sender_t1,
                            r.reward_full_proof_validator_t1,
                            [
                                "REWARD_FULL_PROOF_PROVER_T1",
                                "REWARD_FULL_PROOF_SENDER_T1",
                                "REWARD_FULL_PROOF_VALIDATOR_T1",
                            ],
                        )
                    } else {
                        (
                            r.reward_full_proof_prover_t2,
                            r.reward_full_proof_sender_t2,
                            r.reward_full_proof_validator_t2,
                            [
                                "REWARD_FULL_PROOF_PROVER_T2",
                                "REWARD_FULL_PROOF_SENDER_T2",
                                "REWARD_FULL_PROOF_VALIDATOR_T2",
                            ],
                        )
                    };
                    if let Some((sender, _)) = set.full_senders.first().copied() {
                        // A valid full proof: every selected prover, the sender extra,
                        // and the including validator (the proposer).
                        for p in &selected {
                            self.pay(phase, *p, prover_r, names[0])?;
                        }
                        self.pay(phase, sender, sender_r, names[1])?;
                        self.pay(phase, proposer, val_r, names[2])?;
                        true
                    } else if phase == Phase::T1 {
                        let valid = set.committed.len() as u64;
                        self.pay(
                            phase,
                            proposer,
                            r.reward_t1_validator * valid,
                            "REWARD_T1_VALIDATOR",
                        )?;
                        for p in &selected {
                            if !set.committed.contains(p) && !set.t1_full.contains(p) {
                                self.take(
                                    phase,
                                    *p,
                                    r.penalty_t1_prover,
                                    EntryKind::Penalty,
                                    "PENALTY_T1_PROVER",
                                )?;
                            }
                        }
                        false
                    } else {
                        // Not from the spec's wording: REWARD_T2_PROVER and
                        // PENALTY_T2_PROVER apply per assigned partial proof.
                        for (p, sbs) in &set.assignment.assignments {
                            let delivered =
                                set.partials.iter().filter(|a| a.r.prover == *p).count() as u64;
                            let missed = sbs.len() as u64 - delivered;
                            self.pay(
                                phase,
                                *p,
                                r.reward_t2_prover * delivered,
                                "REWARD_T2_PROVER",
                            )?;
                            if missed > 0 {
                                let pen = r.penalty_t2_prover.saturating_mul(missed as i64);
                                self.take(phase, *p, pen, EntryKind::Penalty, "PENALTY_T2_PROVER")?;
                            }
                        }
                        let valid = set.partials.len() as u64;
                        self.pay(
                            phase,
                            proposer,
                            r.reward_t2_validator * valid,
                            "REWARD_T2_VALIDATOR",
                        )?;
                        false
                    }
                }
                p => {
                    let aggs: Vec<&AggEntry> = set.aggs.iter().collect();
                    if aggs.is_empty() {
                        false
                    } else {
                        self.settle_aggregation(phase, p, &set, &aggs, proposer)?;
                        true
                    }
                }
            }
        };
        let final_proof = if phase <= Phase::T2 {
            set.full_senders.first().map(|(a, h)| (*a, *h))
        } else {
            set.aggs.first().map(|a| (a.aggregator, a.proof))
        };
        let c = self.cur.as_mut().ok_or(EngineError::NoSlot)?;
        if finalized {
            c.sets[s].finalized = Some(phase);
            c.sets[s].final_proof = final_proof.map(|(prover, proof_hash)| PartialRef {
                sub_block: s as u32,
                prover,
                proof_hash,
            });
        } else if phase == Phase::T5 {
            c.sets[s].failed = true;
        }
        // Aggregations are per phase: clear for the next phase.
        c.sets[s].aggs.clear();
        Ok(finalized)
    }

    /// T3–T5 rewards (spec T3 "Rewards", T4/T5 rows of the table; DESIGN.md: use
    /// the table's explicit T4/T5 numbers). With `m` valid full proofs the reuse
    /// rows are averaged: each sum is divided by `m` (floor, in reward units).
    /// Not from the spec: "non-participation" means a selected prover with no
    /// accepted partial and no valid aggregation in this set.
    fn settle_aggregation(
        &mut self,
        phase: Phase,
        p: Phase,
        set: &SetState,
        aggs: &[&AggEntry],
        proposer: Address,
    ) -> Result<(), EngineError> {
        let r = &self.params.rewards;
        let t = p.label();
        let (reusing, reused_r, prover_r, validator_r, pen_prover, pen_notreused) = match p {
            Phase::T3 => (
                r.reward_prover_reusing_t3,
                r.reward_prover_reused_t3,
                r.reward_prover_t3,
                r.reward_validator_t3,
                r.penalty_prover_t3,
                r.penalty_prover_notreused_t3,
            ),
            Phase::T4 => (
                r.reward_prover_reusing_t4,
                r.reward_prover_reused_t4,
                r.reward_prover_t4,
                r.reward_validator_t4,
                r.penalty_prover_t4,
                r.penalty_prover_notreused_t4,
            ),
            _ => (
                r.reward_prover_reusing_t5,
                r.reward_prover_reused_t5,
                r.reward_prover_t5,
                r.reward_validator_t5,
                r.penalty_prover_t5,
                r.penalty_prover_notreused_t5,
            ),
        };
        let m = aggs.len() as u64;
        // Aggregators: reusing (averaged) and the submission reward.
        let mut reusing_sum: BTreeMap<Address, u64> = BTreeMap::new();
        for a in aggs {
            let others = a.reused.iter().filter(|x| x.prover != a.aggregator).count() as u64;
            *reusing_sum.entry(a.aggregator).or_default() += reusing * others;
        }
        for (who, sum) in reusing_sum {
            self.pay(phase, who, sum / m, &format!("REWARD_PROVER_REUSING_{t}"))?;
        }
        for a in aggs {
            self.pay(phase, a.aggregator, prover_r, &format!("REWARD_PROVER_{t}"))?;
        }
        // Partial owners: reused / not reused by others, averaged over m.
        let mut reused_n: BTreeMap<Address, u64> = BTreeMap::new();
        let mut notreused_n: BTreeMap<Address, u64> = BTreeMap::new();
        for part in &set.partials {
            for a in aggs.iter().filter(|a| a.aggregator != part.r.prover) {
                if a.reused.contains(&part.r) {
                    *reused_n.entry(part.r.prover).or_default() += 1;
                } else {
                    *notreused_n.entry(part.r.prover).or_default() += 1;
                }
            }
        }
        for (who, k) in reused_n {
            self.pay(
                phase,
                who,
                reused_r * k / m,
                &format!("REWARD_PROVER_REUSED_{t}"),
            )?;
        }
        for (who, k) in notreused_n {
            let pen = (pen_notreused.saturating_mul(k as i64)) / m as i64;
            self.take(
                phase,
                who,
                pen,
                EntryKind::Penalty,
                &format!("PENALTY_PROVER_NOTREUSED_{t}"),
            )?;
        }
        self.pay(
            phase,
            proposer,
            validator_r * m,
            &format!("REWARD_VALIDATOR_{t}"),
        )?;
        for who in &set.assignment.selected {
            let has_partial = set.partials.iter().any(|x| x.r.prover == *who);
            let aggregated = aggs.iter().any(|a| a.aggregator == *who);
            if !has_partial && !aggregated {
                self.take(
                    phase,
                    *who,
                    pen_prover,
                    EntryKind::Penalty,
                    &format!("PENALTY_PROVER_{t}"),
                )?;
            }
        }
        Ok(())
    }

    /// The mechanism's settlement of the slot, then [`Event::MechanismSettled`].
    ///
    /// Non-spec mechanisms: [`Mechanism::settle`] on the set's deliveries
    /// ([`SetState::deliveries`]); payments are minted (rule `mechanism:<kind>`), slashes
    /// taken from stake into the protocol treasury as insurance (the paper's Rem. 3.9),
    /// both through the ledger, in the phase that closed the slot. `spec`: nothing moves
    /// here (the table already applied); the event summarises the slot's entries per node.
    fn settle_mechanism(&mut self, failed: bool) -> Result<(), EngineError> {
        let c = self.cur.as_ref().ok_or(EngineError::NoSlot)?;
        let (slot, phase) = (c.slot, c.phase);
        let deliveries: Vec<Delivery> = c.sets.iter().flat_map(SetState::deliveries).collect();
        let delivered: Vec<Address> = deliveries
            .iter()
            .filter(|d| d.delivered)
            .map(|d| d.prover)
            .collect();
        let (kind, request, payments, slashes, oracle) = match (&self.mechanism, &c.request) {
            (Some(mech), Some((request, infos))) => {
                let mech = Arc::clone(mech);
                let request = request.clone();
                let payout = mech.settle(slot, infos, &request, &deliveries);
                let rule = format!("mechanism:{}", mech.kind());
                for (who, amount) in &payout.payments {
                    self.pay(phase, *who, *amount, &rule)?;
                }
                let mut slashes = Vec::new();
                for (who, amount) in &payout.slashes {
                    let before = self.ledger.account(who).map_or(0, |a| a.stake);
                    let amt = i64::try_from(*amount).unwrap_or(i64::MAX);
                    self.take_to(phase, *who, amt, EntryKind::Slash, &rule, Sink::Treasury)?;
                    let after = self.ledger.account(who).map_or(0, |a| a.stake);
                    if before > after {
                        slashes.push((*who, before - after));
                    }
                }
                (
                    mech.kind().to_owned(),
                    request,
                    payout.payments,
                    slashes,
                    payout.capacity_oracle,
                )
            }
            _ => {
                let mut payments: Vec<(Address, u64)> = Vec::new();
                let mut slashes: Vec<(Address, u64)> = Vec::new();
                for e in &c.entries {
                    let (list, amount) = match e.kind {
                        EntryKind::Reward => (&mut payments, e.amount),
                        EntryKind::Penalty | EntryKind::Slash => (&mut slashes, e.applied),
                    };
                    match list.iter_mut().find(|(a, _)| *a == e.node) {
                        Some(x) => x.1 += amount,
                        None => list.push((e.node, amount)),
                    }
                }
                slashes.retain(|(_, a)| *a > 0);
                let request = Request {
                    asked: c
                        .sets
                        .iter()
                        .flat_map(|s| s.assignment.selected.iter().copied())
                        .collect(),
                    allocation: c
                        .sets
                        .iter()
                        .flat_map(|s| {
                            s.assignment
                                .assignments
                                .iter()
                                .map(|(a, v)| (*a, v.len() as u64))
                        })
                        .collect(),
                    ..Request::default()
                };
                ("spec".to_owned(), request, payments, slashes, None)
            }
        };
        self.events.push(Event::MechanismSettled {
            slot,
            kind,
            request: Box::new(request),
            deliveries,
            delivered,
            payments,
            slashes,
            liveness_fault: failed,
            capacity_oracle: oracle,
        });
        Ok(())
    }

    fn settle_slot(&mut self) -> Result<(), EngineError> {
        let c = self.cur.as_ref().ok_or(EngineError::NoSlot)?;
        let failed = c.sets.iter().any(|s| s.failed) || c.agg_failed;
        self.settle_mechanism(failed)?;
        let c = self.cur.as_mut().ok_or(EngineError::NoSlot)?;
        c.done = true;
        let outcome = if failed {
            Outcome::LivenessFault
        } else if let Some(p) = c.agg_done {
            Outcome::finalized_in(p)
        } else {
            let last = c
                .sets
                .iter()
                .filter_map(|s| s.finalized)
                .max()
                .unwrap_or(Phase::T1);
            Outcome::finalized_in(last)
        };
        let payments: u64 = c
            .entries
            .iter()
            .filter(|e| e.kind == EntryKind::Reward)
            .map(|e| e.amount)
            .sum();
        let loss = payments
            + if failed {
                self.params.liveness_penalty
            } else {
                0
            };
        let settlement = Settlement {
            slot: c.slot,
            block: c.block,
            outcome,
            proofs_submitted: c.proofs_submitted,
            proofs_valid: c.proofs_valid,
            entries: c.entries.clone(),
            payments,
            loss,
            totals: self.ledger.totals(),
            conservation_ok: self.ledger.conservation_ok(),
            accounts: self.ledger.accounts().cloned().collect(),
        };
        let slot = c.slot;
        if !failed {
            // Not from the spec: after a liveness fault the block is carried over to
            // the next slot with a fresh selection ("Retry with … new prover set").
            self.block += 1;
        }
        self.events.push(Event::Settled(settlement));
        for p in self.provers.clone() {
            if self.ejected.contains(&p) {
                continue;
            }
            let stake = self.ledger.account(&p).map_or(0, |a| a.stake);
            if stake < self.params.min_stake {
                self.ejected.insert(p);
                self.events.push(Event::Ejected {
                    slot,
                    node: p,
                    stake,
                });
            }
        }
        Ok(())
    }
}
