//! A fixed-size ring of the last `n` values.

#[derive(Debug, Clone)]
pub(crate) struct Window {
    values: Vec<f64>,
    head: usize,
    len: usize,
}

impl Window {
    pub(crate) fn new(n: usize) -> Window {
        Window { values: vec![0.0; n.max(1)], head: 0, len: 0 }
    }

    /// Adds `x`; returns the value that fell out when the window was full.
    #[inline]
    pub(crate) fn push(&mut self, x: f64) -> Option<f64> {
        let cap = self.values.len();
        if self.len < cap {
            // While filling, `head` stays 0 and values go in order.
            self.values[self.len] = x;
            self.len += 1;
            None
        } else {
            let old = std::mem::replace(&mut self.values[self.head], x);
            self.head += 1;
            if self.head == cap {
                self.head = 0;
            }
            Some(old)
        }
    }

    #[inline]
    pub(crate) fn is_full(&self) -> bool {
        self.len == self.values.len()
    }

    /// The oldest value held.
    #[inline]
    pub(crate) fn oldest(&self) -> f64 {
        self.values[self.head]
    }

    /// Values from oldest to newest.
    pub(crate) fn iter(&self) -> impl Iterator<Item = f64> + '_ {
        let cap = self.values.len();
        (0..self.len).map(move |i| self.values[(self.head + i) % cap])
    }
}
