//! `strat run` on the embedded defaults, through the real binary.
#![allow(clippy::disallowed_methods)] // tests read the saved state and wait on a child process

mod common;
use common::{root, strat};

fn home(tag: &str) -> std::path::PathBuf {
    let d = std::env::temp_dir().join(format!("strat-run-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    d
}

/// A report or record with its timings (wall-clock milliseconds) removed.
fn without_durations(mut v: serde_json::Value) -> serde_json::Value {
    match &mut v {
        serde_json::Value::Object(m) => {
            m.remove("duration_ms");
            m.remove("avg_execution_time_ms");
            for x in m.values_mut() {
                *x = without_durations(x.take());
            }
        }
        serde_json::Value::Array(items) => {
            for x in items.iter_mut() {
                *x = without_durations(x.take());
            }
        }
        _ => {}
    }
    v
}

#[test]
fn runs_to_the_end_and_saves_its_state() {
    let h = home("end");
    let out =
        strat().env("STRAT_HOME", &h).args(["run", "examples/dip_buyer.strat", "--speed", "0"]).output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.starts_with(
            "strat run examples/dip_buyer.strat on the simulated market (seeded random walk, not real prices)"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("[offline stand-in]"), "{stdout}");
    assert!(stdout.contains("finished after 252 bars"), "{stdout}");
    assert!(stdout.contains("run 1 recorded in"), "{stdout}");
    let saved = h.join("runs/dip_buyer-1.json");
    let v: serde_json::Value = serde_json::from_slice(&std::fs::read(&saved).expect("state saved")).expect("json");
    assert_eq!(v["equity_curve"].as_array().map(Vec::len), Some(252));
    // The same seed replays the same market: a second run saves the same report, but for the
    // wall-clock durations of its executions.
    strat().env("STRAT_HOME", &h).args(["run", "examples/dip_buyer.strat", "--speed", "0"]).output().expect("runs");
    let again: serde_json::Value =
        serde_json::from_slice(&std::fs::read(h.join("runs/dip_buyer-2.json")).expect("saved")).expect("json");
    assert_eq!(without_durations(v.clone()), without_durations(again));
    // The store journals both runs, with the same executions and orders.
    use strat_engine::store::Store;
    use strat_store::RedbStore;
    let store = RedbStore::open(&h.join("store.redb")).expect("store");
    let runs = store.runs().expect("runs");
    assert_eq!(
        runs.iter().map(|r| (r.id, r.status.as_str(), r.steps)).collect::<Vec<_>>(),
        vec![(1, "finished", 252), (2, "finished", 252)]
    );
    let journal = |run| store.executions(run).expect("ex").into_iter().map(without_durations).collect::<Vec<_>>();
    assert_eq!(journal(1), journal(2));
    let orders = store.orders(1).expect("orders");
    assert_eq!(orders.len(), v["orders"].as_array().map_or(0, Vec::len));
    drop(store);
    let _ = std::fs::remove_dir_all(&h);
}

#[test]
fn until_stops_at_a_date() {
    let h = home("until");
    let out = strat()
        .env("STRAT_HOME", &h)
        .args(["run", "examples/sma_crossover.strat", "--speed", "0", "--until", "2024-03-01"])
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0));
    // January and February 2024 hold 41 trading days; the bar of 1 March ends the run.
    assert!(stdout.contains("stopped after 42 bars") || stdout.contains("finished after 42 bars"), "{stdout}");
    let _ = std::fs::remove_dir_all(&h);
}

#[cfg(unix)]
/// Starts a slow `strat run`, sends it `signal` after a moment, and waits for it to end.
fn signalled(h: &std::path::Path, signal: &str) -> std::process::Output {
    let bin = assert_cmd::cargo::cargo_bin("strat");
    let child = std::process::Command::new(bin)
        .current_dir(root())
        .env("STRAT_HOME", h)
        .args(["run", "examples/sma_crossover.strat", "--speed", "20"])
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("starts");
    std::thread::sleep(std::time::Duration::from_millis(1500));
    let killed = std::process::Command::new("kill").args([signal, &child.id().to_string()]).status().expect("kill");
    assert!(killed.success());
    child.wait_with_output().expect("ends")
}

#[test]
fn ctrl_c_and_sigterm_stop_cleanly_with_state_saved() {
    use strat_engine::store::Store;
    use strat_store::RedbStore;
    for signal in ["-INT", "-TERM"] {
        let h = home(&format!("signal{signal}"));
        let out = signalled(&h, signal);
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert_eq!(out.status.code(), Some(0), "{signal}: {stdout}");
        assert!(stdout.contains("stopped after"), "{signal}: {stdout}");
        assert!(stdout.contains("run 1 recorded"), "{signal}: {stdout}");
        assert!(h.join("runs/sma_crossover-1.json").exists(), "{signal}: the report is named after the run");
        let runs = RedbStore::open(&h.join("store.redb")).expect("store").runs().expect("runs");
        assert_eq!(runs[0].status, "stopped", "{signal}");
        assert!(runs[0].steps > 0 && runs[0].steps < 252, "{signal}: {}", runs[0].steps);
        let _ = std::fs::remove_dir_all(&h);
    }
}

#[test]
fn a_killed_run_is_marked_crashed_when_the_store_opens_again() {
    use strat_engine::store::Store;
    use strat_store::RedbStore;
    let h = home("kill9");
    let out = signalled(&h, "-KILL");
    assert_eq!(out.status.code(), None, "killed by the signal");
    let runs = RedbStore::open(&h.join("store.redb")).expect("store").runs().expect("runs");
    assert_eq!(runs[0].status, "crashed");
    assert!(runs[0].steps > 0, "the steps committed before are kept");
    // The next run gets the next id, and its report that id's name.
    let out = strat()
        .env("STRAT_HOME", &h)
        .args(["run", "examples/sma_crossover.strat", "--speed", "0", "--days", "5"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert!(h.join("runs/sma_crossover-2.json").exists(), "{}", String::from_utf8_lossy(&out.stdout));
    let _ = std::fs::remove_dir_all(&h);
}

#[test]
fn what_a_run_leaves_behind_is_readable_by_its_owner_only() {
    use std::os::unix::fs::PermissionsExt;
    let h = home("private").join("nested");
    let cassette = home("private-cassette").with_extension("cassette");
    let out = strat()
        .env("STRAT_HOME", &h)
        .args(["run", "examples/dip_buyer.strat", "--speed", "0", "--days", "5"])
        .arg(format!("--llm=record:{}", cassette.display()))
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let mode = |p: &std::path::Path| std::fs::metadata(p).map(|m| m.permissions().mode() & 0o777).ok();
    assert_eq!(mode(&h), Some(0o700), "the home folder");
    assert_eq!(mode(h.parent().expect("parent")), Some(0o700), "a folder made above it");
    assert_eq!(mode(&h.join("runs")), Some(0o700), "the reports' folder");
    assert_eq!(mode(&h.join("store.redb")), Some(0o600), "the store");
    assert_eq!(mode(&h.join("runs/dip_buyer-1.json")), Some(0o600), "the report");
    assert_eq!(mode(&cassette), Some(0o600), "the cassette");
    let _ = std::fs::remove_file(&cassette);
}

#[test]
fn recorded_bars_paper_trade_to_the_orders_a_backtest_takes() {
    let h = home("data");
    let spy = "SPY=../shared/data/prices/SPY_D.csv";
    let period = ["--from", "2009-01-01", "--to", "2011-12-31", "--commission", "0.005/share"];
    let out = strat()
        .env("STRAT_HOME", &h)
        .args(["run", "examples/sma_crossover.strat", "--data", spy, "--speed", "0"])
        .args(period)
        .output()
        .expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(
        stdout.starts_with("strat run examples/sma_crossover.strat on the recorded bars of SPY, models answered by"),
        "{stdout}"
    );
    let ran: serde_json::Value =
        serde_json::from_slice(&std::fs::read(h.join("runs/sma_crossover-1.json")).expect("saved")).expect("json");
    let bt = strat()
        .args(["backtest", "examples/sma_crossover.strat", "--data", spy, "--format", "json"])
        .args(period)
        .output();
    let bt: serde_json::Value = serde_json::from_slice(&bt.expect("runs").stdout).expect("json");
    assert!(bt["orders"].as_array().is_some_and(|o| o.len() > 4));
    assert_eq!(ran["orders"], bt["orders"], "the same orders, fills and commissions");
    assert_eq!(ran["final_equity"], bt["final_equity"]);
    let _ = std::fs::remove_dir_all(&h);
}

#[test]
fn until_takes_a_time_or_a_duration_of_market_time() {
    let h = home("until-forms");
    let bars = |until: &str| {
        let out = strat()
            .env("STRAT_HOME", &h)
            .args(["run", "examples/sma_crossover.strat", "--speed", "0", "--bar-minutes", "30", "--until", until])
            .output()
            .expect("runs");
        let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
        assert_eq!(out.status.code(), Some(0), "{stdout}");
        let n = stdout.split(" after ").nth(1).and_then(|r| r.split(' ').next()).and_then(|n| n.parse::<u64>().ok());
        n.expect("a bar count")
    };
    // Half-hour bars of the simulated market from 2024-01-02 09:30: thirteen a session.
    assert_eq!(bars("2024-01-02 12:00"), 6, "09:30 to 12:00");
    assert_eq!(bars("2024-01-03"), 26);
    assert_eq!(bars("1d"), 14, "one day of market time from the first bar");
    let out = strat().env("STRAT_HOME", &h).args(["run", "examples/sma_crossover.strat", "--until", "soon"]).output();
    let out = out.expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("`soon` is not a day (2014-06-02), a time"));
    let mixed = ["run", "examples/sma_crossover.strat", "--data", "SPY=x.csv", "--days", "3"];
    assert_eq!(strat().env("STRAT_HOME", &h).args(mixed).output().expect("runs").status.code(), Some(2));
    let _ = std::fs::remove_dir_all(&h);
}

#[test]
fn a_crashed_runs_orders_with_no_known_outcome_are_reported_at_the_next_start() {
    use strat_engine::broker::{Kind, Order, Side, Status, Tif};
    use strat_engine::store::Store;
    let h = home("unresolved");
    std::fs::create_dir_all(&h).expect("home");
    {
        // A run that committed an intent and was killed before anything else was recorded.
        let mut store = strat_store::RedbStore::open(&h.join("store.redb")).expect("store");
        let run = store.begin_run("live.strat", "abc", "Polygon live minute bars", "2024-06-03").expect("begins");
        let order = Order {
            id: 7,
            time: chrono::NaiveDate::from_ymd_opt(2024, 6, 3).and_then(|d| d.and_hms_opt(10, 0, 0)).unwrap_or_default(),
            symbol: "AAPL".into(),
            sym: 0,
            side: Side::Buy,
            qty: 5,
            kind: Kind::Market,
            tif: Tif::Day,
            status: Status::Pending,
            fill_time: None,
            price: None,
            commission: 0.0,
            reason: None,
            by: "W".into(),
            parent: None,
            stop_loss: None,
            take_profit: None,
        };
        store.record_intent(run, &order).expect("intent");
    }
    let out = strat()
        .env("STRAT_HOME", &h)
        .args(["run", "examples/sma_crossover.strat", "--speed", "0", "--days", "3"])
        .output();
    let out = out.expect("runs");
    assert_eq!(out.status.code(), Some(0));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("warning: run 1 of live.strat crashed with 1 order whose outcome is unknown: buy 5 AAPL (order 7); they may have reached the broker"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&h);
}
