//! Limits blocks and references: each setting checked, and the values known at check time.

use super::*;

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
    /// Checks a limits block and returns the constants it fixes.
    pub(in crate::check) fn limits_body(&mut self, body: &LimitsBody) -> KnownLimits {
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
    pub(in crate::check) fn limits_ref(&mut self, r: &LimitsRef) -> Option<KnownLimits> {
        match r {
            LimitsRef::Inline(body) => Some(self.limits_body(body)),
            LimitsRef::Named(n) => {
                let d = self.resolve(n, DeclKind::Limits)?;
                self.known_limits_of(d)
            }
        }
    }

    /// Constants of a declared limits block, computed without reporting (its own check reports).
    pub(in crate::check) fn known_limits_of(&mut self, d: DeclRef) -> Option<KnownLimits> {
        if let Some(k) = self.limits_cache.get(&d) {
            return k.clone();
        }
        let k = self.compute_limits_of(d);
        self.limits_cache.insert(d, k.clone());
        k
    }

    pub(super) fn compute_limits_of(&mut self, d: DeclRef) -> Option<KnownLimits> {
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
    pub(in crate::check) fn global_limits(&mut self) -> Option<KnownLimits> {
        let g = self.scope().global_limits?;
        self.used.insert(g);
        self.known_limits_of(g)
    }
}
