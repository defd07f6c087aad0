//! What the engine asks a model and what comes back: the host's `Llm` trait and its types.
//! Providers (and the offline stand-in) implement it; the engine never sees HTTP.

use std::collections::BTreeMap;

/// A model, as a `model` declaration gives it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ModelSpec {
    /// The declaration's name (`sonnet`), or the agent's name for a model written in place.
    pub name: String,
    pub provider: String,
    pub model: String,
    /// `temperature`, `max_tokens`, `timeout`, … as numbers or text.
    pub params: BTreeMap<String, serde_json::Value>,
}

/// One question to a model.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LlmRequest {
    /// The agent asking.
    pub agent: String,
    pub model: ModelSpec,
    /// The system prompt, rendered.
    pub system: String,
    /// The final prompt, rendered: the strategy, the context, what to answer.
    pub prompt: String,
    /// The context the prompt states, as structured data (what the agent declared, point in
    /// time). Providers send the prompt; the offline stand-in reads this.
    pub context: serde_json::Value,
    /// The account summary the system prompt states (portfolio value, cash, positions).
    pub account: serde_json::Value,
    /// The JSON Schema of the answer's declared type.
    pub schema: serde_json::Value,
    /// What is the same on every call of this agent, for a provider's prompt cache: `None`
    /// when the system prompt changes from call to call; otherwise the system prompt and the
    /// first `n` bytes of `prompt` (at a character boundary; 0 when only the system prompt is).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cached_prefix: Option<usize>,
}

/// A model's answer, undecoded.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LlmReply {
    /// The text the model wrote (JSON, or JSON inside prose or fences, or anything at all).
    pub text: String,
    /// Which model answered (providers name a dated version), or the stand-in's label.
    pub model: String,
    /// `end_turn`, `max_tokens`, `refusal`, …, as the provider says.
    pub stop_reason: Option<String>,
    /// Every prompt token, those read from the provider's cache included.
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Of `input_tokens`, those read from the provider's prompt cache (priced lower).
    #[serde(default)]
    pub cached_tokens: u64,
    /// In US dollars, from the provider's prices.
    pub cost: f64,
}

/// Why a model gave no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ErrorKind {
    Timeout,
    RateLimited,
    Overloaded,
    Server,
    Auth,
    BadRequest,
    /// Out of quota or over a spend limit: retrying does not help.
    Quota,
    Transport,
    /// A token, cost or call budget of the run would be exceeded.
    Budget,
    /// No provider is configured for the model (no key, and the offline fallback is off), or a
    /// replayed run asked for a call its cassette does not hold.
    Unavailable,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct LlmError {
    pub kind: ErrorKind,
    pub message: String,
}

impl std::fmt::Display for LlmError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{:?}: {}", self.kind, self.message)
    }
}

/// Anything that answers models' questions.
pub trait Llm {
    /// Who answers, as shown with results ("offline stand-in (rule-based, not a model)", …).
    fn label(&self) -> String;
    fn complete(&mut self, request: &LlmRequest) -> Result<LlmReply, LlmError>;
    /// Answers several independent requests, each result at its request's index. Network
    /// providers send them concurrently (within their configured bound); the default asks
    /// one after another, in order.
    fn complete_all(&mut self, requests: &[LlmRequest]) -> Vec<Result<LlmReply, LlmError>> {
        requests.iter().map(|r| self.complete(r)).collect()
    }
    /// What the user should be told once the run is over: models the offline stand-in answered
    /// for lack of a key, models without a price, circuit breakers that opened, … (sorted).
    fn notes(&self) -> Vec<String> {
        Vec::new()
    }
}

/// Passes requests on to another `Llm` and keeps a copy of each (what `strat prompt` shows).
pub struct Recording<'a> {
    pub inner: &'a mut dyn Llm,
    pub requests: Vec<LlmRequest>,
}

impl Llm for Recording<'_> {
    fn label(&self) -> String {
        self.inner.label()
    }
    fn complete(&mut self, request: &LlmRequest) -> Result<LlmReply, LlmError> {
        self.requests.push(request.clone());
        self.inner.complete(request)
    }
}
