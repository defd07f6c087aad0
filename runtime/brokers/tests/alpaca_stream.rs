//! The Alpaca broker on the fake venue's `trade_updates` stream: what the stream says reaches
//! `updates()` without a poll, idempotently (duplicates, a fill before its `new`, a rejection
//! after acceptance, adapters-and-faults.md B10 and B12), and polling carries on while the
//! stream is down or refused.
#![allow(clippy::disallowed_methods)] // tests wait on the wall clock

mod common;

use common::*;
use std::time::Duration;
use strat_engine::broker::{Kind, Side, Update};
use strat_engine::host::Broker;
use strat_fakes::alpaca::FakeAlpaca;

#[test]
fn a_fill_delivered_by_the_stream_reaches_updates_without_a_get_of_the_order() {
    let venue = FakeAlpaca::start(ID, SECRET);
    let mut b = streaming(&venue, "s1");
    b.submit(&limit_buy(1, 2));
    assert!(updates(&mut b).is_empty(), "accepted, not filled");
    let seen = venue.requests().len();
    assert!(venue.fill("strat-s1-1", 2, 149.5));
    let got = updates_until(&mut b, 1);
    assert!(matches!(got.as_slice(), [Update::Filled { id: 1, price, .. }] if *price == 149.5), "{got:?}");
    assert_eq!(b.account().position(0).map(|p| p.qty), Some(2));
    let reads = reads_of(&venue, seen, &venue_id(&venue, "strat-s1-1"), "strat-s1-1");
    assert!(reads.is_empty(), "the fill came by the stream, not a poll: {reads:?}");
}

#[test]
fn a_rejection_after_acceptance_comes_by_the_stream_as_a_rejection() {
    let venue = FakeAlpaca::start(ID, SECRET);
    let mut b = streaming(&venue, "s2");
    let cash = b.account().cash_f64();
    b.submit(&limit_buy(1, 3));
    assert!(updates(&mut b).is_empty(), "accepted (200) is not final");
    let seen = venue.requests().len();
    assert!(venue.reject("strat-s2-1", "risk check"));
    let got = updates_until(&mut b, 1);
    assert!(matches!(got.as_slice(), [Update::Rejected { id: 1, .. }]), "{got:?}");
    assert_eq!((b.account().position(0).map(|p| p.qty), b.account().cash_f64()), (None, cash), "no position assumed");
    assert!(reads_of(&venue, seen, &venue_id(&venue, "strat-s2-1"), "strat-s2-1").is_empty());
}

#[test]
fn duplicated_and_reordered_events_end_in_one_fill_with_the_right_quantity_and_price() {
    let venue = FakeAlpaca::start(ID, SECRET);
    let mut b = streaming(&venue, "s3");
    venue.duplicate_stream_events(true);
    venue.reorder_stream_events(true);
    let cash = b.account().cash_f64();
    b.submit(&limit_buy(1, 5));
    assert!(updates(&mut b).is_empty());
    let seen = venue.requests().len();
    // partial_fill ×2, then the `new` held back ×2, then fill ×2.
    assert!(venue.fill("strat-s3-1", 3, 100.0));
    assert!(venue.fill("strat-s3-1", 2, 103.0));
    let mut got = updates_until(&mut b, 1);
    // Whatever else was on its way is taken too: it must change nothing.
    venue.set_fill_market_orders_at(Some(50.0));
    b.submit(&order(2, 0, Side::Buy, 2, Kind::Market));
    got.extend(updates_until(&mut b, 2));
    std::thread::sleep(Duration::from_millis(50));
    got.extend(updates(&mut b));
    assert_eq!(got.len(), 2, "one fill each, whatever came twice or late: {got:?}");
    assert!(matches!(got[0], Update::Filled { id: 1, price, .. } if (price - 101.2).abs() < 1e-9), "{got:?}");
    assert!(matches!(got[1], Update::Filled { id: 2, price, .. } if price == 50.0), "{got:?}");
    assert_eq!(b.account().position(0).map(|p| p.qty), Some(7), "5 and 2 shares, each counted once");
    assert!((b.account().cash_f64() - (cash - 506.0 - 100.0)).abs() < 1e-6);
    assert!(reads_of(&venue, seen, &venue_id(&venue, "strat-s3-1"), "strat-s3-1").is_empty());
}

#[test]
fn a_dropped_stream_falls_back_to_polling_and_still_reports_the_fill_then_reconnects() {
    let venue = FakeAlpaca::start(ID, SECRET);
    let mut b = streaming(&venue, "s4");
    b.submit(&limit_buy(1, 1));
    assert!(updates(&mut b).is_empty());
    venue.refuse_stream_connections(true);
    venue.drop_stream_connections();
    let seen = venue.requests().len();
    assert!(venue.fill("strat-s4-1", 1, 99.0));
    let got = updates_until(&mut b, 1);
    assert!(matches!(got.as_slice(), [Update::Filled { id: 1, price, .. }] if *price == 99.0), "{got:?}");
    assert!(!reads_of(&venue, seen, &venue_id(&venue, "strat-s4-1"), "strat-s4-1").is_empty(), "found by a poll");
    assert!(b.notes().iter().any(|n| n.contains("stream was lost")), "{:?}", b.notes());

    venue.refuse_stream_connections(false);
    assert!(until(&mut b, |b| {
        updates(b);
        b.streaming()
    }));
    assert_eq!(venue.stream_connections(), 2, "connected again, after refused attempts");
    b.submit(&limit_buy(2, 1));
    updates(&mut b);
    let seen = venue.requests().len();
    assert!(venue.fill("strat-s4-2", 1, 98.0));
    let got = updates_until(&mut b, 2);
    assert!(matches!(got.as_slice(), [Update::Filled { id: 2, .. }]), "{got:?}");
    let reads = reads_of(&venue, seen, &venue_id(&venue, "strat-s4-2"), "strat-s4-2");
    assert!(reads.is_empty(), "listening again, by the stream: {reads:?}");
    assert!(b.notes().iter().any(|n| n.contains("listens again")), "{:?}", b.notes());
}

#[test]
fn a_wrong_key_on_the_stream_is_a_note_and_polling_carries_on() {
    let venue = FakeAlpaca::start(ID, SECRET);
    venue.refuse_stream_keys(true);
    let mut b = broker(&venue, "s5");
    let refused = |b: &mut strat_brokers::AlpacaBroker| {
        updates(b);
        b.notes().iter().any(|n| n.contains("refused the keys on the trade_updates stream"))
    };
    assert!(until(&mut b, refused), "{:?}", b.notes());
    assert!(!b.streaming());
    b.submit(&limit_buy(1, 1));
    assert!(venue.fill("strat-s5-1", 1, 97.0));
    let got = updates(&mut b);
    assert!(matches!(got.as_slice(), [Update::Filled { id: 1, .. }]), "polled at once: {got:?}");
    // Ten times the first pause: keys refused are not sent again.
    std::thread::sleep(Duration::from_millis(100));
    assert_eq!(venue.stream_connections(), 1);
}

#[test]
fn events_for_orders_the_broker_does_not_track_change_nothing() {
    let venue = FakeAlpaca::start(ID, SECRET);
    venue.set_fill_market_orders_at(Some(10.0));
    let mut other = streaming(&venue, "other");
    let mut b = streaming(&venue, "s6");
    let cash = b.account().cash_f64();
    other.submit(&order(1, 0, Side::Buy, 3, Kind::Market));
    b.submit(&limit_buy(1, 1));
    assert!(venue.fill("strat-s6-1", 1, 11.0));
    let got = updates_until(&mut b, 1);
    assert!(matches!(got.as_slice(), [Update::Filled { id: 1, price, .. }] if *price == 11.0), "{got:?}");
    assert_eq!(b.account().position(0).map(|p| p.qty), Some(1), "the other run's 3 shares are not this run's");
    assert!((b.account().cash_f64() - (cash - 11.0)).abs() < 1e-9);
}

#[test]
fn a_resumed_broker_takes_the_venues_positions_when_they_differ_from_the_journals_and_says_so() {
    let venue = FakeAlpaca::start(ID, SECRET);
    venue.set_fill_market_orders_at(Some(50.0));
    let mut first = broker(&venue, "1xresume");
    first.submit(&order(1, 0, Side::Buy, 4, Kind::Market));
    assert!(updates(&mut first).iter().any(|u| matches!(u, Update::Filled { id: 1, .. })));
    drop(first);
    // The journal says nothing was bought (as if the fill were made outside the run).
    let mut again = broker(&venue, "1xresume");
    let cash = again.account().cash();
    again.resume(strat_engine::broker::Account::restore(cash, &[], 2), &[]).expect("takes over");
    updates(&mut again);
    assert_eq!(again.account().position(0).map(|p| p.qty), Some(4), "the venue's position is kept");
    assert!(again.notes().iter().any(|n| n.contains("AAPL 0 in the run, 4 at the venue")), "{:?}", again.notes());
}

#[test]
fn the_account_is_checked_against_the_venues_positions_while_no_order_is_open() {
    let venue = FakeAlpaca::start(ID, SECRET);
    venue.set_fill_market_orders_at(Some(20.0));
    let mut c = config(&venue);
    c.account_every = Duration::ZERO;
    let mut b =
        strat_brokers::AlpacaBroker::new(c, "1xcheck", &["AAPL".to_string(), "MSFT".to_string()]).expect("connects");
    // Shares bought at the venue outside the run (another client under another id).
    let mut other = broker(&venue, "2xother");
    other.submit(&order(1, 1, Side::Buy, 3, Kind::Market));
    updates(&mut other);
    assert!(b.account().position(1).is_none());
    updates(&mut b);
    assert_eq!(b.account().position(1).map(|p| p.qty), Some(3), "{:?}", b.notes());
    assert!(b.notes().iter().any(|n| n.contains("MSFT 0 in the run, 3 at the venue")), "{:?}", b.notes());
}
