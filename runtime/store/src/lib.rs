//! The embedded store: one redb file behind the engine's `Store` trait. redb is ACID and
//! durable when a transaction commits, so a stopped or crashed run keeps every step up to the
//! last one committed. Each step is one transaction.

use chrono::NaiveDateTime;
mod bars;
mod control;
mod reader;

pub use control::{Accepted, AuditEntry, Controls, FiringRecord, StoreControl};
pub use reader::Reader;

use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::Serialize;
use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;
use strat_engine::broker::{Order, Status};
use strat_engine::market::Bar;
use strat_engine::report::Stats;
use strat_engine::store::{
    Answer, Fill, Opening, PositionRecord, Reported, RunRecord, StepBars, StepView, Store, StoreError,
};

/// Bumped when the layout of the tables changes; a store of another version is refused.
pub const SCHEMA_VERSION: u64 = 3;

/// The most of the store redb keeps in memory. A run appends to its journal and reads little
/// back (a resume or a report reads each table once, in order), so the pages it wrote are
/// worth little once committed: a small bound keeps a live run's memory flat once it is
/// reached (within a session or two of minute bars; with 16 MB it grew for months).
const CACHE_BYTES: usize = 1 << 20;

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const RUNS: TableDefinition<u64, &str> = TableDefinition::new("runs");
const EXECUTIONS: TableDefinition<(u64, u64), &str> = TableDefinition::new("executions");
const LOG: TableDefinition<(u64, u64), &str> = TableDefinition::new("log");
const ORDERS: TableDefinition<(u64, u64), &str> = TableDefinition::new("orders");
const FILLS: TableDefinition<(u64, u64), &str> = TableDefinition::new("fills");
const POSITIONS: TableDefinition<(u64, &str), &str> = TableDefinition::new("positions");
const STATS: TableDefinition<(u64, &str), &str> = TableDefinition::new("stats");
/// Intents to send an order, committed before the broker call: (run, order id) → the order.
const INTENTS: TableDefinition<(u64, u64), &str> = TableDefinition::new("intents");
/// What the broker reported, in the order the engine took it: (run, sequence) → the update
/// with its step and place in the step.
const REPORTED: TableDefinition<(u64, u64), &str> = TableDefinition::new("reported");
/// The bars of each live step as it began: (run, sequence) → the step's bars.
const BARS: TableDefinition<(u64, u64), &[u8]> = TableDefinition::new("live_bars");
/// The models' answers: (run, request id, the how-manieth asking of it) → the answer.
const ANSWERS: TableDefinition<(u64, &str, u64), &str> = TableDefinition::new("answers");
/// The operator's decisions (`lifecycle`): for every run, surviving restarts.
const CONTROL: TableDefinition<&str, &str> = TableDefinition::new("control");
/// Firings from outside (webhooks), by number: each committed before it is acknowledged.
const FIRINGS: TableDefinition<u64, &str> = TableDefinition::new("firings");
/// The firings no run has run yet: their numbers.
const PENDING: TableDefinition<u64, ()> = TableDefinition::new("pending_firings");
/// The `webhook-id`s accepted: id → (firing, unix seconds when accepted).
const WEBHOOK_IDS: TableDefinition<&str, (u64, i64)> = TableDefinition::new("webhook_ids");
/// What the control said at a step of a run, when it changed or firings came: (run,
/// sequence) → the step and what was said.
const CONTROLLED: TableDefinition<(u64, u64), &str> = TableDefinition::new("controlled");
/// When each trigger (by id, `Graph.N`) last started an execution, as the step's time.
const TRIGGERED: TableDefinition<&str, &str> = TableDefinition::new("triggered");
/// What became of each notification's delivery to each channel, by number.
const NOTIFICATIONS: TableDefinition<u64, &str> = TableDefinition::new("notifications");
/// The audit log: what operators did (halt, pause, …), by number, append-only.
const AUDIT: TableDefinition<u64, &str> = TableDefinition::new("audit");
/// Prompt texts by content id, each once for every run that sent it.
const PROMPTS: TableDefinition<&str, &str> = TableDefinition::new("prompts");

/// The embedded store: one redb file.
pub struct RedbStore {
    db: Arc<Database>,
    read: Reader,
    /// The account as last recorded per run, to write positions only when they change.
    positions: BTreeMap<u64, Vec<PositionRecord>>,
    /// How many answers of each request of a run this process has read back from the journal
    /// (a replay), so each reading takes the next.
    asked: BTreeMap<(u64, String), u64>,
}

/// A refusal of the database, with what it said.
fn err(e: impl std::fmt::Display) -> StoreError {
    StoreError::Database(e.to_string())
}

/// A record that could not be encoded or decoded.
fn bad_record(e: serde_json::Error) -> StoreError {
    StoreError::Record(e.to_string())
}

fn json(v: &impl Serialize) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(bad_record)
}

impl RedbStore {
    pub fn open(path: &Path) -> Result<RedbStore, StoreError> {
        let open_failed =
            |e: &dyn std::fmt::Display| StoreError::Open { path: path.display().to_string(), reason: e.to_string() };
        create_private(path).map_err(|e| open_failed(&e))?;
        // The journal lives on disk; what redb caches of it in memory is bounded, so a long run
        // does not grow with its journal.
        let db = Database::builder().set_cache_size(CACHE_BYTES).create(path).map_err(|e| open_failed(&e))?;
        // Create the tables up front so readers never meet a missing table.
        let tx = db.begin_write().map_err(err)?;
        {
            let mut meta = tx.open_table(META).map_err(err)?;
            let version = meta.get("schema").map_err(err)?.map(|v| v.value());
            match version {
                None => {
                    meta.insert("schema", SCHEMA_VERSION).map_err(err)?;
                }
                Some(v) if v == SCHEMA_VERSION => {}
                Some(v) => {
                    return Err(StoreError::Layout {
                        path: path.display().to_string(),
                        found: v,
                        expected: SCHEMA_VERSION,
                    });
                }
            }
            tx.open_table(RUNS).map_err(err)?;
            tx.open_table(EXECUTIONS).map_err(err)?;
            tx.open_table(LOG).map_err(err)?;
            tx.open_table(ORDERS).map_err(err)?;
            tx.open_table(FILLS).map_err(err)?;
            tx.open_table(POSITIONS).map_err(err)?;
            tx.open_table(STATS).map_err(err)?;
            tx.open_table(PROMPTS).map_err(err)?;
            tx.open_table(INTENTS).map_err(err)?;
            tx.open_table(REPORTED).map_err(err)?;
            tx.open_table(ANSWERS).map_err(err)?;
            tx.open_table(BARS).map_err(err)?;
            tx.open_table(CONTROL).map_err(err)?;
            tx.open_table(FIRINGS).map_err(err)?;
            tx.open_table(PENDING).map_err(err)?;
            tx.open_table(WEBHOOK_IDS).map_err(err)?;
            tx.open_table(CONTROLLED).map_err(err)?;
            tx.open_table(AUDIT).map_err(err)?;
            tx.open_table(TRIGGERED).map_err(err)?;
            tx.open_table(NOTIFICATIONS).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        let db = Arc::new(db);
        let read = Reader { db: db.clone() };
        let store = RedbStore { db, read, positions: BTreeMap::new(), asked: BTreeMap::new() };
        store.mark_crashed()?;
        Ok(store)
    }

    /// Runs still `running` when the store opens ended without finishing (the process was
    /// killed or crashed: redb lets one process at a time open the file): they are marked
    /// `crashed`, keeping every step committed before.
    fn mark_crashed(&self) -> Result<(), StoreError> {
        for mut r in self.runs()?.into_iter().filter(|r| r.status == "running") {
            r.status = "crashed".to_string();
            self.put_run(&r)?;
        }
        Ok(())
    }

    /// A handle on the operator's decisions and the firings, for other threads.
    pub fn controls(&self) -> Controls {
        Controls { db: self.db.clone() }
    }

    /// A handle on what the store holds that other threads can read while this one writes.
    pub fn reader(&self) -> Reader {
        self.read.clone()
    }

    /// Hands each execution of `run` to `f`, in order, one at a time ([`Reader::each_execution`]).
    pub fn each_execution(
        &self,
        run: u64,
        f: &mut dyn FnMut(serde_json::Value) -> Result<(), String>,
    ) -> Result<(), StoreError> {
        self.read.each_execution(run, f)
    }

    /// A write that need not reach the disk by itself: what it holds only matters once
    /// something that follows it is committed (an intent, the step), and every such commit is
    /// durable and makes the writes before it durable too. A crash before one loses this
    /// write and nothing that depends on it (no fsync: a bar or an answer costs no disk wait).
    fn lazy_write(&self) -> Result<redb::WriteTransaction, StoreError> {
        let mut tx = self.db.begin_write().map_err(err)?;
        tx.set_durability(redb::Durability::None).map_err(err)?;
        Ok(tx)
    }

    fn run(&self, id: u64) -> Result<RunRecord, StoreError> {
        self.read.run(id)
    }

    fn put_run(&self, r: &RunRecord) -> Result<(), StoreError> {
        let body = json(r)?;
        let tx = self.db.begin_write().map_err(err)?;
        tx.open_table(RUNS).map_err(err)?.insert(r.id, body.as_str()).map_err(err)?;
        tx.commit().map_err(err)
    }
}

/// Creates the store's file, if it is missing, readable by its owner only (0600): it holds
/// prompts, portfolios and replies. redb then initialises the empty file.
fn create_private(path: &Path) -> std::io::Result<()> {
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(false);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    options.open(path).map(drop)
}

/// The next free sequence number of a run's journaled bars.
fn next_bar_seq(t: &redb::Table<(u64, u64), &[u8]>, run: u64) -> Result<u64, StoreError> {
    let last = t.range((run, 0)..=(run, u64::MAX)).map_err(err)?.next_back().transpose().map_err(err)?;
    Ok(last.map_or(0, |(k, _)| k.value().1 + 1))
}

/// The next free sequence number of a run's rows in a table.
fn next_seq(t: &redb::Table<(u64, u64), &str>, run: u64) -> Result<u64, StoreError> {
    Ok(t.range((run, 0)..=(run, u64::MAX))
        .map_err(err)?
        .next_back()
        .transpose()
        .map_err(err)?
        .map_or(0, |(k, _)| k.value().1 + 1))
}

impl Store for RedbStore {
    fn begin_run(&mut self, file: &str, program_hash: &str, market: &str, started: &str) -> Result<u64, StoreError> {
        let id = {
            let tx = self.db.begin_read().map_err(err)?;
            let t = tx.open_table(RUNS).map_err(err)?;
            t.last().map_err(err)?.map_or(1, |(k, _)| k.value() + 1)
        };
        self.put_run(&RunRecord {
            id,
            file: file.to_string(),
            program_hash: program_hash.to_string(),
            market: market.to_string(),
            started: started.to_string(),
            status: "running".to_string(),
            steps: 0,
            last_step: None,
            equity: None,
            final_equity: None,
            opening: None,
        })?;
        Ok(id)
    }

    fn record_step(&mut self, run: u64, step: &StepView<'_>) -> Result<(), StoreError> {
        let mut record = self.run(run)?;
        record.steps += 1;
        record.last_step = Some(step.time.to_string());
        record.equity = Some(step.equity);
        let body = json(&record)?;
        let tx = self.db.begin_write().map_err(err)?;
        {
            let mut ex = tx.open_table(EXECUTIONS).map_err(err)?;
            for e in step.executions {
                ex.insert((run, e.id), json(e)?.as_str()).map_err(err)?;
            }
            let mut prompts = tx.open_table(PROMPTS).map_err(err)?;
            for (id, text) in step.prompts {
                if prompts.get(id.as_str()).map_err(err)?.is_none() {
                    prompts.insert(id.as_str(), text.as_str()).map_err(err)?;
                }
            }
            let mut log = tx.open_table(LOG).map_err(err)?;
            let first = next_seq(&log, run)?;
            for (seq, l) in (first..).zip(step.log) {
                log.insert((run, seq), json(l)?.as_str()).map_err(err)?;
            }
            if !step.bars.is_empty() {
                let mut t = tx.open_table(BARS).map_err(err)?;
                let seq = next_bar_seq(&t, run)?;
                t.insert((run, seq), bars::encode(step.time, step.bars).as_slice()).map_err(err)?;
            }
            if !step.reported.is_empty() {
                let mut reported = tx.open_table(REPORTED).map_err(err)?;
                let first = next_seq(&reported, run)?;
                for (seq, (phase, update)) in (first..).zip(step.reported) {
                    let r = Reported { step: step.time, phase: *phase, update: update.clone() };
                    reported.insert((run, seq), json(&r)?.as_str()).map_err(err)?;
                }
            }
            let mut orders = tx.open_table(ORDERS).map_err(err)?;
            let mut fills = tx.open_table(FILLS).map_err(err)?;
            for o in step.orders {
                orders.insert((run, o.id), json(o)?.as_str()).map_err(err)?;
                if let (Status::Filled, Some(price), Some(time)) = (o.status, o.price, o.fill_time) {
                    let f = Fill {
                        order: o.id,
                        time: time.to_string(),
                        symbol: o.symbol.clone(),
                        side: o.side,
                        qty: o.qty,
                        price,
                        commission: o.commission,
                        by: o.by.clone(),
                    };
                    fills.insert((run, o.id), json(&f)?.as_str()).map_err(err)?;
                }
            }
            if let Some(now) = step.positions {
                let before = self.positions.get(&run).cloned().unwrap_or_default();
                if *now != before[..] {
                    let mut t = tx.open_table(POSITIONS).map_err(err)?;
                    for p in &before {
                        t.remove((run, p.symbol.as_str())).map_err(err)?;
                    }
                    for p in now {
                        t.insert((run, p.symbol.as_str()), json(p)?.as_str()).map_err(err)?;
                    }
                    self.positions.insert(run, now.to_vec());
                }
            }
            if let Some(said) = step.control {
                control::record(&tx, run, step.time, said)?;
            }
            if !step.triggered.is_empty() {
                let mut t = tx.open_table(TRIGGERED).map_err(err)?;
                let at = step.time.to_string();
                for id in step.triggered {
                    t.insert(id.as_str(), at.as_str()).map_err(err)?;
                }
            }
            tx.open_table(RUNS).map_err(err)?.insert(run, body.as_str()).map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    fn record_intent(&mut self, run: u64, order: &Order) -> Result<(), StoreError> {
        let body = json(order)?;
        let tx = self.db.begin_write().map_err(err)?;
        tx.open_table(INTENTS).map_err(err)?.insert((run, order.id), body.as_str()).map_err(err)?;
        tx.commit().map_err(err)
    }

    fn intents(&self, run: u64) -> Result<Vec<Order>, StoreError> {
        self.read.intents(run)
    }

    fn record_stats(&mut self, run: u64, stats: &BTreeMap<String, Stats>) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(err)?;
        {
            let mut t = tx.open_table(STATS).map_err(err)?;
            for (graph, s) in stats {
                t.insert((run, graph.as_str()), json(s)?.as_str()).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    fn finish_run(&mut self, run: u64, status: &str, final_equity: f64) -> Result<(), StoreError> {
        let mut r = self.run(run)?;
        r.status = status.to_string();
        r.final_equity = Some(final_equity);
        self.put_run(&r)
    }

    fn record_opening(&mut self, run: u64, opening: &Opening) -> Result<(), StoreError> {
        let mut r = self.run(run)?;
        r.opening = Some(opening.clone());
        self.put_run(&r)
    }

    fn reopen_run(&mut self, run: u64) -> Result<RunRecord, StoreError> {
        let mut r = self.run(run)?;
        r.status = "running".to_string();
        r.final_equity = None;
        self.put_run(&r)?;
        let held = self.positions(run)?;
        self.positions.insert(run, held);
        Ok(r)
    }

    fn reported(&self, run: u64) -> Result<Vec<Reported>, StoreError> {
        self.read.reported(run)
    }

    fn record_bars(&mut self, run: u64, step: NaiveDateTime, bars: &[(usize, Bar)]) -> Result<(), StoreError> {
        let tx = self.lazy_write()?;
        {
            let mut t = tx.open_table(BARS).map_err(err)?;
            let seq = next_bar_seq(&t, run)?;
            t.insert((run, seq), bars::encode(step, bars).as_slice()).map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    fn bars(&self, run: u64) -> Result<Vec<StepBars>, StoreError> {
        self.read.bars(run)
    }

    fn record_answers(&mut self, run: u64, answers: &[(String, Answer)]) -> Result<(), StoreError> {
        let tx = self.lazy_write()?;
        {
            let mut t = tx.open_table(ANSWERS).map_err(err)?;
            for (id, answer) in answers {
                // The next asking of this request: after every one recorded before.
                let n = t.range((run, id.as_str(), 0)..=(run, id.as_str(), u64::MAX)).map_err(err)?.count() as u64;
                t.insert((run, id.as_str(), n), json(answer)?.as_str()).map_err(err)?;
            }
        }
        tx.commit().map_err(err)
    }

    fn next_answer(&mut self, run: u64, id: &str) -> Result<Option<Answer>, StoreError> {
        let n = self.asked.get(&(run, id.to_string())).copied().unwrap_or(0);
        let Some(text) = self.read.answer(run, id, n)? else { return Ok(None) };
        *self.asked.entry((run, id.to_string())).or_insert(0) += 1;
        serde_json::from_str(&text).map(Some).map_err(bad_record)
    }

    fn record_control(
        &mut self,
        run: u64,
        step: NaiveDateTime,
        said: &strat_engine::control::Said,
    ) -> Result<(), StoreError> {
        let tx = self.db.begin_write().map_err(err)?;
        control::record(&tx, run, step, said)?;
        tx.commit().map_err(err)
    }

    fn controlled(&self, run: u64) -> Result<Vec<(NaiveDateTime, strat_engine::control::Said)>, StoreError> {
        control::controlled(&self.db, run)
    }

    fn runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        self.read.runs()
    }

    fn executions(&self, run: u64) -> Result<Vec<serde_json::Value>, StoreError> {
        self.read.executions(run)
    }

    fn prompt(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.read.prompt(id)
    }

    fn orders(&self, run: u64) -> Result<Vec<Order>, StoreError> {
        self.read.orders(run)
    }

    fn fills(&self, run: u64) -> Result<Vec<Fill>, StoreError> {
        self.read.fills(run)
    }

    fn positions(&self, run: u64) -> Result<Vec<PositionRecord>, StoreError> {
        self.read.positions(run)
    }

    fn stats(&self, run: u64) -> Result<BTreeMap<String, Stats>, StoreError> {
        self.read.stats(run)
    }
}
