//! The file and its declarations. Settings blocks (`limits`, `agent`, `workflow`, `team`) take
//! one setting per line, the values of a run of settings lined up one column after the
//! longest key (an `on` trigger and statements are not lined up).

use super::context::Ctx;
use super::doc::{Doc, concat, group, if_break, join, nest, text};
use super::exprs::{INDENT, Layout, bracketed, expr, hanging};
use super::stmts::{braced, stmt};
use super::triggers::trigger_spec;
use super::types::{schema, type_expr};
use crate::span::Span;
use crate::syntax::ast::{AgentField, File, Item, LimitsBody, LimitsRef, Name, Setting, Stmt, TeamField};

pub fn file(cx: &mut Ctx, f: &File) -> Doc {
    let end = u32::try_from(cx.text.len()).unwrap_or(u32::MAX);
    let lines = cx.lines(&f.items, Item::span, end, |cx, _, item| self::item(cx, item));
    if lines.is_empty() {
        return Doc::Nil;
    }
    concat(vec![concat(lines), Doc::HardLine])
}

fn item(cx: &mut Ctx, item: &Item) -> Doc {
    let start = item.span().start;
    match item {
        Item::Import(i) => {
            let kw = cx.next(start);
            let path = cx.leaf(i.path.span);
            let mut out = vec![kw, text(" "), path];
            if let Some(names) = &i.names {
                let open = cx.next(i.path.span.end);
                let whole = Span { start: i.path.span.end, end: i.span.end };
                out.push(text(" "));
                out.push(bracketed(cx, open, names, |n| n.span, |cx, n| cx.leaf(n.span), whole, Layout::Fill, true));
            }
            concat(out)
        }
        Item::Universe(u) => binding(cx, start, &u.name, |cx| expr(cx, &u.symbols)),
        Item::Model(m) => binding(cx, start, &m.name, |cx| expr(cx, &m.spec)),
        Item::Trigger(t) => {
            let from = cx.token_from(t.name.span.end).span.end;
            binding(cx, start, &t.name, |cx| trigger_spec(cx, &t.spec, from))
        }
        Item::Limits(l) => {
            let kw = cx.next(start);
            let name = l.name.as_ref().map_or(Doc::Nil, |n| concat(vec![text(" "), cx.leaf(n.span)]));
            concat(vec![kw, name, text(" "), limits_block(cx, &l.body)])
        }
        Item::Agent(a) => {
            let head = head(cx, start, &a.name);
            let body = settings(cx, &a.name, a.span, &a.fields, agent_field_span, agent_key, agent_field);
            concat(vec![head, body])
        }
        Item::Workflow(w) => {
            let head = head(cx, start, &w.name);
            let mut members: Vec<Member> = w.settings.iter().map(Member::Setting).collect();
            members.extend(w.body.stmts.iter().map(Member::Stmt));
            members.sort_by_key(|m| m.span().start);
            let body = settings(cx, &w.name, w.span, &members, Member::span, Member::key, |cx, m, col| match m {
                Member::Setting(f) => agent_field(cx, f, col),
                Member::Stmt(s) => stmt(cx, s),
            });
            concat(vec![head, body])
        }
        Item::Team(t) => {
            let head = head(cx, start, &t.name);
            let body = settings(cx, &t.name, t.span, &t.fields, team_field_span, team_key, team_field);
            concat(vec![head, body])
        }
        Item::Error(span) => cx.leaf(*span),
    }
}

/// `universe name = …`, `model name = …`, `trigger name = …`.
fn binding(cx: &mut Ctx, start: u32, name: &Name, value: impl FnOnce(&mut Ctx) -> Doc) -> Doc {
    let kw = cx.next(start);
    let name_doc = cx.leaf(name.span);
    let eq = cx.next(name.span.end);
    concat(vec![kw, text(" "), name_doc, text(" "), eq, text(" "), value(cx)])
}

/// `agent Name `.
fn head(cx: &mut Ctx, start: u32, name: &Name) -> Doc {
    let kw = cx.next(start);
    let name = cx.leaf(name.span);
    concat(vec![kw, text(" "), name, text(" ")])
}

/// The braced block after `name` that ends `whole`, one entry a line, values lined up.
fn settings<T>(
    cx: &mut Ctx,
    name: &Name,
    whole: Span,
    entries: &[T],
    span_of: impl Fn(&T) -> Span + Copy,
    key_of: impl Fn(&T) -> Option<&'static str>,
    mut build: impl FnMut(&mut Ctx, &T, usize) -> Doc,
) -> Doc {
    let spans: Vec<Span> = entries.iter().map(span_of).collect();
    let keys: Vec<Option<usize>> = entries.iter().map(|e| key_of(e).map(str::len)).collect();
    let columns = cx.key_columns(&spans, &keys);
    let open = cx.token_from(name.span.end).span;
    braced(cx, open, whole, |cx, end| cx.lines(entries, span_of, end, |cx, i, e| build(cx, e, columns[i])))
}

/// A setting's key and the spaces that bring its value to `column` (one space when flat, or
/// when the key is not lined up).
fn key(cx: &mut Ctx, at: u32, column: usize) -> Doc {
    let kw = cx.token_from(at);
    let width = cx.src(kw.span).chars().count();
    let kw = cx.leaf(kw.span);
    let pad = column.saturating_sub(width).max(1);
    concat(vec![kw, if_break(text(" ".repeat(pad)), text(" "))])
}

enum Member<'a> {
    Setting(&'a AgentField),
    Stmt(&'a Stmt),
}

impl Member<'_> {
    fn span(&self) -> Span {
        match self {
            Member::Setting(f) => agent_field_span(f),
            Member::Stmt(s) => s.span(),
        }
    }

    fn key(&self) -> Option<&'static str> {
        match self {
            Member::Setting(f) => agent_key(f),
            Member::Stmt(_) => None,
        }
    }
}

fn agent_field_span(f: &AgentField) -> Span {
    match f {
        AgentField::Model(_, s)
        | AgentField::Limits(_, s)
        | AgentField::Context(_, s)
        | AgentField::Prompt(_, s)
        | AgentField::System(_, s)
        | AgentField::Description(_, s)
        | AgentField::Role(_, s)
        | AgentField::Input(_, s)
        | AgentField::Output(_, s)
        | AgentField::Actions(_, s)
        | AgentField::Overlap(_, s) => *s,
        AgentField::On(spec) => spec.span,
    }
}

/// The key an agent or workflow setting lines up by; `on` does not line up.
fn agent_key(f: &AgentField) -> Option<&'static str> {
    Some(match f {
        AgentField::Model(..) => "model",
        AgentField::Limits(..) => "limits",
        AgentField::Context(..) => "context",
        AgentField::Prompt(..) => "prompt",
        AgentField::System(..) => "system",
        AgentField::Description(..) => "description",
        AgentField::Role(..) => "role",
        AgentField::Input(..) => "input",
        AgentField::Output(..) => "output",
        AgentField::Actions(..) => "actions",
        AgentField::Overlap(..) => "overlap",
        AgentField::On(_) => return None,
    })
}

fn agent_field(cx: &mut Ctx, f: &AgentField, column: usize) -> Doc {
    let at = agent_field_span(f).start;
    if let AgentField::On(spec) = f {
        return on(cx, at, spec);
    }
    let key = key(cx, at, column);
    let value = match f {
        AgentField::Model(e, _) => expr(cx, e),
        AgentField::Limits(r, _) => limits_ref(cx, r),
        AgentField::Context(items, _) => hanging(cx, items, |e| e.span(), expr, column.max(key_width(f) + 1)),
        AgentField::Prompt(s, _)
        | AgentField::System(s, _)
        | AgentField::Description(s, _)
        | AgentField::Role(s, _) => cx.leaf(s.span),
        AgentField::Input(s, _) => schema(cx, s),
        AgentField::Output(t, _) => type_expr(cx, t),
        AgentField::Actions(names, _) => {
            hanging(cx, names, |n| n.span, |cx, n| cx.leaf(n.span), column.max(key_width(f) + 1))
        }
        AgentField::Overlap(n, _) => cx.leaf(n.span),
        AgentField::On(_) => Doc::Nil,
    };
    concat(vec![key, value])
}

fn key_width(f: &AgentField) -> usize {
    agent_key(f).map_or(0, str::len)
}

/// `on TRIGGER`.
fn on(cx: &mut Ctx, at: u32, spec: &crate::syntax::ast::TriggerSpec) -> Doc {
    let kw = cx.token_from(at);
    let kw_doc = cx.leaf(kw.span);
    concat(vec![kw_doc, text(" "), trigger_spec(cx, spec, kw.span.end)])
}

fn team_field_span(f: &TeamField) -> Span {
    match f {
        TeamField::Members(_, s)
        | TeamField::Coordination(_, s)
        | TeamField::Supervisor(_, s)
        | TeamField::Vote(_, s)
        | TeamField::Rounds(_, s)
        | TeamField::Fallback(_, s)
        | TeamField::Allocate(_, s)
        | TeamField::Limits(_, s)
        | TeamField::Overlap(_, s)
        | TeamField::Description(_, s) => *s,
        TeamField::On(spec) => spec.span,
    }
}

fn team_key(f: &TeamField) -> Option<&'static str> {
    Some(match f {
        TeamField::Members(..) => "members",
        TeamField::Coordination(..) => "coordination",
        TeamField::Supervisor(..) => "supervisor",
        TeamField::Vote(..) => "vote",
        TeamField::Rounds(..) => "rounds",
        TeamField::Fallback(..) => "fallback",
        TeamField::Allocate(..) => "allocate",
        TeamField::Limits(..) => "limits",
        TeamField::Overlap(..) => "overlap",
        TeamField::Description(..) => "description",
        TeamField::On(_) => return None,
    })
}

fn team_field(cx: &mut Ctx, f: &TeamField, column: usize) -> Doc {
    let at = team_field_span(f).start;
    if let TeamField::On(spec) = f {
        return on(cx, at, spec);
    }
    let width = team_key(f).map_or(0, str::len);
    let key = key(cx, at, column);
    let value = match f {
        TeamField::Members(names, _) => hanging(cx, names, |n| n.span, |cx, n| cx.leaf(n.span), column.max(width + 1)),
        TeamField::Coordination(n, _)
        | TeamField::Supervisor(n, _)
        | TeamField::Vote(n, _)
        | TeamField::Fallback(n, _)
        | TeamField::Overlap(n, _) => cx.leaf(n.span),
        TeamField::Rounds(e, _) => expr(cx, e),
        TeamField::Allocate(shares, _) => hanging(
            cx,
            shares,
            |(n, e)| n.span.to(e.span()),
            |cx, (n, e)| {
                let name = cx.leaf(n.span);
                concat(vec![name, text(" "), expr(cx, e)])
            },
            column.max(width + 1),
        ),
        TeamField::Limits(r, _) => limits_ref(cx, r),
        TeamField::Description(s, _) => cx.leaf(s.span),
        TeamField::On(_) => Doc::Nil,
    };
    concat(vec![key, value])
}

fn limits_ref(cx: &mut Ctx, r: &LimitsRef) -> Doc {
    match r {
        LimitsRef::Named(n) => cx.leaf(n.span),
        LimitsRef::Inline(body) => inline_limits(cx, body),
    }
}

/// A top-level limits block: one setting a line, values lined up.
fn limits_block(cx: &mut Ctx, body: &LimitsBody) -> Doc {
    let spans: Vec<Span> = body.settings.iter().map(|s| s.span).collect();
    let keys: Vec<Option<usize>> = body.settings.iter().map(|s| Some(s.key.text.chars().count())).collect();
    let columns = cx.key_columns(&spans, &keys);
    let open = Span { start: body.span.start, end: body.span.start + 1 };
    braced(cx, open, body.span, |cx, end| {
        cx.lines(&body.settings, |s| s.span, end, |cx, i, s| limit_setting(cx, s, columns[i]))
    })
}

fn limit_setting(cx: &mut Ctx, s: &Setting, column: usize) -> Doc {
    let key = key(cx, s.key.span.start, column);
    concat(vec![key, expr(cx, &s.value)])
}

/// Limits written in place: `{ max_position $5_000, allow tech }` when it fits, else a block
/// like a top-level one. With comments or empty lines inside, always a block.
fn inline_limits(cx: &mut Ctx, body: &LimitsBody) -> Doc {
    let has_blank = body
        .settings
        .windows(2)
        .any(|w| super::comments::has_blank_line(cx.src(Span { start: w[0].span.end, end: w[1].span.start })));
    if has_blank || cx.has_comments_in(body.span) || body.settings.is_empty() {
        return limits_block(cx, body);
    }
    let keys: Vec<Option<usize>> = body.settings.iter().map(|s| Some(s.key.text.chars().count())).collect();
    let spans: Vec<Span> = body.settings.iter().map(|s| s.span).collect();
    let columns = cx.key_columns(&spans, &keys);
    let open = cx.leaf(Span { start: body.span.start, end: body.span.start + 1 });
    let settings: Vec<Doc> = body.settings.iter().zip(columns).map(|(s, col)| limit_setting(cx, s, col)).collect();
    let inner = join(settings, || concat(vec![if_break(Doc::Nil, text(",")), Doc::Line]));
    let close = cx.closer(body.span);
    group(concat(vec![open, nest(INDENT, concat(vec![Doc::Line, inner])), Doc::Line, close]))
}
