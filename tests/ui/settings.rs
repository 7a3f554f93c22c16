//! The settings page in headless Chromium: the E2EE toggle, kept across remounts, and the
//! organisation's policy that overrides it.

use leptos::prelude::*;
use shieldcall::config::{AppConfig, ConfigSignal};
use shieldcall::routes::{POLICY_DISABLED, SettingsPage};
use wasm_bindgen::JsCast;
use wasm_bindgen_test::*;
use web_sys::HtmlInputElement;

use crate::common::{EmptyStorage, attr, container, find, settle, text};

#[wasm_bindgen_test]
async fn the_toggle_persists_across_a_remount() {
    let _storage = EmptyStorage::new();
    let root = container();
    let page = leptos::mount::mount_to(root.clone(), || view! { <SettingsPage narrow=false /> });
    settle().await;
    let toggle: HtmlInputElement =
        find(&root, "input[type=checkbox][data-setting=e2ee]").unchecked_into();
    assert!(toggle.checked() && !toggle.disabled());
    toggle.click();
    settle().await;
    drop(page);

    let _page = leptos::mount::mount_to(root.clone(), || view! { <SettingsPage narrow=false /> });
    settle().await;
    let toggle: HtmlInputElement = find(&root, "input[data-setting=e2ee]").unchecked_into();
    assert!(!toggle.checked(), "still off after the remount");
    toggle.click();
    settle().await;
    assert!(toggle.checked());
}

#[wasm_bindgen_test]
async fn the_organisations_policy_disables_the_toggle_and_says_why() {
    let _storage = EmptyStorage::new();
    let config = RwSignal::new(AppConfig { e2ee_allowed: false, ..AppConfig::default() });
    let root = container();
    let _page = leptos::mount::mount_to(root.clone(), move || {
        provide_context::<ConfigSignal>(config.into());
        view! { <SettingsPage narrow=false /> }
    });
    settle().await;
    let toggle: HtmlInputElement = find(&root, "input[data-setting=e2ee]").unchecked_into();
    assert!(toggle.disabled(), "the policy disables the toggle");
    assert!(!toggle.checked(), "and shows E2EE off");
    assert!(text(&root).contains(POLICY_DISABLED));
    let hint = find(&root, &format!("[id='{}']", attr(&toggle, "aria-describedby").unwrap()));
    assert!(text(&hint).contains(POLICY_DISABLED), "the reason describes the toggle");

    // The person's own choice is kept for when the policy changes.
    config.update(|c| c.e2ee_allowed = true);
    settle().await;
    assert!(!toggle.disabled() && toggle.checked());
    assert!(!text(&root).contains(POLICY_DISABLED));
}

#[wasm_bindgen_test]
async fn the_settings_group_is_privacy_when_wide_and_calling_when_narrow() {
    let narrow = RwSignal::new(false);
    let root = container();
    let _page = leptos::mount::mount_to(root.clone(), move || view! { <SettingsPage narrow /> });
    settle().await;
    let group = find(&root, "[data-settings-group]");
    assert_eq!(text(&group), "Privacy");
    narrow.set(true);
    settle().await;
    assert_eq!(text(&group), "Calling");
    assert!(find(&root, ".settings").class_list().contains("narrow"));
}
