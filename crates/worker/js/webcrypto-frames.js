// The JavaScript half of the media worker's WebCrypto frames (crates/worker/src/webcrypto.rs).
// Rust makes every SFrame byte (header, nonce, AAD) and keeps the counters and the replay
// window; this only hands them to one WebCrypto call and puts the result after the header and
// clear prefix. One call from wasm per frame: done from Rust, the same steps took about 15 calls
// across the wasm boundary, 6 µs a frame in Chromium (README, "Measured").
//
// A classic script: the worker's loader imports it before the wasm (media-worker.js); the tests
// evaluate it. `header`, `iv` and `aad` are views of wasm memory, valid only during the call:
// WebCrypto copies `iv`, `additionalData` and the data before encrypt/decrypt return ("get a
// copy of the bytes held by"), and `header` is copied here before anything is awaited.
globalThis.shieldcallFrames = (() => {
  const subtle = crypto.subtle;
  const params = { name: 'AES-GCM', iv: null, additionalData: null };

  // The parameters of one call. Cleared after it (by `done`), so that no view of wasm memory
  // is kept between frames.
  function gcm(iv, aad) {
    params.iv = iv;
    params.additionalData = aad;
    return params;
  }
  function done(promise) {
    params.iv = params.additionalData = null;
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

  return {
    // `data`: clear prefix || payload. Resolves to clear prefix || header || ciphertext || tag.
    seal(key, data, prefixLen, header, iv, aad) {
      const frame = new Uint8Array(data);
      const sealing = done(subtle.encrypt(gcm(iv, aad), key, frame.subarray(prefixLen)));
      const front = new Uint8Array(prefixLen + header.length);
      front.set(frame.subarray(0, prefixLen));
      front.set(header, prefixLen);
      return sealing.then((sealed) => {
        const out = grown(sealed, front.length);
        out.set(front);
        return out.buffer;
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
