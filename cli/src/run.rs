//! `strat run`: a file on the embedded defaults — the simulated market replayed in accelerated
//! time, the paper broker and the offline stand-in — streaming what happens, until the data
//! ends, `--until`, or Ctrl-C. The run is journaled into the store under `.strat/` (or
//! `$STRAT_HOME`) one commit a bar, and its full report saved beside it at the end.

use crate::{ColorChoice, exit, files};
use chrono::{NaiveDate, NaiveDateTime};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use strat_engine::broker::{Costs, PaperBroker, Side, Status};
use strat_engine::engine::{Observer, run as run_engine};
use strat_engine::host::{Clock, Host, MarketData};
use strat_engine::market::simulated;
use strat_engine::sim::{Replay, SimNews};
use strat_engine::store::StepView;
use strat_engine::store::Store;
use strat_store::RedbStore;

#[derive(clap::Args)]
pub struct Args {
    /// The strategy file
    file: PathBuf,
    /// Trading days of simulated market to replay
    #[arg(long, default_value_t = 252)]
    days: usize,
    /// Bar length of the simulated market in minutes (390 = one bar a day)
    #[arg(long, default_value_t = 390)]
    bar_minutes: u32,
    /// Seed of the simulated market (the same seed replays the same market)
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Bars replayed per second; 0 replays as fast as possible
    #[arg(long, default_value_t = 50.0)]
    speed: f64,
    /// Stop after this day (YYYY-MM-DD)
    #[arg(long)]
    until: Option<NaiveDate>,
    /// Starting cash
    #[arg(long, default_value_t = 100_000.0)]
    cash: f64,
    /// When to use colour in error reports
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = crate::llm::parse_mode, help = crate::llm::HELP)]
    llm: crate::llm::Mode,
    #[command(flatten)]
    budgets: crate::llm::Budgets,
}

/// The simulated market's time, replayed at `speed` steps per wall-clock second.
struct Paced {
    now: NaiveDateTime,
    pause: Option<std::time::Duration>,
    started: std::time::Instant,
}

impl Clock for Paced {
    fn now(&self) -> NaiveDateTime {
        self.now
    }
    fn advance_to(&mut self, t: NaiveDateTime) {
        if let Some(p) = self.pause
            && self.now != NaiveDateTime::default()
        {
            std::thread::sleep(p);
        }
        self.now = t;
    }
    fn monotonic_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1e3
    }
}

struct Stream<'a> {
    out: &'a mut dyn Write,
    interrupted: Arc<AtomicBool>,
    until: Option<NaiveDate>,
    last: Option<NaiveDateTime>,
}

impl Observer for Stream<'_> {
    fn step(&mut self, s: &StepView<'_>) {
        let time = s.time;
        self.last = Some(time);
        let day = if time.time() == chrono::NaiveTime::MIN { time.date().to_string() } else { time.to_string() };
        for l in s.log {
            let _ = writeln!(self.out, "{day}  {:<14} {}", l.graph, l.message);
        }
        for o in s.orders {
            let side = if o.side == Side::Buy { "buy" } else { "sell" };
            let line = match o.status {
                Status::Pending => format!("order    {side} {} {} placed", o.qty, o.symbol),
                Status::Filled => format!("fill     {side} {} {} at {:.2}", o.qty, o.symbol, o.price.unwrap_or(0.0)),
                Status::Rejected => {
                    format!("refused  {side} {} {}: {}", o.qty, o.symbol, o.reason.as_deref().unwrap_or(""))
                }
                Status::Cancelled => {
                    format!("cancel   {side} {} {}: {}", o.qty, o.symbol, o.reason.as_deref().unwrap_or(""))
                }
            };
            let _ = writeln!(self.out, "{day}  {:<14} {line}", o.by);
        }
        let _ = self.out.flush();
    }

    fn stop(&mut self) -> bool {
        self.interrupted.load(Ordering::SeqCst) || self.until.zip(self.last).is_some_and(|(u, l)| l.date() >= u)
    }
}

pub fn run(args: &Args) -> u8 {
    let valid = args.cash.is_finite() && args.cash > 0.0 && args.speed.is_finite() && args.speed >= 0.0;
    if !valid {
        eprintln!("error: `--cash` must be positive and `--speed` zero or more");
        return exit::USAGE;
    }
    let program = match files::compile(&args.file, args.color) {
        Ok(p) => p,
        Err(code) => return code,
    };
    let market = simulated::simulate(&simulated::Config {
        seed: args.seed,
        days: args.days.max(1),
        bar_minutes: args.bar_minutes,
        ..simulated::Config::default()
    });
    let limits = match args.budgets.apply(strat_engine::sandbox::Limits::default()) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let mut models = match crate::llm::models(&args.llm, &program, &limits) {
        Ok(m) => m,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
        eprintln!("warning: Ctrl-C will not stop the run cleanly: {e}");
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let _ = writeln!(
        out,
        "strat run {} on the {} (seed {}, {} symbols), paper broker, models answered by the {}; Ctrl-C stops",
        files::display(&args.file),
        simulated::LABEL,
        args.seed,
        market.bars.len(),
        models.llm.label()
    );
    let home = std::env::var_os("STRAT_HOME").map_or_else(|| PathBuf::from(".strat"), PathBuf::from);
    if let Err(e) = files::private_dir(&home) {
        eprintln!("error: cannot create `{}`: {e}", home.display());
        return exit::USAGE;
    }
    let mut store = match RedbStore::open(&home.join("store.redb")) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let market_label = format!("{} seed {}", simulated::LABEL, args.seed);
    let started = market.bars.values().filter_map(|b| b.first()).map(|b| b.time.to_string()).min().unwrap_or_default();
    let run_id = match store.begin_run(&files::display(&args.file), &program.hash, &market_label, &started) {
        Ok(id) => id,
        Err(e) => {
            eprintln!("error: cannot record the run: {e}");
            return exit::USAGE;
        }
    };
    let pause = (args.speed > 0.0).then(|| std::time::Duration::from_secs_f64(1.0 / args.speed));
    let mut clock = Paced { now: NaiveDateTime::default(), pause, started: std::time::Instant::now() };
    let mut replay = Replay::new(&market.bars, simulated::LABEL);
    let news = SimNews::new(market.news.clone());
    let mut broker = PaperBroker::new(args.cash, replay.symbols().len(), Costs::default());
    let host = Host {
        clock: &mut clock,
        market: &mut replay,
        news: &news,
        llm: models.llm.as_mut(),
        broker: &mut broker,
        store: Some((&mut store, run_id)),
    };
    let mut stream = Stream { out: &mut out, interrupted: interrupted.clone(), until: args.until, last: None };
    let report = match run_engine(&program, host, &limits, &mut stream) {
        Ok(r) => r,
        Err(e) if e.starts_with("the store refused") => {
            eprintln!("error: {e}; the run stopped there");
            return exit::USAGE;
        }
        Err(e) => {
            eprintln!("error: {e}");
            return exit::FOUND;
        }
    };
    for w in &report.warnings {
        if !w.starts_with("stopped after") {
            eprintln!("warning: {w}");
        }
    }
    if let Err(e) = models.finish() {
        eprintln!("error: {e}");
        return exit::USAGE;
    }
    let stopped = interrupted.load(Ordering::SeqCst);
    let filled = report.orders.iter().filter(|o| o.status == Status::Filled).count();
    let _ = writeln!(
        out,
        "{} after {} bars: equity {} ({:+.2}%), {} orders ({filled} filled)",
        if stopped { "stopped" } else { "finished" },
        report.equity_curve.len(),
        crate::backtest::money(report.final_equity),
        report.r#return,
        report.orders.len()
    );
    if let Err(e) = store.finish_run(run_id, if stopped { "stopped" } else { "finished" }, report.final_equity) {
        eprintln!("error: cannot record the end of the run: {e}");
        return exit::USAGE;
    }
    match save(&home, &args.file, run_id, &report) {
        Ok(path) => {
            let _ = writeln!(
                out,
                "run {run_id} recorded in {}; report saved to {}",
                home.join("store.redb").display(),
                path.display()
            );
            exit::OK
        }
        Err(e) => {
            eprintln!("error: cannot save the run's state: {e}");
            exit::USAGE
        }
    }
}

/// Writes the run's full report under `$STRAT_HOME` (default `.strat/`) as
/// `runs/<file>-<run id>.json`, the id the store gave the run, through a temporary file and a
/// rename, so a crash never leaves half a file.
fn save(
    home: &std::path::Path,
    file: &std::path::Path,
    run_id: u64,
    report: &strat_engine::report::Report,
) -> std::io::Result<PathBuf> {
    let dir = home.join("runs");
    files::private_dir(&dir)?;
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("run");
    let path = dir.join(format!("{stem}-{run_id}.json"));
    let body = serde_json::to_vec_pretty(&crate::report_json::JsonReport(report)).map_err(std::io::Error::other)?;
    files::write_atomically(&path, &body)?;
    Ok(path)
}
