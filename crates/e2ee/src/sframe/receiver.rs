//! The receiving side: keys by KID, a replay window per KID, epochs followed and forgotten.
//!
//! Forged frames stay cheap: a KID gets its key and window only once one of its frames
//! authenticates, and the ratchet steps to later epochs are worked out once and cached.

use super::external::{ExternalKey, OpenJob, parse_wire_head};
use super::{
    FrameInfo, Header, ReplayError, ReplayWindow, SframeKey, key::ratchet, suite::CipherSuite,
};
use crate::BaseKey;
use crate::layout::{MAX_EPOCH, Slot, split_kid};

/// How many epochs ahead of the current one a KID may point and still be tried. Bounds the
/// ratchet work forged KIDs can cause to this many HKDF calls, each done once and cached.
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
    /// The base keys of the epochs after `current` (entry `i` is epoch `current + 1 + i`),
    /// worked out by the ratchet when a frame first pointed there. At most
    /// [`MAX_EPOCH_LOOKAHEAD`] entries, so each step costs an HKDF once, not once per frame.
    ahead: Vec<BaseKey>,
    ratchet_steps: u64,
}

impl std::fmt::Debug for Receiver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Receiver")
            .field("suite", &self.suite)
            .field("only_slot", &self.only_slot)
            .field("epoch", &self.current.epoch)
            .field("previous", &self.previous.as_ref().map(|(e, until)| (e.epoch, until)))
            .field("kids", &self.kids.iter().map(|k| k.key.kid()).collect::<Vec<_>>())
            .field("epochs_ahead_cached", &self.ahead.len())
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
            ahead: Vec::new(),
            ratchet_steps: 0,
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

    /// How many per-KID contexts (derived key and replay window) this receiver holds. Only
    /// KIDs that have authenticated a frame have one, so forged frames cannot make it grow.
    pub fn kid_contexts(&self) -> usize {
        self.kids.len()
    }

    /// How many ratchet steps (RFC 9605 §5.1, one HKDF each) this receiver has computed to
    /// follow later epochs; the look-ahead is cached, so forged frames cost each step once.
    pub fn ratchet_steps(&self) -> u64 {
        self.ratchet_steps
    }

    /// Installs new keys agreed out of band. A higher epoch keeps the current one for the grace
    /// period; an epoch not above the current one is ignored and `false` is returned.
    pub fn rekey(&mut self, base_key: BaseKey, epoch: u64, now_ms: u64) -> bool {
        if epoch <= self.current.epoch {
            return false;
        }
        // The cached look-ahead belongs to the old chain.
        self.ahead.clear();
        self.advance(Epoch { epoch, base_key }, now_ms);
        true
    }

    /// The base key `steps` epochs after the current one (1 to [`MAX_EPOCH_LOOKAHEAD`]),
    /// ratcheting only as far as the cache does not reach yet.
    fn ratchet_ahead(&mut self, steps: u64) -> &BaseKey {
        while (self.ahead.len() as u64) < steps {
            let last = self.ahead.last().unwrap_or(&self.current.base_key);
            let next = ratchet(self.suite, last.expose());
            self.ahead.push(next);
            self.ratchet_steps += 1;
        }
        &self.ahead[steps as usize - 1]
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
            matches!(split_kid(k.key.kid()), Some((e, _)) if e == current || Some(e) == previous)
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
        let (epoch, slot) = split_kid(header.kid).ok_or(DropReason::UnknownKid)?;
        if self.only_slot.is_some_and(|s| s.id() != slot) {
            return Err(DropReason::UnknownKid);
        }

        // Find the key: a KID already seen, a new KID of a known epoch, or a later epoch. A
        // new KID's key is derived for this frame only and kept once the frame authenticates:
        // forged frames must leave nothing behind.
        let known = self.kids.iter().position(|k| k.key.kid() == header.kid);
        let suite = self.suite;
        let mut fresh = None;
        let state = match known {
            Some(i) => &mut self.kids[i],
            None => {
                let (base_key, later) = if epoch == self.current.epoch {
                    (&self.current.base_key, false)
                } else if let Some((e, _)) =
                    self.previous.as_ref().filter(|(e, _)| e.epoch == epoch)
                {
                    (&e.base_key, false)
                } else if epoch > self.current.epoch
                    && epoch - self.current.epoch <= MAX_EPOCH_LOOKAHEAD
                    && epoch <= MAX_EPOCH
                {
                    (self.ratchet_ahead(epoch - self.current.epoch), true)
                } else {
                    return Err(DropReason::UnknownKid);
                };
                let key = SframeKey::derive(suite, base_key.expose(), header.kid);
                let state = KidState { key, window: ReplayWindow::new() };
                &mut fresh.insert((later, state)).1
            }
        };

        state.window.check(header.ctr)?;
        let (prefix, rest) = buf.split_at_mut(p);
        let (header_bytes, rest) = rest.split_at_mut(h);
        let (body, tag) = rest.split_at_mut(body_len);
        super::with_aad(header_bytes, prefix, |aad| state.key.open(header.ctr, aad, body, tag))
            .map_err(|_| DropReason::AuthFailed)?;
        state.window.accept(header.ctr);

        if let Some((later, kid_state)) = fresh {
            if later {
                // A later epoch authenticated a frame: follow it, with what the look-ahead
                // worked out beyond it still cached.
                let steps = (epoch - self.current.epoch) as usize;
                let beyond = self.ahead.split_off(steps);
                let base_key = std::mem::replace(&mut self.ahead, beyond)
                    .pop()
                    // ratchet_ahead(steps) filled at least `steps` entries just above.
                    .expect("look-ahead holds the epoch it opened");
                self.advance(Epoch { epoch, base_key }, now_ms);
            }
            self.kids.push(kid_state);
        }
        let len = buf.len();
        buf.copy_within(p + h..len - nt, p);
        buf.truncate(len - h - nt);
        Ok(FrameInfo { kid: header.kid, ctr: header.ctr })
    }

    /// Prepares a frame for an outside AES-GCM (see [`external`](super::external)) from its
    /// first bytes `wire_head` (after the clear prefix; up to [`HEAD_LEN`](super::external::HEAD_LEN) of them) and its
    /// length `wire_len` (without the prefix): the body is not needed here.
    ///
    /// `Ok(None)` for a frame under a KID no frame has opened yet: the first frame of a KID
    /// may move the epoch, and takes [`decrypt_in_place`](Self::decrypt_in_place). Nothing
    /// changes until [`accept`](Self::accept).
    pub fn open_job(
        &mut self,
        wire_head: &[u8],
        wire_len: usize,
        now_ms: u64,
    ) -> Result<Option<OpenJob>, DropReason> {
        self.expire(now_ms);
        let (header, h) = parse_wire_head(wire_head, wire_len, self.suite.nt())?;
        let (_, slot) = split_kid(header.kid).ok_or(DropReason::UnknownKid)?;
        if self.only_slot.is_some_and(|s| s.id() != slot) {
            return Err(DropReason::UnknownKid);
        }
        let Some(state) = self.kids.iter().find(|k| k.key.kid() == header.kid) else {
            return Ok(None);
        };
        state.window.check(header.ctr)?;
        Ok(Some(OpenJob {
            info: FrameInfo { kid: header.kid, ctr: header.ctr },
            header_len: h,
            nonce: state.key.nonce(header.ctr),
        }))
    }

    /// Records a frame the outside AES-GCM authenticated. Checked again: keys may have changed
    /// or another frame of the same counter been accepted since [`open_job`](Self::open_job).
    pub fn accept(&mut self, job: &OpenJob) -> Result<FrameInfo, DropReason> {
        let state = self
            .kids
            .iter_mut()
            .find(|k| k.key.kid() == job.info.kid)
            .ok_or(DropReason::UnknownKid)?;
        state.window.check(job.info.ctr)?;
        state.window.accept(job.info.ctr);
        Ok(job.info)
    }

    /// The key of `kid` for an outside AES-GCM, once a frame under it has opened here; `None`
    /// before, after its epoch is forgotten, or for a suite that is not AES-GCM.
    pub fn external_key(&self, kid: u64) -> Option<ExternalKey> {
        self.kids.iter().find(|k| k.key.kid() == kid)?;
        let (epoch, _) = split_kid(kid)?;
        let base_key = if epoch == self.current.epoch {
            &self.current.base_key
        } else {
            &self.previous.as_ref().filter(|(e, _)| e.epoch == epoch)?.0.base_key
        };
        ExternalKey::derive(self.suite, base_key.expose(), kid)
    }
}
