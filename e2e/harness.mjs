// What every end-to-end test needs: a real relay process serving the built app, and real
// browsers (one per person): Chromium driven by Playwright, Firefox ESR by puppeteer-core over
// WebDriver BiDi (Playwright drives only its own patched Firefox builds). No mocks.

import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createSocket } from 'node:dgram';
import {
  mkdtempSync, readFileSync, readdirSync, rmSync, symlinkSync, writeFileSync,
} from 'node:fs';
import { createRequire } from 'node:module';
import { once } from 'node:events';
import { tmpdir } from 'node:os';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';
import puppeteer from 'puppeteer-core';

const root = new URL('..', import.meta.url).pathname;
export const RELAY_BIN = process.env.SHIELDCALL_RELAY_BIN ?? join(root, 'target/release/shieldcall-relay');
/** The relay with the test-only man-in-the-middle modes (`make relay-bin` builds both). */
export const MITM_RELAY_BIN = process.env.SHIELDCALL_MITM_RELAY_BIN
  ?? join(root, 'target/release/shieldcall-relay-mitm');
export const DIST = process.env.SHIELDCALL_DIST ?? join(root, 'dist');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';
const FIREFOX = process.env.FIREFOX ?? '/usr/bin/firefox-esr';

/** Start the relay on a free loopback port, serving the built app; resolves to its base URL.
 * With a `--mitm-*` flag (`--mitm-swap-keys`, `--mitm-replay` and the others of the relay
 * README's list) it is the test-only `shieldcall-relay-mitm`, the shipped relay has none. */
export async function startRelay(extraArgs = [], listen = '127.0.0.1:0', { dist = DIST } = {}) {
  const bin = extraArgs.some((arg) => arg.startsWith('--mitm-')) ? MITM_RELAY_BIN : RELAY_BIN;
  const child = spawn(bin, ['--listen', listen, '--dist', dist, ...extraArgs], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.on('data', (chunk) => { stderr += chunk; });
  const lines = createInterface({ input: child.stdout });
  const [line] = await Promise.race([
    once(lines, 'line'),
    once(child, 'exit').then(([code]) => { throw new Error(`relay exited (${code}): ${stderr}`); }),
  ]);
  const match = /listening on (http:\/\/\S+)/.exec(line);
  if (!match) throw new Error(`unexpected relay output: ${line}`);
  return {
    url: match[1],
    logs: () => stderr,
    /** Stop the relay (again: a no-op). */
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
    /** Kill the relay outright (SIGKILL): no closing handshakes, no goodbyes to its cluster. */
    async kill() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGKILL');
      await once(child, 'exit');
    },
  };
}

/** A real Redis (Debian's `redis-server`) on a free loopback port (or on `port`, to start one
 * again where it was), nothing saved to disk, for a relay cluster (`--cluster`). `url` is its
 * `redis://` URL. */
export async function startRedis(port) {
  port ??= await freePort();
  const child = spawn('redis-server', [
    '--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stdout.on('data', (chunk) => { logs += chunk; });
  child.stderr.on('data', (chunk) => { logs += chunk; });
  const [spawnError] = await Promise.race([once(child, 'spawn').then(() => []), once(child, 'error')]);
  if (spawnError) throw new Error(`redis-server cannot start (run scripts/setup.sh): ${spawnError.message}`);
  for (let i = 0; !/Ready to accept connections/.test(logs); i++) {
    if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode}): ${logs}`);
    if (i >= 100) throw new Error(`redis-server did not start: ${logs}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGTERM');
      await once(child, 'exit');
    },
  };
}

/** A TCP proxy that sends each new connection to the first of `targetUrls` that accepts it:
 * what a load balancer in front of relay nodes does when one of them dies. */
export async function startFailoverProxy(targetUrls) {
  const targets = targetUrls.map((url) => new URL(url));
  const open = new Set();
  const server = createServer((client) => {
    open.add(client);
    client.on('close', () => open.delete(client));
    client.on('error', () => {});
    client.pause();
    const tryTarget = (i) => {
      if (i >= targets.length) { client.destroy(); return; }
      const upstream = createConnection(Number(targets[i].port), targets[i].hostname);
      upstream.once('error', () => { upstream.destroy(); tryTarget(i + 1); });
      upstream.once('connect', () => {
        upstream.on('error', () => client.destroy());
        upstream.on('close', () => client.destroy());
        client.on('close', () => upstream.destroy());
        client.pipe(upstream);
        upstream.pipe(client);
        client.resume();
      });
    };
    tryTarget(0);
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    async stop() {
      for (const client of open) client.destroy();
      server.close();
    },
  };
}

/** The built app with its own `config.json` (the object `config`): a temporary directory of
 * links to everything else in `dist/`, for `startRelay(..., { dist })`. `remove()` deletes it. */
export function distWithConfig(config) {
  const dir = mkdtempSync(join(tmpdir(), 'shieldcall-dist-'));
  for (const name of readdirSync(DIST)) {
    if (name !== 'config.json') symlinkSync(join(DIST, name), join(dir, name));
  }
  writeFileSync(join(dir, 'config.json'), JSON.stringify(config));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A file holding `text` (a secret for `--turn-secret-file`), readable by this user only;
 * `remove()` deletes it. */
export function secretFile(text) {
  const dir = mkdtempSync(join(tmpdir(), 'shieldcall-secret-'));
  const path = join(dir, 'turn-secret');
  writeFileSync(path, `${text}\n`, { mode: 0o600 });
  return { path, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A free port on loopback (free a moment ago: bind it soon). */
async function freePort() {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address();
  server.close();
  return port;
}

/** Whether a STUN Binding request to `port` on loopback is answered within `ms`. */
async function stunAnswers(port, ms) {
  const socket = createSocket('udp4');
  // Binding request: type 0x0001, length 0, the magic cookie, a 12-byte transaction id.
  const request = Buffer.concat([Buffer.from([0, 1, 0, 0, 0x21, 0x12, 0xa4, 0x42]), randomBytes(12)]);
  try {
    socket.send(request, port, '127.0.0.1');
    return await Promise.race([
      once(socket, 'message').then(([reply]) => reply.readUInt16BE(0) === 0x0101),
      new Promise((resolve) => { setTimeout(() => resolve(false), ms); }),
    ]);
  } finally {
    socket.close();
  }
}

/** Start a real coturn (Debian's `turnserver`) on a free loopback port, with the TURN REST API
 * (`use-auth-secret`) and `secret` shared with the relay; UDP only, no TLS, no CLI, no config
 * file, loopback peers allowed (both browsers are on this machine). Resolves once it answers
 * STUN. `url` is its `turn:` URL, `logs()` what it printed. */
export async function startTurn(secret) {
  const port = await freePort();
  // Relay addresses from a range of their own, away from other tests' ports.
  const minPort = 50000 + 200 * Math.floor(Math.random() * 70);
  const child = spawn('turnserver', [
    '-n', '--use-auth-secret', `--static-auth-secret=${secret}`, '--realm=shieldcall',
    '--listening-ip=127.0.0.1', '--relay-ip=127.0.0.1', `--listening-port=${port}`,
    `--min-port=${minPort}`, `--max-port=${minPort + 199}`, '--allow-loopback-peers',
    '--no-cli', '--no-tls', '--no-dtls', '--no-tcp-relay', '--log-file=stdout', '--simple-log', '-v',
    '--pidfile=',
  ], { stdio: ['ignore', 'pipe', 'pipe'] });
  let logs = '';
  child.stdout.on('data', (chunk) => { logs += chunk; });
  child.stderr.on('data', (chunk) => { logs += chunk; });
  const exited = once(child, 'exit');
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    child.kill('SIGTERM');
    await exited;
  };
  for (let i = 0; ; i++) {
    if (child.exitCode !== null) throw new Error(`turnserver exited (${child.exitCode}): ${logs}`);
    if (await stunAnswers(port, 100)) break;
    if (i >= 50) {
      await stop();
      throw new Error(`turnserver did not answer STUN on port ${port}: ${logs}`);
    }
  }
  return { url: `turn:127.0.0.1:${port}?transport=udp`, logs: () => logs, stop };
}

/** A TCP proxy in front of the relay whose browser-side connections can be cut while the relay
 * side stays open and silent: what a dropped Wi-Fi looks like to the relay (a half-open socket it
 * only finds dead at its next missed ping, 50 s on). Pages load through it too. */
export async function startCuttableProxy(targetUrl) {
  const target = new URL(targetUrl);
  const links = new Set();
  const server = createServer((client) => {
    const upstream = createConnection(Number(target.port), target.hostname);
    const link = { client, upstream, cut: false };
    links.add(link);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => {});
    upstream.on('error', () => {});
    client.on('close', () => {
      links.delete(link);
      if (!link.cut) upstream.destroy();
    });
    upstream.on('close', () => client.destroy());
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const held = [];
  return {
    url: `http://127.0.0.1:${server.address().port}`,
    /** Drop every browser-side connection; the relay keeps its sockets, and hears nothing. */
    cut() {
      for (const link of links) {
        link.cut = true;
        link.upstream.unpipe(link.client);
        link.client.unpipe(link.upstream);
        link.client.destroy();
        held.push(link.upstream);
      }
    },
    async stop() {
      for (const socket of held) socket.destroy();
      for (const link of links) link.client.destroy();
      server.close();
    },
  };
}

/** Launch headless Chromium. A browser that dies while starting (CI saw one SIGSEGV within
 * 200 ms of launch, before any page existed) is started again, at most twice, and the retry is
 * logged; a failure once a page is open is never retried, since that is what the tests are for. */
async function launchChromium(args, attempts = 3) {
  for (let attempt = 1; ; attempt++) {
    try {
      return await chromium.launch({ executablePath: CHROMIUM, headless: true, args });
    } catch (error) {
      if (attempt >= attempts) throw error;
      process.stderr.write(`Chromium failed to start (attempt ${attempt}), starting it again: `
        + `${String(error.message).split('\n')[0]}\n`);
    }
  }
}

/** Every browser launched and not yet closed, so that a failing `close()` leaves none behind. */
const browsers = new Set();

/** Chromium reports what the page's Content-Security-Policy refused on the console. */
const CSP_VIOLATION = /Content Security Policy|securitypolicyviolation/i;

/** One person: their own browser with a fresh profile and a fake camera and microphone, or,
 * with `{ deniedDevices: true }`, one that refuses both. Chromium unless
 * `{ browser: 'firefox' }`; the page of either offers the same few Playwright calls the helpers
 * below use. `close()` fails the test if the page broke its Content-Security-Policy. */
export async function person(name, { deniedDevices = false, browser: kind = 'chromium' } = {}) {
  if (kind === 'firefox') return firefoxPerson(name, { deniedDevices });
  const browser = await launchChromium([
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-device-for-media-stream',
    ...(deniedDevices ? ['--deny-permission-prompts'] : ['--use-fake-ui-for-media-stream']),
    '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
  ]);
  const context = await browser.newContext({
    permissions: deniedDevices ? [] : ['camera', 'microphone', 'clipboard-read', 'clipboard-write'],
  });
  browsers.add(browser);
  // Also for violations that log nothing (a report only), and inside the page's workers.
  await context.addInitScript(() => {
    addEventListener('securitypolicyviolation', (event) => {
      console.error(`securitypolicyviolation: ${event.effectiveDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber} ${event.sample}`);
    });
  });
  const page = await context.newPage();
  const console = [];
  const violations = [];
  page.on('console', (message) => {
    console.push(`${name}: ${message.text()}`);
    if (CSP_VIOLATION.test(message.text())) violations.push(message.text());
  });
  page.on('pageerror', (error) => console.push(`${name} error: ${error.message}`));
  return {
    name,
    browser: 'chromium',
    page,
    console,
    violations,
    async close() {
      browsers.delete(browser);
      await browser.close();
      if (violations.length > 0) {
        // The test fails here; close the other browsers first, or the test process never ends.
        await Promise.allSettled([...browsers].map((other) => other.close()));
        browsers.clear();
        throw new Error(`${name}'s page broke its Content-Security-Policy:\n${violations.join('\n')}`);
      }
    },
  };
}

/** What Firefox needs here (BROWSER-FACTS.md, measured): a fake camera and microphone with no
 * prompt, and ICE on loopback with real host addresses (no mDNS names). */
const FIREFOX_PREFS = {
  'media.navigator.streams.fake': true,
  'media.peerconnection.ice.loopback': true,
  'media.peerconnection.ice.obfuscate_host_addresses': false,
  'media.autoplay.default': 0,
};
/** Prompts answered "block" for good: getUserMedia fails with NotAllowedError. */
const FIREFOX_DENIED = {
  'media.navigator.permission.disabled': false,
  'permissions.default.camera': 2,
  'permissions.default.microphone': 2,
};

/** A virtual X display (Debian's xvfb) for every Firefox of this test process. Firefox has no
 * fake screen: `getDisplayMedia` looks for a real one through `$DISPLAY` and, headless with
 * none, fails with NotFoundError whatever the prefs (BROWSER-FACTS.md). With Xvfb it captures
 * that screen, so screen sharing from Firefox is tested for real. Started at the first Firefox,
 * stopped when the process exits. */
let display;
async function xDisplay() {
  // Xvfb picks a free display itself and writes its number to stdout (-displayfd): two test
  // files starting their first Firefox at once never pick the same one.
  display ??= (async () => {
    const server = spawn('Xvfb', ['-displayfd', '1', '-screen', '0', '1280x720x24', '-nolisten', 'tcp'], {
      stdio: ['ignore', 'pipe', 'ignore'],
    });
    const picked = await new Promise((resolve) => {
      let text = '';
      server.stdout.on('data', (chunk) => {
        text += chunk;
        if (text.includes('\n')) resolve(text.trim());
      });
      server.once('exit', () => resolve(null));
      server.once('error', () => resolve(null));
    });
    if (!picked || !/^\d+$/.test(picked)) {
      server.kill();
      throw new Error('no virtual display: is xvfb installed (scripts/setup.sh installs it)?');
    }
    // It writes the number once; an open pipe would keep this process alive.
    server.stdout.destroy();
    server.unref();
    process.on('exit', () => server.kill());
    return `:${picked}`;
  })();
  return display;
}

async function launchFirefox(deniedDevices) {
  return puppeteer.launch({
    browser: 'firefox',
    executablePath: FIREFOX,
    headless: true,
    env: { ...process.env, DISPLAY: await xDisplay() },
    extraPrefsFirefox: {
      ...FIREFOX_PREFS,
      ...(deniedDevices ? FIREFOX_DENIED : { 'media.navigator.permission.disabled': true }),
    },
  });
}

/** A puppeteer page with the Playwright calls the tests use, waiting for an element first
 * (visible, as Playwright's default) the way Playwright does. Waiting polls `evaluate` from
 * here: puppeteer's own waiting helpers build functions inside the page, which the app's CSP
 * (no 'unsafe-eval') refuses and reports as a violation over BiDi, where nothing can bypass it. */
class FirefoxPage {
  constructor(page) {
    this.inner = page;
    this.keyboard = page.keyboard;
  }
  goto(url) { return this.inner.goto(url); }
  reload() { return this.inner.reload(); }
  url() { return this.inner.url(); }
  evaluate(fn, arg) { return this.inner.evaluate(fn, arg); }
  waitForTimeout(ms) { return new Promise((resolve) => { setTimeout(resolve, ms); }); }
  async waitForFunction(fn, arg, { timeout = 30000 } = {}) {
    const deadline = Date.now() + timeout;
    for (;;) {
      const value = await this.inner.evaluate(fn, arg).catch(() => false);
      if (value) return value;
      if (Date.now() > deadline) throw new Error(`timed out after ${timeout} ms waiting for ${fn}`);
      await this.waitForTimeout(100);
    }
  }
  async waitForSelector(selector, { timeout = 30000 } = {}) {
    await this.waitForFunction((s) => {
      const element = document.querySelector(s);
      if (!element) return false;
      const box = element.getBoundingClientRect();
      return box.width > 0 && box.height > 0 && getComputedStyle(element).visibility !== 'hidden';
    }, selector, { timeout }).catch((error) => {
      throw new Error(`waiting for ${selector}: ${error.message}`);
    });
  }
  async click(selector, options) {
    await this.waitForSelector(selector, options);
    // Playwright clicks once the element has stopped moving; puppeteer where it is now. Wait
    // (up to a second) for two reads of its box 50 ms apart to agree.
    const box = () => this.inner.evaluate((s) => {
      const r = document.querySelector(s)?.getBoundingClientRect();
      return r ? `${r.x},${r.y},${r.width},${r.height}` : '';
    }, selector);
    let last = await box();
    for (const stopAt = Date.now() + 1000; Date.now() < stopAt;) {
      await this.waitForTimeout(50);
      const now = await box();
      if (now === last) break;
      last = now;
    }
    await this.inner.click(selector);
  }
  async fill(selector, value) {
    await this.waitForSelector(selector);
    await this.inner.evaluate((s) => {
      const element = document.querySelector(s);
      element.focus();
      element.select();
    }, selector);
    await this.inner.keyboard.type(value);
  }
  async textContent(selector, options) {
    await this.waitForSelector(selector, options);
    return this.inner.evaluate((s) => document.querySelector(s).textContent, selector);
  }
  async getAttribute(selector, name) {
    await this.waitForFunction((s) => document.querySelector(s) !== null, selector);
    return this.inner.evaluate(({ s, a }) => document.querySelector(s).getAttribute(a), { s: selector, a: name });
  }
  async isDisabled(selector) {
    await this.waitForFunction((s) => document.querySelector(s) !== null, selector);
    return this.inner.evaluate((s) => document.querySelector(s).disabled, selector);
  }
}

async function firefoxPerson(name, { deniedDevices }) {
  const browser = await launchFirefox(deniedDevices);
  const closeable = { close: () => browser.close() };
  browsers.add(closeable);
  const page = await browser.newPage();
  await page.evaluateOnNewDocument(() => {
    addEventListener('securitypolicyviolation', (event) => {
      console.error(`securitypolicyviolation: ${event.effectiveDirective} ${event.blockedURI} ${event.sourceFile}:${event.lineNumber} ${event.sample}`);
    });
  });
  const console = [];
  const violations = [];
  page.on('console', (message) => {
    console.push(`${name}: ${message.text()}`);
    if (CSP_VIOLATION.test(message.text())) violations.push(message.text());
  });
  page.on('pageerror', (error) => console.push(`${name} error: ${error.message}`));
  return {
    name,
    browser: 'firefox',
    page: new FirefoxPage(page),
    console,
    violations,
    async close() {
      browsers.delete(closeable);
      await browser.close();
      if (violations.length > 0) {
        await Promise.allSettled([...browsers].map((other) => other.close()));
        browsers.clear();
        throw new Error(`${name}'s page broke its Content-Security-Policy:\n${violations.join('\n')}`);
      }
    },
  };
}

/** Run `body` with a host and a guest, each in their own browser (Chromium unless
 * `browsers` says otherwise, e.g. `{ host: 'firefox' }`), both closed afterwards whatever
 * happens. */
export async function withHostAndGuest(body, browsers = {}) {
  const host = await person('host', { browser: browsers.host });
  const guest = await person('guest', { browser: browsers.guest });
  try {
    return await body(host, guest);
  } finally {
    await host.close();
    await guest.close();
  }
}

/** Wait until the pre-join screen (host and guest see it before the call) shows what the
 * browser answered for the camera and microphone, as a person would before pressing Join. */
export async function readyToJoin(who) {
  await who.page.waitForSelector('[data-prejoin] [data-action=join]');
  await who.page.waitForFunction(() => {
    const state = document.querySelector('[data-preview-state]');
    return state && !state.textContent.includes('Starting');
  });
}

/** Press Join on the pre-join screen and wait for the call screen. */
export async function pressJoin(who) {
  await readyToJoin(who);
  await who.page.click('[data-action=join]');
  await who.page.waitForSelector('[data-call-status]');
}

/** Open a call link and join from the pre-join screen. */
export async function joinCall(who, link) {
  await who.page.goto(link);
  await pressJoin(who);
}

/** The host makes a call, the guest joins it, and both shields come to `state`; resolves to
 * the link. */
export async function callBetween(host, guest, baseUrl, state = 'locked') {
  const link = await hostNewCall(host, baseUrl);
  await joinCall(guest, link);
  await Promise.all([waitForShield(host, state), waitForShield(guest, state)]);
  return link;
}

/** Open the More menu (the call's features) and press `feature`. */
export async function pickFeature(who, feature) {
  await who.page.click('[data-action=features]');
  await who.page.click(`[data-feature=${feature}]`);
}

/** Park the call from `who`'s page; resolves to the pickup code and link it shows. */
export async function parkCall(who) {
  await pickFeature(who, 'park');
  await who.page.waitForSelector('[data-parked]', { timeout: 10000 });
  const code = (await who.page.textContent('[data-pickup-code]')).trim();
  const url = await who.page.inputValue('[data-pickup-url]');
  return { code, url };
}

/** Type `code` under "Pick up a parked call" on `baseUrl`'s home page and press Pick up. */
export async function typePickupCode(who, baseUrl, code) {
  await who.page.goto(`${baseUrl}/`);
  await who.page.fill('[data-pickup-input]', code);
  await who.page.click('[data-action=pick-up]');
}

/** `picker`, on the pre-join screen of `held`'s parked call, joins it: `held` is told it was
 * picked up, both shields say transport-only, and video flows both ways. */
export async function picksUp(picker, held) {
  await pressJoin(picker);
  await told(held, 'The parked call was picked up.');
  await Promise.all([waitForShield(picker, 'unlocked'), waitForShield(held, 'unlocked')]);
  await waitForRemoteFrames(picker, 20);
  await framesKeepComing(held, 20);
}

/** The host makes a call link on the home page and joins (through the pre-join screen);
 * resolves to the link. */
export async function hostNewCall(host, baseUrl) {
  await host.page.goto(`${baseUrl}/`);
  await host.page.click('[data-action=new-call]');
  const link = (await host.page.textContent('[data-call-link]')).trim();
  await host.page.click('[data-action=join-call]');
  await pressJoin(host);
  await host.page.waitForSelector('[data-shield]');
  return link;
}

/** Turn the "End-to-end encrypted calls" setting on or off (on the settings page). */
export async function setE2ee(who, baseUrl, on) {
  await who.page.goto(`${baseUrl}/settings`);
  const toggle = 'input[data-setting=e2ee]';
  await who.page.waitForSelector(toggle);
  const checked = await who.page.evaluate((s) => document.querySelector(s).checked, toggle);
  if (checked !== on) await who.page.click(toggle);
}

export async function shield(who) {
  return who.page.getAttribute('[data-shield]', 'data-shield');
}

/** What the shield says to a screen reader: its state and the reason. */
export async function shieldLabel(who) {
  return who.page.getAttribute('[data-shield]', 'aria-label');
}

export async function waitForShield(who, state, timeout = 20000) {
  await who.page.waitForSelector(`[data-shield="${state}"]`, { timeout });
}

/** Open the shield and read the security code as shown (digits and spaces). */
export async function securityCode(who, clicks = 3) {
  // A click can miss on a busy machine: puppeteer (Firefox) clicks where the shield was a
  // moment before. A person clicks again; so does this, at most `clicks` times, says so when
  // it had to, and says what the shield showed if the code never opened. Only waits that ran
  // out are retried: any other error is the test's failure at once.
  let missed;
  for (let click = 1; click <= clicks; click++) {
    try {
      await who.page.click('[data-shield]', { timeout: 5000 });
      const code = (await who.page.textContent('[data-security-code]', { timeout: 3000 })).trim();
      await who.page.keyboard.press('Escape');
      if (click > 1) console.log(`# ${who.name}: the security code opened at click ${click}`);
      return code;
    } catch (error) {
      if (!/timeout|timed out/i.test(`${error.name} ${error.message}`)) throw error;
      missed = error;
    }
  }
  const state = await who.page
    .evaluate(() => document.querySelector('[data-shield]')?.getAttribute('data-shield') ?? 'gone')
    .catch(() => 'unknown');
  throw new Error(`${who.name}'s security code never showed after ${clicks} clicks (shield ${state}): ${missed.message}`);
}

/** Frames a video element has shown so far (the remote camera, or another by its
 * `data-video`). Chromium counts them in `getVideoPlaybackQuality()`; Firefox leaves that at 0
 * for a MediaStream and counts `mozPaintedFrames`. (Page functions cannot share code: the
 * page's CSP has no 'unsafe-eval'.) */
export async function remoteFramesDecoded(who, which = 'remote') {
  return who.page.evaluate((w) => {
    const video = document.querySelector(`[data-video=${w}]`);
    return video ? (video.getVideoPlaybackQuality().totalVideoFrames || video.mozPaintedFrames || 0) : 0;
  }, which);
}

export async function waitForRemoteFrames(who, atLeast = 10, timeout = 20000, which = 'remote') {
  await who.page.waitForFunction(
    ({ n, w }) => {
      const video = document.querySelector(`[data-video=${w}]`);
      const shown = video ? (video.getVideoPlaybackQuality().totalVideoFrames || video.mozPaintedFrames || 0) : 0;
      return video && video.videoWidth > 0 && shown >= n;
    },
    { n: atLeast, w: which },
    { timeout },
  );
}

/** Wait until the chat panel shows a message containing `text`. */
export async function waitForChatMessage(who, text, timeout = 10000) {
  await who.page.waitForFunction(
    (t) => [...document.querySelectorAll('.chat-messages li')].some((li) => li.textContent.includes(t)),
    text,
    { timeout },
  );
}

/** The call's set-up steps each page marked on its performance timeline (`shieldcall: …`),
 * as `{ at, who, step }` with `at` in ms since the Unix epoch (both browsers run on this
 * machine's clock), oldest first. */
export async function setupSteps(...people) {
  const all = [];
  for (const who of people) {
    const marks = await who.page.evaluate(() => performance.getEntriesByType('mark')
      .filter((m) => m.name.startsWith('shieldcall: '))
      .map((m) => ({ at: performance.timeOrigin + m.startTime, step: m.name.slice(12) })));
    all.push(...marks.map((m) => ({ ...m, who: who.name })));
  }
  return all.sort((a, b) => a.at - b.at);
}

/** Prints `steps` as a timeline from `since` (ms since the epoch), one line each. */
export function printSteps(steps, since) {
  for (const { at, who, step } of steps) {
    console.log(`  ${(at - since).toFixed(0).padStart(6)} ms  ${who.padEnd(5)}  ${step}`);
  }
}

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

/** axe-core's serious and critical violations on `page` as it is now, one line each, named
 * by `view`. (axe goes in through the DevTools protocol, which the page's CSP does not govern:
 * no inline script.) */
export async function violations(page, view) {
  await page.evaluate(AXE);
  const found = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] })
    .then((result) => result.violations.map((v) => ({
      id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map((n) => n.target.join(' ')),
    }))));
  return found
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${view}: ${v.id} (${v.impact}) ${v.help}: ${v.nodes.slice(0, 5).join(', ')}`);
}

/** Wait until `who`'s status line says the call ended, and resolve to what it says. */
export async function endedWith(who, timeout = 15000) {
  await who.page.waitForSelector('[data-call-status=ended]', { timeout });
  return (await who.page.textContent('[data-call-status]')).trim();
}

/** Wait until `who`'s notices say `text`. */
export async function told(who, text, timeout = 15000) {
  await who.page.waitForFunction(
    (text) => document.querySelector('.notices')?.textContent.includes(text),
    text,
    { timeout },
  );
}

/** The other person's video keeps coming: `by` more frames than now (or, on an element made
 * afresh, `by` frames at all). */
export async function framesKeepComing(who, by = 20, timeout = 20000) {
  const start = await remoteFramesDecoded(who);
  await who.page.waitForFunction(
    ({ start, by }) => {
      const video = document.querySelector('[data-video=remote]');
      const shown = video ? video.getVideoPlaybackQuality().totalVideoFrames : 0;
      return shown >= start + by || (shown < start && shown >= by);
    },
    { start, by },
    { timeout },
  );
}
