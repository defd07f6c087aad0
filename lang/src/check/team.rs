//! Teams: members, coordination modes, wiring of inputs to outputs, votes and allocation.

use super::decls::can_trade;
use super::expr::const_number;
use super::types::{Ty, std_record};
use super::{Checker, DeclKind, DeclRef};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;
use crate::syntax::ast::{self, AgentField, Item, TeamField};
use std::collections::BTreeMap;

/// What the team checks need to know about one member agent.
struct Member {
    name: ast::Name,
    decl: DeclRef,
    inputs: Vec<(String, Ty, Span)>,
    outputs: Ty,
}

/// A team's settings as written (each the last one given; a repeated one is reported).
#[derive(Default)]
struct Settings<'t> {
    members: Vec<&'t ast::Name>,
    mode: Option<&'t ast::Name>,
    supervisor: Option<(&'t ast::Name, Span)>,
    vote: Option<(&'t ast::Name, Span)>,
    rounds: Option<(&'t ast::Expr, Span)>,
    fallback: Option<(&'t ast::Name, Span)>,
    allocate: Option<(&'t Vec<(ast::Name, ast::Expr)>, Span)>,
    has_limits: bool,
    has_trigger: bool,
}

impl Settings<'_> {
    /// The coordination mode, when it is one of the four.
    fn valid_mode(&self) -> Option<&str> {
        self.mode.map(|m| m.text.as_str()).filter(|m| MODES.contains(m))
    }

    /// Whether `n` is listed as a member.
    fn lists(&self, n: &ast::Name) -> bool {
        self.members.iter().any(|m| m.text == n.text)
    }
}

const MODES: [&str; 4] = ["sequential", "parallel", "hierarchical", "consensus"];

impl Checker<'_> {
    pub(super) fn team(&mut self, _index: usize, t: &ast::Team) {
        self.duplicate_settings(t.fields.iter().map(team_field_key));
        let set = self.team_settings(t);
        let broken = self.broken(self.file, t.span);
        if !broken {
            self.team_budget(t, &set);
        }
        let members = self.team_members(t, &set, broken);
        self.team_mode(t, &set, broken);
        self.team_rules(&set);
        let sup = self.team_supervisor(&set);
        let deciders: Vec<&Member> = match set.valid_mode() {
            Some("sequential") => {
                self.wiring(&members);
                members.last().into_iter().collect()
            }
            Some("parallel" | "consensus") => {
                let rule = set.vote.or(set.fallback).map_or("majority", |(n, _)| n.text.as_str());
                for m in &members {
                    self.votable(m, rule == "weighted");
                }
                members.iter().collect()
            }
            Some("hierarchical") => {
                if let Some(s) = &sup {
                    self.votable(s, false);
                }
                sup.iter().collect()
            }
            _ => Vec::new(),
        };
        for m in deciders {
            self.orders_have_a_quantity(m);
        }
        if let Some((shares, span)) = set.allocate {
            self.allocation(shares, span, &set, sup.as_ref());
        }
        if !set.has_trigger && !broken && self.team_members.values().flatten().all(|tm| tm.span != t.name.span) {
            self.no_trigger(t.name.span, "team");
        }
        if !set.has_limits && !broken {
            self.team_limits(t, &members, sup.as_ref());
        }
    }

    /// Reads the settings, checking the references that stand alone (limits, triggers,
    /// overlap) as it goes.
    fn team_settings<'t>(&mut self, t: &'t ast::Team) -> Settings<'t> {
        let mut set = Settings::default();
        for f in &t.fields {
            match f {
                TeamField::Members(ns, _) => set.members.extend(ns.iter()),
                TeamField::Coordination(n, _) => set.mode = Some(n),
                TeamField::Supervisor(n, s) => set.supervisor = Some((n, *s)),
                TeamField::Vote(n, s) => set.vote = Some((n, *s)),
                TeamField::Rounds(e, s) => set.rounds = Some((e, *s)),
                TeamField::Fallback(n, s) => set.fallback = Some((n, *s)),
                TeamField::Allocate(shares, s) => set.allocate = Some((shares, *s)),
                TeamField::Limits(r, _) => {
                    set.has_limits = true;
                    self.limits_ref(r);
                }
                TeamField::On(spec) => {
                    set.has_trigger = true;
                    self.trigger_spec(spec);
                }
                TeamField::Overlap(n, _) => self.overlap(n),
                TeamField::Description(..) => {}
            }
        }
        set
    }

    /// The estimate of model calls a day (W0503): one execution asks every member, and the
    /// supervisor; a consensus asks them each round.
    fn team_budget(&mut self, t: &ast::Team, set: &Settings<'_>) {
        let asked = set.members.len() as f64 + f64::from(u8::from(set.supervisor.is_some()));
        let rounds = set.rounds.and_then(|(e, _)| crate::check::const_value(e)).unwrap_or(3.0);
        let consensus = set.mode.is_some_and(|m| m.text == "consensus");
        let per_run = if consensus { set.members.len() as f64 * rounds } else { asked };
        let specs: Vec<&ast::TriggerSpec> =
            t.fields.iter().filter_map(|f| if let TeamField::On(spec) = f { Some(spec) } else { None }).collect();
        self.model_budget(&t.name, &specs, per_run.max(1.0));
    }

    /// The members, each once and each an agent; at least two.
    fn team_members(&mut self, t: &ast::Team, set: &Settings<'_>, broken: bool) -> Vec<Member> {
        let mut members = Vec::new();
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for n in &set.members {
            if let Some(prev) = seen.insert(n.text.as_str(), n.span) {
                let d =
                    Diagnostic::new(Code::DuplicateMember, self.file, n.span, format!("`{}` is listed twice", n.text))
                        .label("listed again")
                        .with_label(self.file, prev, "first listed here")
                        .fix(n.span, "", "remove the repetition");
                self.push(d);
                continue;
            }
            if let Some(m) = self.member(n) {
                members.push(m);
            }
        }
        if set.members.is_empty() && !broken {
            self.missing(t.name.span, "team", "members", "members Analyst, Executor");
        } else if seen.len() < 2 {
            let d = Diagnostic::new(Code::TooFewMembers, self.file, t.name.span, "a team needs at least two members")
                .label("one member")
                .help("use the agent directly, or add members");
            self.push(d);
        }
        members
    }

    /// The coordination mode is one of the four, and the settings given fit it.
    fn team_mode(&mut self, t: &ast::Team, set: &Settings<'_>, broken: bool) {
        match set.mode {
            None if broken => {}
            None => self.missing(t.name.span, "team", "coordination", "coordination sequential"),
            Some(m) if !MODES.contains(&m.text.as_str()) => {
                self.not_a_variant(&m.text, m.span, &MODES.map(str::to_string));
            }
            Some(_) => {}
        }
        let Some(m) = set.valid_mode() else { return };
        let only_in = [
            (set.supervisor.map(|(_, s)| s), "supervisor", "hierarchical"),
            (set.vote.map(|(_, s)| s), "vote", "parallel"),
            (set.rounds.map(|(_, s)| s), "rounds", "consensus"),
            (set.fallback.map(|(_, s)| s), "fallback", "consensus"),
        ];
        for (span, setting, fits) in only_in {
            if let Some(s) = span
                && m != fits
            {
                self.mode_mismatch(s, setting, m, fits);
            }
        }
        if m == "hierarchical" && set.supervisor.is_none() {
            self.missing(t.name.span, "a hierarchical team", "supervisor", "supervisor Supervisor");
        }
    }

    /// The vote and fallback rules are known ones; `rounds` is a whole number of at least 1.
    fn team_rules(&mut self, set: &Settings<'_>) {
        for (rule, _) in [set.vote, set.fallback].into_iter().flatten() {
            if !matches!(rule.text.as_str(), "majority" | "unanimous" | "weighted") {
                let opts = ["majority", "unanimous", "weighted"].map(str::to_string);
                self.not_a_variant(&rule.text, rule.span, &opts);
            }
        }
        let Some((e, _)) = set.rounds else { return };
        let ty = self.expect_ty(e, &Ty::Number, "`rounds`");
        if ty.ty == Ty::Number
            && let Some(v) = const_number(e)
            && (v < 1.0 || v.fract() != 0.0)
        {
            let d = Diagnostic::new(
                Code::NotPositive,
                self.file,
                e.span(),
                format!("`rounds` must be a whole number of at least 1, found {v}"),
            )
            .label("not positive");
            self.push(d);
        }
    }

    /// The supervisor, an agent that is not also a member.
    fn team_supervisor(&mut self, set: &Settings<'_>) -> Option<Member> {
        let (n, _) = set.supervisor?;
        if set.lists(n) {
            let d = Diagnostic::new(
                Code::DuplicateMember,
                self.file,
                n.span,
                format!("`{}` is both a member and the supervisor", n.text),
            )
            .label("also a member")
            .help("the supervisor reviews the members' proposals; list it only as `supervisor`");
            self.push(d);
        }
        self.member(n)
    }

    /// `allocate`: shares of members only, each a percent not below zero, 100% at most in all.
    fn allocation(&mut self, shares: &[(ast::Name, ast::Expr)], span: Span, set: &Settings<'_>, sup: Option<&Member>) {
        let mut total = 0.0;
        let mut all_known = true;
        for (n, e) in shares {
            if !set.lists(n) && sup.is_none_or(|s| s.name.text != n.text) {
                let d = Diagnostic::new(
                    Code::BadAllocation,
                    self.file,
                    n.span,
                    format!("`{}` is not a member of this team", n.text),
                )
                .label("not a member")
                .help("allocate only to the team's members");
                self.push(d);
            }
            let ty = self.expect_ty(e, &Ty::Percent, "an allocation");
            match const_number(e) {
                Some(v) if ty.ty == Ty::Percent => {
                    if v < 0.0 {
                        let d =
                            Diagnostic::new(Code::OutOfRange, self.file, e.span(), "an allocation cannot be negative")
                                .label("negative");
                        self.push(d);
                    }
                    total += v;
                }
                _ => all_known = false,
            }
        }
        if all_known && total > 100.0 + 1e-9 {
            let d = Diagnostic::new(
                Code::BadAllocation,
                self.file,
                span,
                format!("allocations add up to {total}%, more than 100%"),
            )
            .label("over-allocated")
            .help("lower the shares so they add up to 100% or less");
            self.push(d);
        }
    }

    /// A team without limits of its own that can place orders needs limits on every member
    /// that decides trades, or global limits.
    fn team_limits(&mut self, t: &ast::Team, members: &[Member], sup: Option<&Member>) {
        let trades = members.iter().chain(sup).any(|m| can_trade(&m.outputs));
        if !trades {
            return;
        }
        let members_covered =
            members.iter().chain(sup).all(|m| !can_trade(&m.outputs) || self.agent_has_limits(m.decl));
        if !members_covered && self.global_limits().is_none() {
            let d = Diagnostic::new(
                Code::NoLimits,
                self.file,
                t.name.span,
                format!("team `{}` can place orders but has no limits", t.name.text),
            )
            .label("can trade without limits")
            .help("add `limits NAME` to the team, or limits to each member that decides trades");
            self.push(d);
        }
    }

    fn agent_has_limits(&self, d: DeclRef) -> bool {
        matches!(self.item_at(d), Some(Item::Agent(a)) if a.fields.iter().any(|f| matches!(f, AgentField::Limits(..))))
    }

    fn mode_mismatch(&mut self, span: Span, setting: &str, mode: &str, fits: &str) {
        let d = Diagnostic::new(
            Code::ModeSetting,
            self.file,
            span,
            format!("`{setting}` does not fit `coordination {mode}`"),
        )
        .label(format!("only for `{fits}` teams"))
        .help(format!("remove it, or use `coordination {fits}`"));
        self.push(d);
    }

    fn member(&mut self, n: &ast::Name) -> Option<Member> {
        let r = match self.lookup(&n.text, n.span) {
            Some(r) if r.kind == DeclKind::Agent => r,
            Some(r) => {
                let d = Diagnostic::new(
                    Code::NotAnAgent,
                    self.file,
                    n.span,
                    format!("`{}` is a {}, not an agent", n.text, r.kind.word()),
                )
                .label("not an agent")
                .with_label(r.file, r.span, "declared here")
                .help("team members are agents");
                self.push(d);
                return None;
            }
            None => {
                self.resolve(n, DeclKind::Agent);
                return None;
            }
        };
        let Some(Item::Agent(a)) = self.item_at(r) else { return None };
        // Read the member's declared types quietly: the agent's own check reports its errors.
        let saved = self.diags.len();
        let file = self.file;
        self.file = r.file;
        let mut inputs = Vec::new();
        let mut outputs = std_record("decision");
        for f in &a.fields {
            match f {
                AgentField::Input(s, _) => {
                    if let Ty::Record(rec) = self.schema_ty(s) {
                        for ((name, ty), field) in rec.fields.iter().zip(&s.fields) {
                            inputs.push((name.clone(), ty.clone(), field.name.span));
                        }
                    }
                }
                AgentField::Output(t, _) => outputs = self.type_expr(t),
                _ => {}
            }
        }
        self.file = file;
        self.diags.truncate(saved);
        Some(Member { name: n.clone(), decl: r, inputs, outputs })
    }

    /// Sequential wiring: each input is an output of an earlier member, of the same type.
    fn wiring(&mut self, members: &[Member]) {
        for (i, m) in members.iter().enumerate() {
            for (input, ty, input_span) in &m.inputs {
                let producer = members[..i]
                    .iter()
                    .rev()
                    .find_map(|p| p.outputs.fields().and_then(|r| r.field(input)).map(|t| (p, t.clone())));
                match producer {
                    None => {
                        let earlier: Vec<String> = members[..i]
                            .iter()
                            .filter_map(|p| p.outputs.fields())
                            .flat_map(|r| r.fields.iter().map(|(n, _)| n.clone()))
                            .collect();
                        let mut d = Diagnostic::new(
                            Code::InputNotProduced,
                            self.file,
                            m.name.span,
                            format!("`{}` needs input `{input}`, which no earlier member produces", m.name.text),
                        )
                        .label(format!("needs `{input}`"))
                        .with_label(m.decl.file, *input_span, "input declared here");
                        d = match strat_stdlib::suggest(input, earlier.iter().map(String::as_str)) {
                            Some(s) => d.help(format!("did you mean `{s}`, which an earlier member produces?")),
                            None if i == 0 => {
                                d.help("the first member of a sequential team receives no inputs; reorder the members")
                            }
                            None => d.help(format!(
                                "add `{input}` to the output of an earlier member, or reorder the members"
                            )),
                        };
                        self.push(d);
                    }
                    Some((p, out_ty)) if !out_ty.fits(ty) => {
                        let d = Diagnostic::new(
                            Code::InputTypeMismatch,
                            self.file,
                            m.name.span,
                            format!(
                                "`{}` expects `{input}` as {ty}, but `{}` produces {out_ty}",
                                m.name.text, p.name.text
                            ),
                        )
                        .label("receives the wrong type")
                        .with_label(m.decl.file, *input_span, format!("expects {ty}"))
                        .with_label(self.file, p.name.span, format!("produces {out_ty}"));
                        self.push(d);
                    }
                    Some(_) => {}
                }
            }
        }
    }

    /// A member whose answer becomes the team's order must say how much: a `decision` that can
    /// buy or sell needs a `quantity` beside it.
    fn orders_have_a_quantity(&mut self, m: &Member) {
        let Some(r) = m.outputs.fields() else { return };
        let trades = matches!(r.field("decision"), Some(Ty::Enum(vs)) if vs.iter().any(|v| v == "buy" || v == "sell"));
        if !trades || r.field("quantity").is_some() {
            return;
        }
        let d = Diagnostic::new(
            Code::NoQuantity,
            self.file,
            m.name.span,
            format!("the team orders what `{}` decides, but its output has no `quantity`", m.name.text),
        )
        .label("decides buy or sell with no quantity")
        .help("add `quantity: quantity` to its output, or give it the default output (`decision`)");
        self.push(d);
    }

    /// A member whose answers are voted on needs a `decision` (and `confidence` when weighted).
    fn votable(&mut self, m: &Member, weighted: bool) {
        let decision = m.outputs.fields().and_then(|r| r.field("decision")).cloned();
        if !matches!(decision, Some(Ty::Enum(_)) | Some(Ty::Unknown)) {
            let d = Diagnostic::new(
                Code::NoDecision,
                self.file,
                m.name.span,
                format!("`{}` gives no `decision` to vote on", m.name.text),
            )
            .label("no `decision: buy | sell | hold` in its output")
            .help("give the agent the default output, or add a `decision` enum to its `output`");
            self.push(d);
        } else if weighted
            && !matches!(m.outputs.fields().and_then(|r| r.field("confidence")), Some(Ty::Number | Ty::Unknown))
        {
            let d = Diagnostic::new(
                Code::NoDecision,
                self.file,
                m.name.span,
                format!("`vote weighted` needs a `confidence: number` from `{}`", m.name.text),
            )
            .label("no confidence to weigh")
            .help("add `confidence: number` to its output, or use `vote majority`");
            self.push(d);
        }
    }
}

fn team_field_key(f: &TeamField) -> Option<(&'static str, Span)> {
    Some(match f {
        TeamField::Members(_, s) => ("members", *s),
        TeamField::Coordination(_, s) => ("coordination", *s),
        TeamField::Supervisor(_, s) => ("supervisor", *s),
        TeamField::Vote(_, s) => ("vote", *s),
        TeamField::Rounds(_, s) => ("rounds", *s),
        TeamField::Fallback(_, s) => ("fallback", *s),
        TeamField::Allocate(_, s) => ("allocate", *s),
        TeamField::Limits(_, s) => ("limits", *s),
        TeamField::Overlap(_, s) => ("overlap", *s),
        TeamField::Description(_, s) => ("description", *s),
        TeamField::On(_) => return None,
    })
}
