//! The one diagnostic type every phase returns, and the catalogue of stable codes.

use crate::span::{FileId, Span};
use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Error,
    Warning,
}

/// A secondary location with its message.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Label {
    pub file: FileId,
    pub span: Span,
    pub message: String,
}

/// A machine-applicable edit that would fix the problem.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Fix {
    pub span: Span,
    pub replacement: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Diagnostic {
    pub code: Code,
    pub severity: Severity,
    pub file: FileId,
    pub span: Span,
    pub message: String,
    /// The message printed under the primary span.
    pub label: String,
    pub labels: Vec<Label>,
    pub help: Option<String>,
    pub fixes: Vec<Fix>,
}

impl Diagnostic {
    pub fn new(code: Code, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        Diagnostic {
            code,
            severity: code.severity(),
            file,
            span,
            message: message.into(),
            label: String::new(),
            labels: Vec::new(),
            help: None,
            fixes: Vec::new(),
        }
    }

    pub fn label(mut self, text: impl Into<String>) -> Diagnostic {
        self.label = text.into();
        self
    }

    pub fn with_label(mut self, file: FileId, span: Span, message: impl Into<String>) -> Diagnostic {
        self.labels.push(Label { file, span, message: message.into() });
        self
    }

    pub fn help(mut self, text: impl Into<String>) -> Diagnostic {
        self.help = Some(text.into());
        self
    }

    /// Adds a fix and, when no help is set yet, its message as help.
    pub fn fix(mut self, span: Span, replacement: impl Into<String>, message: impl Into<String>) -> Diagnostic {
        let message = message.into();
        if self.help.is_none() {
            self.help = Some(message.clone());
        }
        self.fixes.push(Fix { span, replacement: replacement.into(), message });
        self
    }

    pub fn is_error(&self) -> bool {
        self.severity == Severity::Error
    }
}

macro_rules! codes {
    ($($variant:ident = $id:literal, $sev:ident, $title:literal;)*) => {
        /// Stable diagnostic codes. A code is never reused for another meaning.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum Code { $($variant),* }

        impl Code {
            pub const ALL: &'static [Code] = &[$(Code::$variant),*];

            /// The stable identifier, such as `E0101`.
            pub fn id(self) -> &'static str {
                match self { $(Code::$variant => $id),* }
            }

            pub fn severity(self) -> Severity {
                match self { $(Code::$variant => Severity::$sev),* }
            }

            /// A short title used in documentation.
            pub fn title(self) -> &'static str {
                match self { $(Code::$variant => $title),* }
            }

            pub fn from_id(id: &str) -> Option<Code> {
                match id { $($id => Some(Code::$variant),)* _ => None }
            }
        }
    };
}

codes! {
    // Lexical structure
    InvalidUtf8 = "E0001", Error, "the file is not valid UTF-8";
    NulByte = "E0002", Error, "NUL byte in source";
    UnexpectedChar = "E0003", Error, "character not allowed here";
    UnterminatedString = "E0004", Error, "unterminated string";
    UnterminatedBlock = "E0005", Error, "unterminated block string or comment";
    InvalidNumber = "E0006", Error, "malformed number or unit suffix";
    InvalidEscape = "E0007", Error, "unknown escape sequence";
    StringTooLong = "E0008", Error, "string literal longer than the limit";
    ByteOrderMark = "W0001", Warning, "byte-order mark at the start of the file";
    // Syntax
    Expected = "E0010", Error, "unexpected token";
    Unclosed = "E0011", Error, "unclosed delimiter";
    TooDeep = "E0012", Error, "nesting deeper than the limit";
    UnknownSetting = "E0013", Error, "unknown setting in a block";
    BadPlaceholder = "E0014", Error, "malformed template placeholder";
    DuplicateSetting = "E0015", Error, "setting given twice";
    // Formatting
    FormatLoss = "E0016", Error, "formatting would not keep every token and comment";
    // Names
    Unresolved = "E0101", Error, "name not found";
    Duplicate = "E0102", Error, "declared twice";
    UnknownFunction = "E0103", Error, "unknown function";
    UnknownField = "E0104", Error, "unknown field";
    WrongKind = "E0105", Error, "name refers to the wrong kind of declaration";
    ImportNotFound = "E0106", Error, "imported file not found";
    ImportCycle = "E0107", Error, "import cycle";
    NotExported = "E0108", Error, "imported name is not declared in that file";
    ReservedName = "E0109", Error, "name cannot be used for a declaration";
    ImportNotStrat = "E0110", Error, "imported path is not a `.strat` file";
    UnusedDecl = "W0101", Warning, "declaration never used";
    UnusedLet = "W0102", Warning, "binding never used";
    // Types and units
    TypeMismatch = "E0201", Error, "type mismatch";
    UnitMismatch = "E0202", Error, "arithmetic on incompatible units";
    IncomparableTypes = "E0203", Error, "comparison of incompatible types";
    Arity = "E0204", Error, "wrong number of arguments";
    BadArgument = "E0205", Error, "unknown or repeated named argument";
    NotBool = "E0206", Error, "condition is not a boolean";
    NotAVariant = "E0207", Error, "not a variant of the enum";
    MixedSymbolSets = "E0208", Error, "one condition ranges over different symbol sets";
    OutOfRange = "E0209", Error, "value out of range";
    NotPositive = "E0210", Error, "duration or count must be positive";
    ConstantCrossing = "E0211", Error, "crossing of two constants";
    // Templates
    UnknownPlaceholder = "E0301", Error, "placeholder not available in this context";
    MissingContext = "E0302", Error, "placeholder needs a context source the agent does not declare";
    // Schemas
    UnknownType = "E0401", Error, "unknown type in a schema";
    DuplicateField = "E0402", Error, "field declared twice in a schema";
    BadEnum = "E0403", Error, "enum needs two or more distinct variants";
    // Triggers
    InvalidCron = "E0501", Error, "invalid cron expression";
    UnknownTimeZone = "E0502", Error, "unknown time zone";
    LiteralSecret = "E0503", Error, "webhook secret written in the file";
    BadTriggerOption = "E0504", Error, "unknown or ill-typed trigger option";
    NoTriggerSymbol = "E0505", Error, "`trigger.symbol` read under a trigger that has none";
    NoTimeZone = "W0501", Warning, "schedule without a time zone";
    NoTrigger = "W0502", Warning, "never triggered";
    ModelBudget = "W0503", Warning, "model calls unbounded or many";
    // Models
    UnknownProvider = "E0601", Error, "unknown model provider";
    UnknownModel = "W0601", Warning, "model not known for this provider";
    // Teams
    NotAnAgent = "E0701", Error, "team member is not an agent";
    InputNotProduced = "E0702", Error, "member input not produced by an earlier member";
    InputTypeMismatch = "E0703", Error, "member input type differs from its producer";
    ModeSetting = "E0704", Error, "setting does not fit the coordination mode";
    NoDecision = "E0705", Error, "member output cannot be voted on";
    BadAllocation = "E0706", Error, "allocation does not add up";
    DuplicateMember = "E0707", Error, "member listed twice";
    TooFewMembers = "E0708", Error, "team needs at least two members";
    MissingSetting = "E0709", Error, "required setting missing";
    NoQuantity = "E0710", Error, "team's deciding member trades with no quantity";
    // Workflow graph
    Unreachable = "W0801", Warning, "unreachable statement";
    NonExhaustive = "E0802", Error, "match does not cover every variant";
    DuplicateArm = "E0803", Error, "match arm repeats a variant";
    GraphCycle = "E0804", Error, "workflow graph has a cycle";
    // Orders and limits
    NoLimits = "E0901", Error, "can place orders but has no limits";
    ExceedsPosition = "E0902", Error, "order value exceeds max_position";
    ExceedsAllocation = "E0903", Error, "order size exceeds max_allocation";
    BadSize = "E0904", Error, "order size of the wrong kind";
    BlockedSymbol = "E0905", Error, "order on a symbol the limits forbid";
    LimitConflict = "E0906", Error, "limits contradict each other";
    ActionNotAllowed = "E0907", Error, "action not allowed for this agent";
    // Against data (`strat check --data`)
    DataCannotEvaluate = "W1001", Warning, "the data cannot evaluate this";
    DataCannotRun = "E1001", Error, "the program cannot run on this data";
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique_and_prefixed_by_severity() {
        let mut seen = std::collections::BTreeSet::new();
        for c in Code::ALL {
            assert!(seen.insert(c.id()), "duplicate {}", c.id());
            let prefix = if c.severity() == Severity::Error { 'E' } else { 'W' };
            assert!(c.id().starts_with(prefix), "{}", c.id());
            assert_eq!(Code::from_id(c.id()), Some(*c));
        }
    }
}
