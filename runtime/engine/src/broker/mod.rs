//! Orders, the account, and the paper broker.
//!
//! The engine keeps every order in its [`Book`] (the record) and sends those that pass the risk
//! gate to a broker (the host's [`crate::host::Broker`]), which reports back what became of
//! them as [`Update`]s and keeps the [`Account`]: cash and positions, in exact decimals.

mod account;
mod book;
mod paper;

pub use account::{Account, ClosedTrade, Position};
pub use book::Book;
pub use paper::PaperBroker;

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn name(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

/// An order's lifecycle: `pending` (working at the broker) until it is `filled`, `rejected`
/// (by the risk gate before it reached the broker, or by the broker) or `cancelled` (by the
/// strategy, by its time in force, or as the other half of a bracket).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Filled,
    Rejected,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Kind {
    Market,
    Limit { limit: f64 },
    Stop { stop: f64 },
    StopLimit { stop: f64, limit: f64, triggered: bool },
}

/// Time in force: `day` lapses after the first trading day it could fill, `gtc` stays until
/// filled or cancelled, `ioc` and `fok` get one bar (orders here fill whole, so they agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tif {
    Day,
    Gtc,
    Ioc,
    Fok,
}

impl Tif {
    pub fn parse(s: &str) -> Tif {
        match s {
            "gtc" => Tif::Gtc,
            "ioc" => Tif::Ioc,
            "fok" => Tif::Fok,
            _ => Tif::Day,
        }
    }
}

/// What a strategy asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub time: NaiveDateTime,
    pub symbol: String,
    /// Index of the symbol in the run's market.
    pub sym: usize,
    pub side: Side,
    pub qty: u64,
    pub kind: Kind,
    pub tif: Tif,
    /// Percent below the fill for a protective stop (buys).
    pub stop_loss: Option<f64>,
    /// Percent above the fill for a profit target (buys).
    pub take_profit: Option<f64>,
    /// Which graph placed it.
    pub by: String,
}

/// An order and what became of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Order {
    /// The engine's id, also sent to brokers as the client order id.
    pub id: u64,
    /// When it was decided (a bar's close), or for a protective order when its parent filled.
    pub time: NaiveDateTime,
    pub symbol: String,
    #[serde(skip)]
    pub sym: usize,
    pub side: Side,
    pub qty: u64,
    pub kind: Kind,
    pub tif: Tif,
    pub status: Status,
    pub fill_time: Option<NaiveDateTime>,
    pub price: Option<f64>,
    pub commission: f64,
    pub reason: Option<String>,
    /// Which graph placed it.
    pub by: String,
    /// For a protective stop or profit target: the order it protects. Orders with the same
    /// parent cancel one another when one fills.
    pub parent: Option<u64>,
    #[serde(skip)]
    pub stop_loss: Option<f64>,
    #[serde(skip)]
    pub take_profit: Option<f64>,
}

/// What a broker reports about an order it was sent.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "update", rename_all = "snake_case")]
pub enum Update {
    Filled { id: u64, time: NaiveDateTime, price: f64, commission: f64 },
    Cancelled { id: u64, reason: String },
    Rejected { id: u64, reason: String },
}

/// When a market order decided at a bar's close fills.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum FillAt {
    /// The next bar's open (the default, as backtrader does).
    #[default]
    NextOpen,
    /// The next bar's close.
    NextClose,
    /// The deciding bar's own close (optimistic: backtrader's cheat-on-close).
    SameClose,
}

/// Commission per fill (a fixed amount per share plus a percent of the value), slippage, and
/// when market orders fill.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Costs {
    pub per_share: f64,
    pub percent: f64,
    /// Market orders fill this many basis points worse than the price they fill at.
    pub slippage_bps: f64,
    pub fill: FillAt,
}

pub fn dec(x: f64) -> Decimal {
    Decimal::from_f64(x).unwrap_or_default()
}

pub fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}
