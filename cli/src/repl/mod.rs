//! `strat repl`: explore expressions and conditions over price data.
//!
//! - `backend`: the [`backend::Repl`] trait and the [`backend::Session`] that answers it (the
//!   tests drive it directly);
//! - `commands`: `:data`, `:at`, `:when`, `:type`, `:load`, `:help`, `:quit`, parsed from a line;
//! - `highlight`: colours by token kind, from the lexer;
//! - `front`: the rustyline front end (completion, hints, highlighting, the validator that
//!   tells unfinished input from wrong input) and persistent history.
//!
//! When standard input is not a terminal, lines are read from it and answered without prompts
//! or colours (for scripts and tests).

pub mod backend;
pub mod commands;
mod front;
mod highlight;
#[cfg(test)]
mod tests;

use crate::{ColorChoice, exit};
use backend::{Repl, Session};
use commands::Action;
use std::io::{BufRead, IsTerminal, Write};
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct Args {
    /// Price data to load first, as SYMBOL=PATH (repeat for several symbols)
    #[arg(long = "data", value_name = "SYMBOL=PATH")]
    data: Vec<String>,
    /// Leave out rows of the data that fail validation, listing and counting them, instead of
    /// refusing the file
    #[arg(long)]
    skip_bad_rows: bool,
    /// When to use colour (default: on a terminal when NO_COLOR is unset)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

pub fn run(args: &Args) -> u8 {
    let interactive = std::io::stdin().is_terminal();
    let color = args.color.enabled(interactive && std::io::stdout().is_terminal());
    let mut session = Session::new(color);
    session.bad_rows = crate::data::BadRows::from_flag(args.skip_bad_rows);
    if !args.data.is_empty() {
        let reply = session.data(&args.data.join(" "));
        print!("{}", reply.out);
        eprint!("{}", reply.err);
        if !reply.ok {
            return exit::USAGE;
        }
    }
    if interactive {
        let history = history_path();
        return front::run(&mut session, color, history.as_deref());
    }
    script(&mut session)
}

/// Answers the lines of standard input; an unfinished input takes the following lines too.
/// Exit code 1 when any input failed.
fn script(session: &mut Session) -> u8 {
    let stdin = std::io::stdin();
    let mut failed = false;
    let mut pending = String::new();
    let mut answer = |session: &mut Session, input: &str| -> bool {
        match commands::handle(session, input) {
            Action::Quit => false,
            Action::Print(reply) => {
                let mut out = std::io::stdout().lock();
                let _ = out.write_all(reply.out.as_bytes()).and_then(|()| out.flush());
                eprint!("{}", reply.err);
                failed |= !reply.ok;
                true
            }
        }
    };
    for line in stdin.lock().lines() {
        let Ok(line) = line else { break };
        // A command cannot continue an expression: what is pending is answered as it is.
        if !pending.is_empty() && line.trim_start().starts_with(':') {
            let input = std::mem::take(&mut pending);
            if !answer(session, &input) {
                return if failed { exit::FOUND } else { exit::OK };
            }
        }
        if !pending.is_empty() {
            pending.push('\n');
        }
        pending.push_str(&line);
        if commands::unfinished(&pending) {
            continue;
        }
        let input = std::mem::take(&mut pending);
        if !answer(session, &input) {
            return if failed { exit::FOUND } else { exit::OK };
        }
    }
    if !pending.trim().is_empty() {
        answer(session, &pending);
    }
    if failed { exit::FOUND } else { exit::OK }
}

/// `$STRAT_HOME/repl_history`, else `~/.strat/repl_history`; the folder is made if needed.
fn history_path() -> Option<PathBuf> {
    let dir = match std::env::var_os("STRAT_HOME").filter(|v| !v.is_empty()) {
        Some(home) => PathBuf::from(home),
        None => PathBuf::from(std::env::var_os("HOME").filter(|v| !v.is_empty())?).join(".strat"),
    };
    match crate::files::private_dir(&dir) {
        Ok(()) => Some(dir.join("repl_history")),
        Err(e) => {
            eprintln!("warning: no history: cannot create `{}`: {e}", dir.display());
            None
        }
    }
}
