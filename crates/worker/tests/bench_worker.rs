//! In-browser benchmark of the media worker's frame path, in one dedicated Worker of headless
//! Chromium (then Firefox ESR). Not part of `make test`; run it with `make bench-browser`.
//!
//! Per frame, each column does the whole job a transform does, from a frame's `ArrayBuffer` to
//! a new one:
//! - Rust: [`seal_into_buffer`] / [`open_into_buffer`], all in Rust (copy in, SFrame, copy out).
//! - hybrid: what the worker does, with the transform's own code but for the frame objects:
//!   Rust below the suite's crossover ([`shieldcall_worker::hybrid`]); above it the frame
//!   planned by the transform's [`Cryptor`], one WebCrypto AES-GCM call
//!   ([`shieldcall_worker::webcrypto`]), and its outcome judged by the `Cryptor`, replay window
//!   and all.
//! - WebCrypto path: the same with a crossover of 0, every frame to WebCrypto: where it and the
//!   Rust column cross is where the crossover belongs. Above the crossover it runs the very code
//!   of the hybrid column, so there the two differ only by the benchmark's noise.
//! - JS SFrame: the same SFrame frames made in plain JavaScript around one WebCrypto call, as a
//!   careful peer writes it (Jitsi and LiveKit do this with their own trailers): header, nonce,
//!   AAD, WebCrypto's buffer grown for the header (as the worker does), a replay check. Its bytes are checked against Rust's.
//! - bare: `crypto.subtle.encrypt` / `decrypt` alone, with a fresh IV and no framing: the floor.
//!   It opens fresh ciphertexts in untimed batches, as every column opens fresh frames.
//!
//! Every column that awaits loops and awaits in JavaScript ([`JS_TIMING`]): the JavaScript and
//! bare ones as such a peer runs, the hybrid and WebCrypto-path ones as the worker's pump
//! (js/frames.js) runs, calling into Rust for each frame.
//!
//! Times are µs per frame after a warm-up, "median / best" of a few interleaved rounds (on a
//! shared machine the best round is the cost without contention, the median the typical one);
//! ratios are of the medians. The benchmark fails only if a frame does not round-trip or the
//! JavaScript frames differ from Rust's, never on time.

#![cfg(target_arch = "wasm32")]

use js_sys::{Array, ArrayBuffer, Promise, Uint8Array};
use shieldcall_e2ee::BaseKey;
use shieldcall_e2ee::layout::{Slot, wide_kid};
use shieldcall_e2ee::sframe::{CipherSuite, Header, Receiver, Sender, SframeKey, encrypt_frame};
use shieldcall_protocol::{Codec, Direction};
use shieldcall_worker::cryptor::{AfterCall, CallEnded, Cryptor, Job};
use shieldcall_worker::frame::{open_into_buffer, seal_into_buffer};
use shieldcall_worker::hybrid::goes_to_webcrypto;
use shieldcall_worker::webcrypto::{self, Usage};
use wasm_bindgen::JsCast;
use wasm_bindgen::JsValue;
use wasm_bindgen_futures::JsFuture;
use wasm_bindgen_test::*;
use web_sys::{AesGcmParams, CryptoKey, Performance, SubtleCrypto, WorkerGlobalScope};

wasm_bindgen_test_configure!(run_in_dedicated_worker);

/// Frame sizes: Opus frames, small video frames around Chromium's crossovers, video frames
/// around Firefox's, a 720p frame, a large key frame.
const SIZES: [(usize, &str); 9] = [
    (100, "100 B"),
    (300, "300 B"),
    (600, "600 B"),
    (1024, "1 KB"),
    (4 * 1024, "4 KB"),
    (8 * 1024, "8 KB"),
    (12 * 1024, "12 KB"),
    (16 * 1024, "16 KB"),
    (200 * 1024, "200 KB"),
];
const SUITES: [CipherSuite; 2] =
    [CipherSuite::Aes128GcmSha256_128, CipherSuite::Aes256GcmSha512_128];
/// Measured time per cell (size x operation), split into short interleaved rounds so that a
/// burst of load on the machine hits every column alike; the median and the best round are shown.
/// The rounds run the five columns in the orders of [`column_order`], so that each column runs
/// first as often as any other and right after each other column equally often: with the
/// columns in one fixed turn, the column right after the Rust one came out slower at opening
/// (docs/MEASURED.md, "Firefox measured again").
const CELL_MS: f64 = 500.0;
const ROUNDS: usize = 10;
const WARMUP_MS: f64 = 50.0;
const SLOT: Slot = Slot::Camera;

/// The order of the five columns in round `round`: a Williams design (ten orders, the five
/// turns of 0, 1, 4, 2, 3 and their reverses), in which every column runs first twice and right
/// after every other column twice. (Within a round the opening columns come after the sealing
/// ones, so the first opening column follows the last sealing one: that pair is not balanced.)
fn column_order(round: usize) -> [usize; 5] {
    let mut order = [0, 1, 4, 2, 3].map(|column| (column + round) % 5);
    if round % 10 >= 5 {
        order.reverse();
    }
    order
}
const _: () = assert!(ROUNDS.is_multiple_of(10), "whole Williams designs: each order as often");

/// The rounds' orders are balanced as [`column_order`] says: over [`ROUNDS`] rounds every
/// column runs first equally often and right after every other column equally often.
#[wasm_bindgen_test]
fn every_column_runs_first_and_after_each_other_equally_often() {
    let mut first = [0; 5];
    let mut after = [[0; 5]; 5];
    for round in 0..ROUNDS {
        let order = column_order(round);
        let mut sorted = order;
        sorted.sort();
        assert_eq!(sorted, [0, 1, 2, 3, 4], "each column once a round");
        first[order[0]] += 1;
        for pair in order.windows(2) {
            after[pair[1]][pair[0]] += 1;
        }
    }
    let turns = ROUNDS / 5;
    assert_eq!(first, [turns; 5]);
    for (column, before) in after.iter().enumerate() {
        for (other, &times) in before.iter().enumerate() {
            let expected = if other == column { 0 } else { turns };
            assert_eq!(times, expected, "column {column} right after column {other}");
        }
    }
}

/// Collects the heap, where the engine lets a page ask (Chromium started with
/// `--js-flags=--expose-gc`, as webdriver.json starts it), before each timed round: the garbage
/// one column leaves is then not collected on the next column's time. Whether it could is
/// printed with the tables.
fn collect_garbage() -> bool {
    let gc = js_sys::Reflect::get(&js_sys::global(), &"gc".into()).ok();
    match gc.and_then(|gc| gc.dyn_into::<js_sys::Function>().ok()) {
        Some(gc) => gc.call0(&JsValue::NULL).is_ok(),
        None => false,
    }
}

fn performance() -> Performance {
    js_sys::global()
        .unchecked_into::<WorkerGlobalScope>()
        .performance()
        .expect("a Worker has performance")
}

fn subtle() -> SubtleCrypto {
    js_sys::global().unchecked_into::<WorkerGlobalScope>().crypto().expect("crypto").subtle()
}

/// The base key every side of the benchmark shares, so that each opens the others' frames.
fn base_key(suite: CipherSuite) -> BaseKey {
    BaseKey::from_slice(&vec![0x5A; suite.nk()])
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

/// The Rust side of one suite: a sender and a receiver of the same slot and key. The receiver
/// sees only some of the sender's frames, always in counter order, so none is a replay.
struct RustSide {
    sender: Sender,
    receiver: Receiver,
    scratch: Vec<u8>,
}

impl RustSide {
    fn new(suite: CipherSuite) -> Self {
        let key = base_key(suite);
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

    fn decrypt(&self, iv: &Uint8Array, ciphertext: &ArrayBuffer) -> Promise {
        let params = AesGcmParams::new("AES-GCM", iv);
        self.subtle.decrypt_with_object_and_buffer_source(&params, &self.key, ciphertext).unwrap()
    }

    /// Checks that WebCrypto gives `input` back through a seal and an open under this key.
    async fn round_trip(&mut self, input: &ArrayBuffer) {
        let params = self.fresh_params();
        let iv: Uint8Array = params.get_iv().unchecked_into();
        let promise =
            self.subtle.encrypt_with_object_and_buffer_source(&params, &self.key, input).unwrap();
        let sealed: ArrayBuffer = JsFuture::from(promise).await.unwrap().unchecked_into();
        let opened = JsFuture::from(self.decrypt(&iv, &sealed)).await.expect("WebCrypto opens");
        assert_eq!(bytes_of(&opened.unchecked_into()), bytes_of(input));
    }
}

/// The worker's hybrid path for one suite: a sender and a receiver like [`RustSide`]'s, in the
/// transform's [`Cryptor`]s, with their keys imported into WebCrypto as the transform imports
/// them. Its frames go as the worker's do: one call into Rust per frame
/// ([`HybridSide::seal_step`], `open_step`), which gives the new buffer (Rust path) or the
/// promise of a WebCrypto call, planned by [`Cryptor::plan_webcrypto`] and started by
/// `webcrypto::start`; that promise awaited in JavaScript (as js/frames.js's
/// pump awaits it) and its outcome judged by [`Cryptor::after_webcrypto`]. What it leaves out is
/// the frame objects (reading `data` and metadata, setting `data`), which the browser owns.
/// The key of `kid` among `keys`.
fn key_of(keys: &[(u64, CryptoKey)], kid: u64) -> Option<CryptoKey> {
    keys.iter().find(|(k, _)| *k == kid).map(|(_, key)| key.clone())
}

struct HybridSide {
    sending: Cryptor,
    receiving: Cryptor,
    /// The WebCrypto keys by KID, imported as the transform imports them: the narrow KID's,
    /// and the wide KID's of frames without clear bytes (sealed with room, PROTOCOL.md
    /// change 51).
    seal_keys: Vec<(u64, CryptoKey)>,
    open_keys: Vec<(u64, CryptoKey)>,
    /// Payloads of at least this many bytes go to WebCrypto, sealing and opening: the worker's
    /// crossovers (from the engine, read once as the transform reads it), or 0 for the column
    /// that places them.
    seal_crossover: usize,
    open_crossover: usize,
    scratch: Vec<u8>,
    /// The job whose WebCrypto call is under way, and the length it must give.
    pending: Option<(Job, usize)>,
}

impl HybridSide {
    async fn new(suite: CipherSuite, webcrypto_only: bool) -> Self {
        let key = base_key(suite);
        let mut sender = Sender::new(suite, key.clone(), 0, SLOT).unwrap();
        let mut receiver = Receiver::new(suite, key.clone(), 0).only_slot(SLOT);
        webcrypto::evaluate_frames_js();
        let subtle = subtle();
        let (mut seal_keys, mut open_keys) = (Vec::new(), Vec::new());
        for external in [sender.external_key(), sender.room_external_key(0)] {
            let external = external.expect("a GCM suite");
            let import = |usage| webcrypto::import_key(&subtle, &external, usage).unwrap();
            seal_keys
                .push((external.kid(), webcrypto::imported(import(Usage::Encrypt)).await.unwrap()));
            open_keys
                .push((external.kid(), webcrypto::imported(import(Usage::Decrypt)).await.unwrap()));
        }
        // Each KID's first frame opens in Rust, as in the worker: the narrow KID's sealed in
        // Rust, the wide KID's as the Rust path would seal it at the counter its job took.
        let mut scratch = Vec::new();
        let first = seal_into_buffer(&mut sender, &to_buffer(b"first"), Codec::Opus, &mut scratch);
        open_into_buffer(&mut receiver, &first.unwrap(), Codec::Opus, 0, &mut scratch).unwrap();
        let wide = sender.room_job(&[], 5).unwrap().expect("room").info();
        let mut first = Vec::new();
        let wide_key = SframeKey::derive(suite, key.expose(), wide.kid);
        encrypt_frame(&wide_key, wide.ctr, &[], b"first", &mut first).unwrap();
        receiver.decrypt_in_place(&mut first, 0, 0).expect("the wide KID's first frame");
        let (sending, receiving) = (Cryptor::Encrypt(sender), Cryptor::Decrypt(receiver));
        // Each side's crossover as the transform reads it (`Cryptor::crossover`).
        let engine = webcrypto::engine();
        let crossover = |side: &Cryptor| match webcrypto_only {
            true => 0,
            false => side.crossover(engine).expect("a GCM suite"),
        };
        HybridSide {
            seal_crossover: crossover(&sending),
            open_crossover: crossover(&receiving),
            sending,
            receiving,
            seal_keys,
            open_keys,
            scratch,
            pending: None,
        }
    }

    /// `input` sealed (an `ArrayBuffer`), or the promise of its WebCrypto call.
    fn seal_step(&mut self, input: &ArrayBuffer) -> JsValue {
        let len = input.byte_length() as usize;
        let codec = codec_for(len);
        let Cryptor::Encrypt(sender) = &mut self.sending else { unreachable!("a sender") };
        if len < self.seal_crossover {
            return seal_into_buffer(sender, input, codec, &mut self.scratch).unwrap().into();
        }
        let head = webcrypto::read_head(input, len); // for every large frame, as the transform does
        let keys = &self.seal_keys;
        let planned =
            self.sending.plan_webcrypto(self.seal_crossover, codec, len, &head, 0, |kid, _| {
                key_of(keys, kid)
            });
        let planned = planned.unwrap().expect("planned");
        let promise = webcrypto::start(&planned, input, &head);
        self.pending = Some((planned.job, planned.out_len));
        promise.expect("started").into()
    }

    /// `frame` opened (an `ArrayBuffer`), or the promise of its WebCrypto call.
    fn open_step(&mut self, frame: &ArrayBuffer) -> JsValue {
        let len = frame.byte_length() as usize;
        let codec = codec_for(len);
        let now_ms = js_sys::Date::now() as u64;
        let Cryptor::Decrypt(receiver) = &mut self.receiving else { unreachable!("a receiver") };
        if len < self.open_crossover {
            return open_into_buffer(receiver, frame, codec, now_ms, &mut self.scratch)
                .expect("a fresh frame opens")
                .into();
        }
        let head = webcrypto::read_head(frame, len);
        let keys = &self.open_keys;
        let planned = self.receiving.plan_webcrypto(
            self.open_crossover,
            codec,
            len,
            &head,
            now_ms,
            |kid, _| key_of(keys, kid),
        );
        let planned = planned.unwrap().expect("a known KID");
        let promise = webcrypto::start(&planned, frame, &head);
        self.pending = Some((planned.job, planned.out_len));
        promise.expect("started").into()
    }

    /// The WebCrypto call settled with `out`: judged as the transform judges it.
    fn judged(cryptor: &mut Cryptor, pending: Option<(Job, usize)>, out: JsValue) -> JsValue {
        let (job, out_len) = pending.expect("a call under way");
        let out: ArrayBuffer = out.dyn_into().expect("a buffer");
        let ended = CallEnded::Done { len: out.byte_length() as usize };
        assert_eq!(cryptor.after_webcrypto(&job, out_len, ended), AfterCall::Forward);
        out.into()
    }

    fn sealed(&mut self, out: JsValue) -> JsValue {
        Self::judged(&mut self.sending, self.pending.take(), out)
    }

    fn opened(&mut self, out: JsValue) -> JsValue {
        Self::judged(&mut self.receiving, self.pending.take(), out)
    }

    /// [`Self::seal_step`] awaited from Rust (set-up and checks, untimed).
    async fn seal(&mut self, input: &ArrayBuffer) -> ArrayBuffer {
        let out = self.seal_step(input);
        match out.dyn_into::<Promise>() {
            Ok(promise) => {
                let out = JsFuture::from(promise).await.expect("sealed");
                self.sealed(out).unchecked_into()
            }
            Err(out) => out.unchecked_into(),
        }
    }

    /// [`Self::open_step`] awaited from Rust (set-up and checks, untimed).
    async fn open(&mut self, frame: &ArrayBuffer) -> ArrayBuffer {
        let out = self.open_step(frame);
        match out.dyn_into::<Promise>() {
            Ok(promise) => {
                let out = JsFuture::from(promise).await.expect("a fresh frame opens");
                self.opened(out).unchecked_into()
            }
            Err(out) => out.unchecked_into(),
        }
    }
}

/// A [`HybridSide`] driven from JavaScript, as the worker's pump drives its transform: the
/// steps as functions of an object ([`JS_TIMING`]'s hybrid loops call them).
struct HybridLoop {
    steps: JsValue,
}

impl HybridLoop {
    fn new(side: HybridSide) -> Self {
        use wasm_bindgen::closure::Closure;
        let side = std::rc::Rc::new(std::cell::RefCell::new(side));
        let steps = js_sys::Object::new();
        let (a, b, c, d) = (side.clone(), side.clone(), side.clone(), side);
        let seal = Closure::<dyn FnMut(ArrayBuffer) -> JsValue>::new(move |input: ArrayBuffer| {
            a.borrow_mut().seal_step(&input)
        });
        let open = Closure::<dyn FnMut(ArrayBuffer) -> JsValue>::new(move |frame: ArrayBuffer| {
            b.borrow_mut().open_step(&frame)
        });
        let opened =
            Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |out| c.borrow_mut().opened(out));
        let sealed =
            Closure::<dyn FnMut(JsValue) -> JsValue>::new(move |out| d.borrow_mut().sealed(out));
        let named = [("seal", seal), ("open", open)].map(|(n, f)| (n, f.into_js_value()));
        let named = named
            .into_iter()
            .chain([("opened", opened), ("sealed", sealed)].map(|(n, f)| (n, f.into_js_value())));
        for (name, step) in named {
            js_sys::Reflect::set(&steps, &name.into(), &step).unwrap();
        }
        HybridLoop { steps: steps.into() }
    }
}

/// How many frames are sealed, untimed, before each timed batch of opens: about 2 MB of them.
fn open_batch(input: &ArrayBuffer) -> usize {
    (2 * 1024 * 1024 / input.byte_length() as usize).clamp(8, 512)
}

/// SFrame in plain JavaScript around one WebCrypto call per frame: what a careful peer writes.
/// The same header encoding (RFC 9605 §4.3), nonce (salt XOR counter), AAD (header || clear
/// prefix) and layout as Shieldcall's, so its frames must be byte for byte the Rust ones.
const JS_SFRAME: &str = r#"
return class JsSframe {
  constructor(key, salt, kid) {
    this.key = key; this.salt = salt; this.kid = kid; this.ctr = 0; this.maxCtr = -1; this.seen = 0;
  }
  static encodeValue(v) {
    const bytes = [];
    for (let x = v; x > 0; x = Math.floor(x / 256)) bytes.unshift(x % 256);
    return bytes;
  }
  static header(kid, ctr) {
    let config = 0; const tail = [];
    if (kid < 8) { config |= kid << 4; } else {
      const k = JsSframe.encodeValue(kid); config |= 0x80 | ((k.length - 1) << 4); tail.push(...k);
    }
    if (ctr < 8) { config |= ctr; } else {
      const c = JsSframe.encodeValue(ctr); config |= 0x08 | (c.length - 1); tail.push(...c);
    }
    return Uint8Array.of(config, ...tail);
  }
  static parse(bytes) {
    const config = bytes[0]; let at = 1;
    const read = (n) => { let v = 0; for (let i = 0; i < n; i++) v = v * 256 + bytes[at++]; return v; };
    const kid = config & 0x80 ? read(((config >> 4) & 7) + 1) : (config >> 4) & 7;
    const ctr = config & 0x08 ? read((config & 7) + 1) : config & 7;
    if (at > bytes.length) throw new Error('malformed');
    return { kid, ctr, length: at };
  }
  iv(ctr) {
    const iv = this.salt.slice();
    for (let i = 11, x = ctr; i >= 4 && x > 0; i--, x = Math.floor(x / 256)) iv[i] ^= x % 256;
    return iv;
  }
  async encrypt(frame, prefixLen) {
    const data = new Uint8Array(frame);
    const ctr = this.ctr++;
    const header = JsSframe.header(this.kid, ctr);
    const aad = new Uint8Array(header.length + prefixLen);
    aad.set(header); aad.set(data.subarray(0, prefixLen), header.length);
    const sealed = await crypto.subtle.encrypt(
      { name: 'AES-GCM', iv: this.iv(ctr), additionalData: aad, tagLength: 128 },
      this.key, data.subarray(prefixLen));
    // WebCrypto's buffer grown for what goes in front, its bytes moved within: cheaper than a
    // new buffer and a copy across (the worker does the same).
    const front = prefixLen + header.length, len = sealed.byteLength;
    const out = new Uint8Array(sealed.transfer(len + front));
    out.copyWithin(front, 0, len);
    out.set(data.subarray(0, prefixLen));
    out.set(header, prefixLen);
    return out.buffer;
  }
  async decrypt(frame, prefixLen) {
    const data = new Uint8Array(frame);
    const { kid, ctr, length } = JsSframe.parse(data.subarray(prefixLen, prefixLen + 17));
    if (kid !== this.kid) throw new Error('unknown key id');
    const behind = this.maxCtr - ctr;
    if (behind >= 0 && (behind >= 32 || (this.seen >>> behind) & 1)) throw new Error('replay');
    const aad = new Uint8Array(length + prefixLen);
    aad.set(data.subarray(prefixLen, prefixLen + length)); aad.set(data.subarray(0, prefixLen), length);
    const plain = await crypto.subtle.decrypt(
      { name: 'AES-GCM', iv: this.iv(ctr), additionalData: aad, tagLength: 128 },
      this.key, data.subarray(prefixLen + length));
    if (ctr > this.maxCtr) {
      const shift = ctr - this.maxCtr;
      this.seen = shift >= 32 ? 1 : ((this.seen << shift) | 1) >>> 0; this.maxCtr = ctr;
    } else { this.seen = (this.seen | (1 << (this.maxCtr - ctr))) >>> 0; }
    if (prefixLen === 0) return plain;
    const len = plain.byteLength;
    const out = new Uint8Array(plain.transfer(len + prefixLen));
    out.copyWithin(prefixLen, 0, len);
    out.set(data.subarray(0, prefixLen));
    return out.buffer;
  }
}
"#;

/// The JavaScript and bare columns are timed by loops in JavaScript, each frame awaited there,
/// as a peer in plain JavaScript runs: a loop in Rust would add its own await per frame
/// (`make bench-browser` prints what one costs), which such a peer never pays. Same budgets
/// and batches for every column.
const JS_TIMING: &str = r#"
// A fresh IV for the bare columns, from their counter (kept across rounds).
const freshIv = (counter) => {
  const iv = new Uint8Array(12); new DataView(iv.buffer).setUint32(8, counter.next++); return iv;
};
return {
  async seals(sender, input, budgetMs) {
    const start = performance.now(); let n = 0, elapsed;
    do { await sender.encrypt(input, 0); n++; elapsed = performance.now() - start; } while (elapsed < budgetMs);
    return elapsed * 1000 / n;
  },
  async freshOpens(sender, receiver, input, budgetMs, batch) {
    let timed = 0, frames = 0;
    while (timed < budgetMs) {
      const sealed = [];
      for (let i = 0; i < batch; i++) sealed.push(await sender.encrypt(input, 0));
      const start = performance.now();
      for (const frame of sealed) await receiver.decrypt(frame, 0);
      timed += performance.now() - start; frames += batch;
    }
    return timed * 1000 / frames;
  },
  // The hybrid, driven as the worker's pump drives a transform (js/frames.js): a call into
  // Rust per frame, and for a WebCrypto frame the promise awaited here and its outcome handed
  // back to Rust.
  async hybridSeals(steps, input, budgetMs) {
    const start = performance.now(); let n = 0, elapsed;
    do {
      const out = steps.seal(input);
      if (out instanceof Promise) steps.sealed(await out);
      n++; elapsed = performance.now() - start;
    } while (elapsed < budgetMs);
    return elapsed * 1000 / n;
  },
  async hybridFreshOpens(steps, input, budgetMs, batch) {
    let timed = 0, frames = 0;
    while (timed < budgetMs) {
      const sealed = [];
      for (let i = 0; i < batch; i++) {
        const out = steps.seal(input);
        sealed.push(out instanceof Promise ? steps.sealed(await out) : out);
      }
      const start = performance.now();
      for (const frame of sealed) {
        const out = steps.open(frame);
        if (out instanceof Promise) steps.opened(await out);
      }
      timed += performance.now() - start; frames += batch;
    }
    return timed * 1000 / frames;
  },
  // One second of a call through the hybrid: each frame sealed, then opened; [ms, frames whose
  // round trip lost bytes].
  async callSecond(steps, frames) {
    let dropped = 0;
    const start = performance.now();
    for (const frame of frames) {
      let sealed = steps.seal(frame);
      if (sealed instanceof Promise) sealed = steps.sealed(await sealed);
      let opened = steps.open(sealed);
      if (opened instanceof Promise) opened = steps.opened(await opened);
      if (opened.byteLength !== frame.byteLength) dropped++;
    }
    return [performance.now() - start, dropped];
  },
  async bareEncrypts(key, input, budgetMs, counter) {
    const start = performance.now(); let n = 0, elapsed;
    do {
      await crypto.subtle.encrypt({ name: 'AES-GCM', iv: freshIv(counter) }, key, input);
      n++; elapsed = performance.now() - start;
    } while (elapsed < budgetMs);
    return elapsed * 1000 / n;
  },
  // Like the other columns' opens: a batch sealed untimed, each under its own IV, then opened,
  // so that every column opens frames that are not in the cache.
  async bareFreshOpens(key, input, budgetMs, batch, counter) {
    let timed = 0, frames = 0;
    while (timed < budgetMs) {
      const sealed = [];
      for (let i = 0; i < batch; i++) {
        const iv = freshIv(counter);
        sealed.push([iv, await crypto.subtle.encrypt({ name: 'AES-GCM', iv }, key, input)]);
      }
      const start = performance.now();
      for (const [iv, ciphertext] of sealed) await crypto.subtle.decrypt({ name: 'AES-GCM', iv }, key, ciphertext);
      timed += performance.now() - start; frames += batch;
    }
    return timed * 1000 / frames;
  },
};
"#;

/// [`JS_TIMING`]'s loops.
struct JsTiming {
    loops: JsValue,
    /// The bare column's IV counter, kept in JavaScript across rounds.
    counter: JsValue,
}

impl JsTiming {
    fn new() -> Self {
        let loops = js_sys::Function::new_no_args(JS_TIMING).call0(&JsValue::NULL).unwrap();
        let counter = js_sys::Object::new();
        js_sys::Reflect::set(&counter, &"next".into(), &JsValue::from(1_000_000)).unwrap();
        JsTiming { loops, counter: counter.into() }
    }

    /// What the loop `name` resolved to.
    async fn call(&self, name: &str, args: &[&JsValue]) -> JsValue {
        let function: js_sys::Function =
            js_sys::Reflect::get(&self.loops, &name.into()).unwrap().unchecked_into();
        let args: Array = args.iter().copied().collect();
        let promise: Promise = function.apply(&self.loops, &args).unwrap().unchecked_into();
        JsFuture::from(promise).await.expect("the JavaScript loop ran")
    }

    /// The µs per frame the loop `name` measured.
    async fn run(&self, name: &str, args: &[&JsValue]) -> f64 {
        self.call(name, args).await.as_f64().unwrap()
    }

    async fn js_seals(&self, js: &JsSide, input: &ArrayBuffer, budget_ms: f64) -> f64 {
        self.run("seals", &[&js.sender, input, &budget_ms.into()]).await
    }

    async fn js_fresh_opens(&self, js: &JsSide, input: &ArrayBuffer, budget_ms: f64) -> f64 {
        let batch = open_batch(input) as u32;
        let args = [&js.sender, &js.receiver, input, &budget_ms.into(), &batch.into()];
        self.run("freshOpens", &args).await
    }

    async fn hybrid_seals(&self, hybrid: &HybridLoop, input: &ArrayBuffer, budget_ms: f64) -> f64 {
        self.run("hybridSeals", &[&hybrid.steps, input, &budget_ms.into()]).await
    }

    async fn hybrid_fresh_opens(
        &self,
        hybrid: &HybridLoop,
        input: &ArrayBuffer,
        budget_ms: f64,
    ) -> f64 {
        let batch = open_batch(input) as u32;
        let args = [&hybrid.steps, input, &budget_ms.into(), &batch.into()];
        self.run("hybridFreshOpens", &args).await
    }

    /// ms for one second of a call's `frames` through `hybrid`, and how many were lost.
    async fn call_second(&self, hybrid: &HybridLoop, frames: &Array) -> (f64, usize) {
        let result: Array =
            self.call("callSecond", &[&hybrid.steps, frames]).await.unchecked_into();
        (result.get(0).as_f64().unwrap(), result.get(1).as_f64().unwrap() as usize)
    }

    async fn bare_encrypts(&self, web: &WebCryptoSide, input: &ArrayBuffer, budget_ms: f64) -> f64 {
        self.run("bareEncrypts", &[&web.key, input, &budget_ms.into(), &self.counter]).await
    }

    async fn bare_fresh_opens(
        &self,
        web: &WebCryptoSide,
        input: &ArrayBuffer,
        budget_ms: f64,
    ) -> f64 {
        let batch = open_batch(input) as u32;
        let args: [&JsValue; 5] =
            [&web.key, input, &budget_ms.into(), &batch.into(), &self.counter];
        self.run("bareFreshOpens", &args).await
    }
}

/// The JavaScript SFrame side of one suite, under the same key and KID as the Rust sides.
struct JsSide {
    sender: JsValue,
    receiver: JsValue,
    /// The class's methods, looked up once (as the hybrid side reads its engine once).
    encrypt: js_sys::Function,
    decrypt: js_sys::Function,
}

impl JsSide {
    async fn new(suite: CipherSuite) -> Self {
        let class = js_sys::Function::new_no_args(JS_SFRAME).call0(&JsValue::NULL).unwrap();
        let key = base_key(suite);
        let external = Sender::new(suite, key, 0, SLOT).unwrap().external_key().unwrap();
        let subtle = subtle();
        let import = |usage| webcrypto::import_key(&subtle, &external, usage).unwrap();
        let seal_key = webcrypto::imported(import(Usage::Encrypt)).await.unwrap();
        let open_key = webcrypto::imported(import(Usage::Decrypt)).await.unwrap();
        let salt = Uint8Array::from(&external.nonce(0)[..]);
        let kid = JsValue::from(external.kid() as f64);
        let new = |key: &CryptoKey| {
            let class: &js_sys::Function = class.unchecked_ref();
            js_sys::Reflect::construct(class, &Array::of3(key, &salt, &kid)).unwrap()
        };
        let (sender, receiver) = (new(&seal_key), new(&open_key));
        let method = |name: &str| js_sys::Reflect::get(&sender, &name.into()).unwrap().into();
        let (encrypt, decrypt) = (method("encrypt"), method("decrypt"));
        JsSide { sender, receiver, encrypt, decrypt }
    }

    fn call(method: &js_sys::Function, target: &JsValue, frame: &ArrayBuffer) -> Promise {
        method.call2(target, frame, &JsValue::from(0)).unwrap().into()
    }

    fn encrypt(&self, input: &ArrayBuffer) -> Promise {
        Self::call(&self.encrypt, &self.sender, input)
    }

    async fn seal(&self, input: &ArrayBuffer) -> ArrayBuffer {
        JsFuture::from(self.encrypt(input)).await.expect("JS sealed").unchecked_into()
    }
}

/// The JavaScript and the hybrid frames are the Rust frames, and each opens the others'.
async fn check_same_frames(suite: CipherSuite, payload: &[u8]) {
    let (js, mut hybrid, mut rust) =
        (JsSide::new(suite).await, HybridSide::new(suite, false).await, RustSide::new(suite));
    let input = to_buffer(payload);
    let codec = codec_for(payload.len());
    // The hybrid and Rust sides have sealed one frame each in set-up; the JS one none yet.
    let _ = js.seal(&input).await;
    seal_into_buffer(&mut rust.sender, &to_buffer(b"first"), Codec::Opus, &mut rust.scratch)
        .unwrap();
    let from_js = bytes_of(&js.seal(&input).await);
    let from_hybrid = bytes_of(&hybrid.seal(&input).await);
    let from_rust =
        bytes_of(&seal_into_buffer(&mut rust.sender, &input, codec, &mut rust.scratch).unwrap());
    assert_eq!(from_js, from_rust, "{suite:?}, {} B: JS SFrame = Rust", payload.len());
    // Where the hybrid seals with room, under the wide KID (PROTOCOL.md change 51), its frame is
    // the Rust path's frame of that KID and counter.
    let (header, _) = Header::parse(&from_hybrid).expect("an SFrame header");
    let expected = if header.kid == rust.sender.kid() {
        from_rust.clone()
    } else {
        let wide = wide_kid(rust.sender.kid(), 0);
        assert_eq!(Some(header.kid), wide, "{suite:?}: the wide KID of frames without clear bytes");
        let key = SframeKey::derive(suite, base_key(suite).expose(), header.kid);
        let mut wide = Vec::new();
        encrypt_frame(&key, header.ctr, &[], payload, &mut wide).unwrap();
        assert_eq!(bytes_of(&hybrid.open(&to_buffer(&from_hybrid)).await), payload);
        wide
    };
    assert_eq!(from_hybrid, expected, "{suite:?}, {} B: hybrid = Rust", payload.len());
    let opened = JsFuture::from(JsSide::call(&js.decrypt, &js.receiver, &to_buffer(&from_rust)));
    assert_eq!(bytes_of(&opened.await.unwrap().unchecked_into()), payload);
    assert_eq!(bytes_of(&hybrid.open(&to_buffer(&from_js)).await), payload);
}

fn suite_name(suite: CipherSuite) -> &'static str {
    match suite {
        CipherSuite::Aes128GcmSha256_128 => "AES-128-GCM",
        _ => "AES-256-GCM",
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

#[wasm_bindgen_test]
async fn sframe_in_a_worker_rust_hybrid_js_and_bare_webcrypto() {
    let perf = performance();
    console_log!(
        "Shieldcall in-browser benchmark: {}",
        web_sys::WorkerGlobalScope::navigator(&js_sys::global().unchecked_into())
            .user_agent()
            .unwrap_or_default()
    );
    console_log!(
        "µs per frame, ArrayBuffer in to new ArrayBuffer out; median / best of {ROUNDS} \
         interleaved rounds of {:.0} ms each, after {WARMUP_MS:.0} ms of warm-up. Ratios of \
         medians, above 1 = hybrid faster: JS/hybrid (goal >= 1, >= 2 at 100 B), the same for \
         the hybrid's code in the WebCrypto path column where the hybrid takes WebCrypto (the \
         same code measured twice: how far a cell is noise), bare/hybrid (goal >= 0.87 from \
         16 KB), Rust/hybrid. {}",
        CELL_MS / ROUNDS as f64,
        match collect_garbage() {
            true => "The heap is collected before each round.",
            false =>
                "This engine lets no page collect the heap: rounds start with what the last left.",
        }
    );
    for suite in SUITES {
        let name = suite_name(suite);
        let engine = webcrypto::engine();
        let crossover = |direction| {
            shieldcall_worker::hybrid::crossover(engine, suite, direction).unwrap_or(usize::MAX)
        };
        let mut rust = RustSide::new(suite);
        let hybrid = HybridLoop::new(HybridSide::new(suite, false).await);
        let via_webcrypto = HybridLoop::new(HybridSide::new(suite, true).await);
        let js = JsSide::new(suite).await;
        let timing = JsTiming::new();
        let mut web = WebCryptoSide::new(suite).await;
        let mut tables: [Vec<String>; 2] = Default::default();
        for (len, label) in SIZES {
            let payload = plaintext(len);
            rust.round_trip(&payload);
            check_same_frames(suite, &payload).await;
            let input = to_buffer(&payload);
            web.round_trip(&input).await;

            // Warm-up: the JIT, the allocator, the scratch buffers, the WebCrypto thread.
            rust.encrypt(&perf, WARMUP_MS, &input);
            rust.decrypt(&perf, WARMUP_MS, &input);
            timing.hybrid_seals(&hybrid, &input, WARMUP_MS).await;
            timing.hybrid_fresh_opens(&hybrid, &input, WARMUP_MS).await;
            timing.hybrid_seals(&via_webcrypto, &input, WARMUP_MS).await;
            timing.hybrid_fresh_opens(&via_webcrypto, &input, WARMUP_MS).await;
            timing.js_seals(&js, &input, WARMUP_MS).await;
            timing.js_fresh_opens(&js, &input, WARMUP_MS).await;
            timing.bare_encrypts(&web, &input, WARMUP_MS).await;
            timing.bare_fresh_opens(&web, &input, WARMUP_MS).await;

            let round_ms = CELL_MS / ROUNDS as f64;
            // encrypt: Rust, hybrid, JS, bare, the WebCrypto path alone; then decrypt likewise;
            // each in the round's order.
            let mut samples: [Vec<f64>; 10] = Default::default();
            for round in 0..ROUNDS {
                for column in column_order(round) {
                    collect_garbage();
                    let us = match column {
                        0 => rust.encrypt(&perf, round_ms, &input),
                        1 => timing.hybrid_seals(&hybrid, &input, round_ms).await,
                        2 => timing.js_seals(&js, &input, round_ms).await,
                        3 => timing.bare_encrypts(&web, &input, round_ms).await,
                        _ => timing.hybrid_seals(&via_webcrypto, &input, round_ms).await,
                    };
                    samples[column].push(us);
                }
                for column in column_order(round).map(|column| 5 + column) {
                    collect_garbage();
                    let us = match column {
                        5 => rust.decrypt(&perf, round_ms, &input),
                        6 => timing.hybrid_fresh_opens(&hybrid, &input, round_ms).await,
                        7 => timing.js_fresh_opens(&js, &input, round_ms).await,
                        8 => timing.bare_fresh_opens(&web, &input, round_ms).await,
                        _ => timing.hybrid_fresh_opens(&via_webcrypto, &input, round_ms).await,
                    };
                    samples[column].push(us);
                }
            }
            let cells = samples.map(median_best);
            let directions = [Direction::Send, Direction::Receive];
            for ((table, c), direction) in
                tables.iter_mut().zip([&cells[..5], &cells[5..]]).zip(directions)
            {
                let (rust, hybrid, js, bare, webcrypto) = (c[0], c[1], c[2], c[3], c[4]);
                let to_webcrypto = goes_to_webcrypto(engine, suite, direction, len);
                let path = if to_webcrypto { "WebCrypto" } else { "Rust" };
                // Where the hybrid makes the WebCrypto call, the "WebCrypto path" column runs
                // the very same code: its ratio to the JavaScript peer shows how far the
                // hybrid's own ratio is noise.
                let same_code = match to_webcrypto {
                    true => format!("{:.2}", js.0 / webcrypto.0),
                    false => "-".into(),
                };
                table.push(format!(
                    "| {label} | {path} | {} | {} | {} | {} | {} | {:.2} | {same_code} | {:.2} | {:.2} |",
                    fmt_cell(rust),
                    fmt_cell(webcrypto),
                    fmt_cell(hybrid),
                    fmt_cell(js),
                    fmt_cell(bare),
                    js.0 / hybrid.0,
                    bare.0 / hybrid.0,
                    rust.0 / hybrid.0,
                ));
            }
            // The benchmark itself must not have broken anything: a frame still round-trips.
            rust.round_trip(&payload);
        }
        let ops = [("encrypt", Direction::Send), ("decrypt", Direction::Receive)];
        for (table, (op, direction)) in tables.iter().zip(ops) {
            console_log!("");
            console_log!(
                "SFrame suite {:#06x} ({name}), {op}; hybrid crossover {} B",
                suite.id(),
                crossover(direction)
            );
            console_log!(
                "| size | hybrid takes | Rust µs | WebCrypto path µs | hybrid µs | JS SFrame µs | bare subtle µs | JS/hybrid | JS/hybrid's code elsewhere | bare/hybrid | Rust/hybrid |"
            );
            console_log!("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
            for row in table {
                console_log!("{row}");
            }
        }
    }
}

/// The Rust path's AES-GCM alone, in place on a buffer in wasm memory: the bitsliced one the
/// worker runs (`shieldcall_e2ee::sframe::sliced`) beside the `aes-gcm` crate it replaced
/// (whose software AES on wasm32 is 32-bit fixsliced, two blocks per pass), µs per seal,
/// median / best of interleaved rounds.
#[wasm_bindgen_test]
fn the_rust_aes_gcm_bitsliced_against_the_aes_gcm_crate() {
    console_log!("");
    console_log!(
        "The Rust path's AES-GCM, sealing in place, µs per frame (median / best): bitsliced \
         (the worker's) against the aes-gcm crate (before 2026-12-04)"
    );
    console_log!("| size | suite | bitsliced µs | aes-gcm crate µs | crate/bitsliced |");
    console_log!("|---:|---|---:|---:|---:|");
    for (len, label) in SIZES {
        seals_timed::<11, aes_gcm::Aes128Gcm>(len, label, SUITES[0]);
        seals_timed::<15, aes_gcm::Aes256Gcm>(len, label, SUITES[1]);
    }
}

/// One row of [`the_rust_aes_gcm_bitsliced_against_the_aes_gcm_crate`]: `R` round keys against
/// `A`, the crate's cipher of the same key length.
fn seals_timed<const R: usize, A>(len: usize, label: &str, suite: CipherSuite)
where
    A: aes_gcm::KeyInit + aes_gcm::aead::AeadInPlace,
{
    use shieldcall_e2ee::sframe::sliced::{Gcm, simd::V};

    let perf = performance();
    let key = vec![0x42u8; suite.nk()];
    let nonce = [7u8; 12];
    let sliced = Gcm::<V, R>::new_boxed(&key);
    let crate_gcm = A::new_from_slice(&key).unwrap();
    let mut buf = plaintext(len);
    let (mut ours, mut theirs) = (Vec::new(), Vec::new());
    for round in 0..=ROUNDS {
        let budget = if round == 0 { WARMUP_MS } else { CELL_MS / ROUNDS as f64 };
        let a = time_sync(&perf, budget, || sliced_seal(&sliced, &nonce, &mut buf));
        let b = time_sync(&perf, budget, || crate_seal(&crate_gcm, &nonce, &mut buf));
        if round > 0 {
            ours.push(a);
            theirs.push(b);
        }
    }
    let (ours, theirs) = (median_best(ours), median_best(theirs));
    console_log!(
        "| {label} | {} | {} | {} | {:.2} |",
        suite_name(suite),
        fmt_cell(ours),
        fmt_cell(theirs),
        theirs.0 / ours.0
    );
}

/// One seal, not inlined into the timing loop: the worker calls its cipher through the frame's
/// key, and inlined here (both ciphers into one loop) the bitsliced one ran a third slower than
/// in the worker's own path.
#[inline(never)]
fn sliced_seal<P: shieldcall_e2ee::sframe::sliced::Planes, const R: usize>(
    gcm: &shieldcall_e2ee::sframe::sliced::Gcm<P, R>,
    nonce: &[u8; 12],
    buf: &mut [u8],
) {
    gcm.encrypt(nonce, b"head", buf).unwrap();
}

#[inline(never)]
fn crate_seal<A: aes_gcm::aead::AeadInPlace>(gcm: &A, nonce: &[u8; 12], buf: &mut [u8]) {
    gcm.encrypt_in_place_detached(aes_gcm::aead::Nonce::<A>::from_slice(nonce), b"head", buf)
        .unwrap();
}

/// One second of a 720p30 call with audio, both directions, as frames (bytes each):
/// VP8 at about 1.5 Mbit/s (29 delta frames of 6 KB and, a third of the time, a 60 KB key
/// frame; here a key frame every second, the worse case) and Opus at 32 kbit/s (50 frames of
/// 80 B), sealed as this side sends them and opened as the other side's arrive.
fn one_second_of_a_call() -> Vec<usize> {
    let mut frames = vec![60 * 1024];
    frames.extend(std::iter::repeat_n(6 * 1024, 29));
    frames.extend(std::iter::repeat_n(80, 50));
    frames
}

#[wasm_bindgen_test]
async fn what_a_second_of_a_720p30_call_costs_the_worker() {
    let perf = performance();
    let suite = CipherSuite::Aes128GcmSha256_128;
    let frames: Vec<ArrayBuffer> =
        one_second_of_a_call().into_iter().map(|len| to_buffer(&plaintext(len))).collect();
    const SECONDS: usize = 5;
    let hybrid = HybridLoop::new(HybridSide::new(suite, false).await);
    let timing = JsTiming::new();
    let frames_js: Array = frames.iter().collect();
    let mut rust = RustSide::new(suite);
    let (mut hybrid_ms, mut rust_ms, mut dropped) = (0.0, 0.0, 0usize);
    for round in 0..=SECONDS {
        // Round 0 warms up and is not counted.
        let (hybrid_round, hybrid_dropped) = timing.call_second(&hybrid, &frames_js).await;
        dropped += hybrid_dropped;
        let start = perf.now();
        for frame in &frames {
            let codec = codec_for(frame.byte_length() as usize);
            let sealed = seal_into_buffer(&mut rust.sender, frame, codec, &mut rust.scratch);
            let opened = open_into_buffer(
                &mut rust.receiver,
                &sealed.expect("sealed"),
                codec,
                js_sys::Date::now() as u64,
                &mut rust.scratch,
            );
            dropped += usize::from(opened.is_err());
        }
        let rust_round = perf.now() - start;
        if round > 0 {
            hybrid_ms += hybrid_round;
            rust_ms += rust_round;
        }
    }
    assert_eq!(dropped, 0, "every frame of the call opens");
    let (hybrid_ms, rust_ms) = (hybrid_ms / SECONDS as f64, rust_ms / SECONDS as f64);
    console_log!("");
    console_log!(
        "One second of a 720p30 call with audio, both directions (a 60 KB key frame, 29 frames \
         of 6 KB, 50 Opus frames of 80 B; sealed and opened), AES-128-GCM, mean of {SECONDS} \
         seconds: hybrid {hybrid_ms:.1} ms of the worker's time per second of call ({:.2} % of \
         one core; the time WebCrypto's own thread spends is in it), Rust only {rust_ms:.1} ms \
         ({:.2} %); 0 frames dropped",
        hybrid_ms / 10.0,
        rust_ms / 10.0
    );
}

/// A stream of `frames` chunks (numbers: the cost measured is the stream's, not a frame's).
fn numbered_stream(frames: u32) -> web_sys::ReadableStream {
    let make = js_sys::Function::new_with_args(
        "n",
        "return new ReadableStream({ start(c) { for (let i = 0; i < n; i++) c.enqueue(i); c.close(); } }, { highWaterMark: 0 });",
    );
    make.call1(&JsValue::NULL, &frames.into()).expect("a ReadableStream").unchecked_into()
}

/// A sink that takes every chunk and keeps none.
fn sink() -> web_sys::WritableStream {
    js_sys::Function::new_no_args("return new WritableStream({ write() {} });")
        .call0(&JsValue::NULL)
        .expect("a WritableStream")
        .unchecked_into()
}

/// Pipes `frames` chunks through a `TransformStream` whose `transform` is `transform`;
/// µs per frame.
async fn through_a_transform_stream(frames: u32, transform: &JsValue) -> f64 {
    let perf = performance();
    let transformer = js_sys::Object::new();
    js_sys::Reflect::set(&transformer, &"transform".into(), transform).expect("set");
    let stream = web_sys::TransformStream::new_with_transformer(&transformer).expect("stream");
    let (source, sink) = (numbered_stream(frames), sink());
    let start = perf.now();
    let inward = source.pipe_to(&stream.writable());
    let outward = stream.readable().pipe_to(&sink);
    JsFuture::from(inward).await.expect("piped in");
    JsFuture::from(outward).await.expect("piped out");
    (perf.now() - start) * 1000.0 / frames as f64
}

/// A loop in Rust over a stream of `frames` chunks, awaiting with `JsFuture` (the worker's
/// way before js/frames.js): read a frame, write it on; µs per frame.
async fn through_a_rust_loop(frames: u32) -> f64 {
    let perf = performance();
    let reader: web_sys::ReadableStreamDefaultReader =
        numbered_stream(frames).get_reader().unchecked_into();
    let writer = sink().get_writer().expect("a writer");
    let (done_key, value_key) = (JsValue::from_str("done"), JsValue::from_str("value"));
    let start = perf.now();
    loop {
        let chunk = JsFuture::from(reader.read()).await.expect("read");
        if js_sys::Reflect::get(&chunk, &done_key).unwrap().as_bool() == Some(true) {
            break;
        }
        let frame = js_sys::Reflect::get(&chunk, &value_key).unwrap();
        JsFuture::from(writer.write_with_chunk(&frame)).await.expect("written");
    }
    (perf.now() - start) * 1000.0 / frames as f64
}

/// µs per promise awaited from Rust with `JsFuture`.
async fn awaiting_from_rust(times: u32) -> f64 {
    let perf = performance();
    let start = perf.now();
    for i in 0..times {
        JsFuture::from(Promise::resolve(&JsValue::from(i))).await.expect("resolved");
    }
    (perf.now() - start) * 1000.0 / times as f64
}

/// What moving a frame from the browser's stream to the next one costs the worker, without the
/// frame's crypto: the worker's pump (js/frames.js, awaiting in JavaScript, one call into wasm
/// per frame); a loop in Rust awaiting each frame's `read()` and `write()` with `JsFuture` (the
/// worker's way before js/frames.js); the same loop in JavaScript without wasm; a `TransformStream` calling a function of the worker's wasm (tried
/// on 2026-12-04: no faster in Chromium, slower in Firefox); the same with a JavaScript
/// function (how a peer in plain JavaScript usually does it). Also what one awaited promise
/// costs each way.
#[wasm_bindgen_test]
async fn what_moving_a_frame_through_the_transform_costs() {
    const FRAMES: u32 = 20_000;
    let from_wasm =
        wasm_bindgen::closure::Closure::<
            dyn FnMut(JsValue, web_sys::TransformStreamDefaultController) -> JsValue,
        >::new(|frame: JsValue, controller: web_sys::TransformStreamDefaultController| {
            controller.enqueue_with_chunk(&frame).expect("enqueued");
            JsValue::UNDEFINED
        })
        .into_js_value();
    let from_js =
        js_sys::Function::new_with_args("frame, controller", "controller.enqueue(frame);");
    let native_awaits = js_sys::Function::new_with_args(
        "n",
        "return (async () => { const t = performance.now(); \
         for (let i = 0; i < n; i++) { await Promise.resolve(i); } \
         return (performance.now() - t) * 1000 / n; })()",
    );
    // The worker's loop written in JavaScript, over the same streams.
    let js_loop = js_sys::Function::new_with_args(
        "n, readable, writable",
        "return (async () => { const reader = readable.getReader(); \
         const writer = writable.getWriter(); const t = performance.now(); \
         for (;;) { const { done, value } = await reader.read(); if (done) break; \
         await writer.write(value); } \
         return (performance.now() - t) * 1000 / n; })()",
    );
    // The worker's pump (js/frames.js), its steps in wasm as the transform's are: `process`
    // says "forward" for every frame.
    webcrypto::evaluate_frames_js();
    let steps = js_sys::Object::new();
    let process =
        wasm_bindgen::closure::Closure::<dyn FnMut(JsValue) -> JsValue>::new(|_frame: JsValue| {
            JsValue::TRUE
        });
    js_sys::Reflect::set(&steps, &"process".into(), &process.into_js_value()).unwrap();
    js_sys::Reflect::set(&steps, &"free".into(), &js_sys::Function::new_no_args("")).unwrap();
    let frames = js_sys::Reflect::get(&js_sys::global(), &webcrypto::FRAMES_GLOBAL.into()).unwrap();
    let pump: js_sys::Function =
        js_sys::Reflect::get(&frames, &"pump".into()).unwrap().unchecked_into();
    let through_the_pump = || {
        let (readable, writable) = (numbered_stream(FRAMES), sink());
        let (pump, frames, steps) = (&pump, &frames, &steps);
        async move {
            let start = performance().now();
            let pumped = pump.call3(frames, &readable, &writable, steps).unwrap();
            JsFuture::from(Promise::from(pumped)).await.expect("pumped");
            (performance().now() - start) * 1000.0 / FRAMES as f64
        }
    };
    // µs per frame, as the JavaScript measured it.
    let measured_in_js = |promise: JsValue| async move {
        JsFuture::from(Promise::from(promise)).await.unwrap().as_f64().unwrap()
    };
    let n = JsValue::from(FRAMES);
    const COLUMNS: usize = 7;
    let mut cells: [Vec<f64>; COLUMNS] = Default::default();
    for round in 0..=COLUMNS {
        // Each round starts at the next column, so that each follows each other as often (the
        // garbage one leaves is collected in the next). Round 0 warms up and is not counted.
        for column in (0..COLUMNS).map(|k| (round + k) % COLUMNS) {
            let us = match column {
                0 => through_a_rust_loop(FRAMES).await,
                1 => {
                    let (readable, writable) = (numbered_stream(FRAMES), sink());
                    measured_in_js(js_loop.call3(&JsValue::NULL, &n, &readable, &writable).unwrap())
                        .await
                }
                2 => through_a_transform_stream(FRAMES, &from_wasm).await,
                3 => through_a_transform_stream(FRAMES, &from_js).await,
                4 => awaiting_from_rust(FRAMES).await,
                5 => measured_in_js(native_awaits.call1(&JsValue::NULL, &n).unwrap()).await,
                _ => through_the_pump().await,
            };
            if round > 0 {
                cells[column].push(us);
            }
        }
    }
    let [loop_js_future, loop_js, stream_wasm, stream_js, await_js_future, await_js, pump_now] =
        cells.map(|samples| fmt_cell(median_best(samples)));
    console_log!("");
    console_log!(
        "Moving a frame through the transform, its crypto left out, µs per frame (median / best \
         of {COLUMNS} rotated rounds of {FRAMES} frames): the worker's pump now (js/frames.js, \
         one call into wasm per frame) {pump_now}; a loop in Rust awaiting read() and write() \
         with JsFuture {loop_js_future}; the same loop in JavaScript, no wasm {loop_js}; a \
         TransformStream calling the worker's wasm {stream_wasm}, or a JavaScript function (a \
         JavaScript peer's usual way) {stream_js}. One awaited promise: JsFuture \
         {await_js_future}, JavaScript's await {await_js}."
    );
}
