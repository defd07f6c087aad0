//! Order types through the engine: what the file writes is what the broker works.

mod common;
use chrono::NaiveDate;
use std::collections::BTreeMap;
use strat_engine::broker::{Kind, Status};
use strat_engine::engine::{Config, backtest};
use strat_engine::market::Bar;

fn run(src: &str, closes: &[(f64, f64, f64, f64)]) -> strat_engine::report::Report {
    let mut ws = strat_lang::Workspace::new();
    let id = ws.set_file("t.strat", src.as_bytes().to_vec());
    let c = ws.compile(&[id]);
    let program = c.program.unwrap_or_else(|| panic!("{:?}", c.diagnostics));
    let start = NaiveDate::from_ymd_opt(2024, 3, 4).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
    let bars = closes
        .iter()
        .enumerate()
        .map(|(i, (o, h, l, c))| Bar {
            time: common::session(start.date(), i as i64).and_time(start.time()),
            open: *o,
            high: *h,
            low: *l,
            close: *c,
            volume: 1.0,
        })
        .collect();
    backtest(&program, &BTreeMap::from([("SPY".to_string(), bars)]), &Config { cash: 10_000.0, ..Config::default() })
        .expect("runs")
}

#[test]
fn a_limit_buy_with_the_limits_stop_loss_becomes_a_bracket() {
    let src = "limits { max_position $5_000  stop_loss 5% }
        workflow W {
          on price(SPY) > $0 throttle 1 per 30d
          buy SPY size 10 shares limit price(SPY) * 0.98 tif gtc
        }";
    // Day 0 decides (limit 98); day 1 never reaches 98; day 2 does; day 3 drops through the stop.
    let r = run(
        src,
        &[
            (100.0, 100.0, 100.0, 100.0),
            (100.0, 101.0, 99.0, 100.0),
            (99.0, 99.5, 97.0, 98.5),
            (95.0, 95.0, 90.0, 91.0),
        ],
    );
    let kinds: Vec<(Kind, Status, Option<f64>)> = r.orders.iter().map(|o| (o.kind, o.status, o.price)).collect();
    assert_eq!(kinds[0], (Kind::Limit { limit: 98.0 }, Status::Filled, Some(98.0)));
    // The stop sits 5% under the 98 fill, at 93.1; day 3 opens above it (95) and trades down
    // through it (low 90), so it fills at the stop.
    assert_eq!(kinds[1].1, Status::Filled);
    assert!(matches!(kinds[1].0, Kind::Stop { stop } if (stop - 93.1).abs() < 1e-9));
    assert!(kinds[1].2.is_some_and(|p| (p - 93.1).abs() < 1e-9));
    assert_eq!(r.orders.len(), 2);
}

#[test]
fn cancel_clears_pending_orders() {
    let src = "limits { max_position $5_000 }
        workflow W {
          on price(SPY) > $0
          if holding(SPY) { end }
          cancel SPY
          buy SPY size 1 shares limit $50 tif gtc
        }";
    let r = run(src, &[(100.0, 100.0, 100.0, 100.0); 3]);
    let statuses: Vec<Status> = r.orders.iter().map(|o| o.status).collect();
    // Each bar cancels the previous unfilled limit and places a new one.
    assert_eq!(statuses, vec![Status::Cancelled, Status::Cancelled, Status::Pending]);
}

fn run_with(src: &str, data: BTreeMap<String, Vec<Bar>>) -> strat_engine::report::Report {
    let mut ws = strat_lang::Workspace::new();
    let id = ws.set_file("t.strat", src.as_bytes().to_vec());
    let c = ws.compile(&[id]);
    let program = c.program.unwrap_or_else(|| panic!("{:?}", c.diagnostics));
    backtest(&program, &data, &Config { cash: 10_000.0, ..Config::default() }).expect("runs")
}

fn flat(closes: &[f64]) -> Vec<Bar> {
    let start = NaiveDate::from_ymd_opt(2024, 3, 4).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
    closes
        .iter()
        .enumerate()
        .map(|(i, c)| Bar {
            time: common::session(start.date(), i as i64).and_time(start.time()),
            open: *c,
            high: *c,
            low: *c,
            close: *c,
            volume: 1.0,
        })
        .collect()
}

#[test]
fn max_vix_pauses_buying_when_vix_data_is_given() {
    let src = "limits { max_position $5_000  max_vix 30 }
        workflow W { on price(SPY) > $0\n buy SPY size 1 shares }";
    let data = BTreeMap::from([("SPY".to_string(), flat(&[100.0; 3])), ("VIX".to_string(), flat(&[20.0, 35.0, 25.0]))]);
    let r = run_with(src, data);
    let reasons: Vec<Option<&str>> = r.orders.iter().map(|o| o.reason.as_deref()).collect();
    assert_eq!(reasons, vec![None, Some("VIX 35.0 is over max_vix 30: buying paused"), None]);
}

#[test]
fn max_drawdown_pauses_buying() {
    let src = "limits { max_position $10_000  max_drawdown 10% }
        workflow W { on price(SPY) > $0\n buy SPY size 50 shares }";
    // Buy 50 at 100 (fills at bar 1's open), then the price halves: equity falls well over 10%.
    let r = run_with(src, BTreeMap::from([("SPY".to_string(), flat(&[100.0, 100.0, 50.0, 50.0]))]));
    let refused: Vec<&str> = r.orders.iter().filter_map(|o| o.reason.as_deref()).collect();
    assert!(
        refused.iter().any(|r| r.starts_with("drawdown") && r.ends_with("over max_drawdown 10%: buying paused")),
        "{refused:?}"
    );
}

#[test]
fn a_limit_price_that_comes_to_zero_is_refused_never_sent_as_a_market_order() {
    // The checker refuses a constant `limit $0`; a price worked out at run time is the gate's.
    for (order, what) in [
        ("buy SPY size 10 shares limit price(SPY) - price(SPY)", "the limit price 0 is not above zero"),
        ("buy SPY size 10 shares stop price(SPY) - price(SPY) * 2", "the stop price -100 is not above zero"),
        // A protective distance that is not known yet (no day before the first) is refused too,
        // not dropped.
        ("buy SPY size 10 shares stop_loss change(SPY, 1d) * 0", "the stop_loss is undefined here"),
    ] {
        let src = format!(
            "limits {{ max_position $5_000 }}
            workflow W {{
              on price(SPY) > $0 throttle 1 per 30d
              {order}
            }}"
        );
        let r = run(&src, &[(100.0, 100.0, 100.0, 100.0), (100.0, 101.0, 99.0, 100.0), (100.0, 101.0, 99.0, 100.0)]);
        assert_eq!(r.orders.len(), 1, "{order}");
        let o = &r.orders[0];
        assert_eq!(o.status, Status::Rejected, "{order}: {o:?}");
        assert_eq!(o.kind == Kind::Market, order.contains("stop_loss"), "{order}: {:?}", o.kind);
        let reason = o.reason.as_deref().unwrap_or_default();
        assert!(reason.contains(what), "{order}: {reason}");
        let checks = &r.executions[0].validation[0].checks;
        assert!(checks.iter().any(|c| c.name == "order_prices" && !c.passed), "{order}");
    }
}

#[test]
fn max_vix_without_vix_data_refuses_buys_and_says_so_at_the_start() {
    let src = "limits { max_position $5_000  max_vix 30 }
        workflow W { on price(SPY) > $0\n buy SPY size 1 shares }";
    let r = run_with(src, BTreeMap::from([("SPY".to_string(), flat(&[100.0; 3]))]));
    assert!(r.orders.iter().all(|o| o.status == Status::Rejected), "{:?}", r.orders);
    assert!(r.orders.iter().all(|o| o.reason.as_deref().is_some_and(|w| w.starts_with("no VIX value"))));
    assert!(r.warnings.iter().any(|w| w.contains("max_vix cannot be evaluated without VIX data")), "{:?}", r.warnings);
}

#[test]
fn stats_count_protective_orders_as_orders_and_round_trips_as_trades() {
    // Buy 10 with a 5% stop, twice: the first stop fills at a loss; the second position is
    // sold by the file at a profit.
    let src = "limits { max_position $5_000  stop_loss 5% }
        workflow W {
          on price(SPY) > $0
          if not holding(SPY) and price(SPY) < $100 { buy SPY size 10 shares }
          else if holding(SPY) and price(SPY) > $110 { sell SPY size all }
        }";
    let r = run(
        src,
        &[
            (99.0, 99.0, 99.0, 99.0),     // buy decided
            (99.0, 99.0, 99.0, 99.0),     // filled at 99; stop at 94.05
            (96.0, 96.0, 90.0, 91.0),     // the stop fills at 94.05: a losing round trip
            (91.0, 91.0, 91.0, 91.0),     // buy again
            (91.0, 95.0, 91.0, 95.0),     // filled at 91
            (112.0, 112.0, 112.0, 112.0), // sell decided
            (112.0, 112.0, 112.0, 112.0), // sold at 112: a winning round trip
        ],
    );
    let s = &r.stats["W"];
    let filled = r.orders.iter().filter(|o| o.status == Status::Filled).count() as u64;
    assert!(r.orders.iter().any(|o| o.parent.is_some()), "stops were placed");
    assert_eq!(s.orders, r.orders.len() as u64, "protective orders are orders");
    assert_eq!(s.filled, filled);
    assert!(s.filled <= s.orders);
    assert_eq!((s.successful_trades, s.failed_trades), (1, 1), "{:?}", r.orders);
    assert_eq!(s.win_rate, Some(50.0));
}
