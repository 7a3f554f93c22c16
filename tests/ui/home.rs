//! The home page in headless Chromium: it states the E2EE setting as the policy allows it.

use leptos::prelude::*;
use shieldcall::config::{AppConfig, ConfigSignal};
use shieldcall::routes::{Home, POLICY_DISABLED};
use wasm_bindgen_test::*;

use crate::common::{EmptyStorage, attr, container, find, settle, text};

#[wasm_bindgen_test]
async fn the_home_page_states_the_setting_as_the_policy_allows_it() {
    let _storage = EmptyStorage::new();
    let config = RwSignal::new(AppConfig { e2ee_allowed: false, ..AppConfig::default() });
    let root = container();
    let _page = leptos::mount::mount_to(root.clone(), move || {
        provide_context::<ConfigSignal>(config.into());
        view! { <Home /> }
    });
    settle().await;
    // The person has E2EE on (the default), but the organisation turned it off: the page must
    // not say it is on.
    let hint = find(&root, "[data-e2ee-setting]");
    assert_eq!(attr(&hint, "data-e2ee-setting").as_deref(), Some("policy-off"));
    assert!(text(&hint).contains(POLICY_DISABLED), "{}", text(&hint));
    assert!(!text(&hint).contains("is on"), "{}", text(&hint));
    config.update(|c| c.e2ee_allowed = true);
    settle().await;
    assert_eq!(attr(&hint, "data-e2ee-setting").as_deref(), Some("on"));
    assert!(text(&hint).contains("End-to-end encryption is on"));
}
