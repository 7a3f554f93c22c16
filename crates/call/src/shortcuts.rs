//! The call screen's keyboard shortcuts: which key does what, for the key handler and for the
//! help dialog that lists them.
//!
//! Single keys, as in Jitsi: they act only when no modifier is held and the focus is not in a
//! text field (the page checks that), and the person can turn them off in the help dialog
//! (WCAG 2.1.4, character key shortcuts). Hanging up has no shortcut: a stray key must never
//! end a call.

/// What a shortcut does.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shortcut {
    Microphone,
    Camera,
    ShareScreen,
    Chat,
    Help,
}

/// Every shortcut, in the order the help dialog lists them.
pub const SHORTCUTS: [Shortcut; 5] =
    [Shortcut::Microphone, Shortcut::Camera, Shortcut::ShareScreen, Shortcut::Chat, Shortcut::Help];

impl Shortcut {
    /// The key as shown (and as `aria-keyshortcuts` names it).
    pub fn key(self) -> &'static str {
        match self {
            Shortcut::Microphone => "M",
            Shortcut::Camera => "V",
            Shortcut::ShareScreen => "S",
            Shortcut::Chat => "C",
            Shortcut::Help => "?",
        }
    }

    /// What it does, in words.
    pub fn what(self) -> &'static str {
        match self {
            Shortcut::Microphone => "Mute or unmute the microphone",
            Shortcut::Camera => "Turn the camera on or off",
            Shortcut::ShareScreen => "Share your screen or stop sharing",
            Shortcut::Chat => "Open or close the chat",
            Shortcut::Help => "Show the keyboard shortcuts",
        }
    }

    /// The shortcut a key press (`KeyboardEvent.key`) stands for. `modified`: Control, Alt or
    /// Meta was held (then it is the browser's or the system's, never ours). Shift is allowed:
    /// it makes "?" on most layouts, and "M" is the same key as "m".
    pub fn for_key(key: &str, modified: bool) -> Option<Shortcut> {
        if modified {
            return None;
        }
        SHORTCUTS.into_iter().find(|s| s.key().eq_ignore_ascii_case(key))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn each_key_maps_to_its_shortcut_in_either_case() {
        for shortcut in SHORTCUTS {
            assert_eq!(Shortcut::for_key(shortcut.key(), false), Some(shortcut));
            let lower = shortcut.key().to_ascii_lowercase();
            assert_eq!(Shortcut::for_key(&lower, false), Some(shortcut));
        }
    }

    #[test]
    fn keys_with_control_alt_or_meta_and_other_keys_do_nothing() {
        assert_eq!(Shortcut::for_key("m", true), None, "Ctrl+M and the like are the browser's");
        for key in ["h", "Enter", "Escape", " ", "mm", "", "Tab"] {
            assert_eq!(Shortcut::for_key(key, false), None, "{key:?}");
        }
    }

    #[test]
    fn keys_are_distinct_and_every_shortcut_is_explained() {
        for (n, a) in SHORTCUTS.iter().enumerate() {
            assert!(!a.what().is_empty());
            for b in &SHORTCUTS[n + 1..] {
                assert_ne!(a.key(), b.key());
            }
        }
    }
}
