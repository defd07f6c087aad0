//! Declarations: imports, universes, limits, models, named triggers, agents, workflows and
//! teams, with their settings.

use super::*;

impl Parser<'_> {
    pub(super) fn import(&mut self, kw: Token) -> Item {
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
    pub(super) fn name(&mut self, what: &str) -> Option<Name> {
        if self.at(Kind::Ident) || self.at(Kind::Ticker) && !self.text_of(self.tok()).contains('.') {
            let t = self.bump();
            return Some(Name { text: self.text_of(t).to_string(), span: t.span });
        }
        self.error_expected(what);
        None
    }

    pub(super) fn decl_name(&mut self, kw: Token) -> Name {
        self.name(&format!("a name after `{}`", self.text_of(kw)))
            .unwrap_or(Name { text: String::new(), span: self.tok().span })
    }

    pub(super) fn universe(&mut self, kw: Token) -> Item {
        let name = self.decl_name(kw);
        let symbols = if self.expect(Kind::Eq, "`=` after the universe name").is_some() {
            self.expr()
        } else {
            self.recover_line();
            Expr::Error(self.prev_end())
        };
        Item::Universe(Universe { name, symbols, span: kw.span.to(self.prev_end()) })
    }

    pub(super) fn limits_decl(&mut self, kw: Token) -> Item {
        let name = if self.at(Kind::Ident) || self.at(Kind::Ticker) { Some(self.decl_name(kw)) } else { None };
        let body = self.limits_body();
        Item::Limits(LimitsDecl { name, body, span: kw.span.to(self.prev_end()) })
    }

    pub(super) fn limits_body(&mut self) -> LimitsBody {
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

    pub(super) fn limits_ref(&mut self) -> LimitsRef {
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

    pub(super) fn model_decl(&mut self, kw: Token) -> Item {
        let name = self.decl_name(kw);
        let spec = if self.expect(Kind::Eq, "`=` after the model name").is_some() {
            self.expr()
        } else {
            self.recover_line();
            Expr::Error(self.prev_end())
        };
        Item::Model(ModelDecl { name, spec, span: kw.span.to(self.prev_end()) })
    }

    pub(super) fn trigger_decl(&mut self, kw: Token) -> Item {
        let name = self.decl_name(kw);
        if self.expect(Kind::Eq, "`=` after the trigger name").is_none() {
            self.recover_line();
        }
        let spec = self.trigger_spec();
        Item::Trigger(TriggerDecl { name, spec, span: kw.span.to(self.prev_end()) })
    }

    /// Parses `{ … }`, calling `each` for every entry until the closing brace. Reports a missing
    /// brace at the opener and stops at the next declaration if the block is never closed.
    pub(super) fn braced(&mut self, what: &str, mut each: impl FnMut(&mut Self)) {
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

    pub(super) fn unknown_setting(&mut self, block: &str, allowed: &[&str]) {
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

    pub(super) fn agent(&mut self, kw: Token) -> Item {
        let name = self.decl_name(kw);
        let mut fields = Vec::new();
        self.braced("agent", |p| match p.at_any_word(AGENT_SETTINGS) {
            Some(w) => fields.push(p.agent_setting(w)),
            None => p.unknown_setting("an agent", AGENT_SETTINGS),
        });
        Item::Agent(Agent { name, fields, span: kw.span.to(self.prev_end()) })
    }

    /// One setting shared by agents and workflows; `word` is the current token's text.
    pub(super) fn agent_setting(&mut self, word: &str) -> AgentField {
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

    pub(super) fn workflow(&mut self, kw: Token) -> Item {
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

    pub(super) fn team(&mut self, kw: Token) -> Item {
        let name = self.decl_name(kw);
        let mut fields = Vec::new();
        self.braced("team", |p| match p.at_any_word(TEAM_SETTINGS) {
            Some(w) => fields.push(p.team_setting(w)),
            None => p.unknown_setting("a team", TEAM_SETTINGS),
        });
        Item::Team(Team { name, fields, span: kw.span.to(self.prev_end()) })
    }

    pub(super) fn team_setting(&mut self, word: &str) -> TeamField {
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
}
