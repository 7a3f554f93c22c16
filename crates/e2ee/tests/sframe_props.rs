//! Property tests of the frame layer, and the ratchet and grace period.

mod common;

use common::{open, send};
use proptest::prelude::*;
use shieldcall_e2ee::BaseKey;
use shieldcall_e2ee::layout::{Slot, kid};
use shieldcall_e2ee::sframe::{
    CipherSuite, DropReason, Header, Receiver, SendError, Sender, SframeKey, decrypt_frame,
    encrypt_frame,
};

fn suite() -> impl Strategy<Value = CipherSuite> {
    prop::sample::select(CipherSuite::ALL.to_vec())
}

fn slot() -> impl Strategy<Value = Slot> {
    prop::sample::select(Slot::ALL.to_vec())
}

proptest! {
    #[test]
    fn headers_round_trip(kid in any::<u64>(), ctr in any::<u64>(), tail in prop::collection::vec(any::<u8>(), 0..4)) {
        let header = Header::new(kid, ctr);
        let mut bytes = header.encode().as_bytes().to_vec();
        let len = bytes.len();
        bytes.extend_from_slice(&tail);
        prop_assert_eq!(Header::parse(&bytes), Ok((header, len)));
    }

    #[test]
    fn header_parser_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..20)) {
        if let Ok((header, len)) = Header::parse(&bytes) {
            prop_assert!(len <= bytes.len());
            prop_assert!(header.encoded_len() <= len);
        }
    }

    #[test]
    fn frames_round_trip(
        suite in suite(),
        base in prop::collection::vec(any::<u8>(), 1..64),
        kid in any::<u64>(),
        ctr in any::<u64>(),
        metadata in prop::collection::vec(any::<u8>(), 0..100),
        pt in prop::collection::vec(any::<u8>(), 0..600),
        flip in any::<prop::sample::Index>(),
    ) {
        let key = SframeKey::derive(suite, &base, kid);
        let mut ct = Vec::new();
        encrypt_frame(&key, ctr, &metadata, &pt, &mut ct).unwrap();
        prop_assert_eq!(ct.len(), Header::new(kid, ctr).encoded_len() + pt.len() + suite.nt());
        let mut back = Vec::new();
        let info = decrypt_frame(&key, &metadata, &ct, &mut back).unwrap();
        prop_assert_eq!((info.kid, info.ctr), (kid, ctr));
        prop_assert_eq!(&back, &pt);
        let i = flip.index(ct.len());
        ct[i] ^= 0x10;
        prop_assert!(decrypt_frame(&key, &metadata, &ct, &mut Vec::new()).is_err());
    }

    #[test]
    fn sender_to_receiver_in_place(
        suite in suite(),
        slot in slot(),
        epoch in 0u64..1000,
        frames in prop::collection::vec((0usize..12, prop::collection::vec(any::<u8>(), 0..300)), 1..20),
    ) {
        let base = BaseKey::from_slice(&[7; 16]);
        let mut sender = Sender::new(suite, base.clone(), epoch, slot).unwrap();
        let mut receiver = Receiver::new(suite, base, epoch).only_slot(slot);
        let mut seen = std::collections::HashSet::new();
        let mut wires = Vec::new();
        for (prefix, frame) in &frames {
            let prefix = (*prefix).min(frame.len());
            let mut buf = Vec::with_capacity(frame.len() + 33);
            buf.extend_from_slice(frame);
            let capacity = buf.capacity();
            let info = sender.encrypt_in_place(&mut buf, prefix).unwrap();
            prop_assert_eq!(buf.capacity(), capacity, "no reallocation");
            prop_assert_eq!(info.kid, kid(epoch, slot).unwrap());
            prop_assert!(seen.insert(info.ctr), "counters are unique");
            prop_assert_eq!(&buf[..prefix], &frame[..prefix]);
            wires.push((prefix, buf.clone()));
            receiver.decrypt_in_place(&mut buf, prefix, 0).unwrap();
            prop_assert_eq!(&buf, frame);
        }
        // Every frame again is a replay.
        for (prefix, wire) in wires {
            let mut buf = wire.clone();
            prop_assert_eq!(receiver.decrypt_in_place(&mut buf, prefix, 0), Err(DropReason::Replay));
            prop_assert_eq!(buf, wire, "a dropped frame is left as it was");
        }
    }

    #[test]
    fn receiver_never_panics_on_garbage(bytes in prop::collection::vec(any::<u8>(), 0..80), prefix in 0usize..90) {
        let mut receiver = Receiver::new(CipherSuite::default(), BaseKey::from_slice(&[1; 16]), 0);
        let mut buf = bytes.clone();
        prop_assert!(receiver.decrypt_in_place(&mut buf, prefix, 0).is_err());
        prop_assert_eq!(buf, bytes);
    }
}

#[test]
fn receiver_follows_the_ratchet_and_forgets_after_the_grace_period() {
    for suite in CipherSuite::ALL {
        let base = BaseKey::from_slice(&[9; 16]);
        let mut sender = Sender::new(suite, base.clone(), 0, Slot::MicAudio).expect("epoch 0");
        let mut receiver = Receiver::new(suite, base, 0).with_grace_ms(1000);
        let old = send(&mut sender, b"epoch 0");
        let late = send(&mut sender, b"late epoch 0");
        assert_eq!(open(&mut receiver, &old, 0).as_deref(), Ok(&b"epoch 0"[..]));

        assert_eq!(sender.ratchet(), Ok(1));
        assert_eq!(sender.next_ctr(), Some(0));
        assert_eq!(sender.kid(), 0x10);
        let new = send(&mut sender, b"epoch 1");
        assert_eq!(open(&mut receiver, &new, 100).as_deref(), Ok(&b"epoch 1"[..]));
        assert_eq!((receiver.epoch(), receiver.previous_epoch()), (1, Some(0)));
        // Inside the grace period the old epoch still opens; after it, it is gone.
        assert_eq!(open(&mut receiver, &late, 500).as_deref(), Ok(&b"late epoch 0"[..]));
        let mut sender0 =
            Sender::new(suite, BaseKey::from_slice(&[9; 16]), 0, Slot::Camera).expect("epoch 0");
        let other_slot_old = send(&mut sender0, b"camera epoch 0");
        assert_eq!(
            open(&mut receiver, &other_slot_old, 1099).as_deref(),
            Ok(&b"camera epoch 0"[..])
        );
        let other_slot_old_2 = send(&mut sender0, b"camera again");
        assert_eq!(open(&mut receiver, &other_slot_old_2, 1100), Err(DropReason::UnknownKid));
        assert_eq!(receiver.previous_epoch(), None);

        // Up to 8 epochs ahead are followed; 9 are not.
        for _ in 0..8 {
            sender.ratchet().expect("ratchets");
        }
        let far = send(&mut sender, b"epoch 9");
        assert_eq!(open(&mut receiver, &far, 2000).as_deref(), Ok(&b"epoch 9"[..]));
        for _ in 0..9 {
            sender.ratchet().expect("ratchets");
        }
        let too_far = send(&mut sender, b"epoch 18");
        assert_eq!(open(&mut receiver, &too_far, 2000), Err(DropReason::UnknownKid));
        assert_eq!(receiver.epoch(), 9);
    }
}

#[test]
fn forged_frames_of_a_later_epoch_do_not_move_the_receiver() {
    let suite = CipherSuite::default();
    let mut receiver = Receiver::new(suite, BaseKey::from_slice(&[1; 16]), 0);
    let mut forger =
        Sender::new(suite, BaseKey::from_slice(&[2; 16]), 3, Slot::Camera).expect("epoch 3");
    let forged = send(&mut forger, b"forged");
    assert_eq!(open(&mut receiver, &forged, 0), Err(DropReason::AuthFailed));
    assert_eq!((receiver.epoch(), receiver.previous_epoch()), (0, None));
}

#[test]
fn receiver_drop_reasons_are_distinct() {
    let suite = CipherSuite::default();
    let base = BaseKey::from_slice(&[3; 16]);
    let mut sender = Sender::new(suite, base.clone(), 0, Slot::ScreenVideo).expect("epoch 0");
    let mut receiver = Receiver::new(suite, base.clone(), 0).only_slot(Slot::ScreenVideo);
    let first = send(&mut sender, b"first");
    for _ in 0..200 {
        let wire = send(&mut sender, b"x");
        open(&mut receiver, &wire, 0).expect("opens");
    }
    assert_eq!(open(&mut receiver, &first, 0), Err(DropReason::TooOld));
    let mut tampered = send(&mut sender, b"tampered");
    let last = tampered.len() - 1;
    tampered[last] ^= 1;
    assert_eq!(open(&mut receiver, &tampered, 0), Err(DropReason::AuthFailed));
    let mut mic = Sender::new(suite, base, 0, Slot::MicAudio).expect("epoch 0");
    assert_eq!(open(&mut receiver, &send(&mut mic, b"mic"), 0), Err(DropReason::UnknownKid));
    assert_eq!(open(&mut receiver, &[0x80], 0), Err(DropReason::Malformed));
    assert_eq!(open(&mut receiver, &[0x00; 5], 0), Err(DropReason::Malformed));
}

#[test]
fn senders_refuse_to_wrap_or_go_back() {
    let suite = CipherSuite::default();
    let base = BaseKey::from_slice(&[4; 16]);
    let mut sender = Sender::new(suite, base.clone(), 5, Slot::Chat).expect("epoch 5");
    assert_eq!(sender.rekey(base.clone(), 5), Err(SendError::EpochNotNewer));
    assert_eq!(sender.rekey(base.clone(), 4), Err(SendError::EpochNotNewer));
    assert_eq!(sender.encrypt_in_place(&mut vec![1, 2], 3), Err(SendError::BadPrefix));
    let max = shieldcall_e2ee::layout::MAX_EPOCH;
    assert!(Sender::new(suite, base.clone(), max + 1, Slot::Chat).is_err());
    let mut last = Sender::new(suite, base, max, Slot::Chat).expect("last epoch");
    assert_eq!(last.ratchet(), Err(SendError::EpochExhausted));
    assert_eq!(last.kid(), (1 << 24) - 1, "the largest narrow KID");
}

#[test]
fn encrypt_into_matches_encrypt_in_place() {
    let suite = CipherSuite::Aes256GcmSha512_128;
    let base = BaseKey::from_slice(&[5; 32]);
    let mut a = Sender::new(suite, base.clone(), 2, Slot::Camera).expect("epoch 2");
    let mut b = Sender::new(suite, base, 2, Slot::Camera).expect("epoch 2");
    let frame = b"\x50\x01\x02 a VP8 key frame, more or less".to_vec();
    let mut in_place = frame.clone();
    a.encrypt_in_place(&mut in_place, 10).expect("sends");
    let mut out = Vec::with_capacity(100);
    b.encrypt_into(&frame[..10], &frame[10..], &mut out).expect("sends");
    assert_eq!(in_place, out);
}
