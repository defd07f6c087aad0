//! Model declarations and references: provider, model name and parameters.

use super::*;

impl Checker<'_> {
    pub(in crate::check) fn model_ref(&mut self, e: &Expr) {
        match e {
            Expr::Name(n) => {
                self.resolve(n, DeclKind::Model);
            }
            other => self.model_spec(other),
        }
    }

    /// `provider("model-name", param: value, …)`.
    pub(in crate::check) fn model_spec(&mut self, e: &Expr) {
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
}
