// Group calls, in real Chromium through the real relay: in a two-person call without E2EE the
// host adds a third person from the More menu (the link it shows), then a fourth joins;
// everyone sees video from everyone, a fifth is told the call is full, the third leaves
// mid-call and the others go on. A person in two calls (two tabs) merges them into one.
// Under E2EE both items stay disabled with their reason.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  callBetween, hostNewCall, joinCall, person, pressJoin, setE2ee, shieldLabel, startRelay,
  violations, waitForRemoteFrames, waitForShield, withHostAndGuest,
} from './harness.mjs';

/** Four browsers on two cores, each sending its camera three times: the camera is asked for
 * small (320x240 at 15 fps) so that the machine keeps up. The camera is still the browser's
 * own fake device, through the page's own getUserMedia. */
async function smallVideo(...people) {
  for (const who of people) {
    await who.page.context().addInitScript(() => {
      const devices = navigator.mediaDevices;
      if (!devices) return;
      const original = devices.getUserMedia.bind(devices);
      devices.getUserMedia = (constraints = {}) => {
        if (!constraints.video) return original(constraints);
        const video = typeof constraints.video === 'object' ? constraints.video : {};
        const small = { ...video, width: { max: 320 }, height: { max: 240 }, frameRate: { max: 15 } };
        return original({ ...constraints, video: small });
      };
    });
  }
}

/** Open the More menu and add a participant; resolves to the link the page shows. */
async function askToAdd(who) {
  await who.page.click('[data-action=features]');
  await who.page.click('[data-feature=add-participant]');
  await who.page.waitForSelector('[data-add-link]', { timeout: 10000 });
  return who.page.inputValue('[data-add-url]');
}

/** `who` sees `count` people in the call (themselves included), and video from each other
 * one: the pair's tile and a tile per other member, each with frames still coming. */
async function seesEveryone(who, count, timeout = 40000) {
  await waitOrTell(who, () => who.page.waitForFunction(
    (count) => {
      const listed = document.querySelectorAll('[data-participants] li').length;
      const videos = [
        document.querySelector('[data-video=remote]'),
        ...document.querySelectorAll('[data-member] [data-video=member]'),
      ];
      const showing = videos.filter(
        (v) => v && v.videoWidth > 0 && v.getVideoPlaybackQuality().totalVideoFrames >= 10,
      );
      return listed === count && videos.length === count - 1 && showing.length === count - 1;
    },
    count,
    { timeout, polling: 500 },
  ));
}

/** Run `wait`; if it fails, say what `who`'s page shows (the people, their videos' frames and
 * the status of each member's call), then fail. */
async function waitOrTell(who, wait) {
  try {
    await wait();
  } catch (error) {
    const seen = await who.page.evaluate(() => ({
      status: document.querySelector('[data-call-status]')?.textContent,
      people: [...document.querySelectorAll('[data-participants] li')].map((li) => li.textContent),
      remote: document.querySelector('[data-video=remote]')?.getVideoPlaybackQuality().totalVideoFrames,
      members: [...document.querySelectorAll('[data-member]')].map((tile) => [
        tile.dataset.member, tile.dataset.memberStatus,
        tile.querySelector('video')?.getVideoPlaybackQuality().totalVideoFrames,
      ]),
    })).catch((e) => String(e));
    console.log(`${who.name} sees: ${JSON.stringify(seen)}`);
    console.log(who.console.slice(-15).join('\n'));
    throw error;
  }
}

/** Frames shown so far by each of `who`'s remote videos. */
async function framesShown(who) {
  return who.page.evaluate(() => [
    document.querySelector('[data-video=remote]'),
    ...document.querySelectorAll('[data-member] [data-video=member]'),
  ].map((v) => v.getVideoPlaybackQuality().totalVideoFrames));
}

/** Every one of `who`'s remote videos shows `by` more frames than in `before`. */
async function framesKeepComing(who, before, by = 15) {
  await who.page.waitForFunction(
    ({ before, by }) => {
      const videos = [
        document.querySelector('[data-video=remote]'),
        ...document.querySelectorAll('[data-member] [data-video=member]'),
      ];
      // (A video element made afresh counts from 0 again.)
      const shown = (v, i) => {
        const n = v.getVideoPlaybackQuality().totalVideoFrames;
        return n >= before[i] + by || (n < before[i] && n >= by);
      };
      return videos.length === before.length && videos.every(shown);
    },
    { before, by },
    { timeout: 20000, polling: 500 },
  );
}

describe('group calls', () => {
  let relay;
  before(async () => { relay = await startRelay(); });
  after(async () => { await relay?.stop(); });

  test('without E2EE a third and a fourth join, a fifth is refused, the third leaves and the rest go on', () => withHostAndGuest(async (host, guest) => {
    const started = performance.now();
    await smallVideo(host, guest);
    await setE2ee(host, relay.url, false);
    const link = await callBetween(host, guest, relay.url, 'unlocked');
    await Promise.all([waitForRemoteFrames(host), waitForRemoteFrames(guest)]);

    const addUrl = await askToAdd(host);
    // The call's own link, with the secret in the fragment only, and `g=1`: a group call.
    const url = new URL(addUrl);
    assert.equal(`${url.origin}${url.pathname}`, new URL(link).origin + new URL(link).pathname);
    assert.match(url.hash, /^#k=[A-Za-z0-9_-]{22}&s=[A-Za-z0-9_-]{22}&g=1$/);

    const third = await person('third');
    const fourth = await person('fourth');
    await smallVideo(third, fourth);
    try {
      // The third person's E2EE setting is on: the add link's pre-join screen plans none.
      await joinCall(third, addUrl);
      await Promise.all([host, guest, third].map((who) => seesEveryone(who, 3)));
      console.log(`measured: third person sees everyone ${(performance.now() - started).toFixed(0)} ms into the test`);
      await joinCall(fourth, addUrl);
      await Promise.all([host, guest, third, fourth].map((who) => seesEveryone(who, 4, 60000)));
      // The people and the tiles pass axe-core, wide and narrow.
      const found = [];
      for (const [size, viewport] of [['wide', { width: 1280, height: 800 }], ['narrow', { width: 390, height: 844 }]]) {
        await host.page.setViewportSize(viewport);
        found.push(...await violations(host.page, `group call ${size}`));
        if (process.env.GROUP_SHOTS) await host.page.screenshot({ path: `/tmp/group-${size}.png` });
      }
      assert.deepEqual(found, []);
      // Every shield says transport encryption only: never a lock in a group.
      for (const who of [host, guest, third, fourth]) {
        assert.equal(await who.page.getAttribute('[data-shield]', 'data-shield'), 'unlocked', who.name);
        assert.match(await shieldLabel(who), /^Not end-to-end encrypted, protected by transport encryption only/, who.name);
      }

      // A fifth is told the call is full, and nothing changes for the others.
      const fifth = await person('fifth');
      await smallVideo(fifth);
      try {
        await joinCall(fifth, addUrl);
        await fifth.page.waitForFunction(
          () => document.querySelector('[data-call-status=full]')?.textContent.includes('This group call is full: it holds four people.'),
          null,
          { timeout: 15000 },
        );
      } finally {
        await fifth.close();
      }

      // The third leaves mid-call (hangs up): the others' call goes on, their lists shrink.
      await third.page.click('[data-control=hang-up]');
      for (const who of [host, guest, fourth]) await seesEveryone(who, 3);
      const before = await Promise.all([host, guest, fourth].map(framesShown));
      await Promise.all([host, guest, fourth].map((who, i) => framesKeepComing(who, before[i])));
      for (const who of [host, guest, fourth]) {
        assert.equal(await who.page.getAttribute('[data-call-status]', 'data-call-status'), 'connected', who.name);
      }
      console.log(`measured: group test body ${(performance.now() - started).toFixed(0)} ms`);
    } finally {
      await third.close();
      await fourth.close();
    }
  }));

  test('merge: a person in two calls (two tabs) merges them into one group call', () => withHostAndGuest(async (host, guest) => {
    await smallVideo(host, guest);
    await setE2ee(host, relay.url, false);
    // Call 1, in the host's first tab, with the guest.
    const link = await callBetween(host, guest, relay.url, 'unlocked');
    // Call 2, in a second tab of the same browser, with a third person.
    const tab = { name: 'host tab 2', page: await host.page.context().newPage() };
    const third = await person('third');
    try {
      await smallVideo(third);
      const link2 = await hostNewCall(tab, relay.url);
      await joinCall(third, link2);
      await Promise.all([waitForShield(tab, 'unlocked'), waitForShield(third, 'unlocked')]);
      await waitForRemoteFrames(third);

      // Merge, from the first tab: call 1 grows to a group, the third person is sent there
      // over call 2's data channel and joins it from its pre-join screen.
      await host.page.click('[data-action=features]');
      await host.page.click('[data-feature=merge]');
      await third.page.waitForURL(new RegExp(new URL(link).pathname), { timeout: 15000 });
      await pressJoin(third);
      await Promise.all([host, guest, third].map((who) => seesEveryone(who, 3)));
      // The second tab's call was handed over: it says so and is over.
      await tab.page.waitForFunction(
        () => document.querySelector('[data-call-status=ended]')?.textContent.includes('This call was merged into your other call.'),
        null,
        { timeout: 15000 },
      );
      for (const who of [host, guest, third]) {
        assert.equal(await who.page.getAttribute('[data-shield]', 'data-shield'), 'unlocked', who.name);
      }
    } finally {
      await third.close();
    }
  }));

  test('under E2EE the item stays disabled with its reason', () => withHostAndGuest(async (host, guest) => {
    await callBetween(host, guest, relay.url);
    for (const who of [host, guest]) {
      await who.page.click('[data-action=features]');
      assert.equal(await who.page.isDisabled('[data-feature=add-participant]'), true);
      const why = await who.page.evaluate(() => {
        const button = document.querySelector('[data-feature=add-participant]');
        return document.getElementById(button.getAttribute('aria-describedby'))?.textContent;
      });
      assert.equal(why, 'Not available in end-to-end encrypted calls');
      assert.equal(await who.page.$('[data-add-link]'), null);
      assert.equal(await who.page.isDisabled('[data-feature=merge]'), true);
    }
  }));
});
