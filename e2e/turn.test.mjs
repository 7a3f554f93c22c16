// Calls through a real coturn: the relay hands out short-lived TURN credentials (the TURN REST
// API, `use-auth-secret`), and config.json's `"iceTransportPolicy": "relay"` makes both
// browsers send their media only through the TURN server.

import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import {
  distWithConfig, hostNewCall, joinCall, securityCode, secretFile, startRelay, startTurn,
  waitForRemoteFrames, waitForShield, withHostAndGuest,
} from './harness.mjs';

/** Keep the page's peer connections where the test can read their statistics (the app's own
 * are inside its WebAssembly). Before the page's scripts run; the app sees a real
 * RTCPeerConnection. */
async function exposePeerConnections(who) {
  await who.page.addInitScript(() => {
    const Native = window.RTCPeerConnection;
    window.testPeerConnections = [];
    window.RTCPeerConnection = class extends Native {
      constructor(...args) {
        super(...args);
        window.testPeerConnections.push(this);
      }
    };
  });
}

/** The candidate types of the pair the page's latest connection selected, as getStats says
 * (`{ local, remote }`, e.g. `relay`), or null before one is selected. */
async function selectedPair(who) {
  return who.page.evaluate(async () => {
    const pc = window.testPeerConnections.at(-1);
    if (!pc) return null;
    const stats = await pc.getStats();
    let pair = null;
    stats.forEach((s) => {
      if (s.type === 'transport' && s.selectedCandidatePairId) pair = stats.get(s.selectedCandidatePairId);
    });
    if (!pair) return null;
    const local = stats.get(pair.localCandidateId);
    const remote = stats.get(pair.remoteCandidateId);
    return {
      local: local.candidateType,
      remote: remote.candidateType,
      state: pair.state,
      bytesSent: pair.bytesSent,
      bytesReceived: pair.bytesReceived,
    };
  });
}

describe('calls through a TURN server', () => {
  const turnSecret = randomBytes(24).toString('base64');
  let turn;
  let dist;
  before(async () => {
    turn = await startTurn(turnSecret);
    // Relay candidates only: media through coturn or not at all.
    dist = distWithConfig({ iceServers: [], iceTransportPolicy: 'relay', policy: { e2eeAllowed: true } });
  });
  after(async () => {
    await turn?.stop();
    dist?.remove();
  });

  test('relay-only on both sides: locked, media both ways, the selected pair relayed', async () => {
    const secret = secretFile(turnSecret);
    const relay = await startRelay(['--turn-secret-file', secret.path, '--turn-url', turn.url], undefined, { dist: dist.dir });
    try {
      await withHostAndGuest(async (host, guest) => {
        await exposePeerConnections(host);
        await exposePeerConnections(guest);
        const link = await hostNewCall(host, relay.url);
        const opened = performance.now();
        await joinCall(guest, link);
        await Promise.all([waitForShield(host, 'locked'), waitForShield(guest, 'locked')]);
        const locked = performance.now() - opened;
        console.log(`measured: through TURN, guest opened the link -> locked shield in ${locked.toFixed(0)} ms`);
        assert.equal(await securityCode(guest), await securityCode(host), 'the same security code');

        // Frames decode only if they decrypted, and they can only have come through coturn.
        await Promise.all([waitForRemoteFrames(host), waitForRemoteFrames(guest)]);
        for (const who of [host, guest]) {
          const pair = await selectedPair(who);
          console.log(`measured: ${who.name}'s selected candidate pair: ${JSON.stringify(pair)}`);
          assert.deepEqual([pair?.local, pair?.remote], ['relay', 'relay'], `${who.name}: ${JSON.stringify(pair)}`);
          assert.ok(pair.bytesReceived > 10000, `${who.name} received media through TURN`);
        }
      });
      assert.match(turn.logs(), /ALLOCATE processed, success/, 'coturn made the allocations');
      assert.doesNotMatch(relay.logs(), new RegExp(turnSecret.replace(/[+/=]/g, '.')), 'the secret in the relay log');
    } finally {
      await relay.stop();
      secret.remove();
    }
  });

  test('credentials coturn refuses: the call page says so, soon', async () => {
    // The relay's secret is not coturn's: every credential it hands out is refused (401).
    const secret = secretFile(randomBytes(24).toString('base64'));
    const relay = await startRelay(['--turn-secret-file', secret.path, '--turn-url', turn.url], undefined, { dist: dist.dir });
    try {
      await withHostAndGuest(async (host, guest) => {
        const link = await hostNewCall(host, relay.url);
        const opened = performance.now();
        await joinCall(guest, link);
        await host.page.waitForSelector('[data-call-status=ended]', { timeout: 10000 });
        const shown = performance.now() - opened;
        console.log(`measured: refused TURN credentials shown ${shown.toFixed(0)} ms after the guest opened the link`);
        assert.match(await host.page.textContent('[data-call-status]'), /TURN server refused this call's credentials/);
        assert.ok(host.console.some((line) => /refused this call's credentials \(401\)/.test(line)),
          `the console names the answer: ${host.console.join('\n')}`);
        // The host gathers first, finds out first and leaves; the guest hears that while its
        // own gathering runs, and says why too rather than "the other person left".
        await guest.page.waitForSelector('[data-call-status=ended]', { timeout: 5000 });
        assert.match(await guest.page.textContent('[data-call-status]'), /TURN server refused this call's credentials/);
      });
    } finally {
      await relay.stop();
      secret.remove();
    }
  });
});
