//! A live run's memory against its length: `strat run --market polygon` on the fake Polygon
//! feeds (REST warm-up, WebSocket minutes for six symbols as fast as they can be sent), one day
//! then five and ten days of minute bars, peak resident memory from `/usr/bin/time`.
//!
//! Run with `cargo bench -p strat-cli --bench live_memory`. Prints the peak for each length and
//! the growth per live minute.
#![allow(clippy::disallowed_methods)] // a benchmark writes files and runs the binary

use std::path::Path;
use std::process::Command;
use strat_engine::market::Bar;
use strat_fakes::polygon_ws::{FakePolygonWs, Step};
use strat_fakes::{FakeServer, Reply};

const EXE: &str = env!("CARGO_BIN_EXE_strat");
const KEY: &str = "pk-bench-live";
const SYMBOLS: [&str; 6] = ["AAPL", "MSFT", "GOOGL", "AMZN", "META", "SPY"];

fn ms(b: &Bar) -> i64 {
    b.time.and_local_timezone(chrono_tz::America::New_York).single().map_or(0, |t| t.timestamp_millis())
}

fn source() -> String {
    let list = SYMBOLS.join(", ");
    format!(
        "universe watch = [{list}]\nlimits l {{\n  max_position $5_000\n}}\n\nworkflow W {{\n  limits l\n  on sma(watch, 5) crosses above sma(watch, 20)\n  if not holding(trigger.symbol) {{\n    buy trigger.symbol size 1 shares\n  }}\n}}\n"
    )
}

/// Peak memory in KB of a live run over `days` sessions (the first warms).
fn peak(days: usize, dir: &Path) -> (u64, usize) {
    let config = strat_engine::market::simulated::Config { days: days + 1, bar_minutes: 1, ..Default::default() };
    let market = strat_engine::market::simulated::simulate(&config);
    let first = market.bars["SPY"][0].time.date();
    let rest = FakeServer::polygon(KEY);
    let mut frames = Vec::new();
    let mut minutes = 0;
    for (i, spy) in market.bars["SPY"].iter().enumerate().filter(|(_, b)| b.time.date() != first) {
        let events: Vec<serde_json::Value> = SYMBOLS
            .iter()
            .filter_map(|s| market.bars.get(*s).and_then(|b| b.get(i)).map(|b| (b, s)))
            .map(|(b, s)| serde_json::json!({"ev": "AM", "sym": s, "o": b.open, "h": b.high, "l": b.low, "c": b.close, "v": b.volume, "s": ms(b), "e": ms(b) + 60_000}))
            .collect();
        frames.push(Step::Send(serde_json::Value::Array(events).to_string()));
        minutes += 1;
        let _ = spy;
    }
    rest.otherwise(Reply::json(200, r#"{"status":"OK","results":[]}"#));
    let last = market.bars["SPY"].last().map(|b| b.time.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
    let ws = FakePolygonWs::start(KEY, vec![frames]);
    let file = dir.join("w.strat");
    std::fs::write(&file, source()).expect("write");
    let out = Command::new("/usr/bin/time")
        .arg("-f")
        .arg("%M")
        .arg(EXE)
        .args(["run", &file.to_string_lossy(), "--market", "polygon", "--speed", "0", "--until", &last])
        .env("STRAT_HOME", dir.join(format!("home-{days}")))
        .env("POLYGON_API_KEY", KEY)
        .env("POLYGON_BASE_URL", rest.url())
        .env("POLYGON_WS_URL", ws.url())
        .output()
        .expect("runs");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{err}");
    (err.lines().last().and_then(|l| l.trim().parse().ok()).unwrap_or(0), minutes)
}

fn main() {
    let dir = std::env::temp_dir().join(format!("strat-live-memory-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let (one, m1) = peak(1, &dir);
    let (five, m5) = peak(5, &dir);
    let (ten, m10) = peak(10, &dir);
    // A peak is the most the run ever held: what a run holds at its start can hide what it
    // gains later, so the growth is also taken between the two longer runs.
    let growth = |a: u64, b: u64, ma: usize, mb: usize| (b as f64 - a as f64) * 1024.0 / (mb - ma) as f64;
    println!(
        "live run, {} symbols: {m1} minutes {one} KB peak, {m5} minutes {five} KB, {m10} minutes {ten} KB: {:.0} bytes a minute from {m1} to {m5}, {:.0} from {m5} to {m10}",
        SYMBOLS.len(),
        growth(one, five, m1, m5),
        growth(five, ten, m5, m10)
    );
    let _ = std::fs::remove_dir_all(&dir);
}
