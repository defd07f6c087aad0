//! Universes and symbol sets: the tickers a list, a universe or a mix of both names.

use super::*;

impl Checker<'_> {
    pub(in crate::check) fn universe(&mut self, u: &ast::Universe) {
        self.symbol_set(&u.symbols);
    }

    /// The tickers of a symbol-set expression (a list of tickers, a universe, or a list mixing
    /// both), when they are known.
    pub(in crate::check) fn symbol_set(&mut self, e: &Expr) -> Option<BTreeSet<String>> {
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

    pub(in crate::check) fn universe_symbols(&mut self, n: &ast::Name) -> Option<BTreeSet<String>> {
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
}

pub(super) fn collect_tickers(
    e: &Expr,
    out: &mut BTreeSet<String>,
    cx: &mut Checker<'_>,
    depth: u32,
) -> Option<BTreeSet<String>> {
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
