// Moving a call to another device, in real Chromium through the real relay: the host of a
// call without E2EE shows a move link (and its QR code) from the More menu, a third browser
// opens it and takes the host's place; the guest does nothing and the call goes on with the new
// device. The link works once and for a while. Under E2EE the move is re-keyed: the new device
// agrees fresh keys with the other person, both locked with a new code.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  callBetween, endedWith, framesKeepComing, joinCall, person, pressJoin, securityCode, setE2ee,
  shieldLabel, startRelay, told, violations, waitForRemoteFrames, waitForShield, withHostAndGuest,
} from './harness.mjs';

/** Open the More menu and ask for a move link; resolves to the link the page shows. */
async function askToMove(who) {
  await who.page.click('[data-action=features]');
  await who.page.click('[data-feature=move-device]');
  await who.page.waitForSelector('[data-move-link]', { timeout: 10000 });
  return who.page.inputValue('[data-move-url]');
}

describe('moving a call to another device', () => {
  let relay;
  before(async () => { relay = await startRelay(); });
  after(async () => { await relay?.stop(); });

  test('without E2EE the host moves to a third browser; the guest keeps the call', () => withHostAndGuest(async (host, guest) => {
    await setE2ee(host, relay.url, false);
    const link = await callBetween(host, guest, relay.url, 'unlocked');
    await Promise.all([waitForRemoteFrames(host), waitForRemoteFrames(guest)]);

    const moveUrl = await askToMove(host);
    // The call's own path; everything the new device needs is in the fragment, which no
    // request carries.
    const url = new URL(moveUrl);
    assert.equal(`${url.origin}${url.pathname}`, new URL(link).origin + new URL(link).pathname);
    assert.equal(url.search, '');
    assert.match(url.hash, /^#m=[A-Za-z0-9_-]{22}&s=[A-Za-z0-9_-]{22}&r=host$/);
    assert.match(await host.page.textContent('[data-move-link]'), /works once, for 2 minutes/);
    // The QR code is drawn by the page: an SVG path, no image fetched from anywhere.
    const modules = await host.page.getAttribute('[data-move-qr] path', 'd');
    assert.ok(modules.length > 1000, 'the QR code has its modules');
    // The panel passes axe-core, light and dark, wide and narrow.
    const found = [];
    for (const scheme of ['light', 'dark']) {
      await host.page.emulateMedia({ colorScheme: scheme });
      for (const [size, viewport] of [['wide', { width: 1280, height: 800 }], ['narrow', { width: 390, height: 844 }]]) {
        await host.page.setViewportSize(viewport);
        found.push(...await violations(host.page, `move link ${size} ${scheme}`));
      }
    }
    assert.deepEqual(found, []);

    const phone = await person('phone');
    try {
      const movedAt = performance.now();
      await joinCall(phone, moveUrl);
      // The old page ends, saying why; the guest is told, and did nothing.
      assert.equal(await endedWith(host), 'This call moved to another device.');
      await told(guest, 'The other person moved the call to another device.');
      await Promise.all([waitForShield(phone, 'unlocked'), waitForShield(guest, 'unlocked')]);
      // The new device (E2EE on in its settings) says why this call has it off.
      assert.match(await shieldLabel(phone), /moved here from another device, without end-to-end encryption/);
      // Media between the guest and the new device, both ways.
      await waitForRemoteFrames(phone, 20);
      await framesKeepComing(guest, 20);
      console.log(`measured: move link opened -> video both ways with the new device in ${(performance.now() - movedAt).toFixed(0)} ms`);
      await guest.page.waitForSelector('[data-call-status=connected]');
      await phone.page.waitForSelector('[data-call-status=connected]');
      // The new device's address bar keeps no fragment (and its tab stores none to reuse).
      assert.equal(new URL(phone.page.url()).hash, '');

      // The same link opened again (in a new tab of the old device, say): refused, and
      // nothing changes.
      const again = { page: await host.page.context().newPage() };
      await joinCall(again, moveUrl);
      assert.match(await endedWith(again), /This move link was already used: a move link works once/);
      await framesKeepComing(guest, 20);
      await framesKeepComing(phone, 20);
      assert.equal(await guest.page.getAttribute('[data-call-status]', 'data-call-status'), 'connected');
    } finally {
      await phone.close();
    }
  }));

  test('under E2EE the host moves re-keyed: the shield locks again with a new code on both sides', () => withHostAndGuest(async (host, guest) => {
    const link = await callBetween(host, guest, relay.url);
    const before = await securityCode(guest);
    assert.equal(await securityCode(host), before);
    // The other features E2EE rules out stay off; moving is offered.
    await host.page.click('[data-action=features]');
    assert.equal(await host.page.isDisabled('[data-feature=park]'), true);
    await host.page.keyboard.press('Escape');

    const moveUrl = await askToMove(host);
    // The move's secret in place of the link's, and the mark of a re-keyed move.
    assert.match(new URL(moveUrl).hash, /^#m=[A-Za-z0-9_-]{22}&s=[A-Za-z0-9_-]{22}&r=host&e=1$/);
    assert.notEqual(new URL(moveUrl).hash.match(/s=([^&]+)/)[1], new URL(link).hash.match(/s=([^&]+)/)[1]);
    assert.match(await host.page.textContent('[data-move-link]'), /stays end-to-end encrypted.*new security code/);

    const phone = await person('phone');
    try {
      const movedAt = performance.now();
      await joinCall(phone, moveUrl);
      assert.equal(await endedWith(host), 'This call moved to another device.');
      await Promise.all([waitForShield(phone, 'locked'), waitForShield(guest, 'locked')]);
      console.log(`measured: re-keyed move link opened -> both locked in ${(performance.now() - movedAt).toFixed(0)} ms`);
      // A new agreement: a new code, the same on both screens, announced on both.
      const after = await securityCode(phone);
      assert.equal(await securityCode(guest), after);
      assert.notEqual(after, before);
      const notices = (who) => who.page.textContent('.notices');
      await told(guest, 'The security code changed', 10000);
      assert.match(await notices(guest), /moved the call to another device\. New keys/);
      assert.match(await notices(phone), /moved to this device with new keys\. Compare the new security code/);
      // Media both ways, decrypted under the new keys.
      await waitForRemoteFrames(phone, 20);
      await framesKeepComing(guest, 20);

      // The guest reloads: its tab kept the link as it now stands (the new host key's
      // commitment and the move's secret), so the call locks again, not red.
      await guest.page.reload();
      await pressJoin(guest);
      await Promise.all([waitForShield(phone, 'locked'), waitForShield(guest, 'locked')]);
      assert.equal(await securityCode(guest), await securityCode(phone));
      await waitForRemoteFrames(guest, 20);
    } finally {
      await phone.close();
    }
  }));

  test('under E2EE the guest moves re-keyed, and the host keeps the lock', () => withHostAndGuest(async (host, guest) => {
    await callBetween(host, guest, relay.url);
    const before = await securityCode(host);
    const moveUrl = await askToMove(guest);
    assert.match(new URL(moveUrl).hash, /&r=guest&k=[A-Za-z0-9_-]{22}&e=1$/);
    const laptop = await person('laptop');
    try {
      await joinCall(laptop, moveUrl);
      assert.equal(await endedWith(guest), 'This call moved to another device.');
      await Promise.all([waitForShield(host, 'locked'), waitForShield(laptop, 'locked')]);
      assert.equal(await securityCode(host), await securityCode(laptop));
      assert.notEqual(await securityCode(host), before);
      await waitForRemoteFrames(laptop, 20);
      await framesKeepComing(host, 20);
    } finally {
      await laptop.close();
    }
  }));
});

describe('moving to Firefox', () => {
  let relay;
  before(async () => { relay = await startRelay(); });
  after(async () => { await relay?.stop(); });

  test('under E2EE a Chromium host moves to a Firefox device: re-keyed, locked, video both ways', () => withHostAndGuest(async (host, guest) => {
    await callBetween(host, guest, relay.url);
    const before = await securityCode(guest);
    const moveUrl = await askToMove(host);
    const firefox = await person('firefox phone', { browser: 'firefox' });
    try {
      await joinCall(firefox, moveUrl);
      assert.equal(await endedWith(host), 'This call moved to another device.');
      await Promise.all([waitForShield(firefox, 'locked'), waitForShield(guest, 'locked')]);
      assert.equal(await securityCode(firefox), await securityCode(guest));
      assert.notEqual(await securityCode(guest), before);
      await waitForRemoteFrames(firefox, 20);
      await framesKeepComing(guest, 20);
    } finally {
      await firefox.close();
    }
  }));
});

describe('an expired move link', () => {
  let relay;
  before(async () => { relay = await startRelay(['--move-ttl-secs', '2']); });
  after(async () => { await relay?.stop(); });

  test('is refused with a clear error, and the call goes on', () => withHostAndGuest(async (host, guest) => {
    await setE2ee(guest, relay.url, false);
    await callBetween(host, guest, relay.url, 'unlocked');
    // This time the guest asks; its link carries the host's key commitment too.
    const moveUrl = await askToMove(guest);
    assert.match(new URL(moveUrl).hash, /&r=guest&k=[A-Za-z0-9_-]{22}$/);
    // The page takes a link past its time off the screen.
    await guest.page.waitForSelector('[data-move-link]', { state: 'detached', timeout: 5000 });
    const phone = await person('phone');
    try {
      await joinCall(phone, moveUrl);
      assert.match(await endedWith(phone), /This move link has expired/);
      await Promise.all([waitForRemoteFrames(host), waitForRemoteFrames(guest)]);
      await framesKeepComing(host, 20);
      assert.equal(await guest.page.getAttribute('[data-call-status]', 'data-call-status'), 'connected');
    } finally {
      await phone.close();
    }
  }));
});
