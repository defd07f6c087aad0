//! The store's side of the host: what a run leaves behind — the run, every execution (the
//! seed's `agent_executions`), every order as it changes, fills, positions, the log and
//! per-graph statistics — behind a small trait, with the records it keeps and the view of one
//! step it is handed. The implementations live in adapter crates (`strat-store`: redb).

use crate::broker::{Order, Update};
use crate::llm::{LlmError, LlmReply};
use crate::market::Bar;

/// What a model call came to, as the journal keeps it.
pub type Answer = Result<LlmReply, LlmError>;
use crate::report::{Execution, LogLine, Stats};
use chrono::NaiveDateTime;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;

/// One run: what ran, on what, and how it ended.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunRecord {
    pub id: u64,
    pub file: String,
    /// The IR's content hash: which exact program ran.
    pub program_hash: String,
    pub market: String,
    pub started: String,
    /// `running`, `finished`, `stopped`, or `crashed` (found still running when the store was
    /// opened again: the process that ran it was killed).
    pub status: String,
    pub steps: u64,
    pub last_step: Option<String>,
    pub equity: Option<f64>,
    pub final_equity: Option<f64>,
    /// What a resumed run needs that the journal's steps do not hold (absent for runs that
    /// cannot be resumed).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub opening: Option<Opening>,
}

/// How a run began, for resuming it after a crash: its arguments (so the same data, broker
/// and settings are rebuilt), the key of its client order ids, and the broker's account when
/// it started (a real broker's account has moved on since).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Opening {
    /// The arguments of `strat run` after the command's name.
    pub args: Vec<String>,
    /// The part of every client order id that is the run's.
    pub key: String,
    /// The account's cash, exactly (a decimal written out).
    pub cash: String,
    pub positions: Vec<OpeningLot>,
    /// For a run on a live feed: the days of history its indicators were warmed on.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub warm_up: Option<[chrono::NaiveDate; 2]>,
}

/// A position held when the run began.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct OpeningLot {
    pub symbol: String,
    pub qty: u64,
    /// Average cost per share, exactly (a decimal written out).
    pub avg_cost: String,
}

/// Where in a step a broker's updates reached the engine: while it worked the open orders on
/// the bars that closed, or after the step's executions. A resumed run hands each back at
/// the same place, so the replayed decisions see what the first ones saw.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    Bars,
    Executions,
}

/// The bars of one live step, by the index of their symbol in the run's market.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepBars {
    pub step: NaiveDateTime,
    pub bars: Vec<(usize, Bar)>,
}

/// One update a broker reported, as the journal keeps it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Reported {
    /// The step it reached the engine at.
    pub step: NaiveDateTime,
    pub phase: Phase,
    pub update: Update,
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
    fn begin_run(&mut self, file: &str, program_hash: &str, market: &str, started: &str) -> Result<u64, StoreError>;
    /// Records one step — its executions, log lines, order changes, fills and positions, and
    /// the step count — in one commit.
    fn record_step(&mut self, run: u64, step: &StepView<'_>) -> Result<(), StoreError>;
    fn record_stats(&mut self, run: u64, stats: &BTreeMap<String, Stats>) -> Result<(), StoreError>;
    /// Commits the intent to send `order` (durably) before it goes to the broker.
    fn record_intent(&mut self, run: u64, order: &Order) -> Result<(), StoreError>;
    /// The intents of a run, in the order they were made.
    fn intents(&self, run: u64) -> Result<Vec<Order>, StoreError>;
    fn finish_run(&mut self, run: u64, status: &str, final_equity: f64) -> Result<(), StoreError>;
    /// Records how the run began, for resuming it.
    fn record_opening(&mut self, run: u64, opening: &Opening) -> Result<(), StoreError>;
    /// Marks a crashed or stopped run running again, to go on journaling into it.
    fn reopen_run(&mut self, run: u64) -> Result<RunRecord, StoreError>;
    /// Every update the broker reported during the run, in the order the engine took them.
    fn reported(&self, run: u64) -> Result<Vec<Reported>, StoreError>;
    /// Commits the bars of a live step as it begins, before anything is decided on them.
    fn record_bars(&mut self, run: u64, step: NaiveDateTime, bars: &[(usize, Bar)]) -> Result<(), StoreError>;
    /// The bars of every live step recorded, in time order.
    fn bars(&self, run: u64) -> Result<Vec<StepBars>, StoreError>;
    /// Commits the models' answers (`(request id, answer)`, the id a content id of the whole
    /// request) as they arrive, before anything they lead to, each as the next asking of its
    /// request in the run.
    fn record_answers(&mut self, run: u64, answers: &[(String, Answer)]) -> Result<(), StoreError>;
    /// The answer recorded for the next asking of the request `id` in this run, if the run
    /// got that far before: a resumed run's replay takes its answers from here, so no model
    /// is asked twice and the decisions are the ones first taken. Each call moves past it.
    fn next_answer(&mut self, run: u64, id: &str) -> Result<Option<Answer>, StoreError>;
    /// Commits what the control said at `step` before the step's record: an emergency's, so
    /// that once it is carried out (even in part) it is never carried out again, whatever
    /// happens to the step (its firings are marked done).
    fn record_control(&mut self, run: u64, step: NaiveDateTime, said: &crate::control::Said) -> Result<(), StoreError>;
    /// What the control said at each step of `run` where the journal recorded it, in order.
    fn controlled(&self, run: u64) -> Result<Vec<(NaiveDateTime, crate::control::Said)>, StoreError>;
    fn runs(&self) -> Result<Vec<RunRecord>, StoreError>;
    /// Each execution of the run, as JSON (the record's fields).
    fn executions(&self, run: u64) -> Result<Vec<serde_json::Value>, StoreError>;
    /// The prompt text an execution's `prompt` record refers to by content id.
    fn prompt(&self, id: &str) -> Result<Option<String>, StoreError>;
    /// Each order of the run in its latest state, by id.
    fn orders(&self, run: u64) -> Result<Vec<Order>, StoreError>;
    fn fills(&self, run: u64) -> Result<Vec<Fill>, StoreError>;
    fn positions(&self, run: u64) -> Result<Vec<PositionRecord>, StoreError>;
    fn stats(&self, run: u64) -> Result<BTreeMap<String, Stats>, StoreError>;
}

/// What one step did, for observers and the store.
pub struct StepView<'a> {
    pub time: NaiveDateTime,
    /// 1 for the first step.
    pub index: usize,
    /// Steps in the whole run, when known.
    pub total: Option<usize>,
    pub equity: f64,
    pub log: &'a [LogLine],
    /// Orders placed, refused, filled or cancelled at this step (empty unless asked for).
    pub orders: &'a [Order],
    pub executions: &'a [Execution],
    /// The prompt texts first sent at this step, `(content id, text)`: the executions refer
    /// to them.
    pub prompts: &'a [(String, String)],
    /// The account's positions, when orders filled at this step and the run is journaled.
    pub positions: Option<&'a [PositionRecord]>,
    /// What the broker reported at this step, where (when the run is journaled).
    pub reported: &'a [(Phase, Update)],
    /// A live step's bars, when the journal does not hold them yet (empty otherwise).
    pub bars: &'a [(usize, Bar)],
    /// What the host's control said at this step, when it changed or firings came (the
    /// firings it lists are run at this step: the journal marks them done in its commit).
    pub control: Option<&'a crate::control::Said>,
    /// The triggers that started an execution at this step, by id (`Graph.N`; journaled runs).
    pub triggered: &'a [String],
}

/// Why the store could not do what it was asked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreError {
    /// The store's file could not be opened or created.
    Open { path: String, reason: String },
    /// The store was written with another layout of its tables.
    Layout { path: String, found: u64, expected: u64 },
    /// There is no run with this id.
    NoRun(u64),
    /// A record could not be written as, or read back from, its stored form.
    Record(String),
    /// The database refused a read, a write or a commit.
    Database(String),
}

impl fmt::Display for StoreError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            StoreError::Open { path, reason } => write!(f, "cannot open the store `{path}`: {reason}"),
            StoreError::Layout { path, found, expected } => write!(
                f,
                "the store `{path}` has layout version {found}, this strat reads version {expected}: move it aside to start a new one"
            ),
            StoreError::NoRun(id) => write!(f, "no run {id}"),
            StoreError::Record(reason) | StoreError::Database(reason) => f.write_str(reason),
        }
    }
}

impl std::error::Error for StoreError {}
