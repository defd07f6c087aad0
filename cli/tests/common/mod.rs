//! Running the real `strat` binary from the workspace root.
#![allow(dead_code)] // each test file uses a different part

pub mod served;

use assert_cmd::Command;
use std::path::{Path, PathBuf};

pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

pub fn strat() -> Command {
    let mut c = Command::cargo_bin("strat").expect("binary built");
    c.current_dir(root()).env_remove("NO_COLOR");
    // The model providers' settings of whoever runs the tests stay out of them.
    for v in
        ["ANTHROPIC_API_KEY", "ANTHROPIC_BASE_URL", "OPENAI_API_KEY", "OPENAI_BASE_URL", "OLLAMA_HOST", "STRAT_CONFIG"]
    {
        c.env_remove(v);
    }
    c
}

/// Exit code, standard output and standard error.
pub fn run(args: &[&str]) -> (i32, String, String) {
    let out = strat().args(args).output().expect("runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A calm VIX (20) on every trading day of the 2012–2014 price files, as `--data VIX=PATH`
/// (examples with `max_vix` refuse every buy without VIX data).
#[allow(clippy::disallowed_methods)] // writes the file the test reads
pub fn calm_vix() -> String {
    let aapl = std::fs::read_to_string(root().join("../shared/data/prices/AAPL_2012-2014.csv")).expect("data");
    let mut csv = String::from("date,open,high,low,close,volume\n");
    for line in aapl.lines().skip(1) {
        let date = line.split(',').next().unwrap_or_default();
        csv.push_str(&format!("{date},20,20,20,20,0\n"));
    }
    static NEXT: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let path = std::env::temp_dir().join(format!("strat-vix-{}-{n}.csv", std::process::id()));
    std::fs::write(&path, csv).expect("write VIX");
    format!("VIX={}", path.display())
}

/// The orders a venue holds: (the engine's id, side, quantity, status), by engine id.
pub fn held(venue: &strat_fakes::alpaca::FakeAlpaca) -> std::collections::BTreeMap<u64, (String, String, String)> {
    let mut out = std::collections::BTreeMap::new();
    for o in venue.orders() {
        let client = o["client_order_id"].as_str().unwrap_or_default().to_string();
        let id: u64 = client.rsplit('-').next().and_then(|n| n.parse().ok()).expect("a strat client id");
        let row = (o["side"].to_string(), o["qty"].to_string(), o["status"].to_string());
        assert!(out.insert(id, row).is_none(), "order {id} is at the venue twice");
    }
    out
}
