//! The formatter: snapshots of the layouts of `tests/fmt/`; over every `.strat` file of
//! `tests/` and `examples/`, formatting is idempotent and leaves the compiled IR as it was;
//! every example is already formatted; and property tests over re-spaced files, files with
//! comments sprinkled in, and damaged files.
#![allow(clippy::disallowed_methods)] // tests read their fixture files

use proptest::prelude::*;
use std::path::{Path, PathBuf};
use strat_lang::format::format;
use strat_lang::span::Span;
use strat_lang::syntax::lexer::lex;
use strat_lang::syntax::token::Kind;
use strat_lang::{Code, Diagnostic, FileId, Workspace};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

fn strat_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            strat_files(&path, out);
        } else if path.extension().is_some_and(|x| x == "strat") {
            out.push(path);
        }
    }
}

fn files_in(dirs: &[&str]) -> Vec<PathBuf> {
    let mut files = Vec::new();
    for d in dirs {
        strat_files(&root().join(d), &mut files);
    }
    files.sort();
    files
}

/// A file's decoded text, as the tools read it.
fn text_of(path: &Path) -> String {
    strat_lang::source::decode(FileId(0), &std::fs::read(path).expect("readable")).0
}

fn shown(path: &Path) -> String {
    path.strip_prefix(root()).unwrap_or(path).display().to_string()
}

fn fmt(text: &str) -> Result<String, Vec<Diagnostic>> {
    format(FileId(0), text)
}

fn parses(text: &str) -> bool {
    !strat_lang::syntax::parse(FileId(0), text).1.iter().any(Diagnostic::is_error)
}

#[test]
fn layouts_of_the_formatter_inputs() {
    let files = files_in(&["tests/fmt"]);
    assert!(files.len() >= 6, "tests/fmt has {} files", files.len());
    for f in files {
        let out = fmt(&text_of(&f)).unwrap_or_else(|d| panic!("{} does not format: {d:?}", shown(&f)));
        let name = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        insta::assert_snapshot!(name, out);
    }
}

#[test]
fn formatting_twice_changes_nothing_more_on_every_file() {
    let (mut formatted, mut refused) = (0, 0);
    for f in files_in(&["tests", "examples"]) {
        let text = text_of(&f);
        match fmt(&text) {
            Ok(once) => {
                let twice = fmt(&once).unwrap_or_else(|d| panic!("{}: output does not format: {d:?}", shown(&f)));
                assert_eq!(twice, once, "{}: not idempotent", shown(&f));
                formatted += 1;
            }
            Err(diags) => {
                // Only files with syntax errors are refused, with exactly those errors.
                let (_, syntax) = strat_lang::syntax::parse(FileId(0), &text);
                assert!(syntax.iter().any(Diagnostic::is_error), "{}: refused: {diags:?}", shown(&f));
                assert_eq!(diags, syntax, "{}", shown(&f));
                refused += 1;
            }
        }
    }
    assert!(formatted >= 60 && refused >= 20, "{formatted} formatted, {refused} refused");
    println!("{formatted} files formatted twice, {refused} with syntax errors refused");
}

/// The IR hash of `path` with `text` as its contents, imports read from disk.
fn ir_hash(path: &Path, text: &str) -> Option<String> {
    let mut ws = Workspace::new();
    let id = ws.set_file(&path.to_string_lossy().replace('\\', "/"), text.as_bytes().to_vec());
    ws.load_imports(&[id], &mut |p: &str| std::fs::read(p).map_err(|e| e.to_string()));
    ws.compile(&[id]).program.map(|p| p.hash)
}

#[test]
fn formatting_leaves_the_ir_unchanged() {
    let mut compared = 0;
    for f in files_in(&["tests", "examples"]) {
        let text = text_of(&f);
        let Some(before) = ir_hash(&f, &text) else { continue };
        let out = fmt(&text).unwrap_or_else(|d| panic!("{} compiles but does not format: {d:?}", shown(&f)));
        assert_eq!(ir_hash(&f, &out), Some(before), "{}: the IR changed", shown(&f));
        compared += 1;
    }
    assert!(compared >= 14, "only {compared} files compile");
    println!("{compared} files compile to the same IR hash before and after formatting");
}

#[test]
fn every_example_is_formatted() {
    let examples = files_in(&["examples"]);
    assert!(examples.len() >= 8);
    for f in examples {
        let text = text_of(&f);
        assert_eq!(fmt(&text).as_ref(), Ok(&text), "{} is not formatted: run `strat fmt examples/`", shown(&f));
    }
}

#[test]
fn a_long_chain_formats_one_operator_a_line() {
    let sum = vec!["x"; 100].join(" + ");
    let fields = format!("x{}", ".f".repeat(100));
    let text = format!("workflow W {{\n  on manual\n  let a = {sum}\n  let b = {fields}\n}}\n");
    let out = fmt(&text).unwrap_or_default();
    assert!(out.starts_with("workflow W {\n  on manual\n  let a = x\n      + x\n"), "{}", &out[..80.min(out.len())]);
    assert_eq!(out.lines().count(), 100 + 4);
}

#[test]
fn a_chain_past_the_nesting_limit_is_refused_not_formatted() {
    let sum = vec!["x"; 20_000].join(" + ");
    let text = format!("workflow W {{\n  on manual\n  let a = {sum}\n}}\n");
    let codes: Vec<_> = fmt(&text).err().unwrap_or_default().iter().map(|d| d.code.id()).collect();
    assert_eq!(codes, ["E0012"]);
}

/// The files the property tests start from: every file that parses cleanly.
fn seeds() -> &'static [String] {
    static SEEDS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(|| files_in(&["examples", "tests"]).iter().map(|f| text_of(f)).filter(|t| parses(t)).collect())
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Piece {
    Token,
    /// `,` or `;`: a comment after one trails the element before it.
    Separator,
    Comment,
}

/// The tokens and comments of `text` in order.
fn pieces(text: &str) -> Vec<(Span, Piece)> {
    let lexed = lex(FileId(0), text, 0);
    let kind = |k: Kind| if matches!(k, Kind::Comma | Kind::Semi) { Piece::Separator } else { Piece::Token };
    let mut out: Vec<(Span, Piece)> =
        lexed.tokens.iter().filter(|t| !t.span.is_empty()).map(|t| (t.span, kind(t.kind))).collect();
    out.extend(lexed.comments.iter().map(|&c| (c, Piece::Comment)));
    out.sort_by_key(|(s, _)| s.start);
    out
}

/// Rebuilds `text` with the whitespace between its pieces chosen by `pick(gap index, newlines
/// in the gap, whether the gap decides where a comment stands on its line)`.
fn rebuild(text: &str, mut pick: impl FnMut(usize, usize, bool) -> String) -> String {
    let pieces = pieces(text);
    let mut out = String::with_capacity(text.len() * 2);
    let mut at = 0usize;
    for (i, (span, piece)) in pieces.iter().enumerate() {
        let gap = &text[at..span.start as usize];
        let kind = |j: Option<usize>| j.and_then(|j| pieces.get(j)).map(|p| p.1);
        let near_comment = *piece == Piece::Comment
            || kind(i.checked_sub(1)) == Some(Piece::Comment)
            || *piece == Piece::Separator && kind(Some(i + 1)) == Some(Piece::Comment);
        out.push_str(&if at == 0 { gap.to_string() } else { pick(i, gap.matches('\n').count(), near_comment) });
        out.push_str(&text[span.range()]);
        at = span.end as usize;
    }
    out.push_str(&text[at..]);
    out
}

/// Whitespace with the given number of line breaks (0, 1, or 2 meaning "an empty line").
fn spaces(seed: u8, newlines: usize) -> String {
    let pad = ["", " ", "\t", "   "][seed as usize % 4];
    match newlines {
        0 => format!(" {pad}"),
        1 => format!("{pad}\n{}", ["", "  ", "\t\t", "      "][(seed / 4) as usize % 4]),
        _ => format!("{pad}\n{}\n{}", [" ", "", "\n"][(seed / 16) as usize % 3], "  "),
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    /// Only whitespace changes, keeping every empty line and every comment's place on its
    /// line: the layout comes out identical.
    #[test]
    fn respaced_files_format_to_the_same_text(which in any::<prop::sample::Index>(), seed in proptest::collection::vec(any::<u8>(), 1..64)) {
        let all = seeds();
        let original = &all[which.index(all.len())];
        let respaced = rebuild(original, |i, newlines, near_comment| {
            let s = seed[i % seed.len()];
            let lines = match newlines {
                0 | 1 if !near_comment => (s % 2) as usize,
                n => n.min(2),
            };
            spaces(s, lines)
        });
        prop_assume!(parses(&respaced));
        let want = fmt(original).map_err(|d| TestCaseError::fail(format!("{d:?}")))?;
        let got = fmt(&respaced).map_err(|d| TestCaseError::fail(format!("{d:?}\n{respaced}")))?;
        prop_assert_eq!(got, want, "{}", respaced);
    }

    /// Comments dropped between any two tokens are all kept, and the result is stable.
    #[test]
    fn comments_anywhere_are_kept_and_stable(which in any::<prop::sample::Index>(), seed in proptest::collection::vec(any::<u8>(), 1..64)) {
        let all = seeds();
        let original = &all[which.index(all.len())];
        let commented = rebuild(original, |i, newlines, _| {
            let s = seed[i % seed.len()];
            let ws = spaces(s, newlines.min(2));
            match s % 7 {
                0 => format!(" /* c{i} */{ws}"),
                1 => format!(" // c{i}\n{ws}"),
                2 => format!("{ws}/* c{i}\n   over lines */ "),
                3 => format!("\n// c{i}\n{ws}"),
                _ => ws,
            }
        });
        let once = fmt(&commented).map_err(|d| TestCaseError::fail(format!("{d:?}\n{commented}")))?;
        let twice = fmt(&once).map_err(|d| TestCaseError::fail(format!("{d:?}\n{once}")))?;
        prop_assert_eq!(&twice, &once, "{}", commented);
    }

    /// Damaged files never panic the formatter; what it accepts it formats stably, and it
    /// refuses only what does not parse.
    #[test]
    fn damaged_files_are_formatted_or_refused(
        which in any::<prop::sample::Index>(),
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..3, any::<u8>()), 1..8),
    ) {
        let all = seeds();
        let mut text = all[which.index(all.len())].clone().into_bytes();
        for (at, kind, byte) in edits {
            if text.is_empty() {
                break;
            }
            let i = at.index(text.len());
            match kind {
                0 => { text.remove(i); }
                1 => text.insert(i, b"{}()[]\"=.,:|<>%$/*\n "[byte as usize % 20]),
                _ => { let j = (i + byte as usize % 16).min(text.len()); text.drain(i..j); }
            }
        }
        let text = String::from_utf8_lossy(&text).into_owned();
        match fmt(&text) {
            Ok(once) => prop_assert_eq!(fmt(&once), Ok(once.clone())),
            Err(diags) => {
                prop_assert!(!parses(&text) && diags.iter().all(|d| d.code != Code::FormatLoss), "{:?}\n{}", diags, text);
            }
        }
    }
}
