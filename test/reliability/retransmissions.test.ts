/**
 * Retransmissions and replays: one effect each. Copy INFOs retransmitted on the wire (same
 * branch) and replayed (same dialog and CSeq, new branch) over UDP and TCP, while the first is
 * still being charged and after it was answered; handsets pressing copy several times at once;
 * REST requests repeated with the same Idempotency-Key and identical copies raced, on one server
 * and on two servers sharing the store. Each yields one library entry and one CHF charge.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../src/domain/identity.js';
import { buildApp, type App } from '../../src/http/app.js';
import { createLogger } from '../../src/observability/logger.js';
import { createServices, type Services } from '../../src/wiring.js';
import { reconcile } from '../support/charge-reconciliation.js';
import { HANDSET, libraryOf, newUser, owning, seedCopyCatalog } from '../support/copy-fixtures.js';
import { CALLED_IP, CALLER_IP, startSipHarness, type SipHarness } from '../support/sip/harness.js';
import { answerTo, copyInfoParts, openRawDialog, type RawDialog } from '../support/sip/raw-dialog.js';
import { RawPeer, type SipText } from '../support/sip/raw-peer.js';
import type { SipTransport } from '../support/sip/sipp.js';
import { TestChf } from '../support/test-chf.js';
import { recordTrial, tally } from '../support/trial-summary.js';

/** Long enough for repeats to arrive while the first copy is still being charged. */
const CHF_DELAY_MS = 300;

let chf: TestChf;
let harness: SipHarness;
/** A second server on the same store, as in a deployment of several instances. */
let second: { services: Services; app: App };
const users: Identity[] = [];
const sent = { infos: 0, rest: 0 };
const answers: number[] = [];

beforeAll(async () => {
  chf = await TestChf.start();
  harness = await startSipHarness({ env: { CMR_CHARGING_MODE: 'nchf', CMR_CHF_URL: chf.url, CMR_CHF_TIMEOUT_MS: '2000' } });
  const { config } = harness.ctx;
  const services = await createServices(config, createLogger(config.log));
  second = { services, app: await buildApp(services) };
  await second.app.ready();
  await seedCopyCatalog(harness.ctx.services);
});
afterEach(() => chf.clearSwitches());
afterAll(async () => {
  await second?.app.close();
  await second?.services.close();
  await harness?.close();
  await chf?.stop();
  recordTrial({
    test: 'retransmissions and replays',
    tried: { 'copy INFOs sent': sent.infos, 'REST requests': sent.rest, users: users.length },
    outcomes: { ...tally(answers), 'CHF charges': chf ? chf.ledger().filter((e) => users.includes(e.subscriber as Identity)).length : 0 },
  });
});

/** A requestor with money and an owner presenting r-song to it. */
async function pair(): Promise<{ requestor: Identity; owner: Identity }> {
  const [requestor, owner] = [newUser(), newUser()];
  users.push(requestor);
  chf.setBalance(requestor, 10_000);
  await owning(harness.ctx.services, owner, ['r-song']);
  return { requestor, owner };
}

/** What `requestor` ended with: entries copied and events charged, checked against the ledger. */
async function effects(requestor: Identity): Promise<{ entries: string[]; charges: number }> {
  const ledger = await reconcile(harness.ctx.services, chf, [requestor]);
  expect(ledger.problems).toEqual([]);
  return { entries: (await libraryOf(harness.ctx.services, requestor)).map((e) => e.resourceId), charges: ledger.charged };
}

const statusOf = (m: SipText) => Number(m.firstLine.split(' ')[1]);

describe.each(['udp', 'tcp'] as const)('copy INFO repeated over %s', (transport: SipTransport) => {
  let callerPeer: RawPeer;
  let calledPeer: RawPeer;
  beforeAll(async () => {
    callerPeer = await RawPeer.open(transport, CALLER_IP, harness.server, 'caller');
    calledPeer = await RawPeer.open(transport, CALLED_IP, harness.server, 'called');
  });
  afterAll(async () => {
    await Promise.all([callerPeer?.close(), calledPeer?.close()]);
  });

  async function dialogFor(requestor: Identity, owner: Identity): Promise<RawDialog> {
    const dialog = await openRawDialog(callerPeer, calledPeer, { caller: requestor, called: owner });
    expect(dialog.announced.toCaller).toEqual([expect.stringContaining('resource=r-song')]);
    return dialog;
  }

  /** Sends `text` `times` times, `gapMs` apart, and collects every answer to that CSeq until `settleMs` after the last. */
  async function repeat(dialog: RawDialog, cseq: number, texts: string[], gapMs: number): Promise<SipText[]> {
    const got: SipText[] = [];
    for (const text of texts) {
      callerPeer.send(text);
      sent.infos += 1;
      await new Promise((resolve) => setTimeout(resolve, gapMs));
    }
    got.push(await callerPeer.receive(answerTo(dialog.callId, cseq), 5000));
    // Further answers (the transaction resending its final answer, or replays answered) keep coming for a moment.
    for (;;) {
      const more = await callerPeer.receive(answerTo(dialog.callId, cseq), 400).catch(() => null);
      if (!more) break;
      got.push(more);
    }
    answers.push(...got.map(statusOf));
    return got;
  }

  it('copies once when the same INFO is retransmitted while it is charged and after it is answered', async () => {
    const { requestor, owner } = await pair();
    const dialog = await dialogFor(requestor, owner);
    chf.slowNext(CHF_DELAY_MS, 1);
    const text = dialog.fromCaller('INFO', { cseq: 2, ...copyInfoParts(requestor, owner) });
    const got = await repeat(dialog, 2, Array(5).fill(text), 80);
    expect(got.map(statusOf).every((s) => s === 200)).toBe(true);
    expect(new Set(got.map((m) => m.body)).size).toBe(1);
    expect(JSON.parse(got[0]!.body)).toMatchObject({ result: 'copied', entries: [{ resourceId: 'r-song' }] });
    // And once more well after the answer: the same answer again.
    const late = await repeat(dialog, 2, [text], 0);
    expect(late.map((m) => m.body)).toEqual([got[0]!.body]);
    expect(await effects(requestor)).toEqual({ entries: ['r-song'], charges: 1 });
  });

  it('copies once when the same dialog and CSeq arrive again on new branches (replays), some at the same time', async () => {
    const { requestor, owner } = await pair();
    const dialog = await dialogFor(requestor, owner);
    chf.slowNext(CHF_DELAY_MS, 1);
    const text = dialog.fromCaller('INFO', { cseq: 2, ...copyInfoParts(requestor, owner) });
    const replays = Array.from({ length: 6 }, (_, i) => text.replace(/branch=(z9hG4bK[^\s;]*)/, `branch=$1-replay${i}`));
    const got = await repeat(dialog, 2, replays, 10);
    expect(got.length).toBeGreaterThanOrEqual(6);
    expect(got.map(statusOf).every((s) => s === 200)).toBe(true);
    expect(new Set(got.map((m) => m.body)).size).toBe(1);
    expect(await effects(requestor)).toEqual({ entries: ['r-song'], charges: 1 });
  });

  it('copies once when the handset asks several times at once (new CSeqs): one copied, the rest already owned', async () => {
    const { requestor, owner } = await pair();
    const dialog = await dialogFor(requestor, owner);
    chf.slowNext(CHF_DELAY_MS, 1);
    const cseqs = [2, 3, 4, 5];
    for (const cseq of cseqs) {
      callerPeer.send(dialog.fromCaller('INFO', { cseq, ...copyInfoParts(requestor, owner) }));
      sent.infos += 1;
    }
    const got = await Promise.all(cseqs.map((cseq) => callerPeer.receive(answerTo(dialog.callId, cseq), 8000)));
    answers.push(...got.map(statusOf));
    expect(got.map(statusOf)).toEqual([200, 200, 200, 200]);
    expect(tally(got.map((m) => (JSON.parse(m.body) as { result: string }).result))).toEqual({ copied: 1, 'already-owned': 3 });
    expect(await effects(requestor)).toEqual({ entries: ['r-song'], charges: 1 });
  });
});

describe('REST repeats', () => {
  const post = (app: App, uid: Identity, payload: object, key?: string) => {
    sent.rest += 1;
    return app.inject({
      method: 'POST',
      url: `/v1/users/${encodeURIComponent(uid)}/copies`,
      headers: { ...harness.ctx.as(uid), ...(key ? { 'idempotency-key': key } : {}) },
      payload,
    });
  };

  it('runs requests with the same Idempotency-Key once across two servers sharing the store, and keeps the key per user', async () => {
    const { requestor, owner } = await pair();
    const other = newUser();
    users.push(other);
    chf.setBalance(other, 10_000);
    chf.slowNext(CHF_DELAY_MS, 1);
    const payload = { mode: 'offline', from: owner, resourceIds: ['r-song'] };
    const responses = await Promise.all(
      Array.from({ length: 20 }, (_, i) => post(i % 2 === 0 ? harness.ctx.app : second.app, requestor, payload, 'same-key')),
    );
    answers.push(...responses.map((r) => r.statusCode));
    expect(tally(responses.map((r) => r.statusCode))).toEqual({ 201: 20 });
    expect(new Set(responses.map((r) => r.body)).size).toBe(1);
    // The same key from another user is that user's own request.
    const others = await post(second.app, other, payload, 'same-key');
    answers.push(others.statusCode);
    expect(others.statusCode).toBe(201);
    expect(others.json<{ charge: { id: string } }>().charge.id).not.toBe(responses[0]!.json<{ charge: { id: string } }>().charge.id);
    expect(await effects(requestor)).toEqual({ entries: ['r-song'], charges: 1 });
    expect(await effects(other)).toEqual({ entries: ['r-song'], charges: 1 });
  });

  it('copies once when identical requests without a key race on two servers: one 201, the others already owned', async () => {
    const { requestor, owner } = await pair();
    chf.slowNext(CHF_DELAY_MS, 1);
    const payloads = [{ mode: 'offline', from: owner, resourceIds: ['r-song'] }];
    await harness.ctx.services.calls.callStarted({ callId: `race-${requestor}@test`, fromTag: 'race', caller: requestor, called: owner });
    payloads.push({ mode: 'online', peer: owner, client: HANDSET } as never);
    const responses = await Promise.all(Array.from({ length: 12 }, (_, i) => post(i % 2 === 0 ? harness.ctx.app : second.app, requestor, payloads[i % payloads.length]!)));
    answers.push(...responses.map((r) => r.statusCode));
    expect(tally(responses.map((r) => r.statusCode))).toEqual({ 200: 11, 201: 1 });
    expect(await effects(requestor)).toEqual({ entries: ['r-song'], charges: 1 });
  });
});
