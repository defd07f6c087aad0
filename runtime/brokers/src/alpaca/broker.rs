//! The broker: submissions, their resolution, the stream's events and polling, cancels and the
//! account.

use super::bulk::{self, BulkError, BulkItem};
use super::config::Config;
use super::http::{Http, Lost, Reply};
use super::stream::Stream;
use super::wire::{self, State};
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use strat_engine::broker::{Account, Kind, Order, Side, Update};
use strat_engine::host::Broker;
use strat_engine::market::Bar;

/// An order sent and not yet final.
struct Tracked {
    order: Order,
    client_id: String,
    /// The venue's id, once known; `None` while the outcome is unknown.
    venue_id: Option<String>,
    /// Why the strategy cancelled it, once it asked.
    cancelled: Option<String>,
}

/// What a submission came to.
enum Sent {
    Held(State),
    Refused(String),
    Unknown(String),
}

pub struct AlpacaBroker {
    http: Http,
    run_key: String,
    symbols: Vec<String>,
    account: Account,
    open: BTreeMap<u64, Tracked>,
    updates: Vec<Update>,
    halted: Option<String>,
    last_poll: Option<Instant>,
    /// Whether the market is open, and when Alpaca's clock said so.
    clock: Option<(Instant, bool)>,
    notes: Vec<String>,
    /// The `trade_updates` stream, when the configuration names one.
    stream: Option<Stream>,
    /// Whether the account is due to be checked against the venue's positions (after a
    /// resume), and when it last was (it is again every `account_every`).
    unchecked: bool,
    checked: Instant,
}

impl AlpacaBroker {
    /// Connects, and reads the account and positions for the run's `symbols`.
    pub fn new(config: Config, run_key: &str, symbols: &[String]) -> Result<AlpacaBroker, String> {
        let http = Http::new(config).map_err(|e| format!("cannot set up the connection to Alpaca: {e}"))?;
        let mut b = AlpacaBroker {
            http,
            run_key: run_key.chars().filter(|c| c.is_ascii_alphanumeric()).take(20).collect(),
            symbols: symbols.to_vec(),
            account: Account::new(0.0, symbols.len()),
            open: BTreeMap::new(),
            updates: Vec::new(),
            halted: None,
            last_poll: None,
            clock: None,
            notes: Vec::new(),
            stream: None,
            unchecked: false,
            checked: wall_now(),
        };
        b.account = b.read_account()?;
        if let Some(url) = b.http.config().stream_url.clone() {
            match Stream::start(&url, b.http.config()) {
                Ok(s) => b.stream = Some(s),
                Err(e) => b.notes.push(format!("the trade_updates stream cannot start ({e}); the orders are polled")),
            }
        }
        Ok(b)
    }

    /// Whether the `trade_updates` stream listens now (polls are then a safety sweep).
    pub fn streaming(&self) -> bool {
        self.stream.as_ref().is_some_and(Stream::listening)
    }

    /// Cancels every open order at the venue (`DELETE /v2/orders`, sent once), reporting each
    /// item of the answer; the run's orders among them come back as updates, from the stream
    /// or from a poll made at the next [`Broker::updates`].
    pub fn cancel_all(&mut self) -> Result<Vec<BulkItem>, BulkError> {
        self.last_poll = None;
        bulk::cancel_all(&self.http)
    }

    /// Closes every position at the venue by a market order (`DELETE /v2/positions`, with
    /// `cancel_orders=true` to cancel the open orders first; sent once), reporting each item of
    /// the answer. The closing orders are the venue's, not the run's: the account kept here is
    /// not moved by them.
    pub fn close_all(&mut self, cancel_orders: bool) -> Result<Vec<BulkItem>, BulkError> {
        self.last_poll = None;
        bulk::close_all(&self.http, cancel_orders)
    }

    /// What the user should be told: positions outside the run, partial fills, lookups pending,
    /// the `trade_updates` stream lost or refused (its notes arrive with `updates()`).
    pub fn notes(&self) -> &[String] {
        &self.notes
    }

    fn client_id(&self, order: &Order) -> String {
        format!("strat-{}-{}", self.run_key, order.id)
    }

    /// The account as the venue has it.
    fn read_account(&mut self) -> Result<Account, String> {
        let a = self.http.get("/v2/account").map_err(|e| format!("cannot read the Alpaca account: {e}"))?;
        refuse_unless_ok(&a, "the account")?;
        let blocked = a.body["trading_blocked"] == true || a.body["account_blocked"] == true;
        if blocked || a.body["status"].as_str().is_some_and(|s| s != "ACTIVE") {
            return Err(format!(
                "the Alpaca account cannot trade (status {}, trading blocked {})",
                a.body["status"], a.body["trading_blocked"]
            ));
        }
        let cash = decimal(&a.body["cash"]).ok_or("the Alpaca account states no cash")?;
        let p = self.http.get("/v2/positions").map_err(|e| format!("cannot read the Alpaca positions: {e}"))?;
        refuse_unless_ok(&p, "the positions")?;
        let mut lots = Vec::new();
        for pos in p.body.as_array().into_iter().flatten() {
            let symbol = pos["symbol"].as_str().unwrap_or_default();
            let qty = decimal(&pos["qty"]).unwrap_or_default();
            if qty < Decimal::ZERO {
                return Err(format!(
                    "the Alpaca account is short {symbol} ({qty}), which strat does not trade: close it first"
                ));
            }
            let cost = decimal(&pos["cost_basis"]).unwrap_or_default();
            match self.symbols.iter().position(|s| s == symbol) {
                Some(sym) => lots.push((sym, qty.to_u64().unwrap_or(0), cost)),
                None => self.notes.push(format!(
                    "the Alpaca account holds {qty} {symbol}, which this run does not trade; it is left alone"
                )),
            }
        }
        let invested: Decimal = lots.iter().map(|l| l.2).sum();
        let mut account = Account::new((cash + invested).to_f64().unwrap_or(0.0), self.symbols.len());
        for (sym, qty, cost) in lots {
            account.buy(sym, qty, cost);
        }
        Ok(account)
    }

    /// Whether Alpaca's clock says the market is open (asked at most every 30 s).
    fn market_open(&mut self) -> bool {
        if let Some((_, open)) = self.clock.filter(|(at, _)| at.elapsed() < Duration::from_secs(30)) {
            return open;
        }
        let open = self.http.get("/v2/clock").ok().is_some_and(|r| r.status == 200 && r.body["is_open"] == true);
        self.clock = Some((wall_now(), open));
        open
    }

    /// Sends `order` once (again only when it provably did not leave, or the venue said 429).
    fn send(&mut self, order: &Order, client_id: &str) -> Sent {
        let body = wire::order_body(order, client_id);
        let mut pause = self.http.config().backoff;
        for attempt in 0..=self.http.config().retries {
            let last = attempt == self.http.config().retries;
            match self.http.send(reqwest::Method::POST, "/v2/orders", Some(&body)) {
                Ok(r) if r.status == 200 => {
                    return wire::state(&r.body)
                        .map_or_else(|| Sent::Unknown("the reply is not an order".into()), Sent::Held);
                }
                Ok(r) if r.status == 429 && !last => {
                    std::thread::sleep(r.retry_after.unwrap_or(pause).min(Duration::from_secs(60)))
                }
                Ok(r) if r.status == 429 => return Sent::Unknown("still rate-limited".into()),
                Ok(r) if r.status == 422 && wire::is_duplicate(&r.message()) => {
                    return Sent::Unknown("the client order id was used before".into());
                }
                Ok(r) if r.status == 401 => {
                    let why = format!("Alpaca refused the keys (401: {}): trading halted", r.message());
                    self.halted = Some(why.clone());
                    return Sent::Refused(why);
                }
                Ok(r) if r.status >= 500 => return Sent::Unknown(format!("{} {}", r.status, r.message())),
                Ok(r) => return Sent::Refused(format!("Alpaca refused the order ({}: {})", r.status, r.message())),
                Err(Lost::Unknown(m)) => return Sent::Unknown(m),
                Err(Lost::NotSent(m)) if last => return Sent::Refused(format!("cannot reach Alpaca: {m}")),
                Err(Lost::NotSent(_)) => std::thread::sleep(pause),
            }
            pause = (pause * 2).min(Duration::from_secs(8));
        }
        Sent::Unknown("no attempt was made".into())
    }

    /// An unknown outcome looked up by client id: adopted, sent again once under the same id
    /// when the venue has no such order, or left unknown.
    fn resolve(&mut self, order: &Order, client_id: &str, why: &str) -> Sent {
        match self.lookup(client_id) {
            Ok(Some(state)) => Sent::Held(state),
            Ok(None) => match self.send(order, client_id) {
                Sent::Unknown(again) => match self.lookup(client_id) {
                    Ok(Some(state)) => Sent::Held(state),
                    _ => Sent::Unknown(format!("{why}; sent again under the same id: {again}")),
                },
                other => other,
            },
            Err(e) => Sent::Unknown(format!("{why}; the lookup failed: {e}")),
        }
    }

    /// The order the venue holds under `client_id`, if any.
    fn lookup(&self, client_id: &str) -> Result<Option<State>, String> {
        let r = self.http.get(&format!("/v2/orders:by_client_order_id?client_order_id={client_id}"))?;
        match r.status {
            200 => wire::state(&r.body).map(Some).ok_or_else(|| "the reply is not an order".to_string()),
            404 => Ok(None),
            s => Err(format!("{s} {}", r.message())),
        }
    }

    /// Books what the venue says of a tracked order; drops it once final.
    fn apply(&mut self, id: u64, state: State) {
        let Some(t) = self.open.get_mut(&id) else { return };
        t.venue_id = Some(state.id.clone());
        let done = match state.status.as_str() {
            "filled" => {
                let price = state.filled_avg_price.unwrap_or_default();
                let time = state.filled_at.unwrap_or(t.order.time);
                let order = t.order.clone();
                self.book_fill(&order, state.filled_qty, price, time);
                self.updates.push(Update::Filled { id, time, price: price.to_f64().unwrap_or(0.0), commission: 0.0 });
                true
            }
            "rejected" => {
                self.updates
                    .push(Update::Rejected { id, reason: "Alpaca rejected the order after accepting it".into() });
                true
            }
            "canceled" | "expired" | "done_for_day" => {
                let (order, asked) = (t.order.clone(), t.cancelled.clone());
                if state.filled_qty > Decimal::ZERO {
                    let price = state.filled_avg_price.unwrap_or_default();
                    self.book_fill(&order, state.filled_qty, price, state.filled_at.unwrap_or(order.time));
                    self.notes.push(format!(
                        "order {id} ({} {} {}) was {} after {} filled",
                        order.side.name(),
                        order.qty,
                        order.symbol,
                        state.status,
                        state.filled_qty
                    ));
                }
                let reason = asked.unwrap_or_else(|| format!("Alpaca: {}", state.status));
                self.updates.push(Update::Cancelled { id, reason });
                true
            }
            _ => false,
        };
        if done {
            self.open.remove(&id);
        }
    }

    fn book_fill(&mut self, order: &Order, qty: Decimal, price: Decimal, time: chrono::NaiveDateTime) {
        let shares = qty.to_u64().unwrap_or(0);
        let value = price * qty;
        match order.side {
            Side::Buy => self.account.buy(order.sym, shares, value),
            Side::Sell => {
                if let Err(e) = self.account.sell(order.sym, &order.symbol, shares, value, time, &order.by) {
                    self.notes.push(format!("order {} filled at Alpaca, but {e}: the account is read again", order.id));
                    if let Ok(a) = self.read_account() {
                        self.account = a;
                    }
                }
            }
        }
    }

    /// The venue's open orders under this run's client ids that the journal does not hold
    /// (`journaled`: the ids it does): none should exist, as every intent is journaled before it
    /// is sent; any that does was not decided by this run's engine, so it is cancelled and said.
    fn strays(&mut self, journaled: &[u64]) -> Result<(), String> {
        let r = self
            .http
            .get("/v2/orders?status=open&limit=500")
            .map_err(|e| format!("cannot list the open Alpaca orders to resume: {e}"))?;
        refuse_unless_ok(&r, "the open orders")?;
        let prefix = format!("strat-{}-", self.run_key);
        for o in r.body.as_array().into_iter().flatten().filter_map(wire::state) {
            let ours = o.client_id.strip_prefix(&prefix).and_then(|n| n.parse::<u64>().ok());
            if let Some(id) = ours.filter(|id| journaled.binary_search(id).is_err()) {
                let _ = self.http.send(reqwest::Method::DELETE, &format!("/v2/orders/{}", o.id), None);
                self.notes.push(format!(
                    "Alpaca held open order {} ({}) under this run's ids that the journal does not know: cancelled",
                    id, o.client_id
                ));
            }
        }
        Ok(())
    }

    /// After a resume, and every `account_every`, once no order of the run is open (an open
    /// one may have filled at the venue with its fill not yet booked here): the venue's
    /// positions in the run's symbols against the account kept here (after a resume, the one
    /// the journal rebuilt). They agree unless something traded them outside the run; then the
    /// venue's account is the one kept, and said.
    fn check_positions(&mut self) {
        let due = self.unchecked || self.checked.elapsed() >= self.http.config().account_every;
        if !due || !self.open.is_empty() {
            return;
        }
        self.unchecked = false;
        self.checked = wall_now();
        let venue = match self.read_account() {
            Ok(a) => a,
            Err(e) => {
                self.notes.push(format!("the positions could not be checked at the venue: {e}"));
                return;
            }
        };
        let held = |a: &Account, s: usize| a.position(s).map_or(0, |p| p.qty);
        let differ: Vec<String> = (0..self.symbols.len())
            .filter(|&s| held(&self.account, s) != held(&venue, s))
            .map(|s| {
                format!("{} {} in the run, {} at the venue", self.symbols[s], held(&self.account, s), held(&venue, s))
            })
            .collect();
        if !differ.is_empty() {
            self.notes.push(format!(
                "the venue's positions differ from the run's ({}): the venue's account is taken",
                differ.join("; ")
            ));
            self.account = venue;
        }
    }

    /// Applies the stream's events to the orders they name; a poll is due at once when the
    /// stream began listening (what happened before was not streamed) or missed an event.
    fn take_stream(&mut self) {
        let Some(stream) = self.stream.as_mut() else { return };
        let mut orders = Vec::new();
        if stream.take(&mut orders) {
            self.last_poll = None;
        }
        self.notes.extend(stream.take_notes());
        for state in orders {
            let ours = state.client_id.strip_prefix(&format!("strat-{}-", self.run_key)).and_then(|n| n.parse().ok());
            if let Some(id) = ours.filter(|id| self.open.get(id).is_some_and(|t| t.client_id == state.client_id)) {
                self.apply(id, state);
            }
        }
    }

    /// Asks the venue about every open order (at most every `poll_every`, or `sweep_every`
    /// while the stream listens).
    fn poll(&mut self) {
        let c = self.http.config();
        // An order whose outcome is unknown is looked up at the polling pace, stream or not.
        let unknown = self.open.values().any(|t| t.venue_id.is_none());
        let every = if self.streaming() && !unknown { c.sweep_every } else { c.poll_every };
        if self.last_poll.is_some_and(|at| at.elapsed() < every) {
            return;
        }
        self.last_poll = Some(wall_now());
        let ids: Vec<u64> = self.open.keys().copied().collect();
        for id in ids {
            let Some(t) = self.open.get(&id) else { continue };
            let found = match &t.venue_id {
                Some(v) => self
                    .http
                    .get(&format!("/v2/orders/{v}"))
                    .ok()
                    .and_then(|r| (r.status == 200).then(|| wire::state(&r.body)).flatten()),
                None => self.lookup(&t.client_id.clone()).ok().flatten(),
            };
            if let Some(state) = found {
                self.apply(id, state);
            }
        }
    }
}

/// The wall clock: pacing requests to a real venue (polls, the clock's freshness) is its time,
/// not the run's.
#[allow(clippy::disallowed_methods)]
fn wall_now() -> Instant {
    Instant::now()
}

fn decimal(v: &serde_json::Value) -> Option<Decimal> {
    match v {
        serde_json::Value::String(s) => s.trim().parse().ok(),
        serde_json::Value::Number(n) => n.as_f64().and_then(Decimal::from_f64),
        _ => None,
    }
}

fn refuse_unless_ok(r: &Reply, what: &str) -> Result<(), String> {
    match r.status {
        200 => Ok(()),
        401 => Err(format!(
            "Alpaca refused the keys (401: {}): check APCA_API_KEY_ID and APCA_API_SECRET_KEY",
            r.message()
        )),
        s => Err(format!("Alpaca did not give {what} ({s}: {})", r.message())),
    }
}

impl Broker for AlpacaBroker {
    fn label(&self) -> String {
        let which = if self.http.config().is_live() { "LIVE account (real money)" } else { "paper account" };
        format!("Alpaca {which} at {}", self.http.config().base_url)
    }

    fn submit(&mut self, order: &Order) {
        let id = order.id;
        if let Some(why) = &self.halted {
            self.updates.push(Update::Rejected { id, reason: why.clone() });
            return;
        }
        if order.kind == Kind::Market && !self.market_open() {
            let reason = "the market is closed (Alpaca's clock): a market order is not sent".to_string();
            self.updates.push(Update::Rejected { id, reason });
            return;
        }
        let client_id = self.client_id(order);
        let sent = match self.send(order, &client_id) {
            Sent::Unknown(why) => self.resolve(order, &client_id, &why),
            other => other,
        };
        self.open.insert(id, Tracked { order: order.clone(), client_id, venue_id: None, cancelled: None });
        match sent {
            Sent::Held(state) => self.apply(id, state),
            Sent::Refused(reason) => {
                self.open.remove(&id);
                self.updates.push(Update::Rejected { id, reason });
            }
            Sent::Unknown(why) => self
                .notes
                .push(format!("order {id}: the outcome is unknown ({why}); it stays pending and is looked up again")),
        }
    }

    fn tick(&self, price: f64) -> f64 {
        wire::tick(price)
    }

    fn cancel(&mut self, id: u64, reason: &str) {
        let Some(venue) = self.open.get(&id).and_then(|t| t.venue_id.clone()) else { return };
        if let Some(t) = self.open.get_mut(&id) {
            t.cancelled = Some(reason.to_string());
        }
        // Whatever the answer (cancelled; not cancelable, as it filled meanwhile; no reply), the
        // order's state says what it came to, partial fills included: it is read at once.
        let _ = self.http.send(reqwest::Method::DELETE, &format!("/v2/orders/{venue}"), None);
        self.last_poll = None;
        self.poll();
    }

    fn on_bar(&mut self, _symbol: usize, _bar: &Bar) -> bool {
        !self.open.is_empty() || !self.updates.is_empty()
    }

    fn updates(&mut self, out: &mut Vec<Update>) {
        self.take_stream();
        if !self.open.is_empty() {
            self.poll();
        }
        self.check_positions();
        out.append(&mut self.updates);
    }

    fn account(&self) -> &Account {
        &self.account
    }

    fn resume(&mut self, account: Account, journaled: &[u64]) -> Result<(), String> {
        self.account = account;
        self.unchecked = true;
        self.strays(journaled)
    }

    fn adopt(&mut self, order: &Order) {
        let client_id = self.client_id(order);
        match self.lookup(&client_id) {
            Ok(Some(state)) => {
                self.open
                    .insert(order.id, Tracked { order: order.clone(), client_id, venue_id: None, cancelled: None });
                self.apply(order.id, state);
            }
            // It never reached the venue: it is sent now, once, under its own id.
            Ok(None) => self.submit(order),
            Err(e) => {
                self.notes.push(format!(
                    "order {}: the lookup after the crash failed ({e}); it stays pending and is looked up again",
                    order.id
                ));
                self.open
                    .insert(order.id, Tracked { order: order.clone(), client_id, venue_id: None, cancelled: None });
            }
        }
    }
}
