//! Resuming a run after a crash. The engine is deterministic, so a run is rebuilt by replaying
//! it from its first bar on the same data: every indicator, throttle, daily trade count, equity
//! mark and open order comes back as it was. Up to the last step the journal recorded, nothing
//! reaches the broker and nothing is recorded again: the orders the replay places are checked
//! against the journal's intents, and what the broker reported is handed back from the journal
//! at the place in the step where it first arrived, with the account rebuilt from the run's
//! opening. After that step the real broker takes over: it adopts the open orders and the
//! intents of the step that was cut short, each looked up by its client id, so none is ever
//! sent twice.

use crate::broker::{Account, Order, Side, Update, dec};
use crate::host::Broker;
use crate::market::Bar;
use crate::report::Stats;
use crate::store::{Answer, Fill, Opening, Phase, PositionRecord, Reported, RunRecord, StepView, Store, StoreError};
use chrono::NaiveDateTime;
use rust_decimal::Decimal;
use std::collections::{BTreeMap, BTreeSet};

/// What the journal of a crashed run holds, ready to replay.
pub struct Journal {
    /// The last step recorded: the steps up to it are replayed, not traded.
    pub until: NaiveDateTime,
    /// Every intent, by order id.
    pub intents: BTreeMap<u64, Order>,
    /// What the broker reported, by step and place in the step, in order.
    pub reported: BTreeMap<(NaiveDateTime, Phase), Vec<Update>>,
    /// The broker's account when the run began.
    pub opening: Account,
    /// What the control said, at each step it was journaled.
    pub controlled: BTreeMap<NaiveDateTime, crate::control::Said>,
}

/// Why a run cannot be resumed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ResumeError {
    /// The run was recorded without what resuming needs.
    NoOpening(u64),
    /// A record of the journal does not read back.
    Bad(String),
    Store(StoreError),
}

impl std::fmt::Display for ResumeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            ResumeError::NoOpening(id) => {
                write!(
                    f,
                    "run {id} was recorded without what resuming needs (by an older strat), so it cannot be resumed"
                )
            }
            ResumeError::Bad(why) => write!(f, "the journal cannot be replayed: {why}"),
            ResumeError::Store(e) => write!(f, "the journal cannot be read: {e}"),
        }
    }
}

impl std::error::Error for ResumeError {}

/// A step's time as the store writes it.
fn step_time(s: &str) -> Option<NaiveDateTime> {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f").ok()
}

impl Journal {
    /// The journal of `run`, whose symbols are `symbols` (the engine's order).
    pub fn read(store: &dyn Store, run: &RunRecord, symbols: &[String]) -> Result<Journal, ResumeError> {
        let opening = run.opening.as_ref().ok_or(ResumeError::NoOpening(run.id))?;
        let until = match &run.last_step {
            Some(s) => step_time(s).ok_or_else(|| ResumeError::Bad(format!("the last step `{s}` is not a time")))?,
            None => NaiveDateTime::MIN,
        };
        let sym = |s: &str| symbols.iter().position(|x| x == s);
        let mut intents = BTreeMap::new();
        for mut o in store.intents(run.id).map_err(ResumeError::Store)? {
            o.sym = sym(&o.symbol).ok_or_else(|| {
                ResumeError::Bad(format!("order {} is for {}, which the data does not hold", o.id, o.symbol))
            })?;
            intents.insert(o.id, o);
        }
        let mut reported: BTreeMap<_, Vec<Update>> = BTreeMap::new();
        for r in store.reported(run.id).map_err(ResumeError::Store)? {
            reported.entry((r.step, r.phase)).or_default().push(r.update);
        }
        // A step can have two records of what the control said: its emergencies' (committed
        // before they were carried out) and the rest, with the step.
        let mut controlled: BTreeMap<NaiveDateTime, crate::control::Said> = BTreeMap::new();
        for (step, said) in store.controlled(run.id).map_err(ResumeError::Store)? {
            let entry = controlled.entry(step).or_default();
            entry.lifecycle = said.lifecycle;
            entry.firings.extend(said.firings);
        }
        Ok(Journal { until, intents, reported, opening: opening_account(opening, symbols)?, controlled })
    }
}

/// The account a run's opening describes.
fn opening_account(o: &Opening, symbols: &[String]) -> Result<Account, ResumeError> {
    let number = |s: &str| s.parse::<Decimal>().map_err(|e| ResumeError::Bad(format!("`{s}` is not a decimal: {e}")));
    let mut lots = Vec::new();
    for l in &o.positions {
        let sym = symbols.iter().position(|s| *s == l.symbol).ok_or_else(|| {
            ResumeError::Bad(format!("the run began holding {}, which the data does not hold", l.symbol))
        })?;
        lots.push((sym, l.qty, number(&l.avg_cost)?));
    }
    Ok(Account::restore(number(&o.cash)?, &lots, symbols.len()))
}

/// The opening of a run whose broker holds `account` now.
pub fn opening(args: Vec<String>, key: String, account: &Account, symbols: &[String]) -> Opening {
    let (cash, lots) = account.holdings();
    let positions = lots
        .into_iter()
        .map(|(s, qty, avg)| crate::store::OpeningLot {
            symbol: symbols.get(s).cloned().unwrap_or_default(),
            qty,
            avg_cost: avg.to_string(),
        })
        .collect();
    Opening { args, key, cash: cash.to_string(), positions, warm_up: None }
}

/// A real broker behind a replay: the journal answers up to its last step, then the broker.
pub struct Replayed<'a> {
    inner: &'a mut dyn Broker,
    until: NaiveDateTime,
    intents: BTreeMap<u64, Order>,
    reported: BTreeMap<(NaiveDateTime, Phase), Vec<Update>>,
    account: Account,
    /// Orders placed during the replay and not final.
    sent: BTreeMap<u64, Order>,
    now: Option<NaiveDateTime>,
    /// Calls of `updates` in the current step (the first is the bars' place, then the
    /// executions').
    calls: u32,
    live: bool,
    /// Refusals of orders the replay placed that the journal does not hold.
    refused: Vec<Update>,
    problems: Vec<String>,
}

impl<'a> Replayed<'a> {
    pub fn new(inner: &'a mut dyn Broker, journal: Journal) -> Replayed<'a> {
        Replayed {
            inner,
            until: journal.until,
            intents: journal.intents,
            reported: journal.reported,
            account: journal.opening,
            sent: BTreeMap::new(),
            now: None,
            calls: 0,
            live: false,
            refused: Vec::new(),
            problems: Vec::new(),
        }
    }

    /// What went wrong: the replay departed from the journal, or the broker would not take over.
    pub fn problems(&self) -> &[String] {
        &self.problems
    }

    fn hand_over(&mut self) {
        self.live = true;
        let journaled: Vec<u64> = self.intents.keys().copied().collect();
        if let Err(e) = self.inner.resume(self.account.clone(), &journaled) {
            self.problems.push(e);
        }
        for o in std::mem::take(&mut self.sent).values() {
            self.inner.adopt(o);
        }
    }

    /// The journal's updates at this place of the step, booked into the replayed account.
    fn replay(&mut self, out: &mut Vec<Update>) {
        let phase = if self.calls == 0 { Phase::Bars } else { Phase::Executions };
        self.calls += 1;
        let Some(now) = self.now else { return };
        for u in self.reported.remove(&(now, phase)).unwrap_or_default() {
            match &u {
                Update::Filled { id, time, price, commission } => {
                    if let Some(o) = self.sent.remove(id) {
                        self.book(&o, *time, *price, *commission);
                    }
                }
                Update::Cancelled { id, .. } | Update::Rejected { id, .. } => {
                    self.sent.remove(id);
                }
            }
            out.push(u);
        }
    }

    fn book(&mut self, o: &Order, time: NaiveDateTime, price: f64, commission: f64) {
        let value = dec(price) * Decimal::from(o.qty);
        match o.side {
            Side::Buy => self.account.buy(o.sym, o.qty, value + dec(commission)),
            Side::Sell => {
                if let Err(e) = self.account.sell(o.sym, &o.symbol, o.qty, value - dec(commission), time, &o.by) {
                    self.problems.push(format!("order {} replayed a sale that {e}", o.id));
                }
            }
        }
    }
}

/// Whether the order the replay placed is the one the journal holds.
fn same(a: &Order, b: &Order) -> bool {
    (a.symbol == b.symbol && a.side == b.side && a.qty == b.qty && a.kind == b.kind && a.tif == b.tif)
        && a.parent == b.parent
}

impl Broker for Replayed<'_> {
    fn label(&self) -> String {
        self.inner.label()
    }

    fn submit(&mut self, order: &Order) {
        if self.live {
            match self.intents.contains_key(&order.id) {
                true => self.inner.adopt(order),
                false => self.inner.submit(order),
            }
            return;
        }
        match self.intents.get(&order.id) {
            Some(i) if same(i, order) => {
                self.sent.insert(order.id, order.clone());
            }
            found => {
                let was = found.map_or("nothing".to_string(), |i| format!("{} {} {}", i.side.name(), i.qty, i.symbol));
                let why = format!(
                    "the resumed run placed order {} ({} {} {}) where the journal holds {was}: not sent",
                    order.id,
                    order.side.name(),
                    order.qty,
                    order.symbol
                );
                self.problems.push(why.clone());
                self.refused.push(Update::Rejected { id: order.id, reason: why });
            }
        }
    }

    fn cancel(&mut self, id: u64, reason: &str) {
        if self.live {
            self.inner.cancel(id, reason);
        }
    }

    fn tick(&self, price: f64) -> f64 {
        self.inner.tick(price)
    }

    fn on_bar(&mut self, symbol: usize, bar: &Bar) -> bool {
        if !self.live {
            if self.now != Some(bar.time) {
                self.now = Some(bar.time);
                self.calls = 0;
            }
            if bar.time <= self.until {
                return true;
            }
            self.hand_over();
        }
        self.inner.on_bar(symbol, bar)
    }

    fn updates(&mut self, out: &mut Vec<Update>) {
        out.append(&mut self.refused);
        if self.live {
            self.inner.updates(out);
        } else {
            self.replay(out);
        }
    }

    fn needs_every_bar(&self) -> bool {
        true
    }

    fn account(&self) -> &Account {
        if self.live { self.inner.account() } else { &self.account }
    }
}

/// The store behind a replay: the steps up to the journal's last and the intents it holds are
/// there already, so they are not written again.
pub struct Resumed<'a> {
    pub inner: &'a mut dyn Store,
    pub until: NaiveDateTime,
    pub intents: BTreeSet<u64>,
    /// The last live step whose bars the journal holds.
    pub bars_until: NaiveDateTime,
}

impl Store for Resumed<'_> {
    fn begin_run(&mut self, file: &str, program_hash: &str, market: &str, started: &str) -> Result<u64, StoreError> {
        self.inner.begin_run(file, program_hash, market, started)
    }
    fn record_step(&mut self, run: u64, step: &StepView<'_>) -> Result<(), StoreError> {
        if step.time <= self.until { Ok(()) } else { self.inner.record_step(run, step) }
    }
    fn record_stats(&mut self, run: u64, stats: &BTreeMap<String, Stats>) -> Result<(), StoreError> {
        self.inner.record_stats(run, stats)
    }
    fn record_intent(&mut self, run: u64, order: &Order) -> Result<(), StoreError> {
        if self.intents.contains(&order.id) { Ok(()) } else { self.inner.record_intent(run, order) }
    }
    fn intents(&self, run: u64) -> Result<Vec<Order>, StoreError> {
        self.inner.intents(run)
    }
    fn finish_run(&mut self, run: u64, status: &str, final_equity: f64) -> Result<(), StoreError> {
        self.inner.finish_run(run, status, final_equity)
    }
    fn record_opening(&mut self, run: u64, opening: &Opening) -> Result<(), StoreError> {
        self.inner.record_opening(run, opening)
    }
    fn reopen_run(&mut self, run: u64) -> Result<RunRecord, StoreError> {
        self.inner.reopen_run(run)
    }
    fn reported(&self, run: u64) -> Result<Vec<Reported>, StoreError> {
        self.inner.reported(run)
    }
    fn record_answers(&mut self, run: u64, answers: &[(String, Answer)]) -> Result<(), StoreError> {
        self.inner.record_answers(run, answers)
    }
    fn record_bars(&mut self, run: u64, step: NaiveDateTime, bars: &[(usize, Bar)]) -> Result<(), StoreError> {
        if step <= self.bars_until { Ok(()) } else { self.inner.record_bars(run, step, bars) }
    }
    fn bars(&self, run: u64) -> Result<Vec<crate::store::StepBars>, StoreError> {
        self.inner.bars(run)
    }
    fn next_answer(&mut self, run: u64, id: &str) -> Result<Option<Answer>, StoreError> {
        self.inner.next_answer(run, id)
    }
    fn record_control(&mut self, run: u64, step: NaiveDateTime, said: &crate::control::Said) -> Result<(), StoreError> {
        if step <= self.until { Ok(()) } else { self.inner.record_control(run, step, said) }
    }
    fn controlled(&self, run: u64) -> Result<Vec<(NaiveDateTime, crate::control::Said)>, StoreError> {
        self.inner.controlled(run)
    }
    fn runs(&self) -> Result<Vec<RunRecord>, StoreError> {
        self.inner.runs()
    }
    fn executions(&self, run: u64) -> Result<Vec<serde_json::Value>, StoreError> {
        self.inner.executions(run)
    }
    fn prompt(&self, id: &str) -> Result<Option<String>, StoreError> {
        self.inner.prompt(id)
    }
    fn orders(&self, run: u64) -> Result<Vec<Order>, StoreError> {
        self.inner.orders(run)
    }
    fn fills(&self, run: u64) -> Result<Vec<Fill>, StoreError> {
        self.inner.fills(run)
    }
    fn positions(&self, run: u64) -> Result<Vec<PositionRecord>, StoreError> {
        self.inner.positions(run)
    }
    fn stats(&self, run: u64) -> Result<BTreeMap<String, Stats>, StoreError> {
        self.inner.stats(run)
    }
}
