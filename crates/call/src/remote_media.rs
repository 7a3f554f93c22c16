//! What the other person's microphone, camera and screen share are doing, in words: the
//! sentence a screen reader announces (politely) when it changes, and the tile's labels.

use shieldcall_protocol::MediaState;

/// The remote tile's muted-microphone icon's accessible name.
pub const MIC_OFF_LABEL: &str = "The other person's microphone is off";
/// The remote tile's placeholder while their camera is off.
pub const CAMERA_OFF_TEXT: &str = "Camera off";

/// What to announce when the other person's state goes from `before` (`None`: not known yet,
/// at the start of a connection) to `after`; `None` when nothing worth saying changed. At the
/// start only what is off (or a screen being shared) is said: everything on is the usual.
pub fn announcement(before: Option<MediaState>, after: MediaState) -> Option<String> {
    let mut said = Vec::new();
    match before {
        None => {
            match (after.mic, after.camera) {
                (false, false) => said.push("The other person's microphone and camera are off."),
                (false, true) => said.push("The other person's microphone is off."),
                (true, false) => said.push("The other person's camera is off."),
                (true, true) => {}
            }
            if after.screen {
                said.push("The other person is sharing their screen.");
            }
        }
        Some(before) => {
            if before.mic != after.mic {
                said.push(if after.mic {
                    "The other person turned their microphone on."
                } else {
                    "The other person muted their microphone."
                });
            }
            if before.camera != after.camera {
                said.push(if after.camera {
                    "The other person turned their camera on."
                } else {
                    "The other person turned their camera off."
                });
            }
            if before.screen != after.screen {
                said.push(if after.screen {
                    "The other person started sharing their screen."
                } else {
                    "The other person stopped sharing their screen."
                });
            }
        }
    }
    (!said.is_empty()).then(|| said.join(" "))
}

#[cfg(test)]
mod tests {
    use super::*;

    const ON: MediaState = MediaState::ALL_ON;

    fn state(mic: bool, camera: bool, screen: bool) -> MediaState {
        MediaState { mic, camera, screen }
    }

    #[test]
    fn at_the_start_only_what_is_off_is_said() {
        assert_eq!(announcement(None, ON), None);
        assert_eq!(
            announcement(None, state(false, true, false)).as_deref(),
            Some("The other person's microphone is off.")
        );
        assert_eq!(
            announcement(None, state(false, false, true)).as_deref(),
            Some(
                "The other person's microphone and camera are off. The other person is sharing \
                 their screen."
            )
        );
    }

    #[test]
    fn each_change_is_said_once_and_no_change_says_nothing() {
        assert_eq!(announcement(Some(ON), ON), None);
        assert_eq!(
            announcement(Some(ON), state(false, true, false)).as_deref(),
            Some("The other person muted their microphone.")
        );
        assert_eq!(
            announcement(Some(state(false, false, false)), ON).as_deref(),
            Some(
                "The other person turned their microphone on. The other person turned their camera on."
            )
        );
        assert_eq!(
            announcement(Some(ON), state(true, false, true)).as_deref(),
            Some(
                "The other person turned their camera off. The other person started sharing \
                 their screen."
            )
        );
        assert_eq!(
            announcement(Some(state(true, true, true)), ON).as_deref(),
            Some("The other person stopped sharing their screen.")
        );
    }
}
