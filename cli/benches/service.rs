//! The service under load, and `strat log` on a long run.
//!
//! 1. `strat serve` with 100 agents on a simulated minute feed: mixed reads of the API at
//!    1,000 requests a second for 30 s, sent on schedule whatever the answers' pace (an open
//!    loop, so a slow answer cannot hide the ones that queue behind it); latency percentiles.
//! 2. Signed webhooks into the same service, 200 a second for 10 s: each verified, journaled
//!    (a durable commit) and acknowledged; latency percentiles.
//! 3. `strat log` on a store of 1,000,000 executions: the time until its first page (50 lines)
//!    is printed.
//!
//! Run with `cargo bench -p strat-cli --bench service`.
#![allow(clippy::disallowed_methods)] // a benchmark writes files, reads the clock and runs the binary

use std::io::BufRead;
use std::path::Path;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const EXE: &str = env!("CARGO_BIN_EXE_strat");
const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

fn source() -> String {
    let mut s = String::from(
        "universe tech = [AAPL, MSFT, GOOGL, AMZN, META]\nlimits l {\n  max_position $5_000\n  allow tech\n}\nmodel m = anthropic(\"claude-sonnet-4-5\", temperature: 0)\n",
    );
    for i in 0..100 {
        s.push_str(&format!(
            "agent A{i} {{\n  model m\n  limits l\n  context indicators(tech), portfolio\n  prompt \"RSI of {{{{trigger.symbol}}}} is {{{{rsi(trigger.symbol, 14)}}}}\"\n  on rsi(tech, 14) < {} throttle 1 per 1h\n}}\n",
            20 + i % 15
        ));
    }
    s.push_str("agent Hook {\n  model m\n  limits l\n  prompt \"an alert: {{trigger.payload.signal}}\"\n  on webhook \"/bench\" secret env(\"BENCH_SECRET\") payload { symbol: symbol, signal: buy | sell }\n     throttle 100000 per 1m\n}\n");
    s
}

fn percentiles(name: &str, mut ms: Vec<f64>, wall: Duration, errors: usize) {
    ms.sort_by(f64::total_cmp);
    let at =
        |p: f64| ms.get(((ms.len() as f64 * p) as usize).min(ms.len().saturating_sub(1))).copied().unwrap_or(f64::NAN);
    println!(
        "{name}: {} answered in {:.1} s ({:.0}/s), {errors} errors; p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms",
        ms.len(),
        wall.as_secs_f64(),
        ms.len() as f64 / wall.as_secs_f64(),
        at(0.5),
        at(0.9),
        at(0.99),
        ms.last().copied().unwrap_or(f64::NAN)
    );
}

/// Sends `per_second` requests a second for `secs`, each made by `make(n)`; the latencies.
fn open_loop(per_second: u64, secs: u64, make: impl Fn(u64) -> reqwest::RequestBuilder) -> (Vec<f64>, Duration, usize) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    runtime.block_on(async {
        let total = per_second * secs;
        let begun = Instant::now();
        let mut tasks = Vec::with_capacity(total as usize);
        for n in 0..total {
            let due = begun + Duration::from_micros(n * 1_000_000 / per_second);
            tokio::time::sleep_until(due.into()).await;
            let request = make(n);
            tasks.push(tokio::spawn(async move {
                let sent = Instant::now();
                let ok = match request.send().await {
                    Ok(r) => r.status().is_success() && r.bytes().await.is_ok(),
                    Err(_) => false,
                };
                (sent.elapsed().as_secs_f64() * 1e3, ok)
            }));
        }
        let (mut ms, mut errors) = (Vec::new(), 0);
        for t in tasks {
            match t.await {
                Ok((m, true)) => ms.push(m),
                _ => errors += 1,
            }
        }
        (ms, begun.elapsed(), errors)
    })
}

fn service(dir: &Path) {
    let file = dir.join("many.strat");
    std::fs::write(&file, source()).expect("write");
    let home = dir.join("home-serve");
    let mut child = Command::new(EXE)
        .args([
            "serve",
            &file.to_string_lossy(),
            "--bar-minutes",
            "1",
            "--days",
            "60",
            "--speed",
            "10",
            "--listen",
            "127.0.0.1:0",
        ])
        .env("STRAT_HOME", &home)
        .env("BENCH_SECRET", SECRET)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve");
    let begun = Instant::now();
    let address = loop {
        if let Some(v) = std::fs::read(home.join("service.json"))
            .ok()
            .and_then(|b| serde_json::from_slice::<serde_json::Value>(&b).ok())
        {
            break v["address"].as_str().unwrap_or_default().to_string();
        }
        let ended = child.try_wait().ok().flatten();
        assert!(
            ended.is_none() && begun.elapsed() < Duration::from_secs(60),
            "the service did not start ({ended:?}): `strat check` the file in {}",
            dir.display()
        );
        std::thread::sleep(Duration::from_millis(20));
    };
    println!("strat serve with 100 agents started in {:.2} s", begun.elapsed().as_secs_f64());
    let token = std::fs::read_to_string(home.join("token")).expect("token").trim().to_string();
    std::thread::sleep(Duration::from_secs(3));
    let client = reqwest::Client::new();
    let paths = [
        "/api/v1/status",
        "/api/v1/agents",
        "/api/v1/executions?limit=50",
        "/api/v1/runs",
        "/api/v1/orders",
        "/api/v1/positions",
        "/api/v1/triggers",
        "/api/v1/executions/1",
        "/api/v1/agents/A7",
    ];
    let (ms, wall, errors) = open_loop(1000, 30, |n| {
        client.get(format!("http://{address}{}", paths[n as usize % paths.len()])).bearer_auth(&token)
    });
    percentiles("API, mixed reads at 1,000/s for 30 s", ms, wall, errors);
    let secret = strat_service::signature::Secret::parse(SECRET).expect("secret");
    let body = br#"{"symbol":"AAPL","signal":"buy"}"#;
    let (ms, wall, errors) = open_loop(200, 10, |n| {
        let ts = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        let id = format!("bench-{n}");
        let sig = strat_service::signature::sign(&secret, &id, ts, body);
        client
            .post(format!("http://{address}/api/v1/webhooks/bench"))
            .header("webhook-id", id)
            .header("webhook-timestamp", ts.to_string())
            .header("webhook-signature", sig)
            .body(body.to_vec())
    });
    percentiles("webhooks, signed, journaled and acknowledged at 200/s for 10 s", ms, wall, errors);
    let _ = child.kill();
    let _ = child.wait();
}

fn long_log(dir: &Path) {
    use strat_engine::store::{StepView, Store};
    let home = dir.join("home-log");
    std::fs::create_dir_all(&home).expect("home");
    let built = Instant::now();
    {
        let mut store = strat_store::RedbStore::open(&home.join("store.redb")).expect("store");
        let run = store.begin_run("long.strat", "h", "bench", "2024-01-02 09:30:00").expect("run");
        let start =
            chrono::NaiveDate::from_ymd_opt(2024, 1, 2).and_then(|d| d.and_hms_opt(9, 30, 0)).unwrap_or_default();
        let mut id = 0;
        for step in 0..1000 {
            let time = start + chrono::Duration::minutes(step);
            let executions: Vec<_> = (0..1000)
                .map(|_| {
                    id += 1;
                    let trigger = strat_engine::report::TriggerRecord {
                        kind: "condition".into(),
                        text: "rsi(AAPL, 14) < 30".into(),
                        symbol: Some("AAPL".into()),
                        reason: format!("rsi(AAPL, 14) < 30 fired for AAPL at {time}"),
                        firing: None,
                    };
                    let mut e = strat_engine::report::Execution::of_operator(id, time, trigger, Vec::new());
                    e.graph = format!("A{}", id % 100);
                    e
                })
                .collect();
            let view = StepView {
                time,
                index: step as usize + 1,
                total: None,
                equity: 100_000.0,
                log: &[],
                orders: &[],
                executions: &executions,
                prompts: &[],
                positions: None,
                reported: &[],
                bars: &[],
                control: None,
                triggered: &[],
            };
            store.record_step(run, &view).expect("step");
        }
        store.finish_run(run, "finished", 100_000.0).expect("finish");
    }
    println!("a store of 1,000,000 executions built in {:.1} s", built.elapsed().as_secs_f64());
    for format in ["human", "json"] {
        let begun = Instant::now();
        let mut child = Command::new(EXE)
            .args(["log", "--format", format])
            .env("STRAT_HOME", &home)
            .stdout(Stdio::piped())
            .spawn()
            .expect("log");
        let mut lines = std::io::BufReader::new(child.stdout.take().expect("stdout"));
        let mut page = Vec::new();
        let mut buf = Vec::new();
        while page.len() < 50 {
            buf.clear();
            // The JSON comes as one line: its first 50 executions are its first 50 `},{`.
            let n = if format == "json" { lines.read_until(b'}', &mut buf) } else { lines.read_until(b'\n', &mut buf) };
            if n.unwrap_or(0) == 0 {
                break;
            }
            page.push(());
        }
        let first = begun.elapsed();
        // Closing the pipe ends it as `| head` does (a write that fails ends it cleanly, so the
        // store is closed cleanly too: a killed reader would leave the next one a repair).
        drop(lines);
        let _ = child.wait();
        println!(
            "strat log --format {format} on 1,000,000 executions: its first page in {:.1} ms",
            first.as_secs_f64() * 1e3
        );
    }
}

fn main() {
    let dir = std::env::temp_dir().join(format!("strat-bench-service-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    if std::env::args().all(|a| a != "--log-only") {
        service(&dir);
    }
    long_log(&dir);
    if std::env::args().all(|a| a != "--keep") {
        let _ = std::fs::remove_dir_all(&dir);
    }
}
