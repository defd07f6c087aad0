//! Highest and lowest over a window, by monotonic queues (amortised O(1)).

use std::collections::VecDeque;

#[derive(Debug, Clone)]
struct Extreme {
    period: usize,
    seen: usize,
    /// (index, value), values monotonic from front to back.
    queue: VecDeque<(usize, f64)>,
}

impl Extreme {
    fn new(period: usize) -> Extreme {
        Extreme { period: period.max(1), seen: 0, queue: VecDeque::new() }
    }

    fn push(&mut self, x: f64, dominates: impl Fn(f64, f64) -> bool) -> Option<f64> {
        let i = self.seen;
        self.seen += 1;
        while self.queue.back().is_some_and(|&(_, v)| dominates(x, v)) {
            self.queue.pop_back();
        }
        self.queue.push_back((i, x));
        while self.queue.front().is_some_and(|&(j, _)| j + self.period <= i) {
            self.queue.pop_front();
        }
        (self.seen >= self.period).then(|| self.queue.front().map_or(x, |&(_, v)| v))
    }
}

/// Highest value of the last `period` values.
#[derive(Debug, Clone)]
pub struct Highest(Extreme);

impl Highest {
    pub fn new(period: usize) -> Highest {
        Highest(Extreme::new(period))
    }

    #[inline]
    pub fn push(&mut self, x: f64) -> Option<f64> {
        self.0.push(x, |new, old| new >= old)
    }
}

/// Lowest value of the last `period` values.
#[derive(Debug, Clone)]
pub struct Lowest(Extreme);

impl Lowest {
    pub fn new(period: usize) -> Lowest {
        Lowest(Extreme::new(period))
    }

    #[inline]
    pub fn push(&mut self, x: f64) -> Option<f64> {
        self.0.push(x, |new, old| new <= old)
    }
}
