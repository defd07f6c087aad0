//! The redb store keeps a run's journal across reopening.
#![allow(clippy::disallowed_methods)] // the test makes and removes a temporary folder

use chrono::NaiveDate;
use strat_runtime::broker::{PaperBroker, Side, Status};
use strat_runtime::engine::LogLine;
use strat_runtime::market::Bar;
use strat_runtime::store::{RedbStore, Store};

#[test]
fn a_run_survives_reopening_the_store() {
    let dir = std::env::temp_dir().join(format!("strat-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("store.redb");
    let t = NaiveDate::from_ymd_opt(2024, 1, 2).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
    let mut broker = PaperBroker::new(1000.0);
    broker.submit(t, "X", Side::Buy, 2, "W");
    {
        let mut store = RedbStore::open(&path).expect("opens");
        let run = store.begin_run("w.strat", "abc123", "simulated", "2024-01-02").expect("begins");
        assert_eq!(run, 1);
        let log = [LogLine { time: t, graph: "W".into(), message: "buy 2 X".into() }];
        store.record_bar(run, &log, broker.orders()).expect("records");
        broker.on_bar("X", &Bar { time: t, open: 10.0, high: 10.0, low: 10.0, close: 10.0, volume: 1.0 });
        store.record_bar(run, &[], broker.orders()).expect("records");
        store.finish_run(run, "stopped", 1000.0).expect("finishes");
        assert_eq!(store.begin_run("w.strat", "abc123", "simulated", "2024-01-03").expect("begins"), 2);
    }
    let store = RedbStore::open(&path).expect("reopens");
    let runs = store.runs().expect("runs");
    assert_eq!(runs.len(), 2);
    assert_eq!((runs[0].status.as_str(), runs[0].bars, runs[0].final_equity), ("stopped", 2, Some(1000.0)));
    assert_eq!(runs[0].program_hash, "abc123");
    assert_eq!(runs[1].status, "running");
    let ex = store.executions(1).expect("executions");
    assert_eq!(ex.len(), 1);
    assert_eq!(ex[0].message, "buy 2 X");
    let orders = store.orders(1).expect("orders");
    assert_eq!(orders.len(), 1);
    assert_eq!((orders[0].status, orders[0].price), (Status::Filled, Some(10.0)));
    assert!(store.executions(2).expect("none").is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}
