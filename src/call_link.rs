//! Call links: making one (the host) and reading one (the guest).
//!
//! The host's ephemeral secret and the link secret stay in this page's memory only, keyed by
//! call id, from the moment the link is made until the call page takes them. A reload loses them
//! on purpose.

use std::cell::RefCell;

use shieldcall_call::move_link::{MoveLink, MoveLinkError};
use shieldcall_call::pickup::Arrival;
use shieldcall_e2ee::keys::EphemeralSecret;
use shieldcall_e2ee::link::{CallLink, Commitment, LinkError, LinkSecret, new_call_id};
use shieldcall_protocol::CallId;

/// What the host keeps of a call it made: its key (the link commits to it) and the link secret.
pub struct HostSecrets {
    pub key: EphemeralSecret,
    pub link_secret: LinkSecret,
}

thread_local! {
    /// How the latest link that takes someone's place came ([`role_for`] reads it).
    static ARRIVAL: std::cell::Cell<Arrival> = const { std::cell::Cell::new(Arrival::Move) };
    /// The host's secrets of each call made on this page, by call id (a few at most: a plain
    /// list, where a hash map cost the page's wasm its own code).
    static HOST_SECRETS: RefCell<Vec<(String, HostSecrets)>> = RefCell::default();
}

/// A link made by "New call".
#[derive(Clone, PartialEq, Eq)]
pub struct NewCall {
    /// The whole link to share: `{origin}/call/{id}#k={commitment}&s={secret}`.
    pub link: String,
    /// The path of the call page on this origin.
    pub path: String,
}

/// The path only: the link carries the secret.
impl std::fmt::Debug for NewCall {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewCall").field("path", &self.path).finish_non_exhaustive()
    }
}

impl NewCall {
    /// Make a call id, this call's key pair and link secret; keep both for the call page.
    pub fn make() -> Result<Self, String> {
        let origin =
            web_sys::window().and_then(|w| w.location().origin().ok()).ok_or("no page origin")?;
        let mut rng = rand_core::OsRng;
        let call_id = new_call_id(&mut rng);
        let key = EphemeralSecret::generate(&mut rng);
        let link_secret = LinkSecret::generate(&mut rng);
        let link = CallLink {
            origin,
            call_id,
            commitment: key.public_key().commitment(),
            secret: link_secret.clone(),
        };
        let id = call_id.to_string();
        HOST_SECRETS.with(|s| {
            let mut secrets = s.borrow_mut();
            // A call id made twice keeps only its latest secrets, as a map would.
            secrets.retain(|(call, _)| *call != id);
            secrets.push((id, HostSecrets { key, link_secret }));
        });
        Ok(Self { link: link.to_shareable(), path: format!("/call/{call_id}") })
    }
}

/// Which side of a call this page is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallRole {
    /// This page made the link.
    Host,
    /// This page opened someone's link, which commits to their key and carries the secret.
    Guest { commitment: Commitment, link_secret: LinkSecret },
    /// This page opened a move link: it takes the place of the device that showed it.
    Moved(MoveLink),
}

/// The role for the call page at `href`, whose path names the call `id`: the host if this page
/// made the call, otherwise a guest holding the link's commitment and secret.
pub fn role_for(id: &str, href: &str) -> Result<CallRole, LinkError> {
    CallId::parse(id)?;
    let fragment = href.split_once('#').map_or("", |(_, fragment)| fragment);
    match MoveLink::parse_fragment(fragment) {
        Ok(link) => {
            ARRIVAL.with(|a| a.set(Arrival::of_fragment(fragment)));
            return Ok(CallRole::Moved(link));
        }
        Err(MoveLinkError::Malformed) => return Err(LinkError::NotACallLink),
        Err(MoveLinkError::NotAMove) => {}
    }
    if HOST_SECRETS.with(|s| s.borrow().iter().any(|(call, _)| call == id)) {
        return Ok(CallRole::Host);
    }
    let link = CallLink::parse(href)?;
    Ok(CallRole::Guest { commitment: link.commitment, link_secret: link.secret })
}

thread_local! {
    /// The held call's pickup path while this tab consults someone about it.
    static CONSULTING: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// This tab consults someone about the held call at `path` (its pickup link's path).
pub fn start_consulting(path: String) {
    CONSULTING.with(|c| *c.borrow_mut() = Some(path));
}

/// The held call's pickup path, if this tab consults someone about it.
pub fn consulting() -> Option<String> {
    CONSULTING.with(|c| c.borrow().clone())
}

/// Go to `path` (a call's page with a fragment) with a fresh load, even from the same call's
/// page, where a new fragment alone would load nothing.
pub fn open_fresh(path: &str) {
    let Some(window) = web_sys::window() else { return };
    let location = window.location();
    let same_page = location.pathname().ok().as_deref() == path.split('#').next();
    let _ = location.set_href(path);
    if same_page {
        let _ = location.reload();
    }
}

/// How the page's link that takes someone's place came: a move, a pickup, a transfer.
pub fn arrival() -> Arrival {
    ARRIVAL.with(std::cell::Cell::get)
}

/// Take the host's secrets for a call made on this page (once).
pub fn take_host_secrets(id: &str) -> Option<HostSecrets> {
    HOST_SECRETS.with(|s| {
        let mut secrets = s.borrow_mut();
        let at = secrets.iter().position(|(call, _)| call == id)?;
        Some(secrets.remove(at).1)
    })
}

/// Where this tab keeps a guest's link fragment for `id`, so that a reload finds it.
fn stored_link_key(id: &str) -> String {
    format!("shieldcall.link.{id}")
}

fn session_storage() -> Option<web_sys::Storage> {
    web_sys::window()?.session_storage().ok()?
}

/// The link this page was opened with, taken out of sight: the fragment (`#k=...&s=...`, the
/// key commitment and the link secret) leaves the address bar and this tab's history entry at
/// once (the browser's global history may still hold the link as first opened), and is
/// kept in this tab's session storage only, so that a reload of the call finds it again. It goes
/// when the tab closes or the call is left ([`forget_link`]). Returns the whole link to read.
pub fn take_link_from_address_bar(id: &str) -> String {
    let Some(window) = web_sys::window() else { return String::new() };
    let location = window.location();
    let href = location.href().unwrap_or_default();
    let Some((without_fragment, fragment)) = href.split_once('#') else {
        // No fragment: a reload, or a link that lost it. This tab may still hold it.
        let stored = session_storage().and_then(|s| s.get_item(&stored_link_key(id)).ok()?);
        return match stored {
            Some(fragment) => format!("{href}#{fragment}"),
            None => href,
        };
    };
    // A move link's token works once: a reload could not use it again, so it is not kept.
    let moving = MoveLink::parse_fragment(fragment).is_ok();
    if let Some(storage) = session_storage().filter(|_| !moving) {
        let _ = storage.set_item(&stored_link_key(id), fragment);
    }
    if let Ok(history) = window.history() {
        let _ = history.replace_state_with_url(
            &wasm_bindgen::JsValue::NULL,
            "",
            Some(without_fragment),
        );
    }
    href
}

/// After a re-keyed move (PROTOCOL.md change 44) a guest's tab keeps, for a reload, the link
/// as it now stands: the commitment to the host key in use and the move's secret.
pub fn keep_link(id: &str, commitment: &Commitment, secret: &LinkSecret) {
    if let Some(storage) = session_storage() {
        let fragment = format!("k={commitment}&s={}", secret.to_link_text());
        let _ = storage.set_item(&stored_link_key(id), &fragment);
    }
}

/// The call is over: this tab no longer keeps its link.
pub fn forget_link(id: &str) {
    if let Some(storage) = session_storage() {
        let _ = storage.remove_item(&stored_link_key(id));
    }
}
