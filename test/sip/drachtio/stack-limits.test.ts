/**
 * What drachtio-server does itself with a request it will not pass on, measured with the real
 * drachtio-server 0.9.10 and played by the scripted one on its real SIP sockets: a body of 8192
 * bytes reaches the app, one of 8193 is answered 400 (no Warning) by drachtio-server, which over
 * TCP then closes the connection.
 */
import net from 'node:net';
import dgram from 'node:dgram';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseSip, randomToken, type SipMessage } from '../../support/raw-sip.js';
import { startDrachtioSipHarness } from '../../support/sip/drachtio-harness.js';
import type { SipHarness } from '../../support/sip/harness.js';

let harness: SipHarness;
beforeAll(async () => {
  harness = await startDrachtioSipHarness();
});
afterAll(async () => {
  await harness?.close();
});

/** An INFO of no call (the app answers it 481), with a body of `size` bytes. */
function info(transport: 'UDP' | 'TCP', port: number, size: number): string {
  const body = 'x'.repeat(size);
  return [
    `INFO sip:${harness.server.ip}:${harness.server.port} SIP/2.0`,
    `Via: SIP/2.0/${transport} 127.0.0.1:${port};branch=z9hG4bK${randomToken()}`,
    `From: <sip:stray@127.0.0.1>;tag=${randomToken()}`,
    `To: <sip:nobody@127.0.0.1>;tag=${randomToken()}`,
    `Call-ID: ${randomToken()}@127.0.0.1`,
    'CSeq: 1 INFO',
    'Content-Type: text/plain',
    'Max-Forwards: 70',
    `Content-Length: ${size}`,
    '',
    body,
  ].join('\r\n');
}

/** The final response among the messages received so far (the app may send 100 Trying first). */
function finalIn(received: string): SipMessage | null {
  const messages = received.split(/(?=SIP\/2\.0 \d{3} )/).filter((m) => m.startsWith('SIP/2.0 ')).map(parseSip);
  return messages.find((m) => m.status >= 200) ?? null;
}

/** Sends over TCP; resolves with the final answer and whether the peer then closed the connection. */
function overTcp(size: number): Promise<{ answer: SipMessage; closed: boolean }> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(harness.server.port, harness.server.ip);
    let received = '';
    let closedByPeer = false;
    socket.on('error', reject);
    socket.on('data', (chunk) => {
      received += chunk.toString('utf8');
      const answer = finalIn(received);
      // An answer the app gave leaves the connection open: this side closes it.
      if (answer && answer.status !== 400) socket.end();
    });
    socket.on('end', () => (closedByPeer = !finalIn(received) || finalIn(received)!.status === 400));
    socket.on('close', () => {
      const answer = finalIn(received);
      if (answer) resolve({ answer, closed: closedByPeer });
      else reject(new Error(`no final response in: ${received}`));
    });
    socket.on('connect', () => socket.write(info('TCP', socket.localPort!, size)));
  });
}

function overUdp(size: number): Promise<SipMessage> {
  return new Promise((resolve) => {
    const socket = dgram.createSocket('udp4');
    socket.on('message', (data) => {
      const answer = finalIn(data.toString('utf8'));
      if (!answer) return;
      socket.close();
      resolve(answer);
    });
    socket.bind(0, '127.0.0.1', () => socket.send(info('UDP', socket.address().port, size), harness.server.port, harness.server.ip));
  });
}

describe('scripted drachtio-server: request bodies drachtio-server refuses itself', () => {
  it('passes a body of 8192 bytes to the app and answers one of 8193 with a bare 400, over UDP', async () => {
    expect((await overUdp(8192)).status).toBe(481);
    const refused = await overUdp(8193);
    expect(refused.status).toBe(400);
    expect(refused.header('warning')).toBeUndefined();
  });

  it('over TCP answers one of 8193 with a bare 400 and closes the connection', async () => {
    const passed = await overTcp(8192);
    expect(passed.answer.status).toBe(481);
    expect(passed.closed).toBe(false);
    const refused = await overTcp(8193);
    expect(refused.answer.status).toBe(400);
    expect(refused.closed).toBe(true);
  });
});
