//! The simulated host's parts: a clock that jumps from step to step, bars replayed from
//! memory, and news replayed from a list. With the paper broker and the offline stand-in (or
//! replayed model answers) they make a backtest.

use crate::host::{Clock, MarketData, News};
use crate::market::Bar;
use crate::news::Article;
use chrono::NaiveDateTime;
use std::collections::BTreeMap;

/// A clock that is wherever the run last moved it. Durations are simulated: zero.
#[derive(Debug, Clone, Default)]
pub struct SimClock {
    now: NaiveDateTime,
}

impl Clock for SimClock {
    fn now(&self) -> NaiveDateTime {
        self.now
    }
    #[inline]
    fn advance_to(&mut self, t: NaiveDateTime) {
        self.now = t;
    }
    fn monotonic_ms(&self) -> f64 {
        0.0
    }
    fn jumps(&self) -> bool {
        true
    }
}

/// Bars held in memory, replayed in time order: at each distinct timestamp of any series, the
/// bars stamped with it close.
pub struct Replay<'a> {
    label: String,
    symbols: Vec<String>,
    intervals: Vec<i64>,
    series: Vec<&'a [Bar]>,
    cursors: Vec<usize>,
    steps: usize,
}

impl<'a> Replay<'a> {
    pub fn new(data: &'a BTreeMap<String, Vec<Bar>>, label: impl Into<String>) -> Replay<'a> {
        let series: Vec<&[Bar]> = data.values().map(Vec::as_slice).collect();
        let steps = distinct_times(&series);
        Replay {
            label: label.into(),
            symbols: data.keys().cloned().collect(),
            intervals: series.iter().map(|b| interval_seconds(b)).collect(),
            cursors: vec![0; series.len()],
            series,
            steps,
        }
    }
}

impl MarketData for Replay<'_> {
    fn label(&self) -> String {
        self.label.clone()
    }
    fn symbols(&self) -> &[String] {
        &self.symbols
    }
    fn intervals(&self) -> &[i64] {
        &self.intervals
    }
    fn without_volume(&self) -> Vec<bool> {
        // A loader marks a volume it was not given as NaN.
        self.series.iter().map(|bars| bars.first().is_some_and(|b| b.volume.is_nan())).collect()
    }
    fn steps(&self) -> Option<usize> {
        Some(self.steps)
    }
    fn ahead(&mut self) -> Option<(&[Bar], &mut usize)> {
        let [one] = self.series.as_slice() else { return None };
        let rest = one.get(self.cursors[0]..)?;
        Some((rest, &mut self.cursors[0]))
    }
    #[inline]
    fn peek(&self) -> Option<NaiveDateTime> {
        self.series.iter().zip(&self.cursors).filter_map(|(s, &c)| s.get(c).map(|b| b.time)).min()
    }
    fn next(&mut self, closed: &mut Vec<(usize, Bar)>) -> Option<NaiveDateTime> {
        if let [one] = self.series.as_slice() {
            let bar = one.get(self.cursors[0])?;
            self.cursors[0] += 1;
            if let [only] = closed.as_mut_slice() {
                only.1 = *bar;
            } else {
                closed.clear();
                closed.push((0, *bar));
            }
            return Some(bar.time);
        }
        closed.clear();
        advance(&self.series, &mut self.cursors, |i, b| closed.push((i, *b)))
    }
}

/// Moves several series in time order to their next instant: hands each bar stamped with it
/// (`(series index, bar)`) to `each`, moves the cursors past them, and returns the instant;
/// `None` when every series has ended.
fn advance(series: &[&[Bar]], cursors: &mut [usize], mut each: impl FnMut(usize, &Bar)) -> Option<NaiveDateTime> {
    let t = series.iter().zip(cursors.iter()).filter_map(|(s, &c)| s.get(c).map(|b| b.time)).min()?;
    for (i, (s, c)) in series.iter().zip(cursors.iter_mut()).enumerate() {
        while let Some(b) = s.get(*c).filter(|b| b.time <= t) {
            each(i, b);
            *c += 1;
        }
    }
    Some(t)
}

/// How many distinct instants series in time order hold: the steps a replay takes, counted by
/// stepping through them as [`Replay`] does (sorting them all was most of the setup of a replay
/// of two series of a million bars).
fn distinct_times(series: &[&[Bar]]) -> usize {
    if let [one] = series {
        return one.len();
    }
    let mut cursors = vec![0usize; series.len()];
    std::iter::from_fn(|| advance(series, &mut cursors, |_, _| {})).count()
}

/// The typical spacing of bars in seconds (median of the first gaps); a day for one bar.
pub fn interval_seconds(bars: &[Bar]) -> i64 {
    let mut gaps: Vec<i64> =
        bars.windows(2).take(200).map(|w| (w[1].time - w[0].time).num_seconds()).filter(|g| *g > 0).collect();
    gaps.sort_unstable();
    gaps.get(gaps.len() / 2).copied().unwrap_or(86_400)
}

/// News replayed from a list sorted by publication time.
#[derive(Debug, Clone, Default)]
pub struct SimNews {
    articles: Vec<Article>,
}

impl SimNews {
    pub fn new(mut articles: Vec<Article>) -> SimNews {
        articles.sort_by_key(|a| a.published);
        SimNews { articles }
    }
}

impl News for SimNews {
    fn between(
        &self,
        symbol: Option<&str>,
        after: Option<NaiveDateTime>,
        until: NaiveDateTime,
        out: &mut Vec<Article>,
    ) {
        if self.articles.is_empty() {
            return;
        }
        let from = after.map_or(0, |a| self.articles.partition_point(|x| x.published <= a));
        for a in self.articles[from..].iter().take_while(|a| a.published <= until) {
            if symbol.is_none_or(|s| a.symbols.iter().any(|x| x == s)) {
                out.push(a.clone());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    #[test]
    fn replays_the_union_of_timestamps() {
        let t = |d| NaiveDate::from_ymd_opt(2024, 1, d).and_then(|x| x.and_hms_opt(0, 0, 0)).unwrap_or_default();
        let bar = |d, c| Bar { time: t(d), open: c, high: c, low: c, close: c, volume: 1.0 };
        let data =
            BTreeMap::from([("A".to_string(), vec![bar(1, 1.0), bar(3, 3.0)]), ("B".to_string(), vec![bar(2, 20.0)])]);
        let mut r = Replay::new(&data, "test");
        assert_eq!(r.steps(), Some(3));
        let mut closed = Vec::new();
        let mut seen = Vec::new();
        while let Some(at) = r.next(&mut closed) {
            seen.push((at, closed.iter().map(|(i, b)| (*i, b.close)).collect::<Vec<_>>()));
        }
        assert_eq!(seen, vec![(t(1), vec![(0, 1.0)]), (t(2), vec![(1, 20.0)]), (t(3), vec![(0, 3.0)])]);
    }

    #[test]
    fn counts_each_instant_once_however_many_series_share_it() {
        let t = |d| NaiveDate::from_ymd_opt(2024, 1, d).and_then(|x| x.and_hms_opt(0, 0, 0)).unwrap_or_default();
        let bars = |days: &[u32]| -> Vec<Bar> {
            days.iter().map(|&d| Bar { time: t(d), open: 1.0, high: 1.0, low: 1.0, close: 1.0, volume: 1.0 }).collect()
        };
        let (a, b, c) = (bars(&[1, 2, 5, 9]), bars(&[2, 3, 9]), bars(&[]));
        assert_eq!(distinct_times(&[&a, &b, &c]), 5, "1, 2, 3, 5, 9");
        assert_eq!(distinct_times(&[&a]), 4);
        assert_eq!(distinct_times(&[&c, &c]), 0);
        let data = BTreeMap::from([("A".to_string(), a), ("B".to_string(), b)]);
        let mut r = Replay::new(&data, "test");
        let mut closed = Vec::new();
        let mut n = 0;
        while r.next(&mut closed).is_some() {
            n += 1;
        }
        assert_eq!((r.steps(), n), (Some(5), 5));
    }
}
