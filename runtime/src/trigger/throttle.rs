//! Throttles: at most N firings in any window of a given length.

use std::collections::VecDeque;

#[derive(Debug, Clone, Default)]
pub struct Throttle {
    /// `(count, window in seconds)`.
    rules: Vec<(u32, i64)>,
    /// Times (seconds) of firings still inside the longest window, oldest first.
    fired: VecDeque<i64>,
    longest: i64,
}

impl Throttle {
    pub fn new(rules: &[(u32, u64)]) -> Throttle {
        let rules: Vec<(u32, i64)> = rules.iter().map(|(n, w)| (*n, i64::try_from(*w).unwrap_or(i64::MAX))).collect();
        let longest = rules.iter().map(|r| r.1).max().unwrap_or(0);
        Throttle { rules, fired: VecDeque::new(), longest }
    }

    /// Whether a firing at `t` (seconds) is allowed; if so it is counted.
    #[inline]
    pub fn try_fire(&mut self, t: i64) -> bool {
        if self.rules.is_empty() {
            return true;
        }
        while self.fired.front().is_some_and(|f| t - f >= self.longest) {
            self.fired.pop_front();
        }
        let allowed = self.rules.iter().all(|(count, window)| {
            let recent = self.fired.iter().rev().take_while(|f| t - **f < *window).count();
            recent < *count as usize
        });
        if allowed {
            self.fired.push_back(t);
        }
        allowed
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_firings_per_window() {
        let day = 86_400;
        let mut t = Throttle::new(&[(2, 5 * 86_400)]);
        let allowed: Vec<i64> = (0..12).filter(|d| t.try_fire(d * day)).collect();
        assert_eq!(allowed, vec![0, 1, 5, 6, 10, 11]);
    }

    #[test]
    fn several_rules_all_apply() {
        // 1 per 15 minutes and 4 per hour, tried every 5 minutes for two hours.
        let mut t = Throttle::new(&[(1, 900), (4, 3600)]);
        let allowed: Vec<i64> = (0..24).map(|i| i * 300).filter(|s| t.try_fire(*s)).collect();
        assert_eq!(allowed, vec![0, 900, 1800, 2700, 3600, 4500, 5400, 6300]);
        let mut none = Throttle::new(&[]);
        assert!((0..5).all(|_| none.try_fire(0)));
    }
}
