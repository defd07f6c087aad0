//! The risk gate: every order passes it, whoever decided it, and nothing a model writes can
//! get around it. Each check is recorded with its verdict; an order is sent only when every
//! check passes, and a refusal carries the reason of the first that failed.

use crate::broker::{Kind, Request, Side};
use crate::value::Value;
use chrono::NaiveDate;
use strat_lang::ir;

/// The limits in force for a graph, as numbers.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RiskLimits {
    pub allow: Option<Vec<String>>,
    pub block: Vec<String>,
    pub max_position: Option<f64>,
    pub max_allocation: Option<f64>,
    pub max_daily_trades: Option<u64>,
    pub max_vix: Option<f64>,
    pub market_hours_only: bool,
    pub min_confidence: Option<f64>,
    pub stop_loss: Option<f64>,
    pub take_profit: Option<f64>,
    pub max_drawdown: Option<f64>,
    pub min_avg_pnl: Option<f64>,
    pub max_volatility: Option<f64>,
    pub min_liquidity: Option<f64>,
    pub max_sector_exposure: Option<f64>,
    /// The block as a record, for `limits.*` in prompts.
    pub record: Value,
}

impl RiskLimits {
    pub fn from_ir(values: &std::collections::BTreeMap<String, ir::Value>) -> RiskLimits {
        let num = |k: &str| match values.get(k) {
            Some(ir::Value::Number { value, .. }) => value.parse::<f64>().ok(),
            _ => None,
        };
        let syms = |k: &str| match values.get(k) {
            Some(ir::Value::Symbols { value }) => Some(value.clone()),
            _ => None,
        };
        let record = Value::Record(
            values
                .iter()
                .map(|(k, v)| {
                    let v = match v {
                        ir::Value::Number { value, .. } => Value::Num(value.parse().unwrap_or(0.0)),
                        ir::Value::Bool { value } => Value::Bool(*value),
                        ir::Value::Text { value } => Value::Text(value.clone()),
                        ir::Value::Symbols { value } => {
                            Value::List(value.iter().map(|s| Value::Symbol(s.clone())).collect())
                        }
                    };
                    (k.clone(), v)
                })
                .collect(),
        );
        RiskLimits {
            allow: syms("allow"),
            block: syms("block").unwrap_or_default(),
            max_position: num("max_position"),
            max_allocation: num("max_allocation"),
            max_daily_trades: num("max_daily_trades").map(|v| v as u64),
            max_vix: num("max_vix"),
            market_hours_only: matches!(values.get("market_hours_only"), Some(ir::Value::Bool { value: true })),
            min_confidence: num("min_confidence"),
            stop_loss: num("stop_loss"),
            take_profit: num("take_profit"),
            max_drawdown: num("max_drawdown"),
            min_avg_pnl: num("min_avg_pnl"),
            max_volatility: num("max_volatility"),
            min_liquidity: num("min_liquidity"),
            max_sector_exposure: num("max_sector_exposure"),
            record,
        }
    }
}

/// One check and its outcome.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Check {
    pub name: &'static str,
    pub passed: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}

/// The gate's verdict on one order.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Verdict {
    pub approved: bool,
    pub checks: Vec<Check>,
}

impl Verdict {
    /// The reason of the first check that failed.
    pub fn reason(&self) -> Option<&str> {
        self.checks.iter().find(|c| !c.passed).and_then(|c| c.reason.as_deref())
    }
}

/// Who decided an order.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub enum DecidedBy {
    /// The file's own order.
    #[default]
    File,
    /// A model's decision, with its confidence when it gave one.
    Model { confidence: Option<f64> },
}

/// What the gate knows about the account and the market when an order arrives.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub price: f64,
    pub held: u64,
    pub equity: f64,
    pub cash: f64,
    pub peak_equity: f64,
    pub vix: Option<f64>,
    /// Bars shorter than a day, so market hours can be checked.
    pub intraday: bool,
    pub market_open: bool,
    /// Orders this graph placed today, not counting rejected ones.
    pub placed_today: u64,
    pub today: NaiveDate,
    /// Whether a model decided the order, with the confidence its decision gave.
    pub decided_by: DecidedBy,
    /// Standard deviation of the symbol's daily returns, percent.
    pub volatility: Option<f64>,
    /// Average daily volume of the symbol.
    pub avg_volume: Option<f64>,
    /// This graph's closed trades over the last 30 days: (count, average P&L).
    pub recent_trades: (usize, f64),
    /// For a team member: its share of the portfolio (percent) and the value of what it holds.
    pub allocation: Option<(f64, f64)>,
}

/// Checks an order against the account and the limits in force.
pub fn check(limits: Option<&RiskLimits>, r: &Request, f: &Facts) -> Verdict {
    let mut checks = Vec::new();
    let mut add = |name: &'static str, failure: Option<String>| {
        checks.push(Check { name, passed: failure.is_none(), reason: failure });
    };
    if has_prices(r) {
        add("order_prices", price_problem(r));
    }
    let (side, symbol, qty) = (r.side, &r.symbol, r.qty);
    let value = qty as f64 * f.price;
    let buy = side == Side::Buy;
    if side == Side::Sell {
        add("holdings", (qty > f.held).then(|| format!("sells {qty} {symbol} but holds {}", f.held)));
    }
    if buy {
        add("buying_power", (value > f.cash).then(|| format!("needs {value:.2} but buying power is {:.2}", f.cash)));
    }
    if let (true, Some((share, controlled))) = (buy, f.allocation) {
        let allowed = share / 100.0 * f.equity;
        add(
            "allocation",
            (controlled + value > allowed + 1e-9).then(|| {
                format!(
                    "{} holds {controlled:.2} and the order adds {value:.2}: over its {share}% allocation of {:.2}",
                    r.by, f.equity
                )
            }),
        );
    }
    if let Some(l) = limits {
        add("blocked_symbols", l.block.contains(symbol).then(|| format!("{symbol} is blocked by the limits")));
        if let Some(allow) = &l.allow {
            add(
                "allowed_symbols",
                (!allow.contains(symbol)).then(|| format!("{symbol} is not in the allowed symbols")),
            );
        }
        if buy {
            if let Some(max) = l.max_position {
                let worth = (f.held + qty) as f64 * f.price;
                add(
                    "max_position",
                    (worth > max).then(|| format!("position would be worth {worth:.2}, over max_position {max:.2}")),
                );
            }
            if let Some(pct) = l.max_allocation {
                add(
                    "max_allocation",
                    (value > pct / 100.0 * f.equity + 1e-9)
                        .then(|| format!("order worth {value:.2} is over max_allocation {pct}% of {:.2}", f.equity)),
                );
            }
        }
        if l.market_hours_only && f.intraday {
            add(
                "market_hours",
                (!f.market_open)
                    .then(|| format!("the market is closed at {} and the limits trade only in market hours", r.time)),
            );
        }
        if buy {
            if let Some(max) = l.max_drawdown {
                let drawdown = if f.peak_equity > 0.0 { (1.0 - f.equity / f.peak_equity) * 100.0 } else { 0.0 };
                add(
                    "max_drawdown",
                    (drawdown > max)
                        .then(|| format!("drawdown {drawdown:.1}% is over max_drawdown {max}%: buying paused")),
                );
            }
            if let Some(max) = l.max_vix {
                match f.vix {
                    Some(vix) => add(
                        "max_vix",
                        (vix > max).then(|| format!("VIX {vix:.1} is over max_vix {max}: buying paused")),
                    ),
                    None => add(
                        "max_vix",
                        Some("no VIX value at this time, so max_vix cannot be checked: buying refused (add `--data VIX=PATH`)".to_string()),
                    ),
                }
            }
        }
        if let Some(max) = l.max_daily_trades {
            add("max_daily_trades", (f.placed_today >= max).then(|| format!("max_daily_trades {max} reached")));
        }
        // A model's decision must state a confidence that reaches the minimum; the file's own
        // orders state none and are not judged by it.
        if let (Some(min), DecidedBy::Model { confidence }) = (l.min_confidence, f.decided_by) {
            add(
                "min_confidence",
                match confidence {
                    Some(c) if c < min => Some(format!("confidence {c:.2} is under min_confidence {min}")),
                    Some(_) => None,
                    None => {
                        Some(format!("the decision states no confidence, and the limits require min_confidence {min}"))
                    }
                },
            );
        }
        if buy {
            if let Some(max) = l.max_volatility {
                add(
                    "max_volatility",
                    match f.volatility {
                        Some(v) if v > max => {
                            Some(format!("{symbol}'s annualised volatility is {v:.1}%, over max_volatility {max}%"))
                        }
                        Some(_) => None,
                        None => Some(format!("the volatility of {symbol} is not known yet (20 days of data needed)")),
                    },
                );
            }
            if let Some(min) = l.min_liquidity {
                add(
                    "min_liquidity",
                    match f.avg_volume {
                        Some(v) if v < min => {
                            Some(format!("{symbol} trades {v:.0} shares a day, under min_liquidity {min}"))
                        }
                        Some(_) => None,
                        None => Some(format!(
                            "the volume of {symbol} is not known (20 days of data with a volume column needed)"
                        )),
                    },
                );
            }
            if let Some(max) = l.max_sector_exposure {
                // No run has sector data: the limit cannot be evaluated, so it refuses.
                add(
                    "max_sector_exposure",
                    Some(format!("max_sector_exposure {max}% cannot be evaluated: no sector data reaches the run")),
                );
            }
            if let Some(min) = l.min_avg_pnl {
                let (n, avg) = f.recent_trades;
                // As the seed does: ten trades before judging.
                add(
                    "min_avg_pnl",
                    (n >= 10 && avg < min)
                        .then(|| format!("average P&L {avg:.2} over {n} trades in 30 days is under min_avg_pnl {min}")),
                );
            }
        }
    }
    let approved = checks.iter().all(|c| c.passed);
    Verdict { approved, checks }
}

/// Whether the order carries a price or a protective distance the gate must check.
fn has_prices(r: &Request) -> bool {
    !matches!(r.kind, Kind::Market) || r.stop_loss.is_some() || r.take_profit.is_some()
}

/// What is wrong with the order's prices and protective distances: each must be a number above
/// zero. Such an order is refused, never sent as another type (a limit of $0 is not a market
/// order).
fn price_problem(r: &Request) -> Option<String> {
    let (limit, stop) = match r.kind {
        Kind::Market => (None, None),
        Kind::Limit { limit } => (Some(limit), None),
        Kind::Stop { stop } => (None, Some(stop)),
        Kind::StopLimit { stop, limit, .. } => (Some(limit), Some(stop)),
    };
    let bad = |what: &str, v: f64, unit: &str| {
        if v.is_nan() {
            Some(format!("the {what} is undefined here: the order is refused, not sent as another type"))
        } else if v <= 0.0 || v.is_infinite() {
            Some(format!("the {what} {v}{unit} is not above zero: the order is refused, not sent as another type"))
        } else {
            None
        }
    };
    [
        ("limit price", limit, ""),
        ("stop price", stop, ""),
        ("stop_loss", r.stop_loss, "%"),
        ("take_profit", r.take_profit, "%"),
    ]
    .into_iter()
    .find_map(|(what, v, unit)| v.and_then(|v| bad(what, v, unit)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDateTime;

    fn req(side: Side, qty: u64, symbol: &str) -> Request {
        Request {
            time: NaiveDateTime::default(),
            symbol: symbol.into(),
            sym: 0,
            side,
            qty,
            kind: crate::broker::Kind::Market,
            tif: crate::broker::Tif::Day,
            stop_loss: None,
            take_profit: None,
            by: "A".into(),
        }
    }

    fn facts() -> Facts {
        Facts { price: 100.0, equity: 100_000.0, cash: 50_000.0, peak_equity: 100_000.0, ..Facts::default() }
    }

    fn limits() -> RiskLimits {
        RiskLimits {
            allow: Some(vec!["AAPL".into(), "MSFT".into()]),
            block: vec!["GME".into()],
            max_position: Some(10_000.0),
            max_allocation: Some(5.0),
            max_daily_trades: Some(2),
            ..RiskLimits::default()
        }
    }

    #[test]
    fn each_limit_refuses_with_its_reason() {
        let l = limits();
        let cases: Vec<(Request, Facts, &str)> = vec![
            (req(Side::Buy, 10, "AAPL"), facts(), ""),
            (req(Side::Sell, 5, "AAPL"), Facts { held: 3, ..facts() }, "sells 5 AAPL but holds 3"),
            (req(Side::Buy, 600, "AAPL"), facts(), "needs 60000.00 but buying power is 50000.00"),
            (req(Side::Buy, 1, "GME"), facts(), "GME is blocked by the limits"),
            (req(Side::Buy, 1, "TSLA"), facts(), "TSLA is not in the allowed symbols"),
            (
                req(Side::Buy, 40, "AAPL"),
                Facts { held: 70, ..facts() },
                "position would be worth 11000.00, over max_position 10000.00",
            ),
            (req(Side::Buy, 60, "AAPL"), facts(), "order worth 6000.00 is over max_allocation 5% of 100000.00"),
            (req(Side::Buy, 1, "AAPL"), Facts { placed_today: 2, ..facts() }, "max_daily_trades 2 reached"),
        ];
        for (r, f, want) in cases {
            let v = check(Some(&l), &r, &f);
            assert_eq!(v.approved, want.is_empty(), "{want}: {v:?}");
            assert_eq!(v.reason().unwrap_or(""), want);
        }
    }

    #[test]
    fn pauses_and_model_confidence() {
        let l = RiskLimits {
            max_drawdown: Some(10.0),
            max_vix: Some(40.0),
            min_confidence: Some(0.7),
            min_avg_pnl: Some(-100.0),
            ..RiskLimits::default()
        };
        let r = req(Side::Buy, 1, "AAPL");
        let reason = |f: Facts| check(Some(&l), &r, &f).reason().unwrap_or("").to_string();
        // A VIX value under the limit, so the other checks decide.
        let facts = || Facts { vix: Some(20.0), ..facts() };
        assert_eq!(
            reason(Facts { equity: 85_000.0, ..facts() }),
            "drawdown 15.0% is over max_drawdown 10%: buying paused"
        );
        assert_eq!(reason(Facts { vix: Some(45.0), ..facts() }), "VIX 45.0 is over max_vix 40: buying paused");
        assert_eq!(
            reason(Facts { decided_by: DecidedBy::Model { confidence: Some(0.5) }, ..facts() }),
            "confidence 0.50 is under min_confidence 0.7"
        );
        assert_eq!(
            reason(Facts { recent_trades: (12, -150.0), ..facts() }),
            "average P&L -150.00 over 12 trades in 30 days is under min_avg_pnl -100"
        );
        assert_eq!(reason(Facts { recent_trades: (5, -150.0), ..facts() }), "", "too few trades to judge");
        assert_eq!(
            reason(Facts { allocation: Some((30.0, 29_950.0)), ..facts() }),
            "A holds 29950.00 and the order adds 100.00: over its 30% allocation of 100000.00"
        );
        assert_eq!(reason(Facts { allocation: Some((30.0, 29_900.0)), ..facts() }), "");
        // A sale is never paused: it reduces risk.
        let sell = req(Side::Sell, 1, "AAPL");
        assert!(check(Some(&l), &sell, &Facts { held: 1, equity: 50_000.0, ..facts() }).approved);
    }

    #[test]
    fn a_limit_whose_data_is_missing_refuses_buys_with_the_reason() {
        let l = RiskLimits { max_vix: Some(40.0), min_confidence: Some(0.7), ..RiskLimits::default() };
        let buy = req(Side::Buy, 1, "AAPL");
        let with_vix = Facts { vix: Some(20.0), ..facts() };
        let v = check(Some(&l), &buy, &facts());
        assert!(!v.approved);
        assert!(v.reason().is_some_and(|r| r.starts_with("no VIX value at this time")), "{v:?}");
        // A model's decision without a confidence cannot be judged by min_confidence.
        let model = DecidedBy::Model { confidence: None };
        let v = check(Some(&l), &buy, &Facts { decided_by: model, ..with_vix.clone() });
        assert_eq!(v.reason(), Some("the decision states no confidence, and the limits require min_confidence 0.7"));
        // The file's own orders state no confidence and are not judged by it.
        assert!(check(Some(&l), &buy, &with_vix).approved);
        // A sale needs neither.
        assert!(check(Some(&l), &req(Side::Sell, 1, "AAPL"), &Facts { held: 1, ..facts() }).approved);
        // No sector data ever reaches a run: max_sector_exposure refuses every buy, not none.
        let sectors = RiskLimits { max_sector_exposure: Some(30.0), ..RiskLimits::default() };
        let v = check(Some(&sectors), &buy, &facts());
        assert_eq!(v.reason(), Some("max_sector_exposure 30% cannot be evaluated: no sector data reaches the run"));
        assert!(check(Some(&sectors), &req(Side::Sell, 1, "AAPL"), &Facts { held: 1, ..facts() }).approved);
    }

    #[test]
    fn every_check_is_recorded() {
        let v = check(Some(&limits()), &req(Side::Buy, 10, "AAPL"), &facts());
        let names: Vec<&str> = v.checks.iter().map(|c| c.name).collect();
        assert_eq!(
            names,
            vec![
                "buying_power",
                "blocked_symbols",
                "allowed_symbols",
                "max_position",
                "max_allocation",
                "max_daily_trades"
            ]
        );
    }
}
