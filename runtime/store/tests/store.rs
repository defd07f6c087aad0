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
    let mut store = RedbStore::open(path).expect("opens");
    journal_into(&mut store, program, steps, stop_after).0
}

/// A run of `program` over `steps` daily bars journaled into `store`: its id and report.
fn journal_into(
    store: &mut dyn Store,
    program: &strat_lang::ir::Program,
    steps: i64,
    stop_after: usize,
) -> (u64, strat_engine::report::Report) {
    let data = bars(steps);
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
        store: Some((&mut *store, run_id)),
        control: None,
    };
    let report = run(program, host, &Limits::default(), &mut StopAfter(stop_after, 0)).expect("runs");
    store.finish_run(run_id, "stopped", report.final_equity).expect("finishes");
    (run_id, report)
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
    // The buy's intent was committed before it went to the broker.
    let intents = store.intents(first).expect("intents");
    assert_eq!(intents.len(), 1);
    assert_eq!((intents[0].id, intents[0].symbol.as_str(), intents[0].qty), (orders[0].id, "SPY", 10));
    assert_eq!(intents[0].status, Status::Pending, "as it was sent");
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

/// The embedded store, refusing every intent: an order whose intent cannot be journaled.
struct NoIntents(RedbStore);

impl Store for NoIntents {
    fn begin_run(&mut self, file: &str, hash: &str, market: &str, started: &str) -> Result<u64, StoreError> {
        self.0.begin_run(file, hash, market, started)
    }
    fn record_step(&mut self, run: u64, step: &StepView<'_>) -> Result<(), StoreError> {
        self.0.record_step(run, step)
    }
    fn record_stats(
        &mut self,
        run: u64,
        stats: &BTreeMap<String, strat_engine::report::Stats>,
    ) -> Result<(), StoreError> {
        self.0.record_stats(run, stats)
    }
    fn record_intent(&mut self, _: u64, _: &strat_engine::broker::Order) -> Result<(), StoreError> {
        Err(StoreError::Database("the disk is full".into()))
    }
    fn intents(&self, run: u64) -> Result<Vec<strat_engine::broker::Order>, StoreError> {
        self.0.intents(run)
    }
    fn record_opening(&mut self, run: u64, o: &strat_engine::store::Opening) -> Result<(), StoreError> {
        self.0.record_opening(run, o)
    }
    fn reopen_run(&mut self, run: u64) -> Result<strat_engine::store::RunRecord, StoreError> {
        self.0.reopen_run(run)
    }
    fn reported(&self, run: u64) -> Result<Vec<strat_engine::store::Reported>, StoreError> {
        self.0.reported(run)
    }
    fn record_bars(&mut self, run: u64, t: chrono::NaiveDateTime, b: &[(usize, Bar)]) -> Result<(), StoreError> {
        self.0.record_bars(run, t, b)
    }
    fn bars(&self, run: u64) -> Result<Vec<strat_engine::store::StepBars>, StoreError> {
        self.0.bars(run)
    }
    fn record_answers(&mut self, run: u64, a: &[(String, strat_engine::store::Answer)]) -> Result<(), StoreError> {
        self.0.record_answers(run, a)
    }
    fn next_answer(&mut self, run: u64, id: &str) -> Result<Option<strat_engine::store::Answer>, StoreError> {
        self.0.next_answer(run, id)
    }
    fn finish_run(&mut self, run: u64, status: &str, equity: f64) -> Result<(), StoreError> {
        self.0.finish_run(run, status, equity)
    }
    fn record_control(
        &mut self,
        run: u64,
        step: chrono::NaiveDateTime,
        said: &strat_engine::control::Said,
    ) -> Result<(), StoreError> {
        self.0.record_control(run, step, said)
    }
    fn controlled(&self, run: u64) -> Result<Vec<(chrono::NaiveDateTime, strat_engine::control::Said)>, StoreError> {
        self.0.controlled(run)
    }
    fn runs(&self) -> Result<Vec<strat_engine::store::RunRecord>, StoreError> {
        self.0.runs()
    }
    fn executions(&self, run: u64) -> Result<Vec<serde_json::Value>, StoreError> {
        self.0.executions(run)
    }
    fn prompt(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.0.prompt(id)
    }
    fn orders(&self, run: u64) -> Result<Vec<strat_engine::broker::Order>, StoreError> {
        self.0.orders(run)
    }
    fn fills(&self, run: u64) -> Result<Vec<strat_engine::store::Fill>, StoreError> {
        self.0.fills(run)
    }
    fn positions(&self, run: u64) -> Result<Vec<strat_engine::store::PositionRecord>, StoreError> {
        self.0.positions(run)
    }
    fn stats(&self, run: u64) -> Result<BTreeMap<String, strat_engine::report::Stats>, StoreError> {
        self.0.stats(run)
    }
}

#[test]
fn an_order_whose_intent_the_journal_refuses_is_rejected_and_never_sent() {
    let dir = std::env::temp_dir().join(format!("strat-store-intents-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut store = NoIntents(RedbStore::open(&dir.join("store.redb")).expect("opens"));
    let (_, report) = journal_into(&mut store, &program(), 3, 10);
    assert!(!report.orders.is_empty());
    for o in &report.orders {
        assert_eq!(o.status, Status::Rejected, "{o:?}");
        assert!(
            o.reason
                .as_deref()
                .is_some_and(|r| r.starts_with("the journal refused the order's intent, so it was not sent")),
            "{o:?}"
        );
    }
    assert_eq!(report.final_equity, 10_000.0, "nothing reached the broker");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_journal_keeps_what_the_broker_reported_where_and_the_opening_a_resume_needs() {
    let dir = std::env::temp_dir().join(format!("strat-store-resume-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join("store.redb");
    let run = journaled(&path, 5, 3);
    let mut store = RedbStore::open(&path).expect("reopens");
    let reported = store.reported(run).expect("reported");
    // The buy decided at the first close fills at the next open: reported as the second
    // step's bars are worked.
    assert_eq!(reported.len(), 1, "{reported:?}");
    assert_eq!(reported[0].step.to_string(), "2024-03-05 00:00:00");
    assert_eq!(reported[0].phase, strat_engine::store::Phase::Bars);
    assert!(matches!(reported[0].update, strat_engine::broker::Update::Filled { id: 1, .. }), "{reported:?}");
    let account = strat_engine::broker::Account::new(10_000.0, 1);
    let opening = strat_engine::resume::opening(vec!["w.strat".into()], "1xab".into(), &account, &["SPY".into()]);
    store.record_opening(run, &opening).expect("records");
    let again = store.reopen_run(run).expect("reopens the run");
    assert_eq!((again.status.as_str(), again.opening.as_ref()), ("running", Some(&opening)));
    let journal = strat_engine::resume::Journal::read(&store, &again, &["SPY".into()]).expect("reads");
    assert_eq!(journal.until.to_string(), "2024-03-06 00:00:00");
    assert_eq!(journal.intents.keys().copied().collect::<Vec<_>>(), vec![1]);
    assert_eq!(journal.opening.cash_f64(), 10_000.0);
    let _ = std::fs::remove_dir_all(&dir);
}
