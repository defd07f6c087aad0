//! The checker's types and the unit rules of arithmetic and comparison.

use std::fmt;
use std::sync::Arc;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum Ty {
    Number,
    Bool,
    Text,
    Percent,
    Money,
    /// Money per share.
    Price,
    /// A count of shares.
    Quantity,
    Duration,
    Symbol,
    SymbolSet,
    TimeOfDay,
    Date,
    Timestamp,
    Enum(Arc<[String]>),
    Record(Arc<RecordTy>),
    List(Box<Ty>),
    Optional(Box<Ty>),
    /// A bare name not (yet) resolved: a variant of whatever enum it is compared with.
    Variant(String),
    /// The type of an expression that already produced an error; compatible with anything.
    Unknown,
}

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct RecordTy {
    /// Named records come from the stdlib (`position`, `decision`); schemas are anonymous.
    pub name: Option<String>,
    pub fields: Vec<(String, Ty)>,
}

impl RecordTy {
    pub fn field(&self, name: &str) -> Option<&Ty> {
        self.fields.iter().find(|(n, _)| n == name).map(|(_, t)| t)
    }
}

impl Ty {
    pub fn record(name: Option<&str>, fields: Vec<(String, Ty)>) -> Ty {
        Ty::Record(Arc::new(RecordTy { name: name.map(str::to_string), fields }))
    }

    pub fn enumeration<S: AsRef<str>>(variants: &[S]) -> Ty {
        Ty::Enum(variants.iter().map(|s| s.as_ref().to_string()).collect())
    }

    /// Converts a stdlib type description.
    pub fn from_std(t: &strat_stdlib::Ty) -> Ty {
        use strat_stdlib::Ty as S;
        match t {
            S::Number => Ty::Number,
            S::Bool => Ty::Bool,
            S::Text => Ty::Text,
            S::Percent => Ty::Percent,
            S::Money => Ty::Money,
            S::Price => Ty::Price,
            S::Quantity => Ty::Quantity,
            S::Duration => Ty::Duration,
            S::Symbol => Ty::Symbol,
            S::SymbolSet => Ty::SymbolSet,
            S::TimeOfDay => Ty::TimeOfDay,
            S::Date => Ty::Date,
            S::Timestamp => Ty::Timestamp,
            S::Enum(v) => std_enum(v),
            S::List(inner) => Ty::List(Box::new(Ty::from_std(inner))),
            S::Record(name) => std_record(name),
        }
    }

    pub fn is_unknown(&self) -> bool {
        matches!(self, Ty::Unknown)
    }

    /// Number-like types that take part in arithmetic.
    pub fn is_numeric(&self) -> bool {
        matches!(self, Ty::Number | Ty::Percent | Ty::Money | Ty::Price | Ty::Quantity | Ty::Duration | Ty::Unknown)
    }

    pub fn fields(&self) -> Option<&RecordTy> {
        match self {
            Ty::Record(r) => Some(r),
            Ty::Optional(inner) => inner.fields(),
            _ => None,
        }
    }

    /// Whether a value of type `self` may be used where `want` is expected.
    pub fn fits(&self, want: &Ty) -> bool {
        match (self, want) {
            (Ty::Unknown, _) | (_, Ty::Unknown) => true,
            (Ty::Money, Ty::Price) | (Ty::Price, Ty::Money) => true,
            (Ty::Number, Ty::Quantity) => true,
            (Ty::Symbol, Ty::SymbolSet) => false,
            (Ty::SymbolSet, Ty::List(t)) | (Ty::List(t), Ty::SymbolSet) => matches!(**t, Ty::Symbol | Ty::Unknown),
            (Ty::Variant(v), Ty::Enum(vs)) => vs.iter().any(|x| x == v),
            (Ty::Enum(a), Ty::Enum(b)) => a.iter().all(|x| b.contains(x)),
            (Ty::List(a), Ty::List(b)) => a.fits(b),
            (Ty::Optional(a), Ty::Optional(b)) => a.fits(b),
            (a, Ty::Optional(b)) => a.fits(b),
            (Ty::Record(a), Ty::Record(b)) => {
                b.fields.iter().all(|(n, t)| a.field(n).is_some_and(|at| at.fits(t)) || matches!(t, Ty::Optional(_)))
            }
            (a, b) => a == b,
        }
    }
}

/// A stdlib enum as a checker type, shared rather than rebuilt for each use.
fn std_enum(v: &'static [&'static str]) -> Ty {
    static ENUMS: std::sync::OnceLock<Vec<(usize, Ty)>> = std::sync::OnceLock::new();
    let known = ENUMS.get_or_init(|| {
        [strat_stdlib::SENTIMENT, strat_stdlib::DECISION, strat_stdlib::ORDER_TYPE, strat_stdlib::RISK_LEVEL]
            .iter()
            .map(|e| (e.as_ptr() as usize, Ty::enumeration(e)))
            .collect()
    });
    match known.iter().find(|(p, _)| *p == v.as_ptr() as usize) {
        Some((_, t)) => t.clone(),
        None => Ty::enumeration(v),
    }
}

/// A stdlib record as a checker type (unknown names give `Unknown`).
pub fn std_record(name: &str) -> Ty {
    match strat_stdlib::record(name) {
        Some(r) => {
            Ty::record(Some(r.name), r.fields.iter().map(|f| (f.name.to_string(), Ty::from_std(&f.ty))).collect())
        }
        None => Ty::Unknown,
    }
}

impl fmt::Display for Ty {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Ty::Number => f.write_str("number"),
            Ty::Bool => f.write_str("bool"),
            Ty::Text => f.write_str("text"),
            Ty::Percent => f.write_str("percent"),
            Ty::Money => f.write_str("money"),
            Ty::Price => f.write_str("price"),
            Ty::Quantity => f.write_str("quantity"),
            Ty::Duration => f.write_str("duration"),
            Ty::Symbol => f.write_str("symbol"),
            Ty::SymbolSet => f.write_str("symbol set"),
            Ty::TimeOfDay => f.write_str("time of day"),
            Ty::Date => f.write_str("date"),
            Ty::Timestamp => f.write_str("timestamp"),
            Ty::Enum(v) => f.write_str(&v.join(" | ")),
            Ty::Record(r) => match &r.name {
                Some(n) => f.write_str(n),
                None => {
                    f.write_str("{ ")?;
                    for (i, (n, t)) in r.fields.iter().enumerate() {
                        if i > 0 {
                            f.write_str(", ")?;
                        }
                        write!(f, "{n}: {t}")?;
                    }
                    f.write_str(" }")
                }
            },
            Ty::List(t) => write!(f, "list<{t}>"),
            Ty::Optional(t) => write!(f, "{t}?"),
            Ty::Variant(v) => write!(f, "`{v}`"),
            Ty::Unknown => f.write_str("unknown"),
        }
    }
}

/// Result type of `lhs op rhs` for `+ - * /`, or `None` when the units do not combine.
pub fn arith(op: crate::syntax::ast::BinOp, l: &Ty, r: &Ty) -> Option<Ty> {
    use crate::syntax::ast::BinOp::*;
    use Ty::*;
    if l.is_unknown() || r.is_unknown() {
        return Some(Unknown);
    }
    let unitful = |t: &Ty| matches!(t, Percent | Money | Price | Quantity | Duration);
    Some(match (op, l, r) {
        (Add | Sub, Number, Number) => Number,
        (Add | Sub, Money, Price) | (Add | Sub, Price, Money) => Price,
        (Add | Sub, a, b) if a == b && unitful(a) => a.clone(),
        (Mul, Number, Number) => Number,
        (Mul, Number, t) | (Mul, t, Number) if unitful(t) => t.clone(),
        (Mul, Percent, t) | (Mul, t, Percent) if unitful(t) => t.clone(),
        (Mul, Price, Quantity) | (Mul, Quantity, Price) => Money,
        (Div, Number, Number) => Number,
        (Div, t, Number) if unitful(t) => t.clone(),
        (Div, t, Percent) if unitful(t) && *t != Percent => t.clone(),
        (Div, Money, Price) => Quantity,
        (Div, Money, Quantity) => Price,
        (Div, Money | Price, Money | Price) => Number,
        (Div, a, b) if a == b && unitful(a) => Number,
        _ => return None,
    })
}

/// Whether two types may be compared with `<`, `==`, `crosses above` and the like.
pub fn comparable(l: &Ty, r: &Ty) -> bool {
    match (l, r) {
        (Ty::Unknown, _) | (_, Ty::Unknown) => true,
        (Ty::Money | Ty::Price, Ty::Money | Ty::Price) => true,
        (Ty::Quantity, Ty::Number) | (Ty::Number, Ty::Quantity) => true,
        (Ty::Enum(vs), Ty::Variant(v)) | (Ty::Variant(v), Ty::Enum(vs)) => vs.contains(v),
        (Ty::Enum(a), Ty::Enum(b)) => a.iter().any(|x| b.contains(x)),
        (Ty::Optional(a), b) | (b, Ty::Optional(a)) => comparable(a, b),
        (a, b) => a == b,
    }
}

/// Types ordered by `<` and `>` (equality works on everything comparable).
pub fn ordered(t: &Ty) -> bool {
    t.is_numeric() || matches!(t, Ty::TimeOfDay | Ty::Date | Ty::Timestamp | Ty::Optional(_))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::syntax::ast::BinOp;

    #[test]
    fn unit_arithmetic() {
        assert_eq!(arith(BinOp::Mul, &Ty::Price, &Ty::Quantity), Some(Ty::Money));
        assert_eq!(arith(BinOp::Div, &Ty::Money, &Ty::Price), Some(Ty::Quantity));
        assert_eq!(arith(BinOp::Div, &Ty::Money, &Ty::Money), Some(Ty::Number));
        assert_eq!(arith(BinOp::Div, &Ty::Price, &Ty::Price), Some(Ty::Number));
        assert_eq!(arith(BinOp::Mul, &Ty::Number, &Ty::Money), Some(Ty::Money));
        assert_eq!(arith(BinOp::Mul, &Ty::Percent, &Ty::Money), Some(Ty::Money));
        assert_eq!(arith(BinOp::Add, &Ty::Money, &Ty::Percent), None);
        assert_eq!(arith(BinOp::Add, &Ty::Number, &Ty::Percent), None);
        assert_eq!(arith(BinOp::Sub, &Ty::Duration, &Ty::Duration), Some(Ty::Duration));
        assert_eq!(arith(BinOp::Div, &Ty::Money, &Ty::Quantity), Some(Ty::Price));
    }

    #[test]
    fn comparisons() {
        assert!(comparable(&Ty::Price, &Ty::Money));
        assert!(!comparable(&Ty::Number, &Ty::Percent));
        let e = Ty::enumeration(&["buy", "sell"]);
        assert!(comparable(&e, &Ty::Variant("buy".into())));
        assert!(!comparable(&e, &Ty::Variant("hold".into())));
    }
}
