//! Workflows: statements, orders against limits, match exhaustiveness and reachability.

use super::Checker;
use super::decls::{KnownLimits, agent_field_key};
use super::expr::{article, const_number};
use super::types::Ty;
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;
use crate::syntax::ast::{self, AgentField, Block, Else, Expr, LitUnit, Order, Side, Size, Stmt};
use std::collections::BTreeMap;

impl Checker<'_> {
    pub(super) fn workflow(&mut self, w: &ast::Workflow) {
        self.duplicate_settings(w.settings.iter().map(agent_field_key));
        let mut has_trigger = false;
        let mut limits: Option<Option<KnownLimits>> = None;
        let mut has_model = false;
        for f in &w.settings {
            match f {
                AgentField::On(spec) => {
                    has_trigger = true;
                    self.trigger_spec(spec);
                }
                AgentField::Limits(r, _) => limits = Some(self.limits_ref(r)),
                AgentField::Model(e, _) => {
                    has_model = true;
                    self.model_ref(e);
                }
                AgentField::Overlap(n, _) => self.overlap(n),
                AgentField::Context(_, s) | AgentField::Actions(_, s) => {
                    let d = Diagnostic::new(
                        Code::UnknownSetting,
                        self.file,
                        *s,
                        "this setting belongs to agents, not workflows",
                    )
                    .label("not a workflow setting")
                    .help("a workflow fetches what it needs in its statements");
                    self.push(d);
                }
                _ => {}
            }
        }
        let broken = self.broken(self.file, w.span);
        if !has_trigger && !broken {
            self.no_trigger(w.name.span, "workflow");
        }
        let limits = match limits {
            Some(l) => l,
            None => self.global_limits(),
        };
        let has_limits = limits.is_some();
        self.item.limits = limits;
        let mut orders = Vec::new();
        self.block(&w.body, has_model, &mut orders);
        if !has_limits
            && !broken
            && let Some(first) = orders.first()
        {
            let d = Diagnostic::new(Code::NoLimits, self.file, w.name.span, format!("workflow `{}` places orders but has no limits", w.name.text))
                .label("can trade without limits")
                .with_label(self.file, *first, "order placed here")
                .help("add `limits NAME` or `limits { max_position $10_000 … }` to the workflow, or declare default `limits { … }`");
            self.push(d);
        }
    }

    /// Checks a block; returns whether every path through it ends with `end`.
    fn block(&mut self, b: &Block, has_model: bool, orders: &mut Vec<Span>) -> bool {
        let mark = self.locals.len();
        let mut ended = false;
        let mut warned = false;
        for s in &b.stmts {
            if ended && !warned && !matches!(s, Stmt::Error(_)) {
                warned = true;
                let d = Diagnostic::new(Code::Unreachable, self.file, s.span(), "this statement is never reached")
                    .label("unreachable")
                    .help("every path before it ends with `end`; remove it or move it up");
                self.push(d);
            }
            ended |= self.stmt(s, has_model, orders);
        }
        self.unbind(mark);
        ended
    }

    fn stmt(&mut self, s: &Stmt, has_model: bool, orders: &mut Vec<Span>) -> bool {
        match s {
            Stmt::Let { name, value, .. } => {
                let t = self.value(value);
                // A binding whose value did not parse is not worth a second warning.
                self.bind(&name.text, t.ty, name.span, !matches!(value, Expr::Error(_)));
                false
            }
            Stmt::If { cond, then, otherwise, .. } => {
                self.expect_bool(cond, "an `if` condition");
                let a = self.block(then, has_model, orders);
                let b = match otherwise {
                    Some(Else::Block(blk)) => self.block(blk, has_model, orders),
                    Some(Else::If(inner)) => self.stmt(inner, has_model, orders),
                    None => false,
                };
                a && b
            }
            Stmt::Match { scrutinee, arms, span } => self.match_stmt(scrutinee, arms, *span, has_model, orders),
            Stmt::Ask { name, schema, model, prompt, span } => {
                let ty = self.type_expr(schema);
                match model {
                    Some(m) => self.model_ref(m),
                    None if !has_model => {
                        let d = Diagnostic::new(
                            Code::MissingSetting,
                            self.file,
                            *span,
                            "this `ask` names no model and the workflow has none",
                        )
                        .label("which model answers?")
                        .help("write `ask x: … using sonnet \"…\"`, or add `model sonnet` to the workflow");
                        self.push(d);
                    }
                    None => {}
                }
                if !matches!(ty, Ty::Record(_) | Ty::Enum(_) | Ty::Unknown) {
                    let d = Diagnostic::new(
                        Code::TypeMismatch,
                        self.file,
                        schema.span(),
                        format!("a model's answer must be a record or an enum, found {}", article(&ty)),
                    )
                    .label("not a record or enum")
                    .help("describe the answer: `{ decision: buy | hold, confidence: number }`");
                    self.push(d);
                }
                self.template(prompt);
                self.bind(&name.text, ty, name.span, true);
                false
            }
            Stmt::Order(o) => {
                orders.push(o.span);
                self.order(o);
                false
            }
            Stmt::Cancel { symbol, .. } => {
                if let Some(e) = symbol {
                    self.expect_ty(e, &Ty::Symbol, "the symbol to cancel orders for");
                }
                false
            }
            Stmt::Notify { message, .. } | Stmt::Log { message, .. } => {
                self.template(message);
                false
            }
            Stmt::End(_) => true,
            Stmt::Error(_) => false,
        }
    }

    fn match_stmt(
        &mut self,
        scrutinee: &Expr,
        arms: &[ast::Arm],
        span: Span,
        has_model: bool,
        orders: &mut Vec<Span>,
    ) -> bool {
        let t = self.value(scrutinee);
        let variants: Option<Vec<String>> = match &t.ty {
            Ty::Enum(vs) => Some(vs.to_vec()),
            Ty::Unknown => None,
            other => {
                let d = Diagnostic::new(
                    Code::TypeMismatch,
                    self.file,
                    scrutinee.span(),
                    format!("`match` needs an enum, found {}", article(other)),
                )
                .label("not an enum")
                .help("match on an enum such as `verdict.decision`; use `if` for other tests");
                self.push(d);
                None
            }
        };
        let mut covered: BTreeMap<String, Span> = BTreeMap::new();
        let mut wildcard = false;
        let mut all_end = true;
        let mut exhaustive = true;
        for arm in arms {
            if arm.patterns.is_empty() {
                wildcard = true;
            }
            for p in &arm.patterns {
                if let Some(vs) = &variants
                    && !vs.contains(&p.text)
                {
                    self.not_a_variant(&p.text, p.span, vs);
                    continue;
                }
                if let Some(prev) = covered.insert(p.text.clone(), p.span) {
                    let d = Diagnostic::new(
                        Code::DuplicateArm,
                        self.file,
                        p.span,
                        format!("`{}` is matched twice", p.text),
                    )
                    .label("never reached")
                    .with_label(self.file, prev, "first matched here");
                    self.push(d);
                }
            }
            all_end &= self.block(&arm.body, has_model, orders);
        }
        if let Some(vs) = &variants
            && !wildcard
        {
            let missing: Vec<&String> = vs.iter().filter(|v| !covered.contains_key(*v)).collect();
            if !missing.is_empty() {
                exhaustive = false;
                let list = missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ");
                let arms_text = missing.iter().map(|m| format!("{m} => {{ end }}")).collect::<Vec<_>>().join(" ");
                let d = Diagnostic::new(Code::NonExhaustive, self.file, span, format!("`match` does not cover {list}"))
                    .label("not every variant is handled")
                    .help(format!("add arms for the rest (`{arms_text}`) or a final `_ => {{ … }}`"));
                self.push(d);
            }
        }
        all_end && exhaustive && (wildcard || variants.is_some())
    }

    fn order(&mut self, o: &Order) {
        let sym = self.expect_ty(&o.symbol, &Ty::Symbol, "the order's symbol");
        let _ = sym;
        let side = if o.side == Side::Buy { "buy" } else { "sell" };
        match &o.size {
            None if o.side == Side::Buy => {
                let d = Diagnostic::new(Code::BadSize, self.file, o.span, "a buy order needs a size")
                    .label("how much?")
                    .help("add `size 10 shares`, `size $5_000` or `size 5% of portfolio`");
                self.push(d);
            }
            None => {}
            Some(Size::All(span)) if o.side == Side::Buy => {
                let d = Diagnostic::new(
                    Code::BadSize,
                    self.file,
                    *span,
                    "`size all` sells the whole position; it cannot buy",
                )
                .label("only for `sell`")
                .help("give a quantity, a money amount or a share of the portfolio");
                self.push(d);
            }
            Some(Size::All(_)) => {}
            Some(Size::Amount(e)) => {
                let t = self.value(e);
                match t.ty {
                    Ty::Quantity | Ty::Number | Ty::Unknown => {}
                    Ty::Money | Ty::Price => {
                        self.money_sizes.insert((self.file, e.span()));
                        if let (Some(v), Some(lim)) =
                            (money_literal(e), self.item.limits.as_ref().and_then(|l| l.max_position))
                            && o.side == Side::Buy
                            && v > lim.0
                        {
                            let file = self.item.limits.as_ref().and_then(|l| l.file).unwrap_or(self.file);
                            let d = Diagnostic::new(
                                Code::ExceedsPosition,
                                self.file,
                                e.span(),
                                format!("this order is worth ${v}, more than max_position ${}", lim.0),
                            )
                            .label("too large")
                            .with_label(file, lim.1, "the limit")
                            .help("lower the size or raise `max_position`; the risk gate would refuse it at run time");
                            self.push(d);
                        }
                    }
                    Ty::Percent => {
                        let d =
                            Diagnostic::new(Code::BadSize, self.file, e.span(), "a percent size needs to say of what")
                                .label("5% of what?")
                                .fix(
                                    e.span().after(),
                                    " of portfolio",
                                    "write `… of portfolio`, `… of cash` or `… of position`",
                                );
                        self.push(d);
                    }
                    ref other => {
                        let d = Diagnostic::new(
                            Code::BadSize,
                            self.file,
                            e.span(),
                            format!(
                                "an order size is shares, money or a percent of something, found {}",
                                article(other)
                            ),
                        )
                        .label("not a size");
                        self.push(d);
                    }
                }
            }
            Some(Size::Fraction { percent, of }) => {
                self.expect_ty(percent, &Ty::Percent, "the share in `… of …`");
                if !matches!(of.text.as_str(), "portfolio" | "cash" | "position") && !of.text.is_empty() {
                    let opts = ["portfolio".to_string(), "cash".to_string(), "position".to_string()];
                    self.not_a_variant(&of.text, of.span, &opts);
                }
                if of.text == "position" && o.side == Side::Buy {
                    let d = Diagnostic::new(
                        Code::BadSize,
                        self.file,
                        of.span,
                        "`of position` sizes a sale; buys are sized from `portfolio` or `cash`",
                    )
                    .label("only for `sell`");
                    self.push(d);
                }
                if let (Some(v), Some(lim)) =
                    (percent_literal(percent), self.item.limits.as_ref().and_then(|l| l.max_allocation))
                    && o.side == Side::Buy
                    && of.text == "portfolio"
                    && v > lim.0
                {
                    let file = self.item.limits.as_ref().and_then(|l| l.file).unwrap_or(self.file);
                    let d = Diagnostic::new(
                        Code::ExceedsAllocation,
                        self.file,
                        percent.span(),
                        format!("{v}% of the portfolio is more than max_allocation {}%", lim.0),
                    )
                    .label("too large")
                    .with_label(file, lim.1, "the limit")
                    .help("lower the share or raise `max_allocation`");
                    self.push(d);
                }
                if let Some(v) = percent_literal(percent)
                    && (v <= 0.0 || v > 100.0)
                {
                    let d = Diagnostic::new(
                        Code::OutOfRange,
                        self.file,
                        percent.span(),
                        format!("a share must be above 0% and at most 100%, found {v}%"),
                    )
                    .label("out of range");
                    self.push(d);
                }
            }
        }
        for (e, what) in [(&o.limit, "limit price"), (&o.stop, "stop price")] {
            if let Some(e) = e {
                self.expect_ty(e, &Ty::Price, || format!("the {what}"));
                if let Some(v) = const_number(e)
                    && v <= 0.0
                {
                    let d = Diagnostic::new(
                        Code::OutOfRange,
                        self.file,
                        e.span(),
                        format!("a {what} must be above zero, found {}{}", if v < 0.0 { "-$" } else { "$" }, v.abs()),
                    )
                    .label("not above zero")
                    .help("give a positive price; an order without a limit or stop is a market order");
                    self.push(d);
                }
            }
        }
        for (e, what) in [(&o.stop_loss, "stop_loss"), (&o.take_profit, "take_profit")] {
            if let Some(e) = e {
                let t = self.expect_ty(e, &Ty::Percent, || format!("`{what}`"));
                if t.ty == Ty::Percent
                    && let Some(v) = percent_literal(e)
                    && v <= 0.0
                {
                    let d = Diagnostic::new(
                        Code::OutOfRange,
                        self.file,
                        e.span(),
                        format!("`{what}` is a distance from the entry and must be positive, found {v}%"),
                    )
                    .label("not positive");
                    self.push(d);
                }
            }
        }
        if let Some(t) = &o.tif
            && !matches!(t.text.as_str(), "day" | "gtc" | "ioc" | "fok")
            && !t.text.is_empty()
        {
            let opts = ["day", "gtc", "ioc", "fok"].map(str::to_string);
            self.not_a_variant(&t.text, t.span, &opts);
        }
        if let Expr::Ticker(sym, span) = &o.symbol
            && let Some(l) = self.item.limits.clone()
        {
            let file = l.file.unwrap_or(self.file);
            if let Some((block, bspan)) = &l.block
                && block.contains(sym)
            {
                let d =
                    Diagnostic::new(Code::BlockedSymbol, self.file, *span, format!("`{sym}` is blocked by the limits"))
                        .label(format!("{side} of a blocked symbol"))
                        .with_label(file, *bspan, "blocked here");
                self.push(d);
            } else if let Some((allow, aspan)) = &l.allow
                && !allow.contains(sym)
            {
                let d = Diagnostic::new(
                    Code::BlockedSymbol,
                    self.file,
                    *span,
                    format!("`{sym}` is not in the allowed symbols"),
                )
                .label(format!("{side} of a symbol outside `allow`"))
                .with_label(file, *aspan, "allowed symbols");
                self.push(d);
            }
        }
    }
}

fn money_literal(e: &Expr) -> Option<f64> {
    match e {
        Expr::Number { unit: LitUnit::Money, .. } => const_number(e),
        _ => None,
    }
}

fn percent_literal(e: &Expr) -> Option<f64> {
    match e {
        Expr::Number { unit: LitUnit::Percent, .. } => const_number(e),
        Expr::Unary { operand, .. } if matches!(**operand, Expr::Number { unit: LitUnit::Percent, .. }) => {
            const_number(e)
        }
        _ => None,
    }
}
