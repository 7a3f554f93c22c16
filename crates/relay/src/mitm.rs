//! TEST-ONLY man-in-the-middle modes (`--mitm-swap-keys`, `--mitm-flip-e2ee`).
//!
//! A real relay never does this: it forwards every message verbatim and never looks inside.
//! These modes exist so that end-to-end tests can prove the app notices a relay that attacks
//! the hellos: one that swaps the ephemeral keys (the guest's link commitment, both key
//! confirmations and the two security codes must then mismatch), and one that tells the host
//! the guest has E2EE off, to get its media under DTLS only (a downgrade: both key
//! confirmations must then mismatch).

use shieldcall_e2ee::messages::Signal;

/// Valid uncompressed P-256 points (SEC1, 65 bytes, base64url without padding), one per
/// direction so the two sides get different keys: the generator G and 2G. Nobody knows a
/// usable private key for them in this role, and none is needed: the swap only has to be
/// detected, not to succeed.
const SWAPPED_KEYS: [&str; 2] = [
    "BGsX0fLhLEJH-Lzm5WOkQPJ3A32BLeszoPShOUXYmMKWT-NC4v4af5uO5-tKfA-eFivOM1drMV7Oy7ZAaDe_UfU",
    "BHzyexiNA09-ilI4AwS1GsPAiWnid_IbNaYLSPxHZpl4B3dVENuO0EApPZrGn3Qw27p9reY86YIpngS3nSJ4c9E",
];

/// What a test-only man in the middle does to the hellos it forwards.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Attack {
    /// Replace the key in every hello with one of the relay's.
    SwapKeys,
    /// Say `e2ee: false` in the hellos of the second member to join (the guest).
    FlipE2ee,
}

/// The key the relay substitutes in hellos sent by the member in `slot` (0: first to join).
pub fn swapped_key(slot: usize) -> &'static str {
    SWAPPED_KEYS[slot % 2]
}

/// If `attack` changes `signal`, sent by the member in `slot`, the text to forward instead.
pub fn rewrite(attack: Attack, signal: &Signal, slot: usize) -> Option<String> {
    let Signal::Hello { v, e2ee, public_key } = signal else { return None };
    let forged = match attack {
        Attack::SwapKeys => {
            Signal::Hello { v: *v, e2ee: *e2ee, public_key: swapped_key(slot).to_string() }
        }
        Attack::FlipE2ee if slot == 1 => {
            Signal::Hello { v: *v, e2ee: false, public_key: public_key.clone() }
        }
        Attack::FlipE2ee => return None,
    };
    Some(forged.to_json())
}

#[cfg(test)]
mod tests {
    // In tests `unwrap` is an assertion.
    use super::*;

    #[test]
    fn only_hellos_change_and_each_direction_differs() {
        let hello = Signal::Hello { v: 2, e2ee: true, public_key: "AAAA".into() };
        let a = rewrite(Attack::SwapKeys, &hello, 0).unwrap();
        let b = rewrite(Attack::SwapKeys, &hello, 1).unwrap();
        assert_ne!(a, b);
        assert_eq!(
            Signal::parse(&a).unwrap(),
            Signal::Hello { v: 2, e2ee: true, public_key: SWAPPED_KEYS[0].into() }
        );
        assert_eq!(rewrite(Attack::SwapKeys, &Signal::Bye {}, 0), None);
    }

    #[test]
    fn the_downgrade_turns_only_the_guests_e2ee_off() {
        let hello = Signal::Hello { v: 2, e2ee: true, public_key: "AAAA".into() };
        assert_eq!(rewrite(Attack::FlipE2ee, &hello, 0), None);
        assert_eq!(
            Signal::parse(&rewrite(Attack::FlipE2ee, &hello, 1).unwrap()).unwrap(),
            Signal::Hello { v: 2, e2ee: false, public_key: "AAAA".into() }
        );
        let offer = Signal::Offer { sdp: "v=0".into() };
        assert_eq!(rewrite(Attack::FlipE2ee, &offer, 1), None);
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
