//! The venue's `trade_updates`: one event for each change in an order's life (`new` when it is
//! accepted, `partial_fill` or `fill`, `canceled`, `rejected`), each carrying the whole order as
//! the REST API shows it, handed to every stream connection that listens. The test knobs apply
//! here, where the events are made: each sent twice, or a `new` held back until its order's
//! next event has gone out (a fill arrives before its `new`).

use super::wire;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Arc;

/// Events kept for a connection that is slow to read; one further behind misses some (as a
/// real client that lags does) and is closed.
const BACKLOG: usize = 1024;

/// What a fill adds to its event.
pub(super) struct Fill {
    pub qty: u64,
    pub price: f64,
    /// The position in the symbol after the fill (negative when short).
    pub position_qty: i64,
}

pub(super) struct Outbox {
    tx: tokio::sync::broadcast::Sender<Arc<str>>,
    /// Every event sent twice.
    pub duplicate: bool,
    /// Each `new` held back until its order's next event has gone out.
    pub reorder: bool,
    /// The `new` events held back, by order id.
    held: BTreeMap<String, Arc<str>>,
    ids: wire::Ids,
}

impl Outbox {
    pub fn new() -> Outbox {
        let (tx, _) = tokio::sync::broadcast::channel(BACKLOG);
        Outbox { tx, duplicate: false, reorder: false, held: BTreeMap::new(), ids: wire::Ids::new() }
    }

    /// A receiver of every event from now on.
    pub fn subscribe(&self) -> tokio::sync::broadcast::Receiver<Arc<str>> {
        self.tx.subscribe()
    }

    /// Sends `event` for `order` (its Order JSON) to every listener.
    pub fn emit(&mut self, event: &str, order: Value, fill: Option<Fill>) {
        let id = order["id"].as_str().unwrap_or_default().to_string();
        let mut data = json!({ "event": event, "timestamp": wire::now_text(), "order": order });
        if let Some(f) = fill {
            data["execution_id"] = self.ids.next().into();
            data["price"] = wire::dec(f.price).into();
            data["qty"] = f.qty.to_string().into();
            data["position_qty"] = f.position_qty.to_string().into();
        }
        let frame: Arc<str> = json!({ "stream": "trade_updates", "data": data }).to_string().into();
        if self.reorder && event == "new" {
            self.held.insert(id, frame);
            return;
        }
        self.send(frame);
        if let Some(held) = self.held.remove(&id) {
            self.send(held);
        }
    }

    fn send(&self, frame: Arc<str>) {
        // No listener is no error: the event is gone, as it is for a client not connected.
        let _ = self.tx.send(frame.clone());
        if self.duplicate {
            let _ = self.tx.send(frame);
        }
    }
}
