//! The SMA crossover example against backtrader's result on the same data (measured with
//! backtrader 1.9.78: AllInSizerInt(percents=99), market orders at the next open, no commission,
//! a buy whose cost at the fill price exceeds the cash rejected): 176 orders, final value
//! 164,571.50.
#![allow(clippy::disallowed_methods)] // the test reads the example and the shared data

use std::collections::BTreeMap;
use std::path::Path;
use strat_data::parse_csv;
use strat_engine::broker::Status;
use strat_engine::engine::{Config, backtest};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

#[test]
fn sma_crossover_matches_backtrader() {
    let src = std::fs::read(root().join("../../examples/sma_crossover.strat")).expect("example");
    let mut ws = strat_lang::Workspace::new();
    let id = ws.set_file("sma_crossover.strat", src);
    let checked = ws.compile(&[id]);
    let program = checked.program.unwrap_or_else(|| panic!("{:?}", checked.diagnostics));
    let csv = std::fs::read_to_string(root().join("../../../shared/data/prices/SPY_D.csv")).expect("data");
    let bars = parse_csv(&csv).expect("loads").bars;
    let data = BTreeMap::from([("SPY".to_string(), bars)]);
    let report = backtest(&program, &data, &Config { cash: 100_000.0, ..Config::default() }).expect("runs");
    let filled = report.orders.iter().filter(|o| o.status == Status::Filled).count();
    let rejected = report.orders.iter().filter(|o| o.status == Status::Rejected).count();
    eprintln!("orders {} (filled {filled}, rejected {rejected}), final {}", report.orders.len(), report.final_equity);
    assert_eq!(report.orders.len(), 176);
    // `sma(SPY, 10)` and `sma(SPY, 30)` are each written twice but kept once.
    assert_eq!(report.indicators, 2);
    assert!((report.final_equity - 164_571.50).abs() < 0.01, "final equity {}", report.final_equity);
}
