//! Lowering of checked files to the DAG IR. Runs only on programs without errors, so every
//! name resolves; anything unexpected lowers to a neutral value instead of panicking.

use crate::check::types::{Ty, std_record};
use crate::check::{DeclKind, Scope, Unit};
use crate::ir::{self, Edge, Graph, GraphKind, Node, NodeKind, Overlap, Part, Program};
use crate::span::{FileId, Span};
use crate::syntax::ast::{
    self, AgentField, Else, Item, LimitsRef, LitUnit, Size, Stmt, StrPart, TeamField, TriggerKind,
};
use std::collections::{BTreeMap, BTreeSet};

/// Lowers one checked expression with nothing but the standard library in scope.
/// The stdlib's `decision` record as an IR type: what an agent's model answers when its file
/// declares no other output.
pub fn default_decision() -> ir::Type {
    ty_ir(&crate::check::types::std_record("decision"))
}

pub fn lower_expr(e: &ast::Expr) -> ir::Expr {
    let scope = Scope::default();
    let units = BTreeMap::new();
    let money_sizes = BTreeSet::new();
    let mut l = Lowerer {
        scope: &scope,
        units: &units,
        locals: Vec::new(),
        graph: None,
        file: FileId(0),
        money_sizes: &money_sizes,
        sets: BTreeMap::new(),
    };
    l.expr(e)
}

/// Lowers every declaration of the given files.
pub fn lower(units: &[Unit], scopes: &BTreeMap<FileId, Scope>, money_sizes: &BTreeSet<(FileId, Span)>) -> Program {
    let by_id: BTreeMap<FileId, &Unit> = units.iter().map(|u| (u.id, u)).collect();
    let mut p = Program {
        version: ir::IR_VERSION,
        hash: String::new(),
        universes: BTreeMap::new(),
        limits: BTreeMap::new(),
        models: BTreeMap::new(),
        graphs: Vec::new(),
    };
    for u in units {
        let empty = Scope::default();
        let mut l = Lowerer {
            scope: scopes.get(&u.id).unwrap_or(&empty),
            units: &by_id,
            locals: Vec::new(),
            graph: None,
            file: u.id,
            money_sizes,
            sets: BTreeMap::new(),
        };
        for item in &u.ast.items {
            l.item(item, &mut p);
        }
        p.universes.append(&mut l.sets);
    }
    // Graphs stay in declaration order (files in the order they are reached): executions of
    // one step run in that order.
    p.seal()
}

struct Lowerer<'a> {
    scope: &'a Scope,
    units: &'a BTreeMap<FileId, &'a Unit>,
    locals: Vec<String>,
    graph: Option<Graph>,
    file: FileId,
    /// Lists of symbols written in place of one (`rsi([AAPL, MSFT], 14)`): each is lowered to
    /// a universe named after its members, so it means what a declared universe means.
    sets: BTreeMap<String, Vec<String>>,
    money_sizes: &'a BTreeSet<(FileId, Span)>,
}

type Ends = Vec<(u32, Option<String>)>;

impl Lowerer<'_> {
    fn item(&mut self, item: &Item, p: &mut Program) {
        match item {
            Item::Universe(u) => {
                let syms = self.symbols(&u.symbols, 0);
                p.universes.insert(u.name.text.clone(), syms);
            }
            Item::Limits(l) => {
                let name = l.name.as_ref().map_or(String::new(), |n| n.text.clone());
                p.limits.insert(name, self.limits(&l.body));
            }
            Item::Model(m) => {
                p.models.insert(m.name.text.clone(), model(&m.spec));
            }
            Item::Agent(a) => {
                let g = self.agent(a, p);
                p.graphs.push(g);
            }
            Item::Workflow(w) => {
                let g = self.workflow(w, p);
                p.graphs.push(g);
            }
            Item::Team(t) => {
                let g = self.team(t, p);
                p.graphs.push(g);
            }
            Item::Trigger(_) | Item::Import(_) | Item::Error(_) => {}
        }
    }

    /// A list of symbols in place of one, as the universe of its members.
    fn set(&mut self, list: &ast::Expr) -> ir::Expr {
        let members = self.symbols(list, 0);
        let name = format!("[{}]", members.join(", "));
        self.sets.insert(name.clone(), members);
        ir::Expr::Universe { name }
    }

    fn symbols(&self, e: &ast::Expr, depth: u32) -> Vec<String> {
        let mut out = BTreeSet::new();
        self.collect_symbols(e, &mut out, depth);
        out.into_iter().collect()
    }

    fn collect_symbols(&self, e: &ast::Expr, out: &mut BTreeSet<String>, depth: u32) {
        if depth > 32 {
            return;
        }
        match e {
            ast::Expr::Ticker(t, _) => {
                out.insert(t.clone());
            }
            ast::Expr::List(items, _) => items.iter().for_each(|i| self.collect_symbols(i, out, depth + 1)),
            ast::Expr::Name(n) => {
                if let Some(Item::Universe(u)) = self.decl(&n.text) {
                    self.collect_symbols(&u.symbols, out, depth + 1);
                }
            }
            _ => {}
        }
    }

    fn decl(&self, name: &str) -> Option<&Item> {
        let r = self.scope.names.get(name)?;
        self.units.get(&r.file)?.ast.items.get(r.item)
    }

    fn limits(&self, body: &ast::LimitsBody) -> BTreeMap<String, ir::Value> {
        body.settings
            .iter()
            .map(|s| {
                let v = match &s.value {
                    ast::Expr::Number { text, unit, .. } => num_value(text, *unit, false),
                    ast::Expr::Unary { operand, .. } => match &**operand {
                        ast::Expr::Number { text, unit, .. } => num_value(text, *unit, true),
                        _ => ir::Value::Text { value: String::new() },
                    },
                    ast::Expr::Bool(b, _) => ir::Value::Bool { value: *b },
                    other => ir::Value::Symbols { value: self.symbols(other, 0) },
                };
                (s.key.text.clone(), v)
            })
            .collect()
    }

    fn limits_name(&self, graph: &str, r: &LimitsRef, p: &mut Program) -> String {
        match r {
            LimitsRef::Named(n) => n.text.clone(),
            LimitsRef::Inline(body) => {
                let name = format!("{graph}.limits");
                p.limits.insert(name.clone(), self.limits(body));
                name
            }
        }
    }

    fn default_limits(&self) -> Option<String> {
        self.scope.global_limits.map(|_| String::new())
    }

    fn model_name(&self, graph: &str, e: &ast::Expr, p: &mut Program, n: usize) -> String {
        match e {
            ast::Expr::Name(name) => name.text.clone(),
            other => {
                let name = if n == 0 { format!("{graph}.model") } else { format!("{graph}.model{n}") };
                p.models.insert(name.clone(), model(other));
                name
            }
        }
    }

    // ----- graphs -------------------------------------------------------------------------

    fn begin(&mut self, name: &str, kind: GraphKind) -> u32 {
        self.graph = Some(Graph {
            name: name.to_string(),
            kind,
            triggers: Vec::new(),
            limits: None,
            overlap: Overlap::Skip,
            start: 0,
            nodes: Vec::new(),
            edges: Vec::new(),
            allocation: BTreeMap::new(),
            description: None,
            role: None,
        });
        self.node(NodeKind::Start)
    }

    fn node(&mut self, kind: NodeKind) -> u32 {
        let Some(g) = self.graph.as_mut() else { return 0 };
        let id = g.nodes.len() as u32;
        g.nodes.push(Node { id, kind });
        id
    }

    fn edge(&mut self, from: u32, to: u32, when: Option<String>) {
        if let Some(g) = self.graph.as_mut() {
            g.edges.push(Edge { from, to, when });
        }
    }

    /// Adds a node after every open end; returns it.
    fn then(&mut self, ends: Ends, kind: NodeKind) -> u32 {
        let n = self.node(kind);
        for (from, when) in ends {
            self.edge(from, n, when);
        }
        n
    }

    fn finish(&mut self, ends: Ends) -> Graph {
        if !ends.is_empty() {
            self.then(ends, NodeKind::End);
        }
        self.graph.take().unwrap_or_else(|| Graph {
            name: String::new(),
            kind: GraphKind::Workflow,
            triggers: Vec::new(),
            limits: None,
            overlap: Overlap::Skip,
            start: 0,
            nodes: Vec::new(),
            edges: Vec::new(),
            allocation: BTreeMap::new(),
            description: None,
            role: None,
        })
    }

    /// Sets a documentation field of the graph being lowered to the text as written.
    fn describe(&mut self, field: impl Fn(&mut Graph) -> &mut Option<String>, s: &ast::StrLit) {
        if let Some(g) = self.graph.as_mut() {
            *field(g) = Some(s.value.clone());
        }
    }

    fn set_common(&mut self, triggers: Vec<ir::Trigger>, limits: Option<String>, overlap: Option<&ast::Name>) {
        if let Some(g) = self.graph.as_mut() {
            g.triggers = triggers;
            g.limits = limits;
            g.overlap = match overlap.map(|n| n.text.as_str()) {
                Some("queue") => Overlap::Queue,
                Some("replace") => Overlap::Replace,
                _ => Overlap::Skip,
            };
        }
    }

    fn agent(&mut self, a: &ast::Agent, p: &mut Program) -> Graph {
        let name = a.name.text.as_str();
        let start = self.begin(name, GraphKind::Agent);
        let mut triggers = Vec::new();
        let mut limits = None;
        let mut overlap = None;
        let mut model = String::new();
        let mut sources = Vec::new();
        let mut prompt = Vec::new();
        let mut system = None;
        let mut output = default_decision();
        let mut can_trade = true;
        let mut actions = vec!["buy".to_string(), "sell".to_string()];
        self.locals.clear();
        for f in &a.fields {
            if let AgentField::Input(s, _) = f {
                self.locals.extend(s.fields.iter().map(|f| f.name.text.clone()));
            }
        }
        for f in &a.fields {
            match f {
                AgentField::Model(e, _) => model = self.model_name(name, e, p, 0),
                AgentField::Limits(r, _) => limits = Some(self.limits_name(name, r, p)),
                AgentField::Context(items, _) => sources = items.iter().map(|e| self.expr(e)).collect(),
                AgentField::Prompt(s, _) => prompt = self.template(s),
                AgentField::System(s, _) => system = Some(self.template(s)),
                AgentField::Output(t, _) => {
                    let ty = type_of(t);
                    can_trade = matches!(ty.fields().and_then(|r| r.field("decision")), Some(Ty::Enum(vs)) if vs.iter().any(|v| v == "buy" || v == "sell"));
                    output = ty_ir(&ty);
                }
                AgentField::Actions(names, _) => actions = names.iter().map(|n| n.text.clone()).collect(),
                AgentField::On(spec) => triggers.push(self.trigger(spec)),
                AgentField::Overlap(n, _) => overlap = Some(n),
                AgentField::Description(s, _) => self.describe(|g| &mut g.description, s),
                AgentField::Role(s, _) => self.describe(|g| &mut g.role, s),
                AgentField::Input(..) => {}
            }
        }
        let limits = limits.or_else(|| self.default_limits());
        self.set_common(triggers, limits, overlap);
        let ctx = self.then(vec![(start, None)], NodeKind::Context { sources });
        let llm =
            self.then(vec![(ctx, None)], NodeKind::Llm { bind: "decision".into(), model, system, prompt, output });
        let mut ends = vec![(llm, None)];
        if can_trade && !actions.is_empty() {
            let act = self.then(
                ends,
                NodeKind::Action { action: ir::Action::ExecuteDecision { from: "decision".into(), actions } },
            );
            ends = vec![(act, None)];
        }
        self.finish(ends)
    }

    fn workflow(&mut self, w: &ast::Workflow, p: &mut Program) -> Graph {
        let name = w.name.text.as_str();
        let start = self.begin(name, GraphKind::Workflow);
        self.locals.clear();
        let mut triggers = Vec::new();
        let mut limits = None;
        let mut overlap = None;
        let mut default_model = None;
        for f in &w.settings {
            match f {
                AgentField::On(spec) => triggers.push(self.trigger(spec)),
                AgentField::Limits(r, _) => limits = Some(self.limits_name(name, r, p)),
                AgentField::Model(e, _) => default_model = Some(self.model_name(name, e, p, 0)),
                AgentField::Overlap(n, _) => overlap = Some(n),
                AgentField::Description(s, _) => self.describe(|g| &mut g.description, s),
                _ => {}
            }
        }
        let limits = limits.or_else(|| self.default_limits());
        self.set_common(triggers, limits, overlap);
        let mut asks = 0;
        let ends = self.block(&w.body, vec![(start, None)], name, default_model.as_deref(), p, &mut asks);
        self.finish(ends)
    }

    fn block(
        &mut self,
        b: &ast::Block,
        mut ends: Ends,
        graph: &str,
        model: Option<&str>,
        p: &mut Program,
        asks: &mut usize,
    ) -> Ends {
        let mark = self.locals.len();
        for s in &b.stmts {
            if ends.is_empty() {
                break;
            }
            ends = self.stmt(s, ends, graph, model, p, asks);
        }
        self.locals.truncate(mark);
        ends
    }

    fn stmt(
        &mut self,
        s: &Stmt,
        ends: Ends,
        graph: &str,
        model: Option<&str>,
        p: &mut Program,
        asks: &mut usize,
    ) -> Ends {
        match s {
            Stmt::Let { name, value, .. } => {
                let expr = self.expr(value);
                self.locals.push(name.text.clone());
                let n = self.then(ends, NodeKind::DataFetch { bind: name.text.clone(), expr });
                vec![(n, None)]
            }
            Stmt::If { cond, then, otherwise, .. } => {
                let expr = self.expr(cond);
                let c = self.then(ends, NodeKind::Condition { expr });
                let mut out = self.block(then, vec![(c, Some("true".into()))], graph, model, p, asks);
                let f = vec![(c, Some("false".into()))];
                out.extend(match otherwise {
                    Some(Else::Block(b)) => self.block(b, f, graph, model, p, asks),
                    Some(Else::If(inner)) => self.stmt(inner, f, graph, model, p, asks),
                    None => f,
                });
                out
            }
            Stmt::Match { scrutinee, arms, .. } => {
                let expr = self.expr(scrutinee);
                let sw = self.then(ends, NodeKind::Switch { expr });
                let mut out = Vec::new();
                for arm in arms {
                    let whens: Vec<String> = if arm.patterns.is_empty() {
                        vec!["otherwise".into()]
                    } else {
                        arm.patterns.iter().map(|p| p.text.clone()).collect()
                    };
                    let entry = whens.into_iter().map(|w| (sw, Some(w))).collect();
                    out.extend(self.block(&arm.body, entry, graph, model, p, asks));
                }
                out
            }
            Stmt::Ask { name, schema, model: m, prompt, .. } => {
                let model_name = match m {
                    Some(e) => {
                        *asks += 1;
                        self.model_name(graph, e, p, *asks)
                    }
                    None => model.unwrap_or_default().to_string(),
                };
                let prompt = self.template(prompt);
                let output = ty_ir(&type_of(schema));
                self.locals.push(name.text.clone());
                let n = self.then(
                    ends,
                    NodeKind::Llm { bind: name.text.clone(), model: model_name, system: None, prompt, output },
                );
                vec![(n, None)]
            }
            Stmt::Order(o) => {
                let action = self.order(o);
                vec![(self.then(ends, NodeKind::Action { action }), None)]
            }
            Stmt::Cancel { symbol, .. } => {
                let action = ir::Action::Cancel { symbol: symbol.as_ref().map(|e| self.expr(e)) };
                vec![(self.then(ends, NodeKind::Action { action }), None)]
            }
            Stmt::Notify { message, .. } => {
                let action = ir::Action::Notify { message: self.template(message) };
                vec![(self.then(ends, NodeKind::Action { action }), None)]
            }
            Stmt::Log { message, .. } => {
                let action = ir::Action::Log { message: self.template(message) };
                vec![(self.then(ends, NodeKind::Action { action }), None)]
            }
            Stmt::End(_) => {
                self.then(ends, NodeKind::End);
                Vec::new()
            }
            Stmt::Error(_) => ends,
        }
    }

    fn order(&mut self, o: &ast::Order) -> ir::Action {
        let size = match &o.size {
            None | Some(Size::All(_)) => ir::Size::All,
            Some(Size::Amount(e)) => {
                let expr = self.expr(e);
                if self.money_sizes.contains(&(self.file, e.span())) {
                    ir::Size::Value { expr }
                } else {
                    ir::Size::Shares { expr }
                }
            }
            Some(Size::Fraction { percent, of }) => {
                ir::Size::Fraction { expr: self.expr(percent), of: of.text.clone() }
            }
        };
        let opt = |s: &mut Self, e: &Option<ast::Expr>| e.as_ref().map(|e| s.expr(e));
        ir::Action::Order {
            side: if o.side == ast::Side::Buy { "buy" } else { "sell" }.into(),
            symbol: self.expr(&o.symbol),
            size,
            limit: opt(self, &o.limit),
            stop: opt(self, &o.stop),
            stop_loss: opt(self, &o.stop_loss),
            take_profit: opt(self, &o.take_profit),
            tif: o.tif.as_ref().map_or("day".to_string(), |t| t.text.clone()),
        }
    }

    fn team(&mut self, t: &ast::Team, p: &mut Program) -> Graph {
        let name = t.name.text.as_str();
        let start = self.begin(name, GraphKind::Team);
        let mut members: Vec<String> = Vec::new();
        let mut mode = "sequential";
        let mut supervisor = None;
        let mut rule = "majority".to_string();
        let mut rounds = 3;
        let mut triggers = Vec::new();
        let mut limits = None;
        let mut overlap = None;
        for f in &t.fields {
            match f {
                TeamField::Members(ns, _) => members.extend(ns.iter().map(|n| n.text.clone())),
                TeamField::Coordination(n, _) => mode = n.text.as_str(),
                TeamField::Supervisor(n, _) => supervisor = Some(n.text.clone()),
                TeamField::Vote(n, _) | TeamField::Fallback(n, _) => rule = n.text.clone(),
                TeamField::Rounds(e, _) => {
                    rounds = crate::check::const_value(e).map_or(3, |v| v as u32);
                }
                TeamField::Limits(r, _) => limits = Some(self.limits_name(name, r, p)),
                TeamField::On(spec) => triggers.push(self.trigger(spec)),
                TeamField::Overlap(n, _) => overlap = Some(n),
                TeamField::Allocate(shares, _) => {
                    let split = shares.iter().filter_map(|(n, e)| {
                        let v = crate::check::const_value(e)?;
                        Some((n.text.clone(), format!("{v}")))
                    });
                    if let Some(g) = self.graph.as_mut() {
                        g.allocation.extend(split);
                    }
                }
                TeamField::Description(s, _) => self.describe(|g| &mut g.description, s),
            }
        }
        let limits = limits.or_else(|| self.default_limits());
        self.set_common(triggers, limits, overlap);
        let call = |s: &mut Self, ends: Ends, m: &str| {
            s.then(ends, NodeKind::AgentCall { agent: m.to_string(), bind: m.to_string() })
        };
        let (ends, decided_by) = match mode {
            "parallel" => {
                let calls: Ends = members.iter().map(|m| (call(self, vec![(start, None)], m), None)).collect();
                let v = self.then(calls, NodeKind::Vote { rule, members: members.clone() });
                (vec![(v, None)], Some("vote".to_string()))
            }
            "hierarchical" => {
                let calls: Ends = members.iter().map(|m| (call(self, vec![(start, None)], m), None)).collect();
                let sup = supervisor.unwrap_or_default();
                let s = self.then(calls, NodeKind::Supervise { agent: sup.clone(), proposals: members.clone() });
                (vec![(s, None)], Some(sup))
            }
            "consensus" => {
                let d = self
                    .then(vec![(start, None)], NodeKind::Debate { members: members.clone(), rounds, fallback: rule });
                (vec![(d, None)], Some("debate".to_string()))
            }
            _ => {
                let mut ends: Ends = vec![(start, None)];
                let mut stops = Vec::new();
                let last = members.len().saturating_sub(1);
                for (i, m) in members.iter().enumerate() {
                    let c = call(self, ends, m);
                    if i < last && self.member_decides(m) {
                        stops.push((c, Some("hold".to_string())));
                    }
                    ends = vec![(c, None)];
                }
                if !stops.is_empty() {
                    self.then(stops, NodeKind::End);
                }
                let decider = members.last().filter(|m| self.member_decides(m)).cloned();
                (ends, decider)
            }
        };
        let ends = match decided_by {
            Some(from) => {
                let act = self.then(
                    ends,
                    NodeKind::Action {
                        action: ir::Action::ExecuteDecision { from, actions: vec!["buy".into(), "sell".into()] },
                    },
                );
                vec![(act, None)]
            }
            None => ends,
        };
        self.finish(ends)
    }

    fn member_decides(&self, agent: &str) -> bool {
        let Some(Item::Agent(a)) = self.decl(agent) else { return false };
        let out = a
            .fields
            .iter()
            .find_map(|f| if let AgentField::Output(t, _) = f { Some(type_of(t)) } else { None })
            .unwrap_or_else(|| std_record("decision"));
        matches!(out.fields().and_then(|r| r.field("decision")), Some(Ty::Enum(vs)) if vs.iter().any(|v| v == "buy" || v == "sell"))
    }

    fn trigger(&mut self, spec: &ast::TriggerSpec) -> ir::Trigger {
        let kind = match &spec.kind {
            TriggerKind::Schedule { cron, tz } => ir::TriggerKind::Schedule {
                cron: cron.value.clone(),
                tz: tz.as_ref().map_or("UTC".to_string(), |t| t.value.clone()),
            },
            TriggerKind::Webhook { path, options } => ir::TriggerKind::Webhook {
                path: path.as_ref().map(|p| p.value.clone()),
                secret_env: ast::WebhookOption::secret(options).and_then(|s| match s {
                    ast::Expr::Call { args, .. } => args.first().and_then(|a| match &a.value {
                        ast::Expr::Str(s) => Some(s.value.clone()),
                        _ => None,
                    }),
                    _ => None,
                }),
                payload: ast::WebhookOption::payload(options)
                    .map(|s| ty_ir(&type_of(&ast::TypeExpr::Record(s.clone())))),
            },
            TriggerKind::Manual(_) => ir::TriggerKind::Manual,
            TriggerKind::Expr(e) => match e {
                ast::Expr::Name(n) => match self.decl(&n.text) {
                    Some(Item::Trigger(t)) => {
                        let spec = t.spec.clone();
                        return self.trigger(&spec);
                    }
                    _ => ir::TriggerKind::Manual,
                },
                ast::Expr::Call { callee, args, .. }
                    if callee.text == "news" && args.iter().all(|a| a.name.is_some()) =>
                {
                    let mut keywords = Vec::new();
                    let mut symbols = Vec::new();
                    let mut sentiment = None;
                    let mut min_relevance = None;
                    for a in args {
                        match (a.name.as_ref().map(|n| n.text.as_str()), &a.value) {
                            (Some("keywords"), ast::Expr::List(items, _)) => {
                                keywords = items
                                    .iter()
                                    .filter_map(
                                        |i| if let ast::Expr::Str(s) = i { Some(s.value.clone()) } else { None },
                                    )
                                    .collect()
                            }
                            (Some("symbols"), v) => symbols = self.symbols(v, 0),
                            (Some("sentiment"), ast::Expr::Name(n)) => sentiment = Some(n.text.clone()),
                            (Some("min_relevance"), ast::Expr::Number { text, .. }) => {
                                min_relevance = Some(text.clone())
                            }
                            _ => {}
                        }
                    }
                    ir::TriggerKind::News { keywords, symbols, sentiment, min_relevance }
                }
                ast::Expr::Call { callee, args, .. } if callee.text == "bar" => ir::TriggerKind::Bar {
                    symbols: args.first().map(|a| self.symbols(&a.value, 0)).unwrap_or_default(),
                    seconds: args.get(1).and_then(|a| duration_secs(&a.value)).unwrap_or(86_400),
                },
                other => ir::TriggerKind::Condition { expr: self.expr(other) },
            },
        };
        ir::Trigger {
            kind,
            throttles: spec
                .throttles
                .iter()
                .map(|t| {
                    (crate::check::const_value(&t.count).map_or(1, |v| v as u32), duration_secs(&t.window).unwrap_or(0))
                })
                .collect(),
            market_hours: spec.market_hours.is_some(),
        }
    }

    // ----- expressions --------------------------------------------------------------------

    fn template(&mut self, s: &ast::StrLit) -> ir::Template {
        s.parts
            .iter()
            .map(|p| match p {
                StrPart::Text(t) => Part::Text(t.clone()),
                StrPart::Hole(e) => Part::Expr(self.expr(e)),
            })
            .collect()
    }

    fn expr(&mut self, e: &ast::Expr) -> ir::Expr {
        use ir::Expr as E;
        match e {
            ast::Expr::Number { text, unit, .. } => match num_value(text, *unit, false) {
                ir::Value::Number { value, unit } => E::Num { value, unit },
                _ => E::Bool { value: false },
            },
            ast::Expr::Str(s) => E::Text { value: self.template(s) },
            ast::Expr::Bool(b, _) => E::Bool { value: *b },
            ast::Expr::Date(d, _) => E::Date { value: d.clone() },
            ast::Expr::Time(t, _) => E::Time { value: t.clone() },
            ast::Expr::Ticker(t, _) => E::Symbol { value: t.clone() },
            ast::Expr::Name(n) => {
                let name = n.text.clone();
                if self.locals.contains(&name) {
                    E::Local { name }
                } else if strat_stdlib::global(&name).is_some() {
                    E::Global { name }
                } else if self.scope.names.get(&name).is_some_and(|r| r.kind == DeclKind::Universe) {
                    E::Universe { name }
                } else {
                    E::Variant { name }
                }
            }
            ast::Expr::List(items, _) => E::List { items: items.iter().map(|i| self.expr(i)).collect() },
            ast::Expr::Call { callee, args, .. } => {
                let Some(params) = strat_stdlib::function(&callee.text).map(|f| f.params) else {
                    // Not a function: a context source such as `prices(tech)`, arguments as written.
                    let args = args.iter().map(|a| self.expr(&a.value)).collect();
                    return E::Call { func: callee.text.clone(), args };
                };
                let mut out: Vec<Option<ir::Expr>> = vec![None; params.len()];
                let mut pos = 0;
                for a in args {
                    let idx = match &a.name {
                        Some(n) => params.iter().position(|p| p.name == n.text),
                        None => {
                            pos += 1;
                            Some(pos - 1)
                        }
                    };
                    if let Some(i) = idx.filter(|i| *i < out.len()) {
                        out[i] = Some(match &a.value {
                            ast::Expr::List(..) if params[i].ty == strat_stdlib::Ty::Symbol => self.set(&a.value),
                            v => self.expr(v),
                        });
                    }
                }
                let args = out
                    .into_iter()
                    .zip(params)
                    .map(|(a, p)| a.unwrap_or_else(|| default_expr(p.default.unwrap_or("0"))))
                    .collect();
                E::Call { func: callee.text.clone(), args }
            }
            ast::Expr::Field { base, field, .. } => {
                E::Field { base: Box::new(self.expr(base)), name: field.text.clone() }
            }
            ast::Expr::Unary { op, operand, .. } => match op {
                ast::UnOp::Not => E::Not { operand: Box::new(self.expr(operand)) },
                ast::UnOp::Neg => E::Neg { operand: Box::new(self.expr(operand)) },
            },
            ast::Expr::Binary { op, lhs, rhs, .. } => {
                E::Binary { op: op.symbol().to_string(), lhs: Box::new(self.expr(lhs)), rhs: Box::new(self.expr(rhs)) }
            }
            ast::Expr::Paren(inner, _) => self.expr(inner),
            ast::Expr::Error(_) => E::Bool { value: false },
        }
    }
}

fn num_value(text: &str, unit: LitUnit, negative: bool) -> ir::Value {
    let sign = if negative { "-" } else { "" };
    let (value, unit) = match unit {
        LitUnit::None => (text.to_string(), ir::Unit::None),
        LitUnit::Percent => (text.to_string(), ir::Unit::Percent),
        LitUnit::Money => (text.to_string(), ir::Unit::Money),
        LitUnit::Shares => (text.to_string(), ir::Unit::Shares),
        LitUnit::Duration(mult) => (scale(text, mult), ir::Unit::Seconds),
    };
    ir::Value::Number { value: format!("{sign}{value}"), unit }
}

/// `text × mult` as a decimal string (durations are whole seconds in practice).
fn scale(text: &str, mult: u32) -> String {
    match text.parse::<u64>() {
        Ok(v) => (v.saturating_mul(u64::from(mult))).to_string(),
        Err(_) => {
            let v = text.parse::<f64>().unwrap_or(0.0) * f64::from(mult);
            format!("{}", v.round())
        }
    }
}

fn duration_secs(e: &ast::Expr) -> Option<u64> {
    match e {
        ast::Expr::Number { text, unit: LitUnit::Duration(m), .. } => scale(text, *m).parse().ok(),
        _ => None,
    }
}

/// A stdlib default (`"14"`, `"1d"`, `"2"`) as an expression.
fn default_expr(text: &str) -> ir::Expr {
    let (digits, suffix) = crate::syntax::split_number(text);
    let unit = crate::syntax::number_unit(suffix).unwrap_or(LitUnit::None);
    match num_value(&digits, unit, false) {
        ir::Value::Number { value, unit } => ir::Expr::Num { value, unit },
        _ => ir::Expr::Num { value: "0".into(), unit: ir::Unit::None },
    }
}

fn model(e: &ast::Expr) -> ir::Model {
    let ast::Expr::Call { callee, args, .. } = e else {
        return ir::Model { provider: String::new(), model: String::new(), params: BTreeMap::new() };
    };
    let mut m = ir::Model { provider: callee.text.clone(), model: String::new(), params: BTreeMap::new() };
    for a in args {
        match (&a.name, &a.value) {
            (None, ast::Expr::Str(s)) => m.model = s.value.clone(),
            (Some(n), ast::Expr::Number { text, unit, .. }) => {
                m.params.insert(n.text.clone(), num_value(text, *unit, false));
            }
            (Some(n), ast::Expr::Str(s)) => {
                m.params.insert(n.text.clone(), ir::Value::Text { value: s.value.clone() });
            }
            (Some(n), ast::Expr::Bool(b, _)) => {
                m.params.insert(n.text.clone(), ir::Value::Bool { value: *b });
            }
            _ => {}
        }
    }
    if let Some(p) = strat_stdlib::provider(&m.provider) {
        for param in p.params {
            let value = match (param.ty, param.default) {
                (strat_stdlib::Ty::Bool, Some(d)) => ir::Value::Bool { value: d == "true" },
                (_, Some(d)) => match default_expr(d) {
                    ir::Expr::Num { value, unit } => ir::Value::Number { value, unit },
                    _ => continue,
                },
                (_, None) => continue,
            };
            m.params.entry(param.name.to_string()).or_insert(value);
        }
    }
    m
}

/// A schema's type without diagnostics (lowering runs after a clean check).
fn type_of(t: &ast::TypeExpr) -> Ty {
    match t {
        ast::TypeExpr::Record(s) => {
            Ty::record(None, s.fields.iter().map(|f| (f.name.text.clone(), type_of(&f.ty))).collect())
        }
        ast::TypeExpr::Optional(inner, _) => Ty::Optional(Box::new(type_of(inner))),
        ast::TypeExpr::Enum(vs, _) => Ty::enumeration(&vs.iter().map(|v| v.text.as_str()).collect::<Vec<_>>()),
        ast::TypeExpr::Error(_) => Ty::Unknown,
        ast::TypeExpr::Named { name, args, .. } => match name.text.as_str() {
            "number" => Ty::Number,
            "bool" => Ty::Bool,
            "text" => Ty::Text,
            "percent" => Ty::Percent,
            "money" => Ty::Money,
            "price" => Ty::Price,
            "quantity" => Ty::Quantity,
            "duration" => Ty::Duration,
            "symbol" => Ty::Symbol,
            "timestamp" => Ty::Timestamp,
            "date" => Ty::Date,
            "sentiment" => Ty::enumeration(strat_stdlib::SENTIMENT),
            "list" => Ty::List(Box::new(args.first().map_or(Ty::Unknown, type_of))),
            other => std_record(other),
        },
    }
}

pub(crate) fn ty_ir(t: &Ty) -> ir::Type {
    use ir::Type as T;
    match t {
        Ty::Number | Ty::Unknown | Ty::Variant(_) => T::Number,
        Ty::Bool => T::Bool,
        Ty::Text => T::Text,
        Ty::Percent => T::Percent,
        Ty::Money => T::Money,
        Ty::Price => T::Price,
        Ty::Quantity => T::Quantity,
        Ty::Duration => T::Duration,
        Ty::Symbol => T::Symbol,
        Ty::SymbolSet => T::SymbolSet,
        Ty::TimeOfDay => T::TimeOfDay,
        Ty::Date => T::Date,
        Ty::Timestamp => T::Timestamp,
        Ty::Enum(vs) => T::Enum { variants: vs.to_vec() },
        Ty::Record(r) => {
            T::Record { name: r.name.clone(), fields: r.fields.iter().map(|(n, t)| (n.clone(), ty_ir(t))).collect() }
        }
        Ty::List(t) => T::List { item: Box::new(ty_ir(t)) },
        Ty::Optional(t) => T::Optional { item: Box::new(ty_ir(t)) },
    }
}
