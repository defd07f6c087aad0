//! When to try a call again, and after how long: bounded retries with full-jitter exponential
//! backoff (AWS: `random(0, min(cap, base × 2^n))`), and the provider's `retry-after` honoured
//! the way its SDK does. The random numbers and the clock are injected, so tests are exact.

use std::time::Duration;

/// What to do with a `retry-after` longer than the policy honours.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TooLong {
    /// Ignore it and back off as usual (Anthropic's SDK).
    Backoff,
    /// Give up: the server asks for more patience than a call has (OpenAI's SDK).
    GiveUp,
}

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Policy {
    /// Retries after the first attempt.
    pub max_retries: u32,
    pub base: Duration,
    pub cap: Duration,
    /// The longest `retry-after` followed.
    pub honour_up_to: Duration,
    pub too_long: TooLong,
}

impl Policy {
    /// Anthropic's SDK: 0.5 s doubling to 8 s; `retry-after` followed when 0 < value ≤ 60 s.
    pub fn anthropic(max_retries: u32) -> Policy {
        Policy {
            max_retries,
            base: Duration::from_millis(500),
            cap: Duration::from_secs(8),
            honour_up_to: Duration::from_secs(60),
            too_long: TooLong::Backoff,
        }
    }

    /// OpenAI's SDK: the same backoff; `retry-after` followed up to 120 s, no retry beyond.
    pub fn openai(max_retries: u32) -> Policy {
        Policy { honour_up_to: Duration::from_secs(120), too_long: TooLong::GiveUp, ..Policy::anthropic(max_retries) }
    }

    /// The pause before retry `n` (0 for the first retry), or `None` to give up.
    pub fn pause(&self, n: u32, retry_after: Option<Duration>, rng: &mut Rng) -> Option<Duration> {
        if n >= self.max_retries {
            return None;
        }
        match retry_after {
            Some(d) if !d.is_zero() && d <= self.honour_up_to => return Some(d),
            Some(d) if !d.is_zero() && self.too_long == TooLong::GiveUp => return None,
            _ => {}
        }
        let ceiling = self.base.saturating_mul(1u32 << n.min(16)).min(self.cap);
        Some(ceiling.mul_f64(rng.unit()))
    }
}

/// `retry-after-ms` (milliseconds) or `retry-after` (seconds, or an HTTP date, which needs the
/// current Unix time `now`), from response headers with lower-case names.
pub fn retry_after(headers: &[(String, String)], now: Option<f64>) -> Option<Duration> {
    let get = |n: &str| headers.iter().find(|(k, _)| k == n).map(|(_, v)| v.trim());
    let secs = |s: f64| (0.0..1e9).contains(&s).then(|| Duration::from_secs_f64(s));
    if let Some(ms) = get("retry-after-ms").and_then(|v| v.parse::<f64>().ok()).and_then(|ms| secs(ms / 1e3)) {
        return Some(ms);
    }
    let v = get("retry-after")?;
    if let Ok(s) = v.parse::<f64>() {
        return secs(s);
    }
    let date = chrono::DateTime::parse_from_rfc2822(v).ok()?;
    secs(date.timestamp() as f64 - now?)
}

/// A small seeded generator (SplitMix64) for the jitter: deterministic for a seed.
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Rng {
        Rng(seed)
    }

    pub fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn h(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
    }

    #[test]
    fn backoff_is_full_jitter_under_a_doubling_cap_and_bounded() {
        let p = Policy::anthropic(3);
        let mut rng = Rng::new(7);
        let pauses: Vec<Duration> = (0..4).filter_map(|n| p.pause(n, None, &mut rng)).collect();
        assert_eq!(pauses.len(), 3, "three retries, then none");
        for (n, d) in pauses.iter().enumerate() {
            assert!(*d < Duration::from_millis(500 << n), "retry {n}: {d:?}");
        }
        assert_ne!(pauses[0], pauses[1]);
        // The same seed gives the same pauses.
        let mut again = Rng::new(7);
        assert_eq!(p.pause(0, None, &mut again), Some(pauses[0]));
        let long = Policy::anthropic(20);
        assert!(long.pause(19, None, &mut rng).is_some_and(|d| d <= Duration::from_secs(8)));
    }

    #[test]
    fn retry_after_is_honoured_as_each_sdk_does() {
        let mut rng = Rng::new(1);
        let two = Some(Duration::from_secs(2));
        assert_eq!(Policy::anthropic(2).pause(0, two, &mut rng), two);
        assert_eq!(Policy::openai(2).pause(0, two, &mut rng), two);
        let hour = Some(Duration::from_secs(3600));
        // Anthropic's SDK backs off on its own; OpenAI's gives up.
        assert!(Policy::anthropic(2).pause(0, hour, &mut rng).is_some_and(|d| d < Duration::from_millis(500)));
        assert_eq!(Policy::openai(2).pause(0, hour, &mut rng), None);
        assert_eq!(Policy::openai(2).pause(2, two, &mut rng), None, "no retries left");
    }

    #[test]
    fn retry_after_headers_in_all_their_forms() {
        assert_eq!(retry_after(&h(&[("retry-after", "2")]), None), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(&h(&[("retry-after", "1.5")]), None), Some(Duration::from_millis(1500)));
        assert_eq!(
            retry_after(&h(&[("retry-after", "9"), ("retry-after-ms", "250")]), None),
            Some(Duration::from_millis(250))
        );
        let date = h(&[("retry-after", "Wed, 21 Oct 2015 07:28:00 GMT")]);
        assert_eq!(retry_after(&date, Some(1_445_412_470.0)), Some(Duration::from_secs(10)));
        assert_eq!(retry_after(&date, None), None);
        assert_eq!(retry_after(&h(&[("retry-after", "soon")]), None), None);
        assert_eq!(retry_after(&h(&[("retry-after", "-3")]), None), None);
        assert_eq!(retry_after(&[], None), None);
    }
}
