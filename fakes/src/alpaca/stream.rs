//! The trading stream at `/stream`, on the REST API's own host and port (the official clients
//! derive its URL from the base URL): an HTTP upgrade to a WebSocket, then Alpaca's protocol.
//! The client sends `authenticate` with its key pair (the REST keys: `authorized`; others:
//! `unauthorized` and the socket closed), then `listen` to `trade_updates` (answered
//! `listening` with the streams taken), and from then on receives every order event of the
//! venue. Frames go out binary, as on Alpaca's paper host.

use super::{Shared, lock};
use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::{Method, Request, Response};
use serde_json::{Value, json};
use std::sync::Arc;
use tokio::sync::broadcast::{Receiver, error::RecvError};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

/// The largest message taken from a client (a longer one ends its connection).
const MAX_MESSAGE: usize = 64 * 1024;

type Socket = WebSocketStream<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>>;

/// Answers the upgrade request of `/stream` (`101 Switching Protocols`, or why not) and starts
/// the connection's session once hyper hands the socket over.
pub(super) fn upgrade(mut req: Request<Incoming>, shared: Arc<Shared>) -> Response<Full<Bytes>> {
    let header = |name: &str| req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_string);
    let websocket = req.method() == Method::GET
        && header("upgrade").is_some_and(|u| u.eq_ignore_ascii_case("websocket"))
        && header("sec-websocket-version").as_deref() == Some("13");
    let Some(accept) = header("sec-websocket-key").filter(|_| websocket).map(|k| derive_accept_key(k.as_bytes()))
    else {
        return plain(400, "expected a WebSocket handshake");
    };
    if lock(&shared.state).stream_refused {
        return plain(503, "the stream is unavailable");
    }
    let upgraded = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        if let Ok(io) = upgraded.await {
            let config =
                WebSocketConfig::default().max_message_size(Some(MAX_MESSAGE)).max_frame_size(Some(MAX_MESSAGE));
            let ws =
                WebSocketStream::from_raw_socket(hyper_util::rt::TokioIo::new(io), Role::Server, Some(config)).await;
            session(ws, shared).await;
        }
    });
    let switching = Response::builder()
        .status(101)
        .header("connection", "upgrade")
        .header("upgrade", "websocket")
        .header("sec-websocket-accept", accept)
        .body(Full::new(Bytes::new()));
    switching.unwrap_or_else(|_| plain(500, "cannot switch protocols"))
}

fn plain(status: u16, text: &'static str) -> Response<Full<Bytes>> {
    let mut r = Response::new(Full::new(Bytes::from_static(text.as_bytes())));
    *r.status_mut() = hyper::StatusCode::from_u16(status).unwrap_or(hyper::StatusCode::INTERNAL_SERVER_ERROR);
    r
}

/// A client's message as JSON; `None` for anything else (a ping, a close, bytes that are not
/// JSON).
fn json_of(m: &Message) -> Option<Value> {
    match m {
        Message::Text(t) => serde_json::from_str(t).ok(),
        Message::Binary(b) => serde_json::from_slice(b).ok(),
        _ => None,
    }
}

async fn send(ws: &mut Socket, v: &Value) -> bool {
    ws.send(Message::binary(v.to_string().into_bytes())).await.is_ok()
}

/// The next event for a connection that listens; never, for one that does not.
async fn next_event(events: &mut Option<Receiver<Arc<str>>>) -> Result<Arc<str>, RecvError> {
    match events {
        Some(rx) => rx.recv().await,
        None => std::future::pending().await,
    }
}

/// One connection: authentication, then `listen` requests and the events. It ends when the
/// client leaves, when [`super::FakeAlpaca::drop_stream_connections`] cuts it (without a
/// closing handshake, as a network failure would; no event made after the cut is sent), or
/// when it falls too far behind.
async fn session(mut ws: Socket, shared: Arc<Shared>) {
    let mut cut = shared.cuts.subscribe();
    lock(&shared.state).stream_connections += 1;
    loop {
        let m = tokio::select! {
            m = ws.next() => m,
            _ = cut.changed() => return,
        };
        let Some(Ok(m)) = m else { return };
        let Some(v) = json_of(&m) else { continue };
        if v["action"] != "authenticate" {
            continue;
        }
        let keys = (v["data"]["key_id"].as_str(), v["data"]["secret_key"].as_str());
        let refused = lock(&shared.state).stream_keys_refused;
        if !refused && keys == (Some(shared.key_id.as_str()), Some(shared.secret.as_str())) {
            if !send(&mut ws, &shared.fx.stream_authorized).await {
                return;
            }
            break;
        }
        let mut no = shared.fx.stream_authorized.clone();
        no["data"]["status"] = "unauthorized".into();
        let _ = send(&mut ws, &no).await;
        let _ = ws.close(None).await;
        return;
    }
    let mut events = None;
    loop {
        tokio::select! {
            m = ws.next() => {
                let Some(Ok(m)) = m else { return };
                let Some(v) = json_of(&m).filter(|v| v["action"] == "listen") else { continue };
                let asked = v["data"]["streams"].as_array().cloned().unwrap_or_default();
                let taken: Vec<Value> = asked.into_iter().filter(|s| s == "trade_updates").collect();
                events = if taken.is_empty() { None } else { events.or_else(|| Some(shared.events())) };
                let mut answer = shared.fx.stream_listening.clone();
                answer["data"]["streams"] = Value::Array(taken);
                if !send(&mut ws, &answer).await {
                    return;
                }
            }
            e = next_event(&mut events) => match e {
                // An event made after a cut never reaches a connection it cut.
                Ok(_) if cut.has_changed().unwrap_or(true) => return,
                Ok(frame) => {
                    if ws.send(Message::binary(frame.as_bytes().to_vec())).await.is_err() {
                        return;
                    }
                }
                Err(RecvError::Lagged(_)) => {
                    let _ = send(&mut ws, &json!({"stream": "error", "data": {"message": "slow client"}})).await;
                    let _ = ws.close(None).await;
                    return;
                }
                Err(RecvError::Closed) => return,
            },
            _ = cut.changed() => return,
        }
    }
}
