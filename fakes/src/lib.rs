//! Fake model provider servers for the tests and benchmarks: real HTTP/1.1 servers on
//! 127.0.0.1 that check credentials the way the real APIs do, answer from a script (status,
//! headers, body, delay, fault), and record every request they receive (headers and body).
//!
//! Bodies come from `shared/data/fixtures/wire/` ([`fixture`]), so the providers are tested
//! against the shapes the real services send. A server runs on its own thread with its own
//! runtime and stops when dropped.
//!
//! [`alpaca::FakeAlpaca`] is different: a stateful broker venue (Alpaca's Trading API) that
//! holds orders, fills and positions, with faults scripted per order submission.
#![allow(clippy::disallowed_methods)] // test support: reads the fixture files

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming};
use hyper::{Request, Response};
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

pub mod alpaca;
mod cache;
pub mod polygon_ws;
pub use cache::{MIN_CACHED_TOKENS, PromptCache, tokens};

/// The text of a fixture under `shared/data/fixtures/` (`wire/anthropic/error_529.json`).
pub fn fixture(path: &str) -> String {
    let full = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/fixtures").join(path);
    std::fs::read_to_string(&full).unwrap_or_else(|e| panic!("fixture {}: {e}", full.display()))
}

/// A fixture under `wire/`, parsed, to edit before serving.
pub fn wire_json(path: &str) -> serde_json::Value {
    serde_json::from_str(&fixture(&format!("wire/{path}"))).unwrap_or_else(|e| panic!("fixture {path}: {e}"))
}

/// The path of Polygon's market status.
pub const MARKET_STATUS: &str = "/v1/marketstatus/now";

/// Polygon's recorded market status with `market` (and every exchange) set to `market`
/// (`open`, `closed`, `extended-hours`), as a 200.
pub fn market_status(market: &str) -> Reply {
    let mut v: serde_json::Value =
        serde_json::from_str(&fixture("polygon/v1_marketstatus_now.json")).expect("the market status fixture");
    v["market"] = serde_json::json!(market);
    for exchange in ["nyse", "nasdaq", "otc"] {
        v["exchanges"][exchange] = serde_json::json!(market);
    }
    Reply::json(200, v.to_string())
}

/// What the server does with a request once its delay has passed.
#[derive(Debug, Clone, PartialEq)]
pub enum Fault {
    /// Answers normally.
    None,
    /// Never answers (the connection stays open until the server stops).
    Hang,
    /// Sends the status, the headers and the first `n` bytes of the body, then breaks the
    /// connection.
    DropAfter(usize),
    /// Sends the body `n` bytes at a time with `pause` in between.
    Drip(usize, Duration),
}

/// One scripted answer.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
    pub delay: Duration,
    pub fault: Fault,
}

impl Reply {
    /// A JSON answer with this status.
    pub fn json(status: u16, body: impl Into<String>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.into().into_bytes(),
            delay: Duration::ZERO,
            fault: Fault::None,
        }
    }

    /// A JSON fixture under `wire/` (`anthropic/error_529.json`) with this status.
    pub fn fixture(status: u16, path: &str) -> Reply {
        Reply::json(status, fixture(&format!("wire/{path}")))
    }

    /// An answer of any content type.
    pub fn raw(status: u16, content_type: &str, body: impl Into<Vec<u8>>) -> Reply {
        Reply {
            status,
            headers: vec![("content-type".into(), content_type.into())],
            body: body.into(),
            delay: Duration::ZERO,
            fault: Fault::None,
        }
    }

    pub fn header(mut self, name: &str, value: &str) -> Reply {
        self.headers.push((name.to_string(), value.to_string()));
        self
    }

    pub fn delay(mut self, d: Duration) -> Reply {
        self.delay = d;
        self
    }

    pub fn fault(mut self, f: Fault) -> Reply {
        self.fault = f;
        self
    }

    /// A hang: the request is read and never answered.
    pub fn hang() -> Reply {
        Reply::json(200, "").fault(Fault::Hang)
    }
}

/// A request as the server received it.
#[derive(Debug, Clone)]
pub struct Received {
    pub method: String,
    pub path: String,
    /// The query string, without the `?` (empty when there is none).
    pub query: String,
    /// Header names in lower case, in the order received.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Received {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Null` when it is not JSON).
    pub fn json(&self) -> serde_json::Value {
        serde_json::from_slice(&self.body).unwrap_or(serde_json::Value::Null)
    }

    /// The whole request as text, to search for things that must not be there.
    pub fn text(&self) -> String {
        let mut t = format!("{} {}\n", self.method, self.path);
        for (n, v) in &self.headers {
            t.push_str(&format!("{n}: {v}\n"));
        }
        t.push_str(&String::from_utf8_lossy(&self.body));
        t
    }
}

/// Which real service the server stands in for: what it checks and the headers it sends.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Kind {
    /// `POST /v1/messages`; needs `x-api-key` (this key) and `anthropic-version`, and
    /// `max_tokens` in the body; sends `request-id` and `anthropic-ratelimit-*`.
    Anthropic { key: String },
    /// `POST /v1/chat/completions`; needs `Authorization: Bearer` (this key); sends
    /// `x-request-id` and `x-ratelimit-*`.
    OpenAi { key: String },
    /// Ollama's OpenAI-compatible `POST /v1/chat/completions`; checks no credentials and sends
    /// no rate-limit headers.
    Ollama,
    /// Polygon's (Massive's) REST API; needs this key as `Authorization: Bearer` or the
    /// `apiKey` query parameter, and answers a missing or wrong one with its 401 body.
    Polygon { key: String },
    /// The receiver of outgoing webhooks (a notification endpoint, a Slack incoming webhook):
    /// checks nothing and sends no headers of its own; what it answers is scripted.
    Receiver,
}

struct State {
    kind: Kind,
    script: VecDeque<Reply>,
    /// Served once the script is used up.
    otherwise: Reply,
    /// Answers by path, ahead of the script: each path's replies in order, its last one again
    /// once the others are served.
    routes: Vec<(String, VecDeque<Reply>)>,
    received: Vec<Received>,
    served: u64,
    in_flight: usize,
    max_in_flight: usize,
    /// When metering: the prompt cache that the replies' `usage` is worked out with.
    meter: Option<PromptCache>,
}

/// A fake provider on `127.0.0.1`, stopped when dropped.
pub struct FakeServer {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn lock(state: &Mutex<State>) -> MutexGuard<'_, State> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

impl FakeServer {
    pub fn anthropic(key: &str) -> FakeServer {
        FakeServer::start(
            Kind::Anthropic { key: key.to_string() },
            Reply::fixture(200, "anthropic/response_text_json.json"),
        )
    }

    pub fn openai(key: &str) -> FakeServer {
        FakeServer::start(Kind::OpenAi { key: key.to_string() }, Reply::fixture(200, "openai/response_chat.json"))
    }

    /// A Polygon REST server that answers the AAPL daily aggregates once its script is used up,
    /// and `/v1/marketstatus/now` with the recorded status (`extended-hours`).
    pub fn polygon(key: &str) -> FakeServer {
        let server = FakeServer::start(
            Kind::Polygon { key: key.to_string() },
            Reply::fixture(200, "polygon/aggs_range_AAPL_1_day.json"),
        );
        server.route(MARKET_STATUS, [Reply::json(200, fixture("polygon/v1_marketstatus_now.json"))]);
        server
    }

    /// A receiver of outgoing webhooks, answering 200 unless scripted otherwise.
    pub fn receiver() -> FakeServer {
        FakeServer::start(Kind::Receiver, Reply::json(200, "{}"))
    }

    pub fn ollama() -> FakeServer {
        FakeServer::start(Kind::Ollama, Reply::fixture(200, "ollama/response_chat.json"))
    }

    /// Starts a server of `kind` that answers `otherwise` once its script is used up.
    pub fn start(kind: Kind, otherwise: Reply) -> FakeServer {
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        std_listener.set_nonblocking(true).expect("non-blocking listener");
        let addr = std_listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State {
            kind,
            script: VecDeque::new(),
            otherwise,
            routes: Vec::new(),
            received: Vec::new(),
            served: 0,
            in_flight: 0,
            max_in_flight: 0,
            meter: None,
        }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shared = state.clone();
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("fake server runtime");
            rt.block_on(serve(std_listener, move |req| handle(req, shared.clone()), stopped));
        });
        FakeServer { addr, state, stop: Some(stop), thread: Some(thread) }
    }

    /// `http://127.0.0.1:PORT`
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Queues answers, served in order before the default one.
    pub fn script(&self, replies: impl IntoIterator<Item = Reply>) -> &FakeServer {
        lock(&self.state).script.extend(replies);
        self
    }

    /// From now on, requests for `path` are answered with `replies` in order (the last one
    /// again once the others are served), ahead of the script, which other paths go on using.
    pub fn route(&self, path: &str, replies: impl IntoIterator<Item = Reply>) -> &FakeServer {
        let replies: VecDeque<Reply> = replies.into_iter().collect();
        let mut s = lock(&self.state);
        s.routes.retain(|(p, _)| p != path);
        if !replies.is_empty() {
            s.routes.push((path.to_string(), replies));
        }
        self
    }

    /// How many requests for `path` were received.
    pub fn hits_on(&self, path: &str) -> usize {
        lock(&self.state).received.iter().filter(|r| r.path == path).count()
    }

    /// Replaces the answer served once the script is used up.
    pub fn otherwise(&self, reply: Reply) -> &FakeServer {
        lock(&self.state).otherwise = reply;
        self
    }

    /// From now on, a successful reply's `usage` is worked out from the request, with prompt
    /// caching as the service does it ([`PromptCache`]), instead of the fixture's figures.
    pub fn metered(&self) -> &FakeServer {
        lock(&self.state).meter = Some(PromptCache::default());
        self
    }

    /// Every request received so far, in order.
    pub fn received(&self) -> Vec<Received> {
        lock(&self.state).received.clone()
    }

    /// How many requests were received.
    pub fn hits(&self) -> usize {
        lock(&self.state).received.len()
    }

    /// The most requests that were waiting for their answer at one time.
    pub fn max_in_flight(&self) -> usize {
        lock(&self.state).max_in_flight
    }
}

impl Drop for FakeServer {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Serves HTTP/1.1 connections on `listener`, each request answered by `handle`, until
/// `stopped` fires: the loop every fake server runs.
pub(crate) async fn serve<F, Fut, B, E>(
    listener: std::net::TcpListener,
    handle: F,
    stopped: tokio::sync::oneshot::Receiver<()>,
) where
    F: Fn(Request<Incoming>) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = Result<Response<B>, E>> + Send + 'static,
    B: Body + Send + 'static,
    B::Data: Send,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
    E: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
    let accept = async {
        loop {
            let Ok((stream, _)) = listener.accept().await else { continue };
            let handle = handle.clone();
            tokio::spawn(async move {
                let service = hyper::service::service_fn(handle);
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                    .with_upgrades()
                    .await;
            });
        }
    };
    tokio::select! {
        _ = stopped => {}
        () = accept => {}
    }
}

/// The answer to an unauthenticated or malformed request, as the real service gives it.
fn refuse(kind: &Kind, req: &Received) -> Option<Reply> {
    match kind {
        Kind::Anthropic { key } => {
            if req.header("x-api-key") != Some(key.as_str()) {
                return Some(Reply::fixture(401, "anthropic/error_401.json"));
            }
            if req.header("anthropic-version").is_none() {
                return Some(Reply::fixture(400, "anthropic/error_400_missing_version.json"));
            }
            if req.json().get("max_tokens").is_none() {
                return Some(Reply::fixture(400, "anthropic/error_400_missing_max_tokens.json"));
            }
            None
        }
        Kind::OpenAi { key } => {
            let want = format!("Bearer {key}");
            (req.header("authorization") != Some(want.as_str())).then(|| Reply::fixture(401, "openai/error_401.json"))
        }
        Kind::Ollama | Kind::Receiver => None,
        Kind::Polygon { key } => {
            let bearer = req.header("authorization") == Some(format!("Bearer {key}").as_str());
            let query = req.query.split('&').any(|kv| kv == format!("apiKey={key}"));
            (!bearer && !query).then(|| Reply::fixture(401, "polygon/error_401.json"))
        }
    }
}

fn service_headers(kind: &Kind, n: u64) -> Vec<(String, String)> {
    let h = |a: &str, b: String| (a.to_string(), b);
    match kind {
        Kind::Anthropic { .. } => vec![
            h("request-id", format!("req_fake{n:06}")),
            h("anthropic-ratelimit-requests-limit", "50".into()),
            h("anthropic-ratelimit-requests-remaining", "49".into()),
            h("anthropic-ratelimit-requests-reset", "2026-02-25T20:02:32Z".into()),
        ],
        Kind::OpenAi { .. } => vec![
            h("x-request-id", format!("req_fake{n:06}")),
            h("x-ratelimit-limit-requests", "5000".into()),
            h("x-ratelimit-remaining-requests", "4999".into()),
            h("x-ratelimit-reset-requests", "12ms".into()),
        ],
        Kind::Ollama | Kind::Receiver => Vec::new(),
        Kind::Polygon { .. } => vec![h("x-request-id", format!("req_fake{n:06}"))],
    }
}

/// A successful reply with its `usage` worked out from the request, when the server meters.
fn meter(s: &mut State, req: &Received, mut reply: Reply) -> Reply {
    let (Some(cache), 200) = (s.meter.as_mut(), reply.status) else { return reply };
    let Ok(mut body) = serde_json::from_slice::<serde_json::Value>(&reply.body) else { return reply };
    let request = req.json();
    let usage = match s.kind {
        Kind::Anthropic { .. } => cache.anthropic(&request, &body["usage"]["output_tokens"]),
        Kind::OpenAi { .. } | Kind::Ollama | Kind::Polygon { .. } | Kind::Receiver => {
            cache.openai(&request, &body["usage"]["completion_tokens"])
        }
    };
    body["usage"] = usage;
    reply.body = body.to_string().into_bytes();
    reply
}

async fn handle(
    req: Request<Incoming>,
    state: Arc<Mutex<State>>,
) -> Result<Response<Scripted>, std::convert::Infallible> {
    let method = req.method().to_string();
    let path = req.uri().path().to_string();
    let query = req.uri().query().unwrap_or_default().to_string();
    let headers: Vec<(String, String)> = req
        .headers()
        .iter()
        .map(|(n, v)| (n.as_str().to_ascii_lowercase(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let body = req.into_body().collect().await.map(|b| b.to_bytes().to_vec()).unwrap_or_default();
    let received = Received { method, path, query, headers, body };
    let (reply, extra) = {
        let mut s = lock(&state);
        s.served += 1;
        s.in_flight += 1;
        s.max_in_flight = s.max_in_flight.max(s.in_flight);
        let n = s.served;
        let extra = service_headers(&s.kind, n);
        let reply = match refuse(&s.kind, &received) {
            Some(r) => r,
            None => match routed(&mut s.routes, &received.path) {
                Some(r) => r,
                None => match s.script.pop_front() {
                    Some(r) => r,
                    None => s.otherwise.clone(),
                },
            },
        };
        let reply = meter(&mut s, &received, reply);
        s.received.push(received);
        (reply, extra)
    };
    if !reply.delay.is_zero() {
        tokio::time::sleep(reply.delay).await;
    }
    if reply.fault == Fault::Hang {
        std::future::pending::<()>().await;
    }
    lock(&state).in_flight -= 1;
    let mut response = Response::builder().status(reply.status);
    for (n, v) in extra.iter().chain(&reply.headers) {
        response = response.header(n, v);
    }
    let body = Scripted::new(reply.body, &reply.fault);
    Ok(response.body(body).unwrap_or_else(|_| Response::new(Scripted::new(Vec::new(), &Fault::None))))
}

/// The next reply routed for `path`, if it has any: the last one stays.
fn routed(routes: &mut [(String, VecDeque<Reply>)], path: &str) -> Option<Reply> {
    let (_, replies) = routes.iter_mut().find(|(p, _)| p == path)?;
    if replies.len() > 1 { replies.pop_front() } else { replies.front().cloned() }
}

/// A response body sent as scripted: whole, in drips, or broken off.
pub struct Scripted {
    chunks: VecDeque<Bytes>,
    /// Fail after the chunks (the connection breaks).
    broken: bool,
    pause: Option<Duration>,
    sleep: Option<Pin<Box<tokio::time::Sleep>>>,
    whole: Option<u64>,
}

impl Scripted {
    fn new(body: Vec<u8>, fault: &Fault) -> Scripted {
        let bytes = Bytes::from(body);
        let len = bytes.len();
        let split = |n: usize| -> VecDeque<Bytes> {
            let n = n.max(1);
            (0..len).step_by(n).map(|i| bytes.slice(i..(i + n).min(len))).collect()
        };
        match fault {
            Fault::DropAfter(n) => Scripted {
                chunks: [bytes.slice(..(*n).min(len))].into(),
                broken: true,
                pause: None,
                sleep: None,
                whole: None,
            },
            Fault::Drip(n, pause) => {
                Scripted { chunks: split(*n), broken: false, pause: Some(*pause), sleep: None, whole: Some(len as u64) }
            }
            _ => Scripted { chunks: [bytes].into(), broken: false, pause: None, sleep: None, whole: Some(len as u64) },
        }
    }
}

impl Body for Scripted {
    type Data = Bytes;
    type Error = std::io::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, std::io::Error>>> {
        if let Some(s) = self.sleep.as_mut() {
            if s.as_mut().poll(cx).is_pending() {
                return Poll::Pending;
            }
            self.sleep = None;
        }
        match self.chunks.pop_front() {
            Some(c) => {
                if let Some(p) = self.pause
                    && !self.chunks.is_empty()
                {
                    self.sleep = Some(Box::pin(tokio::time::sleep(p)));
                }
                Poll::Ready(Some(Ok(Frame::data(c))))
            }
            None if self.broken => Poll::Ready(Some(Err(std::io::Error::other("connection broken by the script")))),
            None => Poll::Ready(None),
        }
    }

    fn size_hint(&self) -> hyper::body::SizeHint {
        match self.whole {
            Some(n) => hyper::body::SizeHint::with_exact(n),
            None => hyper::body::SizeHint::default(),
        }
    }
}
