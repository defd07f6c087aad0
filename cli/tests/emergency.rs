//! `strat cancel-all` and `strat liquidate` against a running service on the paper broker,
//! and with no service at all.
#![allow(clippy::disallowed_methods)] // the tests read the files the service writes

mod common;
use common::served::{Served, home, serve};
use serde_json::Value;

const FILE: &[&str] = &["cli/tests/service/emergency.strat", "--speed", "20", "--days", "3000"];

fn strat(s: &Served, args: &[&str]) -> (i32, Value, String) {
    let out = common::strat().env("STRAT_HOME", &s.home).args(args).output().expect("runs");
    let v = serde_json::from_slice(&out.stdout).unwrap_or(Value::Null);
    (out.status.code().unwrap_or(-1), v, String::from_utf8_lossy(&out.stderr).into())
}

fn pending(s: &Served) -> Vec<u64> {
    let (_, o) = s.get("/api/v1/orders?status=pending");
    o["orders"].as_array().into_iter().flatten().filter_map(|o| o["id"].as_u64()).collect()
}

#[test]
fn cancel_all_cancels_every_open_order_and_reports_each() {
    let s = serve(&home("cancel"), FILE);
    s.wait_for("/api/v1/orders?status=pending", |o| o["orders"].as_array().is_some_and(|a| a.len() >= 4));
    let before = pending(&s);
    let (code, v, err) = strat(&s, &["cancel-all", "--reason", "drill", "--format", "json"]);
    assert_eq!(code, 0, "{err} {v}");
    let answered: Vec<u64> = v["orders"].as_array().into_iter().flatten().filter_map(|o| o["order"].as_u64()).collect();
    assert!(before.iter().all(|id| answered.contains(id)), "every order open before: {before:?} in {answered:?}");
    assert!(v["orders"].as_array().into_iter().flatten().all(|o| o["status"] == "cancelled"), "{v}");
    let (_, audit) = s.get("/api/v1/audit");
    let last = audit["audit"].as_array().and_then(|a| a.last()).cloned().unwrap_or_default();
    assert_eq!((last["what"].as_str(), last["why"].as_str()), (Some("cancel-all"), Some("drill")), "{last}");
    assert!(last["result"].as_str().is_some_and(|r| r.contains("cancelled")), "{last}");
    let (_, agents) = s.get("/api/v1/agents");
    assert!(agents["halted"].is_null(), "cancel-all alone halts nothing");
}

#[test]
fn liquidate_needs_yes_then_halts_and_sells_every_position_at_market() {
    let s = serve(&home("liquidate"), FILE);
    s.wait_for("/api/v1/positions", |p| p["positions"][0]["qty"] == 10);
    let (code, _, err) = strat(&s, &["liquidate"]);
    assert_eq!(code, 2);
    assert!(err.contains("add --yes"), "{err}");
    let (code, v, err) = strat(&s, &["liquidate", "--yes", "--format", "json"]);
    assert_eq!(code, 0, "{err} {v}");
    let sells: Vec<&Value> = v["orders"].as_array().into_iter().flatten().filter(|o| o["side"] == "sell").collect();
    assert_eq!(sells.len(), 1, "{v}");
    assert_eq!(
        (sells[0]["qty"].as_u64(), sells[0]["by"].as_str(), sells[0]["status"].as_str()),
        (Some(10), Some("operator"), Some("filled"))
    );
    let (_, agents) = s.get("/api/v1/agents");
    assert_eq!(agents["halted"], "liquidated by the operator");
    let at = s.get("/api/v1/runs/1").1["steps"].as_u64().unwrap_or(0);
    s.wait_for("/api/v1/runs/1", |r| r["steps"].as_u64() > Some(at + 5));
    let (_, held) = s.get("/api/v1/positions");
    assert_eq!(held["positions"], serde_json::json!([]), "flat, and halted so nothing buys again");
    let (_, ex) = s.get("/api/v1/executions?agent=operator");
    assert_eq!(ex["executions"][0]["trigger"]["kind"], "liquidate", "the operator's execution is on the record");
}

#[test]
fn with_no_service_the_paper_broker_has_nothing_open_to_cancel() {
    let home = home("nothing");
    let out = common::strat().env("STRAT_HOME", &home).args(["cancel-all"]).output().expect("runs");
    assert_eq!(out.status.code(), Some(0));
    assert!(String::from_utf8_lossy(&out.stdout).contains("nothing is open"));
}

mod at_alpaca {
    use strat_engine::broker::{Kind, Order, Side, Status, Tif};
    use strat_engine::host::Broker;
    use strat_fakes::alpaca::FakeAlpaca;

    fn order(id: u64, sym: usize, side: Side, qty: u64, kind: Kind) -> Order {
        Order {
            id,
            time: chrono::NaiveDate::from_ymd_opt(2024, 6, 3).and_then(|d| d.and_hms_opt(10, 0, 0)).unwrap_or_default(),
            symbol: ["AAPL", "MSFT"][sym].into(),
            sym,
            side,
            qty,
            kind,
            tif: Tif::Day,
            status: Status::Pending,
            fill_time: None,
            price: None,
            commission: 0.0,
            reason: None,
            by: "Agent".into(),
            parent: None,
            stop_loss: None,
            take_profit: None,
        }
    }

    /// The venue, with the run's broker that placed orders there.
    fn venue() -> (FakeAlpaca, strat_brokers::AlpacaBroker) {
        let venue = FakeAlpaca::start("PKEMERGENCY", "secret-e");
        let env = |k: &str| match k {
            "APCA_API_KEY_ID" => Some("PKEMERGENCY".to_string()),
            "APCA_API_SECRET_KEY" => Some("secret-e".to_string()),
            "APCA_API_BASE_URL" => Some(venue.url()),
            _ => None,
        };
        let config = strat_brokers::AlpacaConfig::from_env(env, false).expect("config");
        let broker = strat_brokers::AlpacaBroker::new(config, "e1", &["AAPL".into(), "MSFT".into()]).expect("connects");
        (venue, broker)
    }

    fn strat(venue: &FakeAlpaca, tag: &str, args: &[&str]) -> (i32, serde_json::Value) {
        let out = super::common::strat()
            .env("STRAT_HOME", super::home(tag))
            .env("APCA_API_KEY_ID", "PKEMERGENCY")
            .env("APCA_API_SECRET_KEY", "secret-e")
            .env("APCA_API_BASE_URL", venue.url())
            .args(args)
            .output()
            .expect("runs");
        (out.status.code().unwrap_or(-1), serde_json::from_slice(&out.stdout).unwrap_or_default())
    }

    #[test]
    fn with_no_service_cancel_all_goes_to_alpaca_and_reports_a_failed_item() {
        let (venue, mut b) = venue();
        b.submit(&order(1, 0, Side::Buy, 1, Kind::Limit { limit: 150.0 }));
        b.submit(&order(2, 0, Side::Buy, 1, Kind::Limit { limit: 150.0 }));
        venue.fail_cancel_of("strat-e1-2");
        let (code, v) = strat(&venue, "alpaca-cancel", &["cancel-all", "--broker", "alpaca", "--format", "json"]);
        assert_eq!(code, 1, "an item failed: {v}");
        let states: Vec<&str> =
            v["orders"].as_array().into_iter().flatten().filter_map(|o| o["status"].as_str()).collect();
        assert_eq!(states, ["done", "failed"], "{v}");
        assert!(v["orders"][1]["reason"].as_str().is_some_and(|r| r.contains("order not found")), "{v}");
    }

    #[test]
    fn with_no_service_liquidate_closes_each_position_at_alpaca_and_reports_a_refused_one() {
        let (venue, mut b) = venue();
        venue.set_fill_market_orders_at(Some(20.0));
        b.submit(&order(1, 0, Side::Buy, 5, Kind::Market));
        b.submit(&order(2, 1, Side::Buy, 3, Kind::Market));
        let mut seen = Vec::new();
        for _ in 0..200 {
            b.updates(&mut seen);
            if seen.len() >= 2 {
                break;
            }
            std::thread::sleep(std::time::Duration::from_millis(5));
        }
        venue.fail_close_of("MSFT");
        let (code, v) =
            strat(&venue, "alpaca-liquidate", &["liquidate", "--yes", "--broker", "alpaca", "--format", "json"]);
        assert_eq!(code, 1, "{v}");
        let items: Vec<(&str, &str)> = v["orders"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|o| Some((o["symbol"].as_str()?, o["status"].as_str()?)))
            .collect();
        assert_eq!(items, [("AAPL", "done"), ("MSFT", "failed")], "{v}");
    }
}

#[test]
fn cancel_all_through_a_service_on_alpaca_cancels_the_runs_orders_at_the_venue() {
    let venue = strat_fakes::alpaca::FakeAlpaca::start("PKSERVE", "secret-s");
    let home = home("served-alpaca");
    std::fs::create_dir_all(&home).expect("home");
    std::fs::write(
        home.join("secrets"),
        format!("APCA_API_KEY_ID=PKSERVE\nAPCA_API_SECRET_KEY=secret-s\nAPCA_API_BASE_URL={}\n", venue.url()),
    )
    .expect("secrets");
    let mut args = FILE.to_vec();
    args.extend(["--broker", "alpaca"]);
    let s = serve(&home, &args);
    let begun = std::time::Instant::now();
    while venue.orders().iter().filter(|o| o["status"] == "new" || o["status"] == "accepted").count() < 3 {
        assert!(begun.elapsed() < std::time::Duration::from_secs(30), "bids rest at the venue: {:?}", venue.orders());
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let (code, v, err) = strat(&s, &["cancel-all", "--format", "json"]);
    assert_eq!(code, 0, "{err} {v}");
    let answered: Vec<u64> = v["orders"].as_array().into_iter().flatten().filter_map(|o| o["order"].as_u64()).collect();
    assert!(answered.len() >= 3, "{v}");
    assert!(v["orders"].as_array().into_iter().flatten().all(|o| o["status"] == "cancelled"), "{v}");
    for id in &answered {
        let at_venue = venue
            .orders()
            .into_iter()
            .find(|o| o["client_order_id"].as_str().is_some_and(|c| c.ends_with(&format!("-{id}"))));
        assert_eq!(
            at_venue.map(|o| o["status"].clone()),
            Some(serde_json::json!("canceled")),
            "order {id} at the venue"
        );
    }
}
