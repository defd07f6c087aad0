//! `strat eval`: an expression's value at every step of historical data.
//!
//! The expression is compiled once (its indicators and crossings registered in a market), then
//! the bars are replayed; at each step the market takes the bars that closed and the
//! expression is read. A value that is not defined yet (an indicator in its warm-up, a symbol
//! without data yet) is `None`.

use crate::expr::{Compiler, Market, NoWorld, Node};
use crate::host::MarketData;
use crate::market::Bar;
use crate::sim::Replay;
pub use crate::value::Value;
use chrono::NaiveDateTime;
use std::collections::BTreeMap;
use strat_lang::ir::Expr;

/// Evaluates `expr` at every timestamp of `data` (symbol → bars in time order). Constructs
/// that need more than price history (the portfolio, news) are an error.
pub fn evaluate(expr: &Expr, data: &BTreeMap<String, Vec<Bar>>) -> Result<Vec<(NaiveDateTime, Option<Value>)>, String> {
    let mut replay = Replay::new(data, "historical bars");
    let mut market = Market::new(replay.symbols().to_vec(), replay.intervals().to_vec());
    market.without_volume = replay.without_volume();
    let compiled = Compiler::price_history(&mut market).compile(expr)?;
    let mut out = Vec::with_capacity(replay.steps().unwrap_or(0));
    let mut closed = Vec::new();
    while let Some(t) = replay.next(&mut closed) {
        market.step(t, &closed);
        market.update_crossings(&closed, &NoWorld);
        out.push((t, compiled.value(&market.env(), &NoWorld)));
    }
    Ok(out)
}

/// Evaluates an expression that reads no market data and no clock (`40 + 2`, `2 * $1_000`):
/// its one value, with no bars at all. An expression that reads bars or the clock is an error
/// saying what it needs; so is one that names a symbol (`no data for …`).
pub fn evaluate_constant(expr: &Expr) -> Result<Option<Value>, String> {
    let mut market = Market::new(Vec::new(), Vec::new());
    let compiled = Compiler::price_history(&mut market).compile(expr)?;
    let mut clock = false;
    let mut market_read = false;
    compiled.node().visit(&mut |n| match n {
        Node::Clock(_) => clock = true,
        Node::Num(_) | Node::Bool(_) | Node::Text(_) | Node::Symbol(_) | Node::List(_) | Node::Field(..) => {}
        Node::Not(_) | Node::Neg(_) | Node::Bin(..) | Node::Math(..) | Node::Template(_) => {}
        _ => market_read = true,
    });
    if clock {
        return Err(
            "the clock (`now`, `today()`, `time_of_day()`, `weekday()`, `market_open()`) needs a current bar: \
                    load price data first"
                .to_string(),
        );
    }
    if market_read {
        return Err("this needs price data: load some first".to_string());
    }
    Ok(compiled.value(&market.env(), &NoWorld))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::NaiveDate;

    fn closes(xs: &[f64]) -> BTreeMap<String, Vec<Bar>> {
        let start = NaiveDate::from_ymd_opt(2024, 1, 1).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
        let bars = xs
            .iter()
            .enumerate()
            .map(|(i, c)| Bar {
                time: start + chrono::Duration::days(i as i64),
                open: *c,
                high: *c,
                low: *c,
                close: *c,
                volume: 1.0,
            })
            .collect();
        BTreeMap::from([("X".to_string(), bars)])
    }

    fn run(src: &str, xs: &[f64]) -> Vec<Option<Value>> {
        let c = strat_lang::check_expression(src);
        let e = c.expr.unwrap_or_else(|| panic!("{src}: {:?}", c.diagnostics));
        evaluate(&e, &closes(xs)).expect("evaluates").into_iter().map(|(_, v)| v).collect()
    }

    fn true_at(values: &[Option<Value>]) -> Vec<usize> {
        values.iter().enumerate().filter(|(_, v)| **v == Some(Value::Bool(true))).map(|(i, _)| i).collect()
    }

    #[test]
    fn crossing_fires_once_and_a_touch_carries_the_sign() {
        // price - 10: -, -, 0, +, +, 0, -, +  → above fires at index 3 only (the zero carries "-"),
        // then below at 6, above again at 7.
        let xs = [8.0, 9.0, 10.0, 11.0, 12.0, 10.0, 9.0, 11.0];
        assert_eq!(true_at(&run("price(X) crosses above $10", &xs)), vec![3, 7]);
        assert_eq!(true_at(&run("price(X) crosses below $10", &xs)), vec![6]);
    }

    #[test]
    fn a_run_of_steps_leaves_the_market_as_stepping_one_by_one() {
        // Whole numbers, flat for every third stretch of 40 bars: differences of exactly zero
        // (a crossing carries the sign before them), warm-ups, and runs longer than a batch.
        let mut x = 50.0f64;
        let mut seed = 3u64;
        let xs: Vec<f64> = (0..1_400)
            .map(|i| {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                if (i / 40) % 3 != 0 {
                    x = (x + [-1.0, 0.0, 1.0][((seed >> 33) % 3) as usize]).max(1.0);
                }
                x
            })
            .collect();
        let data = closes(&xs);
        let bars = &data["X"];
        for src in [
            "sma(X, 2) crosses above sma(X, 5)",
            "sma(X, 2) crosses below sma(X, 5)",
            "macd(X, 3, 6, 2).macd crosses above macd(X, 3, 6, 2).signal",
            "ema(X, 4) crosses below sma(X, 700)",
            "rsi(X, 3) crosses above 50",
            "close(X) crosses above sma(X, 4)",
            "sma(X, 3) crosses below -$1 + sma(X, 8)",
            "bollinger(X, 5, 2).upper",
        ] {
            let e = strat_lang::check_expression(src).expr.unwrap_or_else(|| panic!("{src}"));
            let one_by_one = run(src, &xs);
            let mut checked = 0;
            for k in (1..bars.len()).step_by(7) {
                for len in [1, 29, 600] {
                    let a = k.saturating_sub(len);
                    let mut market = Market::new(vec!["X".to_string()], vec![86_400]);
                    let compiled = Compiler::price_history(&mut market).compile(&e).expect("compiles");
                    let step = |market: &mut Market, b: &Bar| {
                        market.step(b.time, &[(0, *b)]);
                        market.update_crossings(&[(0, *b)], &NoWorld);
                    };
                    bars[..a].iter().for_each(|b| step(&mut market, b));
                    market.step_run(0, &bars[a..k]);
                    step(&mut market, &bars[k]);
                    assert_eq!(compiled.value(&market.env(), &NoWorld), one_by_one[k], "{src} at {k} after {a}..{k}");
                    checked += 1;
                }
            }
            assert!(checked > 500);
        }
        // A crossing registered after a run (a fresh average, from then on) is traced too.
        let compile = |market: &mut Market, src: &str| {
            let e = strat_lang::check_expression(src).expr.unwrap_or_else(|| panic!("{src}"));
            Compiler::price_history(market).compile(&e).expect("compiles")
        };
        let step = |market: &mut Market, b: &Bar| {
            market.step(b.time, &[(0, *b)]);
            market.update_crossings(&[(0, *b)], &NoWorld);
        };
        let mut agree = 0;
        for k in (300..bars.len()).step_by(5) {
            let (mut run, mut one) =
                (Market::new(vec!["X".into()], vec![86_400]), Market::new(vec!["X".into()], vec![86_400]));
            for m in [&mut run, &mut one] {
                compile(m, "sma(X, 3) crosses above sma(X, 4)");
            }
            run.step_run(0, &bars[..200]);
            bars[..200].iter().for_each(|b| step(&mut one, b));
            let late = "sma(X, 2) crosses below sma(X, 6)";
            let (in_run, in_one) = (compile(&mut run, late), compile(&mut one, late));
            run.step_run(0, &bars[200..k]);
            bars[200..k].iter().for_each(|b| step(&mut one, b));
            step(&mut run, &bars[k]);
            step(&mut one, &bars[k]);
            let v = in_one.value(&one.env(), &NoWorld);
            assert_eq!(in_run.value(&run.env(), &NoWorld), v, "at {k}");
            agree += usize::from(v == Some(Value::Bool(true)));
        }
        assert!(agree > 5, "{agree} crossings among the points compared");
        // The crossings do happen, so the comparison means something.
        assert!(true_at(&run("sma(X, 2) crosses above sma(X, 5)", &xs)).len() > 20);
        assert_eq!(true_at(&run("ema(X, 4) crosses below sma(X, 700)", &xs)).len(), 2);
    }

    #[test]
    fn warm_up_is_empty_and_arithmetic_keeps_units() {
        let v = run("sma(X, 3) * 2", &[1.0, 2.0, 3.0, 4.0]);
        assert_eq!(v, vec![None, None, Some(Value::Num(4.0)), Some(Value::Num(6.0))]);
        let v = run("change(X, 1d) <= -50%", &[10.0, 4.0, 5.0]);
        assert_eq!(v, vec![None, Some(Value::Bool(true)), Some(Value::Bool(false))]);
    }

    #[test]
    fn a_percent_of_a_unit_is_a_share_of_it() {
        // 5% of the close, 10% of it, the close over 50% (twice it), and percents among themselves.
        let xs = [200.0];
        assert_eq!(run("5% * close(X)", &xs), vec![Some(Value::Num(10.0))]);
        assert_eq!(run("close(X) * 10%", &xs), vec![Some(Value::Num(20.0))]);
        assert_eq!(run("close(X) / 50%", &xs), vec![Some(Value::Num(400.0))]);
        assert_eq!(run("5% * 2", &xs), vec![Some(Value::Num(10.0))]);
        assert_eq!(run("close(X) * 2", &xs), vec![Some(Value::Num(400.0))]);
    }

    #[test]
    fn multi_output_indicators_read_their_fields_and_render_whole() {
        let xs: Vec<f64> = (1..=40).map(f64::from).collect();
        let v = run("bollinger(X, 20, 2).middle", &xs);
        // The middle band is the 20-bar average: of 21..=40 at the last bar.
        assert_eq!(v.last().cloned().flatten(), Some(Value::Num(30.5)));
        let whole = run("bollinger(X, 20, 2)", &xs);
        let last = whole.last().cloned().flatten().expect("defined");
        assert_eq!(last.field("middle"), Some(&Value::Num(30.5)));
    }

    #[test]
    fn constants_need_no_data_and_the_clock_does() {
        let value = |src: &str| evaluate_constant(&strat_lang::check_expression(src).expr.expect("checks"));
        assert_eq!(value("40 + 2"), Ok(Some(Value::Num(42.0))));
        assert_eq!(value("2 * $1_000 / 4"), Ok(Some(Value::Num(500.0))));
        assert_eq!(value("1 < 2 and not false"), Ok(Some(Value::Bool(true))));
        assert_eq!(value("rsi(SPY, 14)"), Err("no data for `SPY`: add `--data SPY=PATH`".to_string()));
        assert!(value("today() > 2024-01-01").is_err_and(|e| e.contains("needs a current bar")));
    }

    #[test]
    fn unsupported_values_are_errors_not_guesses() {
        let c = strat_lang::check_expression("holding(X)");
        let e = c.expr.expect("checks");
        let err = evaluate(&e, &closes(&[1.0])).expect_err("refused");
        assert!(err.contains("price history only"), "{err}");
        let c = strat_lang::check_expression("rsi(Y, 14)");
        let err = evaluate(&c.expr.expect("checks"), &closes(&[1.0])).expect_err("refused");
        assert_eq!(err, "no data for `Y`: add `--data Y=PATH`");
    }
}
