//! Decoding literal tokens: numbers with unit suffixes, money, strings and block strings.

use super::ast::LitUnit;

/// Splits `15m` into (`15`, `m`); digits lose their `_` separators.
pub fn split_number(raw: &str) -> (String, &str) {
    let end = raw
        .char_indices()
        .find(|(i, c)| {
            !(c.is_ascii_digit() || *c == '_' || (*c == '.' && raw[i + 1..].starts_with(|d: char| d.is_ascii_digit())))
        })
        .map_or(raw.len(), |(i, _)| i);
    (raw[..end].replace('_', ""), &raw[end..])
}

/// The unit a number suffix stands for, or `None` if the suffix is unknown.
pub fn number_unit(suffix: &str) -> Option<LitUnit> {
    Some(match suffix {
        "" => LitUnit::None,
        "%" => LitUnit::Percent,
        "s" => LitUnit::Duration(1),
        "m" => LitUnit::Duration(60),
        "h" => LitUnit::Duration(3600),
        "d" => LitUnit::Duration(86_400),
        "w" => LitUnit::Duration(604_800),
        _ => return None,
    })
}

/// Number of decimal places to shift a money amount for its suffix (`k`, `M`).
pub fn money_scale(suffix: &str) -> Option<usize> {
    match suffix {
        "" => Some(0),
        "k" | "K" => Some(3),
        "M" => Some(6),
        _ => None,
    }
}

/// Multiplies a decimal string by 10^places without going through floating point.
pub fn shift_decimal(digits: &str, places: usize) -> String {
    if places == 0 {
        return digits.to_string();
    }
    let (int, frac) = digits.split_once('.').unwrap_or((digits, ""));
    let mut frac = frac.to_string();
    while frac.len() < places {
        frac.push('0');
    }
    let (moved, rest) = frac.split_at(places);
    let int = format!("{int}{moved}");
    let int = int.trim_start_matches('0');
    let int = if int.is_empty() { "0" } else { int };
    if rest.is_empty() { int.to_string() } else { format!("{int}.{rest}") }
}

/// Decodes the inside of a `"…"` string. Returns the text and the byte offsets (relative to
/// `inner`) of unknown escapes.
pub fn unescape(inner: &str) -> (String, Vec<(usize, usize)>) {
    let mut out = String::with_capacity(inner.len());
    let mut bad = Vec::new();
    let mut chars = inner.char_indices();
    while let Some((i, c)) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some((_, 'n')) => out.push('\n'),
            Some((_, 't')) => out.push('\t'),
            Some((_, 'r')) => out.push('\r'),
            Some((_, '"')) => out.push('"'),
            Some((_, '\\')) => out.push('\\'),
            Some((j, other)) => {
                bad.push((i, j + other.len_utf8()));
                out.push(other);
            }
            None => bad.push((i, i + 1)),
        }
    }
    (out, bad)
}

/// Removes the common indentation of a block string and its first and last blank lines.
pub fn dedent(inner: &str) -> String {
    let mut lines: Vec<&str> = inner.split('\n').collect();
    if lines.first().is_some_and(|l| l.trim().is_empty()) {
        lines.remove(0);
    }
    if lines.last().is_some_and(|l| l.trim().is_empty()) {
        lines.pop();
    }
    let indent = lines
        .iter()
        .filter(|l| !l.trim().is_empty())
        .map(|l| l.len() - l.trim_start_matches([' ', '\t']).len())
        .min()
        .unwrap_or(0);
    lines
        .iter()
        .map(|l| if l.len() >= indent { l[indent..].trim_end() } else { l.trim() })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Byte ranges `(open, close)` of each `{{ … }}` in `s`: `open` at the first `{`, `close`
/// just after the last `}`, or `None` for an unclosed one (which ends the scan).
pub fn holes(s: &str) -> Vec<(usize, Option<usize>)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(i) = s[from..].find("{{") {
        let open = from + i;
        match s[open + 2..].find("}}") {
            Some(j) => {
                let close = open + 2 + j + 2;
                out.push((open, Some(close)));
                from = close;
            }
            None => {
                out.push((open, None));
                break;
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers() {
        assert_eq!(split_number("1_000"), ("1000".to_string(), ""));
        assert_eq!(split_number("2.5h"), ("2.5".to_string(), "h"));
        assert_eq!(split_number("5%"), ("5".to_string(), "%"));
        assert_eq!(number_unit("min"), None);
        assert_eq!(shift_decimal("2.5", 3), "2500");
        assert_eq!(shift_decimal("0.0015", 3), "1.5");
        assert_eq!(shift_decimal("12", 6), "12000000");
    }

    #[test]
    fn strings() {
        assert_eq!(unescape(r#"a\"b\n"#).0, "a\"b\n");
        assert_eq!(unescape(r"\q").1, vec![(0, 2)]);
        assert_eq!(dedent("\n    one\n      two\n  "), "one\n  two");
        assert_eq!(holes("a {{x}} b {{y"), vec![(2, Some(7)), (10, None)]);
    }
}
