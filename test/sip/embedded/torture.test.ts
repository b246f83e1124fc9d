/**
 * RFC 4475's torture messages, every file of its Appendix A archive byte for byte, sent to the
 * embedded front over real UDP and TCP. A valid request for elsewhere is forwarded as it came
 * (routed by name through a loopback DNS to a next hop of the test, which answers it) and the
 * answer comes back; one the proxy itself must answer is answered; an invalid request is
 * answered 400 (505 for the version) or dropped where the RFC allows; a response without a
 * transaction is read (valid) or discarded (invalid). Nothing is ever forwarded with its fault,
 * nothing is answered 500.
 */
import { createHash, randomUUID } from 'node:crypto';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CALLED_IP, CALLER_IP, startSipHarness, type SipHarness } from '../../support/sip/harness.js';
import { useLoopbackDns, type LoopbackDns } from '../../support/sip/loopback-dns.js';

const ARCHIVE = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', 'rfc4475');

type Transport = 'udp' | 'tcp';
type Outcome =
  /** Sent on to its next hop as it came; the next hop's answer is relayed back. */
  | { forwarded: true }
  /** Answered here with this status, and sent nowhere. */
  | { answered: number }
  /** Neither answered nor sent on; over TCP the connection may be closed. */
  | { dropped: string }
  /** A response that matches no transaction: read (valid) or discarded as malformed, and relayed nowhere. */
  | { response: 'read' | 'discarded' };

interface TortureCase {
  name: string;
  /** RFC 4475 section. */
  section: string;
  udp: Outcome;
  /** Over TCP, when it differs. */
  tcp?: Outcome;
  /** Further checks of the forwarded copy. */
  forwarded?: (copy: Wire, original: Wire) => void;
}

const FORWARDED = { forwarded: true } as const;
const BAD = { answered: 400 } as const;

const CASES: TortureCase[] = [
  // 3.1.1 Valid messages
  {
    name: 'wsinv', section: '3.1.1.1', udp: FORWARDED,
    forwarded: (copy) => {
      expect(copy.value('max-forwards')).toBe('67'); // 0068, leading zeros and all, less one hop
      expect(copy.value('cseq')).toBe('9 INVITE');
    },
  },
  { name: 'intmeth', section: '3.1.1.2', udp: FORWARDED },
  { name: 'esc01', section: '3.1.1.3', udp: FORWARDED },
  { name: 'escnull', section: '3.1.1.4', udp: FORWARDED },
  {
    name: 'esc02', section: '3.1.1.5', udp: FORWARDED,
    forwarded: (copy) => {
      expect(copy.value('cseq')).toBe('29344 RE%47IST%45R');
      expect(copy.all('contact').flatMap((v) => v.split(','))).toHaveLength(2); // two Contact values, not three
      expect(copy.spelled('C%6Fntact')).toEqual(['<sip:alias2@host2.example.com>']);
    },
  },
  { name: 'lwsdisp', section: '3.1.1.6', udp: FORWARDED },
  { name: 'longreq', section: '3.1.1.7', udp: FORWARDED },
  // Over UDP the octets after the REGISTER are ignored; over TCP they are the next message.
  { name: 'dblreq', section: '3.1.1.8', udp: FORWARDED, forwarded: (copy) => expect(copy.body).toBe('') },
  { name: 'semiuri', section: '3.1.1.9', udp: FORWARDED },
  { name: 'transports', section: '3.1.1.10', udp: FORWARDED },
  { name: 'mpart01', section: '3.1.1.11', udp: FORWARDED },
  { name: 'unreason', section: '3.1.1.12', udp: { response: 'read' } },
  { name: 'noreason', section: '3.1.1.13', udp: { response: 'read' } },
  // 3.1.2 Invalid messages
  { name: 'badinv01', section: '3.1.2.1', udp: BAD },
  { name: 'clerr', section: '3.1.2.2', udp: BAD, tcp: { dropped: 'the rest of the body is awaited' } },
  { name: 'ncl', section: '3.1.2.3', udp: BAD, tcp: { dropped: 'the stream cannot be framed: closed' } },
  { name: 'scalar02', section: '3.1.2.4', udp: BAD },
  { name: 'scalarlg', section: '3.1.2.5', udp: { response: 'discarded' } },
  { name: 'quotbal', section: '3.1.2.6', udp: BAD },
  { name: 'ltgtruri', section: '3.1.2.7', udp: BAD },
  { name: 'lwsruri', section: '3.1.2.8', udp: BAD },
  { name: 'lwsstart', section: '3.1.2.9', udp: BAD },
  { name: 'trws', section: '3.1.2.10', udp: BAD },
  { name: 'escruri', section: '3.1.2.11', udp: BAD },
  // A proxy that does not look at Date passes it on unchanged.
  { name: 'baddate', section: '3.1.2.12', udp: FORWARDED },
  { name: 'regbadct', section: '3.1.2.13', udp: BAD },
  { name: 'badaspec', section: '3.1.2.14', udp: BAD },
  // The archive's copy has no blank line after its headers: a datagram ends them; a stream never does.
  { name: 'baddn', section: '3.1.2.15', udp: BAD, tcp: { dropped: 'the header section never ends' } },
  { name: 'badvers', section: '3.1.2.16', udp: { answered: 505 } },
  { name: 'mismatch01', section: '3.1.2.17', udp: BAD },
  { name: 'mismatch02', section: '3.1.2.18', udp: BAD },
  { name: 'bigcode', section: '3.1.2.19', udp: { response: 'discarded' } },
  // 3.2 Transaction layer
  { name: 'badbranch', section: '3.2.1', udp: FORWARDED },
  // 3.3 Application layer
  { name: 'insuf', section: '3.3.1', udp: BAD },
  { name: 'unkscm', section: '3.3.2', udp: { answered: 416 } },
  { name: 'novelsc', section: '3.3.3', udp: { answered: 416 } },
  { name: 'unksm2', section: '3.3.4', udp: FORWARDED },
  { name: 'bext01', section: '3.3.5', udp: { answered: 420 } },
  { name: 'invut', section: '3.3.6', udp: FORWARDED },
  { name: 'regaut01', section: '3.3.7', udp: FORWARDED },
  { name: 'multi01', section: '3.3.8', udp: BAD },
  { name: 'mcl01', section: '3.3.9', udp: BAD, tcp: { dropped: 'two lengths leave the stream unframeable: closed' } },
  { name: 'bcast', section: '3.3.10', udp: { response: 'read' } },
  { name: 'zeromf', section: '3.3.11', udp: { answered: 483 } },
  { name: 'cparam01', section: '3.3.12', udp: FORWARDED },
  { name: 'cparam02', section: '3.3.13', udp: FORWARDED },
  { name: 'regescrt', section: '3.3.14', udp: FORWARDED },
  { name: 'sdp01', section: '3.3.15', udp: FORWARDED },
  // 3.4 Backward compatibility: an RFC 2543 INVITE (no branch, no From tag, no Content-Length).
  // On a stream Content-Length is mandatory (RFC 3261 §18.3), so over TCP it is refused.
  { name: 'inv2543', section: '3.4.1', udp: FORWARDED, tcp: BAD },
  // The archive's sample message: no SIP-Version, no Via, a header line without a colon.
  { name: 'test', section: 'archive sample', udp: { dropped: 'no Via to answer' } },
];

describe('RFC 4475 torture messages at the embedded front', () => {
  let nextHop: NextHop;
  let resolver: LoopbackDns;

  beforeAll(async () => {
    nextHop = await NextHop.open(CALLED_IP);
    resolver = await useLoopbackDns({ address: CALLED_IP, port: nextHop.port });
  });
  afterAll(async () => {
    await resolver?.close();
    await nextHop?.close();
  });

  it('has every file of the archive, byte for byte', () => {
    const sums = readFileSync(path.join(ARCHIVE, 'SHA256SUMS'), 'latin1').trim().split('\n').map((line) => line.split(/\s+/) as [string, string]);
    expect(CASES.map((c) => `${c.name}.dat`).sort()).toEqual(sums.map(([, file]) => file).sort());
    for (const [sum, file] of sums) expect(createHash('sha256').update(readFileSync(path.join(ARCHIVE, file))).digest('hex'), file).toBe(sum);
  });

  for (const transport of ['udp', 'tcp'] as const) {
    describe(`over ${transport.toUpperCase()}`, () => {
      // A server of its own: over TCP the same message again would be a retransmission of the UDP one.
      let harness: SipHarness;
      beforeAll(async () => {
        // Initial requests go through the outbound proxy, in-dialog ones where their Route says:
        // both lead to the next hop (the latter by name, through the loopback DNS).
        harness = await startSipHarness({ env: { CMR_SIP_OUTBOUND_PROXY: `sip:${CALLED_IP}:${nextHop.port};transport=udp;lr` } });
      });
      afterAll(() => harness?.close());

      for (const torture of CASES) {
        const outcome = (transport === 'tcp' ? torture.tcp : undefined) ?? torture.udp;
        it(`${torture.name} (§${torture.section}): ${describeOutcome(outcome)}`, async () => {
          const bytes = readFileSync(path.join(ARCHIVE, `${torture.name}.dat`));
          const original = readWire(bytes.toString('latin1'));
          const malformedBefore = await malformedCount(harness);
          const client = await Client.open(transport, harness.server);
          nextHop.forget();
          try {
            client.send(bytes);
            if ('forwarded' in outcome) {
              const copy = await nextHop.received(original.value('call-id')!);
              expectForwardedAsItCame(copy, original, transport);
              torture.forwarded?.(copy, original);
              const answer = await client.finalResponse();
              expect(answer.startLine).toBe(nextHop.answerLineFor(copy));
            } else if ('answered' in outcome) {
              const answer = await client.finalResponse();
              expect(answer.startLine.split(' ')[1]).toBe(String(outcome.answered));
              expect(answer.value('call-id')).toBe(original.value('call-id'));
              if (outcome.answered === 400 || outcome.answered === 505) expect(answer.value('warning')).toMatch(/^399 /);
              if (outcome.answered === 420) expect(answer.value('unsupported')).toBe(original.value('proxy-require'));
            } else {
              await client.untilServerHasRead(harness.server);
              expect(client.messages.map((m) => m.startLine)).toEqual([]);
              if ('response' in outcome) expect(await malformedCount(harness)).toBe(malformedBefore + (outcome.response === 'discarded' ? 1 : 0));
            }
            if (!('forwarded' in outcome) && original.value('call-id')) expect(nextHop.sawCallId(original.value('call-id')!)).toBe(false);
          } finally {
            await client.close();
          }
        });
      }
    });
  }
});

function describeOutcome(outcome: Outcome): string {
  if ('forwarded' in outcome) return 'forwarded as it came';
  if ('answered' in outcome) return `answered ${outcome.answered}`;
  if ('dropped' in outcome) return `dropped (${outcome.dropped})`;
  return outcome.response === 'read' ? 'read, relayed nowhere' : 'discarded';
}

/**
 * The copy the next hop received is the request as it came: the same start line, Call-ID and
 * body; every header the proxy does not own under the name it came with and the same value;
 * one Via more, Max-Forwards one less.
 */
function expectForwardedAsItCame(copy: Wire, original: Wire, transport: Transport): void {
  expect(copy.startLine).toBe(original.startLine);
  expect(copy.value('call-id')).toBe(original.value('call-id'));
  const body = original.bodyAsSent(transport);
  expect(Buffer.from(copy.body, 'latin1').equals(Buffer.from(body, 'latin1'))).toBe(true);
  expect(Number(copy.value('content-length'))).toBe(Buffer.byteLength(body, 'latin1'));
  const viaCount = (w: Wire) => w.all('via').flatMap((v) => v.split(',')).length;
  expect(viaCount(copy)).toBe(viaCount(original) + 1);
  expect(Number(copy.value('max-forwards'))).toBe(Number(original.value('max-forwards') ?? 70) - 1);
  for (const header of original.headers) {
    if (REWRITTEN.has(header.key)) continue;
    // A compact form may travel in its long form (RFC 3261 §7.3.3); any other name as it came.
    const values = header.name.toLowerCase() in COMPACT ? copy.all(header.key).map((v) => v.replace(/\s+/g, ' ')) : copy.spelled(header.name);
    expect(values, `${header.name} as it came`).toContain(header.value.replace(/\s+/g, ' '));
  }
}

/** Headers whose value the proxy owns (Via, Route, Max-Forwards, the length) or writes in its own spelling (the addresses, CSeq, credentials). */
const REWRITTEN = new Set(['via', 'route', 'record-route', 'max-forwards', 'content-length', 'to', 'from', 'contact', 'cseq', 'call-id', 'authorization']);

const COMPACT: Record<string, string> = { i: 'call-id', m: 'contact', l: 'content-length', c: 'content-type', f: 'from', s: 'subject', k: 'supported', t: 'to', v: 'via', e: 'content-encoding' };

/** A message as text, independent of the server's parser: header lines unfolded, names as written. */
interface Wire {
  startLine: string;
  headers: Array<{ name: string; key: string; value: string }>;
  body: string;
  /** Every value of a header by key (compact forms expanded). */
  all(key: string): string[];
  value(key: string): string | undefined;
  /** Values of the lines written with exactly this name, whitespace collapsed. */
  spelled(name: string): string[];
  /** The body a receiver takes: Content-Length octets (a stream), or the rest of the datagram when there is no length. */
  bodyAsSent(transport: Transport): string;
}

function readWire(text: string): Wire {
  const end = text.indexOf('\r\n\r\n');
  const head = end < 0 ? text : text.slice(0, end);
  const body = end < 0 ? '' : text.slice(end + 4);
  const [startLine = '', ...lines] = head.split(/\r\n(?![ \t])/);
  const headers = lines.flatMap((line) => {
    const colon = line.indexOf(':');
    if (colon < 0) return [];
    const name = line.slice(0, colon).trim();
    return [{ name, key: COMPACT[name.toLowerCase()] ?? name.toLowerCase(), value: line.slice(colon + 1).replace(/\r\n[ \t]+/g, ' ').trim() }];
  });
  const all = (key: string) => headers.filter((h) => h.key === key).map((h) => h.value);
  return {
    startLine,
    headers,
    body,
    all,
    value: (key) => all(key)[0],
    spelled: (name) => headers.filter((h) => h.name === name).map((h) => h.value.replace(/\s+/g, ' ')),
    bodyAsSent(transport) {
      const length = all('content-length')[0];
      if (length === undefined) return transport === 'udp' ? body : '';
      return body.slice(0, Number(length));
    },
  };
}

async function malformedCount(harness: SipHarness): Promise<number> {
  const metric = await harness.ctx.services.metrics.sipMessages.get();
  return metric.values.filter((v) => v.labels.direction === 'in' && v.labels.kind === 'malformed').reduce((sum, v) => sum + v.value, 0);
}

/**
 * The next hop every request is routed to: it keeps what it receives and answers each request
 * itself (INVITE 486, anything else 200, ACK nothing), echoing the lines RFC 3261 §8.2.6.2 says.
 */
class NextHop {
  private readonly inbox: Wire[] = [];
  private readonly waiters: Array<() => void> = [];

  private constructor(private readonly socket: dgram.Socket) {
    socket.on('message', (bytes, remote) => {
      const message = readWire(bytes.toString('latin1'));
      this.inbox.push(message);
      this.waiters.splice(0).forEach((wake) => wake());
      if (message.startLine.startsWith('SIP/') || message.startLine.startsWith('ACK ')) return;
      socket.send(Buffer.from(this.answerTo(message), 'latin1'), remote.port, remote.address);
    });
  }

  static async open(ip: string): Promise<NextHop> {
    const socket = dgram.createSocket('udp4');
    await new Promise<void>((resolve) => socket.bind(0, ip, () => resolve()));
    return new NextHop(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  answerLineFor(request: Wire): string {
    return request.value('cseq')!.endsWith(' INVITE') ? 'SIP/2.0 486 Busy Here' : 'SIP/2.0 200 OK';
  }

  async received(callId: string, timeoutMs = 5000): Promise<Wire> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.inbox.find((m) => !m.startLine.startsWith('SIP/') && m.value('call-id') === callId);
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`the next hop received nothing with Call-ID ${callId}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  forget(): void {
    this.inbox.length = 0;
  }

  sawCallId(callId: string): boolean {
    return this.inbox.some((m) => m.value('call-id') === callId);
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.socket.close(() => resolve()));
  }

  private answerTo(request: Wire): string {
    const echoed = request.headers.filter((h) => ['via', 'from', 'to', 'call-id', 'cseq'].includes(h.key)).map((h) => `${h.name}: ${h.value}${h.key === 'to' ? ';tag=next-hop' : ''}`);
    return `${[this.answerLineFor(request), ...echoed, 'Content-Length: 0'].join('\r\n')}\r\n\r\n`;
  }
}

/** A peer that sends one torture message to the server and collects what comes back. */
class Client {
  readonly messages: Wire[] = [];
  private readonly waiters: Array<() => void> = [];
  private closed = false;

  private constructor(
    private readonly transport: Transport,
    private readonly write: (bytes: Buffer) => void,
    private readonly shut: () => Promise<void>,
    private readonly ended: () => Promise<void>,
  ) {}

  static async open(transport: Transport, server: { ip: string; port: number }): Promise<Client> {
    if (transport === 'udp') {
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, CALLER_IP, () => resolve()));
      const client: Client = new Client(
        'udp',
        (bytes) => socket.send(bytes, server.port, server.ip),
        () => new Promise((resolve) => socket.close(() => resolve())),
        async () => {},
      );
      socket.on('message', (bytes) => client.deliver(bytes.toString('latin1')));
      return client;
    }
    const socket = net.connect({ host: server.ip, port: server.port, localAddress: CALLER_IP });
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const gone = new Promise<void>((resolve) => socket.once('close', () => resolve()));
    const client: Client = new Client(
      'tcp',
      (bytes) => socket.write(bytes),
      async () => {
        socket.destroy();
        await gone;
      },
      async () => {
        socket.end();
        await gone;
      },
    );
    let buffered = '';
    socket.on('data', (chunk: Buffer) => {
      buffered += chunk.toString('latin1');
      for (let end = buffered.indexOf('\r\n\r\n'); end >= 0; end = buffered.indexOf('\r\n\r\n')) {
        client.deliver(buffered.slice(0, end + 4)); // the server's answers here carry no body
        buffered = buffered.slice(end + 4);
      }
    });
    socket.on('error', () => {});
    return client;
  }

  send(bytes: Buffer): void {
    this.write(bytes);
  }

  /** The first final response (provisional ones skipped). */
  async finalResponse(timeoutMs = 5000): Promise<Wire> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const found = this.messages.find((m) => /^SIP\/2\.0 [2-6]/.test(m.startLine));
      if (found) return found;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no final response within ${timeoutMs} ms; got ${this.messages.map((m) => m.startLine).join(' | ') || 'nothing'}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /**
   * Resolves once the server has read everything sent: over TCP the connection is half-closed
   * and the server closes its side after its last read (or had closed it already); over UDP an
   * OPTIONS for the server itself, sent after the message on the same socket, is answered.
   */
  async untilServerHasRead(server: { ip: string; port: number }): Promise<void> {
    if (this.transport === 'tcp') {
      await this.ended();
      this.closed = true;
      return;
    }
    const probe = [
      `OPTIONS sip:${server.ip}:${server.port} SIP/2.0`,
      // A branch of its own on every probe: two probes within one millisecond would otherwise
      // share one, and the server rightly answers the second as a retransmission of the first,
      // to the first probe's socket.
      `Via: SIP/2.0/UDP ${CALLER_IP};branch=z9hG4bK-probe-${randomUUID()}`,
      'Max-Forwards: 70',
      'From: <sip:probe@example.net>;tag=probe',
      `To: <sip:${server.ip}:${server.port}>`,
      'Call-ID: torture-probe',
      'CSeq: 1 OPTIONS',
      'Content-Length: 0',
    ];
    this.write(Buffer.from(`${probe.join('\r\n')}\r\n\r\n`, 'latin1'));
    const answer = await this.finalResponse();
    expect(answer.value('call-id')).toBe('torture-probe');
    this.messages.splice(this.messages.indexOf(answer), 1);
  }

  async close(): Promise<void> {
    if (!this.closed) await this.shut();
    this.closed = true;
  }

  private deliver(text: string): void {
    this.messages.push(readWire(text));
    this.waiters.splice(0).forEach((wake) => wake());
  }
}
