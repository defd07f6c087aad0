//! Real brokers behind the engine's `host::Broker`: orders that passed the risk gate go out,
//! what became of them comes back as updates, and the account is the venue's.
//!
//! `alpaca`: Alpaca's Trading API, paper by default (live money needs an explicit `--live` and
//! the live host together). Every order carries a deterministic client order id; a submission
//! is sent once, and an outcome left unknown (a timeout, a 5xx or a broken connection after
//! sending) stays unknown until a lookup by that id resolves it — never a second order.

pub mod alpaca;

pub use alpaca::{AlpacaBroker, BulkError, BulkItem, Config as AlpacaConfig, ConfigError};
