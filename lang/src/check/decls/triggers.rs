//! Trigger specifications: bars, schedules (cron and time zone), conditions, news and
//! webhooks, with what each gives the `trigger` record.

use super::*;
use crate::check::NoSymbol;

impl Checker<'_> {
    /// Checks one trigger and extends the `trigger` type of the current item.
    pub(in crate::check) fn trigger_spec(&mut self, spec: &TriggerSpec) {
        let mut extra: Vec<(String, Ty)> = Vec::new();
        if let Some(what) = fires_without_symbol(&spec.kind) {
            let at = NoSymbol { file: self.file, span: kind_span(&spec.kind), what };
            self.item.no_symbol.get_or_insert(at);
        }
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

    pub(super) fn extend_trigger(&mut self, extra: Vec<(String, Ty)>) {
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

    pub(in crate::check) fn positive_duration(&mut self, e: &Expr, what: &str) {
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

    pub(super) fn trigger_expr(&mut self, e: &Expr, extra: &mut Vec<(String, Ty)>) {
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

    pub(super) fn news_trigger(&mut self, args: &[ast::Arg]) {
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

    pub(super) fn webhook_secret(&mut self, e: &Expr) {
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

    pub(super) fn cron(&mut self, s: &ast::StrLit) {
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

    pub(super) fn time_zone(&mut self, tz: &ast::StrLit) {
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
}

/// The `trigger` record before any trigger adds `article` or `payload`. Built once.
/// Where a trigger is written, when its text has a place to point at.
fn kind_span(kind: &TriggerKind) -> Option<Span> {
    match kind {
        TriggerKind::Schedule { cron, .. } => Some(cron.span),
        TriggerKind::Webhook { path, options } => path.as_ref().map(|p| p.span).or_else(|| {
            options.iter().find_map(|o| match o {
                ast::WebhookOption::Secret(e) => Some(e.span()),
                ast::WebhookOption::Payload(_) => None,
            })
        }),
        TriggerKind::Manual(span) => Some(*span),
        TriggerKind::Expr(e) => Some(e.span()),
    }
}

/// What a trigger that fires with no symbol is called, for the message.
fn fires_without_symbol(kind: &TriggerKind) -> Option<&'static str> {
    match kind {
        TriggerKind::Schedule { .. } => Some("a schedule"),
        TriggerKind::Webhook { .. } => Some("a webhook"),
        // A run started by hand names its symbol (`strat test --symbol`).
        TriggerKind::Manual(_) | TriggerKind::Expr(_) => None,
    }
}

impl Checker<'_> {
    /// A member agent without triggers of its own runs under its teams' triggers.
    pub(in crate::check) fn team_triggers_without_symbol(&self, teams: &[DeclRef]) -> Option<NoSymbol> {
        teams.iter().find_map(|t| {
            let Some(Item::Team(team)) = self.item_at(*t) else { return None };
            team.fields.iter().find_map(|f| match f {
                ast::TeamField::On(spec) => fires_without_symbol(&spec.kind).map(|what| NoSymbol {
                    file: t.file,
                    span: kind_span(&spec.kind),
                    what,
                }),
                _ => None,
            })
        })
    }

    /// `trigger.symbol` where a trigger of the item fires with none: an error, not "n/a".
    pub(in crate::check) fn trigger_symbol_read(&mut self, span: Span) {
        let Some(at) = self.item.no_symbol else { return };
        let d = Diagnostic::new(
            Code::NoTriggerSymbol,
            self.file,
            span,
            format!("`trigger.symbol` has no value when {} fires", at.what),
        )
        .label("read here");
        let d = match at.span {
            Some(span) => d.with_label(at.file, span, format!("{} fires with no symbol", at.what)),
            None => d,
        };
        let d = d.help("name the symbol (`SPY`), or trigger on `bar([SPY, QQQ], 1d)` so that each firing has one");
        self.push(d);
    }
}

pub(super) fn base_trigger() -> Ty {
    static BASE: std::sync::OnceLock<Ty> = std::sync::OnceLock::new();
    BASE.get_or_init(build_base_trigger).clone()
}

pub(super) fn build_base_trigger() -> Ty {
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

pub(super) fn bar_params() -> Vec<strat_stdlib::Param> {
    vec![
        strat_stdlib::Param { name: "symbol", ty: strat_stdlib::Ty::Symbol, default: None, doc: "" },
        strat_stdlib::Param { name: "length", ty: strat_stdlib::Ty::Duration, default: Some("1d"), doc: "" },
    ]
}
