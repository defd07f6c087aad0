//! Alpaca's bulk requests: cancel all (`DELETE /v2/orders`) and close all
//! (`DELETE /v2/positions`). Each is answered `207 Multi-Status` with one item per order or
//! position, each with its own status; a failed item is normal (an order gone meanwhile, shares
//! held for orders), so every item is read on its own and a failed one is reported with its
//! body's message, never taken as done because the answer as a whole was a 2xx. Each request
//! is sent once.

use super::http::{Http, Lost, Reply};

/// The longest message kept from an item's body.
const MAX_MESSAGE: usize = 300;

/// One item of a bulk answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BulkItem {
    /// The order's id (cancel all) or the position's symbol (close all); `item N` when the
    /// item names neither.
    pub target: String,
    /// The item's own status (0 when it states none).
    pub status: u16,
    /// Whether the item's status is a 2xx.
    pub ok: bool,
    /// Why it failed, from its body (`order not found`, `insufficient qty available …`); `None`
    /// for an item that succeeded.
    pub message: Option<String>,
    /// The closing order's id (close all, on success).
    pub order_id: Option<String>,
}

/// Why a bulk request gave no items.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum BulkError {
    /// The connection was never made: nothing was done.
    NotSent(String),
    /// Sent, and no answer came: some of it may have been done.
    Unknown(String),
    /// The request as a whole was refused (401, 429, 500 "failed to cancel order", …).
    Refused { status: u16, message: String },
    /// A 2xx whose body is not a list of items.
    Unreadable { status: u16, text: String },
}

impl std::fmt::Display for BulkError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            BulkError::NotSent(m) => write!(f, "not sent: {m}"),
            BulkError::Unknown(m) => write!(f, "the outcome is unknown: {m}"),
            BulkError::Refused { status, message } => write!(f, "Alpaca refused it ({status}: {message})"),
            BulkError::Unreadable { status, text } => {
                write!(f, "Alpaca answered {status} with no list of items: {text}")
            }
        }
    }
}

impl std::error::Error for BulkError {}

/// `DELETE /v2/orders`, item by item (by order id).
pub(super) fn cancel_all(http: &Http) -> Result<Vec<BulkItem>, BulkError> {
    send(http, "/v2/orders", "id")
}

/// `DELETE /v2/positions`, with `cancel_orders=true` when asked, item by item (by symbol).
pub(super) fn close_all(http: &Http, cancel_orders: bool) -> Result<Vec<BulkItem>, BulkError> {
    let path = if cancel_orders { "/v2/positions?cancel_orders=true" } else { "/v2/positions" };
    send(http, path, "symbol")
}

fn send(http: &Http, path: &str, key: &str) -> Result<Vec<BulkItem>, BulkError> {
    match http.send(reqwest::Method::DELETE, path, None) {
        Ok(r) => items(&r, key),
        Err(Lost::NotSent(m)) => Err(BulkError::NotSent(m)),
        Err(Lost::Unknown(m)) => Err(BulkError::Unknown(m)),
    }
}

/// The items of a bulk answer, each named by its `key` field.
pub(super) fn items(r: &Reply, key: &str) -> Result<Vec<BulkItem>, BulkError> {
    if !(200..300).contains(&r.status) {
        return Err(BulkError::Refused { status: r.status, message: r.message() });
    }
    let Some(list) = r.body.as_array() else {
        return Err(BulkError::Unreadable { status: r.status, text: r.text.chars().take(MAX_MESSAGE).collect() });
    };
    Ok(list.iter().enumerate().map(|(n, v)| item(n, v, key)).collect())
}

fn item(n: usize, v: &serde_json::Value, key: &str) -> BulkItem {
    let target = v[key].as_str().map_or_else(|| format!("item {}", n + 1), |t| t.chars().take(MAX_MESSAGE).collect());
    let status = v["status"].as_u64().and_then(|s| u16::try_from(s).ok());
    let ok = status.is_some_and(|s| (200..300).contains(&s));
    let body = &v["body"];
    let message = (!ok).then(|| match (status, body["message"].as_str()) {
        (_, Some(m)) => m.chars().take(MAX_MESSAGE).collect(),
        (Some(s), None) => format!("status {s}, with no message"),
        (None, None) => "the item states no status".to_string(),
    });
    let order_id = body["id"].as_str().filter(|_| ok).map(str::to_string);
    BulkItem { target, status: status.unwrap_or(0), ok, message, order_id }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reply(status: u16, text: &str) -> Reply {
        Reply {
            status,
            body: serde_json::from_str(text).unwrap_or(serde_json::Value::Null),
            text: text.to_string(),
            retry_after: None,
        }
    }

    #[test]
    fn the_recorded_207s_are_read_item_by_item_with_the_failed_ones_message() {
        let cancel = include_str!("../../../../../shared/data/fixtures/wire/alpaca/response_cancel_all_207.json");
        let got = items(&reply(207, cancel), "id").expect("items");
        assert_eq!(
            got.iter().map(|i| (i.target.as_str(), i.status, i.ok, i.message.as_deref())).collect::<Vec<_>>(),
            [
                ("497f6eca-6276-4993-bfeb-53cbbbba6f08", 200, true, None),
                ("72249bb6-6c89-4ea7-b8cf-73f1a140812b", 404, false, Some("order not found")),
            ]
        );
        let close = include_str!("../../../../../shared/data/fixtures/wire/alpaca/response_close_all_207.json");
        let got = items(&reply(207, close), "symbol").expect("items");
        assert_eq!((got[0].target.as_str(), got[0].ok), ("AAPL", true));
        assert_eq!(got[0].order_id.as_deref(), Some("e6419d12-56e4-4d67-a61b-f6e464e1f8a8"));
        assert_eq!(
            (got[1].target.as_str(), got[1].status, got[1].ok, got[1].order_id.as_deref()),
            ("SQQQ", 403, false, None)
        );
        assert_eq!(
            got[1].message.as_deref(),
            Some("insufficient qty available for order (requested: 1000, available: 0)")
        );
    }

    #[test]
    fn an_item_without_a_status_is_a_failure_and_a_whole_refusal_is_an_error() {
        let got = items(&reply(207, r#"[{"id":"a"},{"status":500},7]"#), "id").expect("items");
        assert_eq!(
            got.iter().map(|i| (i.target.as_str(), i.status, i.ok, i.message.as_deref())).collect::<Vec<_>>(),
            [
                ("a", 0, false, Some("the item states no status")),
                ("item 2", 500, false, Some("status 500, with no message")),
                ("item 3", 0, false, Some("the item states no status")),
            ]
        );
        assert_eq!(items(&reply(200, "[]"), "id"), Ok(vec![]));
        let refused = items(&reply(500, r#"{"code":50010000,"message":"Failed to cancel order"}"#), "id");
        assert_eq!(refused, Err(BulkError::Refused { status: 500, message: "Failed to cancel order".into() }));
        assert!(matches!(items(&reply(207, "<html>"), "id"), Err(BulkError::Unreadable { status: 207, .. })));
    }
}
