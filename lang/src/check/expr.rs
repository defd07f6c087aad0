//! Typing of expressions and templates.

use super::types::{Ty, arith, comparable, ordered, std_record};
use super::{Checker, DeclKind, Local};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;
use crate::syntax::ast::{Arg, BinOp, Expr, LitUnit, StrLit, UnOp};

/// The type of an expression, whether it changes with market data, and the symbol set it
/// ranges over (a function given a set is evaluated once per symbol).
#[derive(Debug, Clone)]
pub struct Typed {
    pub ty: Ty,
    pub varies: bool,
    pub over: Option<(String, Span)>,
}

/// A description of what is being checked, built only when a diagnostic needs it.
pub trait What {
    fn text(self) -> String;
}

impl What for &str {
    fn text(self) -> String {
        self.to_string()
    }
}

impl<F: FnOnce() -> String> What for F {
    fn text(self) -> String {
        self()
    }
}

impl Typed {
    fn constant(ty: Ty) -> Typed {
        Typed { ty, varies: false, over: None }
    }
}

/// Which context source a value or function needs inside an agent's prompt.
fn needed_source(category: Option<&strat_stdlib::Category>, global: Option<&str>) -> Option<&'static str> {
    use strat_stdlib::Category as C;
    if let Some(g) = global {
        return match g {
            "portfolio" => Some("portfolio"),
            "performance" => Some("performance"),
            "market_hours" => Some("market_hours"),
            _ => None,
        };
    }
    match category? {
        C::Price | C::Volume => Some("prices"),
        C::Indicator => Some("indicators"),
        C::News => Some("news"),
        C::Portfolio => Some("portfolio"),
        C::Market | C::Math | C::Time => None,
    }
}

impl Checker<'_> {
    /// Types an expression used as a value: a bare unknown name is an error here.
    pub(super) fn value(&mut self, e: &Expr) -> Typed {
        let t = self.expr(e);
        self.settle(e, t)
    }

    /// Reports a bare name left unresolved (it was not compared with an enum).
    fn settle(&mut self, e: &Expr, t: Typed) -> Typed {
        if let Ty::Variant(v) = &t.ty {
            self.unresolved_name(v, e.span());
            return Typed { ty: Ty::Unknown, ..t };
        }
        t
    }

    /// Types `e` and checks it against `want`; returns the type found.
    pub(super) fn expect_ty(&mut self, e: &Expr, want: &Ty, what: impl What) -> Typed {
        let t = self.expr(e);
        if let (Ty::Variant(v), Ty::Enum(vs)) = (&t.ty, want) {
            if !vs.contains(v) {
                self.not_a_variant(v, e.span(), vs);
            }
            return Typed { ty: want.clone(), ..t };
        }
        let t = self.settle(e, t);
        if !t.ty.fits(want) {
            let mut d = Diagnostic::new(
                Code::TypeMismatch,
                self.file,
                e.span(),
                format!("{} must be {}, found {}", what.text(), article(want), article(&t.ty)),
            )
            .label(format!("this is {}", article(&t.ty)));
            if let Some(h) = unit_hint(e, &t.ty, want) {
                d = d.help(h);
            }
            self.push(d);
        }
        t
    }

    pub(super) fn expect_bool(&mut self, e: &Expr, what: impl What) -> Typed {
        let t = self.value(e);
        if !t.ty.fits(&Ty::Bool) {
            let d = Diagnostic::new(
                Code::NotBool,
                self.file,
                e.span(),
                format!("{} must be true or false, found {}", what.text(), article(&t.ty)),
            )
            .label(format!("this is {}", article(&t.ty)))
            .help("compare it, e.g. `rsi(AAPL, 14) < 30`");
            self.push(d);
        }
        t
    }

    pub(super) fn not_a_variant(&mut self, v: &str, span: Span, vs: &[String]) {
        let mut d =
            Diagnostic::new(Code::NotAVariant, self.file, span, format!("`{v}` is not one of {}", vs.join(" | ")))
                .label("not a variant");
        d = match strat_stdlib::suggest(v, vs.iter().map(String::as_str)) {
            Some(s) => d.fix(span, s, format!("did you mean `{s}`?")),
            None => d.help(format!("the variants are {}", vs.join(", "))),
        };
        self.push(d);
    }

    fn unresolved_name(&mut self, name: &str, span: Span) {
        let locals: Vec<String> = self.locals.iter().map(|l| l.name.clone()).collect();
        let decls: Vec<String> = self.scope().names.keys().cloned().collect();
        let candidates = locals
            .iter()
            .map(String::as_str)
            .chain(decls.iter().map(String::as_str))
            .chain(strat_stdlib::GLOBALS.iter().map(|g| g.name))
            .chain(strat_stdlib::FUNCTIONS.iter().map(|f| f.name));
        let mut d = if self.in_template {
            Diagnostic::new(
                Code::UnknownPlaceholder,
                self.file,
                span,
                format!("`{name}` is not available in this prompt"),
            )
            .label("no such value here")
        } else {
            Diagnostic::new(Code::Unresolved, self.file, span, format!("cannot find `{name}` here")).label("not found")
        };
        d = match strat_stdlib::suggest(name, candidates) {
            Some(s) => d.fix(span, s, format!("did you mean `{s}`?")),
            None => d.help("declare it with `let`, or check the spelling"),
        };
        self.push(d);
    }

    pub(super) fn bind(&mut self, name: &str, ty: Ty, span: Span, warn_unused: bool) {
        let file = self.file;
        if let Some(f) = &mut self.facts {
            f.locals.push(super::LocalFact { file, span, name: name.to_string(), ty: ty.clone() });
        }
        self.locals.push(Local { name: name.to_string(), ty, span, used: false, warn_unused });
    }

    /// Drops locals bound after `mark`, warning about unused ones.
    pub(super) fn unbind(&mut self, mark: usize) {
        for l in self.locals.drain(mark..).collect::<Vec<_>>() {
            if l.warn_unused && !l.used && !l.name.starts_with('_') {
                let d = Diagnostic::new(Code::UnusedLet, self.file, l.span, format!("`{}` is never used", l.name))
                    .label("bound here")
                    .help(format!("remove it, or name it `_{}`", l.name));
                self.push(d);
            }
        }
    }

    fn merge_over(&mut self, a: Option<(String, Span)>, b: Option<(String, Span)>) -> Option<(String, Span)> {
        match (a, b) {
            (Some(x), Some(y)) if x.0 != y.0 => {
                let d = Diagnostic::new(
                    Code::MixedSymbolSets,
                    self.file,
                    y.1,
                    format!("this ranges over `{}`, but the condition already ranges over `{}`", y.0, x.0),
                )
                .label(format!("over `{}`", y.0))
                .with_label(self.file, x.1, format!("over `{}`", x.0))
                .help("a condition is evaluated once per symbol of one set; use the same set, or a single symbol");
                self.push(d);
                Some(x)
            }
            (Some(x), _) | (None, Some(x)) => Some(x),
            (None, None) => None,
        }
    }

    /// Types an expression; a bare unknown name comes back as `Ty::Variant`.
    pub(super) fn expr(&mut self, e: &Expr) -> Typed {
        let t = self.expr_kind(e);
        self.record_type(e.span(), &t.ty);
        t
    }

    fn expr_kind(&mut self, e: &Expr) -> Typed {
        match e {
            Expr::Number { unit, .. } => Typed::constant(match unit {
                LitUnit::None => Ty::Number,
                LitUnit::Percent => Ty::Percent,
                LitUnit::Money => Ty::Money,
                LitUnit::Shares => Ty::Quantity,
                LitUnit::Duration(_) => Ty::Duration,
            }),
            Expr::Str(s) => {
                self.template(s);
                Typed::constant(Ty::Text)
            }
            Expr::Bool(..) => Typed::constant(Ty::Bool),
            Expr::Date(..) => Typed::constant(Ty::Date),
            Expr::Time(..) => Typed::constant(Ty::TimeOfDay),
            Expr::Ticker(..) => Typed::constant(Ty::Symbol),
            Expr::Name(n) => self.name_expr(&n.text, n.span),
            Expr::List(items, span) => self.list(items, *span),
            Expr::Call { callee, args, span } => self.call(&callee.text, callee.span, args, *span),
            Expr::Field { base, field, span } => {
                if field.text == "symbol" && self.names_the_trigger(base) {
                    self.trigger_symbol_read(*span);
                }
                let b = self.value(base);
                let ty = match b.ty.fields() {
                    Some(r) => match r.field(&field.text) {
                        Some(t) => t.clone(),
                        None => {
                            let what = r.name.clone().unwrap_or_else(|| "this record".to_string());
                            let mut d = Diagnostic::new(
                                Code::UnknownField,
                                self.file,
                                field.span,
                                format!("{what} has no field `{}`", field.text),
                            )
                            .label("unknown field");
                            d = match strat_stdlib::suggest(&field.text, r.fields.iter().map(|(n, _)| n.as_str())) {
                                Some(s) => d.fix(field.span, s, format!("did you mean `{s}`?")),
                                None => d.help(format!(
                                    "its fields are {}",
                                    r.fields.iter().map(|(n, _)| format!("`{n}`")).collect::<Vec<_>>().join(", ")
                                )),
                            };
                            self.push(d);
                            Ty::Unknown
                        }
                    },
                    None if b.ty.is_unknown() => Ty::Unknown,
                    None => {
                        let d = Diagnostic::new(
                            Code::UnknownField,
                            self.file,
                            field.span,
                            format!("{} has no fields", article(&b.ty)),
                        )
                        .label(format!("`.{}` on {}", field.text, article(&b.ty)));
                        self.push(d);
                        Ty::Unknown
                    }
                };
                Typed { ty, ..b }
            }
            Expr::Unary { op, operand, .. } => match op {
                UnOp::Not => {
                    let t = self.expect_bool(operand, "the operand of `not`");
                    Typed { ty: Ty::Bool, ..t }
                }
                UnOp::Neg => {
                    let t = self.value(operand);
                    if !t.ty.is_numeric() {
                        let d = Diagnostic::new(
                            Code::TypeMismatch,
                            self.file,
                            operand.span(),
                            format!("cannot negate {}", article(&t.ty)),
                        )
                        .label("not a number");
                        self.push(d);
                        return Typed { ty: Ty::Unknown, ..t };
                    }
                    t
                }
            },
            Expr::Binary { op, lhs, rhs, op_span, .. } => self.binary(*op, lhs, rhs, *op_span),
            Expr::Paren(inner, _) => self.expr(inner),
            Expr::Error(_) => Typed::constant(Ty::Unknown),
        }
    }

    /// Whether `e` is the built-in `trigger` (not a binding of that name).
    fn names_the_trigger(&self, e: &Expr) -> bool {
        matches!(e, Expr::Name(n) if n.text == "trigger" && !self.locals.iter().any(|l| l.name == "trigger"))
    }

    fn name_expr(&mut self, name: &str, span: Span) -> Typed {
        if let Some(l) = self.locals.iter_mut().rev().find(|l| l.name == name) {
            l.used = true;
            let typed = Typed { ty: l.ty.clone(), varies: true, over: None };
            let target = super::Target::Local { file: self.file, span: l.span };
            self.record_ref(span, target);
            return typed;
        }
        if let Some(g) = strat_stdlib::global(name) {
            if let Some(src) = needed_source(None, Some(name)) {
                self.need_context(src, name, span);
            }
            let ty = if name == "trigger" {
                self.item.trigger.clone().unwrap_or_else(|| std_record("trigger"))
            } else {
                Ty::from_std(&g.ty)
            };
            return Typed { ty, varies: true, over: None };
        }
        if let Some(r) = self.lookup(name, span) {
            if r.kind == DeclKind::Universe {
                return Typed { ty: Ty::SymbolSet, varies: false, over: Some((name.to_string(), span)) };
            }
            let d = Diagnostic::new(
                Code::WrongKind,
                self.file,
                span,
                format!("`{name}` is a {}, not a value", r.kind.word()),
            )
            .label("used as a value")
            .with_label(r.file, r.span, "declared here");
            self.push(d);
            return Typed::constant(Ty::Unknown);
        }
        if strat_stdlib::function(name).is_some() {
            let d = Diagnostic::new(Code::TypeMismatch, self.file, span, format!("`{name}` is a function"))
                .label("used without arguments")
                .fix(span.after(), "()", format!("call it: `{name}(…)`"));
            self.push(d);
            return Typed::constant(Ty::Unknown);
        }
        Typed::constant(Ty::Variant(name.to_string()))
    }

    fn need_context(&mut self, source: &str, what: impl What, span: Span) {
        let Some(ctx) = &self.item.context else { return };
        if ctx.contains(source) {
            return;
        }
        let d = Diagnostic::new(
            Code::MissingContext,
            self.file,
            span,
            format!("`{what}` needs the `{source}` context, which this agent does not declare", what = what.text()),
        )
        .label(format!("needs `{source}`"))
        .help(format!("add `{source}` to the agent's `context` line"));
        self.push(d);
    }

    fn list(&mut self, items: &[Expr], span: Span) -> Typed {
        let mut elem = Ty::Unknown;
        let mut varies = false;
        let mut first_span = span;
        for it in items {
            let t = self.value(it);
            varies |= t.varies;
            if elem.is_unknown() {
                elem = t.ty;
                first_span = it.span();
            } else if !t.ty.fits(&elem) {
                let d = Diagnostic::new(
                    Code::TypeMismatch,
                    self.file,
                    it.span(),
                    format!("list items must all be {}, found {}", article(&elem), article(&t.ty)),
                )
                .label(format!("this is {}", article(&t.ty)))
                .with_label(self.file, first_span, format!("this is {}", article(&elem)));
                self.push(d);
            }
        }
        if elem == Ty::Symbol {
            let text: Vec<String> =
                items.iter().filter_map(|e| if let Expr::Ticker(t, _) = e { Some(t.clone()) } else { None }).collect();
            return Typed { ty: Ty::SymbolSet, varies, over: Some((format!("[{}]", text.join(", ")), span)) };
        }
        Typed { ty: Ty::List(Box::new(elem)), varies, over: None }
    }

    fn binary(&mut self, op: BinOp, lhs: &Expr, rhs: &Expr, op_span: Span) -> Typed {
        match op {
            BinOp::And | BinOp::Or => {
                let a = self.expect_bool(lhs, || format!("the left side of `{}`", op.symbol()));
                let b = self.expect_bool(rhs, || format!("the right side of `{}`", op.symbol()));
                let over = self.merge_over(a.over, b.over);
                Typed { ty: Ty::Bool, varies: a.varies || b.varies, over }
            }
            BinOp::Add | BinOp::Sub | BinOp::Mul | BinOp::Div => {
                let a = self.value(lhs);
                let b = self.value(rhs);
                let over = self.merge_over(a.over, b.over);
                let ty = match arith(op, &a.ty, &b.ty) {
                    Some(t) => t,
                    None => {
                        let mut d = Diagnostic::new(
                            Code::UnitMismatch,
                            self.file,
                            op_span,
                            format!("cannot {} {} {} {}", verb(op), article(&a.ty), prep(op), article(&b.ty)),
                        )
                        .label(format!("`{}` here", op.symbol()))
                        .with_label(self.file, lhs.span(), a.ty.to_string())
                        .with_label(self.file, rhs.span(), b.ty.to_string());
                        d = d.help(arith_help(op, &a.ty, &b.ty));
                        self.push(d);
                        Ty::Unknown
                    }
                };
                Typed { ty, varies: a.varies || b.varies, over }
            }
            BinOp::In => {
                let a = self.value(lhs);
                let b = self.value(rhs);
                let ok = match &b.ty {
                    Ty::SymbolSet => a.ty.fits(&Ty::Symbol),
                    Ty::List(t) => a.ty.fits(t),
                    Ty::Unknown => true,
                    _ => false,
                };
                if !ok {
                    let d = Diagnostic::new(
                        Code::IncomparableTypes,
                        self.file,
                        op_span,
                        format!("cannot look for {} in {}", article(&a.ty), article(&b.ty)),
                    )
                    .label("`in` here")
                    .help("`in` tests a symbol against a symbol set, or an item against a list");
                    self.push(d);
                }
                let over = self.merge_over(a.over, b.over.filter(|_| false));
                Typed { ty: Ty::Bool, varies: a.varies || b.varies, over }
            }
            _ => {
                let a = self.expr(lhs);
                let b = self.expr(rhs);
                let (a, b) = match (&a.ty, &b.ty) {
                    (Ty::Variant(v), Ty::Enum(vs)) => {
                        if !vs.contains(v) {
                            self.not_a_variant(&v.clone(), lhs.span(), &vs.clone());
                        }
                        (Typed { ty: b.ty.clone(), ..a }, b)
                    }
                    (Ty::Enum(vs), Ty::Variant(v)) => {
                        if !vs.contains(v) {
                            self.not_a_variant(&v.clone(), rhs.span(), &vs.clone());
                        }
                        let ty = a.ty.clone();
                        (a, Typed { ty, ..b })
                    }
                    _ => (self.settle(lhs, a), self.settle(rhs, b)),
                };
                let over = self.merge_over(a.over.clone(), b.over.clone());
                let is_order = !matches!(op, BinOp::Eq | BinOp::Ne);
                if !comparable(&a.ty, &b.ty) {
                    let mut d = Diagnostic::new(
                        Code::IncomparableTypes,
                        self.file,
                        op_span,
                        format!("cannot compare {} with {}", article(&a.ty), article(&b.ty)),
                    )
                    .label(format!("`{}` here", op.symbol()))
                    .with_label(self.file, lhs.span(), a.ty.to_string())
                    .with_label(self.file, rhs.span(), b.ty.to_string());
                    if let Some(h) = unit_hint(rhs, &b.ty, &a.ty).or_else(|| unit_hint(lhs, &a.ty, &b.ty)) {
                        d = d.help(h);
                    }
                    self.push(d);
                } else if is_order && !(ordered(&a.ty) && ordered(&b.ty)) {
                    let d = Diagnostic::new(
                        Code::IncomparableTypes,
                        self.file,
                        op_span,
                        format!("{} values have no order", a.ty),
                    )
                    .label(format!("`{}` needs numbers, prices, percents or times", op.symbol()))
                    .help("use `==` or `!=`");
                    self.push(d);
                }
                if matches!(op, BinOp::CrossesAbove | BinOp::CrossesBelow) && !a.varies && !b.varies {
                    let d = Diagnostic::new(
                        Code::ConstantCrossing,
                        self.file,
                        op_span,
                        "neither side of this crossing changes over time",
                    )
                    .label("always false")
                    .help("cross a series such as `price(AAPL)` or `sma(AAPL, 10)` over a level or another series");
                    self.push(d);
                }
                Typed { ty: Ty::Bool, varies: a.varies || b.varies, over }
            }
        }
    }

    fn call(&mut self, name: &str, name_span: Span, args: &[Arg], span: Span) -> Typed {
        let Some(f) = strat_stdlib::function(name) else {
            let mut d =
                Diagnostic::new(Code::UnknownFunction, self.file, name_span, format!("unknown function `{name}`"))
                    .label("not a standard library function");
            d = match strat_stdlib::suggest(name, strat_stdlib::FUNCTIONS.iter().map(|f| f.name)) {
                Some(s) => d.fix(name_span, s, format!("did you mean `{s}`?")),
                None => d.help("see `strat doc` for the standard library"),
            };
            self.push(d);
            for a in args {
                self.value(&a.value);
            }
            return Typed::constant(Ty::Unknown);
        };
        if let Some(src) = needed_source(Some(&f.category), None) {
            self.need_context(src, || format!("{name}(…)"), name_span);
        }
        let bound = self.bind_args(name, f.params, args, span);
        let mut over = None;
        let mut varies = !matches!(f.category, strat_stdlib::Category::Math);
        let mut unit: Option<Ty> = None;
        for (param, arg) in f.params.iter().zip(&bound) {
            let Some(arg) = arg else { continue };
            let want = Ty::from_std(&param.ty);
            let is_math = matches!(f.category, strat_stdlib::Category::Math);
            let t = if want == Ty::Symbol {
                let t = self.value(arg);
                if !matches!(t.ty, Ty::Symbol | Ty::SymbolSet | Ty::Unknown) {
                    self.push(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            self.file,
                            arg.span(),
                            format!("`{}` of `{name}` must be a symbol, found {}", param.name, article(&t.ty)),
                        )
                        .label(format!("this is {}", article(&t.ty)))
                        .help("write a ticker such as `AAPL`, a universe name, or `trigger.symbol`"),
                    );
                }
                t
            } else if is_math {
                let t = self.value(arg);
                if !t.ty.is_numeric() {
                    self.push(
                        Diagnostic::new(
                            Code::TypeMismatch,
                            self.file,
                            arg.span(),
                            format!("`{name}` takes numbers, found {}", article(&t.ty)),
                        )
                        .label(format!("this is {}", article(&t.ty))),
                    );
                } else if let Some(u) = &unit {
                    if arith(BinOp::Add, u, &t.ty).is_none() {
                        self.push(
                            Diagnostic::new(
                                Code::UnitMismatch,
                                self.file,
                                arg.span(),
                                format!("`{name}` of {} and {}", article(u), article(&t.ty)),
                            )
                            .label(format!("this is {}", article(&t.ty)))
                            .help("give both arguments the same unit"),
                        );
                    }
                } else {
                    unit = Some(t.ty.clone());
                }
                t
            } else {
                let t = self.expect_ty(arg, &want, || format!("`{}` of `{name}`", param.name));
                self.positive_param(name, param.name, arg);
                t
            };
            varies |= t.varies && is_math;
            over = self.merge_over(over, t.over);
        }
        let ty = match (&unit, matches!(f.category, strat_stdlib::Category::Math)) {
            (Some(u), true) => u.clone(),
            (None, true) => Ty::Unknown,
            _ => Ty::from_std(&f.ret),
        };
        Typed { ty, varies, over }
    }

    /// Matches call arguments to parameters: positional first, then by name.
    pub(super) fn bind_args<'e>(
        &mut self,
        fname: &str,
        params: &[strat_stdlib::Param],
        args: &'e [Arg],
        span: Span,
    ) -> Vec<Option<&'e Expr>> {
        let mut bound: Vec<Option<&Expr>> = vec![None; params.len()];
        let mut positional = 0;
        for a in args {
            match &a.name {
                None => {
                    if positional < params.len() {
                        bound[positional] = Some(&a.value);
                    } else {
                        let sig = strat_stdlib::function(fname).map(strat_stdlib::signature).unwrap_or_default();
                        self.push(
                            Diagnostic::new(
                                Code::Arity,
                                self.file,
                                a.value.span(),
                                format!(
                                    "`{fname}` takes at most {} argument{}",
                                    params.len(),
                                    if params.len() == 1 { "" } else { "s" }
                                ),
                            )
                            .label("extra argument")
                            .help(if sig.is_empty() {
                                "remove it".to_string()
                            } else {
                                format!("the signature is `{sig}`")
                            }),
                        );
                        self.value(&a.value);
                    }
                    positional += 1;
                }
                Some(n) => match params.iter().position(|p| p.name == n.text) {
                    Some(i) if bound[i].is_none() => bound[i] = Some(&a.value),
                    Some(_) => {
                        self.push(
                            Diagnostic::new(
                                Code::BadArgument,
                                self.file,
                                n.span,
                                format!("`{}` is given twice", n.text),
                            )
                            .label("repeated argument"),
                        );
                    }
                    None => {
                        let mut d = Diagnostic::new(
                            Code::BadArgument,
                            self.file,
                            n.span,
                            format!("`{fname}` has no parameter `{}`", n.text),
                        )
                        .label("unknown parameter");
                        d = match strat_stdlib::suggest(&n.text, params.iter().map(|p| p.name)) {
                            Some(s) => d.fix(n.span, s, format!("did you mean `{s}`?")),
                            None => d.help(format!(
                                "its parameters are {}",
                                params.iter().map(|p| format!("`{}`", p.name)).collect::<Vec<_>>().join(", ")
                            )),
                        };
                        self.push(d);
                        self.value(&a.value);
                    }
                },
            }
        }
        let missing: Vec<&str> = params
            .iter()
            .zip(&bound)
            .filter(|(p, b)| b.is_none() && p.default.is_none())
            .map(|(p, _)| p.name)
            .collect();
        if !missing.is_empty() {
            let sig = strat_stdlib::function(fname).map(strat_stdlib::signature).unwrap_or_default();
            let mut d = Diagnostic::new(
                Code::Arity,
                self.file,
                span,
                format!(
                    "`{fname}` is missing {}",
                    missing.iter().map(|m| format!("`{m}`")).collect::<Vec<_>>().join(", ")
                ),
            )
            .label("missing arguments");
            if !sig.is_empty() {
                d = d.help(format!("the signature is `{sig}`"));
            }
            self.push(d);
        }
        bound
    }

    fn positive_param(&mut self, fname: &str, pname: &str, arg: &Expr) {
        if !matches!(pname, "period" | "fast" | "slow" | "signal" | "window" | "multiplier" | "stddev") {
            return;
        }
        if let Some(v) = const_number(arg)
            && (v <= 0.0 || (pname != "multiplier" && pname != "stddev" && pname != "window" && v.fract() != 0.0))
        {
            self.push(
                Diagnostic::new(
                    Code::OutOfRange,
                    self.file,
                    arg.span(),
                    format!("`{pname}` of `{fname}` must be a positive whole number, found {v}"),
                )
                .label("out of range"),
            );
        }
    }

    /// Checks the placeholders of a template string in the current scope.
    pub(super) fn template(&mut self, s: &StrLit) {
        // Records and lists render as JSON, so a placeholder may hold a value of any type.
        let outer = std::mem::replace(&mut self.in_template, true);
        for hole in s.holes() {
            self.value(hole);
        }
        self.in_template = outer;
    }
}

/// A literal number's value, looking through parentheses and unary minus.
pub(super) fn const_number(e: &Expr) -> Option<f64> {
    match e {
        Expr::Number { text, .. } => text.parse().ok(),
        Expr::Paren(inner, _) => const_number(inner),
        Expr::Unary { op: UnOp::Neg, operand, .. } => const_number(operand).map(|v| -v),
        _ => None,
    }
}

pub(super) fn article(t: &Ty) -> String {
    match t {
        Ty::Enum(_) | Ty::Variant(_) => format!("{t}"),
        Ty::Record(r) if r.name.is_none() => format!("a record {t}"),
        Ty::Unknown => "unknown".to_string(),
        _ => {
            let s = t.to_string();
            let an = s.starts_with(['a', 'e', 'i', 'o', 'u']);
            format!("{} {s}", if an { "an" } else { "a" })
        }
    }
}

fn verb(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "add",
        BinOp::Sub => "subtract",
        BinOp::Mul => "multiply",
        _ => "divide",
    }
}

fn prep(op: BinOp) -> &'static str {
    match op {
        BinOp::Add => "to",
        BinOp::Sub => "from",
        BinOp::Mul => "by",
        _ => "by",
    }
}

fn arith_help(op: BinOp, a: &Ty, b: &Ty) -> String {
    match (op, a, b) {
        (BinOp::Add | BinOp::Sub, Ty::Percent, t) | (BinOp::Add | BinOp::Sub, t, Ty::Percent) if t.is_numeric() => {
            format!("to change {} by a percent, multiply by a percent: `x * 105%` (or `x * 95%`)", article(t))
        }
        (BinOp::Add | BinOp::Sub, Ty::Number, t) | (BinOp::Add | BinOp::Sub, t, Ty::Number) if t.is_numeric() => {
            format!("give the number a unit so both sides are {}", article(t))
        }
        _ => "both sides of `+` and `-` need the same unit; `*` and `/` combine price, quantity and money".to_string(),
    }
}

/// A hint when a plain number literal stands where a unit is expected (`30` for `30%`).
fn unit_hint(e: &Expr, found: &Ty, want: &Ty) -> Option<String> {
    if let (Expr::Number { text, unit: LitUnit::Percent, .. }, Ty::Percent, Ty::Number) = (strip_neg(e), found, want) {
        return Some(format!("write `{text}` without `%`, or compare with a percent"));
    }
    let Expr::Number { text, unit: LitUnit::None, .. } = strip_neg(e) else { return None };
    let sign = if matches!(e, Expr::Unary { .. }) { "-" } else { "" };
    match (found, want) {
        (Ty::Number, Ty::Percent) => Some(format!("write `{sign}{text}%` for a percent")),
        (Ty::Number, Ty::Money | Ty::Price) => Some(format!("write `{sign}${text}` for money")),
        (Ty::Number, Ty::Duration) => Some(format!("give it a unit: `{text}m`, `{text}h` or `{text}d`")),
        _ => None,
    }
}

fn strip_neg(e: &Expr) -> &Expr {
    match e {
        Expr::Unary { op: UnOp::Neg, operand, .. } => operand,
        e => e,
    }
}
