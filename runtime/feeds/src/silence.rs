//! A silent feed judged against the market, as Polygon's market status gives it.
//!
//! Silence while the market is closed (nights, weekends, holidays, and the extended hours, when
//! a minute has a bar only if something traded in it) is normal: it is said once a closed
//! period, and the feed goes on waiting. Silence while the market is open is a stale feed, and
//! so is silence when the status cannot be had (fail closed): said at once, then again, with
//! how long it has lasted, on each further attempt to reconnect, until bars come again. The
//! silence of a market that has just opened counts from when the feed learnt it opened. The
//! status is asked at most once per `every`.

use crate::polygon::{MarketStatus, Session};
use std::time::{Duration, Instant};

/// What the market status says of a silence.
#[derive(Debug, Clone, PartialEq)]
enum Verdict {
    /// The regular session: a bar is due every minute.
    Open,
    /// Closed, or in extended hours: what the status said.
    Closed(String),
    /// The status could not be had: why.
    Unknown(String),
}

/// What the feed does about a silence.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Silence {
    /// Goes on waiting on the socket.
    Wait,
    /// Reconnects: the feed is stale.
    Stale,
}

/// The state of the judgement from one silence to the next.
#[derive(Debug)]
pub(crate) struct Watch {
    every: Duration,
    /// When the status was last asked, and what it said.
    asked: Option<(Instant, Verdict)>,
    /// The market was last seen closed, and that was said.
    closed: bool,
    /// Since when the feed has been stale: the start of the silence that made it so.
    stale_since: Option<Instant>,
}

impl Watch {
    pub(crate) fn new(every: Duration) -> Watch {
        Watch { every, asked: None, closed: false, stale_since: None }
    }

    /// The feed has been silent since `since` for its idle time, at `now`: wait or reconnect,
    /// with what the user should be told in `notes`. `ask` gives the market status; it is
    /// called only when the last answer is older than `every`. A market that has just opened
    /// moves `since` to `now`.
    pub(crate) fn judge(
        &mut self,
        now: Instant,
        since: &mut Instant,
        ask: impl FnOnce() -> Result<MarketStatus, String>,
        notes: &mut Vec<String>,
    ) -> Silence {
        match self.verdict(now, ask) {
            Verdict::Closed(what) => {
                self.stale_since = None;
                if !std::mem::replace(&mut self.closed, true) {
                    notes.push(format!("the market is closed; waiting for the open ({what})"));
                }
                Silence::Wait
            }
            Verdict::Open if self.closed => {
                self.closed = false;
                *since = now;
                Silence::Wait
            }
            Verdict::Open => self.stale(now, *since, "the market is open", notes),
            Verdict::Unknown(why) => {
                self.closed = false;
                let why = format!("the market status could not be had ({why}), so it counts as open");
                self.stale(now, *since, &why, notes)
            }
        }
    }

    /// Whether the feed is stale now.
    pub(crate) fn is_stale(&self) -> bool {
        self.stale_since.is_some()
    }

    /// An attempt to reconnect failed: while the feed is stale, said with how long it has been.
    pub(crate) fn attempt_failed(&self, now: Instant, attempt: u32, why: &str, notes: &mut Vec<String>) {
        if let Some(from) = self.stale_since {
            let stale = span(now.saturating_duration_since(from));
            notes.push(format!("the feed has been stale for {stale}; reconnection attempt {attempt} failed: {why}"));
        }
    }

    /// A bar came over the socket: the feed is no longer stale, and says so if it was.
    pub(crate) fn bar_came(&mut self, now: Instant, notes: &mut Vec<String>) {
        if let Some(from) = self.stale_since.take() {
            notes.push(format!(
                "bars are coming again; the feed was stale for {}",
                span(now.saturating_duration_since(from))
            ));
        }
    }

    /// The last answer while it is fresh, else a new one.
    fn verdict(&mut self, now: Instant, ask: impl FnOnce() -> Result<MarketStatus, String>) -> Verdict {
        if let Some((at, v)) = &self.asked
            && now.saturating_duration_since(*at) < self.every
        {
            return v.clone();
        }
        let v = match ask() {
            Ok(s) if s.market == Session::Open => Verdict::Open,
            Ok(s) => Verdict::Closed(format!("Polygon's market status: {} at {}", s.market.name(), s.server_time)),
            Err(why) => Verdict::Unknown(why),
        };
        self.asked = Some((now, v.clone()));
        v
    }

    /// The feed is stale: said at once the first time, with how long it has been after.
    fn stale(&mut self, now: Instant, since: Instant, why: &str, notes: &mut Vec<String>) -> Silence {
        match self.stale_since {
            None => {
                self.stale_since = Some(since);
                let silent = span(now.saturating_duration_since(since));
                notes.push(format!("the feed is stale: no frame for {silent} and {why}; reconnecting"));
            }
            Some(from) => {
                let stale = span(now.saturating_duration_since(from));
                notes.push(format!("the feed has been stale for {stale} ({why}); reconnecting again"));
            }
        }
        Silence::Stale
    }
}

/// A duration as a person reads it: `250 ms`, `45 s`, `3 min 5 s`, `2 h 10 min`.
pub(crate) fn span(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0 => format!("{} ms", d.as_millis()),
        1..120 => format!("{s} s"),
        120..7200 if s.is_multiple_of(60) => format!("{} min", s / 60),
        120..7200 => format!("{} min {} s", s / 60, s % 60),
        _ => format!("{} h {} min", s / 3600, s % 3600 / 60),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::DateTime;

    /// An instant to count from (the judgement is given its times: none is slept).
    #[allow(clippy::disallowed_methods)] // a test's origin of time
    fn start() -> Instant {
        Instant::now()
    }

    fn status(market: Session) -> Result<MarketStatus, String> {
        let server_time = DateTime::parse_from_rfc3339("2024-06-03T20:00:00-04:00").map_err(|e| e.to_string())?;
        Ok(MarketStatus { market, server_time })
    }

    #[test]
    fn a_closed_market_is_said_once_a_period_and_asked_at_most_once_per_interval() {
        let t0 = start();
        let mut w = Watch::new(Duration::from_secs(60));
        let (mut notes, mut asked) = (Vec::new(), 0);
        let mut since = t0;
        for s in [120, 122, 124, 178, 181, 300] {
            let ask = || {
                asked += 1;
                status(Session::Closed)
            };
            assert_eq!(w.judge(t0 + Duration::from_secs(s), &mut since, ask, &mut notes), Silence::Wait);
        }
        assert_eq!(asked, 3, "at 120 s, 181 s and 300 s");
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].starts_with("the market is closed; waiting for the open (Polygon's market status: closed at 2024-06-03 20:00:00 -04:00)"), "{notes:?}");
        // It opens: the silence counts from then, and is stale only an idle time later.
        let open = t0 + Duration::from_secs(400);
        assert_eq!(w.judge(open, &mut since, || status(Session::Open), &mut notes), Silence::Wait);
        assert_eq!(since, open);
        let later = open + Duration::from_secs(120);
        assert_eq!(w.judge(later, &mut since, || status(Session::Open), &mut notes), Silence::Stale);
        assert_eq!(notes[1], "the feed is stale: no frame for 2 min and the market is open; reconnecting");
    }

    #[test]
    fn a_stale_feed_says_how_long_on_each_attempt_until_bars_come_again() {
        let t0 = start();
        let mut w = Watch::new(Duration::from_secs(60));
        let mut notes = Vec::new();
        let mut since = t0;
        let at = |s| t0 + Duration::from_secs(s);
        assert_eq!(w.judge(at(120), &mut since, || Err("503".into()), &mut notes), Silence::Stale);
        assert!(w.is_stale());
        w.attempt_failed(at(125), 2, "cannot connect", &mut notes);
        since = at(130);
        assert_eq!(w.judge(at(250), &mut since, || status(Session::Open), &mut notes), Silence::Stale);
        w.bar_came(at(251), &mut notes);
        w.bar_came(at(252), &mut notes);
        assert_eq!(
            notes,
            vec![
                "the feed is stale: no frame for 2 min and the market status could not be had (503), so it counts as open; reconnecting",
                "the feed has been stale for 2 min 5 s; reconnection attempt 2 failed: cannot connect",
                "the feed has been stale for 4 min 10 s (the market is open); reconnecting again",
                "bars are coming again; the feed was stale for 4 min 11 s",
            ]
        );
        assert!(!w.is_stale());
    }

    #[test]
    fn durations_are_said_in_the_largest_units_that_fit() {
        let s = Duration::from_secs;
        assert_eq!(span(Duration::from_millis(250)), "250 ms");
        assert_eq!((span(s(45)), span(s(120)), span(s(185))), ("45 s".into(), "2 min".into(), "3 min 5 s".into()));
        assert_eq!(span(s(7800)), "2 h 10 min");
    }
}
