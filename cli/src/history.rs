//! `--data polygon:SYMBOL` (or `polygon:SYMBOL:minute`): bars fetched from Polygon for the
//! days of `--from` and `--to`, kept under `$STRAT_HOME/cache/` so the same run again makes no
//! request. The key and host come from `POLYGON_API_KEY` and `POLYGON_BASE_URL`, as the
//! official client reads them (the key also from `$STRAT_HOME/secrets`).

use crate::exit;
use crate::paper::Period;
use std::collections::BTreeMap;
use strat_engine::market::Bar;
use strat_feeds::{Cached, Client, Config, Request, Span};

/// The `--data` values that name Polygon, and the rest (files).
pub fn split(specs: &[String]) -> (Vec<String>, Vec<String>) {
    specs.iter().cloned().partition(|s| !s.starts_with("polygon:"))
}

/// A `polygon:SYMBOL[:minute|day]` value: the symbol and the bar length (days by default).
fn parse(spec: &str) -> Result<(String, Span), String> {
    let rest = spec.strip_prefix("polygon:").unwrap_or(spec);
    let (symbol, span) = match rest.split_once(':') {
        None => (rest, Span::Day),
        Some((s, "day")) => (s, Span::Day),
        Some((s, "minute")) => (s, Span::Minute),
        Some((_, other)) => return Err(format!("`{spec}`: `{other}` is not a bar length: give `day` or `minute`")),
    };
    let ticker = !symbol.is_empty() && symbol.chars().all(|c| c.is_ascii_uppercase() || c == '.' || c.is_ascii_digit());
    if !ticker {
        return Err(format!("`{spec}`: `{symbol}` is not a ticker (AAPL, BRK.B)"));
    }
    Ok((symbol.to_string(), span))
}

/// Fetches (or reads from the cache) each `polygon:` value for the days of `period`.
pub fn load(specs: &[String], period: &Period, skip_bad: bool) -> Result<BTreeMap<String, Vec<Bar>>, u8> {
    let mut data = BTreeMap::new();
    if specs.is_empty() {
        return Ok(data);
    }
    let usage = |m: String| {
        eprintln!("error: {m}");
        exit::USAGE
    };
    let (Some(from), Some(to)) = (period.from, period.to) else {
        return Err(usage("`--data polygon:…` needs `--from` and `--to`: the days to fetch".into()));
    };
    let env = crate::settings::Env::load();
    let client = Client::new(Config::from_env(|k| env.get(k))).map_err(|e| usage(e.to_string()))?;
    let home = crate::files::home();
    let dir = home.join("cache");
    crate::files::private_dir(&home)
        .and_then(|()| crate::files::private_dir(&dir))
        .map_err(|e| usage(format!("cannot create `{}`: {e}", dir.display())))?;
    for spec in specs {
        let (symbol, span) = parse(spec).map_err(usage)?;
        let request = Request { symbol: symbol.clone(), span, from, to };
        eprintln!("fetching {symbol} {} bars {from} to {to} from Polygon…", span.name());
        let (got, warning) = strat_feeds::cached(&client, &request, &dir).map_err(|e| usage(format!("{spec}: {e}")))?;
        if let Some(w) = warning {
            eprintln!("warning: {w}");
        }
        let bars = match got {
            Cached::Hit(bars) => bars,
            Cached::Fetched(h) => {
                if h.delayed {
                    eprintln!("warning: {spec}: Polygon serves delayed data on this plan");
                }
                refuse_or_skip(spec, &h.refused, skip_bad)?;
                h.bars
            }
        };
        if bars.is_empty() {
            return Err(usage(format!("{spec}: Polygon has no bars of {symbol} from {from} to {to}")));
        }
        data.insert(symbol, bars);
    }
    Ok(data)
}

/// Every `--data` value: files read as `crate::data` reads them, `polygon:` values fetched; a
/// symbol given twice is a usage error.
pub fn load_all(
    specs: &[String],
    csv: &crate::data::CsvFlags,
    period: &Period,
) -> Result<BTreeMap<String, Vec<Bar>>, u8> {
    let (files, polygon) = split(specs);
    let mut data = if files.is_empty() { BTreeMap::new() } else { crate::data::load(&files, csv)? };
    for (symbol, bars) in load(&polygon, period, csv.skip_bad_rows)? {
        if data.contains_key(&symbol) {
            eprintln!("error: {symbol} is given twice in `--data`");
            return Err(exit::USAGE);
        }
        data.insert(symbol, bars);
    }
    Ok(data)
}

/// Refused bars fail the load, as a CSV's bad rows do, unless `--skip-bad-rows`.
fn refuse_or_skip(spec: &str, refused: &[String], skip_bad: bool) -> Result<(), u8> {
    let Some(first) = refused.first() else { return Ok(()) };
    if !skip_bad {
        eprintln!(
            "error: {spec}: {first} ({} bar{} refused in all)\n  help: pass `--skip-bad-rows` to leave out the bars that fail (each is then listed and counted)",
            refused.len(),
            if refused.len() == 1 { "" } else { "s" }
        );
        return Err(exit::USAGE);
    }
    for r in refused {
        eprintln!("warning: {spec}: {r} (bar skipped)");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn polygon_values_name_a_ticker_and_a_bar_length() {
        assert_eq!(parse("polygon:AAPL"), Ok(("AAPL".into(), Span::Day)));
        assert_eq!(parse("polygon:BRK.B:minute"), Ok(("BRK.B".into(), Span::Minute)));
        assert!(parse("polygon:aapl").is_err());
        assert!(parse("polygon:AAPL:hour").is_err_and(|e| e.contains("`hour` is not a bar length")));
        let (files, polygon) = split(&["SPY=spy.csv".into(), "polygon:AAPL".into()]);
        assert_eq!((files, polygon), (vec!["SPY=spy.csv".to_string()], vec!["polygon:AAPL".to_string()]));
    }
}
