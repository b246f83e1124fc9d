/// <reference lib="dom" />
/**
 * The CMR Handset (`/handset/`) in a real browser: two pages of Debian's Chromium (fake camera
 * and microphone) sign in as two users, register over WebSocket with the embedded front, and A
 * calls B. B's page rings and shows what A presents, A's page shows what B presents; A copies
 * while it rings, B answers, WebRTC audio flows both ways (packets received on each side), A
 * copies again (already owned), A hangs up; A's library and charges over REST show the copy once.
 * Then the copy key and a refusal: `*` while ringing copies by DTMF, a privacy refusal is shown
 * in words, and hanging up while it rings cancels the call. The real server behind it all: REST,
 * the embedded front, Redis.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import type { Identity } from '../../src/domain/identity.js';
import { signToken } from '../../src/http/tokens.js';
import { activitiesOf, copiesOf, expectCallerCopied, expectEndedUnanswered, newParties, numberOf, TONES, type Parties } from '../support/call-outcomes.js';
import { seedCopyCatalog, setPrivacy } from '../support/copy-fixtures.js';
import { inspectPage, startChromium, type TestChromium } from '../support/portal-browser.js';
import { startSipHarness, type SipHarness } from '../support/sip/harness.js';

/** Every RTCPeerConnection a page opens, for the media check (the page itself keeps none in sight). */
const COLLECT_PEER_CONNECTIONS = () => {
  const opened: RTCPeerConnection[] = [];
  const Native = window.RTCPeerConnection;
  (window as unknown as { openedPeerConnections: RTCPeerConnection[] }).openedPeerConnections = opened;
  window.RTCPeerConnection = class extends Native {
    constructor(configuration?: RTCConfiguration) {
      super(configuration);
      opened.push(this);
    }
  };
};

/** True once the page's call has received audio packets. */
const receivedAudio = async () => {
  for (const pc of (window as unknown as { openedPeerConnections: RTCPeerConnection[] }).openedPeerConnections) {
    for (const report of (await pc.getStats()).values()) {
      if (report.type === 'inbound-rtp' && report.kind === 'audio' && report.packetsReceived > 0) return true;
    }
  }
  return false;
};

let harness: SipHarness;
let chromium: TestChromium;
let baseUrl: string;
let parties: Parties;
const titles = new Map<string, string>();

beforeAll(async () => {
  // The browsers are handsets on loopback: access peers, not S-CSCFs.
  harness = await startSipHarness({ env: { CMR_SIP_ACCESS: '127.0.0.1/32' } });
  const { services } = harness.ctx;
  await seedCopyCatalog(services);
  await services.clients.create({ id: 'cmr-handset', name: 'CMR Handset', enabled: true, minVersion: '0.1.0' });
  parties = await newParties(harness.ctx);
  for (const [id, resource] of await services.catalog.getMany([TONES.toCaller.resourceId, TONES.toCalled.resourceId])) titles.set(id, resource.title);
  baseUrl = await harness.ctx.app.listen({ host: '127.0.0.1', port: 0 });
  chromium = await startChromium(['--use-fake-ui-for-media-stream', '--use-fake-device-for-media-stream', '--allow-loopback-in-peer-connection']);
}, 60_000);
afterAll(async () => {
  await chromium?.close();
  await harness?.close();
});

async function handsetOf(identity: Identity): Promise<Page> {
  const page = await chromium.browser.newPage();
  page.setDefaultTimeout(15_000);
  await page.addInitScript(COLLECT_PEER_CONNECTIONS);
  const token = signToken(harness.ctx.config.auth.jwtSecret, { sub: identity, role: 'user' });
  await page.goto(`${baseUrl}/handset/#token=${token}`);
  await page.getByRole('status').filter({ hasText: `Registered as ${identity}` }).waitFor();
  return page;
}

describe('the CMR Handset in two browser pages', () => {
  it('signs in with the Access token field as the portal does, and registers the token\'s identity', async () => {
    const user = (await newParties(harness.ctx)).caller;
    const page = await chromium.browser.newPage();
    try {
      await page.goto(`${baseUrl}/handset/`);
      await page.getByRole('heading', { name: 'Sign in to the CMR Handset' }).waitFor();
      await page.getByLabel('Access token').fill('not-a-token');
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByText(/^the access token was refused: /).waitFor();
      await page.getByLabel('Access token').fill(signToken(harness.ctx.config.auth.jwtSecret, { sub: user, role: 'user' }));
      await page.getByRole('button', { name: 'Sign in' }).click();
      await page.getByRole('status').filter({ hasText: `Registered as ${user}` }).waitFor();
      expect(await harness.ctx.services.redis.exists(harness.ctx.services.keys.sipBinding(user))).toBe(1);
    } finally {
      await page.close();
    }
  });

  it('A calls B, copies what B presents while it rings, talks, copies again (already owned) and hangs up', async () => {
    const a = await handsetOf(parties.caller);
    const b = await handsetOf(parties.called);
    const presentedToA = titles.get(TONES.toCaller.resourceId)!;
    const presentedToB = titles.get(TONES.toCalled.resourceId)!;

    await a.getByLabel('Number').fill(numberOf(parties.called));
    await a.getByRole('button', { name: 'Call', exact: true }).click();

    // B rings and sees what A presents; A sees what B presents, and may copy it.
    await b.getByText(`Incoming call from ${parties.caller}`).waitFor();
    const bPresenting = b.locator('.presenting-now');
    await bPresenting.getByRole('heading', { name: 'Now presenting:' }).waitFor();
    await bPresenting.getByText(presentedToB).waitFor();
    await a.getByText(`Ringing ${parties.called}…`).waitFor();
    const aPresenting = a.locator('.presenting-now');
    await aPresenting.getByText(presentedToA).waitFor();
    expect(await aPresenting.getByLabel(`Listen to ${presentedToA}`).getAttribute('src')).toBe(TONES.toCaller.contentUri);

    const copy = a.getByRole('button', { name: 'Copy', exact: true });
    await expect.poll(() => copy.isEnabled()).toBe(true);
    // Ringing, each page names every control and fits a phone's width.
    for (const [page, name] of [[a, 'handset-calling'], [b, 'handset-ringing']] as const) expect(await inspectPage(page, name)).toEqual({ unnamed: [], widerThanPhone: false });
    await copy.click();
    const copied = a.getByRole('status').filter({ hasText: `Copied: ${presentedToA} (library entry ` });
    await copied.waitFor();
    const copiedText = await copied.textContent();

    await b.getByRole('button', { name: 'Answer' }).click();
    await a.getByText(`In a call with ${parties.called}`).waitFor();
    await b.getByText(`In a call with ${parties.caller}`).waitFor();
    await a.waitForFunction(receivedAudio, undefined, { polling: 200 });
    await b.waitForFunction(receivedAudio, undefined, { polling: 200 });

    await copy.click();
    await a.getByRole('status').filter({ hasText: `Already in your library: ${presentedToA}` }).waitFor();

    await a.getByRole('button', { name: 'Hang up' }).click();
    await a.getByText('Call ended', { exact: true }).waitFor();
    await b.getByText('Call ended', { exact: true }).waitFor();
    await b.getByText('the other party hung up').waitFor();

    // Over REST: one copy in A's library, from B, paid by one charge; B has neither.
    const entry = await expectCallerCopied(harness.ctx, parties);
    expect(copiedText).toContain(entry.id);
  }, 90_000);

  it('copies by the * key while it rings, shows a refusal in words, and cancels by hanging up', async () => {
    const allowing = await newParties(harness.ctx);
    const refusing = await newParties(harness.ctx);
    await setPrivacy(harness.ctx.services, refusing.called, { copy: 'nobody' });
    const presented = titles.get(TONES.toCaller.resourceId)!;

    const ring = async (call: Parties) => {
      const a = await handsetOf(call.caller);
      const b = await handsetOf(call.called);
      await a.getByLabel('Number').fill(`tel:${numberOf(call.called)}`);
      await a.getByRole('button', { name: 'Call', exact: true }).click();
      await b.getByText(`Incoming call from ${call.caller}`).waitFor();
      await expect.poll(() => a.getByRole('button', { name: 'Copy', exact: true }).isEnabled()).toBe(true);
      return { a, b, callId: await ringingCallOf(call.caller) };
    };
    const hangUp = async ({ a, b, callId }: { a: Page; b: Page; callId: string }) => {
      await a.getByRole('button', { name: 'Hang up' }).click();
      await b.getByText('Call ended', { exact: true }).waitFor();
      await expectEndedUnanswered(harness.ctx, callId);
    };

    const allowed = await ring(allowing);
    await allowed.a.keyboard.press('*');
    await allowed.a.getByRole('status').filter({ hasText: `Copied: ${presented}` }).waitFor();
    await hangUp(allowed);
    expect(await copiesOf(harness.ctx, allowing.caller)).toEqual([expect.objectContaining({ resourceId: TONES.toCaller.resourceId, origin: 'copy-online' })]);
    // The key press, not the cmr-copy INFO, asked for it: the copy names the DTMF client.
    expect((await activitiesOf(harness.ctx, allowing.caller)).filter((r) => r.kind === 'copy-online').map((r) => r.detail['client'])).toEqual(['dtmf']);

    const refused = await ring(refusing);
    await refused.a.getByRole('button', { name: 'Copy', exact: true }).click();
    await refused.a.getByRole('alert').filter({ hasText: /^Copy refused: 403 Forbidden — not allowed — .+/ }).waitFor();
    await hangUp(refused);
    expect(await copiesOf(harness.ctx, refusing.caller)).toEqual([]);
  }, 90_000);
});

/** The Call-ID of the user's one live call, as the REST API shows it. */
async function ringingCallOf(uid: Identity): Promise<string> {
  const response = await harness.ctx.app.inject({ method: 'GET', url: `/v1/users/${encodeURIComponent(uid)}/calls/current`, headers: harness.ctx.as(uid) });
  const calls = response.json<Array<{ callId: string; state: string }>>();
  expect(calls).toEqual([expect.objectContaining({ state: 'early' })]);
  return calls[0]!.callId;
}
