//! `--data polygon:SYMBOL` through the real binary, against the fake Polygon server.
#![allow(clippy::disallowed_methods)] // tests read fixtures and clear their folders

mod common;
use common::{root, strat};
use strat_fakes::{FakeServer, Reply};

const KEY: &str = "pk-cli-test-0123456789";
const CSV: &str = "../shared/data/prices/AAPL_2012-2014.csv";

/// The rows of the AAPL file as one Polygon aggregates response (`t`: midnight in New York, ms).
fn aggregates() -> String {
    let text = std::fs::read_to_string(root().join(CSV)).expect("data");
    let mut results = Vec::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let day = chrono::NaiveDate::parse_from_str(f[0], "%Y-%m-%d").expect("date");
        let midnight = day.and_hms_opt(0, 0, 0).expect("midnight");
        let t = midnight.and_local_timezone(chrono_tz::America::New_York).single().expect("one").timestamp_millis();
        let n = |i: usize| f[i].parse::<f64>().expect("number");
        results.push(serde_json::json!({"o": n(1), "h": n(2), "l": n(3), "c": n(4), "v": n(5), "t": t}));
    }
    serde_json::json!({"ticker": "AAPL", "status": "OK", "adjusted": true, "results": results}).to_string()
}

fn backtest(home: &std::path::Path, server: &FakeServer, data: &str) -> (i32, serde_json::Value, String) {
    let out = strat()
        .env("STRAT_HOME", home)
        .env("POLYGON_API_KEY", KEY)
        .env("POLYGON_BASE_URL", server.url())
        .args(["backtest", "examples/dip_buyer.strat", "--data", data, "--from", "2012-01-01", "--to", "2014-12-31"])
        .args(["--data", &common::calm_vix(), "--format", "json"])
        .output()
        .expect("runs");
    let v = serde_json::from_slice(&out.stdout).unwrap_or_default();
    (out.status.code().unwrap_or(-1), v, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn polygon_bars_backtest_as_the_same_bars_from_a_file_and_are_fetched_once() {
    let home = std::env::temp_dir().join(format!("strat-polygon-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let server = FakeServer::polygon(KEY);
    server.otherwise(Reply::json(200, aggregates()));
    let (code, fetched, err) = backtest(&home, &server, "polygon:AAPL");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("fetching AAPL day bars 2012-01-01 to 2014-12-31 from Polygon"), "{err}");
    assert_eq!(server.received()[0].path, "/v2/aggs/ticker/AAPL/range/1/day/2012-01-01/2014-12-31");
    let (_, from_file, _) = backtest(&home, &server, &format!("AAPL={CSV}"));
    assert!(fetched["orders"].as_array().is_some_and(|o| !o.is_empty()), "the strategy trades");
    assert_eq!(fetched["orders"], from_file["orders"], "the same decisions as from the file");
    let (code, again, err) = backtest(&home, &server, "polygon:AAPL");
    assert_eq!(code, 0, "{err}");
    assert_eq!(server.hits(), 1, "the second run reads the cache");
    assert_eq!(again["orders"], fetched["orders"]);
    let _ = std::fs::remove_dir_all(&home);
}

#[test]
fn polygon_refusals_are_usage_errors_that_say_why_without_the_key() {
    let home = std::env::temp_dir().join(format!("strat-polygon-errors-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let wrong = FakeServer::polygon("another-key");
    let (code, _, err) = backtest(&home, &wrong, "polygon:AAPL");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("Polygon refused the key (401): Unknown API Key"), "{err}");
    assert!(!err.contains(KEY), "{err}");
    let server = FakeServer::polygon(KEY);
    let mut bad: serde_json::Value = serde_json::from_str(&aggregates()).expect("json");
    bad["results"][3]["h"] = serde_json::json!(1.0);
    server.otherwise(Reply::json(200, bad.to_string()));
    let (code, _, err) = backtest(&home, &server, "polygon:AAPL");
    assert_eq!(code, 2, "a bad bar fails the load: {err}");
    assert!(err.contains("results[3]: high 1 is below low") && err.contains("--skip-bad-rows"), "{err}");
    let mut cmd = strat();
    cmd.env("STRAT_HOME", &home).args(["backtest", "examples/dip_buyer.strat", "--data", "polygon:AAPL"]);
    let out = cmd.output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("needs `--from` and `--to`"));
    let _ = std::fs::remove_dir_all(&home);
}
