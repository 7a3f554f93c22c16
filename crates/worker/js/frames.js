// The JavaScript half of the media worker's frame path (crates/worker/src/transform.rs and
// webcrypto.rs): the loop that moves each frame from the browser's stream to the next, and the
// WebCrypto call of a large frame. Every decision and every SFrame byte (header, nonce, AAD,
// counters, replay window) is Rust's; this awaits and places bytes. Awaited in JavaScript, a
// promise costs next to nothing; from wasm it cost 2-3 µs in Chromium and about 10 in Firefox,
// and a WebCrypto frame's steps made from Rust took about 15 calls across the wasm boundary
// (docs/MEASURED.md).
//
// A classic script: the worker's loader imports it before the wasm (media-worker.js); the tests
// evaluate it.
globalThis.shieldcallFrames = (() => {
  const subtle = crypto.subtle;
  const params = { name: 'AES-GCM', iv: null, additionalData: null };
  // Without additional data (GCM's same as an empty one, and a little cheaper): Chromium takes
  // a member set to `undefined` for one given, so this is an object of its own.
  const paramsWithoutAad = { name: 'AES-GCM', iv: null };

  // The parameters of one call. `iv` and `aad` are views of wasm memory, valid only during the
  // call: WebCrypto copies them, and the data, before encrypt/decrypt return ("get a copy of the
  // bytes held by"). `done` clears them, so that no view of wasm memory is kept between frames.
  function gcm(iv, aad) {
    if (aad.length === 0) {
      paramsWithoutAad.iv = iv;
      return paramsWithoutAad;
    }
    params.iv = iv;
    params.additionalData = aad;
    return params;
  }
  function done(promise) {
    params.iv = params.additionalData = paramsWithoutAad.iv = null;
    return promise;
  }

  // `buffer`'s bytes moved `by` bytes on, in a buffer `by` bytes longer (`buffer` is detached).
  // WebCrypto writes only into a buffer of its own: growing it and moving the bytes within costs
  // less than a new buffer and a copy across (at 16 KB in Chromium, 34 µs a frame against 46).
  function grown(buffer, by) {
    const len = buffer.byteLength;
    const out = new Uint8Array(buffer.transfer(len + by));
    out.copyWithin(by, 0, len);
    return out;
  }

  // The plaintext of a call sealed with room (`sealWithRoom`), reused from frame to frame so
  // that its memory is warm: in Chromium a new buffer is fresh memory every frame, which cost
  // about as much as the call itself (docs/MEASURED.md). WebCrypto copies it when called.
  let room = new Uint8Array(0);

  return {
    // Moves every frame of `readable` to `writable`, in order, through `steps` (Rust's
    // FrameSteps): `process(frame)` says true (forward), false (drop) or gives the promise of
    // the frame's WebCrypto call, whose outcome `finish(frame, ok, value)` then judges. Resolves
    // when `readable` ends; if anything fails, cancels `readable` (no frame piles up or passes
    // unjudged) and rejects. Frees `steps` when done.
    async pump(readable, writable, steps) {
      let reader, writer;
      try {
        reader = readable.getReader();
        writer = writable.getWriter();
        for (;;) {
          const { done: ended, value: frame } = await reader.read();
          if (ended) return;
          let forward = steps.process(frame);
          if (forward !== true && forward !== false) {
            let ok = true, value;
            try {
              value = await forward;
            } catch (failure) {
              ok = false;
              value = failure;
            }
            forward = steps.finish(frame, ok, value);
          }
          if (forward === true) await writer.write(frame);
        }
      } catch (failure) {
        reader?.cancel(failure).catch(() => {});
        writer?.abort(failure).catch(() => {});
        throw failure;
      } finally {
        steps.free();
      }
    },

    // `data`: clear prefix || payload. Resolves to clear prefix || header || ciphertext || tag.
    // `header`, `iv` and `aad` are views of wasm memory (see `gcm`); `header` is copied first.
    seal(key, data, prefixLen, header, iv, aad) {
      const frame = new Uint8Array(data);
      const front = new Uint8Array(prefixLen + header.length);
      front.set(frame.subarray(0, prefixLen));
      front.set(header, prefixLen);
      const sealing = done(subtle.encrypt(gcm(iv, aad), key, frame.subarray(prefixLen)));
      return sealing.then((sealed) => {
        const out = grown(sealed, front.length);
        out.set(front);
        return out.buffer;
      });
    },

    // `data`: clear prefix || payload. Resolves to the whole frame, clear prefix || header ||
    // ciphertext || tag, in WebCrypto's own buffer: the call seals `firstBlock || payload`,
    // whose first block comes out as `front` (the clear prefix and the header), and its tag
    // XOR `tagFix` is the frame's (shieldcall_e2ee::sframe::room); an output that does not
    // start with `front` is refused. The five are views of wasm memory (see `gcm`), 16 bytes
    // each but `aad` (0 or 16); `firstBlock` and `tagFix` hold key stream, and the copies made
    // of them here (in `room` and `kept`) are wiped once used (Rust wipes its own). The
    // payload's copy stays in `room` until the next frame's, as it stays in the frame's own
    // buffer.
    sealWithRoom(key, data, prefixLen, front, firstBlock, iv, aad, tagFix) {
      const len = 16 + data.byteLength - prefixLen;
      if (room.length < len) room = new Uint8Array(len + (len >> 2));
      let sealing;
      try {
        room.set(firstBlock);
        room.set(new Uint8Array(data, prefixLen), 16);
        sealing = subtle.encrypt(gcm(iv, aad), key, room.subarray(0, len));
      } finally {
        room.fill(0, 0, 16);
        done();
      }
      // The front and the tag's fix, kept for when the call settles (the views are not).
      const kept = new Uint8Array(32);
      kept.set(front);
      kept.set(tagFix, 16);
      // One reaction for either outcome: a `finally` after it would cost the frame more
      // microtasks before the pump resumes.
      return sealing.then((sealed) => {
        try {
          const out = new Uint8Array(sealed);
          let differs = 0;
          for (let i = 0; i < 16; i++) differs |= out[i] ^ kept[i];
          if (differs !== 0) throw new Error('sealed with room: not the frame');
          const tag = out.length - 16;
          for (let i = 0; i < 16; i++) out[tag + i] ^= kept[16 + i];
          return sealed;
        } finally {
          kept.fill(0);
        }
      }, (failure) => {
        kept.fill(0);
        throw failure;
      });
    },

    // `data`: clear prefix || header || ciphertext || tag. Resolves to clear prefix || payload;
    // rejects with an OperationError when the frame does not authenticate.
    open(key, data, prefixLen, headerLen, iv, aad) {
      const frame = new Uint8Array(data);
      const body = frame.subarray(prefixLen + headerLen);
      const opening = done(subtle.decrypt(gcm(iv, aad), key, body));
      if (prefixLen === 0) return opening;
      const prefix = frame.slice(0, prefixLen);
      return opening.then((plain) => {
        const out = grown(plain, prefixLen);
        out.set(prefix);
        return out.buffer;
      });
    },
  };
})();
