//! Bars, the exchange calendar and the simulated market. Reading bars from files and services
//! is the data crate's job (`strat-data`).

mod bar;
pub mod calendar;
pub mod simulated;

pub use bar::Bar;
