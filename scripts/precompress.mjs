// Brotli and gzip copies of the app's build outputs in dist/ (its wasm, JS and CSS), which the
// relay serves to a browser that accepts them (crates/relay/src/lib.rs): the app's wasm crosses
// the network at a third of its size. config.json is left alone: an operator edits it in place,
// and a compressed copy would go stale. `make dist` runs this after every build (Trunk replaces
// dist/ as a whole, so no copy outlives its file).
//
// node scripts/precompress.mjs [dir]   (default: dist)

import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { brotliCompressSync, constants, gzipSync } from 'node:zlib';

const dir = process.argv[2] ?? 'dist';
const built = /\.(wasm|js|css)$/;
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
  writeFileSync(join(dir, `${name}.br`), br);
  writeFileSync(join(dir, `${name}.gz`), gzipSync(bytes, { level: 9 }));
  before += bytes.length;
  after += br.length;
  console.log(`${name}: ${bytes.length} B, brotli ${br.length} B`);
}
console.log(`precompressed ${dir}: ${before} B -> ${after} B with brotli`);
