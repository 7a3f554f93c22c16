// A relay cluster for real: three relay processes sharing rooms through a real redis-server,
// two browsers on different nodes, and the host's node killed mid-call.

import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import {
  hostNewCall, joinCall, pressJoin, securityCode, startFailoverProxy, startRedis, startRelay,
  waitForRemoteFrames, waitForShield, withHostAndGuest,
} from './harness.mjs';

let redis;
let nodes = [];
before(async () => {
  redis = await startRedis();
  // A short lease, so that a killed node's places are known to be free soon (the default is 10 s).
  const cluster = (id) => ['--cluster', redis.url, '--node-id', id, '--cluster-lease-ms', '1500'];
  nodes = [await startRelay(cluster('a')), await startRelay(cluster('b')), await startRelay(cluster('c'))];
});
after(async () => {
  for (const node of nodes) await node.stop();
  await redis?.stop();
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
