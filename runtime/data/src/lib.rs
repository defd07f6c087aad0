//! Market data for strat: bars read from CSV text and Polygon aggregates responses, every bar
//! checked the same way whatever its source, resampling to longer intervals, and the binary
//! bar cache. Loading takes text or a reader, not paths: the caller opens the files, and a
//! reader is read a block at a time (the text is never held whole).
//!
//! The bars are the engine's (`strat_engine::market::Bar`); so are the calendar and the
//! simulated market, which need nothing from outside.

pub mod cache;
mod csv;
mod polygon;
mod resample;
mod validate;

use strat_engine::market::Bar;

pub use csv::{CsvOptions, Field, Layout, Loaded, Problem, ReadError, parse_csv, parse_csv_reader, parse_csv_with};
pub use polygon::parse_polygon_aggs;
pub use resample::resample;
pub use validate::check_bar;
