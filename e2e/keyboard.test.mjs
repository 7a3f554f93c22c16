// A whole call with the keyboard only (Tab, Shift+Tab, Enter, Space, Escape and the call's
// shortcuts), in two real Chromium browsers through the real relay: the host makes the call and
// joins, the guest opens the link and joins, the host compares the security code and marks it
// compared, sends a chat message, and hangs up. What each person sees is checked at each step.

import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import {
  readyToJoin, startRelay, waitForChatMessage, waitForShield, withHostAndGuest,
} from './harness.mjs';

/** Press Tab until the focus is on `selector` (at most `max` times); fails if it never is. */
async function tabTo(page, selector, max = 40) {
  for (let n = 0; n < max; n++) {
    if (await page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector)) return;
    await page.keyboard.press('Tab');
  }
  const at = await page.evaluate(() => document.activeElement?.outerHTML.slice(0, 120));
  assert.fail(`Tab never reached ${selector}; the focus is on ${at}`);
}

/** What has the focus, as a selector would find it. */
const focused = (page, selector) => page.evaluate((s) => document.activeElement?.matches(s) ?? false, selector);

describe('the keyboard only', () => {
  let relay;
  before(async () => { relay = await startRelay(); });
  after(async () => { await relay?.stop(); });

  test('create, join, compare the code, chat and hang up', () => withHostAndGuest(async (host, guest) => {
    // The host: New call, then "Join the call", then Join on the pre-join screen.
    await host.page.goto(`${relay.url}/`);
    await tabTo(host.page, '[data-action=new-call]');
    await host.page.keyboard.press('Enter');
    const link = (await host.page.textContent('[data-call-link]')).trim();
    assert.match(link, /\/call\/[A-Za-z0-9_-]{22}#k=/);
    await tabTo(host.page, '[data-action=join-call]');
    await host.page.keyboard.press('Enter');
    await readyToJoin(host);
    assert.ok(await focused(host.page, '[data-action=join]'), 'Join has the focus on the pre-join screen');
    await host.page.keyboard.press('Enter');
    await host.page.waitForSelector('[data-call-status=waiting]');
    assert.match(await host.page.textContent('[data-call-status]'), /Waiting for the other person/);

    // The guest opens the link: Enter on the pre-join screen joins.
    await guest.page.goto(link);
    await readyToJoin(guest);
    assert.ok(await focused(guest.page, '[data-action=join]'));
    await guest.page.keyboard.press('Enter');
    await Promise.all([waitForShield(host, 'locked'), waitForShield(guest, 'locked')]);
    assert.match(await host.page.textContent('[data-shield]'), /End-to-end encrypted/);

    // The code: Enter on the shield opens it (the guest uses Space), focus inside the dialog.
    await tabTo(host.page, '[data-shield]');
    await host.page.keyboard.press('Enter');
    const hostCode = (await host.page.textContent('[data-security-code]')).trim();
    assert.ok(await focused(host.page, '[aria-modal=true] *'), 'the focus moved into the code panel');
    await tabTo(guest.page, '[data-shield]');
    await guest.page.keyboard.press(' ');
    const guestCode = (await guest.page.textContent('[data-security-code]')).trim();
    assert.match(hostCode, /^\d{5} \d{5} \d{5} \d{5}$/);
    assert.equal(guestCode, hostCode, 'the two read the same code');
    await guest.page.keyboard.press('Escape');
    // "We compared it", with Space; then Escape closes and gives the focus back to the shield.
    await tabTo(host.page, '[data-action=verify]');
    await host.page.keyboard.press(' ');
    await host.page.waitForSelector('p[data-verified]');
    assert.match(await host.page.textContent('p[data-verified]'), /compared/i);
    await host.page.keyboard.press('Escape');
    await host.page.waitForSelector('[data-security-code]', { state: 'detached' });
    assert.ok(await focused(host.page, '[data-shield]'), 'the focus is back on the shield');
    assert.equal(await host.page.getAttribute('[data-shield]', 'data-verified'), 'true');
    assert.match(await host.page.getAttribute('[data-shield]', 'aria-label'), /You compared the security code/);

    // M mutes (the button says so), and M again unmutes.
    await host.page.keyboard.press('m');
    await host.page.waitForSelector('[data-control=mute][aria-pressed=true]');
    await host.page.keyboard.press('m');
    await host.page.waitForSelector('[data-control=mute][aria-pressed=false]');

    // Chat: C opens it, Tab reaches the message box, Enter sends; the guest reads it.
    await host.page.keyboard.press('c');
    await host.page.waitForSelector('[data-control=chat][aria-pressed=true]');
    await tabTo(host.page, '[data-chat-input]');
    await host.page.keyboard.type('Hello, typed with the keyboard only');
    await host.page.keyboard.press('Enter');
    await waitForChatMessage(host, 'Hello, typed with the keyboard only');
    await waitForChatMessage(guest, 'Hello, typed with the keyboard only');

    // Hang up: Tab to the button, Enter. Both see the call end; the way out has the keyboard too.
    await tabTo(host.page, '[data-control=hang-up]');
    await host.page.keyboard.press('Enter');
    await host.page.waitForSelector('[data-call-status=ended]', { timeout: 10000 });
    await guest.page.waitForSelector('[data-call-status=ended]', { timeout: 10000 });
    assert.match(await guest.page.textContent('[data-call-status]'), /hung up/);
    await tabTo(host.page, '[data-action=home]');
    await host.page.keyboard.press('Enter');
    await host.page.waitForSelector('[data-action=new-call]');
  }));
});
