// A tampering relay in front of the release build. An attack on the agreement (keys, the E2EE
// flag, certificates, confirmations), with both people on and with one of them off: both pages
// show the red shield within seconds, and never a lock. One the protocol makes harmless
// (forged or dropped hang-ups, replayed, reordered or malformed signals): the call goes on as
// it was.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  callBetween, endedWith, framesKeepComing, hostNewCall, joinCall, remoteFramesDecoded,
  securityCode, setE2ee, shield, shieldLabel, startRelay, waitForChatMessage, waitForRemoteFrames,
  waitForShield, withHostAndGuest,
} from './harness.mjs';

/** Every state `who`'s shield shows until `stop()`, polled every 50 ms. */
function watchShield(who) {
  const seen = new Set();
  let running = true;
  const done = (async () => {
    while (running) {
      try { seen.add(await shield(who)); } catch { /* between pages */ }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  return { async stop() { running = false; await done; return seen; } };
}

/** Host and guest through `relay` (one of them with E2EE off if `off` names them): both end
 * red, within `withinMs` of the guest opening the link, never locked, and no media decoded. */
async function bothWarned(relay, { off = null, withinMs, reason }) {
  await withHostAndGuest(async (host, guest) => {
    if (off) await setE2ee(off === 'host' ? host : guest, relay.url, false);
    const link = await hostNewCall(host, relay.url);
    const watches = [watchShield(host), watchShield(guest)];
    const opened = performance.now();
    await joinCall(guest, link);
    await Promise.all([waitForShield(host, 'warning', withinMs), waitForShield(guest, 'warning', withinMs)]);
    console.log(`measured: ${reason}, ${off ?? 'nobody'} off: both red ${(performance.now() - opened).toFixed(0)} ms after the link opened`);
    const [hostSeen, guestSeen] = await Promise.all(watches.map((w) => w.stop()));
    assert.ok(!hostSeen.has('locked') && !guestSeen.has('locked'), `never a lock: ${[...hostSeen]} / ${[...guestSeen]}`);
    for (const who of [host, guest]) {
      assert.match(await shieldLabel(who), reason, who.name);
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(await remoteFramesDecoded(host), 0, 'nothing reaches the host decoder');
    assert.equal(await remoteFramesDecoded(guest), 0, 'nothing reaches the guest decoder');
    return { host, guest };
  });
}

describe('a relay that adds its own certificate fingerprint to every offer and answer', () => {
  let relay;
  before(async () => { relay = await startRelay(['--mitm-add-fingerprint']); });
  after(async () => { await relay?.stop(); });

  // The guest refuses the offer (a second certificate) and says so at once; it never answers,
  // so the host, left without a confirmation, says so when its wait for one runs out.
  const refused = /second certificate|could not be confirmed/i;
  test('both on: both red, never locked', () => bothWarned(relay, { withinMs: 20000, reason: refused }));
  test('the guest off: both red, not a plain unlocked shield', () => bothWarned(relay, { off: 'guest', withinMs: 20000, reason: refused }));

  test('the page keeps saying an attack was seen after the other person leaves', () => withHostAndGuest(async (host, guest) => {
    const link = await hostNewCall(host, relay.url);
    await joinCall(guest, link);
    await waitForShield(host, 'warning');
    await guest.page.close();
    // The relay tells the host the guest left: the shield goes back to waiting for someone,
    // but the page does not forget what it saw.
    await host.page.waitForSelector('[data-attack-seen]', { timeout: 15000 });
    assert.notEqual(await shield(host), 'warning');
    assert.match(await host.page.textContent('[data-attack-seen]'), /security problem was detected earlier in this call/i);
  }));
});

describe('a relay that drops every key confirmation', () => {
  let relay;
  before(async () => { relay = await startRelay(['--mitm-drop-confirm']); });
  after(async () => { await relay?.stop(); });

  // Nothing proves the agreement: "connecting" must end in the warning, not last for ever.
  const unconfirmed = /could not be confirmed/i;
  test('both on: the warning, not endless connecting', () => bothWarned(relay, { withinMs: 25000, reason: unconfirmed }));
  test('the host off: the warning, not a plain unlocked shield', () => bothWarned(relay, { off: 'host', withinMs: 25000, reason: unconfirmed }));
});

// The attacks of version 2 (e2e/call.test.mjs has them with both on), with one person off:
// a side that turned E2EE off must not settle for a plain unlocked shield either.
describe('a relay that swaps the hello keys, one person off', () => {
  let relay;
  before(async () => { relay = await startRelay(['--mitm-swap-keys']); });
  after(async () => { await relay?.stop(); });
  test('the guest off: both red', () => bothWarned(relay, { off: 'guest', withinMs: 20000, reason: /intercept/i }));
});

describe('a relay that turns E2EE off in the guest\'s hello, one person off', () => {
  let relay;
  before(async () => { relay = await startRelay(['--mitm-flip-e2ee']); });
  after(async () => { await relay?.stop(); });
  test('the host off: both red', () => bothWarned(relay, { off: 'host', withinMs: 20000, reason: /intercept/i }));
});

describe('a relay that puts its own certificate in the answer, after the guest confirmed its own', () => {
  let relay;
  before(async () => { relay = await startRelay(['--mitm-swap-answer-fp']); });
  after(async () => { await relay?.stop(); });

  // The guest confirms with its certificate before it answers (PROTOCOL.md change 52), so both
  // may lock for a moment on genuine keys. The host then refuses the answer, whose certificate
  // is not the confirmed one, and takes its confirmation back: both end red, the answer is
  // never applied, and no media passes.
  test('both on: both red, no media, and it stays so', () => withHostAndGuest(async (host, guest) => {
    const link = await hostNewCall(host, relay.url);
    const opened = performance.now();
    await joinCall(guest, link);
    await Promise.all([waitForShield(host, 'warning', 10000), waitForShield(guest, 'warning', 10000)]);
    console.log(`measured: a replaced answer certificate: both red ${(performance.now() - opened).toFixed(0)} ms after the link opened`);
    assert.match(await shieldLabel(host), /fingerprint is missing or changed/i);
    assert.match(await shieldLabel(guest), /differs from what yours sent/i);
    await new Promise((resolve) => setTimeout(resolve, 1500));
    assert.equal(await shield(host), 'warning');
    assert.equal(await shield(guest), 'warning');
    assert.equal(await remoteFramesDecoded(host), 0, 'nothing reaches the host decoder');
    assert.equal(await remoteFramesDecoded(guest), 0, 'nothing reaches the guest decoder');
  }));
});

describe('a relay that says each person hung up, in the other one\'s name', () => {
  let relay;
  before(async () => { relay = await startRelay(['--mitm-forge-bye']); });
  after(async () => { await relay?.stop(); });

  // Three seconds after each key confirmation the relay sends its receiver two hang-ups it
  // made up (PROTOCOL.md change 55): neither is signed by the other person, so neither ends
  // the call. The real hang-up, signed, still does.
  test('both on: the call goes on, locked, and only the real hang-up ends it', () => withHostAndGuest(async (host, guest) => {
    // Past the forgeries, with a margin.
    await callOutlives(host, guest, relay, 5000);
    await host.page.click('[data-control=hang-up]');
    assert.match(await endedWith(guest, 10000), /hung up/);
  }));
});

describe('a relay that replays each side\'s signals after its key confirmation', () => {
  let relay;
  before(async () => { relay = await startRelay(['--mitm-replay']); });
  after(async () => { await relay?.stop(); });

  // Three seconds after each side's first key confirmation the relay sends the other side
  // everything that side said until then, again: the host's hello, offer, candidates and
  // confirmation; the guest's hello and confirmation (it confirms before it answers). Each copy
  // changes nothing (PROTOCOL.md change 59: the offer the connection answers among them), so
  // the call goes on, locked, as if nothing had come.
  test('both on: the call goes on, locked, with the same code', () => withHostAndGuest(async (host, guest) => {
    // Past the replay, with a margin.
    await callOutlives(host, guest, relay, 6000);
    // The replay did come: the guest dropped the offer's copy.
    assert.ok(guest.console.some((line) => line.includes('a copy of the offer this connection answers')), guest.console.join('\n'));
  }));
});

describe('a relay that holds every offer and answer back', () => {
  let relay;
  before(async () => { relay = await startRelay(['--mitm-reorder']); });
  after(async () => { await relay?.stop(); });

  // Each description reaches the other side 500 ms late, after whatever its sender sent next
  // (today mostly the guest's candidates, ahead of its answer): the pages keep what comes early
  // and still lock.
  for (const off of [null, 'guest']) {
    test(`${off ? 'the guest off' : 'both on'}: the call is set up all the same`, () => withHostAndGuest(async (host, guest) => {
      if (off) await setE2ee(guest, relay.url, false);
      const state = off ? 'unlocked' : 'locked';
      await callBetween(host, guest, relay.url, state);
      if (!off) assert.equal(await securityCode(guest), await securityCode(host));
      await Promise.all([waitForRemoteFrames(host), waitForRemoteFrames(guest)]);
      await channelCarries(guest, host, 'late but in order');
    }));
  }
});

describe('a relay that sends garbage after each key confirmation', () => {
  let relay;
  before(async () => { relay = await startRelay(['--mitm-garbage']); });
  after(async () => { await relay?.stop(); });

  // Not JSON, an unknown type, an offer without SDP, a confirmation whose MAC is not base64url,
  // a 60 KiB candidate: each page drops them, and the call goes on as it was.
  test('both on: the call goes on, locked, with the same code', () => withHostAndGuest(async (host, guest) => {
    // Past the garbage, with a margin.
    await callOutlives(host, guest, relay, 5000);
  }));
});

/** A locked call between `host` and `guest` through `relay` outlives what the relay does in the
 * next `waitMs`: watched from the lock, both shields locked throughout, neither call ended, the
 * same code, both still connected to the relay, video both ways, and chat over the channel. */
async function callOutlives(host, guest, relay, waitMs) {
  await callBetween(host, guest, relay.url);
  const watches = [watchShield(host), watchShield(guest)];
  const code = await securityCode(host);
  await Promise.all([waitForRemoteFrames(host), waitForRemoteFrames(guest)]);
  await new Promise((resolve) => setTimeout(resolve, waitMs));
  const [hostSeen, guestSeen] = await Promise.all(watches.map((w) => w.stop()));
  assert.deepEqual([[...hostSeen], [...guestSeen]], [['locked'], ['locked']], 'locked throughout');
  for (const who of [host, guest]) {
    assert.equal(await who.page.$('[data-call-status=ended]'), null, `${who.name}: not ended`);
    assert.equal(await securityCode(who), code, who.name);
    assert.equal(await who.page.getAttribute('[data-relay]', 'data-relay'), 'connected', who.name);
    await framesKeepComing(who);
  }
  await channelCarries(host, guest, 'still talking');
}

/** `from`'s data channel is open: a chat message from it reaches `to` (chat goes on it). */
async function channelCarries(from, to, text) {
  await from.page.click('[data-control=chat]');
  await from.page.fill('[data-chat-input]', text);
  await from.page.keyboard.press('Enter');
  await to.page.click('[data-control=chat]');
  await waitForChatMessage(to, text);
}

describe('a relay that drops every hang-up', () => {
  let relay;
  before(async () => { relay = await startRelay(['--mitm-drop-bye']); });
  after(async () => { await relay?.stop(); });

  // Under E2EE the signed hang-up also goes on the media connection (PROTOCOL.md change 57),
  // where the relay cannot drop it: the other person is told at once that the call was hung
  // up, not left waiting for a connection that is gone.
  test('both on: the other person is told at once', () => withHostAndGuest(async (host, guest) => {
    await callBetween(host, guest, relay.url);
    await waitForRemoteFrames(guest);
    await channelCarries(host, guest, 'the channel is open');
    const pressed = performance.now();
    await host.page.click('[data-control=hang-up]');
    assert.match(await endedWith(guest, 10000), /hung up/);
    console.log(`measured: a hang-up the relay dropped reached the guest ${(performance.now() - pressed).toFixed(0)} ms after the press`);
  }));

  // A transport-only call is confirmed with the link secret too, so its signed hang-up goes
  // on the media connection as well (change 58).
  test('the guest off: the host is told at once too', () => withHostAndGuest(async (host, guest) => {
    await setE2ee(guest, relay.url, false);
    await callBetween(host, guest, relay.url, 'unlocked');
    await waitForRemoteFrames(host);
    await channelCarries(guest, host, 'the channel is open');
    const pressed = performance.now();
    await guest.page.click('[data-control=hang-up]');
    assert.match(await endedWith(host, 10000), /hung up/);
    console.log(`measured: a transport-only hang-up the relay dropped reached the host ${(performance.now() - pressed).toFixed(0)} ms after the press`);
  }));
});
