//! What the models of a one-year backtest cost, with and without prompt caching: the real
//! `strat backtest` against a fake Anthropic server that meters tokens and caches prompts as
//! the service does (a token is about four bytes; prefixes of 1,024 tokens and more are cached,
//! written at 1.25 × and read at 0.1 × the input price). Every answer is a hold.
//!
//! Run with `cargo bench -p strat-cli --bench model_cost`. Prints, per strategy, the model
//! calls, input tokens (of them, read from the cache), output tokens and dollars, with the
//! model's `cache` setting on (the default) and off.
#![allow(clippy::disallowed_methods)] // a benchmark writes files and runs the binary

use std::path::{Path, PathBuf};
use std::process::Command;
use strat_fakes::{FakeServer, Reply, wire_json};

const EXE: &str = env!("CARGO_BIN_EXE_strat");
const KEY: &str = "sk-ant-bench-0123456789";

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// A house style guide of about `tokens` tokens, the same on every call.
fn playbook(tokens: usize) -> String {
    let rule = "Size every position by its volatility; never average down on a broken thesis; prefer liquid names; write down why before acting. ";
    rule.repeat(tokens * 4 / rule.len() + 1)
}

/// The strategies measured: the example as written, and the same agent with a long system
/// prompt of house rules.
fn strategies(dir: &Path) -> Vec<(&'static str, String)> {
    let dip = std::fs::read_to_string(root().join("examples/dip_buyer.strat")).expect("example");
    let with_rules = dip.replacen(
        "  model       sonnet\n",
        &format!("  model       sonnet\n  system      \"\"\"\n{}\n  \"\"\"\n", playbook(3_000)),
        1,
    );
    assert_ne!(dip, with_rules, "the example's model line moved");
    let mut out = Vec::new();
    for (name, text) in [("dip_buyer", dip), ("dip_buyer + 3k-token house rules", with_rules)] {
        for cache in [true, false] {
            let text =
                if cache { text.clone() } else { text.replace("max_tokens: 800)", "max_tokens: 800, cache: false)") };
            let file = dir.join(format!("{}-{cache}.strat", out.len()));
            std::fs::write(&file, text).expect("write");
            out.push((name, file.to_string_lossy().into_owned()));
        }
    }
    out
}

/// Calls, input tokens, of them cached, output tokens, dollars.
fn measure(file: &str, home: &Path) -> (usize, u64, u64, u64, f64) {
    let server = FakeServer::anthropic(KEY);
    server.metered();
    let mut hold = wire_json("anthropic/response_text_json.json");
    hold["content"] = serde_json::json!([{"type": "text", "text": "{\"decision\": \"hold\", \"reasoning\": \"no dip worth buying\"}"}]);
    server.otherwise(Reply::json(200, hold.to_string()));
    let shared = root().join("../shared/data/prices");
    let data = |s: &str| format!("{s}={}", shared.join(format!("{s}_2012-2014.csv")).display());
    let out = Command::new(EXE)
        .current_dir(root())
        .env("STRAT_HOME", home)
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", server.url())
        .args(["backtest", file, "--data", &data("AAPL"), "--data", &data("MSFT")])
        .args(["--from", "2013-01-01", "--to", "2013-12-31", "--format", "json"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let ex = v["executions"].as_array().expect("executions");
    let sum = |k: &str| ex.iter().filter_map(|e| e[k].as_u64()).sum::<u64>();
    let cost: f64 = ex.iter().filter_map(|e| e["cost"].as_f64()).sum();
    (server.hits(), sum("input_tokens"), sum("cached_tokens"), sum("output_tokens"), cost)
}

fn main() {
    let dir = std::env::temp_dir().join(format!("strat-model-cost-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    println!("one-year backtest (2013, AAPL and MSFT) on claude-sonnet-4-5 list prices, every answer a hold");
    println!(
        "{:<34} {:>5} {:>6} {:>11} {:>9} {:>7} {:>10}",
        "strategy", "cache", "calls", "input tok", "cached", "output", "cost"
    );
    for (i, (name, file)) in strategies(&dir).into_iter().enumerate() {
        let home = dir.join(format!("home-{i}"));
        let (calls, input, cached, output, cost) = measure(&file, &home);
        let cache = if i % 2 == 0 { "on" } else { "off" };
        println!("{name:<34} {cache:>5} {calls:>6} {input:>11} {cached:>9} {output:>7} {:>10}", format!("${cost:.4}"));
    }
    let _ = std::fs::remove_dir_all(&dir);
}
