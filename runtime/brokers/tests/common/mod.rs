//! What the Alpaca tests share: a broker on the fake venue, orders, and waiting for
//! updates with a bound.
#![allow(dead_code, clippy::disallowed_methods)] // each test file uses a part; tests wait on the wall clock

use std::time::{Duration, Instant};
use strat_brokers::{AlpacaBroker, AlpacaConfig};
use strat_engine::broker::{Kind, Order, Side, Status, Tif, Update};
use strat_engine::host::Broker;
use strat_fakes::alpaca::FakeAlpaca;

pub const ID: &str = "PKSTREAM01";
pub const SECRET: &str = "secret-stream-abcdef";
/// The longest any test waits for something to happen.
pub const WAIT: Duration = Duration::from_secs(5);

/// Polls every call while the stream does not listen, a sweep only after a minute while it
/// does (so nothing a test sees in between came from a sweep), and the stream reopened after
/// 10 ms, at most 100 ms.
pub fn config(venue: &FakeAlpaca) -> AlpacaConfig {
    let mut c = AlpacaConfig::from_env(
        |k| match k {
            "APCA_API_KEY_ID" => Some(ID.into()),
            "APCA_API_SECRET_KEY" => Some(SECRET.into()),
            "APCA_API_BASE_URL" => Some(venue.url()),
            _ => None,
        },
        false,
    )
    .expect("config");
    c.timeout = Duration::from_millis(400);
    c.backoff = Duration::from_millis(5);
    c.poll_every = Duration::ZERO;
    c.sweep_every = Duration::from_secs(60);
    c.stream_backoff = Duration::from_millis(10);
    c.stream_backoff_cap = Duration::from_millis(100);
    c
}

pub fn broker(venue: &FakeAlpaca, run_key: &str) -> AlpacaBroker {
    AlpacaBroker::new(config(venue), run_key, &["AAPL".to_string(), "MSFT".to_string()]).expect("connects")
}

/// A broker whose stream listens, with the sweep that listening starts already made.
pub fn streaming(venue: &FakeAlpaca, run_key: &str) -> AlpacaBroker {
    let mut b = broker(venue, run_key);
    assert!(until(&mut b, |b| b.streaming()), "the stream listens: {:?}", b.notes());
    updates(&mut b);
    b
}

pub fn order(id: u64, sym: usize, side: Side, qty: u64, kind: Kind) -> Order {
    Order {
        id,
        time: chrono::NaiveDate::from_ymd_opt(2024, 6, 3).and_then(|d| d.and_hms_opt(10, 0, 0)).unwrap_or_default(),
        symbol: ["AAPL", "MSFT"][sym].into(),
        sym,
        side,
        qty,
        kind,
        tif: Tif::Day,
        status: Status::Pending,
        fill_time: None,
        price: None,
        commission: 0.0,
        reason: None,
        by: "Agent".into(),
        parent: None,
        stop_loss: None,
        take_profit: None,
    }
}

pub fn limit_buy(id: u64, qty: u64) -> Order {
    order(id, 0, Side::Buy, qty, Kind::Limit { limit: 150.0 })
}

pub fn updates(b: &mut AlpacaBroker) -> Vec<Update> {
    let mut out = Vec::new();
    b.updates(&mut out);
    out
}

/// Calls `updates` every few milliseconds until `done` holds (true), or [`WAIT`] passes.
pub fn until(b: &mut AlpacaBroker, mut done: impl FnMut(&mut AlpacaBroker) -> bool) -> bool {
    let start = Instant::now();
    while start.elapsed() < WAIT {
        if done(b) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    done(b)
}

/// The updates gathered until one about order `id` comes (or [`WAIT`] passes).
pub fn updates_until(b: &mut AlpacaBroker, id: u64) -> Vec<Update> {
    let mut got = Vec::new();
    until(b, |b| {
        got.extend(updates(b));
        got.iter().any(|u| update_id(u) == id)
    });
    got
}

pub fn update_id(u: &Update) -> u64 {
    match u {
        Update::Filled { id, .. } | Update::Cancelled { id, .. } | Update::Rejected { id, .. } => *id,
    }
}

/// The venue's id of the order under this client id.
pub fn venue_id(venue: &FakeAlpaca, client_id: &str) -> String {
    let orders = venue.orders();
    let o = orders.iter().find(|o| o["client_order_id"] == client_id).expect("the venue holds it");
    o["id"].as_str().expect("an id").to_string()
}

/// The requests after the first `from` that read the order (by its venue id or its client id).
pub fn reads_of(venue: &FakeAlpaca, from: usize, venue_id: &str, client_id: &str) -> Vec<(String, String)> {
    venue.requests()[from..]
        .iter()
        .filter(|(m, p)| m == "GET" && (p.contains(venue_id) || p.contains(client_id)))
        .cloned()
        .collect()
}
