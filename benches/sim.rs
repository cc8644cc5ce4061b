//! Criterion bench of `dpgnet sim` (issue 5's speed goal): the `spec` mechanism, i.e.
//! the real pure engine driven with modelled messages, at 200 provers, on both cores
//! (8 replicas on 2 threads, as `dpgnet sim` runs by default). Reports slots per second
//! (criterion's throughput) and, once, a full 10 000-slot run as slots/s and
//! prover-slot steps/s.
//!
//! Shapes: the default devnet's parameters with 200 provers (4 sub-blocks, so 100
//! provers are selected and 8 of them prove), and the shape of `benches/engine.rs`'s
//! 200-prover case (100 sub-blocks: every selected prover proves 2).
//!
//! Run: `cargo bench --bench sim`. The goal: at least 10 000 slots in 10 s with 200
//! provers (1 000 slots/s).

use std::time::Duration;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use dpgnet::config::Devnet;
use dpgnet::mechanism::sim::model::ProofModel;
use dpgnet::mechanism::sim::{self, AttackStrategy, SimMechanism, SimSetup};

fn setup(sub_blocks: u32, slots: u64) -> SimSetup {
    SimSetup {
        devnet: Devnet::default_devnet(),
        model: ProofModel::default(),
        provers: 200,
        sub_blocks,
        adversary_fraction: 0.0,
        strategy: AttackStrategy::WorstCase,
        penalty: 10_000,
        seed: 7,
        slots,
        replicas: sim::DEFAULT_REPLICAS,
        horizon: sim::DEFAULT_HORIZON,
        threads: 2,
    }
}

/// One 10 000-slot run per shape, printed as the goal asks.
fn headline() {
    for sub_blocks in [4, 100] {
        let r = sim::run(&setup(sub_blocks, 10_000), &SimMechanism::Spec).expect("sim runs");
        eprintln!(
            "sim spec, 200 provers, {sub_blocks} sub-blocks: {} slots in {:.2} s on {} threads = \
             {:.0} slots/s, {:.0} prover-slot steps/s (goal: 10 000 slots in 10 s)",
            r.slots, r.wall_s, r.threads, r.slots_per_s, r.prover_slot_steps_per_s
        );
    }
}

fn bench_sim(c: &mut Criterion) {
    headline();
    let mut group = c.benchmark_group("sim_spec_200_provers");
    group
        .sample_size(10)
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(8));
    for (name, sub_blocks, slots) in [
        ("4_sub_blocks_2000_slots", 4, 2_000),
        ("100_sub_blocks_500_slots", 100, 500),
    ] {
        let s = setup(sub_blocks, slots);
        group.throughput(Throughput::Elements(slots));
        group.bench_function(name, |b| {
            b.iter(|| sim::run(&s, &SimMechanism::Spec).expect("sim runs"));
        });
    }
    group.finish();
}

criterion_group!(benches, bench_sim);
criterion_main!(benches);
