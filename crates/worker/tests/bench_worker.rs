//! In-browser benchmark: the Rust SFrame per-frame path of the media worker against WebCrypto
//! AES-GCM, side by side in one dedicated Worker of headless Chromium. Not part of `make test`;
//! run it with `make bench-browser`.
//!
//! Per frame, each side does the whole job a transform does:
//! - Rust: [`seal_into_buffer`] / [`open_into_buffer`], the very functions the worker calls on
//!   every frame: copy the bytes in from the frame's `ArrayBuffer`, SFrame encrypt or decrypt
//!   in place (header, counter, replay window), copy out into a new `ArrayBuffer`.
//! - WebCrypto: one `crypto.subtle.encrypt({name: "AES-GCM", iv}, key, frame)` awaited, with a
//!   fresh 12-byte IV (a counter) per frame; it copies in and out itself. Decrypt likewise, on
//!   one ciphertext over and over (WebCrypto keeps no replay state).
//!
//! Times are µs per frame after a warm-up, as "median / best" of a few interleaved rounds (on a
//! shared machine the best round is the cost without contention, the median the typical one).
//! The benchmark never fails on time, only when a round trip does not give the plaintext back.

#![cfg(target_arch = "wasm32")]

use js_sys::{Array, ArrayBuffer, Promise, Uint8Array};
use shieldcall_e2ee::BaseKey;
use shieldcall_e2ee::layout::Slot;
use shieldcall_e2ee::sframe::{CipherSuite, Receiver, Sender};
use shieldcall_protocol::Codec;
use shieldcall_worker::frame::{open_into_buffer, seal_into_buffer};
use wasm_bindgen::JsCast;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{AesGcmParams, CryptoKey, Performance, SubtleCrypto, WorkerGlobalScope};

wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// Frame sizes: an Opus frame, a small video frame, a 720p frame, a large key frame.
const SIZES: [(usize, &str); 4] =
    [(100, "100 B"), (1024, "1 KB"), (16 * 1024, "16 KB"), (200 * 1024, "200 KB")];
const SUITES: [CipherSuite; 2] =
    [CipherSuite::Aes128GcmSha256_128, CipherSuite::Aes256GcmSha512_128];
/// Measured time per cell (size x operation), split into short interleaved rounds so that a
/// burst of load on the machine hits every column alike; the median and the best round are shown.
const CELL_MS: f64 = 300.0;
const ROUNDS: usize = 6;
const WARMUP_MS: f64 = 50.0;
const SLOT: Slot = Slot::Camera;

fn performance() -> Performance {
    js_sys::global()
        .unchecked_into::<WorkerGlobalScope>()
        .performance()
        .expect("a Worker has performance")
}

fn subtle() -> SubtleCrypto {
    js_sys::global().unchecked_into::<WorkerGlobalScope>().crypto().expect("crypto").subtle()
}

/// A frame's payload: arbitrary bytes that are not all alike.
fn plaintext(len: usize) -> Vec<u8> {
    (0..len).map(|i| (i.wrapping_mul(31) ^ (i >> 7)) as u8).collect()
}

fn to_buffer(bytes: &[u8]) -> ArrayBuffer {
    Uint8Array::from(bytes).buffer()
}

fn bytes_of(buffer: &ArrayBuffer) -> Vec<u8> {
    Uint8Array::new(buffer).to_vec()
}

/// Neither side needs a clear prefix at these layouts (Opus and VP9 have none), so both
/// encrypt the whole frame.
fn codec_for(len: usize) -> Codec {
    if len <= 200 { Codec::Opus } else { Codec::Vp9 }
}

/// µs per call of `f`, run until `budget_ms` have passed. Calls are batched between clock reads
/// (the clock is coarse and costs a call into JS).
fn time_sync(perf: &Performance, budget_ms: f64, mut f: impl FnMut()) -> f64 {
    let (start, mut calls, mut batch) = (perf.now(), 0u64, 1u64);
    loop {
        for _ in 0..batch {
            f();
        }
        calls += batch;
        let elapsed = perf.now() - start;
        if elapsed >= budget_ms {
            return elapsed * 1000.0 / calls as f64;
        }
        if elapsed < 2.0 {
            batch *= 2;
        }
    }
}

/// µs per awaited call of `f`, run until `budget_ms` have passed.
async fn time_async(perf: &Performance, budget_ms: f64, mut f: impl FnMut() -> Promise) -> f64 {
    let (start, mut calls) = (perf.now(), 0u64);
    loop {
        JsFuture::from(f()).await.expect("WebCrypto rejected");
        calls += 1;
        let elapsed = perf.now() - start;
        if elapsed >= budget_ms {
            return elapsed * 1000.0 / calls as f64;
        }
    }
}

/// The Rust side of one suite: a sender and a receiver of the same slot and key. The receiver
/// sees only some of the sender's frames, always in counter order, so none is a replay.
struct RustSide {
    sender: Sender,
    receiver: Receiver,
    scratch: Vec<u8>,
}

impl RustSide {
    fn new(suite: CipherSuite) -> Self {
        let key = BaseKey::from_slice(&vec![0x5A; suite.nk()]);
        RustSide {
            sender: Sender::new(suite, key.clone(), 0, SLOT).unwrap(),
            receiver: Receiver::new(suite, key, 0).only_slot(SLOT),
            scratch: Vec::with_capacity(16 * 1024),
        }
    }

    fn encrypt(&mut self, perf: &Performance, budget_ms: f64, input: &ArrayBuffer) -> f64 {
        let codec = codec_for(input.byte_length() as usize);
        let (sender, scratch) = (&mut self.sender, &mut self.scratch);
        time_sync(perf, budget_ms, || {
            let out = seal_into_buffer(sender, input, codec, scratch).expect("sealed");
            std::hint::black_box(out);
        })
    }

    /// Decrypts fresh frames (a replay would be dropped), made in untimed batches.
    fn decrypt(&mut self, perf: &Performance, budget_ms: f64, input: &ArrayBuffer) -> f64 {
        let len = input.byte_length() as usize;
        let codec = codec_for(len);
        let batch = (2 * 1024 * 1024 / len).clamp(8, 2048);
        let (mut timed_ms, mut frames) = (0.0, 0u64);
        let mut sealed = Vec::with_capacity(batch);
        while timed_ms < budget_ms {
            sealed.clear();
            for _ in 0..batch {
                sealed.push(seal_into_buffer(&mut self.sender, input, codec, &mut self.scratch));
            }
            let start = perf.now();
            for frame in &sealed {
                let frame = frame.as_ref().expect("sealed");
                let now_ms = js_sys::Date::now() as u64; // as the worker does per frame
                let out =
                    open_into_buffer(&mut self.receiver, frame, codec, now_ms, &mut self.scratch)
                        .expect("a fresh frame opens");
                std::hint::black_box(out);
            }
            timed_ms += perf.now() - start;
            frames += batch as u64;
        }
        timed_ms * 1000.0 / frames as f64
    }

    /// One frame through the sender and the receiver gives the plaintext back, and the wire
    /// bytes are not the plaintext.
    fn round_trip(&mut self, payload: &[u8]) {
        let codec = codec_for(payload.len());
        let sealed =
            seal_into_buffer(&mut self.sender, &to_buffer(payload), codec, &mut self.scratch)
                .expect("sealed");
        // header || ciphertext || tag, no clear prefix at these layouts
        let wire = bytes_of(&sealed);
        assert!(wire.len() > payload.len() + 16);
        let ciphertext = &wire[wire.len() - 16 - payload.len()..wire.len() - 16];
        assert_ne!(ciphertext, payload, "what leaves the sender is not the plaintext");
        let opened = open_into_buffer(&mut self.receiver, &sealed, codec, 0, &mut self.scratch)
            .expect("the round trip opens");
        assert_eq!(bytes_of(&opened), payload, "the round trip gives the plaintext back");
    }
}

/// The WebCrypto side of one suite: the same AES key length, one call per frame.
struct WebCryptoSide {
    subtle: SubtleCrypto,
    key: CryptoKey,
    counter: u64,
}

impl WebCryptoSide {
    async fn new(suite: CipherSuite) -> Self {
        let subtle = subtle();
        let raw = Uint8Array::from(&vec![0xA5; suite.nk()][..]);
        let usages = Array::of2(&"encrypt".into(), &"decrypt".into());
        let key = subtle.import_key_with_str("raw", &raw, "AES-GCM", false, &usages).unwrap();
        let key = JsFuture::from(key).await.expect("key imported").unchecked_into();
        WebCryptoSide { subtle, key, counter: 0 }
    }

    /// `{name: "AES-GCM", iv}` with a fresh 12-byte IV, as SFrame would use (a counter).
    fn fresh_params(&mut self) -> AesGcmParams {
        self.counter += 1;
        let mut iv = [0u8; 12];
        iv[4..].copy_from_slice(&self.counter.to_be_bytes());
        AesGcmParams::new("AES-GCM", &Uint8Array::from(&iv[..]))
    }

    fn encrypt(&mut self, input: &ArrayBuffer) -> Promise {
        let params = self.fresh_params();
        self.subtle.encrypt_with_object_and_buffer_source(&params, &self.key, input).unwrap()
    }

    fn decrypt(&self, iv: &Uint8Array, ciphertext: &ArrayBuffer) -> Promise {
        let params = AesGcmParams::new("AES-GCM", iv);
        self.subtle.decrypt_with_object_and_buffer_source(&params, &self.key, ciphertext).unwrap()
    }

    /// A ciphertext of `input` and its IV, for the decrypt column; checks the round trip.
    async fn sealed(&mut self, input: &ArrayBuffer) -> (Uint8Array, ArrayBuffer) {
        let params = self.fresh_params();
        let iv: Uint8Array = params.get_iv().unchecked_into();
        let promise =
            self.subtle.encrypt_with_object_and_buffer_source(&params, &self.key, input).unwrap();
        let sealed: ArrayBuffer = JsFuture::from(promise).await.unwrap().unchecked_into();
        let opened = JsFuture::from(self.decrypt(&iv, &sealed)).await.expect("WebCrypto opens");
        assert_eq!(bytes_of(&opened.unchecked_into()), bytes_of(input));
        (iv, sealed)
    }
}

/// The median and the smallest of the rounds.
fn median_best(mut samples: Vec<f64>) -> (f64, f64) {
    samples.sort_by(f64::total_cmp);
    let mid = samples.len() / 2;
    let median = if samples.len().is_multiple_of(2) {
        (samples[mid - 1] + samples[mid]) / 2.0
    } else {
        samples[mid]
    };
    (median, samples[0])
}

fn fmt_us(us: f64) -> String {
    if us < 100.0 { format!("{us:.1}") } else { format!("{us:.0}") }
}

fn fmt_cell((median, best): (f64, f64)) -> String {
    format!("{} / {}", fmt_us(median), fmt_us(best))
}

fn fmt_ratio(web: (f64, f64), rust: (f64, f64)) -> String {
    format!("{:.2} / {:.2}", web.0 / rust.0, web.1 / rust.1)
}

#[wasm_bindgen_test]
async fn sframe_in_a_worker_vs_webcrypto() {
    let perf = performance();
    console_log!(
        "Shieldcall in-browser benchmark: {}",
        web_sys::WorkerGlobalScope::navigator(&js_sys::global().unchecked_into())
            .user_agent()
            .unwrap_or_default()
    );
    console_log!(
        "µs per frame, whole per-frame path (copy in from an ArrayBuffer, encrypt, copy out to a new \
         ArrayBuffer); median / best of {ROUNDS} interleaved rounds of {:.0} ms each, after \
         {WARMUP_MS:.0} ms of warm-up; ratio = WebCrypto / Rust (above 1: Rust is faster)",
        CELL_MS / ROUNDS as f64
    );
    for suite in SUITES {
        let mut rust = RustSide::new(suite);
        let mut web = WebCryptoSide::new(suite).await;
        let name = match suite {
            CipherSuite::Aes128GcmSha256_128 => "AES-128-GCM",
            _ => "AES-256-GCM",
        };
        console_log!("");
        console_log!("SFrame suite {:#06x} ({name}) vs WebCrypto {name}", suite.id());
        console_log!(
            "| size | Rust encrypt µs | Rust decrypt µs | WebCrypto encrypt µs | WebCrypto decrypt µs | ratio encrypt | ratio decrypt |"
        );
        console_log!("|---:|---:|---:|---:|---:|---:|---:|");
        for (len, label) in SIZES {
            let payload = plaintext(len);
            rust.round_trip(&payload);
            let input = to_buffer(&payload);
            let (iv, sealed) = web.sealed(&input).await;

            // Warm-up: the JIT, the allocator, the scratch buffer, the WebCrypto thread.
            rust.encrypt(&perf, WARMUP_MS, &input);
            rust.decrypt(&perf, WARMUP_MS, &input);
            time_async(&perf, WARMUP_MS, || web.encrypt(&input)).await;
            time_async(&perf, WARMUP_MS, || web.decrypt(&iv, &sealed)).await;

            let round_ms = CELL_MS / ROUNDS as f64;
            let mut samples: [Vec<f64>; 4] = Default::default();
            for _ in 0..ROUNDS {
                samples[0].push(rust.encrypt(&perf, round_ms, &input));
                samples[1].push(rust.decrypt(&perf, round_ms, &input));
                samples[2].push(time_async(&perf, round_ms, || web.encrypt(&input)).await);
                samples[3].push(time_async(&perf, round_ms, || web.decrypt(&iv, &sealed)).await);
            }
            let [re, rd, we, wd] = samples.map(median_best);
            console_log!(
                "| {label} | {} | {} | {} | {} | {} | {} |",
                fmt_cell(re),
                fmt_cell(rd),
                fmt_cell(we),
                fmt_cell(wd),
                fmt_ratio(we, re),
                fmt_ratio(wd, rd)
            );
            // The benchmark itself must not have broken anything: a frame still round-trips.
            rust.round_trip(&payload);
        }
    }
}
