//! Parse + check throughput on a generated 50,000-line project.
//!
//! Run with `cargo bench -p strat-lang --bench check`. Prints lines per second on one core
//! (the front end is single-threaded), best of several runs.
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock

use std::time::{Duration, Instant};

// The same allocator as the `strat` binary, so the figures are what users get.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;
use strat_lang::Workspace;

mod generated;
use generated::module;

fn main() {
    let files: Vec<String> = (0..50).map(module).collect();
    let lines: usize = files.iter().map(|f| f.lines().count()).sum();
    let bytes: usize = files.iter().map(String::len).sum();
    let mut best = Duration::MAX;
    let mut diagnostics = 0;
    for _ in 0..7 {
        let start = Instant::now();
        let mut ws = Workspace::new();
        let roots: Vec<_> = files
            .iter()
            .enumerate()
            .map(|(i, f)| ws.set_file(&format!("m{i}.strat"), f.clone().into_bytes()))
            .collect();
        let checked = ws.check(&roots);
        let elapsed = start.elapsed();
        diagnostics = checked.diagnostics.len();
        assert!(checked.diagnostics.is_empty(), "generated project must be clean: {:?}", checked.diagnostics.first());
        best = best.min(elapsed);
    }
    let secs = best.as_secs_f64();
    let mut parse_best = Duration::MAX;
    for _ in 0..7 {
        let start = Instant::now();
        for (i, f) in files.iter().enumerate() {
            let (tree, _) = strat_lang::syntax::parse(strat_lang::FileId(i as u32), f);
            std::hint::black_box(tree);
        }
        parse_best = parse_best.min(start.elapsed());
    }
    println!("parse+check: {lines} lines, {bytes} bytes in 50 files, {diagnostics} diagnostics");
    println!(
        "  best of 7: {:.1} ms = {:.0} lines/s ({:.1} MB/s)",
        secs * 1e3,
        lines as f64 / secs,
        bytes as f64 / secs / 1e6
    );
    println!(
        "  of which lexing + parsing: {:.1} ms = {:.0} lines/s",
        parse_best.as_secs_f64() * 1e3,
        lines as f64 / parse_best.as_secs_f64()
    );
    let mut ws = Workspace::new();
    let roots: Vec<_> =
        files.iter().enumerate().map(|(i, f)| ws.set_file(&format!("m{i}.strat"), f.clone().into_bytes())).collect();
    ws.check(&roots);
    let mut check_best = Duration::MAX;
    for _ in 0..7 {
        let start = Instant::now();
        std::hint::black_box(ws.check(&roots));
        check_best = check_best.min(start.elapsed());
    }
    println!("  of which checking (parses memoised): {:.1} ms", check_best.as_secs_f64() * 1e3);
    let start = Instant::now();
    let program = ws.compile(&roots).program;
    assert!(program.is_some());
    println!("  parse+check+lower to the hashed IR: {:.1} ms", start.elapsed().as_secs_f64() * 1e3);
    // Re-check after editing one file: the other 49 parses are reused.
    let mut ws = Workspace::new();
    let roots: Vec<_> =
        files.iter().enumerate().map(|(i, f)| ws.set_file(&format!("m{i}.strat"), f.clone().into_bytes())).collect();
    ws.check(&roots);
    let start = Instant::now();
    ws.set_file("m0.strat", format!("{}\n// edited\n", files[0]).into_bytes());
    ws.check(&roots);
    println!("  re-check after editing one file: {:.1} ms", start.elapsed().as_secs_f64() * 1e3);
}
