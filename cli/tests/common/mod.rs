//! Running the real `strat` binary from the workspace root.
#![allow(dead_code)] // each test file uses a different part

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
