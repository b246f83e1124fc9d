/** Charge and activity routes over HTTP: paging, the SP feed, and the SSE stream resumed with Last-Event-ID. */
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ActionRequest } from '../../src/charging/charged-actions.js';
import type { Identity } from '../../src/domain/identity.js';
import type { LibraryEntry } from '../../src/domain/types.js';
import { createTestContext, type TestContext } from '../support/context.js';
import { resourceBody } from '../support/fixtures.js';

const alice = 'tel:+15551233001' as Identity;
const bob = 'tel:+15551233002' as Identity;

let ctx: TestContext;
const chargeIds: string[] = [];

function subscribe(user: Identity, resourceId: string): ActionRequest<{ chargeId: string }> {
  return {
    user,
    actor: user,
    channel: 'rest',
    prepare: ({ chargeId, now }) => {
      const entry: LibraryEntry = { id: `le-${chargeId}`, resourceId, origin: 'subscription', acquiredAt: now.toISOString(), expiresAt: now.toISOString(), autoRenew: false, status: 'active', chargeId };
      return { kind: 'subscribe', charge: { amount: 10, currency: 'EUR', resourceIds: [resourceId] }, command: { type: 'library.add', args: { entries: [entry] } }, answer: { chargeId } };
    },
  };
}

beforeAll(async () => {
  ctx = await createTestContext({ services: { charging: { background: false } } });
  for (const r of ['r-1', 'r-2', 'r-3']) chargeIds.push((await ctx.services.chargedActions.run(subscribe(alice, r))).answer.chargeId);
  await ctx.services.chargedActions.run(subscribe(bob, 'r-1'));
});
afterAll(async () => ctx.close());

const get = (url: string, headers: Record<string, string> = ctx.sp) => ctx.app.inject({ method: 'GET', url, headers });

describe('charges', () => {
  it("pages a user's charges newest first", async () => {
    const first = await get(`/v1/users/${encodeURIComponent(alice)}/charges?limit=2`, ctx.as(alice));
    expect(first.statusCode).toBe(200);
    expect(first.json().items.map((c: { id: string }) => c.id)).toEqual([chargeIds[2], chargeIds[1]]);
    const second = await get(`/v1/users/${alice}/charges?limit=2&cursor=${first.json().next}`, ctx.as(alice));
    expect(second.json()).toEqual({ items: [expect.objectContaining({ id: chargeIds[0], mode: 'cdr', outcome: 'granted', amount: 10 })], next: null });
  });

  it('lists every charge for the SP, and refuses it to users', async () => {
    const all = await get('/v1/charges?limit=10');
    expect(all.json().items).toHaveLength(4);
    expect(all.json().items.map((c: { subscriber: string }) => c.subscriber)).toContain(bob);
    expect((await get('/v1/charges', ctx.as(alice))).statusCode).toBe(403);
  });

  it('refuses a malformed cursor (400)', async () => {
    const res = await get('/v1/charges?cursor=nope');
    expect(res.statusCode).toBe(400);
    expect(res.json().code).toBe('bad-request');
  });
});

describe('activities', () => {
  it("pages a user's activities newest first", async () => {
    const page = await get(`/v1/users/${alice}/activities?limit=2`, ctx.as(alice));
    expect(page.json().items.map((i: { record: { chargeId: string } }) => i.record.chargeId)).toEqual([chargeIds[2], chargeIds[1]]);
    const rest = await get(`/v1/users/${alice}/activities?limit=2&cursor=${page.json().next}`, ctx.as(alice));
    expect(rest.json().items.map((i: { record: { chargeId: string } }) => i.record.chargeId)).toEqual([chargeIds[0]]);
  });

  it('gives the SP the feed oldest first after a cursor, and where to continue', async () => {
    const first = await get('/v1/activities?limit=3');
    expect(first.json().items.map((i: { record: { chargeId: string } }) => i.record.chargeId)).toEqual(chargeIds);
    const next = await get(`/v1/activities?after=${first.json().next}`);
    expect(next.json().items.map((i: { record: { subject: string } }) => i.record.subject)).toEqual([bob]);
    const caughtUp = await get(`/v1/activities?after=${next.json().next}`);
    expect(caughtUp.json()).toEqual({ items: [], next: next.json().next });
    expect((await get('/v1/activities?after=1-2-3')).statusCode).toBe(400);
  });

  it('streams the feed as SSE, resuming after Last-Event-ID, then live', async () => {
    const feed = (await get('/v1/activities')).json().items as Array<{ cursor: string; record: { id: string } }>;
    await ctx.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = ctx.app.server.address() as AddressInfo;
    const abort = new AbortController();
    try {
      const res = await fetch(`http://127.0.0.1:${port}/v1/activities/stream`, {
        // What curl sends by default: `*/*` includes event streams.
        headers: { ...ctx.sp, accept: '*/*', 'last-event-id': feed[1]!.cursor },
        signal: abort.signal,
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toMatch(/^text\/event-stream/);
      const events = sseEvents(res.body!);
      // First where it resumes from, then every record after it.
      expect((await events.next(3)).map((e) => [e.event, e.id])).toEqual([
        ['position', feed[1]!.cursor],
        ['activity', feed[2]!.cursor],
        ['activity', feed[3]!.cursor],
      ]);
      const live = await ctx.services.activities.record({ actor: 'sp:portal-admin', subject: null, kind: 'catalog', channel: 'portal' });
      const [event] = await events.next(1);
      expect(event).toMatchObject({ event: 'activity' });
      expect(JSON.parse(event!.data).id).toBe(live.id);
    } finally {
      abort.abort();
    }
  });

  it('announces the position of a stream opened without a cursor, so a client that saw no record yet resumes without loss', async () => {
    await ctx.app.listen({ host: '127.0.0.1', port: 0 }).catch(() => undefined);
    const { port } = ctx.app.server.address() as AddressInfo;
    const open = (headers: Record<string, string>, signal: AbortSignal) =>
      fetch(`http://127.0.0.1:${port}/v1/activities/stream`, { headers: { ...ctx.sp, accept: 'text/event-stream', ...headers }, signal });
    const first = new AbortController();
    const [position] = await sseEvents((await open({}, first.signal)).body!).next(1);
    first.abort();
    const newest = (await get('/v1/activities?limit=500')).json().items.at(-1).cursor;
    expect(position).toMatchObject({ event: 'position', id: newest, data: JSON.stringify({ cursor: newest }) });

    // Written while no stream is open: the client resumes from the announced position.
    const missed = await ctx.services.activities.record({ actor: 'sp:portal-admin', subject: null, kind: 'catalog', channel: 'portal' });
    const second = new AbortController();
    try {
      const events = await sseEvents((await open({ 'last-event-id': position!.id! }, second.signal)).body!).next(2);
      expect(events.map((e) => e.event)).toEqual(['position', 'activity']);
      expect(JSON.parse(events[1]!.data).id).toBe(missed.id);
    } finally {
      second.abort();
    }
  });

  it("records the SP's catalog changes in the feed", async () => {
    const created = await ctx.app.inject({ method: 'POST', url: '/v1/resources', headers: ctx.sp, payload: resourceBody({ id: 'r-feed' }) });
    expect(created.statusCode).toBe(201);
    const feed = (await get('/v1/activities?limit=500')).json().items.map((i: { record: unknown }) => i.record);
    expect(feed).toContainEqual(expect.objectContaining({ actor: 'sp:portal-admin', subject: null, kind: 'catalog', channel: 'rest', detail: { action: 'create', resourceId: 'r-feed' } }));
  });

  it('refuses the stream to a client that does not accept text/event-stream (406)', async () => {
    const res = await get('/v1/activities/stream', { ...ctx.sp, accept: 'application/json' });
    expect(res.statusCode).toBe(406);
    const noAccept = await get('/v1/activities/stream', ctx.sp);
    expect(noAccept.statusCode).toBe(406);
  });
});

/** Reads SSE events from a response body, a few at a time. */
function sseEvents(body: ReadableStream<Uint8Array>) {
  const reader = body.getReader();
  const decoder = new TextDecoder();
  let buffer = '';
  const parsed: Array<{ id?: string; event?: string; data: string }> = [];
  return {
    async next(n: number) {
      while (parsed.length < n) {
        const { value, done } = await reader.read();
        if (done) throw new Error('stream ended');
        buffer += decoder.decode(value, { stream: true });
        let end: number;
        while ((end = buffer.indexOf('\n\n')) >= 0) {
          const block = buffer.slice(0, end);
          buffer = buffer.slice(end + 2);
          const fields = Object.fromEntries(
            block
              .split('\n')
              .filter((line) => line && !line.startsWith(':'))
              .map((line) => [line.slice(0, line.indexOf(':')), line.slice(line.indexOf(':') + 1).trimStart()]),
          );
          if (fields['data'] !== undefined) parsed.push({ id: fields['id'], event: fields['event'], data: fields['data'] });
        }
      }
      return parsed.splice(0, n);
    },
  };
}
