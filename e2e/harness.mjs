// What every end-to-end test needs: a real relay process serving the built app, and real
// Chromium instances (one per person) driven by Playwright. No mocks.

import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { createConnection, createServer } from 'node:net';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { chromium } from 'playwright-core';

const root = new URL('..', import.meta.url).pathname;
export const RELAY_BIN = process.env.SHIELDCALL_RELAY_BIN ?? join(root, 'target/release/shieldcall-relay');
/** The relay with the test-only man-in-the-middle modes (`make relay-bin` builds both). */
export const MITM_RELAY_BIN = process.env.SHIELDCALL_MITM_RELAY_BIN
  ?? join(root, 'target/release/shieldcall-relay-mitm');
export const DIST = process.env.SHIELDCALL_DIST ?? join(root, 'dist');
const CHROMIUM = process.env.CHROMIUM ?? '/usr/bin/chromium';

/** Start the relay on a free loopback port, serving the built app; resolves to its base URL.
 * With a `--mitm-*` flag (`--mitm-swap-keys`, `--mitm-flip-e2ee`, `--mitm-add-fingerprint`,
 * `--mitm-drop-confirm`) it is the test-only `shieldcall-relay-mitm`, the shipped relay has none. */
export async function startRelay(extraArgs = [], listen = '127.0.0.1:0') {
  const bin = extraArgs.some((arg) => arg.startsWith('--mitm-')) ? MITM_RELAY_BIN : RELAY_BIN;
  const child = spawn(bin, ['--listen', listen, '--dist', DIST, ...extraArgs], {
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
  };
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

/** One person: their own Chromium (Playwright gives each launch a fresh profile) with a fake
 * camera and microphone, or, with `{ deniedDevices: true }`, one that refuses both.
 * `close()` fails the test if the page broke its Content-Security-Policy. */
export async function person(name, { deniedDevices = false } = {}) {
  const browser = await launchChromium([
    '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--use-fake-device-for-media-stream',
    ...(deniedDevices ? ['--deny-permission-prompts'] : ['--use-fake-ui-for-media-stream']),
    '--allow-loopback-in-peer-connection', '--autoplay-policy=no-user-gesture-required',
  ]);
  const context = await browser.newContext({
    permissions: deniedDevices ? [] : ['camera', 'microphone'],
  });
  browsers.add(browser);
  // Also for violations that log nothing (a report only), and inside the page's workers.
  await context.addInitScript(() => {
    addEventListener('securitypolicyviolation', (event) => {
      console.error(`securitypolicyviolation: ${event.effectiveDirective} ${event.blockedURI}`);
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

/** Run `body` with a host and a guest, each in their own browser, both closed afterwards
 * whatever happens. */
export async function withHostAndGuest(body) {
  const host = await person('host');
  const guest = await person('guest');
  try {
    return await body(host, guest);
  } finally {
    await host.close();
    await guest.close();
  }
}

/** The host makes a call link on the home page and joins; resolves to the link. */
export async function hostNewCall(host, baseUrl) {
  await host.page.goto(`${baseUrl}/`);
  await host.page.click('[data-action=new-call]');
  const link = (await host.page.textContent('[data-call-link]')).trim();
  await host.page.click('[data-action=join-call]');
  await host.page.waitForSelector('[data-shield]');
  return link;
}

/** Turn the "End-to-end encrypted calls" setting on or off (on the settings page). */
export async function setE2ee(who, baseUrl, on) {
  await who.page.goto(`${baseUrl}/settings`);
  const toggle = who.page.locator('input[data-setting=e2ee]');
  if ((await toggle.isChecked()) !== on) await toggle.click();
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
export async function securityCode(who) {
  await who.page.click('[data-shield]');
  const code = (await who.page.textContent('[data-security-code]', { timeout: 5000 })).trim();
  await who.page.keyboard.press('Escape');
  return code;
}

/** Frames the remote video element has decoded so far. */
export async function remoteFramesDecoded(who) {
  return who.page.evaluate(() => {
    const video = document.querySelector('[data-video=remote]');
    return video ? video.getVideoPlaybackQuality().totalVideoFrames : 0;
  });
}

export async function waitForRemoteFrames(who, atLeast = 10, timeout = 20000) {
  await who.page.waitForFunction(
    (n) => {
      const video = document.querySelector('[data-video=remote]');
      return video && video.getVideoPlaybackQuality().totalVideoFrames >= n && video.videoWidth > 0;
    },
    atLeast,
    { timeout },
  );
}
