//! The operator's decisions: `strat halt`, `resume`, `pause`, `activate` and `agents`, with and
//! without a service running, and the API's trigger switches; each kept in the store.
#![allow(clippy::disallowed_methods)] // the tests read the files the service writes

mod common;
use common::served::{Served, home, serve};
use serde_json::Value;

/// The SMA crossover workflow runs at every bar: a day every 50 ms here.
const EVERY_BAR: &[&str] = &["examples/sma_crossover.strat", "--speed", "20", "--days", "3000"];

fn strat(home: &std::path::Path, args: &[&str]) -> (i32, String, String) {
    let out = common::strat().env("STRAT_HOME", home).args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into(),
        String::from_utf8_lossy(&out.stderr).into(),
    )
}

fn executions(s: &Served) -> Vec<Value> {
    let (_, all) = s.get("/api/v1/executions?limit=1000");
    all["executions"].as_array().cloned().unwrap_or_default()
}

fn steps(s: &Served) -> u64 {
    s.get("/api/v1/runs/1").1["steps"].as_u64().unwrap_or(0)
}

#[test]
fn a_halt_made_before_the_service_starts_holds_it_halted_until_resumed() {
    let home = home("halt");
    let (code, out, err) = strat(&home, &["halt", "--reason", "before the open"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("halted: before the open") && out.contains("the store"), "{out}");
    let s = serve(&home, EVERY_BAR);
    s.wait_for("/api/v1/runs/1", |r| r["steps"].as_u64() > Some(15));
    assert!(executions(&s).is_empty(), "nothing runs while halted");
    let (_, agents) = s.get("/api/v1/agents");
    assert_eq!(agents["halted"], "before the open");
    let (code, out, err) = strat(&home, &["resume", "--reason", "open"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("resumed") && out.contains("the service at"), "through the running service: {out}");
    s.wait_for("/api/v1/executions", |v| v["executions"].as_array().is_some_and(|e| e.len() > 3));
    let (_, audit) = s.get("/api/v1/audit");
    let who: Vec<&str> = audit["audit"].as_array().expect("audit").iter().filter_map(|e| e["who"].as_str()).collect();
    assert!(who[0].starts_with("local user") && who[1] == "api (bearer token)", "{who:?}");
}

#[test]
fn a_halt_through_the_service_survives_its_restart() {
    let home = home("restart");
    let s = serve(&home, EVERY_BAR);
    let (code, out, _) = strat(&home, &["halt", "--format", "json"]);
    assert_eq!(code, 0);
    let said: Value = serde_json::from_str(&out).expect("json");
    assert!(said["through"].as_str().is_some_and(|t| t.starts_with("the service")), "{said}");
    let (code, again, _) = strat(&home, &["halt"]);
    assert_eq!(code, 0);
    assert!(again.contains("halted already"), "idempotent: {again}");
    drop(s.terminate());
    let s = serve(&home, &["examples/sma_crossover.strat", "--speed", "20", "--days", "3000", "--resume"]);
    let (_, agents) = s.get("/api/v1/agents");
    assert_eq!(agents["halted"], "halted by the operator", "{agents}");
    let before = executions(&s).len();
    let at = steps(&s);
    s.wait_for("/api/v1/runs/1", |r| r["steps"].as_u64() > Some(at + 10));
    assert_eq!(executions(&s).len(), before, "still halted after the restart");
}

#[test]
fn a_paused_graph_and_a_disabled_trigger_stop_firing_until_undone() {
    let home = home("pause");
    let s = serve(&home, EVERY_BAR);
    s.wait_for("/api/v1/runs/1", |r| r["steps"].as_u64() > Some(3));
    let (code, out, err) = strat(&home, &["pause", "SmaCrossover", "--reason", "review"]);
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("active → paused"), "{out}");
    let (_, agent) = s.get("/api/v1/agents/SmaCrossover");
    assert_eq!(agent["status"], "paused");
    let paused_at = steps(&s);
    let count = executions(&s).len();
    s.wait_for("/api/v1/runs/1", |r| r["steps"].as_u64() > Some(paused_at + 10));
    assert!(executions(&s).len() <= count + 1, "at most the step already under way ran");
    let count = executions(&s).len();
    let at = steps(&s);
    s.wait_for("/api/v1/runs/1", |r| r["steps"].as_u64() > Some(at + 10));
    assert_eq!(executions(&s).len(), count, "a paused graph's trigger is not evaluated");

    let (code, _, err) = strat(&home, &["activate", "SmaCrossover"]);
    assert_eq!(code, 0, "{err}");
    let (status, off) = s.post("/api/v1/triggers/SmaCrossover.0/disable", Vec::new());
    assert_eq!((status, off["enabled"].as_bool()), (200, Some(false)), "{off}");
    let (_, triggers) = s.get("/api/v1/triggers");
    assert_eq!(triggers["triggers"][0]["enabled"], false);
    let at = steps(&s);
    s.wait_for("/api/v1/runs/1", |r| r["steps"].as_u64() > Some(at + 3));
    let count = executions(&s).len();
    let at = steps(&s);
    s.wait_for("/api/v1/runs/1", |r| r["steps"].as_u64() > Some(at + 10));
    assert_eq!(executions(&s).len(), count, "a disabled trigger does not fire");
    assert_eq!(s.post("/api/v1/triggers/SmaCrossover.0/enable", Vec::new()).0, 200);
    s.wait_for("/api/v1/executions?limit=1000", |v| v["executions"].as_array().is_some_and(|e| e.len() > count));
    assert_eq!(s.post("/api/v1/triggers/SmaCrossover.7/disable", Vec::new()).0, 404);
    assert_eq!(s.post("/api/v1/agents/Nobody/pause", Vec::new()).0, 404);
    let (code, _, err) = strat(&home, &["pause", "Nobody"]);
    assert_eq!(code, 2, "the service checks the name: {err}");

    let (code, out, _) = strat(&home, &["agents"]);
    assert_eq!(code, 0);
    assert!(out.contains("SmaCrossover") && out.contains("active") && out.contains("SmaCrossover.0"), "{out}");
    assert!(out.contains("last fired 20"), "{out}");
}

#[test]
fn agents_without_a_service_read_the_file_and_the_stores_decisions() {
    let home = home("agents");
    assert_eq!(strat(&home, &["pause", "SmaCrossover"]).0, 0);
    let (code, out, err) = strat(&home, &["agents", "examples/sma_crossover.strat", "--format", "json"]);
    assert_eq!(code, 0, "{err}");
    let v: Value = serde_json::from_str(&out).expect("json");
    assert_eq!(v["agents"][0]["status"], "paused");
    let (code, _, err) = strat(&home, &["agents"]);
    assert_eq!(code, 2);
    assert!(err.contains("no service is running"), "{err}");
}

#[test]
fn a_test_run_through_the_service_returns_its_record() {
    let home = home("test");
    let s = serve(&home, EVERY_BAR);
    let (status, record) = s.post("/api/v1/agents/SmaCrossover/test", br#"{"symbol":"SPY"}"#.to_vec());
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["state"], "done");
    assert_eq!(record["record"]["trigger"]["kind"], "manual");
    assert!(record["execution"].is_u64(), "{record}");
}

#[test]
fn a_resumed_run_replays_each_step_under_the_decisions_then_in_force() {
    let home = home("replay");
    let s = serve(&home, EVERY_BAR);
    s.wait_for("/api/v1/runs/1", |r| r["steps"].as_u64() > Some(5));
    assert_eq!(s.post("/api/v1/agents/SmaCrossover/pause", Vec::new()).0, 200);
    let at = steps(&s);
    s.wait_for("/api/v1/runs/1", |r| r["steps"].as_u64() > Some(at + 8));
    assert_eq!(s.post("/api/v1/agents/SmaCrossover/activate", Vec::new()).0, 200);
    let at = steps(&s);
    s.wait_for("/api/v1/runs/1", |r| r["steps"].as_u64() > Some(at + 5));
    drop(s); // SIGKILL
    let s = serve(&home, EVERY_BAR);
    let at = steps(&s);
    s.wait_for("/api/v1/runs/1", |r| r["steps"].as_u64() > Some(at + 5));
    let (code, out, err) = s.terminate();
    assert_eq!(code, Some(0), "{out}\n{err}");
    assert!(out.contains("resuming run 1"), "{out}");
    // The report holds every execution the engine made, the replayed steps' included; the
    // store those it recorded as they first ran. A replay that ignored the pause would have
    // run the workflow in the paused steps too.
    let report: Value =
        serde_json::from_slice(&std::fs::read(home.join("runs/sma_crossover-1.json")).expect("report")).expect("json");
    let mut stored = Vec::new();
    let listed =
        common::strat().env("STRAT_HOME", &home).args(["log", "1", "--format", "json"]).output().expect("runs");
    let log: Value = serde_json::from_slice(&listed.stdout).expect("json");
    stored.extend(log["executions"].as_array().into_iter().flatten().map(|e| e["time"].clone()));
    let replayed: Vec<Value> =
        report["executions"].as_array().into_iter().flatten().map(|e| e["time"].clone()).collect();
    assert_eq!(replayed, stored, "the same executions at the same steps");
    let steps = log["run"]["steps"].as_u64().unwrap_or(0) as usize;
    assert!(stored.len() + 5 < steps, "some steps ran paused: {} executions in {steps} steps", stored.len());
}

#[test]
fn a_trigger_and_a_team_are_run_by_hand_through_the_service() {
    let s = serve(&home("by-hand"), EVERY_BAR);
    let (status, record) = s.post("/api/v1/triggers/SmaCrossover.0/test", Vec::new());
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["record"]["trigger"]["kind"], "bar", "as if the trigger fired: {record}");
    assert_eq!(record["record"]["trigger"]["text"], "bar(SPY, 86400s)");
    let (_, teams) = s.get("/api/v1/teams");
    assert_eq!(teams["teams"], serde_json::json!([]));
    assert_eq!(s.post("/api/v1/teams/SmaCrossover/execute", Vec::new()).0, 404, "not a team");
    drop(s);

    let s = serve(&home("team"), &["examples/vote_team.strat", "--speed", "20", "--days", "3000"]);
    let (_, teams) = s.get("/api/v1/teams");
    let name = teams["teams"][0]["name"].as_str().expect("a team").to_string();
    let (status, record) = s.post(&format!("/api/v1/teams/{name}/execute"), Vec::new());
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["record"]["graph"], name.as_str());
}
