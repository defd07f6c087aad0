//! A checked program made ready to run on one market: every expression compiled, every trigger
//! indexed, every graph's nodes resolved to steps.

use crate::broker::{Side, Tif};
use crate::context::ContextPlan;
use crate::expr::{Compiled, Compiler, Market};
use crate::gate::RiskLimits;
use crate::llm::ModelSpec;
use crate::news::{Filter, Sentiment};
use crate::trigger::{Schedule, Triggers};
use std::collections::{BTreeMap, BTreeSet};
use strat_lang::ir::{self, Expr, GraphKind, NodeKind, Program, TriggerKind};

mod steps;

pub enum SizePlan {
    All,
    Shares(Compiled),
    Value(Compiled),
    Fraction(Compiled, String),
}

pub struct OrderPlan {
    pub side: Side,
    pub symbol: Compiled,
    pub size: SizePlan,
    pub limit: Option<Compiled>,
    pub stop: Option<Compiled>,
    pub stop_loss: Option<Compiled>,
    pub take_profit: Option<Compiled>,
    pub tif: Tif,
}

/// A model call: the agent's `prompt`, its `system` (or the default), and its answer's type.
pub struct LlmPlan {
    pub bind: String,
    pub model: ModelSpec,
    pub system: Compiled,
    pub prompt: Compiled,
    /// The account as the call states it ([`strat_stdlib::ACCOUNT_PROMPT`]).
    pub account: Compiled,
    /// Whether the system prompt, and the prompt, render the same text on every call of the
    /// graph (what a provider's prompt cache can hold).
    pub system_stable: bool,
    pub prompt_stable: bool,
    pub output: ir::Type,
    pub schema: serde_json::Value,
}

pub enum Step {
    Start,
    End,
    Condition(Compiled),
    Switch(Compiled),
    Fetch(String, Compiled),
    Context(ContextPlan),
    Llm(Box<LlmPlan>),
    Order(Box<OrderPlan>),
    Decision { from: String, actions: Vec<String> },
    Cancel(Option<Compiled>),
    Log(Compiled),
    Notify(Compiled),
    AgentCall { agent: usize, bind: String },
    Vote { rule: String, members: Vec<String> },
    Supervise { agent: usize, proposals: Vec<String> },
    Debate { members: Vec<(String, usize)>, rounds: u32, fallback: String },
}

pub struct GraphPlan {
    pub name: String,
    pub kind: GraphKind,
    pub overlap: ir::Overlap,
    pub start: usize,
    pub ids: Vec<u32>,
    pub steps: Vec<Step>,
    /// Outgoing edges per step: `(when, to)`.
    pub edges: Vec<Vec<(Option<String>, usize)>>,
    pub limits: Option<RiskLimits>,
    /// For agents: the context and model call its team members reuse.
    pub agent: Option<(usize, usize)>,
    /// For a team's member: its share of the portfolio, percent (`allocate`, or an equal split).
    pub share: Option<f64>,
    /// Whether a walk can read the `trigger` record (otherwise it is not built).
    pub reads_trigger: bool,
    /// Its `description` and (for an agent) `role`, as written.
    pub description: Option<String>,
    pub role: Option<String>,
}

impl GraphPlan {
    /// The step an edge leads to from `from`, for an outcome `when` (`true`, a variant, …).
    pub fn next(&self, from: usize, when: Option<&str>) -> Option<usize> {
        let mut fallback = None;
        for (w, to) in self.edges.get(from)? {
            match (w.as_deref(), when) {
                (None, _) => fallback = fallback.or(Some(*to)),
                (Some(w), Some(x)) if w == x => return Some(*to),
                (Some("otherwise"), _) => fallback = fallback.or(Some(*to)),
                _ => {}
            }
        }
        fallback
    }
}

pub struct Plan {
    pub graphs: Vec<GraphPlan>,
    pub triggers: Triggers,
    pub warnings: Vec<String>,
    pub uses_model: bool,
    /// Limit settings that ask for data per symbol: volatility and average volume slots.
    pub volatility: Vec<Option<u32>>,
    pub avg_volume: Vec<Option<u32>>,
}

fn ir_number(v: &ir::Value) -> serde_json::Value {
    match v {
        ir::Value::Number { value, .. } => match value.parse::<f64>() {
            Ok(v) if v.fract() == 0.0 && v.abs() < 1e15 => serde_json::Value::from(v as i64),
            Ok(v) => serde_json::Value::from(v),
            Err(_) => serde_json::Value::Null,
        },
        ir::Value::Bool { value } => serde_json::Value::Bool(*value),
        ir::Value::Text { value } => serde_json::Value::String(value.clone()),
        ir::Value::Symbols { value } => serde_json::Value::from(value.clone()),
    }
}

/// Calls `f` on `e` and every expression inside it.
fn visit(e: &Expr, f: &mut impl FnMut(&Expr)) {
    f(e);
    match e {
        Expr::Call { args, .. } => args.iter().for_each(|a| visit(a, f)),
        Expr::List { items } => items.iter().for_each(|a| visit(a, f)),
        Expr::Field { base, .. } => visit(base, f),
        Expr::Not { operand } | Expr::Neg { operand } => visit(operand, f),
        Expr::Binary { lhs, rhs, .. } => {
            visit(lhs, f);
            visit(rhs, f);
        }
        _ => {}
    }
}

/// Why a program cannot run against a market.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PlanError {
    /// The stdlib's default system prompt or account statement is not a template (a defect of
    /// strat, not the file).
    SystemPrompt(String),
    /// A graph asks for something the market cannot give, or names what does not exist.
    Graph { graph: String, reason: String },
}

impl std::fmt::Display for PlanError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            PlanError::SystemPrompt(reason) => write!(f, "the default system prompt: {reason}"),
            PlanError::Graph { graph, reason } => write!(f, "`{graph}`: {reason}"),
        }
    }
}

impl std::error::Error for PlanError {}

impl Plan {
    /// Compiles `program` against `market`. Errors are things the program asks that the market
    /// cannot give (`vix()` without VIX data, say).
    pub fn new(program: &Program, market: &mut Market) -> Result<Plan, PlanError> {
        let system_prompt =
            crate::context::parse_template(strat_stdlib::DEFAULT_SYSTEM_PROMPT).map_err(PlanError::SystemPrompt)?;
        let account_prompt =
            crate::context::parse_template(strat_stdlib::ACCOUNT_PROMPT).map_err(PlanError::SystemPrompt)?;
        let names = program.graphs.iter().enumerate().map(|(i, g)| (g.name.as_str(), i)).collect();
        let build = steps::Build { program, names, system_prompt, account_prompt };
        let mut warnings = Vec::new();
        let mut triggers = Triggers::new(market.symbols.len());
        let mut needs = steps::Needs::default();
        let mut graphs = Vec::with_capacity(program.graphs.len());
        for (gi, g) in program.graphs.iter().enumerate() {
            let plan = build.graph(g, market, &mut needs, &mut warnings);
            graphs.push(plan.map_err(|reason| PlanError::Graph { graph: g.name.clone(), reason })?);
            add_triggers(&mut triggers, gi as u32, g, program, market, &mut warnings)?;
        }
        for (agent, share) in shares(program) {
            if let Some(g) = graphs.iter_mut().find(|g| g.name == agent) {
                g.share = Some(share);
            }
        }
        triggers.seal();
        let (volatility, avg_volume) = gate_slots(market, &needs);
        warnings.sort();
        warnings.dedup();
        Ok(Plan { graphs, triggers, warnings, uses_model: needs.model, volatility, avg_volume })
    }
}

/// The slots of the indicators the gate's volatility and liquidity checks read (20 days of
/// each symbol), when some limit asks for them.
fn gate_slots(market: &mut Market, needs: &steps::Needs) -> (Vec<Option<u32>>, Vec<Option<u32>>) {
    let per_symbol = |want: bool, key: &str, make: &dyn Fn(i64) -> crate::expr::Indicator, market: &mut Market| {
        (0..market.symbols.len())
            .map(|s| {
                want.then(|| {
                    let interval = market.intervals[s];
                    market.series.register(s, key.to_string(), || make(interval))
                })
            })
            .collect::<Vec<_>>()
    };
    let days = |interval: i64| crate::expr::window_bars(20.0 * 86_400.0, interval);
    let volatility = per_symbol(
        needs.volatility,
        "gate|volatility",
        &|i| crate::expr::Indicator::Volatility {
            prev: None,
            sd: strat_stdlib::indicators::StdDev::new(days(i)),
            per_year: crate::market::calendar::bars_a_year(i),
        },
        market,
    );
    let avg_volume = per_symbol(
        needs.liquidity,
        "gate|avg_volume",
        &|i| crate::expr::Indicator::AvgVolume(strat_stdlib::indicators::Sma::new(days(i))),
        market,
    );
    (volatility, avg_volume)
}

fn shares(program: &Program) -> BTreeMap<String, f64> {
    let mut out: BTreeMap<String, f64> = BTreeMap::new();
    for team in program.graphs.iter().filter(|g| g.kind == GraphKind::Team) {
        let mut members: Vec<&str> = Vec::new();
        for n in &team.nodes {
            let names: Vec<&str> = match &n.kind {
                NodeKind::AgentCall { agent, .. } => vec![agent.as_str()],
                NodeKind::Debate { members, .. } => members.iter().map(String::as_str).collect(),
                _ => Vec::new(),
            };
            for m in names {
                if !members.contains(&m) {
                    members.push(m);
                }
            }
        }
        let given: BTreeMap<&str, f64> =
            team.allocation.iter().filter_map(|(m, v)| Some((m.as_str(), v.parse::<f64>().ok()?))).collect();
        let rest = members.iter().filter(|m| !given.contains_key(**m)).count();
        let left = (100.0 - given.values().sum::<f64>()).max(0.0);
        for m in members {
            let share = given.get(m).copied().unwrap_or(if rest > 0 { left / rest as f64 } else { 0.0 });
            let e = out.entry(m.to_string()).or_insert(share);
            *e = e.min(share);
        }
    }
    out
}

fn add_triggers(
    triggers: &mut Triggers,
    gi: u32,
    g: &ir::Graph,
    program: &Program,
    market: &mut Market,
    warnings: &mut Vec<String>,
) -> Result<(), PlanError> {
    for (n, t) in g.triggers.iter().enumerate() {
        triggers.declaring = u32::try_from(n).unwrap_or(u32::MAX);
        let throttles = &t.throttles;
        match &t.kind {
            TriggerKind::Bar { symbols, seconds } => {
                for s in symbols {
                    match market.symbol(s) {
                        Some(i) => {
                            let len = i64::try_from(*seconds).unwrap_or(86_400);
                            triggers.add_bar(gi, i, len, format!("bar({s}, {seconds}s)"), throttles, t.market_hours);
                        }
                        None => warnings.push(format!("no data for `{s}`: add `--data {s}=PATH`; it is left out")),
                    }
                }
            }
            TriggerKind::Condition { expr } => {
                let mut sets = BTreeSet::new();
                let mut tickers = BTreeSet::new();
                visit(expr, &mut |x| match x {
                    Expr::Universe { name } => {
                        sets.insert(name.clone());
                    }
                    Expr::Symbol { value } => {
                        tickers.insert(value.clone());
                    }
                    _ => {}
                });
                let mut c = Compiler::new(market, &program.universes);
                match sets.into_iter().next() {
                    None => {
                        let compiled =
                            c.compile(expr).map_err(|reason| PlanError::Graph { graph: g.name.clone(), reason })?;
                        // A condition on one ticker is about that ticker (`trigger.symbol`).
                        let symbol = if tickers.len() == 1 {
                            tickers.iter().next().and_then(|s| market.symbol(s))
                        } else {
                            None
                        };
                        triggers.add_condition(
                            gi,
                            symbol,
                            expr.to_string(),
                            compiled,
                            throttles,
                            t.market_hours,
                            market,
                        );
                    }
                    // A condition over a universe is evaluated once per member symbol.
                    Some(u) => {
                        for sym in program.universes.get(&u).into_iter().flatten() {
                            let Some(i) = market.symbol(sym) else {
                                warnings.push(format!("no data for `{sym}`: add `--data {sym}=PATH`; it is left out"));
                                continue;
                            };
                            let lifted = expr
                                .replaced(&Expr::Universe { name: u.clone() }, &Expr::Symbol { value: sym.clone() });
                            let mut c = Compiler::new(market, &program.universes);
                            let compiled = c
                                .compile(&lifted)
                                .map_err(|reason| PlanError::Graph { graph: g.name.clone(), reason })?;
                            triggers.add_condition(
                                gi,
                                Some(i),
                                lifted.to_string(),
                                compiled,
                                throttles,
                                t.market_hours,
                                market,
                            );
                        }
                    }
                }
            }
            TriggerKind::Schedule { cron, tz } => match Schedule::parse(cron, tz) {
                Some(s) => {
                    triggers.add_schedule(gi, s, format!("schedule \"{cron}\" tz \"{tz}\""), throttles, t.market_hours)
                }
                None => warnings.push(format!("`{}`: schedule \"{cron}\" in {tz} cannot be read", g.name)),
            },
            TriggerKind::News { keywords, symbols, sentiment, min_relevance } => {
                let sentiment = match sentiment.as_deref() {
                    Some("positive") => Some(Sentiment::Positive),
                    Some("negative") => Some(Sentiment::Negative),
                    Some("neutral") => Some(Sentiment::Neutral),
                    _ => None,
                };
                let filter = Filter {
                    keywords: keywords.clone(),
                    symbols: symbols.clone(),
                    sentiment,
                    min_relevance: min_relevance.as_deref().and_then(|m| m.parse().ok()).unwrap_or(0.0),
                };
                let text = format!("news(keywords: {keywords:?}, symbols: {symbols:?})");
                triggers.add_news(gi, filter, text, throttles, t.market_hours);
            }
            // Fired from outside, through the host's control (a service's webhooks).
            TriggerKind::Webhook { .. } | TriggerKind::Manual => {}
        }
    }
    Ok(())
}

/// The symbols a graph's triggers are about (tickers and universe members, in order), for
/// starting it by hand without naming one.
pub fn trigger_symbols(program: &Program, graph: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut add = |s: &str| {
        if !out.iter().any(|x| x == s) {
            out.push(s.to_string());
        }
    };
    for g in program.graphs.iter().filter(|g| g.name == graph) {
        for t in &g.triggers {
            match &t.kind {
                TriggerKind::Condition { expr } => visit(expr, &mut |e| match e {
                    Expr::Symbol { value } => add(value),
                    Expr::Universe { name } => program.universes.get(name).into_iter().flatten().for_each(|s| add(s)),
                    _ => {}
                }),
                TriggerKind::Bar { symbols, .. } | TriggerKind::News { symbols, .. } => {
                    symbols.iter().for_each(|s| add(s))
                }
                _ => {}
            }
        }
    }
    out
}

/// Whether any of these steps can read `trigger`: a model call or a context (their prompts and
/// snapshots show it), a call of an agent or a team step, or an expression that names it.
fn steps_read_trigger(steps: &[Step]) -> bool {
    let names = |c: &Compiled| c.reads_local("trigger");
    steps.iter().any(|s| match s {
        Step::Start | Step::End | Step::Decision { .. } => false,
        Step::Condition(c) | Step::Switch(c) | Step::Fetch(_, c) | Step::Log(c) | Step::Notify(c) => names(c),
        Step::Cancel(c) => c.as_ref().is_some_and(names),
        Step::Order(o) => {
            let size = match &o.size {
                SizePlan::All => None,
                SizePlan::Shares(c) | SizePlan::Value(c) | SizePlan::Fraction(c, _) => Some(c),
            };
            [Some(&o.symbol), size, o.limit.as_ref(), o.stop.as_ref(), o.stop_loss.as_ref(), o.take_profit.as_ref()]
                .into_iter()
                .flatten()
                .any(names)
        }
        Step::Context(_)
        | Step::Llm(_)
        | Step::AgentCall { .. }
        | Step::Vote { .. }
        | Step::Supervise { .. }
        | Step::Debate { .. } => true,
    })
}
