/**
 * Bad SIP input made from valid messages: a real call is set up and a copy made through the
 * embedded front (real services), the messages of that exchange are captured, and thousands of
 * mutations of them (headers dropped, duplicated, oversized; bytes that are not text; wrong
 * Content-Length; broken start lines, header syntax and bodies; cut short) are sent over UDP and
 * TCP. The server never answers 500, copies nothing it should not, and afterwards a normal call
 * and copy (sipp) still succeed. The embedded robustness test sends garbage; this one sends what
 * a broken or hostile peer would send in a real dialog. The mutations are drawn from a seed
 * (SIP_FUZZ_SEED), so a run can be repeated.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Identity } from '../../src/domain/identity.js';
import { libraryOf, newUser, owning, seedCopyCatalog } from '../support/copy-fixtures.js';
import { seededRandom } from '../support/presentation-fixtures.js';
import { CALLED_IP, CALLER_IP, startSipHarness, type SipHarness } from '../support/sip/harness.js';
import { mutate } from '../support/sip/mutations.js';
import { answerTo, copyInfoParts, openRawDialog } from '../support/sip/raw-dialog.js';
import { responseTo } from '../support/sip/raw-messages.js';
import { parseSipText, RawPeer } from '../support/sip/raw-peer.js';
import { recordTrial, tally } from '../support/trial-summary.js';
import { settled } from '../support/eventually.js';

const UDP_MESSAGES = 3000;
const TCP_CONNECTIONS = 60;
const MESSAGES_PER_CONNECTION = 20;
const MAX_DATAGRAM = 65_507;
/** The mutations are drawn from this seed (SIP_FUZZ_SEED to try others). */
const SEED = Number(process.env['SIP_FUZZ_SEED'] ?? 20_240_610);

let harness: SipHarness;

beforeAll(async () => {
  harness = await startSipHarness();
  await seedCopyCatalog(harness.ctx.services);
});
afterAll(async () => {
  await harness?.close();
});

/** A called UA that answers whatever reaches it: 486 to an INVITE, 200 to anything else but ACK. */
async function answeringMachine(port: number): Promise<{ requests: number; close(): Promise<void> }> {
  const socket = dgram.createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(port, CALLED_IP, () => resolve()));
  const machine = { requests: 0, close: () => new Promise<void>((resolve) => socket.close(() => resolve())) };
  socket.on('message', (bytes, from) => {
    const message = parseSipText(bytes.toString('latin1'));
    if (message.firstLine.startsWith('SIP/2.0') || message.firstLine.startsWith('ACK ')) return;
    machine.requests += 1;
    const invite = message.firstLine.startsWith('INVITE ');
    socket.send(Buffer.from(responseTo(message, invite ? 486 : 200, invite ? 'Busy Here' : 'OK', { toTag: 'machine' }), 'latin1'), from.port, from.address);
  });
  return machine;
}

const statusesIn = (text: string) => [...text.matchAll(/^SIP\/2\.0 (\d{3}) /gm)].map((m) => m[1]!);
/** The branch index a mutated message was sent with (see `next`), read back from an answer. */
const indexIn = (text: string) => /branch=z9hG4bK((?:UDP|TCP)\d+)x/.exec(text)?.[1];

describe('mutated SIP messages', () => {
  it('never break the server: no 500, nothing copied by mistake, and calls and copies work afterwards', async () => {
    const { services } = harness.ctx;
    const [requestor, owner] = [newUser(), newUser()];
    await owning(services, owner, ['r-song']);

    // A real exchange to capture: call set-up and a copy in the confirmed dialog.
    const callerPeer = await RawPeer.open('udp', CALLER_IP, harness.server, 'caller');
    const calledPeer = await RawPeer.open('udp', CALLED_IP, harness.server, 'called');
    const dialog = await openRawDialog(callerPeer, calledPeer, { caller: requestor, called: owner });
    const info = dialog.fromCaller('INFO', { cseq: 2, ...copyInfoParts(requestor, owner) });
    callerPeer.send(info);
    const copied = await callerPeer.receive(answerTo(dialog.callId, 2));
    expect(JSON.parse(copied.body)).toMatchObject({ result: 'copied' });
    const captured = [...dialog.messages, info, copied.text];
    const calledPort = calledPeer.port;
    await Promise.all([callerPeer.close(), calledPeer.close()]);
    // From here on the called side answers everything forwarded to it.
    const machine = await answeringMachine(calledPort);

    const rand = seededRandom(SEED);
    const kinds: string[] = [];
    const answers: string[] = [];
    const sentTexts = new Map<string, string>();
    const serverErrors: string[] = [];
    const note = (text: string) => {
      answers.push(...statusesIn(text));
      // An answer 500 says the server met something it did not expect: keep what caused it.
      for (const answer of text.split(/(?=^SIP\/2\.0 )/m).filter((t) => t.startsWith('SIP/2.0 500'))) {
        serverErrors.push(`${answer.slice(0, 600)}\n--- in answer to:\n${(sentTexts.get(indexIn(answer) ?? '') ?? '?').slice(0, 1500)}`);
      }
    };
    let sentOverTcp = 0;
    /** A mutated captured message, sent from `sentBy` as a new transaction. */
    const next = (i: number, sentBy: string, transport: 'UDP' | 'TCP') => {
      const base = captured[Math.floor(rand() * captured.length)]!
        .replace(/^Via: SIP\/2\.0\/UDP 127\.0\.0\.1:\d+/m, `Via: SIP/2.0/${transport} ${sentBy}`)
        .replace(/branch=z9hG4bK/g, `branch=z9hG4bK${transport}${i}x`);
      const mutated = mutate(base, rand);
      kinds.push(...mutated.kinds);
      sentTexts.set(`${transport}${i}`, mutated.text);
      return Buffer.from(mutated.text, 'latin1');
    };

    const udp = dgram.createSocket('udp4');
    udp.on('message', (bytes) => note(bytes.toString('latin1')));
    await new Promise<void>((resolve) => udp.bind(0, CALLER_IP, () => resolve()));
    const udpSentBy = `${CALLER_IP}:${udp.address().port}`;
    for (let i = 0; i < UDP_MESSAGES; i++) {
      const bytes = next(i, udpSentBy, 'UDP');
      udp.send(bytes.subarray(0, MAX_DATAGRAM), harness.server.port, harness.server.ip);
      // In bursts, so the test measures the server rather than the receive buffer.
      if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 10));
    }

    for (let c = 0; c < TCP_CONNECTIONS; c++) {
      const socket = net.connect({ host: harness.server.ip, port: harness.server.port, localAddress: CALLER_IP });
      let received = '';
      socket.on('data', (chunk) => (received += chunk.toString('latin1')));
      socket.on('error', () => {});
      await new Promise<void>((resolve) => socket.once('connect', resolve).once('error', resolve));
      const sentBy = `${CALLER_IP}:${socket.localPort}`;
      for (let m = 0; m < MESSAGES_PER_CONNECTION && !socket.destroyed; m++) {
        socket.write(next(c * MESSAGES_PER_CONNECTION + m, sentBy, 'TCP'));
        sentOverTcp += 1;
      }
      await new Promise((resolve) => setTimeout(resolve, 20));
      socket.destroy();
      note(received);
    }
    // Answers still on their way: wait until no new one has arrived for a moment.
    await settled(() => answers.length);
    udp.close();
    await machine.close();

    const answered = tally(answers);
    expect(serverErrors).toEqual([]);
    expect(answers.length).toBeGreaterThan(UDP_MESSAGES / 20);
    const malformed = (await services.metrics.sipMessages.get()).values.filter((v) => v.labels.kind === 'malformed').reduce((sum, v) => sum + v.value, 0);
    expect(malformed).toBeGreaterThan(UDP_MESSAGES / 20);
    // The storm could copy at most what the dialog's caller was allowed to (once); nobody else got anything.
    expect((await libraryOf(services, requestor)).map((e) => e.resourceId)).toEqual(['r-song']);
    expect((await services.charges.forUser(requestor, 100)).items.filter((c) => c.outcome === 'granted')).toHaveLength(1);
    for (const other of ['tel:+15551230009', 'tel:+15551230008', 'tel:+15559990000', 'tel:+15551230001', 'tel:+15551230002'] as Identity[]) {
      expect((await libraryOf(services, other)).filter((e) => e.origin.startsWith('copy')), other).toEqual([]);
    }

    // A normal call with a copy, over each transport, afterwards (the called party presents r-song).
    const parties = { caller: newUser(), called: newUser() };
    await owning(services, parties.called, ['r-song']);
    await harness.call({ transport: 'udp', caller: 'caller-copy-confirmed.xml', called: 'called-answer.xml', parties, expect: { toCaller: 'r-song' } });
    await harness.call({ transport: 'tcp', caller: 'caller-copy-confirmed.xml', called: 'called-answer.xml', parties, expect: { toCaller: 'r-song' } });
    expect((await libraryOf(services, parties.caller)).map((e) => e.resourceId)).toEqual(['r-song']);

    recordTrial({
      test: 'bad SIP input: mutated valid messages',
      tried: { 'captured messages': captured.length, 'UDP messages': UDP_MESSAGES, 'TCP messages': sentOverTcp, 'TCP connections': TCP_CONNECTIONS, 'mutations applied': kinds.length, 'mutation kinds': Object.keys(tally(kinds)).length },
      outcomes: { ...Object.fromEntries(Object.entries(answered).map(([status, n]) => [`answered ${status}`, n])), dropped: malformed, 'forwarded to the called UA': machine.requests, 'sipp calls with copy after': 2 },
    });
  }, 60_000);
});
