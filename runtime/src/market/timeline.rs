//! Walking several bar series together in time order.

use super::Bar;
use chrono::NaiveDateTime;
use std::collections::BTreeMap;

/// A symbol's latest bar at a step, and whether it closed at that step.
pub type Slot = Option<(Bar, bool)>;

/// Steps through the union of the series' timestamps. At each step it gives, per series (in
/// the map's order), the latest bar at or before that time and whether it closed at it.
pub struct Timeline<'a> {
    series: Vec<&'a [Bar]>,
    times: Vec<NaiveDateTime>,
    next: usize,
    cursors: Vec<usize>,
    current: Vec<Slot>,
}

impl<'a> Timeline<'a> {
    pub fn new(data: &'a BTreeMap<String, Vec<Bar>>) -> Timeline<'a> {
        let mut times: Vec<NaiveDateTime> = data.values().flat_map(|b| b.iter().map(|x| x.time)).collect();
        times.sort_unstable();
        times.dedup();
        Timeline {
            series: data.values().map(Vec::as_slice).collect(),
            times,
            next: 0,
            cursors: vec![0; data.len()],
            current: vec![None; data.len()],
        }
    }

    /// How many steps there are.
    pub fn len(&self) -> usize {
        self.times.len()
    }

    pub fn is_empty(&self) -> bool {
        self.times.is_empty()
    }

    /// Moves to the next timestamp; `None` at the end.
    pub fn step(&mut self) -> Option<(NaiveDateTime, &[Slot])> {
        let t = *self.times.get(self.next)?;
        self.next += 1;
        for (i, bars) in self.series.iter().enumerate() {
            let mut fresh = false;
            while self.cursors[i] < bars.len() && bars[self.cursors[i]].time <= t {
                self.current[i] = Some((bars[self.cursors[i]], true));
                self.cursors[i] += 1;
                fresh = true;
            }
            if let Some((_, new)) = &mut self.current[i] {
                *new = fresh;
            }
        }
        Some((t, &self.current))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn steps_through_the_union_of_timestamps() {
        let t = |d| NaiveDate::from_ymd_opt(2024, 1, d).and_then(|x| x.and_hms_opt(0, 0, 0)).unwrap_or_default();
        let bar = |d, c| Bar { time: t(d), open: c, high: c, low: c, close: c, volume: 1.0 };
        let data =
            BTreeMap::from([("A".to_string(), vec![bar(1, 1.0), bar(3, 3.0)]), ("B".to_string(), vec![bar(2, 20.0)])]);
        let mut tl = Timeline::new(&data);
        assert_eq!(tl.len(), 3);
        let mut seen = Vec::new();
        while let Some((_, cur)) = tl.step() {
            seen.push(cur.iter().map(|c| c.map(|(b, fresh)| (b.close, fresh))).collect::<Vec<_>>());
        }
        assert_eq!(
            seen,
            vec![
                vec![Some((1.0, true)), None],
                vec![Some((1.0, false)), Some((20.0, true))],
                vec![Some((3.0, true)), Some((20.0, false))],
            ]
        );
    }
}
