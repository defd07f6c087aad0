//! The seed's statistics of one agent, workflow or team over a window of a run: what its
//! executions, orders and trades add up to, read from the store as the run goes.

use super::runs::bad_path;
use super::{ApiError, ApiResult, Shared, agents::find, run_of};
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use chrono::NaiveDateTime;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use strat_engine::broker::{Account, Side, to_f64};
use strat_engine::store::Fill;
use strat_store::Reader;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Window {
    pub run: Option<u64>,
    pub days: Option<u32>,
}

/// The figures of `graph` in `run` from `since` on (all of the run without it).
#[derive(Debug, Default, Clone, PartialEq, serde::Serialize)]
pub struct Performance {
    pub total_executions: u64,
    pub rejected_executions: u64,
    pub failed_executions: u64,
    pub orders: u64,
    pub filled: u64,
    pub successful_trades: u64,
    pub failed_trades: u64,
    pub total_pnl: f64,
    pub win_rate: Option<f64>,
    pub avg_execution_time_ms: f64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost: f64,
}

fn time(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
}

/// Adds up `graph`'s executions, orders and sales in `run` at or after `since`. Sales are
/// booked against the average cost of every fill of the run before them (the engine's own
/// account does it), so a window's P&L is that of the sales inside it.
pub fn performance(
    reader: &Reader,
    run: u64,
    graph: &str,
    since: Option<NaiveDateTime>,
) -> Result<Performance, String> {
    let mut p = Performance::default();
    let inside = |t: Option<NaiveDateTime>| since.is_none_or(|s| t.is_some_and(|t| t >= s));
    let mut time_ms = 0.0;
    reader
        .each_execution(run, &mut |e| {
            if e["graph"] != graph || !inside(e["time"].as_str().and_then(time)) {
                return Ok(());
            }
            p.total_executions += 1;
            p.rejected_executions += u64::from(e["status"] == "rejected");
            p.failed_executions += u64::from(e["status"] == "failed");
            time_ms += e["duration_ms"].as_f64().unwrap_or(0.0);
            p.input_tokens += e["input_tokens"].as_u64().unwrap_or(0);
            p.output_tokens += e["output_tokens"].as_u64().unwrap_or(0);
            p.cost += e["cost"].as_f64().unwrap_or(0.0);
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    if p.total_executions > 0 {
        p.avg_execution_time_ms = time_ms / p.total_executions as f64;
    }
    for o in reader.orders(run).map_err(|e| e.to_string())? {
        if o.by == graph && inside(Some(o.time)) {
            p.orders += 1;
            p.filled += u64::from(o.status == strat_engine::broker::Status::Filled);
        }
    }
    let sales = sales(&reader.fills(run).map_err(|e| e.to_string())?, graph, since);
    // `+ 0.0` makes a sum of nothing 0, not -0.
    p.total_pnl = (sales.iter().sum::<f64>() * 100.0).round() / 100.0 + 0.0;
    p.successful_trades = sales.iter().filter(|s| **s > 0.0).count() as u64;
    p.failed_trades = sales.len() as u64 - p.successful_trades;
    p.win_rate = (!sales.is_empty()).then(|| p.successful_trades as f64 / sales.len() as f64 * 100.0);
    Ok(p)
}

/// The profit of each of `graph`'s sales at or after `since`, every fill booked in order.
fn sales(fills: &[Fill], graph: &str, since: Option<NaiveDateTime>) -> Vec<f64> {
    let mut symbols: BTreeMap<&str, usize> = BTreeMap::new();
    for f in fills {
        let n = symbols.len();
        symbols.entry(f.symbol.as_str()).or_insert(n);
    }
    let mut account = Account::restore(rust_decimal::Decimal::ZERO, &[], symbols.len());
    for f in fills {
        let sym = symbols[f.symbol.as_str()];
        let value = strat_engine::broker::dec(f.price) * rust_decimal::Decimal::from(f.qty);
        let commission = strat_engine::broker::dec(f.commission);
        let at = time(&f.time).unwrap_or_default();
        match f.side {
            Side::Buy => account.buy(sym, f.qty, value + commission),
            // A sale the fills cannot cover (a position held before the run) has no cost to
            // book against: it is left out of the trades rather than given a made-up one.
            Side::Sell => drop(account.sell(sym, &f.symbol, f.qty, value - commission, at, &f.by)),
        }
    }
    let inside = |t: NaiveDateTime| since.is_none_or(|s| t >= s);
    account.closed_trades.iter().filter(|t| t.by == graph && inside(t.time)).map(|t| to_f64(t.pnl)).collect()
}

pub async fn one(
    State(s): State<Shared>,
    name: Result<Path<String>, PathRejection>,
    q: Result<Query<Window>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Path(name) = name.map_err(bad_path)?;
    let Query(w) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let graph = find(&s, &name)?;
    let run = run_of(&s, w.run)?;
    let last = run.last_step.as_deref().and_then(time);
    let since = w.days.zip(last).map(|(d, l)| l - chrono::Duration::days(i64::from(d)));
    let p = performance(&s.reader, run.id, &graph.name, since).map_err(ApiError::store)?;
    Ok(Json(json!({"run": run.id, "agent": graph.name, "since": since, "until": last, "performance": p})))
}
