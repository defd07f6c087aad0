//! Formatting throughput: the generated 50,000-line project as one file, and its 50 modules
//! one by one, each time from text to formatted text (the safety check's re-parse included).
//!
//! Run with `cargo bench -p strat-lang --bench format`. Best of several runs, one core.
#![allow(clippy::disallowed_methods)] // a benchmark reads the clock

use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod generated;
use generated::module;
use strat_lang::FileId;

fn best_of(runs: usize, mut f: impl FnMut()) -> Duration {
    let mut best = Duration::MAX;
    for _ in 0..runs {
        let start = Instant::now();
        f();
        best = best.min(start.elapsed());
    }
    best
}

fn main() {
    let files: Vec<String> = (0..50).map(module).collect();
    let whole = files.concat();
    let lines = whole.lines().count();
    let formatted = strat_lang::format::format(FileId(0), &whole).expect("the generated project formats");
    assert_eq!(strat_lang::format::format(FileId(0), &formatted).as_ref(), Ok(&formatted), "idempotent");

    let one = best_of(7, || {
        std::hint::black_box(strat_lang::format::format(FileId(0), &whole).ok());
    });
    let each = best_of(7, || {
        for f in &files {
            std::hint::black_box(strat_lang::format::format(FileId(0), f).ok());
        }
    });
    let parse = best_of(7, || {
        std::hint::black_box(strat_lang::syntax::parse(FileId(0), &whole));
    });
    println!("format: {lines} lines, {} bytes", whole.len());
    println!(
        "  one file, best of 7: {:.1} ms = {:.0} lines/s ({:.1} MB/s)",
        one.as_secs_f64() * 1e3,
        lines as f64 / one.as_secs_f64(),
        whole.len() as f64 / one.as_secs_f64() / 1e6
    );
    println!("  50 files one by one: {:.1} ms", each.as_secs_f64() * 1e3);
    println!("  for comparison, one parse of the file: {:.1} ms", parse.as_secs_f64() * 1e3);
}
