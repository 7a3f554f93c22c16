//! See `receiver_sequence` in crates/e2ee/tests/fuzz_harness/mod.rs: the same body runs as a regression
//! test in tests/fuzz_regressions.rs.
#![no_main]

#[allow(dead_code)]
#[path = "../../tests/fuzz_harness/mod.rs"]
mod harness;

libfuzzer_sys::fuzz_target!(|data: &[u8]| harness::receiver_sequence(data));
