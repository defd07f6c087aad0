//! `strat check`.

use crate::render;
use crate::{ColorChoice, Format, exit, files};
use std::io::{IsTerminal, Write};
use std::path::{Path, PathBuf};
use strat_lang::load::read_source;
use strat_lang::{Severity, Workspace};

#[derive(clap::Args)]
pub struct Args {
    /// Files or folders to check (folders are searched recursively for *.strat)
    #[arg(default_value = ".")]
    paths: Vec<PathBuf>,
    /// Output format
    #[arg(long, value_enum, default_value_t = Format::Human)]
    format: Format,
    /// Treat warnings as errors (exit 1 when there are any)
    #[arg(long, value_name = "warnings", value_parser = ["warnings"])]
    deny: Option<String>,
    /// Print the checked program instead of a report: `ir` prints the DAG IR as JSON
    #[arg(long, value_name = "WHAT", value_parser = ["ir"])]
    emit: Option<String>,
    /// When to use colour (default: when writing to a terminal and NO_COLOR is unset)
    #[arg(long, value_enum, default_value_t = ColorChoice::Auto)]
    color: ColorChoice,
    /// Also check the program against this data, as a run would start (repeatable): limits
    /// the data cannot evaluate are warned of, windows finer than its bars are errors
    #[arg(long = "data", value_name = "SYMBOL=PATH")]
    data: Vec<String>,
    #[command(flatten)]
    csv: crate::data::CsvFlags,
}

pub fn run(args: &Args) -> u8 {
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
    let mut roots = Vec::new();
    for p in &paths {
        match read_source(p) {
            Ok(bytes) => roots.push(ws.set_file(&files::display(p), bytes)),
            Err(e) => {
                eprintln!("error: cannot read `{}`: {e}", p.display());
                return exit::USAGE;
            }
        }
    }
    ws.load_imports(&roots, &mut |path: &str| read_source(Path::new(path)).map_err(|e| e.to_string()));
    let mut checked = if args.emit.is_some() || !args.data.is_empty() { ws.compile(&roots) } else { ws.check(&roots) };
    if let Some(program) = checked.program.as_ref().filter(|_| !args.data.is_empty()) {
        let data = match crate::data::load(&args.data, &args.csv) {
            Ok(d) => d,
            Err(code) => return code,
        };
        let found = against_data(&ws, &roots, program, &data);
        checked.diagnostics.extend(found);
    }
    let errors = checked.diagnostics.iter().filter(|d| d.severity == Severity::Error).count();
    let warnings = checked.diagnostics.len() - errors;
    let failed = errors > 0 || (warnings > 0 && args.deny.is_some());
    let stdout = std::io::stdout();
    let mut out = std::io::BufWriter::new(stdout.lock());
    let color = args.color.enabled(std::io::stdout().is_terminal());
    if args.emit.is_some() {
        // The IR goes to stdout; problems go to stderr so the output stays valid JSON.
        let mut err = std::io::stderr().lock();
        let _ = render::human(&ws, &checked.diagnostics, args.color.enabled(std::io::stderr().is_terminal()), &mut err);
        return match &checked.program {
            Some(p) if !failed => match serde_json::to_writer_pretty(&mut out, p)
                .and_then(|()| writeln!(out).map_err(serde_json::Error::io))
            {
                Ok(()) => exit::OK,
                Err(e) => {
                    eprintln!("error: cannot write the IR: {e}");
                    exit::USAGE
                }
            },
            _ => {
                let _ = writeln!(err, "error: no IR: {}", summary(errors, warnings, paths.len()));
                exit::FOUND
            }
        };
    }
    let written = match args.format {
        Format::Json => serde_json::to_writer_pretty(&mut out, &render::json(&ws, &checked.diagnostics))
            .map_err(std::io::Error::other)
            .and_then(|()| writeln!(out)),
        Format::Human => render::human(&ws, &checked.diagnostics, color, &mut out).and_then(|()| {
            if checked.diagnostics.is_empty() {
                writeln!(out, "checked {} file{}: no problems", paths.len(), plural(paths.len()))
            } else {
                writeln!(out, "{}", summary(errors, warnings, paths.len()))
            }
        }),
    };
    if let Err(e) = written.and_then(|()| out.flush())
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        eprintln!("error: cannot write output: {e}");
        return exit::USAGE;
    }
    if failed { exit::FOUND } else { exit::OK }
}

fn plural(n: usize) -> &'static str {
    if n == 1 { "" } else { "s" }
}

fn summary(errors: usize, warnings: usize, files: usize) -> String {
    format!("{errors} error{}, {warnings} warning{} in {files} file{}", plural(errors), plural(warnings), plural(files))
}

/// What a run of `program` on `data` would warn of or refuse before its first step, each
/// placed at the declaration it names (`` `DipBuyer`: max_vix … ``), else at the first file's
/// start.
fn against_data(
    ws: &Workspace,
    roots: &[strat_lang::FileId],
    program: &strat_lang::ir::Program,
    data: &std::collections::BTreeMap<String, Vec<strat_engine::market::Bar>>,
) -> Vec<strat_lang::Diagnostic> {
    use strat_lang::{Code, Diagnostic, Span};
    let snapshot = strat_lang::ide::Snapshot::of(ws, roots);
    // The first name the message quotes: a declaration of it, else where the text first says it.
    let place = |message: &str| {
        let name = message.split('`').nth(1).unwrap_or_default();
        let declared = roots.iter().find_map(|&f| {
            let symbols = strat_lang::ide::document_symbols(&snapshot, f);
            symbols.into_iter().find(|s| s.name == name).map(|s| (f, s.name_span))
        });
        let said =
            || roots.iter().find_map(|&f| word_at(ws.text(f), name).map(|at| (f, Span::new(at, at + name.len()))));
        declared.or_else(said).unwrap_or((roots[0], Span::new(0, 0)))
    };
    let (code, messages, label) = match strat_engine::engine::preflight(program, data) {
        Ok(warnings) => (Code::DataCannotEvaluate, warnings, "with the data given"),
        Err(e) => (Code::DataCannotRun, vec![e], "cannot run on the data given"),
    };
    messages
        .into_iter()
        .map(|m| {
            let (file, span) = place(&m);
            Diagnostic::new(code, file, span, m).label(label)
        })
        .collect()
}

/// Where `word` first stands on its own in `text` (not inside a longer name).
fn word_at(text: &str, word: &str) -> Option<usize> {
    let ident = |c: char| c.is_ascii_alphanumeric() || c == '_';
    (!word.is_empty()).then_some(())?;
    text.match_indices(word).map(|(i, _)| i).find(|&i| {
        !text[..i].chars().next_back().is_some_and(ident) && !text[i + word.len()..].chars().next().is_some_and(ident)
    })
}
