#!/usr/bin/env node
// Cargo's runner for the worker's benchmark in Firefox (`make bench-browser`): the test page
// served by wasm-bindgen-test-runner, driven by puppeteer over WebDriver BiDi instead of by
// geckodriver.
//
// Why: wasm-bindgen-test-runner reads its page's output with a classic WebDriver script
// (Marionette's "execute script") every 100 ms, and once one such script has run in the page,
// Firefox ESR 140 runs the page's Worker's wasm 40-300 times slower (the benchmark's bitsliced
// AES-GCM: 349 µs to seal 100 B, against 1.0 µs with no such script; one script a second slows
// it as much as ten). A BiDi `script.evaluate` does not (README, "Firefox's benchmark runner").
//
// Usage, as cargo calls a runner: firefox-bench-runner.mjs <test.wasm> [test args...]. The page
// is the one wasm-bindgen-test-runner serves with NO_HEADLESS set, on a free loopback port. Its
// output is streamed here; the exit status is 0 only if the harness printed "test result: ok".
// WASM_BINDGEN_TEST_TIMEOUT (seconds) bounds the whole run, as it bounds the runner's.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { once } from 'node:events';
import puppeteer from 'puppeteer-core';

const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
const POLL_MS = 250;
const timeoutMs = 1000 * Number(process.env.WASM_BINDGEN_TEST_TIMEOUT ?? 20);

/** The Firefox prefs of `webdriver.json` in the working directory, as the runner reads them. */
function prefs() {
  if (!existsSync('webdriver.json')) return {};
  const caps = JSON.parse(readFileSync('webdriver.json', 'utf8'));
  return caps['moz:firefoxOptions']?.prefs ?? {};
}

async function freePort() {
  const server = createServer().listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

/** Starts wasm-bindgen-test-runner serving the test page; resolves to the page's URL. */
async function serve(args) {
  const address = `127.0.0.1:${await freePort()}`;
  const server = spawn('wasm-bindgen-test-runner', args, {
    env: { ...process.env, NO_HEADLESS: '1', WASM_BINDGEN_TEST_ADDRESS: address },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let said = '';
  const url = await new Promise((resolve, reject) => {
    server.stdout.on('data', (chunk) => {
      said += chunk;
      const found = said.match(/available at (http:\/\/\S+)/);
      if (found) resolve(found[1]);
    });
    server.on('exit', (code) => reject(new Error(`wasm-bindgen-test-runner exited (${code}):\n${said}`)));
  });
  return { server, url };
}

async function run() {
  const { server, url } = await serve(process.argv.slice(2));
  const browser = await puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    extraPrefsFirefox: prefs(),
  });
  const consoleLines = [];
  let output = '';
  try {
    const page = await browser.newPage();
    page.on('console', (message) => consoleLines.push(`${message.type()}: ${message.text()}`));
    await page.goto(url);
    const deadline = Date.now() + timeoutMs;
    while (!output.includes('test result: ')) {
      if (Date.now() > deadline) {
        console.log(`\nfirefox-bench-runner: no test result within ${timeoutMs / 1000} s`);
        break;
      }
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
      const text = await page.evaluate(() => document.getElementById('output')?.textContent ?? '');
      if (text === 'Loading scripts...') continue;
      // The page's first text ("Loading scripts...") is replaced, not appended to.
      const fresh = text.startsWith(output) ? text.slice(output.length) : `\n${text}`;
      process.stdout.write(fresh);
      output = text;
    }
  } finally {
    await browser.close().catch(() => {});
    server.kill();
  }
  const ok = output.includes('test result: ok');
  if (!ok && consoleLines.length) console.log(`console output:\n\t${consoleLines.join('\n\t')}`);
  return ok;
}

run().then(
  (ok) => process.exit(ok ? 0 : 1),
  (err) => {
    console.error(`firefox-bench-runner: ${err.stack ?? err}`);
    process.exit(1);
  },
);
