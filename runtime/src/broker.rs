//! The paper broker. Orders decided at a bar's close are worked from the next bar on:
//! market orders fill at the open; limit and stop orders when the bar's range reaches their
//! price (at the open if it gaps through); stop-limit orders become limit orders once their stop
//! is reached. Cash is exact decimal; a buy whose cost at the fill price (with commission)
//! exceeds the cash is rejected, as backtrader does. A filled buy with `stop_loss` or
//! `take_profit` gets a protective stop and a profit target, one cancelling the other.

use crate::market::Bar;
use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use rust_decimal::prelude::{FromPrimitive, ToPrimitive};
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Side {
    Buy,
    Sell,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    Pending,
    Filled,
    Rejected,
    Cancelled,
}

#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize, serde::Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Kind {
    Market,
    Limit { limit: f64 },
    Stop { stop: f64 },
    StopLimit { stop: f64, limit: f64, triggered: bool },
}

/// Time in force: `day` lapses after the first trading day it could fill, `gtc` stays until
/// filled or cancelled, `ioc` and `fok` get one bar (orders here fill whole, so they agree).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Tif {
    Day,
    Gtc,
    Ioc,
    Fok,
}

impl Tif {
    pub fn parse(s: &str) -> Tif {
        match s {
            "gtc" => Tif::Gtc,
            "ioc" => Tif::Ioc,
            "fok" => Tif::Fok,
            _ => Tif::Day,
        }
    }
}

/// What a strategy asks for.
#[derive(Debug, Clone, PartialEq)]
pub struct Request {
    pub time: NaiveDateTime,
    pub symbol: String,
    pub side: Side,
    pub qty: u64,
    pub kind: Kind,
    pub tif: Tif,
    /// Percent below the fill for a protective stop (buys).
    pub stop_loss: Option<f64>,
    /// Percent above the fill for a profit target (buys).
    pub take_profit: Option<f64>,
    pub by: String,
}

/// An order and what became of it.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Order {
    pub id: u64,
    /// When it was decided (a bar's close).
    pub time: NaiveDateTime,
    pub symbol: String,
    pub side: Side,
    pub qty: u64,
    pub kind: Kind,
    pub tif: Tif,
    pub status: Status,
    pub fill_time: Option<NaiveDateTime>,
    pub price: Option<f64>,
    pub commission: f64,
    pub reason: Option<String>,
    /// Which graph placed it.
    pub by: String,
    /// For a protective stop or profit target: the order it protects.
    pub parent: Option<u64>,
    #[serde(skip, default)]
    stop_loss: Option<f64>,
    #[serde(skip, default)]
    take_profit: Option<f64>,
    /// The first bar this order could have filled on.
    #[serde(skip, default)]
    first_bar: Option<NaiveDateTime>,
}

/// Commission per fill: a fixed amount per share plus a percent of the value.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Costs {
    pub per_share: f64,
    pub percent: f64,
    /// Market orders fill this many basis points worse than the open.
    pub slippage_bps: f64,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Position {
    pub qty: u64,
    pub avg_cost: Decimal,
}

#[derive(Debug, Clone)]
pub struct PaperBroker {
    cash: Decimal,
    /// `cash` as a float, worked out when first asked after each change.
    cash_f64: std::cell::OnceCell<f64>,
    costs: Costs,
    positions: BTreeMap<String, Position>,
    orders: Vec<Order>,
    /// Indexes of the orders still pending, oldest first.
    pending: Vec<usize>,
    /// Profit of each closed sale, for the win rate.
    pub closed_trades: Vec<Decimal>,
}

pub fn dec(x: f64) -> Decimal {
    Decimal::from_f64(x).unwrap_or_default()
}

pub fn to_f64(d: Decimal) -> f64 {
    d.to_f64().unwrap_or(0.0)
}

impl PaperBroker {
    pub fn new(cash: f64) -> PaperBroker {
        PaperBroker::with_costs(cash, Costs::default())
    }

    pub fn with_costs(cash: f64, costs: Costs) -> PaperBroker {
        PaperBroker {
            cash: dec(cash),
            cash_f64: std::cell::OnceCell::new(),
            costs,
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

    /// Queues a market order for the next bar's open.
    pub fn submit(&mut self, time: NaiveDateTime, symbol: &str, side: Side, qty: u64, by: &str) -> u64 {
        self.place(Request {
            time,
            symbol: symbol.to_string(),
            side,
            qty,
            kind: Kind::Market,
            tif: Tif::Day,
            stop_loss: None,
            take_profit: None,
            by: by.to_string(),
        })
    }

    pub fn place(&mut self, r: Request) -> u64 {
        self.push(r, None)
    }

    fn push(&mut self, r: Request, parent: Option<u64>) -> u64 {
        let id = self.orders.len() as u64 + 1;
        self.orders.push(Order {
            id,
            time: r.time,
            symbol: r.symbol,
            side: r.side,
            qty: r.qty,
            kind: r.kind,
            tif: r.tif,
            status: Status::Pending,
            fill_time: None,
            price: None,
            commission: 0.0,
            reason: None,
            by: r.by,
            parent,
            stop_loss: r.stop_loss,
            take_profit: r.take_profit,
            first_bar: None,
        });
        self.pending.push(self.orders.len() - 1);
        id
    }

    /// Records an order the risk gate refused before it reached the market.
    pub fn refuse(&mut self, r: Request, reason: String) {
        let id = self.push(r, None);
        if let Some(o) = self.orders.last_mut().filter(|o| o.id == id) {
            o.status = Status::Rejected;
            o.reason = Some(reason);
            self.pending.pop();
        }
    }

    /// Works the pending orders for `symbol` against this bar.
    pub fn on_bar(&mut self, symbol: &str, bar: &Bar) {
        if self.pending.is_empty() {
            return;
        }
        let mut still = Vec::new();
        let mut brackets: Vec<(usize, f64)> = Vec::new();
        for i in std::mem::take(&mut self.pending) {
            if self.orders[i].status != Status::Pending || self.orders[i].symbol != symbol {
                still.push(i);
                continue;
            }
            let first = *self.orders[i].first_bar.get_or_insert(bar.time);
            // A day order lives through the first trading day it could fill on, no longer.
            if self.orders[i].tif == Tif::Day && bar.time.date() > first.date() {
                let o = &mut self.orders[i];
                o.status = Status::Cancelled;
                o.reason = Some("not filled (day order lapsed)".to_string());
                continue;
            }
            let Some(price) = self.fill_price(i, bar) else {
                let o = &mut self.orders[i];
                let daily_bar = bar.time.time() == chrono::NaiveTime::MIN;
                let lapsed = match o.tif {
                    Tif::Gtc => false,
                    Tif::Ioc | Tif::Fok => true,
                    Tif::Day => daily_bar,
                };
                if lapsed {
                    o.status = Status::Cancelled;
                    o.reason = Some(format!("not filled ({:?} order lapsed)", o.tif).to_lowercase());
                } else {
                    still.push(i);
                }
                continue;
            };
            match self.fill(i, bar.time, price) {
                Ok(()) => {
                    if self.orders[i].side == Side::Buy {
                        brackets.push((i, price));
                    } else {
                        self.resolve_group(i);
                    }
                }
                Err(why) => {
                    let o = &mut self.orders[i];
                    o.status = Status::Rejected;
                    o.reason = Some(why);
                }
            }
        }
        self.pending = still;
        for (i, price) in brackets {
            self.attach(i, price);
        }
        // Protective orders of a position that is gone have nothing left to protect.
        if !self.positions.contains_key(symbol) {
            for &i in &self.pending {
                let o = &mut self.orders[i];
                if o.symbol == symbol && o.parent.is_some() && o.status == Status::Pending {
                    o.status = Status::Cancelled;
                    o.reason = Some("the position it protected is closed".to_string());
                }
            }
            let orders = &self.orders;
            self.pending.retain(|&i| orders[i].status == Status::Pending);
        }
    }

    /// The price this bar fills order `i` at, if it does.
    fn fill_price(&mut self, i: usize, bar: &Bar) -> Option<f64> {
        let side = self.orders[i].side;
        let slip = self.costs.slippage_bps / 10_000.0;
        let limit_fill = |limit: f64, from: f64| match side {
            Side::Buy if from <= limit => Some(from),
            Side::Buy if bar.low <= limit => Some(limit),
            Side::Sell if from >= limit => Some(from),
            Side::Sell if bar.high >= limit => Some(limit),
            _ => None,
        };
        let stop_hit = |stop: f64| match side {
            Side::Buy if bar.open >= stop => Some(bar.open),
            Side::Buy if bar.high >= stop => Some(stop),
            Side::Sell if bar.open <= stop => Some(bar.open),
            Side::Sell if bar.low <= stop => Some(stop),
            _ => None,
        };
        match &mut self.orders[i].kind {
            Kind::Market => Some(match side {
                Side::Buy => bar.open * (1.0 + slip),
                Side::Sell => bar.open * (1.0 - slip),
            }),
            Kind::Limit { limit } => limit_fill(*limit, bar.open),
            Kind::Stop { stop } => stop_hit(*stop),
            Kind::StopLimit { stop, limit, triggered } => {
                let from = if *triggered { Some(bar.open) } else { stop_hit(*stop) };
                let from = from?;
                *triggered = true;
                limit_fill(*limit, from)
            }
        }
    }

    fn fill(&mut self, i: usize, time: NaiveDateTime, price: f64) -> Result<(), String> {
        let o = &self.orders[i];
        let qty = Decimal::from(o.qty);
        let p = dec(price);
        let value = qty * p;
        let commission = qty * dec(self.costs.per_share) + value * dec(self.costs.percent) / Decimal::ONE_HUNDRED;
        match o.side {
            Side::Buy => {
                let cost = value + commission;
                if cost > self.cash {
                    return Err(format!("cost {cost:.2} at the fill price exceeds cash {:.2}", self.cash));
                }
                self.cash -= cost;
                self.cash_f64 = std::cell::OnceCell::new();
                let pos = self.positions.entry(o.symbol.clone()).or_default();
                let held = Decimal::from(pos.qty);
                pos.avg_cost = (pos.avg_cost * held + cost) / (held + qty);
                pos.qty += o.qty;
            }
            Side::Sell => {
                let Some(pos) = self.positions.get_mut(&o.symbol).filter(|p| p.qty >= o.qty) else {
                    return Err("sells more than is held".to_string());
                };
                self.cash += value - commission;
                self.cash_f64 = std::cell::OnceCell::new();
                self.closed_trades.push(value - commission - pos.avg_cost * qty);
                pos.qty -= o.qty;
                if pos.qty == 0 {
                    let sym = o.symbol.clone();
                    self.positions.remove(&sym);
                }
            }
        }
        let o = &mut self.orders[i];
        o.status = Status::Filled;
        o.fill_time = Some(time);
        o.price = Some(price);
        o.commission = to_f64(commission);
        Ok(())
    }

    /// Adds the protective stop and profit target of a filled buy.
    fn attach(&mut self, i: usize, price: f64) {
        let o = self.orders[i].clone();
        let child = |kind| Request {
            time: o.fill_time.unwrap_or(o.time),
            symbol: o.symbol.clone(),
            side: Side::Sell,
            qty: o.qty,
            kind,
            tif: Tif::Gtc,
            stop_loss: None,
            take_profit: None,
            by: o.by.clone(),
        };
        let mut reqs = Vec::new();
        if let Some(sl) = o.stop_loss {
            reqs.push(child(Kind::Stop { stop: price * (1.0 - sl / 100.0) }));
        }
        if let Some(tp) = o.take_profit {
            reqs.push(child(Kind::Limit { limit: price * (1.0 + tp / 100.0) }));
        }
        for r in reqs {
            self.push(r, Some(o.id));
        }
    }

    /// When a protective order fills, its sibling is cancelled.
    fn resolve_group(&mut self, i: usize) {
        let Some(parent) = self.orders[i].parent else { return };
        let id = self.orders[i].id;
        for &j in &self.pending {
            let o = &mut self.orders[j];
            if o.parent == Some(parent) && o.id != id && o.status == Status::Pending {
                o.status = Status::Cancelled;
                o.reason = Some(format!("order {id} of the same bracket filled"));
            }
        }
    }

    /// Cancels the pending orders for `symbol`, or every pending order.
    pub fn cancel(&mut self, symbol: Option<&str>) {
        for &i in &self.pending {
            let o = &mut self.orders[i];
            if symbol.is_none_or(|s| s == o.symbol) && o.status == Status::Pending {
                o.status = Status::Cancelled;
                o.reason = Some("cancelled by the strategy".to_string());
            }
        }
        let orders = &self.orders;
        self.pending.retain(|&i| orders[i].status == Status::Pending);
    }

    /// Cash plus every position at the given prices, in floating point: for the equity curve,
    /// computed every bar (the books themselves stay decimal).
    pub fn equity_f64(&self, prices: &BTreeMap<String, f64>) -> f64 {
        let held: f64 = self.positions.iter().map(|(s, p)| p.qty as f64 * prices.get(s).copied().unwrap_or(0.0)).sum();
        // Converting the decimal cash is the dear part; positions are few.
        self.cash_f64.get_or_init(|| to_f64(self.cash)) + held
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

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn t(d: u32) -> NaiveDateTime {
        NaiveDate::from_ymd_opt(2024, 1, d).and_then(|x| x.and_hms_opt(0, 0, 0)).unwrap_or_default()
    }

    fn bar(d: u32, open: f64, high: f64, low: f64, close: f64) -> Bar {
        Bar { time: t(d), open, high, low, close, volume: 1.0 }
    }

    fn req(side: Side, qty: u64, kind: Kind, tif: Tif) -> Request {
        Request {
            time: t(1),
            symbol: "X".into(),
            side,
            qty,
            kind,
            tif,
            stop_loss: None,
            take_profit: None,
            by: "w".into(),
        }
    }

    #[test]
    fn fills_at_the_next_open_with_exact_cash() {
        let mut b = PaperBroker::new(1000.0);
        b.submit(t(1), "X", Side::Buy, 3, "w");
        b.on_bar("X", &bar(2, 100.10, 101.0, 99.0, 100.0));
        assert_eq!(b.cash(), dec(1000.0) - dec(300.30));
        assert_eq!(b.position("X").map(|p| p.qty), Some(3));
        b.submit(t(2), "X", Side::Sell, 3, "w");
        b.on_bar("X", &bar(3, 110.0, 111.0, 109.0, 110.0));
        assert_eq!(b.cash(), dec(1029.70));
        assert_eq!(b.closed_trades, vec![dec(29.70)]);
        assert!(b.position("X").is_none());
    }

    #[test]
    fn rejects_a_buy_that_costs_more_than_the_cash_at_the_fill() {
        let mut b = PaperBroker::new(1000.0);
        b.submit(t(1), "X", Side::Buy, 10, "w");
        b.on_bar("X", &bar(2, 100.01, 101.0, 99.0, 100.0));
        let o = &b.orders()[0];
        assert_eq!(o.status, Status::Rejected);
        assert_eq!(o.reason.as_deref(), Some("cost 1000.10 at the fill price exceeds cash 1000.00"));
        assert_eq!(b.cash(), dec(1000.0));
    }

    #[test]
    fn limit_and_stop_orders_fill_when_the_range_reaches_them() {
        let mut b = PaperBroker::new(10_000.0);
        b.place(req(Side::Buy, 1, Kind::Limit { limit: 95.0 }, Tif::Gtc));
        b.on_bar("X", &bar(2, 100.0, 101.0, 96.0, 97.0)); // low 96 > 95: waits
        assert_eq!(b.orders()[0].status, Status::Pending);
        b.on_bar("X", &bar(3, 97.0, 98.0, 94.0, 95.5)); // reaches 95
        assert_eq!((b.orders()[0].status, b.orders()[0].price), (Status::Filled, Some(95.0)));
        b.place(req(Side::Buy, 1, Kind::Limit { limit: 95.0 }, Tif::Gtc));
        b.on_bar("X", &bar(4, 90.0, 92.0, 89.0, 91.0)); // gaps below: fills at the open
        assert_eq!(b.orders()[1].price, Some(90.0));
        b.place(req(Side::Sell, 2, Kind::Stop { stop: 85.0 }, Tif::Gtc));
        b.on_bar("X", &bar(5, 88.0, 89.0, 84.0, 86.0));
        assert_eq!(b.orders()[2].price, Some(85.0));
        assert!(b.position("X").is_none());
    }

    #[test]
    fn a_stop_limit_waits_for_its_stop_then_for_its_limit() {
        let mut b = PaperBroker::new(10_000.0);
        b.place(req(Side::Buy, 1, Kind::StopLimit { stop: 105.0, limit: 106.0, triggered: false }, Tif::Gtc));
        b.on_bar("X", &bar(2, 100.0, 104.0, 99.0, 103.0)); // stop not reached
        assert_eq!(b.orders()[0].status, Status::Pending);
        b.on_bar("X", &bar(3, 108.0, 110.0, 107.0, 109.0)); // gaps over the stop and the limit
        assert_eq!(b.orders()[0].status, Status::Pending);
        b.on_bar("X", &bar(4, 107.0, 108.0, 105.5, 106.0)); // back under the limit
        assert_eq!(b.orders()[0].price, Some(106.0));
    }

    #[test]
    fn day_orders_lapse_and_ioc_gets_one_bar() {
        let mut b = PaperBroker::new(10_000.0);
        b.place(req(Side::Buy, 1, Kind::Limit { limit: 50.0 }, Tif::Day));
        b.place(req(Side::Buy, 1, Kind::Limit { limit: 50.0 }, Tif::Ioc));
        b.on_bar("X", &bar(2, 100.0, 101.0, 99.0, 100.0));
        assert_eq!(b.orders()[0].status, Status::Cancelled);
        assert_eq!(b.orders()[1].status, Status::Cancelled);
    }

    #[test]
    fn a_bracket_protects_the_fill_and_one_side_cancels_the_other() {
        let mut b = PaperBroker::new(10_000.0);
        let mut r = req(Side::Buy, 10, Kind::Market, Tif::Day);
        r.stop_loss = Some(7.0);
        r.take_profit = Some(10.0);
        b.place(r);
        b.on_bar("X", &bar(2, 100.0, 101.0, 99.0, 100.0));
        let kinds: Vec<Kind> = b.orders()[1..].iter().map(|o| o.kind).collect();
        assert_eq!(kinds, vec![Kind::Stop { stop: 93.0 }, Kind::Limit { limit: 110.00000000000001 }]);
        b.on_bar("X", &bar(3, 95.0, 96.0, 92.0, 93.5)); // the stop at 93 fills
        assert_eq!((b.orders()[1].status, b.orders()[1].price), (Status::Filled, Some(93.0)));
        assert_eq!(b.orders()[2].status, Status::Cancelled);
        assert!(b.position("X").is_none());
        assert_eq!(b.closed_trades, vec![dec(-70.0)]);
    }

    #[test]
    fn commission_and_slippage_are_charged() {
        let mut b = PaperBroker::with_costs(1000.0, Costs { per_share: 0.01, percent: 0.1, slippage_bps: 10.0 });
        b.submit(t(1), "X", Side::Buy, 5, "w");
        b.on_bar("X", &bar(2, 100.0, 101.0, 99.0, 100.0));
        let o = &b.orders()[0];
        // Fill at 100 × 1.001 = 100.1; value 500.5; commission 0.05 + 0.5005.
        assert_eq!(o.price, Some(100.1));
        assert!((o.commission - 0.5505).abs() < 1e-12);
        assert_eq!(b.cash(), dec(1000.0) - dec(500.5) - dec(0.5505));
    }
}
