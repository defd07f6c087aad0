//! Values at run time: what an expression evaluates to, what a model's answer decodes into, and
//! what a template renders.

use std::collections::BTreeMap;

/// A value at one instant.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Num(f64),
    Bool(bool),
    Text(String),
    Symbol(String),
    List(Vec<Value>),
    /// A record by field name: `trigger`, a model's decision, `macd(…)` as a whole.
    Record(BTreeMap<String, Value>),
}

impl Default for Value {
    /// An empty record.
    fn default() -> Value {
        Value::Record(BTreeMap::new())
    }
}

impl Value {
    pub fn record<const N: usize>(fields: [(&str, Value); N]) -> Value {
        Value::Record(fields.into_iter().map(|(k, v)| (k.to_string(), v)).collect())
    }

    pub fn num(&self) -> Option<f64> {
        match self {
            Value::Num(v) => Some(*v),
            _ => None,
        }
    }

    /// The text of a `Text` or the name of a `Symbol`.
    pub fn text(&self) -> Option<&str> {
        match self {
            Value::Text(t) | Value::Symbol(t) => Some(t),
            _ => None,
        }
    }

    pub fn field(&self, name: &str) -> Option<&Value> {
        match self {
            Value::Record(f) => f.get(name),
            _ => None,
        }
    }

    /// As JSON, for contexts sent to models, execution records and reports. Numbers that are
    /// not finite become `null` (JSON has no NaN).
    pub fn to_json(&self) -> serde_json::Value {
        match self {
            Value::Num(v) => {
                serde_json::Number::from_f64(*v).map_or(serde_json::Value::Null, serde_json::Value::Number)
            }
            Value::Bool(b) => serde_json::Value::Bool(*b),
            Value::Text(t) | Value::Symbol(t) => serde_json::Value::String(t.clone()),
            Value::List(items) => serde_json::Value::Array(items.iter().map(Value::to_json).collect()),
            Value::Record(f) => serde_json::Value::Object(f.iter().map(|(k, v)| (k.clone(), v.to_json())).collect()),
        }
    }
}

/// An amount of money with thousands separated and two decimals: `-1,234.50`.
pub fn money(x: f64) -> String {
    let cents = (x * 100.0).round() as i64;
    let (sign, cents) = if cents < 0 { ("-", -cents) } else { ("", cents) };
    let whole = (cents / 100).to_string();
    let mut grouped = String::new();
    for (i, c) in whole.chars().enumerate() {
        if i > 0 && (whole.len() - i).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(c);
    }
    format!("{sign}{grouped}.{:02}", cents % 100)
}

impl std::fmt::Display for Value {
    /// Numbers and text as they are; records and lists as JSON (how templates render them).
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Value::Num(v) => write!(f, "{v}"),
            Value::Bool(b) => write!(f, "{b}"),
            Value::Text(t) | Value::Symbol(t) => f.write_str(t),
            Value::List(_) | Value::Record(_) => write!(f, "{}", self.to_json()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_render_as_json_and_scalars_plainly() {
        let v = Value::record([("a", Value::Num(1.5)), ("s", Value::Symbol("SPY".into()))]);
        assert_eq!(v.to_string(), r#"{"a":1.5,"s":"SPY"}"#);
        assert_eq!(Value::Num(f64::NAN).to_json(), serde_json::Value::Null);
        assert_eq!(Value::Text("x".into()).to_string(), "x");
        assert_eq!(v.field("s").and_then(Value::text), Some("SPY"));
        assert_eq!(
            (money(1_234_567.891), money(-0.5), money(0.0)),
            ("1,234,567.89".into(), "-0.50".into(), "0.00".into())
        );
    }
}
