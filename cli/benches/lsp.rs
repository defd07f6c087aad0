//! Language server latency on a generated 5,000-line file, through the real `strat lsp`
//! process and a JSON-RPC client on its standard input and output.
//!
//! Run with `cargo bench -p strat-cli --bench lsp`. Prints p50 and p95 of:
//! - edit → diagnostics: a change that makes or fixes a name error, until the diagnostics of
//!   that version arrive;
//! - edit → first diagnostics on a syntax error (the syntax pass is published first);
//! - completion: request to response, in expressions and after `.`;
//! - hover and formatting of the whole file, request to response.
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock and writes a file

#[path = "../tests/lsp_client/mod.rs"]
mod lsp_client;

use lsp_client::Client;
use serde_json::{Value, json};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_strat");

fn generated(lines: usize) -> String {
    let mut s = String::from(
        "universe tech = [AAPL, MSFT, GOOGL, AMZN, META, SPY]\n\nlimits cautious {\n  max_position $10_000\n  max_allocation 5%\n  max_daily_trades 3\n  allow tech\n}\n\nmodel sonnet = anthropic(\"claude-sonnet-4-5\", temperature: 0.2)\n\n",
    );
    let mut k = 0;
    while s.lines().count() < lines {
        s.push_str(&format!(
            "agent A{k} {{
  model sonnet
  limits cautious
  context prices(tech), indicators(tech), portfolio
  prompt \"Buy {{{{trigger.symbol}}}} if RSI {{{{rsi(trigger.symbol, 14)}}}} is low; cash {{{{portfolio.cash}}}}.\"
  on change(tech, 1d) <= -3% and rsi(tech, 14) < 35 throttle 1 per 15m
}}

workflow W{k} {{
  limits cautious
  on sma(SPY, 10) crosses above sma(SPY, 30)
  let spread = sma(SPY, 10) - sma(SPY, 30)
  if spread > $1 and not holding(SPY) and volume(SPY) > 2 * avg_volume(SPY, 20d) {{
    buy SPY size 5% of portfolio limit price(SPY) * 0.99
  }} else if macd(SPY, 12, 26, 9).histogram < 0 {{
    sell SPY size all
  }}
  notify \"spread {{{{spread}}}} with {{{{portfolio.total_value}}}}\"
}}

"
        ));
        k += 1;
    }
    s
}

fn percentile(v: &mut [Duration], p: f64) -> Duration {
    v.sort();
    let i = ((v.len() as f64 - 1.0) * p).round() as usize;
    v[i.min(v.len() - 1)]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

fn report(name: &str, v: &mut [Duration]) {
    let p50 = percentile(v, 0.5);
    let p95 = percentile(v, 0.95);
    println!(
        "{name:<40} n={:<4} p50 {:>10}  p95 {:>10}  max {:>10}",
        v.len(),
        ms(p50),
        ms(p95),
        ms(percentile(v, 1.0))
    );
}

/// (line, column) of byte `at`; the generated text is ASCII.
fn position(text: &str, at: usize) -> (u32, u32) {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    (text[..at].matches('\n').count() as u32, (at - line_start) as u32)
}

fn main() {
    let text = generated(5_000);
    let dir = std::env::temp_dir().join(format!("strat-lsp-bench-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let uri = format!("file://{}/big.strat", dir.display());
    let mut c = Client::start(EXE, &dir);
    c.initialize(&dir, &["utf-16"]);
    let start = Instant::now();
    c.open(&uri, &text);
    c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == 1);
    println!("{} lines, {} bytes; open → diagnostics {}", text.lines().count(), text.len(), ms(start.elapsed()));

    // Edits in the middle of the file: `spread > $1` ⇄ `sprad > $1` (a name error and back).
    let mut version = 1;
    let at = text.match_indices("if spread > $1").nth(30).map_or(0, |(i, _)| i + 3);
    let (line, col) = position(&text, at);
    let mut semantic = Vec::new();
    for i in 0..200 {
        version += 1;
        let (old, new) = if i % 2 == 0 { ("spread", "sprad") } else { ("sprad", "spread") };
        let t = Instant::now();
        c.change(&uri, version, ((line, col), (line, col + old.len() as u32)), new);
        let v = version;
        let p = c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == v);
        semantic.push(t.elapsed());
        let errors = p["diagnostics"].as_array().map_or(0, |d| d.iter().filter(|d| d["severity"] == 1).count());
        assert_eq!(errors, if i % 2 == 0 { 1 } else { 0 }, "unexpected diagnostics");
    }
    report("edit → diagnostics (name error)", &mut semantic);

    // A syntax error and its fix: an opening parenthesis typed and removed.
    let mut syntax = Vec::new();
    for i in 0..100 {
        version += 1;
        let t = Instant::now();
        if i % 2 == 0 {
            c.change(&uri, version, ((line, col), (line, col)), "(");
        } else {
            c.change(&uri, version, ((line, col), (line, col + 1)), "");
        }
        let v = version;
        c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == v);
        syntax.push(t.elapsed());
        if i % 2 == 0 {
            // Drain the full publish that follows the syntax one.
            c.wait_for("textDocument/publishDiagnostics", |p| p["version"] == v);
        }
    }
    report("edit → first diagnostics (syntax error)", &mut syntax);

    // Completion in an expression and after `portfolio.`.
    let expr_at = position(&text, text.match_indices("volume(SPY) > 2").nth(40).map_or(0, |(i, _)| i));
    let dot_at = position(&text, text.match_indices("portfolio.cash").nth(50).map_or(0, |(i, _)| i + 10));
    let mut completion = Vec::new();
    for i in 0..200 {
        let (l, ch) = if i % 2 == 0 { expr_at } else { dot_at };
        let t = Instant::now();
        let r: Value = c.request("textDocument/completion", Client::at(&uri, l, ch));
        completion.push(t.elapsed());
        assert!(r["items"].as_array().is_some_and(|a| !a.is_empty()), "no completion");
    }
    report("completion", &mut completion);
    let mut hover = Vec::new();
    for _ in 0..100 {
        let t = Instant::now();
        c.request(
            "textDocument/hover",
            json!({"textDocument": {"uri": uri}, "position": {"line": expr_at.0, "character": expr_at.1 + 2}}),
        );
        hover.push(t.elapsed());
    }
    report("hover", &mut hover);
    let mut formatting = Vec::new();
    for _ in 0..50 {
        let t = Instant::now();
        let r = c.request(
            "textDocument/formatting",
            json!({"textDocument": {"uri": uri}, "options": {"tabSize": 2, "insertSpaces": true}}),
        );
        formatting.push(t.elapsed());
        assert!(r.is_array(), "formatting answered {r}");
    }
    report("formatting (whole file)", &mut formatting);
    let _ = c.shutdown();
    let _ = std::fs::remove_dir_all(&dir);
}
