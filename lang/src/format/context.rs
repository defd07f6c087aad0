//! What the conversion from tree to document shares: the source text, its tokens, and the
//! comment table. Every token is printed through [`Ctx::leaf`] (or a helper built on it), which
//! first prints the comments that stand before it; blocks and files are laid out one entry per
//! line by [`Ctx::lines`], which keeps blank lines and trailing comments.

use super::comments::{Comment, Comments, has_blank_line};
use super::doc::{Doc, concat, text};
use crate::span::Span;
use crate::syntax::lexer::Token;

pub struct Ctx<'a> {
    pub text: &'a str,
    tokens: &'a [Token],
    pub comments: Comments,
}

impl<'a> Ctx<'a> {
    pub fn new(text: &'a str, tokens: &'a [Token], comments: Comments) -> Ctx<'a> {
        Ctx { text, tokens, comments }
    }

    pub fn src(&self, span: Span) -> &'a str {
        self.text.get(span.range()).unwrap_or("")
    }

    /// The first token starting at or after `pos` (the end-of-file token at worst).
    pub fn token_from(&self, pos: u32) -> Token {
        let i = self.tokens.partition_point(|t| t.span.start < pos);
        self.tokens.get(i).or(self.tokens.last()).copied().unwrap_or(Token {
            kind: crate::syntax::token::Kind::Eof,
            span: Span::new(self.text.len(), self.text.len()),
            line_start: true,
        })
    }

    /// The last token ending at or before `pos`.
    pub fn token_before(&self, pos: u32) -> Option<Token> {
        let i = self.tokens.partition_point(|t| t.span.end <= pos);
        i.checked_sub(1).and_then(|i| self.tokens.get(i)).copied()
    }

    /// The tokens inside `span`.
    pub fn tokens_in(&self, span: Span) -> &'a [Token] {
        let from = self.tokens.partition_point(|t| t.span.start < span.start);
        let to = self.tokens.partition_point(|t| t.span.end <= span.end);
        self.tokens.get(from..to.max(from)).unwrap_or(&[])
    }

    /// The comments that stand before `pos`, each where it stands between the tokens: on a line
    /// of its own when it was, and a line comment always followed by a newline.
    pub fn flush(&mut self, pos: u32) -> Doc {
        let mut out = Vec::new();
        while let Some(c) = self.comments.take_before(pos) {
            out.push(inline_comment(c));
        }
        concat(out)
    }

    /// The source text of `span` (one token, or verbatim source), after the comments before it.
    pub fn leaf(&mut self, span: Span) -> Doc {
        let comments = self.flush(span.start);
        concat(vec![comments, text(self.src(span))])
    }

    /// The token that starts at or after `pos`, printed as a leaf.
    pub fn next(&mut self, pos: u32) -> Doc {
        let t = self.token_from(pos);
        self.leaf(t.span)
    }

    /// The last token of `span` (a closing bracket), printed as a leaf.
    pub fn closer(&mut self, span: Span) -> Doc {
        let start = span.end.saturating_sub(1).max(span.start);
        self.leaf(Span { start, end: span.end })
    }

    /// Whether `a..b` lies on one line of the source.
    fn same_line(&self, a: u32, b: u32) -> bool {
        a >= b || !self.src(Span { start: a, end: b }).contains('\n')
    }

    /// Whether a comment not yet printed starts before the end of `span`.
    pub fn has_comments_in(&self, span: Span) -> bool {
        self.comments.any_before(span.end)
    }

    /// Lays entries out one per line, with the comments before, between and after them and
    /// one empty line wherever the source has one or more between two of them. `end` is where
    /// the enclosing block closes (or the file ends); comments before it close the list. The
    /// result has no line break before the first entry nor after the last; it is empty when
    /// there is nothing to print.
    pub fn lines<T>(
        &mut self,
        entries: &[T],
        span_of: impl Fn(&T) -> Span,
        end: u32,
        mut build: impl FnMut(&mut Self, usize, &T) -> Doc,
    ) -> Vec<Doc> {
        let mut out = Vec::new();
        let mut last: Option<u32> = None;
        for (i, entry) in entries.iter().enumerate() {
            let span = span_of(entry);
            let mut glued = false;
            while let Some(c) = self.comments.take_before(span.start) {
                self.separate(&mut out, last, c.span.start, true);
                last = Some(c.span.end);
                glued = !c.is_line && !c.ends_line;
                out.push(text(c.text));
                if glued {
                    out.push(Doc::SoftSpace);
                }
            }
            if !glued {
                self.separate(&mut out, last, span.start, false);
            }
            out.push(build(self, i, entry));
            let limit = entries.get(i + 1).map_or(end, |n| span_of(n).start);
            let (comments, after) = self.trailing(span.end, limit);
            out.push(comments);
            last = Some(after);
        }
        while let Some(c) = self.comments.take_before(end) {
            self.separate(&mut out, last, c.span.start, true);
            last = Some(c.span.end);
            out.push(text(c.text));
        }
        out
    }

    /// Comments after `from` on the same line and before `limit`, printed after the entry that
    /// ends at `from`; and where the last of them ends.
    pub fn trailing(&mut self, from: u32, limit: u32) -> (Doc, u32) {
        let mut out = Vec::new();
        let mut at = from;
        while let Some(c) = self.comments.peek() {
            if c.span.start >= limit || !self.same_line(at, c.span.start) {
                break;
            }
            let Some(c) = self.comments.take_before(limit) else { break };
            // After a line comment, whatever comes next is on a later line of the source.
            at = if c.is_line { c.span.end } else { c.span.end.max(at) };
            out.push(Doc::SoftSpace);
            out.push(text(c.text));
            if c.is_line {
                // Nothing can follow a line comment on its line.
                out.push(Doc::BreakParent);
                break;
            }
        }
        (concat(out), at)
    }

    /// A line break that a group may keep flat, after the comments that end the line `from` is
    /// on (before `limit`): `a // note` then the next line.
    pub fn line_after(&mut self, from: u32, limit: u32) -> Doc {
        let (comments, _) = self.trailing(from, limit);
        concat(vec![comments, Doc::Line])
    }

    /// The line break between the last thing printed (ending at `last`) and the next (at
    /// `next`): with an empty line when the source has one. A comment on the line of the
    /// comment before it stays there.
    fn separate(&self, out: &mut Vec<Doc>, last: Option<u32>, next: u32, comment: bool) {
        let Some(last) = last else { return };
        if comment && self.same_line(last, next) {
            out.push(Doc::SoftSpace);
            return;
        }
        out.push(Doc::HardLine);
        if last < next && has_blank_line(self.src(Span { start: last, end: next })) {
            out.push(Doc::HardLine);
        }
    }

    /// For each entry, the column its value starts at: one more than the longest key of its
    /// run (entries not parted by an empty line). Entries without a key (`None`) neither
    /// count nor align.
    pub fn key_columns(&self, spans: &[Span], keys: &[Option<usize>]) -> Vec<usize> {
        let mut out = vec![0; keys.len()];
        let mut run_start = 0;
        for i in 0..=keys.len() {
            let run_ends = i == keys.len()
                || i > 0 && has_blank_line(self.src(Span { start: spans[i - 1].end, end: spans[i].start }));
            if !run_ends {
                continue;
            }
            let widest = keys[run_start..i].iter().flatten().max().copied().unwrap_or(0);
            for (col, key) in out[run_start..i].iter_mut().zip(&keys[run_start..i]) {
                *col = key.map_or(0, |_| widest + 1);
            }
            run_start = i;
        }
        out
    }
}

/// A comment printed between two tokens.
fn inline_comment(c: Comment) -> Doc {
    let before = if c.own_line { Doc::FreshLine } else { Doc::SoftSpace };
    let after = if c.is_line || c.own_line && c.ends_line { Doc::HardLine } else { Doc::SoftSpace };
    concat(vec![before, text(c.text), after])
}
