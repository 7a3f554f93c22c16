//! The user's settings, persisted in localStorage (never anything secret).

const E2EE_KEY: &str = "shieldcall.e2ee";

fn storage() -> Option<web_sys::Storage> {
    web_sys::window()?.local_storage().ok().flatten()
}

/// Whether "End-to-end encrypted calls" is on. On unless the user turned it off.
pub fn e2ee_enabled() -> bool {
    storage().and_then(|s| s.get_item(E2EE_KEY).ok().flatten()).is_none_or(|value| value != "off")
}

/// Remember the "End-to-end encrypted calls" setting.
pub fn set_e2ee_enabled(enabled: bool) {
    if let Some(storage) = storage() {
        // A full or blocked storage only loses the preference, so the error is not fatal.
        let _ = storage.set_item(E2EE_KEY, if enabled { "on" } else { "off" });
    }
}
