//! Token counts and prompt caching as the real services report them, for a server asked to
//! meter ([`crate::FakeServer::metered`]): the reply's `usage` is worked out from the request,
//! a token being about four bytes of text, instead of the fixture's fixed figures.
//!
//! Anthropic caches only what a request marks: the prefix (system blocks, then the messages'
//! blocks, in order) up to and including the last block with `cache_control`, when it is at
//! least [`MIN_CACHED_TOKENS`] long. The first request with a prefix writes it
//! (`cache_creation_input_tokens`), later ones read it (`cache_read_input_tokens`), and
//! `input_tokens` counts the rest. OpenAI caches by itself: the longest prefix shared with an
//! earlier request, from [`MIN_CACHED_TOKENS`] on in steps of 128 tokens, is reported as
//! `prompt_tokens_details.cached_tokens` within `prompt_tokens`.

use serde_json::Value as J;
use std::collections::{HashSet, VecDeque};

/// The shortest prefix either service caches, in tokens.
pub const MIN_CACHED_TOKENS: u64 = 1024;

/// How many earlier OpenAI prompts are compared with a new one.
const KEPT_PROMPTS: usize = 256;

/// What the fake's caches hold.
#[derive(Default)]
pub struct PromptCache {
    /// Anthropic: the marked prefixes written so far.
    written: HashSet<String>,
    /// OpenAI: the latest prompts' texts.
    recent: VecDeque<String>,
}

/// About how many tokens a text is.
pub fn tokens(text: &str) -> u64 {
    (text.len() as u64).div_ceil(4)
}

/// The text of a `content` or `system` value: a string, or a list of text blocks, each with
/// whether it carries a cache breakpoint.
fn blocks(v: &J) -> Vec<(String, bool)> {
    match v {
        J::String(s) => vec![(s.clone(), false)],
        J::Array(items) => items
            .iter()
            .map(|b| (b["text"].as_str().unwrap_or_default().to_string(), b.get("cache_control").is_some()))
            .collect(),
        _ => Vec::new(),
    }
}

impl PromptCache {
    /// The `usage` of an Anthropic Messages request, keeping the fixture's `output_tokens`.
    pub fn anthropic(&mut self, request: &J, output_tokens: &J) -> J {
        let mut all = blocks(&request["system"]);
        for m in request["messages"].as_array().into_iter().flatten() {
            all.extend(blocks(&m["content"]));
        }
        let total: u64 = all.iter().map(|(t, _)| tokens(t)).sum();
        let (mut write, mut read) = (0, 0);
        if let Some(last) = all.iter().rposition(|(_, marked)| *marked) {
            let prefix: String = all[..=last].iter().map(|(t, _)| t.as_str()).collect();
            let size: u64 = all[..=last].iter().map(|(t, _)| tokens(t)).sum();
            let key = format!("{}\u{0}{prefix}", request["model"].as_str().unwrap_or_default());
            if size >= MIN_CACHED_TOKENS {
                if self.written.contains(&key) {
                    read = size;
                } else {
                    self.written.insert(key);
                    write = size;
                }
            }
        }
        serde_json::json!({
            "input_tokens": total - write - read,
            "cache_creation_input_tokens": write,
            "cache_read_input_tokens": read,
            "output_tokens": output_tokens,
        })
    }

    /// The `usage` of an OpenAI Chat Completions request, keeping the fixture's
    /// `completion_tokens`.
    pub fn openai(&mut self, request: &J, completion_tokens: &J) -> J {
        let text: String = request["messages"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| format!("{}\u{0}{}\u{0}", m["role"].as_str().unwrap_or_default(), m["content"]))
            .collect();
        let shared = self.recent.iter().map(|old| common_prefix(old, &text)).max().unwrap_or(0);
        let shared_tokens = shared as u64 / 4;
        let cached = if shared_tokens >= MIN_CACHED_TOKENS {
            MIN_CACHED_TOKENS + (shared_tokens - MIN_CACHED_TOKENS) / 128 * 128
        } else {
            0
        };
        let prompt = tokens(&text);
        if self.recent.len() == KEPT_PROMPTS {
            self.recent.pop_front();
        }
        self.recent.push_back(text);
        let completion = completion_tokens.as_u64().unwrap_or(0);
        serde_json::json!({
            "prompt_tokens": prompt,
            "completion_tokens": completion,
            "total_tokens": prompt + completion,
            "prompt_tokens_details": {"cached_tokens": cached.min(prompt)},
        })
    }
}

/// The length in bytes of the longest common prefix of two texts.
fn common_prefix(a: &str, b: &str) -> usize {
    a.bytes().zip(b.bytes()).take_while(|(x, y)| x == y).count()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn marked(system: &str, stable: &str, rest: &str) -> J {
        json!({"model": "m", "system": system, "messages": [{"role": "user", "content": [
            {"type": "text", "text": stable, "cache_control": {"type": "ephemeral"}},
            {"type": "text", "text": rest},
        ]}]})
    }

    #[test]
    fn a_marked_prefix_is_written_once_then_read() {
        let mut c = PromptCache::default();
        let stable = "s".repeat(8_000);
        let first = c.anthropic(&marked("sys", &stable, "call 1"), &json!(7));
        let second = c.anthropic(&marked("sys", &stable, "call 2"), &json!(7));
        let size = tokens("sys") + tokens(&stable);
        assert_eq!(first["cache_creation_input_tokens"], size);
        assert_eq!(first["cache_read_input_tokens"], 0);
        assert_eq!(second["cache_read_input_tokens"], size);
        assert_eq!(second["input_tokens"], tokens("call 2"));
        assert_eq!(second["output_tokens"], 7);
    }

    #[test]
    fn a_short_or_unmarked_prefix_is_not_cached() {
        let mut c = PromptCache::default();
        for _ in 0..2 {
            let u = c.anthropic(&marked("sys", "short", "rest"), &json!(1));
            assert_eq!(
                (u["cache_creation_input_tokens"].as_u64(), u["cache_read_input_tokens"].as_u64()),
                (Some(0), Some(0))
            );
        }
        let plain = json!({"model": "m", "messages": [{"role": "user", "content": "x".repeat(9_000)}]});
        for _ in 0..2 {
            assert_eq!(c.anthropic(&plain, &json!(1))["cache_read_input_tokens"], 0);
        }
    }

    #[test]
    fn openai_reports_a_repeated_prefix_in_steps_of_128_tokens() {
        let mut c = PromptCache::default();
        let ask =
            |tail: &str| json!({"messages": [{"role": "user", "content": format!("{}{tail}", "p".repeat(6_000))}]});
        assert_eq!(c.openai(&ask("one"), &json!(3))["prompt_tokens_details"]["cached_tokens"], 0);
        let u = c.openai(&ask("two"), &json!(3));
        let cached = u["prompt_tokens_details"]["cached_tokens"].as_u64().unwrap_or(0);
        assert!(cached >= MIN_CACHED_TOKENS && (cached - MIN_CACHED_TOKENS).is_multiple_of(128), "{u}");
        assert!(cached <= 1_500, "{u}");
    }
}
