//! The strat runtime. For now: market data (bars, and loading them from CSV files).
//!
//! Loading takes text, not paths: reading files is the caller's job, so the engine never
//! touches the disk except through its host.

pub mod broker;
pub mod engine;
pub mod eval;
pub mod market;
pub mod offline;
pub mod store;
