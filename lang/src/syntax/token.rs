//! Token kinds, produced by logos.

use logos::{Lexer, Logos};

#[derive(Logos, Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[logos(skip r"[ \t\r\n\f]+")]
pub enum Kind {
    #[regex(r"[A-Za-z_][A-Za-z0-9_]*")]
    Ident,
    /// An exchange ticker: upper-case letters and digits, optionally a class suffix (`BRK.B`).
    #[regex(r"[A-Z][A-Z0-9]*(\.[A-Z]+)?", priority = 5)]
    Ticker,
    /// A number with an optional unit suffix glued to it: `14`, `0.7`, `5%`, `15m`, `1_000`.
    #[regex(r"[0-9][0-9_]*(\.[0-9][0-9_]*)?([A-Za-z_][A-Za-z0-9_]*|%)?")]
    Number,
    /// A dollar amount: `$10_000`, `$2.5k`.
    #[regex(r"\$[0-9][0-9_]*(\.[0-9][0-9_]*)?([A-Za-z_][A-Za-z0-9_]*)?")]
    Money,
    #[regex(r"[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]")]
    Date,
    #[regex(r"[0-9][0-9]:[0-9][0-9]")]
    Time,
    #[regex(r#""([^"\\\n]|\\[^\n])*""#)]
    Str,
    #[regex(r#""([^"\\\n]|\\[^\n])*\\?"#, priority = 1)]
    UnterminatedStr,
    #[token(r#"""""#, block_string)]
    BlockStr,
    #[regex(r"//[^\n]*", allow_greedy = true)]
    LineComment,
    #[token("/*", block_comment)]
    BlockComment,
    #[token("{")]
    LBrace,
    #[token("}")]
    RBrace,
    #[token("(")]
    LParen,
    #[token(")")]
    RParen,
    #[token("[")]
    LBracket,
    #[token("]")]
    RBracket,
    #[token(",")]
    Comma,
    #[token(";")]
    Semi,
    #[token(":")]
    Colon,
    #[token(".")]
    Dot,
    #[token("..")]
    DotDot,
    #[token("=")]
    Eq,
    #[token("==")]
    EqEq,
    #[token("!=")]
    NotEq,
    #[token("<")]
    Lt,
    #[token("<=")]
    Le,
    #[token(">")]
    Gt,
    #[token(">=")]
    Ge,
    #[token("+")]
    Plus,
    #[token("-")]
    Minus,
    #[token("*")]
    Star,
    #[token("/")]
    Slash,
    #[token("|")]
    Pipe,
    #[token("?")]
    Question,
    #[token("=>")]
    FatArrow,
    /// `&&` and `||`: not strat syntax; lexed so the parser can read them as `and`/`or`
    /// after the lexer has reported them.
    #[token("&&")]
    AndAnd,
    #[token("||")]
    OrOr,
    /// Produced by the wrapper for `"""` or `/*` that never close, and for bytes no rule matches.
    UnterminatedBlock,
    Unknown,
    Eof,
}

/// Consumes up to and including the closing `"""`; the token is unterminated if there is none.
fn block_string(lex: &mut Lexer<Kind>) -> Kind {
    let rest = lex.remainder();
    match rest.find(r#"""""#) {
        Some(i) => {
            lex.bump(i + 3);
            Kind::BlockStr
        }
        None => {
            lex.bump(rest.len());
            Kind::UnterminatedBlock
        }
    }
}

/// Consumes a possibly nested block comment.
fn block_comment(lex: &mut Lexer<Kind>) -> Kind {
    let rest = lex.remainder().as_bytes();
    let mut depth = 1usize;
    let mut i = 0;
    while i + 1 < rest.len() {
        match (rest[i], rest[i + 1]) {
            (b'/', b'*') => {
                depth += 1;
                i += 2;
            }
            (b'*', b'/') => {
                depth -= 1;
                i += 2;
                if depth == 0 {
                    lex.bump(i);
                    return Kind::BlockComment;
                }
            }
            _ => i += 1,
        }
    }
    lex.bump(rest.len());
    Kind::UnterminatedBlock
}

impl Kind {
    pub fn is_trivia(self) -> bool {
        matches!(self, Kind::LineComment | Kind::BlockComment)
    }

    /// How the token is named in "expected …, found …" messages.
    pub fn describe(self) -> &'static str {
        match self {
            Kind::Ident => "a name",
            Kind::Ticker => "a ticker symbol",
            Kind::Number => "a number",
            Kind::Money => "a money amount",
            Kind::Date => "a date",
            Kind::Time => "a time of day",
            Kind::Str | Kind::UnterminatedStr => "a string",
            Kind::BlockStr => "a block string",
            Kind::LineComment | Kind::BlockComment => "a comment",
            Kind::LBrace => "`{`",
            Kind::RBrace => "`}`",
            Kind::LParen => "`(`",
            Kind::RParen => "`)`",
            Kind::LBracket => "`[`",
            Kind::RBracket => "`]`",
            Kind::Comma => "`,`",
            Kind::Semi => "`;`",
            Kind::Colon => "`:`",
            Kind::Dot => "`.`",
            Kind::DotDot => "`..`",
            Kind::Eq => "`=`",
            Kind::EqEq => "`==`",
            Kind::NotEq => "`!=`",
            Kind::Lt => "`<`",
            Kind::Le => "`<=`",
            Kind::Gt => "`>`",
            Kind::Ge => "`>=`",
            Kind::Plus => "`+`",
            Kind::Minus => "`-`",
            Kind::Star => "`*`",
            Kind::Slash => "`/`",
            Kind::Pipe => "`|`",
            Kind::Question => "`?`",
            Kind::FatArrow => "`=>`",
            Kind::AndAnd => "`&&`",
            Kind::OrOr => "`||`",
            Kind::UnterminatedBlock => "an unterminated block",
            Kind::Unknown => "an unknown character",
            Kind::Eof => "end of file",
        }
    }
}
