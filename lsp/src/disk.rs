//! The language server's only access to the disk: reading a file and listing a folder. The
//! front end does no I/O; the server does it on its behalf, here and nowhere else.
#![allow(clippy::disallowed_methods)]

use std::path::{Path, PathBuf};

/// Reads a file for the workspace (imports not open in the editor, files of the workspace
/// folders).
/// Regular files only, at most the front end's size limit (`strat_lang::load`).
pub(crate) fn read_file(path: &str) -> Result<Vec<u8>, strat_lang::load::LoadError> {
    strat_lang::load::read_source(Path::new(path))
}

/// What a folder holds, sorted by path: each entry with whether it is a folder. A symbolic link
/// to a folder is left out (one pointing at a folder above it would make a walk go round for
/// ever); a link to a file is kept as a file.
pub(crate) fn entries(dir: &Path) -> Vec<(PathBuf, bool)> {
    let Ok(read) = std::fs::read_dir(dir) else { return Vec::new() };
    let mut out: Vec<(PathBuf, bool)> = read
        .filter_map(|e| e.ok())
        .filter_map(|e| {
            let kind = e.file_type().ok()?;
            if kind.is_symlink() {
                let target = std::fs::metadata(e.path()).ok()?;
                return target.is_file().then(|| (e.path(), false));
            }
            Some((e.path(), kind.is_dir()))
        })
        .collect();
    out.sort();
    out
}
