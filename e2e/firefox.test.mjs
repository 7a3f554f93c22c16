// Calls between Chromium and Firefox ESR, both ways, and Firefox to Firefox, through the real
// relay and the release build: the same checks as between two Chromium browsers.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  callBetween, endedWith, hostNewCall, joinCall, person, pressJoin, printSteps, readyToJoin,
  remoteFramesDecoded, securityCode, setE2ee, setupSteps, shieldLabel, startRelay,
  waitForChatMessage, waitForRemoteFrames, waitForShield, withHostAndGuest,
} from './harness.mjs';

const PAIRS = [['chromium', 'firefox'], ['firefox', 'chromium'], ['firefox', 'firefox']];

/** What the page says about media that does not get through (the notices and the status). */
async function mediaProblems(who) {
  return who.page.evaluate(() => [...document.querySelectorAll('[data-media-problem]')]
    .map((element) => element.textContent));
}

/** Open the chat panel, unless it is open. */
async function openChat(who) {
  const open = await who.page.getAttribute('[data-control=chat]', 'aria-pressed');
  if (open !== 'true') await who.page.click('[data-control=chat]');
}

/** `from` writes `text` in the chat; `to` sees it. */
async function chatReaches(from, to, text) {
  await openChat(from);
  await from.page.fill('[data-chat-input]', text);
  await from.page.keyboard.press('Enter');
  await openChat(to);
  await waitForChatMessage(to, text);
}

describe('calls between Chromium and Firefox', () => {
  let relay;
  before(async () => { relay = await startRelay(); });
  after(async () => { await relay?.stop(); });

  for (const [hostBrowser, guestBrowser] of PAIRS) {
    test(`${hostBrowser} host, ${guestBrowser} guest, E2EE on: locked, one code, video and chat both ways, screen share`, () => withHostAndGuest(async (host, guest) => {
      const link = await hostNewCall(host, relay.url);
      const [opened, openedAt] = [performance.now(), Date.now()];
      await guest.page.goto(link);
      // The pre-join screen in this browser: its camera in the preview, its microphone on the
      // level meter (WebAudio). Headless Firefox here starts no page audio at all, click or not
      // (docs/FIREFOX.md): there the screen says the browser holds it.
      await readyToJoin(guest);
      const firefox = guestBrowser === 'firefox';
      if (firefox) {
        await guest.page.waitForSelector('[data-level-held]');
        assert.match(await guest.page.textContent('[data-level-held]'), /click or press a key/);
      }
      await guest.page.waitForFunction((held) => {
        const video = document.querySelector('[data-video=preview]');
        return video?.videoWidth > 0 && (held || Number(document.querySelector('[data-mic-level]').value) > 0);
      }, firefox, { timeout: 10000 });
      await pressJoin(guest);
      await Promise.all([waitForShield(host, 'locked'), waitForShield(guest, 'locked')]);
      console.log(`measured: ${hostBrowser} host, ${guestBrowser} guest: locked ${(performance.now() - opened).toFixed(0)} ms after the link opened`);
      // From Join to both locks on the pages' own marks (the time before Join is this test's
      // wait for the camera's preview and the level meter), and where it went.
      const steps = (await setupSteps(host, guest)).filter((s) => s.at >= openedAt - 5);
      const [pressed] = steps.filter((s) => s.who === 'guest' && s.step === 'join pressed');
      const locks = steps.filter((s) => s.step === 'shield locked');
      assert.ok(pressed && locks.length === 2, 'both pages marked Join and their lock');
      const fromJoin = Math.max(...locks.map((s) => s.at)) - pressed.at;
      console.log(`measured: ${hostBrowser} host, ${guestBrowser} guest: Join pressed -> both locked (page marks) in ${fromJoin.toFixed(0)} ms`);
      printSteps(steps.filter((s) => s.at >= pressed.at), pressed.at);
      const [hostCode, guestCode] = [await securityCode(host), await securityCode(guest)];
      assert.match(hostCode, /^\d{5} \d{5} \d{5} \d{5}$/);
      assert.equal(guestCode, hostCode, 'both see the same 20-digit code');

      // Shown frames were decrypted: the worker drops whatever does not open.
      await Promise.all([waitForRemoteFrames(host), waitForRemoteFrames(guest)]);
      const before = await Promise.all([remoteFramesDecoded(host), remoteFramesDecoded(guest)]);
      await host.page.waitForTimeout(1000);
      const later = await Promise.all([remoteFramesDecoded(host), remoteFramesDecoded(guest)]);
      assert.ok(later[0] > before[0] && later[1] > before[1], `video keeps playing: ${before} -> ${later}`);
      // Audio too: a direction whose frames are all dropped is said on the page.
      assert.deepEqual(await mediaProblems(host), [], 'the host is told of no media problem');
      assert.deepEqual(await mediaProblems(guest), [], 'the guest is told of no media problem');

      // What Firefox cannot do is said there, and only there.
      for (const who of [host, guest]) {
        const notices = await who.page.evaluate(() => document.querySelector('.notices').textContent);
        const told = /does not report the media connection's certificate/.test(notices);
        assert.equal(told, who.browser === 'firefox', `${who.name} (${who.browser}): ${notices}`);
      }

      await chatReaches(guest, host, `hello from ${guestBrowser}`);
      await chatReaches(host, guest, `hello from ${hostBrowser}`);

      // The host shares the screen (Firefox's is a virtual X display): the guest's stage shows
      // it, decoded; when the host stops, the stage goes back to the camera.
      await host.page.click('[data-control=share]');
      await guest.page.waitForSelector('[data-layout=screen]', { timeout: 10000 });
      await waitForRemoteFrames(guest, 5, 10000, 'remote-screen');
      if (host.browser === 'firefox') {
        assert.match(await host.page.textContent('.notices'), /screen is shared without its sound/);
      }
      await host.page.click('[data-control=share]');
      await guest.page.waitForSelector('[data-layout=camera]', { timeout: 10000 });
    }, { host: hostBrowser, guest: guestBrowser }));
  }

  // E2EE off on one side, the side taking turns: transport encryption only, media both ways.
  for (const [[hostBrowser, guestBrowser], off] of PAIRS.map((pair, i) => [pair, i % 2 ? 'guest' : 'host'])) {
    test(`${hostBrowser} host, ${guestBrowser} guest, the ${off} with E2EE off: both unlocked with the reason, video both ways`, () => withHostAndGuest(async (host, guest) => {
      const [without, other] = off === 'host' ? [host, guest] : [guest, host];
      await setE2ee(without, relay.url, false);
      await callBetween(host, guest, relay.url, 'unlocked');
      assert.match(await shieldLabel(other), /other person has end-to-end encryption off/i);
      assert.match(await shieldLabel(without), /you turned off end-to-end encryption/i);
      await Promise.all([waitForRemoteFrames(host), waitForRemoteFrames(guest)]);
    }, { host: hostBrowser, guest: guestBrowser }));
  }

  test('a firefox guest who blocks camera and microphone still joins, sees, and is told', async () => {
    const host = await person('host');
    const guest = await person('guest', { browser: 'firefox', deniedDevices: true });
    try {
      await callBetween(host, guest, relay.url);
      await waitForRemoteFrames(guest);
      assert.match(await guest.page.textContent('.notices'), /blocked the camera and microphone|no camera or microphone/i);
    } finally {
      await host.close();
      await guest.close();
    }
  });
});

describe('a firefox guest behind a relay that swaps the keys', () => {
  let relay;
  before(async () => { relay = await startRelay(['--mitm-swap-keys']); });
  after(async () => { await relay?.stop(); });

  test('both shields turn red and nothing is decoded', () => withHostAndGuest(async (host, guest) => {
    const link = await hostNewCall(host, relay.url);
    await joinCall(guest, link);
    await Promise.all([waitForShield(host, 'warning'), waitForShield(guest, 'warning')]);
    await guest.page.waitForTimeout(1500);
    assert.equal(await remoteFramesDecoded(host), 0, 'nothing reaches the host decoder');
    assert.equal(await remoteFramesDecoded(guest), 0, 'nothing reaches the guest decoder');
  }, { guest: 'firefox' }));
});

describe('a relay that drops every hang-up, with Firefox', () => {
  let relay;
  before(async () => { relay = await startRelay(['--mitm-drop-bye']); });
  after(async () => { await relay?.stop(); });

  // The signed hang-up goes on the data channel too (PROTOCOL.md change 57), and the
  // connection closes only once the channel has: each way between Chromium and Firefox, the
  // other person is told the call was hung up.
  for (const [hostBrowser, guestBrowser] of [['chromium', 'firefox'], ['firefox', 'chromium']]) {
    test(`${hostBrowser} host hangs up, ${guestBrowser} guest is told`, () => withHostAndGuest(async (host, guest) => {
      await callBetween(host, guest, relay.url);
      await waitForRemoteFrames(guest);
      const pressed = performance.now();
      await host.page.click('[data-control=hang-up]');
      assert.match(await endedWith(guest, 10000), /hung up/);
      console.log(`measured: ${hostBrowser} to ${guestBrowser}, a hang-up the relay dropped reached the guest ${(performance.now() - pressed).toFixed(0)} ms after the press`);
    }, { host: hostBrowser, guest: guestBrowser }));
  }
});
