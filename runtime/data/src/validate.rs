//! The checks every loaded bar passes, whatever its source.

use super::Bar;

/// Prices finite and positive, high not below low, volume finite and not negative.
#[inline]
pub(crate) fn check_bar(b: &Bar) -> Result<(), String> {
    // The usual case in one test (NaN fails every comparison); the checks below then find
    // the first thing wrong, in their order, for the message.
    let price = |v: f64| 0.0 < v && v < f64::INFINITY;
    let volume = 0.0 <= b.volume && b.volume < f64::INFINITY;
    if price(b.open) && price(b.high) && price(b.low) && price(b.close) && b.low <= b.high && volume {
        return Ok(());
    }
    explain(b)
}

#[cold]
fn explain(b: &Bar) -> Result<(), String> {
    for (name, v) in [("open", b.open), ("high", b.high), ("low", b.low), ("close", b.close), ("volume", b.volume)] {
        if !v.is_finite() {
            return Err(format!("{name} is {v}"));
        }
    }
    for (name, v) in [("open", b.open), ("high", b.high), ("low", b.low), ("close", b.close)] {
        if v <= 0.0 {
            return Err(format!("{name} price {v} is not positive"));
        }
    }
    if b.high < b.low {
        return Err(format!("high {} is below low {}", b.high, b.low));
    }
    if b.volume < 0.0 {
        return Err(format!("volume {} is negative", b.volume));
    }
    Ok(())
}

/// A bar may follow `prev` only strictly later in time.
#[inline]
pub(crate) fn follows(prev: Option<&Bar>, b: &Bar) -> Result<(), String> {
    match prev {
        Some(p) if b.time == p.time => Err(format!("duplicate timestamp {}", b.time)),
        Some(p) if b.time < p.time => Err(format!("timestamp {} is earlier than the one before ({})", b.time, p.time)),
        _ => Ok(()),
    }
}
