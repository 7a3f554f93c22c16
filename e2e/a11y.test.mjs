// axe-core (npm) over every view of the app in real Chromium: the home page, the settings, the
// pre-join screen (devices allowed and blocked), and a locked call (the other person muted,
// camera off) with each of its dialogs and popovers open, wide and narrow, light and dark. No
// serious or critical violation may remain.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  callBetween, person, readyToJoin, startRelay, violations, waitForRemoteFrames, withHostAndGuest,
} from './harness.mjs';

const SIZES = [['wide', { width: 1280, height: 800 }], ['narrow', { width: 390, height: 844 }]];

describe('accessibility (axe-core)', () => {
  let relay;
  before(async () => { relay = await startRelay(); });
  after(async () => { await relay?.stop(); });

  test('home and settings, wide and narrow, light and dark', async () => {
    const who = await person('visitor');
    try {
      const found = [];
      for (const scheme of ['light', 'dark']) {
        await who.page.emulateMedia({ colorScheme: scheme });
        for (const [size, viewport] of SIZES) {
          await who.page.setViewportSize(viewport);
          await who.page.goto(`${relay.url}/`);
          await who.page.click('[data-action=new-call]');
          await who.page.waitForSelector('[data-call-link]');
          found.push(...await violations(who.page, `home ${size} ${scheme}`));
          await who.page.goto(`${relay.url}/settings`);
          await who.page.waitForSelector('[data-setting=e2ee]');
          found.push(...await violations(who.page, `settings ${size} ${scheme}`));
        }
      }
      assert.deepEqual(found, []);
    } finally {
      await who.close();
    }
  });

  test('the pre-join screen, wide and narrow, light and dark, with devices and with them blocked', async () => {
    const found = [];
    for (const deniedDevices of [false, true]) {
      const who = await person(deniedDevices ? 'blocked' : 'visitor', { deniedDevices });
      try {
        await who.page.goto(`${relay.url}/`);
        await who.page.click('[data-action=new-call]');
        await who.page.click('[data-action=join-call]');
        await readyToJoin(who);
        for (const scheme of ['light', 'dark']) {
          await who.page.emulateMedia({ colorScheme: scheme });
          for (const [size, viewport] of SIZES) {
            await who.page.setViewportSize(viewport);
            found.push(...await violations(who.page, `pre-join ${size} ${scheme}${deniedDevices ? ', blocked' : ''}`));
          }
        }
      } finally {
        await who.close();
      }
    }
    assert.deepEqual(found, []);
  });

  test('a locked call with its panel, menus and dialogs, wide and narrow, light and dark', () => withHostAndGuest(async (host, guest) => {
    await callBetween(host, guest, relay.url);
    await waitForRemoteFrames(host);
    // The guest's microphone and camera off: the host's page shows the indicators (and the
    // connection's quality) for axe to check too.
    await guest.page.click('[data-control=mute]');
    await guest.page.click('[data-control=camera]');
    await host.page.waitForSelector('[data-remote-mic=off]', { timeout: 5000 });
    await host.page.waitForSelector('[data-remote-camera=off]', { timeout: 5000 });
    await host.page.waitForSelector('[data-quality]', { timeout: 15000 });
    const page = host.page;
    const found = [];
    for (const scheme of ['light', 'dark']) {
      await page.emulateMedia({ colorScheme: scheme });
      for (const [size, viewport] of SIZES) {
        await page.setViewportSize(viewport);
        const view = `call ${size} ${scheme}`;
        found.push(...await violations(page, view));
        await page.click('[data-shield]');
        await page.click('[data-health] summary');
        found.push(...await violations(page, `${view}, code panel`));
        await page.keyboard.press('Escape');
        await page.click('[data-action=features]');
        found.push(...await violations(page, `${view}, More`));
        await page.keyboard.press('Escape');
        await page.click('[data-control=devices]');
        found.push(...await violations(page, `${view}, devices`));
        await page.keyboard.press('Escape');
        await page.click('[data-control=chat]');
        found.push(...await violations(page, `${view}, chat`));
        await page.click('[data-control=chat]');
        await page.click('[data-action=shortcuts]');
        found.push(...await violations(page, `${view}, shortcuts`));
        await page.keyboard.press('Escape');
      }
    }
    assert.deepEqual(found, []);
  }));
});
