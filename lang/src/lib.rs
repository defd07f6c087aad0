//! The strat language front end.
//!
//! Text goes through [`source::decode`], [`syntax::parse`], the checker and lowering to the
//! DAG IR. No phase fails: each returns its value together with diagnostics.

pub mod check;
pub mod db;
pub mod diagnostic;
pub mod ir;
pub mod lower;
pub mod source;
pub mod span;
pub mod syntax;

pub use db::{Checked, Workspace};
pub use diagnostic::{Code, Diagnostic, Severity};
pub use span::{FileId, Span};
