//! `strat fmt` through the real binary: files rewritten in place, `--check`, standard input to
//! standard output, syntax errors and exit codes.
#![allow(clippy::disallowed_methods)] // tests write and read temporary files

mod common;
use common::{run, strat};

use std::path::{Path, PathBuf};

const MESSY: &str = "universe   tech=[AAPL,MSFT]\nlimits{max_position $1_000 allow tech}\n";
const TIDY: &str = "universe tech = [AAPL, MSFT]\nlimits {\n  max_position $1_000\n  allow        tech\n}\n";

/// A fresh folder holding `files` (relative path, contents).
fn folder(tag: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strat-fmt-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (name, text) in files {
        let path = dir.join(name);
        std::fs::create_dir_all(path.parent().expect("has a folder")).expect("folder");
        std::fs::write(&path, text).expect("written");
    }
    dir
}

fn shown(p: &Path) -> String {
    p.to_string_lossy().replace('\\', "/")
}

fn read(p: &Path) -> String {
    std::fs::read_to_string(p).expect("readable")
}

#[test]
fn the_examples_are_formatted() {
    let (code, out, err) = run(&["fmt", "--check", "examples"]);
    assert_eq!((code, out.as_str(), err.as_str()), (0, "", ""));
}

#[test]
fn check_lists_the_files_that_would_change_and_writes_nothing() {
    let dir = folder(
        "check",
        &[("messy.strat", MESSY), ("tidy.strat", TIDY), ("sub/deeper.strat", MESSY), ("notes.txt", MESSY)],
    );
    let (code, out, err) = run(&["fmt", "--check", &shown(&dir)]);
    assert_eq!(code, 1, "{err}");
    let want = format!("{}\n{}\n", shown(&dir.join("messy.strat")), shown(&dir.join("sub/deeper.strat")));
    assert_eq!(out, want);
    assert_eq!(read(&dir.join("messy.strat")), MESSY);
    assert_eq!(read(&dir.join("sub/deeper.strat")), MESSY);
    let (code, out, _) = run(&["fmt", "--check", &shown(&dir.join("tidy.strat"))]);
    assert_eq!((code, out.as_str()), (0, ""));
}

#[test]
fn files_are_rewritten_in_place_once() {
    let dir = folder("write", &[("messy.strat", MESSY), ("tidy.strat", TIDY), ("notes.txt", MESSY)]);
    let (code, out, err) = run(&["fmt", &shown(&dir)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, format!("{}\n", shown(&dir.join("messy.strat"))));
    assert_eq!(read(&dir.join("messy.strat")), TIDY);
    assert_eq!(read(&dir.join("tidy.strat")), TIDY);
    assert_eq!(read(&dir.join("notes.txt")), MESSY, "only .strat files are formatted");
    let leftovers: Vec<_> = std::fs::read_dir(&dir).expect("folder").flatten().map(|e| e.file_name()).collect();
    assert_eq!(leftovers.len(), 3, "no temporary file is left behind: {leftovers:?}");
    let (code, out, _) = run(&["fmt", &shown(&dir)]);
    assert_eq!((code, out.as_str()), (0, ""), "a second run changes nothing");
}

#[cfg(unix)]
#[test]
fn a_rewritten_file_keeps_its_permissions() {
    use std::os::unix::fs::PermissionsExt;
    let dir = folder("mode", &[("messy.strat", MESSY)]);
    let path = dir.join("messy.strat");
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).expect("chmod");
    let (code, _, err) = run(&["fmt", &shown(&path)]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(read(&path), TIDY);
    assert_eq!(std::fs::metadata(&path).expect("exists").permissions().mode() & 0o777, 0o640);
}

#[test]
fn standard_input_is_formatted_to_standard_output() {
    for args in [&["fmt"][..], &["fmt", "-"]] {
        let out = strat().args(args).write_stdin(MESSY).output().expect("runs");
        assert_eq!(out.status.code(), Some(0), "{args:?}");
        assert_eq!(String::from_utf8_lossy(&out.stdout), TIDY, "{args:?}");
    }
    let out = strat().args(["fmt", "--check", "-"]).write_stdin(MESSY).output().expect("runs");
    assert_eq!((out.status.code(), String::from_utf8_lossy(&out.stdout).as_ref()), (Some(1), "<stdin>\n"));
    let out = strat().args(["fmt", "--check", "-"]).write_stdin(TIDY).output().expect("runs");
    assert_eq!((out.status.code(), out.stdout.is_empty()), (Some(0), true));
}

#[test]
fn a_file_with_syntax_errors_is_reported_and_left_alone() {
    let broken = "universe u = [AAPL\nlimits{allow u}\n";
    let dir = folder("broken", &[("broken.strat", broken), ("messy.strat", MESSY)]);
    let (code, out, err) = run(&["fmt", "--color", "never", &shown(&dir)]);
    assert_eq!(code, 1);
    assert!(err.contains("[E0011] Error: expected `]`") && err.contains("broken.strat"), "{err}");
    assert_eq!(read(&dir.join("broken.strat")), broken);
    assert_eq!(out, format!("{}\n", shown(&dir.join("messy.strat"))), "the other files are still formatted");
    assert_eq!(read(&dir.join("messy.strat")), TIDY);

    let out = strat().args(["fmt", "--color", "never"]).write_stdin(broken).output().expect("runs");
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty(), "nothing is written for text that does not parse");
    insta::assert_snapshot!("fmt_syntax_error", String::from_utf8_lossy(&out.stderr));
}

#[test]
fn usage_and_io_errors_exit_two() {
    let (code, _, err) = run(&["fmt", "no/such/file.strat"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot read `no/such/file.strat`"), "{err}");
    let (code, _, err) = run(&["fmt", "-", "examples"]);
    assert_eq!(code, 2);
    assert!(err.contains("cannot be combined"), "{err}");
    let empty = folder("empty", &[("notes.txt", "")]);
    let (code, _, err) = run(&["fmt", &shown(&empty)]);
    assert_eq!(code, 2);
    assert!(err.contains("no .strat files found"), "{err}");
}

#[test]
fn help_shows_examples() {
    let (code, out, _) = run(&["fmt", "--help"]);
    assert_eq!(code, 0);
    assert!(out.contains("strat fmt --check .") && out.contains("Exit codes:"), "{out}");
}
