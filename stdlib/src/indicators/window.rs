//! A fixed-size ring of the last `n` values.

/// The last `n` values pushed, starting as `n` zeros. Each push replaces the value pushed `n`
/// pushes earlier and hands it back, so running sums update the same way during the warm-up
/// (the value handed back is then zero, and `s - 0.0` is `s`).
#[derive(Debug, Clone)]
pub(crate) struct Ring<T> {
    values: Box<[T]>,
    /// Where the next value goes: the oldest value held (`values.len()` stands for slot 0).
    head: usize,
}

/// A ring of single values.
pub(crate) type Window = Ring<f64>;

impl<T: Copy + Default> Ring<T> {
    pub(crate) fn new(n: usize) -> Ring<T> {
        Ring { values: vec![T::default(); n.max(1)].into_boxed_slice(), head: 0 }
    }

    /// Stores `x` and returns the value pushed `n` pushes ago (zero before there were `n`).
    #[inline(always)]
    pub(crate) fn replace(&mut self, x: T) -> T {
        // The bounds check doubles as the wrap-around test: one predictable branch, and no
        // index arithmetic beyond the increment.
        let i = self.head;
        if let Some(slot) = self.values.get_mut(i) {
            self.head = i + 1;
            return std::mem::replace(slot, x);
        }
        self.head = 1;
        match self.values.first_mut() {
            Some(slot) => std::mem::replace(slot, x),
            None => T::default(), // never: a ring holds at least one value
        }
    }

    /// The oldest value held: the one the next [`Ring::replace`] hands back.
    #[inline]
    pub(crate) fn oldest(&self) -> T {
        self.values.get(self.head).or_else(|| self.values.first()).copied().unwrap_or_default()
    }

    /// [`Ring::replace`] of each value of `xs` in turn, handing `f` the value replaced and the
    /// value stored; the position is held in a register across the run.
    #[inline(always)]
    pub(crate) fn replace_run(&mut self, xs: impl IntoIterator<Item = T>, mut f: impl FnMut(T, T)) {
        let mut i = self.head;
        for x in xs {
            let old = match self.values.get_mut(i) {
                Some(slot) => {
                    i += 1;
                    std::mem::replace(slot, x)
                }
                None => {
                    i = 1;
                    self.values.first_mut().map_or(T::default(), |slot| std::mem::replace(slot, x))
                }
            };
            f(old, x);
        }
        self.head = i;
    }
}

/// A running sum that carries its own rounding error: each addition's error is found exactly
/// (Knuth's two-sum) and kept beside the sum, so adding a value and later taking it out leaves
/// the sum as if it had never been added. A window's sum then recovers within one window of
/// any input (a spike, a huge price) and never drifts along a series, and two windows whose
/// values add up to the same exact sum give the same (correctly rounded) figure.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Sum {
    hi: f64,
    /// The rounding errors of `hi`, summed: `hi + lo` is the exact sum to well within an ulp.
    lo: f64,
}

impl Sum {
    /// The window's update: take out `old`, put in `new`. The difference is found exactly
    /// first (`d + e == new - old`), off the sum's dependency chain, so the sum itself takes one
    /// addition a push and its error one more.
    #[inline(always)]
    pub(crate) fn replace(&mut self, old: f64, new: f64) {
        let (d, e) = two_sum(new, -old);
        let (t, err) = two_sum(self.hi, d);
        self.hi = t;
        self.lo += err + e;
    }

    #[inline(always)]
    pub(crate) fn value(self) -> f64 {
        self.hi + self.lo
    }
}

/// Two [`Sum`]s updated side by side (a deviation's sums of values and of squares), laid out
/// lane by lane so that each step is one pair instruction and the pair is stored and loaded
/// whole.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Sums2 {
    hi: [f64; 2],
    lo: [f64; 2],
}

impl Sums2 {
    /// [`Sum::replace`] in each lane.
    #[inline(always)]
    pub(crate) fn replace(&mut self, old: [f64; 2], new: [f64; 2]) {
        let mut hi = [0.0; 2];
        let mut lo = [0.0; 2];
        for k in 0..2 {
            let (d, e) = two_sum(new[k], -old[k]);
            let (t, err) = two_sum(self.hi[k], d);
            hi[k] = t;
            lo[k] = self.lo[k] + (err + e);
        }
        (self.hi, self.lo) = (hi, lo);
    }

    #[inline(always)]
    pub(crate) fn value(self) -> [f64; 2] {
        [self.hi[0] + self.lo[0], self.hi[1] + self.lo[1]]
    }
}

/// `a + b` and its rounding error, exactly (Knuth): `s + e == a + b`.
#[inline(always)]
fn two_sum(a: f64, b: f64) -> (f64, f64) {
    let s = a + b;
    let bb = s - a;
    (s, (a - (s - bb)) + (b - bb))
}

#[cfg(test)]
mod tests {
    use super::{Sum, Window};

    #[test]
    fn a_sum_forgets_a_value_taken_out_whatever_its_size() {
        let mut s = Sum::default();
        for x in [100.1, 100.2, 99.7] {
            s.replace(0.0, x);
        }
        let before = s.value();
        for spike in [1e9, 1e17, 1e300, 3.3e-7] {
            s.replace(0.0, spike);
            s.replace(spike, 0.0);
            assert_eq!(s.value(), before, "after {spike}");
        }
        // 0.1 + 0.2 + 0.3 rounds to 0.6000000000000001 one by one; the carried error fixes it.
        let mut t = Sum::default();
        for x in [0.1, 0.2, 0.3] {
            t.replace(0.0, x);
        }
        assert_eq!(t.value(), 0.6);
        // A pair of sums does in each lane what one sum does.
        let mut pair = super::Sums2::default();
        let mut one = [Sum::default(); 2];
        for (i, x) in [3.0, 1e17, 0.1, 0.2, 0.3, 7.5].into_iter().enumerate() {
            let old = if i >= 2 { [x - 1.0, (x - 1.0) * 2.0] } else { [0.0; 2] };
            pair.replace(old, [x, x * 2.0]);
            one[0].replace(old[0], x);
            one[1].replace(old[1], x * 2.0);
            assert_eq!(pair.value(), [one[0].value(), one[1].value()]);
        }
    }

    #[test]
    fn hands_back_the_value_from_n_pushes_ago() {
        let mut w = Window::new(3);
        let out: Vec<f64> = (1..=8).map(|i| w.replace(f64::from(i))).collect();
        assert_eq!(out, [0.0, 0.0, 0.0, 1.0, 2.0, 3.0, 4.0, 5.0]);
        let mut one = Window::new(1);
        assert_eq!([one.replace(5.0), one.replace(6.0), one.replace(7.0)], [0.0, 5.0, 6.0]);
    }

    #[test]
    fn a_run_replaces_as_one_push_at_a_time() {
        for n in [1, 2, 3, 5] {
            let (mut one, mut run) = (Window::new(n), Window::new(n));
            let single: Vec<(f64, f64)> = (1..=12).map(|i| (one.replace(f64::from(i)), f64::from(i))).collect();
            let mut batched = Vec::new();
            run.replace_run((1..=7).map(f64::from), |old, x| batched.push((old, x)));
            run.replace_run((8..=12).map(f64::from), |old, x| batched.push((old, x)));
            assert_eq!(batched, single, "ring of {n}");
            assert_eq!(run.replace(13.0), one.replace(13.0));
        }
    }
}
