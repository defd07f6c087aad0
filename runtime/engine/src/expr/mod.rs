//! Expressions of the IR compiled for the engine, and the market state they read.
//!
//! A [`Compiler`] turns IR expressions into [`Compiled`] trees whose indicators and crossings
//! are registered once per (symbol, function, parameters) in the run's [`Market`]. Each step,
//! the engine feeds the bars that closed to [`Market::step`]; evaluating an expression then
//! only reads. What lies outside market data — positions, the portfolio, bindings of the run,
//! news — comes from a [`World`].

mod compile;
mod node;
mod series;

pub use compile::{Compiler, window_bars};
pub use node::{BinOp, Node};
pub use series::{Indicator, Series};
use series::{RUN, Trace};

use crate::market::Bar;
use crate::value::Value;
use chrono::NaiveDateTime;
use std::cell::Cell;
use std::collections::BTreeMap;

/// A position as expressions see it (`position(SPY).pnl_percent`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PositionView {
    pub quantity: f64,
    pub avg_cost: f64,
    pub current_price: f64,
    pub market_value: f64,
    pub unrealized_pnl: f64,
    pub pnl_percent: f64,
}

/// The account as expressions see it (`portfolio.cash`).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct PortfolioView {
    pub cash: f64,
    pub buying_power: f64,
    pub total_value: f64,
    pub positions_count: f64,
    pub daily_pnl: f64,
}

/// Recent news about a symbol (`news(AAPL, 24h).sentiment`).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewsSummary {
    /// Mean sentiment from -1 to 1.
    pub score: f64,
    pub count: usize,
    /// Highest relevance, 0 to 1.
    pub relevance: f64,
    pub latest_title: String,
}

impl NewsSummary {
    /// `positive` above 0.2, `negative` below -0.2, else `neutral` (also with no news).
    pub fn sentiment(&self) -> &'static str {
        if self.score > 0.2 {
            "positive"
        } else if self.score < -0.2 {
            "negative"
        } else {
            "neutral"
        }
    }
}

/// What an expression may read beyond market data.
pub trait World {
    fn position(&self, symbol: usize) -> PositionView;
    fn portfolio(&self) -> PortfolioView;
    /// `portfolio` as a whole record, positions included.
    fn portfolio_record(&self) -> Value {
        let p = self.portfolio();
        Value::record([
            ("cash", Value::Num(p.cash)),
            ("buying_power", Value::Num(p.buying_power)),
            ("total_value", Value::Num(p.total_value)),
            ("positions_count", Value::Num(p.positions_count)),
            ("daily_pnl", Value::Num(p.daily_pnl)),
        ])
    }
    /// A binding of the current run (`let`, a model's answer, `trigger`).
    fn local(&self, name: &str) -> Option<Value>;
    /// `limits` or `performance`.
    fn global(&self, name: &str) -> Option<Value>;
    /// News about a symbol published within `window` seconds before now.
    fn news(&self, symbol: usize, window: i64) -> NewsSummary;
}

/// A world with nothing in it: `strat eval` sees price history only.
pub struct NoWorld;

impl World for NoWorld {
    fn position(&self, _: usize) -> PositionView {
        PositionView::default()
    }
    fn portfolio(&self) -> PortfolioView {
        PortfolioView::default()
    }
    fn local(&self, _: &str) -> Option<Value> {
        None
    }
    fn global(&self, _: &str) -> Option<Value> {
        None
    }
    fn news(&self, _: usize, _: i64) -> NewsSummary {
        NewsSummary::default()
    }
}

/// The market as of one step: each symbol's latest closed bar, the shared indicators, the
/// crossings, and the instant.
pub struct Env<'a> {
    pub symbols: &'a [String],
    by_name: &'a BTreeMap<String, usize>,
    pub bars: &'a [Option<Bar>],
    pub series: &'a Series,
    crossings: &'a [Crossing],
    /// The step number (from 1), which crossings' records are compared against.
    step: u64,
    pub now: NaiveDateTime,
    /// Every series is daily: every bar is a session, so the market counts as open.
    daily: bool,
}

impl Env<'_> {
    fn crossing(&self, id: u32, above: bool) -> Option<bool> {
        let c = self.crossings.get(id as usize)?;
        if !c.defined.get() {
            return None;
        }
        // A crossing is reported at the step it happened, and false after it.
        Some(c.fired_at.get() == self.step && if above { c.up.get() } else { c.down.get() })
    }

    fn market_open(&self) -> bool {
        self.daily || crate::market::calendar::is_open(self.now)
    }

    /// The index of the symbol a node evaluates to.
    fn symbol_index(&self, n: &Node, w: &dyn World) -> Option<usize> {
        match node::value(n, self, w)? {
            Value::Symbol(s) | Value::Text(s) => self.by_name.get(&s).copied(),
            _ => None,
        }
    }
}

/// An operand of a crossing that is read without evaluating a tree: an indicator's slot, a field
/// of a symbol's bar, or a constant.
#[derive(Debug, Clone, Copy)]
enum Operand {
    Slot(u32),
    Bar(u32, node::BarField),
    Const(f64),
}

impl Operand {
    fn of(n: &Node) -> Option<Operand> {
        match n {
            Node::Slot(s) => Some(Operand::Slot(*s)),
            Node::Bar(sym, field) => Some(Operand::Bar(*sym, *field)),
            Node::Num(v) => Some(Operand::Const(*v)),
            Node::Neg(x) => match Operand::of(x)? {
                Operand::Const(v) => Some(Operand::Const(-v)),
                _ => None,
            },
            _ => None,
        }
    }

    /// Its value at this step (NaN while undefined).
    #[inline]
    fn now(self, market: &Market) -> f64 {
        match self {
            Operand::Slot(s) => market.series.raw(s),
            Operand::Bar(sym, field) => {
                market.bars.get(sym as usize).copied().flatten().map_or(f64::NAN, |b| field.of(&b))
            }
            Operand::Const(v) => v,
        }
    }

    /// Its value at bar `i` of a run of `sym`'s bars that `market` has been fed in full.
    fn at(self, i: usize, run: &[Bar], sym: usize, trace: &Trace, market: &Market) -> f64 {
        match self {
            Operand::Slot(s) if market.series.symbol_of(s) == Some(sym) => {
                trace.get(s, i).unwrap_or_else(|| market.series.raw(s))
            }
            Operand::Bar(s, field) if s as usize == sym => run.get(i).map_or(f64::NAN, |b| field.of(b)),
            other => other.now(market),
        }
    }
}

/// `lhs crosses above/below rhs`, kept once per pair of operands and updated at every step
/// where a symbol they read closes a bar. Its state changes while the market is only read
/// (operands may read the portfolio, which needs the market), hence the cells.
#[derive(Debug, Clone)]
struct Crossing {
    lhs: Node,
    rhs: Node,
    /// Both operands read directly, without evaluating their trees.
    direct: Option<(Operand, Operand)>,
    /// Sign of `lhs - rhs` at the last defined step (0 before any); a zero difference carries
    /// the sign before it, so one crossing is reported once.
    sign: Cell<i8>,
    /// Whether both operands had values at the last update.
    defined: Cell<bool>,
    /// The step of the last update (a crossing read by two symbols updates once a step).
    updated: Cell<u64>,
    /// The step at which it last crossed, and which way.
    fired_at: Cell<u64>,
    up: Cell<bool>,
    down: Cell<bool>,
}

/// The state every expression of a run reads.
pub struct Market {
    pub symbols: Vec<String>,
    by_name: BTreeMap<String, usize>,
    /// Typical bar length per symbol, in seconds.
    pub intervals: Vec<i64>,
    pub bars: Vec<Option<Bar>>,
    pub series: Series,
    crossings: Vec<Crossing>,
    crossing_keys: BTreeMap<String, u32>,
    /// Crossings to update when a symbol closes a bar, and those updated at every step.
    crossings_by_symbol: Vec<Vec<u32>>,
    crossings_every_step: Vec<u32>,
    /// Some crossing reads more than indicator slots, so updating needs the world.
    crossings_need_world: bool,
    /// Steps taken (from 1).
    step_no: u64,
    /// The slots crossings read, followed over a run of steps ([`Market::step_run`]).
    trace: Option<Trace>,
    pub now: NaiveDateTime,
    pub daily: bool,
    /// Symbols whose data gives no volume (see [`crate::host::MarketData::without_volume`]).
    pub without_volume: Vec<bool>,
}

impl Market {
    pub fn new(symbols: Vec<String>, intervals: Vec<i64>) -> Market {
        let n = symbols.len();
        let daily = intervals.iter().all(|i| *i >= 20 * 3600);
        Market {
            by_name: symbols.iter().enumerate().map(|(i, s)| (s.clone(), i)).collect(),
            symbols,
            intervals,
            bars: vec![None; n],
            series: Series::new(n),
            crossings: Vec::new(),
            crossing_keys: BTreeMap::new(),
            crossings_by_symbol: vec![Vec::new(); n],
            crossings_every_step: Vec::new(),
            crossings_need_world: false,
            step_no: 0,
            trace: None,
            now: NaiveDateTime::default(),
            daily,
            without_volume: vec![false; n],
        }
    }

    pub fn symbol(&self, name: &str) -> Option<usize> {
        self.by_name.get(name).copied()
    }

    pub fn env(&self) -> Env<'_> {
        Env {
            symbols: &self.symbols,
            by_name: &self.by_name,
            bars: &self.bars,
            series: &self.series,
            crossings: &self.crossings,
            step: self.step_no,
            now: self.now,
            daily: self.daily,
        }
    }

    /// Moves to `now` with the bars that closed at it: each symbol's latest bar and its
    /// indicators. Call [`Market::update_crossings`] next.
    #[inline(always)]
    pub fn step(&mut self, now: NaiveDateTime, closed: &[(usize, Bar)]) {
        self.now = now;
        self.step_no += 1;
        for (sym, bar) in closed {
            if let Some(slot) = self.bars.get_mut(*sym) {
                *slot = Some(*bar);
                self.series.update(*sym, bar);
            }
        }
    }

    /// [`Market::step`] and [`Market::update_crossings`] over a run of steps at each of which
    /// one symbol alone closes a bar, for a market whose crossings do not read the world and
    /// where nothing reads the market between these steps. The state ends as after stepping
    /// bar by bar: the indicators are fed one at a time over the run, and a crossing of direct
    /// operands keeps the sign of its last non-zero difference, which it reads back from the
    /// traced slots and the run's bars (a crossing that happened inside the run is past by the
    /// next step).
    pub fn step_run(&mut self, sym: usize, bars: &[Bar]) {
        debug_assert!(!self.crossings_need_world);
        let Some(last) = bars.last() else { return };
        let ids = self.crossings_by_symbol.get(sym).map_or(&[][..], Vec::as_slice);
        if ids.iter().any(|&id| self.crossings.get(id as usize).is_some_and(|c| c.direct.is_none())) {
            // Operands that are trees are evaluated on the market of each step.
            for bar in bars {
                let closed = [(sym, *bar)];
                self.step(bar.time, &closed);
                self.update_crossings(&closed, &NoWorld);
            }
            return;
        }
        let mut trace = self.trace.take().unwrap_or_else(|| {
            let slot = |o: Operand| match o {
                Operand::Slot(s) => Some(s),
                _ => None,
            };
            Trace::new(self.crossings.iter().filter_map(|c| c.direct).flat_map(|(a, b)| [slot(a), slot(b)]).flatten())
        });
        for run in bars.chunks(RUN) {
            self.series.update_run(sym, run, &mut trace);
            self.step_no += run.len() as u64;
            for c in ids.iter().filter_map(|&id| self.crossings.get(id as usize)) {
                let Some((a, b)) = c.direct else { continue };
                let at = |i: usize| a.at(i, run, sym, &trace, self) - b.at(i, run, sym, &trace, self);
                c.defined.set(!at(run.len() - 1).is_nan());
                if let Some(d) = (0..run.len()).rev().map(at).find(|d| !d.is_nan() && *d != 0.0) {
                    c.sign.set(if d > 0.0 { 1 } else { -1 });
                }
                c.updated.set(self.step_no);
            }
        }
        self.trace = Some(trace);
        if let Some(slot) = self.bars.get_mut(sym) {
            *slot = Some(*last);
        }
        self.now = last.time;
        // Crossings of constants: the same difference at every step.
        for &id in &self.crossings_every_step {
            self.update_crossing(id, &NoWorld);
        }
    }

    /// Updates the crossings due at this step: those reading a symbol that closed a bar, and
    /// those reading the portfolio or the clock.
    #[inline(always)]
    pub fn update_crossings(&self, closed: &[(usize, Bar)], world: &dyn World) {
        if self.crossings.is_empty() {
            return;
        }
        for &id in &self.crossings_every_step {
            self.update_crossing(id, world);
        }
        for (sym, _) in closed {
            if let Some(ids) = self.crossings_by_symbol.get(*sym) {
                for &id in ids {
                    self.update_crossing(id, world);
                }
            }
        }
    }

    /// `lhs - rhs` of a crossing whose operands are trees (NaN when undefined). Out of line, so
    /// the common case of direct operands stays small.
    #[inline(never)]
    fn difference(&self, c: &Crossing, world: &dyn World) -> f64 {
        let env = self.env();
        match (node::num(&c.lhs, &env, world), node::num(&c.rhs, &env, world)) {
            (Some(a), Some(b)) => a - b,
            _ => f64::NAN,
        }
    }

    /// Whether updating the crossings reads the portfolio (otherwise any world will do).
    pub fn crossings_need_world(&self) -> bool {
        self.crossings_need_world
    }

    #[inline]
    fn update_crossing(&self, id: u32, world: &dyn World) {
        let c = &self.crossings[id as usize];
        if c.updated.replace(self.step_no) == self.step_no {
            return;
        }
        let d = match c.direct {
            Some((a, b)) => a.now(self) - b.now(self),
            None => self.difference(c, world),
        };
        if d.is_nan() {
            c.defined.set(false);
            return;
        }
        let before = c.sign.get();
        let new = if d > 0.0 {
            1
        } else if d < 0.0 {
            -1
        } else {
            before
        };
        c.sign.set(new);
        c.defined.set(true);
        let (up, down) = (before == -1 && new == 1, before == 1 && new == -1);
        if up || down {
            c.up.set(up);
            c.down.set(down);
            c.fired_at.set(self.step_no);
        }
    }

    fn register_crossing(&mut self, key: String, lhs: Node, rhs: Node) -> u32 {
        if let Some(&id) = self.crossing_keys.get(&key) {
            return id;
        }
        let mut symbols = Vec::new();
        let mut every_step = false;
        let mut reads_world = false;
        for n in [&lhs, &rhs] {
            n.visit(&mut |x| match x {
                Node::Bar(s, _) => symbols.push(*s as usize),
                Node::Holding(s) | Node::Position(s, _) | Node::News(s, ..) => {
                    symbols.push(*s as usize);
                    reads_world = true;
                }
                Node::Portfolio(_) | Node::Clock(_) | Node::Local(_) | Node::Global(_) | Node::PerSymbol(..) => {
                    every_step = true;
                    reads_world = true;
                }
                _ => {}
            });
        }
        // Indicator slots belong to their symbol's bars.
        for n in [&lhs, &rhs] {
            n.visit(&mut |x| {
                if let Node::Slot(s) | Node::Flag(s) | Node::Multi(s, _) = x
                    && let Some(sym) = self.series.symbol_of(*s)
                {
                    symbols.push(sym);
                }
            });
        }
        symbols.sort_unstable();
        symbols.dedup();
        let id = self.crossings.len() as u32;
        if every_step || symbols.is_empty() {
            self.crossings_every_step.push(id);
        }
        for &s in &symbols {
            self.crossings_by_symbol[s].push(id);
        }
        let direct = Operand::of(&lhs).zip(Operand::of(&rhs));
        self.crossings_need_world |= reads_world;
        // The trace follows the slots of the crossings known when it was made.
        self.trace = None;
        self.crossings.push(Crossing {
            lhs,
            rhs,
            direct,
            sign: Cell::new(0),
            defined: Cell::new(false),
            updated: Cell::new(0),
            fired_at: Cell::new(0),
            up: Cell::new(false),
            down: Cell::new(false),
        });
        self.crossing_keys.insert(key, id);
        id
    }

    /// The operands of a crossing.
    pub fn crossing_operands(&self, id: u32) -> Option<(&Node, &Node)> {
        self.crossings.get(id as usize).map(|c| (&c.lhs, &c.rhs))
    }

    /// The symbols whose bars update a crossing.
    pub fn crossing_symbols(&self, id: u32) -> Vec<usize> {
        self.crossings_by_symbol.iter().enumerate().filter(|(_, ids)| ids.contains(&id)).map(|(s, _)| s).collect()
    }

    /// Distinct crossings the run keeps.
    pub fn crossings(&self) -> usize {
        self.crossings.len()
    }
}

/// A compiled expression.
#[derive(Debug, Clone)]
pub struct Compiled {
    pub(crate) root: Node,
}

impl Compiled {
    /// Whether it reads the binding `name` (`let`, a model's answer, `trigger`).
    pub fn reads_local(&self, name: &str) -> bool {
        let mut found = false;
        self.root.visit(&mut |n| found |= matches!(n, Node::Local(l) if l == name));
        found
    }

    pub fn value(&self, env: &Env<'_>, world: &dyn World) -> Option<Value> {
        node::value(&self.root, env, world)
    }

    /// True only when the value is `true` (undefined is not true).
    #[inline]
    pub fn is_true(&self, env: &Env<'_>, world: &dyn World) -> bool {
        node::truth(&self.root, env, world) == Some(true)
    }

    #[inline]
    pub fn number(&self, env: &Env<'_>, world: &dyn World) -> Option<f64> {
        node::num(&self.root, env, world).filter(|v| v.is_finite())
    }

    pub fn node(&self) -> &Node {
        &self.root
    }
}
