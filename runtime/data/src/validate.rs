//! The checks every loaded bar passes, whatever its source.

use super::Bar;

/// The largest price a bar may hold: past it a figure is a unit or data error, not a share.
pub const MAX_PRICE: f64 = 1e9;
/// The largest volume a bar may hold.
pub const MAX_VOLUME: f64 = 1e15;

/// Whether a bar passes [`check_bar`]: the one test the loaders' fast paths take as well.
#[inline]
pub(crate) fn sound(b: &Bar) -> bool {
    // NaN fails every comparison.
    let price = |v: f64| 0.0 < v && v <= MAX_PRICE;
    let within = |v: f64| b.low <= v && v <= b.high;
    price(b.open)
        && price(b.high)
        && price(b.low)
        && price(b.close)
        && within(b.open)
        && within(b.close)
        && (0.0 <= b.volume && b.volume <= MAX_VOLUME || b.volume.is_nan())
}

/// Prices finite, positive and at most [`MAX_PRICE`]; open and close within [low, high];
/// volume not negative and at most [`MAX_VOLUME`], or NaN: not given (a file without a volume
/// column; a `NaN` written in the file is refused when it is read).
#[inline]
pub fn check_bar(b: &Bar) -> Result<(), String> {
    if sound(b) {
        return Ok(());
    }
    explain(b)
}

/// The first thing wrong with a bar that is not [`sound`], for the message.
#[cold]
fn explain(b: &Bar) -> Result<(), String> {
    let volume = if b.volume.is_nan() { 0.0 } else { b.volume };
    for (name, v) in [("open", b.open), ("high", b.high), ("low", b.low), ("close", b.close), ("volume", volume)] {
        if !v.is_finite() {
            return Err(format!("{name} is {v}"));
        }
    }
    for (name, v) in [("open", b.open), ("high", b.high), ("low", b.low), ("close", b.close)] {
        if v <= 0.0 {
            return Err(format!("{name} price {v} is not positive"));
        }
        if v > MAX_PRICE {
            return Err(format!("{name} price {v:e} is over {MAX_PRICE:e}, more than any share trades at"));
        }
    }
    if b.high < b.low {
        return Err(format!("high {} is below low {}", b.high, b.low));
    }
    for (name, v) in [("open", b.open), ("close", b.close)] {
        if v < b.low || v > b.high {
            return Err(format!("{name} {v} is outside the bar's range, low {} to high {}", b.low, b.high));
        }
    }
    if volume < 0.0 {
        return Err(format!("volume {} is negative", b.volume));
    }
    if volume > MAX_VOLUME {
        return Err(format!("volume {:e} is over {MAX_VOLUME:e}", b.volume));
    }
    Ok(())
}

/// A bar may follow `prev` only strictly later in time.
#[inline]
pub(crate) fn follows(prev: Option<&Bar>, b: &Bar) -> Result<(), String> {
    match prev {
        Some(p) if b.time == p.time => Err(format!("duplicate timestamp {}", b.time)),
        Some(p) if b.time < p.time => {
            Err(format!("timestamp {} is earlier than the one before ({}): rows must run oldest first", b.time, p.time))
        }
        _ => Ok(()),
    }
}
