//! Alpaca's Trading API behind `host::Broker`.
//!
//! A submission is `POST /v2/orders` with the client order id `strat-<run key>-<order id>`
//! (the run key is the caller's, unique to the run and kept across its restarts; at most 48
//! characters in all). It is sent once. What comes back decides:
//! - 200: the venue holds it; what becomes of it comes from the `trade_updates` stream, or
//!   from polling (`GET /v2/orders/{id}`) while the stream does not listen.
//! - 403 and 422 (buying power, sub-penny, qty…): refused, with the venue's reason.
//! - 401: refused, and trading halts (every later order is refused naming why).
//! - 429: the venue did not take it; sent again with the same id after the back-off.
//! - 422 "client_order_id must be unique", a 5xx, a timeout or a broken connection after
//!   sending: the outcome is *unknown*. It is resolved by `GET /v2/orders:by_client_order_id`:
//!   found, the order is adopted; 404, it is sent again with the same id (a first attempt
//!   arriving late then fails as a duplicate); no answer, it stays pending and unknown, and the
//!   next poll asks again. A fresh id is never made up, so one intent is one order at most.
//! - The connection never made: nothing left, so it is tried again, then refused.
//!
//! The `trade_updates` stream (`stream`: `wss://…/stream`, from the base URL) is read on a
//! thread of its own into a bounded channel; the broker applies its events to the orders it
//! tracks, matched by client order id, from each event's whole order (the cumulative
//! `filled_qty` and `filled_avg_price`), so a duplicate, an event for an order already final
//! or one out of order changes nothing, and a `rejected` after acceptance is a rejection.
//! While the stream listens, polls are a safety sweep (`sweep_every`, 30 s); while it does not
//! (before it authorises, after it drops, if the keys are refused on it), polling goes on as
//! before, every `poll_every`. A dropped stream is opened again with a doubling pause.
//!
//! The account is the venue's: cash and positions read at the start (`/v2/account`,
//! `/v2/positions`; an account that cannot trade, or holds a short, refuses to start), then
//! moved by the fills reported. A market order while Alpaca's clock says the market is closed
//! is refused, not queued. Cancel all and close all (`bulk`) report each item of the venue's
//! 207 on its own.

mod broker;
mod bulk;
mod config;
mod http;
mod stream;
mod wire;

pub use broker::AlpacaBroker;
pub use bulk::{BulkError, BulkItem};
pub use config::{Config, ConfigError, LIVE_URL, PAPER_URL, stream_url};
pub use wire::tick;
