//! One request to Alpaca and what came of it, telling apart a request that was never sent
//! (the connection could not be made: safe to send again) from one whose outcome is unknown
//! (sent, then a timeout or a broken connection).

use super::config::Config;
use std::time::Duration;

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
        Ok(Http { config, client, rt })
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
        self.rt.block_on(async move {
            let exchange = async {
                let resp = req.send().await.map_err(|e| lost(&e))?;
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
