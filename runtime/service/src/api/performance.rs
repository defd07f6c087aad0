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

/// The figures of one graph in a run from a time on: the seed's statistics, the very record
/// a finished run keeps (`description` and `role` left out: they are the file's, not the run's).
pub type Performance = strat_engine::report::Stats;

fn time(text: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f"))
        .ok()
}

/// Adds up each graph's executions, orders and sales in `run` at or after `since` (all of the
/// run without it), in one pass over each. Sales are booked against the average cost of every
/// fill of the run before them (the engine's own account does it), so a window's P&L is that
/// of the sales inside it.
pub fn performances(
    reader: &Reader,
    run: u64,
    since: Option<NaiveDateTime>,
) -> Result<BTreeMap<String, Performance>, String> {
    let mut all: BTreeMap<String, (Performance, f64)> = BTreeMap::new();
    let inside = |t: Option<NaiveDateTime>| since.is_none_or(|s| t.is_some_and(|t| t >= s));
    reader
        .each_execution(run, &mut |e| {
            let Some(graph) = e["graph"].as_str() else { return Ok(()) };
            if !inside(e["time"].as_str().and_then(time)) {
                return Ok(());
            }
            let (p, time_ms) = all.entry(graph.to_string()).or_default();
            p.total_executions += 1;
            p.rejected_executions += u64::from(e["status"] == "rejected");
            p.failed_executions += u64::from(e["status"] == "failed");
            let verdicts = e["validation"].as_array().map_or(&[][..], Vec::as_slice);
            p.refused += verdicts.iter().filter(|v| v["approved"] == false).count() as u64;
            *time_ms += e["duration_ms"].as_f64().unwrap_or(0.0);
            p.input_tokens += e["input_tokens"].as_u64().unwrap_or(0);
            p.output_tokens += e["output_tokens"].as_u64().unwrap_or(0);
            p.cost += e["cost"].as_f64().unwrap_or(0.0);
            Ok(())
        })
        .map_err(|e| e.to_string())?;
    for o in reader.orders(run).map_err(|e| e.to_string())? {
        if inside(Some(o.time)) {
            let (p, _) = all.entry(o.by.clone()).or_default();
            p.orders += 1;
            p.filled += u64::from(o.status == strat_engine::broker::Status::Filled);
        }
    }
    let mut sales: BTreeMap<String, Vec<f64>> = BTreeMap::new();
    for (by, pnl) in sales_of(&reader.fills(run).map_err(|e| e.to_string())?, since) {
        sales.entry(by).or_default().push(pnl);
    }
    for (graph, sold) in sales {
        let (p, _) = all.entry(graph).or_default();
        // `+ 0.0` makes a sum of nothing 0, not -0.
        p.total_pnl = (sold.iter().sum::<f64>() * 100.0).round() / 100.0 + 0.0;
        p.successful_trades = sold.iter().filter(|s| **s > 0.0).count() as u64;
        p.failed_trades = sold.len() as u64 - p.successful_trades;
        p.win_rate = Some(p.successful_trades as f64 / sold.len() as f64 * 100.0);
    }
    Ok(all
        .into_iter()
        .map(|(g, (mut p, time_ms))| {
            if p.total_executions > 0 {
                p.avg_execution_time_ms = time_ms / p.total_executions as f64;
            }
            (g, p)
        })
        .collect())
}

/// [`performances`] of one graph (zeros when it did nothing in the window).
pub fn performance(
    reader: &Reader,
    run: u64,
    graph: &str,
    since: Option<NaiveDateTime>,
) -> Result<Performance, String> {
    Ok(performances(reader, run, since)?.remove(graph).unwrap_or_default())
}

/// Who made each sale at or after `since`, and its profit, every fill booked in order.
fn sales_of(fills: &[Fill], since: Option<NaiveDateTime>) -> Vec<(String, f64)> {
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
    account.closed_trades.iter().filter(|t| inside(t.time)).map(|t| (t.by.clone(), to_f64(t.pnl))).collect()
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
