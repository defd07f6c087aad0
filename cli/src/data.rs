//! Reading `--data SYMBOL=PATH` arguments into bar series, with clear messages.

use crate::exit;
use std::collections::BTreeMap;
use strat_runtime::market::{Bar, parse_csv};

/// Loads every `SYMBOL=PATH`. Refused rows are warnings naming file and line; a file that
/// cannot be read or understood is an error (exit code 2).
pub fn load(specs: &[String]) -> Result<BTreeMap<String, Vec<Bar>>, u8> {
    let mut data = BTreeMap::new();
    for spec in specs {
        let Some((sym, path)) = spec.split_once('=').filter(|(s, p)| !s.is_empty() && !p.is_empty()) else {
            eprintln!("error: `--data {spec}` must be SYMBOL=PATH, e.g. `--data SPY=spy.csv`");
            return Err(exit::USAGE);
        };
        let text = std::fs::read_to_string(path).map_err(|e| {
            eprintln!("error: cannot read `{path}`: {e}");
            exit::USAGE
        })?;
        let loaded = parse_csv(&text).map_err(|p| {
            eprintln!("error: {path}:{}: {}", p.line, p.message);
            exit::USAGE
        })?;
        for p in &loaded.problems {
            eprintln!("warning: {path}:{}: {} (row skipped)", p.line, p.message);
        }
        if loaded.bars.is_empty() {
            eprintln!("warning: `{path}` has no valid bars; {sym} is left out");
            continue;
        }
        data.insert(sym.to_string(), loaded.bars);
    }
    Ok(data)
}
