//! One request to Alpaca and what came of it, telling apart a request that was never sent
//! (the connection could not be made: safe to send again) from one whose outcome is unknown
//! (sent, then a timeout or a broken connection).

use super::config::Config;
use std::collections::VecDeque;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// A reply: its status and body.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub body: serde_json::Value,
    /// The body's text when it is not JSON (a proxy's HTML page).
    pub text: String,
    pub retry_after: Option<Duration>,
}

impl Reply {
    /// What the body says: its `message`, else the start of its text.
    pub fn message(&self) -> String {
        match self.body["message"].as_str() {
            Some(m) => m.to_string(),
            None if self.text.trim().is_empty() => "(empty body)".to_string(),
            None => self.text.chars().take(200).collect(),
        }
    }
}

/// Why no reply came.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lost {
    /// The connection was never made: the request did not leave.
    NotSent(String),
    /// Sent, and then nothing usable came back: the venue may have acted on it.
    Unknown(String),
}

pub struct Http {
    config: Config,
    client: reqwest::Client,
    rt: tokio::runtime::Runtime,
    /// When the requests of the last `rate_window` left, oldest first; and an instant the venue
    /// said (`x-ratelimit-remaining: 0`) not to send before.
    pace: Mutex<(VecDeque<Instant>, Option<Instant>)>,
}

impl Http {
    pub fn new(config: Config) -> Result<Http, String> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
        let client = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(5))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("strat/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| e.to_string())?;
        Ok(Http { config, client, rt, pace: Mutex::new((VecDeque::new(), None)) })
    }

    /// Waits, when needed, so no more than `rate_limit` requests leave in any `rate_window`,
    /// nor any before the instant the venue's rate-limit headers named; then counts this one.
    fn wait_turn(&self) {
        let mut pace = self.pace.lock().unwrap_or_else(|p| p.into_inner());
        let (limit, window) = (self.config.rate_limit.max(1), self.config.rate_window);
        let now = wall_now();
        while pace.0.front().is_some_and(|t| now.duration_since(*t) >= window) {
            pace.0.pop_front();
        }
        let full = (pace.0.len() >= limit).then(|| pace.0.front().map(|t| *t + window)).flatten();
        if let Some(until) = full.into_iter().chain(pace.1.take()).max().filter(|u| *u > now) {
            std::thread::sleep(until - now);
        }
        let sent = wall_now();
        pace.0.push_back(sent);
        if pace.0.len() > limit {
            pace.0.pop_front();
        }
    }

    /// Reads the venue's `x-ratelimit-remaining` and `x-ratelimit-reset` (Unix seconds): none
    /// left means no request before the reset (at most a window away).
    fn note_limit(&self, headers: &reqwest::header::HeaderMap) {
        let number =
            |name: &str| headers.get(name).and_then(|v| v.to_str().ok()).and_then(|v| v.trim().parse::<i64>().ok());
        if number("x-ratelimit-remaining") != Some(0) {
            return;
        }
        let Some(reset) = number("x-ratelimit-reset") else { return };
        let wall = unix_now();
        let wait = Duration::from_secs(u64::try_from(reset - wall).unwrap_or(0)).min(self.config.rate_window);
        let mut pace = self.pace.lock().unwrap_or_else(|p| p.into_inner());
        pace.1 = Some(wall_now() + wait);
    }

    pub fn config(&self) -> &Config {
        &self.config
    }

    /// Sends one request, once.
    pub fn send(&self, method: reqwest::Method, path: &str, body: Option<&serde_json::Value>) -> Result<Reply, Lost> {
        let url = format!("{}{path}", self.config.base_url);
        let mut req = self
            .client
            .request(method, url)
            .header("APCA-API-KEY-ID", &self.config.key_id)
            .header("APCA-API-SECRET-KEY", &self.config.secret);
        if let Some(b) = body {
            req = req.header("content-type", "application/json").body(b.to_string());
        }
        let timeout = self.config.timeout;
        self.wait_turn();
        self.rt.block_on(async move {
            let exchange = async {
                let resp = req.send().await.map_err(|e| lost(&e))?;
                self.note_limit(resp.headers());
                let status = resp.status().as_u16();
                let retry_after = resp
                    .headers()
                    .get("retry-after")
                    .and_then(|v| v.to_str().ok())
                    .and_then(|v| v.trim().parse::<u64>().ok())
                    .map(Duration::from_secs);
                let bytes =
                    resp.bytes().await.map_err(|e| Lost::Unknown(format!("the reply broke off: {}", kind(&e))))?;
                let text = String::from_utf8_lossy(&bytes[..bytes.len().min(1 << 20)]).into_owned();
                let body = serde_json::from_str(&text).unwrap_or(serde_json::Value::Null);
                Ok(Reply { status, body, text, retry_after })
            };
            match tokio::time::timeout(timeout, exchange).await {
                Ok(r) => r,
                Err(_) => Err(Lost::Unknown(format!("no reply within {:.1} s", timeout.as_secs_f64()))),
            }
        })
    }

    /// A read, retried on 429, 5xx and lost replies (reads change nothing).
    pub fn get(&self, path: &str) -> Result<Reply, String> {
        let mut pause = self.config.backoff;
        for attempt in 0..=self.config.retries {
            let why = match self.send(reqwest::Method::GET, path, None) {
                Ok(r) if r.status == 429 || r.status >= 500 => {
                    let wait = r.retry_after.filter(|d| *d <= Duration::from_secs(60)).unwrap_or(pause);
                    (format!("{} {}", r.status, r.message()), wait)
                }
                Ok(r) => return Ok(r),
                Err(Lost::NotSent(m) | Lost::Unknown(m)) => (m, pause),
            };
            if attempt == self.config.retries {
                return Err(why.0);
            }
            std::thread::sleep(why.1);
            pause = (pause * 2).min(Duration::from_secs(8));
        }
        Err("no attempt was made".into())
    }
}

/// The wall clock: the venue's rate limit is counted in it.
#[allow(clippy::disallowed_methods)]
fn wall_now() -> Instant {
    Instant::now()
}

/// Seconds since the Unix epoch on the wall clock, what the venue's reset is stated in.
#[allow(clippy::disallowed_methods)]
fn unix_now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

fn lost(e: &reqwest::Error) -> Lost {
    if e.is_connect() { Lost::NotSent(format!("cannot connect: {}", kind(e))) } else { Lost::Unknown(kind(e)) }
}

fn kind(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the request timed out".into()
    } else if e.is_connect() {
        "the connection was refused".into()
    } else {
        "the connection broke".into()
    }
}
