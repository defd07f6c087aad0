//! Threshold triggers indexed by the value they watch, with their thresholds sorted, so a new
//! value finds the triggers it fires by binary search instead of testing each one.
//!
//! Level triggers (`price(AAPL) > $200`) fire at every value that satisfies them: the ones that
//! fire form a prefix (for `>`) or a suffix (for `<`) of their sorted list. Crossing triggers
//! (`price(AAPL) crosses above $200`) fire when the sign of `value - threshold` turns; between
//! two values only the thresholds lying between them can turn, and only those are visited. A
//! zero difference carries the sign before it, as crossings of expressions do.

/// Which comparison a threshold trigger makes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cmp {
    Gt,
    Ge,
    Lt,
    Le,
    CrossAbove,
    CrossBelow,
}

#[derive(Debug, Clone, Copy)]
struct Level<T> {
    threshold: f64,
    /// `>`/`<` rather than `>=`/`<=`.
    strict: bool,
    trigger: T,
}

#[derive(Debug, Clone, Copy)]
struct Edge<T> {
    threshold: f64,
    above: bool,
    trigger: T,
    /// Sign of `value - threshold` at the last value (0 before any, or while equal from the start).
    sign: i8,
}

/// The thresholds on one watched value, each with what it hands out when it fires (a trigger's
/// id, or its firing ready made).
#[derive(Debug, Clone)]
pub struct Thresholds<T> {
    /// `value > t` / `value >= t`, by threshold ascending.
    greater: Vec<Level<T>>,
    /// `value < t` / `value <= t`, by threshold ascending.
    less: Vec<Level<T>>,
    edges: Vec<Edge<T>>,
    /// The last defined value (NaN before the first).
    last: f64,
    /// Edges whose signs were set from a first value.
    primed: bool,
    /// Where the last value fell in each list: values move little from one tick to the next,
    /// so the next search starts there.
    greater_at: usize,
    less_at: usize,
    edges_at: usize,
}

/// `list.partition_point(pred)`, searched from `hint` outwards: a few steps when the answer
/// is near the hint, a binary search over the rest when it is not.
#[inline]
fn seek<T>(list: &[T], hint: usize, pred: impl Fn(&T) -> bool) -> usize {
    let n = list.len();
    let mut at = hint.min(n);
    if at < n && pred(&list[at]) {
        for _ in 0..4 {
            at += 1;
            if at == n || !pred(&list[at]) {
                return at;
            }
        }
        at + list[at..].partition_point(&pred)
    } else {
        for _ in 0..4 {
            if at == 0 || pred(&list[at - 1]) {
                return at;
            }
            at -= 1;
        }
        list[..at].partition_point(&pred)
    }
}

fn sign(d: f64, before: i8) -> i8 {
    if d > 0.0 {
        1
    } else if d < 0.0 {
        -1
    } else {
        before
    }
}

impl<T> Default for Thresholds<T> {
    fn default() -> Thresholds<T> {
        Thresholds {
            greater: Vec::new(),
            less: Vec::new(),
            edges: Vec::new(),
            last: f64::NAN,
            primed: false,
            greater_at: 0,
            less_at: 0,
            edges_at: 0,
        }
    }
}

impl<T: Copy> Thresholds<T> {
    pub fn new() -> Thresholds<T> {
        Thresholds::default()
    }

    /// Adds a trigger; call [`Thresholds::seal`] after the last one.
    pub fn add(&mut self, cmp: Cmp, threshold: f64, trigger: T) {
        match cmp {
            Cmp::Gt | Cmp::Ge => self.greater.push(Level { threshold, strict: cmp == Cmp::Gt, trigger }),
            Cmp::Lt | Cmp::Le => self.less.push(Level { threshold, strict: cmp == Cmp::Lt, trigger }),
            Cmp::CrossAbove | Cmp::CrossBelow => {
                self.edges.push(Edge { threshold, above: cmp == Cmp::CrossAbove, trigger, sign: 0 });
            }
        }
    }

    /// Sorts the thresholds (ties keep the order triggers were added in).
    pub fn seal(&mut self) {
        let by = |a: f64, b: f64| a.total_cmp(&b);
        self.greater.sort_by(|a, b| by(a.threshold, b.threshold));
        self.less.sort_by(|a, b| by(a.threshold, b.threshold));
        self.edges.sort_by(|a, b| by(a.threshold, b.threshold));
    }

    pub fn len(&self) -> usize {
        self.greater.len() + self.less.len() + self.edges.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Takes a new value and appends the triggers it fires to `out`. An undefined value (NaN)
    /// fires nothing and leaves crossings as they were.
    #[inline]
    pub fn update(&mut self, v: f64, out: &mut Vec<T>) {
        if v.is_nan() {
            return;
        }
        // Level triggers over: every threshold below v, and those equal to it when not strict.
        let g = &self.greater;
        let i = seek(g, self.greater_at, |l| l.threshold < v);
        self.greater_at = i;
        out.extend(g[..i].iter().map(|l| l.trigger));
        out.extend(g[i..].iter().take_while(|l| l.threshold == v).filter(|l| !l.strict).map(|l| l.trigger));
        // Level triggers under: every threshold above v, and those equal to it when not strict.
        let l = &self.less;
        let j = seek(l, self.less_at, |x| x.threshold <= v);
        self.less_at = j;
        out.extend(l[..j].iter().rev().take_while(|x| x.threshold == v).filter(|x| !x.strict).map(|x| x.trigger));
        out.extend(l[j..].iter().map(|x| x.trigger));
        if self.edges.is_empty() {
            self.last = v;
            return;
        }
        if !self.primed {
            for e in &mut self.edges {
                e.sign = sign(v - e.threshold, 0);
            }
            self.primed = true;
            self.last = v;
            return;
        }
        // Only thresholds between the last value and this one can change sign.
        let (lo, hi) = if self.last <= v { (self.last, v) } else { (v, self.last) };
        let from = seek(&self.edges, self.edges_at, |e| e.threshold < lo);
        let to = seek(&self.edges, from, |e| e.threshold <= hi);
        self.edges_at = seek(&self.edges, if self.last <= v { to } else { from }, |e| e.threshold < v);
        for e in &mut self.edges[from..to] {
            let new = sign(v - e.threshold, e.sign);
            let fired = if e.above { e.sign == -1 && new == 1 } else { e.sign == 1 && new == -1 };
            e.sign = new;
            if fired {
                out.push(e.trigger);
            }
        }
        self.last = v;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn fired(t: &mut Thresholds<u32>, v: f64) -> Vec<u32> {
        let mut out = Vec::new();
        t.update(v, &mut out);
        out.sort_unstable();
        out
    }

    #[test]
    fn level_triggers_fire_while_true_with_strictness_at_the_threshold() {
        let mut t = Thresholds::new();
        t.add(Cmp::Gt, 10.0, 0);
        t.add(Cmp::Ge, 10.0, 1);
        t.add(Cmp::Gt, 12.0, 2);
        t.add(Cmp::Lt, 10.0, 3);
        t.add(Cmp::Le, 10.0, 4);
        t.add(Cmp::Lt, 8.0, 5);
        t.seal();
        assert_eq!(fired(&mut t, 10.0), vec![1, 4]);
        assert_eq!(fired(&mut t, 11.0), vec![0, 1]);
        assert_eq!(fired(&mut t, 13.0), vec![0, 1, 2]);
        assert_eq!(fired(&mut t, 7.0), vec![3, 4, 5]);
        assert_eq!(fired(&mut t, f64::NAN), Vec::<u32>::new());
    }

    #[test]
    fn crossings_fire_once_and_a_touch_carries_the_sign() {
        // As in the expression evaluator's test: value - 10 goes -, -, 0, +, +, 0, -, +.
        let mut t = Thresholds::new();
        t.add(Cmp::CrossAbove, 10.0, 0);
        t.add(Cmp::CrossBelow, 10.0, 1);
        t.seal();
        let seen: Vec<Vec<u32>> =
            [8.0, 9.0, 10.0, 11.0, 12.0, 10.0, 9.0, 11.0].iter().map(|v| fired(&mut t, *v)).collect();
        assert_eq!(seen, vec![vec![], vec![], vec![], vec![0], vec![], vec![], vec![1], vec![0]]);
    }

    #[test]
    fn seeking_from_any_hint_finds_the_partition() {
        let xs: Vec<i32> = (0..40).map(|i| i / 3).collect();
        for target in -1..15 {
            for hint in 0..=xs.len() + 2 {
                assert_eq!(seek(&xs, hint, |x| *x < target), xs.partition_point(|x| *x < target), "{target} {hint}");
            }
        }
        assert_eq!(seek(&[] as &[i32], 3, |x| *x < 1), 0);
    }

    #[test]
    fn a_jump_over_many_thresholds_fires_each_once() {
        let mut t = Thresholds::new();
        for (i, th) in [1.0, 2.0, 3.0, 4.0].iter().enumerate() {
            t.add(Cmp::CrossAbove, *th, i as u32);
        }
        t.seal();
        assert!(fired(&mut t, 0.5).is_empty());
        assert_eq!(fired(&mut t, 3.5), vec![0, 1, 2]);
        assert_eq!(fired(&mut t, 3.6), Vec::<u32>::new());
        // An undefined value in between leaves the signs: from 3.6 to 4.5 crosses 4 only.
        assert!(fired(&mut t, f64::NAN).is_empty());
        assert_eq!(fired(&mut t, 4.5), vec![3]);
    }

    #[test]
    fn matches_a_scan_of_every_trigger_on_random_walks() {
        // Reference: test each trigger by its definition, keeping a sign per crossing.
        let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut rand = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 11) as f64 / (1u64 << 53) as f64
        };
        let cmps = [Cmp::Gt, Cmp::Ge, Cmp::Lt, Cmp::Le, Cmp::CrossAbove, Cmp::CrossBelow];
        let specs: Vec<(Cmp, f64)> =
            (0..200).map(|i| (cmps[i % 6], (90.0 + 20.0 * rand()).round() / 2.0 * 2.0)).collect();
        let mut t = Thresholds::new();
        for (i, (c, th)) in specs.iter().enumerate() {
            t.add(*c, *th, i as u32);
        }
        t.seal();
        let mut signs = vec![0i8; specs.len()];
        let mut primed = false;
        let mut v = 100.0f64;
        for _ in 0..5000 {
            v = (v + (rand() - 0.5) * 4.0).round();
            let mut want = Vec::new();
            for (i, (c, th)) in specs.iter().enumerate() {
                let d = v - th;
                let new = sign(d, signs[i]);
                let hit = match c {
                    Cmp::Gt => v > *th,
                    Cmp::Ge => v >= *th,
                    Cmp::Lt => v < *th,
                    Cmp::Le => v <= *th,
                    Cmp::CrossAbove => primed && signs[i] == -1 && new == 1,
                    Cmp::CrossBelow => primed && signs[i] == 1 && new == -1,
                };
                if matches!(c, Cmp::CrossAbove | Cmp::CrossBelow) {
                    signs[i] = if primed { new } else { sign(d, 0) };
                }
                if hit {
                    want.push(i as u32);
                }
            }
            primed = true;
            assert_eq!(fired(&mut t, v), want, "at {v}");
        }
    }
}
