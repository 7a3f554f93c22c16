// The relay's page policy and Origin check, as a real Chromium meets them.

import assert from 'node:assert/strict';
import { once } from 'node:events';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { person, startRelay } from './harness.mjs';

const CALL_ID = 'AAAAAAAAAAAAAAAAAAAAAA';

describe('the relay and the browser', () => {
  test('the policy refuses an inline script, and the harness fails the test for it', async () => {
    const dist = await mkdtemp(join(tmpdir(), 'shieldcall-csp-'));
    await writeFile(join(dist, 'index.html'),
      '<!doctype html><title>before</title><script>document.title = "ran";</script>');
    // A later --dist wins over the harness's own.
    const relay = await startRelay(['--dist', dist]);
    const who = await person('visitor');
    try {
      await who.page.goto(`${relay.url}/settings`);
      await who.page.waitForTimeout(300);
      assert.equal(await who.page.title(), 'before', 'the inline script must not run');
    } finally {
      await assert.rejects(who.close(), /broke its Content-Security-Policy/);
      await relay.stop();
      await rm(dist, { recursive: true, force: true });
    }
  });

  test('a page of another origin gets no socket, unless the relay allows that origin', async () => {
    // A page without the relay's policy (its connect-src would stop the attempt in the browser,
    // before the relay's own check), on another port: another origin.
    const server = createServer((_, response) => {
      response.writeHead(200, { 'content-type': 'text/html' }).end('<!doctype html><title>other</title>');
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const other = `http://127.0.0.1:${server.address().port}`;
    const refusing = await startRelay();
    const allowing = await startRelay(['--allow-origin', other]);
    const who = await person('other-site');
    try {
      await who.page.goto(other);
      // Resolves to the relay's first message, or to how the socket failed.
      const tryJoin = (relayUrl) => who.page.evaluate(([url, id]) => new Promise((resolve) => {
        const socket = new WebSocket(`${url.replace('http', 'ws')}/ws/${id}`);
        socket.onopen = () => socket.send('{"t":"join"}');
        socket.onmessage = (event) => { resolve(String(event.data)); socket.close(); };
        socket.onclose = (event) => resolve(`closed ${event.code}`);
      }), [relayUrl, CALL_ID]);
      assert.equal(await tryJoin(refusing.url), 'closed 1006', 'refused before the upgrade');
      assert.match(await tryJoin(allowing.url), /^\{"t":"joined","peers":0,/);
    } finally {
      await who.close();
      await refusing.stop();
      await allowing.stop();
      server.close();
    }
  });
});
