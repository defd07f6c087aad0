//! The host: every effect the engine has goes through these traits. A backtest gives the
//! engine a simulated host (a clock that jumps from bar to bar, recorded or simulated bars, the
//! paper broker, the offline stand-in or replayed model answers); a live run gives it real
//! adapters. The engine's code is the same in both, so both take the same decisions on the
//! same data.

use crate::broker::{Account, Order, Update};
use crate::market::Bar;
use crate::news::Article;
use chrono::NaiveDateTime;

/// The instant every evaluation happens at.
pub trait Clock {
    fn now(&self) -> NaiveDateTime;
    /// Moves to `t`: a simulated clock jumps there, a paced or real one waits for it.
    fn advance_to(&mut self, t: NaiveDateTime);
    /// Whether moving is only bookkeeping (a simulated clock), so the engine may move it only
    /// when something reads it: before an execution and at the end.
    fn jumps(&self) -> bool {
        false
    }
    /// Milliseconds elapsed on a monotonic clock, for durations (a simulated clock gives
    /// simulated time, so backtests stay deterministic).
    fn monotonic_ms(&self) -> f64;
}

/// Bars as they close.
pub trait MarketData {
    /// What the data is ("simulated market (…)", "CSV files", …), shown with results.
    fn label(&self) -> String;
    /// The symbols served, in a fixed order: the engine refers to them by index.
    fn symbols(&self) -> &[String];
    /// Typical bar length of each symbol, in seconds.
    fn intervals(&self) -> &[i64];
    /// How many steps there will be, when known (for progress bars).
    fn steps(&self) -> Option<usize>;
    /// For each symbol, whether its data gives no volume (a file without a volume column): an
    /// expression that reads the volume of such a symbol is an error, not a zero.
    fn without_volume(&self) -> Vec<bool> {
        vec![false; self.symbols().len()]
    }
    /// The next instant at which bars close, with those bars (`(symbol index, bar)`) in
    /// `closed`; `None` when the data ends.
    fn next(&mut self, closed: &mut Vec<(usize, Bar)>) -> Option<NaiveDateTime>;
    /// The instant [`MarketData::next`] would return, without moving on, where it is known in
    /// advance (recorded data); `None` for a live feed, which has no history to warm up on.
    fn peek(&self) -> Option<NaiveDateTime> {
        None
    }
    /// Why the step just handed out is not live, when it is not (bars filled in from history
    /// after a feed's reconnection): the engine moves its indicators on it and works the open
    /// orders, but fires nothing, so no decision is taken on data that is already old.
    fn stale(&self) -> Option<String> {
        None
    }
    /// What the data has to say since the last step (a stale feed, a reconnection, bars
    /// refused), added to `out`: the engine makes each a log line of the step, so a run shows
    /// it as it goes and the journal keeps it. The default has nothing to say.
    fn take_notes(&mut self, _out: &mut Vec<String>) {}
    /// Whether its bars cannot be had again (a live feed): a journaled run keeps each step's
    /// bars as the step begins, so a crashed run can be replayed on them.
    fn is_live(&self) -> bool {
        false
    }
    /// When the data is one symbol's bars already in memory: the bars still to come, in time
    /// order, and the cursor that [`MarketData::next`] reads them at. The engine runs a stretch where nothing
    /// can happen but indicators and marks straight from the slice, then moves the cursor past
    /// the bars it used. `None` (the default): every step goes through `next`.
    fn ahead(&mut self) -> Option<(&[Bar], &mut usize)> {
        None
    }
}

/// News as it is published.
pub trait News {
    /// Articles published after `after` (exclusive; `None`: from the start) up to `until`
    /// (inclusive), about `symbol` or (with `None`) any symbol, oldest first.
    fn between(&self, symbol: Option<&str>, after: Option<NaiveDateTime>, until: NaiveDateTime, out: &mut Vec<Article>);
}

/// A broker: orders that passed the risk gate go here.
pub trait Broker {
    fn label(&self) -> String;
    /// Sends an order (pending, with the engine's id as its client id).
    fn submit(&mut self, order: &Order);
    fn cancel(&mut self, id: u64, reason: &str);
    /// A limit or stop price in the broker's increments (Alpaca: cents at $1 and up, four
    /// places below), applied before the risk gate sees the order, so the gate checks the
    /// price that is sent.
    fn tick(&self, price: f64) -> f64 {
        price
    }
    /// A bar closed: a simulated broker works its orders against it; a real one ignores it.
    /// Returns whether [`Broker::updates`] has something to report (a real broker: always).
    fn on_bar(&mut self, symbol: usize, bar: &Bar) -> bool;
    /// What happened to the orders since the last call, oldest first.
    fn updates(&mut self, out: &mut Vec<Update>);
    /// Whether it must see every bar even with no order open (the paper broker filling at
    /// the deciding bar's close keeps the last bars); otherwise bars reach it only while
    /// orders are open.
    fn needs_every_bar(&self) -> bool {
        false
    }
    fn account(&self) -> &Account;
    /// Takes over a run resumed after a crash, once its journal has been replayed: `account` is
    /// the account as the journal rebuilt it, `journaled` the ids of every order the journal
    /// holds an intent for (an order of the run the venue holds beyond them is the broker's to
    /// report and deal with). A broker whose orders lived only in the process that crashed
    /// cannot (the paper broker is rebuilt by replaying it instead).
    fn resume(&mut self, account: Account, journaled: &[u64]) -> Result<(), String> {
        drop((account, journaled));
        Err(format!("the {} cannot take over a resumed run", self.label()))
    }
    /// Takes charge of an order whose intent the journal holds but whose outcome it does not
    /// (sent, or about to be, when the run crashed). A real broker looks it up by its client
    /// id and sends it, once and under that id, only if the venue never received it; the
    /// default takes it as a new order.
    fn adopt(&mut self, order: &Order) {
        self.submit(order);
    }
}

pub use crate::llm::Llm;
use crate::llm::{ErrorKind, LlmError, LlmReply, LlmRequest};
use crate::store::StoreError;

/// A request's content id: every field of it, so a replay asking the same thing finds it.
fn request_id(r: &LlmRequest) -> String {
    crate::report::content_id(&serde_json::to_string(r).unwrap_or_default())
}

fn refused(e: &StoreError) -> LlmError {
    LlmError { kind: ErrorKind::Unavailable, message: format!("the journal refused the model's answer: {e}") }
}
pub use crate::store::Store;

/// Everything the engine may touch.
pub struct Host<'a> {
    pub clock: &'a mut dyn Clock,
    pub market: &'a mut dyn MarketData,
    pub news: &'a dyn News,
    pub llm: &'a mut dyn Llm,
    pub broker: &'a mut dyn Broker,
    /// Where the run is journaled step by step, with its id there.
    pub store: Option<(&'a mut dyn Store, u64)>,
    /// The operator's decisions and the firings from outside (a service's run); `None`: every
    /// graph is active and only the file's triggers fire.
    pub control: Option<&'a mut dyn crate::control::Control>,
}

impl Host<'_> {
    /// Asks the models, through the journal when the run has one: an answer it already holds
    /// for the request (a resumed run replaying) is taken from it, and every answer a model
    /// gives is committed to it before anything it leads to. An answer the journal refuses to
    /// keep is no answer: the call fails with that reason.
    pub fn ask_all(&mut self, requests: &[LlmRequest]) -> Vec<Result<LlmReply, LlmError>> {
        let Some((store, run)) = self.store.as_mut() else { return self.llm.complete_all(requests) };
        let ids: Vec<String> = requests.iter().map(request_id).collect();
        let mut out: Vec<Option<Result<LlmReply, LlmError>>> = Vec::with_capacity(requests.len());
        let mut missing = Vec::new();
        for (i, id) in ids.iter().enumerate() {
            match store.next_answer(*run, id) {
                Ok(Some(answer)) => out.push(Some(answer)),
                Ok(None) => {
                    missing.push(i);
                    out.push(None);
                }
                Err(e) => out.push(Some(Err(refused(&e)))),
            }
        }
        if !missing.is_empty() {
            let asked: Vec<LlmRequest> = missing.iter().map(|&i| requests[i].clone()).collect();
            let answers: Vec<(String, Result<LlmReply, LlmError>)> =
                missing.iter().map(|&i| ids[i].clone()).zip(self.llm.complete_all(&asked)).collect();
            let kept = store.record_answers(*run, &answers);
            for (&i, (_, answer)) in missing.iter().zip(answers) {
                out[i] = Some(match &kept {
                    Ok(()) => answer,
                    Err(e) => Err(refused(e)),
                });
            }
        }
        out.into_iter().map(|a| a.unwrap_or_else(|| Err(refused(&StoreError::Record("no answer".into()))))).collect()
    }

    /// Sends an order to the broker once its intent is committed to the journal (when the run
    /// has a store), so a crash at any instant after leaves a record of what may have reached
    /// the broker. An intent the store refuses is no order: nothing is sent, and the reason
    /// comes back for the order to be rejected with.
    pub fn send(&mut self, order: &Order) -> Result<(), String> {
        if let Some((store, run)) = self.store.as_mut() {
            store
                .record_intent(*run, order)
                .map_err(|e| format!("the journal refused the order's intent, so it was not sent: {e}"))?;
        }
        self.broker.submit(order);
        Ok(())
    }
}
