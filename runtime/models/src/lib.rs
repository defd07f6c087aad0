//! The real model providers behind the host's [`Llm`] trait, and what sits around them.
//!
//! - [`Router`] answers each request with the provider its model names (`anthropic`,
//!   `openai`, …); a provider without a key is answered by the offline stand-in (and noted), or,
//!   with the fallback off, fails the call.
//! - [`http::Provider`] is one provider over HTTP (reqwest with rustls, on a tokio runtime it
//!   owns): [`anthropic`] and [`openai`] (OpenAI and the OpenAI-compatible local servers) give
//!   the wire formats; [`retry`] and [`breaker`] the resilience; [`price`] the cost.
//! - [`cassette`] records a run's calls and replays them without a network.
//! - [`config`] resolves where the providers are and their keys from values the caller read.
//!
//! Invariants: keys leave only in request headers (marked sensitive): they print as `***`, and
//! replies and errors are scrubbed of them, so no log, store, report or cassette holds one.
//! Model calls have no side effects, so retrying them is safe; only transient failures are
//! retried, a bounded number of times. Every failure is an error of the call (the execution
//! fails with no order), never a made-up answer; the stand-in answers only where no provider is
//! configured, and says so.

pub mod anthropic;
pub mod breaker;
pub mod cassette;
pub mod config;
pub mod http;
pub mod openai;
pub mod price;
pub mod retry;
pub mod schema;
pub mod scrub;

pub use config::{Dialect, Endpoint, Secret, Settings};
pub use http::{ManualTiming, Provider, ReplyError, SetupError, Timing, tokio_sleep};

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use strat_engine::llm::{ErrorKind, Llm, LlmError, LlmReply, LlmRequest};
use strat_engine::offline::{self, Offline};

/// The wire format of a dialect.
pub fn wire(d: Dialect) -> Box<dyn http::Wire> {
    match d {
        Dialect::Anthropic => Box::new(anthropic::Anthropic),
        other => Box::new(openai::OpenAi { dialect: other }),
    }
}

/// Answers each request with its model's provider.
pub struct Router {
    routes: BTreeMap<String, Box<dyn Llm>>,
    /// Providers without what they need, and why (`no ANTHROPIC_API_KEY`).
    missing: BTreeMap<String, String>,
    offline: Offline,
    /// Let the offline stand-in answer for a provider that is missing.
    fallback: bool,
    /// The providers the program uses, for the label; `None`: all.
    used: Option<BTreeSet<String>>,
    /// Per missing provider, the agents and models the stand-in answered for it.
    fell_back: BTreeMap<String, BTreeSet<String>>,
    /// The stand-in answers everything because the user asked for it: nothing to warn about.
    by_choice: bool,
}

impl Router {
    /// Every provider of `settings` that has what it needs, over HTTP.
    pub fn new(settings: &Settings, timing: Arc<dyn Timing>, fallback: bool) -> Result<Router, SetupError> {
        let mut r = Router::offline_only();
        r.fallback = fallback;
        for (name, e) in &settings.endpoints {
            if e.usable() {
                let p = Provider::new(e.clone(), wire(e.dialect), settings, timing.clone())?;
                r.routes.insert(name.clone(), Box::new(p));
            } else {
                let why = e.key_name.map_or_else(|| "no key".to_string(), |k| format!("no {k}"));
                r.missing.insert(name.clone(), why);
            }
        }
        Ok(r)
    }

    /// Everything answered by the offline stand-in.
    pub fn offline_only() -> Router {
        Router {
            routes: BTreeMap::new(),
            missing: BTreeMap::new(),
            offline: Offline,
            fallback: true,
            used: None,
            fell_back: BTreeMap::new(),
            by_choice: false,
        }
    }

    /// The offline stand-in for every model, as asked for (`--llm offline`): no warnings.
    pub fn all_offline() -> Router {
        Router { by_choice: true, ..Router::offline_only() }
    }

    /// Answers `provider`'s requests with `llm`.
    pub fn route(mut self, provider: &str, llm: Box<dyn Llm>) -> Router {
        self.missing.remove(provider);
        self.routes.insert(provider.to_string(), llm);
        self
    }

    /// Marks `provider` as missing (`why`: what it lacks).
    pub fn missing(mut self, provider: &str, why: &str) -> Router {
        self.routes.remove(provider);
        self.missing.insert(provider.to_string(), why.to_string());
        self
    }

    /// Limits the label to the providers the program uses.
    pub fn using(mut self, providers: impl IntoIterator<Item = String>) -> Router {
        self.used = Some(providers.into_iter().collect());
        self
    }

    /// Whether `provider`'s calls go over the network.
    pub fn is_live(&self, provider: &str) -> bool {
        self.routes.contains_key(provider)
    }

    fn answer(&mut self, request: &LlmRequest) -> Result<LlmReply, LlmError> {
        let p = request.model.provider.as_str();
        if p == "offline" {
            return self.offline.complete(request);
        }
        if let Some(route) = self.routes.get_mut(p) {
            return route.complete(request);
        }
        let why = self.missing.get(p).cloned().unwrap_or_else(|| "not configured".to_string());
        if self.fallback {
            self.fell_back
                .entry(format!("{p} ({why})"))
                .or_default()
                .insert(format!("{} ({} {})", request.agent, p, request.model.model));
            return self.offline.complete(request);
        }
        Err(LlmError {
            kind: ErrorKind::Unavailable,
            message: format!(
                "agent {} asks {} {}, which has {why}; set it in the environment or the secrets file, or allow the offline stand-in",
                request.agent, p, request.model.model
            ),
        })
    }
}

impl Llm for Router {
    fn label(&self) -> String {
        let all: BTreeSet<String> = self.routes.keys().chain(self.missing.keys()).cloned().collect();
        let used = self.used.clone().unwrap_or(all);
        let mut live = Vec::new();
        let mut stand_in = Vec::new();
        let mut failing = Vec::new();
        for p in &used {
            if let Some(r) = self.routes.get(p) {
                live.push(r.label());
            } else if p == "offline" {
                stand_in.push("offline models".to_string());
            } else {
                let why = self.missing.get(p).cloned().unwrap_or_else(|| "not configured".to_string());
                if self.fallback { stand_in.push(format!("{p} ({why})")) } else { failing.push(format!("{p} ({why})")) }
            }
        }
        if live.is_empty() && failing.is_empty() {
            return offline::LABEL.to_string();
        }
        if live.is_empty() && stand_in.is_empty() {
            return format!("providers configured: none for {}, so those calls fail", failing.join(", "));
        }
        if !stand_in.is_empty() {
            live.push(format!("{} for {}", offline::LABEL, stand_in.join(", ")));
        }
        if !failing.is_empty() {
            live.push(format!("no provider for {}: those calls fail", failing.join(", ")));
        }
        live.join("; ")
    }

    fn complete(&mut self, request: &LlmRequest) -> Result<LlmReply, LlmError> {
        self.answer(request)
    }

    fn complete_all(&mut self, requests: &[LlmRequest]) -> Vec<Result<LlmReply, LlmError>> {
        let mut out: Vec<Option<Result<LlmReply, LlmError>>> = vec![None; requests.len()];
        let mut batches: BTreeMap<String, Vec<usize>> = BTreeMap::new();
        for (i, r) in requests.iter().enumerate() {
            if self.routes.contains_key(&r.model.provider) {
                batches.entry(r.model.provider.clone()).or_default().push(i);
            } else {
                out[i] = Some(self.answer(r));
            }
        }
        for (p, idx) in batches {
            let batch: Vec<LlmRequest> = idx.iter().map(|&i| requests[i].clone()).collect();
            let Some(route) = self.routes.get_mut(&p) else { continue };
            for (i, res) in idx.into_iter().zip(route.complete_all(&batch)) {
                out[i] = Some(res);
            }
        }
        out.into_iter()
            .map(|o| {
                o.unwrap_or_else(|| Err(LlmError { kind: ErrorKind::Transport, message: "no answer".to_string() }))
            })
            .collect()
    }

    fn notes(&self) -> Vec<String> {
        let mut n: Vec<String> = self
            .fell_back
            .iter()
            .filter(|_| !self.by_choice)
            .map(|(p, who)| {
                format!("{p}: the {} answered {}", offline::LABEL, who.iter().cloned().collect::<Vec<_>>().join(", "))
            })
            .collect();
        for r in self.routes.values() {
            n.extend(r.notes());
        }
        n
    }
}
