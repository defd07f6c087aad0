//! Running one agent, workflow or team by hand at a chosen time: `strat test` (the seed's "Test
//! Agent": one execution, and its whole record) and `strat prompt` (exactly what its model
//! would be sent). The data replays up to the time without anything firing; then the one run.

use crate::{ColorChoice, exit, files};
use chrono::NaiveDate;
use std::io::Write;
use std::path::PathBuf;
use strat_engine::engine::{Config, Mode, Quiet, backtest_in};
use strat_engine::llm::Recording;
use strat_engine::report::{Execution, Report};
use strat_lang::ir::GraphKind;

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(clap::Args)]
pub struct Args {
    /// The strategy file
    file: PathBuf,
    /// The agent, workflow or team to run (default: every agent and team of the file)
    #[arg(long = "agent", value_name = "NAME")]
    agent: Option<String>,
    /// Run as of the close of this day (YYYY-MM-DD; default: the last bar of the data)
    #[arg(long)]
    at: Option<NaiveDate>,
    /// The symbol the run is about (`trigger.symbol`; default: the first its triggers name
    /// that has data)
    #[arg(long)]
    symbol: Option<String>,
    /// Run it as its webhook would with this body (a JSON file, checked against the declared
    /// payload; its `symbol`, if it has one, is the symbol the run is about)
    #[arg(long, value_name = "FILE")]
    payload: Option<PathBuf>,
    /// Price data for a symbol, as SYMBOL=PATH (repeat for several symbols)
    #[arg(long = "data", value_name = "SYMBOL=PATH", required = true)]
    data: Vec<String>,
    #[command(flatten)]
    csv: crate::data::CsvFlags,
    /// Starting cash
    #[arg(long, default_value_t = 100_000.0)]
    cash: f64,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = crate::llm::parse_mode, help = crate::llm::HELP)]
    llm: crate::llm::Mode,
    #[command(flatten)]
    budgets: crate::llm::Budgets,
    /// When to use colour in error reports
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

/// The JSON body of `--payload`, or where it is wrong.
fn read_payload(path: &std::path::Path) -> Result<serde_json::Value, u8> {
    let text = std::fs::read(path).map_err(|e| {
        eprintln!("error: cannot read `{}`: {e}", path.display());
        exit::USAGE
    })?;
    serde_json::from_slice(&text).map_err(|e| {
        eprintln!("error: `{}` is not JSON (line {}, column {}): {e}", path.display(), e.line(), e.column());
        exit::USAGE
    })
}

/// One run by hand: its execution, the model requests it made, and the report's warnings.
struct Outcome {
    graph: String,
    symbol: Option<String>,
    at: String,
    execution: Execution,
    requests: Vec<strat_engine::llm::LlmRequest>,
    report: Report,
}

/// `send`: whether models are really asked (`strat test`), or answered by the offline stand-in
/// so that nothing leaves the machine (`strat prompt`).
fn runs(args: &Args, send: bool) -> Result<Vec<Outcome>, u8> {
    if !(args.cash.is_finite() && args.cash > 0.0) {
        eprintln!("error: `--cash` must be a positive amount");
        return Err(exit::USAGE);
    }
    let program = files::compile(&args.file, args.color)?;
    let mut data = crate::data::load(&args.data, &args.csv)?;
    if let Some(at) = args.at {
        for bars in data.values_mut() {
            bars.retain(|b| b.time.date() <= at);
        }
        data.retain(|sym, bars| {
            if bars.is_empty() {
                eprintln!("warning: no bars for {sym} on or before {at}; it is left out");
            }
            !bars.is_empty()
        });
    }
    if data.is_empty() {
        eprintln!("error: no data left to run on");
        return Err(exit::USAGE);
    }
    let graphs: Vec<String> = match &args.agent {
        Some(name) => vec![name.clone()],
        None => program
            .graphs
            .iter()
            .filter(|g| matches!(g.kind, GraphKind::Agent | GraphKind::Team))
            .map(|g| g.name.clone())
            .collect(),
    };
    if graphs.is_empty() {
        eprintln!("error: the file declares no agent or team; name a workflow with `--agent NAME`");
        return Err(exit::USAGE);
    }
    let sandbox = args.budgets.apply(strat_engine::sandbox::Limits::default()).map_err(|e| {
        eprintln!("error: {e}");
        exit::USAGE
    })?;
    let config = Config { cash: args.cash, sandbox, ..Config::default() };
    let mode = if send { args.llm.clone() } else { crate::llm::Mode::Offline };
    let mut models = crate::llm::models(&mode, &program, &config.sandbox).map_err(|e| {
        eprintln!("error: {e}");
        exit::USAGE
    })?;
    let payload = args.payload.as_deref().map(read_payload).transpose()?;
    let named = payload.as_ref().and_then(|p| p["symbol"].as_str()).map(str::to_string);
    let mut out = Vec::new();
    for graph in graphs {
        let symbol = match args.symbol.clone().or_else(|| named.clone()) {
            Some(s) => Some(s),
            None => strat_engine::plan::trigger_symbols(&program, &graph).into_iter().find(|s| data.contains_key(s)),
        };
        let mut llm = Recording { inner: models.llm.as_mut(), requests: Vec::new() };
        let mode = Mode::Once { graph: &graph, symbol: symbol.as_deref(), payload: payload.as_ref() };
        let report = backtest_in(&program, &data, &config, &mut llm, &mut Quiet, mode).map_err(|e| {
            eprintln!("error: {e}");
            let usage = ["no agent", "no data", "the payload", "no webhook"].iter().any(|p| e.starts_with(p));
            if usage { exit::USAGE } else { exit::FOUND }
        })?;
        let Some(execution) = report.executions.last().cloned() else {
            eprintln!("error: `{graph}` did not run");
            return Err(exit::FOUND);
        };
        out.push(Outcome { graph, symbol, at: execution.time.to_string(), execution, requests: llm.requests, report });
    }
    models.finish().map_err(|e| {
        eprintln!("error: {e}");
        exit::USAGE
    })?;
    Ok(out)
}

fn warn(outcomes: &[Outcome]) {
    let mut seen = std::collections::BTreeSet::new();
    for w in outcomes.iter().flat_map(|o| &o.report.warnings) {
        if seen.insert(w.clone()) {
            eprintln!("warning: {w}");
        }
    }
}

fn finish(written: std::io::Result<()>) -> u8 {
    match written {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: cannot write output: {e}");
            exit::USAGE
        }
        _ => exit::OK,
    }
}

/// `strat test`.
pub fn test(args: &Args) -> u8 {
    let outcomes = match runs(args, true) {
        Ok(o) => o,
        Err(code) => return code,
    };
    warn(&outcomes);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match args.format {
        Format::Json => {
            let all: Vec<&Execution> = outcomes.iter().map(|o| &o.execution).collect();
            serde_json::to_writer_pretty(&mut out, &all).map_err(std::io::Error::other).and_then(|()| writeln!(out))
        }
        Format::Human => outcomes.iter().try_for_each(|o| human_test(o, &mut out)),
    };
    finish(written.and_then(|()| out.flush()))
}

/// `strat prompt`.
pub fn prompt(args: &Args) -> u8 {
    let outcomes = match runs(args, false) {
        Ok(o) => o,
        Err(code) => return code,
    };
    warn(&outcomes);
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let written = match args.format {
        Format::Json => {
            let all: Vec<&strat_engine::llm::LlmRequest> = outcomes.iter().flat_map(|o| &o.requests).collect();
            serde_json::to_writer_pretty(&mut out, &all).map_err(std::io::Error::other).and_then(|()| writeln!(out))
        }
        Format::Human => (|| {
            for o in &outcomes {
                if o.requests.is_empty() {
                    writeln!(out, "# {} asks no model at {}", o.graph, o.at)?;
                }
                for r in &o.requests {
                    let params: Vec<String> = r.model.params.iter().map(|(k, v)| format!("{k} {v}")).collect();
                    writeln!(
                        out,
                        "# {} at {}{} → {} {}{}",
                        r.agent,
                        o.at,
                        o.symbol.as_ref().map_or(String::new(), |s| format!(" for {s}")),
                        r.model.provider,
                        r.model.model,
                        if params.is_empty() { String::new() } else { format!(" ({})", params.join(", ")) }
                    )?;
                    writeln!(out, "## system\n{}\n", r.system.trim_end())?;
                    writeln!(out, "## prompt\n{}", r.prompt.trim_end())?;
                    writeln!(out)?;
                }
            }
            Ok(())
        })(),
    };
    finish(written.and_then(|()| out.flush()))
}

fn human_test(o: &Outcome, out: &mut impl Write) -> std::io::Result<()> {
    let e = &o.execution;
    writeln!(
        out,
        "Test of {} at {}{} (started by hand)",
        o.graph,
        o.at,
        o.symbol.as_ref().map_or(String::new(), |s| format!(" for {s}"))
    )?;
    let indent = |text: &str| text.lines().map(|l| format!("    {l}")).collect::<Vec<_>>().join("\n");
    let prompt = |p: &strat_engine::report::PromptRecord| o.report.prompts.texts_of(p).1;
    let calls: Vec<(String, Option<String>, Option<&str>)> = if e.calls.is_empty() {
        e.prompt.iter().map(|p| (o.graph.clone(), Some(prompt(p)), e.llm_response.as_deref())).collect()
    } else {
        e.calls.iter().map(|c| (c.agent.clone(), Some(prompt(&c.prompt)), c.llm_response.as_deref())).collect()
    };
    for (agent, prompt, reply) in calls {
        if let Some(p) = prompt {
            writeln!(out, "  prompt of {agent}, as sent:\n{}", indent(&p))?;
        }
        writeln!(out, "  reply of {agent} ({}):\n{}", o.report.llm, indent(reply.unwrap_or("(none)")))?;
    }
    if let Some(d) = &e.decision {
        writeln!(out, "  decision        {d}")?;
    }
    for v in &e.validation {
        writeln!(out, "  risk gate       {}", if v.approved { "approved" } else { "refused" })?;
        for c in &v.checks {
            writeln!(
                out,
                "    {} {}{}",
                if c.passed { "pass" } else { "FAIL" },
                c.name,
                c.reason.as_ref().map_or(String::new(), |r| format!(": {r}"))
            )?;
        }
    }
    for id in &e.orders {
        if let Some(order) = o.report.orders.iter().find(|x| x.id == *id) {
            let side = order.side.name();
            writeln!(
                out,
                "  order           {side} {} {} ({:?}){}",
                order.qty,
                order.symbol,
                order.status,
                order.reason.as_ref().map_or(String::new(), |r| format!(": {r}"))
            )?;
        }
    }
    if e.orders.is_empty() {
        writeln!(out, "  order           none")?;
    }
    writeln!(out, "  tokens          {} in, {} out; cost ${:.4}", e.input_tokens, e.output_tokens, e.cost)?;
    writeln!(out, "  duration        {:.1} ms", e.duration_ms)?;
    let status = format!("{:?}", e.status).to_lowercase();
    writeln!(out, "  status          {status}{}", e.error.as_ref().map_or(String::new(), |x| format!(": {x}")))?;
    writeln!(out)
}
