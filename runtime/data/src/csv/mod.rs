//! Loading bars from CSV text in the common layouts, refusing bad rows with their line number
//! and the reason.
//!
//! Recognised headers (case and spaces ignored; columns in any order, extra columns ignored):
//! Yahoo `Date,Open,High,Low,Close,Adj Close,Volume` (the unadjusted `Close` is used);
//! `date,open,high,low,close,volume`; either with a `time` column for intraday bars; either
//! after an unnamed index column (pandas). Dates are `YYYY-MM-DD` or `YYYYMMDD`, optionally with
//! a time in the same field; times are `HH:MM` or `HH:MM:SS`. The general path also reads the
//! layouts of [`layouts`]: semicolons and tabs, quoted fields, US dates and instants. A column
//! the user names for a field ([`CsvOptions::columns`], see [`columns`]) is read for it instead.
//!
//! Rows are read by a fast path that scans bytes once, field by field, and parses plain decimal
//! numbers by hand (exactly: the same `f64` as `str::parse`). Any row it does not fully
//! understand (another number syntax, a bad date, the wrong number of fields, a byte outside
//! ASCII) is read again by the general path, which is the definition of what a row means and of
//! every message; the fast path only ever agrees with it. Large texts are cut at line
//! boundaries into pieces that two threads share out, and joined in order. A reader (a file)
//! is read a block at a time ([`stream`]), with the result the whole text would give.

use super::Bar;
use super::validate::{check_bar, follows};
use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use chunks::{CHUNK_BYTES, MAX_CHUNKS, chunk_bounds, estimate_rows};
pub use columns::Field;
pub use stream::{ReadError, parse_csv_reader};

mod chunks;
mod columns;
mod decimal;
mod layouts;
mod stream;

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
    /// The separator: `,`, or `;` or tab when the header uses it.
    pub delimiter: u8,
}

/// The bars that passed validation, in time order, and every row refused.
#[derive(Debug, Clone, PartialEq)]
pub struct Loaded {
    pub layout: Layout,
    pub bars: Vec<Bar>,
    pub problems: Vec<Problem>,
}

/// What the user says of a file's layout where detection is not enough.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct CsvOptions {
    /// The separator (`,`, `;`, tab), instead of the one the header shows.
    pub delimiter: Option<u8>,
    /// How the date field is written (`%d.%m.%Y`, `%d.%m.%Y %H:%M`: chrono's strftime).
    pub date_format: Option<String>,
    /// Fields read from the column of the header given (case and surrounding spaces ignored),
    /// instead of the one its names show: `(Close, "Adj Close")`.
    pub columns: Vec<(Field, String)>,
}

/// Parses CSV text. A file whose header cannot be understood, or whose rows do not match the
/// header, is refused whole with one problem; otherwise bad rows are refused one by one.
pub fn parse_csv(text: &str) -> Result<Loaded, Problem> {
    parse(text, None, &CsvOptions::default())
}

/// [`parse_csv`] with the layout partly named by the user.
pub fn parse_csv_with(text: &str, options: &CsvOptions) -> Result<Loaded, Problem> {
    parse(text, None, options)
}

/// [`parse_csv`], with the body read in `pieces` pieces (by default, as many as its size calls
/// for): the result is the same whatever the number.
fn parse(text: &str, pieces: Option<usize>, options: &CsvOptions) -> Result<Loaded, Problem> {
    let Ok((header, line, start)) = header_line(text, 1) else {
        return Err(Problem { line: 1, message: "the file is empty".into() });
    };
    let reader = Reader::for_header(header, line, options)?;
    let body = &text[start..];
    let mut rows = Rows::default();
    rows.bars.reserve(estimate_rows(body));
    reader.parse_body(body, line + 1, pieces, &mut rows)?;
    Ok(Loaded { layout: reader.layout, bars: rows.bars, problems: rows.problems })
}

/// The header among the lines of `text` (whose first line is line `first_line`): the first
/// line that is not blank, its number, and where the line after it starts. When every line is
/// blank, the number the next line would have. Lines are numbered as `str::lines` counts them:
/// a line ends at `\n`, and a `\r` before it is not part of the line.
fn header_line(text: &str, first_line: usize) -> Result<(&str, usize, usize), usize> {
    let mut start = 0;
    let mut line = first_line;
    loop {
        if start >= text.len() {
            return Err(line);
        }
        let end = line_end(text.as_bytes(), start);
        let l = line_at(text, start, end);
        start = (end + 1).min(text.len());
        if !l.trim().is_empty() {
            return Ok((l, line, start));
        }
        line += 1;
    }
}

/// The index of the `\n` ending the line that starts at or before `from`, or the text's length.
fn line_end(b: &[u8], from: usize) -> usize {
    b.get(from..).and_then(|rest| rest.iter().position(|&c| c == b'\n')).map_or(b.len(), |i| from + i)
}

/// The line from `start` to `end` (a `\n` or the end of the text), as `str::lines` gives it: a
/// `\r` before the `\n` is not part of it.
fn line_at(text: &str, start: usize, end: usize) -> &str {
    let l = &text[start..end];
    if end < text.len() { l.strip_suffix('\r').unwrap_or(l) } else { l }
}

/// What the rows read so far add up to.
#[derive(Default)]
struct Rows {
    /// Whether a row with the header's number of fields has been seen: until then a row of
    /// another width refuses the whole file.
    checked_width: bool,
    bars: Vec<Bar>,
    problems: Vec<Problem>,
    /// Vectors of bars kept for the pieces read on the other thread (see [`chunks`]).
    spare: Vec<Vec<Bar>>,
}

/// What the fast path does with one field. The numbers' roles are their places among a bar's
/// values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Role {
    Open = 0,
    High = 1,
    Low = 2,
    Close = 3,
    Volume = 4,
    Date,
    Time,
    Skip,
}

/// Reads the rows of one layout.
struct Reader<'l> {
    layout: Layout,
    /// The role of each field, in file order.
    roles: Vec<Role>,
    /// A bar's volume before its fields are read: NaN ("not given") without a volume column.
    no_volume: f64,
    /// The user's date format, if any (the fast path is then left out).
    date_format: Option<&'l str>,
}

impl<'l> Reader<'l> {
    /// The reader of the rows under `header` (line `line`), as the options say.
    fn for_header(header: &str, line: usize, options: &'l CsvOptions) -> Result<Reader<'l>, Problem> {
        let layout = layout(header.trim_start_matches('\u{feff}'), line, options)?;
        // Dates in the user's format: every row goes through the general path.
        Ok(Reader { date_format: options.date_format.as_deref(), ..Reader::new(layout) })
    }

    fn new(layout: Layout) -> Reader<'l> {
        let mut roles = vec![Role::Skip; layout.fields];
        let mut set = |i: Option<usize>, r: Role| {
            if let Some(slot) = i.and_then(|i| roles.get_mut(i)) {
                *slot = r;
            }
        };
        set(Some(layout.open), Role::Open);
        set(Some(layout.high), Role::High);
        set(Some(layout.low), Role::Low);
        set(Some(layout.close), Role::Close);
        set(layout.volume, Role::Volume);
        set(layout.time, Role::Time);
        set(Some(layout.date), Role::Date);
        let no_volume = if layout.volume.is_some() { 0.0 } else { f64::NAN };
        Reader { layout, roles, no_volume, date_format: None }
    }

    /// Reads the rows of `body` (whose first line is line `first_line`) into `rows`, in
    /// `pieces` pieces on two threads (by default, as many as its size calls for); returns how
    /// many lines it holds.
    fn parse_body(
        &self,
        body: &str,
        first_line: usize,
        pieces: Option<usize>,
        rows: &mut Rows,
    ) -> Result<usize, Problem> {
        let bounds = chunk_bounds(body, pieces.unwrap_or((body.len() / CHUNK_BYTES).clamp(1, MAX_CHUNKS)));
        if bounds.len() > 2 {
            self.parse_chunks(body, &bounds, first_line, rows)
        } else {
            self.parse_rows(body, first_line, rows)
        }
    }

    /// Reads the rows of `text` (whose first line is line `first_line`) into `rows`; returns how
    /// many lines it holds.
    fn parse_rows(&self, text: &str, first_line: usize, rows: &mut Rows) -> Result<usize, Problem> {
        let b = text.as_bytes();
        let mut pos = 0;
        let mut n = first_line;
        let mut dates = DateCache::default();
        let mut fields: Vec<&str> = Vec::with_capacity(self.layout.fields);
        while pos < b.len() {
            let fast = if self.date_format.is_some() { Fast::Unsure } else { self.fast_row(b, pos, &mut dates) };
            match fast {
                Fast::Bar(bar, next) => {
                    rows.checked_width = true;
                    let checked = check_bar(&bar);
                    let checked = checked.and_then(|()| follows(rows.bars.last(), &bar));
                    match checked {
                        Ok(()) => rows.bars.push(bar),
                        Err(message) => rows.problems.push(Problem { line: n, message }),
                    }
                    pos = next;
                }
                Fast::Blank(next) => pos = next,
                Fast::Unsure => {
                    let end = line_end(b, pos);
                    self.general_row(line_at(text, pos, end), n, &mut fields, rows)?;
                    pos = end + 1;
                }
            }
            n += 1;
        }
        Ok(n - first_line)
    }

    /// One line read by the general path: the definition of what a row means.
    fn general_row<'t>(
        &self,
        line: &'t str,
        n: usize,
        fields: &mut Vec<&'t str>,
        rows: &mut Rows,
    ) -> Result<(), Problem> {
        if line.trim().is_empty() {
            return Ok(());
        }
        let layout = &self.layout;
        fields.clear();
        layouts::split(line, layout.delimiter, fields);
        if fields.len() != layout.fields {
            if !rows.checked_width {
                return Err(width_problem(layout, fields, n));
            }
            rows.problems.push(Problem {
                line: n,
                message: format!("{} fields, but the header names {}", fields.len(), layout.fields),
            });
            return Ok(());
        }
        rows.checked_width = true;
        match row(layout, fields, self.date_format) {
            Err(message) => rows.problems.push(Problem { line: n, message }),
            Ok(bar) => match follows(rows.bars.last(), &bar) {
                Err(message) => rows.problems.push(Problem { line: n, message }),
                Ok(()) => rows.bars.push(bar),
            },
        }
        Ok(())
    }

    /// Reads the line starting at `i` if it is blank or a plain row: every field trimmed of
    /// ASCII whitespace, the dates, times and numbers in their plain forms, and the header's
    /// number of fields. Anything else is left to the general path.
    #[inline]
    fn fast_row(&self, b: &[u8], i: usize, dates: &mut DateCache) -> Fast {
        let mut i = skip_space(b, i);
        match b.get(i) {
            None => return Fast::Blank(b.len()),
            Some(b'\n') => return Fast::Blank(i + 1),
            Some(_) => {}
        }
        let mut row = FastRow { values: [0.0, 0.0, 0.0, 0.0, self.no_volume], day: None, time: None, inline: None };
        let Some((&last, first)) = self.roles.split_last() else { return Fast::Unsure };
        // Each field but the last ends at a comma, the last at the end of the line.
        for &role in first {
            match row.field(b, skip_space(b, i), role, dates) {
                Some(end) if b.get(end) == Some(&b',') => i = end + 1,
                _ => return Fast::Unsure,
            }
        }
        match row.field(b, skip_space(b, i), last, dates) {
            Some(end) if b.get(end) == Some(&b'\n') => i = end + 1,
            Some(end) if end == b.len() => i = end,
            _ => return Fast::Unsure,
        }
        let Some(day) = row.day else { return Fast::Unsure };
        let time = day.and_time(row.time.or(row.inline).unwrap_or(NaiveTime::MIN));
        let [open, high, low, close, volume] = row.values;
        Fast::Bar(Bar { time, open, high, low, close, volume }, i)
    }
}

/// The fields of a row read so far by the fast path.
struct FastRow {
    /// Open, high, low, close and volume (NaN, "not given", when the layout has none).
    values: [f64; 5],
    day: Option<NaiveDate>,
    time: Option<NaiveTime>,
    /// A time written in the date field.
    inline: Option<NaiveTime>,
}

impl FastRow {
    /// Reads the field starting at `i` (after its leading whitespace); returns where it ends,
    /// at the comma or line end after it, or `None` if the fast path does not read it.
    #[inline(always)]
    fn field(&mut self, b: &[u8], i: usize, role: Role, dates: &mut DateCache) -> Option<usize> {
        match role {
            Role::Skip => Some(field_end(b, i)),
            Role::Date | Role::Time => {
                // The plain forms (`YYYY-MM-DD`, `YYYYMMDD`, `HH:MM:SS`) end just after their
                // width; anything else is measured. (The date and time readers refuse a window
                // that reaches into the next field.)
                let ends = |width: usize| matches!(b.get(i + width), Some(b',' | b'\n'));
                let end = match role {
                    Role::Date if ends(10) => i + 10,
                    Role::Date if ends(19) => i + 19,
                    Role::Date if ends(8) => i + 8,
                    Role::Time if ends(8) => i + 8,
                    _ => measure(b, i),
                };
                let raw = b.get(i..trim_end(b, i, end))?;
                match (role, raw.len()) {
                    // A date and a time in one field (`2014-01-02 09:30:00`, what pandas
                    // writes, or `…T09:30`): a time column, when there is one, wins.
                    (Role::Date, 16 | 19) if matches!(raw[10], b' ' | b'T') => {
                        self.day = Some(dates.date(&raw[..10])?);
                        let t = &raw[11..];
                        self.inline = Some(hms(t).or_else(|| time_of(t))?);
                    }
                    (Role::Date, _) => self.day = Some(dates.date(raw)?),
                    _ => self.time = Some(hms(raw).or_else(|| time_of(raw))?),
                }
                Some(end)
            }
            number_role => {
                let (v, end) = number(b, i)?;
                *self.values.get_mut(number_role as usize)? = v;
                Some(end)
            }
        }
    }
}

/// What the fast path made of a line, and where the next line starts.
enum Fast {
    Bar(Bar, usize),
    Blank(usize),
    /// Not a line the fast path reads: the general path decides.
    Unsure,
}

/// The whitespace `str::trim` removes, within ASCII (a line never holds `\n`).
#[inline]
fn is_space(c: u8) -> bool {
    matches!(c, b' ' | b'\t' | b'\r' | b'\x0b' | b'\x0c')
}

#[inline]
fn skip_space(b: &[u8], mut i: usize) -> usize {
    // Most fields start with no whitespace at all: one comparison settles that.
    if b.get(i).is_none_or(|&c| c > b' ') {
        return i;
    }
    while b.get(i).is_some_and(|&c| is_space(c)) {
        i += 1;
    }
    i
}

/// Where the field starting at `i` ends: at the next comma or line end.
#[inline]
fn field_end(b: &[u8], mut i: usize) -> usize {
    while let Some(&c) = b.get(i) {
        if c == b',' || c == b'\n' {
            break;
        }
        i += 1;
    }
    i
}

/// `end` moved back over trailing whitespace, not before `start`.
#[inline]
fn trim_end(b: &[u8], start: usize, mut end: usize) -> usize {
    while end > start && b.get(end - 1).is_some_and(|&c| is_space(c)) {
        end -= 1;
    }
    end
}

/// The date of the last date field seen: intraday rows repeat a date hundreds of times, so
/// most rows compare their date field with the last one instead of building a date.
#[derive(Default)]
struct DateCache {
    /// The last plain date field, packed with its length (0: none yet).
    key: u128,
    date: Option<NaiveDate>,
}

impl DateCache {
    /// The date of a plain `YYYY-MM-DD` or `YYYYMMDD` field (no time in it); `None` for
    /// anything else, which the general path reads.
    #[inline]
    fn date(&mut self, raw: &[u8]) -> Option<NaiveDate> {
        let key = match *raw {
            [a, b, c, d, e, f, g, h, i, j] => u128::from_le_bytes([a, b, c, d, e, f, g, h, i, j, 0, 0, 0, 0, 0, 10]),
            [a, b, c, d, e, f, g, h] => u128::from_le_bytes([a, b, c, d, e, f, g, h, 0, 0, 0, 0, 0, 0, 0, 8]),
            _ => return None,
        };
        if key == self.key {
            return self.date;
        }
        let plain = if raw.len() == 10 {
            raw.iter().enumerate().all(|(i, c)| if i == 4 || i == 7 { *c == b'-' } else { c.is_ascii_digit() })
        } else {
            raw.iter().all(u8::is_ascii_digit)
        };
        let date = if plain { parse_date(std::str::from_utf8(raw).ok()?) } else { None };
        self.key = key;
        self.date = date;
        date
    }
}

/// A number field starting at `i` (after leading whitespace), and where the field ends: at the
/// comma or line end after it, once trailing whitespace is skipped. `None` when the field does
/// not hold a finite number, or holds something `str::parse` alone reads (the general path then
/// gives the message).
#[inline]
fn number(b: &[u8], i: usize) -> Option<(f64, usize)> {
    if let Some((v, end)) = decimal::parse(b, i) {
        let after = skip_space(b, end);
        if matches!(b.get(after), None | Some(b',' | b'\n')) {
            return Some((v, after));
        }
    }
    other_number(b, i)
}

/// A number field in another syntax (an exponent, say), read whole as the general path reads
/// it. Out of line, so that the scan for the field's end is not done for every field.
#[cold]
#[inline(never)]
fn other_number(b: &[u8], i: usize) -> Option<(f64, usize)> {
    let end = field_end(b, i);
    let raw = std::str::from_utf8(b.get(i..trim_end(b, i, end))?).ok()?;
    let v: f64 = raw.parse().ok()?;
    v.is_finite().then_some((v, end))
}

/// [`field_end`] for a date or time not in its plain width; out of line for the same reason.
#[cold]
#[inline(never)]
fn measure(b: &[u8], i: usize) -> usize {
    field_end(b, i)
}

fn layout(header: &str, line: usize, options: &CsvOptions) -> Result<Layout, Problem> {
    let delimiter = options.delimiter.unwrap_or_else(|| layouts::delimiter(header));
    let mut split = Vec::new();
    layouts::split(header, delimiter, &mut split);
    let names: Vec<String> = split.iter().map(|h| h.trim_matches('"').to_lowercase()).collect();
    let named = columns::Named::new(&names, &options.columns, line)?;
    let find = |field: Field, wanted: &[&str]| named.find(&names, field, wanted);
    let missing = |what: Field| Problem {
        line,
        message: format!(
            "the header has no `{what}` column (found: {}); expected columns such as date,open,high,low,close,volume, or name it with --csv-column {what}=HEADER",
            names.join(",")
        ),
    };
    let needed = |field: Field, wanted: &[&str]| find(field, wanted).ok_or_else(|| missing(field));
    Ok(Layout {
        fields: names.len(),
        date: needed(Field::Date, &["date", "datetime", "timestamp"])?,
        time: find(Field::Time, &["time"]),
        open: needed(Field::Open, &["open"])?,
        high: needed(Field::High, &["high"])?,
        low: needed(Field::Low, &["low"])?,
        close: needed(Field::Close, &["close"])?,
        volume: find(Field::Volume, &["volume", "vol"]),
        delimiter,
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

fn row(l: &Layout, f: &[&str], date_format: Option<&str>) -> Result<Bar, String> {
    let time = match date_format {
        Some(format) => formatted(f[l.date], format, l.time.map(|t| f[t]))?,
        None => timestamp(f[l.date], l.time.map(|t| f[t]))?,
    };
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
        None => f64::NAN,
    };
    let bar = Bar { time, open, high, low, close, volume };
    check_bar(&bar)?;
    Ok(bar)
}

/// A date field in the user's format (with a time in it, or a time column beside it).
fn formatted(date: &str, format: &str, time: Option<&str>) -> Result<NaiveDateTime, String> {
    let at = NaiveDateTime::parse_from_str(date, format)
        .or_else(|_| NaiveDate::parse_from_str(date, format).map(|d| d.and_time(NaiveTime::MIN)))
        .map_err(|_| format!("date `{date}` does not match --csv-date-format `{format}`"))?;
    match time {
        Some(t) => Ok(at.date().and_time(parse_time(t).ok_or_else(|| format!("time `{t}` is not HH:MM or HH:MM:SS"))?)),
        None => Ok(at),
    }
}

fn timestamp(date: &str, time: Option<&str>) -> Result<NaiveDateTime, String> {
    if time.is_none()
        && let Some(at) = layouts::instant(date)
    {
        return Ok(at);
    }
    let (day, inline_time) = match date.split_once([' ', 'T']) {
        Some((d, t)) => (d, Some(t)),
        None => (date, None),
    };
    let d = parse_date(day).or_else(|| layouts::us_date(day)).ok_or_else(|| {
        format!(
            "date `{date}` is not YYYY-MM-DD, MM/DD/YYYY, epoch seconds or milliseconds, or an ISO time with an offset"
        )
    })?;
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
    time_of(t.as_bytes())
}

/// `HH:MM:SS` read eight bytes at once; `None` for anything else. Agrees with `time_of`.
#[inline]
fn hms(b: &[u8]) -> Option<NaiveTime> {
    let v = u64::from_le_bytes(<[u8; 8]>::try_from(b).ok()?);
    // Digits are 0x30 to 0x39: their high nibble is 3 and the low one at most 9 (adding 6 to
    // it must not carry); the colons sit in bytes 2 and 5.
    const DIGITS: u64 = 0xffff_00ff_ff00_ffff;
    const COLONS: u64 = 0x0000_3a00_003a_0000;
    let d = v & DIGITS;
    let plain = v & !DIGITS == COLONS
        && d & 0xf0f0_00f0_f000_f0f0 == 0x3030_0030_3000_3030
        && (d + 0x0606_0006_0600_0606) & 0xf0f0_00f0_f000_f0f0 == 0x3030_0030_3000_3030;
    if !plain {
        return None;
    }
    let n = v & 0x0f0f_000f_0f00_0f0f;
    let two = |shift: u32| ((n >> shift) & 0xff) as u32 * 10 + ((n >> (shift + 8)) & 0xff) as u32;
    NaiveTime::from_hms_opt(two(0), two(24), two(48))
}

fn time_of(b: &[u8]) -> Option<NaiveTime> {
    // Two ASCII digits at `i` as a number.
    let two = |i: usize| {
        let (tens, ones) = (b.get(i)?.wrapping_sub(b'0'), b.get(i + 1)?.wrapping_sub(b'0'));
        (tens <= 9 && ones <= 9).then(|| u32::from(tens) * 10 + u32::from(ones))
    };
    match b.len() {
        8 if b[2] == b':' && b[5] == b':' => NaiveTime::from_hms_opt(two(0)?, two(3)?, two(6)?),
        5 if b[2] == b':' => NaiveTime::from_hms_opt(two(0)?, two(3)?, 0),
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
                (
                    8,
                    "timestamp 2020-01-03 00:00:00 is earlier than the one before (2020-01-07 00:00:00): rows must run oldest first",
                ),
                (9, "5 fields, but the header names 6"),
                (10, "close `abc` is not a number"),
            ]
        );
    }

    #[test]
    fn refuses_prices_outside_the_bars_range_or_past_any_share() {
        let text = "date,open,high,low,close,volume\n\
                    2020-01-02,10,11,9,10.5,100\n\
                    2020-01-03,12,11,9,10.5,100\n\
                    2020-01-06,10,11,9,8.5,100\n\
                    2020-01-07,10,11,9,1e17,100\n\
                    2020-01-08,1e308,1e308,1e308,1e308,100\n\
                    2020-01-09,10,11,9,10,1e16\n";
        let l = parse_csv(text).expect("header is fine");
        let got: Vec<(usize, &str)> = l.problems.iter().map(|p| (p.line, p.message.as_str())).collect();
        assert_eq!(
            got,
            vec![
                (3, "open 12 is outside the bar's range, low 9 to high 11"),
                (4, "close 8.5 is outside the bar's range, low 9 to high 11"),
                (5, "close price 1e17 is over 1e9, more than any share trades at"),
                (6, "open price 1e308 is over 1e9, more than any share trades at"),
                (7, "volume 1e16 is over 1e15"),
            ]
        );
    }

    #[test]
    fn a_file_without_volume_gives_bars_whose_volume_is_not_given() {
        let l = parse_csv("date,open,high,low,close\n2020-01-02,10,11,9,10.5\n2020-01-03,10,11,9,10\n").expect("loads");
        assert!(l.problems.is_empty(), "{:?}", l.problems);
        assert!(l.bars.iter().all(|b| b.volume.is_nan()));
        let written = parse_csv("date,open,high,low,close,volume\n2020-01-02,10,11,9,10.5,NaN\n").expect("header");
        assert_eq!(written.problems[0].message, "volume is NaN");
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
        assert!(intraday.bars[0].volume.is_nan(), "no volume column: volume not given");
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

/// The loader as it was before the fast path, kept word for word as the reference the property
/// tests compare with: `str::lines`, `split(',')`, `str::trim`, `str::parse` and the checks.
#[cfg(test)]
mod reference {
    use super::{Layout, Loaded, Problem};
    use crate::Bar;
    use chrono::{NaiveDate, NaiveDateTime, NaiveTime};

    pub(super) fn parse_csv(text: &str) -> Result<Loaded, Problem> {
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
            // A field wholly in double quotes is read without them (RFC 4180).
            fields.extend(line.split(',').map(|f| {
                let f = f.trim();
                match f.strip_prefix('"').and_then(|f| f.strip_suffix('"')) {
                    Some(inner) if !inner.contains('"') => inner.trim(),
                    _ => f,
                }
            }));
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
                Ok(bar) => match follows(bars.last(), &bar) {
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
            delimiter: b',',
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
            None => f64::NAN,
        };
        let bar = Bar { time, open, high, low, close, volume };
        check_bar(&bar)?;
        Ok(bar)
    }

    fn timestamp(date: &str, time: Option<&str>) -> Result<NaiveDateTime, String> {
        let (day, inline_time) = match date.split_once([' ', 'T']) {
            Some((d, t)) => (d, Some(t)),
            None => (date, None),
        };
        let d = parse_date(day).ok_or_else(|| {
            format!("date `{date}` is not YYYY-MM-DD, MM/DD/YYYY, epoch seconds or milliseconds, or an ISO time with an offset")
        })?;
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

    /// Prices finite, positive and at most 1e9; open and close within [low, high]; volume
    /// finite, not negative and at most 1e15.
    fn check_bar(b: &Bar) -> Result<(), String> {
        // A NaN volume is one the file does not give (it has no volume column).
        let volume = if b.volume.is_nan() { 0.0 } else { b.volume };
        for (name, v) in [("open", b.open), ("high", b.high), ("low", b.low), ("close", b.close), ("volume", volume)] {
            if !v.is_finite() {
                return Err(format!("{name} is {v}"));
            }
        }
        for (name, v) in [("open", b.open), ("high", b.high), ("low", b.low), ("close", b.close)] {
            if v <= 0.0 {
                return Err(format!("{name} price {v} is not positive"));
            }
            if v > 1e9 {
                return Err(format!("{name} price {v:e} is over 1e9, more than any share trades at"));
            }
        }
        if b.high < b.low {
            return Err(format!("high {} is below low {}", b.high, b.low));
        }
        for (name, v) in [("open", b.open), ("close", b.close)] {
            if v < b.low || v > b.high {
                return Err(format!("{name} {v} is outside the bar's range, low {} to high {}", b.low, b.high));
            }
        }
        if volume < 0.0 {
            return Err(format!("volume {} is negative", b.volume));
        }
        if volume > 1e15 {
            return Err(format!("volume {:e} is over 1e15", b.volume));
        }
        Ok(())
    }

    /// A bar may follow `prev` only strictly later in time.
    fn follows(prev: Option<&Bar>, b: &Bar) -> Result<(), String> {
        match prev {
            Some(p) if b.time == p.time => Err(format!("duplicate timestamp {}", b.time)),
            Some(p) if b.time < p.time => Err(format!(
                "timestamp {} is earlier than the one before ({}): rows must run oldest first",
                b.time, p.time
            )),
            _ => Ok(()),
        }
    }
}

/// Property tests: the fast number reader against `str::parse`, and the whole loader, read in
/// any number of pieces, against the reference on generated files.
#[cfg(test)]
mod properties {
    use super::{CsvOptions, Loaded, Problem, decimal, number, parse, reference, stream};
    use proptest::prelude::*;

    /// The fast path's reading of `s` as a number field (followed by a comma), if it reads it.
    fn fast(s: &str) -> Option<f64> {
        let text = format!("{s},");
        number(text.as_bytes(), 0).map(|(v, end)| {
            assert_eq!(end, s.len(), "`{s}` ends where the field does");
            v
        })
    }

    /// What the general path makes of `s`: `str::parse`, finite values only.
    fn general(s: &str) -> Option<f64> {
        s.parse::<f64>().ok().filter(|v| v.is_finite())
    }

    fn same_number(s: &str) -> Result<(), TestCaseError> {
        let (got, want) = (fast(s), general(s));
        prop_assert_eq!(got.map(f64::to_bits), want.map(f64::to_bits), "`{}`: {:?} against {:?}", s, got, want);
        Ok(())
    }

    /// Decimal strings of the shapes price files hold, and some they should not.
    fn decimal_text() -> impl Strategy<Value = String> {
        (
            prop_oneof![Just(""), Just("-"), Just("+")],
            "[0-9]{0,20}",
            any::<bool>(),
            "[0-9]{0,24}",
            prop::option::of((prop_oneof![Just(""), Just("-"), Just("+")], "[0-9]{1,3}", any::<bool>())),
        )
            .prop_map(|(sign, int, dot, frac, exp)| {
                let mut s = format!("{sign}{int}");
                if dot {
                    s.push('.');
                    s.push_str(&frac);
                }
                if let Some((esign, digits, upper)) = exp {
                    s.push(if upper { 'E' } else { 'e' });
                    s.push_str(esign);
                    s.push_str(&digits);
                }
                s
            })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(20_000))]

        #[test]
        fn decimal_strings_read_as_str_parse_reads_them(s in decimal_text()) {
            same_number(&s)?;
        }

        #[test]
        fn prices_with_many_digits(int in 0u64..100_000, frac in any::<u64>(), places in 0usize..19) {
            let frac = format!("{frac:020}");
            same_number(&format!("{int}.{}", &frac[..places]))?;
        }

        #[test]
        fn every_mantissa_and_scale(w in 0u64..(1 << 63), scale in 0usize..19) {
            let want: f64 = format!("{w}e-{scale}").parse().map_err(|e| TestCaseError::fail(format!("{e}")))?;
            if let Some(got) = decimal::value(w, scale) {
                prop_assert_eq!(got.to_bits(), want.to_bits(), "{} / 10^{}", w, scale);
            }
        }

        #[test]
        fn shortest_forms_of_doubles(bits in any::<u64>()) {
            let v = f64::from_bits(bits);
            if v.is_finite() {
                same_number(&format!("{v}"))?;
                same_number(&format!("{v:e}"))?;
                same_number(&format!("{:.6}", v))?;
            }
        }

        /// Exactly halfway between two doubles: ties go to the even one.
        #[test]
        fn halfway_cases(m in (1u64 << 52)..(1 << 53), quarter in any::<bool>()) {
            if quarter {
                // Doubles below 2^52 step by 1/2; halfway is a quarter past one.
                let half = m / 2;
                let tail = if m % 2 == 0 { "25" } else { "75" };
                same_number(&format!("{half}.{tail}"))?;
            } else {
                same_number(&format!("{m}.5"))?;
                same_number(&format!("{m}.50"))?;
            }
        }
    }

    #[test]
    fn plain_numbers_take_the_fast_path() {
        for s in ["469.55755608739787", "0.0625", "12", "-3.5", "+7.25", ".5", "5.", "0.000123", "4006500.0", "-0"] {
            let text = format!("{s},");
            let (v, _) = decimal::parse(text.as_bytes(), 0).unwrap_or_else(|| panic!("`{s}` not read"));
            assert_eq!(Some(v.to_bits()), general(s).map(f64::to_bits), "{s}");
        }
        // Left to `str::parse`: exponents, more than 18 digits, names.
        for s in ["1e-3", "1.5E+2", "1234567890.1234567891", "NaN", "inf", "", ".", "-"] {
            assert_eq!(decimal::parse(format!("{s},").as_bytes(), 0), None, "{s}");
            assert_eq!(fast(s).map(f64::to_bits), general(s).map(f64::to_bits), "{s}");
        }
    }

    /// One generated row: how it is broken, if at all, and what goes in it.
    #[derive(Debug, Clone)]
    struct RowSpec {
        kind: u8,
        /// How the timestamp moves from the row before: 0 stays, 1 goes back, else forward.
        step: u8,
        prices: [u32; 4],
        /// How the prices are written.
        format: u8,
        volume: u32,
        spaces: u8,
    }

    fn row_spec() -> impl Strategy<Value = RowSpec> {
        (0u8..80, any::<u8>(), any::<[u32; 4]>(), any::<u8>(), any::<u32>(), any::<u8>()).prop_map(
            |(kind, step, prices, format, volume, spaces)| RowSpec { kind, step, prices, format, volume, spaces },
        )
    }

    #[derive(Debug, Clone, Copy, PartialEq)]
    enum Col {
        Index,
        Date,
        Time,
        Open,
        High,
        Low,
        Close,
        Adj,
        Volume,
        Extra,
    }

    /// Headers in the layouts the loader knows, and the columns their rows hold.
    fn layouts() -> Vec<(&'static str, Vec<Col>)> {
        use Col::*;
        vec![
            ("date,open,high,low,close,volume", vec![Date, Open, High, Low, Close, Volume]),
            ("Date,Open,High,Low,Close,Adj Close,Volume", vec![Date, Open, High, Low, Close, Adj, Volume]),
            ("Date,Time,Open,High,Low,Close,Volume", vec![Date, Time, Open, High, Low, Close, Volume]),
            (",date,open,high,low,close,volume", vec![Index, Date, Open, High, Low, Close, Volume]),
            ("date, time ,open,high,low,close", vec![Date, Time, Open, High, Low, Close]),
            ("\u{feff}timestamp,close,open,low,high,vol,note", vec![Date, Close, Open, Low, High, Volume, Extra]),
            // Seven names over rows of eight fields: the header lacks `Time`.
            ("Date,Open,High,Low,Close,Volume,OpenInterest", vec![Date, Time, Open, High, Low, Close, Volume, Extra]),
            ("\"Date\",\"Open\",\"High\",\"Low\",\"Close\"", vec![Date, Open, High, Low, Close]),
        ]
    }

    fn price(p: u32, format: u8, salt: u32) -> String {
        let v = 0.5 + f64::from(p % 2_000_000) / 1000.0;
        match format % 8 {
            0 => format!("{v}"),
            1 => format!("{v:.2}"),
            2 => format!("{}", p % 1000 + 1),
            // Many digits, as computed prices have.
            3 | 4 => format!("{}", v * (1.0 + f64::from(salt % 997) * 1e-7)),
            5 => format!("{v:.4}"),
            6 => format!("{:.1}", v),
            _ => format!("{:e}", v),
        }
    }

    /// A file built from the specs: mostly plain rows, some broken in every way the loader
    /// reports, blank lines, odd whitespace, other number and date forms.
    fn file(layout: usize, rows: &[RowSpec], crlf: bool, final_newline: bool, leading_blank: bool) -> String {
        let (header, cols) = layouts().swap_remove(layout % layouts().len());
        let nl = if crlf { "\r\n" } else { "\n" };
        let mut text = String::new();
        if leading_blank {
            text.push_str(" \t");
            text.push_str(nl);
        }
        text.push_str(header);
        let mut minute: i64 = 24 * 60 * 365 * 20;
        for (n, r) in rows.iter().enumerate() {
            text.push_str(nl);
            minute += match r.step % 16 {
                0 => 0,
                1 => -i64::from(r.step / 16) - 1,
                s => i64::from(s) * if r.kind % 3 == 0 { 1440 } else { 1 },
            };
            let t = chrono::DateTime::from_timestamp(minute * 60, 0).map(|t| t.naive_utc()).unwrap_or_default();
            let mut p = r.prices.map(|p| price(p, r.format, r.volume));
            // Plain rows have a high at the top and a low at the bottom.
            let mut v: Vec<f64> = r.prices.iter().map(|p| f64::from(*p)).collect();
            v.sort_by(f64::total_cmp);
            let order: Vec<usize> = {
                let mut idx: Vec<usize> = (0..4).collect();
                idx.sort_by(|a, b| r.prices[*a].cmp(&r.prices[*b]));
                idx
            };
            let (low, high) = (p[order[0]].clone(), p[order[3]].clone());
            let (open, close) = (p[order[1]].clone(), p[order[2]].clone());
            p = [open, high, low, close];
            let mut volume = format!("{}", r.volume % 1_000_000);
            let mut date = t.date().format("%Y-%m-%d").to_string();
            let mut time = t.time().format("%H:%M:%S").to_string();
            let [mut open, mut high, mut low, mut close] = p;
            let mut extra_field = false;
            let mut drop_field = false;
            match r.kind {
                0 => {
                    text.push_str(["", " ", "\t ", "\u{a0}", "\r", "\x0b\x0c", "\u{2003}"][usize::from(r.spaces % 7)]);
                    continue;
                }
                1 => high = "NaN".into(),
                2 => close = ["inf", "-inf", "infinity", "+Inf"][usize::from(r.spaces % 4)].into(),
                3 => {
                    open =
                        ["abc", "", "1.2.3", "--1", "1e", "0x10", "\"12.5\"", "12 5"][usize::from(r.spaces % 8)].into()
                }
                4 => drop_field = true,
                5 => extra_field = true,
                6 => std::mem::swap(&mut high, &mut low),
                7 => open = ["0", "-0", "0.0", "-1.5"][usize::from(r.spaces % 4)].into(),
                8 => volume = "-5".into(),
                9 => {
                    date = ["2020-02-30", "2020-13-01", "2020/01/02", "20-01-02", "2020-1-2", ""]
                        [usize::from(r.spaces % 6)]
                    .into()
                }
                10 => date = t.date().format("%Y%m%d").to_string(),
                11 => date = format!("{} {}", date, time),
                12 => date = format!("{}T{}", date, &time[..5]),
                13 => time = ["25:00:00", "9:30", "09:30", "09:30:5", "ab:cd:ef"][usize::from(r.spaces % 5)].into(),
                14 => low = format!("{}e0", low),
                15 => close = format!("+{close}"),
                16 => {
                    open = [
                        format!(" {open}\t"),
                        format!("\x0b{open}\x0c"),
                        format!("{open}\r"),
                        format!("\x1c{open}\x1f"),
                    ][usize::from(r.spaces % 4)]
                    .clone()
                }
                17 => high = format!("\u{a0}{high}"),
                18 => close = format!("{close}é"),
                19 => volume = format!("{}.{}", r.volume, "7".repeat(usize::from(r.spaces % 24))),
                20 => open = format!("000{open}"),
                21 => volume = ["1e3", ".5", "5.", "+0", "-0"][usize::from(r.spaces % 5)].into(),
                22 => date = format!(" {date} "),
                _ => {}
            }
            let mut fields: Vec<String> = cols
                .iter()
                .map(|c| match c {
                    Col::Index => format!("{n}"),
                    Col::Date => date.clone(),
                    Col::Time => time.clone(),
                    Col::Open => open.clone(),
                    Col::High => high.clone(),
                    Col::Low => low.clone(),
                    Col::Close => close.clone(),
                    Col::Adj => "1.0".into(),
                    Col::Volume => volume.clone(),
                    Col::Extra => "x".into(),
                })
                .collect();
            if drop_field {
                fields.pop();
            }
            if extra_field {
                fields.push("9".into());
            }
            if r.spaces % 7 == 0 {
                let f = usize::from(r.spaces) % fields.len();
                fields[f] = format!("  {} ", fields[f]);
            }
            text.push_str(&fields.join(","));
        }
        if final_newline {
            text.push_str(nl);
        }
        text
    }

    /// A load's layout, bars (prices as bits, to compare them bit for bit) and problems.
    type Key = Result<(String, Vec<(String, [u64; 5])>, Vec<Problem>), Problem>;

    fn key(r: &Result<Loaded, Problem>) -> Key {
        r.as_ref().map_err(Clone::clone).map(|l| {
            (
                format!("{:?}", l.layout),
                l.bars
                    .iter()
                    .map(|b| (b.time.to_string(), [b.open, b.high, b.low, b.close, b.volume].map(f64::to_bits)))
                    .collect(),
                l.problems.clone(),
            )
        })
    }

    /// A reader that hands out at most `most` bytes a call, and is interrupted every third call.
    struct Trickle<'t> {
        bytes: &'t [u8],
        most: usize,
        calls: usize,
    }

    impl std::io::Read for Trickle<'_> {
        fn read(&mut self, out: &mut [u8]) -> std::io::Result<usize> {
            self.calls += 1;
            if self.calls.is_multiple_of(3) {
                return Err(std::io::ErrorKind::Interrupted.into());
            }
            let n = self.most.min(out.len()).min(self.bytes.len());
            let (given, rest) = self.bytes.split_at(n);
            out[..n].copy_from_slice(given);
            self.bytes = rest;
            Ok(n)
        }
    }

    /// `text` streamed in blocks of `block` bytes, each in `pieces` pieces, from a reader that
    /// gives `most` bytes a call, with the size hint `hint`.
    fn streamed(
        text: &str,
        block: usize,
        pieces: Option<usize>,
        most: usize,
        hint: Option<u64>,
    ) -> Result<Loaded, Problem> {
        let input = Trickle { bytes: text.as_bytes(), most, calls: 0 };
        stream::stream(input, &CsvOptions::default(), hint, block, pieces).map_err(|e| match e {
            super::ReadError::Refused(p) => p,
            super::ReadError::Io(e) => Problem { line: 0, message: format!("I/O error from an in-memory reader: {e}") },
        })
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(400))]

        #[test]
        fn files_load_as_the_reference_loads_them(
            layout in 0usize..8,
            rows in prop::collection::vec(row_spec(), 0..120),
            crlf in any::<bool>(),
            final_newline in any::<bool>(),
            leading_blank in any::<bool>(),
            pieces in 1usize..9,
        ) {
            let text = file(layout, &rows, crlf, final_newline, leading_blank);
            let want = key(&reference::parse_csv(&text));
            prop_assert_eq!(&key(&parse(&text, None, &CsvOptions::default())), &want, "one piece:\n{}", text);
            prop_assert_eq!(&key(&parse(&text, Some(pieces), &CsvOptions::default())), &want, "{} pieces:\n{}", pieces, text);
        }

        /// The streaming loader, in blocks from one byte to a few hundred (most lines cross a
        /// block's end), each block in any number of pieces, whatever the size hint says and
        /// however the reader hands out its bytes.
        #[test]
        fn files_streamed_in_small_blocks_load_as_the_whole_text_does(
            layout in 0usize..8,
            rows in prop::collection::vec(row_spec(), 0..120),
            crlf in any::<bool>(),
            final_newline in any::<bool>(),
            leading_blank in any::<bool>(),
            block in prop_oneof![1usize..8, 8usize..400],
            pieces in prop::option::of(1usize..5),
            most in 1usize..5000,
            hint in 0usize..4,
        ) {
            let text = file(layout, &rows, crlf, final_newline, leading_blank);
            let want = key(&parse(&text, None, &CsvOptions::default()));
            let hint = [None, Some(text.len() as u64), Some(0), Some(text.len() as u64 * 3)][hint];
            let got = streamed(&text, block, pieces, most, hint);
            prop_assert_eq!(&key(&got), &want, "blocks of {}, {:?} pieces, {} bytes a read, hint {:?}:\n{}", block, pieces, most, hint, text);
        }
    }

    #[test]
    fn a_large_file_read_in_pieces_matches_the_reference() {
        // Enough rows for the automatic split, with problems on either side of piece bounds.
        let specs: Vec<RowSpec> = (0..40_000u32)
            .map(|i| RowSpec {
                kind: if i % 997 == 0 { (i % 23) as u8 } else { 99 },
                step: if i % 1_511 == 0 {
                    0
                } else if i % 2_003 == 0 {
                    0x31
                } else {
                    2
                },
                prices: [i * 7 + 1, i * 13 + 5, i * 3 + 9, i * 11 + 2],
                format: (i % 8) as u8,
                volume: i * 31,
                spaces: (i % 251) as u8,
            })
            .collect();
        for layout in [0, 2, 3] {
            let text = file(layout, &specs, layout == 3, true, false);
            assert!(text.len() > 2 << 20, "{} bytes", text.len());
            let want = key(&reference::parse_csv(&text));
            assert_eq!(key(&super::parse_csv(&text)), want);
            for pieces in [2, 3, 32] {
                assert_eq!(key(&parse(&text, Some(pieces), &CsvOptions::default())), want, "{pieces} pieces");
            }
            let whole = super::parse_csv_reader(text.as_bytes(), &CsvOptions::default(), Some(text.len() as u64));
            assert_eq!(key(&whole.map_err(|e| Problem { line: 0, message: e.to_string() })), want, "streamed");
            for block in [1 << 16, (2 << 20) + 7] {
                assert_eq!(key(&streamed(&text, block, None, 1 << 20, None)), want, "streamed in blocks of {block}");
            }
        }
    }
}
