//! The app's pages by path, and links between them that change the page without loading it
//! again (the history API). Three paths and one parameter need no router crate: leptos_router
//! cost the app's release wasm 51 KB after gzip (437 KB with it, 386 without).
//!
//! Every same-origin `<a href>` click on one of the app's pages is taken over here, as a router
//! would: the address bar changes with `pushState` and the page follows; Back and Forward
//! (`popstate`) move it too. Anything else (a new tab, a download, another origin, a modified
//! click) is left to the browser.

use leptos::prelude::*;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use web_sys::{HtmlAnchorElement, MouseEvent};

/// Which page a path shows.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Page {
    Home,
    /// `/call/{id}`: the call's key material stays in the fragment, not here.
    Call {
        id: String,
    },
    Settings,
    NotFound,
}

impl Page {
    /// The page at `path` (a URL's path, without query or fragment). A trailing slash is the
    /// same path.
    pub fn at(path: &str) -> Page {
        let segments: Vec<&str> = path.split('/').filter(|s| !s.is_empty()).collect();
        match segments.as_slice() {
            [] => Page::Home,
            ["settings"] => Page::Settings,
            ["call", id] => Page::Call { id: (*id).to_owned() },
            _ => Page::NotFound,
        }
    }
}

fn address_bar_path() -> String {
    web_sys::window().and_then(|w| w.location().pathname().ok()).unwrap_or_default()
}

/// The page the address bar shows, kept current by in-app links and by Back and Forward.
/// Call once, at the app's root.
pub fn current_page() -> Memo<Page> {
    let path = RwSignal::new(address_bar_path());
    if let Some(window) = web_sys::window() {
        let on_history = Closure::<dyn Fn()>::new(move || path.set(address_bar_path()));
        let _ = window
            .add_event_listener_with_callback("popstate", on_history.as_ref().unchecked_ref());
        on_history.forget();
        let on_click = Closure::<dyn Fn(MouseEvent)>::new(move |event: MouseEvent| {
            if let Some(to) = in_app_link(&event) {
                event.prevent_default();
                go(&to, path);
            }
        });
        if let Some(document) = window.document() {
            let _ = document
                .add_event_listener_with_callback("click", on_click.as_ref().unchecked_ref());
        }
        on_click.forget();
    }
    Memo::new(move |_| Page::at(&path.get()))
}

/// The href of the link `event` clicked, if it is a plain click on a same-origin link to one of
/// the app's pages: what the app shows itself instead of loading a page.
fn in_app_link(event: &MouseEvent) -> Option<String> {
    let plain = event.button() == 0
        && !(event.meta_key() || event.ctrl_key() || event.shift_key() || event.alt_key());
    if !plain || event.default_prevented() {
        return None;
    }
    let target: web_sys::Element = event.target()?.dyn_into().ok()?;
    let anchor: HtmlAnchorElement = target.closest("a[href]").ok()??.dyn_into().ok()?;
    let here = web_sys::window()?.location().origin().ok()?;
    let same_tab = matches!(anchor.target().as_str(), "" | "_self");
    if !same_tab || anchor.has_attribute("download") || anchor.origin() != here {
        return None;
    }
    if Page::at(&anchor.pathname()) == Page::NotFound {
        return None;
    }
    Some(anchor.href())
}

/// Shows the page at `to` (a URL of this origin) and puts it in the history.
fn go(to: &str, path: RwSignal<String>) {
    let Some(window) = web_sys::window() else { return };
    if let Ok(history) = window.history() {
        let _ = history.push_state_with_url(&JsValue::NULL, "", Some(to));
    }
    path.set(address_bar_path());
    window.scroll_to_with_x_and_y(0.0, 0.0);
}

#[cfg(test)]
mod tests {
    use super::Page;
    use wasm_bindgen_test::*;

    #[wasm_bindgen_test]
    fn each_path_shows_its_page() {
        assert_eq!(Page::at("/"), Page::Home);
        assert_eq!(Page::at(""), Page::Home);
        assert_eq!(Page::at("/settings"), Page::Settings);
        assert_eq!(Page::at("/settings/"), Page::Settings);
        assert_eq!(Page::at("/call/Xy_z-1"), Page::Call { id: "Xy_z-1".into() });
        assert_eq!(Page::at("/call"), Page::NotFound, "a call needs its id");
        assert_eq!(Page::at("/call/a/b"), Page::NotFound);
        assert_eq!(Page::at("/nowhere"), Page::NotFound);
    }
}
