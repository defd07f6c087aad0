//! The sandbox's limits, in one place. Exceeding one is a recorded, typed failure of the
//! execution (or of the model call), never a hang.

/// Limits on what a run may do.
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct Limits {
    /// Nodes one execution may visit (graphs are acyclic, so this only guards against bugs).
    pub max_steps: u32,
    /// How deeply executions may nest (a team calling its members).
    pub max_depth: u32,
    /// Longest rendered prompt or message, in bytes.
    pub max_text: usize,
    /// Model calls one run may make.
    pub max_llm_calls: u64,
    /// Per model call, in milliseconds (providers use it as their timeout).
    pub llm_timeout_ms: u64,
    /// Tokens (in and out) one run may spend on models; `None`: no limit.
    pub max_tokens: Option<u64>,
    /// US dollars one run may spend on models; `None`: no limit.
    pub max_cost: Option<f64>,
    /// Tokens one agent (or team) may spend in the run; `None`: no limit.
    pub max_agent_tokens: Option<u64>,
    /// US dollars one agent (or team) may spend in the run; `None`: no limit.
    pub max_agent_cost: Option<f64>,
    /// Wall time one execution may take, in milliseconds, on the host's monotonic clock.
    pub max_execution_ms: f64,
}

impl Default for Limits {
    fn default() -> Limits {
        Limits {
            max_steps: 10_000,
            max_depth: 4,
            max_text: 256 * 1024,
            max_llm_calls: 100_000,
            llm_timeout_ms: 60_000,
            max_tokens: None,
            max_cost: None,
            max_agent_tokens: None,
            max_agent_cost: None,
            max_execution_ms: 300_000.0,
        }
    }
}

/// Which limit was exceeded.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Exceeded {
    Steps,
    Depth,
    Text,
    LlmCalls,
    Tokens,
    Cost,
    AgentTokens,
    AgentCost,
    Time,
}

impl Exceeded {
    pub fn describe(self, l: &Limits) -> String {
        match self {
            Exceeded::Steps => format!("more than {} steps in one execution", l.max_steps),
            Exceeded::Depth => format!("executions nested deeper than {}", l.max_depth),
            Exceeded::Text => format!("a rendered text longer than {} bytes", l.max_text),
            Exceeded::LlmCalls => format!("more than {} model calls in the run", l.max_llm_calls),
            Exceeded::Tokens => format!("more than {} model tokens in the run", l.max_tokens.unwrap_or(0)),
            Exceeded::Cost => format!("more than ${:.2} of model calls in the run", l.max_cost.unwrap_or(0.0)),
            Exceeded::AgentTokens => {
                format!("more than {} model tokens for this agent in the run", l.max_agent_tokens.unwrap_or(0))
            }
            Exceeded::AgentCost => {
                format!("more than ${:.2} of model calls for this agent in the run", l.max_agent_cost.unwrap_or(0.0))
            }
            Exceeded::Time => format!("an execution longer than {} ms", l.max_execution_ms),
        }
    }
}
