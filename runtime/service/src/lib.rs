//! The strat service's HTTP API: what a running `strat serve` answers under `/api/v1`.

pub mod signature;
