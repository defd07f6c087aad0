//! Chains of 100,000 operators through every command that reads strat text: each reports the
//! nesting limit (E0012) and none crashes; a chain under the limit works everywhere.
#![allow(clippy::disallowed_methods)] // the tests write their files to a temporary folder

mod common;
mod lsp_client;

use common::strat;
use lsp_client::Client;
use serde_json::json;
use std::path::PathBuf;

const SPY: &str = "SPY=../shared/data/prices/SPY_D.csv";
const HUGE: usize = 100_000;
/// Under the nesting limit with room for the statement around it.
const FITS: usize = 100;

/// `(name, condition)` for a chain of `n` terms of each operator, as an `if` condition.
fn conditions(n: usize) -> Vec<(&'static str, String)> {
    let chain = |op: &str, term: &str| vec![term; n].join(op);
    vec![
        ("add", format!("{} > 5", chain(" + ", "1"))),
        ("sub", format!("{} < 5", chain(" - ", "1"))),
        ("mul", format!("{} > 0", chain(" * ", "1"))),
        ("div", format!("{} > 0", chain(" / ", "1"))),
        ("and", chain(" and ", "true")),
        ("or", chain(" or ", "false")),
        ("not", format!("{}true", "not not ".repeat(n / 2))),
        ("neg", format!("{}1 > 0", "- - ".repeat(n / 2))),
        ("field", format!("portfolio.cash{} > 0", ".cash".repeat(n))),
    ]
}

fn file_with(condition: &str) -> String {
    format!(
        "workflow W {{\n  limits {{ max_position $10_000 }}\n  on bar(SPY, 1d)\n  if {condition} {{\n    buy SPY size 1 shares\n  }}\n}}\n"
    )
}

fn written(name: &str, text: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strat-chains-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let path = dir.join(format!("{name}.strat"));
    std::fs::write(&path, text).expect("write");
    path
}

fn outcome(args: &[&str], stdin: &str) -> (Option<i32>, String) {
    let out = strat().args(args).write_stdin(stdin).output().expect("runs");
    (out.status.code(), format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr)))
}

#[test]
fn a_hundred_thousand_term_chain_is_reported_by_check_fmt_and_backtest() {
    for (name, cond) in conditions(HUGE) {
        let path = written(name, &file_with(&cond));
        let path = path.to_string_lossy();
        for args in [vec!["check", &path], vec!["fmt", "--check", &path], vec!["backtest", &path, "--data", SPY]] {
            let (code, out) = outcome(&args, "");
            assert_eq!(
                code,
                Some(1),
                "{name}: `strat {}` ended with {code:?}: {}",
                args[0],
                &out[..out.len().min(400)]
            );
            assert!(out.contains("E0012"), "{name}: `strat {}` does not name the limit", args[0]);
        }
    }
}

#[test]
fn a_hundred_thousand_term_chain_is_reported_by_the_repl() {
    for (name, cond) in conditions(HUGE).into_iter().filter(|(n, _)| *n != "field") {
        let (code, out) = outcome(&["repl"], &format!("{cond}\n40 + 2\n"));
        assert_eq!(code, Some(1), "{name}: {}", &out[..out.len().min(400)]);
        assert!(out.contains("E0012"), "{name}");
        assert!(out.contains("42"), "{name}: the session goes on after the error");
    }
}

#[test]
fn a_chain_under_the_limit_checks_formats_runs_and_evaluates() {
    for (name, cond) in conditions(FITS).into_iter().filter(|(n, _)| *n != "field") {
        let path = written(&format!("fits-{name}"), &file_with(&cond));
        let path = path.to_string_lossy();
        let (code, out) = outcome(&["check", &path], "");
        assert_eq!(code, Some(0), "{name}: {out}");
        let (code, out) = outcome(&["fmt", &path], "");
        assert_eq!(code, Some(0), "{name}: {out}");
        let (code, out) = outcome(&["fmt", "--check", &path], "");
        assert_eq!(code, Some(0), "{name}: formatting is not stable: {out}");
        let (code, out) = outcome(&["check", &path], "");
        assert_eq!(code, Some(0), "{name}: the formatted file: {out}");
        let (code, out) = outcome(&["backtest", &path, "--data", SPY], "");
        assert_eq!(code, Some(0), "{name}: {out}");
    }
    let sum = vec!["1"; FITS].join(" + ");
    let (code, out) = outcome(&["repl"], &format!("{sum}\n"));
    assert_eq!((code, out.trim()), (Some(0), FITS.to_string().as_str()));
}

#[test]
fn the_language_server_reports_a_hundred_thousand_term_chain_and_keeps_answering() {
    let dir = std::env::temp_dir().join(format!("strat-chains-lsp-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut c = Client::start(env!("CARGO_BIN_EXE_strat"), &dir);
    c.initialize(&dir, &["utf-16"]);
    for (name, cond) in conditions(HUGE) {
        let file = format!("file://{}/{name}.strat", dir.display());
        c.open(&file, &file_with(&cond));
        let diags = c.diagnostics(&file);
        assert!(diags.iter().any(|d| d["code"] == "E0012"), "{name}: {diags:?}");
        // Answered in time (a timeout fails the request), and about the whole line.
        let tokens = c.request("textDocument/semanticTokens/full", json!({"textDocument": {"uri": file}}));
        let data = tokens["data"].as_array().map_or(0, Vec::len);
        assert!(data > 5 * 1_000, "{name}: {data} token fields");
    }
    assert_eq!(c.shutdown(), Some(0));
}
