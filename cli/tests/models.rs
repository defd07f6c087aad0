//! `--llm` through the real binary against a fake Anthropic server on loopback: recording and
//! replaying a backtest byte for byte with the server gone, the fallback and strict modes, and
//! a key that appears in no output, report, store or cassette.
#![allow(clippy::disallowed_methods)] // the tests read the files the binary wrote

mod common;
use common::strat;
use serde_json::json;
use std::path::PathBuf;
use strat_fakes::{FakeServer, Reply, wire_json};

const KEY: &str = "sk-ant-api03-TESTKEY-do-not-leak-7f3a9c";
const AAPL: &str = "AAPL=../shared/data/prices/AAPL_2012-2014.csv";
const MSFT: &str = "MSFT=../shared/data/prices/MSFT_2012-2014.csv";

fn dir(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("strat-models-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn decision(text: &str) -> Reply {
    let mut v = wire_json("anthropic/response_text_json.json");
    v["content"] = json!([{"type": "text", "text": text}]);
    Reply::json(200, v.to_string())
}

const BUY: &str = r#"{"decision": "buy", "symbol": "AAPL", "quantity": 5, "reasoning": "a dip", "confidence": 0.7}"#;

fn backtest(
    home: &std::path::Path,
    server: Option<&FakeServer>,
    key: Option<&str>,
    llm: &str,
) -> (i32, Vec<u8>, String) {
    let mut c = strat();
    c.env("STRAT_HOME", home).args(["backtest", "examples/dip_buyer.strat", "--data", AAPL, "--data", MSFT]);
    c.args(["--format", "json", "--llm", llm]);
    if let Some(s) = server {
        c.env("ANTHROPIC_BASE_URL", s.url());
    }
    if let Some(k) = key {
        c.env("ANTHROPIC_API_KEY", k);
    }
    let out = c.output().expect("runs");
    (out.status.code().unwrap_or(-1), out.stdout, String::from_utf8_lossy(&out.stderr).into_owned())
}

#[test]
fn a_replayed_backtest_is_byte_identical_to_the_recorded_one_with_the_server_gone() {
    let home = dir("replay");
    let cassette = home.join("dip.cassette");
    let server = FakeServer::anthropic(KEY);
    server.script([Reply::fixture(529, "anthropic/error_529.json")]);
    server.otherwise(decision(BUY));
    let record = format!("record:{}", cassette.display());
    let (code, recorded, err) = backtest(&home, Some(&server), Some(KEY), &record);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("recorded") && err.contains("model calls to"), "{err}");
    let calls = server.hits();
    assert!(calls > 1);
    let got = &server.received()[0];
    assert_eq!((got.header("x-api-key"), got.header("anthropic-version")), (Some(KEY), Some("2023-06-01")));
    assert_eq!(got.json()["max_tokens"], json!(800), "the model's max_tokens from dip_buyer.strat");
    let v: serde_json::Value = serde_json::from_slice(&recorded).expect("json");
    assert!(v["llm"].as_str().is_some_and(|l| l.starts_with("anthropic (Anthropic Messages API at http://127.0.0.1:")));
    let executions = v["executions"].as_array().expect("executions");
    assert!(executions.iter().all(|e| e["input_tokens"] == 249 && e["output_tokens"] == 26), "usage per execution");
    assert!(executions.iter().all(|e| e["cost"].as_f64().is_some_and(|c| c > 0.0)));
    assert!(v["orders"].as_array().is_some_and(|o| !o.is_empty()), "the model's buys were placed");
    drop(server);

    // No server, no key: only the cassette answers.
    let replay = format!("replay:{}", cassette.display());
    let (code, replayed, err) = backtest(&home, None, None, &replay);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("models were replayed from the cassette"), "{err}");
    assert!(recorded == replayed, "replayed output differs from the recorded output");

    // A cassette of another run: every call fails, naming the agent, and nothing trades.
    let other = home.join("other.cassette");
    std::fs::write(&other, "{\"cassette\":\"strat\",\"version\":1,\"label\":\"x\"}\n").expect("write");
    let (code, out, _) = backtest(&home, None, None, &format!("replay:{}", other.display()));
    assert_eq!(code, 0);
    let v: serde_json::Value = serde_json::from_slice(&out).expect("json");
    assert!(v["orders"].as_array().is_some_and(Vec::is_empty));
    let e = &v["executions"][0];
    assert_eq!(e["status"], "failed");
    assert!(e["error"].as_str().is_some_and(|m| m.contains("has no answer for agent DipBuyer's call")), "{e}");
    let (code, _, err) = backtest(&home, None, None, "replay:/nonexistent/x.cassette");
    assert_eq!(code, 2);
    assert!(err.contains("cannot read the cassette"), "{err}");
    let (code, _, err) = backtest(&home, None, None, "replay");
    assert_eq!(code, 2, "{err}");
}

#[test]
fn without_a_key_the_stand_in_answers_unless_strict() {
    let home = dir("fallback");
    let (code, auto, err) = backtest(&home, None, None, "auto");
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("anthropic (no ANTHROPIC_API_KEY): the offline stand-in (rule-based, not a model) answered DipBuyer (anthropic claude-sonnet-4-5)"),
        "{err}"
    );
    let (code, offline, err) = backtest(&home, None, None, "offline");
    assert_eq!(code, 0);
    assert!(!err.contains("answered DipBuyer"), "no fallback warning when the stand-in was asked for: {err}");
    assert!(auto == offline, "the fallback is the stand-in, exactly");
    let (code, strict, err) = backtest(&home, None, None, "strict");
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_slice(&strict).expect("json");
    assert!(v["orders"].as_array().is_some_and(Vec::is_empty));
    let e = &v["executions"][0];
    assert_eq!(e["status"], "failed");
    assert!(e["error"].as_str().is_some_and(|m| m.contains("which has no ANTHROPIC_API_KEY")), "{e}");
    // The secrets file is a source of keys too.
    let server = FakeServer::anthropic(KEY);
    server.otherwise(decision(BUY));
    std::fs::write(home.join("secrets"), format!("ANTHROPIC_API_KEY = {KEY}\n")).expect("write");
    let (code, _, err) = backtest(&home, Some(&server), None, "strict");
    assert_eq!(code, 0, "{err}");
    assert!(server.hits() > 0 && server.received()[0].header("x-api-key") == Some(KEY));
    // A broken configuration file is a usage error that names the line.
    std::fs::write(home.join("llm.conf"), "retries = many\n").expect("write");
    let (code, _, err) = backtest(&home, Some(&server), None, "auto");
    assert_eq!(code, 2);
    assert!(err.contains("llm.conf: line 1: `retries` takes 0 to 10"), "{err}");
}

fn all_files(d: &std::path::Path, out: &mut Vec<PathBuf>) {
    for e in std::fs::read_dir(d).into_iter().flatten().flatten() {
        let p = e.path();
        if p.is_dir() { all_files(&p, out) } else { out.push(p) }
    }
}

#[test]
fn the_key_appears_in_no_output_report_store_or_cassette() {
    let home = dir("secret");
    let server = FakeServer::anthropic(KEY);
    // A server that echoes the key back, in an error and in a reply.
    let echo = format!(
        r#"{{"type":"error","error":{{"type":"invalid_request_error","message":"key {KEY} is not allowed"}}}}"#
    );
    server.script([Reply::json(400, echo), decision(&format!("{{\"decision\": \"hold\", \"reasoning\": \"{KEY}\"}}"))]);
    server.otherwise(decision(BUY));
    let cassette = home.join("run.cassette");
    let (code, out, err) = backtest(&home, Some(&server), Some(KEY), &format!("record:{}", cassette.display()));
    assert_eq!(code, 0, "{err}");
    let text = String::from_utf8_lossy(&out);
    assert!(text.contains("key *** is not allowed"), "the echoed key is masked where it would have been");
    let run = strat()
        .env("STRAT_HOME", &home)
        .env("ANTHROPIC_API_KEY", KEY)
        .env("ANTHROPIC_BASE_URL", server.url())
        .args(["run", "examples/dip_buyer.strat", "--speed", "0", "--days", "30"])
        .output()
        .expect("runs");
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let mut files = Vec::new();
    all_files(&home, &mut files);
    assert!(
        files.iter().any(|f| f.ends_with("store.redb"))
            && files.iter().any(|f| f.extension().is_some_and(|e| e == "json"))
    );
    let mut places: Vec<(String, Vec<u8>)> = vec![
        ("backtest stdout".into(), out),
        ("backtest stderr".into(), err.into_bytes()),
        ("run stdout".into(), run.stdout),
        ("run stderr".into(), run.stderr),
    ];
    for f in files {
        places.push((f.display().to_string(), std::fs::read(&f).expect("read")));
    }
    for (name, bytes) in &places {
        let found = bytes.windows(KEY.len()).any(|w| w == KEY.as_bytes());
        assert!(!found, "the key is in {name}");
    }
    assert!(server.hits() > 2);
}

#[test]
fn failed_executions_are_grouped_by_reason_and_deny_failures_exits_one() {
    let home = dir("failures");
    std::fs::write(home.join("llm.conf"), "retries = 0\n").expect("write");
    let server = FakeServer::anthropic(KEY);
    server.otherwise(Reply::fixture(529, "anthropic/error_529.json"));
    let run = |deny: bool| {
        let mut c = strat();
        c.env("STRAT_HOME", &home).env("ANTHROPIC_BASE_URL", server.url()).env("ANTHROPIC_API_KEY", KEY);
        c.args(["backtest", "examples/dip_buyer.strat", "--data", AAPL, "--to", "2012-12-31"]);
        if deny {
            c.args(["--deny", "failures"]);
        }
        let out = c.output().expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, err) = run(false);
    assert_eq!(code, Some(0), "{err}");
    let groups: Vec<&str> = out.lines().filter(|l| l.contains(" executions failed: ")).collect();
    assert!(!groups.is_empty(), "{out}");
    // Every failure is counted once, against every execution of the run.
    let total: usize = groups.iter().filter_map(|l| l.trim().split(' ').next()?.parse::<usize>().ok()).sum();
    let executions: usize = groups[0].split(" of ").nth(1).and_then(|r| r.split(' ').next()?.parse().ok()).unwrap_or(0);
    assert!(total > 0 && total == executions, "{groups:?}");
    assert!(groups.iter().any(|l| l.contains("overloaded") || l.contains("529")), "{groups:?}");
    let (code, _, err) = run(true);
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("executions failed (--deny failures)"), "{err}");
}
