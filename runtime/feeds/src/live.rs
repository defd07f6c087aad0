//! Live minute bars from Polygon's (Massive's) stocks WebSocket (`AM.*`), as the engine's
//! `MarketData`.
//!
//! The client connects to `POLYGON_WS_URL` (default `wss://socket.massive.com/stocks`), waits
//! for `connected`, authenticates (`auth_failed` ends the feed: the key is wrong), and
//! subscribes to `AM.<symbol>` for each symbol. Frames are JSON arrays of events; an `AM` event
//! is one symbol's minute, `s` its start in integer milliseconds, stamped in New York time as
//! the REST bars are (so a recorded session served over the wire runs as a backtest of it).
//!
//! A minute is handed to the engine once a later minute has begun arriving, once every symbol
//! has its bar for it, or `grace` after it ended; time in the run is the bars', the wall clock
//! only measures silence. A bar that fails the checks every bar passes is refused and recorded;
//! a repeated minute is dropped; one for a minute already handed on is dropped as late. When
//! the connection drops, the client reconnects with a doubling pause (at least
//! `evicted_backoff` after a `max_connections` eviction), subscribes to the same set, and fills
//! the gap from the REST aggregates when it has a REST client. After `reconnects` failures in a
//! row the feed ends, saying why (a connection that lived through a closed market's silence is
//! not one).
//!
//! A silence of `idle` is judged against Polygon's market status over REST, asked at most once
//! per `status_every` (see `silence`): while the market is closed the feed says so once and goes
//! on waiting on the socket; while it is open, or when the status cannot be had, the feed is
//! stale: it says so at once, reconnects as after a drop, and says how long it has been stale
//! on each further attempt. Minutes filled in from REST are handed on as old (`stale()`), so
//! nothing is decided on them; a bar of such a minute that the socket delivers takes the place
//! of REST's and makes the minute current, and the last minute filled in waits `grace` for it.
//! What the feed has to say is taken step by step (`take_notes`), so a run shows it as it goes.

use crate::frames::{Decoder, Frame, Minute};
use crate::polygon::{Client, Request, Span};
use crate::silence::{Silence, Watch, span};
use chrono::{DateTime, NaiveDateTime};
use futures_util::{SinkExt, StreamExt};
use std::collections::BTreeMap;
use std::time::{Duration, Instant};
use strat_engine::host::MarketData;
use strat_engine::market::Bar;
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub const DEFAULT_WS_URL: &str = "wss://socket.massive.com/stocks";

#[derive(Debug, Clone)]
pub struct LiveConfig {
    pub key: String,
    pub url: String,
    pub grace: Duration,
    pub idle: Duration,
    pub reconnects: u32,
    pub backoff: Duration,
    pub evicted_backoff: Duration,
    /// The least time between two questions about the market's status while the feed is silent.
    pub status_every: Duration,
}

impl LiveConfig {
    /// From `POLYGON_API_KEY` and `POLYGON_WS_URL`; `None` without a key.
    pub fn from_env(env: impl Fn(&str) -> Option<String>) -> Option<LiveConfig> {
        let key = env("POLYGON_API_KEY").filter(|k| !k.trim().is_empty())?;
        Some(LiveConfig {
            key,
            url: env("POLYGON_WS_URL").filter(|u| !u.trim().is_empty()).unwrap_or_else(|| DEFAULT_WS_URL.into()),
            grace: Duration::from_secs(2),
            idle: Duration::from_secs(120),
            reconnects: 5,
            backoff: Duration::from_secs(1),
            evicted_backoff: Duration::from_secs(60),
            status_every: Duration::from_secs(60),
        })
    }
}

/// A minute filled in from REST, until it is handed on.
#[derive(Debug, Default)]
struct FilledIn {
    /// The symbols whose bar is REST's.
    rest: Vec<usize>,
    /// The socket delivered a bar of the minute: it is current, not old.
    heard: bool,
}

/// The feed.
pub struct Live {
    config: LiveConfig,
    symbols: Vec<String>,
    intervals: Vec<i64>,
    rest: Option<Client>,
    rt: tokio::runtime::Runtime,
    socket: Option<Socket>,
    /// Bars received and not handed on, by minute start (ms), each with when it first came.
    pending: BTreeMap<i64, (Instant, Vec<(usize, Bar)>)>,
    /// Minutes filled in from REST after a reconnection: old when they are handed on, unless
    /// the socket delivered a bar of theirs.
    filled_in: BTreeMap<i64, FilledIn>,
    /// Whether the minute handed on last was one of them.
    handed_stale: bool,
    last_handed: Option<i64>,
    /// Why the feed ended, once it has.
    ended: Option<String>,
    evicted: bool,
    /// Reconnections since the last bar taken: a server that accepts and hangs up again and
    /// again ends the feed rather than looping.
    restarts: u32,
    /// What the user has not been told yet.
    notes: Vec<String>,
    /// The judgement of silences.
    watch: Watch,
    decoder: Decoder,
    /// The last frame decoded, kept for its buffers.
    frame: Frame,
}

impl Live {
    /// Connects and subscribes; an error says why the feed could not start.
    pub fn connect(config: LiveConfig, symbols: &[String], rest: Option<Client>) -> Result<Live, String> {
        let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
        let watch = Watch::new(config.status_every);
        let mut live = Live {
            config,
            symbols: symbols.to_vec(),
            intervals: vec![60; symbols.len()],
            rest,
            rt,
            socket: None,
            pending: BTreeMap::new(),
            filled_in: BTreeMap::new(),
            handed_stale: false,
            last_handed: None,
            ended: None,
            evicted: false,
            restarts: 0,
            notes: Vec::new(),
            watch,
            decoder: Decoder::new(symbols),
            frame: Frame::default(),
        };
        live.socket = Some(live.open()?);
        Ok(live)
    }

    /// Goes on after `last` (a minute start, New York time: the last minute a crashed run
    /// recorded): the minutes since are filled in from REST, handed on as old (not traded on),
    /// before the live ones.
    pub fn resume_after(&mut self, last: NaiveDateTime) {
        let ms = last.and_local_timezone(chrono_tz::America::New_York).single().map(|t| t.timestamp_millis());
        if let Some(ms) = ms {
            self.last_handed = Some(ms);
            self.pending.retain(|&start, _| start > ms);
            self.backfill();
        }
    }

    /// What the user should know and has not been told by [`MarketData::take_notes`]: bars
    /// refused or dropped, reconnections, a stale feed, and why the feed ended.
    pub fn notes(&self) -> Vec<String> {
        let mut n = self.notes.clone();
        n.extend(self.ended.clone());
        n
    }

    /// A connection, authenticated and subscribed.
    fn open(&self) -> Result<Socket, String> {
        let (config, symbols) = (&self.config, &self.symbols);
        let key = config.key.clone();
        let scrub = move |s: String| s.replace(&key, "***");
        self.rt.block_on(async {
            let connect = tokio_tungstenite::connect_async(config.url.as_str());
            let (mut ws, _) = tokio::time::timeout(Duration::from_secs(10), connect)
                .await
                .map_err(|_| "no answer from the WebSocket within 10 s".to_string())?
                .map_err(|e| scrub(format!("cannot connect to {}: {e}", config.url)))?;
            expect(&mut ws, "connected").await?;
            let auth = serde_json::json!({"action": "auth", "params": config.key}).to_string();
            ws.send(Message::text(auth)).await.map_err(|e| scrub(e.to_string()))?;
            expect(&mut ws, "auth_success").await?;
            let channels: Vec<String> = symbols.iter().map(|s| format!("AM.{s}")).collect();
            let sub = serde_json::json!({"action": "subscribe", "params": channels.join(",")}).to_string();
            ws.send(Message::text(sub)).await.map_err(|e| scrub(e.to_string()))?;
            Ok(ws)
        })
    }

    /// Reads one frame (or waits out `wait`): `Ok(None)` on silence, `Err` when the connection
    /// is gone.
    fn read(&mut self, wait: Duration) -> Result<Option<String>, String> {
        let Some(ws) = self.socket.as_mut() else { return Err("not connected".into()) };
        let frame = self.rt.block_on(async { tokio::time::timeout(wait, ws.next()).await });
        match frame {
            Err(_) => Ok(None),
            Ok(Some(Ok(Message::Text(t)))) => Ok(Some(t.to_string())),
            Ok(Some(Ok(Message::Binary(b)))) => Ok(Some(String::from_utf8_lossy(&b).into_owned())),
            Ok(Some(Ok(Message::Close(_)))) | Ok(None) => Err("the server closed the connection".into()),
            Ok(Some(Ok(_))) => Ok(Some(String::new())),
            Ok(Some(Err(e))) => Err(format!("the connection broke: {e}")),
        }
    }

    /// Takes a frame's events: bars into `pending`, statuses noted.
    fn take(&mut self, frame: &str) {
        let mut decoded = std::mem::take(&mut self.frame);
        if let Err(e) = self.decoder.decode(frame, &mut decoded)
            && !frame.is_empty()
        {
            self.notes.push(format!("a frame that is not a list of events was ignored ({} bytes: {e})", frame.len()));
        }
        for status in &decoded.statuses {
            match status.as_str() {
                "max_connections" => self.evicted = true,
                "auth_failed" => self.ended = Some("Polygon refused the key (auth_failed)".into()),
                _ => {}
            }
        }
        for m in &decoded.minutes {
            self.take_bar(m);
        }
        self.frame = decoded;
    }

    fn take_bar(&mut self, m: &Minute) {
        let (sym, start) = (m.sym, m.start);
        let Some(time) = new_york(start) else { return };
        let bar = Bar { time, open: m.open, high: m.high, low: m.low, close: m.close, volume: m.volume };
        let symbol = &self.symbols[sym];
        if let Err(why) = strat_data::check_bar(&bar) {
            self.notes.push(format!("{symbol} {time}: bar refused: {why}"));
            return;
        }
        if self.last_handed.is_some_and(|l| start <= l) {
            self.notes.push(format!("{symbol} {time}: bar dropped: that minute was already handed on"));
            return;
        }
        let (_, bars) = self.pending.entry(start).or_insert_with(|| (wall_now(), Vec::new()));
        // The socket's bar of a minute filled in takes the place of REST's.
        let replaces = self.filled_in.get_mut(&start).is_some_and(|f| {
            f.heard = true;
            f.rest.iter().position(|&s| s == sym).map(|i| f.rest.swap_remove(i)).is_some()
        });
        match bars.iter_mut().find(|(s, _)| *s == sym) {
            Some(slot) if replaces => slot.1 = bar,
            Some(_) => {
                self.notes.push(format!("{symbol} {time}: a repeated bar was dropped"));
                return;
            }
            None => bars.push((sym, bar)),
        }
        self.restarts = 0;
        if self.watch.is_stale() {
            self.watch.bar_came(wall_now(), &mut self.notes);
        }
    }

    /// The first pending minute, once it is complete (see the module's rule).
    fn ready(&mut self, flushing: bool) -> Option<(i64, Vec<(usize, Bar)>)> {
        let (&first, (since, bars)) = self.pending.iter().next()?;
        // The last minute filled in from REST waits for the socket's bars of it.
        let awaited = self.pending.len() == 1 && self.filled_in.get(&first).is_some_and(|f| !f.heard);
        let complete = (bars.len() == self.symbols.len() && !awaited) || self.pending.len() > 1 || flushing;
        if !complete && since.elapsed() < self.config.grace {
            return None;
        }
        let (_, mut bars) = self.pending.remove(&first)?;
        bars.sort_by_key(|(s, _)| *s);
        self.last_handed = Some(first);
        self.handed_stale = self.filled_in.remove(&first).is_some_and(|f| !f.heard);
        Some((first, bars))
    }

    /// After a connection is lost: reconnect with back-off, then fill the gap from REST.
    fn reconnect(&mut self, why: &str) -> bool {
        self.socket = None;
        self.restarts += 1;
        if self.restarts > self.config.reconnects {
            self.ended = Some(format!("the feed ended: {why}, and {} reconnections brought no bar", self.restarts - 1));
            return false;
        }
        let mut pause = if self.evicted { self.config.evicted_backoff } else { self.config.backoff };
        self.evicted = false;
        for attempt in 1..=self.config.reconnects {
            std::thread::sleep(pause);
            match self.open() {
                Ok(ws) => {
                    self.notes.push(format!("reconnected to the feed after: {why}"));
                    self.socket = Some(ws);
                    self.backfill();
                    return true;
                }
                Err(e) => {
                    self.watch.attempt_failed(wall_now(), attempt, &e, &mut self.notes);
                    if attempt == self.config.reconnects {
                        self.ended =
                            Some(format!("the feed ended: {why}; {attempt} reconnections failed, the last: {e}"));
                    }
                }
            }
            pause = (pause * 2).min(Duration::from_secs(60));
        }
        if self.config.reconnects == 0 {
            self.ended = Some(format!("the feed ended: {why}"));
        }
        false
    }

    /// A silence of `idle` since `since`, judged against the market's status: whether to wait
    /// on (the market is closed, or has just opened) or to reconnect (the feed is stale).
    fn judge_silence(&mut self, since: &mut Instant) -> Silence {
        let rest = self.rest.as_ref();
        let ask = || match rest {
            Some(c) => c.market_status().map_err(|e| e.to_string()),
            None => Err("no REST client to ask it".to_string()),
        };
        let verdict = self.watch.judge(wall_now(), since, ask, &mut self.notes);
        if verdict == Silence::Wait {
            // The connection lived through a quiet market: that is no failure to reconnect.
            self.restarts = 0;
        }
        verdict
    }

    /// The minutes missed while disconnected, from the REST aggregates.
    fn backfill(&mut self) {
        let (Some(rest), Some(last)) = (self.rest.as_ref(), self.last_handed) else { return };
        let Some(from) = new_york(last).map(|t| t.date()) else { return };
        // A week past the last minute handed on covers any gap a reconnection leaves.
        let to = from + chrono::Duration::days(7);
        let mut got = Vec::new();
        for (sym, symbol) in self.symbols.iter().enumerate() {
            let r = Request { symbol: symbol.clone(), span: Span::Minute, from, to };
            match rest.aggregates(&r) {
                Ok(h) => got.extend(h.bars.into_iter().map(|b| (sym, b))),
                Err(e) => self.notes.push(format!("{symbol}: the gap could not be filled from REST: {e}")),
            }
        }
        for (sym, bar) in got {
            let start =
                bar.time.and_local_timezone(chrono_tz::America::New_York).single().map(|t| t.timestamp_millis());
            let Some(start) = start.filter(|s| *s > last) else { continue };
            let (_, bars) = self.pending.entry(start).or_insert_with(|| (wall_now(), Vec::new()));
            if !bars.iter().any(|(s, _)| *s == sym) {
                bars.push((sym, bar));
                self.filled_in.entry(start).or_default().rest.push(sym);
            }
        }
    }
}

/// Waits for the status event `want`; another status (`auth_failed`…) is the error.
async fn expect(ws: &mut Socket, want: &str) -> Result<(), String> {
    loop {
        let frame = tokio::time::timeout(Duration::from_secs(10), ws.next()).await;
        let text = match frame {
            Ok(Some(Ok(Message::Text(t)))) => t.to_string(),
            Ok(Some(Ok(_))) => continue,
            Err(_) => return Err(format!("no `{want}` from the feed within 10 s")),
            Ok(_) => return Err(format!("the feed closed before `{want}`")),
        };
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        for e in v.as_array().into_iter().flatten().filter(|e| e["ev"] == "status") {
            match e["status"].as_str() {
                Some(s) if s == want => return Ok(()),
                Some("auth_failed") => {
                    return Err("Polygon refused the key (auth_failed): check POLYGON_API_KEY".into());
                }
                Some("max_connections") => return Err("Polygon evicted the connection (max_connections)".into()),
                _ => {}
            }
        }
    }
}

fn new_york(ms: i64) -> Option<NaiveDateTime> {
    Some(DateTime::from_timestamp_millis(ms)?.with_timezone(&chrono_tz::America::New_York).naive_local())
}

/// The wall clock: silence and grace are measured in it, never the run's time.
#[allow(clippy::disallowed_methods)]
fn wall_now() -> Instant {
    Instant::now()
}

impl MarketData for Live {
    fn label(&self) -> String {
        format!("Polygon live minute bars (AM) from {}", self.config.url)
    }

    fn symbols(&self) -> &[String] {
        &self.symbols
    }

    fn intervals(&self) -> &[i64] {
        &self.intervals
    }

    fn steps(&self) -> Option<usize> {
        None
    }

    fn is_live(&self) -> bool {
        true
    }
    fn stale(&self) -> Option<String> {
        self.handed_stale.then(|| "filled in from REST after the feed reconnected".to_string())
    }

    fn take_notes(&mut self, out: &mut Vec<String>) {
        out.append(&mut self.notes);
    }

    fn next(&mut self, closed: &mut Vec<(usize, Bar)>) -> Option<NaiveDateTime> {
        closed.clear();
        let mut silent_since = wall_now();
        loop {
            let gone = self.socket.is_none() || self.ended.is_some();
            if let Some((start, bars)) = self.ready(gone) {
                closed.extend(bars);
                return new_york(start);
            }
            if gone && (self.ended.is_some() || !self.reconnect("not connected")) {
                return None;
            }
            match self.read(self.config.grace.min(self.config.idle)) {
                Ok(Some(frame)) => {
                    silent_since = wall_now();
                    self.take(&frame);
                }
                Ok(None) if silent_since.elapsed() >= self.config.idle => {
                    if self.judge_silence(&mut silent_since) == Silence::Wait {
                        continue;
                    }
                    let why = format!("the feed was stale (no frame for {})", span(silent_since.elapsed()));
                    if !self.reconnect(&why) {
                        continue;
                    }
                    silent_since = wall_now();
                }
                Ok(None) => {}
                Err(why) => {
                    if !self.reconnect(&why) {
                        continue;
                    }
                    silent_since = wall_now();
                }
            }
        }
    }
}
