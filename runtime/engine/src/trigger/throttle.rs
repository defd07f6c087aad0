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

    /// The earliest time (seconds) at which a firing could be allowed, given the firings so
    /// far and none before then: every rule whose window is full must see its oldest counted
    /// firing age out. `t` is the time last tried; times never go back.
    pub fn opens_at(&self, t: i64) -> i64 {
        self.rules
            .iter()
            .map(|(count, window)| {
                let recent = self.fired.iter().rev().take_while(|f| t - **f < *window).count();
                let count = *count as usize;
                if recent < count {
                    i64::MIN
                } else {
                    // The firing that must leave the window: `count` back from the newest.
                    self.fired.get(self.fired.len() - count).map_or(i64::MIN, |f| f.saturating_add(*window))
                }
            })
            .max()
            .unwrap_or(i64::MIN)
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

    #[test]
    fn no_firing_is_allowed_before_it_opens_and_one_is_at_it() {
        // At every second of three hours, against a reference that just tries: whatever the
        // rules, a time before `opens_at` is refused and `opens_at` itself would be allowed.
        for rules in [vec![(1, 900)], vec![(1, 900), (4, 3600)], vec![(3, 600)], vec![(2, 60), (3, 7200)]] {
            let mut t = Throttle::new(&rules);
            let mut opens = i64::MIN;
            for s in (0..3 * 3600).step_by(7) {
                let allowed = t.try_fire(s);
                assert_eq!(allowed, s >= opens, "{rules:?} at {s}");
                opens = t.opens_at(s);
                if opens > s {
                    let mut at = t.clone();
                    assert!(at.try_fire(opens), "{rules:?}: not allowed at {opens}");
                    let mut before = t.clone();
                    assert!(!before.try_fire(opens - 1), "{rules:?}: allowed before {opens}");
                }
            }
        }
    }
}
