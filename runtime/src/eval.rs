//! Evaluating a checked expression at every bar of historical data (`strat eval`).
//!
//! The expression is compiled once into a tree whose indicator nodes keep their own streaming
//! state; then the tree is stepped through the union of the symbols' timestamps. At each step
//! every node is evaluated (no short-circuit), so every indicator sees every bar. A value that
//! is not defined yet (an indicator in its warm-up, a symbol without data yet) is `None`.

use crate::market::Bar;
use chrono::NaiveDateTime;
use std::collections::BTreeMap;
use strat_lang::ir::{Expr, Unit};
use strat_stdlib::indicators::{
    Atr, Bands, Bollinger, Change, Ema, Highest, Lowest, Macd, MacdValue, Rsi, Sma, StdDev, Vwap,
};

/// A value at one bar.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Num(f64),
    Bool(bool),
    Text(String),
    Symbol(String),
    Macd(MacdValue),
    Bands(Bands),
    Position(PositionView),
    Portfolio(PortfolioView),
    /// A record by field name: `trigger`, a model's decision.
    Record(BTreeMap<String, Value>),
}

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

/// What an expression may ask beyond prices: the portfolio and the run's bindings.
pub trait World {
    fn position(&self, symbol: &str) -> PositionView;
    fn portfolio(&self) -> PortfolioView;
    fn local(&self, name: &str) -> Option<Value>;
}

/// A world with nothing in it: `strat eval` sees price history only.
pub struct NoWorld;

impl World for NoWorld {
    fn position(&self, _: &str) -> PositionView {
        PositionView::default()
    }
    fn portfolio(&self) -> PortfolioView {
        PortfolioView::default()
    }
    fn local(&self, _: &str) -> Option<Value> {
        None
    }
}

impl std::fmt::Display for Value {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Num(v) => write!(f, "{v}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Text(t) | Value::Symbol(t) => f.write_str(t),
            Value::Macd(m) => {
                write!(f, "{{\"macd\":{},\"signal\":{},\"histogram\":{}}}", m.macd, m.signal, m.histogram)
            }
            Value::Bands(b) => write!(f, "{{\"upper\":{},\"middle\":{},\"lower\":{}}}", b.upper, b.middle, b.lower),
            Value::Position(p) => write!(f, "{{\"quantity\":{},\"avg_cost\":{}}}", p.quantity, p.avg_cost),
            Value::Portfolio(p) => write!(f, "{{\"cash\":{},\"total_value\":{}}}", p.cash, p.total_value),
            Value::Record(fields) => {
                f.write_str("{")?;
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        f.write_str(",")?;
                    }
                    write!(f, "\"{k}\":{v}")?;
                }
                f.write_str("}")
            }
        }
    }
}

#[derive(Debug, Clone, Copy)]
enum Field {
    Open,
    High,
    Low,
    Close,
    Volume,
}

#[derive(Debug, Clone)]
enum Ind {
    Sma(Sma),
    AvgVolume(Sma),
    Ema(Ema),
    Rsi(Rsi),
    Macd(Macd),
    Bollinger(Bollinger),
    Atr(Atr),
    StdDev(StdDev),
    Highest(Highest),
    Lowest(Lowest),
    Change(Change),
    Vwap(Vwap),
    VolumeSpike { avg: Sma, multiplier: f64 },
}

#[derive(Debug, Clone)]
enum Node {
    Const(Value),
    Price {
        sym: usize,
        field: Field,
    },
    /// A slot of the shared [`Indicators`].
    Indicator(usize),
    Holding {
        sym: usize,
    },
    Position {
        sym: usize,
    },
    Portfolio,
    Local(String),
    Field {
        base: Box<Node>,
        name: String,
    },
    Not(Box<Node>),
    Neg(Box<Node>),
    Binary {
        op: String,
        lhs: Box<Node>,
        rhs: Box<Node>,
    },
    Crosses {
        above: bool,
        lhs: Box<Node>,
        rhs: Box<Node>,
        sign: i8,
        stamp: u64,
        last: Option<Value>,
    },
    Math {
        func: String,
        args: Vec<Node>,
    },
}

/// What one step sees: for each symbol, its latest bar at or before now, and whether that bar
/// closed at this step. `id` grows by one each step (from 1).
pub struct Step<'a> {
    pub id: u64,
    pub bars: &'a [Option<(Bar, bool)>],
    pub indicators: &'a Indicators,
}

/// Every indicator of a run, one instance per (symbol, function, parameters) however many
/// expressions use it, each updated once per new bar of its symbol.
#[derive(Debug, Clone, Default)]
pub struct Indicators {
    items: Vec<(usize, Ind, Option<Value>)>,
    index: BTreeMap<String, usize>,
}

impl Indicators {
    fn register(&mut self, key: String, sym: usize, ind: Ind) -> usize {
        if let Some(&slot) = self.index.get(&key) {
            return slot;
        }
        self.items.push((sym, ind, None));
        self.index.insert(key, self.items.len() - 1);
        self.items.len() - 1
    }

    /// Feeds each indicator the bar its symbol closed at this step, if any.
    pub fn update(&mut self, bars: &[Option<(Bar, bool)>]) {
        for (sym, ind, last) in &mut self.items {
            if let Some(Some((bar, true))) = bars.get(*sym) {
                *last = update(ind, bar);
            }
        }
    }

    /// How many distinct indicators the run keeps.
    pub fn len(&self) -> usize {
        self.items.len()
    }

    pub fn is_empty(&self) -> bool {
        self.items.is_empty()
    }

    fn get(&self, slot: usize) -> Option<Value> {
        self.items.get(slot).and_then(|(_, _, v)| v.clone())
    }
}

/// A compiled expression with its own indicator state.
#[derive(Debug, Clone)]
pub struct Compiled {
    root: Node,
    symbols: Vec<String>,
}

impl Compiled {
    /// Compiles against a fixed list of symbols (their order indexes `Step::bars`). With
    /// `world` false, anything beyond price history is an error (`strat eval`).
    pub fn new(
        expr: &Expr,
        symbols: &[String],
        intervals: &[i64],
        world: bool,
        indicators: &mut Indicators,
    ) -> Result<Compiled, String> {
        let syms: Vec<&String> = symbols.iter().collect();
        Ok(Compiled { root: compile(expr, &syms, intervals, world, indicators)?, symbols: symbols.to_vec() })
    }

    /// The value at this step. Safe to call several times in one step.
    pub fn value(&mut self, step: &Step<'_>, world: &dyn World) -> Option<Value> {
        eval_node(&mut self.root, step, world, &self.symbols)
    }
}

/// Evaluates `expr` at every timestamp of `data` (symbol → bars in time order).
/// Returns an error for constructs that need more than price history (portfolio, news).
pub fn evaluate(expr: &Expr, data: &BTreeMap<String, Vec<Bar>>) -> Result<Vec<(NaiveDateTime, Option<Value>)>, String> {
    let symbols: Vec<String> = data.keys().cloned().collect();
    let intervals: Vec<i64> = data.values().map(|b| interval_seconds(b)).collect();
    let mut indicators = Indicators::default();
    let mut compiled = Compiled::new(expr, &symbols, &intervals, false, &mut indicators)?;
    let mut timeline = crate::market::Timeline::new(data);
    let mut out = Vec::with_capacity(timeline.len());
    let mut id = 0;
    while let Some((t, current)) = timeline.step() {
        id += 1;
        indicators.update(current);
        let v = compiled.value(&Step { id, bars: current, indicators: &indicators }, &NoWorld);
        out.push((t, v));
    }
    Ok(out)
}

/// The typical spacing of bars in seconds (median of the first gaps); a day for one bar.
pub fn interval_seconds(bars: &[Bar]) -> i64 {
    let mut gaps: Vec<i64> =
        bars.windows(2).take(200).map(|w| (w[1].time - w[0].time).num_seconds()).filter(|g| *g > 0).collect();
    gaps.sort_unstable();
    gaps.get(gaps.len() / 2).copied().unwrap_or(86_400)
}

/// A window written as a duration, in bars of data spaced `interval` seconds apart. For daily
/// bars a day is one bar and a week five (trading days); for intraday bars it is the plain ratio.
fn window_bars(seconds: f64, interval: i64) -> usize {
    if interval >= 20 * 3600 {
        let days = (seconds / 86_400.0).ceil();
        let weeks = (seconds / 604_800.0).floor();
        let bars = if seconds >= 604_800.0 && seconds % 604_800.0 == 0.0 { weeks * 5.0 } else { days };
        bars.max(1.0) as usize
    } else {
        (seconds / interval.max(1) as f64).round().max(1.0) as usize
    }
}

fn num(e: &Expr) -> Option<f64> {
    match e {
        Expr::Num { value, .. } => value.parse().ok(),
        Expr::Neg { operand } => num(operand).map(|v| -v),
        _ => None,
    }
}

fn compile(
    e: &Expr,
    symbols: &[&String],
    intervals: &[i64],
    world: bool,
    set: &mut Indicators,
) -> Result<Node, String> {
    let mut sub = |e: &Expr| compile(e, symbols, intervals, world, set).map(Box::new);
    Ok(match e {
        Expr::Num { value, .. } => {
            Node::Const(Value::Num(value.parse().map_err(|_| format!("`{value}` is not a number"))?))
        }
        Expr::Bool { value } => Node::Const(Value::Bool(*value)),
        Expr::Symbol { value } => Node::Const(Value::Symbol(value.clone())),
        Expr::Variant { name } => Node::Const(Value::Text(name.clone())),
        Expr::Text { .. } => Node::Const(Value::Text(String::new())),
        Expr::Not { operand } => Node::Not(sub(operand)?),
        Expr::Neg { operand } => Node::Neg(sub(operand)?),
        Expr::Field { base, name } => Node::Field { base: sub(base)?, name: name.clone() },
        Expr::Binary { op, lhs, rhs } if op == "crosses above" || op == "crosses below" => Node::Crosses {
            above: op == "crosses above",
            lhs: sub(lhs)?,
            rhs: sub(rhs)?,
            sign: 0,
            stamp: 0,
            last: None,
        },
        Expr::Binary { op, lhs, rhs } => Node::Binary { op: op.clone(), lhs: sub(lhs)?, rhs: sub(rhs)? },
        Expr::Call { func, args } => call(func, args, symbols, intervals, world, set)?,
        Expr::Global { name } if world && name == "portfolio" => Node::Portfolio,
        // The run binds `trigger` (the symbol and reason of the firing) like a local.
        Expr::Global { name } if world && name == "trigger" => Node::Local("trigger".to_string()),
        Expr::Local { name } if world => Node::Local(name.clone()),
        Expr::Universe { name } => return Err(format!("`{name}` is a universe; evaluate one symbol at a time")),
        Expr::Global { name } => {
            return Err(format!("`{name}` needs a portfolio or a live run; `strat eval` sees price history only"));
        }
        Expr::Local { name } => return Err(format!("`{name}` is not defined here")),
        Expr::Date { .. } | Expr::Time { .. } | Expr::List { .. } => {
            return Err("dates, times and lists cannot be evaluated over bars".into());
        }
    })
}

fn call(
    func: &str,
    args: &[Expr],
    symbols: &[&String],
    intervals: &[i64],
    world: bool,
    set: &mut Indicators,
) -> Result<Node, String> {
    if matches!(func, "abs" | "min" | "max" | "floor" | "round") {
        let mut nodes = Vec::with_capacity(args.len());
        for a in args {
            nodes.push(compile(a, symbols, intervals, world, set)?);
        }
        let args = nodes;
        return Ok(Node::Math { func: func.to_string(), args });
    }
    let sym = match args.first() {
        Some(Expr::Symbol { value }) => symbols
            .iter()
            .position(|s| *s == value)
            .ok_or_else(|| format!("no data for `{value}`: add `--data {value}=PATH`"))?,
        Some(Expr::Universe { name }) => return Err(format!("`{name}` is a universe; evaluate one symbol at a time")),
        Some(_) => return Err(format!("`{func}` needs a ticker such as `SPY` here")),
        None => {
            return Err(format!("`{func}` needs market context (a live run or a backtest), not only price history"));
        }
    };
    let interval = intervals.get(sym).copied().unwrap_or(86_400);
    let param = |i: usize| -> Result<f64, String> {
        args.get(i).and_then(num).ok_or_else(|| format!("argument {} of `{func}` must be a constant", i + 1))
    };
    let period = |i: usize| -> Result<usize, String> { Ok(param(i)?.max(1.0) as usize) };
    let window = |i: usize| -> Result<usize, String> {
        match args.get(i) {
            Some(Expr::Num { value, unit: Unit::Seconds }) => {
                Ok(window_bars(value.parse().unwrap_or(86_400.0), interval))
            }
            _ => Err(format!("argument {} of `{func}` must be a duration such as `20d`", i + 1)),
        }
    };
    let price = |field| Ok(Node::Price { sym, field });
    // One instance per (function, symbol, parameters): the arguments after the symbol are
    // constants, so their printed form is a fine key.
    let key = format!("{func}|{sym}|{:?}", &args[1..]);
    let mut ind = |ind: Ind| -> Result<Node, String> { Ok(Node::Indicator(set.register(key.clone(), sym, ind))) };
    match func {
        "price" | "close" => price(Field::Close),
        "open" => price(Field::Open),
        "high" => price(Field::High),
        "low" => price(Field::Low),
        "volume" => price(Field::Volume),
        "sma" => ind(Ind::Sma(Sma::new(period(1)?))),
        "ema" => ind(Ind::Ema(Ema::new(period(1)?))),
        "rsi" => ind(Ind::Rsi(Rsi::new(period(1)?))),
        "macd" => ind(Ind::Macd(Macd::new(period(1)?, period(2)?, period(3)?))),
        "bollinger" => ind(Ind::Bollinger(Bollinger::new(period(1)?, param(2)?))),
        "atr" => ind(Ind::Atr(Atr::new(period(1)?))),
        "stddev" => ind(Ind::StdDev(StdDev::new(period(1)?))),
        "highest" => ind(Ind::Highest(Highest::new(period(1)?))),
        "lowest" => ind(Ind::Lowest(Lowest::new(period(1)?))),
        "vwap" => ind(Ind::Vwap(Vwap::new())),
        "change" => ind(Ind::Change(Change::new(window(1)?))),
        "avg_volume" => ind(Ind::AvgVolume(Sma::new(window(1)?))),
        "holding" if world => Ok(Node::Holding { sym }),
        "position" if world => Ok(Node::Position { sym }),
        "volume_spike" => {
            ind(Ind::VolumeSpike { avg: Sma::new(window_bars(20.0 * 86_400.0, interval)), multiplier: param(1)? })
        }
        other => {
            Err(format!("`{other}` needs a portfolio, news or a live market; `strat eval` sees price history only"))
        }
    }
}

fn eval_node(n: &mut Node, s: &Step<'_>, w: &dyn World, names: &[String]) -> Option<Value> {
    let step = |n: &mut Node, s: &Step<'_>| eval_node(n, s, w, names);
    match n {
        Node::Const(v) => Some(v.clone()),
        Node::Price { sym, field } => {
            let (bar, _) = s.bars.get(*sym)?.as_ref()?;
            Some(Value::Num(match field {
                Field::Open => bar.open,
                Field::High => bar.high,
                Field::Low => bar.low,
                Field::Close => bar.close,
                Field::Volume => bar.volume,
            }))
        }
        Node::Indicator(slot) => s.indicators.get(*slot),
        Node::Holding { sym } => Some(Value::Bool(w.position(names.get(*sym)?).quantity != 0.0)),
        Node::Position { sym } => Some(Value::Position(w.position(names.get(*sym)?))),
        Node::Portfolio => Some(Value::Portfolio(w.portfolio())),
        Node::Local(name) => w.local(name),
        Node::Field { base, name } => match (step(base, s)?, name.as_str()) {
            (Value::Macd(m), "macd") => Some(Value::Num(m.macd)),
            (Value::Macd(m), "signal") => Some(Value::Num(m.signal)),
            (Value::Macd(m), "histogram") => Some(Value::Num(m.histogram)),
            (Value::Bands(b), "upper") => Some(Value::Num(b.upper)),
            (Value::Bands(b), "middle") => Some(Value::Num(b.middle)),
            (Value::Bands(b), "lower") => Some(Value::Num(b.lower)),
            (Value::Position(p), f) => Some(Value::Num(match f {
                "quantity" => p.quantity,
                "avg_cost" => p.avg_cost,
                "current_price" => p.current_price,
                "market_value" => p.market_value,
                "unrealized_pnl" => p.unrealized_pnl,
                "pnl_percent" => p.pnl_percent,
                _ => return None,
            })),
            (Value::Record(fields), f) => fields.get(f).cloned(),
            (Value::Portfolio(p), f) => Some(Value::Num(match f {
                "cash" => p.cash,
                "buying_power" => p.buying_power,
                "total_value" => p.total_value,
                "positions_count" => p.positions_count,
                "daily_pnl" => p.daily_pnl,
                _ => return None,
            })),
            _ => None,
        },
        Node::Not(x) => match step(x, s)? {
            Value::Bool(b) => Some(Value::Bool(!b)),
            _ => None,
        },
        Node::Neg(x) => match step(x, s)? {
            Value::Num(v) => Some(Value::Num(-v)),
            _ => None,
        },
        Node::Crosses { above, lhs, rhs, sign, stamp, last } => {
            if *stamp == s.id {
                return last.clone();
            }
            *stamp = s.id;
            let (a, b) = (step(lhs, s), step(rhs, s));
            let (Some(Value::Num(a)), Some(Value::Num(b))) = (a, b) else {
                *last = None;
                return None;
            };
            let d = a - b;
            // A zero difference carries the previous sign, so one crossing fires once.
            let new = if d > 0.0 {
                1
            } else if d < 0.0 {
                -1
            } else {
                *sign
            };
            let fired = if *above { *sign == -1 && new == 1 } else { *sign == 1 && new == -1 };
            *sign = new;
            *last = Some(Value::Bool(fired));
            last.clone()
        }
        Node::Binary { op, lhs, rhs } => {
            let (a, b) = (step(lhs, s), step(rhs, s));
            binary(op, a?, b?)
        }
        Node::Math { func, args } => {
            let vals: Vec<Option<Value>> = args.iter_mut().map(|a| step(a, s)).collect();
            let nums: Vec<f64> = vals
                .into_iter()
                .map(|v| match v? {
                    Value::Num(x) => Some(x),
                    _ => None,
                })
                .collect::<Option<_>>()?;
            let r = match (func.as_str(), nums.as_slice()) {
                ("abs", [x]) => x.abs(),
                ("floor", [x]) => x.floor(),
                ("round", [x]) => x.round(),
                ("min", [a, b]) => a.min(*b),
                ("max", [a, b]) => a.max(*b),
                _ => return None,
            };
            Some(Value::Num(r))
        }
    }
}

fn update(ind: &mut Ind, b: &Bar) -> Option<Value> {
    let n = |v: Option<f64>| v.map(Value::Num);
    match ind {
        Ind::Sma(x) => n(x.push(b.close)),
        Ind::AvgVolume(x) => n(x.push(b.volume)),
        Ind::Ema(x) => n(x.push(b.close)),
        Ind::Rsi(x) => n(x.push(b.close)),
        Ind::Macd(x) => x.push(b.close).map(Value::Macd),
        Ind::Bollinger(x) => x.push(b.close).map(Value::Bands),
        Ind::Atr(x) => n(x.push(b.high, b.low, b.close)),
        Ind::StdDev(x) => n(x.push(b.close)),
        Ind::Highest(x) => n(x.push(b.high)),
        Ind::Lowest(x) => n(x.push(b.low)),
        Ind::Change(x) => n(x.push(b.close)),
        Ind::Vwap(x) => {
            let session = b.time.date().to_string();
            let key = session.bytes().fold(0u64, |h, c| h.wrapping_mul(31).wrapping_add(u64::from(c)));
            n(x.push(key, b.high, b.low, b.close, b.volume))
        }
        Ind::VolumeSpike { avg, multiplier } => avg.push(b.volume).map(|a| Value::Bool(b.volume > a * *multiplier)),
    }
}

fn binary(op: &str, a: Value, b: Value) -> Option<Value> {
    use Value::{Bool, Num, Symbol, Text};
    Some(match (op, a, b) {
        ("and", Bool(x), Bool(y)) => Bool(x && y),
        ("or", Bool(x), Bool(y)) => Bool(x || y),
        ("+", Num(x), Num(y)) => Num(x + y),
        ("-", Num(x), Num(y)) => Num(x - y),
        ("*", Num(x), Num(y)) => Num(x * y),
        ("/", Num(x), Num(y)) => {
            if y == 0.0 {
                return None;
            }
            Num(x / y)
        }
        ("==", x, y) => Bool(x == y),
        ("!=", x, y) => Bool(x != y),
        ("<", Num(x), Num(y)) => Bool(x < y),
        ("<=", Num(x), Num(y)) => Bool(x <= y),
        (">", Num(x), Num(y)) => Bool(x > y),
        (">=", Num(x), Num(y)) => Bool(x >= y),
        (_, Text(_) | Symbol(_), _) => return None,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn closes(xs: &[f64]) -> BTreeMap<String, Vec<Bar>> {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).expect("date");
        let bars = xs
            .iter()
            .enumerate()
            .map(|(i, c)| Bar {
                time: start + chrono::Duration::days(i as i64),
                open: *c,
                high: *c,
                low: *c,
                close: *c,
                volume: 1.0,
            })
            .collect();
        BTreeMap::from([("X".to_string(), bars)])
    }

    fn run(src: &str, xs: &[f64]) -> Vec<Option<Value>> {
        let c = strat_lang::check_expression(src);
        let e = c.expr.unwrap_or_else(|| panic!("{src}: {:?}", c.diagnostics));
        evaluate(&e, &closes(xs)).expect("evaluates").into_iter().map(|(_, v)| v).collect()
    }

    #[test]
    fn crossing_fires_once_and_a_touch_carries_the_sign() {
        // price - 10: -, -, 0, +, +, 0, -, +  → above fires at index 3 only (the zero carries "-"),
        // then below at 6, above again at 7.
        let xs = [8.0, 9.0, 10.0, 11.0, 12.0, 10.0, 9.0, 11.0];
        let above = run("price(X) crosses above $10", &xs);
        let fired: Vec<usize> =
            above.iter().enumerate().filter(|(_, v)| **v == Some(Value::Bool(true))).map(|(i, _)| i).collect();
        assert_eq!(fired, vec![3, 7]);
        let below = run("price(X) crosses below $10", &xs);
        let fired: Vec<usize> =
            below.iter().enumerate().filter(|(_, v)| **v == Some(Value::Bool(true))).map(|(i, _)| i).collect();
        assert_eq!(fired, vec![6]);
    }

    #[test]
    fn warm_up_is_empty_and_arithmetic_keeps_units() {
        let v = run("sma(X, 3) * 2", &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(v, vec![None, None, Some(Value::Num(4.0)), Some(Value::Num(6.0))]);
        let v = run("change(X, 1d) <= -50%", &[10.0, 4.0, 5.0]);
        assert_eq!(v, vec![None, Some(Value::Bool(true)), Some(Value::Bool(false))]);
    }

    #[test]
    fn unsupported_values_are_errors_not_guesses() {
        let c = strat_lang::check_expression("holding(X)");
        let e = c.expr.expect("checks");
        let err = evaluate(&e, &closes(&[1.0])).expect_err("refused");
        assert!(err.contains("price history only"), "{err}");
        let c = strat_lang::check_expression("rsi(Y, 14)");
        let err = evaluate(&c.expr.expect("checks"), &closes(&[1.0])).expect_err("refused");
        assert_eq!(err, "no data for `Y`: add `--data Y=PATH`");
    }
}
