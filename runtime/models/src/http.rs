//! One provider over HTTP: its wire format ([`Wire`]), a reqwest client, the retry policy,
//! the circuit breaker, and the tokio runtime it owns (the engine is synchronous: a call blocks
//! on it; a batch runs concurrently on it within the configured bound).
//!
//! Every attempt has a total timeout (connecting, sending, and reading the whole reply) and a
//! cap on the reply's size. Failures are classified by status first, then by the body's error
//! type, into the runtime's [`ErrorKind`]s; only transient ones are retried.

use super::breaker::{Breaker, Transition};
use super::config::{Endpoint, Secret, Settings};
use super::price::{Prices, Tokens};
use super::retry::{Policy, Rng};
use bytes::Bytes;
use serde_json::Value as J;
use std::collections::BTreeSet;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use strat_engine::llm::{ErrorKind, Llm, LlmError, LlmReply, LlmRequest};

/// The clock and the pauses the providers use, injected so tests and simulations are exact.
pub trait Timing: Send + Sync {
    /// Milliseconds on a monotonic clock (the circuit breaker's cool-down).
    fn now_ms(&self) -> u64;
    /// Seconds since the Unix epoch, for a `retry-after` given as a date; `None`: unknown.
    fn unix_secs(&self) -> Option<f64> {
        None
    }
    /// Waits between attempts.
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>>;
}

/// Sleeping on the provider's tokio runtime (what a real [`Timing`] does).
pub fn tokio_sleep(d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
    Box::pin(tokio::time::sleep(d))
}

/// A clock that moves only when told or slept on: sleeping returns at once, advances the
/// clock and is recorded. For tests and deterministic simulations.
#[derive(Debug, Default)]
pub struct ManualTiming {
    now_ms: AtomicU64,
    slept: Mutex<Vec<Duration>>,
}

impl ManualTiming {
    pub fn new() -> Arc<ManualTiming> {
        Arc::new(ManualTiming::default())
    }
    pub fn advance(&self, d: Duration) {
        self.now_ms.fetch_add(d.as_millis() as u64, Ordering::SeqCst);
    }
    /// Every pause asked for, in order.
    pub fn slept(&self) -> Vec<Duration> {
        self.slept.lock().unwrap_or_else(|p| p.into_inner()).clone()
    }
}

impl Timing for ManualTiming {
    fn now_ms(&self) -> u64 {
        self.now_ms.load(Ordering::SeqCst)
    }
    fn sleep(&self, d: Duration) -> Pin<Box<dyn Future<Output = ()> + Send>> {
        self.slept.lock().unwrap_or_else(|p| p.into_inner()).push(d);
        self.advance(d);
        Box::pin(std::future::ready(()))
    }
}

/// A response as received: status, headers (names in lower case) and the body.
#[derive(Debug, Clone)]
pub struct Raw {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Raw {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }
}

/// A failed attempt, classified.
#[derive(Debug, Clone, PartialEq)]
pub struct Failure {
    pub kind: ErrorKind,
    pub message: String,
    /// Transient: worth another attempt (and a mark against the service's health).
    pub retry: bool,
    pub retry_after: Option<Duration>,
}

/// A reply, read.
#[derive(Debug, Clone, PartialEq)]
pub struct Parsed {
    pub text: String,
    pub model: String,
    pub stop_reason: Option<String>,
    pub tokens: Tokens,
}

/// What is wrong with the body of a 2xx reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplyError {
    /// The body is not JSON (an excerpt of it).
    NotJson(String),
    /// The body is the provider's error object (its message).
    Refused(String),
    /// The body lacks what the format requires: what, and an excerpt of the body.
    Missing { what: &'static str, excerpt: String },
}

impl std::fmt::Display for ReplyError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ReplyError::NotJson(excerpt) => write!(f, "the reply is not JSON: \"{excerpt}\""),
            ReplyError::Refused(message) => write!(f, "the reply is an error: {message}"),
            ReplyError::Missing { what, excerpt } => write!(f, "the reply has no {what}: \"{excerpt}\""),
        }
    }
}

impl std::error::Error for ReplyError {}

/// Why a provider could not be set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SetupError {
    /// The async runtime its calls run on could not start.
    Runtime { provider: String, reason: String },
    /// The HTTP client could not be built.
    Http { provider: String, reason: String },
}

impl std::fmt::Display for SetupError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SetupError::Runtime { provider, reason } => write!(f, "cannot start the runtime for {provider}: {reason}"),
            SetupError::Http { provider, reason } => write!(f, "cannot set up HTTP for {provider}: {reason}"),
        }
    }
}

impl std::error::Error for SetupError {}

/// A provider's wire format.
pub trait Wire: Send + Sync {
    /// The endpoint's URL under the base URL.
    fn url(&self, base: &str) -> String;
    /// Request headers: name, value, and whether the value is secret.
    fn headers(&self, key: Option<&Secret>) -> Vec<(&'static str, String, bool)>;
    fn body(&self, request: &LlmRequest) -> J;
    fn policy(&self, max_retries: u32) -> Policy;
    /// Reads a 2xx reply; `Err` says what is wrong with it.
    fn parse(&self, request: &LlmRequest, body: &[u8]) -> Result<Parsed, ReplyError>;
    /// Classifies a reply that is not a 2xx.
    fn classify(&self, provider: &str, raw: &Raw, unix_now: Option<f64>) -> Failure;
}

/// What the runtime makes of an HTTP status, before the body is read.
pub fn by_status(status: u16) -> (ErrorKind, bool) {
    match status {
        401 | 403 => (ErrorKind::Auth, false),
        402 => (ErrorKind::Quota, false),
        408 | 504 => (ErrorKind::Timeout, true),
        409 => (ErrorKind::Server, true),
        429 => (ErrorKind::RateLimited, true),
        503 | 529 => (ErrorKind::Overloaded, true),
        500..=599 => (ErrorKind::Server, true),
        400..=499 => (ErrorKind::BadRequest, false),
        _ => (ErrorKind::Server, false),
    }
}

/// The first `n` characters of a body, on one line, for messages.
pub fn excerpt(body: &[u8], n: usize) -> String {
    let text = String::from_utf8_lossy(body);
    let one: String = text.split_whitespace().collect::<Vec<_>>().join(" ");
    match one.char_indices().nth(n) {
        Some((at, _)) => format!("{}…", &one[..at]),
        None => one,
    }
}

/// A JSON number as a count (tokens), 0 when absent or not a count.
pub fn count(v: &J) -> u64 {
    v.as_u64().or_else(|| v.as_f64().filter(|x| x.is_finite() && *x >= 0.0).map(|x| x as u64)).unwrap_or(0)
}

/// A numeric model parameter.
pub fn param(request: &LlmRequest, name: &str) -> Option<f64> {
    request.model.params.get(name).and_then(J::as_f64).filter(|x| x.is_finite())
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|p| p.into_inner())
}

struct Inner {
    endpoint: Endpoint,
    wire: Box<dyn Wire>,
    client: reqwest::Client,
    policy: Policy,
    timeout: Duration,
    max_body: usize,
    prices: Prices,
    breaker: Mutex<Breaker>,
    rng: Mutex<Rng>,
    timing: Arc<dyn Timing>,
    notes: Mutex<BTreeSet<String>>,
}

/// A provider over HTTP.
pub struct Provider {
    rt: tokio::runtime::Runtime,
    inner: Arc<Inner>,
    concurrency: usize,
}

impl Provider {
    pub fn new(
        endpoint: Endpoint,
        wire: Box<dyn Wire>,
        settings: &Settings,
        timing: Arc<dyn Timing>,
    ) -> Result<Provider, SetupError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| SetupError::Runtime { provider: endpoint.provider.clone(), reason: e.to_string() })?;
        let client = reqwest::Client::builder()
            .connect_timeout(settings.connect_timeout)
            .redirect(reqwest::redirect::Policy::none())
            .pool_max_idle_per_host(settings.concurrency)
            .user_agent(concat!("strat/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| SetupError::Http { provider: endpoint.provider.clone(), reason: e.to_string() })?;
        let seed = settings.seed ^ endpoint.provider.bytes().fold(0u64, |h, b| h.rotate_left(8) ^ u64::from(b));
        let inner = Inner {
            policy: wire.policy(settings.max_retries),
            wire,
            client,
            timeout: settings.timeout,
            max_body: settings.max_body,
            prices: settings.prices.clone(),
            breaker: Mutex::new(Breaker::new(settings.breaker_failures, settings.breaker_cooldown.as_millis() as u64)),
            rng: Mutex::new(Rng::new(seed)),
            timing,
            notes: Mutex::new(BTreeSet::new()),
            endpoint,
        };
        Ok(Provider { rt, inner: Arc::new(inner), concurrency: settings.concurrency.max(1) })
    }

    pub fn endpoint(&self) -> &Endpoint {
        &self.inner.endpoint
    }
}

impl Llm for Provider {
    fn label(&self) -> String {
        let e = &self.inner.endpoint;
        format!("{} ({} at {})", e.provider, e.dialect.describe(), e.shown_url())
    }

    fn complete(&mut self, request: &LlmRequest) -> Result<LlmReply, LlmError> {
        let inner = self.inner.clone();
        self.rt.block_on(async move { inner.call(request).await })
    }

    fn complete_all(&mut self, requests: &[LlmRequest]) -> Vec<Result<LlmReply, LlmError>> {
        let permits = Arc::new(tokio::sync::Semaphore::new(self.concurrency));
        let inner = self.inner.clone();
        self.rt.block_on(async move {
            let tasks: Vec<_> = requests
                .iter()
                .cloned()
                .map(|r| {
                    let (inner, permits) = (inner.clone(), permits.clone());
                    tokio::spawn(async move {
                        let _permit = permits.acquire_owned().await;
                        inner.call(&r).await
                    })
                })
                .collect();
            let mut out = Vec::with_capacity(tasks.len());
            for t in tasks {
                out.push(t.await.unwrap_or_else(|e| {
                    Err(LlmError { kind: ErrorKind::Transport, message: format!("the call stopped: {e}") })
                }));
            }
            out
        })
    }

    fn notes(&self) -> Vec<String> {
        lock(&self.inner.notes).iter().cloned().collect()
    }
}

impl Inner {
    fn note(&self, n: String) {
        lock(&self.notes).insert(n);
    }

    /// `text` without the key: as written, and inside the JSON it holds once decoded.
    fn scrub(&self, text: &str) -> String {
        match &self.endpoint.key {
            Some(k) => crate::scrub::scrub_text(k, text),
            None => text.to_string(),
        }
    }

    fn error(&self, kind: ErrorKind, message: &str) -> LlmError {
        LlmError { kind, message: self.scrub(message) }
    }

    fn breaker(&self, healthy: bool) {
        let now = self.timing.now_ms();
        let t = if healthy { lock(&self.breaker).success() } else { lock(&self.breaker).failure(now) };
        match t {
            Some(Transition::Opened { failures }) => self.note(format!(
                "{}: the circuit breaker opened after {failures} failed attempts in a row; calls failed at once until a probe got through",
                self.endpoint.provider
            )),
            Some(Transition::Closed) | None => {}
        }
    }

    async fn call(&self, request: &LlmRequest) -> Result<LlmReply, LlmError> {
        let provider = self.endpoint.provider.as_str();
        let timeout = param(request, "timeout")
            .filter(|s| *s > 0.0 && *s < 1e7)
            .map(Duration::from_secs_f64)
            .unwrap_or(self.timeout);
        let body = Bytes::from(serde_json::to_vec(&self.wire.body(request)).unwrap_or_default());
        let mut attempts = 0u32;
        loop {
            let admitted = lock(&self.breaker).admit(self.timing.now_ms());
            if let Err(wait_ms) = admitted {
                let when = if wait_ms == 0 {
                    "while a probe call is out".to_string()
                } else {
                    format!("for {:.1} s more", wait_ms as f64 / 1e3)
                };
                return Err(self.error(
                    ErrorKind::Overloaded,
                    &format!(
                        "{provider}: the circuit breaker is open after repeated failures; calls fail at once {when}"
                    ),
                ));
            }
            attempts += 1;
            let failure = match self.attempt(body.clone(), timeout).await {
                Ok(raw) if (200..300).contains(&raw.status) => {
                    self.breaker(true);
                    return match self.wire.parse(request, &raw.body) {
                        Ok(p) => Ok(self.reply(request, p)),
                        Err(why) => {
                            Err(self.error(ErrorKind::Server, &format!("{provider} answered {} but {why}", raw.status)))
                        }
                    };
                }
                Ok(raw) => self.wire.classify(provider, &raw, self.timing.unix_secs()),
                Err(f) => f,
            };
            self.breaker(!failure.retry);
            let pause = if failure.retry {
                let mut rng = lock(&self.rng);
                self.policy.pause(attempts - 1, failure.retry_after, &mut rng)
            } else {
                None
            };
            match pause {
                Some(p) => self.timing.sleep(p).await,
                None => {
                    let tries = if attempts > 1 { format!(" (after {attempts} attempts)") } else { String::new() };
                    return Err(self.error(failure.kind, &format!("{}{tries}", failure.message)));
                }
            }
        }
    }

    /// One attempt: send, and read the whole reply within `timeout`.
    async fn attempt(&self, body: Bytes, timeout: Duration) -> Result<Raw, Failure> {
        let provider = self.endpoint.provider.as_str();
        let mut req = self.client.post(self.wire.url(&self.endpoint.base_url)).body(body);
        for (name, value, secret) in self.wire.headers(self.endpoint.key.as_ref()) {
            match reqwest::header::HeaderValue::from_str(&value) {
                Ok(mut v) => {
                    v.set_sensitive(secret);
                    req = req.header(name, v);
                }
                Err(_) => {
                    return Err(Failure {
                        kind: ErrorKind::Auth,
                        message: format!("{provider}: the value for the `{name}` header is not valid in a header"),
                        retry: false,
                        retry_after: None,
                    });
                }
            }
        }
        let max = self.max_body;
        let exchange = async move {
            let mut resp = req.send().await?;
            let status = resp.status().as_u16();
            let headers = resp
                .headers()
                .iter()
                .filter_map(|(n, v)| Some((n.as_str().to_ascii_lowercase(), v.to_str().ok()?.to_string())))
                .collect();
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await? {
                body.extend_from_slice(&chunk);
                if body.len() > max {
                    return Ok(Err(body.len()));
                }
            }
            Ok::<_, reqwest::Error>(Ok(Raw { status, headers, body }))
        };
        let transient = |kind, message: String| Failure { kind, message, retry: true, retry_after: None };
        match tokio::time::timeout(timeout, exchange).await {
            Err(_) => Err(transient(
                ErrorKind::Timeout,
                format!("{provider}: no complete reply within {:.1} s", timeout.as_secs_f64()),
            )),
            Ok(Ok(Ok(raw))) => Ok(raw),
            Ok(Ok(Err(_))) => Err(Failure {
                kind: ErrorKind::Server,
                message: format!("{provider}: the reply is larger than {max} bytes"),
                retry: false,
                retry_after: None,
            }),
            Ok(Err(e)) => {
                let what = if e.is_timeout() {
                    return Err(transient(ErrorKind::Timeout, format!("{provider}: the call timed out")));
                } else if e.is_connect() {
                    format!("cannot connect to {}", self.endpoint.shown_url())
                } else if e.is_body() || e.is_decode() {
                    "the connection broke while the reply was read".to_string()
                } else {
                    "the request failed".to_string()
                };
                let mut cause = String::new();
                let mut source = std::error::Error::source(&e);
                while let Some(s) = source {
                    cause = s.to_string();
                    source = s.source();
                }
                let cause = if cause.is_empty() { e.without_url().to_string() } else { cause };
                Err(transient(ErrorKind::Transport, format!("{provider}: {what}: {cause}")))
            }
        }
    }

    fn reply(&self, request: &LlmRequest, p: Parsed) -> LlmReply {
        let cost = if self.endpoint.dialect.is_local() {
            self.note(format!(
                "{}: {} is a local server; its calls are counted at $0",
                self.endpoint.provider,
                self.endpoint.dialect.describe()
            ));
            0.0
        } else {
            match self.prices.find(&request.model.model).or_else(|| self.prices.find(&p.model)) {
                Some(price) => p.tokens.cost(price),
                None => {
                    self.note(format!(
                        "{}: no price is known for model `{}`; its calls are counted at $0, so cost budgets do not limit them (set `price.{} = IN/OUT` in the configuration)",
                        self.endpoint.provider, request.model.model, request.model.model
                    ));
                    0.0
                }
            }
        };
        LlmReply {
            text: self.scrub(&p.text),
            model: self.scrub(&p.model),
            stop_reason: p.stop_reason.map(|r| self.scrub(&r)),
            input_tokens: p.tokens.all_input(),
            output_tokens: p.tokens.output,
            cached_tokens: p.tokens.cache_read,
            cost,
        }
    }
}
