//! Plain decimal numbers, `[+-]digits[.digits]`, read exactly.

/// Powers of ten, exact in `f64` (up to 10^22 they are).
const POW10: [f64; MAX_DIGITS + 1] =
    [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18];

/// Powers of ten up to 10^8, as the factor for a run of that many digits.
const TENS_U64: [u64; 9] = [1, 10, 100, 1_000, 10_000, 100_000, 1_000_000, 10_000_000, 100_000_000];

/// Powers of ten as integers, up to the most digits read here.
const TENS: [u64; MAX_DIGITS + 1] = {
    let mut t = [1u64; MAX_DIGITS + 1];
    let mut i = 1;
    while i < t.len() {
        t[i] = t[i - 1] * 10;
        i += 1;
    }
    t
};

/// At most this many digits (leading zeros included): `w` then stays below 2^63.
const MAX_DIGITS: usize = 18;

/// Reads `[+-]digits[.digits]` from `i` (one to 18 digits in all, leading zeros included)
/// and returns the value and where the digits end. `None` when the text there is not of that
/// form, or has an exponent: the caller then asks `str::parse`, which also decides every
/// case this function declines.
#[inline]
pub(super) fn parse(b: &[u8], mut i: usize) -> Option<(f64, usize)> {
    let negative = match b.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let (mut w, mut digits) = (0, 0);
    i = run(b, i, &mut w, &mut digits);
    let mut scale = 0usize;
    if b.get(i) == Some(&b'.') {
        let before = digits;
        i = run(b, i + 1, &mut w, &mut digits);
        scale = digits - before;
    }
    // Few enough digits that `w` has not wrapped; an exponent is left to `str::parse`.
    if digits == 0 || digits > MAX_DIGITS || matches!(b.get(i), Some(b'e' | b'E')) {
        return None;
    }
    let magnitude = value(w, scale)?;
    Some((if negative { -magnitude } else { magnitude }, i))
}

/// Appends the run of digits starting at `i` to `w` (it wraps past 19 digits; the caller
/// refuses more than 18), counts them into `digits`, and returns where the run ends. Eight
/// bytes at a time where the text allows.
#[inline]
fn run(b: &[u8], mut i: usize, w: &mut u64, digits: &mut usize) -> usize {
    while let Some(chunk) = b.get(i..i + 8).and_then(|s| <[u8; 8]>::try_from(s).ok()) {
        let (value, n) = eight(u64::from_le_bytes(chunk));
        *w = w.wrapping_mul(TENS_U64[n]).wrapping_add(value);
        *digits += n;
        i += n;
        if n < 8 {
            return i;
        }
    }
    while let Some(d) = b.get(i).map(|c| c.wrapping_sub(b'0')).filter(|d| *d <= 9) {
        *w = w.wrapping_mul(10).wrapping_add(u64::from(d));
        *digits += 1;
        i += 1;
    }
    i
}

/// The leading digits of eight bytes (the first byte lowest) as a number, and how many
/// there are (0 to 8).
#[inline]
fn eight(chunk: u64) -> (u64, usize) {
    // Digits become their values 0 to 9; any other byte becomes 10 or more, which shows in
    // the high bit once 0x76 is added (within 7 bits, so no carries), or had it already.
    let x = chunk ^ 0x3030_3030_3030_3030;
    let not_digit = (((x & 0x7f7f_7f7f_7f7f_7f7f) + 0x7676_7676_7676_7676) | x) & 0x8080_8080_8080_8080;
    let n = (not_digit.trailing_zeros() / 8) as usize;
    // The digits moved to the top, so that the bytes below them count as zeros.
    let Some(mut v) = x.checked_shl(8 * (8 - n) as u32) else { return (0, 0) };
    // Pairs of digits, then the four pairs: d0 is the most significant.
    v = v.wrapping_mul(10).wrapping_add(v >> 8);
    let pairs = 0x0000_00ff_0000_00ff;
    v = (v & pairs)
        .wrapping_mul(100 + (1_000_000 << 32))
        .wrapping_add(((v >> 16) & pairs).wrapping_mul(1 + (10_000 << 32)))
        >> 32;
    (v, n)
}

/// `w / 10^scale`, correctly rounded (to nearest, ties to even), as `str::parse` gives it.
/// `None` in the rare cases this does not settle.
#[inline]
pub(super) fn value(w: u64, scale: usize) -> Option<f64> {
    // Below 2^63: the conversion is one instruction, and rounds to nearest, ties to even.
    let whole = i64::try_from(w).ok()? as f64;
    if w == 0 || scale == 0 {
        return Some(whole);
    }
    let p = *POW10.get(scale)?;
    // With `w` up to 2^53, both operands are exact and the one division rounds correctly
    // (Clinger's fast path). Past that, the quotient of `w`'s rounding is within about a
    // unit in the last place. Either way it is checked, and its neighbours if need be,
    // against the exact value in integers: the check costs less than a branch on the size
    // of `w`, which prices of 16 and 17 digits make a coin toss.
    let mut bits = (whole / p).to_bits();
    for step in 0..3 {
        match settle(w, scale, bits) {
            Some(std::cmp::Ordering::Equal) => return Some(f64::from_bits(bits)),
            Some(std::cmp::Ordering::Less) => bits -= 1,
            Some(std::cmp::Ordering::Greater) => bits += 1,
            // Unsettled (a power of two, say): Clinger's quotient needs no check.
            None => return (step == 0 && w <= 1 << 53).then(|| f64::from_bits(bits)),
        }
    }
    None
}

/// Whether the positive normal `f64` with these bits is `w / 10^scale` correctly rounded
/// (`Equal`), or the correct value lies below (`Less`) or above (`Greater`). `None` where an
/// integer would overflow or the neighbours are not evenly spaced (a power of two).
#[inline]
fn settle(w: u64, scale: usize, bits: u64) -> Option<std::cmp::Ordering> {
    use std::cmp::Ordering::{Equal, Greater, Less};
    // Positive and normal: `w` is at least 1 and below 2^63, the scale at most 18.
    let biased = bits >> 52;
    let fraction = bits & ((1 << 52) - 1);
    if fraction == 0 {
        return None;
    }
    // The candidate is m · 2^e; the values that round to it lie within 2^(e-1) of it. With
    // both sides times 10^scale · 2^(1-e): |w · 2^(1-e) − 2m · 10^scale| against 10^scale.
    let m = fraction | (1 << 52);
    let e = biased as i64 - 1075;
    let ten = u128::from(*TENS.get(scale)?);
    let mid = u128::from(2 * m) * ten;
    let (x, mid, ten) = if e <= 1 {
        (shift(u128::from(w), 1 - e)?, mid, ten)
    } else {
        (u128::from(w), shift(mid, e - 1)?, shift(ten, e - 1)?)
    };
    let (diff, away) = if x >= mid { (x - mid, Greater) } else { (mid - x, Less) };
    // Halfway between two candidates, the even one is the rounding.
    Some(if diff < ten || (diff == ten && m.is_multiple_of(2)) { Equal } else { away })
}

/// `x · 2^s`, or `None` if it does not fit.
fn shift(x: u128, s: i64) -> Option<u128> {
    let s = u32::try_from(s).ok()?;
    (s < x.leading_zeros() || x == 0).then(|| x << s)
}
