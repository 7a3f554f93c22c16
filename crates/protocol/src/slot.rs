//! The media slots of a call: which transform a frame belongs to, and the low 4 bits of its
//! SFrame KID (the E2EE core's `layout::kid`).

use serde::{Deserialize, Serialize};

/// The transform a frame belongs to: the low 4 bits of its KID. In messages it is the number
/// (`1` for the camera); a number that names no slot is refused when the message is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "u8", into = "u8")]
#[repr(u8)]
pub enum Slot {
    MicAudio = 0,
    Camera = 1,
    ScreenVideo = 2,
    ScreenAudio = 3,
    Chat = 15,
}

impl Slot {
    pub const ALL: [Slot; 5] =
        [Slot::MicAudio, Slot::Camera, Slot::ScreenVideo, Slot::ScreenAudio, Slot::Chat];

    pub const fn id(self) -> u8 {
        self as u8
    }

    pub fn from_id(id: u8) -> Option<Slot> {
        Slot::ALL.into_iter().find(|s| s.id() == id)
    }
}

/// A slot number that names no slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UnknownSlot(pub u8);

impl std::fmt::Display for UnknownSlot {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "slot {} names no media slot", self.0)
    }
}

impl std::error::Error for UnknownSlot {}

impl TryFrom<u8> for Slot {
    type Error = UnknownSlot;

    fn try_from(id: u8) -> Result<Self, Self::Error> {
        Slot::from_id(id).ok_or(UnknownSlot(id))
    }
}

impl From<Slot> for u8 {
    fn from(slot: Slot) -> u8 {
        slot.id()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_travel_as_their_number_and_unknown_numbers_are_refused() {
        for slot in Slot::ALL {
            let json = serde_json::to_string(&slot).unwrap();
            assert_eq!(json, slot.id().to_string());
            assert_eq!(serde_json::from_str::<Slot>(&json).unwrap(), slot);
        }
        for bad in ["4", "14", "16", "255", "256", "-1", "1.5", "\"camera\"", "null"] {
            assert!(serde_json::from_str::<Slot>(bad).is_err(), "{bad} is no slot");
        }
        let error = serde_json::from_str::<Slot>("9").unwrap_err().to_string();
        assert!(error.contains("slot 9 names no media slot"), "{error}");
        assert_eq!(Slot::try_from(3), Ok(Slot::ScreenAudio));
        assert_eq!(Slot::try_from(4), Err(UnknownSlot(4)));
    }
}
