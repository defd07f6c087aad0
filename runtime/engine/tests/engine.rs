//! The engine end to end: the trigger index against plain evaluation, volume and news
//! triggers, the sandbox's limits as recorded failures, and execution records.

use chrono::{Duration, NaiveDate, NaiveDateTime};
use std::collections::BTreeMap;
use strat_engine::engine::{Config, backtest};
use strat_engine::market::Bar;
use strat_engine::news::{Article, Sentiment};
use strat_engine::report::{Outcome, Report};
use strat_engine::sandbox::Limits;

mod common;
use common::Scripted;

fn program(src: &str) -> strat_lang::ir::Program {
    let mut ws = strat_lang::Workspace::new();
    let id = ws.set_file("t.strat", src.as_bytes().to_vec());
    let c = ws.compile(&[id]);
    c.program.unwrap_or_else(|| panic!("{:?}", c.diagnostics))
}

/// The first day of the tests' data.
fn start() -> NaiveDate {
    NaiveDate::from_ymd_opt(2024, 1, 2).unwrap_or_default()
}

/// The `i`th session of the tests' data, at midnight.
fn day(i: i64) -> NaiveDateTime {
    common::session(start(), i).and_hms_opt(0, 0, 0).unwrap_or_default()
}

/// Which session of the tests' data `t` falls on.
fn index(t: NaiveDateTime) -> i64 {
    common::session_index(start(), t.date())
}

fn bars(closes: &[(f64, f64)]) -> BTreeMap<String, Vec<Bar>> {
    let bars = closes
        .iter()
        .enumerate()
        .map(|(i, (c, v))| Bar { time: day(i as i64), open: *c, high: *c, low: *c, close: *c, volume: *v })
        .collect();
    BTreeMap::from([("SPY".to_string(), bars)])
}

fn run(src: &str, data: &BTreeMap<String, Vec<Bar>>, config: &Config) -> Report {
    backtest(&program(src), data, config).expect("runs")
}

fn fired_days(r: &Report, graph: &str) -> Vec<i64> {
    r.executions.iter().filter(|e| e.graph == graph).map(|e| index(e.time)).collect()
}

/// A random walk of whole dollars, so prices often sit exactly on thresholds.
fn walk(n: usize) -> Vec<(f64, f64)> {
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut p = 100.0f64;
    (0..n)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            p = (p + (state % 5) as f64 - 2.0).max(1.0);
            (p, 1_000.0)
        })
        .collect()
}

#[test]
fn indexed_thresholds_fire_exactly_where_evaluation_does() {
    // `… and true` is not a plain threshold, so it is evaluated rather than indexed.
    let data = bars(&walk(400));
    for cond in [
        "price(SPY) > $100",
        "price(SPY) >= $100",
        "price(SPY) < $98",
        "price(SPY) <= $98",
        "$103 < price(SPY)",
        "price(SPY) crosses above $101",
        "price(SPY) crosses below $99",
    ] {
        let src = format!(
            "workflow Indexed {{ on {cond}\n log \"i\" }}\nworkflow Evaluated {{ on {cond} and true\n log \"e\" }}"
        );
        let r = run(&src, &data, &Config::default());
        assert_eq!(r.triggers, 2);
        assert_eq!(r.indexed_triggers, 1, "{cond}: one of the two sits in the index");
        let (a, b) = (fired_days(&r, "Indexed"), fired_days(&r, "Evaluated"));
        assert!(!a.is_empty(), "{cond} never fired");
        assert_eq!(a, b, "{cond}");
    }
}

#[test]
fn volume_triggers_fire_on_the_spike() {
    let mut closes = vec![(100.0, 1_000.0); 30];
    closes[25].1 = 5_000.0;
    let data = bars(&closes);
    let src = "workflow Above { on volume(SPY) > 2 * avg_volume(SPY, 5d)\n log \"a\" }
               workflow Spike { on volume_spike(SPY, 2)\n log \"s\" }";
    let r = run(src, &data, &Config::default());
    assert_eq!(fired_days(&r, "Above"), vec![25]);
    // The spike's average is over 20 days, so it is defined from day 19.
    assert_eq!(fired_days(&r, "Spike"), vec![25]);
}

fn article(day_index: i64, symbol: &str, title: &str, sentiment: Sentiment) -> Article {
    Article {
        published: day(day_index) + Duration::hours(9),
        symbol: symbol.into(),
        symbols: vec![symbol.into()],
        title: title.into(),
        summary: String::new(),
        sentiment,
        relevance: 0.9,
        source: "test".into(),
        url: String::new(),
    }
}

#[test]
fn news_triggers_fire_on_matching_articles_with_the_article() {
    let data = bars(&[(100.0, 1_000.0); 10]);
    let news = vec![
        article(2, "SPY", "SPY guidance raised", Sentiment::Positive),
        article(4, "SPY", "SPY quiet day", Sentiment::Positive),
        article(6, "QQQ", "QQQ guidance raised", Sentiment::Positive),
        article(7, "SPY", "SPY guidance cut", Sentiment::Negative),
    ];
    let src = r#"workflow N {
        on news(keywords: ["guidance"], symbols: [SPY], sentiment: positive, min_relevance: 0.5)
        log "read: {{trigger.article.title}}"
    }"#;
    let r = run(src, &data, &Config { news, ..Config::default() });
    let lines: Vec<(i64, &str)> = r.log.iter().map(|l| (index(l.time), l.message.as_str())).collect();
    // A daily bar stands for its whole session: news of its morning is known at its step.
    assert_eq!(lines, vec![(2, "read: SPY guidance raised")]);
    assert_eq!(r.executions[0].trigger.kind, "news");
}

#[test]
fn a_run_without_news_warns_that_news_triggers_cannot_fire() {
    let data = bars(&[(100.0, 1_000.0); 3]);
    let r = run("workflow N { on news(keywords: [\"x\"])\n log \"n\" }", &data, &Config::default());
    assert!(r.warnings.iter().any(|w| w.contains("news triggers of `N` cannot fire")), "{:?}", r.warnings);
}

#[test]
fn exceeding_the_step_limit_is_a_recorded_failure() {
    let data = bars(&[(100.0, 1_000.0); 3]);
    let src = "workflow W { on price(SPY) > $0\n if price(SPY) > $50 { log \"big\" } else { log \"small\" } }";
    let sandbox = Limits { max_steps: 2, ..Limits::default() };
    let r = run(src, &data, &Config { sandbox, ..Config::default() });
    assert_eq!(r.executions.len(), 3);
    for e in &r.executions {
        assert_eq!(e.status, Outcome::Failed);
        assert_eq!(e.error.as_deref(), Some("more than 2 steps in one execution"));
    }
    assert_eq!(r.stats["W"].failed_executions, 3);
    assert!(r.log.iter().all(|l| l.message == "failed: more than 2 steps in one execution"), "{:?}", r.log);
}

#[test]
fn a_spent_model_call_budget_skips_executions_with_no_order() {
    let mut closes: Vec<(f64, f64)> = (0..40).map(|i| (100.0 - f64::from(i), 1_000.0)).collect();
    closes.push((60.0, 1_000.0));
    let data = bars(&closes);
    let src = r#"limits { max_position $50_000 }
        model m = offline("rules")
        agent A { model m  context indicators(SPY)  prompt "buy the dip"  on rsi(SPY, 14) < 30 }"#;
    let sandbox = Limits { max_llm_calls: 3, ..Limits::default() };
    let r = run(src, &data, &Config { sandbox, ..Config::default() });
    let asked = r.executions.iter().filter(|e| e.llm_response.is_some()).count();
    assert_eq!(asked, 3);
    let skipped: Vec<_> = r.executions.iter().filter(|e| e.status == Outcome::Skipped).collect();
    assert!(!skipped.is_empty());
    assert!(
        skipped.iter().all(|e| e.error.as_deref() == Some("more than 3 model calls in the run") && e.orders.is_empty())
    );
}

#[test]
fn an_execution_records_its_path_and_the_gate_verdicts() {
    let data = bars(&[(100.0, 1_000.0), (101.0, 1_000.0), (102.0, 1_000.0)]);
    let src = "limits { max_position $150 }
        workflow W { on price(SPY) > $0
          if holding(SPY) { log \"held\" } else { buy SPY size 1 shares } }";
    let r = run(src, &data, &Config::default());
    let first = &r.executions[0];
    assert_eq!(first.trigger.text, "price(SPY) > $0");
    assert_eq!(first.trigger.reason, "price(SPY) > $0 fired for SPY at 2024-01-02 00:00:00");
    // start → condition (false) → order → end.
    assert_eq!(first.path.len(), 4);
    assert_eq!(first.orders, vec![1]);
    assert!(first.validation[0].approved);
    // At day 1 the buy has filled (at the open of 101): the other branch runs.
    let second = &r.executions[1];
    assert!(second.orders.is_empty() && second.validation.is_empty());
    assert_eq!(r.log[0].message, "held");
}

#[test]
fn a_team_members_own_orders_stay_within_its_allocation() {
    // A falling market: RSI(14) stays under 30, so A asks to buy 5% of the portfolio each day.
    let closes: Vec<(f64, f64)> = (0..40).map(|i| (200.0 - 2.0 * f64::from(i), 1_000.0)).collect();
    let data = bars(&closes);
    let src = r#"limits { max_position $1_000_000 }
        model m = offline("rules")
        agent A { model m  context indicators(SPY)  prompt "a"  on rsi(SPY, 14) < 30 }
        agent B { model m  context indicators(SPY)  prompt "b" }
        team T { members A, B  coordination parallel  allocate A 12%, B 88% }"#;
    let r = run(src, &data, &Config::default());
    let mine: Vec<_> = r.orders.iter().filter(|o| o.by == "A").collect();
    let filled = mine.iter().filter(|o| o.status == strat_engine::broker::Status::Filled).count();
    let refused: Vec<&str> = mine
        .iter()
        .filter(|o| o.status == strat_engine::broker::Status::Rejected)
        .filter_map(|o| o.reason.as_deref())
        .collect();
    // Two buys of about 5% fit in 12%; the third does not.
    assert_eq!(filled, 2, "{mine:?}");
    assert!(!refused.is_empty() && refused.iter().all(|r| r.contains("over its 12% allocation")), "{refused:?}");
}

/// The offline stand-in, with a price on each answer: what a paid provider's replies carry.
struct Priced(strat_engine::offline::Offline, f64);

impl strat_engine::llm::Llm for Priced {
    fn label(&self) -> String {
        "priced stand-in".into()
    }
    fn complete(
        &mut self,
        r: &strat_engine::llm::LlmRequest,
    ) -> Result<strat_engine::llm::LlmReply, strat_engine::llm::LlmError> {
        let mut reply = self.0.complete(r)?;
        reply.cost = self.1;
        reply.input_tokens = 100;
        Ok(reply)
    }
}

#[test]
fn an_agents_cost_budget_is_enforced_fail_closed() {
    let closes: Vec<(f64, f64)> = (0..40).map(|i| (100.0 - f64::from(i), 1_000.0)).collect();
    let data = bars(&closes);
    let src = r#"limits { max_position $50_000 }
        model m = offline("rules")
        agent A { model m  context indicators(SPY)  prompt "a"  on rsi(SPY, 14) < 30 }
        agent B { model m  context indicators(SPY)  prompt "b"  on rsi(SPY, 14) < 30 }"#;
    let sandbox = Limits { max_agent_cost: Some(0.05), ..Limits::default() };
    let config = Config { sandbox, ..Config::default() };
    let mut llm = Priced(strat_engine::offline::Offline, 0.02);
    let r =
        strat_engine::engine::backtest_with(&program(src), &data, &config, &mut llm, &mut strat_engine::engine::Quiet)
            .expect("runs");
    for agent in ["A", "B"] {
        let mine: Vec<_> = r.executions.iter().filter(|e| e.graph == agent).collect();
        let asked = mine.iter().filter(|e| e.llm_response.is_some()).count();
        // 0.02 a call: after three calls (0.06) the agent has spent its 0.05; each agent has its own.
        assert_eq!(asked, 3, "{agent}");
        assert!((r.stats[agent].cost - 0.06).abs() < 1e-9, "{agent}: {}", r.stats[agent].cost);
        let skipped = mine.iter().filter(|e| e.status == Outcome::Skipped).count();
        assert_eq!(skipped, mine.len() - 3, "{agent}");
        assert!(
            mine.iter()
                .filter(|e| e.status == Outcome::Skipped)
                .all(|e| e.error.as_deref() == Some("more than $0.05 of model calls for this agent in the run"))
        );
    }
}

/// The offline stand-in, noting the size of each batch of calls it is given.
struct Batches(strat_engine::offline::Offline, Vec<usize>);

impl strat_engine::llm::Llm for Batches {
    fn label(&self) -> String {
        "batch-counting stand-in".into()
    }
    fn complete(
        &mut self,
        r: &strat_engine::llm::LlmRequest,
    ) -> Result<strat_engine::llm::LlmReply, strat_engine::llm::LlmError> {
        self.0.complete(r)
    }
    fn complete_all(
        &mut self,
        rs: &[strat_engine::llm::LlmRequest],
    ) -> Vec<Result<strat_engine::llm::LlmReply, strat_engine::llm::LlmError>> {
        self.1.push(rs.len());
        rs.iter().map(|r| self.0.complete(r)).collect()
    }
}

#[test]
fn a_vote_asks_its_members_together_and_a_pipeline_one_by_one() {
    let closes: Vec<(f64, f64)> = (0..20).map(|i| (100.0 - f64::from(i), 1_000.0)).collect();
    let data = bars(&closes);
    for (mode, want) in [("parallel", vec![3]), ("sequential", vec![1, 1, 1]), ("hierarchical", vec![3, 1])] {
        let extra = if mode == "hierarchical" { "supervisor S" } else { "" };
        let src = format!(
            r#"limits {{ max_position $50_000 }}
            model m = offline("rules")
            agent A {{ model m  context indicators(SPY)  prompt "a" }}
            agent B {{ model m  context indicators(SPY)  prompt "b" }}
            agent C {{ model m  context indicators(SPY)  prompt "c" }}
            agent S {{ model m  context indicators(SPY)  prompt "s" }}
            team T {{ members A, B, C  coordination {mode}  {extra}  on price(SPY) < $82 throttle 1 per 30d }}"#
        );
        let mut llm = Batches(strat_engine::offline::Offline, Vec::new());
        let r = strat_engine::engine::backtest_with(
            &program(&src),
            &data,
            &Config::default(),
            &mut llm,
            &mut strat_engine::engine::Quiet,
        )
        .expect("runs");
        assert_eq!(r.executions.len(), 1, "{mode}");
        // The stand-in buys on RSI under 35 in this falling market, so the pipeline runs through.
        assert_eq!(llm.1, want, "{mode}");
        assert_eq!(r.executions[0].calls.len(), want.iter().sum::<usize>(), "{mode}");
    }
}

#[test]
fn agents_that_fire_on_the_same_bar_are_asked_together() {
    let closes: Vec<(f64, f64)> = (0..20).map(|i| (100.0 - f64::from(i), 1_000.0)).collect();
    let data = bars(&closes);
    let src = r#"limits { max_position $50_000 }
        model m = offline("rules")
        agent A { model m  context indicators(SPY)  prompt "a"  on price(SPY) < $90 throttle 1 per 30d }
        agent B { model m  context indicators(SPY)  prompt "b"  on price(SPY) < $90 throttle 1 per 30d }
        agent C { model m  context indicators(SPY)  prompt "c"  on price(SPY) < $85 throttle 1 per 30d }"#;
    let mut llm = Batches(strat_engine::offline::Offline, Vec::new());
    let r = strat_engine::engine::backtest_with(
        &program(src),
        &data,
        &Config::default(),
        &mut llm,
        &mut strat_engine::engine::Quiet,
    )
    .expect("runs");
    // A and B cross $90 on the same bar and go out as one batch; C crosses $85 later, alone.
    assert_eq!(llm.1, vec![2, 1]);
    let order: Vec<&str> = r.executions.iter().map(|e| e.graph.as_str()).collect();
    assert_eq!(order, ["A", "B", "C"]);
    assert!(r.executions.iter().all(|e| e.llm_response.is_some()));
    assert_eq!(r.executions[0].time, r.executions[1].time);
    assert!(r.executions[2].time > r.executions[0].time);
}

/// `days` sessions of SPY's one-minute bars from the simulated market.
fn simulated_minutes(days: usize) -> Vec<Bar> {
    let config = strat_engine::market::simulated::Config { days, bar_minutes: 1, ..Default::default() };
    strat_engine::market::simulated::simulate(&config).bars.remove("SPY").unwrap_or_default()
}

/// Watches every step, which keeps the engine on its step-by-step path.
struct Watch(usize);

impl strat_engine::engine::Observer for Watch {
    fn step(&mut self, _: &strat_engine::store::StepView<'_>) {
        self.0 += 1;
    }
}

#[test]
fn quiet_stretches_take_the_same_decisions_as_step_by_step() {
    // A year of one-minute bars: a daily bar trigger (quiet between closes), an hourly
    // one with bracket and limit orders left open across quiet bars, a throttled threshold, and
    // a crossing of a price with an average (its operands read the bar, not only slots).
    let spy = simulated_minutes(250);
    let data = BTreeMap::from([("SPY".to_string(), spy)]);
    let sma = include_str!("../../../examples/sma_crossover.strat").to_string();
    let first = data["SPY"][0].close;
    let sources = [
        sma,
        "limits l { max_allocation 100%  allow [SPY] }
         workflow Hourly {
           limits l
           on bar(SPY, 1h)
           if not holding(SPY) { buy SPY size 10 stop_loss 0.5% take_profit 0.5% }
           else { sell SPY size 5 limit close(SPY) * 1.002 tif gtc }
         }"
        .to_string(),
        format!(
            "limits l {{ max_allocation 100%  allow [SPY] }}
             workflow Threshold {{
               limits l
               on price(SPY) > ${first} throttle 1 per 2h
               if holding(SPY) {{ sell SPY size all }} else {{ buy SPY size 3 }}
             }}"
        ),
        "limits l { max_allocation 100%  allow [SPY] }
         workflow Cross {
           limits l
           on bar(SPY, 1d)
           if close(SPY) crosses above sma(SPY, 50) { buy SPY size 2 }
           else if close(SPY) crosses below sma(SPY, 50) and holding(SPY) { sell SPY size all }
         }"
        .to_string(),
    ];
    for src in &sources {
        assert_quiet_matches_stepped(src, &data);
    }
}

/// Backtests `src` with nobody watching (quiet stretches) and watched step by step, and
/// requires the same report; returns how many orders it placed.
fn assert_quiet_matches_stepped(src: &str, data: &BTreeMap<String, Vec<Bar>>) -> usize {
    let p = program(src);
    let config = Config::default();
    let quiet = backtest(&p, data, &config).expect("runs");
    let mut watch = Watch(0);
    let stepped =
        strat_engine::engine::backtest_with(&p, data, &config, &mut strat_engine::offline::Offline, &mut watch)
            .expect("runs");
    assert_eq!(watch.0, data["SPY"].len(), "the watched run went step by step");
    assert!(!quiet.orders.is_empty(), "the program trades, so the comparison means something:\n{src}");
    assert_eq!(quiet.equity_curve.len(), data["SPY"].len());
    let json = |r: &Report| serde_json::to_string(r).expect("serialises");
    assert_eq!(json(&quiet), json(&stepped), "{src}");
    quiet.orders.len()
}

#[test]
fn quiet_stretches_keep_crossings_through_warm_ups_flat_prices_and_long_runs() {
    // Whole-dollar prices on the simulated market's minute times; every third session is flat,
    // so both averages of a window of equal prices are equal and the crossing's difference is
    // exactly zero (it must carry the sign before it). Weekly bars give runs of about 1,950
    // quiet steps (several batches), a long average stays undefined across many runs, MACD's
    // line and signal are two slots of one instance, a crossing of a constant is read
    // directly, and one of a difference (a tree) is evaluated step by step inside the runs.
    let mut price = 100.0f64;
    let mut seed = 7u64;
    let mut last_day = None;
    let mut flat = false;
    let spy: Vec<Bar> = simulated_minutes(120)
        .iter()
        .map(|b| {
            let d = b.time.date();
            if last_day != Some(d) {
                last_day = Some(d);
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                flat = (seed >> 33).is_multiple_of(3);
            }
            if !flat {
                seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
                price = (price + [-1.0, 0.0, 1.0][((seed >> 33) % 3) as usize]).max(1.0);
            }
            Bar { time: b.time, open: price, high: price, low: price, close: price, volume: b.volume }
        })
        .collect();
    let flat_closes = spy.windows(2).filter(|w| w[0].close == w[1].close).count();
    assert!(flat_closes > spy.len() / 3, "{flat_closes} of {} steps are flat", spy.len());
    let data = BTreeMap::from([("SPY".to_string(), spy)]);
    let workflow = |on: &str, up: &str, down: &str| {
        format!(
            "limits l {{ max_allocation 100%  allow [SPY] }}
             workflow W {{
               limits l
               on {on}
               if {up} and not holding(SPY) {{ buy SPY size 10 }}
               else if {down} and holding(SPY) {{ sell SPY size all }}
             }}"
        )
    };
    let cases = [
        workflow("bar(SPY, 1d)", "sma(SPY, 10) crosses above sma(SPY, 30)", "sma(SPY, 10) crosses below sma(SPY, 30)"),
        // A week's bar closes once a week, where a crossing of that very minute is rare: the
        // comparison is what a weekly rule reads.
        workflow("bar(SPY, 1w)", "macd(SPY).macd > macd(SPY).signal", "macd(SPY).macd < macd(SPY).signal"),
        workflow(
            "bar(SPY, 1h)",
            "ema(SPY, 5) crosses above sma(SPY, 1200)",
            "ema(SPY, 5) crosses below sma(SPY, 1200)",
        ),
        workflow("bar(SPY, 1h)", "rsi(SPY, 14) crosses above 50", "rsi(SPY, 14) crosses below 50"),
        workflow(
            "bar(SPY, 1h)",
            "close(SPY) - sma(SPY, 20) crosses above $0",
            "close(SPY) - sma(SPY, 20) crosses below $0",
        ),
    ];
    let orders: Vec<usize> = cases.iter().map(|src| assert_quiet_matches_stepped(src, &data)).collect();
    assert!(orders.iter().all(|&n| n >= 2), "each case buys and sells: {orders:?}");
}

#[test]
fn a_workflow_that_names_trigger_reads_it_and_one_that_does_not_runs_the_same() {
    // The `trigger` record is built only for graphs that can read it: one that names it in an
    // order and a log sees it; one that does not decides as before.
    let data = bars(&[(100.0, 1_000.0), (101.0, 1_000.0), (102.0, 1_000.0)]);
    let src = "limits { max_position $500 }
        workflow W { on price(SPY) > $101
          log \"{{trigger.symbol}}: {{trigger.kind}} ({{trigger.reason}})\"
          buy trigger.symbol size 1 shares }";
    let r = run(src, &data, &Config::default());
    assert_eq!(
        r.log.iter().map(|l| l.message.as_str()).collect::<Vec<_>>(),
        ["SPY: condition (price(SPY) > $101 fired for SPY at 2024-01-04 00:00:00)"]
    );
    assert_eq!(r.orders.len(), 1);
    assert_eq!(r.orders[0].symbol, "SPY");
    let plain = run(
        "limits { max_position $500 }
        workflow W { on price(SPY) > $101\n log \"bought\"\n buy SPY size 1 shares }",
        &data,
        &Config::default(),
    );
    assert_eq!(plain.orders.len(), 1);
    assert_eq!(plain.executions[0].trigger, r.executions[0].trigger, "the execution record keeps its trigger");
}

#[test]
fn a_workflow_whose_triggers_fire_together_runs_once_for_the_first_in_the_file() {
    // One trigger is throttled (admitted one by one), the other is not (handed out by the
    // index ready made); whichever order they come in, the record is the first declared.
    let data = bars(&[(100.0, 1_000.0), (101.0, 1_000.0), (102.0, 1_000.0)]);
    let throttled = "price(SPY) > $90 throttle 1 per 1h";
    let free = "price(SPY) > $80";
    for (first, second) in [(throttled, free), (free, throttled)] {
        let src = format!("workflow W {{\n  on {first}\n  on {second}\n  log \"seen\"\n}}");
        let r = run(&src, &data, &Config::default());
        assert_eq!(fired_days(&r, "W"), vec![0, 1, 2], "{src}");
        let texts: Vec<&str> = r.executions.iter().map(|e| e.trigger.text.as_str()).collect();
        // The record names the condition (its throttle is not part of it).
        let condition = first.split(" throttle").next().unwrap_or(first);
        assert_eq!(texts, vec![condition; 3], "{src}");
    }
}

#[test]
fn min_confidence_refuses_a_decision_without_confidence_and_one_outside_zero_to_one() {
    let src = r#"limits { max_position $50_000  min_confidence 0.6 }
        model m = offline("rules")
        agent A { model m  context indicators(SPY)  prompt "a"  on bar(SPY, 1d) throttle 1 per 30d }"#;
    let data = bars(&[(100.0, 1_000.0); 3]);
    let cases = [
        (
            r#"{"decision": "buy", "symbol": "SPY", "quantity": 1, "reasoning": "r"}"#,
            "the decision states no confidence, and the limits require min_confidence 0.6",
        ),
        (
            r#"{"decision": "buy", "symbol": "SPY", "quantity": 1, "reasoning": "r", "confidence": 1.5}"#,
            "confidence 1.5 is not a number from 0 to 1",
        ),
        (r#"{"decision": "buy", "symbol": "SPY", "quantity": 1, "reasoning": "r", "confidence": 0.8}"#, ""),
    ];
    for (reply, why) in cases {
        let mut llm = Scripted(reply);
        let r = strat_engine::engine::backtest_with(
            &program(src),
            &data,
            &Config::default(),
            &mut llm,
            &mut strat_engine::engine::Quiet,
        )
        .expect("runs");
        let ex = &r.executions[0];
        if why.is_empty() {
            assert_eq!(ex.status, Outcome::Success, "{reply}: {ex:?}");
            assert_eq!(r.orders.len(), 1);
        } else {
            assert_eq!(ex.status, Outcome::Rejected, "{reply}");
            let said = ex.error.clone().or_else(|| r.orders.first().and_then(|o| o.reason.clone()));
            assert_eq!(said.as_deref(), Some(why), "{reply}");
        }
    }
}

#[test]
fn executions_of_one_bar_run_in_the_files_order_not_by_name() {
    let src = "limits { max_position $50_000 }
        workflow Zed { on bar(SPY, 1d)\n log \"zed\" }
        workflow Alpha { on bar(SPY, 1d)\n log \"alpha\" }
        workflow Mid { on bar(SPY, 1d)\n log \"mid\" }";
    let r = run(src, &bars(&[(100.0, 1_000.0); 2]), &Config::default());
    let order: Vec<&str> = r.executions.iter().take(3).map(|e| e.graph.as_str()).collect();
    assert_eq!(order, vec!["Zed", "Alpha", "Mid"]);
}

#[test]
fn a_crossing_over_trigger_symbol_fires_where_the_one_naming_the_symbol_does() {
    let named = "limits { max_allocation 100% }
        workflow X { on bar(SPY, 1d)
          if sma(SPY, 3) crosses above sma(SPY, 8) and not holding(SPY) { buy SPY size 1 shares }
          else if sma(SPY, 3) crosses below sma(SPY, 8) and holding(SPY) { sell SPY size all } }";
    let (head, body) = named.split_at(named.find("if ").unwrap_or(0));
    let body = body.replace("(SPY", "(trigger.symbol").replace("buy SPY", "buy trigger.symbol");
    let by_trigger = format!("{head}{}", body.replace("sell SPY", "sell trigger.symbol"));
    assert!(by_trigger.contains("sma(trigger.symbol, 3) crosses above sma(trigger.symbol, 8)"));
    let mut data = bars(&walk(400));
    let other: Vec<Bar> = data["SPY"].iter().map(|b| Bar { close: 500.0 - b.close, ..*b }).collect();
    data.insert("QQQ".to_string(), other);
    let a = run(named, &data, &Config::default());
    let b = run(&by_trigger, &data, &Config::default());
    let sides = |r: &Report| r.orders.iter().map(|o| (o.symbol.clone(), format!("{:?}", o.side))).collect::<Vec<_>>();
    assert!(a.orders.len() >= 6, "the walk crosses often: {} orders", a.orders.len());
    assert_eq!(sides(&b), sides(&a));
    assert_eq!(fired_days(&b, "X"), fired_days(&a, "X"));
    // Over two symbols, each crossing is its own symbol's: the same orders as two workflows.
    let both = run(&by_trigger.replace("bar(SPY, 1d)", "bar([SPY, QQQ], 1d)"), &data, &Config::default());
    let qqq = run(&named.replace("SPY", "QQQ"), &data, &Config::default());
    let mut want = [sides(&a), sides(&qqq)].concat();
    let mut got = sides(&both);
    want.sort();
    got.sort();
    assert!(qqq.orders.len() >= 6);
    assert_eq!(got, want);
}

#[test]
fn a_condition_over_an_inline_list_fires_as_over_the_same_universe() {
    let mut data = bars(&walk(300));
    let other: Vec<Bar> = data["SPY"].iter().map(|b| Bar { close: 400.0 - b.close, ..*b }).collect();
    data.insert("QQQ".to_string(), other);
    let declared = "universe pair = [SPY, QQQ]\nworkflow W {\n  on rsi(pair, 5) < 45\n  log \"{{trigger.symbol}}\"\n}";
    let inline = "workflow W {\n  on rsi([SPY, QQQ], 5) < 45\n  log \"{{trigger.symbol}}\"\n}";
    let (a, b) = (run(declared, &data, &Config::default()), run(inline, &data, &Config::default()));
    let seen = |r: &Report| r.log.iter().map(|l| (l.time, l.message.clone())).collect::<Vec<_>>();
    assert!(seen(&a).len() > 20, "the walk dips often: {}", seen(&a).len());
    assert!(seen(&a).iter().any(|(_, s)| s == "QQQ") && seen(&a).iter().any(|(_, s)| s == "SPY"));
    assert_eq!(seen(&b), seen(&a));
}

#[test]
fn max_volatility_judges_the_annualised_volatility() {
    // Daily returns of +1% and -1% by turns: a daily deviation of about 1%, about 15.9% a year (× √252).
    let mut closes = vec![(100.0, 1_000.0)];
    for i in 0..40 {
        let last = closes[closes.len() - 1].0;
        closes.push((if i % 2 == 0 { last * 1.01 } else { last * 0.99 }, 1_000.0));
    }
    let data = bars(&closes);
    let verdict = |max: &str| {
        let src = format!(
            "limits {{ max_position $100_000\n max_volatility {max} }}\nworkflow W {{ on bar(SPY, 1d)\n buy SPY size 1 shares }}"
        );
        let r = run(&src, &data, &Config::default());
        let last = r.executions.last().expect("executions");
        (last.validation[0].approved, last.validation[0].reason().map(str::to_string))
    };
    assert_eq!(verdict("20%"), (true, None));
    let (approved, reason) = verdict("10%");
    assert!(!approved);
    let reason = reason.unwrap_or_default();
    assert!(reason.starts_with("SPY's annualised volatility is 15.9%"), "{reason}");
    assert!(reason.ends_with("over max_volatility 10%"), "{reason}");
}

#[test]
fn descriptions_and_roles_are_kept_to_the_report() {
    let src = "model m = offline(\"rules\")
        agent A { description \"reads the tape\"\n role \"analyst\"\n model m\n prompt \"p\"\n output { score: number } }
        agent B { role \"validator\"\n model m\n prompt \"q\"\n output { score: number } }
        team T { description \"two views\"\n members A, B\n coordination sequential\n on bar(SPY, 1d) }
        workflow W { description \"logs\"\n on bar(SPY, 1d)\n log \"x\" }";
    let p = program(src);
    let roles: Vec<_> =
        p.graphs.iter().map(|g| (g.name.as_str(), g.role.as_deref(), g.description.as_deref())).collect();
    assert!(roles.contains(&("A", Some("analyst"), Some("reads the tape"))), "{roles:?}");
    let r = run(src, &bars(&walk(3)), &Config::default());
    assert_eq!(r.stats["B"].role.as_deref(), Some("validator"));
    assert_eq!(r.stats["T"].description.as_deref(), Some("two views"));
    assert_eq!(r.stats["W"].description.as_deref(), Some("logs"));
}

#[test]
fn a_supervisor_sees_the_proposals_and_members_the_teams_limits_undeclared() {
    let closes: Vec<(f64, f64)> = (0..20).map(|i| (100.0 - f64::from(i), 1_000.0)).collect();
    let src = r#"limits desk { max_position $7_777 }
        model m = offline("rules")
        agent A { model m  context indicators(SPY)  prompt "a" }
        agent B { model m  context indicators(SPY)  prompt "b" }
        agent S { model m  context portfolio  prompt "s" }
        team T { members A, B  coordination hierarchical  supervisor S  limits desk
                 on price(SPY) < $82 throttle 1 per 30d }"#;
    let r = run(src, &bars(&closes), &Config::default());
    let calls = &r.executions[0].calls;
    let names: Vec<&str> = calls.iter().map(|c| c.agent.as_str()).collect();
    assert_eq!(names, ["A", "B", "S"]);
    let shown = calls[2].context["previous_decisions"].as_array().cloned().unwrap_or_default();
    let proposers: Vec<&str> = shown.iter().filter_map(|p| p["agent_name"].as_str()).collect();
    assert_eq!(proposers, ["A", "B"], "the supervisor decides on the proposals");
    for c in calls {
        assert_eq!(c.context["limits"]["max_position"], 7777.0, "{} is shown the team's limits", c.agent);
    }
    for member in ["A", "B", "S"] {
        assert_eq!(r.stats[member].total_executions, 1, "{member} counts the time it was asked");
    }
}

#[test]
fn trading_from_a_day_reads_the_values_the_whole_history_gives() {
    let src = "workflow W {\n on bar(SPY, 1d)\n log \"{{rsi(SPY, 5)}} {{sma(SPY, 20)}} {{price(SPY)}}\"\n}";
    let one = bars(&walk(200));
    let mut two = one.clone();
    let other: Vec<Bar> = one["SPY"].iter().map(|b| Bar { close: 300.0 - b.close, ..*b }).collect();
    two.insert("QQQ".to_string(), other);
    for data in [one, two] {
        let full = run(src, &data, &Config::default());
        let from = day(120);
        let config = Config { trade_from: Some(from), ..Config::default() };
        let part = run(src, &data, &config);
        let after = |r: &Report| r.log.iter().filter(|l| l.time >= from).map(|l| l.message.clone()).collect::<Vec<_>>();
        // Sessions only: the walk's days include weekends, on which `bar(SPY, 1d)` does not fire.
        assert_eq!(part.log.len(), after(&full).len(), "{} symbols", data.len());
        assert!(part.log.len() > 50);
        assert_eq!(after(&part), after(&full), "{} symbols", data.len());
        assert!(part.executions.iter().all(|e| e.time >= from));
        assert_eq!(part.equity_curve.len(), 80);
    }
}

#[test]
fn performance_lists_the_recent_trades_as_of_now() {
    // Buy one day, sell the next: a closed trade every two days.
    let src = "limits { max_position $5_000 }
        workflow W { on bar(SPY, 1d)
          log \"{{performance.recent_trades}}\"
          if holding(SPY) { sell SPY size all } else { buy SPY size 1 shares } }";
    let r = run(src, &bars(&walk(60)), &Config::default());
    let said: Vec<&str> = r.log.iter().map(|l| l.message.as_str()).collect();
    assert!(said[0].is_empty() || said[0] == "[]", "nothing sold yet: {}", said[0]);
    let last = said[said.len() - 1];
    assert_eq!(last.matches("sell").count(), 10, "bounded to ten: {last}");
    assert!(last.contains("SPY") && last.contains("pnl"), "{last}");
    // Point in time: each day lists only what was sold before it.
    let counts: Vec<usize> = said.iter().map(|s| s.matches("sell").count()).collect();
    assert!(counts.windows(2).all(|w| w[1] >= w[0] || w[1] == 10), "{counts:?}");
    assert_eq!(&counts[..5], [0, 0, 1, 1, 2], "a sale fills the morning after it is decided");
}

#[test]
fn a_day_long_bar_fires_once_a_session_and_never_on_a_closed_day() {
    // One-minute bars around the clock: Independence Day 2024 (closed), the Friday after
    // (open to 16:00, then after-hours bars) and the Saturday.
    let mut minutes = Vec::new();
    for d in 4..=6 {
        let day = NaiveDate::from_ymd_opt(2024, 7, d).unwrap_or_default();
        for m in 0..(24 * 60) {
            let time = day.and_hms_opt(0, 0, 0).unwrap_or_default() + Duration::minutes(m);
            minutes.push(Bar { time, open: 100.0, high: 100.0, low: 100.0, close: 100.0, volume: 1.0 });
        }
    }
    let data = BTreeMap::from([("SPY".to_string(), minutes)]);
    let r = run("workflow W {\n on bar(SPY, 1d)\n log \"close\"\n}", &data, &Config::default());
    let fired: Vec<String> = r.log.iter().map(|l| l.time.to_string()).collect();
    assert_eq!(fired, ["2024-07-05 15:59:00"], "the session's last bar, once");
    let warning = r.warnings.iter().find(|w| w.contains("the exchange was closed")).expect("closed days reported");
    assert!(warning.contains("on 2 days") && warning.contains("the first 2024-07-04"), "{warning}");
    // Daily bars on a Saturday are not sessions either.
    let daily: Vec<Bar> = (0..7)
        .map(|i| {
            let time = NaiveDate::from_ymd_opt(2024, 7, 8 + i).and_then(|d| d.and_hms_opt(0, 0, 0)).unwrap_or_default();
            Bar { time, open: 100.0, high: 100.0, low: 100.0, close: 100.0, volume: 1.0 }
        })
        .collect();
    let r = run(
        "workflow W {\n on bar(SPY, 1d)\n log \"close\"\n}",
        &BTreeMap::from([("SPY".to_string(), daily)]),
        &Config::default(),
    );
    let days: Vec<String> = r.log.iter().map(|l| l.time.date().to_string()).collect();
    assert_eq!(days, ["2024-07-08", "2024-07-09", "2024-07-10", "2024-07-11", "2024-07-12"]);
}
