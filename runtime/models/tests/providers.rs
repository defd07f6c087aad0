//! The HTTP providers against fake Anthropic, OpenAI, Ollama, llama.cpp and vLLM servers on
//! loopback: what is sent, how replies and every error shape are read, retries, timeouts, the
//! circuit breaker, batches, and keys that never come out.

use serde_json::{Value as J, json};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;
use strat_engine::llm::{ErrorKind, Llm, LlmReply, LlmRequest, ModelSpec};
use strat_fakes::{FakeServer, Fault, Kind, Reply, fixture, wire_json};
use strat_models::{Dialect, Endpoint, ManualTiming, Provider, Router, Secret, Settings, wire};

const KEY: &str = "sk-test-0123456789abcdef";

fn request(provider: &str, model: &str) -> LlmRequest {
    let params = BTreeMap::from([
        ("max_tokens".to_string(), json!(800.0)),
        ("temperature".to_string(), json!(0.2)),
        ("timeout".to_string(), json!(30.0)),
    ]);
    let decision = strat_lang::ir::Type::Record {
        name: Some("decision".into()),
        fields: vec![
            (
                "decision".into(),
                strat_lang::ir::Type::Enum { variants: vec!["buy".into(), "sell".into(), "hold".into()] },
            ),
            ("symbol".into(), strat_lang::ir::Type::Symbol),
            ("quantity".into(), strat_lang::ir::Type::Quantity),
        ],
    };
    LlmRequest {
        agent: "Dip".into(),
        model: ModelSpec { name: "m".into(), provider: provider.into(), model: model.into(), params },
        system: "You are a trading agent.".into(),
        prompt: "Decide.".into(),
        context: json!({}),
        account: json!({}),
        schema: strat_engine::decode::schema(&decision),
        cached_prefix: None,
    }
}

fn endpoint(provider: &str, dialect: Dialect, url: String, key: Option<&str>) -> Endpoint {
    Endpoint {
        provider: provider.into(),
        dialect,
        base_url: url,
        key: key.map(Secret::new),
        key_name: Some(if dialect == Dialect::Anthropic { "ANTHROPIC_API_KEY" } else { "OPENAI_API_KEY" }),
    }
}

fn make(e: Endpoint, tune: impl FnOnce(&mut Settings)) -> (Provider, Arc<ManualTiming>) {
    let mut s = Settings::default();
    tune(&mut s);
    let timing = ManualTiming::new();
    let p = Provider::new(e.clone(), wire(e.dialect), &s, timing.clone()).expect("provider");
    (p, timing)
}

fn anthropic(server: &FakeServer) -> (Provider, Arc<ManualTiming>) {
    make(endpoint("anthropic", Dialect::Anthropic, server.url(), Some(KEY)), |_| {})
}

fn openai(server: &FakeServer, dialect: Dialect) -> (Provider, Arc<ManualTiming>) {
    let key = (dialect == Dialect::OpenAi).then_some(KEY);
    make(endpoint("openai", dialect, format!("{}/v1", server.url()), key), |_| {})
}

fn with_text(path: &str, text: &str, stop: &str) -> String {
    let mut v = wire_json(path);
    v["content"] = json!([{"type": "text", "text": text}]);
    v["stop_reason"] = json!(stop);
    v.to_string()
}

#[test]
fn anthropic_gets_its_headers_and_body_and_its_reply_is_read_with_usage_and_cost() {
    let server = FakeServer::anthropic(KEY);
    let (mut p, _) = anthropic(&server);
    let reply = p.complete(&request("anthropic", "claude-sonnet-4-5")).expect("answers");
    let got = server.received();
    assert_eq!(got.len(), 1);
    let r = &got[0];
    assert_eq!((r.method.as_str(), r.path.as_str()), ("POST", "/v1/messages"));
    assert_eq!(r.header("x-api-key"), Some(KEY));
    assert_eq!(r.header("anthropic-version"), Some("2023-06-01"));
    assert_eq!(r.header("content-type"), Some("application/json"));
    let b = r.json();
    assert_eq!(b["model"], "claude-sonnet-4-5");
    assert_eq!(b["max_tokens"], json!(800), "an integer, as the API requires");
    assert_eq!(b["system"], "You are a trading agent.");
    assert_eq!(b["messages"], json!([{"role": "user", "content": "Decide."}]));
    assert_eq!(b["temperature"], json!(0.2));
    let schema = &b["output_config"]["format"];
    assert_eq!(schema["type"], "json_schema");
    assert_eq!(schema["schema"]["properties"]["decision"]["enum"], json!(["buy", "sell", "hold"]));
    assert_eq!(
        schema["schema"]["properties"]["quantity"],
        json!({"type": "integer"}),
        "no `minimum`: the API rejects it"
    );
    assert_eq!(reply.text, r#"{"action": "buy", "symbol": "AAPL", "qty": 2, "confidence": 0.62}"#);
    assert_eq!(reply.model, "claude-sonnet-4-5-20250929");
    assert_eq!(reply.stop_reason.as_deref(), Some("end_turn"));
    assert_eq!((reply.input_tokens, reply.output_tokens), (249, 26));
    assert!((reply.cost - (249.0 * 3.0 + 26.0 * 15.0) / 1e6).abs() < 1e-12, "{}", reply.cost);
    assert!(p.notes().is_empty(), "{:?}", p.notes());
}

/// A request whose system prompt and first part of the prompt are the same on every call.
fn stable_request(call: usize) -> LlmRequest {
    let mut r = request("anthropic", "claude-sonnet-4-5");
    let stable = format!("Respond with JSON.\n\nYOUR STRATEGY:\n{}\n\n", "Buy dips in quality names. ".repeat(300));
    r.prompt = format!("{stable}CURRENT MARKET DATA:\ncall {call}\n");
    r.cached_prefix = Some(stable.len());
    r
}

#[test]
fn anthropic_marks_the_stable_prefix_and_later_calls_read_it_from_the_cache_at_a_tenth_of_the_price() {
    let server = FakeServer::anthropic(KEY);
    server.metered();
    let (mut p, _) = anthropic(&server);
    let replies: Vec<LlmReply> = (0..3).map(|i| p.complete(&stable_request(i)).expect("answers")).collect();
    let body = server.received()[0].json();
    let blocks = body["messages"][0]["content"].as_array().expect("blocks").clone();
    assert_eq!(blocks.len(), 2, "{blocks:?}");
    assert_eq!(blocks[0]["cache_control"], json!({"type": "ephemeral"}));
    assert!(
        blocks[0]["text"].as_str().is_some_and(|t| t.ends_with("\n\n")) && blocks[1].get("cache_control").is_none()
    );
    assert_eq!(body["system"], "You are a trading agent.", "one breakpoint, after the system prompt");
    // The first call writes the cache (1.25 × input), the next read it (0.1 × input).
    assert_eq!(replies[0].cached_tokens, 0);
    assert!(replies[1].cached_tokens > 1_024 && replies[2].cached_tokens == replies[1].cached_tokens);
    assert_eq!(replies[1].input_tokens, replies[0].input_tokens, "every prompt token is counted");
    assert!(replies[1].cost < replies[0].cost / 3.0, "{} vs {}", replies[1].cost, replies[0].cost);
    // Without a stable part, or with `cache: false` upstream, nothing is marked.
    let mut plain = stable_request(9);
    plain.cached_prefix = None;
    p.complete(&plain).expect("answers");
    let last = server.received().pop().expect("one more").json();
    assert!(last["messages"][0]["content"].is_string() && last["system"].is_string(), "{last}");
}

#[test]
fn a_system_prompt_that_is_the_whole_stable_part_carries_the_breakpoint() {
    let server = FakeServer::anthropic(KEY);
    let (mut p, _) = anthropic(&server);
    let mut r = request("anthropic", "claude-sonnet-4-5");
    r.cached_prefix = Some(0);
    p.complete(&r).expect("answers");
    let body = server.received()[0].json();
    assert_eq!(
        body["system"],
        json!([{"type": "text", "text": "You are a trading agent.", "cache_control": {"type": "ephemeral"}}])
    );
    assert_eq!(body["messages"][0]["content"], "Decide.");
}

#[test]
fn openai_reports_its_automatic_cache_reads_and_they_are_priced_lower() {
    let server = FakeServer::openai(KEY);
    server.metered();
    let (mut p, _) = openai(&server, Dialect::OpenAi);
    let mut ask = |i| {
        let mut r = stable_request(i);
        r.model = ModelSpec { provider: "openai".into(), model: "gpt-4o".into(), ..r.model };
        p.complete(&r).expect("answers")
    };
    let (first, second) = (ask(0), ask(1));
    assert_eq!(first.cached_tokens, 0);
    assert!(second.cached_tokens >= 1_024, "{second:?}");
    assert!(second.cost < first.cost, "{} vs {}", second.cost, first.cost);
}

#[test]
fn a_529_is_retried_with_jittered_backoff_until_it_succeeds() {
    let server = FakeServer::anthropic(KEY);
    let overloaded = || Reply::fixture(529, "anthropic/error_529.json");
    server.script([overloaded(), overloaded()]);
    let (mut p, timing) = anthropic(&server);
    let reply = p.complete(&request("anthropic", "claude-sonnet-4-5")).expect("third attempt answers");
    assert_eq!(reply.stop_reason.as_deref(), Some("end_turn"));
    assert_eq!(server.hits(), 3);
    let slept = timing.slept();
    assert_eq!(slept.len(), 2);
    assert!(slept[0] < Duration::from_millis(500) && slept[1] < Duration::from_millis(1000), "{slept:?}");
    assert_ne!(slept[0], slept[1]);
    // Every attempt carried the same request.
    let bodies: Vec<Vec<u8>> = server.received().into_iter().map(|r| r.body).collect();
    assert!(bodies.windows(2).all(|w| w[0] == w[1]));
}

#[test]
fn retries_are_bounded_and_the_last_error_is_reported() {
    let server = FakeServer::anthropic(KEY);
    server.otherwise(Reply::fixture(529, "anthropic/error_529.json"));
    let (mut p, _) = anthropic(&server);
    let err = p.complete(&request("anthropic", "claude-sonnet-4-5")).expect_err("overloaded");
    assert_eq!(err.kind, ErrorKind::Overloaded);
    assert_eq!(server.hits(), 3, "one attempt and two retries");
    assert!(err.message.contains("529 overloaded_error: Overloaded"), "{}", err.message);
    assert!(err.message.contains("(after 3 attempts)"), "{}", err.message);
    assert!(err.message.contains("req_fake"), "the request id is kept for support: {}", err.message);
}

#[test]
fn a_429_waits_as_long_as_retry_after_says() {
    let server = FakeServer::anthropic(KEY);
    server.script([Reply::fixture(429, "anthropic/error_429.json").header("retry-after", "2")]);
    let (mut p, timing) = anthropic(&server);
    p.complete(&request("anthropic", "claude-sonnet-4-5")).expect("answers after the wait");
    assert_eq!(timing.slept(), vec![Duration::from_secs(2)]);
    assert_eq!(server.hits(), 2);
}

#[test]
fn a_spend_limit_429_and_auth_errors_are_never_retried() {
    let server = FakeServer::anthropic(KEY);
    let mut spend = wire_json("anthropic/error_429.json");
    spend["error"]["details"] = json!({"error_code": "enforced_spend_limit_reached"});
    server.script([Reply::json(429, spend.to_string()).header("retry-after", "1")]);
    let (mut p, timing) = anthropic(&server);
    let err = p.complete(&request("anthropic", "claude-sonnet-4-5")).expect_err("spend limit");
    assert_eq!(err.kind, ErrorKind::Quota);
    assert_eq!(server.hits(), 1);
    assert!(timing.slept().is_empty());
    assert!(err.message.contains("spend limit"), "{}", err.message);

    let (mut wrong, _) =
        make(endpoint("anthropic", Dialect::Anthropic, server.url(), Some("sk-wrong-key-000")), |_| {});
    let err = wrong.complete(&request("anthropic", "claude-sonnet-4-5")).expect_err("401");
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(err.message.contains("401 authentication_error: invalid x-api-key"), "{}", err.message);
    assert!(!err.message.contains("sk-wrong-key-000"));
    assert_eq!(server.hits(), 2, "the 401 was not retried");

    for (status, path, kind) in [
        (400, "anthropic/error_400.json", ErrorKind::BadRequest),
        (403, "anthropic/error_403.json", ErrorKind::Auth),
        (404, "anthropic/error_404.json", ErrorKind::BadRequest),
        (413, "anthropic/error_413.json", ErrorKind::BadRequest),
    ] {
        let s = FakeServer::anthropic(KEY);
        s.script([Reply::fixture(status, path)]);
        let (mut p, _) = anthropic(&s);
        let err = p.complete(&request("anthropic", "claude-sonnet-4-5")).expect_err("refused");
        assert_eq!((err.kind, s.hits()), (kind, 1), "{status}: {}", err.message);
    }
    for (status, path, kind) in
        [(500, "anthropic/error_500.json", ErrorKind::Server), (504, "anthropic/error_504.json", ErrorKind::Timeout)]
    {
        let s = FakeServer::anthropic(KEY);
        s.otherwise(Reply::fixture(status, path));
        let (mut p, _) = anthropic(&s);
        let err = p.complete(&request("anthropic", "claude-sonnet-4-5")).expect_err("fails");
        assert_eq!((err.kind, s.hits()), (kind, 3), "{status}: {}", err.message);
    }
}

#[test]
fn a_server_that_never_answers_times_out() {
    let server = FakeServer::anthropic(KEY);
    server.otherwise(Reply::hang());
    let (mut p, _) = make(endpoint("anthropic", Dialect::Anthropic, server.url(), Some(KEY)), |s| s.max_retries = 1);
    let mut r = request("anthropic", "claude-sonnet-4-5");
    r.model.params.insert("timeout".into(), json!(0.2));
    let err = p.complete(&r).expect_err("times out");
    assert_eq!(err.kind, ErrorKind::Timeout);
    assert!(err.message.contains("no complete reply within 0.2 s"), "{}", err.message);
    assert_eq!(server.hits(), 2, "a timeout is retried");
    // Without a `timeout` parameter the settings' timeout (the sandbox's) applies.
    let (mut q, _) = make(endpoint("anthropic", Dialect::Anthropic, server.url(), Some(KEY)), |s| {
        s.max_retries = 0;
        s.timeout = Duration::from_millis(150);
    });
    r.model.params.remove("timeout");
    let err = q.complete(&r).expect_err("times out");
    assert!(err.message.contains("within 0.1 s") || err.message.contains("within 0.2 s"), "{}", err.message);
}

#[test]
fn a_slow_drip_is_cut_off_by_the_total_timeout() {
    let server = FakeServer::anthropic(KEY);
    server.otherwise(
        Reply::fixture(200, "anthropic/response_text_json.json").fault(Fault::Drip(8, Duration::from_millis(50))),
    );
    let (mut p, _) = make(endpoint("anthropic", Dialect::Anthropic, server.url(), Some(KEY)), |s| s.max_retries = 0);
    let mut r = request("anthropic", "claude-sonnet-4-5");
    r.model.params.insert("timeout".into(), json!(0.3));
    assert_eq!(p.complete(&r).expect_err("too slow").kind, ErrorKind::Timeout);
}

#[test]
fn replies_come_back_faithfully_for_decoding_to_judge() {
    let prose = "I think you should buy Apple.";
    let fenced = "```json\n{\"decision\": \"buy\", \"symbol\": \"AAPL\", \"quantity\": 3}\n```";
    let cases = [
        (with_text("anthropic/response_text_json.json", prose, "end_turn"), prose, "end_turn"),
        (with_text("anthropic/response_text_json.json", fenced, "end_turn"), fenced, "end_turn"),
        (
            with_text("anthropic/response_text_json.json", "I can't help with that.", "refusal"),
            "I can't help with that.",
            "refusal",
        ),
        (
            fixture("wire/anthropic/response_max_tokens_truncated.json"),
            "{\"action\": \"buy\", \"symbol\": \"AA",
            "max_tokens",
        ),
    ];
    for (body, text, stop) in cases {
        let server = FakeServer::anthropic(KEY);
        server.otherwise(Reply::json(200, body));
        let (mut p, _) = anthropic(&server);
        let reply = p.complete(&request("anthropic", "claude-sonnet-4-5")).expect("answers");
        assert_eq!((reply.text.as_str(), reply.stop_reason.as_deref()), (text, Some(stop)));
    }
    // Blocks are read in order, whatever their kinds: thinking is skipped, texts are joined.
    let server = FakeServer::anthropic(KEY);
    let mut v = wire_json("anthropic/response_text_json.json");
    v["content"] = json!([
        {"type": "thinking", "thinking": "hmm", "signature": "x"},
        {"type": "text", "text": "{\"decision\":"},
        {"type": "text", "text": " \"hold\"}"}
    ]);
    server.otherwise(Reply::json(200, v.to_string()));
    let (mut p, _) = anthropic(&server);
    assert_eq!(
        p.complete(&request("anthropic", "claude-sonnet-4-5")).expect("answers").text,
        "{\"decision\": \"hold\"}"
    );
    // A tool call's input, when there is no text.
    let server = FakeServer::anthropic(KEY);
    server.otherwise(Reply::fixture(200, "anthropic/response_tool_use.json"));
    let (mut p, _) = anthropic(&server);
    let reply = p.complete(&request("anthropic", "claude-haiku-4-5")).expect("answers");
    assert_eq!(serde_json::from_str::<J>(&reply.text).ok(), Some(json!({"action": "buy", "qty": 5})));
    assert_eq!(reply.stop_reason.as_deref(), Some("tool_use"));
}

#[test]
fn openai_gets_a_strict_schema_and_its_reply_is_read() {
    let server = FakeServer::openai(KEY);
    let (mut p, _) = openai(&server, Dialect::OpenAi);
    let reply = p.complete(&request("openai", "gpt-4o-mini")).expect("answers");
    let r = &server.received()[0];
    assert_eq!(r.path, "/v1/chat/completions");
    assert_eq!(r.header("authorization").map(str::to_string), Some(format!("Bearer {KEY}")));
    let b = r.json();
    assert_eq!(
        b["messages"],
        json!([{"role": "system", "content": "You are a trading agent."}, {"role": "user", "content": "Decide."}])
    );
    assert_eq!(b["max_completion_tokens"], json!(800));
    assert!(b.get("max_tokens").is_none());
    let f = &b["response_format"];
    assert_eq!((f["type"].as_str(), f["json_schema"]["strict"].as_bool()), (Some("json_schema"), Some(true)));
    let s = &f["json_schema"]["schema"];
    assert_eq!(s["required"], json!(["decision", "quantity", "symbol"]));
    assert_eq!(s["properties"]["symbol"]["type"], json!(["string", "null"]));
    assert_eq!(s["additionalProperties"], false);
    assert_eq!(reply.text, r#"{"action":"hold","qty":0}"#);
    assert_eq!((reply.input_tokens, reply.output_tokens), (19, 10));
    assert!((reply.cost - (19.0 * 0.15 + 10.0 * 0.6) / 1e6).abs() < 1e-12);
    // Reasoning models take no temperature.
    p.complete(&request("openai", "o3-mini")).expect("answers");
    assert!(server.received()[1].json().get("temperature").is_none());
}

#[test]
fn openai_refusals_and_truncations_are_passed_on() {
    let server = FakeServer::openai(KEY);
    server.script([
        Reply::json(200, fixture("openai/inline/test_parse_pydantic_model_refusal__1.json")),
        Reply::json(200, fixture("openai/inline/test_parse_max_tokens_reached__1.json")),
        Reply::fixture(200, "openai/response_tool_calls.json"),
    ]);
    let (mut p, _) = openai(&server, Dialect::OpenAi);
    let refusal = p.complete(&request("openai", "gpt-4o")).expect("answers");
    assert_eq!(refusal.stop_reason.as_deref(), Some("refusal"));
    assert_eq!(refusal.text, "I'm very sorry, but I can't assist with that.");
    let cut = p.complete(&request("openai", "gpt-4o")).expect("answers");
    assert_eq!((cut.text.as_str(), cut.stop_reason.as_deref()), ("{\"", Some("max_tokens")));
    let tool = p.complete(&request("openai", "gpt-4o")).expect("answers");
    assert_eq!(serde_json::from_str::<J>(&tool.text).ok(), Some(json!({"action": "buy", "qty": 3})));
}

#[test]
fn openai_quota_is_final_and_rate_limits_are_retried_within_reason() {
    let server = FakeServer::openai(KEY);
    server.script([Reply::fixture(429, "openai/error_429_insufficient_quota.json")]);
    let (mut p, timing) = openai(&server, Dialect::OpenAi);
    let err = p.complete(&request("openai", "gpt-4o")).expect_err("no quota");
    assert_eq!((err.kind, server.hits()), (ErrorKind::Quota, 1));
    assert!(err.message.contains("insufficient_quota: You exceeded your current quota"), "{}", err.message);

    server.script([Reply::fixture(429, "openai/error_429_rate_limit.json").header("retry-after-ms", "84")]);
    p.complete(&request("openai", "gpt-4o")).expect("answers after the wait");
    assert_eq!(timing.slept(), vec![Duration::from_millis(84)]);

    // OpenAI's rule: a retry-after beyond 120 s is not waited out.
    server.script([Reply::fixture(429, "openai/error_429_rate_limit.json").header("retry-after", "3600")]);
    let before = server.hits();
    let err = p.complete(&request("openai", "gpt-4o")).expect_err("gives up");
    assert_eq!((err.kind, server.hits() - before), (ErrorKind::RateLimited, 1));

    server.script([Reply::fixture(400, "openai/error_400_json_word.json")]);
    let err = p.complete(&request("openai", "gpt-4o")).expect_err("bad request");
    assert_eq!(err.kind, ErrorKind::BadRequest);

    let (mut wrong, _) =
        make(endpoint("openai", Dialect::OpenAi, format!("{}/v1", server.url()), Some("sk-other-999999")), |_| {});
    let err = wrong.complete(&request("openai", "gpt-4o")).expect_err("401");
    assert_eq!(err.kind, ErrorKind::Auth);
    assert!(err.message.contains("invalid_request_error: Incorrect API key provided: sk-****"), "{}", err.message);
}

#[test]
fn ollama_gets_its_own_dialect_and_its_errors_are_read() {
    let server = FakeServer::ollama();
    let (mut p, _) = openai(&server, Dialect::Ollama);
    let reply = p.complete(&request("openai", "qwen3:8b")).expect("answers");
    assert_eq!(reply.text, r#"{"action":"hold","qty":0}"#);
    assert_eq!((reply.input_tokens, reply.output_tokens, reply.cost), (31, 12, 0.0));
    assert!(p.notes().iter().any(|n| n.contains("local server")), "{:?}", p.notes());
    let r = &server.received()[0];
    assert_eq!(r.header("authorization"), None, "no key, no header");
    let b = r.json();
    assert_eq!(b["max_tokens"], json!(800));
    assert!(b.get("max_completion_tokens").is_none());
    assert_eq!(b["response_format"]["json_schema"]["schema"]["required"], json!(["decision"]), "the schema as it is");
    assert!(b["response_format"]["json_schema"].get("strict").is_none());

    server.script([Reply::fixture(404, "ollama/error_404_model.json")]);
    let err = p.complete(&request("openai", "qwen3:8b")).expect_err("not pulled");
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert!(
        err.message.contains("not_found_error: model \"qwen3:8b\" not found, try pulling it first"),
        "{}",
        err.message
    );

    let busy = || Reply::fixture(503, "ollama/error_503_busy.json");
    server.script([busy(), busy(), busy()]);
    let before = server.hits();
    let err = p.complete(&request("openai", "qwen3:8b")).expect_err("busy");
    assert_eq!((err.kind, server.hits() - before), (ErrorKind::Overloaded, 3));
    assert!(err.message.contains("server busy"), "{}", err.message);
}

#[test]
fn llamacpp_and_vllm_error_envelopes_are_read() {
    let server = FakeServer::start(Kind::Ollama, Reply::fixture(200, "ollama/response_chat.json"));
    server.script([Reply::fixture(503, "llamacpp/error_503_loading.json")]);
    let (mut p, timing) = openai(&server, Dialect::LlamaCpp);
    p.complete(&request("openai", "local")).expect("answers once loaded");
    assert_eq!(timing.slept().len(), 1);

    server.script([Reply::fixture(404, "vllm/error_404_legacy.json")]);
    let (mut v, _) = openai(&server, Dialect::Vllm);
    let err = v.complete(&request("openai", "first")).expect_err("no such model");
    assert_eq!(err.kind, ErrorKind::BadRequest);
    assert!(err.message.contains("NotFoundError: The model `first` does not exist."), "{}", err.message);

    server.script([Reply::json(500, r#"{"error": "plain string error"}"#)]);
    let (mut q, _) =
        make(endpoint("openai", Dialect::Vllm, format!("{}/v1", server.url()), None), |s| s.max_retries = 0);
    let err = q.complete(&request("openai", "first")).expect_err("fails");
    assert!(err.message.contains("plain string error"), "{}", err.message);
}

#[test]
fn the_circuit_breaker_fails_fast_and_probes_after_its_cooldown() {
    let server = FakeServer::anthropic(KEY);
    let fail = || Reply::fixture(500, "anthropic/error_500.json");
    server.script([fail(), fail()]);
    let (mut p, timing) = make(endpoint("anthropic", Dialect::Anthropic, server.url(), Some(KEY)), |s| {
        s.max_retries = 0;
        s.breaker_failures = 2;
        s.breaker_cooldown = Duration::from_secs(10);
    });
    let r = request("anthropic", "claude-sonnet-4-5");
    assert_eq!(p.complete(&r).expect_err("500").kind, ErrorKind::Server);
    assert_eq!(p.complete(&r).expect_err("500").kind, ErrorKind::Server);
    let fast = p.complete(&r).expect_err("open");
    assert_eq!(fast.kind, ErrorKind::Overloaded);
    assert!(fast.message.contains("circuit breaker is open"), "{}", fast.message);
    assert_eq!(server.hits(), 2, "an open breaker makes no call");
    assert!(p.notes().iter().any(|n| n.contains("circuit breaker opened after 2")), "{:?}", p.notes());
    timing.advance(Duration::from_secs(10));
    p.complete(&r).expect("the probe answers");
    p.complete(&r).expect("closed again");
    assert_eq!(server.hits(), 4);
}

#[test]
fn garbage_bodies_and_broken_connections_are_errors_not_panics() {
    let bodies: Vec<(u16, &str, Vec<u8>)> = vec![
        (200, "text/html", b"<html><body>502 Bad Gateway</body></html>".to_vec()),
        (200, "application/json", b"{\"content\": [{\"type\": \"text\", \"text\": \"trunc".to_vec()),
        (200, "application/json", Vec::new()),
        (200, "application/json", b"null".to_vec()),
        (200, "application/json", b"[]".to_vec()),
        (200, "application/json", b"{\"content\": \"not a list\"}".to_vec()),
        (200, "application/json", b"{\"choices\": []}".to_vec()),
        (200, "application/octet-stream", vec![0xff, 0xfe, 0x00, 0x9f]),
        (200, "application/json", b"{\"type\": \"error\", \"error\": {\"type\": \"api_error\"}}".to_vec()),
        (500, "text/html", b"<html>500 Internal Server Error</html>".to_vec()),
        (529, "application/json", b"{\"error\": 5}".to_vec()),
        (418, "text/plain", "\u{1F600} I'm a teapot".as_bytes().to_vec()),
        (302, "text/plain", b"moved".to_vec()),
    ];
    for dialect in [Dialect::Anthropic, Dialect::OpenAi, Dialect::Ollama] {
        for (status, ct, body) in &bodies {
            let server = FakeServer::start(Kind::Ollama, Reply::raw(*status, ct, body.clone()));
            let (mut p, _) =
                make(endpoint("x", dialect, format!("{}/v1", server.url()), Some(KEY)), |s| s.max_retries = 1);
            let out = p.complete(&request("x", "m"));
            let err = out.expect_err("garbage is an error");
            assert!(!err.message.is_empty());
            let retried = server.hits() == 2;
            assert_eq!(retried, *status >= 500, "{dialect:?} {status}: {}", err.message);
        }
        // The connection breaks in the middle of the body.
        let server = FakeServer::start(
            Kind::Ollama,
            Reply::fixture(200, "anthropic/response_text_json.json").fault(Fault::DropAfter(40)),
        );
        let (mut p, _) = make(endpoint("x", dialect, format!("{}/v1", server.url()), Some(KEY)), |s| s.max_retries = 1);
        let err = p.complete(&request("x", "m")).expect_err("broken");
        assert_eq!((err.kind, server.hits()), (ErrorKind::Transport, 2), "{}", err.message);
    }
    // Nothing listens there.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let (mut p, _) =
        make(endpoint("anthropic", Dialect::Anthropic, format!("http://127.0.0.1:{port}"), Some(KEY)), |s| {
            s.max_retries = 0
        });
    let err = p.complete(&request("anthropic", "m")).expect_err("refused");
    assert_eq!(err.kind, ErrorKind::Transport);
    assert!(err.message.contains("cannot connect"), "{}", err.message);
}

#[test]
fn a_batch_runs_concurrently_within_its_bound_and_keeps_the_order() {
    let server = FakeServer::ollama();
    server.otherwise(Reply::fixture(200, "ollama/response_chat.json").delay(Duration::from_millis(40)));
    server.script([Reply::fixture(404, "ollama/error_404_model.json")]);
    let (mut p, _) = make(endpoint("openai", Dialect::Ollama, format!("{}/v1", server.url()), None), |s| {
        s.concurrency = 4;
    });
    let requests: Vec<LlmRequest> = (0..16)
        .map(|i| {
            let mut r = request("openai", "qwen3:8b");
            r.prompt = format!("call {i}");
            r
        })
        .collect();
    let out = p.complete_all(&requests);
    assert_eq!(out.len(), 16);
    let failed: Vec<usize> = out.iter().enumerate().filter(|(_, r)| r.is_err()).map(|(i, _)| i).collect();
    assert_eq!(failed.len(), 1, "the one 404");
    assert!(out.iter().flatten().all(|r: &LlmReply| r.text == r#"{"action":"hold","qty":0}"#));
    assert_eq!(server.hits(), 16);
    let most = server.max_in_flight();
    assert!((2..=4).contains(&most), "at most 4 in flight, and more than one: {most}");
}

#[test]
fn a_key_echoed_by_the_server_never_comes_out() {
    let server = FakeServer::anthropic(KEY);
    let echo = format!(r#"{{"type":"error","error":{{"type":"invalid_request_error","message":"bad key {KEY}"}}}}"#);
    server.script([Reply::json(400, echo)]);
    let reply = with_text("anthropic/response_text_json.json", &format!("your key is {KEY}"), "end_turn");
    server.script([Reply::json(200, reply)]);
    let (mut p, _) = anthropic(&server);
    let err = p.complete(&request("anthropic", "claude-sonnet-4-5")).expect_err("400");
    assert!(!err.message.contains(KEY) && err.message.contains("bad key ***"), "{}", err.message);
    let ok = p.complete(&request("anthropic", "claude-sonnet-4-5")).expect("answers");
    assert_eq!(ok.text, "your key is ***");
    assert!(!format!("{:?}", p.endpoint()).contains(KEY));
}

#[test]
fn the_router_sends_each_model_to_its_provider_and_falls_back_only_when_allowed() {
    let server = FakeServer::anthropic(KEY);
    let mut s = Settings::default();
    s.endpoints.insert("anthropic".into(), endpoint("anthropic", Dialect::Anthropic, server.url(), Some(KEY)));
    s.endpoints.insert("openai".into(), endpoint("openai", Dialect::OpenAi, "http://127.0.0.1:9/v1".into(), None));
    let timing = ManualTiming::new();
    let mut router = Router::new(&s, timing.clone(), true).expect("router");
    assert!(router.is_live("anthropic") && !router.is_live("openai"));
    let label = router.label();
    assert!(label.starts_with("anthropic (Anthropic Messages API at http://127.0.0.1:"), "{label}");
    assert!(label.ends_with("offline stand-in (rule-based, not a model) for openai (no OPENAI_API_KEY)"), "{label}");
    let live = router.complete(&request("anthropic", "claude-sonnet-4-5")).expect("answers");
    assert_eq!(live.model, "claude-sonnet-4-5-20250929");
    let stand_in = router.complete(&request("openai", "gpt-4o")).expect("the stand-in answers");
    assert_eq!(stand_in.model, strat_engine::offline::LABEL);
    assert_eq!(server.hits(), 1);
    let notes = router.notes();
    assert!(
        notes.iter().any(|n| n.contains("openai (no OPENAI_API_KEY)") && n.contains("Dip (openai gpt-4o)")),
        "{notes:?}"
    );
    // Only the providers the program uses are named; with none live it is the stand-in alone.
    let only_openai = Router::new(&s, timing.clone(), true).expect("router").using(["openai".to_string()]);
    assert_eq!(only_openai.label(), strat_engine::offline::LABEL);

    let mut strict = Router::new(&s, timing, false).expect("router");
    let err = strict.complete(&request("openai", "gpt-4o")).expect_err("no key, no fallback");
    assert_eq!(err.kind, ErrorKind::Unavailable);
    assert!(err.message.contains("agent Dip asks openai gpt-4o, which has no OPENAI_API_KEY"), "{}", err.message);
    let batch = strict.complete_all(&[request("openai", "gpt-4o"), request("anthropic", "claude-sonnet-4-5")]);
    assert!(batch[0].is_err() && batch[1].is_ok());
}
