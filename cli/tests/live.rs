//! `strat run --market polygon` against the fake Polygon REST and WebSocket servers: warmed on
//! REST history, traded on live bars, and taking the orders a backtest of the same bars takes.
#![allow(clippy::disallowed_methods)] // tests write the bars and read the saved report

mod common;
use common::strat;
use strat_engine::market::Bar;
use strat_fakes::polygon_ws::{FakePolygonWs, Step};
use strat_fakes::{FakeServer, Reply};

const KEY: &str = "pk-run-live-0123";
const SRC: &str = "limits l {
  max_allocation 100%
  allow [SPY]
}

workflow Cross {
  limits l
  on bar(SPY, 1m)
  if sma(SPY, 5) crosses above sma(SPY, 20) and not holding(SPY) {
    buy SPY size 10 shares
  } else if sma(SPY, 5) crosses below sma(SPY, 20) and holding(SPY) {
    sell SPY size all
  }
}
";

fn ms(b: &Bar) -> i64 {
    b.time.and_local_timezone(chrono_tz::America::New_York).single().expect("one").timestamp_millis()
}

#[test]
fn a_live_run_on_polygon_takes_the_orders_a_backtest_of_the_same_bars_takes() {
    let config = strat_engine::market::simulated::Config { days: 3, bar_minutes: 1, ..Default::default() };
    let bars = strat_engine::market::simulated::simulate(&config).bars.remove("SPY").expect("SPY");
    let first_day = bars[0].time.date();
    let (warm, live): (Vec<&Bar>, Vec<&Bar>) = bars.iter().partition(|b| b.time.date() == first_day);
    let dir = std::env::temp_dir().join(format!("strat-live-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("cross.strat");
    std::fs::write(&file, SRC).expect("write");
    let mut csv = String::from("date,time,open,high,low,close,volume\n");
    for b in &bars {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            b.time.date(),
            b.time.time(),
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume
        ));
    }
    std::fs::write(dir.join("spy.csv"), csv).expect("write");
    // REST serves the first day (the warm-up); the socket the two days after, a minute a frame.
    let rest = FakeServer::polygon(KEY);
    let agg =
        |b: &&Bar| serde_json::json!({"o": b.open, "h": b.high, "l": b.low, "c": b.close, "v": b.volume, "t": ms(b)});
    let history = serde_json::json!({"status": "OK", "results": warm.iter().map(agg).collect::<Vec<_>>()});
    rest.otherwise(Reply::json(200, history.to_string()));
    let frames: Vec<Step> = live
        .iter()
        .map(|b| {
            let am = serde_json::json!([{"ev": "AM", "sym": "SPY", "o": b.open, "h": b.high, "l": b.low, "c": b.close, "v": b.volume, "s": ms(b), "e": ms(b) + 60_000}]);
            Step::Send(am.to_string())
        })
        .collect();
    let ws = FakePolygonWs::start(KEY, vec![frames]);
    let last = live.last().expect("live bars").time.format("%Y-%m-%d %H:%M").to_string();
    let path = file.to_string_lossy().into_owned();
    let out = strat()
        .env("STRAT_HOME", dir.join("home"))
        .env("POLYGON_API_KEY", KEY)
        .env("POLYGON_BASE_URL", rest.url())
        .env("POLYGON_WS_URL", ws.url())
        .args(["run", &path, "--market", "polygon", "--speed", "0", "--until", &last])
        .output()
        .expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("warming SPY on Polygon's minute bars"), "{stderr}");
    assert_eq!(ws.received()[0][1], "{\"action\":\"subscribe\",\"params\":\"AM.SPY\"}");
    let saved = std::fs::read(dir.join("home/runs/cross-1.json")).expect("report saved");
    let ran: serde_json::Value = serde_json::from_slice(&saved).expect("json");
    let csv_data = format!("SPY={}", dir.join("spy.csv").display());
    let from = live[0].time.date().to_string();
    let bt = strat().args(["backtest", &path, "--data", &csv_data, "--from", &from, "--format", "json"]).output();
    let bt: serde_json::Value = serde_json::from_slice(&bt.expect("runs").stdout).expect("json");
    let orders = bt["orders"].as_array().expect("orders");
    assert!(orders.len() >= 4, "the strategy trades: {}", orders.len());
    assert_eq!(ran["orders"], bt["orders"], "the same orders, at the same times and prices");
    assert_eq!(ran["equity_curve"].as_array().map(Vec::len), Some(live.len()), "one step a live minute");
    let _ = std::fs::remove_dir_all(&dir);
}
