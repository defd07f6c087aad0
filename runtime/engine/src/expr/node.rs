//! Compiled expression trees and their evaluation.
//!
//! Operators, symbols and indicator outputs are resolved at compile time, so evaluating reads
//! slots and bars by index. Numbers and booleans take their own paths (`num`, `truth`) that
//! build no [`Value`]; anything else goes through `value`. A value that is not defined (an
//! indicator in its warm-up, a symbol without a bar yet, a division by zero) is `None`, and
//! anything computed from it is `None` too.

use super::{Env, World};
use crate::market::Bar;
use crate::value::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BarField {
    Open,
    High,
    Low,
    Close,
    Volume,
}

impl BarField {
    /// This field of `b`.
    #[inline]
    pub fn of(self, b: &Bar) -> f64 {
        match self {
            BarField::Open => b.open,
            BarField::High => b.high,
            BarField::Low => b.low,
            BarField::Close => b.close,
            BarField::Volume => b.volume,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BinOp {
    Add,
    Sub,
    Mul,
    Div,
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
    And,
    Or,
    In,
}

impl BinOp {
    pub fn parse(op: &str) -> Option<BinOp> {
        Some(match op {
            "+" => BinOp::Add,
            "-" => BinOp::Sub,
            "*" => BinOp::Mul,
            "/" => BinOp::Div,
            "<" => BinOp::Lt,
            "<=" => BinOp::Le,
            ">" => BinOp::Gt,
            ">=" => BinOp::Ge,
            "==" => BinOp::Eq,
            "!=" => BinOp::Ne,
            "and" => BinOp::And,
            "or" => BinOp::Or,
            "in" => BinOp::In,
            _ => return None,
        })
    }

    pub fn is_comparison(self) -> bool {
        matches!(self, BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MathFn {
    Abs,
    Floor,
    Round,
    Min,
    Max,
}

/// A field of `position(s)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PositionField {
    Quantity,
    AvgCost,
    CurrentPrice,
    MarketValue,
    UnrealizedPnl,
    PnlPercent,
}

/// A field of `portfolio`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PortfolioField {
    Cash,
    BuyingPower,
    TotalValue,
    PositionsCount,
    DailyPnl,
}

/// A field of `news(s, window)`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NewsField {
    Sentiment,
    Score,
    Count,
    Relevance,
    LatestTitle,
}

/// Time read from the clock.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Clock {
    /// Seconds since midnight, exchange time.
    TimeOfDay,
    /// Days since 0001-01-01 (comparable with date literals).
    Today,
    /// 1 (Monday) to 7 (Sunday).
    Weekday,
    /// The instant, as text.
    Now,
    /// Whether the market is open.
    MarketOpen,
}

#[derive(Debug, Clone)]
pub enum Node {
    Num(f64),
    Bool(bool),
    Text(String),
    Symbol(String),
    List(Vec<Node>),
    /// A field of a symbol's latest bar.
    Bar(u32, BarField),
    /// A numeric output of a shared indicator.
    Slot(u32),
    /// The outputs of a multi-output indicator (`macd`, `bollinger`) as a record, from a slot.
    Multi(u32, &'static [&'static str]),
    /// A boolean output of a shared indicator (stored as 1 or 0).
    Flag(u32),
    /// Whether a shared crossing fired at this step.
    Cross {
        id: u32,
        above: bool,
    },
    Holding(u32),
    Position(u32, Option<PositionField>),
    Portfolio(Option<PortfolioField>),
    News(u32, i64, Option<NewsField>),
    Clock(Clock),
    /// A binding of the run: `let`, a model's answer, `trigger`.
    Local(String),
    /// A global the host supplies: `limits`, `performance`.
    Global(String),
    Field(Box<Node>, String),
    Not(Box<Node>),
    Neg(Box<Node>),
    Bin(BinOp, Box<Node>, Box<Node>),
    Math(MathFn, Vec<Node>),
    /// A call whose symbol is known only when it runs (`rsi(trigger.symbol, 14)`): compiled once
    /// per symbol of the run, chosen by the symbol's value.
    PerSymbol(Box<Node>, Vec<Node>),
    /// Text with placeholders.
    Template(Vec<Part>),
}

#[derive(Debug, Clone)]
pub enum Part {
    Text(String),
    /// A placeholder, with the type its value is shown as (`-3.25%`, `$1,250.00`).
    Expr(Node, Option<strat_stdlib::Ty>),
}

/// A value as a template shows it: a number with the unit of its type (as the REPL shows it),
/// records and lists as JSON.
pub fn render(v: &Value, ty: Option<strat_stdlib::Ty>) -> String {
    match (v, ty) {
        (Value::Num(_), Some(t)) => v.show(&t.display()),
        (Value::Num(_), None) => v.show("number"),
        _ => v.to_string(),
    }
}

impl Node {
    /// Calls `f` on this node and every node inside it.
    pub fn visit(&self, f: &mut impl FnMut(&Node)) {
        f(self);
        match self {
            Node::List(items) | Node::Math(_, items) => items.iter().for_each(|n| n.visit(f)),
            Node::Field(b, _) | Node::Not(b) | Node::Neg(b) => b.visit(f),
            Node::Bin(_, a, b) => {
                a.visit(f);
                b.visit(f);
            }
            Node::PerSymbol(s, each) => {
                s.visit(f);
                each.iter().for_each(|n| n.visit(f));
            }
            Node::Template(parts) => parts.iter().for_each(|p| {
                if let Part::Expr(n, _) = p {
                    n.visit(f);
                }
            }),
            _ => {}
        }
    }
}

/// The number a node stands for, without building a [`Value`] on the common paths.
#[inline]
pub fn num(n: &Node, env: &Env<'_>, w: &dyn World) -> Option<f64> {
    match n {
        Node::Num(v) => Some(*v),
        Node::Slot(s) => env.series.get(*s),
        Node::Bar(sym, field) => env.bars.get(*sym as usize)?.as_ref().map(|b| field.of(b)),
        Node::Neg(x) => num(x, env, w).map(|v| -v),
        Node::Bin(op @ (BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div), a, b) => {
            let (a, b) = (num(a, env, w)?, num(b, env, w)?);
            match op {
                BinOp::Add => Some(a + b),
                BinOp::Sub => Some(a - b),
                BinOp::Mul => Some(a * b),
                _ if b == 0.0 => None,
                _ => Some(a / b),
            }
        }
        Node::Math(f, args) => {
            let x = num(args.first()?, env, w)?;
            match f {
                MathFn::Abs => Some(x.abs()),
                MathFn::Floor => Some(x.floor()),
                MathFn::Round => Some(x.round()),
                MathFn::Min => Some(x.min(num(args.get(1)?, env, w)?)),
                MathFn::Max => Some(x.max(num(args.get(1)?, env, w)?)),
            }
        }
        Node::Position(sym, Some(f)) => {
            let p = w.position(*sym as usize);
            Some(match f {
                PositionField::Quantity => p.quantity,
                PositionField::AvgCost => p.avg_cost,
                PositionField::CurrentPrice => p.current_price,
                PositionField::MarketValue => p.market_value,
                PositionField::UnrealizedPnl => p.unrealized_pnl,
                PositionField::PnlPercent => p.pnl_percent,
            })
        }
        Node::Portfolio(Some(f)) => {
            let p = w.portfolio();
            Some(match f {
                PortfolioField::Cash => p.cash,
                PortfolioField::BuyingPower => p.buying_power,
                PortfolioField::TotalValue => p.total_value,
                PortfolioField::PositionsCount => p.positions_count,
                PortfolioField::DailyPnl => p.daily_pnl,
            })
        }
        Node::PerSymbol(s, each) => num(each.get(env.symbol_index(s, w)?)?, env, w),
        _ => value(n, env, w)?.num(),
    }
}

/// Whether a node is true; `None` when it has no value.
#[inline]
pub fn truth(n: &Node, env: &Env<'_>, w: &dyn World) -> Option<bool> {
    match n {
        Node::Bool(b) => Some(*b),
        Node::Flag(s) => env.series.get(*s).map(|v| v != 0.0),
        Node::Cross { id, above } => env.crossing(*id, *above),
        Node::Holding(sym) => Some(w.position(*sym as usize).quantity != 0.0),
        Node::Not(x) => truth(x, env, w).map(|b| !b),
        Node::Bin(op, a, b) if op.is_comparison() => {
            let (a, b) = (num(a, env, w)?, num(b, env, w)?);
            Some(match op {
                BinOp::Lt => a < b,
                BinOp::Le => a <= b,
                BinOp::Gt => a > b,
                _ => a >= b,
            })
        }
        Node::Bin(BinOp::And, a, b) => {
            let (a, b) = (truth(a, env, w), truth(b, env, w));
            Some(a? && b?)
        }
        Node::Bin(BinOp::Or, a, b) => {
            let (a, b) = (truth(a, env, w), truth(b, env, w));
            Some(a? || b?)
        }
        Node::Clock(Clock::MarketOpen) => Some(env.market_open()),
        Node::PerSymbol(s, each) => truth(each.get(env.symbol_index(s, w)?)?, env, w),
        _ => match value(n, env, w)? {
            Value::Bool(b) => Some(b),
            _ => None,
        },
    }
}

/// The value of any node.
pub fn value(n: &Node, env: &Env<'_>, w: &dyn World) -> Option<Value> {
    Some(match n {
        Node::Num(_)
        | Node::Slot(_)
        | Node::Bar(..)
        | Node::Neg(_)
        | Node::Math(..)
        | Node::Position(_, Some(_))
        | Node::Portfolio(Some(_))
        | Node::Bin(BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div, ..) => Value::Num(num(n, env, w)?),
        Node::Bool(_)
        | Node::Flag(_)
        | Node::Cross { .. }
        | Node::Holding(_)
        | Node::Not(_)
        | Node::Clock(Clock::MarketOpen)
        | Node::Bin(BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge | BinOp::And | BinOp::Or, ..) => {
            Value::Bool(truth(n, env, w)?)
        }
        Node::Multi(s, names) => {
            let mut fields = std::collections::BTreeMap::new();
            for (k, name) in names.iter().enumerate() {
                fields.insert(name.to_string(), Value::Num(env.series.get(s + k as u32)?));
            }
            Value::Record(fields)
        }
        Node::Text(t) => Value::Text(t.clone()),
        Node::Symbol(s) => Value::Symbol(s.clone()),
        Node::List(items) => Value::List(items.iter().map(|i| value(i, env, w)).collect::<Option<_>>()?),
        Node::Position(sym, None) => {
            let p = w.position(*sym as usize);
            Value::record([
                ("symbol", Value::Symbol(env.symbols.get(*sym as usize)?.clone())),
                ("quantity", Value::Num(p.quantity)),
                ("avg_cost", Value::Num(p.avg_cost)),
                ("current_price", Value::Num(p.current_price)),
                ("market_value", Value::Num(p.market_value)),
                ("unrealized_pnl", Value::Num(p.unrealized_pnl)),
                ("pnl_percent", Value::Num(p.pnl_percent)),
            ])
        }
        Node::Portfolio(None) => w.portfolio_record(),
        Node::News(sym, window, field) => {
            let s = w.news(*sym as usize, *window);
            let summary = Value::record([
                ("sentiment", Value::Text(s.sentiment().to_string())),
                ("score", Value::Num(s.score)),
                ("count", Value::Num(s.count as f64)),
                ("relevance", Value::Num(s.relevance)),
                ("latest_title", Value::Text(s.latest_title.clone())),
            ]);
            match field {
                None => summary,
                Some(f) => {
                    let name = match f {
                        NewsField::Sentiment => "sentiment",
                        NewsField::Score => "score",
                        NewsField::Count => "count",
                        NewsField::Relevance => "relevance",
                        NewsField::LatestTitle => "latest_title",
                    };
                    summary.field(name)?.clone()
                }
            }
        }
        Node::Clock(c) => {
            let now = env.now;
            match c {
                Clock::TimeOfDay => Value::Num(f64::from(chrono::Timelike::num_seconds_from_midnight(&now.time()))),
                Clock::Today => Value::Num(f64::from(chrono::Datelike::num_days_from_ce(&now.date()))),
                Clock::Weekday => Value::Num(f64::from(chrono::Datelike::weekday(&now.date()).number_from_monday())),
                Clock::Now => Value::Text(now.to_string()),
                Clock::MarketOpen => Value::Bool(env.market_open()),
            }
        }
        Node::Local(name) => w.local(name)?,
        Node::Global(name) => w.global(name)?,
        Node::Field(base, name) => value(base, env, w)?.field(name)?.clone(),
        Node::Bin(BinOp::Eq, a, b) => Value::Bool(value(a, env, w)? == value(b, env, w)?),
        Node::Bin(BinOp::Ne, a, b) => Value::Bool(value(a, env, w)? != value(b, env, w)?),
        Node::Bin(BinOp::In, a, b) => {
            let item = value(a, env, w)?;
            match value(b, env, w)? {
                Value::List(items) => Value::Bool(items.contains(&item)),
                _ => return None,
            }
        }
        Node::PerSymbol(s, each) => value(each.get(env.symbol_index(s, w)?)?, env, w)?,
        Node::Template(parts) => {
            let mut out = String::new();
            for p in parts {
                match p {
                    Part::Text(t) => out.push_str(t),
                    Part::Expr(e, ty) => match value(e, env, w) {
                        Some(v) => out.push_str(&render(&v, *ty)),
                        None => out.push_str("n/a"),
                    },
                }
            }
            Value::Text(out)
        }
    })
}
