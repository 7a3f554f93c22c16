// Brotli and gzip copies of the app's build outputs in dist/ (its wasm, JS and CSS), which the
// relay serves to a browser that accepts them (crates/relay/src/lib.rs): the app's wasm crosses
// the network at a third of its size. config.json is left alone: an operator edits it in place,
// and a compressed copy would go stale. `make dist` runs this after every build: a copy whose
// file is gone is removed, every other one written again (each under another name, then
// renamed, so that an interrupted run leaves no half-written copy). Deploy dist/ as a whole:
// copying a new build over an old dist/ without this run would leave the relay sending the old
// copies of the files whose names carry no hash (the worker's).
//
// node scripts/precompress.mjs [dir]   (default: dist)

import { existsSync, readFileSync, readdirSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dir = process.argv[2] ?? 'dist';
const built = /\.(wasm|js|css)$/;
const copy = /\.(br|gz)$/;

for (const name of readdirSync(dir).filter((n) => copy.test(n))) {
  const file = join(dir, name.replace(copy, ''));
  if (!existsSync(file)) unlinkSync(join(dir, name));
}

/** Write `bytes` to `path` whole or not at all. */
function writeWhole(path, bytes) {
  writeFileSync(`${path}.part`, bytes);
  renameSync(`${path}.part`, path);
}

let before = 0;
let after = 0;
for (const name of readdirSync(dir).filter((n) => built.test(n))) {
  const bytes = readFileSync(join(dir, name));
  const br = brotliCompressSync(bytes, {
    params: {
      [constants.BROTLI_PARAM_QUALITY]: constants.BROTLI_MAX_QUALITY,
      [constants.BROTLI_PARAM_SIZE_HINT]: bytes.length,
      [constants.BROTLI_PARAM_MODE]: name.endsWith('.wasm') ? constants.BROTLI_MODE_GENERIC : constants.BROTLI_MODE_TEXT,
    },
  });
  writeWhole(join(dir, `${name}.br`), br);
  writeWhole(join(dir, `${name}.gz`), gzipSync(bytes, { level: 9 }));
  before += bytes.length;
  after += br.length;
  console.log(`${name}: ${bytes.length} B, brotli ${br.length} B`);
}
console.log(`precompressed ${dir}: ${before} B -> ${after} B with brotli`);
