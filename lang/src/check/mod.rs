//! Name resolution, type and unit checking, and every static check of the language.
//!
//! [`check`] takes the parsed files of one project (the files named on the command line and
//! everything they import) and returns diagnostics. Each file sees its own declarations and
//! those of the files it imports.

mod budget;
mod decls;
mod expr;
mod team;
pub mod types;
mod workflow;

use crate::diagnostic::{Code, Diagnostic};
use crate::span::{FileId, Span};
use crate::syntax::ast::{self, Item};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use types::Ty;

/// One parsed file of the project, with the files its `import` items point to
/// (`None` when the file could not be found; the loader reported that already).
#[derive(Debug, Clone)]
pub struct Unit {
    pub id: FileId,
    pub path: String,
    pub ast: Arc<ast::File>,
    /// For each `import` item (by item index), the imported file.
    pub imports: Vec<(usize, Option<FileId>)>,
    /// Where the parser reported errors: items holding one are not held to completeness
    /// checks (missing settings, triggers, limits, unused names), which would only repeat it.
    pub syntax_errors: Vec<Span>,
}

/// What kind of thing a declared name is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum DeclKind {
    Universe,
    Limits,
    Model,
    Agent,
    Trigger,
    Workflow,
    Team,
}

impl DeclKind {
    pub fn word(self) -> &'static str {
        match self {
            DeclKind::Universe => "universe",
            DeclKind::Limits => "limits",
            DeclKind::Model => "model",
            DeclKind::Agent => "agent",
            DeclKind::Trigger => "trigger",
            DeclKind::Workflow => "workflow",
            DeclKind::Team => "team",
        }
    }

    fn of(item: &Item) -> Option<DeclKind> {
        Some(match item {
            Item::Universe(_) => DeclKind::Universe,
            Item::Limits(_) => DeclKind::Limits,
            Item::Model(_) => DeclKind::Model,
            Item::Agent(_) => DeclKind::Agent,
            Item::Trigger(_) => DeclKind::Trigger,
            Item::Workflow(_) => DeclKind::Workflow,
            Item::Team(_) => DeclKind::Team,
            Item::Import(_) | Item::Error(_) => return None,
        })
    }
}

/// Where a declaration lives.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct DeclRef {
    pub file: FileId,
    pub item: usize,
    pub kind: DeclKind,
    pub span: Span,
}

/// Words that cannot name a declaration.
pub const RESERVED: &[&str] = &[
    "and", "or", "not", "true", "false", "if", "else", "let", "match", "ask", "using", "end", "in", "crosses", "above",
    "below", "buy", "sell", "hold", "cancel", "notify", "log", "size", "of", "all", "on", "throttle", "per", "during",
    "schedule", "webhook", "manual", "tz",
];

/// Declarations visible in one file.
#[derive(Debug, Default, Clone)]
pub struct Scope {
    pub names: BTreeMap<String, DeclRef>,
    /// The unnamed `limits { … }` that applies where no other limits are given.
    pub global_limits: Option<DeclRef>,
}

/// What a recording check learned about positions, for editors (hover, navigation, hints).
/// Only [`check_recording`] fills it; [`check`] leaves it empty.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    /// The type of each expression the checker typed, in the order it typed them.
    pub types: Vec<TypeFact>,
    /// Every name the checker resolved, with what it refers to.
    pub refs: Vec<RefFact>,
    /// Local bindings: `let`, `ask` and an agent's inputs.
    pub locals: Vec<LocalFact>,
}

#[derive(Debug, Clone)]
pub struct TypeFact {
    pub file: FileId,
    pub span: Span,
    pub ty: Ty,
}

/// What a name refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Target {
    Decl(DeclRef),
    /// A local binding, identified by the span of its name where it is bound.
    Local {
        file: FileId,
        span: Span,
    },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RefFact {
    pub file: FileId,
    pub span: Span,
    pub target: Target,
}

#[derive(Debug, Clone)]
pub struct LocalFact {
    pub file: FileId,
    pub span: Span,
    pub name: String,
    pub ty: Ty,
}

pub struct CheckResult {
    pub diagnostics: Vec<Diagnostic>,
    /// Filled only by [`check_recording`].
    pub facts: Facts,
    pub scopes: BTreeMap<FileId, Scope>,
    /// Order sizes whose type is money (the rest are shares), by file and span: lowering
    /// needs the checker's answer, not a guess from the syntax.
    pub money_sizes: BTreeSet<(FileId, Span)>,
}

/// Checks one expression on its own: no declarations are in scope, only the standard library.
/// Returns its type and the diagnostics.
pub fn check_expr(file: FileId, e: &ast::Expr) -> (Ty, Vec<Diagnostic>) {
    let units = BTreeMap::new();
    let scopes = BTreeMap::new();
    let mut cx = Checker::new(&units, &scopes, file, Vec::new(), BTreeMap::new());
    let t = cx.value(e);
    (t.ty, cx.diags)
}

/// Checks one expression like [`check_expr`] and also returns the types it recorded for each
/// subexpression (the REPL completes fields with them).
pub fn check_expr_recording(file: FileId, e: &ast::Expr) -> (Ty, Vec<Diagnostic>, Facts) {
    let units = BTreeMap::new();
    let scopes = BTreeMap::new();
    let mut cx = Checker::new(&units, &scopes, file, Vec::new(), BTreeMap::new());
    cx.facts = Some(Facts::default());
    let t = cx.value(e);
    let facts = cx.facts.take().unwrap_or_default();
    (t.ty, cx.diags, facts)
}

/// Checks every file of the project.
pub fn check(units: &[Unit]) -> CheckResult {
    check_with(units, false)
}

/// Checks like [`check`] and also records [`Facts`]: the types of expressions and what each
/// name refers to.
pub fn check_recording(units: &[Unit]) -> CheckResult {
    check_with(units, true)
}

fn check_with(units: &[Unit], record: bool) -> CheckResult {
    let by_id: BTreeMap<FileId, &Unit> = units.iter().map(|u| (u.id, u)).collect();
    let mut diags = Vec::new();
    import_cycles(units, &by_id, &mut diags);
    let own: BTreeMap<FileId, Scope> = units.iter().map(|u| (u.id, own_scope(u, &mut diags))).collect();
    let mut scopes = BTreeMap::new();
    for u in units {
        scopes.insert(u.id, visible_scope(u, &by_id, &own, &mut diags));
    }
    let broken = units.iter().map(|u| (u.id, u.syntax_errors.clone())).collect();
    let mut cx = Checker::new(&by_id, &scopes, FileId(0), diags, broken);
    cx.facts = record.then(Facts::default);
    cx.collect_team_members();
    for u in units {
        cx.file = u.id;
        for (i, item) in u.ast.items.iter().enumerate() {
            cx.item = ItemCx::default();
            cx.locals.clear();
            cx.check_item(i, item);
        }
    }
    cx.unused(units);
    let money_sizes = std::mem::take(&mut cx.money_sizes);
    let facts = cx.facts.take().unwrap_or_default();
    let mut diagnostics = cx.diags;
    diagnostics.sort_by_key(|d| (d.file, d.span.start, d.code));
    diagnostics.dedup();
    CheckResult { diagnostics, facts, scopes, money_sizes }
}

fn own_scope(u: &Unit, diags: &mut Vec<Diagnostic>) -> Scope {
    let mut s = Scope::default();
    for (i, item) in u.ast.items.iter().enumerate() {
        let Some(kind) = DeclKind::of(item) else { continue };
        let r = |span| DeclRef { file: u.id, item: i, kind, span };
        let Some(name) = item.name() else {
            // The unnamed limits block.
            if let Some(prev) = s.global_limits {
                diags.push(
                    Diagnostic::new(Code::Duplicate, u.id, item_head(item), "more than one unnamed `limits` block")
                        .label("second default limits")
                        .with_label(prev.file, prev.span, "first declared here")
                        .help("merge them, or give one a name and refer to it with `limits NAME`"),
                );
            } else {
                s.global_limits = Some(r(item_head(item)));
            }
            continue;
        };
        if name.text.is_empty() {
            continue;
        }
        if RESERVED.contains(&name.text.as_str()) || strat_stdlib::global(&name.text).is_some() {
            diags.push(
                Diagnostic::new(
                    Code::ReservedName,
                    u.id,
                    name.span,
                    format!("`{}` cannot name a {}", name.text, kind.word()),
                )
                .label(if strat_stdlib::global(&name.text).is_some() {
                    "this is a built-in value"
                } else {
                    "this is a keyword"
                })
                .help(format!("choose another name, e.g. `my_{}`", name.text)),
            );
            continue;
        }
        if kind == DeclKind::Universe
            && name.text.starts_with(|c: char| c.is_ascii_uppercase())
            && name.text.chars().all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        {
            diags.push(
                Diagnostic::new(
                    Code::ReservedName,
                    u.id,
                    name.span,
                    format!("universe `{}` would read as a ticker", name.text),
                )
                .label("written like a ticker symbol")
                .fix(
                    name.span,
                    name.text.to_lowercase(),
                    format!("name it in lower case: `{}`", name.text.to_lowercase()),
                ),
            );
            continue;
        }
        if let Some(prev) = s.names.get(&name.text) {
            diags.push(duplicate(u.id, name, *prev));
            continue;
        }
        s.names.insert(name.text.clone(), r(name.span));
    }
    s
}

fn duplicate(file: FileId, name: &ast::Name, prev: DeclRef) -> Diagnostic {
    Diagnostic::new(Code::Duplicate, file, name.span, format!("`{}` is declared more than once", name.text))
        .label(format!("`{}` declared again here", name.text))
        .with_label(prev.file, prev.span, format!("first declared here as a {}", prev.kind.word()))
        .help("rename one of them")
}

/// The keyword span of an item, for items without a name.
fn item_head(item: &Item) -> Span {
    let s = item.span();
    Span::new(s.start as usize, (s.start as usize + 6).min(s.end as usize))
}

fn visible_scope(
    u: &Unit,
    by_id: &BTreeMap<FileId, &Unit>,
    own: &BTreeMap<FileId, Scope>,
    diags: &mut Vec<Diagnostic>,
) -> Scope {
    let mut s = own.get(&u.id).cloned().unwrap_or_default();
    for &(item_index, target) in &u.imports {
        let (Some(target), Some(Item::Import(imp))) = (target, u.ast.items.get(item_index)) else { continue };
        let Some(theirs) = own.get(&target) else { continue };
        let path = by_id.get(&target).map_or("", |t| t.path.as_str());
        let wanted: Vec<(String, Span)> = match &imp.names {
            Some(names) => names.iter().map(|n| (n.text.clone(), n.span)).collect(),
            None => theirs.names.keys().map(|k| (k.clone(), imp.span)).collect(),
        };
        for (name, span) in wanted {
            let Some(r) = theirs.names.get(&name) else {
                let mut d =
                    Diagnostic::new(Code::NotExported, u.id, span, format!("`{name}` is not declared in \"{path}\""))
                        .label("not found in that file");
                if let Some(sug) = strat_stdlib::suggest(&name, theirs.names.keys().map(String::as_str)) {
                    d = d.fix(span, sug, format!("did you mean `{sug}`?"));
                }
                diags.push(d);
                continue;
            };
            match s.names.get(&name) {
                Some(prev) if prev != r => diags.push(
                    Diagnostic::new(Code::Duplicate, u.id, span, format!("`{name}` is declared more than once"))
                        .label(format!("imports another `{name}`"))
                        .with_label(prev.file, prev.span, "already declared here")
                        .with_label(r.file, r.span, "the imported declaration")
                        .help(
                            "rename one of them, or import only the names you need: `import \"file.strat\" { a, b }`",
                        ),
                ),
                Some(_) => {}
                None => {
                    s.names.insert(name, *r);
                }
            }
        }
        if s.global_limits.is_none() && imp.names.is_none() {
            s.global_limits = theirs.global_limits;
        }
    }
    s
}

/// Reports each import that closes a cycle.
fn import_cycles(units: &[Unit], by_id: &BTreeMap<FileId, &Unit>, diags: &mut Vec<Diagnostic>) {
    // Iterative DFS with colours: 0 new, 1 on stack, 2 done.
    let mut colour: BTreeMap<FileId, u8> = BTreeMap::new();
    for root in units {
        if colour.get(&root.id).copied().unwrap_or(0) != 0 {
            continue;
        }
        let mut stack: Vec<(FileId, usize)> = vec![(root.id, 0)];
        colour.insert(root.id, 1);
        while let Some(&mut (f, ref mut next)) = stack.last_mut() {
            let Some(u) = by_id.get(&f) else {
                stack.pop();
                continue;
            };
            if *next >= u.imports.len() {
                colour.insert(f, 2);
                stack.pop();
                continue;
            }
            let (_, target) = u.imports[*next];
            *next += 1;
            let Some(t) = target else { continue };
            match colour.get(&t).copied().unwrap_or(0) {
                0 => {
                    colour.insert(t, 1);
                    stack.push((t, 0));
                }
                1 => {
                    let start = stack.iter().position(|(g, _)| *g == t).unwrap_or(0);
                    let chain: Vec<&str> = stack[start..]
                        .iter()
                        .map(|(g, _)| by_id.get(g).map_or("?", |u| u.path.as_str()))
                        .chain(std::iter::once(by_id.get(&t).map_or("?", |u| u.path.as_str())))
                        .collect();
                    let help = format!(
                        "{}; move the shared declarations into a file that imports nothing from these",
                        chain.join(" imports ")
                    );
                    // Report at each import on the cycle, so every file in it shows the error.
                    let frames: Vec<(FileId, usize)> =
                        stack[start..].iter().map(|(g, n)| (*g, n.saturating_sub(1))).collect();
                    for (g, k) in frames {
                        let Some(gu) = by_id.get(&g) else { continue };
                        let Some(&(item_index, _)) = gu.imports.get(k) else { continue };
                        let span = gu.ast.items.get(item_index).map_or(Span::default(), Item::span);
                        diags.push(
                            Diagnostic::new(Code::ImportCycle, g, span, "import cycle")
                                .label("this import is part of a cycle")
                                .help(help.clone()),
                        );
                    }
                }
                _ => {}
            }
        }
    }
}

/// Per-item state while checking one agent, workflow or team.
#[derive(Debug, Default, Clone)]
struct ItemCx {
    /// Type of the `trigger` value here.
    trigger: Option<Ty>,
    /// Context sources an agent declared; `None` where everything is available.
    context: Option<BTreeSet<&'static str>>,
    /// Effective limits: (max_position, max_allocation, allow, block) when known constants.
    limits: Option<decls::KnownLimits>,
    /// Symbol set the current trigger condition ranges over.
    over: Option<(String, Span)>,
    /// The first trigger here that fires with no symbol (a schedule, a webhook):
    /// under it `trigger.symbol` has no value.
    no_symbol: Option<NoSymbol>,
}

#[derive(Debug, Clone, Copy)]
struct NoSymbol {
    file: FileId,
    span: Option<Span>,
    what: &'static str,
}

#[derive(Debug)]
struct Local {
    name: String,
    ty: Ty,
    span: Span,
    used: bool,
    warn_unused: bool,
}

struct Checker<'a> {
    units: &'a BTreeMap<FileId, &'a Unit>,
    scopes: &'a BTreeMap<FileId, Scope>,
    diags: Vec<Diagnostic>,
    used: BTreeSet<DeclRef>,
    /// For each agent, the teams it belongs to.
    team_members: BTreeMap<DeclRef, Vec<DeclRef>>,
    file: FileId,
    locals: Vec<Local>,
    item: ItemCx,
    /// Inside a template placeholder (unknown names are E0301 there).
    in_template: bool,
    money_sizes: BTreeSet<(FileId, Span)>,
    /// Constants of each `limits` declaration, computed once.
    limits_cache: BTreeMap<DeclRef, Option<decls::KnownLimits>>,
    /// Tickers of each universe, computed once.
    universe_cache: BTreeMap<DeclRef, Option<BTreeSet<String>>>,
    /// Spans of syntax errors per file: items holding one skip completeness checks.
    broken: BTreeMap<FileId, Vec<Span>>,
    /// Recorded positions, when asked for.
    facts: Option<Facts>,
}

impl<'a> Checker<'a> {
    fn new(
        units: &'a BTreeMap<FileId, &'a Unit>,
        scopes: &'a BTreeMap<FileId, Scope>,
        file: FileId,
        diags: Vec<Diagnostic>,
        broken: BTreeMap<FileId, Vec<Span>>,
    ) -> Checker<'a> {
        Checker {
            units,
            scopes,
            diags,
            used: BTreeSet::new(),
            team_members: BTreeMap::new(),
            file,
            locals: Vec::new(),
            item: ItemCx::default(),
            in_template: false,
            money_sizes: BTreeSet::new(),
            limits_cache: BTreeMap::new(),
            universe_cache: BTreeMap::new(),
            broken,
            facts: None,
        }
    }

    fn record_ref(&mut self, span: Span, target: Target) {
        let file = self.file;
        if let Some(f) = &mut self.facts {
            f.refs.push(RefFact { file, span, target });
        }
    }

    fn record_type(&mut self, span: Span, ty: &Ty) {
        let file = self.file;
        if let Some(f) = &mut self.facts {
            f.types.push(TypeFact { file, span, ty: ty.clone() });
        }
    }

    fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    /// Whether the item spanning `span` in `file` holds a syntax error.
    fn broken(&self, file: FileId, span: Span) -> bool {
        self.broken.get(&file).is_some_and(|errs| errs.iter().any(|e| e.start >= span.start && e.start <= span.end))
    }

    fn scope(&self) -> &'a Scope {
        static EMPTY: std::sync::OnceLock<Scope> = std::sync::OnceLock::new();
        self.scopes.get(&self.file).unwrap_or_else(|| EMPTY.get_or_init(Scope::default))
    }

    fn item_at(&self, r: DeclRef) -> Option<&'a Item> {
        self.units.get(&r.file).and_then(|u| u.ast.items.get(r.item))
    }

    /// Looks up a declaration by name, marking it used (and recording the use at `span`).
    fn lookup(&mut self, name: &str, span: Span) -> Option<DeclRef> {
        let r = self.scope().names.get(name).copied()?;
        self.used.insert(r);
        self.record_ref(span, Target::Decl(r));
        Some(r)
    }

    /// Resolves `name` to a declaration of `kind`, reporting what is wrong otherwise.
    fn resolve(&mut self, name: &ast::Name, kind: DeclKind) -> Option<DeclRef> {
        if name.text.is_empty() {
            return None;
        }
        match self.lookup(&name.text, name.span) {
            Some(r) if r.kind == kind => Some(r),
            Some(r) => {
                let d = Diagnostic::new(
                    Code::WrongKind,
                    self.file,
                    name.span,
                    format!("`{}` is a {}, but a {} is expected here", name.text, r.kind.word(), kind.word()),
                )
                .label(format!("expected a {}", kind.word()))
                .with_label(r.file, r.span, format!("`{}` is declared here", name.text));
                self.push(d);
                None
            }
            None => {
                let candidates: Vec<&str> =
                    self.scope().names.iter().filter(|(_, r)| r.kind == kind).map(|(n, _)| n.as_str()).collect();
                let mut d = Diagnostic::new(
                    Code::Unresolved,
                    self.file,
                    name.span,
                    format!("no {} named `{}`", kind.word(), name.text),
                )
                .label("not found");
                d = match strat_stdlib::suggest(&name.text, candidates.iter().copied()) {
                    Some(s) => d.fix(name.span, s, format!("did you mean `{s}`?")),
                    None => d.help(format!(
                        "declare it with `{} {} …`, or import the file that does",
                        kind.word(),
                        name.text
                    )),
                };
                self.push(d);
                None
            }
        }
    }

    fn collect_team_members(&mut self) {
        for u in self.units.values() {
            let Some(scope) = self.scopes.get(&u.id) else { continue };
            for (i, item) in u.ast.items.iter().enumerate() {
                let Item::Team(t) = item else { continue };
                let team = DeclRef { file: u.id, item: i, kind: DeclKind::Team, span: t.name.span };
                for f in &t.fields {
                    let names: Vec<&ast::Name> = match f {
                        ast::TeamField::Members(ns, _) => ns.iter().collect(),
                        ast::TeamField::Supervisor(n, _) => vec![n],
                        _ => continue,
                    };
                    for n in names {
                        if let Some(r) = scope.names.get(&n.text)
                            && r.kind == DeclKind::Agent
                        {
                            self.team_members.entry(*r).or_default().push(team);
                        }
                    }
                }
            }
        }
    }

    fn check_item(&mut self, index: usize, item: &Item) {
        match item {
            Item::Import(_) | Item::Error(_) => {}
            Item::Universe(u) => self.universe(u),
            Item::Limits(l) => {
                self.limits_body(&l.body);
            }
            Item::Model(m) => self.model_spec(&m.spec),
            Item::Trigger(t) => {
                self.item.trigger = None;
                self.trigger_spec(&t.spec);
            }
            Item::Agent(a) => self.agent(index, a),
            Item::Workflow(w) => self.workflow(w),
            Item::Team(t) => self.team(index, t),
        }
    }

    /// Warns about universes, limits, models and triggers that nothing refers to.
    fn unused(&mut self, units: &[Unit]) {
        for u in units {
            let Some(scope) = self.scopes.get(&u.id) else { continue };
            for r in scope.names.values() {
                if r.file != u.id || self.used.contains(r) {
                    continue;
                }
                if matches!(r.kind, DeclKind::Agent | DeclKind::Workflow | DeclKind::Team) {
                    continue;
                }
                if self.item_at(*r).is_some_and(|i| self.broken(r.file, i.span())) {
                    continue;
                }
                let name = self.item_at(*r).and_then(Item::name).map_or("", |n| n.text.as_str());
                self.diags.push(
                    Diagnostic::new(
                        Code::UnusedDecl,
                        r.file,
                        r.span,
                        format!("{} `{name}` is never used", r.kind.word()),
                    )
                    .label("declared here")
                    .help(format!("remove it, or prefix the name with `_` to keep it (`_{name}`)")),
                );
            }
        }
        self.diags
            .retain(|d| d.code != Code::UnusedDecl || !d.message.split('`').nth(1).is_some_and(|n| n.starts_with('_')));
    }
}

/// A literal number's value (used by lowering for counts such as `rounds 3`).
pub fn const_value(e: &ast::Expr) -> Option<f64> {
    expr::const_number(e)
}
