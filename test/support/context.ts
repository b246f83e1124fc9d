/**
 * A server instance for a test: real Redis under a fresh namespace, the real services and the
 * real REST app. `close()` stops it and deletes every key the test wrote.
 */
import { randomUUID } from 'node:crypto';
import { Cluster, type Redis } from 'ioredis';
import { loadConfig, type Config } from '../../src/config/config.js';
import { buildApp, type App, type RouteModule } from '../../src/http/app.js';
import { signToken } from '../../src/http/tokens.js';
import { createLogger } from '../../src/observability/logger.js';
import type { RedisClient } from '../../src/store/redis.js';
import { createServices, type ServiceOptions, type Services } from '../../src/wiring.js';
import type { LoadSignal } from '../../src/overload/load-shedder.js';

export const TEST_SECRET = 'test-secret-0123456789-0123456789-abcdef';

/**
 * The token with the first character of its signature changed: well formed, never valid. (Changing
 * the last character is not enough: it carries padding bits a decoder ignores.)
 */
export function withForgedSignature(jwt: string): string {
  const at = jwt.lastIndexOf('.') + 1;
  return `${jwt.slice(0, at)}${jwt[at] === 'A' ? 'B' : 'A'}${jwt.slice(at + 1)}`;
}

export function testConfig(env: Record<string, string> = {}): Config {
  return loadConfig({
    CMR_REDIS_NAMESPACE: `t-${randomUUID().slice(0, 13)}`,
    CMR_LOG_LEVEL: process.env['TEST_LOG_LEVEL'] ?? 'silent',
    CMR_JWT_SECRET: TEST_SECRET,
    CMR_HTTP_PORT: '0',
    CMR_SIP_PORT: '0',
    ...env,
  }, {});
}

export interface TestContext {
  config: Config;
  services: Services;
  app: App;
  token(sub: string, role?: 'user' | 'sp'): string;
  /** Authorization header for a user (or the SP). */
  as(sub: string, role?: 'user' | 'sp'): { authorization: string };
  sp: { authorization: string };
  close(): Promise<void>;
}

const NO_LOAD: LoadSignal = { lagMs: () => 0, busyShare: () => 0, stop: () => {} };

export async function createTestContext(
  options: { env?: Record<string, string>; routes?: RouteModule[]; services?: ServiceOptions } = {},
): Promise<TestContext> {
  const config = testConfig(options.env);
  const logger = createLogger(config.log);
  // Tests that are not about overload must not shed work on a busy machine: no lag unless a test gives one.
  const services = await createServices(config, logger, { loadSignal: NO_LOAD, ...options.services });
  const app = await buildApp(services, options.routes);
  await app.ready();
  const token = (sub: string, role: 'user' | 'sp' = 'user') => signToken(TEST_SECRET, { sub, role });
  const as = (sub: string, role: 'user' | 'sp' = 'user') => ({ authorization: `Bearer ${token(sub, role)}` });
  return {
    config,
    services,
    app,
    token,
    as,
    sp: as('portal-admin', 'sp'),
    close: async () => {
      await app.close();
      // A test that ran without Redis (an outage test) wrote nothing to delete.
      if (services.redis.status === 'ready') await deleteNamespace(services.redis, config.redis.namespace);
      await services.close();
    },
  };
}

/** The node itself, or every master of a cluster (where each holds its own part of the keys). */
export function storeNodes(redis: RedisClient): Redis[] {
  return redis instanceof Cluster ? redis.nodes('master') : [redis];
}

/** Deletes every key under `namespace` (on every master of a cluster). */
export async function deleteNamespace(redis: RedisClient, namespace: string): Promise<void> {
  for (const node of storeNodes(redis)) {
    let cursor = '0';
    do {
      const [next, keys] = await node.scan(cursor, 'MATCH', `${namespace}:*`, 'COUNT', 500);
      cursor = next;
      // One round trip per page (a benchmark leaves hundreds of thousands of keys).
      if (keys.length > 0) await node.pipeline(keys.map((key) => ['unlink', key])).exec();
    } while (cursor !== '0');
  }
}
