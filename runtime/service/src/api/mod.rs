//! The routes under `/api/v1`, held in one table: the router is built from it and so is the
//! OpenAPI document, so the two cannot disagree.

mod account;
mod agents;
mod error;
mod executions;
mod openapi;
mod performance;
mod runs;

pub use error::{ApiError, ApiResult};
pub use executions::Filter;

use crate::Service;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{MethodRouter, get};
use std::sync::Arc;

pub type Shared = Arc<Service>;

/// Where a parameter goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum In {
    Path,
    Query,
}

/// A parameter of a route, as the OpenAPI document describes it.
#[derive(Debug, Clone, Copy)]
pub struct Param {
    pub name: &'static str,
    pub place: In,
    /// `integer`, `string`, …
    pub kind: &'static str,
    pub about: &'static str,
}

const fn query(name: &'static str, kind: &'static str, about: &'static str) -> Param {
    Param { name, place: In::Query, kind, about }
}

const fn path(name: &'static str, kind: &'static str, about: &'static str) -> Param {
    Param { name, place: In::Path, kind, about }
}

/// One route: what the OpenAPI document says of it, and what answers it.
pub struct Route {
    pub method: &'static str,
    pub path: &'static str,
    pub summary: &'static str,
    pub params: &'static [Param],
    /// Answered without the token (the webhooks, which carry their own signatures).
    pub public: bool,
    pub handler: MethodRouter<Shared>,
}

const RUN: Param = query("run", "integer", "The run (default: the service's, else the latest)");
const RUN_ONLY: &[Param] = &[RUN];
const RUN_ID: &[Param] = &[path("id", "integer", "The run's id")];
const NAME: &[Param] = &[path("name", "string", "Its name")];
const WINDOW: &[Param] = &[
    path("name", "string", "Its name"),
    RUN,
    query("days", "integer", "Only the last N days of the run (default: all of it)"),
];
const EXECUTION: &[Param] = &[path("id", "integer", "The execution's id in its run"), RUN];

fn route(
    method: &'static str,
    path: &'static str,
    summary: &'static str,
    params: &'static [Param],
    handler: MethodRouter<Shared>,
) -> Route {
    Route { method, path, summary, params, public: false, handler }
}

/// Every route of the API.
pub fn routes() -> Vec<Route> {
    vec![
        route(
            "get",
            "/api/v1/status",
            "What the service runs: its file, run, market and broker",
            &[],
            get(runs::status),
        ),
        route("get", "/api/v1/runs", "Every run in the store, oldest first", &[], get(runs::list)),
        route("get", "/api/v1/runs/{id}", "One run", RUN_ID, get(runs::one)),
        route("get", "/api/v1/agents", "The agents, workflows and teams, with their triggers", &[], get(agents::list)),
        route("get", "/api/v1/agents/{name}", "One agent, workflow or team", NAME, get(agents::one)),
        route(
            "get",
            "/api/v1/agents/{name}/performance",
            "The seed's statistics of one agent, workflow or team over a window of days",
            WINDOW,
            get(performance::one),
        ),
        route("get", "/api/v1/triggers", "Every trigger of every agent, workflow and team", &[], get(agents::triggers)),
        route(
            "get",
            "/api/v1/executions",
            "A page of a run's executions, oldest first, filtered",
            executions::PARAMS,
            get(executions::list),
        ),
        route(
            "get",
            "/api/v1/executions/{id}",
            "One execution, whole: trigger, context, prompt, reply, decision, gate checks, orders, tokens, cost, duration",
            EXECUTION,
            get(executions::one),
        ),
        route("get", "/api/v1/orders", "A run's orders", account::ORDER_PARAMS, get(account::orders)),
        route(
            "get",
            "/api/v1/positions",
            "The positions a run holds, as of its last step",
            RUN_ONLY,
            get(account::positions),
        ),
        route(
            "get",
            "/api/v1/account",
            "A run's equity and positions as of its last step",
            RUN_ONLY,
            get(account::account),
        ),
        route("get", "/api/v1/openapi.json", "This document", &[], get(openapi::document)),
    ]
}

/// The router of [`routes`]: the token checked first on every route that is not public, bodies
/// over [`crate::MAX_BODY`] refused, anything else 404 in the API's error shape.
pub fn router(service: Shared) -> axum::Router {
    let (mut guarded, mut public) = (axum::Router::new(), axum::Router::new());
    for r in routes() {
        if r.public {
            public = public.route(r.path, r.handler);
        } else {
            guarded = guarded.route(r.path, r.handler);
        }
    }
    let guarded = guarded.route_layer(axum::middleware::from_fn_with_state(service.clone(), authorised));
    guarded.merge(public).fallback(unknown).layer(DefaultBodyLimit::max(crate::MAX_BODY)).with_state(service)
}

async fn unknown(uri: axum::http::Uri) -> ApiError {
    ApiError::not_found(format!("there is no `{}` here: `/api/v1/openapi.json` lists the routes", uri.path()))
}

/// Lets a request through when it carries the service's token.
async fn authorised(State(service): State<Shared>, request: Request, next: Next) -> Result<Response, ApiError> {
    let given = request
        .headers()
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    match given {
        Some(token) if service.tokens.accepts(token) => Ok(next.run(request).await),
        _ => Err(ApiError::unauthorized()),
    }
}

/// The run a request means: the one asked for, else the service's, else the store's latest.
pub fn run_of(service: &Service, asked: Option<u64>) -> ApiResult<strat_engine::store::RunRecord> {
    let id = match asked.or(service.current_run()) {
        Some(id) => id,
        None => {
            let runs = service.reader.runs().map_err(ApiError::store)?;
            runs.last().map(|r| r.id).ok_or_else(|| ApiError::not_found("there are no runs yet"))?
        }
    };
    service.reader.run(id).map_err(|e| match e {
        strat_engine::store::StoreError::NoRun(id) => ApiError::not_found(format!("there is no run {id}")),
        e => ApiError::store(e),
    })
}
