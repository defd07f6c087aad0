//! Teams: members answer through their own context and model, the coordination mode combines
//! the answers, and the result is executed like an agent's decision.
//!
//! - sequential: members in order, each seeing the earlier decisions (and their fields as
//!   inputs); the run stops at a member that holds;
//! - parallel: every member answers on the same context; a vote decides (majority, unanimous
//!   or weighted by confidence; a tie holds);
//! - hierarchical: members propose, the supervisor sees the proposals and decides;
//! - consensus: rounds in which every member sees the previous round's answers, until all
//!   agree or the rounds run out; then the fallback vote.

use super::{Ctx, Job, Stopped, fail, trigger_value};
use crate::context::Extra;
use crate::plan::Step;
use crate::report::{Execution, MemberCall, Outcome};
use crate::value::Value;
use serde_json::{Value as J, json};
use std::collections::BTreeMap;

fn decision_of(v: &Value) -> &str {
    v.field("decision").and_then(Value::text).unwrap_or("")
}

/// Asks member agents, each through its own context and model, given the earlier decisions:
/// their calls go to the model host together (`Llm::complete_all`, which may run them at the
/// same time). A failure is recorded on `ex` and `Err` returned.
fn ask(
    ctx: &mut Ctx<'_, '_>,
    job: &Job,
    agents: &[usize],
    previous: &[J],
    inputs: &BTreeMap<String, Value>,
    ex: &mut Execution,
) -> Result<Vec<Value>, Stopped> {
    let graphs = ctx.graphs;
    let market = ctx.market;
    let trigger = trigger_value(job, market);
    // The team's orders are judged by its limits: those are the ones its members are shown.
    let team_limits = graphs[job.graph].limits.as_ref();
    let mut locals = inputs.clone();
    locals.insert("trigger".to_string(), trigger.clone());
    let mut requests = Vec::with_capacity(agents.len());
    let mut contexts = Vec::with_capacity(agents.len());
    for &agent in agents {
        let member = &graphs[agent];
        let in_force = team_limits.or(member.limits.as_ref());
        let Some((c, l)) = member.agent else {
            return fail(ex, Outcome::Failed, format!("member `{}` asks no model", member.name));
        };
        let (Step::Context(plan), Step::Llm(llm)) = (&member.steps[c], &member.steps[l]) else {
            return fail(ex, Outcome::Failed, format!("member `{}` has no context and model steps", member.name));
        };
        let context = {
            let env = market.env();
            let news = |sym: &str, window: i64| {
                let mut out = Vec::new();
                let now = super::news_now(market);
                ctx.host.news.between(Some(sym), Some(now - chrono::Duration::seconds(window)), now, &mut out);
                out
            };
            let open = market.daily || crate::market::calendar::is_open(market.now);
            let extra = Extra { trigger: &trigger, previous, market_open: open, news: &news };
            plan.build(&env, &ctx.world_under(&locals, member, in_force), &extra)
        };
        requests.push(ctx.prepare(member, in_force, llm, &context, &locals, ex)?);
        contexts.push(context);
    }
    let replies = ctx.host.ask_all(&requests);
    let mut answers = Vec::with_capacity(agents.len());
    for ((&agent, context), reply) in agents.iter().zip(contexts).zip(replies) {
        let member = &graphs[agent];
        let Some(llm) = member.agent.and_then(|(_, l)| match &member.steps[l] {
            Step::Llm(llm) => Some(llm),
            _ => None,
        }) else {
            return fail(ex, Outcome::Failed, format!("member `{}` asks no model", member.name));
        };
        ex.prompt = requests.iter().find(|r| r.agent == member.name).map(|r| ctx.prompts.record(r));
        let before = (ex.input_tokens, ex.output_tokens, ex.cost);
        let answer = ctx.receive(member, llm, reply, ex);
        count_member(ctx, &member.name, before, answer.is_ok(), ex);
        ex.calls.push(MemberCall {
            agent: member.name.clone(),
            context,
            prompt: ex.prompt.take().unwrap_or_default(),
            llm_response: ex.llm_response.take(),
            decision: answer.as_ref().ok().map(Value::to_json),
        });
        answers.push(answer?);
    }
    Ok(answers)
}

/// A member's own statistics: each time it is asked, its answer's outcome, tokens and cost.
fn count_member(ctx: &mut Ctx<'_, '_>, member: &str, before: (u64, u64, f64), answered: bool, ex: &Execution) {
    let Some(s) = ctx.stats.get_mut(member) else { return };
    s.total_executions += 1;
    match (answered, ex.status) {
        (true, _) => {}
        (false, Outcome::Rejected) => s.rejected_executions += 1,
        (false, _) => s.failed_executions += 1,
    }
    s.input_tokens += ex.input_tokens - before.0;
    s.output_tokens += ex.output_tokens - before.1;
    s.cost += ex.cost - before.2;
}

/// [`ask`] for one member: its answer, or the failure recorded on `ex`.
fn ask_one(
    ctx: &mut Ctx<'_, '_>,
    job: &Job,
    agent: usize,
    previous: &[J],
    inputs: &BTreeMap<String, Value>,
    ex: &mut Execution,
) -> Result<Value, Stopped> {
    match ask(ctx, job, &[agent], previous, inputs, ex)?.pop() {
        Some(answer) => Ok(answer),
        None => fail(ex, Outcome::Failed, format!("member `{}` gave no answer", ctx.graphs[agent].name)),
    }
}

fn said(agent: &str, answer: &Value, now: chrono::NaiveDateTime) -> J {
    json!({"agent_id": agent, "agent_name": agent, "decision": answer.to_json(), "timestamp": now.to_string()})
}

/// Runs a team's graph (its nodes in order).
pub fn run(ctx: &mut Ctx<'_, '_>, job: &Job, ex: &mut Execution) {
    let graphs = ctx.graphs;
    let team = &graphs[job.graph];
    let mut order: Vec<usize> = (0..team.steps.len()).collect();
    order.sort_by_key(|i| team.ids[*i]);
    let mut answers: BTreeMap<String, Value> = BTreeMap::new();
    let mut inputs: BTreeMap<String, Value> = BTreeMap::new();
    let mut previous: Vec<J> = Vec::new();
    let now = ctx.market.now;
    // Members of a vote or a supervisor's workers answer together, on the same context.
    let together = team.steps.iter().any(|s| matches!(s, Step::Vote { .. } | Step::Supervise { .. }));
    let mut asked_together = false;
    for i in order {
        ex.path.push(team.ids[i]);
        match &team.steps[i] {
            Step::AgentCall { .. } if together => {
                if std::mem::replace(&mut asked_together, true) {
                    continue;
                }
                let calls: Vec<(usize, String)> = team
                    .steps
                    .iter()
                    .filter_map(|s| match s {
                        Step::AgentCall { agent, bind } => Some((*agent, bind.clone())),
                        _ => None,
                    })
                    .collect();
                let agents: Vec<usize> = calls.iter().map(|(a, _)| *a).collect();
                let Ok(answers_now) = ask(ctx, job, &agents, &previous, &inputs, ex) else { return };
                for ((agent, bind), answer) in calls.into_iter().zip(answers_now) {
                    previous.push(said(&graphs[agent].name, &answer, now));
                    answers.insert(bind, answer);
                }
            }
            Step::AgentCall { agent, bind } => {
                let Ok(answer) = ask_one(ctx, job, *agent, &previous, &inputs, ex) else { return };
                let name = &graphs[*agent].name;
                previous.push(said(name, &answer, now));
                if let Value::Record(fields) = &answer {
                    inputs.extend(fields.iter().map(|(k, v)| (k.clone(), v.clone())));
                }
                let holds = decision_of(&answer) == "hold";
                let stops_on_hold = team.edges[i].iter().any(|(w, _)| w.as_deref() == Some("hold"));
                if holds && stops_on_hold {
                    // The team's decision is that member's hold: recorded as such.
                    ex.decision = Some(answer.to_json());
                    ctx.note(&team.name, format!("{name} holds; the pipeline stops"));
                    return;
                }
                answers.insert(bind.clone(), answer);
            }
            Step::Vote { rule, members } => {
                let v = vote(rule, members.iter().filter_map(|m| answers.get(m).map(|a| (m.as_str(), a))).collect());
                answers.insert("vote".into(), v);
            }
            Step::Supervise { agent, proposals } => {
                let shown: Vec<J> = proposals.iter().filter_map(|p| answers.get(p).map(|a| said(p, a, now))).collect();
                let Ok(a) = ask_one(ctx, job, *agent, &shown, &inputs, ex) else { return };
                answers.insert(graphs[*agent].name.clone(), a);
            }
            Step::Debate { members, rounds, fallback } => {
                let mut last: Vec<(String, Value)> = Vec::new();
                let mut agreed = None;
                for round in 0..(*rounds).max(1) {
                    let shown: Vec<J> = last.iter().map(|(m, a)| said(m, a, now)).collect();
                    let agents: Vec<usize> = members.iter().map(|(_, a)| *a).collect();
                    let Ok(said_now) = ask(ctx, job, &agents, &shown, &inputs, ex) else { return };
                    let this: Vec<(String, Value)> = members.iter().map(|(n, _)| n.clone()).zip(said_now).collect();
                    let first = this.first().map(|(_, a)| decision_of(a).to_string());
                    if first.is_some() && this.iter().all(|(_, a)| Some(decision_of(a)) == first.as_deref()) {
                        ctx.note(
                            &team.name,
                            format!("consensus in round {}: {}", round + 1, first.unwrap_or_default()),
                        );
                        agreed = this.first().map(|(_, a)| a.clone());
                        break;
                    }
                    last = this;
                }
                let result = match agreed {
                    Some(a) => a,
                    None => vote(fallback, last.iter().map(|(m, a)| (m.as_str(), a)).collect()),
                };
                answers.insert("debate".into(), result);
            }
            Step::Decision { from, actions } => {
                if let Some(d) = answers.get(from) {
                    ex.decision = Some(d.to_json());
                }
                let decision = answers.get(from).cloned();
                ctx.decide(team, decision.as_ref(), actions, job.symbol, ex);
            }
            _ => {}
        }
    }
}

/// Combines members' decisions: `majority` (most votes), `unanimous` (all agree) or `weighted`
/// (by confidence); a tie, or no agreement, is `hold`. As the seed aggregates, the result's
/// confidence is the members' average (one that states none counts as 0) and its reasoning
/// joins theirs, each under the member's name.
pub fn vote(rule: &str, answers: Vec<(&str, &Value)>) -> Value {
    let mut score: BTreeMap<String, f64> = BTreeMap::new();
    let mut first: BTreeMap<String, &BTreeMap<String, Value>> = BTreeMap::new();
    for (_, a) in &answers {
        let Value::Record(f) = a else { continue };
        let Some(d) = f.get("decision").and_then(Value::text) else { continue };
        let weight = match (rule, f.get("confidence")) {
            ("weighted", Some(Value::Num(c))) => *c,
            _ => 1.0,
        };
        *score.entry(d.to_string()).or_default() += weight;
        first.entry(d.to_string()).or_insert(f);
    }
    let best = score.values().copied().fold(f64::MIN, f64::max);
    let leaders: Vec<&String> = score.iter().filter(|(_, s)| **s == best).map(|(d, _)| d).collect();
    let winner = match (rule, leaders.as_slice()) {
        ("unanimous", [d]) if score.len() == 1 => Some((*d).clone()),
        ("unanimous", _) => None,
        (_, [d]) => Some((*d).clone()),
        _ => None,
    };
    let tally = score.iter().map(|(d, s)| format!("{d} {s}")).collect::<Vec<_>>().join(", ");
    let mut out = match winner.as_ref().and_then(|w| first.get(w)) {
        Some(f) if winner.as_deref() != Some("hold") => (*f).clone(),
        _ => BTreeMap::from([("decision".to_string(), Value::Text("hold".into()))]),
    };
    let verdict = if out.get("decision").and_then(Value::text) == Some("hold") { ": hold" } else { "" };
    let mut reasoning = format!("{rule} vote ({tally}){verdict}");
    for (member, a) in &answers {
        if let Some(r) = a.field("reasoning").and_then(Value::text) {
            reasoning.push_str(&format!("\n\n{member}: {r}"));
        }
    }
    out.insert("reasoning".into(), Value::Text(reasoning));
    let stated: Vec<f64> = answers.iter().map(|(_, a)| confidence_of(a)).collect();
    if answers.iter().any(|(_, a)| a.field("confidence").is_some()) {
        out.insert("confidence".into(), Value::Num(stated.iter().sum::<f64>() / stated.len() as f64));
    }
    Value::Record(out)
}

fn confidence_of(a: &Value) -> f64 {
    match a.field("confidence") {
        Some(Value::Num(c)) => *c,
        _ => 0.0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn said(decision: &str, confidence: f64) -> Value {
        Value::record([("decision", Value::Text(decision.into())), ("confidence", Value::Num(confidence))])
    }

    fn named<'a>(answers: &[&'a Value]) -> Vec<(&'static str, &'a Value)> {
        const NAMES: [&str; 4] = ["A", "B", "C", "D"];
        answers.iter().enumerate().map(|(i, a)| (NAMES[i], *a)).collect()
    }

    #[test]
    fn vote_rules() {
        let (b, s, h) = (said("buy", 0.9), said("sell", 0.3), said("hold", 0.4));
        let v = |rule: &str, answers: &[&Value]| decision_of(&vote(rule, named(answers))).to_string();
        assert_eq!(v("majority", &[&b, &b, &s]), "buy");
        assert_eq!(v("majority", &[&b, &s]), "hold", "a tie holds");
        assert_eq!(v("unanimous", &[&b, &b, &s]), "hold");
        assert_eq!(v("unanimous", &[&b, &b]), "buy");
        // Weighted: one confident buy (0.9) outweighs two doubtful sells (0.3 + 0.3).
        assert_eq!(v("weighted", &[&b, &s, &s]), "buy");
        assert_eq!(v("majority", &[&b, &h, &h]), "hold");
    }

    #[test]
    fn a_vote_averages_the_members_confidence_and_joins_their_reasoning() {
        let with = |d: &str, c: Option<f64>, why: &str| {
            let mut r = BTreeMap::from([
                ("decision".to_string(), Value::Text(d.into())),
                ("reasoning".to_string(), Value::Text(why.into())),
            ]);
            if let Some(c) = c {
                r.insert("confidence".into(), Value::Num(c));
            }
            Value::Record(r)
        };
        let (a, b, c) = (with("buy", Some(0.9), "dip"), with("buy", Some(0.6), "trend"), with("sell", None, "news"));
        let out = vote("majority", named(&[&a, &b, &c]));
        assert_eq!(decision_of(&out), "buy");
        // (0.9 + 0.6 + 0) / 3: a member that states no confidence counts as none.
        assert_eq!(out.field("confidence"), Some(&Value::Num(0.5)));
        assert_eq!(
            out.field("reasoning").and_then(Value::text),
            Some("majority vote (buy 2, sell 1)\n\nA: dip\n\nB: trend\n\nC: news")
        );
    }
}
