//! The engine's part of a live step: from the moment a minute's bars arrive (the market hands
//! them over) to the moment the step is recorded, its orders sent to the broker — 100 agents'
//! workflows over 500 symbols, as `strat run` drives the engine (watched step by step). Models
//! and the network are not in it: the workflows decide by rule, the broker is the paper one.
//!
//! Run with `cargo bench -p strat-engine --bench live_step`. Prints the latency of a step
//! (p50, p99, max) over one session of minute bars, and how many orders were placed and filled.
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock

use chrono::{Duration, NaiveDate, NaiveDateTime};
use std::collections::BTreeMap;
use std::time::Instant;
use strat_engine::broker::{Costs, PaperBroker};
use strat_engine::engine::{Observer, run};
use strat_engine::host::{Host, MarketData};
use strat_engine::market::Bar;
use strat_engine::sim::{Replay, SimClock, SimNews};
use strat_engine::store::StepView;

const SYMBOLS: usize = 500;
const AGENTS: usize = 100;
const MINUTES: i64 = 390;

fn ticker(i: usize) -> String {
    let l = |k: usize| char::from(b'A' + (k % 26) as u8);
    format!("{}{}{}", l(i / 676), l(i / 26), l(i))
}

/// 100 workflows, each watching five symbols with a crossing, an RSI and a volume rule.
fn source(symbols: &[String]) -> String {
    let mut s = String::from("limits l {\n  max_position $5_000\n  max_daily_trades 50\n}\n\n");
    for a in 0..AGENTS {
        let set: Vec<&str> = (0..5).map(|k| symbols[(a * 5 + k) % SYMBOLS].as_str()).collect();
        s.push_str(&format!(
            "universe u{a} = [{}]\n\nworkflow W{a} {{\n  limits l\n  on sma(u{a}, 5) crosses above sma(u{a}, 20)\n  if rsi(trigger.symbol, 14) < 70 and not holding(trigger.symbol) {{\n    buy trigger.symbol size 2 shares\n  }}\n}}\n\n",
            set.join(", ")
        ));
    }
    s
}

fn bars(symbols: &[String]) -> BTreeMap<String, Vec<Bar>> {
    let open = NaiveDate::from_ymd_opt(2024, 6, 3).and_then(|d| d.and_hms_opt(9, 30, 0)).unwrap_or_default();
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    symbols
        .iter()
        .map(|s| {
            let mut p = 100.0;
            let series = (0..MINUTES)
                .map(|m| {
                    state ^= state << 13;
                    state ^= state >> 7;
                    state ^= state << 17;
                    p = (p + ((state >> 11) as f64 / (1u64 << 53) as f64 - 0.5) * 0.4).max(1.0);
                    Bar {
                        time: open + Duration::minutes(m),
                        open: p,
                        high: p + 0.1,
                        low: p - 0.1,
                        close: p,
                        volume: 1000.0,
                    }
                })
                .collect();
            (s.clone(), series)
        })
        .collect()
}

/// The replay, noting when each step's bars are handed over.
struct Timed<'a, 'c> {
    inner: Replay<'a>,
    handed: &'c std::cell::Cell<Option<Instant>>,
}

impl MarketData for Timed<'_, '_> {
    fn label(&self) -> String {
        self.inner.label()
    }
    fn symbols(&self) -> &[String] {
        self.inner.symbols()
    }
    fn intervals(&self) -> &[i64] {
        self.inner.intervals()
    }
    fn steps(&self) -> Option<usize> {
        self.inner.steps()
    }
    fn next(&mut self, closed: &mut Vec<(usize, Bar)>) -> Option<NaiveDateTime> {
        let t = self.inner.next(closed);
        self.handed.set(Some(Instant::now()));
        t
    }
}

/// The time from the hand-over to the step's record, per step.
struct Latency<'a> {
    handed: &'a std::cell::Cell<Option<Instant>>,
    micros: Vec<f64>,
    orders: usize,
}

impl Observer for Latency<'_> {
    fn step(&mut self, s: &StepView<'_>) {
        if let Some(at) = self.handed.get() {
            self.micros.push(at.elapsed().as_secs_f64() * 1e6);
        }
        self.orders += s.orders.len();
    }
}

fn main() {
    let symbols: Vec<String> = (0..SYMBOLS).map(ticker).collect();
    let mut ws = strat_lang::Workspace::new();
    let id = ws.set_file("live.strat", source(&symbols).into_bytes());
    let compiled = ws.compile(&[id]);
    let Some(program) = compiled.program else { panic!("{:?}", compiled.diagnostics) };
    let data = bars(&symbols);
    let handed = std::cell::Cell::new(None);
    let mut market = Timed { inner: Replay::new(&data, "bench"), handed: &handed };
    let mut broker = PaperBroker::new(1_000_000.0, SYMBOLS, Costs::default());
    let news = SimNews::default();
    let (mut clock, mut llm) = (SimClock::default(), strat_engine::offline::Offline);
    let mut observer = Latency { handed: &handed, micros: Vec::new(), orders: 0 };
    let host = Host {
        clock: &mut clock,
        market: &mut market,
        news: &news,
        llm: &mut llm,
        broker: &mut broker,
        store: None,
        control: None,
    };
    let report = run(&program, host, &Default::default(), &mut observer).expect("runs");
    let mut m = observer.micros.clone();
    m.sort_by(f64::total_cmp);
    let at = |q: f64| m[((m.len() - 1) as f64 * q) as usize];
    println!(
        "{AGENTS} workflows over {SYMBOLS} symbols, {} minute steps: p50 {:.0} µs, p99 {:.0} µs, max {:.0} µs; {} order changes (placed, filled), {} executions",
        m.len(),
        at(0.5),
        at(0.99),
        m.last().copied().unwrap_or(0.0),
        observer.orders,
        report.executions.len()
    );
}
