//! The store: what a run leaves behind — the run itself, every execution (a graph's log line:
//! its decision, a refusal, a failure) and every order as it changes — behind a small trait.
//! The embedded implementation is redb: ACID, and durable when a transaction commits, so a
//! stopped or crashed run keeps everything up to its last committed bar.

use crate::broker::Order;
use crate::engine::LogLine;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::path::Path;

/// One run: what ran, on what, and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: u64,
    pub file: String,
    /// The IR's content hash: which exact program ran.
    pub program_hash: String,
    pub market: String,
    pub started: String,
    /// `running`, `finished` or `stopped`.
    pub status: String,
    pub bars: u64,
    pub final_equity: Option<f64>,
}

/// A graph's record of one thing it did.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Execution {
    pub time: String,
    pub graph: String,
    pub message: String,
}

/// Where runs are kept.
pub trait Store {
    fn begin_run(&mut self, file: &str, program_hash: &str, market: &str, started: &str) -> Result<u64, String>;
    /// Records one bar's executions and order changes, and the bar count, in one commit.
    fn record_bar(&mut self, run: u64, executions: &[LogLine], orders: &[Order]) -> Result<(), String>;
    fn finish_run(&mut self, run: u64, status: &str, final_equity: f64) -> Result<(), String>;
    fn runs(&self) -> Result<Vec<RunRecord>, String>;
    fn executions(&self, run: u64) -> Result<Vec<Execution>, String>;
    /// Each order of the run in its latest state, by id.
    fn orders(&self, run: u64) -> Result<Vec<Order>, String>;
}

const RUNS: TableDefinition<u64, &str> = TableDefinition::new("runs");
const EXECUTIONS: TableDefinition<(u64, u64), &str> = TableDefinition::new("executions");
const ORDERS: TableDefinition<(u64, u64), &str> = TableDefinition::new("orders");

/// The embedded store: one redb file.
pub struct RedbStore {
    db: Database,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

impl RedbStore {
    pub fn open(path: &Path) -> Result<RedbStore, String> {
        let db = Database::create(path).map_err(|e| format!("cannot open the store `{}`: {e}", path.display()))?;
        // Create the tables up front so readers never meet a missing table.
        let tx = db.begin_write().map_err(err)?;
        {
            tx.open_table(RUNS).map_err(err)?;
            tx.open_table(EXECUTIONS).map_err(err)?;
            tx.open_table(ORDERS).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(RedbStore { db })
    }

    fn run(&self, id: u64) -> Result<RunRecord, String> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(RUNS).map_err(err)?;
        let v = t.get(id).map_err(err)?.ok_or_else(|| format!("no run {id}"))?;
        serde_json::from_str(v.value()).map_err(err)
    }

    fn put_run(&self, r: &RunRecord) -> Result<(), String> {
        let json = serde_json::to_string(r).map_err(err)?;
        let tx = self.db.begin_write().map_err(err)?;
        tx.open_table(RUNS).map_err(err)?.insert(r.id, json.as_str()).map_err(err)?;
        tx.commit().map_err(err)
    }
}

impl Store for RedbStore {
    fn begin_run(&mut self, file: &str, program_hash: &str, market: &str, started: &str) -> Result<u64, String> {
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
            bars: 0,
            final_equity: None,
        })?;
        Ok(id)
    }

    fn record_bar(&mut self, run: u64, executions: &[LogLine], orders: &[Order]) -> Result<(), String> {
        let mut record = self.run(run)?;
        record.bars += 1;
        let json = serde_json::to_string(&record).map_err(err)?;
        let tx = self.db.begin_write().map_err(err)?;
        {
            let mut ex = tx.open_table(EXECUTIONS).map_err(err)?;
            let first = ex
                .range((run, 0)..=(run, u64::MAX))
                .map_err(err)?
                .next_back()
                .transpose()
                .map_err(err)?
                .map_or(0, |(k, _)| k.value().1 + 1);
            for (seq, l) in (first..).zip(executions) {
                let e = Execution { time: l.time.to_string(), graph: l.graph.clone(), message: l.message.clone() };
                ex.insert((run, seq), serde_json::to_string(&e).map_err(err)?.as_str()).map_err(err)?;
            }
            let mut ot = tx.open_table(ORDERS).map_err(err)?;
            for o in orders {
                ot.insert((run, o.id), serde_json::to_string(o).map_err(err)?.as_str()).map_err(err)?;
            }
            tx.open_table(RUNS).map_err(err)?.insert(run, json.as_str()).map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    fn finish_run(&mut self, run: u64, status: &str, final_equity: f64) -> Result<(), String> {
        let mut r = self.run(run)?;
        r.status = status.to_string();
        r.final_equity = Some(final_equity);
        self.put_run(&r)
    }

    fn runs(&self) -> Result<Vec<RunRecord>, String> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(RUNS).map_err(err)?;
        t.iter()
            .map_err(err)?
            .map(|kv| kv.map_err(err).and_then(|(_, v)| serde_json::from_str(v.value()).map_err(err)))
            .collect()
    }

    fn executions(&self, run: u64) -> Result<Vec<Execution>, String> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(EXECUTIONS).map_err(err)?;
        t.range((run, 0)..=(run, u64::MAX))
            .map_err(err)?
            .map(|kv| kv.map_err(err).and_then(|(_, v)| serde_json::from_str(v.value()).map_err(err)))
            .collect()
    }

    fn orders(&self, run: u64) -> Result<Vec<Order>, String> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(ORDERS).map_err(err)?;
        t.range((run, 0)..=(run, u64::MAX))
            .map_err(err)?
            .map(|kv| kv.map_err(err).and_then(|(_, v)| serde_json::from_str(v.value()).map_err(err)))
            .collect()
    }
}
