//! The canonical formatter (`strat fmt`, and the language server's formatting).
//!
//! The text is parsed; the tree is converted to a [`doc::Doc`] (`items`, `stmts`, `triggers`,
//! `types`, `exprs`), taking comments from a side table (`comments`) as the tokens they stand
//! before are reached; the printer lays the document out in [`WIDTH`] columns. Literals,
//! strings and comments are copied byte for byte from the source, so only whitespace and
//! optional separators (`;`, some commas) can change. Before the result is returned,
//! `verify` parses it again and compares its tokens and comments with the input's; a
//! difference is an error (E0016), never a changed file.
//!
//! Pure: no I/O, no global state. A file with syntax errors is not formatted.

mod comments;
mod context;
mod doc;
mod exprs;
mod items;
mod printer;
mod stmts;
mod triggers;
mod types;
mod verify;

use crate::diagnostic::Diagnostic;
use crate::span::FileId;
use crate::syntax::lexer::lex;

/// The line width the formatter fills up to.
pub const WIDTH: usize = 100;

/// Formats one file's text. Returns the syntax errors (and other parse diagnostics) when the
/// text does not parse cleanly, or an E0016 diagnostic should the output not keep every token
/// and comment of the input.
pub fn format(file: FileId, text: &str) -> Result<String, Vec<Diagnostic>> {
    let (tree, diagnostics) = crate::syntax::parse(file, text);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Err(diagnostics);
    }
    let lexed = lex(file, text, 0);
    let mut cx = context::Ctx::new(text, &lexed.tokens, comments::Comments::new(text, &lexed.comments));
    let document = items::file(&mut cx, &tree);
    let out = printer::print(&document, WIDTH);
    match verify::difference(file, text, &lexed, &out) {
        Some(loss) => Err(vec![loss]),
        None => Ok(out),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fmt(text: &str) -> String {
        match format(FileId(0), text) {
            Ok(s) => s,
            Err(d) => panic!("{text}\n{d:#?}"),
        }
    }

    #[test]
    fn an_empty_file_stays_empty() {
        assert_eq!(fmt(""), "");
        assert_eq!(fmt(" \n\n\t"), "");
    }

    #[test]
    fn syntax_errors_are_returned_not_formatted() {
        let err = format(FileId(0), "universe u = [AAPL").err().unwrap_or_default();
        assert_eq!(err.iter().map(|d| d.code.id()).collect::<Vec<_>>(), ["E0011"]);
    }

    #[test]
    fn declarations_take_a_line_each_and_blank_lines_collapse() {
        assert_eq!(
            fmt("universe a = [X]   universe b=[Y]\n\n\n\nmodel m = openai(\"gpt-4o\")"),
            "universe a = [X]\nuniverse b = [Y]\n\nmodel m = openai(\"gpt-4o\")\n"
        );
    }

    #[test]
    fn limits_values_line_up() {
        assert_eq!(
            fmt("limits l { max_position $1k, allow [A]; max_daily_trades 2 }"),
            "limits l {\n  max_position     $1k\n  allow            [A]\n  max_daily_trades 2\n}\n"
        );
    }
}
