//! Bad input never panics or hangs, and every example survives the IR round trip.
#![allow(clippy::disallowed_methods)] // tests read the example files

use proptest::prelude::*;
use std::path::{Path, PathBuf};
use strat_lang::{Code, Workspace, ir};

fn check_bytes(bytes: Vec<u8>) -> strat_lang::Checked {
    let mut ws = Workspace::new();
    let id = ws.set_file("input.strat", bytes);
    ws.load_imports(&[id], &mut |_| Err("imports are not available here".into()));
    ws.compile(&[id])
}

fn codes(c: &strat_lang::Checked) -> Vec<&'static str> {
    c.diagnostics.iter().map(|d| d.code.id()).collect()
}

fn examples() -> Vec<(PathBuf, Vec<u8>)> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../examples");
    let mut out: Vec<(PathBuf, Vec<u8>)> = std::fs::read_dir(dir)
        .expect("examples")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|e| e == "strat"))
        .map(|p| {
            let b = std::fs::read(&p).expect("readable");
            (p, b)
        })
        .collect();
    out.sort();
    out
}

#[test]
fn a_hundred_thousand_nested_parentheses() {
    let text = format!("workflow W {{ on manual let _x = {}1{} }}", "(".repeat(100_000), ")".repeat(100_000));
    let c = check_bytes(text.into_bytes());
    assert_eq!(codes(&c), vec!["E0012"]);
}

#[test]
fn deep_nesting_of_every_kind_is_bounded() {
    let blocks = format!("workflow W {{ on manual {} end {} }}", "if true { ".repeat(5_000), "}".repeat(5_000));
    assert!(codes(&check_bytes(blocks.into_bytes())).contains(&"E0012"));
    let lists = format!("universe u = {}AAPL{}", "[".repeat(50_000), "]".repeat(50_000));
    assert!(codes(&check_bytes(lists.into_bytes())).contains(&"E0012"));
    let nots = format!("workflow W {{ on manual if {}true {{ end }} }}", "not ".repeat(50_000));
    assert!(codes(&check_bytes(nots.into_bytes())).contains(&"E0012"));
    let types =
        format!("workflow W {{ on manual ask v: {}number{} \"?\" }}", "list<".repeat(20_000), ">".repeat(20_000));
    assert!(codes(&check_bytes(types.into_bytes())).contains(&"E0012"));
}

#[test]
fn a_hundred_thousand_term_chain_of_any_operator_is_one_error() {
    for (op, term) in [
        ("+", "1"),
        ("-", "1"),
        ("*", "2"),
        ("/", "2"),
        ("and", "true"),
        ("or", "false"),
        (".", "portfolio"),
        ("<", "1"),
        ("==", "1"),
        ("in", "1"),
        ("crosses above", "1"),
    ] {
        let chain = vec![term; 100_000].join(&format!(" {op} "));
        let text = format!("workflow W {{ on manual let _y = {chain} }}");
        let c = check_bytes(text.into_bytes());
        // Comparisons cannot be chained at all: that one error stands for the whole chain.
        let want = if ["<", "==", "in", "crosses above"].contains(&op) { "E0010" } else { "E0012" };
        assert_eq!(codes(&c), vec![want], "chain of `{op}`");
    }
}

#[test]
fn a_one_megabyte_string_literal() {
    let text = format!("workflow W {{ on manual log \"{}\" }}", "x".repeat(1 << 20));
    let c = check_bytes(text.into_bytes());
    assert_eq!(codes(&c), vec!["E0008"]);
    assert_eq!(c.diagnostics[0].span.start, 27);
}

#[test]
fn binary_noise_is_reported_not_fatal() {
    // A deterministic pseudo-random file: every byte value, scrambled.
    let mut state: u32 = 0x9e37_79b9;
    let bytes: Vec<u8> = (0..200_000)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 17;
            state ^= state << 5;
            (state >> 24) as u8
        })
        .collect();
    let c = check_bytes(bytes);
    assert!(c.has_errors());
    assert!(c.program.is_none());
    assert!(c.diagnostics.iter().any(|d| d.code == Code::InvalidUtf8), "{:?}", codes(&c));
}

#[test]
fn duplicate_declarations_across_files_and_import_cycles() {
    let mut ws = Workspace::new();
    let a = ws.set_file("a.strat", b"import \"b.strat\"\nuniverse tech = [AAPL]\n".to_vec());
    let b = ws.set_file("b.strat", b"import \"a.strat\"\nuniverse tech = [MSFT]\n".to_vec());
    ws.load_imports(&[a, b], &mut |_| Err("not on disk".into()));
    let c = ws.check(&[a, b]);
    let got: Vec<(u32, &str)> = c.diagnostics.iter().map(|d| (d.file.0, d.code.id())).collect();
    // Each `tech` is shadowed by the other, so neither is used either.
    assert_eq!(got, vec![(0, "E0102"), (0, "E0107"), (0, "W0101"), (1, "E0102"), (1, "E0107"), (1, "W0101")]);
}

#[test]
fn every_example_round_trips_through_the_ir() {
    for (path, bytes) in examples() {
        let c = check_bytes(bytes.clone());
        let p = c.program.unwrap_or_else(|| panic!("{} has no IR", path.display()));
        let json = serde_json::to_string(&p).expect("serialises");
        let back: ir::Program = serde_json::from_str(&json).expect("deserialises");
        assert_eq!(back, p, "{}", path.display());
        assert_eq!(back.clone().seal().hash, p.hash, "hash is stable: {}", path.display());
        for g in &p.graphs {
            assert_eq!(ir::validate(g), vec![], "{} / {}", path.display(), g.name);
        }
        // Moving every declaration does not change the program: the IR holds no spans.
        let spaced =
            format!("// a comment that shifts every offset\n\n{}\n\n", String::from_utf8(bytes).expect("utf-8"));
        let again = check_bytes(spaced.into_bytes()).program.expect("still clean");
        assert_eq!(again.hash, p.hash, "{}", path.display());
    }
}

#[test]
fn the_hash_changes_with_the_program() {
    let (_, bytes) = examples().into_iter().find(|(p, _)| p.ends_with("sma_crossover.strat")).expect("example");
    let text = String::from_utf8(bytes).expect("utf-8");
    let a = check_bytes(text.clone().into_bytes()).program.expect("clean");
    let b = check_bytes(text.replace("sma(SPY, 30)", "sma(SPY, 31)").into_bytes()).program.expect("clean");
    assert_ne!(a.hash, b.hash);
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 256, ..ProptestConfig::default() })]

    #[test]
    fn random_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..2_000)) {
        let c = check_bytes(bytes);
        for d in &c.diagnostics {
            prop_assert!(d.span.start <= d.span.end);
        }
    }

    #[test]
    fn mutated_examples_never_panic(
        which in 0usize..8,
        edits in proptest::collection::vec((any::<prop::sample::Index>(), 0usize..4, any::<u8>()), 1..12),
    ) {
        let all = examples();
        let (_, original) = &all[which % all.len()];
        let mut bytes = original.clone();
        for (at, kind, byte) in edits {
            if bytes.is_empty() {
                break;
            }
            let i = at.index(bytes.len());
            match kind {
                0 => { bytes.remove(i); }
                1 => bytes.insert(i, byte),
                2 => bytes[i] = b"{}()[]\"=.,:|<>%$"[byte as usize % 16],
                _ => { let j = (i + byte as usize).min(bytes.len()); bytes.drain(i..j); }
            }
        }
        let len = bytes.len();
        let c = check_bytes(bytes);
        for d in &c.diagnostics {
            prop_assert!(d.span.end as usize <= len);
        }
    }
}

/// Every editor query at every offset of `text` answers without panicking.
fn ide_everywhere(text: &str) {
    use strat_lang::ide;
    let mut ws = Workspace::new();
    let id = ws.set_file("input.strat", text.as_bytes().to_vec());
    ws.load_imports(&[id], &mut |_| Err("imports are not available here".into()));
    let s = strat_lang::ide::Snapshot::of(&ws, &[id]);
    let len = s.text(id).len();
    for offset in 0..=len + 1 {
        let _ = ide::hover(&s, id, offset);
        let _ = ide::complete(&s, id, offset);
        let _ = ide::signature_help(&s, id, offset);
        let _ = ide::definition(&s, id, offset);
        let _ = ide::references(&s, id, offset, true);
        let _ = ide::rename(&s, id, offset, "renamed");
        let _ = ide::code_actions(&s, id, strat_lang::Span::new(offset, offset + 3));
    }
    let _ = ide::semantic_tokens(&s, id);
    let _ = ide::inlay_hints(&s, id, 0, len);
    let _ = ide::document_symbols(&s, id);
    let _ = ide::folding_ranges(&s, id);
    let _ = ide::workspace_symbols(&s, "a", 100);
}

#[test]
fn editor_queries_answer_at_every_offset_of_every_example() {
    for (_, bytes) in examples() {
        let text = String::from_utf8_lossy(&bytes).into_owned();
        ide_everywhere(&text);
        // And on every prefix cut at a line end: the file as it is being typed.
        for (i, _) in text.match_indices('\n').step_by(3) {
            ide_everywhere(&text[..i]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 200, ..ProptestConfig::default() })]

    #[test]
    fn editor_queries_never_panic_on_fragments(
        parts in proptest::collection::vec(prop_oneof![
            Just("agent A {"), Just("workflow W {"), Just("}"), Just("{{"), Just("}}"), Just("\""), Just("\"\"\""),
            Just("portfolio."), Just("rsi("), Just(","), Just(")"), Just("é𝄞"), Just("\n"), Just("let x = "),
            Just("/*"), Just("*/"), Just("AAPL"), Just("universe u = [AAPL]"), Just("trigger."), Just("import \"x\""),
        ], 0..24)
    ) {
        ide_everywhere(&parts.concat());
    }
}
