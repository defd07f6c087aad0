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
    assert_eq!(seen, 9);
}

#[test]
fn order_sizes_lower_by_their_checked_type() {
    let src = "limits { max_position $50_000 }
        workflow W {
          on manual
          buy SPY size $5_000
          buy SPY size portfolio.cash * 10%
          buy SPY size floor(portfolio.cash / close(SPY))
          buy SPY size 7 shares
        }";
    let mut ws = Workspace::new();
    let id = ws.set_file("w.strat", src.as_bytes().to_vec());
    let c = ws.compile(&[id]);
    let p = c.program.unwrap_or_else(|| panic!("{:?}", c.diagnostics));
    let sizes: Vec<&str> = p.graphs[0]
        .nodes
        .iter()
        .filter_map(|n| match &n.kind {
            strat_lang::ir::NodeKind::Action { action: strat_lang::ir::Action::Order { size, .. } } => {
                Some(match size {
                    strat_lang::ir::Size::Value { .. } => "value",
                    strat_lang::ir::Size::Shares { .. } => "shares",
                    _ => "other",
                })
            }
            _ => None,
        })
        .collect();
    assert_eq!(sizes, ["value", "value", "shares", "shares"]);
}
