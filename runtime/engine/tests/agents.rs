//! Agents in backtests: a condition over a universe fires per symbol, the offline stand-in
//! answers, and the decision becomes an order for that symbol only.

use chrono::{Duration, NaiveDate};
use std::collections::BTreeMap;
use strat_engine::broker::Status;
use strat_engine::engine::{Config, backtest};
use strat_engine::market::Bar;

mod common;
use common::{Down, Scripted};

fn series(closes: impl Iterator<Item = f64>) -> Vec<Bar> {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
    closes
        .enumerate()
        .map(|(i, c)| Bar { time: start + Duration::days(i as i64), open: c, high: c, low: c, close: c, volume: 1.0 })
        .collect()
}

#[test]
fn a_universe_trigger_fires_per_symbol_and_orders_only_that_symbol() {
    let src = r#"universe pair = [UP, DOWN]
        limits { max_position $10_000 }
        model m = offline("rules")
        agent Dip {
          model m
          context prices(pair), indicators(pair)
          prompt "{{trigger.symbol}}"
          on rsi(pair, 14) < 30
        }"#;
    let mut ws = strat_lang::Workspace::new();
    let id = ws.set_file("a.strat", src.as_bytes().to_vec());
    let c = ws.compile(&[id]);
    let program = c.program.unwrap_or_else(|| panic!("{:?}", c.diagnostics));
    let data = BTreeMap::from([
        ("UP".to_string(), series((0..30).map(|i| 100.0 + f64::from(i)))),
        ("DOWN".to_string(), series((0..30).map(|i| 100.0 - f64::from(i)))),
    ]);
    let r = backtest(&program, &data, &Config { cash: 100_000.0, ..Config::default() }).expect("runs");
    assert!(!r.orders.is_empty());
    assert!(r.orders.iter().all(|o| o.symbol == "DOWN"), "{:?}", r.orders);
    let first = &r.orders[0];
    // 5% of 100,000 at the falling price of the first firing bar (RSI valid from bar 14).
    assert_eq!((first.status, first.qty), (Status::Filled, (5_000.0f64 / 86.0).floor() as u64));
}

fn team_program(mode: &str) -> strat_lang::ir::Program {
    let extra = match mode {
        "hierarchical" => "supervisor S",
        "parallel" => "vote majority",
        "consensus" => "rounds 2\n fallback majority",
        _ => "",
    };
    let src = format!(
        r#"limits {{ max_position $10_000 }}
        model m = offline("rules")
        agent A {{ model m  context indicators(DOWN)  prompt "a" }}
        agent B {{ model m  context indicators(DOWN)  prompt "b" }}
        agent S {{ model m  context indicators(DOWN)  prompt "s" }}
        team T {{
          members A, B
          coordination {mode}
          {extra}
          on rsi(DOWN, 14) < 30
        }}"#
    );
    let mut ws = strat_lang::Workspace::new();
    let id = ws.set_file("t.strat", src.into_bytes());
    let c = ws.compile(&[id]);
    c.program.unwrap_or_else(|| panic!("{mode}: {:?}", c.diagnostics))
}

#[test]
fn every_coordination_mode_executes_the_team_decision() {
    let data = BTreeMap::from([("DOWN".to_string(), series((0..30).map(|i| 100.0 - f64::from(i))))]);
    for mode in ["sequential", "parallel", "hierarchical", "consensus"] {
        let r = backtest(&team_program(mode), &data, &Config { cash: 100_000.0, ..Config::default() }).expect("runs");
        assert!(r.stats["T"].total_executions > 0, "{mode}");
        let first = r.orders.first().unwrap_or_else(|| panic!("{mode}: no order"));
        assert_eq!((first.by.as_str(), first.symbol.as_str(), first.status), ("T", "DOWN", Status::Filled), "{mode}");
    }
}

#[test]
fn a_parallel_team_logs_its_vote() {
    let data = BTreeMap::from([("DOWN".to_string(), series((0..30).map(|i| 100.0 - f64::from(i))))]);
    let r = backtest(&team_program("parallel"), &data, &Config { cash: 100_000.0, ..Config::default() }).expect("runs");
    assert!(r.log.iter().any(|l| l.message.contains("majority vote (buy 2)")), "{:?}", r.log);
}

#[test]
fn a_team_whose_members_cannot_answer_is_recorded_as_failed_with_the_reason() {
    use strat_engine::report::Outcome;
    let data = BTreeMap::from([("DOWN".to_string(), series((0..30).map(|i| 100.0 - f64::from(i))))]);
    for mode in ["sequential", "parallel", "hierarchical", "consensus"] {
        let r = strat_engine::engine::backtest_with(
            &team_program(mode),
            &data,
            &Config::default(),
            &mut Down,
            &mut strat_engine::engine::Quiet,
        )
        .expect("runs");
        let team: Vec<_> = r.executions.iter().filter(|e| e.graph == "T").collect();
        assert!(!team.is_empty(), "{mode}");
        for e in team {
            assert_eq!(e.status, Outcome::Failed, "{mode}: {e:?}");
            assert!(e.error.as_deref().is_some_and(|m| m.contains("cannot connect")), "{mode}: {:?}", e.error);
            assert!(e.decision.is_none(), "{mode}");
        }
        assert!(r.orders.is_empty(), "{mode}");
    }
}

#[test]
fn a_pipeline_stopped_by_a_hold_records_that_hold_as_the_teams_decision() {
    use strat_engine::report::Outcome;
    let data = BTreeMap::from([("DOWN".to_string(), series((0..30).map(|i| 100.0 - f64::from(i))))]);
    let r = strat_engine::engine::backtest_with(
        &team_program("sequential"),
        &data,
        &Config::default(),
        &mut Scripted(r#"{"decision": "hold", "reasoning": "calm"}"#),
        &mut strat_engine::engine::Quiet,
    )
    .expect("runs");
    let team: Vec<_> = r.executions.iter().filter(|e| e.graph == "T").collect();
    assert!(!team.is_empty());
    for e in team {
        assert_eq!(e.status, Outcome::Success);
        assert_eq!(e.decision.as_ref().map(|d| d["decision"].clone()), Some(serde_json::json!("hold")), "{e:?}");
    }
}
