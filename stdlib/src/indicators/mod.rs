//! Streaming indicators: each takes one value (or bar) at a time in O(1) and returns `None`
//! during its warm-up. The arithmetic follows TA-Lib's step by step (running sums, SMA-seeded
//! EMAs, Wilder smoothing, population variance), so values agree with it to rounding.

mod average;
mod momentum;
mod range;
mod volatility;
mod vwap;
mod window;

pub use average::{Ema, Sma};
pub use momentum::{Change, Macd, MacdValue, Rsi, SessionChange};
pub use range::{Highest, Lowest};
pub use volatility::{Atr, Bands, Bollinger, StdDev};
pub use vwap::Vwap;
pub(crate) use window::{Ring, Sum, Sums2, Window};

/// Counts the values pushed into an indicator, to tell its warm-up from its steady state.
///
/// The count starts at minus the length of the warm-up and rises by one with every value, on
/// every path, so the steady state pays one increment and one test of the sign, with no
/// conditional arithmetic; and the compiler predicts a test for a negative number to fail, so it
/// lays the steady state out as the straight path.
#[derive(Debug, Clone, Copy)]
pub(crate) struct WarmUp(i64);

impl WarmUp {
    /// A warm-up of `values` values.
    pub(crate) fn new(values: usize) -> WarmUp {
        WarmUp(i64::try_from(values).map_or(i64::MIN, |n| -n))
    }

    /// Counts one value; returns whether it was still part of the warm-up.
    #[inline(always)]
    pub(crate) fn tick(&mut self) -> bool {
        let before = self.0;
        // Cannot overflow from any start: it would take 2^63 values.
        self.0 = before.wrapping_add(1);
        before < 0
    }

    /// Whether every value of the warm-up has been counted.
    #[inline(always)]
    pub(crate) fn is_over(self) -> bool {
        self.0 >= 0
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run<T>(xs: &[f64], mut f: impl FnMut(f64) -> Option<T>) -> Vec<Option<T>> {
        xs.iter().map(|x| f(*x)).collect()
    }

    #[test]
    fn stddev_is_the_population_deviation() {
        let mut s = StdDev::new(4);
        let out = run(&[2.0, 4.0, 4.0, 4.0, 5.0, 5.0, 7.0, 9.0], |x| s.push(x));
        assert_eq!(out[..3], [None, None, None]);
        // [2,4,4,4]: mean 3.5, squares 4+16+16+16 = 52, 52/4 - 12.25 = 0.75.
        assert!((out[3].unwrap_or_default() - 0.75f64.sqrt()).abs() < 1e-12);
        // [5,5,7,9]: mean 6.5, var (1.5² + 1.5² + 0.5² + 2.5²) / 4 = 2.75.
        assert!((out[7].unwrap_or_default() - 2.75f64.sqrt()).abs() < 1e-12);
    }

    #[test]
    fn highest_and_lowest_slide() {
        let xs = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0];
        let mut h = Highest::new(3);
        let mut l = Lowest::new(3);
        assert_eq!(
            run(&xs, |x| h.push(x)),
            [None, None, Some(4.0), Some(4.0), Some(5.0), Some(9.0), Some(9.0), Some(9.0)]
        );
        assert_eq!(
            run(&xs, |x| l.push(x)),
            [None, None, Some(1.0), Some(1.0), Some(1.0), Some(1.0), Some(2.0), Some(2.0)]
        );
    }

    #[test]
    fn change_is_percent_over_n_bars() {
        let mut c = Change::new(2);
        let out = run(&[100.0, 50.0, 110.0, 55.0], |x| c.push(x));
        assert_eq!(out[..2], [None, None]);
        assert!((out[2].unwrap_or_default() - 10.0).abs() < 1e-12);
        assert!((out[3].unwrap_or_default() - 10.0).abs() < 1e-12);
    }

    #[test]
    fn vwap_weights_typical_price_by_volume_within_a_session() {
        let mut v = Vwap::new();
        assert_eq!(v.push(1, 12.0, 9.0, 9.0, 100.0), Some(10.0));
        // (10 × 100 + 20 × 300) / 400 = 17.5
        assert_eq!(v.push(1, 21.0, 19.0, 20.0, 300.0), Some(17.5));
        assert_eq!(v.push(2, 3.0, 3.0, 3.0, 10.0), Some(3.0));
    }

    #[test]
    fn sma_and_ema_by_hand() {
        let mut s = Sma::new(3);
        assert_eq!(run(&[1.0, 2.0, 3.0, 4.0, 8.0], |x| s.push(x)), [None, None, Some(2.0), Some(3.0), Some(5.0)]);
        let mut e = Ema::new(3);
        // Seed 2.0, then k = 0.5: (4 - 2) / 2 + 2 = 3, (8 - 3) / 2 + 3 = 5.5.
        assert_eq!(run(&[1.0, 2.0, 3.0, 4.0, 8.0], |x| e.push(x)), [None, None, Some(2.0), Some(3.0), Some(5.5)]);
    }

    #[test]
    fn an_sma_run_gives_each_push_bit_for_bit() {
        // A walk with values of every magnitude, so the running sum rounds at each step.
        let xs: Vec<f64> =
            (0..300).map(|i| (f64::from(i) * 0.37).sin() * 10f64.powi(i % 7) + 1e-3 * f64::from(i)).collect();
        for period in [1, 2, 9, 30, 299, 300, 301] {
            let mut one = Sma::new(period);
            let single: Vec<u64> = xs.iter().map(|x| one.push(*x).unwrap_or(f64::NAN).to_bits()).collect();
            let mut run = Sma::new(period);
            let mut batched = Vec::new();
            for part in xs.chunks(37) {
                run.push_run(part.iter().copied(), |v| batched.push(v.to_bits()));
            }
            assert_eq!(batched, single, "period {period}");
            assert_eq!(run.push(5.0), one.push(5.0));
        }
    }

    #[test]
    fn rsi_of_a_flat_series_is_zero_and_of_a_rising_one_is_100() {
        let mut r = Rsi::new(3);
        assert_eq!(run(&[5.0; 5], |x| r.push(x))[3], Some(0.0));
        let mut r = Rsi::new(3);
        assert_eq!(run(&[1.0, 2.0, 3.0, 4.0], |x| r.push(x))[3], Some(100.0));
    }
}
