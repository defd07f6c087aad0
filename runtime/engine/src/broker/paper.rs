//! The paper broker. Orders sent at a bar's close are worked from the next bar on: market
//! orders fill at the open (or the next close, or the same close, as configured); limit and
//! stop orders when the bar's range reaches their price (at the open if it gaps through);
//! stop-limit orders become limit orders once their stop is reached. A buy whose cost at the
//! fill price (with commission) exceeds the cash is rejected, as backtrader does. Orders with
//! the same parent (a protective stop and profit target) cancel one another when one fills,
//! and go when the position they protect is closed.

use super::{Account, Costs, FillAt, Kind, Order, Side, Tif, Update, dec, to_f64};
use crate::market::Bar;
use chrono::NaiveDateTime;
use rust_decimal::Decimal;

/// An order the broker is working.
#[derive(Debug, Clone)]
struct Working {
    order: Order,
    /// The first bar this order could have filled on.
    first_bar: Option<NaiveDateTime>,
}

#[derive(Debug, Clone)]
pub struct PaperBroker {
    account: Account,
    costs: Costs,
    /// Working orders by symbol index, oldest first.
    working: Vec<Vec<Working>>,
    /// Each symbol's latest bar (for fills at the same close).
    last: Vec<Option<Bar>>,
    updates: Vec<Update>,
    open: usize,
}

/// Shown wherever the paper broker's results appear.
pub const LABEL: &str = "paper broker (simulated fills)";

impl PaperBroker {
    pub fn new(cash: f64, symbols: usize, costs: Costs) -> PaperBroker {
        PaperBroker {
            account: Account::new(cash, symbols),
            costs,
            working: vec![Vec::new(); symbols],
            last: vec![None; symbols],
            updates: Vec::new(),
            open: 0,
        }
    }

    /// Whether market orders fill at the deciding bar's close (so it keeps every last bar).
    pub fn fills_at_same_close(&self) -> bool {
        self.costs.fill == FillAt::SameClose
    }

    pub fn account(&self) -> &Account {
        &self.account
    }

    pub fn submit(&mut self, order: &Order) {
        let sym = order.sym;
        if sym >= self.working.len() {
            self.working.resize(sym + 1, Vec::new());
            self.last.resize(sym + 1, None);
        }
        if self.costs.fill == FillAt::SameClose
            && order.kind == Kind::Market
            && let Some(bar) = self.last[sym]
        {
            let price = self.slipped(order.side, bar.close);
            self.execute(order.clone(), bar.time, price);
            return;
        }
        self.working[sym].push(Working { order: order.clone(), first_bar: None });
        self.open += 1;
    }

    pub fn cancel(&mut self, id: u64, reason: &str) {
        for list in &mut self.working {
            if let Some(at) = list.iter().position(|w| w.order.id == id) {
                list.remove(at);
                self.open -= 1;
                self.updates.push(Update::Cancelled { id, reason: reason.to_string() });
                return;
            }
        }
    }

    #[inline]
    pub fn updates(&mut self, out: &mut Vec<Update>) {
        if !self.updates.is_empty() {
            out.append(&mut self.updates);
        }
    }

    /// Works the orders for symbol `sym` against a bar that closed.
    #[inline]
    /// Returns whether it has updates to report.
    pub fn on_bar(&mut self, sym: usize, bar: &Bar) -> bool {
        if self.costs.fill == FillAt::SameClose
            && let Some(slot) = self.last.get_mut(sym)
        {
            *slot = Some(*bar);
        }
        if self.open == 0 || self.working.get(sym).is_none_or(Vec::is_empty) {
            return !self.updates.is_empty();
        }
        let list = std::mem::take(&mut self.working[sym]);
        self.open -= list.len();
        let mut still = Vec::with_capacity(list.len());
        let mut filled_parents: Vec<(Option<u64>, u64)> = Vec::new();
        for mut w in list {
            // The other half of a bracket that filled earlier in this bar.
            if let Some(p) = w.order.parent
                && let Some((_, by)) = filled_parents.iter().find(|(q, _)| *q == Some(p))
            {
                self.updates.push(Update::Cancelled {
                    id: w.order.id,
                    reason: format!("order {by} of the same bracket filled"),
                });
                continue;
            }
            let first = *w.first_bar.get_or_insert(bar.time);
            // A day order lives through the first trading day it could fill on, no longer.
            if w.order.tif == Tif::Day && bar.time.date() > first.date() {
                self.updates.push(Update::Cancelled { id: w.order.id, reason: "not filled (day order lapsed)".into() });
                continue;
            }
            let Some(price) = self.fill_price(&mut w.order, bar) else {
                let daily_bar = bar.time.time() == chrono::NaiveTime::MIN;
                let lapsed = match w.order.tif {
                    Tif::Gtc => false,
                    Tif::Ioc | Tif::Fok => true,
                    Tif::Day => daily_bar,
                };
                if lapsed {
                    let tif = format!("{:?}", w.order.tif).to_lowercase();
                    self.updates
                        .push(Update::Cancelled { id: w.order.id, reason: format!("not filled ({tif} order lapsed)") });
                } else {
                    still.push(w);
                }
                continue;
            };
            let (id, parent) = (w.order.id, w.order.parent);
            if self.execute(w.order, bar.time, price) && parent.is_some() {
                filled_parents.push((parent, id));
            }
        }
        // Siblings of a bracket half that filled later in the list than they sit.
        still.retain(|w| match w.order.parent {
            Some(p) => match filled_parents.iter().find(|(q, _)| *q == Some(p)) {
                Some((_, by)) => {
                    self.updates.push(Update::Cancelled {
                        id: w.order.id,
                        reason: format!("order {by} of the same bracket filled"),
                    });
                    false
                }
                None => true,
            },
            None => true,
        });
        // Protective orders of a position that is gone have nothing left to protect.
        if self.account.position(sym).is_none() {
            still.retain(|w| {
                if w.order.parent.is_some() {
                    self.updates.push(Update::Cancelled {
                        id: w.order.id,
                        reason: "the position it protected is closed".into(),
                    });
                    false
                } else {
                    true
                }
            });
        }
        self.open += still.len();
        self.working[sym] = still;
        !self.updates.is_empty()
    }

    fn slipped(&self, side: Side, price: f64) -> f64 {
        let slip = self.costs.slippage_bps / 10_000.0;
        match side {
            Side::Buy => price * (1.0 + slip),
            Side::Sell => price * (1.0 - slip),
        }
    }

    /// The price this bar fills an order at, if it does.
    fn fill_price(&self, o: &mut Order, bar: &Bar) -> Option<f64> {
        let side = o.side;
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
        match &mut o.kind {
            Kind::Market => Some(self.slipped(
                side,
                match self.costs.fill {
                    FillAt::NextClose => bar.close,
                    FillAt::NextOpen | FillAt::SameClose => bar.open,
                },
            )),
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

    /// Fills an order whole at `price` if the account allows it; reports the outcome.
    fn execute(&mut self, o: Order, time: NaiveDateTime, price: f64) -> bool {
        let qty = Decimal::from(o.qty);
        let value = qty * dec(price);
        let commission = qty * dec(self.costs.per_share) + value * dec(self.costs.percent) / Decimal::ONE_HUNDRED;
        let booked = match o.side {
            Side::Buy => {
                let cost = value + commission;
                if cost > self.account.cash() {
                    Err(format!("cost {cost:.2} at the fill price exceeds cash {:.2}", self.account.cash()))
                } else {
                    self.account.buy(o.sym, o.qty, cost);
                    Ok(())
                }
            }
            Side::Sell => self.account.sell(o.sym, &o.symbol, o.qty, value - commission, time, &o.by),
        };
        match booked {
            Ok(()) => {
                self.updates.push(Update::Filled { id: o.id, time, price, commission: to_f64(commission) });
                true
            }
            Err(reason) => {
                self.updates.push(Update::Rejected { id: o.id, reason });
                false
            }
        }
    }
}

impl crate::host::Broker for PaperBroker {
    fn label(&self) -> String {
        LABEL.to_string()
    }
    fn submit(&mut self, order: &Order) {
        PaperBroker::submit(self, order);
    }
    fn cancel(&mut self, id: u64, reason: &str) {
        PaperBroker::cancel(self, id, reason);
    }
    #[inline]
    fn on_bar(&mut self, symbol: usize, bar: &Bar) -> bool {
        PaperBroker::on_bar(self, symbol, bar)
    }
    #[inline]
    fn updates(&mut self, out: &mut Vec<Update>) {
        PaperBroker::updates(self, out);
    }
    #[inline]
    fn account(&self) -> &Account {
        PaperBroker::account(self)
    }
    fn needs_every_bar(&self) -> bool {
        PaperBroker::fills_at_same_close(self)
    }
}

#[cfg(test)]
mod tests {
    use super::super::{Book, Request, Status};
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
            sym: 0,
            side,
            qty,
            kind,
            tif,
            stop_loss: None,
            take_profit: None,
            by: "w".into(),
        }
    }

    /// A book and a broker wired as the engine wires them.
    struct Desk {
        book: Book,
        broker: PaperBroker,
    }

    impl Desk {
        fn new(cash: f64, costs: Costs) -> Desk {
            Desk { book: Book::default(), broker: PaperBroker::new(cash, 1, costs) }
        }
        fn place(&mut self, r: Request) {
            let id = self.book.open(r);
            let o = self.book.get(id).cloned().expect("opened");
            self.broker.submit(&o);
        }
        fn bar(&mut self, b: &Bar) {
            self.broker.on_bar(0, b);
            let mut ups = Vec::new();
            self.broker.updates(&mut ups);
            for o in self.book.apply(&ups) {
                self.broker.submit(&o);
            }
        }
        fn orders(&self) -> &[Order] {
            self.book.orders()
        }
    }

    #[test]
    fn fills_at_the_next_open_with_exact_cash() {
        let mut d = Desk::new(1000.0, Costs::default());
        d.place(req(Side::Buy, 3, Kind::Market, Tif::Day));
        d.bar(&bar(2, 100.10, 101.0, 99.0, 100.0));
        assert_eq!(d.broker.account().cash(), dec(1000.0) - dec(300.30));
        assert_eq!(d.broker.account().position(0).map(|p| p.qty), Some(3));
        d.place(req(Side::Sell, 3, Kind::Market, Tif::Day));
        d.bar(&bar(3, 110.0, 111.0, 109.0, 110.0));
        assert_eq!(d.broker.account().cash(), dec(1029.70));
        assert_eq!(d.broker.account().closed_trades[0].pnl, dec(29.70));
        assert!(d.broker.account().position(0).is_none());
    }

    #[test]
    fn rejects_a_buy_that_costs_more_than_the_cash_at_the_fill() {
        let mut d = Desk::new(1000.0, Costs::default());
        d.place(req(Side::Buy, 10, Kind::Market, Tif::Day));
        d.bar(&bar(2, 100.01, 101.0, 99.0, 100.0));
        let o = &d.orders()[0];
        assert_eq!(o.status, Status::Rejected);
        assert_eq!(o.reason.as_deref(), Some("cost 1000.10 at the fill price exceeds cash 1000.00"));
        assert_eq!(d.broker.account().cash(), dec(1000.0));
    }

    #[test]
    fn limit_and_stop_orders_fill_when_the_range_reaches_them() {
        let mut d = Desk::new(10_000.0, Costs::default());
        d.place(req(Side::Buy, 1, Kind::Limit { limit: 95.0 }, Tif::Gtc));
        d.bar(&bar(2, 100.0, 101.0, 96.0, 97.0)); // low 96 > 95: waits
        assert_eq!(d.orders()[0].status, Status::Pending);
        d.bar(&bar(3, 97.0, 98.0, 94.0, 95.5)); // reaches 95
        assert_eq!((d.orders()[0].status, d.orders()[0].price), (Status::Filled, Some(95.0)));
        d.place(req(Side::Buy, 1, Kind::Limit { limit: 95.0 }, Tif::Gtc));
        d.bar(&bar(4, 90.0, 92.0, 89.0, 91.0)); // gaps below: fills at the open
        assert_eq!(d.orders()[1].price, Some(90.0));
        d.place(req(Side::Sell, 2, Kind::Stop { stop: 85.0 }, Tif::Gtc));
        d.bar(&bar(5, 88.0, 89.0, 84.0, 86.0));
        assert_eq!(d.orders()[2].price, Some(85.0));
        assert!(d.broker.account().position(0).is_none());
    }

    #[test]
    fn a_stop_limit_waits_for_its_stop_then_for_its_limit() {
        let mut d = Desk::new(10_000.0, Costs::default());
        d.place(req(Side::Buy, 1, Kind::StopLimit { stop: 105.0, limit: 106.0, triggered: false }, Tif::Gtc));
        d.bar(&bar(2, 100.0, 104.0, 99.0, 103.0)); // stop not reached
        assert_eq!(d.orders()[0].status, Status::Pending);
        d.bar(&bar(3, 108.0, 110.0, 107.0, 109.0)); // gaps over the stop and the limit
        assert_eq!(d.orders()[0].status, Status::Pending);
        d.bar(&bar(4, 107.0, 108.0, 105.5, 106.0)); // back under the limit
        assert_eq!(d.orders()[0].price, Some(106.0));
    }

    #[test]
    fn day_orders_lapse_and_ioc_gets_one_bar() {
        let mut d = Desk::new(10_000.0, Costs::default());
        d.place(req(Side::Buy, 1, Kind::Limit { limit: 50.0 }, Tif::Day));
        d.place(req(Side::Buy, 1, Kind::Limit { limit: 50.0 }, Tif::Ioc));
        d.bar(&bar(2, 100.0, 101.0, 99.0, 100.0));
        assert_eq!(d.orders()[0].status, Status::Cancelled);
        assert_eq!(d.orders()[1].status, Status::Cancelled);
        assert_eq!(d.orders()[1].reason.as_deref(), Some("not filled (ioc order lapsed)"));
    }

    #[test]
    fn a_bracket_protects_the_fill_and_one_side_cancels_the_other() {
        let mut d = Desk::new(10_000.0, Costs::default());
        let mut r = req(Side::Buy, 10, Kind::Market, Tif::Day);
        r.stop_loss = Some(7.0);
        r.take_profit = Some(10.0);
        d.place(r);
        d.bar(&bar(2, 100.0, 101.0, 99.0, 100.0));
        let kinds: Vec<Kind> = d.orders()[1..].iter().map(|o| o.kind).collect();
        assert_eq!(kinds, vec![Kind::Stop { stop: 93.0 }, Kind::Limit { limit: 110.00000000000001 }]);
        d.bar(&bar(3, 95.0, 96.0, 92.0, 93.5)); // the stop at 93 fills
        assert_eq!((d.orders()[1].status, d.orders()[1].price), (Status::Filled, Some(93.0)));
        assert_eq!(d.orders()[2].status, Status::Cancelled);
        assert_eq!(d.orders()[2].reason.as_deref(), Some("order 2 of the same bracket filled"));
        assert!(d.broker.account().position(0).is_none());
        assert_eq!(d.broker.account().closed_trades[0].pnl, dec(-70.0));
    }

    #[test]
    fn commission_and_slippage_are_charged() {
        let costs = Costs { per_share: 0.01, percent: 0.1, slippage_bps: 10.0, fill: FillAt::NextOpen };
        let mut d = Desk::new(1000.0, costs);
        d.place(req(Side::Buy, 5, Kind::Market, Tif::Day));
        d.bar(&bar(2, 100.0, 101.0, 99.0, 100.0));
        let o = &d.orders()[0];
        // Fill at 100 × 1.001 = 100.1; value 500.5; commission 0.05 + 0.5005.
        assert_eq!(o.price, Some(100.1));
        assert!((o.commission - 0.5505).abs() < 1e-12);
        assert_eq!(d.broker.account().cash(), dec(1000.0) - dec(500.5) - dec(0.5505));
    }

    #[test]
    fn fills_can_be_at_the_next_close_or_the_same_close() {
        let costs = Costs { fill: FillAt::NextClose, ..Costs::default() };
        let mut d = Desk::new(1000.0, costs);
        d.place(req(Side::Buy, 1, Kind::Market, Tif::Day));
        d.bar(&bar(2, 100.0, 101.0, 99.0, 100.5));
        assert_eq!(d.orders()[0].price, Some(100.5));
        let costs = Costs { fill: FillAt::SameClose, ..Costs::default() };
        let mut d = Desk::new(1000.0, costs);
        d.bar(&bar(1, 90.0, 91.0, 89.0, 90.5));
        d.place(req(Side::Buy, 1, Kind::Market, Tif::Day));
        // Filled at once, at the close of the bar it was decided on.
        let mut ups = Vec::new();
        d.broker.updates(&mut ups);
        d.book.apply(&ups);
        assert_eq!((d.orders()[0].status, d.orders()[0].price), (Status::Filled, Some(90.5)));
    }
}
