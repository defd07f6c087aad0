//! RSI(14) + MACD(12,26,9) + Bollinger(20,2) + SMA(200) over 1,000,000 bars.
//!
//! Run with `cargo bench -p strat-stdlib --bench indicators`. Best of 7.
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock

use std::time::{Duration, Instant};
use strat_stdlib::indicators::{Bollinger, Macd, Rsi, Sma};

fn main() {
    // A deterministic random walk (xorshift), so every run sees the same prices.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut price = 100.0f64;
    let closes: Vec<f64> = (0..1_000_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            let step = (state >> 11) as f64 / (1u64 << 53) as f64 - 0.5;
            price = (price * (1.0 + step * 0.01)).max(1.0);
            price
        })
        .collect();
    let mut best = Duration::MAX;
    let mut checksum = 0.0;
    for _ in 0..7 {
        let start = Instant::now();
        let (mut rsi, mut macd, mut bb, mut sma) =
            (Rsi::new(14), Macd::new(12, 26, 9), Bollinger::new(20, 2.0), Sma::new(200));
        let mut acc = 0.0;
        for &c in &closes {
            acc += rsi.push(c).unwrap_or(0.0);
            acc += macd.push(c).map_or(0.0, |m| m.histogram);
            acc += bb.push(c).map_or(0.0, |b| b.upper - b.lower);
            acc += sma.push(c).unwrap_or(0.0);
        }
        best = best.min(start.elapsed());
        checksum = std::hint::black_box(acc);
    }
    let time = |name: &str, f: &mut dyn FnMut(f64) -> f64| {
        let mut best = Duration::MAX;
        for _ in 0..7 {
            let start = Instant::now();
            let mut acc = 0.0;
            for &c in &closes {
                acc += f(c);
            }
            std::hint::black_box(acc);
            best = best.min(start.elapsed());
        }
        println!("  {name}: {:.2} ms", best.as_secs_f64() * 1e3);
    };
    let mut rsi = Rsi::new(14);
    time("RSI(14) alone", &mut |c| rsi.push(c).unwrap_or(0.0));
    let mut macd = Macd::new(12, 26, 9);
    time("MACD(12,26,9) alone", &mut |c| macd.push(c).map_or(0.0, |m| m.histogram));
    let mut bb = Bollinger::new(20, 2.0);
    time("Bollinger(20,2) alone", &mut |c| bb.push(c).map_or(0.0, |b| b.upper - b.lower));
    let mut sma = Sma::new(200);
    time("SMA(200) alone", &mut |c| sma.push(c).unwrap_or(0.0));
    println!(
        "RSI + MACD + Bollinger + SMA(200) over 1,000,000 bars: {:.2} ms (best of 7; checksum {checksum:.3})",
        best.as_secs_f64() * 1e3
    );
}
