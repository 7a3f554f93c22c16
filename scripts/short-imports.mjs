// Gives the wasm imports of the app and of its media worker short names, in each wasm and its
// JavaScript glue alike, and writes the app's two files' new integrity hashes into index.html.
// wasm-bindgen names each import after the JavaScript it calls plus 16 hex digits of a hash
// (`__wbg_new_with_byte_offset_and_length_3cd32055a417f095`); the app has about 360 of them,
// and the hashes alone are about 5 KB of its wasm after gzip that no compressor can take out.
// wasm-opt cannot rename them itself: the glue would no longer find them. `make dist` runs this
// after `trunk build`, before scripts/precompress.mjs. Fails, writing nothing, unless every
// import it renames is one key of its glue's imports object, exactly once.
//
// node scripts/short-imports.mjs [dir]   (default: dist)

import { createHash } from 'node:crypto';
import { readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'dist';
const IMPORT_SECTION = 2;
/** Only wasm-bindgen's own names are renamed; a second run finds none and changes nothing. */
const BINDGEN_NAME = /^__wb/;

function fail(why) {
  console.error(`short-imports: ${why}`);
  process.exit(1);
}

/** Write `bytes` to `path` whole or not at all. */
function writeWhole(path, bytes) {
  writeFileSync(`${path}.part`, bytes);
  renameSync(`${path}.part`, path);
}

function readLeb(bytes, at) {
  let value = 0;
  let shift = 0;
  for (;;) {
    const byte = bytes[at++];
    value += (byte & 0x7f) * 2 ** shift;
    shift += 7;
    if (byte < 0x80) return [value, at];
  }
}

function leb(value) {
  const out = [];
  do {
    let byte = value & 0x7f;
    value = Math.floor(value / 128);
    if (value > 0) byte |= 0x80;
    out.push(byte);
  } while (value > 0);
  return Buffer.from(out);
}

/** The n-th short name: a, b, ... Z, aa, ab, ... (a JavaScript identifier, never a keyword). */
function shortName(n) {
  const letters = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ';
  let name = '';
  do {
    name = letters[n % letters.length] + name;
    n = Math.floor(n / letters.length) - 1;
  } while (n >= 0);
  return `$${name}`;
}

/** Skips one import's description (after its kind byte) and returns where the next begins. */
function skipImportDesc(bytes, kind, at) {
  switch (kind) {
    case 0: // function: a type index
      return readLeb(bytes, at)[1];
    case 1: { // table: element type, limits
      const flags = bytes[at + 1];
      at = readLeb(bytes, at + 2)[1];
      return flags & 1 ? readLeb(bytes, at)[1] : at;
    }
    case 2: { // memory: limits
      const flags = bytes[at];
      at = readLeb(bytes, at + 1)[1];
      return flags & 1 ? readLeb(bytes, at)[1] : at;
    }
    case 3: // global: value type, mutability
      return at + 2;
    default:
      return fail(`an import of kind ${kind}, which this script does not know`);
  }
}

/** The wasm with its glue module's imports renamed, and the old name -> new name map. */
function renameImports(wasm, glueModule) {
  const renames = new Map();
  const parts = [wasm.subarray(0, 8)];
  let at = 8;
  while (at < wasm.length) {
    const id = wasm[at];
    const [size, body] = readLeb(wasm, at + 1);
    const end = body + size;
    if (id !== IMPORT_SECTION) {
      parts.push(wasm.subarray(at, end));
      at = end;
      continue;
    }
    const [count, first] = readLeb(wasm, body);
    const entries = [leb(count)];
    let p = first;
    for (let i = 0; i < count; i++) {
      const [moduleLength, moduleAt] = readLeb(wasm, p);
      const module = wasm.subarray(moduleAt, moduleAt + moduleLength).toString();
      const fieldLengthAt = moduleAt + moduleLength;
      const [fieldLength, fieldAt] = readLeb(wasm, fieldLengthAt);
      const field = wasm.subarray(fieldAt, fieldAt + fieldLength).toString();
      const kind = wasm[fieldAt + fieldLength];
      const next = skipImportDesc(wasm, kind, fieldAt + fieldLength + 1);
      let name = field;
      if (module === glueModule && BINDGEN_NAME.test(field)) {
        name = shortName(renames.size);
        renames.set(field, name);
      }
      entries.push(wasm.subarray(p, fieldLengthAt));
      entries.push(leb(Buffer.byteLength(name)), Buffer.from(name));
      entries.push(wasm.subarray(fieldAt + fieldLength, next));
      p = next;
    }
    if (p !== end) fail('the import section ends where its entries do not');
    const section = Buffer.concat(entries);
    parts.push(Buffer.from([IMPORT_SECTION]), leb(section.length), section);
    at = end;
  }
  return [Buffer.concat(parts), renames];
}

function integrity(bytes) {
  return `sha384-${createHash('sha384').update(bytes).digest('base64')}`;
}

/** Sets the integrity attribute of the element in `html` whose href is `href`. */
function setIntegrity(html, href, value) {
  const tag = new RegExp(`(<link[^>]*href="${href.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}"[^>]*integrity=")[^"]*(")`);
  if (!tag.test(html)) fail(`index.html has no integrity for ${href}`);
  return html.replace(tag, (_, before, after) => `${before}${value}${after}`);
}

/** The glue `js` and its `wasm` with their imports renamed, and how many were. */
function shorten(name, js, wasm) {
  const glue = js.match(/return \{\s*__proto__: null,\s*"([^"]+)": import0,\s*\};/);
  if (!glue) fail(`${name} has no imports object of the shape this script knows`);
  const [renamed, renames] = renameImports(wasm, glue[1]);
  for (const [from, to] of renames) {
    const key = new RegExp(`^(\\s+)${from}: function`, 'gm');
    const found = js.match(key)?.length ?? 0;
    if (found !== 1 || js.split(from).length !== 2) {
      fail(`${from} is ${found} keys of ${name}'s imports and appears ${js.split(from).length - 1} times`);
    }
    js = js.replace(key, (_, indent) => `${indent}${to}: function`);
  }
  return { js, wasm: renamed, count: renames.size };
}

function read(file) {
  return { js: readFileSync(join(dir, file.js), 'utf8'), wasm: readFileSync(join(dir, file.wasm)) };
}

const indexPath = join(dir, 'index.html');
let html = readFileSync(indexPath, 'utf8');
const block = html.match(/<script type="application\/json" id="shieldcall-app">([^<]*)<\/script>/);
if (!block) fail('index.html names no app (the shieldcall-app block)');
// The app, whose files index.html preloads with their integrity; and the media worker, whose
// loader (crates/worker/js/media-worker.js) names its files without a hash or an integrity.
const app = JSON.parse(block[1]);
const worker = { js: 'shieldcall-worker.js', wasm: 'shieldcall-worker_bg.wasm' };
const files = [app, worker].map((file) => ({ file, ...shorten(file.js, read(file).js, read(file).wasm) }));

html = setIntegrity(html, app.js, integrity(files[0].js));
html = setIntegrity(html, app.wasm, integrity(files[0].wasm));
for (const { file, js, wasm, count } of files) {
  writeWhole(join(dir, file.wasm), wasm);
  writeWhole(join(dir, file.js), js);
  console.log(`short-imports: ${count} imports renamed in ${file.wasm} and ${file.js}`);
}
writeWhole(indexPath, html);
