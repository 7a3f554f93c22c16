//! Sealing with room (`sframe::room`, PROTOCOL.md change 51), as the worker has WebCrypto do it
//! for large frames: here the outside AES-GCM is RustCrypto's with a 16-byte IV, fed only what
//! a `RoomJob` and the wide KID's `ExternalKey` hand out. Its output, tag fixed, must be a whole
//! RFC 9605 frame that any receiver opens, in Rust or outside, mixed with the narrow KID's frames,
//! under every rule of the receiver.

mod common;

use aes_gcm::aead::AeadInPlace;
use aes_gcm::aead::consts::U16;
use aes_gcm::{AesGcm, KeyInit};
use common::{open, send};
use proptest::prelude::*;
use shieldcall_e2ee::BaseKey;
use shieldcall_e2ee::layout::{
    MAX_ROOM_PREFIX, ROOM, Slot, WIDE_FIRST_CTR, kid, narrow_kid, wide_kid,
};
use shieldcall_e2ee::sframe::external::{ExternalKey, HEAD_LEN};
use shieldcall_e2ee::sframe::room::{RoomJob, RoomKey};
use shieldcall_e2ee::sframe::{
    CipherSuite, DropReason, Header, Receiver, Sender, SframeKey, encrypt_frame,
};

const GCM: [CipherSuite; 2] = [CipherSuite::Aes128GcmSha256_128, CipherSuite::Aes256GcmSha512_128];
const SLOT: Slot = Slot::Camera;

/// `prefix || payload` sealed with room as the worker seals it: the outside call's output is
/// the frame once its last 16 bytes are fixed.
fn seal_with_room(sender: &mut Sender, prefix: &[u8], payload: &[u8]) -> Option<Vec<u8>> {
    let key = sender.room_external_key(prefix.len())?;
    let job = sender.room_job(prefix, payload.len()).expect("a counter")?;
    assert_eq!(job.info().kid, key.kid());
    Some(outside_call(&key, &job, payload))
}

/// The outside AES-GCM call of `job` (a 16-byte IV, as WebCrypto takes it), its output checked
/// to start with the job's front and its tag fixed, as the script does.
fn outside_call(key: &ExternalKey, job: &RoomJob, payload: &[u8]) -> Vec<u8> {
    let mut buf = [job.first_block().as_slice(), payload].concat();
    let raw = key.key_bytes();
    let tag: [u8; 16] = match key.suite() {
        CipherSuite::Aes128GcmSha256_128 => AesGcm::<aes::Aes128, U16>::new_from_slice(raw)
            .unwrap()
            .encrypt_in_place_detached(job.iv().into(), job.aad(), &mut buf)
            .unwrap()
            .into(),
        _ => AesGcm::<aes::Aes256, U16>::new_from_slice(raw)
            .unwrap()
            .encrypt_in_place_detached(job.iv().into(), job.aad(), &mut buf)
            .unwrap()
            .into(),
    };
    assert_eq!(&buf[..16], job.front(), "the output starts with the prefix and header");
    buf.extend(tag.iter().zip(job.tag_fix()).map(|(t, f)| t ^ f));
    buf
}

fn opened(receiver: &mut Receiver, frame: &[u8], prefix_len: usize) -> Result<Vec<u8>, DropReason> {
    let mut buf = frame.to_vec();
    receiver.decrypt_in_place(&mut buf, prefix_len, 0).map(|_| buf)
}

fn pair(suite: CipherSuite) -> (Sender, Receiver) {
    let base = BaseKey::from_slice(&vec![9; suite.nh()]);
    (
        Sender::new(suite, base.clone(), 0, SLOT).unwrap(),
        Receiver::new(suite, base, 0).only_slot(SLOT),
    )
}

fn payload(len: usize, seed: u8) -> Vec<u8> {
    (0..len).map(|i| (i as u8).wrapping_mul(29) ^ seed).collect()
}

#[test]
fn frames_sealed_with_room_open_in_rust_under_their_wide_kid() {
    for suite in GCM {
        let (mut sender, mut receiver) = pair(suite);
        for prefix_len in 0..=MAX_ROOM_PREFIX {
            let prefix = payload(prefix_len, 0xA0);
            for (i, len) in [0, 1, 16, 1500, 16 * 1024, 200 * 1024 + 3].into_iter().enumerate() {
                let data = payload(len, i as u8);
                let frame = seal_with_room(&mut sender, &prefix, &data).expect("room");
                let header = Header::parse(&frame[prefix_len..]).unwrap();
                assert_eq!(prefix_len + header.1, ROOM, "{suite:?}");
                assert_eq!(header.0.ctr, WIDE_FIRST_CTR + i as u64, "its own counter");
                assert_eq!(narrow_kid(header.0.kid), Some(sender.kid()));
                assert_eq!(&frame[..prefix_len], &prefix[..], "the prefix stays clear");
                let back = opened(&mut receiver, &frame, prefix_len).expect("opens");
                assert_eq!(back, [&prefix[..], &data].concat(), "{suite:?}, {len} B");
                assert_eq!(opened(&mut receiver, &frame, prefix_len), Err(DropReason::Replay));
            }
        }
        // The narrow KID's counter is untouched, and its frames open alongside.
        assert_eq!(sender.next_ctr(), Some(0));
        assert_eq!(open(&mut receiver, &send(&mut sender, b"small"), 0).unwrap(), b"small");
    }
}

#[test]
fn frames_sealed_with_room_open_outside_too() {
    let (mut sender, mut receiver) = pair(CipherSuite::Aes128GcmSha256_128);
    let data = payload(5000, 3);
    let first = seal_with_room(&mut sender, &[1, 2, 3], &data).unwrap();
    let second = seal_with_room(&mut sender, &[1, 2, 3], &data).unwrap();
    // The KID's first frame opens in Rust (it may move the epoch); the next one outside.
    opened(&mut receiver, &first, 3).unwrap();
    let head = &second[..HEAD_LEN];
    let job = receiver.open_job(&head[3..], second.len() - 3, 0).unwrap().expect("a known KID");
    let key = receiver.external_key(job.info().kid).expect("its key");
    let mut body = second[3 + job.header_len()..second.len() - 16].to_vec();
    let tag = &second[second.len() - 16..];
    aes_gcm::Aes128Gcm::new_from_slice(key.key_bytes())
        .unwrap()
        .decrypt_in_place_detached(job.nonce().into(), &job.aad(head, 3), &mut body, tag.into())
        .expect("authentic");
    assert_eq!(body, data);
    receiver.accept(&job).unwrap();
}

#[test]
fn no_room_for_a_longer_prefix_and_every_changed_byte_is_refused() {
    for suite in GCM {
        let (mut sender, mut receiver) = pair(suite);
        // A VP8 key frame's 10 clear bytes: no wide KID, the narrow one as before.
        assert_eq!(sender.room_kid(10), None);
        assert!(seal_with_room(&mut sender, &[0; 10], b"key frame").is_none());
        // Without clear bytes and with 3 (in the AAD, in front of the header), any bit of any byte.
        for prefix in [&[][..], &[0x51, 0x22, 0x33]] {
            let p = prefix.len();
            let frame = seal_with_room(&mut sender, prefix, &payload(300, 1)).unwrap();
            for i in 0..frame.len() {
                let mut bad = frame.clone();
                bad[i] ^= 1 << (i % 8);
                let dropped = opened(&mut receiver, &bad, p);
                assert!(dropped.is_err(), "{suite:?}, prefix {p}: byte {i} changed and it opened");
            }
            opened(&mut receiver, &frame, p).expect("the real one still opens");
        }
    }
}

#[test]
fn a_wide_kid_stays_in_its_slot_and_its_epoch() {
    let suite = CipherSuite::Aes128GcmSha256_128;
    let base = BaseKey::from_slice(&[5; 16]);
    let mut sender = Sender::new(suite, base.clone(), 0, SLOT).unwrap();
    let frame = seal_with_room(&mut sender, &[], &payload(2000, 7)).unwrap();
    let mut other_slot = Receiver::new(suite, base.clone(), 0).only_slot(Slot::ScreenVideo);
    assert_eq!(opened(&mut other_slot, &frame, 0), Err(DropReason::UnknownKid));
    // A rekey starts the new epoch's wide KIDs afresh, from their first counter.
    sender.rekey(BaseKey::from_slice(&[6; 16]), 1).unwrap();
    let next = seal_with_room(&mut sender, &[], &payload(2000, 8)).unwrap();
    let header = Header::parse(&next).unwrap().0;
    assert_eq!((narrow_kid(header.kid), header.ctr), (Some(sender.kid()), WIDE_FIRST_CTR));
    let mut receiver = Receiver::new(suite, base, 0).only_slot(SLOT);
    receiver.rekey(BaseKey::from_slice(&[6; 16]), 1, 0);
    opened(&mut receiver, &next, 0).expect("the new epoch's wide KID");
}

#[test]
fn a_wide_kid_is_forgotten_with_its_epoch() {
    let suite = CipherSuite::Aes128GcmSha256_128;
    let (base0, base1) = (BaseKey::from_slice(&[5; 16]), BaseKey::from_slice(&[6; 16]));
    let mut old = Sender::new(suite, base0.clone(), 0, SLOT).unwrap();
    let mut receiver = Receiver::new(suite, base0, 0).only_slot(SLOT).with_grace_ms(100);
    let late = seal_with_room(&mut old, &[], &payload(2000, 1)).unwrap();
    opened(&mut receiver, &seal_with_room(&mut old, &[], &payload(2000, 2)).unwrap(), 0).unwrap();
    assert_eq!(receiver.kid_contexts(), 1, "the wide KID's");
    receiver.rekey(BaseKey::from_slice(&[6; 16]), 1, 0);
    let mut new = Sender::new(suite, base1, 1, SLOT).unwrap();
    opened(&mut receiver, &seal_with_room(&mut new, &[], &payload(2000, 3)).unwrap(), 0).unwrap();
    assert_eq!(receiver.kid_contexts(), 2, "both epochs' wide KIDs, within the grace period");
    // After the grace period the old epoch's wide KID is gone, and so is its frame's welcome.
    let mut buf = late.clone();
    assert_eq!(receiver.decrypt_in_place(&mut buf, 0, 100), Err(DropReason::UnknownKid));
    assert_eq!(receiver.kid_contexts(), 1);
}

proptest! {
    /// Any suite, epoch, slot, clear prefix, payload and counter of a wide KID: the outside
    /// call's output is the Rust path's frame under that KID and counter.
    #[test]
    fn any_frame_sealed_with_room_is_the_rust_paths_frame(
        aes256 in any::<bool>(),
        base in prop::collection::vec(any::<u8>(), 64),
        epoch in 0u64..(1 << 20),
        slot in prop::sample::select(vec![Slot::MicAudio, Slot::Camera, Slot::ScreenVideo]),
        prefix in prop::collection::vec(any::<u8>(), 0..=MAX_ROOM_PREFIX),
        payload in prop::collection::vec(any::<u8>(), 0..600),
        ctr in WIDE_FIRST_CTR..=u64::MAX,
    ) {
        let suite = if aes256 { GCM[1] } else { GCM[0] };
        let base = &base[..suite.nh()];
        let kid = wide_kid(kid(epoch, slot).unwrap(), prefix.len()).unwrap();
        let key = RoomKey::derive(suite, base, kid).unwrap();
        let job = key.job(ctr, &prefix, payload.len()).expect("room at every wide counter");
        let got = outside_call(key.external_key(), &job, &payload);
        let mut expected = prefix.clone();
        encrypt_frame(&SframeKey::derive(suite, base, kid), ctr, &prefix, &payload, &mut expected)
            .unwrap();
        prop_assert_eq!(got, expected);
    }
}
