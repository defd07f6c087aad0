//! `POST /api/v1/webhooks/{path}`: a signed call of an `on webhook` trigger. Checked in this
//! order, each refusal with its status and nothing queued: the path (404), the secret (none
//! declared: 401; not in the service's environment: 503), the Standard Webhooks signature over
//! the raw bytes with its timestamp (400/401), the agent's lifecycle (409), the payload against
//! its declared type (422), the trigger's throttles and the queue's bound (429), the
//! `webhook-id` seen before (409). An accepted call is committed to the store before the 202
//! that acknowledges it, so it runs exactly once at the run's next step, whatever happens.

use super::{ApiError, ApiResult, Shared};
use crate::signature::{self, Headers};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use serde_json::{Value, json};
use strat_engine::control::Firing;
use strat_lang::ir::{Graph, TriggerKind, Type};
use strat_store::Accepted;

/// The largest webhook body accepted (the request is refused with 413 before it is read whole).
pub const MAX_BODY: usize = 64 * 1024;
/// The most firings waiting for the run at once; more are refused (429) rather than queued.
pub const MAX_PENDING: usize = 64;

fn refused(status: StatusCode, code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError { status, code, message: message.into() }
}

/// The graph and trigger a webhook path names (written with or without its leading `/`).
fn find<'a>(s: &'a Shared, path: &str) -> Option<(&'a Graph, u32, &'a TriggerKind)> {
    let wanted = path.trim_matches('/');
    s.program.graphs.iter().find_map(|g| {
        g.triggers.iter().enumerate().find_map(|(n, t)| match &t.kind {
            TriggerKind::Webhook { path: Some(p), .. } if p.trim_matches('/') == wanted => {
                Some((g, u32::try_from(n).unwrap_or(u32::MAX), &t.kind))
            }
            _ => None,
        })
    })
}

fn header<'h>(headers: &'h HeaderMap, name: &str) -> Option<&'h str> {
    headers.get(name).and_then(|v| v.to_str().ok())
}

/// The body as the firing keeps it: JSON checked against the declared type, or the text.
fn payload(body: &[u8], declared: Option<&Type>) -> ApiResult<Value> {
    let unprocessable = |why: String| refused(StatusCode::UNPROCESSABLE_ENTITY, "bad_payload", why);
    let Some(ty) = declared else {
        return Ok(Value::String(String::from_utf8_lossy(body).into_owned()));
    };
    let json: Value = serde_json::from_slice(body).map_err(|e| unprocessable(format!("the body is not JSON: {e}")))?;
    strat_engine::decode::payload(&json, ty).map_err(unprocessable)?;
    Ok(json)
}

/// The ticker a payload names in a `symbol` field of type symbol: what the execution is about.
fn symbol_of(payload: &Value, declared: Option<&Type>) -> Option<String> {
    let Some(Type::Record { fields, .. }) = declared else { return None };
    fields
        .iter()
        .any(|(f, t)| f == "symbol" && *t == Type::Symbol)
        .then(|| payload["symbol"].as_str().map(str::to_string))?
}

/// Refuses a call its trigger's throttles would not let through, or one the queue has no room for.
fn admit(s: &Shared, graph: &Graph, n: u32, now: i64) -> ApiResult<()> {
    let pending = s.controls.waiting().map_err(ApiError::store)?;
    if pending >= MAX_PENDING as u64 {
        return Err(refused(
            StatusCode::TOO_MANY_REQUESTS,
            "queue_full",
            format!("{pending} calls wait for the run already: try again later"),
        ));
    }
    let id = strat_engine::control::trigger_id(&graph.name, n);
    let throttles = graph.triggers.get(n as usize).map(|t| t.throttles.clone()).unwrap_or_default();
    let mut recent = s.recent.lock().map_err(|_| ApiError::store("the throttle's state was poisoned"))?;
    let seen = recent.entry(id.clone()).or_default();
    let longest = throttles.iter().map(|(_, w)| *w as i64).max().unwrap_or(0);
    seen.retain(|t| *t > now - longest);
    for (count, window) in &throttles {
        let inside = seen.iter().filter(|t| **t > now - *window as i64).count();
        if inside >= *count as usize {
            return Err(refused(
                StatusCode::TOO_MANY_REQUESTS,
                "throttled",
                format!("trigger {id} allows {count} calls per {window} s, and had them: try again later"),
            ));
        }
    }
    Ok(())
}

/// Counts an accepted call against its trigger's throttles.
fn count(s: &Shared, graph: &Graph, n: u32, now: i64) {
    if let Ok(mut recent) = s.recent.lock() {
        recent.entry(strat_engine::control::trigger_id(&graph.name, n)).or_default().push_back(now);
    }
}

pub async fn receive(
    State(s): State<Shared>,
    path: Result<Path<String>, PathRejection>,
    headers: HeaderMap,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Path(path) = path.map_err(super::runs::bad_path)?;
    let (graph, n, kind) =
        find(&s, &path).ok_or_else(|| ApiError::not_found(format!("no trigger listens on webhook `{path}`")))?;
    let TriggerKind::Webhook { secret_env, payload: declared, path: written } = kind else {
        return Err(ApiError::not_found(format!("no trigger listens on webhook `{path}`")));
    };
    let Some(variable) = secret_env else {
        return Err(refused(
            StatusCode::UNAUTHORIZED,
            "no_secret",
            format!("webhook `{path}` declares no secret, so no call can be verified: add `secret env(\"NAME\")`"),
        ));
    };
    let secret = match s.secrets.get(variable) {
        Some(Ok(secret)) => secret,
        Some(Err(why)) => {
            return Err(refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "secret_unusable",
                format!("the secret of webhook `{path}` cannot be used: {why}"),
            ));
        }
        None => {
            return Err(refused(
                StatusCode::SERVICE_UNAVAILABLE,
                "secret_unset",
                format!(
                    "the secret of webhook `{path}` is not set: start the service with {variable} in its environment"
                ),
            ));
        }
    };
    let now = crate::unix_now();
    let said = Headers {
        id: header(&headers, signature::ID_HEADER),
        timestamp: header(&headers, signature::TIMESTAMP_HEADER),
        signature: header(&headers, signature::SIGNATURE_HEADER),
    };
    signature::verify(secret, &said, &body, now).map_err(|r| {
        let status = StatusCode::from_u16(r.status()).unwrap_or(StatusCode::UNAUTHORIZED);
        refused(status, r.code(), r.to_string())
    })?;
    super::running(&s)?;
    let life = s.controls.lifecycle().map_err(ApiError::store)?;
    if !life.fires(&graph.name, n) {
        let why = match &life.halted {
            Some(h) => format!("everything is halted ({h}): `strat resume` lifts it"),
            None => format!("{} is {}, or this trigger is disabled", graph.name, super::agents::status(graph, &life)),
        };
        return Err(refused(StatusCode::CONFLICT, "not_active", format!("the call is not queued: {why}")));
    }
    let body_value = payload(&body, declared.as_ref())?;
    admit(&s, graph, n, now)?;
    let firing = Firing {
        seq: 0,
        graph: graph.name.clone(),
        trigger: n,
        kind: "webhook".into(),
        text: format!("webhook \"{}\"", written.as_deref().unwrap_or_default()),
        symbol: symbol_of(&body_value, declared.as_ref()),
        payload: Some(body_value),
        received: format!("{} (webhook-id {})", crate::utc_now(), said.id.unwrap_or_default()),
    };
    match s.controls.accept(said.id, now, firing).map_err(ApiError::store)? {
        Accepted::New(seq) => {
            count(&s, graph, n, now);
            Ok((StatusCode::ACCEPTED, Json(json!({"firing": seq, "agent": graph.name, "status": "pending"}))))
        }
        Accepted::Seen(seq) => Err(refused(
            StatusCode::CONFLICT,
            "replayed",
            format!("this webhook-id was accepted before (firing {seq}): nothing more is done"),
        )),
    }
}
