//! Turns source text into tokens, reporting lexical errors as diagnostics.

use super::token::Kind;
use crate::diagnostic::{Code, Diagnostic};
use crate::span::{FileId, Span};
use logos::Logos;

/// Longest string literal accepted, in bytes.
pub const MAX_STRING_BYTES: usize = 64 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Token {
    pub kind: Kind,
    pub span: Span,
    /// The token is the first on its line (used only for error recovery).
    pub line_start: bool,
}

/// The tokens of one text (comments kept apart) and the lexical diagnostics.
#[derive(Debug, Clone, Default)]
pub struct Lexed {
    pub tokens: Vec<Token>,
    pub comments: Vec<Span>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Lexes `text`, whose first byte sits at `base` in the file. Always ends with an `Eof` token.
pub fn lex(file: FileId, text: &str, base: usize) -> Lexed {
    let mut out = Lexed::default();
    let mut lexer = Kind::lexer(text);
    let mut last_end = 0usize;
    let mut pending_unknown: Option<Span> = None;
    while let Some(result) = lexer.next() {
        let range = lexer.span();
        let span = Span::new(base + range.start, base + range.end);
        let line_start = text[last_end..range.start].contains('\n') || last_end == 0 && out.tokens.is_empty();
        last_end = range.end;
        let kind = result.unwrap_or(Kind::Unknown);
        if kind == Kind::Unknown {
            pending_unknown = Some(pending_unknown.map_or(span, |p| p.to(span)));
            continue;
        }
        flush_unknown(file, text, base, &mut pending_unknown, &mut out.diagnostics);
        match kind {
            Kind::LineComment | Kind::BlockComment => {
                out.comments.push(span);
                continue;
            }
            Kind::UnterminatedStr => out.diagnostics.push(
                Diagnostic::new(Code::UnterminatedString, file, span, "unterminated string")
                    .label("this string is never closed")
                    .help("close it with `\"` on the same line, or use `\"\"\"` for text over several lines"),
            ),
            Kind::UnterminatedBlock => {
                let opener = Span::new(span.start as usize, span.start as usize + 3.min(span.len()));
                let what = if text[range.clone()].starts_with("/*") { "block comment" } else { "block string" };
                out.diagnostics.push(
                    Diagnostic::new(Code::UnterminatedBlock, file, opener, format!("unterminated {what}"))
                        .label(format!("this {what} runs to the end of the file"))
                        .help(if what == "block comment" { "close it with `*/`" } else { "close it with `\"\"\"`" }),
                );
            }
            Kind::AndAnd | Kind::OrOr => {
                let word = if kind == Kind::AndAnd { "and" } else { "or" };
                out.diagnostics.push(
                    Diagnostic::new(
                        Code::UnexpectedChar,
                        file,
                        span,
                        format!("`{}` is not an operator in strat", &text[range.clone()]),
                    )
                    .label(format!("read as `{word}`"))
                    .fix(span, word, format!("write `{word}`")),
                );
            }
            Kind::Str | Kind::BlockStr if range.len() > MAX_STRING_BYTES => out.diagnostics.push(
                Diagnostic::new(
                    Code::StringTooLong,
                    file,
                    Span::new(span.start as usize, span.start as usize + 1),
                    format!(
                        "string literal of {} bytes is longer than the limit of {} bytes",
                        range.len(),
                        MAX_STRING_BYTES
                    ),
                )
                .label("this string starts here")
                .help("keep long prompts short, or split them into several strings"),
            ),
            _ => {}
        }
        let kind = match kind {
            Kind::UnterminatedStr => Kind::Str,
            Kind::UnterminatedBlock if text[range].starts_with("/*") => continue,
            Kind::UnterminatedBlock => Kind::BlockStr,
            k => k,
        };
        out.tokens.push(Token { kind, span, line_start });
    }
    flush_unknown(file, text, base, &mut pending_unknown, &mut out.diagnostics);
    let end = base + text.len();
    out.tokens.push(Token { kind: Kind::Eof, span: Span::new(end, end), line_start: true });
    out
}

fn flush_unknown(file: FileId, text: &str, base: usize, pending: &mut Option<Span>, diags: &mut Vec<Diagnostic>) {
    let Some(span) = pending.take() else { return };
    let slice = &text[span.start as usize - base..span.end as usize - base];
    let shown: String = slice.chars().take(8).collect();
    let mut d = Diagnostic::new(
        Code::UnexpectedChar,
        file,
        span,
        format!("unexpected character{} `{}`", if slice.chars().count() > 1 { "s" } else { "" }, shown.escape_debug()),
    )
    .label("not part of any token");
    if let Some(h) = hint_for(slice) {
        d = d.help(h);
    }
    diags.push(d);
}

fn hint_for(slice: &str) -> Option<&'static str> {
    match slice.chars().next()? {
        '&' => Some("write `and` for logical and"),
        '!' => Some("write `not` for logical negation, `!=` for inequality"),
        '#' => Some("comments start with `//`"),
        '\'' => Some("strings use double quotes: \"like this\""),
        '“' | '”' => Some("use straight double quotes `\"`"),
        '$' => Some("a money amount is `$` followed by digits, e.g. `$10_000`"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(src: &str) -> Vec<Kind> {
        lex(FileId(0), src, 0).tokens.iter().map(|t| t.kind).collect()
    }

    #[test]
    fn tickers_numbers_and_units() {
        use Kind::*;
        assert_eq!(
            kinds("BRK.B AAPL rsi 5% 15m $10_000 0.7 2024-01-15 09:30 x.y"),
            vec![Ticker, Ticker, Ident, Number, Number, Money, Number, Date, Time, Ident, Dot, Ident, Eof]
        );
        assert_eq!(kinds("Abc _x A1b"), vec![Ident, Ident, Ident, Eof]);
    }

    #[test]
    fn strings_comments_and_errors() {
        let l = lex(FileId(0), "\"ok\" // c\n\"\"\"a\nb\"\"\" /* x /* y */ */ \"bad\n & ", 0);
        let ks: Vec<Kind> = l.tokens.iter().map(|t| t.kind).collect();
        assert_eq!(ks, vec![Kind::Str, Kind::BlockStr, Kind::Str, Kind::Eof]);
        assert_eq!(l.comments.len(), 2);
        let codes: Vec<&str> = l.diagnostics.iter().map(|d| d.code.id()).collect();
        assert_eq!(codes, vec!["E0004", "E0003"]);
        assert!(l.tokens[1].line_start);
    }

    #[test]
    fn unterminated_block_string_reports_once() {
        let l = lex(FileId(0), "prompt \"\"\"never closed\nmore", 0);
        assert_eq!(l.diagnostics.len(), 1);
        assert_eq!(l.diagnostics[0].code, Code::UnterminatedBlock);
        assert_eq!(l.diagnostics[0].span, Span::new(7, 10));
    }

    #[test]
    fn base_offset_shifts_spans() {
        let l = lex(FileId(0), "a", 10);
        assert_eq!(l.tokens[0].span, Span::new(10, 11));
    }
}
