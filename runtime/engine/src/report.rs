//! What a run leaves: every execution, every order, the equity curve, per-graph statistics and
//! the summary figures.

use crate::broker::{Account, Order, Status, dec};
use crate::gate::Verdict;
use crate::market::Bar;
use chrono::NaiveDateTime;
use std::collections::BTreeMap;

/// The portfolio's value at every step, kept compactly (a step's time as seconds from the
/// first one, 12 bytes a point): a million steps of minute bars fill 12 MB, not 24.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EquityCurve {
    start: Option<NaiveDateTime>,
    seconds: Vec<u32>,
    values: Vec<f64>,
    /// The day of the last point and its midnight in seconds from the start.
    day: Option<(chrono::NaiveDate, i64)>,
}

/// `t` in seconds from `start`, with `day` the last day seen and its midnight in seconds from
/// `start` (days repeat from step to step, so the calendar arithmetic is done once a day).
#[inline(always)]
fn seconds_from(start: NaiveDateTime, day: &mut Option<(chrono::NaiveDate, i64)>, t: NaiveDateTime) -> u32 {
    let date = t.date();
    let midnight = match *day {
        Some((d, m)) if d == date => m,
        _ => {
            let m = (date.and_time(chrono::NaiveTime::MIN) - start).num_seconds();
            *day = Some((date, m));
            m
        }
    };
    (midnight + i64::from(chrono::Timelike::num_seconds_from_midnight(&t.time()))).clamp(0, i64::from(u32::MAX)) as u32
}

impl EquityCurve {
    pub fn with_capacity(n: usize) -> EquityCurve {
        EquityCurve { start: None, seconds: Vec::with_capacity(n), values: Vec::with_capacity(n), day: None }
    }

    #[inline]
    pub fn push(&mut self, t: NaiveDateTime, equity: f64) {
        let start = *self.start.get_or_insert(t);
        let secs = seconds_from(start, &mut self.day, t);
        self.seconds.push(secs);
        self.values.push(equity);
    }

    /// One point per bar, at its time, of `value(bar)`; as [`EquityCurve::push`] of each.
    pub fn extend(&mut self, bars: &[Bar], value: impl Fn(&Bar) -> f64) {
        let Some(first) = bars.first() else { return };
        let start = *self.start.get_or_insert(first.time);
        let mut day = self.day;
        self.seconds.extend(bars.iter().map(|b| seconds_from(start, &mut day, b.time)));
        self.day = day;
        self.values.extend(bars.iter().map(value));
    }

    pub fn len(&self) -> usize {
        self.values.len()
    }

    pub fn is_empty(&self) -> bool {
        self.values.is_empty()
    }

    /// The values, oldest first.
    pub fn values(&self) -> &[f64] {
        &self.values
    }

    /// The time of the first point, and each point's seconds after it with its value: the
    /// curve as it is held, for writers that turn many points into text.
    pub fn offsets(&self) -> (NaiveDateTime, impl Iterator<Item = (u32, f64)> + '_) {
        (self.start.unwrap_or_default(), self.seconds.iter().copied().zip(self.values.iter().copied()))
    }

    /// `(time, equity)`, oldest first.
    pub fn points(&self) -> impl Iterator<Item = (NaiveDateTime, f64)> + '_ {
        let start = self.start.unwrap_or_default();
        self.seconds.iter().zip(&self.values).map(move |(s, v)| (start + chrono::Duration::seconds(i64::from(*s)), *v))
    }

    pub fn last(&self) -> Option<(NaiveDateTime, f64)> {
        let i = self.values.len().checked_sub(1)?;
        Some((self.start.unwrap_or_default() + chrono::Duration::seconds(i64::from(self.seconds[i])), self.values[i]))
    }
}

impl serde::Serialize for EquityCurve {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_seq(self.points())
    }
}

/// A line of a graph's log: `log`/`notify` statements, decisions, refusals, failures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct LogLine {
    pub time: NaiveDateTime,
    pub graph: String,
    pub message: String,
    /// Said by `notify`: delivered to the notification channels as well as logged.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub notify: bool,
}

/// How an execution ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Outcome {
    /// Ran to its end (orders placed or not).
    Success,
    /// A model's answer did not decode or failed its checks, or the risk gate refused its order.
    Rejected,
    /// A model call failed, a limit of the sandbox was exceeded, or a node could not run.
    Failed,
    /// Not run: its overlap policy dropped it, or a budget was spent.
    Skipped,
}

/// What fired an execution.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct TriggerRecord {
    /// `condition`, `bar`, `schedule`, `news`, `manual` or `webhook`.
    pub kind: String,
    /// The trigger as the file writes it.
    pub text: String,
    pub symbol: Option<String>,
    pub reason: String,
    /// The firing from outside (a webhook's call, a run by hand through the service) that
    /// started it: its number in the store.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub firing: Option<u64>,
}

/// One execution of an agent, workflow or team: the seed's `agent_executions` record.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Execution {
    pub id: u64,
    pub time: NaiveDateTime,
    pub graph: String,
    pub trigger: TriggerRecord,
    /// What the model was shown (agents and teams), as of the execution.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub context: Option<serde_json::Value>,
    /// The final prompt sent, its repeated parts by reference to [`Report::prompts`].
    #[serde(skip_serializing_if = "Option::is_none")]
    pub prompt: Option<PromptRecord>,
    /// The model's raw reply.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub llm_response: Option<String>,
    /// The decoded decision.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub decision: Option<serde_json::Value>,
    /// For teams: each member's model call.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub calls: Vec<MemberCall>,
    /// The risk gate's verdict on each order it placed or tried to.
    pub validation: Vec<Verdict>,
    /// Ids of the nodes visited, in order.
    pub path: Vec<u32>,
    pub orders: Vec<u64>,
    pub status: Outcome,
    pub error: Option<String>,
    pub duration_ms: f64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    /// Of `input_tokens`, those the provider read from its prompt cache.
    pub cached_tokens: u64,
    pub cost: f64,
}

impl Execution {
    /// The record of an emergency the operator asked for: the orders it cancelled or placed.
    pub fn of_operator(id: u64, time: NaiveDateTime, trigger: TriggerRecord, orders: Vec<u64>) -> Execution {
        Execution {
            id,
            time,
            graph: crate::control::OPERATOR.to_string(),
            trigger,
            context: None,
            prompt: None,
            llm_response: None,
            decision: None,
            calls: Vec::new(),
            validation: Vec::new(),
            path: Vec::new(),
            orders,
            status: Outcome::Success,
            error: None,
            duration_ms: 0.0,
            input_tokens: 0,
            output_tokens: 0,
            cached_tokens: 0,
            cost: 0.0,
        }
    }
}

/// A model call's prompt as a run records it. What repeats from call to call (the system
/// prompt, the prompt's leading part that is the same on every call) is held once in
/// [`Report::prompts`] under its content id; the rest is the execution's own.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct PromptRecord {
    /// The id of the system prompt's text.
    pub system: String,
    /// The id of the prompt's leading part (the answer's schema, and the strategy when it
    /// does not change).
    pub prefix: String,
    /// The rest of the prompt, as sent: the prompt is the prefix's text, then this.
    pub rest: String,
}

/// The texts of prompts, each held once however many calls sent it, under its content id
/// (the first 128 bits of its SHA-256, in hex), in the order first sent.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Prompts {
    texts: Vec<(String, String)>,
    ids: BTreeMap<String, usize>,
    /// The texts held, by length.
    by_len: BTreeMap<usize, Vec<usize>>,
}

impl Prompts {
    /// The record of a request's prompt, its texts added unless already held.
    pub fn record(&mut self, request: &crate::llm::LlmRequest) -> PromptRecord {
        let cut = request.cached_prefix.filter(|&n| request.prompt.is_char_boundary(n)).unwrap_or(0);
        let (prefix, rest) = request.prompt.split_at(cut);
        PromptRecord { system: self.add(&request.system), prefix: self.add(prefix), rest: rest.to_string() }
    }

    fn add(&mut self, text: &str) -> String {
        // Most calls send a text already held (an agent's strategy, its system prompt): found
        // among the texts of its length, it is not hashed again.
        let same = self.by_len.get(&text.len()).and_then(|at| at.iter().find(|&&i| self.texts[i].1 == text));
        if let Some(&i) = same {
            return self.texts[i].0.clone();
        }
        let id = content_id(text);
        if !self.ids.contains_key(&id) {
            self.ids.insert(id.clone(), self.texts.len());
            self.by_len.entry(text.len()).or_default().push(self.texts.len());
            self.texts.push((id.clone(), text.to_string()));
        }
        id
    }

    /// The text of `id`, if held.
    pub fn get(&self, id: &str) -> Option<&str> {
        self.ids.get(id).map(|&i| self.texts[i].1.as_str())
    }

    /// The system prompt and the whole prompt of a record.
    pub fn texts_of(&self, r: &PromptRecord) -> (String, String) {
        let system = self.get(&r.system).unwrap_or_default().to_string();
        (system, format!("{}{}", self.get(&r.prefix).unwrap_or_default(), r.rest))
    }

    /// `(id, text)` from the `from`th text on, in the order first sent (what a step added).
    pub fn since(&self, from: usize) -> &[(String, String)] {
        self.texts.get(from..).unwrap_or_default()
    }

    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }
}

impl serde::Serialize for Prompts {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_map(self.texts.iter().map(|(id, t)| (id, t)))
    }
}

/// A text's content id: the first 128 bits of its SHA-256, in hex.
pub fn content_id(text: &str) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(text.as_bytes()).iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// One member's model call within a team's execution.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct MemberCall {
    pub agent: String,
    pub context: serde_json::Value,
    pub prompt: PromptRecord,
    pub llm_response: Option<String>,
    pub decision: Option<serde_json::Value>,
}

/// Per agent, workflow or team: the seed's `stats`, and a little more.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Stats {
    /// The graph's `description` and `role`, as written.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
    pub total_executions: u64,
    pub rejected_executions: u64,
    pub failed_executions: u64,
    /// Orders placed: refused ones and protective (stop-loss, take-profit) orders included.
    pub orders: u64,
    /// Orders filled.
    #[serde(default)]
    pub filled: u64,
    /// Orders the risk gate refused.
    pub refused: u64,
    /// Round trips (a sale against the position's average cost) that made money.
    pub successful_trades: u64,
    /// Round trips that made none.
    pub failed_trades: u64,
    /// Realised profit of its sales, from the average cost.
    pub total_pnl: f64,
    /// Share of its sales that made money, percent.
    pub win_rate: Option<f64>,
    pub avg_execution_time_ms: f64,
    pub input_tokens: u64,
    pub output_tokens: u64,
    pub cost: f64,
}

#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Report {
    pub initial_cash: f64,
    pub final_equity: f64,
    /// Percent.
    pub r#return: f64,
    /// Percent, positive.
    pub max_drawdown: f64,
    pub sharpe: Option<f64>,
    /// Share of closed round trips that made money, percent.
    pub win_rate: Option<f64>,
    pub orders: Vec<Order>,
    pub equity_curve: EquityCurve,
    pub log: Vec<LogLine>,
    pub executions: Vec<Execution>,
    /// The prompts' texts the executions refer to, each once.
    pub prompts: Prompts,
    pub stats: BTreeMap<String, Stats>,
    pub warnings: Vec<String>,
    /// Distinct indicator instances the run kept (one per symbol, function and parameters).
    pub indicators: usize,
    /// Triggers, and how many sit in the threshold index.
    pub triggers: usize,
    pub indexed_triggers: usize,
    /// What answered the models, what the market was, who filled the orders.
    pub llm: String,
    pub market: String,
    pub broker: String,
}

impl Report {
    /// Fills in the summary figures and statistics from the run's end state.
    pub fn finish(&mut self, account: &Account, orders: &[Order], interval: i64, final_equity: f64) {
        self.orders = orders.to_vec();
        self.final_equity = final_equity;
        self.r#return = (final_equity / self.initial_cash - 1.0) * 100.0;
        // Drawdown from the running peak, and the Sharpe ratio of the step returns, annualised
        // (mean and variance in one pass over sums; the returns are small, so this is exact
        // enough).
        let (mut peak, mut worst) = (f64::MIN, 1.0f64);
        let (mut n, mut sum, mut squares, mut prev) = (0u64, 0.0, 0.0, f64::NAN);
        for &e in self.equity_curve.values() {
            // A flat step (nothing held moved): no new peak or trough, and a zero return.
            if e == prev && prev > 0.0 {
                n += 1;
                continue;
            }
            if e > peak {
                peak = e;
            } else if peak > 0.0 && e < worst * peak {
                worst = e / peak;
            }
            if prev > 0.0 {
                let r = e / prev - 1.0;
                n += 1;
                sum += r;
                squares += r * r;
            }
            prev = e;
        }
        self.max_drawdown = (1.0 - worst) * 100.0;
        if n > 1 {
            let mean = sum / n as f64;
            let var = ((squares - sum * mean) / (n - 1) as f64).max(0.0);
            let sd = var.sqrt();
            let per_year = crate::market::calendar::bars_a_year(interval);
            self.sharpe = (sd > 0.0).then(|| mean / sd * per_year.sqrt());
        }
        let trades = &account.closed_trades;
        if !trades.is_empty() {
            let wins = trades.iter().filter(|p| p.pnl > dec(0.0)).count();
            self.win_rate = Some(wins as f64 / trades.len() as f64 * 100.0);
        }
        // One pass over the orders, the trades and the executions, each to its graph's figures
        // (a pass per graph was quadratic in the number of agents).
        #[derive(Default)]
        struct Tally {
            orders: u64,
            filled: u64,
            sales: Vec<f64>,
            time_ms: f64,
            executions: u64,
        }
        let mut tally: BTreeMap<String, Tally> = self.stats.keys().map(|k| (k.clone(), Tally::default())).collect();
        for o in orders {
            if let Some(t) = tally.get_mut(&o.by) {
                t.orders += 1;
                t.filled += u64::from(o.status == Status::Filled);
            }
        }
        for sale in trades {
            if let Some(t) = tally.get_mut(&sale.by) {
                t.sales.push(crate::broker::to_f64(sale.pnl));
            }
        }
        for e in &self.executions {
            if let Some(t) = tally.get_mut(&e.graph) {
                t.time_ms += e.duration_ms;
                t.executions += 1;
            }
        }
        for (name, s) in &mut self.stats {
            let Some(t) = tally.get(name) else { continue };
            s.orders = t.orders;
            s.filled = t.filled;
            s.total_pnl = (t.sales.iter().sum::<f64>() * 100.0).round() / 100.0;
            s.successful_trades = t.sales.iter().filter(|p| **p > 0.0).count() as u64;
            s.failed_trades = t.sales.len() as u64 - s.successful_trades;
            if !t.sales.is_empty() {
                s.win_rate = Some(s.successful_trades as f64 / t.sales.len() as f64 * 100.0);
            }
            if t.executions > 0 {
                s.avg_execution_time_ms = t.time_ms / t.executions as f64;
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_text_is_held_once_under_its_content_id_and_texts_of_one_length_stay_apart() {
        let mut p = Prompts::default();
        let (a, b) = (p.add("strategy A"), p.add("strategy B"));
        assert_ne!(a, b, "same length, other text");
        assert_eq!(p.add("strategy A"), a);
        assert_eq!(a, content_id("strategy A"));
        assert_eq!((p.len(), p.get(&b)), (2, Some("strategy B")));
    }

    fn report(values: &[f64]) -> Report {
        let start =
            chrono::NaiveDate::from_ymd_opt(2024, 1, 2).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
        let mut curve = EquityCurve::with_capacity(values.len());
        for (i, v) in values.iter().enumerate() {
            curve.push(start + chrono::Duration::days(i as i64), *v);
        }
        Report {
            initial_cash: values[0],
            final_equity: 0.0,
            r#return: 0.0,
            max_drawdown: 0.0,
            sharpe: None,
            win_rate: None,
            orders: Vec::new(),
            equity_curve: curve,
            log: Vec::new(),
            executions: Vec::new(),
            prompts: Prompts::default(),
            stats: BTreeMap::new(),
            warnings: Vec::new(),
            indicators: 0,
            triggers: 0,
            indexed_triggers: 0,
            llm: String::new(),
            market: String::new(),
            broker: String::new(),
        }
    }

    #[test]
    fn drawdown_and_sharpe_count_flat_steps_as_zero_returns() {
        // Peak 110, trough 99: a 10% drawdown. Flat steps are returns of zero, counted.
        let values = [100.0, 100.0, 110.0, 110.0, 99.0, 99.0, 99.0, 121.0];
        let mut r = report(&values);
        let last = *values.last().unwrap_or(&0.0);
        r.finish(&crate::broker::Account::new(100.0, 1), &[], 86_400, last);
        assert!((r.max_drawdown - 10.0).abs() < 1e-12, "{}", r.max_drawdown);
        assert!((r.r#return - 21.0).abs() < 1e-12);
        let returns: Vec<f64> = values.windows(2).map(|w| w[1] / w[0] - 1.0).collect();
        let mean = returns.iter().sum::<f64>() / returns.len() as f64;
        let var = returns.iter().map(|x| (x - mean).powi(2)).sum::<f64>() / (returns.len() - 1) as f64;
        let expected = mean / var.sqrt() * 252f64.sqrt();
        let sharpe = r.sharpe.unwrap_or(f64::NAN);
        assert!((sharpe - expected).abs() < 1e-12 * expected.abs(), "{sharpe} vs {expected}");
    }

    #[test]
    fn a_flat_curve_has_no_drawdown_and_no_sharpe() {
        let mut r = report(&[50.0; 6]);
        r.finish(&crate::broker::Account::new(50.0, 1), &[], 86_400, 50.0);
        assert_eq!(r.max_drawdown, 0.0);
        assert_eq!(r.sharpe, None, "no variation, no ratio");
    }
}
