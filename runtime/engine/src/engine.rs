//! The engine: triggers → queue → executor → risk gate → broker, step by step, every effect
//! through the host. A step is an instant at which bars close:
//!
//! 1. the broker works its open orders against those bars (orders decided at a bar's close
//!    fill no earlier than the next bar) and reports fills, which the book records;
//! 2. the market state takes the bars: each indicator once per bar of its symbol, then the
//!    crossings;
//! 3. the trigger manager finds what fires (indexed by symbol and threshold), after guards
//!    and throttles; news published since the last step reaches news triggers;
//! 4. each graph that fired runs once per symbol, in the order of the file, to its end;
//! 5. the portfolio is marked at the closes, and the step is journaled and reported.

use crate::broker::{Book, Costs, PaperBroker, to_f64};
use crate::exec::{Ctx, ExecWorld, GateState, Job, Usage};
use crate::expr::Market;
use crate::host::{Host, MarketData};
use crate::market::Bar;
use crate::news::Article;
use crate::plan::Plan;
use crate::report::{Report, Stats, TriggerRecord};
use crate::sandbox::Limits;
use crate::sim::{Replay, SimClock, SimNews};
use crate::store::{PositionRecord, StepView};
use chrono::NaiveDateTime;
use std::collections::BTreeMap;
use strat_lang::ir::Program;

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
    /// once, as started by hand (the seed's "test agent"; `strat test`, `strat prompt`).
    Once { graph: &'a str, symbol: Option<&'a str> },
}

/// Runs `program` on `host` until the market data ends or the observer stops it.
pub fn run(program: &Program, host: Host<'_>, limits: &Limits, observer: &mut dyn Observer) -> Result<Report, String> {
    run_in(program, host, limits, observer, Mode::Triggers)
}

/// [`run`], with the triggers as `mode` says.
pub fn run_in(
    program: &Program,
    mut host: Host<'_>,
    limits: &Limits,
    observer: &mut dyn Observer,
    mode: Mode<'_>,
) -> Result<Report, String> {
    let symbols = host.market.symbols().to_vec();
    let intervals = host.market.intervals().to_vec();
    let total = host.market.steps();
    let mut market = Market::new(symbols.clone(), intervals.clone());
    let mut plan = Plan::new(program, &mut market).map_err(|e| e.to_string())?;
    let mut warnings = std::mem::take(&mut plan.warnings);
    if plan.uses_model {
        warnings.push(format!("models are answered by the {}", host.llm.label()));
    }
    warnings.sort();
    warnings.dedup();
    let close = |market: &Market, s: usize| market.bars.get(s).copied().flatten().map_or(0.0, |b| b.close);
    let initial = host.broker.account().equity_f64(|_| 0.0);
    let mut report = Report {
        initial_cash: initial,
        final_equity: initial,
        r#return: 0.0,
        max_drawdown: 0.0,
        sharpe: None,
        win_rate: None,
        orders: Vec::new(),
        equity_curve: crate::report::EquityCurve::with_capacity(total.unwrap_or(0)),
        log: Vec::new(),
        executions: Vec::new(),
        stats: plan.graphs.iter().map(|g| (g.name.clone(), Stats::default())).collect(),
        warnings,
        indicators: market.series.len(),
        triggers: plan.triggers.len(),
        indexed_triggers: plan.triggers.indexed(),
        llm: host.llm.label(),
        market: host.market.label(),
        broker: host.broker.label(),
    };
    let mut gate = GateState {
        peak_equity: initial,
        vix: market.symbol("VIX"),
        intraday: !market.daily,
        volatility: std::mem::take(&mut plan.volatility),
        avg_volume: std::mem::take(&mut plan.avg_volume),
        day_start_equity: initial,
    };
    let mut book = Book::default();
    let mut usage = Usage::default();
    let mut next_id = 0u64;
    let mut closed: Vec<(usize, Bar)> = Vec::new();
    let mut fired = Vec::new();
    let mut updates = Vec::new();
    let mut articles: Vec<Article> = Vec::new();
    let mut prev: Option<NaiveDateTime> = None;
    let mut news_seen: Option<NaiveDateTime> = None;
    let mut last_equity = initial;
    let mut index = 0usize;
    let watching = observer.watching();
    let journal = host.store.is_some();
    let daily = market.daily;
    let news_triggers = plan.triggers.has_news();
    let clock_jumps = host.clock.jumps();
    // The account as last read from the broker (cash, shares held by symbol), for the mark at
    // each step; read again whenever orders moved.
    let mut cash = host.broker.account().cash_f64();
    let mut held: Vec<(usize, f64)> = Vec::new();
    let read_account = |account: &crate::broker::Account, cash: &mut f64, held: &mut Vec<(usize, f64)>| {
        *cash = account.cash_f64();
        held.clear();
        held.extend(account.held().iter().filter_map(|&s| account.position(s).map(|p| (s, p.qty as f64))));
    };
    let every_bar = host.broker.needs_every_bar();
    let once = match mode {
        Mode::Triggers => None,
        Mode::Once { graph, symbol } => {
            let g = plan.graphs.iter().position(|g| g.name == graph).ok_or_else(|| {
                let names: Vec<&str> = plan.graphs.iter().map(|g| g.name.as_str()).collect();
                format!("no agent, workflow or team named `{graph}` (the file declares {})", names.join(", "))
            })?;
            let s = match symbol {
                Some(s) => Some(market.symbol(s).ok_or_else(|| format!("no data for `{s}`: add `--data {s}=PATH`"))?),
                None => None,
            };
            Some((g, s))
        }
    };
    let fires = once.is_none();
    // Quiet stretches: with nobody watching, no journal, no news and crossings that read
    // only indicators, a step where nothing fires and no order is open only moves the
    // indicators and marks the portfolio; such steps are run straight from the slice of a
    // one-symbol replay (same results, no call and no bookkeeping per bar).
    let stretches =
        !watching && !journal && !every_bar && clock_jumps && !news_triggers && !market.crossings_need_world();
    loop {
        if stretches
            && !book.has_pending()
            && let Some((ahead, cursor)) = host.market.ahead()
            && let Some(until) = if fires { plan.triggers.quiet_before(0) } else { Some(NaiveDateTime::MAX) }
        {
            // The bars before `until` (read in sequence: a binary search over a long series
            // waits on memory at every probe).
            let run =
                ahead.get(..ahead.iter().position(|b| b.time >= until).unwrap_or(ahead.len())).unwrap_or_default();
            if let Some(last) = run.last() {
                // A one-symbol market holds nothing or that symbol.
                let qty = held.first().map(|&(_, q)| q);
                let mark = |b: &Bar| qty.map_or(cash, |q| cash + q * b.close);
                // The daily P&L counts from the last mark before the latest session began.
                let day = last.time.date();
                match run.iter().rposition(|b| b.time.date() != day).and_then(|i| run.get(i)) {
                    Some(before) => gate.day_start_equity = mark(before),
                    None if prev.is_some_and(|p| p.date() != day) => gate.day_start_equity = last_equity,
                    None => {}
                }
                let from = report.equity_curve.len();
                report.equity_curve.extend(run, mark);
                let marks = report.equity_curve.values().get(from..).unwrap_or_default();
                gate.peak_equity = marks.iter().fold(gate.peak_equity, |p, &e| p.max(e));
                last_equity = mark(last);
                prev = Some(last.time);
                market.step_run(0, run);
                *cursor += run.len();
                index += run.len();
            }
        }
        // Only a watching observer is asked whether to stop.
        if watching && observer.stop() {
            if let Some(t) = prev {
                report.warnings.push(format!("stopped after {t}"));
            }
            break;
        }
        let Some(t) = host.market.next(&mut closed) else { break };
        index += 1;
        if !clock_jumps {
            host.clock.advance_to(t);
        }
        // A new session: the daily P&L counts from the last mark of the one before.
        if prev.is_some_and(|p| p.date() != t.date()) {
            gate.day_start_equity = last_equity;
        }
        // 1. The broker works its orders against the bars that closed.
        let mut reported = false;
        let mut moved = false;
        if every_bar || book.has_pending() {
            for (sym, bar) in &closed {
                reported |= host.broker.on_bar(*sym, bar);
            }
        }
        if reported {
            host.broker.updates(&mut updates);
        }
        if !updates.is_empty() {
            moved = true;
            for o in book.apply(&updates) {
                host.broker.submit(&o);
            }
            updates.clear();
        }
        // 2. The market state; 3. what fires.
        market.step(t, &closed);
        if market.crossings_need_world() {
            let world = ExecWorld::of_step(host.broker.account(), &market, host.news, gate.day_start_equity);
            market.update_crossings(&closed, &world);
        } else {
            market.update_crossings(&closed, &crate::expr::NoWorld);
        }
        if news_triggers {
            articles.clear();
            let news_until = crate::exec::news_now(&market);
            host.news.between(None, news_seen, news_until, &mut articles);
            news_seen = Some(news_until);
        }
        fired.clear();
        if fires && !plan.triggers.idle(&closed) {
            let env = market.env();
            let world = ExecWorld::of_step(host.broker.account(), &market, host.news, gate.day_start_equity);
            // Only conditions read the world; thresholds, bars and schedules do not.
            let world: &dyn crate::expr::World =
                if plan.triggers.reads_world(&closed) { &world } else { &crate::expr::NoWorld };
            plan.triggers.step(t, prev, &closed, &articles, &env, world, &intervals, daily, &mut fired);
        }
        // 4. Each graph that fired runs once per symbol, in the file's order, for the first of
        //    its triggers that fired (in the file's order too).
        let first_execution = report.executions.len();
        let first_log = report.log.len();
        if !fired.is_empty() {
            moved = true;
            fired.sort_by_key(|f| (f.graph, f.symbol, f.trigger));
            fired.dedup_by_key(|f| (f.graph, f.symbol));
            let jobs: Vec<Job> = fired
                .iter()
                .map(|f| {
                    let tr = plan.triggers.get(f.trigger);
                    let symbol = f.symbol.and_then(|s| symbols.get(s as usize)).cloned();
                    let reason = match &symbol {
                        Some(s) => format!("{} fired for {s} at {t}", tr.text),
                        None => format!("{} fired at {t}", tr.text),
                    };
                    Job {
                        graph: f.graph as usize,
                        symbol: f.symbol.map(|s| s as usize),
                        trigger: TriggerRecord {
                            kind: tr.kind_name.to_string(),
                            text: tr.text.clone(),
                            symbol,
                            reason,
                        },
                        article: f.article.and_then(|a| articles.get(a as usize)).cloned(),
                    }
                })
                .collect();
            if clock_jumps {
                host.clock.advance_to(t);
            }
            let mut ctx = Ctx {
                graphs: &plan.graphs,
                market: &market,
                host: &mut host,
                book: &mut book,
                sandbox: limits,
                usage: &mut usage,
                gate: &gate,
                log: &mut report.log,
                stats: &mut report.stats,
                next_id: &mut next_id,
            };
            let done = ctx.execute_all(&jobs);
            report.executions.extend(done);
            // Orders a same-close broker filled at once.
            host.broker.updates(&mut updates);
            if !updates.is_empty() {
                for o in book.apply(&updates) {
                    host.broker.submit(&o);
                }
                updates.clear();
            }
        }
        // 5. Mark, journal, report.
        if moved {
            read_account(host.broker.account(), &mut cash, &mut held);
        }
        let equity = held.iter().fold(cash, |e, &(s, q)| e + q * close(&market, s));
        report.equity_curve.push(t, equity);
        gate.peak_equity = gate.peak_equity.max(equity);
        last_equity = equity;
        prev = Some(t);
        if !watching && !journal {
            if book.has_changes() {
                book.take_changed(false);
            }
            continue;
        }
        let changed =
            if book.has_changes() { book.take_changed(journal || observer.wants_orders()) } else { Vec::new() };
        let positions: Option<Vec<PositionRecord>> =
            (journal && changed.iter().any(|o| o.status == crate::broker::Status::Filled)).then(|| {
                let account = host.broker.account();
                account
                    .held()
                    .iter()
                    .filter_map(|&s| {
                        account.position(s).map(|p| PositionRecord {
                            symbol: symbols[s].clone(),
                            qty: p.qty,
                            avg_cost: to_f64(p.avg_cost),
                        })
                    })
                    .collect()
            });
        let view = StepView {
            positions: positions.as_deref(),
            time: t,
            index,
            total,
            equity,
            log: &report.log[first_log..],
            orders: &changed,
            executions: &report.executions[first_execution..],
        };
        if let Some((store, run)) = host.store.as_mut()
            && let Err(e) = store.record_step(*run, &view)
        {
            report.warnings.push(format!("the store refused a write, so the run stopped: {e}"));
            return Err(format!("the store refused a write at {t}: {e}"));
        }
        if watching {
            observer.step(&view);
        }
    }
    if let (true, Some(t)) = (clock_jumps, prev) {
        host.clock.advance_to(t);
    }
    if let Some((graph, symbol)) = once {
        let t = prev.unwrap_or_default();
        let name = symbols.get(symbol.unwrap_or(usize::MAX)).cloned();
        let reason = match &name {
            Some(s) => format!("started by hand for {s} at {t}"),
            None => format!("started by hand at {t}"),
        };
        let job = Job {
            graph,
            symbol,
            trigger: TriggerRecord { kind: "manual".to_string(), text: "manual".to_string(), symbol: name, reason },
            article: None,
        };
        let mut ctx = Ctx {
            graphs: &plan.graphs,
            market: &market,
            host: &mut host,
            book: &mut book,
            sandbox: limits,
            usage: &mut usage,
            gate: &gate,
            log: &mut report.log,
            stats: &mut report.stats,
            next_id: &mut next_id,
        };
        let ex = ctx.execute(&job);
        report.executions.push(ex);
    }
    let account = host.broker.account();
    let final_equity = to_f64(account.equity(|s| close(&market, s)).round_dp(2));
    let interval = intervals.iter().copied().min().unwrap_or(86_400);
    report.finish(account, book.orders(), interval, final_equity);
    if let Some((store, run)) = host.store.as_mut() {
        store.record_stats(*run, &report.stats).map_err(|e| e.to_string())?;
    }
    Ok(report)
}

/// A backtest's settings.
#[derive(Debug, Clone)]
pub struct Config {
    pub cash: f64,
    pub costs: Costs,
    pub sandbox: Limits,
    /// News replayed during the run (the simulated market's, or none).
    pub news: Vec<Article>,
}

impl Default for Config {
    fn default() -> Config {
        Config { cash: 100_000.0, costs: Costs::default(), sandbox: Limits::default(), news: Vec::new() }
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
    let host = Host { clock: &mut clock, market: &mut replay, news: &news, llm, broker: &mut broker, store: None };
    let mut report = run_in(program, host, &config.sandbox, observer, mode)?;
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
