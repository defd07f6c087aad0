//! The failing-file corpus: every `tests/check/*.strat` file states the diagnostics it must
//! produce in comments next to the offending line, and gets exactly those.
//!
//! `//~ E0101` expects a diagnostic whose primary span starts on this line; `//~^ E0101` on the
//! line above (one `^` per line), `//~v E0101` on the line below. Several codes may follow.
#![allow(clippy::disallowed_methods)] // tests read their fixture files

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use strat_lang::span::LineIndex;
use strat_lang::{Code, Workspace};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn corpus() -> Vec<PathBuf> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("tests/check"))
        .expect("tests/check exists")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "strat"))
        .collect();
    files.sort();
    files
}

/// Expected `(line, code)` pairs, from the annotations. Reads bytes so that files with invalid
/// UTF-8 still have readable annotations.
fn expected(bytes: &[u8]) -> Vec<(usize, String)> {
    let text = String::from_utf8_lossy(bytes);
    let mut out = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let Some(at) = line.find("//~") else { continue };
        let rest = &line[at + 3..];
        let ups = rest.chars().take_while(|c| *c == '^').count();
        let down = rest.starts_with('v');
        let target = if down { i + 2 } else { i + 1 - ups };
        for code in rest.trim_start_matches(['^', 'v']).split_whitespace() {
            out.push((target, code.to_string()));
        }
    }
    out.sort();
    out
}

fn actual(path: &Path) -> (Vec<(usize, String)>, Workspace) {
    let mut ws = Workspace::new();
    let p = path.to_string_lossy().replace('\\', "/");
    let id = ws.set_file(&p, std::fs::read(path).expect("readable"));
    ws.load_imports(&[id], &mut |p: &str| std::fs::read(p).map_err(|e| e.to_string()));
    let checked = ws.check(&[id]);
    let text = ws.text(id).to_string();
    let idx = LineIndex::new(&text);
    let mut out: Vec<(usize, String)> = checked
        .diagnostics
        .iter()
        .filter(|d| d.file == id)
        .map(|d| (idx.line_col(&text, d.span.start as usize).0, d.code.id().to_string()))
        .collect();
    out.sort();
    (out, ws)
}

#[test]
fn every_corpus_file_gets_exactly_its_expected_diagnostics() {
    let files = corpus();
    assert!(files.len() >= 60, "the corpus has {} files", files.len());
    let mut failures = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).expect("readable");
        let want = expected(&bytes);
        assert!(!want.is_empty(), "{} expects no diagnostic; corpus files must fail", f.display());
        let (got, ws) = actual(f);
        if want != got {
            let id = ws.file(&f.to_string_lossy().replace('\\', "/")).expect("added");
            let details: Vec<String> = ws
                .check(&[id])
                .diagnostics
                .iter()
                .map(|d| format!("    {} at {}..{}: {}", d.code.id(), d.span.start, d.span.end, d.message))
                .collect();
            failures.push(format!("{}\n  expected {want:?}\n  got      {got:?}\n{}", f.display(), details.join("\n")));
        }
    }
    assert!(failures.is_empty(), "{} corpus files differ:\n{}", failures.len(), failures.join("\n"));
}

/// Codes that no source text alone can produce: E0804 guards the lowering itself (tested on
/// hand-built graphs in `ir`), E0016 the formatter (tested on hand-made outputs in
/// `format::verify`), W1001 and E1001 need data (`strat check --data`, tested in
/// `cli/tests/check.rs`).
const INTERNAL: &[Code] = &[Code::GraphCycle, Code::FormatLoss, Code::DataCannotEvaluate, Code::DataCannotRun];

#[test]
fn every_code_is_covered_by_the_corpus() {
    let mut seen = BTreeSet::new();
    for f in corpus() {
        for (_, code) in expected(&std::fs::read(&f).expect("readable")) {
            seen.insert(code);
        }
    }
    let missing: Vec<&str> =
        Code::ALL.iter().filter(|c| !INTERNAL.contains(c)).map(|c| c.id()).filter(|id| !seen.contains(*id)).collect();
    assert!(missing.is_empty(), "no corpus file expects {missing:?}");
    for code in &seen {
        assert!(Code::from_id(code).is_some(), "annotation names unknown code {code}");
    }
}

#[test]
fn examples_check_clean() {
    let mut dir: Vec<PathBuf> = std::fs::read_dir(root().join("examples"))
        .expect("examples")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .collect();
    dir.sort();
    assert!(dir.len() >= 8);
    for f in dir.iter().filter(|p| p.extension().is_some_and(|e| e == "strat")) {
        let (got, _) = actual(f);
        assert!(got.is_empty(), "{} is not clean: {got:?}", f.display());
    }
}
