/**
 * Hostile input never takes the embedded front down: thousands of random, truncated, mutated,
 * oversized and unknown-method messages over UDP, TCP and WebSocket, after which calls complete
 * normally. Answerable faults get a 400 (or 413 past the size cap); the rest is dropped.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { expectEndedAfterAnswer, newParties, TONES } from '../../support/call-outcomes.js';
import { seedCopyCatalog } from '../../support/copy-fixtures.js';
import { CALLED_IP, CALLER_IP, startSipHarness, type SipHarness } from '../../support/sip/harness.js';
import { request, responseTo } from '../../support/sip/raw-messages.js';
import { isRequest, isStatus, parseSipText, RawPeer } from '../../support/sip/raw-peer.js';

const ANNOUNCED = { toCaller: TONES.toCaller.resourceId, toCalled: TONES.toCalled.resourceId };
const UDP_MESSAGES = 3000;
const TCP_CONNECTIONS = 150;

/** Deterministic pseudo-random numbers (mulberry32), so a failure can be replayed. */
function random(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe('embedded front under hostile input', () => {
  let harness: SipHarness;
  let sink: RawPeer;

  beforeAll(async () => {
    harness = await startSipHarness();
    await seedCopyCatalog(harness.ctx.services);
    sink = await RawPeer.open('udp', CALLED_IP, harness.server, 'called');
  });
  afterAll(async () => {
    await sink?.close();
    await harness?.close();
  });

  it('survives garbage over UDP, TCP and WebSocket and then completes calls', async () => {
    const rand = random(20240607);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(rand() * items.length)]!;
    const bytes = (n: number) => Buffer.from(Array.from({ length: n }, () => Math.floor(rand() * 256)));
    const sinkUri = `sip:nobody@${sink.uriHostPort}`;
    const valid = (method: string, i: number) =>
      request(method, sinkUri, { ip: CALLER_IP, port: 5, transport: 'udp' } as RawPeer, { callId: `garbage-${i}`, body: 'v=0\r\n' });
    const mutations: Array<(i: number) => Buffer> = [
      () => bytes(Math.floor(rand() * 1500)),
      (i) => Buffer.from(valid('INVITE', i).slice(0, Math.floor(rand() * 400))),
      (i) => Buffer.from(valid('INVITE', i).replace(/\r\n[^\r]*/, '')),
      (i) => Buffer.from(valid('INVITE', i).replace(/Content-Length: \d+/, pick(['Content-Length: -4', 'Content-Length: x', 'Content-Length: 99999']))),
      (i) => Buffer.from(valid('INVITE', i).replace(/CSeq: \d+ INVITE/, pick(['CSeq: x INVITE', 'CSeq: 1', 'CSeq: 99999999999 INVITE']))),
      (i) => Buffer.from(valid('INVITE', i).replace(/^INVITE sip:\S+/, pick(['INVITE <>', 'INVITE tel:', 'INVITE sip:@']))),
      (i) => Buffer.from(valid(pick(['FROBNICATE', 'X-TOTALLY-NEW', 'QUUX']), i)),
      (i) => Buffer.from(valid('INFO', i).replace('\r\n\r\n', `\r\n${'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bKx\r\n'.repeat(300)}\r\n`)),
      (i) => Buffer.from(valid('OPTIONS', i).replace('\r\n\r\n', `\r\nX-Long: ${'a'.repeat(60_000)}\r\n\r\n`)),
      (i) => Buffer.from(`SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 127.0.0.1:1;branch=z9hG4bKnothing${i}\r\nFrom: <sip:a@b>;tag=1\r\nTo: <sip:c@d>\r\nCall-ID: stray-${i}\r\nCSeq: 1 INVITE\r\n\r\n`),
      () => Buffer.from(pick(['', '\r\n', '\r\n\r\n', 'SIP/2.0', 'INVITE sip:x SIP/2.0\r\n\r\n', '\u0000\u0000\u0000'])),
    ];

    // UDP, in bursts so the test does not just measure the receive buffer.
    const udp = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => udp.bind(0, CALLER_IP, () => resolve()));
    for (let i = 0; i < UDP_MESSAGES; i++) {
      udp.send(pick(mutations)(i), harness.server.port, harness.server.ip);
      if (i % 100 === 99) await new Promise((resolve) => setTimeout(resolve, 5));
    }

    // TCP: garbage streams, truncated messages, bad lengths; each connection then closed.
    const tcpPayloads: Array<() => Buffer> = [
      () => bytes(Math.floor(rand() * 4000)),
      () => Buffer.from(valid('INVITE', 0).slice(0, 150)),
      () => Buffer.from(valid('INVITE', 0).replace(/Content-Length: \d+/, 'Content-Length: banana')),
      () => Buffer.concat([Buffer.from(valid('FROBNICATE', 1)), bytes(200)]),
      () => Buffer.from('\r\n\r\n'.repeat(50)),
    ];
    await Promise.all(
      Array.from({ length: TCP_CONNECTIONS }, async () => {
        const socket = net.connect({ host: harness.server.ip, port: harness.server.port, localAddress: CALLER_IP });
        socket.on('error', () => {});
        await new Promise<void>((resolve) => socket.once('connect', resolve).once('error', resolve));
        socket.write(pick(tcpPayloads)());
        await new Promise((resolve) => setTimeout(resolve, 5));
        socket.destroy();
      }),
    );

    // WebSocket: text and binary garbage, then an unparsable SIP message.
    for (let i = 0; i < 20; i++) {
      const ws = new WebSocket(`ws://${harness.server.ip}:${harness.server.wsPort}`, 'sip');
      ws.on('error', () => {});
      await new Promise((resolve) => ws.once('open', resolve).once('error', resolve));
      ws.send(bytes(300));
      ws.send('INVITE nonsense\r\n\r\n');
      ws.close();
    }

    // The server still answers: an answerable fault gets 400, a request for another UA is
    // forwarded (unknown method and all) and its answer relayed, a message past the cap gets 413.
    const caller = await RawPeer.open('udp', CALLER_IP, harness.server, 'caller');
    caller.send(request('INVITE', sinkUri, caller, { callId: 'probe-400' }).replace('CSeq: 1 INVITE', 'CSeq: 1 ACK'));
    await caller.receive(isStatus(400));
    caller.send(request('FROBNICATE', sinkUri, caller, { callId: 'probe-unknown' }));
    const unknown = await sink.receive((m) => isRequest('FROBNICATE')(m) && m.header('call-id')[0] === 'probe-unknown');
    sink.send(responseTo(unknown, 501, 'Not Implemented'));
    await caller.receive(isStatus(501, 'FROBNICATE'));
    await caller.close();

    const oversized = await tcpExchange(harness.server, request('INFO', sinkUri, { ip: CALLER_IP, port: 5, transport: 'tcp' } as RawPeer, { callId: 'probe-413', body: 'x'.repeat(100_000) }));
    expect(parseSipText(oversized).firstLine).toBe('SIP/2.0 413 Request Entity Too Large');

    const metrics = await harness.ctx.services.metrics.sipMessages.get();
    const malformed = metrics.values.filter((v) => v.labels.kind === 'malformed').reduce((sum, v) => sum + v.value, 0);
    expect(malformed).toBeGreaterThan(UDP_MESSAGES / 10);

    udp.close();
    for (const transport of ['udp', 'tcp'] as const) {
      const callId = await harness.call({ transport, caller: 'caller-call.xml', called: 'called-answer.xml', parties: await newParties(harness.ctx), expect: ANNOUNCED });
      await expectEndedAfterAnswer(harness.ctx, callId);
    }
  });
});

/** Sends one message on a fresh TCP connection and returns what comes back before the server closes it. */
async function tcpExchange(server: { ip: string; port: number }, text: string): Promise<string> {
  const socket = net.connect({ host: server.ip, port: server.port, localAddress: CALLER_IP });
  let received = '';
  socket.on('data', (chunk) => (received += chunk.toString('latin1')));
  socket.on('error', () => {});
  await new Promise<void>((resolve) => socket.once('connect', resolve));
  socket.write(text);
  await new Promise<void>((resolve) => socket.once('close', () => resolve()));
  return received;
}
