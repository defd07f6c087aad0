//! Declarations, one module each: universes, limits, models, triggers, schemas and agents;
//! here, the checks of settings they share.

mod agents;
mod limits;
mod models;
mod schemas;
mod triggers;
mod universes;

pub(super) use agents::{agent_field_key, can_trade};
pub use limits::KnownLimits;

use super::expr::{article, const_number};
use super::types::{Ty, std_record};
use super::{Checker, DeclKind, DeclRef};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;
use crate::syntax::ast::{self, AgentField, Expr, Item, LimitsBody, LimitsRef, TriggerKind, TriggerSpec, TypeExpr};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

impl Checker<'_> {
    pub(super) fn overlap(&mut self, n: &ast::Name) {
        const POLICIES: [&str; 3] = ["skip", "queue", "replace"];
        if !POLICIES.contains(&n.text.as_str()) && !n.text.is_empty() {
            self.not_a_variant(&n.text, n.span, &POLICIES.map(str::to_string));
        }
    }

    pub(super) fn missing(&mut self, at: Span, what: &str, setting: &str, example: &str) {
        let d = Diagnostic::new(Code::MissingSetting, self.file, at, format!("{what} has no `{setting}`"))
            .label(format!("`{setting}` missing"))
            .help(format!("add `{example}`"));
        self.push(d);
    }

    pub(super) fn no_trigger(&mut self, at: Span, what: &str) {
        let d = Diagnostic::new(
            Code::NoTrigger,
            self.file,
            at,
            format!("this {what} has no `on` clause and is in no team, so nothing runs it"),
        )
        .label("never triggered")
        .help("add a trigger such as `on schedule \"30 9 * * 1-5\" tz \"America/New_York\"`, or `on manual`");
        self.push(d);
    }

    /// Reports settings given twice (`on` may repeat).
    pub(super) fn duplicate_settings(&mut self, keys: impl Iterator<Item = Option<(&'static str, Span)>>) {
        // Blocks hold a handful of settings: a vector beats a map here.
        let mut seen: Vec<(&str, Span)> = Vec::new();
        for (k, span) in keys.flatten() {
            if let Some(&(_, prev)) = seen.iter().find(|(s, _)| *s == k) {
                let d = Diagnostic::new(Code::DuplicateSetting, self.file, span, format!("`{k}` is set twice"))
                    .label("set again here")
                    .with_label(self.file, prev, "first set here")
                    .help("keep one of them");
                self.push(d);
            } else {
                seen.push((k, span));
            }
        }
    }
}
