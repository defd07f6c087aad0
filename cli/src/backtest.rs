//! `strat backtest`: run a file's workflows over historical data with the paper broker.

use crate::{ColorChoice, exit, files};
use std::io::Write;
use std::path::PathBuf;
use strat_engine::broker::Status;
use strat_engine::engine::{Config, Observer, backtest_with};
use strat_engine::report::Report;
use strat_engine::store::StepView;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// The strategy file
    file: PathBuf,
    /// Price data for a symbol, as SYMBOL=PATH (repeat for several symbols), or
    /// polygon:SYMBOL[:minute] to fetch its bars from Polygon for the days of --from and --to
    /// (POLYGON_API_KEY; kept under $STRAT_HOME/cache, so a second run makes no request)
    #[arg(long = "data", value_name = "SYMBOL=PATH", required = true)]
    data: Vec<String>,
    #[command(flatten)]
    csv: crate::data::CsvFlags,
    #[command(flatten)]
    period: crate::paper::Period,
    #[command(flatten)]
    paper: crate::paper::Paper,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// When to use colour in error reports
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = crate::llm::parse_mode, help = crate::llm::HELP)]
    llm: crate::llm::Mode,
    #[command(flatten)]
    budgets: crate::llm::Budgets,
    /// Turn these outcomes into exit code 1, for CI: `failures` (any execution that failed)
    #[arg(long, value_enum, value_name = "WHAT")]
    deny: Vec<Deny>,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Deny {
    /// An execution failed (a model call that could not be made, a budget, a sandbox limit).
    Failures,
}

pub fn run(args: &Args) -> u8 {
    let costs = match args.period.check().and_then(|()| args.paper.costs()) {
        Ok(c) => c,
        Err(code) => return code,
    };
    let program = match files::compile(&args.file, args.color) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let mut data = match crate::history::load_all(&args.data, &args.csv, &args.period) {
        Ok(d) => d,
        Err(code) => return code,
    };
    args.period.select(&mut data);
    let sandbox = match args.budgets.apply(strat_engine::sandbox::Limits::default()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let trade_from = args.period.trade_from();
    let config = Config { cash: args.paper.cash, costs, sandbox, trade_from, ..Config::default() };
    let mut models = match crate::llm::models(&args.llm, &program, &config.sandbox) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let mut progress = Progress::new();
    let report = match backtest_with(&program, &data, &config, models.llm.as_mut(), &mut progress) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FOUND;
        }
    };
    for w in &report.warnings {
        eprintln!("warning: {w}");
    }
    if let Err(e) = models.finish() {
        eprintln!("error: {e}");
        return exit::USAGE;
    }
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::with_capacity(1 << 16, stdout.lock());
    let written = match args.format {
        Format::Json => crate::report_json::write_compact(&report, &mut out).and_then(|()| writeln!(out)),
        Format::Human => human(&report, &args.file, &data, args.period.from, &mut out),
    };
    match written.and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: cannot write output: {e}");
            exit::USAGE
        }
        _ => {
            let failed: u64 = report.stats.values().map(|s| s.failed_executions).sum();
            if failed > 0 && args.deny.contains(&Deny::Failures) {
                eprintln!("error: {failed} executions failed (--deny failures)");
                exit::FOUND
            } else {
                exit::OK
            }
        }
    }
}

/// The executions that failed, grouped by what went wrong: (how many, the reason as the first
/// of them gave it), most first. Reasons that differ only in a request id or a number (the
/// seconds a circuit breaker stays open) are one group.
fn failures(r: &Report) -> Vec<(usize, String)> {
    let mut groups: std::collections::BTreeMap<String, (usize, String)> = std::collections::BTreeMap::new();
    for e in r.executions.iter().filter(|e| e.status == strat_engine::report::Outcome::Failed) {
        let shown = without_request_ids(e.error.as_deref().unwrap_or("no reason recorded"));
        let key: String = shown.chars().map(|c| if c.is_ascii_digit() { '#' } else { c }).collect();
        groups.entry(key).or_insert((0, shown)).0 += 1;
    }
    let mut groups: Vec<(usize, String)> = groups.into_values().collect();
    groups.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
    groups
}

/// A reason without the providers' ` (request …)` ids, which differ from call to call.
fn without_request_ids(reason: &str) -> String {
    let mut out = String::with_capacity(reason.len());
    let mut rest = reason;
    while let Some(at) = rest.find(" (request ") {
        out.push_str(&rest[..at]);
        rest = rest[at..].find(')').map_or("", |end| &rest[at + end + 1..]);
    }
    out.push_str(rest);
    out
}

/// A progress bar on standard error, shown only on a terminal and only once a run has taken
/// more than a second.
struct Progress {
    started: std::time::Instant,
    shown: bool,
    terminal: bool,
}

impl Progress {
    fn new() -> Progress {
        use std::io::IsTerminal;
        Progress { started: std::time::Instant::now(), shown: false, terminal: std::io::stderr().is_terminal() }
    }
}

impl Observer for Progress {
    fn step(&mut self, s: &StepView<'_>) {
        let total = s.total.unwrap_or(0).max(1);
        if !s.index.is_multiple_of(1024) && s.index != total {
            return;
        }
        if !self.shown && self.started.elapsed() < std::time::Duration::from_secs(1) {
            return;
        }
        self.shown = true;
        let width = 30;
        let filled = (s.index * width / total).min(width);
        eprint!(
            "\r[{}{}] {:>3}% {}",
            "=".repeat(filled),
            " ".repeat(width - filled),
            s.index * 100 / total,
            s.time.date()
        );
        if s.index == total {
            eprintln!();
        }
    }

    fn watching(&self) -> bool {
        self.terminal
    }

    fn wants_orders(&self) -> bool {
        false
    }
}

/// Parses `--commission` and `--slippage`.
pub(crate) fn money(x: f64) -> String {
    strat_engine::value::money(x)
}

fn human(
    r: &Report,
    file: &std::path::Path,
    data: &std::collections::BTreeMap<String, Vec<strat_engine::market::Bar>>,
    from: Option<chrono::NaiveDate>,
    out: &mut impl Write,
) -> std::io::Result<()> {
    let traded = |b: &&strat_engine::market::Bar| from.is_none_or(|f| b.time.date() >= f);
    let first = data.values().filter_map(|b| b.iter().find(traded)).map(|b| b.time.date()).min();
    let last = data.values().filter_map(|b| b.last()).map(|b| b.time.date()).max();
    let bars: usize = data.values().map(|b| b.iter().filter(traded).count()).sum();
    let warm: usize = data.values().map(Vec::len).sum::<usize>() - bars;
    let symbols: Vec<&str> = data.keys().map(String::as_str).collect();
    writeln!(out, "Backtest of {} on {}", files::display(file), symbols.join(", "))?;
    if let (Some(a), Some(b)) = (first, last) {
        let warmed = if warm > 0 { format!(", the {warm} before warming the indicators") } else { String::new() };
        writeln!(out, "  period          {a} to {b} ({bars} bars{warmed})")?;
    }
    let filled = r.orders.iter().filter(|o| o.status == Status::Filled).count();
    let rejected = r.orders.iter().filter(|o| o.status == Status::Rejected).count();
    writeln!(out, "  initial cash    {}", money(r.initial_cash))?;
    writeln!(out, "  final equity    {}", money(r.final_equity))?;
    writeln!(out, "  return          {:+.2}%", r.r#return)?;
    writeln!(out, "  max drawdown    {:.2}%", r.max_drawdown)?;
    writeln!(out, "  sharpe          {}", r.sharpe.map_or("n/a".to_string(), |s| format!("{s:.2}")))?;
    writeln!(
        out,
        "  win rate        {}",
        r.win_rate.map_or("n/a (no closed trades)".to_string(), |w| format!("{w:.1}%"))
    )?;
    writeln!(out, "  orders          {} ({filled} filled, {rejected} rejected)", r.orders.len())?;
    if r.executions.iter().any(|e| e.prompt.is_some() || !e.calls.is_empty()) {
        writeln!(out, "  models          {}", r.llm)?;
        writeln!(out, "  model usage     {}", usage(r))?;
    } else {
        writeln!(out, "  models          none asked")?;
    }
    for (name, s) in &r.stats {
        writeln!(
            out,
            "  {name}: {} executions ({} rejected, {} failed), {} orders ({} filled, {} refused by the risk gate), {} round trips ({} won), P&L {}, win rate {}",
            s.total_executions,
            s.rejected_executions,
            s.failed_executions,
            s.orders,
            s.filled,
            s.refused,
            s.successful_trades + s.failed_trades,
            s.successful_trades,
            money(s.total_pnl),
            s.win_rate.map_or("n/a".to_string(), |w| format!("{w:.1}%")),
        )?;
    }
    let groups = failures(r);
    for (n, reason) in groups.iter().take(5) {
        writeln!(out, "  {n} of {} executions failed: {reason}", r.executions.len())?;
    }
    if groups.len() > 5 {
        writeln!(out, "  … and {} more reasons for failed executions (--format json lists each)", groups.len() - 5)?;
    }
    for o in r.orders.iter().filter(|o| o.status == Status::Rejected).take(5) {
        let side = if o.side == strat_engine::broker::Side::Buy { "buy" } else { "sell" };
        writeln!(
            out,
            "  rejected {side} {} {} on {}: {}",
            o.qty,
            o.symbol,
            o.time.date(),
            o.reason.as_deref().unwrap_or("")
        )?;
    }
    Ok(())
}

/// The run's tokens and cost: `12,400 tokens in (9,800 read from the prompt cache), 310 out; $0.0123`.
fn usage(r: &Report) -> String {
    let (mut input, mut cached, mut output, mut cost) = (0u64, 0u64, 0u64, 0.0);
    for e in &r.executions {
        (input, cached, output, cost) =
            (input + e.input_tokens, cached + e.cached_tokens, output + e.output_tokens, cost + e.cost);
    }
    let cache = if cached > 0 { format!(" ({cached} read from the prompt cache)") } else { String::new() };
    format!("{input} tokens in{cache}, {output} out; ${cost:.4}")
}
