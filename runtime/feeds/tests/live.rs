//! The live feed against the fake Polygon WebSocket (and the fake REST server for gaps):
//! minutes handed on in order, bad, repeated and late bars, reconnection with the same
//! subscriptions, eviction back-off, a wrong key, and a gap filled from REST.

use std::time::Duration;
use strat_engine::host::MarketData;
use strat_fakes::polygon_ws::{FakePolygonWs, Step};
use strat_fakes::{FakeServer, Reply};
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
    }
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
