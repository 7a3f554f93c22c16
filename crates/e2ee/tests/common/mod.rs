//! Helpers shared by the SFrame test files.

use shieldcall_e2ee::sframe::{DropReason, Receiver, Sender};

/// `payload` sealed by `sender`, as it goes on the wire.
pub fn send(sender: &mut Sender, payload: &[u8]) -> Vec<u8> {
    let mut buf = payload.to_vec();
    sender.encrypt_in_place(&mut buf, 0).expect("sends");
    buf
}

/// `wire` opened by `receiver` at `now_ms`, or why it was dropped.
pub fn open(receiver: &mut Receiver, wire: &[u8], now_ms: u64) -> Result<Vec<u8>, DropReason> {
    let mut buf = wire.to_vec();
    receiver.decrypt_in_place(&mut buf, 0, now_ms).map(|_| buf)
}
