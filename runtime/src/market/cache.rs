//! A compact binary form of a bar series, so a long history loads in milliseconds instead of
//! being re-parsed from CSV. The caller stores it (next to its source, keyed by the source's
//! fingerprint); this module only encodes and decodes.
//!
//! Layout (little-endian): magic `STRATBAR`, format version (u32), source fingerprint (u64),
//! bar count (u64), then per bar the time as seconds since 1970 in the bars' own local time
//! (i64) and open, high, low, close, volume (f64 each): 48 bytes a bar.

use super::Bar;
use chrono::DateTime;

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
    let u64_at = |i: usize| bytes.get(i..i + 8).and_then(|s| s.try_into().ok()).map(u64::from_le_bytes);
    if bytes.get(..8)? != MAGIC || bytes.get(8..12)? != VERSION.to_le_bytes() || u64_at(12)? != source_fingerprint {
        return None;
    }
    let n = usize::try_from(u64_at(20)?).ok()?;
    let body = bytes.get(HEADER..)?;
    if body.len() != n.checked_mul(BAR)? {
        return None;
    }
    let mut bars = Vec::with_capacity(n);
    for chunk in body.chunks_exact(BAR) {
        let f = |i: usize| f64::from_le_bytes(chunk[i..i + 8].try_into().unwrap_or([0; 8]));
        let secs = i64::from_le_bytes(chunk[..8].try_into().unwrap_or([0; 8]));
        let time = DateTime::from_timestamp(secs, 0)?.naive_utc();
        bars.push(Bar { time, open: f(8), high: f(16), low: f(24), close: f(32), volume: f(40) });
    }
    Some(bars)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::market::simulated::{Config, simulate};

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
        assert_ne!(fingerprint(b"a,b"), fingerprint(b"a,c"));
    }
}
