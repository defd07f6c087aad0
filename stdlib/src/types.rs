//! The type vocabulary the standard library describes itself in.

/// A type as the stdlib describes it; the checker maps it to its own types.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Ty {
    Number,
    Bool,
    Text,
    Percent,
    Money,
    Price,
    Quantity,
    Duration,
    Symbol,
    SymbolSet,
    TimeOfDay,
    Date,
    Timestamp,
    Enum(&'static [&'static str]),
    /// The name of an entry of [`crate::RECORDS`].
    Record(&'static str),
    List(&'static Ty),
}

impl Ty {
    pub fn display(&self) -> String {
        match self {
            Ty::Number => "number".into(),
            Ty::Bool => "bool".into(),
            Ty::Text => "text".into(),
            Ty::Percent => "percent".into(),
            Ty::Money => "money".into(),
            Ty::Price => "price".into(),
            Ty::Quantity => "quantity".into(),
            Ty::Duration => "duration".into(),
            Ty::Symbol => "symbol".into(),
            Ty::SymbolSet => "symbol set".into(),
            Ty::TimeOfDay => "time of day".into(),
            Ty::Date => "date".into(),
            Ty::Timestamp => "timestamp".into(),
            Ty::Enum(v) => v.join(" | "),
            Ty::Record(n) => (*n).into(),
            Ty::List(t) => format!("list<{}>", t.display()),
        }
    }
}

pub struct Param {
    pub name: &'static str,
    pub ty: Ty,
    /// The default as source text (`"14"`, `"1d"`); `None` when the argument is required.
    pub default: Option<&'static str>,
    pub doc: &'static str,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Category {
    Price,
    Indicator,
    Volume,
    Portfolio,
    News,
    Market,
    Math,
    Time,
}

impl Category {
    pub fn title(self) -> &'static str {
        match self {
            Category::Price => "Prices",
            Category::Indicator => "Indicators",
            Category::Volume => "Volume",
            Category::Portfolio => "Portfolio",
            Category::News => "News",
            Category::Market => "Market",
            Category::Math => "Math",
            Category::Time => "Time",
        }
    }
}

/// How many bars a function needs before its value is defined.
pub enum Warmup {
    None,
    Param(&'static str),
    Text(&'static str),
}

/// Which builtin a function is: what the engine dispatches on, so that a function added to
/// the table cannot be forgotten by the compiler (its `match` is exhaustive).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Builtin {
    Price,
    Open,
    High,
    Low,
    Close,
    Change,
    Volume,
    AvgVolume,
    VolumeSpike,
    Sma,
    Ema,
    Rsi,
    Macd,
    Bollinger,
    Atr,
    Vwap,
    StdDev,
    Highest,
    Lowest,
    Holding,
    Position,
    MarketOpen,
    Vix,
    News,
    Abs,
    Min,
    Max,
    Floor,
    Round,
    TimeOfDay,
    Today,
    Weekday,
}

pub struct Function {
    pub id: Builtin,
    pub name: &'static str,
    pub params: &'static [Param],
    pub ret: Ty,
    pub category: Category,
    pub doc: &'static str,
    pub example: &'static str,
    pub warmup: Warmup,
}

pub struct Field {
    pub name: &'static str,
    pub ty: Ty,
    pub doc: &'static str,
}

pub struct Record {
    pub name: &'static str,
    pub doc: &'static str,
    pub fields: &'static [Field],
}

pub struct Global {
    pub name: &'static str,
    pub ty: Ty,
    pub doc: &'static str,
}

pub struct LimitField {
    pub name: &'static str,
    pub ty: Ty,
    pub doc: &'static str,
    pub min: Option<f64>,
    pub max: Option<f64>,
}

pub struct Provider {
    pub name: &'static str,
    pub doc: &'static str,
    pub models: &'static [&'static str],
    pub env_key: Option<&'static str>,
    pub params: &'static [Param],
}

pub struct Unit {
    pub suffix: &'static str,
    pub ty: Ty,
    pub doc: &'static str,
    pub seconds: Option<u64>,
}

pub struct ContextSource {
    pub name: &'static str,
    pub takes_symbols: bool,
    pub takes_window: bool,
    pub doc: &'static str,
    pub ty: Ty,
}
