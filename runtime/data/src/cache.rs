//! A compact binary form of a bar series, so a long history loads in milliseconds instead of
//! being re-parsed from CSV. The caller stores it (next to its source, keyed by the source's
//! fingerprint); this module only encodes and decodes.
//!
//! Layout (little-endian): magic `STRATBAR`, format version (u32), source fingerprint (u64),
//! bar count (u64), then per bar the time as seconds since 1970 in the bars' own local time
//! (i64) and open, high, low, close, volume (f64 each): 48 bytes a bar.

use super::Bar;
use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime};

const MAGIC: &[u8; 8] = b"STRATBAR";
const VERSION: u32 = 1;
const HEADER: usize = 8 + 4 + 8 + 8;
const BAR: usize = 48;

/// FNV-1a over the source bytes: identifies the text a cache was built from.
pub fn fingerprint(source: &[u8]) -> u64 {
    source.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| (h ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}

pub fn encode(bars: &[Bar], source_fingerprint: u64) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER + BAR * bars.len());
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&source_fingerprint.to_le_bytes());
    out.extend_from_slice(&(bars.len() as u64).to_le_bytes());
    for b in bars {
        out.extend_from_slice(&b.time.and_utc().timestamp().to_le_bytes());
        for v in [b.open, b.high, b.low, b.close, b.volume] {
            out.extend_from_slice(&v.to_le_bytes());
        }
    }
    out
}

/// Decodes a cache built from a source with this fingerprint; `None` when the bytes are not a
/// cache of this version, are truncated, or were built from other text (rebuild it then).
pub fn decode(bytes: &[u8], source_fingerprint: u64) -> Option<Vec<Bar>> {
    let mut bars = Vec::new();
    decode_into(bytes, source_fingerprint, &mut bars).then_some(bars)
}

/// [`decode`] into a vector the caller keeps, so that loading series after series reuses one
/// allocation: `bars` is cleared, then holds the series. Returns `false`, leaving `bars`
/// empty, where `decode` returns `None`.
pub fn decode_into(bytes: &[u8], source_fingerprint: u64, bars: &mut Vec<Bar>) -> bool {
    bars.clear();
    let ok = read(bytes, source_fingerprint, bars).is_some();
    if !ok {
        bars.clear();
    }
    ok
}

fn read(bytes: &[u8], source_fingerprint: u64, bars: &mut Vec<Bar>) -> Option<()> {
    let u64_at = |i: usize| bytes.get(i..i + 8).and_then(|s| s.try_into().ok()).map(u64::from_le_bytes);
    if bytes.get(..8)? != MAGIC || bytes.get(8..12)? != VERSION.to_le_bytes() || u64_at(12)? != source_fingerprint {
        return None;
    }
    let n = usize::try_from(u64_at(20)?).ok()?;
    let body = bytes.get(HEADER..)?;
    if body.len() != n.checked_mul(BAR)? {
        return None;
    }
    // Whole records only (the length was checked), each a fixed-size array: no bounds checks
    // per field.
    let (records, _) = body.as_chunks::<BAR>();
    bars.reserve(n);
    let mut day = Day::default();
    for r in records {
        let [t0, t1, t2, t3, t4, t5, t6, t7, rest @ ..] = *r;
        let time = day.time(i64::from_le_bytes([t0, t1, t2, t3, t4, t5, t6, t7]))?;
        let (values, _) = rest.as_chunks::<8>();
        let [open, high, low, close, volume] = match values {
            [a, b, c, d, e] => [*a, *b, *c, *d, *e].map(f64::from_le_bytes),
            _ => return None, // never: 40 bytes are five values
        };
        bars.push(Bar { time, open, high, low, close, volume });
    }
    Some(())
}

/// The day of the last timestamp decoded: bars come in time order, so most share their
/// predecessor's day, and the date is not worked out again from the seconds.
#[derive(Default)]
struct Day {
    /// Seconds since 1970 at the day's midnight, and its date.
    last: Option<(i64, NaiveDate)>,
}

impl Day {
    /// The time `secs` seconds after 1970-01-01 00:00, as `DateTime::from_timestamp` gives it;
    /// `None` out of its range.
    #[inline]
    fn time(&mut self, secs: i64) -> Option<NaiveDateTime> {
        let same_day = self.last.and_then(|(start, date)| {
            let offset = secs.checked_sub(start)?;
            (0..86_400).contains(&offset).then_some((offset, date))
        });
        let (offset, date) = match same_day {
            Some(day) => day,
            None => {
                let start = secs.div_euclid(86_400).checked_mul(86_400)?;
                let date = DateTime::from_timestamp(start, 0)?.date_naive();
                self.last = Some((start, date));
                (secs - start, date)
            }
        };
        let time = NaiveTime::from_num_seconds_from_midnight_opt(u32::try_from(offset).ok()?, 0)?;
        Some(date.and_time(time))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strat_engine::market::simulated::{Config, simulate};

    #[test]
    fn round_trip_and_refusals() {
        let m = simulate(&Config { days: 30, bar_minutes: 5, ..Config::default() });
        let bars = &m.bars["SPY"];
        let bytes = encode(bars, 7);
        assert_eq!(bytes.len(), HEADER + 48 * bars.len());
        assert_eq!(decode(&bytes, 7).as_ref(), Some(bars));
        assert_eq!(decode(&bytes, 8), None, "other source");
        assert_eq!(decode(&bytes[..bytes.len() - 1], 7), None, "truncated");
        assert_eq!(decode(b"not a cache at all, no", 7), None);
        // Every truncation and every corrupted length is refused, never a panic.
        for cut in 0..HEADER + 2 * BAR {
            assert_eq!(decode(&bytes[..cut], 7), None, "cut at {cut}");
        }
        let mut long = bytes.clone();
        long[20..28].copy_from_slice(&u64::MAX.to_le_bytes());
        assert_eq!(decode(&long, 7), None, "count past the end");
        // A timestamp past the calendar's range is refused too.
        let mut far = bytes.clone();
        far[HEADER..HEADER + 8].copy_from_slice(&i64::MAX.to_le_bytes());
        assert_eq!(decode(&far, 7), None, "time out of range");
        // Decoding into a kept vector gives the same bars, and leaves it empty on refusal.
        let mut kept = vec![bars[0]; 3];
        assert!(decode_into(&bytes, 7, &mut kept));
        assert_eq!(&kept, bars);
        assert!(!decode_into(&bytes, 8, &mut kept));
        assert!(kept.is_empty());
        assert_ne!(fingerprint(b"a,b"), fingerprint(b"a,c"));
    }

    #[test]
    fn times_agree_with_chrono_across_days_and_before_1970() {
        let mut day = Day::default();
        let mut secs: i64 = -3 * 86_400 - 7;
        while secs < 4 * 86_400 {
            let want = DateTime::from_timestamp(secs, 0).map(|t| t.naive_utc());
            assert_eq!(day.time(secs), want, "{secs}");
            secs += 3_607;
        }
        for secs in [0, -1, 86_399, 86_400, -86_400, -86_401, 1_700_000_000, 253_402_300_799, i64::MIN, i64::MAX] {
            let want = DateTime::from_timestamp(secs, 0).map(|t| t.naive_utc());
            assert_eq!(day.time(secs), want, "{secs}");
            assert_eq!(Day::default().time(secs), want, "{secs}, first");
        }
        assert_eq!(Day::default().time(i64::MIN + 5), None);
    }
}
