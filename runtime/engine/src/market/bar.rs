//! One bar of prices.

use chrono::NaiveDateTime;

/// Open, high, low, close and volume over one interval, stamped with the interval's start in
/// the exchange's local time (as the data files give it).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Bar {
    pub time: NaiveDateTime,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}
