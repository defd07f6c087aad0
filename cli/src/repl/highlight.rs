//! Colouring a REPL line by token kind, from the lexer (`strat_lang::repl::highlight`). Only
//! escape sequences are added, so the line keeps its width on screen.

use super::commands::{self, Line};
use strat_lang::ide::TokenKind;

/// The SGR parameters for a kind of token; `None` leaves it plain.
fn style(kind: TokenKind) -> Option<&'static str> {
    Some(match kind {
        TokenKind::Keyword => "1;35",
        TokenKind::Function => "34",
        TokenKind::Variable => "35",
        TokenKind::EnumMember => "36",
        TokenKind::Number => "33",
        TokenKind::String => "32",
        TokenKind::Comment => "90",
        TokenKind::Operator => "1",
        _ => return None,
    })
}

/// Style of the `:name` of a command.
const COMMAND: &str = "1;32";

/// The line with colours: the command name, then its expression's tokens.
pub fn line(input: &str) -> String {
    let mut out = String::with_capacity(input.len() * 2);
    let (from, expr) = match commands::split(input) {
        Line::Expr(e) => (0, Some(e)),
        Line::Command { rest_at, .. } => {
            let head = &input[..rest_at];
            let lead = head.len() - head.trim_start().len();
            out.push_str(&head[..lead]);
            paint(&mut out, &head[lead..], COMMAND);
            (rest_at, commands::expression(input).map(|(_, e)| e))
        }
    };
    let Some(expr) = expr else {
        out.push_str(&input[from..]);
        return out;
    };
    let mut at = 0;
    for t in strat_lang::repl::highlight(expr) {
        let range = t.span.range();
        let Some(code) = style(t.kind) else { continue };
        if range.start < at || range.end > expr.len() {
            continue;
        }
        out.push_str(&expr[at..range.start]);
        paint(&mut out, &expr[range.clone()], code);
        at = range.end;
    }
    out.push_str(&expr[at..]);
    out
}

fn paint(out: &mut String, text: &str, code: &str) {
    out.push_str("\x1b[");
    out.push_str(code);
    out.push('m');
    out.push_str(text);
    out.push_str("\x1b[0m");
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Removes the escape sequences again.
    fn plain(s: &str) -> String {
        let mut out = String::new();
        let mut chars = s.chars();
        while let Some(c) = chars.next() {
            if c == '\x1b' {
                for d in chars.by_ref() {
                    if d == 'm' {
                        break;
                    }
                }
            } else {
                out.push(c);
            }
        }
        out
    }

    #[test]
    fn tokens_are_coloured_by_kind_and_the_text_is_kept() {
        let l = line("rsi(SPY, 14) < 30 and x");
        assert_eq!(
            l,
            "\x1b[34mrsi\x1b[0m(\x1b[36mSPY\x1b[0m, \x1b[33m14\x1b[0m) \x1b[1m<\x1b[0m \x1b[33m30\x1b[0m \x1b[1;35mand\x1b[0m x"
        );
        let c = line("  :when price(SPY) > $5 // note");
        assert_eq!(
            c,
            "  \x1b[1;32m:when\x1b[0m \x1b[34mprice\x1b[0m(\x1b[36mSPY\x1b[0m) \x1b[1m>\x1b[0m \x1b[33m$5\x1b[0m \x1b[90m// note\x1b[0m"
        );
        assert_eq!(line(":data SPY=spy.csv"), "\x1b[1;32m:data\x1b[0m SPY=spy.csv");
        for s in ["\"open {{ rsi(", "é ü \"x\" 1", ":", "(((", "\"\"\"a\nb"] {
            assert_eq!(plain(&line(s)), s);
        }
    }
}
