//! Resampling bars to a longer interval (1m → 5m, 15m, 1h, 1d).

use super::Bar;
use chrono::{NaiveDateTime, Timelike};

/// Groups bars into intervals of `seconds` (a divisor of a day, or a whole day) aligned to
/// midnight; each group becomes one bar stamped with its interval's start: first open, highest
/// high, lowest low, last close, summed volume. Bars must be in time order.
pub fn resample(bars: &[Bar], seconds: u32) -> Vec<Bar> {
    let seconds = seconds.clamp(1, 86_400);
    let bucket = |t: NaiveDateTime| -> NaiveDateTime {
        let since_midnight = t.num_seconds_from_midnight();
        let start = since_midnight - since_midnight % seconds;
        t.date().and_hms_opt(start / 3600, (start % 3600) / 60, start % 60).unwrap_or(t)
    };
    let mut out: Vec<Bar> = Vec::new();
    for b in bars {
        let start = bucket(b.time);
        match out.last_mut() {
            Some(cur) if cur.time == start => {
                cur.high = cur.high.max(b.high);
                cur.low = cur.low.min(b.low);
                cur.close = b.close;
                cur.volume += b.volume;
            }
            _ => out.push(Bar { time: start, ..*b }),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn bar(h: u32, m: u32, o: f64, hi: f64, lo: f64, c: f64, v: f64) -> Bar {
        let time = NaiveDate::from_ymd_opt(2024, 3, 1).and_then(|d| d.and_hms_opt(h, m, 0)).expect("valid");
        Bar { time, open: o, high: hi, low: lo, close: c, volume: v }
    }

    #[test]
    fn five_minutes_into_fifteen_and_a_day() {
        let bars = [
            bar(9, 30, 10.0, 11.0, 9.5, 10.5, 100.0),
            bar(9, 35, 10.5, 12.0, 10.0, 11.0, 50.0),
            bar(9, 40, 11.0, 11.5, 8.0, 9.0, 25.0),
            bar(9, 45, 9.0, 9.5, 8.5, 9.2, 10.0),
        ];
        let q = resample(&bars, 900);
        assert_eq!(q.len(), 2);
        assert_eq!(q[0], bar(9, 30, 10.0, 12.0, 8.0, 9.0, 175.0));
        assert_eq!(q[1], bar(9, 45, 9.0, 9.5, 8.5, 9.2, 10.0));
        let d = resample(&bars, 86_400);
        assert_eq!(d, vec![bar(0, 0, 10.0, 12.0, 8.0, 9.2, 185.0)]);
    }
}
