//! Completion: keywords, declarations in scope, stdlib functions with signature snippets,
//! symbols from universes, fields after `.`, and values inside prompt templates.

use super::{Snapshot, describe_ty, word_at};
use crate::check::types::{Ty, std_record};
use crate::check::{DeclKind, Target};
use crate::span::{FileId, Span};
use crate::syntax::ast::{Expr, Item};
use crate::syntax::lexer::lex;
use crate::syntax::token::Kind;
use std::collections::BTreeSet;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CompletionKind {
    Keyword,
    Function,
    /// A local binding or built-in value.
    Variable,
    Field,
    Declaration(DeclKind),
    /// A ticker from a universe.
    Ticker,
    /// A whole construct to fill in.
    Snippet,
    /// A fixed word a setting accepts (`sequential`, `gtc`, …).
    Value,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Completion {
    pub label: String,
    pub kind: CompletionKind,
    pub detail: String,
    pub documentation: Option<String>,
    /// Text to insert in snippet syntax (`$1`, `${1:name}`), when it differs from the label.
    pub snippet: Option<String>,
}

/// The candidates, and the span of the partly typed word they replace.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Completions {
    pub span: Span,
    pub items: Vec<Completion>,
}

pub(crate) fn item(label: &str, kind: CompletionKind, detail: impl Into<String>) -> Completion {
    Completion { label: label.to_string(), kind, detail: detail.into(), documentation: None, snippet: None }
}

/// Snippets for whole declarations, also shipped with the VS Code extension.
pub const ITEM_SNIPPETS: &[(&str, &str, &str)] = &[
    (
        "agent",
        "an agent: model, context, prompt and trigger",
        "agent ${1:Name} {\n  model   ${2:sonnet}\n  context prices(${3:tech}), portfolio\n  prompt  \"${4:What the agent should do}\"\n  on schedule \"${5:0 16 * * 1-5}\" tz \"America/New_York\"\n}",
    ),
    (
        "workflow",
        "a workflow: limits, trigger and statements",
        "workflow ${1:Name} {\n  limits ${2:cautious}\n  on bar(${3:SPY}, 1d)\n\n  if ${4:rsi($3, 14) < 30} {\n    buy $3 size ${5:10}\n  }\n}",
    ),
    (
        "team",
        "a team of agents",
        "team ${1:Name} {\n  members      ${2:First}, ${3:Second}\n  coordination ${4|sequential,parallel,hierarchical,consensus|}\n  on schedule \"${5:0 15 * * 1-5}\" tz \"America/New_York\"\n}",
    ),
    (
        "limits",
        "a limits block",
        "limits ${1:cautious} {\n  max_position     \\$${2:10_000}\n  max_allocation   ${3:5}%\n  max_daily_trades ${4:3}\n}",
    ),
    ("universe", "a named symbol set", "universe ${1:tech} = [${2:AAPL, MSFT}]"),
    ("model", "a model declaration", "model ${1:sonnet} = ${2:anthropic}(\"${3:claude-sonnet-4-5}\")"),
    ("trigger", "a named trigger", "trigger ${1:close} = schedule \"${2:0 16 * * 1-5}\" tz \"America/New_York\""),
    ("import", "import declarations from another file", "import \"${1:shared.strat}\""),
];

pub(crate) const EXPR_WORDS: &[&str] = &["and", "or", "not", "in", "true", "false", "crosses above", "crosses below"];

pub fn complete(s: &Snapshot, file: FileId, offset: usize) -> Completions {
    let text = s.text(file);
    let offset = crate::span::floor_char_boundary(text, offset);
    let (start, end) = word_at(text, offset);
    let span = Span::new(start, end.max(offset));
    let items = candidates(s, file, start, offset);
    Completions { span, items }
}

/// What surrounds the cursor, from the tokens of the enclosing item.
enum Place {
    Comment,
    /// In a string, outside any placeholder.
    Text,
    /// Inside `{{ … }}` of a string.
    Placeholder,
    Code,
}

fn place(s: &Snapshot, file: FileId, start: usize, offset: usize) -> Place {
    let text = s.text(file);
    let from = match s.item_at(file, offset) {
        Some((_, it)) => it.span().start as usize,
        None => {
            let ast = s.ast(file);
            ast.and_then(|a| a.items.iter().rev().find(|i| (i.span().end as usize) <= offset))
                .map_or(0, |i| i.span().end as usize)
        }
    };
    let from = from.min(offset);
    let Some(region) = text.get(from..offset) else { return Place::Code };
    let lexed = lex(FileId(0), region, from);
    if lexed.comments.iter().any(|c| (c.start as usize) < start && offset <= c.end as usize) {
        // A line comment runs to the end of its line; a block comment is closed before `offset`
        // only if its span ends earlier.
        return Place::Comment;
    }
    let last = lexed.tokens.iter().rev().find(|t| t.kind != Kind::Eof);
    if let Some(t) = last
        && matches!(t.kind, Kind::Str | Kind::UnterminatedStr | Kind::BlockStr | Kind::UnterminatedBlock)
        && (t.span.start as usize) < offset
        && offset <= t.span.end as usize
    {
        // The token may be cut by `offset`: it is closed only if its text ends with its quote.
        let src = &text[t.span.start as usize..t.span.end as usize];
        let block = src.starts_with("\"\"\"");
        let closed =
            if block { src.len() >= 6 && src.ends_with("\"\"\"") } else { src.len() >= 2 && src.ends_with('"') };
        if closed && t.span.end as usize == offset {
            return Place::Code;
        }
        let inside = &text[t.span.start as usize..offset];
        let open = inside.rfind("{{");
        let close = inside.rfind("}}");
        return match (open, close) {
            (Some(o), Some(c)) if o > c => Place::Placeholder,
            (Some(_), None) => Place::Placeholder,
            _ => Place::Text,
        };
    }
    Place::Code
}

fn candidates(s: &Snapshot, file: FileId, start: usize, offset: usize) -> Vec<Completion> {
    let text = s.text(file);
    let in_template = match place(s, file, start, offset) {
        Place::Comment | Place::Text => return Vec::new(),
        Place::Placeholder => true,
        Place::Code => false,
    };
    // Fields after `.`.
    if let Some((dot, b'.')) = super::prev_non_blank(text, start) {
        return fields(s, file, dot);
    }
    let line_start = text[..start].rfind('\n').map_or(0, |i| i + 1);
    let before = &text[line_start..start];
    let at_line_head = before.trim().is_empty();
    let first_word = before.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).find(|w| !w.is_empty());
    let enclosing = s.item_at(file, offset).map(|(_, it)| it);
    let inside_braces =
        enclosing.is_some_and(|it| text.get(it.span().start as usize..start).is_some_and(|t| t.contains('{')));
    if in_template {
        return expression(s, file, offset, true);
    }
    let mut out = Vec::new();
    match (enclosing, inside_braces) {
        (None, _) | (Some(Item::Error(_)), _) => {
            if at_line_head || first_word.is_none() {
                out.extend(item_keywords());
            }
            return out;
        }
        (Some(Item::Import(_)), _) => return out,
        (Some(Item::Universe(_)), _) => return tickers(s, file),
        (Some(Item::Model(_)), _) => return providers(),
        (Some(Item::Limits(_)), true) if at_line_head => return limit_fields(),
        (Some(Item::Limits(_)), _) => return expression(s, file, offset, false),
        (Some(Item::Trigger(_)), _) => return trigger_words(s, file, offset),
        (Some(_), false) => return out,
        _ => {}
    }
    let kind = enclosing.map_or("", Item::kind_word);
    if at_line_head {
        let words: &[&str] = match kind {
            "agent" => crate::syntax::AGENT_SETTINGS,
            "team" => crate::syntax::TEAM_SETTINGS,
            _ => crate::syntax::WORKFLOW_SETTINGS,
        };
        out.extend(words.iter().map(|w| item(w, CompletionKind::Keyword, format!("{kind} setting"))));
        if kind == "workflow" {
            out.extend(crate::syntax::STATEMENTS.iter().map(|w| item(w, CompletionKind::Keyword, "statement")));
            out.extend(expression(s, file, offset, false));
        }
        return out;
    }
    let decls = |k: DeclKind| declarations(s, file, Some(k));
    match first_word.unwrap_or("") {
        "context" if kind == "agent" => return context_sources(),
        "model" => return decls(DeclKind::Model),
        "limits" => return decls(DeclKind::Limits),
        "members" | "supervisor" => return decls(DeclKind::Agent),
        "coordination" => return values(&["sequential", "parallel", "hierarchical", "consensus"], "coordination"),
        "vote" | "fallback" => return values(&["majority", "unanimous", "weighted"], "voting rule"),
        "overlap" => return values(&["skip", "queue", "replace"], "what to do when a run is still going"),
        "actions" => return values(&["buy", "sell"], "action"),
        "on" => return trigger_words(s, file, offset),
        _ => {}
    }
    let prev = text[line_start..start].split_whitespace().last().unwrap_or("");
    match prev {
        "tif" => return values(&["day", "gtc", "ioc", "fok"], "time in force"),
        "of" => return values(&["portfolio", "cash", "position"], "what the percent is of"),
        "using" => return decls(DeclKind::Model),
        _ => {}
    }
    expression(s, file, offset, false)
}

fn item_keywords() -> Vec<Completion> {
    let mut out: Vec<Completion> = ITEM_SNIPPETS
        .iter()
        .map(|(label, detail, body)| Completion {
            label: label.to_string(),
            kind: CompletionKind::Snippet,
            detail: detail.to_string(),
            documentation: None,
            snippet: Some(body.to_string()),
        })
        .collect();
    out.extend(crate::syntax::ITEM_WORDS.iter().map(|w| item(w, CompletionKind::Keyword, "declaration")));
    out
}

fn values(words: &[&str], detail: &str) -> Vec<Completion> {
    words.iter().map(|w| item(w, CompletionKind::Value, detail)).collect()
}

fn limit_fields() -> Vec<Completion> {
    strat_stdlib::LIMIT_FIELDS
        .iter()
        .map(|l| Completion {
            label: l.name.to_string(),
            kind: CompletionKind::Field,
            detail: l.ty.display(),
            documentation: Some(l.doc.to_string()),
            snippet: None,
        })
        .collect()
}

fn providers() -> Vec<Completion> {
    strat_stdlib::PROVIDERS
        .iter()
        .map(|p| Completion {
            label: p.name.to_string(),
            kind: CompletionKind::Function,
            detail: format!("models: {}", p.models.join(", ")),
            documentation: Some(p.doc.to_string()),
            snippet: Some(format!("{}(\"${{1:{}}}\")", p.name, p.models.first().copied().unwrap_or("model"))),
        })
        .collect()
}

fn context_sources() -> Vec<Completion> {
    strat_stdlib::CONTEXT_SOURCES
        .iter()
        .map(|c| Completion {
            label: c.name.to_string(),
            kind: CompletionKind::Function,
            detail: "context source".to_string(),
            documentation: Some(c.doc.to_string()),
            snippet: match (c.takes_symbols, c.takes_window) {
                (true, true) => Some(format!("{}(${{1:symbols}}, ${{2:24h}})", c.name)),
                (true, false) => Some(format!("{}(${{1:symbols}})", c.name)),
                _ => None,
            },
        })
        .collect()
}

fn trigger_words(s: &Snapshot, file: FileId, offset: usize) -> Vec<Completion> {
    let mut out = vec![
        Completion {
            label: "schedule".into(),
            kind: CompletionKind::Snippet,
            detail: "cron schedule in a time zone".into(),
            documentation: None,
            snippet: Some("schedule \"${1:0 16 * * 1-5}\" tz \"${2:America/New_York}\"".into()),
        },
        item("webhook", CompletionKind::Keyword, "an HTTP call with a secret"),
        item("manual", CompletionKind::Keyword, "only when started by hand"),
        item("throttle", CompletionKind::Keyword, "at most N per window"),
        item("during", CompletionKind::Keyword, "only during market_hours"),
    ];
    out.extend(declarations(s, file, Some(DeclKind::Trigger)));
    out.extend(expression(s, file, offset, false));
    out
}

pub(crate) fn function(f: &strat_stdlib::Function) -> Completion {
    let required: Vec<String> = f
        .params
        .iter()
        .filter(|p| p.default.is_none())
        .enumerate()
        .map(|(i, p)| format!("${{{}:{}}}", i + 1, p.name))
        .collect();
    Completion {
        label: f.name.to_string(),
        kind: CompletionKind::Function,
        detail: strat_stdlib::signature(f),
        documentation: Some(format!("{}\n\nExample: `{}`", f.doc, f.example)),
        snippet: Some(format!("{}({})$0", f.name, required.join(", "))),
    }
}

fn declarations(s: &Snapshot, file: FileId, kind: Option<DeclKind>) -> Vec<Completion> {
    let Some(scope) = s.checked.scopes.get(&file) else { return Vec::new() };
    scope
        .names
        .iter()
        .filter(|(_, d)| kind.is_none_or(|k| d.kind == k))
        .map(|(n, d)| {
            let path = s.file(d.file).map_or("", |f| f.path.as_str());
            item(n, CompletionKind::Declaration(d.kind), format!("{} in {path}", d.kind.word()))
        })
        .collect()
}

/// Tickers written in the universes this file sees.
fn tickers(s: &Snapshot, file: FileId) -> Vec<Completion> {
    let Some(scope) = s.checked.scopes.get(&file) else { return Vec::new() };
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for (name, d) in &scope.names {
        let Some(Item::Universe(u)) = s.item(*d) else { continue };
        let Expr::List(items, _) = &u.symbols else { continue };
        for it in items {
            if let Expr::Ticker(t, _) = it
                && seen.insert(t.clone())
            {
                out.push(item(t, CompletionKind::Ticker, format!("symbol in universe `{name}`")));
            }
        }
    }
    out
}

/// Values an expression may use at `offset`: locals, universes, built-in values, functions,
/// tickers and operator words. In a template only values (no operator words).
fn expression(s: &Snapshot, file: FileId, offset: usize, in_template: bool) -> Vec<Completion> {
    let mut out = Vec::new();
    let mut seen = BTreeSet::new();
    if let Some((_, it)) = s.item_at(file, offset) {
        let span = it.span();
        for l in &s.checked.facts.locals {
            let visible = l.file == file
                && span.start <= l.span.start
                && l.span.end <= span.end
                && (l.span.end as usize) < offset
                && !block_closed_between(s, file, l.span, offset);
            if visible && seen.insert(l.name.clone()) {
                out.push(item(&l.name, CompletionKind::Variable, describe_ty(&l.ty)));
            }
        }
        // Agent inputs are visible in prompts wherever they are declared.
        if in_template {
            for l in &s.checked.facts.locals {
                if l.file == file && span.start <= l.span.start && l.span.end <= span.end && seen.insert(l.name.clone())
                {
                    out.push(item(&l.name, CompletionKind::Variable, describe_ty(&l.ty)));
                }
            }
        }
    }
    out.extend(declarations(s, file, Some(DeclKind::Universe)));
    out.extend(strat_stdlib::GLOBALS.iter().map(|g| Completion {
        label: g.name.to_string(),
        kind: CompletionKind::Variable,
        detail: g.ty.display(),
        documentation: Some(g.doc.to_string()),
        snippet: None,
    }));
    out.extend(strat_stdlib::FUNCTIONS.iter().map(function));
    out.extend(tickers(s, file));
    if !in_template {
        out.extend(EXPR_WORDS.iter().map(|w| item(w, CompletionKind::Keyword, "operator")));
    }
    out
}

/// Whether the block of a binding at `at` has closed before `offset` (more `}` than `{` in
/// between): `let` and `ask` are visible to the end of their block.
fn block_closed_between(s: &Snapshot, file: FileId, at: crate::span::Span, offset: usize) -> bool {
    let text = s.text(file);
    let Some(between) = text.get(at.end as usize..offset) else { return true };
    // More closing than opening braces since the binding: its block has ended.
    let mut depth: i64 = 0;
    for b in between.bytes() {
        match b {
            b'{' => depth += 1,
            b'}' => depth -= 1,
            _ => {}
        }
        if depth < 0 {
            return true;
        }
    }
    false
}

fn fields(s: &Snapshot, file: FileId, dot: usize) -> Vec<Completion> {
    let text = s.text(file);
    let mut base_end = dot;
    while base_end > 0 && text.as_bytes()[base_end - 1].is_ascii_whitespace() {
        base_end -= 1;
    }
    let ty = s.type_ending_at(file, base_end).cloned().or_else(|| {
        // Unchecked text: a built-in value or a local by name.
        let (ws, we) = word_at(text, base_end);
        let word = &text[ws..we];
        if word == "trigger" {
            return Some(std_record("trigger"));
        }
        if let Some(g) = strat_stdlib::global(word) {
            return Some(Ty::from_std(&g.ty));
        }
        let t = s.target_at(file, ws).map(|(_, t)| t);
        s.checked
            .facts
            .locals
            .iter()
            .find(|l| Some(Target::Local { file: l.file, span: l.span }) == t)
            .map(|l| l.ty.clone())
    });
    ty.as_ref().map_or_else(Vec::new, record_fields)
}

/// The fields of a record type (nothing for other types), documented from the stdlib table.
pub(crate) fn record_fields(ty: &Ty) -> Vec<Completion> {
    let Some(rec) = ty.fields() else { return Vec::new() };
    let std = rec.name.as_deref().and_then(strat_stdlib::record);
    rec.fields
        .iter()
        .map(|(n, t)| Completion {
            label: n.clone(),
            kind: CompletionKind::Field,
            detail: describe_ty(t),
            documentation: std.and_then(|r| r.fields.iter().find(|f| f.name == n)).map(|f| f.doc.to_string()),
            snippet: None,
        })
        .collect()
}
