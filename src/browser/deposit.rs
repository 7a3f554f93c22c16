//! A park's deposit sealed and opened with the page's WebCrypto (AES-128-GCM): the key and
//! the deposit's layout come from `shieldcall_call::pickup`; only the cipher is here. The
//! browser's AES runs on the CPU's AES instructions, and keeps a software AES out of the app.

use js_sys::{Array, Object, Reflect, Uint8Array};
use shieldcall_call::pickup::{DEPOSIT_AAD, DepositKey, DepositSeal, PickupError, SealedDeposit};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};
use zeroize::Zeroizing;

/// The page's `crypto.subtle`, which only a secure context has (`https:`, or the loopback).
fn subtle() -> Option<SubtleCrypto> {
    let crypto = Reflect::get(&js_sys::global(), &"crypto".into()).ok()?;
    Reflect::get(&crypto, &"subtle".into()).ok()?.dyn_into().ok()
}

/// Which way [`aes_gcm`] goes.
#[derive(Clone, Copy)]
enum Way {
    Seal,
    Open,
}

/// AES-128-GCM of `data` under `key` with `nonce` and the deposit's additional data (a
/// 128-bit tag, WebCrypto's default).
async fn aes_gcm(
    subtle: &SubtleCrypto,
    key: &DepositKey,
    way: Way,
    nonce: &[u8],
    data: &[u8],
) -> Result<Zeroizing<Vec<u8>>, JsValue> {
    let usage = match way {
        Way::Seal => "encrypt",
        Way::Open => "decrypt",
    };
    // `importKey`, `encrypt` and `decrypt` copy the bytes they are given before they return:
    // the JavaScript copies of the key and of the data are overwritten at once.
    let raw = Uint8Array::from(&key.bytes()[..]);
    let import =
        subtle.import_key_with_str("raw", &raw, "AES-GCM", false, &Array::of1(&usage.into()));
    raw.fill(0, 0, raw.length());
    let key: CryptoKey = JsFuture::from(import?).await?.unchecked_into();
    let params = Object::new();
    Reflect::set(&params, &"name".into(), &"AES-GCM".into())?;
    Reflect::set(&params, &"iv".into(), &Uint8Array::from(nonce))?;
    Reflect::set(&params, &"additionalData".into(), &Uint8Array::from(DEPOSIT_AAD))?;
    let data = Uint8Array::from(data);
    let done = match way {
        Way::Seal => subtle.encrypt_with_object_and_js_u8_array(&params, &key, &data),
        Way::Open => subtle.decrypt_with_object_and_js_u8_array(&params, &key, &data),
    };
    data.fill(0, 0, data.length());
    let out = Uint8Array::new(&JsFuture::from(done?).await?);
    let bytes = Zeroizing::new(out.to_vec());
    out.fill(0, 0, out.length());
    Ok(bytes)
}

/// The deposit of `job` as the relay is to hold it, or why it could not be sealed.
pub async fn seal(job: &DepositSeal) -> Result<String, JsValue> {
    let subtle = subtle().ok_or("this page has no WebCrypto")?;
    let sealed = aes_gcm(&subtle, &job.key, Way::Seal, &job.nonce, job.text.as_bytes()).await?;
    Ok(job.deposit(&sealed))
}

/// The text of `deposit` opened with `key` (it holds the link secret: wiped on drop), or why
/// not: without WebCrypto, nothing can be opened; with it, what does not open is the wrong code.
pub async fn open(
    key: &DepositKey,
    deposit: &SealedDeposit,
) -> Result<Zeroizing<Vec<u8>>, PickupError> {
    let subtle = subtle().ok_or(PickupError::NoWebCrypto)?;
    aes_gcm(&subtle, key, Way::Open, &deposit.nonce, &deposit.sealed)
        .await
        .map_err(|_| PickupError::WrongCode)
}
