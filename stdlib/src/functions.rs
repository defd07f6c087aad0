//! Builtin functions: the one table the checker, the language server and the REPL read.

use crate::types::{Category as C, Function, Param, Ty, Warmup};

const fn p(name: &'static str, ty: Ty, default: Option<&'static str>, doc: &'static str) -> Param {
    Param { name, ty, default, doc }
}

const SYMBOL: Param = p("symbol", Ty::Symbol, None, "a ticker, a universe (evaluated per symbol) or `trigger.symbol`");
const PERIOD_14: Param = p("period", Ty::Number, Some("14"), "number of bars");
const PERIOD_20: Param = p("period", Ty::Number, Some("20"), "number of bars");
const X: Param = p("x", Ty::Number, None, "a number, price, money, percent or quantity");

pub static FUNCTIONS: &[Function] = &[
    Function {
        name: "price",
        params: &[SYMBOL],
        ret: Ty::Price,
        category: C::Price,
        doc: "The close of the most recent bar that has closed at or before now.",
        example: "price(AAPL) > $200",
        warmup: Warmup::None,
    },
    Function {
        name: "open",
        params: &[SYMBOL],
        ret: Ty::Price,
        category: C::Price,
        doc: "Opening price of the latest closed bar.",
        example: "open(AAPL)",
        warmup: Warmup::None,
    },
    Function {
        name: "high",
        params: &[SYMBOL],
        ret: Ty::Price,
        category: C::Price,
        doc: "Highest price of the latest closed bar.",
        example: "high(AAPL)",
        warmup: Warmup::None,
    },
    Function {
        name: "low",
        params: &[SYMBOL],
        ret: Ty::Price,
        category: C::Price,
        doc: "Lowest price of the latest closed bar.",
        example: "low(AAPL)",
        warmup: Warmup::None,
    },
    Function {
        name: "close",
        params: &[SYMBOL],
        ret: Ty::Price,
        category: C::Price,
        doc: "Closing price of the latest closed bar (the same as `price`).",
        example: "close(SPY)",
        warmup: Warmup::None,
    },
    Function {
        name: "change",
        params: &[SYMBOL, p("window", Ty::Duration, Some("1d"), "how far back to compare")],
        ret: Ty::Percent,
        category: C::Price,
        doc: "Percent change of the close over the window: `(close now / close one window ago - 1) × 100%`.",
        example: "change(AAPL, 1d) <= -3%",
        warmup: Warmup::Param("window"),
    },
    Function {
        name: "volume",
        params: &[SYMBOL],
        ret: Ty::Quantity,
        category: C::Volume,
        doc: "Shares traded in the latest closed bar.",
        example: "volume(AAPL) > 2 * avg_volume(AAPL, 20d)",
        warmup: Warmup::None,
    },
    Function {
        name: "avg_volume",
        params: &[SYMBOL, p("window", Ty::Duration, Some("20d"), "averaging window")],
        ret: Ty::Quantity,
        category: C::Volume,
        doc: "Average volume per bar over the window.",
        example: "avg_volume(AAPL, 20d)",
        warmup: Warmup::Param("window"),
    },
    Function {
        name: "volume_spike",
        params: &[SYMBOL, p("multiplier", Ty::Number, Some("2"), "how many times the 20-day average")],
        ret: Ty::Bool,
        category: C::Volume,
        doc: "True when the latest bar's volume exceeds `multiplier` × the 20-day average volume.",
        example: "volume_spike(AAPL, 3)",
        warmup: Warmup::Text("20 days"),
    },
    Function {
        name: "sma",
        params: &[SYMBOL, PERIOD_20],
        ret: Ty::Price,
        category: C::Indicator,
        doc: "Simple moving average of closes over `period` bars.",
        example: "sma(SPY, 10) crosses above sma(SPY, 30)",
        warmup: Warmup::Param("period"),
    },
    Function {
        name: "ema",
        params: &[SYMBOL, PERIOD_20],
        ret: Ty::Price,
        category: C::Indicator,
        doc: "Exponential moving average of closes (smoothing 2 / (period + 1)), seeded with the SMA of the first `period` closes.",
        example: "price(AAPL) > ema(AAPL, 50)",
        warmup: Warmup::Param("period"),
    },
    Function {
        name: "rsi",
        params: &[SYMBOL, PERIOD_14],
        ret: Ty::Number,
        category: C::Indicator,
        doc: "Relative strength index with Wilder's smoothing, from 0 to 100.",
        example: "rsi(AAPL, 14) < 30",
        warmup: Warmup::Text("period + 1 bars"),
    },
    Function {
        name: "macd",
        params: &[
            SYMBOL,
            p("fast", Ty::Number, Some("12"), "fast EMA period"),
            p("slow", Ty::Number, Some("26"), "slow EMA period"),
            p("signal", Ty::Number, Some("9"), "signal EMA period"),
        ],
        ret: Ty::Record("macd"),
        category: C::Indicator,
        doc: "Moving average convergence/divergence: `.macd` (fast EMA − slow EMA), `.signal` (EMA of macd) and `.histogram` (macd − signal).",
        example: "macd(AAPL, 12, 26, 9).histogram > 0",
        warmup: Warmup::Text("slow + signal - 2 bars"),
    },
    Function {
        name: "bollinger",
        params: &[SYMBOL, PERIOD_20, p("stddev", Ty::Number, Some("2"), "band width in standard deviations")],
        ret: Ty::Record("bollinger"),
        category: C::Indicator,
        doc: "Bollinger bands: `.middle` is the SMA, `.upper` and `.lower` are `stddev` population standard deviations away.",
        example: "price(AAPL) < bollinger(AAPL, 20, 2).lower",
        warmup: Warmup::Param("period"),
    },
    Function {
        name: "atr",
        params: &[SYMBOL, PERIOD_14],
        ret: Ty::Price,
        category: C::Indicator,
        doc: "Average true range with Wilder's smoothing.",
        example: "atr(AAPL, 14)",
        warmup: Warmup::Text("period + 1 bars"),
    },
    Function {
        name: "vwap",
        params: &[SYMBOL],
        ret: Ty::Price,
        category: C::Indicator,
        doc: "Volume-weighted average price of the current session (typical price × volume / volume).",
        example: "price(AAPL) < vwap(AAPL)",
        warmup: Warmup::None,
    },
    Function {
        name: "stddev",
        params: &[SYMBOL, PERIOD_20],
        ret: Ty::Price,
        category: C::Indicator,
        doc: "Population standard deviation of closes over `period` bars.",
        example: "stddev(AAPL, 20)",
        warmup: Warmup::Param("period"),
    },
    Function {
        name: "highest",
        params: &[SYMBOL, PERIOD_20],
        ret: Ty::Price,
        category: C::Indicator,
        doc: "Highest high over `period` bars.",
        example: "price(AAPL) >= highest(AAPL, 52)",
        warmup: Warmup::Param("period"),
    },
    Function {
        name: "lowest",
        params: &[SYMBOL, PERIOD_20],
        ret: Ty::Price,
        category: C::Indicator,
        doc: "Lowest low over `period` bars.",
        example: "price(AAPL) <= lowest(AAPL, 20)",
        warmup: Warmup::Param("period"),
    },
    Function {
        name: "holding",
        params: &[SYMBOL],
        ret: Ty::Bool,
        category: C::Portfolio,
        doc: "True when the portfolio holds a position in the symbol.",
        example: "not holding(AAPL)",
        warmup: Warmup::None,
    },
    Function {
        name: "position",
        params: &[SYMBOL],
        ret: Ty::Record("position"),
        category: C::Portfolio,
        doc: "The position in the symbol (all fields zero when there is none).",
        example: "position(AAPL).pnl_percent <= -7%",
        warmup: Warmup::None,
    },
    Function {
        name: "market_open",
        params: &[],
        ret: Ty::Bool,
        category: C::Market,
        doc: "True during regular NYSE trading hours (holidays and early closes included).",
        example: "market_open()",
        warmup: Warmup::None,
    },
    Function {
        name: "vix",
        params: &[],
        ret: Ty::Number,
        category: C::Market,
        doc: "The latest value of the CBOE volatility index.",
        example: "vix() < 40",
        warmup: Warmup::None,
    },
    Function {
        name: "news",
        params: &[SYMBOL, p("window", Ty::Duration, Some("24h"), "how far back to look")],
        ret: Ty::Record("news_summary"),
        category: C::News,
        doc: "Summary of news about the symbol published within the window. As a trigger, `news(keywords: …, symbols: …, sentiment: …, min_relevance: …)` fires on each matching article.",
        example: "news(AAPL, 24h).sentiment != negative",
        warmup: Warmup::None,
    },
    Function {
        name: "abs",
        params: &[X],
        ret: Ty::Number,
        category: C::Math,
        doc: "Absolute value; keeps the unit of its argument.",
        example: "abs(change(AAPL, 1d)) > 5%",
        warmup: Warmup::None,
    },
    Function {
        name: "min",
        params: &[p("a", Ty::Number, None, "first value"), p("b", Ty::Number, None, "second value, same unit")],
        ret: Ty::Number,
        category: C::Math,
        doc: "The smaller of two values of the same unit.",
        example: "min(portfolio.cash, $5_000)",
        warmup: Warmup::None,
    },
    Function {
        name: "max",
        params: &[p("a", Ty::Number, None, "first value"), p("b", Ty::Number, None, "second value, same unit")],
        ret: Ty::Number,
        category: C::Math,
        doc: "The larger of two values of the same unit.",
        example: "max(sma(AAPL, 20), sma(AAPL, 50))",
        warmup: Warmup::None,
    },
    Function {
        name: "floor",
        params: &[X],
        ret: Ty::Number,
        category: C::Math,
        doc: "Rounds down to a whole number; keeps the unit (so `floor(cash / price)` is whole shares).",
        example: "floor(0.99 * portfolio.cash / close(SPY))",
        warmup: Warmup::None,
    },
    Function {
        name: "round",
        params: &[X],
        ret: Ty::Number,
        category: C::Math,
        doc: "Rounds half away from zero to a whole number; keeps the unit.",
        example: "round(portfolio.cash / price(AAPL))",
        warmup: Warmup::None,
    },
    Function {
        name: "time_of_day",
        params: &[],
        ret: Ty::TimeOfDay,
        category: C::Time,
        doc: "The current time of day in New York.",
        example: "time_of_day() >= 15:30",
        warmup: Warmup::None,
    },
    Function {
        name: "today",
        params: &[],
        ret: Ty::Date,
        category: C::Time,
        doc: "The current date in New York.",
        example: "today() >= 2025-01-02",
        warmup: Warmup::None,
    },
    Function {
        name: "weekday",
        params: &[],
        ret: Ty::Number,
        category: C::Time,
        doc: "Day of the week, 1 for Monday to 7 for Sunday.",
        example: "weekday() == 5",
        warmup: Warmup::None,
    },
];

/// Looks a function up by name (through an index built on first use).
pub fn function(name: &str) -> Option<&'static Function> {
    static INDEX: std::sync::OnceLock<std::collections::BTreeMap<&'static str, &'static Function>> =
        std::sync::OnceLock::new();
    INDEX.get_or_init(|| FUNCTIONS.iter().map(|f| (f.name, f)).collect()).get(name).copied()
}

/// `rsi(symbol: symbol, period: number = 14) -> number`.
pub fn signature(f: &Function) -> String {
    let params: Vec<String> = f
        .params
        .iter()
        .map(|p| match p.default {
            Some(d) => format!("{}: {} = {d}", p.name, p.ty.display()),
            None => format!("{}: {}", p.name, p.ty.display()),
        })
        .collect();
    format!("{}({}) -> {}", f.name, params.join(", "), f.ret.display())
}
