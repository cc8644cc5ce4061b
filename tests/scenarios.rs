//! scratch
use alloy_primitives::{Address, Bytes};
use dpgnet::config::Devnet;
use dpgnet::node::NodeKey;
use dpgnet::orchestrator::{genesis, workload};
use dpgnet::protocol::{Engine, EngineParams, SetAssignment, SlotInput};

fn slot0(d: &Devnet) -> SetAssignment {
    let mut e = Engine::new(EngineParams::from_devnet(d), &genesis(d)).unwrap();
    e.begin_slot(SlotInput { slot: 0, reveal: Bytes::from(vec![0u8; 65]), roots: workload(d).roots(0) }).unwrap();
    e.set_state(0).unwrap().assignment.clone()
}

#[test]
#[ignore]
fn explore_seeds() {
    for seed in 1..40u64 {
        let mut d = Devnet::default_devnet();
        d.network_params.seed = seed;
        let names: Vec<(Address, String, bool)> = d.nodes().iter().filter(|s| s.role == dpgnet::config::Role::Prover)
            .map(|s| (NodeKey::derive(seed, s.role, s.index).address(), format!("p{}{}", s.index, if s.corrupted {"*"} else {""}), s.corrupted)).collect();
        let n = |a: &Address| names.iter().find(|x| x.0 == *a).unwrap().1.clone();
        let a = slot0(&d);
        let sel: Vec<String> = a.selected.iter().map(n).collect();
        let agg: Vec<String> = a.aggregators.iter().map(n).collect();
        let asg: Vec<String> = a.selected.iter().map(|p| format!("{}:{:?}", n(p), a.assignments[p])).collect();
        println!("seed {seed:3}: sel {sel:?} agg {agg:?} {asg:?}");
    }
}
