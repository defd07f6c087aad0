//! The answer's JSON Schema (from `decode::schema`) in the subset each provider's structured
//! output accepts. Decoding still checks everything the schema sent leaves out.
//!
//! - Anthropic (`output_config.format`): numeric and length constraints (`minimum`,
//!   `maximum`, `multipleOf`, `minLength`, …) are rejected by the API with a 400, so they are
//!   removed; `pattern`, `enum`, `required` and `additionalProperties: false` stay.
//! - OpenAI strict mode (`response_format.json_schema.strict`): every property must be in
//!   `required`, so a property that may be left out becomes required and nullable
//!   (`"type": ["integer", "null"]`, and `null` joins an `enum`); decoding treats `null` like
//!   an absent optional field.
//! - Both want an object at the root: a root that is not an object (an enum, a list) is sent
//!   as `{"answer": …}` and the reply is unwrapped again ([`unwrap_answer`]).

use serde_json::{Map, Value as J, json};

/// Keywords Anthropic's structured output does not accept.
const ANTHROPIC_UNSUPPORTED: &[&str] =
    &["minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum", "multipleOf", "minLength", "maxLength", "maxItems"];

/// The field a non-object answer is wrapped in.
pub const WRAPPER: &str = "answer";

/// Whether `schema` needs wrapping to have an object at its root.
pub fn needs_wrapper(schema: &J) -> bool {
    !schema.is_null() && schema["type"] != "object"
}

fn wrap(schema: J) -> J {
    json!({"type": "object", "properties": {WRAPPER: schema}, "required": [WRAPPER], "additionalProperties": false})
}

/// The schema for Anthropic.
pub fn anthropic(schema: &J) -> J {
    fn strip(v: &J) -> J {
        match v {
            J::Object(m) => J::Object(
                m.iter()
                    .filter(|(k, _)| !ANTHROPIC_UNSUPPORTED.contains(&k.as_str()))
                    .map(|(k, v)| (k.clone(), if k == "enum" || k == "required" { v.clone() } else { strip(v) }))
                    .collect(),
            ),
            J::Array(a) => J::Array(a.iter().map(strip).collect()),
            other => other.clone(),
        }
    }
    let s = strip(schema);
    if needs_wrapper(&s) { wrap(s) } else { s }
}

/// The schema for OpenAI's strict mode.
pub fn openai_strict(schema: &J) -> J {
    fn nullable(v: J) -> J {
        let J::Object(mut m) = v else { return v };
        match m.get("type").cloned() {
            Some(J::String(t)) if t != "null" => {
                m.insert("type".into(), json!([t, "null"]));
            }
            Some(J::Array(mut ts)) if !ts.iter().any(|t| t == "null") => {
                ts.push(J::from("null"));
                m.insert("type".into(), J::Array(ts));
            }
            _ => {}
        }
        if let Some(J::Array(e)) = m.get_mut("enum")
            && !e.contains(&J::Null)
        {
            e.push(J::Null);
        }
        J::Object(m)
    }
    fn strict(v: &J) -> J {
        let J::Object(m) = v else { return v.clone() };
        let mut out: Map<String, J> = Map::new();
        for (k, x) in m {
            let x = match k.as_str() {
                "items" => strict(x),
                "anyOf" | "oneOf" | "allOf" => {
                    J::Array(x.as_array().map(|a| a.iter().map(strict).collect()).unwrap_or_default())
                }
                _ => x.clone(),
            };
            out.insert(k.clone(), x);
        }
        if let Some(J::Object(props)) = m.get("properties") {
            let required: Vec<&str> = m
                .get("required")
                .and_then(J::as_array)
                .map(|r| r.iter().filter_map(J::as_str).collect())
                .unwrap_or_default();
            let props: Map<String, J> = props
                .iter()
                .map(|(name, p)| {
                    let p = strict(p);
                    (name.clone(), if required.contains(&name.as_str()) { p } else { nullable(p) })
                })
                .collect();
            out.insert("required".into(), J::Array(props.keys().cloned().map(J::from).collect()));
            out.insert("properties".into(), J::Object(props));
            out.insert("additionalProperties".into(), J::Bool(false));
        }
        J::Object(out)
    }
    let s = if needs_wrapper(schema) { wrap(schema.clone()) } else { schema.clone() };
    strict(&s)
}

/// The reply to a wrapped schema, unwrapped: `{"answer": X}` becomes `X`. Anything else is
/// left as it is, for decoding to judge.
pub fn unwrap_answer(text: String) -> String {
    match serde_json::from_str::<J>(text.trim()) {
        Ok(J::Object(m)) if m.len() == 1 => match m.get(WRAPPER) {
            Some(inner) => inner.to_string(),
            None => text,
        },
        _ => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use strat_engine::decode::{decode, schema};
    use strat_lang::ir::Type;

    fn decision() -> Type {
        let e = |v: &[&str]| Type::Enum { variants: v.iter().map(|s| s.to_string()).collect() };
        Type::Record {
            name: Some("decision".into()),
            fields: vec![
                ("decision".into(), e(&["buy", "sell", "hold"])),
                ("symbol".into(), Type::Symbol),
                ("quantity".into(), Type::Quantity),
                ("order_type".into(), e(&["market", "limit"])),
                ("reasoning".into(), Type::Text),
            ],
        }
    }

    #[test]
    fn anthropic_loses_the_numeric_constraints_only() {
        let s = anthropic(&schema(&decision()));
        assert_eq!(s["properties"]["quantity"], json!({"type": "integer"}));
        assert_eq!(s["properties"]["symbol"]["pattern"], "^[A-Z][A-Z0-9.]{0,9}$");
        assert_eq!(s["required"], json!(["decision"]));
        assert_eq!(s["additionalProperties"], false);
        assert!(!s.to_string().contains("minimum"));
    }

    #[test]
    fn strict_mode_requires_everything_and_decoding_accepts_the_nulls() {
        let s = openai_strict(&schema(&decision()));
        let mut required: Vec<&str> = s["required"].as_array().expect("list").iter().filter_map(J::as_str).collect();
        required.sort_unstable();
        assert_eq!(required, ["decision", "order_type", "quantity", "reasoning", "symbol"]);
        assert_eq!(s["properties"]["decision"]["type"], "string", "a required field stays non-null");
        assert_eq!(s["properties"]["quantity"]["type"], json!(["integer", "null"]));
        assert_eq!(s["properties"]["order_type"]["enum"], json!(["market", "limit", null]));
        // What a strict model sends for a hold decodes.
        let reply = r#"{"decision":"hold","symbol":null,"quantity":null,"order_type":null,"reasoning":"calm"}"#;
        let v = decode(reply, &decision(), Some("stop")).expect("decodes");
        assert_eq!(v.field("quantity"), None);
    }

    #[test]
    fn a_root_that_is_not_an_object_is_wrapped_and_unwrapped() {
        let e = Type::Enum { variants: vec!["up".into(), "down".into()] };
        let s = openai_strict(&schema(&e));
        assert_eq!(s["required"], json!(["answer"]));
        assert_eq!(s["properties"]["answer"]["enum"], json!(["up", "down"]));
        assert_eq!(anthropic(&schema(&e))["properties"]["answer"]["type"], "string");
        assert_eq!(unwrap_answer(r#"{"answer": "down"}"#.into()), r#""down""#);
        assert_eq!(unwrap_answer("not json".into()), "not json");
        assert_eq!(
            decode(&unwrap_answer(r#"{"answer":"down"}"#.into()), &e, None),
            Ok(strat_engine::value::Value::Text("down".into()))
        );
        let list = Type::List { item: Box::new(Type::Number) };
        assert_eq!(unwrap_answer(r#"{"answer":[1,2]}"#.into()), "[1,2]");
        assert!(needs_wrapper(&schema(&list)));
    }
}
