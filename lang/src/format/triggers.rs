//! Triggers: the kind (`schedule`, `webhook`, `manual` or a condition), then its clauses
//! (`tz`, `secret`, `payload`, `throttle`, `during`) in the order written. When the whole does
//! not fit, each clause goes on a continuation line of its own.

use super::context::Ctx;
use super::doc::{Doc, concat, group, join, nest, text};
use super::exprs::{CONTINUATION, expr, words};
use super::types::schema;
use crate::span::Span;
use crate::syntax::ast::{Throttle, TriggerClause, TriggerKind, TriggerSpec, WebhookOption};

/// A trigger whose first token is the first at or after `from`.
pub fn trigger_spec(cx: &mut Ctx, spec: &TriggerSpec, from: u32) -> Doc {
    let mut clauses = Vec::new();
    let (kind, mut end) = match &spec.kind {
        TriggerKind::Schedule { cron, tz } => {
            let kw = cx.next(from);
            let cron_doc = cx.leaf(cron.span);
            if let Some(tz) = tz {
                clauses.push(keyword_and(cx, cron.span.end, tz.span, |cx| cx.leaf(tz.span)));
            }
            (concat(vec![kw, text(" "), cron_doc]), tz.as_ref().unwrap_or(cron).span.end)
        }
        TriggerKind::Webhook { path, options } => {
            let kw = cx.token_from(from);
            let mut end = kw.span.end;
            let kw = cx.leaf(kw.span);
            let path = path.as_ref().map_or(Doc::Nil, |p| {
                end = p.span.end;
                concat(vec![text(" "), cx.leaf(p.span)])
            });
            for o in options {
                let (doc, value_end) = match o {
                    WebhookOption::Secret(e) => (keyword_and(cx, end, e.span(), |cx| expr(cx, e)), e.span().end),
                    WebhookOption::Payload(s) => (keyword_and(cx, end, s.span, |cx| schema(cx, s)), s.span.end),
                };
                clauses.push(doc);
                end = value_end;
            }
            (concat(vec![kw, path]), end)
        }
        TriggerKind::Manual(span) => (cx.leaf(*span), span.end),
        TriggerKind::Expr(e) => (expr(cx, e), e.span().end),
    };
    for clause in &spec.clauses {
        let span = clause_span(clause);
        clauses.push(cx.line_after(end, span.start));
        clauses.push(match clause {
            TriggerClause::Throttle(span) => throttle(cx, *span, &spec.throttles),
            TriggerClause::During(span) => words(cx, *span),
        });
        end = span.end;
    }
    group(concat(vec![kind, nest(CONTINUATION, concat(clauses))]))
}

fn clause_span(c: &TriggerClause) -> Span {
    match c {
        TriggerClause::Throttle(s) | TriggerClause::During(s) => *s,
    }
}

/// On a continuation line after what ends at `after`: the keyword just before `value` (`tz`,
/// `secret`, `payload`), a space and the value.
fn keyword_and(cx: &mut Ctx, after: u32, value: Span, build: impl FnOnce(&mut Ctx) -> Doc) -> Doc {
    let kw = cx.token_before(value.start).map_or(Span { start: value.start, end: value.start }, |t| t.span);
    let line = cx.line_after(after, kw.start);
    let kw = cx.leaf(kw);
    concat(vec![line, kw, text(" "), build(cx)])
}

/// `throttle 1 per 15m, 4 per 1h`: the rates written inside `span`.
fn throttle(cx: &mut Ctx, span: Span, all: &[Throttle]) -> Doc {
    let kw = cx.next(span.start);
    let rates: Vec<Doc> = all
        .iter()
        .filter(|t| t.span.start >= span.start && t.span.end <= span.end)
        .map(|t| {
            let count = expr(cx, &t.count);
            let per = cx.token_before(t.window.span().start).map_or(Doc::Nil, |p| cx.leaf(p.span));
            concat(vec![count, text(" "), per, text(" "), expr(cx, &t.window)])
        })
        .collect();
    concat(vec![kw, text(" "), group(join(rates, || concat(vec![text(","), Doc::Line])))])
}
