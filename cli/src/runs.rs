//! `strat runs`, `strat log`, `strat show` and `strat stats`: what the store under
//! `$STRAT_HOME` (default `.strat/`) holds, read from the command line: the runs, one run's
//! executions and orders, one execution's whole record, a run's statistics per graph. With a
//! `strat serve` running (it holds the store open) they ask its API instead, and get the same
//! records.

use crate::backtest::Format;
use crate::exit;
use serde_json::Value;
use std::io::Write;
use strat_engine::broker::{Order, Status};
use strat_engine::store::{RunRecord, Store};
use strat_service::api::Filter;
use strat_service::api::performance::Performance;
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
    /// Keep printing the executions and order changes as they come (through the running
    /// service) until Ctrl-C or the run ends; with `--format json`, one object a line
    #[arg(long)]
    follow: bool,
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

    /// The executions wanted, as the service's API filters them.
    fn filter(&self, run: u64) -> Filter {
        Filter {
            run: Some(run),
            agent: self.graph.clone(),
            status: self.status.clone(),
            symbol: self.symbol.clone(),
            from: self.from.map(|d| d.to_string()),
            to: self.to.map(|d| d.to_string()),
            ..Filter::default()
        }
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

/// Where the records are read: the running service's API, or the store itself.
enum Source {
    Service(crate::client::Client),
    Store(RedbStore),
}

fn source() -> Result<Source, u8> {
    match crate::client::find(&crate::files::home()) {
        Some(c) => Ok(Source::Service(c)),
        None => open().map(Source::Store),
    }
}

/// `GET path` of the service: its body, or why not.
fn get(c: &crate::client::Client, path: &str) -> Result<Value, String> {
    match c.call("GET", path, None)? {
        (200, v) => Ok(v),
        (_, v) => Err(crate::client::message(&v).to_string()),
    }
}

fn decoded<T: serde::de::DeserializeOwned>(v: Value) -> Result<T, String> {
    serde_json::from_value(v).map_err(|e| format!("the service's answer does not read: {e}"))
}

impl Source {
    fn runs(&self) -> Result<Vec<RunRecord>, String> {
        match self {
            Source::Store(s) => s.runs().map_err(|e| e.to_string()),
            Source::Service(c) => decoded(get(c, "/api/v1/runs")?["runs"].take()),
        }
    }

    /// Each whole execution of `run` that `filter` accepts, in order, one page at a time.
    fn executions(&self, run: u64, filter: &Filter, f: &mut dyn FnMut(Value)) -> Result<(), String> {
        match self {
            Source::Store(s) => s
                .each_execution(run, &mut |e| {
                    if filter.accepts(&e) {
                        f(e);
                    }
                    Ok(())
                })
                .map_err(|e| e.to_string()),
            Source::Service(c) => {
                let mut after = filter.after;
                loop {
                    let mut path = format!("/api/v1/executions?run={run}&limit=1000&whole=true");
                    for (k, v) in [
                        ("agent", &filter.agent),
                        ("status", &filter.status),
                        ("symbol", &filter.symbol),
                        ("from", &filter.from),
                        ("to", &filter.to),
                    ] {
                        if let Some(v) = v {
                            path.push_str(&format!("&{k}={}", escape(v)));
                        }
                    }
                    if let Some(a) = after {
                        path.push_str(&format!("&after={a}"));
                    }
                    let mut page = get(c, &path)?;
                    for e in page["executions"].as_array_mut().map(std::mem::take).unwrap_or_default() {
                        f(e);
                    }
                    match page["next"].as_u64() {
                        Some(n) => after = Some(n),
                        None => return Ok(()),
                    }
                }
            }
        }
    }

    fn orders(&self, run: u64) -> Result<Vec<Order>, String> {
        match self {
            Source::Store(s) => s.orders(run).map_err(|e| e.to_string()),
            Source::Service(c) => decoded(get(c, &format!("/api/v1/orders?run={run}"))?["orders"].take()),
        }
    }

    /// One execution whole, with its prompts' texts.
    fn execution(&self, run: u64, id: u64) -> Result<Option<Value>, String> {
        match self {
            Source::Store(s) => {
                let Some(mut e) = s.reader().execution(run, id).map_err(|e| e.to_string())? else { return Ok(None) };
                if let Some(texts) = strat_service::api::prompt_texts(&s.reader(), &e["prompt"])? {
                    e["prompt_text"] = texts;
                }
                Ok(Some(e))
            }
            Source::Service(c) => match c.call("GET", &format!("/api/v1/executions/{id}?run={run}"), None)? {
                (200, v) => Ok(Some(v)),
                (404, _) => Ok(None),
                (_, v) => Err(crate::client::message(&v).to_string()),
            },
        }
    }

    /// Each graph's statistics in `run` over its last `days` (all of it without).
    fn performances(
        &self,
        run: &RunRecord,
        days: Option<u32>,
    ) -> Result<std::collections::BTreeMap<String, Performance>, String> {
        match self {
            Source::Store(s) => {
                let since = since(run, days);
                let mut all = strat_service::api::performance::performances(&s.reader(), run.id, since)?;
                // A graph that did nothing is listed too, as the run's own statistics list it.
                for g in s.stats(run.id).map_err(|e| e.to_string())?.into_keys() {
                    all.entry(g).or_default();
                }
                Ok(all)
            }
            Source::Service(c) => {
                let agents = get(c, "/api/v1/agents")?;
                let mut all = std::collections::BTreeMap::new();
                for a in agents["agents"].as_array().into_iter().flatten() {
                    let name = a["name"].as_str().unwrap_or_default();
                    let window = days.map_or(String::new(), |d| format!("&days={d}"));
                    let mut p = get(c, &format!("/api/v1/agents/{}/performance?run={}{window}", escape(name), run.id))?;
                    all.insert(name.to_string(), decoded(p["performance"].take())?);
                }
                Ok(all)
            }
        }
    }
}

/// The start of a run's last `days`, counted back from its last step.
fn since(run: &RunRecord, days: Option<u32>) -> Option<chrono::NaiveDateTime> {
    let last =
        run.last_step.as_deref().and_then(|t| chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").ok())?;
    days.map(|d| last - chrono::Duration::days(i64::from(d)))
}

/// A query value with the characters a URL cannot carry as they are escaped.
fn escape(v: &str) -> String {
    v.bytes()
        .map(|b| {
            if b.is_ascii_alphanumeric() || b"-_.~:".contains(&b) {
                (b as char).to_string()
            } else {
                format!("%{b:02X}")
            }
        })
        .collect()
}

/// The exit code of a command that printed what it had to, or said why not.
fn ended(done: Result<(), u8>) -> u8 {
    done.map_or_else(|code| code, |()| exit::OK)
}

/// The run asked for, or the latest.
fn pick(source: &Source, asked: Option<u64>) -> Result<RunRecord, u8> {
    let runs = source.runs().map_err(failed)?;
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
    let runs = source()?.runs().map_err(failed)?;
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
    let source = source()?;
    let run = pick(&source, args.run)?;
    if args.follow {
        return follow(&source, &run, args);
    }
    let mut out = std::io::stdout().lock();
    // Each execution is written as it is read, so the first page shows at once whatever the
    // run's length, and nothing holds them all.
    let (mut count, mut broken) = (0usize, None);
    let head = match args.format {
        Format::Json => write!(out, "{{\"run\":{},\"executions\":[", serde_json::to_string(&run).unwrap_or_default()),
        Format::Human => writeln!(out, "{}", run_line(&run)),
    };
    head.map_err(unwritten)?;
    source
        .executions(run.id, &args.only.filter(run.id), &mut |e| {
            if broken.is_some() {
                return;
            }
            let line = match args.format {
                Format::Json => write!(out, "{}{}", if count == 0 { "" } else { "," }, e),
                Format::Human => writeln!(out, "  {}", execution_line(&e)),
            };
            count += 1;
            broken = line.err();
        })
        .map_err(failed)?;
    if let Some(e) = broken {
        return Err(unwritten(e));
    }
    let mut orders = source.orders(run.id).map_err(failed)?;
    orders.retain(|o| args.only.order(o));
    let tail = match args.format {
        Format::Json => writeln!(out, "],\"orders\":{}}}", serde_json::to_string(&orders).unwrap_or_default()),
        Format::Human => human_tail(count, &orders, &mut out),
    };
    tail.map_err(unwritten)
}

/// `strat log --follow`: the run's executions and orders as they come, through the running
/// service (one line each, or one JSON object a line), until Ctrl-C or the run ends.
fn follow(source: &Source, run: &RunRecord, args: &LogArgs) -> Result<(), u8> {
    let Source::Service(c) = source else {
        eprintln!("error: `--follow` reads a running service, and none is running (`strat serve` starts one)");
        return Err(exit::USAGE);
    };
    let mut filter = args.only.filter(run.id);
    let mut known: std::collections::BTreeMap<u64, Status> = std::collections::BTreeMap::new();
    let mut out = std::io::stdout().lock();
    loop {
        let mut fresh = Vec::new();
        source.executions(run.id, &filter, &mut |e| fresh.push(e)).map_err(failed)?;
        for e in &fresh {
            let line = match args.format {
                Format::Json => serde_json::to_string(&serde_json::json!({"execution": e})).unwrap_or_default(),
                Format::Human => execution_line(e),
            };
            writeln!(out, "{line}").map_err(unwritten)?;
            filter.after = e["id"].as_u64().or(filter.after);
        }
        for o in source.orders(run.id).map_err(failed)?.into_iter().filter(|o| args.only.order(o)) {
            if known.insert(o.id, o.status) != Some(o.status) {
                let line = match args.format {
                    Format::Json => serde_json::to_string(&serde_json::json!({"order": o})).unwrap_or_default(),
                    Format::Human => order_line(&o),
                };
                writeln!(out, "{line}").map_err(unwritten)?;
            }
        }
        out.flush().map_err(unwritten)?;
        let now = get(c, &format!("/api/v1/runs/{}", run.id)).map_err(failed)?;
        if now["status"] != "running" {
            return Ok(());
        }
        std::thread::sleep(std::time::Duration::from_millis(250));
    }
}

/// After the executions: how many, then the orders.
fn human_tail(count: usize, orders: &[Order], out: &mut dyn Write) -> std::io::Result<()> {
    writeln!(out, "{count} executions")?;
    writeln!(out, "{} orders", orders.len())?;
    for o in orders {
        writeln!(out, "  {}", order_line(o))?;
    }
    Ok(())
}

/// An execution on one line: id, time, graph, status, what fired it, the decision or error.
fn execution_line(e: &Value) -> String {
    let text = |k: &str| e[k].as_str().unwrap_or("-").to_string();
    let said =
        e["decision"]["decision"].as_str().map(str::to_string).or_else(|| e["error"].as_str().map(str::to_string));
    format!(
        "{:>5}  {}  {:<14} {:<9} {}{}",
        e["id"].as_u64().unwrap_or(0),
        text("time").replacen('T', " ", 1),
        text("graph"),
        text("status"),
        e["trigger"]["reason"].as_str().unwrap_or("-"),
        said.map_or(String::new(), |s| format!(": {s}"))
    )
}

/// An order in its latest state on one line.
fn order_line(o: &Order) -> String {
    let status = match o.status {
        Status::Pending => "pending",
        Status::Filled => "filled",
        Status::Rejected => "refused",
        Status::Cancelled => "cancelled",
    };
    let price = o.price.map_or(String::new(), |p| format!(" at {p:.2}"));
    let why = o.reason.as_deref().map_or(String::new(), |r| format!(": {r}"));
    format!("{:>5}  {}  {} {} {} {status}{price}{why}", o.id, o.time, o.side.name(), o.qty, o.symbol)
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
    let source = source()?;
    let run = pick(&source, args.run)?;
    let Some(e) = source.execution(run.id, args.execution).map_err(failed)? else {
        eprintln!("error: run {} has no execution {} (`strat log {}` lists them)", run.id, args.execution, run.id);
        return Err(exit::USAGE);
    };
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &e).map_err(std::io::Error::other).and_then(|()| writeln!(out))
        }
        Format::Human => record(run.id, &e, &mut out),
    };
    written.map_err(unwritten)
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
    /// Only the run's last N days (counted back from its last step)
    #[arg(long, value_name = "N")]
    days: Option<u32>,
    /// `human`: one block a graph; `json`: the statistics by graph
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

pub fn stats(args: &StatsArgs) -> u8 {
    ended(graph_stats(args))
}

fn graph_stats(args: &StatsArgs) -> Result<(), u8> {
    let source = source()?;
    let run = pick(&source, args.run)?;
    let mut all = source.performances(&run, args.days).map_err(failed)?;
    if let Some(g) = &args.graph {
        if !all.contains_key(g) {
            let names: Vec<&str> = all.keys().map(String::as_str).collect();
            eprintln!("error: run {} has no agent, workflow or team `{g}` (it has {})", run.id, names.join(", "));
            return Err(exit::USAGE);
        }
        all.retain(|name, _| name == g);
    }
    let window = match (args.days, since(&run, args.days)) {
        (Some(d), Some(from)) => format!(", the last {d} days: from {from}"),
        _ => String::new(),
    };
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Json => {
            serde_json::to_writer_pretty(&mut out, &all).map_err(std::io::Error::other).and_then(|()| writeln!(out))
        }
        Format::Human => all.iter().try_for_each(|(name, s)| {
            let win = s.win_rate.map_or("-".to_string(), |w| format!("{w:.1}%"));
            writeln!(out, "{name} (run {}{window})", run.id)?;
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
