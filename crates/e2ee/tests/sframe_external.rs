//! SFrame with the AES-GCM call made outside (`sframe::external`), as the worker does it with
//! WebCrypto for large frames. Here the outside AES-GCM is RustCrypto's, fed only what a job
//! and an `ExternalKey` hand out: the frames must be the very bytes of the all-Rust path, mix
//! with it freely in both directions, and keep every rule of the receiver (replay window, KIDs,
//! epochs), moving the window only for a frame that authenticated.

mod common;

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes128Gcm, Aes256Gcm, KeyInit};
use common::{open, send};
use serde_json::Value;
use shieldcall_e2ee::BaseKey;
use shieldcall_e2ee::layout::Slot;
use shieldcall_e2ee::sframe::external::{ExternalKey, HEAD_LEN, OpenJob, SealJob, is_gcm};
use shieldcall_e2ee::sframe::{CipherSuite, DropReason, Header, Receiver, Sender};

const GCM: [CipherSuite; 2] = [CipherSuite::Aes128GcmSha256_128, CipherSuite::Aes256GcmSha512_128];
const SLOT: Slot = Slot::Camera;

/// One AES-GCM encryption with a raw key, as WebCrypto does it: `ciphertext || tag`.
fn gcm_encrypt(key: &ExternalKey, nonce: &[u8; 12], aad: &[u8], plaintext: &[u8]) -> Vec<u8> {
    let mut buf = plaintext.to_vec();
    let tag = match key.suite() {
        CipherSuite::Aes128GcmSha256_128 => Aes128Gcm::new_from_slice(key.key_bytes())
            .unwrap()
            .encrypt_in_place_detached(nonce.into(), aad, &mut buf)
            .unwrap(),
        _ => Aes256Gcm::new_from_slice(key.key_bytes())
            .unwrap()
            .encrypt_in_place_detached(nonce.into(), aad, &mut buf)
            .unwrap(),
    };
    buf.extend_from_slice(&tag);
    buf
}

/// One AES-GCM decryption of `ciphertext || tag`; `None` when it does not authenticate.
fn gcm_decrypt(key: &ExternalKey, nonce: &[u8; 12], aad: &[u8], sealed: &[u8]) -> Option<Vec<u8>> {
    let (body, tag) = sealed.split_at(sealed.len().checked_sub(16)?);
    let mut buf = body.to_vec();
    let ok = match key.suite() {
        CipherSuite::Aes128GcmSha256_128 => Aes128Gcm::new_from_slice(key.key_bytes())
            .unwrap()
            .decrypt_in_place_detached(nonce.into(), aad, &mut buf, tag.into()),
        _ => Aes256Gcm::new_from_slice(key.key_bytes()).unwrap().decrypt_in_place_detached(
            nonce.into(),
            aad,
            &mut buf,
            tag.into(),
        ),
    };
    ok.ok().map(|()| buf)
}

/// `prefix || payload` sealed outside, laid out as the worker lays it out.
fn seal_outside(sender: &mut Sender, prefix: &[u8], payload: &[u8]) -> (Vec<u8>, SealJob) {
    let key = sender.external_key().expect("a GCM suite");
    let job = sender.seal_job(payload.len()).expect("a counter");
    let sealed = gcm_encrypt(&key, job.nonce(), &job.aad(prefix), payload);
    ([prefix, job.header(), &sealed].concat(), job)
}

/// Opens `frame` outside, as the worker does: only its first bytes go to the receiver.
fn open_outside(
    receiver: &mut Receiver,
    frame: &[u8],
    prefix_len: usize,
    now_ms: u64,
) -> Result<Option<Vec<u8>>, DropReason> {
    let wire = &frame[prefix_len..];
    let head = &frame[..frame.len().min(prefix_len + HEAD_LEN)];
    let Some(job) = receiver.open_job(&head[prefix_len..], wire.len(), now_ms)? else {
        return Ok(None);
    };
    let key = receiver.external_key(job.info().kid).expect("a known KID has a key");
    let body = &wire[job.header_len()..];
    let plaintext = gcm_decrypt(&key, job.nonce(), &job.aad(head, prefix_len), body)
        .ok_or(DropReason::AuthFailed)?;
    receiver.accept(&job)?;
    Ok(Some([&frame[..prefix_len], &plaintext].concat()))
}

fn pair(suite: CipherSuite) -> (Sender, Sender, Receiver) {
    let base = BaseKey::from_slice(&vec![7; suite.nh()]);
    (
        Sender::new(suite, base.clone(), 0, SLOT).unwrap(),
        Sender::new(suite, base.clone(), 0, SLOT).unwrap(),
        Receiver::new(suite, base, 0).only_slot(SLOT),
    )
}

fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(31) ^ seed).collect()
}

#[test]
fn outside_frames_are_the_bytes_of_the_rust_path() {
    for suite in GCM {
        let (mut outside, mut inside, _) = pair(suite);
        for (len, prefix) in
            [(0, &[][..]), (1, &[]), (100, &[]), (5000, &[0x10, 2, 3]), (20_000, &[0; 10])]
        {
            let data = payload(len, len as u8);
            let (frame, job) = seal_outside(&mut outside, prefix, &data);
            let mut rust = [prefix, &data].concat();
            let info = inside.encrypt_in_place(&mut rust, prefix.len()).unwrap();
            assert_eq!(frame, rust, "suite {suite:?}, {len} bytes, prefix {}", prefix.len());
            assert_eq!(job.info(), info);
        }
    }
}

#[test]
fn both_paths_mix_in_both_directions() {
    for suite in GCM {
        let (mut sender, _, mut receiver) = pair(suite);
        // The first frame of a KID is not for outside: it may move the epoch.
        let first = send(&mut sender, b"first");
        assert_eq!(open_outside(&mut receiver, &first, 0, 0), Ok(None));
        assert_eq!(open(&mut receiver, &first, 0).unwrap(), b"first");
        for i in 0..40u8 {
            let data = payload(64 + 97 * i as usize, i);
            let frame = if i % 3 == 0 {
                send(&mut sender, &data)
            } else {
                seal_outside(&mut sender, &[], &data).0
            };
            let opened = if i % 2 == 0 {
                open_outside(&mut receiver, &frame, 0, 0).unwrap().expect("a known KID")
            } else {
                open(&mut receiver, &frame, 0).unwrap()
            };
            assert_eq!(opened, data, "suite {suite:?}, frame {i}");
        }
    }
}

#[test]
fn a_frame_opened_outside_is_then_a_replay_on_either_path() {
    let (mut sender, _, mut receiver) = pair(CipherSuite::default());
    open(&mut receiver, &send(&mut sender, b"first"), 0).unwrap();
    let frame = seal_outside(&mut sender, &[], b"once only").0;
    assert_eq!(open_outside(&mut receiver, &frame, 0, 0).unwrap().unwrap(), b"once only");
    assert_eq!(open_outside(&mut receiver, &frame, 0, 0), Err(DropReason::Replay));
    assert_eq!(open(&mut receiver, &frame, 0), Err(DropReason::Replay));
}

#[test]
fn a_forgery_moves_no_window_and_the_genuine_frame_still_opens() {
    let (mut sender, _, mut receiver) = pair(CipherSuite::default());
    open(&mut receiver, &send(&mut sender, b"first"), 0).unwrap();
    let genuine = seal_outside(&mut sender, &[], &payload(3000, 1)).0;
    for i in [0, 2, genuine.len() / 2, genuine.len() - 1] {
        let mut forged = genuine.clone();
        forged[i] ^= 0x40;
        let result = open_outside(&mut receiver, &forged, 0, 0);
        assert!(matches!(result, Err(_) | Ok(None)), "byte {i}: {result:?}");
    }
    assert_eq!(open_outside(&mut receiver, &genuine, 0, 0).unwrap().unwrap(), payload(3000, 1));
}

#[test]
fn the_clear_prefix_is_authenticated_outside_too() {
    let (mut sender, _, mut receiver) = pair(CipherSuite::default());
    open(&mut receiver, &send(&mut sender, b"first"), 0).unwrap();
    let prefix = [0x10, 0x02, 0x00, 0x9d, 0x01, 0x2a, 0x80, 0x02, 0x68, 0x01];
    let frame = seal_outside(&mut sender, &prefix, b"vp8 key frame body").0;
    let mut altered = frame.clone();
    altered[5] ^= 1;
    assert_eq!(open_outside(&mut receiver, &altered, 10, 0), Err(DropReason::AuthFailed));
    let opened = open_outside(&mut receiver, &frame, 10, 0).unwrap().unwrap();
    assert_eq!(opened, [&prefix[..], b"vp8 key frame body"].concat());
}

#[test]
fn truncated_and_foreign_frames_are_refused_before_any_aes() {
    let (mut sender, _, mut receiver) = pair(CipherSuite::default());
    open(&mut receiver, &send(&mut sender, b"first"), 0).unwrap();
    let frame = seal_outside(&mut sender, &[], b"x").0;
    // Header, then fewer bytes than a tag.
    assert_eq!(receiver.open_job(&frame, 1 + 15, 0).unwrap_err(), DropReason::Malformed);
    assert_eq!(receiver.open_job(&[], 0, 0).unwrap_err(), DropReason::Malformed);
    // A frame of another slot (KID epoch 0, slot 0 = microphone).
    let mut mic =
        Sender::new(CipherSuite::default(), BaseKey::from_slice(&[7; 32]), 0, Slot::MicAudio)
            .unwrap();
    let other = send(&mut mic, b"audio");
    assert_eq!(open_outside(&mut receiver, &other, 0, 0), Err(DropReason::UnknownKid));
}

#[test]
fn keys_follow_the_epochs() {
    let suite = CipherSuite::default();
    let (mut sender, _, mut receiver) = pair(suite);
    open(&mut receiver, &send(&mut sender, b"epoch 0"), 0).unwrap();
    let old_kid = sender.kid();
    let held = seal_outside(&mut sender, &[], b"late frame of epoch 0").0;
    assert!(receiver.external_key(old_kid).is_some());

    // The sender moves on; its first frame of epoch 1 opens only on the Rust path, and then
    // the old epoch's key stays for the grace period.
    let next = BaseKey::from_slice(&[9; 32]);
    sender.rekey(next.clone(), 1).unwrap();
    assert!(receiver.rekey(next, 1, 1_000));
    let fresh = seal_outside(&mut sender, &[], b"epoch 1").0;
    assert_eq!(open_outside(&mut receiver, &fresh, 0, 1_000), Ok(None));
    assert_eq!(open(&mut receiver, &fresh, 1_000).unwrap(), b"epoch 1");
    assert!(receiver.external_key(sender.kid()).is_some());
    assert_ne!(sender.kid(), old_kid);

    // A job asked for in the grace period, accepted after it: the KID is gone by then.
    let job: OpenJob = receiver.open_job(&held, held.len(), 1_000).unwrap().expect("in grace");
    open(&mut receiver, &send(&mut sender, b"tick"), 20_000).unwrap();
    assert!(receiver.external_key(old_kid).is_none());
    assert_eq!(receiver.accept(&job), Err(DropReason::UnknownKid));
}

#[test]
fn only_gcm_suites_go_outside() {
    for suite in CipherSuite::ALL {
        let base = BaseKey::from_slice(&vec![3; suite.nh()]);
        let sender = Sender::new(suite, base, 0, SLOT).unwrap();
        assert_eq!(sender.external_key().is_some(), is_gcm(suite), "{suite:?}");
    }
}

#[test]
fn external_keys_are_never_printed() {
    let (sender, _, _) = pair(CipherSuite::Aes256GcmSha512_128);
    let key = sender.external_key().unwrap();
    let shown = format!("{key:?}");
    let hex: String = key.key_bytes().iter().map(|b| format!("{b:02x}")).collect();
    assert!(shown.contains("redacted") && !shown.contains(&hex[..8]), "{shown}");
    assert!(!shown.contains(&format!("{:?}", &key.key_bytes()[..4])), "{shown}");
}

fn hex(v: &Value) -> Vec<u8> {
    let s = v.as_str().expect("hex string");
    (0..s.len()).step_by(2).map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap()).collect()
}

#[test]
fn rfc9605_gcm_vectors_through_the_outside_parts() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/vectors/rfc9605-test-vectors.json");
    let vectors: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    let mut seen = 0;
    for v in vectors["sframe"].as_array().unwrap() {
        let suite = CipherSuite::from_id(v["cipher_suite"].as_u64().unwrap() as u16).unwrap();
        let (kid, ctr) = (v["kid"].as_u64().unwrap(), v["ctr"].as_u64().unwrap());
        let Some(key) = ExternalKey::derive(suite, &hex(&v["base_key"]), kid) else {
            assert!(!is_gcm(suite));
            continue;
        };
        seen += 1;
        assert_eq!(key.key_bytes(), hex(&v["sframe_key"]), "{suite:?}");
        assert_eq!(key.nonce(ctr).to_vec(), hex(&v["nonce"]), "{suite:?}");
        let header = Header::new(kid, ctr).encode();
        let aad = [header.as_bytes(), &hex(&v["metadata"])].concat();
        assert_eq!(aad, hex(&v["aad"]), "{suite:?}");
        let sealed = gcm_encrypt(&key, &key.nonce(ctr), &aad, &hex(&v["pt"]));
        assert_eq!([header.as_bytes(), &sealed].concat(), hex(&v["ct"]), "{suite:?}");
    }
    assert_eq!(seen, 2, "both GCM suites have a vector");
}
