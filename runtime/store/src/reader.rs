//! Reading the store: a handle any number of threads can share while one run writes (redb
//! serves each read from the last committed state, so a reader never sees half a step).

use super::{
    ANSWERS, BARS, EXECUTIONS, FILLS, INTENTS, ORDERS, POSITIONS, PROMPTS, REPORTED, RUNS, STATS, TRIGGERED,
    bad_record, bars, err,
};
use redb::{Database, ReadableDatabase, ReadableTable, TableDefinition};
use std::collections::BTreeMap;
use std::ops::ControlFlow;
use std::sync::Arc;
use strat_engine::broker::Order;
use strat_engine::report::Stats;
use strat_engine::store::{Fill, PositionRecord, Reported, RunRecord, StepBars, StoreError};

/// What the store holds, read from the last commit. Cloning it is cheap (one shared database).
#[derive(Clone)]
pub struct Reader {
    pub(crate) db: Arc<Database>,
}

impl Reader {
    pub fn run(&self, id: u64) -> Result<RunRecord, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(RUNS).map_err(err)?;
        let v = t.get(id).map_err(err)?.ok_or(StoreError::NoRun(id))?;
        serde_json::from_str(v.value()).map_err(bad_record)
    }

    /// Every run, oldest first.
    pub fn runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(RUNS).map_err(err)?;
        t.iter()
            .map_err(err)?
            .map(|kv| kv.map_err(err).and_then(|(_, v)| serde_json::from_str(v.value()).map_err(bad_record)))
            .collect()
    }

    /// Hands each execution of `run` to `f`, in order, reading one at a time (a long run's
    /// executions need not fit in memory together); stops at `f`'s first error.
    pub fn each_execution(
        &self,
        run: u64,
        f: &mut dyn FnMut(serde_json::Value) -> Result<(), String>,
    ) -> Result<(), StoreError> {
        self.executions_from(run, 0, &mut |e| match f(e) {
            Ok(()) => Ok(ControlFlow::Continue(())),
            Err(e) => Err(e),
        })
    }

    /// Hands the executions of `run` from id `first` on to `f`, in order, one at a time, until
    /// `f` breaks (a page is full) or fails.
    pub fn executions_from(
        &self,
        run: u64,
        first: u64,
        f: &mut dyn FnMut(serde_json::Value) -> Result<ControlFlow<()>, String>,
    ) -> Result<(), StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(EXECUTIONS).map_err(err)?;
        for kv in t.range((run, first)..=(run, u64::MAX)).map_err(err)? {
            let (_, v) = kv.map_err(err)?;
            let flow = f(serde_json::from_str(v.value()).map_err(bad_record)?).map_err(StoreError::Record)?;
            if flow.is_break() {
                break;
            }
        }
        Ok(())
    }

    /// One execution of `run`, if the run has it.
    pub fn execution(&self, run: u64, id: u64) -> Result<Option<serde_json::Value>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(EXECUTIONS).map_err(err)?;
        t.get((run, id)).map_err(err)?.map(|v| serde_json::from_str(v.value()).map_err(bad_record)).transpose()
    }

    pub fn executions(&self, run: u64) -> Result<Vec<serde_json::Value>, StoreError> {
        self.range(EXECUTIONS, run)
    }

    pub fn prompt(&self, id: &str) -> Result<Option<String>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(PROMPTS).map_err(err)?;
        Ok(t.get(id).map_err(err)?.map(|v| v.value().to_string()))
    }

    pub fn orders(&self, run: u64) -> Result<Vec<Order>, StoreError> {
        self.range(ORDERS, run)
    }

    pub fn intents(&self, run: u64) -> Result<Vec<Order>, StoreError> {
        self.range(INTENTS, run)
    }

    pub fn fills(&self, run: u64) -> Result<Vec<Fill>, StoreError> {
        self.range(FILLS, run)
    }

    pub fn reported(&self, run: u64) -> Result<Vec<Reported>, StoreError> {
        self.range(REPORTED, run)
    }

    pub fn positions(&self, run: u64) -> Result<Vec<PositionRecord>, StoreError> {
        Ok(self.named(POSITIONS, run)?.into_iter().map(|(_, p)| p).collect())
    }

    pub fn stats(&self, run: u64) -> Result<BTreeMap<String, Stats>, StoreError> {
        Ok(self.named(STATS, run)?.into_iter().collect())
    }

    pub fn bars(&self, run: u64) -> Result<Vec<StepBars>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(BARS).map_err(err)?;
        t.range((run, 0)..=(run, u64::MAX))
            .map_err(err)?
            .map(|kv| kv.map_err(err).and_then(|(_, v)| bars::decode(v.value())))
            .collect()
    }

    /// When each trigger (by id) last started an execution, in any run.
    pub fn last_triggered(&self) -> Result<BTreeMap<String, String>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(TRIGGERED).map_err(err)?;
        t.iter()
            .map_err(err)?
            .map(|kv| kv.map_err(err).map(|(k, v)| (k.value().to_string(), v.value().to_string())))
            .collect()
    }

    /// The `n`th recorded answer (from 0) to request `id` of `run`.
    pub(crate) fn answer(&self, run: u64, id: &str, n: u64) -> Result<Option<String>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(ANSWERS).map_err(err)?;
        Ok(t.get((run, id, n)).map_err(err)?.map(|v| v.value().to_string()))
    }

    fn range<T: serde::de::DeserializeOwned>(
        &self,
        table: TableDefinition<(u64, u64), &str>,
        run: u64,
    ) -> Result<Vec<T>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(table).map_err(err)?;
        t.range((run, 0)..=(run, u64::MAX))
            .map_err(err)?
            .map(|kv| kv.map_err(err).and_then(|(_, v)| serde_json::from_str(v.value()).map_err(bad_record)))
            .collect()
    }

    fn named<T: serde::de::DeserializeOwned>(
        &self,
        table: TableDefinition<(u64, &str), &str>,
        run: u64,
    ) -> Result<Vec<(String, T)>, StoreError> {
        let tx = self.db.begin_read().map_err(err)?;
        let t = tx.open_table(table).map_err(err)?;
        t.range((run, "")..(run + 1, ""))
            .map_err(err)?
            .map(|kv| {
                kv.map_err(err).and_then(|(k, v)| {
                    Ok((k.value().1.to_string(), serde_json::from_str(v.value()).map_err(bad_record)?))
                })
            })
            .collect()
    }
}
