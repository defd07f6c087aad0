//! The incremental front end. Salsa lives only in this module.
//!
//! A [`Workspace`] owns the database: callers add file contents, let it discover imports through
//! a loader they provide (the front end does no I/O itself), and ask for the checked project.
//! Parsing is memoised per file, so editing one file re-parses only that file.

use crate::check::{self, Facts, Scope, Unit};
use crate::diagnostic::{Code, Diagnostic};
use crate::ir;
use crate::span::FileId;
use crate::syntax::ast::{self, Item};
use std::collections::BTreeMap;
use std::sync::Arc;

#[salsa::input]
struct SourceFile {
    id: FileId,
    #[returns(ref)]
    bytes: Vec<u8>,
}

/// A file's text after decoding, its tree, and its lexical and syntax diagnostics.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Parsed {
    pub text: String,
    pub ast: Arc<ast::File>,
    pub diagnostics: Vec<Diagnostic>,
}

#[salsa::tracked(returns(ref))]
fn parsed(db: &dyn salsa::Database, file: SourceFile) -> Parsed {
    let id = *file.id(db);
    let (text, mut diagnostics) = crate::source::decode(id, file.bytes(db));
    let (tree, syntax) = crate::syntax::parse(id, &text);
    diagnostics.extend(syntax);
    Parsed { text, ast: Arc::new(tree), diagnostics }
}

#[salsa::db]
#[derive(Clone, Default)]
struct Db {
    storage: salsa::Storage<Self>,
}

#[salsa::db]
impl salsa::Database for Db {}

/// Result of checking a project.
#[derive(Debug, Clone)]
pub struct Checked {
    /// Every diagnostic, ordered by file and position.
    pub diagnostics: Vec<Diagnostic>,
    /// The lowered program, from [`Workspace::compile`] when there are no errors.
    pub program: Option<ir::Program>,
    /// The declarations each file sees.
    pub scopes: BTreeMap<FileId, Scope>,
    /// Types and references by position; filled only by [`Workspace::analyze`].
    pub facts: Facts,
}

impl Checked {
    pub fn has_errors(&self) -> bool {
        self.diagnostics.iter().any(Diagnostic::is_error)
    }
}

/// Reads the bytes of a file by path; returns a message when it cannot.
pub type Loader<'a> = dyn FnMut(&str) -> Result<Vec<u8>, String> + 'a;

#[derive(Default)]
pub struct Workspace {
    db: Db,
    files: Vec<SourceFile>,
    paths: Vec<String>,
    by_path: BTreeMap<String, FileId>,
    /// Import targets per file: `(item index, resolved file)`.
    imports: BTreeMap<FileId, Vec<(usize, Option<FileId>)>>,
    load_errors: BTreeMap<FileId, Vec<Diagnostic>>,
}

impl Workspace {
    pub fn new() -> Workspace {
        Workspace::default()
    }

    /// Adds a file, or replaces the contents of a file already added under this path.
    pub fn set_file(&mut self, path: &str, bytes: Vec<u8>) -> FileId {
        use salsa::Setter;
        let path = normalize(path);
        if let Some(&id) = self.by_path.get(&path) {
            let f = self.files[id.0 as usize];
            f.set_bytes(&mut self.db).to(bytes);
            self.imports.remove(&id);
            return id;
        }
        let id = FileId(self.files.len() as u32);
        self.files.push(SourceFile::new(&self.db, id, bytes));
        self.paths.push(path.clone());
        self.by_path.insert(path, id);
        id
    }

    pub fn file(&self, path: &str) -> Option<FileId> {
        self.by_path.get(&normalize(path)).copied()
    }

    pub fn path(&self, id: FileId) -> &str {
        self.paths.get(id.0 as usize).map_or("", String::as_str)
    }

    pub fn files(&self) -> impl Iterator<Item = FileId> + '_ {
        (0..self.files.len()).map(|i| FileId(i as u32))
    }

    pub fn parsed(&self, id: FileId) -> &Parsed {
        parsed(&self.db, self.files[id.0 as usize])
    }

    pub fn text(&self, id: FileId) -> &str {
        &self.parsed(id).text
    }

    /// Follows the imports of `roots`, loading each new file once. Reports files that cannot
    /// be loaded at the import that names them.
    pub fn load_imports(&mut self, roots: &[FileId], loader: &mut Loader<'_>) {
        let mut queue: Vec<FileId> = roots.to_vec();
        while let Some(f) = queue.pop() {
            if self.imports.contains_key(&f) {
                continue;
            }
            let ast = self.parsed(f).ast.clone();
            let from = self.path(f).to_string();
            let mut targets = Vec::new();
            let mut errors = Vec::new();
            for (i, item) in ast.items.iter().enumerate() {
                let Item::Import(imp) = item else { continue };
                let target = resolve_path(&from, &imp.path.value);
                if !target.ends_with(".strat") {
                    // Never read, so never quoted: a diagnostic shows only strat source.
                    errors.push(
                        Diagnostic::new(
                            Code::ImportNotStrat,
                            f,
                            imp.path.span,
                            format!("cannot import \"{}\": only `.strat` files are imported", imp.path.value),
                        )
                        .label("not a `.strat` path")
                        .help("name a strategy file, e.g. `import \"lib.strat\"`"),
                    );
                    targets.push((i, None));
                    continue;
                }
                let id = match self.file(&target) {
                    Some(id) => Some(id),
                    None => match loader(&target) {
                        Ok(bytes) => Some(self.set_file(&target, bytes)),
                        Err(why) => {
                            errors.push(
                                Diagnostic::new(
                                    Code::ImportNotFound,
                                    f,
                                    imp.path.span,
                                    format!("cannot read \"{}\": {why}", imp.path.value),
                                )
                                .label("imported here")
                                .help(format!("paths are relative to this file; it resolved to `{target}`")),
                            );
                            None
                        }
                    },
                };
                if let Some(id) = id {
                    queue.push(id);
                }
                targets.push((i, id));
            }
            self.imports.insert(f, targets);
            self.load_errors.insert(f, errors);
        }
    }

    /// Every file reachable from `roots` through imports (roots first, in order).
    pub fn closure(&self, roots: &[FileId]) -> Vec<FileId> {
        let mut out: Vec<FileId> = Vec::new();
        let mut stack: Vec<FileId> = roots.iter().rev().copied().collect();
        while let Some(f) = stack.pop() {
            if out.contains(&f) {
                continue;
            }
            out.push(f);
            if let Some(ts) = self.imports.get(&f) {
                stack.extend(ts.iter().rev().filter_map(|(_, t)| *t));
            }
        }
        out
    }

    /// Checks `roots` and everything they import, as one project. `program` is `None`; use
    /// [`Workspace::compile`] for the IR.
    pub fn check(&self, roots: &[FileId]) -> Checked {
        self.run(roots, false, false)
    }

    /// Checks like [`Workspace::check`] and records the types of expressions and what each
    /// name refers to ([`Checked::facts`]), for editors.
    pub fn analyze(&self, roots: &[FileId]) -> Checked {
        self.run(roots, false, true)
    }

    /// Checks like [`Workspace::check`] and, when there are no errors, lowers to the DAG IR.
    pub fn compile(&self, roots: &[FileId]) -> Checked {
        self.run(roots, true, false)
    }

    fn run(&self, roots: &[FileId], lower: bool, record: bool) -> Checked {
        let files = self.closure(roots);
        let units: Vec<Unit> = files
            .iter()
            .map(|&f| Unit {
                id: f,
                path: self.path(f).to_string(),
                ast: self.parsed(f).ast.clone(),
                imports: self.imports.get(&f).cloned().unwrap_or_default(),
                syntax_errors: self.parsed(f).diagnostics.iter().filter(|d| d.is_error()).map(|d| d.span).collect(),
            })
            .collect();
        let mut diagnostics: Vec<Diagnostic> = Vec::new();
        for &f in &files {
            diagnostics.extend(self.parsed(f).diagnostics.iter().cloned());
            diagnostics.extend(self.load_errors.get(&f).into_iter().flatten().cloned());
        }
        let syntax_ok = !diagnostics.iter().any(Diagnostic::is_error);
        let result = if record { check::check_recording(&units) } else { check::check(&units) };
        diagnostics.extend(result.diagnostics);
        diagnostics.sort_by(|a, b| {
            (a.file, a.span.start, a.span.end, a.code).cmp(&(b.file, b.span.start, b.span.end, b.code))
        });
        diagnostics.dedup();
        let clean = syntax_ok && !diagnostics.iter().any(Diagnostic::is_error);
        let program = (clean && lower).then(|| crate::lower::lower(&units, &result.scopes, &result.money_sizes));
        // Lowering keeps the graph invariants by construction; verify them anyway, since the
        // runtime trusts them.
        if let (Some(p), Some(&first)) = (&program, files.first()) {
            for bad in p.graphs.iter().flat_map(ir::validate) {
                diagnostics.push(
                    Diagnostic::new(
                        Code::GraphCycle,
                        first,
                        crate::span::Span::default(),
                        format!("`{}` lowers to an invalid graph: {}", bad.graph, bad.message),
                    )
                    .label("while lowering this project")
                    .help("this is a bug in strat; please report it with the file"),
                );
            }
        }
        let program = program.filter(|_| !diagnostics.iter().any(Diagnostic::is_error));
        Checked { diagnostics, program, scopes: result.scopes, facts: result.facts }
    }
}

/// Joins an import path to the importing file's folder, resolving `.` and `..` lexically.
pub fn resolve_path(from: &str, import: &str) -> String {
    if import.starts_with('/') {
        return normalize(import);
    }
    let dir = match from.rfind('/') {
        Some(i) => &from[..i],
        None => "",
    };
    if dir.is_empty() { normalize(import) } else { normalize(&format!("{dir}/{import}")) }
}

/// Removes `.` segments and folds `..` where possible; keeps a leading `/`.
pub fn normalize(path: &str) -> String {
    let path = path.replace('\\', "/");
    let absolute = path.starts_with('/');
    let mut parts: Vec<&str> = Vec::new();
    for seg in path.split('/') {
        match seg {
            "" | "." => {}
            ".." if parts.last().is_some_and(|p| *p != "..") => {
                parts.pop();
            }
            ".." if absolute => {}
            s => parts.push(s),
        }
    }
    let joined = parts.join("/");
    if absolute { format!("/{joined}") } else { joined }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_resolve_relative_to_the_importer() {
        assert_eq!(resolve_path("a/b/main.strat", "../lib/x.strat"), "a/lib/x.strat");
        assert_eq!(resolve_path("main.strat", "./x.strat"), "x.strat");
        assert_eq!(resolve_path("/p/main.strat", "x.strat"), "/p/x.strat");
        assert_eq!(normalize("../a/./b"), "../a/b");
    }

    #[test]
    fn edits_reparse_only_the_changed_file() {
        let mut ws = Workspace::new();
        let a = ws.set_file("a.strat", b"universe u = [AAPL]".to_vec());
        let b = ws.set_file("b.strat", b"universe v = [MSFT]".to_vec());
        let before_b = Arc::as_ptr(&ws.parsed(b).ast);
        ws.set_file("a.strat", b"universe u = [AAPL, MSFT]".to_vec());
        assert_eq!(ws.file("a.strat"), Some(a));
        assert_eq!(Arc::as_ptr(&ws.parsed(b).ast), before_b, "b was not re-parsed");
        assert!(ws.text(a).contains("MSFT"));
    }

    #[test]
    fn missing_import_is_reported_at_the_import() {
        let mut ws = Workspace::new();
        let a = ws.set_file("dir/a.strat", b"import \"nope.strat\"\n".to_vec());
        ws.load_imports(&[a], &mut |_| Err("no such file".into()));
        let c = ws.check(&[a]);
        assert_eq!(c.diagnostics.len(), 1);
        assert_eq!(c.diagnostics[0].code, Code::ImportNotFound);
        assert!(c.diagnostics[0].help.as_deref().unwrap_or("").contains("dir/nope.strat"));
    }
}
