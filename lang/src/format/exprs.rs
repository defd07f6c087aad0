//! Expressions, and the comma-separated lists shared by expressions, types and settings.
//!
//! Literals print as written (the token's source text). An operator chain of one precedence
//! breaks before each operator, continuation lines indented by four; lists, calls and
//! schemas break one element per line with a trailing comma, or fill lines when every element
//! is a literal or a name (long universes).

use super::context::Ctx;
use super::doc::{Doc, concat, group, if_break, join, nest, text};
use crate::span::Span;
use crate::syntax::ast::{Arg, BinOp, Expr, LitUnit, UnOp};
use crate::syntax::token::Kind;

/// Extra indentation of the lines an expression or statement continues on.
pub const CONTINUATION: usize = 4;
/// Indentation of a block's contents, and of list elements broken one per line.
pub const INDENT: usize = 2;

pub fn expr(cx: &mut Ctx, e: &Expr) -> Doc {
    match e {
        Expr::Number { unit: LitUnit::Shares, span, .. } => words(cx, *span),
        Expr::Number { span, .. }
        | Expr::Bool(_, span)
        | Expr::Date(_, span)
        | Expr::Time(_, span)
        | Expr::Ticker(_, span)
        | Expr::Error(span) => cx.leaf(*span),
        Expr::Str(s) => cx.leaf(s.span),
        Expr::Name(n) => cx.leaf(n.span),
        Expr::List(items, span) => {
            let open = cx.leaf(Span { start: span.start, end: span.start + 1 });
            let layout = if items.iter().all(is_atom) { Layout::Fill } else { Layout::Vertical };
            bracketed(cx, open, items, Expr::span, expr, *span, layout, false)
        }
        Expr::Call { callee, args, span } => {
            let name = cx.leaf(callee.span);
            let paren = cx.next(callee.span.end);
            bracketed(cx, concat(vec![name, paren]), args, arg_span, arg, *span, Layout::Vertical, false)
        }
        Expr::Field { .. } => field_chain(cx, e),
        Expr::Unary { op: UnOp::Not, operand, span } => {
            let kw = cx.next(span.start);
            concat(vec![kw, text(" "), expr(cx, operand)])
        }
        Expr::Unary { op: UnOp::Neg, operand, span } => {
            let minus = cx.next(span.start);
            concat(vec![minus, expr(cx, operand)])
        }
        Expr::Binary { .. } => binary_chain(cx, e),
        Expr::Paren(inner, span) => {
            let open = cx.next(span.start);
            let inner = expr(cx, inner);
            concat(vec![open, inner, cx.closer(*span)])
        }
    }
}

/// The tokens of `span` separated by single spaces (`10 shares`, `crosses above`).
pub fn words(cx: &mut Ctx, span: Span) -> Doc {
    let tokens = cx.tokens_in(span);
    let parts: Vec<Doc> = tokens.iter().map(|t| cx.leaf(t.span)).collect();
    join(parts, || text(" "))
}

/// Literals and names: lists of only these fill lines instead of taking one line each.
fn is_atom(e: &Expr) -> bool {
    match e {
        Expr::Number { .. } | Expr::Bool(..) | Expr::Date(..) | Expr::Time(..) | Expr::Ticker(..) | Expr::Name(_) => {
            true
        }
        Expr::Str(s) => s.span.len() <= 40,
        _ => false,
    }
}

fn arg_span(a: &Arg) -> Span {
    let end = a.value.span();
    a.name.as_ref().map_or(end, |n| n.span.to(end))
}

fn arg(cx: &mut Ctx, a: &Arg) -> Doc {
    match &a.name {
        Some(n) => {
            let name = cx.leaf(n.span);
            let colon = cx.next(n.span.end);
            concat(vec![name, colon, text(" "), expr(cx, &a.value)])
        }
        None => expr(cx, &a.value),
    }
}

/// Binding class of an operator: a chain of one class is laid out as one group.
fn class(op: BinOp) -> u8 {
    match op {
        BinOp::Or => 0,
        BinOp::And => 1,
        BinOp::Add | BinOp::Sub => 3,
        BinOp::Mul | BinOp::Div => 4,
        _ => 2,
    }
}

/// `a + b - c`: the left-leaning tree of one class walked without recursion (a chain may be
/// as long as the file), broken before every operator when it does not fit.
fn binary_chain(cx: &mut Ctx, e: &Expr) -> Doc {
    let Expr::Binary { op, .. } = e else { return expr(cx, e) };
    let chain = class(*op);
    let mut rights = Vec::new();
    let mut first = e;
    while let Expr::Binary { op, lhs, rhs, op_span, .. } = first {
        if class(*op) != chain {
            break;
        }
        rights.push((*op_span, rhs.as_ref()));
        first = lhs;
    }
    let mut end = first.span().end;
    let first = expr(cx, first);
    let mut rest = Vec::with_capacity(rights.len() * 4);
    for (op_span, rhs) in rights.into_iter().rev() {
        rest.push(cx.line_after(end, op_span.start));
        end = rhs.span().end;
        rest.push(words(cx, op_span));
        rest.push(text(" "));
        rest.push(expr(cx, rhs));
    }
    group(concat(vec![first, nest(CONTINUATION, concat(rest))]))
}

/// `a.b.c`, walked without recursion. A field that starts with a capital after a ticker keeps
/// a space before its dot, or the two would read as one class ticker (`BRK.B`).
fn field_chain(cx: &mut Ctx, e: &Expr) -> Doc {
    let mut fields = Vec::new();
    let mut base = e;
    while let Expr::Field { base: b, field, .. } = base {
        fields.push(field);
        base = b;
    }
    let mut out = vec![expr(cx, base)];
    for f in fields.into_iter().rev() {
        let Some(dot) = cx.token_before(f.span.start) else { continue };
        let glued =
            cx.token_before(dot.span.start).is_some_and(|t| t.kind == Kind::Ticker && !cx.src(t.span).contains('.'));
        if glued && f.text.starts_with(|c: char| c.is_ascii_uppercase()) {
            out.push(text(" "));
        }
        out.push(cx.leaf(dot.span));
        out.push(cx.leaf(f.span));
    }
    concat(out)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Layout {
    /// One element per line when broken.
    Vertical,
    /// As many elements per line as fit.
    Fill,
}

/// `open` elements separated by commas, then the closing bracket that ends `whole`. Flat when
/// it fits (`spaced` puts spaces inside the brackets: `{ a, b }`); broken, the elements go on
/// their own lines (or fill them, when there are no comments) indented by two, with a trailing
/// comma. A comment after an element's comma stays on its line.
#[allow(clippy::too_many_arguments)]
pub fn bracketed<T>(
    cx: &mut Ctx,
    open: Doc,
    items: &[T],
    span_of: impl Fn(&T) -> Span,
    mut build: impl FnMut(&mut Ctx, &T) -> Doc,
    whole: Span,
    layout: Layout,
    spaced: bool,
) -> Doc {
    let close_at = whole.end.saturating_sub(1);
    if items.is_empty() && !cx.comments.any_before(close_at) {
        return concat(vec![open, cx.closer(whole)]);
    }
    // Comments take lines of their own, which a fill cannot give them.
    let layout = if cx.has_comments_in(whole) { Layout::Vertical } else { layout };
    let mut parts = Vec::with_capacity(items.len());
    for (i, item) in items.iter().enumerate() {
        let span = span_of(item);
        let doc = build(cx, item);
        // A fill lays its last element out flat, so its trailing comma follows the fill.
        let comma = match (i + 1 == items.len(), layout) {
            (false, _) => text(","),
            (true, Layout::Vertical) => if_break(text(","), Doc::Nil),
            (true, Layout::Fill) => Doc::Nil,
        };
        let limit = items.get(i + 1).map_or(close_at, |n| span_of(n).start);
        let (comments, _) = cx.trailing(span.end, limit);
        parts.push(concat(vec![doc, comma, comments]));
    }
    let dangling = own_lines(cx, close_at);
    let edge = if spaced { Doc::Line } else { Doc::SoftLine };
    let body = match layout {
        Layout::Fill => concat(vec![Doc::Fill(join_parts(parts)), if_break(text(","), Doc::Nil)]),
        Layout::Vertical => join(parts, || Doc::Line),
    };
    let close = cx.closer(whole);
    group(concat(vec![open, nest(INDENT, concat(vec![edge.clone(), body, dangling])), edge, close]))
}

/// Whether `d` prints nothing at all.
pub fn is_empty(d: &Doc) -> bool {
    match d {
        Doc::Nil => true,
        Doc::Concat(v) => v.iter().all(is_empty),
        _ => false,
    }
}

fn join_parts(parts: Vec<Doc>) -> Vec<Doc> {
    let mut out = Vec::with_capacity(parts.len() * 2);
    for (i, p) in parts.into_iter().enumerate() {
        if i > 0 {
            out.push(Doc::Line);
        }
        out.push(p);
    }
    out
}

/// The comments before `pos`, each on a line of its own, ending without a line break (the
/// closing bracket's line break follows). They break the enclosing group.
pub fn own_lines(cx: &mut Ctx, pos: u32) -> Doc {
    let mut out = Vec::new();
    while let Some(c) = cx.comments.take_before(pos) {
        out.push(Doc::FreshLine);
        out.push(text(c.text));
        out.push(Doc::BreakParent);
    }
    concat(out)
}

/// A list after a setting's key (`context a, b`, `members A, B`): flat, or filling lines
/// whose continuations line up under the first element, `column` to the right of the key.
pub fn hanging<T>(
    cx: &mut Ctx,
    items: &[T],
    span_of: impl Fn(&T) -> Span,
    mut build: impl FnMut(&mut Ctx, &T) -> Doc,
    column: usize,
) -> Doc {
    let mut parts = Vec::with_capacity(items.len());
    let mut commented = false;
    for (i, item) in items.iter().enumerate() {
        let span = span_of(item);
        commented |= cx.comments.any_before(span.start);
        let doc = build(cx, item);
        let comma = if i + 1 == items.len() { Doc::Nil } else { text(",") };
        let (comments, _) = match items.get(i + 1) {
            Some(n) => cx.trailing(span.end, span_of(n).start),
            None => (Doc::Nil, span.end),
        };
        commented |= !is_empty(&comments);
        parts.push(concat(vec![doc, comma, comments]));
    }
    let body = if commented { join(parts, || Doc::Line) } else { Doc::Fill(join_parts(parts)) };
    group(nest(column, body))
}
