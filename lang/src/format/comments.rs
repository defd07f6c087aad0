//! The comment side table. The syntax tree holds no comments; the formatter takes them from
//! here in source order as it reaches the tokens they precede, so each comes out exactly once.

use crate::span::Span;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Comment {
    pub span: Span,
    /// As written; a line comment without the spaces (or `\r`) that ended its line.
    pub text: String,
    /// `// …`, which must be followed by a newline.
    pub is_line: bool,
    /// Nothing but blanks before it on its line.
    pub own_line: bool,
    /// Nothing but blanks after it on its line.
    pub ends_line: bool,
}

/// The comments of one text, in order, with a cursor at the first not yet printed.
#[derive(Debug, Clone)]
pub struct Comments {
    list: Vec<Comment>,
    next: usize,
}

impl Comments {
    pub fn new(text: &str, spans: &[Span]) -> Comments {
        let list = spans
            .iter()
            .map(|&span| {
                let raw = &text[span.range()];
                let is_line = raw.starts_with("//");
                let before = &text[..span.start as usize];
                let line_start = before.rfind('\n').map_or(0, |i| i + 1);
                let after = &text[span.end as usize..];
                let line_end = after.find('\n').unwrap_or(after.len());
                Comment {
                    span,
                    text: if is_line { raw.trim_end().to_string() } else { raw.to_string() },
                    is_line,
                    own_line: before[line_start..].chars().all(is_blank),
                    ends_line: is_line || after[..line_end].chars().all(is_blank),
                }
            })
            .collect();
        Comments { list, next: 0 }
    }

    /// The next comment not yet printed.
    pub fn peek(&self) -> Option<&Comment> {
        self.list.get(self.next)
    }

    /// Takes the next comment if it starts before `pos`.
    pub fn take_before(&mut self, pos: u32) -> Option<Comment> {
        let c = self.list.get(self.next).filter(|c| c.span.start < pos)?.clone();
        self.next += 1;
        Some(c)
    }

    /// Whether a comment not yet printed starts before `pos`.
    pub fn any_before(&self, pos: u32) -> bool {
        self.peek().is_some_and(|c| c.span.start < pos)
    }

    /// Every comment, printed or not.
    pub fn all(&self) -> &[Comment] {
        &self.list
    }
}

pub fn is_blank(c: char) -> bool {
    matches!(c, ' ' | '\t' | '\r' | '\x0C')
}

/// Whether `gap` (text between two things) holds an empty line.
pub fn has_blank_line(gap: &str) -> bool {
    let mut lines = gap.split('\n');
    lines.next();
    let mut inner: Vec<&str> = lines.collect();
    // The last piece is the start of the line the next thing is on, not a whole line.
    inner.pop();
    inner.iter().any(|l| l.chars().all(is_blank))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn comments_know_where_they_stand_on_their_line() {
        let text = "a // one  \r\n  /* two */ b /* three */\n";
        let cs = Comments::new(text, &[Span::new(2, 10), Span::new(14, 23), Span::new(26, 37)]);
        let [one, two, three] = cs.all() else { panic!("three comments") };
        assert_eq!((one.text.as_str(), one.is_line, one.own_line, one.ends_line), ("// one", true, false, true));
        assert_eq!((two.own_line, two.ends_line), (true, false));
        assert_eq!((three.own_line, three.ends_line), (false, true));
    }

    #[test]
    fn blank_lines_are_lines_with_nothing_on_them() {
        assert!(!has_blank_line(" \n  "));
        assert!(has_blank_line(" \n \t\r\n  "));
        assert!(!has_blank_line("\n// c\n"));
        assert!(has_blank_line("x\n\ny"));
    }
}
