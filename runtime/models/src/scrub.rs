//! Removing a provider's key from what comes back from it, before anything else sees it.
//!
//! A key can come back as it is (an error body that echoes the request) or hidden in a JSON
//! string of the model's answer, written with escapes (`\u0073\u006b-…`) that decoding the
//! answer would turn back into the key. So the text is scrubbed twice: the key as written, then
//! every JSON value in it whose strings hold the key once decoded is written again with the key
//! replaced. What the engine decodes afterwards cannot hold the key.

use crate::config::Secret;
use strat_engine::decode::first_json;

/// What stands in for the key.
const HIDDEN: &str = "***";

/// `text` without the key, neither as written nor inside a JSON string once decoded.
pub fn scrub_text(key: &Secret, text: &str) -> String {
    let plain = key.scrub(text);
    let secret = key.expose();
    if secret.len() < 4 || !plain.contains('\\') {
        return plain;
    }
    let mut out = String::with_capacity(plain.len());
    let mut at = 0;
    while let Some((start, end, mut value)) = first_json(&plain, at) {
        out.push_str(&plain[at..start]);
        if holds(&value, secret) {
            hide(&mut value, secret);
            out.push_str(&value.to_string());
        } else {
            out.push_str(&plain[start..end]);
        }
        at = end;
    }
    out.push_str(&plain[at..]);
    out
}

/// Whether a string of `v` (a value or an object's key) holds `secret`.
fn holds(v: &serde_json::Value, secret: &str) -> bool {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::String(s) if s.contains(secret) => return true,
            serde_json::Value::Array(items) => stack.extend(items),
            serde_json::Value::Object(map) => {
                if map.keys().any(|k| k.contains(secret)) {
                    return true;
                }
                stack.extend(map.values());
            }
            _ => {}
        }
    }
    false
}

/// Replaces `secret` in every string of `v`, keys included.
fn hide(v: &mut serde_json::Value, secret: &str) {
    let mut stack = vec![v];
    while let Some(v) = stack.pop() {
        match v {
            serde_json::Value::String(s) => *s = s.replace(secret, HIDDEN),
            serde_json::Value::Array(items) => stack.extend(items.iter_mut()),
            serde_json::Value::Object(map) => {
                let old = std::mem::take(map);
                for (k, val) in old {
                    map.insert(k.replace(secret, HIDDEN), val);
                }
                stack.extend(map.values_mut());
            }
            _ => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "sk-ant-very-secret";

    /// `s` written with a JSON escape for every character.
    fn escaped(s: &str) -> String {
        s.chars().map(|c| format!("\\u{:04x}", c as u32)).collect()
    }

    #[test]
    fn a_key_written_with_escapes_inside_the_answer_is_hidden() {
        let k = Secret::new(KEY);
        let text = format!(r#"Here: {{"decision": "hold", "reasoning": "my key is {}"}} thanks"#, escaped(KEY));
        let out = scrub_text(&k, &text);
        let v: serde_json::Value =
            serde_json::from_str(&out["Here: ".len()..out.len() - " thanks".len()]).expect("json");
        assert_eq!(v["reasoning"], "my key is ***");
        assert_eq!(v["decision"], "hold");
        assert!(out.starts_with("Here: ") && out.ends_with(" thanks"), "{out}");
    }

    #[test]
    fn a_key_in_a_field_name_or_a_nested_list_is_hidden_and_other_text_is_kept() {
        let k = Secret::new(KEY);
        let text = format!(r#"[{{"{}": ["a", "x{}y"]}}] and {{"n": "\u00e9"}}"#, escaped(KEY), escaped(KEY));
        let out = scrub_text(&k, &text);
        assert!(!out.contains("\\u0073\\u006b"), "{out}");
        let decoded: serde_json::Value =
            serde_json::from_str(out.split(" and ").next().unwrap_or_default()).expect("json");
        assert_eq!(decoded, serde_json::json!([{"***": ["a", "x***y"]}]));
        // A value without the key is left exactly as written.
        assert!(out.ends_with(r#"{"n": "\u00e9"}"#), "{out}");
        assert_eq!(scrub_text(&k, &format!("plain {KEY} text")), "plain *** text");
    }
}
