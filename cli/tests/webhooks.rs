//! Webhooks into a running `strat serve`, through real HTTP with real signatures: a valid call
//! runs its agent exactly once; every forgery is refused with its status and runs nothing.
#![allow(clippy::disallowed_methods)] // the tests read the files the service writes

mod common;
use common::served::{Served, home};
use serde_json::Value;
use strat_service::signature::{Secret, sign};

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";
const OTHER: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";

#[allow(clippy::disallowed_methods)]
fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

/// The service of the alert follower, its secret in the environment, stepping a day every 50 ms.
fn alerts(tag: &str) -> Served {
    let home = home(tag);
    std::fs::create_dir_all(&home).expect("home");
    std::fs::write(home.join("secrets"), format!("ALERT_SECRET={SECRET}\n")).expect("secrets");
    common::served::serve(&home, &["examples/alert_follower.strat", "--speed", "20", "--days", "3000"])
}

/// A call signed with `secret` for `id`, `age` seconds ago, of `signed` (sent: `sent`).
fn call(s: &Served, secret: &str, id: &str, age: i64, signed: &[u8], sent: Vec<u8>) -> (u16, Value) {
    let ts = now() - age;
    let sig = sign(&Secret::parse(secret).expect("secret"), id, ts, signed);
    let r = s
        .client()
        .post(s.url("/api/v1/webhooks/alerts"))
        .header("webhook-id", id)
        .header("webhook-timestamp", ts.to_string())
        .header("webhook-signature", sig)
        .body(sent);
    s.send(r)
}

/// The status a `POST` of `len` bytes gets, sent by hand: the server may answer and close
/// before the body is all written, which is the point.
fn raw_post(address: &str, path: &str, len: usize) -> u16 {
    use std::io::{Read, Write};
    let mut c = std::net::TcpStream::connect(address).expect("connect");
    let head = format!("POST {path} HTTP/1.1\r\nhost: {address}\r\ncontent-length: {len}\r\nwebhook-id: big\r\n\r\n");
    c.write_all(head.as_bytes()).expect("head");
    let chunk = vec![b' '; 64 * 1024];
    for _ in 0..len / chunk.len() {
        if c.write_all(&chunk).is_err() {
            break;
        }
    }
    let mut answer = Vec::new();
    let _ = c.read_to_end(&mut answer);
    let text = String::from_utf8_lossy(&answer);
    text.split_whitespace().nth(1).and_then(|s| s.parse().ok()).unwrap_or(0)
}

fn webhook_executions(s: &Served) -> Vec<Value> {
    let (_, all) = s.get("/api/v1/executions?agent=AlertFollower&limit=1000");
    all["executions"].as_array().cloned().unwrap_or_default()
}

#[test]
fn a_signed_call_runs_its_agent_once_and_every_forgery_is_refused_with_nothing_run() {
    let s = alerts("forgery");
    let body = br#"{"symbol":"AAPL","signal":"buy"}"#.to_vec();
    let spaced = br#"{ "symbol": "AAPL", "signal": "buy" }"#.to_vec();
    let cases: Vec<(&str, (u16, Value), u16, &str)> = vec![
        ("another secret", call(&s, OTHER, "m1", 0, &body, body.clone()), 401, "bad_signature"),
        ("re-serialised", call(&s, SECRET, "m2", 0, &body, spaced.clone()), 401, "bad_signature"),
        ("six minutes old", call(&s, SECRET, "m3", 360, &body, body.clone()), 401, "too_old"),
        ("ten minutes ahead", call(&s, SECRET, "m4", -600, &body, body.clone()), 401, "in_the_future"),
        ("a dot in the id", call(&s, SECRET, "m.5", 0, &body, body.clone()), 400, "bad_id"),
        (
            "a signal it does not declare",
            call(
                &s,
                SECRET,
                "m6",
                0,
                br#"{"symbol":"AAPL","signal":"short"}"#,
                br#"{"symbol":"AAPL","signal":"short"}"#.to_vec(),
            ),
            422,
            "bad_payload",
        ),
        (
            "a field it does not declare",
            {
                let b = br#"{"symbol":"AAPL","signal":"buy","liquidate_all":true}"#;
                call(&s, SECRET, "m7", 0, b, b.to_vec())
            },
            422,
            "bad_payload",
        ),
        ("not JSON", call(&s, SECRET, "m8", 0, b"buy AAPL", b"buy AAPL".to_vec()), 422, "bad_payload"),
    ];
    for (what, (status, body), want, code) in &cases {
        assert_eq!((*status, body["error"]["code"].as_str()), (*want, Some(*code)), "{what}: {body}");
    }
    let (status, _) = s.send(s.client().post(s.url("/api/v1/webhooks/alerts")).body(body.clone()));
    assert_eq!(status, 400, "no signature headers at all");
    assert_eq!(
        raw_post(&s.address, "/api/v1/webhooks/alerts", 10 << 20),
        413,
        "a 10 MB body is refused before it is read"
    );
    assert_eq!(call(&s, SECRET, "m9", 0, &body, body.clone()).0, 202, "the real call is accepted");
    let (status, again) = call(&s, SECRET, "m9", 0, &body, body.clone());
    assert_eq!((status, again["error"]["code"].as_str()), (409, Some("replayed")), "{again}");
    let (status, elsewhere) = s.send(s.client().post(s.url("/api/v1/webhooks/nowhere")).body(body.clone()));
    assert_eq!(status, 404, "{elsewhere}");

    let (_, firing) = s.get("/api/v1/firings/1");
    let firing =
        if firing["state"] == "done" { firing } else { s.wait_for("/api/v1/firings/1", |f| f["state"] == "done") };
    let ran = webhook_executions(&s);
    assert_eq!(ran.len(), 1, "exactly one execution, the accepted call's: {ran:?}");
    assert_eq!(ran[0]["trigger"]["firing"], 1);
    assert_eq!(firing["execution"], ran[0]["id"]);
    let whole = &firing["record"];
    assert_eq!(whole["context"]["trigger"]["payload"]["signal"], "buy", "the payload reached the agent typed");
    assert!(s.get("/api/v1/firings/2").0 == 404, "nothing else was queued");
}

#[test]
fn a_call_is_refused_while_halted_and_a_paused_agent_takes_none() {
    let s = alerts("halted");
    let body = br#"{"symbol":"MSFT","signal":"sell"}"#.to_vec();
    let (status, _) = s.post("/api/v1/halt", br#"{"reason":"drill"}"#.to_vec());
    assert_eq!(status, 200);
    let (status, refused) = call(&s, SECRET, "h1", 0, &body, body.clone());
    assert_eq!((status, refused["error"]["code"].as_str()), (409, Some("not_active")), "{refused}");
    assert_eq!(s.post("/api/v1/resume", Vec::new()).0, 200);
    assert_eq!(s.post("/api/v1/agents/AlertFollower/pause", Vec::new()).0, 200);
    assert_eq!(call(&s, SECRET, "h2", 0, &body, body.clone()).0, 409);
    assert_eq!(s.post("/api/v1/agents/AlertFollower/activate", Vec::new()).0, 200);
    assert_eq!(call(&s, SECRET, "h3", 0, &body, body.clone()).0, 202);
    s.wait_for("/api/v1/firings/1", |f| f["state"] == "done");
    assert_eq!(webhook_executions(&s).len(), 1);
    let (_, audit) = s.get("/api/v1/audit");
    let what: Vec<&str> = audit["audit"].as_array().expect("audit").iter().filter_map(|e| e["what"].as_str()).collect();
    assert_eq!(what, ["halt", "resume", "paused AlertFollower", "active AlertFollower"]);
    assert_eq!(audit["audit"][0]["why"], "drill");
    assert_eq!(audit["audit"][0]["who"], "api (bearer token)");
}

#[test]
fn a_webhook_whose_secret_is_not_set_refuses_every_call() {
    let home = home("unset");
    let s = common::served::serve(&home, &["examples/alert_follower.strat", "--speed", "20", "--days", "3000"]);
    let body = br#"{"symbol":"AAPL","signal":"buy"}"#.to_vec();
    let (status, v) = call(&s, SECRET, "u1", 0, &body, body.clone());
    assert_eq!((status, v["error"]["code"].as_str()), (503, Some("secret_unset")), "{v}");
    let (_, err) = {
        drop(s);
        (0, std::fs::read_to_string(home.with_extension("stderr")).unwrap_or_default())
    };
    assert!(err.contains("webhook secret ALERT_SECRET of AlertFollower is not set"), "said at start: {err}");
}

#[test]
fn a_call_acknowledged_just_before_a_kill_runs_exactly_once_after_the_restart() {
    let s = alerts("kill");
    let body = br#"{"symbol":"AAPL","signal":"buy"}"#.to_vec();
    assert_eq!(call(&s, SECRET, "k1", 0, &body, body.clone()).0, 202);
    let home = s.home.clone();
    drop(s); // SIGKILL at once: the firing may or may not have run before it
    let s = common::served::serve(&home, &["examples/alert_follower.strat", "--speed", "20", "--days", "3000"]);
    let (_, runs) = s.get("/api/v1/runs");
    assert_eq!(runs["runs"].as_array().map(Vec::len), Some(1), "the crashed run was resumed: {runs}");
    s.wait_for("/api/v1/firings/1", |f| f["state"] == "done");
    let at = s.get("/api/v1/runs/1").1["steps"].as_u64().unwrap_or(0);
    s.wait_for("/api/v1/runs/1", |r| r["steps"].as_u64() > Some(at + 5));
    let ran = webhook_executions(&s);
    assert_eq!(ran.len(), 1, "once, not twice and not never: {ran:?}");
    assert_eq!(ran[0]["trigger"]["firing"], 1);
    let (status, again) = call(&s, SECRET, "k1", 0, &body, body.clone());
    assert_eq!(
        (status, again["error"]["code"].as_str()),
        (409, Some("replayed")),
        "the id is remembered across the restart"
    );
}

#[test]
fn a_webhook_trigger_tested_by_hand_takes_its_payload_checked() {
    let s = alerts("trigger-test");
    let (status, record) = s.post(
        "/api/v1/triggers/AlertFollower.0/test",
        br#"{"payload": {"symbol": "MSFT", "signal": "sell"}}"#.to_vec(),
    );
    assert_eq!(status, 200, "{record}");
    assert_eq!(record["record"]["trigger"]["kind"], "webhook");
    assert_eq!(record["record"]["context"]["trigger"]["payload"]["signal"], "sell");
    let (status, bad) = s.post(
        "/api/v1/triggers/AlertFollower.0/test",
        br#"{"payload": {"symbol": "MSFT", "signal": "maybe"}}"#.to_vec(),
    );
    assert_eq!((status, bad["error"]["code"].as_str()), (422, Some("bad_payload")), "{bad}");
}
