//! Universes, limits, models, triggers, schemas and agents.

use super::expr::{article, const_number};
use super::types::{Ty, std_record};
use super::{Checker, DeclKind, DeclRef};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;
use crate::syntax::ast::{self, AgentField, Expr, Item, LimitsBody, LimitsRef, TriggerKind, TriggerSpec, TypeExpr};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

/// The limit values known at check time, used to reject constant orders that break them.
#[derive(Debug, Clone, Default)]
pub struct KnownLimits {
    pub max_position: Option<(f64, Span)>,
    pub max_allocation: Option<(f64, Span)>,
    pub allow: Option<(Arc<BTreeSet<String>>, Span)>,
    pub block: Option<(Arc<BTreeSet<String>>, Span)>,
    pub file: Option<crate::span::FileId>,
}

impl Checker<'_> {
    pub(super) fn universe(&mut self, u: &ast::Universe) {
        self.symbol_set(&u.symbols);
    }

    /// The tickers of a symbol-set expression (a list of tickers, a universe, or a list mixing
    /// both), when they are known.
    pub(super) fn symbol_set(&mut self, e: &Expr) -> Option<BTreeSet<String>> {
        match e {
            Expr::List(items, _) => {
                let mut out = BTreeSet::new();
                let mut known = true;
                for it in items {
                    match it {
                        Expr::Ticker(t, span) => {
                            if !out.insert(t.clone()) {
                                let d = Diagnostic::new(
                                    Code::Duplicate,
                                    self.file,
                                    *span,
                                    format!("`{t}` is listed twice"),
                                )
                                .label("repeated symbol")
                                .fix(*span, "", "remove the repetition");
                                self.push(d);
                            }
                        }
                        Expr::Name(n) => match self.universe_symbols(n) {
                            Some(s) => out.extend(s),
                            None => known = false,
                        },
                        other => {
                            let t = self.value(other);
                            let d = Diagnostic::new(
                                Code::TypeMismatch,
                                self.file,
                                other.span(),
                                format!("a symbol set holds tickers, found {}", article(&t.ty)),
                            )
                            .label("not a ticker")
                            .help("write tickers in capitals, e.g. `[AAPL, MSFT, BRK.B]`");
                            self.push(d);
                            known = false;
                        }
                    }
                }
                known.then_some(out)
            }
            Expr::Name(n) => self.universe_symbols(n),
            Expr::Ticker(t, _) => Some(BTreeSet::from([t.clone()])),
            other => {
                let t = self.value(other);
                if !t.ty.is_unknown() {
                    let d = Diagnostic::new(
                        Code::TypeMismatch,
                        self.file,
                        other.span(),
                        format!("expected a symbol set such as `[AAPL, MSFT]`, found {}", article(&t.ty)),
                    )
                    .label("not a symbol set");
                    self.push(d);
                }
                None
            }
        }
    }

    pub(super) fn universe_symbols(&mut self, n: &ast::Name) -> Option<BTreeSet<String>> {
        let r = self.resolve(n, DeclKind::Universe)?;
        if let Some(s) = self.universe_cache.get(&r) {
            return s.clone();
        }
        let Some(Item::Universe(u)) = self.item_at(r) else { return None };
        let mut seen = BTreeSet::new();
        let s = collect_tickers(&u.symbols, &mut seen, self, 0);
        self.universe_cache.insert(r, s.clone());
        s
    }

    /// Checks a limits block and returns the constants it fixes.
    pub(super) fn limits_body(&mut self, body: &LimitsBody) -> KnownLimits {
        let mut known = KnownLimits { file: Some(self.file), ..KnownLimits::default() };
        let mut seen: BTreeMap<&str, Span> = BTreeMap::new();
        for s in &body.settings {
            let key = s.key.text.as_str();
            let Some(field) = strat_stdlib::limit_field(key) else {
                let mut d = Diagnostic::new(
                    Code::UnknownSetting,
                    self.file,
                    s.key.span,
                    format!("limits have no setting `{key}`"),
                )
                .label("unknown limit");
                d = match strat_stdlib::suggest(key, strat_stdlib::LIMIT_FIELDS.iter().map(|f| f.name)) {
                    Some(sug) => d.fix(s.key.span, sug, format!("did you mean `{sug}`?")),
                    None => d.help("see `strat doc limits` for the list of limits"),
                };
                self.push(d);
                self.value(&s.value);
                continue;
            };
            if let Some(prev) = seen.insert(field.name, s.key.span) {
                let d = Diagnostic::new(Code::DuplicateSetting, self.file, s.key.span, format!("`{key}` is set twice"))
                    .label("set again here")
                    .with_label(self.file, prev, "first set here");
                self.push(d);
            }
            let want = Ty::from_std(&field.ty);
            if want == Ty::SymbolSet {
                let set = self.symbol_set(&s.value);
                let entry = set.map(|v| (Arc::new(v), s.value.span()));
                if key == "allow" {
                    known.allow = entry;
                } else if key == "block" {
                    known.block = entry;
                }
                continue;
            }
            let t = self.expect_ty(&s.value, &want, || format!("`{key}`"));
            if !t.ty.fits(&want) {
                continue;
            }
            if let Some(v) = const_number(&s.value) {
                let below = field.min.is_some_and(|m| v < m);
                let above = field.max.is_some_and(|m| v > m);
                if below || above {
                    let range = match (field.min, field.max) {
                        (Some(a), Some(b)) => format!("between {a} and {b}"),
                        (Some(a), None) => format!("at least {a}"),
                        (None, Some(b)) => format!("at most {b}"),
                        (None, None) => String::new(),
                    };
                    let d = Diagnostic::new(
                        Code::OutOfRange,
                        self.file,
                        s.value.span(),
                        format!("`{key}` must be {range}, found {v}"),
                    )
                    .label("out of range");
                    self.push(d);
                }
                match key {
                    "max_position" => known.max_position = Some((v, s.value.span())),
                    "max_allocation" => known.max_allocation = Some((v, s.value.span())),
                    _ => {}
                }
            }
        }
        if let (Some((allow, aspan)), Some((block, bspan))) = (&known.allow, &known.block) {
            let both: Vec<&String> = allow.intersection(block).collect();
            if !both.is_empty() {
                let list = both.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(", ");
                let d =
                    Diagnostic::new(Code::LimitConflict, self.file, *bspan, format!("{list} both allowed and blocked"))
                        .label("blocked here")
                        .with_label(self.file, *aspan, "allowed here")
                        .help("a symbol may be in `allow` or in `block`, not both");
                self.push(d);
            }
        }
        known
    }

    /// Resolves and checks a limits reference.
    pub(super) fn limits_ref(&mut self, r: &LimitsRef) -> Option<KnownLimits> {
        match r {
            LimitsRef::Inline(body) => Some(self.limits_body(body)),
            LimitsRef::Named(n) => {
                let d = self.resolve(n, DeclKind::Limits)?;
                self.known_limits_of(d)
            }
        }
    }

    /// Constants of a declared limits block, computed without reporting (its own check reports).
    pub(super) fn known_limits_of(&mut self, d: DeclRef) -> Option<KnownLimits> {
        if let Some(k) = self.limits_cache.get(&d) {
            return k.clone();
        }
        let k = self.compute_limits_of(d);
        self.limits_cache.insert(d, k.clone());
        k
    }

    fn compute_limits_of(&mut self, d: DeclRef) -> Option<KnownLimits> {
        let Some(Item::Limits(l)) = self.item_at(d) else { return None };
        let saved_file = self.file;
        let saved = self.diags.len();
        self.file = d.file;
        let k = self.limits_body(&l.body);
        self.diags.truncate(saved);
        self.file = saved_file;
        Some(k)
    }

    /// The default limits of this file's scope, if any.
    pub(super) fn global_limits(&mut self) -> Option<KnownLimits> {
        let g = self.scope().global_limits?;
        self.used.insert(g);
        self.known_limits_of(g)
    }

    pub(super) fn model_ref(&mut self, e: &Expr) {
        match e {
            Expr::Name(n) => {
                self.resolve(n, DeclKind::Model);
            }
            other => self.model_spec(other),
        }
    }

    /// `provider("model-name", param: value, …)`.
    pub(super) fn model_spec(&mut self, e: &Expr) {
        let Expr::Call { callee, args, .. } = e else {
            if !matches!(e, Expr::Error(_)) {
                let d = Diagnostic::new(
                    Code::TypeMismatch,
                    self.file,
                    e.span(),
                    "a model is written `provider(\"model-name\", …)`",
                )
                .label("not a model")
                .help("for example `anthropic(\"claude-sonnet-4-5\", temperature: 0.2)`");
                self.push(d);
            }
            return;
        };
        let Some(p) = strat_stdlib::provider(&callee.text) else {
            let mut d = Diagnostic::new(
                Code::UnknownProvider,
                self.file,
                callee.span,
                format!("unknown model provider `{}`", callee.text),
            )
            .label("unknown provider");
            d = match strat_stdlib::suggest(&callee.text, strat_stdlib::PROVIDERS.iter().map(|p| p.name)) {
                Some(s) => d.fix(callee.span, s, format!("did you mean `{s}`?")),
                None => d.help(format!(
                    "providers are {}",
                    strat_stdlib::PROVIDERS.iter().map(|p| format!("`{}`", p.name)).collect::<Vec<_>>().join(", ")
                )),
            };
            self.push(d);
            return;
        };
        let mut positional = args.iter().filter(|a| a.name.is_none());
        match positional.next().map(|a| &a.value) {
            Some(Expr::Str(s)) => {
                if !p.models.contains(&s.value.as_str()) {
                    let mut d = Diagnostic::new(
                        Code::UnknownModel,
                        self.file,
                        s.span,
                        format!("`{}` is not a known {} model", s.value, p.name),
                    )
                    .label("unknown model");
                    d = match strat_stdlib::suggest(&s.value, p.models.iter().copied()) {
                        Some(sug) => d.fix(s.span, format!("\"{sug}\""), format!("did you mean \"{sug}\"?")),
                        None => d.help(format!("known models: {}", p.models.join(", "))),
                    };
                    self.push(d);
                }
            }
            Some(other) => {
                let d = Diagnostic::new(Code::TypeMismatch, self.file, other.span(), "the model name must be a string")
                    .label("not a string");
                self.push(d);
            }
            None => {
                let d = Diagnostic::new(Code::Arity, self.file, e.span(), format!("`{}` needs the model name", p.name))
                    .label("model name missing")
                    .help(format!("for example `{}(\"{}\")`", p.name, p.models.first().copied().unwrap_or("model")));
                self.push(d);
            }
        }
        for extra in positional {
            let d = Diagnostic::new(
                Code::Arity,
                self.file,
                extra.value.span(),
                "a model takes one model name; other settings are named",
            )
            .label("extra argument")
            .help("write settings as `temperature: 0.2`");
            self.push(d);
        }
        let mut seen = BTreeSet::new();
        for a in args {
            let Some(n) = &a.name else { continue };
            let Some(param) = p.params.iter().find(|q| q.name == n.text) else {
                let mut d = Diagnostic::new(
                    Code::BadArgument,
                    self.file,
                    n.span,
                    format!("`{}` models have no setting `{}`", p.name, n.text),
                )
                .label("unknown setting");
                d = match strat_stdlib::suggest(&n.text, p.params.iter().map(|q| q.name)) {
                    Some(s) => d.fix(n.span, s, format!("did you mean `{s}`?")),
                    None => d.help(format!(
                        "settings are {}",
                        p.params.iter().map(|q| format!("`{}`", q.name)).collect::<Vec<_>>().join(", ")
                    )),
                };
                self.push(d);
                continue;
            };
            if !seen.insert(n.text.clone()) {
                let d = Diagnostic::new(Code::BadArgument, self.file, n.span, format!("`{}` is given twice", n.text))
                    .label("repeated");
                self.push(d);
            }
            let t = self.expect_ty(&a.value, &Ty::from_std(&param.ty), || format!("`{}`", n.text));
            let v = const_number(&a.value);
            let bad = match n.text.as_str() {
                "temperature" => v.is_some_and(|v| !(0.0..=2.0).contains(&v)),
                "max_tokens" => v.is_some_and(|v| v < 1.0 || v.fract() != 0.0),
                _ => false,
            };
            if bad && !t.ty.is_unknown() {
                let range = if n.text == "temperature" { "between 0 and 2" } else { "a whole number of at least 1" };
                let d = Diagnostic::new(
                    Code::OutOfRange,
                    self.file,
                    a.value.span(),
                    format!("`{}` must be {range}", n.text),
                )
                .label("out of range");
                self.push(d);
            }
        }
    }

    /// Checks one trigger and extends the `trigger` type of the current item.
    pub(super) fn trigger_spec(&mut self, spec: &TriggerSpec) {
        let mut extra: Vec<(String, Ty)> = Vec::new();
        match &spec.kind {
            TriggerKind::Schedule { cron, tz } => {
                self.cron(cron);
                match tz {
                    Some(tz) => self.time_zone(tz),
                    None => {
                        let d = Diagnostic::new(
                            Code::NoTimeZone,
                            self.file,
                            cron.span,
                            "schedule without a time zone runs in UTC",
                        )
                        .label("no `tz`")
                        .fix(
                            cron.span.after(),
                            " tz \"America/New_York\"",
                            "name the zone, e.g. `tz \"America/New_York\"`",
                        );
                        self.push(d);
                    }
                }
            }
            TriggerKind::Webhook { options, .. } => {
                if let Some(s) = ast::WebhookOption::secret(options) {
                    self.webhook_secret(s);
                }
                let ty = match ast::WebhookOption::payload(options) {
                    Some(schema) => self.schema_ty(schema),
                    None => Ty::Text,
                };
                extra.push(("payload".into(), ty));
            }
            TriggerKind::Manual(_) => {}
            TriggerKind::Expr(e) => self.trigger_expr(e, &mut extra),
        }
        for th in &spec.throttles {
            let c = self.expect_ty(&th.count, &Ty::Number, "a throttle count");
            if c.ty == Ty::Number
                && let Some(v) = const_number(&th.count)
                && (v < 1.0 || v.fract() != 0.0)
            {
                let d = Diagnostic::new(
                    Code::NotPositive,
                    self.file,
                    th.count.span(),
                    format!("a throttle allows a whole number of at least 1 firing, found {v}"),
                )
                .label("not a positive whole number");
                self.push(d);
            }
            self.positive_duration(&th.window, "a throttle window");
        }
        self.extend_trigger(extra);
    }

    fn extend_trigger(&mut self, extra: Vec<(String, Ty)>) {
        let base = self.item.trigger.clone().unwrap_or_else(base_trigger);
        if extra.is_empty() {
            self.item.trigger = Some(base);
            return;
        }
        let Ty::Record(r) = base else { return };
        let mut fields = r.fields.clone();
        for (n, t) in extra {
            if !fields.iter().any(|(m, _)| *m == n) {
                fields.push((n, t));
            }
        }
        self.item.trigger = Some(Ty::record(Some("trigger"), fields));
    }

    pub(super) fn positive_duration(&mut self, e: &Expr, what: &str) {
        let t = self.expect_ty(e, &Ty::Duration, what);
        if t.ty == Ty::Duration
            && let Some(v) = const_number(e)
            && v <= 0.0
        {
            let d = Diagnostic::new(Code::NotPositive, self.file, e.span(), format!("{what} must be longer than zero"))
                .label("not positive");
            self.push(d);
        }
    }

    fn trigger_expr(&mut self, e: &Expr, extra: &mut Vec<(String, Ty)>) {
        match e {
            Expr::Name(n) if self.scope().names.get(&n.text).is_some_and(|r| r.kind == DeclKind::Trigger) => {
                if let Some(r) = self.resolve(n, DeclKind::Trigger)
                    && let Some(Item::Trigger(t)) = self.item_at(r)
                {
                    // Take the fields the named trigger provides, without re-reporting its errors.
                    let saved = self.diags.len();
                    let file = self.file;
                    self.file = r.file;
                    self.trigger_spec(&t.spec);
                    self.file = file;
                    self.diags.truncate(saved);
                }
            }
            Expr::Call { callee, args, .. } if callee.text == "news" && args.iter().all(|a| a.name.is_some()) => {
                self.news_trigger(args);
                extra.push(("article".into(), std_record("article")));
            }
            Expr::Call { callee, args, span } if callee.text == "bar" => {
                let params = bar_params();
                let bound = self.bind_args("bar", &params, args, *span);
                if let Some(Some(s)) = bound.first() {
                    let t = self.value(s);
                    if !matches!(t.ty, Ty::Symbol | Ty::SymbolSet | Ty::Unknown) {
                        let d = Diagnostic::new(
                            Code::TypeMismatch,
                            self.file,
                            s.span(),
                            format!("`bar` needs a symbol or symbol set, found {}", article(&t.ty)),
                        )
                        .label("not a symbol");
                        self.push(d);
                    }
                }
                if let Some(Some(w)) = bound.get(1) {
                    self.positive_duration(w, "the bar length");
                }
            }
            other => {
                self.item.over = None;
                let t = self.expect_bool(other, "a trigger condition");
                self.item.over = t.over;
            }
        }
    }

    fn news_trigger(&mut self, args: &[ast::Arg]) {
        let mut seen = BTreeSet::new();
        for a in args {
            let Some(n) = &a.name else { continue };
            if !seen.insert(n.text.as_str()) {
                let d =
                    Diagnostic::new(Code::BadTriggerOption, self.file, n.span, format!("`{}` is given twice", n.text))
                        .label("repeated");
                self.push(d);
            }
            match n.text.as_str() {
                "keywords" => {
                    self.expect_ty(&a.value, &Ty::List(Box::new(Ty::Text)), "`keywords`");
                }
                "symbols" => {
                    self.symbol_set(&a.value);
                }
                "sentiment" => {
                    let mut vs: Vec<&str> = strat_stdlib::SENTIMENT.to_vec();
                    vs.push("any");
                    self.expect_ty(&a.value, &Ty::enumeration(&vs), "`sentiment`");
                }
                "min_relevance" => {
                    self.expect_ty(&a.value, &Ty::Number, "`min_relevance`");
                    if let Some(v) = const_number(&a.value)
                        && !(0.0..=1.0).contains(&v)
                    {
                        let d = Diagnostic::new(
                            Code::OutOfRange,
                            self.file,
                            a.value.span(),
                            format!("`min_relevance` must be between 0 and 1, found {v}"),
                        )
                        .label("out of range");
                        self.push(d);
                    }
                }
                other => {
                    let opts = ["keywords", "symbols", "sentiment", "min_relevance"];
                    let mut d = Diagnostic::new(
                        Code::BadTriggerOption,
                        self.file,
                        n.span,
                        format!("news triggers have no option `{other}`"),
                    )
                    .label("unknown option");
                    d = match strat_stdlib::suggest(other, opts) {
                        Some(s) => d.fix(n.span, s, format!("did you mean `{s}`?")),
                        None => d.help("options are `keywords`, `symbols`, `sentiment` and `min_relevance`"),
                    };
                    self.push(d);
                    self.value(&a.value);
                }
            }
        }
    }

    fn webhook_secret(&mut self, e: &Expr) {
        match e {
            Expr::Call { callee, args, .. } if callee.text == "env" => match args.as_slice() {
                [a] if a.name.is_none() && matches!(&a.value, Expr::Str(s) if !s.value.is_empty()) => {}
                _ => {
                    let d = Diagnostic::new(
                        Code::LiteralSecret,
                        self.file,
                        e.span(),
                        "`env` takes the name of one environment variable",
                    )
                    .label("expected `env(\"NAME\")`");
                    self.push(d);
                }
            },
            Expr::Str(s) => {
                let d = Diagnostic::new(Code::LiteralSecret, self.file, s.span, "webhook secret written in the file")
                    .label("a secret in source control is no secret")
                    .fix(
                        s.span,
                        "env(\"WEBHOOK_SECRET\")",
                        "read it from the environment: `secret env(\"WEBHOOK_SECRET\")`",
                    );
                self.push(d);
            }
            other => {
                let d = Diagnostic::new(
                    Code::LiteralSecret,
                    self.file,
                    other.span(),
                    "a webhook secret comes from `env(\"NAME\")`",
                )
                .label("not an environment variable");
                self.push(d);
            }
        }
    }

    fn cron(&mut self, s: &ast::StrLit) {
        let fields = s.value.split_whitespace().count();
        if fields != 5 {
            let d = Diagnostic::new(
                Code::InvalidCron,
                self.file,
                s.span,
                format!("a cron expression has 5 fields, this one has {fields}"),
            )
            .label("minute hour day-of-month month day-of-week")
            .help("for example \"0 16 * * 1-5\" is 4 PM on weekdays");
            self.push(d);
            return;
        }
        if let Err(e) = croner::parser::CronParser::new().parse(&s.value) {
            let d = Diagnostic::new(Code::InvalidCron, self.file, s.span, format!("invalid cron expression: {e}"))
                .label("not a valid schedule")
                .help("fields are minute (0-59), hour (0-23), day of month (1-31), month (1-12), day of week (0-7)");
            self.push(d);
        }
    }

    fn time_zone(&mut self, tz: &ast::StrLit) {
        if tz.value.parse::<chrono_tz::Tz>().is_ok() {
            return;
        }
        let mut d =
            Diagnostic::new(Code::UnknownTimeZone, self.file, tz.span, format!("unknown time zone \"{}\"", tz.value))
                .label("not an IANA time zone");
        d = match strat_stdlib::suggest(&tz.value, chrono_tz::TZ_VARIANTS.iter().map(|z| z.name())) {
            Some(s) => d.fix(tz.span, format!("\"{s}\""), format!("did you mean \"{s}\"?")),
            None => d.help("use an IANA name such as \"America/New_York\" or \"Europe/London\""),
        };
        self.push(d);
    }

    /// Converts a schema to a record type, reporting unknown types and repeated fields.
    pub(super) fn schema_ty(&mut self, s: &ast::Schema) -> Ty {
        let mut fields: Vec<(String, Ty)> = Vec::new();
        let mut first: BTreeMap<&str, Span> = BTreeMap::new();
        for f in &s.fields {
            let t = self.type_expr(&f.ty);
            if let Some(prev) = first.insert(f.name.text.as_str(), f.name.span) {
                let d = Diagnostic::new(
                    Code::DuplicateField,
                    self.file,
                    f.name.span,
                    format!("field `{}` is declared twice", f.name.text),
                )
                .label("declared again")
                .with_label(self.file, prev, "first declared here");
                self.push(d);
                continue;
            }
            fields.push((f.name.text.clone(), t));
        }
        Ty::record(None, fields)
    }

    pub(super) fn type_expr(&mut self, t: &TypeExpr) -> Ty {
        match t {
            TypeExpr::Record(s) => self.schema_ty(s),
            TypeExpr::Optional(inner, _) => Ty::Optional(Box::new(self.type_expr(inner))),
            TypeExpr::Error(_) => Ty::Unknown,
            TypeExpr::Enum(vs, span) => {
                let mut seen = BTreeSet::new();
                for v in vs {
                    if !seen.insert(v.text.as_str()) {
                        let d = Diagnostic::new(
                            Code::BadEnum,
                            self.file,
                            v.span,
                            format!("variant `{}` is listed twice", v.text),
                        )
                        .label("repeated");
                        self.push(d);
                    }
                }
                if seen.len() < 2 {
                    let d = Diagnostic::new(
                        Code::BadEnum,
                        self.file,
                        *span,
                        "an enum needs at least two different variants",
                    )
                    .label("one variant");
                    self.push(d);
                }
                Ty::enumeration(&vs.iter().map(|v| v.text.as_str()).collect::<Vec<_>>())
            }
            TypeExpr::Named { name, args, span } => {
                let n = name.text.as_str();
                let simple = match n {
                    "number" => Some(Ty::Number),
                    "bool" => Some(Ty::Bool),
                    "text" => Some(Ty::Text),
                    "percent" => Some(Ty::Percent),
                    "money" => Some(Ty::Money),
                    "price" => Some(Ty::Price),
                    "quantity" => Some(Ty::Quantity),
                    "duration" => Some(Ty::Duration),
                    "symbol" => Some(Ty::Symbol),
                    "timestamp" => Some(Ty::Timestamp),
                    "date" => Some(Ty::Date),
                    "sentiment" => Some(Ty::enumeration(strat_stdlib::SENTIMENT)),
                    _ => None,
                };
                if n == "list" {
                    return match args.as_slice() {
                        [inner] => Ty::List(Box::new(self.type_expr(inner))),
                        _ => {
                            let d = Diagnostic::new(
                                Code::UnknownType,
                                self.file,
                                *span,
                                "`list` takes one item type: `list<symbol>`",
                            )
                            .label("wrong type arguments");
                            self.push(d);
                            Ty::Unknown
                        }
                    };
                }
                if !args.is_empty() {
                    let d =
                        Diagnostic::new(Code::UnknownType, self.file, *span, format!("`{n}` takes no type arguments"))
                            .label("unexpected `<…>`");
                    self.push(d);
                }
                if let Some(t) = simple {
                    return t;
                }
                if strat_stdlib::record(n).is_some() {
                    return std_record(n);
                }
                const TYPES: &[&str] = &[
                    "number",
                    "bool",
                    "text",
                    "percent",
                    "money",
                    "price",
                    "quantity",
                    "duration",
                    "symbol",
                    "timestamp",
                    "date",
                    "sentiment",
                    "list",
                    "decision",
                ];
                let mut d = Diagnostic::new(Code::UnknownType, self.file, name.span, format!("unknown type `{n}`"))
                    .label("not a type");
                let alias = match n {
                    "string" | "str" => Some("text"),
                    "int" | "float" | "integer" | "f64" => Some("number"),
                    "boolean" => Some("bool"),
                    _ => None,
                };
                d = match alias.or_else(|| strat_stdlib::suggest(n, TYPES.iter().copied())) {
                    Some(s) => d.fix(name.span, s, format!("did you mean `{s}`?")),
                    None => d.help(format!("types are {}", TYPES.join(", "))),
                };
                self.push(d);
                Ty::Unknown
            }
        }
    }

    pub(super) fn agent(&mut self, index: usize, a: &ast::Agent) {
        let me = DeclRef { file: self.file, item: index, kind: DeclKind::Agent, span: a.name.span };
        self.duplicate_settings(a.fields.iter().map(agent_field_key));
        let mut model = None;
        let mut prompt = None;
        let mut limits: Option<Option<KnownLimits>> = None;
        let mut output = std_record("decision");
        let mut has_trigger = false;
        let mut context: BTreeSet<&'static str> = BTreeSet::from(["trigger", "limits"]);
        let mut actions: Option<(Vec<String>, Span)> = None;
        let mut inputs: Vec<(String, Ty, Span)> = Vec::new();
        for f in &a.fields {
            match f {
                AgentField::Model(e, _) => {
                    self.model_ref(e);
                    model = Some(e);
                }
                AgentField::Limits(r, _) => limits = Some(self.limits_ref(r)),
                AgentField::Context(items, _) => {
                    for it in items {
                        if let Some(name) = self.context_item(it) {
                            context.insert(name);
                        }
                    }
                }
                AgentField::Prompt(s, _) => prompt = Some(s),
                AgentField::Output(t, _) => output = self.type_expr(t),
                AgentField::Input(s, _) => {
                    let Ty::Record(r) = self.schema_ty(s) else { continue };
                    for ((n, t), f) in r.fields.iter().zip(&s.fields) {
                        inputs.push((n.clone(), t.clone(), f.name.span));
                    }
                }
                AgentField::Actions(names, span) => {
                    actions = Some((names.iter().map(|n| n.text.clone()).collect(), *span));
                    for n in names {
                        if !matches!(n.text.as_str(), "buy" | "sell") {
                            self.not_a_variant(&n.text, n.span, &["buy".to_string(), "sell".to_string()]);
                        }
                    }
                }
                AgentField::On(spec) => {
                    has_trigger = true;
                    self.trigger_spec(spec);
                }
                AgentField::Overlap(n, _) => self.overlap(n),
                AgentField::System(..) | AgentField::Description(..) | AgentField::Role(..) => {}
            }
        }
        let teams = self.team_members.get(&me).cloned().unwrap_or_default();
        let broken = self.broken(self.file, a.span);
        if model.is_some() && !broken {
            let specs: Vec<&TriggerSpec> =
                a.fields.iter().filter_map(|f| if let AgentField::On(spec) = f { Some(spec) } else { None }).collect();
            self.model_budget(&a.name, &specs, 1.0);
        }
        if model.is_none() && !broken {
            self.missing(a.name.span, "agent", "model", "model sonnet   // or: model offline(\"rules\")");
        }
        if prompt.is_none() && !broken {
            self.missing(a.name.span, "agent", "prompt", "prompt \"…what the agent should do…\"");
        }
        if !has_trigger && teams.is_empty() && !broken {
            self.no_trigger(a.name.span, "agent");
        }
        // Prompt placeholders see the declared context, the inputs and the trigger.
        self.item.context = Some(context);
        let mark = self.locals.len();
        for (n, t, span) in &inputs {
            self.bind(n, t.clone(), *span, false);
        }
        for f in &a.fields {
            if let AgentField::Prompt(s, _) | AgentField::System(s, _) = f {
                self.template(s);
            }
        }
        self.unbind(mark);
        self.item.context = None;
        let trades = can_trade(&output) && actions.as_ref().is_none_or(|(a, _)| !a.is_empty());
        if let Some((acts, span)) = &actions
            && !can_trade(&output)
            && !acts.is_empty()
        {
            let d = Diagnostic::new(
                Code::ActionNotAllowed,
                self.file,
                *span,
                "this agent's output has no `decision: buy | sell | hold` field, so it cannot act",
            )
            .label("actions without a decision")
            .help("remove `actions`, or add a `decision` field to the output");
            self.push(d);
        }
        let covered =
            limits.is_some() || self.global_limits().is_some() || teams.iter().any(|t| self.team_has_limits(*t));
        if trades && !covered && !broken {
            let d = Diagnostic::new(Code::NoLimits, self.file, a.name.span, format!("agent `{}` can place orders but has no limits", a.name.text))
                .label("can trade without limits")
                .help("add `limits NAME` (or `limits { max_position $10_000 … }`), or declare default `limits { … }` for the file");
            self.push(d);
        }
    }

    pub(super) fn team_has_limits(&self, team: DeclRef) -> bool {
        matches!(self.item_at(team), Some(Item::Team(t)) if t.fields.iter().any(|f| matches!(f, ast::TeamField::Limits(..))))
    }

    /// A context source: `portfolio`, `prices(tech)`, `news(tech, 24h)`.
    fn context_item(&mut self, e: &Expr) -> Option<&'static str> {
        let (name, span, args) = match e {
            Expr::Name(n) => (n.text.as_str(), n.span, &[][..]),
            Expr::Call { callee, args, .. } => (callee.text.as_str(), callee.span, args.as_slice()),
            other => {
                let d = Diagnostic::new(
                    Code::TypeMismatch,
                    self.file,
                    other.span(),
                    "expected a context source such as `portfolio` or `prices(tech)`",
                )
                .label("not a context source");
                self.push(d);
                return None;
            }
        };
        let Some(src) = strat_stdlib::context_source(name) else {
            let mut d = Diagnostic::new(Code::Unresolved, self.file, span, format!("`{name}` is not a context source"))
                .label("unknown context");
            d = match strat_stdlib::suggest(name, strat_stdlib::CONTEXT_SOURCES.iter().map(|c| c.name)) {
                Some(s) => d.fix(span, s, format!("did you mean `{s}`?")),
                None => d.help(format!(
                    "context sources are {}",
                    strat_stdlib::CONTEXT_SOURCES
                        .iter()
                        .map(|c| format!("`{}`", c.name))
                        .collect::<Vec<_>>()
                        .join(", ")
                )),
            };
            self.push(d);
            return None;
        };
        let want = usize::from(src.takes_symbols) + usize::from(src.takes_window);
        if args.len() != want {
            let form = match (src.takes_symbols, src.takes_window) {
                (true, true) => format!("`{name}(symbols, window)`"),
                (true, false) => format!("`{name}(symbols)`"),
                _ => format!("`{name}`"),
            };
            let d = Diagnostic::new(Code::Arity, self.file, e.span(), format!("context `{name}` is written {form}"))
                .label("wrong arguments");
            self.push(d);
            return Some(src.name);
        }
        if src.takes_symbols
            && let Some(a) = args.first()
        {
            self.symbol_set(&a.value);
        }
        if src.takes_window
            && let Some(a) = args.get(1)
        {
            self.positive_duration(&a.value, "the news window");
        }
        Some(src.name)
    }

    pub(super) fn overlap(&mut self, n: &ast::Name) {
        const POLICIES: [&str; 3] = ["skip", "queue", "replace"];
        if !POLICIES.contains(&n.text.as_str()) && !n.text.is_empty() {
            self.not_a_variant(&n.text, n.span, &POLICIES.map(str::to_string));
        }
    }

    pub(super) fn missing(&mut self, at: Span, what: &str, setting: &str, example: &str) {
        let d = Diagnostic::new(Code::MissingSetting, self.file, at, format!("{what} has no `{setting}`"))
            .label(format!("`{setting}` missing"))
            .help(format!("add `{example}`"));
        self.push(d);
    }

    pub(super) fn no_trigger(&mut self, at: Span, what: &str) {
        let d = Diagnostic::new(
            Code::NoTrigger,
            self.file,
            at,
            format!("this {what} has no `on` clause and is in no team, so nothing runs it"),
        )
        .label("never triggered")
        .help("add a trigger such as `on schedule \"30 9 * * 1-5\" tz \"America/New_York\"`, or `on manual`");
        self.push(d);
    }

    /// Reports settings given twice (`on` may repeat).
    pub(super) fn duplicate_settings(&mut self, keys: impl Iterator<Item = Option<(&'static str, Span)>>) {
        // Blocks hold a handful of settings: a vector beats a map here.
        let mut seen: Vec<(&str, Span)> = Vec::new();
        for (k, span) in keys.flatten() {
            if let Some(&(_, prev)) = seen.iter().find(|(s, _)| *s == k) {
                let d = Diagnostic::new(Code::DuplicateSetting, self.file, span, format!("`{k}` is set twice"))
                    .label("set again here")
                    .with_label(self.file, prev, "first set here")
                    .help("keep one of them");
                self.push(d);
            } else {
                seen.push((k, span));
            }
        }
    }
}

/// The `trigger` record before any trigger adds `article` or `payload`. Built once.
fn base_trigger() -> Ty {
    static BASE: std::sync::OnceLock<Ty> = std::sync::OnceLock::new();
    BASE.get_or_init(build_base_trigger).clone()
}

fn build_base_trigger() -> Ty {
    Ty::record(
        Some("trigger"),
        vec![
            ("kind".into(), Ty::Text),
            ("reason".into(), Ty::Text),
            ("time".into(), Ty::Timestamp),
            ("symbol".into(), Ty::Symbol),
        ],
    )
}

fn bar_params() -> Vec<strat_stdlib::Param> {
    vec![
        strat_stdlib::Param { name: "symbol", ty: strat_stdlib::Ty::Symbol, default: None, doc: "" },
        strat_stdlib::Param { name: "length", ty: strat_stdlib::Ty::Duration, default: Some("1d"), doc: "" },
    ]
}

/// An output can trade when it has `decision` with `buy` or `sell` among its variants.
pub(super) fn can_trade(output: &Ty) -> bool {
    matches!(output.fields().and_then(|r| r.field("decision")), Some(Ty::Enum(vs)) if vs.iter().any(|v| v == "buy" || v == "sell"))
}

pub(super) fn agent_field_key(f: &AgentField) -> Option<(&'static str, Span)> {
    Some(match f {
        AgentField::Model(_, s) => ("model", *s),
        AgentField::Limits(_, s) => ("limits", *s),
        AgentField::Context(_, s) => ("context", *s),
        AgentField::Prompt(_, s) => ("prompt", *s),
        AgentField::System(_, s) => ("system", *s),
        AgentField::Description(_, s) => ("description", *s),
        AgentField::Role(_, s) => ("role", *s),
        AgentField::Input(_, s) => ("input", *s),
        AgentField::Output(_, s) => ("output", *s),
        AgentField::Actions(_, s) => ("actions", *s),
        AgentField::Overlap(_, s) => ("overlap", *s),
        AgentField::On(_) => return None,
    })
}

fn collect_tickers(e: &Expr, out: &mut BTreeSet<String>, cx: &mut Checker<'_>, depth: u32) -> Option<BTreeSet<String>> {
    if depth > 32 {
        return None;
    }
    match e {
        Expr::List(items, _) => {
            for it in items {
                match it {
                    Expr::Ticker(t, _) => {
                        out.insert(t.clone());
                    }
                    Expr::Name(n) => {
                        let r = cx.scope().names.get(&n.text).copied()?;
                        let Some(Item::Universe(u)) = cx.item_at(r) else { return None };
                        collect_tickers(&u.symbols, out, cx, depth + 1)?;
                    }
                    _ => return None,
                }
            }
            Some(out.clone())
        }
        Expr::Name(n) => {
            let r = cx.scope().names.get(&n.text).copied()?;
            let Some(Item::Universe(u)) = cx.item_at(r) else { return None };
            collect_tickers(&u.symbols, out, cx, depth + 1)
        }
        _ => None,
    }
}
