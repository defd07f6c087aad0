//! A fake of Polygon's (Massive's) stocks WebSocket on loopback: a real WebSocket server that
//! greets each connection with `connected`, answers `auth` (this key: `auth_success`, another:
//! `auth_failed` and a close) and `subscribe` (one `success` status per channel), then plays
//! the connection's script: frames as text, pauses, a close. Connection n plays script n (the
//! last script again once they run out), so a test scripts a feed that drops and what the
//! reconnection gets. Every client message is recorded.

use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// One step of a connection's script, played once the client has subscribed.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// A text frame (a JSON array of events, or anything at all).
    Send(String),
    Pause(Duration),
    /// Closes the connection (code 1000), as a server going away.
    Close,
    /// `max_connections`, then a close with code 1008, as the service evicts a connection.
    Evict,
}

#[derive(Default)]
struct State {
    scripts: Vec<Vec<Step>>,
    connections: usize,
    /// What clients sent, per connection, in order.
    received: Vec<Vec<String>>,
}

/// The server, stopped when dropped.
pub struct FakePolygonWs {
    addr: SocketAddr,
    state: Arc<Mutex<State>>,
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<std::thread::JoinHandle<()>>,
}

fn lock(s: &Mutex<State>) -> MutexGuard<'_, State> {
    s.lock().unwrap_or_else(|p| p.into_inner())
}

impl FakePolygonWs {
    pub fn start(key: &str, scripts: Vec<Vec<Step>>) -> FakePolygonWs {
        let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1");
        listener.set_nonblocking(true).expect("non-blocking listener");
        let addr = listener.local_addr().expect("local address");
        let state = Arc::new(Mutex::new(State { scripts, ..State::default() }));
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let (shared, key) = (state.clone(), key.to_string());
        let thread = std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("fake ws runtime");
            rt.block_on(async move {
                let Ok(listener) = tokio::net::TcpListener::from_std(listener) else { return };
                let accept = async {
                    loop {
                        let Ok((stream, _)) = listener.accept().await else { continue };
                        tokio::spawn(connection(stream, shared.clone(), key.clone()));
                    }
                };
                tokio::select! {
                    _ = stopped => {}
                    () = accept => {}
                }
            });
        });
        FakePolygonWs { addr, state, stop: Some(stop), thread: Some(thread) }
    }

    /// `ws://127.0.0.1:PORT/stocks`
    pub fn url(&self) -> String {
        format!("ws://{}/stocks", self.addr)
    }

    /// Adds a script, for the connection after those scripted so far.
    pub fn add_script(&self, script: Vec<Step>) {
        lock(&self.state).scripts.push(script);
    }

    /// How many connections were accepted.
    pub fn connections(&self) -> usize {
        lock(&self.state).connections
    }

    /// What the clients sent, per connection.
    pub fn received(&self) -> Vec<Vec<String>> {
        lock(&self.state).received.clone()
    }
}

impl Drop for FakePolygonWs {
    fn drop(&mut self) {
        if let Some(stop) = self.stop.take() {
            let _ = stop.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

fn status(status: &str, message: &str) -> Message {
    Message::text(serde_json::json!([{"ev": "status", "status": status, "message": message}]).to_string())
}

/// One connection: greeting, auth, subscriptions, then its script.
async fn connection(stream: tokio::net::TcpStream, state: Arc<Mutex<State>>, key: String) {
    let Ok(mut ws) = tokio_tungstenite::accept_async(stream).await else { return };
    let (n, script) = {
        let mut s = lock(&state);
        s.connections += 1;
        s.received.push(Vec::new());
        let n = s.connections - 1;
        (n, s.scripts.get(n).or(s.scripts.last()).cloned().unwrap_or_default())
    };
    if ws.send(status("connected", "Connected Successfully")).await.is_err() {
        return;
    }
    // Auth, then subscriptions, until the client has subscribed to something.
    loop {
        let Some(Ok(Message::Text(text))) = ws.next().await else { return };
        lock(&state).received[n].push(text.to_string());
        let v: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
        match (v["action"].as_str(), v["params"].as_str()) {
            (Some("auth"), Some(k)) if k == key => {
                let _ = ws.send(status("auth_success", "authenticated")).await;
            }
            (Some("auth"), _) => {
                let _ = ws.send(status("auth_failed", "authentication failed")).await;
                let _ = ws.close(None).await;
                return;
            }
            (Some("subscribe"), Some(channels)) => {
                for c in channels.split(',') {
                    let _ = ws.send(status("success", &format!("subscribed to: {c}"))).await;
                }
                break;
            }
            _ => {}
        }
    }
    play(&mut ws, script).await;
}

async fn play(ws: &mut tokio_tungstenite::WebSocketStream<tokio::net::TcpStream>, script: Vec<Step>) {
    for step in script {
        match step {
            Step::Send(text) => {
                if ws.send(Message::text(text)).await.is_err() {
                    return;
                }
            }
            Step::Pause(d) => tokio::time::sleep(d).await,
            Step::Close => {
                let _ = ws.close(None).await;
                return;
            }
            Step::Evict => {
                let _ = ws.send(status("max_connections", "Maximum number of websocket connections exceeded.")).await;
                let frame = tokio_tungstenite::tungstenite::protocol::CloseFrame {
                    code: tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Policy,
                    reason: "max connections".into(),
                };
                let _ = ws.close(Some(frame)).await;
                return;
            }
        }
    }
    // The script is over: the connection stays open and quiet until the client leaves.
    while let Some(Ok(_)) = ws.next().await {}
}
