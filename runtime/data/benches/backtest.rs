//! The SMA crossover example over 1,000,000 one-minute bars of the simulated market, inside the
//! engine (data already in memory), and the whole pipeline from CSV text.
//!
//! Run with `cargo bench -p strat-data --bench backtest`. Best of 5 inside the engine (the
//! first runs of a process also pay for fresh pages), best of 3 otherwise.
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock and the example file

use std::collections::BTreeMap;
use std::fmt::Write;
use std::time::{Duration, Instant};
use strat_data::parse_csv;
use strat_engine::engine::{Config, backtest};
use strat_engine::market::simulated;

fn main() {
    // Early closes shorten a few sessions: a few days more than 1,000,000 / 390.
    let days = 1_000_000 / 390 + 30;
    let m = simulated::simulate(&simulated::Config { days, bar_minutes: 1, ..simulated::Config::default() });
    let bars = m.bars["SPY"][..1_000_000].to_vec();
    let src =
        std::fs::read(concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/sma_crossover.strat")).expect("example");
    let mut ws = strat_lang::Workspace::new();
    let id = ws.set_file("sma_crossover.strat", src);
    let program = ws.compile(&[id]).program.expect("clean");
    let data = BTreeMap::from([("SPY".to_string(), bars.clone())]);
    let mut best = Duration::MAX;
    let mut orders = 0;
    for _ in 0..5 {
        let start = Instant::now();
        let r = backtest(&program, &data, &Config { cash: 100_000.0, ..Config::default() }).expect("runs");
        best = best.min(start.elapsed());
        orders = r.orders.len();
    }
    let mut csv = String::from("date,time,open,high,low,close,volume\n");
    for b in &bars {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{}",
            b.time.date(),
            b.time.time(),
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume
        );
    }
    let mut whole = Duration::MAX;
    for _ in 0..3 {
        let start = Instant::now();
        let loaded = parse_csv(&csv).expect("parses");
        let data = BTreeMap::from([("SPY".to_string(), loaded.bars)]);
        backtest(&program, &data, &Config { cash: 100_000.0, ..Config::default() }).expect("runs");
        whole = whole.min(start.elapsed());
    }
    println!(
        "SMA crossover, 1,000,000 bars, {orders} orders: engine {:.0} ms ({:.1} M bars/s); from CSV text {:.0} ms ({:.1} M bars/s)",
        best.as_secs_f64() * 1e3,
        1.0 / best.as_secs_f64(),
        whole.as_secs_f64() * 1e3,
        1.0 / whole.as_secs_f64()
    );

    // The runtime's own cost of a model call: an agent that asks at every bar of 10,000 daily
    // bars, its declared context built, its prompts rendered, the reply decoded and checked by
    // the risk gate. The offline stand-in answers at once, so the time is all overhead.
    let agent = r#"limits { max_position $1_000_000 }
        model m = anthropic("claude-sonnet-4-5")
        agent A {
          model m
          context prices([SPY]), indicators([SPY]), portfolio
          prompt "{{trigger.symbol}} moved {{change(trigger.symbol, 1d)}}; RSI {{rsi(trigger.symbol, 14)}}."
          on price(SPY) > $0
        }"#;
    let mut ws = strat_lang::Workspace::new();
    let id = ws.set_file("agent.strat", agent.as_bytes().to_vec());
    let program = ws.compile(&[id]).program.expect("clean");
    let daily = simulated::simulate(&simulated::Config { days: 10_000, ..simulated::Config::default() });
    let data = BTreeMap::from([("SPY".to_string(), daily.bars["SPY"].clone())]);
    let mut per_call = Duration::MAX;
    let mut calls = 0;
    for _ in 0..3 {
        let start = Instant::now();
        let r = backtest(&program, &data, &Config::default()).expect("runs");
        calls = r.executions.iter().filter(|e| e.llm_response.is_some()).count();
        per_call = per_call.min(start.elapsed() / calls.max(1) as u32);
    }
    println!(
        "LLM node overhead (context, prompts, decoding, risk gate; offline answers): {:.1} µs per call over {calls} calls",
        per_call.as_secs_f64() * 1e6
    );
}
