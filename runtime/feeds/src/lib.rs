//! Market data over the network, behind the checks every bar passes whatever its source.
//!
//! `polygon`: Polygon's (now Massive's) aggregates over REST — history for backtests and for
//! warming indicators before live bars — configured as the official client is
//! (`POLYGON_API_KEY`, `POLYGON_BASE_URL`), with paging through `next_url`, back-off on 429 and
//! server errors, typed refusals (401, 403), the `DELAYED` status flagged, and a local cache of
//! what was fetched (`history`), so that a second backtest makes no request; the market's status
//! (open, extended hours, closed); and live minute bars over its WebSocket (`live`), as the
//! engine's `MarketData`, whose silence is judged against that status (`silence`).

pub mod frames;
pub mod history;
pub mod live;
pub mod polygon;
mod silence;

pub use history::{Cached, cached};
pub use live::{Live, LiveConfig};
pub use polygon::{Client, Config, FeedError, History, MarketStatus, Request, Session, Span};
