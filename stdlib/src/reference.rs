//! The standard library rendered as markdown (`strat doc`, docs/stdlib.md, hover text).

use crate::types::{Category, Function, Warmup};
use crate::{CONTEXT_SOURCES, FUNCTIONS, GLOBALS, LIMIT_FIELDS, PROVIDERS, RECORDS, UNITS, signature};
use std::fmt::Write;

/// One function's entry.
pub fn function_markdown(f: &Function) -> String {
    let mut s = format!("### `{}`\n\n```\n{}\n```\n\n{}\n\n", f.name, signature(f), f.doc);
    for p in f.params {
        let _ = writeln!(s, "- `{}`: {}", p.name, p.doc);
    }
    if !f.params.is_empty() {
        s.push('\n');
    }
    let _ = writeln!(s, "Example: `{}`", f.example);
    match &f.warmup {
        Warmup::None => {}
        Warmup::Param(p) => {
            let _ = writeln!(s, "\nWarm-up: undefined until `{p}` bars have closed.");
        }
        Warmup::Text(t) => {
            let _ = writeln!(s, "\nWarm-up: undefined for the first {t}.");
        }
    }
    s.push('\n');
    s
}

/// The entry for any name: a function, record, limit, provider or the limits table.
pub fn describe(name: &str) -> Option<String> {
    if let Some(f) = crate::function(name) {
        return Some(function_markdown(f));
    }
    if name == "limits" {
        return Some(limits_markdown());
    }
    if let Some(r) = crate::record(name) {
        let mut s = format!("### record `{}`\n\n{}\n\n", r.name, r.doc);
        for f in r.fields {
            let _ = writeln!(s, "- `{}`: {} — {}", f.name, f.ty.display(), f.doc);
        }
        return Some(s);
    }
    if let Some(l) = crate::limit_field(name) {
        return Some(format!("### limit `{}`: {}\n\n{}\n", l.name, l.ty.display(), l.doc));
    }
    if let Some(p) = crate::provider(name) {
        return Some(format!("### provider `{}`\n\n{}\n\nModels: {}\n", p.name, p.doc, p.models.join(", ")));
    }
    None
}

fn limits_markdown() -> String {
    let mut s = String::from("## Limits\n\n| setting | type | range | meaning |\n| --- | --- | --- | --- |\n");
    for l in LIMIT_FIELDS {
        let range = match (l.min, l.max) {
            (Some(a), Some(b)) => format!("{a} to {b}"),
            (Some(a), None) => format!("at least {a}"),
            (None, Some(b)) => format!("at most {b}"),
            (None, None) => String::new(),
        };
        let _ = writeln!(s, "| `{}` | {} | {range} | {} |", l.name, l.ty.display(), l.doc);
    }
    s
}

pub fn reference_markdown() -> String {
    let mut s = String::from(
        "# The strat standard library\n\nGenerated from the table the checker, the language server and the REPL read (`strat doc`).\n\n## Functions\n\n",
    );
    for cat in [
        Category::Price,
        Category::Volume,
        Category::Indicator,
        Category::Portfolio,
        Category::News,
        Category::Market,
        Category::Math,
        Category::Time,
    ] {
        let _ = writeln!(s, "### {}\n", cat.title());
        for f in FUNCTIONS.iter().filter(|f| f.category == cat) {
            s.push_str(&function_markdown(f).replacen("### ", "#### ", 1));
        }
    }
    s.push_str("## Records\n\n");
    for r in RECORDS {
        let _ = writeln!(s, "### `{}`\n\n{}\n", r.name, r.doc);
        for f in r.fields {
            let _ = writeln!(s, "- `{}`: {} — {}", f.name, f.ty.display(), f.doc);
        }
        s.push('\n');
    }
    s.push_str("## Built-in values\n\n");
    for g in GLOBALS {
        let _ = writeln!(s, "- `{}`: {} — {}", g.name, g.ty.display(), g.doc);
    }
    s.push('\n');
    s.push_str(&limits_markdown());
    s.push_str("\n## Model providers\n\n");
    for p in PROVIDERS {
        let _ = writeln!(s, "- `{}` — {} Models: {}.", p.name, p.doc, p.models.join(", "));
    }
    s.push_str("\nSettings: `temperature` (0 to 2, default 0), `max_tokens` (default 1024), `timeout` (default 30s), `cache` (default true: the part of the prompt that is the same on every call is marked for the provider's prompt cache).\n\n## Units\n\n");
    for u in UNITS {
        let _ = writeln!(s, "- `{}` — {}", u.suffix, u.doc);
    }
    s.push_str("\n## Context sources\n\n");
    for c in CONTEXT_SOURCES {
        let form = match (c.takes_symbols, c.takes_window) {
            (true, true) => format!("{}(symbols, window)", c.name),
            (true, false) => format!("{}(symbols)", c.name),
            _ => c.name.to_string(),
        };
        let _ = writeln!(s, "- `{form}` — {}", c.doc);
    }
    s
}
