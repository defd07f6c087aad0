//! `strat fmt`: rewrites files in the canonical layout, checks that they are in it (`--check`),
//! or formats standard input to standard output.

use crate::{ColorChoice, exit, files, render};
use std::io::{IsTerminal, Read, Write};
use std::path::PathBuf;
use strat_lang::load::read_source;
use strat_lang::{Diagnostic, FileId, Workspace};

#[derive(clap::Args)]
pub struct Args {
    /// Files or folders to format in place (folders are searched recursively for *.strat);
    /// `-`, or nothing with input piped in, formats standard input to standard output
    paths: Vec<PathBuf>,
    /// Change nothing: list the files that are not formatted, and exit 1 if there are any
    #[arg(long)]
    check: bool,
    /// When to use colour in error reports
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
}

/// The name standard input goes by in reports and in the `--check` list.
const STDIN: &str = "<stdin>";

pub fn run(args: &Args) -> u8 {
    let dash = args.paths.iter().any(|p| p.as_os_str() == "-");
    if dash && args.paths.len() > 1 {
        eprintln!("error: `-` (standard input) cannot be combined with other paths");
        return exit::USAGE;
    }
    if dash || args.paths.is_empty() {
        if !dash && std::io::stdin().is_terminal() {
            eprintln!("error: nothing to format: name files or folders, or pipe text in (`strat fmt - < FILE`)");
            return exit::USAGE;
        }
        return stdin(args);
    }
    let paths = match files::collect(&args.paths) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    if paths.is_empty() {
        eprintln!(
            "error: no .strat files found in {}",
            args.paths.iter().map(|p| format!("`{}`", p.display())).collect::<Vec<_>>().join(", ")
        );
        return exit::USAGE;
    }
    let mut ws = Workspace::new();
    let mut problems: Vec<Diagnostic> = Vec::new();
    let mut io_failed = false;
    let mut changed = false;
    let stdout = std::io::stdout();
    let mut out = stdout.lock();
    for p in &paths {
        let bytes = match read_source(p) {
            Ok(b) => b,
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", p.display());
                io_failed = true;
                continue;
            }
        };
        let shown = files::display(p);
        let id = ws.set_file(&shown, bytes.clone());
        let formatted = match format(&ws, id) {
            Ok(f) => f,
            Err(diags) => {
                problems.extend(diags);
                continue;
            }
        };
        if formatted.as_bytes() == bytes.as_slice() {
            continue;
        }
        changed = true;
        if !args.check
            && let Err(e) = files::write_atomically(p, formatted.as_bytes())
        {
            eprintln!("error: cannot write `{}`: {e}", p.display());
            io_failed = true;
            continue;
        }
        let _ = writeln!(out, "{shown}");
    }
    let _ = out.flush();
    if !problems.is_empty() {
        render::to_stderr(&ws, &problems, args.color);
    }
    if io_failed {
        exit::USAGE
    } else if !problems.is_empty() || args.check && changed {
        exit::FOUND
    } else {
        exit::OK
    }
}

/// The formatted text of a file of `ws`, or the errors that stop it being formatted.
fn format(ws: &Workspace, id: FileId) -> Result<String, Vec<Diagnostic>> {
    let parsed = ws.parsed(id);
    if parsed.diagnostics.iter().any(Diagnostic::is_error) {
        return Err(parsed.diagnostics.iter().filter(|d| d.is_error()).cloned().collect());
    }
    strat_lang::format::format(id, &parsed.text)
}

fn stdin(args: &Args) -> u8 {
    let mut bytes = Vec::new();
    if let Err(e) = std::io::stdin().lock().read_to_end(&mut bytes) {
        eprintln!("error: cannot read standard input: {e}");
        return exit::USAGE;
    }
    let mut ws = Workspace::new();
    let id = ws.set_file(STDIN, bytes.clone());
    let formatted = match format(&ws, id) {
        Ok(f) => f,
        Err(diags) => {
            render::to_stderr(&ws, &diags, args.color);
            return exit::FOUND;
        }
    };
    let mut out = std::io::stdout().lock();
    if args.check {
        if formatted.as_bytes() == bytes.as_slice() {
            return exit::OK;
        }
        let _ = writeln!(out, "{STDIN}");
        return exit::FOUND;
    }
    match out.write_all(formatted.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() != std::io::ErrorKind::BrokenPipe => {
            eprintln!("error: cannot write output: {e}");
            exit::USAGE
        }
        _ => exit::OK,
    }
}
