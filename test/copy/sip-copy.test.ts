/**
 * Online copy over SIP INFO through the copy port (`services.sipCopy`), end to end on the real
 * Redis, the real call service and the HTTP/2 test CHF (`nchf` mode): what is copied, charged and
 * recorded, every refusal and its SIP answer, idempotent repeats, concurrency, the grace period
 * and DTMF.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CopyResult } from '../../src/copy/copy-outcomes.js';
import { COPY_RESULT_CONTENT_TYPE } from '../../src/copy/info-classifier.js';
import type { SipAnswer } from '../../src/copy/sip-copy-port.js';
import type { Identity } from '../../src/domain/identity.js';
import type { ActivityRecord } from '../../src/domain/types.js';
import type { TestContext } from '../support/context.js';
import { createChfTestContext, type ChfTestContext } from '../support/chf-context.js';
import { copyInfo, dtmfInfo, HANDSET, libraryOf, newUser, owning, seedCopyCatalog, setPrivacy, startCall } from '../support/copy-fixtures.js';
import { eventually } from '../support/eventually.js';
import { entry, resource, seedCatalog, seedUser } from '../support/presentation-fixtures.js';
import type { TestChf } from '../support/test-chf.js';

const GRACE_SEC = 2;
let chf: TestChf;
let ctx: TestContext;

let setup: ChfTestContext;

beforeAll(async () => {
  setup = await createChfTestContext({
    CMR_SESSION_GRACE_SEC: String(GRACE_SEC),
    CMR_SIP_PUBLIC_HOST: 'cmr.example.net',
    // These tests are about copying, not about failing open at call setup.
    CMR_SELECT_BUDGET_MS: '5000',
  });
  ({ chf, ctx } = setup);
  await seedCopyCatalog(ctx.services);
});
afterAll(async () => setup.close());
afterEach(() => chf.clearSwitches());

const handleInfo = (info: Parameters<TestContext['services']['sipCopy']['handleInfo']>[0]) => ctx.services.sipCopy.handleInfo(info);
const resultOf = (answer: SipAnswer | null): CopyResult => {
  expect(answer).toMatchObject({ status: 200, contentType: COPY_RESULT_CONTENT_TYPE });
  return JSON.parse(answer!.body!) as CopyResult;
};
const library = (uid: Identity) => libraryOf(ctx.services, uid);
const charges = async (uid: Identity) => (await ctx.services.charges.forUser(uid, 50)).items;
const activities = async (uid: Identity): Promise<ActivityRecord[]> => (await ctx.services.activityFeed.forUser(uid, 50)).items.map((i) => i.record);

/** A caller with money and a called party presenting `presents` to the caller, in a call. */
async function callPresenting(presents: string[] = ['r-song']) {
  const [caller, called] = [newUser(), newUser()];
  chf.setBalance(caller, 10_000);
  chf.setBalance(called, 10_000);
  await owning(ctx.services, called, presents);
  const session = await startCall(ctx.services, caller, called);
  return { caller, called, session };
}

/** Expects a refusal: the status, a Warning with the reason, and nothing copied or charged. */
async function expectRefused(answer: SipAnswer | null, status: number, reason: RegExp, requestor: Identity): Promise<void> {
  expect(answer?.status).toBe(status);
  expect(answer?.headers['Warning']).toMatch(new RegExp(`^399 cmr\\.example\\.net ".*${reason.source}.*"$`));
  expect(await library(requestor)).toEqual([]);
  expect(chf.chargesOf(requestor)).toBe(0);
}

describe('copy over SIP INFO', () => {
  it("copies what is presented to the caller into the caller's library, charged with both parties, and records it", async () => {
    const { caller, called, session } = await callPresenting();
    const info = copyInfo(session);
    const result = resultOf(await handleInfo(info));

    const [copied] = await library(caller);
    expect(copied).toMatchObject({ resourceId: 'r-song', origin: 'copy-online', from: called, status: 'active', autoRenew: false });
    expect(Date.parse(copied!.expiresAt) - Date.parse(copied!.acquiredAt)).toBe(30 * 86_400_000);
    expect(result).toEqual({
      result: 'copied',
      entries: [{ resourceId: 'r-song', libraryEntryId: copied!.id, expiresAt: copied!.expiresAt }],
      charge: { id: copied!.chargeId, amount: 99, currency: 'EUR' },
    });
    expect(chf.balances.get(caller)).toBe(10_000 - 99);
    const chfRequest = chf.requests.at(-1)!;
    expect(JSON.stringify(chfRequest)).toContain(`"callingPartyAddresses":["${caller}"]`);
    expect(JSON.stringify(chfRequest)).toContain(`"calledPartyAddress":"${called}"`);
    expect(await charges(caller)).toEqual([
      expect.objectContaining({ id: result.charge!.id, kind: 'copy-online', amount: 99, currency: 'EUR', outcome: 'granted', calling: caller, called, resourceIds: ['r-song'] }),
    ]);
    expect(await activities(caller)).toEqual([
      expect.objectContaining({ kind: 'copy-online', channel: 'sip', actor: caller, result: 'success', chargeId: result.charge!.id, detail: expect.objectContaining({ from: called, callId: session.callId, client: 'acme-handset' }) }),
    ]);

    // A retransmission (same dialog and CSeq) gets the same answer; nothing more is copied or charged.
    expect(await handleInfo(info)).toEqual(await handleInfo(info));
    expect(resultOf(await handleInfo(info))).toEqual(result);
    expect(chf.chargesOf(caller)).toBe(1);
    expect(await library(caller)).toHaveLength(1);
  });

  it('lets the called party copy what the caller presents to it', async () => {
    const [caller, called] = [newUser(), newUser()];
    chf.setBalance(called, 1000);
    await owning(ctx.services, caller, ['r-tune']);
    const session = await startCall(ctx.services, caller, called);
    const result = resultOf(await handleInfo(copyInfo(session, { requestor: called, fromTag: 'callee-tag' })));
    expect(result).toMatchObject({ result: 'copied', charge: { amount: 50 } });
    expect(await library(called)).toEqual([expect.objectContaining({ resourceId: 'r-tune', from: caller, origin: 'copy-online' })]);
    expect(await library(caller)).toHaveLength(1);
  });

  it('answers already-owned without a charge when the requestor holds the resource', async () => {
    const { caller, session } = await callPresenting();
    const held = entry('r-song', { id: 'e-own', origin: 'subscription' });
    await seedUser(ctx.services, caller, { library: [held] });
    const asked = chf.requests.length;
    const result = resultOf(await handleInfo(copyInfo(session)));
    expect(result).toEqual({ result: 'already-owned', entries: [{ resourceId: 'r-song', libraryEntryId: 'e-own', expiresAt: held.expiresAt }], charge: null });
    expect(chf.requests.length).toBe(asked);
    expect(await library(caller)).toEqual([held]);
    expect(await activities(caller)).toEqual([expect.objectContaining({ kind: 'copy-online', chargeId: null, detail: expect.objectContaining({ result: 'already-owned' }) })]);
  });
});

describe("the owner's privacy and the resource", () => {
  it('refuses when the owner allows nobody to copy (403)', async () => {
    const { caller, called, session } = await callPresenting();
    await setPrivacy(ctx.services, called, { copy: 'nobody' });
    await expectRefused(await handleInfo(copyInfo(session)), 403, /does not allow copying/, caller);
  });

  it("allows the owner's contacts when the owner allows contacts, and refuses others", async () => {
    const inside = await callPresenting();
    await setPrivacy(ctx.services, inside.called, { copy: 'contacts', contacts: [inside.caller] });
    expect(resultOf(await handleInfo(copyInfo(inside.session))).result).toBe('copied');

    const outside = await callPresenting();
    await setPrivacy(ctx.services, outside.called, { copy: 'contacts', contacts: [newUser()] });
    await expectRefused(await handleInfo(copyInfo(outside.session)), 403, /contacts only/, outside.caller);
  });

  it('refuses a requestor the owner has blocked since the call began (403)', async () => {
    const { caller, called, session } = await callPresenting();
    await setPrivacy(ctx.services, called, { blocked: [caller] });
    await expectRefused(await handleInfo(copyInfo(session)), 403, /does not let you copy/, caller);
  });

  it('refuses a resource withdrawn since the call began, and one whose licence forbids copying (403)', async () => {
    const withdrawn = await callPresenting(['r-tune']);
    const tune = await ctx.services.catalog.get('r-tune');
    await ctx.services.catalog.withdraw('r-tune');
    try {
      await expectRefused(await handleInfo(copyInfo(withdrawn.session)), 403, /r-tune is withdrawn/, withdrawn.caller);
    } finally {
      await ctx.services.catalog.replace('r-tune', { ...tune, status: 'available' });
    }
    const locked = await callPresenting(['r-locked']);
    await expectRefused(await handleInfo(copyInfo(locked.session)), 403, /licence of resource r-locked does not allow copying/, locked.caller);
  });

  it('refuses a resource the owner no longer holds (404)', async () => {
    const { caller, called, session } = await callPresenting();
    await ctx.services.users.library(called).put(entry('r-song', { status: 'cancelled' }));
    await expectRefused(await handleInfo(copyInfo(session)), 404, /holds no active entry for resource r-song/, caller);
  });
});

describe('the call, the requestor and the client', () => {
  it('answers 404 for an unknown dialog, another From tag, nothing presented, or an id outside what is presented', async () => {
    const { caller, session } = await callPresenting();
    await expectRefused(await handleInfo(copyInfo(session, { callId: 'no-such-call@192.0.2.10' })), 404, /no live or recent call/, caller);
    await expectRefused(await handleInfo(copyInfo(session, { dialogFromTag: 'other-dialog' })), 404, /no live or recent call/, caller);
    await expectRefused(await handleInfo(copyInfo(session, { json: { resourceIds: ['r-tune'] } })), 404, /r-tune is not presented/, caller);
    // The caller owns nothing, so nothing is presented to the called party.
    const toCalled = await handleInfo(copyInfo(session, { requestor: session.called }));
    expect(toCalled).toMatchObject({ status: 404, headers: { Warning: expect.stringMatching(/nothing is presented/) } });
    expect(chf.chargesOf(session.called)).toBe(0);
  });

  it('refuses a requestor who is neither party, and a body naming other parties (403)', async () => {
    const { caller, session } = await callPresenting();
    const stranger = newUser();
    await expectRefused(await handleInfo(copyInfo(session, { requestor: stranger })), 403, /neither the caller nor the called party/, stranger);
    await expectRefused(await handleInfo(copyInfo(session, { json: { called: newUser() } })), 403, /not those of this call/, caller);
    await expectRefused(await handleInfo(copyInfo(session, { requestor: null })), 403, /no usable identity/, caller);
  });

  it('checks the client first, also for a requestor who is neither party', async () => {
    const { session } = await callPresenting();
    const stranger = newUser();
    const answer = await handleInfo(copyInfo(session, { requestor: stranger, json: { client: { id: 'retired-app', version: '3.0.0' } } }));
    await expectRefused(answer, 403, /client retired-app is disabled/, stranger);
  });

  it('leaves out what the catalog no longer holds, as the call shows it: nothing presented then (404)', async () => {
    await seedCatalog(ctx.services, [resource('r-vanishing')]);
    const { caller, session } = await callPresenting(['r-vanishing']);
    expect(session.toCaller.map((r) => r.resourceId)).toEqual(['r-vanishing']);
    // Removed by hand: the catalog itself only ever withdraws.
    await ctx.services.redis.hdel(ctx.services.keys.resources, 'r-vanishing');
    await expectRefused(await handleInfo(copyInfo(session)), 404, /nothing is presented/, caller);
    await expectRefused(await handleInfo(copyInfo(session, { json: { resourceIds: ['r-vanishing'] } })), 404, /nothing is presented/, caller);
  });

  it('refuses an unknown client, a disabled one and one below its minimum version (403); a version that is not semver is 400', async () => {
    const { caller, session } = await callPresenting();
    const withClient = (client: Record<string, unknown>) => handleInfo(copyInfo(session, { json: { client } }));
    await expectRefused(await withClient({ id: 'unknown-app', version: '1.0.0' }), 403, /client unknown-app is not registered/, caller);
    await expectRefused(await withClient({ id: 'retired-app', version: '3.0.0' }), 403, /client retired-app is disabled/, caller);
    await expectRefused(await withClient({ id: 'acme-handset', version: '1.9.9' }), 403, /1\.9\.9 is below the minimum version 2\.0\.0/, caller);
    await expectRefused(await withClient({ id: 'acme-handset', version: 'two' }), 400, /not a semantic version/, caller);
    expect(resultOf(await withClient({ id: 'acme-handset', version: '2.0.0' })).result).toBe('copied');
  });
});

describe('bad INFO', () => {
  it('answers 400, 413, 415 and 469 and lets other INFO pass through, changing nothing', async () => {
    const { caller, session } = await callPresenting();
    await expectRefused(await handleInfo(copyInfo(session, { body: '{"caller":' })), 400, /not JSON/, caller);
    await expectRefused(await handleInfo(copyInfo(session, { body: JSON.stringify({ caller: session.caller }) })), 400, /missing 'called'/, caller);
    await expectRefused(await handleInfo(copyInfo(session, { body: 'x'.repeat(8 * 1024 + 1) })), 413, /exceeds 8192 bytes/, caller);

    const wrongType = await handleInfo(copyInfo(session, { contentType: 'text/plain' }));
    expect(wrongType).toMatchObject({ status: 415, headers: { Accept: 'application/vnd.cmr.copy+json' } });
    const unknownPackage = await handleInfo(copyInfo(session, { infoPackage: 'g.3gpp.foo', contentType: 'application/xml', body: '<x/>' }));
    expect(unknownPackage).toMatchObject({ status: 469, reason: 'Bad Info Package', headers: { 'Recv-Info': 'cmr-copy' } });
    expect(await handleInfo(dtmfInfo(session, '5'))).toBeNull();
    expect(await handleInfo(copyInfo(session, { infoPackage: null, contentType: 'application/media_control+xml', body: '<x/>' }))).toBeNull();
    expect(await library(caller)).toEqual([]);
    expect(chf.chargesOf(caller)).toBe(0);
  });
});

describe('DTMF', () => {
  it('copies everything presented to the sender of the copy key, as the built-in dtmf client', async () => {
    const { caller, called, session } = await callPresenting(['r-tune']);
    const result = resultOf(await handleInfo(dtmfInfo(session, '*')));
    expect(result).toMatchObject({ result: 'copied', entries: [{ resourceId: 'r-tune' }], charge: { amount: 50, currency: 'EUR' } });
    expect(await library(caller)).toEqual([expect.objectContaining({ resourceId: 'r-tune', from: called })]);
    expect((await activities(caller))[0]?.detail).toMatchObject({ client: 'dtmf' });
  });

  it('is refused once the SP registers the dtmf client disabled', async () => {
    await ctx.services.clients.create({ id: 'dtmf', name: 'DTMF key press', enabled: false, minVersion: '0.0.0' });
    try {
      const { caller, session } = await callPresenting();
      await expectRefused(await handleInfo(dtmfInfo(session, '*')), 403, /client dtmf is disabled/, caller);
    } finally {
      await ctx.services.clients.remove('dtmf');
    }
  });
});

describe('charging', () => {
  it('answers 402 and applies nothing when the Charging Enabler denies', async () => {
    const { caller, session } = await callPresenting();
    chf.setBalance(caller, 10);
    const answer = await handleInfo(copyInfo(session));
    expect(answer).toMatchObject({ status: 402, reason: 'Payment Required' });
    expect(answer?.headers['Warning']).toMatch(/QUOTA_LIMIT_REACHED/);
    expect(await library(caller)).toEqual([]);
    expect(await charges(caller)).toEqual([expect.objectContaining({ outcome: 'denied', kind: 'copy-online' })]);
    expect(await activities(caller)).toEqual([expect.objectContaining({ result: 'denied', kind: 'copy-online' })]);
  });

  it('answers 503 with Retry-After and applies nothing when the Charging Enabler is unavailable', async () => {
    const { caller, session } = await callPresenting();
    chf.failNext(503, 1);
    const answer = await handleInfo(copyInfo(session));
    expect(answer).toMatchObject({ status: 503, headers: { 'Retry-After': expect.stringMatching(/^[1-9]\d*$/) } });
    expect(await library(caller)).toEqual([]);
    expect(chf.chargesOf(caller)).toBe(0);
    expect((await charges(caller)).filter((c) => c.outcome === 'granted')).toEqual([]);
    // A new INFO after the outage copies.
    expect(resultOf(await handleInfo(copyInfo(session))).result).toBe('copied');
  });
});

describe('concurrency', () => {
  it('answers 50 concurrent copies of the same INFO once: one entry, one charge, the same answer', async () => {
    const { caller, session } = await callPresenting();
    chf.slowNext(100, 1);
    const info = copyInfo(session);
    const answers = await Promise.all(Array.from({ length: 50 }, () => handleInfo(info)));
    expect(new Set(answers.map((a) => JSON.stringify(a))).size).toBe(1);
    expect(resultOf(answers[0]!).result).toBe('copied');
    expect(await library(caller)).toHaveLength(1);
    expect(chf.chargesOf(caller)).toBe(1);
    expect(await charges(caller)).toHaveLength(1);
  });

  it('copies once when different requests for the same resource race (SIP and REST)', async () => {
    const { caller, called, session } = await callPresenting();
    chf.slowNext(100, 1);
    const viaRest = ctx.app.inject({
      method: 'POST',
      url: `/v1/users/${encodeURIComponent(caller)}/copies`,
      headers: ctx.as(caller),
      payload: { mode: 'online', peer: called, client: { id: 'acme-handset', version: '2.1.0' } },
    });
    const answers = await Promise.all([...Array.from({ length: 5 }, () => handleInfo(copyInfo(session))), handleInfo(dtmfInfo(session, '*'))]);
    const rest = await viaRest;
    const results = [...answers.map((a) => resultOf(a).result), rest.json<CopyResult>().result];
    expect(results.filter((r) => r === 'copied')).toHaveLength(1);
    expect(results.filter((r) => r === 'already-owned')).toHaveLength(6);
    expect(await library(caller)).toHaveLength(1);
    expect(chf.chargesOf(caller)).toBe(1);
  });
});

describe('the grace period', () => {
  /** The REST online copy of what `peer` presents to `requestor`: it names the peer, not a dialog. */
  const restCopy = (requestor: Identity, peer: Identity) =>
    ctx.services.copy.copy({ mode: 'online', channel: 'rest', requestor, actor: requestor, call: { peer }, client: HANDSET, parties: null, resourceIds: null });

  it('answers a copy INFO sent after the call ended with 481, while a REST copy of that call still works until the grace period is over', async () => {
    const ended = await callPresenting();
    await ctx.services.calls.callAnswered(ended.session.callId);
    await ctx.services.calls.callEnded(ended.session.callId, 'bye');
    // The dialog is gone (RFC 3261 §12.2.2): no copy, no charge.
    await expectRefused(await handleInfo(copyInfo(ended.session)), 481, /the call is over/, ended.caller);
    expect((await restCopy(ended.caller, ended.called)).answer.result).toBe('copied');
    expect(chf.chargesOf(ended.caller)).toBe(1);

    const after = await callPresenting();
    await ctx.services.calls.callEnded(after.session.callId, 'bye');
    await eventually(async () => expect(await ctx.services.calls.getCall(after.session.callId)).toBeNull(), (GRACE_SEC + 3) * 1000, 100);
    await expect(restCopy(after.caller, after.called)).rejects.toMatchObject({ code: 'not-found' });
    await expectRefused(await handleInfo(copyInfo(after.session)), 404, /no live or recent call/, after.caller);
  });
});
