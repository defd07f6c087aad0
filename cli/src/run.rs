//! `strat run`: a file on the embedded defaults — the simulated market (or recorded bars with
//! `--data`) replayed in accelerated or real time, the paper broker and the models (the
//! offline stand-in without a key) — streaming what happens, until the data ends, `--until`,
//! or Ctrl-C. The run is journaled into the store under `.strat/` (or `$STRAT_HOME`) one commit
//! a bar, and its full report saved beside it at the end.

use crate::{ColorChoice, exit, files};
use chrono::{NaiveDate, NaiveDateTime};
use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use strat_engine::broker::{PaperBroker, Side, Status};
use strat_engine::engine::{Mode, Observer, run_from};
use strat_engine::host::{Broker, Clock, Host, MarketData};
use strat_engine::market::simulated;
use strat_engine::resume::{Journal, Replayed, Resumed};
use strat_engine::sim::{Replay, SimNews};
use strat_engine::store::{RunRecord, StepView, Store};
use strat_store::RedbStore;

#[derive(clap::Args)]
pub struct Args {
    /// The strategy file (several: checked and run together as one program, as `strat check`
    /// checks them)
    #[arg(required = true, num_args = 1..)]
    files: Vec<PathBuf>,
    /// Where the bars come from: the simulated market, or Polygon's live minute bars (the
    /// symbols the file names, warmed on their REST history; POLYGON_API_KEY)
    /// (default: `market` in $STRAT_HOME/strat.conf, else sim)
    #[arg(long, value_enum, conflicts_with = "data")]
    market: Option<Source>,
    /// Where orders go: the paper broker here, or Alpaca (APCA_API_KEY_ID, APCA_API_SECRET_KEY;
    /// its paper account unless --live)
    /// (default: `broker` in $STRAT_HOME/strat.conf, else paper)
    #[arg(long, value_enum)]
    broker: Option<BrokerChoice>,
    /// Trade real money: with --broker alpaca and APCA_API_BASE_URL set to Alpaca's live host
    #[arg(long)]
    live: bool,
    /// With `--market polygon`: days of minute bars before today that warm the indicators
    /// (default: `warm_up_days` in $STRAT_HOME/strat.conf, else 5)
    #[arg(long)]
    warm_up_days: Option<u32>,
    /// Paper-trade these recorded bars, as SYMBOL=PATH (repeat for several symbols) or
    /// polygon:SYMBOL[:minute] (fetched for --from and --to), instead of the simulated market
    #[arg(long = "data", value_name = "SYMBOL=PATH")]
    data: Vec<String>,
    #[command(flatten)]
    csv: crate::data::CsvFlags,
    /// Trading days of simulated market to replay
    #[arg(long, default_value_t = 252, conflicts_with = "data")]
    days: usize,
    /// Bar length of the simulated market in minutes (390 = one bar a day)
    #[arg(long, default_value_t = 390, conflicts_with = "data")]
    bar_minutes: u32,
    /// Seed of the simulated market (the same seed replays the same market)
    #[arg(long, default_value_t = 42, conflicts_with = "data")]
    seed: u64,
    /// Bars replayed per second; 0 replays as fast as possible
    #[arg(long, default_value_t = 50.0)]
    speed: f64,
    /// Stop cleanly after this day (YYYY-MM-DD), at this time (YYYY-MM-DD HH:MM), or once this
    /// much market time has passed from the first bar (90m, 6h, 5d)
    #[arg(long, value_name = "TIME|DURATION", value_parser = parse_until)]
    until: Option<Until>,
    #[command(flatten)]
    period: crate::paper::Period,
    #[command(flatten)]
    paper: crate::paper::Paper,
    /// When to use colour in error reports
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    #[arg(long, value_name = "MODE", default_value = "auto", value_parser = crate::llm::parse_mode, help = crate::llm::HELP)]
    llm: crate::llm::Mode,
    #[command(flatten)]
    budgets: crate::llm::Budgets,
    /// Resume a crashed or stopped run (the file's latest without RUN) from its journal: it is
    /// replayed from its first bar without sending anything, its orders of unknown outcome are
    /// looked up at the broker, and it trades on from the step after its last. Without this
    /// flag, the file's latest run is resumed by itself when it crashed and was started with
    /// the same arguments
    #[arg(long, value_name = "RUN", num_args = 0..=1, default_missing_value = "0")]
    pub resume: Option<u64>,
}

/// The simulated market's time, replayed at `speed` steps per wall-clock second (the steps a
/// resumed run replays from its journal, up to `fast_until`, at once).
struct Paced {
    now: NaiveDateTime,
    pause: Option<std::time::Duration>,
    started: std::time::Instant,
    fast_until: NaiveDateTime,
}

impl Clock for Paced {
    fn now(&self) -> NaiveDateTime {
        self.now
    }
    fn advance_to(&mut self, t: NaiveDateTime) {
        if let Some(p) = self.pause
            && self.now != NaiveDateTime::default()
            && t > self.fast_until
        {
            std::thread::sleep(p);
        }
        self.now = t;
    }
    fn monotonic_ms(&self) -> f64 {
        self.started.elapsed().as_secs_f64() * 1e3
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum BrokerChoice {
    Paper,
    Alpaca,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Source {
    Sim,
    Polygon,
}

/// When a run stops by itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// After the last bar at or before this time.
    At(NaiveDateTime),
    /// Once this many seconds of market time have passed from the first bar.
    For(i64),
}

impl Until {
    /// The last instant traded, given the first bar's time (unknown before it, for a duration).
    fn end(self, first: Option<NaiveDateTime>) -> Option<NaiveDateTime> {
        match self {
            Until::At(t) => Some(t),
            Until::For(secs) => first.map(|f| f + chrono::Duration::seconds(secs)),
        }
    }
}

fn parse_until(s: &str) -> Result<Until, String> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        return Ok(Until::At(d.and_hms_opt(23, 59, 59).unwrap_or_default()));
    }
    for format in ["%Y-%m-%d %H:%M", "%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S"] {
        if let Ok(t) = NaiveDateTime::parse_from_str(s, format) {
            return Ok(Until::At(t));
        }
    }
    let units = [("w", 604_800), ("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)];
    let duration = units.iter().find_map(|(u, secs)| {
        s.strip_suffix(u).and_then(|n| n.parse::<i64>().ok()).filter(|n| *n > 0).map(|n| n.saturating_mul(*secs))
    });
    duration.map(Until::For).ok_or_else(|| {
        format!("`{s}` is not a day (2014-06-02), a time (2014-06-02 15:30) or a duration (90m, 6h, 5d)")
    })
}

/// The bars replayed, the news with them, and what they are called.
struct Market {
    bars: std::collections::BTreeMap<String, Vec<strat_engine::market::Bar>>,
    news: Vec<strat_engine::news::Article>,
    label: String,
}

/// The recorded bars of `--data`, or the simulated market; cut at `--to` and `--until`.
fn market(args: &Args) -> Result<Market, u8> {
    let mut m = if args.data.is_empty() {
        let sim = simulated::simulate(&simulated::Config {
            seed: args.seed,
            days: args.days.max(1),
            bar_minutes: args.bar_minutes,
            ..simulated::Config::default()
        });
        let label = format!("{} (seed {}, {} symbols)", simulated::LABEL, args.seed, sim.bars.len());
        Market { bars: sim.bars, news: sim.news, label }
    } else {
        let bars = crate::history::load_all(&args.data, &args.csv, &args.period)?;
        let label = format!("recorded bars of {}", bars.keys().cloned().collect::<Vec<_>>().join(", "));
        Market { bars, news: Vec::new(), label }
    };
    args.period.select(&mut m.bars);
    let first = m.bars.values().filter_map(|b| b.first()).map(|b| b.time).min();
    if let Some(end) = args.until.and_then(|u| u.end(first)) {
        for bars in m.bars.values_mut() {
            bars.retain(|b| b.time <= end);
        }
        m.bars.retain(|_, b| !b.is_empty());
    }
    if m.bars.is_empty() {
        eprintln!("error: no bars to run on between the dates given");
        return Err(exit::USAGE);
    }
    Ok(m)
}

struct Stream<'a> {
    out: &'a mut dyn Write,
    /// Where `notify` lines are delivered as well (none configured: only here and the log).
    notifier: Option<&'a strat_service::notify::Notifier>,
    run: u64,
    interrupted: Arc<AtomicBool>,
    /// A live feed's `--until` (a replay is cut to it beforehand), with the first bar's time.
    until: Option<Until>,
    first: Option<NaiveDateTime>,
    last: Option<NaiveDateTime>,
    /// A resumed run's last journaled step: the steps up to it were shown when they ran.
    replayed: Option<NaiveDateTime>,
}

impl Observer for Stream<'_> {
    fn step(&mut self, s: &StepView<'_>) {
        let time = s.time;
        self.first.get_or_insert(time);
        self.last = Some(time);
        if let Some(until) = self.replayed {
            if time <= until {
                return;
            }
            self.replayed = None;
            let _ = writeln!(self.out, "{time}  resumed: the steps before were replayed from the journal");
        }
        let day = if time.time() == chrono::NaiveTime::MIN { time.date().to_string() } else { time.to_string() };
        for (n, l) in s.log.iter().enumerate() {
            let _ = writeln!(self.out, "{day}  {:<14} {}", l.graph, l.message);
            if let (true, Some(notifier)) = (l.notify, self.notifier) {
                notifier.send(strat_service::notify::Note {
                    id: format!("strat-{}-{}-{n}", self.run, time.format("%Y%m%dT%H%M%S")),
                    time: time.to_string(),
                    source: l.graph.clone(),
                    message: l.message.clone(),
                    run: Some(self.run),
                });
            }
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
        let end = self.until.and_then(|u| u.end(self.first));
        self.interrupted.load(Ordering::SeqCst) || end.zip(self.last).is_some_and(|(e, l)| l >= e)
    }
}

/// The store under `$STRAT_HOME` (default `.strat/`), created private.
fn open_store() -> Result<(PathBuf, RedbStore), u8> {
    let home = crate::files::home();
    open_store_at(&home).map(|s| (home, s))
}

/// The store under `home`, created private (with `home`) when missing.
pub fn open_store_at(home: &std::path::Path) -> Result<RedbStore, u8> {
    if let Err(e) = files::private_dir(home) {
        eprintln!("error: cannot create `{}`: {e}", home.display());
        return Err(exit::USAGE);
    }
    RedbStore::open(&home.join("store.redb")).map_err(|e| {
        eprintln!("error: {e}");
        exit::USAGE
    })
}

/// The notification channels' deliverer, when `notify.conf` or the environment names any; a
/// configuration that cannot be read refuses the run.
fn notifier(store: &RedbStore) -> Result<Option<Arc<strat_service::notify::Notifier>>, u8> {
    let (channels, retry) = crate::notify_conf::channels().map_err(usage)?;
    if channels.is_empty() {
        return Ok(None);
    }
    let n = strat_service::notify::Notifier::start(channels, retry, Some(store.controls()))
        .map_err(|e| usage(format!("the notifications cannot start: {e}")))?;
    Ok(Some(Arc::new(n)))
}

/// The orders of crashed runs whose outcome the journal does not know: each intent committed
/// before its broker call with no acknowledgement or fill recorded after it. They may have
/// reached the broker, so the user is told, run by run, before anything else happens.
fn unresolved(store: &RedbStore) -> Vec<(u64, String)> {
    let runs = store.runs().unwrap_or_default();
    let mut out = Vec::new();
    for r in runs.iter().filter(|r| r.status == "crashed") {
        let known: std::collections::BTreeMap<u64, Status> =
            store.orders(r.id).unwrap_or_default().into_iter().map(|o| (o.id, o.status)).collect();
        let open: Vec<String> = store
            .intents(r.id)
            .unwrap_or_default()
            .into_iter()
            .filter(|i| known.get(&i.id).is_none_or(|s| *s == Status::Pending))
            .map(|i| format!("{} {} {} (order {})", i.side.name(), i.qty, i.symbol, i.id))
            .collect();
        if !open.is_empty() {
            out.push((r.id, format!(
                "run {} of {} crashed with {} order{} whose outcome is unknown: {}; they may have reached the broker: check them there",
                r.id,
                r.file,
                open.len(),
                if open.len() == 1 { "" } else { "s" },
                open.join(", ")
            )));
        }
    }
    out
}

/// The key of a run's client order ids: unique to the run (its id in the store and the instant
/// it began, so a store made afresh cannot reuse an id the broker has seen), at most 20 characters.
fn run_key(run_id: u64) -> String {
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos());
    format!("{run_id}x{:x}", nanos % (1u128 << 48))
}

pub fn run(args: &Args) -> u8 {
    match run_checked(args, None) {
        Ok(code) | Err(code) => code,
    }
}

/// What a run tells whoever hosts it (`strat serve`), once it is about to trade.
pub struct Ready<'a> {
    pub reader: strat_store::Reader,
    pub controls: strat_store::Controls,
    pub program: &'a strat_lang::ir::Program,
    pub file: String,
    pub run: u64,
    pub market: &'a str,
    pub broker: &'a str,
    /// Where notifications go, when channels are configured.
    pub notifier: Option<Arc<strat_service::notify::Notifier>>,
    /// Set when the run is to stop (Ctrl-C, SIGTERM).
    pub interrupted: Arc<AtomicBool>,
}

/// Hosts a run: told once it is ready, before its first step; an error stops it there.
pub trait Hosting {
    fn ready(&mut self, ready: Ready<'_>) -> Result<(), u8>;
}

/// [`run`], hosted.
pub fn run_hosted(args: &Args, host: &mut dyn Hosting) -> u8 {
    match run_checked(args, Some(host)) {
        Ok(code) | Err(code) => code,
    }
}

fn usage(e: String) -> u8 {
    eprintln!("error: {e}");
    exit::USAGE
}

/// The market, the broker and the warm-up days: the flags, else `$STRAT_HOME/strat.conf`, else
/// the embedded defaults.
fn adapters(args: &Args) -> Result<(Source, BrokerChoice, u32), u8> {
    let conf = crate::settings::run_conf().map_err(|e| usage(e.to_string()))?;
    let source =
        args.market.unwrap_or(if conf.market.as_deref() == Some("polygon") { Source::Polygon } else { Source::Sim });
    let choice = args.broker.unwrap_or(if conf.broker.as_deref() == Some("alpaca") {
        BrokerChoice::Alpaca
    } else {
        BrokerChoice::Paper
    });
    if args.live && choice != BrokerChoice::Alpaca {
        return Err(usage("`--live` is for `--broker alpaca`: the paper broker trades no money".into()));
    }
    Ok((source, choice, args.warm_up_days.or(conf.warm_up_days).unwrap_or(5)))
}

/// The run to resume, if the program is the one it ran: found by itself, a run of a file
/// changed since is left (a new run starts, and says so); asked for with `--resume`, refused.
fn same_program(
    resumed: Option<RunRecord>,
    given: &Args,
    program: &strat_lang::ir::Program,
) -> Result<Option<RunRecord>, u8> {
    match resumed {
        Some(r) if r.program_hash != program.hash && given.resume.is_none() => {
            eprintln!(
                "note: run {} of {} crashed, but the file changed since it began: a new run starts",
                r.id, r.file
            );
            Ok(None)
        }
        Some(r) if r.program_hash != program.hash => Err(usage(format!(
            "{} changed since run {} began, so the run cannot be resumed as it was: restore the file, or start a new run without --resume",
            r.file, r.id
        ))),
        other => Ok(other),
    }
}

/// The run's id in the store: the resumed run's, marked running again, or a new run's.
fn begin_or_reopen(
    store: &mut RedbStore,
    resumed: Option<&RunRecord>,
    (file, program, market): (&[PathBuf], &strat_lang::ir::Program, &Market),
    out: &mut dyn Write,
) -> Result<u64, u8> {
    match resumed {
        Some(r) => {
            let steps =
                r.last_step.as_deref().map_or("none".to_string(), |t| format!("{} steps, the last at {t}", r.steps));
            let _ = writeln!(
                out,
                "resuming run {} ({steps}): replayed from its first bar, sending nothing, then traded on",
                r.id
            );
            Ok(store.reopen_run(r.id).map_err(|e| usage(format!("cannot resume the run: {e}")))?.id)
        }
        None => {
            let started =
                market.bars.values().filter_map(|b| b.first()).map(|b| b.time.to_string()).min().unwrap_or_default();
            store
                .begin_run(&files::display_all(file), &program.hash, &market.label, &started)
                .map_err(|e| usage(format!("cannot record the run: {e}")))
        }
    }
}

/// The run to resume, if any, with the arguments it was started with.
fn resuming(store: &RedbStore, given: &Args) -> Result<Option<(RunRecord, Args)>, u8> {
    let file = files::display_all(&given.files);
    let Some(r) = crate::resume::choose(store, given.resume, &file, &crate::resume::current_args()).map_err(usage)?
    else {
        return Ok(None);
    };
    if r.file != file {
        return Err(usage(format!("run {} ran {}, not {file}", r.id, r.file)));
    }
    let args = crate::resume::parse(&r.opening.as_ref().map(|o| o.args.clone()).unwrap_or_default()).map_err(usage)?;
    Ok(Some((r, args)))
}

fn run_checked(given: &Args, hosting: Option<&mut dyn Hosting>) -> Result<u8, u8> {
    let hosted = hosting.is_some();
    let (home, mut store) = open_store()?;
    let (resumed, again) = resuming(&store, given)?.unzip();
    let args = again.as_ref().unwrap_or(given);
    if !(args.speed.is_finite() && args.speed >= 0.0) {
        eprintln!("error: `--speed` must be zero or more");
        return Err(exit::USAGE);
    }
    args.period.check()?;
    let (source, choice, warm_up_days) = adapters(args)?;
    let env = crate::settings::Env::load();
    let costs = args.paper.costs()?;
    let program = files::compile_all(&args.files, args.color)?;
    let resumed = same_program(resumed, given, &program)?;
    let live = source == Source::Polygon && args.data.is_empty();
    let opened = resumed.as_ref().and_then(|r| r.opening.clone());
    // A live run's warm-up days, and for a resumed one its first and last journaled live steps.
    let (mut warm_up, mut first_live, mut replayed_live) = (None, None, None);
    let (market, rest) = if live {
        let symbols: Vec<String> = crate::live::symbols(&program).into_iter().collect();
        if symbols.is_empty() {
            return Err(usage("the file names no symbol, so there is nothing to subscribe to".into()));
        }
        let window = opened.and_then(|o| o.warm_up).unwrap_or_else(|| crate::live::window(warm_up_days));
        let (mut bars, rest) = crate::live::history(&symbols, window, &env)?;
        if let Some(r) = &resumed {
            let journaled = store.bars(r.id).map_err(|e| usage(format!("cannot read the journal: {e}")))?;
            replayed_live = journaled.last().map(|s| s.step);
            first_live = crate::live::replayed(&mut bars, journaled);
        }
        warm_up = Some(window);
        (Market { bars, news: Vec::new(), label: "Polygon live minute bars".into() }, Some(rest))
    } else {
        (market(args)?, None)
    };
    let limits = args.budgets.apply(strat_engine::sandbox::Limits::default()).map_err(usage)?;
    let notifier = notifier(&store)?;
    let mut models = crate::llm::models(&args.llm, &program, &limits).map_err(usage)?;
    let interrupted = Arc::new(AtomicBool::new(false));
    let flag = interrupted.clone();
    if let Err(e) = ctrlc::set_handler(move || flag.store(true, Ordering::SeqCst)) {
        eprintln!("warning: Ctrl-C will not stop the run cleanly: {e}");
    }
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    let _ = writeln!(
        out,
        "strat run {} on the {}, models answered by the {}; Ctrl-C stops",
        files::display_all(&args.files),
        market.label,
        models.llm.label()
    );
    let resumed_id = resumed.as_ref().map(|r| r.id);
    for w in unresolved(&store).into_iter().filter(|(id, _)| Some(*id) != resumed_id) {
        eprintln!("warning: {}", w.1);
    }
    let run_id = begin_or_reopen(&mut store, resumed.as_ref(), (&args.files, &program, &market), &mut out)?;
    let (mut replay, mut warmed) = (None, None);
    let feed: &mut dyn MarketData = match rest {
        Some(rest) => {
            let w = warmed.insert(crate::live::warmed(&market.bars, rest, &env)?);
            if let Some(last) = replayed_live {
                w.resume_after(last);
            }
            w
        }
        None => replay.insert(Replay::new(&market.bars, &market.label)),
    };
    let symbols = feed.symbols().to_vec();
    let mut journal = match &resumed {
        Some(r) => Some(Journal::read(&store, r, &symbols).map_err(|e| usage(e.to_string()))?),
        None => None,
    };
    // A hosted run takes the operator's decisions and the webhooks' firings from the store; a
    // resumed one replays what its journal says they were, step by step, first.
    let mut live_control = hosted.then(|| strat_store::StoreControl { controls: store.controls() });
    let controlled = journal.as_mut().map(|j| (j.until, std::mem::take(&mut j.controlled)));
    let until = journal.as_ref().map(|j| j.until);
    let news = SimNews::new(market.news.clone());
    let key = resumed.as_ref().and_then(|r| r.opening.as_ref()).map_or_else(|| run_key(run_id), |o| o.key.clone());
    let (mut paper, mut alpaca) = (None, None);
    let broker: &mut dyn Broker = match choice {
        BrokerChoice::Paper => paper.insert(PaperBroker::new(args.paper.cash, symbols.len(), costs)),
        BrokerChoice::Alpaca => {
            let config =
                strat_brokers::AlpacaConfig::from_env(|k| env.get(k), args.live).map_err(|e| usage(e.to_string()))?;
            alpaca.insert(strat_brokers::AlpacaBroker::new(config, &key, &symbols).map_err(usage)?)
        }
    };
    if resumed.is_none() {
        let mut opening = strat_engine::resume::opening(crate::resume::current_args(), key, broker.account(), &symbols);
        opening.warm_up = warm_up;
        store.record_opening(run_id, &opening).map_err(|e| usage(format!("cannot record the run: {e}")))?;
    }
    let _ = writeln!(out, "orders go to the {}", broker.label());
    if let Some(h) = hosting {
        h.ready(Ready {
            reader: store.reader(),
            controls: store.controls(),
            program: &program,
            file: files::display_all(&args.files),
            run: run_id,
            market: &market.label,
            broker: &broker.label(),
            notifier: notifier.clone(),
            interrupted: interrupted.clone(),
        })?;
    }
    let intents: std::collections::BTreeSet<u64> =
        journal.as_ref().map(|j| j.intents.keys().copied().collect()).unwrap_or_default();
    // A real broker's orders live at the venue: the journal answers for it up to its last
    // step. The paper broker lives in this process, so replaying it rebuilds it.
    let mut replayed = None;
    let broker: &mut dyn Broker = match journal {
        Some(j) if choice == BrokerChoice::Alpaca => replayed.insert(Replayed::new(broker, j)),
        _ => broker,
    };
    let mut journaled = None;
    let store_ref: &mut dyn Store = match until {
        Some(until) => {
            let bars_until = replayed_live.unwrap_or(NaiveDateTime::MIN);
            journaled.insert(Resumed { inner: &mut store, until, intents, bars_until })
        }
        None => &mut store,
    };
    let live_control = live_control.as_mut().map(|c| c as &mut dyn strat_engine::control::Control);
    let mut replayed_control = None;
    let control: Option<&mut dyn strat_engine::control::Control> = match controlled {
        Some((until, said)) => {
            Some(replayed_control.insert(strat_engine::control::ReplayedControl::new(live_control, until, said)))
        }
        None => live_control,
    };
    let pause = (args.speed > 0.0).then(|| std::time::Duration::from_secs_f64(1.0 / args.speed));
    let fast_until = until.unwrap_or(NaiveDateTime::MIN);
    let mut clock = Paced { now: NaiveDateTime::default(), pause, started: std::time::Instant::now(), fast_until };
    let host = Host {
        clock: &mut clock,
        market: feed,
        news: &news,
        llm: models.llm.as_mut(),
        broker,
        store: Some((store_ref, run_id)),
        control,
    };
    let stop_at = if live { args.until } else { None };
    let mut stream = Stream {
        out: &mut out,
        notifier: notifier.as_deref(),
        run: run_id,
        interrupted: interrupted.clone(),
        until: stop_at,
        first: None,
        last: None,
        replayed: until,
    };
    // A live feed trades from its first live bar: the history before it only warms.
    let trade_from = if live { Some(first_live.unwrap_or(NaiveDateTime::MAX)) } else { args.period.trade_from() };
    let report = match run_from(&program, host, &limits, &mut stream, Mode::Triggers, trade_from) {
        Ok(r) => r,
        Err(e) if e.starts_with("the store refused") => return Err(usage(format!("{e}; the run stopped there"))),
        Err(e) => {
            eprintln!("error: {e}");
            return Err(exit::FOUND);
        }
    };
    let replay_problems = replayed.as_ref().map(|r| r.problems().to_vec()).unwrap_or_default();
    let broker_notes = alpaca.as_ref().map(|a: &strat_brokers::AlpacaBroker| a.notes().to_vec()).unwrap_or_default();
    let feed_notes = warmed.as_ref().map(crate::live::Warmed::notes).unwrap_or_default();
    let said = report.warnings.iter().filter(|w| !w.starts_with("stopped after")).cloned();
    for w in said.chain(replay_problems).chain(feed_notes).chain(broker_notes) {
        eprintln!("warning: {w}");
    }
    models.finish().map_err(usage)?;
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
    store
        .finish_run(run_id, if stopped { "stopped" } else { "finished" }, report.final_equity)
        .map_err(|e| usage(format!("cannot record the end of the run: {e}")))?;
    let path = save(&home, &args.files[0], (&store, run_id), &report, live)
        .map_err(|e| usage(format!("cannot save the run's state: {e}")))?;
    let _ = writeln!(
        out,
        "run {run_id} recorded in {}; report saved to {}",
        home.join("store.redb").display(),
        path.display()
    );
    Ok(exit::OK)
}

/// Writes the run's full report under `$STRAT_HOME` (default `.strat/`) as
/// `runs/<file>-<run id>.json`, the id the store gave the run, through a temporary file and a
/// rename, so a crash never leaves half a file. A live run keeps its executions in the store
/// only, so they are read back from it one at a time as the file is written.
fn save(
    home: &std::path::Path,
    file: &std::path::Path,
    (store, run_id): (&RedbStore, u64),
    report: &strat_engine::report::Report,
    live: bool,
) -> std::io::Result<PathBuf> {
    let dir = home.join("runs");
    files::private_dir(&dir)?;
    let stem = file.file_stem().and_then(|s| s.to_str()).unwrap_or("run");
    let path = dir.join(format!("{stem}-{run_id}.json"));
    let stored = Journaled(store, run_id);
    let executions: Option<&dyn crate::report_json::Executions> = live.then_some(&stored);
    files::write_atomically_with(&path, |w| {
        serde_json::to_writer_pretty(w, &crate::report_json::JsonReport(report, executions))
            .map_err(std::io::Error::other)
    })?;
    Ok(path)
}

/// A run's executions as the store holds them.
struct Journaled<'a>(&'a RedbStore, u64);

impl crate::report_json::Executions for Journaled<'_> {
    fn each(&self, f: &mut dyn FnMut(serde_json::Value) -> Result<(), String>) -> Result<(), String> {
        self.0.each_execution(self.1, f).map_err(|e| e.to_string())
    }
}
