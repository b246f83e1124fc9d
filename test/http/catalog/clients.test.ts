import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../../support/context.js';
import { clientBody } from '../../support/fixtures.js';

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx.close());

describe('/v1/clients', () => {
  it('registers, lists, replaces and removes a client', async () => {
    const created = await ctx.app.inject({ method: 'POST', url: '/v1/clients', headers: ctx.sp, payload: clientBody() });
    expect(created.statusCode).toBe(201);
    const list = await ctx.app.inject({ method: 'GET', url: '/v1/clients', headers: ctx.sp });
    expect(list.json().map((c: { id: string }) => c.id)).toEqual(['acme-handset']);
    const replaced = await ctx.app.inject({
      method: 'PUT',
      url: '/v1/clients/acme-handset',
      headers: ctx.sp,
      payload: { name: 'ACME', enabled: false, minVersion: '3.1.0' },
    });
    expect(replaced.json()).toMatchObject({ id: 'acme-handset', enabled: false, minVersion: '3.1.0' });
    expect((await ctx.app.inject({ method: 'DELETE', url: '/v1/clients/acme-handset', headers: ctx.sp })).statusCode).toBe(204);
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/clients/acme-handset', headers: ctx.sp })).statusCode).toBe(404);
    expect((await ctx.app.inject({ method: 'DELETE', url: '/v1/clients/acme-handset', headers: ctx.sp })).statusCode).toBe(404);
  });

  it.each([['1.2'], ['v1.2.3'], ['latest']])('refuses minVersion %s', async (minVersion) => {
    const res = await ctx.app.inject({ method: 'POST', url: '/v1/clients', headers: ctx.sp, payload: clientBody({ id: 'c2', minVersion }) });
    expect(res.statusCode).toBe(400);
    expect((await ctx.app.inject({ method: 'GET', url: '/v1/clients/c2', headers: ctx.sp })).statusCode).toBe(404);
  });

  it('is reserved to the SP', async () => {
    const res = await ctx.app.inject({ method: 'GET', url: '/v1/clients', headers: ctx.as('tel:+15551230001') });
    expect(res.statusCode).toBe(403);
    expect(res.json().code).toBe('forbidden');
  });
});
