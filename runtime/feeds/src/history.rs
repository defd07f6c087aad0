//! History fetched once: the bars of a request kept in the binary bar cache
//! (`strat_data::cache`) under a folder the caller names, one file a request, so that the same
//! backtest run again makes no request. A file that does not decode (another format version,
//! another request, a torn write) is fetched again; files are written through a temporary file
//! and a rename, readable by their owner only.

use super::polygon::{Client, FeedError, History, Request};
use std::path::{Path, PathBuf};

/// Where the history came from.
#[derive(Debug, Clone, PartialEq)]
pub enum Cached {
    /// Read from the cache: no request was made.
    Hit(Vec<strat_engine::market::Bar>),
    /// Fetched (and now cached).
    Fetched(History),
}

/// The cache file of a request, and the fingerprint its contents carry.
fn file_of(dir: &Path, r: &Request) -> (PathBuf, u64) {
    let name = format!("{}-{}-{}-{}", r.symbol, r.span.name(), r.from, r.to);
    let fingerprint = strat_data::cache::fingerprint(format!("polygon:{name}:adjusted").as_bytes());
    let safe: String = name.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    (dir.join(format!("polygon-{safe}.bars")), fingerprint)
}

/// The bars of `request`: from `dir` when they are there, else fetched by `client` and kept.
/// A failure to write the cache is not an error of the fetch (it comes back as the second
/// value, for the caller to warn of).
#[allow(clippy::disallowed_methods)] // the cache is this adapter's own file, not strat source
pub fn cached(client: &Client, request: &Request, dir: &Path) -> Result<(Cached, Option<String>), FeedError> {
    let (path, fingerprint) = file_of(dir, request);
    if let Ok(bytes) = std::fs::read(&path)
        && let Some(bars) = strat_data::cache::decode(&bytes, fingerprint)
    {
        return Ok((Cached::Hit(bars), None));
    }
    let history = client.aggregates(request)?;
    // Only a complete, clean fetch is kept: refused bars or a delayed feed are fetched again.
    let keep = history.refused.is_empty() && !history.delayed;
    let warning = keep
        .then(|| write(&path, &strat_data::cache::encode(&history.bars, fingerprint)).err())
        .flatten()
        .map(|e| format!("cannot keep the history in `{}`: {e}", path.display()));
    Ok((Cached::Fetched(history), warning))
}

/// Writes `bytes` to `path` through a temporary file and a rename, owner-only.
fn write(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("tmp");
    {
        use std::io::Write;
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let mut f = options.open(&tmp)?;
        f.write_all(bytes)?;
        f.sync_all()?;
    }
    std::fs::rename(&tmp, path)
}
