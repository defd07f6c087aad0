//! Alpaca's Trading API behind `host::Broker`.
//!
//! A submission is `POST /v2/orders` with the client order id `strat-<run key>-<order id>`
//! (the run key is the caller's, unique to the run and kept across its restarts; at most 48
//! characters in all). It is sent once. What comes back decides:
//! - 200: the venue holds it; its status is followed by polling (`GET /v2/orders/{id}`).
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
//! The account is the venue's: cash and positions read at the start (`/v2/account`,
//! `/v2/positions`; an account that cannot trade, or holds a short, refuses to start), then
//! moved by the fills reported. A market order while Alpaca's clock says the market is closed
//! is refused, not queued.

mod broker;
mod config;
mod http;
mod wire;

pub use broker::AlpacaBroker;
pub use config::{Config, ConfigError, LIVE_URL, PAPER_URL};
pub use wire::tick;
