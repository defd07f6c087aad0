//! `strat repl` through the real binary: lines on standard input, and one interactive session
//! in a pseudo-terminal.
#![allow(clippy::disallowed_methods)] // tests read fixtures and the environment

mod common;
use common::{root, strat};

const SPY: &str = "SPY=../shared/data/prices/SPY_D.csv";

/// Exit code, standard output and standard error of `strat repl ARGS` with `input` on stdin.
fn repl(args: &[&str], input: &str) -> (i32, String, String) {
    let out = strat().arg("repl").args(args).write_stdin(input).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn lines_on_standard_input_are_answered_without_prompts() {
    let input = "40 + 2\nrsi(SPY,\n    14) < 30 and\n  change(SPY, 1d) <= -3%\n:at 2020-03-12\n:type change(SPY, 1d)\n\
                 price(SPY)\n:quit\n99\n";
    let (code, out, err) = repl(&["--data", SPY], input);
    assert_eq!((code, err.as_str()), (0, ""));
    assert_eq!(
        out,
        "loaded SPY: 5,241 bars, 1999-11-01 to 2020-08-28\n\
         at 2020-08-28 (bar 5,241 of 5,241)\n\
         42\n\
         false at 2020-08-28\n  \
         false     rsi(SPY, 14) < 30       rsi(SPY, 14) = 79.7006\n  \
         false     change(SPY, 1d) <= -3%  change(SPY, 1d) = 0.65%\n  \
         last true on 2020-03-12 (118 bars earlier); `:when` lists every bar\n\
         at 2020-03-12 (bar 5,123 of 5,241)\n\
         percent\n\
         $248.11 at 2020-03-12\n"
    );
}

#[test]
fn a_failed_input_is_reported_and_sets_the_exit_code() {
    let (code, out, err) = repl(&[], "40 + 2\nrsi(SPY, 14)\n(1 +\n:help\n");
    assert_eq!(code, 1);
    assert!(out.starts_with("42\nType an expression"), "{out}");
    assert_eq!(
        err,
        "error: no data for `SPY`: load it with `:data SPY=PATH`\n\
         [E0010] Error: expected an expression, found end of file\n   \
         ╭─[ <input>:1:5 ]\n   │\n 1 │ (1 +\n   │     │ \n   │     ╰─ the file ends here\n───╯\n"
    );
    let (code, _, err) = repl(&["--data", "SPY=missing.csv"], "");
    assert_eq!(code, 2);
    assert!(err.starts_with("error: cannot read `missing.csv`:"), "{err}");
}

#[test]
fn help_has_examples() {
    let out = strat().args(["repl", "--help"]).output().expect("runs");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success());
    assert!(text.contains("Examples:\n  strat repl --data SPY=spy.csv\n"), "{text}");
    assert!(text.contains(":when rsi(SPY, 14) < 30"), "{text}");
}

/// One interactive session in a pseudo-terminal: the prompt, completion of a ticker, a
/// condition over two lines, colours from the highlighter, `:data`, `:when`, `:quit`, and the
/// history written on the way out. The timeout only keeps a broken build from hanging the
/// suite; nothing is measured.
#[test]
fn an_interactive_session_in_a_pseudo_terminal() -> Result<(), rexpect::error::Error> {
    let home = std::env::temp_dir().join(format!("strat-repl-pty-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&home);
    let mut cmd = std::process::Command::new(env!("CARGO_BIN_EXE_strat"));
    cmd.arg("repl").current_dir(root()).env("STRAT_HOME", &home).env("TERM", "xterm").env_remove("NO_COLOR");
    let mut p = rexpect::session::spawn_command(cmd, Some(60_000))?;
    p.exp_string("`:help` lists the commands")?;
    p.exp_string("strat> ")?;
    p.send_line(":data SPY=../shared/data/prices/SPY_D.csv")?;
    p.exp_string("loaded SPY: 5,241 bars, 1999-11-01 to 2020-08-28")?;
    p.exp_string("strat> ")?;
    // `SP` + Tab completes to the one ticker loaded; the line stays open after `<` and ends on
    // the next; the highlighter paints the ticker cyan as it is typed.
    p.send("rsi(SP\t")?;
    p.flush()?;
    p.exp_string("\x1b[36mSPY")?;
    p.send(", 14) <\r")?;
    p.send(" 30\r")?;
    p.flush()?;
    p.exp_string("false at 2020-08-28")?;
    p.exp_string("rsi(SPY, 14) = 79.7006")?;
    p.exp_string("strat> ")?;
    p.send_line(":when rsi(SPY, 14) < 30 and change(SPY, 1d) <= -3%")?;
    p.exp_string("true on 25 of 5,241 bars (1999-11-01 to 2020-08-28)")?;
    p.exp_string("2020-03-12  rsi(SPY, 14) = 25.5627, change(SPY, 1d) = -9.57%")?;
    p.exp_string("strat> ")?;
    // Ctrl-C drops the line being typed: `40 + 2` alone gives 42 (not `1 +40 + 2`).
    p.send("1 +")?;
    p.flush()?;
    p.send_control('c')?;
    // The line editor starts afresh (and may drop input sent before that): wait for its empty
    // line, the prompt with the cursor right after it (the redraws of `1 +` have it further on).
    p.exp_string("strat> \x1b[0m\r\x1b[7C")?;
    p.send_line("40 + 2")?;
    p.exp_string("42\r\n")?;
    p.exp_string("strat> ")?;
    p.send_line(":quit")?;
    p.exp_eof()?;
    let history = std::fs::read_to_string(home.join("repl_history")).unwrap_or_default();
    assert_eq!(
        history.lines().skip(1).collect::<Vec<_>>(),
        vec![
            ":data SPY=../shared/data/prices/SPY_D.csv",
            "rsi(SPY, 14) <\\n 30",
            ":when rsi(SPY, 14) < 30 and change(SPY, 1d) <= -3%",
            "40 + 2",
            ":quit",
        ]
    );
    let _ = std::fs::remove_dir_all(&home);
    Ok(())
}
