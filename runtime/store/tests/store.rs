//! A run journaled in the redb store, read back after reopening: runs, executions, orders,
//! fills, positions and statistics, and what a stop mid-run leaves.
#![allow(clippy::disallowed_methods)] // the test makes and removes a temporary folder

use chrono::{Duration, NaiveDate};
use std::collections::BTreeMap;
use strat_engine::broker::{Costs, PaperBroker, Status};
use strat_engine::engine::{Observer, run};
use strat_engine::host::{Host, MarketData};
use strat_engine::market::Bar;
use strat_engine::offline::Offline;
use strat_engine::sandbox::Limits;
use strat_engine::sim::{Replay, SimClock, SimNews};
use strat_engine::store::{StepView, Store, StoreError};
use strat_store::RedbStore;

const SRC: &str = "limits { max_position $5_000 }
    workflow W {
      on price(SPY) > $0
      if not holding(SPY) { buy SPY size 10 shares } else { log \"holding\" }
    }";

fn program() -> strat_lang::ir::Program {
    compile(SRC)
}

fn compile(src: &str) -> strat_lang::ir::Program {
    let mut ws = strat_lang::Workspace::new();
    let id = ws.set_file("w.strat", src.as_bytes().to_vec());
    let c = ws.compile(&[id]);
    c.program.unwrap_or_else(|| panic!("{:?}", c.diagnostics))
}

fn bars(n: i64) -> BTreeMap<String, Vec<Bar>> {
    let start = NaiveDate::from_ymd_opt(2024, 3, 4).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
    let bars = (0..n)
        .map(|i| {
            let p = 100.0 + i as f64;
            Bar { time: start + Duration::days(i), open: p, high: p, low: p, close: p, volume: 1.0 }
        })
        .collect();
    BTreeMap::from([("SPY".to_string(), bars)])
}

/// Stops the run after `n` steps.
struct StopAfter(usize, usize);

impl Observer for StopAfter {
    fn step(&mut self, _: &StepView<'_>) {
        self.1 += 1;
    }
    fn stop(&mut self) -> bool {
        self.1 >= self.0
    }
}

fn journaled(path: &std::path::Path, steps: i64, stop_after: usize) -> u64 {
    journal(path, &program(), steps, stop_after)
}

fn journal(path: &std::path::Path, program: &strat_lang::ir::Program, steps: i64, stop_after: usize) -> u64 {
    let data = bars(steps);
    let mut store = RedbStore::open(path).expect("opens");
    let run_id = store.begin_run("w.strat", "abc123", "test bars", "2024-03-04").expect("begins");
    let mut replay = Replay::new(&data, "test bars");
    let mut broker = PaperBroker::new(10_000.0, replay.symbols().len(), Costs::default());
    let news = SimNews::default();
    let (mut clock, mut llm) = (SimClock::default(), Offline);
    let host = Host {
        clock: &mut clock,
        market: &mut replay,
        news: &news,
        llm: &mut llm,
        broker: &mut broker,
        store: Some((&mut store, run_id)),
    };
    let report = run(program, host, &Limits::default(), &mut StopAfter(stop_after, 0)).expect("runs");
    store.finish_run(run_id, "stopped", report.final_equity).expect("finishes");
    run_id
}

#[test]
fn a_journaled_run_reads_back_after_reopening() {
    let dir = std::env::temp_dir().join(format!("strat-store-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("store.redb");
    // Five bars, stopped after three steps: the buy decided at step 1 fills at step 2.
    let first = journaled(&path, 5, 3);
    let second = journaled(&path, 1, 10);
    assert_eq!((first, second), (1, 2));
    let store = RedbStore::open(&path).expect("reopens");
    let runs = store.runs().expect("runs");
    assert_eq!(runs.len(), 2);
    assert_eq!((runs[0].status.as_str(), runs[0].steps), ("stopped", 3));
    assert_eq!(runs[0].last_step.as_deref(), Some("2024-03-06 00:00:00"));
    assert_eq!(runs[0].program_hash, "abc123");
    // One execution per step, in order, with the trigger that fired it.
    let ex = store.executions(first).expect("executions");
    assert_eq!(ex.len(), 3);
    assert_eq!(ex[0]["trigger"]["kind"], "condition");
    assert_eq!(ex[0]["trigger"]["text"], "price(SPY) > $0");
    assert_eq!(ex[0]["status"], "success");
    assert_eq!(ex[0]["validation"][0]["approved"], true);
    let orders = store.orders(first).expect("orders");
    assert_eq!(orders.len(), 1);
    assert_eq!((orders[0].status, orders[0].price), (Status::Filled, Some(101.0)));
    let fills = store.fills(first).expect("fills");
    assert_eq!((fills.len(), fills[0].qty, fills[0].price), (1, 10, 101.0));
    let positions = store.positions(first).expect("positions");
    assert_eq!(positions.len(), 1);
    assert_eq!((positions[0].symbol.as_str(), positions[0].qty, positions[0].avg_cost), ("SPY", 10, 101.0));
    let stats = store.stats(first).expect("stats");
    assert_eq!(stats["W"].total_executions, 3);
    assert_eq!(stats["W"].filled, 1);
    assert!(store.fills(second).expect("fills").is_empty(), "the second run's buy never filled");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_prompt_sent_by_many_executions_is_stored_once_and_read_back_by_its_id() {
    let dir = std::env::temp_dir().join(format!("strat-store-prompts-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("store.redb");
    let src = "model m = offline(\"rules\")\nlimits l {\n  max_position $500\n}\nagent A {\n  model m\n  limits l\n  context prices(SPY)\n  prompt \"Hold unless sure.\"\n  on price(SPY) > $0\n}\n";
    let first = journal(&path, &compile(src), 4, 10);
    let store = RedbStore::open(&path).expect("reopens");
    let ex = store.executions(first).expect("executions");
    assert_eq!(ex.len(), 4);
    let ids: std::collections::BTreeSet<&str> = ex.iter().filter_map(|e| e["prompt"]["prefix"].as_str()).collect();
    assert_eq!(ids.len(), 1, "the same stable part every time");
    let prefix = store.prompt(ids.first().expect("an id")).expect("reads").expect("held");
    assert!(prefix.contains("YOUR STRATEGY:\nHold unless sure."), "{prefix}");
    let system = ex[0]["prompt"]["system"].as_str().expect("system id");
    assert!(store.prompt(system).expect("reads").is_some_and(|t| t.starts_with("You are a trading agent")));
    assert!(ex.iter().all(|e| e["prompt"]["rest"].as_str().is_some_and(|r| r.starts_with("YOUR ACCOUNT:"))));
    assert_eq!(store.prompt("0000").expect("reads"), None);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_store_of_another_layout_is_refused() {
    let dir = std::env::temp_dir().join(format!("strat-store-layout-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("store.redb");
    {
        let db = redb::Database::create(&path).expect("creates");
        let tx = db.begin_write().expect("writes");
        {
            let mut meta = tx.open_table(redb::TableDefinition::<&str, u64>::new("meta")).expect("table");
            meta.insert("schema", 99).expect("inserts");
        }
        tx.commit().expect("commits");
    }
    let err = RedbStore::open(&path).err().expect("refused");
    assert!(matches!(err, StoreError::Layout { found: 99, expected: strat_store::SCHEMA_VERSION, .. }), "{err:?}");
    assert!(err.to_string().contains("has layout version 99"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
