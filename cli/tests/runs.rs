//! `strat runs` and `strat log` reading the store a `strat run` left.
#![allow(clippy::disallowed_methods)] // the tests make a temporary home

mod common;
use common::strat;

fn home(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("strat-runs-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

#[test]
fn the_runs_and_a_runs_executions_and_orders_are_read_back_from_the_store() {
    let home = home("read");
    let nothing = strat().env("STRAT_HOME", &home).arg("runs").output().expect("runs");
    assert_eq!(nothing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("there is no store at"), "{nothing:?}");
    let run = strat()
        .env("STRAT_HOME", &home)
        .args(["run", "examples/dip_buyer.strat", "--speed", "0", "--days", "60"])
        .output()
        .expect("runs");
    assert_eq!(run.status.code(), Some(0), "{}", String::from_utf8_lossy(&run.stderr));
    let saved: serde_json::Value =
        serde_json::from_slice(&std::fs::read(home.join("runs/dip_buyer-1.json")).expect("report")).expect("json");

    let listed = strat().env("STRAT_HOME", &home).args(["runs", "--format", "json"]).output().expect("runs");
    let runs: serde_json::Value = serde_json::from_slice(&listed.stdout).expect("json");
    assert_eq!(runs[0]["id"], 1);
    assert_eq!(runs[0]["status"], "finished");
    assert_eq!(runs[0]["final_equity"], saved["final_equity"]);
    let table = strat().env("STRAT_HOME", &home).arg("runs").output().expect("runs");
    let table = String::from_utf8_lossy(&table.stdout);
    assert!(table.contains("finished") && table.contains("dip_buyer.strat") && table.contains("60 steps"), "{table}");

    let log = strat().env("STRAT_HOME", &home).args(["log", "1", "--format", "json"]).output().expect("runs");
    let log: serde_json::Value = serde_json::from_slice(&log.stdout).expect("json");
    let ids = |v: &serde_json::Value| v.as_array().map(|a| a.iter().map(|x| x["id"].clone()).collect::<Vec<_>>());
    assert_eq!(ids(&log["executions"]), ids(&saved["executions"]), "every execution the run made");
    let orders_of = |v: &serde_json::Value| {
        v.as_array()
            .map(|a| a.iter().map(|o| (o["symbol"].clone(), o["qty"].clone(), o["status"].clone())).collect::<Vec<_>>())
    };
    assert_eq!(orders_of(&log["orders"]), orders_of(&saved["orders"]), "every order in its latest state");
    let human = strat().env("STRAT_HOME", &home).arg("log").output().expect("runs");
    let human = String::from_utf8_lossy(&human.stdout);
    let orders = saved["orders"].as_array().map_or(0, Vec::len);
    assert!(human.contains(&format!("{orders} orders")) && human.contains("DipBuyer"), "{human}");
    let first = saved["executions"][0]["id"].as_u64().expect("an execution");
    let id = first.to_string();
    let shown = strat().env("STRAT_HOME", &home).args(["show", &id, "--format", "json"]).output().expect("runs");
    let shown: serde_json::Value = serde_json::from_slice(&shown.stdout).expect("json");
    assert_eq!(shown["llm_response"], saved["executions"][0]["llm_response"], "the raw reply");
    let system = shown["prompt_text"]["system"].as_str().expect("the system prompt's text");
    assert!(system.contains("Largest position allowed: $10,000.00"), "{system}");
    let prompt = shown["prompt_text"]["prompt"].as_str().expect("the prompt's text");
    assert!(prompt.ends_with(saved["executions"][0]["prompt"]["rest"].as_str().expect("rest")), "the prompt as sent");
    let page = strat().env("STRAT_HOME", &home).args(["show", &id]).output().expect("runs");
    let page = String::from_utf8_lossy(&page.stdout);
    assert!(page.contains("risk gate, order 1: approved") && page.contains("pass  max_position"), "{page}");
    let none = strat().env("STRAT_HOME", &home).args(["show", "999"]).output().expect("runs");
    assert_eq!(none.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&none.stderr).contains("run 1 has no execution 999"), "{none:?}");
    let stats = strat().env("STRAT_HOME", &home).args(["stats", "--format", "json"]).output().expect("runs");
    let stats: serde_json::Value = serde_json::from_slice(&stats.stdout).expect("json");
    for key in [
        "total_executions",
        "rejected_executions",
        "failed_executions",
        "orders",
        "filled",
        "refused",
        "successful_trades",
        "failed_trades",
        "total_pnl",
        "win_rate",
        "input_tokens",
        "output_tokens",
        "cost",
    ] {
        assert_eq!(
            stats["DipBuyer"][key], saved["stats"]["DipBuyer"][key],
            "{key}: the run's own statistics of the agent"
        );
    }
    let recent =
        strat().env("STRAT_HOME", &home).args(["stats", "--days", "10", "--format", "json"]).output().expect("runs");
    let recent: serde_json::Value = serde_json::from_slice(&recent.stdout).expect("json");
    assert!(
        recent["DipBuyer"]["total_executions"].as_u64() < stats["DipBuyer"]["total_executions"].as_u64(),
        "{recent}"
    );
    let block = strat().env("STRAT_HOME", &home).args(["stats", "DipBuyer"]).output().expect("runs");
    let block = String::from_utf8_lossy(&block.stdout);
    let executions = saved["stats"]["DipBuyer"]["total_executions"].as_u64().expect("count");
    assert!(block.contains(&format!("executions {executions} (")), "{block}");
    let unknown = strat().env("STRAT_HOME", &home).args(["stats", "Nobody"]).output().expect("runs");
    assert!(
        String::from_utf8_lossy(&unknown.stderr).contains("has no agent, workflow or team `Nobody` (it has DipBuyer)")
    );
    // Filters: one symbol's, from a day on.
    let narrowed = strat()
        .env("STRAT_HOME", &home)
        .args(["log", "--symbol", "AMZN", "--from", "2024-01-06", "--format", "json"])
        .output()
        .expect("runs");
    let narrowed: serde_json::Value = serde_json::from_slice(&narrowed.stdout).expect("json");
    let expected: Vec<&serde_json::Value> = saved["executions"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|e| e["trigger"]["symbol"] == "AMZN" && e["time"].as_str().is_some_and(|t| t >= "2024-01-06"))
        .collect();
    let all = saved["executions"].as_array().map_or(0, Vec::len);
    assert!(!expected.is_empty() && expected.len() < all, "the filter keeps some: {} of {all}", expected.len());
    assert_eq!(narrowed["executions"].as_array().map(Vec::len), Some(expected.len()), "{narrowed}");
    assert!(narrowed["orders"].as_array().into_iter().flatten().all(|o| o["symbol"] == "AMZN"));
    let missing = strat().env("STRAT_HOME", &home).args(["log", "9"]).output().expect("runs");
    assert_eq!(missing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&missing.stderr).contains("there is no run 9"));
    let _ = std::fs::remove_dir_all(&home);
}
