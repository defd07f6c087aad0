//! The offline stand-in for a model: deterministic rules, no network. It is not a model and
//! says so wherever its answers appear. It answers any declared output type: a `decision`
//! leans on RSI(14) of the trigger's symbol (buy under 35, sell a holding over 70, else hold);
//! other fields get plain defaults of their type.

use crate::eval::Value;
use std::collections::BTreeMap;
use strat_lang::ir::Type;

pub const LABEL: &str =
    "offline stand-in (rule-based, not a model): buys when RSI(14) < 35, sells a holding when RSI(14) > 70, else holds";

/// What the stand-in looks at.
#[derive(Debug, Clone, Default)]
pub struct Facts {
    pub symbol: Option<String>,
    pub rsi: Option<f64>,
    pub price: f64,
    pub equity: f64,
    pub cash: f64,
    pub held: u64,
}

impl Facts {
    fn lean(&self) -> &'static str {
        match self.rsi {
            Some(r) if r < 35.0 => "buy",
            Some(r) if r > 70.0 && self.held > 0 => "sell",
            _ => "hold",
        }
    }

    fn reasoning(&self) -> String {
        let sym = self.symbol.as_deref().unwrap_or("the market");
        match self.rsi {
            Some(r) => format!("[offline stand-in] RSI(14) of {sym} is {r:.1}: {}", self.lean()),
            None => format!("[offline stand-in] no RSI for {sym} yet: hold"),
        }
    }

    /// 5% of the portfolio for a buy, the whole holding for a sale.
    fn quantity(&self) -> f64 {
        match self.lean() {
            "buy" if self.price > 0.0 => (0.05 * self.equity).min(self.cash).div_euclid(self.price).max(0.0),
            "sell" => self.held as f64,
            _ => 0.0,
        }
    }
}

/// The stand-in's answer, shaped like `output`.
pub fn answer(output: &Type, f: &Facts) -> Value {
    value_of("", output, f)
}

fn value_of(field: &str, t: &Type, f: &Facts) -> Value {
    match t {
        Type::Record { fields, .. } => {
            Value::Record(fields.iter().map(|(n, t)| (n.clone(), value_of(n, t, f))).collect::<BTreeMap<_, _>>())
        }
        Type::Optional { item } => value_of(field, item, f),
        Type::Enum { variants } => {
            let lean = f.lean();
            let pick = if variants.iter().any(|v| v == lean) {
                lean
            } else if variants.iter().any(|v| v == "hold") {
                "hold"
            } else {
                variants.first().map_or("", String::as_str)
            };
            Value::Text(pick.to_string())
        }
        Type::Number | Type::Quantity if field == "quantity" => Value::Num(f.quantity()),
        Type::Number if field == "confidence" => Value::Num(if f.lean() == "hold" { 0.4 } else { 0.8 }),
        Type::Price | Type::Money if field == "limit_price" => Value::Num(f.price),
        Type::Number | Type::Quantity | Type::Percent | Type::Money | Type::Price | Type::Duration => Value::Num(0.0),
        Type::Symbol => Value::Symbol(f.symbol.clone().unwrap_or_default()),
        Type::Bool => Value::Bool(false),
        Type::Text => Value::Text(f.reasoning()),
        Type::List { .. } | Type::SymbolSet | Type::TimeOfDay | Type::Date | Type::Timestamp => {
            Value::Text(String::new())
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
                ("confidence".into(), Type::Number),
                ("reasoning".into(), Type::Text),
            ],
        }
    }

    #[test]
    fn buys_oversold_and_holds_otherwise() {
        let f = Facts {
            symbol: Some("AAPL".into()),
            rsi: Some(28.0),
            price: 100.0,
            equity: 10_000.0,
            cash: 10_000.0,
            held: 0,
        };
        let Value::Record(r) = answer(&decision(), &f) else { panic!("a record") };
        assert_eq!(r["decision"], Value::Text("buy".into()));
        assert_eq!(r["quantity"], Value::Num(5.0));
        assert_eq!(r["symbol"], Value::Symbol("AAPL".into()));
        assert!(matches!(&r["reasoning"], Value::Text(t) if t.starts_with("[offline stand-in]")));
        let calm = Facts { rsi: Some(50.0), ..f.clone() };
        let Value::Record(r) = answer(&decision(), &calm) else { panic!("a record") };
        assert_eq!(r["decision"], Value::Text("hold".into()));
        // Overbought but nothing held: nothing to sell.
        let hot = Facts { rsi: Some(80.0), ..f };
        let Value::Record(r) = answer(&decision(), &hot) else { panic!("a record") };
        assert_eq!(r["decision"], Value::Text("hold".into()));
    }
}
