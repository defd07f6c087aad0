//! `strat run --market polygon`: the symbols the file names, warmed on Polygon's REST minute
//! bars of the last days, then traded on its live WebSocket bars. The history only moves the
//! indicators (nothing fires on it); trading starts at the first live bar.

use crate::exit;
use std::collections::{BTreeMap, BTreeSet};
use strat_engine::host::MarketData;
use strat_engine::market::Bar;
use strat_engine::sim::Replay;
use strat_feeds::{Client, Config, Live, LiveConfig, Request, Span};

/// Every ticker the program names: its universes, its triggers' symbols and the symbols its
/// expressions read.
pub fn symbols(program: &strat_lang::ir::Program) -> BTreeSet<String> {
    fn walk(v: &serde_json::Value, out: &mut BTreeSet<String>, depth: usize) {
        match v {
            serde_json::Value::Object(m) if depth < 512 => {
                if m.get("e").and_then(|e| e.as_str()) == Some("symbol")
                    && let Some(s) = m.get("value").and_then(|s| s.as_str())
                {
                    out.insert(s.to_string());
                }
                if let Some(list) = m.get("symbols").and_then(|s| s.as_array()) {
                    out.extend(list.iter().filter_map(|s| s.as_str()).map(str::to_string));
                }
                m.values().for_each(|x| walk(x, out, depth + 1));
            }
            serde_json::Value::Array(items) if depth < 512 => items.iter().for_each(|x| walk(x, out, depth + 1)),
            _ => {}
        }
    }
    let mut out: BTreeSet<String> = program.universes.values().flatten().cloned().collect();
    walk(&serde_json::to_value(&program.graphs).unwrap_or_default(), &mut out, 0);
    out
}

/// The history, then the live bars: the engine warms on the first (its times are known ahead,
/// so `peek` gives them) and trades on the second.
pub struct Warmed<'a> {
    history: Replay<'a>,
    live: Live,
}

impl MarketData for Warmed<'_> {
    fn label(&self) -> String {
        self.live.label()
    }
    fn symbols(&self) -> &[String] {
        self.live.symbols()
    }
    fn intervals(&self) -> &[i64] {
        self.live.intervals()
    }
    fn steps(&self) -> Option<usize> {
        None
    }
    fn next(&mut self, closed: &mut Vec<(usize, Bar)>) -> Option<chrono::NaiveDateTime> {
        match self.history.peek() {
            Some(_) => self.history.next(closed),
            None => self.live.next(closed),
        }
    }
    fn peek(&self) -> Option<chrono::NaiveDateTime> {
        self.history.peek()
    }
    fn stale(&self) -> Option<String> {
        self.live.stale()
    }
    fn take_notes(&mut self, out: &mut Vec<String>) {
        self.live.take_notes(out);
    }
    fn is_live(&self) -> bool {
        true
    }
}

impl Warmed<'_> {
    /// What the feed has to say that the run has not shown: why it ended, and anything after
    /// the last step.
    pub fn notes(&self) -> Vec<String> {
        self.live.notes()
    }

    /// A resumed run: the live bars after `last` (the last step its journal holds) go on from
    /// there, the minutes missed meanwhile filled in from REST (and not traded on).
    pub fn resume_after(&mut self, last: chrono::NaiveDateTime) {
        self.live.resume_after(last);
    }
}

/// The days before today whose minute bars warm the indicators.
pub fn window(days: u32) -> [chrono::NaiveDate; 2] {
    let now = chrono::DateTime::<chrono::Utc>::from(std::time::SystemTime::now());
    let today = now.with_timezone(&chrono_tz::America::New_York).date_naive();
    [today - chrono::Duration::days(i64::from(days)), today]
}

/// A resumed run's bars: the warm-up history before its first live step, then the live bars
/// its journal holds (`journaled`, by symbol index in `history`'s order). The first live step,
/// where trading began.
pub fn replayed(
    history: &mut BTreeMap<String, Vec<Bar>>,
    journaled: Vec<strat_engine::store::StepBars>,
) -> Option<chrono::NaiveDateTime> {
    let first = journaled.first().map(|s| s.step)?;
    for bars in history.values_mut() {
        bars.retain(|b| b.time < first);
    }
    let names: Vec<String> = history.keys().cloned().collect();
    for step in journaled {
        for (sym, bar) in step.bars {
            if let Some(bars) = names.get(sym).and_then(|n| history.get_mut(n)) {
                bars.push(bar);
            }
        }
    }
    Some(first)
}

fn usage(m: String) -> u8 {
    eprintln!("error: {m}");
    exit::USAGE
}

/// The minute bars of the days of `window` for each symbol, from REST.
pub fn history(
    symbols: &[String],
    window: [chrono::NaiveDate; 2],
    env: &crate::settings::Env,
) -> Result<(BTreeMap<String, Vec<Bar>>, Client), u8> {
    let client = Client::new(Config::from_env(|k| env.get(k))).map_err(|e| usage(e.to_string()))?;
    let [from, today] = window;
    let mut data = BTreeMap::new();
    for symbol in symbols {
        eprintln!("warming {symbol} on Polygon's minute bars from {from} to {today}…");
        let r = Request { symbol: symbol.clone(), span: Span::Minute, from, to: today };
        let h = client.aggregates(&r).map_err(|e| usage(format!("{symbol}: {e}")))?;
        for why in h.refused {
            eprintln!("warning: {symbol}: {why} (bar left out)");
        }
        data.insert(symbol.clone(), h.bars);
    }
    Ok((data, client))
}

/// The live feed after `history`, for the same symbols in the same order.
pub fn warmed<'a>(
    history: &'a BTreeMap<String, Vec<Bar>>,
    rest: Client,
    env: &crate::settings::Env,
) -> Result<Warmed<'a>, u8> {
    let config =
        LiveConfig::from_env(|k| env.get(k)).ok_or_else(|| usage("`--market polygon` needs POLYGON_API_KEY".into()))?;
    let symbols: Vec<String> = history.keys().cloned().collect();
    let live = Live::connect(config, &symbols, Some(rest)).map_err(usage)?;
    Ok(Warmed { history: Replay::new(history, "Polygon minute bars (warm-up)"), live })
}
