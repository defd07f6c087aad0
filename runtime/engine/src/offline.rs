//! The offline stand-in for a model: deterministic rules, no network. It is not a model and
//! says so wherever its answers appear. It reads only what the agent's request states — the
//! context the agent declared, the trigger, and the account summary of the system prompt — and
//! answers in JSON, which is decoded like any model's reply.
//!
//! For a decision about the trigger's symbol it looks, in order, at RSI(14) (buy under 35,
//! sell a holding over 70), the day's change (buy at -3% or worse, sell a holding at +3% or
//! better) and news sentiment, the article that fired a news trigger included (buy on positive,
//! sell a holding on negative); with none of them in the context it holds. Buys take 5% of the
//! portfolio value at the trigger's price.

use crate::llm::{Llm, LlmError, LlmReply, LlmRequest};
use serde_json::{Value as J, json};

pub const LABEL: &str = "offline stand-in (rule-based, not a model)";

/// The rules, as shown in warnings.
pub const RULES: &str = "offline stand-in (rule-based, not a model): RSI(14) under 35 buys and over 70 sells a holding, \
     else a day's change of -3% buys and +3% sells a holding, else news sentiment; otherwise it holds";

#[derive(Debug, Clone, Default)]
pub struct Offline;

impl Llm for Offline {
    fn label(&self) -> String {
        LABEL.to_string()
    }

    fn complete(&mut self, request: &LlmRequest) -> Result<LlmReply, LlmError> {
        let facts = Facts::read(request);
        let answer = shape(&request.schema, "", &facts);
        Ok(LlmReply {
            text: answer.to_string(),
            model: LABEL.to_string(),
            stop_reason: Some("end_turn".to_string()),
            input_tokens: 0,
            output_tokens: 0,
            cached_tokens: 0,
            cost: 0.0,
        })
    }
}

/// What the stand-in found in the request.
#[derive(Debug, Default)]
struct Facts {
    symbol: Option<String>,
    price: Option<f64>,
    rsi: Option<f64>,
    change: Option<f64>,
    sentiment: Option<f64>,
    held: f64,
    total_value: f64,
    cash: f64,
}

fn num(v: &J) -> Option<f64> {
    v.as_f64().filter(|x| x.is_finite())
}

impl Facts {
    fn read(r: &LlmRequest) -> Facts {
        let c = &r.context;
        let symbol = c["trigger"]["data"]["symbol"].as_str().map(str::to_string);
        let sym = symbol.as_deref().unwrap_or("");
        // The articles of the context, and the one that fired a news trigger.
        let mut articles: Vec<&J> = c["news"].as_array().map(|a| a.iter().collect()).unwrap_or_default();
        if c["trigger"]["data"]["article"].is_object() {
            articles.push(&c["trigger"]["data"]["article"]);
        }
        let news: Vec<f64> = articles
            .iter()
            .filter(|n| n["symbols"].as_array().is_some_and(|s| s.iter().any(|x| x == sym)))
            .filter_map(|n| match n["sentiment"].as_str() {
                Some("positive") => Some(1.0),
                Some("negative") => Some(-1.0),
                Some(_) => Some(0.0),
                None => None,
            })
            .collect();
        let held = r.account["positions"]
            .as_array()
            .and_then(|ps| ps.iter().find(|p| p["symbol"] == sym))
            .and_then(|p| num(&p["quantity"]))
            .unwrap_or(0.0);
        Facts {
            price: num(&c["trigger"]["data"]["price"]).or_else(|| num(&c["current_prices"][sym]["price"])),
            rsi: num(&c["indicators"][sym]["rsi"]),
            change: num(&c["current_prices"][sym]["change_percent"]),
            sentiment: (!news.is_empty()).then(|| news.iter().sum::<f64>() / news.len() as f64),
            held,
            total_value: num(&r.account["total_value"]).unwrap_or(0.0),
            cash: num(&r.account["cash"]).unwrap_or(0.0),
            symbol,
        }
    }

    /// The lean and the reason for it.
    fn lean(&self) -> (&'static str, String) {
        let sym = self.symbol.as_deref().unwrap_or("the market");
        let held = self.held > 0.0;
        let (lean, why) = if let Some(r) = self.rsi {
            let lean = if r < 35.0 {
                "buy"
            } else if r > 70.0 && held {
                "sell"
            } else {
                "hold"
            };
            (lean, format!("RSI(14) of {sym} is {r:.1}"))
        } else if let Some(c) = self.change {
            let lean = if c <= -3.0 {
                "buy"
            } else if c >= 3.0 && held {
                "sell"
            } else {
                "hold"
            };
            (lean, format!("{sym} changed {c:+.2}% over the day"))
        } else if let Some(s) = self.sentiment {
            let lean = if s > 0.2 {
                "buy"
            } else if s < -0.2 && held {
                "sell"
            } else {
                "hold"
            };
            (lean, format!("news about {sym} averages {s:+.2} in sentiment"))
        } else {
            ("hold", format!("nothing in the context about {sym} to go on"))
        };
        if lean == "buy" && self.price.is_none_or(|p| p <= 0.0) {
            return ("hold", format!("{why}, but no price for {sym} is known"));
        }
        (lean, why)
    }

    fn quantity(&self, lean: &str) -> f64 {
        match (lean, self.price) {
            ("buy", Some(p)) if p > 0.0 => (0.05 * self.total_value).min(self.cash).div_euclid(p).max(0.0),
            ("sell", _) => self.held,
            _ => 0.0,
        }
    }
}

/// An answer of the shape `schema` asks for.
fn shape(schema: &J, field: &str, f: &Facts) -> J {
    let (lean, why) = f.lean();
    if let Some(variants) = schema["enum"].as_array() {
        let pick = [lean, "hold"]
            .into_iter()
            .find(|w| variants.iter().any(|v| v == *w))
            .map(J::from)
            .or_else(|| variants.first().cloned())
            .unwrap_or(J::Null);
        return pick;
    }
    match schema["type"].as_str() {
        Some("object") => {
            let mut out = serde_json::Map::new();
            if let Some(props) = schema["properties"].as_object() {
                for (name, s) in props {
                    out.insert(name.clone(), shape(s, name, f));
                }
            }
            J::Object(out)
        }
        Some("array") => json!([]),
        Some("boolean") => J::Bool(false),
        Some("integer") if field == "quantity" => json!(f.quantity(lean) as u64),
        Some("number") if field == "confidence" => json!(if lean == "hold" { 0.4 } else { 0.8 }),
        Some("number") if field == "limit_price" => json!(f.price.unwrap_or(0.0)),
        Some("integer" | "number") => json!(0),
        Some("string") if schema["pattern"].is_string() => json!(f.symbol.clone().unwrap_or_default()),
        Some("string") => json!(format!("[offline stand-in] {why}: {lean}")),
        _ => J::Null,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::decode::{decode, schema};
    use crate::value::Value;
    use strat_lang::ir::Type;

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

    fn ask(context: J, account: J) -> Value {
        let r = LlmRequest {
            agent: "A".into(),
            model: crate::llm::ModelSpec {
                name: "m".into(),
                provider: "offline".into(),
                model: "rules".into(),
                params: Default::default(),
            },
            system: String::new(),
            prompt: String::new(),
            context,
            account,
            schema: schema(&decision()),
            cached_prefix: None,
        };
        let reply = Offline.complete(&r).expect("answers");
        decode(&reply.text, &decision(), reply.stop_reason.as_deref()).expect("decodes")
    }

    #[test]
    fn buys_oversold_and_holds_otherwise() {
        let trigger = json!({"type": "condition", "data": {"symbol": "AAPL", "price": 100.0}});
        let account = json!({"total_value": 10_000.0, "cash": 10_000.0, "positions": []});
        let r = ask(json!({"trigger": trigger, "indicators": {"AAPL": {"rsi": 28.0}}}), account.clone());
        assert_eq!(r.field("decision"), Some(&Value::Text("buy".into())));
        assert_eq!(r.field("quantity"), Some(&Value::Num(5.0)));
        assert_eq!(r.field("symbol"), Some(&Value::Symbol("AAPL".into())));
        assert!(
            matches!(r.field("reasoning"), Some(Value::Text(t)) if t.starts_with("[offline stand-in] RSI(14) of AAPL is 28.0"))
        );
        let calm = ask(json!({"trigger": trigger, "indicators": {"AAPL": {"rsi": 50.0}}}), account.clone());
        assert_eq!(calm.field("decision"), Some(&Value::Text("hold".into())));
        // Overbought but nothing held: nothing to sell.
        let hot = ask(json!({"trigger": trigger, "indicators": {"AAPL": {"rsi": 80.0}}}), account);
        assert_eq!(hot.field("decision"), Some(&Value::Text("hold".into())));
    }

    #[test]
    fn reads_only_what_the_context_has() {
        let trigger = json!({"type": "condition", "data": {"symbol": "AAPL", "price": 100.0}});
        let account =
            json!({"total_value": 10_000.0, "cash": 10_000.0, "positions": [{"symbol": "AAPL", "quantity": 7}]});
        let dip = ask(
            json!({"trigger": trigger, "current_prices": {"AAPL": {"price": 100.0, "change_percent": -4.0}}}),
            account.clone(),
        );
        assert_eq!(dip.field("decision"), Some(&Value::Text("buy".into())));
        let news =
            ask(json!({"trigger": trigger, "news": [{"symbols": ["AAPL"], "sentiment": "negative"}]}), account.clone());
        assert_eq!(news.field("decision"), Some(&Value::Text("sell".into())));
        assert_eq!(news.field("quantity"), Some(&Value::Num(7.0)));
        let nothing = ask(json!({"trigger": trigger}), account);
        assert_eq!(nothing.field("decision"), Some(&Value::Text("hold".into())));
    }
}
