//! What editors ask about a project: hover, completion, navigation, symbols, tokens, fixes and
//! hints. Every answer is in byte offsets and plain strings; the language server converts them
//! to its protocol, and nothing here knows that protocol.
//!
//! A [`Snapshot`] is a self-contained copy of one checked project (texts, trees and the
//! recording check), built by [`crate::Workspace::snapshot`]. Every function here takes one and
//! never fails: on text it cannot make sense of it answers nothing.

mod actions;
mod complete;
mod hints;
mod hover;
mod navigate;
mod signature;
mod symbols;
mod tokens;

pub use actions::{Action, Edit, code_actions};
pub use complete::{Completion, CompletionKind, Completions, ITEM_SNIPPETS, complete};
pub(crate) use complete::{EXPR_WORDS, function as complete_function, item as complete_item, record_fields};
pub use hints::{Hint, inlay_hints};
pub use hover::{Hover, hover};
pub use navigate::{Located, definition, prepare_rename, references, rename};
pub use signature::{SignatureHelp, signature_help, signature_help_text};
pub use symbols::{Symbol, SymbolKind, document_symbols, folding_ranges, workspace_symbols};
pub use tokens::{SemanticToken, TokenKind, lexical_tokens, semantic_tokens};

use crate::check::{DeclKind, DeclRef, RefFact, Target, TypeFact, types::Ty};
use crate::db::{Checked, Workspace};
use crate::span::{FileId, Span};
use crate::syntax::ast::{self, Item};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One file of a snapshot.
#[derive(Debug, Clone)]
pub struct SnapshotFile {
    pub path: String,
    pub text: Arc<str>,
    pub ast: Arc<ast::File>,
}

/// One checked project, with indexes by position.
#[derive(Debug, Clone)]
pub struct Snapshot {
    files: BTreeMap<FileId, SnapshotFile>,
    pub checked: Checked,
    /// References per file, ordered by start.
    refs: BTreeMap<FileId, Vec<RefFact>>,
    /// Expression types per file, ordered by start.
    types: BTreeMap<FileId, Vec<TypeFact>>,
}

impl Snapshot {
    /// A self-contained copy of what editors ask about: the files of the project of `roots`
    /// (text, tree, path) and the recording check. It holds no handle on the database, so it
    /// can be read on any thread while the workspace takes further edits.
    pub fn of(ws: &Workspace, roots: &[FileId]) -> Snapshot {
        let checked = ws.analyze(roots);
        let files = ws
            .closure(roots)
            .into_iter()
            .map(|f| {
                let p = ws.parsed(f);
                let file =
                    SnapshotFile { path: ws.path(f).to_string(), text: Arc::from(p.text.as_str()), ast: p.ast.clone() };
                (f, file)
            })
            .collect();
        Snapshot::new(files, checked)
    }

    pub fn new(files: BTreeMap<FileId, SnapshotFile>, checked: Checked) -> Snapshot {
        let mut refs: BTreeMap<FileId, Vec<RefFact>> = BTreeMap::new();
        for r in &checked.facts.refs {
            refs.entry(r.file).or_default().push(*r);
        }
        for v in refs.values_mut() {
            v.sort_by_key(|r| (r.span.start, r.span.end));
            v.dedup();
        }
        let mut types: BTreeMap<FileId, Vec<TypeFact>> = BTreeMap::new();
        for t in &checked.facts.types {
            types.entry(t.file).or_default().push(t.clone());
        }
        for v in types.values_mut() {
            v.sort_by_key(|t| (t.span.start, std::cmp::Reverse(t.span.end)));
        }
        Snapshot { files, checked, refs, types }
    }

    pub fn file(&self, id: FileId) -> Option<&SnapshotFile> {
        self.files.get(&id)
    }

    pub fn files(&self) -> impl Iterator<Item = (FileId, &SnapshotFile)> {
        self.files.iter().map(|(id, f)| (*id, f))
    }

    pub fn text(&self, id: FileId) -> &str {
        self.files.get(&id).map_or("", |f| &f.text)
    }

    fn ast(&self, id: FileId) -> Option<&ast::File> {
        self.files.get(&id).map(|f| &*f.ast)
    }

    fn item(&self, d: DeclRef) -> Option<&Item> {
        self.ast(d.file)?.items.get(d.item)
    }

    fn refs(&self, file: FileId) -> &[RefFact] {
        self.refs.get(&file).map_or(&[], Vec::as_slice)
    }

    /// The innermost typed expression containing `offset` (ends included).
    fn type_at(&self, file: FileId, offset: usize) -> Option<&TypeFact> {
        let v = self.types.get(&file)?;
        let end = v.partition_point(|t| t.span.start as usize <= offset);
        v[..end].iter().rev().filter(|t| t.span.end as usize >= offset).min_by_key(|t| t.span.len())
    }

    /// The type of the innermost expression ending exactly at `end`.
    fn type_ending_at(&self, file: FileId, end: usize) -> Option<&Ty> {
        let v = self.types.get(&file)?;
        v.iter()
            .filter(|t| t.span.end as usize == end && !t.span.is_empty())
            .min_by_key(|t| t.span.len())
            .map(|t| &t.ty)
    }

    /// The declaration of item `index` in `file`, as the checker's scopes name it.
    fn decl_of(&self, file: FileId, index: usize) -> Option<DeclRef> {
        let item = self.ast(file)?.items.get(index)?;
        let kind = decl_kind(item)?;
        let name = item.name()?;
        Some(DeclRef { file, item: index, kind, span: name.span })
    }

    /// What the name at `offset` refers to, and the span of that name.
    fn target_at(&self, file: FileId, offset: usize) -> Option<(Span, Target)> {
        if let Some(r) = self.refs(file).iter().find(|r| contains(r.span, offset)) {
            return Some((r.span, r.target));
        }
        let ast = self.ast(file)?;
        for (i, item) in ast.items.iter().enumerate() {
            if let Some(n) = item.name()
                && contains(n.span, offset)
                && let Some(d) = self.decl_of(file, i)
            {
                return Some((n.span, Target::Decl(d)));
            }
            if let Item::Import(imp) = item {
                for n in imp.names.iter().flatten() {
                    if contains(n.span, offset) {
                        let d = self.checked.scopes.get(&file)?.names.get(&n.text)?;
                        return Some((n.span, Target::Decl(*d)));
                    }
                }
            }
        }
        self.checked
            .facts
            .locals
            .iter()
            .find(|l| l.file == file && contains(l.span, offset))
            .map(|l| (l.span, Target::Local { file, span: l.span }))
    }

    /// The span of the top-level item containing `offset`, with its index.
    fn item_at(&self, file: FileId, offset: usize) -> Option<(usize, &Item)> {
        let ast = self.ast(file)?;
        let i = ast.items.partition_point(|it| (it.span().start as usize) <= offset);
        let i = i.checked_sub(1)?;
        let item = &ast.items[i];
        (offset <= item.span().end as usize).then_some((i, item))
    }
}

fn decl_kind(item: &Item) -> Option<DeclKind> {
    Some(match item {
        Item::Universe(_) => DeclKind::Universe,
        Item::Limits(_) => DeclKind::Limits,
        Item::Model(_) => DeclKind::Model,
        Item::Agent(_) => DeclKind::Agent,
        Item::Trigger(_) => DeclKind::Trigger,
        Item::Workflow(_) => DeclKind::Workflow,
        Item::Team(_) => DeclKind::Team,
        Item::Import(_) | Item::Error(_) => return None,
    })
}

/// Whether `offset` lies in `span` or just after it (a cursor at a name's end is on it).
fn contains(span: Span, offset: usize) -> bool {
    span.start as usize <= offset && offset <= span.end as usize
}

pub(crate) fn is_ident_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_'
}

/// The identifier around `offset` (possibly empty), as a byte range.
pub(crate) fn word_at(text: &str, offset: usize) -> (usize, usize) {
    let bytes = text.as_bytes();
    let offset = crate::span::floor_char_boundary(text, offset);
    let mut start = offset;
    while start > 0 && is_ident_byte(bytes[start - 1]) {
        start -= 1;
    }
    let mut end = offset;
    while end < bytes.len() && is_ident_byte(bytes[end]) {
        end += 1;
    }
    (start, end)
}

/// The next byte after `offset` that is not a space or tab.
fn next_non_blank(text: &str, offset: usize) -> Option<u8> {
    text.as_bytes().get(offset..)?.iter().copied().find(|b| *b != b' ' && *b != b'\t')
}

/// The previous byte before `offset` that is not a space or tab.
pub(crate) fn prev_non_blank(text: &str, offset: usize) -> Option<(usize, u8)> {
    let bytes = text.as_bytes();
    let mut i = offset.min(bytes.len());
    while i > 0 {
        i -= 1;
        if bytes[i] != b' ' && bytes[i] != b'\t' {
            return Some((i, bytes[i]));
        }
    }
    None
}

/// Whether `name` can be written as a declaration's name.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !crate::check::RESERVED.contains(&name)
        && !crate::syntax::ITEM_WORDS.contains(&name)
        && strat_stdlib::global(name).is_none()
}

/// How a type reads in hover and hints, with what its unit means.
pub(crate) fn describe_ty(t: &Ty) -> String {
    let unit = match t {
        Ty::Price => " (money per share)",
        Ty::Quantity => " (shares)",
        Ty::Money => " (dollars)",
        Ty::Percent => " (percent)",
        Ty::Duration => " (a length of time)",
        Ty::SymbolSet => " (evaluated per symbol)",
        _ => "",
    };
    format!("{t}{unit}")
}

#[cfg(test)]
mod tests;
