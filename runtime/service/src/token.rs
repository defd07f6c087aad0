//! The service's bearer token: 32 random bytes in hex, kept in a file only its owner can read
//! (created on first start, replaced whole by a rotation). The service compares every request's
//! token with the file's in constant time, and notices a rotation by the file's change.

use ring::rand::{SecureRandom, SystemRandom};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::time::SystemTime;

/// Bytes of randomness in a token (64 hex digits).
const TOKEN_BYTES: usize = 32;

/// Why the token could not be read or made.
#[derive(Debug)]
pub enum TokenError {
    Io {
        path: PathBuf,
        error: std::io::Error,
    },
    /// The file is there but holds no token (empty or not one line of hex).
    Malformed {
        path: PathBuf,
    },
    /// Others than its owner may read it: the token is no secret any more.
    Exposed {
        path: PathBuf,
        mode: u32,
    },
    Random,
}

impl std::fmt::Display for TokenError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            TokenError::Io { path, error } => write!(f, "cannot use the token file `{}`: {error}", path.display()),
            TokenError::Malformed { path } => write!(
                f,
                "the token file `{}` holds no token: remove it, or run `strat token --rotate` to write a new one",
                path.display()
            ),
            TokenError::Exposed { path, mode } => write!(
                f,
                "the token file `{}` may be read by others (mode {mode:o}): run `strat token --rotate` (it writes a new one readable by its owner only)",
                path.display()
            ),
            TokenError::Random => write!(f, "the system's random source failed, so no token could be made"),
        }
    }
}

impl std::error::Error for TokenError {}

fn io(path: &Path) -> impl FnOnce(std::io::Error) -> TokenError + '_ {
    move |error| TokenError::Io { path: path.to_path_buf(), error }
}

/// A new token: random bytes from the operating system, in hex.
fn fresh() -> Result<String, TokenError> {
    let mut bytes = [0u8; TOKEN_BYTES];
    SystemRandom::new().fill(&mut bytes).map_err(|_| TokenError::Random)?;
    Ok(bytes.iter().map(|b| format!("{b:02x}")).collect())
}

/// The token in `path`, made (mode 0600) if the file does not exist.
pub fn read_or_create(path: &Path) -> Result<String, TokenError> {
    match read(path) {
        Err(TokenError::Io { error, .. }) if error.kind() == std::io::ErrorKind::NotFound => rotate(path),
        other => other,
    }
}

/// The token in `path`, refused when others than its owner may read the file.
pub fn read(path: &Path) -> Result<String, TokenError> {
    #[cfg(unix)]
    {
        let mode = std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(path).map_err(io(path))?.permissions());
        if mode & 0o077 != 0 {
            return Err(TokenError::Exposed { path: path.to_path_buf(), mode: mode & 0o777 });
        }
    }
    #[allow(clippy::disallowed_methods)] // the service's own file, outside the engine
    let text = std::fs::read_to_string(path).map_err(io(path))?;
    let token = text.trim();
    if token.is_empty() || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(TokenError::Malformed { path: path.to_path_buf() });
    }
    Ok(token.to_string())
}

/// Replaces the token in `path` by a new one, which it returns: written to a private temporary
/// file and renamed over the old, so the file always holds a whole token.
pub fn rotate(path: &Path) -> Result<String, TokenError> {
    let token = fresh()?;
    let tmp = path.with_extension("tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(&tmp).map_err(io(&tmp))?;
    writeln!(file, "{token}").and_then(|()| file.sync_all()).map_err(io(&tmp))?;
    std::fs::rename(&tmp, path).map_err(io(path))?;
    Ok(token)
}

/// Whether two byte strings are equal, in time that depends only on their lengths.
pub fn same(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// When a file last changed, which file it is (a rotation renames a new file over the old, so
/// its inode changes even within one tick of the clock) and who may read it.
type Stamp = (SystemTime, u64, u32);

fn stamp(path: &Path) -> Option<Stamp> {
    let m = std::fs::metadata(path).ok()?;
    #[cfg(unix)]
    let (inode, mode) =
        (std::os::unix::fs::MetadataExt::ino(&m), std::os::unix::fs::PermissionsExt::mode(&m.permissions()));
    #[cfg(not(unix))]
    let (inode, mode) = (m.len(), 0);
    Some((m.modified().ok()?, inode, mode))
}

/// The token requests must carry: the file's, read again when the file changes (a rotation
/// takes effect at the next request; the old token is refused from then on).
pub struct Tokens {
    path: PathBuf,
    held: Mutex<(Option<Stamp>, String)>,
}

impl Tokens {
    /// The token of `path`, made if missing.
    pub fn open(path: &Path) -> Result<Tokens, TokenError> {
        let token = read_or_create(path)?;
        Ok(Tokens { path: path.to_path_buf(), held: Mutex::new((stamp(path), token)) })
    }

    /// Whether `given` is the current token. A token file that cannot be read refuses every
    /// request (it was removed or broken: nothing can be checked against it).
    pub fn accepts(&self, given: &str) -> bool {
        let Ok(mut held) = self.held.lock() else { return false };
        let changed = stamp(&self.path);
        if changed.is_none() {
            return false;
        }
        if changed != held.0 {
            match read(&self.path) {
                Ok(t) => *held = (changed, t),
                Err(_) => return false,
            }
        }
        same(given.as_bytes(), held.1.as_bytes())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn equal_strings_are_the_same_and_any_difference_is_not() {
        assert!(same(b"abcd", b"abcd"));
        assert!(!same(b"abcd", b"abce"));
        assert!(!same(b"abcd", b"abc"));
        assert!(!same(b"", b"a"));
    }

    #[test]
    fn fresh_tokens_are_64_hex_digits_and_differ() {
        let (a, b) = (fresh().expect("random"), fresh().expect("random"));
        assert_eq!(a.len(), 64);
        assert!(a.bytes().all(|c| c.is_ascii_hexdigit()));
        assert_ne!(a, b);
    }
}
