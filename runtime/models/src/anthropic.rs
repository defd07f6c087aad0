//! The Anthropic Messages API (`POST {base}/v1/messages`).
//!
//! Request: headers `x-api-key`, `anthropic-version: 2023-06-01`; body `model`, `max_tokens`
//! (the model's `max_tokens`, default 1024), `system` (top level), one user message with the
//! prompt (the part that is the same on every call of the agent marked with `cache_control`,
//! unless the model sets `cache: false`), `temperature` (clamped to the API's 0–1), and structured output as
//! `output_config.format = {type: json_schema, schema}` with the schema in the subset the API
//! accepts ([`super::schema::anthropic`]).
//!
//! Reply: the text of every `text` block in `content`, in order (a `tool_use` block's input
//! when there is no text), `stop_reason` as given (`end_turn`, `max_tokens`, `refusal`, …),
//! `usage` with cache tokens. Errors: `{"type":"error","error":{"type","message"}}`; a 429
//! whose `error.details.error_code` is `enforced_spend_limit_reached` is a spend limit, never
//! retried.

use super::config::Secret;
use super::http::{Failure, Parsed, Raw, ReplyError, Wire, by_status, count, excerpt, param};
use super::price::Tokens;
use super::retry::{Policy, retry_after};
use super::schema;
use serde_json::{Value as J, json};
use strat_engine::llm::{ErrorKind, LlmRequest};

pub const VERSION: &str = "2023-06-01";

#[derive(Debug, Clone, Copy, Default)]
pub struct Anthropic;

/// The request body for `request`.
pub fn body(request: &LlmRequest) -> J {
    let max_tokens = param(request, "max_tokens").map_or(1024, |m| m.clamp(1.0, 1e9) as u64);
    let mut b = json!({
        "model": request.model.model,
        "max_tokens": max_tokens,
        "messages": [{"role": "user", "content": content(request)}],
    });
    if !request.system.is_empty() {
        b["system"] = match request.cached_prefix {
            // The system prompt is the whole stable part: the breakpoint is on it.
            Some(0) => json!([{"type": "text", "text": request.system, "cache_control": {"type": "ephemeral"}}]),
            _ => J::from(request.system.as_str()),
        };
    }
    if let Some(t) = param(request, "temperature") {
        b["temperature"] = J::from(t.clamp(0.0, 1.0));
    }
    if !request.schema.is_null() {
        b["output_config"] = json!({"format": {"type": "json_schema", "schema": schema::anthropic(&request.schema)}});
    }
    b
}

/// The user message's content: the prompt as one string, or, when a leading part of it is the
/// same on every call, that part as a text block marked for the cache and the rest after it.
/// A breakpoint caches the prefix up to and including the block it marks (system prompt
/// included) for five minutes, renewed by each read; prefixes shorter than the model's minimum
/// (1,024 tokens and up) are not cached, at no cost.
fn content(request: &LlmRequest) -> J {
    let cut =
        request.cached_prefix.filter(|&n| n > 0 && n < request.prompt.len() && request.prompt.is_char_boundary(n));
    match cut {
        Some(n) => {
            let (stable, rest) = request.prompt.split_at(n);
            json!([
                {"type": "text", "text": stable, "cache_control": {"type": "ephemeral"}},
                {"type": "text", "text": rest},
            ])
        }
        None => J::from(request.prompt.as_str()),
    }
}

/// Reads a Messages reply.
pub fn parse(request: &LlmRequest, body: &[u8]) -> Result<Parsed, ReplyError> {
    let v: J = serde_json::from_slice(body).map_err(|_| ReplyError::NotJson(excerpt(body, 120)))?;
    if v["type"] == "error" {
        return Err(ReplyError::Refused(v["error"]["message"].as_str().unwrap_or("(no message)").to_string()));
    }
    let Some(blocks) = v["content"].as_array() else {
        return Err(ReplyError::Missing { what: "`content` list", excerpt: excerpt(body, 120) });
    };
    let mut text = String::new();
    for b in blocks.iter().filter(|b| b["type"] == "text") {
        text.push_str(b["text"].as_str().unwrap_or(""));
    }
    if text.is_empty()
        && let Some(tool) = blocks.iter().find(|b| b["type"] == "tool_use")
    {
        text = tool["input"].to_string();
    }
    if schema::needs_wrapper(&request.schema) {
        text = schema::unwrap_answer(text);
    }
    let u = &v["usage"];
    Ok(Parsed {
        text,
        model: v["model"].as_str().unwrap_or(&request.model.model).to_string(),
        stop_reason: v["stop_reason"].as_str().map(str::to_string),
        tokens: Tokens {
            input: count(&u["input_tokens"]),
            output: count(&u["output_tokens"]),
            cache_write: count(&u["cache_creation_input_tokens"]),
            cache_read: count(&u["cache_read_input_tokens"]),
        },
    })
}

/// Classifies an error reply.
pub fn classify(provider: &str, raw: &Raw, unix_now: Option<f64>) -> Failure {
    let (mut kind, mut retry) = by_status(raw.status);
    let v: J = serde_json::from_slice(&raw.body).unwrap_or(J::Null);
    let err = &v["error"];
    let ty = err["type"].as_str();
    let spend_limit = err["details"]["error_code"] == "enforced_spend_limit_reached";
    if spend_limit || ty == Some("billing_error") {
        (kind, retry) = (ErrorKind::Quota, false);
    }
    if raw.header("x-should-retry") == Some("false") {
        retry = false;
    }
    let what = match (ty, err["message"].as_str()) {
        (Some(t), Some(m)) => format!("{t}: {m}"),
        (Some(t), None) => t.to_string(),
        _ if raw.body.is_empty() => "(empty body)".to_string(),
        _ => format!("\"{}\"", excerpt(&raw.body, 200)),
    };
    let id = raw.header("request-id").or(v["request_id"].as_str());
    let id = id.map(|i| format!(" (request {i})")).unwrap_or_default();
    let spend = if spend_limit { " — the spend limit is reached; retrying does not help" } else { "" };
    Failure {
        kind,
        message: format!("{provider} answered {} {what}{spend}{id}", raw.status),
        retry,
        retry_after: retry_after(&raw.headers, unix_now),
    }
}

impl Wire for Anthropic {
    fn url(&self, base: &str) -> String {
        format!("{base}/v1/messages")
    }

    fn headers(&self, key: Option<&Secret>) -> Vec<(&'static str, String, bool)> {
        let mut h = vec![
            ("anthropic-version", VERSION.to_string(), false),
            ("content-type", "application/json".to_string(), false),
            ("accept", "application/json".to_string(), false),
        ];
        if let Some(k) = key {
            h.push(("x-api-key", k.expose().to_string(), true));
        }
        h
    }

    fn body(&self, request: &LlmRequest) -> J {
        body(request)
    }

    fn policy(&self, max_retries: u32) -> Policy {
        Policy::anthropic(max_retries)
    }

    fn parse(&self, request: &LlmRequest, body: &[u8]) -> Result<Parsed, ReplyError> {
        parse(request, body)
    }

    fn classify(&self, provider: &str, raw: &Raw, unix_now: Option<f64>) -> Failure {
        classify(provider, raw, unix_now)
    }
}
