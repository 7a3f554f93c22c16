//! Call links: making one (the host) and reading one (the guest).
//!
//! The host's ephemeral secret stays in this page's memory only, keyed by call id, from the
//! moment the link is made until the call page takes it. A reload loses it on purpose.

use std::cell::RefCell;
use std::collections::HashMap;

use shieldcall_e2ee::keys::EphemeralSecret;
use shieldcall_e2ee::link::{CallId, CallLink, Commitment, LinkError};

thread_local! {
    static HOST_KEYS: RefCell<HashMap<String, EphemeralSecret>> = RefCell::default();
}

/// A link made by "New call".
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NewCall {
    /// The whole link to share: `{origin}/call/{id}#k={commitment}`.
    pub link: String,
    /// The path of the call page on this origin.
    pub path: String,
}

impl NewCall {
    /// Make a call id and this call's key pair; keep the key for the call page.
    pub fn make() -> Result<Self, String> {
        let origin =
            web_sys::window().and_then(|w| w.location().origin().ok()).ok_or("no page origin")?;
        let mut rng = rand_core::OsRng;
        let id = CallId::generate(&mut rng);
        let keys = EphemeralSecret::generate(&mut rng);
        let commitment = Commitment::to_key(keys.public_key());
        let path = format!("/call/{id}");
        let link = format!("{origin}{path}#k={commitment}");
        HOST_KEYS.with(|k| k.borrow_mut().insert(id.to_string(), keys));
        Ok(Self { link, path })
    }
}

/// Which side of a call this page is on.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum CallRole {
    /// This page made the link.
    Host,
    /// This page opened someone's link, which commits to their key.
    Guest { commitment: Commitment },
}

/// The role for the call page at `href`, whose path names the call `id`: the host if this page
/// made the call, otherwise a guest holding the link's commitment.
pub fn role_for(id: &str, href: &str) -> Result<CallRole, LinkError> {
    CallId::parse(id)?;
    if HOST_KEYS.with(|k| k.borrow().contains_key(id)) {
        return Ok(CallRole::Host);
    }
    let link = CallLink::parse(href)?;
    Ok(CallRole::Guest { commitment: link.commitment })
}

/// Take the host's key for a call made on this page (once).
pub fn take_host_keys(id: &str) -> Option<EphemeralSecret> {
    HOST_KEYS.with(|k| k.borrow_mut().remove(id))
}
