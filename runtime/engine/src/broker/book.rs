//! The engine's record of every order: those refused by the risk gate, those sent to the
//! broker and what the broker reported about them. It also adds the protective orders of a
//! filled buy (a stop under and a target over the fill), since not every broker can.

use super::{Kind, Order, Request, Side, Status, Tif, Update};
use chrono::NaiveDate;

#[derive(Debug, Clone, Default)]
pub struct Book {
    orders: Vec<Order>,
    /// How many orders are pending.
    pending: usize,
    /// Indexes of orders new or changed since the last [`Book::take_changed`].
    changed: Vec<usize>,
}

impl Book {
    pub fn orders(&self) -> &[Order] {
        &self.orders
    }

    pub fn get(&self, id: u64) -> Option<&Order> {
        let i = usize::try_from(id).ok()?.checked_sub(1)?;
        self.orders.get(i)
    }

    fn push(&mut self, r: Request, status: Status, reason: Option<String>, parent: Option<u64>) -> u64 {
        let id = self.orders.len() as u64 + 1;
        self.orders.push(Order {
            id,
            time: r.time,
            symbol: r.symbol,
            sym: r.sym,
            side: r.side,
            qty: r.qty,
            kind: r.kind,
            tif: r.tif,
            status,
            fill_time: None,
            price: None,
            commission: 0.0,
            reason,
            by: r.by,
            parent,
            stop_loss: r.stop_loss,
            take_profit: r.take_profit,
        });
        self.pending += usize::from(status == Status::Pending);
        self.changed.push(self.orders.len() - 1);
        id
    }

    /// Records an order about to be sent to the broker.
    pub fn open(&mut self, r: Request) -> u64 {
        self.push(r, Status::Pending, None, None)
    }

    /// Records an order the risk gate refused before it reached the broker.
    pub fn refuse(&mut self, r: Request, reason: String) -> u64 {
        self.push(r, Status::Rejected, Some(reason), None)
    }

    /// Applies what the broker reported, and returns the protective orders a filled buy asked
    /// for, recorded and ready to send.
    pub fn apply(&mut self, updates: &[Update]) -> Vec<Order> {
        let mut protect = Vec::new();
        for u in updates {
            let id = match u {
                Update::Filled { id, .. } | Update::Cancelled { id, .. } | Update::Rejected { id, .. } => *id,
            };
            let Some(i) = usize::try_from(id).ok().and_then(|i| i.checked_sub(1)).filter(|i| *i < self.orders.len())
            else {
                continue;
            };
            let o = &mut self.orders[i];
            if o.status == Status::Pending {
                self.pending -= 1;
            }
            match u {
                Update::Filled { time, price, commission, .. } => {
                    o.status = Status::Filled;
                    o.fill_time = Some(*time);
                    o.price = Some(*price);
                    o.commission = *commission;
                    if o.side == Side::Buy && (o.stop_loss.is_some() || o.take_profit.is_some()) {
                        protect.push((i, *time, *price));
                    }
                }
                Update::Cancelled { reason, .. } => {
                    o.status = Status::Cancelled;
                    o.reason = Some(reason.clone());
                }
                Update::Rejected { reason, .. } => {
                    o.status = Status::Rejected;
                    o.reason = Some(reason.clone());
                }
            }
            self.changed.push(i);
        }
        let mut out = Vec::new();
        for (i, time, price) in protect {
            let parent = self.orders[i].clone();
            let child = |kind| Request {
                time,
                symbol: parent.symbol.clone(),
                sym: parent.sym,
                side: Side::Sell,
                qty: parent.qty,
                kind,
                tif: Tif::Gtc,
                stop_loss: None,
                take_profit: None,
                by: parent.by.clone(),
            };
            let mut kinds = Vec::new();
            if let Some(sl) = parent.stop_loss {
                kinds.push(Kind::Stop { stop: price * (1.0 - sl / 100.0) });
            }
            if let Some(tp) = parent.take_profit {
                kinds.push(Kind::Limit { limit: price * (1.0 + tp / 100.0) });
            }
            for k in kinds {
                let id = self.push(child(k), Status::Pending, None, Some(parent.id));
                out.extend(self.get(id).cloned());
            }
        }
        out
    }

    /// The pending orders, of one symbol or of all.
    pub fn pending(&self, symbol: Option<usize>) -> Vec<u64> {
        self.orders
            .iter()
            .filter(|o| o.status == Status::Pending && symbol.is_none_or(|s| s == o.sym))
            .map(|o| o.id)
            .collect()
    }

    /// Orders a graph placed on `day` that were not rejected (for `max_daily_trades`). Orders
    /// are recorded in time order, so this reads back from the newest.
    pub fn placed_on(&self, by: &str, day: NaiveDate) -> u64 {
        self.orders
            .iter()
            .rev()
            .take_while(|o| o.time.date() >= day)
            .filter(|o| o.by == by && o.time.date() == day && o.status != Status::Rejected)
            .count() as u64
    }

    /// Whether any order is pending (sent to the broker and not yet filled, cancelled or
    /// rejected).
    #[inline]
    pub fn has_pending(&self) -> bool {
        self.pending > 0
    }

    /// Whether anything changed since the last call.
    pub fn has_changes(&self) -> bool {
        !self.changed.is_empty()
    }

    /// The orders new or changed since the last call, each once, in id order.
    pub fn take_changed(&mut self, want: bool) -> Vec<Order> {
        let mut idx = std::mem::take(&mut self.changed);
        if !want {
            return Vec::new();
        }
        idx.sort_unstable();
        idx.dedup();
        idx.into_iter().map(|i| self.orders[i].clone()).collect()
    }
}
