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
    grouped(&format!("{:.2}", (x * 100.0).round() / 100.0 + 0.0))
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

impl Value {
    /// The value as a person reads it, with the unit of its checked type `ty` (the type's name
    /// as `strat_lang::check_expression` gives it): `$1,234.50` for money, `-3.2%`, `10 shares`,
    /// `15m`, `2024-01-02`, `15:30`, records field by field in the order the stdlib declares
    /// them. Percents are held as percent figures, durations in seconds, dates as days from
    /// 0001-01-01 and times of day as seconds from midnight, as the evaluator computes them.
    pub fn show(&self, ty: &str) -> String {
        match (self, ty) {
            (Value::Num(v), _) if !v.is_finite() => "not a number (a division by zero?)".to_string(),
            (Value::Num(v), "percent") => format!("{}%", decimals(*v, 0, 2)),
            (Value::Num(v), "money" | "price") => {
                let sign = if *v < 0.0 { "-" } else { "" };
                format!("{sign}${}", grouped(&decimals(v.abs(), 2, 4)))
            }
            (Value::Num(v), "quantity") => {
                let n = grouped(&decimals(*v, 0, 4));
                if *v == 1.0 { format!("{n} share") } else { format!("{n} shares") }
            }
            (Value::Num(v), "duration") => duration(*v),
            (Value::Num(v), "date") => chrono::NaiveDate::from_num_days_from_ce_opt(*v as i32)
                .map_or_else(|| decimals(*v, 0, 4), |d| d.to_string()),
            (Value::Num(v), "time of day") => {
                let s = v.max(0.0) as u64;
                if s.is_multiple_of(60) {
                    format!("{:02}:{:02}", s / 3600, s / 60 % 60)
                } else {
                    format!("{:02}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
                }
            }
            (Value::Num(v), _) => decimals(*v, 0, 4),
            (Value::Text(t), "text") => format!("{:?}", t),
            (Value::List(items), _) => {
                let inner = ty.strip_prefix("list<").and_then(|t| t.strip_suffix('>')).unwrap_or("symbol");
                let items: Vec<String> = items.iter().map(|i| i.show(inner)).collect();
                format!("[{}]", items.join(", "))
            }
            (Value::Record(fields), _) => {
                let shown: Vec<String> = match strat_stdlib::record(ty) {
                    Some(r) => r
                        .fields
                        .iter()
                        .filter_map(|f| fields.get(f.name).map(|v| format!("{}: {}", f.name, v.show(&f.ty.display()))))
                        .collect(),
                    None => fields.iter().map(|(k, v)| format!("{k}: {}", v.show(""))).collect(),
                };
                format!("{{ {} }}", shown.join(", "))
            }
            (v, _) => v.to_string(),
        }
    }
}

/// `v` with at least `min` and at most `max` decimals (trailing zeros beyond `min` dropped).
fn decimals(v: f64, min: usize, max: usize) -> String {
    let s = format!("{v:.max$}");
    let (int, frac) = s.split_once('.').unwrap_or((&s, ""));
    let keep = frac.trim_end_matches('0').len().max(min);
    // `-0` with nothing after the point is zero; `-0.5` keeps its sign.
    match keep {
        0 if int == "-0" => "0".to_string(),
        0 => int.to_string(),
        _ => format!("{int}.{}", &frac[..keep]),
    }
}

/// Thousands separated by commas in the whole part of a formatted number.
fn grouped(s: &str) -> String {
    let (sign, rest) = s.strip_prefix('-').map_or(("", s), |r| ("-", r));
    let (int, frac) = rest.split_once('.').map_or((rest, None), |(i, f)| (i, Some(f)));
    let mut out = String::new();
    for (i, c) in int.chars().enumerate() {
        if i > 0 && (int.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    match frac {
        Some(f) => format!("{sign}{out}.{f}"),
        None => format!("{sign}{out}"),
    }
}

/// Seconds in the largest unit that divides them, as the language writes durations.
pub(crate) fn duration(seconds: f64) -> String {
    let s = seconds.round() as i64;
    for (unit, len) in [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60)] {
        if s != 0 && s % len == 0 {
            return format!("{}{unit}", s / len);
        }
    }
    format!("{s}s")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_show_with_their_units() {
        let n = |v: f64, ty: &str| Value::Num(v).show(ty);
        assert_eq!(n(42.0, "number"), "42");
        assert_eq!(n(1.0 / 3.0, "number"), "0.3333");
        assert_eq!(n(-0.00001, "number"), "0");
        assert_eq!(n(1234.5, "money"), "$1,234.50");
        assert_eq!(n(-1234567.0, "money"), "-$1,234,567.00");
        assert_eq!(n(135.5625, "price"), "$135.5625");
        assert_eq!(n(-3.2, "percent"), "-3.2%");
        assert_eq!(n(0.21866, "percent"), "0.22%");
        assert_eq!(n(58_034_142.0, "quantity"), "58,034,142 shares");
        assert_eq!(n(1.0, "quantity"), "1 share");
        assert_eq!(n(900.0, "duration"), "15m");
        assert_eq!(n(86_400.0 * 2.0, "duration"), "2d");
        assert_eq!(n(90.0, "duration"), "90s");
        assert_eq!(n(738_887.0, "date"), "2024-01-02");
        assert_eq!(n(55_800.0, "time of day"), "15:30");
        assert_eq!(n(f64::INFINITY, "number"), "not a number (a division by zero?)");
        assert_eq!(Value::Bool(true).show("bool"), "true");
        assert_eq!((n(-0.687, "percent"), n(-0.004, "percent")), ("-0.69%".to_string(), "0%".to_string()));
        assert_eq!(Value::Text("a \"b\"".into()).show("text"), r#""a \"b\"""#);
        assert_eq!(Value::Text("positive".into()).show("positive | negative | neutral"), "positive");
        let set = Value::List(vec![Value::Symbol("SPY".into()), Value::Symbol("AAPL".into())]);
        assert_eq!(set.show("symbol set"), "[SPY, AAPL]");
        let macd =
            Value::record([("histogram", Value::Num(0.25)), ("macd", Value::Num(1.5)), ("signal", Value::Num(1.25))]);
        assert_eq!(macd.show("macd"), "{ macd: 1.5, signal: 1.25, histogram: 0.25 }");
        let bands =
            Value::record([("lower", Value::Num(9.5)), ("middle", Value::Num(10.0)), ("upper", Value::Num(10.5))]);
        assert_eq!(bands.show("bollinger"), "{ upper: $10.50, middle: $10.00, lower: $9.50 }");
    }

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
