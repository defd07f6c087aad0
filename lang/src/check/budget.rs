//! How often an agent or team may call models, at worst, from its triggers and throttles: a
//! warning (W0503) when that is unbounded or more than [`CALLS_PER_DAY`] a day.
//!
//! The worst case assumes one-minute bars through the session (390 closes a day per symbol)
//! for conditions, counts a cron schedule's occurrences over a week and keeps the busiest day,
//! and takes a `throttle` as the bound it sets; news and webhooks are unbounded unless
//! throttled. A condition over a universe fires per member symbol, each with its own throttle.

use super::{Checker, DeclKind};
use crate::diagnostic::{Code, Diagnostic};
use crate::span::Span;
use crate::syntax::ast::{self, Expr, Item, LitUnit, TriggerKind, TriggerSpec};

/// More model calls a day than this is worth a warning.
pub const CALLS_PER_DAY: f64 = 1_000.0;

/// Closes of one-minute bars in a regular session.
const BARS_PER_SESSION: f64 = 390.0;
const SESSION_SECONDS: f64 = 23_400.0;
const DAY_SECONDS: f64 = 86_400.0;

/// Firings a day of one trigger, at worst: `None` when nothing bounds them.
struct Estimate {
    per_day: Option<f64>,
    why: String,
}

fn seconds(e: &Expr) -> Option<f64> {
    match e {
        Expr::Number { text, unit: LitUnit::Duration(m), .. } => Some(text.parse::<f64>().ok()? * f64::from(*m)),
        Expr::Paren(inner, _) => seconds(inner),
        _ => None,
    }
}

/// The most occurrences a cron schedule has in one day, over a week.
fn cron_per_day(cron: &str) -> Option<f64> {
    let c = croner::parser::CronParser::new().parse(cron).ok()?;
    let start = chrono::NaiveDate::from_ymd_opt(2024, 1, 1)?.and_hms_opt(0, 0, 0)?.and_utc();
    let end = start + chrono::Duration::days(7);
    let mut per_day = [0u32; 7];
    let mut t = start;
    // At most one a minute: 7 × 1440 occurrences bound the walk.
    for _ in 0..(7 * 1440 + 1) {
        let Ok(next) = c.find_next_occurrence(&t, false) else { break };
        if next >= end {
            break;
        }
        let day = (next - start).num_days().clamp(0, 6) as usize;
        per_day[day] += 1;
        t = next;
    }
    per_day.iter().max().map(|m| f64::from(*m))
}

impl Checker<'_> {
    /// The worst-case firings a day of one trigger (per symbol it fires for, times symbols).
    fn firings(&mut self, spec: &TriggerSpec, depth: usize) -> Estimate {
        let window = if spec.market_hours.is_some() { SESSION_SECONDS } else { DAY_SECONDS };
        // Each rate `n per w` allows at most n firings in any w.
        let cap = spec
            .throttles
            .iter()
            .filter_map(|th| {
                let n = super::expr::const_number(&th.count)?;
                let w = seconds(&th.window).filter(|w| *w > 0.0)?;
                Some(n * (window / w).ceil())
            })
            .fold(None, |acc: Option<f64>, c| Some(acc.map_or(c, |a| a.min(c))));
        let bounded = |raw: Option<f64>, symbols: f64| match (raw, cap) {
            (Some(r), Some(c)) => Some(r.min(c) * symbols),
            (Some(r), None) => Some(r * symbols),
            (None, Some(c)) => Some(c * symbols),
            (None, None) => None,
        };
        match &spec.kind {
            TriggerKind::Manual(_) => Estimate { per_day: Some(0.0), why: "started by hand".into() },
            TriggerKind::Webhook { .. } => {
                Estimate { per_day: bounded(None, 1.0), why: "a webhook fires on every request".into() }
            }
            TriggerKind::Schedule { cron, .. } => {
                Estimate { per_day: bounded(cron_per_day(&cron.value), 1.0), why: "its schedule".into() }
            }
            TriggerKind::Expr(Expr::Name(n)) if depth < 4 => {
                let declared = self.scope().names.get(&n.text).copied().filter(|r| r.kind == DeclKind::Trigger);
                match declared.and_then(|r| self.item_at(r)) {
                    Some(Item::Trigger(t)) => {
                        let inner = self.firings(&t.spec, depth + 1);
                        Estimate { per_day: bounded(inner.per_day, 1.0), why: inner.why }
                    }
                    _ => Estimate { per_day: Some(0.0), why: String::new() },
                }
            }
            TriggerKind::Expr(Expr::Call { callee, .. }) if callee.text == "news" => {
                Estimate { per_day: bounded(None, 1.0), why: "a news trigger fires on every matching article".into() }
            }
            TriggerKind::Expr(Expr::Call { callee, args, .. }) if callee.text == "bar" => {
                let symbols = args.first().map_or(1.0, |a| self.symbol_count(&a.value));
                let length = args.get(1).and_then(|a| seconds(&a.value)).unwrap_or(DAY_SECONDS);
                let raw = (SESSION_SECONDS / length).ceil().max(1.0);
                Estimate {
                    per_day: bounded(Some(raw), symbols),
                    why: format!("{symbols} symbols × {raw} bars a session"),
                }
            }
            TriggerKind::Expr(e) => {
                let symbols = self.symbol_count(e).max(1.0);
                let why = match cap {
                    Some(c) if c < BARS_PER_SESSION => {
                        format!("{symbols} symbols × {c} firings its throttle allows a day")
                    }
                    _ => format!("a condition true at every close: {symbols} symbols × 390 one-minute bars"),
                };
                Estimate { per_day: bounded(Some(BARS_PER_SESSION), symbols), why }
            }
        }
    }

    /// Tickers and universe members an expression reads.
    fn symbol_count(&mut self, e: &Expr) -> f64 {
        let mut names: Vec<&ast::Name> = Vec::new();
        let mut tickers = std::collections::BTreeSet::new();
        walk(e, &mut |x| match x {
            Expr::Ticker(t, _) => {
                tickers.insert(t.clone());
            }
            Expr::Name(n) => names.push(n),
            _ => {}
        });
        for n in names {
            if self.scope().names.get(&n.text).is_some_and(|r| r.kind == DeclKind::Universe)
                && let Some(members) = self.universe_symbols(n)
            {
                tickers.extend(members);
            }
        }
        tickers.len() as f64
    }

    /// Warns when `name`'s model calls a day are unbounded or many. `calls` is how many model
    /// calls one execution makes.
    pub(super) fn model_budget(&mut self, name: &ast::Name, specs: &[&TriggerSpec], calls: f64) {
        let mut total = Some(0.0);
        let mut worst: Option<(Span, String, Option<f64>)> = None;
        for spec in specs {
            let e = self.firings(spec, 0);
            total = match (total, e.per_day) {
                (Some(t), Some(f)) => Some(t + f * calls),
                _ => None,
            };
            let more = match (e.per_day, worst.as_ref().and_then(|w| w.2)) {
                (None, _) => worst.as_ref().is_none_or(|w| w.2.is_some()),
                (Some(f), Some(w)) => f > w,
                (Some(_), None) => worst.is_none(),
            };
            if more {
                worst = Some((spec.span, e.why, e.per_day));
            }
        }
        let Some((span, why, _)) = worst else { return };
        let (message, label) = match total {
            None => (
                format!("`{}` can call its model without bound: nothing limits how often it fires", name.text),
                format!("unbounded: {why}"),
            ),
            Some(t) if t > CALLS_PER_DAY => (
                format!("`{}` may call its model up to {} times a day", name.text, group(t)),
                format!("at worst: {why}"),
            ),
            Some(_) => return,
        };
        let d = Diagnostic::new(Code::ModelBudget, self.file, span, message)
            .label(label)
            .with_label(self.file, name.span, "each execution asks a model")
            .help(format!(
                "add a throttle such as `throttle 4 per 1h` (the estimate assumes one-minute bars through the session; {CALLS_PER_DAY} calls a day is where this warns)"
            ));
        self.push(d);
    }
}

/// `12345` as `12,345`.
fn group(x: f64) -> String {
    let s = format!("{:.0}", x.min(1e15));
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// Calls `f` on `e` and every expression inside it.
fn walk<'e>(e: &'e Expr, f: &mut impl FnMut(&'e Expr)) {
    f(e);
    match e {
        Expr::Call { args, .. } => args.iter().for_each(|a| walk(&a.value, f)),
        Expr::List(items, _) => items.iter().for_each(|i| walk(i, f)),
        Expr::Field { base, .. } => walk(base, f),
        Expr::Unary { operand, .. } => walk(operand, f),
        Expr::Binary { lhs, rhs, .. } => {
            walk(lhs, f);
            walk(rhs, f);
        }
        Expr::Paren(inner, _) => walk(inner, f),
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cron_schedule_counts_its_busiest_day() {
        assert_eq!(cron_per_day("0 16 * * 1-5"), Some(1.0));
        assert_eq!(cron_per_day("*/5 9-15 * * 1-5"), Some(84.0));
        assert_eq!(cron_per_day("* * * * *"), Some(1440.0));
        assert_eq!(group(1_234_567.0), "1,234,567");
    }
}
