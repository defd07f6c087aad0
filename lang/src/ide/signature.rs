//! Signature help: the function call around the cursor and the argument being written.

use super::Snapshot;
use crate::span::FileId;
use crate::syntax::lexer::lex;
use crate::syntax::token::Kind;

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHelp {
    /// `rsi(symbol: symbol, period: number = 14) -> number`.
    pub label: String,
    pub documentation: String,
    /// Each parameter as a byte range of `label`, with its documentation.
    pub params: Vec<(usize, usize, String)>,
    /// The parameter being written, when the call has one there.
    pub active: Option<usize>,
}

pub fn signature_help(s: &Snapshot, file: FileId, offset: usize) -> Option<SignatureHelp> {
    let text = s.text(file);
    let offset = crate::span::floor_char_boundary(text, offset);
    let from = s.item_at(file, offset).map_or(0, |(_, it)| it.span().start as usize).min(offset);
    signature_in(text, from, offset)
}

/// Signature help in `text` alone (an expression typed at the REPL), from its start.
pub fn signature_help_text(text: &str, offset: usize) -> Option<SignatureHelp> {
    signature_in(text, 0, crate::span::floor_char_boundary(text, offset))
}

/// The call around `offset`, reading the tokens of `text` from `from`.
fn signature_in(text: &str, from: usize, offset: usize) -> Option<SignatureHelp> {
    let lexed = lex(FileId(0), text.get(from..offset)?, from);
    // Walk back to the innermost unclosed `(` that follows a name.
    let toks: Vec<_> = lexed.tokens.iter().filter(|t| t.kind != Kind::Eof).collect();
    let mut depth = 0usize;
    let mut commas = 0usize;
    let mut named: Option<&str> = None;
    let mut i = toks.len();
    while i > 0 {
        i -= 1;
        let t = toks[i];
        match t.kind {
            Kind::RParen | Kind::RBracket => depth += 1,
            Kind::LBracket if depth > 0 => depth -= 1,
            Kind::LParen if depth > 0 => depth -= 1,
            Kind::LParen => {
                let callee = i.checked_sub(1).map(|j| toks[j])?;
                if callee.kind != Kind::Ident {
                    return None;
                }
                let name = text.get(callee.span.range())?;
                let f = strat_stdlib::function(name)?;
                return Some(help(f, commas, named));
            }
            Kind::Comma if depth == 0 => commas += 1,
            Kind::Colon if depth == 0 && commas == 0 && named.is_none() => {
                // `name: value`: the argument is given by name.
                if let Some(j) = i.checked_sub(1) {
                    named = text.get(toks[j].span.range());
                }
            }
            Kind::LBrace | Kind::RBrace => return None,
            _ => {}
        }
    }
    None
}

fn help(f: &strat_stdlib::Function, commas: usize, named: Option<&str>) -> SignatureHelp {
    let mut label = format!("{}(", f.name);
    let mut params = Vec::new();
    for (i, p) in f.params.iter().enumerate() {
        if i > 0 {
            label.push_str(", ");
        }
        let start = label.len();
        label.push_str(&format!("{}: {}", p.name, p.ty.display()));
        if let Some(d) = p.default {
            label.push_str(&format!(" = {d}"));
        }
        params.push((start, label.len(), p.doc.to_string()));
    }
    label.push_str(&format!(") -> {}", f.ret.display()));
    let active = match named {
        Some(n) => f.params.iter().position(|p| p.name == n),
        None => (commas < f.params.len()).then_some(commas),
    };
    SignatureHelp { label, documentation: format!("{}\n\nExample: `{}`", f.doc, f.example), params, active }
}
