//! The `strat` command-line tool.
#![allow(clippy::disallowed_methods)] // the binary is where files, environment and terminal are read

mod backtest;
mod check;
mod client;
mod control;
mod data;
mod eval;
mod files;
mod fmt;
mod history;
mod live;
mod llm;
mod manual;
mod notify_conf;
mod paper;
mod render;
mod repl;
mod report_json;
mod resume;
mod run;
mod runs;
mod serve;
mod settings;

use clap::{Parser, Subcommand, ValueEnum};

// The front end allocates many small nodes; mimalloc makes `strat check` about a fifth faster
// than the system allocator on the benchmark project (docs/benchmarks.md).
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use std::process::ExitCode;

/// Exit codes: each means one thing.
pub mod exit {
    /// Success: nothing to report.
    pub const OK: u8 = 0;
    /// The input has errors (or warnings under `--deny warnings`).
    pub const FOUND: u8 = 1;
    /// Bad usage, or a file could not be read or written.
    pub const USAGE: u8 = 2;
}

#[derive(Parser)]
#[command(
    name = "strat",
    version,
    about = "A checked strategy language for LLM-powered trading agents",
    long_about = "strat checks .strat files that declare agents, triggers, workflows and teams, \
                  and compiles them to one checked DAG IR.",
    after_help = "Examples:\n  strat check examples/\n  strat check --format json strategy.strat\n  strat fmt --check .\n  strat eval 'rsi(SPY, 14)' --data SPY=spy.csv --format csv\n  strat backtest examples/sma_crossover.strat --data SPY=spy.csv\n  strat run examples/dip_buyer.strat\n  strat serve examples/alert_follower.strat\n  strat halt --reason \"market turmoil\"\n  strat runs\n  strat log --format json\n  strat repl --data SPY=spy.csv\n  strat doc rsi\n  strat lsp\n\nExit codes: 0 clean, 1 problems found, 2 usage or I/O error."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Check .strat files and folders for errors
    #[command(
        after_help = "Examples:\n  strat check examples/\n  strat check --deny warnings src/ strategies/dip.strat\n  strat check --format json strategy.strat | jq '.[].code'\n  strat check --emit ir dip_buyer.strat > dip_buyer.ir.json\n  strat check dip_buyer.strat --data AAPL=aapl.csv --data VIX=vix.csv --deny warnings\n\nFolders are searched recursively for *.strat files; all files named are checked together as one project. With --data, the program is also compiled against the data as a run would start: a limit the data cannot evaluate (max_vix without VIX) is a warning (W1001), a window finer than the data's bars an error (E1001).\nExit codes: 0 clean, 1 errors found (or warnings with --deny warnings), 2 usage or I/O error."
    )]
    Check(check::Args),
    /// Format .strat files in the one canonical layout
    #[command(
        after_help = "Examples:\n  strat fmt examples/\n  strat fmt --check .\n  strat fmt - < messy.strat > tidy.strat\n\nFiles are rewritten in place (through a temporary file and a rename) and listed when they change; folders are searched recursively for *.strat. With `-`, or with no path and text piped in, standard input is formatted to standard output. Comments and blank lines between declarations, settings and statements are kept; a file with syntax errors is reported and left as it is.\nExit codes: 0 formatted (with --check: already formatted), 1 syntax errors (with --check: also files that would change), 2 usage or I/O error."
    )]
    Fmt(fmt::Args),
    /// Run a strategy on the embedded defaults: simulated market, paper broker, offline stand-in
    #[command(
        after_help = "Examples:\n  strat run examples/dip_buyer.strat\n  strat run examples/sma_crossover.strat --speed 0 --days 500\n  strat run strategy.strat --bar-minutes 5 --days 5 --until 2024-01-05\n  strat run strategy.strat --data AAPL=aapl_1m.csv --speed 60 --until 6h\n  POLYGON_API_KEY=... strat run strategy.strat --market polygon --until 6h\n  APCA_API_KEY_ID=... APCA_API_SECRET_KEY=... strat run strategy.strat --market polygon --broker alpaca\n  OPENAI_BASE_URL=http://127.0.0.1:11434/v1 strat run strategy.strat --llm strict\n  strat run strategy.strat --resume\n\nThe market is simulated (a seeded random walk, not real prices), or the recorded bars of --data (read as backtest reads them, with its --from, --to, --cash, --commission, --slippage and --fill), replayed at --speed bars a second, or Polygon's live minute bars with --market polygon (POLYGON_API_KEY; warmed on the last --warm-up-days of REST minute bars, trading from the first live bar); --until stops after a day, at a time, or after a duration of market time from the first bar; orders go to the paper broker; each model is answered by its provider when its key is set (ANTHROPIC_API_KEY, OPENAI_API_KEY, or $STRAT_HOME/secrets; base URLs from ANTHROPIC_BASE_URL, OPENAI_BASE_URL or $STRAT_HOME/llm.conf), otherwise by the offline stand-in (rule-based, not a model). Ctrl-C or SIGTERM stops cleanly; a run that was killed outright is marked crashed when the store opens next, and is resumed from its journal (replayed without sending anything, its orders of unknown outcome looked up at the broker) by the next `strat run` with the same arguments, or by --resume. The run's report is saved as .strat/runs/FILE-RUNID.json (or under $STRAT_HOME/runs/).\nExit codes: 0 finished or stopped, 1 the file has errors, 2 usage error or the state could not be saved."
    )]
    Run(run::Args),
    /// Run a strategy as `strat run` does, with the HTTP API of the service beside it
    #[command(
        after_help = "Examples:\n  strat serve examples/dip_buyer.strat\n  strat serve strategies/\n  strat serve strategy.strat --market polygon --broker alpaca --listen 127.0.0.1:8080\n  curl -H \"Authorization: Bearer $(strat token)\" http://127.0.0.1:7878/api/v1/agents\n  ALERT_SECRET=whsec_... strat serve examples/alert_follower.strat\n\nThe file is checked (the service refuses to start on errors) and run exactly as `strat run` runs it: the same flags, the same choice of market and broker ($STRAT_HOME/strat.conf), the same journal and recovery. The API under /api/v1 (its routes in /api/v1/openapi.json) reads the store while the run writes it: status, runs, agents, triggers, executions (filtered, in pages), one execution whole, an agent's performance over --days, orders, positions, account, firings and the audit log; it takes the operator's decisions (activate, pause, archive, enable and disable a trigger, halt, resume: the run obeys them from its next step) and signed webhooks (Standard Webhooks; the secret from the variable the trigger names; each accepted call committed before its 202 and run once). Every request needs the bearer token of $STRAT_HOME/token (made on first start, mode 0600; `strat token` prints it). Bodies over 1 MiB are refused (413); no CORS header is sent. The address is written to $STRAT_HOME/service.json. When the data ends the API goes on answering; Ctrl-C or SIGTERM stops the run, then the API.\nExit codes: 0 stopped cleanly, 1 the file has errors, 2 usage error, the address is taken, or the state could not be saved."
    )]
    Serve(serve::Args),
    /// Print the service's bearer token (made on first use), or replace it
    #[command(
        after_help = "Examples:\n  strat token\n  curl -H \"Authorization: Bearer $(strat token)\" http://127.0.0.1:7878/api/v1/status\n  strat token --rotate\n\nThe token is kept in $STRAT_HOME/token (default .strat/token), readable by its owner only. After --rotate a running service refuses the old token from its next request.\nExit codes: 0 printed, 2 the file cannot be read or written."
    )]
    Token(serve::TokenArgs),
    /// Halt everything: no trigger fires and no webhook runs until `strat resume`
    #[command(
        after_help = "Examples:\n  strat halt --reason \"market turmoil\"\n  strat halt --format json\n\nWith a service running, it goes through its API (its run stops firing from its next step); without one it is written to the store, so the next `strat serve` comes up halted. Idempotent; written to the audit log with who asked and why. Orders already open stay open.\nExit codes: 0 done (or halted already), 2 the service refused or the store cannot be written."
    )]
    Halt(control::HaltArgs),
    /// Lift a halt
    #[command(
        after_help = "Examples:\n  strat resume\n  strat resume --reason \"checked the feed\"\n\nThrough the running service, or the store when none runs; idempotent; written to the audit log.\nExit codes: 0 done, 2 the service refused or the store cannot be written."
    )]
    Resume(control::HaltArgs),
    /// Pause an agent, workflow or team: its triggers are not evaluated
    #[command(
        after_help = "Examples:\n  strat pause DipBuyer --reason \"earnings week\"\n\nThrough the running service (the name is checked against its file), or the store when none runs; idempotent; written to the audit log. `strat activate` undoes it.\nExit codes: 0 done, 2 no such agent, the service refused, or the store cannot be written."
    )]
    Pause(control::StatusArgs),
    /// Activate a paused or archived agent, workflow or team
    #[command(
        after_help = "Examples:\n  strat activate DipBuyer\n\nThrough the running service, or the store when none runs; idempotent; written to the audit log.\nExit codes: 0 done, 2 no such agent, the service refused, or the store cannot be written."
    )]
    Activate(control::StatusArgs),
    /// Archive an agent, workflow or team: as paused, and listed so
    #[command(
        after_help = "Examples:\n  strat archive OldMomentum\n\nThrough the running service, or the store when none runs; idempotent; written to the audit log.\nExit codes: 0 done, 2 no such agent, the service refused, or the store cannot be written."
    )]
    Archive(control::StatusArgs),
    /// Cancel every open order, each one's result reported
    #[command(
        after_help = "Examples:\n  strat cancel-all --reason \"feed looks wrong\"\n  strat cancel-all --broker alpaca --format json\n\nWith a service running, its run cancels every open order at its next step, before the broker works that step's bars (the paper broker and Alpaca alike), and each order is reported in its latest state. With none running, the orders are cancelled at Alpaca directly (DELETE /v2/orders, each item of the answer reported) when the broker is Alpaca (--broker, or `broker` in $STRAT_HOME/strat.conf); the paper broker's orders live only in a running service. Idempotent; written to the audit log.\nExit codes: 0 done, 1 an item failed or is still open, 2 the service or the venue refused."
    )]
    CancelAll(control::EmergencyArgs),
    /// Halt, cancel every open order and sell every position at market
    #[command(
        after_help = "Examples:\n  strat liquidate --yes --reason \"risk off\"\n  strat liquidate --yes --broker alpaca\n\nWith a service running, everything is halted first (nothing buys again until `strat resume`), then its run cancels every open order and sells every position at market at its next step; each order is reported. With none running, Alpaca closes every position directly (DELETE /v2/positions?cancel_orders=true, each item reported). --yes is required. Written to the audit log.\nExit codes: 0 done, 1 an item failed, 2 not confirmed, or the service or the venue refused."
    )]
    Liquidate(control::EmergencyArgs),
    /// List the agents, workflows and teams with their status and triggers
    #[command(
        after_help = "Examples:\n  strat agents\n  strat agents examples/dip_buyer.strat --format json\n\nFrom the running service, or from FILE and the store's decisions when none runs: each graph's kind and status (active, paused, archived), and each trigger's id and whether it is enabled.\nExit codes: 0 listed, 2 no service and no file, or the file or store cannot be read."
    )]
    Agents(control::AgentsArgs),
    /// List the runs the store holds
    #[command(
        after_help = "Examples:\n  strat runs\n  strat runs --format json | jq '.[] | select(.status == \"crashed\")'\n\nReads the store under $STRAT_HOME (default .strat/): each run's id, status (running, finished, stopped or crashed), file, first bar, steps and equity. A store a running `strat run` holds open cannot be read meanwhile.\nExit codes: 0 listed, 2 no store or it cannot be read."
    )]
    Runs(runs::RunsArgs),
    /// Show one run's executions and orders from the store
    #[command(
        after_help = "Examples:\n  strat log\n  strat log 3\n  strat log 3 --format json | jq '.executions[] | select(.status == \"failed\")'\n  strat log --graph DipBuyer --symbol AAPL --from 2024-03-01 --status rejected\n\nThe run's record, then each execution (when, which agent or workflow, its status, what fired it, the decision or the error) and each order in its latest state; with --format json the whole records. Without RUN, the latest run. --graph, --symbol, --from and --to narrow both; --status the executions.\nExit codes: 0 shown, 2 no such run, no store, or it cannot be read."
    )]
    Log(runs::LogArgs),
    /// Show one execution's whole record from the store
    #[command(
        after_help = "Examples:\n  strat show 4\n  strat show 4 --run 2 --format json | jq .validation\n\nWhat fired it, the prompt as sent (the system prompt and the prompt, from the texts the store keeps once), the model's raw reply, the decision, every check of the risk gate, the orders, tokens, cost and duration. Without --run, the latest run.\nExit codes: 0 shown, 2 no such run or execution, no store, or it cannot be read."
    )]
    Show(runs::ShowArgs),
    /// Show a run's statistics per agent, workflow and team from the store
    #[command(
        after_help = "Examples:\n  strat stats\n  strat stats DipBuyer --run 3\n  strat stats --format json | jq '.DipBuyer.win_rate'\n\nThe seed's statistics of each graph over the run: executions (rejected, failed), average execution time, orders (filled, refused by the risk gate), winning and losing round trips, win rate, realised P&L, tokens and cost. Without --run, the latest run.\nExit codes: 0 shown, 2 no such run or graph, no store, or it cannot be read."
    )]
    Stats(runs::StatsArgs),
    /// Run a strategy's workflows over historical data with the paper broker
    #[command(
        after_help = "Examples:\n  strat backtest examples/sma_crossover.strat --data SPY=spy.csv --cash 100000\n  strat backtest strategy.strat --data AAPL=aapl.csv --from 2015-01-01 --to 2019-12-31 --format json\n  strat backtest strategy.strat --data SPY=spy.csv --commission 0.005/share --slippage 5bps --fill next-close\n  ANTHROPIC_API_KEY=sk-ant-... strat backtest examples/dip_buyer.strat --data AAPL=aapl.csv --llm record:dip.cassette\n  strat backtest examples/dip_buyer.strat --data AAPL=aapl.csv --llm replay:dip.cassette\n  strat backtest examples/dip_buyer.strat --data AAPL=aapl.csv --deny failures   # in CI\n  POLYGON_API_KEY=... strat backtest strategy.strat --data polygon:AAPL:minute --from 2024-01-02 --to 2024-03-28\n\nOrders decided at a bar's close fill at the next bar's open (--fill next-close or same-close to change it); a buy that costs more than the cash at the fill is rejected. Every order passes the risk gate of the limits in force, and each execution records its checks. Each model is answered by its provider when its key is set (ANTHROPIC_API_KEY, OPENAI_API_KEY, or $STRAT_HOME/secrets), otherwise by the offline stand-in (rule-based, not a model, labelled in the output); `--llm record:run.cassette` records the calls and `--llm replay:run.cassette` replays them with no network, byte for byte. CSV data carries no news, so news and webhook triggers do not fire in backtests (with a warning). Executions that failed are listed at the end, grouped by reason. With --from, the data before that day warms the indicators (an RSI or a 200-day average there reads as it does over the whole history) and trading starts on it.\nExit codes: 0 success, 1 the file has errors (or an execution failed, with --deny failures), 2 usage or data error."
    )]
    Backtest(backtest::Args),
    /// Run one agent or team once, by hand, and show its whole execution record
    #[command(
        after_help = "Examples:\n  strat test examples/dip_buyer.strat --data AAPL=aapl.csv --data MSFT=msft.csv\n  strat test examples/dip_buyer.strat --agent DipBuyer --symbol AAPL --at 2014-06-02 --data AAPL=aapl.csv\n  strat test strategy.strat --data SPY=spy.csv --format json | jq '.[0].status'\n  strat test examples/alert_follower.strat --data MSFT=msft.csv --payload alert.json\n\nThe data replays up to --at (default: its last bar) with nothing firing; then the agent or team (every one of the file without --agent) runs once as if started by hand; with --payload, as its webhook would start it (the JSON file checked against the declared payload, its `symbol` the run's). The record shows the prompt as sent, the raw reply, the decoded decision, each check of the risk gate, the order if any, tokens, cost, duration and status. Models are answered as --llm says (by default their provider when its key is set, else the offline stand-in, which is rule-based and not a model). Symbols without data are reported and left out.\nExit codes: 0 ran (whatever the outcome), 1 the file has errors, 2 usage or data error."
    )]
    Test(manual::Args),
    /// Print exactly what an agent's model would be sent at a given time
    #[command(
        after_help = "Examples:\n  strat prompt examples/dip_buyer.strat --agent DipBuyer --symbol AAPL --at 2014-06-02 --data AAPL=aapl.csv\n  strat prompt examples/vote_team.strat --agent AnalystVote --data AAPL=aapl.csv --format json\n\nThe system prompt and the final prompt (the strategy, the context the agent declared as of that time, the answer's schema), for each model call of the run: a team shows each member's. Nothing is sent anywhere: the offline stand-in answers, so a later member of a sequential team sees the stand-in's answers of the earlier ones.\nExit codes: 0 printed, 1 the file has errors, 2 usage or data error."
    )]
    Prompt(manual::Args),
    /// Evaluate an expression at every bar of historical data
    #[command(
        after_help = "Examples:\n  strat eval 'rsi(SPY, 14)' --data SPY=spy.csv --format csv\n  strat eval 'sma(SPY, 10) crosses above sma(SPY, 30)' --data SPY=spy.csv\n  strat eval 'close(AAPL) / close(MSFT)' --data AAPL=aapl.csv --data MSFT=msft.csv --format json\n\nCSV files may use the Yahoo layout (Date,Open,High,Low,Close,Adj Close,Volume), date,open,high,low,close,volume, an extra time column, or a leading index column; commas, semicolons or tabs; quoted fields; dates as YYYY-MM-DD, MM/DD/YYYY, epoch seconds or milliseconds, or ISO times with an offset (read as New York time). What the header does not show is named with --csv-delimiter, --csv-date-format and --csv-column FIELD=HEADER (--csv-column close=\"Adj Close\"). A row that fails validation (a price not positive or over 1e9, open or close outside low..high, rows out of time order, …) refuses the file with its line and reason; `--skip-bad-rows` leaves such rows out instead, listing and counting them. A file without a volume column loads, but an expression that reads its volume is an error. Values are empty during an indicator's warm-up.\nExit codes: 0 success, 1 the expression has errors or cannot be evaluated on price history, 2 usage or data error."
    )]
    Eval(eval::Args),
    /// Explore expressions and conditions over price data, interactively
    #[command(
        after_help = "Examples:\n  strat repl --data SPY=spy.csv\n  strat> rsi(SPY, 14) < 30 and change(SPY, 1d) <= -3%\n  strat> :when rsi(SPY, 14) < 30\n  strat> :at 2020-03-16\n  strat> :type sma(SPY, 20)\n  echo '40 + 2' | strat repl\n\nAn expression prints its value with its unit: at the current bar when it reads price data (the last bar after :data; :at moves it), else its one value. A condition also shows its parts with their operands, and the last bar it was true on; :when lists every bar where it is true. An unfinished line (open bracket, trailing operator) continues on the next; an empty line ends it. Tab completes functions, tickers, fields and commands. History is kept in $STRAT_HOME/repl_history (default ~/.strat/repl_history). When standard input is not a terminal, its lines are answered without prompts or colours.\nExit codes: 0 success (interactive: always), 1 an input from standard input failed, 2 usage or data error."
    )]
    Repl(repl::Args),
    /// Show the standard library reference, or one function's entry
    #[command(
        after_help = "Examples:\n  strat doc          # the whole reference, as markdown\n  strat doc rsi      # one function\n  strat doc limits   # the limit settings"
    )]
    Doc {
        /// A function, record, limit or provider name
        name: Option<String>,
    },
    /// Start the language server on standard input and output (for editors)
    #[command(
        after_help = "Examples:\n  strat lsp                      # an editor starts this and speaks LSP on stdin/stdout\n  code --install-extension strat-0.1.0.vsix   # the VS Code extension runs `strat lsp`\n\nThe server checks open documents as you type, together with the .strat files of the workspace folders and the files they import (read from disk unless open in the editor). It answers hover, completion, signature help, definition, references, rename, symbols, folding, semantic tokens, formatting (as strat fmt), code actions and inlay hints. Positions are UTF-16 unless the client offers UTF-8.\nExit codes: 0 after the client's shutdown and exit, 2 when standard input or output cannot be used."
    )]
    Lsp,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum Format {
    Human,
    Json,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, ValueEnum)]
pub enum ColorChoice {
    Auto,
    Always,
    Never,
}

impl ColorChoice {
    /// Whether to colour output going to a stream: `auto` colours a terminal unless `NO_COLOR`
    /// is set to something.
    pub fn enabled(self, terminal: bool) -> bool {
        match self {
            ColorChoice::Always => true,
            ColorChoice::Never => false,
            ColorChoice::Auto => terminal && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty()),
        }
    }
}

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() { exit::USAGE } else { exit::OK };
            let _ = e.print();
            return ExitCode::from(code);
        }
    };
    let code = match cli.command {
        Command::Check(args) => check::run(&args),
        Command::Fmt(args) => fmt::run(&args),
        Command::Eval(args) => eval::run(&args),
        Command::Backtest(args) => backtest::run(&args),
        Command::Run(args) => run::run(&args),
        Command::Serve(args) => serve::serve(&args),
        Command::Token(args) => serve::token(&args),
        Command::Halt(args) => control::halt(&args),
        Command::Resume(args) => control::resume(&args),
        Command::Pause(args) => control::status(&args, "paused"),
        Command::Activate(args) => control::status(&args, "active"),
        Command::Archive(args) => control::status(&args, "archived"),
        Command::Agents(args) => control::agents(&args),
        Command::CancelAll(args) => control::emergency(&args, false),
        Command::Liquidate(args) => control::emergency(&args, true),
        Command::Runs(args) => runs::runs(&args),
        Command::Log(args) => runs::log(&args),
        Command::Show(args) => runs::show_one(&args),
        Command::Stats(args) => runs::stats(&args),
        Command::Test(args) => manual::test(&args),
        Command::Prompt(args) => manual::prompt(&args),
        Command::Repl(args) => repl::run(&args),
        Command::Doc { name } => doc(name.as_deref()),
        Command::Lsp => match strat_lsp::run_stdio() {
            Ok(()) => exit::OK,
            Err(e) => {
                eprintln!("error: cannot start the language server: {e}");
                exit::USAGE
            }
        },
    };
    ExitCode::from(code)
}

fn doc(name: Option<&str>) -> u8 {
    match name {
        None => {
            print!("{}", strat_stdlib::reference_markdown());
            exit::OK
        }
        Some(n) => match strat_stdlib::describe(n) {
            Some(text) => {
                print!("{text}");
                exit::OK
            }
            None => {
                let names = strat_stdlib::FUNCTIONS.iter().map(|f| f.name);
                match strat_stdlib::suggest(n, names) {
                    Some(s) => eprintln!("error: nothing named `{n}` in the standard library; did you mean `{s}`?"),
                    None => eprintln!(
                        "error: nothing named `{n}` in the standard library; run `strat doc` for the whole reference"
                    ),
                }
                exit::USAGE
            }
        },
    }
}
