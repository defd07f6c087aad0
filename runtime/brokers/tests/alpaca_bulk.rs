//! Cancel all and close all on the fake venue: each item of the 207 read on its own, a failed
//! one reported with its message (adapters-and-faults.md B13), a request that failed as a
//! whole an error rather than an empty list.
#![allow(clippy::disallowed_methods)] // tests wait on the wall clock

mod common;

use common::*;
use strat_brokers::BulkError;
use strat_engine::broker::{Kind, Side, Update};
use strat_engine::host::Broker;
use strat_fakes::alpaca::FakeAlpaca;

#[test]
fn cancel_all_reports_each_item_a_failed_one_included() {
    let venue = FakeAlpaca::start(ID, SECRET);
    let mut b = broker(&venue, "b1");
    b.submit(&limit_buy(1, 1));
    b.submit(&limit_buy(2, 1));
    venue.fail_cancel_of("strat-b1-2");
    let items = b.cancel_all().expect("a 207");
    let seen: Vec<_> = items.iter().map(|i| (i.target.clone(), i.status, i.ok, i.message.clone())).collect();
    let (one, two) = (venue_id(&venue, "strat-b1-1"), venue_id(&venue, "strat-b1-2"));
    assert_eq!(seen, [(one, 200, true, None), (two, 404, false, Some("order not found".to_string()))]);
    let got = updates_until(&mut b, 1);
    assert!(matches!(got.as_slice(), [Update::Cancelled { id: 1, .. }]), "the failed one stays open: {got:?}");

    drop(venue);
    let gone = b.cancel_all();
    assert!(
        matches!(gone, Err(BulkError::NotSent(_) | BulkError::Unknown(_))),
        "an error, not an empty list: {gone:?}"
    );
}

#[test]
fn close_all_reports_each_position_a_refused_one_included() {
    let venue = FakeAlpaca::start(ID, SECRET);
    venue.set_fill_market_orders_at(Some(20.0));
    let mut b = broker(&venue, "b2");
    b.submit(&order(1, 0, Side::Buy, 5, Kind::Market));
    b.submit(&order(2, 1, Side::Buy, 3, Kind::Market));
    b.submit(&limit_buy(3, 1));
    assert_eq!(updates(&mut b).len(), 2, "both market orders filled");
    venue.fail_close_of("MSFT");
    let items = b.close_all(true).expect("a 207");
    let seen: Vec<_> = items.iter().map(|i| (i.target.as_str(), i.status, i.ok)).collect();
    assert_eq!(seen, [("AAPL", 200, true), ("MSFT", 403, false)]);
    let closing = venue.orders().last().cloned().expect("the closing order");
    assert_eq!(items[0].order_id.as_deref(), closing["id"].as_str());
    assert_eq!((closing["side"].as_str(), closing["qty"].as_str()), (Some("sell"), Some("5")));
    assert_eq!((items[0].message.as_deref(), items[1].order_id.as_deref()), (None, None));
    assert_eq!(
        items[1].message.as_deref(),
        Some("insufficient qty available for order (requested: 3, available: 0)"),
        "the failed item's own message, not hidden by the 207"
    );
    let got = updates_until(&mut b, 3);
    assert!(matches!(got.as_slice(), [Update::Cancelled { id: 3, .. }]), "cancel_orders cancelled it: {got:?}");
}
