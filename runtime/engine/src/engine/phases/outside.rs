//! The operator's decisions and the firings from outside, at each step: asked of the host's
//! control, applied to what the triggers fired, and journaled with the step.

use super::Engine;
use crate::control::{Firing, Lifecycle, Said};
use crate::exec::Job;
use crate::report::TriggerRecord;
use chrono::NaiveDateTime;
use std::collections::BTreeMap;
use strat_lang::ir::{Program, TriggerKind, Type};

/// The declared payload of every webhook trigger that declares one, by graph name and place.
pub(super) fn payloads(program: &Program) -> BTreeMap<(String, u32), Type> {
    let mut out = BTreeMap::new();
    for g in &program.graphs {
        for (n, t) in g.triggers.iter().enumerate() {
            if let TriggerKind::Webhook { payload: Some(ty), .. } = &t.kind {
                out.insert((g.name.clone(), u32::try_from(n).unwrap_or(u32::MAX)), ty.clone());
            }
        }
    }
    out
}

/// A run by hand with a webhook's payload: the trigger it stands for and the payload decoded.
pub(super) struct ByHand {
    pub text: String,
    pub value: crate::value::Value,
}

/// The payload `json` as `graph`'s webhook would take it, or why it would not.
pub(super) fn by_hand(program: &Program, graph: &str, json: &serde_json::Value) -> Result<ByHand, String> {
    let hook =
        program.graphs.iter().filter(|g| g.name == graph).flat_map(|g| &g.triggers).find_map(|t| match &t.kind {
            TriggerKind::Webhook { path, payload, .. } => Some((path, payload)),
            _ => None,
        });
    let Some((path, declared)) = hook else {
        return Err(format!("no webhook trigger in `{graph}`, so it takes no payload"));
    };
    let text = format!("webhook \"{}\"", path.as_deref().unwrap_or_default());
    let value = match (declared, json) {
        (Some(ty), _) => crate::decode::payload(json, ty)
            .map_err(|why| format!("the payload does not fit `{graph}`'s webhook: {why}"))?,
        (None, serde_json::Value::String(body)) => crate::value::Value::Text(body.clone()),
        (None, other) => crate::value::Value::Text(other.to_string()),
    };
    Ok(ByHand { text, value })
}

/// What changed from `before` to `after`, as the step's log says it.
fn changes(before: &Lifecycle, after: &Lifecycle) -> Vec<String> {
    let mut out = Vec::new();
    match (&before.halted, &after.halted) {
        (None, Some(why)) => out.push(format!("halted: {why}; nothing fires until `strat resume`")),
        (Some(_), None) => out.push("resumed: the triggers fire again".to_string()),
        _ => {}
    }
    for (g, status) in &after.inactive {
        if before.inactive.get(g) != Some(status) {
            out.push(format!("{g} is {status}: its triggers are not evaluated"));
        }
    }
    for g in before.inactive.keys().filter(|g| !after.inactive.contains_key(*g)) {
        out.push(format!("{g} is active again"));
    }
    for t in after.disabled.difference(&before.disabled) {
        out.push(format!("trigger {t} is disabled"));
    }
    for t in before.disabled.difference(&after.disabled) {
        out.push(format!("trigger {t} is enabled again"));
    }
    out
}

impl Engine<'_, '_> {
    /// Asks the control what is in force at `t` and which firings wait, and carries out the
    /// emergencies among them at once (before the broker works the step's bars). A control
    /// that cannot answer halts the step, and the step's log says why.
    pub(in crate::engine) fn poll_control(&mut self, t: NaiveDateTime) {
        let Some(control) = self.host.control.as_mut() else { return };
        let said = control.poll(t).unwrap_or_else(|why| Said {
            lifecycle: Lifecycle {
                halted: Some(format!("the operator's decisions could not be read ({why})")),
                ..Lifecycle::default()
            },
            firings: Vec::new(),
        });
        let changed = said.lifecycle != self.lifecycle;
        if changed {
            self.control_notes.extend(changes(&self.lifecycle, &said.lifecycle));
            self.lifecycle = said.lifecycle.clone();
        }
        let (emergencies, firings): (Vec<Firing>, Vec<Firing>) =
            said.firings.into_iter().partition(Firing::is_emergency);
        if !emergencies.is_empty() {
            let taken = Said { lifecycle: self.lifecycle.clone(), firings: emergencies.clone() };
            if let Some((store, run)) = self.host.store.as_mut()
                && let Err(e) = store.record_control(*run, t, &taken)
            {
                // Not journaled, so not carried out: it stays pending, and is tried at the next step.
                self.control_notes
                    .push(format!("the emergency could not be journaled, so it was not carried out: {e}"));
            } else {
                emergencies.iter().for_each(|e| self.emergency(e, t));
            }
        }
        self.outside = firings.clone();
        self.said = (changed || !firings.is_empty()).then(|| Said { lifecycle: self.lifecycle.clone(), firings });
    }

    /// Drops what the triggers fired for graphs that may not run and triggers that are off.
    pub(in crate::engine) fn keep_allowed(&mut self) {
        if self.host.control.is_none() {
            return;
        }
        let life = &self.lifecycle;
        let graphs = &self.plan.graphs;
        let triggers = &self.plan.triggers;
        self.fired.retain(|f| {
            let declared = triggers.get(f.trigger).declared;
            graphs.get(f.graph as usize).is_some_and(|g| life.fires(&g.name, declared))
        });
    }

    /// Cancels every open order of the run and, for a liquidation, sells every position at
    /// market (the operator's orders: no model decided them, so no risk gate weighs them; each
    /// is journaled before it is sent, as every order is). Recorded as an execution of the
    /// operator with the orders it touched; each step of it said in the step's log.
    fn emergency(&mut self, f: &Firing, t: NaiveDateTime) {
        let mut touched = Vec::new();
        for id in self.book.pending(None) {
            let why = format!("cancelled by the operator ({})", f.kind);
            self.host.broker.cancel(id, &why);
            if let Some(o) = self.book.get(id) {
                self.control_notes.push(format!(
                    "{}: cancel asked for order {id} ({} {} {})",
                    f.kind,
                    o.side.name(),
                    o.qty,
                    o.symbol
                ));
            }
            touched.push(id);
        }
        if f.kind == crate::control::LIQUIDATE {
            touched.extend(self.sell_everything(f, t));
        }
        if touched.is_empty() {
            self.control_notes.push(format!("{}: nothing was open or held", f.kind));
        }
        let trigger = TriggerRecord {
            kind: f.kind.clone(),
            text: f.kind.clone(),
            symbol: None,
            reason: format!("{} asked by the operator at {t}", f.kind),
            firing: Some(f.seq),
        };
        self.next_id += 1;
        self.report.executions.push(crate::report::Execution::of_operator(self.next_id, t, trigger, touched));
    }

    /// A market sale of every position held; the ids of the orders placed (a sale the journal
    /// refuses is not sent, and is recorded refused).
    fn sell_everything(&mut self, f: &Firing, t: NaiveDateTime) -> Vec<u64> {
        use crate::broker::{Kind, Request, Side, Tif, Update};
        let held: Vec<(usize, u64)> = {
            let account = self.host.broker.account();
            account
                .held()
                .iter()
                .filter_map(|&s| account.position(s).map(|p| (s, p.qty)))
                .filter(|(_, q)| *q > 0)
                .collect()
        };
        let mut placed = Vec::new();
        for (sym, qty) in held {
            let symbol = self.symbols.get(sym).cloned().unwrap_or_default();
            let request = Request {
                time: t,
                symbol: symbol.clone(),
                sym,
                side: Side::Sell,
                qty,
                kind: Kind::Market,
                tif: Tif::Day,
                stop_loss: None,
                take_profit: None,
                by: crate::control::OPERATOR.to_string(),
            };
            let id = self.book.open(request);
            let Some(order) = self.book.get(id).cloned() else { continue };
            match self.host.send(&order) {
                Ok(()) => self.control_notes.push(format!("{}: sell {qty} {symbol} at market (order {id})", f.kind)),
                Err(reason) => {
                    self.control_notes.push(format!("{}: the sale of {qty} {symbol} was not sent: {reason}", f.kind));
                    self.book.apply(&[Update::Rejected { id, reason }]);
                }
            }
            placed.push(id);
        }
        placed
    }

    /// Notes, for the journal, the id of each trigger that starts an execution at this step:
    /// those that fired and the outside firings' (`last_triggered_at`).
    pub(in crate::engine) fn note_triggered(&mut self, outside: &[Firing]) {
        let graphs = &self.plan.graphs;
        for f in &self.fired {
            if let Some(g) = graphs.get(f.graph as usize) {
                self.triggered.push(crate::control::trigger_id(&g.name, self.plan.triggers.get(f.trigger).declared));
            }
        }
        self.triggered.extend(
            outside.iter().filter(|f| f.trigger != u32::MAX).map(|f| crate::control::trigger_id(&f.graph, f.trigger)),
        );
        self.triggered.sort();
        self.triggered.dedup();
    }

    /// The execution a firing from outside starts; `None` (and said) when it may not run now.
    pub(in crate::engine) fn outside_job(&mut self, f: &Firing, t: NaiveDateTime) -> Option<Job> {
        let refuse = |why: String| format!("firing {} of {} ({}) is not run: {why}", f.seq, f.graph, f.text);
        let Some(graph) = self.plan.graphs.iter().position(|g| g.name == f.graph) else {
            self.control_notes.push(refuse("the file has no such agent, workflow or team".into()));
            return None;
        };
        if !self.lifecycle.fires(&f.graph, f.trigger) {
            let why = match &self.lifecycle.halted {
                Some(h) => format!("everything is halted ({h})"),
                None => "its agent is not active, or its trigger is disabled".to_string(),
            };
            self.control_notes.push(refuse(why));
            return None;
        }
        let symbol = match &f.symbol {
            Some(s) => match self.symbols.iter().position(|x| x == s) {
                Some(i) => Some(i),
                None => {
                    self.control_notes.push(refuse(format!("the run has no data for {s}")));
                    return None;
                }
            },
            None => None,
        };
        let payload = match (self.payloads.get(&(f.graph.clone(), f.trigger)), &f.payload) {
            (Some(ty), Some(json)) => match crate::decode::payload(json, ty) {
                Ok(v) => Some(v),
                Err(why) => {
                    self.control_notes.push(refuse(why));
                    return None;
                }
            },
            // An undeclared payload is the body as text.
            (_, Some(serde_json::Value::String(body))) => Some(crate::value::Value::Text(body.clone())),
            (_, Some(json)) => Some(crate::value::Value::Text(json.to_string())),
            (_, None) => None,
        };
        let reason = if f.kind == "manual" {
            format!("started by hand through the service at {t}")
        } else {
            format!("{} called at {t}", f.text)
        };
        let trigger = TriggerRecord {
            kind: f.kind.clone(),
            text: f.text.clone(),
            symbol: f.symbol.clone(),
            reason,
            firing: Some(f.seq),
        };
        Some(Job { graph, symbol, trigger, article: None, payload })
    }
}
