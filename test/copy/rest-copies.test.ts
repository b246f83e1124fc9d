/**
 * `POST /v1/users/{uid}/copies` over HTTP (inject) on the real Redis and the HTTP/2 test CHF:
 * online copies from the user's live call with a peer, offline copies from another user's library,
 * `Idempotency-Key`, and the bad requests that change nothing.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CopyResult } from '../../src/copy/copy-outcomes.js';
import type { Identity } from '../../src/domain/identity.js';
import type { TestContext } from '../support/context.js';
import { createChfTestContext, type ChfTestContext } from '../support/chf-context.js';
import { HANDSET, libraryOf, newUser, owning, seedCopyCatalog, setPrivacy, startCall } from '../support/copy-fixtures.js';
import { entry, seedUser } from '../support/presentation-fixtures.js';
import type { TestChf } from '../support/test-chf.js';

let chf: TestChf;
let ctx: TestContext;

let setup: ChfTestContext;

beforeAll(async () => {
  setup = await createChfTestContext({ CMR_SELECT_BUDGET_MS: '5000' });
  ({ chf, ctx } = setup);
  await seedCopyCatalog(ctx.services);
});
afterAll(async () => setup.close());
afterEach(() => chf.clearSwitches());

function postCopy(uid: Identity, payload: unknown, headers: Record<string, string> = {}) {
  return ctx.app.inject({ method: 'POST', url: `/v1/users/${encodeURIComponent(uid)}/copies`, headers: { ...ctx.as(uid), ...headers }, payload: payload as object });
}
const library = (uid: Identity) => libraryOf(ctx.services, uid);

/** A user with money. */
function payingUser(): Identity {
  const uid = newUser();
  chf.setBalance(uid, 10_000);
  return uid;
}

describe('online copy over REST', () => {
  it('copies what the caller presents to the user when the user is the called party', async () => {
    const [user, peer] = [payingUser(), newUser()];
    await owning(ctx.services, peer, ['r-tune']);
    await startCall(ctx.services, peer, user);
    const res = await postCopy(user, { mode: 'online', peer, client: HANDSET, resourceIds: ['r-tune'] });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ result: 'copied', entries: [{ resourceId: 'r-tune' }], charge: { amount: 50 } });
    expect(await library(user)).toEqual([expect.objectContaining({ resourceId: 'r-tune', from: peer, origin: 'copy-online' })]);
  });

  it('copies what the called peer presents to the user (201), then answers already-owned (200)', async () => {
    const [user, peer] = [payingUser(), newUser()];
    await owning(ctx.services, peer, ['r-song']);
    const session = await startCall(ctx.services, user, peer);

    const res = await postCopy(user, { mode: 'online', peer, client: HANDSET });
    expect(res.statusCode).toBe(201);
    const result = res.json<CopyResult>();
    const [copied] = await library(user);
    expect(copied).toMatchObject({ resourceId: 'r-song', origin: 'copy-online', from: peer });
    expect(result).toEqual({ result: 'copied', entries: [{ resourceId: 'r-song', libraryEntryId: copied!.id, expiresAt: copied!.expiresAt }], charge: { id: copied!.chargeId, amount: 99, currency: 'EUR' } });
    const [activity] = (await ctx.services.activityFeed.forUser(user, 10)).items.map((i) => i.record);
    expect(activity).toMatchObject({ kind: 'copy-online', channel: 'rest', actor: user, detail: expect.objectContaining({ callId: session.callId }) });
    // Tracked for the sweeper, so the copy expires on time like any other entry.
    const due = await ctx.services.management.expiryIndex.due(Date.parse(copied!.expiresAt), 10_000);
    expect(due).toContainEqual({ user, entryId: copied!.id });

    const again = await postCopy(user, { mode: 'online', peer, client: HANDSET, resourceIds: ['r-song'] });
    expect(again.statusCode).toBe(200);
    expect(again.json()).toEqual({ result: 'already-owned', entries: result.entries, charge: null });
    expect(chf.chargesOf(user)).toBe(1);
  });

  it('answers 404 without a live call with the peer or when it presents nothing, 403 for an old client, and 400 for the user as peer', async () => {
    const [user, peer] = [payingUser(), newUser()];
    expect((await postCopy(user, { mode: 'online', peer, client: HANDSET })).json()).toMatchObject({ status: 404, code: 'not-found', detail: expect.stringMatching(/no live or recent call/) });
    await startCall(ctx.services, user, peer);
    expect((await postCopy(user, { mode: 'online', peer, client: HANDSET })).json()).toMatchObject({ status: 404, code: 'not-found', detail: expect.stringMatching(/nothing is presented/) });
    await owning(ctx.services, peer, ['r-song']);
    await startCall(ctx.services, user, peer);
    expect((await postCopy(user, { mode: 'online', peer, client: { id: 'acme-handset', version: '1.0.0' } })).json()).toMatchObject({ status: 403, code: 'forbidden' });
    expect((await postCopy(user, { mode: 'online', peer: user, client: HANDSET })).json()).toMatchObject({ status: 400, code: 'bad-request' });
    expect(await library(user)).toEqual([]);
  });

  it('lets the SP copy for a user, recorded with the SP as actor', async () => {
    const [user, peer] = [payingUser(), newUser()];
    await owning(ctx.services, peer, ['r-song']);
    await startCall(ctx.services, user, peer);
    const res = await ctx.app.inject({ method: 'POST', url: `/v1/users/${encodeURIComponent(user)}/copies`, headers: ctx.sp, payload: { mode: 'online', peer, client: HANDSET } });
    expect(res.statusCode).toBe(201);
    const [activity] = (await ctx.services.activityFeed.forUser(user, 10)).items.map((i) => i.record);
    expect(activity).toMatchObject({ actor: 'sp:portal-admin', subject: user, kind: 'copy-online' });
  });
});

describe('offline copy', () => {
  it("copies from the other user's active entries, charged the copy prices", async () => {
    const [user, owner] = [payingUser(), newUser()];
    await owning(ctx.services, owner, ['r-song', 'r-tune']);
    const res = await postCopy(user, { mode: 'offline', from: owner, resourceIds: ['r-song', 'r-tune'] });
    expect(res.statusCode).toBe(201);
    const result = res.json<CopyResult>();
    expect(result).toMatchObject({ result: 'copied', charge: { amount: 149, currency: 'EUR' } });
    const copied = await library(user);
    expect(copied.map((e) => [e.resourceId, e.origin, e.from])).toEqual([
      ['r-song', 'copy-offline', owner],
      ['r-tune', 'copy-offline', owner],
    ]);
    expect(result.entries).toEqual(copied.map((e) => ({ resourceId: e.resourceId, libraryEntryId: e.id, expiresAt: e.expiresAt })));
    expect(Date.parse(copied[1]!.expiresAt) - Date.parse(copied[1]!.acquiredAt)).toBe(10 * 86_400_000);
    expect(chf.balances.get(user)).toBe(10_000 - 149);
    expect((await ctx.services.charges.forUser(user, 10)).items).toEqual([expect.objectContaining({ kind: 'copy-offline', amount: 149, resourceIds: ['r-song', 'r-tune'] })]);
  });

  it('copies only what the user does not hold yet, and answers already-owned when everything is held', async () => {
    const [user, owner] = [payingUser(), newUser()];
    await owning(ctx.services, owner, ['r-song', 'r-tune']);
    await seedUser(ctx.services, user, { library: [entry('r-song')] });
    const partly = await postCopy(user, { mode: 'offline', from: owner, resourceIds: ['r-song', 'r-tune'] });
    expect(partly.statusCode).toBe(201);
    expect(partly.json()).toMatchObject({ result: 'copied', entries: [{ resourceId: 'r-tune' }], charge: { amount: 50 } });
    const all = await postCopy(user, { mode: 'offline', from: owner, resourceIds: ['r-tune', 'r-song'] });
    expect(all.statusCode).toBe(200);
    expect(all.json()).toMatchObject({ result: 'already-owned', entries: [{ resourceId: 'r-tune' }, { resourceId: 'r-song', libraryEntryId: 'e-r-song' }], charge: null });
    expect(chf.chargesOf(user)).toBe(1);
  });

  it("honours the owner's privacy and each resource's licence, and copies only what the owner holds", async () => {
    const [user, owner] = [payingUser(), newUser()];
    await owning(ctx.services, owner, ['r-song', 'r-locked', 'r-dollar']);
    await seedUser(ctx.services, owner, { library: [entry('r-tune', { expiresAt: '2020-01-01T00:00:00.000Z' })] });
    const refused = async (payload: Record<string, unknown>, status: number, code: string, detail: RegExp) => {
      const res = await postCopy(user, { mode: 'offline', from: owner, ...payload });
      expect({ status: res.statusCode, ...res.json() }).toMatchObject({ status, code, detail: expect.stringMatching(detail) });
    };
    await refused({ resourceIds: ['r-locked'] }, 403, 'forbidden', /does not allow copying/);
    await refused({ resourceIds: ['r-tune'] }, 404, 'not-found', /holds no active entry for resource r-tune/);
    await refused({ resourceIds: ['r-song', 'r-dollar'] }, 409, 'conflict', /different currencies/);
    await refused({ resourceIds: ['r-song'], from: user }, 400, 'bad-request', /another user/);
    await setPrivacy(ctx.services, owner, { copy: 'nobody' });
    await refused({ resourceIds: ['r-song'] }, 403, 'privacy-forbids', /does not allow copying/);
    await setPrivacy(ctx.services, owner, { copy: 'everyone', blocked: [user] });
    await refused({ resourceIds: ['r-song'] }, 403, 'privacy-forbids', /does not let you copy/);
    expect(await library(user)).toEqual([]);
    expect(chf.chargesOf(user)).toBe(0);
    // The refusals of well-formed requests reach the portal as denied copies.
    const denied = (await ctx.services.activityFeed.forUser(user, 20)).items.map((i) => i.record).filter((r) => r.result === 'denied');
    expect(denied.map((r) => r.detail['code']).sort()).toEqual(['forbidden', 'not-found', 'privacy-forbids', 'privacy-forbids']);
    expect(denied[0]).toMatchObject({ kind: 'copy-offline', channel: 'rest', actor: user, subject: user, chargeId: null });

    await setPrivacy(ctx.services, owner, { copy: 'contacts', contacts: [user], blocked: [] });
    expect((await postCopy(user, { mode: 'offline', from: owner, resourceIds: ['r-dollar'] })).json()).toMatchObject({ result: 'copied', charge: { currency: 'USD' } });
  });

  it('answers 402 and copies nothing when charging is denied', async () => {
    const [user, owner] = [newUser(), newUser()];
    chf.setBalance(user, 5);
    await owning(ctx.services, owner, ['r-song']);
    const res = await postCopy(user, { mode: 'offline', from: owner, resourceIds: ['r-song'] });
    expect(res.statusCode).toBe(402);
    expect(res.json()).toMatchObject({ code: 'charging-denied' });
    expect(await library(user)).toEqual([]);
  });
});

describe('Idempotency-Key', () => {
  it('replays the first answer and charges once; the same key with another body is 409', async () => {
    const [user, owner] = [payingUser(), newUser()];
    await owning(ctx.services, owner, ['r-song', 'r-tune']);
    const key = { 'idempotency-key': 'copy-0001' };
    const first = await postCopy(user, { mode: 'offline', from: owner, resourceIds: ['r-song'] }, key);
    const again = await postCopy(user, { mode: 'offline', from: owner, resourceIds: ['r-song'] }, key);
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.json()).toEqual(first.json());
    expect(first.headers['idempotent-replayed']).toBeUndefined();
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(chf.chargesOf(user)).toBe(1);
    expect(await ctx.services.metrics.registry.getSingleMetricAsString('cmr_copies_total')).toMatch(/channel="rest",result="replayed"} [1-9]/);
    const reused = await postCopy(user, { mode: 'offline', from: owner, resourceIds: ['r-tune'] }, key);
    expect(reused.statusCode).toBe(409);
    expect(reused.json()).toMatchObject({ code: 'idempotency-key-reused' });
    expect(await library(user)).toHaveLength(1);
  });

  it('runs 50 concurrent requests with the same key once: one entry, one charge, one answer', async () => {
    const [user, peer] = [payingUser(), newUser()];
    await owning(ctx.services, peer, ['r-song']);
    await startCall(ctx.services, user, peer);
    chf.slowNext(100, 1);
    const responses = await Promise.all(
      Array.from({ length: 50 }, () => postCopy(user, { mode: 'online', peer, client: HANDSET }, { 'idempotency-key': 'concurrent-copy' })),
    );
    expect(new Set(responses.map((r) => `${r.statusCode} ${r.body}`)).size).toBe(1);
    expect(responses[0]!.statusCode).toBe(201);
    expect(await library(user)).toHaveLength(1);
    expect(chf.chargesOf(user)).toBe(1);
  });
});

describe('bad requests change nothing', () => {
  it('answers 400 for a bad body or key, and 413 over 8 KiB', async () => {
    const [user, owner] = [payingUser(), newUser()];
    await owning(ctx.services, owner, ['r-song']);
    const bad = async (payload: unknown, code: string, headers: Record<string, string> = {}) => {
      const res = await postCopy(user, payload, headers);
      expect({ status: res.statusCode, code: res.json().code }).toEqual({ status: code === 'payload-too-large' ? 413 : 400, code });
    };
    await bad({ from: owner, resourceIds: ['r-song'] }, 'validation-failed');
    await bad({ mode: 'offline', from: owner }, 'validation-failed');
    await bad({ mode: 'offline', from: owner, resourceIds: [] }, 'validation-failed');
    await bad({ mode: 'offline', from: owner, resourceIds: ['r-song'], extra: 1 }, 'validation-failed');
    await bad({ mode: 'online', peer: owner }, 'validation-failed');
    // The other branch of the body's union is not held against a valid mode.
    expect((await postCopy(user, { mode: 'online', peer: owner })).json().detail).not.toMatch(/must be one of/);
    await bad({ mode: 'offline', from: 'not an identity', resourceIds: ['r-song'] }, 'bad-identity');
    await bad({ mode: 'offline', from: owner, resourceIds: ['r-song'] }, 'validation-failed', { 'idempotency-key': 'bad key with spaces' });
    await bad({ mode: 'offline', from: owner, resourceIds: ['r-song'], pad: 'x'.repeat(9000) }, 'payload-too-large');
    expect(await library(user)).toEqual([]);
    expect(chf.chargesOf(user)).toBe(0);
  });
});
