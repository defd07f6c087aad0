//! Expressions: the Pratt loop for operators, prefix and postfix forms, primaries, call
//! arguments, numbers and strings with their placeholders.

use super::*;

impl Parser<'_> {
    pub(super) fn expr(&mut self) -> Expr {
        self.expr_bp(0)
    }

    /// Binding powers of the infix operator at the cursor: (operator, left, right, tokens).
    pub(super) fn infix(&self) -> Option<(BinOp, u8, u8, usize)> {
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

    pub(super) fn expr_bp(&mut self, min_bp: u8) -> Expr {
        if !self.enter() {
            return Expr::Error(self.prev_end());
        }
        // Each link of a left-leaning chain (`a + b + c …`) is one level deeper in the tree,
        // so it takes one level of the nesting budget; a chain past it is read on as one error.
        let base = self.depth;
        let (mut too_long, mut chained) = (false, false);
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
            if !too_long && self.depth + 1 >= MAX_DEPTH {
                too_long = true;
                self.chain_too_long(op_span);
                self.depth = base;
            }
            let rhs = self.expr_bp(rbp);
            let span = lhs.span().to(rhs.span());
            lhs = if too_long || chained {
                Expr::Error(span)
            } else {
                self.depth += 1;
                Expr::Binary { op, lhs: Box::new(lhs), rhs: Box::new(rhs), op_span, span }
            };
            if op.is_comparison()
                && let Some((op2, 7, rbp2, len2)) = self.infix()
            {
                let t = self.tok();
                if self.last_error != Some(self.pos) && !chained {
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
                chained = true;
                for _ in 0..len2 {
                    self.bump();
                }
                let rest = self.expr_bp(rbp2);
                lhs = Expr::Error(lhs.span().to(rest.span()));
            }
        }
        self.depth = base;
        self.exit();
        lhs
    }

    /// Reports a chain of operators (or of `.field`s) that would nest deeper than [`MAX_DEPTH`].
    pub(super) fn chain_too_long(&mut self, at: Span) {
        self.diags.push(
            Diagnostic::new(Code::TooDeep, self.file, at, format!("nesting deeper than {MAX_DEPTH} levels"))
                .label("the chain is too long from here: each link nests one level deeper")
                .help("split the chain with `let` bindings, or test membership with `in [..]`"),
        );
    }

    pub(super) fn prefix_expr(&mut self) -> Expr {
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

    pub(super) fn postfix_expr(&mut self) -> Expr {
        let mut e = self.primary();
        let mut links = 0;
        while self.at(Kind::Dot) {
            let dot = self.bump();
            let Some(field) = self.name("a field name after `.`") else { break };
            let span = e.span().to(field.span);
            if matches!(e, Expr::Error(_)) {
                e = Expr::Error(span);
            } else if self.depth + links >= MAX_DEPTH {
                self.chain_too_long(dot.span);
                e = Expr::Error(span);
            } else {
                links += 1;
                e = Expr::Field { base: Box::new(e), field, span };
            }
        }
        e
    }

    pub(super) fn primary(&mut self) -> Expr {
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

    pub(super) fn close(&mut self, k: Kind, open: Span, what: &str) {
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

    pub(super) fn args(&mut self) -> Vec<Arg> {
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

    pub(super) fn number(&mut self, t: Token, text: &str) -> Expr {
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

    pub(super) fn string_or_error(&mut self, what: &str) -> StrLit {
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
    pub(super) fn string(&mut self) -> StrLit {
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

    pub(super) fn placeholder(&mut self, content: &str, base: usize, whole: Span) -> Expr {
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
