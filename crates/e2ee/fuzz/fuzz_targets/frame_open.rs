//! The receiver drops any input without panicking and leaves the buffer as it was.
#![no_main]

use libfuzzer_sys::fuzz_target;
use shieldcall_e2ee::BaseKey;
use shieldcall_e2ee::sframe::{CipherSuite, Receiver};

fuzz_target!(|data: &[u8]| {
    let Some((&prefix, frame)) = data.split_first() else { return };
    for suite in CipherSuite::ALL {
        let mut receiver = Receiver::new(suite, BaseKey::from_slice(&[7; 16]), 0);
        let mut buf = frame.to_vec();
        let result = receiver.decrypt_in_place(&mut buf, usize::from(prefix % 16), 0);
        assert!(result.is_err(), "a random frame authenticated");
        assert_eq!(buf, frame);
    }
});
