//! The Alpaca fake over real HTTP/1.1, spoken by hand on a TCP stream.
#![allow(clippy::disallowed_methods)] // tests wait on the wall clock

use serde_json::{Value, json};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;
use strat_fakes::alpaca::{FakeAlpaca, SubmitFault};

const KEY: &str = "PKTEST";
const SECRET: &str = "secret-test";

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or(Value::Null)
    }

    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }
}

/// What the client saw of one request.
enum Seen {
    Reply(Reply),
    /// The connection closed before any byte of a response.
    Dropped,
    /// Nothing arrived within the wait.
    NoAnswer,
}

fn exchange(fake: &FakeAlpaca, keys: (&str, &str), method: &str, target: &str, body: &[u8], wait: Duration) -> Seen {
    let addr = fake.url().trim_start_matches("http://").to_string();
    let mut s = TcpStream::connect(&addr).expect("connect to the fake");
    s.set_read_timeout(Some(wait)).expect("read timeout");
    let head = format!(
        "{method} {target} HTTP/1.1\r\nhost: {addr}\r\nconnection: close\r\nAPCA-API-KEY-ID: {}\r\n\
         APCA-API-SECRET-KEY: {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        keys.0,
        keys.1,
        body.len()
    );
    s.write_all(head.as_bytes()).expect("write the head");
    s.write_all(body).expect("write the body");
    let mut raw = Vec::new();
    match s.read_to_end(&mut raw) {
        Ok(_) if raw.is_empty() => Seen::Dropped,
        Ok(_) => Seen::Reply(parse(&raw)),
        Err(e) if e.kind() == std::io::ErrorKind::ConnectionReset && raw.is_empty() => Seen::Dropped,
        Err(e) if matches!(e.kind(), std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut) => {
            if raw.is_empty() { Seen::NoAnswer } else { Seen::Reply(parse(&raw)) }
        }
        Err(e) => panic!("read: {e}"),
    }
}

fn parse(raw: &[u8]) -> Reply {
    let text = String::from_utf8_lossy(raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("a response head");
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|s| s.parse().ok()).expect("a status line");
    let headers = lines.filter_map(|l| l.split_once(':')).map(|(n, v)| (n.trim().into(), v.trim().into())).collect();
    Reply { status, headers, body: body.to_string() }
}

fn send(fake: &FakeAlpaca, method: &str, target: &str, body: Option<&Value>) -> Reply {
    let bytes = body.map(|b| b.to_string().into_bytes()).unwrap_or_default();
    match exchange(fake, (KEY, SECRET), method, target, &bytes, Duration::from_secs(5)) {
        Seen::Reply(r) => r,
        Seen::Dropped => panic!("{method} {target}: dropped"),
        Seen::NoAnswer => panic!("{method} {target}: no answer"),
    }
}

fn get(fake: &FakeAlpaca, target: &str) -> Reply {
    send(fake, "GET", target, None)
}

fn order(client_id: &str, qty: &str, kind: &str) -> Value {
    let mut o = json!({"symbol": "AAPL", "qty": qty, "side": "buy", "type": kind, "time_in_force": "day",
                       "client_order_id": client_id});
    if kind == "limit" {
        o["limit_price"] = "150.00".into();
    }
    o
}

fn post(fake: &FakeAlpaca, body: &Value) -> Reply {
    send(fake, "POST", "/v2/orders", Some(body))
}

fn text(v: &Value) -> &str {
    v.as_str().expect("a string")
}

fn keys(v: &Value) -> Vec<String> {
    v.as_object().expect("an object").keys().cloned().collect()
}

fn items(v: &Value) -> Vec<Value> {
    v.as_array().expect("an array").clone()
}

fn fixture(name: &str) -> Value {
    strat_fakes::wire_json(&format!("alpaca/{name}"))
}

#[test]
fn an_order_is_accepted_echoed_and_found_by_its_client_id() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    let r = post(&fake, &order("strat-1", "2", "limit"));
    assert_eq!(r.status, 200, "{}", r.body);
    let o = r.json();
    assert_eq!(o["client_order_id"], "strat-1");
    assert_eq!(o["status"], "accepted");
    assert_eq!(
        (o["qty"].as_str(), o["filled_qty"].as_str(), o["limit_price"].as_str()),
        (Some("2"), Some("0"), Some("150"))
    );
    assert_eq!(text(&o["id"]).len(), 36);
    let created = text(&o["created_at"]);
    assert!(created.ends_with('Z') && created.split('.').nth(1).map_or(0, str::len) == 10, "{created}");
    let shape = fixture("response_order.json");
    assert_eq!(keys(&o), keys(&shape));

    let found = get(&fake, "/v2/orders:by_client_order_id?client_order_id=strat-1");
    assert_eq!(found.status, 200);
    assert_eq!(found.json()["id"], o["id"]);
    let by_id = get(&fake, &format!("/v2/orders/{}", text(&o["id"])));
    assert_eq!(by_id.json()["client_order_id"], "strat-1");
    let missing = get(&fake, "/v2/orders:by_client_order_id?client_order_id=nope");
    assert_eq!((missing.status, missing.json()), (404, fixture("error_404_order.json")));
    assert_eq!(get(&fake, "/v2/orders/not-an-id").status, 404);
}

#[test]
fn an_order_without_a_client_id_gets_one() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    let mut body = order("", "1", "market");
    body.as_object_mut().expect("an object").remove("client_order_id");
    let o = post(&fake, &body).json();
    assert_eq!(text(&o["client_order_id"]).len(), 36);
    assert_ne!(o["client_order_id"], o["id"]);
}

#[test]
fn a_duplicate_client_id_is_422_and_the_venue_holds_one_order() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    assert_eq!(post(&fake, &order("dup", "1", "market")).status, 200);
    let again = post(&fake, &order("dup", "1", "market"));
    assert_eq!((again.status, again.json()), (422, fixture("error_422_duplicate_client_order_id.json")));
    assert_eq!((fake.orders().len(), fake.posts()), (1, 2));
}

#[test]
fn a_client_id_stays_taken_after_a_cancel_and_a_fill() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    let id = text(&post(&fake, &order("c1", "1", "limit")).json()["id"]).to_string();
    assert_eq!(send(&fake, "DELETE", &format!("/v2/orders/{id}"), None).status, 204);
    assert_eq!(post(&fake, &order("c1", "1", "limit")).status, 422);
    post(&fake, &order("f1", "1", "market"));
    assert!(fake.fill("f1", 1, 100.0));
    assert_eq!(post(&fake, &order("f1", "1", "market")).status, 422);
    assert_eq!(fake.orders().len(), 2);
}

#[test]
fn a_drop_after_accept_holds_the_order_but_the_client_sees_a_broken_connection() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    fake.fault_next_submits([SubmitFault::DropAfterAccept]);
    let body = order("b1", "1", "market").to_string();
    let seen = exchange(&fake, (KEY, SECRET), "POST", "/v2/orders", body.as_bytes(), Duration::from_secs(5));
    assert!(matches!(seen, Seen::Dropped));
    assert_eq!(fake.orders().len(), 1);
    assert_eq!(get(&fake, "/v2/orders:by_client_order_id?client_order_id=b1").json()["status"], "accepted");
}

#[test]
fn a_504_after_accept_holds_the_order() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    fake.fault_next_submits([SubmitFault::StatusAfterAccept(504), SubmitFault::StatusAfterAccept(500)]);
    let r = post(&fake, &order("b2", "1", "market"));
    assert_eq!(r.status, 504);
    assert!(r.header("content-type").is_some_and(|c| c.starts_with("text/html")));
    assert_eq!(post(&fake, &order("b2b", "1", "market")).status, 500);
    assert_eq!(fake.orders().len(), 2);
    assert_eq!(post(&fake, &order("b2c", "1", "market")).status, 200, "faults are used up");
}

#[test]
fn a_timeout_after_accept_holds_the_order_and_never_answers() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    fake.fault_next_submits([SubmitFault::TimeoutAfterAccept]);
    let body = order("t1", "1", "market").to_string();
    let seen = exchange(&fake, (KEY, SECRET), "POST", "/v2/orders", body.as_bytes(), Duration::from_millis(300));
    assert!(matches!(seen, Seen::NoAnswer));
    assert_eq!(fake.orders().len(), 1);
}

#[test]
fn a_late_arrival_is_held_after_its_delay() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    fake.fault_next_submits([SubmitFault::ArriveLate(Duration::from_millis(800))]);
    let body = order("late", "1", "market").to_string();
    let seen = exchange(&fake, (KEY, SECRET), "POST", "/v2/orders", body.as_bytes(), Duration::from_millis(100));
    assert!(matches!(seen, Seen::NoAnswer));
    assert!(fake.orders().is_empty());
    assert_eq!(get(&fake, "/v2/orders:by_client_order_id?client_order_id=late").status, 404);
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while fake.orders().is_empty() && std::time::Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    assert_eq!(fake.orders().len(), 1);
    assert_eq!(fake.orders()[0]["client_order_id"], "late");
}

#[test]
fn a_late_arrival_is_dropped_when_its_client_id_exists_by_then() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    fake.fault_next_submits([SubmitFault::ArriveLate(Duration::from_millis(300))]);
    let body = order("b3", "1", "market").to_string();
    let _ = exchange(&fake, (KEY, SECRET), "POST", "/v2/orders", body.as_bytes(), Duration::from_millis(50));
    assert_eq!(post(&fake, &order("b3", "1", "market")).status, 200, "the retry with the same id");
    std::thread::sleep(Duration::from_millis(1000));
    assert_eq!((fake.orders().len(), fake.posts()), (1, 2));
    assert_eq!(fake.post_client_ids(), [Some("b3".to_string()), Some("b3".to_string())]);
}

#[test]
fn a_rate_limit_or_buying_power_refusal_holds_nothing() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    fake.fault_next_submits([SubmitFault::RateLimited, SubmitFault::InsufficientBuyingPower]);
    let r = post(&fake, &order("r1", "1", "market"));
    assert_eq!((r.status, r.json()), (429, fixture("error_429.json")));
    let r = post(&fake, &order("r2", "1", "market"));
    assert_eq!((r.status, r.json()), (403, fixture("error_403_buying_power.json")));
    assert!(fake.orders().is_empty());
    assert_eq!(fake.posts(), 2);
}

#[test]
fn a_buy_costing_more_than_the_buying_power_is_403() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    fake.set_cash(1000.0);
    let r = post(&fake, &order("big", "7", "limit"));
    assert_eq!(r.status, 403);
    assert_eq!((r.json()["buying_power"].as_str(), r.json()["cost_basis"].as_str()), (Some("1000"), Some("1050")));
    assert_eq!(post(&fake, &order("ok", "6", "limit")).status, 200);
    assert_eq!(post(&fake, &order("held", "1", "limit")).status, 403, "the open buy holds 900");
    let mut sell = order("sell", "50", "market");
    sell["side"] = "sell".into();
    assert_eq!(post(&fake, &sell).status, 200, "sells are not costed");
}

#[test]
fn a_partial_then_full_fill_moves_the_order_cash_and_position() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    post(&fake, &order("p1", "5", "limit"));
    assert!(fake.fill("p1", 3, 150.0));
    let o = get(&fake, "/v2/orders:by_client_order_id?client_order_id=p1").json();
    assert_eq!((o["status"].as_str(), o["filled_qty"].as_str()), (Some("partially_filled"), Some("3")));
    assert!(o["filled_at"].is_null());
    assert!(!fake.fill("p1", 3, 150.0), "more than remains");
    assert!(fake.fill("p1", 2, 145.0));
    let o = &fake.orders()[0];
    assert_eq!((o["status"].as_str(), o["filled_qty"].as_str()), (Some("filled"), Some("5")));
    assert_eq!(o["filled_avg_price"], "148");
    assert!(o["filled_at"].is_string());
    assert!(!fake.fill("p1", 1, 150.0), "closed");
    let a = get(&fake, "/v2/account").json();
    assert_eq!((a["cash"].as_str(), a["equity"].as_str()), (Some("99260"), Some("99985")));
    let p = get(&fake, "/v2/positions").json();
    assert_eq!(p[0]["qty"], "5");
    assert_eq!(p[0]["avg_entry_price"], "148");
    assert_eq!(p[0]["market_value"], "725");
    assert_eq!(p[0]["side"], "long");
}

#[test]
fn selling_more_than_is_held_goes_short() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    fake.set_fill_market_orders_at(Some(10.0));
    let o = post(&fake, &order("long", "2", "market")).json();
    assert_eq!((o["status"].as_str(), o["filled_avg_price"].as_str()), (Some("filled"), Some("10")));
    let mut sell = order("short", "5", "market");
    sell["side"] = "sell".into();
    post(&fake, &sell);
    let p = get(&fake, "/v2/positions/AAPL").json();
    assert_eq!(
        (p["qty"].as_str(), p["side"].as_str(), p["market_value"].as_str()),
        (Some("-3"), Some("short"), Some("-30"))
    );
    assert_eq!(get(&fake, "/v2/account").json()["cash"], "100030");
    assert_eq!(get(&fake, "/v2/positions/TSLA").status, 404);
}

#[test]
fn market_orders_wait_while_the_market_is_closed() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    fake.set_fill_market_orders_at(Some(10.0));
    fake.set_clock(false);
    assert_eq!(post(&fake, &order("m", "1", "market")).json()["status"], "accepted");
}

#[test]
fn a_rejection_after_acceptance_closes_the_order() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    post(&fake, &order("rj", "1", "limit"));
    assert!(fake.reject("rj", "risk check"));
    let o = &fake.orders()[0];
    assert_eq!((o["status"].as_str(), o["reject_reason"].as_str()), (Some("rejected"), Some("risk check")));
    assert!(o["failed_at"].is_string());
    assert!(!fake.fill("rj", 1, 1.0));
    assert!(!fake.reject("unknown", "x"));
}

#[test]
fn an_open_order_cancels_with_204_and_a_filled_one_is_422() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    let open = post(&fake, &order("open", "1", "limit")).json();
    let done = post(&fake, &order("done", "1", "limit")).json();
    fake.fill("done", 1, 150.0);
    let r = send(&fake, "DELETE", &format!("/v2/orders/{}", text(&open["id"])), None);
    assert_eq!((r.status, r.body.as_str()), (204, ""));
    let o = &fake.orders()[0];
    assert_eq!(o["status"], "canceled");
    assert!(o["canceled_at"].is_string());
    let r = send(&fake, "DELETE", &format!("/v2/orders/{}", text(&done["id"])), None);
    assert_eq!((r.status, r.json()), (422, json!({"code": 42210000, "message": "order is not cancelable"})));
    assert_eq!(send(&fake, "DELETE", "/v2/orders/unknown", None).status, 404);
}

#[test]
fn cancel_all_answers_207_for_each_open_order() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    let a = post(&fake, &order("a", "1", "limit")).json();
    post(&fake, &order("b", "1", "limit"));
    let c = post(&fake, &order("c", "1", "limit")).json();
    fake.fill("b", 1, 150.0);
    let r = send(&fake, "DELETE", "/v2/orders", None);
    assert_eq!(r.status, 207);
    assert_eq!(r.json(), json!([{"id": a["id"], "status": 200}, {"id": c["id"], "status": 200}]));
    assert_eq!(get(&fake, "/v2/orders").json(), json!([]));
    assert_eq!(get(&fake, "/v2/orders?status=closed").json().as_array().map_or(0, Vec::len), 3);
}

#[test]
fn cancel_all_reports_an_order_it_failed_to_cancel_as_a_404_item() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    let a = post(&fake, &order("a", "1", "limit")).json();
    let b = post(&fake, &order("b", "1", "limit")).json();
    fake.fail_cancel_of("b");
    let r = send(&fake, "DELETE", "/v2/orders", None);
    assert_eq!(r.status, 207);
    let want = json!([{"id": a["id"], "status": 200}, {"id": b["id"], "status": 404, "body": fixture("error_404_order.json")}]);
    assert_eq!(r.json(), want);
    assert_eq!(items(&get(&fake, "/v2/orders").json()).len(), 1, "the failed one is still open");
}

fn in_symbol(mut o: Value, symbol: &str, side: &str) -> Value {
    o["symbol"] = symbol.into();
    o["side"] = side.into();
    o
}

#[test]
fn close_all_closes_each_position_by_a_market_order_and_reports_each_one_it_cannot() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    fake.set_fill_market_orders_at(Some(10.0));
    post(&fake, &order("aapl", "5", "market"));
    post(&fake, &in_symbol(order("msft", "3", "market"), "MSFT", "buy"));
    post(&fake, &in_symbol(order("tsla", "2", "market"), "TSLA", "buy"));
    let mut held = in_symbol(order("held", "1", "limit"), "TSLA", "sell");
    held["limit_price"] = "50.00".into();
    assert_eq!(post(&fake, &held).status, 200, "an open sell holds one TSLA share");
    fake.fail_close_of("MSFT");

    let r = send(&fake, "DELETE", "/v2/positions", None);
    assert_eq!(r.status, 207);
    let got = items(&r.json());
    let symbols: Vec<&str> = got.iter().map(|i| text(&i["symbol"])).collect();
    let statuses: Vec<u64> = got.iter().filter_map(|i| i["status"].as_u64()).collect();
    assert_eq!((symbols, statuses), (vec!["AAPL", "MSFT", "TSLA"], vec![200, 403, 403]));
    let closing = &got[0]["body"];
    assert_eq!(
        (
            closing["side"].as_str(),
            closing["qty"].as_str(),
            closing["type"].as_str(),
            closing["position_intent"].as_str()
        ),
        (Some("sell"), Some("5"), Some("market"), Some("sell_to_close"))
    );
    assert_eq!(closing["status"], "filled", "filled at the market fill price");
    let shape = &fixture("response_close_all_207.json")[1]["body"];
    assert_eq!(keys(&got[1]["body"]), keys(shape));
    assert_eq!(got[1]["body"]["message"], "insufficient qty available for order (requested: 3, available: 0)");
    let tsla = &got[2]["body"];
    assert_eq!((tsla["held_for_orders"].as_str(), tsla["available"].as_str()), (Some("1"), Some("1")));
    let held_symbols = |f: &FakeAlpaca| {
        items(&get(f, "/v2/positions").json()).iter().map(|p| text(&p["symbol"]).to_string()).collect::<Vec<_>>()
    };
    assert_eq!(held_symbols(&fake), ["MSFT", "TSLA"]);

    let r = send(&fake, "DELETE", "/v2/positions?cancel_orders=true", None);
    let statuses: Vec<(String, u64)> =
        items(&r.json()).iter().map(|i| (text(&i["symbol"]).to_string(), i["status"].as_u64().unwrap_or(0))).collect();
    assert_eq!(statuses, [("MSFT".to_string(), 403), ("TSLA".to_string(), 200)], "the sell cancelled first frees TSLA");
    assert_eq!(held_symbols(&fake), ["MSFT"]);
    assert_eq!(
        send(&fake, "DELETE", "/v2/positions", None).json(),
        json!([{"symbol": "MSFT", "status": 403, "body": got[1]["body"]}])
    );
}

#[test]
fn orders_are_listed_by_status_newest_first() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    for id in ["o1", "o2", "o3"] {
        post(&fake, &order(id, "1", "limit"));
    }
    fake.fill("o2", 1, 150.0);
    let ids = |r: Reply| items(&r.json()).iter().map(|o| o["client_order_id"].clone()).collect::<Vec<_>>();
    assert_eq!(ids(get(&fake, "/v2/orders")), [json!("o3"), json!("o1")]);
    assert_eq!(ids(get(&fake, "/v2/orders?status=all&direction=asc&limit=2")), [json!("o1"), json!("o2")]);
    assert_eq!(get(&fake, "/v2/orders?status=bogus").status, 422);
}

#[test]
fn wrong_or_missing_keys_are_401_without_a_code() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    let body = order("k", "1", "market").to_string();
    for keys in [(KEY, "wrong"), ("wrong", SECRET), ("", "")] {
        let Seen::Reply(r) = exchange(&fake, keys, "POST", "/v2/orders", body.as_bytes(), Duration::from_secs(5))
        else {
            panic!("no reply")
        };
        assert_eq!((r.status, r.json()), (401, fixture("error_401_no_code.json")));
    }
    assert!(fake.orders().is_empty());
    assert_eq!(fake.posts(), 3);
    assert_eq!(fake.post_client_ids(), [Some("k".to_string()), Some("k".to_string()), Some("k".to_string())]);
}

#[test]
fn prices_finer_than_the_tick_are_422_naming_the_price() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    let mut o = order("sp", "1", "limit");
    o["limit_price"] = "290.123".into();
    let r = post(&fake, &o);
    assert_eq!((r.status, r.json()), (422, fixture("error_422_subpenny.json")));
    o["limit_price"] = "0.12345".into();
    assert!(text(&post(&fake, &o).json()["message"]).contains("0.12345"));
    o["limit_price"] = "0.1234".into();
    assert_eq!(post(&fake, &o).status, 200);
    o["client_order_id"] = "sp2".into();
    o["limit_price"] = "290.1200".into();
    assert_eq!(post(&fake, &o).status, 200);
}

#[test]
fn a_quantity_that_is_not_a_positive_whole_number_is_422() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    for qty in [json!("0"), json!("-1"), json!("1.5"), json!("abc"), json!(true)] {
        let mut o = order("q", "1", "market");
        o["qty"] = qty;
        let r = post(&fake, &o);
        assert_eq!((r.status, r.json()), (422, fixture("error_422_qty.json")));
    }
    assert!(fake.orders().is_empty());
}

#[test]
fn malformed_bodies_are_400_and_the_server_lives_on() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    let invalid = json!({"code": 40010000, "message": "request body format is invalid"});
    for body in [&b"{not json"[..], b"[1,2]", b"", &[0xff, 0xfe, 0x00][..]] {
        let Seen::Reply(r) = exchange(&fake, (KEY, SECRET), "POST", "/v2/orders", body, Duration::from_secs(5)) else {
            panic!("no reply")
        };
        assert_eq!((r.status, r.json()), (400, invalid.clone()));
    }
    let huge = vec![b' '; 100 * 1024];
    let _ = exchange(&fake, (KEY, SECRET), "POST", "/v2/orders", &huge, Duration::from_secs(5));
    for o in [json!({}), json!({"symbol": "AAPL", "qty": "1", "side": "up", "type": "market", "time_in_force": "day"})]
    {
        assert_eq!(post(&fake, &o).status, 422);
    }
    assert_eq!(get(&fake, "/v2/nowhere").status, 404);
    assert_eq!(send(&fake, "PUT", "/v2/account", None).status, 405);
    assert_eq!(get(&fake, "/v2/clock").status, 200);
}

#[test]
fn account_positions_and_clock_have_the_venue_shapes() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    let a = get(&fake, "/v2/account");
    assert_eq!(keys(&a.json()), keys(&fixture("response_account.json")));
    assert_eq!((a.json()["cash"].as_str(), a.json()["status"].as_str()), (Some("100000"), Some("ACTIVE")));
    assert_eq!(a.header("x-ratelimit-limit"), Some("200"));
    assert!(a.header("x-ratelimit-remaining").is_some() && a.header("x-ratelimit-reset").is_some());
    assert_eq!(get(&fake, "/v2/positions").json(), json!([]));
    post(&fake, &order("pos", "1", "market"));
    fake.fill("pos", 1, 120.0);
    assert_eq!(keys(&get(&fake, "/v2/positions").json()[0]), keys(&fixture("response_positions.json")[0]));
    let clock = get(&fake, "/v2/clock").json();
    assert_eq!(keys(&clock), keys(&fixture("response_clock.json")));
    assert_eq!(clock["is_open"], true);
    assert!(text(&clock["timestamp"]).ends_with("-04:00"));
    fake.set_clock(false);
    let clock = get(&fake, "/v2/clock").json();
    assert_eq!(clock["is_open"], false);
    assert!(clock["next_open"].as_str() < clock["next_close"].as_str());
}

#[test]
fn failing_gets_answer_the_status_the_given_number_of_times() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    fake.fail_gets(429, 2);
    for _ in 0..2 {
        let r = get(&fake, "/v2/account");
        assert_eq!((r.status, r.json()), (429, fixture("error_429.json")));
    }
    assert_eq!(get(&fake, "/v2/account").status, 200);
    fake.fail_gets(500, 1);
    assert_eq!(post(&fake, &order("g", "1", "market")).status, 200, "POSTs are not GETs");
    let r = get(&fake, "/v2/orders");
    assert_eq!((r.status, r.body.as_str()), (500, "Internal Server Error"));
    assert_eq!(get(&fake, "/v2/orders").status, 200);
}

#[test]
fn every_request_is_recorded_with_its_query() {
    let fake = FakeAlpaca::start(KEY, SECRET);
    get(&fake, "/v2/clock");
    get(&fake, "/v2/orders?status=all");
    post(&fake, &order("rec", "1", "market"));
    let want = [("GET", "/v2/clock"), ("GET", "/v2/orders?status=all"), ("POST", "/v2/orders")];
    let want: Vec<(String, String)> = want.iter().map(|(m, p)| (m.to_string(), p.to_string())).collect();
    assert_eq!(fake.requests(), want);
}
