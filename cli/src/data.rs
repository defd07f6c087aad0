//! Reading `--data SYMBOL=PATH` arguments into bar series, with clear messages.

use crate::exit;
use std::collections::BTreeMap;
use strat_data::parse_csv;
use strat_engine::market::Bar;

/// One `SYMBOL=PATH` read: its bars and the warnings about refused rows.
pub struct Loaded {
    pub symbol: String,
    pub path: String,
    pub bars: Vec<Bar>,
    /// `path:line: reason (row skipped)`, one per refused row.
    pub warnings: Vec<String>,
}

/// Reads one `SYMBOL=PATH`; the error is the message to show (without `error: `).
pub fn load_one(spec: &str) -> Result<Loaded, String> {
    let Some((sym, path)) = spec.split_once('=').filter(|(s, p)| !s.is_empty() && !p.is_empty()) else {
        return Err(format!("`{spec}` must be SYMBOL=PATH, e.g. `SPY=spy.csv`"));
    };
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{path}`: {e}"))?;
    let loaded = parse_csv(&text).map_err(|p| format!("{path}:{}: {}", p.line, p.message))?;
    let warnings = loaded.problems.iter().map(|p| format!("{path}:{}: {} (row skipped)", p.line, p.message)).collect();
    Ok(Loaded { symbol: sym.to_string(), path: path.to_string(), bars: loaded.bars, warnings })
}

/// Loads every `SYMBOL=PATH`. Refused rows are warnings naming file and line; a file that
/// cannot be read or understood is an error (exit code 2).
pub fn load(specs: &[String]) -> Result<BTreeMap<String, Vec<Bar>>, u8> {
    let mut data = BTreeMap::new();
    for spec in specs {
        let loaded = load_one(spec).map_err(|e| {
            if spec.split_once('=').is_some_and(|(s, p)| !s.is_empty() && !p.is_empty()) {
                eprintln!("error: {e}");
            } else {
                eprintln!("error: `--data {spec}` must be SYMBOL=PATH, e.g. `--data SPY=spy.csv`");
            }
            exit::USAGE
        })?;
        for w in &loaded.warnings {
            eprintln!("warning: {w}");
        }
        if loaded.bars.is_empty() {
            // The user gave this file for this symbol: without one bar of it, the run would
            // only say the symbol has no data.
            match loaded.warnings.first().map(|w| w.trim_end_matches(" (row skipped)")) {
                Some(first) => eprintln!(
                    "error: every row of `{}` was refused, so {} has no bars; the first: {first}",
                    loaded.path, loaded.symbol
                ),
                None => {
                    eprintln!("error: `{}` has a header but no rows, so {} has no bars", loaded.path, loaded.symbol)
                }
            }
            return Err(exit::USAGE);
        }
        data.insert(loaded.symbol, loaded.bars);
    }
    Ok(data)
}
