// What the other side is doing, in two real Chromium pages through the real relay and the
// release build: the host's microphone and camera as the guest's page shows them (sealed in
// the media worker under E2EE, a binary data-channel message with E2EE off), and the
// connection-quality icon from getStats.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  callBetween, hostNewCall, joinCall, setE2ee, startRelay, waitForRemoteFrames, waitForShield,
  withHostAndGuest,
} from './harness.mjs';

const MIC_OFF = '[data-remote-mic=off][role=img][aria-label="The other person\'s microphone is off"]';
const CAMERA_OFF = '[data-remote-camera=off]';

/** What the guest's live region last said. */
async function announced(who) {
  return (await who.page.textContent('[data-remote-announcement]')).trim();
}

/** The host mutes and turns the camera off; the guest's tile shows both within a few seconds,
 * and says so; both turned on again, the indicators go. */
async function muteAndCameraReachTheGuest(host, guest) {
  await host.page.click('[data-control=mute]');
  await guest.page.waitForSelector(MIC_OFF, { timeout: 5000 });
  assert.match(await announced(guest), /muted their microphone/);
  await host.page.click('[data-control=camera]');
  await guest.page.waitForSelector(`${CAMERA_OFF}:has-text("Camera off")`, { timeout: 5000 });
  assert.match(await announced(guest), /turned their camera off/);
  // The placeholder covers the tile: what a person sees is the avatar and the words.
  const covers = await guest.page.evaluate(() => {
    const card = document.querySelector('[data-remote-camera=off]').getBoundingClientRect();
    const tile = document.querySelector('.tile--remote').getBoundingClientRect();
    return card.width >= tile.width - 1 && card.height >= tile.height - 1;
  });
  assert.ok(covers, 'the camera-off placeholder covers the remote tile');

  await host.page.click('[data-control=mute]');
  await guest.page.waitForSelector('[data-remote-mic]', { state: 'detached', timeout: 5000 });
  assert.match(await announced(guest), /turned their microphone on/);
  await host.page.click('[data-control=camera]');
  await guest.page.waitForSelector(CAMERA_OFF, { state: 'detached', timeout: 5000 });
  assert.match(await announced(guest), /turned their camera on/);
  // The states travelled in the chat channel, and none of them was shown as chat.
  assert.equal(await guest.page.locator('.chat-messages li').count(), 0);
  assert.equal(await host.page.locator('[data-remote-mic], [data-remote-camera]').count(), 0);
}

/** The quality icon shows a class and its figures in words, the same in both (Chromium or
 * Firefox: only the harness's common page calls). */
async function qualityIsShown(who) {
  await who.page.waitForSelector('[data-quality]', { timeout: 15000 });
  // All three read at once: the figures change every second, and a read in between compared a
  // label with the next second's tooltip (a CI run failed so on 2026-12-05).
  const [quality, label, tip] = await who.page.evaluate(() => {
    const icon = document.querySelector('[data-quality]');
    return ['data-quality', 'aria-label', 'data-tip'].map((name) => icon.getAttribute(name));
  });
  assert.match(quality, /^(good|fair|poor)$/);
  assert.match(label, /^(Good|Fair|Poor) connection: (\d+ ms round trip|round trip unknown), [\d.]+% loss(, \d+ ms jitter)?, [\d.]+ [kM]b\/s received, [\d.]+ [kM]b\/s sent$/);
  assert.equal(label.split(' ')[0].toLowerCase(), quality, 'the words say the class the bars show');
  assert.equal(tip, label, 'the tooltip says the same');
  console.log(`  ${who.name} (${who.browser ?? 'chromium'}): ${label}`);
}

describe('what the other side is doing', () => {
  let relay;
  before(async () => { relay = await startRelay(); });
  after(async () => { await relay?.stop(); });

  test('E2EE on: a camera turned off before the guest came, then mute and camera both ways, and the quality', () => withHostAndGuest(async (host, guest) => {
    const link = await hostNewCall(host, relay.url);
    // Off while alone (once the camera runs: before, there is none to turn off): the guest
    // learns it when the channel opens.
    await host.page.waitForFunction(() => document.querySelector('[data-video=self]')?.srcObject);
    await host.page.click('[data-control=camera]');
    await host.page.waitForSelector('[data-control=camera][aria-pressed=false]');
    await joinCall(guest, link);
    await Promise.all([waitForShield(host, 'locked'), waitForShield(guest, 'locked')]);
    await guest.page.waitForSelector(`${CAMERA_OFF}:has-text("Camera off")`, { timeout: 10000 });
    assert.equal(await guest.page.locator('[data-remote-mic]').count(), 0, 'the microphone is on');
    assert.match(await announced(guest), /camera is off/);
    await host.page.click('[data-control=camera]');
    await guest.page.waitForSelector(CAMERA_OFF, { state: 'detached', timeout: 5000 });
    await waitForRemoteFrames(guest);

    await muteAndCameraReachTheGuest(host, guest);
    await qualityIsShown(guest);
    await qualityIsShown(host);
  }));

  test('E2EE off: the same, carried as binary messages beside the chat text', () => withHostAndGuest(async (host, guest) => {
    await setE2ee(guest, relay.url, false);
    await callBetween(host, guest, relay.url, 'unlocked');
    await waitForRemoteFrames(guest);
    await muteAndCameraReachTheGuest(host, guest);
    // Chat still goes as text, and arrives as chat.
    await host.page.click('[data-control=chat]');
    await host.page.fill('[data-chat-input]', 'still chat');
    await host.page.keyboard.press('Enter');
    await guest.page.click('[data-control=chat]');
    await guest.page.waitForSelector('.chat-messages li:has-text("still chat")', { timeout: 10000 });
    await qualityIsShown(guest);
  }));

  test('Firefox host, Chromium guest, E2EE on: each sees the other\'s state, and Firefox measures the connection', () => withHostAndGuest(async (host, guest) => {
    await callBetween(host, guest, relay.url);
    await host.page.click('[data-control=mute]');
    await guest.page.waitForSelector(MIC_OFF, { timeout: 5000 });
    await guest.page.click('[data-control=camera]');
    await host.page.waitForSelector(CAMERA_OFF, { timeout: 5000 });
    assert.match(await host.page.textContent(CAMERA_OFF), /Camera off/);
    await guest.page.click('[data-control=camera]');
    await host.page.waitForFunction(() => !document.querySelector('[data-remote-camera]'), null, { timeout: 5000 });
    await host.page.click('[data-control=mute]');
    await guest.page.waitForSelector('[data-remote-mic]', { state: 'detached', timeout: 5000 });
    await qualityIsShown(host);
  }, { host: 'firefox' }));
});
