//! RSI, MACD and percent change.

use super::{Ema, WarmUp, Window};

/// Relative strength index with Wilder's smoothing; first value after `period` changes.
#[derive(Debug, Clone)]
pub struct Rsi {
    period: usize,
    keep: f64,
    inv: f64,
    /// Counts the closes up to the steady state: the first `period + 1` are the warm-up.
    warm: WarmUp,
    /// Closes seen during the warm-up.
    seen: usize,
    prev: f64,
    /// The average gain and the average loss (during the warm-up, their sums), side by side:
    /// they are updated together, and read and written as one pair.
    avg: [f64; 2],
}

impl Rsi {
    pub fn new(period: usize) -> Rsi {
        let period = period.max(1);
        Rsi {
            period,
            keep: period as f64 - 1.0,
            inv: 1.0 / period as f64,
            warm: WarmUp::new(period.saturating_add(1)),
            seen: 0,
            prev: 0.0,
            avg: [0.0; 2],
        }
    }

    #[inline]
    pub fn push(&mut self, close: f64) -> Option<f64> {
        if self.warm.tick() {
            return self.warm_up(close);
        }
        let diff = close - self.prev;
        self.prev = close;
        // The change splits into a gain and a loss without a branch (its sign is a coin toss
        // from bar to bar): (|d| + d) / 2 and (|d| − d) / 2 are exact, and equal d or −d, and 0.
        let size = diff.abs();
        let (up, down) = ((size + diff) * 0.5, (size - diff) * 0.5);
        // Wilder's smoothing, (avg × (n − 1) + x) / n, with the division as a multiplication
        // by 1/n: the averages form a dependency chain from bar to bar, and a division on it
        // is several times slower. The values differ from TA-Lib's by rounding only.
        let (keep, inv) = (self.keep, self.inv);
        let [gain, loss] = self.avg;
        self.avg = [(gain * keep + up) * inv, (loss * keep + down) * inv];
        Some(self.value())
    }

    /// The first `period + 1` closes: plain sums of gains and losses, then their averages.
    #[inline(always)]
    fn warm_up(&mut self, close: f64) -> Option<f64> {
        let changes = self.seen;
        self.seen += 1;
        let prev = std::mem::replace(&mut self.prev, close);
        if changes == 0 {
            return None;
        }
        let diff = close - prev;
        if diff < 0.0 {
            self.avg[1] -= diff;
        } else {
            self.avg[0] += diff;
        }
        if changes < self.period {
            return None;
        }
        let n = self.period as f64;
        self.avg = [self.avg[0] / n, self.avg[1] / n];
        Some(self.value())
    }

    #[inline(always)]
    fn value(&self) -> f64 {
        // TA-Lib's test for a zero total is |total| < 1e-8; the averages are never negative,
        // so the lower bound always holds (and NaN fails either way).
        let [gain, loss] = self.avg;
        let total = gain + loss;
        if total < 0.000_000_01 { 0.0 } else { 100.0 * (gain / total) }
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
    /// Counts the closes up to the first value.
    warm: WarmUp,
    /// Closes seen, counted up to `slow` (from there on both EMAs run).
    seen: usize,
    /// The slow and the fast EMA side by side, updated together; during the warm-up, the sums
    /// of the closes that seed them.
    emas: [f64; 2],
    /// Their smoothing factors, `2 / (period + 1)`.
    k: [f64; 2],
    signal: Ema,
}

impl Macd {
    pub fn new(fast: usize, slow: usize, signal: usize) -> Macd {
        let (fast, slow) = if slow < fast { (slow.max(1), fast.max(1)) } else { (fast.max(1), slow.max(1)) };
        let signal = signal.max(1);
        let k = |period: usize| 2.0 / (period as f64 + 1.0);
        Macd {
            fast_period: fast,
            slow_period: slow,
            warm: WarmUp::new(slow.saturating_add(signal - 1)),
            seen: 0,
            // The fast sum starts at `-0.0`, as a float `sum()` does (`-0.0 + x` is `x`).
            emas: [0.0, -0.0],
            k: [k(slow), k(fast)],
            signal: Ema::new(signal),
        }
    }

    #[inline]
    pub fn push(&mut self, close: f64) -> Option<MacdValue> {
        if self.warm.tick() {
            return self.warm_up(close);
        }
        let macd = self.step(close);
        let signal = self.signal.step(macd);
        Some(MacdValue { macd, signal, histogram: macd - signal })
    }

    /// Both EMAs one step on (TA-Lib's `(x - prev) * k + prev`); returns fast minus slow.
    #[inline(always)]
    fn step(&mut self, close: f64) -> f64 {
        let [slow, fast] = self.emas;
        let [k_slow, k_fast] = self.k;
        self.emas = [((close - slow) * k_slow) + slow, ((close - fast) * k_fast) + fast];
        self.emas[1] - self.emas[0]
    }

    /// The first `slow + signal - 1` closes: the slow EMA's seed and the sum of the last
    /// `fast` closes up to it, then the signal EMA's seed.
    #[inline(always)]
    fn warm_up(&mut self, close: f64) -> Option<MacdValue> {
        let macd = if self.seen < self.slow_period {
            let i = self.seen;
            self.seen += 1;
            self.emas[0] += close;
            if i >= self.slow_period - self.fast_period {
                self.emas[1] += close;
            }
            if self.seen < self.slow_period {
                return None;
            }
            self.emas = [self.emas[0] / self.slow_period as f64, self.emas[1] / self.fast_period as f64];
            self.emas[1] - self.emas[0]
        } else {
            self.step(close)
        };
        let signal = self.signal.push(macd)?;
        Some(MacdValue { macd, signal, histogram: macd - signal })
    }
}

/// Percent change of the value over the last `bars` bars.
#[derive(Debug, Clone)]
pub struct Change {
    window: Window,
    warm: WarmUp,
}

impl Change {
    pub fn new(bars: usize) -> Change {
        let bars = bars.max(1);
        Change { window: Window::new(bars), warm: WarmUp::new(bars) }
    }

    #[inline]
    pub fn push(&mut self, x: f64) -> Option<f64> {
        let then = self.window.replace(x);
        if self.warm.tick() {
            return None;
        }
        (then != 0.0).then(|| (x / then - 1.0) * 100.0)
    }
}

/// Percent change from the close of the session `sessions` back, for intraday bars: `1d` is
/// the previous session's last close, whatever the time of day now. A session is the bars of one
/// day (`day`: any number that changes when the day does).
#[derive(Debug, Clone)]
pub struct SessionChange {
    /// The last closes of the sessions that ended, newest last (zero before there were any).
    closes: Window,
    warm: WarmUp,
    day: Option<i64>,
    last: f64,
}

impl SessionChange {
    pub fn new(sessions: usize) -> SessionChange {
        let sessions = sessions.max(1);
        // The warm-up counts the sessions ended: the first value comes after `sessions` of them.
        SessionChange { closes: Window::new(sessions), warm: WarmUp::new(sessions), day: None, last: 0.0 }
    }

    #[inline]
    pub fn push(&mut self, day: i64, close: f64) -> Option<f64> {
        if self.day.is_some_and(|d| d != day) {
            // A new session: the one before has ended with the last close seen.
            self.closes.replace(self.last);
            self.warm.tick();
        }
        self.day = Some(day);
        self.last = close;
        if !self.warm.is_over() {
            return None;
        }
        let then = self.closes.oldest();
        (then != 0.0).then(|| (close / then - 1.0) * 100.0)
    }
}
