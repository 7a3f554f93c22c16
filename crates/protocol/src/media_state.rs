//! What one person's microphone, camera and screen share are doing, told to the other person
//! so that their page can show it (a muted-mic icon, a "Camera off" placeholder).
//!
//! ```text
//! one byte of flags:  bit 0 microphone on, bit 1 camera on, bit 2 screen shared, bits 3-7 zero
//! under E2EE:   sealed chat payload  seq (8) || kind 2 || flags           (slot 15, see the core)
//! E2EE off:     binary data-channel message        0x02 || flags           (chat is text)
//! ```
//! A byte with any other bit set is refused, never read as the bits it knows: a newer page's
//! state is not half-shown.

/// The chat payload kind (and, with E2EE off, the first byte of the binary message) that says
/// a [`MediaState`] follows.
pub const MEDIA_STATE_KIND: u8 = 2;

const MIC: u8 = 1;
const CAMERA: u8 = 2;
const SCREEN: u8 = 4;

/// One side's microphone, camera and screen share: on (`true`) or off.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct MediaState {
    pub mic: bool,
    pub camera: bool,
    pub screen: bool,
}

/// A media state that could not be read: the reason, for the person and the log.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct BadMediaState(&'static str);

impl std::fmt::Display for BadMediaState {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.0)
    }
}

impl std::error::Error for BadMediaState {}

impl MediaState {
    /// Everything on: what a call starts with.
    pub const ALL_ON: MediaState = MediaState { mic: true, camera: true, screen: false };

    /// The flags byte.
    pub fn to_byte(self) -> u8 {
        (if self.mic { MIC } else { 0 })
            | (if self.camera { CAMERA } else { 0 })
            | (if self.screen { SCREEN } else { 0 })
    }

    /// The state a flags byte says; a byte with an unknown bit set is refused.
    pub fn from_byte(byte: u8) -> Result<MediaState, BadMediaState> {
        if byte & !(MIC | CAMERA | SCREEN) != 0 {
            return Err(BadMediaState("a media state with unknown flags"));
        }
        Ok(MediaState {
            mic: byte & MIC != 0,
            camera: byte & CAMERA != 0,
            screen: byte & SCREEN != 0,
        })
    }

    /// The binary data-channel message that carries it when E2EE is off: `0x02 || flags`.
    pub fn to_message(self) -> [u8; 2] {
        [MEDIA_STATE_KIND, self.to_byte()]
    }

    /// The state in a binary data-channel message (E2EE off): exactly `0x02 || flags`.
    pub fn from_message(bytes: &[u8]) -> Result<MediaState, BadMediaState> {
        match bytes {
            [MEDIA_STATE_KIND, flags] => MediaState::from_byte(*flags),
            [MEDIA_STATE_KIND, ..] => Err(BadMediaState("a media state of the wrong length")),
            _ => Err(BadMediaState("a binary message that is not a media state")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_state_reads_back_from_its_byte_and_its_message() {
        for byte in 0..8u8 {
            let state = MediaState::from_byte(byte).unwrap();
            assert_eq!(state.to_byte(), byte);
            assert_eq!(MediaState::from_message(&state.to_message()), Ok(state));
        }
        let muted = MediaState { mic: false, camera: true, screen: false };
        assert_eq!(muted.to_message(), [2, 0b010]);
        assert_eq!(MediaState::ALL_ON.to_byte(), 0b011);
    }

    #[test]
    fn unknown_flags_other_kinds_and_other_lengths_are_refused() {
        for byte in 8..=255u8 {
            assert!(MediaState::from_byte(byte).is_err(), "{byte:#010b}");
        }
        let refused = |bytes: &[u8]| MediaState::from_message(bytes).unwrap_err().to_string();
        assert_eq!(refused(&[2, 0b1000]), "a media state with unknown flags");
        assert_eq!(refused(&[2]), "a media state of the wrong length");
        assert_eq!(refused(&[2, 1, 0]), "a media state of the wrong length");
        assert_eq!(refused(&[]), "a binary message that is not a media state");
        assert_eq!(refused(&[0, 1]), "a binary message that is not a media state");
        assert_eq!(refused(b"hi"), "a binary message that is not a media state");
    }
}
