//! The per-frame work of a transform, apart from the frame objects: the frame's bytes are copied
//! from its `ArrayBuffer` into a reusable buffer, encrypted or decrypted there in place, and
//! copied out into a new `ArrayBuffer` that becomes the frame's data.
//!
//! Public so that the in-browser benchmark (`tests/bench_worker.rs`) times exactly this code.

use js_sys::{ArrayBuffer, Uint8Array};
use shieldcall_e2ee::layout::clear_prefix_len_of;
use shieldcall_e2ee::sframe::{DropReason, Receiver, SendError, Sender};
use shieldcall_protocol::Codec;

/// Encrypts the frame bytes in `data` (laid out as `codec` lays them out) with `sender`, and
/// returns `clear prefix || header || ciphertext || tag` in a new `ArrayBuffer`.
///
/// `scratch` is the reusable buffer: nothing is allocated on the Rust side once it has grown to
/// the largest frame plus 33 bytes. On error nothing is returned and the frame must be dropped.
pub fn seal_into_buffer(
    sender: &mut Sender,
    data: &ArrayBuffer,
    codec: Codec,
    scratch: &mut Vec<u8>,
) -> Result<ArrayBuffer, SendError> {
    through_scratch(data, scratch, |buf| {
        let prefix = clear_prefix_len_of(codec, buf);
        sender.encrypt_in_place(buf, prefix).map(|_| ())
    })
}

/// Decrypts the frame bytes in `data` with `receiver` (replay window and all, at `now_ms`), and
/// returns `clear prefix || payload` in a new `ArrayBuffer`. On error the frame must be dropped.
pub fn open_into_buffer(
    receiver: &mut Receiver,
    data: &ArrayBuffer,
    codec: Codec,
    now_ms: u64,
    scratch: &mut Vec<u8>,
) -> Result<ArrayBuffer, DropReason> {
    through_scratch(data, scratch, |buf| {
        let prefix = clear_prefix_len_of(codec, buf);
        receiver.decrypt_in_place(buf, prefix, now_ms).map(|_| ())
    })
}

/// Copies `data` into `scratch`, runs `f` on it, and on success copies the result out.
fn through_scratch<E>(
    data: &ArrayBuffer,
    scratch: &mut Vec<u8>,
    f: impl FnOnce(&mut Vec<u8>) -> Result<(), E>,
) -> Result<ArrayBuffer, E> {
    let view = Uint8Array::new(data);
    scratch.clear();
    scratch.resize(view.length() as usize, 0);
    view.copy_to(scratch);
    f(scratch)?;

    let out = ArrayBuffer::new(scratch.len() as u32);
    Uint8Array::new(&out).copy_from(scratch);
    Ok(out)
}
