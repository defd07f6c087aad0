//! The VS Code extension agrees with the language: its snippets are the server's, its grammar
//! knows every keyword, and its manifest points at files that exist.
#![allow(clippy::disallowed_methods)] // the test reads the extension's files

use serde_json::Value;
use std::path::{Path, PathBuf};

fn ext() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("editors/vscode")
}

fn json(path: &str) -> Value {
    let text = std::fs::read_to_string(ext().join(path)).expect("readable");
    serde_json::from_str(&text).expect("valid JSON")
}

#[test]
fn snippets_are_the_servers_declaration_snippets() {
    let snippets = json("snippets/strat.json");
    let names: Vec<&str> = snippets.as_object().map(|o| o.keys().map(String::as_str).collect()).unwrap_or_default();
    let mut want: Vec<&str> = strat_lang::ide::ITEM_SNIPPETS.iter().map(|(n, _, _)| *n).collect();
    let mut got = names.clone();
    want.sort();
    got.sort();
    assert_eq!(got, want);
    for (name, detail, body) in strat_lang::ide::ITEM_SNIPPETS {
        let s = &snippets[*name];
        assert_eq!(s["prefix"], *name);
        assert_eq!(s["description"], *detail);
        let lines: Vec<&str> =
            s["body"].as_array().map(|a| a.iter().filter_map(Value::as_str).collect()).unwrap_or_default();
        assert_eq!(lines.join("\n"), *body, "snippet {name}");
    }
    for required in ["agent", "workflow", "team"] {
        assert!(names.contains(&required), "{required}");
    }
}

#[test]
fn the_grammar_knows_every_keyword() {
    let grammar = std::fs::read_to_string(ext().join("syntaxes/strat.tmLanguage.json")).expect("grammar");
    let words = strat_lang::syntax::ITEM_WORDS
        .iter()
        .chain(strat_lang::syntax::AGENT_SETTINGS)
        .chain(strat_lang::syntax::TEAM_SETTINGS)
        .chain(strat_lang::syntax::WORKFLOW_SETTINGS)
        .chain(strat_lang::syntax::STATEMENTS);
    for w in words {
        let found = [format!("|{w}|"), format!("({w}|"), format!("|{w})"), format!("({w})")];
        assert!(found.iter().any(|f| grammar.contains(f.as_str())), "`{w}` missing from the grammar");
    }
}

#[test]
fn the_manifest_points_at_files_that_exist() {
    let pkg = json("package.json");
    assert_eq!(pkg["contributes"]["languages"][0]["extensions"][0], ".strat");
    let files = [
        pkg["main"].as_str(),
        pkg["contributes"]["languages"][0]["configuration"].as_str(),
        pkg["contributes"]["grammars"][0]["path"].as_str(),
        pkg["contributes"]["snippets"][0]["path"].as_str(),
    ];
    for f in files {
        let f = f.expect("path in package.json");
        assert!(ext().join(f).is_file(), "{f} missing");
    }
    assert_eq!(pkg["contributes"]["configuration"]["properties"]["strat.server.path"]["default"], "strat");
    let config = json("language-configuration.json");
    assert_eq!(config["comments"]["lineComment"], "//");
    assert_eq!(config["comments"]["blockComment"], serde_json::json!(["/*", "*/"]));
}
