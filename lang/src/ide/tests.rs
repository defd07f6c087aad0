use super::*;
use crate::Workspace;

const LIB: &str = "universe tech = [AAPL, MSFT]\nlimits cautious {\n  max_position $10_000\n}\n";
const MAIN: &str = "import \"lib.strat\"\n\nworkflow W {\n  limits cautious\n  on bar(AAPL, 1d)\n  let p = price(AAPL) * 2\n  if p > $5 and AAPL in tech {\n    buy AAPL size 1\n  }\n}\n";

fn snapshot() -> (Snapshot, FileId, FileId) {
    let mut ws = Workspace::new();
    let main = ws.set_file("dir/main.strat", MAIN.as_bytes().to_vec());
    let lib = ws.set_file("dir/lib.strat", LIB.as_bytes().to_vec());
    ws.load_imports(&[main], &mut |_| Err("none".into()));
    (Snapshot::of(&ws, &[main]), main, lib)
}

fn at(text: &str, needle: &str) -> usize {
    text.find(needle).unwrap_or(usize::MAX)
}

#[test]
fn definition_and_references_follow_imports_and_locals() {
    let (s, main, lib) = snapshot();
    let use_of_tech = at(MAIN, "tech {") + 1;
    assert_eq!(definition(&s, main, use_of_tech), Some(Located { file: lib, span: Span::new(9, 13) }));
    let refs = references(&s, main, use_of_tech, true);
    assert_eq!(
        refs,
        vec![
            Located { file: main, span: Span::new(at(MAIN, "tech {"), at(MAIN, "tech {") + 4) },
            Located { file: lib, span: Span::new(9, 13) }
        ]
    );
    // The local `p`: bound by `let`, used in the `if`.
    let use_of_p = at(MAIN, "p > $5");
    let def = definition(&s, main, use_of_p).map(|l| l.span.start as usize);
    assert_eq!(def, Some(at(MAIN, "p = price")));
    assert_eq!(references(&s, main, use_of_p, false).len(), 1);
}

#[test]
fn rename_refuses_keywords_and_ticker_like_universes() {
    let (s, main, _) = snapshot();
    let on_tech = at(MAIN, "tech {");
    assert!(rename(&s, main, on_tech, "end").is_err());
    assert!(rename(&s, main, on_tech, "TECH").is_err());
    assert_eq!(rename(&s, main, on_tech, "chips").map(|v| v.len()), Ok(2));
}

#[test]
fn hover_gives_types_units_and_docs() {
    let (s, main, _) = snapshot();
    let h = hover(&s, main, at(MAIN, "p = ")).map(|h| h.markdown);
    assert_eq!(h.as_deref().map(|m| m.starts_with("```strat\np: price\n```")), Some(true));
    let h = hover(&s, main, at(MAIN, "price(") + 2).map(|h| h.markdown).unwrap_or_default();
    assert!(h.contains("Example: `price(AAPL) > $200`"), "{h}");
    // A binary expression: hovering the operator shows the type of the whole product.
    let h = hover(&s, main, at(MAIN, "* 2")).map(|h| h.markdown).unwrap_or_default();
    assert!(h.contains("type: price (money per share)"), "{h}");
    let h = hover(&s, main, at(MAIN, "AAPL in") + 1).map(|h| h.markdown).unwrap_or_default();
    assert!(h.contains("AAPL: symbol") && h.contains("in `tech`"), "{h}");
    // A setting keyword is not the built-in value of the same name.
    assert_eq!(hover(&s, main, at(MAIN, "limits cautious") + 1), None);
    let h = hover(&s, main, at(MAIN, "cautious\n  on")).map(|h| h.markdown).unwrap_or_default();
    assert!(h.contains("limits cautious") && h.contains("- max_position: `$10_000`"), "{h}");
}

#[test]
fn completion_knows_where_it_is() {
    let (s, main, _) = snapshot();
    let labels =
        |offset: usize| -> Vec<String> { complete(&s, main, offset).items.into_iter().map(|c| c.label).collect() };
    let in_if = labels(at(MAIN, "p > $5"));
    assert!(
        in_if.contains(&"p".to_string()) && in_if.contains(&"tech".to_string()) && in_if.contains(&"MSFT".to_string())
    );
    let head = labels(at(MAIN, "  limits cautious") + 2);
    assert!(head.contains(&"on".to_string()) && head.contains(&"let".to_string()), "{head:?}");
    let after_limits = labels(at(MAIN, "cautious\n  on"));
    assert_eq!(after_limits, vec!["cautious".to_string()]);
    // Nothing inside a comment or plain text.
    let mut ws = Workspace::new();
    let f = ws.set_file("c.strat", b"// price\nworkflow W { on manual notify \"text {{portfolio.}}\" }".to_vec());
    let s = Snapshot::of(&ws, &[f]);
    assert!(complete(&s, f, 5).items.is_empty());
    let text = s.text(f).to_string();
    let inside = complete(&s, f, at(&text, "text") + 2).items;
    assert!(inside.is_empty(), "{:?}", inside.iter().map(|c| &c.label).collect::<Vec<_>>());
    let fields: Vec<String> =
        complete(&s, f, at(&text, "portfolio.") + 10).items.into_iter().map(|c| c.label).collect();
    assert!(fields.contains(&"buying_power".to_string()), "{fields:?}");
}

#[test]
fn signature_help_counts_arguments() {
    let mut ws = Workspace::new();
    let text = "workflow W { on manual if macd(AAPL, 12, sl";
    let f = ws.set_file("s.strat", text.as_bytes().to_vec());
    let s = Snapshot::of(&ws, &[f]);
    let h = signature_help(&s, f, text.len());
    assert_eq!(h.as_ref().and_then(|h| h.active), Some(2));
    let h = h.map(|h| h.label).unwrap_or_default();
    assert!(h.starts_with("macd(symbol: symbol, fast: number = 12"), "{h}");
    let named = "workflow W { on manual if rsi(AAPL, period: ";
    let f = ws.set_file("n.strat", named.as_bytes().to_vec());
    let s = Snapshot::of(&ws, &[f]);
    assert_eq!(signature_help(&s, f, named.len()).and_then(|h| h.active), Some(1));
}

#[test]
fn tokens_are_ordered_single_line_and_classified() {
    let (s, main, _) = snapshot();
    let toks = semantic_tokens(&s, main);
    let mut last = 0;
    for t in &toks {
        assert!(t.span.start >= last, "out of order at {:?}", t.span);
        assert!(!MAIN[t.span.range()].contains('\n'));
        last = t.span.end;
    }
    let kind_of = |needle: &str| toks.iter().find(|t| t.span.start as usize == at(MAIN, needle)).map(|t| t.kind);
    assert_eq!(kind_of("workflow"), Some(TokenKind::Keyword));
    assert_eq!(kind_of("W {"), Some(TokenKind::Workflow));
    assert_eq!(kind_of("price("), Some(TokenKind::Function));
    assert_eq!(kind_of("tech {"), Some(TokenKind::Universe));
    assert_eq!(kind_of("p > $5"), Some(TokenKind::Variable));
    assert_eq!(kind_of("$5"), Some(TokenKind::Number));
}

#[test]
fn hints_and_symbols() {
    let (s, main, _) = snapshot();
    let hints = inlay_hints(&s, main, 0, MAIN.len());
    assert_eq!(hints, vec![Hint { offset: at(MAIN, "p = ") + 1, label: ": price".to_string() }]);
    let names: Vec<String> = document_symbols(&s, main).into_iter().map(|s| s.name).collect();
    assert_eq!(names, vec!["\"lib.strat\"".to_string(), "W".to_string()]);
    let found: Vec<String> = workspace_symbols(&s, "tec", 10).into_iter().map(|(_, s)| s.name).collect();
    assert_eq!(found, vec!["tech".to_string()]);
}
