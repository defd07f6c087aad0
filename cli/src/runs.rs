//! `strat runs`, `strat log`, `strat show` and `strat stats`: what the store under
//! `$STRAT_HOME` (default `.strat/`) holds, read from the command line: the runs, one run's
//! executions and orders, one execution's whole record, a run's statistics per graph.

use crate::backtest::Format;
use crate::exit;
use std::io::Write;
use strat_engine::broker::{Order, Status};
use strat_engine::store::{RunRecord, Store};
use strat_store::RedbStore;

#[derive(clap::Args)]
pub struct RunsArgs {
    /// `human`: a table; `json`: one array of the runs' records
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(clap::Args)]
pub struct LogArgs {
    /// The run (default: the latest)
    run: Option<u64>,
    #[command(flatten)]
    only: Only,
    /// `human`: one line an execution, then one an order; `json`: the run, its executions and
    /// its orders as one object
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// Which executions and orders `strat log` shows.
#[derive(clap::Args)]
struct Only {
    /// Only this agent, workflow or team's
    #[arg(long)]
    graph: Option<String>,
    /// Only executions that ended so (orders are shown whatever their executions' status)
    #[arg(long, value_parser = ["success", "rejected", "failed", "skipped"])]
    status: Option<String>,
    /// Only those about this symbol
    #[arg(long)]
    symbol: Option<String>,
    /// Only those on or after this day (YYYY-MM-DD)
    #[arg(long)]
    from: Option<chrono::NaiveDate>,
    /// Only those on or before this day (YYYY-MM-DD)
    #[arg(long)]
    to: Option<chrono::NaiveDate>,
}

impl Only {
    fn day(&self, d: Option<chrono::NaiveDate>) -> bool {
        d.is_some_and(|d| self.from.is_none_or(|f| d >= f) && self.to.is_none_or(|t| d <= t))
    }

    fn execution(&self, e: &serde_json::Value) -> bool {
        let day = e["time"].as_str().and_then(|t| t.get(..10)).and_then(|d| d.parse().ok());
        self.graph.as_ref().is_none_or(|g| e["graph"] == g.as_str())
            && self.status.as_ref().is_none_or(|s| e["status"] == s.as_str())
            && self.symbol.as_ref().is_none_or(|s| e["trigger"]["symbol"] == s.as_str())
            && self.day(day)
    }

    fn order(&self, o: &Order) -> bool {
        self.graph.as_ref().is_none_or(|g| o.by == *g)
            && self.symbol.as_ref().is_none_or(|s| o.symbol == *s)
            && self.day(Some(o.time.date()))
    }
}

/// The store, which must exist already (nothing is created to be read). A store a running
/// `strat run` holds open cannot be read meanwhile.
fn open() -> Result<RedbStore, u8> {
    let home = crate::files::home();
    let path = home.join("store.redb");
    if !path.is_file() {
        eprintln!("error: there is no store at `{}`: `strat run` makes it", path.display());
        return Err(exit::USAGE);
    }
    RedbStore::open(&path).map_err(|e| {
        eprintln!("error: {e} (a `strat run` still running holds it: try again once it stops)");
        exit::USAGE
    })
}

/// The exit code of a command that printed what it had to, or said why not.
fn ended(done: Result<(), u8>) -> u8 {
    done.map_or_else(|code| code, |()| exit::OK)
}

/// The run asked for, or the latest.
fn pick(store: &RedbStore, asked: Option<u64>) -> Result<RunRecord, u8> {
    let runs = store.runs().map_err(failed)?;
    let run = match asked {
        Some(id) => runs.into_iter().find(|r| r.id == id),
        None => runs.into_iter().next_back(),
    };
    run.ok_or_else(|| {
        eprintln!("error: {}", asked.map_or("no runs yet".to_string(), |id| format!("there is no run {id}")));
        exit::USAGE
    })
}

fn failed(e: impl std::fmt::Display) -> u8 {
    eprintln!("error: cannot read the store: {e}");
    exit::USAGE
}

/// A write to standard output that failed: a reader that went away (`| head`) ends the
/// command quietly.
fn unwritten(e: std::io::Error) -> u8 {
    if e.kind() == std::io::ErrorKind::BrokenPipe {
        return exit::OK;
    }
    eprintln!("error: cannot write the output: {e}");
    exit::USAGE
}

pub fn runs(args: &RunsArgs) -> u8 {
    ended(list(args))
}

fn list(args: &RunsArgs) -> Result<(), u8> {
    let runs = open()?.runs().map_err(failed)?;
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &runs).map_err(std::io::Error::other),
        Format::Human if runs.is_empty() => writeln!(out, "no runs yet"),
        Format::Human => runs.iter().try_for_each(|r| writeln!(out, "{}", run_line(r))),
    };
    written.and_then(|()| if args.format == Format::Json { writeln!(out) } else { Ok(()) }).map_err(unwritten)
}

/// One run as a line: id, status, file, when it began, how far it went, its equity.
fn run_line(r: &RunRecord) -> String {
    let equity = r.final_equity.or(r.equity).map_or("-".to_string(), crate::backtest::money);
    let last = r.last_step.as_deref().unwrap_or("-");
    format!(
        "{:>4}  {:<8}  {}  from {}  {} steps to {last}  equity {equity}",
        r.id, r.status, r.file, r.started, r.steps
    )
}

pub fn log(args: &LogArgs) -> u8 {
    ended(show(args))
}

fn show(args: &LogArgs) -> Result<(), u8> {
    let store = open()?;
    let run = pick(&store, args.run)?;
    let mut executions = Vec::new();
    store
        .each_execution(run.id, &mut |e| {
            if args.only.execution(&e) {
                executions.push(e);
            }
            Ok(())
        })
        .map_err(failed)?;
    let mut orders = store.orders(run.id).map_err(failed)?;
    orders.retain(|o| args.only.order(o));
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Json => {
            let v = serde_json::json!({"run": run, "executions": executions, "orders": orders});
            serde_json::to_writer_pretty(&mut out, &v).map_err(std::io::Error::other).and_then(|()| writeln!(out))
        }
        Format::Human => human(&run, &executions, &orders, &mut out),
    };
    written.map_err(unwritten)
}

fn human(
    run: &RunRecord,
    executions: &[serde_json::Value],
    orders: &[Order],
    out: &mut dyn Write,
) -> std::io::Result<()> {
    writeln!(out, "{}", run_line(run))?;
    writeln!(out, "{} executions", executions.len())?;
    for e in executions {
        let text = |k: &str| e[k].as_str().unwrap_or("-").to_string();
        let said =
            e["decision"]["decision"].as_str().map(str::to_string).or_else(|| e["error"].as_str().map(str::to_string));
        writeln!(
            out,
            "  {:>5}  {}  {:<14} {:<9} {}{}",
            e["id"].as_u64().unwrap_or(0),
            text("time").replacen('T', " ", 1),
            text("graph"),
            text("status"),
            e["trigger"]["reason"].as_str().unwrap_or("-"),
            said.map_or(String::new(), |s| format!(": {s}"))
        )?;
    }
    writeln!(out, "{} orders", orders.len())?;
    for o in orders {
        let status = match o.status {
            Status::Pending => "pending",
            Status::Filled => "filled",
            Status::Rejected => "refused",
            Status::Cancelled => "cancelled",
        };
        let price = o.price.map_or(String::new(), |p| format!(" at {p:.2}"));
        let why = o.reason.as_deref().map_or(String::new(), |r| format!(": {r}"));
        writeln!(out, "  {:>5}  {}  {} {} {} {status}{price}{why}", o.id, o.time, o.side.name(), o.qty, o.symbol)?;
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct ShowArgs {
    /// The execution's id in its run (as `strat log` lists them)
    execution: u64,
    /// The run (default: the latest)
    #[arg(long)]
    run: Option<u64>,
    /// `human`: the record in sections; `json`: the record, with its prompt's texts
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub fn show_one(args: &ShowArgs) -> u8 {
    ended(execution(args))
}

fn execution(args: &ShowArgs) -> Result<(), u8> {
    let store = open()?;
    let run = pick(&store, args.run)?;
    let mut found = None;
    store
        .each_execution(run.id, &mut |e| {
            if found.is_none() && e["id"].as_u64() == Some(args.execution) {
                found = Some(e);
            }
            Ok(())
        })
        .map_err(failed)?;
    let Some(mut e) = found else {
        eprintln!("error: run {} has no execution {} (`strat log {}` lists them)", run.id, args.execution, run.id);
        return Err(exit::USAGE);
    };
    if let Some(texts) = prompt_texts(&store, &e["prompt"]).map_err(failed)? {
        e["prompt_text"] = texts;
    }
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &e).map_err(std::io::Error::other).and_then(|()| writeln!(out))
        }
        Format::Human => record(run.id, &e, &mut out),
    };
    written.map_err(unwritten)
}

/// The system prompt and the prompt as sent, from the texts the store keeps once.
fn prompt_texts(store: &RedbStore, prompt: &serde_json::Value) -> Result<Option<serde_json::Value>, String> {
    let (Some(system), Some(prefix)) = (prompt["system"].as_str(), prompt["prefix"].as_str()) else { return Ok(None) };
    let text = |id: &str| store.prompt(id).map_err(|e| e.to_string()).map(Option::unwrap_or_default);
    let sent = text(prefix)? + prompt["rest"].as_str().unwrap_or_default();
    Ok(Some(serde_json::json!({"system": text(system)?, "prompt": sent})))
}

/// An execution's whole record, section by section.
fn record(run: u64, e: &serde_json::Value, out: &mut dyn Write) -> std::io::Result<()> {
    let text = |v: &serde_json::Value| v.as_str().map_or_else(|| v.to_string(), str::to_string);
    writeln!(
        out,
        "execution {} of run {run}: {} at {}, {}",
        e["id"],
        text(&e["graph"]),
        text(&e["time"]).replacen('T', " ", 1),
        text(&e["status"])
    )?;
    writeln!(out, "trigger: {}", text(&e["trigger"]["reason"]))?;
    if let Some(err) = e["error"].as_str() {
        writeln!(out, "error: {err}")?;
    }
    let pretty = |v: &serde_json::Value| serde_json::to_string_pretty(v).unwrap_or_default();
    for (title, v) in [("system prompt", &e["prompt_text"]["system"]), ("prompt", &e["prompt_text"]["prompt"])] {
        if let Some(t) = v.as_str() {
            writeln!(out, "\n{title}:\n{t}")?;
        }
    }
    if let Some(reply) = e["llm_response"].as_str() {
        writeln!(out, "\nreply:\n{reply}")?;
    }
    if !e["decision"].is_null() {
        writeln!(out, "\ndecision:\n{}", pretty(&e["decision"]))?;
    }
    for (n, verdict) in e["validation"].as_array().into_iter().flatten().enumerate() {
        writeln!(
            out,
            "\nrisk gate, order {}: {}",
            n + 1,
            if verdict["approved"] == true { "approved" } else { "refused" }
        )?;
        for c in verdict["checks"].as_array().into_iter().flatten() {
            let mark = if c["passed"] == true { "pass" } else { "FAIL" };
            let why = c["reason"].as_str().map_or(String::new(), |r| format!(": {r}"));
            writeln!(out, "  {mark}  {}{why}", text(&c["name"]))?;
        }
    }
    writeln!(
        out,
        "\norders {}; {} tokens in ({} cached), {} out; ${:.4}; {:.1} ms",
        e["orders"],
        e["input_tokens"],
        e["cached_tokens"],
        e["output_tokens"],
        e["cost"].as_f64().unwrap_or(0.0),
        e["duration_ms"].as_f64().unwrap_or(0.0)
    )
}

#[derive(clap::Args)]
pub struct StatsArgs {
    /// Only this agent, workflow or team
    graph: Option<String>,
    /// The run (default: the latest)
    #[arg(long)]
    run: Option<u64>,
    /// `human`: one block a graph; `json`: the statistics by graph
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub fn stats(args: &StatsArgs) -> u8 {
    ended(graph_stats(args))
}

fn graph_stats(args: &StatsArgs) -> Result<(), u8> {
    let store = open()?;
    let run = pick(&store, args.run)?;
    let mut all = store.stats(run.id).map_err(failed)?;
    if let Some(g) = &args.graph {
        if !all.contains_key(g) {
            let names: Vec<&str> = all.keys().map(String::as_str).collect();
            eprintln!("error: run {} has no agent, workflow or team `{g}` (it has {})", run.id, names.join(", "));
            return Err(exit::USAGE);
        }
        all.retain(|name, _| name == g);
    }
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &all).map_err(std::io::Error::other).and_then(|()| writeln!(out))
        }
        Format::Human => all.iter().try_for_each(|(name, s)| {
            let win = s.win_rate.map_or("-".to_string(), |w| format!("{w:.1}%"));
            writeln!(out, "{name} (run {})", run.id)?;
            writeln!(
                out,
                "  executions {} ({} rejected, {} failed), average {:.1} ms",
                s.total_executions, s.rejected_executions, s.failed_executions, s.avg_execution_time_ms
            )?;
            writeln!(out, "  orders {} ({} filled, {} refused by the risk gate)", s.orders, s.filled, s.refused)?;
            writeln!(
                out,
                "  trades {} won, {} lost, win rate {win}, P&L {}",
                s.successful_trades,
                s.failed_trades,
                crate::backtest::money(s.total_pnl)
            )?;
            writeln!(out, "  tokens {} in, {} out, ${:.4}", s.input_tokens, s.output_tokens, s.cost)
        }),
    };
    written.map_err(unwritten)
}
