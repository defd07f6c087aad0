//! The engine: triggers → queue → executor → risk gate → broker, step by step, every effect
//! through the host. A step is an instant at which bars close:
//!
//! 1. the broker works its open orders against those bars (orders decided at a bar's close
//!    fill no earlier than the next bar) and reports fills, which the book records;
//! 2. the market state takes the bars: each indicator once per bar of its symbol, then the
//!    crossings;
//! 3. the trigger manager finds what fires (indexed by symbol and threshold), after guards
//!    and throttles; news published since the last step reaches news triggers; the host's
//!    control says what the operator decided (paused graphs, disabled triggers, a halt) and
//!    which firings from outside wait (webhooks); what the market data has to say (a stale
//!    feed, a reconnection) becomes the step's log lines;
//! 4. each graph that fired runs once per symbol, in the order of the file, to its end;
//! 5. the portfolio is marked at the closes, and the step is journaled and reported.

use crate::broker::{Costs, PaperBroker};
use crate::host::{Host, MarketData};
use crate::market::Bar;
use crate::news::Article;
use crate::report::Report;
use crate::sandbox::Limits;
use crate::sim::{Replay, SimClock, SimNews};
use crate::store::StepView;
use phases::Engine;
use std::collections::BTreeMap;
use strat_lang::ir::Program;

mod phases;

/// Watches a run as it goes (`strat run` streams from here) and may stop it.
pub trait Observer {
    fn step(&mut self, step: &StepView<'_>);
    /// Checked before each step; `true` ends the run there, with its state as it is.
    fn stop(&mut self) -> bool {
        false
    }
    /// Whether `step` should be called at all.
    fn watching(&self) -> bool {
        true
    }
    /// Whether `step` wants the orders that changed (gathering them costs time).
    fn wants_orders(&self) -> bool {
        true
    }
}

/// Watches nothing.
pub struct Quiet;

impl Observer for Quiet {
    fn step(&mut self, _: &StepView<'_>) {}
    fn watching(&self) -> bool {
        false
    }
}

/// What a run does with the program's triggers.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode<'a> {
    /// Everything fires as the file says.
    Triggers,
    /// Nothing fires while the data replays; at its last step, one agent, workflow or team runs
    /// once, as started by hand (the seed's "test agent"; `strat test`, `strat prompt`); with a
    /// payload, as its webhook would start it (`trigger.payload` decoded into the declared type).
    Once { graph: &'a str, symbol: Option<&'a str>, payload: Option<&'a serde_json::Value> },
}

/// Runs `program` on `host` until the market data ends or the observer stops it.
pub fn run(program: &Program, host: Host<'_>, limits: &Limits, observer: &mut dyn Observer) -> Result<Report, String> {
    run_in(program, host, limits, observer, Mode::Triggers)
}

/// [`run`], with the triggers as `mode` says.
pub fn run_in(
    program: &Program,
    host: Host<'_>,
    limits: &Limits,
    observer: &mut dyn Observer,
    mode: Mode<'_>,
) -> Result<Report, String> {
    run_from(program, host, limits, observer, mode, None)
}

/// [`run_in`], trading from `trade_from` on: the bars before it only warm the indicators and
/// crossings (nothing fires, nothing is marked), so values at `trade_from` are those of the
/// whole history.
pub fn run_from(
    program: &Program,
    host: Host<'_>,
    limits: &Limits,
    observer: &mut dyn Observer,
    mode: Mode<'_>,
    trade_from: Option<chrono::NaiveDateTime>,
) -> Result<Report, String> {
    let mut engine = Engine::new(program, host, limits, observer.watching(), mode)?;
    if let Some(from) = trade_from {
        engine.warm_up(from);
    }
    loop {
        engine.run_quiet_stretch();
        // Only a watching observer is asked whether to stop.
        if engine.watching() && observer.stop() {
            engine.note_stop();
            break;
        }
        let Some(t) = engine.next_step() else { break };
        let first = engine.step_start();
        // The operator's emergencies act before the broker works this step's bars.
        engine.poll_control(t);
        let mut moved = engine.work_orders();
        engine.update_market(t);
        engine.find_firings(t);
        engine.keep_allowed();
        engine.journal_bars(t)?;
        engine.take_feed_notes(t);
        moved |= engine.execute_firings(t);
        let equity = engine.mark(t, moved);
        engine.record(t, equity, first, observer)?;
    }
    engine.finish()
}

/// What a run of `program` over `data` says before its first step: the plan's warnings (a
/// limit the data cannot evaluate, …), or why it cannot run on that data at all (a window
/// shorter than the data's bars, an indicator over a column the data lacks, …). Nothing runs.
pub fn preflight(program: &Program, data: &BTreeMap<String, Vec<Bar>>) -> Result<Vec<String>, String> {
    let replay = Replay::new(data, "historical bars");
    let mut market = crate::expr::Market::new(replay.symbols().to_vec(), replay.intervals().to_vec());
    market.without_volume = replay.without_volume();
    crate::plan::Plan::new(program, &mut market).map(|p| p.warnings).map_err(|e| e.to_string())
}

/// A backtest's settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub cash: f64,
    pub costs: Costs,
    pub sandbox: Limits,
    /// News replayed during the run (the simulated market's, or none).
    pub news: Vec<Article>,
    /// Trading starts here (`--from`); the bars before it warm the indicators.
    pub trade_from: Option<chrono::NaiveDateTime>,
}

impl Default for Config {
    fn default() -> Config {
        Config {
            cash: 100_000.0,
            costs: Costs::default(),
            sandbox: Limits::default(),
            news: Vec::new(),
            trade_from: None,
        }
    }
}

/// Runs `program` over bars in memory with the simulated host: a clock that follows the data,
/// the paper broker, and the offline stand-in answering models.
pub fn backtest(program: &Program, data: &BTreeMap<String, Vec<Bar>>, config: &Config) -> Result<Report, String> {
    backtest_with(program, data, config, &mut crate::offline::Offline, &mut Quiet)
}

/// [`backtest`] with a given model host and observer.
pub fn backtest_with(
    program: &Program,
    data: &BTreeMap<String, Vec<Bar>>,
    config: &Config,
    llm: &mut dyn crate::llm::Llm,
    observer: &mut dyn Observer,
) -> Result<Report, String> {
    backtest_in(program, data, config, llm, observer, Mode::Triggers)
}

/// [`backtest_with`], with the triggers as `mode` says.
pub fn backtest_in(
    program: &Program,
    data: &BTreeMap<String, Vec<Bar>>,
    config: &Config,
    llm: &mut dyn crate::llm::Llm,
    observer: &mut dyn Observer,
    mode: Mode<'_>,
) -> Result<Report, String> {
    let mut replay = Replay::new(data, "historical bars");
    let mut broker = PaperBroker::new(config.cash, replay.symbols().len(), config.costs);
    let mut clock = SimClock::default();
    let news = SimNews::new(config.news.clone());
    let host = Host {
        clock: &mut clock,
        market: &mut replay,
        news: &news,
        llm,
        broker: &mut broker,
        store: None,
        control: None,
    };
    let mut report = run_from(program, host, &config.sandbox, observer, mode, config.trade_from)?;
    if config.news.is_empty() && mode == Mode::Triggers {
        for g in &program.graphs {
            if g.triggers.iter().any(|t| matches!(t.kind, strat_lang::ir::TriggerKind::News { .. })) {
                report.warnings.push(format!(
                    "the news triggers of `{}` cannot fire: this run has no news (`strat run` replays the simulated market's)",
                    g.name
                ));
            }
        }
    }
    Ok(report)
}
