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

mod exprs;
mod items;
mod stmts;
mod triggers;
mod types;

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
}
