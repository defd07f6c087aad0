//! Records (named field sets), built-in values and context sources.

use crate::types::{ContextSource, Field, Global, Record, Ty};

pub static SENTIMENT: &[&str] = &["positive", "negative", "neutral"];
pub static DECISION: &[&str] = &["buy", "sell", "hold"];
pub static ORDER_TYPE: &[&str] = &["market", "limit", "stop", "stop_limit"];
pub static RISK_LEVEL: &[&str] = &["low", "medium", "high"];

const fn f(name: &'static str, ty: Ty, doc: &'static str) -> Field {
    Field { name, ty, doc }
}

pub static RECORDS: &[Record] = &[
    Record {
        name: "macd",
        doc: "Result of `macd(…)`.",
        fields: &[
            f("macd", Ty::Number, "fast EMA minus slow EMA"),
            f("signal", Ty::Number, "EMA of the macd line"),
            f("histogram", Ty::Number, "macd minus signal"),
        ],
    },
    Record {
        name: "bollinger",
        doc: "Result of `bollinger(…)`.",
        fields: &[
            f("upper", Ty::Price, "middle plus k standard deviations"),
            f("middle", Ty::Price, "simple moving average"),
            f("lower", Ty::Price, "middle minus k standard deviations"),
        ],
    },
    Record {
        name: "position",
        doc: "A holding in one symbol.",
        fields: &[
            f("symbol", Ty::Symbol, "the symbol held"),
            f("quantity", Ty::Quantity, "shares held (zero when flat)"),
            f("avg_cost", Ty::Price, "average cost per share"),
            f("current_price", Ty::Price, "latest close"),
            f("market_value", Ty::Money, "quantity × current price"),
            f("unrealized_pnl", Ty::Money, "market value minus cost"),
            f("pnl_percent", Ty::Percent, "unrealised P&L as a percent of cost"),
        ],
    },
    Record {
        name: "portfolio",
        doc: "The account as of now.",
        fields: &[
            f("cash", Ty::Money, "cash balance"),
            f("buying_power", Ty::Money, "what new orders may spend"),
            f("total_value", Ty::Money, "cash plus the market value of all positions"),
            f("positions", Ty::List(&Ty::Record("position")), "open positions"),
            f("positions_count", Ty::Number, "number of open positions"),
            f("daily_pnl", Ty::Money, "change in total value since the previous close"),
        ],
    },
    Record {
        name: "news_summary",
        doc: "Summary of recent news about a symbol.",
        fields: &[
            f("sentiment", Ty::Enum(SENTIMENT), "overall sentiment"),
            f("score", Ty::Number, "sentiment score from -1 (negative) to 1 (positive)"),
            f("count", Ty::Number, "number of articles"),
            f("relevance", Ty::Number, "highest relevance, 0 to 1"),
            f("latest_title", Ty::Text, "title of the newest article"),
        ],
    },
    Record {
        name: "article",
        doc: "One news article.",
        fields: &[
            f("title", Ty::Text, "headline"),
            f("summary", Ty::Text, "short summary"),
            f("sentiment", Ty::Enum(SENTIMENT), "sentiment label"),
            f("relevance", Ty::Number, "relevance to the symbol, 0 to 1"),
            f("symbol", Ty::Symbol, "the main symbol the article is about"),
            f("symbols", Ty::List(&Ty::Symbol), "every symbol mentioned"),
            f("published_at", Ty::Timestamp, "publication time"),
            f("source", Ty::Text, "publisher"),
            f("url", Ty::Text, "link to the article"),
        ],
    },
    Record {
        name: "trigger",
        doc: "What fired the current run. `article` exists for news triggers, `payload` for webhooks.",
        fields: &[
            f("kind", Ty::Text, "schedule, condition, news, webhook, bar or manual"),
            f("reason", Ty::Text, "a readable description of why it fired"),
            f("symbol", Ty::Symbol, "the symbol it fired for"),
            f("time", Ty::Timestamp, "when it fired"),
            f("article", Ty::Record("article"), "the article (news triggers)"),
            f("payload", Ty::Text, "the request body (webhook triggers)"),
        ],
    },
    Record {
        name: "decision",
        doc: "The default answer of a trading agent's model, decoded and validated before any order.",
        fields: &[
            f("decision", Ty::Enum(DECISION), "what to do"),
            f("symbol", Ty::Symbol, "which symbol"),
            f("quantity", Ty::Quantity, "how many shares"),
            f("order_type", Ty::Enum(ORDER_TYPE), "order type"),
            f("limit_price", Ty::Price, "limit price, for limit orders"),
            f("reasoning", Ty::Text, "why"),
            f("confidence", Ty::Number, "0 to 1"),
            f("risk_assessment", Ty::Enum(RISK_LEVEL), "the model's view of the risk"),
        ],
    },
    Record {
        name: "limits",
        doc: "The limits in force, for use in prompts (`{{limits.max_position}}`).",
        fields: &[
            f("max_position", Ty::Money, "largest value of one position"),
            f("max_allocation", Ty::Percent, "largest share of the portfolio for one trade"),
            f("max_daily_trades", Ty::Number, "orders per day"),
            f("allow", Ty::SymbolSet, "symbols that may be traded"),
            f("block", Ty::SymbolSet, "symbols that may not be traded"),
            f("max_vix", Ty::Number, "no trading above this VIX"),
            f("market_hours_only", Ty::Bool, "trade only while the market is open"),
            f("max_sector_exposure", Ty::Percent, "largest share in one sector"),
            f("min_confidence", Ty::Number, "smallest model confidence acted on"),
            f("stop_loss", Ty::Percent, "stop distance below entry"),
            f("take_profit", Ty::Percent, "profit target above entry"),
            f("max_drawdown", Ty::Percent, "pause when the drawdown exceeds this"),
            f("min_avg_pnl", Ty::Money, "pause when the average P&L per trade falls below this"),
            f("max_volatility", Ty::Percent, "no new positions above this annualised volatility"),
            f("min_liquidity", Ty::Quantity, "smallest average daily volume"),
        ],
    },
    Record {
        name: "performance",
        doc: "The agent's recent results.",
        fields: &[
            f("win_rate_30d", Ty::Percent, "share of winning trades over 30 days"),
            f("pnl_30d", Ty::Money, "realised P&L over 30 days"),
            f("trades_30d", Ty::Number, "trades over 30 days"),
            f(
                "recent_trades",
                Ty::List(&Ty::Record("trade")),
                "its last 10 closed trades within 30 days, oldest first, as of now",
            ),
        ],
    },
    Record {
        name: "trade",
        doc: "A closed trade: a sale against the position's average cost.",
        fields: &[
            f("symbol", Ty::Symbol, "the symbol sold"),
            f("side", Ty::Text, "`sell`: the order that closed it"),
            f("quantity", Ty::Quantity, "shares sold"),
            f("pnl", Ty::Money, "realised profit or loss"),
            f("date", Ty::Timestamp, "when it was sold"),
        ],
    },
];

pub static GLOBALS: &[Global] = &[
    Global { name: "portfolio", ty: Ty::Record("portfolio"), doc: "The account as of now." },
    Global { name: "trigger", ty: Ty::Record("trigger"), doc: "What fired the current run." },
    Global { name: "limits", ty: Ty::Record("limits"), doc: "The limits in force." },
    Global { name: "performance", ty: Ty::Record("performance"), doc: "The agent's recent results." },
    Global { name: "market_hours", ty: Ty::Bool, doc: "True while the market is open." },
    Global { name: "now", ty: Ty::Timestamp, doc: "The evaluation instant given by the host clock." },
];

pub static CONTEXT_SOURCES: &[ContextSource] = &[
    ContextSource {
        name: "prices",
        takes_symbols: true,
        takes_window: false,
        doc: "Latest price, change and volume of each symbol.",
        ty: Ty::SymbolSet,
    },
    ContextSource {
        name: "indicators",
        takes_symbols: true,
        takes_window: false,
        doc: "RSI, MACD, moving averages (20, 50, 200) and Bollinger bands of each symbol.",
        ty: Ty::SymbolSet,
    },
    ContextSource {
        name: "portfolio",
        takes_symbols: false,
        takes_window: false,
        doc: "Cash, buying power, total value and positions.",
        ty: Ty::Record("portfolio"),
    },
    ContextSource {
        name: "news",
        takes_symbols: true,
        takes_window: true,
        doc: "Articles about the symbols published within the window, with sentiment and relevance.",
        ty: Ty::List(&Ty::Record("article")),
    },
    ContextSource {
        name: "previous_decisions",
        takes_symbols: false,
        takes_window: false,
        doc: "Decisions of earlier team members in this run.",
        ty: Ty::List(&Ty::Record("decision")),
    },
    ContextSource {
        name: "performance",
        takes_symbols: false,
        takes_window: false,
        doc: "The agent's results over the last 30 days.",
        ty: Ty::Record("performance"),
    },
    ContextSource {
        name: "market_hours",
        takes_symbols: false,
        takes_window: false,
        doc: "Whether the market is open now.",
        ty: Ty::Bool,
    },
    ContextSource {
        name: "trigger",
        takes_symbols: false,
        takes_window: false,
        doc: "What fired the run (always included).",
        ty: Ty::Record("trigger"),
    },
];

pub fn record(name: &str) -> Option<&'static Record> {
    RECORDS.iter().find(|r| r.name == name)
}

pub fn global(name: &str) -> Option<&'static Global> {
    GLOBALS.iter().find(|g| g.name == name)
}

pub fn context_source(name: &str) -> Option<&'static ContextSource> {
    CONTEXT_SOURCES.iter().find(|c| c.name == name)
}
