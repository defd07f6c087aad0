//! Model hosts the engine's tests answer with.
#![allow(dead_code)] // each test file uses a different part

use strat_engine::llm::{ErrorKind, Llm, LlmError, LlmReply, LlmRequest};

/// A model that answers every call with the same text.
pub struct Scripted(pub &'static str);

impl Llm for Scripted {
    fn label(&self) -> String {
        "scripted model".into()
    }
    fn complete(&mut self, _: &LlmRequest) -> Result<LlmReply, LlmError> {
        Ok(LlmReply {
            text: self.0.to_string(),
            model: "scripted".into(),
            stop_reason: Some("end_turn".into()),
            input_tokens: 1,
            output_tokens: 1,
            cached_tokens: 0,
            cost: 0.0,
        })
    }
}

/// A model host whose every call fails, as a provider that cannot be reached.
pub struct Down;

impl Llm for Down {
    fn label(&self) -> String {
        "a provider that is down".into()
    }
    fn complete(&mut self, _: &LlmRequest) -> Result<LlmReply, LlmError> {
        Err(LlmError { kind: ErrorKind::Transport, message: "cannot connect".into() })
    }
}

/// The `i`th day the exchange opens on or after `from` (0 for the first): bars dated on
/// closed days are reported, never traded, so the tests' daily bars fall on sessions.
pub fn session(from: chrono::NaiveDate, i: i64) -> chrono::NaiveDate {
    let mut days = from.iter_days().filter(|d| strat_engine::market::calendar::is_trading_day(*d));
    days.nth(i.max(0) as usize).unwrap_or(from)
}

/// Which session after `from` `day` is (its index for [`session`]).
pub fn session_index(from: chrono::NaiveDate, day: chrono::NaiveDate) -> i64 {
    from.iter_days().take_while(|d| *d < day).filter(|d| strat_engine::market::calendar::is_trading_day(*d)).count()
        as i64
}
