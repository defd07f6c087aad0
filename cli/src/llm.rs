//! Who answers the models of `strat backtest` and `strat run` (`--llm`): the providers that
//! have a key, the offline stand-in, or a cassette. Reads what the runtime may not: the
//! environment (`ANTHROPIC_API_KEY`, `OPENAI_API_KEY`, `ANTHROPIC_BASE_URL`, `OPENAI_BASE_URL`,
//! `OLLAMA_HOST`, `STRAT_HOME`, `STRAT_CONFIG`), the configuration file (`$STRAT_HOME/llm.conf`)
//! and the secrets file (`$STRAT_HOME/secrets`, or `secrets = PATH` in the configuration).

use crate::files;
use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use strat_engine::llm::Llm;
use strat_models::cassette::{Recorder, Replayer, Tape};
use strat_models::config::{File, parse_secrets};
use strat_models::{Router, Settings, Timing, tokio_sleep};

/// `--llm`.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Mode {
    /// Providers with a key; the offline stand-in for the others.
    Auto,
    /// Providers with a key; a model whose provider has none fails its calls.
    Strict,
    /// The offline stand-in for every model.
    Offline,
    /// As `auto`, recording every call to the file.
    Record(PathBuf),
    /// Answers from the file only.
    Replay(PathBuf),
}

pub const HELP: &str = "Who answers the models: `auto` (each model's provider when its key is set, e.g. \
    ANTHROPIC_API_KEY or OPENAI_API_KEY, else the offline stand-in), `strict` (a provider without a key \
    fails its calls), `offline` (the offline stand-in for every model), `record:FILE` (as auto, recording \
    every call to FILE), `replay:FILE` (answers from FILE only, no network)";

pub fn parse_mode(s: &str) -> Result<Mode, String> {
    let path = |p: &str| (!p.is_empty()).then(|| PathBuf::from(p)).ok_or_else(|| format!("`{s}` needs a file"));
    match s {
        "auto" => Ok(Mode::Auto),
        "strict" => Ok(Mode::Strict),
        "offline" => Ok(Mode::Offline),
        _ => match s.split_once(':') {
            Some(("record", p)) => path(p).map(Mode::Record),
            Some(("replay", p)) => path(p).map(Mode::Replay),
            _ => Err("expected auto, strict, offline, record:FILE or replay:FILE".to_string()),
        },
    }
}

/// The real clock: monotonic milliseconds, Unix time, tokio sleeps.
struct SystemTiming {
    started: Instant,
}

impl Timing for SystemTiming {
    fn now_ms(&self) -> u64 {
        self.started.elapsed().as_millis() as u64
    }
    fn unix_secs(&self) -> Option<f64> {
        SystemTime::now().duration_since(UNIX_EPOCH).ok().map(|d| d.as_secs_f64())
    }
    fn sleep(&self, d: Duration) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>> {
        tokio_sleep(d)
    }
}

/// What answers the models, and what to do once the run is over.
pub struct Models {
    pub llm: Box<dyn Llm>,
    tape: Option<(PathBuf, Arc<Mutex<Tape>>)>,
}

impl Models {
    /// Warns of what the run should know (fallbacks, unpriced models, open breakers) and
    /// saves a recorded cassette.
    pub fn finish(self) -> Result<(), String> {
        for n in self.llm.notes() {
            eprintln!("warning: {n}");
        }
        if let Some((path, tape)) = self.tape {
            let text = tape.lock().unwrap_or_else(|p| p.into_inner()).to_text();
            files::write_atomically(&path, text.as_bytes())
                .map_err(|e| format!("cannot write the cassette `{}`: {e}", path.display()))?;
            eprintln!("recorded {} model calls to {}", text.lines().count().saturating_sub(1), path.display());
        }
        Ok(())
    }
}

fn read(path: &Path, what: &str) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read the {what} `{}`: {e}", path.display()))
}

/// The providers' settings from the environment and the files.
fn settings(limits: &strat_engine::sandbox::Limits) -> Result<Settings, String> {
    let config = std::env::var_os("STRAT_CONFIG").map_or_else(|| crate::files::home().join("llm.conf"), PathBuf::from);
    let file = if config.exists() {
        File::parse(&read(&config, "configuration")?).map_err(|e| format!("{}: {e}", config.display()))?
    } else {
        File::default()
    };
    let secrets_path = file.secrets.as_ref().map_or_else(|| crate::files::home().join("secrets"), PathBuf::from);
    let secrets = if secrets_path.exists() {
        warn_if_readable(&secrets_path);
        parse_secrets(&read(&secrets_path, "secrets file")?).map_err(|e| format!("{}: {e}", secrets_path.display()))?
    } else if file.secrets.is_some() {
        return Err(format!(
            "the secrets file `{}` named in {} does not exist",
            secrets_path.display(),
            config.display()
        ));
    } else {
        BTreeMap::new()
    };
    let env: BTreeMap<String, String> =
        ["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "OLLAMA_HOST"]
            .into_iter()
            .filter_map(|n| std::env::var(n).ok().map(|v| (n.to_string(), v)))
            .collect();
    let mut s = Settings::resolve(&env, &file, &secrets);
    s.timeout = Duration::from_millis(limits.llm_timeout_ms);
    let now = SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64);
    s.seed = now ^ u64::from(std::process::id()).rotate_left(32);
    Ok(s)
}

#[cfg(unix)]
fn warn_if_readable(path: &Path) {
    use std::os::unix::fs::PermissionsExt;
    if let Ok(m) = std::fs::metadata(path)
        && m.permissions().mode() & 0o077 != 0
    {
        eprintln!("warning: the secrets file `{}` can be read by other users; `chmod 600` it", path.display());
    }
}

#[cfg(not(unix))]
fn warn_if_readable(_: &Path) {}

/// What answers `program`'s models under `mode`.
pub fn models(
    mode: &Mode,
    program: &strat_lang::ir::Program,
    limits: &strat_engine::sandbox::Limits,
) -> Result<Models, String> {
    let used = program.models.values().map(|m| m.provider.clone());
    let router = |fallback: bool| -> Result<Router, String> {
        let timing = Arc::new(SystemTiming { started: Instant::now() });
        Ok(Router::new(&settings(limits)?, timing, fallback).map_err(|e| e.to_string())?.using(used.clone()))
    };
    Ok(match mode {
        Mode::Offline => Models { llm: Box::new(Router::all_offline()), tape: None },
        Mode::Auto => Models { llm: Box::new(router(true)?), tape: None },
        Mode::Strict => Models { llm: Box::new(router(false)?), tape: None },
        Mode::Record(path) => {
            let (recorder, tape) = Recorder::new(Box::new(router(true)?));
            Models { llm: Box::new(recorder), tape: Some((path.clone(), tape)) }
        }
        Mode::Replay(path) => {
            let tape = Tape::parse(&read(path, "cassette")?).map_err(|e| format!("{}: {e}", path.display()))?;
            Models { llm: Box::new(Replayer::new(tape, &files::display(path))), tape: None }
        }
    })
}

/// Model budgets of a run (`--max-cost` and the like), fail-closed: once one is spent, further
/// model calls are skipped with the reason recorded.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct Budgets {
    /// Most model calls in the run
    #[arg(long, value_name = "N")]
    max_llm_calls: Option<u64>,
    /// Most model tokens (in and out) in the run
    #[arg(long, value_name = "N")]
    max_tokens: Option<u64>,
    /// Most US dollars of model calls in the run
    #[arg(long, value_name = "USD")]
    max_cost: Option<f64>,
    /// Most model tokens per agent or team
    #[arg(long, value_name = "N")]
    max_tokens_per_agent: Option<u64>,
    /// Most US dollars of model calls per agent or team
    #[arg(long, value_name = "USD")]
    max_cost_per_agent: Option<f64>,
}

impl Budgets {
    /// The sandbox's limits with these budgets; a negative or non-finite amount is refused.
    pub fn apply(&self, mut limits: strat_engine::sandbox::Limits) -> Result<strat_engine::sandbox::Limits, String> {
        let money = |v: Option<f64>, flag: &str| match v {
            Some(x) if !x.is_finite() || x < 0.0 => Err(format!("`{flag}` must be an amount of zero or more")),
            other => Ok(other),
        };
        if let Some(n) = self.max_llm_calls {
            limits.max_llm_calls = n;
        }
        limits.max_tokens = self.max_tokens.or(limits.max_tokens);
        limits.max_cost = money(self.max_cost, "--max-cost")?.or(limits.max_cost);
        limits.max_agent_tokens = self.max_tokens_per_agent.or(limits.max_agent_tokens);
        limits.max_agent_cost = money(self.max_cost_per_agent, "--max-cost-per-agent")?.or(limits.max_agent_cost);
        Ok(limits)
    }
}
