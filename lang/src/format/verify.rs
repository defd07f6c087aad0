//! The formatter's safety check: the output must parse cleanly and hold the same tokens and
//! the same comments, in the same order, as the input. Only separators the grammar makes
//! optional may differ: `;`, a trailing comma, a comma after `}` (between match arms or
//! schema fields), and the commas between the entries of a limits block or a schema.
//! Costs one parse and one lex of the output.

use super::comments::Comments;
use crate::diagnostic::{Code, Diagnostic};
use crate::span::{FileId, Span};
use crate::syntax::lexer::{Lexed, Token, lex};
use crate::syntax::token::Kind;

/// Checks `output` against `input` (lexed as `input_lexed`). A difference is reported at the
/// first input token or comment that did not come out the same; `None` means there is none.
pub fn difference(file: FileId, input: &str, input_lexed: &Lexed, output: &str) -> Option<Diagnostic> {
    let (_, diags) = crate::syntax::parse(file, output);
    if let Some(d) = diags.iter().find(|d| d.is_error()) {
        return Some(loss(file, Span::default(), format!("the formatted text would not parse: {}", d.message)));
    }
    let output_lexed = lex(file, output, 0);
    let before = significant(input, &input_lexed.tokens);
    let after = significant(output, &output_lexed.tokens);
    let differs = before.iter().zip(&after).position(|(a, b)| (a.0, a.1) != (b.0, b.1));
    if let Some(i) = differs.or((before.len() != after.len()).then(|| before.len().min(after.len()))) {
        let span = before.get(i).map_or(Span::new(input.len(), input.len()), |t| t.2);
        let what = before.get(i).map_or("the end of the file".to_string(), |t| format!("`{}`", t.1));
        return Some(loss(file, span, format!("formatting would change the tokens at {what}")));
    }
    let before = Comments::new(input, &input_lexed.comments);
    let after = Comments::new(output, &output_lexed.comments);
    let differs = before.all().iter().zip(after.all()).position(|(a, b)| a.text != b.text);
    let count = before.all().len().min(after.all().len());
    if let Some(i) = differs.or((before.all().len() != after.all().len()).then_some(count)) {
        let span = before.all().get(i).map_or(Span::new(input.len(), input.len()), |c| c.span);
        return Some(loss(file, span, "formatting would lose or change this comment"));
    }
    None
}

fn loss(file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
    Diagnostic::new(Code::FormatLoss, file, span, message)
        .label("here")
        .help("this is a bug in the formatter, and the file was left as it is; please report it with the file")
}

/// The tokens that carry meaning: `(kind, text, span)`, without the optional separators.
fn significant<'a>(text: &'a str, tokens: &[Token]) -> Vec<(Kind, &'a str, Span)> {
    // For each open bracket: whether commas inside it are optional (limits blocks, schemas).
    let mut free: Vec<bool> = Vec::new();
    let mut out = Vec::with_capacity(tokens.len());
    let src = |t: &Token| text.get(t.span.range()).unwrap_or("");
    for (i, t) in tokens.iter().enumerate() {
        match t.kind {
            Kind::LBrace => free.push(opens_free_block(text, tokens, i)),
            Kind::LParen | Kind::LBracket => free.push(false),
            Kind::RBrace | Kind::RParen | Kind::RBracket => {
                free.pop();
            }
            Kind::Semi => continue,
            Kind::Comma => {
                let next = tokens.get(i + 1).map(|n| n.kind);
                let prev = i.checked_sub(1).and_then(|p| tokens.get(p)).map(|p| p.kind);
                let trailing = matches!(next, Some(Kind::RBrace | Kind::RParen | Kind::RBracket));
                if trailing || prev == Some(Kind::RBrace) || free.last() == Some(&true) {
                    continue;
                }
            }
            _ => {}
        }
        out.push((t.kind, src(t), t.span));
    }
    out
}

/// Whether the `{` at `i` opens a limits block or a schema, by the tokens before it:
/// `limits {`, `limits name {`, `input {`, `output {`, `payload {`, `: {`, `<{`, `, {`.
fn opens_free_block(text: &str, tokens: &[Token], i: usize) -> bool {
    let word = |j: Option<usize>| {
        j.and_then(|j| tokens.get(j)).filter(|t| t.kind == Kind::Ident).and_then(|t| text.get(t.span.range()))
    };
    let prev = i.checked_sub(1);
    match prev.and_then(|p| tokens.get(p)).map(|t| t.kind) {
        Some(Kind::Colon | Kind::Lt | Kind::Comma) => true,
        Some(Kind::Ident | Kind::Ticker) => {
            matches!(word(prev), Some("limits" | "input" | "output" | "payload"))
                || word(prev.and_then(|p| p.checked_sub(1))) == Some("limits")
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, output: &str) -> Option<Diagnostic> {
        let lexed = lex(FileId(0), input, 0);
        difference(FileId(0), input, &lexed, output)
    }

    #[test]
    fn optional_separators_may_change() {
        let input = "limits { a 1, b 2; } agent A { input { x: number y: text, } context a, b }";
        let output = "limits {\n  a 1\n  b 2\n}\nagent A {\n  input { x: number, y: text }\n  context a, b\n}\n";
        assert_eq!(check(input, output), None);
        let input = "workflow W { match x { a => { end }, _ => { end }, } let y = f(1, 2,) }";
        let output = "workflow W {\n  match x {\n    a => { end }\n    _ => { end }\n  }\n  let y = f(1, 2)\n}\n";
        assert_eq!(check(input, output), None);
    }

    #[test]
    fn a_lost_token_is_reported_at_it() {
        let input = "trigger t = manual during market_hours during market_hours";
        let err = check(input, "trigger t = manual during market_hours\n");
        assert_eq!(err.as_ref().map(|d| (d.code, d.span.start)), Some((Code::FormatLoss, 39)));
        let err = check("universe u = [A, B]", "universe u = [A B]\n");
        assert_eq!(err.map(|d| d.code), Some(Code::FormatLoss), "a separating comma is not optional");
    }

    #[test]
    fn a_lost_or_changed_comment_is_reported() {
        let input = "// one\nuniverse u = [A] // two\n";
        assert_eq!(check(input, "// one\nuniverse u = [A] // two\n"), None);
        let err = check(input, "// one\nuniverse u = [A]\n");
        assert_eq!(err.map(|d| (d.code, d.span.start)), Some((Code::FormatLoss, 24)));
        let err = check(input, "// one\nuniverse u = [A] // 2\n");
        assert_eq!(err.map(|d| d.span.start), Some(24));
    }

    #[test]
    fn output_that_does_not_parse_is_refused() {
        let err = check("universe u = [A]", "universe u = [A\n");
        assert_eq!(err.map(|d| d.code), Some(Code::FormatLoss));
    }
}
