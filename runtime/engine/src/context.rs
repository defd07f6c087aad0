//! What an agent's model is told: the context it declared (the seed's `AgentContext`, with only
//! the declared sources, as of now), the system prompt, and the final prompt.

use crate::expr::{Compiled, Compiler, Env, World};
use crate::value::Value;
use serde_json::{Value as J, json};
use strat_lang::ir::{self, Expr};

/// One declared source, compiled against the run's market.
enum Source {
    /// `prices(set)`: per symbol, the close, the day's change, the volume and the bar's time.
    Prices(Vec<(String, usize, Compiled)>),
    /// `indicators(set)`: per symbol, RSI(14), MACD(12,26,9), SMA 20/50/200, Bollinger(20,2).
    Indicators(Vec<(String, [Compiled; 4])>),
    Portfolio,
    /// `news(set, window)`: articles about the set within the window.
    News(Vec<String>, i64),
    PreviousDecisions,
    Performance,
    MarketHours,
}

/// How an agent's context is built.
pub struct ContextPlan {
    sources: Vec<Source>,
}

fn call(func: &str, args: Vec<Expr>) -> Expr {
    Expr::Call { func: func.to_string(), args }
}

fn num(v: &str, unit: ir::Unit) -> Expr {
    Expr::Num { value: v.to_string(), unit }
}

/// The symbols a source's first argument names: a universe, a list or one ticker.
fn symbols_of(e: Option<&Expr>, universes: &std::collections::BTreeMap<String, Vec<String>>) -> Vec<String> {
    match e {
        Some(Expr::Universe { name }) => universes.get(name).cloned().unwrap_or_default(),
        Some(Expr::Symbol { value }) => vec![value.clone()],
        Some(Expr::List { items }) => items.iter().flat_map(|i| symbols_of(Some(i), universes)).collect(),
        _ => Vec::new(),
    }
}

impl ContextPlan {
    /// Compiles the declared sources. Symbols without data are left out, with a warning.
    pub fn new(
        sources: &[Expr],
        universes: &std::collections::BTreeMap<String, Vec<String>>,
        compiler: &mut Compiler<'_>,
        warnings: &mut Vec<String>,
    ) -> Result<ContextPlan, String> {
        let mut out = Vec::new();
        for s in sources {
            let (name, args) = match s {
                Expr::Call { func, args } => (func.as_str(), args.as_slice()),
                Expr::Global { name } | Expr::Variant { name } => (name.as_str(), &[][..]),
                _ => continue,
            };
            let mut with_data = Vec::new();
            for sym in symbols_of(args.first(), universes) {
                match compiler.market().symbol(&sym) {
                    Some(i) => with_data.push((sym, i)),
                    None => warnings.push(format!("no data for `{sym}`: add `--data {sym}=PATH`; it is left out")),
                }
            }
            let ticker = |s: &str| Expr::Symbol { value: s.to_string() };
            out.push(match name {
                "prices" => {
                    let mut v = Vec::new();
                    for (s, i) in with_data {
                        let change =
                            compiler.compile(&call("change", vec![ticker(&s), num("86400", ir::Unit::Seconds)]))?;
                        v.push((s, i, change));
                    }
                    Source::Prices(v)
                }
                "indicators" => {
                    let mut v = Vec::new();
                    for (s, _) in with_data {
                        let n = |x: &str| num(x, ir::Unit::None);
                        let c = [
                            compiler.compile(&call("rsi", vec![ticker(&s), n("14")]))?,
                            compiler.compile(&call("macd", vec![ticker(&s), n("12"), n("26"), n("9")]))?,
                            compiler.compile(&call("bollinger", vec![ticker(&s), n("20"), n("2")]))?,
                            compiler.compile(&Expr::List {
                                items: ["20", "50", "200"]
                                    .iter()
                                    .map(|p| call("sma", vec![ticker(&s), n(p)]))
                                    .collect(),
                            })?,
                        ];
                        v.push((s, c));
                    }
                    Source::Indicators(v)
                }
                "news" => {
                    let window = match args.get(1) {
                        Some(Expr::Num { value, unit: ir::Unit::Seconds }) => {
                            value.parse::<f64>().unwrap_or(86_400.0) as i64
                        }
                        _ => 86_400,
                    };
                    Source::News(with_data.into_iter().map(|(s, _)| s).collect(), window)
                }
                "portfolio" => Source::Portfolio,
                "previous_decisions" => Source::PreviousDecisions,
                "performance" => Source::Performance,
                "market_hours" => Source::MarketHours,
                _ => continue,
            });
        }
        Ok(ContextPlan { sources: out })
    }

    /// The context as of now. `trigger`, `limits` and `timestamp` are always there.
    pub fn build(&self, env: &Env<'_>, world: &dyn World, extra: &Extra<'_>) -> J {
        let mut c = serde_json::Map::new();
        c.insert("timestamp".into(), json!(env.now.to_string()));
        c.insert("trigger".into(), extra.trigger.to_json());
        c.insert("limits".into(), world.global("limits").map_or(J::Null, |l| l.to_json()));
        let n = |x: Option<f64>| x.map_or(J::Null, |v| json!(v));
        for s in &self.sources {
            match s {
                Source::Prices(list) => {
                    let mut m = serde_json::Map::new();
                    for (sym, i, change) in list {
                        let Some(bar) = env.bars.get(*i).copied().flatten() else { continue };
                        m.insert(
                            sym.clone(),
                            json!({"price": bar.close, "change_percent": n(change.number(env, world)),
                                   "volume": bar.volume, "timestamp": bar.time.to_string()}),
                        );
                    }
                    c.insert("current_prices".into(), J::Object(m));
                }
                Source::Indicators(list) => {
                    let mut m = serde_json::Map::new();
                    for (sym, [rsi, macd, bands, smas]) in list {
                        let rec = |c: &Compiled| c.value(env, world).map_or(J::Null, |v| v.to_json());
                        let macd = match macd.value(env, world) {
                            Some(v) => json!({"value": v.field("macd").and_then(Value::num),
                                              "signal": v.field("signal").and_then(Value::num),
                                              "histogram": v.field("histogram").and_then(Value::num)}),
                            None => J::Null,
                        };
                        let ma = match smas.node() {
                            crate::expr::Node::List(items) => {
                                let v: Vec<Option<f64>> =
                                    items.iter().map(|i| Compiled { root: i.clone() }.number(env, world)).collect();
                                json!({"ma20": n(v[0]), "ma50": n(v[1]), "ma200": n(v[2])})
                            }
                            _ => J::Null,
                        };
                        m.insert(
                            sym.clone(),
                            json!({"rsi": n(rsi.number(env, world)), "macd": macd, "moving_averages": ma,
                                   "bollinger_bands": rec(bands)}),
                        );
                    }
                    c.insert("indicators".into(), J::Object(m));
                }
                Source::Portfolio => {
                    let p = world.portfolio_record().to_json();
                    let mut p = p.as_object().cloned().unwrap_or_default();
                    // The seed's name for the cash figure.
                    if let Some(cash) = p.remove("cash") {
                        p.insert("cash_balance".into(), cash);
                    }
                    c.insert("portfolio".into(), J::Object(p));
                }
                Source::News(symbols, window) => {
                    let mut articles = Vec::new();
                    for s in symbols {
                        for a in extra.news_about(s, *window) {
                            if !articles.contains(&a) {
                                articles.push(a);
                            }
                        }
                    }
                    articles.sort_by_key(|a| a.published);
                    let list: Vec<J> = articles
                        .iter()
                        .map(|a| {
                            json!({"title": a.title, "summary": a.summary, "sentiment": a.sentiment.name(),
                                   "relevance_score": a.relevance, "published_at": a.published.to_string(),
                                   "symbols": a.symbols, "source": a.source})
                        })
                        .collect();
                    c.insert("news".into(), J::Array(list));
                }
                Source::PreviousDecisions => {
                    c.insert("previous_decisions".into(), J::Array(extra.previous.to_vec()));
                }
                Source::Performance => {
                    c.insert("agent_performance".into(), world.global("performance").map_or(J::Null, |p| p.to_json()));
                }
                Source::MarketHours => {
                    c.insert("market_hours".into(), json!(extra.market_open));
                }
            }
        }
        // A team's member always sees what was said before it (earlier members, the proposals
        // it supervises, the previous round), declared as a source or not.
        if !extra.previous.is_empty() && !c.contains_key("previous_decisions") {
            c.insert("previous_decisions".into(), J::Array(extra.previous.to_vec()));
        }
        J::Object(c)
    }
}

/// What the context needs beyond the market and the world.
pub struct Extra<'a> {
    pub trigger: &'a Value,
    pub previous: &'a [J],
    pub market_open: bool,
    /// Articles about a symbol within a window before now.
    pub news: &'a dyn Fn(&str, i64) -> Vec<crate::news::Article>,
}

impl Extra<'_> {
    fn news_about(&self, symbol: &str, window: i64) -> Vec<crate::news::Article> {
        (self.news)(symbol, window)
    }
}

/// The prompt a model call sends after the system prompt, and how much of it is the same on
/// every call of the agent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FinalPrompt {
    pub text: String,
    /// The length in bytes of the leading part that does not change from call to call: the
    /// answer's schema, and the strategy too when `strategy_stable`. Providers cache it.
    pub stable: usize,
}

/// The final prompt, what stays the same first (so that a provider's prompt cache can hold it
/// and repeated calls read it back): the answer's schema, the strategy, then what changes (the
/// account, the market data) and the question.
pub fn final_prompt(strategy: &str, strategy_stable: bool, account: &str, context: &J, schema: &J) -> FinalPrompt {
    let pretty = |v: &J| serde_json::to_string_pretty(v).unwrap_or_default();
    let mut text = format!("Respond with one JSON object matching this schema:\n{}\n\n", pretty(schema));
    let mut stable = text.len();
    text.push_str("YOUR STRATEGY:\n");
    text.push_str(strategy.trim());
    text.push_str("\n\n");
    if strategy_stable {
        stable = text.len();
    }
    text.push_str("YOUR ACCOUNT:\n");
    text.push_str(account.trim());
    text.push_str("\n\nCURRENT MARKET DATA:\n");
    text.push_str(&pretty(context));
    text.push_str("\n\nWhat action should you take? Answer with one JSON object matching the schema above.\n");
    FinalPrompt { text, stable }
}

/// A template written as text with `{{ expression }}` placeholders (the stdlib's default
/// system prompt), checked and lowered like a template in a file.
pub fn parse_template(text: &str) -> Result<Vec<ir::Part>, String> {
    let mut parts = Vec::new();
    let mut rest = text;
    while let Some(open) = rest.find("{{") {
        parts.push(ir::Part::Text(rest[..open].to_string()));
        let after = &rest[open + 2..];
        let close = after.find("}}").ok_or_else(|| "a placeholder is not closed".to_string())?;
        let checked = strat_lang::check_expression(after[..close].trim());
        let e = checked.expr.ok_or_else(|| format!("placeholder `{}` does not check", after[..close].trim()))?;
        parts.push(ir::Part::Expr(e));
        rest = &after[close + 2..];
    }
    parts.push(ir::Part::Text(rest.to_string()));
    Ok(parts)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_default_system_prompt_parses_into_text_and_placeholders() {
        let parts = parse_template(strat_stdlib::DEFAULT_SYSTEM_PROMPT).expect("parses");
        let exprs = parts.iter().filter(|p| matches!(p, ir::Part::Expr(_))).count();
        assert!(exprs >= 3, "{parts:?}");
        let account = parse_template(strat_stdlib::ACCOUNT_PROMPT).expect("parses");
        assert_eq!(account.iter().filter(|p| matches!(p, ir::Part::Expr(_))).count(), 4, "{account:?}");
        assert_eq!(parse_template("a {{ 1 + 1 }} b").map(|p| p.len()), Ok(3));
        assert!(parse_template("a {{ 1 +").is_err());
    }
}
