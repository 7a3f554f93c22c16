//! Browser tests of the worker's end of the page boundary (`cargo test --target
//! wasm32-unknown-unknown -p shieldcall-worker --lib`, headless Chromium): keys arrive as bytes
//! in a transferred buffer, which the worker wipes, and media sealed under them opens.
//! The page's end, and whole calls through the real worker, are tested in the app
//! (`src/browser/worker.rs`, `tests/media.rs`); what needs no browser (the mode a command sets,
//! the registry, the chat) on the host, beside its code.

use js_sys::{Array, ArrayBuffer, Object, Reflect, Uint8Array};
use shieldcall_e2ee::BaseKey;
use shieldcall_e2ee::layout::Slot;
use shieldcall_e2ee::sframe::{CipherSuite, Receiver, Sender};
use shieldcall_protocol::{
    COMMAND_FIELD, Codec, CommandError, KEYS_FIELD, SecretBytes, WorkerCommand,
};
use wasm_bindgen::JsValue;
use wasm_bindgen_test::*;

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

/// `{command, keys}` as it arrives after the page transferred its buffer.
fn key_message(json: &str, keys: &JsValue) -> JsValue {
    let message = Object::new();
    Reflect::set(&message, &COMMAND_FIELD.into(), &json.into()).unwrap();
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
    let message = key_message(&command.to_json(), &buffer);

    let got = read_command(&message).expect("a command").expect("usable");
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
    // The old form, keys as base64url inside the JSON text, is no longer a command.
    let old = r#"{"kind":"use-keys","suite":4,"epoch":0,"send":"oaGhoaGhoaGhoaGhoaGhoQ","receive":"srKysrKysrKysrKysrKysg"}"#;
    assert_eq!(read_command(&old.into()), Some(Err(CommandError::Malformed)));
    // use-keys as bare text, or with something other than a buffer, carries no keys.
    let json = use_keys(0).to_json();
    assert_eq!(read_command(&json.clone().into()), Some(Err(CommandError::MissingKeys)));
    let message = key_message(&json, &"oaGhoaGh".into());
    assert_eq!(read_command(&message), Some(Err(CommandError::MissingKeys)));
    // Keys that the suite cannot use: the worker refuses them and keeps waiting for keys.
    let message = key_message(&json, &buffer_of(&[7; 10]));
    let short = read_command(&message).unwrap().unwrap();
    assert!(matches!(Mode::from_command(short), Err(m) if m.contains("wrong length")));
    // Not a command at all.
    assert_eq!(read_command(&JsValue::from(5)), None);
    assert_eq!(read_command(&Array::new().into()), None);
    // Other commands are plain text, and refuse key bytes.
    assert_eq!(
        read_command(&"{\"kind\":\"await-keys\"}".into()),
        Some(Ok(WorkerCommand::AwaitKeys))
    );
    let message = key_message("{\"kind\":\"await-keys\"}", &buffer_of(&[1; 32]));
    assert_eq!(read_command(&message), Some(Err(CommandError::UnexpectedKeys)));
}
