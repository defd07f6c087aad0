//! Conversions between the front end's byte offsets and LSP positions, and between its
//! diagnostics and LSP diagnostics.

use std::str::FromStr;
use strat_lang::span::{Span, floor_char_boundary};
use tower_lsp_server::ls_types::{self as lsp, Position, Range, Uri};

/// How the client counts columns: UTF-16 code units (the LSP default) or UTF-8 bytes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Encoding {
    #[default]
    Utf16,
    Utf8,
}

/// The start of each line of one text, for converting offsets both ways.
#[derive(Debug, Clone)]
pub struct Lines {
    starts: Vec<usize>,
    len: usize,
}

impl Lines {
    pub fn new(text: &str) -> Lines {
        let mut starts = vec![0];
        starts.extend(text.match_indices('\n').map(|(i, _)| i + 1));
        Lines { starts, len: text.len() }
    }

    /// The position of byte `offset` (clamped to the text and to a character boundary).
    pub fn position(&self, text: &str, offset: usize, enc: Encoding) -> Position {
        let offset = floor_char_boundary(text, offset.min(self.len).min(text.len()));
        let line = self.starts.partition_point(|s| *s <= offset).saturating_sub(1);
        let start = self.starts.get(line).copied().unwrap_or(0).min(offset);
        let prefix = &text[start..offset];
        let character = match enc {
            Encoding::Utf8 => prefix.len(),
            Encoding::Utf16 if prefix.is_ascii() => prefix.len(),
            Encoding::Utf16 => prefix.chars().map(char::len_utf16).sum(),
        };
        Position { line: line as u32, character: character as u32 }
    }

    /// A reader of positions at offsets that mostly go forward (tokens in file order): each
    /// counts only the characters since the one before on the same line, so a long line is
    /// not re-read from its start for every token.
    pub fn walker<'a>(&'a self, text: &'a str, enc: Encoding) -> Walker<'a> {
        Walker { lines: self, text, enc, at: 0, pos: Position { line: 0, character: 0 } }
    }

    pub fn range(&self, text: &str, span: Span, enc: Encoding) -> Range {
        Range { start: self.position(text, span.start as usize, enc), end: self.position(text, span.end as usize, enc) }
    }

    /// The byte offset of `pos`. A line past the end gives the end of the text; a column past
    /// the end of its line gives the line's end; a column inside a character gives its start.
    pub fn offset(&self, text: &str, pos: Position, enc: Encoding) -> usize {
        let Some(&start) = self.starts.get(pos.line as usize) else { return text.len() };
        let start = start.min(text.len());
        let end = self.starts.get(pos.line as usize + 1).map_or(text.len(), |e| e.saturating_sub(1)).min(text.len());
        let line = text.get(start..end.max(start)).unwrap_or("");
        let line = line.strip_suffix('\r').unwrap_or(line);
        let want = pos.character as usize;
        match enc {
            Encoding::Utf8 => start + floor_char_boundary(line, want.min(line.len())),
            Encoding::Utf16 => {
                let mut units = 0;
                for (i, c) in line.char_indices() {
                    if units + c.len_utf16() > want {
                        return start + i;
                    }
                    units += c.len_utf16();
                }
                start + line.len()
            }
        }
    }

    pub fn span(&self, text: &str, range: Range, enc: Encoding) -> Span {
        let a = self.offset(text, range.start, enc);
        let b = self.offset(text, range.end, enc);
        Span::new(a.min(b), a.max(b))
    }
}

/// See [`Lines::walker`].
pub struct Walker<'a> {
    lines: &'a Lines,
    text: &'a str,
    enc: Encoding,
    at: usize,
    pos: Position,
}

impl Walker<'_> {
    pub fn position(&mut self, offset: usize) -> Position {
        let offset = floor_char_boundary(self.text, offset.min(self.lines.len).min(self.text.len()));
        let between = &self.text[self.at.min(offset)..offset];
        self.pos = if offset >= self.at && !between.contains('\n') {
            let units = match self.enc {
                Encoding::Utf8 => between.len(),
                Encoding::Utf16 if between.is_ascii() => between.len(),
                Encoding::Utf16 => between.chars().map(char::len_utf16).sum(),
            };
            Position { line: self.pos.line, character: self.pos.character + units as u32 }
        } else {
            self.lines.position(self.text, offset, self.enc)
        };
        self.at = offset;
        self.pos
    }
}

/// The path the workspace knows a document by: its file path for `file:` URIs, the URI itself
/// otherwise (an unsaved buffer).
pub fn uri_to_path(uri: &Uri) -> String {
    match uri.to_file_path() {
        Some(p) => strat_lang::db::normalize(&p.to_string_lossy()),
        None => uri.as_str().to_string(),
    }
}

pub fn path_to_uri(path: &str) -> Option<Uri> {
    if path.starts_with('/') { Uri::from_file_path(path) } else { Uri::from_str(path).ok() }
}

/// One diagnostic in LSP form. `related` maps a label's file to its URI and text.
pub fn diagnostic(
    d: &strat_lang::Diagnostic,
    lines: &Lines,
    text: &str,
    enc: Encoding,
    related: &dyn Fn(strat_lang::FileId, Span) -> Option<lsp::Location>,
) -> lsp::Diagnostic {
    let mut message = d.message.clone();
    if let Some(h) = &d.help {
        message.push_str("\nhelp: ");
        message.push_str(h);
    }
    let mut info: Vec<lsp::DiagnosticRelatedInformation> = Vec::new();
    if !d.label.is_empty()
        && let Some(location) = related(d.file, d.span)
    {
        info.push(lsp::DiagnosticRelatedInformation { location, message: d.label.clone() });
    }
    for l in &d.labels {
        if let Some(location) = related(l.file, l.span) {
            info.push(lsp::DiagnosticRelatedInformation { location, message: l.message.clone() });
        }
    }
    lsp::Diagnostic {
        range: lines.range(text, d.span, enc),
        severity: Some(match d.severity {
            strat_lang::Severity::Error => lsp::DiagnosticSeverity::ERROR,
            strat_lang::Severity::Warning => lsp::DiagnosticSeverity::WARNING,
        }),
        code: Some(lsp::NumberOrString::String(d.code.id().to_string())),
        source: Some("strat".to_string()),
        message,
        related_information: (!info.is_empty()).then_some(info),
        tags: matches!(
            d.code,
            strat_lang::Code::UnusedDecl | strat_lang::Code::UnusedLet | strat_lang::Code::Unreachable
        )
        .then(|| vec![lsp::DiagnosticTag::UNNECESSARY]),
        ..Default::default()
    }
}

/// The smallest single replacement that turns `old` into `new` (common prefix and suffix kept,
/// at character boundaries), or `None` when they are equal. One small edit keeps the editor's
/// cursor and folds where the text did not change.
pub fn minimal_edit(old: &str, new: &str) -> Option<(Span, String)> {
    if old == new {
        return None;
    }
    let mut prefix = old.bytes().zip(new.bytes()).take_while(|(a, b)| a == b).count();
    while !old.is_char_boundary(prefix) || !new.is_char_boundary(prefix) {
        prefix -= 1;
    }
    let max_suffix = old.len().min(new.len()) - prefix;
    let mut suffix = old.bytes().rev().zip(new.bytes().rev()).take(max_suffix).take_while(|(a, b)| a == b).count();
    while !old.is_char_boundary(old.len() - suffix) || !new.is_char_boundary(new.len() - suffix) {
        suffix -= 1;
    }
    Some((Span::new(prefix, old.len() - suffix), new[prefix..new.len() - suffix].to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn minimal_edits_keep_common_ends() {
        assert_eq!(minimal_edit("abc", "abc"), None);
        assert_eq!(minimal_edit("a  b", "a b"), Some((Span::new(2, 3), String::new())));
        assert_eq!(minimal_edit("xé", "xè"), Some((Span::new(1, 3), "è".to_string())));
        let (span, text) = minimal_edit("aaa", "aaaa").unwrap_or_default();
        let mut s = "aaa".to_string();
        s.replace_range(span.range(), &text);
        assert_eq!(s, "aaaa");
    }

    fn pos(line: u32, character: u32) -> Position {
        Position { line, character }
    }

    #[test]
    fn the_walker_gives_the_positions_lines_give_at_every_offset() {
        let text = "ab\né𝄞x\r\n\nlast line 𝄞 é";
        let l = Lines::new(text);
        for enc in [Encoding::Utf16, Encoding::Utf8] {
            let mut walk = l.walker(text, enc);
            let forward: Vec<usize> = (0..=text.len() + 2).collect();
            let backward = [9, 3, 0, 20, 5];
            for &o in forward.iter().chain(&backward) {
                assert_eq!(walk.position(o), l.position(text, o, enc), "offset {o} in {enc:?}");
            }
        }
    }

    #[test]
    fn utf16_columns_count_surrogate_pairs_twice() {
        // "é" is 2 bytes and 1 UTF-16 unit; "𝄞" is 4 bytes and 2 units.
        let text = "ab\né𝄞x\n";
        let l = Lines::new(text);
        let x = text.find('x').unwrap_or(0);
        assert_eq!(l.position(text, x, Encoding::Utf16), pos(1, 3));
        assert_eq!(l.position(text, x, Encoding::Utf8), pos(1, 6));
        assert_eq!(l.offset(text, pos(1, 3), Encoding::Utf16), x);
        assert_eq!(l.offset(text, pos(1, 6), Encoding::Utf8), x);
        // Inside the surrogate pair: the start of the character.
        assert_eq!(l.offset(text, pos(1, 2), Encoding::Utf16), 5);
    }

    #[test]
    fn out_of_range_positions_are_clamped() {
        let text = "one\r\ntwo";
        let l = Lines::new(text);
        assert_eq!(l.offset(text, pos(0, 99), Encoding::Utf16), 3);
        assert_eq!(l.offset(text, pos(9, 0), Encoding::Utf16), text.len());
        assert_eq!(l.position(text, 999, Encoding::Utf16), pos(1, 3));
        // Inside a multi-byte character with UTF-8 columns: its start.
        let t = "é";
        assert_eq!(Lines::new(t).offset(t, pos(0, 1), Encoding::Utf8), 0);
    }
}
