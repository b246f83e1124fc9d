import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../support/context.js';
import { resourceBody } from '../../support/fixtures.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx.close());

describe('/v1/resources', () => {
  it('lets the SP add, read, replace and withdraw a resource', async () => {
    const created = await ctx.app.inject({ method: 'POST', url: '/v1/resources', headers: ctx.sp, payload: resourceBody({ id: 'r-123' }) });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ id: 'r-123', status: 'available', title: 'Summer Song' });

    const read = await ctx.app.inject({ method: 'GET', url: '/v1/resources/r-123', headers: ctx.as('tel:+15551230001') });
    expect(read.statusCode).toBe(200);
    expect(read.json().prices).toEqual({ subscribe: 199, renew: 149, copy: 99, gift: 199, currency: 'EUR' });

    const replaced = await ctx.app.inject({ method: 'PUT', url: '/v1/resources/r-123', headers: ctx.sp, payload: resourceBody({ title: 'Winter Song' }) });
    expect(replaced.statusCode).toBe(200);
    expect(replaced.json()).toMatchObject({ id: 'r-123', title: 'Winter Song', createdAt: created.json().createdAt });

    const withdrawn = await ctx.app.inject({ method: 'DELETE', url: '/v1/resources/r-123', headers: ctx.sp });
    expect(withdrawn.statusCode).toBe(204);
    const after = await ctx.app.inject({ method: 'GET', url: '/v1/resources/r-123', headers: ctx.sp });
    expect(after.json().status).toBe('withdrawn');
    const available = await ctx.app.inject({ method: 'GET', url: '/v1/resources?status=available', headers: ctx.sp });
    expect(available.json().map((r: { id: string }) => r.id)).not.toContain('r-123');
  });

  it('takes back what GET gave (GET-modify-PUT), but not another id', async () => {
    await ctx.app.inject({ method: 'POST', url: '/v1/resources', headers: ctx.sp, payload: resourceBody({ id: 'r-roundtrip' }) });
    const read = (await ctx.app.inject({ method: 'GET', url: '/v1/resources/r-roundtrip', headers: ctx.sp })).json();
    const put = await ctx.app.inject({ method: 'PUT', url: '/v1/resources/r-roundtrip', headers: ctx.sp, payload: { ...read, title: 'Round Trip' } });
    expect(put.statusCode).toBe(200);
    expect(put.json()).toMatchObject({ id: 'r-roundtrip', title: 'Round Trip', createdAt: read.createdAt });
    const other = await ctx.app.inject({ method: 'PUT', url: '/v1/resources/r-roundtrip', headers: ctx.sp, payload: { ...read, id: 'r-other' } });
    expect(other.statusCode).toBe(400);
    expect(other.json().code).toBe('validation-failed');
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/resources/r-roundtrip', headers: ctx.sp })).json().title).toBe('Round Trip');
  });

  it('generates an id when none is given and refuses a duplicate id with 409', async () => {
    const first = await ctx.app.inject({ method: 'POST', url: '/v1/resources', headers: ctx.sp, payload: resourceBody() });
    expect(first.json().id).toMatch(/^r-[0-9A-Z]{26}$/);
    await ctx.app.inject({ method: 'POST', url: '/v1/resources', headers: ctx.sp, payload: resourceBody({ id: 'dup' }) });
    const again = await ctx.app.inject({ method: 'POST', url: '/v1/resources', headers: ctx.sp, payload: resourceBody({ id: 'dup' }) });
    expect(again.statusCode).toBe(409);
    expect(again.json().code).toBe('conflict');
  });

  it('filters the list by type and category', async () => {
    await ctx.app.inject({ method: 'POST', url: '/v1/resources', headers: ctx.sp, payload: resourceBody({ id: 'vid-1', type: 'video', mimeType: 'video/mp4', categories: ['film'] }) });
    const videos = await ctx.app.inject({ method: 'GET', url: '/v1/resources?type=video', headers: ctx.sp });
    expect(videos.json().map((r: { id: string }) => r.id)).toEqual(['vid-1']);
    const film = await ctx.app.inject({ method: 'GET', url: '/v1/resources?category=film', headers: ctx.sp });
    expect(film.json().map((r: { id: string }) => r.id)).toEqual(['vid-1']);
  });

  const badBodies: Array<[string, Record<string, unknown>]> = [
    ['ftp content URI', { contentUri: 'ftp://media.example.net/a.mp3' }],
    ['relative content URI', { contentUri: '/tones/a.mp3' }],
    ['unknown type', { type: 'hologram' }],
    ['negative price', { prices: { subscribe: -1, renew: 0, copy: 0, gift: 0, currency: 'EUR' } }],
    ['fractional price', { prices: { subscribe: 1.5, renew: 0, copy: 0, gift: 0, currency: 'EUR' } }],
    ['bad currency', { prices: { subscribe: 1, renew: 0, copy: 0, gift: 0, currency: 'euro' } }],
    ['unknown rating', { rating: 'x-rated' }],
    ['zero validity', { validityDays: 0 }],
    ['unknown field', { colour: 'blue' }],
    ['missing title', { title: undefined }],
    ['bad id', { id: 'has space' }],
    ['bad mime type', { mimeType: 'audio' }],
  ];
  it.each(badBodies)('refuses a %s with 400 problem JSON and stores nothing', async (_label, change) => {
    const before = await ctx.app.inject({ method: 'GET', url: '/v1/resources', headers: ctx.sp });
    const body = resourceBody({ id: 'bad-1', ...change });
    const res = await ctx.app.inject({ method: 'POST', url: '/v1/resources', headers: ctx.sp, payload: body });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 400, code: 'validation-failed', type: 'urn:cmr:problem:validation-failed' });
    const after = await ctx.app.inject({ method: 'GET', url: '/v1/resources', headers: ctx.sp });
    expect(after.json()).toEqual(before.json());
  });

  it.each([
    ['an ftp content URI', { contentUri: 'ftp://media.example.net/a.mp3' }, 'body/contentUri must match the expected form (an http:// or https:// address of the content)'],
    ['a relative content URI', { contentUri: '/tones/a.mp3' }, 'body/contentUri must match the expected form (an http:// or https:// address of the content)'],
    ['a mime type without subtype', { mimeType: 'audio' }, 'body/mimeType must match the expected form (a media type, e.g. audio/mpeg)'],
    ['an id with a space', { id: 'has space' }, 'body/id must match the expected form (1–64 letters, digits, ".", "_" or "-", starting with a letter or digit)'],
  ])('says in words, not as a pattern, what is wrong with %s', async (_label, change, detail) => {
    const res = await ctx.app.inject({ method: 'POST', url: '/v1/resources', headers: ctx.sp, payload: resourceBody({ id: 'bad-2', ...change }) });
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toBe(detail);
  });

  it('refuses malformed JSON and oversize bodies', async () => {
    const malformed = await ctx.app.inject({ method: 'POST', url: '/v1/resources', headers: { ...ctx.sp, 'content-type': 'application/json' }, payload: '{"title":' });
    expect(malformed.statusCode).toBe(400);
    expect(malformed.json().code).toBe('bad-request');
    const huge = await ctx.app.inject({ method: 'POST', url: '/v1/resources', headers: ctx.sp, payload: resourceBody({ title: 'x'.repeat(70_000) }) });
    expect(huge.statusCode).toBe(413);
    expect(huge.json().code).toBe('payload-too-large');
  });

  it('answers 404 problem JSON for an unknown resource', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/resources/nope', headers: ctx.sp });
    expect(res.statusCode).toBe(404);
    expect(res.json()).toMatchObject({ code: 'not-found', status: 404 });
    const put = await ctx.app.inject({ method: 'PUT', url: '/v1/resources/nope', headers: ctx.sp, payload: resourceBody() });
    expect(put.statusCode).toBe(404);
  });
});
