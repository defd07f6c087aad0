//! The generated project the front-end benchmarks run on: modules of about 1,000 lines of
//! agents, workflows, limits, universes and models.

/// One generated module of about 1,000 lines; `n` makes its names unique.
pub fn module(n: usize) -> String {
    let mut s = String::new();
    s.push_str(&format!("// generated module {n}\nuniverse u{n} = [AAPL, MSFT, GOOGL, AMZN, META, SPY]\n\n"));
    s.push_str(&format!(
        "limits l{n} {{\n  max_position $10_000\n  max_allocation 5%\n  max_daily_trades 3\n  allow u{n}\n  block [GME]\n}}\n\n"
    ));
    s.push_str(&format!("model m{n} = anthropic(\"claude-sonnet-4-5\", temperature: 0.2)\n\n"));
    let mut k = 0;
    while s.lines().count() < 960 {
        s.push_str(&format!(
            "agent A{n}x{k} {{
  model m{n}
  limits l{n}
  context prices(u{n}), indicators(u{n}), portfolio
  prompt \"Buy {{{{trigger.symbol}}}} if RSI {{{{rsi(trigger.symbol, 14)}}}} is low; cash {{{{portfolio.cash}}}}.\"
  on change(u{n}, 1d) <= -3% and rsi(u{n}, 14) < 35 throttle 1 per 15m
}}

workflow W{n}x{k} {{
  limits l{n}
  on sma(SPY, 10) crosses above sma(SPY, 30)
  let spread = sma(SPY, 10) - sma(SPY, 30)
  if spread > $1 and not holding(SPY) and volume(SPY) > 2 * avg_volume(SPY, 20d) {{
    buy SPY size 5% of portfolio limit price(SPY) * 0.99
  }} else if macd(SPY, 12, 26, 9).histogram < 0 {{
    sell SPY size all
  }} else {{
    log \"spread {{{{spread}}}}\"
  }}
}}

"
        ));
        k += 1;
    }
    s
}
