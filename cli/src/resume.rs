//! Which run `strat run` resumes: the one `--resume RUN` names, the latest of the file with a
//! bare `--resume`, or by itself the file's latest run when it crashed and was started with
//! the same arguments. A resumed run is rebuilt from the arguments it was started with.

use crate::run::Args;
use strat_engine::store::{RunRecord, Store};

/// The arguments of this `strat run`, after the command's name, without `--resume` and its
/// value: what a run records to be resumed with.
pub fn current_args() -> Vec<String> {
    let mut out = Vec::new();
    let mut args = std::env::args().skip_while(|a| a != "run" && a != "serve").skip(1).peekable();
    while let Some(a) = args.next() {
        if a == "--resume" {
            if args.peek().is_some_and(|v| v.parse::<u64>().is_ok()) {
                args.next();
            }
        } else if a == "--listen" {
            // Where `strat serve` listens is no part of the run.
            args.next();
        } else if !a.starts_with("--resume=") && !a.starts_with("--listen=") {
            out.push(a);
        }
    }
    out
}

/// The arguments a run was started with, read again.
pub fn parse(args: &[String]) -> Result<Args, String> {
    #[derive(clap::Parser)]
    struct Again {
        #[command(flatten)]
        args: Args,
    }
    let argv = std::iter::once("strat run".to_string()).chain(args.iter().cloned());
    <Again as clap::Parser>::try_parse_from(argv)
        .map(|a| a.args)
        .map_err(|e| format!("the arguments the run was started with no longer read: {e}"))
}

fn resumable(r: &RunRecord) -> bool {
    matches!(r.status.as_str(), "crashed" | "stopped") && r.opening.is_some()
}

/// The run to resume: `asked` is `--resume`'s value (`Some(0)`: the file's latest), `file` the
/// file as recorded, `args` this invocation's arguments.
pub fn choose(store: &dyn Store, asked: Option<u64>, file: &str, args: &[String]) -> Result<Option<RunRecord>, String> {
    let runs = store.runs().map_err(|e| e.to_string())?;
    match asked {
        Some(0) => runs.into_iter().rev().find(|r| r.file == file && resumable(r)).map(Some).ok_or_else(|| {
            format!("no crashed or stopped run of {file} to resume (`strat run {file}` starts a new one)")
        }),
        Some(id) => {
            let r = runs.into_iter().find(|r| r.id == id).ok_or_else(|| format!("there is no run {id}"))?;
            if !matches!(r.status.as_str(), "crashed" | "stopped") {
                return Err(format!("run {id} is {}: only a crashed or stopped run is resumed", r.status));
            }
            if r.opening.is_none() {
                return Err(format!(
                    "run {id} cannot be resumed: it was recorded by an older strat, without what resuming needs"
                ));
            }
            Ok(Some(r))
        }
        None => Ok(runs
            .into_iter()
            .rev()
            .find(|r| r.file == file)
            .filter(|r| r.status == "crashed" && r.opening.as_ref().is_some_and(|o| o.args == args))),
    }
}
