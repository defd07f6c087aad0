//! Risk limits: what a `limits` block may set.

use crate::types::{LimitField, Ty};

const fn l(name: &'static str, ty: Ty, min: Option<f64>, max: Option<f64>, doc: &'static str) -> LimitField {
    LimitField { name, ty, doc, min, max }
}

pub static LIMIT_FIELDS: &[LimitField] = &[
    l("max_position", Ty::Money, Some(0.0), None, "Largest value one position may reach, in money."),
    l(
        "max_allocation",
        Ty::Percent,
        Some(0.0),
        Some(100.0),
        "Largest share of the portfolio's total value one order may use.",
    ),
    l("max_daily_trades", Ty::Number, Some(0.0), None, "Most orders per trading day."),
    l("allow", Ty::SymbolSet, None, None, "Only these symbols may be traded."),
    l("block", Ty::SymbolSet, None, None, "These symbols may never be traded."),
    l("max_vix", Ty::Number, Some(0.0), None, "No orders while the VIX is above this level (40 is a common choice)."),
    l("market_hours_only", Ty::Bool, None, None, "Refuse orders while the market is closed."),
    l(
        "max_sector_exposure",
        Ty::Percent,
        Some(0.0),
        Some(100.0),
        "Largest share of positions in one sector (40% is a common choice).",
    ),
    l("min_confidence", Ty::Number, Some(0.0), Some(1.0), "Ignore model decisions less confident than this."),
    l("stop_loss", Ty::Percent, Some(0.0), Some(100.0), "Attach a stop this far below each entry."),
    l("take_profit", Ty::Percent, Some(0.0), Some(1000.0), "Attach a profit target this far above each entry."),
    l("max_drawdown", Ty::Percent, Some(0.0), Some(100.0), "Pause the agent when its drawdown exceeds this."),
    l(
        "min_avg_pnl",
        Ty::Money,
        None,
        None,
        "Pause the agent when its average P&L per trade over 30 days falls below this (for example -$100).",
    ),
    l(
        "max_volatility",
        Ty::Percent,
        Some(0.0),
        None,
        "No new positions in symbols more volatile than this: the annualised standard deviation of daily returns over 20 days (the daily figure × √252; the seed refuses over 60%).",
    ),
    l("min_liquidity", Ty::Quantity, Some(0.0), None, "No positions in symbols with a smaller average daily volume."),
];

pub fn limit_field(name: &str) -> Option<&'static LimitField> {
    LIMIT_FIELDS.iter().find(|f| f.name == name)
}
