//! The Polygon REST client against the fake Polygon server on loopback: what is sent, paging,
//! back-off, typed refusals, bad bars, keys that never come out, the history cache, and the
//! market's status.
#![allow(clippy::disallowed_methods)] // the cache test clears its folder

use chrono::NaiveDate;
use std::time::Duration;
use strat_fakes::{FakeServer, MARKET_STATUS, Reply, fixture, market_status, wire_json};
use strat_feeds::{Cached, Client, Config, FeedError, Request, Session, Span, cached};

const KEY: &str = "pk-test-0123456789";

fn client(server: &FakeServer) -> Client {
    let mut config = Config::from_env(|k| match k {
        "POLYGON_API_KEY" => Some(KEY.to_string()),
        "POLYGON_BASE_URL" => Some(server.url()),
        _ => None,
    });
    config.backoff = Duration::from_millis(1);
    config.retries = 2;
    Client::new(config).expect("client")
}

fn aapl() -> Request {
    let day = |m, d| NaiveDate::from_ymd_opt(2020, m, d).unwrap_or_default();
    Request { symbol: "AAPL".into(), span: Span::Day, from: day(1, 1), to: day(1, 10) }
}

#[test]
fn daily_aggregates_are_asked_with_the_key_as_a_bearer_and_stamped_in_new_york() {
    let server = FakeServer::polygon(KEY);
    let h = client(&server).aggregates(&aapl()).expect("answers");
    let got = server.received();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].path, "/v2/aggs/ticker/AAPL/range/1/day/2020-01-01/2020-01-10");
    assert_eq!(got[0].query, "adjusted=true&sort=asc&limit=50000");
    assert_eq!(got[0].header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    assert!(!got[0].query.contains(KEY), "the key is not put in the URL");
    assert_eq!(h.bars.len(), 2);
    assert_eq!(h.bars[0].time.to_string(), "2005-04-01 00:00:00", "1112331600000 ms is midnight in New York");
    assert_eq!((h.bars[0].open, h.bars[0].volume), (1.5032, 642_646_396.0));
    assert!(!h.delayed && h.refused.is_empty());
}

#[test]
fn pages_are_followed_on_the_configured_host_until_next_url_is_absent() {
    let server = FakeServer::polygon(KEY);
    // The first page names its next one on another host, as the real service does.
    server.script([Reply::fixture(200, "polygon/aggs_range_paginated.json")]);
    let mut last = wire_json("polygon/aggs_range_paginated.json");
    if let Some(o) = last.as_object_mut() {
        o.remove("next_url");
    }
    last["results"] =
        serde_json::json!([{"o": 74.9, "h": 75.5, "l": 74.5, "c": 75.0, "v": 1000, "t": 1578114000000i64}]);
    server.script([Reply::json(200, last.to_string())]);
    let h = client(&server).aggregates(&aapl()).expect("answers");
    let got = server.received();
    assert_eq!(got.len(), 2, "both pages, from the fake");
    assert_eq!(got[1].path, "/v2/aggs/ticker/AAPL/range/1/day/1578114000000/2020-01-10");
    assert_eq!(got[1].query, "cursor=bGltaXQ9MiZzb3J0PWFzYw");
    assert_eq!(got[1].header("authorization"), Some(format!("Bearer {KEY}").as_str()), "auth re-added");
    assert_eq!((h.pages, h.bars.len()), (2, 3));
}

#[test]
fn a_next_url_that_names_a_page_already_read_is_refused() {
    let server = FakeServer::polygon(KEY);
    let mut looping = wire_json("polygon/aggs_range_AAPL_1_day.json");
    looping["next_url"] = serde_json::json!(
        "https://api.massive.com/v2/aggs/ticker/AAPL/range/1/day/2020-01-01/2020-01-10?adjusted=true&sort=asc&limit=50000"
    );
    server.otherwise(Reply::json(200, looping.to_string()));
    let e = client(&server).aggregates(&aapl()).expect_err("refused");
    assert!(matches!(e, FeedError::Paging(_)), "{e}");
    assert_eq!(server.hits(), 1);
}

#[test]
fn rate_limits_and_server_errors_are_retried_and_then_given_up() {
    let server = FakeServer::polygon(KEY);
    server.script([Reply::fixture(429, "polygon/error_429.json").header("retry-after", "0"), Reply::json(502, "")]);
    let h = client(&server).aggregates(&aapl()).expect("third time lucky");
    assert_eq!((server.hits(), h.bars.len()), (3, 2));
    let server = FakeServer::polygon(KEY);
    server.otherwise(Reply::fixture(429, "polygon/error_429.json"));
    let e = client(&server).aggregates(&aapl()).expect_err("gives up");
    assert_eq!(server.hits(), 3, "one try and two retries");
    match e {
        FeedError::GaveUp { attempts: 3, last } => assert!(last.starts_with("429 You've exceeded"), "{last}"),
        other => panic!("{other:?}"),
    }
}

#[test]
fn a_wrong_key_or_a_plan_without_the_data_is_refused_at_once_without_the_key_in_the_message() {
    let server = FakeServer::polygon("another-key");
    let e = client(&server).aggregates(&aapl()).expect_err("401");
    assert_eq!(server.hits(), 1, "never retried");
    assert_eq!(e, FeedError::Auth("Unknown API Key".into()));
    assert!(e.to_string().contains("check POLYGON_API_KEY") && !e.to_string().contains(KEY));
    let server = FakeServer::polygon(KEY);
    server.otherwise(Reply::fixture(403, "polygon/error_403.json"));
    let e = client(&server).aggregates(&aapl()).expect_err("403");
    assert!(matches!(&e, FeedError::NotEntitled(m) if m.starts_with("You are not entitled")), "{e}");
    let server = FakeServer::polygon(KEY);
    server.otherwise(Reply::json(500, format!("{{\"error\":\"bad key {KEY}\"}}")));
    let e = client(&server).aggregates(&aapl()).expect_err("500s");
    assert!(!e.to_string().contains(KEY), "{e}");
    let no_key = Client::new(Config { key: None, ..Config::from_env(|_| None) }).expect("client");
    assert_eq!(no_key.aggregates(&aapl()), Err(FeedError::NoKey));
}

#[test]
fn empty_windows_delayed_data_and_bad_bars_are_told_apart() {
    let server = FakeServer::polygon(KEY);
    server.otherwise(Reply::fixture(200, "polygon/aggs_empty.json"));
    let h = client(&server).aggregates(&aapl()).expect("no data is not an error");
    assert!(h.bars.is_empty() && h.refused.is_empty());
    let mut body = wire_json("polygon/aggs_range_AAPL_1_day.json");
    body["status"] = serde_json::json!("DELAYED");
    body["results"][1]["h"] = serde_json::json!(0.5);
    if let Some(r) = body["results"].as_array_mut() {
        r.push(r[0].clone());
    }
    let server = FakeServer::polygon(KEY);
    server.otherwise(Reply::json(200, body.to_string()));
    let h = client(&server).aggregates(&aapl()).expect("answers");
    assert!(h.delayed, "DELAYED is flagged");
    assert_eq!(h.bars.len(), 1);
    assert_eq!(h.refused.len(), 2, "{:?}", h.refused);
    assert!(h.refused[0].starts_with("page 1: results[1]: high 0.5 is below low"), "{:?}", h.refused);
    assert!(h.refused[1].starts_with("page 1: results[2]: duplicate timestamp"), "{:?}", h.refused);
    let server = FakeServer::polygon(KEY);
    server.otherwise(Reply::raw(200, "text/html", "<html>oops</html>"));
    assert!(matches!(client(&server).aggregates(&aapl()), Err(FeedError::Body(_))));
}

#[test]
fn history_is_cached_so_the_same_request_again_makes_none() {
    let dir = std::env::temp_dir().join(format!("strat-feeds-cache-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let server = FakeServer::polygon(KEY);
    let c = client(&server);
    let (first, warning) = cached(&c, &aapl(), &dir).expect("fetched");
    assert!(warning.is_none(), "{warning:?}");
    let Cached::Fetched(h) = first else { panic!("the first is fetched") };
    let (again, _) = cached(&c, &aapl(), &dir).expect("cached");
    assert_eq!(again, Cached::Hit(h.bars.clone()));
    assert_eq!(server.hits(), 1, "no second request");
    let other = Request { symbol: "MSFT".into(), ..aapl() };
    let _ = cached(&c, &other, &dir).expect("fetched");
    assert_eq!(server.hits(), 2, "another request is another file");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_market_status_is_read_from_polygons_recorded_reply() {
    let server = FakeServer::polygon(KEY);
    let status = client(&server).market_status().expect("answers");
    assert_eq!(status.market, Session::ExtendedHours, "the recording was taken after the close");
    assert_eq!(status.server_time.to_rfc3339(), "2022-04-28T16:48:08-04:00");
    let got = server.received();
    assert_eq!((got.len(), got[0].path.as_str(), got[0].query.as_str()), (1, MARKET_STATUS, ""));
    assert_eq!(got[0].header("authorization"), Some(format!("Bearer {KEY}").as_str()));
    for (market, session) in [("open", Session::Open), ("closed", Session::Closed)] {
        server.route(MARKET_STATUS, [market_status(market)]);
        assert_eq!(client(&server).market_status().map(|s| s.market), Ok(session));
    }
}

#[test]
fn a_market_status_refused_or_unreadable_is_a_typed_error() {
    let server = FakeServer::polygon("another-key");
    assert_eq!(client(&server).market_status(), Err(FeedError::Auth("Unknown API Key".into())));
    assert_eq!(server.hits(), 1, "never retried");
    let server = FakeServer::polygon(KEY);
    server.route(MARKET_STATUS, [Reply::fixture(403, "polygon/error_403.json")]);
    assert!(matches!(client(&server).market_status(), Err(FeedError::NotEntitled(_))));
    server.route(
        MARKET_STATUS,
        [Reply::fixture(429, "polygon/error_429.json").header("retry-after", "0"), market_status("open")],
    );
    assert_eq!(client(&server).market_status().map(|s| s.market), Ok(Session::Open), "a 429 is retried");
    server.route(MARKET_STATUS, [Reply::fixture(429, "polygon/error_429.json")]);
    assert!(matches!(client(&server).market_status(), Err(FeedError::GaveUp { attempts: 3, .. })));
    let upcoming = fixture("polygon/v1_marketstatus_upcoming.json");
    for body in ["<html>oops</html>", "", "{\"market\":\"open\"}", upcoming.as_str()] {
        server.route(MARKET_STATUS, [Reply::json(200, body)]);
        let e = client(&server).market_status().expect_err("unreadable");
        assert!(matches!(e, FeedError::Body(_)), "{body}: {e}");
    }
    let no_key = Client::new(Config { key: None, ..Config::from_env(|_| None) }).expect("client");
    assert_eq!(no_key.market_status(), Err(FeedError::NoKey));
}
