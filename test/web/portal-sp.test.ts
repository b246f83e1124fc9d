/// <reference lib="dom" />
/**
 * The CMR Portal as the SP uses it, in Chromium against the real server and Redis: catalog
 * management (resources and boxes), the client registry, the count of calls presenting now, the
 * charges, and Live activity — a user's subscription, made in another tab, appears within 2 s
 * without reloading, and after the stream's connection is cut the records made meanwhile arrive
 * once each, in order. Bad input shows the API's own words.
 */
import type { Page, Route } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ALICE, BOB, CAROL, entry, resource, seedCatalog, seedUser } from '../support/presentation-fixtures.js';
import { openPage, startPortalBrowser, type PortalBrowser } from '../support/portal-browser.js';
import { testMediaRoutes } from '../support/test-media.js';

let portal: PortalBrowser;
let sp: Page;

beforeAll(async () => {
  // Calls are placed through the call service on a busy machine: selection gets time enough never to fail open.
  portal = await startPortalBrowser({ routes: [testMediaRoutes], env: { CMR_SELECT_BUDGET_MS: '5000' } });
  const tone = `${portal.baseUrl}/v1/test-media/tone.wav`;
  await seedCatalog(portal.ctx.services, [
    resource('r-summer', { title: 'Summer Breeze', contentUri: tone }),
    resource('r-jazz', { title: 'Late Night Jazz', contentUri: tone }),
    resource('r-rock', { title: 'Thunder Riff', contentUri: tone }),
  ]);
  await seedUser(portal.ctx.services, BOB, { preferences: { default: { resourceId: 'r-jazz' } }, library: [entry('r-jazz')] });
  sp = await portal.newPage();
}, 60_000);
afterAll(async () => portal?.close());

const rowsOf = (page: Page) => page.getByRole('row');
const subscribe = (uid: string, resourceId: string) =>
  portal.ctx.app.inject({ method: 'POST', url: `/v1/users/${encodeURIComponent(uid)}/library`, headers: portal.ctx.as(uid), payload: { resourceId } });

describe('the portal for the SP', () => {
  it('signs in from a link and manages the catalog, showing the API\'s refusal in words', async () => {
    await sp.goto(portal.link(portal.ctx.token('portal-admin', 'sp')));
    await sp.getByRole('heading', { level: 1, name: 'Catalog management' }).waitFor();
    expect(sp.url()).toBe(`${portal.baseUrl}/portal/`);
    const form = sp.locator('form', { has: sp.getByRole('button', { name: 'Add resource' }) });
    await form.getByLabel('ID', { exact: true }).fill('r-summer');
    await form.getByLabel('Title').fill('Night Owl');
    await form.getByLabel('Content URI').fill('ftp://media.example.net/owl.mp3');
    await form.getByLabel('Categories').fill('jazz, night');
    await form.getByLabel('Provider').fill('acme-music');
    await form.getByLabel('Subscribe price').fill('249');
    await form.getByRole('button', { name: 'Add resource' }).click();
    expect(await form.locator('.field-error').allTextContents()).toEqual(['Content URI must match the expected form (an http:// or https:// address of the content)']);

    await form.getByLabel('Content URI').fill(`${portal.baseUrl}/v1/test-media/tone.wav`);
    await form.getByRole('button', { name: 'Add resource' }).click();
    const refusal = sp.getByRole('alert');
    await refusal.waitFor();
    const { status: _status, createdAt: _created, updatedAt: _updated, ...summer } = await portal.ctx.services.catalog.get('r-summer');
    const api = await portal.ctx.app.inject({ method: 'POST', url: '/v1/resources', headers: portal.ctx.sp, payload: summer });
    expect(api.statusCode).toBe(409);
    expect(await refusal.textContent()).toBe(api.json().detail);

    await form.getByLabel('ID', { exact: true }).fill('r-owl');
    await form.getByRole('button', { name: 'Add resource' }).click();
    await sp.getByRole('status').filter({ hasText: 'Added Night Owl (r-owl).' }).waitFor();
    expect(await portal.ctx.services.catalog.get('r-owl')).toMatchObject({ title: 'Night Owl', categories: ['jazz', 'night'], prices: { subscribe: 249 } });

    await sp.getByRole('button', { name: 'Edit Night Owl' }).click();
    const edit = sp.locator('form', { has: sp.getByRole('button', { name: 'Save resource' }) });
    await edit.getByLabel('Title').fill('Night Owl Blues');
    await edit.getByRole('button', { name: 'Save resource' }).click();
    await sp.getByRole('status').filter({ hasText: 'Saved Night Owl Blues (r-owl).' }).waitFor();

    await sp.getByRole('button', { name: 'Withdraw Thunder Riff' }).click();
    await sp.getByRole('status').filter({ hasText: 'Withdrew Thunder Riff' }).waitFor();
    await rowsOf(sp).filter({ hasText: 'Thunder Riff' }).filter({ hasText: 'withdrawn' }).waitFor();
    expect(await portal.ctx.services.catalog.get('r-rock')).toMatchObject({ status: 'withdrawn' });

    await sp.getByText('Add a box').click();
    const box = sp.locator('form', { has: sp.getByRole('button', { name: 'Add box' }) });
    await box.getByLabel('Name').fill('Evening mix');
    await box.getByLabel('Summer Breeze').check();
    await box.getByLabel('Night Owl Blues').check();
    await box.getByLabel('Box price').fill('399');
    await box.getByRole('button', { name: 'Add box' }).click();
    await sp.getByRole('status').filter({ hasText: 'Added the box Evening mix.' }).waitFor();
    const boxes = (await portal.ctx.app.inject({ method: 'GET', url: '/v1/boxes', headers: portal.ctx.sp })).json();
    expect(boxes).toEqual([expect.objectContaining({ name: 'Evening mix', resourceIds: ['r-summer', 'r-owl'], price: 399, currency: 'EUR' })]);
    expect(await portal.inspect(sp, 'sp-catalog-management')).toEqual({ unnamed: [], widerThanPhone: false });
  });

  it('registers a client, checking the version as the API does, and switches it off', async () => {
    await openPage(sp, 'Clients');
    const form = sp.locator('form', { has: sp.getByRole('button', { name: 'Register client' }) });
    await form.getByLabel('Client ID').fill('acme-handset');
    await form.getByLabel('Name').fill('ACME handset');
    await form.getByLabel('Lowest accepted version').fill('two');
    await form.getByRole('button', { name: 'Register client' }).click();
    expect(await form.locator('.field-error').textContent()).toBe('Lowest accepted version must match the expected form (Lowest accepted client version (semver))');
    await form.getByLabel('Lowest accepted version').fill('2.1.0');
    await form.getByRole('button', { name: 'Register client' }).click();
    await sp.getByRole('status').filter({ hasText: 'Registered ACME handset (acme-handset).' }).waitFor();

    await sp.getByRole('switch', { name: 'Enabled ACME handset' }).click();
    await sp.getByRole('status').filter({ hasText: 'ACME handset is disabled.' }).waitFor();
    expect(await portal.ctx.services.clients.find('acme-handset')).toMatchObject({ enabled: false, minVersion: '2.1.0' });
    expect(await portal.inspect(sp, 'sp-clients')).toEqual({ unnamed: [], widerThanPhone: false });
  });

  it("shows a user's subscription in Live activity within 2 s, without reloading", async () => {
    await openPage(sp, 'Live activity');
    await sp.getByTestId('stream-state').filter({ hasText: 'Live:' }).waitFor();
    const user = await portal.newPage();
    await user.goto(portal.link(portal.ctx.token(ALICE)));
    await openPage(user, 'Catalog');
    const summer = user.getByRole('listitem').filter({ has: user.getByRole('heading', { name: 'Summer Breeze', exact: true }) });
    await summer.getByRole('button', { name: 'Subscribe' }).click();
    await summer.getByRole('status').filter({ hasText: 'Subscribed to Summer Breeze' }).waitFor();
    // The SP's page, opened before, shows it with no reload.
    await rowsOf(sp).filter({ hasText: 'subscribe' }).filter({ hasText: ALICE }).waitFor({ timeout: 2000 });
    expect(await rowsOf(sp).filter({ hasText: 'subscribe' }).textContent()).toContain('portal');
    await user.close();
    expect(await portal.inspect(sp, 'sp-live-activity')).toEqual({ unnamed: [], widerThanPhone: false });
  });

  it('resumes Live activity after a dropped connection, with every record made meanwhile, once each and in order', async () => {
    const shownBefore = await sp.locator('tr[data-cursor]').count();
    // Hold the page's reconnection until the records are made, so they fall in the gap.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    const held: Route[] = [];
    await sp.route('**/v1/activities/stream**', async (route) => {
      held.push(route);
      await released;
      await route.continue();
    });
    expect(portal.dropStreams()).toBe(1);
    await sp.getByTestId('stream-state').filter({ hasText: 'Connection lost' }).waitFor();

    const made = [await subscribe(BOB, 'r-summer'), await subscribe(CAROL, 'r-summer'), await subscribe(CAROL, 'r-owl')];
    expect(made.map((r) => r.statusCode)).toEqual([201, 201, 201]);
    await expect.poll(() => held.length, { timeout: 10_000 }).toBeGreaterThan(0);
    release();
    await sp.getByTestId('stream-state').filter({ hasText: 'Live:' }).waitFor();
    await sp.unroute('**/v1/activities/stream**');

    await rowsOf(sp).filter({ hasText: CAROL }).filter({ hasText: 'r-owl' }).waitFor({ timeout: 5000 });
    const cursors = await sp.locator('tr[data-cursor]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-cursor')!));
    expect(cursors).toHaveLength(shownBefore + 3);
    expect(new Set(cursors).size).toBe(cursors.length);
    // Newest first on the page, in the feed's own order.
    const feed = (await portal.ctx.app.inject({ method: 'GET', url: '/v1/activities?limit=500', headers: portal.ctx.sp })).json().items.map((i: { cursor: string }) => i.cursor);
    expect([...cursors].reverse()).toEqual(feed.slice(feed.length - cursors.length));
    const newest = await rowsOf(sp).nth(1).textContent();
    expect(newest).toContain(CAROL);
    expect(newest).toContain('r-owl');
  });

  it('resumes Live activity without loss when the connection drops before any record was shown', async () => {
    const watcher = await portal.newPage();
    await watcher.goto(portal.link(portal.ctx.token('portal-watcher', 'sp')));
    await openPage(watcher, 'Live activity');
    await watcher.getByTestId('stream-state').filter({ hasText: 'Live:' }).waitFor();
    await watcher.getByText('No record since you opened this page.').waitFor();
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let held = 0;
    await watcher.route('**/v1/activities/stream**', async (route) => {
      held += 1;
      await released;
      await route.continue();
    });
    expect(portal.dropStreams()).toBeGreaterThanOrEqual(1);
    // Said as a status, so a screen reader hears it too.
    await watcher.getByRole('status').filter({ hasText: 'Connection lost' }).waitFor();

    const made = [await subscribe(ALICE, 'r-jazz'), await subscribe(CAROL, 'r-jazz')];
    expect(made.map((r) => r.statusCode)).toEqual([201, 201]);
    await expect.poll(() => held, { timeout: 10_000 }).toBeGreaterThan(0);
    release();
    await watcher.getByTestId('stream-state').filter({ hasText: 'Live:' }).waitFor();
    await rowsOf(watcher).filter({ hasText: CAROL }).filter({ hasText: 'r-jazz' }).waitFor({ timeout: 5000 });
    const feed = (await portal.ctx.app.inject({ method: 'GET', url: '/v1/activities?limit=500', headers: portal.ctx.sp })).json().items.map((i: { cursor: string }) => i.cursor);
    const cursors = await watcher.locator('tr[data-cursor]').evaluateAll((rows) => rows.map((r) => r.getAttribute('data-cursor')!));
    // Exactly the two records made while it was cut off, once each, newest first.
    expect(cursors).toEqual(feed.slice(-2).reverse());
    await watcher.close();
  });

  // The bar reads the count every 5 s: five changes are waited for.
  it('counts the calls presenting now in the bar', { timeout: 60_000 }, async () => {
    const count = sp.getByTestId('presenting-now');
    await count.filter({ hasText: 'Calls presenting now: 0' }).waitFor();
    const annotation = await portal.ctx.services.calls.callStarted({ callId: 'sp-count-1@192.0.2.1', fromTag: 'sc1', caller: ALICE, called: BOB });
    expect(annotation.toCaller.map((r) => r.resourceId)).toEqual(['r-jazz']);
    await portal.ctx.services.calls.callAnswered('sp-count-1@192.0.2.1');
    await count.filter({ hasText: 'Calls presenting now: 1' }).waitFor({ timeout: 8000 });
    await portal.ctx.services.calls.callEnded('sp-count-1@192.0.2.1', 'bye');
    await count.filter({ hasText: 'Calls presenting now: 0' }).waitFor({ timeout: 8000 });

    // When the figure cannot be read, the bar says why, in the server's words.
    const detail = 'the data store is unavailable';
    await sp.route('**/v1/calls', (route) =>
      route.fulfill({ status: 503, contentType: 'application/problem+json', headers: { 'retry-after': '1' }, body: JSON.stringify({ type: 'about:blank', title: 'Unavailable', status: 503, code: 'dependency-unavailable', detail }) }),
    );
    await count.filter({ hasText: `Calls presenting now: unknown (${detail})` }).waitFor({ timeout: 8000 });
    await sp.unroute('**/v1/calls');
    await count.filter({ hasText: 'Calls presenting now: 0' }).waitFor({ timeout: 8000 });
  });

  it('lists every charge with its subscriber', async () => {
    await openPage(sp, 'Charges');
    await rowsOf(sp).nth(1).waitFor();
    const rows = await rowsOf(sp).allTextContents();
    expect(rows.filter((r) => r.includes('subscribe') && r.includes('€1.99')).map((r) => [ALICE, BOB, CAROL].find((u) => r.includes(u)))).toEqual(
      expect.arrayContaining([ALICE, BOB, CAROL]),
    );
    expect(await portal.inspect(sp, 'sp-charges')).toEqual({ unnamed: [], widerThanPhone: false });
  });
});
