//! The live feed against the fake Polygon WebSocket (and the fake REST server for gaps):
//! minutes handed on in order, bad, repeated and late bars, reconnection with the same
//! subscriptions, eviction back-off, a wrong key, a gap filled from REST, and silences judged
//! against the market's status (a closed market waited out, an open one's stale feed said and
//! reconnected, a status that cannot be had taken as stale).

use std::time::Duration;
use strat_engine::host::MarketData;
use strat_fakes::polygon_ws::{FakePolygonWs, Step};
use strat_fakes::{FakeServer, MARKET_STATUS, Reply, market_status};
use strat_feeds::{Client, Config, Live, LiveConfig};

const KEY: &str = "pk-live-test-0123";
/// 2024-06-03 09:30 in New York, in ms.
const OPEN: i64 = 1_717_421_400_000;

fn am(sym: &str, minute: i64, close: f64) -> serde_json::Value {
    let s = OPEN + minute * 60_000;
    serde_json::json!({"ev": "AM", "sym": sym, "v": 100, "o": close, "h": close + 0.5, "l": close - 0.5, "c": close, "s": s, "e": s + 60_000})
}

fn frame(events: &[serde_json::Value]) -> Step {
    Step::Send(serde_json::Value::Array(events.to_vec()).to_string())
}

fn config(server: &FakePolygonWs, reconnects: u32) -> LiveConfig {
    LiveConfig {
        key: KEY.into(),
        url: server.url(),
        grace: Duration::from_millis(300),
        idle: Duration::from_secs(5),
        reconnects,
        backoff: Duration::from_millis(5),
        evicted_backoff: Duration::from_millis(250),
        status_every: Duration::from_secs(60),
    }
}

/// A config whose silences are short: `idle` of 150 ms.
fn quick(server: &FakePolygonWs, reconnects: u32) -> LiveConfig {
    LiveConfig { idle: Duration::from_millis(150), ..config(server, reconnects) }
}

/// A REST client of `rest`.
fn client(rest: &FakeServer) -> Client {
    let mut c = Config::from_env(|k| match k {
        "POLYGON_API_KEY" => Some(KEY.into()),
        "POLYGON_BASE_URL" => Some(rest.url()),
        _ => None,
    });
    c.backoff = Duration::from_millis(1);
    c.retries = 1;
    Client::new(c).expect("client")
}

/// REST answers for the gap: AAPL's then MSFT's minute bars for `minutes` (closes 190 + m and
/// 410 + m, moved by `offset`).
fn gap(rest: &FakeServer, minutes: &[i64], offset: f64) {
    let minute = |c: f64, m: i64| serde_json::json!({"o": c, "h": c + 0.5, "l": c - 0.5, "c": c, "v": 100, "t": OPEN + m * 60_000});
    for base in [190.0, 410.0] {
        let results: Vec<_> = minutes.iter().map(|&m| minute(base + m as f64 + offset, m)).collect();
        rest.script([Reply::json(200, serde_json::json!({"status": "OK", "results": results}).to_string())]);
    }
}

/// One step as a run sees it: its time, its closes, whether it is stale, and the notes taken
/// with it.
#[derive(Debug)]
struct Seen {
    time: String,
    closes: Vec<(usize, f64)>,
    stale: bool,
    notes: Vec<String>,
}

/// Every step, with the notes the feed gives as each is handed on, as the engine takes them.
fn run(live: &mut Live) -> Vec<Seen> {
    let mut out = Vec::new();
    let mut closed = Vec::new();
    while let Some(t) = live.next(&mut closed) {
        let mut notes = Vec::new();
        live.take_notes(&mut notes);
        let closes = closed.iter().map(|(s, b)| (*s, b.close)).collect();
        out.push(Seen { time: t.format("%H:%M").to_string(), closes, stale: live.stale().is_some(), notes });
    }
    out
}

/// Both symbols' bars of `minute`.
fn both(minute: i64) -> Step {
    frame(&[am("AAPL", minute, 190.0 + minute as f64), am("MSFT", minute, 410.0 + minute as f64)])
}

fn symbols() -> Vec<String> {
    vec!["AAPL".into(), "MSFT".into()]
}

/// Every step the feed hands on: its time and its bars' (symbol, close).
fn drain(live: &mut Live) -> Vec<(String, Vec<(usize, f64)>)> {
    let mut out = Vec::new();
    let mut closed = Vec::new();
    while let Some(t) = live.next(&mut closed) {
        out.push((t.to_string(), closed.iter().map(|(s, b)| (*s, b.close)).collect()));
    }
    out
}

#[test]
fn minutes_are_handed_on_in_order_stamped_in_new_york_with_every_symbols_bar() {
    let script = vec![
        frame(&[am("AAPL", 0, 190.0)]),
        frame(&[am("MSFT", 0, 410.0), am("AAPL", 1, 191.0)]),
        frame(&[am("MSFT", 1, 411.0)]),
        frame(&[am("AAPL", 2, 192.0), am("MSFT", 2, 412.0)]),
        Step::Close,
    ];
    let server = FakePolygonWs::start(KEY, vec![script]);
    let mut live = Live::connect(config(&server, 0), &symbols(), None).expect("connects");
    let steps = drain(&mut live);
    assert_eq!(
        steps,
        vec![
            ("2024-06-03 09:30:00".into(), vec![(0, 190.0), (1, 410.0)]),
            ("2024-06-03 09:31:00".into(), vec![(0, 191.0), (1, 411.0)]),
            ("2024-06-03 09:32:00".into(), vec![(0, 192.0), (1, 412.0)]),
        ]
    );
    let sent = &server.received()[0];
    assert_eq!(sent[0], format!("{{\"action\":\"auth\",\"params\":\"{KEY}\"}}"));
    assert_eq!(sent[1], "{\"action\":\"subscribe\",\"params\":\"AM.AAPL,AM.MSFT\"}");
    assert!(live.notes().iter().any(|n| n.starts_with("the feed ended")), "{:?}", live.notes());
}

#[test]
fn bad_repeated_and_late_bars_are_refused_or_dropped_and_said() {
    let mut bad = am("MSFT", 0, 410.0);
    bad["h"] = serde_json::json!(1.0);
    let script = vec![
        frame(&[am("AAPL", 0, 190.0), am("AAPL", 0, 999.0), bad]),
        frame(&[am("AAPL", 1, 191.0), am("MSFT", 1, 411.0)]),
        frame(&[am("MSFT", 0, 410.0)]),
        Step::Close,
    ];
    let server = FakePolygonWs::start(KEY, vec![script]);
    let mut live = Live::connect(config(&server, 0), &symbols(), None).expect("connects");
    let steps = drain(&mut live);
    assert_eq!(steps.len(), 2);
    assert_eq!(steps[0].1, vec![(0, 190.0)], "the repeat and the bad bar are out");
    let notes = live.notes();
    assert!(
        notes.iter().any(|n| n.contains("MSFT 2024-06-03 09:30:00: bar refused: high 1 is below low")),
        "{notes:?}"
    );
    assert!(notes.iter().any(|n| n.contains("AAPL 2024-06-03 09:30:00: a repeated bar was dropped")), "{notes:?}");
    assert!(
        notes.iter().any(|n| n.contains("MSFT 2024-06-03 09:30:00: bar dropped: that minute was already handed on")),
        "{notes:?}"
    );
}

#[test]
fn a_dropped_connection_is_reopened_with_the_same_subscriptions_and_a_loop_of_hang_ups_ends() {
    let scripts = vec![
        vec![frame(&[am("AAPL", 0, 190.0), am("MSFT", 0, 410.0)]), Step::Close],
        vec![frame(&[am("AAPL", 1, 191.0), am("MSFT", 1, 411.0)]), Step::Close],
        vec![Step::Close],
    ];
    let server = FakePolygonWs::start(KEY, scripts);
    let mut live = Live::connect(config(&server, 2), &symbols(), None).expect("connects");
    let steps = drain(&mut live);
    assert_eq!(steps.len(), 2, "{steps:?}");
    assert_eq!(server.connections(), 4, "two reconnections bring nothing, then it stops");
    let subscriptions: Vec<String> = server.received().iter().map(|c| c[1].clone()).collect();
    assert!(subscriptions.iter().all(|s| s == &subscriptions[0]), "{subscriptions:?}");
    let notes = live.notes();
    assert!(notes.iter().any(|n| n.contains("2 reconnections brought no bar")), "{notes:?}");
}

#[test]
fn an_eviction_waits_its_back_off_before_reconnecting() {
    let scripts = vec![
        vec![frame(&[am("AAPL", 0, 190.0), am("MSFT", 0, 410.0)]), Step::Evict],
        vec![frame(&[am("AAPL", 1, 191.0), am("MSFT", 1, 411.0)]), Step::Close],
        vec![Step::Close],
    ];
    let server = FakePolygonWs::start(KEY, scripts);
    let mut live = Live::connect(config(&server, 1), &symbols(), None).expect("connects");
    let mut closed = Vec::new();
    assert!(live.next(&mut closed).is_some());
    #[allow(clippy::disallowed_methods)]
    let started = std::time::Instant::now();
    assert!(live.next(&mut closed).is_some(), "the minute after the eviction");
    assert!(started.elapsed() >= Duration::from_millis(250), "{:?}", started.elapsed());
}

#[test]
fn a_wrong_key_is_refused_at_once() {
    let server = FakePolygonWs::start("another-key", vec![vec![]]);
    let e = Live::connect(config(&server, 3), &symbols(), None).err().expect("refused");
    assert!(e.contains("auth_failed") && !e.contains(KEY), "{e}");
    assert_eq!(server.connections(), 1, "not retried");
}

#[test]
fn a_gap_left_by_a_reconnection_is_filled_from_rest() {
    let scripts = vec![
        vec![frame(&[am("AAPL", 0, 190.0), am("MSFT", 0, 410.0)]), Step::Close],
        vec![frame(&[am("AAPL", 2, 192.0), am("MSFT", 2, 412.0)]), Step::Close],
        vec![Step::Close],
    ];
    let server = FakePolygonWs::start(KEY, scripts);
    let rest = FakeServer::polygon(KEY);
    let minute = |c: f64, m: i64| serde_json::json!({"o": c, "h": c + 0.5, "l": c - 0.5, "c": c, "v": 100, "t": OPEN + m * 60_000});
    for close in [191.0, 411.0] {
        let body = serde_json::json!({"status": "OK", "results": [minute(close - 1.0, 0), minute(close, 1)]});
        rest.script([Reply::json(200, body.to_string())]);
    }
    let mut c = Config::from_env(|k| match k {
        "POLYGON_API_KEY" => Some(KEY.into()),
        "POLYGON_BASE_URL" => Some(rest.url()),
        _ => None,
    });
    c.backoff = Duration::from_millis(1);
    let client = Client::new(c).expect("client");
    let mut live = Live::connect(config(&server, 1), &symbols(), Some(client)).expect("connects");
    let mut closed = Vec::new();
    let mut stale = Vec::new();
    let mut steps = Vec::new();
    while let Some(t) = live.next(&mut closed) {
        stale.push(live.stale().is_some());
        steps.push((t.to_string(), closed.iter().map(|(s, b)| (*s, b.close)).collect::<Vec<_>>()));
    }
    assert_eq!(stale, vec![false, true, false], "the minute filled in is old: nothing is decided on it");
    let times: Vec<&str> = steps.iter().map(|(t, _)| t.as_str()).collect();
    assert_eq!(times, vec!["2024-06-03 09:30:00", "2024-06-03 09:31:00", "2024-06-03 09:32:00"], "{steps:?}");
    assert_eq!(steps[1].1, vec![(0, 191.0), (1, 411.0)], "the missed minute, from REST");
    assert_eq!(rest.received()[0].path, "/v2/aggs/ticker/AAPL/range/1/minute/2024-06-03/2024-06-10");
}

/// CPU time this thread has used, in clock ticks (Linux), to tell waiting from spinning.
#[allow(clippy::disallowed_methods)] // reads the thread's own accounting
fn thread_cpu_ticks() -> Option<u64> {
    let stat = std::fs::read_to_string("/proc/thread-self/stat").ok()?;
    let after = stat.rsplit_once(')')?.1;
    let fields: Vec<&str> = after.split_whitespace().collect();
    // utime and stime are fields 14 and 15 of the line, 12 and 13 after the name.
    Some(fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?)
}

#[test]
fn silence_while_the_market_is_closed_waits_on_the_socket_without_reconnecting_and_says_so_once() {
    let script = vec![both(0), Step::Pause(Duration::from_millis(1200)), both(1), Step::Close];
    let server = FakePolygonWs::start(KEY, vec![script]);
    let rest = FakeServer::polygon(KEY);
    rest.route(MARKET_STATUS, [market_status("closed")]);
    let config = LiveConfig { status_every: Duration::from_millis(250), ..quick(&server, 0) };
    let mut live = Live::connect(config, &symbols(), Some(client(&rest))).expect("connects");
    let cpu = thread_cpu_ticks();
    let seen = run(&mut live);
    let cpu = cpu.zip(thread_cpu_ticks()).map(|(a, b)| b - a);
    let times: Vec<&str> = seen.iter().map(|s| s.time.as_str()).collect();
    assert_eq!(times, vec!["09:30", "09:31"]);
    assert!(seen.iter().all(|s| !s.stale), "nothing was filled in");
    assert_eq!(server.connections(), 1, "no reconnection while the market is closed");
    let asked = rest.hits_on(MARKET_STATUS);
    assert!((2..=6).contains(&asked), "asked again, but at most once per status_every: {asked}");
    assert_eq!(rest.hits(), asked, "no gap asked for");
    let notes: Vec<&String> = seen.iter().flat_map(|s| &s.notes).collect();
    assert_eq!(notes.len(), 1, "{notes:?}");
    assert!(
        notes[0].starts_with(
            "the market is closed; waiting for the open (Polygon's market status: closed at 2022-04-28 16:48:08 -04:00)"
        ),
        "{notes:?}"
    );
    assert_eq!(seen[1].notes.len(), 1, "said with the first step after the silence");
    // 1.2 s of silence: a feed that waits on its socket uses next to no CPU in it (a tick is
    // 10 ms; spinning would take about 120).
    assert!(cpu.is_none_or(|t| t <= 15), "{cpu:?} ticks of CPU");
}

#[test]
fn silence_while_the_market_is_open_is_said_at_once_as_stale_reconnected_and_the_gap_filled() {
    // The first connection goes quiet after 09:30; the second stays quiet; the third brings
    // 09:33 and 09:34.
    let scripts = vec![vec![both(0)], vec![], vec![both(3), both(4), Step::Close], vec![Step::Close]];
    let server = FakePolygonWs::start(KEY, scripts);
    let rest = FakeServer::polygon(KEY);
    rest.route(MARKET_STATUS, [market_status("open")]);
    gap(&rest, &[0, 1, 2], 0.0);
    let mut live = Live::connect(quick(&server, 2), &symbols(), Some(client(&rest))).expect("connects");
    let seen = run(&mut live);
    let steps: Vec<(&str, bool)> = seen.iter().map(|s| (s.time.as_str(), s.stale)).collect();
    assert_eq!(
        steps,
        vec![("09:30", false), ("09:31", true), ("09:32", true), ("09:33", false), ("09:34", false)],
        "the minutes filled in are old; the first live ones after them are not"
    );
    assert_eq!(seen[1].closes, vec![(0, 191.0), (1, 411.0)], "the missed minute, from REST");
    assert_eq!(rest.hits_on(MARKET_STATUS), 1, "asked once: the answer holds for status_every");
    assert!(server.connections() >= 3, "{}", server.connections());
    let notes: Vec<&String> = seen.iter().flat_map(|s| &s.notes).collect();
    let said = |i: usize, start: &str| notes.get(i).is_some_and(|n| n.starts_with(start));
    assert!(
        said(0, "the feed is stale: no frame for ") && notes[0].ends_with(" and the market is open; reconnecting"),
        "{notes:?}"
    );
    assert!(said(1, "reconnected to the feed after: the feed was stale (no frame for "), "{notes:?}");
    assert!(
        said(2, "the feed has been stale for ") && notes[2].ends_with(" (the market is open); reconnecting again"),
        "{notes:?}"
    );
    assert!(said(3, "reconnected to the feed after: "), "{notes:?}");
    assert!(said(4, "bars are coming again; the feed was stale for "), "{notes:?}");
    assert!(
        seen[1].notes.len() >= 2 && seen[0].notes.is_empty(),
        "said with the first step after the silence: {seen:?}"
    );
    assert!(live.notes().iter().all(|n| !n.contains("stale")), "taken, not kept for the end: {:?}", live.notes());
}

#[test]
fn a_minute_the_socket_delivers_after_a_stale_period_is_traded_even_when_rest_filled_it_in() {
    let scripts = vec![
        vec![both(0)],
        vec![Step::Pause(Duration::from_millis(50)), both(2), both(3), Step::Close],
        vec![Step::Close],
    ];
    let server = FakePolygonWs::start(KEY, scripts);
    let rest = FakeServer::polygon(KEY);
    rest.route(MARKET_STATUS, [market_status("open")]);
    // REST has 09:32 already, from before its minute ended.
    gap(&rest, &[1, 2], -0.25);
    // A second for its live bars to come (they come in 50 ms): every minute here is complete,
    // so no other waits on it.
    let config = LiveConfig { grace: Duration::from_secs(1), ..quick(&server, 1) };
    let mut live = Live::connect(config, &symbols(), Some(client(&rest))).expect("connects");
    let seen = run(&mut live);
    let steps: Vec<(&str, bool)> = seen.iter().map(|s| (s.time.as_str(), s.stale)).collect();
    assert_eq!(steps, vec![("09:30", false), ("09:31", true), ("09:32", false), ("09:33", false)]);
    assert_eq!(seen[2].closes, vec![(0, 192.0), (1, 412.0)], "the socket's bars, not REST's");
    let notes = live.notes();
    assert!(notes.iter().all(|n| !n.contains("repeated")), "{notes:?}");
}

#[test]
fn a_market_status_that_cannot_be_had_counts_as_stale() {
    let scripts = vec![vec![both(0)], vec![both(1), Step::Close]];
    let server = FakePolygonWs::start(KEY, scripts.clone());
    let rest = FakeServer::polygon(KEY);
    rest.route(MARKET_STATUS, [Reply::raw(200, "text/html", "<html>maintenance</html>")]);
    let mut live = Live::connect(quick(&server, 1), &symbols(), Some(client(&rest))).expect("connects");
    let seen = run(&mut live);
    assert_eq!(seen.iter().map(|s| s.time.as_str()).collect::<Vec<_>>(), vec!["09:30", "09:31"]);
    assert!(server.connections() >= 2, "reconnected");
    let first = &seen[1].notes[0];
    assert!(
        first.starts_with("the feed is stale: no frame for ")
            && first.contains("the market status could not be had (Polygon's reply is not usable: not a market status")
            && first.ends_with("so it counts as open; reconnecting"),
        "{first}"
    );
    // Without a REST client there is no status at all: stale too.
    let server = FakePolygonWs::start(KEY, scripts);
    let mut live = Live::connect(quick(&server, 1), &symbols(), None).expect("connects");
    let seen = run(&mut live);
    assert!(seen[1].notes[0].contains("could not be had (no REST client to ask it)"), "{seen:?}");
    assert!(server.connections() >= 2, "reconnected");
}
