//! Lexing and parsing: text to syntax tree plus syntax diagnostics. Never fails.

pub mod ast;
pub mod lexer;
pub(crate) mod literal;
mod parser;
pub mod token;

pub use literal::{number_unit, split_number};
pub use parser::{MAX_DEPTH, parse, parse_expr};
