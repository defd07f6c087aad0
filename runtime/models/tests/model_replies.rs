//! Backtests whose model is a provider over HTTP (a fake Anthropic server on loopback): a
//! refusal or a truncated reply becomes a rejected execution with no order; a cassette recorded
//! from one run replays it exactly with no server at all.

use chrono::{Duration, NaiveDate};
use serde_json::json;
use std::collections::BTreeMap;
use strat_engine::engine::{Config, Quiet, backtest_with};
use strat_engine::llm::{ErrorKind, Llm};
use strat_engine::market::Bar;
use strat_engine::report::{Outcome, Report};
use strat_fakes::{FakeServer, Reply, wire_json};
use strat_models::cassette::{CassetteError, Recorder, Replayer, Tape};
use strat_models::{Dialect, Endpoint, ManualTiming, Provider, Router, Secret, Settings, wire};

const KEY: &str = "sk-ant-test-key-for-the-backtest";

fn program(prompt: &str) -> strat_lang::ir::Program {
    let src = format!(
        r#"limits {{ max_position $10_000 }}
        model m = anthropic("claude-sonnet-4-5", temperature: 0)
        agent Dip {{
          model m
          context prices(DOWN), indicators(DOWN)
          prompt "{prompt} {{{{trigger.symbol}}}}"
          on rsi(DOWN, 14) < 30
        }}"#
    );
    let mut ws = strat_lang::Workspace::new();
    let id = ws.set_file("a.strat", src.into_bytes());
    let c = ws.compile(&[id]);
    c.program.unwrap_or_else(|| panic!("{:?}", c.diagnostics))
}

fn data() -> BTreeMap<String, Vec<Bar>> {
    let start = NaiveDate::from_ymd_opt(2024, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
    let bars = (0..24)
        .map(|i| {
            let c = 100.0 - f64::from(i);
            Bar { time: start + Duration::days(i64::from(i)), open: c, high: c, low: c, close: c, volume: 1.0 }
        })
        .collect();
    BTreeMap::from([("DOWN".to_string(), bars)])
}

fn router(server: &FakeServer) -> Router {
    let e = Endpoint {
        provider: "anthropic".into(),
        dialect: Dialect::Anthropic,
        base_url: server.url(),
        key: Some(Secret::new(KEY)),
        key_name: Some("ANTHROPIC_API_KEY"),
    };
    let p = Provider::new(e.clone(), wire(e.dialect), &Settings::default(), ManualTiming::new()).expect("provider");
    Router::offline_only().route("anthropic", Box::new(p))
}

fn reply(text: &str, stop: &str) -> Reply {
    let mut v = wire_json("anthropic/response_text_json.json");
    v["content"] = json!([{"type": "text", "text": text}]);
    v["stop_reason"] = json!(stop);
    Reply::json(200, v.to_string())
}

fn run(llm: &mut dyn Llm, prompt: &str) -> Report {
    backtest_with(&program(prompt), &data(), &Config::default(), llm, &mut Quiet).expect("runs")
}

#[test]
fn refusals_and_truncated_replies_are_rejected_executions_with_no_order() {
    for (text, stop, why) in [
        ("I can't help with trading decisions.", "refusal", "the model refused to answer"),
        ("{\"decision\": \"buy\", \"symbol\": \"DO", "max_tokens", "the reply was cut off at the token limit"),
        ("I would buy DOWN, it looks cheap.", "end_turn", "no JSON in the reply"),
    ] {
        let server = FakeServer::anthropic(KEY);
        server.otherwise(reply(text, stop));
        let report = run(&mut router(&server), "decide");
        assert!(!report.executions.is_empty());
        assert!(server.hits() >= report.executions.len());
        for e in &report.executions {
            assert_eq!(e.status, Outcome::Rejected, "{stop}: {:?}", e.error);
            assert!(e.error.as_deref().is_some_and(|m| m.starts_with(why)), "{stop}: {:?}", e.error);
            assert!(e.orders.is_empty());
            assert_eq!((e.input_tokens, e.output_tokens), (249, 26), "usage is recorded even when rejected");
        }
        assert!(report.orders.is_empty(), "{stop}: {:?}", report.orders);
    }
    // The same run with a reply that decodes does trade, so the rejections above are the replies'.
    let server = FakeServer::anthropic(KEY);
    let fenced =
        "```json\n{\"decision\": \"buy\", \"symbol\": \"DOWN\", \"quantity\": 3, \"reasoning\": \"oversold\"}\n```";
    server.otherwise(reply(fenced, "end_turn"));
    let report = run(&mut router(&server), "decide");
    assert!(!report.orders.is_empty());
    assert!(report.executions.iter().all(|e| e.status == Outcome::Success));
    let cost: f64 = report.executions.iter().map(|e| e.cost).sum();
    assert!(cost > 0.0);
}

#[test]
fn a_replayed_backtest_is_the_recorded_one_without_a_network() {
    let server = FakeServer::anthropic(KEY);
    server.script([Reply::fixture(529, "anthropic/error_529.json")]);
    server.otherwise(reply("{\"decision\": \"buy\", \"symbol\": \"DOWN\", \"quantity\": 2}", "end_turn"));
    let (mut recorder, tape) = Recorder::new(Box::new(router(&server)));
    let recorded = run(&mut recorder, "decide");
    let calls = server.hits();
    drop(server);
    let text = tape.lock().expect("tape").to_text();
    assert!(!text.contains(KEY));
    let parsed = Tape::parse(&text).expect("parses");
    assert_eq!(parsed.entries.len(), recorded.executions.len());
    assert!(calls > parsed.entries.len(), "the 529 was retried inside one call");
    let mut replayer = Replayer::new(parsed.clone(), "run.cassette");
    let replayed = run(&mut replayer, "decide");
    assert_eq!(serde_json::to_string(&replayed).ok(), serde_json::to_string(&recorded).ok());
    assert!(replayer.notes()[0].contains("replayed from the cassette run.cassette"));

    // A different prompt is a different call: it fails, naming the agent, and trades nothing.
    let mut replayer = Replayer::new(parsed, "run.cassette");
    let other = run(&mut replayer, "think hard, then decide");
    assert!(other.orders.is_empty());
    let e = &other.executions[0];
    assert_eq!(e.status, Outcome::Failed);
    let msg = e.error.as_deref().unwrap_or("");
    assert!(
        msg.contains("the cassette run.cassette has no answer for agent Dip's call to anthropic claude-sonnet-4-5"),
        "{msg}"
    );
    let err = replayer
        .complete(&strat_engine::llm::LlmRequest {
            agent: "X".into(),
            model: strat_engine::llm::ModelSpec {
                name: "m".into(),
                provider: "anthropic".into(),
                model: "claude-sonnet-4-5".into(),
                params: BTreeMap::new(),
            },
            system: String::new(),
            prompt: String::new(),
            context: json!({}),
            account: json!({}),
            schema: json!(null),
            cached_prefix: None,
        })
        .expect_err("missing");
    assert_eq!(err.kind, ErrorKind::Unavailable);
}

#[test]
fn cassettes_that_are_not_cassettes_are_refused() {
    assert_eq!(Tape::parse("").err(), Some(CassetteError::Empty));
    assert_eq!(Tape::parse("{\"hello\": 1}\n").err(), Some(CassetteError::NoHeader));
    let other = "{\"cassette\":\"strat\",\"version\":9,\"label\":\"x\"}\n";
    assert_eq!(Tape::parse(other).err(), Some(CassetteError::Version));
    let bad = "{\"cassette\":\"strat\",\"version\":1,\"label\":\"x\"}\n{\"key\": 3}\n";
    let err = Tape::parse(bad).expect_err("bad line");
    assert!(matches!(err, CassetteError::Call { line: 2, .. }), "{err:?}");
    assert!(err.to_string().starts_with("line 2: "), "{err}");
}

#[test]
fn a_cassette_whose_usage_would_give_budget_back_is_refused() {
    let header = "{\"cassette\":\"strat\",\"version\":1,\"label\":\"x\"}\n";
    let call = |cost: &str, tokens: &str| {
        format!(
            "{header}{{\"key\":\"k\",\"agent\":\"A\",\"provider\":\"anthropic\",\"model\":\"m\",\"reply\":{{\"text\":\"{{}}\",\"model\":\"m\",\"stop_reason\":\"end_turn\",\"input_tokens\":{tokens},\"output_tokens\":1,\"cost\":{cost}}}}}\n"
        )
    };
    assert!(Tape::parse(&call("0.25", "10")).is_ok());
    let err = Tape::parse(&call("-5.0", "10")).expect_err("negative cost");
    assert_eq!(err.to_string(), "line 2: the recorded cost -5 is not a cost (0 or more dollars)");
    let err = Tape::parse(&call("0.25", "-10")).expect_err("negative tokens");
    assert!(matches!(err, CassetteError::Call { line: 2, .. }), "{err:?}");
    assert!(Tape::parse(&call("1e400", "10")).is_err(), "an infinite cost");
}

#[test]
fn a_key_that_comes_back_escaped_or_in_the_model_field_reaches_no_output() {
    let escaped: String = KEY.chars().map(|c| format!("\\u{:04x}", c as u32)).collect();
    let text = format!(
        "{{\"decision\": \"buy\", \"symbol\": \"DOWN\", \"quantity\": 1, \"reasoning\": \"the key is {escaped}\"}}"
    );
    let server = FakeServer::anthropic(KEY);
    let mut body = wire_json("anthropic/response_text_json.json");
    body["content"] = json!([{"type": "text", "text": text}]);
    body["model"] = json!(format!("claude-{KEY}"));
    body["stop_reason"] = json!("end_turn");
    server.otherwise(Reply::json(200, body.to_string()));
    let (mut recorder, tape) = Recorder::new(Box::new(router(&server)));
    let report = run(&mut recorder, "decide");
    assert!(report.executions.iter().any(|e| e.status == Outcome::Success), "the answer still decodes");
    let report_json = serde_json::to_string(&report).expect("json");
    assert!(!report_json.contains(KEY), "the report holds the key");
    assert!(report_json.contains("the key is ***"), "the reasoning is kept, with the key hidden");
    let cassette = tape.lock().expect("tape").to_text();
    assert!(!cassette.contains(KEY) && !cassette.contains(&escaped), "the cassette holds the key");
}
