//! WebSocket ingest on one core: frames of `AM` events for 500 symbols decoded (`Decoder`),
//! each minute stamped in New York time, checked as every bar is, and filed by minute, as the
//! live feed does before handing minutes to the engine.
//!
//! Run with `cargo bench -p strat-feeds --bench ingest`. Prints events a second (best of 5).
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock

use std::collections::BTreeMap;
use std::time::Instant;
use strat_engine::market::Bar;
use strat_feeds::frames::{Decoder, Frame};

const SYMBOLS: usize = 500;
const FRAMES: usize = 20_000;
const PER_FRAME: usize = 25;

fn frames(symbols: &[String]) -> Vec<String> {
    let start = 1_717_421_400_000i64;
    (0..FRAMES)
        .map(|f| {
            let events: Vec<String> = (0..PER_FRAME)
                .map(|k| {
                    let i = f * PER_FRAME + k;
                    let (sym, minute) = (&symbols[i % SYMBOLS], (i / SYMBOLS) as i64);
                    let p = 100.0 + (i % 97) as f64 * 0.01;
                    let s = start + minute * 60_000;
                    format!(
                        r#"{{"ev":"AM","sym":"{sym}","v":{},"av":9470157,"op":{p},"vw":{p},"o":{p},"c":{p},"h":{},"l":{},"a":{p},"z":685,"s":{s},"e":{}}}"#,
                        1000 + i % 5000,
                        p + 0.05,
                        p - 0.05,
                        s + 60_000
                    )
                })
                .collect();
            format!("[{}]", events.join(","))
        })
        .collect()
}

fn main() {
    let symbols: Vec<String> = (0..SYMBOLS).map(|i| format!("S{i:03}")).collect();
    let frames = frames(&symbols);
    let decoder = Decoder::new(&symbols);
    let mut best = f64::MAX;
    let mut kept = 0;
    for _ in 0..5 {
        let started = Instant::now();
        let mut frame = Frame::default();
        let mut pending: BTreeMap<i64, Vec<(usize, Bar)>> = BTreeMap::new();
        for text in &frames {
            if decoder.decode(text, &mut frame).is_err() {
                continue;
            }
            for m in &frame.minutes {
                let Some(utc) = chrono::DateTime::from_timestamp_millis(m.start) else { continue };
                let time = utc.with_timezone(&chrono_tz::America::New_York).naive_local();
                let bar = Bar { time, open: m.open, high: m.high, low: m.low, close: m.close, volume: m.volume };
                if strat_data::check_bar(&bar).is_ok() {
                    pending.entry(m.start).or_default().push((m.sym, bar));
                }
            }
        }
        best = best.min(started.elapsed().as_secs_f64());
        kept = pending.values().map(Vec::len).sum();
    }
    let events = FRAMES * PER_FRAME;
    println!(
        "{events} AM events in {FRAMES} frames for {SYMBOLS} symbols: best {:.1} ms = {:.0} k events/s ({kept} bars kept)",
        best * 1e3,
        events as f64 / best / 1e3
    );
}
