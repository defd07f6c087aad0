//! How to reach Alpaca, configured as its official client is: `APCA_API_KEY_ID`,
//! `APCA_API_SECRET_KEY`, `APCA_API_BASE_URL` (the paper host by default). The trading stream's
//! URL derives from the base URL as the official clients derive it: `http` becomes `ws`,
//! `https` becomes `wss`, and the path is `/stream`.

use std::time::Duration;

pub const PAPER_URL: &str = "https://paper-api.alpaca.markets";
pub const LIVE_URL: &str = "https://api.alpaca.markets";

#[derive(Clone)]
pub struct Config {
    pub key_id: String,
    pub secret: String,
    pub base_url: String,
    /// The whole exchange of one request.
    pub timeout: Duration,
    /// Retries of a read (and of a submission the venue refused with 429, which it did not
    /// take), after a doubling pause from `backoff`.
    pub retries: u32,
    pub backoff: Duration,
    /// The least time between two polls of the open orders while the `trade_updates` stream
    /// is not listening.
    pub poll_every: Duration,
    /// The `trade_updates` stream; `None`: the orders are only polled.
    pub stream_url: Option<String>,
    /// The least time between two polls (a safety sweep) while the stream is listening.
    pub sweep_every: Duration,
    /// The first pause before the stream is opened again after a failure; it doubles with
    /// each failure in a row, up to `stream_backoff_cap`.
    pub stream_backoff: Duration,
    pub stream_backoff_cap: Duration,
    /// At most this many requests in any `rate_window` (Alpaca allows 200 a minute to an
    /// account): a request beyond waits until the oldest leaves the window.
    pub rate_limit: usize,
    pub rate_window: Duration,
    /// How often the account kept is checked against the venue's positions (while no order of
    /// the run is open).
    pub account_every: Duration,
}

impl std::fmt::Debug for Config {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("key_id", &"***")
            .field("secret", &"***")
            .field("base_url", &self.base_url)
            .field("stream_url", &self.stream_url)
            .finish()
    }
}

/// Why the broker cannot be set up.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigError {
    MissingKeys,
    /// The live host without `--live`, or `--live` without the live host.
    LiveNotConfirmed(String),
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ConfigError::MissingKeys => write!(f, "Alpaca needs APCA_API_KEY_ID and APCA_API_SECRET_KEY"),
            ConfigError::LiveNotConfirmed(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for ConfigError {}

impl Config {
    /// From the environment as `env` gives it; `live` is the user's explicit `--live`.
    pub fn from_env(env: impl Fn(&str) -> Option<String>, live: bool) -> Result<Config, ConfigError> {
        let get = |k: &str| env(k).map(|v| v.trim().to_string()).filter(|v| !v.is_empty());
        let (Some(key_id), Some(secret)) = (get("APCA_API_KEY_ID"), get("APCA_API_SECRET_KEY")) else {
            return Err(ConfigError::MissingKeys);
        };
        let base_url =
            get("APCA_API_BASE_URL").unwrap_or_else(|| PAPER_URL.to_string()).trim_end_matches('/').to_string();
        let is_live = base_url.trim_end_matches("/v2") == LIVE_URL;
        if is_live && !live {
            return Err(ConfigError::LiveNotConfirmed(format!(
                "APCA_API_BASE_URL is Alpaca's live host ({LIVE_URL}), which trades real money: pass `--live` to mean it, or use the paper host ({PAPER_URL})"
            )));
        }
        if live && !is_live {
            return Err(ConfigError::LiveNotConfirmed(format!(
                "`--live` needs APCA_API_BASE_URL={LIVE_URL} (it is {base_url}); without `--live`, orders go to the paper account"
            )));
        }
        let base_url = base_url.trim_end_matches("/v2").to_string();
        Ok(Config {
            key_id,
            secret,
            stream_url: stream_url(&base_url),
            base_url,
            timeout: Duration::from_secs(10),
            retries: 3,
            backoff: Duration::from_millis(500),
            poll_every: Duration::from_secs(1),
            sweep_every: Duration::from_secs(30),
            stream_backoff: Duration::from_secs(1),
            stream_backoff_cap: Duration::from_secs(60),
            rate_limit: 200,
            rate_window: Duration::from_secs(60),
            account_every: Duration::from_secs(300),
        })
    }

    pub fn is_live(&self) -> bool {
        self.base_url == LIVE_URL
    }
}

/// The trading stream of a base URL: `ws` for `http`, `wss` for `https`, at `/stream`; `None`
/// for another scheme.
pub fn stream_url(base_url: &str) -> Option<String> {
    let base = base_url.trim_end_matches('/');
    let (scheme, rest) = if let Some(rest) = base.strip_prefix("https://") {
        ("wss", rest)
    } else {
        ("ws", base.strip_prefix("http://")?)
    };
    Some(format!("{scheme}://{rest}/stream"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |k| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn paper_is_the_default_and_live_money_needs_both_the_flag_and_the_host() {
        let keys = [("APCA_API_KEY_ID", "id"), ("APCA_API_SECRET_KEY", "secret")];
        let c = Config::from_env(env(&keys), false).expect("paper");
        assert_eq!((c.base_url.as_str(), c.is_live()), (PAPER_URL, false));
        let live = [keys[0], keys[1], ("APCA_API_BASE_URL", "https://api.alpaca.markets")];
        assert!(matches!(Config::from_env(env(&live), false), Err(ConfigError::LiveNotConfirmed(_))));
        assert!(Config::from_env(env(&live), true).is_ok_and(|c| c.is_live()));
        assert!(matches!(Config::from_env(env(&keys), true), Err(ConfigError::LiveNotConfirmed(_))));
        assert_eq!(Config::from_env(env(&[]), false).err(), Some(ConfigError::MissingKeys));
        assert!(!format!("{c:?}").contains("secret\""), "keys are not printed");
    }

    #[test]
    fn the_stream_is_at_stream_on_the_base_host_with_ws_for_http_and_wss_for_https() {
        let keys = [("APCA_API_KEY_ID", "id"), ("APCA_API_SECRET_KEY", "secret")];
        let c = Config::from_env(env(&keys), false).expect("paper");
        assert_eq!(c.stream_url.as_deref(), Some("wss://paper-api.alpaca.markets/stream"));
        let local = [keys[0], keys[1], ("APCA_API_BASE_URL", "http://127.0.0.1:8080/v2/")];
        let c = Config::from_env(env(&local), false).expect("a local host");
        assert_eq!(c.stream_url.as_deref(), Some("ws://127.0.0.1:8080/stream"));
        assert_eq!(stream_url("ftp://example.com"), None);
    }
}
