//! The firings from outside: one looked up (pending, or done with the execution it started),
//! and an agent, workflow or team run by hand through the service (`test`), whose record is
//! returned once the run has run it.

use super::agents::{find, manual_place};
use super::runs::bad_path;
use super::{ApiError, ApiResult, Shared};
use axum::Json;
use axum::body::Bytes;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde_json::{Value, json};
use std::ops::ControlFlow;
use strat_engine::control::Firing;
use strat_lang::ir::TriggerKind;
use strat_store::{Accepted, FiringRecord};

/// How long `test` waits for the run to run it before answering 202.
const TEST_WAIT: std::time::Duration = std::time::Duration::from_secs(30);

/// The execution firing `seq` started in `run`, if it ran.
pub fn execution_of(s: &Shared, run: u64, seq: u64) -> ApiResult<Option<Value>> {
    let mut found = None;
    s.reader
        .executions_from(run, 0, &mut |e| {
            if e["trigger"]["firing"].as_u64() == Some(seq) {
                found = Some(e);
                return Ok(ControlFlow::Break(()));
            }
            Ok(ControlFlow::Continue(()))
        })
        .map_err(ApiError::store)?;
    Ok(found)
}

fn view(s: &Shared, r: &FiringRecord) -> ApiResult<Value> {
    let execution = match r.run {
        Some(run) => execution_of(s, run, r.firing.seq)?,
        None => None,
    };
    Ok(json!({
        "firing": r.firing.seq,
        "agent": r.firing.graph,
        "kind": r.firing.kind,
        "state": r.state,
        "run": r.run,
        "step": r.step,
        "received": r.firing.received,
        "execution": execution.as_ref().map(|e| e["id"].clone()),
        "record": execution,
    }))
}

pub async fn one(State(s): State<Shared>, seq: Result<Path<u64>, PathRejection>) -> ApiResult<Json<Value>> {
    let Path(seq) = seq.map_err(bad_path)?;
    let r = s
        .controls
        .firing(seq)
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::not_found(format!("there is no firing {seq}")))?;
    Ok(Json(view(&s, &r)?))
}

#[derive(serde::Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct TestBody {
    symbol: Option<String>,
    payload: Option<Value>,
}

/// `POST /api/v1/agents/{name}/test`: runs the graph once at the run's next step, as started
/// by hand (its `manual` trigger, if it declares one, can be disabled like any other).
pub async fn test(
    State(s): State<Shared>,
    name: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Path(name) = name.map_err(bad_path)?;
    let graph = find(&s, &name)?;
    by_hand(&s, graph, manual_place(graph), ("manual".into(), "manual".into()), &body).await
}

/// `POST /api/v1/teams/{name}/execute`: a team run once, as by hand.
pub async fn execute(
    State(s): State<Shared>,
    name: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Path(name) = name.map_err(bad_path)?;
    let graph = find(&s, &name)?;
    if graph.kind != strat_lang::ir::GraphKind::Team {
        return Err(ApiError::not_found(format!("`{name}` is not a team (`GET /api/v1/teams` lists them)")));
    }
    by_hand(&s, graph, manual_place(graph), ("manual".into(), "manual".into()), &body).await
}

/// `POST /api/v1/triggers/{id}/test`: the trigger's graph run once as if the trigger fired (a
/// webhook's with the body's `payload`, checked against the declared type).
pub async fn test_trigger(
    State(s): State<Shared>,
    id: Result<Path<String>, PathRejection>,
    body: Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let Path(id) = id.map_err(bad_path)?;
    let (graph, n, t) = super::agents::find_trigger(&s, &id)?;
    let kind =
        serde_json::to_value(&t.kind).ok().and_then(|v| v["trigger"].as_str().map(str::to_string)).unwrap_or_default();
    by_hand(&s, graph, n, (kind, super::agents::text(&t.kind)), &body).await
}

/// Queues a run by hand of `graph` (as trigger `n`, of this kind and text), and answers its
/// record once the run has run it.
async fn by_hand(
    s: &Shared,
    graph: &strat_lang::ir::Graph,
    n: u32,
    (kind, text): (String, String),
    body: &Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let asked: TestBody = if body.iter().all(u8::is_ascii_whitespace) {
        TestBody::default()
    } else {
        serde_json::from_slice(body).map_err(|e| {
            ApiError::bad_request(format!("the body is `{{\"symbol\": …, \"payload\": …}}` or nothing: {e}"))
        })?
    };
    if let (Some(p), Some(strat_lang::ir::Trigger { kind: TriggerKind::Webhook { payload: Some(ty), .. }, .. })) =
        (&asked.payload, graph.triggers.get(n as usize))
    {
        strat_engine::decode::payload(p, ty).map_err(|why| ApiError {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            code: "bad_payload",
            message: why,
        })?;
    }
    super::running(s)?;
    let life = s.controls.lifecycle().map_err(ApiError::store)?;
    if !life.runs(&graph.name) || (n != u32::MAX && !life.fires(&graph.name, n)) {
        return Err(ApiError {
            status: StatusCode::CONFLICT,
            code: "not_active",
            message: format!(
                "{} cannot run now: it is {}, everything is halted, or the trigger is disabled",
                graph.name,
                super::agents::status(graph, &life)
            ),
        });
    }
    let firing = Firing {
        seq: 0,
        graph: graph.name.clone(),
        trigger: n,
        kind,
        text,
        symbol: asked.symbol,
        payload: asked.payload,
        received: format!("{} (api test)", crate::utc_now()),
    };
    let Accepted::New(seq) = s.controls.accept(None, crate::unix_now(), firing).map_err(ApiError::store)? else {
        return Err(ApiError::store("a test was taken for a replay"));
    };
    let begun = tokio::time::Instant::now();
    while begun.elapsed() < TEST_WAIT {
        if let Some(r) = s.controls.firing(seq).map_err(ApiError::store)?
            && r.state != "pending"
        {
            return Ok((StatusCode::OK, Json(view(s, &r)?)));
        }
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
    Ok((StatusCode::ACCEPTED, Json(json!({"firing": seq, "state": "pending", "agent": graph.name}))))
}
