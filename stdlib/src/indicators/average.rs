//! Simple and exponential moving averages.

use super::Window;

/// Simple moving average over `period` values, by a running sum as TA-Lib computes it.
#[derive(Debug, Clone)]
pub struct Sma {
    period: usize,
    window: Window,
    sum: f64,
}

impl Sma {
    pub fn new(period: usize) -> Sma {
        Sma { period: period.max(1), window: Window::new(period), sum: 0.0 }
    }

    #[inline]
    pub fn push(&mut self, x: f64) -> Option<f64> {
        // Add the newest value, take the average, then drop the oldest: TA-Lib's order, so
        // between calls the sum holds the last `period - 1` values.
        self.window.push(x);
        self.sum += x;
        if !self.window.is_full() {
            return None;
        }
        let out = self.sum / self.period as f64;
        self.sum -= self.window.oldest();
        Some(out)
    }
}

/// Exponential moving average with `k = 2 / (period + 1)`, seeded by the SMA of the first
/// `period` values (first value at index `period - 1`).
#[derive(Debug, Clone)]
pub struct Ema {
    period: usize,
    k: f64,
    seed_sum: f64,
    seen: usize,
    value: Option<f64>,
}

impl Ema {
    pub fn new(period: usize) -> Ema {
        let period = period.max(1);
        Ema { period, k: 2.0 / (period as f64 + 1.0), seed_sum: 0.0, seen: 0, value: None }
    }

    /// Starts from a given average (used by MACD, whose fast EMA is seeded late).
    pub(crate) fn seeded(period: usize, seed: f64) -> Ema {
        let mut e = Ema::new(period);
        e.value = Some(seed);
        e.seen = e.period;
        e
    }

    #[inline]
    pub fn push(&mut self, x: f64) -> Option<f64> {
        match self.value {
            Some(prev) => {
                let v = ((x - prev) * self.k) + prev;
                self.value = Some(v);
            }
            None => {
                self.seed_sum += x;
                self.seen += 1;
                if self.seen == self.period {
                    self.value = Some(self.seed_sum / self.period as f64);
                }
            }
        }
        self.value
    }
}
