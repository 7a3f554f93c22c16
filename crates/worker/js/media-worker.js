// Starts the media worker: the JavaScript half of its frame path, then its wasm-bindgen
// glue (Trunk builds it from crates/worker, index.html), then its wasm.
importScripts('./frames.js', './shieldcall-worker.js');
wasm_bindgen({ module_or_path: './shieldcall-worker_bg.wasm' });
