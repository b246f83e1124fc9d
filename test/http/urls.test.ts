/**
 * URLs the router itself judges: a long identity in the path reaches its route; a parameter past
 * the limit, or a URL that cannot be decoded, is refused with problem JSON like any bad request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx?.close());

describe('URLs', () => {
  it('routes an identity of 256 characters, percent-encoded or not', async () => {
    const uid = `sip:${'u'.repeat(256 - 'sip:@example.net'.length)}@example.net`;
    expect(uid).toHaveLength(256);
    for (const form of [uid, encodeURIComponent(uid)]) {
      const res = await ctx.app.inject({ method: 'GET', url: `/v1/users/${form}/charges`, headers: ctx.sp });
      expect({ form, status: res.statusCode }).toEqual({ form, status: 200 });
    }
  });

  it.each([
    ['a path parameter too long', `/v1/resources/${'x'.repeat(2000)}`],
    ['broken percent-encoding', '/v1/resources/%E0%A4%A'],
  ])('answers %s with 400 problem JSON', async (_label, url) => {
    const res = await ctx.app.inject({ method: 'GET', url, headers: ctx.sp });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 400, code: 'bad-request' });
  });
});
