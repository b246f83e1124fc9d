/**
 * Charging faults end to end: copies over REST (online and offline) and over SIP INFO through the
 * embedded front, and subscriptions over REST, while the test CHF is slow past the timeout,
 * answers 5xx, drops the connection before or after charging (once, or on every attempt), or
 * denies. Clients retry a 503 after its Retry-After as real ones do (REST with the same
 * Idempotency-Key, SIP with a new INFO). Then the CHF's ledger is reconciled with the libraries
 * and charge records: nothing is applied without a grant, and every grant is applied exactly once.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../src/domain/identity.js';
import { reconcile } from '../support/charge-reconciliation.js';
import { HANDSET, libraryOf, newUser, owning, seedCopyCatalog, startCall } from '../support/copy-fixtures.js';
import { eventually } from '../support/eventually.js';
import { CALLED_IP, CALLER_IP, startSipHarness, type SipHarness } from '../support/sip/harness.js';
import { answerTo, copyInfoParts, openRawDialog } from '../support/sip/raw-dialog.js';
import { RawPeer, type SipText } from '../support/sip/raw-peer.js';
import { TestChf, type ChfFault } from '../support/test-chf.js';
import { recordTrial, tally } from '../support/trial-summary.js';

const CHF_TIMEOUT_MS = 400;
/** Copies over REST (offline, online) and SIP INFO, and subscriptions over REST. */
const CHANNELS = ['rest-offline', 'rest-online', 'sip', 'rest-subscribe'] as const;
type Channel = (typeof CHANNELS)[number];

/** Faults for a user's successive CHF requests (retransmissions included), and the first answer they lead to. */
const SCRIPTS: Array<{ name: string; faults: ChfFault[]; first: 'copied' | 402 | 503 }> = [
  { name: 'no fault', faults: [], first: 'copied' },
  { name: 'denied', faults: [{ kind: 'deny', resultCode: 'END_USER_SERVICE_DENIED', status: 403 }], first: 402 },
  { name: '503', faults: [{ kind: 'failure', status: 503 }], first: 503 },
  { name: '500', faults: [{ kind: 'failure', status: 500 }], first: 503 },
  { name: 'slow past the timeout', faults: [{ kind: 'slow', ms: CHF_TIMEOUT_MS * 2 }], first: 503 },
  { name: 'dropped before charging', faults: [{ kind: 'drop', when: 'before' }], first: 'copied' },
  { name: 'dropped after charging', faults: [{ kind: 'drop', when: 'after' }], first: 'copied' },
  { name: 'dropped before charging, every attempt', faults: Array(3).fill({ kind: 'drop', when: 'before' }), first: 503 },
  { name: 'dropped after charging, every attempt', faults: Array(3).fill({ kind: 'drop', when: 'after' }), first: 503 },
];

interface Attempt {
  script: (typeof SCRIPTS)[number];
  channel: Channel;
  requestor: Identity;
  owner: Identity;
  /** Statuses of the answers, first to last. */
  answers: number[];
  retryAfterSec: number | null;
}

let chf: TestChf;
let harness: SipHarness;
let callerPeer: RawPeer;
let calledPeer: RawPeer;

beforeAll(async () => {
  chf = await TestChf.start();
  harness = await startSipHarness({
    env: { CMR_CHARGING_MODE: 'nchf', CMR_CHF_URL: chf.url, CMR_CHF_TIMEOUT_MS: String(CHF_TIMEOUT_MS) },
    services: { charging: { recoverer: { intervalMs: 100, maxBackoffMs: 1000 } } },
  });
  await seedCopyCatalog(harness.ctx.services);
  callerPeer = await RawPeer.open('udp', CALLER_IP, harness.server, 'caller');
  calledPeer = await RawPeer.open('udp', CALLED_IP, harness.server, 'called');
});
afterAll(async () => {
  await Promise.all([callerPeer?.close(), calledPeer?.close()]);
  await harness?.close();
  await chf?.stop();
});

describe('charging faults', () => {
  it('applies nothing without a grant and every grant exactly once, over REST and SIP', async () => {
    const services = harness.ctx.services;
    const plans = new Map<string, ChfFault[]>();
    chf.faultFor = (request) => plans.get(request.subscriberIdentifier ?? '')?.shift() ?? null;

    const attempts: Attempt[] = [];
    for (const script of SCRIPTS) {
      for (const channel of CHANNELS) {
        const [requestor, owner] = [newUser(), newUser()];
        chf.setBalance(requestor, 10_000);
        plans.set(requestor, [...script.faults]);
        await owning(services, owner, ['r-song']);
        attempts.push({ script, channel, requestor, owner, answers: [], retryAfterSec: null });
      }
    }

    // Each client asks once, one after the other (a dropped connection takes every request on it
    // down, which would mix the scripts); then each retries what was answered 503.
    const clients = await Promise.all(attempts.map(async (attempt) => ({ attempt, copy: await copier(attempt) })));
    for (const { copy } of clients) await copy();
    for (const attempt of attempts) {
      const expected = attempt.script.first === 'copied' ? 201 : attempt.script.first;
      expect({ attempt: label(attempt), first: attempt.answers[0] }).toEqual({ attempt: label(attempt), first: attempt.channel === 'sip' && expected === 201 ? 200 : expected });
      if (attempt.answers[0] === 503) expect(attempt.retryAfterSec, label(attempt)).toBeGreaterThan(0);
    }
    const refusedAtOnce = attempts.filter((a) => a.answers[0] === 402 || (a.answers[0] === 503 && a.script.faults[0]?.kind === 'failure'));
    for (const attempt of refusedAtOnce) expect(await libraryOf(services, attempt.requestor), label(attempt)).toEqual([]);

    const retried = attempts.filter((a) => a.answers[0] === 503);
    const waitSec = Math.max(...retried.map((a) => a.retryAfterSec ?? 0));
    await new Promise((resolve) => setTimeout(resolve, waitSec * 1000 + 200)); // as the answers asked
    await Promise.all(clients.filter(({ attempt }) => attempt.answers[0] === 503).map(({ copy }) => copy()));

    // Whatever is still pending (a grant whose answer was lost) is settled by the recoverer.
    const users = attempts.map((a) => a.requestor);
    await eventually(async () => {
      for (const uid of users) expect(await services.redis.hlen(services.keys.user(uid).intents)).toBe(0);
    }, 10_000, 100);

    for (const attempt of attempts) {
      const library = await libraryOf(services, attempt.requestor);
      const success = attempt.channel === 'sip' ? [200] : [200, 201];
      if (attempt.script.first === 402) {
        expect({ attempt: label(attempt), library }).toEqual({ attempt: label(attempt), library: [] });
        expect(chf.chargesOf(attempt.requestor), label(attempt)).toBe(0);
      } else {
        expect(success, `${label(attempt)}: ${attempt.answers.join(' → ')}`).toContain(attempt.answers.at(-1));
        const expected = attempt.channel === 'rest-subscribe' ? ['r-song', 'subscription', undefined] : ['r-song', expect.stringMatching(/^copy-/), attempt.owner];
        expect({ attempt: label(attempt), applied: library.map((e) => [e.resourceId, e.origin, e.from]) }).toEqual({ attempt: label(attempt), applied: [expected] });
        expect(chf.chargesOf(attempt.requestor), label(attempt)).toBe(1);
      }
    }
    const ledger = await reconcile(services, chf, users);
    expect(ledger.problems).toEqual([]);
    expect(ledger.charged).toBe(attempts.filter((a) => a.script.first !== 402).length);

    recordTrial({
      test: 'charging faults: copies (REST, SIP) and subscriptions',
      tried: { 'copies and subscriptions': attempts.length, 'CHF requests': chf.requests.filter((r) => users.includes(r.subscriberIdentifier as Identity)).length, 'faults injected': SCRIPTS.reduce((n, s) => n + s.faults.length, 0) * CHANNELS.length, retries: retried.length },
      outcomes: { ...prefixed('first ', tally(attempts.map((a) => a.answers[0]!))), ...prefixed('final ', tally(attempts.map((a) => a.answers.at(-1)!))), 'CHF charges': ledger.charged, 'entries applied': ledger.paidEntries, discrepancies: ledger.problems.length },
    });
  });
});

const label = (a: Attempt) => `${a.script.name} via ${a.channel}`;
const prefixed = (prefix: string, counts: Record<string, number>) => Object.fromEntries(Object.entries(counts).map(([k, v]) => [`${prefix}${k}`, v]));

/** Prepares what the channel needs (a call, a dialog) and returns one copy request, repeatable as a retry. */
async function copier(attempt: Attempt): Promise<() => Promise<void>> {
  const { ctx } = harness;
  const note = (status: number, retryAfter: string | undefined) => {
    attempt.answers.push(status);
    if (retryAfter !== undefined) attempt.retryAfterSec = Number(retryAfter);
  };
  if (attempt.channel === 'sip') {
    const dialog = await openRawDialog(callerPeer, calledPeer, { caller: attempt.requestor, called: attempt.owner });
    let cseq = 1;
    return async () => {
      cseq += 1;
      callerPeer.send(dialog.fromCaller('INFO', { cseq, ...copyInfoParts(attempt.requestor, attempt.owner) }));
      const answer: SipText = await callerPeer.receive(answerTo(dialog.callId, cseq), 10_000);
      note(Number(answer.firstLine.split(' ')[1]), answer.header('retry-after')[0]);
    };
  }
  if (attempt.channel === 'rest-online') await startCall(ctx.services, attempt.requestor, attempt.owner);
  const [path, payload] =
    attempt.channel === 'rest-subscribe'
      ? ['library', { resourceId: 'r-song' }]
      : attempt.channel === 'rest-online'
        ? ['copies', { mode: 'online', peer: attempt.owner, client: HANDSET }]
        : ['copies', { mode: 'offline', from: attempt.owner, resourceIds: ['r-song'] }];
  const key = `${path}-${attempt.requestor}`;
  return async () => {
    const res = await ctx.app.inject({
      method: 'POST',
      url: `/v1/users/${encodeURIComponent(attempt.requestor)}/${path}`,
      headers: { ...ctx.as(attempt.requestor), 'idempotency-key': key },
      payload,
    });
    note(res.statusCode, res.headers['retry-after']);
  };
}
