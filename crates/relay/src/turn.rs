//! Short-lived TURN credentials, in the TURN REST API scheme that coturn checks with
//! `use-auth-secret` / `static-auth-secret` (coturn's `turnserver(1)`, "TURN REST API"):
//!
//! ```text
//! username   = "<expiry, unix seconds>:<opaque id>"
//! credential = base64(HMAC-SHA1(shared secret, username))
//! ```
//!
//! coturn recomputes the credential from the username and the secret it shares with the relay,
//! and refuses a username whose expiry has passed: no user database, nothing to revoke. The
//! opaque id is random, not the call id, so coturn's logs cannot tie a relayed flow to a call.
//! The relay hands these out in `joined` ([`shieldcall_protocol::TurnCredentials`]).

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;
use shieldcall_protocol::TurnCredentials;

/// How long credentials stay valid unless `--turn-ttl` says otherwise. A rejoin (a lost
/// socket, a room the relay dropped as idle) brings fresh ones, so a long call is not stuck
/// with the first.
pub const DEFAULT_TTL_SECS: u64 = 3600;

/// The secret shared with the TURN server. Never in `Debug`, logs or the command line (it is
/// read from a file: arguments show in `ps`).
#[derive(Clone)]
pub struct TurnSecret(zeroize::Zeroizing<Vec<u8>>);

impl TurnSecret {
    /// The secret as a file holds it: surrounding whitespace (a trailing newline) is not part
    /// of it, as coturn's `static-auth-secret=` line has none. Empty is an error.
    pub fn from_file_text(text: &str) -> Result<TurnSecret, String> {
        let secret = text.trim();
        if secret.is_empty() {
            return Err("the TURN secret file is empty".into());
        }
        Ok(TurnSecret(zeroize::Zeroizing::new(secret.as_bytes().to_vec())))
    }
}

impl std::fmt::Debug for TurnSecret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("TurnSecret(<redacted>)")
    }
}

/// The relay's TURN settings: the shared secret, the servers' URLs, and how long each
/// credential lasts.
#[derive(Clone, Debug)]
pub struct TurnConfig {
    pub secret: TurnSecret,
    /// `turn:` / `turns:` URLs, handed to the pages as they are.
    pub urls: Vec<String>,
    pub ttl_secs: u64,
}

impl TurnConfig {
    /// Credentials for one place in a room, valid from `now_unix` for the configured time.
    /// `id` is the username's opaque part (random in [`TurnConfig::issue_now`]).
    pub fn issue(&self, now_unix: u64, id: &str) -> TurnCredentials {
        let username = format!("{}:{id}", now_unix.saturating_add(self.ttl_secs));
        let credential = credential(&self.secret, &username);
        TurnCredentials { urls: self.urls.clone(), username, credential, ttl: self.ttl_secs }
    }

    /// [`TurnConfig::issue`] with the system clock and a random id (9 bytes, base64url).
    pub fn issue_now(&self) -> TurnCredentials {
        let now = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_secs());
        let mut id = [0u8; 9];
        // Without the OS's randomness the relay cannot run safely at all.
        getrandom::getrandom(&mut id).expect("the OS provides randomness");
        self.issue(now, &base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id))
    }
}

/// base64(HMAC-SHA1(secret, username)), standard alphabet with padding, as coturn computes it.
pub fn credential(secret: &TurnSecret, username: &str) -> String {
    // HMAC takes a key of any length.
    let mut mac = Hmac::<Sha1>::new_from_slice(&secret.0).expect("HMAC accepts any key length");
    mac.update(username.as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

/// A URL the page can use with these credentials: `turn:` or `turns:` and a host.
pub fn is_turn_url(url: &str) -> bool {
    let rest = url.strip_prefix("turn:").or_else(|| url.strip_prefix("turns:"));
    rest.is_some_and(|r| !r.is_empty() && !r.chars().any(char::is_whitespace))
}

#[cfg(test)]
mod tests {
    // In tests `unwrap` is an assertion.
    use super::*;

    fn config(secret: &str, ttl_secs: u64) -> TurnConfig {
        TurnConfig {
            secret: TurnSecret::from_file_text(secret).unwrap(),
            urls: vec!["turn:127.0.0.1:3478?transport=udp".into()],
            ttl_secs,
        }
    }

    #[test]
    fn known_answer_computed_independently() {
        // printf '%s' '1700003600:q2dY9ux5Tc0' | openssl dgst -sha1 -hmac 'north-wind' -binary | base64
        // and python3's hmac.new(b'north-wind', b'1700003600:q2dY9ux5Tc0', hashlib.sha1) agree:
        let turn = config("north-wind\n", 3600).issue(1_700_000_000, "q2dY9ux5Tc0");
        assert_eq!(turn.username, "1700003600:q2dY9ux5Tc0");
        assert_eq!(turn.credential, "rfrzgI1NIb0iKoiLrkS11bOyJpg=");
        assert_eq!(turn.ttl, 3600);
        assert_eq!(turn.urls, ["turn:127.0.0.1:3478?transport=udp"]);
        // RFC 2202 test case 2 (HMAC-SHA1, key "Jefe"): effcdf6ae5eb2fa2d27416d5f184df9c259a7c79.
        let rfc = credential(
            &TurnSecret::from_file_text("Jefe").unwrap(),
            "what do ya want for nothing?",
        );
        assert_eq!(rfc, "7/zfauXrL6LSdBbV8YTfnCWafHk=");
    }

    #[test]
    fn the_username_says_when_it_expires_and_each_changes_the_credential() {
        let turn = config("s", 60);
        let a = turn.issue(1000, "a");
        assert_eq!(a.username, "1060:a");
        let later = turn.issue(1001, "a");
        let other = turn.issue(1000, "b");
        let other_secret = config("t", 60).issue(1000, "a");
        assert_eq!(other_secret.username, a.username);
        for different in [&later, &other, &other_secret] {
            assert_ne!(different.credential, a.credential);
        }
        // Fresh ids: two places never share a username.
        let (x, y) = (turn.issue_now(), turn.issue_now());
        assert_ne!(x.username, y.username);
        let (expiry, id) = x.username.split_once(':').unwrap();
        let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap();
        let expiry: u64 = expiry.parse().unwrap();
        assert!(expiry >= now.as_secs() + 59 && expiry <= now.as_secs() + 61, "{expiry}");
        assert_eq!(id.len(), 12, "9 random bytes, base64url");
    }

    #[test]
    fn the_secret_is_trimmed_never_empty_and_never_shown() {
        let a = credential(&TurnSecret::from_file_text("  s3cret\r\n").unwrap(), "u");
        assert_eq!(a, credential(&TurnSecret::from_file_text("s3cret").unwrap(), "u"));
        assert!(TurnSecret::from_file_text(" \n").is_err());
        let debug = format!("{:?}", config("s3cret", 1));
        assert!(!debug.contains("s3cret"), "{debug}");
    }

    #[test]
    fn turn_urls() {
        assert!(is_turn_url("turn:turn.example.org:3478?transport=udp"));
        assert!(is_turn_url("turns:turn.example.org:5349"));
        for bad in ["stun:s.example.org", "turn:", "https://x", "turn:a b", ""] {
            assert!(!is_turn_url(bad), "{bad}");
        }
    }
}
