//! What the REPL asks of the language, in byte offsets and plain strings: whether typed input
//! is finished, completion and signature hints for an expression, lexical highlighting, the
//! conditions a boolean expression is made of, and an expression's type with its unit.
//!
//! Nothing here knows the terminal or the line editor; the CLI's front end converts. Like the
//! rest of the front end, no function fails or panics: on text it cannot make sense of it
//! answers nothing.

use crate::check::types::{Ty, std_record};
use crate::diagnostic::{Code, Diagnostic};
use crate::ide::{self, Completion, CompletionKind, Completions, SemanticToken};
use crate::span::{FileId, Span, floor_char_boundary};
use crate::syntax::ast::{BinOp, Expr, UnOp};
use crate::syntax::lexer::lex;
use crate::syntax::token::Kind;
use std::collections::{BTreeMap, BTreeSet};

/// Whether typed text is ready to be evaluated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Input {
    /// Finished: evaluate it, or report what is wrong with it.
    Complete,
    /// Unfinished: more lines can complete it (an open bracket, a block string, a trailing
    /// operator).
    Incomplete,
}

/// Tells unfinished input from finished (right or wrong) input, with the parser: the input is
/// unfinished when every syntax error is at its end, where more text could still fix it, or a
/// block string or comment is open. A blank last line always finishes the input, so it can be
/// submitted (and its errors shown) whatever it holds.
pub fn input_state(text: &str) -> Input {
    if text.trim().is_empty() {
        return Input::Complete;
    }
    if let Some((_, last)) = text.rsplit_once('\n')
        && last.trim().is_empty()
    {
        return Input::Complete;
    }
    let lexed = lex(FileId(0), text, 0);
    if lexed.diagnostics.iter().any(|d| d.code == Code::UnterminatedBlock) {
        return Input::Incomplete;
    }
    let (_, diagnostics) = crate::syntax::parse_expr(FileId(0), text);
    let end = lexed.tokens.iter().rev().find(|t| t.kind != Kind::Eof).map_or(0, |t| t.span.end as usize);
    let mut errors = diagnostics.iter().filter(|d| d.is_error()).peekable();
    if errors.peek().is_none() {
        return Input::Complete;
    }
    if errors.all(|d| d.span.start as usize >= end) { Input::Incomplete } else { Input::Complete }
}

/// Completion of the word at `offset` in an expression: fields after `.`, else the stdlib's
/// functions (with their signatures) and built-in values, operator words, and `tickers` (each
/// with a detail, such as where its data came from). Only candidates starting with what is
/// typed are returned, sorted by label.
pub fn complete(text: &str, offset: usize, tickers: &BTreeMap<String, String>) -> Completions {
    let offset = floor_char_boundary(text, offset);
    let (start, _) = ide::word_at(text, offset);
    let span = Span::new(start, offset);
    let prefix = &text[start..offset];
    let items = match place(text, start, offset) {
        Place::Nothing => Vec::new(),
        Place::Code => match ide::prev_non_blank(text, start) {
            Some((dot, b'.')) => fields(text, dot),
            _ => expression(tickers),
        },
    };
    let mut seen = BTreeSet::new();
    let mut items: Vec<Completion> =
        items.into_iter().filter(|c| c.label.starts_with(prefix) && seen.insert(c.label.clone())).collect();
    items.sort_by(|a, b| a.label.cmp(&b.label));
    Completions { span, items }
}

enum Place {
    /// In a comment or the text of a string.
    Nothing,
    /// In code, or in a `{{ … }}` placeholder of a string.
    Code,
}

fn place(text: &str, start: usize, offset: usize) -> Place {
    let lexed = lex(FileId(0), &text[..offset], 0);
    if lexed.comments.iter().any(|c| (c.start as usize) < start && offset <= c.end as usize) {
        return Place::Nothing;
    }
    let last = lexed.tokens.iter().rev().find(|t| t.kind != Kind::Eof);
    if let Some(t) = last
        && matches!(t.kind, Kind::Str | Kind::BlockStr | Kind::UnterminatedStr | Kind::UnterminatedBlock)
        && t.span.end as usize == offset
    {
        let src = &text[t.span.range()];
        let closed = if src.starts_with("\"\"\"") {
            src.len() >= 6 && src.ends_with("\"\"\"")
        } else {
            src.len() >= 2 && src.ends_with('"')
        };
        if closed {
            return Place::Code;
        }
        return match (src.rfind("{{"), src.rfind("}}")) {
            (Some(o), Some(c)) if o > c => Place::Code,
            (Some(_), None) => Place::Code,
            _ => Place::Nothing,
        };
    }
    Place::Code
}

fn expression(tickers: &BTreeMap<String, String>) -> Vec<Completion> {
    let mut out: Vec<Completion> = strat_stdlib::FUNCTIONS.iter().map(ide::complete_function).collect();
    out.extend(strat_stdlib::GLOBALS.iter().map(|g| Completion {
        label: g.name.to_string(),
        kind: CompletionKind::Variable,
        detail: g.ty.display(),
        documentation: Some(g.doc.to_string()),
        snippet: None,
    }));
    out.extend(ide::EXPR_WORDS.iter().map(|w| ide::complete_item(w, CompletionKind::Keyword, "operator")));
    out.extend(tickers.iter().map(|(t, detail)| ide::complete_item(t, CompletionKind::Ticker, detail.as_str())));
    out
}

/// Fields of the value that ends at the `.` at `dot`, typed by checking the text before it.
fn fields(text: &str, dot: usize) -> Vec<Completion> {
    let base = text[..dot].trim_end();
    let (e, _) = crate::syntax::parse_expr(FileId(0), base);
    let (_, _, facts) = crate::check::check_expr_recording(FileId(0), &e);
    let typed = facts
        .types
        .iter()
        .filter(|t| t.span.end as usize == base.len() && !t.span.is_empty())
        .min_by_key(|t| t.span.len())
        .map(|t| t.ty.clone());
    let ty = typed.or_else(|| {
        let (ws, we) = ide::word_at(base, base.len());
        let word = &base[ws..we];
        if word == "trigger" {
            return Some(std_record("trigger"));
        }
        strat_stdlib::global(word).map(|g| Ty::from_std(&g.ty))
    });
    ty.map_or_else(Vec::new, |t| ide::record_fields(&t))
}

/// The signature of the stdlib function whose call the cursor is in, e.g. `rsi(symbol: symbol,
/// period: number = 14) -> number`.
pub fn signature(text: &str, offset: usize) -> Option<String> {
    ide::signature_help_text(text, offset).map(|h| h.label)
}

/// The tokens of a line, classified by the lexer alone (keywords, functions, tickers, numbers
/// with units, strings, operators, comments), in order and never across a line end.
pub fn highlight(text: &str) -> Vec<SemanticToken> {
    ide::lexical_tokens(text)
}

/// One condition of a boolean expression: a comparison (or another boolean leaf) joined to the
/// others by `and`, `or` and `not`, with the operands worth showing (those that are not
/// literals).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Condition {
    pub span: Span,
    pub operands: Vec<Span>,
}

/// The conditions of an expression, in source order: `rsi(AAPL, 14) < 30 and change(AAPL, 1d)
/// <= -3%` has two, whose operands are `rsi(AAPL, 14)` and `change(AAPL, 1d)`. An expression
/// with syntax errors has none.
pub fn conditions(text: &str) -> Vec<Condition> {
    let (e, diagnostics) = crate::syntax::parse_expr(FileId(0), text);
    if diagnostics.iter().any(Diagnostic::is_error) {
        return Vec::new();
    }
    let mut out = Vec::new();
    let mut stack = vec![&e];
    while let Some(e) = stack.pop() {
        match e {
            Expr::Binary { op: BinOp::And | BinOp::Or, lhs, rhs, .. } => {
                stack.push(rhs);
                stack.push(lhs);
            }
            Expr::Unary { op: UnOp::Not, operand, .. } | Expr::Paren(operand, _) => stack.push(operand),
            Expr::Binary { op, lhs, rhs, span, .. } if is_comparison(*op) => out.push(Condition {
                span: *span,
                operands: [lhs, rhs].into_iter().filter(|o| !is_literal(o)).map(|o| o.span()).collect(),
            }),
            other => out.push(Condition { span: other.span(), operands: Vec::new() }),
        }
    }
    out
}

fn is_comparison(op: BinOp) -> bool {
    use BinOp::*;
    matches!(op, Eq | Ne | Lt | Le | Gt | Ge | CrossesAbove | CrossesBelow | In)
}

fn is_literal(e: &Expr) -> bool {
    match e {
        Expr::Number { .. } | Expr::Str(_) | Expr::Bool(..) | Expr::Date(..) | Expr::Time(..) | Expr::Ticker(..) => {
            true
        }
        Expr::List(items, _) => items.iter().all(is_literal),
        Expr::Unary { op: UnOp::Neg, operand, .. } | Expr::Paren(operand, _) => is_literal(operand),
        // A bare name compared with something is an enum variant (`sentiment == positive`).
        Expr::Name(_) => true,
        _ => false,
    }
}

/// An expression's checked type, as `:type` shows it.
#[derive(Debug, Clone)]
pub struct TypeOf {
    /// `price (money per share)`, `macd { macd: number, signal: number, histogram: number }`;
    /// `None` when the expression has errors.
    pub ty: Option<String>,
    pub diagnostics: Vec<Diagnostic>,
}

/// Parses and checks `text` as an expression (file id 0) and describes its type with its unit.
pub fn type_of(text: &str) -> TypeOf {
    let file = FileId(0);
    let (e, mut diagnostics) = crate::syntax::parse_expr(file, text);
    let syntax_ok = !diagnostics.iter().any(Diagnostic::is_error);
    let (ty, more) = crate::check::check_expr(file, &e);
    if syntax_ok {
        diagnostics.extend(more);
    }
    let ok = !diagnostics.iter().any(Diagnostic::is_error);
    TypeOf { ty: ok.then(|| describe(&ty)), diagnostics }
}

fn describe(ty: &Ty) -> String {
    match ty {
        Ty::Record(r) => {
            let fields: Vec<String> = r.fields.iter().map(|(n, t)| format!("{n}: {t}")).collect();
            match &r.name {
                Some(n) => format!("{n} {{ {} }}", fields.join(", ")),
                None => format!("{{ {} }}", fields.join(", ")),
            }
        }
        // "percent (percent)" would say nothing more.
        Ty::Percent => "percent".to_string(),
        t => ide::describe_ty(t),
    }
}

/// Whether `text` starts like a declaration (`agent A {`, `universe tech = …`) rather than an
/// expression: the REPL evaluates expressions and loads declarations from files.
pub fn looks_like_declaration(text: &str) -> bool {
    let lexed = lex(FileId(0), text, 0);
    let mut words = lexed.tokens.iter().map(|t| (t.kind, &text[t.span.range()]));
    match (words.next(), words.next()) {
        (Some((Kind::Ident, w)), Some((Kind::Ident | Kind::Ticker, _))) => crate::syntax::ITEM_WORDS.contains(&w),
        (Some((Kind::Ident, "import")), Some((Kind::Str, _))) => true,
        (Some((Kind::Ident, "limits")), Some((Kind::LBrace, _))) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unfinished_input_is_told_from_wrong_input() {
        use Input::*;
        assert_eq!(input_state("40 + 2"), Complete);
        assert_eq!(input_state(""), Complete);
        assert_eq!(input_state("rsi(SPY,"), Incomplete);
        assert_eq!(input_state("rsi(SPY,\n  14"), Incomplete);
        assert_eq!(input_state("rsi(SPY,\n  14)"), Complete);
        assert_eq!(input_state("rsi(SPY, 14) < 30 and"), Incomplete);
        assert_eq!(input_state("[AAPL, MSFT"), Incomplete);
        assert_eq!(input_state("\"\"\"block\nstring"), Incomplete);
        assert_eq!(input_state("1 + /* note"), Incomplete);
        // Wrong whatever follows: reported at once.
        assert_eq!(input_state("rsi(SPY, 14))"), Complete);
        assert_eq!(input_state("rsi(SPY 14"), Complete);
        assert_eq!(input_state("\"open"), Complete);
        assert_eq!(input_state("1 +\n"), Complete);
        assert_eq!(input_state("1 + 1 1"), Complete);
    }

    fn labels(text: &str) -> Vec<String> {
        let tickers = BTreeMap::from([("SPY".to_string(), "loaded".to_string())]);
        complete(text, text.len(), &tickers).items.into_iter().map(|c| c.label).collect()
    }

    #[test]
    fn completion_of_functions_tickers_and_fields() {
        assert_eq!(labels("rs"), vec!["rsi"]);
        assert_eq!(labels("rsi(S"), vec!["SPY"]);
        assert_eq!(labels("macd(SPY)."), vec!["histogram", "macd", "signal"]);
        assert_eq!(labels("1 < 2 and bollinger(SPY, 20).lo"), vec!["lower"]);
        assert_eq!(labels("portfolio.bu"), vec!["buying_power"]);
        assert_eq!(labels("cro"), vec!["crosses above", "crosses below"]);
        assert!(labels("\"text ma").is_empty());
        assert_eq!(labels("\"RSI {{ rs"), vec!["rsi"]);
        let c = complete("sm", 2, &BTreeMap::new());
        assert_eq!(c.span, Span::new(0, 2));
        assert_eq!(c.items[0].detail, "sma(symbol: symbol, period: number = 20) -> price");
    }

    #[test]
    fn conditions_and_their_operands() {
        let text = "rsi(AAPL, 14) < 30 and not (change(AAPL, 1d) <= -3% or volume_spike(AAPL, 2))";
        let found: Vec<(String, Vec<String>)> = conditions(text)
            .into_iter()
            .map(|c| {
                (text[c.span.range()].to_string(), c.operands.iter().map(|o| text[o.range()].to_string()).collect())
            })
            .collect();
        assert_eq!(
            found,
            vec![
                ("rsi(AAPL, 14) < 30".to_string(), vec!["rsi(AAPL, 14)".to_string()]),
                ("change(AAPL, 1d) <= -3%".to_string(), vec!["change(AAPL, 1d)".to_string()]),
                ("volume_spike(AAPL, 2)".to_string(), vec![]),
            ]
        );
        assert!(conditions("rsi(AAPL, 14) <").is_empty());
    }

    #[test]
    fn types_with_units_and_declarations() {
        assert_eq!(type_of("price(SPY)").ty.as_deref(), Some("price (money per share)"));
        assert_eq!(
            type_of("macd(SPY)").ty.as_deref(),
            Some("macd { macd: number, signal: number, histogram: number }")
        );
        let wrong = type_of("price(SPY) + 5%");
        assert_eq!((wrong.ty, wrong.diagnostics[0].code.id()), (None, "E0202"));
        assert!(looks_like_declaration("universe tech = [AAPL]"));
        assert!(looks_like_declaration("agent A {"));
        assert!(!looks_like_declaration("limits.max_position"));
        assert_eq!(signature("rsi(SPY, ", 9).as_deref(), Some("rsi(symbol: symbol, period: number = 14) -> number"));
    }

    #[test]
    fn highlighting_by_token_kind() {
        use ide::TokenKind::*;
        let text = "rsi(SPY, 14) < 30 and x";
        let kinds: Vec<(&str, ide::TokenKind)> =
            highlight(text).iter().map(|t| (&text[t.span.range()], t.kind)).collect();
        assert_eq!(
            kinds,
            vec![
                ("rsi", Function),
                ("SPY", EnumMember),
                ("14", Number),
                ("<", Operator),
                ("30", Number),
                ("and", Keyword)
            ]
        );
    }
}
