//! Go to definition, find references and rename.

use super::{Snapshot, valid_name};
use crate::check::Target;
use crate::span::{FileId, Span};
use crate::syntax::ast::Item;

/// A place in a file of the snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Located {
    pub file: FileId,
    pub span: Span,
}

fn target_location(t: Target) -> Located {
    match t {
        Target::Decl(d) => Located { file: d.file, span: d.span },
        Target::Local { file, span } => Located { file, span },
    }
}

/// Where the name at `offset` is declared (or bound). On an `import` path, the imported file.
pub fn definition(s: &Snapshot, file: FileId, offset: usize) -> Option<Located> {
    if let Some((_, t)) = s.target_at(file, offset) {
        return Some(target_location(t));
    }
    // On the path of an import: the start of the imported file.
    let (_, item) = s.item_at(file, offset)?;
    let Item::Import(imp) = item else { return None };
    if !super::contains(imp.path.span, offset) {
        return None;
    }
    let path = crate::db::resolve_path(&s.file(file)?.path, &imp.path.value);
    s.files().find(|(_, f)| f.path == path).map(|(id, _)| Located { file: id, span: Span::default() })
}

/// Every place that names the same thing as the name at `offset`, ordered by file and position.
pub fn references(s: &Snapshot, file: FileId, offset: usize, include_declaration: bool) -> Vec<Located> {
    let Some((_, t)) = s.target_at(file, offset) else { return Vec::new() };
    let mut out: Vec<Located> = Vec::new();
    if include_declaration {
        out.push(target_location(t));
    }
    for (id, f) in s.files() {
        out.extend(s.refs(id).iter().filter(|r| r.target == t).map(|r| Located { file: r.file, span: r.span }));
        // Names listed in imports refer to the declaration too.
        if let Target::Decl(d) = t {
            for item in &f.ast.items {
                let Item::Import(imp) = item else { continue };
                for n in imp.names.iter().flatten() {
                    if s.checked.scopes.get(&id).and_then(|sc| sc.names.get(&n.text)) == Some(&d) {
                        out.push(Located { file: id, span: n.span });
                    }
                }
            }
        }
    }
    out.sort();
    out.dedup();
    out
}

/// The span of the name to rename at `offset`, when there is one that can be renamed.
pub fn prepare_rename(s: &Snapshot, file: FileId, offset: usize) -> Option<Span> {
    s.target_at(file, offset).map(|(span, _)| span)
}

/// The edits that rename the name at `offset` to `new_name` everywhere it is used.
pub fn rename(s: &Snapshot, file: FileId, offset: usize, new_name: &str) -> Result<Vec<Located>, String> {
    if !valid_name(new_name) {
        return Err(format!("`{new_name}` cannot be a name: use letters, digits and `_`, not a keyword"));
    }
    let Some((_, t)) = s.target_at(file, offset) else {
        return Err("there is no declared name here to rename".to_string());
    };
    if let Target::Decl(d) = t
        && d.kind == crate::check::DeclKind::Universe
        && new_name.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
    {
        return Err(format!("universe `{new_name}` would read as a ticker; use lower case"));
    }
    Ok(references(s, file, offset, true))
}
