//! Alpaca's order JSON both ways: the body of a submission (decimals as strings, prices in the
//! venue's increments) and what an Order says back (its id, status, fills), decimals read as
//! decimals and times with their offsets.

use chrono::{DateTime, NaiveDateTime};
use rust_decimal::Decimal;
use std::str::FromStr;
use strat_engine::broker::{Kind, Order, Side, Tif};

/// A price in Alpaca's increments: cents at $1 and above, four places below (a finer price is
/// refused with 422 "sub-penny increment").
pub fn tick(price: f64) -> f64 {
    if !price.is_finite() || price <= 0.0 {
        return price;
    }
    let scale = if price >= 1.0 { 100.0 } else { 10_000.0 };
    (price * scale).round() / scale
}

fn price_text(p: f64) -> String {
    let p = tick(p);
    if p >= 1.0 { format!("{p:.2}") } else { format!("{p:.4}") }
}

/// The body of `POST /v2/orders` for `order`, with its client order id.
pub fn order_body(order: &Order, client_id: &str) -> serde_json::Value {
    let (kind, limit, stop) = match order.kind {
        Kind::Market => ("market", None, None),
        Kind::Limit { limit } => ("limit", Some(limit), None),
        Kind::Stop { stop } => ("stop", None, Some(stop)),
        Kind::StopLimit { stop, limit, .. } => ("stop_limit", Some(limit), Some(stop)),
    };
    let tif = match order.tif {
        Tif::Day => "day",
        Tif::Gtc => "gtc",
        Tif::Ioc => "ioc",
        Tif::Fok => "fok",
    };
    let mut b = serde_json::json!({
        "symbol": order.symbol,
        "qty": order.qty.to_string(),
        "side": if order.side == Side::Buy { "buy" } else { "sell" },
        "type": kind,
        "time_in_force": tif,
        "client_order_id": client_id,
    });
    if let Some(l) = limit {
        b["limit_price"] = price_text(l).into();
    }
    if let Some(s) = stop {
        b["stop_price"] = price_text(s).into();
    }
    b
}

/// What an Order says of itself.
#[derive(Debug, Clone, PartialEq)]
pub struct State {
    pub id: String,
    pub client_id: String,
    pub status: String,
    pub filled_qty: Decimal,
    pub filled_avg_price: Option<Decimal>,
    /// When it filled, in New York time.
    pub filled_at: Option<NaiveDateTime>,
}

/// Reads an Order; `None` when it is not one.
pub fn state(v: &serde_json::Value) -> Option<State> {
    let text = |k: &str| v[k].as_str().map(str::to_string);
    let decimal = |k: &str| v[k].as_str().and_then(|s| Decimal::from_str(s.trim()).ok());
    Some(State {
        id: text("id")?,
        client_id: text("client_order_id").unwrap_or_default(),
        status: text("status")?,
        filled_qty: decimal("filled_qty").unwrap_or_default(),
        filled_avg_price: decimal("filled_avg_price"),
        filled_at: v["filled_at"].as_str().and_then(new_york),
    })
}

/// An RFC 3339 time (any offset, nanoseconds) in New York time.
pub fn new_york(s: &str) -> Option<NaiveDateTime> {
    let t = DateTime::parse_from_rfc3339(s.trim()).ok()?;
    Some(t.with_timezone(&chrono_tz::America::New_York).naive_local())
}

/// Whether a 422 says the client order id was used before (Alpaca has worded it more than one
/// way).
pub fn is_duplicate(message: &str) -> bool {
    let m: String = message.to_ascii_lowercase().chars().filter(|c| c.is_ascii_alphanumeric()).collect();
    m.contains("clientorderidmustbeunique")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prices_go_out_in_the_venues_increments_and_decimals_as_strings() {
        assert_eq!((tick(290.123), tick(0.123456), tick(1.005)), (290.12, 0.1235, 1.0));
        assert_eq!(price_text(150.0), "150.00");
        assert_eq!(price_text(0.5), "0.5000");
    }

    #[test]
    fn an_order_reads_its_decimals_exactly_and_its_times_with_their_offsets() {
        let v = serde_json::json!({"id": "7b08", "client_order_id": "strat-x-1", "status": "filled",
            "filled_qty": "3", "filled_avg_price": "0.123456789", "filled_at": "2024-06-03T13:31:24.668464435Z"});
        let s = state(&v).expect("an order");
        assert_eq!(s.filled_avg_price, Decimal::from_str("0.123456789").ok());
        assert_eq!(s.filled_at.map(|t| t.to_string()), Some("2024-06-03 09:31:24.668464435".into()));
        assert_eq!(new_york("2025-06-24T14:15:22-04:00").map(|t| t.to_string()), Some("2025-06-24 14:15:22".into()));
        assert!(state(&serde_json::json!({"message": "x"})).is_none());
    }

    #[test]
    fn a_duplicate_client_id_is_recognised_however_it_is_worded() {
        assert!(is_duplicate("client_order_id must be unique"));
        assert!(is_duplicate("Client order id must be unique"));
        assert!(!is_duplicate("qty must be > 0"));
    }
}
