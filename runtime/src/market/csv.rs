//! Loading bars from CSV text in the common layouts, refusing bad rows with their line number
//! and the reason.
//!
//! Recognised headers (case and spaces ignored; columns in any order, extra columns ignored):
//! Yahoo `Date,Open,High,Low,Close,Adj Close,Volume` (the unadjusted `Close` is used);
//! `date,open,high,low,close,volume`; either with a `time` column for intraday bars; either
//! after an unnamed index column (pandas). Dates are `YYYY-MM-DD` or `YYYYMMDD`, optionally with
//! a time in the same field; times are `HH:MM` or `HH:MM:SS`.

use super::Bar;
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

/// A row the loader refused, or a problem with the whole file.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Problem {
    /// 1-based line number in the file.
    pub line: usize,
    pub message: String,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "line {}: {}", self.line, self.message)
    }
}

/// Where each field sits in a row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Layout {
    pub fields: usize,
    pub date: usize,
    pub time: Option<usize>,
    pub open: usize,
    pub high: usize,
    pub low: usize,
    pub close: usize,
    pub volume: Option<usize>,
}

/// The bars that passed validation, in time order, and every row refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub layout: Layout,
    pub bars: Vec<Bar>,
    pub problems: Vec<Problem>,
}

/// Parses CSV text. A file whose header cannot be understood, or whose rows do not match the
/// header, is refused whole with one problem; otherwise bad rows are refused one by one.
pub fn parse_csv(text: &str) -> Result<Loaded, Problem> {
    let mut lines = text.lines().enumerate().filter(|(_, l)| !l.trim().is_empty());
    let Some((header_index, header)) = lines.next() else {
        return Err(Problem { line: 1, message: "the file is empty".into() });
    };
    let header_line = header_index + 1;
    let layout = layout(header.trim_start_matches('\u{feff}'), header_line)?;
    let mut bars: Vec<Bar> = Vec::new();
    let mut problems = Vec::new();
    let mut checked_width = false;
    let mut fields: Vec<&str> = Vec::with_capacity(layout.fields);
    for (i, line) in lines {
        let n = i + 1;
        fields.clear();
        fields.extend(line.split(',').map(str::trim));
        if fields.len() != layout.fields {
            if !checked_width {
                return Err(width_problem(&layout, &fields, n));
            }
            problems.push(Problem {
                line: n,
                message: format!("{} fields, but the header names {}", fields.len(), layout.fields),
            });
            continue;
        }
        checked_width = true;
        match row(&layout, &fields) {
            Err(message) => problems.push(Problem { line: n, message }),
            Ok(bar) => match super::validate::follows(bars.last(), &bar) {
                Err(message) => problems.push(Problem { line: n, message }),
                Ok(()) => bars.push(bar),
            },
        }
    }
    Ok(Loaded { layout, bars, problems })
}

fn layout(header: &str, line: usize) -> Result<Layout, Problem> {
    let names: Vec<String> = header.split(',').map(|h| h.trim().trim_matches('"').to_lowercase()).collect();
    let find = |wanted: &[&str]| names.iter().position(|n| wanted.contains(&n.as_str()));
    let missing = |what: &str| Problem {
        line,
        message: format!(
            "the header has no `{what}` column (found: {}); expected columns such as date,open,high,low,close,volume",
            names.join(",")
        ),
    };
    Ok(Layout {
        fields: names.len(),
        date: find(&["date", "datetime", "timestamp"]).ok_or_else(|| missing("date"))?,
        time: find(&["time"]),
        open: find(&["open"]).ok_or_else(|| missing("open"))?,
        high: find(&["high"]).ok_or_else(|| missing("high"))?,
        low: find(&["low"]).ok_or_else(|| missing("low"))?,
        close: find(&["close"]).ok_or_else(|| missing("close"))?,
        volume: find(&["volume", "vol"]),
    })
}

/// Explains why the first row's width differs from the header's.
fn width_problem(layout: &Layout, fields: &[&str], line: usize) -> Problem {
    let mut message = format!("rows have {} fields, but the header names {}", fields.len(), layout.fields);
    if fields.len() == layout.fields + 1
        && layout.time.is_none()
        && fields.get(layout.date + 1).is_some_and(|f| parse_time(f).is_some())
    {
        message.push_str(&format!(
            "; the field after the date (`{}`) is a time of day, so the header probably lacks a `Time` column",
            fields[layout.date + 1]
        ));
    }
    Problem { line, message }
}

fn row(l: &Layout, f: &[&str]) -> Result<Bar, String> {
    let time = timestamp(f[l.date], l.time.map(|t| f[t]))?;
    let num = |i: usize, name: &str| -> Result<f64, String> {
        let raw = f[i];
        let v: f64 = raw.parse().map_err(|_| format!("{name} `{raw}` is not a number"))?;
        if !v.is_finite() {
            return Err(format!("{name} is {raw}"));
        }
        Ok(v)
    };
    let (open, high, low, close) =
        (num(l.open, "open")?, num(l.high, "high")?, num(l.low, "low")?, num(l.close, "close")?);
    let volume = match l.volume {
        Some(v) => num(v, "volume")?,
        None => 0.0,
    };
    let bar = Bar { time, open, high, low, close, volume };
    super::validate::check_bar(&bar)?;
    Ok(bar)
}

fn timestamp(date: &str, time: Option<&str>) -> Result<NaiveDateTime, String> {
    let (day, inline_time) = match date.split_once([' ', 'T']) {
        Some((d, t)) => (d, Some(t)),
        None => (date, None),
    };
    let d = parse_date(day).ok_or_else(|| format!("date `{date}` is not YYYY-MM-DD"))?;
    let t = match time.or(inline_time) {
        Some(t) => parse_time(t).ok_or_else(|| format!("time `{t}` is not HH:MM or HH:MM:SS"))?,
        None => NaiveTime::MIN,
    };
    Ok(d.and_time(t))
}

/// Digits at `range` of `s` as a number (all bytes must be ASCII digits).
fn digits(s: &[u8], range: std::ops::Range<usize>) -> Option<u32> {
    s.get(range)?.iter().try_fold(0u32, |n, b| b.is_ascii_digit().then(|| n * 10 + u32::from(b - b'0')))
}

/// `YYYY-MM-DD` or `YYYYMMDD`, read by hand: this runs once per row.
fn parse_date(d: &str) -> Option<NaiveDate> {
    let b = d.as_bytes();
    let (y, m, day) = match b.len() {
        10 if b[4] == b'-' && b[7] == b'-' => (digits(b, 0..4)?, digits(b, 5..7)?, digits(b, 8..10)?),
        8 => (digits(b, 0..4)?, digits(b, 4..6)?, digits(b, 6..8)?),
        _ => return None,
    };
    NaiveDate::from_ymd_opt(i32::try_from(y).ok()?, m, day)
}

/// `HH:MM:SS` or `HH:MM`.
fn parse_time(t: &str) -> Option<NaiveTime> {
    let b = t.as_bytes();
    match b.len() {
        8 if b[2] == b':' && b[5] == b':' => {
            NaiveTime::from_hms_opt(digits(b, 0..2)?, digits(b, 3..5)?, digits(b, 6..8)?)
        }
        5 if b[2] == b':' => NaiveTime::from_hms_opt(digits(b, 0..2)?, digits(b, 3..5)?, 0),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refuses_bad_rows_with_line_and_reason() {
        let text = "date,open,high,low,close,volume\n\
                    2020-01-02,10,11,9,10.5,100\n\
                    2020-01-03,10,NaN,9,10.5,100\n\
                    2020-01-06,10,8,9,10.5,100\n\
                    2020-01-07,0,11,9,10.5,100\n\
                    2020-01-07,10,11,9,10.5,100\n\
                    2020-01-07,10,11,9,10.5,100\n\
                    2020-01-03,10,11,9,10.5,100\n\
                    2020-01-08,10,11,9,10.5\n\
                    2020-01-09,10,11,9,abc,100\n";
        let l = parse_csv(text).expect("header is fine");
        assert_eq!(l.bars.len(), 2);
        let got: Vec<(usize, &str)> = l.problems.iter().map(|p| (p.line, p.message.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (3, "high is NaN"),
                (4, "high 8 is below low 9"),
                (5, "open price 0 is not positive"),
                (7, "duplicate timestamp 2020-01-07 00:00:00"),
                (8, "timestamp 2020-01-03 00:00:00 is earlier than the one before (2020-01-07 00:00:00)"),
                (9, "5 fields, but the header names 6"),
                (10, "close `abc` is not a number"),
            ]
        );
    }

    #[test]
    fn detects_layouts() {
        let yahoo =
            parse_csv("Date,Open,High,Low,Close,Adj Close,Volume\n1999-01-22,1.75,1.95,1.55,1.64,1.51,67867200\n")
                .expect("ok");
        assert_eq!((yahoo.layout.close, yahoo.layout.volume), (4, Some(6)));
        assert_eq!(yahoo.bars[0].close, 1.64);
        let indexed =
            parse_csv(",date,open,high,low,close,volume\n0,1999-11-01,136.5,137,135.5625,135.5625,4006500.0\n")
                .expect("ok");
        assert_eq!(indexed.bars[0].volume, 4_006_500.0);
        let intraday = parse_csv("Date,Time,Open,High,Low,Close\n2006-01-02,09:05:00,1,2,1,2\n").expect("ok");
        assert_eq!(intraday.bars[0].time.to_string(), "2006-01-02 09:05:00");
        assert_eq!(intraday.bars[0].volume, 0.0);
    }

    #[test]
    fn header_row_mismatch_is_explained() {
        let e = parse_csv("Date,Open,High,Low,Close,Volume,OpenInterest\n2006-01-02,09:01:00,3602.00,3603.00,3597.00,3599.00,5699,0\n")
            .expect_err("refused");
        assert_eq!(e.line, 2);
        assert!(e.message.contains("rows have 8 fields, but the header names 7"), "{e}");
        assert!(e.message.contains("lacks a `Time` column"), "{e}");
        assert_eq!(parse_csv("a,b\n").expect_err("no date").line, 1);
        assert_eq!(parse_csv("").expect_err("empty").message, "the file is empty");
    }
}
