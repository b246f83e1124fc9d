/**
 * `npm run seed -- --demo`: loads the demo the README's examples use and prints its identities
 * and ids, each of which the API then shows; bad usage prints the usage without a stack trace.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, type TestContext } from '../support/context.js';

const run = promisify(execFile);
let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx.close());

const seed = (args: string[]) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/seed.ts', ...args], { env: { ...process.env, CMR_REDIS_NAMESPACE: ctx.config.redis.namespace, CMR_LOG_LEVEL: 'warn' } }).then(
    ({ stdout }) => ({ code: 0, stdout, stderr: '' }),
    (err: { code: number; stdout: string; stderr: string }) => err,
  );

describe('npm run seed -- --demo', () => {
  it('prints the identities and ids it loaded, as the API shows them', async () => {
    const { code, stdout } = await seed(['--demo']);
    expect(code).toBe(0);
    const get = async (url: string) => (await ctx.app.inject({ method: 'GET', url, headers: ctx.sp })).json();
    for (const [user, name] of [['tel:+15551230001', 'alice'], ['tel:+15551230002', 'bob']] as const) {
      const line = stdout.split('\n').find((l) => l.trim().startsWith(name))!;
      expect(line).toContain(user);
      const printed = [...line.matchAll(/(e-[a-z-]+) \((r-[a-z]+)\)/g)].map(([, entryId, resourceId]) => ({ id: entryId!, resourceId: resourceId! }));
      expect(printed.length).toBeGreaterThan(1);
      const library = (await get(`/v1/users/${encodeURIComponent(user)}/library`)) as Array<{ id: string; resourceId: string }>;
      expect(library.map(({ id, resourceId }) => ({ id, resourceId })).sort((a, b) => a.id.localeCompare(b.id))).toEqual(printed.sort((a, b) => a.id.localeCompare(b.id)));
    }
    const resources = stdout.match(/resources +(.*)/)![1]!.split(', ');
    expect(((await get('/v1/resources')) as Array<{ id: string }>).map((r) => r.id).sort()).toEqual([...resources].sort());
    const boxes = stdout.match(/boxes +(.*)/)![1]!.split(', ');
    expect(((await get('/v1/boxes')) as Array<{ id: string }>).map((b) => b.id).sort()).toEqual([...boxes].sort());
    expect(stdout).toMatch(/npm run -s token -- --sub tel:\+15551230001/);
    // The clients it names are registered, the browser handset's among them (its two tabs work at once).
    const clients = stdout.match(/clients +(.*)/)![1]!.split(', ').map((c) => c.split(' ')[0]!);
    expect(clients).toContain('cmr-handset');
    const registered = (await get('/v1/clients')) as Array<{ id: string; enabled: boolean; minVersion: string }>;
    expect(registered.filter((c) => clients.includes(c.id)).map((c) => c.id).sort()).toEqual([...clients].sort());
    expect(registered.find((c) => c.id === 'cmr-handset')).toMatchObject({ enabled: true, minVersion: '0.1.0' });
  }, 60_000);

  it('prints its usage for unknown options, without a stack trace', async () => {
    const { code, stderr } = await seed(['--bogus']);
    expect(code).toBe(2);
    expect(stderr).toMatch(/Unknown option '--bogus'[\s\S]*usage: npm run seed -- --demo/);
    expect(stderr).not.toMatch(/\n\s+at /);
  }, 60_000);
});
