// Starts the app without an inline script, so that the page's Content-Security-Policy can say
// `script-src 'self'` and nothing more. Trunk.toml's `pattern_script` leaves the app's hashed
// file names in a JSON block (data: never run); this module, which Trunk loads with its
// integrity hash (index.html), imports them. Trunk's modulepreload and preload links check the
// integrity of the app's JS and wasm.

// The organisation's config.json, read beside the app's wasm rather than after it starts: the
// app takes the text (or why there is none) from here, so that its first page is drawn with the
// policy in hand (src/config.rs, `provide_app_config`).
const config = { text: null, problem: null, ready: null };
config.ready = fetch('/config.json')
  .then((response) => (response.ok ? response.text() : Promise.reject(new Error(`HTTP ${response.status}`))))
  .then((text) => { config.text = text; }, (error) => { config.problem = String(error?.message ?? error); });
window.shieldcallConfig = config;

const app = JSON.parse(document.getElementById('shieldcall-app').textContent);
const bindings = await import(app.js);
const wasm = await bindings.default({ module_or_path: app.wasm });
window.wasmBindings = bindings;
dispatchEvent(new CustomEvent('TrunkApplicationStarted', { detail: { wasm } }));
