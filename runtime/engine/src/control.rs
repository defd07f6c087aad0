//! What an operator decides while a run goes on, and the executions asked for from outside:
//! which agents, workflows and teams are paused, which triggers are off, whether everything is
//! halted, and the firings of webhooks (and runs by hand) waiting for the next step. The engine
//! asks its [`Control`] once at each step, before the broker works the step's bars, and
//! journals what it was told whenever that changed, so a resumed run replays each step under
//! the decisions that were in force when it first ran.

use chrono::NaiveDateTime;
use std::collections::{BTreeMap, BTreeSet};

/// Which graphs may run and which triggers may fire.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Lifecycle {
    /// Everything is stopped, with why: no trigger fires and no firing runs.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub halted: Option<String>,
    /// Graphs (by name) whose triggers are not evaluated, with their status (`paused` or
    /// `archived`); a graph not named is active.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub inactive: BTreeMap<String, String>,
    /// Triggers that are off, by id: the graph's name and the trigger's place among the
    /// graph's triggers (`DipBuyer.0`).
    #[serde(default, skip_serializing_if = "BTreeSet::is_empty")]
    pub disabled: BTreeSet<String>,
}

impl Lifecycle {
    /// Whether `graph` may run at all.
    pub fn runs(&self, graph: &str) -> bool {
        self.halted.is_none() && !self.inactive.contains_key(graph)
    }

    /// Whether trigger `n` of `graph` may fire.
    pub fn fires(&self, graph: &str, n: u32) -> bool {
        self.runs(graph) && (self.disabled.is_empty() || !self.disabled.contains(&trigger_id(graph, n)))
    }
}

impl Lifecycle {
    /// Halts everything for `reason`; what came of it (halted already: nothing changes).
    pub fn halt(&mut self, reason: &str) -> String {
        match &self.halted {
            Some(h) => format!("halted already ({h})"),
            None => {
                self.halted = Some(reason.to_string());
                format!("halted: {reason}")
            }
        }
    }

    /// Lifts a halt; what came of it.
    pub fn resume(&mut self) -> String {
        match self.halted.take() {
            Some(h) => format!("resumed (was halted: {h})"),
            None => "was not halted".to_string(),
        }
    }

    /// Sets `graph`'s status (`active`, `paused` or `archived`); what came of it.
    pub fn set_status(&mut self, graph: &str, status: &str) -> String {
        let before = self.inactive.get(graph).cloned().unwrap_or_else(|| "active".into());
        if status == "active" {
            self.inactive.remove(graph);
        } else {
            self.inactive.insert(graph.to_string(), status.to_string());
        }
        if before == status {
            format!("{graph} was {status} already")
        } else {
            format!("{graph}: {before} → {status}")
        }
    }

    /// Enables or disables trigger `id`; what came of it.
    pub fn switch(&mut self, id: &str, on: bool) -> String {
        let changed = if on { self.disabled.remove(id) } else { self.disabled.insert(id.to_string()) };
        let state = if on { "enabled" } else { "disabled" };
        if changed { format!("trigger {id} {state}") } else { format!("trigger {id} was {state} already") }
    }

    /// `graph`'s status: `active`, `paused` or `archived`.
    pub fn status(&self, graph: &str) -> &str {
        self.inactive.get(graph).map_or("active", String::as_str)
    }
}

/// A trigger's id: its graph's name and its place among the graph's triggers.
pub fn trigger_id(graph: &str, n: u32) -> String {
    format!("{graph}.{n}")
}

/// An execution asked for from outside the run: a webhook's call, accepted and journaled
/// before it was acknowledged, or a run by hand.
#[derive(Debug, Clone, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Firing {
    /// Its number in the store (the one the acknowledgement gave).
    pub seq: u64,
    pub graph: String,
    /// The trigger's place among the graph's triggers.
    pub trigger: u32,
    /// `webhook` or `manual`; or an emergency: `cancel_all` (every open order of the run
    /// cancelled) or `liquidate` (that, then every position sold at market).
    pub kind: String,
    /// The trigger as the file writes it.
    pub text: String,
    pub symbol: Option<String>,
    /// The body as received (already checked against the declared payload).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub payload: Option<serde_json::Value>,
    /// When and from whom it came.
    pub received: String,
}

impl Firing {
    /// Whether it is an emergency (run before the step's bars are worked), not an execution.
    pub fn is_emergency(&self) -> bool {
        matches!(self.kind.as_str(), CANCEL_ALL | LIQUIDATE)
    }
}

/// The kinds of the emergencies.
pub const CANCEL_ALL: &str = "cancel_all";
pub const LIQUIDATE: &str = "liquidate";
/// Who places the orders of a liquidation, and whom the emergencies' records name.
pub const OPERATOR: &str = "operator";

/// What the control said at one step.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Said {
    pub lifecycle: Lifecycle,
    /// The firings to run at this step.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub firings: Vec<Firing>,
}

/// Where the operator's decisions come from (the service keeps them in the store).
pub trait Control {
    /// The lifecycle in force at `step` and the firings waiting. An error fails closed: the
    /// step runs halted, and says why.
    fn poll(&mut self, step: NaiveDateTime) -> Result<Said, String>;
}

/// A control behind a replay: up to the journal's last step it answers what was journaled
/// (the lifecycle as it then stood, the firings each step ran), then the live control.
pub struct ReplayedControl<'a> {
    pub inner: Option<&'a mut dyn Control>,
    /// The journal's last step.
    pub until: NaiveDateTime,
    /// What was said at each step it changed, by step.
    pub journal: BTreeMap<NaiveDateTime, Said>,
    current: Lifecycle,
}

impl<'a> ReplayedControl<'a> {
    pub fn new(
        inner: Option<&'a mut dyn Control>,
        until: NaiveDateTime,
        journal: BTreeMap<NaiveDateTime, Said>,
    ) -> Self {
        ReplayedControl { inner, until, journal, current: Lifecycle::default() }
    }
}

impl Control for ReplayedControl<'_> {
    fn poll(&mut self, step: NaiveDateTime) -> Result<Said, String> {
        if step > self.until {
            return match self.inner.as_mut() {
                Some(c) => c.poll(step),
                None => Ok(Said { lifecycle: self.current.clone(), firings: Vec::new() }),
            };
        }
        match self.journal.remove(&step) {
            Some(said) => {
                self.current = said.lifecycle.clone();
                Ok(said)
            }
            None => Ok(Said { lifecycle: self.current.clone(), firings: Vec::new() }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(h: u32) -> NaiveDateTime {
        chrono::NaiveDate::from_ymd_opt(2024, 1, 2).and_then(|d| d.and_hms_opt(h, 0, 0)).unwrap_or_default()
    }

    #[test]
    fn a_halt_stops_every_graph_and_a_pause_or_a_disabled_trigger_only_its_own() {
        let mut l = Lifecycle::default();
        assert!(l.fires("A", 0));
        l.disabled.insert(trigger_id("A", 1));
        l.inactive.insert("B".into(), "paused".into());
        assert!(l.fires("A", 0) && !l.fires("A", 1));
        assert!(!l.runs("B") && !l.fires("B", 0));
        l.halted = Some("market turmoil".into());
        assert!(!l.runs("A") && !l.fires("A", 0));
    }

    #[test]
    fn a_replay_answers_the_journaled_lifecycle_until_its_last_step_then_the_live_one() {
        struct Live;
        impl Control for Live {
            fn poll(&mut self, _: NaiveDateTime) -> Result<Said, String> {
                Ok(Said {
                    lifecycle: Lifecycle { halted: Some("live".into()), ..Lifecycle::default() },
                    firings: vec![],
                })
            }
        }
        let paused = Lifecycle { inactive: [("A".to_string(), "paused".to_string())].into(), ..Lifecycle::default() };
        let journal = BTreeMap::from([(at(11), Said { lifecycle: paused.clone(), firings: vec![] })]);
        let mut live = Live;
        let mut r = ReplayedControl::new(Some(&mut live), at(13), journal);
        assert_eq!(r.poll(at(10)).map(|s| s.lifecycle), Ok(Lifecycle::default()));
        assert_eq!(r.poll(at(11)).map(|s| s.lifecycle), Ok(paused.clone()));
        assert_eq!(r.poll(at(12)).map(|s| s.lifecycle), Ok(paused), "in force until it changed");
        assert_eq!(r.poll(at(14)).map(|s| s.lifecycle.halted), Ok(Some("live".into())));
    }
}
