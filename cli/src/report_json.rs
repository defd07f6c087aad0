//! A backtest's report as JSON, written as it is read: the equity curve, the orders and the log
//! go straight from the report to the writer, so no tree of the whole report is built (it cost
//! about 1.5 KB a bar). Keys come out sorted, as a `serde_json::Value` writes them.

use serde::ser::{Serialize, SerializeMap, SerializeSeq, Serializer};
use strat_engine::broker::Order;
use strat_engine::report::{EquityCurve, LogLine, Report};

/// The report, borrowed, as the JSON `strat backtest --format json` prints; its executions
/// read back from the store one at a time when the run did not keep them (a live run).
pub struct JsonReport<'a>(pub &'a Report, pub Option<&'a dyn Executions>);

/// Where a run's executions are kept when its report does not hold them.
pub trait Executions {
    /// Hands each execution, in order, to `f`; stops at the first error.
    fn each(&self, f: &mut dyn FnMut(serde_json::Value) -> Result<(), String>) -> Result<(), String>;
}

/// The executions of a store, one at a time.
struct Stored<'a>(&'a dyn Executions);

impl Serialize for Stored<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(None)?;
        self.0
            .each(&mut |e| seq.serialize_element(&e).map_err(|e| e.to_string()))
            .map_err(serde::ser::Error::custom)?;
        seq.end()
    }
}

impl Serialize for JsonReport<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let r = self.0;
        let mut m = s.serialize_map(Some(16))?;
        m.serialize_entry("broker", &r.broker)?;
        m.serialize_entry("equity_curve", &Curve(&r.equity_curve))?;
        match self.1 {
            Some(stored) => m.serialize_entry("executions", &Stored(stored))?,
            None => m.serialize_entry("executions", &Each(&r.executions, Sorted))?,
        }
        m.serialize_entry("final_equity", &round2(r.final_equity))?;
        m.serialize_entry("initial_cash", &r.initial_cash)?;
        m.serialize_entry("llm", &r.llm)?;
        m.serialize_entry("log", &Each(&r.log, Line))?;
        m.serialize_entry("market", &r.market)?;
        m.serialize_entry("max_drawdown", &r.max_drawdown)?;
        m.serialize_entry("orders", &Each(&r.orders, OrderJson))?;
        m.serialize_entry("prompts", &Sorted(&r.prompts))?;
        m.serialize_entry("return", &r.r#return)?;
        m.serialize_entry("sharpe", &r.sharpe)?;
        m.serialize_entry("stats", &Sorted(&r.stats))?;
        m.serialize_entry("warnings", &r.warnings)?;
        m.serialize_entry("win_rate", &r.win_rate)?;
        m.end()
    }
}

/// [`JsonReport`] written compactly, the equity curve by hand (its points are most of the
/// text): the same bytes `serde_json::to_writer` writes, faster.
pub fn write_compact(r: &Report, w: &mut impl std::io::Write) -> std::io::Result<()> {
    fn json<T: Serialize + ?Sized>(w: &mut impl std::io::Write, key: &str, v: &T) -> std::io::Result<()> {
        write!(w, ",\"{key}\":")?;
        serde_json::to_writer(w, v).map_err(std::io::Error::other)
    }
    w.write_all(b"{\"broker\":")?;
    serde_json::to_writer(&mut *w, &r.broker).map_err(std::io::Error::other)?;
    w.write_all(b",\"equity_curve\":")?;
    write_curve(&r.equity_curve, w)?;
    json(w, "executions", &Each(&r.executions, Sorted))?;
    json(w, "final_equity", &round2(r.final_equity))?;
    json(w, "initial_cash", &r.initial_cash)?;
    json(w, "llm", &r.llm)?;
    json(w, "log", &Each(&r.log, Line))?;
    json(w, "market", &r.market)?;
    json(w, "max_drawdown", &r.max_drawdown)?;
    json(w, "orders", &Each(&r.orders, OrderJson))?;
    json(w, "prompts", &Sorted(&r.prompts))?;
    json(w, "return", &r.r#return)?;
    json(w, "sharpe", &r.sharpe)?;
    json(w, "stats", &Sorted(&r.stats))?;
    json(w, "warnings", &r.warnings)?;
    json(w, "win_rate", &r.win_rate)?;
    w.write_all(b"}")
}

/// The curve's points as `{"equity":…,"time":"…"}`, as serde_json writes them.
fn write_curve(curve: &EquityCurve, w: &mut impl std::io::Write) -> std::io::Result<()> {
    let mut numbers = ryu::Buffer::new();
    w.write_all(b"[")?;
    let mut first = true;
    each_point(curve, |time, equity| {
        w.write_all(if std::mem::take(&mut first) { b"{\"equity\":" } else { b",{\"equity\":" })?;
        let e = round2(equity);
        w.write_all(if e.is_finite() { numbers.format_finite(e).as_bytes() } else { b"null" })?;
        w.write_all(b",\"time\":\"")?;
        w.write_all(time)?;
        w.write_all(b"\"}")
    })?;
    w.write_all(b"]")
}

/// Each point of the curve as its time's text and its value; the date part is worked out once
/// a day, the time of day from the seconds.
fn each_point<E>(curve: &EquityCurve, mut f: impl FnMut(&[u8; 19], f64) -> Result<(), E>) -> Result<(), E> {
    let (start, points) = curve.offsets();
    let start_secs = i64::from(chrono::Timelike::num_seconds_from_midnight(&start.time()));
    let mut day: Option<(i64, [u8; 19])> = None;
    for (offset, equity) in points {
        let secs = start_secs + i64::from(offset);
        let (d, of_day) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
        let mut text = match day {
            Some((known, text)) if known == d => text,
            _ => {
                let midnight = start.date().and_time(chrono::NaiveTime::MIN) + chrono::Duration::days(d);
                let text = stamp(midnight).unwrap_or(*b"0000-00-00 00:00:00");
                day = Some((d, text));
                text
            }
        };
        put(&mut text, 11, 2, (of_day / 3600) as u32);
        put(&mut text, 14, 2, (of_day / 60 % 60) as u32);
        put(&mut text, 17, 2, (of_day % 60) as u32);
        f(&text, equity)?;
    }
    Ok(())
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// A bar time as `YYYY-MM-DD HH:MM:SS` (what its `Display` writes), formatted by hand: the
/// curve writes one a bar, and the general formatter took most of the time.
struct Stamp(chrono::NaiveDateTime);

impl Serialize for Stamp {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match stamp(self.0) {
            Some(b) => s.serialize_str(std::str::from_utf8(&b).unwrap_or_default()),
            None => s.collect_str(&self.0),
        }
    }
}

/// `YYYY-MM-DD HH:MM:SS`, for years 0 to 9999 and whole seconds (else `None`).
fn stamp(at: chrono::NaiveDateTime) -> Option<[u8; 19]> {
    use chrono::{Datelike, Timelike};
    let (d, t) = (at.date(), at.time());
    let year = u32::try_from(d.year()).ok().filter(|y| *y <= 9999)?;
    if t.nanosecond() != 0 {
        return None;
    }
    let mut b = *b"0000-00-00 00:00:00";
    put(&mut b, 0, 4, year);
    put(&mut b, 5, 2, d.month());
    put(&mut b, 8, 2, d.day());
    put(&mut b, 11, 2, t.hour());
    put(&mut b, 14, 2, t.minute());
    put(&mut b, 17, 2, t.second());
    Some(b)
}

/// Writes `v` as `width` decimal digits at `at`.
fn put(b: &mut [u8; 19], at: usize, width: usize, mut v: u32) {
    for i in (at..at + width).rev() {
        b[i] = b'0' + (v % 10) as u8;
        v /= 10;
    }
}

/// `[{"equity": …, "time": …}, …]`, a point at a time.
struct Curve<'a>(&'a EquityCurve);

impl Serialize for Curve<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        each_point(self.0, |time, equity| seq.serialize_element(&Point { time: *time, equity }))?;
        seq.end()
    }
}

struct Point {
    time: [u8; 19],
    equity: f64,
}

impl Serialize for Point {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(2))?;
        m.serialize_entry("equity", &round2(self.equity))?;
        m.serialize_entry("time", std::str::from_utf8(&self.time).unwrap_or_default())?;
        m.end()
    }
}

/// A slice written element by element, each through the wrapper the function makes of it.
struct Each<'a, T, W>(&'a [T], fn(&'a T) -> W);

impl<'a, T, W: Serialize> Serialize for Each<'a, T, W> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for x in self.0 {
            seq.serialize_element(&(self.1)(x))?;
        }
        seq.end()
    }
}

struct Line<'a>(&'a LogLine);

impl Serialize for Line<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut m = s.serialize_map(Some(3))?;
        m.serialize_entry("graph", &self.0.graph)?;
        m.serialize_entry("message", &self.0.message)?;
        m.serialize_entry("time", &Stamp(self.0.time))?;
        m.end()
    }
}

struct OrderJson<'a>(&'a Order);

impl Serialize for OrderJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let o = self.0;
        let mut m = s.serialize_map(Some(13))?;
        m.serialize_entry("by", &o.by)?;
        m.serialize_entry("commission", &o.commission)?;
        m.serialize_entry("fill_time", &o.fill_time.map(Stamp))?;
        m.serialize_entry("parent", &o.parent)?;
        m.serialize_entry("price", &o.price)?;
        m.serialize_entry("qty", &o.qty)?;
        m.serialize_entry("reason", &o.reason)?;
        m.serialize_entry("side", &o.side)?;
        m.serialize_entry("status", &o.status)?;
        m.serialize_entry("symbol", &o.symbol)?;
        m.serialize_entry("tif", &o.tif)?;
        m.serialize_entry("time", &Stamp(o.time))?;
        // An order type's fields, sorted as a `Value` holds them (`{"limit": …, "type": …}`).
        m.serialize_entry("type", &Sorted(&o.kind))?;
        m.end()
    }
}

/// A record whose nested keys must come out sorted: made a `Value` on its own as it is written
/// (one at a time, so a whole list of them is never a tree).
struct Sorted<'a, T>(&'a T);

impl<T: Serialize> Serialize for Sorted<'_, T> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let v = serde_json::to_value(self.0).map_err(serde::ser::Error::custom)?;
        v.serialize(s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_report_streams_to_the_json_its_value_tree_gives() {
        let data = std::collections::BTreeMap::from([(
            "SPY".to_string(),
            (0..40)
                .map(|i| {
                    let time = chrono::NaiveDate::from_ymd_opt(2024, 1, 1)
                        .and_then(|d| d.and_hms_opt(0, 0, 0))
                        .unwrap_or_default()
                        + chrono::Duration::days(i);
                    let c = 100.0 + (i % 7) as f64;
                    strat_engine::market::Bar { time, open: c, high: c + 1.0, low: c - 1.0, close: c, volume: 10.0 }
                })
                .collect::<Vec<_>>(),
        )]);
        let src = "limits { max_position $5_000  stop_loss 5% }
            workflow W { on bar(SPY, 1d)
              log \"at {{price(SPY)}}\"
              if holding(SPY) { sell SPY size all } else { buy SPY size 3 shares limit price(SPY) * 1.01 } }";
        let mut ws = strat_lang::Workspace::new();
        let id = ws.set_file("t.strat", src.as_bytes().to_vec());
        let program = ws.compile(&[id]).program.expect("compiles");
        let r =
            strat_engine::engine::backtest(&program, &data, &strat_engine::engine::Config::default()).expect("runs");
        assert!(!r.orders.is_empty() && !r.log.is_empty() && !r.executions.is_empty());
        let streamed = serde_json::to_string(&JsonReport(&r, None)).expect("streams");
        let mut fast = Vec::new();
        write_compact(&r, &mut fast).expect("writes");
        assert!(fast == streamed.as_bytes(), "the hand-written curve writes serde_json's bytes");
        let tree = serde_json::to_value(JsonReport(&r, None)).expect("a value");
        let sorted = serde_json::to_string(&tree).expect("writes");
        let differ = streamed.bytes().zip(sorted.bytes()).position(|(a, b)| a != b);
        assert!(differ.is_none() && streamed.len() == sorted.len(), "keys not sorted from byte {differ:?}");
        assert!(streamed.contains("\"equity_curve\":[{\"equity\":"));
        assert!(streamed.contains("\"type\":"), "orders carry their type");
        for t in ["2024-01-02 00:00:00", "0099-12-31 23:59:59"] {
            let at = chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").expect("a time");
            assert_eq!(serde_json::to_string(&Stamp(at)).expect("writes"), format!("\"{at}\""));
        }
    }
}
