//! The Alpaca fake's trading stream (`/stream` on the REST port), spoken with a WebSocket
//! client: the recorded protocol, one event per order change with the order as REST shows it,
//! and the knobs (duplicates, a fill before its `new`, a cut, refused connections and keys).
#![allow(clippy::disallowed_methods)] // tests wait on the wall clock

use futures_util::{SinkExt, StreamExt};
use serde_json::{Value, json};
use std::io::{Read, Write};
use std::time::Duration;
use strat_fakes::alpaca::FakeAlpaca;
use tokio_tungstenite::tungstenite::Message;

const KEY: &str = "PKSTREAM";
const SECRET: &str = "secret-stream";
/// The longest a test waits for one frame.
const WAIT: Duration = Duration::from_secs(5);

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("a runtime")
}

/// One REST request with the venue's keys: status and JSON body.
fn rest(fake: &FakeAlpaca, method: &str, target: &str, body: Option<&Value>) -> (u16, Value) {
    let addr = fake.url().trim_start_matches("http://").to_string();
    let mut s = std::net::TcpStream::connect(&addr).expect("connect");
    s.set_read_timeout(Some(WAIT)).expect("read timeout");
    let body = body.map(Value::to_string).unwrap_or_default();
    let head = format!(
        "{method} {target} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\nAPCA-API-KEY-ID: {KEY}\r\n\
         APCA-API-SECRET-KEY: {SECRET}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
        body.len()
    );
    s.write_all(head.as_bytes()).expect("write");
    let mut raw = String::new();
    s.read_to_string(&mut raw).expect("read");
    let (head, body) = raw.split_once("\r\n\r\n").expect("a response");
    let status = head.split(' ').nth(1).and_then(|s| s.parse().ok()).expect("a status");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn limit_buy(client_id: &str, qty: u64) -> Value {
    json!({"symbol": "AAPL", "qty": qty.to_string(), "side": "buy", "type": "limit", "time_in_force": "day",
           "limit_price": "150", "client_order_id": client_id})
}

fn fixture(name: &str) -> Value {
    strat_fakes::wire_json(&format!("alpaca/{name}"))
}

async fn connect(fake: &FakeAlpaca) -> Socket {
    let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(fake.stream_url()))
        .await
        .expect("connects in time")
        .expect("connects");
    ws
}

async fn say(ws: &mut Socket, v: &Value) {
    ws.send(Message::text(v.to_string())).await.expect("send");
}

/// The next frame as JSON, checking it is binary as on the paper host; `None` when the
/// connection ended (or nothing came in time).
async fn frame(ws: &mut Socket) -> Option<Value> {
    loop {
        match tokio::time::timeout(WAIT, ws.next()).await.ok()?? {
            Ok(Message::Binary(b)) => return Some(serde_json::from_slice(&b).expect("JSON")),
            Ok(Message::Text(t)) => panic!("a text frame: {t}"),
            Ok(Message::Close(_)) | Err(_) => return None,
            Ok(_) => {}
        }
    }
}

fn authenticate(key: &str, secret: &str) -> Value {
    let mut a = fixture("stream_authenticate.json");
    a["data"] = json!({"key_id": key, "secret_key": secret});
    a
}

/// A connection that is authorised and listens to `trade_updates`.
async fn listening(fake: &FakeAlpaca) -> Socket {
    let mut ws = connect(fake).await;
    say(&mut ws, &authenticate(KEY, SECRET)).await;
    assert_eq!(frame(&mut ws).await, Some(fixture("stream_authorized.json")));
    say(&mut ws, &fixture("stream_listen.json")).await;
    assert_eq!(frame(&mut ws).await, Some(fixture("stream_listening.json")));
    ws
}

async fn event(ws: &mut Socket) -> Value {
    let f = frame(ws).await.expect("an event");
    assert_eq!(f["stream"], "trade_updates", "{f}");
    f["data"].clone()
}

#[test]
fn each_order_change_is_one_event_with_the_order_as_rest_shows_it() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    runtime().block_on(async {
        let mut ws = listening(&fake).await;
        let (status, posted) = rest(&fake, "POST", "/v2/orders", Some(&limit_buy("s1", 5)));
        assert_eq!(status, 200);
        let new = event(&mut ws).await;
        assert_eq!((new["event"].as_str(), &new["order"]), (Some("new"), &posted));
        assert!(new["timestamp"].is_string());

        assert!(fake.fill("s1", 3, 150.0));
        let part = event(&mut ws).await;
        let (_, shown) = rest(&fake, "GET", "/v2/orders:by_client_order_id?client_order_id=s1", None);
        assert_eq!(part["event"], "partial_fill");
        assert_eq!((&part["qty"], &part["price"], &part["position_qty"]), (&json!("3"), &json!("150"), &json!("3")));
        assert_eq!(part["order"], shown, "the order as GET shows it after the fill");
        assert!(part["timestamp"].is_string() && part["execution_id"].is_string());
        assert!(fake.fill("s1", 2, 145.0));
        let fill = event(&mut ws).await;
        assert_eq!(
            (fill["event"].as_str(), fill["qty"].as_str(), fill["position_qty"].as_str()),
            (Some("fill"), Some("2"), Some("5"))
        );
        assert_eq!(
            (fill["order"]["status"].as_str(), fill["order"]["filled_avg_price"].as_str()),
            (Some("filled"), Some("148"))
        );

        let (_, open) = rest(&fake, "POST", "/v2/orders", Some(&limit_buy("s2", 1)));
        assert_eq!(event(&mut ws).await["event"], "new");
        let id = open["id"].as_str().expect("an id");
        assert_eq!(rest(&fake, "DELETE", &format!("/v2/orders/{id}"), None).0, 204);
        let canceled = event(&mut ws).await;
        assert_eq!(
            (canceled["event"].as_str(), canceled["order"]["status"].as_str()),
            (Some("canceled"), Some("canceled"))
        );

        rest(&fake, "POST", "/v2/orders", Some(&limit_buy("s3", 1)));
        assert_eq!(event(&mut ws).await["event"], "new");
        assert!(fake.reject("s3", "halted"));
        let rejected = event(&mut ws).await;
        assert_eq!(
            (rejected["event"].as_str(), rejected["order"]["status"].as_str()),
            (Some("rejected"), Some("rejected"))
        );
    });
    assert!(fake.requests().contains(&("GET".to_string(), "/stream".to_string())), "the upgrade is on the REST port");
    assert_eq!(fake.stream_connections(), 1);
}

#[test]
fn a_wrong_key_is_unauthorized_and_the_socket_closed() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    let mut unauthorized = fixture("stream_authorized.json");
    unauthorized["data"]["status"] = "unauthorized".into();
    runtime().block_on(async {
        let mut ws = connect(&fake).await;
        say(&mut ws, &authenticate(KEY, "not-the-secret")).await;
        assert_eq!(frame(&mut ws).await, Some(unauthorized.clone()));
        assert_eq!(frame(&mut ws).await, None, "closed");

        fake.refuse_stream_keys(true);
        let mut ws = connect(&fake).await;
        say(&mut ws, &authenticate(KEY, SECRET)).await;
        assert_eq!(frame(&mut ws).await, Some(unauthorized), "the knob refuses the right keys too");
        assert_eq!(frame(&mut ws).await, None, "closed");
    });
}

#[test]
fn duplicated_events_come_twice_and_reordered_ones_bring_the_fill_before_its_new() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    runtime().block_on(async {
        let mut ws = listening(&fake).await;
        fake.duplicate_stream_events(true);
        rest(&fake, "POST", "/v2/orders", Some(&limit_buy("d1", 1)));
        let (a, b) = (event(&mut ws).await, event(&mut ws).await);
        assert_eq!((a["event"].as_str(), &a), (Some("new"), &b), "the same event twice");
        fake.duplicate_stream_events(false);

        fake.reorder_stream_events(true);
        rest(&fake, "POST", "/v2/orders", Some(&limit_buy("r1", 2)));
        assert!(fake.fill("r1", 2, 150.0));
        let (first, second) = (event(&mut ws).await, event(&mut ws).await);
        assert_eq!((first["event"].as_str(), second["event"].as_str()), (Some("fill"), Some("new")));
        assert_eq!(
            (first["order"]["client_order_id"].as_str(), second["order"]["client_order_id"].as_str()),
            (Some("r1"), Some("r1"))
        );
    });
}

#[test]
fn a_cut_ends_the_connection_without_a_close_and_refused_connections_get_503() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    runtime().block_on(async {
        let mut ws = listening(&fake).await;
        fake.drop_stream_connections();
        let end = tokio::time::timeout(WAIT, ws.next()).await.expect("ends in time");
        assert!(matches!(end, None | Some(Err(_))), "no closing handshake: {end:?}");

        fake.refuse_stream_connections(true);
        let refused = tokio_tungstenite::connect_async(fake.stream_url()).await.expect_err("refused");
        assert!(matches!(&refused, tokio_tungstenite::tungstenite::Error::Http(r) if r.status() == 503), "{refused:?}");
        fake.refuse_stream_connections(false);
        let mut again = listening(&fake).await;
        rest(&fake, "POST", "/v2/orders", Some(&limit_buy("after", 1)));
        assert_eq!(event(&mut again).await["order"]["client_order_id"], "after");
    });
    assert_eq!(fake.stream_connections(), 2, "the refused one was never upgraded");
}

#[test]
fn events_before_listening_are_not_sent_and_a_stream_not_asked_for_is_not_taken() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    runtime().block_on(async {
        let mut ws = connect(&fake).await;
        say(&mut ws, &authenticate(KEY, SECRET)).await;
        assert_eq!(frame(&mut ws).await, Some(fixture("stream_authorized.json")));
        rest(&fake, "POST", "/v2/orders", Some(&limit_buy("early", 1)));
        say(&mut ws, &json!({"action": "listen", "data": {"streams": ["account_updates"]}})).await;
        assert_eq!(frame(&mut ws).await, Some(json!({"stream": "listening", "data": {"streams": []}})));
        say(&mut ws, &json!("not an action")).await;
        ws.send(Message::binary(b"\xff\xfe".to_vec())).await.expect("send");
        say(&mut ws, &fixture("stream_listen.json")).await;
        assert_eq!(frame(&mut ws).await, Some(fixture("stream_listening.json")), "bad messages are ignored");
        rest(&fake, "POST", "/v2/orders", Some(&limit_buy("late", 1)));
        assert_eq!(event(&mut ws).await["order"]["client_order_id"], "late", "the first event is the later order's");
    });
}
