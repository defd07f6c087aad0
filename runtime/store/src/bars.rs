//! A live step's bars as the journal keeps them: 48 bytes a bar in a fixed binary layout
//! rather than JSON (a week of minutes over hundreds of symbols is most of a live journal).
//! Little-endian: the step's time (milliseconds, as written in New York local time), the count
//! of bars, then per bar its symbol's index (u32), its time (ms) and open, high, low, close and
//! volume (f64).

use chrono::{DateTime, NaiveDateTime};
use strat_engine::market::Bar;
use strat_engine::store::{StepBars, StoreError};

const BAR: usize = 4 + 8 + 5 * 8;

fn ms(t: NaiveDateTime) -> i64 {
    t.and_utc().timestamp_millis()
}

fn time(ms: i64) -> Option<NaiveDateTime> {
    DateTime::from_timestamp_millis(ms).map(|t| t.naive_utc())
}

pub fn encode(step: NaiveDateTime, bars: &[(usize, Bar)]) -> Vec<u8> {
    let mut out = Vec::with_capacity(12 + bars.len() * BAR);
    out.extend(ms(step).to_le_bytes());
    out.extend(u32::try_from(bars.len()).unwrap_or(u32::MAX).to_le_bytes());
    for (sym, b) in bars.iter().take(u32::MAX as usize) {
        out.extend(u32::try_from(*sym).unwrap_or(u32::MAX).to_le_bytes());
        out.extend(ms(b.time).to_le_bytes());
        for x in [b.open, b.high, b.low, b.close, b.volume] {
            out.extend(x.to_le_bytes());
        }
    }
    out
}

/// The step back, or why the bytes are not one.
pub fn decode(bytes: &[u8]) -> Result<StepBars, StoreError> {
    let bad = |why: &str| StoreError::Record(format!("a journaled step's bars do not read back: {why}"));
    let mut r = Reader(bytes);
    let step = time(r.i64().ok_or_else(|| bad("too short"))?).ok_or_else(|| bad("a time out of range"))?;
    let n = r.u32().ok_or_else(|| bad("too short"))? as usize;
    if r.0.len() != n * BAR {
        return Err(bad("its length is not its count of bars"));
    }
    let mut bars = Vec::with_capacity(n);
    for _ in 0..n {
        let sym = r.u32().ok_or_else(|| bad("too short"))? as usize;
        let t = time(r.i64().ok_or_else(|| bad("too short"))?).ok_or_else(|| bad("a time out of range"))?;
        let mut v = [0.0; 5];
        for x in &mut v {
            *x = r.f64().ok_or_else(|| bad("too short"))?;
        }
        bars.push((sym, Bar { time: t, open: v[0], high: v[1], low: v[2], close: v[3], volume: v[4] }));
    }
    Ok(StepBars { step, bars })
}

struct Reader<'a>(&'a [u8]);

impl Reader<'_> {
    fn take<const N: usize>(&mut self) -> Option<[u8; N]> {
        let (head, rest) = self.0.split_first_chunk::<N>()?;
        self.0 = rest;
        Some(*head)
    }
    fn i64(&mut self) -> Option<i64> {
        self.take().map(i64::from_le_bytes)
    }
    fn u32(&mut self) -> Option<u32> {
        self.take().map(u32::from_le_bytes)
    }
    fn f64(&mut self) -> Option<f64> {
        self.take().map(f64::from_le_bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_steps_bars_read_back_exactly_and_damaged_bytes_are_an_error() {
        let t = chrono::NaiveDate::from_ymd_opt(2014, 6, 2).and_then(|d| d.and_hms_opt(9, 31, 0)).unwrap_or_default();
        let bar = Bar { time: t, open: 187.151_234_5, high: 188.0, low: 186.5, close: 187.9, volume: 1.5e6 };
        let bytes = encode(t, &[(0, bar), (7, Bar { close: 0.1 + 0.2, ..bar })]);
        assert_eq!(bytes.len(), 12 + 2 * BAR);
        let back = decode(&bytes).expect("reads");
        assert_eq!((back.step, back.bars), (t, vec![(0, bar), (7, Bar { close: 0.1 + 0.2, ..bar })]));
        for cut in [0, 5, 12, bytes.len() - 1] {
            assert!(decode(&bytes[..cut]).is_err(), "{cut} bytes");
        }
    }
}
