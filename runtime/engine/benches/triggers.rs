//! The trigger manager under load: 10,000 price triggers over 500 symbols (above, below, crosses
//! above and below, a quarter of them throttled to one firing per 15 minutes), fed ticks whose
//! traffic is skewed (Zipf-like: the busiest symbol gets most ticks). Each tick is one closed
//! bar of one symbol: the market takes it and the manager returns what fires.
//!
//! Run with `cargo bench -p strat-engine --bench triggers`. Prints ticks per second (best of 5)
//! and the latency of single ticks (p50, p99, max) over a sample.
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock

use chrono::{Duration, NaiveDate};
use std::collections::BTreeMap;
use std::time::Instant;
use strat_engine::expr::{Compiler, Market, NoWorld};
use strat_engine::market::Bar;
use strat_engine::trigger::Triggers;

const SYMBOLS: usize = 500;
const TRIGGERS: usize = 10_000;
const TICKS: usize = 5_000_000;

struct Rng(u64);

impl Rng {
    fn next(&mut self) -> f64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// `AAA`, `AAB`, … : valid tickers.
fn ticker(i: usize) -> String {
    let l = |k: usize| char::from(b'A' + (k % 26) as u8);
    format!("{}{}{}", l(i / 676), l(i / 26), l(i))
}

fn main() {
    let symbols: Vec<String> = (0..SYMBOLS).map(ticker).collect();
    let mut market = Market::new(symbols.clone(), vec![60; SYMBOLS]);
    let mut triggers = Triggers::new(SYMBOLS);
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let start_price: Vec<f64> = (0..SYMBOLS).map(|_| 20.0 + 480.0 * rng.next()).collect();
    let universes = BTreeMap::new();
    for i in 0..TRIGGERS {
        let s = i % SYMBOLS;
        let th = (start_price[s] * (0.95 + 0.1 * rng.next()) * 100.0).round() / 100.0;
        let (sym, p) = (&symbols[s], th);
        let src = match i % 4 {
            0 => format!("price({sym}) > ${p}"),
            1 => format!("price({sym}) < ${p}"),
            2 => format!("price({sym}) crosses above ${p}"),
            _ => format!("price({sym}) crosses below ${p}"),
        };
        let checked = strat_lang::check_expression(&src);
        let expr = checked.expr.unwrap_or_else(|| panic!("{src}: {:?}", checked.diagnostics));
        let compiled = Compiler::new(&mut market, &universes).compile(&expr).expect("compiles");
        let throttles: &[(u32, u64)] = if i % 4 == 3 || i % 8 == 0 { &[(1, 900)] } else { &[] };
        triggers.add_condition(0, Some(s), src, compiled, throttles, false, &market);
    }
    triggers.seal();
    assert_eq!(triggers.indexed(), TRIGGERS, "every trigger sits in the index");
    // Zipf-like traffic: symbol k is picked with weight 1 / (k + 1).
    let weights: Vec<f64> = (0..SYMBOLS).map(|k| 1.0 / (k as f64 + 1.0)).collect();
    let total: f64 = weights.iter().sum();
    let mut cumulative = Vec::with_capacity(SYMBOLS);
    let mut acc = 0.0;
    for w in &weights {
        acc += w / total;
        cumulative.push(acc);
    }
    let t0 = NaiveDate::from_ymd_opt(2024, 3, 4).and_then(|d| d.and_hms_opt(9, 30, 0)).unwrap_or_default();
    let mut prices = start_price.clone();
    let ticks: Vec<(usize, Bar)> = (0..TICKS)
        .map(|i| {
            let u = rng.next();
            let s = cumulative.partition_point(|c| *c < u).min(SYMBOLS - 1);
            prices[s] *= 1.0 + (rng.next() - 0.5) * 0.004;
            let p = prices[s];
            // One tick per 10 ms of market time.
            let time = t0 + Duration::milliseconds(10 * i as i64);
            (s, Bar { time, open: p, high: p, low: p, close: p, volume: 100.0 })
        })
        .collect();
    let hot = ticks.iter().filter(|(s, _)| *s == 0).count();
    let intervals = vec![60i64; SYMBOLS];
    let mut fired = Vec::new();
    let mut best = f64::MAX;
    let mut firings = 0usize;
    let mut triggers_run = triggers;
    // The triggers keep their state across rounds (crossings their signs, throttles their
    // history), like a long-running service.
    for round in 0..5 {
        let started = Instant::now();
        let mut count = 0usize;
        let mut prev = None;
        for tick in &ticks {
            let closed = std::slice::from_ref(tick);
            market.step(tick.1.time, closed);
            fired.clear();
            let env = market.env();
            triggers_run.step(tick.1.time, prev, closed, &[], &env, &NoWorld, &intervals, false, &mut fired);
            count += fired.len();
            prev = Some(tick.1.time);
        }
        let secs = started.elapsed().as_secs_f64();
        best = best.min(secs);
        if round == 0 {
            firings = count;
        }
        std::hint::black_box(count);
    }
    // Latency of single ticks, timed one by one over a sample.
    let mut lat: Vec<f64> = Vec::with_capacity(200_000);
    let mut prev = None;
    for tick in ticks.iter().take(200_000) {
        let closed = std::slice::from_ref(tick);
        let started = Instant::now();
        market.step(tick.1.time, closed);
        fired.clear();
        let env = market.env();
        triggers_run.step(tick.1.time, prev, closed, &[], &env, &NoWorld, &intervals, false, &mut fired);
        lat.push(started.elapsed().as_secs_f64() * 1e6);
        prev = Some(tick.1.time);
    }
    lat.sort_by(f64::total_cmp);
    let pct = |q: f64| lat[((lat.len() as f64 - 1.0) * q) as usize];
    println!(
        "{TRIGGERS} triggers over {SYMBOLS} symbols, {TICKS} ticks ({:.0}% on the busiest symbol), {:.1} firings a tick: \
         {:.1} M ticks/s (best of 5); single ticks p50 {:.2} µs, p99 {:.2} µs, max {:.1} µs",
        hot as f64 / TICKS as f64 * 100.0,
        firings as f64 / TICKS as f64,
        TICKS as f64 / best / 1e6,
        pct(0.5),
        pct(0.99),
        pct(1.0)
    );
}
