//! How the hosts (the CLI, the language server) read a `.strat` file from disk: regular files
//! only, at most [`MAX_SOURCE_BYTES`]. The front end itself does no I/O; it is handed bytes by a
//! loader, and every loader reads through here, so a device (`/dev/zero`), a FIFO or a folder
//! is refused before it is opened and no file is read past the limit.

use std::fmt;
use std::io::Read;
use std::path::Path;

/// The largest `.strat` file read: 64 MiB.
pub const MAX_SOURCE_BYTES: u64 = 64 << 20;

#[derive(Debug)]
pub enum LoadError {
    /// The path names something other than a regular file.
    NotAFile(&'static str),
    TooLarge,
    Io(std::io::Error),
}

impl fmt::Display for LoadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            LoadError::NotAFile(what) => write!(f, "it is {what}, not a regular file"),
            LoadError::TooLarge => {
                write!(f, "it is larger than {} MiB, the most a strat file may hold", MAX_SOURCE_BYTES >> 20)
            }
            LoadError::Io(e) => write!(f, "{e}"),
        }
    }
}

impl std::error::Error for LoadError {}

/// The bytes of the regular file at `path` (links followed), refused when it is anything else
/// or holds more than [`MAX_SOURCE_BYTES`].
pub fn read_source(path: &Path) -> Result<Vec<u8>, LoadError> {
    let meta = std::fs::metadata(path).map_err(LoadError::Io)?;
    if !meta.is_file() {
        return Err(LoadError::NotAFile(kind_of(&meta)));
    }
    if meta.len() > MAX_SOURCE_BYTES {
        return Err(LoadError::TooLarge);
    }
    let file = std::fs::File::open(path).map_err(LoadError::Io)?;
    let mut bytes = Vec::with_capacity(meta.len() as usize);
    // The file may grow between the two looks: never read past the limit.
    file.take(MAX_SOURCE_BYTES + 1).read_to_end(&mut bytes).map_err(LoadError::Io)?;
    if bytes.len() as u64 > MAX_SOURCE_BYTES {
        return Err(LoadError::TooLarge);
    }
    Ok(bytes)
}

fn kind_of(meta: &std::fs::Metadata) -> &'static str {
    if meta.is_dir() {
        return "a folder";
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::FileTypeExt;
        let t = meta.file_type();
        if t.is_char_device() {
            return "a character device";
        }
        if t.is_block_device() {
            return "a block device";
        }
        if t.is_fifo() {
            return "a named pipe";
        }
        if t.is_socket() {
            return "a socket";
        }
    }
    "a special file"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_folders_are_refused_before_they_are_read() {
        let dev = read_source(Path::new("/dev/zero")).err().map(|e| e.to_string());
        assert_eq!(dev.as_deref(), Some("it is a character device, not a regular file"));
        let dir = read_source(&std::env::temp_dir()).err().map(|e| e.to_string());
        assert_eq!(dir.as_deref(), Some("it is a folder, not a regular file"));
    }
}
