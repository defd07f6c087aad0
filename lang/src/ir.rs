//! The DAG IR: one graph per agent, workflow and team, plus the declarations they use.
//!
//! The IR holds no source spans, so reformatting a file does not change its hash. Numbers are
//! kept as decimal strings, exactly as written. [`validate`] checks the graph invariants the
//! runtime relies on: acyclic, every node reachable from `start`, every path ends at an `end`.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// Bumped whenever the IR's shape changes.
pub const IR_VERSION: u32 = 1;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Program {
    pub version: u32,
    /// SHA-256 of the program serialised with this field empty, in hex.
    pub hash: String,
    pub universes: BTreeMap<String, Vec<String>>,
    /// Named limits; the file's default limits are under the key `""`.
    pub limits: BTreeMap<String, BTreeMap<String, Value>>,
    pub models: BTreeMap<String, Model>,
    pub graphs: Vec<Graph>,
}

impl Program {
    /// Computes and stores the content hash.
    pub fn seal(mut self) -> Program {
        self.hash.clear();
        let bytes = serde_json::to_vec(&self).unwrap_or_default();
        let digest = Sha256::digest(&bytes);
        self.hash = digest.iter().map(|b| format!("{b:02x}")).collect();
        self
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Value {
    Number { value: String, unit: Unit },
    Bool { value: bool },
    Text { value: String },
    Symbols { value: Vec<String> },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    None,
    Percent,
    Money,
    Shares,
    Seconds,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Model {
    pub provider: String,
    pub model: String,
    pub params: BTreeMap<String, Value>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GraphKind {
    Agent,
    Workflow,
    Team,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Graph {
    pub name: String,
    pub kind: GraphKind,
    pub triggers: Vec<Trigger>,
    /// Name of the limits that apply (`""` for the default limits, an inline block is named
    /// `<graph>.limits`), or `None`.
    pub limits: Option<String>,
    pub overlap: Overlap,
    pub start: u32,
    pub nodes: Vec<Node>,
    pub edges: Vec<Edge>,
    /// A team's split of the portfolio between its members (`allocate A 60%, B 40%`): member
    /// name → percent, as written. Empty for agents and workflows, and for teams that split
    /// equally.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub allocation: BTreeMap<String, String>,
    /// `description "…"` as written: reports and team prompts show it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub description: Option<String>,
    /// An agent's `role "…"` (`analyst`, `validator`, …): how a team tells its members apart.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Overlap {
    Skip,
    Queue,
    Replace,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Trigger {
    #[serde(flatten)]
    pub kind: TriggerKind,
    /// `(count, window in seconds)` pairs.
    pub throttles: Vec<(u32, u64)>,
    pub market_hours: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "trigger", rename_all = "snake_case")]
pub enum TriggerKind {
    Schedule {
        cron: String,
        tz: String,
    },
    Webhook {
        path: Option<String>,
        secret_env: Option<String>,
        payload: Option<Type>,
    },
    Manual,
    /// A boolean condition, evaluated at each bar close of the symbols it reads.
    Condition {
        expr: Expr,
    },
    News {
        keywords: Vec<String>,
        symbols: Vec<String>,
        sentiment: Option<String>,
        min_relevance: Option<String>,
    },
    Bar {
        symbols: Vec<String>,
        seconds: u64,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Node {
    pub id: u32,
    #[serde(flatten)]
    pub kind: NodeKind,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "node", rename_all = "snake_case")]
pub enum NodeKind {
    Start,
    /// Branches on a boolean: edges `true` and `false`.
    Condition {
        expr: Expr,
    },
    /// Branches on an enum value: one edge per variant, or `otherwise`.
    Switch {
        expr: Expr,
    },
    /// Evaluates `expr` (market data, news, portfolio) and binds it.
    DataFetch {
        bind: String,
        expr: Expr,
    },
    /// Builds an agent's context from its declared sources.
    Context {
        sources: Vec<Expr>,
    },
    /// Asks a model; the answer is decoded into `output` or the run fails with a typed error.
    Llm {
        bind: String,
        model: String,
        system: Option<Template>,
        prompt: Template,
        output: Type,
    },
    Action {
        action: Action,
    },
    /// Runs a member agent's graph.
    AgentCall {
        agent: String,
        bind: String,
    },
    Vote {
        rule: String,
        members: Vec<String>,
    },
    Supervise {
        agent: String,
        proposals: Vec<String>,
    },
    Debate {
        members: Vec<String>,
        rounds: u32,
        fallback: String,
    },
    End,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "action", rename_all = "snake_case")]
pub enum Action {
    Order {
        side: String,
        symbol: Expr,
        size: Size,
        limit: Option<Expr>,
        stop: Option<Expr>,
        stop_loss: Option<Expr>,
        take_profit: Option<Expr>,
        tif: String,
    },
    /// Turns a model's decision (bound to `from`) into an order, within `actions`.
    ExecuteDecision {
        from: String,
        actions: Vec<String>,
    },
    Cancel {
        symbol: Option<Expr>,
    },
    Notify {
        message: Template,
    },
    Log {
        message: Template,
    },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "size", rename_all = "snake_case")]
pub enum Size {
    All,
    Shares { expr: Expr },
    Value { expr: Expr },
    Fraction { expr: Expr, of: String },
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Edge {
    pub from: u32,
    pub to: u32,
    /// `"true"`, `"false"`, a variant name, `"otherwise"`, `"hold"`, or absent for always.
    pub when: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Type {
    Number,
    Bool,
    Text,
    Percent,
    Money,
    Price,
    Quantity,
    Duration,
    Symbol,
    SymbolSet,
    TimeOfDay,
    Date,
    Timestamp,
    Enum { variants: Vec<String> },
    Record { name: Option<String>, fields: Vec<(String, Type)> },
    List { item: Box<Type> },
    Optional { item: Box<Type> },
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(untagged)]
pub enum Part {
    Text(String),
    Expr(Expr),
}

pub type Template = Vec<Part>;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "e", rename_all = "snake_case")]
pub enum Expr {
    Num {
        value: String,
        unit: Unit,
    },
    Bool {
        value: bool,
    },
    Text {
        value: Template,
    },
    Date {
        value: String,
    },
    Time {
        value: String,
    },
    Symbol {
        value: String,
    },
    /// A named universe, expanded in `Program::universes`.
    Universe {
        name: String,
    },
    List {
        items: Vec<Expr>,
    },
    /// A `let`, `ask` or input binding.
    Local {
        name: String,
    },
    /// A built-in value: `portfolio`, `trigger`, `limits`, …
    Global {
        name: String,
    },
    /// An enum variant such as `buy` or `positive`.
    Variant {
        name: String,
    },
    /// A stdlib call with every argument in parameter order (defaults filled in).
    Call {
        func: String,
        args: Vec<Expr>,
    },
    Field {
        base: Box<Expr>,
        name: String,
    },
    Not {
        operand: Box<Expr>,
    },
    Neg {
        operand: Box<Expr>,
    },
    Binary {
        op: String,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
    },
}

impl Expr {
    /// This expression with every occurrence of `from` replaced by `to` (a universe by one of
    /// its tickers, `trigger.symbol` by a ticker).
    pub fn replaced(&self, from: &Expr, to: &Expr) -> Expr {
        if self == from {
            return to.clone();
        }
        let r = |x: &Expr| Box::new(x.replaced(from, to));
        match self {
            Expr::Call { func, args } => {
                Expr::Call { func: func.clone(), args: args.iter().map(|a| a.replaced(from, to)).collect() }
            }
            Expr::Field { base, name } => Expr::Field { base: r(base), name: name.clone() },
            Expr::Not { operand } => Expr::Not { operand: r(operand) },
            Expr::Neg { operand } => Expr::Neg { operand: r(operand) },
            Expr::Binary { op, lhs, rhs } => Expr::Binary { op: op.clone(), lhs: r(lhs), rhs: r(rhs) },
            Expr::List { items } => Expr::List { items: items.iter().map(|i| i.replaced(from, to)).collect() },
            other => other.clone(),
        }
    }
}

/// How tightly an operator binds (higher binds tighter), as in the grammar.
fn precedence(op: &str) -> u8 {
    match op {
        "or" => 1,
        "and" => 2,
        "+" | "-" => 4,
        "*" | "/" => 5,
        _ => 3,
    }
}

/// A duration in seconds as the language writes it (`1d`, `15m`, `90s`).
fn duration(secs: &str) -> String {
    let Ok(n) = secs.parse::<u64>() else { return format!("{secs}s") };
    for (unit, size) in [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)] {
        if n >= size && n % size == 0 {
            return format!("{}{unit}", n / size);
        }
    }
    format!("{n}s")
}

impl std::fmt::Display for Expr {
    /// The expression as source text (formatting aside), for messages and records.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let child = |f: &mut std::fmt::Formatter<'_>, e: &Expr, min: u8| match e {
            Expr::Binary { op, .. } if precedence(op) < min => write!(f, "({e})"),
            _ => write!(f, "{e}"),
        };
        match self {
            Expr::Num { value, unit } => match unit {
                Unit::None => f.write_str(value),
                Unit::Percent => write!(f, "{value}%"),
                Unit::Money => write!(f, "${value}"),
                Unit::Shares => write!(f, "{value} shares"),
                Unit::Seconds => f.write_str(&duration(value)),
            },
            Expr::Bool { value } => write!(f, "{value}"),
            Expr::Text { value } => {
                f.write_str("\"")?;
                for p in value {
                    match p {
                        Part::Text(t) => f.write_str(t)?,
                        Part::Expr(e) => write!(f, "{{{{{e}}}}}")?,
                    }
                }
                f.write_str("\"")
            }
            Expr::Date { value } | Expr::Time { value } | Expr::Symbol { value } => f.write_str(value),
            Expr::Universe { name } | Expr::Local { name } | Expr::Global { name } | Expr::Variant { name } => {
                f.write_str(name)
            }
            Expr::List { items } => {
                f.write_str("[")?;
                for (i, e) in items.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str("]")
            }
            Expr::Call { func, args } => {
                write!(f, "{func}(")?;
                for (i, e) in args.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{e}")?;
                }
                f.write_str(")")
            }
            Expr::Field { base, name } => write!(f, "{base}.{name}"),
            Expr::Not { operand } => {
                f.write_str("not ")?;
                child(f, operand, 3)
            }
            Expr::Neg { operand } => {
                f.write_str("-")?;
                child(f, operand, 6)
            }
            Expr::Binary { op, lhs, rhs } => {
                let p = precedence(op);
                child(f, lhs, p)?;
                write!(f, " {op} ")?;
                child(f, rhs, p + 1)
            }
        }
    }
}

/// A graph invariant that does not hold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid {
    pub graph: String,
    pub message: String,
}

/// Checks that a graph is a DAG whose every node is reachable and whose every path ends.
pub fn validate(g: &Graph) -> Vec<Invalid> {
    let mut out = Vec::new();
    let bad = |m: String| Invalid { graph: g.name.clone(), message: m };
    let index: BTreeMap<u32, usize> = g.nodes.iter().enumerate().map(|(i, n)| (n.id, i)).collect();
    if index.len() != g.nodes.len() {
        out.push(bad("two nodes share an id".into()));
        return out;
    }
    let mut succ: Vec<Vec<usize>> = vec![Vec::new(); g.nodes.len()];
    let mut indegree = vec![0usize; g.nodes.len()];
    for e in &g.edges {
        match (index.get(&e.from), index.get(&e.to)) {
            (Some(&a), Some(&b)) => {
                succ[a].push(b);
                indegree[b] += 1;
            }
            _ => out.push(bad(format!("edge {} -> {} names a missing node", e.from, e.to))),
        }
    }
    // Kahn's algorithm: anything left over sits on a cycle.
    let mut queue: Vec<usize> = (0..g.nodes.len()).filter(|i| indegree[*i] == 0).collect();
    let mut seen = 0;
    let mut deg = indegree.clone();
    while let Some(n) = queue.pop() {
        seen += 1;
        for &s in &succ[n] {
            deg[s] -= 1;
            if deg[s] == 0 {
                queue.push(s);
            }
        }
    }
    if seen != g.nodes.len() {
        // Nodes left over sit on a cycle or after one; peel off those that lead nowhere within
        // the leftovers, so the message names only nodes on cycles.
        let mut left: Vec<bool> = deg.iter().map(|d| *d > 0).collect();
        loop {
            let before = left.iter().filter(|x| **x).count();
            for i in 0..left.len() {
                if left[i] && !succ[i].iter().any(|s| left[*s]) {
                    left[i] = false;
                }
            }
            if left.iter().filter(|x| **x).count() == before {
                break;
            }
        }
        let on_cycle: Vec<u32> = (0..g.nodes.len()).filter(|i| left[*i]).map(|i| g.nodes[i].id).collect();
        out.push(bad(format!("cycle through nodes {on_cycle:?}")));
    }
    let Some(&start) = index.get(&g.start) else {
        out.push(bad(format!("start node {} does not exist", g.start)));
        return out;
    };
    let mut reached = vec![false; g.nodes.len()];
    let mut stack = vec![start];
    while let Some(n) = stack.pop() {
        if std::mem::replace(&mut reached[n], true) {
            continue;
        }
        stack.extend(&succ[n]);
    }
    for (i, n) in g.nodes.iter().enumerate() {
        if !reached[i] {
            out.push(bad(format!("node {} is unreachable", n.id)));
        }
        let is_end = matches!(n.kind, NodeKind::End);
        if is_end && !succ[i].is_empty() {
            out.push(bad(format!("end node {} has successors", n.id)));
        }
        if !is_end && succ[i].is_empty() {
            out.push(bad(format!("node {} is a dead end (not an end node)", n.id)));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn graph(edges: &[(u32, u32)], ends: &[u32]) -> Graph {
        let ids: std::collections::BTreeSet<u32> = edges.iter().flat_map(|(a, b)| [*a, *b]).collect();
        Graph {
            name: "g".into(),
            kind: GraphKind::Workflow,
            triggers: vec![],
            limits: None,
            overlap: Overlap::Skip,
            start: 0,
            nodes: ids
                .iter()
                .map(|&id| Node { id, kind: if ends.contains(&id) { NodeKind::End } else { NodeKind::Start } })
                .collect(),
            edges: edges.iter().map(|&(from, to)| Edge { from, to, when: None }).collect(),
            allocation: BTreeMap::new(),
            description: None,
            role: None,
        }
    }

    #[test]
    fn expressions_print_as_source() {
        let c = crate::check_expression("change(AAPL, 1d) <= -3% and (rsi(AAPL, 14) < 30 or price(AAPL) > $200)");
        let e = c.expr.expect("checks");
        assert_eq!(e.to_string(), "change(AAPL, 1d) <= -3% and (rsi(AAPL, 14) < 30 or price(AAPL) > $200)");
        let c = crate::check_expression("sma(SPY, 10) crosses above sma(SPY, 30)");
        assert_eq!(c.expr.expect("checks").to_string(), "sma(SPY, 10) crosses above sma(SPY, 30)");
    }

    #[test]
    fn valid_dag_passes() {
        assert!(validate(&graph(&[(0, 1), (0, 2), (1, 3), (2, 3)], &[3])).is_empty());
    }

    #[test]
    fn cycle_unreachable_and_dead_end_are_reported() {
        let errs = validate(&graph(&[(0, 1), (1, 2), (2, 1), (2, 3), (4, 3)], &[3]));
        let msgs: Vec<&str> = errs.iter().map(|e| e.message.as_str()).collect();
        assert_eq!(msgs, vec!["cycle through nodes [1, 2]", "node 4 is unreachable"]);
        let errs = validate(&graph(&[(0, 1)], &[]));
        assert_eq!(errs[0].message, "node 1 is a dead end (not an end node)");
    }

    #[test]
    fn hash_is_stable_and_content_sensitive() {
        let p = Program {
            version: IR_VERSION,
            hash: String::new(),
            universes: BTreeMap::new(),
            limits: BTreeMap::new(),
            models: BTreeMap::new(),
            graphs: vec![graph(&[(0, 1)], &[1])],
        };
        let a = p.clone().seal();
        let b = p.clone().seal();
        assert_eq!(a.hash, b.hash);
        assert_eq!(a.hash.len(), 64);
        let mut q = p;
        q.graphs[0].name = "h".into();
        assert_ne!(q.seal().hash, a.hash);
    }
}
