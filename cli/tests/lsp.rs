//! The language server through a real client: `strat lsp` runs as a process and these tests
//! speak JSON-RPC to it over its standard input and output.
#![allow(clippy::disallowed_methods)] // the tests write their projects to a temporary folder

mod lsp_client;

use lsp_client::Client;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};

const EXE: &str = env!("CARGO_BIN_EXE_strat");

const LIB: &str =
    "universe tech = [AAPL, MSFT, NVDA]\n\nlimits cautious {\n  max_position   $10_000\n  max_allocation 5%\n}\n";

const MAIN: &str = r#"import "lib.strat"

model sonnet = anthropic("claude-sonnet-4-5")

agent DipBuyer {
  description "Buys dips in tech"
  model   sonnet
  limits  cautious
  context prices(tech), portfolio
  prompt  "Buy {{trigger.symbol}} if it fell; cash is {{portfolio.cash}}."
  on change(tech, 1d) <= -3%
}

workflow Exits {
  limits cautious
  on bar(AAPL, 1d)
  let level = price(AAPL) * 2
  if rsi(AAPL, 14) > 70 and level > $10 {
    sell AAPL size all
  }
}
"#;

/// A fresh folder holding `files`.
fn project(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("strat-lsp-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (path, text) in files {
        std::fs::write(dir.join(path), text).expect("write file");
    }
    dir
}

fn uri(dir: &Path, file: &str) -> String {
    format!("file://{}", dir.join(file).display())
}

/// (line, UTF-16 column) of the first occurrence of `needle` in `text`, plus `extra` bytes.
fn pos(text: &str, needle: &str, extra: usize) -> (u32, u32) {
    let at = text.find(needle).expect("needle in text") + extra;
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    let line = text[..at].matches('\n').count() as u32;
    (line, text[line_start..at].encode_utf16().count() as u32)
}

fn at(uri: &str, p: (u32, u32)) -> Value {
    Client::at(uri, p.0, p.1)
}

fn started(name: &str) -> (Client, PathBuf, String) {
    let dir = project(name, &[("lib.strat", LIB), ("main.strat", MAIN)]);
    let mut c = Client::start(EXE, &dir);
    c.initialize(&dir, &["utf-16"]);
    let main = uri(&dir, "main.strat");
    c.open(&main, MAIN);
    (c, dir, main)
}

fn labels(completion: &Value) -> Vec<String> {
    completion["items"]
        .as_array()
        .map(|a| a.iter().filter_map(|i| i["label"].as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

#[test]
fn initialize_negotiates_the_position_encoding() {
    let dir = project("init", &[]);
    let mut c = Client::start(EXE, &dir);
    let caps = c.initialize(&dir, &["utf-16"]);
    assert_eq!(caps["capabilities"]["positionEncoding"], "utf-16");
    assert_eq!(caps["capabilities"]["textDocumentSync"], 2, "incremental sync");
    for cap in [
        "hoverProvider",
        "completionProvider",
        "signatureHelpProvider",
        "definitionProvider",
        "referencesProvider",
        "renameProvider",
        "documentSymbolProvider",
        "workspaceSymbolProvider",
        "semanticTokensProvider",
        "codeActionProvider",
        "inlayHintProvider",
        "foldingRangeProvider",
        "documentHighlightProvider",
        "documentFormattingProvider",
    ] {
        assert!(!caps["capabilities"][cap].is_null(), "{cap} missing");
    }
    assert_eq!(c.shutdown(), Some(0));

    let mut c = Client::start(EXE, &dir);
    let caps = c.initialize(&dir, &["utf-8", "utf-16"]);
    assert_eq!(caps["capabilities"]["positionEncoding"], "utf-8");
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn diagnostics_of_a_broken_file_have_exact_ranges_in_both_encodings() {
    let text = "workflow W {\n  on manual\n  notify \"é𝄞 {{pricee}}\"\n}\n\nuniverse u = [AAPL,\n";
    for (enc, columns_of) in [("utf-16", 0), ("utf-8", 1)] {
        let dir = project(&format!("broken-{enc}"), &[]);
        let mut c = Client::start(EXE, &dir);
        c.initialize(&dir, &[enc]);
        let file = uri(&dir, "broken.strat");
        c.open(&file, text);
        let pushed = c.wait_for("textDocument/publishDiagnostics", |p| {
            p["uri"] == file.as_str() && p["diagnostics"].as_array().is_some_and(|d| d.len() >= 2)
        });
        assert_eq!(pushed["version"], 1);
        let diags = c.diagnostics(&file);
        let placeholder = diags.iter().find(|d| d["code"] == "E0301").expect("unknown placeholder reported");
        let at = text.find("pricee").expect("in text");
        let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
        let col = if columns_of == 0 { text[line_start..at].encode_utf16().count() } else { at - line_start };
        assert_eq!(placeholder["range"]["start"], json!({"line": 2, "character": col}));
        assert_eq!(placeholder["range"]["end"], json!({"line": 2, "character": col + 6}));
        assert_eq!(placeholder["severity"], 1);
        assert!(placeholder["message"].as_str().is_some_and(|m| m.contains("pricee")));
        let syntax = diags.iter().find(|d| d["code"].as_str().is_some_and(|c| c.starts_with("E001")));
        let syntax = syntax.expect("the unclosed list is reported");
        assert_eq!(syntax["range"]["start"]["line"].as_u64().map(|l| l >= 5), Some(true));
        assert_eq!(c.shutdown(), Some(0));
    }
}

#[test]
fn completion_offers_fields_functions_snippets_and_tickers() {
    let (mut c, _dir, main) = started("complete");
    // After `portfolio.` in the prompt template.
    let p = pos(MAIN, "portfolio.cash", "portfolio.".len());
    let r = c.request("textDocument/completion", at(&main, p));
    let l = labels(&r);
    assert!(l.contains(&"cash".to_string()) && l.contains(&"total_value".to_string()), "{l:?}");
    assert!(!l.contains(&"rsi".to_string()), "only fields after a dot");

    // In an expression: functions with snippets, universes, tickers from the universe.
    let p = pos(MAIN, "rsi(AAPL, 14) > 70", 0);
    let r = c.request("textDocument/completion", at(&main, p));
    let items = r["items"].as_array().cloned().unwrap_or_default();
    let rsi = items.iter().find(|i| i["label"] == "rsi").expect("rsi offered");
    assert_eq!(rsi["insertTextFormat"], 2, "a snippet");
    assert_eq!(rsi["textEdit"]["newText"], "rsi(${1:symbol})$0");
    assert!(rsi["detail"].as_str().is_some_and(|d| d.contains("period: number = 14")));
    let l = labels(&r);
    for want in ["tech", "NVDA", "level", "portfolio", "and"] {
        assert!(l.contains(&want.to_string()), "{want} missing from {l:?}");
    }

    // At the top level: declaration snippets.
    let end = pos(MAIN, "}\n\nworkflow", 2);
    let r = c.request("textDocument/completion", at(&main, end));
    let items = r["items"].as_array().cloned().unwrap_or_default();
    let agent = items.iter().find(|i| i["label"] == "agent" && i["kind"] == 15).expect("agent snippet");
    assert!(agent["textEdit"]["newText"].as_str().is_some_and(|t| t.starts_with("agent ${1:Name} {")));

    // After `context ` in an agent: the context sources.
    let p = pos(MAIN, "prices(tech), portfolio", 0);
    let l = labels(&c.request("textDocument/completion", at(&main, p)));
    assert!(l.contains(&"indicators".to_string()) && l.contains(&"news".to_string()), "{l:?}");
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn hover_shows_docs_types_and_declarations() {
    let (mut c, _dir, main) = started("hover");
    let md = |r: &Value| r["contents"]["value"].as_str().unwrap_or("").to_string();

    let r = c.request("textDocument/hover", at(&main, pos(MAIN, "rsi(AAPL", 1)));
    assert!(md(&r).contains("Relative strength index") && md(&r).contains("Example: `rsi(AAPL, 14) < 30`"), "{r}");

    let r = c.request("textDocument/hover", at(&main, pos(MAIN, "DipBuyer", 2)));
    let text = md(&r);
    assert!(text.contains("agent DipBuyer"), "{text}");
    assert!(text.contains("- model: `sonnet`") && text.contains("- limits: `cautious`"), "{text}");
    assert!(text.contains("- on: `change(tech, 1d) <= -3%`"), "{text}");

    let r = c.request("textDocument/hover", at(&main, pos(MAIN, "level =", 1)));
    assert!(md(&r).contains("level: price"), "{r}");

    let r = c.request("textDocument/hover", at(&main, pos(MAIN, "cash}}", 1)));
    assert!(md(&r).contains("cash: money") && md(&r).contains("cash balance"), "{r}");
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn definition_references_and_rename_cross_files() {
    let (mut c, dir, main) = started("navigate");
    let lib = uri(&dir, "lib.strat");
    let use_at = pos(MAIN, "prices(tech)", "prices(".len() + 1);
    let r = c.request("textDocument/definition", at(&main, use_at));
    assert_eq!(r["uri"], lib.as_str());
    assert_eq!(r["range"]["start"], json!({"line": 0, "character": 9}));
    assert_eq!(r["range"]["end"], json!({"line": 0, "character": 13}));

    let mut params = at(&main, use_at);
    params["context"] = json!({"includeDeclaration": true});
    let r = c.request("textDocument/references", params);
    let places: Vec<(String, u64)> = r
        .as_array()
        .map(|a| {
            a.iter()
                .map(|l| {
                    (l["uri"].as_str().unwrap_or("").to_string(), l["range"]["start"]["line"].as_u64().unwrap_or(0))
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(places.len(), 3, "{places:?}");
    assert!(places.contains(&(lib.clone(), 0)));
    assert_eq!(places.iter().filter(|(u, _)| *u == main).count(), 2);

    let r = c.request("textDocument/prepareRename", at(&main, use_at));
    assert_eq!(r["start"]["character"], use_at.1 - 1);
    let mut params = at(&main, use_at);
    params["newName"] = json!("leaders");
    let r = c.request("textDocument/rename", params);
    let changes = &r["changes"];
    assert_eq!(changes[lib.as_str()].as_array().map(Vec::len), Some(1));
    assert_eq!(changes[main.as_str()].as_array().map(Vec::len), Some(2));
    assert_eq!(changes[main.as_str()][0]["newText"], "leaders");

    let mut params = at(&main, use_at);
    params["newName"] = json!("if");
    let id = c.send_request("textDocument/rename", params);
    assert!(c.response(id).is_err(), "a keyword is refused");
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn symbols_tokens_actions_hints_and_signatures() {
    let (mut c, _dir, main) = started("symbols");
    let r = c.request("textDocument/documentSymbol", json!({"textDocument": {"uri": main}}));
    let names: Vec<&str> =
        r.as_array().map(|a| a.iter().filter_map(|s| s["name"].as_str()).collect()).unwrap_or_default();
    assert_eq!(names, vec!["\"lib.strat\"", "sonnet", "DipBuyer", "Exits"]);

    let r = c.request("workspace/symbol", json!({"query": "cau"}));
    let found: Vec<&str> =
        r.as_array().map(|a| a.iter().filter_map(|s| s["name"].as_str()).collect()).unwrap_or_default();
    assert_eq!(found, vec!["cautious"]);

    let r = c.request("textDocument/foldingRange", json!({"textDocument": {"uri": main}}));
    let folds: Vec<(u64, u64)> = r
        .as_array()
        .map(|a| a.iter().map(|f| (f["startLine"].as_u64().unwrap_or(0), f["endLine"].as_u64().unwrap_or(0))).collect())
        .unwrap_or_default();
    assert!(folds.contains(&(4, 11)) && folds.contains(&(13, 20)) && folds.contains(&(17, 19)), "{folds:?}");

    let r = c.request("textDocument/documentHighlight", at(&main, pos(MAIN, "level >", 1)));
    assert_eq!(r.as_array().map(Vec::len), Some(2), "the binding and its use");

    let r = c.request("textDocument/semanticTokens/full", json!({"textDocument": {"uri": main}}));
    let data = r["data"].as_array().cloned().unwrap_or_default();
    assert!(data.len() > 50 && data.len() % 5 == 0);
    // The first token is the `import` keyword at 0:0, length 6, type keyword (0).
    assert_eq!(&data[..5], &[json!(0), json!(0), json!(6), json!(0), json!(0)]);

    let r = c.request("textDocument/inlayHint", json!({"textDocument": {"uri": main}, "range": {"start": {"line": 0, "character": 0}, "end": {"line": 40, "character": 0}}}));
    let hint = &r[0];
    assert_eq!(hint["label"], ": price");
    assert_eq!(hint["position"], json!({"line": pos(MAIN, "level =", 0).0, "character": 11}));

    let r = c.request("textDocument/signatureHelp", at(&main, pos(MAIN, "rsi(AAPL, 14)", "rsi(AAPL, ".len())));
    assert_eq!(r["activeParameter"], 1);
    assert!(r["signatures"][0]["label"].as_str().is_some_and(|l| l.starts_with("rsi(symbol: symbol, period")));

    // A did-you-mean fix.
    let v = 2;
    let p = pos(MAIN, "rsi(AAPL, 14)", 0);
    c.change(&main, v, (p, (p.0, p.1 + 3)), "rsii");
    let diags = c.diagnostics(&main);
    let d = diags.iter().find(|d| d["code"] == "E0103").expect("unknown function");
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": main}, "range": d["range"], "context": {"diagnostics": [d]}}),
    );
    let fix = &r[0];
    assert_eq!(fix["title"], "Did you mean `rsi`?");
    assert_eq!(fix["isPreferred"], true);
    assert_eq!(fix["edit"]["changes"][main.as_str()][0]["newText"], "rsi");
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn missing_limits_get_code_actions() {
    let text = "limits cautious {\n  max_position $5_000\n}\n\nmodel m = anthropic(\"claude-sonnet-4-5\")\n\nagent Trader {\n  model m\n  prompt \"trade\"\n  on manual\n}\n";
    let dir = project("limits", &[]);
    let mut c = Client::start(EXE, &dir);
    c.initialize(&dir, &["utf-16"]);
    let file = uri(&dir, "t.strat");
    c.open(&file, text);
    let diags = c.diagnostics(&file);
    let d = diags.iter().find(|d| d["code"] == "E0901").expect("no limits reported");
    let r = c.request(
        "textDocument/codeAction",
        json!({"textDocument": {"uri": file}, "range": d["range"], "context": {"diagnostics": [d]}}),
    );
    let titles: Vec<&str> =
        r.as_array().map(|a| a.iter().filter_map(|x| x["title"].as_str()).collect()).unwrap_or_default();
    assert_eq!(titles, vec!["Use limits `cautious`", "Add a limits block"]);
    let edit = &r[0]["edit"]["changes"][file.as_str()][0];
    assert_eq!(edit["newText"], "\n  limits cautious");
    assert_eq!(edit["range"]["start"], json!({"line": 6, "character": 14}));
    // Applying it leaves no error.
    c.change(&file, 2, ((6, 14), (6, 14)), "\n  limits cautious");
    let left: Vec<Value> = c.diagnostics(&file).into_iter().filter(|d| d["severity"] == 1).collect();
    assert!(left.is_empty(), "{left:?}");
    assert_eq!(c.shutdown(), Some(0));
}

/// A tiny deterministic generator for the random edits.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// (line, UTF-16 column) of byte `at`.
fn position(text: &str, at: usize) -> (u32, u32) {
    let line_start = text[..at].rfind('\n').map_or(0, |i| i + 1);
    (text[..at].matches('\n').count() as u32, text[line_start..at].encode_utf16().count() as u32)
}

#[test]
fn hundreds_of_random_edits_leave_the_server_answering_correctly() {
    let (mut c, dir, main) = started("random");
    let pieces = [
        "",
        "{",
        "}",
        "(",
        ")",
        "\"",
        "{{",
        "}}",
        "\n",
        " ",
        "é",
        "𝄞",
        "agent ",
        "rsi(",
        "AAPL",
        ".",
        "portfolio.",
        "workflow X {\n",
        "let x = ",
        "1d",
        "$5",
        "%",
        "/*",
        "*/",
        "//",
        "\"\"\"",
        "tech",
        ",",
        "crosses above ",
    ];
    let mut rng = Rng(0x5EED_1234_ABCD_0001);
    let mut text = MAIN.to_string();
    let mut version = 1;
    for step in 0..400 {
        let boundaries: Vec<usize> = (0..=text.len()).filter(|i| text.is_char_boundary(*i)).collect();
        let a = boundaries[rng.below(boundaries.len())];
        let b = if rng.below(3) == 0 {
            let after: Vec<usize> = boundaries.iter().copied().filter(|i| *i >= a && *i <= a + 12).collect();
            after[rng.below(after.len())]
        } else {
            a
        };
        let insert = pieces[rng.below(pieces.len())];
        version += 1;
        c.change(&main, version, (position(&text, a), position(&text, b)), insert);
        text.replace_range(a..b, insert);
        if step % 40 == 0 {
            // Requests in between the edits, at random places.
            let p = position(&text, boundaries[rng.below(boundaries.len())].min(text.len()));
            c.request("textDocument/hover", at(&main, p));
            c.request("textDocument/completion", at(&main, p));
        }
    }
    // End with a known tail so the last lines are meaningful.
    let tail = "\nuniverse zz = [AAPL]\nworkflow Tail {\n  on bar(AAPL, 1d)\n  let t = price(AAPL)\n  notify \"{{portfolio.}}\"\n}\n";
    version += 1;
    let end = position(&text, text.len());
    c.change(&main, version, (end, end), tail);
    text.push_str(tail);

    // A second server given the final text in one piece must answer the same.
    let mut fresh = Client::start(EXE, &dir);
    fresh.initialize(&dir, &["utf-16"]);
    fresh.open(&main, &text);
    assert_eq!(c.diagnostics(&main), fresh.diagnostics(&main), "diagnostics differ after the edits");
    let symbols = json!({"textDocument": {"uri": main}});
    assert_eq!(
        c.request("textDocument/documentSymbol", symbols.clone()),
        fresh.request("textDocument/documentSymbol", symbols)
    );
    let t = position(&text, text.rfind("price(AAPL)").expect("tail") + 1);
    let h = c.request("textDocument/hover", at(&main, t));
    assert!(h["contents"]["value"].as_str().is_some_and(|v| v.contains("The close of the most recent bar")), "{h}");
    assert_eq!(h, fresh.request("textDocument/hover", at(&main, t)));
    let dot = position(&text, text.rfind("portfolio.}}").expect("tail") + "portfolio.".len());
    let l = labels(&c.request("textDocument/completion", at(&main, dot)));
    assert!(l.contains(&"cash".to_string()), "{l:?}");
    assert_eq!(l, labels(&fresh.request("textDocument/completion", at(&main, dot))));
    assert_eq!(fresh.shutdown(), Some(0));
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn imports_outside_the_workspace_are_read_from_disk_and_open_text_wins() {
    let dir = project("imports", &[]);
    std::fs::create_dir_all(dir.join("ws")).expect("ws");
    std::fs::create_dir_all(dir.join("shared")).expect("shared");
    std::fs::write(dir.join("shared/lib.strat"), LIB).expect("lib");
    let main_text = "import \"../shared/lib.strat\"\n\nworkflow W {\n  limits cautious\n  on bar(AAPL, 1d)\n  if AAPL in tech { buy AAPL size 1 }\n}\n";
    std::fs::write(dir.join("ws/main.strat"), main_text).expect("main");
    let mut c = Client::start(EXE, &dir.join("ws"));
    c.initialize(&dir.join("ws"), &["utf-16"]);
    let main = uri(&dir, "ws/main.strat");
    c.open(&main, main_text);
    assert_eq!(c.diagnostics(&main), Vec::<Value>::new());
    let r = c.request("textDocument/definition", at(&main, pos(main_text, "tech {", 1)));
    assert_eq!(r["uri"], uri(&dir, "shared/lib.strat").as_str());
    // Opening the imported file with other text: that text is what counts.
    let lib = uri(&dir, "shared/lib.strat");
    c.open(&lib, &LIB.replace("universe tech", "universe chips"));
    let diags = c.diagnostics(&main);
    assert!(
        diags.iter().any(|d| d["code"] == "E0101" && d["message"].as_str().is_some_and(|m| m.contains("tech"))),
        "{diags:?}"
    );
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn a_folder_link_that_loops_is_not_walked_and_a_file_link_is_read() {
    let dir = project("links", &[("lib.strat", LIB)]);
    std::fs::create_dir_all(dir.join("deep")).expect("deep");
    std::os::unix::fs::symlink("..", dir.join("deep/loop")).expect("folder link");
    std::fs::write(dir.join("other.strat"), "universe chips = [NVDA]\n").expect("other");
    std::os::unix::fs::symlink(dir.join("other.strat"), dir.join("deep/linked.strat")).expect("file link");
    let mut c = Client::start(EXE, &dir);
    c.initialize(&dir, &["utf-16"]);
    // Each declaration once: the workspace was walked without going round the loop.
    let r = c.request("workspace/symbol", json!({"query": "cautious"}));
    assert_eq!(r.as_array().map(Vec::len), Some(1), "`cautious` found more than once");
    // The linked file is read, as a file of its own.
    let r = c.request("workspace/symbol", json!({"query": "chips"}));
    assert_eq!(r.as_array().map(Vec::len), Some(2), "`chips` not found in both files");
    assert_eq!(c.shutdown(), Some(0));
}

#[test]
fn files_changed_on_disk_are_read_again() {
    let dir = project("watched", &[("lib.strat", LIB), ("main.strat", MAIN)]);
    let mut c = Client::start(EXE, &dir);
    c.initialize(&dir, &["utf-16"]);
    let main = uri(&dir, "main.strat");
    c.open(&main, MAIN);
    assert!(c.diagnostics(&main).iter().all(|d| d["severity"] != 1));
    std::fs::write(dir.join("lib.strat"), LIB.replace("universe tech", "universe chips")).expect("rewrite lib");
    c.notify("workspace/didChangeWatchedFiles", json!({"changes": [{"uri": uri(&dir, "lib.strat"), "type": 2}]}));
    let diags = c.diagnostics(&main);
    assert!(diags.iter().any(|d| d["code"] == "E0101"), "{diags:?}");
    assert_eq!(c.shutdown(), Some(0));
}

/// Applies LSP text edits (UTF-16 positions) to `text`, last first.
fn apply(text: &str, edits: &[Value]) -> String {
    let offset = |p: &Value| -> usize {
        let line = p["line"].as_u64().unwrap_or(0) as usize;
        let col = p["character"].as_u64().unwrap_or(0) as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        let mut units = 0;
        for (i, c) in text[start..].char_indices() {
            if units >= col || c == '\n' {
                return start + i;
            }
            units += c.len_utf16();
        }
        text.len()
    };
    let mut edits: Vec<(usize, usize, String)> = edits
        .iter()
        .map(|e| {
            (offset(&e["range"]["start"]), offset(&e["range"]["end"]), e["newText"].as_str().unwrap_or("").to_string())
        })
        .collect();
    edits.sort_by_key(|e| std::cmp::Reverse(e.0));
    let mut out = text.to_string();
    for (a, b, t) in edits {
        out.replace_range(a..b, &t);
    }
    out
}

#[test]
fn formatting_gives_the_canonical_layout_and_leaves_broken_files_alone() {
    let messy = "universe   tech=[AAPL,MSFT]\n\n\n\nlimits cautious {\n max_position $10_000\n      max_allocation 5%\n}\nworkflow W { limits cautious\n on bar(AAPL, 1d)\n  if price(AAPL)>$5 { buy AAPL size 1 } // é 𝄞\n}\n";
    let want = strat_lang::format::format(strat_lang::FileId(0), messy).expect("the messy file formats");
    assert_ne!(want, messy);
    let dir = project("format", &[]);
    let mut c = Client::start(EXE, &dir);
    c.initialize(&dir, &["utf-16"]);
    let file = uri(&dir, "f.strat");
    c.open(&file, messy);
    let params = json!({"textDocument": {"uri": file}, "options": {"tabSize": 2, "insertSpaces": true}});
    let edits = c.request("textDocument/formatting", params.clone());
    let edits = edits.as_array().cloned().unwrap_or_default();
    assert_eq!(edits.len(), 1);
    let formatted = apply(messy, &edits);
    assert_eq!(formatted, want);
    // Formatting the result again changes nothing.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": file, "version": 2}, "contentChanges": [{"text": formatted}]}),
    );
    assert_eq!(c.request("textDocument/formatting", params.clone()), json!([]));
    // A file with a syntax error is not formatted.
    c.notify(
        "textDocument/didChange",
        json!({"textDocument": {"uri": file, "version": 3}, "contentChanges": [{"text": "universe u = [AAPL,\n"}]}),
    );
    assert_eq!(c.request("textDocument/formatting", params), Value::Null);
    assert_eq!(c.shutdown(), Some(0));
}
