//! The header parser never panics, never reads past its input, and re-encodes what it read.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shieldcall_e2ee::sframe::Header;

fuzz_target!(|data: &[u8]| {
    if let Ok((header, len)) = Header::parse(data) {
        assert!(len <= data.len());
        let encoded = header.encode();
        assert!(encoded.as_bytes().len() <= len);
        assert_eq!(Header::parse(encoded.as_bytes()), Ok((header, encoded.as_bytes().len())));
    }
});
