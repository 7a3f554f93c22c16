// The pre-join screen in real Chromium through the real relay: the preview and the microphone's
// level, the toggles carrying into the call, what E2EE will mean (the setting, the
// organisation's policy), blocked devices, and the relay joined only on Join.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  distWithConfig, hostNewCall, person, pressJoin, readyToJoin, setE2ee, startRelay, waitForShield,
  withHostAndGuest,
} from './harness.mjs';

/** The microphone meter's value now. */
const level = (who) => who.page.evaluate(() => Number(document.querySelector('[data-mic-level]').value));

describe('pre-join', () => {
  let relay;
  before(async () => { relay = await startRelay(); });
  after(async () => { await relay?.stop(); });

  test('preview, live level, E2EE plan, focused Join; toggles carry into the call; the relay is joined on Join only', () => withHostAndGuest(async (host, guest) => {
    const link = await hostNewCall(host, relay.url);
    // Where Join is, frame by frame, from the moment it shows.
    await guest.page.context().addInitScript(() => {
      window.joinPlaces = [];
      const watch = () => {
        const join = document.querySelector('[data-prejoin] [data-action=join]');
        if (join) {
          const { x, y } = join.getBoundingClientRect();
          if (window.joinPlaces.at(-1) !== `${x},${y}`) window.joinPlaces.push(`${x},${y}`);
        }
        requestAnimationFrame(watch);
      };
      requestAnimationFrame(watch);
    });
    await guest.page.goto(link);
    await readyToJoin(guest);
    const page = guest.page;
    // The camera's picture, and a level that moves with the (fake) microphone's beeps.
    await page.waitForFunction(() => {
      const video = document.querySelector('[data-video=preview]');
      return video && video.videoWidth > 0 && video.getVideoPlaybackQuality().totalVideoFrames > 5;
    }, null, { timeout: 10000 });
    await page.waitForFunction(() => Number(document.querySelector('[data-mic-level]').value) > 0.05, null, { timeout: 10000 });
    // Device pickers list the fake devices.
    assert.ok(await page.evaluate(() => document.querySelector('[data-prejoin] select[data-control=microphone]').options.length) >= 1);
    assert.ok(await page.evaluate(() => document.querySelector('[data-prejoin] select[data-control=camera-device]').options.length) >= 1);
    // Join stayed where it first showed while the camera started and the lists came: no jump
    // under the pointer of someone about to press it.
    assert.equal((await page.evaluate(() => window.joinPlaces)).length, 1, `Join moved: ${await page.evaluate(() => window.joinPlaces.join(' -> '))}`);
    // What E2EE will mean, and that the other side is not known yet.
    assert.equal(await page.getAttribute('[data-prejoin] [data-e2ee-plan]', 'data-e2ee-plan'), 'on');
    assert.match(await page.textContent('[data-e2ee-plan]'), /End-to-end encryption is on/);
    assert.match(await page.textContent('[data-other-side]'), /not known until they join/);
    // Join has the focus: Enter would join.
    assert.equal(await page.evaluate(() => document.activeElement?.dataset.action), 'join');
    // On a phone-sized window the whole screen fits: no scrolling to reach Join.
    await page.setViewportSize({ width: 390, height: 844 });
    const fits = await page.evaluate(() => {
      const join = document.querySelector('[data-prejoin] [data-action=join]').getBoundingClientRect();
      return document.documentElement.scrollHeight <= innerHeight && join.bottom <= innerHeight;
    });
    assert.ok(fits, 'pre-join fits a 390 x 844 window');
    await page.setViewportSize({ width: 1280, height: 800 });

    // Sitting on the pre-join screen, the guest is not in the call: the host still waits.
    await page.waitForTimeout(1000);
    assert.equal(await host.page.getAttribute('[data-call-status]', 'data-call-status'), 'waiting');

    // Muted and camera off before joining: the meter falls to zero, the preview says so.
    await page.click('[data-prejoin] [data-control=mute]');
    await page.click('[data-prejoin] [data-control=camera]');
    assert.equal(await page.getAttribute('[data-prejoin] [data-control=mute]', 'aria-pressed'), 'true');
    assert.equal(await page.getAttribute('[data-prejoin] [data-control=camera]', 'aria-pressed'), 'false');
    assert.equal((await page.textContent('[data-preview-state]')).trim(), 'Your camera is off');
    await page.waitForFunction(() => Number(document.querySelector('[data-mic-level]').value) === 0, null, { timeout: 5000 });

    await pressJoin(guest);
    await Promise.all([waitForShield(host, 'locked'), waitForShield(guest, 'locked')]);
    // The call starts as the toggles were left, and they still work.
    assert.equal(await page.getAttribute('[data-control=mute]', 'aria-pressed'), 'true');
    assert.equal(await page.getAttribute('[data-control=camera]', 'aria-pressed'), 'false');
    assert.equal(await page.evaluate(() => document.querySelector('[data-video=self]').srcObject.getAudioTracks()[0].enabled), false);
    await page.click('[data-control=mute]');
    await page.waitForSelector('[data-control=mute][aria-pressed=false]');
    assert.equal(await page.evaluate(() => document.querySelector('[data-video=self]').srcObject.getAudioTracks()[0].enabled), true);
  }));

  test('blocked camera and microphone: says how to fix it, joins without them', async () => {
    const host = await person('host');
    const guest = await person('guest', { deniedDevices: true });
    try {
      const link = await hostNewCall(host, relay.url);
      await guest.page.goto(link);
      await readyToJoin(guest);
      for (const device of ['microphone', 'camera']) {
        const text = await guest.page.textContent(`[data-device-problem=${device}]`);
        assert.match(text, new RegExp(`blocks the ${device}`));
        assert.match(text, /site's permissions/);
        assert.match(text, /You can join without it/);
      }
      assert.equal(await guest.page.getAttribute('[data-prejoin] .prejoin-problems', 'role'), 'alert');
      assert.equal(await guest.page.isDisabled('[data-prejoin] [data-control=mute]'), true);
      assert.equal(await guest.page.isDisabled('[data-prejoin] [data-control=camera]'), true);
      assert.equal((await guest.page.textContent('[data-preview-state]')).trim(), 'No camera');
      await pressJoin(guest);
      await Promise.all([waitForShield(host, 'locked'), waitForShield(guest, 'locked')]);
      assert.match(await guest.page.textContent('.notices'), /blocked the camera and microphone/i);
    } finally {
      await host.close();
      await guest.close();
    }
  });

  test('a relay that refuses the waiting socket is asked again every 2 s, not in a burst; Join still reaches the call', () => withHostAndGuest(async (host, guest) => {
    const link = await hostNewCall(host, relay.url);
    // The guest's page alone meets a relay that closes each socket as soon as it opens.
    let refuse = true;
    const sockets = [];
    await guest.page.routeWebSocket(/\/ws\//, (ws) => {
      sockets.push({ at: Date.now(), refused: refuse });
      if (refuse) ws.close(); else ws.connectToServer();
    });
    await guest.page.goto(link);
    await readyToJoin(guest);
    await guest.page.waitForTimeout(5000);
    const refused = sockets.filter((s) => s.refused).length;
    // One at once, then one each 2 s: 3 or 4 in these 5 s (it was dozens, one per close).
    assert.ok(refused >= 2 && refused <= 4, `sockets opened while the relay refused them: ${refused}`);
    refuse = false;
    const before = sockets.length;
    await pressJoin(guest);
    await Promise.all([waitForShield(host, 'locked'), waitForShield(guest, 'locked')]);
    // The call's own socket, and no warm one left waiting behind it.
    await guest.page.waitForTimeout(2500);
    assert.equal(sockets.length - before, 1, 'one socket opened from Join on');
  }));

  test('E2EE turned off in Settings, or not allowed by the policy, is said before joining', async () => {
    const policy = distWithConfig({ iceServers: [], policy: { e2eeAllowed: false } });
    const own = await startRelay([], '127.0.0.1:0', { dist: policy.dir });
    const who = await person('host');
    try {
      await setE2ee(who, relay.url, false);
      await who.page.goto(`${relay.url}/`);
      await who.page.click('[data-action=new-call]');
      await who.page.click('[data-action=join-call]');
      await readyToJoin(who);
      assert.equal(await who.page.getAttribute('[data-e2ee-plan]', 'data-e2ee-plan'), 'off');
      assert.match(await who.page.textContent('[data-e2ee-plan]'), /You turned it off in Settings/);

      // Another origin (another port): the setting there is on, the policy says no.
      await who.page.goto(`${own.url}/`);
      await who.page.click('[data-action=new-call]');
      await who.page.click('[data-action=join-call]');
      await readyToJoin(who);
      assert.equal(await who.page.getAttribute('[data-e2ee-plan]', 'data-e2ee-plan'), 'policy-off');
      assert.match(await who.page.textContent('[data-e2ee-plan]'), /organisation has turned off end-to-end encrypted calls/);
      assert.match(await who.page.textContent('[data-other-side]'), /not known until they join/);
    } finally {
      await who.close();
      await own.stop();
      policy.remove();
    }
  });
});
