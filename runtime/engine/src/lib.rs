//! The strat engine: executes the DAG IR of a checked program against a host.
//!
//! The engine never touches the clock, the network, the disk or randomness itself: every
//! effect goes through the [`host`] traits, which adapter crates implement (`strat-data`,
//! `strat-models`, `strat-store`). Its dependency list holds no async, network or disk crate.

pub mod broker;
pub mod context;
pub mod control;
pub mod decode;
pub mod engine;
pub mod eval;
pub mod exec;
pub mod expr;
pub mod gate;
pub mod host;
pub mod llm;
pub mod market;
pub mod news;
pub mod offline;
pub mod plan;
pub mod report;
pub mod resume;
pub mod sandbox;
pub mod sim;
pub mod store;
pub mod trigger;
pub mod value;
