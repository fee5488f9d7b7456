//! The merge rules' laws, checked on records from many registers: whatever the order,
//! grouping and duplication of deliveries, every replica reaches the same state, and that
//! state matches an oracle computed directly from the records (DESIGN.md §4, invariants 1–4).

use std::collections::{BTreeMap, BTreeSet};

use proptest::prelude::*;
use shared_model::projection::{ChainView, Insert, RecordSet, Replica, StockKey, fold};
use shared_model::record::{Record, RecordBody};
use shared_model::testing::{Act, build_records, plans_strategy, register_of};
use shared_model::{Money, Sku};

const REGISTERS: usize = 6;
const MAX_ACTS: usize = 12;

fn replica_of<'a>(records: impl IntoIterator<Item = &'a Record>) -> Replica<ChainView> {
    let mut replica = Replica::new();
    for record in records {
        replica.ingest(record);
    }
    replica
}

/// The records, delivered in a shuffled order with some delivered several times.
fn deliveries() -> impl Strategy<Value = (Vec<Record>, Vec<Record>)> {
    plans_strategy(REGISTERS, MAX_ACTS).prop_flat_map(|plans| {
        let records = build_records(&plans);
        let n = records.len().max(1);
        let repeats = prop::collection::vec(0..n, 0..n);
        (Just(records), repeats).prop_flat_map(|(records, repeats)| {
            let mut delivered = records.clone();
            delivered.extend(repeats.iter().filter_map(|&i| records.get(i).cloned()));
            (Just(records), Just(delivered).prop_shuffle())
        })
    })
}

/// Three subsets of the records, which may overlap: what three replicas heard.
fn three_replicas() -> impl Strategy<Value = (Vec<Record>, [Vec<Record>; 3])> {
    plans_strategy(REGISTERS, MAX_ACTS).prop_flat_map(|plans| {
        let records = build_records(&plans);
        let n = records.len();
        let masks = prop::collection::vec(0u8..8, n);
        (Just(records), masks).prop_map(|(records, masks)| {
            let pick = |bit: u8| {
                records.iter().zip(&masks).filter(|(_, m)| *m & bit != 0).map(|(r, _)| r.clone()).collect()
            };
            let subsets = [pick(1), pick(2), pick(4)];
            (records, subsets)
        })
    })
}

fn merged(a: &Replica<ChainView>, b: &Replica<ChainView>) -> Replica<ChainView> {
    let mut out = a.clone();
    out.merge(b);
    out
}

/// Stock moved per (location, product), computed from the record bodies without the projection code.
fn stock_oracle(records: &[Record]) -> BTreeMap<StockKey, i64> {
    let mut moved: BTreeMap<StockKey, i64> = BTreeMap::new();
    let mut add = |store: &shared_model::LocationCode, sku: &Sku, delta: i64| {
        *moved.entry((store.clone(), sku.clone())).or_default() += delta;
    };
    for r in records {
        match &r.body {
            RecordBody::Sale(s) => {
                s.lines.iter().for_each(|l| add(&r.store, &l.sku, -i64::from(l.quantity.get())))
            }
            RecordBody::Return(ret) => ret
                .lines
                .iter()
                .filter(|l| l.restock)
                .for_each(|l| add(&r.store, &l.sku, i64::from(l.quantity.get()))),
            RecordBody::StockCount(c) => add(&r.store, &c.sku, c.counted - c.expected),
            RecordBody::StockAdjustment(a) => add(&r.store, &a.sku, a.delta),
            RecordBody::TransferReceived(t) => {
                t.lines.iter().for_each(|l| add(&r.store, &l.sku, i64::from(l.quantity.get())))
            }
            RecordBody::ReplenishmentRequested(_) | RecordBody::TillClosed(_) => {}
        }
    }
    moved.retain(|_, v| *v != 0);
    moved
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Invariant 1: any interleaving and duplication of deliveries gives the state of the plain set.
    #[test]
    fn deliveries_in_any_order_with_duplicates_converge((records, delivered) in deliveries()) {
        let once = replica_of(&records);
        let noisy = replica_of(&delivered);
        prop_assert_eq!(noisy.view(), once.view());
        prop_assert_eq!(noisy.set().len(), records.len());
        prop_assert_eq!(once.view(), &fold::<ChainView>(&delivered));
    }

    #[test]
    fn merge_is_idempotent_commutative_and_associative((_, [a, b, c]) in three_replicas()) {
        let (a, b, c) = (replica_of(&a), replica_of(&b), replica_of(&c));
        prop_assert_eq!(&merged(&a, &a), &a);
        let ab = merged(&a, &b);
        let ba = merged(&b, &a);
        prop_assert_eq!(ab.view(), ba.view());
        prop_assert_eq!(ab.set(), ba.set());
        let left = merged(&ab, &c);
        let right = merged(&a, &merged(&b, &c));
        prop_assert_eq!(left.view(), right.view());
        prop_assert_eq!(left.set(), right.set());
        // Each projection merges on its own too: the chain view is only their product.
        prop_assert_eq!(&left.view().stock, &right.view().stock);
    }

    /// Invariant 2: stock is opening plus the sum of movements, at any replica.
    #[test]
    fn stock_is_opening_plus_movements((records, delivered) in deliveries()) {
        let replica = replica_of(&delivered);
        let moved: BTreeMap<_, _> = replica.view().stock.iter().filter(|(_, d)| *d != 0).map(|(k, d)| (k.clone(), d)).collect();
        prop_assert_eq!(&moved, &stock_oracle(&records));
        let opening: BTreeMap<StockKey, i64> = replica.view().stock.iter().map(|(k, _)| (k.clone(), 10)).collect();
        let levels = replica.view().stock.levels(&opening);
        for (key, level) in &levels {
            prop_assert_eq!(*level, 10 + moved.get(key).copied().unwrap_or_default());
        }
        let negatives = replica.view().stock.negatives(&opening);
        prop_assert!(negatives.iter().all(|(_, level)| *level < 0));
        prop_assert_eq!(negatives.len(), levels.values().filter(|l| **l < 0).count());
    }

    /// Invariant 3: the report equals a recomputation from the records.
    #[test]
    fn report_equals_recomputation((records, delivered) in deliveries()) {
        let replica = replica_of(&delivered);
        let report = &replica.view().sales;
        let mut collected: BTreeMap<_, Money> = BTreeMap::new();
        let mut refunded: BTreeMap<_, Money> = BTreeMap::new();
        let mut counts: BTreeMap<_, (u64, u64)> = BTreeMap::new();
        for r in &records {
            match &r.body {
                RecordBody::Sale(s) => {
                    *collected.entry(r.store.clone()).or_default() += s.totals.total + s.totals.rounding;
                    counts.entry(r.store.clone()).or_default().0 += 1;
                }
                RecordBody::Return(ret) => {
                    *refunded.entry(r.store.clone()).or_default() += ret.totals.total + ret.totals.rounding;
                    counts.entry(r.store.clone()).or_default().1 += 1;
                }
                _ => {}
            }
        }
        let day = chrono::NaiveDate::from_ymd_opt(2026, 11, 20).unwrap();
        for (store, (sales, returns)) in &counts {
            let t = report.store_total(store, day, day);
            prop_assert_eq!((t.sales, t.returns), (*sales, *returns));
            prop_assert_eq!(t.collected, collected.get(store).copied().unwrap_or_default());
            prop_assert_eq!(t.refunded, refunded.get(store).copied().unwrap_or_default());
        }
        let units: i64 = report.top_products(usize::MAX).iter().map(|(_, u, _)| u).sum();
        let sold: i64 = records.iter().map(|r| match &r.body {
            RecordBody::Sale(s) => s.lines.iter().map(|l| i64::from(l.quantity.get())).sum(),
            RecordBody::Return(ret) => -ret.lines.iter().map(|l| i64::from(l.quantity.get())).sum::<i64>(),
            _ => 0,
        }).sum();
        prop_assert_eq!(units, sold);
    }

    /// Invariant 4: every sale balances to the cent; cash is settled in nickels.
    #[test]
    fn money_balances((records, _) in deliveries()) {
        for r in &records {
            prop_assert!(r.check().is_ok(), "{:?}", r.check());
            if let RecordBody::Sale(s) = &r.body {
                let t = s.totals;
                prop_assert_eq!(t.net + t.gst + t.qst, t.total);
                prop_assert_eq!(t.gross - t.discounts, t.net);
                prop_assert!(t.rounding.as_cents().abs() <= 2);
                let offered: Money = s.tenders.iter().map(|t| t.amount()).sum();
                prop_assert_eq!(offered - t.change, t.paid());
                let cash_kept: Money = s.tenders.iter().filter(|t| t.is_cash()).map(|t| t.amount()).sum::<Money>() - t.change;
                prop_assert_eq!(cash_kept.as_cents() % 5, 0);
            }
        }
    }

    /// Over-returns are flagged whatever order the sale and its returns arrive in.
    #[test]
    fn over_returns_are_flagged_in_any_order((records, delivered) in deliveries()) {
        let expected = fold::<ChainView>(&records).returnable.over_returns();
        prop_assert_eq!(replica_of(&delivered).view().returnable.over_returns(), expected);
    }

    /// The acknowledgement is the contiguous prefix of each register's seqs, whatever arrived.
    #[test]
    fn holds_is_the_contiguous_prefix((records, _) in deliveries(), keep in prop::collection::vec(any::<bool>(), 0..200)) {
        let mut set = RecordSet::new();
        let mut arrived: BTreeMap<_, BTreeSet<u64>> = BTreeMap::new();
        for (i, r) in records.iter().enumerate() {
            if keep.get(i).copied().unwrap_or(true) {
                prop_assert_eq!(set.insert(r), Insert::New);
                arrived.entry(r.origin.clone()).or_default().insert(r.seq);
            }
        }
        for index in 0..REGISTERS {
            let register = register_of(index);
            let seqs = arrived.get(&register).cloned().unwrap_or_default();
            let prefix = (1..).take_while(|s| seqs.contains(s)).count() as u64;
            prop_assert_eq!(set.holds(&register), prefix);
            let top = seqs.last().copied().unwrap_or_default();
            let gaps: Vec<u64> = (prefix + 1..top).filter(|s| !seqs.contains(s)).collect();
            prop_assert_eq!(set.gaps(&register), gaps);
        }
    }
}

#[test]
fn a_forged_record_reusing_a_dot_is_a_conflict_and_changes_nothing() {
    let plans = vec![vec![Act::Close, Act::Close]];
    let records = build_records(&plans);
    let mut replica: Replica<ChainView> = Replica::new();
    assert_eq!(replica.ingest(&records[0]), Insert::New);
    let before = replica.clone();

    let mut same_dot = records[1].clone();
    same_dot.seq = 1;
    assert!(matches!(replica.ingest(&same_dot), Insert::Conflict(_)));

    let mut same_id = records[0].clone();
    same_id.device_time_ms += 1;
    assert!(matches!(replica.ingest(&same_id), Insert::Conflict(_)));
    assert_eq!(replica, before);
    assert_eq!(replica.ingest(&records[0]), Insert::Duplicate);
}
