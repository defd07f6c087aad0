//! `strat test` and `strat prompt` through the real binary.

mod common;
use common::run;

const AAPL: &str = "AAPL=../shared/data/prices/AAPL_2012-2014.csv";
const MSFT: &str = "MSFT=../shared/data/prices/MSFT_2012-2014.csv";

#[test]
fn test_runs_one_execution_and_shows_its_record() {
    let (code, out, err) = run(&["test", "examples/dip_buyer.strat", "--data", AAPL, "--at", "2014-06-02"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("Test of DipBuyer at 2014-06-02 00:00:00 for AAPL (started by hand)"), "{out}");
    // The prompt as sent, with units: RSI 72.9 on that day, so the stand-in holds.
    assert!(out.contains("AAPL moved -0.69% today."), "{out}");
    assert!(out.contains("RSI below 35 (now 72.9018)"), "{out}");
    assert!(out.contains("\"decision\":\"hold\""), "{out}");
    assert!(out.contains("  order           none"), "{out}");
    assert!(out.contains("  status          success"), "{out}");
    assert!(err.contains("warning: no data for `MSFT`"), "{err}");
}

#[test]
fn test_in_json_gives_the_execution_records() {
    // In late 2012 AAPL fell hard: RSI(14) under 35 on 2012-11-15.
    let vix = common::calm_vix();
    let args = [
        "test",
        "examples/dip_buyer.strat",
        "--data",
        AAPL,
        "--data",
        MSFT,
        "--data",
        &vix,
        "--at",
        "2012-11-15",
        "--format",
        "json",
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let e = &v[0];
    assert_eq!(e["graph"], "DipBuyer");
    assert_eq!(e["trigger"]["kind"], "manual");
    assert_eq!(e["trigger"]["symbol"], "AAPL");
    let rsi = e["context"]["indicators"]["AAPL"]["rsi"].as_f64().expect("rsi");
    assert!(rsi < 35.0, "{rsi}");
    assert_eq!(e["decision"]["decision"], "buy");
    // 5% of 100,000 is more than max_position allows? No: the position limit is $10,000, and
    // 5% is $5,000, so the gate approves and the order waits for the next bar.
    assert_eq!(e["validation"][0]["approved"], true, "{e}");
    assert_eq!(e["orders"].as_array().map(Vec::len), Some(1));
    assert_eq!(e["status"], "success");
}

#[test]
fn prompt_prints_what_would_be_sent_and_names_bad_input() {
    let args = [
        "prompt",
        "examples/dip_buyer.strat",
        "--agent",
        "DipBuyer",
        "--symbol",
        "AAPL",
        "--data",
        AAPL,
        "--at",
        "2014-06-02",
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("# DipBuyer at 2014-06-02 00:00:00 for AAPL → anthropic claude-sonnet-4-5 (max_tokens 800, temperature 0.2, timeout 30)"), "{out}");
    assert!(out.contains("## system\nYou are a trading agent"), "{out}");
    assert!(out.contains("Portfolio value: $100,000.00"), "{out}");
    assert!(out.contains("Largest position allowed: $10,000.00"), "{out}");
    // As the seed's system prompt does: how many positions are open, and whether the market is.
    assert!(out.contains("\nOpen positions: 0\nMarket open now: true\n"), "{out}");
    assert!(out.contains("## prompt\nYOUR STRATEGY:"), "{out}");
    assert!(out.contains("\"current_prices\""), "{out}");
    let (code, _, err) = run(&["prompt", "examples/dip_buyer.strat", "--agent", "Nobody", "--data", AAPL]);
    assert_eq!(code, 2);
    assert!(err.contains("no agent, workflow or team named `Nobody` (the file declares DipBuyer)"), "{err}");
    let (code, _, err) = run(&["prompt", "examples/dip_buyer.strat", "--symbol", "ZZZ", "--data", AAPL]);
    assert_eq!(code, 2);
    assert!(err.contains("no data for `ZZZ`"), "{err}");
}

#[test]
fn prompt_of_a_team_shows_each_members_call() {
    let args = [
        "prompt",
        "examples/vote_team.strat",
        "--agent",
        "AnalystVote",
        "--data",
        AAPL,
        "--data",
        MSFT,
        "--format",
        "json",
    ];
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let agents: Vec<&str> = v.as_array().expect("list").iter().filter_map(|r| r["agent"].as_str()).collect();
    assert_eq!(agents, vec!["Technician", "Fundamentalist", "Contrarian"]);
    assert!(v[0]["prompt"].as_str().is_some_and(|p| p.contains("YOUR STRATEGY:")));
}
