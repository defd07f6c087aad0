//! `strat test` and `strat prompt` through the real binary.
#![allow(clippy::disallowed_methods)] // tests write the files they run

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
    assert!(out.starts_with("# DipBuyer at 2014-06-02 00:00:00 for AAPL → anthropic claude-sonnet-4-5 (cache true, max_tokens 800, temperature 0.2, timeout 30)"), "{out}");
    assert!(out.contains("## system\nYou are a trading agent"), "{out}");
    assert!(out.contains("Largest position allowed: $10,000.00"), "{out}");
    // What changes from call to call comes after what does not (the system prompt, the
    // schema), so a provider's prompt cache can hold the start: the account, as the seed's
    // system prompt states it (positions open, whether the market is), then the market data.
    let prompt = &out[out.find("## prompt\n").expect("a prompt")..];
    assert!(prompt.starts_with("## prompt\nRespond with one JSON object matching this schema:"), "{out}");
    assert!(
        prompt.contains(
            "YOUR ACCOUNT:\nPortfolio value: $100,000.00\nCash: $100,000.00\nOpen positions: 0\nMarket open now: true\n"
        ),
        "{out}"
    );
    let order = ["YOUR STRATEGY:", "YOUR ACCOUNT:", "CURRENT MARKET DATA:", "What action should you take?"];
    let at: Vec<usize> = order.iter().map(|h| prompt.find(h).expect(h)).collect();
    assert!(at.windows(2).all(|w| w[0] < w[1]), "{at:?}");
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

/// The request `strat prompt` shows for `agent`, declared in a file of its own.
fn request_of(agent: &str) -> serde_json::Value {
    let dir = std::env::temp_dir().join(format!("strat-cache-{}-{}", std::process::id(), agent.len()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("a.strat");
    let text = format!("limits l {{\n  max_position $1_000\n}}\n\n{agent}\n");
    std::fs::write(&file, text).expect("write");
    let path = file.to_string_lossy().into_owned();
    let (code, out, err) = run(&["prompt", &path, "--data", AAPL, "--at", "2014-06-02", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    v[0].clone()
}

#[test]
fn what_is_the_same_on_every_call_is_marked_for_the_providers_cache() {
    let agent = |model: &str, system: &str, prompt: &str| {
        format!(
            "model m = anthropic(\"claude-sonnet-4-5\"{model})\n\nagent A {{\n  model m\n  limits l\n{system}  prompt \"{prompt}\"\n  on bar(AAPL, 1d)\n}}"
        )
    };
    let stable_len = |r: &serde_json::Value| r["cached_prefix"].as_u64().map(|n| n as usize);
    // A strategy without placeholders that change: the schema and the strategy are cached.
    let fixed = request_of(&agent("", "", "Buy strength, limits {{limits.max_position}}."));
    let prompt = fixed["prompt"].as_str().expect("prompt");
    let n = stable_len(&fixed).expect("a stable prefix");
    assert!(prompt[..n].ends_with("Buy strength, limits $1,000.00.\n\n"), "{prompt}");
    assert!(prompt[n..].starts_with("YOUR ACCOUNT:"), "{prompt}");
    // A strategy reading the market: only the schema is.
    let moving = request_of(&agent("", "", "Look at {{trigger.symbol}}."));
    let prompt = moving["prompt"].as_str().expect("prompt");
    let n = stable_len(&moving).expect("a stable prefix");
    assert!(prompt[..n].starts_with("Respond with one JSON object") && prompt[n..].starts_with("YOUR STRATEGY:"));
    // A system prompt that changes from call to call, or `cache: false`: nothing is.
    let system = request_of(&agent("", "  system \"You watch {{trigger.symbol}}.\"\n", "Buy."));
    assert!(system["cached_prefix"].is_null(), "{system}");
    let off = request_of(&agent(", cache: false", "", "Buy."));
    assert!(off["cached_prefix"].is_null(), "{off}");
}

/// A payload file for `--payload`.
fn payload(tag: &str, body: &str) -> String {
    let path = std::env::temp_dir().join(format!("strat-payload-{tag}-{}.json", std::process::id()));
    std::fs::write(&path, body).expect("write");
    path.display().to_string()
}

#[test]
fn test_with_a_payload_runs_the_agent_as_its_webhook_would() {
    let file = payload("ok", r#"{"symbol": "MSFT", "signal": "buy", "note": "breakout"}"#);
    let args = ["test", "examples/alert_follower.strat", "--data", MSFT, "--payload", &file, "--format", "json"];
    let (code, out, err) = run(&args);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let e = &v[0];
    assert_eq!(e["trigger"]["kind"], "webhook", "{e}");
    assert_eq!(e["trigger"]["symbol"], "MSFT", "the payload's symbol is the run's");
    assert_eq!(e["context"]["trigger"]["payload"]["note"], "breakout");
    assert!(e["prompt"]["rest"].as_str().is_some_and(|p| p.contains("A chart alert says buy MSFT.")), "{e}");
}

#[test]
fn a_payload_that_does_not_fit_the_webhook_is_refused_with_the_reason() {
    for (body, said) in [
        (r#"{"symbol": "MSFT", "signal": "hodl"}"#, "`payload.signal` is \"hodl\", not one of buy, sell"),
        (r#"{"symbol": "MSFT"}"#, "the payload has no `payload.signal`"),
        (
            r#"{"symbol": "MSFT", "signal": "buy", "size": 1e6}"#,
            "a field `payload.size` that its type does not declare",
        ),
        ("{\"symbol\": ", "is not JSON (line 1, column 11)"),
    ] {
        let file = payload("bad", body);
        let (code, _, err) = run(&["test", "examples/alert_follower.strat", "--data", MSFT, "--payload", &file]);
        assert_eq!(code, 2, "{body}: {err}");
        assert!(err.contains(said), "{body}: {err}");
    }
    let file = payload("none", r#"{"signal": "buy"}"#);
    let (code, _, err) = run(&["test", "examples/dip_buyer.strat", "--data", AAPL, "--payload", &file]);
    assert_eq!(code, 2);
    assert!(err.contains("no webhook trigger in `DipBuyer`"), "{err}");
}
