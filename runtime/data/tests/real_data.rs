//! The loader on the real price files in `../shared/data/prices`.
#![allow(clippy::disallowed_methods)] // the test reads the shared data files

use std::path::Path;
use strat_data::parse_csv;

fn load(name: &str) -> String {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/data/prices").join(name);
    std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display()))
}

#[test]
fn spy_daily_with_an_index_column() {
    let l = parse_csv(&load("SPY_D.csv")).expect("loads");
    assert!(l.problems.is_empty(), "{:?}", l.problems.first());
    assert_eq!(l.bars.len(), 5241);
    let first = l.bars[0];
    assert_eq!(first.time.to_string(), "1999-11-01 00:00:00");
    assert_eq!(
        (first.open, first.high, first.low, first.close, first.volume),
        (136.5, 137.0, 135.5625, 135.5625, 4_006_500.0)
    );
    assert_eq!(l.bars[5240].time.date().to_string(), "2020-08-28");
}

#[test]
fn yahoo_layout_uses_the_unadjusted_close() {
    let l = parse_csv(&load("nvda-1999-2014.txt")).expect("loads");
    assert!(l.problems.is_empty(), "{:?}", l.problems.first());
    assert_eq!(l.bars[0].close, 1.640625);
    assert!(l.bars.windows(2).all(|w| w[0].time < w[1].time));
}

#[test]
fn intraday_with_a_time_column() {
    let l = parse_csv(&load("2006-min-005.txt")).expect("loads");
    assert!(l.problems.is_empty(), "{:?}", l.problems.first());
    assert_eq!(l.bars[0].time.to_string(), "2006-01-02 09:05:00");
    assert_eq!(l.bars.len(), 2142);
}

#[test]
fn zipline_layout_with_extra_columns() {
    let l = parse_csv(&load("AAPL_2012-2014.csv")).expect("loads");
    assert!(l.problems.is_empty(), "{:?}", l.problems.first());
    assert_eq!(l.bars[0].close, 58.747143);
}

#[test]
fn the_header_quirk_is_reported_not_guessed() {
    let e = parse_csv(&load("2006-01-02-volume-min-001.txt")).expect_err("refused");
    assert_eq!(e.line, 2);
    assert!(e.message.contains("lacks a `Time` column"), "{e}");
}

#[test]
fn five_minute_bars_resample_to_days_like_the_daily_file() {
    let five = parse_csv(&load("2006-min-005.txt")).expect("loads");
    let daily = parse_csv(&load("2006-day-001.txt")).expect("loads");
    let days = strat_data::resample(&five.bars, 86_400);
    // The daily file covers the same index over the same year: each day's range from the
    // five-minute bars must sit within the daily bar's range, and the closes match.
    let mut compared = 0;
    for d in &days {
        let Some(ref_bar) = daily.bars.iter().find(|b| b.time == d.time) else { continue };
        assert!((d.close - ref_bar.close).abs() < 0.02, "{}: {} vs {}", d.time, d.close, ref_bar.close);
        compared += 1;
    }
    assert!(compared > 5, "only {compared} days compared");
}

#[test]
fn the_calendar_agrees_with_twenty_years_of_spy_trading_days() {
    use strat_engine::market::calendar::is_trading_day;
    let l = parse_csv(&load("SPY_D.csv")).expect("loads");
    let days: Vec<chrono::NaiveDate> = l.bars.iter().map(|b| b.time.date()).collect();
    let traded: std::collections::BTreeSet<_> = days.iter().copied().collect();
    let not_trading: Vec<_> = days.iter().filter(|d| !is_trading_day(**d)).collect();
    assert!(not_trading.is_empty(), "bars on days the calendar calls closed: {not_trading:?}");
    let (first, last) = (days[0], days[days.len() - 1]);
    let mut missing = Vec::new();
    let mut d = first;
    while d <= last {
        if is_trading_day(d) && !traded.contains(&d) {
            missing.push(d);
        }
        d = d.succ_opt().expect("next day");
    }
    assert!(missing.is_empty(), "trading days without a bar: {missing:?}");
}

#[test]
fn polygon_aggregates_fixture() {
    let p = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../../shared/data/fixtures/polygon/v2_aggs_ticker_AAPL_range_1_day_2005-04-01_2005-04-04.json");
    let json = std::fs::read_to_string(p).expect("fixture");
    let (bars, problems) = strat_data::parse_polygon_aggs(&json).expect("parses");
    assert!(problems.is_empty());
    assert_eq!(bars.len(), 2);
    // 1112331600000 ms is 2005-04-01 00:00 in New York (EST): daily bars land on their day.
    assert_eq!(bars[0].time.to_string(), "2005-04-01 00:00:00");
    assert_eq!(bars[1].time.to_string(), "2005-04-04 00:00:00");
    assert_eq!(
        (bars[0].open, bars[0].high, bars[0].low, bars[0].close, bars[0].volume),
        (1.5032, 1.5064, 1.4489, 1.4604, 642_646_396.0)
    );
}

/// The AAPL file's rows, each rewritten by `row(date, [open, high, low, close, volume])`.
fn aapl_as(header: &str, row: impl Fn(chrono::NaiveDate, &[&str]) -> String) -> String {
    let text = load("AAPL_2012-2014.csv");
    let mut out = format!("{header}\n");
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        let date = chrono::NaiveDate::parse_from_str(f[0], "%Y-%m-%d").expect("a date");
        out.push_str(&row(date, &f[1..6]));
        out.push('\n');
    }
    out
}

#[test]
fn the_layouts_traders_have_load_the_same_bars() {
    let plain = parse_csv(&load("AAPL_2012-2014.csv")).expect("loads");
    assert!(plain.problems.is_empty());
    let layouts = [
        // US dates, semicolons.
        aapl_as("Date;Open;High;Low;Close;Volume", |d, v| format!("{};{}", d.format("%m/%d/%Y"), v.join(";"))),
        // Tabs, quoted fields (RFC 4180).
        aapl_as("\"Date\"\t\"Open\"\t\"High\"\t\"Low\"\t\"Close\"\t\"Volume\"", |d, v| {
            format!("\"{d}\"\t{}", v.iter().map(|x| format!("\"{x}\"")).collect::<Vec<_>>().join("\t"))
        }),
        // Epoch seconds at each day's UTC midnight, as daily bars are stamped.
        aapl_as("timestamp,open,high,low,close,volume", |d, v| {
            format!("{},{}", d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc().timestamp(), v.join(","))
        }),
        // Epoch milliseconds.
        aapl_as("timestamp,open,high,low,close,volume", |d, v| {
            format!("{},{}", d.and_hms_opt(0, 0, 0).unwrap_or_default().and_utc().timestamp_millis(), v.join(","))
        }),
    ];
    for (i, text) in layouts.iter().enumerate() {
        let l = parse_csv(text).unwrap_or_else(|p| panic!("layout {i}: {p}"));
        assert!(l.problems.is_empty(), "layout {i}: {:?}", l.problems.first());
        assert_eq!(l.bars, plain.bars, "layout {i}");
    }
    // An ISO time with an offset is an instant: given in New York time.
    let iso =
        "datetime,open,high,low,close,volume\n2012-01-03T14:30:00Z,1,1,1,1,5\n2012-07-03T09:31:00-04:00,1,1,1,1,5\n";
    let l = parse_csv(iso).expect("loads");
    let times: Vec<String> = l.bars.iter().map(|b| b.time.to_string()).collect();
    assert_eq!(times, ["2012-01-03 09:30:00", "2012-07-03 09:31:00"]);
}
