//! Trigger semantics in the engine: bar length, throttles and the market-hours guard.

mod common;
use chrono::{NaiveDate, NaiveDateTime};
use std::collections::BTreeMap;
use strat_engine::engine::{Config, backtest};
use strat_engine::market::Bar;
use strat_engine::market::simulated::{Config as Sim, simulate};
use strat_engine::report::Report;

fn program(src: &str) -> strat_lang::ir::Program {
    let mut ws = strat_lang::Workspace::new();
    let id = ws.set_file("t.strat", src.as_bytes().to_vec());
    let c = ws.compile(&[id]);
    c.program.unwrap_or_else(|| panic!("{:?}", c.diagnostics))
}

fn run(src: &str, bars: Vec<Bar>) -> Report {
    backtest(&program(src), &BTreeMap::from([("SPY".to_string(), bars)]), &Config { cash: 1000.0, ..Config::default() })
        .expect("runs")
}

/// At `h:m` on the `day`th session from Monday 2024-03-04.
fn at(day: i64, h: u32, m: u32) -> NaiveDateTime {
    let start = NaiveDate::from_ymd_opt(2024, 3, 4).unwrap_or_default();
    common::session(start, day).and_hms_opt(h, m, 0).unwrap_or_default()
}

fn bar(time: NaiveDateTime) -> Bar {
    Bar { time, open: 10.0, high: 10.0, low: 10.0, close: 10.0, volume: 1.0 }
}

/// The calendar days after the first session on which the log has a line.
fn fired_days(r: &Report) -> Vec<i64> {
    r.log.iter().map(|l| (l.time - at(0, 0, 0)).num_days()).collect()
}

#[test]
fn a_throttle_allows_n_firings_per_window() {
    let bars = (0..12).map(|d| bar(at(d, 0, 0))).collect();
    let r = run("workflow W { on price(SPY) > $0 throttle 2 per 5d\n log \"fired\" }", bars);
    // Sessions from Monday 2024-03-04: two fire, the window of five days blocks until
    // Saturday, so the next two are the Monday and Tuesday after, and so on.
    assert_eq!(fired_days(&r), vec![0, 1, 7, 8, 14, 15]);
}

#[test]
fn a_daily_bar_trigger_fires_at_each_session_close_of_intraday_data() {
    let m = simulate(&Sim { days: 3, bar_minutes: 5, ..Sim::default() });
    let r = run("workflow W { on bar(SPY, 1d)\n log \"close\" }", m.bars["SPY"].clone());
    let times: Vec<String> = r.log.iter().map(|l| l.time.time().to_string()).collect();
    assert_eq!(times, vec!["15:55:00"; 3]);
    let r = run("workflow W { on bar(SPY, 1h)\n log \"hour\" }", m.bars["SPY"].clone());
    // Hour bars close at 10:00, 11:00, …, 16:00: seven a day (the first is cut short by the 09:30 open).
    assert_eq!(r.log.len(), 3 * 7);
}

#[test]
fn the_market_hours_guard_skips_bars_outside_the_session() {
    // Monday 2024-03-04: 08:00 and 08:30 are before the open, 10:00 and 15:30 inside, 17:00 after.
    let bars = vec![bar(at(0, 8, 0)), bar(at(0, 8, 30)), bar(at(0, 10, 0)), bar(at(0, 15, 30)), bar(at(0, 17, 0))];
    let r = run("workflow W { on price(SPY) > $0 during market_hours\n log \"in\" }", bars);
    let times: Vec<String> = r.log.iter().map(|l| l.time.time().to_string()).collect();
    assert_eq!(times, vec!["10:00:00", "15:30:00"]);
}

#[test]
fn a_schedule_fires_on_the_days_and_times_it_names() {
    // 2024-03-04 is a Monday: seven daily bars, Monday to Sunday (a schedule is a time, not
    // a bar: it fires whatever day the data has).
    let bars = (0..7).map(|d| bar(at(0, 0, 0) + chrono::Duration::days(d))).collect();
    let r = run("workflow W { on schedule \"0 16 * * 1-5\" tz \"America/New_York\"\n log \"close\" }", bars);
    assert_eq!(fired_days(&r), vec![0, 1, 2, 3, 4]);
    // Intraday: once a day, at the first bar at or after 10:30 New York time.
    let m = simulate(&Sim { days: 2, bar_minutes: 5, ..Sim::default() });
    let r =
        run("workflow W { on schedule \"30 10 * * *\" tz \"America/New_York\"\n log \"at\" }", m.bars["SPY"].clone());
    let times: Vec<String> = r.log.iter().map(|l| l.time.time().to_string()).collect();
    assert_eq!(times, vec!["10:30:00", "10:30:00"]);
    // 15:30 in London is 10:30 in New York outside the weeks when only one has moved its clocks.
    let r = run("workflow W { on schedule \"30 15 * * *\" tz \"Europe/London\"\n log \"at\" }", m.bars["SPY"].clone());
    let times: Vec<String> = r.log.iter().map(|l| l.time.time().to_string()).collect();
    assert_eq!(times, vec!["10:30:00", "10:30:00"]);
}

#[test]
fn schedules_follow_their_own_time_zone_across_daylight_saving_changes() {
    // New York moved its clocks on 2024-03-10, London only on 2024-03-31: in between, 15:30 in
    // London is 11:30 in New York, an hour later than in January.
    let start = NaiveDate::from_ymd_opt(2024, 3, 11).unwrap_or_default();
    let m = simulate(&Sim { days: 2, bar_minutes: 5, start, ..Sim::default() });
    let r = run("workflow W { on schedule \"30 15 * * *\" tz \"Europe/London\"\n log \"at\" }", m.bars["SPY"].clone());
    let times: Vec<String> = r.log.iter().map(|l| l.time.to_string()).collect();
    assert_eq!(times, vec!["2024-03-11 11:30:00", "2024-03-12 11:30:00"]);
}

/// `days` weekday sessions of one-minute bars, 09:30 to 16:00 (390 a day), closes rising by a
/// cent a bar; volume 1,000 a bar.
fn sessions_of_minutes(days: usize) -> Vec<strat_engine::market::Bar> {
    let mut out = Vec::new();
    let mut d = chrono::NaiveDate::from_ymd_opt(2024, 3, 4).unwrap_or_default();
    let mut price = 100.0;
    while out.len() < days * 390 {
        if chrono::Datelike::weekday(&d).number_from_monday() <= 5 {
            let open = d.and_hms_opt(9, 30, 0).unwrap_or_default();
            for m in 0..390 {
                price += 0.01;
                let time = open + chrono::Duration::minutes(m);
                out.push(strat_engine::market::Bar {
                    time,
                    open: price,
                    high: price,
                    low: price,
                    close: price,
                    volume: 1_000.0,
                });
            }
        }
        d = d.succ_opt().unwrap_or(d);
    }
    out
}

#[test]
fn day_windows_count_sessions_on_intraday_bars() {
    let bars = sessions_of_minutes(25);
    let data = std::collections::BTreeMap::from([("SPY".to_string(), bars.clone())]);
    let values = |src: &str| {
        let e = strat_lang::check_expression(src).expr.unwrap_or_else(|| panic!("{src}"));
        strat_engine::eval::evaluate(&e, &data).expect("evaluates")
    };
    let first =
        |v: &[(chrono::NaiveDateTime, Option<strat_engine::eval::Value>)]| v.iter().position(|(_, x)| x.is_some());
    // `1d` is the previous session's close: defined from the second session's first bar.
    let change = values("change(SPY, 1d)");
    assert_eq!(first(&change), Some(390));
    let num = |v: &Option<strat_engine::eval::Value>| match v {
        Some(strat_engine::eval::Value::Num(x)) => *x,
        _ => f64::NAN,
    };
    for i in [390, 500, 779, 780, 5_000] {
        let session_start = i / 390 * 390;
        let prev_close = bars[session_start - 1].close;
        let want = (bars[i].close / prev_close - 1.0) * 100.0;
        assert!((num(&change[i].1) - want).abs() < 1e-9, "bar {i}: {:?} vs {want}", change[i].1);
    }
    // Twenty sessions of bars, not twenty days of 24 hours.
    assert_eq!(first(&values("avg_volume(SPY, 20d)")), Some(20 * 390 - 1));
    assert_eq!(first(&values("change(SPY, 1w)")), Some(5 * 390));
}

#[test]
fn no_trigger_fires_on_a_bar_of_a_day_the_exchange_was_closed() {
    // Friday 2024-03-08, then Saturday and Sunday bars, then Monday.
    let friday = at(4, 0, 0);
    let bars: Vec<Bar> = (0..4).map(|d| bar(friday + chrono::Duration::days(d))).collect();
    for src in [
        "workflow W { on price(SPY) > $0\n log \"fired\" }",
        "workflow W { on bar(SPY, 1d)\n log \"fired\" }",
        "workflow W { on price(SPY) > $0 and portfolio.cash > $0\n log \"fired\" }",
    ] {
        let r = run(src, bars.clone());
        let days: Vec<String> = r.log.iter().map(|l| l.time.date().to_string()).collect();
        assert_eq!(days, vec!["2024-03-08", "2024-03-11"], "{src}");
        assert!(
            r.warnings.iter().any(|w| w.contains("bars on 2 days the exchange was closed")),
            "{src} {:?} {:?}",
            r.warnings,
            r.log
        );
    }
}

#[test]
fn a_week_long_bar_closes_at_the_last_session_of_each_week_and_n_days_every_nth_session() {
    // Sessions from Monday 2024-03-25: Good Friday (03-29) is closed, so that week ends on
    // Thursday; then two full weeks.
    let start = NaiveDate::from_ymd_opt(2024, 3, 25).unwrap_or_default();
    let bars: Vec<Bar> =
        (0..14).map(|i| bar(common::session(start, i).and_hms_opt(0, 0, 0).unwrap_or_default())).collect();
    let days = |src: &str| run(src, bars.clone()).log.iter().map(|l| l.time.date().to_string()).collect::<Vec<_>>();
    assert_eq!(days("workflow W { on bar(SPY, 1w)\n log \"week\" }"), vec!["2024-03-28", "2024-04-05", "2024-04-12"]);
    assert_eq!(days("workflow W { on bar(SPY, 2w)\n log \"two\" }"), vec!["2024-04-05"]);
    let three = days("workflow W { on bar(SPY, 3d)\n log \"three\" }");
    assert_eq!(three, vec!["2024-03-27", "2024-04-02", "2024-04-05", "2024-04-10"]);
    // Intraday data: the week's bar closes at the last bar of its last session.
    let m = simulate(&Sim { days: 10, bar_minutes: 30, ..Sim::default() });
    let r = run("workflow W { on bar(SPY, 1w)\n log \"week\" }", m.bars["SPY"].clone());
    let last = m.bars["SPY"].last().map(|b| b.time).unwrap_or_default();
    assert!(!r.log.is_empty() && r.log.len() <= 3, "{:?}", r.log);
    for l in &r.log {
        let next = m.bars["SPY"].iter().find(|b| b.time.date() > l.time.date()).map(|b| b.time);
        assert!(
            next.is_none_or(|n| chrono::Datelike::iso_week(&n.date()) != chrono::Datelike::iso_week(&l.time.date())),
            "{l:?} {last}"
        );
        assert_eq!(l.time.time().to_string(), "15:30:00");
    }
}

/// A replay that calls some of its steps not live, as a feed does with bars filled in from
/// history after a reconnection.
struct PartlyStale<'a> {
    inner: strat_engine::sim::Replay<'a>,
    step: usize,
    stale: &'a [usize],
}

impl strat_engine::host::MarketData for PartlyStale<'_> {
    fn label(&self) -> String {
        self.inner.label()
    }
    fn symbols(&self) -> &[String] {
        self.inner.symbols()
    }
    fn intervals(&self) -> &[i64] {
        self.inner.intervals()
    }
    fn steps(&self) -> Option<usize> {
        self.inner.steps()
    }
    fn next(&mut self, closed: &mut Vec<(usize, Bar)>) -> Option<NaiveDateTime> {
        self.step += 1;
        self.inner.next(closed)
    }
    fn stale(&self) -> Option<String> {
        self.stale.contains(&self.step).then(|| "filled in".to_string())
    }
}

#[test]
fn nothing_fires_on_a_step_the_market_calls_stale_and_the_run_says_so() {
    use strat_engine::host::MarketData;
    let bars: Vec<Bar> = (0..5).map(|d| bar(at(d, 0, 0))).collect();
    let data = BTreeMap::from([("SPY".to_string(), bars)]);
    let mut market = PartlyStale { inner: strat_engine::sim::Replay::new(&data, "test"), step: 0, stale: &[2, 3] };
    let mut broker = strat_engine::broker::PaperBroker::new(1000.0, market.symbols().len(), Default::default());
    let news = strat_engine::sim::SimNews::default();
    let (mut clock, mut llm) = (strat_engine::sim::SimClock::default(), strat_engine::offline::Offline);
    let host = strat_engine::host::Host {
        clock: &mut clock,
        market: &mut market,
        news: &news,
        llm: &mut llm,
        broker: &mut broker,
        store: None,
        control: None,
    };
    let program = program("workflow W { on price(SPY) > $0\n log \"fired\" }");
    let r =
        strat_engine::engine::run(&program, host, &Default::default(), &mut strat_engine::engine::Quiet).expect("runs");
    assert_eq!(fired_days(&r), vec![0, 3, 4], "sessions 2 and 3 (days 1 and 2) were stale");
    assert!(
        r.warnings
            .iter()
            .any(|w| w.starts_with("2 steps of bars were not traded on, the first at 2024-03-05 00:00:00: filled in")),
        "{:?}",
        r.warnings
    );
}

/// A replay with something to say at some of its steps, as a live feed does after a silence.
struct Talking<'a> {
    inner: strat_engine::sim::Replay<'a>,
    step: usize,
    notes: &'a [(usize, &'a str)],
}

impl strat_engine::host::MarketData for Talking<'_> {
    fn label(&self) -> String {
        self.inner.label()
    }
    fn symbols(&self) -> &[String] {
        self.inner.symbols()
    }
    fn intervals(&self) -> &[i64] {
        self.inner.intervals()
    }
    fn steps(&self) -> Option<usize> {
        self.inner.steps()
    }
    fn next(&mut self, closed: &mut Vec<(usize, Bar)>) -> Option<NaiveDateTime> {
        self.step += 1;
        self.inner.next(closed)
    }
    fn take_notes(&mut self, out: &mut Vec<String>) {
        out.extend(self.notes.iter().filter(|(s, _)| *s == self.step).map(|(_, n)| n.to_string()));
    }
}

/// The log lines of each step as an observer (and the store) is shown them.
struct Lines(Vec<(usize, String, String)>);

impl strat_engine::engine::Observer for Lines {
    fn step(&mut self, s: &strat_engine::store::StepView<'_>) {
        self.0.extend(s.log.iter().map(|l| (s.index, l.graph.clone(), l.message.clone())));
    }
}

#[test]
fn what_the_market_data_says_is_a_log_line_of_the_step_it_comes_with() {
    use strat_engine::host::MarketData;
    let bars: Vec<Bar> = (0..4).map(|d| bar(at(d, 0, 0))).collect();
    let data = BTreeMap::from([("SPY".to_string(), bars)]);
    let notes = [(2, "the feed is stale"), (2, "reconnected"), (3, "bars are coming again")];
    let mut market = Talking { inner: strat_engine::sim::Replay::new(&data, "test"), step: 0, notes: &notes };
    let mut broker = strat_engine::broker::PaperBroker::new(1000.0, market.symbols().len(), Default::default());
    let news = strat_engine::sim::SimNews::default();
    let (mut clock, mut llm) = (strat_engine::sim::SimClock::default(), strat_engine::offline::Offline);
    let host = strat_engine::host::Host {
        clock: &mut clock,
        market: &mut market,
        news: &news,
        llm: &mut llm,
        broker: &mut broker,
        store: None,
        control: None,
    };
    let program = program("workflow W { on price(SPY) > $0\n log \"fired\" }");
    let mut lines = Lines(Vec::new());
    let r = strat_engine::engine::run(&program, host, &Default::default(), &mut lines).expect("runs");
    let line = |i: usize, g: &str, m: &str| (i, g.to_string(), m.to_string());
    assert_eq!(
        lines.0,
        vec![
            line(1, "W", "fired"),
            line(2, "feed", "the feed is stale"),
            line(2, "feed", "reconnected"),
            line(2, "W", "fired"),
            line(3, "feed", "bars are coming again"),
            line(3, "W", "fired"),
            line(4, "W", "fired"),
        ],
        "before the step's executions, at its time"
    );
    assert_eq!(
        r.log.iter().filter(|l| l.graph == "feed").map(|l| l.time).collect::<Vec<_>>(),
        vec![at(1, 0, 0), at(1, 0, 0), at(2, 0, 0)]
    );
}
