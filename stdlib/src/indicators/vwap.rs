//! Volume-weighted average price of the current session.

/// Typical price `(high + low + close) / 3` weighted by volume, restarting when `session`
/// changes (for daily bars each bar is its own session).
#[derive(Debug, Clone, Default)]
pub struct Vwap {
    session: Option<u64>,
    pv: f64,
    volume: f64,
}

impl Vwap {
    pub fn new() -> Vwap {
        Vwap::default()
    }

    #[inline]
    pub fn push(&mut self, session: u64, high: f64, low: f64, close: f64, volume: f64) -> Option<f64> {
        if self.session != Some(session) {
            self.session = Some(session);
            self.pv = 0.0;
            self.volume = 0.0;
        }
        let typical = (high + low + close) / 3.0;
        self.pv += typical * volume;
        self.volume += volume;
        if self.volume > 0.0 { Some(self.pv / self.volume) } else { Some(typical) }
    }
}
