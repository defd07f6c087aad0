//! Cron schedules in their own time zone, checked against the engine's steps (bar times are
//! New York time). The next occurrence is worked out once and kept, so a step costs one
//! comparison until the schedule is due.

use chrono::{Duration, NaiveDateTime, TimeZone};

pub struct Schedule {
    cron: croner::Cron,
    tz: chrono_tz::Tz,
    /// The next occurrence at or after `from`, in New York time (`None`: none left).
    next: Option<NaiveDateTime>,
    /// Where `next` was searched from.
    from: Option<NaiveDateTime>,
}

const NY: chrono_tz::Tz = chrono_tz::America::New_York;

impl Schedule {
    pub fn parse(cron: &str, tz: &str) -> Option<Schedule> {
        let cron = croner::parser::CronParser::new().parse(cron).ok()?;
        let tz = tz.parse::<chrono_tz::Tz>().ok()?;
        Some(Schedule { cron, tz, next: None, from: None })
    }

    /// The first occurrence at or after `t` (New York time).
    fn search(&self, t: NaiveDateTime) -> Option<NaiveDateTime> {
        let from = NY.from_local_datetime(&t).earliest()?;
        let next = self.cron.find_next_occurrence(&from.with_timezone(&self.tz), true).ok()?;
        Some(next.with_timezone(&NY).naive_local())
    }

    /// Whether the schedule has an occurrence in the bar that ends at this step: for daily bars
    /// the bar's whole day; otherwise the time after the previous step, up to this one.
    pub fn fires(&mut self, t: NaiveDateTime, prev: Option<NaiveDateTime>, daily: bool) -> bool {
        let (start, end, end_inclusive) = if daily {
            let day = t.date().and_time(chrono::NaiveTime::MIN);
            (day, day + Duration::days(1), false)
        } else {
            // (prev, t]: search from just after the previous step.
            let start = prev.unwrap_or(t - Duration::minutes(1)) + Duration::seconds(1);
            (start, t, true)
        };
        // Search again when the window starts before where the kept occurrence was found from
        // (time never goes back in a run, so only the first step and gaps do this) or after it.
        let stale = match (self.from, self.next) {
            (Some(from), Some(next)) => start < from || next < start,
            (Some(from), None) => start < from,
            _ => true,
        };
        if stale {
            self.next = self.search(start);
            self.from = Some(start);
        }
        let Some(next) = self.next else { return false };
        let inside = if end_inclusive { next <= end } else { next < end };
        if inside {
            // Used: the next one is searched from the end of this window.
            let after = if end_inclusive { end + Duration::seconds(1) } else { end };
            self.next = self.search(after);
            self.from = Some(after);
        }
        inside
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn at(d: u32, h: u32, m: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 3, d).and_then(|x| x.and_hms_opt(h, m, 0)).unwrap_or_default()
    }

    #[test]
    fn daily_bars_fire_on_the_days_named() {
        let mut s = Schedule::parse("0 16 * * 1-5", "America/New_York").expect("valid");
        // 2024-03-04 is a Monday.
        let days: Vec<u32> = (4..11).filter(|d| s.fires(at(*d, 0, 0), None, true)).collect();
        assert_eq!(days, vec![4, 5, 6, 7, 8]);
    }

    #[test]
    fn intraday_steps_fire_at_the_first_step_at_or_after_the_time() {
        let mut s = Schedule::parse("30 10 * * *", "America/New_York").expect("valid");
        let steps: Vec<NaiveDateTime> = (0..12).map(|i| at(4, 10, 0) + Duration::minutes(5 * i)).collect();
        let mut prev = None;
        let mut hits = Vec::new();
        for t in steps {
            if s.fires(t, prev, false) {
                hits.push(t.time().to_string());
            }
            prev = Some(t);
        }
        assert_eq!(hits, vec!["10:30:00"]);
    }
}
