//! Loading 1,000,000 one-minute bars: parsing CSV text, streaming it from a reader, loading it
//! from a file (read whole then parsed, as the CLI did, against streamed, as it does), and
//! decoding the binary cache (into a new vector, whose memory the system hands out page by
//! page, and into one kept from the previous load).
//!
//! Run with `cargo bench -p strat-data --bench load`. Best of 5.
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock

use std::fmt::Write;
use std::time::{Duration, Instant};
use strat_data::{CsvOptions, cache, parse_csv, parse_csv_reader};
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
    let options = CsvOptions::default();
    let size = Some(csv.len() as u64);
    let t_stream = best(|| {
        let l = parse_csv_reader(csv.as_bytes(), &options, size).expect("parses");
        assert_eq!(l.bars.len(), 1_000_000);
    });
    let path = std::env::temp_dir().join(format!("strat-bench-load-{}.csv", std::process::id()));
    std::fs::write(&path, &csv).expect("writes the file");
    let t_read_whole = best(|| {
        let text = std::fs::read_to_string(&path).expect("reads");
        assert_eq!(parse_csv(&text).expect("parses").bars.len(), 1_000_000);
    });
    let t_file = best(|| {
        let file = std::fs::File::open(&path).expect("opens");
        let l = parse_csv_reader(file, &options, size).expect("parses");
        assert_eq!(l.bars.len(), 1_000_000);
    });
    let _ = std::fs::remove_file(&path);
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
    let ms = |t: Duration| t.as_secs_f64() * 1e3;
    println!(
        "CSV streamed from memory {:.0} ms; from a file: read whole then parsed {:.0} ms, streamed {:.0} ms",
        ms(t_stream),
        ms(t_read_whole),
        ms(t_file)
    );
}
