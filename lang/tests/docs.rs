//! The written documentation stays true to the code: spec.md quotes the grammar and lists
//! every diagnostic code; docs/stdlib.md is the current generated reference.
#![allow(clippy::disallowed_methods)] // tests read the documents

use std::path::Path;
use strat_lang::Code;

fn read(rel: &str) -> String {
    std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel)).expect("readable")
}

#[test]
fn spec_quotes_the_grammar_of_record() {
    let spec = read("spec.md");
    let grammar = read("lang/grammar.pest");
    assert!(spec.contains(&format!("```pest\n{grammar}```")), "spec.md must quote lang/grammar.pest verbatim");
}

#[test]
fn spec_lists_every_diagnostic_code() {
    let spec = read("spec.md");
    for c in Code::ALL {
        let row =
            format!("| {} | {} | {} |", c.id(), if c.id().starts_with('E') { "error" } else { "warning" }, c.title());
        assert!(spec.contains(&row), "spec.md lacks the row `{row}`");
    }
}

#[test]
fn stdlib_reference_is_current() {
    assert_eq!(
        read("docs/stdlib.md"),
        strat_stdlib::reference_markdown(),
        "regenerate with `strat doc > docs/stdlib.md`"
    );
}
