//! The trigger manager: every trigger of a program, indexed by what wakes it, so a step visits
//! only the triggers of the symbols whose bars closed (and the schedules).
//!
//! - threshold conditions on one watched value (`price(AAPL) > $200`, `rsi(AAPL, 14) < 30`,
//!   `change(AAPL, 1d) crosses below -3%`) sit in a sorted [`index::Thresholds`] per value;
//! - any other condition is evaluated when a symbol it reads closes a bar (or at every step
//!   when it reads no symbol);
//! - `bar(…)` triggers fire at the last bar of each interval; schedules when their next
//!   occurrence falls within the step; news triggers on matching articles.
//!
//! Every trigger then passes its market-hours guard and its own throttles.

pub mod index;
mod schedule;
mod throttle;

use crate::expr::{Compiled, Env, Market, Node, World};
use crate::news::{Article, Filter};
use chrono::NaiveDateTime;
use index::{Cmp, Thresholds};
pub use schedule::Schedule;
use std::collections::BTreeMap;
pub use throttle::Throttle;

/// What wakes a trigger.
pub enum Kind {
    /// A threshold condition, kept in the index.
    Threshold,
    /// Any other condition.
    Condition(Compiled),
    /// The close of each `length`-second bar of the trigger's symbol.
    Bar {
        length: i64,
    },
    Schedule(Box<Schedule>),
    News(Filter),
}

/// One trigger of one graph (a trigger over a universe is one per member symbol).
pub struct Trigger {
    pub graph: u32,
    pub symbol: Option<usize>,
    /// `condition`, `bar`, `schedule` or `news`.
    pub kind_name: &'static str,
    /// How the file wrote it, for the reason recorded with each firing.
    pub text: String,
    /// Its place among its graph's triggers in the file (the id the service enables it by).
    pub declared: u32,
    kind: Kind,
    throttle: Throttle,
    market_hours: bool,
}

/// A trigger that fired at this step.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Fired {
    pub graph: u32,
    pub trigger: u32,
    pub symbol: Option<u32>,
    /// The article (its index in the step's articles), for news triggers.
    pub article: Option<u32>,
}

/// A watched value: a field of a symbol's bar or an indicator slot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Source {
    Bar(u32, u8),
    Slot(u32),
}

/// What a symbol's closed bar wakes.
#[derive(Debug, Clone, Default)]
struct BySymbol {
    /// Watched values (indexes into `sources`).
    sources: Vec<usize>,
    conditions: Vec<u32>,
    /// `bar(…)` triggers: `(trigger, length in seconds)`.
    bars: Vec<(u32, i64)>,
}

impl BySymbol {
    fn is_empty(&self) -> bool {
        self.sources.is_empty() && self.conditions.is_empty() && self.bars.is_empty()
    }
}

/// What admitting a candidate needs, packed apart from the rest of the trigger.
#[derive(Debug, Clone, Copy)]
struct Admission {
    graph: u32,
    symbol: Option<u32>,
    market_hours: bool,
    throttled: bool,
    /// For a throttled trigger, the earliest time (seconds) its throttle could allow a firing:
    /// candidates before it are refused without reading the throttle.
    opens_at: i64,
}

/// The thresholds on one watched value. A trigger with neither a throttle nor a market-hours
/// guard needs no admitting, so its thresholds hand out its firing ready made; the others hand
/// out their ids, which go through [`Triggers::admit`].
struct Watched {
    source: Source,
    admitted: Thresholds<u32>,
    free: Thresholds<Fired>,
}

#[derive(Default)]
pub struct Triggers {
    triggers: Vec<Trigger>,
    admission: Vec<Admission>,
    sources: Vec<Watched>,
    source_keys: BTreeMap<Source, usize>,
    by_symbol: Vec<BySymbol>,
    conditions_every_step: Vec<u32>,
    schedules: Vec<u32>,
    news: Vec<u32>,
    /// The step at which each condition was last evaluated (a condition on several symbols is
    /// evaluated once per step).
    evaluated: Vec<u64>,
    step: u64,
    candidates: Vec<u32>,
    /// Per symbol: nothing it wakes can fire on a bar stamped before this (its only triggers
    /// are `bar(…)` ones, and their next interval does not end sooner); `None`: any bar may.
    quiet_until: Vec<Option<NaiveDateTime>>,
    /// The session close of the last day asked about (`None`: the exchange was closed).
    session: Option<(chrono::NaiveDate, Option<chrono::NaiveTime>)>,
    /// Per trigger: the day a day-long `bar(…)` trigger last fired (once a session).
    fired_on: Vec<Option<chrono::NaiveDate>>,
    /// Per trigger: how many of its periods (sessions, or weeks for week-long bars) have ended.
    periods: Vec<u32>,
    /// Days the exchange was closed on which bars came: no trigger fires on their bars.
    pub closed_days: Vec<chrono::NaiveDate>,
    /// The place among its graph's triggers of the trigger being added (set before each).
    pub declaring: u32,
}

/// A constant the compiler left as a tree (`-3%` is a negation of 3).
fn constant(n: &Node) -> Option<f64> {
    match n {
        Node::Num(v) => Some(*v),
        Node::Neg(x) => constant(x).map(|v| -v),
        _ => None,
    }
}

fn source(n: &Node, market: &Market) -> Option<(Source, usize)> {
    match n {
        Node::Bar(sym, field) => Some((Source::Bar(*sym, *field as u8), *sym as usize)),
        Node::Slot(s) => Some((Source::Slot(*s), market.series.symbol_of(*s)?)),
        _ => None,
    }
}

/// `value cmp constant` (either way round) or `value crosses above/below constant`.
fn threshold(n: &Node, market: &Market) -> Option<(Source, usize, Cmp, f64)> {
    use crate::expr::BinOp;
    match n {
        Node::Bin(op, a, b) if op.is_comparison() => {
            let cmp = |op: BinOp, flip: bool| match (op, flip) {
                (BinOp::Lt, false) | (BinOp::Gt, true) => Cmp::Lt,
                (BinOp::Le, false) | (BinOp::Ge, true) => Cmp::Le,
                (BinOp::Gt, false) | (BinOp::Lt, true) => Cmp::Gt,
                _ => Cmp::Ge,
            };
            if let (Some((src, sym)), Some(c)) = (source(a, market), constant(b)) {
                return Some((src, sym, cmp(*op, false), c));
            }
            if let (Some(c), Some((src, sym))) = (constant(a), source(b, market)) {
                return Some((src, sym, cmp(*op, true), c));
            }
            None
        }
        Node::Cross { id, above } => {
            let (a, b) = market.crossing_operands(*id)?;
            let (src, sym) = source(a, market)?;
            let c = constant(b)?;
            Some((src, sym, if *above { Cmp::CrossAbove } else { Cmp::CrossBelow }, c))
        }
        _ => None,
    }
}

impl Triggers {
    pub fn new(symbols: usize) -> Triggers {
        Triggers {
            by_symbol: vec![BySymbol::default(); symbols],
            quiet_until: vec![None; symbols],
            ..Triggers::default()
        }
    }

    pub fn len(&self) -> usize {
        self.triggers.len()
    }

    pub fn is_empty(&self) -> bool {
        self.triggers.is_empty()
    }

    pub fn get(&self, id: u32) -> &Trigger {
        &self.triggers[id as usize]
    }

    /// Whether nothing can fire at a step where these bars closed: no schedule, news or
    /// every-step condition, and each symbol quiet until later than its bar. The engine then
    /// skips [`Triggers::step`].
    #[inline]
    pub fn idle(&self, closed: &[(usize, crate::market::Bar)]) -> bool {
        closed.iter().all(|(s, b)| self.quiet_before(*s).is_some_and(|until| b.time < until))
    }

    /// The time before which nothing can fire at a step where only `symbol` closes a bar, as
    /// the last [`Triggers::step`] left it (`NaiveDateTime::MAX`: never); `None` when something
    /// may fire at any step.
    #[inline]
    pub fn quiet_before(&self, symbol: usize) -> Option<NaiveDateTime> {
        if !(self.schedules.is_empty() && self.news.is_empty() && self.conditions_every_step.is_empty()) {
            return None;
        }
        match self.quiet_until.get(symbol) {
            Some(Some(until)) => Some(*until),
            Some(None) => self.by_symbol.get(symbol).is_none_or(|w| w.is_empty()).then_some(NaiveDateTime::MAX),
            None => Some(NaiveDateTime::MAX),
        }
    }

    /// Whether a step where these bars closed evaluates conditions (which may read the
    /// portfolio, so need the world); thresholds, bars and schedules do not.
    #[inline]
    pub fn reads_world(&self, closed: &[(usize, crate::market::Bar)]) -> bool {
        !self.conditions_every_step.is_empty()
            || closed.iter().any(|(s, _)| self.by_symbol.get(*s).is_some_and(|w| !w.conditions.is_empty()))
    }

    /// Whether any trigger waits for news.
    pub fn has_news(&self) -> bool {
        !self.news.is_empty()
    }

    /// How many triggers sit in the threshold index.
    pub fn indexed(&self) -> usize {
        self.sources.iter().map(|w| w.admitted.len() + w.free.len()).sum()
    }

    /// Adds a condition trigger; a threshold on one value goes into the index.
    #[allow(clippy::too_many_arguments)]
    pub fn add_condition(
        &mut self,
        graph: u32,
        symbol: Option<usize>,
        text: String,
        condition: Compiled,
        throttles: &[(u32, u64)],
        market_hours: bool,
        market: &Market,
    ) {
        let id = self.triggers.len() as u32;
        let kind = match threshold(condition.node(), market) {
            Some((src, sym, cmp, c)) => {
                let at = *self.source_keys.entry(src).or_insert_with(|| {
                    self.sources.push(Watched { source: src, admitted: Thresholds::new(), free: Thresholds::new() });
                    self.by_symbol[sym].sources.push(self.sources.len() - 1);
                    self.sources.len() - 1
                });
                let w = &mut self.sources[at];
                if throttles.is_empty() && !market_hours {
                    let fired = Fired { graph, trigger: id, symbol: symbol.map(|s| s as u32), article: None };
                    w.free.add(cmp, c, fired);
                } else {
                    w.admitted.add(cmp, c, id);
                }
                Kind::Threshold
            }
            None => {
                let mut syms = Vec::new();
                let mut every_step = false;
                condition.node().visit(&mut |n| match n {
                    Node::Bar(s, _) => syms.push(*s as usize),
                    Node::Slot(s) | Node::Flag(s) | Node::Multi(s, _) => {
                        if let Some(sym) = market.series.symbol_of(*s) {
                            syms.push(sym);
                        }
                    }
                    Node::Cross { id, .. } => syms.extend(market.crossing_symbols(*id)),
                    Node::Holding(_)
                    | Node::Position(..)
                    | Node::Portfolio(_)
                    | Node::News(..)
                    | Node::Clock(_)
                    | Node::Local(_)
                    | Node::Global(_)
                    | Node::PerSymbol(..) => every_step = true,
                    _ => {}
                });
                syms.sort_unstable();
                syms.dedup();
                if every_step || syms.is_empty() {
                    self.conditions_every_step.push(id);
                } else {
                    for s in syms {
                        self.by_symbol[s].conditions.push(id);
                    }
                }
                Kind::Condition(condition)
            }
        };
        self.push(graph, symbol, "condition", text, kind, throttles, market_hours);
    }

    #[allow(clippy::too_many_arguments)]
    pub fn add_bar(
        &mut self,
        graph: u32,
        symbol: usize,
        length: i64,
        text: String,
        throttles: &[(u32, u64)],
        market_hours: bool,
    ) {
        self.by_symbol[symbol].bars.push((self.triggers.len() as u32, length));
        self.push(graph, Some(symbol), "bar", text, Kind::Bar { length }, throttles, market_hours);
    }

    pub fn add_schedule(
        &mut self,
        graph: u32,
        s: Schedule,
        text: String,
        throttles: &[(u32, u64)],
        market_hours: bool,
    ) {
        self.schedules.push(self.triggers.len() as u32);
        self.push(graph, None, "schedule", text, Kind::Schedule(Box::new(s)), throttles, market_hours);
    }

    pub fn add_news(&mut self, graph: u32, filter: Filter, text: String, throttles: &[(u32, u64)], market_hours: bool) {
        self.news.push(self.triggers.len() as u32);
        self.push(graph, None, "news", text, Kind::News(filter), throttles, market_hours);
    }

    #[allow(clippy::too_many_arguments)]
    fn push(
        &mut self,
        graph: u32,
        symbol: Option<usize>,
        kind_name: &'static str,
        text: String,
        kind: Kind,
        throttles: &[(u32, u64)],
        market_hours: bool,
    ) {
        self.admission.push(Admission {
            graph,
            symbol: symbol.map(|s| s as u32),
            market_hours,
            throttled: !throttles.is_empty(),
            opens_at: i64::MIN,
        });
        self.triggers.push(Trigger {
            graph,
            symbol,
            kind_name,
            text,
            declared: self.declaring,
            kind,
            throttle: Throttle::new(throttles),
            market_hours,
        });
        self.evaluated.push(0);
        self.fired_on.push(None);
        self.periods.push(0);
    }

    /// Sorts the index; call once after the last trigger is added.
    pub fn seal(&mut self) {
        for w in &mut self.sources {
            w.admitted.seal();
            w.free.seal();
        }
    }

    /// The triggers that fire at this step, in a fixed order, after their guards and throttles.
    #[allow(clippy::too_many_arguments)]
    #[inline]
    pub fn step(
        &mut self,
        t: NaiveDateTime,
        prev: Option<NaiveDateTime>,
        closed: &[(usize, crate::market::Bar)],
        articles: &[Article],
        env: &Env<'_>,
        world: &dyn World,
        intervals: &[i64],
        daily: bool,
        out: &mut Vec<Fired>,
    ) {
        self.step += 1;
        let mut candidates = std::mem::take(&mut self.candidates);
        candidates.clear();
        for (sym, bar) in closed {
            if session_close(&mut self.session, bar.time.date()).is_none() {
                // A bar on a day the exchange was closed is reported, never traded on.
                let day = bar.time.date();
                if self.closed_days.last() != Some(&day) {
                    self.closed_days.push(day);
                }
                if let Some(q) = self.quiet_until.get_mut(*sym) {
                    *q = None;
                }
                continue;
            }
            let Some(wakes) = self.by_symbol.get(*sym).filter(|w| !w.is_empty()) else { continue };
            let conditions = !wakes.conditions.is_empty();
            if !wakes.sources.is_empty() {
                Self::scan(&wakes.sources, &mut self.sources, bar, env, &mut candidates, out);
            }
            let only_bars = wakes.sources.is_empty() && !conditions;
            let mut next: Option<NaiveDateTime> = None;
            for &(id, length) in &wakes.bars {
                let interval = intervals[*sym];
                match closes_bucket(&mut self.session, bar.time, interval, length) {
                    Close::Fires if length >= 86_400 => {
                        // One firing a session at most, at its last bar; a longer bar closes
                        // at the last session of its days or weeks.
                        let (i, day) = (id as usize, bar.time.date());
                        if self.fired_on.get(i).is_some_and(|d| *d != Some(day)) {
                            self.fired_on[i] = Some(day);
                            if closes_period(&mut self.periods[i], day, length) {
                                candidates.push(id);
                            }
                        }
                    }
                    Close::Fires => candidates.push(id),
                    Close::Not | Close::ExchangeClosed => {}
                }
                if only_bars {
                    let at = next_bucket_close(&mut self.session, bar.time, interval, length);
                    next = match (next, at) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (_, at) => at,
                    };
                }
            }
            self.quiet_until[*sym] = if only_bars { next } else { None };
            if conditions {
                self.evaluate(*sym, env, world, &mut candidates);
            }
        }
        let open_day = session_close(&mut self.session, t.date()).is_some();
        for &id in self.conditions_every_step.iter().filter(|_| open_day) {
            if let Kind::Condition(c) = &self.triggers[id as usize].kind
                && c.is_true(env, world)
            {
                candidates.push(id);
            }
        }
        for &id in &self.schedules {
            if let Kind::Schedule(s) = &mut self.triggers[id as usize].kind
                && s.fires(t, prev, daily)
            {
                candidates.push(id);
            }
        }
        if !candidates.is_empty() || !articles.is_empty() {
            self.admit(t, &candidates, articles, env, daily, out);
        }
        self.candidates = candidates;
    }

    /// Feeds the watched values of a symbol's bar to their thresholds.
    #[inline(never)]
    fn scan(
        at: &[usize],
        sources: &mut [Watched],
        bar: &crate::market::Bar,
        env: &Env<'_>,
        candidates: &mut Vec<u32>,
        out: &mut Vec<Fired>,
    ) {
        for &i in at {
            let w = &mut sources[i];
            let v = match w.source {
                Source::Bar(_, field) => match field {
                    0 => bar.open,
                    1 => bar.high,
                    2 => bar.low,
                    3 => bar.close,
                    _ => bar.volume,
                },
                Source::Slot(s) => env.series.raw(s),
            };
            w.admitted.update(v, candidates);
            w.free.update(v, out);
        }
    }

    /// Evaluates the conditions a symbol's bar wakes (each at most once a step).
    #[inline(never)]
    fn evaluate(&mut self, sym: usize, env: &Env<'_>, world: &dyn World, candidates: &mut Vec<u32>) {
        for &id in &self.by_symbol[sym].conditions {
            if std::mem::replace(&mut self.evaluated[id as usize], self.step) != self.step
                && let Kind::Condition(c) = &self.triggers[id as usize].kind
                && c.is_true(env, world)
            {
                candidates.push(id);
            }
        }
    }

    /// Passes the candidates, and the news triggers an article matches, through their
    /// market-hours guards and throttles.
    #[inline(never)]
    fn admit(
        &mut self,
        t: NaiveDateTime,
        candidates: &[u32],
        articles: &[Article],
        env: &Env<'_>,
        daily: bool,
        out: &mut Vec<Fired>,
    ) {
        let secs = t.and_utc().timestamp();
        let mut open: Option<bool> = None;
        let mut in_hours = |market_hours: bool| {
            !market_hours || daily || *open.get_or_insert_with(|| crate::market::calendar::is_open(t))
        };
        for &id in candidates {
            let a = &mut self.admission[id as usize];
            if !in_hours(a.market_hours) || secs < a.opens_at {
                continue;
            }
            if a.throttled {
                let throttle = &mut self.triggers[id as usize].throttle;
                let allowed = throttle.try_fire(secs);
                a.opens_at = throttle.opens_at(secs);
                if !allowed {
                    continue;
                }
            }
            out.push(Fired { graph: a.graph, trigger: id, symbol: a.symbol, article: None });
        }
        for (i, a) in articles.iter().enumerate() {
            for &id in &self.news {
                let tr = &mut self.triggers[id as usize];
                let hit = matches!(&tr.kind, Kind::News(f) if f.matches(a));
                if hit && in_hours(tr.market_hours) && tr.throttle.try_fire(secs) {
                    let symbol = env.symbols.iter().position(|s| *s == a.symbol).map(|s| s as u32);
                    out.push(Fired { graph: tr.graph, trigger: id, symbol, article: Some(i as u32) });
                }
            }
        }
    }
}

/// The earliest stamp after `t` of a bar that would close a `length`-second bar (so nothing
/// before it can): `None` when every bar may.
fn next_bucket_close(
    session: &mut Option<(chrono::NaiveDate, Option<chrono::NaiveTime>)>,
    t: NaiveDateTime,
    interval: i64,
    length: i64,
) -> Option<NaiveDateTime> {
    if interval >= length || interval <= 0 {
        return None;
    }
    let day = t.date();
    let midnight = day.and_time(chrono::NaiveTime::MIN);
    let secs = i64::from(chrono::Timelike::num_seconds_from_midnight(&t.time()));
    if length >= 86_400 {
        // The bar that ends at the close; once past it (or on a day the exchange is closed),
        // nothing before the next day.
        closes_bucket(session, t, interval, length);
        let close = match *session {
            Some((d, Some(c))) if d == day => i64::from(chrono::Timelike::num_seconds_from_midnight(&c)),
            Some((d, None)) if d == day => return Some(midnight + chrono::Duration::days(1)),
            _ => return None,
        };
        let last = close - interval;
        return Some(if secs < last {
            midnight + chrono::Duration::seconds(last)
        } else {
            midnight + chrono::Duration::days(1)
        });
    }
    // The next stamp whose bar ends on a multiple of `length` from midnight.
    let end = (secs + interval) / length * length + length;
    Some(midnight + chrono::Duration::seconds(end - interval))
}

/// What a bar does for a `bar(…)` trigger.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Close {
    /// It is the last bar of its `length`-second bar.
    Fires,
    Not,
    /// It falls on a day the exchange is closed: a day-long bar neither closes nor trades.
    ExchangeClosed,
}

/// What a bar at `t`, `interval` seconds long, does for a `length`-second bar trigger.
/// Whether the session of `day` ends a `length`-second bar (a day or more), counting in `ended`
/// the periods ended so far: a bar of n weeks closes at the last session of every nth week, a
/// bar of n days at every nth session.
fn closes_period(ended: &mut u32, day: chrono::NaiveDate, length: i64) -> bool {
    let (ends, periods) = if length % 604_800 == 0 {
        (last_session_of_week(day), length / 604_800)
    } else {
        (true, (length + 86_399) / 86_400)
    };
    if !ends {
        return false;
    }
    *ended = ended.wrapping_add(1);
    i64::from(*ended) % periods.max(1) == 0
}

/// Whether no session follows `day` in its week (Monday to Sunday).
fn last_session_of_week(day: chrono::NaiveDate) -> bool {
    use chrono::Datelike;
    let week = day.iso_week();
    day.iter_days()
        .skip(1)
        .take(7)
        .find(|d| crate::market::calendar::is_trading_day(*d))
        .is_none_or(|next| next.iso_week() != week)
}

/// The time the exchange closes on `day`, `None` when it does not open; the last day asked is
/// kept in `session`, since steps ask about the same day again and again.
fn session_close(
    session: &mut Option<(chrono::NaiveDate, Option<chrono::NaiveTime>)>,
    day: chrono::NaiveDate,
) -> Option<chrono::NaiveTime> {
    match *session {
        Some((d, close)) if d == day => close,
        _ => {
            let close = crate::market::calendar::session(day).map(|(_, c)| c);
            *session = Some((day, close));
            close
        }
    }
}

/// Day-long bars are sessions: they end at the session close (early closes included), and a day
/// the calendar says is closed has none; shorter ones end on multiples of their length from
/// midnight.
fn closes_bucket(
    session: &mut Option<(chrono::NaiveDate, Option<chrono::NaiveTime>)>,
    t: NaiveDateTime,
    interval: i64,
    length: i64,
) -> Close {
    let fires = |yes: bool| if yes { Close::Fires } else { Close::Not };
    // Where the bar ends, in seconds from the start of its day (past 86,400: the next day).
    let end = i64::from(chrono::Timelike::num_seconds_from_midnight(&t.time())) + interval;
    if length >= 86_400 {
        let Some(close) = session_close(session, t.date()) else { return Close::ExchangeClosed };
        // A daily bar is its session; an intraday one closes it when it reaches the close.
        return fires(interval >= 20 * 3600 || end >= i64::from(chrono::Timelike::num_seconds_from_midnight(&close)));
    }
    fires(interval >= length || end % 86_400 % length == 0)
}
