//! The streaming values a run keeps per symbol: one instance per (symbol, function,
//! parameters) however many expressions use it, each updated once per bar of its symbol. Their
//! outputs sit in a flat table of `f64` slots, `NaN` while undefined (during a warm-up).

use crate::market::Bar;
use std::collections::BTreeMap;
use strat_stdlib::indicators::{
    Atr, Bollinger, Change, Ema, Highest, Lowest, Macd, Rsi, SessionChange, Sma, StdDev, Vwap,
};

/// One streaming computation over a symbol's bars.
#[derive(Debug, Clone)]
pub enum Indicator {
    Sma(Sma),
    AvgVolume(Sma),
    Ema(Ema),
    Rsi(Rsi),
    /// Three outputs: macd, signal, histogram.
    Macd(Macd),
    /// Three outputs: upper, middle, lower.
    Bollinger(Bollinger),
    Atr(Atr),
    StdDev(StdDev),
    Highest(Highest),
    Lowest(Lowest),
    Change(Change),
    /// Percent change from the close `n` sessions back (a day-long window on intraday bars).
    SessionChange(SessionChange),
    Vwap(Vwap),
    /// 1 when the bar's volume is over `multiplier` × the average, else 0.
    VolumeSpike {
        avg: Sma,
        multiplier: f64,
    },
    /// The risk gate's volatility: the standard deviation of the close-to-close percent returns,
    /// annualised (× √`per_year`, the bars in a year).
    Volatility {
        prev: Option<f64>,
        sd: StdDev,
        per_year: f64,
    },
}

impl Indicator {
    /// How many slots its outputs take.
    pub fn outputs(&self) -> usize {
        match self {
            Indicator::Macd(_) | Indicator::Bollinger(_) => 3,
            _ => 1,
        }
    }

    /// Feeds one bar, writing the outputs (NaN while undefined).
    #[inline]
    fn push(&mut self, b: &Bar, out: &mut [f64]) {
        let v = |x: Option<f64>| x.unwrap_or(f64::NAN);
        match self {
            Indicator::Sma(x) => out[0] = v(x.push(b.close)),
            Indicator::AvgVolume(x) => out[0] = v(x.push(b.volume)),
            Indicator::Ema(x) => out[0] = v(x.push(b.close)),
            Indicator::Rsi(x) => out[0] = v(x.push(b.close)),
            Indicator::Macd(x) => match x.push(b.close) {
                Some(m) => out[..3].copy_from_slice(&[m.macd, m.signal, m.histogram]),
                None => out[..3].fill(f64::NAN),
            },
            Indicator::Bollinger(x) => match x.push(b.close) {
                Some(m) => out[..3].copy_from_slice(&[m.upper, m.middle, m.lower]),
                None => out[..3].fill(f64::NAN),
            },
            Indicator::Atr(x) => out[0] = v(x.push(b.high, b.low, b.close)),
            Indicator::StdDev(x) => out[0] = v(x.push(b.close)),
            Indicator::Highest(x) => out[0] = v(x.push(b.high)),
            Indicator::Lowest(x) => out[0] = v(x.push(b.low)),
            Indicator::Change(x) => out[0] = v(x.push(b.close)),
            Indicator::SessionChange(x) => {
                let day = i64::from(chrono::Datelike::num_days_from_ce(&b.time.date()));
                out[0] = v(x.push(day, b.close));
            }
            Indicator::Vwap(x) => out[0] = vwap(x, b),
            Indicator::VolumeSpike { avg, multiplier } => {
                out[0] = match avg.push(b.volume) {
                    Some(a) => f64::from(u8::from(b.volume > a * *multiplier)),
                    None => f64::NAN,
                }
            }
            Indicator::Volatility { prev, sd, per_year } => {
                let last = prev.replace(b.close);
                out[0] = match last {
                    Some(p) if p > 0.0 => v(sd.push((b.close / p - 1.0) * 100.0)) * per_year.sqrt(),
                    _ => f64::NAN,
                };
            }
        }
    }
}

/// Kept out of line: otherwise the session key is worked out for every bar of every symbol,
/// VWAP or not.
#[inline(never)]
fn vwap(x: &mut Vwap, b: &Bar) -> f64 {
    // Sessions are calendar days of the bar's (exchange-local) time.
    let session = chrono::Datelike::num_days_from_ce(&b.time.date()) as u64;
    x.push(session, b.high, b.low, b.close, b.volume).unwrap_or(f64::NAN)
}

/// The longest run [`Series::update_run`] takes at once.
pub(crate) const RUN: usize = 512;

/// The value of chosen slots at every bar of a run, for what needs more than the last one
/// (crossings).
#[derive(Debug, Clone, Default)]
pub(crate) struct Trace {
    /// The row of each slot followed, by slot.
    rows: Vec<Option<u32>>,
    /// [`RUN`] values per row.
    values: Vec<f64>,
}

impl Trace {
    /// A trace following `slots` (repeats are followed once).
    pub(crate) fn new(slots: impl IntoIterator<Item = u32>) -> Trace {
        let mut t = Trace::default();
        for s in slots {
            let s = s as usize;
            if t.rows.len() <= s {
                t.rows.resize(s + 1, None);
            }
            if t.rows[s].is_none() {
                t.rows[s] = Some((t.values.len() / RUN) as u32);
                t.values.resize(t.values.len() + RUN, f64::NAN);
            }
        }
        t
    }

    fn row_mut(&mut self, slot: u32) -> Option<&mut [f64]> {
        let row = (*self.rows.get(slot as usize)?)? as usize;
        self.values.get_mut(row * RUN..(row + 1) * RUN)
    }

    /// The value of `slot` at bar `i` of the last run, if it is followed.
    pub(crate) fn get(&self, slot: u32, i: usize) -> Option<f64> {
        let row = (*self.rows.get(slot as usize)?)? as usize;
        self.values.get(row * RUN + i).copied()
    }
}

#[derive(Debug, Clone)]
struct Entry {
    indicator: Indicator,
    slot: u32,
    outputs: u32,
}

/// Every streaming value of a run.
#[derive(Debug, Clone, Default)]
pub struct Series {
    /// The instances fed by each symbol's bars, by symbol index.
    by_symbol: Vec<Vec<Entry>>,
    slots: Vec<f64>,
    /// The symbol feeding each slot.
    owners: Vec<u32>,
    keys: BTreeMap<String, u32>,
}

impl Series {
    pub fn new(symbols: usize) -> Series {
        Series { by_symbol: vec![Vec::new(); symbols], ..Series::default() }
    }

    /// The first slot of the instance for `key` on `symbol`, made from `make` the first time.
    pub fn register(&mut self, symbol: usize, key: String, make: impl FnOnce() -> Indicator) -> u32 {
        let key = format!("{symbol}|{key}");
        if let Some(&slot) = self.keys.get(&key) {
            return slot;
        }
        let indicator = make();
        let slot = self.slots.len() as u32;
        let outputs = indicator.outputs() as u32;
        self.slots.extend(std::iter::repeat_n(f64::NAN, outputs as usize));
        self.owners.extend(std::iter::repeat_n(symbol as u32, outputs as usize));
        if self.by_symbol.len() <= symbol {
            self.by_symbol.resize(symbol + 1, Vec::new());
        }
        self.by_symbol[symbol].push(Entry { indicator, slot, outputs });
        self.keys.insert(key, slot);
        slot
    }

    /// Feeds a symbol's bar that closed to each of its instances.
    #[inline(always)]
    pub fn update(&mut self, symbol: usize, bar: &Bar) {
        let Some(entries) = self.by_symbol.get_mut(symbol) else { return };
        for e in entries {
            let at = e.slot as usize;
            // Moving averages are the common case: updated here, the rest out of line.
            if let Indicator::Sma(x) = &mut e.indicator
                && let Some(out) = self.slots.get_mut(at)
            {
                *out = x.push(bar.close).unwrap_or(f64::NAN);
            } else if let Some(out) = self.slots.get_mut(at..at + e.outputs as usize) {
                e.indicator.push(bar, out);
            }
        }
    }

    /// Feeds a run of a symbol's bars (at most [`RUN`]) to each of its instances, one
    /// instance at a time over the whole run, so each keeps its state in registers. The slots
    /// end as after the last bar; the slots `trace` follows get their value at every bar.
    pub(crate) fn update_run(&mut self, symbol: usize, bars: &[Bar], trace: &mut Trace) {
        let Some(entries) = self.by_symbol.get_mut(symbol) else { return };
        let bars = bars.get(..RUN).unwrap_or(bars);
        for e in entries {
            let at = e.slot as usize;
            if let Indicator::Sma(x) = &mut e.indicator
                && let Some(out) = self.slots.get_mut(at)
            {
                let closes = bars.iter().map(|b| b.close);
                match trace.row_mut(e.slot) {
                    Some(row) => {
                        let mut cells = row.iter_mut();
                        x.push_run(closes, |v| {
                            *out = v;
                            if let Some(c) = cells.next() {
                                *c = v;
                            }
                        });
                    }
                    None => x.push_run(closes, |v| *out = v),
                }
            } else if let Some(out) = self.slots.get_mut(at..at + e.outputs as usize) {
                for (i, b) in bars.iter().enumerate() {
                    e.indicator.push(b, out);
                    for (k, v) in out.iter().enumerate() {
                        if let Some(cell) = trace.row_mut(e.slot + k as u32).and_then(|row| row.get_mut(i)) {
                            *cell = *v;
                        }
                    }
                }
            }
        }
    }

    /// The value in a slot: `None` while undefined.
    #[inline]
    pub fn get(&self, slot: u32) -> Option<f64> {
        let v = self.raw(slot);
        (!v.is_nan()).then_some(v)
    }

    /// The value in a slot, NaN while undefined.
    #[inline]
    pub fn raw(&self, slot: u32) -> f64 {
        self.slots.get(slot as usize).copied().unwrap_or(f64::NAN)
    }

    /// The symbol whose bars feed the instance owning `slot`.
    pub fn symbol_of(&self, slot: u32) -> Option<usize> {
        self.owners.get(slot as usize).map(|s| *s as usize)
    }

    /// How many instances the run keeps.
    pub fn len(&self) -> usize {
        self.by_symbol.iter().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn bar(close: f64, volume: f64) -> Bar {
        Bar { time: chrono::NaiveDateTime::default(), open: close, high: close, low: close, close, volume }
    }

    #[test]
    fn one_instance_per_key_and_symbol() {
        let mut s = Series::new(2);
        let a = s.register(0, "sma|3".into(), || Indicator::Sma(Sma::new(3)));
        let b = s.register(0, "sma|3".into(), || Indicator::Sma(Sma::new(3)));
        let c = s.register(1, "sma|3".into(), || Indicator::Sma(Sma::new(3)));
        assert_eq!(a, b);
        assert_ne!(a, c);
        assert_eq!(s.len(), 2);
        for x in [1.0, 2.0, 3.0] {
            s.update(0, &bar(x, 1.0));
        }
        assert_eq!(s.get(a), Some(2.0));
        assert_eq!(s.get(c), None, "symbol 1 has had no bar");
    }

    #[test]
    fn multi_output_indicators_take_consecutive_slots() {
        let mut s = Series::new(1);
        let m = s.register(0, "macd".into(), || Indicator::Macd(Macd::new(2, 3, 2)));
        let after = s.register(0, "spike".into(), || Indicator::VolumeSpike { avg: Sma::new(2), multiplier: 1.5 });
        assert_eq!(after, m + 3);
        for (c, v) in [(1.0, 10.0), (2.0, 10.0), (3.0, 40.0), (5.0, 10.0)] {
            s.update(0, &bar(c, v));
        }
        assert!(s.get(m).is_some() && s.get(m + 2).is_some());
        // The last volume (10) is under 1.5 × the average of (40, 10) = 37.5.
        assert_eq!(s.get(after), Some(0.0));
    }
}
