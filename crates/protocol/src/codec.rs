//! The codecs whose frames have an E2EE layout, and which codec each negotiated payload type
//! carries: what the page tells the media worker once a connection's descriptions are applied
//! ([`crate::WorkerCommand::Codecs`]). How many bytes of each codec stay in the clear is the
//! E2EE core's (`layout`).

use serde::{Deserialize, Serialize};

/// A codec the E2EE layouts cover. AV1 and H.264 need OBU/NAL-aware layouts and are not
/// negotiated while E2EE is on.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
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
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
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

    /// The table as `(payload type, codec)` pairs, for the worker's byte layout.
    pub(crate) fn pairs(&self) -> &[(u8, Codec)] {
        &self.0
    }

    /// A table read from the worker's byte layout (which refuses a payload type twice).
    pub(crate) fn from_pairs(pairs: Vec<(u8, Codec)>) -> Self {
        PayloadTypes(pairs)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codecs_by_mime_type_and_encoding_name() {
        assert_eq!(Codec::from_mime_type("video/VP8"), Some(Codec::Vp8));
        assert_eq!(Codec::from_mime_type("audio/opus"), Some(Codec::Opus));
        assert_eq!(Codec::from_mime_type("video/AV1"), None);
        assert_eq!(Codec::from_encoding_name("vp9"), Some(Codec::Vp9));
        assert_eq!(Codec::from_encoding_name("H264"), None);
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
