//! The HTTP side: credentials, rate-limit headers, scripted faults, and the routes.

use super::wire::{self, Answer, query_param};
use super::{Control, Shared, SubmitFault, lock, stream, views};
use bytes::Bytes;
use http_body_util::{BodyExt, Full, Limited};
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use std::sync::Arc;
use std::time::Duration;

/// The largest request body read; a larger one is refused as malformed.
const MAX_BODY: usize = 64 * 1024;
/// What to do with a request once the venue has seen it.
enum Step {
    Answer(Answer),
    /// Close the connection without a response.
    Drop,
    /// Never answer.
    Hang,
    /// Never answer; the order reaches the venue after the delay.
    Late(Duration, Option<Bytes>),
}

/// Serves connections on `listener` until `stopped` fires.
pub(super) async fn serve(
    listener: std::net::TcpListener,
    shared: Arc<Shared>,
    stopped: tokio::sync::oneshot::Receiver<()>,
) {
    crate::serve(listener, move |req| handle(req, shared.clone()), stopped).await;
}

async fn handle(req: Request<Incoming>, shared: Arc<Shared>) -> Result<Response<Full<Bytes>>, std::io::Error> {
    let method = req.method().clone();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    if path == "/stream" {
        // The stream authenticates in its own messages, and scripted REST faults do not apply.
        lock(&shared.state).count_request(&method, &path, &query);
        return Ok(stream::upgrade(req, shared));
    }
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let authorized = header("apca-api-key-id").as_deref() == Some(shared.key_id.as_str())
        && header("apca-api-secret-key").as_deref() == Some(shared.secret.as_str());
    let body = Limited::new(req.into_body(), MAX_BODY).collect().await.ok().map(|b| b.to_bytes());
    let (step, limits, delay) = {
        let mut c = lock(&shared.state);
        let limits = c.count_request(&method, &path, &query);
        let posted = method == Method::POST && path == "/v2/orders";
        if posted {
            c.post_client_ids.push(posted_client_id(body.as_deref()));
        }
        let delay = if posted { c.ack_delay } else { std::time::Duration::ZERO };
        (decide(&mut c, &shared, authorized, &method, &path, &query, body), limits, delay)
    };
    if !delay.is_zero() {
        tokio::time::sleep(delay).await;
    }
    let answer = match step {
        Step::Answer(a) => a,
        Step::Drop => return Err(std::io::Error::other("connection dropped by the fault")),
        Step::Hang => std::future::pending().await,
        Step::Late(delay, body) => {
            tokio::spawn(async move {
                tokio::time::sleep(delay).await;
                let mut c = lock(&shared.state);
                let _ = c.venue.submit(body.as_deref(), &shared.fx);
            });
            std::future::pending().await
        }
    };
    Ok(respond(answer, &limits))
}

fn posted_client_id(body: Option<&[u8]>) -> Option<String> {
    let v: serde_json::Value = serde_json::from_slice(body?).ok()?;
    v.get("client_order_id")?.as_str().map(str::to_string)
}

fn respond(a: Answer, limits: &[(&'static str, String)]) -> Response<Full<Bytes>> {
    let mut r = Response::builder().status(a.status);
    if a.status != 204 {
        r = r.header("content-type", a.content_type);
    }
    for (n, v) in limits {
        r = r.header(*n, v.as_str());
    }
    r.body(Full::new(Bytes::from(a.body))).unwrap_or_else(|_| {
        // Only a status hyper cannot write gets here (a scripted one out of range).
        let mut broken = Response::new(Full::new(Bytes::new()));
        *broken.status_mut() = hyper::StatusCode::INTERNAL_SERVER_ERROR;
        broken
    })
}

impl Control {
    /// Records the request and gives its rate-limit headers.
    fn count_request(&mut self, method: &Method, path: &str, query: &str) -> Vec<(&'static str, String)> {
        let target = if query.is_empty() { path.to_string() } else { format!("{path}?{query}") };
        self.requests.push((method.to_string(), target));
        if method == Method::POST && path == "/v2/orders" {
            self.posts += 1;
        }
        let (now, _) = wire::now();
        if now >= self.window.0 + 60 {
            self.window = (now, 0);
        }
        self.window.1 = self.window.1.saturating_add(1);
        vec![
            ("x-ratelimit-limit", self.rate_limit.to_string()),
            ("x-ratelimit-remaining", self.rate_limit.saturating_sub(self.window.1).to_string()),
            ("x-ratelimit-reset", (self.window.0 + 60).to_string()),
        ]
    }
}

fn decide(
    c: &mut Control,
    shared: &Shared,
    authorized: bool,
    method: &Method,
    path: &str,
    query: &str,
    body: Option<Bytes>,
) -> Step {
    let fx = &shared.fx;
    if !authorized {
        return Step::Answer(Answer::json_text(401, &fx.unauthorized));
    }
    if method == Method::GET && c.failing_gets.1 > 0 {
        c.failing_gets.1 -= 1;
        return Step::Answer(failure(c.failing_gets.0, fx));
    }
    if method == Method::POST && path == "/v2/orders" {
        return submit(c, shared, body);
    }
    Step::Answer(route(c, shared, method, path, query))
}

/// The answer of a failing request: the venue's 429 body, else a plain one.
fn failure(status: u16, fx: &super::Fixtures) -> Answer {
    match status {
        429 => Answer::json_text(429, &fx.rate_limited),
        504 => Answer::text(504, "text/html", "<html><body><h1>504 Gateway Time-out</h1></body></html>\n"),
        502 => Answer::text(502, "text/html", "<html><body><h1>502 Bad Gateway</h1></body></html>\n"),
        s => Answer::text(s, "text/plain", "Internal Server Error"),
    }
}

fn submit(c: &mut Control, shared: &Shared, body: Option<Bytes>) -> Step {
    let fx = &shared.fx;
    let fault = c.faults.pop_front();
    match fault {
        None => Step::Answer(c.venue.submit(body.as_deref(), fx)),
        Some(SubmitFault::RateLimited) => Step::Answer(Answer::json_text(429, &fx.rate_limited)),
        Some(SubmitFault::InsufficientBuyingPower) => Step::Answer(Answer::json(403, &fx.buying_power)),
        Some(SubmitFault::ArriveLate(d)) => Step::Late(d, body),
        Some(after) => {
            let _ = c.venue.submit(body.as_deref(), fx);
            match after {
                SubmitFault::StatusAfterAccept(s) => Step::Answer(failure(s, fx)),
                SubmitFault::TimeoutAfterAccept => Step::Hang,
                _ => Step::Drop,
            }
        }
    }
}

fn route(c: &mut Control, shared: &Shared, method: &Method, path: &str, query: &str) -> Answer {
    let fx = &shared.fx;
    let v = &mut c.venue;
    let order_id = path.strip_prefix("/v2/orders/").filter(|id| !id.is_empty() && !id.contains('/'));
    let symbol = path.strip_prefix("/v2/positions/").filter(|s| !s.is_empty() && !s.contains('/'));
    match (method.as_str(), path) {
        ("GET", "/v2/account") => views::account(v, fx),
        ("GET", "/v2/positions") => views::positions(v, fx),
        ("GET", "/v2/clock") => views::clock(v),
        ("GET", "/v2/orders") => views::list(v, query),
        ("DELETE", "/v2/orders") => v.cancel_all(fx),
        ("DELETE", "/v2/positions") => v.close_all(query_param(query, "cancel_orders").as_deref() == Some("true"), fx),
        ("GET", "/v2/orders:by_client_order_id") => {
            let found = query_param(query, "client_order_id").and_then(|id| v.by_client_id(&id).map(|o| o.json()));
            found.map_or_else(|| Answer::json_text(404, &fx.not_found), |o| Answer::json(200, &o))
        }
        ("GET", _) if order_id.is_some() => {
            let found = order_id.and_then(|id| v.by_id(id)).map(|o| o.json());
            found.map_or_else(|| Answer::json_text(404, &fx.not_found), |o| Answer::json(200, &o))
        }
        ("DELETE", _) if order_id.is_some() => v.cancel(order_id.unwrap_or_default(), fx),
        ("GET", _) if symbol.is_some() => views::one_position(v, symbol.unwrap_or_default(), fx),
        (_, "/v2/account" | "/v2/positions" | "/v2/clock" | "/v2/orders" | "/v2/orders:by_client_order_id") => {
            Answer::error(405, 40_510_000, "method not allowed")
        }
        _ => Answer::json(404, &serde_json::json!({ "message": "Not Found" })),
    }
}
