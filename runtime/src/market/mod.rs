//! Bars and the loading of bar series.

mod bar;
pub mod calendar;
mod csv;
mod resample;
pub mod simulated;

pub use bar::Bar;
pub use csv::{Layout, Loaded, Problem, parse_csv};
pub use resample::resample;
