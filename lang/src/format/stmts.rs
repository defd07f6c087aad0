//! Workflow statements and blocks. A block's statements take a line each; a match arm whose
//! block holds one short statement stays on the arm's line (`neutral => { end }`).

use super::context::Ctx;
use super::doc::{Doc, concat, group, nest, text};
use super::exprs::{CONTINUATION, INDENT, expr, is_empty};
use super::types::type_expr;
use crate::span::Span;
use crate::syntax::ast::{Arm, Block, Else, Expr, Name, Order, Size, Stmt};

pub fn stmt(cx: &mut Ctx, s: &Stmt) -> Doc {
    match s {
        Stmt::Let { name, value, span } => {
            let kw = cx.next(span.start);
            let name_doc = cx.leaf(name.span);
            let eq = cx.next(name.span.end);
            concat(vec![kw, text(" "), name_doc, text(" "), eq, text(" "), expr(cx, value)])
        }
        Stmt::If { cond, then, otherwise, span } => {
            let kw = cx.next(span.start);
            let cond = expr(cx, cond);
            let then = block(cx, then);
            let mut out = vec![kw, text(" "), cond, text(" "), then];
            if let Some(e) = otherwise {
                let branch_start = match e {
                    Else::Block(b) => b.span.start,
                    Else::If(s) => s.span().start,
                };
                if let Some(kw) = cx.token_before(branch_start) {
                    out.push(text(" "));
                    out.push(cx.leaf(kw.span));
                }
                out.push(text(" "));
                out.push(match e {
                    Else::Block(b) => block(cx, b),
                    Else::If(s) => stmt(cx, s),
                });
            }
            concat(out)
        }
        Stmt::Match { scrutinee, arms, span } => {
            let kw = cx.next(span.start);
            let scrutinee_doc = expr(cx, scrutinee);
            let open = cx.token_from(scrutinee.span().end).span;
            let body = braced(cx, open, *span, |cx, end| cx.lines(arms, |a| a.span, end, |cx, _, a| arm(cx, a)));
            concat(vec![kw, text(" "), scrutinee_doc, text(" "), body])
        }
        Stmt::Ask { name, schema, model, prompt, span } => {
            let kw = cx.next(span.start);
            let name_doc = cx.leaf(name.span);
            let colon = cx.next(name.span.end);
            let mut out = vec![kw, text(" "), name_doc, colon, text(" "), type_expr(cx, schema)];
            if let Some(m) = model {
                if let Some(using) = cx.token_before(m.span().start) {
                    out.push(text(" "));
                    out.push(cx.leaf(using.span));
                }
                out.push(text(" "));
                out.push(expr(cx, m));
            }
            let before_prompt = cx.token_before(prompt.span.start).map_or(span.start, |t| t.span.end);
            let line = cx.line_after(before_prompt, prompt.span.start);
            let prompt = cx.leaf(prompt.span);
            out.push(nest(CONTINUATION, concat(vec![line, prompt])));
            group(concat(out))
        }
        Stmt::Order(o) => order(cx, o),
        Stmt::Cancel { symbol, span } => {
            let kw = cx.next(span.start);
            let what = match symbol {
                Some(e) => expr(cx, e),
                None => cx.next(span.start + 1),
            };
            concat(vec![kw, text(" "), what])
        }
        Stmt::Notify { message, span } | Stmt::Log { message, span } => {
            let kw = cx.next(span.start);
            concat(vec![kw, text(" "), cx.leaf(message.span)])
        }
        Stmt::End(span) | Stmt::Error(span) => cx.leaf(*span),
    }
}

/// `{ … }` with its statements a line each.
pub fn block(cx: &mut Ctx, b: &Block) -> Doc {
    let open = Span { start: b.span.start, end: b.span.start + 1 };
    braced(cx, open, b.span, |cx, end| cx.lines(&b.stmts, Stmt::span, end, |cx, _, s| stmt(cx, s)))
}

/// The brace `open`, the lines `body` makes (given where the block closes), and the brace that
/// ends `whole`: `{}` when there is nothing inside. A comment after the opening brace stays
/// on its line.
pub fn braced(cx: &mut Ctx, open: Span, whole: Span, body: impl FnOnce(&mut Ctx, u32) -> Vec<Doc>) -> Doc {
    let close_at = whole.end.saturating_sub(1);
    let open_doc = cx.leaf(open);
    let next = cx.token_from(open.end).span.start;
    let (after_open, _) = cx.trailing(open.end, next);
    let lines = body(cx, close_at);
    let close = cx.closer(whole);
    if lines.is_empty() {
        let space = if after_open.is_hard() {
            Doc::HardLine
        } else if is_empty(&after_open) {
            Doc::Nil
        } else {
            text(" ")
        };
        return concat(vec![open_doc, after_open, space, close]);
    }
    concat(vec![open_doc, after_open, nest(INDENT, concat(vec![Doc::HardLine, concat(lines)])), Doc::HardLine, close])
}

fn arm(cx: &mut Ctx, a: &Arm) -> Doc {
    let mut out = Vec::new();
    if a.patterns.is_empty() {
        out.push(cx.next(a.span.start));
    }
    for (i, p) in a.patterns.iter().enumerate() {
        if i > 0 {
            out.push(text(" "));
            if let Some(pipe) = cx.token_before(p.span.start) {
                out.push(cx.leaf(pipe.span));
            }
            out.push(text(" "));
        }
        out.push(cx.leaf(p.span));
    }
    if let Some(arrow) = cx.token_before(a.body.span.start) {
        out.push(text(" "));
        out.push(cx.leaf(arrow.span));
    }
    out.push(text(" "));
    out.push(arm_body(cx, &a.body));
    concat(out)
}

/// One statement without comments stays between the braces when it fits.
fn arm_body(cx: &mut Ctx, b: &Block) -> Doc {
    match b.stmts.as_slice() {
        [only] if !cx.has_comments_in(b.span) => {
            let open = cx.leaf(Span { start: b.span.start, end: b.span.start + 1 });
            let s = stmt(cx, only);
            let close = cx.closer(b.span);
            group(concat(vec![open, nest(INDENT, concat(vec![Doc::Line, s])), Doc::Line, close]))
        }
        _ => block(cx, b),
    }
}

enum OrderOption<'a> {
    Size(&'a Size),
    Price(&'a Expr),
    Tif(&'a Name),
}

/// `buy SYMBOL` and its options in the order written; each option on a continuation line
/// when the order does not fit.
fn order(cx: &mut Ctx, o: &Order) -> Doc {
    let kw = cx.next(o.span.start);
    let symbol = expr(cx, &o.symbol);
    let mut options: Vec<(u32, OrderOption)> = Vec::new();
    if let Some(s) = &o.size {
        let value = match s {
            Size::All(span) => *span,
            Size::Amount(e) | Size::Fraction { percent: e, .. } => e.span(),
        };
        options.push((value.start, OrderOption::Size(s)));
    }
    for e in [&o.limit, &o.stop, &o.stop_loss, &o.take_profit].into_iter().flatten() {
        options.push((e.span().start, OrderOption::Price(e)));
    }
    if let Some(t) = &o.tif {
        options.push((t.span.start, OrderOption::Tif(t)));
    }
    options.sort_by_key(|(at, _)| *at);
    let mut rest = Vec::new();
    let mut end = o.symbol.span().end;
    for (at, option) in options {
        let kw = cx.token_before(at).map_or(Span { start: at, end: at }, |t| t.span);
        rest.push(cx.line_after(end, kw.start));
        let kw = cx.leaf(kw);
        let value = match option {
            OrderOption::Size(Size::All(span)) => cx.leaf(*span),
            OrderOption::Size(Size::Amount(e)) | OrderOption::Price(e) => expr(cx, e),
            OrderOption::Size(Size::Fraction { percent, of }) => {
                let percent = expr(cx, percent);
                let of_kw = match cx.token_before(of.span.start) {
                    Some(t) => cx.leaf(t.span),
                    None => Doc::Nil,
                };
                concat(vec![percent, text(" "), of_kw, text(" "), cx.leaf(of.span)])
            }
            OrderOption::Tif(name) => cx.leaf(name.span),
        };
        end = match option {
            OrderOption::Size(Size::All(span)) => span.end,
            OrderOption::Size(Size::Amount(e)) | OrderOption::Price(e) => e.span().end,
            OrderOption::Size(Size::Fraction { of, .. }) | OrderOption::Tif(of) => of.span.end,
        };
        rest.push(concat(vec![kw, text(" "), value]));
    }
    group(concat(vec![kw, text(" "), symbol, nest(CONTINUATION, concat(rest))]))
}
