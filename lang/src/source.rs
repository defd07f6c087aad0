//! Turns raw file bytes into text the lexer accepts, keeping every byte offset unchanged.
//!
//! Invalid UTF-8 and NUL bytes are replaced by spaces (one byte for one byte) and reported;
//! a leading byte-order mark becomes three spaces and a warning.

use crate::diagnostic::{Code, Diagnostic};
use crate::span::{FileId, Span};

pub fn decode(file: FileId, bytes: &[u8]) -> (String, Vec<Diagnostic>) {
    // The common case: clean UTF-8 without NUL bytes or a byte-order mark.
    if !bytes.starts_with("\u{feff}".as_bytes())
        && !bytes.contains(&0)
        && let Ok(text) = std::str::from_utf8(bytes)
    {
        return (text.to_string(), Vec::new());
    }
    let mut diags = Vec::new();
    let mut out: Vec<u8> = Vec::with_capacity(bytes.len());
    let mut rest = bytes;
    let mut invalid: Vec<usize> = Vec::new();
    while !rest.is_empty() {
        match std::str::from_utf8(rest) {
            Ok(s) => {
                out.extend_from_slice(s.as_bytes());
                break;
            }
            Err(e) => {
                let good = e.valid_up_to();
                out.extend_from_slice(&rest[..good]);
                let bad = e.error_len().unwrap_or(rest.len() - good);
                for i in 0..bad {
                    invalid.push(out.len() + i);
                }
                out.extend(std::iter::repeat_n(b' ', bad));
                rest = &rest[good + bad..];
            }
        }
    }
    if let Some(&first) = invalid.first() {
        diags.push(
            Diagnostic::new(Code::InvalidUtf8, file, Span::new(first, first + 1), "the file is not valid UTF-8")
                .label(if invalid.len() > 1 {
                    format!("first of {} invalid bytes", invalid.len())
                } else {
                    "invalid byte".to_string()
                })
                .help("save the file as UTF-8; invalid bytes are read as spaces"),
        );
    }
    let nuls: Vec<usize> = out.iter().enumerate().filter(|(_, b)| **b == 0).map(|(i, _)| i).collect();
    if let Some(&first) = nuls.first() {
        diags.push(
            Diagnostic::new(Code::NulByte, file, Span::new(first, first + 1), "NUL byte in source")
                .label(if nuls.len() > 1 {
                    format!("first of {} NUL bytes", nuls.len())
                } else {
                    "NUL byte".to_string()
                })
                .help("a .strat file is text; remove the NUL bytes"),
        );
        for i in nuls {
            out[i] = b' ';
        }
    }
    if out.starts_with("\u{feff}".as_bytes()) {
        diags.push(
            Diagnostic::new(Code::ByteOrderMark, file, Span::new(0, 3), "the file starts with a byte-order mark")
                .label("byte-order mark")
                .fix(Span::new(0, 3), "", "save the file as UTF-8 without a byte-order mark"),
        );
        out[..3].copy_from_slice(b"   ");
    }
    // Only valid UTF-8 sequences and ASCII spaces were written.
    let text = String::from_utf8(out).unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
    (text, diags)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offsets_are_preserved() {
        let (t, d) = decode(FileId(0), b"ab\xffc\x00d");
        assert_eq!(t, "ab c d");
        let codes: Vec<_> = d.iter().map(|d| (d.code.id(), d.span.start)).collect();
        assert_eq!(codes, vec![("E0001", 2), ("E0002", 4)]);
    }

    #[test]
    fn bom_is_a_warning() {
        let (t, d) = decode(FileId(0), "\u{feff}x".as_bytes());
        assert_eq!(t, "   x");
        assert_eq!(d[0].code, Code::ByteOrderMark);
    }
}
