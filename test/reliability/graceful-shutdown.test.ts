/**
 * Graceful shutdown: the real server process under REST load — catalog reads, and copies and
 * subscriptions that wait on a slow CHF — gets SIGTERM in the middle. Every request the server
 * accepted (its log names the request id) is answered in full, and what it charged is applied;
 * the others fail at the connection, never half-way through an answer. The process exits 0.
 */
import { randomUUID } from 'node:crypto';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../src/domain/identity.js';
import { signToken } from '../../src/http/tokens.js';
import { createLogger } from '../../src/observability/logger.js';
import { createServices, type Services } from '../../src/wiring.js';
import { reconcile } from '../support/charge-reconciliation.js';
import { deleteNamespace, TEST_SECRET, testConfig } from '../support/context.js';
import { libraryOf, newUser, owning, seedCopyCatalog } from '../support/copy-fixtures.js';
import { startServerProcess } from '../support/server-process.js';
import { TestChf } from '../support/test-chf.js';
import { recordTrial, tally } from '../support/trial-summary.js';

const WORKERS = 16;
const CHF_DELAY_MS = 400;
/** Requests answered before SIGTERM is sent, so it lands in the middle of the load. */
const ANSWERED_BEFORE_SIGTERM = 40;

let chf: TestChf;
let services: Services;

beforeAll(async () => {
  chf = await TestChf.start();
  const config = testConfig();
  services = await createServices(config, createLogger(config.log), { charging: { background: false } });
  await seedCopyCatalog(services);
});
afterAll(async () => {
  await deleteNamespace(services.redis, services.config.redis.namespace);
  await services?.close();
  await chf?.stop();
});

interface Sent {
  id: string;
  kind: 'read' | 'copy' | 'subscribe';
  user: Identity;
  outcome: 'answered' | 'failed';
  status?: number;
  error?: string;
  endedAt: number;
}

/** One request on its own connection: answered in full (status and whole body), or failed. */
function send(baseUrl: string, kind: Sent['kind'], user: Identity, owner: Identity): Promise<Sent> {
  const id = `shutdown-${randomUUID()}`;
  const [method, path, body] =
    kind === 'read'
      ? ['GET', '/v1/resources', undefined]
      : kind === 'copy'
        ? ['POST', `/v1/users/${encodeURIComponent(user)}/copies`, { mode: 'offline', from: owner, resourceIds: ['r-song'] }]
        : ['POST', `/v1/users/${encodeURIComponent(user)}/library`, { resourceId: 'r-tune' }];
  return new Promise((resolve) => {
    const done = (result: Omit<Sent, 'id' | 'kind' | 'user' | 'endedAt'>) => resolve({ id, kind, user, endedAt: Date.now(), ...result });
    const req = request(`${baseUrl}${path}`, {
      method,
      agent: false,
      headers: {
        authorization: `Bearer ${signToken(TEST_SECRET, { sub: user, role: 'user' })}`,
        'x-request-id': id,
        ...(body ? { 'content-type': 'application/json' } : {}),
      },
    });
    req.on('response', (res) => {
      res.resume();
      res.on('end', () => done({ outcome: 'answered', status: res.statusCode ?? 0 }));
      res.on('error', (err) => done({ outcome: 'failed', error: `response cut: ${err.message}` }));
    });
    req.on('error', (err: NodeJS.ErrnoException) => done({ outcome: 'failed', error: err.code ?? err.message }));
    req.end(body ? JSON.stringify(body) : undefined);
  });
}

describe('SIGTERM under REST load', () => {
  it('answers every request it accepted, applies what it charged, and exits 0', async () => {
    const owner = newUser();
    await owning(services, owner, ['r-song']);
    chf.faultFor = () => ({ kind: 'slow', ms: CHF_DELAY_MS });
    const server = await startServerProcess({
      CMR_REDIS_NAMESPACE: services.config.redis.namespace,
      CMR_JWT_SECRET: TEST_SECRET,
      CMR_CHARGING_MODE: 'nchf',
      CMR_CHF_URL: chf.url,
      CMR_CHF_TIMEOUT_MS: '5000',
      CMR_SIP_PORT: '0',
      CMR_SHUTDOWN_GRACE_MS: '15000',
    });

    const sent: Sent[] = [];
    let sigtermAt = 0;
    const kinds: Sent['kind'][] = ['read', 'copy', 'subscribe'];
    const worker = async (w: number) => {
      for (let i = 0; ; i++) {
        const user = newUser();
        chf.setBalance(user, 1000);
        const result = await send(server.httpUrl, kinds[(w + i) % kinds.length]!, user, owner);
        sent.push(result);
        if (!sigtermAt && sent.filter((s) => s.outcome === 'answered').length >= ANSWERED_BEFORE_SIGTERM) {
          sigtermAt = Date.now();
          server.child.kill('SIGTERM');
        }
        // Once the server no longer takes connections, this client is done.
        if (result.outcome === 'failed') return;
      }
    };
    await Promise.all(Array.from({ length: WORKERS }, (_, w) => worker(w)));
    expect(await server.exited).toBe(0);

    const accepted = new Set(server.lines.filter((l) => l['msg'] === 'incoming request').map((l) => String(l['reqId'])));
    const cutOff = sent.filter((s) => accepted.has(s.id) && s.outcome !== 'answered');
    expect(cutOff).toEqual([]);
    const failed = sent.filter((s) => s.outcome === 'failed');
    expect(failed.every((s) => ['ECONNREFUSED', 'ECONNRESET'].includes(s.error ?? '')), JSON.stringify(failed)).toBe(true);
    // The shutdown really met requests in flight: charged ones, answered after SIGTERM.
    const drained = sent.filter((s) => s.outcome === 'answered' && s.endedAt > sigtermAt && s.status === 201);
    expect(drained.length).toBeGreaterThan(0);
    const unexpected = sent.filter((s) => s.outcome === 'answered' && ![200, 201, 503].includes(s.status!));
    expect(unexpected).toEqual([]);

    // What was answered 201 is applied and charged once; nothing else was charged.
    const charged = sent.filter((s) => s.kind !== 'read');
    for (const s of charged) {
      const entries = await libraryOf(services, s.user);
      expect({ id: s.id, status: s.status, entries: entries.length }).toEqual({ id: s.id, status: s.status, entries: s.status === 201 ? 1 : 0 });
    }
    const ledger = await reconcile(services, chf, charged.map((s) => s.user));
    expect(ledger.problems).toEqual([]);
    expect(ledger.charged).toBe(charged.filter((s) => s.status === 201).length);

    recordTrial({
      test: 'graceful shutdown: SIGTERM under REST load',
      tried: { requests: sent.length, 'concurrent clients': WORKERS, ...tally(sent.map((s) => s.kind)), SIGTERM: 1 },
      outcomes: {
        accepted: sent.filter((s) => accepted.has(s.id)).length,
        'answered in full': sent.filter((s) => s.outcome === 'answered').length,
        ...Object.fromEntries(Object.entries(tally(sent.filter((s) => s.outcome === 'answered').map((s) => s.status!))).map(([k, v]) => [`answered ${k}`, v])),
        'charged requests finished after SIGTERM': drained.length,
        ...Object.fromEntries(Object.entries(tally(failed.map((s) => s.error!))).map(([k, v]) => [`not accepted (${k})`, v])),
        'cut off': cutOff.length,
        'exit code': 0,
      },
    });
  }, 60_000);
});
