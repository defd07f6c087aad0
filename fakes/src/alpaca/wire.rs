//! Alpaca's wire conventions: decimals as strings, RFC 3339 times with nanosecond fractions,
//! UUID-like ids, and the answers the handlers build.

use serde_json::{Value, json};
use std::time::{SystemTime, UNIX_EPOCH};

/// An answer before it becomes an HTTP response.
#[derive(Debug, Clone)]
pub(super) struct Answer {
    pub status: u16,
    pub content_type: &'static str,
    pub body: String,
}

impl Answer {
    pub fn json(status: u16, value: &Value) -> Answer {
        Answer { status, content_type: "application/json", body: value.to_string() }
    }

    /// A JSON body given as text (a fixture).
    pub fn json_text(status: u16, body: &str) -> Answer {
        Answer { status, content_type: "application/json", body: body.to_string() }
    }

    /// Alpaca's error shape, `{"code":…,"message":…}`.
    pub fn error(status: u16, code: u64, message: &str) -> Answer {
        Answer::json(status, &json!({ "code": code, "message": message }))
    }

    pub fn text(status: u16, content_type: &'static str, body: &str) -> Answer {
        Answer { status, content_type, body: body.to_string() }
    }

    /// `204 No Content`.
    pub fn empty() -> Answer {
        Answer { status: 204, content_type: "application/json", body: String::new() }
    }
}

/// A decimal as Alpaca writes it: a string, without trailing zeros (`"150"`, `"0.1234"`).
pub(super) fn dec(x: f64) -> String {
    if !x.is_finite() {
        return "0".into();
    }
    let s = format!("{x:.9}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() { "0".into() } else { s.into() }
}

/// Seconds and nanoseconds since the Unix epoch, now.
pub(super) fn now() -> (i64, u32) {
    let d = SystemTime::now().duration_since(UNIX_EPOCH).unwrap_or_default();
    (i64::try_from(d.as_secs()).unwrap_or(0), d.subsec_nanos())
}

/// Now in UTC with a nanosecond fraction, as order times are written
/// (`2023-12-12T22:31:24.668464435Z`).
pub(super) fn now_text() -> String {
    let (s, n) = now();
    rfc3339(s, Some(n), 0)
}

/// An RFC 3339 time at a fixed offset from UTC (in minutes), with or without a nanosecond
/// fraction.
pub(super) fn rfc3339(secs: i64, nanos: Option<u32>, offset_minutes: i32) -> String {
    let local = secs.saturating_add(i64::from(offset_minutes) * 60);
    let (y, m, d) = civil(local.div_euclid(86_400));
    let sod = local.rem_euclid(86_400);
    let mut t = format!("{y:04}-{m:02}-{d:02}T{:02}:{:02}:{:02}", sod / 3600, sod / 60 % 60, sod % 60);
    if let Some(n) = nanos {
        t.push_str(&format!(".{n:09}"));
    }
    if offset_minutes == 0 {
        t.push('Z');
    } else {
        let sign = if offset_minutes < 0 { '-' } else { '+' };
        let a = offset_minutes.unsigned_abs();
        t.push_str(&format!("{sign}{:02}:{:02}", a / 60, a % 60));
    }
    t
}

/// The proleptic Gregorian date of a day counted from 1970-01-01 (H. Hinnant's algorithm).
fn civil(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (yoe + era * 400 + i64::from(m <= 2), m, d)
}

fn splitmix(mut x: u64) -> u64 {
    x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
    x = (x ^ (x >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    x = (x ^ (x >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    x ^ (x >> 31)
}

/// A version-4-shaped UUID made from a number (`7b08df51-c1ac-453c-99f9-323a5f075f0d`).
pub(super) fn uuid(n: u64) -> String {
    let a = splitmix(n);
    let b = splitmix(a);
    format!(
        "{:08x}-{:04x}-4{:03x}-{:04x}-{:012x}",
        a >> 32,
        (a >> 16) & 0xffff,
        a & 0xfff,
        0x8000 | ((b >> 48) & 0x3fff),
        b & 0xffff_ffff_ffff
    )
}

/// The same asset id for the same symbol, as the venue's asset table would give.
pub(super) fn asset_id(symbol: &str) -> String {
    let h = symbol.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
    uuid(h)
}

/// Makes fresh ids: a seed from the time the venue started, then a counter.
pub(super) struct Ids {
    seed: u64,
    n: u64,
}

impl Ids {
    pub fn new() -> Ids {
        let (s, n) = now();
        Ids { seed: splitmix((s as u64) << 30 ^ u64::from(n)), n: 0 }
    }

    pub fn next(&mut self) -> String {
        self.n += 1;
        uuid(self.seed ^ self.n.wrapping_mul(0x2545_f491_4f6c_dd1d))
    }
}

/// The value of `name` in a query string, percent-decoded.
pub(super) fn query_param(query: &str, name: &str) -> Option<String> {
    query.split('&').find_map(|kv| {
        let (k, v) = kv.split_once('=').unwrap_or((kv, ""));
        (k == name).then(|| percent_decode(v))
    })
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok());
        match (bytes[i], hex.and_then(|h| u8::from_str_radix(h, 16).ok())) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b'+', _) => {
                out.push(b' ');
                i += 1;
            }
            (c, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decimals_are_written_without_trailing_zeros() {
        assert_eq!(dec(150.0), "150");
        assert_eq!(dec(0.1234), "0.1234");
        assert_eq!(dec(-0.0), "0");
        assert_eq!(dec(99_549.7), "99549.7");
    }

    #[test]
    fn times_are_rfc3339_with_nanoseconds() {
        assert_eq!(rfc3339(1_702_420_284, Some(668_464_435), 0), "2023-12-12T22:31:24.668464435Z");
        assert_eq!(rfc3339(1_750_788_922, None, -240), "2025-06-24T14:15:22-04:00");
    }

    #[test]
    fn query_values_are_percent_decoded() {
        assert_eq!(query_param("a=1&client_order_id=x%2Fy+z", "client_order_id").as_deref(), Some("x/y z"));
        assert_eq!(query_param("a=%zz", "a").as_deref(), Some("%zz"));
    }
}
