//! The NYSE trading calendar: holidays (with the exchange's weekend rules), special closures and
//! early closes. Times are New York local time.

use chrono::{Datelike, Duration, NaiveDate, NaiveDateTime, NaiveTime, Weekday};

/// Regular session: 09:30 to 16:00; early closes end at 13:00.
pub const OPEN: NaiveTime = match NaiveTime::from_hms_opt(9, 30, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};
pub const CLOSE: NaiveTime = match NaiveTime::from_hms_opt(16, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};
pub const EARLY_CLOSE: NaiveTime = match NaiveTime::from_hms_opt(13, 0, 0) {
    Some(t) => t,
    None => NaiveTime::MIN,
};

/// Days the exchange closed outside its holiday rules (national mourning, 9/11, storms).
const SPECIAL_CLOSURES: &[(i32, u32, u32)] = &[
    (2001, 9, 11),
    (2001, 9, 12),
    (2001, 9, 13),
    (2001, 9, 14),
    (2004, 6, 11),
    (2007, 1, 2),
    (2012, 10, 29),
    (2012, 10, 30),
    (2018, 12, 5),
    (2025, 1, 9),
];

fn date(y: i32, m: u32, d: u32) -> Option<NaiveDate> {
    NaiveDate::from_ymd_opt(y, m, d)
}

/// The `n`-th (1-based) `weekday` of a month; `n = 0` means the last.
fn nth_weekday(y: i32, m: u32, weekday: Weekday, n: u32) -> Option<NaiveDate> {
    if n == 0 {
        let next = if m == 12 { date(y + 1, 1, 1)? } else { date(y, m + 1, 1)? };
        let mut d = next - Duration::days(1);
        while d.weekday() != weekday {
            d -= Duration::days(1);
        }
        return Some(d);
    }
    let first = date(y, m, 1)?;
    let offset = (7 + weekday.num_days_from_monday() - first.weekday().num_days_from_monday()) % 7;
    date(y, m, 1 + offset + 7 * (n - 1))
}

/// Easter Sunday (Gregorian), by the anonymous computus.
fn easter(y: i32) -> Option<NaiveDate> {
    let a = y % 19;
    let b = y / 100;
    let c = y % 100;
    let d = b / 4;
    let e = b % 4;
    let f = (b + 8) / 25;
    let g = (b - f + 1) / 3;
    let h = (19 * a + b - d - g + 15) % 30;
    let i = c / 4;
    let k = c % 4;
    let l = (32 + 2 * e + 2 * i - h - k) % 7;
    let m = (a + 11 * h + 22 * l) / 451;
    let month = (h + l - 7 * m + 114) / 31;
    let day = (h + l - 7 * m + 114) % 31 + 1;
    date(y, month as u32, day as u32)
}

/// A fixed-date holiday moved off the weekend: Saturday to Friday, Sunday to Monday.
fn observed(d: NaiveDate) -> NaiveDate {
    match d.weekday() {
        Weekday::Sat => d - Duration::days(1),
        Weekday::Sun => d + Duration::days(1),
        _ => d,
    }
}

/// The exchange holidays of a year.
pub fn holidays(y: i32) -> Vec<NaiveDate> {
    let mut out = Vec::new();
    // New Year's Day: a Saturday New Year is not made up on the Friday before (that Friday
    // belongs to the previous year's books).
    if let Some(d) = date(y, 1, 1)
        && d.weekday() != Weekday::Sat
    {
        out.push(observed(d));
    }
    if y >= 1998 {
        out.extend(nth_weekday(y, 1, Weekday::Mon, 3)); // Martin Luther King Jr. Day
    }
    out.extend(nth_weekday(y, 2, Weekday::Mon, 3)); // Washington's Birthday
    out.extend(easter(y).map(|e| e - Duration::days(2))); // Good Friday
    out.extend(nth_weekday(y, 5, Weekday::Mon, 0)); // Memorial Day
    if y >= 2022 {
        out.extend(date(y, 6, 19).map(observed)); // Juneteenth
    }
    out.extend(date(y, 7, 4).map(observed)); // Independence Day
    out.extend(nth_weekday(y, 9, Weekday::Mon, 1)); // Labor Day
    out.extend(nth_weekday(y, 11, Weekday::Thu, 4)); // Thanksgiving
    out.extend(date(y, 12, 25).map(observed)); // Christmas
    out.sort();
    out
}

/// Whether the exchange trades on `d`.
pub fn is_trading_day(d: NaiveDate) -> bool {
    if matches!(d.weekday(), Weekday::Sat | Weekday::Sun) {
        return false;
    }
    if SPECIAL_CLOSURES.contains(&(d.year(), d.month(), d.day())) {
        return false;
    }
    // Asked once a bar: keep each year's holidays once worked out.
    thread_local! {
        static YEARS: std::cell::RefCell<std::collections::BTreeMap<i32, Vec<NaiveDate>>> =
            const { std::cell::RefCell::new(std::collections::BTreeMap::new()) };
    }
    !YEARS.with(|years| years.borrow_mut().entry(d.year()).or_insert_with(|| holidays(d.year())).contains(&d))
}

/// The session's opening and closing time on `d`, or `None` when the exchange is closed.
pub fn session(d: NaiveDate) -> Option<(NaiveTime, NaiveTime)> {
    if !is_trading_day(d) {
        return None;
    }
    let y = d.year();
    let early = [
        date(y, 7, 3).filter(|x| !matches!(x.weekday(), Weekday::Sat | Weekday::Sun) && y >= 2013),
        nth_weekday(y, 11, Weekday::Thu, 4).map(|t| t + Duration::days(1)),
        date(y, 12, 24).filter(|x| !matches!(x.weekday(), Weekday::Sat | Weekday::Sun)),
    ];
    let close = if early.contains(&Some(d)) { EARLY_CLOSE } else { CLOSE };
    Some((OPEN, close))
}

/// Whether the regular session is open at `t` (New York time).
pub fn is_open(t: NaiveDateTime) -> bool {
    session(t.date()).is_some_and(|(open, close)| t.time() >= open && t.time() < close)
}

/// How many bars of `interval` seconds a year holds: 252 sessions of 6.5 hours for intraday
/// bars, 252 for daily bars, calendar time for longer ones (52 weekly bars).
pub fn bars_a_year(interval: i64) -> f64 {
    match interval {
        i if i < 20 * 3600 => 252.0 * (23_400.0 / i.max(1) as f64).max(1.0),
        i if i <= 86_400 => 252.0,
        i => 365.25 * 86_400.0 / i as f64,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn d(y: i32, m: u32, day: u32) -> NaiveDate {
        NaiveDate::from_ymd_opt(y, m, day).unwrap_or_default()
    }

    #[test]
    fn holidays_of_2024() {
        let got: Vec<String> = holidays(2024).iter().map(|x| x.to_string()).collect();
        assert_eq!(
            got,
            [
                "2024-01-01",
                "2024-01-15",
                "2024-02-19",
                "2024-03-29",
                "2024-05-27",
                "2024-06-19",
                "2024-07-04",
                "2024-09-02",
                "2024-11-28",
                "2024-12-25"
            ]
        );
    }

    #[test]
    fn weekend_rules_and_early_closes() {
        assert!(!is_trading_day(d(2021, 12, 24))); // Christmas on Saturday, observed Friday
        assert!(is_trading_day(d(2021, 12, 31))); // New Year 2022 on Saturday: no make-up day
        assert!(!is_trading_day(d(2022, 6, 20))); // Juneteenth on Sunday, observed Monday
        assert_eq!(session(d(2024, 11, 29)).map(|s| s.1), Some(EARLY_CLOSE)); // after Thanksgiving
        assert_eq!(session(d(2024, 11, 27)).map(|s| s.1), Some(CLOSE));
        let t = |h, m| d(2024, 11, 29).and_hms_opt(h, m, 0).unwrap_or_default();
        assert!(is_open(t(12, 59)) && !is_open(t(13, 0)) && !is_open(t(9, 29)));
    }
}
