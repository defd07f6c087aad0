//! A WebSocket frame of Polygon's stocks feed decoded: a JSON array of events, read into typed
//! events in one pass (no tree of the frame), symbols looked up in a hash map.

use serde::Deserialize;
use std::borrow::Cow;
use std::collections::HashMap;

#[derive(Deserialize)]
struct Event<'a> {
    #[serde(borrow)]
    ev: Cow<'a, str>,
    #[serde(borrow, default)]
    sym: Option<Cow<'a, str>>,
    #[serde(borrow, default)]
    status: Option<Cow<'a, str>>,
    o: Option<f64>,
    h: Option<f64>,
    l: Option<f64>,
    c: Option<f64>,
    v: Option<f64>,
    /// The minute's start, Unix ms (an integer: never through `f64`).
    s: Option<i64>,
}

/// One symbol's minute as the frame gives it (not yet checked).
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Minute {
    pub sym: usize,
    pub start: i64,
    pub open: f64,
    pub high: f64,
    pub low: f64,
    pub close: f64,
    pub volume: f64,
}

/// What a frame holds.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct Frame {
    pub minutes: Vec<Minute>,
    /// The `status` of each status event (`max_connections`, `auth_failed`, …).
    pub statuses: Vec<String>,
}

/// Decodes frames for a set of symbols.
pub struct Decoder {
    index: HashMap<String, usize>,
}

impl Decoder {
    pub fn new(symbols: &[String]) -> Decoder {
        Decoder { index: symbols.iter().enumerate().map(|(i, s)| (s.clone(), i)).collect() }
    }

    /// The events of `frame` into `out` (cleared first): `AM` events of subscribed symbols with
    /// a start, and statuses. `Err` when the frame is not a list of events.
    pub fn decode(&self, frame: &str, out: &mut Frame) -> Result<(), String> {
        out.minutes.clear();
        out.statuses.clear();
        let events: Vec<Event<'_>> = serde_json::from_str(frame).map_err(|e| e.to_string())?;
        for e in events {
            match e.ev.as_ref() {
                "AM" => {
                    let sym = e.sym.as_deref().and_then(|s| self.index.get(s));
                    let (Some(&sym), Some(start)) = (sym, e.s) else { continue };
                    let n = |x: Option<f64>| x.unwrap_or(f64::NAN);
                    out.minutes.push(Minute {
                        sym,
                        start,
                        open: n(e.o),
                        high: n(e.h),
                        low: n(e.l),
                        close: n(e.c),
                        volume: n(e.v),
                    });
                }
                "status" => out.statuses.extend(e.status.map(Cow::into_owned)),
                _ => {}
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_frame_of_mixed_events_gives_the_subscribed_minutes_and_the_statuses() {
        let d = Decoder::new(&["AAPL".into(), "MSFT".into()]);
        let mut f = Frame::default();
        let frame = r#"[{"ev":"status","status":"max_connections","message":"x"},
            {"ev":"AM","sym":"MSFT","o":1,"h":2,"l":0.5,"c":1.5,"v":10,"s":1610144640000,"e":1610144700000},
            {"ev":"AM","sym":"GTE","o":1,"h":1,"l":1,"c":1,"v":1,"s":1},{"ev":"T","sym":"AAPL","p":1}]"#;
        d.decode(frame, &mut f).expect("a list");
        assert_eq!(f.statuses, vec!["max_connections".to_string()]);
        assert_eq!(f.minutes.len(), 1);
        assert_eq!((f.minutes[0].sym, f.minutes[0].start, f.minutes[0].close), (1, 1_610_144_640_000, 1.5));
        assert!(d.decode(r#"{"ev":"AM"}"#, &mut f).is_err(), "an object is not a frame");
        d.decode(r#"[{"ev":"AM","sym":"AAPL","s":5}]"#, &mut f).expect("a list");
        assert!(f.minutes[0].open.is_nan(), "a missing price is no price, refused by the bar checks");
    }
}
