//! Polygon (Massive) aggregates: `GET {base}/v2/aggs/ticker/{T}/range/1/{minute|day}/{from}/{to}`
//! with `Authorization: Bearer <key>`, what the official client sends.
//!
//! A response names the next page in `next_url`; the path and query of that URL are fetched from
//! the configured base, never from the host the body names (so a body can neither send the key
//! elsewhere nor leave a proxy), with a cap on pages and a check for a page that names one
//! already read. 429, 5xx, timeouts and broken connections are retried (the request is a read)
//! after `retry-after` when it is at most a minute, else after a doubling pause; 401 and 403
//! are refusals, never retried. Bars are checked as every bar is (`strat_data`); a bad one is
//! refused with its page and index, and one that does not come after the last is refused too.
//!
//! The market's status, `GET {base}/v1/marketstatus/now`, is asked the same way (same key,
//! retries and refusals): whether the market is open, in extended hours or closed, with the
//! server's time. The live feed asks it to tell a quiet night from a stale feed.

use chrono::{DateTime, FixedOffset, NaiveDate};
use std::collections::BTreeSet;
use std::time::Duration;
use strat_engine::market::Bar;

/// The vendor's current REST host.
pub const DEFAULT_BASE_URL: &str = "https://api.massive.com";

/// How to reach Polygon, as the official client is configured.
#[derive(Debug, Clone)]
pub struct Config {
    pub key: Option<String>,
    pub base_url: String,
    /// Retries of one page after a 429, a 5xx, a timeout or a broken connection.
    pub retries: u32,
    /// The first pause between retries (doubled each time, at most 8 s) when the server gives
    /// no `retry-after`.
    pub backoff: Duration,
    /// The whole exchange of one page.
    pub timeout: Duration,
    pub max_pages: usize,
    /// The largest body read (a page of 50,000 minute bars is about 5 MB).
    pub max_body: usize,
}

impl Config {
    /// From `POLYGON_API_KEY` and `POLYGON_BASE_URL` as `env` gives them.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Config {
        let base = env("POLYGON_BASE_URL").filter(|u| !u.trim().is_empty());
        Config {
            key: env("POLYGON_API_KEY").filter(|k| !k.trim().is_empty()),
            base_url: base.unwrap_or_else(|| DEFAULT_BASE_URL.to_string()).trim_end_matches('/').to_string(),
            retries: 4,
            backoff: Duration::from_millis(500),
            timeout: Duration::from_secs(30),
            max_pages: 10_000,
            max_body: 64 << 20,
        }
    }
}

/// The length of the bars asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Span {
    Minute,
    Day,
}

impl Span {
    pub fn name(self) -> &'static str {
        match self {
            Span::Minute => "minute",
            Span::Day => "day",
        }
    }
}

/// The bars of one symbol between two days, both included.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Request {
    pub symbol: String,
    pub span: Span,
    pub from: NaiveDate,
    pub to: NaiveDate,
}

/// What a history fetch gave.
#[derive(Debug, Clone, PartialEq)]
pub struct History {
    pub bars: Vec<Bar>,
    /// `page N: results[i]: why`, one per bar refused.
    pub refused: Vec<String>,
    /// Some page said `DELAYED`: the plan serves delayed data.
    pub delayed: bool,
    pub pages: usize,
}

/// Where the market is in its day, as Polygon's `market` field says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Session {
    /// The regular session (`open`): bars come every minute.
    Open,
    /// Before or after the regular session (`extended-hours`): bars come only when something
    /// trades.
    ExtendedHours,
    /// Nights, weekends and holidays (`closed`).
    Closed,
}

impl Session {
    pub fn name(self) -> &'static str {
        match self {
            Session::Open => "open",
            Session::ExtendedHours => "extended-hours",
            Session::Closed => "closed",
        }
    }
}

/// What `GET /v1/marketstatus/now` says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MarketStatus {
    pub market: Session,
    /// The server's clock, with its offset (New York's).
    pub server_time: DateTime<FixedOffset>,
}

/// Why no history came back.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FeedError {
    /// No key is configured.
    NoKey,
    /// 401: the key is unknown or missing.
    Auth(String),
    /// 403: the plan does not include this data.
    NotEntitled(String),
    /// Still refused after every retry (429, 5xx, timeouts, broken connections).
    GaveUp { attempts: u32, last: String },
    /// A body that is not an aggregates response, or too large.
    Body(String),
    /// `next_url` names a page already read, or there are more pages than the cap.
    Paging(String),
    /// The HTTP client could not be set up.
    Setup(String),
}

impl std::fmt::Display for FeedError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            FeedError::NoKey => write!(f, "no Polygon key: set POLYGON_API_KEY"),
            FeedError::Auth(m) => write!(f, "Polygon refused the key (401): {m}; check POLYGON_API_KEY"),
            FeedError::NotEntitled(m) => write!(f, "Polygon's plan does not include this data (403): {m}"),
            FeedError::GaveUp { attempts, last } => {
                write!(f, "Polygon did not answer after {attempts} attempts: {last}")
            }
            FeedError::Body(m) => write!(f, "Polygon's reply is not usable: {m}"),
            FeedError::Paging(m) => write!(f, "Polygon's pages do not end: {m}"),
            FeedError::Setup(m) => write!(f, "cannot set up the connection to Polygon: {m}"),
        }
    }
}

impl std::error::Error for FeedError {}

/// A page as it came back.
struct Page {
    status: u16,
    retry_after: Option<Duration>,
    body: Vec<u8>,
}

/// A Polygon REST client.
pub struct Client {
    config: Config,
    http: reqwest::Client,
    rt: tokio::runtime::Runtime,
}

impl Client {
    pub fn new(config: Config) -> Result<Client, FeedError> {
        let rt = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
            .map_err(|e| FeedError::Setup(e.to_string()))?;
        let http = reqwest::Client::builder()
            .connect_timeout(Duration::from_secs(10))
            .redirect(reqwest::redirect::Policy::none())
            .user_agent(concat!("strat/", env!("CARGO_PKG_VERSION")))
            .build()
            .map_err(|e| FeedError::Setup(e.to_string()))?;
        Ok(Client { config, http, rt })
    }

    /// Every bar of `request`, page after page.
    pub fn aggregates(&self, request: &Request) -> Result<History, FeedError> {
        let key = self.config.key.as_deref().ok_or(FeedError::NoKey)?;
        let first = format!(
            "/v2/aggs/ticker/{}/range/1/{}/{}/{}?adjusted=true&sort=asc&limit=50000",
            request.symbol,
            request.span.name(),
            request.from,
            request.to
        );
        let mut history = History { bars: Vec::new(), refused: Vec::new(), delayed: false, pages: 0 };
        let mut seen = BTreeSet::new();
        let mut next = Some(first);
        while let Some(path) = next.take() {
            if !seen.insert(path.clone()) {
                return Err(FeedError::Paging(format!("page {} names a page already read", history.pages)));
            }
            if history.pages == self.config.max_pages {
                return Err(FeedError::Paging(format!("more than {} pages", self.config.max_pages)));
            }
            let body = self.page(key, &path)?;
            history.pages += 1;
            next = self.add_page(&body, &mut history)?;
        }
        Ok(history)
    }

    /// Whether the market is open now, from `GET /v1/marketstatus/now`.
    pub fn market_status(&self) -> Result<MarketStatus, FeedError> {
        let key = self.config.key.as_deref().ok_or(FeedError::NoKey)?;
        let body = self.page(key, "/v1/marketstatus/now")?;
        market_status(&body)
    }

    /// Adds a page's bars to `history`; the path of the next page, if any.
    fn add_page(&self, body: &[u8], history: &mut History) -> Result<Option<String>, FeedError> {
        let text = std::str::from_utf8(body).map_err(|_| FeedError::Body("not UTF-8".into()))?;
        let v: serde_json::Value = serde_json::from_str(text).map_err(|e| FeedError::Body(e.to_string()))?;
        history.delayed |= v["status"] == "DELAYED";
        let (bars, problems) = strat_data::parse_polygon_aggs(text).map_err(|p| FeedError::Body(p.message))?;
        let page = history.pages;
        history.refused.extend(problems.into_iter().map(|p| format!("page {page}: {}", p.message)));
        for (i, bar) in bars.into_iter().enumerate() {
            match history.bars.last() {
                Some(last) if bar.time <= last.time => history
                    .refused
                    .push(format!("page {page}: bar {i} at {} does not come after the bar at {}", bar.time, last.time)),
                _ => history.bars.push(bar),
            }
        }
        Ok(v["next_url"].as_str().filter(|u| !u.is_empty()).map(path_of))
    }

    /// One page, retried as the module says; the body of a 200.
    fn page(&self, key: &str, path: &str) -> Result<Vec<u8>, FeedError> {
        let url = format!("{}{path}", self.config.base_url);
        let mut pause = self.config.backoff;
        let mut attempt = 0;
        loop {
            attempt += 1;
            let why = match self.rt.block_on(self.get(&url, key)) {
                Ok(p) if p.status == 200 => return Ok(p.body),
                Ok(p) if p.status == 401 => return Err(FeedError::Auth(scrub(&message(&p.body), key))),
                Ok(p) if p.status == 403 => return Err(FeedError::NotEntitled(scrub(&message(&p.body), key))),
                Ok(p) if p.status == 429 || p.status >= 500 => {
                    let wait = p.retry_after.filter(|d| *d <= Duration::from_secs(60)).unwrap_or(pause);
                    (format!("{} {}", p.status, scrub(&message(&p.body), key)), wait)
                }
                Ok(p) => {
                    return Err(FeedError::Body(format!("status {}: {}", p.status, scrub(&message(&p.body), key))));
                }
                Err(e) => (scrub(&e, key), pause),
            };
            if attempt > self.config.retries {
                return Err(FeedError::GaveUp { attempts: attempt, last: why.0 });
            }
            std::thread::sleep(why.1);
            pause = (pause * 2).min(Duration::from_secs(8));
        }
    }

    async fn get(&self, url: &str, key: &str) -> Result<Page, String> {
        let exchange = async {
            let mut resp = self.http.get(url).bearer_auth(key).send().await.map_err(|e| describe(&e))?;
            let status = resp.status().as_u16();
            let retry_after = resp
                .headers()
                .get("retry-after")
                .and_then(|v| v.to_str().ok())
                .and_then(|v| v.trim().parse::<f64>().ok())
                .filter(|s| s.is_finite() && *s >= 0.0)
                .map(Duration::from_secs_f64);
            let mut body = Vec::new();
            while let Some(chunk) = resp.chunk().await.map_err(|e| describe(&e))? {
                body.extend_from_slice(&chunk);
                if body.len() > self.config.max_body {
                    return Err(format!("the reply is larger than {} bytes", self.config.max_body));
                }
            }
            Ok(Page { status, retry_after, body })
        };
        match tokio::time::timeout(self.config.timeout, exchange).await {
            Ok(r) => r,
            Err(_) => Err(format!("no complete reply within {:.1} s", self.config.timeout.as_secs_f64())),
        }
    }
}

/// The fields of a market status the feed reads.
#[derive(serde::Deserialize)]
struct StatusBody {
    market: String,
    #[serde(rename = "serverTime")]
    server_time: String,
}

/// A market status body read: a body without `market` and `serverTime`, with a `market` it
/// does not know or a time that is not RFC 3339 is [`FeedError::Body`].
fn market_status(body: &[u8]) -> Result<MarketStatus, FeedError> {
    let b: StatusBody =
        serde_json::from_slice(body).map_err(|e| FeedError::Body(format!("not a market status: {e}")))?;
    let market = match b.market.as_str() {
        "open" => Session::Open,
        "extended-hours" => Session::ExtendedHours,
        "closed" => Session::Closed,
        other => return Err(FeedError::Body(format!("unknown market status `{}`", clip(other)))),
    };
    let server_time = DateTime::parse_from_rfc3339(&b.server_time)
        .map_err(|e| FeedError::Body(format!("server time `{}`: {e}", clip(&b.server_time))))?;
    Ok(MarketStatus { market, server_time })
}

/// At most 40 characters of `s`, for a message.
fn clip(s: &str) -> &str {
    s.char_indices().nth(40).map_or(s, |(i, _)| &s[..i])
}

/// The path and query of a URL (`https://host/v2/…?cursor=…` → `/v2/…?cursor=…`).
fn path_of(url: &str) -> String {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    match rest.find('/') {
        Some(i) => rest[i..].to_string(),
        None => "/".to_string(),
    }
}

/// What an error body says: its `error` or `message`, else the start of the text.
fn message(body: &[u8]) -> String {
    let v: serde_json::Value = serde_json::from_slice(body).unwrap_or_default();
    match v["error"].as_str().or(v["message"].as_str()) {
        Some(m) => m.to_string(),
        None if body.is_empty() => "(empty body)".to_string(),
        None => String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned(),
    }
}

fn describe(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        "the request timed out".into()
    } else if e.is_connect() {
        "cannot connect".into()
    } else {
        "the connection broke".into()
    }
}

/// `text` with the key replaced by `***`.
fn scrub(text: &str, key: &str) -> String {
    if key.is_empty() { text.to_string() } else { text.replace(key, "***") }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_next_page_is_read_from_the_configured_host() {
        assert_eq!(
            path_of("https://api.polygon.io/v2/aggs/ticker/AAPL/range/1/day/1578114000000/2020-01-10?cursor=bGl"),
            "/v2/aggs/ticker/AAPL/range/1/day/1578114000000/2020-01-10?cursor=bGl"
        );
        assert_eq!(path_of("https://evil.example"), "/");
    }

    #[test]
    fn error_bodies_say_error_or_message() {
        assert_eq!(message(br#"{"status":"ERROR","error":"Unknown API Key"}"#), "Unknown API Key");
        assert_eq!(message(br#"{"status":"NOT_AUTHORIZED","message":"upgrade"}"#), "upgrade");
        assert_eq!(message(b""), "(empty body)");
        assert_eq!(scrub("key k3y here", "k3y"), "key *** here");
    }

    #[test]
    fn a_market_status_body_is_read_or_refused_as_a_typed_error() {
        let open = market_status(br#"{"market":"open","serverTime":"2024-06-03T10:00:00-04:00","exchanges":{}}"#);
        assert_eq!(
            open.map(|s| (s.market, s.server_time.to_rfc3339())),
            Ok((Session::Open, "2024-06-03T10:00:00-04:00".into()))
        );
        let refused = |body: &[u8]| matches!(market_status(body), Err(FeedError::Body(_)));
        assert!(refused(b""), "empty");
        assert!(refused(b"[1,2]"), "not an object");
        assert!(refused(br#"{"market":"open"}"#), "no server time");
        assert!(refused(br#"{"market":"halted","serverTime":"2024-06-03T10:00:00-04:00"}"#), "an unknown status");
        assert!(refused(br#"{"market":"closed","serverTime":"yesterday"}"#), "not a time");
        assert!(refused(br#"{"market":7,"serverTime":"2024-06-03T10:00:00-04:00"}"#), "not a string");
        assert!(refused(&[0xff, 0xfe, b'{']), "not UTF-8");
        let long = format!(r#"{{"market":"{}","serverTime":"x"}}"#, "é".repeat(100));
        assert!(refused(long.as_bytes()), "a long unknown status is clipped, not cut inside a character");
    }

    #[test]
    fn the_configuration_comes_from_the_environment_as_the_official_client_reads_it() {
        let c = Config::from_env(|_| None);
        assert_eq!((c.key, c.base_url.as_str()), (None, DEFAULT_BASE_URL));
        let c = Config::from_env(|k| match k {
            "POLYGON_API_KEY" => Some("abc".into()),
            "POLYGON_BASE_URL" => Some("http://127.0.0.1:9/".into()),
            _ => None,
        });
        assert_eq!((c.key.as_deref(), c.base_url.as_str()), (Some("abc"), "http://127.0.0.1:9"));
    }
}
