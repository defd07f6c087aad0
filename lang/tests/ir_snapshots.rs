//! Snapshots of the DAG IR of every example, so any change to lowering is reviewed.
#![allow(clippy::disallowed_methods)] // tests read the example files

use std::path::Path;
use strat_lang::Workspace;

#[test]
fn ir_of_every_example() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut files: Vec<_> =
        std::fs::read_dir(&dir).expect("examples").filter_map(|e| e.ok().map(|e| e.path())).collect();
    files.sort();
    let mut seen = 0;
    for f in files.iter().filter(|p| p.extension().is_some_and(|e| e == "strat")) {
        let mut ws = Workspace::new();
        let id = ws.set_file("example.strat", std::fs::read(f).expect("readable"));
        let program = ws.compile(&[id]).program.unwrap_or_else(|| panic!("{} has errors", f.display()));
        let name = f.file_stem().and_then(|s| s.to_str()).unwrap_or_default().to_string();
        insta::assert_snapshot!(name, serde_json::to_string_pretty(&program).expect("serialises"));
        seen += 1;
    }
    assert_eq!(seen, 8);
}
