//! The operator's decisions over HTTP: an agent, workflow or team activated, paused or
//! archived; a trigger enabled or disabled; everything halted and resumed. Each is kept in the
//! store (the run reads it at its next step; it survives restarts and reloads), is idempotent,
//! and is written to the audit log with who asked, why, and what came of it.

use super::agents::{agent_view, find};
use super::runs::bad_path;
use super::{ApiError, ApiResult, Shared};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use strat_engine::control::{Lifecycle, trigger_id};

/// Who the API's callers are in the audit log: whoever holds the token.
pub const WHO: &str = "api (bearer token)";

/// The reason a body gives (`{"reason": "…"}`), if any; an empty body gives none.
pub fn reason(body: &Bytes) -> ApiResult<Option<String>> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(None);
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Why {
        reason: Option<String>,
    }
    let why: Why = serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body is `{{\"reason\": \"…\"}}` or nothing: {e}")))?;
    Ok(why.reason)
}

fn decide(
    s: &Shared,
    what: &str,
    why: Option<String>,
    change: impl FnOnce(&mut Lifecycle) -> String,
) -> ApiResult<(Lifecycle, String)> {
    s.controls.decide(WHO, what, why, change).map_err(ApiError::store)
}

type Name = Result<Path<String>, PathRejection>;

fn status_change(s: Shared, name: Name, body: Bytes, status: &'static str) -> ApiResult<Json<Value>> {
    let Path(name) = name.map_err(bad_path)?;
    let graph = find(&s, &name)?;
    let (after, said) =
        decide(&s, &format!("{status} {}", graph.name), reason(&body)?, |l| l.set_status(&graph.name, status))?;
    let last = super::agents::last(&s)?;
    Ok(Json(json!({"agent": agent_view(graph, &after, &last), "result": said})))
}

pub async fn activate(State(s): State<Shared>, name: Name, body: Bytes) -> ApiResult<Json<Value>> {
    status_change(s, name, body, "active")
}

pub async fn pause(State(s): State<Shared>, name: Name, body: Bytes) -> ApiResult<Json<Value>> {
    status_change(s, name, body, "paused")
}

pub async fn archive(State(s): State<Shared>, name: Name, body: Bytes) -> ApiResult<Json<Value>> {
    status_change(s, name, body, "archived")
}

/// The id of a trigger (`DipBuyer.0`) the program has.
fn trigger_of(s: &Shared, id: &str) -> ApiResult<String> {
    let (graph, n, _) = super::agents::find_trigger(s, id)?;
    Ok(trigger_id(&graph.name, n))
}

fn switch(s: Shared, id: Name, body: Bytes, on: bool) -> ApiResult<Json<Value>> {
    let Path(id) = id.map_err(bad_path)?;
    let key = trigger_of(&s, &id)?;
    let what = format!("{} trigger {key}", if on { "enable" } else { "disable" });
    let (after, said) = decide(&s, &what, reason(&body)?, |l| l.switch(&key, on))?;
    Ok(Json(json!({"trigger": key, "enabled": !after.disabled.contains(&key), "result": said})))
}

pub async fn enable(State(s): State<Shared>, id: Name, body: Bytes) -> ApiResult<Json<Value>> {
    switch(s, id, body, true)
}

pub async fn disable(State(s): State<Shared>, id: Name, body: Bytes) -> ApiResult<Json<Value>> {
    switch(s, id, body, false)
}

pub async fn halt(State(s): State<Shared>, body: Bytes) -> ApiResult<Json<Value>> {
    let why = reason(&body)?;
    let reason = why.clone().unwrap_or_else(|| "halted by the operator".into());
    let (after, said) = decide(&s, "halt", why, |l| l.halt(&reason))?;
    s.tell(format!("halt: {said}"));
    Ok(Json(json!({"halted": after.halted, "result": said})))
}

pub async fn resume(State(s): State<Shared>, body: Bytes) -> ApiResult<Json<Value>> {
    let (after, said) = decide(&s, "resume", reason(&body)?, Lifecycle::resume)?;
    s.tell(format!("resume: {said}"));
    Ok(Json(json!({"halted": after.halted, "result": said})))
}

pub async fn notifications(State(s): State<Shared>) -> ApiResult<Json<Value>> {
    let log = s.controls.deliveries().map_err(ApiError::store)?;
    Ok(Json(json!({"notifications": log})))
}

pub async fn audit(State(s): State<Shared>) -> ApiResult<Json<Value>> {
    let log = s.controls.audit_log().map_err(ApiError::store)?;
    Ok(Json(json!({"audit": log})))
}
