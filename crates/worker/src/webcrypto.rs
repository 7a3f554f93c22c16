//! The outside AES-GCM of `shieldcall_e2ee::sframe::external`: WebCrypto in the worker, for
//! the large frames of the [hybrid](crate::hybrid) path. One `subtle` call per frame; the
//! frame's bytes go to WebCrypto as views of its own `ArrayBuffer`, never through wasm memory.
//!
//! Public so that the browser tests and the benchmark run exactly this code.

use js_sys::{Array, ArrayBuffer, Object, Promise, Reflect, Uint8Array};
use shieldcall_e2ee::sframe::external::{ExternalKey, OpenJob, SealJob};
use wasm_bindgen::JsCast;
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

use crate::hybrid::Engine;
use crate::settle::settled;
use web_sys::{CryptoKey, SubtleCrypto};

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

/// One `AesGcmParams` object for every call, its `iv` and `additionalData` set per frame. A
/// WebCrypto call reads its algorithm, and copies those bytes, before it returns (WebCrypto:
/// "normalize an algorithm", "get a copy of the bytes held by"), so the next frame may change
/// them while the call runs. Built once, its name and property keys cross from wasm once:
/// `AesGcmParams::new` decoded "AES-GCM" from wasm memory and made an object for every frame.
/// (`tagLength` is left out: 128, the default, is the tag length of both suites.)
struct GcmParams {
    params: Object,
    iv: JsValue,
    additional_data: JsValue,
}

thread_local! {
    static GCM_PARAMS: GcmParams = {
        let params = Object::new();
        let _ = Reflect::set(&params, &"name".into(), &"AES-GCM".into());
        GcmParams { params, iv: "iv".into(), additional_data: "additionalData".into() }
    };
}

/// The parameters of one AES-GCM call under `nonce` with `aad` (`header || clear prefix`).
/// Fails rather than leave the previous frame's nonce in place.
fn gcm_params(nonce: &[u8; 12], aad: &Uint8Array) -> Result<Object, JsValue> {
    GCM_PARAMS.with(|p| {
        Reflect::set(&p.params, &p.iv, &Uint8Array::from(&nonce[..]))?;
        Reflect::set(&p.params, &p.additional_data, aad)?;
        Ok(p.params.clone())
    })
}

/// Seals the frame bytes `data` (`clear prefix || payload`) as `job` says:
/// `clear prefix || header || ciphertext || tag`, in a new buffer.
pub async fn seal(
    subtle: &SubtleCrypto,
    key: &CryptoKey,
    job: &SealJob,
    data: &ArrayBuffer,
    prefix_len: usize,
) -> Result<ArrayBuffer, JsValue> {
    let frame = Uint8Array::new(data);
    let p = prefix_len as u32;
    let prefix = frame.subarray(0, p);
    let prefix_bytes = if p == 0 { Vec::new() } else { prefix.to_vec() };
    let params = gcm_params(job.nonce(), &Uint8Array::from(&job.aad(&prefix_bytes)[..]))?;
    let payload = frame.subarray(p, frame.length());
    let promise = subtle.encrypt_with_object_and_js_u8_array(&params, key, &payload)?;
    let sealed: ArrayBuffer = settled(&promise).await?.unchecked_into();
    let header = job.header();
    let h = header.len() as u32;
    let out = prepend(sealed, p + h)?;
    out.set(&prefix, 0);
    out.subarray(p, p + h).copy_from(header);
    Ok(out.buffer())
}

/// `buffer`'s bytes moved `by` bytes on, in a buffer `by` bytes longer whose first bytes are
/// the caller's to fill. WebCrypto writes only into a buffer of its own, and the SFrame header
/// (and any clear prefix) goes before what it wrote: growing its buffer with `transfer` and
/// moving the bytes within it costs less than a new buffer and a copy across (measured in
/// Chromium: at 16 KB, 34 µs a frame against 46; at 200 KB, 400 against 490), because the
/// bytes are then touched in memory already mapped. `buffer` is detached.
fn prepend(buffer: ArrayBuffer, by: u32) -> Result<Uint8Array, JsValue> {
    let len = buffer.byte_length();
    let grown: ArrayBuffer = buffer.transfer_with_length((len + by) as usize)?;
    let grown = Uint8Array::new(&grown);
    grown.copy_within(by as i32, 0, len as i32);
    Ok(grown)
}

/// Opens the frame bytes `data` (`clear prefix || header || ciphertext || tag`; `head` is
/// their first bytes, as given to `open_job`) as `job` says: `clear prefix || payload`.
/// Rejects when the frame does not authenticate.
pub async fn open(
    subtle: &SubtleCrypto,
    key: &CryptoKey,
    job: &OpenJob,
    data: &ArrayBuffer,
    head: &[u8],
    prefix_len: usize,
) -> Result<ArrayBuffer, JsValue> {
    let frame = Uint8Array::new(data);
    let p = prefix_len as u32;
    let h = job.header_len() as u32;
    // With no clear prefix the AAD is the header, at the frame's start: a view, not a copy.
    let aad = if p == 0 {
        frame.subarray(0, h)
    } else {
        Uint8Array::from(&job.aad(head, prefix_len)[..])
    };
    let params = gcm_params(job.nonce(), &aad)?;
    let body = frame.subarray(p + h, frame.length());
    let promise = subtle.decrypt_with_object_and_js_u8_array(&params, key, &body)?;
    let payload: ArrayBuffer = settled(&promise).await?.unchecked_into();
    if p == 0 {
        return Ok(payload);
    }
    let out = prepend(payload, p)?;
    out.set(&frame.subarray(0, p), 0);
    Ok(out.buffer())
}

/// Whether a rejection is WebCrypto's "this did not authenticate" (an `OperationError`), as
/// opposed to the call itself failing.
pub fn is_auth_failure(err: &JsValue) -> bool {
    err.dyn_ref::<js_sys::Error>().is_some_and(|e| e.name() == "OperationError")
}
