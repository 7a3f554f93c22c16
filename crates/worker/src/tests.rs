//! Browser tests of the worker's end of the page boundary (`cargo test --target
//! wasm32-unknown-unknown -p shieldcall-worker --lib`, headless Chromium): keys arrive as bytes
//! in a transferred buffer, which the worker wipes, and media sealed under them opens; streams
//! arrive beside their `attach-streams` command, and every other message is read the same way.
//! The page's end, and whole calls through the real worker, are tested in the app
//! (`src/browser/worker.rs`, `tests/media.rs`); what needs no browser (the mode a command sets,
//! the registry, the chat) on the host, beside its code.

use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use shieldcall_e2ee::BaseKey;
use shieldcall_e2ee::sframe::{CipherSuite, Receiver, Sender};
use shieldcall_protocol::{
    COMMAND_FIELD, Codec, CommandError, Direction, KEYS_FIELD, READABLE_FIELD, SecretBytes, Slot,
    TransformOptions, WRITABLE_FIELD, WorkerCommand,
};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;
use web_sys::TransformStream;

use crate::frame::{open_into_buffer, seal_into_buffer};
use crate::mode::Mode;
use crate::wasm::read_command;

wasm_bindgen_test_configure!(run_in_browser);

const SEND: [u8; 16] = [0xA1; 16];
const RECEIVE: [u8; 16] = [0xB2; 16];

fn use_keys(epoch: u64) -> WorkerCommand {
    WorkerCommand::UseKeys {
        suite: CipherSuite::Aes128GcmSha256_128.id(),
        epoch,
        send: SecretBytes::new(SEND.to_vec()),
        receive: SecretBytes::new(RECEIVE.to_vec()),
    }
}

/// A command's bytes as the page posts them.
fn bytes(command: &[u8]) -> JsValue {
    Uint8Array::from(command).into()
}

/// `{command, keys}` as it arrives after the page transferred its buffer.
fn key_message(command: &[u8], keys: &JsValue) -> JsValue {
    let message = Object::new();
    Reflect::set(&message, &COMMAND_FIELD.into(), &bytes(command)).unwrap();
    Reflect::set(&message, &KEYS_FIELD.into(), keys).unwrap();
    message.into()
}

fn buffer_of(bytes: &[u8]) -> ArrayBuffer {
    Uint8Array::from(bytes).buffer()
}

#[wasm_bindgen_test]
fn keys_arrive_as_bytes_the_buffer_is_wiped_and_media_opens() {
    let command = use_keys(3);
    let buffer = buffer_of(&command.key_bytes().unwrap());
    let message = key_message(&command.encode(), &buffer);

    let (got, streams) = read_command(&message);
    let got = got.expect("usable");
    assert!(streams.is_none());
    assert_eq!(got, command, "the keys arrived whole");
    let left = Uint8Array::new(&buffer).to_vec();
    assert_eq!(left, vec![0; 32], "the worker wiped the buffer it was given");

    // Media sealed with the peer's sending key (our RECEIVE) opens under what arrived, through
    // the very per-frame function the transforms run.
    let Ok(Mode::Keys(keys)) = Mode::from_command(got) else { panic!("keys expected") };
    assert_eq!((keys.suite, keys.epoch), (CipherSuite::Aes128GcmSha256_128, 3));
    let mut peer = Sender::new(keys.suite, BaseKey::from_slice(&RECEIVE), 3, Slot::Camera).unwrap();
    let mut receiver =
        Receiver::new(keys.suite, keys.receive.clone(), keys.epoch).only_slot(Slot::Camera);
    let frame = b"\x51\x02\x03 a VP8 delta frame".to_vec();
    let mut scratch = Vec::new();
    let wire = seal_into_buffer(&mut peer, &buffer_of(&frame), Codec::Vp8, &mut scratch).unwrap();
    let opened = open_into_buffer(&mut receiver, &wire, Codec::Vp8, 0, &mut scratch).unwrap();
    assert_eq!(Uint8Array::new(&opened).to_vec(), frame);
    // And what we send opens under the peer's view of our key.
    let mut ours = Sender::new(keys.suite, keys.send.clone(), 3, Slot::MicAudio).unwrap();
    let mut theirs =
        Receiver::new(keys.suite, BaseKey::from_slice(&SEND), 3).only_slot(Slot::MicAudio);
    let wire = seal_into_buffer(&mut ours, &buffer_of(b"opus"), Codec::Opus, &mut scratch).unwrap();
    let opened = open_into_buffer(&mut theirs, &wire, Codec::Opus, 0, &mut scratch).unwrap();
    assert_eq!(Uint8Array::new(&opened).to_vec(), b"opus");
}

#[wasm_bindgen_test]
fn keys_in_text_or_missing_bytes_fail_closed() {
    // The old forms, JSON text with or without keys inside, are no longer commands.
    let old = r#"{"kind":"use-keys","suite":4,"epoch":0,"send":"oaGhoaGhoaGhoaGhoaGhoQ","receive":"srKysrKysrKysrKysrKysg"}"#;
    assert!(matches!(read_command(&old.into()).0, Err(CommandError::Malformed(_))));
    assert!(matches!(read_command(&bytes(old.as_bytes())).0, Err(CommandError::Malformed(_))));
    // UseKeys as bare bytes, or with something other than a buffer, carries no keys.
    let command = use_keys(0).encode();
    assert_eq!(read_command(&bytes(&command)).0, Err(CommandError::MissingKeys));
    let message = key_message(&command, &"oaGhoaGh".into());
    assert_eq!(read_command(&message).0, Err(CommandError::MissingKeys));
    // Keys that the suite cannot use: the worker refuses them and keeps waiting for keys.
    let message = key_message(&command, &buffer_of(&[7; 10]));
    let short = read_command(&message).0.unwrap();
    assert!(matches!(Mode::from_command(short), Err(m) if m.contains("wrong length")));
    // Not a command at all: refused, with what it was.
    let (not_text, _) = read_command(&JsValue::from(5));
    assert!(matches!(not_text, Err(CommandError::Malformed(m)) if m.contains("neither")));
    let (array, _) = read_command(&Array::new().into());
    assert!(matches!(array, Err(CommandError::Malformed(m)) if m.contains("without `command`")));
    // Other commands are their bytes alone, and refuse key bytes.
    let await_keys = WorkerCommand::AwaitKeys.encode();
    assert_eq!(read_command(&bytes(&await_keys)).0, Ok(WorkerCommand::AwaitKeys));
    let message = key_message(&await_keys, &buffer_of(&[1; 32]));
    assert_eq!(read_command(&message).0, Err(CommandError::UnexpectedKeys));
}

/// `{command, readable, writable}` as it arrives after the page transferred its streams.
fn stream_message(command: Option<&[u8]>) -> JsValue {
    let streams = TransformStream::new().unwrap();
    let message = Object::new();
    if let Some(command) = command {
        Reflect::set(&message, &COMMAND_FIELD.into(), &bytes(command)).unwrap();
    }
    Reflect::set(&message, &READABLE_FIELD.into(), &streams.readable()).unwrap();
    Reflect::set(&message, &WRITABLE_FIELD.into(), &streams.writable()).unwrap();
    message.into()
}

#[wasm_bindgen_test]
fn streams_arrive_beside_their_command_and_are_kept_even_when_it_is_refused() {
    let options = TransformOptions::new(Slot::Camera, Direction::Receive);
    let attach = WorkerCommand::AttachStreams { options };
    let (command, streams) = read_command(&stream_message(Some(&attach.encode())));
    assert_eq!(command, Ok(attach.clone()));
    assert!(streams.is_some_and(|ends| ends.transformer.is_none()));
    // Without streams, the command is refused.
    assert_eq!(read_command(&bytes(&attach.encode())).0, Err(CommandError::MissingStreams));
    // Options naming no slot: refused by name; the streams come back, to be drained.
    let (command, streams) = read_command(&stream_message(Some(&[1, 12, 0])));
    assert!(matches!(command, Err(CommandError::Malformed(m)) if m.contains("slot 12")));
    assert!(streams.is_some());
    // Streams beside another command, or in the old bare form without one: refused too.
    let await_keys = WorkerCommand::AwaitKeys.encode();
    let (command, streams) = read_command(&stream_message(Some(&await_keys)));
    assert_eq!(command, Err(CommandError::UnexpectedStreams));
    assert!(streams.is_some());
    let (command, streams) = read_command(&stream_message(None));
    assert!(matches!(command, Err(CommandError::Malformed(_))));
    assert!(streams.is_some());
}

mod webcrypto_path {
    //! The hybrid path's WebCrypto half (`crate::webcrypto`) against the Rust path, in the
    //! browser: the same frames byte for byte, opened by either, forgeries refused.

    use js_sys::{ArrayBuffer, Reflect, Uint8Array};
    use shieldcall_e2ee::BaseKey;
    use shieldcall_e2ee::layout::clear_prefix_len_of;
    use shieldcall_e2ee::sframe::external::{ExternalKey, HEAD_LEN};
    use shieldcall_e2ee::sframe::{
        CipherSuite, DropReason, FrameInfo, Receiver, Sender, SframeKey, encrypt_frame,
    };
    use shieldcall_protocol::{Codec, Slot};
    use wasm_bindgen::{JsCast, JsValue};
    use wasm_bindgen_test::*;
    use web_sys::CryptoKey;

    use crate::frame::{open_into_buffer, seal_into_buffer};
    use crate::webcrypto::{self, Usage};

    /// The AES-GCM suites built in (AES-256 with the feature `every-suite`, as `make test`
    /// runs these tests).
    fn suites() -> impl Iterator<Item = CipherSuite> {
        CipherSuite::ALL.into_iter().filter(|s| shieldcall_e2ee::sframe::external::is_gcm(*s))
    }

    /// Frames on either side of the crossovers, up to a large key frame, of both video codecs.
    const FRAMES: [(Codec, usize); 4] =
        [(Codec::Vp9, 1000), (Codec::Vp8, 1000), (Codec::Vp9, 40_000), (Codec::Vp8, 200_000)];

    fn frame(codec: Codec, len: usize, seed: u8) -> Vec<u8> {
        let mut bytes: Vec<u8> = (0..len).map(|i| (i as u8).wrapping_mul(13) ^ seed).collect();
        if codec == Codec::Vp8 {
            bytes[0] = 0x10; // bit 0 clear: a key frame, 10 bytes of clear prefix
        }
        bytes
    }

    fn bytes(buffer: &ArrayBuffer) -> Vec<u8> {
        Uint8Array::new(buffer).to_vec()
    }

    async fn import(sender: &Sender, usage: Usage) -> CryptoKey {
        import_external(&sender.external_key().expect("a GCM suite"), usage).await
    }

    /// `key` imported into WebCrypto for `usage`, the script loaded.
    async fn import_external(key: &ExternalKey, usage: Usage) -> CryptoKey {
        webcrypto::evaluate_frames_js();
        let subtle = webcrypto::subtle().expect("WebCrypto");
        let promise = webcrypto::import_key(&subtle, key, usage).expect("import starts");
        webcrypto::imported(promise).await.expect("imported")
    }

    #[wasm_bindgen_test]
    fn a_frames_head_is_its_first_bytes_at_any_length() {
        for len in [0, 1, HEAD_LEN - 1, HEAD_LEN, HEAD_LEN + 1, 70_000] {
            let bytes = frame(Codec::Vp9, len, 7);
            let head = webcrypto::read_head(&Uint8Array::from(&bytes[..]).buffer(), len);
            assert_eq!(head, bytes[..len.min(HEAD_LEN)], "{len} bytes");
        }
    }

    async fn seal(sender: &mut Sender, key: &CryptoKey, plain: &[u8], codec: Codec) -> Vec<u8> {
        let prefix_len = clear_prefix_len_of(codec, plain);
        let job = sender.seal_job(plain.len() - prefix_len).unwrap();
        let data = Uint8Array::from(plain).buffer();
        let head = webcrypto::read_head(&data, plain.len()); // as the transform reads it
        bytes(&webcrypto::seal(key, &job, &data, &head, prefix_len).await.expect("sealed"))
    }

    /// Opens `wire` as the worker's transform does: the job from the first bytes, WebCrypto,
    /// then the receiver's accept. `Ok(None)`: the KID is new, for the Rust path.
    async fn open(
        receiver: &mut Receiver,
        key: &CryptoKey,
        wire: &[u8],
        codec: Codec,
    ) -> Result<Option<Vec<u8>>, DropReason> {
        let prefix_len = clear_prefix_len_of(codec, wire);
        let data = Uint8Array::from(wire).buffer();
        let head = webcrypto::read_head(&data, wire.len()); // as the transform reads it
        let Some(job) = receiver.open_job(&head[prefix_len..], wire.len() - prefix_len, 0)? else {
            return Ok(None);
        };
        match webcrypto::open(key, &job, &data, &head, prefix_len).await {
            Ok(out) => receiver.accept(&job).map(|_| Some(bytes(&out))),
            Err(err) => {
                assert!(webcrypto::is_auth_failure(&err), "a forgery, not a failed call");
                Err(DropReason::AuthFailed)
            }
        }
    }

    fn parties(suite: CipherSuite) -> (Sender, Sender, Receiver) {
        let base = BaseKey::from_slice(&vec![0x3C; suite.nh()]);
        (
            Sender::new(suite, base.clone(), 2, Slot::Camera).unwrap(),
            Sender::new(suite, base.clone(), 2, Slot::Camera).unwrap(),
            Receiver::new(suite, base, 2).only_slot(Slot::Camera),
        )
    }

    #[wasm_bindgen_test]
    async fn webcrypto_frames_are_the_rust_frames_and_either_path_opens_either() {
        for suite in suites() {
            let (mut by_webcrypto, mut by_rust, mut receiver) = parties(suite);
            let seal_key = import(&by_webcrypto, Usage::Encrypt).await;
            let open_key = import(&by_webcrypto, Usage::Decrypt).await;
            let mut scratch = Vec::new();
            // The first frame of the KID opens in Rust; from then on WebCrypto may open.
            let first = frame(Codec::Vp9, 900, 0);
            let wire = seal(&mut by_webcrypto, &seal_key, &first, Codec::Vp9).await;
            let data = Uint8Array::from(&wire[..]).buffer();
            assert_eq!(open(&mut receiver, &open_key, &wire, Codec::Vp9).await, Ok(None));
            let opened = open_into_buffer(&mut receiver, &data, Codec::Vp9, 0, &mut scratch);
            assert_eq!(bytes(&opened.unwrap()), first);
            by_rust.seal_job(0).unwrap(); // keep the two senders' counters in step

            for (i, (codec, len)) in FRAMES.into_iter().enumerate() {
                let plain = frame(codec, len, i as u8);
                let from_webcrypto = seal(&mut by_webcrypto, &seal_key, &plain, codec).await;
                let data = Uint8Array::from(&plain[..]).buffer();
                let from_rust =
                    bytes(&seal_into_buffer(&mut by_rust, &data, codec, &mut scratch).unwrap());
                assert_eq!(from_webcrypto, from_rust, "{suite:?} {codec:?} {len}: same wire bytes");
                assert_ne!(from_webcrypto[20..60], plain[20..60], "encrypted");

                // Rust opens WebCrypto's frame, and the same frame is then a replay for both.
                let wire = Uint8Array::from(&from_webcrypto[..]).buffer();
                let opened = open_into_buffer(&mut receiver, &wire, codec, 0, &mut scratch);
                assert_eq!(bytes(&opened.unwrap()), plain);
                let again = open(&mut receiver, &open_key, &from_webcrypto, codec).await;
                assert_eq!(again, Err(DropReason::Replay));

                // WebCrypto opens the next frame, sealed by Rust.
                let plain = frame(codec, len, 0x80 | i as u8);
                let data = Uint8Array::from(&plain[..]).buffer();
                let next =
                    bytes(&seal_into_buffer(&mut by_rust, &data, codec, &mut scratch).unwrap());
                by_webcrypto.seal_job(0).unwrap();
                let opened = open(&mut receiver, &open_key, &next, codec).await;
                assert_eq!(opened, Ok(Some(plain)), "{suite:?} {codec:?} {len}");
            }
        }
    }

    /// Every clear prefix a wide KID exists for: VP9 (none) and a VP8 delta frame (3 bytes).
    fn delta_frame(codec: Codec, len: usize, seed: u8) -> Vec<u8> {
        let mut bytes = frame(codec, len, seed);
        if codec == Codec::Vp8 {
            bytes[0] = 0x11; // bit 0 set: a delta frame, 3 bytes of clear prefix
        }
        bytes
    }

    /// `plain` (its first `prefix_len` bytes clear) sealed with room under `key`, at the
    /// sender's next wide counter: the frame's KID and counter, and what the script's promise
    /// settles to.
    async fn room_call(
        sender: &mut Sender,
        key: &CryptoKey,
        plain: &[u8],
        prefix_len: usize,
    ) -> (FrameInfo, Result<JsValue, JsValue>) {
        let job = sender.room_job(&plain[..prefix_len], plain.len() - prefix_len).unwrap().unwrap();
        let data = Uint8Array::from(plain).buffer();
        let promise = webcrypto::start_seal_with_room(key, &job, &data, prefix_len);
        (job.info(), wasm_bindgen_futures::JsFuture::from(promise.expect("started")).await)
    }

    #[wasm_bindgen_test]
    async fn webcrypto_sealing_with_room_gives_the_wide_kids_frame_and_rust_opens_it() {
        for suite in suites() {
            let base = BaseKey::from_slice(&vec![0x3C; suite.nh()]);
            let (mut sender, _, mut receiver) = parties(suite);
            let mut scratch = Vec::new();
            for (i, (codec, len)) in FRAMES.into_iter().enumerate() {
                let plain = delta_frame(codec, len, i as u8);
                let prefix_len = clear_prefix_len_of(codec, &plain);
                let key = sender.room_external_key(prefix_len).expect("a wide KID");
                let seal_key = import_external(&key, Usage::Encrypt).await;
                let (info, sealed) = room_call(&mut sender, &seal_key, &plain, prefix_len).await;
                let sealed = bytes(&sealed.expect("sealed").into());

                // The very bytes the Rust path seals under the wide KID at that counter.
                let frame_key = SframeKey::derive(suite, base.expose(), info.kid);
                let mut expected = plain[..prefix_len].to_vec();
                encrypt_frame(
                    &frame_key,
                    info.ctr,
                    &plain[..prefix_len],
                    &plain[prefix_len..],
                    &mut expected,
                )
                .unwrap();
                assert_eq!(sealed, expected, "{suite:?} {codec:?} {len}: the frame, tag and all");
                assert_eq!(sealed[..prefix_len], plain[..prefix_len], "the prefix stays clear");

                // Under another key (here the narrow KID's) the output is no frame: refused by
                // the script as a failed call, not sent.
                let narrow = sender.external_key().expect("a GCM suite");
                let wrong_key = import_external(&narrow, Usage::Encrypt).await;
                let (_, refused) = room_call(&mut sender, &wrong_key, &plain, prefix_len).await;
                let err = refused.expect_err("not the frame: refused");
                assert!(!webcrypto::is_auth_failure(&err), "a failed call, not a forgery");

                // A key WebCrypto will not seal with (imported to open): its own rejection
                // comes through unchanged, a failed call.
                let open_only = import_external(&key, Usage::Decrypt).await;
                let (_, refused) = room_call(&mut sender, &open_only, &plain, prefix_len).await;
                let err = refused.expect_err("a key to open with: refused");
                let name = err.dyn_ref::<js_sys::Error>().map(|e| String::from(e.name()));
                assert_eq!(
                    name.as_deref(),
                    Some("InvalidAccessError"),
                    "WebCrypto's own rejection"
                );

                // The receiver opens it in Rust, once.
                let wire = Uint8Array::from(&sealed[..]).buffer();
                let opened = open_into_buffer(&mut receiver, &wire, codec, 0, &mut scratch);
                assert_eq!(bytes(&opened.unwrap()), plain, "{suite:?} {codec:?} {len}");
                let again = open_into_buffer(&mut receiver, &wire, codec, 0, &mut scratch);
                assert_eq!(again.err(), Some(DropReason::Replay));
            }
        }
    }

    #[wasm_bindgen_test]
    async fn webcrypto_refuses_forgeries_and_they_move_no_window() {
        let (mut sender, _, mut receiver) = parties(CipherSuite::Aes128GcmSha256_128);
        let seal_key = import(&sender, Usage::Encrypt).await;
        let open_key = import(&sender, Usage::Decrypt).await;
        let mut scratch = Vec::new();
        let first = seal(&mut sender, &seal_key, &frame(Codec::Vp9, 800, 1), Codec::Vp9).await;
        let data = Uint8Array::from(&first[..]).buffer();
        open_into_buffer(&mut receiver, &data, Codec::Vp9, 0, &mut scratch).unwrap();

        let plain = frame(Codec::Vp8, 5000, 2);
        let genuine = seal(&mut sender, &seal_key, &plain, Codec::Vp8).await;
        // A flipped bit in the clear prefix, the body, or the tag.
        for i in [4, 100, genuine.len() - 1] {
            let mut forged = genuine.clone();
            forged[i] ^= 0x02;
            let result = open(&mut receiver, &open_key, &forged, Codec::Vp8).await;
            assert_eq!(result, Err(DropReason::AuthFailed), "byte {i}");
        }
        let opened = open(&mut receiver, &open_key, &genuine, Codec::Vp8).await;
        assert_eq!(opened, Ok(Some(plain)), "the genuine frame still opens");
    }

    /// A WebCrypto frame whose call cannot be made (here: the script is gone) fails as a call,
    /// not as a forgery: the transform then gives the key up and seals or opens the frame in
    /// Rust, and never counts a genuine frame as forged.
    #[wasm_bindgen_test]
    async fn without_its_script_a_webcrypto_frame_fails_as_a_call() {
        let (mut sender, mut by_rust, mut receiver) = parties(CipherSuite::Aes128GcmSha256_128);
        let seal_key = import(&sender, Usage::Encrypt).await;
        let open_key = import(&sender, Usage::Decrypt).await;
        let mut scratch = Vec::new();
        let buffer = |bytes: &[u8]| Uint8Array::from(bytes).buffer();
        // The receiver knows the KID from a first frame, opened in Rust.
        let first = frame(Codec::Vp9, 900, 0);
        let first = seal_into_buffer(&mut by_rust, &buffer(&first), Codec::Vp9, &mut scratch);
        open_into_buffer(&mut receiver, &first.unwrap(), Codec::Vp9, 0, &mut scratch).unwrap();
        let plain = frame(Codec::Vp9, 2000, 3);
        let next = seal_into_buffer(&mut by_rust, &buffer(&plain), Codec::Vp9, &mut scratch);
        let next = bytes(&next.unwrap());
        let open_job = receiver.open_job(&next[..HEAD_LEN], next.len(), 0).unwrap().unwrap();
        let seal_job = sender.seal_job(plain.len()).unwrap();

        let global = js_sys::global();
        let frames = Reflect::get(&global, &webcrypto::FRAMES_GLOBAL.into()).unwrap();
        Reflect::delete_property(&global, &webcrypto::FRAMES_GLOBAL.into()).unwrap();
        let sealed =
            webcrypto::seal(&seal_key, &seal_job, &buffer(&plain), &plain[..HEAD_LEN], 0).await;
        let opened =
            webcrypto::open(&open_key, &open_job, &buffer(&next), &next[..HEAD_LEN], 0).await;
        Reflect::set(&global, &webcrypto::FRAMES_GLOBAL.into(), &frames).unwrap();

        for result in [sealed, opened] {
            let err = result.expect_err("no script, no frame");
            assert!(!webcrypto::is_auth_failure(&err), "a failed call, not a forgery");
        }
        // With the script back, the same frame opens.
        let again =
            webcrypto::open(&open_key, &open_job, &buffer(&next), &next[..HEAD_LEN], 0).await;
        assert_eq!(bytes(&again.expect("opens")), plain);
    }
}

/// The AES-GCM the worker's SFrame keys use in WebAssembly (`shieldcall_e2ee::sframe::sliced`,
/// bitsliced over `v128`) seals byte for byte as the `aes-gcm` crate does and refuses what it
/// should, in this browser's engine: the host tests check the same circuit through a portable
/// stand-in for `v128`; this checks the SIMD instructions themselves.
#[wasm_bindgen_test]
fn the_bitsliced_aes_gcm_seals_as_the_aes_gcm_crate_does_in_this_engine() {
    same_as_aes_gcm::<11, aes_gcm::Aes128Gcm>();
    same_as_aes_gcm::<15, aes_gcm::Aes256Gcm>();
}

/// Every size from 0 to 300 B and some up to 200 KB, with `R` round keys against `A`, the
/// `aes-gcm` crate's cipher of the same key length: sealed alike, opened, a forgery refused.
fn same_as_aes_gcm<const R: usize, A>()
where
    A: aes_gcm::KeyInit + aes_gcm::aead::AeadInPlace,
{
    use aes_gcm::aead::Nonce;
    use shieldcall_e2ee::sframe::sliced::{Gcm, simd::V};

    let key_len = (R - 7) * 4;
    let sizes = (0..=300).chain([1000, 1024, 4099, 16 * 1024, 200 * 1024]);
    for (n, len) in sizes.enumerate() {
        let key: Vec<u8> = (0..key_len).map(|i| (i * 29 + n) as u8).collect();
        let nonce: [u8; 12] = core::array::from_fn(|i| (i * 11 + n) as u8);
        let aad: Vec<u8> = (0..n % 24).map(|i| i as u8).collect();
        let plain: Vec<u8> = (0..len).map(|i| (i * 5 + n) as u8).collect();

        let gcm = Gcm::<V, R>::new_boxed(&key);
        let (mut ours, mut theirs) = (plain.clone(), plain.clone());
        let tag = gcm.encrypt(&nonce, &aad, &mut ours).unwrap();
        let their_tag = A::new_from_slice(&key)
            .unwrap()
            .encrypt_in_place_detached(Nonce::<A>::from_slice(&nonce), &aad, &mut theirs)
            .unwrap();
        assert_eq!((ours.as_slice(), &tag[..]), (theirs.as_slice(), &their_tag[..]), "{len} B");

        let mut opened = ours.clone();
        gcm.decrypt(&nonce, &aad, &mut opened, &tag).unwrap();
        assert_eq!(opened, plain, "{len} B opened");
        let mut forged = tag;
        forged[n % 16] ^= 1 << (n % 8);
        let mut refused = ours.clone();
        assert!(gcm.decrypt(&nonce, &aad, &mut refused, &forged).is_err(), "{len} B forged");
        assert_eq!(refused, ours, "a refused frame is left as it was");
    }
}
