//! Hand-written recursive-descent parser with a Pratt loop for expressions.
//!
//! Parsing never fails: each error is recorded, the parser skips to a recovery point (the next
//! line start or closing brace), and the tree gets an `Error` node in place of what was missing.
//! Nesting is bounded by [`MAX_DEPTH`]; deeper input gets a diagnostic, not a stack overflow.
//! Functions are named after the grammar's productions in `lang/grammar.pest`.

use super::ast::*;
use super::lexer::{Token, lex};
use super::literal;
use super::token::Kind;
use crate::diagnostic::{Code, Diagnostic};
use crate::span::{FileId, Span};

/// Deepest nesting of expressions, blocks and types the parser accepts.
pub const MAX_DEPTH: u32 = 128;

pub const ITEM_WORDS: &[&str] = &["import", "universe", "limits", "model", "agent", "trigger", "workflow", "team"];
pub const AGENT_SETTINGS: &[&str] = &[
    "model",
    "limits",
    "context",
    "prompt",
    "system",
    "description",
    "role",
    "input",
    "output",
    "actions",
    "on",
    "overlap",
];
pub const WORKFLOW_SETTINGS: &[&str] = &["model", "limits", "context", "description", "on", "overlap", "actions"];
pub const TEAM_SETTINGS: &[&str] = &[
    "members",
    "coordination",
    "supervisor",
    "vote",
    "rounds",
    "fallback",
    "allocate",
    "limits",
    "on",
    "overlap",
    "description",
];
pub const STATEMENTS: &[&str] = &["let", "if", "match", "ask", "buy", "sell", "cancel", "notify", "log", "end"];

/// Parses a whole file. `text` must be the decoded file text.
pub fn parse(file: FileId, text: &str) -> (File, Vec<Diagnostic>) {
    let lexed = lex(file, text, 0);
    let mut p = Parser::new(file, text, lexed.tokens);
    p.diags = lexed.diagnostics;
    let f = p.file();
    (f, p.diags)
}

/// Parses one expression filling the whole text (the REPL and `strat eval` use this).
pub fn parse_expr(file: FileId, text: &str) -> (Expr, Vec<Diagnostic>) {
    let lexed = lex(file, text, 0);
    let mut p = Parser::new(file, text, lexed.tokens);
    p.diags = lexed.diagnostics;
    let e = p.expr();
    if !p.at(Kind::Eof) {
        p.error_expected("the end of the expression");
    }
    (e, p.diags)
}

struct Parser<'a> {
    file: FileId,
    text: &'a str,
    tokens: Vec<Token>,
    pos: usize,
    diags: Vec<Diagnostic>,
    depth: u32,
    /// Token index of the last reported syntax error, to report one error per position.
    last_error: Option<usize>,
}

impl<'a> Parser<'a> {
    fn new(file: FileId, text: &'a str, tokens: Vec<Token>) -> Parser<'a> {
        Parser { file, text, tokens, pos: 0, diags: Vec::new(), depth: 0, last_error: None }
    }

    // ----- token access -------------------------------------------------------------------

    fn tok(&self) -> Token {
        self.nth(0)
    }

    fn nth(&self, n: usize) -> Token {
        let i = (self.pos + n).min(self.tokens.len() - 1);
        self.tokens[i]
    }

    fn peek(&self) -> Kind {
        self.tok().kind
    }

    fn text_of(&self, t: Token) -> &'a str {
        &self.text[t.span.range()]
    }

    fn at(&self, k: Kind) -> bool {
        self.peek() == k
    }

    fn at_word(&self, w: &str) -> bool {
        self.at_word_n(0, w)
    }

    fn at_word_n(&self, n: usize, w: &str) -> bool {
        let t = self.nth(n);
        t.kind == Kind::Ident && self.text_of(t) == w
    }

    fn at_any_word(&self, words: &[&str]) -> Option<&'a str> {
        let t = self.tok();
        let s = self.text_of(t);
        (t.kind == Kind::Ident && words.contains(&s)).then_some(s)
    }

    fn bump(&mut self) -> Token {
        let t = self.tok();
        if t.kind != Kind::Eof {
            self.pos += 1;
        }
        t
    }

    fn eat(&mut self, k: Kind) -> Option<Token> {
        self.at(k).then(|| self.bump())
    }

    fn eat_word(&mut self, w: &str) -> Option<Token> {
        self.at_word(w).then(|| self.bump())
    }

    fn prev_end(&self) -> Span {
        if self.pos == 0 { Span::default() } else { self.tokens[self.pos - 1].span.after() }
    }

    // ----- errors and recovery ------------------------------------------------------------

    fn found(&self) -> String {
        let t = self.tok();
        match t.kind {
            Kind::Ident => format!("`{}`", self.text_of(t)),
            Kind::Ticker | Kind::Number | Kind::Money | Kind::Date | Kind::Time => {
                format!("{} `{}`", t.kind.describe(), self.text_of(t))
            }
            k => k.describe().to_string(),
        }
    }

    /// Reports "expected …, found …" at the current token, once per position.
    fn error_expected(&mut self, what: &str) {
        if self.last_error == Some(self.pos) {
            return;
        }
        self.last_error = Some(self.pos);
        let t = self.tok();
        let found = self.found();
        let mut d = Diagnostic::new(Code::Expected, self.file, t.span, format!("expected {what}, found {found}"))
            .label(format!("expected {what}"));
        if t.kind == Kind::Eof {
            d = d.label("the file ends here");
        }
        if let Some(h) = self.hint_for_current(what) {
            d = d.help(h);
        }
        self.diags.push(d);
    }

    fn hint_for_current(&self, what: &str) -> Option<String> {
        let t = self.tok();
        let s = self.text_of(t);
        match (t.kind, s) {
            (Kind::Ident, "AND" | "&&") => Some("write `and`".into()),
            (Kind::Ident, "OR") => Some("write `or`".into()),
            (Kind::Eq, _) if what.contains("expression") => Some("compare with `==`".into()),
            (Kind::Ticker, _) if what == "a name" => {
                Some(format!("names in capitals are read as ticker symbols; write `{}` in lower case or CamelCase", s))
            }
            _ => None,
        }
    }

    fn error_at(&mut self, code: Code, span: Span, msg: impl Into<String>, label: impl Into<String>) {
        self.diags.push(Diagnostic::new(code, self.file, span, msg).label(label));
    }

    /// Skips to the next token that starts a line, or to a closing brace, or to the end.
    /// Brace groups opened while skipping are skipped whole.
    fn recover_line(&mut self) {
        let start = self.pos;
        let mut depth = 0usize;
        loop {
            let t = self.tok();
            match t.kind {
                Kind::Eof => return,
                Kind::RBrace if depth == 0 => return,
                _ if t.line_start && self.pos > start && depth == 0 => return,
                Kind::LBrace | Kind::LParen | Kind::LBracket => depth += 1,
                Kind::RBrace | Kind::RParen | Kind::RBracket => depth = depth.saturating_sub(1),
                _ => {}
            }
            self.bump();
        }
    }

    fn at_item_start(&self) -> bool {
        self.tok().line_start && self.at_any_word(ITEM_WORDS).is_some() && self.nth(1).kind == Kind::Ident
            || self.at_word("import") && self.tok().line_start
    }

    fn expect(&mut self, k: Kind, what: &str) -> Option<Token> {
        if let Some(t) = self.eat(k) {
            return Some(t);
        }
        self.error_expected(what);
        None
    }

    fn enter(&mut self) -> bool {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            self.depth -= 1;
            if self.last_error != Some(self.pos) {
                self.last_error = Some(self.pos);
                let span = self.tok().span;
                self.diags.push(
                    Diagnostic::new(Code::TooDeep, self.file, span, format!("nesting deeper than {MAX_DEPTH} levels"))
                        .label("too deeply nested")
                        .help("split the expression with `let` bindings"),
                );
            }
            self.skip_nested();
            return false;
        }
        true
    }

    fn exit(&mut self) {
        self.depth -= 1;
    }

    /// Skips the rest of an over-deep construct without recursion: everything up to the
    /// closer that ends the enclosing group, or a line start at depth zero.
    fn skip_nested(&mut self) {
        let mut depth = 0usize;
        loop {
            let t = self.tok();
            match t.kind {
                Kind::Eof => return,
                Kind::LParen | Kind::LBracket | Kind::LBrace => depth += 1,
                Kind::RParen | Kind::RBracket | Kind::RBrace => {
                    if depth == 0 {
                        return;
                    }
                    depth -= 1;
                }
                _ if depth == 0 && t.line_start => return,
                _ => {}
            }
            self.bump();
        }
    }

    // ----- items --------------------------------------------------------------------------

    fn file(&mut self) -> File {
        let mut items = Vec::new();
        loop {
            while self.eat(Kind::Semi).is_some() {}
            if self.at(Kind::Eof) {
                break;
            }
            let before = self.pos;
            match self.at_any_word(ITEM_WORDS) {
                Some(word) => items.push(self.item(word)),
                None => {
                    let start = self.tok().span;
                    self.error_expected("a declaration (`agent`, `workflow`, `team`, `limits`, `model`, `universe`, `trigger` or `import`)");
                    self.bump();
                    while !self.at(Kind::Eof) && !self.at_item_start() {
                        self.bump();
                    }
                    items.push(Item::Error(start.to(self.prev_end())));
                }
            }
            if self.pos == before {
                self.bump();
            }
        }
        File { items }
    }

    fn item(&mut self, word: &str) -> Item {
        let kw = self.bump();
        match word {
            "import" => self.import(kw),
            "universe" => self.universe(kw),
            "limits" => self.limits_decl(kw),
            "model" => self.model_decl(kw),
            "agent" => self.agent(kw),
            "trigger" => self.trigger_decl(kw),
            "workflow" => self.workflow(kw),
            _ => self.team(kw),
        }
    }

    fn import(&mut self, kw: Token) -> Item {
        let path = match self.peek() {
            Kind::Str => self.string(),
            _ => {
                self.error_expected("the path of the file to import, as a string");
                self.recover_line();
                return Item::Error(kw.span.to(self.prev_end()));
            }
        };
        let names = if self.eat(Kind::LBrace).is_some() {
            let mut names = Vec::new();
            while !self.at(Kind::RBrace) && !self.at(Kind::Eof) {
                match self.name("a name to import") {
                    Some(n) => names.push(n),
                    None => {
                        self.recover_line();
                        break;
                    }
                }
                if self.eat(Kind::Comma).is_none() {
                    break;
                }
            }
            self.expect(Kind::RBrace, "`}` to close the import list");
            Some(names)
        } else {
            None
        };
        Item::Import(Import { path, names, span: kw.span.to(self.prev_end()) })
    }

    /// A name. Capitalised words lex as tickers; they are accepted as names here, and the
    /// checker rejects them where they would be ambiguous (universes).
    fn name(&mut self, what: &str) -> Option<Name> {
        if self.at(Kind::Ident) || self.at(Kind::Ticker) && !self.text_of(self.tok()).contains('.') {
            let t = self.bump();
            return Some(Name { text: self.text_of(t).to_string(), span: t.span });
        }
        self.error_expected(what);
        None
    }

    fn decl_name(&mut self, kw: Token) -> Name {
        self.name(&format!("a name after `{}`", self.text_of(kw)))
            .unwrap_or(Name { text: String::new(), span: self.tok().span })
    }

    fn universe(&mut self, kw: Token) -> Item {
        let name = self.decl_name(kw);
        let symbols = if self.expect(Kind::Eq, "`=` after the universe name").is_some() {
            self.expr()
        } else {
            self.recover_line();
            Expr::Error(self.prev_end())
        };
        Item::Universe(Universe { name, symbols, span: kw.span.to(self.prev_end()) })
    }

    fn limits_decl(&mut self, kw: Token) -> Item {
        let name = if self.at(Kind::Ident) || self.at(Kind::Ticker) { Some(self.decl_name(kw)) } else { None };
        let body = self.limits_body();
        Item::Limits(LimitsDecl { name, body, span: kw.span.to(self.prev_end()) })
    }

    fn limits_body(&mut self) -> LimitsBody {
        let start = self.tok().span;
        let mut settings = Vec::new();
        self.braced("limits", |p| {
            let Some(key) = p.name("a limit such as `max_position`") else {
                p.recover_line();
                return;
            };
            let value = p.expr();
            let span = key.span.to(value.span());
            settings.push(Setting { key, value, span });
            p.eat(Kind::Comma);
        });
        LimitsBody { settings, span: start.to(self.prev_end()) }
    }

    fn limits_ref(&mut self) -> LimitsRef {
        if self.at(Kind::LBrace) {
            LimitsRef::Inline(self.limits_body())
        } else {
            match self.name("the name of a `limits` declaration, or a `{ … }` block") {
                Some(n) => LimitsRef::Named(n),
                None => {
                    self.recover_line();
                    LimitsRef::Named(Name { text: String::new(), span: self.prev_end() })
                }
            }
        }
    }

    fn model_decl(&mut self, kw: Token) -> Item {
        let name = self.decl_name(kw);
        let spec = if self.expect(Kind::Eq, "`=` after the model name").is_some() {
            self.expr()
        } else {
            self.recover_line();
            Expr::Error(self.prev_end())
        };
        Item::Model(ModelDecl { name, spec, span: kw.span.to(self.prev_end()) })
    }

    fn trigger_decl(&mut self, kw: Token) -> Item {
        let name = self.decl_name(kw);
        if self.expect(Kind::Eq, "`=` after the trigger name").is_none() {
            self.recover_line();
        }
        let spec = self.trigger_spec();
        Item::Trigger(TriggerDecl { name, spec, span: kw.span.to(self.prev_end()) })
    }

    /// Parses `{ … }`, calling `each` for every entry until the closing brace. Reports a missing
    /// brace at the opener and stops at the next declaration if the block is never closed.
    fn braced(&mut self, what: &str, mut each: impl FnMut(&mut Self)) {
        let Some(open) = self.expect(Kind::LBrace, &format!("`{{` to open the {what} block")) else {
            self.recover_line();
            return;
        };
        if !self.enter() {
            return;
        }
        loop {
            while self.eat(Kind::Semi).is_some() {}
            if self.eat(Kind::RBrace).is_some() {
                break;
            }
            if self.at(Kind::Eof)
                || self.at_item_start() && self.depth == 1 && !self.at_word("limits") && !self.at_word("model")
            {
                // An unterminated block string or comment already explains the missing `}`.
                let explained = self.at(Kind::Eof) && self.diags.iter().any(|d| d.code == Code::UnterminatedBlock);
                if !explained {
                    self.diags.push(
                        Diagnostic::new(Code::Unclosed, self.file, open.span, format!("unclosed {what} block"))
                            .label("this `{` is never closed")
                            .with_label(self.file, self.tok().span, "expected `}` before this")
                            .help("add `}` at the end of the block"),
                    );
                }
                break;
            }
            let before = self.pos;
            each(self);
            if self.pos == before {
                self.bump();
            }
        }
        self.exit();
    }

    fn unknown_setting(&mut self, block: &str, allowed: &[&str]) {
        let t = self.tok();
        let word = self.text_of(t);
        if self.last_error != Some(self.pos) {
            self.last_error = Some(self.pos);
            let list = allowed.iter().map(|w| format!("`{w}`")).collect::<Vec<_>>().join(", ");
            let mut d = if t.kind == Kind::Ident {
                Diagnostic::new(Code::UnknownSetting, self.file, t.span, format!("{block} has no setting `{word}`"))
                    .label("unknown setting")
            } else {
                let found = self.found();
                Diagnostic::new(Code::Expected, self.file, t.span, format!("expected a {block} setting, found {found}"))
                    .label("expected a setting")
            };
            match strat_stdlib::suggest(word, allowed.iter().copied()) {
                Some(s) if t.kind == Kind::Ident => d = d.fix(t.span, s, format!("did you mean `{s}`?")),
                _ => d = d.help(format!("a {block} takes: {list}")),
            }
            self.diags.push(d);
        }
        self.recover_line();
    }

    fn agent(&mut self, kw: Token) -> Item {
        let name = self.decl_name(kw);
        let mut fields = Vec::new();
        self.braced("agent", |p| match p.at_any_word(AGENT_SETTINGS) {
            Some(w) => fields.push(p.agent_setting(w)),
            None => p.unknown_setting("an agent", AGENT_SETTINGS),
        });
        Item::Agent(Agent { name, fields, span: kw.span.to(self.prev_end()) })
    }

    /// One setting shared by agents and workflows; `word` is the current token's text.
    fn agent_setting(&mut self, word: &str) -> AgentField {
        let kw = self.bump();
        let span = |p: &Self| kw.span.to(p.prev_end());
        match word {
            "model" => {
                let e = self.expr();
                AgentField::Model(e, span(self))
            }
            "limits" => {
                let r = self.limits_ref();
                AgentField::Limits(r, span(self))
            }
            "context" => {
                let mut items = vec![self.expr()];
                while self.eat(Kind::Comma).is_some() {
                    items.push(self.expr());
                }
                AgentField::Context(items, span(self))
            }
            "prompt" | "system" | "description" | "role" => {
                let s = self.string_or_error(&format!("the {word} text as a string"));
                match word {
                    "prompt" => AgentField::Prompt(s, span(self)),
                    "system" => AgentField::System(s, span(self)),
                    "role" => AgentField::Role(s, span(self)),
                    _ => AgentField::Description(s, span(self)),
                }
            }
            "input" => {
                let s = self.schema();
                AgentField::Input(s, span(self))
            }
            "output" => {
                let t = self.type_expr();
                AgentField::Output(t, span(self))
            }
            "actions" => {
                let mut names = Vec::new();
                loop {
                    match self.name("an action (`buy`, `sell`)") {
                        Some(n) => names.push(n),
                        None => {
                            self.recover_line();
                            break;
                        }
                    }
                    if self.eat(Kind::Comma).is_none() {
                        break;
                    }
                }
                AgentField::Actions(names, span(self))
            }
            "on" => {
                let mut spec = self.trigger_spec();
                spec.span = kw.span.to(spec.span);
                AgentField::On(spec)
            }
            _ => {
                let n = self
                    .name("`skip`, `queue` or `replace`")
                    .unwrap_or(Name { text: String::new(), span: self.prev_end() });
                AgentField::Overlap(n, span(self))
            }
        }
    }

    fn trigger_spec(&mut self) -> TriggerSpec {
        let start = self.tok().span;
        let kind = if let Some(kw) = self.eat_word("schedule") {
            let cron = self.string_or_error("a cron expression as a string, e.g. \"0 9 * * 1-5\"");
            let tz = self.eat_word("tz").map(|_| self.string_or_error("a time zone name, e.g. \"America/New_York\""));
            let _ = kw;
            TriggerKind::Schedule { cron, tz }
        } else if self.eat_word("webhook").is_some() {
            let path = self.at(Kind::Str).then(|| self.string());
            let mut options = Vec::new();
            loop {
                if self.eat_word("secret").is_some() {
                    options.push(WebhookOption::Secret(self.expr()));
                } else if self.eat_word("payload").is_some() {
                    options.push(WebhookOption::Payload(self.schema()));
                } else {
                    break;
                }
            }
            TriggerKind::Webhook { path, options }
        } else if let Some(t) = self.eat_word("manual") {
            TriggerKind::Manual(t.span)
        } else {
            TriggerKind::Expr(self.expr())
        };
        let mut throttles = Vec::new();
        let mut market_hours = None;
        let mut clauses = Vec::new();
        loop {
            if let Some(kw) = self.eat_word("throttle") {
                loop {
                    let count = self.expr();
                    if self.eat_word("per").is_none() {
                        self.error_expected("`per` in a throttle such as `1 per 15m`");
                        self.recover_line();
                        break;
                    }
                    let window = self.expr();
                    let span = count.span().to(window.span());
                    throttles.push(Throttle { count, window, span });
                    if self.eat(Kind::Comma).is_none() {
                        break;
                    }
                }
                clauses.push(TriggerClause::Throttle(kw.span.to(self.prev_end())));
            } else if let Some(t) = self.eat_word("during") {
                if self.eat_word("market_hours").is_none() {
                    self.error_expected("`market_hours` after `during`");
                    self.recover_line();
                }
                let span = t.span.to(self.prev_end());
                market_hours = Some(span);
                clauses.push(TriggerClause::During(span));
            } else {
                break;
            }
        }
        TriggerSpec { kind, throttles, market_hours, clauses, span: start.to(self.prev_end()) }
    }

    fn workflow(&mut self, kw: Token) -> Item {
        let name = self.decl_name(kw);
        let mut settings = Vec::new();
        let mut stmts = Vec::new();
        let body_start = self.tok().span;
        self.braced("workflow", |p| {
            if let Some(w) = p.at_any_word(WORKFLOW_SETTINGS) {
                settings.push(p.agent_setting(w));
            } else {
                stmts.push(p.stmt());
            }
        });
        let body = Block { stmts, span: body_start.to(self.prev_end()) };
        Item::Workflow(Workflow { name, settings, body, span: kw.span.to(self.prev_end()) })
    }

    fn team(&mut self, kw: Token) -> Item {
        let name = self.decl_name(kw);
        let mut fields = Vec::new();
        self.braced("team", |p| match p.at_any_word(TEAM_SETTINGS) {
            Some(w) => fields.push(p.team_setting(w)),
            None => p.unknown_setting("a team", TEAM_SETTINGS),
        });
        Item::Team(Team { name, fields, span: kw.span.to(self.prev_end()) })
    }

    fn team_setting(&mut self, word: &str) -> TeamField {
        if word == "on" {
            let kw = self.bump();
            let mut spec = self.trigger_spec();
            spec.span = kw.span.to(spec.span);
            return TeamField::On(spec);
        }
        let kw = self.bump();
        let span = |p: &Self| kw.span.to(p.prev_end());
        let missing = |p: &Self| Name { text: String::new(), span: p.prev_end() };
        match word {
            "members" => {
                let mut names = Vec::new();
                loop {
                    match self.name("the name of a member agent") {
                        Some(n) => names.push(n),
                        None => {
                            self.recover_line();
                            break;
                        }
                    }
                    if self.eat(Kind::Comma).is_none() {
                        break;
                    }
                }
                TeamField::Members(names, span(self))
            }
            "coordination" | "supervisor" | "vote" | "fallback" | "overlap" => {
                let what = match word {
                    "coordination" => "`sequential`, `parallel`, `hierarchical` or `consensus`",
                    "supervisor" => "the name of the supervising agent",
                    "overlap" => "`skip`, `queue` or `replace`",
                    _ => "`majority`, `unanimous` or `weighted`",
                };
                let n = self.name(what).unwrap_or_else(|| missing(self));
                let s = span(self);
                match word {
                    "coordination" => TeamField::Coordination(n, s),
                    "supervisor" => TeamField::Supervisor(n, s),
                    "vote" => TeamField::Vote(n, s),
                    "fallback" => TeamField::Fallback(n, s),
                    _ => TeamField::Overlap(n, s),
                }
            }
            "rounds" => {
                let e = self.expr();
                TeamField::Rounds(e, span(self))
            }
            "allocate" => {
                let mut shares = Vec::new();
                loop {
                    let Some(n) = self.name("a member name followed by its share, e.g. `Analyst 50%`") else {
                        self.recover_line();
                        break;
                    };
                    let e = self.expr();
                    shares.push((n, e));
                    if self.eat(Kind::Comma).is_none() {
                        break;
                    }
                }
                TeamField::Allocate(shares, span(self))
            }
            "limits" => {
                let r = self.limits_ref();
                TeamField::Limits(r, span(self))
            }
            _ => {
                let s = self.string_or_error("the description as a string");
                TeamField::Description(s, span(self))
            }
        }
    }

    // ----- statements ---------------------------------------------------------------------

    fn block(&mut self, what: &str) -> Block {
        let start = self.tok().span;
        let mut stmts = Vec::new();
        self.braced(what, |p| stmts.push(p.stmt()));
        Block { stmts, span: start.to(self.prev_end()) }
    }

    fn stmt(&mut self) -> Stmt {
        let Some(word) = self.at_any_word(STATEMENTS) else {
            let start = self.tok().span;
            if self.last_error != Some(self.pos) {
                self.last_error = Some(self.pos);
                let found = self.found();
                let t = self.tok();
                let mut d =
                    Diagnostic::new(Code::Expected, self.file, t.span, format!("expected a statement, found {found}"))
                        .label("expected a statement");
                let word = self.text_of(t);
                if t.kind == Kind::Ident
                    && let Some(s) = strat_stdlib::suggest(word, STATEMENTS.iter().chain(WORKFLOW_SETTINGS).copied())
                {
                    d = d.fix(t.span, s, format!("did you mean `{s}`?"));
                }
                if d.help.is_none() {
                    d = d.help("statements are `let`, `if`, `match`, `ask`, `buy`, `sell`, `cancel`, `notify`, `log` and `end`");
                }
                self.diags.push(d);
            }
            self.recover_line();
            return Stmt::Error(start.to(self.prev_end()));
        };
        let kw = self.bump();
        let span = |p: &Self| kw.span.to(p.prev_end());
        match word {
            "let" => {
                let name =
                    self.name("a name after `let`").unwrap_or(Name { text: String::new(), span: self.tok().span });
                let value = if self.expect(Kind::Eq, "`=` after the name").is_some() {
                    self.expr()
                } else {
                    self.recover_line();
                    Expr::Error(self.prev_end())
                };
                Stmt::Let { name, value, span: span(self) }
            }
            "if" => self.if_stmt(kw),
            "match" => {
                let scrutinee = self.expr();
                let mut arms = Vec::new();
                self.braced("match", |p| {
                    let start = p.tok().span;
                    let mut patterns = Vec::new();
                    if p.eat_word("_").is_none() {
                        loop {
                            match p.name("a variant name or `_`") {
                                Some(n) => patterns.push(n),
                                None => {
                                    p.recover_line();
                                    return;
                                }
                            }
                            if p.eat(Kind::Pipe).is_none() {
                                break;
                            }
                        }
                    }
                    if p.expect(Kind::FatArrow, "`=>` after the pattern").is_none() {
                        p.recover_line();
                        return;
                    }
                    let body = p.block("match arm");
                    p.eat(Kind::Comma);
                    arms.push(Arm { patterns, body, span: start.to(p.prev_end()) });
                });
                Stmt::Match { scrutinee, arms, span: span(self) }
            }
            "ask" => {
                let name = self
                    .name("a name for the model's answer, e.g. `ask verdict: { … }`")
                    .unwrap_or(Name { text: String::new(), span: self.tok().span });
                let schema = if self.expect(Kind::Colon, "`:` and the answer's type").is_some() {
                    self.type_expr()
                } else {
                    TypeExpr::Error(self.prev_end())
                };
                let model = self.eat_word("using").map(|_| self.postfix_expr());
                let prompt = self.string_or_error("the prompt as a string");
                Stmt::Ask { name, schema, model, prompt, span: span(self) }
            }
            "buy" | "sell" => Stmt::Order(Box::new(self.order(kw, if word == "buy" { Side::Buy } else { Side::Sell }))),
            "cancel" => {
                let symbol = if self.eat_word("all").is_some() { None } else { Some(self.expr()) };
                Stmt::Cancel { symbol, span: span(self) }
            }
            "notify" | "log" => {
                let message = self.string_or_error("a message string");
                if word == "log" {
                    Stmt::Log { message, span: span(self) }
                } else {
                    Stmt::Notify { message, span: span(self) }
                }
            }
            _ => Stmt::End(kw.span),
        }
    }

    fn if_stmt(&mut self, kw: Token) -> Stmt {
        if !self.enter() {
            return Stmt::Error(kw.span.to(self.prev_end()));
        }
        let cond = self.expr();
        let then = self.block("if");
        let otherwise = if self.eat_word("else").is_some() {
            if let Some(kw2) = self.eat_word("if") {
                Some(Else::If(Box::new(self.if_stmt(kw2))))
            } else {
                Some(Else::Block(self.block("else")))
            }
        } else {
            None
        };
        self.exit();
        Stmt::If { cond, then, otherwise, span: kw.span.to(self.prev_end()) }
    }

    fn order(&mut self, kw: Token, side: Side) -> Order {
        let symbol = self.expr();
        let mut o = Order {
            side,
            symbol,
            size: None,
            limit: None,
            stop: None,
            stop_loss: None,
            take_profit: None,
            tif: None,
            span: kw.span,
        };
        loop {
            let t = self.tok();
            let Some(w) = self.at_any_word(&["size", "limit", "stop", "stop_loss", "take_profit", "tif"]) else {
                break;
            };
            self.bump();
            let dup = match w {
                "size" => {
                    let s = if let Some(a) = self.eat_word("all") {
                        Size::All(a.span)
                    } else {
                        let amount = self.expr();
                        if self.eat_word("of").is_some() {
                            let of = self
                                .name("`portfolio`, `cash` or `position` after `of`")
                                .unwrap_or(Name { text: String::new(), span: self.prev_end() });
                            Size::Fraction { percent: amount, of }
                        } else {
                            Size::Amount(amount)
                        }
                    };
                    o.size.replace(s).is_some()
                }
                "tif" => {
                    let n = self
                        .name("`day`, `gtc`, `ioc` or `fok`")
                        .unwrap_or(Name { text: String::new(), span: self.prev_end() });
                    o.tif.replace(n).is_some()
                }
                _ => {
                    let e = self.expr();
                    let slot = match w {
                        "limit" => &mut o.limit,
                        "stop" => &mut o.stop,
                        "stop_loss" => &mut o.stop_loss,
                        _ => &mut o.take_profit,
                    };
                    slot.replace(e).is_some()
                }
            };
            if dup {
                self.error_at(
                    Code::DuplicateSetting,
                    t.span,
                    format!("`{w}` given twice in one order"),
                    "repeated here",
                );
            }
        }
        o.span = kw.span.to(self.prev_end());
        o
    }

    // ----- types and schemas --------------------------------------------------------------

    fn schema(&mut self) -> Schema {
        let start = self.tok().span;
        let mut fields = Vec::new();
        self.braced("schema", |p| {
            let Some(name) = p.name("a field name") else {
                p.recover_line();
                return;
            };
            let ty = if p.expect(Kind::Colon, "`:` and the field's type").is_some() {
                p.type_expr()
            } else {
                p.recover_line();
                TypeExpr::Error(p.prev_end())
            };
            let span = name.span.to(ty.span());
            fields.push(SchemaField { name, ty, span });
            p.eat(Kind::Comma);
        });
        Schema { fields, span: start.to(self.prev_end()) }
    }

    fn type_expr(&mut self) -> TypeExpr {
        if !self.enter() {
            return TypeExpr::Error(self.prev_end());
        }
        let t = self.type_primary();
        let t = if let TypeExpr::Named { name, args, span } = &t
            && args.is_empty()
            && self.at(Kind::Pipe)
        {
            let mut variants = vec![name.clone()];
            let mut span = *span;
            while self.eat(Kind::Pipe).is_some() {
                match self.name("an enum variant") {
                    Some(n) => {
                        span = span.to(n.span);
                        variants.push(n);
                    }
                    None => break,
                }
            }
            TypeExpr::Enum(variants, span)
        } else {
            t
        };
        let t = match self.eat(Kind::Question) {
            Some(q) => {
                let span = t.span().to(q.span);
                TypeExpr::Optional(Box::new(t), span)
            }
            None => t,
        };
        self.exit();
        t
    }

    fn type_primary(&mut self) -> TypeExpr {
        if self.at(Kind::LBrace) {
            return TypeExpr::Record(self.schema());
        }
        let Some(name) = self.name("a type such as `number`, `text`, `buy | sell`, `list<symbol>` or `{ … }`") else {
            return TypeExpr::Error(self.tok().span);
        };
        let mut args = Vec::new();
        if self.eat(Kind::Lt).is_some() {
            loop {
                args.push(self.type_expr());
                if self.eat(Kind::Comma).is_none() {
                    break;
                }
            }
            self.expect(Kind::Gt, "`>` to close the type arguments");
        }
        let span = name.span.to(self.prev_end());
        TypeExpr::Named { name, args, span }
    }

    // ----- expressions --------------------------------------------------------------------

    fn expr(&mut self) -> Expr {
        self.expr_bp(0)
    }

    /// Binding powers of the infix operator at the cursor: (operator, left, right, tokens).
    fn infix(&self) -> Option<(BinOp, u8, u8, usize)> {
        let t = self.tok();
        Some(match t.kind {
            Kind::EqEq => (BinOp::Eq, 7, 8, 1),
            Kind::NotEq => (BinOp::Ne, 7, 8, 1),
            Kind::Lt => (BinOp::Lt, 7, 8, 1),
            Kind::Le => (BinOp::Le, 7, 8, 1),
            Kind::Gt => (BinOp::Gt, 7, 8, 1),
            Kind::Ge => (BinOp::Ge, 7, 8, 1),
            Kind::Plus => (BinOp::Add, 9, 10, 1),
            Kind::Minus => (BinOp::Sub, 9, 10, 1),
            Kind::Star => (BinOp::Mul, 11, 12, 1),
            Kind::Slash => (BinOp::Div, 11, 12, 1),
            Kind::OrOr => (BinOp::Or, 1, 2, 1),
            Kind::AndAnd => (BinOp::And, 3, 4, 1),
            Kind::Ident => match self.text_of(t) {
                "or" => (BinOp::Or, 1, 2, 1),
                "and" => (BinOp::And, 3, 4, 1),
                "in" => (BinOp::In, 7, 8, 1),
                "crosses" if self.at_word_n(1, "above") => (BinOp::CrossesAbove, 7, 8, 2),
                "crosses" if self.at_word_n(1, "below") => (BinOp::CrossesBelow, 7, 8, 2),
                "crosses" => (BinOp::CrossesAbove, 7, 8, 1),
                _ => return None,
            },
            _ => return None,
        })
    }

    fn expr_bp(&mut self, min_bp: u8) -> Expr {
        if !self.enter() {
            return Expr::Error(self.prev_end());
        }
        let mut lhs = self.prefix_expr();
        while let Some((op, lbp, rbp, len)) = self.infix() {
            if lbp < min_bp {
                break;
            }
            let first = self.bump();
            let mut op_span = first.span;
            if len == 2 {
                op_span = op_span.to(self.bump().span);
            } else if self.text_of(first) == "crosses" {
                self.error_expected("`above` or `below` after `crosses`");
            }
            let rhs = self.expr_bp(rbp);
            let span = lhs.span().to(rhs.span());
            lhs = Expr::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs), op_span, span };
            if op.is_comparison()
                && let Some((op2, 7, rbp2, len2)) = self.infix()
            {
                let t = self.tok();
                if self.last_error != Some(self.pos) {
                    self.diags.push(
                        Diagnostic::new(
                            Code::Expected,
                            self.file,
                            t.span,
                            format!("comparisons cannot be chained: `{}` after `{}`", op2.symbol(), op.symbol()),
                        )
                        .label("second comparison")
                        .help("join the two comparisons with `and`"),
                    );
                    self.last_error = Some(self.pos);
                }
                for _ in 0..len2 {
                    self.bump();
                }
                let rest = self.expr_bp(rbp2);
                lhs = Expr::Error(lhs.span().to(rest.span()));
            }
        }
        self.exit();
        lhs
    }

    fn prefix_expr(&mut self) -> Expr {
        if let Some(kw) = self.eat_word("not") {
            let operand = self.expr_bp(5);
            let span = kw.span.to(operand.span());
            return Expr::Unary { op: UnOp::Not, operand: Box::new(operand), span };
        }
        if let Some(m) = self.eat(Kind::Minus) {
            let operand = self.expr_bp(13);
            let span = m.span.to(operand.span());
            return Expr::Unary { op: UnOp::Neg, operand: Box::new(operand), span };
        }
        self.postfix_expr()
    }

    fn postfix_expr(&mut self) -> Expr {
        let mut e = self.primary();
        while self.at(Kind::Dot) {
            self.bump();
            let Some(field) = self.name("a field name after `.`") else { break };
            let span = e.span().to(field.span);
            e = Expr::Field { base: Box::new(e), field, span };
        }
        e
    }

    fn primary(&mut self) -> Expr {
        let t = self.tok();
        let text = self.text_of(t);
        match t.kind {
            Kind::Number => {
                self.bump();
                self.number(t, text)
            }
            Kind::Money => {
                self.bump();
                let (digits, suffix) = literal::split_number(&text[1..]);
                let text = match literal::money_scale(suffix) {
                    Some(places) => literal::shift_decimal(&digits, places),
                    None => {
                        let s = Span::new(t.span.end as usize - suffix.len(), t.span.end as usize);
                        self.diags.push(
                            Diagnostic::new(
                                Code::InvalidNumber,
                                self.file,
                                s,
                                format!("unknown money suffix `{suffix}`"),
                            )
                            .label("not a money suffix")
                            .help("write the amount in full (`$10_000`) or with `k` or `M` (`$10k`)"),
                        );
                        digits
                    }
                };
                Expr::Number { text, unit: LitUnit::Money, span: t.span }
            }
            Kind::Date => {
                self.bump();
                let ok = valid_date(text);
                if !ok {
                    self.error_at(
                        Code::InvalidNumber,
                        t.span,
                        format!("`{text}` is not a valid date"),
                        "month must be 01–12 and day 01–31",
                    );
                }
                Expr::Date(text.to_string(), t.span)
            }
            Kind::Time => {
                self.bump();
                let (h, m) = text.split_once(':').unwrap_or(("0", "0"));
                if h.parse::<u32>().unwrap_or(99) > 23 || m.parse::<u32>().unwrap_or(99) > 59 {
                    self.error_at(
                        Code::InvalidNumber,
                        t.span,
                        format!("`{text}` is not a valid time of day"),
                        "hours 00–23, minutes 00–59",
                    );
                }
                Expr::Time(text.to_string(), t.span)
            }
            Kind::Str | Kind::BlockStr => Expr::Str(self.string()),
            Kind::Ticker => {
                self.bump();
                Expr::Ticker(text.to_string(), t.span)
            }
            Kind::Ident => {
                self.bump();
                match text {
                    "true" => return Expr::Bool(true, t.span),
                    "false" => return Expr::Bool(false, t.span),
                    _ => {}
                }
                let callee = Name { text: text.to_string(), span: t.span };
                if self.at(Kind::LParen) {
                    let args = self.args();
                    let span = t.span.to(self.prev_end());
                    Expr::Call { callee, args, span }
                } else {
                    Expr::Name(callee)
                }
            }
            Kind::LBracket => {
                self.bump();
                let mut items = Vec::new();
                if self.enter() {
                    while !self.at(Kind::RBracket) && !self.at(Kind::Eof) {
                        items.push(self.expr());
                        if self.eat(Kind::Comma).is_none() {
                            break;
                        }
                    }
                    self.exit();
                    self.close(Kind::RBracket, t.span, "`]`");
                }
                Expr::List(items, t.span.to(self.prev_end()))
            }
            Kind::LParen => {
                self.bump();
                if !self.enter() {
                    self.eat(Kind::RParen);
                    return Expr::Error(t.span.to(self.prev_end()));
                }
                let inner = self.expr();
                self.exit();
                self.close(Kind::RParen, t.span, "`)`");
                Expr::Paren(Box::new(inner), t.span.to(self.prev_end()))
            }
            _ => {
                self.error_expected("an expression");
                if matches!(
                    t.kind,
                    Kind::Eq
                        | Kind::Plus
                        | Kind::Star
                        | Kind::Slash
                        | Kind::Unknown
                        | Kind::Pipe
                        | Kind::Question
                        | Kind::Colon
                        | Kind::DotDot
                        | Kind::FatArrow
                ) {
                    self.bump();
                }
                Expr::Error(t.span)
            }
        }
    }

    fn close(&mut self, k: Kind, open: Span, what: &str) {
        if self.eat(k).is_some() {
            return;
        }
        if self.last_error == Some(self.pos) {
            return;
        }
        self.last_error = Some(self.pos);
        let found = self.found();
        let t = self.tok();
        // When the next token is on a later line, the closer is missing at the end of this one.
        let at = if t.line_start { self.prev_end() } else { t.span };
        let fix_at = self.prev_end();
        self.diags.push(
            Diagnostic::new(Code::Unclosed, self.file, at, format!("expected {what}, found {found}"))
                .label(format!("expected {what}"))
                .with_label(self.file, open, "to close this")
                .fix(fix_at, what.trim_matches('`'), format!("add {what}")),
        );
    }

    fn args(&mut self) -> Vec<Arg> {
        let open = self.bump();
        let mut args = Vec::new();
        if !self.enter() {
            return args;
        }
        while !self.at(Kind::RParen) && !self.at(Kind::Eof) {
            let name = if self.at(Kind::Ident) && self.nth(1).kind == Kind::Colon {
                let n = self.name("an argument name");
                self.bump();
                n
            } else {
                None
            };
            let value = self.expr();
            let stuck = matches!(value, Expr::Error(_));
            args.push(Arg { name, value });
            if self.eat(Kind::Comma).is_none() || stuck && self.tok().line_start {
                break;
            }
        }
        self.exit();
        self.close(Kind::RParen, open.span, "`)`");
        args
    }

    fn number(&mut self, t: Token, text: &str) -> Expr {
        let (digits, suffix) = literal::split_number(text);
        let unit = match literal::number_unit(suffix) {
            Some(u) => u,
            None => {
                let s = Span::new(t.span.end as usize - suffix.len(), t.span.end as usize);
                let mut d = Diagnostic::new(Code::InvalidNumber, self.file, s, format!("unknown unit `{suffix}`"))
                    .label("not a unit");
                let fix = match suffix {
                    "min" | "mins" | "minute" | "minutes" => Some("m"),
                    "hr" | "hrs" | "hour" | "hours" => Some("h"),
                    "day" | "days" => Some("d"),
                    "sec" | "secs" | "second" | "seconds" => Some("s"),
                    "week" | "weeks" | "wk" => Some("w"),
                    "pct" | "percent" => Some("%"),
                    _ => None,
                };
                d = match fix {
                    Some(f) => d.fix(s, f, format!("write `{digits}{f}`")),
                    None => d.help("units are `%`, and `s`, `m`, `h`, `d`, `w` for durations; `$` goes before money"),
                };
                self.diags.push(d);
                return Expr::Error(t.span);
            }
        };
        if unit == LitUnit::None && self.at_word("shares") {
            let s = self.bump();
            return Expr::Number { text: digits, unit: LitUnit::Shares, span: t.span.to(s.span) };
        }
        Expr::Number { text: digits, unit, span: t.span }
    }

    fn string_or_error(&mut self, what: &str) -> StrLit {
        if matches!(self.peek(), Kind::Str | Kind::BlockStr) {
            return self.string();
        }
        self.error_expected(what);
        if !self.tok().line_start && !matches!(self.peek(), Kind::RBrace | Kind::Eof) {
            self.recover_line();
        }
        StrLit { value: String::new(), parts: Vec::new(), span: self.prev_end() }
    }

    /// Decodes the string token at the cursor and parses its placeholders.
    fn string(&mut self) -> StrLit {
        let t = self.bump();
        let raw = self.text_of(t);
        let block = t.kind == Kind::BlockStr;
        let (open_len, inner) = if block {
            let body = &raw[3..];
            (3, body.strip_suffix(r#"""""#).unwrap_or(body))
        } else {
            let body = &raw[1..];
            (1, body.strip_suffix('"').filter(|_| raw.len() > 1).unwrap_or(body))
        };
        let inner_start = t.span.start as usize + open_len;
        let value = if block {
            literal::dedent(inner)
        } else {
            let (v, bad) = literal::unescape(inner);
            for (a, b) in bad {
                let s = Span::new(inner_start + a, inner_start + b);
                let esc = &inner[a..b.min(inner.len())];
                self.diags.push(
                    Diagnostic::new(Code::InvalidEscape, self.file, s, format!("unknown escape `{esc}`"))
                        .label("unknown escape")
                        .help("escapes are `\\n`, `\\t`, `\\r`, `\\\"` and `\\\\`"),
                );
            }
            v
        };
        let raw_holes = literal::holes(inner);
        let mut exprs = Vec::new();
        for (open, close) in raw_holes {
            let open_abs = inner_start + open;
            let Some(close) = close else {
                self.diags.push(
                    Diagnostic::new(
                        Code::BadPlaceholder,
                        self.file,
                        Span::new(open_abs, open_abs + 2),
                        "unclosed placeholder",
                    )
                    .label("this `{{` has no matching `}}`")
                    .help("close the placeholder with `}}`"),
                );
                break;
            };
            let content = &inner[open + 2..close - 2];
            exprs.push(self.placeholder(content, open_abs + 2, Span::new(open_abs, inner_start + close)));
        }
        let mut parts = Vec::new();
        let mut exprs = exprs.into_iter();
        let mut from = 0;
        for (open, close) in literal::holes(&value) {
            let Some(close) = close else { break };
            if open > from {
                parts.push(StrPart::Text(value[from..open].to_string()));
            }
            if let Some(e) = exprs.next() {
                parts.push(StrPart::Hole(e));
            }
            from = close;
        }
        if from < value.len() {
            parts.push(StrPart::Text(value[from..].to_string()));
        }
        StrLit { value, parts, span: t.span }
    }

    fn placeholder(&mut self, content: &str, base: usize, whole: Span) -> Expr {
        if content.trim().is_empty() {
            self.diags.push(
                Diagnostic::new(Code::BadPlaceholder, self.file, whole, "empty placeholder")
                    .label("nothing between `{{` and `}}`")
                    .help("name a value, e.g. `{{trigger.symbol}}`"),
            );
            return Expr::Error(whole);
        }
        let lexed = lex(self.file, content, base);
        let mut sub = Parser::new(self.file, self.text, lexed.tokens);
        sub.diags = lexed.diagnostics;
        sub.depth = self.depth;
        let e = sub.expr();
        if !sub.at(Kind::Eof) && sub.last_error.is_none() {
            let t = sub.tok();
            let found = sub.found();
            sub.diags.push(
                Diagnostic::new(Code::BadPlaceholder, self.file, t.span, format!("unexpected {found} in placeholder"))
                    .label("a placeholder holds one expression")
                    .with_label(self.file, whole, "in this placeholder"),
            );
        }
        self.diags.append(&mut sub.diags);
        e
    }
}

fn valid_date(s: &str) -> bool {
    let mut it = s.split('-').map(|p| p.parse::<u32>().unwrap_or(0));
    let (_, m, d) = (it.next(), it.next().unwrap_or(0), it.next().unwrap_or(0));
    (1..=12).contains(&m) && (1..=31).contains(&d)
}
