/** The idempotency store on the real Redis, for requests that charge nothing (`execute`). */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CmrError } from '../../src/domain/errors.js';
import type { Identity } from '../../src/domain/identity.js';
import { fingerprintOf } from '../../src/store/idempotency-store.js';
import { createTestContext, type TestContext } from '../support/context.js';

const user = 'tel:+15551235001' as Identity;
let ctx: TestContext;

beforeAll(async () => {
  ctx = await createTestContext({ services: { charging: { background: false } } });
});
afterAll(async () => ctx.close());

describe('idempotency store', () => {
  it('fingerprints content independently of key order', () => {
    expect(fingerprintOf({ a: 1, b: [1, { c: 2, d: 3 }] })).toBe(fingerprintOf({ b: [1, { d: 3, c: 2 }], a: 1 }));
    expect(fingerprintOf({ a: 1 })).not.toBe(fingerprintOf({ a: 2 }));
  });

  it('runs concurrent repeats once and gives all of them the first answer', async () => {
    let runs = 0;
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const ref = { user, key: 'same', fingerprint: fingerprintOf({ x: 1 }) };
    const work = async () => {
      runs += 1;
      await gate;
      return { n: runs };
    };
    const all = Promise.all(Array.from({ length: 20 }, () => ctx.services.idempotency.execute(ref, work)));
    setImmediate(release);
    const results = await all;
    expect(runs).toBe(1);
    expect(results.map((r) => r.value)).toEqual(Array(20).fill({ n: 1 }));
    expect(results.filter((r) => !r.replayed)).toHaveLength(1);
  });

  it('replays a refusal, frees the key after a failure worth retrying, and refuses another body (409)', async () => {
    const refused = { user, key: 'refused', fingerprint: 'f' };
    await expect(ctx.services.idempotency.execute(refused, async () => Promise.reject(new CmrError('not-found', 'no such thing')))).rejects.toMatchObject({ code: 'not-found' });
    await expect(ctx.services.idempotency.execute(refused, async () => 'never')).rejects.toMatchObject({ code: 'not-found' });

    const failed = { user, key: 'failed', fingerprint: 'f' };
    await expect(ctx.services.idempotency.execute(failed, async () => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    expect(await ctx.services.idempotency.execute(failed, async () => 'second try')).toEqual({ value: 'second try', replayed: false });

    await expect(ctx.services.idempotency.execute({ ...failed, fingerprint: 'other' }, async () => 'x')).rejects.toMatchObject({ code: 'idempotency-key-reused', status: 409 });
  });

  it('keeps answers for 24 hours', async () => {
    const ref = { user, key: 'ttl', fingerprint: 'f' };
    await ctx.services.idempotency.execute(ref, async () => 1);
    const ttl = await ctx.services.redis.ttl(ctx.services.idempotency.recordKey(ref));
    expect(ttl).toBeGreaterThan(86_000);
    expect(ttl).toBeLessThanOrEqual(86_400);
  });
});
