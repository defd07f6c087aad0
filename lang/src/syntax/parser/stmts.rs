//! Blocks and statements: `let`, `if`, `match`, `ask`, orders and the other actions.

use super::*;

impl Parser<'_> {
    pub(super) fn block(&mut self, what: &str) -> Block {
        let start = self.tok().span;
        let mut stmts = Vec::new();
        self.braced(what, |p| stmts.push(p.stmt()));
        Block { stmts, span: start.to(self.prev_end()) }
    }

    pub(super) fn stmt(&mut self) -> Stmt {
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

    pub(super) fn if_stmt(&mut self, kw: Token) -> Stmt {
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

    pub(super) fn order(&mut self, kw: Token, side: Side) -> Order {
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
}
