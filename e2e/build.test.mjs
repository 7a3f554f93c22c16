// The release build as `make dist` leaves it, without a browser: each wasm links against its own
// glue after scripts/short-imports.mjs renamed their imports, and the page's integrity hashes
// are those of the files served. (Every other file here loads the same build in browsers.)

import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';
import vm from 'node:vm';
import { DIST } from './harness.mjs';

const html = readFileSync(join(DIST, 'index.html'), 'utf8');
const app = JSON.parse(html.match(/id="shieldcall-app">([^<]*)</)[1]);

/** The imports object of the app's glue (an ES module), through a copy that exports it. */
async function appImports() {
  const dir = mkdtempSync(join(tmpdir(), 'shieldcall-glue-'));
  try {
    const copy = join(dir, 'glue.mjs');
    writeFileSync(copy, `${readFileSync(join(DIST, app.js), 'utf8')}\nexport { __wbg_get_imports };\n`);
    return (await import(pathToFileURL(copy))).__wbg_get_imports();
  } finally {
    rmSync(dir, { recursive: true });
  }
}

/** The imports object of the worker's glue (a classic script that defines `wasm_bindgen`). */
function workerImports() {
  const glue = readFileSync(join(DIST, 'shieldcall-worker.js'), 'utf8');
  const scope = { self: {}, TextDecoder, TextEncoder, FinalizationRegistry, WebAssembly, URL };
  scope.globalThis = scope;
  vm.createContext(scope);
  vm.runInContext(glue.replace('function __wbg_get_imports() {',
    'globalThis.imports = __wbg_get_imports; function __wbg_get_imports() {'), scope);
  return scope.imports();
}

function assertLinks(wasmFile, imports) {
  const module = new WebAssembly.Module(readFileSync(join(DIST, wasmFile)));
  const wanted = WebAssembly.Module.imports(module);
  const modules = new Set(wanted.map((i) => i.module));
  assert.equal(modules.size, 1, `${wasmFile} imports from one glue module: ${[...modules]}`);
  const [name] = modules;
  assert.match(name, /_bg\.js#[0-9a-f]{12}$/, 'the module name carries the renaming\'s hash');
  for (const { name: field } of wanted) {
    assert.match(field, /^\$[a-zA-Z]+$/, `${field} is a short name`);
    assert.equal(typeof imports[name]?.[field], 'function', `the glue has ${field}`);
  }
  assert.deepEqual(Object.keys(imports), [name], 'the glue offers no other module');
  assert.equal(Object.keys(imports[name]).length, new Set(wanted.map((i) => i.name)).size,
    'the glue has no import the wasm does not ask for');
  // Linking, as the browser does before the app starts (the wasm has no start function).
  new WebAssembly.Instance(module, imports);
}

describe('the release build', () => {
  test("the app's wasm links against its glue, under short names", async () => {
    assertLinks(app.wasm, await appImports());
  });

  test("the media worker's wasm links against its glue, under short names", () => {
    assertLinks('shieldcall-worker_bg.wasm', workerImports());
  });

  test("the page's integrity hashes are those of the app's files", () => {
    for (const file of [app.js, app.wasm]) {
      const escaped = file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
      const [, integrity] = html.match(new RegExp(`href="${escaped}"[^>]*integrity="([^"]+)"`));
      const digest = createHash('sha384').update(readFileSync(join(DIST, file))).digest('base64');
      assert.equal(integrity, `sha384-${digest}`, file);
    }
  });
});
