//! The Alpaca broker against the fake Alpaca venue on loopback: one intent is one order at the
//! venue whatever goes wrong after sending (adapters-and-faults.md §3.3), refusals with their
//! reasons, fills into the account, the clock, and live money only when asked for.

use std::time::Duration;
use strat_brokers::{AlpacaBroker, AlpacaConfig};
use strat_engine::broker::{Kind, Order, Side, Status, Tif, Update};
use strat_engine::host::Broker;
use strat_fakes::alpaca::{FakeAlpaca, SubmitFault};

mod common;
use common::{ID, SECRET};

/// The stream and bulk tests' configuration, polled at every call even while the stream
/// listens: these tests are about polling.
fn config(venue: &FakeAlpaca) -> AlpacaConfig {
    let mut c = common::config(venue);
    c.sweep_every = Duration::ZERO;
    c
}

fn broker(venue: &FakeAlpaca, run_key: &str) -> AlpacaBroker {
    AlpacaBroker::new(config(venue), run_key, &["AAPL".to_string(), "MSFT".to_string()]).expect("connects")
}

fn order(id: u64, side: Side, qty: u64, kind: Kind) -> Order {
    Order {
        id,
        time: chrono::NaiveDate::from_ymd_opt(2024, 6, 3).and_then(|d| d.and_hms_opt(10, 0, 0)).unwrap_or_default(),
        symbol: "AAPL".into(),
        sym: 0,
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

fn updates(b: &mut AlpacaBroker) -> Vec<Update> {
    let mut out = Vec::new();
    b.updates(&mut out);
    out
}

#[test]
fn an_order_goes_out_once_under_a_deterministic_client_id_and_its_fill_moves_the_account() {
    let venue = FakeAlpaca::start(ID, SECRET);
    venue.set_fill_market_orders_at(Some(150.0));
    let mut b = broker(&venue, "run7");
    assert!(b.label().starts_with("Alpaca paper account at http://127.0.0.1:"), "{}", b.label());
    let cash = b.account().cash_f64();
    b.submit(&order(3, Side::Buy, 2, Kind::Market));
    let held = venue.orders();
    assert_eq!((venue.posts(), held.len()), (1, 1));
    assert_eq!(held[0]["client_order_id"], "strat-run7-3");
    assert_eq!((held[0]["qty"].as_str(), held[0]["type"].as_str()), (Some("2"), Some("market")));
    let got = updates(&mut b);
    assert!(matches!(got.as_slice(), [Update::Filled { id: 3, price, .. }] if *price == 150.0), "{got:?}");
    assert_eq!(b.account().position(0).map(|p| p.qty), Some(2));
    assert!((b.account().cash_f64() - (cash - 300.0)).abs() < 1e-9);
}

#[test]
fn a_limit_price_is_sent_in_the_venues_increments() {
    let venue = FakeAlpaca::start(ID, SECRET);
    let mut b = broker(&venue, "run1");
    assert_eq!(b.tick(290.123), 290.12, "what the gate sees is what is sent");
    b.submit(&order(1, Side::Buy, 1, Kind::Limit { limit: 290.12 }));
    assert_eq!(venue.orders()[0]["limit_price"], "290.12");
    assert!(updates(&mut b).is_empty(), "accepted, not filled: it stays pending");
}

#[test]
fn a_connection_dropped_or_a_5xx_after_the_venue_took_the_order_is_resolved_by_lookup_not_resent() {
    for fault in
        [SubmitFault::DropAfterAccept, SubmitFault::StatusAfterAccept(504), SubmitFault::StatusAfterAccept(500)]
    {
        let venue = FakeAlpaca::start(ID, SECRET);
        venue.fault_next_submits([fault]);
        let mut b = broker(&venue, "run2");
        b.submit(&order(5, Side::Buy, 1, Kind::Limit { limit: 100.0 }));
        assert_eq!((venue.posts(), venue.orders().len()), (1, 1), "adopted, never sent again");
        assert!(updates(&mut b).is_empty(), "pending at the venue");
        assert!(venue.fill("strat-run2-5", 1, 99.5));
        let got = updates(&mut b);
        assert!(matches!(got.as_slice(), [Update::Filled { id: 5, .. }]), "{got:?}");
    }
}

#[test]
fn a_request_that_arrives_late_after_a_resend_under_the_same_id_still_makes_one_order() {
    let venue = FakeAlpaca::start(ID, SECRET);
    venue.fault_next_submits([SubmitFault::ArriveLate(Duration::from_millis(900))]);
    let mut b = broker(&venue, "run3");
    b.submit(&order(8, Side::Buy, 1, Kind::Limit { limit: 100.0 }));
    // Timed out, looked up (not there), sent again under the same id: accepted.
    assert_eq!(venue.posts(), 2);
    std::thread::sleep(Duration::from_millis(1_200));
    let held = venue.orders();
    assert_eq!(held.len(), 1, "the late first attempt is refused as a duplicate: {held:?}");
    assert_eq!(held[0]["client_order_id"], "strat-run3-8");
}

#[test]
fn a_duplicate_client_id_after_a_restart_adopts_the_order_instead_of_making_another() {
    let venue = FakeAlpaca::start(ID, SECRET);
    broker(&venue, "run4").submit(&order(1, Side::Buy, 1, Kind::Limit { limit: 100.0 }));
    let mut again = broker(&venue, "run4");
    again.submit(&order(1, Side::Buy, 1, Kind::Limit { limit: 100.0 }));
    assert_eq!((venue.posts(), venue.orders().len()), (2, 1));
    assert!(updates(&mut again).is_empty(), "adopted as pending, not refused");
    assert!(venue.fill("strat-run4-1", 1, 100.0));
    assert!(matches!(updates(&mut again).as_slice(), [Update::Filled { id: 1, .. }]));
}

#[test]
fn refusals_say_why_and_are_not_retried_while_a_rate_limit_is() {
    let venue = FakeAlpaca::start(ID, SECRET);
    venue.fault_next_submits([SubmitFault::InsufficientBuyingPower]);
    let mut b = broker(&venue, "run5");
    b.submit(&order(1, Side::Buy, 1, Kind::Limit { limit: 100.0 }));
    let got = updates(&mut b);
    assert!(
        matches!(got.as_slice(), [Update::Rejected { id: 1, reason }] if reason.contains("403") && reason.contains("insufficient buying power")),
        "{got:?}"
    );
    assert_eq!(venue.posts(), 1, "never retried");
    venue.fault_next_submits([SubmitFault::RateLimited]);
    b.submit(&order(2, Side::Buy, 1, Kind::Limit { limit: 100.0 }));
    assert_eq!((venue.posts(), venue.orders().len()), (3, 1), "429 then the same id again, accepted once");
    b.submit(&order(3, Side::Buy, 1, Kind::Limit { limit: 100.123 }));
    assert_eq!(
        venue.orders().last().map(|o| o["limit_price"].clone()),
        Some("100.12".into()),
        "rounded, so not refused"
    );
}

#[test]
fn accepted_then_rejected_and_partly_filled_then_cancelled_end_as_the_venue_says() {
    let venue = FakeAlpaca::start(ID, SECRET);
    let mut b = broker(&venue, "run6");
    b.submit(&order(1, Side::Buy, 5, Kind::Limit { limit: 100.0 }));
    b.submit(&order(2, Side::Buy, 5, Kind::Limit { limit: 100.0 }));
    assert!(venue.reject("strat-run6-1", "halted"));
    assert!(venue.fill("strat-run6-2", 3, 100.0));
    let got = updates(&mut b);
    assert!(matches!(got.as_slice(), [Update::Rejected { id: 1, .. }]), "{got:?}");
    b.cancel(2, "the strategy cancelled it");
    let got = updates(&mut b);
    assert!(matches!(got.as_slice(), [Update::Cancelled { id: 2, .. }]), "{got:?}");
    assert_eq!(b.account().position(0).map(|p| p.qty), Some(3), "the three shares filled are held");
}

#[test]
fn a_closed_market_wrong_keys_and_an_unreachable_venue_send_nothing() {
    let venue = FakeAlpaca::start(ID, SECRET);
    venue.set_clock(false);
    let mut b = broker(&venue, "run8");
    b.submit(&order(1, Side::Buy, 1, Kind::Market));
    assert_eq!(venue.posts(), 0);
    assert!(
        matches!(updates(&mut b).as_slice(), [Update::Rejected { reason, .. }] if reason.contains("market is closed"))
    );
    let wrong = FakeAlpaca::start("another", "keys");
    let e = AlpacaBroker::new(config(&wrong), "run8", &["AAPL".into()]).err().expect("refused");
    assert!(e.contains("401") && !e.contains(SECRET), "{e}");
    let url = venue.url();
    drop(venue);
    let mut c = AlpacaConfig::from_env(
        |k| match k {
            "APCA_API_KEY_ID" => Some(ID.into()),
            "APCA_API_SECRET_KEY" => Some(SECRET.into()),
            "APCA_API_BASE_URL" => Some(url.clone()),
            _ => None,
        },
        false,
    )
    .expect("config");
    c.backoff = Duration::from_millis(1);
    assert!(AlpacaBroker::new(c, "run8", &["AAPL".into()]).is_err(), "no account, no broker");
}

#[test]
#[allow(clippy::disallowed_methods)] // the pacing is a wait on the wall clock
fn requests_are_paced_to_the_rate_limit_and_wait_for_the_reset_when_the_venue_says_none_are_left() {
    let venue = FakeAlpaca::start(ID, SECRET);
    let mut c = config(&venue);
    c.rate_limit = 3;
    c.rate_window = Duration::from_millis(300);
    let mut b = AlpacaBroker::new(c, "1xpace", &["AAPL".to_string()]).expect("connects");
    let started = std::time::Instant::now();
    // The account and positions were read at the start; the clock and the order fill the
    // window, so the second order waits for the first request to leave it.
    b.submit(&order(8, Side::Buy, 1, Kind::Market));
    b.submit(&order(9, Side::Buy, 1, Kind::Market));
    assert!(started.elapsed() >= Duration::from_millis(250), "the fourth request waited: {:?}", started.elapsed());
    // A venue that says none are left (after the account and positions) is not asked again
    // before its reset (here at most the 1.5 s window away).
    let venue = FakeAlpaca::start(ID, SECRET);
    venue.set_rate_limit(2);
    let mut c = config(&venue);
    c.rate_window = Duration::from_millis(1500);
    let mut b = AlpacaBroker::new(c, "1xreset", &["AAPL".to_string()]).expect("connects");
    let started = std::time::Instant::now();
    b.submit(&order(1, Side::Buy, 1, Kind::Market));
    assert!(started.elapsed() >= Duration::from_millis(1000), "waited for the reset: {:?}", started.elapsed());
    assert_eq!(venue.posts(), 1, "then sent");
}
