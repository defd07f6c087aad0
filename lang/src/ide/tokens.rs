//! Semantic tokens: what each word of a file is, in file order, one line per token.

use super::Snapshot;
use crate::check::{DeclKind, Target};
use crate::span::{FileId, Span};
use crate::syntax::lexer::{Token, lex};
use crate::syntax::token::Kind;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum TokenKind {
    Keyword,
    Function,
    Variable,
    Property,
    String,
    Number,
    Comment,
    Operator,
    /// A ticker symbol.
    EnumMember,
    Universe,
    Limits,
    Model,
    Agent,
    Trigger,
    Workflow,
    Team,
}

impl TokenKind {
    pub const ALL: &'static [TokenKind] = &[
        TokenKind::Keyword,
        TokenKind::Function,
        TokenKind::Variable,
        TokenKind::Property,
        TokenKind::String,
        TokenKind::Number,
        TokenKind::Comment,
        TokenKind::Operator,
        TokenKind::EnumMember,
        TokenKind::Universe,
        TokenKind::Limits,
        TokenKind::Model,
        TokenKind::Agent,
        TokenKind::Trigger,
        TokenKind::Workflow,
        TokenKind::Team,
    ];

    fn of_decl(k: DeclKind) -> TokenKind {
        match k {
            DeclKind::Universe => TokenKind::Universe,
            DeclKind::Limits => TokenKind::Limits,
            DeclKind::Model => TokenKind::Model,
            DeclKind::Agent => TokenKind::Agent,
            DeclKind::Trigger => TokenKind::Trigger,
            DeclKind::Workflow => TokenKind::Workflow,
            DeclKind::Team => TokenKind::Team,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SemanticToken {
    /// Never crosses a line end.
    pub span: Span,
    pub kind: TokenKind,
    /// Where the name is declared or bound.
    pub declaration: bool,
    /// From the standard library.
    pub builtin: bool,
}

/// Contextual words that read as keywords where they are not names.
const MORE_WORDS: &[&str] =
    &["else", "tz", "secret", "payload", "tif", "limit", "stop", "stop_loss", "take_profit", "size", "of", "all"];

fn is_keyword(w: &str) -> bool {
    crate::syntax::ITEM_WORDS.contains(&w)
        || crate::syntax::AGENT_SETTINGS.contains(&w)
        || crate::syntax::TEAM_SETTINGS.contains(&w)
        || crate::syntax::WORKFLOW_SETTINGS.contains(&w)
        || crate::syntax::STATEMENTS.contains(&w)
        || crate::check::RESERVED.contains(&w)
        || MORE_WORDS.contains(&w)
}

pub fn semantic_tokens(s: &Snapshot, file: FileId) -> Vec<SemanticToken> {
    let text = s.text(file);
    let mut known: BTreeMap<u32, (Span, TokenKind, bool)> = BTreeMap::new();
    for r in s.refs(file) {
        let kind = match r.target {
            Target::Decl(d) => TokenKind::of_decl(d.kind),
            Target::Local { .. } => TokenKind::Variable,
        };
        known.insert(r.span.start, (r.span, kind, false));
    }
    if let Some(ast) = s.ast(file) {
        for (i, item) in ast.items.iter().enumerate() {
            if let (Some(n), Some(d)) = (item.name(), s.decl_of(file, i)) {
                known.insert(n.span.start, (n.span, TokenKind::of_decl(d.kind), true));
            }
        }
    }
    for l in s.checked.facts.locals.iter().filter(|l| l.file == file) {
        known.insert(l.span.start, (l.span, TokenKind::Variable, true));
    }
    let lexed = lex(file, text, 0);
    let mut out = Vec::new();
    let mut comments = lexed.comments.iter().peekable();
    for (i, t) in lexed.tokens.iter().enumerate() {
        while let Some(c) = comments.next_if(|c| c.start < t.span.start) {
            push_lines(text, *c, TokenKind::Comment, false, false, &mut out);
        }
        classify(text, &lexed.tokens, i, &known, &mut out);
    }
    for c in comments {
        push_lines(text, *c, TokenKind::Comment, false, false, &mut out);
    }
    out
}

/// The tokens of `text` classified by what the lexer alone can tell (no names resolved): what a
/// REPL line is highlighted with. Same kinds and order as [`semantic_tokens`].
pub fn lexical_tokens(text: &str) -> Vec<SemanticToken> {
    let known = BTreeMap::new();
    let lexed = lex(FileId(0), text, 0);
    let mut out = Vec::new();
    let mut comments = lexed.comments.iter().peekable();
    for i in 0..lexed.tokens.len() {
        while let Some(c) = comments.next_if(|c| c.start < lexed.tokens[i].span.start) {
            push_lines(text, *c, TokenKind::Comment, false, false, &mut out);
        }
        classify(text, &lexed.tokens, i, &known, &mut out);
    }
    for c in comments {
        push_lines(text, *c, TokenKind::Comment, false, false, &mut out);
    }
    out
}

fn classify(
    text: &str,
    toks: &[Token],
    i: usize,
    known: &BTreeMap<u32, (Span, TokenKind, bool)>,
    out: &mut Vec<SemanticToken>,
) {
    let t = toks[i];
    let word = text.get(t.span.range()).unwrap_or("");
    let next = toks.get(i + 1).map(|n| n.kind);
    let prev = i.checked_sub(1).map(|p| toks[p].kind);
    if let Some((span, k, decl)) = known.get(&t.span.start)
        && *span == t.span
        && matches!(t.kind, Kind::Ident | Kind::Ticker)
    {
        push_lines(text, t.span, *k, *decl, false, out);
        return;
    }
    let (kind, declaration, builtin) = match t.kind {
        Kind::Ident => {
            if next == Some(Kind::LParen) {
                let builtin = strat_stdlib::function(word).is_some() || strat_stdlib::provider(word).is_some();
                (TokenKind::Function, false, builtin)
            } else if prev == Some(Kind::Dot) {
                (TokenKind::Property, false, false)
            } else if strat_stdlib::global(word).is_some() && !t.line_start {
                (TokenKind::Variable, false, true)
            } else if is_keyword(word) {
                (TokenKind::Keyword, false, false)
            } else if t.line_start && strat_stdlib::limit_field(word).is_some() {
                (TokenKind::Property, false, true)
            } else {
                return;
            }
        }
        Kind::Ticker => (TokenKind::EnumMember, false, false),
        Kind::Number | Kind::Money | Kind::Date | Kind::Time => (TokenKind::Number, false, false),
        Kind::Str | Kind::BlockStr | Kind::UnterminatedStr | Kind::UnterminatedBlock => {
            string(text, t.span, known, out);
            return;
        }
        Kind::EqEq
        | Kind::NotEq
        | Kind::Lt
        | Kind::Le
        | Kind::Gt
        | Kind::Ge
        | Kind::Plus
        | Kind::Minus
        | Kind::Star
        | Kind::Slash
        | Kind::Pipe
        | Kind::FatArrow
        | Kind::Eq
        | Kind::Question => (TokenKind::Operator, false, false),
        _ => return,
    };
    push_lines(text, t.span, kind, declaration, builtin, out);
}

/// A string, with the code inside its `{{ … }}` placeholders classified as code.
fn string(text: &str, span: Span, known: &BTreeMap<u32, (Span, TokenKind, bool)>, out: &mut Vec<SemanticToken>) {
    let Some(src) = text.get(span.range()) else { return };
    let base = span.start as usize;
    let mut at = 0;
    for (open, close) in crate::syntax::literal::holes(src) {
        push_lines(text, Span::new(base + at, base + open + 2), TokenKind::String, false, false, out);
        let inner_end = close.map_or(src.len(), |c| c - 2);
        let inner = &src[open + 2..inner_end.max(open + 2)];
        let lexed = lex(FileId(0), inner, base + open + 2);
        for i in 0..lexed.tokens.len() {
            classify(text, &lexed.tokens, i, known, out);
        }
        match close {
            Some(c) => at = c - 2,
            None => return,
        }
    }
    push_lines(text, Span::new(base + at, base + src.len()), TokenKind::String, false, false, out);
}

/// Pushes `span`, split at line ends.
fn push_lines(text: &str, span: Span, kind: TokenKind, declaration: bool, builtin: bool, out: &mut Vec<SemanticToken>) {
    let Some(src) = text.get(span.range()) else { return };
    let mut start = span.start as usize;
    for line in src.split('\n') {
        let end = start + line.trim_end_matches('\r').len();
        if end > start {
            out.push(SemanticToken { span: Span::new(start, end), kind, declaration, builtin });
        }
        start += line.len() + 1;
    }
}
