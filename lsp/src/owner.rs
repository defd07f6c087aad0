//! The one owner of the salsa workspace: a thread that applies document changes in the order
//! they arrived and publishes an immutable [`Analysis`] after each batch.
//!
//! Handlers send messages without awaiting anything first, so the channel holds them in the
//! order the client sent them. A request asks for the analysis through the same channel, so it
//! sees every change sent before it. The analysis holds no handle on the database: requests
//! read it on their own while the owner goes on with later edits.

use crate::convert::{Encoding, Lines, path_to_uri};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::sync::mpsc;
use strat_lang::ide::Snapshot;
use strat_lang::{FileId, Workspace};
use tower_lsp_server::ls_types::{Position, Range, TextDocumentContentChangeEvent, Uri};

/// What the owner is told, in order.
pub enum Msg {
    /// Files found in the workspace folders, checked with the open documents.
    Init {
        encoding: Encoding,
        files: Vec<(String, Vec<u8>)>,
    },
    Open {
        uri: Uri,
        path: String,
        text: String,
        version: i32,
    },
    Change {
        uri: Uri,
        version: i32,
        changes: Vec<TextDocumentContentChangeEvent>,
    },
    Close {
        uri: Uri,
    },
    /// Files changed on disk: their new bytes, or `None` when deleted.
    Disk {
        files: Vec<(String, Option<Vec<u8>>)>,
    },
    /// A request wants the analysis as of now.
    Analysis(tokio::sync::oneshot::Sender<Arc<Analysis>>),
    Stop,
}

/// A document open in the editor.
struct Doc {
    id: FileId,
    text: String,
    lines: Lines,
    version: i32,
}

/// Everything a request needs, as of one point in the sequence of changes.
pub struct Analysis {
    pub snapshot: Snapshot,
    pub encoding: Encoding,
    uris: BTreeMap<FileId, Uri>,
    ids: BTreeMap<String, FileId>,
    lines: BTreeMap<FileId, Lines>,
}

impl Analysis {
    pub fn file(&self, uri: &Uri) -> Option<FileId> {
        self.ids.get(uri.as_str()).copied()
    }

    pub fn uri(&self, id: FileId) -> Option<&Uri> {
        self.uris.get(&id)
    }

    pub fn text(&self, id: FileId) -> &str {
        self.snapshot.text(id)
    }

    pub fn lines(&self, id: FileId) -> Option<&Lines> {
        self.lines.get(&id)
    }

    pub fn offset(&self, id: FileId, pos: Position) -> usize {
        match self.lines(id) {
            Some(l) => l.offset(self.text(id), pos, self.encoding),
            None => 0,
        }
    }

    pub fn range(&self, id: FileId, span: strat_lang::Span) -> Range {
        match self.lines(id) {
            Some(l) => l.range(self.text(id), span, self.encoding),
            None => Range::default(),
        }
    }
}

/// Diagnostics to publish for one document.
pub struct Publish {
    pub uri: Uri,
    pub version: i32,
    pub diagnostics: Vec<strat_lang::Diagnostic>,
    /// The analysis the spans refer to.
    pub analysis: Arc<Analysis>,
}

pub struct Owner {
    ws: Workspace,
    encoding: Encoding,
    docs: BTreeMap<String, Doc>,
    /// Files from the workspace folders, by path.
    disk: BTreeSet<String>,
    current: Option<Arc<Analysis>>,
    dirty: bool,
    /// Documents changed since the last publish.
    changed: BTreeSet<String>,
    publish: tokio::sync::mpsc::UnboundedSender<Publish>,
}

impl Owner {
    pub fn new(publish: tokio::sync::mpsc::UnboundedSender<Publish>) -> Owner {
        Owner {
            ws: Workspace::new(),
            encoding: Encoding::Utf16,
            docs: BTreeMap::new(),
            disk: BTreeSet::new(),
            current: None,
            dirty: true,
            changed: BTreeSet::new(),
            publish,
        }
    }

    /// Runs until `Stop` or until every sender is gone.
    pub fn run(mut self, rx: mpsc::Receiver<Msg>) {
        while let Ok(first) = rx.recv() {
            let mut batch = vec![first];
            batch.extend(rx.try_iter());
            for msg in batch {
                if matches!(msg, Msg::Stop) {
                    return;
                }
                // The front end does not panic on any text; should it ever, the server reports
                // it and goes on with the next message rather than dying with the editor open.
                let handled = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| match msg {
                    Msg::Analysis(reply) => {
                        let a = self.analysis();
                        let _ = reply.send(a);
                    }
                    other => self.apply(other),
                }));
                if handled.is_err() {
                    eprintln!("strat lsp: internal error while handling a message; please report it");
                    self.dirty = true;
                }
            }
            if self.dirty || !self.changed.is_empty() {
                let published = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| self.publish_all()));
                if published.is_err() {
                    eprintln!("strat lsp: internal error while checking; please report it");
                    self.changed.clear();
                }
            }
        }
    }

    fn apply(&mut self, msg: Msg) {
        match msg {
            Msg::Init { encoding, files } => {
                self.encoding = encoding;
                for (path, bytes) in files {
                    if !self.docs.values().any(|d| self.ws.path(d.id) == path) {
                        self.ws.set_file(&path, bytes);
                    }
                    self.disk.insert(path);
                }
            }
            Msg::Open { uri, path, text, version } => {
                let id = self.ws.set_file(&path, text.as_bytes().to_vec());
                let lines = Lines::new(&text);
                self.docs.insert(uri.as_str().to_string(), Doc { id, text, lines, version });
                self.syntax_first(uri.as_str());
                self.changed.insert(uri.as_str().to_string());
            }
            Msg::Change { uri, version, changes } => {
                let Some(doc) = self.docs.get_mut(uri.as_str()) else { return };
                for c in changes {
                    match c.range {
                        Some(r) => {
                            let span = doc.lines.span(&doc.text, r, self.encoding);
                            doc.text.replace_range(span.range(), &c.text);
                        }
                        None => doc.text = c.text,
                    }
                    doc.lines = Lines::new(&doc.text);
                }
                doc.version = version;
                let path = self.ws.path(doc.id).to_string();
                self.ws.set_file(&path, doc.text.as_bytes().to_vec());
                self.syntax_first(uri.as_str());
                self.changed.insert(uri.as_str().to_string());
            }
            Msg::Close { uri } => {
                let Some(doc) = self.docs.remove(uri.as_str()) else { return };
                let path = self.ws.path(doc.id).to_string();
                if self.disk.contains(&path) {
                    // Back to what is saved.
                    if let Ok(bytes) = crate::disk::read_file(&path) {
                        self.ws.set_file(&path, bytes);
                    }
                }
                let analysis = self.syntax_analysis(doc.id);
                let _ = self.publish.send(Publish { uri, version: doc.version, diagnostics: Vec::new(), analysis });
            }
            Msg::Disk { files } => {
                for (path, bytes) in files {
                    if self.docs.values().any(|d| self.ws.path(d.id) == path) {
                        continue; // the editor's text wins
                    }
                    match bytes {
                        Some(b) => {
                            self.ws.set_file(&path, b);
                            self.disk.insert(path);
                        }
                        None => {
                            self.disk.remove(&path);
                        }
                    }
                }
            }
            Msg::Analysis(_) | Msg::Stop => {}
        }
        self.dirty = true;
    }

    /// Publishes the syntax diagnostics of a changed document at once, when it has some.
    fn syntax_first(&mut self, key: &str) {
        let Some(doc) = self.docs.get(key) else { return };
        let diagnostics = self.ws.parsed(doc.id).diagnostics.clone();
        if diagnostics.iter().any(strat_lang::Diagnostic::is_error) {
            let Ok(uri) = key.parse::<Uri>() else { return };
            let version = doc.version;
            let analysis = self.syntax_analysis(doc.id);
            let _ = self.publish.send(Publish { uri, version, diagnostics, analysis });
        }
    }

    /// A small analysis holding only one file's text, for converting its syntax diagnostics.
    fn syntax_analysis(&self, id: FileId) -> Arc<Analysis> {
        let text = self.ws.text(id);
        let mut files = BTreeMap::new();
        files.insert(
            id,
            strat_lang::ide::SnapshotFile {
                path: self.ws.path(id).to_string(),
                text: Arc::from(text),
                ast: self.ws.parsed(id).ast.clone(),
            },
        );
        let checked = strat_lang::Checked {
            diagnostics: Vec::new(),
            program: None,
            scopes: BTreeMap::new(),
            facts: Default::default(),
        };
        let mut lines = BTreeMap::new();
        lines.insert(id, Lines::new(text));
        Arc::new(Analysis {
            snapshot: Snapshot::new(files, checked),
            encoding: self.encoding,
            uris: BTreeMap::new(),
            ids: BTreeMap::new(),
            lines,
        })
    }

    fn analysis(&mut self) -> Arc<Analysis> {
        if let (Some(a), false) = (&self.current, self.dirty) {
            return a.clone();
        }
        let a = Arc::new(self.build());
        self.current = Some(a.clone());
        self.dirty = false;
        a
    }

    fn build(&mut self) -> Analysis {
        let mut roots: Vec<FileId> = self.docs.values().map(|d| d.id).collect();
        roots.extend(self.disk.iter().filter_map(|p| self.ws.file(p)));
        roots.sort();
        roots.dedup();
        self.ws.load_imports(&roots, &mut |path: &str| crate::disk::read_file(path).map_err(|e| e.to_string()));
        let snapshot = strat_lang::ide::Snapshot::of(&self.ws, &roots);
        let mut uris = BTreeMap::new();
        let mut ids = BTreeMap::new();
        let mut lines = BTreeMap::new();
        for (key, d) in &self.docs {
            if let Ok(uri) = key.parse::<Uri>() {
                uris.insert(d.id, uri);
            }
            ids.insert(key.clone(), d.id);
        }
        for (id, f) in snapshot.files() {
            if let std::collections::btree_map::Entry::Vacant(e) = uris.entry(id)
                && let Some(uri) = path_to_uri(&f.path)
            {
                ids.insert(uri.as_str().to_string(), id);
                e.insert(uri);
            }
            lines.insert(id, Lines::new(&f.text));
        }
        Analysis { snapshot, encoding: self.encoding, uris, ids, lines }
    }

    fn publish_all(&mut self) {
        let a = self.analysis();
        let mut by_file: BTreeMap<FileId, Vec<strat_lang::Diagnostic>> = BTreeMap::new();
        for d in &a.snapshot.checked.diagnostics {
            by_file.entry(d.file).or_default().push(d.clone());
        }
        for d in self.docs.values() {
            let Some(uri) = a.uri(d.id).cloned() else { continue };
            let diagnostics = by_file.remove(&d.id).unwrap_or_default();
            let _ = self.publish.send(Publish { uri, version: d.version, diagnostics, analysis: a.clone() });
        }
        self.changed.clear();
    }
}
