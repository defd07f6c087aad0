//! The pest grammar of record (`lang/grammar.pest`) and the hand-written parser accept and
//! reject the same files: every `.strat` file under `tests/` and `examples/`.
#![allow(clippy::disallowed_methods)] // tests read their fixture files

use pest::Parser as _;
use std::path::{Path, PathBuf};
use strat_lang::{Code, FileId};

#[derive(pest_derive::Parser)]
#[grammar = "../grammar.pest"]
struct Grammar;

/// Conditions the grammar does not state: the encoding of the bytes (checked before any
/// grammar applies), nesting depth, string length, and an order option given twice. A file whose
/// only syntax errors are these is not compared.
const OUTSIDE_THE_GRAMMAR: &[Code] =
    &[Code::InvalidUtf8, Code::NulByte, Code::TooDeep, Code::StringTooLong, Code::DuplicateSetting];

fn is_syntax(code: Code) -> bool {
    code.id() < "E0100" && code.id().starts_with('E')
}

fn strat_files(dir: &Path, out: &mut Vec<PathBuf>) {
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for e in entries.flatten() {
        let p = e.path();
        if p.is_dir() {
            strat_files(&p, out);
        } else if p.extension().is_some_and(|x| x == "strat") {
            out.push(p);
        }
    }
}

#[test]
fn grammar_and_parser_agree_on_every_file() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let mut files = Vec::new();
    strat_files(&root.join("tests"), &mut files);
    strat_files(&root.join("examples"), &mut files);
    files.sort();
    let (mut compared, mut accepted, mut rejected) = (0, 0, 0);
    let mut disagreements = Vec::new();
    for f in &files {
        let bytes = std::fs::read(f).expect("readable");
        let (text, mut diags) = strat_lang::source::decode(FileId(0), &bytes);
        let (_, syntax) = strat_lang::syntax::parse(FileId(0), &text);
        diags.extend(syntax);
        let errors: Vec<_> = diags.iter().filter(|d| is_syntax(d.code)).collect();
        if !errors.is_empty() && errors.iter().all(|d| OUTSIDE_THE_GRAMMAR.contains(&d.code)) {
            continue;
        }
        compared += 1;
        let parser_ok = errors.is_empty();
        let pest = Grammar::parse(Rule::file, &text);
        if parser_ok {
            accepted += 1;
        } else {
            rejected += 1;
        }
        let in_grammar_folder = f.parent().is_some_and(|d| d.ends_with("tests/grammar"));
        if in_grammar_folder {
            let meant_to_fail = text.starts_with("// grammar: reject");
            assert_eq!(parser_ok, !meant_to_fail, "{}: the parser disagrees with the file's own header", f.display());
        }
        if parser_ok != pest.is_ok() {
            let pest_says = match &pest {
                Ok(_) => "accepts".to_string(),
                Err(e) => format!("rejects: {e}"),
            };
            let first =
                errors.first().map_or("no syntax error".to_string(), |d| format!("{} {}", d.code.id(), d.message));
            disagreements.push(format!("{}: parser: {first}; pest {pest_says}", f.display()));
        }
    }
    assert!(disagreements.is_empty(), "{} disagreements:\n{}", disagreements.len(), disagreements.join("\n\n"));
    assert!(compared >= 20, "only {compared} files compared");
    assert!(accepted > 0 && rejected > 0, "accepted {accepted}, rejected {rejected}");
}
