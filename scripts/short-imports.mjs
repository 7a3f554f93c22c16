// Gives the wasm imports of the app and of its media worker short names, in each wasm and its
// JavaScript glue alike, and writes the app's two files' new integrity hashes into index.html.
// wasm-bindgen names each import after the JavaScript it calls plus 16 hex digits of a hash
// (`__wbg_new_with_byte_offset_and_length_3cd32055a417f095`); the app has about 360 of them,
// and the hashes alone are about 5 KB of its wasm after gzip that no compressor can take out.
// wasm-opt cannot rename them itself: the glue would no longer find them. The imports' module
// name gets a hash of the renaming instead (`./shieldcall_bg.js#339cb19bf50d`), so that a glue
// and a wasm of two builds still fail to link rather than bind the wrong functions.
//
// `make dist` runs this after `trunk build`, before scripts/precompress.mjs. It writes nothing
// unless the wasm is valid before and after, every import it renames is one key of its glue's
// imports object exactly once, and every import of the renamed wasm finds its key.
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
    if (at >= bytes.length) fail('the wasm ends inside a number');
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

/** A value or reference type of one byte: not one of the typed references (0x63, 0x64 heaptype). */
function oneByteType(bytes, at) {
  if (bytes[at] === 0x63 || bytes[at] === 0x64) fail('an import of a typed reference, which this script does not know');
  return at + 1;
}

/** Limits (flags, minimum, maximum if flagged), without the 64-bit, shared or page-size flags. */
function skipLimits(bytes, at) {
  const flags = bytes[at];
  if (flags > 1) fail(`an import with limits flagged ${flags}, which this script does not know`);
  at = readLeb(bytes, at + 1)[1];
  return flags & 1 ? readLeb(bytes, at)[1] : at;
}

/** Skips one import's description (after its kind byte) and returns where the next begins. */
function skipImportDesc(bytes, kind, at) {
  switch (kind) {
    case 0: // function: a type index
      return readLeb(bytes, at)[1];
    case 1: // table: element type, limits
      return skipLimits(bytes, oneByteType(bytes, at));
    case 2: // memory: limits
      return skipLimits(bytes, at);
    case 3: // global: value type, mutability
      return oneByteType(bytes, at) + 1;
    default:
      return fail(`an import of kind ${kind}, which this script does not know`);
  }
}

/**
 * The wasm with its glue module's imports renamed, the module's new name, and the old name ->
 * new name map. The module's new name carries a hash of the map: a glue and a wasm from two
 * builds (a deploy between the worker's two fetches, a file name Trunk hashed before wasm-opt
 * ran) then fail to link, as wasm-bindgen's hashed names made them, instead of binding an import
 * to another's function.
 */
function renameImports(wasm, glueModule) {
  const renames = new Map();
  const sections = [];
  let imports = null;
  let at = 8;
  while (at < wasm.length) {
    const id = wasm[at];
    const [size, body] = readLeb(wasm, at + 1);
    const end = body + size;
    if (end > wasm.length) fail('a section runs past the end of the wasm');
    if (id === IMPORT_SECTION) {
      imports = [];
      const [count, first] = readLeb(wasm, body);
      let p = first;
      for (let i = 0; i < count; i++) {
        const [moduleLength, moduleAt] = readLeb(wasm, p);
        const module = wasm.subarray(moduleAt, moduleAt + moduleLength).toString();
        const [fieldLength, fieldAt] = readLeb(wasm, moduleAt + moduleLength);
        const field = wasm.subarray(fieldAt, fieldAt + fieldLength).toString();
        const kind = wasm[fieldAt + fieldLength];
        const next = skipImportDesc(wasm, kind, fieldAt + fieldLength + 1);
        if (module === glueModule && BINDGEN_NAME.test(field) && !renames.has(field)) {
          renames.set(field, shortName(renames.size));
        }
        imports.push({ module, field, desc: wasm.subarray(fieldAt + fieldLength, next) });
        p = next;
      }
      if (p !== end) fail('the import section ends where its entries do not');
      sections.push(null);
    } else {
      sections.push(wasm.subarray(at, end));
    }
    at = end;
  }
  if (renames.size === 0) return [wasm, glueModule, renames];

  const tag = createHash('sha256').update([...renames.keys()].join('\n')).digest('hex').slice(0, 12);
  const tagged = `${glueModule}#${tag}`;
  const name = (text) => [leb(Buffer.byteLength(text)), Buffer.from(text)];
  const entries = [leb(imports.length)];
  for (const { module, field, desc } of imports) {
    const renamed = module === glueModule && renames.has(field);
    entries.push(...name(renamed ? tagged : module), ...name(renamed ? renames.get(field) : field), desc);
  }
  const section = Buffer.concat(entries);
  const parts = [wasm.subarray(0, 8)];
  for (const part of sections) {
    parts.push(part ?? Buffer.concat([Buffer.from([IMPORT_SECTION]), leb(section.length), section]));
  }
  return [Buffer.concat(parts), tagged, renames];
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
  if (!WebAssembly.validate(wasm)) fail(`the wasm beside ${name} is not a valid module`);
  const glue = js.match(/return \{\s*__proto__: null,\s*"([^"]+)": import0,\s*\};/);
  if (!glue) fail(`${name} has no imports object of the shape this script knows`);
  const [renamed, module, renames] = renameImports(wasm, glue[1]);
  const once = (text) => js.split(text).length === 2;
  for (const [from, to] of renames) {
    const key = new RegExp(`^(\\s+)${from}: function`, 'gm');
    const found = js.match(key)?.length ?? 0;
    if (found !== 1 || !once(from)) {
      fail(`${from} is ${found} keys of ${name}'s imports and appears ${js.split(from).length - 1} times`);
    }
    js = js.replace(key, (_, indent) => `${indent}${to}: function`);
  }
  if (!once(`"${glue[1]}"`)) fail(`${name} names its imports' module more than once`);
  js = js.replace(`"${glue[1]}": import0`, () => `"${module}": import0`);

  // What the browser will check when it links the two: every import of the glue's module is
  // one key of its imports object.
  if (!WebAssembly.validate(renamed)) fail(`the wasm beside ${name} is not a valid module once renamed`);
  for (const wanted of WebAssembly.Module.imports(new WebAssembly.Module(renamed))) {
    if (wanted.module !== module) continue;
    const keys = js.match(new RegExp(`^\\s+${wanted.name.replace(/\$/g, '\\$')}: function`, 'gm'));
    if (keys?.length !== 1) fail(`${name}'s renamed wasm imports ${wanted.name}, which its glue has not once`);
  }
  return { js, wasm: renamed, count: renames.size };
}

const indexPath = join(dir, 'index.html');
let html = readFileSync(indexPath, 'utf8');
const block = html.match(/<script type="application\/json" id="shieldcall-app">([^<]*)<\/script>/);
if (!block) fail('index.html names no app (the shieldcall-app block)');
// The app, whose files index.html preloads with their integrity; and the media worker, whose
// loader (crates/worker/js/media-worker.js) names its files without a hash or an integrity.
const app = JSON.parse(block[1]);
const worker = { js: 'shieldcall-worker.js', wasm: 'shieldcall-worker_bg.wasm' };
const files = [app, worker].map((file) => {
  const js = readFileSync(join(dir, file.js), 'utf8');
  return { file, ...shorten(file.js, js, readFileSync(join(dir, file.wasm))) };
});

html = setIntegrity(html, app.js, integrity(files[0].js));
html = setIntegrity(html, app.wasm, integrity(files[0].wasm));
for (const { file, js, wasm, count } of files) {
  writeWhole(join(dir, file.wasm), wasm);
  writeWhole(join(dir, file.js), js);
  console.log(`short-imports: ${count} imports renamed in ${file.wasm} and ${file.js}`);
}
writeWhole(indexPath, html);
