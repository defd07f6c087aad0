//! The venue's book: orders (unique on `client_order_id` forever), fills, cash and positions,
//! and the `trade_updates` event of each change.

use super::Fixtures;
use super::events::{Fill, Outbox};
use super::submit::{self, NewOrder, Side};
use super::wire::{self, Answer, Ids, dec};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet};

/// The price a buy is costed at when it names none and market orders are not filled.
pub(super) const REFERENCE_PRICE: f64 = 100.0;

/// An order as the venue holds it.
#[derive(Debug, Clone)]
pub(super) struct Order {
    pub id: String,
    pub client_order_id: String,
    pub new: NewOrder,
    pub status: &'static str,
    pub filled_qty: u64,
    pub filled_avg_price: Option<f64>,
    pub created_at: String,
    pub updated_at: String,
    pub filled_at: Option<String>,
    pub canceled_at: Option<String>,
    pub failed_at: Option<String>,
    pub reject_reason: Option<String>,
    /// What each unfilled share holds of the buying power.
    pub reserve_price: f64,
}

impl Order {
    pub fn is_open(&self) -> bool {
        matches!(self.status, "new" | "accepted" | "pending_new" | "partially_filled")
    }

    fn remaining(&self) -> u64 {
        self.new.qty.saturating_sub(self.filled_qty)
    }

    /// The Order object of the wire format.
    pub fn json(&self) -> Value {
        let n = &self.new;
        let mut v = json!({
            "asset_class": "us_equity", "asset_id": wire::asset_id(&n.symbol),
            "canceled_at": self.canceled_at, "client_order_id": self.client_order_id,
            "created_at": self.created_at, "expired_at": null, "extended_hours": n.extended_hours,
            "failed_at": self.failed_at, "filled_at": self.filled_at,
            "filled_avg_price": self.filled_avg_price.map(dec), "filled_qty": self.filled_qty.to_string(),
            "hwm": null, "id": self.id, "legs": null, "limit_price": n.limit_price.map(dec), "notional": null,
            "order_class": "", "order_type": n.kind, "qty": n.qty.to_string(), "replaced_at": null,
            "replaced_by": null, "replaces": null, "side": n.side.text(), "source": null, "status": self.status,
            "stop_price": n.stop_price.map(dec), "submitted_at": self.created_at, "subtag": null,
            "symbol": n.symbol, "time_in_force": n.time_in_force, "trail_percent": null, "trail_price": null,
            "type": n.kind, "updated_at": self.updated_at,
        });
        if let Some(r) = &self.reject_reason {
            v["reject_reason"] = r.clone().into();
        }
        if let Some(p) = n.position_intent {
            v["position_intent"] = p.into();
        }
        v
    }
}

/// A position: signed quantity (negative when short), average entry, last fill price.
#[derive(Debug, Clone)]
pub(super) struct Position {
    pub qty: i64,
    pub avg_entry_price: f64,
    pub last_price: f64,
}

pub(super) struct Venue {
    pub orders: Vec<Order>,
    by_client: BTreeMap<String, usize>,
    pub positions: BTreeMap<String, Position>,
    pub cash: f64,
    pub fill_market_at: Option<f64>,
    pub is_open: bool,
    /// The symbols whose position `DELETE /v2/positions` fails to close (403).
    pub failing_closes: BTreeSet<String>,
    /// The client ids of the orders `DELETE /v2/orders` fails to cancel (404).
    pub failing_cancels: BTreeSet<String>,
    pub events: Outbox,
    ids: Ids,
}

impl Venue {
    pub fn new() -> Venue {
        Venue {
            orders: Vec::new(),
            by_client: BTreeMap::new(),
            positions: BTreeMap::new(),
            cash: 100_000.0,
            fill_market_at: None,
            is_open: true,
            failing_closes: BTreeSet::new(),
            failing_cancels: BTreeSet::new(),
            events: Outbox::new(),
            ids: Ids::new(),
        }
    }

    pub fn by_client_id(&self, client_order_id: &str) -> Option<&Order> {
        self.by_client.get(client_order_id).and_then(|&i| self.orders.get(i))
    }

    fn index_of_id(&self, id: &str) -> Option<usize> {
        self.orders.iter().position(|o| o.id == id)
    }

    pub fn by_id(&self, id: &str) -> Option<&Order> {
        self.index_of_id(id).and_then(|i| self.orders.get(i))
    }

    /// Cash less what open buys hold.
    pub fn buying_power(&self) -> f64 {
        let held: f64 = self
            .orders
            .iter()
            .filter(|o| o.is_open() && o.new.side == Side::Buy)
            .map(|o| o.remaining() as f64 * o.reserve_price)
            .sum();
        self.cash - held
    }

    /// Cash plus every position at its last fill price.
    pub fn equity(&self) -> f64 {
        self.cash + self.positions.values().map(|p| p.qty as f64 * p.last_price).sum::<f64>()
    }

    /// `POST /v2/orders`: validated, costed against the buying power, then held.
    pub fn submit(&mut self, body: Option<&[u8]>, fx: &Fixtures) -> Answer {
        let m = match submit::object(body) {
            Ok(m) => m,
            Err(a) => return a,
        };
        let client_id = match submit::client_id(&m) {
            Ok(c) => c,
            Err(a) => return a,
        };
        if client_id.as_ref().is_some_and(|c| self.by_client.contains_key(c)) {
            return Answer::json_text(422, &fx.duplicate);
        }
        let new = match submit::parse(&m, fx) {
            Ok(n) => n,
            Err(a) => return a,
        };
        let market_fill = self.fill_market_at.filter(|_| new.kind == "market" && self.is_open);
        let reserve_price = new.limit_price.or(new.stop_price).or(self.fill_market_at).unwrap_or(REFERENCE_PRICE);
        if new.side == Side::Buy {
            let cost = new.qty as f64 * market_fill.unwrap_or(reserve_price);
            let available = self.buying_power();
            if cost > available + 1e-9 {
                let mut body = fx.buying_power.clone();
                body["buying_power"] = dec(available).into();
                body["cost_basis"] = dec(cost).into();
                return Answer::json(403, &body);
            }
        }
        let i = self.hold(new, client_id, reserve_price);
        if let Some(p) = market_fill {
            let qty = self.orders.get(i).map_or(0, |o| o.new.qty);
            self.apply_fill(i, qty, p);
        }
        self.orders
            .get(i)
            .map_or_else(|| Answer::error(500, 50_000_000, "internal error"), |o| Answer::json(200, &o.json()))
    }

    fn hold(&mut self, new: NewOrder, client_id: Option<String>, reserve_price: f64) -> usize {
        let now = wire::now_text();
        let id = self.ids.next();
        let client_order_id = client_id.unwrap_or_else(|| self.ids.next());
        self.by_client.insert(client_order_id.clone(), self.orders.len());
        self.orders.push(Order {
            id,
            client_order_id,
            new,
            status: "accepted",
            filled_qty: 0,
            filled_avg_price: None,
            created_at: now.clone(),
            updated_at: now,
            filled_at: None,
            canceled_at: None,
            failed_at: None,
            reject_reason: None,
            reserve_price,
        });
        let i = self.orders.len() - 1;
        self.emit(i, "new", None);
        i
    }

    /// The `trade_updates` event of the order at `i`, as it is now.
    fn emit(&mut self, i: usize, event: &str, fill: Option<Fill>) {
        if let Some(o) = self.orders.get(i) {
            self.events.emit(event, o.json(), fill);
        }
    }

    /// Fills `qty` more of an open order at `price`; false when it is not open, the quantity is
    /// zero or more than what remains, or the price is not positive.
    pub fn fill(&mut self, client_order_id: &str, qty: u64, price: f64) -> bool {
        let Some(&i) = self.by_client.get(client_order_id) else { return false };
        let fillable = self.orders.get(i).is_some_and(|o| o.is_open() && qty > 0 && qty <= o.remaining());
        if !fillable || !price.is_finite() || price <= 0.0 {
            return false;
        }
        self.apply_fill(i, qty, price);
        true
    }

    fn apply_fill(&mut self, i: usize, qty: u64, price: f64) {
        let now = wire::now_text();
        let Some(o) = self.orders.get_mut(i) else { return };
        let before = o.filled_qty as f64 * o.filled_avg_price.unwrap_or(0.0);
        o.filled_qty += qty;
        o.filled_avg_price = Some((before + qty as f64 * price) / o.filled_qty as f64);
        o.status = if o.filled_qty >= o.new.qty { "filled" } else { "partially_filled" };
        if o.status == "filled" {
            o.filled_at = Some(now.clone());
        }
        o.updated_at = now;
        let q = i64::try_from(qty).unwrap_or(i64::MAX);
        let signed = if o.new.side == Side::Buy { q } else { -q };
        let symbol = o.new.symbol.clone();
        let event = if o.status == "filled" { "fill" } else { "partial_fill" };
        self.cash -= signed as f64 * price;
        self.move_position(symbol.clone(), signed, price);
        let position_qty = self.positions.get(&symbol).map_or(0, |p| p.qty);
        self.emit(i, event, Some(Fill { qty, price, position_qty }));
    }

    fn move_position(&mut self, symbol: String, d: i64, price: f64) {
        let p = self.positions.entry(symbol.clone()).or_insert(Position {
            qty: 0,
            avg_entry_price: 0.0,
            last_price: price,
        });
        p.last_price = price;
        let (q, new) = (p.qty, p.qty.saturating_add(d));
        if q == 0 || (q > 0) == (d > 0) {
            let (a, b) = (q.unsigned_abs() as f64, d.unsigned_abs() as f64);
            p.avg_entry_price = (a * p.avg_entry_price + b * price) / (a + b);
        } else if new != 0 && (new > 0) != (q > 0) {
            p.avg_entry_price = price;
        }
        p.qty = new;
        if new == 0 {
            self.positions.remove(&symbol);
        }
    }

    /// An accepted order rejected afterwards; false unless it is open and unfilled.
    pub fn reject(&mut self, client_order_id: &str, reason: &str) -> bool {
        let Some(&i) = self.by_client.get(client_order_id) else { return false };
        let Some(o) = self.orders.get_mut(i).filter(|o| o.is_open() && o.filled_qty == 0) else { return false };
        let now = wire::now_text();
        o.status = "rejected";
        o.failed_at = Some(now.clone());
        o.updated_at = now;
        o.reject_reason = Some(reason.to_string());
        self.emit(i, "rejected", None);
        true
    }

    /// `DELETE /v2/orders/{id}`.
    pub fn cancel(&mut self, id: &str, fx: &Fixtures) -> Answer {
        let Some(i) = self.index_of_id(id) else { return Answer::json_text(404, &fx.not_found) };
        if self.cancel_at(i) { Answer::empty() } else { Answer::error(422, 42_210_000, "order is not cancelable") }
    }

    fn cancel_at(&mut self, i: usize) -> bool {
        let Some(o) = self.orders.get_mut(i).filter(|o| o.is_open()) else { return false };
        let now = wire::now_text();
        o.status = "canceled";
        o.canceled_at = Some(now.clone());
        o.updated_at = now;
        self.emit(i, "canceled", None);
        true
    }

    /// `DELETE /v2/orders`: every open order canceled, one 207 item each; an order set to
    /// fail stays open and its item is the fixture's 404 (as for an order the venue lost
    /// meanwhile).
    pub fn cancel_all(&mut self, fx: &Fixtures) -> Answer {
        let mut items = Vec::new();
        for i in 0..self.orders.len() {
            let failing =
                self.orders.get(i).filter(|o| o.is_open() && self.failing_cancels.contains(&o.client_order_id));
            if let Some(o) = failing {
                let body: Value = serde_json::from_str(&fx.not_found).unwrap_or(Value::Null);
                items.push(json!({ "id": o.id, "status": 404, "body": body }));
            } else if self.cancel_at(i)
                && let Some(o) = self.orders.get(i)
            {
                items.push(json!({ "id": o.id, "status": 200 }));
            }
        }
        Answer::json(207, &Value::Array(items))
    }

    /// `DELETE /v2/positions[?cancel_orders=true]`: every position closed by a market order
    /// (filled at once at the market fill price while the clock is open), one 207 item each
    /// (by symbol): 200 with the closing order, or 403 with the venue's body when shares are
    /// held by open orders (or the symbol is set to fail).
    pub fn close_all(&mut self, cancel_orders: bool, fx: &Fixtures) -> Answer {
        if cancel_orders {
            for i in 0..self.orders.len() {
                self.cancel_at(i);
            }
        }
        let mut items = Vec::new();
        let positions: Vec<(String, i64)> = self.positions.iter().map(|(s, p)| (s.clone(), p.qty)).collect();
        for (symbol, qty) in positions {
            let side = if qty > 0 { Side::Sell } else { Side::Buy };
            let existing = qty.unsigned_abs();
            let held: u64 = self
                .orders
                .iter()
                .filter(|o| o.is_open() && o.new.symbol == symbol && o.new.side == side)
                .map(Order::remaining)
                .sum();
            let held = if self.failing_closes.contains(&symbol) { held.max(existing) } else { held };
            if held > 0 {
                items.push(
                    json!({ "symbol": symbol, "status": 403, "body": close_refused(fx, &symbol, existing, held) }),
                );
                continue;
            }
            let new = NewOrder {
                symbol: symbol.clone(),
                qty: existing,
                side,
                kind: "market",
                time_in_force: "day",
                limit_price: None,
                stop_price: None,
                extended_hours: false,
                position_intent: Some(if side == Side::Sell { "sell_to_close" } else { "buy_to_close" }),
            };
            let reserve_price = self.fill_market_at.unwrap_or(REFERENCE_PRICE);
            let i = self.hold(new, None, reserve_price);
            if let Some(p) = self.fill_market_at.filter(|_| self.is_open) {
                self.apply_fill(i, existing, p);
            }
            let body = self.orders.get(i).map(Order::json).unwrap_or(Value::Null);
            items.push(json!({ "symbol": symbol, "status": 200, "body": body }));
        }
        Answer::json(207, &Value::Array(items))
    }
}

/// The 403 of a position that cannot be closed as shares are held for orders (the body of
/// `response_close_all_207.json`'s failed item, with this position's figures).
fn close_refused(fx: &Fixtures, symbol: &str, existing: u64, held: u64) -> Value {
    let available = existing.saturating_sub(held);
    let mut body = fx.close_refused.clone();
    body["symbol"] = symbol.into();
    body["existing_qty"] = existing.to_string().into();
    body["held_for_orders"] = held.to_string().into();
    body["available"] = available.to_string().into();
    body["message"] =
        format!("insufficient qty available for order (requested: {existing}, available: {available})").into();
    body
}
