//! The bodies of the cargo-fuzz targets in `crates/e2ee/fuzz`, shared with the regression test
//! `tests/fuzz_regressions.rs` so that both run exactly the same checks. Each function panics
//! when the property it states does not hold.

use std::collections::{HashMap, HashSet};

use shieldcall_e2ee::BaseKey;
use shieldcall_e2ee::layout::{Slot, narrow_kid, split_kid};
use shieldcall_e2ee::sframe::{
    CipherSuite, DropReason, Header, MAX_EPOCH_LOOKAHEAD, REPLAY_WINDOW, Receiver, Sender,
    SframeKey, decrypt_frame, encrypt_frame,
};

/// Reads the input front to back; past its end every read is 0, so any input is a program.
struct Bytes<'a>(&'a [u8]);

impl Bytes<'_> {
    fn u8(&mut self) -> u8 {
        match self.0.split_first() {
            Some((&b, rest)) => {
                self.0 = rest;
                b
            }
            None => 0,
        }
    }

    fn u64(&mut self) -> u64 {
        (0..8).fold(0, |acc, _| acc << 8 | u64::from(self.u8()))
    }

    fn take(&mut self, n: usize) -> &[u8] {
        let (head, rest) = self.0.split_at(n.min(self.0.len()));
        self.0 = rest;
        head
    }

    fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

/// `header_parse`: the parser never panics, never claims more than its input, and re-encodes
/// what it read (minimally, so never longer).
pub fn header_parse(data: &[u8]) {
    if let Ok((header, len)) = Header::parse(data) {
        assert!(len <= data.len());
        let encoded = header.encode();
        assert!(encoded.as_bytes().len() <= len);
        assert_eq!(encoded.as_bytes().len(), header.encoded_len());
        assert_eq!(Header::parse(encoded.as_bytes()), Ok((header, encoded.as_bytes().len())));
    }
}

/// `frame_open`: a receiver drops any input without panicking and leaves the buffer as it was.
/// The first byte picks the clear-prefix length.
pub fn frame_open(data: &[u8]) {
    let Some((&prefix, frame)) = data.split_first() else { return };
    for suite in CipherSuite::ALL {
        let mut receiver = Receiver::new(suite, BaseKey::from_slice(&[7; 16]), 0);
        let mut buf = frame.to_vec();
        let result = receiver.decrypt_in_place(&mut buf, usize::from(prefix % 16), 0);
        assert!(result.is_err(), "a random frame authenticated");
        assert_eq!(buf, frame);
    }
}

/// `round_trip`: for any suite, KID, counter, metadata and payload, encrypting and then
/// decrypting gives the payload back, by the free functions and by `Sender`/`Receiver`, and
/// `encrypt_in_place` writes the same bytes as `encrypt_into`.
pub fn round_trip(data: &[u8]) {
    let mut input = Bytes(data);
    let suite = CipherSuite::ALL[usize::from(input.u8()) % CipherSuite::ALL.len()];
    let base_len = 1 + usize::from(input.u8() % 32);
    let base = BaseKey::from_slice(input.take(base_len));
    let kid = input.u64();
    let ctr = input.u64();
    let metadata_len = usize::from(input.u8() % 32);
    let metadata = input.take(metadata_len).to_vec();
    let payload = input.0;

    let key = SframeKey::derive(suite, base.expose(), kid);
    let mut wire = b"already here".to_vec();
    let info = encrypt_frame(&key, ctr, &metadata, payload, &mut wire).expect("short payload");
    assert_eq!((info.kid, info.ctr), (kid, ctr));
    assert_eq!(&wire[..12], b"already here", "encrypt_frame only appends");
    let wire = &wire[12..];
    assert_eq!(wire.len(), Header::new(kid, ctr).encoded_len() + payload.len() + suite.nt());
    assert_eq!(Header::parse(wire).map(|(h, _)| h), Ok(Header::new(kid, ctr)));
    let mut back = b"kept".to_vec();
    let info = decrypt_frame(&key, &metadata, wire, &mut back).expect("own frame opens");
    assert_eq!((info.kid, info.ctr), (kid, ctr));
    assert_eq!(&back[..4], b"kept", "decrypt_frame only appends");
    assert_eq!(&back[4..], payload);

    // The same through Sender and Receiver, at the epoch and slot the KID names.
    // Only a narrow KID is a sender's own (a wide one is sealed with room, `sframe_room.rs`).
    let Some((epoch, slot)) = split_kid(kid).filter(|_| narrow_kid(kid) == Some(kid)) else {
        return;
    };
    let Some(slot) = Slot::from_id(slot) else { return };
    let prefix = metadata.len().min(payload.len());
    let plain: Vec<u8> = payload.to_vec();
    let mut in_place = plain.clone();
    let mut sender = Sender::new(suite, base.clone(), epoch, slot).expect("epoch fits a KID");
    let info = sender.encrypt_in_place(&mut in_place, prefix).expect("sends");
    assert_eq!((info.kid, info.ctr), (kid, 0));
    let mut into = Vec::new();
    let mut twin = Sender::new(suite, base.clone(), epoch, slot).expect("epoch fits a KID");
    twin.encrypt_into(&plain[..prefix], &plain[prefix..], &mut into).expect("sends");
    assert_eq!(in_place, into, "encrypt_in_place and encrypt_into agree");

    let mut receiver = Receiver::new(suite, base, epoch).only_slot(slot);
    let info = receiver.decrypt_in_place(&mut in_place, prefix, 0).expect("own frame opens");
    assert_eq!((info.kid, info.ctr), (kid, 0));
    assert_eq!(in_place, plain);
    assert_eq!(receiver.decrypt_in_place(&mut into, prefix, 0), Err(DropReason::Replay));
}

/// What the receiver should do, written as plainly as possible.
struct Model {
    current: u64,
    /// The previous epoch and the time it is forgotten.
    previous: Option<(u64, u64)>,
    grace_ms: u64,
    only_slot: Option<Slot>,
    /// Accepted counters per KID.
    accepted: HashMap<u64, HashSet<u64>>,
}

impl Model {
    fn expire(&mut self, now_ms: u64) {
        if self.previous.is_some_and(|(_, until)| now_ms >= until) {
            self.previous = None;
        }
    }

    /// The expected result of an authentic frame `(kid, ctr)`, updating the model.
    fn deliver(&mut self, kid: u64, ctr: u64, now_ms: u64) -> Result<(), DropReason> {
        let (epoch, slot) = split_kid(kid).expect("a sender's KID");
        if self.only_slot.is_some_and(|s| s.id() != slot) {
            return Err(DropReason::UnknownKid);
        }
        let known = epoch == self.current || self.previous.is_some_and(|(e, _)| e == epoch);
        let ahead = epoch > self.current && epoch - self.current <= MAX_EPOCH_LOOKAHEAD;
        if !known && !ahead {
            return Err(DropReason::UnknownKid);
        }
        let accepted = self.accepted.entry(kid).or_default();
        if accepted.iter().max().is_some_and(|&top| ctr <= top && top - ctr >= REPLAY_WINDOW) {
            return Err(DropReason::TooOld);
        }
        if !accepted.insert(ctr) {
            return Err(DropReason::Replay);
        }
        if ahead {
            self.previous = Some((self.current, now_ms.saturating_add(self.grace_ms)));
            self.current = epoch;
        }
        Ok(())
    }
}

struct Sent {
    prefix: usize,
    plain: Vec<u8>,
    wire: Vec<u8>,
    kid: u64,
    ctr: u64,
}

/// `receiver_sequence`: one peer's senders (one per slot, ratcheting on their own) and a
/// receiver with an arbitrary clear-prefix length, grace period and slot filter. The input is
/// a program of sends, deliveries (in any order, repeated, tampered, with the wrong prefix
/// length), ratchets and clock steps; every delivery must give exactly what [`Model`] says, a
/// dropped frame must leave the buffer as it was, and an opened one must give the payload back.
pub fn receiver_sequence(data: &[u8]) {
    let mut input = Bytes(data);
    let suite = CipherSuite::ALL[usize::from(input.u8()) % CipherSuite::ALL.len()];
    let prefix = usize::from(input.u8() % 24);
    let grace_ms = u64::from(input.u8()) * 20;
    let filter = input.u8();
    let only_slot = (filter & 0x80 != 0).then(|| Slot::ALL[usize::from(filter) % Slot::ALL.len()]);

    let base = BaseKey::from_slice(&[0x5c; 16]);
    let mut receiver = Receiver::new(suite, base.clone(), 0).with_grace_ms(grace_ms);
    if let Some(slot) = only_slot {
        receiver = receiver.only_slot(slot);
    }
    let mut model =
        Model { current: 0, previous: None, grace_ms, only_slot, accepted: HashMap::new() };
    let mut senders: Vec<Sender> = Slot::ALL
        .iter()
        .map(|&slot| Sender::new(suite, base.clone(), 0, slot).expect("epoch 0"))
        .collect();
    let mut sent: Vec<Sent> = Vec::new();
    let mut now_ms = 0u64;

    let mut steps = 0;
    while !input.is_empty() && steps < 256 {
        steps += 1;
        match input.u8() % 6 {
            // Send a frame of `len` bytes; its first `prefix` bytes (or fewer) stay clear.
            0 => {
                let sender = &mut senders[usize::from(input.u8()) % Slot::ALL.len()];
                let len = usize::from(input.u8() % 48);
                let plain: Vec<u8> = (0..len).map(|i| (i as u8) ^ (sent.len() as u8)).collect();
                let p = prefix.min(len);
                let mut wire = plain.clone();
                let info = sender.encrypt_in_place(&mut wire, p).expect("sends");
                assert_eq!(&wire[..p], &plain[..p], "the clear prefix stays clear");
                assert_eq!(
                    wire.len(),
                    len + Header::new(info.kid, info.ctr).encoded_len() + suite.nt()
                );
                sent.push(Sent { prefix: p, plain, wire, kid: info.kid, ctr: info.ctr });
            }
            // Deliver a sent frame (again, maybe).
            1 => {
                if sent.is_empty() {
                    continue;
                }
                let frame = &sent[usize::from(input.u8()) % sent.len()];
                let mut buf = frame.wire.clone();
                model.expire(now_ms);
                let expected = model.deliver(frame.kid, frame.ctr, now_ms);
                let got = receiver.decrypt_in_place(&mut buf, frame.prefix, now_ms);
                assert_eq!(got.map(|_| ()), expected, "kid {:#x} ctr {}", frame.kid, frame.ctr);
                match got {
                    Ok(info) => {
                        assert_eq!((info.kid, info.ctr), (frame.kid, frame.ctr));
                        assert_eq!(buf, frame.plain);
                    }
                    Err(_) => assert_eq!(buf, frame.wire, "a dropped frame is left as it was"),
                }
                assert_eq!(receiver.epoch(), model.current);
                assert_eq!(receiver.previous_epoch(), model.previous.map(|(e, _)| e));
            }
            // Deliver a sent frame with one byte changed: never opens, changes nothing.
            2 => {
                if sent.is_empty() {
                    continue;
                }
                let frame = &sent[usize::from(input.u8()) % sent.len()];
                let mut buf = frame.wire.clone();
                let at = usize::from(input.u8()) % buf.len();
                buf[at] ^= input.u8().max(1);
                let tampered = buf.clone();
                model.expire(now_ms);
                let got = receiver.decrypt_in_place(&mut buf, frame.prefix, now_ms);
                assert!(got.is_err(), "a tampered frame opened: byte {at}");
                assert_eq!(buf, tampered);
            }
            // Deliver a sent frame with the wrong clear-prefix length: never opens.
            3 => {
                if sent.is_empty() {
                    continue;
                }
                let frame = &sent[usize::from(input.u8()) % sent.len()];
                let wrong = usize::from(input.u8() % 32);
                if wrong == frame.prefix {
                    continue;
                }
                let mut buf = frame.wire.clone();
                model.expire(now_ms);
                let got = receiver.decrypt_in_place(&mut buf, wrong, now_ms);
                assert!(got.is_err(), "opened with prefix {wrong} instead of {}", frame.prefix);
                assert_eq!(buf, frame.wire);
            }
            // One sender ratchets to its next epoch.
            4 => {
                let sender = &mut senders[usize::from(input.u8()) % Slot::ALL.len()];
                sender.ratchet().expect("far from the last epoch");
            }
            // The clock moves on.
            _ => now_ms += u64::from(input.u8()) * 10,
        }
    }
}
