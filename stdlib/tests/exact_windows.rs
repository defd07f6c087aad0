//! Window sums are exact to an ulp: they recover within one period of any input, never drift
//! along a series (checked against exact integer arithmetic over a million bars), and windows
//! whose values have the same exact mean give the same figure.
#![allow(clippy::disallowed_methods)] // a test reads a shared price file

use std::path::Path;
use strat_stdlib::indicators::{Bollinger, Sma, StdDev};

/// A million prices in cents, a random walk around $100 (deterministic).
fn cents(n: usize) -> Vec<i64> {
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut c: i64 = 10_000;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            c = (c + (state % 41) as i64 - 20).clamp(1_000, 1_000_000);
            c
        })
        .collect()
}

/// The exact mean and population deviation of `window` (cents), from integer sums.
fn exact(window: &[i64]) -> (f64, f64) {
    let n = window.len() as i128;
    let s: i128 = window.iter().map(|&c| i128::from(c)).sum();
    let q: i128 = window.iter().map(|&c| i128::from(c) * i128::from(c)).sum();
    // mean = s / (100 n); variance = (n q - s²) / (100 n)², both exact before the one rounding.
    let mean = s as f64 / (100 * n) as f64;
    let var = (n * q - s * s) as f64 / ((100 * n) as f64).powi(2);
    (mean, var.max(0.0).sqrt())
}

#[test]
fn a_million_bars_of_sma_stddev_and_bollinger_keep_to_exact_arithmetic() {
    let c = cents(1_000_000);
    let period = 20;
    let (mut sma, mut sd, mut bands) = (Sma::new(period), StdDev::new(period), Bollinger::new(period, 2.0));
    let (mut worst_mean, mut worst_sd, mut worst_band) = (0.0f64, 0.0f64, 0.0f64);
    for i in 0..c.len() {
        let x = c[i] as f64 / 100.0;
        let (m, s, b) = (sma.push(x), sd.push(x), bands.push(x));
        if i + 1 < period {
            assert!(m.is_none() && s.is_none() && b.is_none());
            continue;
        }
        let (mean, dev) = exact(&c[i + 1 - period..=i]);
        let (m, s, b) = (m.unwrap_or(f64::NAN), s.unwrap_or(f64::NAN), b.map_or(f64::NAN, |b| b.upper));
        worst_mean = worst_mean.max((m - mean).abs());
        worst_sd = worst_sd.max((s - dev).abs());
        worst_band = worst_band.max((b - (mean + 2.0 * dev)).abs());
    }
    // Running sums drifted to 2.6e-8 by this bar; exact sums stay at the inputs' own rounding.
    assert!(worst_mean < 1e-12, "sma off by {worst_mean:e}");
    assert!(worst_sd < 1e-9, "stddev off by {worst_sd:e}");
    assert!(worst_band < 1e-9, "bollinger off by {worst_band:e}");
}

#[test]
fn sma_and_stddev_recover_within_a_period_of_a_spike() {
    let c = cents(300);
    let xs: Vec<f64> = c.iter().map(|&c| c as f64 / 100.0).collect();
    // The largest price a loader admits (the data's checks refuse more than 1e9).
    let mut spiked = xs.clone();
    spiked[100] = 1e9;
    let period = 5;
    let (mut a, mut b) = (Sma::new(period), Sma::new(period));
    let (mut sa, mut sb) = (StdDev::new(period), StdDev::new(period));
    for i in 0..xs.len() {
        let (clean, dirty) = (a.push(xs[i]), b.push(spiked[i]));
        let (clean_sd, dirty_sd) = (sa.push(xs[i]), sb.push(spiked[i]));
        if i >= 100 + period {
            assert_eq!(dirty, clean, "sma at bar {i}, {} bars after the spike", i - 100);
            assert_eq!(dirty_sd, clean_sd, "stddev at bar {i}");
            assert!(clean_sd.is_some_and(|s| s > 0.0), "the walk moves");
        }
    }
}

/// One column of a shared price file, as numbers.
fn column(file: &str, name: &str) -> (Vec<String>, Vec<f64>) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../shared/data/prices").join(file);
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    let mut lines = text.lines();
    let header: Vec<String> = lines.next().unwrap_or_default().split(',').map(|h| h.to_lowercase()).collect();
    let at = header.iter().position(|h| h == name).unwrap_or_else(|| panic!("no {name}"));
    lines
        .filter(|l| !l.is_empty())
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (f[0].to_string(), f[at].parse::<f64>().unwrap_or(f64::NAN))
        })
        .unzip()
}

#[test]
fn averages_equal_in_exact_arithmetic_compare_equal() {
    // Days of real series where SMA(10) and SMA(30) are exactly equal in decimal arithmetic
    // (3 × the 10-day sum is the 30-day sum): exact sums see them equal, as backtrader's
    // `math.fsum` does; running sums saw them an ulp apart, a crossing a day early.
    for (file, col, day) in [
        ("yhoo-1996-2015.txt", "open", "2009-01-20"),
        ("yhoo-1996-2015.txt", "high", "1997-11-17"),
        ("yhoo-1996-2015.txt", "low", "2009-12-18"),
    ] {
        let (days, xs) = column(file, col);
        let (mut ten, mut thirty) = (Sma::new(10), Sma::new(30));
        let mut seen = None;
        for (d, x) in days.iter().zip(&xs) {
            let (a, b) = (ten.push(*x), thirty.push(*x));
            if d == day {
                seen = Some((a, b));
            }
        }
        let (a, b) = seen.unwrap_or_else(|| panic!("{day} in {file}"));
        assert!(a.is_some() && a == b, "{file} {col} {day}: {a:?} vs {b:?}");
    }
}
