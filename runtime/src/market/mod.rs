//! Bars and the loading of bar series.

mod bar;
pub mod cache;
pub mod calendar;
mod csv;
mod polygon;
mod resample;
pub mod simulated;
mod timeline;
mod validate;

pub use bar::Bar;
pub use csv::{Layout, Loaded, Problem, parse_csv};
pub use polygon::parse_polygon_aggs;
pub use resample::resample;
pub use timeline::{Slot, Timeline};
