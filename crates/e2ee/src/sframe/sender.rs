//! The sending side of one slot.

use super::external::{ExternalKey, SealJob, is_gcm};
use super::room::{RoomJob, RoomKey};
use super::{FrameInfo, Header, SframeKey, key::ratchet, suite::CipherSuite};
use crate::BaseKey;
use crate::layout::{MAX_ROOM_PREFIX, Slot, WIDE_FIRST_CTR, kid, wide_kid};

/// Why a frame could not be sent. Each means "do not send this frame".
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SendError {
    /// The counter of this KID is used up; ratchet or rekey to get a fresh KID.
    CounterExhausted,
    /// No epoch is left to ratchet to (2^20 of them: `layout::MAX_EPOCH`).
    EpochExhausted,
    /// A rekey must move to a higher epoch, or old KIDs and counters would repeat.
    EpochNotNewer,
    /// The clear prefix is longer than the frame.
    BadPrefix,
    /// The payload exceeds [`MAX_PAYLOAD_LEN`](super::MAX_PAYLOAD_LEN).
    TooLong,
}

impl std::fmt::Display for SendError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            SendError::CounterExhausted => "frame counter exhausted for this key",
            SendError::EpochExhausted => "no epochs left to ratchet to",
            SendError::EpochNotNewer => "new keys must use a higher epoch",
            SendError::BadPrefix => "clear prefix longer than the frame",
            SendError::TooLong => "frame too long",
        })
    }
}

impl std::error::Error for SendError {}

/// Encrypts one slot's frames: one KID per epoch, its counter only going up.
///
/// Exactly one `Sender` may exist per (base key, slot): two would repeat counters, and so nonces.
pub struct Sender {
    suite: CipherSuite,
    slot: Slot,
    epoch: u64,
    base_key: BaseKey,
    key: SframeKey,
    /// The counter of the next frame; `None` once `u64::MAX` was used.
    next_ctr: Option<u64>,
    /// This epoch's wide KIDs, by clear prefix length: made when the first frame is sealed with
    /// room (PROTOCOL.md change 51).
    rooms: [Option<Box<Room>>; MAX_ROOM_PREFIX + 1],
}

/// A wide KID's key and counter.
struct Room {
    key: RoomKey,
    /// As [`Sender::next_ctr`], from [`WIDE_FIRST_CTR`].
    next_ctr: Option<u64>,
}

impl std::fmt::Debug for Sender {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sender")
            .field("suite", &self.suite)
            .field("slot", &self.slot)
            .field("epoch", &self.epoch)
            .field("next_ctr", &self.next_ctr)
            .field("key", &"<redacted>")
            .finish()
    }
}

impl Sender {
    /// A sender for `slot` starting at `epoch` with that epoch's `base_key`.
    pub fn new(
        suite: CipherSuite,
        base_key: BaseKey,
        epoch: u64,
        slot: Slot,
    ) -> Result<Sender, SendError> {
        let kid = kid(epoch, slot).ok_or(SendError::EpochExhausted)?;
        let key = SframeKey::derive(suite, base_key.expose(), kid);
        Ok(Sender {
            suite,
            slot,
            epoch,
            base_key,
            key,
            next_ctr: Some(0),
            rooms: Default::default(),
        })
    }

    pub fn suite(&self) -> CipherSuite {
        self.suite
    }

    pub fn slot(&self) -> Slot {
        self.slot
    }

    pub fn epoch(&self) -> u64 {
        self.epoch
    }

    pub fn kid(&self) -> u64 {
        self.key.kid()
    }

    /// The counter the next frame will carry, `None` when exhausted.
    pub fn next_ctr(&self) -> Option<u64> {
        self.next_ctr
    }

    /// Moves to the next epoch by the RFC 9605 §5.1 ratchet; the counter starts again at 0
    /// under the new KID. Returns the new epoch.
    pub fn ratchet(&mut self) -> Result<u64, SendError> {
        let epoch = self.epoch.checked_add(1).ok_or(SendError::EpochExhausted)?;
        let next = ratchet(self.suite, self.base_key.expose());
        self.rekey(next, epoch)?;
        Ok(epoch)
    }

    /// Switches to a new base key at a strictly higher `epoch`.
    pub fn rekey(&mut self, base_key: BaseKey, epoch: u64) -> Result<(), SendError> {
        if epoch <= self.epoch {
            return Err(SendError::EpochNotNewer);
        }
        *self = Sender::new(self.suite, base_key, epoch, self.slot)?;
        Ok(())
    }

    fn take_ctr(&mut self) -> Result<u64, SendError> {
        let ctr = self.next_ctr.ok_or(SendError::CounterExhausted)?;
        self.next_ctr = ctr.checked_add(1);
        Ok(ctr)
    }

    /// Turns `buf = clear_prefix || payload` into `clear_prefix || header || ciphertext || tag`.
    ///
    /// Allocates nothing when `buf` has room for 17 + 16 more bytes. On error `buf` is
    /// unchanged and the frame must not be sent.
    pub fn encrypt_in_place(
        &mut self,
        buf: &mut Vec<u8>,
        clear_prefix_len: usize,
    ) -> Result<FrameInfo, SendError> {
        let payload_len = buf.len().checked_sub(clear_prefix_len).ok_or(SendError::BadPrefix)?;
        if super::too_long(payload_len) {
            return Err(SendError::TooLong);
        }
        let ctr = self.take_ctr()?;
        let header = Header::new(self.kid(), ctr).encode();
        let header = header.as_bytes();
        let (p, h) = (clear_prefix_len, header.len());
        let old_len = buf.len();
        buf.reserve(h + self.suite.nt());
        buf.resize(old_len + h, 0);
        buf.copy_within(p..old_len, p + h);
        buf[p..p + h].copy_from_slice(header);
        let (prefix, rest) = buf.split_at_mut(p);
        let tag = super::with_aad(header, prefix, |aad| self.key.seal(ctr, aad, &mut rest[h..]))
            // The payload length was checked against MAX_PAYLOAD_LEN above.
            .expect("payload within MAX_PAYLOAD_LEN always seals");
        buf.extend_from_slice(tag.as_bytes());
        Ok(FrameInfo { kid: self.kid(), ctr })
    }

    /// Takes the next counter for a frame of `payload_len` bytes that an outside AES-GCM will
    /// seal (see [`external`](super::external)); the counter is spent even if that call fails.
    pub fn seal_job(&mut self, payload_len: usize) -> Result<SealJob, SendError> {
        if super::too_long(payload_len) {
            return Err(SendError::TooLong);
        }
        let ctr = self.take_ctr()?;
        Ok(SealJob {
            info: FrameInfo { kid: self.kid(), ctr },
            header: Header::new(self.kid(), ctr).encode(),
            nonce: self.key.nonce(ctr),
        })
    }

    /// The current KID's key for an outside AES-GCM; `None` unless the suite is AES-GCM.
    pub fn external_key(&self) -> Option<ExternalKey> {
        ExternalKey::derive(self.suite, self.base_key.expose(), self.kid())
    }

    /// The wide KID under which this epoch's frames with a clear prefix of `prefix_len` bytes
    /// are sealed with room (see [`room`](super::room)); `None` for a longer prefix, or a suite
    /// that is not AES-GCM.
    pub fn room_kid(&self, prefix_len: usize) -> Option<u64> {
        if !is_gcm(self.suite) {
            return None;
        }
        wide_kid(self.kid(), prefix_len)
    }

    /// The key of [`room_kid`](Self::room_kid) for an outside AES-GCM.
    pub fn room_external_key(&self, prefix_len: usize) -> Option<ExternalKey> {
        ExternalKey::derive(self.suite, self.base_key.expose(), self.room_kid(prefix_len)?)
    }

    /// Takes the next counter of the wide KID for `clear_prefix`, for a payload of
    /// `payload_len` bytes that an outside AES-GCM will seal with room; the counter is spent
    /// even if that call fails. `Ok(None)`: no wide KID for this prefix ([`room_kid`](Self::room_kid)).
    pub fn room_job(
        &mut self,
        clear_prefix: &[u8],
        payload_len: usize,
    ) -> Result<Option<RoomJob>, SendError> {
        if super::too_long(payload_len) {
            return Err(SendError::TooLong);
        }
        let p = clear_prefix.len();
        let Some(kid) = self.room_kid(p) else { return Ok(None) };
        let room = match &mut self.rooms[p] {
            Some(room) => room,
            empty => {
                let Some(key) = RoomKey::derive(self.suite, self.base_key.expose(), kid) else {
                    return Ok(None);
                };
                empty.insert(Box::new(Room { key, next_ctr: Some(WIDE_FIRST_CTR) }))
            }
        };
        let ctr = room.next_ctr.ok_or(SendError::CounterExhausted)?;
        room.next_ctr = ctr.checked_add(1);
        // A wide KID's header and its prefix make one block at every counter from WIDE_FIRST_CTR.
        Ok(room.key.job(ctr, clear_prefix, payload_len))
    }

    /// Writes `clear_prefix || header || ciphertext || tag` into `out`, replacing its content.
    ///
    /// Allocates nothing when `out` has capacity for the whole frame.
    pub fn encrypt_into(
        &mut self,
        clear_prefix: &[u8],
        payload: &[u8],
        out: &mut Vec<u8>,
    ) -> Result<FrameInfo, SendError> {
        if super::too_long(payload.len()) {
            return Err(SendError::TooLong);
        }
        let ctr = self.take_ctr()?;
        out.clear();
        out.extend_from_slice(clear_prefix);
        super::encrypt_frame(&self.key, ctr, clear_prefix, payload, out)
            // The payload length was checked against MAX_PAYLOAD_LEN above.
            .map_err(|_| SendError::TooLong)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_counter_never_wraps() {
        let base = BaseKey::from_slice(&[1; 16]);
        let mut sender = Sender::new(CipherSuite::default(), base, 0, Slot::MicAudio).unwrap();
        sender.next_ctr = Some(u64::MAX);
        let info = sender.encrypt_in_place(&mut vec![1, 2, 3], 0).unwrap();
        assert_eq!(info.ctr, u64::MAX);
        let mut buf = vec![1, 2, 3];
        assert_eq!(sender.encrypt_in_place(&mut buf, 0), Err(SendError::CounterExhausted));
        assert_eq!(buf, [1, 2, 3]);
        assert_eq!(
            sender.encrypt_into(&[], &[1], &mut Vec::new()),
            Err(SendError::CounterExhausted)
        );
        // A ratchet gives a fresh KID and so a fresh counter.
        sender.ratchet().unwrap();
        assert_eq!(sender.next_ctr(), Some(0));
    }

    #[test]
    fn a_wide_kids_counter_never_wraps_and_is_its_own() {
        let base = BaseKey::from_slice(&[1; 16]);
        let mut sender = Sender::new(CipherSuite::default(), base, 0, Slot::Camera).unwrap();
        let first = sender.room_job(&[1, 2, 3], 10).unwrap().expect("room for 3 clear bytes");
        assert_eq!(first.info().ctr, WIDE_FIRST_CTR);
        sender.rooms[3].as_mut().unwrap().next_ctr = Some(u64::MAX);
        assert_eq!(sender.room_job(&[1, 2, 3], 10).unwrap().unwrap().info().ctr, u64::MAX);
        assert!(matches!(sender.room_job(&[1, 2, 3], 10), Err(SendError::CounterExhausted)));
        // The other prefixes' wide KIDs and the narrow KID count on their own.
        assert_eq!(sender.room_job(&[], 10).unwrap().unwrap().info().ctr, WIDE_FIRST_CTR);
        assert_eq!(sender.next_ctr(), Some(0));
        assert!(sender.room_job(&[0; 4], 10).unwrap().is_none(), "no wide KID for 4 clear bytes");
    }
}
