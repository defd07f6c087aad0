//! The strat language front end.
//!
//! Text goes through [`source::decode`], [`syntax::parse`], the checker and lowering to the
//! DAG IR. No phase fails: each returns its value together with diagnostics.

pub mod check;
pub mod db;
pub mod diagnostic;
pub mod format;
pub mod ide;
pub mod ir;
pub mod load;
pub mod lower;
pub mod repl;
pub mod source;
pub mod span;
pub mod syntax;

pub use db::{Checked, Workspace};
pub use diagnostic::{Code, Diagnostic, Severity};
pub use span::{FileId, Span};

/// A standalone expression, checked and lowered: what `strat eval` and the REPL evaluate.
#[derive(Debug, Clone)]
pub struct CheckedExpr {
    /// The lowered expression, when there are no errors.
    pub expr: Option<ir::Expr>,
    /// Its type, as shown to users (`number`, `bool`, `price`, …).
    pub ty: String,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses, checks and lowers one expression written on its own (file id 0).
pub fn check_expression(text: &str) -> CheckedExpr {
    let file = FileId(0);
    let (e, mut diagnostics) = syntax::parse_expr(file, text);
    let syntax_ok = !diagnostics.iter().any(Diagnostic::is_error);
    let (ty, more) = check::check_expr(file, &e);
    if syntax_ok {
        diagnostics.extend(more);
    }
    let ok = !diagnostics.iter().any(Diagnostic::is_error);
    CheckedExpr { expr: ok.then(|| lower::lower_expr(&e)), ty: ty.to_string(), diagnostics }
}
