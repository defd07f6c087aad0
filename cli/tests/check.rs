//! `strat check` through the real binary: rendered diagnostics (snapshots), JSON shape, exit
//! codes and the IR.
#![allow(clippy::disallowed_methods)] // tests read fixtures and write temporary files

mod common;
use common::{root, run, strat};

use std::path::PathBuf;

/// Corpus files whose only diagnostics are warnings: they exit 0.
const WARNING_ONLY: &[&str] = &[
    "lex_bom.strat",
    "names_unused.strat",
    "names_unused_let.strat",
    "trigger_no_tz.strat",
    "trigger_never_runs.strat",
    "trigger_model_budget.strat",
    "graph_unreachable.strat",
];

#[test]
fn rendered_diagnostics_of_the_corpus() {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/check"))
        .expect("corpus")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "strat"))
        .collect();
    files.sort();
    for f in files {
        let name = f.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        if name == "lex_string_too_long.strat" {
            continue; // its one long line would make a 66 kB snapshot; the corpus test covers it
        }
        let rel = format!("tests/check/{name}");
        let (code, out, _) = run(&["check", "--color", "never", &rel]);
        let want = if WARNING_ONLY.contains(&name.as_str()) { 0 } else { 1 };
        assert_eq!(code, want, "{name}:\n{out}");
        insta::assert_snapshot!(name.trim_end_matches(".strat").to_string(), out);
    }
}

#[test]
fn examples_are_clean_and_exit_zero() {
    let (code, out, _) = run(&["check", "examples"]);
    assert_eq!(code, 0, "{out}");
    assert_eq!(out.trim(), "checked 9 files: no problems");
}

#[test]
fn json_output_has_the_documented_fields() {
    let (code, out, _) = run(&["check", "--format", "json", "tests/check/types_incomparable.strat"]);
    assert_eq!(code, 1);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let arr = v.as_array().expect("an array of diagnostics");
    assert_eq!(arr.len(), 2);
    let d = &arr[0];
    assert_eq!(d["file"], "tests/check/types_incomparable.strat");
    assert_eq!(d["line"], 3);
    assert_eq!(d["column"], 20);
    assert_eq!(d["end"]["line"], 3);
    assert_eq!(d["end"]["column"], 21);
    assert_eq!(d["code"], "E0203");
    assert_eq!(d["severity"], "error");
    assert_eq!(d["message"], "cannot compare a number with a percent");
    assert_eq!(d["help"], "write `30` without `%`, or compare with a percent");
    assert_eq!(d["labels"].as_array().map(Vec::len), Some(3));
    assert_eq!(d["labels"][1]["message"], "number");
    assert_eq!(d["fixes"].as_array().map(Vec::len), Some(0));
}

#[test]
fn json_fixes_carry_the_replacement() {
    let (_, out, _) = run(&["check", "--format", "json", "tests/check/names_unknown_function.strat"]);
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    let fix = &v[0]["fixes"][0];
    assert_eq!(fix["replacement"], "rsi");
    assert_eq!(fix["line"], 3);
    assert_eq!(fix["column"], 6);
}

#[test]
fn deny_warnings_turns_warnings_into_failure() {
    let (code, out, _) = run(&["check", "tests/check/names_unused.strat"]);
    assert_eq!(code, 0, "{out}");
    assert!(out.contains("0 errors, 3 warnings in 1 file"), "{out}");
    let (code, _, _) = run(&["check", "--deny", "warnings", "tests/check/names_unused.strat"]);
    assert_eq!(code, 1);
}

#[test]
fn usage_and_io_errors_exit_two() {
    let (code, _, err) = run(&["check", "no/such/file.strat"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read `no/such/file.strat`"), "{err}");
    let (code, _, _) = run(&["check", "--format", "yaml", "examples"]);
    assert_eq!(code, 2);
    let (code, _, err) = run(&["check", "docs"]);
    assert_eq!(code, 2);
    assert!(err.contains("no .strat files found"), "{err}");
}

#[test]
fn emit_ir_prints_a_hashed_program() {
    let (code, out, err) = run(&["check", "--emit", "ir", "examples/sma_crossover.strat"]);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("valid JSON");
    assert_eq!(v["version"], 1);
    assert_eq!(v["hash"].as_str().map(str::len), Some(64));
    let g = &v["graphs"][0];
    assert_eq!(g["name"], "SmaCrossover");
    assert_eq!(g["kind"], "workflow");
    assert_eq!(g["triggers"][0]["trigger"], "bar");
    assert_eq!(g["triggers"][0]["seconds"], 86400);
    let kinds: Vec<&str> = g["nodes"].as_array().expect("nodes").iter().filter_map(|n| n["node"].as_str()).collect();
    assert_eq!(kinds, ["start", "condition", "action", "condition", "action", "end"]);
    // A file with errors has no IR, and says why on stderr.
    let (code, out, err) = run(&["check", "--emit", "ir", "tests/check/types_arity.strat"]);
    assert_eq!(code, 1);
    assert!(out.is_empty());
    assert!(err.contains("no IR: 2 errors"), "{err}");
}

#[test]
fn ten_thousand_errors_are_all_reported() {
    let dir = std::env::temp_dir().join(format!("strat-many-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let file = dir.join("many.strat");
    let mut text = String::from("workflow Flow {\n  on manual\n");
    for i in 0..10_000 {
        text.push_str(&format!("  log \"{{{{nope{i}}}}}\"\n"));
    }
    text.push_str("}\n");
    std::fs::write(&file, text).expect("write");
    let out = strat().args(["check", "--format", "json"]).arg(&file).output().expect("runs");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v.as_array().map(Vec::len), Some(10_000));
    let human = strat().args(["check", "--color", "never"]).arg(&file).output().expect("runs");
    let text = String::from_utf8_lossy(&human.stdout);
    assert_eq!(text.matches("[E0301] Error").count(), 10_000);
    assert!(text.ends_with("10000 errors, 0 warnings in 1 file\n"), "{}", &text[text.len().saturating_sub(200)..]);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn doc_prints_the_reference_and_one_entry() {
    let (code, out, _) = run(&["doc", "rsi"]);
    assert_eq!(code, 0);
    assert!(out.contains("rsi(symbol: symbol, period: number = 14) -> number"), "{out}");
    let (code, _, err) = run(&["doc", "rsii"]);
    assert_eq!(code, 2);
    assert!(err.contains("did you mean `rsi`?"), "{err}");
    let (code, out, _) = run(&["doc"]);
    assert_eq!(code, 0);
    assert!(out.contains("## Limits"));
}

#[test]
fn help_has_examples() {
    let (code, out, _) = run(&["check", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("Examples:") && out.contains("strat check examples/"), "{out}");
    let (code, out, _) = run(&["--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("strat doc rsi"), "{out}");
}

#[test]
fn imports_and_files_that_are_not_regular_files_are_refused_unread() {
    let dir = std::env::temp_dir().join(format!("strat-special-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    let made = std::process::Command::new("mkfifo").arg(dir.join("pipe.strat")).status().expect("mkfifo runs");
    assert!(made.success());
    std::os::unix::fs::symlink("/dev/zero", dir.join("zero.strat")).expect("link");
    let big = std::fs::File::create(dir.join("big.strat")).expect("create");
    big.set_len(65 << 20).expect("a sparse 65 MiB file");
    let main = "import \"pipe.strat\"\nimport \"zero.strat\"\nimport \"big.strat\"\nuniverse _u = [AAPL]\n";
    std::fs::write(dir.join("main.strat"), main).expect("write");
    let (code, err, _) = run(&["check", "--color", "never", &dir.join("main.strat").to_string_lossy()]);
    assert_eq!(code, 1, "{err}");
    for (file, why) in [
        ("pipe.strat", "it is a named pipe, not a regular file"),
        ("zero.strat", "it is a character device, not a regular file"),
        ("big.strat", "it is larger than 64 MiB, the most a strat file may hold"),
    ] {
        assert!(err.contains(&format!("cannot read \"{file}\": {why}")), "{file}: {err}");
    }
    let (code, _, err) = run(&["check", "/dev/zero"]);
    assert_eq!((code, err.trim()), (2, "error: cannot read `/dev/zero`: it is a character device, not a regular file"));
}

#[test]
fn check_with_data_warns_of_limits_it_cannot_evaluate_and_refuses_windows_finer_than_its_bars() {
    let aapl = "AAPL=../shared/data/prices/AAPL_2012-2014.csv";
    let (code, out, err) = run(&["check", "examples/dip_buyer.strat", "--data", aapl, "--format", "json"]);
    assert_eq!(code, 0, "warnings only: {err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("json");
    let vix =
        v.as_array().and_then(|a| a.iter().find(|d| d["message"].as_str().is_some_and(|m| m.contains("max_vix"))));
    let vix = vix.expect("the max_vix warning");
    assert_eq!((vix["code"].as_str(), vix["severity"].as_str()), (Some("W1001"), Some("warning")));
    assert_eq!((vix["line"].as_u64(), vix["column"].as_u64()), (Some(18), Some(7)), "at `agent DipBuyer`");
    let (code, _, _) = run(&["check", "examples/dip_buyer.strat", "--data", aapl, "--deny", "warnings"]);
    assert_eq!(code, 1);
    // With VIX given, that warning goes.
    let vix = common::calm_vix();
    let (_, out, _) = run(&["check", "examples/dip_buyer.strat", "--data", aapl, "--data", &vix]);
    assert!(!out.contains("max_vix"), "{out}");
    // A window finer than the data's bars cannot run: an error at the workflow.
    let dir = std::env::temp_dir().join(format!("strat-check-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("dir");
    let file = dir.join("fine.strat");
    std::fs::write(&file, "workflow W {\n  on change(SPY, 1h) > 1%\n  log \"up\"\n}\n").expect("write");
    let path = file.to_string_lossy().into_owned();
    let (code, out, _) = run(&["check", &path, "--data", "SPY=../shared/data/prices/SPY_D.csv", "--color", "never"]);
    assert_eq!(code, 1, "{out}");
    assert!(
        out.contains("[E1001] Error: `W`: `change`: a window of 1h is shorter than one bar of the data (1d)"),
        "{out}"
    );
    let (code, out, _) = run(&["check", &path]);
    assert_eq!((code, out.contains("no problems")), (0, true), "without data it checks clean: {out}");
    let (code, _, err) = run(&["check", &path, "--data", "SPY=missing.csv"]);
    assert_eq!(code, 2, "{err}");
}
