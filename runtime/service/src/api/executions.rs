//! A run's executions: pages of them, filtered, and one whole.

use super::{ApiError, ApiResult, Param, Shared, query, run_of, runs::bad_path};
use axum::Json;
use axum::extract::rejection::{PathRejection, QueryRejection};
use axum::extract::{Path, Query, State};
use serde_json::{Value, json};
use std::ops::ControlFlow;
use strat_store::Reader;

/// The most executions a page holds.
pub const MAX_PAGE: usize = 1000;
const DEFAULT_PAGE: usize = 100;

pub const PARAMS: &[Param] = &[
    super::RUN,
    query("agent", "string", "Only this agent, workflow or team's"),
    query("status", "string", "Only those that ended so: success, rejected, failed or skipped"),
    query("symbol", "string", "Only those about this symbol"),
    query("from", "string", "Only those at or after this day or time (YYYY-MM-DD, YYYY-MM-DDTHH:MM:SS)"),
    query("to", "string", "Only those at or before this day or time (a day includes all of it)"),
    query("after", "integer", "The page after this execution id (the `next` of the page before)"),
    query("limit", "integer", "At most this many (default 100, at most 1000)"),
    query("whole", "boolean", "Whole records (context, prompt, reply, gate checks) instead of summaries"),
];

/// Which executions are wanted: the API's query and `strat log`'s flags alike.
#[derive(Debug, Default, Clone, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Filter {
    pub run: Option<u64>,
    pub agent: Option<String>,
    pub status: Option<String>,
    pub symbol: Option<String>,
    pub from: Option<String>,
    pub to: Option<String>,
    pub after: Option<u64>,
    pub limit: Option<usize>,
    /// Whole records instead of summaries.
    pub whole: Option<bool>,
}

const STATUSES: [&str; 4] = ["success", "rejected", "failed", "skipped"];

impl Filter {
    /// Refuses what cannot be meant: an unknown status, a time that is not one, a page of none.
    pub fn check(&self) -> Result<(), String> {
        if let Some(s) = &self.status
            && !STATUSES.contains(&s.as_str())
        {
            return Err(format!("`status` is one of {}, not `{s}`", STATUSES.join(", ")));
        }
        for (name, t) in [("from", &self.from), ("to", &self.to)] {
            if let Some(t) = t
                && !is_time(t)
            {
                return Err(format!("`{name}` is a day (2024-06-03) or a time (2024-06-03T15:30:00), not `{t}`"));
            }
        }
        match self.limit {
            Some(0) => Err("`limit` is at least 1".into()),
            Some(n) if n > MAX_PAGE => Err(format!("`limit` is at most {MAX_PAGE}")),
            _ => Ok(()),
        }
    }

    /// Whether the execution `e` (as the store holds it) is one of those wanted.
    pub fn accepts(&self, e: &Value) -> bool {
        let time = e["time"].as_str().unwrap_or_default();
        self.agent.as_ref().is_none_or(|g| e["graph"] == g.as_str())
            && self.status.as_ref().is_none_or(|s| e["status"] == s.as_str())
            && self.symbol.as_ref().is_none_or(|s| e["trigger"]["symbol"] == s.as_str())
            && self.from.as_ref().is_none_or(|f| time >= f.as_str())
            && self.to.as_ref().is_none_or(|t| within_end(time, t))
    }

    pub fn page(&self) -> usize {
        self.limit.unwrap_or(DEFAULT_PAGE).min(MAX_PAGE)
    }
}

/// `YYYY-MM-DD` or `YYYY-MM-DDTHH:MM[:SS]`.
fn is_time(t: &str) -> bool {
    chrono::NaiveDate::parse_from_str(t, "%Y-%m-%d").is_ok()
        || ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S"].iter().any(|f| chrono::NaiveDateTime::parse_from_str(t, f).is_ok())
}

/// Whether `time` is at or before `end`, a day meaning its end.
fn within_end(time: &str, end: &str) -> bool {
    if end.len() == 10 { time.get(..10).is_some_and(|d| d <= end) } else { time <= end }
}

/// One page of the executions of `run` that `filter` accepts, and the id to ask the next page
/// after (none when this page reached the end). Reads one execution at a time from the first
/// after the cursor, so a page costs what it holds and what it skipped, not the whole run.
pub fn page(reader: &Reader, run: u64, filter: &Filter) -> Result<(Vec<Value>, Option<u64>), String> {
    let (want, mut out, mut next) = (filter.page(), Vec::new(), None);
    let first = filter.after.map_or(0, |a| a.saturating_add(1));
    reader
        .executions_from(run, first, &mut |e| {
            if !filter.accepts(&e) {
                return Ok(ControlFlow::Continue(()));
            }
            if out.len() == want {
                next = out.last().and_then(|l: &Value| l["id"].as_u64());
                return Ok(ControlFlow::Break(()));
            }
            out.push(e);
            Ok(ControlFlow::Continue(()))
        })
        .map_err(|e| e.to_string())?;
    Ok((out, next))
}

/// What a page shows of an execution: enough to find it, not its prompt or context.
fn summary(e: &Value) -> Value {
    let keep = ["id", "time", "graph", "status", "trigger", "decision", "error", "orders", "duration_ms", "cost"];
    Value::Object(keep.iter().filter_map(|k| e.get(*k).map(|v| (k.to_string(), v.clone()))).collect())
}

pub async fn list(State(s): State<Shared>, q: Result<Query<Filter>, QueryRejection>) -> ApiResult<Json<Value>> {
    let Query(filter) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    filter.check().map_err(ApiError::bad_request)?;
    let run = run_of(&s, filter.run)?;
    let (items, next) = page(&s.reader, run.id, &filter).map_err(ApiError::store)?;
    let items: Vec<Value> = if filter.whole == Some(true) { items } else { items.iter().map(summary).collect() };
    Ok(Json(json!({"run": run.id, "executions": items, "next": next})))
}

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RunOnly {
    pub run: Option<u64>,
}

pub async fn one(
    State(s): State<Shared>,
    id: Result<Path<u64>, PathRejection>,
    q: Result<Query<RunOnly>, QueryRejection>,
) -> ApiResult<Json<Value>> {
    let Path(id) = id.map_err(bad_path)?;
    let Query(q) = q.map_err(|e| ApiError::bad_request(e.body_text()))?;
    let run = run_of(&s, q.run)?;
    let mut e = s
        .reader
        .execution(run.id, id)
        .map_err(ApiError::store)?
        .ok_or_else(|| ApiError::not_found(format!("run {} has no execution {id}", run.id)))?;
    if let Some(texts) = prompt_texts(&s.reader, &e["prompt"]).map_err(ApiError::store)? {
        e["prompt_text"] = texts;
    }
    e["run"] = json!(run.id);
    Ok(Json(e))
}

/// The system prompt and the prompt as sent, from the texts the store keeps once.
pub fn prompt_texts(reader: &Reader, prompt: &Value) -> Result<Option<Value>, String> {
    let (Some(system), Some(prefix)) = (prompt["system"].as_str(), prompt["prefix"].as_str()) else { return Ok(None) };
    let text = |id: &str| reader.prompt(id).map_err(|e| e.to_string()).map(Option::unwrap_or_default);
    let sent = text(prefix)? + prompt["rest"].as_str().unwrap_or_default();
    Ok(Some(json!({"system": text(system)?, "prompt": sent})))
}
