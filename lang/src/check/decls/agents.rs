//! Agents: their settings, context sources, and whether their answer can trade.

use super::*;

impl Checker<'_> {
    pub(in crate::check) fn agent(&mut self, index: usize, a: &ast::Agent) {
        let me = DeclRef { file: self.file, item: index, kind: DeclKind::Agent, span: a.name.span };
        self.duplicate_settings(a.fields.iter().map(agent_field_key));
        let mut model = None;
        let mut prompt = None;
        let mut limits: Option<Option<KnownLimits>> = None;
        let mut output = std_record("decision");
        let mut has_trigger = false;
        let mut context: BTreeSet<&'static str> = BTreeSet::from(["trigger", "limits"]);
        let mut actions: Option<(Vec<String>, Span)> = None;
        let mut inputs: Vec<(String, Ty, Span)> = Vec::new();
        for f in &a.fields {
            match f {
                AgentField::Model(e, _) => {
                    self.model_ref(e);
                    model = Some(e);
                }
                AgentField::Limits(r, _) => limits = Some(self.limits_ref(r)),
                AgentField::Context(items, _) => {
                    for it in items {
                        if let Some(name) = self.context_item(it) {
                            context.insert(name);
                        }
                    }
                }
                AgentField::Prompt(s, _) => prompt = Some(s),
                AgentField::Output(t, _) => output = self.type_expr(t),
                AgentField::Input(s, _) => {
                    let Ty::Record(r) = self.schema_ty(s) else { continue };
                    for ((n, t), f) in r.fields.iter().zip(&s.fields) {
                        inputs.push((n.clone(), t.clone(), f.name.span));
                    }
                }
                AgentField::Actions(names, span) => {
                    actions = Some((names.iter().map(|n| n.text.clone()).collect(), *span));
                    for n in names {
                        if !matches!(n.text.as_str(), "buy" | "sell") {
                            self.not_a_variant(&n.text, n.span, &["buy".to_string(), "sell".to_string()]);
                        }
                    }
                }
                AgentField::On(spec) => {
                    has_trigger = true;
                    self.trigger_spec(spec);
                }
                AgentField::Overlap(n, _) => self.overlap(n),
                AgentField::System(..) | AgentField::Description(..) | AgentField::Role(..) => {}
            }
        }
        let teams = self.team_members.get(&me).cloned().unwrap_or_default();
        if !has_trigger {
            self.item.no_symbol = self.team_triggers_without_symbol(&teams);
        }
        let broken = self.broken(self.file, a.span);
        if model.is_some() && !broken {
            let specs: Vec<&TriggerSpec> =
                a.fields.iter().filter_map(|f| if let AgentField::On(spec) = f { Some(spec) } else { None }).collect();
            self.model_budget(&a.name, &specs, 1.0);
        }
        if model.is_none() && !broken {
            self.missing(a.name.span, "agent", "model", "model sonnet   // or: model offline(\"rules\")");
        }
        if prompt.is_none() && !broken {
            self.missing(a.name.span, "agent", "prompt", "prompt \"…what the agent should do…\"");
        }
        if !has_trigger && teams.is_empty() && !broken {
            self.no_trigger(a.name.span, "agent");
        }
        // Prompt placeholders see the declared context, the inputs and the trigger.
        self.item.context = Some(context);
        let mark = self.locals.len();
        for (n, t, span) in &inputs {
            self.bind(n, t.clone(), *span, false);
        }
        for f in &a.fields {
            if let AgentField::Prompt(s, _) | AgentField::System(s, _) = f {
                self.template(s);
            }
        }
        self.unbind(mark);
        self.item.context = None;
        let trades = can_trade(&output) && actions.as_ref().is_none_or(|(a, _)| !a.is_empty());
        if let Some((acts, span)) = &actions
            && !can_trade(&output)
            && !acts.is_empty()
        {
            let d = Diagnostic::new(
                Code::ActionNotAllowed,
                self.file,
                *span,
                "this agent's output has no `decision: buy | sell | hold` field, so it cannot act",
            )
            .label("actions without a decision")
            .help("remove `actions`, or add a `decision` field to the output");
            self.push(d);
        }
        let covered =
            limits.is_some() || self.global_limits().is_some() || teams.iter().any(|t| self.team_has_limits(*t));
        if trades && !covered && !broken {
            let d = Diagnostic::new(Code::NoLimits, self.file, a.name.span, format!("agent `{}` can place orders but has no limits", a.name.text))
                .label("can trade without limits")
                .help("add `limits NAME` (or `limits { max_position $10_000 … }`), or declare default `limits { … }` for the file");
            self.push(d);
        }
    }

    pub(in crate::check) fn team_has_limits(&self, team: DeclRef) -> bool {
        matches!(self.item_at(team), Some(Item::Team(t)) if t.fields.iter().any(|f| matches!(f, ast::TeamField::Limits(..))))
    }

    /// A context source: `portfolio`, `prices(tech)`, `news(tech, 24h)`.
    pub(super) fn context_item(&mut self, e: &Expr) -> Option<&'static str> {
        let (name, span, args) = match e {
            Expr::Name(n) => (n.text.as_str(), n.span, &[][..]),
            Expr::Call { callee, args, .. } => (callee.text.as_str(), callee.span, args.as_slice()),
            other => {
                let d = Diagnostic::new(
                    Code::TypeMismatch,
                    self.file,
                    other.span(),
                    "expected a context source such as `portfolio` or `prices(tech)`",
                )
                .label("not a context source");
                self.push(d);
                return None;
            }
        };
        let Some(src) = strat_stdlib::context_source(name) else {
            let mut d = Diagnostic::new(Code::Unresolved, self.file, span, format!("`{name}` is not a context source"))
                .label("unknown context");
            d = match strat_stdlib::suggest(name, strat_stdlib::CONTEXT_SOURCES.iter().map(|c| c.name)) {
                Some(s) => d.fix(span, s, format!("did you mean `{s}`?")),
                None => d.help(format!(
                    "context sources are {}",
                    strat_stdlib::CONTEXT_SOURCES
                        .iter()
                        .map(|c| format!("`{}`", c.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            self.push(d);
            return None;
        };
        let want = usize::from(src.takes_symbols) + usize::from(src.takes_window);
        if args.len() != want {
            let form = match (src.takes_symbols, src.takes_window) {
                (true, true) => format!("`{name}(symbols, window)`"),
                (true, false) => format!("`{name}(symbols)`"),
                _ => format!("`{name}`"),
            };
            let d = Diagnostic::new(Code::Arity, self.file, e.span(), format!("context `{name}` is written {form}"))
                .label("wrong arguments");
            self.push(d);
            return Some(src.name);
        }
        if src.takes_symbols
            && let Some(a) = args.first()
        {
            self.symbol_set(&a.value);
        }
        if src.takes_window
            && let Some(a) = args.get(1)
        {
            self.positive_duration(&a.value, "the news window");
        }
        Some(src.name)
    }
}

/// An output can trade when it has `decision` with `buy` or `sell` among its variants.
pub(in crate::check) fn can_trade(output: &Ty) -> bool {
    matches!(output.fields().and_then(|r| r.field("decision")), Some(Ty::Enum(vs)) if vs.iter().any(|v| v == "buy" || v == "sell"))
}

pub(in crate::check) fn agent_field_key(f: &AgentField) -> Option<(&'static str, Span)> {
    Some(match f {
        AgentField::Model(_, s) => ("model", *s),
        AgentField::Limits(_, s) => ("limits", *s),
        AgentField::Context(_, s) => ("context", *s),
        AgentField::Prompt(_, s) => ("prompt", *s),
        AgentField::System(_, s) => ("system", *s),
        AgentField::Description(_, s) => ("description", *s),
        AgentField::Role(_, s) => ("role", *s),
        AgentField::Input(_, s) => ("input", *s),
        AgentField::Output(_, s) => ("output", *s),
        AgentField::Actions(_, s) => ("actions", *s),
        AgentField::Overlap(_, s) => ("overlap", *s),
        AgentField::On(_) => return None,
    })
}
