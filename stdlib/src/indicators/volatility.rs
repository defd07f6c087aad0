//! Standard deviation, Bollinger bands and average true range.

use super::{Ring, Sma, Sums2, WarmUp};

/// Population standard deviation over `period` values, from running sums of values and squares.
#[derive(Debug, Clone)]
pub struct StdDev {
    n: f64,
    /// The last `period` values and their squares.
    window: Ring<[f64; 2]>,
    /// Sums of the values and of their squares, updated side by side, each exact to an ulp
    /// (a square is taken out as the very figure that was put in, so it never drifts).
    sums: Sums2,
    /// Counts the values up to the first deviation.
    warm: WarmUp,
}

impl StdDev {
    pub fn new(period: usize) -> StdDev {
        let period = period.max(1);
        StdDev { n: period as f64, window: Ring::new(period), sums: Sums2::default(), warm: WarmUp::new(period - 1) }
    }

    /// Mean and standard deviation of the last `period` values, once there are that many.
    /// The running sums drop the oldest value before adding the newest, as TA-Lib's do.
    #[inline]
    fn moments(&mut self, x: f64) -> Option<(f64, f64)> {
        let new = [x, x * x];
        let old = self.window.replace(new);
        self.sums.replace(old, new);
        if self.warm.tick() {
            return None;
        }
        // Both means in one division of the pair. They are divisions, as TA-Lib's are, not
        // multiplications by 1/n: the variance is a difference of two close numbers, so a
        // rounding step in either shows up a thousandfold in the deviation.
        let [sum, sum_sq] = self.sums.value();
        let [mean, mean_sq] = [sum / self.n, sum_sq / self.n];
        let var = mean_sq - mean * mean;
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
