// Two real Chromium instances call each other through the real relay and the built app.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  callBetween, framesKeepComing, hostNewCall, joinCall, person, pressJoin, printSteps, readyToJoin,
  remoteFramesDecoded, securityCode, setE2ee, setupSteps, shield, shieldLabel, startCuttableProxy,
  startRelay, told, waitForRemoteFrames, waitForShield, withHostAndGuest,
} from './harness.mjs';

describe('calls between two browsers', () => {
  let relay;
  before(async () => { relay = await startRelay(); });
  after(async () => { await relay?.stop(); });

  test('both with E2EE on: locked shields, equal codes, media decrypted both ways, chat', () => withHostAndGuest(async (host, guest) => {
    const link = await hostNewCall(host, relay.url);
    const [opened, openedAt] = [performance.now(), Date.now()];
    await guest.page.goto(link);
    await readyToJoin(guest);
    const joinedAt = performance.now();
    await pressJoin(guest);
    await Promise.all([waitForShield(host, 'locked'), waitForShield(guest, 'locked')]);
    const lockedAfter = performance.now() - opened;
    console.log(`measured: guest opened the link -> locked shield in ${lockedAfter.toFixed(0)} ms (pressed Join after ${(joinedAt - opened).toFixed(0)} ms, locked ${(performance.now() - joinedAt).toFixed(0)} ms after)`);
    // Where that time went: both pages' set-up steps on one clock.
    const steps = (await setupSteps(host, guest)).filter((s) => s.at >= openedAt - 5);
    printSteps(steps, openedAt);
    const locks = steps.filter((s) => s.step === 'shield locked');
    assert.deepEqual(locks.map((s) => s.who).sort(), ['guest', 'host'], 'both pages marked their lock');
    const bothLocked = Math.max(...locks.map((s) => s.at)) - openedAt;
    console.log(`measured: guest opened the link -> both shields locked (page marks) in ${bothLocked.toFixed(0)} ms`);
    const [pressed] = steps.filter((s) => s.who === 'guest' && s.step === 'join pressed');
    assert.ok(pressed, 'the guest marked pressing Join');
    const fromJoin = Math.max(...locks.map((s) => s.at)) - pressed.at;
    console.log(`measured: guest pressed Join -> both shields locked (page marks) in ${fromJoin.toFixed(0)} ms`);

    // While E2EE is on, recording is unavailable and says why.
    await host.page.click('[data-action=features]');
    assert.equal(await host.page.isDisabled('[data-feature=recording]'), true);
    assert.match(await host.page.textContent('.features-menu'), /not available in end-to-end encrypted calls/i);
    await host.page.click('[data-action=features]');

    const [hostCode, guestCode] = [await securityCode(host), await securityCode(guest)];
    assert.match(hostCode, /^\d{5} \d{5} \d{5} \d{5}$/);
    assert.equal(guestCode, hostCode, 'both see the same 20-digit code');

    // Frames decode only if they decrypted: the worker drops anything that does not.
    await Promise.all([waitForRemoteFrames(host), waitForRemoteFrames(guest)]);
    // Load and first-frame times, each from its page's own navigation.
    const markedAt = (who, step) => who.page.evaluate(
      (name) => performance.getEntriesByName(name, 'mark')[0]?.startTime, `shieldcall: ${step}`);
    const [homeReady, firstFrame] = [await markedAt(host, 'home ready'), await markedAt(guest, 'remote video: first frame')];
    assert.ok(homeReady > 0 && firstFrame > 0, 'both pages marked the moment');
    console.log(`measured: navigation -> home page ready (host) in ${homeReady.toFixed(0)} ms`);
    console.log(`measured: guest opened the link -> first frame of the host's video in ${firstFrame.toFixed(0)} ms`);
    // What the guest's first visit carried: the app's files came compressed (the relay sends
    // make dist's brotli copies), the app's wasm at well under half its size.
    const loaded = await guest.page.evaluate(() => performance.getEntriesByType('resource')
      .filter((r) => /\.(wasm|js|css)$/.test(new URL(r.name).pathname))
      .map((r) => ({ name: new URL(r.name).pathname, sent: r.transferSize, size: r.decodedBodySize })));
    const appWasm = loaded.find((r) => /^\/shieldcall-[0-9a-f]+_bg\.wasm$/.test(r.name));
    assert.ok(appWasm && appWasm.sent > 0 && appWasm.sent < appWasm.size / 2, `the app's wasm compressed: ${JSON.stringify(loaded)}`);
    const sum = (key) => loaded.reduce((total, r) => total + r[key], 0);
    console.log(`measured: the guest's page loaded ${loaded.length} files of wasm, JS and CSS: ${sum('sent')} B over the wire for ${sum('size')} B (the app's wasm ${appWasm.sent} B for ${appWasm.size} B)`);

    // A laptop's and a phone's window: the call fills it and the page never scrolls.
    await host.page.setViewportSize({ width: 1280, height: 800 });
    await guest.page.setViewportSize({ width: 390, height: 844 });
    for (const who of [host, guest]) {
      const fits = await who.page.evaluate(() => {
        const root = document.documentElement;
        const stage = document.querySelector('.stage').getBoundingClientRect();
        const hangUp = document.querySelector('[data-control=hang-up]').getBoundingClientRect();
        return root.scrollHeight <= innerHeight && root.scrollWidth <= innerWidth
          && stage.height > innerHeight / 2 && hangUp.bottom <= innerHeight && hangUp.right <= innerWidth;
      });
      assert.ok(fits, `${who.name}: the call fits the window without scrolling`);
    }
    assert.match(await host.page.textContent('[data-call-timer]'), /^\d\d:\d\d$/, 'the call timer runs');

    // The self view moves: dragged to the top left, then with the arrow keys to the top right.
    const tile = host.page.locator('.tile--self');
    assert.equal(await tile.getAttribute('data-corner'), 'bottom-right');
    const [box, stage] = [await tile.boundingBox(), await host.page.locator('.stage').boundingBox()];
    await host.page.mouse.move(box.x + box.width / 2, box.y + box.height / 2);
    await host.page.mouse.down();
    await host.page.mouse.move(stage.x + stage.width * 0.2, stage.y + stage.height * 0.25, { steps: 5 });
    await host.page.mouse.up();
    assert.equal(await tile.getAttribute('data-corner'), 'top-left', 'let go in the top left quarter');
    const moved = await tile.boundingBox();
    assert.ok(moved.x < stage.x + stage.width / 2 && moved.y < stage.y + stage.height / 2, 'and it is drawn there');
    await tile.focus();
    await host.page.keyboard.press('ArrowRight');
    assert.equal(await tile.getAttribute('data-corner'), 'top-right');
    assert.match(await tile.getAttribute('aria-label'), /in the top right corner/);

    // The code: copied to the clipboard as shown, and marked compared in this call.
    await host.page.click('[data-shield]');
    await host.page.click('[data-action=copy-code]');
    await host.page.waitForSelector('[data-copy-status]:has-text("Copied.")');
    assert.equal(await host.page.evaluate(() => navigator.clipboard.readText()), hostCode);
    await host.page.click('[data-action=verify]');
    await host.page.waitForSelector('p[data-verified]');
    // E2EE health: the received video's decrypted frames go up while the call goes on.
    await host.page.click('[data-health] summary');
    const decrypted = async () => Number(await host.page.textContent('[data-track=video-receive] [data-count=frames]'));
    const first = await decrypted();
    assert.ok(first > 0, `frames decrypted: ${first}`);
    await host.page.waitForFunction((n) => Number(document.querySelector('[data-track=video-receive] [data-count=frames]').textContent) > n, first, { timeout: 5000 });
    assert.equal(await host.page.textContent('[data-track=video-receive] [data-count=auth-failures]'), '0');
    // Video frames above the crossover had their AES-GCM done by WebCrypto, both ways: the
    // worker's loader loaded the script that makes those calls (js/frames.js).
    for (const track of ['video-send', 'video-receive']) {
      const count = async (column) => Number(await host.page.textContent(`[data-track=${track}] [data-count=${column}]`));
      const [frames, webcrypto] = [await count('frames'), await count('webcrypto')];
      console.log(`measured: host ${track}: ${frames} frames, ${webcrypto} of them via WebCrypto`);
      assert.ok(webcrypto > 0 && webcrypto <= frames, `${track}: frames via WebCrypto (${webcrypto} of ${frames})`);
    }
    assert.match(await host.page.textContent('[data-health-keys]'), /End-to-end keys, epoch 0/);
    await host.page.keyboard.press('Escape');
    assert.equal(await host.page.getAttribute('[data-shield]', 'data-verified'), 'true');

    // Shortcuts: M mutes and unmutes; ? lists the shortcuts, Escape closes the list.
    await guest.page.locator('body').press('m');
    await guest.page.waitForSelector('[data-control=mute][aria-pressed=true]');
    await guest.page.keyboard.press('m');
    await guest.page.waitForSelector('[data-control=mute][aria-pressed=false]');
    await guest.page.keyboard.press('?');
    await guest.page.waitForSelector('.shortcuts-help:not([hidden])');
    await guest.page.keyboard.press('Escape');
    await guest.page.waitForSelector('.shortcuts-help', { state: 'hidden' });

    await guest.page.click('[data-control=chat]');
    await guest.page.fill('[data-chat-input]', 'hello from the guest');
    await guest.page.keyboard.press('Enter');
    // The host's chat is closed: a notice says a message came (a polite live region), until
    // the chat is opened.
    await told(host, 'New message in the chat');
    await host.page.click('[data-control=chat]');
    await host.page.waitForSelector('.chat-messages li:has-text("hello from the guest")', { timeout: 10000 });
    assert.doesNotMatch(await host.page.textContent('.notices'), /New message in the chat/);

    // The host shares the screen: the guest's stage shows it, decoded (so decrypted); when
    // the host stops, the guest's stage goes back to the camera.
    await host.page.click('[data-control=share]');
    await guest.page.waitForSelector('[data-layout=screen]', { timeout: 10000 });
    await guest.page.waitForFunction(() => {
      const v = document.querySelector('[data-video=remote-screen]');
      return v && v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > 5;
    }, null, { timeout: 10000 });
    await host.page.click('[data-control=share]');
    await guest.page.waitForSelector('[data-layout=camera]', { timeout: 10000 });
  }));

  test('a guest who presses Join at once, before the preview starts: both lock, video both ways', () => withHostAndGuest(async (host, guest) => {
    const link = await hostNewCall(host, relay.url);
    const openedAt = Date.now();
    // The press as soon as Join shows, not once the page's load event has fired (which a
    // person does not wait for, and which can come after Join shows).
    await guest.page.goto(link, { waitUntil: 'commit' });
    await guest.page.click('[data-prejoin] [data-action=join]');
    await Promise.all([waitForShield(host, 'locked'), waitForShield(guest, 'locked')]);
    const steps = (await setupSteps(host, guest)).filter((s) => s.at >= openedAt - 5);
    printSteps(steps, openedAt);
    const locks = steps.filter((s) => s.step === 'shield locked');
    assert.deepEqual(locks.map((s) => s.who).sort(), ['guest', 'host'], 'both pages marked their lock');
    const [pressed] = steps.filter((s) => s.who === 'guest' && s.step === 'join pressed');
    assert.ok(pressed, 'the guest marked pressing Join');
    const bothLocked = Math.max(...locks.map((s) => s.at));
    console.log(`measured: guest opened the link and pressed Join at once (after ${(pressed.at - openedAt).toFixed(0)} ms) -> both shields locked (page marks) in ${(bothLocked - openedAt).toFixed(0)} ms`);
    // The same time in its three parts: the page until Join can be pressed, the press
    // (Playwright's checks and input events: a person takes longer), Join to both locked.
    const [ready] = steps.filter((s) => s.who === 'guest' && s.step === 'pre-join screen');
    assert.ok(ready, 'the guest marked its pre-join screen');
    const part = (from, to) => (to - from).toFixed(0);
    console.log(`measured: link -> Join can be pressed ${part(openedAt, ready.at)} ms, the press ${part(ready.at, pressed.at)} ms, Join -> both locked ${part(pressed.at, bothLocked)} ms`);
    // The camera came after Join: its tracks still reach the host, decrypted.
    const seen = async (who, name) => waitForRemoteFrames(who).then(() => null, () => name);
    const missing = (await Promise.all([seen(host, 'host'), seen(guest, 'guest')])).filter(Boolean);
    const state = async (who) => who.page.evaluate(() => [...document.querySelectorAll('video')].map((v) => `${v.dataset.video}:${v.videoWidth}x${v.videoHeight}:${v.getVideoPlaybackQuality().totalVideoFrames}`).join(' '));
    assert.deepEqual(missing, [], `video on both sides (host: ${await state(host)}; guest: ${await state(guest)})`);
    assert.equal(await guest.page.getAttribute('[data-control=camera]', 'aria-pressed'), 'true', 'the camera is on (pressed)');
  }));

  test('a screen shared before the guest arrives reaches the guest', () => withHostAndGuest(async (host, guest) => {
    const link = await hostNewCall(host, relay.url);
    await host.page.click('[data-control=share]');
    await host.page.waitForSelector('[data-control=share][aria-pressed=true]', { timeout: 10000 });
    await joinCall(guest, link);
    await waitForShield(guest, 'locked');
    await guest.page.waitForSelector('[data-layout=screen]', { timeout: 15000 });
    await guest.page.waitForFunction(() => {
      const v = document.querySelector('[data-video=remote-screen]');
      return v && v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames > 5;
    }, null, { timeout: 10000 });
  }));

  test('one with E2EE off: both unlocked with the right reason, media still flows', () => withHostAndGuest(async (host, guest) => {
    await setE2ee(guest, relay.url, false);
    await callBetween(host, guest, relay.url, 'unlocked');
    // The reason, as the shield tells it (its accessible label carries the whole sentence).
    assert.match(await shieldLabel(host), /other person has end-to-end encryption off/i);
    assert.match(await shieldLabel(guest), /you turned off end-to-end encryption/i);
    await Promise.all([waitForRemoteFrames(host), waitForRemoteFrames(guest)]);

    // Without E2EE, the call can be recorded: a real .webm of the call is made.
    await host.page.click('[data-action=features]');
    await host.page.click('[data-feature=recording]');
    await host.page.waitForTimeout(1500);
    await host.page.click('[data-feature=recording]');
    const recording = await host.page.waitForSelector('[data-recording-link]', { timeout: 10000 });
    const size = Number(await recording.getAttribute('data-size'));
    assert.ok(size > 1000, `the recording has content (${size} bytes)`);
  }));

  test('a third browser opening the link is told the call is full', async () => {
    const [host, guest, third] = [await person('host'), await person('guest'), await person('third')];
    try {
      const link = await hostNewCall(host, relay.url);
      await joinCall(guest, link);
      await waitForShield(guest, 'locked');
      await joinCall(third, link);
      await third.page.waitForSelector('[data-call-status=full]', { timeout: 10000 });
      assert.match(await third.page.textContent('[data-call-status]'), /already has two people/);
      // The call of the two is undisturbed.
      assert.equal(await shield(host), 'locked');
      const before = await remoteFramesDecoded(guest);
      await guest.page.waitForTimeout(1000);
      assert.ok((await remoteFramesDecoded(guest)) > before, 'media still flows');
    } finally {
      await Promise.all([host.close(), guest.close(), third.close()]);
    }
  });
});

describe('when things go wrong', () => {
  let relay;
  before(async () => { relay = await startRelay(); });
  after(async () => { await relay?.stop(); });

  test('a guest who reloads is back in the call, locked again under new keys', () => withHostAndGuest(async (host, guest) => {
    await callBetween(host, guest, relay.url);
    const before = await securityCode(host);
    // The link's secret left the address bar and the history as soon as the page read it.
    assert.equal(await guest.page.evaluate(() => location.hash), '');
    assert.equal(new URL(guest.page.url()).hash, '');

    await guest.page.reload();
    // The app's files named by their hash came from the browser's cache: nothing crossed for
    // them (the relay lets them be kept; the page itself is asked for again).
    const again = await guest.page.evaluate(() => performance.getEntriesByType('resource')
      .filter((r) => /-[0-9a-f]{16}(_bg)?\.(wasm|js|css)$/.test(new URL(r.name).pathname))
      .map((r) => ({ name: new URL(r.name).pathname, sent: r.transferSize })));
    assert.ok(again.length >= 3 && again.every((r) => r.sent === 0), `kept, not fetched again: ${JSON.stringify(again)}`);
    // A reload shows the pre-join screen again (the camera is asked for again).
    await pressJoin(guest);
    await Promise.all([waitForShield(host, 'locked'), waitForShield(guest, 'locked')]);
    const [hostCode, guestCode] = [await securityCode(host), await securityCode(guest)];
    assert.equal(guestCode, hostCode);
    assert.notEqual(hostCode, before, 'a fresh agreement');
    await Promise.all([waitForRemoteFrames(host), waitForRemoteFrames(guest)]);
  }));

  test('the call page without its link (another tab) says to open the link again', () => withHostAndGuest(async (host, guest) => {
    const link = await hostNewCall(host, relay.url);
    await joinCall(guest, link);
    await waitForShield(guest, 'locked');
    // Another tab of the same browser: the link was kept in the first tab only.
    const other = await guest.page.context().newPage();
    await other.goto(link.split('#')[0]);
    await other.waitForSelector('[data-call-error=link]', { timeout: 10000 });
    assert.match(await other.textContent('[data-call-error=link]'), /open the link again/i);
    await other.close();
  }));

  test('a guest who blocks camera and microphone still joins, sees and hears, and is told', async () => {
    const host = await person('host');
    const guest = await person('guest', { deniedDevices: true });
    try {
      await callBetween(host, guest, relay.url);
      await waitForRemoteFrames(guest);
      assert.match(await guest.page.textContent('.notices'), /blocked the camera and microphone|no camera or microphone/i);
    } finally {
      await host.close();
      await guest.close();
    }
  });

  test('a link with a damaged key commitment says so', async () => {
    const guest = await person('guest');
    try {
      await guest.page.goto(`${relay.url}/call/AAAAAAAAAAAAAAAAAAAAAA#k=not-a-commitment`);
      await guest.page.waitForSelector('[data-call-error=link]');
      assert.match(await guest.page.textContent('[data-call-error]'), /#k= part is not valid/);
    } finally {
      await guest.close();
    }
  });

  test('the relay going away mid-call: media goes on, the page retries, says so, and comes back', async () => {
    let own = await startRelay();
    const address = new URL(own.url).host;
    const host = await person('host');
    const guest = await person('guest');
    try {
      const link = await hostNewCall(host, own.url);
      await joinCall(guest, link);
      await waitForShield(guest, 'locked');
      await waitForRemoteFrames(guest);
      await own.stop();
      await guest.page.waitForSelector('[data-relay=reconnecting]', { timeout: 5000 });
      await guest.page.waitForSelector('[data-relay=disconnected]', { timeout: 20000 });
      assert.match(await guest.page.textContent('[data-call-status]'), /relay cannot be reached/);
      const before = await remoteFramesDecoded(guest);
      await guest.page.waitForTimeout(1000);
      assert.ok((await remoteFramesDecoded(guest)) > before, 'media still flows, peer to peer');
      assert.equal(await shield(guest), 'locked');
      // The page goes on trying: once the relay is back, both are on it again.
      own = await startRelay([], address);
      await Promise.all([
        host.page.waitForSelector('[data-relay=connected]', { timeout: 20000 }),
        guest.page.waitForSelector('[data-relay=connected]', { timeout: 20000 }),
      ]);
      assert.equal(await shield(guest), 'locked');
    } finally {
      await host.close();
      await guest.close();
      await own.stop();
    }
  });

  test('a guest who closes the tab: the host is told and waits, media stopped', async () => {
    const host = await person('host');
    const guest = await person('guest');
    try {
      const link = await hostNewCall(host, relay.url);
      await joinCall(guest, link);
      await waitForShield(host, 'locked');
      await waitForRemoteFrames(host);
      await guest.close();
      await host.page.waitForSelector('[data-call-status=peer-left]', { timeout: 20000 });
      assert.equal(await shield(host), 'connecting', 'no lock without someone to be locked with');
    } finally {
      await host.close();
    }
  });

  test('the relay restarting mid-call: both come back to it, same call, same code', async () => {
    let own = await startRelay();
    const address = new URL(own.url).host;
    const host = await person('host');
    const guest = await person('guest');
    try {
      await callBetween(host, guest, own.url);
      const code = await securityCode(host);
      await own.stop();
      own = await startRelay([], address);
      await Promise.all([
        host.page.waitForSelector('[data-relay=connected]', { timeout: 15000 }),
        guest.page.waitForSelector('[data-relay=connected]', { timeout: 15000 }),
      ]);
      await host.page.waitForTimeout(2000);
      assert.equal(await shield(host), 'locked');
      assert.equal(await shield(guest), 'locked');
      assert.equal(await securityCode(guest), code, 'the same agreement goes on');
      const before = await remoteFramesDecoded(host);
      await host.page.waitForTimeout(1000);
      assert.ok((await remoteFramesDecoded(host)) > before, 'media flows');
    } finally {
      await host.close();
      await guest.close();
      await own.stop();
    }
  });

  test('a network drop the relay does not notice: both take their places back, same call', async () => {
    const proxy = await startCuttableProxy(relay.url);
    const host = await person('host');
    const guest = await person('guest');
    try {
      await callBetween(host, guest, proxy.url);
      const code = await securityCode(host);
      // Both relay sockets drop on the browsers' side only: the relay still holds both places.
      proxy.cut();
      await Promise.all([
        host.page.waitForSelector('[data-relay=reconnecting]', { timeout: 5000 }),
        guest.page.waitForSelector('[data-relay=reconnecting]', { timeout: 5000 }),
      ]);
      // Their rejoin tokens get them their places back instead of "the call is full".
      await Promise.all([
        host.page.waitForSelector('[data-relay=connected]', { timeout: 15000 }),
        guest.page.waitForSelector('[data-relay=connected]', { timeout: 15000 }),
      ]);
      await host.page.waitForTimeout(1000);
      assert.notEqual(await host.page.getAttribute('[data-call-status]', 'data-call-status'), 'ended');
      assert.notEqual(await guest.page.getAttribute('[data-call-status]', 'data-call-status'), 'ended');
      assert.equal(await shield(host), 'locked');
      assert.equal(await shield(guest), 'locked');
      assert.equal(await securityCode(guest), code, 'the same agreement goes on');
      // The relay carries their signals again: a hang-up reaches the other side.
      await host.page.click('[data-control=hang-up]');
      await guest.page.waitForSelector('[data-call-status=ended]', { timeout: 10000 });
      assert.match(await guest.page.textContent('[data-call-status]'), /hung up/);
    } finally {
      await host.close();
      await guest.close();
      await proxy.stop();
    }
  });

  test('the relay connection dropping mid-handshake: the host starts afresh and both lock', () => withHostAndGuest(async (host, guest) => {
    // The guest's first relay socket loses its answer and everything after it, then drops on
    // the page's side only: the relay keeps its end open. Later sockets pass untouched.
    let sockets = 0;
    await guest.page.routeWebSocket(/\/ws\//, (page) => {
      sockets += 1;
      const relaySide = page.connectToServer();
      if (sockets > 1) return;
      let dropped = false;
      page.onMessage((message) => {
        if (dropped || String(message).includes('"t":"answer"')) {
          if (!dropped) page.close();
          dropped = true;
          return;
        }
        relaySide.send(message);
      });
      // Neither end's closing closes the other.
      page.onClose(() => {});
      relaySide.onClose(() => {});
    });
    const link = await hostNewCall(host, relay.url);
    await joinCall(guest, link);
    // The confirmations went before the answer (PROTOCOL.md change 52), so both may lock on
    // the first connection; offers and answers are never sent twice, so only a fresh
    // connection carries media.
    await waitForRemoteFrames(guest);
    await waitForRemoteFrames(host);
    assert.ok(sockets >= 2, 'the guest reconnected');
    await Promise.all([waitForShield(host, 'locked'), waitForShield(guest, 'locked')]);
    assert.equal(await securityCode(guest), await securityCode(host));
  }));

  test('the host hanging up ends the call for the guest', () => withHostAndGuest(async (host, guest) => {
    const link = await hostNewCall(host, relay.url);
    await joinCall(guest, link);
    await waitForShield(guest, 'locked');
    await host.page.click('[data-control=hang-up]');
    await guest.page.waitForSelector('[data-call-status=ended]', { timeout: 10000 });
    assert.match(await guest.page.textContent('[data-call-status]'), /hung up/);
    // The call had the whole window; the way out is offered once it is over.
    await guest.page.click('[data-action=home]');
    await guest.page.waitForSelector('[data-action=new-call]');
  }));

  test('a microphone unplugged mid-call is said, shown muted, and the other person sees it off', () => withHostAndGuest(async (host, guest) => {
    await guest.page.context().addInitScript(() => {
      window.__tracks = [];
      const devices = navigator.mediaDevices;
      const camera = devices.getUserMedia.bind(devices);
      devices.getUserMedia = (c) => camera(c).then((s) => { window.__tracks.push(...s.getTracks()); return s; });
    });
    await callBetween(host, guest, relay.url);
    await waitForRemoteFrames(host);
    // What the browser does when the device goes: the track ends by itself, with 'ended'.
    await guest.page.evaluate(() => {
      window.__tracks.filter((t) => t.kind === 'audio').forEach((t) => t.dispatchEvent(new Event('ended')));
    });
    await told(guest, 'Your microphone stopped: it was unplugged or another app took it.', 5000);
    await guest.page.waitForSelector('[data-control=mute][aria-pressed=true]', { timeout: 5000 });
    await host.page.waitForSelector('[data-remote-mic=off]', { timeout: 5000 });
  }));

  test('a microphone plugged in mid-call is said and offered under Devices', () => withHostAndGuest(async (host, guest) => {
    // Headless Chromium's fake devices never change: the page is shown one more microphone,
    // and told so with the event the browser fires when one is plugged in.
    await guest.page.context().addInitScript(() => {
      const devices = navigator.mediaDevices;
      const list = devices.enumerateDevices.bind(devices);
      window.__plugged = [];
      devices.enumerateDevices = () => list().then((found) => [...found, ...window.__plugged]);
    });
    await callBetween(host, guest, relay.url);
    await guest.page.waitForSelector('.devices-popover [data-control=microphone] option', { state: 'attached', timeout: 5000 });
    const before = await guest.page.$$eval('.devices-popover [data-control=microphone] option', (o) => o.length);
    await guest.page.evaluate(() => {
      window.__plugged.push({ deviceId: 'usb-headset', groupId: 'g', kind: 'audioinput', label: 'USB Headset', toJSON() { return this; } });
      navigator.mediaDevices.dispatchEvent(new Event('devicechange'));
    });
    await told(guest, 'A new microphone was plugged in (USB Headset): choose it under Devices.', 5000);
    await guest.page.waitForFunction(
      (n) => document.querySelectorAll('.devices-popover [data-control=microphone] option').length === n + 1,
      before,
      { timeout: 5000 },
    );
    assert.ok(await guest.page.$('.devices-popover [data-control=microphone] option[value=usb-headset]'), 'offered by name');
    // The call went on.
    await framesKeepComing(host);
    assert.equal(await shield(guest), 'locked');
  }));

  test('a media worker whose wasm cannot be loaded ends the call saying so, not endless joining', () => withHostAndGuest(async (host, guest) => {
    const link = await hostNewCall(host, relay.url);
    await guest.page.context().route('**/shieldcall-worker_bg.wasm', (route) => route.fulfill({ status: 404, body: '' }));
    await joinCall(guest, link);
    await guest.page.waitForSelector('[data-call-status=ended]', { timeout: 15000 });
    assert.match(await guest.page.textContent('[data-call-status]'), /media worker could not start/);
  }));

  test('hanging up stops every camera, microphone and screen track; a share asked for after it starts none', () => withHostAndGuest(async (host, guest) => {
    // Every track the page is given, and every screen it asks for.
    await host.page.context().addInitScript(() => {
      window.__tracks = [];
      window.__screensAsked = 0;
      const devices = navigator.mediaDevices;
      const keep = (stream) => { window.__tracks.push(...stream.getTracks()); return stream; };
      const camera = devices.getUserMedia.bind(devices);
      const screen = devices.getDisplayMedia.bind(devices);
      devices.getUserMedia = (c) => camera(c).then(keep);
      devices.getDisplayMedia = (c) => { window.__screensAsked += 1; return screen(c).then(keep); };
    });
    await callBetween(host, guest, relay.url);
    await host.page.click('[data-control=share]');
    await guest.page.waitForSelector('[data-layout=screen]', { timeout: 10000 });
    await host.page.click('[data-control=hang-up]');
    await host.page.waitForSelector('[data-call-status=ended]', { timeout: 10000 });
    // The shield spoke of keys that are gone with the call.
    assert.equal(await host.page.$('[data-shield]'), null, 'no shield once the call is over');
    const asked = await host.page.evaluate(() => window.__screensAsked);
    await host.page.keyboard.press('s');
    await host.page.waitForTimeout(1500);
    const after = await host.page.evaluate(() => ({
      asked: window.__screensAsked,
      live: window.__tracks.filter((t) => t.readyState !== 'ended').map((t) => t.kind),
      count: window.__tracks.length,
    }));
    assert.ok(after.count >= 3, `camera, microphone and screen were tracked: ${after.count}`);
    assert.deepEqual(after.live, [], 'no track left running');
    assert.equal(after.asked, asked, 'no screen asked for after the call ended');
  }));
});

describe('a relay that swaps keys (a man in the middle)', () => {
  let relay;
  before(async () => { relay = await startRelay(['--mitm-swap-keys']); });
  after(async () => { await relay?.stop(); });

  test('the codes differ and both see the red shield', () => withHostAndGuest(async (host, guest) => {
    const link = await hostNewCall(host, relay.url);
    await joinCall(guest, link);
    await waitForShield(guest, 'warning');
    assert.match(await shieldLabel(guest), /does not match the call link/i);
    // The host learns it from the guest's key confirmation, which is for another transcript.
    await waitForShield(host, 'warning');
    assert.match(await shieldLabel(host), /may be intercepting/i);
    // Each side computed its code with the relay's key in place of the other's: they differ.
    const hostCode = (await host.page.textContent('[data-security-code]')).trim();
    const guestCode = (await guest.page.textContent('[data-security-code]')).trim();
    assert.match(hostCode, /^\d{5} \d{5} \d{5} \d{5}$/);
    assert.match(guestCode, /^\d{5} \d{5} \d{5} \d{5}$/);
    assert.notEqual(hostCode, guestCode, 'the codes differ');
    // Warned, neither side has keys: nothing is sent or decoded under the relay's keys.
    assert.equal(await remoteFramesDecoded(host), 0);
    assert.equal(await remoteFramesDecoded(guest), 0);
  }));
});

describe('a relay that turns E2EE off in a hello (a downgrade)', () => {
  let relay;
  before(async () => { relay = await startRelay(['--mitm-flip-e2ee']); });
  after(async () => { await relay?.stop(); });

  test('neither side falls back to transport only: both see the red shield', () => withHostAndGuest(async (host, guest) => {
    const link = await hostNewCall(host, relay.url);
    await joinCall(guest, link);
    // The host was told the guest has E2EE off. Without the key confirmations it would show
    // "the other person has it off" and send media that the relay could read under DTLS alone.
    await waitForShield(host, 'warning');
    await waitForShield(guest, 'warning');
    assert.match(await shieldLabel(host), /may be intercepting/i);
    assert.match(await shieldLabel(guest), /may be intercepting/i);
    // Warned, both drop every frame: nothing reaches either decoder.
    await new Promise((resolve) => setTimeout(resolve, 2000));
    assert.equal(await remoteFramesDecoded(host), 0);
    assert.equal(await remoteFramesDecoded(guest), 0);
  }));
});
