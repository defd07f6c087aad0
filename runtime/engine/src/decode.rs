//! A model's reply decoded into the answer's declared type, or rejected with the reason.
//!
//! The reply is untrusted text. The JSON may come bare, inside a code fence or after prose, but
//! it must be one JSON value of the answer's shape: a second value, or a list where one object
//! is asked for, is an error, never "the first one". Every field is then checked against the
//! declared type, exactly as written: a missing or undeclared field, a wrong type, a number that
//! is not finite, an enum value that is not one of the variants letter for letter, or a symbol
//! that is not a ticker as it stands is an error, never a default or a guess. A reply cut off at
//! the token limit is rejected whatever it holds.

use crate::value::Value;
use std::collections::BTreeMap;
use strat_lang::ir::Type;

/// The longest excerpt of a reply quoted in an error.
const EXCERPT: usize = 160;

/// The first [`EXCERPT`] characters of `s`, and whether that is all of it.
fn cut(s: &str) -> (&str, bool) {
    match s.char_indices().nth(EXCERPT) {
        Some((at, _)) => (&s[..at], false),
        None => (s, true),
    }
}

/// A string of the reply as JSON writes it (quotes, escapes, spaces kept), cut to the excerpt's
/// length: what it says is shown exactly.
fn quoted(s: &str) -> String {
    serde_json::Value::String(cut(s).0.to_string()).to_string()
}

fn excerpt(text: &str) -> String {
    match cut(text.trim()) {
        (all, true) => all.to_string(),
        (start, false) => format!("{start}…"),
    }
}

/// The one JSON value in `text` (bare, fenced or after prose): the first `{` or `[` at which a
/// JSON value parses. `None` when there is none; an error when it does not open with `open`
/// (`{` or `[`), or when another JSON value follows it.
fn find_json(text: &str, open: char) -> Result<Option<serde_json::Value>, String> {
    let Some((start, end, value)) = first_json(text, 0) else { return Ok(None) };
    if !text[start..].starts_with(open) {
        let want = if open == '{' { "an object" } else { "a list" };
        return Err(format!("the reply's JSON is {}, not {want}: \"{}\"", kind(&value), excerpt(&text[start..])));
    }
    if let Some((other, _, _)) = first_json(text, end) {
        return Err(format!("the reply holds more than one JSON value: \"{}\"", excerpt(&text[other..])));
    }
    Ok(Some(value))
}

/// The first JSON object or list in `text` at or after `from`: where it starts and ends, and
/// the value. (The models crate scrubs keys out of the same values.)
pub fn first_json(text: &str, from: usize) -> Option<(usize, usize, serde_json::Value)> {
    let rest = text.get(from..)?;
    for (i, _) in rest.match_indices(['{', '[']) {
        let mut values = serde_json::Deserializer::from_str(&rest[i..]).into_iter::<serde_json::Value>();
        if let Some(Ok(v)) = values.next() {
            return Some((from + i, from + i + values.byte_offset(), v));
        }
    }
    None
}

/// Decodes a reply. `stop_reason` is the provider's (`max_tokens` and `refusal` explain why a
/// reply does not decode).
pub fn decode(text: &str, ty: &Type, stop_reason: Option<&str>) -> Result<Value, String> {
    if stop_reason == Some("refusal") {
        return Err(format!("the model refused to answer: \"{}\"", excerpt(text)));
    }
    // A reply cut off at the token limit is not the answer the model meant, however it parses.
    if matches!(stop_reason, Some("max_tokens" | "length")) {
        return Err(format!("the reply was cut off at the token limit: \"{}\"", excerpt(text)));
    }
    let open = match unwrap_optional(ty) {
        Type::List { .. } | Type::SymbolSet => '[',
        Type::Record { .. } => '{',
        // A bare enum may come as a JSON string or as the word itself.
        Type::Enum { variants } => {
            let t = text.trim();
            let word = t.strip_prefix('"').and_then(|w| w.strip_suffix('"')).unwrap_or(t);
            if let Some(v) = variants.iter().find(|v| *v == word) {
                return Ok(Value::Text(v.clone()));
            }
            '{'
        }
        _ => '{',
    };
    let Some(json) = find_json(text, open)? else {
        return Err(format!("no JSON in the reply: \"{}\"", excerpt(text)));
    };
    // An enum answer may be wrapped in an object with one field.
    if let (Type::Enum { .. }, serde_json::Value::Object(m)) = (unwrap_optional(ty), &json)
        && m.len() == 1
        && let Some(inner) = m.values().next()
    {
        return convert(inner, ty, "answer");
    }
    convert(&json, ty, "answer")
}

fn unwrap_optional(ty: &Type) -> &Type {
    match ty {
        Type::Optional { item } => unwrap_optional(item),
        other => other,
    }
}

/// Fields of the default `decision` record a reply may leave out (a `hold` needs no symbol).
fn optional_in_decision(field: &str) -> bool {
    !matches!(field, "decision")
}

fn is_hold(decision: &serde_json::Map<String, serde_json::Value>) -> bool {
    decision.get("decision").and_then(|d| d.as_str()) == Some("hold")
}

fn kind(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "a boolean",
        serde_json::Value::Number(_) => "a number",
        serde_json::Value::String(_) => "a string",
        serde_json::Value::Array(_) => "a list",
        serde_json::Value::Object(_) => "an object",
    }
}

/// A ticker: an upper-case letter, then up to 9 letters, digits or dots (`BRK.B`).
pub fn is_ticker(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_uppercase())
        && s.len() <= 10
        && chars.all(|c| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '.')
}

fn convert(v: &serde_json::Value, ty: &Type, path: &str) -> Result<Value, String> {
    convert_in(v, ty, path, "the reply")
}

/// A webhook's body (JSON) as a value of its declared payload type, or what is wrong with it.
pub fn payload(v: &serde_json::Value, ty: &Type) -> Result<Value, String> {
    convert_in(v, ty, "payload", "the payload")
}

/// [`convert`], the errors saying `whose` (`the reply`, `the payload`) value is wrong.
fn convert_in(v: &serde_json::Value, ty: &Type, path: &str, whose: &str) -> Result<Value, String> {
    use serde_json::Value as J;
    let wrong = |want: &str| format!("`{path}` should be {want}, but {whose} has {}", kind(v));
    match ty {
        Type::Optional { item } => convert_in(v, item, path, whose),
        Type::Number | Type::Percent | Type::Money | Type::Price | Type::Quantity | Type::Duration => match v {
            J::Number(n) => match n.as_f64().filter(|x| x.is_finite()) {
                Some(x) => Ok(Value::Num(x)),
                None => Err(format!("`{path}` is not a finite number")),
            },
            _ => Err(wrong("a number")),
        },
        Type::Bool => match v {
            J::Bool(b) => Ok(Value::Bool(*b)),
            _ => Err(wrong("true or false")),
        },
        Type::Text | Type::TimeOfDay | Type::Date | Type::Timestamp => match v {
            J::String(s) => Ok(Value::Text(s.clone())),
            _ => Err(wrong("text")),
        },
        Type::Symbol => match v {
            J::String(s) if is_ticker(s) => Ok(Value::Symbol(s.clone())),
            J::String(s) => Err(format!("`{path}` is not a ticker: \"{}\"", excerpt(s))),
            _ => Err(wrong("a ticker")),
        },
        Type::SymbolSet => match v {
            J::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, x)| convert_in(x, &Type::Symbol, &format!("{path}[{i}]"), whose))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::List),
            _ => Err(wrong("a list of tickers")),
        },
        Type::Enum { variants } => match v {
            J::String(s) => variants
                .iter()
                .find(|x| *x == s)
                .map(|x| Value::Text(x.clone()))
                .ok_or_else(|| format!("`{path}` is {}, not one of {}", quoted(s), variants.join(", "))),
            _ => Err(wrong(&format!("one of {}", variants.join(", ")))),
        },
        Type::List { item } => match v {
            J::Array(items) => items
                .iter()
                .enumerate()
                .map(|(i, x)| convert_in(x, item, &format!("{path}[{i}]"), whose))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::List),
            _ => Err(wrong("a list")),
        },
        Type::Record { name, fields } => {
            let J::Object(map) = v else { return Err(wrong("an object")) };
            let is_decision = name.as_deref() == Some("decision");
            if let Some(extra) = map.keys().find(|k| !fields.iter().any(|(f, _)| f == *k)) {
                let at = if path == "answer" { extra.clone() } else { format!("{path}.{extra}") };
                let declarer = if whose == "the reply" { "the answer" } else { "its type" };
                return Err(format!("{whose} has a field `{at}` that {declarer} does not declare"));
            }
            let mut out = BTreeMap::new();
            for (field, fty) in fields {
                let at = if path == "answer" { field.clone() } else { format!("{path}.{field}") };
                match map.get(field) {
                    None | Some(J::Null)
                        if matches!(fty, Type::Optional { .. }) || (is_decision && optional_in_decision(field)) => {}
                    // A hold is about no symbol: an empty one says so.
                    Some(J::String(s)) if is_decision && field == "symbol" && s.is_empty() && is_hold(map) => {}
                    None => return Err(format!("{whose} has no `{at}`")),
                    Some(x) => {
                        out.insert(field.clone(), convert_in(x, fty, &at, whose)?);
                    }
                }
            }
            Ok(Value::Record(out))
        }
    }
}

/// The JSON Schema of a type, for providers' structured output.
pub fn schema(ty: &Type) -> serde_json::Value {
    use serde_json::json;
    match ty {
        Type::Number | Type::Percent | Type::Money | Type::Price | Type::Duration => json!({"type": "number"}),
        Type::Quantity => json!({"type": "integer", "minimum": 0}),
        Type::Bool => json!({"type": "boolean"}),
        Type::Text | Type::TimeOfDay | Type::Date | Type::Timestamp => json!({"type": "string"}),
        Type::Symbol => json!({"type": "string", "pattern": "^[A-Z][A-Z0-9.]{0,9}$"}),
        Type::SymbolSet => json!({"type": "array", "items": {"type": "string"}}),
        Type::Enum { variants } => json!({"type": "string", "enum": variants}),
        Type::List { item } => json!({"type": "array", "items": schema(item)}),
        Type::Optional { item } => schema(item),
        Type::Record { name, fields } => {
            let is_decision = name.as_deref() == Some("decision");
            let properties: serde_json::Map<String, serde_json::Value> =
                fields.iter().map(|(f, t)| (f.clone(), schema(t))).collect();
            let required: Vec<&String> = fields
                .iter()
                .filter(|(f, t)| !(matches!(t, Type::Optional { .. }) || is_decision && optional_in_decision(f)))
                .map(|(f, _)| f)
                .collect();
            json!({"type": "object", "properties": properties, "required": required, "additionalProperties": false})
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decision() -> Type {
        Type::Record {
            name: Some("decision".into()),
            fields: vec![
                ("decision".into(), Type::Enum { variants: vec!["buy".into(), "sell".into(), "hold".into()] }),
                ("symbol".into(), Type::Symbol),
                ("quantity".into(), Type::Quantity),
                ("reasoning".into(), Type::Text),
            ],
        }
    }

    #[test]
    fn json_is_found_in_fences_and_prose() {
        let want = Value::record([
            ("decision", Value::Text("buy".into())),
            ("symbol", Value::Symbol("AAPL".into())),
            ("quantity", Value::Num(10.0)),
        ]);
        for text in [
            r#"{"decision": "buy", "symbol": "AAPL", "quantity": 10}"#,
            "```json\n{\"decision\": \"buy\", \"symbol\": \"AAPL\", \"quantity\": 10}\n```",
            "Sure. Here is my answer: {\"decision\": \"buy\", \"symbol\": \"AAPL\", \"quantity\": 10} Good luck!",
            "I think {braces} are fun. {\"decision\": \"buy\", \"symbol\": \"AAPL\", \"quantity\": 10}",
        ] {
            assert_eq!(decode(text, &decision(), Some("end_turn")), Ok(want.clone()), "{text}");
        }
    }

    #[test]
    fn bad_replies_are_errors_with_reasons() {
        let d = decision();
        let cases = [
            ("no json here", None, "no JSON in the reply: \"no json here\""),
            ("{\"decision\": \"buy\", \"quantity\": 1", Some("max_tokens"), "the reply was cut off at the token limit"),
            ("I can't help with that.", Some("refusal"), "the model refused to answer"),
            (r#"{"symbol": "AAPL"}"#, None, "the reply has no `decision`"),
            (r#"{"decision": "short"}"#, None, "`decision` is \"short\", not one of buy, sell, hold"),
            (
                r#"{"decision": "buy", "quantity": "10"}"#,
                None,
                "`quantity` should be a number, but the reply has a string",
            ),
            (r#"{"decision": "buy", "symbol": "not a ticker"}"#, None, "`symbol` is not a ticker"),
            (r#"{"decision": "buy", "symbol": ""}"#, None, "`symbol` is not a ticker"),
        ];
        for (text, stop, want) in cases {
            let err = decode(text, &d, stop).expect_err(text);
            assert!(err.starts_with(want), "{text}: {err}");
        }
    }

    #[test]
    fn decoding_is_exact_and_refuses_what_it_would_have_to_guess() {
        let d = decision();
        let e = Type::Enum { variants: vec!["up".into(), "down".into()] };
        let cases: [(&str, &Type, Option<&str>, &str); 9] = [
            // Enum values letter for letter: no case folding, no trimming.
            (r#"{"decision": "BUY"}"#, &d, None, "`decision` is \"BUY\", not one of buy, sell, hold"),
            (r#"{"decision": " buy"}"#, &d, None, "`decision` is \" buy\", not one of buy, sell, hold"),
            ("Down.", &e, None, "no JSON in the reply"),
            // Tickers as they stand.
            (r#"{"decision": "buy", "symbol": " AAPL"}"#, &d, None, "`symbol` is not a ticker"),
            // No field the answer does not declare.
            (
                r#"{"decision": "hold", "leverage": 10}"#,
                &d,
                None,
                "the reply has a field `leverage` that the answer does not declare",
            ),
            // One JSON value: not the first of two, not the first object of a list.
            (
                r#"{"decision": "hold"} {"decision": "buy", "symbol": "AAPL", "quantity": 9}"#,
                &d,
                None,
                "the reply holds more than one JSON value",
            ),
            (r#"[{"decision": "hold"}, {"decision": "buy"}]"#, &d, None, "the reply's JSON is a list, not an object"),
            // Cut off at the token limit: rejected even when what came parses.
            (r#"{"decision": "hold"}"#, &d, Some("max_tokens"), "the reply was cut off at the token limit"),
            (r#"{"decision": "hold"}"#, &d, Some("length"), "the reply was cut off at the token limit"),
        ];
        for (text, ty, stop, want) in cases {
            let err = decode(text, ty, stop).expect_err(text);
            assert!(err.starts_with(want), "{text}: {err}");
        }
    }

    #[test]
    fn a_hold_may_leave_out_the_order_fields_but_other_records_may_not() {
        let v = decode(r#"{"decision": "hold", "reasoning": "calm"}"#, &decision(), None).expect("decodes");
        assert_eq!(v.field("decision"), Some(&Value::Text("hold".into())));
        let v = decode(r#"{"decision": "hold", "symbol": ""}"#, &decision(), None).expect("a hold about no symbol");
        assert_eq!(v.field("symbol"), None);
        let custom = Type::Record { name: None, fields: vec![("score".into(), Type::Number)] };
        assert_eq!(decode("{}", &custom, None), Err("the reply has no `score`".to_string()));
        let e = Type::Enum { variants: vec!["up".into(), "down".into()] };
        assert_eq!(decode(" down ", &e, None), Ok(Value::Text("down".into())));
        assert_eq!(decode("\"up\"", &e, None), Ok(Value::Text("up".into())));
    }

    #[test]
    fn schemas_require_what_decoding_requires() {
        let s = schema(&decision());
        assert_eq!(s["required"], serde_json::json!(["decision"]));
        assert_eq!(s["properties"]["quantity"]["type"], "integer");
        assert_eq!(s["additionalProperties"], false);
    }
}
