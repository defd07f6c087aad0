//! Where the providers are and how to call them, from values the caller read: the
//! environment's variables, the configuration file's text and the secrets file's text. Nothing
//! here reads a file or the environment (the CLI does).
//!
//! Both files are lines of `key = value` (`#` starts a comment). The configuration:
//!
//! ```text
//! anthropic.base_url = https://api.anthropic.com
//! openai.base_url = http://127.0.0.1:11434/v1
//! openai.dialect = ollama          # openai | ollama | llamacpp | vllm | local
//! retries = 2
//! concurrency = 8
//! breaker.failures = 5
//! breaker.cooldown = 30            # seconds
//! price.my-model = 0.5/1.5         # USD per million input/output tokens
//! secrets = /home/me/.config/strat/secrets
//! ```
//!
//! The secrets file: `ANTHROPIC_API_KEY = sk-ant-…`, `OPENAI_API_KEY = sk-…`. The environment
//! wins over both files (`ANTHROPIC_BASE_URL`, `OPENAI_BASE_URL`, `OLLAMA_HOST`, the keys).

use super::price::{Price, Prices};
use std::collections::BTreeMap;
use std::time::Duration;

/// A key. It prints as `***` (`Debug` and `Display`), so it cannot reach a log, an error or
/// a report by formatting; [`Secret::expose`] is for the request header only.
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(s: impl Into<String>) -> Secret {
        Secret(s.into())
    }
    pub fn expose(&self) -> &str {
        &self.0
    }
    /// `text` with every occurrence of the key replaced by `***`.
    pub fn scrub(&self, text: &str) -> String {
        if self.0.len() < 4 || !text.contains(&self.0) { text.to_string() } else { text.replace(&self.0, "***") }
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("***")
    }
}

/// The wire format a server speaks.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Dialect {
    /// The Anthropic Messages API.
    Anthropic,
    /// OpenAI Chat Completions.
    OpenAi,
    /// Ollama's OpenAI-compatible endpoint.
    Ollama,
    /// llama.cpp's server.
    LlamaCpp,
    /// vLLM's OpenAI-compatible server.
    Vllm,
    /// Another OpenAI-compatible server on the user's machine.
    Local,
}

impl Dialect {
    pub fn parse(s: &str) -> Option<Dialect> {
        Some(match s.trim().to_ascii_lowercase().as_str() {
            "anthropic" => Dialect::Anthropic,
            "openai" => Dialect::OpenAi,
            "ollama" => Dialect::Ollama,
            "llamacpp" | "llama.cpp" | "llama-cpp" => Dialect::LlamaCpp,
            "vllm" => Dialect::Vllm,
            "local" => Dialect::Local,
            _ => return None,
        })
    }

    /// What the server is, as labels show it.
    pub fn describe(self) -> &'static str {
        match self {
            Dialect::Anthropic => "Anthropic Messages API",
            Dialect::OpenAi => "OpenAI Chat Completions",
            Dialect::Ollama => "Ollama (OpenAI-compatible)",
            Dialect::LlamaCpp => "llama.cpp server (OpenAI-compatible)",
            Dialect::Vllm => "vLLM (OpenAI-compatible)",
            Dialect::Local => "OpenAI-compatible local server",
        }
    }

    /// A server on the user's own machine: no key needed, no price.
    pub fn is_local(self) -> bool {
        matches!(self, Dialect::Ollama | Dialect::LlamaCpp | Dialect::Vllm | Dialect::Local)
    }
}

/// One provider, resolved: where it is and the key to use.
#[derive(Debug, Clone, PartialEq)]
pub struct Endpoint {
    /// The provider's name in `.strat` files (`anthropic`, `openai`).
    pub provider: String,
    pub dialect: Dialect,
    /// Without a trailing slash: `https://api.anthropic.com`, `https://api.openai.com/v1`.
    pub base_url: String,
    pub key: Option<Secret>,
    /// The variable the key comes from (for messages): `ANTHROPIC_API_KEY`.
    pub key_name: Option<&'static str>,
}

impl Endpoint {
    /// Whether calls can be made: a key is there, or none is needed.
    pub fn usable(&self) -> bool {
        self.key.is_some() || self.dialect.is_local()
    }

    /// The base URL without a user name or password in it, for labels and messages.
    pub fn shown_url(&self) -> String {
        match self.base_url.split_once("://") {
            Some((scheme, rest)) => {
                let (authority, path) = rest.split_at(rest.find('/').unwrap_or(rest.len()));
                let host = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
                format!("{scheme}://{host}{path}")
            }
            None => self.base_url.clone(),
        }
    }
}

/// How the providers are called.
#[derive(Debug, Clone, PartialEq)]
pub struct Settings {
    /// Per provider name.
    pub endpoints: BTreeMap<String, Endpoint>,
    /// Retries after the first attempt (the SDKs' default is 2).
    pub max_retries: u32,
    /// Calls in flight at once per provider, for batches.
    pub concurrency: usize,
    /// Consecutive failed attempts that open a provider's circuit breaker.
    pub breaker_failures: u32,
    /// How long an open breaker fails fast before letting one call through.
    pub breaker_cooldown: Duration,
    /// Per call when the model sets no `timeout` (the sandbox's `llm_timeout_ms`).
    pub timeout: Duration,
    pub connect_timeout: Duration,
    /// Longest reply body read, in bytes.
    pub max_body: usize,
    pub prices: Prices,
    /// Seed of the backoff jitter.
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            endpoints: BTreeMap::new(),
            max_retries: 2,
            concurrency: 8,
            breaker_failures: 5,
            breaker_cooldown: Duration::from_secs(30),
            timeout: Duration::from_secs(60),
            connect_timeout: Duration::from_secs(5),
            max_body: 4 << 20,
            prices: Prices::default(),
            seed: 0x5eed,
        }
    }
}

/// What the configuration file says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct File {
    pub base_urls: BTreeMap<String, String>,
    pub dialects: BTreeMap<String, Dialect>,
    pub max_retries: Option<u32>,
    pub concurrency: Option<usize>,
    pub breaker_failures: Option<u32>,
    pub breaker_cooldown: Option<Duration>,
    pub prices: BTreeMap<String, Price>,
    /// Where the secrets file is.
    pub secrets: Option<String>,
}

/// Providers the configuration may name: those of the language, and `ollama` (for when the
/// language has it).
pub const PROVIDERS: &[&str] = &["anthropic", "openai", "ollama"];

/// `key = value` lines, with the line number of each; `#` starts a comment.
fn lines(text: &str) -> impl Iterator<Item = (usize, Option<(&str, &str)>)> {
    text.lines().enumerate().filter_map(|(i, l)| {
        let l = match l.find(" #").or_else(|| l.starts_with('#').then_some(0)) {
            Some(at) => &l[..at],
            None => l,
        };
        let l = l.trim();
        if l.is_empty() {
            return None;
        }
        let pair = l.split_once('=').map(|(k, v)| (k.trim(), v.trim().trim_matches('"')));
        Some((i + 1, pair))
    })
}

/// A line of a configuration or secrets file that cannot be read, and why (never its value).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConfigError {
    /// 1 for the first line.
    pub line: usize,
    pub reason: String,
}

impl ConfigError {
    fn at(line: usize, reason: impl Into<String>) -> ConfigError {
        ConfigError { line, reason: reason.into() }
    }
}

impl std::fmt::Display for ConfigError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.reason)
    }
}

impl std::error::Error for ConfigError {}

impl File {
    /// Parses the configuration file. An error names the line.
    pub fn parse(text: &str) -> Result<File, ConfigError> {
        let mut f = File::default();
        for (n, pair) in lines(text) {
            let Some((key, value)) = pair else { return Err(ConfigError::at(n, "expected `key = value`")) };
            let bad = |what: &str| ConfigError::at(n, format!("`{key}` takes {what}"));
            match key.split_once('.') {
                Some(("price", model)) if !model.is_empty() => {
                    let (i, o) = value.split_once('/').ok_or_else(|| bad("INPUT/OUTPUT dollars per million tokens"))?;
                    let num = |s: &str| s.trim().parse::<f64>().ok().filter(|x| x.is_finite() && *x >= 0.0);
                    let (Some(i), Some(o)) = (num(i), num(o)) else {
                        return Err(bad("INPUT/OUTPUT dollars per million tokens"));
                    };
                    f.prices.insert(
                        model.to_string(),
                        Price { input: i, output: o, cache_write: i * 1.25, cache_read: i * 0.1 },
                    );
                }
                Some(("breaker", "failures")) => {
                    f.breaker_failures = Some(value.parse().ok().filter(|n| *n > 0).ok_or_else(|| bad("a count ≥ 1"))?)
                }
                Some(("breaker", "cooldown")) => {
                    let s: f64 = value
                        .parse()
                        .ok()
                        .filter(|s: &f64| s.is_finite() && *s >= 0.0)
                        .ok_or_else(|| bad("seconds"))?;
                    f.breaker_cooldown = Some(Duration::from_secs_f64(s));
                }
                Some((provider, setting)) if PROVIDERS.contains(&provider) => match setting {
                    "base_url" => {
                        if !(value.starts_with("http://") || value.starts_with("https://")) {
                            return Err(bad("an http:// or https:// URL"));
                        }
                        f.base_urls.insert(provider.to_string(), value.trim_end_matches('/').to_string());
                    }
                    "dialect" => {
                        let d = Dialect::parse(value)
                            .ok_or_else(|| bad("anthropic, openai, ollama, llamacpp, vllm or local"))?;
                        f.dialects.insert(provider.to_string(), d);
                    }
                    _ => {
                        return Err(ConfigError::at(
                            n,
                            format!("unknown setting `{key}` (base_url and dialect are known)"),
                        ));
                    }
                },
                Some((provider, _)) => {
                    let known = PROVIDERS.join(", ");
                    return Err(ConfigError::at(n, format!("unknown provider `{provider}` (known: {known})")));
                }
                None => match key {
                    "retries" => {
                        f.max_retries = Some(value.parse().ok().filter(|n| *n <= 10).ok_or_else(|| bad("0 to 10"))?)
                    }
                    "concurrency" => {
                        f.concurrency = Some(
                            value.parse().ok().filter(|n| (1..=1024).contains(n)).ok_or_else(|| bad("1 to 1024"))?,
                        )
                    }
                    "secrets" => f.secrets = Some(value.to_string()),
                    _ => return Err(ConfigError::at(n, format!("unknown setting `{key}`"))),
                },
            }
        }
        Ok(f)
    }
}

/// Parses a secrets file: `NAME = value` lines. Errors name the line, never its value.
pub fn parse_secrets(text: &str) -> Result<BTreeMap<String, Secret>, ConfigError> {
    let mut out = BTreeMap::new();
    for (n, pair) in lines(text) {
        let Some((name, value)) = pair else { return Err(ConfigError::at(n, "expected `NAME = value`")) };
        let name = name.strip_prefix("export ").unwrap_or(name).trim();
        if !value.is_empty() {
            out.insert(name.to_string(), Secret::new(value));
        }
    }
    Ok(out)
}

/// `OLLAMA_HOST` as Ollama reads it (`host`, `host:port`, or a URL; port 11434 by default),
/// as the base URL of its OpenAI-compatible API.
pub fn ollama_base(host: &str) -> String {
    let h = host.trim().trim_end_matches('/');
    let (scheme, rest) = match h.split_once("://") {
        Some((s, r)) => (s, r),
        None => ("http", h),
    };
    let rest = if rest.is_empty() { "127.0.0.1" } else { rest };
    let has_port = rest.rsplit_once(':').is_some_and(|(_, p)| !p.is_empty() && p.bytes().all(|b| b.is_ascii_digit()))
        && !rest.ends_with(']');
    let rest = rest.replace("0.0.0.0", "127.0.0.1");
    if has_port { format!("{scheme}://{rest}/v1") } else { format!("{scheme}://{rest}:11434/v1") }
}

/// The port of a URL whose host is this machine (`Some(None)`: no port given), or `None`.
fn loopback_port(url: &str) -> Option<Option<u16>> {
    let rest = url.split_once("://")?.1;
    let authority = rest.split('/').next()?;
    let authority = authority.rsplit_once('@').map_or(authority, |(_, h)| h);
    let (host, port) = match authority.strip_prefix('[') {
        Some(v6) => {
            let (h, after) = v6.split_once(']')?;
            (h, after.strip_prefix(':'))
        }
        None => match authority.rsplit_once(':') {
            Some((h, p)) => (h, Some(p)),
            None => (authority, None),
        },
    };
    let local = host.eq_ignore_ascii_case("localhost") || host == "::1" || host.starts_with("127.");
    local.then(|| port.and_then(|p| p.parse().ok()))
}

impl Settings {
    /// The settings from the environment's variables (`env`), the configuration file and the
    /// secrets. The environment wins over the files.
    pub fn resolve(env: &BTreeMap<String, String>, file: &File, secrets: &BTreeMap<String, Secret>) -> Settings {
        let var = |n: &str| env.get(n).map(|v| v.trim()).filter(|v| !v.is_empty());
        let key = |n: &'static str| var(n).map(Secret::new).or_else(|| secrets.get(n).cloned());
        let base = |p: &str, env_name: &str, default: &str| {
            var(env_name)
                .map(|v| v.trim_end_matches('/').to_string())
                .or_else(|| file.base_urls.get(p).cloned())
                .unwrap_or_else(|| default.to_string())
        };
        let mut endpoints = BTreeMap::new();
        endpoints.insert(
            "anthropic".to_string(),
            Endpoint {
                provider: "anthropic".into(),
                dialect: file.dialects.get("anthropic").copied().unwrap_or(Dialect::Anthropic),
                base_url: base("anthropic", "ANTHROPIC_BASE_URL", "https://api.anthropic.com"),
                key: key("ANTHROPIC_API_KEY"),
                key_name: Some("ANTHROPIC_API_KEY"),
            },
        );
        let openai_url = base("openai", "OPENAI_BASE_URL", "https://api.openai.com/v1");
        let openai_key = key("OPENAI_API_KEY");
        // A server on this machine without a key is a local OpenAI-compatible one.
        let guessed = match loopback_port(&openai_url) {
            Some(port) if openai_key.is_none() => {
                if port == Some(11434) {
                    Dialect::Ollama
                } else {
                    Dialect::Local
                }
            }
            _ => Dialect::OpenAi,
        };
        endpoints.insert(
            "openai".to_string(),
            Endpoint {
                provider: "openai".into(),
                dialect: file.dialects.get("openai").copied().unwrap_or(guessed),
                base_url: openai_url,
                key: openai_key,
                key_name: Some("OPENAI_API_KEY"),
            },
        );
        // Ollama is there only when asked for: a local server that is not running should not
        // turn every call into an error.
        let ollama = var("OLLAMA_HOST").map(ollama_base).or_else(|| file.base_urls.get("ollama").cloned());
        if let Some(base_url) = ollama {
            endpoints.insert(
                "ollama".to_string(),
                Endpoint {
                    provider: "ollama".into(),
                    dialect: file.dialects.get("ollama").copied().unwrap_or(Dialect::Ollama),
                    base_url,
                    key: None,
                    key_name: None,
                },
            );
        }
        let d = Settings::default();
        Settings {
            endpoints,
            max_retries: file.max_retries.unwrap_or(d.max_retries),
            concurrency: file.concurrency.unwrap_or(d.concurrency),
            breaker_failures: file.breaker_failures.unwrap_or(d.breaker_failures),
            breaker_cooldown: file.breaker_cooldown.unwrap_or(d.breaker_cooldown),
            prices: Prices { custom: file.prices.clone() },
            ..d
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_print_as_stars_and_are_scrubbed_from_text() {
        let s = Secret::new("sk-ant-very-secret");
        assert_eq!(format!("{s} {s:?}"), "*** ***");
        let e = Endpoint {
            provider: "anthropic".into(),
            dialect: Dialect::Anthropic,
            base_url: "https://api.anthropic.com".into(),
            key: Some(s.clone()),
            key_name: Some("ANTHROPIC_API_KEY"),
        };
        assert!(!format!("{e:?}").contains("very-secret"));
        assert_eq!(s.scrub("the key sk-ant-very-secret is bad"), "the key *** is bad");
        let with_password = Endpoint { base_url: "https://me:hunter2@proxy.example/v1".into(), ..e };
        assert_eq!(with_password.shown_url(), "https://proxy.example/v1");
    }

    #[test]
    fn the_environment_wins_over_the_files() {
        let file = File::parse(
            "# providers\nanthropic.base_url = https://proxy.example/anthropic/\nopenai.base_url = http://127.0.0.1:11434/v1\nopenai.dialect = ollama\nretries = 1 # fewer\nconcurrency = 16\nbreaker.cooldown = 2.5\nprice.qwen3:8b = 0/0\n",
        )
        .expect("parses");
        let secrets = parse_secrets("export ANTHROPIC_API_KEY = \"from-file\"\nOPENAI_API_KEY=\n").expect("parses");
        let env = BTreeMap::from([("ANTHROPIC_API_KEY".to_string(), "from-env".to_string())]);
        let s = Settings::resolve(&env, &file, &secrets);
        let a = &s.endpoints["anthropic"];
        assert_eq!(a.base_url, "https://proxy.example/anthropic");
        assert_eq!(a.key.as_ref().map(Secret::expose), Some("from-env"));
        let o = &s.endpoints["openai"];
        assert_eq!((o.dialect, o.key.is_none(), o.usable()), (Dialect::Ollama, true, true));
        assert_eq!((s.max_retries, s.concurrency), (1, 16));
        assert_eq!(s.breaker_cooldown, Duration::from_millis(2500));
        assert!(s.prices.find("qwen3:8b").is_some());
        assert!(!s.endpoints.contains_key("ollama"));
        // A local URL without a key is a local server: Ollama on its port, another one elsewhere.
        let local = |url: &str, key: Option<&str>| {
            let mut env = BTreeMap::from([("OPENAI_BASE_URL".to_string(), url.to_string())]);
            if let Some(k) = key {
                env.insert("OPENAI_API_KEY".into(), k.into());
            }
            Settings::resolve(&env, &File::default(), &BTreeMap::new()).endpoints["openai"].dialect
        };
        assert_eq!(local("http://localhost:11434/v1", None), Dialect::Ollama);
        assert_eq!(local("http://127.0.0.1:8080/v1", None), Dialect::Local);
        assert_eq!(local("http://[::1]:8000/v1", None), Dialect::Local);
        assert_eq!(local("http://127.0.0.1:8080/v1", Some("sk-x")), Dialect::OpenAi, "a key means OpenAI's API");
        assert_eq!(local("https://llm.example.com/v1", None), Dialect::OpenAi);
        let s = Settings::resolve(&BTreeMap::new(), &File::default(), &secrets);
        assert_eq!(s.endpoints["anthropic"].key.as_ref().map(Secret::expose), Some("from-file"));
        assert_eq!(s.endpoints["openai"].base_url, "https://api.openai.com/v1");
        assert!(!s.endpoints["openai"].usable());
    }

    #[test]
    fn bad_lines_are_errors_that_name_the_line_but_not_secrets() {
        let err = File::parse("retries = lots").expect_err("an error");
        assert_eq!((err.line, err.to_string().as_str()), (1, "line 1: `retries` takes 0 to 10"));
        let err = File::parse("\ncohere.base_url = https://x").expect_err("an error");
        assert!(err.line == 2 && err.reason.starts_with("unknown provider"), "{err}");
        assert!(File::parse("openai.base_url = ftp://x").is_err());
        assert!(File::parse("colour = blue").is_err());
        let err = parse_secrets("sk-ant-secret-without-a-name").expect_err("an error");
        assert!(!err.to_string().contains("sk-ant"), "{err}");
    }

    #[test]
    fn ollama_host_is_read_as_ollama_reads_it() {
        assert_eq!(ollama_base("0.0.0.0"), "http://127.0.0.1:11434/v1");
        assert_eq!(ollama_base("127.0.0.1:5000"), "http://127.0.0.1:5000/v1");
        assert_eq!(ollama_base("https://gpu.local"), "https://gpu.local:11434/v1");
        let env = BTreeMap::from([("OLLAMA_HOST".to_string(), "localhost:11500".to_string())]);
        let s = Settings::resolve(&env, &File::default(), &BTreeMap::new());
        assert_eq!(s.endpoints["ollama"].base_url, "http://localhost:11500/v1");
        assert_eq!(s.endpoints["ollama"].dialect, Dialect::Ollama);
    }
}
