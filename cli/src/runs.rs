//! `strat runs` and `strat log`: what the store under `$STRAT_HOME` (default `.strat/`) holds,
//! read from the command line: the runs, and one run's executions and orders.

use crate::backtest::Format;
use crate::exit;
use std::io::Write;
use std::path::PathBuf;
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
    /// `human`: one line an execution, then one an order; `json`: the run, its executions and
    /// its orders as one object
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// The store, which must exist already (nothing is created to be read). A store a running
/// `strat run` holds open cannot be read meanwhile.
fn open() -> Result<RedbStore, u8> {
    let home = std::env::var_os("STRAT_HOME").map_or_else(|| PathBuf::from(".strat"), PathBuf::from);
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
    match list(args) {
        Ok(()) => exit::OK,
        Err(code) => code,
    }
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
    match show(args) {
        Ok(()) => exit::OK,
        Err(code) => code,
    }
}

fn show(args: &LogArgs) -> Result<(), u8> {
    let store = open()?;
    let runs = store.runs().map_err(failed)?;
    let run = match args.run {
        Some(id) => runs.into_iter().find(|r| r.id == id),
        None => runs.into_iter().next_back(),
    };
    let Some(run) = run else {
        eprintln!("error: {}", args.run.map_or("no runs yet".to_string(), |id| format!("there is no run {id}")));
        return Err(exit::USAGE);
    };
    let executions = store.executions(run.id).map_err(failed)?;
    let orders = store.orders(run.id).map_err(failed)?;
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
