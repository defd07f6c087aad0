//! `strat run --market polygon` against the fake Polygon REST and WebSocket servers: warmed on
//! REST history, traded on live bars, taking the orders a backtest of the same bars takes, and
//! with `--broker alpaca` sending them to the fake Alpaca venue once each.
#![allow(clippy::disallowed_methods)] // tests write the bars and read the saved report

mod common;
use common::strat;
use strat_engine::market::Bar;
use strat_fakes::alpaca::FakeAlpaca;
use strat_fakes::polygon_ws::{FakePolygonWs, Step};
use strat_fakes::{FakeServer, Reply};

const KEY: &str = "pk-run-live-0123";
const SRC: &str = "limits l {
  max_allocation 100%
  allow [SPY]
}

workflow Cross {
  limits l
  on bar(SPY, 1m)
  if sma(SPY, 5) crosses above sma(SPY, 20) and not holding(SPY) {
    buy SPY size 10 shares
  } else if sma(SPY, 5) crosses below sma(SPY, 20) and holding(SPY) {
    sell SPY size all
  }
}
";

fn ms(b: &Bar) -> i64 {
    b.time.and_local_timezone(chrono_tz::America::New_York).single().expect("one").timestamp_millis()
}

/// Three sessions of SPY minute bars from the simulated market.
fn session_bars() -> Vec<Bar> {
    let config = strat_engine::market::simulated::Config { days: 3, bar_minutes: 1, ..Default::default() };
    strat_engine::market::simulated::simulate(&config).bars.remove("SPY").expect("SPY")
}

/// The bars after the first session: what the socket serves.
fn live_bars(bars: &[Bar]) -> Vec<&Bar> {
    bars.iter().filter(|b| b.time.date() != bars[0].time.date()).collect()
}

/// A REST server with the first session (the warm-up) and a socket with the rest, a minute a
/// frame; the time of the last live bar.
fn feeds(bars: &[Bar]) -> (FakeServer, FakePolygonWs, String) {
    let frames = live_bars(bars).into_iter().map(am).collect();
    feeds_with(bars, vec![frames])
}

/// A minute's bar as the socket sends it.
fn am(b: &Bar) -> Step {
    let am = serde_json::json!([{"ev": "AM", "sym": "SPY", "o": b.open, "h": b.high, "l": b.low, "c": b.close, "v": b.volume, "s": ms(b), "e": ms(b) + 60_000}]);
    Step::Send(am.to_string())
}

/// [`feeds`], the socket's connections playing `scripts`.
fn feeds_with(bars: &[Bar], scripts: Vec<Vec<Step>>) -> (FakeServer, FakePolygonWs, String) {
    let warm: Vec<&Bar> = bars.iter().filter(|b| b.time.date() == bars[0].time.date()).collect();
    let live = live_bars(bars);
    let rest = FakeServer::polygon(KEY);
    let agg =
        |b: &&Bar| serde_json::json!({"o": b.open, "h": b.high, "l": b.low, "c": b.close, "v": b.volume, "t": ms(b)});
    let history = serde_json::json!({"status": "OK", "results": warm.iter().map(agg).collect::<Vec<_>>()});
    rest.otherwise(Reply::json(200, history.to_string()));
    let last = live.last().expect("live bars").time.format("%Y-%m-%d %H:%M").to_string();
    (rest, FakePolygonWs::start(KEY, scripts), last)
}

/// A folder with the strategy, and its path.
fn strategy(tag: &str) -> (std::path::PathBuf, String) {
    let dir = std::env::temp_dir().join(format!("strat-live-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("cross.strat");
    std::fs::write(&file, SRC).expect("write");
    let path = file.to_string_lossy().into_owned();
    (dir, path)
}

fn live_run(
    dir: &std::path::Path,
    path: &str,
    rest: &FakeServer,
    ws: &FakePolygonWs,
    last: &str,
) -> std::process::Command {
    let mut c = std::process::Command::new(assert_cmd::cargo::cargo_bin("strat"));
    c.current_dir(common::root())
        .env_remove("APCA_API_KEY_ID")
        .env("STRAT_HOME", dir.join("home"))
        .env("POLYGON_API_KEY", KEY)
        .env("POLYGON_BASE_URL", rest.url())
        .env("POLYGON_WS_URL", ws.url())
        .args(["run", path, "--market", "polygon", "--speed", "0", "--until", last]);
    c
}

#[test]
fn a_live_run_on_polygon_takes_the_orders_a_backtest_of_the_same_bars_takes() {
    let bars = session_bars();
    let (dir, path) = strategy("paper");
    let mut csv = String::from("date,time,open,high,low,close,volume\n");
    for b in &bars {
        csv.push_str(&format!(
            "{},{},{},{},{},{},{}\n",
            b.time.date(),
            b.time.time(),
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume
        ));
    }
    std::fs::write(dir.join("spy.csv"), csv).expect("write");
    let (rest, ws, last) = feeds(&bars);
    let out = live_run(&dir, &path, &rest, &ws, &last).output().expect("runs");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("warming SPY on Polygon's minute bars"), "{stderr}");
    assert_eq!(ws.received()[0][1], "{\"action\":\"subscribe\",\"params\":\"AM.SPY\"}");
    let saved = std::fs::read(dir.join("home/runs/cross-1.json")).expect("report saved");
    let ran: serde_json::Value = serde_json::from_slice(&saved).expect("json");
    let csv_data = format!("SPY={}", dir.join("spy.csv").display());
    let live = live_bars(&bars);
    let from = live[0].time.date().to_string();
    let bt = strat().args(["backtest", &path, "--data", &csv_data, "--from", &from, "--format", "json"]).output();
    let bt: serde_json::Value = serde_json::from_slice(&bt.expect("runs").stdout).expect("json");
    let orders = bt["orders"].as_array().expect("orders");
    assert!(orders.len() >= 4, "the strategy trades: {}", orders.len());
    assert_eq!(ran["orders"], bt["orders"], "the same orders, at the same times and prices");
    // The live run kept its executions in the store only; its report read them back.
    let executions = |v: &serde_json::Value| {
        v["executions"].as_array().map(|e| e.iter().map(|x| x["time"].clone()).collect::<Vec<_>>())
    };
    assert!(executions(&bt).is_some_and(|e| !e.is_empty()));
    assert_eq!(executions(&ran), executions(&bt), "every execution, in order");
    assert_eq!(ran["equity_curve"].as_array().map(Vec::len), Some(live.len()), "one step a live minute");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn orders_of_a_live_run_go_to_alpaca_once_each_under_the_runs_client_ids() {
    let bars = session_bars();
    let (dir, path) = strategy("alpaca");
    let (rest, ws, last) = feeds(&bars);
    let venue = FakeAlpaca::start("PKRUN", "secret-run");
    venue.set_fill_market_orders_at(Some(100.0));
    let mut run = live_run(&dir, &path, &rest, &ws, &last);
    run.env("APCA_API_KEY_ID", "PKRUN").env("APCA_API_SECRET_KEY", "secret-run").env("APCA_API_BASE_URL", venue.url());
    let out = run.args(["--broker", "alpaca"]).output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("orders go to the Alpaca paper account at http://127.0.0.1:"), "{stdout}");
    let saved = std::fs::read(dir.join("home/runs/cross-1.json")).expect("report saved");
    let ran: serde_json::Value = serde_json::from_slice(&saved).expect("json");
    let sent = ran["orders"].as_array().expect("orders");
    let held = venue.orders();
    assert!(held.len() >= 2, "the strategy traded: {}", held.len());
    assert_eq!(
        (venue.posts(), held.len()),
        (sent.len(), sent.len()),
        "one order at the venue for each sent, none twice"
    );
    let ids: std::collections::BTreeSet<&str> = held.iter().filter_map(|o| o["client_order_id"].as_str()).collect();
    assert_eq!(ids.len(), held.len());
    assert!(ids.iter().all(|id| id.starts_with("strat-1x") && id.len() <= 48), "{ids:?}");
    assert!(
        sent.iter().all(|o| o["status"] == "filled" && o["price"] == 100.0),
        "filled at the venue's price: {sent:?}"
    );
    let refused = strat().args(["run", &path, "--live"]).output().expect("runs");
    assert_eq!(refused.status.code(), Some(2), "--live needs --broker alpaca");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn strat_conf_names_the_market_and_a_bad_setting_is_refused_with_its_line() {
    let bars = session_bars();
    let (dir, path) = strategy("conf");
    let (rest, ws, last) = feeds(&bars);
    std::fs::create_dir_all(dir.join("home")).expect("home");
    std::fs::write(dir.join("home/strat.conf"), "# the live feed by default\nmarket = polygon\nwarm_up_days = 2\n")
        .expect("write");
    let mut run = live_run(&dir, &path, &rest, &ws, &last);
    // The same command without `--market`: the file says it.
    let args: Vec<String> = ["run", &path, "--speed", "0", "--until", &last].iter().map(|s| s.to_string()).collect();
    let mut bare = std::process::Command::new(assert_cmd::cargo::cargo_bin("strat"));
    bare.current_dir(common::root()).envs(run.get_envs().filter_map(|(k, v)| Some((k, v?)))).args(&args);
    let out = bare.output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("on the Polygon live minute bars"));
    assert_eq!(ws.connections(), 1);
    std::fs::write(dir.join("home/strat.conf"), "live = true\n").expect("write");
    let out = run.output().expect("runs");
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("strat.conf: line 1: unknown setting `live`"));
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_live_run_killed_and_started_again_resumes_on_its_journaled_bars_and_sends_each_order_once() {
    use strat_engine::store::Store;
    let bars = session_bars();
    let alpaca = |run: &mut std::process::Command, venue: &FakeAlpaca| {
        run.env("APCA_API_KEY_ID", "PKRUN")
            .env("APCA_API_SECRET_KEY", "secret-run")
            .env("APCA_API_BASE_URL", venue.url())
            .args(["--broker", "alpaca"]);
    };
    let (dir_a, path_a) = strategy("resume-whole");
    let (rest_a, ws_a, last) = feeds(&bars);
    let whole = FakeAlpaca::start("PKRUN", "secret-run");
    whole.set_fill_market_orders_at(Some(100.0));
    let mut run = live_run(&dir_a, &path_a, &rest_a, &ws_a, &last);
    alpaca(&mut run, &whole);
    let out = run.output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let expected = common::held(&whole);
    assert!(expected.len() >= 4, "the strategy trades: {}", expected.len());

    // The same session, paced, killed once a few orders are at the venue.
    let (dir, path) = strategy("resume-killed");
    let (rest, _, _) = feeds(&bars);
    let live = live_bars(&bars);
    let paced: Vec<Step> =
        live.iter().flat_map(|b| [am(b), Step::Pause(std::time::Duration::from_millis(3))]).collect();
    let ws = FakePolygonWs::start(KEY, vec![paced]);
    let venue = FakeAlpaca::start("PKRUN", "secret-run");
    venue.set_fill_market_orders_at(Some(100.0));
    let mut first = live_run(&dir, &path, &rest, &ws, &last);
    alpaca(&mut first, &venue);
    let mut child =
        first.stdout(std::process::Stdio::null()).stderr(std::process::Stdio::null()).spawn().expect("starts");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while venue.posts() < 2 && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(1));
    }
    let _ = child.kill();
    let _ = child.wait();
    let store = strat_store::RedbStore::open(&dir.join("home/store.redb")).expect("store");
    let journaled = store.bars(1).expect("bars");
    drop(store);
    let upto = journaled.last().map(|s| s.step).expect("live steps journaled");
    assert!(upto < live.last().expect("bars").time, "killed before the session ended");
    // The feed goes on where the journal stops.
    ws.add_script(live.iter().filter(|b| b.time > upto).map(|b| am(b)).collect());
    let mut again = live_run(&dir, &path, &rest, &ws, &last);
    alpaca(&mut again, &venue);
    let out = again.output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("resuming run 1 ("), "{stdout}");
    assert_eq!(common::held(&venue), expected, "the uninterrupted run's orders, once each");
    assert_eq!(venue.posts(), expected.len(), "none sent twice");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir_a);
}

#[test]
fn what_the_feed_says_is_shown_and_kept_as_a_log_line_of_the_step_while_the_run_goes_on() {
    let bars = session_bars();
    let (dir, path) = strategy("notes");
    let live = live_bars(&bars);
    // Before the fifth live minute, a bar of it whose high is below its low; after the
    // fortieth, the server hangs up, and the next connection goes on from there.
    let broken = Bar { high: live[4].low - 1.0, ..*live[4] };
    let mut first: Vec<Step> = live[..40].iter().copied().map(am).collect();
    first.insert(4, am(&broken));
    first.push(Step::Close);
    let second = live[40..].iter().copied().map(am).collect();
    let (rest, ws, last) = feeds_with(&bars, vec![first, second]);
    let out = live_run(&dir, &path, &rest, &ws, &last).output().expect("runs");
    let (stdout, stderr) = (String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr));
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    let at = lines.iter().position(|l| l.contains("bar refused")).unwrap_or_else(|| panic!("{stdout}"));
    let t = live[4].time;
    assert!(lines[at].starts_with(&format!("{t}  feed           SPY {t}: bar refused: high ")), "{}", lines[at]);
    let later_order = lines[at..].iter().any(|l| l.contains("order    ") || l.contains("fill     "));
    assert!(later_order, "shown as it happened, before the orders of later steps: {stdout}");
    let t = live[40].time;
    let reconnected = format!("{t}  feed           reconnected to the feed after: the server closed the connection");
    assert!(lines.contains(&reconnected.as_str()), "{stdout}");
    assert_eq!(ws.connections(), 2);
    assert!(!stderr.contains("bar refused") && !stderr.contains("reconnected"), "not said again at the end: {stderr}");
    let saved = std::fs::read(dir.join("home/runs/cross-1.json")).expect("report saved");
    let ran: serde_json::Value = serde_json::from_slice(&saved).expect("json");
    let feed: Vec<&serde_json::Value> =
        ran["log"].as_array().expect("log").iter().filter(|l| l["graph"] == "feed").collect();
    assert_eq!(feed.len(), 2, "{feed:?}");
    assert!(feed[0]["message"].as_str().is_some_and(|m| m.contains("bar refused")), "{feed:?}");
    assert!(feed[1]["message"].as_str().is_some_and(|m| m.starts_with("reconnected")), "{feed:?}");
    let _ = std::fs::remove_dir_all(&dir);
}
