//! Printing diagnostics: human-readable through ariadne, or JSON.

use ariadne::{Color, Config, IndexType, Label, Report, ReportKind};
use serde::Serialize;
use std::collections::BTreeMap;
use std::io::Write;
use strat_lang::span::LineIndex;
use strat_lang::{Diagnostic, Severity, Workspace};

/// Renders diagnostics to standard error (for commands whose standard output is data).
pub fn to_stderr(ws: &Workspace, diags: &[Diagnostic], color: crate::ColorChoice) {
    use std::io::IsTerminal;
    let stderr = std::io::stderr();
    let _ = human(ws, diags, color.enabled(stderr.is_terminal()), &mut stderr.lock());
}

/// Renders every diagnostic with one shared source cache, so thousands of reports stay fast.
pub fn human(ws: &Workspace, diags: &[Diagnostic], color: bool, out: &mut impl Write) -> std::io::Result<()> {
    let mut cache =
        ariadne::sources(ws.files().map(|f| (ws.path(f).to_string(), ws.text(f).to_string())).collect::<Vec<_>>());
    let config = Config::default().with_index_type(IndexType::Byte).with_color(color);
    for d in diags {
        let path = ws.path(d.file).to_string();
        let kind = match d.severity {
            Severity::Error => ReportKind::Error,
            Severity::Warning => ReportKind::Warning,
        };
        let (primary, secondary) = (Color::Red, Color::Blue);
        let primary = if d.severity == Severity::Warning { Color::Yellow } else { primary };
        let range = clamp(ws.text(d.file), d.span.range());
        let mut r = Report::build(kind, (path.clone(), range.clone()))
            .with_config(config)
            .with_code(d.code.id())
            .with_message(&d.message)
            .with_label(Label::new((path.clone(), range)).with_message(&d.label).with_color(primary).with_order(0));
        for (i, l) in d.labels.iter().enumerate() {
            let lp = ws.path(l.file).to_string();
            let lr = clamp(ws.text(l.file), l.span.range());
            r = r.with_label(
                Label::new((lp, lr)).with_message(&l.message).with_color(secondary).with_order(i as i32 + 1),
            );
        }
        if let Some(h) = &d.help {
            r = r.with_help(h);
        }
        r.finish().write(&mut cache, &mut *out)?;
    }
    Ok(())
}

fn clamp(text: &str, r: std::ops::Range<usize>) -> std::ops::Range<usize> {
    let start = strat_lang::span::floor_char_boundary(text, r.start);
    let end = strat_lang::span::floor_char_boundary(text, r.end.max(start));
    start..end
}

#[derive(Serialize)]
pub struct Position {
    pub line: usize,
    pub column: usize,
}

#[derive(Serialize)]
pub struct JsonLabel {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end: Position,
    pub message: String,
}

#[derive(Serialize)]
pub struct JsonFix {
    pub line: usize,
    pub column: usize,
    pub end: Position,
    pub replacement: String,
    pub message: String,
}

/// One diagnostic as `--format json` prints it. Lines and columns are 1-based; columns count
/// characters.
#[derive(Serialize)]
pub struct JsonDiagnostic {
    pub file: String,
    pub line: usize,
    pub column: usize,
    pub end: Position,
    pub code: &'static str,
    pub severity: Severity,
    pub message: String,
    pub labels: Vec<JsonLabel>,
    pub help: Option<String>,
    pub fixes: Vec<JsonFix>,
}

pub fn json(ws: &Workspace, diags: &[Diagnostic]) -> Vec<JsonDiagnostic> {
    let mut indexes: BTreeMap<strat_lang::FileId, LineIndex> = BTreeMap::new();
    let mut pos = |file: strat_lang::FileId, offset: u32| {
        let text = ws.text(file);
        let idx = indexes.entry(file).or_insert_with(|| LineIndex::new(text));
        idx.line_col(text, offset as usize)
    };
    diags
        .iter()
        .map(|d| {
            let (line, column) = pos(d.file, d.span.start);
            let (el, ec) = pos(d.file, d.span.end);
            let mut labels = vec![JsonLabel {
                file: ws.path(d.file).to_string(),
                line,
                column,
                end: Position { line: el, column: ec },
                message: d.label.clone(),
            }];
            for l in &d.labels {
                let (line, column) = pos(l.file, l.span.start);
                let (el, ec) = pos(l.file, l.span.end);
                labels.push(JsonLabel {
                    file: ws.path(l.file).to_string(),
                    line,
                    column,
                    end: Position { line: el, column: ec },
                    message: l.message.clone(),
                });
            }
            let fixes = d
                .fixes
                .iter()
                .map(|f| {
                    let (line, column) = pos(d.file, f.span.start);
                    let (el, ec) = pos(d.file, f.span.end);
                    JsonFix {
                        line,
                        column,
                        end: Position { line: el, column: ec },
                        replacement: f.replacement.clone(),
                        message: f.message.clone(),
                    }
                })
                .collect();
            JsonDiagnostic {
                file: ws.path(d.file).to_string(),
                line,
                column,
                end: Position { line: el, column: ec },
                code: d.code.id(),
                severity: d.severity,
                message: d.message.clone(),
                labels,
                help: d.help.clone(),
                fixes,
            }
        })
        .collect()
}
