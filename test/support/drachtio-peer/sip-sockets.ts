/**
 * The SIP side of the scripted drachtio-server when real UAs (sipp) call through it: one UDP
 * socket and one TCP listener on the same loopback port, as drachtio-server listens with
 * `<contact>sip:…:port;transport=udp,tcp</contact>`. Messages are handed over whole (a TCP stream
 * is cut by Content-Length); sending picks the connection a message belongs on.
 */
import dgram from 'node:dgram';
import net from 'node:net';

export type Transport = 'udp' | 'tcp';

/** Where a message came from, or where one goes. */
export interface SipEndpoint {
  transport: Transport;
  address: string;
  port: number;
  /** TCP: the connection to use (the one a request came on, for its responses). */
  connection?: net.Socket;
}

export class SipSockets {
  private readonly tcpConnections = new Set<net.Socket>();

  private constructor(
    private readonly udp: dgram.Socket,
    private readonly tcp: net.Server,
    readonly host: string,
    readonly port: number,
    private readonly onMessage: (raw: string, from: SipEndpoint) => void,
  ) {
    udp.on('message', (data, rinfo) => onMessage(data.toString('utf8'), { transport: 'udp', address: rinfo.address, port: rinfo.port }));
    tcp.on('connection', (socket) => this.adopt(socket));
  }

  /** Listens on a free port of `host`, UDP and TCP alike. */
  static async open(host: string, onMessage: (raw: string, from: SipEndpoint) => void): Promise<SipSockets> {
    for (let attempt = 1; ; attempt++) {
      const udp = dgram.createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        udp.once('error', reject);
        udp.bind(0, host, () => {
          udp.off('error', reject);
          resolve();
        });
      });
      const port = udp.address().port;
      const tcp = net.createServer();
      try {
        await new Promise<void>((resolve, reject) => {
          tcp.once('error', reject);
          tcp.listen(port, host, () => {
            tcp.off('error', reject);
            resolve();
          });
        });
        return new SipSockets(udp, tcp, host, port, onMessage);
      } catch (err) {
        udp.close();
        // Someone holds that port for TCP: take another pair.
        if ((err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt === 5) throw err;
      }
    }
  }

  send(raw: string, to: SipEndpoint): void {
    if (to.transport === 'udp') {
      this.udp.send(Buffer.from(raw, 'utf8'), to.port, to.address);
      return;
    }
    const connection = to.connection && !to.connection.destroyed ? to.connection : this.connectionTo(to.address, to.port);
    connection.write(raw);
  }

  async close(): Promise<void> {
    for (const socket of this.tcpConnections) socket.destroy();
    await Promise.all([new Promise<void>((resolve) => this.tcp.close(() => resolve())), new Promise<void>((resolve) => this.udp.close(() => resolve()))]);
  }

  /** An open connection with that peer (either side opened it), else a new one. */
  private connectionTo(address: string, port: number): net.Socket {
    for (const socket of this.tcpConnections) if (socket.remoteAddress === address && socket.remotePort === port && !socket.destroyed) return socket;
    const socket = net.connect({ host: address, port, localAddress: this.host });
    this.adopt(socket);
    return socket;
  }

  private adopt(socket: net.Socket): void {
    this.tcpConnections.add(socket);
    let buffer = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (let cut = nextMessage(buffer); cut; cut = nextMessage(buffer)) {
        buffer = buffer.subarray(cut.end);
        if (cut.message) this.onMessage(cut.message, { transport: 'tcp', address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, connection: socket });
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.tcpConnections.delete(socket));
  }
}

/** The first whole message in a TCP stream (a keep-alive CRLF counts as an empty one), or null. */
function nextMessage(buffer: Buffer): { message: string; end: number } | null {
  let start = 0;
  while (buffer[start] === 0x0d || buffer[start] === 0x0a) start++;
  if (start > 0) return { message: '', end: start };
  const headEnd = buffer.indexOf('\r\n\r\n');
  if (headEnd < 0) return null;
  const head = buffer.subarray(0, headEnd).toString('utf8');
  const length = /^(?:content-length|l)[ \t]*:[ \t]*(\d+)/im.exec(head);
  const end = headEnd + 4 + (length ? Number(length[1]) : 0);
  if (buffer.length < end) return null;
  return { message: buffer.subarray(0, end).toString('utf8'), end };
}
