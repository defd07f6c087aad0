//! News articles as the runtime sees them, and the news triggers' filter.

use chrono::NaiveDateTime;

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Sentiment {
    Positive,
    Negative,
    Neutral,
}

impl Sentiment {
    pub fn name(self) -> &'static str {
        match self {
            Sentiment::Positive => "positive",
            Sentiment::Negative => "negative",
            Sentiment::Neutral => "neutral",
        }
    }

    /// 1, -1 or 0.
    pub fn score(self) -> f64 {
        match self {
            Sentiment::Positive => 1.0,
            Sentiment::Negative => -1.0,
            Sentiment::Neutral => 0.0,
        }
    }
}

/// One article.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Article {
    pub published: NaiveDateTime,
    /// The main symbol it is about.
    pub symbol: String,
    /// Every symbol it mentions (the main one first).
    pub symbols: Vec<String>,
    pub title: String,
    pub summary: String,
    pub sentiment: Sentiment,
    /// Relevance to the main symbol, 0 to 1.
    pub relevance: f64,
    pub source: String,
    pub url: String,
}

impl Article {
    pub fn to_value(&self) -> crate::value::Value {
        use crate::value::Value;
        Value::record([
            ("title", Value::Text(self.title.clone())),
            ("summary", Value::Text(self.summary.clone())),
            ("sentiment", Value::Text(self.sentiment.name().to_string())),
            ("relevance", Value::Num(self.relevance)),
            ("symbol", Value::Symbol(self.symbol.clone())),
            ("symbols", Value::List(self.symbols.iter().map(|s| Value::Symbol(s.clone())).collect())),
            ("published_at", Value::Text(self.published.to_string())),
            ("source", Value::Text(self.source.clone())),
            ("url", Value::Text(self.url.clone())),
        ])
    }
}

/// What a `news(...)` trigger matches.
#[derive(Debug, Clone, PartialEq)]
pub struct Filter {
    /// Any of these words in the title or summary (case ignored); empty: any article.
    pub keywords: Vec<String>,
    /// About any of these symbols; empty: any symbol.
    pub symbols: Vec<String>,
    /// `None` or `any`: any sentiment.
    pub sentiment: Option<Sentiment>,
    pub min_relevance: f64,
}

impl Filter {
    pub fn matches(&self, a: &Article) -> bool {
        let text = || format!("{} {}", a.title, a.summary).to_lowercase();
        (self.keywords.is_empty() || {
            let t = text();
            self.keywords.iter().any(|k| t.contains(&k.to_lowercase()))
        }) && (self.symbols.is_empty() || a.symbols.iter().any(|s| self.symbols.contains(s)))
            && self.sentiment.is_none_or(|s| s == a.sentiment)
            && a.relevance >= self.min_relevance
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn article(title: &str, sym: &str, sentiment: Sentiment, relevance: f64) -> Article {
        Article {
            published: NaiveDateTime::default(),
            symbol: sym.into(),
            symbols: vec![sym.into()],
            title: title.into(),
            summary: String::new(),
            sentiment,
            relevance,
            source: "test".into(),
            url: String::new(),
        }
    }

    #[test]
    fn a_filter_needs_every_condition() {
        let f = Filter {
            keywords: vec!["Earnings".into()],
            symbols: vec!["AAPL".into()],
            sentiment: Some(Sentiment::Positive),
            min_relevance: 0.6,
        };
        assert!(f.matches(&article("AAPL earnings beat", "AAPL", Sentiment::Positive, 0.9)));
        assert!(!f.matches(&article("AAPL earnings beat", "MSFT", Sentiment::Positive, 0.9)));
        assert!(!f.matches(&article("AAPL earnings beat", "AAPL", Sentiment::Negative, 0.9)));
        assert!(!f.matches(&article("AAPL earnings beat", "AAPL", Sentiment::Positive, 0.5)));
        assert!(!f.matches(&article("AAPL guidance", "AAPL", Sentiment::Positive, 0.9)));
    }
}
