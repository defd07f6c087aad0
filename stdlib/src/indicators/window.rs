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

#[cfg(test)]
mod tests {
    use super::Window;

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
