// Starts the app without an inline script, so that the page's Content-Security-Policy can say
// `script-src 'self'` and nothing more. Trunk.toml's `pattern_script` leaves the app's hashed
// file names in a JSON block (data: never run); this module, which Trunk loads with its
// integrity hash (index.html), imports them. Trunk's modulepreload and preload links check the
// integrity of the app's JS and wasm.
const app = JSON.parse(document.getElementById('shieldcall-app').textContent);
const bindings = await import(app.js);
const wasm = await bindings.default({ module_or_path: app.wasm });
window.wasmBindings = bindings;
dispatchEvent(new CustomEvent('TrunkApplicationStarted', { detail: { wasm } }));
