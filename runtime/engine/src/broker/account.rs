//! The account a broker keeps: exact decimal cash and positions by symbol, with their floating
//! point mirrors for the per-bar equity mark.

use super::{dec, to_f64};
use chrono::NaiveDateTime;
use rust_decimal::Decimal;

#[derive(Debug, Clone, Default, PartialEq)]
pub struct Position {
    pub qty: u64,
    /// Average cost per share, commission included.
    pub avg_cost: Decimal,
}

/// A sale that closed (part of) a position: its profit against the average cost.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct ClosedTrade {
    pub time: NaiveDateTime,
    pub symbol: String,
    /// The graph whose sale it was.
    pub by: String,
    pub qty: u64,
    #[serde(serialize_with = "as_f64")]
    pub pnl: Decimal,
}

fn as_f64<S: serde::Serializer>(d: &Decimal, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(to_f64(*d))
}

#[derive(Debug, Clone, Default)]
pub struct Account {
    cash: Decimal,
    cash_f64: f64,
    /// By symbol index of the run's market.
    positions: Vec<Position>,
    /// Symbols with shares held, ascending.
    held: Vec<usize>,
    pub closed_trades: Vec<ClosedTrade>,
}

impl Account {
    pub fn new(cash: f64, symbols: usize) -> Account {
        let cash = dec(cash);
        Account {
            cash,
            cash_f64: to_f64(cash),
            positions: vec![Position::default(); symbols],
            held: Vec::new(),
            closed_trades: Vec::new(),
        }
    }

    pub fn cash(&self) -> Decimal {
        self.cash
    }

    pub fn cash_f64(&self) -> f64 {
        self.cash_f64
    }

    pub fn position(&self, sym: usize) -> Option<&Position> {
        self.positions.get(sym).filter(|p| p.qty > 0)
    }

    pub fn held(&self) -> &[usize] {
        &self.held
    }

    /// Cash plus every position at `price(sym)`, in floating point (for the equity curve; the
    /// books stay decimal).
    #[inline]
    pub fn equity_f64(&self, price: impl Fn(usize) -> f64) -> f64 {
        let mut total = self.cash_f64;
        for &s in &self.held {
            total += self.positions[s].qty as f64 * price(s);
        }
        total
    }

    /// Cash plus every position at `price(sym)`, exactly.
    pub fn equity(&self, price: impl Fn(usize) -> f64) -> Decimal {
        self.cash + self.held.iter().map(|&s| Decimal::from(self.positions[s].qty) * dec(price(s))).sum::<Decimal>()
    }

    /// Books a bought lot: cash down by `cost`, the position up with its average cost.
    pub fn buy(&mut self, sym: usize, qty: u64, cost: Decimal) {
        self.set_cash(self.cash - cost);
        if sym >= self.positions.len() {
            self.positions.resize(sym + 1, Position::default());
        }
        let pos = &mut self.positions[sym];
        let held = Decimal::from(pos.qty);
        pos.avg_cost = (pos.avg_cost * held + cost) / (held + Decimal::from(qty));
        pos.qty += qty;
        if let Err(at) = self.held.binary_search(&sym) {
            self.held.insert(at, sym);
        }
    }

    /// Books a sale of shares held; refuses to sell more than is held.
    pub fn sell(
        &mut self,
        sym: usize,
        symbol: &str,
        qty: u64,
        proceeds: Decimal,
        time: NaiveDateTime,
        by: &str,
    ) -> Result<(), String> {
        let Some(pos) = self.positions.get_mut(sym).filter(|p| p.qty >= qty && qty > 0) else {
            return Err("sells more than is held".to_string());
        };
        let pnl = proceeds - pos.avg_cost * Decimal::from(qty);
        pos.qty -= qty;
        if pos.qty == 0 {
            pos.avg_cost = Decimal::ZERO;
            if let Ok(at) = self.held.binary_search(&sym) {
                self.held.remove(at);
            }
        }
        self.set_cash(self.cash + proceeds);
        self.closed_trades.push(ClosedTrade { time, symbol: symbol.to_string(), by: by.to_string(), qty, pnl });
        Ok(())
    }

    /// The cash and the positions (by symbol index) exactly, to rebuild the account with
    /// [`Account::restore`].
    pub fn holdings(&self) -> (Decimal, Vec<(usize, u64, Decimal)>) {
        let lots = self.held.iter().map(|&s| (s, self.positions[s].qty, self.positions[s].avg_cost)).collect();
        (self.cash, lots)
    }

    /// An account with this cash and these positions (`(symbol index, shares, average cost)`).
    pub fn restore(cash: Decimal, lots: &[(usize, u64, Decimal)], symbols: usize) -> Account {
        let mut a = Account { positions: vec![Position::default(); symbols], ..Account::default() };
        a.set_cash(cash);
        for &(sym, qty, avg_cost) in lots.iter().filter(|l| l.1 > 0) {
            if sym >= a.positions.len() {
                a.positions.resize(sym + 1, Position::default());
            }
            a.positions[sym] = Position { qty, avg_cost };
            if let Err(at) = a.held.binary_search(&sym) {
                a.held.insert(at, sym);
            }
        }
        a
    }

    fn set_cash(&mut self, cash: Decimal) {
        self.cash = cash;
        self.cash_f64 = to_f64(cash);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn average_cost_and_realised_profit_are_exact() {
        let mut a = Account::new(1000.0, 2);
        a.buy(1, 3, dec(300.30));
        a.buy(1, 1, dec(110.10));
        assert_eq!(a.position(1).map(|p| p.avg_cost), Some(dec(102.6)));
        assert_eq!(a.held(), &[1]);
        let t = NaiveDateTime::default();
        assert_eq!(a.sell(1, "X", 5, dec(500.0), t, "w"), Err("sells more than is held".to_string()));
        a.sell(1, "X", 4, dec(440.0), t, "w").expect("held");
        assert_eq!(a.closed_trades[0].pnl, dec(440.0) - dec(410.40));
        assert_eq!(a.cash(), dec(1029.60));
        assert!(a.position(1).is_none() && a.held().is_empty());
        assert_eq!(a.equity(|_| 100.0), dec(1029.60));
    }

    #[test]
    fn an_account_restored_from_its_holdings_is_the_same_account() {
        let mut a = Account::new(1000.0, 3);
        a.buy(2, 3, dec(300.31));
        a.buy(0, 1, dec(10.0));
        let (cash, lots) = a.holdings();
        let b = Account::restore(cash, &lots, 3);
        assert_eq!(b.holdings(), a.holdings());
        assert_eq!(b.held(), &[0, 2]);
        assert_eq!(b.equity(|_| 7.0), a.equity(|_| 7.0));
    }
}
