//! Code actions: the fixes diagnostics carry (did you mean …?) and the missing settings the
//! checker asks for (limits, a model).

use super::Snapshot;
use crate::check::DeclKind;
use crate::diagnostic::{Code, Diagnostic};
use crate::span::{FileId, Span};

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Edit {
    pub file: FileId,
    pub span: Span,
    pub text: String,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Action {
    pub title: String,
    pub edits: Vec<Edit>,
    /// The diagnostic it fixes.
    pub diagnostic: Diagnostic,
    /// The likely fix, which editors may apply on their own.
    pub preferred: bool,
}

/// Actions for the diagnostics of `file` that overlap `span`.
pub fn code_actions(s: &Snapshot, file: FileId, span: Span) -> Vec<Action> {
    let mut out = Vec::new();
    for d in s.checked.diagnostics.iter().filter(|d| d.file == file && overlaps(d.span, span)) {
        for (i, f) in d.fixes.iter().enumerate() {
            out.push(Action {
                title: capitalise(&f.message),
                edits: vec![Edit { file, span: f.span, text: f.replacement.clone() }],
                diagnostic: d.clone(),
                preferred: i == 0,
            });
        }
        match d.code {
            Code::NoLimits => {
                for name in names_of(s, file, DeclKind::Limits) {
                    if let Some(e) = insert_setting(s, file, d.span, &format!("limits {name}")) {
                        out.push(action(format!("Use limits `{name}`"), e, d, false));
                    }
                }
                let block =
                    "limits {\n    max_position     $10_000\n    max_allocation   5%\n    max_daily_trades 3\n  }";
                if let Some(e) = insert_setting(s, file, d.span, block) {
                    out.push(action("Add a limits block".to_string(), e, d, false));
                }
            }
            Code::MissingSetting if d.message.contains("`model`") => {
                for name in names_of(s, file, DeclKind::Model) {
                    if let Some(e) = insert_setting(s, file, d.span, &format!("model {name}")) {
                        out.push(action(format!("Use model `{name}`"), e, d, false));
                    }
                }
            }
            _ => {}
        }
    }
    out
}

fn action(title: String, edit: Edit, d: &Diagnostic, preferred: bool) -> Action {
    Action { title, edits: vec![edit], diagnostic: d.clone(), preferred }
}

fn overlaps(a: Span, b: Span) -> bool {
    a.start <= b.end && b.start <= a.end
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => f.to_uppercase().chain(c).collect(),
        None => String::new(),
    }
}

fn names_of(s: &Snapshot, file: FileId, kind: DeclKind) -> Vec<String> {
    s.checked
        .scopes
        .get(&file)
        .map_or_else(Vec::new, |sc| sc.names.iter().filter(|(_, d)| d.kind == kind).map(|(n, _)| n.clone()).collect())
}

/// An edit adding `setting` as the first line inside the braces of the item whose name is at
/// `name`, indented like the line after the brace.
fn insert_setting(s: &Snapshot, file: FileId, name: Span, setting: &str) -> Option<Edit> {
    let text = s.text(file);
    let (_, item) = s.item_at(file, name.start as usize)?;
    let end = (item.span().end as usize).min(text.len());
    let brace = name.end as usize + text.get(name.end as usize..end)?.find('{')?;
    let after = &text[brace + 1..];
    let indent = after
        .lines()
        .skip(1)
        .find(|l| !l.trim().is_empty())
        .map(|l| &l[..l.len() - l.trim_start().len()])
        .filter(|i| !i.is_empty())
        .unwrap_or("  ");
    let setting = setting.replace("\n  ", &format!("\n{indent}"));
    Some(Edit { file, span: Span::new(brace + 1, brace + 1), text: format!("\n{indent}{setting}") })
}
