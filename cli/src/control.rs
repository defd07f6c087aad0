//! `strat halt`, `strat resume`, `strat pause`, `strat activate`, `strat archive` and
//! `strat agents`: the operator's decisions from the command line. With a service running
//! they go through its API (it finds them in the store at its run's next step); without one
//! they are written to the store, where the next `strat serve` finds them: a service started
//! after `strat halt` comes up halted. Each is idempotent and written to the audit log.

use crate::backtest::Format;
use crate::client::Client;
use crate::{exit, files};
use serde_json::{Value, json};
use std::io::Write;
use strat_engine::control::Lifecycle;

#[derive(clap::Args)]
pub struct HaltArgs {
    /// Why (kept in the audit log and shown while halted)
    #[arg(long)]
    reason: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

#[derive(clap::Args)]
pub struct StatusArgs {
    /// The agent, workflow or team
    name: String,
    /// Why (kept in the audit log)
    #[arg(long)]
    reason: Option<String>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// One decision: what the API calls it, what the audit log calls it, and the change itself.
enum Decision<'a> {
    Halt(Option<&'a str>),
    Resume,
    Status(&'a str, &'static str),
}

impl Decision<'_> {
    fn path(&self) -> String {
        match self {
            Decision::Halt(_) => "/api/v1/halt".into(),
            Decision::Resume => "/api/v1/resume".into(),
            Decision::Status(g, "active") => format!("/api/v1/agents/{g}/activate"),
            Decision::Status(g, "archived") => format!("/api/v1/agents/{g}/archive"),
            Decision::Status(g, _) => format!("/api/v1/agents/{g}/pause"),
        }
    }

    fn what(&self) -> String {
        match self {
            Decision::Halt(_) => "halt".into(),
            Decision::Resume => "resume".into(),
            Decision::Status(g, s) => format!("{s} {g}"),
        }
    }

    fn apply(&self, l: &mut Lifecycle) -> String {
        match self {
            Decision::Halt(r) => l.halt(r.unwrap_or("halted by the operator")),
            Decision::Resume => l.resume(),
            Decision::Status(g, s) => l.set_status(g, s),
        }
    }
}

/// Says why the service did not do what it was asked; the exit code.
fn refused(answer: Result<crate::client::Answer, String>) -> u8 {
    let why = match answer {
        Ok((_, v)) => crate::client::message(&v).to_string(),
        Err(e) => e,
    };
    eprintln!("error: {why}");
    exit::USAGE
}

/// Who a decision made here is, in the audit log.
fn local_user() -> String {
    let name = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).unwrap_or_default();
    if name.is_empty() { "local user".into() } else { format!("local user {name}") }
}

fn through_service(c: &Client, d: &Decision<'_>, reason: Option<&str>) -> Result<Value, u8> {
    let body = reason.map(|r| json!({"reason": r}));
    match c.call("POST", &d.path(), body) {
        Ok((200, v)) => Ok(json!({"result": v["result"], "through": format!("the service at {}", c.address())})),
        other => Err(refused(other)),
    }
}

fn through_store(d: &Decision<'_>, reason: Option<&str>) -> Result<Value, u8> {
    let home = files::home();
    let store = crate::run::open_store_at(&home)?;
    let (_, result) =
        store.controls().decide(&local_user(), &d.what(), reason.map(str::to_string), |l| d.apply(l)).map_err(|e| {
            eprintln!("error: {e}");
            exit::USAGE
        })?;
    if let Decision::Status(g, _) = d {
        eprintln!(
            "note: no service is running, so `{g}` is not checked against a file: the next `strat serve` applies this to its graph of that name"
        );
    }
    Ok(json!({"result": result, "through": format!("the store in {}", home.display())}))
}

fn decide(d: Decision<'_>, reason: Option<&str>, format: Format) -> u8 {
    let done = match crate::client::find(&files::home()) {
        Some(c) => through_service(&c, &d, reason),
        None => through_store(&d, reason),
    };
    match done {
        Ok(v) => {
            let mut out = std::io::stdout().lock();
            let _ = match format {
                Format::Json => writeln!(out, "{v}"),
                Format::Human => writeln!(
                    out,
                    "{} ({})",
                    v["result"].as_str().unwrap_or_default(),
                    v["through"].as_str().unwrap_or_default()
                ),
            };
            exit::OK
        }
        Err(code) => code,
    }
}

pub fn halt(args: &HaltArgs) -> u8 {
    decide(Decision::Halt(args.reason.as_deref()), args.reason.as_deref(), args.format)
}

pub fn resume(args: &HaltArgs) -> u8 {
    decide(Decision::Resume, args.reason.as_deref(), args.format)
}

pub fn status(args: &StatusArgs, status: &'static str) -> u8 {
    decide(Decision::Status(&args.name, status), args.reason.as_deref(), args.format)
}

#[derive(clap::Args)]
pub struct AgentsArgs {
    /// The strategy file (needed when no service is running; the service's own otherwise)
    file: Option<std::path::PathBuf>,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// `strat agents`: each agent, workflow and team with its status and triggers.
pub fn agents(args: &AgentsArgs) -> u8 {
    let listed = match (crate::client::find(&files::home()), &args.file) {
        (Some(c), None) => match c.call("GET", "/api/v1/agents", None) {
            Ok((200, v)) => Ok(v),
            Ok((_, v)) => Err(crate::client::message(&v).to_string()),
            Err(e) => Err(e),
        },
        (_, Some(file)) => local_agents(file),
        (None, None) => Err("no service is running: name the file (`strat agents FILE`)".to_string()),
    };
    let v = match listed {
        Ok(v) => v,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let mut out = std::io::stdout().lock();
    let written = match args.format {
        Format::Json => writeln!(out, "{v}"),
        Format::Human => human(&v, &mut out),
    };
    match written {
        Ok(()) => exit::OK,
        Err(_) => exit::USAGE,
    }
}

/// The agents of `file` with the lifecycle the store holds (none: all active).
fn local_agents(file: &std::path::Path) -> Result<Value, String> {
    let program = files::compile(file, crate::ColorChoice::Auto).map_err(|_| "the file has errors".to_string())?;
    let home = files::home();
    let (life, last) = if home.join("store.redb").is_file() {
        let store = crate::run::open_store_at(&home).map_err(|_| "the store cannot be opened".to_string())?;
        let life = store.controls().lifecycle().map_err(|e| e.to_string())?;
        (life, store.reader().last_triggered().map_err(|e| e.to_string())?)
    } else {
        (Lifecycle::default(), Default::default())
    };
    let agents: Vec<Value> = program.graphs.iter().map(|g| strat_service::api::agent_view(g, &life, &last)).collect();
    Ok(json!({"agents": agents, "halted": life.halted}))
}

fn human(v: &Value, out: &mut dyn Write) -> std::io::Result<()> {
    if let Some(h) = v["halted"].as_str() {
        writeln!(out, "HALTED: {h} (`strat resume` lifts it)")?;
    }
    for a in v["agents"].as_array().into_iter().flatten() {
        let text = |k: &str| a[k].as_str().unwrap_or("-").to_string();
        writeln!(out, "{:<20} {:<9} {}", text("name"), text("kind"), text("status"))?;
        for t in a["triggers"].as_array().into_iter().flatten() {
            let on = if t["enabled"] == true { "on " } else { "off" };
            let last =
                t["last_triggered_at"].as_str().map_or("never fired".to_string(), |at| format!("last fired {at}"));
            writeln!(
                out,
                "    {on} {:<16} {}  ({last})",
                t["id"].as_str().unwrap_or("-"),
                t["text"].as_str().unwrap_or("-")
            )?;
        }
    }
    Ok(())
}

#[derive(clap::Args)]
pub struct EmergencyArgs {
    /// Why (kept in the audit log)
    #[arg(long)]
    reason: Option<String>,
    /// With no service running, the broker to act at directly (default: `broker` in
    /// $STRAT_HOME/strat.conf, else paper, whose orders live only in a running service)
    #[arg(long, value_enum)]
    broker: Option<crate::run::BrokerChoice>,
    /// With `--broker alpaca`: Alpaca's live account (APCA_API_BASE_URL set to its live host)
    #[arg(long)]
    live: bool,
    /// Confirm a liquidation (every position sold at market)
    #[arg(long)]
    yes: bool,
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
}

/// `strat cancel-all` and `strat liquidate`: through the running service (its run's broker
/// acts at its next step), else at Alpaca directly (the bulk requests, item by item).
pub fn emergency(args: &EmergencyArgs, liquidate: bool) -> u8 {
    if liquidate && !args.yes {
        eprintln!(
            "error: `strat liquidate` cancels every open order and sells every position at market: add --yes to do it"
        );
        return exit::USAGE;
    }
    let done = match crate::client::find(&files::home()) {
        Some(c) => emergency_through_service(&c, args, liquidate),
        None => emergency_at_venue(args, liquidate),
    };
    match done {
        Ok((v, failed)) => {
            let mut out = std::io::stdout().lock();
            let _ = match args.format {
                Format::Json => writeln!(out, "{v}"),
                Format::Human => emergency_human(&v, &mut out),
            };
            if failed { exit::FOUND } else { exit::OK }
        }
        Err(code) => code,
    }
}

fn emergency_human(v: &Value, out: &mut dyn Write) -> std::io::Result<()> {
    for o in v["orders"].as_array().into_iter().flatten() {
        let why = o["reason"].as_str().map_or(String::new(), |r| format!(": {r}"));
        writeln!(
            out,
            "order {} {} {} {}: {}{why}",
            o["order"],
            o["side"].as_str().unwrap_or("-"),
            o["qty"],
            o["symbol"].as_str().unwrap_or("-"),
            o["status"].as_str().unwrap_or("-")
        )?;
    }
    writeln!(out, "{} ({})", v["result"].as_str().unwrap_or_default(), v["through"].as_str().unwrap_or_default())
}

/// The answer, and whether any item failed (refused, or still open after a cancel).
fn emergency_through_service(c: &Client, args: &EmergencyArgs, liquidate: bool) -> Result<(Value, bool), u8> {
    let path = if liquidate { "/api/v1/liquidate" } else { "/api/v1/cancel-all" };
    let body = args.reason.as_ref().map(|r| json!({"reason": r}));
    match c.call("POST", path, body) {
        Ok((200, mut v)) => {
            let failed = v["orders"]
                .as_array()
                .into_iter()
                .flatten()
                .any(|o| o["status"] == "rejected" || (o["status"] == "pending" && o["side"] != "sell"));
            v["through"] = json!(format!("the service at {}", c.address()));
            Ok((v, failed))
        }
        Ok((202, v)) => {
            eprintln!(
                "warning: firing {} is not carried out yet: the run takes it at its next step (`strat log --follow` shows it)",
                v["firing"]
            );
            Ok((json!({"result": "pending", "through": format!("the service at {}", c.address())}), true))
        }
        other => Err(refused(other)),
    }
}

/// With no service: Alpaca's bulk requests, each item reported; the paper broker holds nothing
/// outside a running service.
fn emergency_at_venue(args: &EmergencyArgs, liquidate: bool) -> Result<(Value, bool), u8> {
    let usage = |e: String| {
        eprintln!("error: {e}");
        exit::USAGE
    };
    let conf = crate::settings::run_conf().map_err(usage)?;
    let alpaca =
        args.broker.map_or(conf.broker.as_deref() == Some("alpaca"), |b| b == crate::run::BrokerChoice::Alpaca);
    if !alpaca {
        let result = "no service is running, and the paper broker's orders and positions live only in a running service: nothing is open";
        return Ok((json!({"orders": [], "result": result, "through": "no broker"}), false));
    }
    let env = crate::settings::Env::load();
    let config = strat_brokers::AlpacaConfig::from_env(|k| env.get(k), args.live).map_err(|e| usage(e.to_string()))?;
    let mut broker = strat_brokers::AlpacaBroker::new(config, "emergency", &[]).map_err(usage)?;
    let what = if liquidate { "liquidate" } else { "cancel-all" };
    let items = if liquidate { broker.close_all(true) } else { broker.cancel_all() };
    let store = crate::run::open_store_at(&files::home());
    let (result, orders, failed) = match items {
        Ok(items) => {
            let failed = items.iter().any(|i| !i.ok);
            let orders: Vec<Value> = items
                .iter()
                .map(|i| json!({"order": i.order_id.clone().unwrap_or_else(|| i.target.clone()), "symbol": i.target, "status": if i.ok { "done" } else { "failed" }, "reason": i.message}))
                .collect();
            (
                format!("{} items at Alpaca, {} failed", items.len(), items.iter().filter(|i| !i.ok).count()),
                orders,
                failed,
            )
        }
        Err(e) => (format!("Alpaca: {e}"), Vec::new(), true),
    };
    if let Ok(store) = store {
        let at = strat_service::utc_now();
        let entry = strat_store::AuditEntry {
            seq: 0,
            at,
            who: local_user(),
            what: what.into(),
            why: args.reason.clone(),
            result: result.clone(),
        };
        if let Err(e) = store.controls().audit(entry) {
            eprintln!("warning: the audit log could not be written: {e}");
        }
    }
    Ok((json!({"orders": orders, "result": result, "through": "Alpaca directly (no service is running)"}), failed))
}
