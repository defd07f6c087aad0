//! One graph of the IR compiled to the steps the executor walks: each node's expressions
//! compiled against the market, model calls and orders resolved, agents named by index.

use super::{GraphPlan, LlmPlan, OrderPlan, SizePlan, Step, ir_number, steps_read_trigger};
use crate::broker::{Side, Tif};
use crate::context::ContextPlan;
use crate::expr::{Compiled, Compiler, Market};
use crate::gate::RiskLimits;
use crate::llm::ModelSpec;
use std::collections::BTreeMap;
use strat_lang::ir::{self, Action, Expr, GraphKind, NodeKind, Program};

/// What every graph is compiled with.
pub(super) struct Build<'p> {
    pub program: &'p Program,
    /// Each graph's index by name.
    pub names: BTreeMap<&'p str, usize>,
    /// The stdlib's default system prompt, for agents that give none.
    pub system_prompt: Vec<ir::Part>,
    /// The stdlib's statement of the account, in every model call.
    pub account_prompt: Vec<ir::Part>,
}

/// What the compiled graphs need of the whole run.
#[derive(Debug, Default)]
pub(super) struct Needs {
    /// Some graph calls a model.
    pub model: bool,
    /// Some limit reads volatility.
    pub volatility: bool,
    /// Some limit reads average volume.
    pub liquidity: bool,
}

impl Build<'_> {
    /// Compiles graph `g`; an error is what its nodes ask that the market cannot give.
    pub(super) fn graph(
        &self,
        g: &ir::Graph,
        market: &mut Market,
        needs: &mut Needs,
        warnings: &mut Vec<String>,
    ) -> Result<GraphPlan, String> {
        let mut c = Compiler::new(market, &self.program.universes);
        let steps =
            g.nodes.iter().map(|n| self.step(&n.kind, &mut c, needs, warnings)).collect::<Result<Vec<_>, _>>()?;
        let pos: BTreeMap<u32, usize> = g.nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
        let mut edges = vec![Vec::new(); g.nodes.len()];
        for e in &g.edges {
            if let (Some(&a), Some(&b)) = (pos.get(&e.from), pos.get(&e.to)) {
                edges[a].push((e.when.clone(), b));
            }
        }
        let agent = match g.kind {
            GraphKind::Agent => {
                let ctx = steps.iter().position(|s| matches!(s, Step::Context(_)));
                let llm = steps.iter().position(|s| matches!(s, Step::Llm(_)));
                ctx.zip(llm)
            }
            _ => None,
        };
        let limits = g.limits.as_deref().and_then(|l| self.program.limits.get(l)).map(RiskLimits::from_ir);
        if let Some(l) = &limits {
            needs.volatility |= l.max_volatility.is_some();
            needs.liquidity |= l.min_liquidity.is_some();
            if l.max_vix.is_some() && market.symbol("VIX").is_none() {
                warnings.push(format!(
                    "`{}`: max_vix cannot be evaluated without VIX data, so every buy is refused: add `--data VIX=PATH`",
                    g.name
                ));
            }
            if l.min_liquidity.is_some() {
                for (s, _) in market.without_volume.iter().enumerate().filter(|(_, none)| **none) {
                    warnings.push(format!(
                        "`{}`: min_liquidity cannot be evaluated for {} (its data has no volume column), so its buys are refused",
                        g.name, market.symbols[s]
                    ));
                }
            }
            if l.max_sector_exposure.is_some() {
                warnings.push(format!(
                    "`{}`: max_sector_exposure cannot be evaluated without sector data, so every buy is refused",
                    g.name
                ));
            }
        }
        Ok(GraphPlan {
            name: g.name.clone(),
            kind: g.kind,
            overlap: g.overlap,
            start: pos.get(&g.start).copied().unwrap_or(0),
            ids: g.nodes.iter().map(|n| n.id).collect(),
            reads_trigger: g.kind == GraphKind::Team || steps_read_trigger(&steps),
            steps,
            edges,
            limits,
            agent,
            share: None,
            description: g.description.clone(),
            role: g.role.clone(),
        })
    }

    /// One node as a step.
    fn step(
        &self,
        kind: &NodeKind,
        c: &mut Compiler<'_>,
        needs: &mut Needs,
        warnings: &mut Vec<String>,
    ) -> Result<Step, String> {
        Ok(match kind {
            NodeKind::Start => Step::Start,
            NodeKind::End => Step::End,
            NodeKind::Condition { expr } => Step::Condition(c.compile(expr)?),
            NodeKind::Switch { expr } => Step::Switch(c.compile(expr)?),
            NodeKind::DataFetch { bind, expr } => Step::Fetch(bind.clone(), c.compile(expr)?),
            NodeKind::Context { sources } => {
                Step::Context(ContextPlan::new(sources, &self.program.universes, c, warnings)?)
            }
            NodeKind::Llm { bind, model, system, prompt, output } => {
                needs.model = true;
                Step::Llm(Box::new(self.model_call(c, bind, model, system.as_deref(), prompt, output)?))
            }
            NodeKind::Action { action } => action_step(action, c)?,
            NodeKind::AgentCall { agent, bind } => {
                needs.model = true;
                Step::AgentCall { agent: self.index_of(agent)?, bind: bind.clone() }
            }
            NodeKind::Vote { rule, members } => Step::Vote { rule: rule.clone(), members: members.clone() },
            NodeKind::Supervise { agent, proposals } => {
                Step::Supervise { agent: self.index_of(agent)?, proposals: proposals.clone() }
            }
            NodeKind::Debate { members, rounds, fallback } => Step::Debate {
                members: members.iter().map(|m| Ok((m.clone(), self.index_of(m)?))).collect::<Result<_, String>>()?,
                rounds: *rounds,
                fallback: fallback.clone(),
            },
        })
    }

    /// A model call: the model the file declares (the offline stand-in when it declares none),
    /// the system prompt (the stdlib's default when the agent gives none), the prompt, and the
    /// answer's type with its JSON Schema.
    fn model_call(
        &self,
        c: &mut Compiler<'_>,
        bind: &str,
        model: &str,
        system: Option<&[ir::Part]>,
        prompt: &[ir::Part],
        output: &ir::Type,
    ) -> Result<LlmPlan, String> {
        let m = self.program.models.get(model);
        let spec = ModelSpec {
            name: model.to_string(),
            provider: m.map_or_else(|| "offline".to_string(), |m| m.provider.clone()),
            model: m.map_or_else(|| "rules".to_string(), |m| m.model.clone()),
            params: m.map(|m| m.params.iter().map(|(k, v)| (k.clone(), ir_number(v))).collect()).unwrap_or_default(),
        };
        let system = system.unwrap_or(&self.system_prompt);
        Ok(LlmPlan {
            bind: bind.to_string(),
            model: spec,
            system: c.template(system)?,
            prompt: c.template(prompt)?,
            account: c.template(&self.account_prompt)?,
            system_stable: same_every_call(system),
            prompt_stable: same_every_call(prompt),
            schema: crate::decode::schema(output),
            output: output.clone(),
        })
    }

    /// The index of the agent a team or workflow names.
    fn index_of(&self, agent: &str) -> Result<usize, String> {
        self.names.get(agent).copied().ok_or_else(|| format!("no agent `{agent}`"))
    }
}

/// Whether a template renders the same text on every call of one graph: its placeholders read
/// nothing but constants and the graph's `limits` (no market data, account, trigger or local).
fn same_every_call(parts: &[ir::Part]) -> bool {
    parts.iter().all(|p| match p {
        ir::Part::Text(_) => true,
        ir::Part::Expr(e) => {
            let mut same = true;
            super::visit(e, &mut |x| {
                same &= match x {
                    Expr::Local { .. } | Expr::Call { .. } => false,
                    Expr::Global { name } => name == "limits",
                    Expr::Text { value } => same_every_call(value),
                    _ => true,
                }
            });
            same
        }
    })
}

/// An action node as a step: an order, a decision to execute, a cancel, a log line or a
/// notification.
fn action_step(action: &Action, c: &mut Compiler<'_>) -> Result<Step, String> {
    Ok(match action {
        Action::Order { side, symbol, size, limit, stop, stop_loss, take_profit, tif } => {
            let size = match size {
                ir::Size::All => SizePlan::All,
                ir::Size::Shares { expr } => SizePlan::Shares(c.compile(expr)?),
                ir::Size::Value { expr } => SizePlan::Value(c.compile(expr)?),
                ir::Size::Fraction { expr, of } => SizePlan::Fraction(c.compile(expr)?, of.clone()),
            };
            let symbol = c.compile(symbol)?;
            let mut opt =
                |e: &Option<Expr>| -> Result<Option<Compiled>, String> { e.as_ref().map(|e| c.compile(e)).transpose() };
            Step::Order(Box::new(OrderPlan {
                side: if side == "buy" { Side::Buy } else { Side::Sell },
                symbol,
                size,
                limit: opt(limit)?,
                stop: opt(stop)?,
                stop_loss: opt(stop_loss)?,
                take_profit: opt(take_profit)?,
                tif: Tif::parse(tif),
            }))
        }
        Action::ExecuteDecision { from, actions } => Step::Decision { from: from.clone(), actions: actions.clone() },
        Action::Cancel { symbol } => Step::Cancel(symbol.as_ref().map(|e| c.compile(e)).transpose()?),
        Action::Log { message } => Step::Log(c.template(message)?),
        Action::Notify { message } => Step::Notify(c.template(message)?),
    })
}
