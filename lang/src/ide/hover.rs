//! Hover: the type and unit of an expression, the documentation of a builtin (with its
//! example), and what a declaration declares.

use super::{Snapshot, describe_ty, next_non_blank, prev_non_blank, word_at};
use crate::check::{DeclKind, Target};
use crate::span::{FileId, Span};
use crate::syntax::ast::{AgentField, Item, LimitsRef, TeamField, TriggerKind};
use std::fmt::Write;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hover {
    /// What the hover is about.
    pub span: Span,
    /// Markdown.
    pub markdown: String,
}

pub fn hover(s: &Snapshot, file: FileId, offset: usize) -> Option<Hover> {
    let text = s.text(file);
    let offset = crate::span::floor_char_boundary(text, offset);
    if let Some((span, target)) = s.target_at(file, offset) {
        let markdown = match target {
            Target::Decl(d) => declaration(s, d)?,
            Target::Local { file: f, span: at } => {
                let l = s.checked.facts.locals.iter().find(|l| l.file == f && l.span == at)?;
                format!("```strat\n{}: {}\n```\nbound in this {}", l.name, l.ty, binder(s, f, at))
            }
        };
        return Some(Hover { span, markdown });
    }
    let (start, end) = word_at(text, offset);
    let word = &text[start..end];
    let span = Span::new(start, end);
    if !word.is_empty() && !word.as_bytes()[0].is_ascii_digit() {
        // A field after `.`: its type, and its documentation when the record is a builtin.
        if let Some((dot, b'.')) = prev_non_blank(text, start) {
            let base = s.type_ending_at(file, dot).or_else(|| s.type_ending_at(file, trim_end(text, dot)));
            if let Some(rec) = base.and_then(|t| t.fields()) {
                let ty = rec.field(word)?;
                let mut md = format!("```strat\n{word}: {}\n```\n", describe_ty(ty));
                if let Some(doc) = rec
                    .name
                    .as_deref()
                    .and_then(strat_stdlib::record)
                    .and_then(|r| r.fields.iter().find(|f| f.name == word))
                {
                    let _ = write!(md, "{}", doc.doc);
                }
                return Some(Hover { span, markdown: md });
            }
        }
        if next_non_blank(text, end) == Some(b'(')
            && let Some(doc) = strat_stdlib::describe(word)
        {
            return Some(Hover { span, markdown: doc });
        }
        let line_head = text[..start].rsplit('\n').next().is_some_and(|b| b.trim().is_empty());
        if line_head && s.item_at(file, start).is_some_and(|(_, it)| !matches!(it, Item::Limits(_))) {
            // A setting keyword (`model`, `limits`, `context`, …), not the value of that name.
            return None;
        }
        if word.bytes().all(|b| b.is_ascii_uppercase() || b.is_ascii_digit())
            && s.type_at(file, start).is_some_and(|t| t.span == span && t.ty == crate::check::types::Ty::Symbol)
        {
            let universes = universes_with(s, file, word);
            let md = if universes.is_empty() {
                format!("```strat\n{word}: symbol\n```")
            } else {
                format!("```strat\n{word}: symbol\n```\nin {}", universes.join(", "))
            };
            return Some(Hover { span, markdown: md });
        }
        if let Some(g) = strat_stdlib::global(word) {
            let ty = s.type_at(file, start).filter(|t| t.span == span).map_or(g.ty.display(), |t| describe_ty(&t.ty));
            return Some(Hover { span, markdown: format!("```strat\n{word}: {ty}\n```\n{}", g.doc) });
        }
        if let Some(c) = strat_stdlib::context_source(word)
            && in_context_line(s, file, start)
        {
            return Some(Hover { span, markdown: format!("context source `{}`: {}", c.name, c.doc) });
        }
        if let Some(l) = strat_stdlib::limit_field(word) {
            return Some(Hover { span, markdown: format!("```strat\n{}: {}\n```\n{}", l.name, l.ty.display(), l.doc) });
        }
    }
    // Any other expression: its type and unit.
    let t = s.type_at(file, offset)?;
    let src = text.get(t.span.range()).unwrap_or("");
    let shown = if src.len() > 80 {
        format!("{}…", &src[..crate::span::floor_char_boundary(src, 80)])
    } else {
        src.to_string()
    };
    Some(Hover { span: t.span, markdown: format!("```strat\n{}\n```\ntype: {}", shown.trim(), describe_ty(&t.ty)) })
}

/// The universes this file sees that list `ticker`, as `` `name` ``.
fn universes_with(s: &Snapshot, file: FileId, ticker: &str) -> Vec<String> {
    let Some(scope) = s.checked.scopes.get(&file) else { return Vec::new() };
    scope
        .names
        .iter()
        .filter(|(_, d)| d.kind == DeclKind::Universe)
        .filter(|(_, d)| match s.item(**d) {
            Some(Item::Universe(u)) => match &u.symbols {
                crate::syntax::ast::Expr::List(items, _) => {
                    items.iter().any(|e| matches!(e, crate::syntax::ast::Expr::Ticker(t, _) if t == ticker))
                }
                _ => false,
            },
            _ => false,
        })
        .map(|(n, _)| format!("`{n}`"))
        .collect()
}

fn trim_end(text: &str, mut i: usize) -> usize {
    let b = text.as_bytes();
    while i > 0 && b[i - 1].is_ascii_whitespace() {
        i -= 1;
    }
    i
}

fn in_context_line(s: &Snapshot, file: FileId, offset: usize) -> bool {
    let Some((_, Item::Agent(a))) = s.item_at(file, offset) else { return false };
    a.fields.iter().any(|f| matches!(f, AgentField::Context(_, sp) if super::contains(*sp, offset)))
}

/// What binds a local: `let`, `ask` or an agent's input.
fn binder(s: &Snapshot, file: FileId, at: Span) -> &'static str {
    let text = s.text(file);
    let before = text.get(..at.start as usize).unwrap_or("").trim_end();
    if before.ends_with("let") {
        "block (`let`)"
    } else if before.ends_with("ask") {
        "block (the model's answer)"
    } else {
        "agent (an input)"
    }
}

/// One line of source for a setting, without its keyword, shortened.
fn setting_text(text: &str, span: Span, keyword: &str) -> String {
    let src = text.get(span.range()).unwrap_or("").trim();
    let src = src.strip_prefix(keyword).unwrap_or(src).trim();
    let one_line: String = src.split_whitespace().collect::<Vec<_>>().join(" ");
    if one_line.chars().count() > 90 {
        let cut: String = one_line.chars().take(90).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

fn declaration(s: &Snapshot, d: crate::check::DeclRef) -> Option<String> {
    let item = s.item(d)?;
    let text = s.text(d.file);
    let name = item.name().map_or("", |n| n.text.as_str());
    let path = s.file(d.file).map_or("", |f| f.path.as_str());
    let mut md = format!("```strat\n{} {name}\n```\n", d.kind.word());
    let mut line = |k: &str, v: String| {
        let _ = writeln!(md, "- {k}: `{v}`");
    };
    match item {
        Item::Universe(u) => line("symbols", setting_text(text, u.symbols.span(), "")),
        Item::Limits(l) => {
            for st in &l.body.settings {
                line(&st.key.text, setting_text(text, st.value.span(), ""));
            }
        }
        Item::Model(m) => {
            line("model", setting_text(text, m.spec.span(), ""));
            if let crate::syntax::ast::Expr::Call { callee, .. } = &m.spec
                && let Some(p) = strat_stdlib::provider(&callee.text)
            {
                let _ = writeln!(md, "\n{}", p.doc);
            }
        }
        Item::Trigger(t) => line("fires on", setting_text(text, t.spec.span, "")),
        Item::Agent(a) => {
            let mut has_output = false;
            for f in &a.fields {
                match f {
                    AgentField::Model(_, sp) => line("model", setting_text(text, *sp, "model")),
                    AgentField::Limits(LimitsRef::Named(n), _) => line("limits", n.text.clone()),
                    AgentField::Limits(LimitsRef::Inline(b), _) => line("limits", setting_text(text, b.span, "")),
                    AgentField::Context(_, sp) => line("context", setting_text(text, *sp, "context")),
                    AgentField::Input(sc, _) => line("input", setting_text(text, sc.span, "")),
                    AgentField::Output(t, _) => {
                        has_output = true;
                        line("output", setting_text(text, t.span(), ""));
                    }
                    AgentField::Actions(_, sp) => line("actions", setting_text(text, *sp, "actions")),
                    AgentField::On(spec) => line("on", setting_text(text, spec.span, "on")),
                    AgentField::Role(st, _) => line("role", st.value.clone()),
                    AgentField::Description(st, _) => line("description", st.value.clone()),
                    AgentField::Prompt(st, _) => {
                        let holes: Vec<String> = st.holes().map(|h| setting_text(text, h.span(), "")).collect();
                        line("prompt placeholders", if holes.is_empty() { "none".into() } else { holes.join(", ") });
                    }
                    AgentField::System(..) | AgentField::Overlap(..) => {}
                }
            }
            if !has_output {
                line("output", "decision (buy | sell | hold), the default".into());
            }
        }
        Item::Workflow(w) => {
            for f in &w.settings {
                if let AgentField::On(spec) = f {
                    line("on", setting_text(text, spec.span, "on"));
                }
                if let AgentField::Limits(LimitsRef::Named(n), _) = f {
                    line("limits", n.text.clone());
                }
                if let AgentField::Model(_, sp) = f {
                    line("model", setting_text(text, *sp, "model"));
                }
            }
            line("statements", w.body.stmts.len().to_string());
        }
        Item::Team(t) => {
            for f in &t.fields {
                match f {
                    TeamField::Members(ns, _) => {
                        line("members", ns.iter().map(|n| n.text.as_str()).collect::<Vec<_>>().join(", "))
                    }
                    TeamField::Coordination(n, _) => line("coordination", n.text.clone()),
                    TeamField::Supervisor(n, _) => line("supervisor", n.text.clone()),
                    TeamField::Vote(n, _) => line("vote", n.text.clone()),
                    TeamField::Fallback(n, _) => line("fallback", n.text.clone()),
                    TeamField::Rounds(e, _) => line("rounds", setting_text(text, e.span(), "")),
                    TeamField::Allocate(_, sp) => line("allocate", setting_text(text, *sp, "allocate")),
                    TeamField::Limits(LimitsRef::Named(n), _) => line("limits", n.text.clone()),
                    TeamField::Limits(LimitsRef::Inline(b), _) => line("limits", setting_text(text, b.span, "")),
                    TeamField::On(spec) => line("on", setting_text(text, spec.span, "on")),
                    TeamField::Description(st, _) => line("description", st.value.clone()),
                    TeamField::Overlap(..) => {}
                }
            }
        }
        Item::Import(_) | Item::Error(_) => {}
    }
    if let Item::Trigger(t) = item
        && let TriggerKind::Schedule { tz: None, .. } = &t.spec.kind
    {
        md.push_str("\nNo time zone: the schedule runs in UTC.\n");
    }
    if d.kind == DeclKind::Agent {
        let teams: Vec<&str> = s
            .files()
            .flat_map(|(_, f)| f.ast.items.iter())
            .filter_map(|it| match it {
                Item::Team(t)
                    if t.fields
                        .iter()
                        .any(|f| matches!(f, TeamField::Members(ns, _) if ns.iter().any(|n| n.text == name))) =>
                {
                    Some(t.name.text.as_str())
                }
                _ => None,
            })
            .collect();
        if !teams.is_empty() {
            let _ = writeln!(md, "- member of: `{}`", teams.join(", "));
        }
    }
    let _ = write!(md, "\ndeclared in `{path}`");
    Some(md)
}
