//! Alpaca's `trade_updates` stream, read on a thread of its own.
//!
//! The thread connects to the stream's URL, sends `authenticate` with the key pair, then
//! `listen` to `trade_updates`, and from then on hands every event's order (the whole Order,
//! as it stands after the event) to the broker through a bounded channel. The broker takes
//! them when it likes and never waits for them: the channel holds at most [`CAPACITY`]
//! events, and an event that finds it full is dropped and said, so the broker polls instead.
//!
//! A connection that fails or ends (a close, an error, no frame and no pong for a minute) is
//! opened again after a pause that doubles with each failure in a row, up to the configured
//! cap, and starts over from `authenticate`; a connection that listened for as long as the cap
//! starts the pauses over. `unauthorized` ends the stream for good: keys the venue refused are
//! not sent again and again. Frames and messages larger than [`MAX_MESSAGE`] end the
//! connection; a frame that is not JSON, or an event without an order that can be read, is
//! ignored and said, and the broker polls. What the user should know comes back as notes.

use super::config::Config;
use super::wire::{self, State};
use futures_util::{SinkExt, StreamExt};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, SyncSender, TrySendError};
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::WebSocketConfig;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The events held for the broker between two of its calls.
pub const CAPACITY: usize = 1024;
/// The largest frame or message read (an order event is a couple of kilobytes).
pub const MAX_MESSAGE: usize = 1 << 20;
/// How long connecting, and each answer of the handshake, may take.
const HANDSHAKE: Duration = Duration::from_secs(10);
/// A ping goes out after this long without a frame; as long again without one ends the
/// connection.
const PING_AFTER: Duration = Duration::from_secs(30);
/// The most notes kept.
const MAX_NOTES: usize = 100;

/// What the thread and the broker share.
#[derive(Default)]
struct Shared {
    listening: AtomicBool,
    /// How many times listening began.
    listens: AtomicU64,
    /// Whether an event was dropped or unreadable since the broker last took the events.
    missed: AtomicBool,
    notes: Mutex<Vec<String>>,
}

impl Shared {
    fn notes(&self) -> MutexGuard<'_, Vec<String>> {
        self.notes.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn note(&self, note: String) {
        let mut notes = self.notes();
        match notes.len() {
            n if n < MAX_NOTES => notes.push(note),
            MAX_NOTES => notes.push("further notes of the trade_updates stream were not kept".into()),
            _ => {}
        }
    }
}

/// How a connection ended.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Ended {
    /// The venue refused the keys: the stream is not opened again.
    Refused(String),
    /// It failed or ended: it is opened again after the pause.
    Lost(String),
    /// The broker is gone.
    Gone,
}

/// What one frame says.
#[derive(Debug, Clone, PartialEq)]
enum Frame {
    /// The answer to `authenticate`: `authorized` or `unauthorized`.
    Authorization(String),
    /// The streams the venue listens to for this connection.
    Listening(Vec<String>),
    /// An order event, with the order as it stands after it.
    Update(State),
    /// Another stream's frame, or nothing this client reads.
    Other,
    /// Not JSON, or a trade update without an order that can be read.
    Unreadable(String),
}

/// Reads one frame; never fails.
fn decode(bytes: &[u8]) -> Frame {
    let Ok(v) = serde_json::from_slice::<serde_json::Value>(bytes) else {
        return Frame::Unreadable(format!("{} bytes that are not JSON", bytes.len()));
    };
    let data = &v["data"];
    match v["stream"].as_str() {
        Some("authorization") => Frame::Authorization(data["status"].as_str().unwrap_or_default().to_string()),
        Some("listening") => Frame::Listening(
            data["streams"].as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_string)).collect(),
        ),
        Some("trade_updates") => match wire::state(&data["order"]) {
            Some(order) if !order.client_id.is_empty() => Frame::Update(order),
            _ => Frame::Unreadable(format!(
                "a `{}` event without an order that can be read",
                data["event"].as_str().unwrap_or("?").chars().take(40).collect::<String>()
            )),
        },
        _ => Frame::Other,
    }
}

/// The stream, read on its own thread until dropped.
pub struct Stream {
    events: Receiver<State>,
    shared: Arc<Shared>,
    /// How many times listening had begun when the broker last took the events.
    listens_seen: u64,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

/// What the thread needs of the configuration.
struct Settings {
    url: String,
    key_id: String,
    secret: String,
    backoff: Duration,
    backoff_cap: Duration,
}

impl Stream {
    /// Starts reading `url` with the configuration's keys and back-off; an error when the
    /// thread cannot be started.
    pub fn start(url: &str, config: &Config) -> Result<Stream, String> {
        let settings = Settings {
            url: url.to_string(),
            key_id: config.key_id.clone(),
            secret: config.secret.clone(),
            backoff: config.stream_backoff.max(Duration::from_millis(1)),
            backoff_cap: config.stream_backoff_cap.max(config.stream_backoff),
        };
        let (tx, events) = std::sync::mpsc::sync_channel(CAPACITY);
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let shared = Arc::new(Shared::default());
        let theirs = shared.clone();
        let thread = std::thread::Builder::new()
            .name("alpaca-trade-updates".into())
            .spawn(move || {
                let rt = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
                    Ok(rt) => rt,
                    Err(e) => {
                        return theirs
                            .note(format!("the trade_updates stream cannot run ({e}); the orders are polled"));
                    }
                };
                rt.block_on(async {
                    let run = std::pin::pin!(run(settings, &theirs, tx));
                    futures_util::future::select(stopped, run).await;
                });
                // A name lookup still running is not waited for.
                rt.shutdown_background();
            })
            .map_err(|e| e.to_string())?;
        Ok(Stream { events, shared, listens_seen: 0, stop: Some(stop), thread: Some(thread) })
    }

    /// Whether it is listening now.
    pub fn listening(&self) -> bool {
        self.shared.listening.load(Ordering::SeqCst)
    }

    /// Moves the orders of the events received since the last call into `out`, oldest first.
    /// True when the orders should be polled now: listening began (again) since the last call,
    /// and what happened before it was not streamed; or an event was dropped or unreadable.
    pub fn take(&mut self, out: &mut Vec<State>) -> bool {
        let listens = self.shared.listens.load(Ordering::SeqCst);
        let began = listens != self.listens_seen;
        self.listens_seen = listens;
        let missed = self.shared.missed.swap(false, Ordering::SeqCst);
        out.extend(self.events.try_iter().take(CAPACITY));
        began || missed
    }

    /// The notes since the last call.
    pub fn take_notes(&self) -> Vec<String> {
        std::mem::take(&mut *self.shared.notes())
    }
}

impl Drop for Stream {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

/// Since when the stream does not listen: whether that was said, and the attempts that failed
/// since.
#[derive(Debug, Default)]
struct Outage {
    said: bool,
    failed: u32,
}

/// Connections one after another, with the pauses between them, until the keys are refused
/// or the broker is gone.
async fn run(s: Settings, shared: &Shared, tx: SyncSender<State>) {
    let mut pause = s.backoff;
    let mut outage = Outage::default();
    loop {
        let mut listened = None;
        let ended = session(&s, shared, &tx, &mut outage, &mut listened).await;
        shared.listening.store(false, Ordering::SeqCst);
        match ended {
            Ended::Gone => return,
            Ended::Refused(why) => {
                shared.note(format!("{why}; the orders are polled instead"));
                return;
            }
            Ended::Lost(why) if !outage.said => {
                shared.note(match listened {
                    Some(_) => format!("the trade_updates stream was lost ({why}); the orders are polled until it is back"),
                    None => format!(
                        "the trade_updates stream could not be opened ({why}); the orders are polled, and it is tried again"
                    ),
                });
                outage = Outage { said: true, failed: u32::from(listened.is_none()) };
            }
            Ended::Lost(_) => outage.failed += 1,
        }
        if listened.is_some_and(|since| since.elapsed() >= s.backoff_cap) {
            pause = s.backoff;
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(s.backoff_cap);
    }
}

/// One connection: connect, authenticate, listen, then read until it ends.
async fn session(
    s: &Settings,
    shared: &Shared,
    tx: &SyncSender<State>,
    outage: &mut Outage,
    listened: &mut Option<Instant>,
) -> Ended {
    let config = WebSocketConfig::default().max_message_size(Some(MAX_MESSAGE)).max_frame_size(Some(MAX_MESSAGE));
    let connect = tokio_tungstenite::connect_async_with_config(s.url.as_str(), Some(config), true);
    let mut ws = match tokio::time::timeout(HANDSHAKE, connect).await {
        Err(_) => return Ended::Lost(format!("no answer from {} within {} s", s.url, HANDSHAKE.as_secs())),
        Ok(Err(e)) => return Ended::Lost(connect_error(&e)),
        Ok(Ok((ws, _))) => ws,
    };
    let auth = serde_json::json!({"action": "authenticate", "data": {"key_id": s.key_id, "secret_key": s.secret}});
    if ws.send(Message::text(auth.to_string())).await.is_err() {
        return Ended::Lost("the connection broke while authenticating".into());
    }
    match answer(&mut ws, "authorization").await {
        Ok(Frame::Authorization(status)) if status == "authorized" => {}
        Ok(Frame::Authorization(status)) if status == "unauthorized" => {
            return Ended::Refused("Alpaca refused the keys on the trade_updates stream (unauthorized)".into());
        }
        Ok(Frame::Authorization(status)) => {
            let status: String = status.chars().take(40).collect();
            return Ended::Lost(format!("authenticate was answered `{status}`"));
        }
        Ok(_) => return Ended::Lost("no answer to authenticate".into()),
        Err(e) => return e,
    }
    let listen = serde_json::json!({"action": "listen", "data": {"streams": ["trade_updates"]}});
    if ws.send(Message::text(listen.to_string())).await.is_err() {
        return Ended::Lost("the connection broke while asking to listen".into());
    }
    match answer(&mut ws, "listening").await {
        Ok(Frame::Listening(streams)) if streams.iter().any(|s| s == "trade_updates") => {}
        Ok(_) => return Ended::Lost("the venue does not listen to trade_updates for this connection".into()),
        Err(e) => return e,
    }
    shared.listening.store(true, Ordering::SeqCst);
    shared.listens.fetch_add(1, Ordering::SeqCst);
    *listened = Some(wall_now());
    if outage.said {
        shared.note(format!("the trade_updates stream listens again (after {} failed attempt(s))", outage.failed));
    }
    *outage = Outage::default();
    read(&mut ws, shared, tx).await
}

/// Reads frames until one of `stream` (`Frame::Authorization` or `Frame::Listening`) comes.
async fn answer(ws: &mut Socket, stream: &str) -> Result<Frame, Ended> {
    let deadline = tokio::time::Instant::now() + HANDSHAKE;
    loop {
        let m = match tokio::time::timeout_at(deadline, ws.next()).await {
            Err(_) => return Err(Ended::Lost(format!("no `{stream}` answer within {} s", HANDSHAKE.as_secs()))),
            Ok(None) | Ok(Some(Ok(Message::Close(_)))) => {
                return Err(Ended::Lost(format!("the venue closed the stream before `{stream}`")));
            }
            Ok(Some(Err(e))) => return Err(Ended::Lost(format!("the connection broke: {e}"))),
            Ok(Some(Ok(m))) => m,
        };
        let frame = match &m {
            Message::Text(t) => decode(t.as_bytes()),
            Message::Binary(b) => decode(b),
            _ => continue,
        };
        match frame {
            Frame::Authorization(_) if stream == "authorization" => return Ok(frame),
            Frame::Listening(_) if stream == "listening" => return Ok(frame),
            _ => {}
        }
    }
}

/// The events of a listening connection, handed on until it ends.
async fn read(ws: &mut Socket, shared: &Shared, tx: &SyncSender<State>) -> Ended {
    let mut pinged = false;
    // Whether an event was dropped on this connection (said once).
    let mut dropped = false;
    loop {
        let m = match tokio::time::timeout(PING_AFTER, ws.next()).await {
            Err(_) if pinged => {
                return Ended::Lost(format!("no frame, not even a pong, for {} s", 2 * PING_AFTER.as_secs()));
            }
            Err(_) => {
                pinged = true;
                if ws.send(Message::Ping(Vec::new().into())).await.is_err() {
                    return Ended::Lost("the connection broke".into());
                }
                continue;
            }
            Ok(None) | Ok(Some(Ok(Message::Close(_)))) => return Ended::Lost("the venue closed the stream".into()),
            Ok(Some(Err(e))) => return Ended::Lost(format!("the connection broke: {e}")),
            Ok(Some(Ok(m))) => m,
        };
        pinged = false;
        let frame = match &m {
            Message::Text(t) => decode(t.as_bytes()),
            Message::Binary(b) => decode(b),
            _ => continue,
        };
        match frame {
            Frame::Update(order) => match tx.try_send(order) {
                Ok(()) => {}
                Err(TrySendError::Full(_)) => {
                    shared.missed.store(true, Ordering::SeqCst);
                    if !std::mem::replace(&mut dropped, true) {
                        shared.note(
                            "the stream's events were not taken in time: one was dropped, and the orders are polled instead"
                                .into(),
                        );
                    }
                }
                Err(TrySendError::Disconnected(_)) => return Ended::Gone,
            },
            Frame::Unreadable(why) => {
                shared.missed.store(true, Ordering::SeqCst);
                shared.note(format!("a frame of the trade_updates stream was ignored: {why}"));
            }
            Frame::Authorization(_) | Frame::Listening(_) | Frame::Other => {}
        }
    }
}

fn connect_error(e: &tokio_tungstenite::tungstenite::Error) -> String {
    use tokio_tungstenite::tungstenite::Error;
    match e {
        Error::Http(r) => format!("the venue answered the stream's upgrade with {}", r.status().as_u16()),
        Error::Io(e) => format!("cannot connect: {}", e.kind()),
        Error::Url(e) => format!("the stream's URL is not usable: {e}"),
        Error::Tls(_) => "the TLS handshake failed".into(),
        other => format!("the handshake failed: {other}"),
    }
}

/// The wall clock: how long a connection listened decides the next pause, not the run's time.
#[allow(clippy::disallowed_methods)]
fn wall_now() -> Instant {
    Instant::now()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_are_read_in_one_pass_and_nothing_on_the_wire_panics() {
        let authorized = br#"{"stream":"authorization","data":{"status":"authorized","action":"authenticate"}}"#;
        assert_eq!(decode(authorized), Frame::Authorization("authorized".into()));
        let listening = br#"{"stream":"listening","data":{"streams":["trade_updates"]}}"#;
        assert_eq!(decode(listening), Frame::Listening(vec!["trade_updates".into()]));
        let fill = br#"{"stream":"trade_updates","data":{"event":"fill","price":"150","qty":"2","position_qty":"2",
            "order":{"id":"o1","client_order_id":"strat-r-1","status":"filled","filled_qty":"2","filled_avg_price":"150"}}}"#;
        let Frame::Update(o) = decode(fill) else { panic!("an update") };
        assert_eq!((o.client_id.as_str(), o.status.as_str(), o.filled_qty), ("strat-r-1", "filled", 2.into()));
        for bad in [
            &b"not json"[..],
            b"\xff\xfe",
            b"[]",
            b"null",
            br#"{"stream":"trade_updates","data":{"event":"fill"}}"#,
            br#"{"stream":"trade_updates","data":"x"}"#,
            br#"{"stream":"trade_updates","data":{"event":"new","order":{"id":"o","status":"new"}}}"#,
        ] {
            assert!(matches!(decode(bad), Frame::Unreadable(_) | Frame::Other), "{:?}", String::from_utf8_lossy(bad));
        }
        assert_eq!(decode(br#"{"stream":"account_updates","data":{}}"#), Frame::Other);
        assert_eq!(decode(br#"{"stream":"authorization"}"#), Frame::Authorization(String::new()));
    }

    const FILL: &str = r#"{"stream":"trade_updates","data":{"event":"fill","order":{"id":"o1",
        "client_order_id":"strat-r-1","status":"filled","filled_qty":"1","filled_avg_price":"10"}}}"#;

    /// A server for one connection: it answers `authenticate` with `authorization` and
    /// `listen` with `listening`, then sends `frames` and waits.
    async fn serve_once(authorization: &'static str, frames: Vec<Message>) -> String {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("ws://{}/stream", listener.local_addr().expect("an address"));
        let listening = r#"{"stream":"listening","data":{"streams":["trade_updates"]}}"#;
        tokio::spawn(async move {
            let Ok((tcp, _)) = listener.accept().await else { return };
            let Ok(mut ws) = tokio_tungstenite::accept_async(tcp).await else { return };
            for answer in [authorization, listening] {
                let _ = ws.next().await;
                let _ = ws.send(Message::binary(answer.as_bytes().to_vec())).await;
            }
            for f in frames {
                if ws.send(f).await.is_err() {
                    return;
                }
            }
            while let Some(Ok(_)) = ws.next().await {}
        });
        url
    }

    fn settings(url: String) -> Settings {
        let pause = Duration::from_millis(1);
        Settings { url, key_id: "k".into(), secret: "s".into(), backoff: pause, backoff_cap: pause }
    }

    fn runtime() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime")
    }

    #[test]
    fn a_frame_too_large_ends_the_connection_and_bad_or_unwanted_frames_are_said_and_polled_for() {
        let authorized = r#"{"stream":"authorization","data":{"status":"authorized","action":"authenticate"}}"#;
        let frames = vec![
            Message::text("not json"),
            Message::text(FILL),
            Message::text(FILL.replace("strat-r-1", "strat-r-2")),
            Message::binary(vec![b' '; MAX_MESSAGE + 1]),
        ];
        let (shared, (tx, rx)) = (Shared::default(), std::sync::mpsc::sync_channel(1));
        let mut listened = None;
        let ended = runtime().block_on(async {
            let url = serve_once(authorized, frames).await;
            session(&settings(url), &shared, &tx, &mut Outage::default(), &mut listened).await
        });
        assert!(matches!(&ended, Ended::Lost(why) if why.contains("broke")), "{ended:?}");
        assert!(listened.is_some() && shared.listens.load(Ordering::SeqCst) == 1);
        let held: Vec<String> = rx.try_iter().map(|o| o.client_id).collect();
        assert_eq!(held, ["strat-r-1"], "the second found the channel full");
        assert!(shared.missed.load(Ordering::SeqCst), "so the broker polls");
        let notes = shared.notes().clone();
        assert!(notes[0].contains("not JSON") && notes[1].contains("one was dropped"), "{notes:?}");
    }

    #[test]
    fn unauthorized_ends_the_stream_for_good_and_a_lost_one_is_tried_again() {
        let unauthorized = r#"{"stream":"authorization","data":{"status":"unauthorized","action":"authenticate"}}"#;
        let (shared, (tx, _rx)) = (Shared::default(), std::sync::mpsc::sync_channel(1));
        runtime().block_on(async {
            let url = serve_once(unauthorized, vec![]).await;
            // `run` returns only when the stream is over for good.
            let over = tokio::time::timeout(Duration::from_secs(5), run(settings(url), &shared, tx)).await;
            assert!(over.is_ok(), "not tried again");
        });
        let notes = shared.notes().clone();
        assert_eq!(notes.len(), 1, "{notes:?}");
        assert!(notes[0].contains("refused the keys on the trade_updates stream"), "{notes:?}");
        let ended = runtime().block_on(async {
            session(
                &settings("ws://127.0.0.1:1/stream".into()),
                &shared,
                &std::sync::mpsc::sync_channel(1).0,
                &mut Outage::default(),
                &mut None,
            )
            .await
        });
        assert!(matches!(ended, Ended::Lost(_)), "a connection refused is tried again: {ended:?}");
    }
}
