/**
 * `npm run token`: a token with an `exp` within CMR_JWT_MAX_TTL_SEC that the server accepts, and
 * usage in words (never a stack trace) for --help, unknown options and bad values.
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createDecoder } from 'fast-jwt';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestContext, TEST_SECRET, type TestContext } from '../support/context.js';

const run = promisify(execFile);
const token = (args: string[], env: Record<string, string> = {}) =>
  run(process.execPath, ['--import', 'tsx', 'scripts/token.ts', ...args], { env: { ...process.env, CMR_JWT_SECRET: TEST_SECRET, ...env } }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );

let ctx: TestContext;
beforeAll(async () => {
  ctx = await createTestContext();
});
afterAll(async () => ctx.close());

describe('npm run token', () => {
  it('prints a token the server accepts, valid for CMR_JWT_MAX_TTL_SEC by default or --ttl', async () => {
    const made = await token(['--sub', 'tel:+15551230001'], { CMR_JWT_MAX_TTL_SEC: '7200' });
    expect(made.code).toBe(0);
    const jwt = made.stdout.trim();
    const { exp, iat } = createDecoder()(jwt) as { exp: number; iat: number };
    expect(exp - iat).toBe(7200);
    const res = await ctx.app.inject({ method: 'GET', url: `/v1/users/${encodeURIComponent('tel:+15551230001')}/service`, headers: { authorization: `Bearer ${jwt}` } });
    expect(res.statusCode).toBe(200);
    const short = createDecoder()((await token(['--sub', 'portal-admin', '--role', 'sp', '--ttl', '60'])).stdout.trim()) as { exp: number; iat: number; role: string };
    expect({ ttl: short.exp - short.iat, role: short.role }).toEqual({ ttl: 60, role: 'sp' });
  }, 30_000);

  it.each(['portal', 'handset'])('--%s prints a link that signs that page in with the token', async (page) => {
    const made = await token(['--sub', 'tel:+15551230001', `--${page}`], { CMR_HTTP_HOST: '0.0.0.0', CMR_HTTP_PORT: '8181' });
    expect(made.code).toBe(0);
    const [link, jwt] = made.stdout.trim().split('#token=');
    expect(link).toBe(`http://127.0.0.1:8181/${page}/`);
    expect(createDecoder()(jwt!)).toMatchObject({ sub: 'tel:+15551230001', role: 'user' });
  }, 30_000);

  it.each([
    [['--help'], 0, /^usage: npm run -s token -- --sub/],
    [['--sub', 'tel:+15551230001', '--bogus'], 2, /Unknown option '--bogus'/],
    [['--sub', 'tel:+15551230001', '--ttl', 'soon'], 2, /--ttl must be a whole number of seconds from 1 to 86400/],
    [['--sub', 'tel:+15551230001', '--ttl', '86401'], 2, /--ttl must be/],
    [['--role', 'sp'], 2, /--sub is required/],
    [['--sub', 'x', '--role', 'admin'], 2, /--role must be user or sp/],
  ])('%j: exit %i, says what is wrong and how to use it', async (args, code, message) => {
    const result = await token(args);
    expect(result.code).toBe(code);
    const text = code === 0 ? result.stdout : result.stderr;
    expect(text).toMatch(message);
    expect(text).toMatch(/usage:/);
    expect(text).not.toMatch(/\n\s+at /);
  }, 30_000);
});
