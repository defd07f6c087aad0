//! Document and workspace symbols: the declarations of a file, with the settings of limits.

use super::Snapshot;
use crate::span::{FileId, Span};
use crate::syntax::ast::Item;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SymbolKind {
    Universe,
    Limits,
    Setting,
    Model,
    Agent,
    Trigger,
    Workflow,
    Team,
    Import,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Symbol {
    pub name: String,
    pub kind: SymbolKind,
    /// The whole declaration.
    pub span: Span,
    /// The name (or the keyword, for unnamed limits and imports).
    pub name_span: Span,
    pub detail: String,
    pub children: Vec<Symbol>,
}

pub fn document_symbols(s: &Snapshot, file: FileId) -> Vec<Symbol> {
    let Some(ast) = s.ast(file) else { return Vec::new() };
    ast.items.iter().filter_map(symbol).collect()
}

fn symbol(item: &Item) -> Option<Symbol> {
    let span = item.span();
    let head = Span::new(span.start as usize, (span.start as usize + item.kind_word().len()).min(span.end as usize));
    let (kind, detail) = match item {
        Item::Universe(_) => (SymbolKind::Universe, "universe"),
        Item::Limits(_) => (SymbolKind::Limits, "limits"),
        Item::Model(_) => (SymbolKind::Model, "model"),
        Item::Agent(_) => (SymbolKind::Agent, "agent"),
        Item::Trigger(_) => (SymbolKind::Trigger, "trigger"),
        Item::Workflow(_) => (SymbolKind::Workflow, "workflow"),
        Item::Team(_) => (SymbolKind::Team, "team"),
        Item::Import(_) => (SymbolKind::Import, "import"),
        Item::Error(_) => return None,
    };
    let (name, name_span) = match (item, item.name()) {
        (_, Some(n)) if !n.text.is_empty() => (n.text.clone(), n.span),
        (Item::Import(i), _) => (format!("\"{}\"", i.path.value), i.path.span),
        (Item::Limits(_), _) => ("limits (default)".to_string(), head),
        _ => return None,
    };
    let children = match item {
        Item::Limits(l) => l
            .body
            .settings
            .iter()
            .map(|st| Symbol {
                name: st.key.text.clone(),
                kind: SymbolKind::Setting,
                span: st.span,
                name_span: st.key.span,
                detail: "limit".to_string(),
                children: Vec::new(),
            })
            .collect(),
        _ => Vec::new(),
    };
    Some(Symbol { name, kind, span, name_span, detail: detail.to_string(), children })
}

/// Declarations of every file whose name contains the letters of `query` in order
/// (case-insensitive), at most `limit`, ordered by name.
pub fn workspace_symbols(s: &Snapshot, query: &str, limit: usize) -> Vec<(FileId, Symbol)> {
    let q: Vec<char> = query.to_lowercase().chars().filter(|c| !c.is_whitespace()).collect();
    let mut out: Vec<(FileId, Symbol)> = Vec::new();
    for (id, f) in s.files() {
        for item in &f.ast.items {
            let Some(sym) = symbol(item) else { continue };
            if sym.kind == SymbolKind::Import || !subsequence(&q, &sym.name.to_lowercase()) {
                continue;
            }
            out.push((id, Symbol { children: Vec::new(), ..sym }));
        }
    }
    out.sort_by(|a, b| (&a.1.name, a.0, a.1.span.start).cmp(&(&b.1.name, b.0, b.1.span.start)));
    out.truncate(limit);
    out
}

fn subsequence(q: &[char], name: &str) -> bool {
    let mut it = q.iter().peekable();
    for c in name.chars() {
        if it.peek() == Some(&&c) {
            it.next();
        }
    }
    it.peek().is_none()
}

/// Regions an editor may fold: declarations, blocks inside them, block strings and comments
/// that span more than one line.
pub fn folding_ranges(s: &Snapshot, file: FileId) -> Vec<Span> {
    let text = s.text(file);
    let multi_line = |sp: &Span| text.get(sp.range()).is_some_and(|t| t.contains('\n'));
    let mut out: Vec<Span> = Vec::new();
    if let Some(ast) = s.ast(file) {
        for item in &ast.items {
            out.push(item.span());
            if let Item::Workflow(w) = item {
                blocks(&w.body.stmts, &mut out);
            }
        }
    }
    let lexed = crate::syntax::lexer::lex(file, text, 0);
    out.extend(lexed.comments.iter().copied());
    out.extend(lexed.tokens.iter().filter(|t| t.kind == crate::syntax::token::Kind::BlockStr).map(|t| t.span));
    out.retain(multi_line);
    out.sort();
    out.dedup();
    out
}

fn blocks(stmts: &[crate::syntax::ast::Stmt], out: &mut Vec<Span>) {
    use crate::syntax::ast::{Else, Stmt};
    for st in stmts {
        match st {
            Stmt::If { then, otherwise, .. } => {
                out.push(then.span);
                blocks(&then.stmts, out);
                match otherwise {
                    Some(Else::Block(b)) => {
                        out.push(b.span);
                        blocks(&b.stmts, out);
                    }
                    Some(Else::If(inner)) => blocks(std::slice::from_ref(inner.as_ref()), out),
                    None => {}
                }
            }
            Stmt::Match { arms, span, .. } => {
                out.push(*span);
                for a in arms {
                    out.push(a.body.span);
                    blocks(&a.body.stmts, out);
                }
            }
            _ => {}
        }
    }
}
