//! Forged frames stay cheap (issue 9, item 9): a frame that does not authenticate leaves no
//! per-KID state behind, and the ratchet steps that following a later epoch takes are worked out
//! once, not again for every frame that points there.

mod common;

use common::{open, send};
use shieldcall_e2ee::BaseKey;
use shieldcall_e2ee::layout::{MAX_EPOCH, MAX_ROOM_PREFIX, SLOT_BITS, Slot, wide_kid};
use shieldcall_e2ee::sframe::{
    CipherSuite, DropReason, Header, MAX_EPOCH_LOOKAHEAD, Receiver, Sender,
};

/// A frame under `kid` and `ctr` whose body and tag are noise: what anyone on the path can send.
fn forged(kid: u64, ctr: u64, seed: u64) -> Vec<u8> {
    let mut frame = Header::new(kid, ctr).encode().as_bytes().to_vec();
    frame.extend((0..40u64).map(|i| (seed.wrapping_mul(0x9E37_79B9) ^ i.wrapping_mul(77)) as u8));
    frame
}

fn kid_of(epoch: u64, slot: u64) -> u64 {
    epoch << SLOT_BITS | slot
}

#[test]
fn a_flood_of_forged_kids_leaves_no_state_and_real_frames_still_open() {
    for suite in CipherSuite::ALL {
        let base0 = BaseKey::from_slice(&vec![0x21; suite.nk()]);
        let base1 = BaseKey::from_slice(&vec![0x22; suite.nk()]);
        // Epoch 1 current, epoch 0 previous (in its grace period): both accept new KIDs.
        let mut receiver = Receiver::new(suite, base0.clone(), 0);
        let mut old = Sender::new(suite, base0, 0, Slot::MicAudio).expect("epoch 0");
        assert!(open(&mut receiver, &send(&mut old, b"hello"), 0).is_ok());
        assert!(receiver.rekey(base1.clone(), 1, 0));
        let mut sender = Sender::new(suite, base1, 1, Slot::Camera).expect("epoch 1");
        assert!(open(&mut receiver, &send(&mut sender, b"first"), 0).is_ok());
        let contexts = receiver.kid_contexts();
        assert_eq!(contexts, 2, "{suite:?}");

        // Every slot number of the previous, the current and each look-ahead epoch, then far
        // away epochs; many counters each.
        let mut n = 0u64;
        for epoch in (0..=1 + MAX_EPOCH_LOOKAHEAD).chain([50, 1 << 40, MAX_EPOCH]) {
            for slot in 0..16 {
                for ctr in [0, 1, 7, 1000, u64::MAX] {
                    n += 1;
                    let narrow = kid_of(epoch, slot);
                    // And each wide KID of it (frames sealed with room), where it has them.
                    let wide = (0..=MAX_ROOM_PREFIX).filter_map(|p| wide_kid(narrow, p));
                    // And KIDs past the narrow ones that are no wide KID: unknown.
                    let neither = [3 << 24, 1 << 36, 1 << 56, u64::MAX].map(|high| high | narrow);
                    for kid in std::iter::once(narrow).chain(wide).chain(neither) {
                        let frame = forged(kid, ctr, n);
                        let dropped = open(&mut receiver, &frame, 10);
                        assert!(
                            // Replay: the real frames took counter 0 of two KIDs, which is checked
                            // before any decryption.
                            matches!(
                                dropped,
                                Err(DropReason::AuthFailed
                                    | DropReason::UnknownKid
                                    | DropReason::Replay)
                            ),
                            "{suite:?} epoch {epoch} slot {slot} KID {kid:#x}: {dropped:?}"
                        );
                    }
                }
            }
        }
        assert_eq!(receiver.kid_contexts(), contexts, "{suite:?}: forged frames left state");
        assert_eq!((receiver.epoch(), receiver.previous_epoch()), (1, Some(0)));

        // The real sender goes on, and a real frame of a slot not seen before opens too.
        assert_eq!(open(&mut receiver, &send(&mut sender, b"second"), 20).unwrap(), b"second");
        assert_eq!(open(&mut receiver, &send(&mut old, b"late"), 20).unwrap(), b"late");
        let mut screen =
            Sender::new(suite, BaseKey::from_slice(&vec![0x22; suite.nk()]), 1, Slot::ScreenVideo)
                .expect("epoch 1");
        assert_eq!(open(&mut receiver, &send(&mut screen, b"screen"), 20).unwrap(), b"screen");
        assert_eq!(receiver.kid_contexts(), contexts + 1);
    }
}

#[test]
fn a_forged_frame_does_not_reserve_its_counter() {
    // A forged frame under the real KID and the next real counter must not burn that counter
    // (nor leave a window behind that a later real frame would have to get past).
    let suite = CipherSuite::default();
    let base = BaseKey::from_slice(&[0x31; 16]);
    let mut receiver = Receiver::new(suite, base.clone(), 0).only_slot(Slot::MicAudio);
    let mut sender = Sender::new(suite, base, 0, Slot::MicAudio).expect("epoch 0");
    let kid = sender.kid();
    for ctr in 0..64 {
        assert_eq!(open(&mut receiver, &forged(kid, ctr, ctr), 0), Err(DropReason::AuthFailed));
    }
    assert_eq!(receiver.kid_contexts(), 0);
    for i in 0..64u8 {
        assert_eq!(open(&mut receiver, &send(&mut sender, &[i]), 0).unwrap(), [i]);
    }
    assert_eq!(receiver.kid_contexts(), 1);
}

#[test]
fn the_ratchet_look_ahead_is_worked_out_once() {
    let suite = CipherSuite::default();
    let base = BaseKey::from_slice(&[0x41; 16]);
    let mut receiver = Receiver::new(suite, base.clone(), 0);
    let far = MAX_EPOCH_LOOKAHEAD;
    // A thousand forged frames at the farthest epoch still tried: its ratchet steps are worked
    // out for the first, and reused for the rest.
    for i in 0..1000 {
        let frame = forged(kid_of(far, i % 16), i, i);
        assert_eq!(open(&mut receiver, &frame, 0), Err(DropReason::AuthFailed));
    }
    assert_eq!(receiver.ratchet_steps(), far, "each step once");
    assert_eq!(receiver.kid_contexts(), 0);

    // The real sender ratchets three times: the receiver follows from the cache.
    let mut sender = Sender::new(suite, base, 0, Slot::Camera).expect("epoch 0");
    for _ in 0..3 {
        sender.ratchet().expect("ratchets");
    }
    assert_eq!(open(&mut receiver, &send(&mut sender, b"epoch 3"), 0).unwrap(), b"epoch 3");
    assert_eq!(receiver.epoch(), 3);
    assert_eq!(receiver.ratchet_steps(), far, "epoch 3 came from the cache");

    // Forged frames up to the old farthest epoch need nothing new; one step further takes one
    // more step, once.
    for i in 0..100 {
        let frame = forged(kid_of(far, 1), i, i);
        assert_eq!(open(&mut receiver, &frame, 0), Err(DropReason::AuthFailed));
        let frame = forged(kid_of(3 + far, 1), i, i);
        assert_eq!(open(&mut receiver, &frame, 0), Err(DropReason::AuthFailed));
    }
    assert_eq!(receiver.ratchet_steps(), far + 3);
    for _ in 3..3 + far {
        sender.ratchet().expect("ratchets");
    }
    let wire = send(&mut sender, b"farthest");
    assert_eq!(open(&mut receiver, &wire, 0).unwrap(), b"farthest");
    assert_eq!(receiver.ratchet_steps(), far + 3);
    assert_eq!(receiver.epoch(), 3 + far);
}

#[test]
fn new_keys_out_of_band_replace_the_cached_look_ahead() {
    let suite = CipherSuite::default();
    let old = BaseKey::from_slice(&[0x51; 16]);
    let new = BaseKey::from_slice(&[0x52; 16]);
    let mut receiver = Receiver::new(suite, old.clone(), 0);
    // Something points at epoch 4, so the ratchet of the old chain is cached up to there.
    assert_eq!(open(&mut receiver, &forged(kid_of(4, 0), 0, 0), 0), Err(DropReason::AuthFailed));
    assert_eq!(receiver.ratchet_steps(), 4);

    // New keys at epoch 2: epoch 4 must now be the new chain's, never the old one's.
    assert!(receiver.rekey(new.clone(), 2, 0));
    let mut stale = Sender::new(suite, old, 0, Slot::MicAudio).expect("epoch 0");
    for _ in 0..4 {
        stale.ratchet().expect("ratchets");
    }
    assert_eq!(
        open(&mut receiver, &send(&mut stale, b"old chain"), 0),
        Err(DropReason::AuthFailed)
    );
    let mut sender = Sender::new(suite, new, 2, Slot::MicAudio).expect("epoch 2");
    sender.ratchet().expect("ratchets");
    sender.ratchet().expect("ratchets");
    assert_eq!(open(&mut receiver, &send(&mut sender, b"new chain"), 0).unwrap(), b"new chain");
    assert_eq!(receiver.epoch(), 4);
}

/// What a forged frame costs the receiver, in µs, beside a real one. Not part of `make test`:
/// `cargo test --release -p shieldcall-e2ee --test sframe_forgery -- --ignored --nocapture`.
#[test]
#[ignore = "a benchmark; prints timings"]
fn bench_forged_frames() {
    use std::time::Instant;
    const N: u64 = 20_000;
    let suite = CipherSuite::default();
    let base = BaseKey::from_slice(&[0x61; 16]);
    let mut receiver = Receiver::new(suite, base.clone(), 0);
    let mut sender = Sender::new(suite, base, 0, Slot::MicAudio).expect("epoch 0");
    let real: Vec<Vec<u8>> = (0..N).map(|_| send(&mut sender, &[7; 100])).collect();
    type Forge = fn(u64) -> Vec<u8>;
    let cases: [(&str, Forge); 3] = [
        ("forged, known KID", |i| forged(kid_of(0, 0), N + i, i)),
        ("forged, new KID of the current epoch", |i| forged(kid_of(0, 1 + i % 15), i, i)),
        ("forged, 8 epochs ahead", |i| forged(kid_of(MAX_EPOCH_LOOKAHEAD, i % 16), i, i)),
    ];
    let start = Instant::now();
    for wire in &real {
        open(&mut receiver, wire, 0).expect("opens");
    }
    println!("real frame (100 B): {:.2} µs", start.elapsed().as_secs_f64() * 1e6 / N as f64);
    for (name, frame) in cases {
        let frames: Vec<Vec<u8>> = (0..N).map(frame).collect();
        let start = Instant::now();
        for wire in &frames {
            assert!(open(&mut receiver, wire, 0).is_err());
        }
        println!("{name}: {:.2} µs", start.elapsed().as_secs_f64() * 1e6 / N as f64);
    }
    assert_eq!(receiver.kid_contexts(), 1);
}
