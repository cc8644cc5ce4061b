//! Every mechanism of `src/mechanism/rules.rs` on the live devnet: each
//! `devnet/mechanisms/<kind>.yaml` runs 3 slots in-process with real halo2 proofs
//! (`--fast`), and every slot's ledger deltas equal the mechanism's rule, derived by
//! hand below from the slot's request and deliveries (not by calling the rule).
//!
//! The 7 devnets run one after another in one test (2 cores: parallel devnets would
//! starve each other's provers past the phase windows).

use std::collections::BTreeMap;
use std::path::Path;

use alloy_primitives::{Address, Bytes};
use dpgnet::app::Msg;
use dpgnet::config::{self, Devnet, Role};
use dpgnet::mechanism::rules::{Delivery, MechanismKind, Request};
use dpgnet::node::NodeKey;
use dpgnet::orchestrator::{Control, RunOptions, RuntimeKind, genesis, run, workload};
use dpgnet::protocol::{Account, Engine, EngineParams, EntryKind, Event, Settlement, SlotInput};
use tokio::sync::{mpsc, watch};
use tokio_util::sync::CancellationToken;

/// Devnets in one test binary run one at a time.
static SERIAL: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn load(kind: &str) -> Devnet {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("devnet/mechanisms")
        .join(format!("{kind}.yaml"));
    config::load(&path).unwrap_or_else(|e| panic!("{e}"))
}

async fn run_devnet(devnet: Devnet, slots: u64) -> Vec<Event> {
    let _serial = SERIAL.lock().await;
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (_ctl_tx, ctl_rx) = watch::channel(Control::default());
    let opts = RunOptions {
        devnet,
        runtime: RuntimeKind::Inproc,
        slots: Some(slots),
        fast: true,
        params_dir: None,
        plan: Vec::new(),
        keep: false,
        publish_rpc: false,
    };
    run(opts, tx, ctl_rx, CancellationToken::new())
        .await
        .expect("devnet runs");
    let mut events = Vec::new();
    while let Ok(m) = rx.try_recv() {
        if let Msg::Engine(e) = m {
            events.push(e);
        }
    }
    events
}

/// One settled slot as the test sees it.
#[derive(Debug)]
struct SlotView {
    slot: u64,
    selected: Vec<Address>,
    request: Request,
    deliveries: Vec<Delivery>,
    payments: Vec<(Address, u64)>,
    slashes: Vec<(Address, u64)>,
    liveness_fault: bool,
    capacity_oracle: Option<u64>,
    before: Vec<Account>,
    settled: Settlement,
}

impl SlotView {
    fn delivered(&self, a: &Address) -> bool {
        self.deliveries
            .iter()
            .any(|d| d.prover == *a && d.delivered)
    }

    fn amount(&self, a: &Address) -> u64 {
        self.deliveries
            .iter()
            .find(|d| d.prover == *a)
            .map_or(0, |d| d.amount)
    }

    fn stake_before(&self, a: &Address) -> u64 {
        self.before
            .iter()
            .find(|x| x.address == *a)
            .map_or(0, |x| x.stake)
    }

    /// Per account (balance delta, stake delta) over the slot.
    fn deltas(&self) -> BTreeMap<Address, (i64, i64)> {
        let b: BTreeMap<Address, &Account> = self.before.iter().map(|a| (a.address, a)).collect();
        self.settled
            .accounts
            .iter()
            .map(|a| {
                let p = b[&a.address];
                (
                    a.address,
                    (
                        a.balance as i64 - p.balance as i64,
                        a.stake as i64 - p.stake as i64,
                    ),
                )
            })
            .collect()
    }
}

fn slots(events: &[Event]) -> Vec<SlotView> {
    let mut before: Vec<Account> = Vec::new();
    let mut selected = BTreeMap::new();
    let mut pending = BTreeMap::new();
    let mut out = Vec::new();
    for e in events {
        match e {
            Event::Genesis { accounts, .. } => before = accounts.clone(),
            Event::SlotStarted { slot, sets, .. } => {
                selected.insert(*slot, sets[0].selected.clone());
            }
            Event::MechanismSettled {
                slot,
                request,
                deliveries,
                payments,
                slashes,
                liveness_fault,
                capacity_oracle,
                ..
            } => {
                pending.insert(
                    *slot,
                    (
                        (**request).clone(),
                        deliveries.clone(),
                        payments.clone(),
                        slashes.clone(),
                        *liveness_fault,
                        *capacity_oracle,
                    ),
                );
            }
            Event::Settled(s) => {
                let (request, deliveries, payments, slashes, liveness_fault, capacity_oracle) =
                    pending
                        .remove(&s.slot)
                        .expect("MechanismSettled before Settled");
                out.push(SlotView {
                    slot: s.slot,
                    selected: selected[&s.slot].clone(),
                    request,
                    deliveries,
                    payments,
                    slashes,
                    liveness_fault,
                    capacity_oracle,
                    before: std::mem::take(&mut before),
                    settled: s.clone(),
                });
                before = s.accounts.clone();
            }
            _ => {}
        }
    }
    out
}

/// Expected (payments, slashes) of one slot, by hand from the rule's text.
type Money = (BTreeMap<Address, u64>, BTreeMap<Address, u64>);

fn num(d: &Devnet, key: &str) -> f64 {
    d.mechanism.params[key].as_f64().unwrap()
}

fn list(d: &Devnet, key: &str) -> Vec<u64> {
    d.mechanism.params[key]
        .as_sequence()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap())
        .collect()
}

fn prover_addresses(d: &Devnet) -> Vec<Address> {
    let seed = d.network_params.seed;
    d.nodes()
        .into_iter()
        .filter(|s| s.role == Role::Prover)
        .map(|s| NodeKey::derive(seed, s.role, s.index).address())
        .collect()
}

fn expected(d: &Devnet, v: &SlotView) -> Money {
    let mut pay: BTreeMap<Address, u64> = BTreeMap::new();
    let mut cut: BTreeMap<Address, u64> = BTreeMap::new();
    let r = &v.request;
    let asked_delivered: Vec<Address> =
        r.asked.iter().copied().filter(|a| v.delivered(a)).collect();
    match d.mechanism.kind {
        MechanismKind::Designated => {
            // Rem. 3.3 / A.5: T = c(1 + m q) if the designate delivers, R = c m q /
            // (1 - (1 - q)^m) split among delivering members, the rest to the designate.
            let (m, q, c, s) = (
                num(d, "m"),
                num(d, "q"),
                num(d, "proof_cost"),
                num(d, "stake") as u64,
            );
            let designate = r.designated.expect("a designate");
            assert_eq!(r.asked[0], designate);
            assert_eq!(r.committee.len(), m as usize);
            if v.delivered(&designate) {
                let total = (c * (1.0 + m * q)).round() as u64;
                let prize = (c * m * q / (1.0 - (1.0 - q).powf(m))).round() as u64;
                let members: Vec<&Address> = asked_delivered
                    .iter()
                    .filter(|a| **a != designate)
                    .collect();
                let each = if members.is_empty() {
                    0
                } else {
                    prize / members.len() as u64
                };
                pay.insert(designate, total - each * members.len() as u64);
                for a in members {
                    pay.insert(*a, each);
                }
            } else {
                cut.insert(designate, s.min(v.stake_before(&designate)));
            }
        }
        MechanismKind::Lottery => {
            let (m, q, c) = (num(d, "m"), num(d, "q"), num(d, "proof_cost"));
            let prize = (c * m * q / (1.0 - (1.0 - q).powf(m))).round() as u64;
            if !asked_delivered.is_empty() {
                let w = (r.draw * asked_delivered.len() as f64) as usize;
                pay.insert(asked_delivered[w], prize);
            }
        }
        MechanismKind::PayDeliverers => {
            for a in &asked_delivered {
                pay.insert(*a, num(d, "proof_cost") as u64);
            }
        }
        MechanismKind::CapacityAudit => {
            // §3.2/§4: audited and delivered b in full: unit (b + b^p); short: -S.
            let bids = list(d, "bids");
            let provers = prover_addresses(d);
            let (p, unit, s) = (num(d, "p"), num(d, "unit"), num(d, "stake") as u64);
            for a in &r.audited {
                let b = bids[provers.iter().position(|x| x == a).unwrap()];
                if v.delivered(a) && v.amount(a) >= b {
                    pay.insert(*a, (unit * (b as f64 + (b as f64).powf(p))).round() as u64);
                } else {
                    cut.insert(*a, s.min(v.stake_before(a)));
                }
            }
        }
        MechanismKind::DualAuction => {
            let mut fees = list(d, "fees");
            fees.sort_unstable_by(|a, b| b.cmp(a));
            fees.truncate(num(d, "capacity_cap") as usize);
            let price = fees.iter().sum::<u64>() / fees.len() as u64;
            for (a, units) in &r.allocation {
                if v.delivered(a) {
                    pay.insert(*a, price * v.amount(a).min(*units));
                }
            }
        }
        MechanismKind::ProofTree => {
            // Everybody honest here: every node is produced by its own prover.
            assert!(r.asked.iter().all(|a| v.delivered(a)), "{v:#?}");
            for n in &r.tree {
                let reward = if n.children.is_some() {
                    num(d, "merge_reward")
                } else {
                    num(d, "leaf_reward")
                } as u64;
                *pay.entry(n.prover).or_default() += reward;
            }
        }
        MechanismKind::Spec => unreachable!("spec is checked against its table elsewhere"),
    }
    (pay, cut)
}

/// Runs `kind`'s devnet for 3 slots and checks every slot; returns the slots.
async fn check(kind: &str) -> (Devnet, Vec<SlotView>) {
    let d = load(kind);
    assert_eq!(d.mechanism.kind.name(), kind);
    let started = std::time::Instant::now();
    let events = run_devnet(d.clone(), 3).await;
    eprintln!("{kind}: 3 slots in {:.1}s", started.elapsed().as_secs_f64());
    let chosen = events.iter().find_map(|e| match e {
        Event::MechanismChosen { kind, params } => Some((kind.clone(), params.clone())),
        _ => None,
    });
    let (chosen_kind, params) = chosen.expect("MechanismChosen");
    assert_eq!(chosen_kind, kind);
    assert!(!params.is_empty());
    let views = slots(&events);
    assert_eq!(views.len(), 3, "{kind}: {events:#?}");
    let rule = format!("mechanism:{kind}");
    for v in &views {
        let s = &v.settled;
        assert!(s.conservation_ok, "{kind} slot {}", v.slot);
        // The nodes were asked exactly the mechanism's provers.
        assert_eq!(v.selected, v.request.asked, "{kind} slot {}", v.slot);
        assert_eq!(
            v.liveness_fault,
            s.outcome == dpgnet::protocol::Outcome::LivenessFault
        );
        eprintln!(
            "  slot {}: {:?}, asked {}, delivered {}, paid {:?}, slashed {:?}",
            v.slot,
            s.outcome,
            v.request.asked.len(),
            v.deliveries.iter().filter(|d| d.delivered).count(),
            v.payments.iter().map(|x| x.1).collect::<Vec<_>>(),
            v.slashes.iter().map(|x| x.1).collect::<Vec<_>>(),
        );
        let deltas = v.deltas();
        if kind == "spec" {
            // The table applied (no mechanism entries); the event sums the entries.
            assert!(s.entries.iter().all(|e| !e.rule.starts_with("mechanism:")));
            for (a, (bal, stake)) in &deltas {
                let paid = v.payments.iter().find(|x| x.0 == *a).map_or(0, |x| x.1);
                let cut = v.slashes.iter().find(|x| x.0 == *a).map_or(0, |x| x.1);
                assert_eq!((*bal, *stake), (paid as i64, -(cut as i64)), "spec {a}");
            }
            continue;
        }
        // Only the mechanism moves money: every entry is its rule.
        assert!(
            s.entries.iter().all(|e| e.rule == rule),
            "{kind} slot {}: {:#?}",
            v.slot,
            s.entries
        );
        let (pay, cut) = expected(&d, v);
        for (a, (bal, stake)) in &deltas {
            let want = (
                pay.get(a).copied().unwrap_or(0) as i64,
                -(cut.get(a).copied().unwrap_or(0) as i64),
            );
            assert_eq!(
                (*bal, *stake),
                want,
                "{kind} slot {} account {a}: {v:#?}",
                v.slot
            );
        }
        let paid: u64 = pay.values().sum();
        let slashed: u64 = cut.values().sum();
        assert_eq!(s.payments, paid, "{kind} slot {}", v.slot);
        assert_eq!(
            s.entries
                .iter()
                .filter(|e| e.kind == EntryKind::Slash)
                .map(|e| e.applied)
                .sum::<u64>(),
            slashed
        );
        // Slashed stake went to the protocol treasury (insurance).
        let treasury_before: u64 = if v.slot == views[0].slot {
            0
        } else {
            views
                .iter()
                .find(|x| x.slot + 1 == v.slot)
                .map_or(0, |x| x.settled.totals.treasury)
        };
        assert_eq!(s.totals.treasury - treasury_before, slashed);
        if kind == "capacity_audit" {
            let bids = list(&d, "bids");
            assert_eq!(v.capacity_oracle, Some(bids.iter().sum()));
        }
    }
    (d, views)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_mechanism_pays_its_rule_on_the_live_devnet() {
    let total = std::time::Instant::now();
    let mut slashed = BTreeMap::new();
    for kind in MechanismKind::ALL {
        let (_, views) = check(kind.name()).await;
        let s: u64 = views
            .iter()
            .flat_map(|v| v.slashes.iter().map(|x| x.1))
            .sum();
        let paid: u64 = views.iter().map(|v| v.settled.payments).sum();
        assert!(paid > 0, "{kind}: nobody was paid in 3 slots");
        slashed.insert(kind.name(), s);
    }
    // The devnets' adversaries are caught: the withholding designate (slot 0) and the
    // Sybil identity that cannot deliver its audited bid.
    assert!(slashed["designated"] > 0, "{slashed:?}");
    assert!(slashed["capacity_audit"] > 0, "{slashed:?}");
    eprintln!("all mechanisms: {:.1}s", total.elapsed().as_secs_f64());
}

/// Slot 0's request, computed with the pure engine as validators do.
fn slot0_request(d: &Devnet) -> Vec<Address> {
    let mut e = Engine::new(EngineParams::from_devnet(d), &genesis(d)).unwrap();
    e.begin_slot(SlotInput {
        slot: 0,
        reveal: Bytes::from(vec![0u8; 65]),
        roots: workload(d).roots(0),
    })
    .unwrap();
    e.set_state(0).unwrap().assignment.selected.clone()
}

#[test]
fn the_designated_devnet_designates_the_withholding_prover_in_slot_0() {
    let d = load("designated");
    let provers = prover_addresses(&d);
    let asked = slot0_request(&d);
    assert_eq!(asked[0], *provers.last().unwrap(), "{asked:?}");
}

#[test]
fn every_mechanism_devnet_parses_and_names_its_kind() {
    for kind in MechanismKind::ALL {
        let d = load(kind.name());
        assert_eq!(d.mechanism.kind, kind);
        Engine::new(EngineParams::from_devnet(&d), &genesis(&d)).unwrap();
    }
}
