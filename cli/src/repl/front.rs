//! The interactive front end: rustyline with a helper that completes, hints, highlights and
//! validates from the language, and a loop that hands each input to the backend. It holds no
//! logic of its own beyond converting between rustyline and `strat_lang::repl`.

use super::backend::{Repl, Session};
use super::commands::{self, Action, COMMANDS, Line};
use rustyline::completion::{Completer, FilenameCompleter, Pair};
use rustyline::error::ReadlineError;
use rustyline::highlight::{CmdKind, Highlighter};
use rustyline::hint::{Hint, Hinter};
use rustyline::history::DefaultHistory;
use rustyline::validate::{ValidationContext, ValidationResult, Validator};
use rustyline::{ColorMode, CompletionType, Config, Context, Editor};
use std::borrow::Cow;
use std::collections::BTreeMap;
use std::io::Write;
use std::path::Path;

pub struct Helper {
    /// Tickers to complete, refreshed after every command.
    pub tickers: BTreeMap<String, String>,
    color: bool,
    files: FilenameCompleter,
}

/// The signature of the function being called, shown after the cursor; never inserted.
pub struct Signature(String);

impl Hint for Signature {
    fn display(&self) -> &str {
        &self.0
    }
    fn completion(&self) -> Option<&str> {
        None
    }
}

impl Completer for Helper {
    type Candidate = Pair;

    fn complete(&self, line: &str, pos: usize, ctx: &Context<'_>) -> rustyline::Result<(usize, Vec<Pair>)> {
        let before = &line[..pos];
        if let Line::Command { name, rest_at, spec, .. } = commands::split(line) {
            if pos <= rest_at {
                let start = before.rfind(':').unwrap_or(0);
                let found = COMMANDS
                    .iter()
                    .filter(|c| c.name.starts_with(name.get(..pos.saturating_sub(start + 1)).unwrap_or(name)))
                    .map(|c| Pair { display: format!(":{}", c.name), replacement: format!(":{} ", c.name) })
                    .collect();
                return Ok((start, found));
            }
            if spec.is_some_and(|s| s.name == "load" || s.name == "data") {
                return self.files.complete(line, pos, ctx);
            }
        }
        let Some((from, expr)) = commands::expression(line).filter(|(from, _)| *from <= pos) else {
            return Ok((pos, Vec::new()));
        };
        let found = strat_lang::repl::complete(expr, pos - from, &self.tickers);
        let pairs = found
            .items
            .into_iter()
            .map(|c| {
                let call = c.kind == strat_lang::ide::CompletionKind::Function;
                let replacement = if call { format!("{}(", c.label) } else { c.label.clone() };
                let display = if call { c.detail } else { c.label };
                Pair { display, replacement }
            })
            .collect();
        Ok((from + found.span.start as usize, pairs))
    }
}

impl Hinter for Helper {
    type Hint = Signature;

    fn hint(&self, line: &str, pos: usize, _: &Context<'_>) -> Option<Signature> {
        if pos != line.len() {
            return None;
        }
        let (from, expr) = commands::expression(line)?;
        let sig = strat_lang::repl::signature(expr, pos.checked_sub(from)?)?;
        Some(Signature(format!("  {sig}")))
    }
}

impl Highlighter for Helper {
    fn highlight<'l>(&self, line: &'l str, _: usize) -> Cow<'l, str> {
        if self.color { Cow::Owned(super::highlight::line(line)) } else { Cow::Borrowed(line) }
    }

    fn highlight_prompt<'b, 's: 'b, 'p: 'b>(&'s self, prompt: &'p str, _: bool) -> Cow<'b, str> {
        if self.color { Cow::Owned(format!("\x1b[1;32m{prompt}\x1b[0m")) } else { Cow::Borrowed(prompt) }
    }

    fn highlight_hint<'h>(&self, hint: &'h str) -> Cow<'h, str> {
        if self.color { Cow::Owned(format!("\x1b[2m{hint}\x1b[0m")) } else { Cow::Borrowed(hint) }
    }

    fn highlight_char(&self, _: &str, _: usize, kind: CmdKind) -> bool {
        // Repaint as characters are typed or deleted, not when only the cursor moves.
        self.color && kind == CmdKind::Other
    }
}

impl Validator for Helper {
    fn validate(&self, ctx: &mut ValidationContext<'_>) -> rustyline::Result<ValidationResult> {
        Ok(if commands::unfinished(ctx.input()) { ValidationResult::Incomplete } else { ValidationResult::Valid(None) })
    }
}

impl rustyline::Helper for Helper {}

/// The prompt; continuation lines have none (rustyline draws them as typed).
pub const PROMPT: &str = "strat> ";

/// Runs the interactive loop until `:quit` or Ctrl-D. History is read from and written to
/// `history` when given.
pub fn run(session: &mut Session, color: bool, history: Option<&Path>) -> u8 {
    let config = Config::builder()
        .completion_type(CompletionType::List)
        .color_mode(if color { ColorMode::Forced } else { ColorMode::Disabled })
        .auto_add_history(false)
        .max_history_size(1000)
        .and_then(|c| c.history_ignore_dups(true))
        .map(|c| c.history_ignore_space(true).build());
    let editor = config.and_then(Editor::<Helper, DefaultHistory>::with_config);
    let mut rl = match editor {
        Ok(rl) => rl,
        Err(e) => {
            eprintln!("error: cannot start the line editor: {e}");
            return crate::exit::USAGE;
        }
    };
    rl.set_helper(Some(Helper { tickers: session.tickers(), color, files: FilenameCompleter::new() }));
    if let Some(h) = history {
        // A first session has no history yet; anything else unreadable starts empty too.
        let _ = rl.load_history(h);
    }
    println!("strat repl: `:help` lists the commands, Ctrl-D leaves");
    loop {
        match rl.readline(PROMPT) {
            Ok(input) => {
                if !input.trim().is_empty() {
                    let _ = rl.add_history_entry(input.as_str());
                }
                match commands::handle(session, &input) {
                    Action::Quit => break,
                    Action::Print(reply) => {
                        print!("{}", reply.out);
                        eprint!("{}", reply.err);
                        let _ = std::io::stdout().flush();
                    }
                }
                if let Some(h) = rl.helper_mut() {
                    h.tickers = session.tickers();
                }
            }
            // Ctrl-C drops the line being typed and asks again.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => break,
            Err(e) => {
                eprintln!("error: cannot read the terminal: {e}");
                break;
            }
        }
    }
    if let Some(h) = history
        && let Err(e) = rl.save_history(h)
    {
        eprintln!("warning: cannot save the history to `{}`: {e}", h.display());
    }
    crate::exit::OK
}
