// Parking and transferring a call without E2EE, in real Chromium through the real relay. Park:
// the host parks from the More menu and its page shows a pickup code and link and leaves; the
// guest's page says it is on hold and gets no media; a third browser types the code on the home
// page and picks the call up, with video both ways. A park nobody picks up in time ends the
// guest's call with the reason, and its code is then refused as expired. Blind transfer: the
// host names the person, a third browser opens the transfer link and takes the host's place,
// the guest is told the typed name, the host's page leaves; a fourth browser with the same
// link is refused. Under E2EE both items stay disabled with their reason.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  callBetween, endedWith, framesKeepComing, joinCall, parkCall, person, pickFeature, picksUp,
  pressJoin, setE2ee, startRelay, told, typePickupCode, violations, waitForRemoteFrames,
  waitForShield, withHostAndGuest,
} from './harness.mjs';

/** A call without E2EE between host and guest, video both ways; resolves to the link. */
async function transportOnlyCall(relay, host, guest) {
  await setE2ee(host, relay.url, false);
  const link = await callBetween(host, guest, relay.url, 'unlocked');
  await Promise.all([waitForRemoteFrames(host), waitForRemoteFrames(guest)]);
  return link;
}

describe('parking a call', () => {
  let relay;
  before(async () => { relay = await startRelay(['--park-ttl-secs', '60']); });
  after(async () => { await relay?.stop(); });

  test('the guest is on hold; a third browser picks it up by code, video both ways', () => withHostAndGuest(async (host, guest) => {
    await transportOnlyCall(relay, host, guest);
    const { code, url } = await parkCall(host);
    assert.match(code, /^[0-9A-Z]{4}-[0-9A-Z]{4}-[0-9A-Z]{4}$/);
    assert.match(new URL(url).hash, /^#m=[A-Za-z0-9_-]{22}&s=[A-Za-z0-9_-]{22}&r=host&h=park$/);
    assert.match(await host.page.textContent('[data-parked]'), /works once, for 1 minutes/);
    // The parking page leaves the call, and says so; the code stays on its screen.
    assert.match(await endedWith(host), /You parked the call/);
    assert.equal((await host.page.textContent('[data-pickup-code]')).trim(), code);
    assert.deepEqual(await violations(host.page, 'parked call'), []);

    // The guest: on hold, told, no media from the parked place.
    await guest.page.waitForSelector('[data-call-status=on-hold]', { timeout: 10000 });
    assert.match(await guest.page.textContent('[data-call-status]'), /On hold: the other person parked the call/);
    await told(guest, 'The other person parked the call: you are on hold');
    assert.equal(await guest.page.evaluate(() => document.querySelector('[data-video=remote]')?.srcObject ?? null), null);

    const colleague = await person('colleague');
    try {
      const pickedAt = performance.now();
      // Typed as a person might: lower case, spaces for dashes.
      await typePickupCode(colleague, relay.url, code.toLowerCase().replaceAll('-', ' '));
      await colleague.page.waitForURL(/\/call\//, { timeout: 10000 });
      await picksUp(colleague, guest);
      await guest.page.waitForSelector('[data-call-status=connected]');
      console.log(`measured: pickup code typed -> video both ways in ${(performance.now() - pickedAt).toFixed(0)} ms`);

      // The code again, on another device: used.
      const late = { page: await colleague.page.context().newPage() };
      await typePickupCode(late, relay.url, code);
      await late.page.waitForFunction(
        () => document.querySelector('[data-pickup-problem]')?.textContent.includes('already picked up'),
        null,
        { timeout: 10000 },
      );
      // And the pickup link, opened now: used as well; the call goes on.
      const again = { page: await colleague.page.context().newPage() };
      await joinCall(again, url);
      assert.match(await endedWith(again), /already picked up/);
      await framesKeepComing(guest, 20);
      await framesKeepComing(colleague, 20);
    } finally {
      await colleague.close();
    }
  }));

  test('under E2EE parking and transferring stay disabled with their reason', () => withHostAndGuest(async (host, guest) => {
    await callBetween(host, guest, relay.url);
    await host.page.click('[data-action=features]');
    for (const feature of ['park', 'transfer']) {
      assert.equal(await host.page.isDisabled(`[data-feature=${feature}]`), true);
      const why = await host.page.evaluate((feature) => {
        const button = document.querySelector(`[data-feature=${feature}]`);
        return document.getElementById(button.getAttribute('aria-describedby'))?.textContent;
      }, feature);
      assert.equal(why, 'Not available in end-to-end encrypted calls');
    }
  }));
});

describe('a park nobody picks up', () => {
  let relay;
  before(async () => { relay = await startRelay(['--park-ttl-secs', '3']); });
  after(async () => { await relay?.stop(); });

  test('ends the call for the other person, and its code is refused as expired', () => withHostAndGuest(async (host, guest) => {
    await transportOnlyCall(relay, host, guest);
    const { code } = await parkCall(guest);
    await host.page.waitForSelector('[data-call-status=on-hold]', { timeout: 10000 });
    assert.equal(
      await endedWith(host, 10000),
      'The call was on hold and nobody picked it up in time, so it has ended.',
    );
    const late = await person('late');
    try {
      await typePickupCode(late, relay.url, code);
      await late.page.waitForFunction(
        () => document.querySelector('[data-pickup-problem]')?.textContent.includes('expired'),
        null,
        { timeout: 10000 },
      );
      assert.equal(
        (await late.page.textContent('[data-pickup-problem]')).trim(),
        'This pickup code has expired: nobody picked the call up in time, so it has ended.',
      );
      // A code typed wrong is said to be so, without asking the relay.
      await late.page.fill('[data-pickup-input]', 'nope');
      await late.page.click('[data-action=pick-up]');
      await late.page.waitForFunction(
        () => document.querySelector('[data-pickup-problem]')?.textContent.includes('12 letters and digits'),
      );
      assert.match(late.page.url(), /\/$/, 'still on the home page');
    } finally {
      await late.close();
    }
  }));
});

describe('a blind transfer', () => {
  let relay;
  before(async () => { relay = await startRelay(); });
  after(async () => { await relay?.stop(); });

  test('the guest is told the typed name, the host leaves, video both ways; the link works once', () => withHostAndGuest(async (host, guest) => {
    await transportOnlyCall(relay, host, guest);
    await pickFeature(host, 'transfer');
    await host.page.waitForSelector('[data-transfer-form]');
    assert.deepEqual(await violations(host.page, 'transfer form'), []);
    await host.page.fill('[data-transfer-name]', 'Alex <b>Martin</b>');
    await host.page.click('[data-action=make-transfer-link]');
    await host.page.waitForSelector('[data-transfer-link]', { timeout: 10000 });
    const url = await host.page.inputValue('[data-transfer-url]');
    assert.match(new URL(url).hash, /^#m=[A-Za-z0-9_-]{22}&s=[A-Za-z0-9_-]{22}&r=host&h=transfer$/);
    assert.match(await host.page.textContent('[data-transfer-link]'), /Send this link to Alex <b>Martin<\/b>/);
    assert.deepEqual(await violations(host.page, 'transfer link'), []);

    const alex = await person('alex');
    try {
      const at = performance.now();
      await joinCall(alex, url);
      // The guest is told who joins, as the link says, as text (no markup made of it).
      await told(guest, 'Alex <b>Martin</b> is joining: the other person transferred the call to them.');
      assert.equal(await guest.page.$('.notices b'), null);
      assert.equal(await endedWith(host), 'You transferred the call to Alex <b>Martin</b>.');
      await Promise.all([waitForShield(alex, 'unlocked'), waitForShield(guest, 'unlocked')]);
      await waitForRemoteFrames(alex, 20);
      await framesKeepComing(guest, 20);
      console.log(`measured: transfer link opened -> video both ways in ${(performance.now() - at).toFixed(0)} ms`);

      // A fourth browser with the same link: refused, and the call goes on.
      const fourth = await person('fourth');
      try {
        await joinCall(fourth, url);
        assert.match(await endedWith(fourth), /This transfer link was already used/);
      } finally {
        await fourth.close();
      }
      await framesKeepComing(guest, 20);
      await framesKeepComing(alex, 20);
      assert.equal(await guest.page.getAttribute('[data-call-status]', 'data-call-status'), 'connected');
    } finally {
      await alex.close();
    }
  }));
});

/** The consulting person (`who`, its call without E2EE already) puts the other on hold and
 * makes the consult call from the page it is offered: resolves to the consult call's link. */
async function consultCall(who) {
  await pickFeature(who, 'consult-transfer');
  await who.page.waitForSelector('[data-consult]', { timeout: 10000 });
  assert.match(await endedWith(who), /The other person is on hold while you consult/);
  assert.deepEqual(await violations(who.page, 'consulting'), []);
  await who.page.click('[data-action=consult-call]');
  await who.page.waitForSelector('[data-consulting]', { timeout: 10000 });
  await who.page.click('[data-action=new-call]');
  const link = (await who.page.textContent('[data-call-link]')).trim();
  await who.page.click('[data-action=join-call]');
  await pressJoin(who);
  return link;
}

describe('consult, then transfer', () => {
  let relay;
  before(async () => { relay = await startRelay(['--park-ttl-secs', '60']); });
  after(async () => { await relay?.stop(); });

  test('the host consults a third browser and hands it the held call without a pasted link', () => withHostAndGuest(async (host, guest) => {
    await transportOnlyCall(relay, host, guest);
    const consultLink = await consultCall(host);
    await guest.page.waitForSelector('[data-call-status=on-hold]', { timeout: 10000 });

    const consulted = await person('consulted');
    try {
      await joinCall(consulted, consultLink);
      await Promise.all([waitForShield(host, 'unlocked'), waitForShield(consulted, 'unlocked')]);
      await Promise.all([waitForRemoteFrames(host), waitForRemoteFrames(consulted)]);
      // Still on hold while they talk.
      assert.equal(await guest.page.getAttribute('[data-call-status]', 'data-call-status'), 'on-hold');

      await host.page.click('[data-action=features]');
      assert.equal(
        (await host.page.textContent('[data-feature=consult-transfer]')).trim(),
        'Transfer the held call to this person',
      );
      await host.page.click('[data-feature=consult-transfer]');
      await consulted.page.waitForSelector('[data-action=join-transferred]', { timeout: 10000 });
      const at = performance.now();
      await consulted.page.click('[data-action=join-transferred]');
      await consulted.page.waitForURL(/\/call\//, { timeout: 10000 });
      await picksUp(consulted, guest);
      console.log(`measured: transfer after consulting -> video both ways in ${(performance.now() - at).toFixed(0)} ms`);
      // The consulting page left the consult call once they went.
      assert.equal(await endedWith(host), 'You transferred the held call.');
      assert.equal(await guest.page.getAttribute('[data-call-status]', 'data-call-status'), 'connected');
    } finally {
      await consulted.close();
    }
  }));

  test('or returns to the held call, which un-holds', () => withHostAndGuest(async (host, guest) => {
    await transportOnlyCall(relay, host, guest);
    await consultCall(host);
    await guest.page.waitForSelector('[data-call-status=on-hold]', { timeout: 10000 });
    await host.page.click('[data-action=return-to-held]');
    await host.page.waitForURL(/\/call\//, { timeout: 10000 });
    await picksUp(host, guest);
    await guest.page.waitForSelector('[data-call-status=connected]');
  }));
});
