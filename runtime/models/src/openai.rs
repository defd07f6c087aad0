//! OpenAI Chat Completions (`POST {base}/chat/completions`) and the servers that imitate it on
//! the user's own machine: Ollama, llama.cpp and vLLM.
//!
//! Request: `Authorization: Bearer KEY` (local servers: only when a key is configured);
//! `messages` = the system prompt then the user prompt; `temperature` (left out for OpenAI's
//! reasoning models, which accept only their default); `max_completion_tokens` for OpenAI,
//! `max_tokens` for local servers (Ollama has no `max_completion_tokens`); structured output as
//! `response_format = {type: json_schema, json_schema: {name, strict: true, schema}}` with the
//! strict-mode schema ([`super::schema::openai_strict`]) for OpenAI, and the schema as it is
//! (no `strict`, which Ollama ignores) for local servers.
//!
//! Reply: `choices[0].message.content` (or the first tool call's arguments); a non-empty
//! `refusal` becomes the text with `stop_reason = "refusal"`; `finish_reason: "length"` becomes
//! `"max_tokens"`, others pass through. Errors: `{"error": {message, type, param, code}}` from
//! OpenAI and Ollama, `error` as a string, llama.cpp's integer `code`, and vLLM's older
//! top-level `{"object": "error", "message", "type", "code": 404}`; a 429 whose code or type is
//! `insufficient_quota` is out of quota, never retried.

use super::config::{Dialect, Secret};
use super::http::{Failure, Parsed, Raw, ReplyError, Wire, by_status, count, excerpt, param};
use super::price::Tokens;
use super::retry::{Policy, retry_after};
use super::schema;
use serde_json::{Value as J, json};
use strat_engine::llm::{ErrorKind, LlmRequest};

#[derive(Debug, Clone, Copy)]
pub struct OpenAi {
    pub dialect: Dialect,
}

/// OpenAI's reasoning models reject any `temperature` but their default.
fn fixed_temperature(model: &str) -> bool {
    let m = model.to_ascii_lowercase();
    ["o1", "o3", "o4", "gpt-5"].iter().any(|p| m == *p || m.starts_with(&format!("{p}-")))
}

impl OpenAi {
    /// Whether the schema sent is wrapped (a root that is not an object, OpenAI only).
    fn wrapped(&self, request: &LlmRequest) -> bool {
        self.dialect == Dialect::OpenAi && schema::needs_wrapper(&request.schema)
    }

    /// The request body for `request`.
    pub fn body(&self, request: &LlmRequest) -> J {
        let mut messages = Vec::new();
        if !request.system.is_empty() {
            messages.push(json!({"role": "system", "content": request.system}));
        }
        messages.push(json!({"role": "user", "content": request.prompt}));
        let mut b = json!({"model": request.model.model, "messages": messages});
        let local = self.dialect.is_local();
        if let Some(m) = param(request, "max_tokens") {
            let field = if local { "max_tokens" } else { "max_completion_tokens" };
            b[field] = J::from(m.clamp(1.0, 1e9) as u64);
        }
        if let Some(t) = param(request, "temperature")
            && (local || !fixed_temperature(&request.model.model))
        {
            b["temperature"] = J::from(t.clamp(0.0, 2.0));
        }
        if !request.schema.is_null() {
            b["response_format"] = if local {
                json!({"type": "json_schema", "json_schema": {"name": "answer", "schema": request.schema}})
            } else {
                json!({"type": "json_schema", "json_schema": {"name": "answer", "strict": true, "schema": schema::openai_strict(&request.schema)}})
            };
        }
        b
    }

    /// Reads a chat completion.
    pub fn parse(&self, request: &LlmRequest, body: &[u8]) -> Result<Parsed, ReplyError> {
        let v: J = serde_json::from_slice(body).map_err(|_| ReplyError::NotJson(excerpt(body, 120)))?;
        if v["object"] == "error" || v.get("error").is_some_and(|e| !e.is_null()) {
            let (_, what) = describe(&v, body);
            return Err(ReplyError::Refused(what.to_string()));
        }
        let Some(choice) = v["choices"].as_array().and_then(|c| c.first()) else {
            return Err(ReplyError::Missing { what: "choices", excerpt: excerpt(body, 120) });
        };
        let message = &choice["message"];
        let refusal = message["refusal"].as_str().filter(|r| !r.trim().is_empty());
        let finish = choice["finish_reason"].as_str();
        let (text, stop_reason) = match refusal {
            Some(r) => (r.to_string(), Some("refusal".to_string())),
            None => {
                let text = match message["content"].as_str() {
                    Some(c) => c.to_string(),
                    None => message["tool_calls"][0]["function"]["arguments"].as_str().unwrap_or("").to_string(),
                };
                let stop = finish.map(|f| if f == "length" { "max_tokens".to_string() } else { f.to_string() });
                (if self.wrapped(request) { schema::unwrap_answer(text) } else { text }, stop)
            }
        };
        let u = &v["usage"];
        let prompt = count(&u["prompt_tokens"]);
        let cached = count(&u["prompt_tokens_details"]["cached_tokens"]).min(prompt);
        Ok(Parsed {
            text,
            model: v["model"].as_str().unwrap_or(&request.model.model).to_string(),
            stop_reason,
            tokens: Tokens {
                input: prompt - cached,
                output: count(&u["completion_tokens"]),
                cache_write: 0,
                cache_read: cached,
            },
        })
    }
}

/// The error's type or code, and a description, from any of the envelopes.
fn describe(v: &J, body: &[u8]) -> (Option<String>, String) {
    let err = match &v["error"] {
        J::Object(_) => &v["error"],
        J::String(s) => return (None, s.clone()),
        _ if v["object"] == "error" || v["message"].is_string() => v,
        _ => {
            let text = if body.is_empty() { "(empty body)".to_string() } else { format!("\"{}\"", excerpt(body, 200)) };
            return (None, text);
        }
    };
    let code = match &err["code"] {
        J::String(s) => Some(s.clone()),
        J::Number(n) => Some(n.to_string()),
        _ => None,
    };
    let ty = err["type"].as_str().map(str::to_string);
    let label = ty.clone().or(code.clone());
    let message = err["message"].as_str().unwrap_or("(no message)");
    let what = match &label {
        Some(l) => format!("{l}: {message}"),
        None => message.to_string(),
    };
    let marker = match (code, ty) {
        (Some(c), _) if c == "insufficient_quota" || c == "billing_hard_limit_reached" => Some(c),
        (_, Some(t)) if t == "insufficient_quota" => Some(t),
        (c, t) => c.or(t),
    };
    (marker, what)
}

impl Wire for OpenAi {
    fn url(&self, base: &str) -> String {
        format!("{base}/chat/completions")
    }

    fn headers(&self, key: Option<&Secret>) -> Vec<(&'static str, String, bool)> {
        let mut h = vec![
            ("content-type", "application/json".to_string(), false),
            ("accept", "application/json".to_string(), false),
        ];
        if let Some(k) = key {
            h.push(("authorization", format!("Bearer {}", k.expose()), true));
        }
        h
    }

    fn body(&self, request: &LlmRequest) -> J {
        OpenAi::body(self, request)
    }

    fn policy(&self, max_retries: u32) -> Policy {
        Policy::openai(max_retries)
    }

    fn parse(&self, request: &LlmRequest, body: &[u8]) -> Result<Parsed, ReplyError> {
        OpenAi::parse(self, request, body)
    }

    fn classify(&self, provider: &str, raw: &Raw, unix_now: Option<f64>) -> Failure {
        let (mut kind, mut retry) = by_status(raw.status);
        let v: J = serde_json::from_slice(&raw.body).unwrap_or(J::Null);
        let (marker, what) = describe(&v, &raw.body);
        let quota = matches!(marker.as_deref(), Some("insufficient_quota" | "billing_hard_limit_reached"));
        if quota {
            (kind, retry) = (ErrorKind::Quota, false);
        }
        if raw.header("x-should-retry") == Some("false") {
            retry = false;
        }
        let id = raw.header("x-request-id").map(|i| format!(" (request {i})")).unwrap_or_default();
        let server =
            if self.dialect == Dialect::OpenAi { String::new() } else { format!(" [{}]", self.dialect.describe()) };
        let note = if quota { " — out of quota; retrying does not help" } else { "" };
        Failure {
            kind,
            message: format!("{provider}{server} answered {} {what}{note}{id}", raw.status),
            retry,
            retry_after: retry_after(&raw.headers, unix_now),
        }
    }
}
