//! A park's deposit sealed and opened with the page's WebCrypto (AES-128-GCM): the key and
//! the deposit's layout come from `shieldcall_call::pickup`; only the cipher is here. The
//! browser's AES runs on the CPU's AES instructions, and keeps a software AES out of the app.

use js_sys::{Array, Object, Reflect, Uint8Array};
use shieldcall_call::pickup::{DEPOSIT_AAD, DepositKey, DepositSeal, PickupError, SealedDeposit};
use wasm_bindgen::{JsCast, JsValue};
use wasm_bindgen_futures::JsFuture;
use web_sys::{CryptoKey, SubtleCrypto};

/// The page's `crypto.subtle` (absent outside a secure context).
fn subtle() -> Result<SubtleCrypto, JsValue> {
    let crypto = web_sys::window().ok_or("no window")?.crypto()?;
    Ok(crypto.subtle())
}

/// AES-128-GCM of `data` under `key` with `nonce` and the deposit's additional data (a
/// 128-bit tag, WebCrypto's default): `encrypt` seals, otherwise opens.
async fn aes_gcm(
    subtle: &SubtleCrypto,
    key: &DepositKey,
    encrypt: bool,
    nonce: &[u8],
    data: &[u8],
) -> Result<Vec<u8>, JsValue> {
    let usage = if encrypt { "encrypt" } else { "decrypt" };
    // `importKey` and `encrypt` copy the bytes they are given before they return: the
    // JavaScript copies of the key and of the data (a link secret) are overwritten at once.
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
    let done = if encrypt {
        subtle.encrypt_with_object_and_js_u8_array(&params, &key, &data)
    } else {
        subtle.decrypt_with_object_and_js_u8_array(&params, &key, &data)
    };
    data.fill(0, 0, data.length());
    Ok(Uint8Array::new(&JsFuture::from(done?).await?).to_vec())
}

/// The deposit of `seal` as the relay is to hold it, or why it could not be sealed.
pub async fn seal(seal: &DepositSeal) -> Result<String, JsValue> {
    let sealed = aes_gcm(&subtle()?, &seal.key, true, &seal.nonce, seal.text.as_bytes()).await?;
    Ok(seal.deposit(&sealed))
}

/// The text of `deposit` opened with `key`, or why not: the wrong code when it does not open.
pub async fn open(key: &DepositKey, deposit: &SealedDeposit) -> Result<Vec<u8>, PickupError> {
    let subtle = subtle().map_err(|_| PickupError::NoWebCrypto)?;
    aes_gcm(&subtle, key, false, &deposit.nonce, &deposit.sealed)
        .await
        .map_err(|_| PickupError::WrongCode)
}
