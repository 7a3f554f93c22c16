//! A relay cluster's parks, as Redis holds them: sealed under a secret every node shares
//! (`--cluster-secret-file`) and Redis never sees.
//!
//! `POST /pickup`, on any node, must find a park's call and token from the relay's half of its
//! pickup code. Held in clear, the call id and the token would let anyone who reads Redis (its
//! memory, `MONITOR`, a dump) take the held place, and the deposit is what the page's half of
//! the code opens. So a park's record is named by an HMAC of the code and sealed with
//! AES-128-GCM, both keyed from the shared secret:
//!
//! ```text
//! shieldcall:park:<HMAC-SHA256(name key, "code " || code), first 16 bytes, hex>
//!     = nonce (12 random bytes) || AES-128-GCM(seal key, nonce, "call token deposit",
//!                                              aad = the record's own key name)
//! name key = HMAC-SHA256(secret, "shieldcall/cluster park name")
//! seal key = HMAC-SHA256(secret, "shieldcall/cluster park seal"), first 16 bytes
//! ```
//!
//! The record's key name is its AAD, so a record moved under another code does not open.

use aes_gcm::aead::{Aead, Payload};
use aes_gcm::{Aes128Gcm, KeyInit as _, Nonce};
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;
use zeroize::Zeroizing;

use crate::rooms::RejoinToken;

/// The shortest secret accepted: 32 characters (`openssl rand -base64 32` gives 44).
const MIN_SECRET_LEN: usize = 32;

const NONCE_LEN: usize = 12;

/// The keys derived from the cluster's shared secret. Never in `Debug` or logs.
pub struct ParkSeal {
    name_key: Zeroizing<[u8; 32]>,
    cipher: Aes128Gcm,
}

impl std::fmt::Debug for ParkSeal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ParkSeal(<redacted>)")
    }
}

/// What `POST /pickup` answers with, for a live park.
pub struct ParkRecord {
    pub call_id: String,
    pub token: RejoinToken,
    pub deposit: String,
}

impl std::fmt::Debug for ParkRecord {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Each of the three lets someone into the call, or toward it.
        f.write_str("ParkRecord(<redacted>)")
    }
}

fn hmac_sha256(key: &[u8], message: &[u8]) -> Zeroizing<[u8; 32]> {
    // HMAC takes a key of any length.
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    mac.update(message);
    Zeroizing::new(mac.finalize().into_bytes().into())
}

impl ParkSeal {
    /// The keys from the secret as a file holds it (surrounding whitespace is not part of it).
    pub fn from_file_text(text: &str) -> Result<ParkSeal, String> {
        let secret = text.trim();
        if secret.len() < MIN_SECRET_LEN {
            return Err(format!("the cluster secret needs at least {MIN_SECRET_LEN} characters"));
        }
        let name_key = hmac_sha256(secret.as_bytes(), b"shieldcall/cluster park name");
        let seal_key = hmac_sha256(secret.as_bytes(), b"shieldcall/cluster park seal");
        let cipher = Aes128Gcm::new_from_slice(&seal_key[..16]).expect("16 bytes");
        Ok(ParkSeal { name_key, cipher })
    }

    /// The Redis key of the park whose relay half is `code` (as the page sends it, upper case).
    pub fn record_key(&self, code: &str) -> String {
        self.named("shieldcall:park:", "code ", code)
    }

    /// The Redis key that counts the pickup codes `client` (an address as the per-client caps
    /// count it, [`crate::limit::client_of`]) tried this minute, on any node.
    pub fn pickups_key(&self, client: std::net::IpAddr) -> String {
        self.named("shieldcall:pickups:", "client ", &client.to_string())
    }

    /// `prefix` and the first 16 bytes of the name key's HMAC of `kind || text`, in hex.
    fn named(&self, prefix: &str, kind: &str, text: &str) -> String {
        let mac = hmac_sha256(&*self.name_key, [kind, text].concat().as_bytes());
        let hex: String = mac[..16].iter().map(|b| format!("{b:02x}")).collect();
        format!("{prefix}{hex}")
    }

    /// `record` sealed for the key `record_key` names it by.
    pub fn seal(&self, record_key: &str, record: &ParkRecord) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_LEN];
        // Without the OS's randomness the relay cannot run safely at all.
        getrandom::getrandom(&mut nonce).expect("the OS provides randomness");
        let token = Zeroizing::new(record.token.to_text());
        let plain =
            Zeroizing::new(format!("{} {} {}", record.call_id, token.as_str(), record.deposit));
        let payload = Payload { msg: plain.as_bytes(), aad: record_key.as_bytes() };
        let sealed = self.cipher.encrypt(Nonce::from_slice(&nonce), payload).expect("in memory");
        [&nonce[..], &sealed].concat()
    }

    /// The record sealed under `record_key`, or `None` if it does not open (not ours: another
    /// secret, another key, or changed in Redis) or is not a record.
    pub fn open(&self, record_key: &str, sealed: &[u8]) -> Option<ParkRecord> {
        let (nonce, sealed) = sealed.split_at_checked(NONCE_LEN)?;
        let payload = Payload { msg: sealed, aad: record_key.as_bytes() };
        let plain = Zeroizing::new(self.cipher.decrypt(Nonce::from_slice(nonce), payload).ok()?);
        let text = std::str::from_utf8(&plain).ok()?;
        let mut parts = text.split(' ');
        let (Some(call_id), Some(token), Some(deposit), None) =
            (parts.next(), parts.next(), parts.next(), parts.next())
        else {
            return None;
        };
        let token = RejoinToken::parse(token)?;
        Some(ParkRecord { call_id: call_id.to_string(), token, deposit: deposit.to_string() })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "correct horse battery staple, and more\n";

    fn record() -> ParkRecord {
        ParkRecord {
            call_id: "AAAAAAAAAAAAAAAAAAAAAA".into(),
            token: RejoinToken::generate(),
            deposit: "c2VhbGVk".into(),
        }
    }

    #[test]
    fn a_record_opens_under_its_own_key_and_secret_only() {
        let seal = ParkSeal::from_file_text(SECRET).unwrap();
        let key = seal.record_key("ABC123");
        let rec = record();
        let sealed = seal.seal(&key, &rec);
        let opened = seal.open(&key, &sealed).unwrap();
        assert_eq!(
            (opened.call_id.as_str(), opened.deposit.as_str()),
            ("AAAAAAAAAAAAAAAAAAAAAA", "c2VhbGVk")
        );
        assert_eq!(opened.token.to_text(), rec.token.to_text());
        // Another code's key, another secret, a changed byte, a short value: nothing.
        assert!(seal.open(&seal.record_key("ABC124"), &sealed).is_none());
        let other = ParkSeal::from_file_text("another secret of enough characters!").unwrap();
        assert!(other.open(&key, &sealed).is_none());
        for i in [0, NONCE_LEN, sealed.len() - 1] {
            let mut changed = sealed.clone();
            changed[i] ^= 1;
            assert!(seal.open(&key, &changed).is_none(), "byte {i} changed");
        }
        assert!(seal.open(&key, &sealed[..NONCE_LEN - 1]).is_none());
        // A fresh nonce each time.
        assert_ne!(seal.seal(&key, &rec), sealed);
    }

    #[test]
    fn the_key_names_nothing_of_the_code_and_a_short_secret_is_refused() {
        let seal = ParkSeal::from_file_text(SECRET).unwrap();
        let key = seal.record_key("ABC123");
        assert!(key.starts_with("shieldcall:park:") && !key.contains("ABC123"), "{key}");
        assert_eq!(key.len(), "shieldcall:park:".len() + 32);
        assert_eq!(key, ParkSeal::from_file_text(SECRET.trim()).unwrap().record_key("ABC123"));
        let client = seal.pickups_key("2001:db8::".parse().unwrap());
        assert!(client.starts_with("shieldcall:pickups:") && !client.contains("2001"), "{client}");
        assert_eq!(
            format!("{:?}", seal.open(&key, &seal.seal(&key, &record()))),
            "Some(ParkRecord(<redacted>))"
        );
        assert!(ParkSeal::from_file_text(&"x".repeat(31)).is_err());
        assert!(ParkSeal::from_file_text("  \n").is_err());
        assert_eq!(format!("{seal:?}"), "ParkSeal(<redacted>)");
    }
}
