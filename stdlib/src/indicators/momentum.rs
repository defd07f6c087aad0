//! RSI, MACD and percent change.

use super::{Ema, Window, is_zero};

/// Relative strength index with Wilder's smoothing; first value after `period` changes.
#[derive(Debug, Clone)]
pub struct Rsi {
    period: usize,
    keep: f64,
    inv: f64,
    prev: Option<f64>,
    gain: f64,
    loss: f64,
    changes: usize,
}

impl Rsi {
    pub fn new(period: usize) -> Rsi {
        let period = period.max(1);
        Rsi {
            period,
            keep: period as f64 - 1.0,
            inv: 1.0 / period as f64,
            prev: None,
            gain: 0.0,
            loss: 0.0,
            changes: 0,
        }
    }

    #[inline]
    pub fn push(&mut self, close: f64) -> Option<f64> {
        let prev = self.prev.replace(close)?;
        let diff = close - prev;
        let n = self.period as f64;
        self.changes += 1;
        if self.changes <= self.period {
            if diff < 0.0 {
                self.loss -= diff;
            } else {
                self.gain += diff;
            }
            if self.changes < self.period {
                return None;
            }
            self.loss /= n;
            self.gain /= n;
        } else {
            // Wilder's smoothing, (avg × (n − 1) + x) / n, with the division as a multiplication
            // by 1/n: the averages form a dependency chain from bar to bar, and a division on it
            // is several times slower. The values differ from TA-Lib's by rounding only.
            let (keep, inv) = (self.keep, self.inv);
            let (up, down) = if diff < 0.0 { (0.0, -diff) } else { (diff, 0.0) };
            self.loss = (self.loss * keep + down) * inv;
            self.gain = (self.gain * keep + up) * inv;
        }
        let total = self.gain + self.loss;
        Some(if is_zero(total) { 0.0 } else { 100.0 * (self.gain / total) })
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MacdValue {
    pub macd: f64,
    pub signal: f64,
    pub histogram: f64,
}

/// MACD as TA-Lib computes it: both EMAs start at bar `slow - 1`, the fast one seeded with the
/// average of its last `fast` closes there, and the signal EMA seeded with the average of the
/// first `signal` MACD values. First value at index `slow + signal - 2`.
#[derive(Debug, Clone)]
pub struct Macd {
    fast_period: usize,
    slow_period: usize,
    recent: Window,
    slow: Ema,
    fast: Option<Ema>,
    signal: Ema,
}

impl Macd {
    pub fn new(fast: usize, slow: usize, signal: usize) -> Macd {
        let (fast, slow) = if slow < fast { (slow.max(1), fast.max(1)) } else { (fast.max(1), slow.max(1)) };
        Macd {
            fast_period: fast,
            slow_period: slow,
            recent: Window::new(fast),
            slow: Ema::new(slow),
            fast: None,
            signal: Ema::new(signal.max(1)),
        }
    }

    #[inline]
    pub fn push(&mut self, close: f64) -> Option<MacdValue> {
        if self.fast.is_none() {
            self.recent.push(close);
        }
        let slow = self.slow.push(close)?;
        let fast = match &mut self.fast {
            Some(f) => f.push(close)?,
            None => {
                let seed = self.recent.iter().sum::<f64>() / self.fast_period as f64;
                self.fast = Some(Ema::seeded(self.fast_period, seed));
                seed
            }
        };
        let _ = self.slow_period;
        let macd = fast - slow;
        let signal = self.signal.push(macd)?;
        Some(MacdValue { macd, signal, histogram: macd - signal })
    }
}

/// Percent change of the value over the last `bars` bars.
#[derive(Debug, Clone)]
pub struct Change {
    window: Window,
}

impl Change {
    pub fn new(bars: usize) -> Change {
        Change { window: Window::new(bars.max(1) + 1) }
    }

    #[inline]
    pub fn push(&mut self, x: f64) -> Option<f64> {
        self.window.push(x);
        if !self.window.is_full() {
            return None;
        }
        let then = self.window.oldest();
        (then != 0.0).then(|| (x / then - 1.0) * 100.0)
    }
}
