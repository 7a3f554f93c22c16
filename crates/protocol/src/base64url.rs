//! base64url without padding, as every byte string in Shieldcall's messages and links is
//! spelled.
//!
//! Written here rather than taken from the `base64` crate: its engine was 4 KB of the page's
//! wasm, this a fraction of it. And without tables: most of what is spelled here is secret
//! (link secrets, keys, MACs), so a character's value is computed with masks, never looked up
//! at an index that depends on it (where the time a cache takes could tell it), and a text is
//! read to its end whatever it holds.

/// `bytes` as base64url without padding.
pub fn encode(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let group = u32::from(b[0]) << 16 | u32::from(b[1]) << 8 | u32::from(b[2]);
        // 2, 3 or 4 characters for 1, 2 or 3 bytes.
        for i in 0..=chunk.len() {
            out.push(char::from(encode6((group >> (18 - 6 * i)) as u8 & 63)));
        }
    }
    out
}

/// The bytes of a base64url text without padding; `None` if it is not one. Canonical: the
/// unused bits of the last character must be zero, so each byte string has one spelling.
pub fn decode(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    if text.len() % 4 == 1 {
        return None;
    }
    let mut out = Vec::with_capacity(text.len() / 4 * 3 + 2);
    // Negative once any character was not one of the alphabet's.
    let mut invalid: i16 = 0;
    for chunk in text.chunks(4) {
        let mut group = 0u32;
        for (i, &c) in chunk.iter().enumerate() {
            let value = decode6(c);
            invalid |= value;
            group |= (value as u32 & 63) << (18 - 6 * i);
        }
        let bytes = group.to_be_bytes();
        // 4, 3 or 2 characters hold 3, 2 or 1 bytes; what is left over must be zero.
        let kept = chunk.len() - 1;
        out.extend_from_slice(&bytes[1..1 + kept]);
        invalid |= -i16::from(bytes[1 + kept..].iter().fold(0, |any, b| any | b) != 0);
    }
    (invalid >= 0).then_some(out)
}

/// The character of a 6-bit value: `A-Z`, `a-z`, `0-9`, `-`, `_`.
fn encode6(value: u8) -> u8 {
    let v = i16::from(value);
    // All ones where v > limit, from the sign of limit - v.
    let above = |limit: i16| (limit - v) >> 8;
    let c = i16::from(b'A') + v + (above(25) & 6) - (above(51) & 75) - (above(61) & 13)
        + (above(62) & 49);
    c as u8
}

/// The 6-bit value of a character, or -1 when it is none of the alphabet's.
fn decode6(c: u8) -> i16 {
    let c = i16::from(c);
    // All ones where low <= c <= high: both differences negative.
    let within = |low: i16, high: i16| ((low - 1 - c) & (c - high - 1)) >> 8;
    -1 + (within(0x41, 0x5a) & (c - 0x41 + 1))
        + (within(0x61, 0x7a) & (c - 0x61 + 27))
        + (within(0x30, 0x39) & (c - 0x30 + 53))
        + (within(0x2d, 0x2d) & 63)
        + (within(0x5f, 0x5f) & 64)
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
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use proptest::prelude::*;

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

    #[test]
    fn every_character_has_its_value_and_no_other_byte_has_one() {
        let alphabet = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
        for (value, &c) in alphabet.iter().enumerate() {
            assert_eq!(encode6(value as u8), c);
            assert_eq!(decode6(c), value as i16);
        }
        for c in (0..=255u8).filter(|c| !alphabet.contains(c)) {
            assert_eq!(decode6(c), -1, "{c:#x}");
        }
    }

    proptest! {
        /// The same text as the `base64` crate's URL_SAFE_NO_PAD, and back.
        #[test]
        fn spells_as_the_base64_crate_does(bytes in prop::collection::vec(any::<u8>(), 0..70)) {
            let text = encode(&bytes);
            prop_assert_eq!(&text, &URL_SAFE_NO_PAD.encode(&bytes));
            prop_assert_eq!(decode(&text), Some(bytes));
        }

        /// Any text is read exactly when the `base64` crate reads it, to the same bytes.
        #[test]
        fn reads_what_the_base64_crate_reads(text in "[A-Za-z0-9_/+=.-]{0,14}") {
            prop_assert_eq!(decode(&text), URL_SAFE_NO_PAD.decode(&text).ok());
        }

        /// And near misses of valid texts: one character changed or one cut off.
        #[test]
        fn near_misses_are_read_as_the_base64_crate_reads_them(
            bytes in prop::collection::vec(any::<u8>(), 1..40),
            at in any::<prop::sample::Index>(),
            c in any::<u8>(),
        ) {
            let mut text = encode(&bytes).into_bytes();
            let at = at.index(text.len());
            text[at] = c;
            for text in [text.clone(), text[..text.len() - 1].to_vec()] {
                if let Ok(text) = String::from_utf8(text) {
                    prop_assert_eq!(decode(&text), URL_SAFE_NO_PAD.decode(&text).ok(), "{}", text);
                }
            }
        }
    }
}
