//! A transform's SFrame state and every decision it makes about a frame that does not need the
//! browser: which keys a mode change leaves, whether a frame's AES-GCM goes to WebCrypto and
//! as what job, what becomes of the frame when that call ends, and how a drop is counted.
//! Tested on the host; `transform.rs` holds the frames, the calls and the messages.

use shieldcall_e2ee::layout::{ROOM, clear_prefix_len, narrow_kid, vp8_is_key_frame};
use shieldcall_e2ee::sframe::external::{ExternalKey, OpenJob, SealJob, is_gcm};
use shieldcall_e2ee::sframe::room::RoomJob;
use shieldcall_e2ee::sframe::{CipherSuite, DropReason, Receiver, SendError, Sender};
use shieldcall_protocol::{Codec, CodecError, Direction, TransformOptions, TransformStats};

use crate::hybrid::{self, Engine};
use crate::mode::Mode;

/// The SFrame state of one transform, made from [`Mode`].
pub enum Cryptor {
    AwaitKeys,
    PassThrough,
    Encrypt(Sender),
    Decrypt(Receiver),
}

/// A frame's SFrame work whose AES-GCM is WebCrypto's.
pub enum Job {
    Seal(SealJob),
    /// Sealed with room: WebCrypto's output is the whole frame (PROTOCOL.md change 51).
    SealWithRoom(RoomJob),
    Open(OpenJob),
}

impl Job {
    pub fn kid(&self) -> u64 {
        match self {
            Job::Seal(job) => job.info().kid,
            Job::SealWithRoom(job) => job.info().kid,
            Job::Open(job) => job.info().kid,
        }
    }
}

/// A frame planned for WebCrypto: the key `K` it runs under (a `CryptoKey` in the browser),
/// its job, its clear prefix, and how long its bytes must be once sealed or opened.
pub struct Planned<K> {
    pub key: K,
    pub job: Job,
    pub prefix_len: usize,
    pub out_len: usize,
}

/// How a frame's WebCrypto call ended.
#[derive(Clone, Copy, Debug)]
pub enum CallEnded {
    /// It resolved to a buffer of `len` bytes.
    Done { len: usize },
    /// It rejected with an `OperationError`: for an opening, the frame did not authenticate.
    NotAuthentic,
    /// It rejected otherwise, or resolved to something that is not a buffer.
    Failed,
}

impl CallEnded {
    /// How the script's call ended: `resolved` or rejected, and what with (`len` if a buffer,
    /// whether an `OperationError`). Only a rejection with an `OperationError` is "not
    /// authentic"; anything else that is not a buffer is a failure.
    pub fn of(resolved: bool, len: Option<usize>, operation_error: bool) -> CallEnded {
        match (resolved, len) {
            (true, Some(len)) => CallEnded::Done { len },
            (false, _) if operation_error => CallEnded::NotAuthentic,
            _ => CallEnded::Failed,
        }
    }
}

/// What becomes of a frame whose WebCrypto call ended.
#[derive(Debug, PartialEq, Eq)]
pub enum AfterCall {
    /// WebCrypto's bytes become the frame's data.
    Forward,
    Drop(Dropped),
    /// WebCrypto failed (not a forgery): the KID's key is given up, and this frame and the
    /// next take the Rust path.
    InRust,
}

/// Why a frame was dropped.
#[derive(Debug, PartialEq, Eq)]
pub enum Dropped {
    NoKey,
    Send(SendError),
    Receive(DropReason),
    Codec(CodecError),
    NotAFrame,
    /// The pump gave a frame before the last one's WebCrypto call was finished, or finished
    /// another frame than the one whose call was under way.
    OutOfTurn,
}

impl Cryptor {
    /// The suite of its keys, if it has keys.
    pub fn suite(&self) -> Option<CipherSuite> {
        match self {
            Cryptor::Encrypt(sender) => Some(sender.suite()),
            Cryptor::Decrypt(receiver) => Some(receiver.suite()),
            Cryptor::AwaitKeys | Cryptor::PassThrough => None,
        }
    }

    /// The frame size from which its frames go to WebCrypto in `engine`
    /// ([`hybrid::crossover`]), for its own direction: sealing if it encrypts, opening if it
    /// decrypts. `None`: no keys, or a suite WebCrypto does not have.
    pub fn crossover(&self, engine: Engine) -> Option<usize> {
        let direction = match self {
            Cryptor::Encrypt(_) => Direction::Send,
            Cryptor::Decrypt(_) => Direction::Receive,
            Cryptor::AwaitKeys | Cryptor::PassThrough => return None,
        };
        hybrid::crossover(engine, self.suite()?, direction)
    }

    /// Takes `mode` for a transform of `options`. Under the same suite a key change moves the
    /// sender to the new epoch's KID (its counter from 0) and keeps the receiver's previous
    /// epoch for the frames still on their way. On `Err`, the reason to report: a sender whose
    /// first key is unusable drops every frame; keys that could not change (the new epoch is
    /// not higher, which would repeat KIDs and counters) are kept as they were.
    pub fn apply(
        &mut self,
        mode: &Mode,
        options: TransformOptions,
        now_ms: u64,
    ) -> Result<(), String> {
        let TransformOptions { slot, direction } = options;
        let next = match (mode, direction, &mut *self) {
            (Mode::AwaitKeys, ..) => Cryptor::AwaitKeys,
            (Mode::TransportOnly, ..) => Cryptor::PassThrough,
            (Mode::Keys(keys), Direction::Send, Cryptor::Encrypt(sender))
                if sender.suite() == keys.suite =>
            {
                return sender
                    .rekey(keys.send.clone(), keys.epoch)
                    .map_err(|err| format!("keys not changed: {err}"));
            }
            (Mode::Keys(keys), Direction::Send, _) => {
                match Sender::new(keys.suite, keys.send.clone(), keys.epoch, slot) {
                    Ok(sender) => Cryptor::Encrypt(sender),
                    Err(err) => {
                        *self = Cryptor::AwaitKeys;
                        return Err(format!("no sending key: {err}"));
                    }
                }
            }
            (Mode::Keys(keys), Direction::Receive, Cryptor::Decrypt(receiver))
                if receiver.suite() == keys.suite =>
            {
                return match receiver.rekey(keys.receive.clone(), keys.epoch, now_ms) {
                    true => Ok(()),
                    false => Err("keys not changed: new keys must use a higher epoch".into()),
                };
            }
            (Mode::Keys(keys), Direction::Receive, _) => Cryptor::Decrypt(
                Receiver::new(keys.suite, keys.receive.clone(), keys.epoch).only_slot(slot),
            ),
        };
        *self = next;
        Ok(())
    }

    /// Whether a frame of `len` bytes, `head` its first bytes, goes to WebCrypto, and as what:
    /// an AES-GCM frame whose payload has at least `crossover` bytes ([`Self::crossover`] in
    /// the worker). `Ok(None)`: Rust's, because it is small, or its KID has no WebCrypto key
    /// ready (`key` says, given the KID and a way to derive its key; in the browser it starts
    /// the import), or it is a receiving KID's first frame, which may move the epoch.
    ///
    /// A sealing job takes its counter; a receiver forgets an epoch past its grace period, as
    /// on every frame. Nothing else changes until [`Self::after_webcrypto`].
    pub fn plan_webcrypto<K>(
        &mut self,
        crossover: usize,
        codec: Codec,
        len: usize,
        head: &[u8],
        now_ms: u64,
        key: impl FnOnce(u64, &dyn Fn() -> Option<ExternalKey>) -> Option<K>,
    ) -> Result<Option<Planned<K>>, Dropped> {
        let Some(suite) = self.suite().filter(|&suite| is_gcm(suite)) else { return Ok(None) };
        // The caller checks the whole frame before it reads the head; again here, so that this
        // stands alone.
        if len < crossover {
            return Ok(None);
        }
        let prefix_len =
            clear_prefix_len(codec, codec == Codec::Vp8 && vp8_is_key_frame(head), len);
        let body_len = len - prefix_len;
        if body_len < crossover {
            return Ok(None);
        }
        let (key, job, out_len) = match self {
            Cryptor::Encrypt(sender) => match sender.room_kid(prefix_len) {
                // A prefix of at most 3 bytes (all but a VP8 key frame's) is sealed with room,
                // under its wide KID: no second buffer for the header (PROTOCOL.md change 51).
                Some(kid) => {
                    let Some(key) = key(kid, &|| sender.room_external_key(prefix_len)) else {
                        return Ok(None);
                    };
                    let prefix = head.get(..prefix_len).ok_or(Dropped::NotAFrame)?;
                    let Some(job) = sender.room_job(prefix, body_len).map_err(Dropped::Send)?
                    else {
                        return Ok(None);
                    };
                    (key, Job::SealWithRoom(job), body_len + ROOM + suite.nt())
                }
                None => {
                    let Some(key) = key(sender.kid(), &|| sender.external_key()) else {
                        return Ok(None);
                    };
                    let job = sender.seal_job(body_len).map_err(Dropped::Send)?;
                    let out_len = len + job.header().len() + suite.nt();
                    (key, Job::Seal(job), out_len)
                }
            },
            Cryptor::Decrypt(receiver) => {
                let wire = &head[prefix_len.min(head.len())..];
                let Some(job) =
                    receiver.open_job(wire, body_len, now_ms).map_err(Dropped::Receive)?
                else {
                    return Ok(None);
                };
                let kid = job.info().kid;
                let Some(key) = key(kid, &|| receiver.external_key(kid)) else {
                    return Ok(None);
                };
                let Some(out_len) = len.checked_sub(job.header_len() + suite.nt()) else {
                    return Err(Dropped::Receive(DropReason::Malformed));
                };
                (key, Job::Open(job), out_len)
            }
            Cryptor::AwaitKeys | Cryptor::PassThrough => return Ok(None),
        };
        Ok(Some(Planned { key, job, prefix_len, out_len }))
    }

    /// What becomes of a frame whose WebCrypto call for `job` ended as `ended`, where its bytes
    /// should now be `out_len` long. WebCrypto's bytes pass only under the keys the job was
    /// made under, at the length the job says, and (opening) inside the replay window now:
    /// Rust decides what is forwarded, never the script.
    pub fn after_webcrypto(&mut self, job: &Job, out_len: usize, ended: CallEnded) -> AfterCall {
        match (job, ended) {
            (Job::Seal(job), CallEnded::Done { len }) if len == out_len => match self {
                Cryptor::Encrypt(sender) if sender.kid() == job.info().kid => AfterCall::Forward,
                // The keys changed meanwhile: not under the old one.
                _ => AfterCall::Drop(Dropped::NoKey),
            },
            (Job::SealWithRoom(job), CallEnded::Done { len }) if len == out_len => match self {
                Cryptor::Encrypt(sender) if narrow_kid(job.info().kid) == Some(sender.kid()) => {
                    AfterCall::Forward
                }
                _ => AfterCall::Drop(Dropped::NoKey),
            },
            (Job::Open(job), CallEnded::Done { len }) if len == out_len => match self {
                Cryptor::Decrypt(receiver) => match receiver.accept(job) {
                    Ok(_) => AfterCall::Forward,
                    Err(reason) => AfterCall::Drop(Dropped::Receive(reason)),
                },
                // The keys were withdrawn meanwhile.
                _ => AfterCall::Drop(Dropped::NoKey),
            },
            (Job::Open(_), CallEnded::NotAuthentic) => {
                AfterCall::Drop(Dropped::Receive(DropReason::AuthFailed))
            }
            // WebCrypto (or the script) failed, or its output has the wrong length.
            (_, CallEnded::Done { .. } | CallEnded::NotAuthentic | CallEnded::Failed) => {
                AfterCall::InRust
            }
        }
    }
}

impl Dropped {
    /// Counts the drop in `stats`.
    pub fn count(&self, stats: &mut TransformStats) {
        let counter = match self {
            Dropped::NoKey => &mut stats.dropped_no_key,
            Dropped::Receive(DropReason::UnknownKid) => &mut stats.dropped_unknown_key,
            Dropped::Receive(DropReason::AuthFailed) => &mut stats.dropped_bad_tag,
            Dropped::Receive(DropReason::Replay | DropReason::TooOld) => &mut stats.dropped_replay,
            Dropped::Receive(DropReason::Malformed)
            | Dropped::Send(_)
            | Dropped::NotAFrame
            | Dropped::OutOfTurn => &mut stats.dropped_malformed,
            Dropped::Codec(_) => &mut stats.dropped_codec,
        };
        *counter += 1;
    }

    /// Whether the page is told (at most once a second) and, receiving video, a key frame
    /// asked for. Not for a frame before the keys, which is expected; nor for a frame seen
    /// already or older than the window: the browser's pipeline delivers the odd duplicate or
    /// straggler, and the frame it repeats was decoded. These are counted (a direction of
    /// nothing but them is a problem the page shows), not reported one by one.
    pub fn is_reported(&self) -> bool {
        !matches!(self, Dropped::NoKey | Dropped::Receive(DropReason::Replay | DropReason::TooOld))
    }
}

impl std::fmt::Display for Dropped {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Dropped::NoKey => f.write_str("no key yet"),
            Dropped::Send(err) => write!(f, "frame not encrypted: {err}"),
            Dropped::Receive(DropReason::UnknownKid) => f.write_str("frame under an unknown key"),
            Dropped::Receive(DropReason::AuthFailed) => {
                f.write_str("frame failed to decrypt (wrong key or tampered)")
            }
            Dropped::Receive(DropReason::Replay) => f.write_str("replayed frame"),
            Dropped::Receive(DropReason::TooOld) => f.write_str("frame too old"),
            Dropped::Receive(DropReason::Malformed) => f.write_str("not an SFrame frame"),
            Dropped::Codec(err) => err.fmt(f),
            Dropped::NotAFrame => f.write_str("not an encoded frame"),
            Dropped::OutOfTurn => f.write_str("a frame out of turn in the worker's loop"),
        }
    }
}

#[cfg(test)]
mod tests {
    // In tests `unwrap` and `panic!` are assertions.
    use std::rc::Rc;

    use shieldcall_e2ee::BaseKey;
    use shieldcall_e2ee::layout::{WIDE_FIRST_CTR, wide_kid};
    use shieldcall_e2ee::sframe::CipherSuite;
    use shieldcall_protocol::Slot;

    use super::*;
    use crate::mode::Keys;

    const SUITE: CipherSuite = CipherSuite::Aes128GcmSha256_128;
    const NOW: u64 = 1_000;
    /// Chromium's AES-128 sealing crossover, and frames over it and under it.
    const CROSSOVER: usize = 1152;
    const LARGE: usize = 4000;
    const SMALL: usize = 1000;

    fn keys(epoch: u64) -> Mode {
        Mode::Keys(Rc::new(Keys {
            suite: SUITE,
            epoch,
            send: BaseKey::from_slice(&[epoch as u8; 16]),
            receive: BaseKey::from_slice(&[epoch as u8; 16]),
        }))
    }

    fn options(direction: Direction) -> TransformOptions {
        TransformOptions::new(Slot::Camera, direction)
    }

    fn cryptor(direction: Direction, epoch: u64) -> Cryptor {
        let mut cryptor = Cryptor::AwaitKeys;
        cryptor.apply(&keys(epoch), options(direction), NOW).unwrap();
        cryptor
    }

    fn sender(cryptor: &mut Cryptor) -> &mut Sender {
        match cryptor {
            Cryptor::Encrypt(sender) => sender,
            _ => panic!("a sending cryptor"),
        }
    }

    /// Plans a VP9 frame of `len` bytes whose first bytes are `head`, with every key ready.
    fn plan(
        cryptor: &mut Cryptor,
        len: usize,
        head: &[u8],
    ) -> Result<Option<Planned<u64>>, Dropped> {
        plan_as(cryptor, Codec::Vp9, len, head)
    }

    fn plan_as(
        cryptor: &mut Cryptor,
        codec: Codec,
        len: usize,
        head: &[u8],
    ) -> Result<Option<Planned<u64>>, Dropped> {
        cryptor.plan_webcrypto(CROSSOVER, codec, len, head, NOW, |kid, _| Some(kid))
    }

    /// A sealed frame of `len` bytes, as the sending side of `epoch` would send it in Rust.
    fn sealed_in_rust(sending: &mut Cryptor, len: usize) -> Vec<u8> {
        let mut frame = vec![7; len];
        sender(sending).encrypt_in_place(&mut frame, 0).unwrap();
        frame
    }

    /// A receiving cryptor that has opened one frame of `sending`'s KID (in Rust, as the first
    /// frame of a KID is), and the next large frame `sending` sends.
    fn receiving_after_one_frame(sending: &mut Cryptor) -> (Cryptor, Vec<u8>) {
        let mut receiving = cryptor(Direction::Receive, 1);
        let mut first = sealed_in_rust(sending, SMALL);
        let Cryptor::Decrypt(receiver) = &mut receiving else { panic!("a receiving cryptor") };
        receiver.decrypt_in_place(&mut first, 0, NOW).unwrap();
        (receiving, sealed_in_rust(sending, LARGE))
    }

    #[test]
    fn a_mode_change_keeps_the_keys_it_cannot_replace() {
        let mut sending = cryptor(Direction::Send, 1);
        let first_kid = sender(&mut sending).kid();
        sender(&mut sending).seal_job(100).unwrap();
        // A higher epoch: a new KID, its counter from 0.
        sending.apply(&keys(2), options(Direction::Send), NOW).unwrap();
        let kid = sender(&mut sending).kid();
        assert_ne!(kid, first_kid);
        assert_eq!(sender(&mut sending).next_ctr(), Some(0));
        // An epoch that is not higher would repeat KIDs and counters: refused, keys kept.
        let refused = sending.apply(&keys(2), options(Direction::Send), NOW);
        assert_eq!(refused, Err("keys not changed: new keys must use a higher epoch".into()));
        assert_eq!(sender(&mut sending).kid(), kid);
        // A first key that cannot be used leaves no key at all: every frame is dropped.
        let mut fresh = Cryptor::PassThrough;
        let refused = fresh.apply(&keys(u64::MAX), options(Direction::Send), NOW);
        assert_eq!(refused, Err("no sending key: no epochs left to ratchet to".into()));
        assert!(matches!(fresh, Cryptor::AwaitKeys));
        // Transport only, and back to waiting.
        sending.apply(&Mode::TransportOnly, options(Direction::Send), NOW).unwrap();
        assert!(matches!(sending, Cryptor::PassThrough));
        sending.apply(&Mode::AwaitKeys, options(Direction::Send), NOW).unwrap();
        assert!(matches!(sending, Cryptor::AwaitKeys));
        // A receiver keeps the previous epoch's KIDs through a key change, and refuses an
        // epoch that is not higher as the sender does.
        let mut receiving = cryptor(Direction::Receive, 1);
        receiving.apply(&keys(2), options(Direction::Receive), NOW).unwrap();
        let refused = receiving.apply(&keys(1), options(Direction::Receive), NOW);
        assert_eq!(refused, Err("keys not changed: new keys must use a higher epoch".into()));
        let Cryptor::Decrypt(receiver) = &receiving else { panic!("a receiving cryptor") };
        assert_eq!((receiver.epoch(), receiver.previous_epoch()), (2, Some(1)));
    }

    #[test]
    fn each_side_crosses_to_webcrypto_at_its_own_directions_size() {
        let sending = cryptor(Direction::Send, 1);
        let receiving = cryptor(Direction::Receive, 1);
        let engine = Engine::Chromium;
        let sealing = hybrid::crossover(engine, SUITE, Direction::Send);
        let opening = hybrid::crossover(engine, SUITE, Direction::Receive);
        // Chromium opens with WebCrypto sooner than it seals: a side with the other's size
        // would fail here.
        assert_ne!(sealing, opening);
        assert_eq!(sending.crossover(engine), sealing);
        assert_eq!(receiving.crossover(engine), opening);
        assert_eq!(Cryptor::AwaitKeys.crossover(Engine::Chromium), None);
        assert_eq!(Cryptor::PassThrough.crossover(Engine::Chromium), None);
    }

    #[test]
    fn only_a_large_frame_whose_key_is_ready_goes_to_webcrypto() {
        let mut sending = cryptor(Direction::Send, 1);
        let asked = std::cell::RefCell::new(Vec::new());
        let planned =
            |cryptor: &mut Cryptor, len: usize, codec: Codec, head: &[u8], ready: bool| {
                cryptor
                    .plan_webcrypto(CROSSOVER, codec, len, head, NOW, |kid, key| {
                        asked.borrow_mut().push(kid);
                        assert!(key().is_some(), "an AES-GCM key for WebCrypto");
                        ready.then_some(kid)
                    })
                    .unwrap()
            };
        // Under the crossover: Rust's, and no key is asked for.
        assert!(planned(&mut sending, SMALL, Codec::Opus, &[0; 32], true).is_none());
        // A VP8 key frame just over it whose payload, past the 10 clear bytes, is under it.
        assert!(planned(&mut sending, CROSSOVER + 4, Codec::Vp8, &[0; 32], true).is_none());
        assert!(asked.borrow().is_empty());
        // Large, its key not ready yet: Rust's, and its counter not taken.
        assert!(planned(&mut sending, LARGE, Codec::Opus, &[0; 32], false).is_none());
        assert_eq!(sender(&mut sending).next_ctr(), Some(0));
        let kid = sender(&mut sending).kid();
        let wide = wide_kid(kid, 0).unwrap();
        assert_eq!(*asked.borrow(), [wide], "a frame without clear bytes: the wide KID's key");
        let Some(large) = planned(&mut sending, LARGE, Codec::Vp8, &[0; 32], true) else {
            panic!("a large frame with its key ready goes to WebCrypto");
        };
        let Job::Seal(job) = &large.job else { panic!("a sealing job") };
        assert_eq!((large.key, job.info().kid, job.info().ctr), (kid, kid, 0));
        assert_eq!(large.prefix_len, 10, "a VP8 key frame keeps 10 bytes in the clear");
        assert_eq!(large.out_len, LARGE + job.header().len() + 16);
        assert_eq!(*asked.borrow(), [wide, kid]);
        // With its key ready, a frame of up to 3 clear bytes is sealed with room, under its
        // wide KID and that KID's own counter.
        let Some(large) = planned(&mut sending, LARGE, Codec::Vp8, &[1; 32], true) else {
            panic!("a VP8 delta frame goes to WebCrypto");
        };
        let Job::SealWithRoom(job) = &large.job else { panic!("sealed with room") };
        let wide = wide_kid(kid, 3).unwrap();
        assert_eq!((large.key, job.info().kid, job.info().ctr), (wide, wide, WIDE_FIRST_CTR));
        assert_eq!(large.out_len, LARGE - 3 + ROOM + 16, "prefix and header: one block");
        assert_eq!(sender(&mut sending).next_ctr(), Some(1), "the narrow counter untouched");
        // Waiting for keys, or transport only: nothing goes anywhere.
        for mut idle in [Cryptor::AwaitKeys, Cryptor::PassThrough] {
            assert!(plan(&mut idle, LARGE, &[0; 32]).unwrap().is_none());
        }
    }

    #[test]
    fn a_kids_first_frame_is_opened_in_rust_and_the_rest_in_webcrypto() {
        let mut sending = cryptor(Direction::Send, 1);
        let mut receiving = cryptor(Direction::Receive, 1);
        let first = sealed_in_rust(&mut sending, LARGE);
        assert!(plan(&mut receiving, first.len(), &first[..32]).unwrap().is_none());

        let (mut receiving, next) = receiving_after_one_frame(&mut sending);
        let (len, head) = (next.len(), &next[..32]);
        let Some(large) = plan(&mut receiving, len, head).unwrap() else {
            panic!("a known KID's large frame goes to WebCrypto");
        };
        let Job::Open(job) = &large.job else { panic!("an opening job") };
        assert_eq!(large.out_len, len - job.header_len() - 16);
        // A head that cannot hold the header it announces (KID and CTR of 8 bytes each): no
        // SFrame frame, dropped as malformed.
        assert_eq!(
            plan_err(&mut receiving, len, &[0xff, 0]),
            Dropped::Receive(DropReason::Malformed)
        );
    }

    fn plan_err(cryptor: &mut Cryptor, len: usize, head: &[u8]) -> Dropped {
        match plan(cryptor, len, head) {
            Err(dropped) => dropped,
            Ok(_) => panic!("dropped"),
        }
    }

    #[test]
    fn a_sealed_frame_passes_only_under_the_keys_it_was_sealed_for() {
        // Sealed with room (VP9) and not (a VP8 key frame, 10 bytes in the clear).
        for (codec, head) in [(Codec::Vp9, [0; 32]), (Codec::Vp8, [0x10; 32])] {
            a_sealed_frame_passes_only_under_its_keys(codec, &head);
        }
    }

    fn a_sealed_frame_passes_only_under_its_keys(codec: Codec, head: &[u8]) {
        let mut sending = cryptor(Direction::Send, 1);
        let planned = plan_as(&mut sending, codec, LARGE, head).unwrap().unwrap();
        let (job, out_len) = (&planned.job, planned.out_len);
        let done = CallEnded::Done { len: out_len };
        assert_eq!(sending.after_webcrypto(job, out_len, done), AfterCall::Forward);
        // The script's bytes must have the job's length; a WebCrypto failure goes to Rust.
        let short = CallEnded::Done { len: out_len - 1 };
        assert_eq!(sending.after_webcrypto(job, out_len, short), AfterCall::InRust);
        assert_eq!(sending.after_webcrypto(job, out_len, CallEnded::Failed), AfterCall::InRust);
        assert_eq!(
            sending.after_webcrypto(job, out_len, CallEnded::NotAuthentic),
            AfterCall::InRust
        );
        // The keys changed while WebCrypto sealed: the frame is not sent under the old one.
        sending.apply(&keys(2), options(Direction::Send), NOW).unwrap();
        assert_eq!(sending.after_webcrypto(job, out_len, done), AfterCall::Drop(Dropped::NoKey));
        sending.apply(&Mode::TransportOnly, options(Direction::Send), NOW).unwrap();
        assert_eq!(sending.after_webcrypto(job, out_len, done), AfterCall::Drop(Dropped::NoKey));
    }

    #[test]
    fn an_opened_frame_passes_once_and_a_forgery_never() {
        let mut sending = cryptor(Direction::Send, 1);
        let (mut receiving, next) = receiving_after_one_frame(&mut sending);
        let (len, head) = (next.len(), &next[..32]);
        let planned = plan(&mut receiving, len, head).unwrap().unwrap();
        let (job, out_len) = (&planned.job, planned.out_len);
        let done = CallEnded::Done { len: out_len };
        // A forgery is dropped as one, and does not move the replay window.
        assert_eq!(
            receiving.after_webcrypto(job, out_len, CallEnded::NotAuthentic),
            AfterCall::Drop(Dropped::Receive(DropReason::AuthFailed))
        );
        assert_eq!(receiving.after_webcrypto(job, out_len, CallEnded::Failed), AfterCall::InRust);
        let long = CallEnded::Done { len: out_len + 1 };
        assert_eq!(receiving.after_webcrypto(job, out_len, long), AfterCall::InRust);
        assert_eq!(receiving.after_webcrypto(job, out_len, done), AfterCall::Forward);
        // The same counter again, as a replay would bring it: dropped.
        assert_eq!(
            receiving.after_webcrypto(job, out_len, done),
            AfterCall::Drop(Dropped::Receive(DropReason::Replay))
        );
        // New keys while WebCrypto opened: the previous epoch is kept for frames on their way.
        let (mut receiving, next) = receiving_after_one_frame(&mut sending);
        let planned = plan(&mut receiving, next.len(), &next[..32]).unwrap().unwrap();
        let done = CallEnded::Done { len: planned.out_len };
        receiving.apply(&keys(2), options(Direction::Receive), NOW).unwrap();
        assert_eq!(
            receiving.after_webcrypto(&planned.job, planned.out_len, done),
            AfterCall::Forward
        );
        // Keys withdrawn while WebCrypto opened: dropped.
        let (mut receiving, next) = receiving_after_one_frame(&mut sending);
        let planned = plan(&mut receiving, next.len(), &next[..32]).unwrap().unwrap();
        let done = CallEnded::Done { len: planned.out_len };
        receiving.apply(&Mode::AwaitKeys, options(Direction::Receive), NOW).unwrap();
        assert_eq!(
            receiving.after_webcrypto(&planned.job, planned.out_len, done),
            AfterCall::Drop(Dropped::NoKey)
        );
    }

    #[test]
    fn the_planned_lengths_are_those_of_the_rust_path() {
        // A VP8 key frame (bit 0 of its first byte clear: 10 bytes in the clear), a VP8 delta
        // frame (3) and a VP9 frame, sealed by Rust and planned for WebCrypto from one state.
        let frames = [(Codec::Vp8, 0x10, 10), (Codec::Vp8, 0x11, 3), (Codec::Vp9, 0x11, 0)];
        for (codec, first_byte, prefix) in frames {
            let mut sending = cryptor(Direction::Send, 1);
            let mut receiving = cryptor(Direction::Receive, 1);
            let mut first = sealed_in_rust(&mut sending, SMALL);
            let Cryptor::Decrypt(receiver) = &mut receiving else { panic!("a receiver") };
            receiver.decrypt_in_place(&mut first, 0, NOW).unwrap();
            let mut frame = vec![first_byte; LARGE];
            let head = frame[..32].to_vec();
            let sealing = plan_as(&mut sending, codec, LARGE, &head).unwrap().unwrap();
            assert_eq!(sealing.prefix_len, prefix, "{codec:?}");
            let job = match &sealing.job {
                Job::Seal(job) => job,
                // Sealed with room: the clear prefix and the header make one block.
                Job::SealWithRoom(_) => {
                    assert_eq!(sealing.out_len, LARGE - prefix + ROOM + 16, "{codec:?}");
                    continue;
                }
                Job::Open(_) => panic!("a sealing job"),
            };
            // The same counter, sealed in Rust: the length WebCrypto's output must have.
            let mut twin =
                Sender::new(SUITE, BaseKey::from_slice(&[1; 16]), 1, Slot::Camera).unwrap();
            while twin.next_ctr() != Some(job.info().ctr) {
                twin.seal_job(0).unwrap();
            }
            assert_eq!(twin.kid(), job.info().kid);
            twin.encrypt_in_place(&mut frame, prefix).unwrap();
            assert_eq!(sealing.out_len, frame.len(), "{codec:?}: sealed length");
            // Opening it: the header is read after the clear prefix, and the length is the
            // frame's before it was sealed.
            let opening =
                plan_as(&mut receiving, codec, frame.len(), &frame[..32]).unwrap().unwrap();
            assert_eq!(opening.prefix_len, prefix, "{codec:?}");
            let Job::Open(open) = &opening.job else { panic!("an opening job") };
            assert_eq!((open.info().kid, open.info().ctr), (job.info().kid, job.info().ctr));
            assert_eq!(opening.out_len, LARGE, "{codec:?}: opened length");
        }
    }

    #[test]
    fn a_suite_without_aes_gcm_never_goes_to_webcrypto() {
        // AES-CTR with HMAC, where the E2EE core is built with it (feature `every-suite`).
        let suites: Vec<_> = CipherSuite::ALL.into_iter().filter(|&suite| !is_gcm(suite)).collect();
        assert_eq!(suites.len(), if cfg!(feature = "every-suite") { 3 } else { 0 });
        for suite in suites {
            let mode = Mode::Keys(Rc::new(Keys {
                suite,
                epoch: 1,
                send: BaseKey::from_slice(&vec![1; suite.nk()]),
                receive: BaseKey::from_slice(&vec![1; suite.nk()]),
            }));
            let mut sending = Cryptor::AwaitKeys;
            sending.apply(&mode, options(Direction::Send), NOW).unwrap();
            let planned =
                sending.plan_webcrypto(0, Codec::Vp9, LARGE, &[0; 32], NOW, |kid, _| Some(kid));
            assert!(planned.unwrap().is_none(), "{suite:?}");
        }
    }

    #[test]
    fn only_an_operation_error_is_a_forgery() {
        assert!(matches!(CallEnded::of(true, Some(40), false), CallEnded::Done { len: 40 }));
        // Resolved with something that is not a buffer.
        assert!(matches!(CallEnded::of(true, None, false), CallEnded::Failed));
        assert!(matches!(CallEnded::of(true, None, true), CallEnded::Failed));
        assert!(matches!(CallEnded::of(false, None, true), CallEnded::NotAuthentic));
        assert!(matches!(CallEnded::of(false, None, false), CallEnded::Failed));
        assert!(matches!(CallEnded::of(false, Some(40), false), CallEnded::Failed));
    }

    #[test]
    fn drops_are_counted_by_kind_and_the_expected_ones_not_reported() {
        let mut stats = TransformStats::new(Slot::Camera, Direction::Receive);
        let every = [
            Dropped::NoKey,
            Dropped::Receive(DropReason::UnknownKid),
            Dropped::Receive(DropReason::AuthFailed),
            Dropped::Receive(DropReason::Replay),
            Dropped::Receive(DropReason::TooOld),
            Dropped::Receive(DropReason::Malformed),
            Dropped::Send(SendError::TooLong),
            Dropped::NotAFrame,
            Dropped::OutOfTurn,
            Dropped::Codec(CodecError::UnknownPayloadType(99)),
        ];
        for dropped in &every {
            dropped.count(&mut stats);
        }
        let counted = (
            stats.dropped_no_key,
            stats.dropped_unknown_key,
            stats.dropped_bad_tag,
            stats.dropped_replay,
            stats.dropped_malformed,
            stats.dropped_codec,
        );
        assert_eq!(counted, (1, 1, 1, 2, 4, 1));
        assert_eq!((stats.processed, stats.passed), (0, 0));
        let quiet: Vec<_> = every.iter().filter(|d| !d.is_reported()).collect();
        assert_eq!(
            quiet,
            [
                &Dropped::NoKey,
                &Dropped::Receive(DropReason::Replay),
                &Dropped::Receive(DropReason::TooOld)
            ]
        );
    }
}
