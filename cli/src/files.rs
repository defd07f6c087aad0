//! Finding .strat files on disk.

use std::path::{Path, PathBuf};
use strat_lang::load::read_source;

/// Expands files and folders (recursively, skipping hidden folders and `target`) into a sorted
/// list of .strat files. A path that does not exist is an error.
pub fn collect(paths: &[PathBuf]) -> Result<Vec<PathBuf>, String> {
    let mut out = Vec::new();
    for p in paths {
        let meta = std::fs::metadata(p).map_err(|e| format!("cannot read `{}`: {e}", p.display()))?;
        if meta.is_dir() {
            walk(p, &mut out).map_err(|e| format!("cannot read folder `{}`: {e}", p.display()))?;
        } else {
            out.push(p.clone());
        }
    }
    out.sort();
    out.dedup();
    Ok(out)
}

fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    let mut entries: Vec<_> = std::fs::read_dir(dir)?.collect::<Result<_, _>>()?;
    entries.sort_by_key(|e| e.file_name());
    for e in entries {
        let path = e.path();
        let name = e.file_name();
        let name = name.to_string_lossy();
        if e.file_type()?.is_dir() {
            if !name.starts_with('.') && name != "target" {
                walk(&path, out)?;
            }
        } else if name.ends_with(".strat") {
            out.push(path);
        }
    }
    Ok(())
}

/// A path as text with forward slashes, for the workspace and for output.
pub fn display(p: &Path) -> String {
    let s = p.to_string_lossy().replace('\\', "/");
    s.strip_prefix("./").map(str::to_string).unwrap_or(s)
}

/// Makes `dir` and the folders above it that are missing, each readable by its owner only
/// (0700): what strat keeps there (runs, reports, history) holds prompts, portfolios and
/// replies. A folder that exists is left as it is.
pub fn private_dir(dir: &Path) -> std::io::Result<()> {
    let mut b = std::fs::DirBuilder::new();
    b.recursive(true);
    #[cfg(unix)]
    std::os::unix::fs::DirBuilderExt::mode(&mut b, 0o700);
    b.create(dir)
}

/// Where strat keeps its store, runs, cache and settings: `$STRAT_HOME`, else `.strat/`.
pub fn home() -> std::path::PathBuf {
    std::env::var_os("STRAT_HOME").map_or_else(|| std::path::PathBuf::from(".strat"), std::path::PathBuf::from)
}

/// Replaces the file at `path` (or, for a symbolic link, the file it points to) with `bytes`
/// through a temporary file in the same folder and a rename, so that a crash never leaves half
/// a file. An existing file keeps its permissions; a new one is readable by its owner only
/// (0600).
pub fn write_atomically(path: &Path, bytes: &[u8]) -> std::io::Result<()> {
    write_atomically_with(path, |f| std::io::Write::write_all(f, bytes))
}

/// [`write_atomically`], the content written by `write` as it goes (through a buffer), so
/// nothing needs to hold all of it.
pub fn write_atomically_with(
    path: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<&std::fs::File>) -> std::io::Result<()>,
) -> std::io::Result<()> {
    use std::io::Write;
    let target = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let dir = target.parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let name = target.file_name().map_or("file".into(), |n| n.to_string_lossy());
    let tmp = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let written = (|| {
        let mut options = std::fs::OpenOptions::new();
        options.write(true).create(true).truncate(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        let f = options.open(&tmp)?;
        let mut buffered = std::io::BufWriter::new(&f);
        write(&mut buffered)?;
        buffered.flush()?;
        drop(buffered);
        f.sync_all()?;
        if let Ok(meta) = std::fs::metadata(&target) {
            std::fs::set_permissions(&tmp, meta.permissions())?;
        }
        std::fs::rename(&tmp, &target)
    })();
    if written.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    written
}

/// Several paths as one text, as a run records the files it runs.
pub fn display_all(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| display(p)).collect::<Vec<_>>().join(" ")
}

/// Reads, checks and compiles a strategy file with its imports, printing any diagnostics to
/// standard error. On failure returns the exit code to end with.
pub fn compile(path: &Path, color: crate::ColorChoice) -> Result<strat_lang::ir::Program, u8> {
    compile_all(&[path.to_path_buf()], color)
}

/// [`compile`] of several files (and folders, searched for `*.strat`) as one program.
pub fn compile_all(paths: &[PathBuf], color: crate::ColorChoice) -> Result<strat_lang::ir::Program, u8> {
    let found = collect(paths).map_err(|e| {
        eprintln!("error: {e}");
        crate::exit::USAGE
    })?;
    let mut ws = strat_lang::Workspace::new();
    let mut roots = Vec::new();
    for path in &found {
        let bytes = read_source(path).map_err(|e| {
            eprintln!("error: cannot read `{}`: {e}", path.display());
            crate::exit::USAGE
        })?;
        roots.push(ws.set_file(&display(path), bytes));
    }
    ws.load_imports(&roots, &mut |p: &str| read_source(Path::new(p)).map_err(|e| e.to_string()));
    let checked = ws.compile(&roots);
    if !checked.diagnostics.is_empty() {
        crate::render::to_stderr(&ws, &checked.diagnostics, color);
    }
    checked.program.ok_or(crate::exit::FOUND)
}
