//! The app's configuration, `config.json`, served beside the app: ICE servers, the ICE
//! transport policy (`"relay"` sends media only through TURN) and the organisation's end-to-end
//! encryption policy. Parsed by `shieldcall_call::config` (host-tested); fetched by boot.js, and
//! given to every page as context, here.
//!
//! ```json
//! {"iceServers": [{"urls": "stun:stun.example.org"}], "iceTransportPolicy": "all",
//!  "policy": {"e2eeAllowed": true}}
//! ```
//! A missing or malformed file means: no ICE servers, E2EE allowed (and a console warning).

use leptos::prelude::*;
pub use shieldcall_call::config::{AppConfig, IceServer};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;

/// `text` parsed, or the defaults, with a console warning that says why (`text` is why there
/// is none, as an error).
fn config_or_defaults(text: Result<String, String>) -> AppConfig {
    let problem = match text.map(|text| AppConfig::from_json(&text)) {
        Ok(Ok(config)) => return config,
        Ok(Err(err)) => format!("is malformed ({err})"),
        Err(why) => format!("could not be loaded ({why})"),
    };
    web_sys::console::warn_1(
        &format!(
            "shieldcall: config.json {problem}; using the defaults: no ICE servers, end-to-end \
             encryption allowed"
        )
        .into(),
    );
    AppConfig::default()
}

/// The configuration as the app provides it: defaults until `config.json` has arrived.
pub type ConfigSignal = Signal<AppConfig>;

/// The configuration once `config.json` has arrived (`None` until then), for what must not
/// start on the defaults: a call, with its ICE servers and policy.
pub type LoadedConfig = Signal<Option<AppConfig>>;

/// Provide the configuration to every component below: as a [`ConfigSignal`] context that
/// starts at the defaults and updates once `config.json` has been read, and as a
/// [`LoadedConfig`] context that is `None` until then.
///
/// boot.js fetches the file beside the app's wasm (`window.shieldcallConfig`: `text`, or
/// `problem`, once its `ready` promise has settled); when it has been read by the time the app
/// starts, as it usually has, the first page is drawn with it. A page without boot.js gets the
/// defaults.
pub fn provide_app_config() {
    let loaded = RwSignal::new(None::<AppConfig>);
    match boot_config() {
        Some(text) => {
            loaded.set(Some(config_or_defaults(text)));
            crate::browser::timeline::mark("config loaded");
        }
        None => leptos::task::spawn_local(async move {
            if let Ok(ready) = boot_field("ready").dyn_into::<js_sys::Promise>() {
                let _ = JsFuture::from(ready).await;
            }
            let text = boot_config().unwrap_or_else(|| Err("boot.js did not fetch it".into()));
            crate::browser::timeline::mark("config loaded");
            loaded.try_set(Some(config_or_defaults(text)));
        }),
    }
    provide_context::<LoadedConfig>(loaded.into());
    provide_context::<ConfigSignal>(Signal::derive(move || loaded.get().unwrap_or_default()));
}

/// What boot.js has read of config.json: its text, or why there is none; `None` while it is on
/// its way (or on a page without boot.js).
fn boot_config() -> Option<Result<String, String>> {
    match (boot_field("text").as_string(), boot_field("problem").as_string()) {
        (Some(text), _) => Some(Ok(text)),
        (None, Some(problem)) => Some(Err(problem)),
        (None, None) => None,
    }
}

/// `window.shieldcallConfig[name]`, `undefined` where there is none.
fn boot_field(name: &str) -> JsValue {
    let get = |object: &JsValue, name: &str| js_sys::Reflect::get(object, &name.into()).ok();
    web_sys::window()
        .and_then(|window| get(&window, "shieldcallConfig"))
        .and_then(|boot| get(&boot, name))
        .unwrap_or_default()
}

/// The configuration from context, or the defaults where none was provided (tests can provide
/// their own with `provide_context::<ConfigSignal>(Signal::stored(config))`).
pub fn use_app_config() -> ConfigSignal {
    use_context::<ConfigSignal>().unwrap_or_else(|| Signal::stored(AppConfig::default()))
}

/// The configuration once loaded, from context; where only a [`ConfigSignal`] was provided (a
/// test's own), that one, as loaded already.
pub fn use_loaded_config() -> LoadedConfig {
    use_context::<LoadedConfig>().unwrap_or_else(|| {
        let config = use_app_config();
        Signal::derive(move || Some(config.get()))
    })
}
