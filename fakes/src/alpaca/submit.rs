//! `POST /v2/orders`: the body read and validated as the venue does, before anything is held.

use super::Fixtures;
use super::wire::Answer;
use serde_json::{Map, Value};

/// The largest quantity the fake takes (keeps the arithmetic far from overflow).
const MAX_QTY: u64 = 1_000_000_000;
/// Alpaca's limit on `client_order_id`.
const MAX_CLIENT_ID: usize = 128;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Side {
    Buy,
    Sell,
}

impl Side {
    pub fn text(self) -> &'static str {
        match self {
            Side::Buy => "buy",
            Side::Sell => "sell",
        }
    }
}

/// A valid order request.
#[derive(Debug, Clone)]
pub(super) struct NewOrder {
    pub symbol: String,
    pub qty: u64,
    pub side: Side,
    pub kind: &'static str,
    pub time_in_force: &'static str,
    pub limit_price: Option<f64>,
    pub stop_price: Option<f64>,
    pub extended_hours: bool,
    /// Set on the orders that close a position (`sell_to_close`, `buy_to_close`).
    pub position_intent: Option<&'static str>,
}

fn invalid(message: &str) -> Answer {
    Answer::error(422, 40_010_001, message)
}

/// The body as a JSON object, or the venue's 400.
pub(super) fn object(body: Option<&[u8]>) -> Result<Map<String, Value>, Answer> {
    match body.map(serde_json::from_slice::<Value>) {
        Some(Ok(Value::Object(m))) => Ok(m),
        _ => Err(Answer::error(400, 40_010_000, "request body format is invalid")),
    }
}

/// The client's `client_order_id`, if it sent one.
pub(super) fn client_id(m: &Map<String, Value>) -> Result<Option<String>, Answer> {
    match m.get("client_order_id") {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.is_empty() => Ok(None),
        Some(Value::String(s)) if s.chars().count() > MAX_CLIENT_ID => {
            Err(invalid("client_order_id must be no more than 128 characters"))
        }
        Some(Value::String(s)) => Ok(Some(s.clone())),
        Some(_) => Err(invalid("invalid client_order_id")),
    }
}

/// The rest of the order, checked field by field.
pub(super) fn parse(m: &Map<String, Value>, fx: &Fixtures) -> Result<NewOrder, Answer> {
    let symbol = match m.get("symbol") {
        Some(Value::String(s)) if !s.trim().is_empty() => s.trim().to_string(),
        _ => return Err(invalid("symbol is required")),
    };
    let qty = qty(m, fx)?;
    let side = match m.get("side").and_then(Value::as_str) {
        Some("buy") => Side::Buy,
        Some("sell") => Side::Sell,
        _ => return Err(invalid("invalid side")),
    };
    let kind = one_of(m, "type", &["market", "limit", "stop", "stop_limit"])?;
    let time_in_force = one_of(m, "time_in_force", &["day", "gtc", "opg", "cls", "ioc", "fok"])?;
    let needs_limit = matches!(kind, "limit" | "stop_limit");
    let needs_stop = matches!(kind, "stop" | "stop_limit");
    let limit_price = price(m, "limit_price", needs_limit, fx)?;
    let stop_price = price(m, "stop_price", needs_stop, fx)?;
    let extended_hours = m.get("extended_hours").and_then(Value::as_bool).unwrap_or(false);
    Ok(NewOrder {
        symbol,
        qty,
        side,
        kind,
        time_in_force,
        limit_price,
        stop_price,
        extended_hours,
        position_intent: None,
    })
}

fn one_of(m: &Map<String, Value>, field: &str, allowed: &[&'static str]) -> Result<&'static str, Answer> {
    let given = m.get(field).and_then(Value::as_str);
    match given.and_then(|g| allowed.iter().find(|a| **a == g)) {
        Some(a) => Ok(a),
        None if given.is_none() => Err(invalid(&format!("{field} is required"))),
        None => Err(invalid(&format!("invalid {field}"))),
    }
}

/// `qty`: a positive whole number of shares, as a string or a number.
fn qty(m: &Map<String, Value>, fx: &Fixtures) -> Result<u64, Answer> {
    let text = match m.get("qty") {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        None | Some(Value::Null) if m.get("notional").is_some_and(|n| !n.is_null()) => {
            return Err(invalid("notional orders are not supported by this fake"));
        }
        None | Some(Value::Null) => return Err(invalid("qty or notional is required")),
        Some(_) => return Err(Answer::json_text(422, &fx.qty)),
    };
    let (whole, frac) = text.split_once('.').unwrap_or((&text, ""));
    let n = whole.parse::<u64>().ok().filter(|n| *n > 0 && frac.bytes().all(|b| b == b'0'));
    match n {
        Some(n) if n <= MAX_QTY => Ok(n),
        Some(_) => Err(invalid("qty is too large")),
        None => Err(Answer::json_text(422, &fx.qty)),
    }
}

/// A price field: required or not, positive, and no finer than the tick (≥ $1: a cent, below:
/// a hundredth of a cent), else the venue's sub-penny 422 naming the price.
fn price(m: &Map<String, Value>, field: &str, required: bool, fx: &Fixtures) -> Result<Option<f64>, Answer> {
    let text = match m.get(field) {
        Some(Value::String(s)) => s.trim().to_string(),
        Some(Value::Number(n)) => n.to_string(),
        None | Some(Value::Null) if required => return Err(invalid(&format!("{field} is required"))),
        None | Some(Value::Null) => return Ok(None),
        Some(_) => return Err(invalid(&format!("invalid {field}"))),
    };
    let value = match text.parse::<f64>() {
        Ok(v) if v.is_finite() && v > 0.0 && !text.contains(['e', 'E']) => v,
        _ => return Err(invalid(&format!("invalid {field}"))),
    };
    let decimals = text.split_once('.').map_or(0, |(_, f)| f.trim_end_matches('0').len());
    let allowed = if value >= 1.0 { 2 } else { 4 };
    if decimals > allowed {
        let mut body = fx.subpenny.clone();
        body["message"] =
            format!("invalid {field} {text}. sub-penny increment does not fulfill minimum pricing criteria").into();
        return Err(Answer::json(422, &body));
    }
    Ok(Some(value))
}
