//! The paper broker: market orders fill at the next bar's open, cash is exact decimal, and an
//! order whose cost at the fill price exceeds the cash is rejected (as backtrader does).

use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Filled,
    Rejected,
}

/// An order and what became of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Order {
    pub id: u64,
    /// When it was decided (a bar's close).
    pub time: NaiveDateTime,
    pub symbol: String,
    pub side: Side,
    pub qty: u64,
    pub status: Status,
    pub fill_time: Option<NaiveDateTime>,
    pub price: Option<f64>,
    pub reason: Option<String>,
    /// Which graph placed it.
    pub by: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Position {
    pub qty: u64,
    pub avg_cost: Decimal,
}

#[derive(Debug, Clone)]
pub struct PaperBroker {
    cash: Decimal,
    positions: BTreeMap<String, Position>,
    orders: Vec<Order>,
    /// Indexes of the orders still pending, oldest first.
    pending: Vec<usize>,
    /// Profit of each closed round trip, for the win rate.
    pub closed_trades: Vec<Decimal>,
}

pub fn dec(x: f64) -> Decimal {
    Decimal::from_f64(x).unwrap_or_default()
}

impl PaperBroker {
    pub fn new(cash: f64) -> PaperBroker {
        PaperBroker {
            cash: dec(cash),
            positions: BTreeMap::new(),
            orders: Vec::new(),
            pending: Vec::new(),
            closed_trades: Vec::new(),
        }
    }

    pub fn cash(&self) -> Decimal {
        self.cash
    }

    pub fn position(&self, symbol: &str) -> Option<&Position> {
        self.positions.get(symbol)
    }

    pub fn positions(&self) -> &BTreeMap<String, Position> {
        &self.positions
    }

    pub fn orders(&self) -> &[Order] {
        &self.orders
    }

    /// Queues a market order; it fills at the symbol's next bar open.
    pub fn submit(&mut self, time: NaiveDateTime, symbol: &str, side: Side, qty: u64, by: &str) -> u64 {
        let id = self.orders.len() as u64 + 1;
        self.orders.push(Order {
            id,
            time,
            symbol: symbol.to_string(),
            side,
            qty,
            status: Status::Pending,
            fill_time: None,
            price: None,
            reason: None,
            by: by.to_string(),
        });
        self.pending.push(self.orders.len() - 1);
        id
    }

    /// Records an order the risk gate refused before it reached the market.
    pub fn refuse(&mut self, time: NaiveDateTime, symbol: &str, side: Side, qty: u64, by: &str, reason: String) {
        let id = self.submit(time, symbol, side, qty, by);
        if let Some(o) = self.orders.last_mut().filter(|o| o.id == id) {
            o.status = Status::Rejected;
            o.reason = Some(reason);
            self.pending.pop();
        }
    }

    /// Fills the pending orders for `symbol` at this bar's open.
    pub fn on_open(&mut self, symbol: &str, time: NaiveDateTime, open: f64) {
        if self.pending.is_empty() {
            return;
        }
        let price = dec(open);
        let mut still = Vec::new();
        for i in std::mem::take(&mut self.pending) {
            if self.orders[i].status != Status::Pending || self.orders[i].symbol != symbol {
                still.push(i);
                continue;
            }
            let qty = Decimal::from(self.orders[i].qty);
            let outcome = match self.orders[i].side {
                Side::Buy => {
                    let cost = qty * price;
                    if cost > self.cash {
                        Err(format!("cost {cost:.2} at the fill price exceeds cash {:.2}", self.cash))
                    } else {
                        self.cash -= cost;
                        let p = self.positions.entry(symbol.to_string()).or_default();
                        let held = Decimal::from(p.qty);
                        p.avg_cost = (p.avg_cost * held + cost) / (held + qty);
                        p.qty += self.orders[i].qty;
                        Ok(())
                    }
                }
                Side::Sell => match self.positions.get_mut(symbol) {
                    Some(p) if p.qty >= self.orders[i].qty => {
                        self.cash += qty * price;
                        self.closed_trades.push((price - p.avg_cost) * qty);
                        p.qty -= self.orders[i].qty;
                        if p.qty == 0 {
                            self.positions.remove(symbol);
                        }
                        Ok(())
                    }
                    _ => Err("sells more than is held".to_string()),
                },
            };
            let o = &mut self.orders[i];
            match outcome {
                Ok(()) => {
                    o.status = Status::Filled;
                    o.fill_time = Some(time);
                    o.price = Some(open);
                }
                Err(why) => {
                    o.status = Status::Rejected;
                    o.reason = Some(why);
                }
            }
        }
        self.pending = still;
    }

    /// Cash plus every position at the given prices, in floating point: for the equity curve,
    /// computed every bar (the books themselves stay decimal).
    pub fn equity_f64(&self, prices: &BTreeMap<String, f64>) -> f64 {
        to_f64(self.cash)
            + self.positions.iter().map(|(s, p)| p.qty as f64 * prices.get(s).copied().unwrap_or(0.0)).sum::<f64>()
    }

    /// Cash plus every position at the given prices.
    pub fn equity(&self, prices: &BTreeMap<String, f64>) -> Decimal {
        self.cash
            + self
                .positions
                .iter()
                .map(|(s, p)| Decimal::from(p.qty) * dec(prices.get(s).copied().unwrap_or(0.0)))
                .sum::<Decimal>()
    }
}

pub fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn t(d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 1, d).and_then(|x| x.and_hms_opt(0, 0, 0)).unwrap_or_default()
    }

    #[test]
    fn fills_at_the_next_open_with_exact_cash() {
        let mut b = PaperBroker::new(1000.0);
        b.submit(t(1), "X", Side::Buy, 3, "w");
        b.on_open("X", t(2), 100.10);
        assert_eq!(b.cash(), dec(1000.0) - dec(300.30));
        assert_eq!(b.position("X").map(|p| p.qty), Some(3));
        b.submit(t(2), "X", Side::Sell, 3, "w");
        b.on_open("X", t(3), 110.0);
        assert_eq!(b.cash(), dec(1029.70));
        assert_eq!(b.closed_trades, vec![dec(29.70)]);
        assert!(b.position("X").is_none());
    }

    #[test]
    fn rejects_a_buy_that_costs_more_than_the_cash_at_the_fill() {
        let mut b = PaperBroker::new(1000.0);
        b.submit(t(1), "X", Side::Buy, 10, "w");
        b.on_open("X", t(2), 100.01);
        let o = &b.orders()[0];
        assert_eq!(o.status, Status::Rejected);
        assert_eq!(o.reason.as_deref(), Some("cost 1000.10 at the fill price exceeds cash 1000.00"));
        assert_eq!(b.cash(), dec(1000.0));
    }
}
