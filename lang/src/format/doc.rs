//! The document algebra the formatter prints through, after Wadler's "A prettier printer":
//! text, line breaks that an enclosing group keeps flat or breaks, nesting, and groups. A
//! group is printed flat when it fits in the line width and broken otherwise; a group that
//! holds a hard line break (a line comment, a block's statements) is always broken.

/// A document. Build them with the functions below, which keep the `hard` flag of groups
/// right.
#[derive(Debug, Clone)]
pub enum Doc {
    Nil,
    /// Text printed as is. Only verbatim source (block strings, block comments) holds newlines.
    Text(String),
    /// A space when the enclosing group is flat, a newline when it is broken.
    Line,
    /// Nothing when the enclosing group is flat, a newline when it is broken.
    SoftLine,
    /// Always a newline; breaks every enclosing group.
    HardLine,
    /// A newline unless the current line is still empty, in a flat group too. Measured as one
    /// column and not forcing a break, so that a comment's group breaks the same whether or
    /// not the comment began its line (which the previous formatting may have decided).
    FreshLine,
    /// A space, unless the line is empty so far, the last character is a space or an opening
    /// bracket, or what follows is a closing bracket, a comma or a newline. Separates comments
    /// from the tokens around them.
    SoftSpace,
    /// Breaks every enclosing group; prints nothing.
    BreakParent,
    /// Indents the lines the inner document breaks onto by this many more columns.
    Nest(usize, Box<Doc>),
    Concat(Vec<Doc>),
    Group {
        doc: Box<Doc>,
        /// The group holds a hard break, so it is never flat.
        hard: bool,
    },
    /// One document when the enclosing group is broken, another when it is flat.
    IfBreak {
        broken: Box<Doc>,
        flat: Box<Doc>,
    },
    /// Alternating contents and separators (`[c, s, c, s, c]`): each separator breaks only
    /// when the content after it would not fit on the line, filling lines like a paragraph.
    Fill(Vec<Doc>),
}

impl Doc {
    /// Whether printing this forces the enclosing groups to break. Groups answer from their
    /// flag, so building a tree bottom-up asks each node once.
    pub fn is_hard(&self) -> bool {
        match self {
            Doc::HardLine | Doc::BreakParent => true,
            Doc::Nil | Doc::Text(_) | Doc::Line | Doc::SoftLine | Doc::SoftSpace | Doc::FreshLine => false,
            Doc::Nest(_, d) => d.is_hard(),
            Doc::Concat(v) | Doc::Fill(v) => v.iter().any(Doc::is_hard),
            Doc::Group { hard, .. } => *hard,
            Doc::IfBreak { broken, .. } => broken.is_hard(),
        }
    }
}

pub fn text(s: impl Into<String>) -> Doc {
    Doc::Text(s.into())
}

pub fn concat(parts: Vec<Doc>) -> Doc {
    Doc::Concat(parts)
}

pub fn nest(indent: usize, doc: Doc) -> Doc {
    Doc::Nest(indent, Box::new(doc))
}

pub fn group(doc: Doc) -> Doc {
    let hard = doc.is_hard();
    Doc::Group { doc: Box::new(doc), hard }
}

pub fn if_break(broken: Doc, flat: Doc) -> Doc {
    Doc::IfBreak { broken: Box::new(broken), flat: Box::new(flat) }
}

/// `parts` joined by `sep`.
pub fn join(parts: Vec<Doc>, sep: impl Fn() -> Doc) -> Doc {
    let mut out = Vec::with_capacity(parts.len() * 2);
    for (i, p) in parts.into_iter().enumerate() {
        if i > 0 {
            out.push(sep());
        }
        out.push(p);
    }
    Doc::Concat(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hardness_propagates_through_nesting_but_stops_at_groups() {
        let inner = group(concat(vec![text("a"), Doc::HardLine]));
        assert!(inner.is_hard());
        assert!(group(nest(2, concat(vec![text("x"), inner]))).is_hard());
        assert!(!group(concat(vec![text("a"), Doc::Line, text("b")])).is_hard());
        assert!(!if_break(text(","), Doc::HardLine).is_hard(), "only the broken branch counts");
    }
}
