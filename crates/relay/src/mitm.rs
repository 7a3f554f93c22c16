//! TEST-ONLY man-in-the-middle mode (`--mitm-swap-keys`).
//!
//! A real relay never does this: it forwards every message verbatim and never looks inside.
//! This mode exists so that end-to-end tests can prove the app notices a relay that swaps the
//! ephemeral keys in `hello`: the guest's link commitment and the two security codes must then
//! mismatch.

use shieldcall_e2ee::messages::Signal;

/// Valid uncompressed P-256 points (SEC1, 65 bytes, base64url without padding), one per
/// direction so the two sides get different keys: the generator G and 2G. Nobody knows a
/// usable private key for them in this role, and none is needed: the swap only has to be
/// detected, not to succeed.
const SWAPPED_KEYS: [&str; 2] = [
    "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU",
    "BHzyexiNA09-ilI4AwS1GsPAiWnid_IbNaYLSPxHZpl4B3dVENuO0EApPZrGn3Qw27p9reY86YIpngS3nSJ4c9E",
];

/// The key the relay substitutes in hellos sent by the member in `slot` (0: first to join).
pub fn swapped_key(slot: usize) -> &'static str {
    SWAPPED_KEYS[slot % 2]
}

/// If `signal` is a hello, the text to forward instead, with the relay's key in `pub`.
pub fn swap_hello_key(signal: &Signal, slot: usize) -> Option<String> {
    match signal {
        Signal::Hello { v, e2ee, .. } => Some(
            Signal::Hello { v: *v, e2ee: *e2ee, public_key: swapped_key(slot).to_string() }
                .to_json(),
        ),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    // In tests `unwrap` is an assertion.
    use super::*;

    #[test]
    fn only_hellos_change_and_each_direction_differs() {
        let hello = Signal::Hello { v: 1, e2ee: true, public_key: "AAAA".into() };
        let a = swap_hello_key(&hello, 0).unwrap();
        let b = swap_hello_key(&hello, 1).unwrap();
        assert_ne!(a, b);
        assert_eq!(
            Signal::parse(&a).unwrap(),
            Signal::Hello { v: 1, e2ee: true, public_key: SWAPPED_KEYS[0].into() }
        );
        assert_eq!(swap_hello_key(&Signal::Bye {}, 0), None);
    }

    #[test]
    fn the_keys_are_65_byte_uncompressed_points() {
        for key in SWAPPED_KEYS {
            // 65 bytes in unpadded base64url is 87 characters; 0x04 encodes as a leading 'B'.
            assert_eq!(key.len(), 87);
            assert!(key.starts_with('B'));
            assert!(key.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_'));
        }
    }
}
