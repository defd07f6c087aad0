//! A run's orders, positions and account, as of its last step.

use super::executions::RunOnly;
use super::{ApiError, ApiResult, Param, Shared, query, run_of};
use axum::Json;
use axum::extract::rejection::QueryRejection;
use axum::extract::{Query, State};
use serde_json::{Value, json};
use strat_engine::broker::Status;

pub const ORDER_PARAMS: &[Param] = &[
    super::RUN,
    query("agent", "string", "Only this agent, workflow or team's"),
    query("symbol", "string", "Only those of this symbol"),
    query("status", "string", "Only those in this state: pending, filled, rejected or cancelled"),
];

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct OrderFilter {
    run: Option<u64>,
    agent: Option<String>,
    symbol: Option<String>,
    status: Option<String>,
}

/// An order's status as the API writes it.
pub fn status_name(s: Status) -> &'static str {
    match s {
        Status::Pending => "pending",
        Status::Filled => "filled",
        Status::Rejected => "rejected",
        Status::Cancelled => "cancelled",
    }
}

fn bad_query(e: QueryRejection) -> ApiError {
    ApiError::bad_request(e.body_text())
}

pub async fn orders(State(s): State<Shared>, q: Result<Query<OrderFilter>, QueryRejection>) -> ApiResult<Json<Value>> {
    let Query(f) = q.map_err(bad_query)?;
    let names = ["pending", "filled", "rejected", "cancelled"];
    if let Some(st) = &f.status
        && !names.contains(&st.as_str())
    {
        return Err(ApiError::bad_request(format!("`status` is one of {}, not `{st}`", names.join(", "))));
    }
    let run = run_of(&s, f.run)?;
    let mut orders = s.reader.orders(run.id).map_err(ApiError::store)?;
    orders.retain(|o| {
        f.agent.as_ref().is_none_or(|a| o.by == *a)
            && f.symbol.as_ref().is_none_or(|x| o.symbol == *x)
            && f.status.as_ref().is_none_or(|st| status_name(o.status) == st)
    });
    Ok(Json(json!({"run": run.id, "orders": orders})))
}

pub async fn positions(State(s): State<Shared>, q: Result<Query<RunOnly>, QueryRejection>) -> ApiResult<Json<Value>> {
    let Query(q) = q.map_err(bad_query)?;
    let run = run_of(&s, q.run)?;
    let held = s.reader.positions(run.id).map_err(ApiError::store)?;
    Ok(Json(json!({"run": run.id, "as_of": run.last_step, "positions": held})))
}

pub async fn account(State(s): State<Shared>, q: Result<Query<RunOnly>, QueryRejection>) -> ApiResult<Json<Value>> {
    let Query(q) = q.map_err(bad_query)?;
    let run = run_of(&s, q.run)?;
    let held = s.reader.positions(run.id).map_err(ApiError::store)?;
    let opening_cash = run.opening.as_ref().map(|o| o.cash.clone());
    Ok(Json(json!({
        "run": run.id,
        "as_of": run.last_step,
        "status": run.status,
        "equity": run.final_equity.or(run.equity),
        "opening_cash": opening_cash,
        "positions": held,
        "broker": s.broker,
    })))
}
