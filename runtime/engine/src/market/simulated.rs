//! The simulated market: the embedded default when no data is given. Seeded geometric random
//! walks with volume for several symbols, on NYSE trading days, with occasional synthetic news
//! events that move the price. Everything it produces is labelled as simulated.

use super::Bar;
use super::calendar;
use crate::news::{Article, Sentiment};
use chrono::{Duration, NaiveDate};
use std::collections::BTreeMap;

/// Shown wherever simulated data appears.
pub const LABEL: &str = "simulated market (seeded random walk, not real prices)";

/// One symbol's random walk: starting price, yearly drift and yearly volatility, typical
/// shares traded per day.
#[derive(Debug, Clone, PartialEq)]
pub struct Walk {
    pub symbol: String,
    pub start_price: f64,
    pub drift: f64,
    pub volatility: f64,
    pub daily_volume: f64,
    /// Whether synthetic company news moves it (not for an index such as VIX).
    pub news: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Config {
    pub seed: u64,
    pub walks: Vec<Walk>,
    pub start: NaiveDate,
    /// Trading days to generate.
    pub days: usize,
    /// Bar length in minutes: 1, 5, 15, 30, 60 or 390 (one bar per session).
    pub bar_minutes: u32,
    /// Chance per symbol and trading day of a news event.
    pub news_rate: f64,
}

impl Default for Config {
    /// Five large US stocks, SPY and VIX, daily bars, one year from 2024-01-02.
    fn default() -> Config {
        let w = |s: &str, p: f64, d: f64, v: f64, vol: f64| Walk {
            symbol: s.to_string(),
            start_price: p,
            drift: d,
            volatility: v,
            daily_volume: vol,
            news: true,
        };
        Config {
            seed: 42,
            walks: vec![
                w("SPY", 470.0, 0.07, 0.15, 80e6),
                w("AAPL", 185.0, 0.10, 0.25, 55e6),
                w("MSFT", 370.0, 0.10, 0.24, 25e6),
                w("GOOGL", 140.0, 0.09, 0.28, 30e6),
                w("AMZN", 150.0, 0.11, 0.32, 45e6),
                w("META", 350.0, 0.12, 0.38, 18e6),
                // The volatility index, so limits such as `max_vix` can be evaluated: no
                // volume, no company news; its drift offsets the walk's downward pull.
                Walk { news: false, ..w("VIX", 16.0, 0.4, 0.9, 0.0) },
            ],
            start: NaiveDate::from_ymd_opt(2024, 1, 2).unwrap_or_default(),
            days: 252,
            bar_minutes: 390,
            news_rate: 0.02,
        }
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Simulated {
    pub bars: BTreeMap<String, Vec<Bar>>,
    /// Synthetic articles; each one's `source` is [`LABEL`] and its title starts `[simulated]`.
    pub news: Vec<Article>,
}

/// SplitMix64: small, fast and fully determined by its seed.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in (0, 1).
    fn uniform(&mut self) -> f64 {
        ((self.next_u64() >> 11) as f64 + 0.5) / (1u64 << 53) as f64
    }

    /// Standard normal, by Box–Muller.
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.uniform(), self.uniform());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// Generates the market. The same configuration always gives the same bars and news.
pub fn simulate(config: &Config) -> Simulated {
    let minutes = config.bar_minutes.clamp(1, 390);
    let bars_per_day = (390 / minutes).max(1) as usize;
    let dt = 1.0 / (252.0 * bars_per_day as f64);
    let mut days = Vec::with_capacity(config.days);
    let mut d = config.start;
    while days.len() < config.days {
        if calendar::is_trading_day(d) {
            days.push(d);
        }
        d = d.succ_opt().unwrap_or(d);
    }
    let mut out = Simulated { bars: BTreeMap::new(), news: Vec::new() };
    for (k, w) in config.walks.iter().enumerate() {
        let mut rng = Rng(config.seed ^ (k as u64 + 1).wrapping_mul(0x2545_f491_4f6c_dd1d));
        let mut price = w.start_price.max(0.01);
        let mut bars = Vec::with_capacity(days.len() * bars_per_day);
        let sd = w.volatility * dt.sqrt();
        for day in &days {
            // A news event moves the price at the open, in the direction of its sentiment.
            let mut gap = 0.0;
            if w.news && rng.uniform() < config.news_rate {
                let up = rng.uniform() < 0.5;
                let size = 0.02 + 0.04 * rng.uniform();
                gap = if up { size } else { -size };
                // Headlines of the kinds news triggers look for; the pick follows from the
                // size already drawn, so the random walk is the same with or without news.
                let pick = (((size - 0.02) / 0.04 * 3.0) as usize).min(2);
                let sym = &w.symbol;
                let headline = match (up, pick) {
                    (true, 0) => format!("{sym} beats earnings estimates"),
                    (true, 1) => format!("{sym} raises full-year guidance"),
                    (true, _) => format!("Analyst upgrade for {sym}"),
                    (false, 0) => format!("{sym} misses earnings estimates"),
                    (false, 1) => format!("{sym} cuts full-year guidance"),
                    (false, _) => format!("Analyst downgrade for {sym}"),
                };
                let title = format!("[simulated] {headline}");
                out.news.push(Article {
                    published: day.and_time(calendar::OPEN) - Duration::minutes(30),
                    symbol: w.symbol.clone(),
                    symbols: vec![w.symbol.clone()],
                    summary: format!(
                        "Generated by the simulated market, not real news: {sym} {} on a synthetic {} event.",
                        if up { "jumps" } else { "slides" },
                        if up { "positive" } else { "negative" }
                    ),
                    title,
                    sentiment: if up { Sentiment::Positive } else { Sentiment::Negative },
                    relevance: 0.6 + 0.4 * rng.uniform(),
                    source: LABEL.to_string(),
                    url: String::new(),
                });
            }
            // Early closes shorten the session: bars stop at the close.
            let today = match calendar::session(*day) {
                Some((open, close)) if bars_per_day > 1 => {
                    (((close - open).num_minutes() as u32 / minutes) as usize).clamp(1, bars_per_day)
                }
                _ => bars_per_day,
            };
            for i in 0..today {
                let open = if i == 0 { price * (1.0 + gap + 0.002 * rng.normal()) } else { price };
                let ret = (w.drift - 0.5 * w.volatility * w.volatility) * dt + sd * rng.normal();
                let close = (open * ret.exp()).max(0.01);
                let wick = |r: &mut Rng| (0.5 * sd * r.normal()).abs();
                let high = open.max(close) * (1.0 + wick(&mut rng));
                let low = (open.min(close) * (1.0 - wick(&mut rng))).max(0.005);
                let volume = (w.daily_volume / bars_per_day as f64
                    * (0.6 + 0.8 * rng.uniform())
                    * (1.0 + 20.0 * ret.abs() + 5.0 * gap.abs()))
                .round();
                let time = if bars_per_day == 1 {
                    day.and_time(chrono::NaiveTime::MIN)
                } else {
                    day.and_time(calendar::OPEN) + Duration::minutes(i64::from(minutes) * i as i64)
                };
                bars.push(Bar { time, open, high, low, close, volume });
                price = close;
            }
        }
        out.bars.insert(w.symbol.clone(), bars);
    }
    out.news.sort_by(|a, b| (a.published, &a.symbol).cmp(&(b.published, &b.symbol)));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_market() {
        let c = Config::default();
        assert_eq!(simulate(&c), simulate(&c));
        let other = simulate(&Config { seed: 7, ..Config::default() });
        assert_ne!(other.bars["SPY"], simulate(&c).bars["SPY"]);
    }

    #[test]
    fn bars_are_valid_and_on_trading_days() {
        let m = simulate(&Config::default());
        assert_eq!(m.bars.len(), 7);
        for (symbol, bars) in &m.bars {
            assert_eq!(bars.len(), 252);
            for b in bars {
                assert!(calendar::is_trading_day(b.time.date()));
                assert!(b.low > 0.0 && b.low <= b.open.min(b.close) && b.high >= b.open.max(b.close), "{b:?}");
                // An index trades no shares of its own.
                assert_eq!(b.volume > 0.0, symbol != "VIX", "{symbol}: {b:?}");
            }
            assert!(bars.windows(2).all(|w| w[0].time < w[1].time));
        }
    }

    #[test]
    fn vix_is_simulated_without_company_news_in_a_plausible_range() {
        let m = simulate(&Config { news_rate: 0.5, ..Config::default() });
        assert!(m.news.iter().all(|n| n.symbol != "VIX"));
        let vix = &m.bars["VIX"];
        assert!(
            vix.iter().all(|b| (3.0..150.0).contains(&b.close)),
            "{:?}",
            vix.iter().map(|b| b.close).fold(0.0, f64::max)
        );
    }

    #[test]
    fn returns_have_the_configured_volatility() {
        let c = Config { days: 2520, news_rate: 0.0, ..Config::default() };
        let bars = &simulate(&c).bars["AAPL"];
        let rets: Vec<f64> = bars.windows(2).map(|w| (w[1].close / w[0].close).ln()).collect();
        let mean = rets.iter().sum::<f64>() / rets.len() as f64;
        let var = rets.iter().map(|r| (r - mean).powi(2)).sum::<f64>() / rets.len() as f64;
        let yearly = (var * 252.0).sqrt();
        // 25% a year plus the small open noise; ten years of days pin it within a few points.
        assert!((yearly - 0.25).abs() < 0.03, "{yearly}");
    }

    #[test]
    fn news_is_labelled_and_moves_the_price() {
        let m = simulate(&Config { news_rate: 0.2, ..Config::default() });
        assert!(m.news.len() > 100);
        assert!(m.news.iter().all(|n| n.source == LABEL && n.title.starts_with("[simulated]")));
        let positive = m.news.iter().filter(|n| n.sentiment == Sentiment::Positive).count();
        assert!(positive > 0 && positive < m.news.len());
        // The next open gaps in the direction of the news (2–6%, against 0.2% open noise).
        for n in m.news.iter().filter(|n| n.published.date() > Config::default().start) {
            let bars = &m.bars[&n.symbol];
            let i = bars.iter().position(|b| b.time.date() == n.published.date()).expect("bar that day");
            let gap = bars[i].open / bars[i - 1].close - 1.0;
            match n.sentiment {
                Sentiment::Positive => assert!(gap > 0.01, "{} {gap}", n.title),
                Sentiment::Negative => assert!(gap < -0.01, "{} {gap}", n.title),
                Sentiment::Neutral => {}
            }
        }
    }

    #[test]
    fn intraday_bars_stop_at_an_early_close() {
        // 2024-11-29, the day after Thanksgiving, closes at 13:00.
        let start = NaiveDate::from_ymd_opt(2024, 11, 29).unwrap_or_default();
        let m = simulate(&Config { days: 1, bar_minutes: 30, start, ..Config::default() });
        let spy = &m.bars["SPY"];
        assert_eq!(spy.len(), 7);
        assert_eq!(spy.last().map(|b| b.time.time().to_string()), Some("12:30:00".to_string()));
    }

    #[test]
    fn intraday_bars_fill_the_session() {
        let m = simulate(&Config { days: 2, bar_minutes: 5, ..Config::default() });
        let spy = &m.bars["SPY"];
        assert_eq!(spy.len(), 2 * 78);
        assert_eq!(spy[0].time.time(), calendar::OPEN);
        assert_eq!(spy[77].time.time().to_string(), "15:55:00");
    }
}
