//! The store: what a run leaves behind — the run, every execution (the seed's
//! `agent_executions`), every order as it changes, fills, positions, the log and per-graph
//! statistics — behind a small trait. The embedded implementation is redb: ACID, and durable
//! when a transaction commits, so a stopped or crashed run keeps every step up to the last one
//! committed. Each step is one transaction.

use crate::broker::{Order, Status};
use crate::engine::StepView;
use crate::report::Stats;
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
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
    pub steps: u64,
    pub last_step: Option<String>,
    pub equity: Option<f64>,
    pub final_equity: Option<f64>,
}

/// A fill, as recorded.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Fill {
    pub order: u64,
    pub time: String,
    pub symbol: String,
    pub side: crate::broker::Side,
    pub qty: u64,
    pub price: f64,
    pub commission: f64,
    pub by: String,
}

/// A position, as recorded after the last step that changed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PositionRecord {
    pub symbol: String,
    pub qty: u64,
    pub avg_cost: f64,
}

/// Where runs are kept.
pub trait Store {
    fn begin_run(&mut self, file: &str, program_hash: &str, market: &str, started: &str) -> Result<u64, String>;
    /// Records one step — its executions, log lines, order changes, fills and positions, and
    /// the step count — in one commit.
    fn record_step(&mut self, run: u64, step: &StepView<'_>) -> Result<(), String>;
    fn record_stats(&mut self, run: u64, stats: &BTreeMap<String, Stats>) -> Result<(), String>;
    fn finish_run(&mut self, run: u64, status: &str, final_equity: f64) -> Result<(), String>;
    fn runs(&self) -> Result<Vec<RunRecord>, String>;
    /// Each execution of the run, as JSON (the record's fields).
    fn executions(&self, run: u64) -> Result<Vec<serde_json::Value>, String>;
    /// Each order of the run in its latest state, by id.
    fn orders(&self, run: u64) -> Result<Vec<Order>, String>;
    fn fills(&self, run: u64) -> Result<Vec<Fill>, String>;
    fn positions(&self, run: u64) -> Result<Vec<PositionRecord>, String>;
    fn stats(&self, run: u64) -> Result<BTreeMap<String, Stats>, String>;
}

/// Bumped when the layout of the tables changes; a store of another version is refused.
pub const SCHEMA_VERSION: u64 = 2;

const META: TableDefinition<&str, u64> = TableDefinition::new("meta");
const RUNS: TableDefinition<u64, &str> = TableDefinition::new("runs");
const EXECUTIONS: TableDefinition<(u64, u64), &str> = TableDefinition::new("executions");
const LOG: TableDefinition<(u64, u64), &str> = TableDefinition::new("log");
const ORDERS: TableDefinition<(u64, u64), &str> = TableDefinition::new("orders");
const FILLS: TableDefinition<(u64, u64), &str> = TableDefinition::new("fills");
const POSITIONS: TableDefinition<(u64, &str), &str> = TableDefinition::new("positions");
const STATS: TableDefinition<(u64, &str), &str> = TableDefinition::new("stats");

/// The embedded store: one redb file.
pub struct RedbStore {
    db: Database,
    /// The account as last recorded per run, to write positions only when they change.
    positions: BTreeMap<u64, Vec<PositionRecord>>,
}

fn err(e: impl std::fmt::Display) -> String {
    e.to_string()
}

fn json(v: &impl Serialize) -> Result<String, String> {
    serde_json::to_string(v).map_err(err)
}

impl RedbStore {
    pub fn open(path: &Path) -> Result<RedbStore, String> {
        let db = Database::create(path).map_err(|e| format!("cannot open the store `{}`: {e}", path.display()))?;
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
                    return Err(format!(
                        "the store `{}` has layout version {v}, this strat reads version {SCHEMA_VERSION}: move it aside to start a new one",
                        path.display()
                    ));
                }
            }
            tx.open_table(RUNS).map_err(err)?;
            tx.open_table(EXECUTIONS).map_err(err)?;
            tx.open_table(LOG).map_err(err)?;
            tx.open_table(ORDERS).map_err(err)?;
            tx.open_table(FILLS).map_err(err)?;
            tx.open_table(POSITIONS).map_err(err)?;
            tx.open_table(STATS).map_err(err)?;
        }
        tx.commit().map_err(err)?;
        Ok(RedbStore { db, positions: BTreeMap::new() })
    }

    fn run(&self, id: u64) -> Result<RunRecord, String> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(RUNS).map_err(err)?;
        let v = t.get(id).map_err(err)?.ok_or_else(|| format!("no run {id}"))?;
        serde_json::from_str(v.value()).map_err(err)
    }

    fn put_run(&self, r: &RunRecord) -> Result<(), String> {
        let body = json(r)?;
        let tx = self.db.begin_write().map_err(err)?;
        tx.open_table(RUNS).map_err(err)?.insert(r.id, body.as_str()).map_err(err)?;
        tx.commit().map_err(err)
    }

    fn range<T: serde::de::DeserializeOwned>(
        &self,
        table: TableDefinition<(u64, u64), &str>,
        run: u64,
    ) -> Result<Vec<T>, String> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(table).map_err(err)?;
        t.range((run, 0)..=(run, u64::MAX))
            .map_err(err)?
            .map(|kv| kv.map_err(err).and_then(|(_, v)| serde_json::from_str(v.value()).map_err(err)))
            .collect()
    }

    fn named<T: serde::de::DeserializeOwned>(
        &self,
        table: TableDefinition<(u64, &str), &str>,
        run: u64,
    ) -> Result<Vec<(String, T)>, String> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(table).map_err(err)?;
        t.range((run, "")..(run + 1, ""))
            .map_err(err)?
            .map(|kv| {
                kv.map_err(err)
                    .and_then(|(k, v)| Ok((k.value().1.to_string(), serde_json::from_str(v.value()).map_err(err)?)))
            })
            .collect()
    }
}

/// The next free sequence number of a run's rows in a table.
fn next_seq(t: &redb::Table<(u64, u64), &str>, run: u64) -> Result<u64, String> {
    Ok(t.range((run, 0)..=(run, u64::MAX))
        .map_err(err)?
        .next_back()
        .transpose()
        .map_err(err)?
        .map_or(0, |(k, _)| k.value().1 + 1))
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
            steps: 0,
            last_step: None,
            equity: None,
            final_equity: None,
        })?;
        Ok(id)
    }

    fn record_step(&mut self, run: u64, step: &StepView<'_>) -> Result<(), String> {
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
            let mut log = tx.open_table(LOG).map_err(err)?;
            let first = next_seq(&log, run)?;
            for (seq, l) in (first..).zip(step.log) {
                log.insert((run, seq), json(l)?.as_str()).map_err(err)?;
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
            tx.open_table(RUNS).map_err(err)?.insert(run, body.as_str()).map_err(err)?;
        }
        tx.commit().map_err(err)
    }

    fn record_stats(&mut self, run: u64, stats: &BTreeMap<String, Stats>) -> Result<(), String> {
        let tx = self.db.begin_write().map_err(err)?;
        {
            let mut t = tx.open_table(STATS).map_err(err)?;
            for (graph, s) in stats {
                t.insert((run, graph.as_str()), json(s)?.as_str()).map_err(err)?;
            }
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

    fn executions(&self, run: u64) -> Result<Vec<serde_json::Value>, String> {
        self.range(EXECUTIONS, run)
    }

    fn orders(&self, run: u64) -> Result<Vec<Order>, String> {
        self.range(ORDERS, run)
    }

    fn fills(&self, run: u64) -> Result<Vec<Fill>, String> {
        self.range(FILLS, run)
    }

    fn positions(&self, run: u64) -> Result<Vec<PositionRecord>, String> {
        Ok(self.named(POSITIONS, run)?.into_iter().map(|(_, p)| p).collect())
    }

    fn stats(&self, run: u64) -> Result<BTreeMap<String, Stats>, String> {
        Ok(self.named(STATS, run)?.into_iter().collect())
    }
}
