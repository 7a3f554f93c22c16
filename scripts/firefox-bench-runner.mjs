#!/usr/bin/env node
// Cargo's runner for the worker's benchmark in Firefox (`make bench-browser`): the test page
// served by wasm-bindgen-test-runner, driven by puppeteer over WebDriver BiDi instead of by
// geckodriver.
//
// Why: wasm-bindgen-test-runner reads its page's output with a classic WebDriver script
// (Marionette's "execute script") every 100 ms from the page's load, and a script run in the page
// before its Worker compiles wasm leaves that wasm hundreds of times slower in Firefox ESR 140
// (the benchmark's bitsliced AES-GCM: 341-349 µs to seal 100 B, against 0.9 µs). A BiDi
// `script.evaluate` does not (docs/MEASURED.md, "Firefox measured again").
//
// Usage, as cargo calls a runner: firefox-bench-runner.mjs <test.wasm> [test args...]. The page
// is the one wasm-bindgen-test-runner serves with NO_HEADLESS set, on a loopback port it picks.
// Its output is streamed here; the exit status is 0 only if the harness printed "test result:
// ok". WASM_BINDGEN_TEST_TIMEOUT (seconds) bounds the whole run, as it bounds the runner's.
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import puppeteer from 'puppeteer-core';

const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';
const POLL_MS = 250;
const timeoutSeconds = Number(process.env.WASM_BINDGEN_TEST_TIMEOUT);
const deadline = Date.now() + 1000 * (Number.isFinite(timeoutSeconds) ? timeoutSeconds : 20);
/** What the harness's page says when a Worker failed to start or threw outside a test. */
const WORKER_ERROR = '\nWorker error: ';

/** The Firefox prefs of `webdriver.json` in the working directory, as the runner reads them. */
function prefs() {
  if (!existsSync('webdriver.json')) return {};
  const caps = JSON.parse(readFileSync('webdriver.json', 'utf8'));
  return caps['moz:firefoxOptions']?.prefs ?? {};
}

/** The server is stopped however this process ends. */
let server;
process.on('exit', () => server?.kill());
for (const signal of ['SIGINT', 'SIGTERM']) process.on(signal, () => process.exit(1));

/** Starts wasm-bindgen-test-runner serving the test page; resolves to the page's URL. Port 0:
 * the runner binds a free port and prints the address it bound. */
function serve(args) {
  server = spawn('wasm-bindgen-test-runner', args, {
    env: { ...process.env, NO_HEADLESS: '1', WASM_BINDGEN_TEST_ADDRESS: '127.0.0.1:0' },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let said = '';
  return new Promise((resolve, reject) => {
    server.stdout.on('data', (chunk) => {
      said += chunk;
      const found = said.match(/available at (http:\/\/\S+)/);
      if (found) resolve(found[1]);
    });
    server.on('exit', (code) => reject(new Error(`wasm-bindgen-test-runner exited (${code}):\n${said}`)));
    setTimeout(() => reject(new Error('the test page was not served in time')), deadline - Date.now());
  });
}

/** Runs the tests in the page at `url`; resolves to the page's whole output. */
async function runIn(browser, url) {
  const page = await browser.newPage();
  const problems = [];
  page.on('console', (message) => {
    // The tests' own logs are in the page's output already.
    if (message.type() !== 'log') problems.push(`${message.type()}: ${message.text()}`);
  });
  page.on('pageerror', (error) => problems.push(`page error: ${error.message ?? error}`));
  await page.goto(url);
  let output = '';
  while (!output.includes('test result: ') && !output.includes(WORKER_ERROR)) {
    if (Date.now() > deadline) {
      console.log('\nfirefox-bench-runner: no test result in time (WASM_BINDGEN_TEST_TIMEOUT)');
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const text = await page.evaluate(() => document.getElementById('output')?.textContent ?? '');
    if (text === 'Loading scripts...') continue;
    // The page appends to its output; should it ever rewrite it, the whole text is printed again.
    process.stdout.write(text.startsWith(output) ? text.slice(output.length) : `\n${text}`);
    output = text;
  }
  if (!output.includes('test result: ok') && problems.length) {
    console.log(`\nconsole output:\n\t${problems.join('\n\t')}`);
  }
  return output;
}

async function run() {
  const url = await serve(process.argv.slice(2));
  let browser;
  try {
    browser = await puppeteer.launch({
      browser: 'firefox',
      executablePath: FIREFOX,
      headless: true,
      extraPrefsFirefox: prefs(),
    });
    const output = await runIn(browser, url);
    return output.includes('test result: ok');
  } finally {
    await browser?.close().catch(() => {});
  }
}

run().then(
  (ok) => process.exit(ok ? 0 : 1),
  (err) => {
    console.error(`firefox-bench-runner: ${err.stack ?? err}`);
    process.exit(1);
  },
);
