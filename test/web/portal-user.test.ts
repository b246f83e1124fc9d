/// <reference lib="dom" />
/**
 * The CMR Portal as a user uses it, in Chromium against the real server and Redis: sign in with
 * the Access token field, subscribe and see the charge, set the default and a rule, preview calls,
 * renew, copy from a live call, set privacy, and read charges and activity. Bad input shows the
 * API's own words. Every page is photographed at desktop and phone width.
 */
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BOB, box, CAROL, entry, resource, seedCatalog, seedUser } from '../support/presentation-fixtures.js';
import { openPage, startPortalBrowser, type PortalBrowser } from '../support/portal-browser.js';
import { testMediaRoutes } from '../support/test-media.js';

let portal: PortalBrowser;
let page: Page;

beforeAll(async () => {
  // Calls are placed through the call service on a busy machine: selection gets time enough never to fail open.
  portal = await startPortalBrowser({ routes: [testMediaRoutes], env: { CMR_SELECT_BUDGET_MS: '5000' } });
  const media = `${portal.baseUrl}/v1/test-media`;
  await seedCatalog(portal.ctx.services, [
    resource('r-summer', { title: 'Summer Breeze', contentUri: `${media}/tone.wav`, mimeType: 'audio/wav', categories: ['pop'] }),
    resource('r-jazz', { title: 'Late Night Jazz', contentUri: `${media}/tone.wav`, mimeType: 'audio/wav', categories: ['jazz'] }),
    resource('r-card', { title: 'Business Card', type: 'image', contentUri: `${media}/card.svg`, mimeType: 'image/svg+xml', categories: ['business'] }),
    resource('r-rock', { title: 'Thunder Riff', contentUri: `${media}/tone.wav`, mimeType: 'audio/wav', categories: ['rock'] }),
  ], [box('box-rock', ['r-rock'], { name: 'Rock box', price: 299, currency: 'EUR', validityDays: 30 })]);
  // Bob presents his Business Card to every caller; the portal copies during calls as its own client.
  await seedUser(portal.ctx.services, BOB, { preferences: { default: { resourceId: 'r-card' } }, library: [entry('r-card')] });
  await portal.ctx.services.clients.create({ id: 'cmr-portal', name: 'CMR Portal', enabled: true, minVersion: '0.1.0' });
  page = await portal.newPage();
}, 60_000);
afterAll(async () => portal?.close());

const status = (scope: { getByRole: Page['getByRole'] }) => scope.getByRole('status');
const card = (title: string) => page.getByRole('listitem').filter({ has: page.getByRole('heading', { name: title, exact: true }) });

describe('the portal for a user', () => {
  it('refuses a bad token with the server\'s reason, then signs in with the Access token field', async () => {
    await page.goto(`${portal.baseUrl}/portal/`);
    await page.getByRole('heading', { level: 1, name: 'Sign in to the CMR Portal' }).waitFor();
    expect(await portal.inspect(page, 'sign-in')).toEqual({ unnamed: [], widerThanPhone: false });
    await page.getByLabel('Access token').fill('not-a-token');
    await page.getByRole('button', { name: 'Sign in' }).click();
    const refusal = page.locator('.field-error');
    await refusal.waitFor();
    expect(await refusal.textContent()).toMatch(/^the access token was refused: invalid bearer token: /);

    // By keyboard alone: the field takes the token, Enter signs in, focus lands on the new page's heading.
    await page.getByLabel('Access token').fill('');
    await page.getByLabel('Access token').focus();
    await page.keyboard.type(portal.ctx.token(ALICE));
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Library' }).waitFor();
    expect(await page.evaluate(() => document.activeElement?.textContent)).toBe('Library');
    const focused: string[] = [];
    for (let i = 0; i < 12 && focused.at(-1) !== 'Catalog'; i++) {
      await page.keyboard.press('Tab');
      focused.push((await page.evaluate(() => document.activeElement?.textContent)) ?? '');
    }
    // From the top: the skip link, the bar, then the page links.
    expect(focused).toEqual(['Skip to content', 'Sign out', 'Library', 'Catalog']);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Catalog' }).waitFor();
    await page.goBack();
    await page.getByRole('heading', { level: 1, name: 'Library' }).waitFor();
    expect(await page.getByRole('banner').textContent()).toContain(ALICE);
    // The token stays in this tab's session storage, nowhere else.
    expect(await page.evaluate(() => [sessionStorage.length, localStorage.length, document.cookie])).toEqual([1, 0, '']);
  });

  it('subscribes in the Catalog and shows the charge as an amount with its currency; a repeat shows the API\'s refusal', async () => {
    await openPage(page, 'Catalog');
    const summer = card('Summer Breeze');
    expect(await summer.locator('audio').getAttribute('src')).toBe(`${portal.baseUrl}/v1/test-media/tone.wav`);
    // The player plays the content URI: its one-second tone loads.
    expect(await summer.locator('audio').evaluate((audio: HTMLAudioElement) => new Promise((resolve) => {
      audio.addEventListener('loadedmetadata', () => resolve(Math.round(audio.duration)), { once: true });
      audio.preload = 'metadata';
      audio.load();
    }))).toBe(1);
    await summer.getByRole('button', { name: 'Subscribe' }).click();
    await status(summer).filter({ hasText: 'Subscribed to Summer Breeze' }).waitFor();
    expect(await status(summer).textContent()).toMatch(/: charged €1\.99\.$/);

    await card('Late Night Jazz').getByRole('button', { name: 'Subscribe' }).click();
    await status(card('Late Night Jazz')).filter({ hasText: 'charged €1.99' }).waitFor();

    await summer.getByRole('button', { name: 'Subscribe' }).click();
    const alert = summer.getByRole('alert');
    await alert.waitFor();
    const library = await portal.ctx.app.inject({ method: 'POST', url: `/v1/users/${encodeURIComponent(ALICE)}/library`, headers: portal.ctx.as(ALICE), payload: { resourceId: 'r-summer' } });
    expect(library.statusCode).toBe(409);
    expect(await alert.textContent()).toBe(library.json().detail);
  });

  it('gives a resource, checking the Gift to field as the API does', async () => {
    const jazz = card('Late Night Jazz');
    await jazz.getByLabel('Gift to').fill('bob');
    await jazz.getByRole('button', { name: 'Gift' }).click();
    expect(await jazz.locator('.field-error').textContent()).toBe('Gift to identity has no scheme (tel: or sip:)');
    await jazz.getByLabel('Gift to').fill(CAROL);
    await jazz.getByRole('button', { name: 'Gift' }).click();
    await status(jazz).filter({ hasText: `Gave Late Night Jazz to ${CAROL}: charged €1.99` }).waitFor();
    expect(await portal.inspect(page, 'user-catalog')).toEqual({ unnamed: [], widerThanPhone: false });
  });

  it('subscribes to a box, and copies from another user\'s library only what that user holds', async () => {
    const rock = card('Rock box');
    await rock.getByRole('button', { name: 'Subscribe' }).click();
    await status(rock).filter({ hasText: 'Subscribed to the box Rock box (1 resource): charged €2.99.' }).waitFor();

    const copy = page.getByRole('region', { name: "Copy from another user's library" });
    await copy.getByLabel('Copy from').fill(CAROL);
    await copy.getByLabel('Resource to copy').selectOption({ label: 'Business Card (€0.99)' });
    await copy.getByRole('button', { name: 'Copy' }).click();
    const refusal = copy.getByRole('alert');
    await refusal.waitFor();
    const api = await portal.ctx.app.inject({
      method: 'POST',
      url: `/v1/users/${encodeURIComponent(ALICE)}/copies`,
      headers: portal.ctx.as(ALICE),
      payload: { mode: 'offline', from: CAROL, resourceIds: ['r-card'] },
    });
    expect(api.statusCode).toBe(404);
    expect(await refusal.textContent()).toBe(api.json().detail);
  });

  it('sets the default and a rule in Preferences and previews what callers would be presented', async () => {
    await openPage(page, 'Preferences');
    await page.getByLabel('Presented when no rule matches').selectOption({ label: 'Summer Breeze' });
    await page.getByRole('button', { name: 'Set default' }).click();
    await page.getByRole('status').filter({ hasText: 'Callers are now presented Summer Breeze by default: no charge' }).waitFor();

    await page.getByText('Add a rule').click();
    const form = page.locator('details', { hasText: 'Add a rule' });
    await form.getByLabel('Present').selectOption({ label: 'Late Night Jazz' });
    await form.getByLabel('Callers').fill(BOB);
    await form.getByLabel('Priority').fill('-1');
    await form.getByRole('button', { name: 'Add rule' }).click();
    expect(await form.locator('.field-error').textContent()).toBe('must be at least 0');
    await form.getByLabel('Priority').fill('5');
    await form.getByRole('button', { name: 'Add rule' }).click();
    await page.getByRole('listitem', { name: 'Rule 1: Late Night Jazz' }).waitFor();
    expect(await page.getByRole('listitem', { name: 'Rule 1: Late Night Jazz' }).textContent()).toContain(`for calls from ${BOB}`);

    const preview = async (caller: string) => {
      await page.getByLabel('Caller', { exact: true }).fill(caller);
      await page.getByRole('button', { name: 'Preview', exact: true }).click();
      const result = page.getByRole('region', { name: 'Preview result' });
      await result.filter({ hasText: `A call from ${caller} now would present` }).waitFor();
      return result.textContent();
    };
    expect(await preview(BOB)).toMatch(/would present Late Night Jazz \(rule /);
    expect(await preview(CAROL)).toMatch(/would present Summer Breeze \(the default;/);
    expect(await portal.inspect(page, 'user-preferences')).toEqual({ unnamed: [], widerThanPhone: false });
  });

  it('reorders, edits and deletes rules, and adds a filter', async () => {
    const form = page.locator('details', { hasText: 'Add a rule' });
    await form.getByLabel('Present').selectOption({ label: 'Summer Breeze' });
    await form.getByLabel('From').fill('22:00');
    await form.getByLabel('To').fill('07:00');
    await form.getByLabel('Sat').check();
    await form.getByRole('button', { name: 'Add rule' }).click();
    await page.getByRole('listitem', { name: 'Rule 2: Summer Breeze' }).waitFor();

    await page.getByRole('button', { name: 'Move rule 2 up' }).click();
    await page.getByRole('listitem', { name: 'Rule 1: Summer Breeze' }).waitFor();
    const rules = async () =>
      (await portal.ctx.app.inject({ method: 'GET', url: `/v1/users/${encodeURIComponent(ALICE)}/preferences/rules`, headers: portal.ctx.as(ALICE) }))
        .json()
        .map((r: { priority: number; present: { resourceId: string }; enabled: boolean }) => [r.present.resourceId, r.priority, r.enabled])
        .sort((a: [string, number], b: [string, number]) => a[1] - b[1]);
    expect(await rules()).toEqual([['r-summer', 10, true], ['r-jazz', 20, true]]);
    expect(await page.getByRole('listitem', { name: 'Rule 1: Summer Breeze' }).textContent()).toContain('22:00–07:00 · Sat');

    await page.getByRole('button', { name: 'Edit rule 2' }).click();
    const edit = page.locator('form', { has: page.getByRole('button', { name: 'Save rule' }) });
    await edit.getByRole('switch', { name: 'Enabled' }).click();
    await edit.getByRole('button', { name: 'Save rule' }).click();
    await page.getByRole('listitem', { name: 'Rule 2: Late Night Jazz' }).filter({ hasText: 'disabled' }).waitFor();
    expect(await rules()).toEqual([['r-summer', 10, true], ['r-jazz', 20, false]]);

    await page.getByRole('button', { name: 'Delete rule 1' }).click();
    await page.getByRole('status').filter({ hasText: 'Deleted the rule.' }).waitFor();
    expect(await rules()).toEqual([['r-jazz', 20, false]]);

    await page.getByText('Make a box').click();
    const mine = page.locator('details', { hasText: 'Make a box' });
    await mine.getByLabel('Box name').fill('Evenings');
    await mine.getByRole('button', { name: 'Make box' }).click();
    expect(await mine.locator('.field-error').textContent()).toBe('Resources must name at least one');
    await mine.getByLabel('Late Night Jazz').check();
    await mine.getByLabel('Summer Breeze').check();
    await mine.getByLabel('Plays').selectOption('random');
    await mine.getByRole('button', { name: 'Make box' }).click();
    await page.getByRole('status').filter({ hasText: 'Made the box Evenings: no charge.' }).waitFor();
    // The new box can be presented: it is among the default's choices.
    await page.getByLabel('Presented when no rule matches').locator('option', { hasText: 'Box: Evenings' }).waitFor({ state: 'attached' });

    await page.getByText('Add a filter').click();
    const filter = page.locator('details', { hasText: 'Add a filter' });
    await filter.getByRole('button', { name: 'Add filter' }).click();
    expect(await filter.getByRole('alert').textContent()).toBe('set at least one criterion');
    await filter.getByLabel('mature').check();
    await filter.getByLabel('Categories').fill('horror, drill');
    await filter.getByRole('button', { name: 'Add filter' }).click();
    await page.getByRole('listitem').filter({ hasText: 'Refuse what is categories horror, drill and rated mature' }).waitFor();
  });

  it('shows and sets the time zone the rules are read in, keeping what another tab changed meanwhile', async () => {
    await openPage(page, 'Preferences');
    const zone = page.getByRole('region', { name: 'Time zone' });
    expect(await zone.getByLabel('Time zone').inputValue()).toBe('UTC');
    // Another device adds a rule after this page was loaded.
    const added = await portal.ctx.app.inject({
      method: 'POST',
      url: `/v1/users/${encodeURIComponent(ALICE)}/preferences/rules`,
      headers: portal.ctx.as(ALICE),
      payload: { id: 'from-phone', priority: 30, conditions: { callers: [CAROL] }, present: { resourceId: 'r-summer' } },
    });
    expect(added.statusCode, added.body).toBe(201);

    await zone.getByLabel('Time zone').fill('+02:00');
    await zone.getByRole('button', { name: 'Save time zone' }).click();
    const api = await portal.ctx.app.inject({
      method: 'PUT',
      url: `/v1/users/${encodeURIComponent(ALICE)}/preferences/timezone`,
      headers: portal.ctx.as(ALICE),
      payload: { timezone: '+02:00' },
    });
    expect(api.statusCode).toBe(400);
    expect(await zone.locator('.field-error').textContent()).toBe(`Time zone ${api.json().errors[0].message}`);

    await zone.getByLabel('Time zone').fill('asia/tokyo');
    await zone.getByRole('button', { name: 'Save time zone' }).click();
    await zone.getByRole('status').filter({ hasText: 'Rules are now read in Asia/Tokyo: no charge.' }).waitFor();
    // The preview made before, on the old clock, is gone.
    await page.getByRole('region', { name: 'Preview result' }).waitFor({ state: 'detached' });
    await page.getByText('times and days are read in Asia/Tokyo').waitFor();
    const stored = (await portal.ctx.app.inject({ method: 'GET', url: `/v1/users/${encodeURIComponent(ALICE)}/preferences`, headers: portal.ctx.as(ALICE) })).json();
    expect(stored.timezone).toBe('Asia/Tokyo');
    expect(stored.rules.map((r: { id: string }) => r.id)).toContain('from-phone');

    // The preview says when it read the rules on the zone's own clock, not the browser's (UTC here).
    await page.getByLabel('Caller', { exact: true }).fill(CAROL);
    const [answer] = await Promise.all([page.waitForResponse('**/presentation?**'), page.getByRole('button', { name: 'Preview', exact: true }).click()]);
    const { at } = (await answer.json()) as { at: string };
    const tokyo = new Date(at).toLocaleTimeString('en-US', { timeZone: 'Asia/Tokyo' }).replace(/\s/g, ' ');
    const result = page.getByRole('region', { name: 'Preview result' });
    await result.filter({ hasText: 'in Asia/Tokyo' }).waitFor();
    expect((await result.textContent())!.replace(/\s/g, ' ')).toContain(`read at ${tokyo} in Asia/Tokyo`);
    expect(await portal.inspect(page, 'user-preferences-time-zone')).toEqual({ unnamed: [], widerThanPhone: false });
  });

  it('renews in the Library with the charge shown, and switches auto-renew', async () => {
    await openPage(page, 'Library');
    const summer = card('Summer Breeze');
    await summer.getByRole('button', { name: 'Renew' }).click();
    await status(summer).filter({ hasText: 'Renewed Summer Breeze' }).waitFor();
    expect(await status(summer).textContent()).toMatch(/: charged €1\.49\.$/);
    await summer.getByRole('switch', { name: 'Auto-renew' }).click();
    await status(summer).filter({ hasText: 'Auto-renew on for Summer Breeze: no charge' }).waitFor();
    expect(await summer.getByRole('switch', { name: 'Auto-renew' }).isChecked()).toBe(true);
    expect(await portal.inspect(page, 'user-library')).toEqual({ unnamed: [], widerThanPhone: false });
  });

  it('copies what a live call presents, from Calls', async () => {
    await portal.ctx.services.calls.callStarted({ callId: 'portal-call-1@192.0.2.1', fromTag: 'pc1', caller: ALICE, called: BOB });
    await portal.ctx.services.calls.callAnswered('portal-call-1@192.0.2.1');
    await openPage(page, 'Calls');
    const call = card(`Call to ${BOB}`);
    await call.waitFor();
    expect(await call.textContent()).toContain('You are presentedBusiness Card');
    const loadedWidth = (img: HTMLImageElement) =>
      img.complete ? img.naturalWidth : new Promise<number>((resolve) => img.addEventListener('load', () => resolve(img.naturalWidth), { once: true }));
    expect(await call.getByRole('img', { name: 'Preview of Business Card' }).evaluate(loadedWidth)).toBe(480);
    expect(await portal.inspect(page, 'user-calls')).toEqual({ unnamed: [], widerThanPhone: false });
    await call.getByRole('button', { name: 'Copy' }).click();
    await status(call).filter({ hasText: 'Copied Business Card into your library: charged €0.99.' }).waitFor();
    // Asked again, the copy is not charged twice.
    await call.getByRole('button', { name: 'Copy' }).click();
    await status(call).filter({ hasText: 'You already hold Business Card: nothing charged.' }).waitFor();
    await portal.ctx.services.calls.callEnded('portal-call-1@192.0.2.1', 'bye');
  });

  it('saves privacy, refusing a blocked entry that is not an identity', async () => {
    await openPage(page, 'Privacy');
    await page.getByLabel('Who may copy from my library').selectOption('contacts');
    await page.getByLabel('Contacts').fill(`${BOB}\nsip:Carol@IMS.example.net`);
    await page.getByLabel('Blocked').fill('mallory');
    await page.getByRole('button', { name: 'Save privacy' }).click();
    expect(await page.locator('.field-error').textContent()).toBe('"mallory" identity has no scheme (tel: or sip:)');
    await page.getByLabel('Blocked').fill('tel:+15559990000');
    await page.getByRole('button', { name: 'Save privacy' }).click();
    await page.getByRole('status').filter({ hasText: 'Saved your privacy settings: no charge' }).waitFor();
    // The server stores identities canonical, and the page shows what it stored.
    expect(await page.getByLabel('Contacts').inputValue()).toBe(`${BOB}\nsip:Carol@ims.example.net`);
    expect(await portal.inspect(page, 'user-privacy')).toEqual({ unnamed: [], widerThanPhone: false });
  });

  it('lists the charges and the activity, newest first', async () => {
    await openPage(page, 'Charges');
    const rows = page.getByRole('row');
    await rows.nth(1).waitFor();
    const charges = await rows.allTextContents();
    expect(charges.filter((r) => r.includes('subscribe') && r.includes('€1.99'))).toHaveLength(2);
    expect(charges.some((r) => r.includes('renew') && r.includes('€1.49'))).toBe(true);
    expect(charges.some((r) => r.includes('gift') && r.includes('€1.99'))).toBe(true);
    expect(await portal.inspect(page, 'user-charges')).toEqual({ unnamed: [], widerThanPhone: false });

    await openPage(page, 'Activity');
    await rows.nth(1).waitFor();
    const activity = await rows.allTextContents();
    expect(activity[1]).toContain('privacy');
    expect(activity.some((r) => r.includes('subscribe') && r.includes('success'))).toBe(true);
    expect(await portal.inspect(page, 'user-activity')).toEqual({ unnamed: [], widerThanPhone: false });
  });

  it('signs out, and back on the sign-in page after the token expires, saying so', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('heading', { level: 1, name: 'Sign in to the CMR Portal' }).waitFor();
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);

    const { signToken } = await import('../../src/http/tokens.js');
    const { TEST_SECRET } = await import('../support/context.js');
    await page.goto(portal.link(signToken(TEST_SECRET, { sub: ALICE, role: 'user' }, 2)));
    await page.getByRole('heading', { level: 1, name: 'Library' }).waitFor();
    // The link's token leaves the address bar at once.
    expect(page.url()).toBe(`${portal.baseUrl}/portal/`);
    const alert = page.getByRole('alert');
    await alert.waitFor({ timeout: 5000 });
    expect(await alert.textContent()).toMatch(/^You were signed out: your access token expired at .+: sign in again\.$/);
  });

  it('keeps the token and says why when the server cannot check it now, and signs in once it can', async () => {
    await page.goto(portal.link(portal.ctx.token(ALICE)));
    await page.getByRole('heading', { level: 1, name: 'Library' }).waitFor();
    // What the server answers while the identity provider cannot be read.
    const detail = "the identity provider's keys cannot be read (it answered 503): try again shortly";
    await page.route('**/v1/me', (route) =>
      route.fulfill({ status: 503, contentType: 'application/problem+json', headers: { 'retry-after': '5' }, body: JSON.stringify({ type: 'about:blank', title: 'Unavailable', status: 503, code: 'dependency-unavailable', detail }) }),
    );
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Sign in to the CMR Portal' }).waitFor();
    expect(await page.getByRole('alert').textContent()).toBe(`Could not sign you in: the server cannot check the access token now: ${detail}. Your access token is kept: reload the page to try again.`);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(1);

    await page.getByLabel('Access token').fill(portal.ctx.token(ALICE));
    await page.getByRole('button', { name: 'Sign in' }).click();
    expect(await page.locator('.field-error').textContent()).toBe(`the server cannot check the access token now: ${detail}`);

    await page.unroute('**/v1/me');
    await page.reload();
    await page.getByRole('heading', { level: 1, name: 'Library' }).waitFor();
  });
});
