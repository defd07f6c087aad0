//! The agents, workflows and teams the service runs, and their triggers, from the checked IR.

use super::runs::bad_path;
use super::{ApiError, ApiResult, Shared};
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use strat_engine::control::{Lifecycle, trigger_id};
use strat_lang::ir::{Graph, GraphKind, Trigger, TriggerKind};

fn kind(g: &Graph) -> &'static str {
    match g.kind {
        GraphKind::Agent => "agent",
        GraphKind::Workflow => "workflow",
        GraphKind::Team => "team",
    }
}

/// A trigger as the file writes it, near enough to find it there.
pub fn text(t: &TriggerKind) -> String {
    match t {
        TriggerKind::Schedule { cron, tz } => format!("schedule \"{cron}\" tz \"{tz}\""),
        TriggerKind::Webhook { path, .. } => format!("webhook \"{}\"", path.as_deref().unwrap_or_default()),
        TriggerKind::Manual => "manual".to_string(),
        TriggerKind::Condition { expr } => expr.to_string(),
        TriggerKind::News { keywords, symbols, .. } => format!("news(keywords: {keywords:?}, symbols: {symbols:?})"),
        TriggerKind::Bar { symbols, seconds } => format!("bar({}, {seconds}s)", symbols.join(", ")),
    }
}

fn trigger_kind(t: &TriggerKind) -> &'static str {
    match t {
        TriggerKind::Schedule { .. } => "schedule",
        TriggerKind::Webhook { .. } => "webhook",
        TriggerKind::Manual => "manual",
        TriggerKind::Condition { .. } => "condition",
        TriggerKind::News { .. } => "news",
        TriggerKind::Bar { .. } => "bar",
    }
}

/// A trigger as the API shows it; its id is its graph's name and its place among the graph's
/// triggers (`momentum.0`). A webhook's secret is named by its variable, never shown.
fn trigger(g: &Graph, n: usize, t: &Trigger, life: &Lifecycle, last: &Last) -> Value {
    let id = trigger_id(&g.name, u32::try_from(n).unwrap_or(u32::MAX));
    let mut v = json!({
        "enabled": !life.disabled.contains(&id),
        "last_triggered_at": last.get(&id),
        "id": id,
        "agent": g.name,
        "kind": trigger_kind(&t.kind),
        "text": text(&t.kind),
        "market_hours": t.market_hours,
        "throttles": t.throttles.iter().map(|(count, secs)| json!({"count": count, "seconds": secs})).collect::<Vec<_>>(),
    });
    if let TriggerKind::Webhook { path, secret_env, .. } = &t.kind {
        v["path"] = json!(path);
        v["secret_env"] = json!(secret_env);
    }
    v
}

/// The status of `g`: `active`, `paused` or `archived`.
pub fn status<'a>(g: &Graph, life: &'a Lifecycle) -> &'a str {
    life.status(&g.name)
}

/// When each trigger last started an execution, by id.
pub type Last = std::collections::BTreeMap<String, String>;

pub fn agent_view(g: &Graph, life: &Lifecycle, last: &Last) -> Value {
    json!({
        "name": g.name,
        "kind": kind(g),
        "status": status(g, life),
        "halted": life.halted.is_some(),
        "description": g.description,
        "role": g.role,
        "limits": g.limits,
        "triggers": g.triggers.iter().enumerate().map(|(n, t)| trigger(g, n, t, life, last)).collect::<Vec<_>>(),
    })
}

/// The lifecycle as the store holds it.
pub fn lifecycle(s: &Shared) -> ApiResult<Lifecycle> {
    s.controls.lifecycle().map_err(ApiError::store)
}

/// The graph, place and trigger an id (`DipBuyer.0`) names, or a 404.
pub fn find_trigger<'a>(s: &'a Shared, id: &str) -> ApiResult<(&'a Graph, u32, &'a Trigger)> {
    let found = id.rsplit_once('.').and_then(|(g, n)| {
        let n: u32 = n.parse().ok()?;
        let graph = s.program.graphs.iter().find(|x| x.name == g)?;
        Some((graph, n, graph.triggers.get(n as usize)?))
    });
    found.ok_or_else(|| ApiError::not_found(format!("there is no trigger `{id}` (`GET /api/v1/triggers` lists them)")))
}

/// The place of a graph's `manual` trigger, if it declares one (`u32::MAX`: none, so nothing
/// can disable a run by hand of it but its status).
pub fn manual_place(g: &Graph) -> u32 {
    g.triggers
        .iter()
        .position(|t| t.kind == TriggerKind::Manual)
        .map_or(u32::MAX, |n| u32::try_from(n).unwrap_or(u32::MAX))
}

/// The graph called `name`, or a 404 that lists the names there are.
pub fn find<'a>(s: &'a Shared, name: &str) -> ApiResult<&'a Graph> {
    s.program.graphs.iter().find(|g| g.name == name).ok_or_else(|| {
        let names: Vec<&str> = s.program.graphs.iter().map(|g| g.name.as_str()).collect();
        ApiError::not_found(format!("there is no agent, workflow or team `{name}` (there are: {})", names.join(", ")))
    })
}

/// When each trigger last fired, as the store holds it.
pub fn last(s: &Shared) -> ApiResult<Last> {
    s.reader.last_triggered().map_err(ApiError::store)
}

pub async fn list(State(s): State<Shared>) -> ApiResult<Json<Value>> {
    let (life, last) = (lifecycle(&s)?, last(&s)?);
    Ok(Json(
        json!({"agents": s.program.graphs.iter().map(|g| agent_view(g, &life, &last)).collect::<Vec<_>>(), "halted": life.halted}),
    ))
}

pub async fn one(State(s): State<Shared>, name: Result<Path<String>, PathRejection>) -> ApiResult<Json<Value>> {
    let Path(name) = name.map_err(bad_path)?;
    let (life, last) = (lifecycle(&s)?, last(&s)?);
    Ok(Json(agent_view(find(&s, &name)?, &life, &last)))
}

pub async fn teams(State(s): State<Shared>) -> ApiResult<Json<Value>> {
    let (life, last) = (lifecycle(&s)?, last(&s)?);
    let teams: Vec<Value> =
        s.program.graphs.iter().filter(|g| g.kind == GraphKind::Team).map(|g| agent_view(g, &life, &last)).collect();
    Ok(Json(json!({"teams": teams})))
}

pub async fn triggers(State(s): State<Shared>) -> ApiResult<Json<Value>> {
    let (life, last) = (lifecycle(&s)?, last(&s)?);
    let (life, last) = (&life, &last);
    let all: Vec<Value> = s
        .program
        .graphs
        .iter()
        .flat_map(|g| g.triggers.iter().enumerate().map(move |(n, t)| trigger(g, n, t, life, last)))
        .collect();
    Ok(Json(json!({"triggers": all})))
}
