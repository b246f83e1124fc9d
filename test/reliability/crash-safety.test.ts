/**
 * Crash safety: the real server process on an append-only (fsync always) private Redis, charging
 * a test CHF that answers slowly, under a load of copies and subscriptions over REST and copies
 * over SIP INFO, is killed with SIGKILL in the middle and started again. Once its recoverer has
 * finished what the dead process left, every charge the CHF made has its library entry and its
 * charge record, no entry exists without its charge, and a client retrying an interrupted request
 * with its Idempotency-Key gets it done exactly once.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../src/domain/identity.js';
import { signToken } from '../../src/http/tokens.js';
import { createLogger } from '../../src/observability/logger.js';
import { createServices, type Services } from '../../src/wiring.js';
import { reconcile } from '../support/charge-reconciliation.js';
import { TEST_SECRET, testConfig } from '../support/context.js';
import { libraryOf, newUser, owning, seedCopyCatalog } from '../support/copy-fixtures.js';
import { eventually } from '../support/eventually.js';
import { seededRandom } from '../support/presentation-fixtures.js';
import { PrivateRedis } from '../support/redis-server.js';
import { startServerProcess, type ServerProcess } from '../support/server-process.js';
import { CALLED_IP, CALLER_IP } from '../support/sip/harness.js';
import { answerTo, copyInfoParts, openRawDialog } from '../support/sip/raw-dialog.js';
import { RawPeer } from '../support/sip/raw-peer.js';
import { TestChf } from '../support/test-chf.js';
import { recordTrial, tally } from '../support/trial-summary.js';

const REST_WORKERS = 10;
const SIP_WORKERS = 3;
/** Requests answered before the kill, so it lands in the middle of the load. */
const ANSWERED_BEFORE_KILL = 30;

let chf: TestChf;
let store: PrivateRedis;
let services: Services;
let env: Record<string, string>;

beforeAll(async () => {
  [chf, store] = await Promise.all([TestChf.start(), PrivateRedis.start()]);
  const namespace = `t-${randomUUID().slice(0, 13)}`;
  env = {
    CMR_REDIS_URL: store.url,
    CMR_REDIS_NAMESPACE: namespace,
    CMR_JWT_SECRET: TEST_SECRET,
    CMR_CHARGING_MODE: 'nchf',
    CMR_CHF_URL: chf.url,
    CMR_CHF_TIMEOUT_MS: '1000',
    // After the crash the recoverer waits this long before finishing what the dead process left.
    CMR_CHARGING_LEASE_MS: '1500',
    CMR_SIP_HOST: '127.0.0.1',
    CMR_SIP_PORT: '0',
  };
  // The test's own view of the store: seeds it and reads it back, never recovers anything itself.
  const config = testConfig(env);
  services = await createServices(config, createLogger(config.log), { charging: { background: false }, management: { background: false } });
  await seedCopyCatalog(services);
});
afterAll(async () => {
  await services?.close();
  await Promise.all([store?.stop(), chf?.stop()]);
});

type Kind = 'copy' | 'subscribe' | 'sip-copy';
interface Attempt {
  kind: Kind;
  user: Identity;
  key: string;
  /** Status of the answer, or null when the crash took the request (or the call) down. */
  status: number | null;
  retried?: number;
}

async function rest(server: ServerProcess, attempt: Attempt, owner: Identity): Promise<number | null> {
  const [path, body] =
    attempt.kind === 'copy'
      ? ['copies', { mode: 'offline', from: owner, resourceIds: ['r-song'] }]
      : ['library', { resourceId: 'r-tune' }];
  try {
    const res = await fetch(`${server.httpUrl}/v1/users/${encodeURIComponent(attempt.user)}/${path}`, {
      method: 'POST',
      headers: { authorization: `Bearer ${signToken(TEST_SECRET, { sub: attempt.user, role: 'user' })}`, 'content-type': 'application/json', 'idempotency-key': attempt.key },
      body: JSON.stringify(body),
    });
    await res.arrayBuffer();
    return res.status;
  } catch {
    return null;
  }
}

describe('kill -9 under load, then restart', () => {
  it('applies every charge the CHF made exactly once, and nothing without its charge', async () => {
    const owner = newUser();
    await owning(services, owner, ['r-song']);
    const rand = seededRandom(7);
    chf.faultFor = () => (rand() < 0.1 ? { kind: 'drop', when: 'after' } : { kind: 'slow', ms: 100 + Math.floor(rand() * 200) });

    const first = await startServerProcess(env);
    const sipListening = first.lines.find((l) => l['event'] === 'sip-listening') as { ports: { sip: number } };
    const sipServer = { ip: '127.0.0.1', port: sipListening.ports.sip };
    const callerPeer = await RawPeer.open('udp', CALLER_IP, sipServer, 'caller');
    const calledPeer = await RawPeer.open('udp', CALLED_IP, sipServer, 'called');

    const attempts: Attempt[] = [];
    let killed = false;
    const kill = () => {
      if (killed || attempts.filter((a) => a.status !== null).length < ANSWERED_BEFORE_KILL) return;
      killed = true;
      first.child.kill('SIGKILL');
    };
    const fresh = (kind: Kind): Attempt => {
      const user = newUser();
      chf.setBalance(user, 10_000);
      const attempt: Attempt = { kind, user, key: `k-${randomUUID()}`, status: null };
      attempts.push(attempt);
      return attempt;
    };
    const restWorker = async (w: number) => {
      for (let i = 0; !killed; i++) {
        const attempt = fresh((w + i) % 2 === 0 ? 'copy' : 'subscribe');
        attempt.status = await rest(first, attempt, owner);
        kill();
      }
    };
    const sipWorker = async () => {
      while (!killed) {
        const attempt = fresh('sip-copy');
        try {
          const dialog = await openRawDialog(callerPeer, calledPeer, { caller: attempt.user, called: owner });
          callerPeer.send(dialog.fromCaller('INFO', { cseq: 2, ...copyInfoParts(attempt.user, owner) }));
          const answer = await callerPeer.receive(answerTo(dialog.callId, 2), 3000);
          attempt.status = Number(answer.firstLine.split(' ')[1]);
        } catch {
          return; // the server is gone with the call
        }
        kill();
      }
    };
    await Promise.all([...Array.from({ length: REST_WORKERS }, (_, w) => restWorker(w)), ...Array.from({ length: SIP_WORKERS }, () => sipWorker())]);
    await first.exited;
    await Promise.all([callerPeer.close(), calledPeer.close()]);
    const interrupted = attempts.filter((a) => a.status === null);

    // The same server again, on the same store: its recoverer finishes what the dead one left.
    const second = await startServerProcess(env);
    try {
      const users = attempts.map((a) => a.user);
      await eventually(async () => {
        for (const uid of users) expect(await services.redis.hlen(services.keys.user(uid).intents)).toBe(0);
        expect(await services.redis.zcard(services.keys.pendingApplies)).toBe(0);
      }, 20_000, 200);

      // Clients retry what the crash interrupted, or what was answered 503, with the same key
      // until they get an answer that is not 503.
      for (const attempt of attempts.filter((a) => a.kind !== 'sip-copy' && (a.status === null || a.status === 503))) {
        attempt.retried = await eventually(async () => {
          const status = await rest(second, attempt, owner);
          expect(status).not.toBe(503);
          return status ?? 0;
        }, 15_000, 250);
      }

      const ledger = await reconcile(services, chf, users);
      expect(ledger.problems).toEqual([]);
      for (const attempt of attempts) {
        const entries = await libraryOf(services, attempt.user);
        const final = attempt.retried ?? attempt.status;
        const expected = attempt.kind === 'sip-copy' ? (final === 200 ? 1 : entries.length) : 1;
        expect({ attempt, entries: entries.length, charged: chf.chargesOf(attempt.user) }).toEqual({ attempt, entries: expected, charged: expected });
        if (attempt.kind !== 'sip-copy') expect(final, JSON.stringify(attempt)).toBe(201);
      }

      recordTrial({
        test: 'crash safety: kill -9 under load, restart',
        tried: { requests: attempts.length, ...tally(attempts.map((a) => a.kind)), 'SIGKILL': 1, restarts: 1, 'CHF requests': chf.requests.length },
        outcomes: {
          'answered before the kill': attempts.length - interrupted.length,
          'interrupted by the kill': interrupted.length,
          ...Object.fromEntries(Object.entries(tally(attempts.filter((a) => a.status !== null).map((a) => a.status!))).map(([k, v]) => [`answered ${k}`, v])),
          'retried with the same key': attempts.filter((a) => a.retried !== undefined).length,
          'CHF charges': ledger.charged,
          'entries applied': ledger.paidEntries,
          discrepancies: ledger.problems.length,
        },
      });
    } finally {
      second.child.kill('SIGTERM');
      await second.exited;
    }
  }, 60_000);
});
