//! Lexing and parsing: text to syntax tree plus syntax diagnostics. Never fails.

pub mod ast;
pub mod lexer;
pub mod literal;
mod parser;
pub mod token;

pub use literal::{number_unit, split_number};
pub use parser::{
    AGENT_SETTINGS, ITEM_WORDS, MAX_DEPTH, STATEMENTS, TEAM_SETTINGS, WORKFLOW_SETTINGS, parse, parse_expr,
};
