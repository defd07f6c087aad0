//! The model providers' own cost, the model's time excluded, and batches against a slow model.
//!
//! 1. In process, per call: building the request body (structured-output schema included),
//!    serialising it, and reading a reply (Anthropic and OpenAI), with no network.
//! 2. Per call against a fake provider on loopback that answers at once: everything the
//!    provider does plus a local HTTP round trip (an upper bound on the overhead of a model
//!    node).
//! 3. 1,000 calls in one batch (`complete_all`) against a fake provider that takes 100 ms per
//!    call, at several concurrency settings, against the ideal ⌈1000 / c⌉ × 100 ms.
//! 4. 1,000 agent executions through the engine: a program of 1,000 agents that all fire on
//!    the same bar of a backtest, against the same slow fake provider. The engine sends the
//!    first call of every execution of a step as one batch, so the run should take what the
//!    configured concurrency allows, plus the backtest itself.
//!
//! Run with `cargo bench -p strat-models --bench providers`.
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock

use serde_json::json;
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::time::{Duration, Instant};
use strat_engine::llm::{Llm, LlmRequest, ModelSpec};
use strat_fakes::{FakeServer, Reply};
use strat_models::openai::OpenAi;
use strat_models::{Dialect, Endpoint, Provider, Secret, Settings, Timing, anthropic, tokio_sleep, wire};

struct Real(Instant);

impl Timing for Real {
    fn now_ms(&self) -> u64 {
        self.0.elapsed().as_millis() as u64
    }
    fn sleep(&self, d: Duration) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        tokio_sleep(d)
    }
}

fn request(provider: &str, model: &str, i: usize) -> LlmRequest {
    let decision = strat_lang::lower::default_decision();
    LlmRequest {
        agent: "Bench".into(),
        model: ModelSpec {
            name: "m".into(),
            provider: provider.into(),
            model: model.into(),
            params: BTreeMap::from([("max_tokens".into(), json!(1024.0)), ("temperature".into(), json!(0.0))]),
        },
        system: strat_stdlib::DEFAULT_SYSTEM_PROMPT.into(),
        // About the size of a real final prompt: strategy, a context of five symbols, schema.
        prompt: format!("YOUR STRATEGY:\nbuy dips, call {i}\n\nCURRENT MARKET DATA:\n{}", "x".repeat(3000)),
        context: json!({}),
        account: json!({}),
        schema: strat_engine::decode::schema(&decision),
        cached_prefix: None,
    }
}

fn provider(server: &FakeServer, dialect: Dialect, concurrency: usize) -> Provider {
    let base = if dialect == Dialect::Anthropic { server.url() } else { format!("{}/v1", server.url()) };
    let e =
        Endpoint { provider: "p".into(), dialect, base_url: base, key: Some(Secret::new("sk-bench")), key_name: None };
    let s = Settings { concurrency, ..Settings::default() };
    Provider::new(e, wire(dialect), &s, Arc::new(Real(Instant::now()))).expect("provider")
}

fn per_call(n: usize, mut f: impl FnMut(usize)) -> Duration {
    (0..5)
        .map(|_| {
            let s = Instant::now();
            for i in 0..n {
                f(i);
            }
            s.elapsed() / n as u32
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    let areq = request("anthropic", "claude-sonnet-4-5", 0);
    let oreq = request("openai", "gpt-4o", 0);
    let abody = strat_fakes::fixture("wire/anthropic/response_text_json.json");
    let obody = strat_fakes::fixture("wire/openai/response_chat.json");
    let o = OpenAi { dialect: Dialect::OpenAi };
    let a_in = per_call(20_000, |_| {
        let b = serde_json::to_vec(&anthropic::body(black_box(&areq))).unwrap_or_default();
        black_box(anthropic::parse(&areq, black_box(abody.as_bytes())).ok());
        black_box(b);
    });
    let o_in = per_call(20_000, |_| {
        let b = serde_json::to_vec(&o.body(black_box(&oreq))).unwrap_or_default();
        black_box(o.parse(&oreq, black_box(obody.as_bytes())).ok());
        black_box(b);
    });
    println!("in process, body + serialise + read reply: anthropic {a_in:?}/call, openai {o_in:?}/call");

    let server = FakeServer::anthropic("sk-bench");
    let mut p = provider(&server, Dialect::Anthropic, 8);
    let _ = p.complete(&areq);
    let rt = per_call(500, |i| {
        black_box(p.complete(&request("anthropic", "claude-sonnet-4-5", i)).ok());
    });
    println!("loopback round trip, answered at once: anthropic {rt:?}/call");
    let server = FakeServer::openai("sk-bench");
    let mut p = provider(&server, Dialect::OpenAi, 8);
    let rt = per_call(500, |i| {
        black_box(p.complete(&request("openai", "gpt-4o", i)).ok());
    });
    println!("loopback round trip, answered at once: openai {rt:?}/call");

    let slow = FakeServer::anthropic("sk-bench");
    slow.otherwise(Reply::fixture(200, "anthropic/response_text_json.json").delay(Duration::from_millis(100)));
    let batch: Vec<LlmRequest> = (0..1000).map(|i| request("anthropic", "claude-sonnet-4-5", i)).collect();
    println!("1,000 calls in one batch, 100 ms per call:");
    for c in [8usize, 64, 256] {
        let mut p = provider(&slow, Dialect::Anthropic, c);
        let s = Instant::now();
        let out = p.complete_all(&batch);
        let took = s.elapsed();
        let ok = out.iter().filter(|r| r.is_ok()).count();
        let ideal = Duration::from_millis(100 * 1000usize.div_ceil(c) as u64);
        println!(
            "  concurrency {c:>3}: {:.2} s (ideal {:.2} s, {:.0}% of it), {ok}/1000 answered, at most {} in flight",
            took.as_secs_f64(),
            ideal.as_secs_f64(),
            100.0 * ideal.as_secs_f64() / took.as_secs_f64(),
            slow.max_in_flight()
        );
    }

    let data = falling_market();
    let program = thousand_agents();
    println!("1,000 agent executions through the engine, 100 ms per call:");
    for c in [64usize, 256] {
        let mut p = provider(&slow, Dialect::Anthropic, c);
        let s = Instant::now();
        let r = strat_engine::engine::backtest_with(
            &program,
            &data,
            &strat_engine::engine::Config::default(),
            &mut p,
            &mut strat_engine::engine::Quiet,
        )
        .expect("runs");
        let took = s.elapsed();
        let answered = r.executions.iter().filter(|e| e.llm_response.is_some()).count();
        let ideal = Duration::from_millis(100 * 1000usize.div_ceil(c) as u64);
        println!(
            "  concurrency {c:>3}: {:.2} s (ideal {:.2} s, {:.0}% of it), {} executions, {answered} answered",
            took.as_secs_f64(),
            ideal.as_secs_f64(),
            100.0 * ideal.as_secs_f64() / took.as_secs_f64(),
            r.executions.len(),
        );
    }
}

/// Twenty daily bars of SPY falling a dollar a day from $100.
fn falling_market() -> BTreeMap<String, Vec<strat_engine::market::Bar>> {
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
    let bars = (0..20)
        .map(|i| {
            let c = 100.0 - f64::from(i);
            strat_engine::market::Bar {
                time: start + chrono::Duration::days(i64::from(i)),
                open: c,
                high: c,
                low: c,
                close: c,
                volume: 1_000.0,
            }
        })
        .collect();
    BTreeMap::from([("SPY".to_string(), bars)])
}

/// 1,000 agents that all fire once, on the bar SPY first closes under $90.
fn thousand_agents() -> strat_lang::ir::Program {
    let mut src = String::from("limits { max_position $50_000 }\nmodel claude = anthropic(\"claude-sonnet-4-5\")\n");
    for i in 0..1000 {
        src.push_str(&format!(
            "agent A{i} {{ model claude  context indicators(SPY)  prompt \"buy the dip\"  on price(SPY) < $90 throttle 1 per 30d }}\n"
        ));
    }
    let mut ws = strat_lang::Workspace::new();
    let id = ws.set_file("agents.strat", src.into_bytes());
    let c = ws.compile(&[id]);
    c.program.unwrap_or_else(|| panic!("{:?}", c.diagnostics))
}
