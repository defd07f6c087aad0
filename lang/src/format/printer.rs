//! Lays a [`Doc`] out in a line width: each group goes flat when it fits on the rest of the
//! line (up to the next possible break after it), and breaks otherwise. Iterative, so deep
//! documents cannot overflow the stack; lines never end in spaces.

use super::doc::Doc;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Flat,
    Break,
}

#[derive(Debug, Clone, Copy)]
enum Part<'a> {
    Doc(&'a Doc),
    /// The rest of a fill, from a content onwards.
    Fill(&'a [Doc]),
}

#[derive(Debug, Clone, Copy)]
struct Cmd<'a> {
    indent: usize,
    mode: Mode,
    part: Part<'a>,
}

fn cmd(indent: usize, mode: Mode, doc: &Doc) -> Cmd<'_> {
    Cmd { indent, mode, part: Part::Doc(doc) }
}

fn width(s: &str) -> usize {
    s.chars().count()
}

/// Prints `doc` in lines of at most `max` columns where the document allows it.
pub fn print(doc: &Doc, max: usize) -> String {
    let mut p = Printer { out: String::new(), col: 0, pending_indent: Some(0), pending_space: false };
    let mut stack: Vec<Cmd<'_>> = vec![cmd(0, Mode::Break, doc)];
    while let Some(c) = stack.pop() {
        let d = match c.part {
            Part::Doc(d) => d,
            Part::Fill(parts) => {
                p.fill(c, parts, &mut stack, max);
                continue;
            }
        };
        match d {
            Doc::Nil | Doc::BreakParent => {}
            Doc::Text(s) => p.write(s),
            Doc::SoftSpace => p.pending_space = true,
            Doc::Line if c.mode == Mode::Flat => p.write(" "),
            Doc::SoftLine if c.mode == Mode::Flat => {}
            Doc::Line | Doc::SoftLine | Doc::HardLine => p.newline(c.indent),
            Doc::FreshLine => {
                if p.pending_indent.is_none() {
                    p.newline(c.indent);
                }
            }
            Doc::Nest(n, inner) => stack.push(cmd(c.indent + n, c.mode, inner)),
            Doc::Concat(parts) => stack.extend(parts.iter().rev().map(|d| cmd(c.indent, c.mode, d))),
            Doc::Group { doc, hard } => {
                let flat = !hard
                    && (c.mode == Mode::Flat
                        || fits(&[cmd(c.indent, Mode::Flat, doc)], &stack, max as isize - p.col as isize));
                stack.push(cmd(c.indent, if flat { Mode::Flat } else { Mode::Break }, doc));
            }
            Doc::IfBreak { broken, flat } => {
                stack.push(cmd(c.indent, c.mode, if c.mode == Mode::Break { broken } else { flat }));
            }
            Doc::Fill(parts) => p.fill(c, parts, &mut stack, max),
        }
    }
    p.trim_trailing_spaces();
    p.out
}

struct Printer {
    out: String,
    /// Column after the last character written, counting indentation still pending.
    col: usize,
    /// Indentation owed to the current line, written before its first text.
    pending_indent: Option<usize>,
    pending_space: bool,
}

impl Printer {
    fn write(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if let Some(n) = self.pending_indent.take() {
            self.out.extend(std::iter::repeat_n(' ', n));
            self.pending_space = false;
        }
        if std::mem::take(&mut self.pending_space)
            && !self.out.ends_with([' ', '(', '['])
            && !s.starts_with([')', ']', '}', ',', ' '])
        {
            self.out.push(' ');
            self.col += 1;
        }
        self.out.push_str(s);
        match s.rfind('\n') {
            Some(i) => self.col = width(&s[i + 1..]),
            None => self.col += width(s),
        }
    }

    fn newline(&mut self, indent: usize) {
        self.trim_trailing_spaces();
        self.out.push('\n');
        self.pending_indent = Some(indent);
        self.pending_space = false;
        self.col = indent;
    }

    fn trim_trailing_spaces(&mut self) {
        let kept = self.out.trim_end_matches(' ').len();
        self.out.truncate(kept);
    }

    /// Prints the next content of a fill and its separator, pushing the rest back: the
    /// separator stays flat when the content after it fits on the line too.
    fn fill<'a>(&mut self, c: Cmd<'a>, parts: &'a [Doc], stack: &mut Vec<Cmd<'a>>, max: usize) {
        let Some(content) = parts.first() else { return };
        if c.mode == Mode::Flat {
            stack.extend(parts.iter().rev().map(|d| cmd(c.indent, Mode::Flat, d)));
            return;
        }
        let room = max as isize - self.col as isize;
        let content_fits = fits(&[cmd(c.indent, Mode::Flat, content)], &[], room);
        let content_mode = if content_fits { Mode::Flat } else { Mode::Break };
        let Some(sep) = parts.get(1) else {
            stack.push(cmd(c.indent, content_mode, content));
            return;
        };
        let Some(next) = parts.get(2) else {
            stack.push(cmd(c.indent, content_mode, sep));
            stack.push(cmd(c.indent, content_mode, content));
            return;
        };
        let both_fit = fits(
            &[cmd(c.indent, Mode::Flat, next), cmd(c.indent, Mode::Flat, sep), cmd(c.indent, Mode::Flat, content)],
            &[],
            room,
        );
        stack.push(Cmd { indent: c.indent, mode: Mode::Break, part: Part::Fill(&parts[2..]) });
        stack.push(cmd(c.indent, if both_fit { Mode::Flat } else { Mode::Break }, sep));
        stack.push(cmd(c.indent, content_mode, content));
    }
}

/// Whether `first` (a stack: last element first) and then the commands of `rest` still to be
/// printed fit in `room` columns up to the next newline.
fn fits(first: &[Cmd<'_>], rest: &[Cmd<'_>], mut room: isize) -> bool {
    let mut stack: Vec<Cmd<'_>> = first.to_vec();
    let mut rest_left = rest.len();
    loop {
        if room < 0 {
            return false;
        }
        let c = match stack.pop() {
            Some(c) => c,
            None if rest_left == 0 => return true,
            None => {
                rest_left -= 1;
                rest[rest_left]
            }
        };
        let d = match c.part {
            Part::Doc(d) => d,
            Part::Fill(parts) => {
                stack.extend(parts.iter().rev().map(|d| cmd(c.indent, c.mode, d)));
                continue;
            }
        };
        match d {
            Doc::Nil | Doc::BreakParent => {}
            Doc::Text(s) => match s.find('\n') {
                Some(i) => return room >= width(&s[..i]) as isize,
                None => room -= width(s) as isize,
            },
            Doc::SoftSpace | Doc::FreshLine => room -= 1,
            Doc::Line | Doc::SoftLine if c.mode == Mode::Break => return true,
            Doc::Line => room -= 1,
            Doc::SoftLine => {}
            Doc::HardLine => return true,
            Doc::Nest(_, inner) => stack.push(cmd(c.indent, c.mode, inner)),
            Doc::Concat(parts) | Doc::Fill(parts) => stack.extend(parts.iter().rev().map(|d| cmd(c.indent, c.mode, d))),
            Doc::Group { doc, hard } => stack.push(cmd(c.indent, if *hard { Mode::Break } else { c.mode }, doc)),
            Doc::IfBreak { broken, flat } => {
                stack.push(cmd(c.indent, c.mode, if c.mode == Mode::Break { broken } else { flat }))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::doc::*;
    use super::*;

    fn list(items: &[&str]) -> Doc {
        let inner = join(items.iter().map(|s| text(*s)).collect(), || concat(vec![text(","), Doc::Line]));
        group(concat(vec![
            text("["),
            nest(2, concat(vec![Doc::SoftLine, inner, if_break(text(","), Doc::Nil)])),
            Doc::SoftLine,
            text("]"),
        ]))
    }

    #[test]
    fn a_group_is_flat_when_it_fits_and_broken_otherwise() {
        assert_eq!(print(&list(&["a", "b"]), 10), "[a, b]");
        assert_eq!(print(&list(&["aaaa", "bbbb"]), 10), "[\n  aaaa,\n  bbbb,\n]");
    }

    #[test]
    fn text_after_a_group_counts_towards_its_fit() {
        let d = concat(vec![list(&["a", "b"]), text(" {")]);
        assert_eq!(print(&d, 7), "[\n  a,\n  b,\n] {");
        assert_eq!(print(&d, 8), "[a, b] {");
    }

    #[test]
    fn fill_breaks_only_where_needed() {
        let parts = vec![
            text("aa"),
            concat(vec![text(","), Doc::Line]),
            text("bb"),
            concat(vec![text(","), Doc::Line]),
            text("cc"),
        ];
        assert_eq!(print(&Doc::Fill(parts), 7), "aa, bb,\ncc");
    }

    #[test]
    fn blank_lines_and_line_ends_carry_no_spaces() {
        let d = nest(2, concat(vec![text("a "), Doc::HardLine, Doc::HardLine, text("b")]));
        assert_eq!(print(&d, 80), "a\n\n  b");
    }

    #[test]
    fn soft_spaces_separate_but_never_double() {
        let d = concat(vec![text("f("), Doc::SoftSpace, text("/* c */"), Doc::SoftSpace, text(")")]);
        assert_eq!(print(&d, 80), "f(/* c */)");
        let d = concat(vec![text("a "), Doc::SoftSpace, text("b"), Doc::SoftSpace, text("c")]);
        assert_eq!(print(&d, 80), "a b c");
    }

    #[test]
    fn fresh_line_only_breaks_a_line_with_text() {
        let d = concat(vec![Doc::FreshLine, text("a"), Doc::FreshLine, text("b")]);
        assert_eq!(print(&d, 80), "a\nb");
    }

    #[test]
    fn a_multi_line_text_fits_by_its_first_line() {
        let d = group(concat(vec![text("x"), Doc::Line, text("\"\"\"\n  long long long\n\"\"\"")]));
        assert_eq!(print(&d, 10), "x \"\"\"\n  long long long\n\"\"\"");
    }
}
