//! The receiving side: keys by KID, a replay window per KID, epochs followed and forgotten.

use super::{
    FrameInfo, Header, ReplayError, ReplayWindow, SframeKey, key::ratchet, suite::CipherSuite,
};
use crate::BaseKey;
use crate::layout::{MAX_EPOCH, Slot, split_kid};

/// How many epochs ahead of the current one a KID may point and still be tried. Bounds the
/// ratchet work a forged KID can cause to a few HKDF calls.
pub const MAX_EPOCH_LOOKAHEAD: u64 = 8;

/// How long the previous epoch still opens frames after a newer one authenticated, so
/// frames in flight and slower slots are not lost at a key change.
pub const DEFAULT_GRACE_MS: u64 = 10_000;

/// Why a received frame was dropped. Every one means "never pass it to the decoder"; they are
/// distinct only so that they can be counted.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum DropReason {
    /// Too short to hold the prefix, a header and a tag.
    Malformed,
    /// No key for this KID: another slot, a forgotten epoch, or too far ahead.
    UnknownKid,
    /// The tag did not verify.
    AuthFailed,
    /// This counter was already accepted.
    Replay,
    /// The counter is behind the replay window.
    TooOld,
}

impl std::fmt::Display for DropReason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            DropReason::Malformed => "malformed frame",
            DropReason::UnknownKid => "unknown key id",
            DropReason::AuthFailed => "frame failed authentication",
            DropReason::Replay => "replayed frame",
            DropReason::TooOld => "frame too old",
        })
    }
}

impl std::error::Error for DropReason {}

impl From<ReplayError> for DropReason {
    fn from(e: ReplayError) -> Self {
        match e {
            ReplayError::Replay => DropReason::Replay,
            ReplayError::TooOld => DropReason::TooOld,
        }
    }
}

struct Epoch {
    epoch: u64,
    base_key: BaseKey,
}

struct KidState {
    key: SframeKey,
    window: ReplayWindow,
}

/// Decrypts the frames of one peer (one base key chain), optionally of one slot only.
pub struct Receiver {
    suite: CipherSuite,
    only_slot: Option<Slot>,
    grace_ms: u64,
    current: Epoch,
    /// The epoch before `current` and the time it is forgotten.
    previous: Option<(Epoch, u64)>,
    /// Keys and windows of the KIDs seen in `current` and `previous`.
    kids: Vec<KidState>,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("suite", &self.suite)
            .field("only_slot", &self.only_slot)
            .field("epoch", &self.current.epoch)
            .field("previous", &self.previous.as_ref().map(|(e, until)| (e.epoch, until)))
            .field("kids", &self.kids.iter().map(|k| k.key.kid()).collect::<Vec<_>>())
            .field("keys", &"<redacted>")
            .finish()
    }
}

impl Receiver {
    /// A receiver whose peer starts at `epoch` with that epoch's `base_key`.
    pub fn new(suite: CipherSuite, base_key: BaseKey, epoch: u64) -> Receiver {
        Receiver {
            suite,
            only_slot: None,
            grace_ms: DEFAULT_GRACE_MS,
            current: Epoch { epoch, base_key },
            previous: None,
            kids: Vec::new(),
        }
    }

    /// Accepts only KIDs of `slot`, so frames cannot be moved from one stream to another.
    pub fn only_slot(mut self, slot: Slot) -> Receiver {
        self.only_slot = Some(slot);
        self
    }

    /// Sets how long the previous epoch stays usable after a change.
    pub fn with_grace_ms(mut self, grace_ms: u64) -> Receiver {
        self.grace_ms = grace_ms;
        self
    }

    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    /// The newest epoch that has authenticated a frame (or was set).
    pub fn epoch(&self) -> u64 {
        self.current.epoch
    }

    /// The previous epoch, if still inside its grace period at the last call.
    pub fn previous_epoch(&self) -> Option<u64> {
        self.previous.as_ref().map(|(e, _)| e.epoch)
    }

    /// Installs new keys agreed out of band. A higher epoch keeps the current one for the grace
    /// period; an epoch not above the current one is ignored and `false` is returned.
    pub fn rekey(&mut self, base_key: BaseKey, epoch: u64, now_ms: u64) -> bool {
        if epoch <= self.current.epoch {
            return false;
        }
        self.advance(Epoch { epoch, base_key }, now_ms);
        true
    }

    fn advance(&mut self, next: Epoch, now_ms: u64) {
        let old = std::mem::replace(&mut self.current, next);
        self.previous = Some((old, now_ms.saturating_add(self.grace_ms)));
        self.forget_stale();
    }

    fn expire(&mut self, now_ms: u64) {
        if self.previous.as_ref().is_some_and(|(_, until)| now_ms >= *until) {
            self.previous = None;
            self.forget_stale();
        }
    }

    fn forget_stale(&mut self) {
        let current = self.current.epoch;
        let previous = self.previous.as_ref().map(|(e, _)| e.epoch);
        self.kids.retain(|k| {
            let epoch = split_kid(k.key.kid()).0;
            epoch == current || Some(epoch) == previous
        });
    }

    /// Turns `buf = clear_prefix || header || ciphertext || tag` back into
    /// `clear_prefix || payload`. Allocates nothing.
    ///
    /// `now_ms` is any monotonic clock in milliseconds; it only ages out old epochs. On error
    /// the frame must be dropped; `buf` is then unchanged.
    pub fn decrypt_in_place(
        &mut self,
        buf: &mut Vec<u8>,
        clear_prefix_len: usize,
        now_ms: u64,
    ) -> Result<FrameInfo, DropReason> {
        self.expire(now_ms);
        let p = clear_prefix_len;
        let wire = buf.get(p..).ok_or(DropReason::Malformed)?;
        let (header, h) = Header::parse(wire).map_err(|_| DropReason::Malformed)?;
        let nt = self.suite.nt();
        let body_len = wire.len().checked_sub(h + nt).ok_or(DropReason::Malformed)?;
        let (epoch, slot) = split_kid(header.kid);
        if self.only_slot.is_some_and(|s| s.id() != slot) {
            return Err(DropReason::UnknownKid);
        }

        // Find the key: a KID already seen, a new KID of a known epoch, or a later epoch.
        let known = self.kids.iter().position(|k| k.key.kid() == header.kid);
        let mut candidate = None;
        let state = match known {
            Some(i) => &mut self.kids[i],
            None => {
                let base = if epoch == self.current.epoch {
                    Some(&self.current)
                } else {
                    self.previous.as_ref().map(|(e, _)| e).filter(|e| e.epoch == epoch)
                };
                if let Some(base) = base {
                    let key = SframeKey::derive(self.suite, base.base_key.expose(), header.kid);
                    self.kids.push(KidState { key, window: ReplayWindow::new() });
                    // Just pushed, so the vector is not empty.
                    self.kids.last_mut().expect("just pushed")
                } else if epoch > self.current.epoch
                    && epoch - self.current.epoch <= MAX_EPOCH_LOOKAHEAD
                    && epoch <= MAX_EPOCH
                {
                    let mut base_key = ratchet(self.suite, self.current.base_key.expose());
                    for _ in 1..epoch - self.current.epoch {
                        base_key = ratchet(self.suite, base_key.expose());
                    }
                    let key = SframeKey::derive(self.suite, base_key.expose(), header.kid);
                    let state = KidState { key, window: ReplayWindow::new() };
                    &mut candidate.insert((Epoch { epoch, base_key }, state)).1
                } else {
                    return Err(DropReason::UnknownKid);
                }
            }
        };

        state.window.check(header.ctr)?;
        let (prefix, rest) = buf.split_at_mut(p);
        let (header_bytes, rest) = rest.split_at_mut(h);
        let (body, tag) = rest.split_at_mut(body_len);
        super::with_aad(header_bytes, prefix, |aad| state.key.open(header.ctr, aad, body, tag))
            .map_err(|_| DropReason::AuthFailed)?;
        state.window.accept(header.ctr);

        if let Some((next, kid_state)) = candidate {
            // The new epoch authenticated a frame: follow it.
            self.advance(next, now_ms);
            self.kids.push(kid_state);
        }
        let len = buf.len();
        buf.copy_within(p + h..len - nt, p);
        buf.truncate(len - h - nt);
        Ok(FrameInfo { kid: header.kid, ctr: header.ctr })
    }
}
