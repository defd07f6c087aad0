//! `strat eval` through the real binary, on the real SPY data.
#![allow(clippy::disallowed_methods)] // tests read fixtures

mod common;
use common::{root, run};

const SPY: &str = "SPY=../shared/data/prices/SPY_D.csv";

#[test]
fn rsi_matches_talib_at_every_bar() {
    let (code, out, err) = run(&["eval", "rsi(SPY, 14)", "--data", SPY, "--format", "csv"]);
    assert_eq!(code, 0, "{err}");
    let reference =
        std::fs::read_to_string(root().join("../shared/data/reference/SPY_D_talib_reference.csv")).expect("reference");
    let want: Vec<(String, String)> = reference
        .lines()
        .skip(1)
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[6].to_string())
        })
        .collect();
    let got: Vec<(String, String)> = out
        .lines()
        .skip(1)
        .map(|l| {
            let (d, v) = l.split_once(',').expect("two columns");
            (d.to_string(), v.to_string())
        })
        .collect();
    assert_eq!(out.lines().next(), Some("date,value"));
    assert_eq!(got.len(), want.len());
    for ((gd, gv), (wd, wv)) in got.iter().zip(&want) {
        assert_eq!(gd, wd);
        assert_eq!(gv.is_empty(), wv.is_empty(), "{gd}: warm-up differs");
        if !gv.is_empty() {
            let (g, w): (f64, f64) = (gv.parse().expect("number"), wv.parse().expect("number"));
            assert!((g - w).abs() <= 1e-9 * w.abs().max(1.0), "{gd}: {g} vs {w}");
        }
    }
}

#[test]
fn crossings_fire_once_per_crossing() {
    let (code, out, err) = run(&["eval", "sma(SPY, 10) crosses above sma(SPY, 30)", "--data", SPY, "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let rows: Vec<serde_json::Value> = serde_json::from_str(&out).expect("json");
    assert_eq!(rows.len(), 5241);
    assert_eq!(rows[0]["value"], serde_json::Value::Null);
    let fired: Vec<&str> = rows.iter().filter(|r| r["value"] == true).filter_map(|r| r["date"].as_str()).collect();
    // Independent count from the closes: SMA(10) − SMA(30) turning from negative to positive,
    // a zero difference carrying the previous sign.
    let csv = std::fs::read_to_string(root().join("../shared/data/prices/SPY_D.csv")).expect("data");
    let closes: Vec<f64> =
        csv.lines().skip(1).map(|l| l.split(',').nth(5).and_then(|c| c.parse().ok()).expect("close")).collect();
    let sma = |i: usize, n: usize| (i + 1 >= n).then(|| closes[i + 1 - n..=i].iter().sum::<f64>() / n as f64);
    let (mut sign, mut count) = (0i8, 0);
    for i in 0..closes.len() {
        let (Some(a), Some(b)) = (sma(i, 10), sma(i, 30)) else { continue };
        let d = a - b;
        let new = if d > 1e-9 {
            1
        } else if d < -1e-9 {
            -1
        } else {
            sign
        };
        if sign == -1 && new == 1 {
            count += 1;
        }
        sign = new;
    }
    assert_eq!(fired.len(), count);
    assert!(count > 50, "{count}");
}

#[test]
fn errors_have_their_own_exit_codes() {
    let (code, _, err) = run(&["eval", "rsi(SPY, 14) < 30%", "--data", SPY]);
    assert_eq!(code, 1);
    assert!(err.contains("[E0203]") && err.contains("<expr>:1:14"), "{err}");
    let (code, _, err) = run(&["eval", "rsi(QQQ, 14)", "--data", SPY]);
    assert_eq!(code, 2);
    assert!(err.contains("no data for `QQQ`: add `--data QQQ=PATH`"), "{err}");
    let (code, _, err) = run(&["eval", "rsi(SPY, 14)", "--data", "SPY"]);
    assert_eq!(code, 2);
    assert!(err.contains("must be SYMBOL=PATH"), "{err}");
    let (code, _, err) =
        run(&["eval", "rsi(SPY, 14)", "--data", "SPY=../shared/data/prices/2006-01-02-volume-min-001.txt"]);
    assert_eq!(code, 2);
    assert!(err.contains("2006-01-02-volume-min-001.txt:2: rows have 8 fields"), "{err}");
    let (code, _, err) = run(&["eval", "holding(SPY)", "--data", SPY]);
    assert_eq!(code, 1);
    assert!(err.contains("price history only"), "{err}");
    let (code, _, err) = run(&["eval", "macd(SPY)", "--data", SPY]);
    assert_eq!(code, 1);
    assert!(err.contains("pick one field, e.g. `macd(SPY).histogram`"), "{err}");
}
