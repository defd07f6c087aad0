//! Bars from a Polygon (Massive) aggregates response: `GET /v2/aggs/ticker/{T}/range/...`.
//!
//! `t` is the window start in Unix milliseconds (an integer: never read through `f64`); bars are
//! stamped in New York time, so daily bars land on midnight of their trading day like CSV data.

use super::{Bar, Problem, validate};
use chrono::{DateTime, NaiveDateTime};
use serde::Deserialize;

#[derive(Deserialize)]
struct Response {
    status: Option<String>,
    message: Option<String>,
    error: Option<String>,
    #[serde(default)]
    results: Vec<Agg>,
}

#[derive(Deserialize)]
struct Agg {
    o: f64,
    h: f64,
    l: f64,
    c: f64,
    v: f64,
    t: i64,
}

/// Parses an aggregates body. An error body (`status` not `OK`/`DELAYED`) or malformed JSON is
/// refused whole; bad entries are refused one by one (their `line` is the 1-based entry index).
pub fn parse_polygon_aggs(json: &str) -> Result<(Vec<Bar>, Vec<Problem>), Problem> {
    let r: Response = serde_json::from_str(json)
        .map_err(|e| Problem { line: e.line(), message: format!("not a Polygon aggregates response: {e}") })?;
    match r.status.as_deref() {
        Some("OK" | "DELAYED") | None => {}
        Some(other) => {
            let why = r.message.or(r.error).unwrap_or_default();
            return Err(Problem { line: 1, message: format!("the response reports status {other}: {why}") });
        }
    }
    let mut bars: Vec<Bar> = Vec::with_capacity(r.results.len());
    let mut problems = Vec::new();
    for (i, a) in r.results.iter().enumerate() {
        let entry = i + 1;
        let Some(time) = new_york(a.t) else {
            problems.push(Problem { line: entry, message: format!("results[{i}]: timestamp {} is out of range", a.t) });
            continue;
        };
        let bar = Bar { time, open: a.o, high: a.h, low: a.l, close: a.c, volume: a.v };
        match validate::check_bar(&bar).and_then(|()| validate::follows(bars.last(), &bar)) {
            Ok(()) => bars.push(bar),
            Err(m) => problems.push(Problem { line: entry, message: format!("results[{i}]: {m}") }),
        }
    }
    Ok((bars, problems))
}

fn new_york(ms: i64) -> Option<NaiveDateTime> {
    let utc = DateTime::from_timestamp_millis(ms)?;
    Some(utc.with_timezone(&chrono_tz::America::New_York).naive_local())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_and_bad_entries() {
        let e = parse_polygon_aggs(
            r#"{"status":"NOT_AUTHORIZED","request_id":"x","message":"You are not entitled to this data."}"#,
        )
        .expect_err("refused");
        assert_eq!(e.message, "the response reports status NOT_AUTHORIZED: You are not entitled to this data.");
        let (bars, problems) = parse_polygon_aggs(
            r#"{"status":"OK","results":[{"o":1,"h":2,"l":0.5,"c":1.5,"v":10,"t":1112331600000},{"o":1,"h":0.5,"l":0.9,"c":1,"v":1,"t":1112587200000}]}"#,
        )
        .expect("parses");
        assert_eq!(bars.len(), 1);
        assert_eq!(problems[0].message, "results[1]: high 0.5 is below low 0.9");
        let (bars, _) = parse_polygon_aggs(r#"{"status":"OK","resultsCount":0}"#).expect("empty is fine");
        assert!(bars.is_empty());
        assert!(parse_polygon_aggs("<html>").is_err());
    }
}
