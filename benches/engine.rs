//! Criterion bench of the pure protocol engine: one honest slot — `begin_slot`,
//! then the T1, T2 and T3 phase blocks with hand-made messages and `Valid`
//! verdicts, settling in T3 — for the default devnet (4 validators, 8 provers,
//! 4 sub-blocks) and for 200 provers (100 selected; 100 sub-blocks so that each
//! selected prover proves 2, as in the default devnet). Reports time per slot.
//!
//! Run: `cargo bench --bench engine`. Only the engine calls (`begin_slot`,
//! `apply_block`, `drain_events`) are timed, with `iter_custom`; building the
//! messages is not. The engine is restarted from genesis every
//! [`SLOTS_PER_ENGINE`] slots (untimed) so that penalties never eject a prover.

use std::hint::black_box;
use std::time::{Duration, Instant};

use alloy_primitives::{Address, B256, Bytes, keccak256};
use criterion::{Criterion, criterion_group, criterion_main};
use dpgnet::config::Devnet;
use dpgnet::protocol::{
    Aggregation, Commitment, Engine, EngineParams, Event, GenesisAccount, Included, Message,
    Outcome, PartialProof, PartialRef, Phase, PhaseBlock, Role, SetAssignment, SetId, Slot,
    SlotInput, Verdict, bloom_hash, commitment_hash, proof_hash,
};

/// Slots run on one engine before it is replaced by a fresh one at genesis.
const SLOTS_PER_ENGINE: u64 = 64;

/// A devnet shape to bench.
struct Shape {
    name: &'static str,
    validators: usize,
    provers: usize,
    num_partial_proofs: u32,
}

const SHAPES: [Shape; 2] = [
    Shape {
        name: "default_devnet_8_provers",
        validators: 4,
        provers: 8,
        num_partial_proofs: 4,
    },
    Shape {
        name: "200_provers",
        validators: 4,
        provers: 200,
        num_partial_proofs: 100,
    },
];

/// A distinct address per (role tag, index).
fn address(tag: u8, i: usize) -> Address {
    let mut bytes = [0u8; 20];
    bytes[0] = tag;
    bytes[12..].copy_from_slice(&(i as u64).to_be_bytes());
    Address::from(bytes)
}

/// A fresh engine at genesis: the default devnet's parameters with
/// `shape.num_partial_proofs`, validators at 32000 and provers at 1000 stake.
fn genesis_engine(shape: &Shape) -> Engine {
    let mut params = EngineParams::from_devnet(&Devnet::default_devnet());
    params.num_partial_proofs = shape.num_partial_proofs;
    let validators = (0..shape.validators).map(|i| GenesisAccount {
        address: address(0x01, i),
        role: Role::Validator,
        stake: 32_000,
        balance: 0,
    });
    let provers = (0..shape.provers).map(|i| GenesisAccount {
        address: address(0x02, i),
        role: Role::Prover,
        stake: 1_000,
        balance: 0,
    });
    let genesis: Vec<GenesisAccount> = validators.chain(provers).collect();
    let mut engine = Engine::new(params, &genesis).expect("genesis");
    engine.drain_events();
    engine
}

/// keccak of the parts, for roots and proof bytes.
fn hash(parts: &[&[u8]]) -> B256 {
    keccak256(parts.concat())
}

/// `n + 1` distinct roots of `(slot, set)`; consecutive sets chain.
fn roots(slot: Slot, set: SetId, n: u32) -> Vec<B256> {
    (0..=n)
        .map(|i| hash(&[b"root", &slot.to_be_bytes(), &(set * n + i).to_be_bytes()]))
        .collect()
}

/// 64 opaque "proof" bytes, distinct per argument tuple (no theft detected).
fn proof_bytes(kind: &str, who: Address, slot: Slot, set: SetId, sub_block: u32) -> Bytes {
    let h = hash(&[
        kind.as_bytes(),
        who.as_slice(),
        &slot.to_be_bytes(),
        &set.to_be_bytes(),
        &sub_block.to_be_bytes(),
    ]);
    Bytes::from([h.as_slice(), keccak256(h).as_slice()].concat())
}

fn valid(from: Address, msg: Message) -> Included {
    Included {
        from,
        signature: Bytes::new(),
        msg,
        verdict: Verdict::Valid,
    }
}

/// The honest T1, T2 and T3 inclusions of one set: every selected prover commits
/// and sends its partials; the designated T3 aggregator reuses, for every
/// sub-block, the partial of the first other prover assigned to it.
fn honest_messages(slot: Slot, asg: &SetAssignment, roots: &[B256], n: u32) -> [Vec<Included>; 3] {
    let (mut t1, mut t2) = (Vec::new(), Vec::new());
    for who in &asg.selected {
        let sbs = &asg.assignments[who];
        let claims: Vec<(u32, B256, B256)> = sbs
            .iter()
            .map(|&b| (b, roots[b as usize], roots[b as usize + 1]))
            .collect();
        t1.push(valid(
            *who,
            Message::Commit(Commitment {
                slot,
                set: asg.set,
                hash: commitment_hash(*who, slot, asg.set, &claims),
            }),
        ));
        let partials = sbs
            .iter()
            .map(|&b| PartialProof {
                slot,
                set: asg.set,
                sub_block: b,
                root_in: roots[b as usize],
                root_out: roots[b as usize + 1],
                proof: proof_bytes("partial", *who, slot, asg.set, b),
            })
            .collect();
        t2.push(valid(*who, Message::Partials(partials)));
    }
    let aggregator = asg.aggregators[0];
    let reused: Vec<PartialRef> = (0..n)
        .map(|b| {
            let owner = *asg
                .provers_of(b)
                .iter()
                .find(|p| **p != aggregator)
                .expect("another prover");
            PartialRef {
                sub_block: b,
                prover: owner,
                proof_hash: proof_hash(&proof_bytes("partial", owner, slot, asg.set, b)),
            }
        })
        .collect();
    let t3 = vec![valid(
        aggregator,
        Message::Aggregate(Aggregation {
            slot,
            set: asg.set,
            bloom: bloom_hash(&reused),
            reused,
            own: Vec::new(),
            link_proof: proof_bytes("link", aggregator, slot, asg.set, 0),
        }),
    )];
    [t1, t2, t3]
}

/// Runs one honest slot; returns the time spent in engine calls.
fn honest_slot(engine: &mut Engine, slot: Slot) -> Duration {
    let n = engine.params().num_partial_proofs;
    let sets = engine.params().num_sub_block_sets;
    let input = SlotInput {
        slot,
        reveal: Bytes::from(vec![slot as u8 ^ 0x5a; 65]),
        roots: (0..sets).map(|s| roots(slot, s, n)).collect(),
    };

    let started = Instant::now();
    engine.begin_slot(black_box(input)).expect("begin_slot");
    let events = engine.drain_events();
    let mut timed = started.elapsed();
    drop(events);

    let proposer = engine.current_proposer().expect("slot begun");
    let mut blocks: [Vec<Included>; 3] = Default::default();
    for s in 0..sets {
        let state = engine.set_state(s).expect("set");
        let msgs = honest_messages(slot, &state.assignment, &state.roots, n);
        for (block, msgs) in blocks.iter_mut().zip(msgs) {
            block.extend(msgs);
        }
    }
    let mut settled = None;
    for (phase, included) in [Phase::T1, Phase::T2, Phase::T3].into_iter().zip(blocks) {
        let block = PhaseBlock {
            slot,
            phase,
            proposer,
            included,
        };
        let started = Instant::now();
        engine.apply_block(black_box(&block)).expect("apply_block");
        let events = engine.drain_events();
        timed += started.elapsed();
        settled = settled.or_else(|| {
            events.iter().find_map(|e| match e {
                Event::Settled(s) => Some(s.outcome),
                _ => None,
            })
        });
    }
    assert_eq!(
        settled,
        Some(Outcome::FinalizedT3),
        "an honest slot settles in T3"
    );
    timed
}

fn bench_slots(c: &mut Criterion) {
    let mut group = c.benchmark_group("engine_honest_slot");
    group
        .sample_size(15)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3));
    for shape in &SHAPES {
        let mut engine = genesis_engine(shape);
        let mut slot: Slot = 0;
        group.bench_function(shape.name, |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    slot += 1;
                    if slot.is_multiple_of(SLOTS_PER_ENGINE) {
                        engine = genesis_engine(shape);
                    }
                    total += honest_slot(&mut engine, slot);
                }
                total
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_slots);
criterion_main!(benches);
