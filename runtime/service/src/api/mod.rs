//! The routes under `/api/v1`, held in one table: the router is built from it and so is the
//! OpenAPI document, so the two cannot disagree.

mod account;
mod agents;
mod emergency;
mod error;
mod executions;
mod firings;
mod lifecycle;
mod openapi;
pub mod performance;
mod runs;
mod webhooks;

pub use agents::agent_view;
pub use error::{ApiError, ApiResult};
pub use executions::{Filter, prompt_texts};

use crate::Service;
use axum::extract::{DefaultBodyLimit, Request, State};
use axum::middleware::Next;
use axum::response::Response;
use axum::routing::{MethodRouter, get, post};
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
const TRIGGER: &[Param] = &[path("id", "string", "The trigger's id (`DipBuyer.0`: its agent and place)")];
const FIRING: &[Param] = &[path("id", "integer", "The firing's number (as its 202 gave it)")];
const HOOK: &[Param] = &[path("path", "string", "The path the trigger declares (`on webhook \"/alerts\"`)")];

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
        route(
            "post",
            "/api/v1/agents/{name}/activate",
            "Activate an agent, workflow or team (body: optional `{\"reason\": …}`)",
            NAME,
            post(lifecycle::activate),
        ),
        route(
            "post",
            "/api/v1/agents/{name}/pause",
            "Pause one: its triggers are not evaluated until it is activated",
            NAME,
            post(lifecycle::pause),
        ),
        route(
            "post",
            "/api/v1/agents/{name}/archive",
            "Archive one: as paused, and shown so",
            NAME,
            post(lifecycle::archive),
        ),
        route(
            "post",
            "/api/v1/agents/{name}/test",
            "Run one once at the run's next step, as by hand; its record once run",
            NAME,
            post(firings::test),
        ),
        route("post", "/api/v1/triggers/{id}/enable", "Enable a trigger", TRIGGER, post(lifecycle::enable)),
        route(
            "post",
            "/api/v1/triggers/{id}/disable",
            "Disable a trigger: it does not fire until enabled",
            TRIGGER,
            post(lifecycle::disable),
        ),
        route(
            "post",
            "/api/v1/halt",
            "Halt everything: nothing fires until resumed, across restarts",
            &[],
            post(lifecycle::halt),
        ),
        route("post", "/api/v1/resume", "Lift a halt", &[], post(lifecycle::resume)),
        route(
            "post",
            "/api/v1/cancel-all",
            "Cancel every open order of the run at its next step; each order's result",
            &[],
            post(emergency::cancel_all),
        ),
        route(
            "post",
            "/api/v1/liquidate",
            "Halt, cancel every open order and sell every position at market; each order's result",
            &[],
            post(emergency::liquidate),
        ),
        route(
            "get",
            "/api/v1/notifications",
            "What became of each notification's delivery to each channel",
            &[],
            get(lifecycle::notifications),
        ),
        route("get", "/api/v1/teams", "The teams, with their members' statuses", &[], get(agents::teams)),
        route(
            "post",
            "/api/v1/teams/{name}/execute",
            "Run a team once at the run's next step, as by hand; its record once run",
            NAME,
            post(firings::execute),
        ),
        route(
            "post",
            "/api/v1/triggers/{id}/test",
            "Run a trigger's graph once as if the trigger fired (a webhook's with the body's payload)",
            TRIGGER,
            post(firings::test_trigger),
        ),
        route(
            "get",
            "/api/v1/audit",
            "The audit log: who did what, when, why, and what came of it",
            &[],
            get(lifecycle::audit),
        ),
        route(
            "get",
            "/api/v1/firings/{id}",
            "A firing from outside: pending, or done with the execution it started",
            FIRING,
            get(firings::one),
        ),
        Route {
            method: "post",
            path: "/api/v1/webhooks/{path}",
            summary: "A signed call of an `on webhook` trigger (Standard Webhooks; no bearer token)",
            params: HOOK,
            public: true,
            handler: post(webhooks::receive).layer(DefaultBodyLimit::max(webhooks::MAX_BODY)),
        },
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

/// Refuses work for the run when it is not running (it ended, or has not begun).
pub fn running(service: &Service) -> ApiResult<()> {
    let run = service.current_run().ok_or_else(|| unavailable("the run has not begun"))?;
    let r = service.reader.run(run).map_err(ApiError::store)?;
    if r.status == "running" {
        Ok(())
    } else {
        Err(unavailable(&format!("run {run} is {}: nothing would run this", r.status)))
    }
}

fn unavailable(why: &str) -> ApiError {
    ApiError { status: axum::http::StatusCode::SERVICE_UNAVAILABLE, code: "not_running", message: why.to_string() }
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
