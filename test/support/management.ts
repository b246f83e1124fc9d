/**
 * Management API tests: a server on the real Redis charging online against the HTTP/2 test CHF,
 * requests as a user or the SP, and a read-back of everything a user's requests can change, so a
 * refused request can be shown to have changed nothing.
 */
import type { LightMyRequestResponse } from 'fastify';
import type { Identity } from '../../src/domain/identity.js';
import type { ActivityRecord, ChargeRecord } from '../../src/domain/types.js';
import type { ServiceOptions } from '../../src/wiring.js';
import { createTestContext, type TestContext } from './context.js';
import { resourceBody } from './fixtures.js';
import { TestChf } from './test-chf.js';

export const ALICE = 'tel:+15551230001' as Identity;
export const BOB = 'tel:+15551230002' as Identity;
export const CAROL = 'sip:carol@ims.example.net' as Identity;

export interface ManagementTest {
  ctx: TestContext;
  chf: TestChf;
  /** A request as `as` (a user identity, or 'sp'), with an optional JSON body and idempotency key. */
  call(method: 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE', url: string, options?: { as?: string; body?: unknown; key?: string; headers?: Record<string, string> }): Promise<LightMyRequestResponse>;
  /** Adds a catalog resource (as the SP) from the fixture body. */
  addResource(id: string, overrides?: Record<string, unknown>): Promise<void>;
  /** Gives users a CHF balance (the test CHF refuses unknown subscribers). */
  fund(...users: Identity[]): void;
  /** Everything a user's management requests can change, as the API and the stores report it. */
  stateOf(uid: Identity): Promise<UserState>;
  charges(uid: Identity): Promise<ChargeRecord[]>;
  activities(uid: Identity): Promise<ActivityRecord[]>;
  close(): Promise<void>;
}

export interface UserState {
  service: unknown;
  charges: ChargeRecord[];
  chfCharges: number;
}

export const path = (uid: string, rest = ''): string => `/v1/users/${encodeURIComponent(uid)}${rest}`;

export async function managementTest(options: { services?: ServiceOptions; env?: Record<string, string> } = {}): Promise<ManagementTest> {
  const chf = await TestChf.start();
  const ctx = await createTestContext({
    env: { CMR_CHARGING_MODE: 'nchf', CMR_CHF_URL: chf.url, CMR_CHF_TIMEOUT_MS: '1000', ...options.env },
    services: { management: { background: false }, ...options.services },
  });
  const call: ManagementTest['call'] = (method, url, o = {}) => {
    const as = o.as ?? ALICE;
    const headers: Record<string, string> = { ...(as === 'sp' ? ctx.sp : ctx.as(as)), ...o.headers };
    if (o.key !== undefined) headers['idempotency-key'] = o.key;
    return ctx.app.inject({ method, url, headers, ...(o.body !== undefined ? { payload: o.body as object } : {}) });
  };
  const charges = async (uid: Identity) => (await ctx.services.charges.forUser(uid, 500)).items;
  const activities = async (uid: Identity) => (await ctx.services.activityFeed.forUser(uid, 500)).items.map((i) => i.record);
  return {
    ctx,
    chf,
    call,
    addResource: async (id, overrides = {}) => {
      const res = await call('POST', '/v1/resources', { as: 'sp', body: resourceBody({ id, ...overrides }) });
      if (res.statusCode !== 201) throw new Error(`resource ${id}: ${res.statusCode} ${res.body}`);
    },
    fund: (...users) => users.forEach((user) => chf.setBalance(user, 1_000_000)),
    stateOf: async (uid) => ({
      service: (await call('GET', path(uid, '/service'), { as: 'sp' })).json(),
      charges: await charges(uid),
      chfCharges: chf.chargesOf(uid),
    }),
    charges,
    activities,
    close: async () => {
      await ctx.close();
      await chf.stop();
    },
  };
}
