//! The streaming indicators reproduce TA-Lib's values on real data (SPY daily, 5,241 bars):
//! the same first valid bar, and every value within 1e-9 relative (absolute near zero).
#![allow(clippy::disallowed_methods)] // the test reads the shared reference file

use std::path::Path;
use strat_stdlib::indicators::{Atr, Bollinger, Ema, Macd, Rsi, Sma};

struct Table {
    columns: Vec<String>,
    rows: Vec<Vec<Option<f64>>>,
}

impl Table {
    fn column(&self, name: &str) -> Vec<Option<f64>> {
        let i = self.columns.iter().position(|c| c == name).unwrap_or_else(|| panic!("no column {name}"));
        self.rows.iter().map(|r| r[i]).collect()
    }
}

fn reference() -> Table {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/reference/SPY_D_talib_reference.csv");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let columns: Vec<String> = lines.next().expect("header").split(',').map(str::to_string).collect();
    let rows = lines
        .map(|l| l.split(',').map(|f| if f.is_empty() { None } else { f.parse::<f64>().ok() }).collect())
        .collect();
    Table { columns, rows }
}

/// Compares a computed series with a reference column; returns the first valid index.
fn assert_matches(name: &str, got: &[Option<f64>], want: &[Option<f64>]) -> usize {
    assert_eq!(got.len(), want.len(), "{name}: length");
    let mut worst = 0.0f64;
    for (i, (g, w)) in got.iter().zip(want).enumerate() {
        match (g, w) {
            (None, None) => {}
            (Some(g), Some(w)) => {
                let err = (g - w).abs() / w.abs().max(1.0);
                worst = worst.max(err);
                assert!(err <= 1e-9, "{name} at bar {i}: got {g}, TA-Lib {w} (relative error {err:e})");
            }
            _ => panic!("{name} at bar {i}: got {g:?}, TA-Lib {w:?}"),
        }
    }
    eprintln!("{name}: worst relative error {worst:e}");
    want.iter().position(Option::is_some).unwrap_or(usize::MAX)
}

#[test]
fn indicators_match_talib_on_spy_daily() {
    let t = reference();
    let (high, low, close) = (t.column("high"), t.column("low"), t.column("close"));
    let close: Vec<f64> = close.into_iter().map(|c| c.expect("close")).collect();
    let high: Vec<f64> = high.into_iter().map(|c| c.expect("high")).collect();
    let low: Vec<f64> = low.into_iter().map(|c| c.expect("low")).collect();
    assert_eq!(close.len(), 5241);

    let series = |f: &mut dyn FnMut(f64) -> Option<f64>| close.iter().map(|c| f(*c)).collect::<Vec<_>>();

    let mut rsi = Rsi::new(14);
    assert_eq!(assert_matches("rsi_14", &series(&mut |c| rsi.push(c)), &t.column("rsi_14")), 14);
    for (col, p, first) in [("sma_20", 20, 19), ("sma_50", 50, 49), ("sma_200", 200, 199)] {
        let mut sma = Sma::new(p);
        assert_eq!(assert_matches(col, &series(&mut |c| sma.push(c)), &t.column(col)), first);
    }
    let mut ema = Ema::new(20);
    assert_eq!(assert_matches("ema_20", &series(&mut |c| ema.push(c)), &t.column("ema_20")), 19);

    let mut macd = Macd::new(12, 26, 9);
    let m: Vec<_> = close.iter().map(|c| macd.push(*c)).collect();
    assert_eq!(assert_matches("macd", &m.iter().map(|v| v.map(|v| v.macd)).collect::<Vec<_>>(), &t.column("macd")), 33);
    assert_matches("macd_signal", &m.iter().map(|v| v.map(|v| v.signal)).collect::<Vec<_>>(), &t.column("macd_signal"));
    assert_matches("macd_hist", &m.iter().map(|v| v.map(|v| v.histogram)).collect::<Vec<_>>(), &t.column("macd_hist"));

    let mut bb = Bollinger::new(20, 2.0);
    let b: Vec<_> = close.iter().map(|c| bb.push(*c)).collect();
    assert_eq!(
        assert_matches("bb_upper", &b.iter().map(|v| v.map(|v| v.upper)).collect::<Vec<_>>(), &t.column("bb_upper")),
        19
    );
    assert_matches("bb_middle", &b.iter().map(|v| v.map(|v| v.middle)).collect::<Vec<_>>(), &t.column("bb_middle"));
    assert_matches("bb_lower", &b.iter().map(|v| v.map(|v| v.lower)).collect::<Vec<_>>(), &t.column("bb_lower"));

    let mut atr = Atr::new(14);
    let a: Vec<_> = (0..close.len()).map(|i| atr.push(high[i], low[i], close[i])).collect();
    assert_eq!(assert_matches("atr_14", &a, &t.column("atr_14")), 14);
}
