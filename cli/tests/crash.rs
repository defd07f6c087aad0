//! The kill -9 harness: `strat run` on a session of recorded minute bars against the fake
//! Alpaca venue, killed with SIGKILL at random instants (some of them while an order is at the
//! venue and its answer is still on the way) at least 50 times and started again each time,
//! resuming from its journal. The venue must end with exactly the orders of an uninterrupted
//! run on the same bars, none twice and none missing, and the journal must agree with it.
#![allow(clippy::disallowed_methods)] // tests write the bars, time the kills and read the store

use common::held;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use strat_engine::broker::Status;
use strat_engine::store::Store;
use strat_fakes::alpaca::FakeAlpaca;

mod common;

const SRC: &str = "limits l {
  max_allocation 100%
  allow [SPY]
}

workflow Cross {
  limits l
  on bar(SPY, 1m)
  if sma(SPY, 3) crosses above sma(SPY, 8) and not holding(SPY) {
    buy SPY size 10 shares
  } else if sma(SPY, 3) crosses below sma(SPY, 8) and holding(SPY) {
    sell SPY size all
  }
}
";

/// A folder with the strategy and one session of SPY minute bars from the simulated market.
fn setup(tag: &str) -> (PathBuf, String, String) {
    let dir = std::env::temp_dir().join(format!("strat-crash-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("cross.strat"), SRC).expect("write");
    let config = strat_engine::market::simulated::Config { days: 1, bar_minutes: 1, ..Default::default() };
    let bars = strat_engine::market::simulated::simulate(&config).bars.remove("SPY").expect("SPY");
    let mut csv = String::from("date,time,open,high,low,close,volume\n");
    for b in &bars {
        let t = b.time;
        csv.push_str(&format!("{},{},{},{},{},{},{}\n", t.date(), t.time(), b.open, b.high, b.low, b.close, b.volume));
    }
    std::fs::write(dir.join("spy.csv"), csv).expect("write");
    let file = dir.join("cross.strat").to_string_lossy().into_owned();
    let data = format!("SPY={}", dir.join("spy.csv").display());
    (dir, file, data)
}

fn venue() -> FakeAlpaca {
    let v = FakeAlpaca::start("PKCRASH", "secret-crash");
    v.set_fill_market_orders_at(Some(100.0));
    // Fifty restarts in seconds ask more than a real minute's budget: the pacing is tested
    // on its own.
    v.set_rate_limit(1_000_000);
    v
}

/// `strat run` of the strategy on the bars, to the venue, `speed` bars a second.
fn run(dir: &Path, file: &str, data: &str, venue: &FakeAlpaca, speed: &str) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("strat"));
    c.current_dir(common::root())
        .env("STRAT_HOME", dir.join("home"))
        .env("APCA_API_KEY_ID", "PKCRASH")
        .env("APCA_API_SECRET_KEY", "secret-crash")
        .env("APCA_API_BASE_URL", venue.url())
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .args(["run", file, "--data", data, "--broker", "alpaca", "--speed", speed]);
    c
}

/// What a kill interrupted, read from the journal and the venue: an intent the venue never
/// received, and an order at the venue the journal has no answer for.
fn interrupted(home: &Path, venue: &FakeAlpaca) -> (bool, bool) {
    let store = strat_store::RedbStore::open(&home.join("store.redb")).expect("the store opens after a kill");
    let Some(run) = store.runs().expect("runs").last().map(|r| r.id) else { return (false, false) };
    let at_venue = held(venue);
    let answered: BTreeMap<u64, Status> =
        store.orders(run).expect("orders").into_iter().map(|o| (o.id, o.status)).collect();
    let intents = store.intents(run).expect("intents");
    let unsent = intents.iter().any(|i| !at_venue.contains_key(&i.id));
    let unanswered = at_venue.keys().any(|id| answered.get(id).is_none_or(|s| *s == Status::Pending));
    (unsent, unanswered)
}

/// A small deterministic generator, so a failure replays with the same kill instants.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n
    }
}

/// Waits for the child to end by itself, or kills it at `deadline` or when the venue has
/// received one more order than `posts` (`None`: whatever the venue does). Whether it ended
/// by itself.
fn kill_at(child: &mut Child, deadline: Instant, venue: &FakeAlpaca, posts: Option<usize>) -> bool {
    loop {
        if let Ok(Some(_)) = child.try_wait() {
            return true;
        }
        if Instant::now() >= deadline || posts.is_some_and(|p| venue.posts() > p) {
            let _ = child.kill();
            let _ = child.wait();
            return false;
        }
        std::thread::sleep(Duration::from_micros(200));
    }
}

#[test]
fn a_run_killed_fifty_times_and_resumed_sends_the_orders_of_an_uninterrupted_run_once_each() {
    let (dir_a, file_a, data_a) = setup("whole");
    let whole = venue();
    let out = run(&dir_a, &file_a, &data_a, &whole, "0").output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let expected = held(&whole);
    assert!(expected.len() >= 6, "the strategy trades through the session: {}", expected.len());

    let (dir, file, data) = setup("killed");
    let killed = venue();
    killed.delay_acknowledgements(Duration::from_millis(30));
    let mut rng = Rng(0x5eed_cafe_f00d);
    let (mut kills, mut unsent, mut unanswered, mut finished) = (0, 0, 0, false);
    let started = Instant::now();
    while !finished && started.elapsed() < Duration::from_secs(240) {
        let log = std::fs::File::create(dir.join(format!("run-{kills}.log"))).expect("log");
        let mut child =
            run(&dir, &file, &data, &killed, "100").stdout(Stdio::null()).stderr(log).spawn().expect("starts");
        // One kill in three waits for an order to reach the venue, and strikes before its
        // answer comes back; the others strike at a random instant.
        let posts = (kills % 3 == 0).then(|| killed.posts());
        let wait = if posts.is_some() { 5_000 } else { 20 + rng.below(200) };
        finished = kill_at(&mut child, Instant::now() + Duration::from_millis(wait), &killed, posts);
        if finished {
            break;
        }
        kills += 1;
        let (a, b) = interrupted(&dir.join("home"), &killed);
        unsent += usize::from(a);
        unanswered += usize::from(b);
        if kills >= 50 {
            let out = run(&dir, &file, &data, &killed, "100").output().expect("runs");
            assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
            finished = true;
        }
    }
    eprintln!("{kills} kills: {unanswered} with an order at the venue unanswered, {unsent} with an intent unsent");
    assert!(kills >= 50, "killed {kills} times before the session ended");
    assert!(unanswered > 0, "some kills left an order at the venue unanswered ({unsent} left an intent unsent)");
    assert_eq!(held(&killed), expected, "the venue holds the orders of the uninterrupted run, once each");
    assert_eq!(killed.posts(), expected.len(), "no order was sent twice, even to be refused");

    let store = strat_store::RedbStore::open(&dir.join("home/store.redb")).expect("store");
    let runs = store.runs().expect("runs");
    assert_eq!(runs.len(), 1, "every start resumed the one run");
    assert_eq!(runs[0].status, "finished");
    let journal: BTreeMap<u64, Status> =
        store.orders(1).expect("orders").into_iter().map(|o| (o.id, o.status)).collect();
    let venue_ids: Vec<u64> = expected.keys().copied().collect();
    assert_eq!(journal.keys().copied().collect::<Vec<_>>(), venue_ids, "the journal knows the venue's orders");
    assert!(journal.values().all(|s| *s == Status::Filled), "and that they filled: {journal:?}");
    let _ = std::fs::remove_dir_all(&dir);
    let _ = std::fs::remove_dir_all(&dir_a);
}

/// `strat run` of an example on the simulated market and the paper broker.
fn paper(home: &Path, file: &str) -> Command {
    let mut c = Command::new(assert_cmd::cargo::cargo_bin("strat"));
    c.current_dir(common::root())
        .env("STRAT_HOME", home)
        .env_remove("ANTHROPIC_API_KEY")
        .env_remove("OPENAI_API_KEY")
        .args(["run", file, "--days", "120", "--speed", "300"]);
    c
}

/// Starts `c` and kills it once it has printed `fills` fills.
fn kill_after_fills(mut c: Command, fills: usize) {
    use std::io::BufRead;
    let mut child = c.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("starts");
    let out = child.stdout.take().expect("stdout");
    let mut seen = 0;
    for line in std::io::BufReader::new(out).lines().map_while(Result::ok) {
        seen += usize::from(line.contains(" fill "));
        if seen >= fills {
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(seen >= fills, "the run printed {seen} fills before it ended");
}

fn report(home: &Path) -> serde_json::Value {
    let path = home.join("runs/dip_buyer-1.json");
    serde_json::from_slice(&std::fs::read(&path).expect("report saved")).expect("json")
}

#[test]
fn a_crashed_paper_run_resumes_where_it_stopped_and_ends_as_an_uninterrupted_run_does() {
    let dir = std::env::temp_dir().join(format!("strat-crash-paper-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let file = "examples/dip_buyer.strat";
    let whole = paper(&dir.join("whole"), file).output().expect("runs");
    assert_eq!(whole.status.code(), Some(0), "{}", String::from_utf8_lossy(&whole.stderr));
    let home = dir.join("killed");
    kill_after_fills(paper(&home, file), 2);
    let out = paper(&home, file).output().expect("runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(stdout.contains("resuming run 1 ("), "{stdout}");
    let (a, b) = (report(&dir.join("whole")), report(&home));
    assert!(a["orders"].as_array().is_some_and(|o| o.len() >= 4), "the example trades");
    assert_eq!(a["orders"], b["orders"], "the same orders, at the same times and prices");
    assert_eq!(a["final_equity"], b["final_equity"]);
    assert_eq!(a["equity_curve"], b["equity_curve"]);
    // The steps shown before the crash are not shown again.
    assert_eq!(stdout.matches(" fill ").count() + 2, String::from_utf8_lossy(&whole.stdout).matches(" fill ").count());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_run_is_resumed_only_as_it_began() {
    let dir = std::env::temp_dir().join(format!("strat-crash-refused-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("dip_buyer.strat");
    let text = std::fs::read_to_string(common::root().join("examples/dip_buyer.strat")).expect("example");
    std::fs::write(&file, &text).expect("write");
    let file = file.to_string_lossy().into_owned();
    let home = dir.join("home");
    let nothing = paper(&home, &file).arg("--resume").output().expect("runs");
    assert_eq!(nothing.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&nothing.stderr).contains("to resume"), "{nothing:?}");
    kill_after_fills(paper(&home, &file), 1);
    std::fs::write(&file, text.replace("max_allocation    5%", "max_allocation    4%")).expect("edit");
    let changed = paper(&home, &file).arg("--resume").output().expect("runs");
    let stderr = String::from_utf8_lossy(&changed.stderr);
    assert_eq!(changed.status.code(), Some(2), "{stderr}");
    assert!(stderr.contains("changed since run 1 began, so the run cannot be resumed"), "{stderr}");
    let missing = paper(&home, &file).args(["--resume", "7"]).output().expect("runs");
    assert!(String::from_utf8_lossy(&missing.stderr).contains("there is no run 7"), "{missing:?}");
    // Without --resume, a changed file starts a new run, and says why.
    let fresh = paper(&home, &file).output().expect("runs");
    assert_eq!(fresh.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&fresh.stderr).contains("the file changed since it began: a new run starts"));
    let finished = paper(&home, &file).args(["--resume", "2"]).output().expect("runs");
    assert!(String::from_utf8_lossy(&finished.stderr).contains("run 2 is finished"), "{finished:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_resumed_run_takes_its_models_answers_from_the_journal_and_asks_no_question_twice() {
    use strat_fakes::{FakeServer, Reply};
    const KEY: &str = "sk-ant-api03-TESTKEY-crash";
    let answer = || {
        let mut v = strat_fakes::wire_json("anthropic/response_text_json.json");
        let text = r#"{"decision": "buy", "symbol": "AAPL", "quantity": 5, "reasoning": "a dip", "confidence": 0.7}"#;
        v["content"] = serde_json::json!([{"type": "text", "text": text}]);
        Reply::json(200, v.to_string())
    };
    let dir = std::env::temp_dir().join(format!("strat-crash-models-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let run = |home: &Path, server: &FakeServer, speed: &str| {
        let mut c = Command::new(assert_cmd::cargo::cargo_bin("strat"));
        c.current_dir(common::root())
            .env("STRAT_HOME", home)
            .env("ANTHROPIC_API_KEY", KEY)
            .env("ANTHROPIC_BASE_URL", server.url())
            .env_remove("OPENAI_API_KEY")
            .args(["run", "examples/dip_buyer.strat", "--speed", speed])
            .args(["--data", "AAPL=../shared/data/prices/AAPL_2012-2014.csv"]);
        c
    };
    let whole = FakeServer::anthropic(KEY);
    whole.otherwise(answer());
    let out = run(&dir.join("whole"), &whole, "0").output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let asked = whole.hits();
    assert!(asked >= 6, "the agent asks its model through the run: {asked}");

    let killed = FakeServer::anthropic(KEY);
    killed.otherwise(answer());
    let home = dir.join("killed");
    let mut child = run(&home, &killed, "400").stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("starts");
    let deadline = Instant::now() + Duration::from_secs(60);
    while killed.hits() < asked / 2 && Instant::now() < deadline && child.try_wait().ok().flatten().is_none() {
        std::thread::sleep(Duration::from_millis(1));
    }
    let _ = child.kill();
    let _ = child.wait();
    let before = killed.hits();
    assert!(before >= 3 && before < asked, "killed after {before} of {asked} questions");
    let out = run(&home, &killed, "400").output().expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    assert!(String::from_utf8_lossy(&out.stdout).contains("resuming run 1 ("));
    // At most the question in flight at the kill is asked again.
    assert!(
        (asked..=asked + 1).contains(&killed.hits()),
        "{} questions in all, {asked} without the kill",
        killed.hits()
    );
    let read = |h: &Path| -> serde_json::Value {
        serde_json::from_slice(&std::fs::read(h.join("runs/dip_buyer-1.json")).expect("report")).expect("json")
    };
    let (a, b) = (read(&dir.join("whole")), read(&home));
    assert_eq!(a["orders"], b["orders"]);
    assert_eq!(a["executions"].as_array().map(Vec::len), b["executions"].as_array().map(Vec::len));
    let _ = std::fs::remove_dir_all(&dir);
}
