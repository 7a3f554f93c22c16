//! Every RFC 9605 Appendix C test vector, in both directions, and each again tampered.

use serde_json::Value;
use shieldcall_e2ee::sframe::{
    CipherSuite, DropReason, Header, SframeKey, decrypt_frame, encrypt_frame,
};

fn vectors() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/rfc9605-test-vectors.json");
    serde_json::from_str(&std::fs::read_to_string(path).expect("vector file present"))
        .expect("vector file is JSON")
}

fn hex(v: &Value) -> Vec<u8> {
    let s = v.as_str().expect("hex string");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex")).collect()
}

fn num(v: &Value) -> u64 {
    v.as_u64().expect("u64")
}

#[test]
fn all_289_headers_encode_and_parse() {
    let vectors = vectors();
    let headers = vectors["header"].as_array().expect("header array");
    assert_eq!(headers.len(), 289);
    for v in headers {
        let header = Header::new(num(&v["kid"]), num(&v["ctr"]));
        let encoded = hex(&v["encoded"]);
        assert_eq!(header.encode().as_bytes(), encoded, "{header:?}");
        assert_eq!(header.encoded_len(), encoded.len());
        assert_eq!(Header::parse(&encoded), Ok((header, encoded.len())));
        // Anything after the header is not part of it.
        let mut longer = encoded.clone();
        longer.extend_from_slice(&[0xff; 20]);
        assert_eq!(Header::parse(&longer), Ok((header, encoded.len())));
        // Every truncation is refused.
        for cut in 0..encoded.len() {
            assert!(Header::parse(&encoded[..cut]).is_err(), "{header:?} cut at {cut}");
        }
    }
}

#[test]
fn all_sframe_vectors_encrypt_decrypt_and_refuse_tampering() {
    let vectors = vectors();
    let frames = vectors["sframe"].as_array().expect("sframe array");
    assert_eq!(frames.len(), 5);
    let mut suites_seen = Vec::new();
    for v in frames {
        let suite = CipherSuite::from_id(num(&v["cipher_suite"]) as u16).expect("known suite");
        suites_seen.push(suite.id());
        let (kid, ctr) = (num(&v["kid"]), num(&v["ctr"]));
        let key = SframeKey::derive(suite, &hex(&v["base_key"]), kid);
        assert_eq!(key.nonce(ctr).to_vec(), hex(&v["nonce"]), "nonce, suite {suite:?}");
        let (metadata, pt, ct) = (hex(&v["metadata"]), hex(&v["pt"]), hex(&v["ct"]));

        // The RFC's key and salt, fed in directly, give the same frames.
        let salt: [u8; 12] = hex(&v["sframe_salt"]).try_into().expect("12-byte salt");
        let direct = SframeKey::from_parts(suite, kid, &hex(&v["sframe_key"]), &salt);

        for key in [&key, &direct] {
            let mut out = Vec::new();
            encrypt_frame(key, ctr, &metadata, &pt, &mut out).expect("encrypts");
            assert_eq!(out, ct, "encrypt, suite {suite:?}");
            let mut back = Vec::new();
            decrypt_frame(key, &metadata, &ct, &mut back).expect("decrypts");
            assert_eq!(back, pt, "decrypt, suite {suite:?}");
        }

        // One flipped bit anywhere in the frame or the metadata must fail.
        for i in 0..ct.len() {
            let mut bad = ct.clone();
            bad[i] ^= 0x01;
            let mut out = Vec::new();
            let result = decrypt_frame(&key, &metadata, &bad, &mut out);
            assert!(result.is_err(), "suite {suite:?}: flipped byte {i} accepted");
            assert!(out.is_empty());
        }
        for i in 0..metadata.len() {
            let mut bad = metadata.clone();
            bad[i] ^= 0x80;
            let result = decrypt_frame(&key, &bad, &ct, &mut Vec::new());
            assert_eq!(result, Err(DropReason::AuthFailed), "suite {suite:?}: metadata {i}");
        }
        // A wrong key fails authentication too.
        let other = SframeKey::derive(suite, b"not the base key", kid);
        assert_eq!(
            decrypt_frame(&other, &metadata, &ct, &mut Vec::new()),
            Err(DropReason::AuthFailed)
        );
    }
    assert_eq!(suites_seen, [1, 2, 3, 4, 5]);
}

#[test]
fn aes_ctr_hmac_vectors_match_the_aead() {
    // These vectors give the AEAD inputs directly; check them through a key built from parts.
    let vectors = vectors();
    for v in vectors["aes_ctr_hmac"].as_array().expect("aes_ctr_hmac array") {
        let suite = CipherSuite::from_id(num(&v["cipher_suite"]) as u16).expect("known suite");
        let nonce: [u8; 12] = hex(&v["nonce"]).try_into().expect("12-byte nonce");
        // With CTR = 0, the nonce equals the salt.
        let key = SframeKey::from_parts(suite, 0, &hex(&v["key"]), &nonce);
        let (aad, pt, ct) = (hex(&v["aad"]), hex(&v["pt"]), hex(&v["ct"]));
        let mut buf = pt.clone();
        let tag = key.seal(0, &aad, &mut buf).expect("seals");
        buf.extend_from_slice(tag.as_bytes());
        assert_eq!(buf, ct, "suite {suite:?}");
        let (body, tag) = ct.split_at(pt.len());
        let mut body = body.to_vec();
        key.open(0, &aad, &mut body, tag).expect("opens");
        assert_eq!(body, pt);
        let mut bad_tag = tag.to_vec();
        bad_tag[0] ^= 1;
        assert!(key.open(0, &aad, &mut ct[..pt.len()].to_vec(), &bad_tag).is_err());
    }
}
