//! Inlay hints: the inferred type (and unit) of `let` bindings, shown after the name.

use super::{Snapshot, next_non_blank};
use crate::span::FileId;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hint {
    /// Where the hint is shown (just after the name).
    pub offset: usize,
    pub label: String,
}

/// Hints for bindings whose names lie in `start..end`.
pub fn inlay_hints(s: &Snapshot, file: FileId, start: usize, end: usize) -> Vec<Hint> {
    let text = s.text(file);
    let mut out: Vec<Hint> = s
        .checked
        .facts
        .locals
        .iter()
        .filter(|l| l.file == file && (l.span.start as usize) >= start && (l.span.end as usize) <= end)
        // Only `let x = …`: inputs and `ask` answers have their type written next to them.
        .filter(|l| next_non_blank(text, l.span.end as usize) == Some(b'=') && !l.ty.is_unknown())
        .map(|l| Hint { offset: l.span.end as usize, label: format!(": {}", l.ty) })
        .collect();
    out.sort_by_key(|h| h.offset);
    out.dedup();
    out
}
