//! A harness around the pure protocol engine: a default devnet's genesis (4 validators at
//! 32000, 8 provers at 1000), hand-built phase blocks with opaque "proof" bytes, and
//! helpers to read the events and the ledger.
//!
//! Proof bytes are keccak-derived and distinct per (kind, prover, slot, set, sub-block), so
//! every proof hash differs; roots are distinct per (slot, set, index) except that
//! consecutive sets chain (set `s`'s last root is set `s+1`'s first), as `SlotInput` says.

#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;

use alloy_primitives::{Address, B256, Bytes, keccak256};
use dpgnet::config::Devnet;
use dpgnet::protocol::{
    Account, Aggregation, Commitment, Engine, EngineError, EngineParams, Event, FullProof,
    GenesisAccount, Included, LedgerEntry, Message, PartialProof, PartialRef, Phase, PhaseBlock,
    Role, SetAssignment, SetId, Settlement, Slot, SlotInput, Verdict, WarningKind, bloom_hash,
    commitment_hash, proof_hash,
};

/// Validator stake at genesis.
pub const VALIDATOR_STAKE: u64 = 32_000;
/// Prover stake at genesis.
pub const PROVER_STAKE: u64 = 1_000;
/// Number of validators.
pub const N_VALIDATORS: u8 = 4;
/// Number of provers.
pub const N_PROVERS: u8 = 8;

/// Validator `i` (1-based): `0x0101…01` … `0x0404…04`.
pub fn validator(i: u8) -> Address {
    assert!((1..=N_VALIDATORS).contains(&i));
    Address::repeat_byte(i)
}

/// Prover `i` (1-based): `0x1111…11` … `0x1818…18`.
pub fn prover(i: u8) -> Address {
    assert!((1..=N_PROVERS).contains(&i));
    Address::repeat_byte(0x10 + i)
}

/// All validators in genesis order.
pub fn validators() -> Vec<Address> {
    (1..=N_VALIDATORS).map(validator).collect()
}

/// All provers in genesis order.
pub fn provers() -> Vec<Address> {
    (1..=N_PROVERS).map(prover).collect()
}

/// An address with no account.
pub fn stranger() -> Address {
    Address::repeat_byte(0xee)
}

/// `EngineParams::from_devnet(&Devnet::default_devnet())`.
pub fn default_params() -> EngineParams {
    EngineParams::from_devnet(&Devnet::default_devnet())
}

/// The genesis: validators first, then provers.
pub fn genesis() -> Vec<GenesisAccount> {
    let mut g: Vec<GenesisAccount> = validators()
        .into_iter()
        .map(|address| GenesisAccount {
            address,
            role: Role::Validator,
            stake: VALIDATOR_STAKE,
            balance: 0,
        })
        .collect();
    g.extend(provers().into_iter().map(|address| GenesisAccount {
        address,
        role: Role::Prover,
        stake: PROVER_STAKE,
        balance: 0,
    }));
    g
}

/// Σ stake + Σ balance at genesis.
pub fn genesis_total() -> u64 {
    u64::from(N_VALIDATORS) * VALIDATOR_STAKE + u64::from(N_PROVERS) * PROVER_STAKE
}

/// The workload roots of `(slot, set)`: `n + 1` distinct values; set `s`'s last root is
/// set `s + 1`'s first.
pub fn roots(slot: Slot, set: SetId, n: u32) -> Vec<B256> {
    (0..=n).map(|i| root(slot, set * n + i)).collect()
}

fn root(slot: Slot, global_index: u32) -> B256 {
    let mut buf = b"root".to_vec();
    buf.extend_from_slice(&slot.to_be_bytes());
    buf.extend_from_slice(&global_index.to_be_bytes());
    keccak256(buf)
}

/// Opaque "proof" bytes, distinct per argument tuple.
pub fn proof_bytes(kind: &str, who: Address, slot: Slot, set: SetId, sub_block: u32) -> Bytes {
    let mut buf = kind.as_bytes().to_vec();
    buf.extend_from_slice(who.as_slice());
    buf.extend_from_slice(&slot.to_be_bytes());
    buf.extend_from_slice(&set.to_be_bytes());
    buf.extend_from_slice(&sub_block.to_be_bytes());
    let h = keccak256(&buf);
    let mut out = h.to_vec();
    out.extend_from_slice(keccak256(h).as_slice());
    Bytes::from(out)
}

/// A valid-verdict inclusion.
pub fn valid(from: Address, msg: Message) -> Included {
    Included {
        from,
        signature: Bytes::new(),
        msg,
        verdict: Verdict::Valid,
    }
}

/// The same inclusion with an invalid verdict.
pub fn invalid(mut inc: Included) -> Included {
    inc.verdict = Verdict::Invalid("proof does not verify".into());
    inc
}

/// The engine plus the events drained from it.
pub struct Harness {
    /// The engine.
    pub engine: Engine,
    /// Every event drained so far, in order.
    pub log: Vec<Event>,
    /// The slot that [`Harness::begin`] starts next.
    pub next_slot: Slot,
}

impl Default for Harness {
    fn default() -> Self {
        Self::new()
    }
}

impl Harness {
    /// Default devnet params and genesis.
    pub fn new() -> Self {
        Self::with_params(default_params())
    }

    /// Given params, default genesis.
    pub fn with_params(params: EngineParams) -> Self {
        let mut engine = Engine::new(params, &genesis()).expect("genesis");
        let log = engine.drain_events();
        Harness {
            engine,
            log,
            next_slot: 1,
        }
    }

    /// Drain the engine's events into the log and return them.
    pub fn drain(&mut self) -> Vec<Event> {
        let ev = self.engine.drain_events();
        self.log.extend(ev.iter().cloned());
        ev
    }

    fn n(&self) -> u32 {
        self.engine.params().num_partial_proofs
    }

    fn sets(&self) -> u32 {
        self.engine.params().num_sub_block_sets
    }

    /// The `SlotInput` of `slot`.
    pub fn input(&self, slot: Slot) -> SlotInput {
        SlotInput {
            slot,
            reveal: Bytes::from(vec![slot as u8 ^ 0x5a; 65]),
            roots: (0..self.sets()).map(|s| roots(slot, s, self.n())).collect(),
        }
    }

    /// Begin `slot` (any number), returning the engine's answer.
    pub fn try_begin(&mut self, slot: Slot) -> Result<Vec<Event>, EngineError> {
        let r = self.engine.begin_slot(self.input(slot));
        let ev = self.drain();
        r.map(|()| ev)
    }

    /// Begin the next slot; panics on an engine error. Returns the slot number.
    pub fn begin(&mut self) -> Slot {
        let slot = self.next_slot;
        self.try_begin(slot).expect("begin_slot");
        self.next_slot = slot + 1;
        slot
    }

    /// The open (or last) slot.
    pub fn slot(&self) -> Slot {
        self.next_slot - 1
    }

    /// Set `set`'s assignment in the open (or last) slot.
    pub fn asg(&self, set: SetId) -> SetAssignment {
        self.engine.set_state(set).expect("set").assignment.clone()
    }

    /// Set `set`'s roots in the open (or last) slot.
    pub fn set_roots(&self, set: SetId) -> Vec<B256> {
        self.engine.set_state(set).expect("set").roots.clone()
    }

    /// The open slot's proposer.
    pub fn proposer(&self) -> Address {
        self.engine.current_proposer().expect("slot begun")
    }

    /// The correct commitment hash of `who` in `set` for the open slot.
    pub fn commitment(&self, who: Address, set: SetId) -> B256 {
        let sbs = self.asg(set).assignments[&who].clone();
        let r = self.set_roots(set);
        let claims: Vec<(u32, B256, B256)> = sbs
            .iter()
            .map(|&b| (b, r[b as usize], r[b as usize + 1]))
            .collect();
        commitment_hash(who, self.slot(), set, &claims)
    }

    /// A valid T1 commitment of `who` in `set`.
    pub fn commit(&self, who: Address, set: SetId) -> Included {
        self.commit_hash(who, set, self.commitment(who, set))
    }

    /// A T1 commitment with an arbitrary hash.
    pub fn commit_hash(&self, who: Address, set: SetId, hash: B256) -> Included {
        valid(
            who,
            Message::Commit(Commitment {
                slot: self.slot(),
                set,
                hash,
            }),
        )
    }

    /// `who`'s partial proof of `sub_block` (correct roots, `who`'s own bytes).
    pub fn partial(&self, who: Address, set: SetId, sub_block: u32) -> PartialProof {
        let r = self.set_roots(set);
        PartialProof {
            slot: self.slot(),
            set,
            sub_block,
            root_in: r[sub_block as usize],
            root_out: r[sub_block as usize + 1],
            proof: proof_bytes("partial", who, self.slot(), set, sub_block),
        }
    }

    /// A T2 message with `who`'s partials of the given sub-blocks.
    pub fn partials_of(&self, who: Address, set: SetId, sbs: &[u32]) -> Included {
        valid(
            who,
            Message::Partials(sbs.iter().map(|&b| self.partial(who, set, b)).collect()),
        )
    }

    /// A T2 message with all of `who`'s assigned partials.
    pub fn partials(&self, who: Address, set: SetId) -> Included {
        let sbs = self.asg(set).assignments[&who].clone();
        self.partials_of(who, set, &sbs)
    }

    /// The reference to `owner`'s partial of `sub_block`.
    pub fn pref(&self, owner: Address, set: SetId, sub_block: u32) -> PartialRef {
        PartialRef {
            sub_block,
            prover: owner,
            proof_hash: proof_hash(&proof_bytes("partial", owner, self.slot(), set, sub_block)),
        }
    }

    /// An aggregation by `who` with the correct bloom.
    pub fn aggregate(
        &self,
        who: Address,
        set: SetId,
        reused: Vec<PartialRef>,
        own: Vec<PartialProof>,
    ) -> Included {
        let bloom = bloom_hash(&reused);
        valid(
            who,
            Message::Aggregate(Aggregation {
                slot: self.slot(),
                set,
                reused,
                own,
                bloom,
                link_proof: proof_bytes("link", who, self.slot(), set, 0),
            }),
        )
    }

    /// An aggregation by `who` reusing, for each sub-block, the partial of the given owner.
    pub fn aggregate_from(&self, who: Address, set: SetId, owners: &[Address]) -> Included {
        let reused = owners
            .iter()
            .enumerate()
            .map(|(b, o)| self.pref(*o, set, b as u32))
            .collect();
        self.aggregate(who, set, reused, vec![])
    }

    /// An honest aggregation by `who`: for every sub-block, reuse the partial of the first
    /// other prover assigned to it (address order).
    pub fn honest_aggregate(&self, who: Address, set: SetId) -> Included {
        let a = self.asg(set);
        let owners: Vec<Address> = (0..self.n())
            .map(|b| {
                *a.provers_of(b)
                    .iter()
                    .find(|p| **p != who)
                    .expect("another prover")
            })
            .collect();
        self.aggregate_from(who, set, &owners)
    }

    /// A direct full proof of the whole set by `who`.
    pub fn full_proof(&self, who: Address, set: SetId) -> Included {
        let r = self.set_roots(set);
        valid(
            who,
            Message::FullProof(FullProof {
                slot: self.slot(),
                set,
                root_in: r[0],
                root_out: r[r.len() - 1],
                proof: proof_bytes("full", who, self.slot(), set, 0),
            }),
        )
    }

    /// Apply the block of `phase` (proposer = the slot's), returning the drained events.
    pub fn try_apply(
        &mut self,
        phase: Phase,
        included: Vec<Included>,
    ) -> Result<Vec<Event>, EngineError> {
        let block = PhaseBlock {
            slot: self.slot(),
            phase,
            proposer: self.proposer(),
            included,
        };
        let r = self.engine.apply_block(&block);
        let ev = self.drain();
        r.map(|()| ev)
    }

    /// [`Harness::try_apply`], panicking on an engine error.
    pub fn apply(&mut self, phase: Phase, included: Vec<Included>) -> Vec<Event> {
        self.try_apply(phase, included).expect("apply_block")
    }

    /// Honest T1 (every selected prover commits) in every set.
    pub fn honest_t1(&mut self) -> Vec<Event> {
        let inc = (0..self.sets())
            .flat_map(|s| self.asg(s).selected.into_iter().map(move |p| (p, s)))
            .map(|(p, s)| self.commit(p, s))
            .collect();
        self.apply(Phase::T1, inc)
    }

    /// Honest T2 (every selected prover sends all its partials) in every set.
    pub fn honest_t2(&mut self) -> Vec<Event> {
        let inc = (0..self.sets())
            .flat_map(|s| self.asg(s).selected.into_iter().map(move |p| (p, s)))
            .map(|(p, s)| self.partials(p, s))
            .collect();
        self.apply(Phase::T2, inc)
    }

    /// A whole honest slot: T1, T2 and the designated T3 aggregator of every set.
    pub fn honest_slot(&mut self) -> Settlement {
        self.begin();
        self.honest_t1();
        self.honest_t2();
        let inc = (0..self.sets())
            .map(|s| self.honest_aggregate(self.asg(s).aggregators[0], s))
            .collect();
        let ev = self.apply(Phase::T3, inc);
        settlement(&ev).expect("settled in T3")
    }

    /// All accounts now.
    pub fn accounts(&self) -> Vec<Account> {
        self.engine.ledger().accounts().cloned().collect()
    }

    /// One account now.
    pub fn account(&self, a: Address) -> Account {
        self.engine.ledger().account(&a).expect("account").clone()
    }
}

/// The `Settled` event among `events`, if any.
pub fn settlement(events: &[Event]) -> Option<Settlement> {
    events.iter().find_map(|e| match e {
        Event::Settled(s) => Some(s.clone()),
        _ => None,
    })
}

/// The warnings among `events`: (node, kind).
pub fn warnings(events: &[Event]) -> Vec<(Address, WarningKind)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Warning { node, kind, .. } => Some((*node, *kind)),
            _ => None,
        })
        .collect()
}

/// The `MessageIncluded` verdicts among `events`: (from, accepted, rejection).
pub fn inclusions(events: &[Event]) -> Vec<(Address, bool, Option<String>)> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::MessageIncluded {
                from,
                accepted,
                rejection,
                ..
            } => Some((*from, *accepted, rejection.clone())),
            _ => None,
        })
        .collect()
}

/// The ledger entries among `events`.
pub fn entries(events: &[Event]) -> Vec<LedgerEntry> {
    events
        .iter()
        .filter_map(|e| match e {
            Event::Ledger(l) => Some(l.clone()),
            _ => None,
        })
        .collect()
}

/// Per-account (Δstake, Δbalance) from `before` to `after`.
pub fn deltas(before: &[Account], after: &[Account]) -> BTreeMap<Address, (i64, i64)> {
    let b: BTreeMap<Address, &Account> = before.iter().map(|a| (a.address, a)).collect();
    after
        .iter()
        .map(|a| {
            let o = b[&a.address];
            (
                a.address,
                (
                    a.stake as i64 - o.stake as i64,
                    a.balance as i64 - o.balance as i64,
                ),
            )
        })
        .collect()
}

/// Assert every account's (Δstake, Δbalance); accounts not listed must not move.
#[track_caller]
pub fn assert_deltas(before: &[Account], after: &[Account], expected: &[(Address, i64, i64)]) {
    let got = deltas(before, after);
    let mut want: BTreeMap<Address, (i64, i64)> = got.keys().map(|a| (*a, (0, 0))).collect();
    for (a, ds, db) in expected {
        let e = want.get_mut(a).expect("expected account exists");
        e.0 += ds;
        e.1 += db;
    }
    for (a, w) in &want {
        assert_eq!(got[a], *w, "account {a}: (Δstake, Δbalance)");
    }
}
