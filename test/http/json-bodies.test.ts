/**
 * Clients that send `Content-Type: application/json` on every request: on every route that takes
 * no body an empty body is no body (the route runs); on every route that needs one, an empty body
 * is a validation failure naming it, never a framework error. Walks every operation of the document.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';

let ctx: TestContext;
let operations: Array<{ method: string; path: string; takesBody: boolean }>;
beforeAll(async () => {
  ctx = await createTestContext();
  const doc = (await ctx.app.inject({ method: 'GET', url: '/openapi.json' })).json<{ paths: Record<string, Record<string, { requestBody?: unknown }>> }>();
  operations = Object.entries(doc.paths).flatMap(([path, methods]) =>
    Object.entries(methods).map(([method, op]) => ({ method: method.toUpperCase(), path, takesBody: op.requestBody !== undefined })),
  );
});
afterAll(async () => ctx.close());

const urlOf = (path: string) => path.replace('{uid}', encodeURIComponent('tel:+15551230001')).replace(/\{\w+\}/g, 'x-1');

describe('an empty body with a JSON content type', () => {
  it('is no body on routes that take none, and a named validation failure on routes that need one', async () => {
    const writes = operations.filter((op) => op.method !== 'GET');
    expect(writes.filter((op) => !op.takesBody).length).toBeGreaterThan(5);
    for (const op of writes) {
      const res = await ctx.app.inject({ method: op.method as 'POST', url: urlOf(op.path), headers: { ...ctx.sp, 'content-type': 'application/json' }, payload: '' });
      const name = `${op.method} ${op.path}`;
      if (op.takesBody) {
        expect({ name, status: res.statusCode, code: res.json().code }).toEqual({ name, status: 400, code: 'validation-failed' });
        expect(res.json().detail, name).toMatch(/body/);
      } else {
        expect({ name, status: res.statusCode }).toEqual({ name, status: expect.not.toSatisfy((s: number) => s === 400 || s === 415) });
      }
    }
  });
});
