// The README's screenshots, made from the release build through the real relay by the e2e
// harness (real Chromium, its fake camera and microphone), so they show the app as it is:
// `make screenshots` (not part of `make test`) builds what it needs and writes the PNGs to
// docs/screenshots/. Home, pre-join, a locked call wide (1280×800) and narrow (390×844), the
// security code panel, the chat, and the red shield of a relay that swaps keys.

import { mkdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import {
  hostNewCall, joinCall, pressJoin, readyToJoin, startRelay, waitForChatMessage, waitForRemoteFrames,
  waitForShield, withHostAndGuest,
} from '../e2e/harness.mjs';

const OUT = new URL('../docs/screenshots/', import.meta.url).pathname;
const WIDE = { width: 1280, height: 800 };
const NARROW = { width: 390, height: 844 };

/** The page as it is now, at one CSS pixel per pixel (small files), as docs/screenshots/NAME.png. */
async function shot(page, name) {
  // Tooltips and focus rings from the last click or key would show in the picture.
  await page.mouse.move(0, 0);
  await page.waitForTimeout(300);
  const path = join(OUT, `${name}.png`);
  await page.screenshot({ path, scale: 'css' });
  console.log(`${path} (${Math.round(statSync(path).size / 1024)} KB)`);
}

/** The pre-join screen with the camera in the preview and the meter up: the fake microphone
 * beeps, so the picture is taken again until the meter was up before and after it. */
async function shotPrejoin(page) {
  const level = () => page.evaluate(() => Number(document.querySelector('[data-mic-level]').value));
  await page.mouse.move(0, 0);
  await page.waitForFunction(() => document.querySelector('[data-video=preview]')?.videoWidth > 0);
  for (let attempt = 0; attempt < 20; attempt++) {
    await page.waitForFunction(() => Number(document.querySelector('[data-mic-level]').value) > 0.4, null, { timeout: 15000 });
    await page.screenshot({ path: join(OUT, 'prejoin.png'), scale: 'css' });
    if (await level() > 0.3) break;
  }
  console.log(`${join(OUT, 'prejoin.png')} (${Math.round(statSync(join(OUT, 'prejoin.png')).size / 1024)} KB)`);
}

mkdirSync(OUT, { recursive: true });

const relay = await startRelay();
try {
  await withHostAndGuest(async (host, guest) => {
    for (const who of [host, guest]) await who.page.emulateMedia({ colorScheme: 'light' });
    await host.page.setViewportSize(WIDE);
    await host.page.goto(`${relay.url}/`);
    await host.page.click('[data-action=new-call]');
    const link = (await host.page.textContent('[data-call-link]')).trim();
    await shot(host.page, 'home');

    await host.page.click('[data-action=join-call]');
    await readyToJoin(host);
    await shotPrejoin(host.page);
    await pressJoin(host);

    await guest.page.setViewportSize(NARROW);
    await joinCall(guest, link);
    await Promise.all([waitForShield(host, 'locked'), waitForShield(guest, 'locked')]);
    await Promise.all([waitForRemoteFrames(host, 30), waitForRemoteFrames(guest, 30)]);
    await shot(host.page, 'call-wide');
    await shot(guest.page, 'call-narrow');

    await host.page.click('[data-shield]');
    await host.page.waitForSelector('[data-security-code]');
    await shot(host.page, 'code-panel');
    await host.page.keyboard.press('Escape');

    await guest.page.click('[data-control=chat]');
    await guest.page.fill('[data-chat-input]', 'Can you see the lock? Our codes match.');
    await guest.page.click('[data-action=send]');
    await host.page.click('[data-control=chat]');
    await waitForChatMessage(host, 'Our codes match');
    await host.page.fill('[data-chat-input]', 'Yes, same code here: 20 digits.');
    await host.page.click('[data-action=send]');
    await waitForChatMessage(host, 'same code here');
    await shot(host.page, 'chat');
  });
} finally {
  await relay.stop();
}

// A relay that swaps the two keys: the red shield, and the code that will not match.
const mitm = await startRelay(['--mitm-swap-keys']);
try {
  await withHostAndGuest(async (host, guest) => {
    await guest.page.emulateMedia({ colorScheme: 'light' });
    await guest.page.setViewportSize(WIDE);
    const link = await hostNewCall(host, mitm.url);
    await joinCall(guest, link);
    await waitForShield(guest, 'warning');
    await shot(guest.page, 'warning');
  });
} finally {
  await mitm.stop();
}
