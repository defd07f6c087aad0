//! What the read endpoints show of the venue: account, positions, clock, order lists.

use super::Fixtures;
use super::venue::{Position, Venue};
use super::wire::{self, Answer, dec, query_param};
use serde_json::{Value, json};

/// Eastern daylight time, the offset the clock's times are written at.
const EASTERN_MINUTES: i32 = -240;

/// `GET /v2/account`: the fixture's Account with the venue's cash, buying power and equity.
pub(super) fn account(v: &Venue, fx: &Fixtures) -> Answer {
    let mut a = fx.account.clone();
    let (long, short) = v.positions.values().fold((0.0, 0.0), |(l, s), p| {
        let value = p.qty as f64 * p.last_price;
        if p.qty > 0 { (l + value, s) } else { (l, s + value) }
    });
    let bp = dec(v.buying_power());
    let equity = dec(v.equity());
    for (k, val) in [
        ("cash", dec(v.cash)),
        ("buying_power", bp.clone()),
        ("regt_buying_power", bp.clone()),
        ("effective_buying_power", bp.clone()),
        ("non_marginable_buying_power", bp),
        ("daytrading_buying_power", "0".into()),
        ("equity", equity.clone()),
        ("portfolio_value", equity),
        ("long_market_value", dec(long)),
        ("short_market_value", dec(short)),
        ("position_market_value", dec(long + short)),
        ("multiplier", "1".into()),
        ("status", "ACTIVE".into()),
    ] {
        a[k] = val.into();
    }
    a["pattern_day_trader"] = false.into();
    Answer::json(200, &a)
}

fn position(symbol: &str, p: &Position, fx: &Fixtures) -> Value {
    let mut j = fx.position.clone();
    let market_value = p.qty as f64 * p.last_price;
    let cost_basis = p.qty as f64 * p.avg_entry_price;
    let pl = market_value - cost_basis;
    let plpc = if cost_basis == 0.0 { 0.0 } else { pl / cost_basis.abs() };
    for (k, val) in [
        ("asset_id", wire::asset_id(symbol)),
        ("symbol", symbol.to_string()),
        ("avg_entry_price", dec(p.avg_entry_price)),
        ("qty", p.qty.to_string()),
        ("qty_available", p.qty.to_string()),
        ("side", if p.qty < 0 { "short" } else { "long" }.to_string()),
        ("market_value", dec(market_value)),
        ("cost_basis", dec(cost_basis)),
        ("unrealized_pl", dec(pl)),
        ("unrealized_plpc", dec(plpc)),
        ("unrealized_intraday_pl", dec(pl)),
        ("unrealized_intraday_plpc", dec(plpc)),
        ("current_price", dec(p.last_price)),
        ("lastday_price", dec(p.last_price)),
        ("change_today", "0".to_string()),
    ] {
        j[k] = val.into();
    }
    j
}

/// `GET /v2/positions`, by symbol.
pub(super) fn positions(v: &Venue, fx: &Fixtures) -> Answer {
    let all: Vec<Value> = v.positions.iter().map(|(s, p)| position(s, p, fx)).collect();
    Answer::json(200, &Value::Array(all))
}

/// `GET /v2/positions/{symbol}`, or 404 when flat.
pub(super) fn one_position(v: &Venue, symbol: &str, fx: &Fixtures) -> Answer {
    match v.positions.get(symbol) {
        Some(p) => Answer::json(200, &position(symbol, p, fx)),
        None => Answer::error(404, 40_410_000, "position does not exist"),
    }
}

/// `GET /v2/clock`: `is_open` as set; the next open and close an hour or so away, not from an
/// exchange calendar.
pub(super) fn clock(v: &Venue) -> Answer {
    let (now, nanos) = wire::now();
    let hour = (now / 3600 + 1) * 3600;
    let (next_open, next_close) =
        if v.is_open { (hour + 17 * 3600 + 1800, hour) } else { (hour, hour + 6 * 3600 + 1800) };
    Answer::json(
        200,
        &json!({
            "timestamp": wire::rfc3339(now, Some(nanos), EASTERN_MINUTES),
            "is_open": v.is_open,
            "next_open": wire::rfc3339(next_open, None, EASTERN_MINUTES),
            "next_close": wire::rfc3339(next_close, None, EASTERN_MINUTES),
        }),
    )
}

/// `GET /v2/orders?status=open|closed|all&limit=&direction=asc|desc&symbols=A,B`: newest
/// first unless `direction=asc`, at most `limit` (default 50, at most 500).
pub(super) fn list(v: &Venue, query: &str) -> Answer {
    let status = query_param(query, "status").unwrap_or_else(|| "open".into());
    let want: fn(bool) -> bool = match status.as_str() {
        "open" => |open| open,
        "closed" => |open| !open,
        "all" => |_| true,
        _ => return Answer::error(422, 40_010_001, "invalid status"),
    };
    let limit = match query_param(query, "limit").map(|l| l.parse::<usize>()) {
        None => 50,
        Some(Ok(l)) if (1..=500).contains(&l) => l,
        Some(_) => return Answer::error(422, 40_010_001, "invalid limit"),
    };
    let symbols: Option<Vec<String>> =
        query_param(query, "symbols").map(|s| s.split(',').map(str::to_string).collect());
    let mut picked: Vec<Value> = v
        .orders
        .iter()
        .filter(|o| want(o.is_open()))
        .filter(|o| symbols.as_ref().is_none_or(|s| s.contains(&o.new.symbol)))
        .map(|o| o.json())
        .collect();
    if query_param(query, "direction").as_deref() != Some("asc") {
        picked.reverse();
    }
    picked.truncate(limit);
    Answer::json(200, &Value::Array(picked))
}
