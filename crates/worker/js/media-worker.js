// Starts the media worker: the JavaScript half of its frame path, then its wasm-bindgen
// glue (Trunk builds it from crates/worker, index.html), then its wasm.
importScripts('./frames.js', './shieldcall-worker.js');
// A wasm that fails to load or start rejects a promise, which the page would never hear of:
// thrown from a task of its own, it is an `error` event on the page's Worker, and the call says
// it cannot be protected instead of waiting for ever.
wasm_bindgen({ module_or_path: './shieldcall-worker_bg.wasm' }).catch((error) => {
  setTimeout(() => { throw error; });
});
