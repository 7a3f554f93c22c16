//! The outside AES-GCM of `shieldcall_e2ee::sframe::external`: WebCrypto in the worker, for
//! the large frames of the [hybrid](crate::hybrid) path. One `subtle` call per frame, made by
//! a small script (`js/frames.js`) in one call from wasm; the frame's bytes go to
//! WebCrypto as views of its own `ArrayBuffer`, never through wasm memory.
//!
//! Public so that the browser tests and the benchmark run exactly this code.

use js_sys::{Array, ArrayBuffer, Promise, Reflect, Uint8Array};
use shieldcall_e2ee::sframe::external::{ExternalKey, HEAD_LEN, OpenJob, SealJob};
use shieldcall_e2ee::sframe::room::RoomJob;
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::cryptor::{Job, Planned};
use crate::hybrid::Engine;
use web_sys::{CryptoKey, SubtleCrypto};

/// The first bytes of a frame whose bytes are `data` (`len` of them): what
/// [`Cryptor::plan_webcrypto`](crate::cryptor::Cryptor::plan_webcrypto) reads. One view and one
/// copy across the boundary (three calls), where a view, its subarray and `to_vec` took seven:
/// reading a large frame's head had cost about 1 µs in Chromium.
pub fn read_head(data: &ArrayBuffer, len: usize) -> Vec<u8> {
    debug_assert_eq!(len, data.byte_length() as usize, "the frame's length");
    let mut head = vec![0; len.min(HEAD_LEN)];
    Uint8Array::new_with_byte_offset_and_length(data, 0, head.len() as u32).copy_to(&mut head);
    head
}

/// The global scope's `crypto.subtle` (a worker's, or a page's in the tests), if it has one.
pub fn subtle() -> Option<SubtleCrypto> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    Reflect::get(&crypto, &"subtle".into()).ok()?.dyn_into().ok()
}

/// The engine this runs in, from `navigator.userAgent`.
pub fn engine() -> Engine {
    let user_agent = Reflect::get(&js_sys::global(), &"navigator".into())
        .and_then(|navigator| Reflect::get(&navigator, &"userAgent".into()))
        .ok()
        .and_then(|agent| agent.as_string())
        .unwrap_or_default();
    Engine::from_user_agent(&user_agent)
}

/// What a key is imported for.
#[derive(Clone, Copy)]
pub enum Usage {
    Encrypt,
    Decrypt,
}

/// Starts importing `key` as a non-extractable AES-GCM key for `usage`.
///
/// `importKey` copies the key bytes before it returns (WebCrypto: "get a copy of the bytes
/// held by keyData"), so the one JS-side copy is overwritten here at once and the caller can
/// drop `key` (which wipes the Rust copy) while the import runs.
pub fn import_key(
    subtle: &SubtleCrypto,
    key: &ExternalKey,
    usage: Usage,
) -> Result<Promise, JsValue> {
    let raw = Uint8Array::from(key.key_bytes());
    let usage = match usage {
        Usage::Encrypt => "encrypt",
        Usage::Decrypt => "decrypt",
    };
    let promise =
        subtle.import_key_with_str("raw", &raw, "AES-GCM", false, &Array::of1(&usage.into()));
    raw.fill(0, 0, raw.length());
    promise
}

/// Awaits [`import_key`]'s promise.
pub async fn imported(promise: Promise) -> Result<CryptoKey, JsValue> {
    JsFuture::from(promise).await.map(JsCast::unchecked_into)
}

/// The JavaScript half of the frame path (`js/media-worker.js` imports it before the wasm).
pub const FRAMES_JS: &str = include_str!("../js/frames.js");

/// The global [`FRAMES_JS`] defines (the namespace of the imports below and of the pump's).
pub const FRAMES_GLOBAL: &str = "shieldcallFrames";

/// Whether [`FRAMES_JS`] ran in this global scope.
pub fn frames_js_loaded() -> bool {
    Reflect::has(&js_sys::global(), &FRAMES_GLOBAL.into()) == Ok(true)
}

/// Evaluates [`FRAMES_JS`] in this global scope unless it ran already: for the tests and the
/// benchmark, whose pages allow it (the app's CSP allows no `eval`; its worker's loader imports
/// the file).
pub fn evaluate_frames_js() {
    if !frames_js_loaded() {
        js_sys::Function::new_no_args(FRAMES_JS).call0(&JsValue::NULL).expect("frames.js runs");
    }
}

#[wasm_bindgen]
extern "C" {
    /// `js/frames.js`'s `seal`. Throws if the script was not loaded.
    #[wasm_bindgen(catch, js_namespace = shieldcallFrames, js_name = seal)]
    fn seal_frame(
        key: &CryptoKey,
        data: &ArrayBuffer,
        prefix_len: u32,
        header: &[u8],
        iv: &[u8],
        aad: &[u8],
    ) -> Result<Promise, JsValue>;

    /// `js/frames.js`'s `sealWithRoom`. Throws if the script was not loaded.
    #[wasm_bindgen(catch, js_namespace = shieldcallFrames, js_name = sealWithRoom)]
    fn seal_frame_with_room(
        key: &CryptoKey,
        data: &ArrayBuffer,
        prefix_len: u32,
        front: &[u8],
        first_block: &[u8],
        iv: &[u8],
        aad: &[u8],
        tag_fix: &[u8],
    ) -> Result<Promise, JsValue>;

    /// `js/frames.js`'s `open`. Throws if the script was not loaded.
    #[wasm_bindgen(catch, js_namespace = shieldcallFrames, js_name = open)]
    fn open_frame(
        key: &CryptoKey,
        data: &ArrayBuffer,
        prefix_len: u32,
        header_len: u32,
        iv: &[u8],
        aad: &[u8],
    ) -> Result<Promise, JsValue>;
}

/// Starts sealing the frame bytes `data` (`clear prefix || payload`; `head` is their first
/// bytes, as read for the job) as `job` says; the promise resolves to
/// `clear prefix || header || ciphertext || tag`, in a new buffer. Every SFrame byte is Rust's;
/// the script makes the call and places the bytes.
pub fn start_seal(
    key: &CryptoKey,
    job: &SealJob,
    data: &ArrayBuffer,
    head: &[u8],
    prefix_len: usize,
) -> Result<Promise, JsValue> {
    let prefix = head.get(..prefix_len).ok_or("the clear prefix is longer than the head")?;
    let aad = job.aad(prefix);
    seal_frame(key, data, prefix_len as u32, job.header(), job.nonce(), &aad)
}

/// Starts sealing the frame bytes `data` (`clear prefix || payload`) with room, as `job` says
/// (`shieldcall_e2ee::sframe::room`): WebCrypto's output, its tag fixed by the script, is the
/// whole frame, `clear prefix || header || ciphertext || tag`, with no second buffer. The
/// promise rejects (not with an `OperationError`) if the output does not start with the
/// job's `front`, as it would from an engine that took the 16-byte IV otherwise.
pub fn start_seal_with_room(
    key: &CryptoKey,
    job: &RoomJob,
    data: &ArrayBuffer,
    prefix_len: usize,
) -> Result<Promise, JsValue> {
    let (front, first_block, tag_fix) = (job.front(), job.first_block(), job.tag_fix());
    seal_frame_with_room(
        key,
        data,
        prefix_len as u32,
        front,
        first_block,
        job.iv(),
        job.aad(),
        tag_fix,
    )
}

/// Starts opening the frame bytes `data` (`clear prefix || header || ciphertext || tag`;
/// `head` is their first bytes, as given to `open_job`) as `job` says; the promise resolves to
/// `clear prefix || payload`, or rejects when the frame does not authenticate.
pub fn start_open(
    key: &CryptoKey,
    job: &OpenJob,
    data: &ArrayBuffer,
    head: &[u8],
    prefix_len: usize,
) -> Result<Promise, JsValue> {
    let header_len = job.header_len();
    if head.len() < prefix_len + header_len {
        return Err("the header is longer than the head".into());
    }
    let aad = job.aad(head, prefix_len);
    open_frame(key, data, prefix_len as u32, header_len as u32, job.nonce(), &aad)
}

/// Starts the WebCrypto call `planned` says for the frame bytes `data` (`head` their first
/// bytes): [`start_seal`], [`start_seal_with_room`] or [`start_open`].
pub fn start(
    planned: &Planned<CryptoKey>,
    data: &ArrayBuffer,
    head: &[u8],
) -> Result<Promise, JsValue> {
    let Planned { key, job, prefix_len, .. } = planned;
    match job {
        Job::Seal(job) => start_seal(key, job, data, head, *prefix_len),
        Job::SealWithRoom(job) => start_seal_with_room(key, job, data, *prefix_len),
        Job::Open(job) => start_open(key, job, data, head, *prefix_len),
    }
}

/// [`start_seal`], awaited from Rust (the tests; the worker awaits in js/frames.js).
pub async fn seal(
    key: &CryptoKey,
    job: &SealJob,
    data: &ArrayBuffer,
    head: &[u8],
    prefix_len: usize,
) -> Result<ArrayBuffer, JsValue> {
    let promise = start_seal(key, job, data, head, prefix_len)?;
    Ok(JsFuture::from(promise).await?.unchecked_into())
}

/// [`start_open`], awaited from Rust (the tests; the worker awaits in js/frames.js).
pub async fn open(
    key: &CryptoKey,
    job: &OpenJob,
    data: &ArrayBuffer,
    head: &[u8],
    prefix_len: usize,
) -> Result<ArrayBuffer, JsValue> {
    let promise = start_open(key, job, data, head, prefix_len)?;
    Ok(JsFuture::from(promise).await?.unchecked_into())
}

/// Whether a rejection is WebCrypto's "this did not authenticate" (an `OperationError`), as
/// opposed to the call itself failing.
pub fn is_auth_failure(err: &JsValue) -> bool {
    err.dyn_ref::<js_sys::Error>().is_some_and(|e| e.name() == "OperationError")
}
