//! Where notifications go: `$STRAT_HOME/notify.conf`, one channel a line, and the environment.
//!
//! ```text
//! webhook https://example.com/strat secret whsec_...   # signed (Standard Webhooks)
//! slack https://hooks.slack.com/services/...          # Slack-compatible incoming webhook
//! attempts 4                                          # tries per delivery (default 4)
//! backoff 500ms                                       # the first pause, doubled each time
//! ```
//!
//! `STRAT_NOTIFY_WEBHOOK` (with `STRAT_NOTIFY_WEBHOOK_SECRET`) and `STRAT_NOTIFY_SLACK` add a
//! channel each. A line that cannot be read is an error with its line number, never skipped.

use strat_service::notify::{Channel, Retry};
use strat_service::signature::Secret;

/// The channels and how deliveries are tried; none: notifications go to the log only.
pub fn channels() -> Result<(Vec<Channel>, Retry), String> {
    let path = crate::files::home().join("notify.conf");
    let text = match std::fs::read_to_string(&path) {
        Ok(t) => t,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
        Err(e) => return Err(format!("cannot read `{}`: {e}", path.display())),
    };
    let (mut out, mut retry) = parse(&text).map_err(|e| format!("{}: {e}", path.display()))?;
    let env = crate::settings::Env::load();
    if let Some(url) = env.get("STRAT_NOTIFY_WEBHOOK") {
        let secret = env.get("STRAT_NOTIFY_WEBHOOK_SECRET").map(|s| secret(&s)).transpose()?;
        out.push(Channel::Webhook { url, secret });
    }
    if let Some(url) = env.get("STRAT_NOTIFY_SLACK") {
        out.push(Channel::Slack { url });
    }
    if let Some(ms) = env.get("STRAT_NOTIFY_BACKOFF_MS").and_then(|v| v.parse().ok()) {
        retry.first_pause = std::time::Duration::from_millis(ms);
    }
    Ok((out, retry))
}

fn secret(text: &str) -> Result<Secret, String> {
    Secret::parse(text.trim()).map_err(|e| format!("the notification webhook's secret: {e}"))
}

fn url(word: Option<&str>, n: usize) -> Result<String, String> {
    match word {
        Some(u) if u.starts_with("https://") || u.starts_with("http://") => Ok(u.to_string()),
        Some(u) => Err(format!("line {n}: `{u}` is not an http(s) address")),
        None => Err(format!("line {n}: the channel needs its address")),
    }
}

fn parse(text: &str) -> Result<(Vec<Channel>, Retry), String> {
    let (mut out, mut retry) = (Vec::new(), Retry::default());
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let line = line.split('#').next().unwrap_or_default().trim();
        let mut words = line.split_whitespace();
        match words.next() {
            None => continue,
            Some("webhook") => {
                let url = url(words.next(), n)?;
                let secret = match (words.next(), words.next()) {
                    (None, _) => None,
                    (Some("secret"), Some(s)) => Some(secret(s).map_err(|e| format!("line {n}: {e}"))?),
                    _ => return Err(format!("line {n}: after the address comes `secret whsec_…` or nothing")),
                };
                out.push(Channel::Webhook { url, secret });
            }
            Some("slack") => out.push(Channel::Slack { url: url(words.next(), n)? }),
            Some("attempts") => {
                retry.attempts = words
                    .next()
                    .and_then(|w| w.parse().ok())
                    .filter(|a| *a > 0)
                    .ok_or(format!("line {n}: `attempts` takes a whole number from 1"))?;
            }
            Some("backoff") => {
                let w = words.next().unwrap_or_default();
                let ms = w
                    .strip_suffix("ms")
                    .and_then(|v| v.parse::<u64>().ok())
                    .or_else(|| w.strip_suffix('s').and_then(|v| v.parse::<u64>().ok()).map(|s| s * 1000));
                retry.first_pause = std::time::Duration::from_millis(
                    ms.ok_or(format!("line {n}: `backoff` takes a duration such as 500ms or 2s"))?,
                );
            }
            Some(other) => {
                return Err(format!("line {n}: `{other}` is not a setting (webhook, slack, attempts, backoff)"));
            }
        }
    }
    Ok((out, retry))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_and_retries_are_read_and_a_bad_line_is_an_error_with_its_number() {
        let (c, r) = parse("# where\nwebhook https://example.com/x secret whsec_C2FVsBQIhrscChlQIMV+b5sSYspob7oD\nslack https://hooks.example.com/T/B\nattempts 2\nbackoff 20ms\n").expect("reads");
        assert_eq!(c.len(), 2);
        assert_eq!((r.attempts, r.first_pause), (2, std::time::Duration::from_millis(20)));
        assert_eq!(c[1].name(), "slack hooks.example.com", "never the whole address");
        for (bad, said) in [
            ("pager https://x", "line 1: `pager` is not a setting"),
            ("slack ftp://x", "line 1: `ftp://x` is not an http(s) address"),
            ("\nwebhook https://x secret nope", "line 2: the notification webhook's secret"),
        ] {
            let e = parse(bad).err().unwrap_or_default();
            assert!(e.contains(said), "{bad}: {e}");
        }
    }
}
