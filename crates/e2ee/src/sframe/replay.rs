//! A sliding replay window over one KID's counters.

/// How far behind the highest accepted counter a frame may still arrive.
pub const REPLAY_WINDOW: u64 = 128;

/// Why a counter is refused before any decryption is tried.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ReplayError {
    /// This counter was already accepted.
    Replay,
    /// The counter lies further behind the newest than the window remembers.
    TooOld,
}

/// Remembers which of the last [`REPLAY_WINDOW`] counters were accepted.
///
/// `check` comes before decryption and `accept` only after the tag verified, so forged frames
/// can never move the window.
#[derive(Clone, Debug, Default)]
pub struct ReplayWindow {
    /// The highest accepted counter, `None` before the first frame.
    top: Option<u64>,
    /// Bit `i` set: counter `top - i` was accepted.
    seen: u128,
}

impl ReplayWindow {
    pub fn new() -> Self {
        Self::default()
    }

    /// Whether `ctr` may still be accepted.
    pub fn check(&self, ctr: u64) -> Result<(), ReplayError> {
        let Some(top) = self.top else { return Ok(()) };
        if ctr > top {
            return Ok(());
        }
        let behind = top - ctr;
        if behind >= REPLAY_WINDOW {
            Err(ReplayError::TooOld)
        } else if self.seen >> behind & 1 == 1 {
            Err(ReplayError::Replay)
        } else {
            Ok(())
        }
    }

    /// Records `ctr` as accepted; call only after [`check`](Self::check) passed and the frame
    /// authenticated.
    pub fn accept(&mut self, ctr: u64) {
        match self.top {
            Some(top) if ctr <= top => {
                let behind = top - ctr;
                if behind < REPLAY_WINDOW {
                    self.seen |= 1 << behind;
                }
            }
            Some(top) => {
                let ahead = ctr - top;
                self.seen = if ahead >= REPLAY_WINDOW { 0 } else { self.seen << ahead };
                self.seen |= 1;
                self.top = Some(ctr);
            }
            None => {
                self.seen = 1;
                self.top = Some(ctr);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_reordering_inside_the_window_once() {
        let mut w = ReplayWindow::new();
        for ctr in [5, 3, 9, 4, 0] {
            assert_eq!(w.check(ctr), Ok(()));
            w.accept(ctr);
            assert_eq!(w.check(ctr), Err(ReplayError::Replay));
        }
        assert_eq!(w.check(1), Ok(()));
    }

    #[test]
    fn refuses_what_fell_out_of_the_window() {
        let mut w = ReplayWindow::new();
        w.accept(0);
        w.accept(REPLAY_WINDOW);
        assert_eq!(w.check(0), Err(ReplayError::TooOld));
        assert_eq!(w.check(1), Ok(()));
        w.accept(u64::MAX);
        assert_eq!(w.check(u64::MAX), Err(ReplayError::Replay));
        assert_eq!(w.check(u64::MAX - REPLAY_WINDOW), Err(ReplayError::TooOld));
        assert_eq!(w.check(u64::MAX - REPLAY_WINDOW + 1), Ok(()));
    }
}
