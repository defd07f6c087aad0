//! Columns the user names for a bar's fields (`--csv-column close="Adj Close"`), over what the
//! header's names give: a named column is that field's whatever detection would find, and is
//! no other field's.

use super::Problem;

/// A field of a bar, read from one column of the file.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Date,
    Time,
    Open,
    High,
    Low,
    Close,
    Volume,
}

impl Field {
    pub const ALL: [Field; 7] =
        [Field::Date, Field::Time, Field::Open, Field::High, Field::Low, Field::Close, Field::Volume];

    pub fn name(self) -> &'static str {
        match self {
            Field::Date => "date",
            Field::Time => "time",
            Field::Open => "open",
            Field::High => "high",
            Field::Low => "low",
            Field::Close => "close",
            Field::Volume => "volume",
        }
    }
}

impl std::fmt::Display for Field {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Field {
    type Err = String;

    /// A field by its name, case and surrounding spaces ignored.
    fn from_str(s: &str) -> Result<Field, String> {
        let wanted = s.trim().to_lowercase();
        Field::ALL.into_iter().find(|f| f.name() == wanted).ok_or_else(|| {
            let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
            format!("`{}` is not a field of a bar: give one of {}", s.trim(), names.join(", "))
        })
    }
}

/// The columns the user named, by field, found among the header's names.
pub(super) struct Named(Vec<(Field, usize)>);

impl Named {
    /// Finds each named column among `names` (the header's, trimmed, unquoted and lower case),
    /// refusing a header the file does not have, a field named twice, and a column named for
    /// two fields.
    pub(super) fn new(names: &[String], columns: &[(Field, String)], line: usize) -> Result<Named, Problem> {
        let refuse = |message: String| Problem { line, message };
        let mut named: Vec<(Field, usize)> = Vec::with_capacity(columns.len());
        for (field, header) in columns {
            let header = header.trim();
            let wanted = header.trim_matches('"').trim().to_lowercase();
            let Some(i) = names.iter().position(|n| *n == wanted) else {
                return Err(refuse(format!(
                    "--csv-column {field}={header}: the header has no column `{header}` (found: {})",
                    names.join(",")
                )));
            };
            if named.iter().any(|(f, _)| f == field) {
                return Err(refuse(format!("--csv-column names a column for {field} twice")));
            }
            if let Some((other, _)) = named.iter().find(|(_, j)| *j == i) {
                return Err(refuse(format!(
                    "--csv-column {other} and --csv-column {field} both name the column `{header}`: a column holds one field"
                )));
            }
            named.push((*field, i));
        }
        Ok(Named(named))
    }

    /// The column of `field`: the one named for it, or else the first of `names` that is one
    /// of `wanted` and is not named for another field.
    pub(super) fn find(&self, names: &[String], field: Field, wanted: &[&str]) -> Option<usize> {
        if let Some((_, i)) = self.0.iter().find(|(f, _)| *f == field) {
            return Some(*i);
        }
        let taken = |i: usize| self.0.iter().any(|(_, j)| *j == i);
        names.iter().enumerate().find(|(i, n)| wanted.contains(&n.as_str()) && !taken(*i)).map(|(i, _)| i)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{CsvOptions, Loaded, parse_csv, parse_csv_with};
    use super::*;

    fn with_columns(text: &str, columns: &[(Field, &str)]) -> Result<Loaded, Problem> {
        let columns = columns.iter().map(|(f, h)| (*f, h.to_string())).collect();
        parse_csv_with(text, &CsvOptions { columns, ..CsvOptions::default() })
    }

    const YAHOO: &str = "Date,Open,High,Low,Close,Adj Close,Volume\n\
                         2020-01-02,10,11,9,10.5,10.25,100\n\
                         2020-01-03,10,11,9,10,9.75,100\n";

    #[test]
    fn a_named_column_is_read_for_its_field_instead_of_the_detected_one() {
        assert_eq!(parse_csv(YAHOO).expect("loads").bars[0].close, 10.5, "the unadjusted close by default");
        let adjusted = with_columns(YAHOO, &[(Field::Close, "Adj Close")]).expect("loads");
        assert_eq!(adjusted.layout.close, 5);
        assert_eq!(adjusted.bars.iter().map(|b| b.close).collect::<Vec<_>>(), [10.25, 9.75]);
        // Case and surrounding spaces are ignored, as in the header's own names.
        let spaced = with_columns(YAHOO, &[(Field::Close, "  adj CLOSE ")]).expect("loads");
        assert_eq!(spaced.layout.close, 5);
    }

    #[test]
    fn names_detection_does_not_know_can_be_named() {
        let text = "Timestamp,Open,High,Low,Last,Vol\n2020-01-02 09:30:00,10,11,9,10.5,100\n";
        let e = parse_csv(text).expect_err("no close");
        assert!(e.message.ends_with("or name it with --csv-column close=HEADER"), "{e}");
        let l = with_columns(text, &[(Field::Close, "Last")]).expect("loads");
        assert_eq!((l.bars[0].close, l.bars[0].volume), (10.5, 100.0));
        let german =
            "Datum;Eröffnung;Hoch;Tief;Schluss;Umsatz\n03.01.2012;10;11;9;10,5;100\n04.01.2012;10;11;9;10;200\n";
        let columns: Vec<(Field, String)> = [
            (Field::Date, "Datum"),
            (Field::Open, "Eröffnung"),
            (Field::High, "hoch"),
            (Field::Low, "TIEF"),
            (Field::Close, "Schluss"),
            (Field::Volume, "Umsatz"),
        ]
        .map(|(f, h)| (f, h.to_string()))
        .into();
        let options = CsvOptions { columns, date_format: Some("%d.%m.%Y".into()), ..CsvOptions::default() };
        let l = parse_csv_with(german, &options).expect("loads");
        assert_eq!(l.bars.len(), 1, "{:?}", l.problems);
        assert_eq!(l.bars[0].time.to_string(), "2012-01-04 00:00:00");
        // Decimal commas are not read: the row says so.
        assert_eq!(l.problems[0].message, "close `10,5` is not a number");
    }

    #[test]
    fn a_named_column_is_no_other_fields() {
        // The date column is named `time`: it is not also read as the time of day.
        let text = "time,open,high,low,close\n2020-01-02 09:30:00,10,11,9,10.5\n";
        let l = with_columns(text, &[(Field::Date, "time")]).expect("loads");
        assert_eq!((l.layout.date, l.layout.time), (0, None));
        assert_eq!(l.bars[0].time.to_string(), "2020-01-02 09:30:00");
        // Named for open, the `close` column is not the close: none is left.
        let e = with_columns(YAHOO, &[(Field::Open, "close")]).expect_err("no close");
        assert!(e.message.starts_with("the header has no `close` column"), "{e}");
    }

    #[test]
    fn a_column_the_header_lacks_or_named_twice_refuses_the_file() {
        let text = format!("\n{YAHOO}");
        let e = with_columns(&text, &[(Field::Close, "Settle")]).expect_err("no such column");
        assert_eq!(e.line, 2);
        assert_eq!(
            e.message,
            "--csv-column close=Settle: the header has no column `Settle` (found: date,open,high,low,close,adj close,volume)"
        );
        let e =
            with_columns(YAHOO, &[(Field::Open, "Adj Close"), (Field::Close, "adj close")]).expect_err("one column");
        assert_eq!(
            e.message,
            "--csv-column open and --csv-column close both name the column `adj close`: a column holds one field"
        );
        let e = with_columns(YAHOO, &[(Field::Close, "Adj Close"), (Field::Close, "Close")]).expect_err("twice");
        assert_eq!(e.message, "--csv-column names a column for close twice");
    }

    #[test]
    fn fields_are_known_by_their_names() {
        assert_eq!(" Close ".parse::<Field>(), Ok(Field::Close));
        assert_eq!("VOLUME".parse::<Field>(), Ok(Field::Volume));
        assert_eq!(
            "last".parse::<Field>(),
            Err("`last` is not a field of a bar: give one of date, time, open, high, low, close, volume".to_string())
        );
        assert!(Field::ALL.iter().all(|f| f.name().parse::<Field>() == Ok(*f)));
    }
}
