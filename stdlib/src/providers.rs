//! Model providers, their known models and settings; units of literals.

use crate::types::{Param, Provider, Ty, Unit};

const PARAMS: &[Param] = &[
    Param { name: "temperature", ty: Ty::Number, default: Some("0"), doc: "sampling temperature, 0 to 2" },
    Param { name: "max_tokens", ty: Ty::Number, default: Some("1024"), doc: "longest answer, in tokens" },
    Param { name: "timeout", ty: Ty::Duration, default: Some("30s"), doc: "give up on a call after this long" },
    Param {
        name: "cache",
        ty: Ty::Bool,
        default: Some("true"),
        doc: "ask the provider to cache the part of the prompt that is the same on every call (Anthropic `cache_control`; OpenAI caches a repeated prefix by itself)",
    },
];

pub static PROVIDERS: &[Provider] = &[
    Provider {
        name: "anthropic",
        doc: "Anthropic's Messages API. Needs `ANTHROPIC_API_KEY`.",
        models: &[
            "claude-opus-4-1",
            "claude-sonnet-4-5",
            "claude-haiku-4-5",
            "claude-3-5-sonnet-latest",
            "claude-3-opus-20240229",
        ],
        env_key: Some("ANTHROPIC_API_KEY"),
        params: PARAMS,
    },
    Provider {
        name: "openai",
        doc: "OpenAI's Chat Completions API. Needs `OPENAI_API_KEY`.",
        models: &["gpt-4o", "gpt-4o-mini", "gpt-4.1", "gpt-4.1-mini", "o3-mini", "gpt-4"],
        env_key: Some("OPENAI_API_KEY"),
        params: PARAMS,
    },
    Provider {
        name: "offline",
        doc: "The offline stand-in model shipped with strat: deterministic rules, no network, labelled offline in every log.",
        models: &["rules"],
        env_key: None,
        params: PARAMS,
    },
];

pub fn provider(name: &str) -> Option<&'static Provider> {
    PROVIDERS.iter().find(|p| p.name == name)
}

pub static UNITS: &[Unit] = &[
    Unit { suffix: "%", ty: Ty::Percent, doc: "percent: `5%`", seconds: None },
    Unit { suffix: "s", ty: Ty::Duration, doc: "seconds: `30s`", seconds: Some(1) },
    Unit { suffix: "m", ty: Ty::Duration, doc: "minutes: `15m`", seconds: Some(60) },
    Unit { suffix: "h", ty: Ty::Duration, doc: "hours: `1h`", seconds: Some(3600) },
    Unit { suffix: "d", ty: Ty::Duration, doc: "days: `1d`", seconds: Some(86_400) },
    Unit { suffix: "w", ty: Ty::Duration, doc: "weeks: `1w`", seconds: Some(604_800) },
    Unit { suffix: "$", ty: Ty::Money, doc: "money, written before the amount: `$10_000`, `$2.5k`", seconds: None },
    Unit { suffix: "shares", ty: Ty::Quantity, doc: "a number of shares: `10 shares`", seconds: None },
];

/// The system prompt given to a trading agent's model unless the agent sets `system`. It is the
/// same on every call of an agent (its limits do not change), so providers can cache it: what
/// changes from call to call is stated by [`ACCOUNT_PROMPT`] and the market data, after it.
pub static DEFAULT_SYSTEM_PROMPT: &str = "You are a trading agent managing part of a stock portfolio. Aim for profitable decisions while respecting the risk limits.

Largest position allowed: {{limits.max_position}}
Largest share of the portfolio per trade: {{limits.max_allocation}}
Orders allowed per day: {{limits.max_daily_trades}}

Reply with one JSON object and nothing else:
{\"decision\": \"buy\" | \"sell\" | \"hold\", \"symbol\": \"AAPL\", \"quantity\": 10, \"order_type\": \"market\" | \"limit\", \"limit_price\": 150.0, \"reasoning\": \"…\", \"confidence\": 0.0 to 1.0, \"risk_assessment\": \"low\" | \"medium\" | \"high\"}
To do nothing, reply {\"decision\": \"hold\", \"reasoning\": \"…\"}. Orders outside the limits are refused.";

/// The account as every model call states it, in the part of the prompt that changes from call
/// to call (after the system prompt, the answer's schema and a strategy that does not change).
pub static ACCOUNT_PROMPT: &str = "Portfolio value: {{portfolio.total_value}}
Cash: {{portfolio.cash}}
Open positions: {{portfolio.positions_count}}
Market open now: {{market_hours}}";
