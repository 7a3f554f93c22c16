//! config.json in headless Chromium: fetched once, with the defaults where it is missing or
//! malformed (its parsing is a host test in shieldcall-call).

use leptos::prelude::*;
use shieldcall::config::{
    AppConfig, ConfigSignal, load_config, provide_app_config, use_app_config, use_loaded_config,
};
use wasm_bindgen_test::*;

use crate::common::{container, eventually, text};

/// The parsing itself is a host test (`shieldcall_call::config`); this is the fetch.
#[wasm_bindgen_test]
async fn config_json_is_fetched_and_falls_back_to_defaults() {
    // A file that is there, one that is not, one that is not JSON.
    let served = blob_url(r#"{"iceServers": [], "policy": {"e2eeAllowed": false}}"#);
    assert!(!load_config(&served).await.e2ee_allowed);
    assert_eq!(load_config("/no-such-config.json").await, AppConfig::default());
    assert_eq!(load_config(&blob_url("{oops")).await, AppConfig::default());
}

#[wasm_bindgen_test]
async fn the_call_page_waits_for_the_apps_config_and_a_provided_one_is_loaded_already() {
    // The app's one fetch of config.json: the defaults meanwhile, and `None` for the call page,
    // which waits for it.
    let root = container();
    let _app = leptos::mount::mount_to(root.clone(), || {
        provide_app_config();
        let (config, loaded) = (use_app_config(), use_loaded_config());
        view! { <p>{move || format!("{:?}", loaded.get().map(|c| c == config.get()))}</p> }
    });
    assert_eq!(text(&root), "None");
    assert!(eventually(5000, || text(&root) == "Some(true)").await, "{}", text(&root));

    // A test's own configuration counts as loaded.
    let root = container();
    let _page = leptos::mount::mount_to(root.clone(), || {
        let policy_off = AppConfig { e2ee_allowed: false, ..AppConfig::default() };
        provide_context::<ConfigSignal>(Signal::stored(policy_off));
        let loaded = use_loaded_config();
        view! { <p>{move || format!("{:?}", loaded.get().map(|c| c.e2ee_allowed))}</p> }
    });
    assert_eq!(text(&root), "Some(false)");
}

fn blob_url(text: &str) -> String {
    let parts = js_sys::Array::of1(&text.into());
    let blob = web_sys::Blob::new_with_str_sequence(&parts).unwrap();
    web_sys::Url::create_object_url_with_blob(&blob).unwrap()
}
