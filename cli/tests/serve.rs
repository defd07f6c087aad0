//! `strat serve` through real HTTP: the token, the routes of its OpenAPI document, the store
//! read while the run writes it, and a clean stop on SIGTERM.
#![allow(clippy::disallowed_methods)] // the tests read the files the service writes

mod common;
use common::served::{home, serve, spawn};
use serde_json::Value;

const QUICK: &[&str] = &["examples/dip_buyer.strat", "--speed", "0", "--days", "60"];

/// The service of `QUICK`, once its run has ended (so the store holds all of it).
fn finished(tag: &str) -> common::served::Served {
    let s = serve(&home(tag), QUICK);
    s.wait_for("/api/v1/runs/1", |r| r["status"] == "finished");
    s
}

#[test]
fn every_request_needs_the_token_and_a_wrong_one_is_refused() {
    let s = finished("token");
    let (status, body) = s.get("/api/v1/status");
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["run"], 1);
    assert!(body["broker"].as_str().is_some_and(|b| b.contains("paper")), "{body}");
    for token in [None, Some(""), Some("0".repeat(64).as_str()), Some(&s.token[..63])] {
        let (status, body) = s.get_as("/api/v1/runs", token);
        assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthorized")), "{token:?}: {body}");
    }
    let (status, _) =
        s.send(s.client().get(s.url("/api/v1/runs")).header("authorization", format!("Basic {}", s.token)));
    assert_eq!(status, 401, "only a bearer token is taken");
}

#[test]
fn the_token_file_is_private_and_a_rotation_refuses_the_old_token_at_once() {
    let s = finished("rotate");
    let mode =
        std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(s.home.join("token")).expect("token").permissions());
    assert_eq!(mode & 0o777, 0o600);
    let old = s.token.clone();
    let rotated = common::strat().env("STRAT_HOME", &s.home).args(["token", "--rotate"]).output().expect("runs");
    assert_eq!(rotated.status.code(), Some(0));
    let new = String::from_utf8_lossy(&rotated.stdout).trim().to_string();
    assert_ne!(new, old);
    assert_eq!(s.get_as("/api/v1/status", Some(&old)).0, 401, "the old token no longer opens anything");
    assert_eq!(s.get_as("/api/v1/status", Some(&new)).0, 200);
    let printed = common::strat().env("STRAT_HOME", &s.home).arg("token").output().expect("runs");
    assert_eq!(String::from_utf8_lossy(&printed.stdout).trim(), new);
    // A token others may read is no secret: refused until rotated.
    std::fs::set_permissions(s.home.join("token"), std::os::unix::fs::PermissionsExt::from_mode(0o644)).expect("chmod");
    assert_eq!(s.get_as("/api/v1/status", Some(&new)).0, 401, "the exposed token opens nothing");
    let exposed = common::strat().env("STRAT_HOME", &s.home).arg("token").output().expect("runs");
    assert_eq!(exposed.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&exposed.stderr).contains("may be read by others (mode 644)"), "{exposed:?}");
    let rotated = common::strat().env("STRAT_HOME", &s.home).args(["token", "--rotate"]).output().expect("runs");
    let newer = String::from_utf8_lossy(&rotated.stdout).trim().to_string();
    assert_eq!(s.get_as("/api/v1/status", Some(&newer)).0, 200);
}

/// The document's path with each parameter filled in from what the run made.
fn filled(path: &str, agent: &str) -> String {
    path.replace("{id}", "1").replace("{name}", agent)
}

#[test]
fn every_route_of_the_openapi_document_answers_and_nothing_else_does() {
    let s = finished("openapi");
    let (status, doc) = s.get("/api/v1/openapi.json");
    assert_eq!(status, 200);
    assert_eq!(doc["openapi"], "3.1.0");
    let paths = doc["paths"].as_object().expect("paths");
    assert!(paths.len() >= 12, "{}", paths.len());
    let mut ids = std::collections::BTreeSet::new();
    for (path, ops) in paths {
        for (method, op) in ops.as_object().expect("operations") {
            assert!(ids.insert(op["operationId"].as_str().expect("id").to_string()), "{path}: the id is unique");
            let public = op["security"] == serde_json::json!([]);
            if method == "get" {
                let (status, body) = s.get(&filled(path, "DipBuyer"));
                // This run took no firing from outside: its handler answers that there is none.
                let none =
                    path.contains("firings") && status == 404 && body["error"]["message"] == "there is no firing 1";
                assert!(status == 200 || none, "{path}: {status} {body}");
                assert_eq!(s.get_as(&filled(path, "DipBuyer"), None).0, 401, "{path} needs the token");
                continue;
            }
            assert_eq!(method, "post", "{path}");
            // What the route names does not exist: the route's own handler says so.
            let absent = path.replace("{id}", "Nobody.9").replace("{name}", "Nobody").replace("{path}", "nowhere");
            let unauthenticated = s.send(s.client().post(s.url(&absent)));
            if public {
                assert_eq!(unauthenticated.0, 404, "{path} takes no token: {}", unauthenticated.1);
            } else {
                assert_eq!(unauthenticated.0, 401, "{path} needs the token");
            }
            if absent.contains("Nobody") || absent.contains("nowhere") {
                let (status, body) = s.post(&absent, Vec::new());
                let message = body["error"]["message"].as_str().unwrap_or_default().to_string();
                assert_eq!(status, 404, "{path}: {body}");
                assert!(!message.contains("openapi.json"), "{path} is routed: {message}");
            }
        }
    }
    let (status, body) = s.get("/api/v1/nothing");
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")), "{body}");
    assert_eq!(s.get("/api/v1/runs/999").0, 404);
    assert_eq!(s.get("/api/v1/agents/Nobody").0, 404);
    let (status, body) = s.get("/api/v1/runs/abc");
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("bad_request")), "{body}");
}

#[test]
fn executions_come_in_pages_that_add_up_to_the_whole_run_and_filters_narrow_them() {
    let s = finished("pages");
    let (_, all) = s.get("/api/v1/executions?limit=1000");
    let whole: Vec<Value> = all["executions"].as_array().expect("executions").clone();
    assert!(whole.len() > 3, "{}", whole.len());
    assert!(all["next"].is_null());
    let mut paged = Vec::new();
    let mut after = None::<u64>;
    loop {
        let path = match after {
            Some(a) => format!("/api/v1/executions?limit=2&after={a}"),
            None => "/api/v1/executions?limit=2".to_string(),
        };
        let (status, page) = s.get(&path);
        assert_eq!(status, 200, "{page}");
        let items = page["executions"].as_array().expect("executions");
        assert!(items.len() <= 2);
        paged.extend(items.iter().cloned());
        match page["next"].as_u64() {
            Some(n) => after = Some(n),
            None => break,
        }
    }
    assert_eq!(paged, whole, "the pages hold every execution once, in order");
    let symbol = whole[0]["trigger"]["symbol"].as_str().expect("a symbol").to_string();
    let (_, only) = s.get(&format!("/api/v1/executions?symbol={symbol}&status=success&limit=1000"));
    let only = only["executions"].as_array().expect("executions");
    assert!(!only.is_empty());
    assert!(only.iter().all(|e| e["trigger"]["symbol"] == symbol.as_str() && e["status"] == "success"));
    let expected =
        whole.iter().filter(|e| e["trigger"]["symbol"] == symbol.as_str() && e["status"] == "success").count();
    assert_eq!(only.len(), expected);
    for bad in ["status=won", "limit=0", "limit=5000", "from=yesterday", "colour=blue"] {
        let (status, body) = s.get(&format!("/api/v1/executions?{bad}"));
        assert_eq!((status, body["error"]["code"].as_str()), (400, Some("bad_request")), "{bad}: {body}");
    }
}

#[test]
fn one_execution_is_shown_whole_with_its_prompts_and_gate_checks() {
    let s = finished("whole");
    let (status, e) = s.get("/api/v1/executions/1");
    assert_eq!(status, 200, "{e}");
    for key in
        ["trigger", "context", "prompt", "llm_response", "decision", "validation", "orders", "duration_ms", "cost"]
    {
        assert!(!e[key].is_null(), "{key} is missing: {e}");
    }
    assert!(e["prompt_text"]["system"].as_str().is_some_and(|t| !t.is_empty()), "{e}");
    assert!(e["validation"][0]["checks"].as_array().is_some_and(|c| !c.is_empty()), "{e}");
    assert_eq!(s.get("/api/v1/executions/100000").0, 404);
}

#[test]
fn an_agents_performance_adds_up_its_executions_orders_and_trades() {
    let s = finished("performance");
    let (_, agents) = s.get("/api/v1/agents");
    let agent = &agents["agents"][0];
    assert_eq!(agent["status"], "active");
    assert!(agent["triggers"][0]["text"].as_str().is_some_and(|t| t.contains("change(")), "{agent}");
    let name = agent["name"].as_str().expect("a name");
    let (_, whole) = s.get(&format!("/api/v1/agents/{name}/performance"));
    let (_, all) = s.get("/api/v1/executions?limit=1000");
    let p = &whole["performance"];
    let mine: Vec<&Value> =
        all["executions"].as_array().expect("executions").iter().filter(|e| e["graph"] == name).collect();
    assert_eq!(p["total_executions"], mine.len() as u64);
    let last = mine.last().and_then(|e| e["time"].as_str()).map(|t| t.replacen('T', " ", 1));
    assert_eq!(agent["triggers"][0]["last_triggered_at"].as_str().map(str::to_string), last, "when it last fired");
    let report: Value =
        serde_json::from_slice(&std::fs::read(s.home.join("runs/dip_buyer-1.json")).expect("report")).expect("json");
    let stats = &report["stats"][name];
    for key in ["total_executions", "orders", "filled", "successful_trades", "failed_trades", "total_pnl", "win_rate"] {
        assert_eq!(p[key], stats[key], "{key}: the run's own statistics");
    }
    let (_, recent) = s.get(&format!("/api/v1/agents/{name}/performance?days=10"));
    assert!(recent["performance"]["total_executions"].as_u64() <= p["total_executions"].as_u64());
    assert!(recent["since"].is_string());
}

#[test]
fn sigterm_stops_the_run_and_the_api_cleanly() {
    let s = serve(&home("sigterm"), &["examples/dip_buyer.strat", "--speed", "20", "--days", "2000"]);
    s.wait_for("/api/v1/runs/1", |r| r["steps"].as_u64() > Some(2));
    let home = s.home.clone();
    let (code, out, err) = s.terminate();
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("stopped after") && out.contains("the API stopped"), "{out}");
    assert!(!home.join("service.json").exists(), "the address is taken back");
    let runs = common::strat().env("STRAT_HOME", &home).args(["runs", "--format", "json"]).output().expect("runs");
    let runs: Value = serde_json::from_slice(&runs.stdout).expect("json");
    assert_eq!(runs[0]["status"], "stopped");
}

#[test]
fn a_file_with_errors_is_refused_before_anything_listens() {
    let home = home("errors");
    let bad = std::env::temp_dir().join(format!("strat-serve-bad-{}.strat", std::process::id()));
    std::fs::write(&bad, "agent A {\n  model: nowhere\n}\n").expect("write");
    let mut child = spawn(&home, &[bad.to_str().expect("path"), "--listen", "127.0.0.1:0"]);
    let status = child.wait().expect("exits");
    assert_eq!(status.code(), Some(1));
    let err = std::fs::read_to_string(home.with_extension("stderr")).expect("stderr");
    assert!(err.contains("E0010") && err.contains("expected an expression"), "the diagnostics are shown: {err}");
    assert!(!home.join("service.json").exists());
}

#[test]
fn an_address_already_taken_is_said_and_nothing_runs() {
    let taken = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let address = taken.local_addr().expect("address").to_string();
    let home = home("taken");
    let mut args = QUICK.to_vec();
    args.extend(["--listen", &address]);
    let status = spawn(&home, &args).wait().expect("exits");
    assert_eq!(status.code(), Some(2));
    let err = std::fs::read_to_string(home.with_extension("stderr")).expect("stderr");
    assert!(err.contains(&format!("cannot listen on {address}")), "{err}");
}

#[test]
fn the_store_commands_read_through_a_running_service() {
    let s = finished("through");
    let cli = |args: &[&str]| {
        let out = common::strat().env("STRAT_HOME", &s.home).args(args).output().expect("runs");
        assert_eq!(out.status.code(), Some(0), "{args:?}: {}", String::from_utf8_lossy(&out.stderr));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let runs: Value = serde_json::from_str(&cli(&["runs", "--format", "json"])).expect("json");
    assert_eq!(runs[0]["id"], 1);
    let log: Value = serde_json::from_str(&cli(&["log", "--format", "json"])).expect("json");
    let (_, api) = s.get("/api/v1/executions?limit=1000&whole=true");
    assert_eq!(log["executions"], api["executions"], "the same whole records");
    assert!(log["executions"][0]["context"].is_object());
    let shown: Value = serde_json::from_str(&cli(&["show", "1", "--format", "json"])).expect("json");
    assert!(shown["prompt_text"]["system"].is_string(), "{shown}");
    let stats: Value = serde_json::from_str(&cli(&["stats", "--format", "json"])).expect("json");
    let (_, p) = s.get("/api/v1/agents/DipBuyer/performance");
    assert_eq!(stats["DipBuyer"], p["performance"]);
    let saved: Value =
        serde_json::from_slice(&std::fs::read(s.home.join("runs/dip_buyer-1.json")).expect("report")).expect("json");
    assert_eq!(stats["DipBuyer"]["refused"], saved["stats"]["DipBuyer"]["refused"]);
    assert!(cli(&["log", "--status", "success"]).contains("executions"));
}

#[test]
fn log_follow_prints_the_executions_as_they_come() {
    let s = serve(&home("follow"), &["examples/sma_crossover.strat", "--speed", "20", "--days", "3000"]);
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("strat"))
        .env("STRAT_HOME", &s.home)
        .args(["log", "--follow", "--format", "json"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("follows");
    let mut lines = std::io::BufRead::lines(std::io::BufReader::new(child.stdout.take().expect("stdout")));
    let mut ids = Vec::new();
    while ids.len() < 15 {
        let line = lines.next().expect("a line").expect("text");
        let v: Value = serde_json::from_str(&line).expect("one object a line");
        if let Some(id) = v["execution"]["id"].as_u64() {
            ids.push(id);
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(ids.windows(2).all(|w| w[1] == w[0] + 1), "each execution once, in order: {ids:?}");
    let none = common::strat().env("STRAT_HOME", home("follow-none")).args(["log", "--follow"]).output().expect("runs");
    assert_eq!(none.status.code(), Some(2));
}

#[test]
fn several_files_are_served_as_one_program() {
    let s = serve(
        &home("several"),
        &["examples/dip_buyer.strat", "examples/sma_crossover.strat", "--speed", "0", "--days", "30"],
    );
    let (_, agents) = s.get("/api/v1/agents");
    let names: Vec<&str> =
        agents["agents"].as_array().into_iter().flatten().filter_map(|a| a["name"].as_str()).collect();
    assert_eq!(names, ["DipBuyer", "SmaCrossover"], "{agents}");
    let (_, status) = s.get("/api/v1/status");
    assert_eq!(status["file"], "examples/dip_buyer.strat examples/sma_crossover.strat");
}
