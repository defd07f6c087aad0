//! The backend driven through [`Repl`] by scripted sessions: each input with the exact text it
//! prints on standard output and standard error.

use super::backend::{Repl, Session};
use super::commands::{self, Action};
use std::path::PathBuf;

/// A folder of its own for one test, removed when dropped.
struct Folder(PathBuf);

impl std::ops::Deref for Folder {
    type Target = PathBuf;
    fn deref(&self) -> &PathBuf {
        &self.0
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A folder of its own for one test, with a small CSV of ten daily bars of `X`.
fn fixture(name: &str) -> Folder {
    let dir = std::env::temp_dir().join(format!("strat-repl-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let closes = [10, 11, 12, 11, 13, 14, 12, 15, 16, 14];
    let mut csv = String::from("date,open,high,low,close,volume\n");
    for (i, c) in closes.iter().enumerate() {
        csv.push_str(&format!("2024-01-{:02},{c},{c},{c},{c},{}\n", i + 1, 1000 * (i + 1)));
    }
    std::fs::write(dir.join("x.csv"), csv).expect("csv");
    std::fs::write(
        dir.join("gaps.csv"),
        "date,open,high,low,close,volume\n2024-01-01,1,1,1,1,5\n2024-01-02,1,1,1,oops,5\n",
    )
    .expect("csv");
    Folder(dir)
}

fn spy() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../shared/data/prices/SPY_D.csv").to_string()
}

/// Runs `steps` (input, standard output, standard error) in one session.
fn script(session: &mut Session, steps: &[(&str, &str, &str)]) {
    for (input, out, err) in steps {
        let (o, e) = match commands::handle(session, input) {
            Action::Print(r) => (r.out, r.err),
            Action::Quit => ("<quit>".to_string(), String::new()),
        };
        assert_eq!((o.as_str(), e.as_str()), (*out, *err), "input: {input}");
    }
}

#[test]
fn plain_expressions_need_no_data() {
    let mut s = Session::new(false);
    script(
        &mut s,
        &[
            ("40 + 2", "42\n", ""),
            ("$1_234.5 * 2", "$2,469.00\n", ""),
            ("-3.2%", "-3.2%\n", ""),
            ("10 shares", "10 shares\n", ""),
            ("90m", "90m\n", ""),
            ("2024-01-02", "2024-01-02\n", ""),
            ("15:30", "15:30\n", ""),
            ("\"say \\\"hi\\\"\"", "\"say \\\"hi\\\"\"\n", ""),
            ("[SPY, AAPL]", "[SPY, AAPL]\n", ""),
            ("1 < 2 and not false", "true\n", ""),
            ("1 / 3", "0.3333\n", ""),
            ("1 / 0", "undefined\n", ""),
            ("", "", ""),
            ("rsi(SPY, 14)", "", "error: no data for `SPY`: load it with `:data SPY=PATH`\n"),
            (
                "weekday() == 1",
                "",
                "error: the clock (`now`, `today()`, `time_of_day()`, `weekday()`, `market_open()`) needs a current \
                 bar: load price data first with `:data SYMBOL=PATH`\n",
            ),
            (
                "portfolio.cash",
                "",
                "error: `portfolio` needs a portfolio or a live run; the REPL sees price history only\n",
            ),
            (":when 1 < 2", "", "error: no data loaded: `:data SYMBOL=PATH` loads some, e.g. `:data SPY=spy.csv`\n"),
            (":at 2024-01-01", "", "error: no data loaded: `:data SYMBOL=PATH` loads some, e.g. `:data SPY=spy.csv`\n"),
            (":data", "no data loaded: `:data SYMBOL=PATH` loads some, e.g. `:data SPY=spy.csv`\n", ""),
        ],
    );
}

#[test]
fn errors_render_like_strat_check_with_the_expression_as_source() {
    let mut s = Session::new(false);
    script(
        &mut s,
        &[
            (
                "price(SPY) + 5%",
                "",
                "[E0202] Error: cannot add a price to a percent\n   \
                 ╭─[ <input>:1:12 ]\n   \
                 │\n \
                 1 │ price(SPY) + 5%\n   \
                 │ ─────┬──── ┬ ─┬  \n   \
                 │      │     ╰───── `+` here\n   \
                 │      │        │  \n   \
                 │      ╰─────────── price\n   \
                 │               │  \n   \
                 │               ╰── percent\n   \
                 │ \n   \
                 │ Help: to change a price by a percent, multiply by a percent: `x * 105%` (or `x * 95%`)\n\
                 ───╯\n",
            ),
            (
                ":type rsii(SPY)",
                "",
                "[E0103] Error: unknown function `rsii`\n   \
                 ╭─[ <input>:1:1 ]\n   \
                 │\n \
                 1 │ rsii(SPY)\n   \
                 │ ──┬─  \n   \
                 │   ╰─── not a standard library function\n   \
                 │ \n   \
                 │ Help: did you mean `rsi`?\n\
                 ───╯\n",
            ),
            (
                "agent A { model m }",
                "",
                "error: declarations are not evaluated in the REPL: put them in a file and `:load FILE` it\n",
            ),
            (":type", "", "error: `:type` needs an expression, e.g. `:type price(SPY)`\n"),
            (":when", "", "error: `:when` needs a condition, e.g. `:when rsi(SPY, 14) < 30`\n"),
            (":frob", "", "error: unknown command `:frob`; `:help` lists the commands\n"),
            (":lod x", "", "error: unknown command `:lod`; did you mean `:load`? (`:help` lists them)\n"),
        ],
    );
}

#[test]
fn types_with_units() {
    let mut s = Session::new(false);
    script(
        &mut s,
        &[
            (":type sma(SPY, 20)", "price (money per share)\n", ""),
            (":t volume(SPY)", "quantity (shares)\n", ""),
            (":type change(SPY, 1d) <= -3%", "bool\n", ""),
            (":type bollinger(SPY)", "bollinger { upper: price, middle: price, lower: price }\n", ""),
            (":type 5% * $100", "money (dollars)\n", ""),
        ],
    );
}

#[test]
fn a_bad_row_refuses_the_file_unless_rows_are_skipped() {
    let dir = fixture("refuse");
    let gaps = dir.join("gaps.csv").display().to_string();
    let mut s = Session::new(false);
    let reply = s.data(&format!("Y={gaps}"));
    assert!(!reply.ok);
    assert!(reply.err.starts_with(&format!("error: {gaps}:3: close `oops` is not a number\n")), "{}", reply.err);
    assert!(reply.out.is_empty());
}

#[test]
fn data_current_bar_warm_up_and_when() {
    let dir = fixture("data");
    let x = dir.join("x.csv").display().to_string();
    let gaps = dir.join("gaps.csv").display().to_string();
    let mut s = Session::new(false);
    s.bad_rows = crate::data::BadRows::Skip;
    script(
        &mut s,
        &[
            (
                &format!(":data X={x}"),
                "loaded X: 10 bars, 2024-01-01 to 2024-01-10\nat 2024-01-10 (bar 10 of 10)\n",
                "",
            ),
            ("close(X)", "$14.00 at 2024-01-10\n", ""),
            ("volume(X)", "10,000 shares at 2024-01-10\n", ""),
            ("sma(X, 3)", "$15.00 at 2024-01-10\n", ""),
            ("40 + 2", "42\n", ""),
            (
                "close(X) > sma(X, 3)",
                "false at 2024-01-10\n  close(X) = $14.00, sma(X, 3) = $15.00\n  last true on 2024-01-09 (1 bar earlier); `:when` lists every bar\n",
                "",
            ),
            (":at 2024-01-02", "at 2024-01-02 (bar 2 of 10)\n", ""),
            (
                "sma(X, 3)",
                "undefined at 2024-01-02 (bar 2 of 10): warm-up, first defined on 2024-01-03 (bar 3 of 10)\n",
                "",
            ),
            ("change(X, 1d)", "10% at 2024-01-02\n", ""),
            ("sma(X, 30)", "undefined at 2024-01-02: not defined at any of the 10 bars loaded\n", ""),
            (":at", "at 2024-01-02 (bar 2 of 10)\n", ""),
            (":at 2024-01-20", "", "error: 2024-01-20 is after the last bar (2024-01-10)\n"),
            (":at 2023-12-31", "", "error: 2023-12-31 is before the first bar (2024-01-01)\n"),
            (
                ":at soon",
                "",
                "error: `soon` is not a date: write YYYY-MM-DD or YYYY-MM-DD HH:MM, or `first` or `last`\n",
            ),
            (":at 2024-01-05 12:00", "at 2024-01-05 (bar 5 of 10), the last bar at or before 2024-01-05 12:00\n", ""),
            (":at first", "at 2024-01-01 (bar 1 of 10)\n", ""),
            (":at last", "at 2024-01-10 (bar 10 of 10)\n", ""),
            (
                ":when close(X) > $12 and change(X, 1d) > 0%",
                "true on 4 of 10 bars (2024-01-01 to 2024-01-10); first 2024-01-05, last 2024-01-09\n  \
                 2024-01-05  close(X) = $13.00, change(X, 1d) = 18.18%\n  \
                 2024-01-06  close(X) = $14.00, change(X, 1d) = 7.69%\n  \
                 2024-01-08  close(X) = $15.00, change(X, 1d) = 25%\n  \
                 2024-01-09  close(X) = $16.00, change(X, 1d) = 6.67%\n",
                "",
            ),
            (":w close(X) > $100", "never true in 10 bars (2024-01-01 to 2024-01-10)\n", ""),
            (":when close(X)", "", "error: `:when` needs a condition (a bool); `close(X)` is a price\n"),
            (":when close(Y) > $1", "", "error: no data for `Y`: load it with `:data Y=PATH`\n"),
            (
                "close(X) crosses above sma(X, 3)",
                "false at 2024-01-10\n  close(X) = $14.00, sma(X, 3) = $15.00\n  last true on 2024-01-08 (2 bars \
                 earlier); `:when` lists every bar\n",
                "",
            ),
            (
                &format!(":data x={x} Y={gaps} Z=nothing.csv X"),
                "loaded Y: 1 bar, 2024-01-01 to 2024-01-01\nat 2024-01-10 (bar 10 of 10)\n",
                &format!(
                    "error: `x` is not a ticker: tickers are capitals and digits, e.g. `X`\nwarning: {gaps}:3: \
                     close `oops` is not a number (row skipped)\nerror: cannot read `nothing.csv`: No such file or \
                     directory (os error 2)\nerror: `X` must be SYMBOL=PATH, e.g. `SPY=spy.csv`\n"
                ),
            ),
            (
                ":data",
                &format!(
                    "  X      10 bars, 2024-01-01 to 2024-01-10  ({x})\n  Y      1 bar, 2024-01-01 to 2024-01-01  \
                     ({gaps})\n"
                ),
                "",
            ),
            ("close(Y) + close(X)", "$15.00 at 2024-01-10\n", ""),
        ],
    );
    let tickers: Vec<(String, String)> = s.tickers().into_iter().collect();
    assert_eq!(
        tickers,
        vec![("X".to_string(), "data: 10 bars".to_string()), ("Y".to_string(), "data: 1 bar".to_string())]
    );
}

#[test]
fn load_checks_a_file_and_lists_its_declarations() {
    let dir = fixture("load");
    let bad = dir.join("bad.strat");
    std::fs::write(
        &bad,
        "universe pair = [X, Y]\nworkflow W {\n  on bar(X, 1d)\n  if rsii(X, 14) < 30 { notify \"dip\" }\n}\n",
    )
    .expect("file");
    let bad = bad.display().to_string();
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../examples/dip_buyer.strat");
    let note = "note: declarations are checked, not evaluated here: expressions see the standard library and \
                `:data`; a universe's tickers are offered in completion, write one symbol at a time\n";
    let mut s = Session::new(false);
    script(
        &mut s,
        &[
            (
                &format!(":load {example}"),
                &format!(
                    "loaded {example}: no problems\n  agents     DipBuyer\n  workflows  none\n  teams      none\n  \
                     universes  tech = [AAPL, AMZN, GOOGL, META, MSFT]\n"
                ),
                note,
            ),
            (
                "rsi(tech, 14) < 30",
                "",
                &format!(
                    "[E0101] Error: cannot find `tech` here\n   ╭─[ <input>:1:5 ]\n   │\n 1 │ rsi(tech, 14) < 30\n   \
                     │     ──┬─  \n   │       ╰─── not found\n   │ \n   │ Help: declare it with `let`, or check the \
                     spelling\n───╯\nnote: `tech` is a universe of {example}; the REPL evaluates one symbol at a \
                     time: AAPL, AMZN, GOOGL, META, MSFT\n"
                ),
            ),
            (
                &format!(":load {bad}"),
                &format!(
                    "loaded {bad}: 1 error, 1 warning\n  agents     none\n  workflows  W\n  teams      none\n  \
                     universes  pair = [X, Y]\n"
                ),
                &format!(
                    "[W0101] Warning: universe `pair` is never used\n   ╭─[ {bad}:1:10 ]\n   │\n 1 │ universe pair \
                     = [X, Y]\n   │          ──┬─  \n   │            ╰─── declared here\n   │ \n   │ Help: remove it, \
                     or prefix the name with `_` to keep it (`_pair`)\n───╯\n\
                     [E0103] Error: unknown function `rsii`\n   ╭─[ {bad}:4:6 ]\n   │\n 4 │   if rsii(X, 14) < 30 {{ \
                     notify \"dip\" }}\n   │      ──┬─  \n   │        ╰─── not a standard library function\n   │ \n   \
                     │ Help: did you mean `rsi`?\n───╯\n{note}"
                ),
            ),
            (":load", "", "error: `:load` needs a file, e.g. `:load examples/dip_buyer.strat`\n"),
        ],
    );
    let tickers: Vec<String> = s.tickers().into_keys().collect();
    assert_eq!(tickers, vec!["X", "Y"]);
    let r = commands::handle(&mut s, &format!(":load {}", dir.join("missing.strat").display()));
    let Action::Print(r) = r else { panic!("printed") };
    assert!(r.err.starts_with("error: cannot read `") && !r.ok, "{}", r.err);
}

#[test]
fn the_user_story_on_real_bars() {
    let mut s = Session::new(false);
    let cond = "rsi(SPY, 14) < 30 and change(SPY, 1d) <= -3%";
    script(
        &mut s,
        &[
            (
                &format!(":data SPY={}", spy()),
                "loaded SPY: 5,241 bars, 1999-11-01 to 2020-08-28\nat 2020-08-28 (bar 5,241 of 5,241)\n",
                "",
            ),
            ("rsi(SPY, 14)", "79.7006 at 2020-08-28\n", ""),
            (
                cond,
                "false at 2020-08-28\n  \
                 false     rsi(SPY, 14) < 30       rsi(SPY, 14) = 79.7006\n  \
                 false     change(SPY, 1d) <= -3%  change(SPY, 1d) = 0.65%\n  \
                 last true on 2020-03-12 (118 bars earlier); `:when` lists every bar\n",
                "",
            ),
            (":at 2020-03-12", "at 2020-03-12 (bar 5,123 of 5,241)\n", ""),
            (
                cond,
                "true at 2020-03-12\n  \
                 true      rsi(SPY, 14) < 30       rsi(SPY, 14) = 25.5627\n  \
                 true      change(SPY, 1d) <= -3%  change(SPY, 1d) = -9.57%\n",
                "",
            ),
            ("macd(SPY)", "{ macd: -14.8555, signal: -9.1162, histogram: -5.7393 } at 2020-03-12\n", ""),
        ],
    );
    let Action::Print(r) = commands::handle(&mut s, &format!(":when {cond}")) else { panic!("printed") };
    let lines: Vec<&str> = r.out.lines().collect();
    assert_eq!(
        lines[0],
        "true on 25 of 5,241 bars (1999-11-01 to 2020-08-28); undefined on 14 (warm-up); first 2001-03-12, last \
         2020-03-12"
    );
    assert_eq!(lines[1], "  2001-03-12  rsi(SPY, 14) = 28.1431, change(SPY, 1d) = -4.29%");
    assert_eq!(lines[11], "  … 5 more …");
    assert_eq!(lines[21], "  2020-03-12  rsi(SPY, 14) = 25.5627, change(SPY, 1d) = -9.57%");
    assert_eq!(lines.len(), 22);
}

#[test]
fn help_quit_and_unfinished_input() {
    let mut s = Session::new(false);
    let Action::Print(help) = commands::handle(&mut s, ":help") else { panic!("printed") };
    for c in commands::COMMANDS {
        assert!(help.out.contains(&format!("  :{}", c.name)), "{}", c.name);
        assert!(help.out.contains(c.example), "{}", c.example);
    }
    for quit in [":quit", ":q", ":exit", "  :quit  "] {
        assert_eq!(commands::handle(&mut s, quit), Action::Quit, "{quit}");
    }
    assert!(commands::unfinished("rsi(SPY,"));
    assert!(commands::unfinished(":when rsi(SPY, 14) <"));
    assert!(!commands::unfinished(":when rsi(SPY, 14) <\n"));
    assert!(!commands::unfinished(":data SPY=("));
    assert!(!commands::unfinished("rsi(SPY))"));
    assert_eq!(commands::expression("  :type x"), Some((7, " x")));
    assert_eq!(commands::expression(":at 2024-01-01"), None);
}

#[test]
fn no_input_line_panics() {
    let dir = fixture("fuzz");
    let x = dir.join("x.csv").display().to_string();
    let mut s = Session::new(false);
    let _ = commands::handle(&mut s, &format!(":data X={x}"));
    let pieces = [
        "rsi(",
        "X",
        ")",
        " <",
        "30",
        " and ",
        ":",
        "when ",
        "at ",
        "\"",
        "{{",
        ".",
        "macd(X)",
        "é",
        "$",
        "%",
        "\n",
        " crosses above ",
        "[",
        "2024-01-05",
    ];
    // Every line of up to three pieces, in every combination.
    for a in pieces {
        for b in pieces {
            for c in pieces {
                let line = format!("{a}{b}{c}");
                let _ = commands::handle(&mut s, &line);
                let _ = commands::unfinished(&line);
                let _ = super::highlight::line(&line);
            }
        }
    }
}
