//! Reading `--data SYMBOL=PATH` arguments into bar series, with clear messages.

use crate::exit;
use std::collections::BTreeMap;
use strat_data::{Field, ReadError, parse_csv_reader};
use strat_engine::market::Bar;

/// One `SYMBOL=PATH` read: its bars, the rows refused, and how many rows it has.
pub struct Loaded {
    pub symbol: String,
    pub path: String,
    pub bars: Vec<Bar>,
    /// `path:line: reason`, one per refused row.
    pub refused: Vec<String>,
}

/// How the `--data` files are read, beyond what their headers show.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct CsvFlags {
    /// Leave out rows of the data that fail validation, listing and counting them, instead of
    /// refusing the file
    #[arg(long)]
    pub skip_bad_rows: bool,
    /// The CSV separator when the header does not show it: `,`, `;` or `tab`
    #[arg(long, value_name = "SEP", value_parser = parse_delimiter)]
    pub csv_delimiter: Option<u8>,
    /// How the CSV files write dates when it is not a form the loader knows, as strftime
    /// (`%d.%m.%Y`, `%d.%m.%Y %H:%M`)
    #[arg(long, value_name = "FORMAT")]
    pub csv_date_format: Option<String>,
    /// Read a field from the CSV column of this header instead of the one detection finds
    /// (repeatable): FIELD is date, time, open, high, low, close or volume, HEADER a name in the
    /// header, case and surrounding spaces ignored (`--csv-column close="Adj Close"`)
    #[arg(long, value_name = "FIELD=HEADER", value_parser = parse_column)]
    pub csv_column: Vec<(Field, String)>,
}

impl CsvFlags {
    fn options(&self) -> strat_data::CsvOptions {
        strat_data::CsvOptions {
            delimiter: self.csv_delimiter,
            date_format: self.csv_date_format.clone(),
            columns: self.csv_column.clone(),
        }
    }

    fn bad_rows(&self) -> BadRows {
        BadRows::from_flag(self.skip_bad_rows)
    }
}

fn parse_delimiter(s: &str) -> Result<u8, String> {
    match s {
        "," | "comma" => Ok(b','),
        ";" | "semicolon" => Ok(b';'),
        "tab" | "\\t" | "\t" => Ok(b'\t'),
        other => Err(format!("`{other}` is not a separator: give `,`, `;` or `tab`")),
    }
}

fn parse_column(s: &str) -> Result<(Field, String), String> {
    let Some((field, header)) = s.split_once('=') else {
        return Err(format!("`{s}` is not FIELD=HEADER: give e.g. `close=\"Adj Close\"`"));
    };
    let field: Field = field.parse()?;
    if header.trim().is_empty() {
        return Err(format!("`{s}` names no column: give the header of the {field} column after `=`"));
    }
    Ok((field, header.to_string()))
}

/// What to do with a row that fails validation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum BadRows {
    /// Refuse the file, naming the row (the default: nothing is dropped unasked).
    #[default]
    Refuse,
    /// Leave the row out, listing and counting it (`--skip-bad-rows`).
    Skip,
}

impl BadRows {
    pub fn from_flag(skip: bool) -> BadRows {
        if skip { BadRows::Skip } else { BadRows::Refuse }
    }
}

/// Reads one `SYMBOL=PATH`; the error is the message to show (without `error: `).
pub fn load_one(spec: &str, bad: BadRows) -> Result<Loaded, String> {
    load_with(spec, bad, &strat_data::CsvOptions::default())
}

fn load_with(spec: &str, bad: BadRows, options: &strat_data::CsvOptions) -> Result<Loaded, String> {
    let Some((sym, path)) = spec.split_once('=').filter(|(s, p)| !s.is_empty() && !p.is_empty()) else {
        return Err(format!("`{spec}` must be SYMBOL=PATH, e.g. `SPY=spy.csv`"));
    };
    let file = std::fs::File::open(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    let size = file.metadata().ok().filter(std::fs::Metadata::is_file).map(|m| m.len());
    let loaded = parse_csv_reader(file, options, size).map_err(|e| match e {
        ReadError::Io(e) => format!("cannot read `{path}`: {e}"),
        ReadError::Refused(p) => format!("{path}:{}: {}", p.line, p.message),
    })?;
    let refused: Vec<String> = loaded.problems.iter().map(|p| format!("{path}:{}: {}", p.line, p.message)).collect();
    if let (BadRows::Refuse, Some(first)) = (bad, refused.first()) {
        let more = match refused.len() - 1 {
            0 => String::new(),
            n => format!(" ({n} more row{} of the file would be refused too)", if n == 1 { "" } else { "s" }),
        };
        return Err(format!(
            "{first}{more}\n  help: correct the row, or pass `--skip-bad-rows` to leave out the rows that fail (each is then listed and counted)"
        ));
    }
    if loaded.bars.is_empty() {
        // The user gave this file for this symbol: without one bar of it, the run would only
        // say the symbol has no data.
        return Err(match refused.first() {
            Some(first) => format!("every row of `{path}` was refused, so {sym} has no bars; the first: {first}"),
            None => format!("`{path}` has a header but no rows, so {sym} has no bars"),
        });
    }
    Ok(Loaded { symbol: sym.to_string(), path: path.to_string(), bars: loaded.bars, refused })
}

/// Loads every `SYMBOL=PATH`. A row that fails validation refuses its file, naming file, line
/// and reason, unless `--skip-bad-rows` skips such rows (each is then a warning, and the count another); a
/// file that cannot be read or understood is an error (exit code 2).
pub fn load(specs: &[String], flags: &CsvFlags) -> Result<BTreeMap<String, Vec<Bar>>, u8> {
    let (bad, options) = (flags.bad_rows(), flags.options());
    let mut data = BTreeMap::new();
    for spec in specs {
        let loaded = load_with(spec, bad, &options).map_err(|e| {
            if spec.split_once('=').is_some_and(|(s, p)| !s.is_empty() && !p.is_empty()) {
                eprintln!("error: {e}");
            } else {
                eprintln!("error: `--data {spec}` must be SYMBOL=PATH, e.g. `--data SPY=spy.csv`");
            }
            exit::USAGE
        })?;
        for w in &loaded.refused {
            eprintln!("warning: {w} (row skipped)");
        }
        if !loaded.refused.is_empty() {
            let (n, kept) = (loaded.refused.len(), loaded.bars.len());
            eprintln!(
                "warning: {n} row{} of `{}` skipped (--skip-bad-rows); {kept} loaded",
                if n == 1 { "" } else { "s" },
                loaded.path
            );
        }
        data.insert(loaded.symbol, loaded.bars);
    }
    Ok(data)
}
