//! Simple and exponential moving averages.

use super::{Sum, WarmUp, Window};

/// Simple moving average over `period` values, by a running sum as TA-Lib computes it.
#[derive(Debug, Clone)]
pub struct Sma {
    n: f64,
    window: Window,
    /// Sum of the last `period` values (fewer during the warm-up), exact to an ulp.
    sum: Sum,
    /// Counts the values up to the first average.
    warm: WarmUp,
}

impl Sma {
    #[inline]
    pub fn new(period: usize) -> Sma {
        let period = period.max(1);
        Sma { n: period as f64, window: Window::new(period), sum: Sum::default(), warm: WarmUp::new(period - 1) }
    }

    #[inline]
    pub fn push(&mut self, x: f64) -> Option<f64> {
        // Drop the oldest value, then add the newest (the window hands back 0.0 during the
        // warm-up); the sum carries its rounding error, so it never drifts.
        let old = self.window.replace(x);
        self.sum.replace(old, x);
        if self.warm.tick() {
            return None;
        }
        Some(self.sum.value() / self.n)
    }

    /// [`Sma::push`] of each value in turn, handing each result (NaN for `None`) to `each`:
    /// the same values, with the state held in registers across the run.
    #[inline]
    pub fn push_run(&mut self, xs: impl IntoIterator<Item = f64>, mut each: impl FnMut(f64)) {
        let (mut sum, mut warm, n) = (self.sum, self.warm, self.n);
        self.window.replace_run(xs, |old, x| {
            sum.replace(old, x);
            each(if warm.tick() { f64::NAN } else { sum.value() / n });
        });
        (self.sum, self.warm) = (sum, warm);
    }
}

/// Exponential moving average with `k = 2 / (period + 1)`, seeded by the SMA of the first
/// `period` values (first value at index `period - 1`).
#[derive(Debug, Clone)]
pub struct Ema {
    n: f64,
    k: f64,
    /// The average once seeded; before that, the sum of the values seen.
    value: f64,
    /// Counts the values up to the seed.
    warm: WarmUp,
}

impl Ema {
    #[inline]
    pub fn new(period: usize) -> Ema {
        let period = period.max(1);
        Ema { n: period as f64, k: 2.0 / (period as f64 + 1.0), value: 0.0, warm: WarmUp::new(period) }
    }

    #[inline]
    pub fn push(&mut self, x: f64) -> Option<f64> {
        if self.warm.tick() {
            return self.seed(x);
        }
        Some(self.step(x))
    }

    /// One step of a seeded average: TA-Lib's `(x - prev) * k + prev`.
    #[inline]
    pub(crate) fn step(&mut self, x: f64) -> f64 {
        self.value = ((x - self.value) * self.k) + self.value;
        self.value
    }

    #[inline(always)]
    fn seed(&mut self, x: f64) -> Option<f64> {
        self.value += x;
        if !self.warm.is_over() {
            return None;
        }
        self.value /= self.n;
        Some(self.value)
    }
}
