//! Loading 1,000,000 one-minute bars: parsing CSV text, and decoding the binary cache (into a
//! new vector, whose memory the system hands out page by page, and into one kept from the
//! previous load).
//!
//! Run with `cargo bench -p strat-data --bench load`. Best of 5.
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock

use std::fmt::Write;
use std::time::{Duration, Instant};
use strat_data::{cache, parse_csv};
use strat_engine::market::simulated;

fn best(mut f: impl FnMut()) -> Duration {
    (0..5)
        .map(|_| {
            let s = Instant::now();
            f();
            s.elapsed()
        })
        .min()
        .unwrap_or_default()
}

fn main() {
    // Early closes shorten a few sessions: a few days more than 1,000,000 / 390.
    let days = 1_000_000 / 390 + 30;
    let m = simulated::simulate(&simulated::Config { days, bar_minutes: 1, ..simulated::Config::default() });
    let bars = &m.bars["SPY"][..1_000_000];
    let mut csv = String::from("date,time,open,high,low,close,volume\n");
    for b in bars {
        let _ = writeln!(
            csv,
            "{},{},{},{},{},{},{}",
            b.time.date(),
            b.time.time(),
            b.open,
            b.high,
            b.low,
            b.close,
            b.volume
        );
    }
    let fp = cache::fingerprint(csv.as_bytes());
    let bytes = cache::encode(bars, fp);
    let t_csv = best(|| {
        let l = parse_csv(&csv).expect("parses");
        assert_eq!(l.bars.len(), 1_000_000);
    });
    let t_cache = best(|| {
        let b = cache::decode(&bytes, fp).expect("decodes");
        assert_eq!(b.len(), 1_000_000);
    });
    let mut kept = Vec::new();
    let t_kept = best(|| {
        assert!(cache::decode_into(&bytes, fp, &mut kept));
        assert_eq!(kept.len(), 1_000_000);
    });
    let mb = csv.len() as f64 / 1e6;
    println!(
        "1,000,000 bars: CSV {:.0} ms ({:.1} M bars/s, {mb:.0} MB); binary cache {:.1} ms, into a kept vector {:.1} ms ({:.0} MB)",
        t_csv.as_secs_f64() * 1e3,
        1.0 / t_csv.as_secs_f64(),
        t_cache.as_secs_f64() * 1e3,
        t_kept.as_secs_f64() * 1e3,
        bytes.len() as f64 / 1e6
    );
}
