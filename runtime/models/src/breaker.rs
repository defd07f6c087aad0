//! A circuit breaker per provider: closed; open after N consecutive failed attempts (calls
//! then fail at once, without touching the network); after a cool-down, half-open, letting one
//! call through as a probe, whose success closes it and whose failure opens it again. Time is
//! milliseconds on the injected monotonic clock.

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum State {
    Closed {
        failures: u32,
    },
    Open {
        until_ms: u64,
    },
    /// A probe is in flight when `probing`.
    HalfOpen {
        probing: bool,
    },
}

#[derive(Debug, Clone)]
pub struct Breaker {
    threshold: u32,
    cooldown_ms: u64,
    state: State,
}

/// A change of state worth telling the user about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transition {
    Opened { failures: u32 },
    Closed,
}

impl Breaker {
    pub fn new(threshold: u32, cooldown_ms: u64) -> Breaker {
        Breaker { threshold: threshold.max(1), cooldown_ms, state: State::Closed { failures: 0 } }
    }

    pub fn state(&self) -> State {
        self.state
    }

    /// Whether an attempt may go out now; `Err` with the milliseconds until the next probe
    /// (0 when another probe is already out).
    pub fn admit(&mut self, now_ms: u64) -> Result<(), u64> {
        match self.state {
            State::Closed { .. } => Ok(()),
            State::Open { until_ms } if now_ms >= until_ms => {
                self.state = State::HalfOpen { probing: true };
                Ok(())
            }
            State::Open { until_ms } => Err(until_ms - now_ms),
            State::HalfOpen { probing: true } => Err(0),
            State::HalfOpen { probing: false } => {
                self.state = State::HalfOpen { probing: true };
                Ok(())
            }
        }
    }

    /// The server answered (a reply, or a definitive refusal such as 400 or 401).
    pub fn success(&mut self) -> Option<Transition> {
        let was_open = !matches!(self.state, State::Closed { .. });
        self.state = State::Closed { failures: 0 };
        was_open.then_some(Transition::Closed)
    }

    /// An attempt failed the way an unhealthy service fails (timeout, 5xx, 529, 429, no
    /// connection).
    pub fn failure(&mut self, now_ms: u64) -> Option<Transition> {
        let open = State::Open { until_ms: now_ms.saturating_add(self.cooldown_ms) };
        match self.state {
            State::Closed { failures } if failures + 1 >= self.threshold => {
                self.state = open;
                Some(Transition::Opened { failures: failures + 1 })
            }
            State::Closed { failures } => {
                self.state = State::Closed { failures: failures + 1 };
                None
            }
            State::HalfOpen { .. } => {
                self.state = open;
                Some(Transition::Opened { failures: self.threshold })
            }
            State::Open { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn opens_after_consecutive_failures_and_probes_after_the_cooldown() {
        let mut b = Breaker::new(3, 1_000);
        assert_eq!(b.failure(0), None);
        assert_eq!(b.success(), None, "a success resets the count");
        assert_eq!(b.failure(0), None);
        assert_eq!(b.failure(0), None);
        assert_eq!(b.failure(10), Some(Transition::Opened { failures: 3 }));
        assert_eq!(b.admit(500), Err(510));
        // Half-open: one probe, the others still fail fast.
        assert_eq!(b.admit(1_010), Ok(()));
        assert_eq!(b.admit(1_011), Err(0));
        assert_eq!(b.failure(1_020), Some(Transition::Opened { failures: 3 }));
        assert_eq!(b.admit(1_500), Err(520));
        assert_eq!(b.admit(2_020), Ok(()));
        assert_eq!(b.success(), Some(Transition::Closed));
        assert_eq!(b.state(), State::Closed { failures: 0 });
        assert_eq!(b.admit(2_021), Ok(()));
    }
}
