//! base64url without padding, as every byte string in Shieldcall's messages and links is
//! spelled.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// `bytes` as base64url without padding.
pub fn encode(bytes: &[u8]) -> String {
    URL_SAFE_NO_PAD.encode(bytes)
}

/// The bytes of a base64url text without padding; `None` if it is not one.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    URL_SAFE_NO_PAD.decode(text).ok()
}

/// 16 bytes as call ids, commitments and link secrets (and the relay's rejoin tokens) spell
/// them: base64url without padding, 22 characters.
pub fn encode16(bytes: &[u8; 16]) -> String {
    encode(bytes)
}

/// The 16 bytes of [`encode16`]'s spelling: exactly 22 characters, canonical.
pub fn decode16(text: &str) -> Option<[u8; 16]> {
    if text.len() != 22 {
        return None;
    }
    // The decoder refuses non-zero trailing bits, so each 16-byte value has one spelling.
    decode(text)?.try_into().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sixteen_bytes_have_one_spelling_of_22_characters() {
        let bytes: [u8; 16] = std::array::from_fn(|i| i as u8 * 17);
        let text = encode16(&bytes);
        assert_eq!(text, "ABEiM0RVZneImaq7zN3u_w");
        assert_eq!(decode16(&text), Some(bytes));
        assert_eq!(decode16("ABEiM0RVZneImaq7zN3u_x"), None, "non-zero trailing bits");
        assert_eq!(decode16("ABEiM0RVZneImaq7zN3u_w=="), None, "padding");
        assert_eq!(decode16("ABEiM0RVZneImaq7zN3u/w"), None, "standard alphabet");
        assert_eq!(decode16("AAAA"), None);
        assert_eq!(decode(&encode(b"any length")), Some(b"any length".to_vec()));
        assert_eq!(decode("not base64!"), None);
    }
}
