/**
 * The README's API examples, run as written: every `sh` block that calls the API with curl, in
 * order, in one bash session, against a server on a free port (the README's address is the only
 * thing replaced), after the README's own `npm run seed -- --demo` and with tokens from its `npm
 * run token`. A `curl` wrapper notes the status of each call; every one must succeed.
 */
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, TEST_SECRET, type TestContext } from '../support/context.js';

const run = promisify(execFile);
const README_URL = 'http://127.0.0.1:8080';

let ctx: TestContext;
let url: string;
beforeAll(async () => {
  ctx = await createTestContext();
  url = await ctx.app.listen({ host: '127.0.0.1', port: 0 });
});
afterAll(async () => ctx.close());

/** The README's shell blocks that call the API. */
async function apiExamples(): Promise<string[]> {
  const readme = await readFile('README.md', 'utf8');
  return [...readme.matchAll(/```sh\n([\s\S]*?)```/g)].map((m) => m[1]!).filter((block) => block.includes(`curl `) && block.includes(README_URL));
}

describe('README examples', () => {
  it('run as written, and every call succeeds', async () => {
    const blocks = await apiExamples();
    expect(blocks.length).toBeGreaterThanOrEqual(2);
    const script = [
      'set -euo pipefail',
      // Prints what curl prints, then one line with the status, method and URL of the call.
      `curl() { command curl --write-out '\\n@@ %{http_code} %{method} %{url_effective}\\n' "$@"; }`,
      ...blocks.map((block) => block.replaceAll(README_URL, url)),
    ].join('\n');
    const { stdout } = await run('bash', ['-c', script], {
      env: { ...process.env, CMR_JWT_SECRET: TEST_SECRET, CMR_REDIS_NAMESPACE: ctx.config.redis.namespace, CMR_LOG_LEVEL: 'warn' },
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const calls = [...stdout.matchAll(/^@@ (\d{3}) (\S+) (\S+)$/gm)].map(([, status, method, target]) => ({ call: `${method} ${target}`, status: Number(status) }));
    expect(calls.length).toBe(blocks.join('\n').match(/^\s*curl /gm)?.length);
    for (const { call, status } of calls) expect({ call, status }).toEqual({ call, status: expect.toSatisfy((s: number) => s >= 200 && s < 300) });
  }, 150_000);
});
