//! Replays inputs the cargo-fuzz targets (`crates/e2ee/fuzz`) generated, through the very same
//! bodies (`tests/fuzz_harness/mod.rs`), so every `cargo test -p shieldcall-e2ee` checks them.
//!
//! `tests/fuzz_corpus/<target>/` holds a few small corpus entries per target, picked for
//! distinct coverage; see the "Fuzzing" section of the README for how they were made.

mod fuzz_harness;

use std::path::PathBuf;

/// Runs `check` on every file in `tests/fuzz_corpus/<target>/` and returns how many there were.
fn replay(target: &str, check: fn(&[u8])) -> usize {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fuzz_corpus").join(target);
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .map(|entry| entry.expect("readable directory entry").path())
        .collect();
    files.sort();
    for file in &files {
        let data = std::fs::read(file).expect("readable corpus file");
        // Name the input if it fails, so it can be run again with the fuzz target.
        let run = std::panic::catch_unwind(|| check(&data));
        assert!(run.is_ok(), "{} fails", file.display());
    }
    files.len()
}

#[test]
fn header_parse_corpus() {
    assert!(replay("header_parse", fuzz_harness::header_parse) >= 10);
}

#[test]
fn frame_open_corpus() {
    assert!(replay("frame_open", fuzz_harness::frame_open) >= 10);
}

#[test]
fn round_trip_corpus() {
    assert!(replay("round_trip", fuzz_harness::round_trip) >= 10);
}

#[test]
fn receiver_sequence_corpus() {
    assert!(replay("receiver_sequence", fuzz_harness::receiver_sequence) >= 10);
}

/// Hand-made inputs for edges the corpus may not keep: empty input, the longest header, a
/// header cut short, a prefix longer than the frame.
#[test]
fn edge_inputs() {
    for input in [&[][..], &[0xff; 17], &[0xff; 16], &[0x8f, 1, 2, 3], &[0x00]] {
        fuzz_harness::header_parse(input);
    }
    let zero_prefix_ones = [&[0u8][..], &[0xff; 40]].concat();
    let short_prefix_zeros = [&[3u8][..], &[0x00; 40]].concat();
    for input in [&[][..], &[15], &[15, 0x00], &zero_prefix_ones, &short_prefix_zeros] {
        fuzz_harness::frame_open(input);
    }
    for input in [&[][..], &[4; 200], &[0xff; 64]] {
        fuzz_harness::round_trip(input);
    }
    // Send on the mic, deliver it twice, ratchet, send and deliver: opened, replay, opened.
    fuzz_harness::receiver_sequence(&[3, 5, 50, 0, 0, 0, 20, 1, 0, 1, 0, 4, 0, 0, 0, 9, 1, 1]);
    fuzz_harness::receiver_sequence(&[]);
}
