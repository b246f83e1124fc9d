/**
 * A bare SIP peer over a real socket for tests that need to see every header the server writes:
 * it sends text to the server and waits for messages that match. Over TCP a caller connects to
 * the server and a called peer accepts the server's connection.
 */
import dgram from 'node:dgram';
import net from 'node:net';
import { StreamFramer } from '../../../sip/sip-stack/stream-framer.js';
import type { SipTransport } from './sipp.js';

export interface SipText {
  text: string;
  /** Request line or status line. */
  firstLine: string;
  /** Values of a header (every line, in order). */
  header(name: string): string[];
  body: string;
}

export function parseSipText(text: string): SipText {
  const [head = '', body = ''] = text.split(/\r\n\r\n/, 2);
  const [firstLine = '', ...lines] = head.split('\r\n');
  return {
    text,
    firstLine,
    body,
    header: (name) =>
      lines.filter((l) => l.toLowerCase().startsWith(`${name.toLowerCase()}:`)).map((l) => l.slice(name.length + 1).trim()),
  };
}

export class RawPeer {
  private readonly inbox: SipText[] = [];
  private readonly waiters: Array<() => void> = [];
  private connection: net.Socket | undefined;

  private constructor(
    readonly ip: string,
    readonly port: number,
    readonly transport: SipTransport,
    private readonly server: { ip: string; port: number },
    private readonly closeSockets: () => Promise<void>,
    private readonly udp?: dgram.Socket,
  ) {}

  /** A peer on `ip` (free port) that talks to the server; a TCP caller connects at once. */
  static async open(transport: SipTransport, ip: string, server: { ip: string; port: number }, role: 'caller' | 'called'): Promise<RawPeer> {
    if (transport === 'udp') {
      const socket = dgram.createSocket('udp4');
      await new Promise<void>((resolve) => socket.bind(0, ip, () => resolve()));
      const peer = new RawPeer(ip, socket.address().port, 'udp', server, () => new Promise((r) => socket.close(() => r())), socket);
      socket.on('message', (bytes) => peer.deliver(bytes.toString('latin1')));
      return peer;
    }
    if (role === 'caller') {
      const socket = net.connect({ host: server.ip, port: server.port, localAddress: ip });
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      const peer = new RawPeer(ip, socket.localPort!, 'tcp', server, async () => void socket.destroy());
      peer.adopt(socket);
      return peer;
    }
    const listener = net.createServer();
    await new Promise<void>((resolve) => listener.listen(0, ip, () => resolve()));
    const peer = new RawPeer(ip, (listener.address() as net.AddressInfo).port, 'tcp', server, async () => {
      peer.connection?.destroy();
      await new Promise<void>((r) => listener.close(() => r()));
    });
    listener.on('connection', (socket) => peer.adopt(socket));
    return peer;
  }

  /** `host:port;transport=…` for URIs that should reach this peer. */
  get uriHostPort(): string {
    return `${this.ip}:${this.port};transport=${this.transport}`;
  }

  send(text: string): void {
    const bytes = Buffer.from(text, 'latin1');
    if (this.udp) this.udp.send(bytes, this.server.port, this.server.ip);
    else if (this.connection) this.connection.write(bytes);
    else throw new Error('no connection from the server yet');
  }

  /** The next message (received or still to come) that matches; it is taken out of the inbox. */
  async receive(matches: (message: SipText) => boolean, timeoutMs = 3000): Promise<SipText> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const index = this.inbox.findIndex(matches);
      if (index >= 0) return this.inbox.splice(index, 1)[0]!;
      const left = deadline - Date.now();
      if (left <= 0) throw new Error(`no matching message within ${timeoutMs} ms; received:\n${this.inbox.map((m) => m.firstLine).join('\n')}`);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, left);
        this.waiters.push(() => {
          clearTimeout(timer);
          resolve();
        });
      });
    }
  }

  /** True when a matching message has arrived (and was not taken yet). */
  hasReceived(matches: (message: SipText) => boolean): boolean {
    return this.inbox.some(matches);
  }

  close(): Promise<void> {
    return this.closeSockets();
  }

  private adopt(socket: net.Socket): void {
    this.connection = socket;
    const framer = new StreamFramer(1 << 20, {
      message: (bytes) => this.deliver(bytes.toString('latin1')),
      oversized: () => socket.destroy(),
      garbage: () => socket.destroy(),
    });
    socket.on('data', (chunk: Buffer) => framer.push(chunk));
    socket.on('error', () => {});
  }

  private deliver(text: string): void {
    this.inbox.push(parseSipText(text));
    this.waiters.splice(0).forEach((wake) => wake());
  }
}

/** Matchers for `RawPeer.receive`. */
export const isRequest = (method: string) => (m: SipText) => m.firstLine.startsWith(`${method} `);
export const isStatus = (status: number, method?: string) => (m: SipText) =>
  m.firstLine.startsWith(`SIP/2.0 ${status} `) && (method === undefined || (m.header('cseq')[0] ?? '').endsWith(` ${method}`));
