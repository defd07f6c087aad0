//! The grammar of record (`lang/grammar.pest`) and the hand-written parser accept and reject the
//! same files: every `.strat` file under the workspace's `tests/` and `examples/` folders.
#![allow(clippy::disallowed_methods)] // the test reads its fixture files

use pest::Parser as _;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};
use strat_lang::{Code, Diagnostic, FileId};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar.pest"]
struct Grammar;

/// Lexical and syntax errors: E0001–E0015 (codes are fixed-width, so they sort as numbers).
/// Warnings such as W0001 (byte-order mark) and the checker's codes leave a file grammatical.
fn is_syntax_error(d: &Diagnostic) -> bool {
    ("E0001"..="E0015").contains(&d.code.id())
}

/// Conditions the grammar does not state, because pest cannot reasonably express them: nesting
/// deeper than MAX_DEPTH (E0012), a string longer than 64 KiB (E0008) and an order option given
/// twice (E0015). A file is left out of the comparison only when every syntax error the parser
/// reports for it is one of these; a file with any other syntax error is compared as usual.
const NOT_IN_THE_GRAMMAR: &[Code] = &[Code::TooDeep, Code::StringTooLong, Code::DuplicateSetting];

/// What a file in `tests/grammar/` starts with when the parser is meant to reject it.
const REJECT_HEADER: &str = "// grammar: reject";

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

/// The parser's verdict on decoded text: the syntax errors it reports (empty when it accepts).
/// The decoder's own diagnostics (invalid UTF-8, NUL bytes, byte-order mark) concern the bytes,
/// not the grammar: both sides read the same decoded text, so only `parse` is consulted.
fn parser_errors(text: &str) -> Vec<Diagnostic> {
    let (_, diags) = strat_lang::syntax::parse(FileId(0), text);
    diags.into_iter().filter(is_syntax_error).collect()
}

fn describe(d: &Diagnostic) -> String {
    format!("{} at bytes {}..{}: {}", d.code.id(), d.span.start, d.span.end, d.message)
}

#[test]
fn grammar_and_parser_agree_on_every_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    strat_files(&root.join("tests"), &mut files);
    strat_files(&root.join("examples"), &mut files);
    files.sort();

    let (mut accepted, mut rejected) = (0, 0);
    let mut skipped = Vec::new();
    let mut disagreements = Vec::new();
    let mut bad_headers = Vec::new();
    let mut rules_used = BTreeSet::new();
    for file in &files {
        let shown = file.strip_prefix(&root).unwrap_or(file).display().to_string();
        let bytes = std::fs::read(file).expect("fixture file is readable");
        let (text, _) = strat_lang::source::decode(FileId(0), &bytes);
        let errors = parser_errors(&text);

        // Files in tests/grammar/ say which verdict they are written for.
        if file.parent().is_some_and(|d| d.ends_with("tests/grammar")) {
            let meant_to_reject = text.starts_with(REJECT_HEADER);
            if meant_to_reject == errors.is_empty() {
                let first = errors.first().map_or("no syntax error".to_string(), describe);
                let meant = if meant_to_reject { "rejected" } else { "accepted" };
                bad_headers.push(format!("{shown}: written to be {meant}, but the parser reports {first}"));
            }
        }

        if !errors.is_empty() && errors.iter().all(|d| NOT_IN_THE_GRAMMAR.contains(&d.code)) {
            skipped.push(shown);
            continue;
        }
        let parser_accepts = errors.is_empty();
        if parser_accepts {
            accepted += 1;
        } else {
            rejected += 1;
        }

        let pest = Grammar::parse(Rule::file, &text);
        if let Ok(pairs) = &pest {
            rules_used.extend(pairs.clone().flatten().map(|p| p.as_rule()));
        }
        if parser_accepts != pest.is_ok() {
            let pest_says = match &pest {
                Ok(_) => "accepts".to_string(),
                Err(e) => format!("rejects:\n{e}"),
            };
            let parser_says = match errors.first() {
                None => "accepts".to_string(),
                Some(d) => format!("rejects: {}", describe(d)),
            };
            disagreements.push(format!("{shown}\n  parser {parser_says}\n  pest {pest_says}"));
        }
    }

    assert!(
        bad_headers.is_empty(),
        "the parser does not give these files their intended verdict:\n{}",
        bad_headers.join("\n")
    );
    assert!(
        disagreements.is_empty(),
        "{} disagreements between the grammar and the parser:\n\n{}",
        disagreements.len(),
        disagreements.join("\n\n")
    );
    let compared = accepted + rejected;
    assert!(compared >= 20, "only {compared} files compared");
    assert!(accepted > 0 && rejected > 0, "need both verdicts: {accepted} accepted, {rejected} rejected");
    // Every rule that builds a node of the tree is used by some accepted file (silent rules,
    // written `name = _{ … }`, build none).
    let grammar = std::fs::read_to_string(root.join("lang/grammar.pest")).expect("grammar is readable");
    let silent: BTreeSet<&str> = grammar
        .lines()
        .filter(|l| !l.trim_start().starts_with("//"))
        .filter_map(|l| l.split_once('=').filter(|(_, rhs)| rhs.trim_start().starts_with("_{")))
        .map(|(name, _)| name.trim())
        .collect();
    let unused: Vec<String> = Rule::all_rules()
        .iter()
        .filter(|r| !rules_used.contains(*r))
        .map(|r| format!("{r:?}"))
        .filter(|r| !silent.contains(r.as_str()))
        .collect();
    assert!(unused.is_empty(), "rules no accepted file uses: {unused:?}");
    println!("{compared} files compared: {accepted} accepted, {rejected} rejected");
    println!("not compared (only errors the grammar does not state): {}", skipped.join(", "));
}
