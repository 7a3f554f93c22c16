//! Which bytes of each codec's frames stay in the clear, and the KID of each media slot.
//!
//! Packetizers read the first bytes of some codecs' frames (BROWSER-FACTS.md, measured):
//! VP8 needs its payload header (10 bytes of a key frame, 3 of a delta frame) or the receiver's
//! frame type and size turn to garbage. Opus and VP9 work fully encrypted. The clear prefix is
//! SFrame metadata, so it is authenticated all the same.

/// A codec the E2EE layouts cover. AV1 and H.264 need OBU/NAL-aware layouts and are not
/// negotiated while E2EE is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Codec {
    Opus,
    Vp8,
    Vp9,
}

impl Codec {
    /// The codec of a `mimeType` from `getMetadata()` (`audio/opus`, `video/VP8`, ...).
    pub fn from_mime_type(mime: &str) -> Option<Codec> {
        Codec::from_encoding_name(mime.rsplit('/').next()?)
    }

    /// The codec of an SDP encoding name (`a=rtpmap:<pt> VP8/90000`: `VP8`), any case.
    pub fn from_encoding_name(name: &str) -> Option<Codec> {
        [("opus", Codec::Opus), ("vp8", Codec::Vp8), ("vp9", Codec::Vp9)]
            .into_iter()
            .find_map(|(known, codec)| name.eq_ignore_ascii_case(known).then_some(codec))
    }
}

/// Which codec each negotiated payload type carries, from the descriptions of the call's
/// connection (`a=rtpmap`), for the payload types that have a frame layout.
///
/// A frame's layout is chosen by its payload type, in every browser: Firefox's encoded frames
/// carry no `mimeType` at all. Where a browser also names the codec (Chromium's `mimeType`),
/// both must agree, or the frame is dropped.
#[derive(Clone, Debug, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct PayloadTypes(Vec<(u8, Codec)>);

/// Why a frame's codec is not known.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CodecError {
    /// The frame names no payload type.
    NoPayloadType,
    /// No negotiated codec with a frame layout has this payload type (or the worker has not
    /// heard the descriptions yet).
    UnknownPayloadType(u8),
    /// The browser names another codec than the payload type's.
    Disagrees,
}

impl std::fmt::Display for CodecError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CodecError::NoPayloadType => f.write_str("a frame without a payload type"),
            CodecError::UnknownPayloadType(pt) => {
                write!(f, "payload type {pt} is no codec with an E2EE frame layout")
            }
            CodecError::Disagrees => {
                f.write_str("the frame's codec is not the one its payload type was negotiated for")
            }
        }
    }
}

impl PayloadTypes {
    /// From `(payload type, encoding name)` pairs as the SDP names them; encodings without a
    /// layout (`rtx`, `red`, `H264`, ...) are left out.
    pub fn from_encodings<'a>(pairs: impl IntoIterator<Item = (u8, &'a str)>) -> Self {
        let mut table: Vec<(u8, Codec)> = Vec::new();
        for (pt, name) in pairs {
            if let Some(codec) = Codec::from_encoding_name(name)
                && !table.iter().any(|(known, _)| *known == pt)
            {
                table.push((pt, codec));
            }
        }
        PayloadTypes(table)
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// The layout codec of a frame with `payload_type` (from `getMetadata()`) and, where the
    /// browser gives one, its `mimeType`.
    pub fn codec_of(
        &self,
        payload_type: Option<u8>,
        mime_type: Option<&str>,
    ) -> Result<Codec, CodecError> {
        let pt = payload_type.ok_or(CodecError::NoPayloadType)?;
        let codec = self
            .0
            .iter()
            .find_map(|(known, codec)| (*known == pt).then_some(*codec))
            .ok_or(CodecError::UnknownPayloadType(pt))?;
        match mime_type.filter(|m| !m.is_empty()) {
            Some(mime) if Codec::from_mime_type(mime) != Some(codec) => Err(CodecError::Disagrees),
            _ => Ok(codec),
        }
    }
}

/// VP8 payload header bytes left clear in a key frame (RFC 6386 §9.1: 3-byte tag, start code,
/// dimensions).
pub const VP8_KEY_FRAME_PREFIX: usize = 10;
/// VP8 payload header bytes left clear in a delta frame (the 3-byte frame tag).
pub const VP8_DELTA_FRAME_PREFIX: usize = 3;

/// How many leading bytes of a frame stay in the clear; never more than the frame holds.
pub fn clear_prefix_len(codec: Codec, is_key_frame: bool, frame_len: usize) -> usize {
    let want = match codec {
        Codec::Opus | Codec::Vp9 => 0,
        Codec::Vp8 if is_key_frame => VP8_KEY_FRAME_PREFIX,
        Codec::Vp8 => VP8_DELTA_FRAME_PREFIX,
    };
    want.min(frame_len)
}

/// Whether a VP8 frame is a key frame, read from the frame itself (bit 0 of the frame tag is 0
/// for key frames). That byte is in the clear before and after encryption, so sender and
/// receiver agree on the prefix without trusting `frame.type`.
pub fn vp8_is_key_frame(frame: &[u8]) -> bool {
    frame.first().is_some_and(|b| b & 1 == 0)
}

/// [`clear_prefix_len`] with the key-frame flag read from the frame's own bytes; the same
/// answer for a plaintext frame and for its encrypted form.
pub fn clear_prefix_len_of(codec: Codec, frame: &[u8]) -> usize {
    clear_prefix_len(codec, codec == Codec::Vp8 && vp8_is_key_frame(frame), frame.len())
}

/// The transform a frame belongs to: the low 4 bits of its KID.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
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

/// Bits of the KID below the epoch.
pub const SLOT_BITS: u32 = 4;

/// Largest epoch a KID can carry.
pub const MAX_EPOCH: u64 = u64::MAX >> SLOT_BITS;

/// `KID = (epoch << 4) | slot`; `None` past [`MAX_EPOCH`], where KIDs would repeat.
pub const fn kid(epoch: u64, slot: Slot) -> Option<u64> {
    if epoch > MAX_EPOCH { None } else { Some(epoch << SLOT_BITS | slot as u64) }
}

/// The epoch and the slot number of a KID (the slot number may name no known slot).
pub const fn split_kid(kid: u64) -> (u64, u8) {
    (kid >> SLOT_BITS, (kid & 0xf) as u8)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_per_codec() {
        assert_eq!(clear_prefix_len(Codec::Opus, false, 80), 0);
        assert_eq!(clear_prefix_len(Codec::Vp9, true, 8000), 0);
        assert_eq!(clear_prefix_len(Codec::Vp8, true, 3000), 10);
        assert_eq!(clear_prefix_len(Codec::Vp8, false, 3000), 3);
        assert_eq!(clear_prefix_len(Codec::Vp8, true, 4), 4);
        assert_eq!(clear_prefix_len(Codec::Vp8, false, 0), 0);
    }

    #[test]
    fn vp8_key_frame_bit() {
        // A key frame tag starts with P = 0; a delta frame with P = 1.
        assert_eq!(
            clear_prefix_len_of(Codec::Vp8, &[0x50, 0, 0, 0x9d, 0x01, 0x2a, 0, 0, 0, 0, 0]),
            10
        );
        assert_eq!(clear_prefix_len_of(Codec::Vp8, &[0x51, 0, 0, 7, 7]), 3);
        assert_eq!(clear_prefix_len_of(Codec::Opus, &[0x50, 1, 2]), 0);
    }

    #[test]
    fn kids() {
        assert_eq!(kid(0, Slot::MicAudio), Some(0));
        assert_eq!(kid(1, Slot::Chat), Some(0x1f));
        assert_eq!(kid(MAX_EPOCH, Slot::Camera), Some(u64::MAX - 14));
        assert_eq!(kid(MAX_EPOCH + 1, Slot::Camera), None);
        assert_eq!(split_kid(0x2a3), (0x2a, 3));
        assert_eq!(Codec::from_mime_type("video/VP8"), Some(Codec::Vp8));
        assert_eq!(Codec::from_mime_type("audio/opus"), Some(Codec::Opus));
        assert_eq!(Codec::from_mime_type("video/AV1"), None);
    }

    #[test]
    fn a_frame_s_codec_comes_from_its_payload_type() {
        let table = PayloadTypes::from_encodings([
            (109, "opus"),
            (120, "VP8"),
            (124, "rtx"),
            (121, "VP9"),
            (126, "H264"),
        ]);
        // Firefox: no mimeType.
        assert_eq!(table.codec_of(Some(120), None), Ok(Codec::Vp8));
        assert_eq!(table.codec_of(Some(121), None), Ok(Codec::Vp9));
        assert_eq!(table.codec_of(Some(109), None), Ok(Codec::Opus));
        // Chromium: mimeType too, and it must agree.
        assert_eq!(table.codec_of(Some(120), Some("video/VP8")), Ok(Codec::Vp8));
        assert_eq!(table.codec_of(Some(120), Some("video/VP9")), Err(CodecError::Disagrees));
        assert_eq!(table.codec_of(Some(120), Some("")), Ok(Codec::Vp8));
        // No layout, not negotiated, or not said.
        assert_eq!(table.codec_of(Some(126), None), Err(CodecError::UnknownPayloadType(126)));
        assert_eq!(table.codec_of(Some(124), None), Err(CodecError::UnknownPayloadType(124)));
        assert_eq!(table.codec_of(None, Some("video/VP8")), Err(CodecError::NoPayloadType));
        assert_eq!(
            PayloadTypes::default().codec_of(Some(120), Some("video/VP8")),
            Err(CodecError::UnknownPayloadType(120))
        );
    }

    #[test]
    fn the_first_mapping_of_a_payload_type_counts() {
        let table = PayloadTypes::from_encodings([(96, "VP8"), (96, "VP9")]);
        assert_eq!(table.codec_of(Some(96), None), Ok(Codec::Vp8));
    }
}
