//! The `LanguageServer` implementation: each handler converts positions, asks the owner for
//! the analysis, calls `strat_lang::ide` and converts the answer back.

use crate::convert::{self, Encoding, uri_to_path};
use crate::owner::{Analysis, Msg, Publish};
use std::collections::HashMap;
use std::sync::{Arc, mpsc};
use strat_lang::FileId;
use strat_lang::ide;
use tower_lsp_server::jsonrpc::{Error, Result};
use tower_lsp_server::ls_types::*;
use tower_lsp_server::{Client, LanguageServer};

pub struct Backend {
    owner: mpsc::Sender<Msg>,
    snippets: std::sync::atomic::AtomicBool,
}

impl Backend {
    pub fn new(owner: mpsc::Sender<Msg>) -> Backend {
        Backend { owner, snippets: std::sync::atomic::AtomicBool::new(true) }
    }

    /// Sends to the owner at once (no await), so messages keep the client's order.
    fn send(&self, msg: Msg) {
        let _ = self.owner.send(msg);
    }

    /// The analysis after every change received so far. The message is sent before anything is
    /// awaited.
    fn analysis(&self) -> impl Future<Output = Result<Arc<Analysis>>> + use<> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        self.send(Msg::Analysis(tx));
        async move { rx.await.map_err(|_| Error::internal_error()) }
    }

    /// Runs `f` on the analysis, turning a panic into an error reply rather than a crash.
    async fn with<T>(&self, uri: &Uri, f: impl FnOnce(&Analysis, FileId) -> Option<T>) -> Result<Option<T>> {
        let a = self.analysis().await?;
        let Some(id) = a.file(uri) else { return Ok(None) };
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&a, id))).map_err(|_| Error::internal_error())
    }
}

/// Forwards the owner's diagnostics to the client, in order.
pub async fn publish_loop(client: Client, mut rx: tokio::sync::mpsc::UnboundedReceiver<Publish>) {
    while let Some(p) = rx.recv().await {
        let Some(id) = p.analysis.file(&p.uri).or_else(|| p.diagnostics.first().map(|d| d.file)) else {
            client.publish_diagnostics(p.uri, Vec::new(), Some(p.version)).await;
            continue;
        };
        let diags = lsp_diagnostics(&p.analysis, id, &p.diagnostics);
        client.publish_diagnostics(p.uri, diags, Some(p.version)).await;
    }
}

fn lsp_diagnostics(a: &Analysis, id: FileId, ds: &[strat_lang::Diagnostic]) -> Vec<Diagnostic> {
    let Some(lines) = a.lines(id) else { return Vec::new() };
    let text = a.text(id);
    let related =
        |f: FileId, span: strat_lang::Span| Some(Location { uri: a.uri(f)?.clone(), range: a.range(f, span) });
    ds.iter().map(|d| convert::diagnostic(d, lines, text, a.encoding, &related)).collect()
}

fn location(a: &Analysis, l: ide::Located) -> Option<Location> {
    Some(Location { uri: a.uri(l.file)?.clone(), range: a.range(l.file, l.span) })
}

fn markdown(value: String) -> MarkupContent {
    MarkupContent { kind: MarkupKind::Markdown, value }
}

const TOKEN_TYPES: &[(ide::TokenKind, SemanticTokenType)] = &[
    (ide::TokenKind::Keyword, SemanticTokenType::KEYWORD),
    (ide::TokenKind::Function, SemanticTokenType::FUNCTION),
    (ide::TokenKind::Variable, SemanticTokenType::VARIABLE),
    (ide::TokenKind::Property, SemanticTokenType::PROPERTY),
    (ide::TokenKind::String, SemanticTokenType::STRING),
    (ide::TokenKind::Number, SemanticTokenType::NUMBER),
    (ide::TokenKind::Comment, SemanticTokenType::COMMENT),
    (ide::TokenKind::Operator, SemanticTokenType::OPERATOR),
    (ide::TokenKind::EnumMember, SemanticTokenType::ENUM_MEMBER),
    (ide::TokenKind::Universe, SemanticTokenType::ENUM),
    (ide::TokenKind::Limits, SemanticTokenType::STRUCT),
    (ide::TokenKind::Model, SemanticTokenType::INTERFACE),
    (ide::TokenKind::Agent, SemanticTokenType::CLASS),
    (ide::TokenKind::Trigger, SemanticTokenType::EVENT),
    (ide::TokenKind::Workflow, SemanticTokenType::METHOD),
    (ide::TokenKind::Team, SemanticTokenType::NAMESPACE),
];

fn symbol_kind(k: ide::SymbolKind) -> SymbolKind {
    match k {
        ide::SymbolKind::Universe => SymbolKind::ENUM,
        ide::SymbolKind::Limits => SymbolKind::STRUCT,
        ide::SymbolKind::Setting => SymbolKind::FIELD,
        ide::SymbolKind::Model => SymbolKind::INTERFACE,
        ide::SymbolKind::Agent => SymbolKind::CLASS,
        ide::SymbolKind::Trigger => SymbolKind::EVENT,
        ide::SymbolKind::Workflow => SymbolKind::FUNCTION,
        ide::SymbolKind::Team => SymbolKind::NAMESPACE,
        ide::SymbolKind::Import => SymbolKind::MODULE,
    }
}

fn completion_kind(k: ide::CompletionKind) -> CompletionItemKind {
    use strat_lang::check::DeclKind as D;
    match k {
        ide::CompletionKind::Keyword => CompletionItemKind::KEYWORD,
        ide::CompletionKind::Function => CompletionItemKind::FUNCTION,
        ide::CompletionKind::Variable => CompletionItemKind::VARIABLE,
        ide::CompletionKind::Field => CompletionItemKind::FIELD,
        ide::CompletionKind::Ticker => CompletionItemKind::CONSTANT,
        ide::CompletionKind::Snippet => CompletionItemKind::SNIPPET,
        ide::CompletionKind::Value => CompletionItemKind::ENUM_MEMBER,
        ide::CompletionKind::Declaration(d) => match d {
            D::Universe => CompletionItemKind::ENUM,
            D::Limits => CompletionItemKind::STRUCT,
            D::Model => CompletionItemKind::INTERFACE,
            D::Agent => CompletionItemKind::CLASS,
            D::Trigger => CompletionItemKind::EVENT,
            D::Workflow => CompletionItemKind::FUNCTION,
            D::Team => CompletionItemKind::MODULE,
        },
    }
}

/// Paths of the `.strat` files under `dir`, skipping hidden folders, build output and
/// symbolic links; at most `limit` of them, at most `depth` folders down.
fn find_strat_files(dir: &std::path::Path, limit: usize, depth: u32, out: &mut Vec<String>) {
    for (p, is_dir) in crate::disk::entries(dir) {
        if out.len() >= limit {
            return;
        }
        let name = p.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        if is_dir {
            if depth > 0 && !name.starts_with('.') && name != "target" && name != "node_modules" {
                find_strat_files(&p, limit, depth - 1, out);
            }
        } else if name.ends_with(".strat") {
            out.push(strat_lang::db::normalize(&p.to_string_lossy()));
        }
    }
}

impl LanguageServer for Backend {
    async fn initialize(&self, params: InitializeParams) -> Result<InitializeResult> {
        let utf8 = params
            .capabilities
            .general
            .as_ref()
            .and_then(|g| g.position_encodings.as_ref())
            .is_some_and(|e| e.contains(&PositionEncodingKind::UTF8));
        let encoding = if utf8 { Encoding::Utf8 } else { Encoding::Utf16 };
        let snippets = params
            .capabilities
            .text_document
            .as_ref()
            .and_then(|t| t.completion.as_ref())
            .and_then(|c| c.completion_item.as_ref())
            .and_then(|c| c.snippet_support)
            .unwrap_or(false);
        self.snippets.store(snippets, std::sync::atomic::Ordering::Relaxed);
        let mut paths = Vec::new();
        for f in params.workspace_folders.iter().flatten() {
            if let Some(p) = f.uri.to_file_path() {
                find_strat_files(&p, 2000, 32, &mut paths);
            }
        }
        let files = paths.into_iter().filter_map(|p| crate::disk::read_file(&p).ok().map(|b| (p, b))).collect();
        self.send(Msg::Init { encoding, files });
        let legend = SemanticTokensLegend {
            token_types: TOKEN_TYPES.iter().map(|(_, t)| t.clone()).collect(),
            token_modifiers: vec![SemanticTokenModifier::DECLARATION, SemanticTokenModifier::DEFAULT_LIBRARY],
        };
        Ok(InitializeResult {
            capabilities: ServerCapabilities {
                position_encoding: Some(if utf8 { PositionEncodingKind::UTF8 } else { PositionEncodingKind::UTF16 }),
                text_document_sync: Some(TextDocumentSyncCapability::Kind(TextDocumentSyncKind::INCREMENTAL)),
                hover_provider: Some(HoverProviderCapability::Simple(true)),
                completion_provider: Some(CompletionOptions {
                    trigger_characters: Some(vec![".".into(), "{".into(), " ".into()]),
                    ..Default::default()
                }),
                signature_help_provider: Some(SignatureHelpOptions {
                    trigger_characters: Some(vec!["(".into(), ",".into()]),
                    ..Default::default()
                }),
                definition_provider: Some(OneOf::Left(true)),
                references_provider: Some(OneOf::Left(true)),
                rename_provider: Some(OneOf::Right(RenameOptions {
                    prepare_provider: Some(true),
                    work_done_progress_options: Default::default(),
                })),
                document_symbol_provider: Some(OneOf::Left(true)),
                document_highlight_provider: Some(OneOf::Left(true)),
                document_formatting_provider: Some(OneOf::Left(true)),
                folding_range_provider: Some(FoldingRangeProviderCapability::Simple(true)),
                workspace_symbol_provider: Some(OneOf::Left(true)),
                code_action_provider: Some(CodeActionProviderCapability::Options(CodeActionOptions {
                    code_action_kinds: Some(vec![CodeActionKind::QUICKFIX]),
                    ..Default::default()
                })),
                inlay_hint_provider: Some(OneOf::Left(true)),
                semantic_tokens_provider: Some(SemanticTokensServerCapabilities::SemanticTokensOptions(
                    SemanticTokensOptions {
                        legend,
                        full: Some(SemanticTokensFullOptions::Bool(true)),
                        range: Some(false),
                        ..Default::default()
                    },
                )),
                ..Default::default()
            },
            server_info: Some(ServerInfo { name: "strat".into(), version: Some(env!("CARGO_PKG_VERSION").into()) }),
            offset_encoding: None,
        })
    }

    async fn shutdown(&self) -> Result<()> {
        self.send(Msg::Stop);
        Ok(())
    }

    async fn did_open(&self, p: DidOpenTextDocumentParams) {
        let path = uri_to_path(&p.text_document.uri);
        self.send(Msg::Open {
            uri: p.text_document.uri,
            path,
            text: p.text_document.text,
            version: p.text_document.version,
        });
    }

    async fn did_change(&self, p: DidChangeTextDocumentParams) {
        self.send(Msg::Change {
            uri: p.text_document.uri,
            version: p.text_document.version,
            changes: p.content_changes,
        });
    }

    async fn did_close(&self, p: DidCloseTextDocumentParams) {
        self.send(Msg::Close { uri: p.text_document.uri });
    }

    async fn did_change_watched_files(&self, p: DidChangeWatchedFilesParams) {
        let files = p
            .changes
            .into_iter()
            .filter(|c| c.uri.as_str().ends_with(".strat"))
            .map(|c| {
                let path = uri_to_path(&c.uri);
                let bytes = if c.typ == FileChangeType::DELETED { None } else { crate::disk::read_file(&path).ok() };
                (path, bytes)
            })
            .collect();
        self.send(Msg::Disk { files });
    }

    async fn hover(&self, p: HoverParams) -> Result<Option<Hover>> {
        let at = p.text_document_position_params;
        self.with(&at.text_document.uri, |a, id| {
            let h = ide::hover(&a.snapshot, id, a.offset(id, at.position))?;
            Some(Hover { contents: HoverContents::Markup(markdown(h.markdown)), range: Some(a.range(id, h.span)) })
        })
        .await
    }

    async fn completion(&self, p: CompletionParams) -> Result<Option<CompletionResponse>> {
        let at = p.text_document_position;
        let snippets = self.snippets.load(std::sync::atomic::Ordering::Relaxed);
        self.with(&at.text_document.uri, |a, id| {
            let c = ide::complete(&a.snapshot, id, a.offset(id, at.position));
            let range = a.range(id, c.span);
            let items = c
                .items
                .into_iter()
                .map(|it| {
                    let (new_text, format) = match it.snippet.filter(|_| snippets) {
                        Some(s) => (s, InsertTextFormat::SNIPPET),
                        None => (it.label.clone(), InsertTextFormat::PLAIN_TEXT),
                    };
                    CompletionItem {
                        kind: Some(completion_kind(it.kind)),
                        detail: Some(it.detail),
                        documentation: it.documentation.map(|d| Documentation::MarkupContent(markdown(d))),
                        insert_text_format: Some(format),
                        text_edit: Some(CompletionTextEdit::Edit(TextEdit { range, new_text })),
                        label: it.label,
                        ..Default::default()
                    }
                })
                .collect();
            Some(CompletionResponse::List(CompletionList { is_incomplete: false, items }))
        })
        .await
    }

    async fn signature_help(&self, p: SignatureHelpParams) -> Result<Option<SignatureHelp>> {
        let at = p.text_document_position_params;
        self.with(&at.text_document.uri, |a, id| {
            let h = ide::signature_help(&a.snapshot, id, a.offset(id, at.position))?;
            let utf16 = |s: &str| s.encode_utf16().count() as u32;
            let parameters = h
                .params
                .iter()
                .map(|(start, end, doc)| ParameterInformation {
                    label: ParameterLabel::LabelOffsets([utf16(&h.label[..*start]), utf16(&h.label[..*end])]),
                    documentation: Some(Documentation::String(doc.clone())),
                })
                .collect();
            let active = h.active.map(|i| i as u32);
            Some(SignatureHelp {
                signatures: vec![SignatureInformation {
                    label: h.label,
                    documentation: Some(Documentation::MarkupContent(markdown(h.documentation))),
                    parameters: Some(parameters),
                    active_parameter: active,
                }],
                active_signature: Some(0),
                active_parameter: active,
            })
        })
        .await
    }

    async fn goto_definition(&self, p: GotoDefinitionParams) -> Result<Option<GotoDefinitionResponse>> {
        let at = p.text_document_position_params;
        self.with(&at.text_document.uri, |a, id| {
            let l = ide::definition(&a.snapshot, id, a.offset(id, at.position))?;
            location(a, l).map(GotoDefinitionResponse::Scalar)
        })
        .await
    }

    async fn references(&self, p: ReferenceParams) -> Result<Option<Vec<Location>>> {
        let at = p.text_document_position;
        let include = p.context.include_declaration;
        self.with(&at.text_document.uri, |a, id| {
            let refs = ide::references(&a.snapshot, id, a.offset(id, at.position), include);
            Some(refs.into_iter().filter_map(|l| location(a, l)).collect())
        })
        .await
    }

    async fn prepare_rename(&self, p: TextDocumentPositionParams) -> Result<Option<PrepareRenameResponse>> {
        self.with(&p.text_document.uri, |a, id| {
            let span = ide::prepare_rename(&a.snapshot, id, a.offset(id, p.position))?;
            Some(PrepareRenameResponse::Range(a.range(id, span)))
        })
        .await
    }

    async fn rename(&self, p: RenameParams) -> Result<Option<WorkspaceEdit>> {
        let at = p.text_document_position;
        let result = self
            .with(&at.text_document.uri, |a, id| {
                Some(ide::rename(&a.snapshot, id, a.offset(id, at.position), &p.new_name).map(|places| {
                    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
                    for l in places {
                        if let Some(loc) = location(a, l) {
                            changes
                                .entry(loc.uri)
                                .or_default()
                                .push(TextEdit { range: loc.range, new_text: p.new_name.clone() });
                        }
                    }
                    WorkspaceEdit { changes: Some(changes), ..Default::default() }
                }))
            })
            .await?;
        match result {
            None => Ok(None),
            Some(Ok(edit)) => Ok(Some(edit)),
            Some(Err(why)) => Err(Error::invalid_params(why)),
        }
    }

    async fn document_symbol(&self, p: DocumentSymbolParams) -> Result<Option<DocumentSymbolResponse>> {
        self.with(&p.text_document.uri, |a, id| {
            #[allow(deprecated)] // `deprecated` is a required field of the protocol's struct
            fn convert(a: &Analysis, id: FileId, s: ide::Symbol) -> DocumentSymbol {
                DocumentSymbol {
                    name: s.name,
                    detail: Some(s.detail),
                    kind: symbol_kind(s.kind),
                    tags: None,
                    deprecated: None,
                    range: a.range(id, s.span),
                    selection_range: a.range(id, s.name_span),
                    children: Some(s.children.into_iter().map(|c| convert(a, id, c)).collect()),
                }
            }
            let syms = ide::document_symbols(&a.snapshot, id);
            Some(DocumentSymbolResponse::Nested(syms.into_iter().map(|s| convert(a, id, s)).collect()))
        })
        .await
    }

    async fn document_highlight(&self, p: DocumentHighlightParams) -> Result<Option<Vec<DocumentHighlight>>> {
        let at = p.text_document_position_params;
        self.with(&at.text_document.uri, |a, id| {
            let refs = ide::references(&a.snapshot, id, a.offset(id, at.position), true);
            let out = refs
                .into_iter()
                .filter(|l| l.file == id)
                .map(|l| DocumentHighlight { range: a.range(id, l.span), kind: Some(DocumentHighlightKind::TEXT) })
                .collect();
            Some(out)
        })
        .await
    }

    async fn folding_range(&self, p: FoldingRangeParams) -> Result<Option<Vec<FoldingRange>>> {
        self.with(&p.text_document.uri, |a, id| {
            let out = ide::folding_ranges(&a.snapshot, id)
                .into_iter()
                .map(|sp| {
                    let r = a.range(id, sp);
                    FoldingRange {
                        start_line: r.start.line,
                        end_line: r.end.line,
                        start_character: None,
                        end_character: None,
                        kind: None,
                        collapsed_text: None,
                    }
                })
                .filter(|f| f.end_line > f.start_line)
                .collect();
            Some(out)
        })
        .await
    }

    async fn symbol(&self, p: WorkspaceSymbolParams) -> Result<Option<WorkspaceSymbolResponse>> {
        let a = self.analysis().await?;
        let found = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            ide::workspace_symbols(&a.snapshot, &p.query, 500)
        }))
        .map_err(|_| Error::internal_error())?;
        let out = found
            .into_iter()
            .filter_map(|(id, s)| {
                Some(WorkspaceSymbol {
                    name: s.name,
                    kind: symbol_kind(s.kind),
                    tags: None,
                    container_name: a.snapshot.file(id).map(|f| f.path.clone()),
                    location: OneOf::Left(location(a.as_ref(), ide::Located { file: id, span: s.name_span })?),
                    data: None,
                })
            })
            .collect();
        Ok(Some(WorkspaceSymbolResponse::Nested(out)))
    }

    async fn semantic_tokens_full(&self, p: SemanticTokensParams) -> Result<Option<SemanticTokensResult>> {
        self.with(&p.text_document.uri, |a, id| {
            let text = a.text(id);
            let lines = a.lines(id)?;
            let mut data = Vec::new();
            let (mut line, mut col) = (0u32, 0u32);
            let mut walk = lines.walker(text, a.encoding);
            for t in ide::semantic_tokens(&a.snapshot, id) {
                let start = walk.position(t.span.start as usize);
                let end = walk.position(t.span.end as usize);
                if end.line != start.line || end.character <= start.character {
                    continue;
                }
                let token_type = TOKEN_TYPES.iter().position(|(k, _)| *k == t.kind).unwrap_or(0) as u32;
                let modifiers = u32::from(t.declaration) | (u32::from(t.builtin) << 1);
                let delta_line = start.line - line;
                let delta_start = if delta_line == 0 { start.character - col } else { start.character };
                data.push(SemanticToken {
                    delta_line,
                    delta_start,
                    length: end.character - start.character,
                    token_type,
                    token_modifiers_bitset: modifiers,
                });
                line = start.line;
                col = start.character;
            }
            Some(SemanticTokensResult::Tokens(SemanticTokens { result_id: None, data }))
        })
        .await
    }

    /// The whole document in the canonical layout (`strat fmt`), as one minimal edit. A file
    /// with syntax errors is left alone: its diagnostics say why.
    async fn formatting(&self, p: DocumentFormattingParams) -> Result<Option<Vec<TextEdit>>> {
        self.with(&p.text_document.uri, |a, id| {
            let text = a.text(id);
            let formatted = strat_lang::format::format(id, text).ok()?;
            let edits = match convert::minimal_edit(text, &formatted) {
                Some((span, new_text)) => vec![TextEdit { range: a.range(id, span), new_text }],
                None => Vec::new(),
            };
            Some(edits)
        })
        .await
    }

    async fn code_action(&self, p: CodeActionParams) -> Result<Option<CodeActionResponse>> {
        self.with(&p.text_document.uri, |a, id| {
            let span = a.lines(id)?.span(a.text(id), p.range, a.encoding);
            let actions = ide::code_actions(&a.snapshot, id, span);
            let out = actions
                .into_iter()
                .map(|act| {
                    let mut changes: HashMap<Uri, Vec<TextEdit>> = HashMap::new();
                    for e in &act.edits {
                        if let Some(uri) = a.uri(e.file) {
                            changes
                                .entry(uri.clone())
                                .or_default()
                                .push(TextEdit { range: a.range(e.file, e.span), new_text: e.text.clone() });
                        }
                    }
                    CodeActionOrCommand::CodeAction(CodeAction {
                        title: act.title,
                        kind: Some(CodeActionKind::QUICKFIX),
                        diagnostics: Some(lsp_diagnostics(a, id, std::slice::from_ref(&act.diagnostic))),
                        edit: Some(WorkspaceEdit { changes: Some(changes), ..Default::default() }),
                        is_preferred: Some(act.preferred),
                        ..Default::default()
                    })
                })
                .collect();
            Some(out)
        })
        .await
    }

    async fn inlay_hint(&self, p: InlayHintParams) -> Result<Option<Vec<InlayHint>>> {
        self.with(&p.text_document.uri, |a, id| {
            let span = a.lines(id)?.span(a.text(id), p.range, a.encoding);
            let hints = ide::inlay_hints(&a.snapshot, id, span.start as usize, span.end as usize);
            let out = hints
                .into_iter()
                .map(|h| InlayHint {
                    position: a.range(id, strat_lang::Span::new(h.offset, h.offset)).start,
                    label: InlayHintLabel::String(h.label),
                    kind: Some(InlayHintKind::TYPE),
                    text_edits: None,
                    tooltip: None,
                    padding_left: Some(false),
                    padding_right: Some(false),
                    data: None,
                })
                .collect();
            Some(out)
        })
        .await
    }

    /// Pull diagnostics: the full set as of every change sent before this request. Not
    /// advertised (clients get them pushed); tests use it to read the state at a known point.
    async fn diagnostic(&self, p: DocumentDiagnosticParams) -> Result<DocumentDiagnosticReportResult> {
        let items = self
            .with(&p.text_document.uri, |a, id| {
                let ds: Vec<_> = a.snapshot.checked.diagnostics.iter().filter(|d| d.file == id).cloned().collect();
                Some(lsp_diagnostics(a, id, &ds))
            })
            .await?
            .unwrap_or_default();
        Ok(DocumentDiagnosticReportResult::Report(DocumentDiagnosticReport::Full(
            RelatedFullDocumentDiagnosticReport {
                related_documents: None,
                full_document_diagnostic_report: FullDocumentDiagnosticReport { result_id: None, items },
            },
        )))
    }
}
