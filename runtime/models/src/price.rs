//! What a call costs: list prices per million tokens for the models strat knows, matched by
//! name (a dated version such as `claude-sonnet-4-5-20250929` or `gpt-4o-2024-08-06` takes its
//! model's price). An unknown model, and any model on a local server, costs 0 and is noted.

use std::collections::BTreeMap;

/// US dollars per million tokens.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Price {
    pub input: f64,
    pub output: f64,
    /// Writing the prompt cache (Anthropic: 1.25 × input).
    pub cache_write: f64,
    /// Reading the prompt cache (Anthropic: 0.1 × input; OpenAI: 0.25–0.5 × input).
    pub cache_read: f64,
}

const fn anthropic(input: f64, output: f64) -> Price {
    Price { input, output, cache_write: input * 1.25, cache_read: input * 0.1 }
}

/// OpenAI caches repeated prefixes by itself, at no charge to write; `cached` is its list price
/// of a cached input token.
const fn openai(input: f64, output: f64, cached: f64) -> Price {
    Price { input, output, cache_write: input, cache_read: cached }
}

/// List prices (USD per million tokens), as published by the providers in 2025.
pub static LIST: &[(&str, Price)] = &[
    ("claude-opus-4-1", anthropic(15.0, 75.0)),
    ("claude-opus-4-0", anthropic(15.0, 75.0)),
    ("claude-opus-4", anthropic(15.0, 75.0)),
    ("claude-sonnet-4-5", anthropic(3.0, 15.0)),
    ("claude-sonnet-4-0", anthropic(3.0, 15.0)),
    ("claude-sonnet-4", anthropic(3.0, 15.0)),
    ("claude-3-7-sonnet", anthropic(3.0, 15.0)),
    ("claude-3-5-sonnet", anthropic(3.0, 15.0)),
    ("claude-haiku-4-5", anthropic(1.0, 5.0)),
    ("claude-3-5-haiku", anthropic(0.8, 4.0)),
    ("claude-3-opus", anthropic(15.0, 75.0)),
    ("claude-3-haiku", anthropic(0.25, 1.25)),
    ("gpt-4o", openai(2.5, 10.0, 1.25)),
    ("gpt-4o-mini", openai(0.15, 0.6, 0.075)),
    ("gpt-4.1", openai(2.0, 8.0, 0.5)),
    ("gpt-4.1-mini", openai(0.4, 1.6, 0.1)),
    ("gpt-4.1-nano", openai(0.1, 0.4, 0.025)),
    ("gpt-4", openai(30.0, 60.0, 30.0)),
    ("o3", openai(2.0, 8.0, 0.5)),
    ("o3-mini", openai(1.1, 4.4, 0.55)),
    ("o4-mini", openai(1.1, 4.4, 0.275)),
];

/// Whether `rest` (what follows a model name) names a version of it: nothing, `-latest`, or a
/// date (`-20250929`, `-2024-08-06`).
fn is_version(rest: &str) -> bool {
    let Some(v) = rest.strip_prefix('-') else { return rest.is_empty() };
    let digits = |s: &str, n: usize| s.len() == n && s.bytes().all(|b| b.is_ascii_digit());
    v == "latest" || digits(v, 8) || {
        let p: Vec<&str> = v.split('-').collect();
        p.len() == 3 && digits(p[0], 4) && digits(p[1], 2) && digits(p[2], 2)
    }
}

/// Prices: the list, with the configuration's own entries first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prices {
    pub custom: BTreeMap<String, Price>,
}

impl Prices {
    /// The price of `model`, if known.
    pub fn find(&self, model: &str) -> Option<Price> {
        let m = model.trim().to_ascii_lowercase();
        let lookup = |name: &str, p: Price| m.strip_prefix(name).filter(|r| is_version(r)).map(|_| p);
        self.custom
            .iter()
            .find_map(|(n, p)| lookup(&n.to_ascii_lowercase(), *p))
            .or_else(|| LIST.iter().find_map(|(n, p)| lookup(n, *p)))
    }
}

/// Token counts of one call.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Tokens {
    /// Uncached prompt tokens.
    pub input: u64,
    pub output: u64,
    pub cache_write: u64,
    pub cache_read: u64,
}

impl Tokens {
    /// Every prompt token, cached or not (what the budgets count as input).
    pub fn all_input(&self) -> u64 {
        self.input.saturating_add(self.cache_write).saturating_add(self.cache_read)
    }

    /// The cost in US dollars at `price`.
    pub fn cost(&self, price: Price) -> f64 {
        (self.input as f64 * price.input
            + self.output as f64 * price.output
            + self.cache_write as f64 * price.cache_write
            + self.cache_read as f64 * price.cache_read)
            / 1e6
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dated_versions_take_their_models_price_and_lookalikes_do_not() {
        let p = Prices::default();
        assert_eq!(p.find("claude-sonnet-4-5-20250929").map(|p| p.input), Some(3.0));
        assert_eq!(p.find("gpt-4o-2024-08-06").map(|p| p.output), Some(10.0));
        assert_eq!(p.find("gpt-4o-mini").map(|p| p.input), Some(0.15));
        assert_eq!(p.find("claude-3-5-sonnet-latest").map(|p| p.input), Some(3.0));
        // Not a version of gpt-4: priced differently, so unknown rather than guessed.
        assert_eq!(p.find("gpt-4-turbo"), None);
        assert_eq!(p.find("qwen3:8b"), None);
    }

    #[test]
    fn cost_counts_every_kind_of_token() {
        let price = Prices::default().find("claude-sonnet-4-5").expect("known");
        let t = Tokens { input: 1_000_000, output: 100_000, cache_write: 0, cache_read: 1_000_000 };
        assert!((t.cost(price) - (3.0 + 1.5 + 0.3)).abs() < 1e-9);
        assert_eq!(t.all_input(), 2_000_000);
        let mine = Prices { custom: [("qwen3:8b".to_string(), openai(0.0, 0.0, 0.0))].into() };
        assert!(mine.find("qwen3:8b").is_some());
    }
}
