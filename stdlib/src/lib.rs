//! The strat standard library: builtin signatures and their documentation, records, built-in
//! values, limit settings, model providers, units and context sources.
//!
//! This crate is pure data with lookups; it depends on no other crate and does no I/O. The
//! checker, the language server and the REPL all read these tables.

mod functions;
pub mod indicators;
mod limits;
mod providers;
mod records;
mod reference;
mod suggest;
mod types;

pub use functions::{FUNCTIONS, function, signature};
pub use limits::{LIMIT_FIELDS, limit_field};
pub use providers::{ACCOUNT_PROMPT, DEFAULT_SYSTEM_PROMPT, PROVIDERS, UNITS, provider};
pub use records::{
    CONTEXT_SOURCES, DECISION, GLOBALS, ORDER_TYPE, RECORDS, RISK_LEVEL, SENTIMENT, context_source, global, record,
};
pub use reference::{describe, function_markdown, reference_markdown};
pub use suggest::{distance, suggest};
pub use types::{
    Builtin, Category, ContextSource, Field, Function, Global, LimitField, Param, Provider, Record, Ty, Unit, Warmup,
};

#[cfg(test)]
mod tests {
    use super::*;

    fn all_types() -> Vec<Ty> {
        let mut v: Vec<Ty> = FUNCTIONS.iter().flat_map(|f| f.params.iter().map(|p| p.ty).chain([f.ret])).collect();
        v.extend(RECORDS.iter().flat_map(|r| r.fields.iter().map(|f| f.ty)));
        v.extend(GLOBALS.iter().map(|g| g.ty));
        v.extend(CONTEXT_SOURCES.iter().map(|c| c.ty));
        v
    }

    #[test]
    fn names_are_unique_and_lowercase() {
        let mut seen = std::collections::BTreeSet::new();
        for f in FUNCTIONS {
            assert!(seen.insert(f.name), "duplicate {}", f.name);
            assert_eq!(f.name, f.name.to_lowercase());
        }
    }

    #[test]
    fn each_builtin_names_exactly_one_function() {
        let mut seen = std::collections::BTreeMap::new();
        for f in FUNCTIONS {
            if let Some(other) = seen.insert(f.id, f.name) {
                panic!("`{}` and `{other}` share the id {:?}", f.name, f.id);
            }
        }
        assert_eq!(seen.len(), FUNCTIONS.len());
    }

    #[test]
    fn every_record_reference_resolves() {
        fn check(t: &Ty) {
            match t {
                Ty::Record(n) => assert!(record(n).is_some(), "record {n} missing"),
                Ty::List(inner) => check(inner),
                _ => {}
            }
        }
        all_types().iter().for_each(check);
    }

    #[test]
    fn defaults_follow_required_params() {
        for f in FUNCTIONS {
            let first_default = f.params.iter().position(|p| p.default.is_some()).unwrap_or(f.params.len());
            assert!(f.params[first_default..].iter().all(|p| p.default.is_some()), "{}", f.name);
        }
    }

    #[test]
    fn limits_record_matches_limit_fields() {
        let r = record("limits").map(|r| r.fields.iter().map(|f| (f.name, f.ty)).collect::<Vec<_>>());
        let l: Vec<_> = LIMIT_FIELDS.iter().map(|f| (f.name, f.ty)).collect();
        assert_eq!(r, Some(l));
        for f in LIMIT_FIELDS {
            if let (Some(a), Some(b)) = (f.min, f.max) {
                assert!(a <= b, "{}", f.name);
            }
        }
    }

    #[test]
    fn suggestions() {
        let names = FUNCTIONS.iter().map(|f| f.name);
        assert_eq!(suggest("rsii", names.clone()), Some("rsi"));
        assert_eq!(suggest("bolinger", names.clone()), Some("bollinger"));
        assert_eq!(suggest("zzzz", names), None);
        assert_eq!(distance("ab", "ba"), 1);
    }

    #[test]
    fn signature_and_reference() {
        assert_eq!(
            function("rsi").map(signature).as_deref(),
            Some("rsi(symbol: symbol, period: number = 14) -> number")
        );
        let md = reference_markdown();
        for f in FUNCTIONS {
            assert!(md.contains(&format!("`{}`", f.name)), "{}", f.name);
        }
        assert!(describe("macd").is_some_and(|d| d.contains("histogram")));
        assert!(describe("max_position").is_some());
        assert_eq!(describe("nothing"), None);
    }
}
