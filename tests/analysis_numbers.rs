use dpgnet::mechanism::analysis::*;
use std::time::Instant;

#[test]
fn explore() {
    for (n, f, p, bs) in [(100u64, 33u64, 1e4, [0.0, 10.0, 50.0, 100.0, 500.0]), (200, 100, 20.0, [0.0, 0.02, 0.1, 0.2, 1.0])] {
        for b in bs {
            let pr = ProcurementParams { provers: n, corrupted: f, penalty: p, stake: b };
            let a = analyze_designated(&pr).unwrap();
            println!("n={n} f={f} P={p} B={b}: D={:.4} (m={} q={:.5}) S={:.4} (m={} q={:.5} {:?}) L={:.4} (m={}) LA1={:.4} PD={:.4} cont={:.4} red={:?} opt={:?} {:?}",
                a.designated.loss, a.designated.committee_size, a.designated.mixing_probability,
                a.symmetric.loss, a.symmetric.committee_size, a.symmetric.mixing_probability, a.symmetric.binding,
                a.lottery.loss, a.lottery.committee_size, a.lottery_at_symmetric_optimum, a.pay_deliverers.loss, a.designated_continuous_limit,
                stake_loss_reduction(&pr).unwrap(), a.optimal, a.optimality);
        }
    }
    let t = Instant::now();
    let g = capacity_grid(&DEFAULT_POWERS, &DEFAULT_STAKES).unwrap();
    println!("capacity grid {:?}", t.elapsed());
    for (i, r) in g.cells.iter().enumerate() {
        println!("p={} {:?}", g.rows[i], r.iter().map(|c| format!("{:.3}/{}{}", c.protocol_cost, c.binding_split, if c.truncated {"T"} else {""})).collect::<Vec<_>>());
    }
    let t = Instant::now();
    let g = designated_grid(100, 0.0, &DEFAULT_HONEST_FRACTIONS, &DEFAULT_PENALTIES).unwrap();
    println!("designated grid n=100 {:?}", t.elapsed());
    for (i, r) in g.cells.iter().enumerate() {
        println!("a={} {:?}", g.rows[i], r.iter().map(|c| format!("{:.2}{}", c.designated_loss, if c.designated_optimal {"D"} else {"s"})).collect::<Vec<_>>());
    }
    for (p, s) in [(2.0, 8.0), (2.0, 50.0), (1.25, 50.0), (1.2, 100.0), (1.5, 10.0)] {
        let t = Instant::now();
        let a = analyze_capacity(p, s).unwrap();
        println!("{p} {s}: {:?} {:?}", a, t.elapsed());
    }
}
