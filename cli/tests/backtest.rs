//! `strat backtest` through the real binary.
#![allow(clippy::disallowed_methods)] // tests read fixtures

mod common;
use common::run;

const SPY: &str = "SPY=../shared/data/prices/SPY_D.csv";

#[test]
fn sma_crossover_matches_backtrader_and_is_deterministic() {
    let args = ["backtest", "examples/sma_crossover.strat", "--data", SPY, "--cash", "100000", "--format", "json"];
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["final_equity"], 164_571.5);
    let orders = v["orders"].as_array().expect("orders");
    assert_eq!(orders.len(), 176);
    let first = &orders[0];
    assert_eq!(
        (first["symbol"].as_str(), first["side"].as_str(), first["status"].as_str()),
        (Some("SPY"), Some("buy"), Some("filled"))
    );
    assert!(first["qty"].as_u64().is_some_and(|q| q > 0));
    let rejected: Vec<&serde_json::Value> = orders.iter().filter(|o| o["status"] == "rejected").collect();
    assert_eq!(rejected.len(), 1);
    assert!(rejected[0]["reason"].as_str().is_some_and(|r| r.contains("exceeds cash")));
    assert_eq!(v["equity_curve"].as_array().map(Vec::len), Some(5241));
    for key in ["return", "max_drawdown", "sharpe", "win_rate"] {
        assert!(v[key].is_number(), "{key}");
    }
    let (_, again, _) = run(&args);
    assert_eq!(out, again, "two backtests give byte-identical JSON");
}

#[test]
fn date_range_and_errors() {
    let (code, out, err) =
        run(&["backtest", "examples/sma_crossover.strat", "--data", SPY, "--from", "2010-01-01", "--to", "2010-12-31"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("period          2010-01-04 to 2010-12-31 (252 bars, the 2558 before warming the indicators)"),
        "{out}"
    );
    let (code, _, err) = run(&["backtest", "tests/check/types_arity.strat", "--data", SPY]);
    assert_eq!(code, 1);
    assert!(err.contains("[E0204]"), "{err}");
    let (code, _, err) = run(&["backtest", "examples/sma_crossover.strat", "--data", SPY, "--cash=-5"]);
    assert_eq!(code, 2);
    assert!(err.contains("`--cash` must be a positive amount"), "{err}");
    let dates = ["--from", "2012-06-01", "--to", "2012-01-01"];
    let (code, _, err) = run(&[&["backtest", "examples/sma_crossover.strat", "--data", SPY][..], &dates[..]].concat());
    assert_eq!(code, 2);
    assert!(err.contains("`--from 2012-06-01` is after `--to 2012-01-01`"), "{err}");
}

#[test]
fn a_file_whose_every_row_is_refused_is_an_error_that_shows_the_first() {
    let path = std::env::temp_dir().join(format!("strat-all-refused-{}.csv", std::process::id()));
    std::fs::write(&path, "date,open,high,low,close,volume\n2020-01-02,0,9,8,9.5,100\n2020-01-03,-1,2,1,1,5\n")
        .expect("write");
    let data = format!("SPY={}", path.display());
    let (code, _, err) = run(&["backtest", "examples/sma_crossover.strat", "--data", &data]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains(":2: open price 0 is not positive (1 more row of the file would be refused too)"), "{err}");
    let (code, _, err) = run(&["backtest", "examples/sma_crossover.strat", "--data", &data, "--skip-bad-rows"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("every row of") && err.contains("was refused, so SPY has no bars; the first: "), "{err}");
    assert!(err.contains(":2: "), "the first refused line is named: {err}");
    assert!(!err.contains("add `--data SPY=PATH`"), "{err}");
    let _ = std::fs::remove_file(&path);
}

#[test]
fn an_agent_runs_on_the_offline_stand_in_behind_the_risk_gate() {
    let vix = common::calm_vix();
    let (code, out, err) = run(&[
        "backtest",
        "examples/dip_buyer.strat",
        "--data",
        "AAPL=../shared/data/prices/AAPL_2012-2014.csv",
        "--data",
        "MSFT=../shared/data/prices/MSFT_2012-2014.csv",
        "--data",
        &vix,
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("models are answered by the offline stand-in (rule-based, not a model)"), "{err}");
    assert!(err.contains("no data for `AMZN`: add `--data AMZN=PATH`; it is left out"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let orders = v["orders"].as_array().expect("orders");
    let filled: Vec<&serde_json::Value> = orders.iter().filter(|o| o["status"] == "filled").collect();
    assert!(!filled.is_empty());
    // The stand-in proposes 5% of the portfolio per dip; the gate stops a position at $10,000.
    let refused: Vec<&str> =
        orders.iter().filter(|o| o["status"] == "rejected").filter_map(|o| o["reason"].as_str()).collect();
    assert!(!refused.is_empty() && refused.iter().all(|r| r.contains("over max_position 10000.00")), "{refused:?}");
    let log = v["log"].as_array().expect("log");
    assert!(log.iter().all(|l| l["message"].as_str().is_some_and(|m| m.contains("[offline stand-in]"))));
    // Each execution records what the model saw, what it was asked, what it said, and the
    // gate's verdict on any order.
    let executions = v["executions"].as_array().expect("executions");
    assert_eq!(executions.len() as u64, v["stats"]["DipBuyer"]["total_executions"].as_u64().expect("count"));
    let first = &executions[0];
    assert_eq!(first["trigger"]["kind"], "condition");
    let sym = first["trigger"]["symbol"].as_str().expect("symbol");
    assert!(first["context"]["indicators"][sym]["rsi"].is_number(), "{first}");
    assert!(first["context"]["current_prices"]["AMZN"].is_null(), "no data, not in the context");
    // The prompt's leading part that is the same on every call is held once in `prompts`.
    let prefix = v["prompts"][first["prompt"]["prefix"].as_str().expect("prefix id")].as_str().expect("text");
    let rest = first["prompt"]["rest"].as_str().expect("rest");
    assert!(prefix.starts_with("Respond with one JSON object matching this schema:"), "{prefix}");
    assert!(rest.contains("YOUR STRATEGY:") && rest.contains("CURRENT MARKET DATA:"), "{rest}");
    assert!(v["prompts"][first["prompt"]["system"].as_str().expect("system id")].is_string());
    assert!(first["llm_response"].as_str().is_some_and(|r| r.starts_with('{')));
    let refused = executions.iter().find(|e| e["status"] == "rejected").expect("a refused buy");
    let checks = refused["validation"][0]["checks"].as_array().expect("checks");
    assert!(checks.iter().any(|c| c["name"] == "max_position" && c["passed"] == false), "{checks:?}");
}

#[test]
fn max_vix_without_vix_data_refuses_every_buy_and_says_so_first() {
    let (code, out, err) = run(&[
        "backtest",
        "examples/dip_buyer.strat",
        "--data",
        "AAPL=../shared/data/prices/AAPL_2012-2014.csv",
        "--format",
        "json",
    ]);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("`DipBuyer`: max_vix cannot be evaluated without VIX data"), "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let orders = v["orders"].as_array().expect("orders");
    assert!(!orders.is_empty());
    assert!(
        orders.iter().all(|o| o["status"] == "rejected"
            && o["reason"].as_str().is_some_and(|r| r.starts_with("no VIX value at this time"))),
        "{orders:?}"
    );
}

#[test]
fn fills_follow_the_fill_option() {
    let csv = std::fs::read_to_string(common::root().join("../shared/data/prices/SPY_D.csv")).expect("data");
    let bars = strat_data::parse_csv(&csv).expect("parses").bars;
    let at = |t: &str| bars.iter().find(|b| b.time.to_string() == t).copied().expect("a bar at that time");
    for (fill, same_bar, field) in
        [("next-open", false, "open"), ("next-close", false, "close"), ("same-close", true, "close")]
    {
        let args = ["backtest", "examples/sma_crossover.strat", "--data", SPY, "--fill", fill, "--format", "json"];
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{fill}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        let first = &v["orders"][0];
        let (decided, filled) = (first["time"].as_str().expect("time"), first["fill_time"].as_str().expect("filled"));
        assert_eq!(decided == filled, same_bar, "{fill}: decided {decided}, filled {filled}");
        let bar = at(filled);
        let want = if field == "open" { bar.open } else { bar.close };
        assert_eq!(first["price"].as_f64(), Some(want), "{fill}");
    }
}

#[test]
fn model_budgets_from_the_command_line_skip_calls_once_spent() {
    let args = [
        "backtest",
        "examples/dip_buyer.strat",
        "--data",
        "AAPL=../shared/data/prices/AAPL_2012-2014.csv",
        "--llm",
        "offline",
        "--max-llm-calls",
        "2",
        "--format",
        "json",
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let executions = v["executions"].as_array().expect("executions");
    assert_eq!(executions.iter().filter(|e| e["llm_response"].is_string()).count(), 2);
    let skipped: Vec<&serde_json::Value> = executions.iter().filter(|e| e["status"] == "skipped").collect();
    assert_eq!(skipped.len(), executions.len() - 2);
    assert!(skipped.iter().all(|e| e["error"] == "more than 2 model calls in the run"));
    let (code, _, err) = run(&["backtest", "examples/dip_buyer.strat", "--data", SPY, "--max-cost=-1"]);
    assert_eq!(code, 2);
    assert!(err.contains("`--max-cost` must be an amount of zero or more"), "{err}");
}

#[test]
fn schedule_triggered_agents_and_teams_hold_under_the_offline_stand_in_instead_of_failing() {
    for example in ["earnings_play", "momentum_rider", "trend_pipeline", "consensus_team"] {
        let file = format!("examples/{example}.strat");
        let args = ["backtest", &file, "--data", SPY, "--from", "2013-01-01", "--to", "2013-03-31", "--format", "json"];
        let (code, out, err) = run(&args);
        assert_eq!(code, 0, "{example}: {err}");
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        let executions = v["executions"].as_array().cloned().unwrap_or_default();
        assert!(executions.len() >= 50, "{example}: {} executions", executions.len());
        for e in &executions {
            assert_eq!(e["status"], "success", "{example}: {}", e["error"]);
            assert_eq!(e["decision"]["decision"], "hold", "{example}");
        }
    }
}

#[test]
fn the_data_before_from_warms_the_indicators_and_trading_starts_at_from() {
    let dir = std::env::temp_dir().join(format!("strat-from-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("rsi.strat");
    std::fs::write(&file, "workflow W {\n  on bar(SPY, 1d)\n  log \"{{rsi(SPY, 14)}} {{sma(SPY, 200)}}\"\n}\n")
        .expect("write");
    let file = file.to_string_lossy().into_owned();
    let args = ["backtest", &file, "--data", SPY, "--from", "2008-01-01", "--to", "2008-01-31", "--format", "json"];
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let log = v["log"].as_array().cloned().unwrap_or_default();
    assert_eq!(log.len(), 21, "one execution a trading day from --from on");
    assert!(log.iter().all(|l| l["time"].as_str().is_some_and(|t| t.starts_with("2008-01"))));
    assert_eq!(v["equity_curve"].as_array().map(Vec::len), Some(21));
    // TA-Lib's values over the whole history on that day.
    let reference = std::fs::read_to_string(common::root().join("../shared/data/reference/SPY_D_talib_reference.csv"))
        .expect("reference");
    let row: Vec<&str> = reference.lines().find(|l| l.starts_with("2008-01-23")).expect("day").split(',').collect();
    let (rsi, sma200) = (row[6].parse::<f64>().expect("rsi"), row[15].parse::<f64>().expect("sma"));
    let day = log.iter().find(|l| l["time"] == "2008-01-23 00:00:00").expect("2008-01-23 logged");
    let said: Vec<f64> = day["message"]
        .as_str()
        .unwrap_or_default()
        .split(' ')
        .filter_map(|x| x.trim_start_matches('$').parse().ok())
        .collect();
    assert_eq!(said.len(), 2, "{day}");
    assert!((said[0] - rsi).abs() < 1e-4, "rsi {} vs {rsi}", said[0]);
    assert!((said[1] - sma200).abs() < 1e-2, "sma(200) {} vs {sma200}", said[1]);
}

/// An agent with a long prompt that does not change: each execution refers to its text, which
/// the report holds once (before, every execution held a copy: 16 agents of 64 KB prompts wrote
/// 822 MB).
#[test]
fn a_prompt_is_stored_once_however_many_executions_sent_it() {
    let dir = std::env::temp_dir().join(format!("strat-long-prompt-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let playbook = "Follow the playbook: buy strength, sell weakness, size small. ".repeat(1_000);
    let file = dir.join("long.strat");
    let text = format!(
        "model sonnet = anthropic(\"claude-sonnet-4-5\")\n\nlimits small {{\n  max_position $1_000\n}}\n\nagent Reader {{\n  model sonnet\n  limits small\n  context prices(SPY)\n  prompt \"\"\"\n{playbook}\n  \"\"\"\n  on bar(SPY, 1d)\n}}\n"
    );
    std::fs::write(&file, text).expect("write");
    let path = file.to_string_lossy().into_owned();
    let args = ["backtest", &path, "--data", SPY, "--from", "2012-01-01", "--to", "2012-03-31", "--format", "json"];
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let executions = v["executions"].as_array().expect("executions");
    assert!(executions.len() > 50, "{}", executions.len());
    let prefixes: std::collections::BTreeSet<&str> =
        executions.iter().filter_map(|e| e["prompt"]["prefix"].as_str()).collect();
    assert_eq!(prefixes.len(), 1, "one text for every execution");
    let held = v["prompts"][*prefixes.first().expect("one")].as_str().expect("text");
    assert!(held.contains(playbook.trim()), "the strategy is in the stable part");
    assert!(executions.iter().all(|e| !e["prompt"]["rest"].as_str().unwrap_or("").contains("Follow the playbook")));
    assert!(out.len() < 2 * playbook.len() + executions.len() * 8_000, "report of {} bytes", out.len());
}
