//! A stateful fake of Alpaca's Trading API (REST, v2) on 127.0.0.1, so a broker adapter can be
//! tested end to end, including the faults after which the outcome of an order is unknown
//! (adapters-and-faults.md §3.3).
//!
//! Like the venue, it checks `APCA-API-KEY-ID` and `APCA-API-SECRET-KEY` on every request
//! (401 `{"message":"unauthorized."}` otherwise), holds every order it accepts with a
//! `client_order_id` that stays unique forever (also after a cancel or a fill), writes
//! decimals as strings and times as RFC 3339 with nanoseconds, answers errors with the bodies
//! of `shared/data/fixtures/wire/alpaca/`, and sends `x-ratelimit-*` headers.
//!
//! The trading stream is served at `/stream` on the same host and port (`ws://` for the
//! `http://` base URL, as the official clients derive it): `authenticate`, `listen` to
//! `trade_updates`, then one event for each change in an order's life (`new`, `partial_fill`,
//! `fill` with its `price`, `qty` and `position_qty`, `canceled`, `rejected`), each with the
//! whole order as the REST API shows it. Knobs make it send every event twice, deliver a fill
//! before its `new`, cut its connections, refuse new ones, or refuse the keys.
//!
//! Where it simplifies: orders fill only when the test says so ([`FakeAlpaca::fill`]) or, for
//! market orders while the clock is open, at the price of
//! [`FakeAlpaca::set_fill_market_orders_at`]; quantities are whole shares (no `notional`, no
//! fractions); there are no trailing stops, order classes, replacements or assets table, and
//! the stream has no other stream than `trade_updates`; the rate limit is reported, never
//! enforced (script a 429 instead); buying power is cash less what open buys hold (no margin);
//! positions are valued at their last fill price; the clock's next open and close are an hour
//! or so away, not from a calendar.
#![allow(clippy::disallowed_methods)] // test support: the venue's times are wall-clock times

mod events;
mod http;
mod stream;
mod submit;
mod venue;
mod views;
mod wire;

use serde_json::Value;
use std::collections::VecDeque;
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;

/// A fault applied to one `POST /v2/orders` (see [`FakeAlpaca::fault_next_submits`]).
#[derive(Debug, Clone, PartialEq)]
pub enum SubmitFault {
    /// The order is processed as usual (held when valid), then the connection is closed
    /// without a response (B1).
    DropAfterAccept,
    /// The order is processed as usual, then this status is answered with a proxy's plain or
    /// HTML body, e.g. 500 or 504 (B2).
    StatusAfterAccept(u16),
    /// The order is processed as usual, and the response never comes (the connection stays
    /// open until the client gives up or the server stops).
    TimeoutAfterAccept,
    /// No response ever; the order reaches the venue only after the delay, as a request that
    /// arrived late (B3). If an order with its `client_order_id` exists by then, it is refused
    /// as a duplicate and nothing more is held.
    ArriveLate(Duration),
    /// 429 `rate limit exceeded`; nothing is held.
    RateLimited,
    /// 403 `insufficient buying power` (the fixture's figures); nothing is held.
    InsufficientBuyingPower,
}

/// The error bodies and shapes served, read from the fixtures once at start.
pub(super) struct Fixtures {
    unauthorized: String,
    buying_power: Value,
    not_found: String,
    duplicate: String,
    qty: String,
    subpenny: Value,
    rate_limited: String,
    account: Value,
    position: Value,
    /// The failed item's body of `response_close_all_207.json`.
    close_refused: Value,
    stream_authorized: Value,
    stream_listening: Value,
}

impl Fixtures {
    fn load() -> Fixtures {
        let text = |name: &str| crate::fixture(&format!("wire/alpaca/{name}"));
        let json = |name: &str| crate::wire_json(&format!("alpaca/{name}"));
        Fixtures {
            unauthorized: text("error_401_no_code.json"),
            buying_power: json("error_403_buying_power.json"),
            not_found: text("error_404_order.json"),
            duplicate: text("error_422_duplicate_client_order_id.json"),
            qty: text("error_422_qty.json"),
            subpenny: json("error_422_subpenny.json"),
            rate_limited: text("error_429.json"),
            account: json("response_account.json"),
            position: json("response_positions.json").get(0).cloned().unwrap_or(Value::Null),
            close_refused: json("response_close_all_207.json")
                .as_array()
                .and_then(|items| items.iter().find(|i| i["status"] == 403))
                .map_or(Value::Null, |i| i["body"].clone()),
            stream_authorized: json("stream_authorized.json"),
            stream_listening: json("stream_listening.json"),
        }
    }
}

/// What changes while the server runs.
struct Control {
    venue: venue::Venue,
    faults: VecDeque<SubmitFault>,
    /// The status the next GETs answer, and how many more.
    failing_gets: (u16, usize),
    requests: Vec<(String, String)>,
    posts: usize,
    /// The `client_order_id` of each `POST /v2/orders` body, in order.
    post_client_ids: Vec<Option<String>>,
    /// The rate-limit window: its start (Unix seconds) and the requests in it.
    window: (i64, u32),
    /// How long the answer to an order that was processed waits before it is sent.
    ack_delay: Duration,
    /// The requests a minute its rate-limit headers allow (the venue's 200 by default).
    rate_limit: u32,
    /// Stream upgrades answered 503.
    stream_refused: bool,
    /// Every `authenticate` on the stream answered `unauthorized`.
    stream_keys_refused: bool,
    /// Stream connections upgraded.
    stream_connections: usize,
}

struct Shared {
    state: Mutex<Control>,
    key_id: String,
    secret: String,
    fx: Fixtures,
    /// Bumped to cut every stream connection.
    cuts: tokio::sync::watch::Sender<u64>,
}

impl Shared {
    /// A receiver of the venue's events from now on.
    fn events(&self) -> tokio::sync::broadcast::Receiver<std::sync::Arc<str>> {
        lock(&self.state).venue.events.subscribe()
    }
}

/// A lock that survives a panic elsewhere (the state stays usable).
fn lock(state: &Mutex<Control>) -> MutexGuard<'_, Control> {
    state.lock().unwrap_or_else(|p| p.into_inner())
}

/// The fake venue, serving on `127.0.0.1` from its own thread until dropped.
pub struct FakeAlpaca {
    shared: Arc<Shared>,
    addr: SocketAddr,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl FakeAlpaca {
    /// Starts a venue that takes these keys, with $100,000 of cash, the clock open and
    /// nothing filled automatically. Panics when it cannot bind a port or read its fixtures.
    pub fn start(key_id: &str, secret: &str) -> FakeAlpaca {
        FakeAlpaca::try_start(key_id, secret).unwrap_or_else(|e| panic!("fake Alpaca: {e}"))
    }

    /// [`FakeAlpaca::start`], with the error when the port or runtime cannot be had.
    pub fn try_start(key_id: &str, secret: &str) -> std::io::Result<FakeAlpaca> {
        let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build()?;
        let control = Control {
            venue: venue::Venue::new(),
            faults: VecDeque::new(),
            failing_gets: (500, 0),
            requests: Vec::new(),
            posts: 0,
            post_client_ids: Vec::new(),
            window: (0, 0),
            ack_delay: Duration::ZERO,
            rate_limit: 200,
            stream_refused: false,
            stream_keys_refused: false,
            stream_connections: 0,
        };
        let shared = Arc::new(Shared {
            state: Mutex::new(control),
            key_id: key_id.to_string(),
            secret: secret.to_string(),
            fx: Fixtures::load(),
            cuts: tokio::sync::watch::Sender::new(0),
        });
        let (stop, stopped) = tokio::sync::oneshot::channel();
        let serving = shared.clone();
        let thread = std::thread::spawn(move || rt.block_on(http::serve(listener, serving, stopped)));
        Ok(FakeAlpaca { shared, addr, stop: Some(stop), thread: Some(thread) })
    }

    fn control(&self) -> MutexGuard<'_, Control> {
        lock(&self.shared.state)
    }

    /// `http://127.0.0.1:PORT`, the base URL in place of `https://paper-api.alpaca.markets`.
    pub fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `ws://127.0.0.1:PORT/stream`, the trading stream.
    pub fn stream_url(&self) -> String {
        format!("ws://{}/stream", self.addr)
    }

    /// Faults for the next authenticated `POST /v2/orders` requests, one each, in order.
    pub fn fault_next_submits(&self, faults: impl IntoIterator<Item = SubmitFault>) {
        self.control().faults.extend(faults);
    }

    /// The requests a minute the `x-ratelimit-*` headers allow (reported, never enforced).
    pub fn set_rate_limit(&self, per_minute: u32) {
        self.control().rate_limit = per_minute;
    }

    /// Holds the answer to every `POST /v2/orders` this long after the order is processed, so
    /// a client can be stopped while its order is at the venue and it does not know yet.
    pub fn delay_acknowledgements(&self, delay: Duration) {
        self.control().ack_delay = delay;
    }

    /// How many `POST /v2/orders` requests arrived, whatever their outcome.
    pub fn posts(&self) -> usize {
        self.control().posts
    }

    /// The `client_order_id` each `POST /v2/orders` body carried, in order, whatever the
    /// outcome (`None` when it sent none or the body was not JSON), so a test can tell a retry
    /// with the same id from a second order.
    pub fn post_client_ids(&self) -> Vec<Option<String>> {
        self.control().post_client_ids.clone()
    }

    /// Every order the venue holds, in arrival order, as Alpaca's Order JSON.
    pub fn orders(&self) -> Vec<Value> {
        self.control().venue.orders.iter().map(|o| o.json()).collect()
    }

    /// Fills `qty` more shares of an open order at `price`: `filled_qty`, the average
    /// `filled_avg_price`, status `partially_filled` or `filled` (with `filled_at`), cash and
    /// the position move. False (nothing changes) when the order is unknown or not open, `qty`
    /// is 0 or more than what remains, or the price is not positive.
    pub fn fill(&self, client_order_id: &str, qty: u64, price: f64) -> bool {
        self.control().venue.fill(client_order_id, qty, price)
    }

    /// Rejects an accepted, unfilled order afterwards, as the venue may after a 200: status
    /// `rejected`, `failed_at` set, and the reason as a `reject_reason` field (the fake's
    /// own; Alpaca sends it on the `trade_updates` stream). False when the order is unknown,
    /// filled in part or closed.
    pub fn reject(&self, client_order_id: &str, reason: &str) -> bool {
        self.control().venue.reject(client_order_id, reason)
    }

    /// When `Some(p)`, market orders accepted while the clock is open fill completely at `p`
    /// at once (and buys are costed at `p`); `None` (the default) leaves them `accepted`.
    pub fn set_fill_market_orders_at(&self, price: Option<f64>) {
        self.control().venue.fill_market_at = price.filter(|p| p.is_finite() && *p > 0.0);
    }

    /// What `GET /v2/clock` says of the market (open by default).
    pub fn set_clock(&self, is_open: bool) {
        self.control().venue.is_open = is_open;
    }

    /// The account's cash (and so its buying power), $100,000 by default.
    pub fn set_cash(&self, cash: f64) {
        self.control().venue.cash = cash;
    }

    /// The next `times` GET requests (after the key check) answer `status`: 429 with the
    /// venue's body, 502 and 504 with a proxy's HTML page, anything else a plain-text body.
    pub fn fail_gets(&self, status: u16, times: usize) {
        self.control().failing_gets = (status, times);
    }

    /// `(method, path?query)` of every request received, in order (a stream connection is
    /// its `GET /stream`).
    pub fn requests(&self) -> Vec<(String, String)> {
        self.control().requests.clone()
    }

    /// Makes `DELETE /v2/positions` fail to close `symbol`'s position: its item is 403
    /// "insufficient qty available", every share held for orders, as in
    /// `response_close_all_207.json`.
    pub fn fail_close_of(&self, symbol: &str) {
        self.control().venue.failing_closes.insert(symbol.to_string());
    }

    /// Makes `DELETE /v2/orders` fail to cancel the order with this client id: it stays open
    /// and its item is 404 "order not found", as in `response_cancel_all_207.json`.
    pub fn fail_cancel_of(&self, client_order_id: &str) {
        self.control().venue.failing_cancels.insert(client_order_id.to_string());
    }

    /// Sends every `trade_updates` event twice.
    pub fn duplicate_stream_events(&self, on: bool) {
        self.control().venue.events.duplicate = on;
    }

    /// Holds each `new` event back until its order's next event has gone out, so a fill
    /// arrives before the `new` of its order (an order with no later event keeps its `new`).
    pub fn reorder_stream_events(&self, on: bool) {
        self.control().venue.events.reorder = on;
    }

    /// Cuts every stream connection now, without a closing handshake, as a network failure
    /// does; the events until a client listens again are not sent to it.
    pub fn drop_stream_connections(&self) {
        self.shared.cuts.send_modify(|n| *n += 1);
    }

    /// While on, stream connections are refused (the upgrade is answered 503).
    pub fn refuse_stream_connections(&self, on: bool) {
        self.control().stream_refused = on;
    }

    /// While on, every `authenticate` on the stream is answered `unauthorized` and the socket
    /// closed, as for keys the venue does not take (REST still takes them).
    pub fn refuse_stream_keys(&self, on: bool) {
        self.control().stream_keys_refused = on;
    }

    /// How many stream connections were upgraded.
    pub fn stream_connections(&self) -> usize {
        self.control().stream_connections
    }
}

impl Drop for FakeAlpaca {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}
