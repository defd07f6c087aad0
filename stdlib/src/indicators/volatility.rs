//! Standard deviation, Bollinger bands and average true range.

use super::{Sma, Window};

/// Population standard deviation over `period` values, from running sums of values and squares.
#[derive(Debug, Clone)]
pub struct StdDev {
    period: usize,
    window: Window,
    sum: f64,
    sum_sq: f64,
}

impl StdDev {
    pub fn new(period: usize) -> StdDev {
        StdDev { period: period.max(1), window: Window::new(period), sum: 0.0, sum_sq: 0.0 }
    }

    /// Mean and standard deviation of the last `period` values, once there are that many.
    /// The running sums then drop the oldest value, as TA-Lib's do.
    #[inline]
    fn moments(&mut self, x: f64) -> Option<(f64, f64)> {
        self.window.push(x);
        self.sum += x;
        self.sum_sq += x * x;
        if !self.window.is_full() {
            return None;
        }
        let n = self.period as f64;
        let mean = self.sum / n;
        let var = self.sum_sq / n - mean * mean;
        let old = self.window.oldest();
        self.sum -= old;
        self.sum_sq -= old * old;
        // TA-Lib treats a variance within 1e-8 of zero (or below it) as zero; NaN fails too.
        Some((mean, if var >= 0.000_000_01 { var.sqrt() } else { 0.0 }))
    }

    #[inline]
    pub fn push(&mut self, x: f64) -> Option<f64> {
        self.moments(x).map(|(_, sd)| sd)
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Bands {
    pub upper: f64,
    pub middle: f64,
    pub lower: f64,
}

/// Bollinger bands: SMA middle, `k` population standard deviations (around that SMA) apart.
#[derive(Debug, Clone)]
pub struct Bollinger {
    moments: StdDev,
    k: f64,
}

impl Bollinger {
    pub fn new(period: usize, k: f64) -> Bollinger {
        Bollinger { moments: StdDev::new(period), k }
    }

    #[inline]
    pub fn push(&mut self, x: f64) -> Option<Bands> {
        let (middle, sd) = self.moments.moments(x)?;
        let width = sd * self.k;
        Some(Bands { upper: middle + width, middle, lower: middle - width })
    }
}

/// Average true range with Wilder's smoothing, seeded by the simple average of the first
/// `period` true ranges (first value at index `period`).
#[derive(Debug, Clone)]
pub struct Atr {
    period: usize,
    prev_close: Option<f64>,
    seed: Sma,
    value: Option<f64>,
}

impl Atr {
    pub fn new(period: usize) -> Atr {
        Atr { period: period.max(1), prev_close: None, seed: Sma::new(period), value: None }
    }

    #[inline]
    pub fn push(&mut self, high: f64, low: f64, close: f64) -> Option<f64> {
        let prev = self.prev_close.replace(close)?;
        let mut tr = high - low;
        let up = (prev - high).abs();
        if up > tr {
            tr = up;
        }
        let down = (prev - low).abs();
        if down > tr {
            tr = down;
        }
        let n = self.period as f64;
        self.value = match self.value {
            None => self.seed.push(tr),
            Some(v) => Some((v * (n - 1.0) + tr) / n),
        };
        self.value
    }
}
