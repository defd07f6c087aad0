//! The executor: one run of an agent's or workflow's graph, from its start to an end node,
//! within the sandbox's limits. Conditions branch, model calls go to the host's `Llm`, and every
//! order — written in the file or decided by a model — goes through the risk gate before the
//! broker. The result is an [`Execution`] record, whatever happened.

use crate::broker::{Account, Book, Kind, Request, Side, Tif, Update};
use crate::context::{Extra, final_prompt};
use crate::decode::decode;
use crate::expr::{Market, NewsSummary, PortfolioView, PositionView, World};
use crate::gate::{self, RiskLimits};
use crate::host::{Host, News};
use crate::news::Article;
use crate::plan::{GraphPlan, LlmPlan, OrderPlan, SizePlan, Step};
use crate::report::{Execution, LogLine, Outcome, Stats, TriggerRecord};
use crate::sandbox::{Exceeded, Limits};
use crate::value::Value;
use chrono::NaiveDateTime;
use std::collections::BTreeMap;

mod team;

/// Where a walk stopped.
enum Walked {
    Done,
    /// At a model call, with its request, to resume when the answer comes.
    Asking {
        at: usize,
        locals: BTreeMap<String, Value>,
        request: crate::llm::LlmRequest,
    },
}

/// A firing to execute.
#[derive(Debug, Clone)]
pub struct Job {
    pub graph: usize,
    pub symbol: Option<usize>,
    pub trigger: TriggerRecord,
    pub article: Option<Article>,
    /// A webhook's body, decoded into its declared type (`trigger.payload`).
    pub payload: Option<Value>,
}

/// Model use of the run so far, against the sandbox's budgets.
#[derive(Debug, Clone, Default)]
pub struct Usage {
    pub calls: u64,
    pub tokens: u64,
    pub cost: f64,
}

/// Run-wide figures the risk gate reads.
#[derive(Debug, Clone, Default)]
pub struct GateState {
    pub peak_equity: f64,
    pub vix: Option<usize>,
    pub intraday: bool,
    pub volatility: Vec<Option<u32>>,
    pub avg_volume: Vec<Option<u32>>,
    /// Total value at the previous session's last step (for `daily_pnl`).
    pub day_start_equity: f64,
}

/// Everything an execution may touch.
pub struct Ctx<'r, 'h> {
    pub graphs: &'r [GraphPlan],
    pub market: &'r Market,
    pub host: &'r mut Host<'h>,
    pub book: &'r mut Book,
    pub sandbox: &'r Limits,
    pub usage: &'r mut Usage,
    pub gate: &'r GateState,
    pub log: &'r mut Vec<LogLine>,
    pub stats: &'r mut BTreeMap<String, Stats>,
    /// The texts of the prompts sent, each once.
    pub prompts: &'r mut crate::report::Prompts,
    pub next_id: &'r mut u64,
}

/// What an expression sees during an execution.
pub struct ExecWorld<'a> {
    pub account: &'a Account,
    pub market: &'a Market,
    pub locals: &'a BTreeMap<String, Value>,
    pub limits: Option<&'a RiskLimits>,
    /// The graph whose `performance` expressions read.
    pub graph: Option<&'a str>,
    pub news: &'a dyn News,
    pub day_start_equity: f64,
}

/// No bindings: what the market state and the triggers read at a step.
static NO_LOCALS: BTreeMap<String, Value> = BTreeMap::new();

impl<'a> ExecWorld<'a> {
    /// The world of a step outside any graph: the account, the market and the news, with no
    /// bindings, limits or graph.
    pub fn of_step(
        account: &'a Account,
        market: &'a Market,
        news: &'a dyn News,
        day_start_equity: f64,
    ) -> ExecWorld<'a> {
        ExecWorld { account, market, locals: &NO_LOCALS, limits: None, graph: None, news, day_start_equity }
    }

    fn price(&self, sym: usize) -> f64 {
        self.market.bars.get(sym).copied().flatten().map_or(0.0, |b| b.close)
    }
}

impl World for ExecWorld<'_> {
    fn position(&self, sym: usize) -> PositionView {
        let price = self.price(sym);
        match self.account.position(sym) {
            Some(p) => {
                let qty = p.qty as f64;
                let cost = crate::broker::to_f64(p.avg_cost);
                PositionView {
                    quantity: qty,
                    avg_cost: cost,
                    current_price: price,
                    market_value: qty * price,
                    unrealized_pnl: qty * (price - cost),
                    pnl_percent: if cost > 0.0 { (price / cost - 1.0) * 100.0 } else { 0.0 },
                }
            }
            None => PositionView { current_price: price, ..PositionView::default() },
        }
    }

    fn portfolio(&self) -> PortfolioView {
        let cash = self.account.cash_f64();
        let total = self.account.equity_f64(|s| self.price(s));
        PortfolioView {
            cash,
            buying_power: cash,
            total_value: total,
            positions_count: self.account.held().len() as f64,
            daily_pnl: total - self.day_start_equity,
        }
    }

    fn portfolio_record(&self) -> Value {
        let p = self.portfolio();
        let positions = self
            .account
            .held()
            .iter()
            .map(|&s| {
                let v = self.position(s);
                Value::record([
                    ("symbol", Value::Symbol(self.market.symbols[s].clone())),
                    ("quantity", Value::Num(v.quantity)),
                    ("avg_cost", Value::Num(v.avg_cost)),
                    ("current_price", Value::Num(v.current_price)),
                    ("unrealized_pnl", Value::Num(v.unrealized_pnl)),
                    ("pnl_percent", Value::Num(v.pnl_percent)),
                ])
            })
            .collect();
        Value::record([
            ("cash", Value::Num(p.cash)),
            ("buying_power", Value::Num(p.buying_power)),
            ("total_value", Value::Num(p.total_value)),
            ("positions", Value::List(positions)),
            ("positions_count", Value::Num(p.positions_count)),
            ("daily_pnl", Value::Num(p.daily_pnl)),
        ])
    }

    fn local(&self, name: &str) -> Option<Value> {
        self.locals.get(name).cloned()
    }

    fn global(&self, name: &str) -> Option<Value> {
        match name {
            "limits" => Some(self.limits.map_or_else(|| Value::Record(BTreeMap::new()), |l| l.record.clone())),
            "performance" => Some(performance(self.account, self.graph.unwrap_or(""), self.market.now)),
            _ => None,
        }
    }

    fn news(&self, sym: usize, window: i64) -> NewsSummary {
        let now = news_now(self.market);
        let mut found = Vec::new();
        if let Some(symbol) = self.market.symbols.get(sym) {
            self.news.between(Some(symbol), Some(now - chrono::Duration::seconds(window)), now, &mut found);
        }
        summarize(&found)
    }
}

/// A graph's closed trades over the 30 days before `now`: how many, and their average P&L.
fn recent_trades(account: &Account, graph: &str, now: NaiveDateTime) -> (usize, f64, usize) {
    let since = now - chrono::Duration::days(30);
    let (mut n, mut total, mut wins) = (0usize, 0.0, 0usize);
    for t in account.closed_trades.iter().rev().take_while(|t| t.time >= since).filter(|t| t.by == graph) {
        let pnl = crate::broker::to_f64(t.pnl);
        n += 1;
        total += pnl;
        wins += usize::from(pnl > 0.0);
    }
    (n, if n == 0 { 0.0 } else { total / n as f64 }, wins)
}

/// How many of a graph's closed trades the `performance` record lists.
const RECENT_TRADES: usize = 10;

/// The `performance` record: the graph's results over the last 30 days, with its last trades.
fn performance(account: &Account, graph: &str, now: NaiveDateTime) -> Value {
    let (n, avg, wins) = recent_trades(account, graph, now);
    let since = now - chrono::Duration::days(30);
    let mut last: Vec<Value> = account
        .closed_trades
        .iter()
        .rev()
        .take_while(|t| t.time >= since)
        .filter(|t| t.by == graph && t.time <= now)
        .take(RECENT_TRADES)
        .map(|t| {
            Value::record([
                ("symbol", Value::Symbol(t.symbol.clone())),
                ("side", Value::Text("sell".into())),
                ("quantity", Value::Num(t.qty as f64)),
                ("pnl", Value::Num(crate::broker::to_f64(t.pnl))),
                ("date", Value::Text(t.time.to_string())),
            ])
        })
        .collect();
    last.reverse();
    Value::record([
        ("win_rate_30d", Value::Num(if n == 0 { 0.0 } else { wins as f64 / n as f64 * 100.0 })),
        ("pnl_30d", Value::Num(avg * n as f64)),
        ("trades_30d", Value::Num(n as f64)),
        ("recent_trades", Value::List(last)),
    ])
}

/// Mean sentiment, count, highest relevance and newest title of some articles.
pub fn summarize(articles: &[Article]) -> NewsSummary {
    if articles.is_empty() {
        return NewsSummary::default();
    }
    NewsSummary {
        score: articles.iter().map(|a| a.sentiment.score()).sum::<f64>() / articles.len() as f64,
        count: articles.len(),
        relevance: articles.iter().map(|a| a.relevance).fold(0.0, f64::max),
        latest_title: articles.last().map(|a| a.title.clone()).unwrap_or_default(),
    }
}

/// The `trigger` record a run sees.
pub fn trigger_value(job: &Job, market: &Market) -> Value {
    let symbol = job.symbol.and_then(|s| market.symbols.get(s));
    let price = job.symbol.and_then(|s| market.bars.get(s).copied().flatten()).map(|b| b.close);
    let mut data = BTreeMap::new();
    if let Some(s) = symbol {
        data.insert("symbol".to_string(), Value::Symbol(s.clone()));
    }
    if let Some(p) = price {
        data.insert("price".to_string(), Value::Num(p));
    }
    let now = market.now.to_string();
    data.insert("time".to_string(), Value::Text(now.clone()));
    let mut t = BTreeMap::from([
        ("kind".to_string(), Value::Text(job.trigger.kind.clone())),
        ("type".to_string(), Value::Text(job.trigger.kind.clone())),
        ("reason".to_string(), Value::Text(job.trigger.reason.clone())),
        ("time".to_string(), Value::Text(now)),
    ]);
    if let Some(s) = symbol {
        t.insert("symbol".to_string(), Value::Symbol(s.clone()));
    }
    if let Some(a) = &job.article {
        let v = a.to_value();
        data.insert("article".to_string(), v.clone());
        t.insert("article".to_string(), v);
    }
    if let Some(p) = &job.payload {
        data.insert("payload".to_string(), p.clone());
        t.insert("payload".to_string(), p.clone());
    }
    t.insert("data".to_string(), Value::Record(data));
    Value::Record(t)
}

impl Ctx<'_, '_> {
    fn now(&self) -> NaiveDateTime {
        self.market.now
    }

    /// What a graph's expressions read: the step's world with its bindings, limits and name.
    pub(crate) fn world<'a>(&'a self, locals: &'a BTreeMap<String, Value>, graph: &'a GraphPlan) -> ExecWorld<'a> {
        self.world_under(locals, graph, graph.limits.as_ref())
    }

    /// [`Ctx::world`] under the limits in force: a team's member is shown the team's.
    pub(crate) fn world_under<'a>(
        &'a self,
        locals: &'a BTreeMap<String, Value>,
        graph: &'a GraphPlan,
        limits: Option<&'a RiskLimits>,
    ) -> ExecWorld<'a> {
        ExecWorld {
            account: self.host.broker.account(),
            market: self.market,
            locals,
            limits,
            graph: Some(&graph.name),
            news: self.host.news,
            day_start_equity: self.gate.day_start_equity,
        }
    }

    /// The value of what a graph's own fills hold now: its bought shares less its sold ones,
    /// per symbol, at the last close.
    fn controlled(&self, graph: &str) -> f64 {
        let mut net: BTreeMap<usize, i64> = BTreeMap::new();
        for o in self.book.orders().iter().filter(|o| o.by == graph && o.status == crate::broker::Status::Filled) {
            let q = o.qty as i64;
            *net.entry(o.sym).or_default() += if o.side == Side::Buy { q } else { -q };
        }
        net.iter()
            .map(|(&s, &q)| q.max(0) as f64 * self.market.bars.get(s).copied().flatten().map_or(0.0, |b| b.close))
            .sum()
    }

    pub fn note(&mut self, graph: &str, message: String) {
        self.log.push(LogLine { time: self.now(), graph: graph.to_string(), message, notify: false });
    }

    fn new_execution(&mut self, job: &Job) -> Execution {
        *self.next_id += 1;
        Execution {
            id: *self.next_id,
            time: self.now(),
            graph: self.graphs[job.graph].name.clone(),
            trigger: job.trigger.clone(),
            context: None,
            prompt: None,
            llm_response: None,
            decision: None,
            calls: Vec::new(),
            validation: Vec::new(),
            path: Vec::new(),
            orders: Vec::new(),
            status: Outcome::Success,
            error: None,
            duration_ms: 0.0,
            input_tokens: 0,
            output_tokens: 0,
            cached_tokens: 0,
            cost: 0.0,
        }
    }

    /// Runs one firing of a graph to its end, and records it.
    pub fn execute(&mut self, job: &Job) -> Execution {
        let mut all = self.execute_all(std::slice::from_ref(job));
        all.pop().unwrap_or_else(|| self.new_execution(job))
    }

    /// Runs the firings of one step, in order, and records them. The first model call of each
    /// agent and workflow is sent with the others' (`Llm::complete_all`, which may run them at
    /// the same time); then each goes on in order. Teams run after, in their turn.
    pub fn execute_all(&mut self, jobs: &[Job]) -> Vec<Execution> {
        let graphs = self.graphs;
        type Paused = Option<(usize, BTreeMap<String, Value>)>;
        let mut runs: Vec<(Execution, Paused, f64)> = Vec::with_capacity(jobs.len());
        let mut requests = Vec::new();
        for job in jobs {
            let started = self.host.clock.monotonic_ms();
            let mut ex = self.new_execution(job);
            let graph = &graphs[job.graph];
            if let Some(s) = self.stats.get_mut(&graph.name) {
                s.total_executions += 1;
            }
            if graph.kind == strat_lang::ir::GraphKind::Team {
                runs.push((ex, None, started));
                continue;
            }
            let locals = if graph.reads_trigger {
                BTreeMap::from([("trigger".to_string(), trigger_value(job, self.market))])
            } else {
                BTreeMap::new()
            };
            match self.walk(job, &mut ex, locals, graph.start, None, true) {
                Walked::Done => runs.push((ex, None, started)),
                Walked::Asking { at, locals, request } => {
                    requests.push(request);
                    runs.push((ex, Some((at, locals)), started));
                }
            }
        }
        let mut replies = if requests.is_empty() { Vec::new() } else { self.host.ask_all(&requests) }.into_iter();
        let mut out = Vec::with_capacity(jobs.len());
        for (job, (mut ex, paused, started)) in jobs.iter().zip(runs) {
            let graph = &graphs[job.graph];
            let started =
                if graph.kind == strat_lang::ir::GraphKind::Team { self.host.clock.monotonic_ms() } else { started };
            match paused {
                Some((at, locals)) => {
                    let reply = replies.next().unwrap_or_else(|| {
                        Err(crate::llm::LlmError {
                            kind: crate::llm::ErrorKind::Transport,
                            message: "the model host gave fewer answers than it was asked".into(),
                        })
                    });
                    self.walk(job, &mut ex, locals, at, Some(reply), false);
                }
                None if graph.kind == strat_lang::ir::GraphKind::Team => team::run(self, job, &mut ex),
                None => {}
            }
            self.finish(&mut ex, started);
            out.push(ex);
        }
        out
    }

    /// Records an execution's duration, outcome and spending in the statistics.
    fn finish(&mut self, ex: &mut Execution, started: f64) {
        ex.duration_ms = self.host.clock.monotonic_ms() - started;
        if ex.status == Outcome::Success && ex.duration_ms > self.sandbox.max_execution_ms {
            ex.status = Outcome::Failed;
            ex.error = Some(Exceeded::Time.describe(self.sandbox));
        }
        if let Some(s) = self.stats.get_mut(&ex.graph) {
            match ex.status {
                Outcome::Rejected => s.rejected_executions += 1,
                Outcome::Failed => s.failed_executions += 1,
                Outcome::Success | Outcome::Skipped => {}
            }
            s.input_tokens += ex.input_tokens;
            s.output_tokens += ex.output_tokens;
            s.cost += ex.cost;
        }
        if let (Outcome::Failed, Some(e)) = (ex.status, &ex.error) {
            let m = format!("failed: {e}");
            self.note(&ex.graph.clone(), m);
        }
    }

    /// Walks a graph from `at` with its bindings. With `batch`, it stops at the first model
    /// call not yet answered and hands back its request; `answer` is the reply to the call it
    /// stopped at, when resuming there.
    fn walk(
        &mut self,
        job: &Job,
        ex: &mut Execution,
        mut locals: BTreeMap<String, Value>,
        mut at: usize,
        mut answer: Option<Result<crate::llm::LlmReply, crate::llm::LlmError>>,
        batch: bool,
    ) -> Walked {
        let (graphs, market) = (self.graphs, self.market);
        let graph = &graphs[job.graph];
        for _ in 0..self.sandbox.max_steps {
            // A resumed walk does not record the model call's node twice.
            if answer.is_none() {
                ex.path.push(graph.ids[at]);
            }
            let when: Option<String> = match &graph.steps[at] {
                Step::End => return Walked::Done,
                Step::Start => None,
                Step::Condition(c) => {
                    let env = market.env();
                    // An undefined value (an indicator still warming up) is not true.
                    Some(c.is_true(&env, &self.world(&locals, graph)).to_string())
                }
                Step::Switch(c) => {
                    let env = market.env();
                    Some(
                        c.value(&env, &self.world(&locals, graph))
                            .and_then(|v| v.text().map(str::to_string))
                            .unwrap_or_default(),
                    )
                }
                Step::Fetch(bind, c) => {
                    let env = market.env();
                    let v = c.value(&env, &self.world(&locals, graph));
                    if let Some(v) = v {
                        locals.insert(bind.clone(), v);
                    }
                    None
                }
                Step::Context(plan) => {
                    let trigger = locals.get("trigger").cloned().unwrap_or(Value::Record(BTreeMap::new()));
                    let env = market.env();
                    let world = self.world(&locals, graph);
                    let news = |sym: &str, window: i64| {
                        let now = news_now(market);
                        let mut out = Vec::new();
                        self.host.news.between(Some(sym), Some(now - chrono::Duration::seconds(window)), now, &mut out);
                        out
                    };
                    let extra = Extra { trigger: &trigger, previous: &[], market_open: env_open(market), news: &news };
                    ex.context = Some(plan.build(&env, &world, &extra));
                    None
                }
                Step::Llm(plan) => {
                    let decoded = match answer.take() {
                        Some(reply) => self.receive(graph, plan, reply, ex),
                        None => {
                            let context = ex.context.clone().unwrap_or_else(|| minimal_context(&locals, market));
                            if batch {
                                return match self.prepare(graph, graph.limits.as_ref(), plan, &context, &locals, ex) {
                                    Ok(request) => Walked::Asking { at, locals, request },
                                    Err(_) => Walked::Done,
                                };
                            }
                            self.ask(graph, plan, &context, &locals, ex)
                        }
                    };
                    match decoded {
                        Ok(v) => {
                            ex.decision = Some(v.to_json());
                            locals.insert(plan.bind.clone(), v);
                        }
                        Err(_) => return Walked::Done,
                    }
                    None
                }
                Step::Order(plan) => {
                    self.place(graph, plan, job, &locals, ex);
                    None
                }
                Step::Decision { from, actions } => {
                    let decision = locals.get(from).cloned();
                    self.decide(graph, decision.as_ref(), actions, job.symbol, ex);
                    None
                }
                Step::Cancel(c) => {
                    let sym = match c {
                        Some(c) => {
                            let env = market.env();
                            match c.value(&env, &self.world(&locals, graph)) {
                                Some(Value::Symbol(s)) => market.symbol(&s),
                                _ => None,
                            }
                        }
                        None => None,
                    };
                    if c.is_none() || sym.is_some() {
                        for id in self.book.pending(sym) {
                            self.host.broker.cancel(id, "cancelled by the strategy");
                        }
                    }
                    None
                }
                Step::Log(c) | Step::Notify(c) => {
                    let env = market.env();
                    let text = c.value(&env, &self.world(&locals, graph)).map(|v| v.to_string()).unwrap_or_default();
                    let text = clip(text, self.sandbox.max_text);
                    self.note(&graph.name, text);
                    if matches!(graph.steps[at], Step::Notify(_))
                        && let Some(line) = self.log.last_mut()
                    {
                        line.notify = true;
                    }
                    None
                }
                Step::AgentCall { .. } | Step::Vote { .. } | Step::Supervise { .. } | Step::Debate { .. } => {
                    ex.status = Outcome::Failed;
                    ex.error = Some("a team node outside a team".to_string());
                    return Walked::Done;
                }
            };
            match graph.next(at, when.as_deref()) {
                Some(n) => at = n,
                None => return Walked::Done,
            }
        }
        ex.status = Outcome::Failed;
        ex.error = Some(Exceeded::Steps.describe(self.sandbox));
        Walked::Done
    }

    /// Asks a model and decodes its answer. A failure is recorded on `ex` (status and error),
    /// and `Err` returned: the execution stops there, with no order.
    pub(crate) fn ask(
        &mut self,
        graph: &GraphPlan,
        plan: &LlmPlan,
        context: &serde_json::Value,
        locals: &BTreeMap<String, Value>,
        ex: &mut Execution,
    ) -> Result<Value, Stopped> {
        let request = self.prepare(graph, graph.limits.as_ref(), plan, context, locals, ex)?;
        let reply = self.host.ask_all(std::slice::from_ref(&request)).pop().unwrap_or_else(|| {
            Err(crate::llm::LlmError { kind: crate::llm::ErrorKind::Unavailable, message: "no answer".into() })
        });
        self.receive(graph, plan, reply, ex)
    }

    /// The request for a model call, once the budgets allow it (a spent budget, or a prompt
    /// too long, is recorded on `ex`); counts the call.
    pub(crate) fn prepare(
        &mut self,
        graph: &GraphPlan,
        limits: Option<&RiskLimits>,
        plan: &LlmPlan,
        context: &serde_json::Value,
        locals: &BTreeMap<String, Value>,
        ex: &mut Execution,
    ) -> Result<crate::llm::LlmRequest, Stopped> {
        let budget = self.sandbox;
        let over = if self.usage.calls >= budget.max_llm_calls {
            Some(Exceeded::LlmCalls)
        } else if budget.max_tokens.is_some_and(|m| self.usage.tokens >= m) {
            Some(Exceeded::Tokens)
        } else if budget.max_cost.is_some_and(|m| self.usage.cost >= m) {
            Some(Exceeded::Cost)
        } else {
            // The agent's own spending: its executions so far, this one included.
            let spent = self.stats.get(&ex.graph).map_or((0, 0.0), |s| (s.input_tokens + s.output_tokens, s.cost));
            let (tokens, cost) = (spent.0 + ex.input_tokens + ex.output_tokens, spent.1 + ex.cost);
            if budget.max_agent_tokens.is_some_and(|m| tokens >= m) {
                Some(Exceeded::AgentTokens)
            } else if budget.max_agent_cost.is_some_and(|m| cost >= m) {
                Some(Exceeded::AgentCost)
            } else {
                None
            }
        };
        if let Some(e) = over {
            return fail(ex, Outcome::Skipped, e.describe(budget));
        }
        let (system, strategy, stated, account) = {
            let market = self.market;
            let env = market.env();
            let world = self.world_under(locals, graph, limits);
            let text = |c: &crate::expr::Compiled| c.value(&env, &world).map(|v| v.to_string()).unwrap_or_default();
            (text(&plan.system), text(&plan.prompt), text(&plan.account), world.portfolio_record().to_json())
        };
        let prompt = final_prompt(&strategy, plan.prompt_stable, &stated, context, &plan.schema);
        if prompt.text.len() + system.len() > budget.max_text {
            return fail(ex, Outcome::Failed, Exceeded::Text.describe(budget));
        }
        let cached = cache_wanted(&plan.model).then_some(prompt.stable).filter(|_| plan.system_stable);
        let request = crate::llm::LlmRequest {
            agent: graph.name.clone(),
            model: plan.model.clone(),
            system,
            prompt: prompt.text,
            context: context.clone(),
            account,
            schema: plan.schema.clone(),
            cached_prefix: cached,
        };
        ex.prompt = Some(self.prompts.record(&request));
        self.usage.calls += 1;
        Ok(request)
    }

    /// Records a model's reply (usage, cost, the text) and decodes it into the declared type;
    /// a failed call or a reply that does not decode is recorded on `ex`.
    pub(crate) fn receive(
        &mut self,
        graph: &GraphPlan,
        plan: &LlmPlan,
        reply: Result<crate::llm::LlmReply, crate::llm::LlmError>,
        ex: &mut Execution,
    ) -> Result<Value, Stopped> {
        let reply = match reply {
            Ok(r) => r,
            Err(e) => return fail(ex, Outcome::Failed, format!("the model call failed: {e}")),
        };
        self.usage.tokens += reply.input_tokens + reply.output_tokens;
        self.usage.cost += reply.cost;
        ex.input_tokens += reply.input_tokens;
        ex.output_tokens += reply.output_tokens;
        ex.cached_tokens += reply.cached_tokens;
        ex.cost += reply.cost;
        ex.llm_response = Some(clip(reply.text.clone(), self.sandbox.max_text));
        match decode(&reply.text, &plan.output, reply.stop_reason.as_deref()) {
            Ok(v) => Ok(v),
            Err(why) => {
                let m = format!("rejected: {why}");
                self.note(&graph.name, m);
                fail(ex, Outcome::Rejected, why)
            }
        }
    }

    fn place(
        &mut self,
        graph: &GraphPlan,
        plan: &OrderPlan,
        job: &Job,
        locals: &BTreeMap<String, Value>,
        ex: &mut Execution,
    ) {
        let _ = job;
        let market = self.market;
        let env = market.env();
        let world = self.world(locals, graph);
        let Some(Value::Symbol(symbol)) = plan.symbol.value(&env, &world) else { return };
        let Some(sym) = market.symbol(&symbol) else {
            self.note(&graph.name, format!("no order: no data for {symbol}"));
            return;
        };
        let price = world.price(sym);
        let held = world.account.position(sym).map_or(0, |p| p.qty);
        let portfolio = world.portfolio();
        let num = |c: &crate::expr::Compiled| c.number(&env, &world);
        let qty: Option<f64> = match &plan.size {
            SizePlan::All => Some(held as f64),
            SizePlan::Shares(c) => num(c),
            SizePlan::Value(c) => num(c).filter(|_| price > 0.0).map(|v| v / price),
            SizePlan::Fraction(c, of) => num(c).map(|pct| {
                let share = pct / 100.0;
                match of.as_str() {
                    "position" => share * held as f64,
                    "cash" => share * portfolio.cash / price.max(f64::MIN_POSITIVE),
                    _ => share * portfolio.total_value / price.max(f64::MIN_POSITIVE),
                }
            }),
        };
        // A price the file gives is the order's, whatever it comes to: one that is undefined or
        // not above zero is refused by the gate, never dropped (a limit of $0 is no market order).
        let given = |c: &Option<crate::expr::Compiled>| c.as_ref().map(|c| num(c).unwrap_or(f64::NAN));
        let (limit, stop) = (given(&plan.limit), given(&plan.stop));
        let (sl, tp) = (given(&plan.stop_loss), given(&plan.take_profit));
        let Some(qty) = qty.map(f64::floor).filter(|q| *q >= 1.0) else {
            self.note(&graph.name, format!("no order: the size for {symbol} is under one share"));
            return;
        };
        let kind = match (limit, stop) {
            (Some(limit), Some(stop)) => Kind::StopLimit { stop, limit, triggered: false },
            (Some(limit), None) => Kind::Limit { limit },
            (None, Some(stop)) => Kind::Stop { stop },
            (None, None) => Kind::Market,
        };
        let kind = self.ticked(kind);
        let side = plan.side;
        let limits = graph.limits.as_ref();
        // Protective orders: the order's own, else those of the limits in force (buys only).
        let (stop_loss, take_profit) = if side == Side::Buy {
            (sl.or(limits.and_then(|l| l.stop_loss)), tp.or(limits.and_then(|l| l.take_profit)))
        } else {
            (None, None)
        };
        let request = Request {
            time: self.now(),
            symbol,
            sym,
            side,
            qty: qty.min(1e12) as u64,
            kind,
            tif: plan.tif,
            stop_loss,
            take_profit,
            by: graph.name.clone(),
        };
        self.submit(graph, request, gate::DecidedBy::File, ex);
    }

    /// Turns a model's decision into an order. What the model wrote is checked here, then by
    /// the risk gate: an unknown action, symbol or size is a rejection with its reason.
    pub fn decide(
        &mut self,
        graph: &GraphPlan,
        decision: Option<&Value>,
        actions: &[String],
        trigger_symbol: Option<usize>,
        ex: &mut Execution,
    ) {
        let name = graph.name.clone();
        let reject = |ctx: &mut Self, ex: &mut Execution, why: String| {
            ctx.note(&name, format!("rejected: {why}"));
            ex.status = Outcome::Rejected;
            ex.error = Some(why);
        };
        let Some(Value::Record(d)) = decision else {
            return reject(self, ex, "no decision to act on".to_string());
        };
        let reasoning = d.get("reasoning").and_then(Value::text).unwrap_or("").to_string();
        let action = d.get("decision").and_then(Value::text).unwrap_or("hold").to_string();
        if action == "hold" {
            self.note(&graph.name, format!("hold: {reasoning}"));
            return;
        }
        let side = match action.as_str() {
            "buy" => Side::Buy,
            "sell" => Side::Sell,
            other => return reject(self, ex, format!("`{other}` is not an action")),
        };
        if !actions.contains(&action) {
            return reject(self, ex, format!("`{action}` is not among the agent's actions"));
        }
        let symbol = match d.get("symbol") {
            Some(Value::Symbol(s)) if !s.is_empty() => s.clone(),
            _ => match trigger_symbol.and_then(|s| self.market.symbols.get(s)) {
                Some(s) => s.clone(),
                None => return reject(self, ex, "the decision names no symbol".to_string()),
            },
        };
        let Some(sym) = self.market.symbol(&symbol) else {
            return reject(self, ex, format!("no price for `{symbol}`"));
        };
        let qty = match d.get("quantity") {
            Some(Value::Num(q)) if q.is_finite() && *q >= 1.0 && q.fract() == 0.0 && *q <= 1e9 => *q as u64,
            other => {
                let shown = other.map_or("nothing".to_string(), |v| v.to_string());
                return reject(self, ex, format!("quantity {shown} is not a whole number of shares from 1 to 10^9"));
            }
        };
        let kind = match (d.get("order_type").and_then(Value::text), d.get("limit_price")) {
            (Some("limit"), Some(Value::Num(l))) if *l > 0.0 && l.is_finite() => Kind::Limit { limit: *l },
            (Some("limit"), _) => return reject(self, ex, "a limit order without a positive limit_price".to_string()),
            _ => Kind::Market,
        };
        let kind = self.ticked(kind);
        let confidence = match d.get("confidence") {
            None => None,
            Some(Value::Num(c)) if (0.0..=1.0).contains(c) => Some(*c),
            Some(other) => return reject(self, ex, format!("confidence {other} is not a number from 0 to 1")),
        };
        self.note(&graph.name, format!("{action} {qty} {symbol}: {reasoning}"));
        let limits = graph.limits.as_ref();
        let request = Request {
            time: self.now(),
            symbol,
            sym,
            side,
            qty,
            kind,
            tif: Tif::Day,
            stop_loss: if side == Side::Buy { limits.and_then(|l| l.stop_loss) } else { None },
            take_profit: if side == Side::Buy { limits.and_then(|l| l.take_profit) } else { None },
            by: graph.name.clone(),
        };
        if !self.submit(graph, request, gate::DecidedBy::Model { confidence }, ex) {
            ex.status = Outcome::Rejected;
        }
    }

    /// Sends an order through the risk gate to the broker, recording the verdict; a refusal
    /// is recorded as a rejected order with its reason. Returns whether it was sent.
    fn submit(&mut self, graph: &GraphPlan, request: Request, decided_by: gate::DecidedBy, ex: &mut Execution) -> bool {
        let market = self.market;
        let account = self.host.broker.account();
        let env = market.env();
        let sym = request.sym;
        let price = self.market.bars.get(sym).copied().flatten().map_or(0.0, |b| b.close);
        let equity = account.equity_f64(|s| self.market.bars.get(s).copied().flatten().map_or(0.0, |b| b.close));
        let slot = |v: &[Option<u32>]| v.get(sym).copied().flatten().and_then(|s| env.series.get(s));
        let days = if self.market.intervals.get(sym).is_some_and(|i| *i < 20 * 3600) {
            23_400.0 / self.market.intervals[sym].max(1) as f64
        } else {
            1.0
        };
        let facts = gate::Facts {
            price,
            held: account.position(sym).map_or(0, |p| p.qty),
            equity,
            cash: account.cash_f64(),
            peak_equity: self.gate.peak_equity.max(equity),
            vix: self.gate.vix.and_then(|v| self.market.bars.get(v).copied().flatten()).map(|b| b.close),
            intraday: self.gate.intraday,
            market_open: env_open(self.market),
            placed_today: self.book.placed_on(&graph.name, request.time.date()),
            today: request.time.date(),
            decided_by,
            volatility: slot(&self.gate.volatility),
            avg_volume: slot(&self.gate.avg_volume).map(|v| v * days),
            recent_trades: {
                let (n, avg, _) = recent_trades(account, &graph.name, self.market.now);
                (n, avg)
            },
            allocation: graph.share.map(|share| (share, self.controlled(&graph.name))),
        };
        let verdict = gate::check(graph.limits.as_ref(), &request, &facts);
        let approved = verdict.approved;
        let reason = verdict.reason().map(str::to_string);
        ex.validation.push(verdict);
        let id = match reason {
            Some(why) if !approved => {
                if let Some(s) = self.stats.get_mut(&graph.name) {
                    s.refused += 1;
                }
                self.book.refuse(request, why)
            }
            _ => {
                let id = self.book.open(request);
                if let Some(o) = self.book.get(id).cloned()
                    && let Err(reason) = self.host.send(&o)
                {
                    self.book.apply(&[Update::Rejected { id, reason }]);
                }
                id
            }
        };
        ex.orders.push(id);
        approved
    }
}

/// The instant news is read up to. A daily bar is stamped with its day but stands for the whole
/// session, so news up to its close counts as known at its step.
pub fn news_now(market: &Market) -> NaiveDateTime {
    if market.daily {
        let day = market.now.date();
        let close = crate::market::calendar::session(day).map_or(crate::market::calendar::CLOSE, |(_, c)| c);
        day.and_time(close)
    } else {
        market.now
    }
}

/// Why an execution stopped before its end: how it ended and the reason, as recorded on it.
#[derive(Debug, Clone, PartialEq)]
pub struct Stopped {
    pub status: Outcome,
    pub reason: String,
}

/// Records an outcome on an execution and stops it.
fn fail<T>(ex: &mut Execution, status: Outcome, error: String) -> Result<T, Stopped> {
    ex.status = status;
    ex.error = Some(error.clone());
    Err(Stopped { status, reason: error })
}

/// Whether the market is open now (daily data: every bar is a session).
fn env_open(market: &Market) -> bool {
    market.daily || crate::market::calendar::is_open(market.now)
}

/// What a model sees when its graph builds no context (an `ask` in a workflow).
fn minimal_context(locals: &BTreeMap<String, Value>, market: &Market) -> serde_json::Value {
    serde_json::json!({
        "timestamp": market.now.to_string(),
        "trigger": locals.get("trigger").map_or(serde_json::Value::Null, Value::to_json),
    })
}

/// Cuts a text to at most `max` bytes, on a character boundary.
fn clip(mut text: String, max: usize) -> String {
    if text.len() > max {
        let mut at = max;
        while !text.is_char_boundary(at) {
            at -= 1;
        }
        text.truncate(at);
        text.push('…');
    }
    text
}

impl Ctx<'_, '_> {
    /// An order's prices in the broker's increments.
    fn ticked(&self, kind: Kind) -> Kind {
        let t = |p: f64| self.host.broker.tick(p);
        match kind {
            Kind::Market => Kind::Market,
            Kind::Limit { limit } => Kind::Limit { limit: t(limit) },
            Kind::Stop { stop } => Kind::Stop { stop: t(stop) },
            Kind::StopLimit { stop, limit, triggered } => Kind::StopLimit { stop: t(stop), limit: t(limit), triggered },
        }
    }
}

/// Whether a model's calls mark their stable prefix for the provider's cache: its `cache`
/// setting, true unless set to false.
fn cache_wanted(model: &crate::llm::ModelSpec) -> bool {
    model.params.get("cache").and_then(serde_json::Value::as_bool).unwrap_or(true)
}
