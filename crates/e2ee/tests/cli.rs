//! The example CLI against an RFC 9605 vector.

use std::process::Command;

fn sframe(args: &[&str]) -> std::process::Output {
    Command::new(env!("CARGO"))
        .args(["run", "-q", "-p", "shieldcall-e2ee", "--example", "sframe", "--"])
        .args(args)
        .output()
        .expect("cargo runs")
}

// RFC 9605 Appendix C, AES_128_GCM_SHA256_128.
const KEY: &str = "000102030405060708090a0b0c0d0e0f";
const METADATA: &str = "4945544620534672616d65205747";
const PT: &str = "64726166742d696574662d736672616d652d656e63";

fn vector() -> (String, String) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/rfc9605-test-vectors.json");
    let v: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let gcm = v["sframe"].as_array().unwrap().iter().find(|f| f["cipher_suite"] == 4).unwrap();
    assert_eq!(gcm["base_key"], KEY);
    assert_eq!(gcm["metadata"], METADATA);
    assert_eq!(gcm["pt"], PT);
    (gcm["ct"].as_str().unwrap().to_owned(), format!("{}", gcm["kid"]))
}

#[test]
fn cli_encrypts_and_decrypts_an_rfc_vector() {
    let (ct, kid) = vector();
    let out = sframe(&[
        "encrypt",
        "--suite",
        "4",
        "--key",
        KEY,
        "--kid",
        "0x123",
        "--ctr",
        "17767",
        "--metadata",
        METADATA,
        "--pt",
        PT,
    ]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(kid, "291");
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), ct);

    let out =
        sframe(&["decrypt", "--suite", "4", "--key", KEY, "--metadata", METADATA, "--ct", &ct]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    assert_eq!(String::from_utf8(out.stdout).unwrap().trim(), PT);

    let mut bad = ct.into_bytes();
    let last = bad.len() - 1;
    bad[last] = if bad[last] == b'0' { b'1' } else { b'0' };
    let bad = String::from_utf8(bad).unwrap();
    let out =
        sframe(&["decrypt", "--suite", "4", "--key", KEY, "--metadata", METADATA, "--ct", &bad]);
    assert_eq!(out.status.code(), Some(1));
    assert!(out.stdout.is_empty());
    assert!(String::from_utf8_lossy(&out.stderr).contains("authentication failed"));
}
