//! Shieldcall's end-to-end encryption core.
//!
//! Pure Rust: no web-sys, no I/O, no clock, no randomness of its own. Time and randomness come
//! in as arguments, so everything here tests on the host and runs the same in the worker.
//!
//! # Key schedule (per call, both sides compute the same values)
//! ```text
//! host                                  relay (forwards only)                 guest
//! ----                                  ---------------------                 -----
//! e_h <- P-256 (fresh per call)                                   e_g <- P-256 (fresh per call)
//! S <- 16 random bytes
//! link = origin/call/{call_id}#k=C&s=S,  C = SHA-256("shieldcall/v1/commit" || pub_h)[0..16]
//!        (the #fragment goes person to person, never to a server)  ----------------->
//! hello{v:2, e2ee, pub_h}  ------------------------------------------->  check C against pub_h
//!                          <-------------------------------------------  hello{v:2, e2ee, pub_g}
//! offer (a=fingerprint fp_h) ---------------------------------------->
//!                          <-------------------------------------------  answer (fp_g)
//!                          <-------------------------------------------  confirm{mac_g}
//! confirm{mac_h}           ------------------------------------------->
//!        each checks the other's mac against its own TH; lock only when it matches
//!
//! Z   = ECDH(own, peer).x
//! TH  = SHA-256("shieldcall/v2/transcript" || call_id || pub_h || pub_g || fp_h || fp_g
//!               || e2ee_h || e2ee_g)
//! PRK = HKDF-Extract(salt = TH, ikm = Z || S)
//! base_key_host  = HKDF-Expand(PRK, "shieldcall/v2 host media",  Nk)   host sends with it
//! base_key_guest = HKDF-Expand(PRK, "shieldcall/v2 guest media", Nk)   guest sends with it
//! mac_h = HMAC-SHA256(S, "shieldcall/v2 host confirm" || TH), mac_g likewise with "guest"
//! code = SHA-256("shieldcall/v1/code" || TH)[0..10] mod 10^20 -> "12345 67890 12345 67890"
//!
//! epoch e+1:  base_key = HKDF-Expand(HKDF-Extract("", base_key), "SFrame 1.0 Ratchet", Nh)
//! per KID:    secret = HKDF-Extract("", base_key)
//!             sframe_key  = HKDF-Expand(secret, "SFrame 1.0 Secret key "  || KID || suite, Nk)
//!             sframe_salt = HKDF-Expand(secret, "SFrame 1.0 Secret salt " || KID || suite, Nn)
//! KID = (epoch << 4) | slot     slot: 0 mic, 1 camera, 2 screen video, 3 screen audio, 15 chat
//! nonce = sframe_salt XOR CTR (big-endian, right-aligned)
//! ```
//!
//! # One frame on the wire
//! ```text
//! +--------------+--------+------------+------------------------------+---------+
//! | clear prefix | config | KID?, CTR? | ciphertext                   | tag     |
//! | per codec    | 1 byte | 0-16 bytes | = payload length             | 16 (Nt) |
//! +--------------+--------+------------+------------------------------+---------+
//!                 \___ SFrame header ___/
//! config: |X|K K K|Y|C C C|  X=0: KID = KKK; X=1: KID in KKK+1 bytes.  Same for Y, CTR.
//! AAD   = SFrame header || clear prefix    (the prefix is RFC 9605 metadata: authenticated)
//! prefix: Opus 0, VP8 10 (key frame) / 3 (delta frame), VP9 0 (see [`layout`])
//! ```
//!
//! # Modules
//! - [`sframe`]: RFC 9605 frames; [`sframe::Sender`] and [`sframe::Receiver`] for the worker.
//! - [`layout`]: the clear prefix per codec and the KID of each slot.
//! - [`keys`], [`code`], [`link`]: the key schedule, the security code, call links.
//! - [`session`]: the sans-IO session that turns hellos and SDPs into a shield state and keys.
//!
//! The messages it reads and writes (hellos, confirmations, the worker's commands) and the call
//! id are `shieldcall-protocol`'s, shared with the relay, the app and the worker.

pub mod code;
pub mod keys;
pub mod layout;
pub mod link;
mod secret;
pub mod session;
pub mod sframe;

pub use secret::BaseKey;
