// A relay cluster for real: three relay processes sharing rooms through a real redis-server,
// two browsers on different nodes, the host's node killed mid-call, a call moved to another
// device through another node, and a call parked on one node and picked up by its code through
// another (the nodes have no groups: the menu says so before anyone presses).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import {
  endedWith, framesKeepComing, hostNewCall, joinCall, parkCall, person, picksUp, pressJoin,
  securityCode, setE2ee, startFailoverProxy, startRedis, startRelay, told, typePickupCode,
  waitForRemoteFrames, waitForShield, withHostAndGuest,
} from './harness.mjs';

let redis;
let nodes = [];
// The secret the nodes share to seal parks with; Redis never sees it.
const secretDir = mkdtempSync(join(tmpdir(), 'shieldcall-cluster-'));
const secretFile = join(secretDir, 'secret');
before(async () => {
  redis = await startRedis();
  writeFileSync(secretFile, `${'k'.repeat(16)}-a-secret-for-this-test-only\n`, { mode: 0o600 });
  // A short lease, so that a killed node's places are known to be free soon (the default is 10 s).
  const cluster = (id) => [
    '--cluster', redis.url, '--node-id', id, '--cluster-lease-ms', '1500',
    '--cluster-secret-file', secretFile, '--park-ttl-secs', '60',
  ];
  nodes = [await startRelay(cluster('a')), await startRelay(cluster('b')), await startRelay(cluster('c'))];
});
after(async () => {
  for (const node of nodes) await node.stop();
  await redis?.stop();
  rmSync(secretDir, { recursive: true, force: true });
});

test('host and guest on different relay nodes: the call locks, and goes on when the host\'s node is killed', () => withHostAndGuest(async (host, guest) => {
  const [a, b, c] = nodes;
  // The host reaches the cluster through a balancer that prefers node A; the guest uses node C.
  const balancer = await startFailoverProxy([a.url, b.url]);
  try {
    const link = await hostNewCall(host, balancer.url);
    await joinCall(guest, link.replace(balancer.url, c.url));
    await Promise.all([waitForShield(host, 'locked'), waitForShield(guest, 'locked')]);
    const before = await securityCode(host);
    assert.equal(await securityCode(guest), before, 'one call across two nodes: the same code');
    await Promise.all([waitForRemoteFrames(host), waitForRemoteFrames(guest)]);

    // Node A dies without a word: the host's page reconnects through the balancer to node B and
    // takes its place back with its rejoin token.
    await a.kill();
    await host.page.waitForSelector('[data-relay=reconnecting]', { timeout: 10000 });
    await host.page.waitForSelector('[data-relay=connected]', { timeout: 20000 });
    assert.equal(await guest.page.getAttribute('[data-relay]', 'data-relay'), 'connected');
    await Promise.all([waitForShield(host, 'locked'), waitForShield(guest, 'locked')]);

    // The signalling still works across nodes B and C: a guest who reloads is back in the call,
    // locked under a fresh agreement, and media flows both ways.
    await guest.page.reload();
    await pressJoin(guest);
    await Promise.all([waitForShield(host, 'locked'), waitForShield(guest, 'locked')]);
    const after = await securityCode(host);
    assert.equal(await securityCode(guest), after);
    assert.notEqual(after, before, 'a fresh agreement');
    await Promise.all([waitForRemoteFrames(host), waitForRemoteFrames(guest)]);
    assert.doesNotMatch(b.logs() + c.logs(), /panicked/);
  } finally {
    await balancer.stop();
  }
}));

test('a call moves to another device through another node: re-keyed, both locked with a new code', () => withHostAndGuest(async (host, guest) => {
  const [, b, c] = nodes; // A was killed above
  const link = await hostNewCall(host, b.url);
  await joinCall(guest, link.replace(b.url, c.url));
  await Promise.all([waitForShield(host, 'locked'), waitForShield(guest, 'locked')]);
  const before = await securityCode(guest);
  // The token is issued on node B; the new device presents it to node C.
  await host.page.click('[data-action=features]');
  await host.page.click('[data-feature=move-device]');
  await host.page.waitForSelector('[data-move-link]', { timeout: 10000 });
  const moveUrl = (await host.page.inputValue('[data-move-url]')).replace(b.url, c.url);
  const phone = await person('phone');
  try {
    await joinCall(phone, moveUrl);
    assert.equal(await endedWith(host), 'This call moved to another device.');
    await told(guest, 'The other person moved the call to another device.');
    await Promise.all([waitForShield(phone, 'locked'), waitForShield(guest, 'locked')]);
    const after = await securityCode(phone);
    assert.equal(await securityCode(guest), after);
    assert.notEqual(after, before);
    await waitForRemoteFrames(phone, 20);
    await framesKeepComing(guest, 20);
  } finally {
    await phone.close();
  }
}));

test('a call parked on one node is picked up by its code through another, video both ways', () => withHostAndGuest(async (host, guest) => {
  const [, b, c] = nodes; // A was killed above
  await setE2ee(host, b.url, false);
  const link = await hostNewCall(host, b.url);
  await joinCall(guest, link.replace(b.url, c.url));
  await Promise.all([waitForShield(host, 'unlocked'), waitForShield(guest, 'unlocked')]);
  await Promise.all([waitForRemoteFrames(host), waitForRemoteFrames(guest)]);
  // A cluster has no groups: its `joined` says so, and the menu says why before anyone presses
  // (no link that would meet `full`); parking, which these nodes offer, is on.
  // (The menu's list stays in the document while it is closed.)
  for (const who of [host, guest]) {
    assert.equal(await who.page.isDisabled('[data-feature=add-participant]'), true);
    assert.equal(await who.page.isDisabled('[data-feature=merge]'), true);
    assert.equal(await who.page.isDisabled('[data-feature=park]'), false);
    const why = await who.page.textContent('[data-feature=add-participant] + .feature-why');
    assert.match(why, /this call's relay: it has no group calls/);
  }
  // The host parks through node B: its page shows the code and leaves; the guest, on node C, is on hold.
  const { code } = await parkCall(host);
  assert.match(await endedWith(host), /You parked the call/);
  await guest.page.waitForSelector('[data-call-status=on-hold]', { timeout: 10000 });
  await told(guest, 'The other person parked the call: you are on hold');
  // A colleague types the code on node C's home page: found there, picked up there.
  const colleague = await person('colleague');
  try {
    await typePickupCode(colleague, c.url, code);
    await colleague.page.waitForURL(/\/call\//, { timeout: 10000 });
    await picksUp(colleague, guest);
    // The code again, through node B: already picked up.
    const late = { page: await colleague.page.context().newPage() };
    await typePickupCode(late, b.url, code);
    await late.page.waitForFunction(
      () => document.querySelector('[data-pickup-problem]')?.textContent.includes('already picked up'),
      null,
      { timeout: 10000 },
    );
    await framesKeepComing(guest, 20);
  } finally {
    await colleague.close();
  }
}));

test('while the relay cannot reach its cluster, a person joining is told so, and gets in once it is back', () => withHostAndGuest(async (host, guest) => {
  const [, b, c] = nodes; // A was killed above
  const link = await hostNewCall(host, b.url);
  await redis.stop();
  // Node C cannot place the guest: it says why and closes (1013); the page says so and retries.
  await joinCall(guest, link.replace(b.url, c.url));
  await guest.page.waitForSelector('[data-relay=disconnected]', { timeout: 10000 });
  assert.match(await guest.page.textContent('[data-call-status]'), /relay cannot reach its cluster/);
  // Redis back (empty, where it was): node B writes the host's place back, the guest gets in.
  redis = await startRedis(redis.port);
  await Promise.all([waitForShield(host, 'locked', 30000), waitForShield(guest, 'locked', 30000)]);
  assert.equal(await securityCode(guest), await securityCode(host));
  await Promise.all([waitForRemoteFrames(host), waitForRemoteFrames(guest)]);
}));
