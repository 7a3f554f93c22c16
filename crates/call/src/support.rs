//! Whether this browser can end-to-end encrypt a call, decided before the call starts.
//!
//! A browser without an encoded-transform API cannot put frames through the media worker, and
//! one that cannot limit its codecs may negotiate one without a frame layout: either way every
//! frame would be dropped (fail closed) while the call looked connected. Such a browser is told
//! so before joining, with what it lacks and what to do, never handed a half-working call.

/// What the browser offers, as the page finds it.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct BrowserFeatures {
    /// `RTCRtpScriptTransform` (the standard, in current Chromium, Firefox and Safari).
    pub script_transform: bool,
    /// `RTCRtpSender.prototype.createEncodedStreams` (Chromium's older API, the fallback).
    pub encoded_streams: bool,
    /// `RTCRtpTransceiver.prototype.setCodecPreferences`.
    pub codec_preferences: bool,
}

/// What keeps a browser from end-to-end encrypting calls.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Gap {
    /// Neither encoded-transform API.
    NoEncodedTransforms,
    /// No way to limit the codecs to those with frame layouts.
    NoCodecPreferences,
}

impl Gap {
    /// What the browser lacks, for a sentence that starts "This browser cannot end-to-end
    /// encrypt calls: it ...".
    pub fn what(&self) -> &'static str {
        match self {
            Gap::NoEncodedTransforms => {
                "it has no encoded transforms (RTCRtpScriptTransform), which encrypt each frame"
            }
            Gap::NoCodecPreferences => {
                "it cannot choose its codecs (setCodecPreferences), so it could pick one whose \
                 frames cannot be encrypted"
            }
        }
    }
}

impl BrowserFeatures {
    /// What is missing for E2EE, if anything.
    pub fn e2ee_gap(&self) -> Option<Gap> {
        if !self.script_transform && !self.encoded_streams {
            return Some(Gap::NoEncodedTransforms);
        }
        if !self.codec_preferences {
            return Some(Gap::NoCodecPreferences);
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const ALL: BrowserFeatures =
        BrowserFeatures { script_transform: true, encoded_streams: true, codec_preferences: true };

    #[test]
    fn chromium_and_firefox_can() {
        assert_eq!(ALL.e2ee_gap(), None);
        let firefox = BrowserFeatures { encoded_streams: false, ..ALL };
        assert_eq!(firefox.e2ee_gap(), None);
        let older_chromium = BrowserFeatures { script_transform: false, ..ALL };
        assert_eq!(older_chromium.e2ee_gap(), None);
    }

    #[test]
    fn without_transforms_or_codec_choice_it_cannot() {
        let none = BrowserFeatures { script_transform: false, encoded_streams: false, ..ALL };
        assert_eq!(none.e2ee_gap(), Some(Gap::NoEncodedTransforms));
        assert_eq!(BrowserFeatures::default().e2ee_gap(), Some(Gap::NoEncodedTransforms));
        let no_choice = BrowserFeatures { codec_preferences: false, ..ALL };
        assert_eq!(no_choice.e2ee_gap(), Some(Gap::NoCodecPreferences));
        assert!(no_choice.e2ee_gap().unwrap().what().contains("setCodecPreferences"));
    }
}
