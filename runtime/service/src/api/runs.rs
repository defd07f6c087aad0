//! The service and its runs.

use super::{ApiError, ApiResult, Shared};
use axum::Json;
use axum::extract::rejection::PathRejection;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use strat_engine::store::RunRecord;

/// A run as the API shows it: its record without what only a resume needs.
pub fn view(r: &RunRecord) -> Value {
    json!({
        "id": r.id,
        "file": r.file,
        "program_hash": r.program_hash,
        "market": r.market,
        "started": r.started,
        "status": r.status,
        "steps": r.steps,
        "last_step": r.last_step,
        "equity": r.equity,
        "final_equity": r.final_equity,
    })
}

/// A path parameter that could not be read, in the API's error shape.
pub fn bad_path(e: PathRejection) -> ApiError {
    ApiError::bad_request(e.body_text())
}

pub async fn status(State(s): State<Shared>) -> Json<Value> {
    Json(json!({
        "service": "strat",
        "version": env!("CARGO_PKG_VERSION"),
        "file": s.file,
        "program_hash": s.program.hash,
        "run": s.current_run(),
        "market": s.market,
        "broker": s.broker,
    }))
}

pub async fn list(State(s): State<Shared>) -> ApiResult<Json<Value>> {
    let runs = s.reader.runs().map_err(ApiError::store)?;
    Ok(Json(json!({"runs": runs.iter().map(view).collect::<Vec<_>>()})))
}

pub async fn one(State(s): State<Shared>, id: Result<Path<u64>, PathRejection>) -> ApiResult<Json<Value>> {
    let Path(id) = id.map_err(bad_path)?;
    Ok(Json(view(&super::run_of(&s, Some(id))?)))
}
