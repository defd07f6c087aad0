//! One run in progress: what the engine keeps from step to step, and one method per phase of a
//! step (the phases are listed in the parent module's documentation).

use super::{Mode, Observer};
use crate::broker::{Account, Book, Status, Update, to_f64};
use crate::control::{Firing, Lifecycle, Said};
use crate::exec::{Ctx, ExecWorld, GateState, Job, Usage};
use crate::expr::{Market, NoWorld, World};
use crate::host::Host;
use crate::market::Bar;
use crate::news::Article;
use crate::plan::Plan;
use crate::report::{EquityCurve, LogLine, Report, Stats, TriggerRecord};
use crate::sandbox::Limits;
use crate::store::{Phase, PositionRecord, StepView};
use crate::trigger::Fired;
use chrono::NaiveDateTime;
use strat_lang::ir::{Program, TriggerKind};

mod outside;
use outside::payloads;

/// What is fixed for the whole run.
#[derive(Debug, Clone, Copy)]
struct Shape {
    /// An observer wants every step.
    watching: bool,
    /// The run is journaled in a store.
    journal: bool,
    /// The journal keeps each step's bars (the market is a live feed).
    keep_bars: bool,
    /// Some trigger reads news.
    news_triggers: bool,
    /// The clock only moves when read (a simulated clock).
    clock_jumps: bool,
    /// The broker must see every bar, even with no order open.
    every_bar: bool,
    /// Triggers fire (not a run by hand).
    fires: bool,
    /// Quiet stretches may be run straight from the market's slice of bars: nobody watching,
    /// no journal, no news, and crossings that read only indicators.
    stretches: bool,
}

/// Where a step's executions and log lines begin in the report.
#[derive(Debug, Clone, Copy)]
pub(super) struct StepStart {
    executions: usize,
    log: usize,
    prompts: usize,
}

/// A run of `program` on a host, between steps.
pub(super) struct Engine<'r, 'h> {
    host: Host<'h>,
    limits: &'r Limits,
    plan: Plan,
    market: Market,
    symbols: Vec<String>,
    intervals: Vec<i64>,
    total: Option<usize>,
    shape: Shape,
    /// The graph (and symbol, and webhook payload) to run once at the end, for a run by hand.
    once: Option<(usize, Option<usize>, Option<outside::ByHand>)>,
    report: Report,
    gate: GateState,
    book: Book,
    usage: Usage,
    next_id: u64,
    /// The time of the last step taken.
    prev: Option<NaiveDateTime>,
    /// News has been read up to here.
    news_seen: Option<NaiveDateTime>,
    /// The equity at the last step.
    last_equity: f64,
    /// Steps taken.
    index: usize,
    /// The account as last read from the broker (cash, shares held by symbol), for the mark at
    /// each step; read again whenever orders moved.
    cash: f64,
    held: Vec<(usize, f64)>,
    // Buffers reused from step to step.
    closed: Vec<(usize, Bar)>,
    fired: Vec<Fired>,
    updates: Vec<Update>,
    /// What the broker reported this step, where, for the journal.
    reported: Vec<(Phase, Update)>,
    /// Whether this step's bars are in the journal already.
    bars_journaled: bool,
    articles: Vec<Article>,
    /// Steps the market said were not live (nothing fired on them), and the first with why.
    stale: (usize, Option<(NaiveDateTime, String)>),
    /// The operator's decisions in force, what the control said at this step when it is to be
    /// journaled (it changed, or firings came), the firings to run at this step, and what is
    /// to be said of them in the step's log.
    lifecycle: Lifecycle,
    said: Option<Said>,
    outside: Vec<Firing>,
    control_notes: Vec<String>,
    /// The triggers that started an execution at this step, by id, for the journal.
    triggered: Vec<String>,
    /// The declared payload of each webhook trigger, by graph name and place.
    payloads: std::collections::BTreeMap<(String, u32), strat_lang::ir::Type>,
}

impl<'r, 'h> Engine<'r, 'h> {
    /// Compiles the program against the host's market and sets up the report, the gate's state
    /// and, for a run by hand, the graph to run.
    pub(super) fn new(
        program: &Program,
        host: Host<'h>,
        limits: &'r Limits,
        watching: bool,
        mode: Mode<'_>,
    ) -> Result<Engine<'r, 'h>, String> {
        let symbols = host.market.symbols().to_vec();
        let intervals = host.market.intervals().to_vec();
        let total = host.market.steps();
        let mut market = Market::new(symbols.clone(), intervals.clone());
        market.without_volume = host.market.without_volume();
        let mut plan = Plan::new(program, &mut market).map_err(|e| e.to_string())?;
        if host.control.is_none() {
            for g in program
                .graphs
                .iter()
                .filter(|g| g.triggers.iter().any(|t| matches!(t.kind, TriggerKind::Webhook { .. })))
            {
                plan.warnings.push(format!(
                    "`{}`: a webhook trigger fires only in a running service (`strat serve`), not here",
                    g.name
                ));
            }
        }
        let initial = host.broker.account().equity_f64(|_| 0.0);
        let report = Self::empty_report(&host, &mut plan, &market, initial, total);
        let gate = GateState {
            peak_equity: initial,
            vix: market.symbol("VIX"),
            intraday: !market.daily,
            volatility: std::mem::take(&mut plan.volatility),
            avg_volume: std::mem::take(&mut plan.avg_volume),
            day_start_equity: initial,
        };
        let once = match mode {
            Mode::Triggers => None,
            Mode::Once { graph, symbol, payload } => {
                let (g, s) = by_hand(&plan, &market, graph, symbol)?;
                Some((g, s, payload.map(|p| outside::by_hand(program, graph, p)).transpose()?))
            }
        };
        let journal = host.store.is_some();
        let (news_triggers, clock_jumps, every_bar) =
            (plan.triggers.has_news(), host.clock.jumps(), host.broker.needs_every_bar());
        let shape = Shape {
            watching,
            journal,
            keep_bars: journal && host.market.is_live(),
            news_triggers,
            clock_jumps,
            every_bar,
            fires: once.is_none(),
            stretches: !watching
                && !journal
                && host.control.is_none()
                && !every_bar
                && clock_jumps
                && !news_triggers
                && !market.crossings_need_world(),
        };
        let cash = host.broker.account().cash_f64();
        Ok(Engine {
            host,
            limits,
            plan,
            market,
            symbols,
            intervals,
            total,
            shape,
            once,
            report,
            gate,
            book: Book::default(),
            usage: Usage::default(),
            next_id: 0,
            prev: None,
            news_seen: None,
            last_equity: initial,
            index: 0,
            cash,
            held: Vec::new(),
            closed: Vec::new(),
            fired: Vec::new(),
            updates: Vec::new(),
            reported: Vec::new(),
            bars_journaled: false,
            articles: Vec::new(),
            stale: (0, None),
            lifecycle: Lifecycle::default(),
            said: None,
            outside: Vec::new(),
            control_notes: Vec::new(),
            triggered: Vec::new(),
            payloads: payloads(program),
        })
    }

    /// The report before the first step: the plan's warnings (and who answers the models),
    /// one statistics entry per graph, what the run runs on.
    fn empty_report(host: &Host<'_>, plan: &mut Plan, market: &Market, initial: f64, total: Option<usize>) -> Report {
        let mut warnings = std::mem::take(&mut plan.warnings);
        if plan.uses_model {
            warnings.push(format!("models are answered by the {}", host.llm.label()));
        }
        warnings.sort();
        warnings.dedup();
        Report {
            initial_cash: initial,
            final_equity: initial,
            r#return: 0.0,
            max_drawdown: 0.0,
            sharpe: None,
            win_rate: None,
            orders: Vec::new(),
            equity_curve: EquityCurve::with_capacity(total.unwrap_or(0)),
            log: Vec::new(),
            executions: Vec::new(),
            prompts: Default::default(),
            stats: plan
                .graphs
                .iter()
                .map(|g| {
                    let stats = Stats { description: g.description.clone(), role: g.role.clone(), ..Stats::default() };
                    (g.name.clone(), stats)
                })
                .collect(),
            warnings,
            indicators: market.series.len(),
            triggers: plan.triggers.len(),
            indexed_triggers: plan.triggers.indexed(),
            llm: host.llm.label(),
            market: host.market.label(),
            broker: host.broker.label(),
        }
    }

    pub(super) fn watching(&self) -> bool {
        self.shape.watching
    }

    /// The observer stopped the run.
    pub(super) fn note_stop(&mut self) {
        if let Some(t) = self.prev {
            self.report.warnings.push(format!("stopped after {t}"));
        }
    }

    /// The bars before `from` move the market alone (indicators, crossings, news seen), one
    /// step at a time: nothing fires, nothing is marked or recorded. The first step at or after
    /// `from` is left to the run.
    pub(super) fn warm_up(&mut self, from: NaiveDateTime) {
        while let Some((ahead, cursor)) = self.host.market.ahead() {
            // A one-symbol replay: its bars before `from` are taken as one run.
            let run = ahead.get(..ahead.iter().position(|b| b.time >= from).unwrap_or(ahead.len())).unwrap_or_default();
            if run.is_empty() || self.market.crossings_need_world() {
                break;
            }
            self.market.step_run(0, run);
            *cursor += run.len();
            self.index += run.len();
        }
        while self.host.market.peek().is_some_and(|t| t < from) {
            let Some(t) = self.host.market.next(&mut self.closed) else { break };
            self.index += 1;
            self.update_market(t);
        }
    }

    /// A quiet stretch: when no order is open and nothing can fire before some time, the bars
    /// of a one-symbol replay up to then only move the indicators and mark the portfolio, so
    /// they are taken straight from the market's slice (same results as step by step).
    pub(super) fn run_quiet_stretch(&mut self) {
        if !self.shape.stretches || self.book.has_pending() {
            return;
        }
        let Some((ahead, cursor)) = self.host.market.ahead() else { return };
        let until = if self.shape.fires { self.plan.triggers.quiet_before(0) } else { Some(NaiveDateTime::MAX) };
        let Some(until) = until else { return };
        // The bars before `until` (read in sequence: a binary search over a long series waits
        // on memory at every probe).
        let run = ahead.get(..ahead.iter().position(|b| b.time >= until).unwrap_or(ahead.len())).unwrap_or_default();
        let Some(last) = run.last() else { return };
        // A one-symbol market holds nothing or that symbol.
        let (cash, qty) = (self.cash, self.held.first().map(|&(_, q)| q));
        let mark = |b: &Bar| qty.map_or(cash, |q| cash + q * b.close);
        // The daily P&L counts from the last mark before the latest session began.
        let day = last.time.date();
        match run.iter().rposition(|b| b.time.date() != day).and_then(|i| run.get(i)) {
            Some(before) => self.gate.day_start_equity = mark(before),
            None if self.prev.is_some_and(|p| p.date() != day) => self.gate.day_start_equity = self.last_equity,
            None => {}
        }
        let from = self.report.equity_curve.len();
        self.report.equity_curve.extend(run, mark);
        let marks = self.report.equity_curve.values().get(from..).unwrap_or_default();
        self.gate.peak_equity = marks.iter().fold(self.gate.peak_equity, |p, &e| p.max(e));
        self.last_equity = mark(last);
        self.prev = Some(last.time);
        self.market.step_run(0, run);
        *cursor += run.len();
        self.index += run.len();
    }

    /// The next instant at which bars close (now in `closed`), with the clock moved there
    /// unless it moves only when read; `None` when the data ends.
    pub(super) fn next_step(&mut self) -> Option<NaiveDateTime> {
        let t = self.host.market.next(&mut self.closed)?;
        self.index += 1;
        if !self.shape.clock_jumps {
            self.host.clock.advance_to(t);
        }
        // A new session: the daily P&L counts from the last mark of the one before.
        if self.prev.is_some_and(|p| p.date() != t.date()) {
            self.gate.day_start_equity = self.last_equity;
        }
        Some(t)
    }

    /// The bars of a live step that fired, committed to the journal before anything is
    /// decided on them (they cannot be had again, and a resumed run replays on them); a step
    /// that fired nothing journals them with its record. A write the store refuses stops the
    /// run.
    pub(super) fn journal_bars(&mut self, t: NaiveDateTime) -> Result<(), String> {
        if !self.shape.keep_bars || (self.fired.is_empty() && self.outside.is_empty()) {
            return Ok(());
        }
        self.bars_journaled = true;
        let Some((store, run)) = self.host.store.as_mut() else { return Ok(()) };
        store.record_bars(*run, t, &self.closed).map_err(|e| {
            self.report.warnings.push(format!("the store refused a write, so the run stopped: {e}"));
            format!("the store refused a write at {t}: {e}")
        })
    }

    /// Phase 1: the broker works its orders against the bars that closed; the book records what
    /// it reports. Whether any order moved.
    pub(super) fn work_orders(&mut self) -> bool {
        let mut reported = false;
        if self.shape.every_bar || self.book.has_pending() {
            for (sym, bar) in &self.closed {
                reported |= self.host.broker.on_bar(*sym, bar);
            }
        }
        if reported {
            self.host.broker.updates(&mut self.updates);
            self.journal_updates(Phase::Bars);
        }
        self.apply_updates()
    }

    /// Keeps the broker's updates just taken for the journal, with where they came.
    fn journal_updates(&mut self, phase: Phase) {
        if self.shape.journal {
            self.reported.extend(self.updates.iter().map(|u| (phase, u.clone())));
        }
    }

    /// Hands the broker's updates to the book and sends the orders they release (the
    /// protective orders of a filled buy). Whether there were any.
    fn apply_updates(&mut self) -> bool {
        if self.updates.is_empty() {
            return false;
        }
        let mut released = self.book.apply(&self.updates);
        self.updates.clear();
        while !released.is_empty() {
            let refused: Vec<Update> = released
                .iter()
                .filter_map(|o| self.host.send(o).err().map(|reason| Update::Rejected { id: o.id, reason }))
                .collect();
            released = self.book.apply(&refused);
        }
        true
    }

    /// Phase 2: the market takes the bars (indicators, then crossings), and news published
    /// since the last step is read for the news triggers.
    pub(super) fn update_market(&mut self, t: NaiveDateTime) {
        self.market.step(t, &self.closed);
        if self.market.crossings_need_world() {
            let world = ExecWorld::of_step(
                self.host.broker.account(),
                &self.market,
                self.host.news,
                self.gate.day_start_equity,
            );
            self.market.update_crossings(&self.closed, &world);
        } else {
            self.market.update_crossings(&self.closed, &NoWorld);
        }
        if self.shape.news_triggers {
            self.articles.clear();
            let news_until = crate::exec::news_now(&self.market);
            self.host.news.between(None, self.news_seen, news_until, &mut self.articles);
            self.news_seen = Some(news_until);
        }
    }

    /// Phase 3: what fires at `t`, after guards and throttles.
    pub(super) fn find_firings(&mut self, t: NaiveDateTime) {
        self.fired.clear();
        if let Some(why) = self.host.market.stale() {
            self.stale.0 += 1;
            self.stale.1.get_or_insert((t, why));
            return;
        }
        if !self.shape.fires || self.plan.triggers.idle(&self.closed) {
            return;
        }
        let env = self.market.env();
        let world =
            ExecWorld::of_step(self.host.broker.account(), &self.market, self.host.news, self.gate.day_start_equity);
        // Only conditions read the world; thresholds, bars and schedules do not.
        let world: &dyn World = if self.plan.triggers.reads_world(&self.closed) { &world } else { &NoWorld };
        let (prev, daily) = (self.prev, self.market.daily);
        self.plan.triggers.step(
            t,
            prev,
            &self.closed,
            &self.articles,
            &env,
            world,
            &self.intervals,
            daily,
            &mut self.fired,
        );
    }

    /// Where this step's executions and log lines will begin.
    pub(super) fn step_start(&self) -> StepStart {
        StepStart {
            executions: self.report.executions.len(),
            log: self.report.log.len(),
            prompts: self.report.prompts.len(),
        }
    }

    /// What the market data has to say since the last step (a stale feed, a reconnection,
    /// bars refused): each a log line of the step at `t`, under `feed`, so the journal keeps it
    /// and an observer shows it as the run goes on.
    pub(super) fn take_feed_notes(&mut self, t: NaiveDateTime) {
        let mut notes = Vec::new();
        self.host.market.take_notes(&mut notes);
        let lines =
            notes.into_iter().map(|message| LogLine { time: t, graph: "feed".to_string(), message, notify: false });
        self.report.log.extend(lines);
        let said = self.control_notes.drain(..).map(|message| LogLine {
            time: t,
            graph: "control".to_string(),
            message,
            notify: false,
        });
        self.report.log.extend(said);
    }

    /// Phase 4: each graph that fired runs once per symbol, in the file's order, for the first
    /// of its triggers that fired (in the file's order too). Whether anything ran.
    pub(super) fn execute_firings(&mut self, t: NaiveDateTime) -> bool {
        if self.fired.is_empty() && self.outside.is_empty() {
            return false;
        }
        self.fired.sort_by_key(|f| (f.graph, f.symbol, f.trigger));
        self.fired.dedup_by_key(|f| (f.graph, f.symbol));
        let mut jobs: Vec<Job> = self.fired.iter().map(|f| self.job(f, t)).collect();
        let outside = std::mem::take(&mut self.outside);
        jobs.extend(outside.iter().filter_map(|f| self.outside_job(f, t)));
        if self.shape.journal {
            self.note_triggered(&outside);
        }
        if jobs.is_empty() {
            return false;
        }
        if self.shape.clock_jumps {
            self.host.clock.advance_to(t);
        }
        let done = self.ctx().execute_all(&jobs);
        self.report.executions.extend(done);
        // Orders a same-close broker filled at once.
        self.host.broker.updates(&mut self.updates);
        self.journal_updates(Phase::Executions);
        self.apply_updates();
        true
    }

    /// The execution a firing starts, with the record of what fired it.
    fn job(&self, f: &Fired, t: NaiveDateTime) -> Job {
        let tr = self.plan.triggers.get(f.trigger);
        let symbol = f.symbol.and_then(|s| self.symbols.get(s as usize)).cloned();
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
                firing: None,
            },
            article: f.article.and_then(|a| self.articles.get(a as usize)).cloned(),
            payload: None,
        }
    }

    /// What an execution works with: the one place the executor's context is built.
    fn ctx(&mut self) -> Ctx<'_, 'h> {
        Ctx {
            graphs: &self.plan.graphs,
            market: &self.market,
            host: &mut self.host,
            book: &mut self.book,
            sandbox: self.limits,
            usage: &mut self.usage,
            gate: &self.gate,
            log: &mut self.report.log,
            stats: &mut self.report.stats,
            prompts: &mut self.report.prompts,
            next_id: &mut self.next_id,
        }
    }

    /// Phase 5a: the portfolio marked at the closes (the account read again if orders moved),
    /// added to the equity curve. The equity.
    pub(super) fn mark(&mut self, t: NaiveDateTime, moved: bool) -> f64 {
        if moved {
            read_account(self.host.broker.account(), &mut self.cash, &mut self.held);
        }
        let market = &self.market;
        let equity = self.held.iter().fold(self.cash, |e, &(s, q)| e + q * close(market, s));
        self.report.equity_curve.push(t, equity);
        self.gate.peak_equity = self.gate.peak_equity.max(equity);
        self.last_equity = equity;
        self.prev = Some(t);
        equity
    }

    /// Phase 5b: the step journaled in the store and shown to the observer. A write the store
    /// refuses stops the run.
    pub(super) fn record(
        &mut self,
        t: NaiveDateTime,
        equity: f64,
        first: StepStart,
        observer: &mut dyn Observer,
    ) -> Result<(), String> {
        let Shape { watching, journal, .. } = self.shape;
        if !watching && !journal {
            if self.book.has_changes() {
                self.book.take_changed(false);
            }
            return Ok(());
        }
        let changed = if self.book.has_changes() {
            self.book.take_changed(journal || observer.wants_orders())
        } else {
            Vec::new()
        };
        let filled = journal && changed.iter().any(|o| o.status == Status::Filled);
        let positions = filled.then(|| self.positions());
        let view = StepView {
            positions: positions.as_deref(),
            time: t,
            index: self.index,
            total: self.total,
            equity,
            log: &self.report.log[first.log..],
            orders: &changed,
            executions: &self.report.executions[first.executions..],
            prompts: self.report.prompts.since(first.prompts),
            reported: &self.reported,
            bars: if self.shape.keep_bars && !self.bars_journaled { &self.closed } else { &[] },
            control: self.said.as_ref(),
            triggered: &self.triggered,
        };
        if let Some((store, run)) = self.host.store.as_mut()
            && let Err(e) = store.record_step(*run, &view)
        {
            self.report.warnings.push(format!("the store refused a write, so the run stopped: {e}"));
            return Err(format!("the store refused a write at {t}: {e}"));
        }
        if watching {
            observer.step(&view);
        }
        self.reported.clear();
        self.bars_journaled = false;
        self.said = None;
        self.triggered.clear();
        // A live run's executions are in the journal now: its report reads them back from
        // there, so a run of weeks does not hold them all.
        if self.shape.keep_bars {
            self.report.executions.clear();
        }
        Ok(())
    }

    /// The account's positions, as the store records them.
    fn positions(&self) -> Vec<PositionRecord> {
        let account = self.host.broker.account();
        account
            .held()
            .iter()
            .filter_map(|&s| {
                account.position(s).map(|p| PositionRecord {
                    symbol: self.symbols[s].clone(),
                    qty: p.qty,
                    avg_cost: to_f64(p.avg_cost),
                })
            })
            .collect()
    }

    /// The end of the data: the run by hand (if this is one) at the last step, the report's
    /// figures, the statistics to the store.
    pub(super) fn finish(mut self) -> Result<Report, String> {
        if let (true, Some(t)) = (self.shape.clock_jumps, self.prev) {
            self.host.clock.advance_to(t);
        }
        if let Some((graph, symbol, payload)) = self.once.take() {
            let mut job = self.manual_job(graph, symbol);
            if let Some(p) = payload {
                job.trigger.kind = "webhook".to_string();
                job.trigger.reason =
                    job.trigger.reason.replacen("started by hand", "started by hand with a payload", 1);
                job.trigger.text = p.text;
                job.payload = Some(p.value);
            }
            let ex = self.ctx().execute(&job);
            self.report.executions.push(ex);
        }
        if let (n, Some((first, why))) = &self.stale {
            self.report.warnings.push(format!(
                "{n} step{} of bars were not traded on, the first at {first}: {why}",
                if *n == 1 { "" } else { "s" }
            ));
        }
        if let Some(first) = self.plan.triggers.closed_days.first() {
            let n = self.plan.triggers.closed_days.len();
            self.report.warnings.push(format!(
                "the data has bars on {n} day{} the exchange was closed (the first {first}): no trigger fires on them",
                if n == 1 { "" } else { "s" }
            ));
        }
        let account = self.host.broker.account();
        let final_equity = to_f64(account.equity(|s| close(&self.market, s)).round_dp(2));
        let interval = self.intervals.iter().copied().min().unwrap_or(86_400);
        self.report.finish(account, self.book.orders(), interval, final_equity);
        if let Some((store, run)) = self.host.store.as_mut() {
            store.record_stats(*run, &self.report.stats).map_err(|e| e.to_string())?;
        }
        Ok(self.report)
    }

    /// The execution of a run by hand, at the last step.
    fn manual_job(&self, graph: usize, symbol: Option<usize>) -> Job {
        let t = self.prev.unwrap_or_default();
        let name = self.symbols.get(symbol.unwrap_or(usize::MAX)).cloned();
        let reason = match &name {
            Some(s) => format!("started by hand for {s} at {t}"),
            None => format!("started by hand at {t}"),
        };
        Job {
            graph,
            symbol,
            trigger: TriggerRecord {
                kind: "manual".to_string(),
                text: "manual".to_string(),
                symbol: name,
                reason,
                firing: None,
            },
            article: None,
            payload: None,
        }
    }
}

/// The graph (and symbol) a run by hand names, or what is wrong with the names.
fn by_hand(plan: &Plan, market: &Market, graph: &str, symbol: Option<&str>) -> Result<(usize, Option<usize>), String> {
    let g = plan.graphs.iter().position(|g| g.name == graph).ok_or_else(|| {
        let names: Vec<&str> = plan.graphs.iter().map(|g| g.name.as_str()).collect();
        format!("no agent, workflow or team named `{graph}` (the file declares {})", names.join(", "))
    })?;
    let s = match symbol {
        Some(s) => Some(market.symbol(s).ok_or_else(|| format!("no data for `{s}`: add `--data {s}=PATH`"))?),
        None => None,
    };
    Ok((g, s))
}

/// The latest close of symbol `s` (0 before its first bar).
fn close(market: &Market, s: usize) -> f64 {
    market.bars.get(s).copied().flatten().map_or(0.0, |b| b.close)
}

/// Reads the account's cash and the shares held by symbol.
fn read_account(account: &Account, cash: &mut f64, held: &mut Vec<(usize, f64)>) {
    *cash = account.cash_f64();
    held.clear();
    held.extend(account.held().iter().filter_map(|&s| account.position(s).map(|p| (s, p.qty as f64))));
}
