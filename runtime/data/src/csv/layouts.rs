//! The CSV layouts traders have beyond the plain one, read by the general path: semicolon and
//! tab separators (found from the header), quoted fields (RFC 4180), US dates (`01/03/2012`),
//! epoch seconds and milliseconds, and ISO times with an offset (`…T09:30:00-05:00`, `…Z`).
//! An instant (epoch, offset) is given as exchange time, New York's, as every bar is.

use chrono::{NaiveDate, NaiveDateTime, TimeZone};

/// The separator a header uses: the most frequent of `,`, `;` and tab outside quotes (a comma
/// when none is there).
pub(super) fn delimiter(header: &str) -> u8 {
    let mut counts = [(b',', 0usize), (b';', 0), (b'\t', 0)];
    let mut quoted = false;
    for b in header.bytes() {
        if b == b'"' {
            quoted = !quoted;
        } else if !quoted && let Some(c) = counts.iter_mut().find(|(d, _)| *d == b) {
            c.1 += 1;
        }
    }
    counts.iter().max_by_key(|(d, n)| (*n, *d == b',')).filter(|(_, n)| *n > 0).map_or(b',', |(d, _)| *d)
}

/// The fields of `line` split at `delim` outside double quotes, each trimmed and with its
/// surrounding quotes taken off.
pub(super) fn split<'t>(line: &'t str, delim: u8, out: &mut Vec<&'t str>) {
    let b = line.as_bytes();
    let (mut start, mut quoted) = (0, false);
    for (i, &c) in b.iter().enumerate() {
        if c == b'"' {
            quoted = !quoted;
        } else if c == delim && !quoted {
            out.push(unquote(&line[start..i]));
            start = i + 1;
        }
    }
    out.push(unquote(&line[start..]));
}

fn unquote(field: &str) -> &str {
    let f = field.trim();
    match f.strip_prefix('"').and_then(|f| f.strip_suffix('"')) {
        Some(inner) if !inner.contains('"') => inner.trim(),
        _ => f,
    }
}

/// A date the plain reader does not know: US `MM/DD/YYYY` (or `M/D/YYYY`).
pub(super) fn us_date(d: &str) -> Option<NaiveDate> {
    let mut parts = d.split('/');
    let (m, day, y) = (parts.next()?, parts.next()?, parts.next()?);
    if parts.next().is_some() || y.len() != 4 || m.len() > 2 || day.len() > 2 {
        return None;
    }
    NaiveDate::from_ymd_opt(y.parse().ok()?, m.parse().ok()?, day.parse().ok()?)
}

/// A date field that is an instant: epoch seconds (10 digits) or milliseconds (13), or an ISO
/// time with an offset or `Z`; as New York time. An epoch at a UTC midnight is that day (daily
/// bars are stamped so).
pub(super) fn instant(field: &str) -> Option<NaiveDateTime> {
    if field.bytes().all(|b| b.is_ascii_digit()) && matches!(field.len(), 10 | 13) {
        let n: i64 = field.parse().ok()?;
        let secs = if field.len() == 13 { n.div_euclid(1000) } else { n };
        let utc = chrono::DateTime::from_timestamp(secs, 0)?.naive_utc();
        if secs % 86_400 == 0 && (field.len() == 10 || n % 1000 == 0) {
            return Some(utc);
        }
        return Some(chrono_tz::America::New_York.from_utc_datetime(&utc).naive_local());
    }
    let at = chrono::DateTime::parse_from_rfc3339(&field.replacen(' ', "T", 1)).ok()?;
    Some(at.with_timezone(&chrono_tz::America::New_York).naive_local())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn separators_quotes_and_dates_traders_have() {
        assert_eq!(delimiter("Date;Open;High;Low;Close;Volume"), b';');
        assert_eq!(delimiter("Date\tOpen\tHigh\tLow\tClose"), b'\t');
        assert_eq!(delimiter("date,open,high,low,close"), b',');
        assert_eq!(delimiter("\"a;b\",open,high"), b',');
        let mut f = Vec::new();
        split("\"2012-01-03\", \"1,234.5\" ,\"x\"\"y\",7", b',', &mut f);
        assert_eq!(f, ["2012-01-03", "1,234.5", "\"x\"\"y\"", "7"]);
        assert_eq!(us_date("01/03/2012"), NaiveDate::from_ymd_opt(2012, 1, 3));
        assert_eq!(us_date("1/3/2012"), NaiveDate::from_ymd_opt(2012, 1, 3));
        assert_eq!(us_date("13/03/2012"), None);
        let t = |s: &str| instant(s).map(|t| t.to_string());
        assert_eq!(t("1325601000").as_deref(), Some("2012-01-03 09:30:00"), "epoch seconds, New York time");
        assert_eq!(t("1325601000000").as_deref(), Some("2012-01-03 09:30:00"), "milliseconds");
        assert_eq!(t("1325548800").as_deref(), Some("2012-01-03 00:00:00"), "a UTC midnight is its day");
        assert_eq!(t("2012-01-03T14:30:00Z").as_deref(), Some("2012-01-03 09:30:00"));
        assert_eq!(t("2012-07-03T09:30:00-04:00").as_deref(), Some("2012-07-03 09:30:00"));
        assert_eq!(t("2012-01-03"), None);
    }
}
