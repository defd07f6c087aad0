//! IR expressions → [`Node`] trees, registering indicators and crossings in the [`Market`].

use super::node::{BarField, BinOp, Clock, MathFn, NewsField, Node, Part, PortfolioField, PositionField};
use super::series::Indicator;
use super::{Compiled, Market};
use std::collections::BTreeMap;
use strat_lang::ir::{self, Expr, Unit};
use strat_stdlib::Builtin;
use strat_stdlib::indicators::{
    Atr, Bollinger, Change, Ema, Highest, Lowest, Macd, Rsi, SessionChange, Sma, StdDev, Vwap,
};

/// Compiles expressions against one market.
pub struct Compiler<'a> {
    market: &'a mut Market,
    universes: &'a BTreeMap<String, Vec<String>>,
    /// Whether the portfolio, bindings and news exist (a run); `strat eval` has price history only.
    world: bool,
}

fn no_universes() -> &'static BTreeMap<String, Vec<String>> {
    static EMPTY: std::sync::OnceLock<BTreeMap<String, Vec<String>>> = std::sync::OnceLock::new();
    EMPTY.get_or_init(BTreeMap::new)
}

impl<'a> Compiler<'a> {
    /// A compiler for a run: the portfolio, bindings and news may be read.
    pub fn new(market: &'a mut Market, universes: &'a BTreeMap<String, Vec<String>>) -> Compiler<'a> {
        Compiler { market, universes, world: true }
    }

    /// A compiler for price history alone (`strat eval`).
    pub fn price_history(market: &'a mut Market) -> Compiler<'a> {
        Compiler { market, universes: no_universes(), world: false }
    }

    pub fn compile(&mut self, e: &Expr) -> Result<Compiled, String> {
        Ok(Compiled { root: self.node(e)? })
    }

    /// A template (a prompt, a log message) compiled to one text-valued expression.
    pub fn template(&mut self, parts: &[ir::Part]) -> Result<Compiled, String> {
        Ok(Compiled { root: self.template_node(parts)? })
    }

    pub fn market(&self) -> &Market {
        self.market
    }

    fn template_node(&mut self, parts: &[ir::Part]) -> Result<Node, String> {
        let mut out = Vec::with_capacity(parts.len());
        for p in parts {
            out.push(match p {
                ir::Part::Text(t) => Part::Text(t.clone()),
                ir::Part::Expr(e) => Part::Expr(self.node(e)?, type_of(e)),
            });
        }
        Ok(match out.as_slice() {
            [] => Node::Text(String::new()),
            [Part::Text(t)] => Node::Text(t.clone()),
            _ => Node::Template(out),
        })
    }

    fn boxed(&mut self, e: &Expr) -> Result<Box<Node>, String> {
        self.node(e).map(Box::new)
    }

    fn node(&mut self, e: &Expr) -> Result<Node, String> {
        Ok(match e {
            Expr::Num { value, .. } => Node::Num(value.parse().map_err(|_| format!("`{value}` is not a number"))?),
            Expr::Bool { value } => Node::Bool(*value),
            Expr::Symbol { value } => Node::Symbol(value.clone()),
            Expr::Variant { name } => Node::Text(name.clone()),
            Expr::Text { value } => self.template_node(value)?,
            Expr::Date { value } => {
                let d = chrono::NaiveDate::parse_from_str(value, "%Y-%m-%d")
                    .map_err(|_| format!("`{value}` is not a date"))?;
                Node::Num(f64::from(chrono::Datelike::num_days_from_ce(&d)))
            }
            Expr::Time { value } => {
                let t = chrono::NaiveTime::parse_from_str(value, "%H:%M")
                    .or_else(|_| chrono::NaiveTime::parse_from_str(value, "%H:%M:%S"))
                    .map_err(|_| format!("`{value}` is not a time of day"))?;
                Node::Num(f64::from(chrono::Timelike::num_seconds_from_midnight(&t)))
            }
            Expr::List { items } => Node::List(items.iter().map(|i| self.node(i)).collect::<Result<_, _>>()?),
            Expr::Universe { name } => match self.universes.get(name) {
                Some(members) => Node::List(members.iter().map(|m| Node::Symbol(m.clone())).collect()),
                None => return Err(format!("`{name}` is a universe; evaluate one symbol at a time")),
            },
            Expr::Not { operand } => Node::Not(self.boxed(operand)?),
            Expr::Neg { operand } => Node::Neg(self.boxed(operand)?),
            Expr::Binary { op, lhs, rhs } if op == "crosses above" || op == "crosses below" => {
                self.crossing(lhs, rhs, op == "crosses above")?
            }
            Expr::Binary { op, lhs, rhs } => {
                let bin = BinOp::parse(op).ok_or_else(|| format!("unknown operator `{op}`"))?;
                let (mut l, mut r) = (self.boxed(lhs)?, self.boxed(rhs)?);
                // A percent times (or dividing) a unit is a share of it: `5% * portfolio.cash`
                // is 0.05 × the cash. Percent values are held as their figure (5 for 5%).
                if matches!(bin, BinOp::Mul | BinOp::Div) {
                    use strat_stdlib::Ty;
                    let unit = |t: Option<Ty>| matches!(t, Some(Ty::Money | Ty::Price | Ty::Quantity | Ty::Duration));
                    let (lt, rt) = (type_of(lhs), type_of(rhs));
                    let share = |n: Box<Node>| Box::new(Node::Bin(BinOp::Mul, n, Box::new(Node::Num(0.01))));
                    if lt == Some(Ty::Percent) && unit(rt) {
                        l = share(l);
                    } else if rt == Some(Ty::Percent) && unit(lt) {
                        r = share(r);
                    }
                }
                Node::Bin(bin, l, r)
            }
            Expr::Field { base, name } => self.field(base, name)?,
            Expr::Call { func, args } => self.call(func, args)?,
            Expr::Global { name } if name == "market_hours" => Node::Clock(Clock::MarketOpen),
            Expr::Global { name } if name == "now" => Node::Clock(Clock::Now),
            Expr::Global { name } if self.world => match name.as_str() {
                "portfolio" => Node::Portfolio(None),
                // The run binds `trigger` (what fired it) like a local.
                "trigger" => Node::Local("trigger".to_string()),
                _ => Node::Global(name.clone()),
            },
            Expr::Local { name } if self.world => Node::Local(name.clone()),
            Expr::Global { name } => {
                return Err(format!("`{name}` needs a portfolio or a live run; `strat eval` sees price history only"));
            }
            Expr::Local { name } => return Err(format!("`{name}` is not defined here")),
        })
    }

    /// `lhs crosses above/below rhs`. A crossing compares this step with the step before, so
    /// its operands must have values between executions: one whose symbol is known only when
    /// the run gets there (`sma(trigger.symbol, 10)`) is kept once per symbol of the market
    /// with the symbol named, and the run's value of it picks which one is read.
    fn crossing(&mut self, lhs: &Expr, rhs: &Expr, above: bool) -> Result<Node, String> {
        let Some(which) = run_time_symbol(lhs).or_else(|| run_time_symbol(rhs)) else {
            let key = format!("{lhs:?}|{rhs:?}");
            let (l, r) = (self.node(lhs)?, self.node(rhs)?);
            let id = self.market.register_crossing(key, l, r);
            return Ok(Node::Cross { id, above });
        };
        let picked = self.boxed(&which)?;
        let mut each = Vec::with_capacity(self.market.symbols.len());
        for s in self.market.symbols.clone() {
            let named = Expr::Symbol { value: s };
            let (l, r) = (lhs.replaced(&which, &named), rhs.replaced(&which, &named));
            if run_time_symbol(&l).or_else(|| run_time_symbol(&r)).is_some() {
                return Err("a crossing may read one symbol known only at run time, not two".to_string());
            }
            each.push(self.crossing(&l, &r, above)?);
        }
        Ok(Node::PerSymbol(picked, each))
    }

    fn field(&mut self, base: &Expr, name: &str) -> Result<Node, String> {
        // Fields of whole values resolved here read one slot or one figure directly.
        if let Expr::Global { name: g } = base
            && g == "portfolio"
            && self.world
            && let Some(f) = portfolio_field(name)
        {
            return Ok(Node::Portfolio(Some(f)));
        }
        if let Expr::Call { .. } = base {
            let inner = self.node(base)?;
            return Ok(apply_field(inner, name));
        }
        Ok(Node::Field(self.boxed(base)?, name.to_string()))
    }

    /// A call of a builtin, dispatched on its id in the stdlib's table.
    fn call(&mut self, func: &str, args: &[Expr]) -> Result<Node, String> {
        let id = strat_stdlib::function(func).map(|f| f.id).ok_or_else(|| format!("there is no function `{func}`"))?;
        match id {
            Builtin::Abs => self.math(MathFn::Abs, args),
            Builtin::Floor => self.math(MathFn::Floor, args),
            Builtin::Round => self.math(MathFn::Round, args),
            Builtin::Min => self.math(MathFn::Min, args),
            Builtin::Max => self.math(MathFn::Max, args),
            Builtin::MarketOpen => Ok(Node::Clock(Clock::MarketOpen)),
            Builtin::TimeOfDay => Ok(Node::Clock(Clock::TimeOfDay)),
            Builtin::Today => Ok(Node::Clock(Clock::Today)),
            Builtin::Weekday => Ok(Node::Clock(Clock::Weekday)),
            Builtin::Vix => match self.market.symbol("VIX") {
                Some(s) => Ok(Node::Bar(s as u32, BarField::Close)),
                None => Err("`vix()` needs VIX data: add `--data VIX=PATH`".to_string()),
            },
            Builtin::Price
            | Builtin::Close
            | Builtin::Open
            | Builtin::High
            | Builtin::Low
            | Builtin::Volume
            | Builtin::Change
            | Builtin::AvgVolume
            | Builtin::VolumeSpike
            | Builtin::Sma
            | Builtin::Ema
            | Builtin::Rsi
            | Builtin::Macd
            | Builtin::Bollinger
            | Builtin::Atr
            | Builtin::Vwap
            | Builtin::StdDev
            | Builtin::Highest
            | Builtin::Lowest
            | Builtin::Holding
            | Builtin::Position
            | Builtin::News => self.of_symbol(id, func, args),
        }
    }

    fn math(&mut self, f: MathFn, args: &[Expr]) -> Result<Node, String> {
        let args = args.iter().map(|a| self.node(a)).collect::<Result<_, _>>()?;
        Ok(Node::Math(f, args))
    }

    /// A function of a symbol: its first argument names the symbol, as a ticker, or as a value
    /// known only when the run gets there (`trigger.symbol`: one variant per symbol of the
    /// market, chosen by its value).
    fn of_symbol(&mut self, id: Builtin, func: &str, args: &[Expr]) -> Result<Node, String> {
        let sym = match args.first() {
            Some(Expr::Symbol { value }) => {
                self.market.symbol(value).ok_or_else(|| format!("no data for `{value}`: add `--data {value}=PATH`"))?
            }
            Some(Expr::Universe { name }) => {
                return Err(format!("`{name}` is a universe; evaluate one symbol at a time"));
            }
            Some(other) if self.world => {
                let which = self.boxed(other)?;
                let mut each = Vec::with_capacity(self.market.symbols.len());
                for s in self.market.symbols.clone() {
                    let mut concrete = args.to_vec();
                    concrete[0] = Expr::Symbol { value: s };
                    each.push(self.of_symbol(id, func, &concrete)?);
                }
                return Ok(Node::PerSymbol(which, each));
            }
            Some(_) => return Err(format!("`{func}` needs a ticker such as `SPY` here")),
            None => {
                return Err(format!(
                    "`{func}` needs market context (a live run or a backtest), not only price history"
                ));
            }
        };
        self.on_symbol(id, func, sym, args)
    }

    /// `func` on the market's symbol `sym`: a field of its bars, an indicator over them (the
    /// arguments after the symbol are constants), or what the run holds of it.
    fn on_symbol(&mut self, id: Builtin, func: &str, sym: usize, args: &[Expr]) -> Result<Node, String> {
        let reads_volume = matches!(id, Builtin::Volume | Builtin::AvgVolume | Builtin::VolumeSpike | Builtin::Vwap);
        if reads_volume && self.market.without_volume.get(sym).copied().unwrap_or(false) {
            let name = &self.market.symbols[sym];
            let call = if args.len() > 1 { format!("{func}({name}, …)") } else { format!("{func}({name})") };
            return Err(format!("`{call}` reads the volume, but the data for `{name}` has no volume column"));
        }
        let a = Args { func, args, interval: self.market.intervals.get(sym).copied().unwrap_or(86_400) };
        let (s, world) = (sym as u32, self.world);
        let mut slot = |ind: Indicator| self.indicator(sym, func, args, ind);
        match id {
            Builtin::Price | Builtin::Close => Ok(Node::Bar(s, BarField::Close)),
            Builtin::Open => Ok(Node::Bar(s, BarField::Open)),
            Builtin::High => Ok(Node::Bar(s, BarField::High)),
            Builtin::Low => Ok(Node::Bar(s, BarField::Low)),
            Builtin::Volume => Ok(Node::Bar(s, BarField::Volume)),
            Builtin::Sma => Ok(slot(Indicator::Sma(Sma::new(a.period(1)?)))),
            Builtin::Ema => Ok(slot(Indicator::Ema(Ema::new(a.period(1)?)))),
            Builtin::Rsi => Ok(slot(Indicator::Rsi(Rsi::new(a.period(1)?)))),
            Builtin::Macd => {
                Ok(multi(slot(Indicator::Macd(Macd::new(a.period(1)?, a.period(2)?, a.period(3)?))), MACD))
            }
            Builtin::Bollinger => {
                Ok(multi(slot(Indicator::Bollinger(Bollinger::new(a.period(1)?, a.param(2)?))), BANDS))
            }
            Builtin::Atr => Ok(slot(Indicator::Atr(Atr::new(a.period(1)?)))),
            Builtin::StdDev => Ok(slot(Indicator::StdDev(StdDev::new(a.period(1)?)))),
            Builtin::Highest => Ok(slot(Indicator::Highest(Highest::new(a.period(1)?)))),
            Builtin::Lowest => Ok(slot(Indicator::Lowest(Lowest::new(a.period(1)?)))),
            Builtin::Vwap => Ok(slot(Indicator::Vwap(Vwap::new()))),
            Builtin::Change => {
                // On intraday bars, `1d` is the previous session's last close, not a count of bars.
                let whole_days = match args.get(1) {
                    Some(Expr::Num { value, unit: Unit::Seconds }) => value.parse().ok().and_then(sessions),
                    _ => None,
                };
                match whole_days {
                    Some(n) if a.interval < 20 * 3600 => {
                        a.window(1)?;
                        Ok(slot(Indicator::SessionChange(SessionChange::new(n as usize))))
                    }
                    _ => Ok(slot(Indicator::Change(Change::new(a.window(1)?)))),
                }
            }
            Builtin::AvgVolume => Ok(slot(Indicator::AvgVolume(Sma::new(a.window(1)?)))),
            Builtin::VolumeSpike => {
                let avg = Sma::new(window_bars(20.0 * 86_400.0, a.interval));
                let multiplier = a.param(1)?;
                match slot(Indicator::VolumeSpike { avg, multiplier }) {
                    Node::Slot(x) => Ok(Node::Flag(x)),
                    other => Ok(other),
                }
            }
            Builtin::Holding | Builtin::Position | Builtin::News if !world => {
                Err(format!("`{func}` needs a portfolio, news or a live market; `strat eval` sees price history only"))
            }
            Builtin::Holding => Ok(Node::Holding(s)),
            Builtin::Position => Ok(Node::Position(s, None)),
            Builtin::News => {
                let secs = match args.get(1) {
                    Some(Expr::Num { value, unit: Unit::Seconds }) => value.parse::<f64>().unwrap_or(86_400.0) as i64,
                    _ => 86_400,
                };
                Ok(Node::News(s, secs, None))
            }
            Builtin::Abs
            | Builtin::Floor
            | Builtin::Round
            | Builtin::Min
            | Builtin::Max
            | Builtin::MarketOpen
            | Builtin::TimeOfDay
            | Builtin::Today
            | Builtin::Weekday
            | Builtin::Vix => Err(format!("`{func}` is not a function of a symbol")),
        }
    }

    /// The slot of an indicator of `sym`: one instance per (function, symbol, parameters),
    /// shared by every expression that asks for it. The arguments after the symbol are
    /// constants, so their printed form is a fine key.
    fn indicator(&mut self, sym: usize, func: &str, args: &[Expr], ind: Indicator) -> Node {
        let key = format!("{func}|{:?}", &args[1..]);
        Node::Slot(self.market.series.register(sym, key, || ind))
    }
}

/// The constant arguments of a call on one symbol's bars.
struct Args<'e> {
    func: &'e str,
    args: &'e [Expr],
    /// The symbol's bar length in seconds.
    interval: i64,
}

impl Args<'_> {
    fn param(&self, i: usize) -> Result<f64, String> {
        self.args
            .get(i)
            .and_then(constant)
            .ok_or_else(|| format!("argument {} of `{}` must be a constant", i + 1, self.func))
    }

    fn period(&self, i: usize) -> Result<usize, String> {
        Ok(self.param(i)?.max(1.0) as usize)
    }

    /// A duration argument as a number of bars.
    fn window(&self, i: usize) -> Result<usize, String> {
        match self.args.get(i) {
            Some(Expr::Num { value, unit: Unit::Seconds }) => {
                let seconds: f64 = value.parse().unwrap_or(86_400.0);
                // A window shorter than one bar of the data would silently be one bar.
                let bar = if self.interval >= 20 * 3600 { 86_400 } else { self.interval };
                if seconds < bar as f64 {
                    let (w, b) = (crate::value::duration(seconds), crate::value::duration(bar as f64));
                    return Err(format!(
                        "`{}`: a window of {w} is shorter than one bar of the data ({b}); give it a window of at least {b}, or data with shorter bars",
                        self.func
                    ));
                }
                Ok(window_bars(seconds, self.interval))
            }
            _ => Err(format!("argument {} of `{}` must be a duration such as `20d`", i + 1, self.func)),
        }
    }
}

const MACD: &[&str] = &["macd", "signal", "histogram"];
const BANDS: &[&str] = &["upper", "middle", "lower"];

fn multi(n: Node, names: &'static [&'static str]) -> Node {
    match n {
        Node::Slot(s) => Node::Multi(s, names),
        other => other,
    }
}

/// `call(…).name`: one output slot of a multi-output indicator, one figure of a position or a
/// news summary, or (for anything else) a field read at run time.
fn apply_field(n: Node, name: &str) -> Node {
    match n {
        Node::Multi(s, names) => match names.iter().position(|n| *n == name) {
            Some(k) => Node::Slot(s + k as u32),
            None => Node::Field(Box::new(Node::Multi(s, names)), name.to_string()),
        },
        Node::Position(s, None) => match position_field(name) {
            Some(f) => Node::Position(s, Some(f)),
            None => Node::Field(Box::new(Node::Position(s, None)), name.to_string()),
        },
        Node::News(s, w, None) => match news_field(name) {
            Some(f) => Node::News(s, w, Some(f)),
            None => Node::Field(Box::new(Node::News(s, w, None)), name.to_string()),
        },
        Node::PerSymbol(which, each) => {
            Node::PerSymbol(which, each.into_iter().map(|n| apply_field(n, name)).collect())
        }
        other => Node::Field(Box::new(other), name.to_string()),
    }
}

/// The first symbol argument in `e` that is not a ticker: an expression whose value only the
/// run knows (`trigger.symbol`, a binding).
fn run_time_symbol(e: &Expr) -> Option<Expr> {
    match e {
        Expr::Call { func, args } => {
            let takes_symbol = strat_stdlib::function(func)
                .is_some_and(|f| f.params.first().is_some_and(|p| p.ty == strat_stdlib::Ty::Symbol));
            match args.first() {
                Some(Expr::Symbol { .. } | Expr::Universe { .. }) | None => {}
                Some(first) if takes_symbol => return Some(first.clone()),
                Some(_) => {}
            }
            args.iter().find_map(run_time_symbol)
        }
        Expr::Field { base, .. } => run_time_symbol(base),
        Expr::Not { operand } | Expr::Neg { operand } => run_time_symbol(operand),
        Expr::Binary { lhs, rhs, .. } => run_time_symbol(lhs).or_else(|| run_time_symbol(rhs)),
        Expr::List { items } => items.iter().find_map(run_time_symbol),
        _ => None,
    }
}

fn position_field(name: &str) -> Option<PositionField> {
    Some(match name {
        "quantity" => PositionField::Quantity,
        "avg_cost" => PositionField::AvgCost,
        "current_price" => PositionField::CurrentPrice,
        "market_value" => PositionField::MarketValue,
        "unrealized_pnl" => PositionField::UnrealizedPnl,
        "pnl_percent" => PositionField::PnlPercent,
        _ => return None,
    })
}

fn portfolio_field(name: &str) -> Option<PortfolioField> {
    Some(match name {
        "cash" => PortfolioField::Cash,
        "buying_power" => PortfolioField::BuyingPower,
        "total_value" => PortfolioField::TotalValue,
        "positions_count" => PortfolioField::PositionsCount,
        "daily_pnl" => PortfolioField::DailyPnl,
        _ => return None,
    })
}

fn news_field(name: &str) -> Option<NewsField> {
    Some(match name {
        "sentiment" => NewsField::Sentiment,
        "score" => NewsField::Score,
        "count" => NewsField::Count,
        "relevance" => NewsField::Relevance,
        "latest_title" => NewsField::LatestTitle,
        _ => return None,
    })
}

/// The standard library's type of an expression, as far as templates need it (to show units).
fn type_of(e: &Expr) -> Option<strat_stdlib::Ty> {
    use strat_stdlib::Ty;
    match e {
        Expr::Num { unit, .. } => Some(match unit {
            Unit::None => Ty::Number,
            Unit::Percent => Ty::Percent,
            Unit::Money => Ty::Money,
            Unit::Shares => Ty::Quantity,
            Unit::Seconds => Ty::Duration,
        }),
        Expr::Call { func, .. } => strat_stdlib::function(func).map(|f| f.ret),
        Expr::Global { name } => strat_stdlib::global(name).map(|g| g.ty),
        Expr::Field { base, name } => match type_of(base)? {
            Ty::Record(r) => strat_stdlib::record(r)?.fields.iter().find(|f| f.name == name).map(|f| f.ty),
            _ => None,
        },
        Expr::Neg { operand } => type_of(operand),
        Expr::Binary { op, lhs, rhs } if matches!(op.as_str(), "+" | "-" | "*" | "/") => {
            match (type_of(lhs), type_of(rhs)) {
                (Some(Ty::Number) | None, other) => other,
                (this, Some(Ty::Number) | None) => this,
                (Some(Ty::Percent), other) if op == "*" => other,
                (this, Some(Ty::Percent)) if op != "+" && op != "-" => this,
                // Money ÷ money is a ratio; otherwise the left operand's unit.
                (Some(a), Some(b)) if op == "/" && a == b => Some(Ty::Number),
                (this, _) => this,
            }
        }
        _ => None,
    }
}

/// A constant number written in the call (`14`, `-2`).
fn constant(e: &Expr) -> Option<f64> {
    match e {
        Expr::Num { value, .. } => value.parse().ok(),
        Expr::Neg { operand } => constant(operand).map(|v| -v),
        _ => None,
    }
}

/// The sessions a duration of whole days or weeks stands for (a week is five), if it is one.
pub fn sessions(seconds: f64) -> Option<f64> {
    if seconds >= 604_800.0 && seconds % 604_800.0 == 0.0 {
        Some(seconds / 604_800.0 * 5.0)
    } else if seconds >= 86_400.0 && seconds % 86_400.0 == 0.0 {
        Some(seconds / 86_400.0)
    } else {
        None
    }
}

/// A window written as a duration, in bars of data spaced `interval` seconds apart. Days are
/// sessions, as traders count them: for daily bars a day is one bar and a week five; for
/// intraday bars a day is a regular session's worth of bars (6.5 hours), and a shorter duration
/// is the plain ratio.
pub fn window_bars(seconds: f64, interval: i64) -> usize {
    let interval = interval.max(1);
    if interval >= 20 * 3600 {
        return sessions(seconds).unwrap_or((seconds / 86_400.0).ceil()).max(1.0) as usize;
    }
    let bars = match sessions(seconds) {
        Some(n) => n * (23_400.0 / interval as f64).round().max(1.0),
        None => (seconds / interval as f64).round(),
    };
    bars.max(1.0) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use strat_stdlib::{FUNCTIONS, Function, Ty};

    /// A call of `f` with every parameter given: SPY for the symbol, a small constant or one
    /// day for the rest.
    fn full_call(f: &Function) -> Expr {
        let args = f
            .params
            .iter()
            .map(|p| match p.ty {
                Ty::Symbol => Expr::Symbol { value: "SPY".to_string() },
                Ty::Duration => Expr::Num { value: "86400".to_string(), unit: Unit::Seconds },
                _ => Expr::Num { value: "3".to_string(), unit: Unit::None },
            })
            .collect();
        Expr::Call { func: f.name.to_string(), args }
    }

    fn market() -> Market {
        Market::new(vec!["SPY".to_string(), "VIX".to_string()], vec![60, 60])
    }

    #[test]
    fn every_stdlib_function_compiles_in_a_run() {
        for f in FUNCTIONS {
            let mut m = market();
            let universes = BTreeMap::new();
            let compiled = Compiler::new(&mut m, &universes).compile(&full_call(f));
            assert!(compiled.is_ok(), "`{}`: {:?}", f.name, compiled.err());
        }
    }

    #[test]
    fn over_price_history_only_what_needs_a_run_is_refused() {
        let needs_a_run = [Builtin::Holding, Builtin::Position, Builtin::News];
        for f in FUNCTIONS {
            let mut m = market();
            let compiled = Compiler::price_history(&mut m).compile(&full_call(f));
            match compiled {
                Ok(_) => assert!(!needs_a_run.contains(&f.id), "`{}` compiled without a portfolio", f.name),
                Err(e) => {
                    assert!(needs_a_run.contains(&f.id), "`{}`: {e}", f.name);
                    assert!(e.contains("needs a portfolio"), "`{}`: {e}", f.name);
                }
            }
        }
    }

    #[test]
    fn a_name_outside_the_table_is_an_error_not_a_guess() {
        let mut m = market();
        let call = Expr::Call { func: "smaa".to_string(), args: vec![Expr::Symbol { value: "SPY".to_string() }] };
        let err = Compiler::price_history(&mut m).compile(&call).err();
        assert_eq!(err.as_deref(), Some("there is no function `smaa`"));
    }
}
