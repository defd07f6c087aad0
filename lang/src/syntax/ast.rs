//! The syntax tree. Every node keeps its span; missing pieces after an error are `Expr::Error`,
//! `Stmt::Error` or `Item::Error`, so a broken file still yields a full tree.

use crate::span::Span;

#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct File {
    pub items: Vec<Item>,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Name {
    pub text: String,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Item {
    Import(Import),
    Universe(Universe),
    Limits(LimitsDecl),
    Model(ModelDecl),
    Agent(Agent),
    Trigger(TriggerDecl),
    Workflow(Workflow),
    Team(Team),
    Error(Span),
}

impl Item {
    /// The declared name, for items that declare one.
    pub fn name(&self) -> Option<&Name> {
        match self {
            Item::Universe(u) => Some(&u.name),
            Item::Limits(l) => l.name.as_ref(),
            Item::Model(m) => Some(&m.name),
            Item::Agent(a) => Some(&a.name),
            Item::Trigger(t) => Some(&t.name),
            Item::Workflow(w) => Some(&w.name),
            Item::Team(t) => Some(&t.name),
            Item::Import(_) | Item::Error(_) => None,
        }
    }

    pub fn kind_word(&self) -> &'static str {
        match self {
            Item::Import(_) => "import",
            Item::Universe(_) => "universe",
            Item::Limits(_) => "limits",
            Item::Model(_) => "model",
            Item::Agent(_) => "agent",
            Item::Trigger(_) => "trigger",
            Item::Workflow(_) => "workflow",
            Item::Team(_) => "team",
            Item::Error(_) => "item",
        }
    }

    pub fn span(&self) -> Span {
        match self {
            Item::Import(i) => i.span,
            Item::Universe(u) => u.span,
            Item::Limits(l) => l.span,
            Item::Model(m) => m.span,
            Item::Agent(a) => a.span,
            Item::Trigger(t) => t.span,
            Item::Workflow(w) => w.span,
            Item::Team(t) => t.span,
            Item::Error(s) => *s,
        }
    }
}

/// `import "path.strat"` or `import "path.strat" { a, b }`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Import {
    pub path: StrLit,
    pub names: Option<Vec<Name>>,
    pub span: Span,
}

/// `universe tech = [AAPL, MSFT]`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Universe {
    pub name: Name,
    pub symbols: Expr,
    pub span: Span,
}

/// `limits name { field value ... }`; without a name the limits apply to every agent,
/// workflow and team that declares none.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitsDecl {
    pub name: Option<Name>,
    pub body: LimitsBody,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LimitsBody {
    pub settings: Vec<Setting>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Setting {
    pub key: Name,
    pub value: Expr,
    pub span: Span,
}

/// `model sonnet = anthropic("claude-sonnet-4-5", temperature: 0.2)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ModelDecl {
    pub name: Name,
    pub spec: Expr,
    pub span: Span,
}

/// A reference to limits: a name, or a block written in place.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum LimitsRef {
    Named(Name),
    Inline(LimitsBody),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Agent {
    pub name: Name,
    pub fields: Vec<AgentField>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum AgentField {
    /// `model sonnet` or `model openai("gpt-4o")`.
    Model(Expr, Span),
    Limits(LimitsRef, Span),
    /// `context prices(tech), portfolio, news(tech, 24h)`.
    Context(Vec<Expr>, Span),
    Prompt(StrLit, Span),
    System(StrLit, Span),
    Description(StrLit, Span),
    Role(StrLit, Span),
    /// `input { opportunities: list<symbol> }`.
    Input(Schema, Span),
    /// `output { ... }` or `output decision`.
    Output(TypeExpr, Span),
    /// `actions buy, sell`: what decisions the agent may turn into orders.
    Actions(Vec<Name>, Span),
    On(TriggerSpec),
    Overlap(Name, Span),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerDecl {
    pub name: Name,
    pub spec: TriggerSpec,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TriggerSpec {
    pub kind: TriggerKind,
    /// Every rate of every `throttle` clause.
    pub throttles: Vec<Throttle>,
    /// `during market_hours`.
    pub market_hours: Option<Span>,
    /// The `throttle …` and `during market_hours` clauses as written, in order, so that tools
    /// which reproduce the text (the formatter) keep a clause written twice.
    pub clauses: Vec<TriggerClause>,
    pub span: Span,
}

/// One modifier clause of a trigger, from its keyword to its end.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TriggerClause {
    /// `throttle N per D, …`: its rates are the `throttles` inside this span.
    Throttle(Span),
    /// `during market_hours`.
    During(Span),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TriggerKind {
    /// `schedule "0 16 * * 1-5" tz "America/New_York"`.
    Schedule {
        cron: StrLit,
        tz: Option<StrLit>,
    },
    /// `webhook "path" secret env("NAME") payload { ... }`.
    Webhook {
        path: Option<StrLit>,
        /// `secret` and `payload` as written, in order; see [`WebhookOption::secret`].
        options: Vec<WebhookOption>,
    },
    Manual(Span),
    /// Any expression: a boolean condition (price, volume, indicator), `news(...)`, `bar(...)`,
    /// or the name of a declared trigger.
    Expr(Expr),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WebhookOption {
    Secret(Expr),
    Payload(Schema),
}

impl WebhookOption {
    /// The secret in force: the last one written.
    pub fn secret(options: &[WebhookOption]) -> Option<&Expr> {
        options.iter().rev().find_map(|o| match o {
            WebhookOption::Secret(e) => Some(e),
            WebhookOption::Payload(_) => None,
        })
    }

    /// The payload schema in force: the last one written.
    pub fn payload(options: &[WebhookOption]) -> Option<&Schema> {
        options.iter().rev().find_map(|o| match o {
            WebhookOption::Payload(s) => Some(s),
            WebhookOption::Secret(_) => None,
        })
    }
}

/// `N per DURATION`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Throttle {
    pub count: Expr,
    pub window: Expr,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Workflow {
    pub name: Name,
    pub settings: Vec<AgentField>,
    pub body: Block,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Team {
    pub name: Name,
    pub fields: Vec<TeamField>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TeamField {
    Members(Vec<Name>, Span),
    Coordination(Name, Span),
    Supervisor(Name, Span),
    Vote(Name, Span),
    Rounds(Expr, Span),
    Fallback(Name, Span),
    /// `allocate A 60%, B 40%`.
    Allocate(Vec<(Name, Expr)>, Span),
    Limits(LimitsRef, Span),
    On(TriggerSpec),
    Overlap(Name, Span),
    Description(StrLit, Span),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Block {
    pub stmts: Vec<Stmt>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Stmt {
    Let {
        name: Name,
        value: Expr,
        span: Span,
    },
    If {
        cond: Expr,
        then: Block,
        otherwise: Option<Else>,
        span: Span,
    },
    Match {
        scrutinee: Expr,
        arms: Vec<Arm>,
        span: Span,
    },
    /// `ask name: schema using model "prompt"`.
    Ask {
        name: Name,
        schema: TypeExpr,
        model: Option<Expr>,
        prompt: StrLit,
        span: Span,
    },
    Order(Box<Order>),
    Cancel {
        symbol: Option<Expr>,
        span: Span,
    },
    Notify {
        message: StrLit,
        span: Span,
    },
    Log {
        message: StrLit,
        span: Span,
    },
    End(Span),
    Error(Span),
}

impl Stmt {
    pub fn span(&self) -> Span {
        match self {
            Stmt::Let { span, .. }
            | Stmt::If { span, .. }
            | Stmt::Match { span, .. }
            | Stmt::Ask { span, .. }
            | Stmt::Cancel { span, .. }
            | Stmt::Notify { span, .. }
            | Stmt::Log { span, .. } => *span,
            Stmt::Order(o) => o.span,
            Stmt::End(s) | Stmt::Error(s) => *s,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Else {
    Block(Block),
    If(Box<Stmt>),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arm {
    /// Variant names; empty means the wildcard `_`.
    pub patterns: Vec<Name>,
    pub body: Block,
    pub span: Span,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Side {
    Buy,
    Sell,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Order {
    pub side: Side,
    pub symbol: Expr,
    pub size: Option<Size>,
    pub limit: Option<Expr>,
    pub stop: Option<Expr>,
    pub stop_loss: Option<Expr>,
    pub take_profit: Option<Expr>,
    pub tif: Option<Name>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Size {
    /// `size all`: the whole position.
    All(Span),
    /// `size EXPR`: shares (quantity) or a money amount, by the expression's type.
    Amount(Expr),
    /// `size 5% of portfolio` (also `cash`, `position`).
    Fraction { percent: Expr, of: Name },
}

/// A type in a schema.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TypeExpr {
    /// `number`, `symbol`, `decision`, `list<T>` (args hold `T`).
    Named {
        name: Name,
        args: Vec<TypeExpr>,
        span: Span,
    },
    /// `buy | sell | hold`.
    Enum(Vec<Name>, Span),
    Record(Schema),
    Optional(Box<TypeExpr>, Span),
    Error(Span),
}

impl TypeExpr {
    pub fn span(&self) -> Span {
        match self {
            TypeExpr::Named { span, .. }
            | TypeExpr::Enum(_, span)
            | TypeExpr::Optional(_, span)
            | TypeExpr::Error(span) => *span,
            TypeExpr::Record(s) => s.span,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Schema {
    pub fields: Vec<SchemaField>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SchemaField {
    pub name: Name,
    pub ty: TypeExpr,
    pub span: Span,
}

/// A string literal: its decoded text, split into text and `{{ … }}` placeholders.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrLit {
    /// The decoded text, placeholders included as written.
    pub value: String,
    pub parts: Vec<StrPart>,
    pub span: Span,
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StrPart {
    Text(String),
    Hole(Expr),
}

impl StrLit {
    pub fn holes(&self) -> impl Iterator<Item = &Expr> {
        self.parts.iter().filter_map(|p| match p {
            StrPart::Hole(e) => Some(e),
            StrPart::Text(_) => None,
        })
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum BinOp {
    Or,
    And,
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    CrossesAbove,
    CrossesBelow,
    In,
    Add,
    Sub,
    Mul,
    Div,
}

impl BinOp {
    pub fn symbol(self) -> &'static str {
        match self {
            BinOp::Or => "or",
            BinOp::And => "and",
            BinOp::Eq => "==",
            BinOp::Ne => "!=",
            BinOp::Lt => "<",
            BinOp::Le => "<=",
            BinOp::Gt => ">",
            BinOp::Ge => ">=",
            BinOp::CrossesAbove => "crosses above",
            BinOp::CrossesBelow => "crosses below",
            BinOp::In => "in",
            BinOp::Add => "+",
            BinOp::Sub => "-",
            BinOp::Mul => "*",
            BinOp::Div => "/",
        }
    }

    pub fn is_comparison(self) -> bool {
        matches!(
            self,
            BinOp::Eq
                | BinOp::Ne
                | BinOp::Lt
                | BinOp::Le
                | BinOp::Gt
                | BinOp::Ge
                | BinOp::CrossesAbove
                | BinOp::CrossesBelow
                | BinOp::In
        )
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum UnOp {
    Neg,
    Not,
}

/// Literal units, written as a suffix (`5%`, `15m`) or prefix (`$`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum LitUnit {
    None,
    Percent,
    Money,
    Shares,
    /// A duration; the number counts units of this many seconds.
    Duration(u32),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Expr {
    /// A number; `text` keeps the digits as written (without `_`), `unit` its suffix.
    Number {
        text: String,
        unit: LitUnit,
        span: Span,
    },
    Str(StrLit),
    Bool(bool, Span),
    Date(String, Span),
    Time(String, Span),
    Ticker(String, Span),
    Name(Name),
    List(Vec<Expr>, Span),
    Call {
        callee: Name,
        args: Vec<Arg>,
        span: Span,
    },
    Field {
        base: Box<Expr>,
        field: Name,
        span: Span,
    },
    Unary {
        op: UnOp,
        operand: Box<Expr>,
        span: Span,
    },
    Binary {
        op: BinOp,
        lhs: Box<Expr>,
        rhs: Box<Expr>,
        op_span: Span,
        span: Span,
    },
    Paren(Box<Expr>, Span),
    Error(Span),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Arg {
    pub name: Option<Name>,
    pub value: Expr,
}

impl Expr {
    pub fn span(&self) -> Span {
        match self {
            Expr::Number { span, .. }
            | Expr::Bool(_, span)
            | Expr::Date(_, span)
            | Expr::Time(_, span)
            | Expr::Ticker(_, span)
            | Expr::List(_, span)
            | Expr::Call { span, .. }
            | Expr::Field { span, .. }
            | Expr::Unary { span, .. }
            | Expr::Binary { span, .. }
            | Expr::Paren(_, span)
            | Expr::Error(span) => *span,
            Expr::Str(s) => s.span,
            Expr::Name(n) => n.span,
        }
    }
}
