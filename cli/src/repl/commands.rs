//! The REPL's commands: parsing a line into one, the help text, and handing it to a [`Repl`].

use super::backend::{Repl, Reply};

/// One command: a name, what follows it, what it does, and an example.
#[derive(Debug, PartialEq, Eq)]
pub struct Spec {
    pub name: &'static str,
    pub args: &'static str,
    pub about: &'static str,
    pub example: &'static str,
    /// What follows the name is an expression (checked, completed and highlighted as one).
    pub takes_expr: bool,
}

pub const COMMANDS: &[Spec] = &[
    Spec {
        name: "data",
        args: "SYM=PATH…",
        about: "load CSV price data for a symbol (the current bar moves to the last bar); alone, list what is loaded",
        example: ":data SPY=spy.csv",
        takes_expr: false,
    },
    Spec {
        name: "at",
        args: "DATE",
        about: "move the current bar to the last bar at or before DATE (YYYY-MM-DD [HH:MM], first, last); alone, show it",
        example: ":at 2020-03-16",
        takes_expr: false,
    },
    Spec {
        name: "when",
        args: "EXPR",
        about: "the bars where a condition is true, with its operands there",
        example: ":when rsi(SPY, 14) < 30",
        takes_expr: true,
    },
    Spec {
        name: "type",
        args: "EXPR",
        about: "the checked type of an expression, with its unit",
        example: ":type sma(SPY, 20)",
        takes_expr: true,
    },
    Spec {
        name: "load",
        args: "FILE",
        about: "check a .strat file and list its agents, workflows, teams and universes",
        example: ":load examples/dip_buyer.strat",
        takes_expr: false,
    },
    Spec { name: "help", args: "", about: "this list", example: ":help", takes_expr: false },
    Spec { name: "quit", args: "", about: "leave (also Ctrl-D)", example: ":quit", takes_expr: false },
];

/// The help text `:help` prints.
pub fn help() -> String {
    let mut out = String::from(
        "Type an expression to see its value: at the current bar when it reads price data, else its one value.\n\
         A condition also shows its parts and the last bar it was true on.\n\n",
    );
    let width = COMMANDS.iter().map(|c| c.name.len() + 1 + c.args.len()).max().unwrap_or(0);
    for c in COMMANDS {
        let head = if c.args.is_empty() { format!(":{}", c.name) } else { format!(":{} {}", c.name, c.args) };
        out.push_str(&format!("  {head:<w$}  {}\n", c.about, w = width + 1));
    }
    out.push_str("\nExamples:\n  40 + 2\n");
    for c in COMMANDS.iter().filter(|c| !matches!(c.name, "help" | "quit")) {
        out.push_str(&format!("  {}\n", c.example));
    }
    out.push_str(
        "  rsi(SPY, 14) < 30 and change(SPY, 1d) <= -3%\n\n\
         An unfinished line (an open bracket, a trailing operator) continues on the next; an empty line ends it.\n\
         Tab completes functions, tickers, fields after `.` and commands; Ctrl-C cancels the line.\n",
    );
    out
}

/// A line split into its command and the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Line<'a> {
    /// An expression to evaluate.
    Expr(&'a str),
    /// `:name rest`, with `spec` when the name is a known command (or a prefix of only one).
    Command { name: &'a str, spec: Option<&'static Spec>, rest: &'a str, rest_at: usize },
}

pub fn split(input: &str) -> Line<'_> {
    let trimmed = input.trim_start();
    let Some(after) = trimmed.strip_prefix(':') else { return Line::Expr(input) };
    let name_len = after.find(|c: char| c.is_whitespace()).unwrap_or(after.len());
    let name = &after[..name_len];
    let rest_at = input.len() - after.len() + name_len;
    let rest = &input[rest_at..];
    Line::Command { name, spec: find(name), rest, rest_at }
}

/// A command by name, or by a prefix that only one command has (`:w` is `:when`); `:q` and
/// `:exit` quit.
fn find(name: &str) -> Option<&'static Spec> {
    let name = if name == "exit" || name == "q" { "quit" } else { name };
    if let Some(c) = COMMANDS.iter().find(|c| c.name == name) {
        return Some(c);
    }
    let mut matching = COMMANDS.iter().filter(|c| !name.is_empty() && c.name.starts_with(name));
    match (matching.next(), matching.next()) {
        (Some(c), None) => Some(c),
        _ => None,
    }
}

/// Where the expression of a line starts and what it is, when the line is one or holds one.
pub fn expression(input: &str) -> Option<(usize, &str)> {
    match split(input) {
        Line::Expr(e) => Some((0, e)),
        Line::Command { spec: Some(s), rest, rest_at, .. } if s.takes_expr => Some((rest_at, rest)),
        Line::Command { .. } => None,
    }
}

/// What the front end does after a line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    Print(Reply),
    Quit,
}

/// Runs one line (possibly several lines of one input) against a backend.
pub fn handle(repl: &mut dyn Repl, input: &str) -> Action {
    match split(input) {
        Line::Expr(e) => Action::Print(repl.eval(e)),
        Line::Command { spec: Some(spec), rest, .. } => Action::Print(match spec.name {
            "data" => repl.data(rest),
            "at" => repl.at(rest),
            "when" => repl.when(rest),
            "type" => repl.type_of(rest),
            "load" => repl.load(rest),
            "help" => Reply::out(help()),
            _ => return Action::Quit,
        }),
        Line::Command { name, .. } => {
            let names = COMMANDS.iter().map(|c| c.name);
            Action::Print(Reply::error(match strat_stdlib::suggest(name, names) {
                Some(s) => format!("unknown command `:{name}`; did you mean `:{s}`? (`:help` lists them)"),
                None => format!("unknown command `:{name}`; `:help` lists the commands"),
            }))
        }
    }
}

/// Whether an input is unfinished and should go on over another line: the language decides for
/// an expression, also one after `:when` or `:type`; other commands are one line.
pub fn unfinished(input: &str) -> bool {
    expression(input).is_some_and(|(_, e)| strat_lang::repl::input_state(e) == strat_lang::repl::Input::Incomplete)
}
