//! The engine: runs the workflows of a checked program bar by bar against historical data, with
//! the paper broker and the risk gate. Market orders decided at a bar's close fill at the next
//! bar's open.
//!
//! Each step: fill pending orders at the open of the symbols with a new bar; advance every
//! expression once (so indicators and crossings see every bar, whichever branch runs); fire
//! the triggers; run the fired graphs; mark the portfolio at the closes.

use crate::broker::{Costs, Kind, PaperBroker, Request, Side, Status, Tif, dec, to_f64};
use crate::eval::{Compiled, Indicators, PortfolioView, PositionView, Step, Value, World, interval_seconds};
use crate::market::Bar;
use chrono::NaiveDateTime;
use std::collections::BTreeMap;
use strat_lang::ir::{self, Action, Expr, GraphKind, NodeKind, Part, Program, TriggerKind};

/// Most nodes one execution may visit: a graph is acyclic, so this only guards against bugs.
const FUEL: usize = 10_000;

#[derive(Debug, Clone)]
pub struct Config {
    pub cash: f64,
    pub costs: Costs,
}

#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct GraphStats {
    pub executions: u64,
    pub orders: u64,
    pub refused: u64,
    pub failed: u64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LogLine {
    pub time: NaiveDateTime,
    pub graph: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    pub initial_cash: f64,
    pub final_equity: f64,
    /// Percent.
    pub r#return: f64,
    /// Percent, positive.
    pub max_drawdown: f64,
    pub sharpe: Option<f64>,
    /// Share of closed round trips that made money, percent.
    pub win_rate: Option<f64>,
    pub orders: Vec<crate::broker::Order>,
    pub equity_curve: Vec<(NaiveDateTime, f64)>,
    pub log: Vec<LogLine>,
    pub stats: BTreeMap<String, GraphStats>,
    pub warnings: Vec<String>,
    /// Distinct indicator instances the run kept (one per symbol, function and parameters).
    pub indicators: usize,
    /// What the risk gate needs to know about the run so far.
    #[serde(skip)]
    state: GateState,
}

#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct GateState {
    peak_equity: f64,
    /// The latest VIX close, when `--data VIX=…` is given.
    vix: Option<f64>,
    /// Bars shorter than a day: market hours can be checked.
    intraday: bool,
}

enum SizePlan {
    All,
    Shares(Compiled),
    Value(Compiled),
    Fraction(Compiled, String),
}

struct OrderPlan {
    side: Side,
    symbol: Compiled,
    size: SizePlan,
    limit: Option<Compiled>,
    stop: Option<Compiled>,
    stop_loss: Option<Compiled>,
    take_profit: Option<Compiled>,
    tif: Tif,
}

enum Step_ {
    Expr(Compiled),
    Order(Box<OrderPlan>),
    Template(Vec<TemplatePart>),
    Cancel(Option<Compiled>),
    /// A question to a model, answered by the offline stand-in in backtests.
    Llm(ir::Type),
    Decision {
        from: String,
        actions: Vec<String>,
    },
    Nothing,
}

enum TemplatePart {
    Text(String),
    Expr(Compiled),
}

struct Limits {
    market_hours_only: bool,
    max_drawdown: Option<f64>,
    max_vix: Option<f64>,
    stop_loss: Option<f64>,
    take_profit: Option<f64>,
    allow: Option<Vec<String>>,
    block: Vec<String>,
    max_position: Option<f64>,
    max_allocation: Option<f64>,
    max_daily_trades: Option<u64>,
}

struct Runner {
    /// For a team: each member's declared answer type (from its agent graph).
    members: BTreeMap<String, ir::Type>,
    name: String,
    graph: ir::Graph,
    steps: BTreeMap<u32, Step_>,
    triggers: Vec<TriggerPlan>,
    limits: Option<Limits>,
}

enum TriggerKindPlan {
    /// Fires at the close of each bar of `seconds` on these symbols.
    Bar(Vec<usize>, i64),
    Condition(Compiled),
    /// Fires at the bar during which the schedule has an occurrence (in its own time zone).
    Schedule(Box<croner::Cron>, chrono_tz::Tz),
}

/// Whether `cron` (in `tz`) has an occurrence in the bar that ends at this step: for daily bars,
/// the bar's whole day; otherwise the time since the previous step, up to this one. Bar times
/// are New York time.
fn schedule_fires(
    cron: &croner::Cron,
    tz: chrono_tz::Tz,
    t: NaiveDateTime,
    prev: Option<NaiveDateTime>,
    daily: bool,
) -> bool {
    use chrono::TimeZone;
    let ny = chrono_tz::America::New_York;
    let (from, to) = if daily {
        let day = t.date().and_time(chrono::NaiveTime::MIN);
        (day, day + chrono::Duration::days(1))
    } else {
        (prev.unwrap_or(t - chrono::Duration::minutes(1)), t)
    };
    let (Some(from), Some(to)) = (ny.from_local_datetime(&from).earliest(), ny.from_local_datetime(&to).earliest())
    else {
        return false;
    };
    // Daily: any occurrence in [from, to). Intraday: any in (from, to].
    match cron.find_next_occurrence(&from.with_timezone(&tz), daily) {
        Ok(next) => {
            let next = next.with_timezone(&ny);
            if daily { next < to } else { next <= to }
        }
        Err(_) => false,
    }
}

struct TriggerPlan {
    kind: TriggerKindPlan,
    /// The symbol a condition over a universe was lifted to.
    symbol: Option<String>,
    /// `(count, window in seconds)`: at most `count` firings in any window.
    throttles: Vec<(u32, i64)>,
    market_hours: bool,
    fired: Vec<NaiveDateTime>,
}

impl TriggerPlan {
    fn new(kind: TriggerKindPlan, t: &ir::Trigger) -> TriggerPlan {
        TriggerPlan {
            kind,
            symbol: None,
            throttles: t.throttles.iter().map(|(n, w)| (*n, i64::try_from(*w).unwrap_or(i64::MAX))).collect(),
            market_hours: t.market_hours,
            fired: Vec::new(),
        }
    }

    /// Whether a throttle still allows a firing at `t`.
    fn allowed(&self, t: NaiveDateTime) -> bool {
        self.throttles.iter().all(|(count, window)| {
            let recent = self.fired.iter().rev().take_while(|f| (t - **f).num_seconds() < *window).count();
            recent < *count as usize
        })
    }
}

/// Whether a bar at `t`, `interval` seconds long, is the last one of a `length`-second bar.
/// Day-long bars end at the session close (early closes included); shorter ones on multiples of
/// their length from midnight.
fn closes_bucket(t: NaiveDateTime, interval: i64, length: i64) -> bool {
    if interval >= length {
        return true;
    }
    let end = t + chrono::Duration::seconds(interval);
    if length >= 86_400 {
        return crate::market::calendar::session(t.date())
            .is_none_or(|(_, close)| end.time() >= close || end.date() > t.date());
    }
    let secs = i64::from(chrono::Timelike::num_seconds_from_midnight(&end.time()));
    secs % length == 0
}

/// The portfolio and bindings an expression sees during a run.
struct RunWorld<'a> {
    broker: &'a PaperBroker,
    prices: &'a BTreeMap<String, f64>,
    locals: &'a BTreeMap<String, Value>,
}

impl World for RunWorld<'_> {
    fn position(&self, symbol: &str) -> PositionView {
        let price = self.prices.get(symbol).copied().unwrap_or(0.0);
        match self.broker.position(symbol) {
            Some(p) => {
                let qty = p.qty as f64;
                let cost = to_f64(p.avg_cost);
                PositionView {
                    quantity: qty,
                    avg_cost: cost,
                    current_price: price,
                    market_value: qty * price,
                    unrealized_pnl: qty * (price - cost),
                    pnl_percent: if cost > 0.0 { (price / cost - 1.0) * 100.0 } else { 0.0 },
                }
            }
            None => PositionView { current_price: price, ..PositionView::default() },
        }
    }

    fn portfolio(&self) -> PortfolioView {
        let cash = to_f64(self.broker.cash());
        PortfolioView {
            cash,
            buying_power: cash,
            total_value: self.broker.equity_f64(self.prices),
            positions_count: self.broker.positions().len() as f64,
            daily_pnl: 0.0,
        }
    }

    fn local(&self, name: &str) -> Option<Value> {
        self.locals.get(name).cloned()
    }
}

fn limits_of(program: &Program, name: &str) -> Limits {
    let values = program.limits.get(name);
    let num = |k: &str| match values.and_then(|v| v.get(k)) {
        Some(ir::Value::Number { value, .. }) => value.parse::<f64>().ok(),
        _ => None,
    };
    let syms = |k: &str| match values.and_then(|v| v.get(k)) {
        Some(ir::Value::Symbols { value }) => Some(value.clone()),
        _ => None,
    };
    Limits {
        allow: syms("allow"),
        block: syms("block").unwrap_or_default(),
        max_position: num("max_position"),
        max_allocation: num("max_allocation"),
        max_daily_trades: num("max_daily_trades").map(|v| v as u64),
        stop_loss: num("stop_loss"),
        max_drawdown: num("max_drawdown"),
        max_vix: num("max_vix"),
        market_hours_only: matches!(
            values.and_then(|v| v.get("market_hours_only")),
            Some(ir::Value::Bool { value: true })
        ),
        take_profit: num("take_profit"),
    }
}

/// Runs every rule-only workflow of `program` over `data` (symbol → bars in time order).
pub fn backtest(program: &Program, data: &BTreeMap<String, Vec<Bar>>, config: &Config) -> Result<Report, String> {
    run(program, data, config, &mut Quiet)
}

/// Watches a run as it goes (`strat run` streams from here) and may stop it.
pub trait Observer {
    /// Called after each bar with what happened at it: new log lines, and orders that were
    /// placed, refused, filled or cancelled at this bar.
    fn step(&mut self, time: NaiveDateTime, equity: f64, log: &[LogLine], orders: &[crate::broker::Order]);
    /// Checked before each bar; `true` ends the run there, with its state as it is.
    fn stop(&mut self) -> bool {
        false
    }
    /// Whether `step` should be called at all.
    fn watching(&self) -> bool {
        true
    }
    /// Whether `step` wants the orders that changed (working them out costs time).
    fn wants_orders(&self) -> bool {
        true
    }
}

/// Watches nothing.
pub struct Quiet;

impl Observer for Quiet {
    fn step(&mut self, _: NaiveDateTime, _: f64, _: &[LogLine], _: &[crate::broker::Order]) {}
    fn watching(&self) -> bool {
        false
    }
}

/// Like [`backtest`], reporting each bar to `observer`, which may stop the run early.
pub fn run(
    program: &Program,
    data: &BTreeMap<String, Vec<Bar>>,
    config: &Config,
    observer: &mut dyn Observer,
) -> Result<Report, String> {
    let symbols: Vec<String> = data.keys().cloned().collect();
    let intervals: Vec<i64> = data.values().map(|b| interval_seconds(b)).collect();
    // Compiling registers indicators; every graph shares one instance per (symbol, parameters).
    let registry = std::cell::RefCell::new(Indicators::default());
    let compile = |e: &Expr, graph: &str| {
        Compiled::new(e, &symbols, &intervals, true, &mut registry.borrow_mut()).map_err(|m| format!("`{graph}`: {m}"))
    };
    let mut warnings = Vec::new();
    let mut runners = Vec::new();
    let mut uses_model = false;
    for g in &program.graphs {
        if g.kind == GraphKind::Team {
            uses_model = true;
        }
        if g.nodes.iter().any(|n| matches!(n.kind, NodeKind::Llm { .. })) {
            uses_model = true;
        }
        let mut steps = BTreeMap::new();
        for n in &g.nodes {
            let step = match &n.kind {
                NodeKind::Condition { expr } | NodeKind::Switch { expr } | NodeKind::DataFetch { expr, .. } => {
                    Step_::Expr(compile(expr, &g.name)?)
                }
                NodeKind::Action {
                    action: Action::Order { side, symbol, size, limit, stop, stop_loss, take_profit, tif },
                } => {
                    let size = match size {
                        ir::Size::All => SizePlan::All,
                        ir::Size::Shares { expr } => SizePlan::Shares(compile(expr, &g.name)?),
                        ir::Size::Value { expr } => SizePlan::Value(compile(expr, &g.name)?),
                        ir::Size::Fraction { expr, of } => SizePlan::Fraction(compile(expr, &g.name)?, of.clone()),
                    };
                    let opt = |e: &Option<Expr>| e.as_ref().map(|e| compile(e, &g.name)).transpose();
                    Step_::Order(Box::new(OrderPlan {
                        side: if side == "buy" { Side::Buy } else { Side::Sell },
                        symbol: compile(symbol, &g.name)?,
                        size,
                        limit: opt(limit)?,
                        stop: opt(stop)?,
                        stop_loss: opt(stop_loss)?,
                        take_profit: opt(take_profit)?,
                        tif: Tif::parse(tif),
                    }))
                }
                NodeKind::Llm { output, .. } => Step_::Llm(output.clone()),
                NodeKind::Action { action: Action::ExecuteDecision { from, actions } } => {
                    Step_::Decision { from: from.clone(), actions: actions.clone() }
                }
                NodeKind::Action { action: Action::Cancel { symbol } } => {
                    Step_::Cancel(symbol.as_ref().map(|e| compile(e, &g.name)).transpose()?)
                }
                NodeKind::Action { action: Action::Log { message } | Action::Notify { message } } => Step_::Template(
                    message
                        .iter()
                        .map(|p| match p {
                            Part::Text(t) => Ok(TemplatePart::Text(t.clone())),
                            Part::Expr(e) => compile(e, &g.name).map(TemplatePart::Expr),
                        })
                        .collect::<Result<_, _>>()?,
                ),
                _ => Step_::Nothing,
            };
            steps.insert(n.id, step);
        }
        let mut triggers = Vec::new();
        for t in &g.triggers {
            match &t.kind {
                TriggerKind::Bar { symbols: syms, seconds } => triggers.push(TriggerPlan::new(
                    TriggerKindPlan::Bar(
                        syms.iter().filter_map(|s| symbols.iter().position(|x| x == s)).collect(),
                        i64::try_from(*seconds).unwrap_or(86_400),
                    ),
                    t,
                )),
                TriggerKind::Condition { expr } => {
                    let mut sets = std::collections::BTreeSet::new();
                    universes_in(expr, &mut sets);
                    match sets.into_iter().next() {
                        None => {
                            let mut plan = TriggerPlan::new(TriggerKindPlan::Condition(compile(expr, &g.name)?), t);
                            // A condition on one ticker is about that ticker (`trigger.symbol`).
                            let mut syms = std::collections::BTreeSet::new();
                            symbols_in(expr, &mut syms);
                            if syms.len() == 1 {
                                plan.symbol = syms.into_iter().next();
                            }
                            triggers.push(plan);
                        }
                        // A condition over a universe is evaluated once per member symbol.
                        Some(u) => {
                            for sym in program.universes.get(&u).into_iter().flatten() {
                                if !data.contains_key(sym) {
                                    warnings.push(format!(
                                        "no data for `{sym}` of universe `{u}`: add `--data {sym}=PATH`; it is left out"
                                    ));
                                    continue;
                                }
                                let lifted = substitute(expr, &u, sym);
                                let mut plan =
                                    TriggerPlan::new(TriggerKindPlan::Condition(compile(&lifted, &g.name)?), t);
                                plan.symbol = Some(sym.clone());
                                triggers.push(plan);
                            }
                        }
                    }
                }
                TriggerKind::Schedule { cron, tz } => {
                    let parsed = croner::parser::CronParser::new().parse(cron);
                    match (parsed, tz.parse::<chrono_tz::Tz>()) {
                        (Ok(c), Ok(z)) => triggers.push(TriggerPlan::new(TriggerKindPlan::Schedule(Box::new(c), z), t)),
                        _ => warnings.push(format!("`{}`: schedule \"{cron}\" in {tz} cannot be read", g.name)),
                    }
                }
                other => warnings.push(format!(
                    "`{}`: a {} trigger does not fire in a backtest",
                    g.name,
                    match other {
                        TriggerKind::News { .. } => "news",
                        TriggerKind::Webhook { .. } => "webhook",
                        _ => "manual",
                    }
                )),
            }
        }
        let members = if g.kind == GraphKind::Team {
            program
                .graphs
                .iter()
                .filter(|a| a.kind == GraphKind::Agent)
                .filter_map(|a| {
                    a.nodes.iter().find_map(|n| match &n.kind {
                        NodeKind::Llm { output, .. } => Some((a.name.clone(), output.clone())),
                        _ => None,
                    })
                })
                .collect()
        } else {
            BTreeMap::new()
        };
        runners.push(Runner {
            members,
            name: g.name.clone(),
            graph: g.clone(),
            steps,
            triggers,
            limits: g.limits.as_deref().map(|l| limits_of(program, l)),
        });
    }
    for s in program.graphs.iter().flat_map(|g| g.triggers.iter()).filter_map(|t| match &t.kind {
        TriggerKind::Bar { symbols: syms, .. } | TriggerKind::News { symbols: syms, .. } => Some(syms),
        _ => None,
    }) {
        for sym in s {
            if !data.contains_key(sym) {
                warnings.push(format!("no data for `{sym}`: add `--data {sym}=PATH`; it is left out"));
            }
        }
    }
    // The offline stand-in reads RSI(14) of the trigger's symbol.
    let mut rsi_of: BTreeMap<String, Compiled> = BTreeMap::new();
    if uses_model {
        warnings.push(format!("models are answered by the {}", crate::offline::LABEL));
        for sym in &symbols {
            let call = Expr::Call {
                func: "rsi".into(),
                args: vec![Expr::Symbol { value: sym.clone() }, Expr::Num { value: "14".into(), unit: ir::Unit::None }],
            };
            rsi_of.insert(sym.clone(), compile(&call, "the offline stand-in")?);
        }
    }
    warnings.sort();
    warnings.dedup();

    let mut indicators = registry.into_inner();
    // With daily bars every bar is a session: the market-hours guard lets them all through.
    let daily = intervals.iter().all(|i| *i >= 20 * 3600);
    let mut broker = PaperBroker::with_costs(config.cash, config.costs);
    let mut timeline = crate::market::Timeline::new(data);
    let mut prices: BTreeMap<String, f64> = BTreeMap::new();
    let mut report = Report {
        initial_cash: config.cash,
        final_equity: config.cash,
        r#return: 0.0,
        max_drawdown: 0.0,
        sharpe: None,
        win_rate: None,
        orders: Vec::new(),
        equity_curve: Vec::with_capacity(timeline.len()),
        log: Vec::new(),
        stats: runners.iter().map(|r| (r.name.clone(), GraphStats::default())).collect(),
        warnings,
        indicators: indicators.len(),
        state: GateState { peak_equity: config.cash, vix: None, intraday: !daily },
    };
    let no_locals = BTreeMap::new();
    let mut id = 0;
    let mut prev_time: Option<NaiveDateTime> = None;
    let mut seen_log = 0;
    let mut seen: Vec<Status> = Vec::new();
    while let Some((t, current)) = timeline.step() {
        if observer.stop() {
            report.warnings.push(format!("stopped before {t}"));
            break;
        }
        id += 1;
        for (i, cur) in current.iter().enumerate() {
            if let Some((bar, true)) = cur {
                broker.on_bar(&symbols[i], bar);
                match prices.get_mut(&symbols[i]) {
                    Some(p) => *p = bar.close,
                    None => {
                        prices.insert(symbols[i].clone(), bar.close);
                    }
                }
            }
        }
        report.state.vix = prices.get("VIX").copied();
        indicators.update(current);
        let step = Step { id, bars: current, indicators: &indicators };
        // Advance every expression once at this bar, whatever runs afterwards.
        for r in &mut runners {
            let world = RunWorld { broker: &broker, prices: &prices, locals: &no_locals };
            for s in r.steps.values_mut() {
                advance(s, &step, &world);
            }
        }
        for r in &mut runners {
            // The symbols this graph fires for at this bar (`None`: not about one symbol).
            let mut fired: Vec<Option<String>> = Vec::new();
            let world = RunWorld { broker: &broker, prices: &prices, locals: &no_locals };
            for tr in &mut r.triggers {
                let hits: Vec<Option<String>> = match &mut tr.kind {
                    TriggerKindPlan::Bar(idx, length) => idx
                        .iter()
                        .filter(|i| match current.get(**i) {
                            Some(Some((bar, true))) => closes_bucket(bar.time, intervals[**i], *length),
                            _ => false,
                        })
                        .map(|i| Some(symbols[*i].clone()))
                        .collect(),
                    TriggerKindPlan::Condition(c) => {
                        if c.value(&step, &world) == Some(Value::Bool(true)) {
                            vec![tr.symbol.clone()]
                        } else {
                            vec![]
                        }
                    }
                    TriggerKindPlan::Schedule(cron, tz) => {
                        if schedule_fires(cron, *tz, t, prev_time, daily) {
                            vec![None]
                        } else {
                            vec![]
                        }
                    }
                };
                // The guard and throttles are checked in every trigger, so each counts only
                // its own firings.
                let open = !tr.market_hours || daily || crate::market::calendar::is_open(t);
                if !hits.is_empty() && open && tr.allowed(t) {
                    tr.fired.push(t);
                    fired.extend(hits);
                }
            }
            // At most once per bar per symbol, however many triggers fire.
            fired.sort();
            fired.dedup();
            let rsi: Vec<Option<f64>> = fired
                .iter()
                .map(|sym| {
                    let c = sym.as_ref().and_then(|s| rsi_of.get_mut(s))?;
                    match c.value(&step, &world) {
                        Some(Value::Num(v)) => Some(v),
                        _ => None,
                    }
                })
                .collect();
            for (symbol, rsi) in fired.iter().zip(rsi) {
                run_graph(r, &step, t, symbol.as_deref(), rsi, &mut broker, &prices, &mut report);
            }
        }
        prev_time = Some(t);
        let equity = (broker.equity_f64(&prices) * 100.0).round() / 100.0;
        report.equity_curve.push((t, equity));
        report.state.peak_equity = report.state.peak_equity.max(equity);
        if !observer.watching() {
            continue;
        }
        // Orders new at this bar, or whose status changed at it.
        let mut changed: Vec<crate::broker::Order> = Vec::new();
        if observer.wants_orders() {
            changed = broker
                .orders()
                .iter()
                .enumerate()
                .filter(|(i, o)| seen.get(*i) != Some(&o.status))
                .map(|(_, o)| o.clone())
                .collect();
            seen = broker.orders().iter().map(|o| o.status).collect();
        }
        observer.step(t, equity, &report.log[seen_log..], &changed);
        seen_log = report.log.len();
    }
    finish(&mut report, &broker, &intervals);
    // The final figure comes from the decimal books, exactly.
    report.final_equity = to_f64(broker.equity(&prices).round_dp(2));
    report.r#return = (report.final_equity / report.initial_cash - 1.0) * 100.0;
    Ok(report)
}

fn advance(s: &mut Step_, step: &Step<'_>, world: &dyn World) {
    match s {
        Step_::Expr(c) => {
            c.value(step, world);
        }
        Step_::Order(o) => {
            o.symbol.value(step, world);
            if let SizePlan::Shares(c) | SizePlan::Value(c) | SizePlan::Fraction(c, _) = &mut o.size {
                c.value(step, world);
            }
        }
        Step_::Template(parts) => {
            for p in parts {
                if let TemplatePart::Expr(c) = p {
                    c.value(step, world);
                }
            }
        }
        Step_::Cancel(c) => {
            if let Some(c) = c {
                c.value(step, world);
            }
        }
        Step_::Llm(_) | Step_::Decision { .. } | Step_::Nothing => {}
    }
}

fn next(g: &ir::Graph, from: u32, when: Option<&str>) -> Option<u32> {
    let edges = g.edges.iter().filter(|e| e.from == from);
    let mut fallback = None;
    for e in edges {
        match (&e.when, when) {
            (None, _) => fallback = fallback.or(Some(e.to)),
            (Some(w), Some(x)) if w == x => return Some(e.to),
            (Some(w), _) if w == "otherwise" => fallback = fallback.or(Some(e.to)),
            _ => {}
        }
    }
    fallback
}

#[allow(clippy::too_many_arguments)]
fn run_graph(
    r: &mut Runner,
    step: &Step<'_>,
    t: NaiveDateTime,
    symbol: Option<&str>,
    rsi: Option<f64>,
    broker: &mut PaperBroker,
    prices: &BTreeMap<String, f64>,
    report: &mut Report,
) {
    if r.graph.kind == GraphKind::Team {
        if let Some(s) = report.stats.get_mut(r.name.as_str()) {
            s.executions += 1;
        }
        run_team(r, t, symbol, rsi, broker, prices, report);
        return;
    }
    let Runner { name, graph, steps, limits, .. } = r;
    if let Some(s) = report.stats.get_mut(name.as_str()) {
        s.executions += 1;
    }
    let mut locals: BTreeMap<String, Value> = BTreeMap::new();
    let mut trigger = BTreeMap::from([
        ("kind".to_string(), Value::Text("condition".to_string())),
        ("time".to_string(), Value::Text(t.to_string())),
    ]);
    if let Some(s) = symbol {
        trigger.insert("symbol".to_string(), Value::Symbol(s.to_string()));
        trigger.insert("reason".to_string(), Value::Text(format!("fired for {s} at {t}")));
    }
    locals.insert("trigger".to_string(), Value::Record(trigger));
    let mut node = graph.start;
    for _ in 0..FUEL {
        // Lowering numbers nodes by their position; fall back to a search for any other IR.
        let found = graph
            .nodes
            .get(node as usize)
            .filter(|n| n.id == node)
            .or_else(|| graph.nodes.iter().find(|n| n.id == node));
        let Some(kind) = found.map(|n| &n.kind) else { return };
        let when: Option<std::borrow::Cow<'static, str>> = match (kind, steps.get_mut(&node)) {
            (NodeKind::End, _) => return,
            (NodeKind::Condition { .. }, Some(Step_::Expr(c))) => {
                let v = c.value(step, &RunWorld { broker, prices, locals: &locals });
                // An undefined value (an indicator still warming up) is not true.
                Some(if v == Some(Value::Bool(true)) { "true" } else { "false" }.into())
            }
            (NodeKind::Switch { .. }, Some(Step_::Expr(c))) => {
                match c.value(step, &RunWorld { broker, prices, locals: &locals }) {
                    Some(Value::Text(v)) => Some(v.into()),
                    _ => Some("".into()),
                }
            }
            (NodeKind::DataFetch { bind, .. }, Some(Step_::Expr(c))) => {
                if let Some(v) = c.value(step, &RunWorld { broker, prices, locals: &locals }) {
                    locals.insert(bind.clone(), v);
                }
                None
            }
            (NodeKind::Action { .. }, Some(Step_::Order(plan))) => {
                place(plan, limits.as_ref(), name, step, t, broker, prices, &locals, report);
                None
            }
            (NodeKind::Action { action: Action::Log { .. } | Action::Notify { .. } }, Some(Step_::Template(parts))) => {
                let world = RunWorld { broker, prices, locals: &locals };
                let message: String = parts
                    .iter_mut()
                    .map(|p| match p {
                        TemplatePart::Text(s) => s.clone(),
                        TemplatePart::Expr(c) => c.value(step, &world).map_or("?".to_string(), |v| v.to_string()),
                    })
                    .collect();
                report.log.push(LogLine { time: t, graph: name.clone(), message });
                None
            }
            (NodeKind::Llm { bind, .. }, Some(Step_::Llm(output))) => {
                let facts = facts(symbol, rsi, broker, prices);
                locals.insert(bind.clone(), crate::offline::answer(output, &facts));
                None
            }
            (NodeKind::Action { .. }, Some(Step_::Decision { from, actions })) => {
                decide(locals.get(from.as_str()), actions, symbol, limits.as_ref(), name, t, broker, prices, report);
                None
            }
            (NodeKind::Action { .. }, Some(Step_::Cancel(c))) => {
                let symbol = match c {
                    Some(c) => match c.value(step, &RunWorld { broker, prices, locals: &locals }) {
                        Some(Value::Symbol(s)) => Some(s),
                        _ => None,
                    },
                    None => None,
                };
                broker.cancel(symbol.as_deref());
                None
            }
            // The stand-in reads the market itself; a context node has nothing to build here.
            (NodeKind::Start | NodeKind::Context { .. }, _) | (NodeKind::Action { .. }, _) => None,
            (other, _) => {
                report.stats.entry(name.clone()).or_default().failed += 1;
                report.log.push(LogLine {
                    time: t,
                    graph: name.clone(),
                    message: format!("failed: cannot run a {other:?} node in a backtest"),
                });
                return;
            }
        };
        match next(graph, node, when.as_deref()) {
            Some(n) => node = n,
            None => return,
        }
    }
    report.stats.entry(name.clone()).or_default().failed += 1;
    report.log.push(LogLine { time: t, graph: name.clone(), message: format!("failed: more than {FUEL} steps") });
}

#[allow(clippy::too_many_arguments)]
fn place(
    plan: &mut OrderPlan,
    limits: Option<&Limits>,
    graph: &str,
    step: &Step<'_>,
    t: NaiveDateTime,
    broker: &mut PaperBroker,
    prices: &BTreeMap<String, f64>,
    locals: &BTreeMap<String, Value>,
    report: &mut Report,
) {
    let world = RunWorld { broker, prices, locals };
    let Some(Value::Symbol(symbol)) = plan.symbol.value(step, &world) else { return };
    let price = prices.get(&symbol).copied().unwrap_or(0.0);
    let held = broker.position(&symbol).map_or(0, |p| p.qty);
    let num = |c: &mut Compiled| match c.value(step, &world) {
        Some(Value::Num(v)) if v.is_finite() => Some(v),
        _ => None,
    };
    let qty: Option<f64> = match &mut plan.size {
        SizePlan::All => Some(held as f64),
        SizePlan::Shares(c) => num(c),
        SizePlan::Value(c) => num(c).filter(|_| price > 0.0).map(|v| v / price),
        SizePlan::Fraction(c, of) => num(c).map(|pct| {
            let share = pct / 100.0;
            match of.as_str() {
                "position" => share * held as f64,
                "cash" => share * world.portfolio().cash / price.max(f64::MIN_POSITIVE),
                _ => share * world.portfolio().total_value / price.max(f64::MIN_POSITIVE),
            }
        }),
    };
    let equity = world.portfolio().total_value;
    let cash = world.portfolio().cash;
    let Some(qty) = qty.map(|q| q.floor()).filter(|q| *q >= 1.0) else {
        report.log.push(LogLine {
            time: t,
            graph: graph.to_string(),
            message: format!("no order: the size for {symbol} is under one share"),
        });
        return;
    };
    let qty = qty.min(1e12) as u64;
    let side = plan.side;
    let price_of = |c: &mut Option<Compiled>| match c.as_mut().map(|c| c.value(step, &world)) {
        Some(Some(Value::Num(v))) if v.is_finite() && v > 0.0 => Some(v),
        _ => None,
    };
    let (limit, stop) = (price_of(&mut plan.limit), price_of(&mut plan.stop));
    let kind = match (limit, stop) {
        (Some(limit), Some(stop)) => Kind::StopLimit { stop, limit, triggered: false },
        (Some(limit), None) => Kind::Limit { limit },
        (None, Some(stop)) => Kind::Stop { stop },
        (None, None) => Kind::Market,
    };
    // Protective orders: the order's own, else those of the limits in force (buys only).
    let (stop_loss, take_profit) = if side == Side::Buy {
        (
            price_of(&mut plan.stop_loss).or(limits.and_then(|l| l.stop_loss)),
            price_of(&mut plan.take_profit).or(limits.and_then(|l| l.take_profit)),
        )
    } else {
        (None, None)
    };
    let request = Request {
        time: t,
        symbol: symbol.clone(),
        side,
        qty,
        kind,
        tif: plan.tif,
        stop_loss,
        take_profit,
        by: graph.to_string(),
    };
    submit(request, limits, price, held, equity, cash, broker, report);
}

/// What the offline stand-in sees about the trigger's symbol and the account.
fn facts(
    symbol: Option<&str>,
    rsi: Option<f64>,
    broker: &PaperBroker,
    prices: &BTreeMap<String, f64>,
) -> crate::offline::Facts {
    let locals = BTreeMap::new();
    let portfolio = RunWorld { broker, prices, locals: &locals }.portfolio();
    crate::offline::Facts {
        symbol: symbol.map(str::to_string),
        rsi,
        price: symbol.and_then(|s| prices.get(s)).copied().unwrap_or(0.0),
        equity: portfolio.total_value,
        cash: portfolio.cash,
        held: symbol.and_then(|s| broker.position(s)).map_or(0, |p| p.qty),
    }
}

/// Runs a team: members answer (the offline stand-in in backtests), the mode combines their
/// answers (a pipeline that stops on `hold`, a vote, a supervisor, a debate), and the result is
/// executed like an agent's decision.
fn run_team(
    r: &Runner,
    t: NaiveDateTime,
    symbol: Option<&str>,
    rsi: Option<f64>,
    broker: &mut PaperBroker,
    prices: &BTreeMap<String, f64>,
    report: &mut Report,
) {
    let facts = facts(symbol, rsi, broker, prices);
    let ask = |agent: &str| r.members.get(agent).map(|out| crate::offline::answer(out, &facts));
    let log =
        |report: &mut Report, message: String| report.log.push(LogLine { time: t, graph: r.name.clone(), message });
    let mut answers: BTreeMap<String, Value> = BTreeMap::new();
    let mut nodes: Vec<&ir::Node> = r.graph.nodes.iter().collect();
    nodes.sort_by_key(|n| n.id);
    for n in nodes {
        match &n.kind {
            NodeKind::AgentCall { agent, bind } => {
                let Some(answer) = ask(agent) else {
                    log(report, format!("failed: member `{agent}` has no answer type"));
                    return;
                };
                let holds =
                    matches!(&answer, Value::Record(f) if f.get("decision") == Some(&Value::Text("hold".into())));
                answers.insert(bind.clone(), answer);
                let stops_on_hold = r.graph.edges.iter().any(|e| e.from == n.id && e.when.as_deref() == Some("hold"));
                if holds && stops_on_hold {
                    log(report, format!("{agent} holds; the pipeline stops"));
                    return;
                }
            }
            NodeKind::Vote { rule, members } => {
                let v = vote(rule, members.iter().filter_map(|m| answers.get(m)).collect());
                answers.insert("vote".into(), v);
            }
            NodeKind::Supervise { agent, .. } => {
                if let Some(a) = ask(agent) {
                    answers.insert(agent.clone(), a);
                }
            }
            NodeKind::Debate { members, fallback, .. } => {
                let said: Vec<Value> = members.iter().filter_map(|m| ask(m)).collect();
                answers.insert("debate".into(), vote(fallback, said.iter().collect()));
            }
            NodeKind::Action { action: Action::ExecuteDecision { from, actions } } => {
                decide(answers.get(from), actions, symbol, r.limits.as_ref(), &r.name, t, broker, prices, report);
            }
            _ => {}
        }
    }
}

/// Combines members' decisions: `majority` (most votes), `unanimous` (all agree) or `weighted`
/// (by confidence); a tie, or no agreement, is `hold`.
fn vote(rule: &str, answers: Vec<&Value>) -> Value {
    let mut score: BTreeMap<String, f64> = BTreeMap::new();
    let mut first: BTreeMap<String, &BTreeMap<String, Value>> = BTreeMap::new();
    for a in &answers {
        let Value::Record(f) = a else { continue };
        let Some(Value::Text(d)) = f.get("decision") else { continue };
        let weight = match (rule, f.get("confidence")) {
            ("weighted", Some(Value::Num(c))) => *c,
            _ => 1.0,
        };
        *score.entry(d.clone()).or_default() += weight;
        first.entry(d.clone()).or_insert(f);
    }
    let best = score.values().copied().fold(f64::MIN, f64::max);
    let leaders: Vec<&String> = score.iter().filter(|(_, s)| **s == best).map(|(d, _)| d).collect();
    let winner = match (rule, leaders.as_slice()) {
        ("unanimous", [d]) if score.len() == 1 => Some((*d).clone()),
        ("unanimous", _) => None,
        (_, [d]) => Some((*d).clone()),
        _ => None,
    };
    let tally = score.iter().map(|(d, s)| format!("{d} {s}")).collect::<Vec<_>>().join(", ");
    match winner.as_ref().and_then(|w| first.get(w)) {
        Some(f) if winner.as_deref() != Some("hold") => {
            let mut out = (*f).clone();
            out.insert("reasoning".into(), Value::Text(format!("{rule} vote ({tally})")));
            Value::Record(out)
        }
        _ => Value::Record(BTreeMap::from([
            ("decision".to_string(), Value::Text("hold".into())),
            ("reasoning".to_string(), Value::Text(format!("{rule} vote ({tally}): hold"))),
        ])),
    }
}

/// Sends an order through the risk gate to the broker, recording a refusal.
#[allow(clippy::too_many_arguments)]
fn submit(
    request: Request,
    limits: Option<&Limits>,
    price: f64,
    held: u64,
    equity: f64,
    cash: f64,
    broker: &mut PaperBroker,
    report: &mut Report,
) {
    let stats = report.stats.entry(request.by.clone()).or_default();
    stats.orders += 1;
    let checked = gate(limits, &request, price, held, equity, cash, report.state, broker);
    if let Err(why) = checked {
        stats.refused += 1;
        broker.refuse(request, why);
        return;
    }
    broker.place(request);
}

/// Turns a model's decision into an order. What the model wrote is checked here, then by the
/// risk gate: an unknown action, symbol or size is a rejection with its reason, never a guess.
#[allow(clippy::too_many_arguments)]
fn decide(
    decision: Option<&Value>,
    actions: &[String],
    trigger_symbol: Option<&str>,
    limits: Option<&Limits>,
    graph: &str,
    t: NaiveDateTime,
    broker: &mut PaperBroker,
    prices: &BTreeMap<String, f64>,
    report: &mut Report,
) {
    let log =
        |report: &mut Report, message: String| report.log.push(LogLine { time: t, graph: graph.to_string(), message });
    let Some(Value::Record(d)) = decision else {
        log(report, "rejected: no decision to act on".to_string());
        return;
    };
    let reasoning = match d.get("reasoning") {
        Some(Value::Text(r)) => r.clone(),
        _ => String::new(),
    };
    let action = match d.get("decision") {
        Some(Value::Text(a)) => a.as_str(),
        _ => "hold",
    };
    if action == "hold" {
        log(report, format!("hold: {reasoning}"));
        return;
    }
    let side = match action {
        "buy" => Side::Buy,
        "sell" => Side::Sell,
        other => {
            log(report, format!("rejected: `{other}` is not an action"));
            return;
        }
    };
    if !actions.iter().any(|a| a == action) {
        log(report, format!("rejected: `{action}` is not among the agent's actions"));
        return;
    }
    let symbol = match d.get("symbol") {
        Some(Value::Symbol(s)) if !s.is_empty() => s.clone(),
        _ => match trigger_symbol {
            Some(s) => s.to_string(),
            None => {
                log(report, "rejected: the decision names no symbol".to_string());
                return;
            }
        },
    };
    let Some(&price) = prices.get(&symbol) else {
        log(report, format!("rejected: no price for `{symbol}`"));
        return;
    };
    let qty = match d.get("quantity") {
        Some(Value::Num(q)) if q.is_finite() && *q >= 1.0 && q.fract() == 0.0 && *q <= 1e9 => *q as u64,
        other => {
            log(report, format!("rejected: quantity {other:?} is not a whole number of shares between 1 and 1e9"));
            return;
        }
    };
    let kind = match (d.get("order_type"), d.get("limit_price")) {
        (Some(Value::Text(o)), Some(Value::Num(l))) if o == "limit" && *l > 0.0 => Kind::Limit { limit: *l },
        _ => Kind::Market,
    };
    log(report, format!("{action} {qty} {symbol}: {reasoning}"));
    let locals = BTreeMap::new();
    let world = RunWorld { broker, prices, locals: &locals };
    let portfolio = world.portfolio();
    let held = broker.position(&symbol).map_or(0, |p| p.qty);
    let request = Request {
        time: t,
        symbol,
        side,
        qty,
        kind,
        tif: Tif::Day,
        stop_loss: if side == Side::Buy { limits.and_then(|l| l.stop_loss) } else { None },
        take_profit: if side == Side::Buy { limits.and_then(|l| l.take_profit) } else { None },
        by: graph.to_string(),
    };
    submit(request, limits, price, held, portfolio.total_value, portfolio.cash, broker, report);
}

/// Calls `f` on `e` and every expression inside it.
fn visit(e: &Expr, f: &mut impl FnMut(&Expr)) {
    f(e);
    match e {
        Expr::Call { args, .. } => args.iter().for_each(|a| visit(a, f)),
        Expr::List { items } => items.iter().for_each(|a| visit(a, f)),
        Expr::Field { base, .. } => visit(base, f),
        Expr::Not { operand } | Expr::Neg { operand } => visit(operand, f),
        Expr::Binary { lhs, rhs, .. } => {
            visit(lhs, f);
            visit(rhs, f);
        }
        _ => {}
    }
}

/// The universes an expression ranges over.
fn universes_in(e: &Expr, out: &mut std::collections::BTreeSet<String>) {
    visit(e, &mut |x| {
        if let Expr::Universe { name } = x {
            out.insert(name.clone());
        }
    });
}

/// The tickers an expression names.
fn symbols_in(e: &Expr, out: &mut std::collections::BTreeSet<String>) {
    visit(e, &mut |x| {
        if let Expr::Symbol { value } = x {
            out.insert(value.clone());
        }
    });
}

/// `e` with the universe `u` replaced by the ticker `sym`.
fn substitute(e: &Expr, u: &str, sym: &str) -> Expr {
    let sub = |x: &Expr| Box::new(substitute(x, u, sym));
    match e {
        Expr::Universe { name } if name == u => Expr::Symbol { value: sym.to_string() },
        Expr::Call { func, args } => {
            Expr::Call { func: func.clone(), args: args.iter().map(|a| substitute(a, u, sym)).collect() }
        }
        Expr::List { items } => Expr::List { items: items.iter().map(|a| substitute(a, u, sym)).collect() },
        Expr::Field { base, name } => Expr::Field { base: sub(base), name: name.clone() },
        Expr::Not { operand } => Expr::Not { operand: sub(operand) },
        Expr::Neg { operand } => Expr::Neg { operand: sub(operand) },
        Expr::Binary { op, lhs, rhs } => Expr::Binary { op: op.clone(), lhs: sub(lhs), rhs: sub(rhs) },
        other => other.clone(),
    }
}

/// The risk gate: every order passes it, whoever decided it.
#[allow(clippy::too_many_arguments)]
fn gate(
    limits: Option<&Limits>,
    request: &Request,
    price: f64,
    held: u64,
    equity: f64,
    cash: f64,
    state: GateState,
    broker: &PaperBroker,
) -> Result<(), String> {
    let (graph, side, symbol, qty, t) = (&request.by, request.side, &request.symbol, request.qty, request.time);
    let value = qty as f64 * price;
    if side == Side::Sell && qty > held {
        return Err(format!("sells {qty} {symbol} but holds {held}"));
    }
    if side == Side::Buy && value > cash {
        return Err(format!("needs {value:.2} but buying power is {cash:.2}"));
    }
    let Some(l) = limits else { return Ok(()) };
    if l.block.iter().any(|s| s == symbol) {
        return Err(format!("{symbol} is blocked by the limits"));
    }
    if let Some(allow) = &l.allow
        && !allow.iter().any(|s| s == symbol)
    {
        return Err(format!("{symbol} is not in the allowed symbols"));
    }
    if side == Side::Buy {
        if let Some(max) = l.max_position
            && (held + qty) as f64 * price > max
        {
            return Err(format!(
                "position would be worth {:.2}, over max_position {max:.2}",
                (held + qty) as f64 * price
            ));
        }
        if let Some(pct) = l.max_allocation
            && value > pct / 100.0 * equity + 1e-9
        {
            return Err(format!("order worth {value:.2} is over max_allocation {pct}% of {equity:.2}"));
        }
    }
    if l.market_hours_only && state.intraday && !crate::market::calendar::is_open(t) {
        return Err(format!("the market is closed at {t} and the limits trade only in market hours"));
    }
    if side == Side::Buy {
        let drawdown = if state.peak_equity > 0.0 { (1.0 - equity / state.peak_equity) * 100.0 } else { 0.0 };
        if let Some(max) = l.max_drawdown
            && drawdown > max
        {
            return Err(format!("drawdown {drawdown:.1}% is over max_drawdown {max}%: buying paused"));
        }
        if let (Some(max), Some(vix)) = (l.max_vix, state.vix)
            && vix > max
        {
            return Err(format!("VIX {vix:.1} is over max_vix {max}: buying paused"));
        }
    }
    if let Some(max) = l.max_daily_trades {
        let today = broker
            .orders()
            .iter()
            .filter(|o| o.by == *graph && o.time.date() == t.date() && o.status != Status::Rejected)
            .count() as u64;
        if today >= max {
            return Err(format!("max_daily_trades {max} reached"));
        }
    }
    Ok(())
}

fn finish(report: &mut Report, broker: &PaperBroker, intervals: &[i64]) {
    report.orders = broker.orders().to_vec();
    let last = report.equity_curve.last().map_or(report.initial_cash, |(_, e)| *e);
    report.final_equity = last;
    report.r#return = (last / report.initial_cash - 1.0) * 100.0;
    let mut peak = f64::MIN;
    for (_, e) in &report.equity_curve {
        peak = peak.max(*e);
        if peak > 0.0 {
            report.max_drawdown = report.max_drawdown.max((1.0 - e / peak) * 100.0);
        }
    }
    let rets: Vec<f64> =
        report.equity_curve.windows(2).filter(|w| w[0].1 > 0.0).map(|w| w[1].1 / w[0].1 - 1.0).collect();
    if rets.len() > 1 {
        let mean = rets.iter().sum::<f64>() / rets.len() as f64;
        let sd = (rets.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / (rets.len() - 1) as f64).sqrt();
        let interval = intervals.iter().copied().min().unwrap_or(86_400).max(1);
        let per_year = if interval >= 20 * 3600 { 252.0 } else { 252.0 * 23_400.0 / interval as f64 };
        report.sharpe = (sd > 0.0).then(|| mean / sd * per_year.sqrt());
    }
    let trades = &broker.closed_trades;
    if !trades.is_empty() {
        let wins = trades.iter().filter(|p| **p > dec(0.0)).count();
        report.win_rate = Some(wins as f64 / trades.len() as f64 * 100.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(decision: &str, confidence: f64) -> Value {
        Value::Record(BTreeMap::from([
            ("decision".to_string(), Value::Text(decision.to_string())),
            ("confidence".to_string(), Value::Num(confidence)),
        ]))
    }

    fn decision(v: &Value) -> &str {
        match v {
            Value::Record(f) => match f.get("decision") {
                Some(Value::Text(d)) => d.as_str(),
                _ => "",
            },
            _ => "",
        }
    }

    #[test]
    fn vote_rules() {
        let (b, s, h) = (said("buy", 0.9), said("sell", 0.3), said("hold", 0.4));
        assert_eq!(decision(&vote("majority", vec![&b, &b, &s])), "buy");
        assert_eq!(decision(&vote("majority", vec![&b, &s])), "hold", "a tie holds");
        assert_eq!(decision(&vote("unanimous", vec![&b, &b, &s])), "hold");
        assert_eq!(decision(&vote("unanimous", vec![&b, &b])), "buy");
        // Weighted: one confident buy (0.9) outweighs two doubtful sells (0.3 + 0.3).
        assert_eq!(decision(&vote("weighted", vec![&b, &s, &s])), "buy");
        assert_eq!(decision(&vote("majority", vec![&b, &h, &h])), "hold");
    }
}
