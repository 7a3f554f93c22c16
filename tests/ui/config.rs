//! config.json in headless Chromium: boot.js fetches it beside the app's wasm and the app takes
//! what it read, or the defaults where the file is missing or malformed (its parsing is a host
//! test in shieldcall-call; boot.js itself runs in every end-to-end test).

use js_sys::{Object, Promise, Reflect};
use leptos::prelude::*;
use shieldcall::config::{
    AppConfig, ConfigSignal, provide_app_config, use_app_config, use_loaded_config,
};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

use crate::common::{Restore, container, eventually, text};

const POLICY_OFF: &str = r#"{"iceServers": [], "policy": {"e2eeAllowed": false}}"#;

/// boot.js's `window.shieldcallConfig`, with `fields` set (`None` removes it).
fn boot_config(fields: Option<&[(&str, JsValue)]>) -> Object {
    let boot = Object::new();
    for (name, value) in fields.unwrap_or_default() {
        Reflect::set(&boot, &(*name).into(), value).unwrap();
    }
    let window = web_sys::window().unwrap();
    match fields {
        Some(_) => Reflect::set(&window, &"shieldcallConfig".into(), &boot).unwrap(),
        None => Reflect::delete_property(&window, &"shieldcallConfig".into()).unwrap(),
    };
    boot
}

/// What the app's config contexts say: whether it has been read, and if so whether it allows
/// E2EE and equals the [`ConfigSignal`]'s.
fn mount_app_config() -> (web_sys::HtmlElement, impl Sized) {
    let root = container();
    let app = leptos::mount::mount_to(root.clone(), || {
        provide_app_config();
        let (config, loaded) = (use_app_config(), use_loaded_config());
        let state = move || loaded.get().map(|c| (c.e2ee_allowed, c == config.get()));
        view! { <p>{move || format!("{:?}", state())}</p> }
    });
    (root, app)
}

#[wasm_bindgen_test]
async fn what_boot_js_read_draws_the_first_page_and_a_missing_or_malformed_file_the_defaults() {
    // Whatever happens below, no later test finds a config of this one's.
    let _gone = Restore::new(|| _ = boot_config(None));
    // Read by the time the app starts: the first page has it, nothing to wait for.
    boot_config(Some(&[("text", POLICY_OFF.into())]));
    assert_eq!(text(&mount_app_config().0), "Some((false, true))");
    // Missing, or not JSON: the defaults (E2EE allowed), at once too.
    boot_config(Some(&[("problem", "HTTP 404".into())]));
    assert_eq!(text(&mount_app_config().0), "Some((true, true))");
    boot_config(Some(&[("text", "{oops".into())]));
    assert_eq!(text(&mount_app_config().0), "Some((true, true))");

    // On its way: `None` (the call page waits), then what boot.js read once `ready` settles.
    let mut settle = None;
    let ready = Promise::new(&mut |resolve, _| settle = Some(resolve));
    let boot = boot_config(Some(&[("ready", ready.into())]));
    let (root, _app) = mount_app_config();
    assert_eq!(text(&root), "None");
    Reflect::set(&boot, &"text".into(), &POLICY_OFF.into()).unwrap();
    settle.unwrap().call0(&JsValue::NULL).unwrap();
    assert!(eventually(5000, || text(&root) == "Some((false, true))").await, "{}", text(&root));

    // A page without boot.js: the defaults, a moment later.
    boot_config(None);
    let (root, _app) = mount_app_config();
    assert_eq!(text(&root), "None");
    assert!(eventually(5000, || text(&root) == "Some((true, true))").await, "{}", text(&root));
}

#[wasm_bindgen_test]
fn a_provided_config_is_loaded_already() {
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
