//! Notifications: `notify` lines and the operator's controls delivered to a signed webhook and
//! a Slack-compatible one (real HTTP receivers on loopback), retried, and recorded when they
//! fail, without ever stopping the run.
#![allow(clippy::disallowed_methods)] // the tests read the files the service writes

mod common;
use common::served::{home, serve};
use serde_json::Value;
use strat_fakes::{FakeServer, Reply};
use strat_service::signature::{Headers, Secret, verify};

const SECRET: &str = "whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD";

#[allow(clippy::disallowed_methods)]
fn now() -> i64 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64)
}

#[test]
fn notify_lines_reach_a_signed_webhook_and_slack_once_each() {
    let (hook, slack) = (FakeServer::receiver(), FakeServer::receiver());
    let home = home("notify-run");
    let out = common::strat()
        .env("STRAT_HOME", &home)
        .env("STRAT_NOTIFY_WEBHOOK", format!("{}/hook", hook.url()))
        .env("STRAT_NOTIFY_WEBHOOK_SECRET", SECRET)
        .env("STRAT_NOTIFY_SLACK", format!("{}/slack", slack.url()))
        .args(["run", "cli/tests/service/notifier.strat", "--speed", "0", "--days", "5"])
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stderr));
    let got = hook.received();
    assert_eq!(got.len(), 5, "one a bar");
    let secret = Secret::parse(SECRET).expect("secret");
    let mut ids = std::collections::BTreeSet::new();
    for r in &got {
        let h = Headers {
            id: r.header("webhook-id"),
            timestamp: r.header("webhook-timestamp"),
            signature: r.header("webhook-signature"),
        };
        verify(&secret, &h, &r.body, now()).expect("signed as Standard Webhooks sign");
        assert!(ids.insert(r.header("webhook-id").unwrap_or_default().to_string()), "each note its own id");
        let body = r.json();
        assert_eq!(body["source"], "Teller");
        assert!(body["message"].as_str().is_some_and(|m| m.starts_with("SPY closed at $")), "{body}");
    }
    let texts: Vec<String> =
        slack.received().iter().map(|r| r.json()["text"].as_str().unwrap_or_default().to_string()).collect();
    assert_eq!(texts.len(), 5);
    assert!(texts[0].starts_with("strat Teller: SPY closed at $"), "{texts:?}");
}

#[test]
fn a_failing_channel_is_retried_then_recorded_and_the_run_goes_on() {
    let (flaky, dead) = (FakeServer::receiver(), FakeServer::receiver());
    flaky.script([Reply::json(500, "{}"), Reply::json(503, "{}")]);
    dead.otherwise(Reply::json(500, "{}"));
    let home = home("notify-fail");
    std::fs::create_dir_all(&home).expect("home");
    let conf = format!("webhook {}/flaky\nwebhook {}/dead\nattempts 3\nbackoff 10ms\n", flaky.url(), dead.url());
    std::fs::write(home.join("notify.conf"), conf).expect("conf");
    let s = serve(&home, &["cli/tests/service/notifier.strat", "--speed", "20", "--days", "2"]);
    let v = s.wait_for("/api/v1/notifications", |v| v["notifications"].as_array().is_some_and(|a| a.len() >= 4));
    let all = v["notifications"].as_array().cloned().unwrap_or_default();
    let of = |host: &str| -> Vec<Value> {
        all.iter().filter(|d| d["channel"].as_str().is_some_and(|c| c.contains(host))).cloned().collect()
    };
    let flaky_host = flaky.url().replace("http://", "");
    let first = &of(&flaky_host)[0];
    assert_eq!((first["delivered"].as_bool(), first["attempts"].as_u64()), (Some(true), Some(3)), "{first}");
    let dead_host = dead.url().replace("http://", "");
    let failed = &of(&dead_host)[0];
    assert_eq!((failed["delivered"].as_bool(), failed["attempts"].as_u64()), (Some(false), Some(3)), "{failed}");
    assert_eq!(failed["result"], "refused 500");
    assert!(!failed["channel"].as_str().unwrap_or_default().contains("/dead"), "the address's path is not recorded");
    let (code, _, err) = s.terminate();
    assert_eq!(code, Some(0), "the run finished all the same: {err}");
    assert!(err.contains("failed after 3 attempt(s)"), "said: {err}");
}

#[test]
fn the_operators_controls_are_notified() {
    let hook = FakeServer::receiver();
    let home = home("notify-operator");
    std::fs::create_dir_all(&home).expect("home");
    std::fs::write(home.join("notify.conf"), format!("webhook {}/ops\n", hook.url())).expect("conf");
    let s = serve(&home, &["examples/sma_crossover.strat", "--speed", "20", "--days", "3000"]);
    assert_eq!(s.post("/api/v1/halt", br#"{"reason":"drill"}"#.to_vec()).0, 200);
    let begun = std::time::Instant::now();
    while hook.received().is_empty() && begun.elapsed() < std::time::Duration::from_secs(20) {
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let got = hook.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].json()["source"], "operator");
    assert_eq!(got[0].json()["message"], "halt: halted: drill");
}
