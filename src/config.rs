//! The app's configuration, `config.json`, served beside the app: ICE servers, the ICE
//! transport policy (`"relay"` sends media only through TURN) and the organisation's end-to-end
//! encryption policy. Parsed by `shieldcall_call::config` (host-tested); fetched, and given to
//! every page as context, here.
//!
//! ```json
//! {"iceServers": [{"urls": "stun:stun.example.org"}], "iceTransportPolicy": "all",
//!  "policy": {"e2eeAllowed": true}}
//! ```
//! A missing or malformed file means: no ICE servers, E2EE allowed (and a console warning).

use leptos::prelude::*;
pub use shieldcall_call::config::{AppConfig, IceServer};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;

/// Fetch and parse `url` (the app uses `/config.json`). Never fails: a missing, unreachable or
/// malformed file gives [`AppConfig::default`], and says so on the console.
pub async fn load_config(url: &str) -> AppConfig {
    match fetch_text(url).await {
        Ok(text) => match AppConfig::from_json(&text) {
            Ok(config) => config,
            Err(err) => {
                warn(&format!(
                    "{url} is malformed ({err}); using the defaults: no ICE servers, end-to-end \
                     encryption allowed"
                ));
                AppConfig::default()
            }
        },
        Err(why) => {
            warn(&format!(
                "{url} could not be loaded ({why}); using the defaults: no ICE servers, end-to-end \
                 encryption allowed"
            ));
            AppConfig::default()
        }
    }
}

async fn fetch_text(url: &str) -> Result<String, String> {
    let window = web_sys::window().ok_or("no window")?;
    let response = JsFuture::from(window.fetch_with_str(url))
        .await
        .map_err(|_| "the request failed".to_string())?;
    let response: web_sys::Response = response.dyn_into().map_err(|_| "not a response")?;
    if !response.ok() {
        return Err(format!("HTTP {}", response.status()));
    }
    let text = response.text().map_err(|_| "the body could not be read")?;
    let text = JsFuture::from(text).await.map_err(|_| "the body could not be read")?;
    text.as_string().ok_or_else(|| "the body is not text".into())
}

fn warn(message: &str) {
    web_sys::console::warn_1(&format!("shieldcall: {message}").into());
}

/// The configuration as the app provides it: defaults until `config.json` has arrived.
pub type ConfigSignal = Signal<AppConfig>;

/// The configuration once `config.json` has arrived (`None` until then), for what must not
/// start on the defaults: a call, with its ICE servers and policy.
pub type LoadedConfig = Signal<Option<AppConfig>>;

/// Provide the configuration to every component below, the single fetch of `/config.json`: as
/// a [`ConfigSignal`] context that starts at the defaults and updates once the file has been
/// loaded, and as a [`LoadedConfig`] context that is `None` until then.
pub fn provide_app_config() {
    let loaded = RwSignal::new(None::<AppConfig>);
    leptos::task::spawn_local(async move {
        let config = load_config("/config.json").await;
        crate::browser::timeline::mark("config loaded");
        loaded.try_set(Some(config));
    });
    provide_context::<LoadedConfig>(loaded.into());
    provide_context::<ConfigSignal>(Signal::derive(move || loaded.get().unwrap_or_default()));
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
