/**
 * The sockets: UDP and TCP on one host and port, WebSocket (subprotocol `sip`) on its own port,
 * all bound to the configured host. Every socket has an error handler, so a peer can never take
 * the process down; every message is capped in size before it is parsed.
 *
 * A TCP or WebSocket connection is a flow with a random id: replies go back on it, and a
 * Record-Route can name it so requests later reach the same handset (RFC 5626 style).
 */
import { randomBytes } from 'node:crypto';
import dgram from 'node:dgram';
import net from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import type { Logger } from 'pino';
import { StreamFramer } from './stream-framer.js';

export type Protocol = 'UDP' | 'TCP' | 'WS';

/** Where a message came from or goes to. `flowId` names the connection of a TCP or WS peer. */
export interface Peer {
  protocol: Protocol;
  address: string;
  port: number;
  flowId?: string;
}

export interface TransportEvents {
  /** One whole message, at most `maxMessageBytes`. */
  message(bytes: Buffer, from: Peer): void;
  /** A message over the cap: its header section, so a request can be answered 413. */
  oversized(head: Buffer, from: Peer): void;
}

export interface TransportOptions {
  host: string;
  /** 0 picks a free port (the same one for UDP and TCP). */
  port: number;
  wsPort: number | null;
  maxMessageBytes: number;
  udpReceiveBufferBytes: number;
  /** Connections idle this long are closed. */
  idleTimeoutMs: number;
  logger: Logger;
}

export interface Transports {
  readonly ports: { sip: number; ws: number | null };
  readonly udpReceiveBufferBytes: number;
  /** Sends to a peer: on its flow when it has one, else over UDP or a (new or reused) TCP connection. */
  send(to: Peer, bytes: Buffer, onError?: (err: Error) => void): void;
  flow(flowId: string): Peer | undefined;
  close(): Promise<void>;
}

interface Flow {
  peer: Peer;
  write(bytes: Buffer): void;
  close(): void;
}

const WS_HARD_LIMIT_FACTOR = 4;

export async function openTransports(options: TransportOptions, events: TransportEvents): Promise<Transports> {
  const log = options.logger;
  const flows = new Map<string, Flow>();
  /** TCP flows by remote `address:port`, so requests to a peer reuse its connection. */
  const tcpByRemote = new Map<string, string>();

  const deliver = (bytes: Buffer, from: Peer): void => {
    if (bytes.length > options.maxMessageBytes) events.oversized(headOf(bytes), from);
    else events.message(bytes, from);
  };

  const createUdp = (): dgram.Socket => {
    const socket = dgram.createSocket({ type: net.isIPv6(options.host) ? 'udp6' : 'udp4', recvBufferSize: options.udpReceiveBufferBytes });
    socket.on('message', (bytes, remote) => deliver(bytes, { protocol: 'UDP', address: remote.address, port: remote.port }));
    socket.on('error', (err) => log.error({ event: 'sip-transport', transport: 'udp', err: err.message }, 'udp socket error'));
    return socket;
  };

  const tcpServer = net.createServer((socket) => adoptTcp(socket, normalise(socket.remoteAddress), socket.remotePort ?? 0));
  tcpServer.on('error', (err) => log.error({ event: 'sip-transport', transport: 'tcp', err: err.message }, 'tcp server error'));

  function adoptTcp(socket: net.Socket, address: string, port: number): Flow {
    const flowId = newFlowId();
    const peer: Peer = { protocol: 'TCP', address, port, flowId };
    const remoteKey = `${address}:${port}`;
    const framer = new StreamFramer(options.maxMessageBytes, {
      message: (bytes) => events.message(bytes, peer),
      oversized: (head) => {
        events.oversized(head, peer);
        socket.end();
      },
      garbage: (reason) => {
        log.debug({ event: 'sip-garbage', transport: 'tcp', remote: remoteKey, reason }, 'closing unframeable tcp stream');
        socket.destroy();
      },
    });
    const flow: Flow = { peer, write: (bytes) => socket.write(bytes), close: () => socket.destroy() };
    flows.set(flowId, flow);
    tcpByRemote.set(remoteKey, flowId);
    socket.setTimeout(options.idleTimeoutMs, () => socket.destroy());
    socket.on('data', (chunk: Buffer) => framer.push(chunk));
    socket.on('error', (err) => log.debug({ event: 'sip-transport', transport: 'tcp', remote: remoteKey, err: err.message }, 'tcp connection error'));
    socket.on('close', () => {
      flows.delete(flowId);
      if (tcpByRemote.get(remoteKey) === flowId) tcpByRemote.delete(remoteKey);
    });
    return flow;
  }

  function connectTcp(to: Peer, onError?: (err: Error) => void): Flow {
    const socket = net.connect({ host: to.address, port: to.port });
    if (onError) socket.once('error', onError);
    return adoptTcp(socket, to.address, to.port);
  }

  const { udp, port: bound } = await bindUdpAndTcp(createUdp, tcpServer, options);
  let ws: WebSocketServer | null = null;
  try {
    if (options.wsPort !== null) ws = await listenWebSocket(options, adoptWebSocket);
  } catch (err) {
    await Promise.all([new Promise<void>((resolve) => udp.close(() => resolve())), new Promise<void>((resolve) => tcpServer.close(() => resolve()))]);
    throw err;
  }

  function adoptWebSocket(socket: WebSocket, address: string, port: number): void {
    const flowId = newFlowId();
    const peer: Peer = { protocol: 'WS', address, port, flowId };
    // Messages go out as text frames (RFC 7118), as browsers and SIP.js expect.
    flows.set(flowId, { peer, write: (bytes) => socket.send(bytes.toString('utf8')), close: () => socket.terminate() });
    socket.on('message', (data: Buffer | ArrayBuffer | Buffer[]) => deliver(toBuffer(data), peer));
    socket.on('error', (err) => log.debug({ event: 'sip-transport', transport: 'ws', err: err.message }, 'websocket error'));
    socket.on('close', () => flows.delete(flowId));
  }

  return {
    ports: { sip: bound, ws: ws ? (ws.address() as net.AddressInfo).port : null },
    udpReceiveBufferBytes: udp.getRecvBufferSize(),
    flow: (flowId) => flows.get(flowId)?.peer,
    send(to, bytes, onError) {
      try {
        if (to.protocol === 'UDP') {
          udp.send(bytes, to.port, to.address, (err) => err && onError?.(err));
          return;
        }
        const known = to.flowId ?? (to.protocol === 'TCP' ? tcpByRemote.get(`${to.address}:${to.port}`) : undefined);
        const flow = known ? flows.get(known) : undefined;
        if (flow) flow.write(bytes);
        else if (to.protocol === 'TCP' && !to.flowId) connectTcp(to, onError).write(bytes);
        else onError?.(new Error(`no ${to.protocol} connection to ${to.address}:${to.port}`));
      } catch (err) {
        onError?.(err as Error);
      }
    },
    async close() {
      for (const flow of flows.values()) flow.close();
      flows.clear();
      await Promise.all([
        new Promise<void>((resolve) => udp.close(() => resolve())),
        new Promise<void>((resolve) => tcpServer.close(() => resolve())),
        ws ? new Promise<void>((resolve) => ws.close(() => resolve())) : Promise.resolve(),
      ]);
    },
  };
}

/** Binds UDP first, then TCP on the same port; with port 0 retries when TCP finds it taken. */
async function bindUdpAndTcp(
  createUdp: () => dgram.Socket,
  tcp: net.Server,
  options: TransportOptions,
): Promise<{ udp: dgram.Socket; port: number }> {
  for (let attempt = 0; ; attempt++) {
    const udp = createUdp();
    const port = await new Promise<number>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(options.port, options.host, () => {
        udp.off('error', reject);
        resolve(udp.address().port);
      });
    });
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen(port, options.host, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
      return { udp, port };
    } catch (err) {
      await new Promise<void>((resolve) => udp.close(() => resolve()));
      if (options.port !== 0 || attempt >= 5 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE') throw err;
    }
  }
}

function listenWebSocket(options: TransportOptions, adopt: (socket: WebSocket, address: string, port: number) => void): Promise<WebSocketServer> {
  return new Promise((resolve, reject) => {
    const server = new WebSocketServer({
      host: options.host,
      port: options.wsPort!,
      // Frames past the cap are read (up to this hard limit) so the request can still get a 413.
      maxPayload: options.maxMessageBytes * WS_HARD_LIMIT_FACTOR,
      handleProtocols: (protocols) => (protocols.has('sip') ? 'sip' : false),
    });
    server.once('error', reject);
    server.once('listening', () => {
      server.off('error', reject);
      server.on('error', (err) => options.logger.error({ event: 'sip-transport', transport: 'ws', err: err.message }, 'websocket server error'));
      resolve(server);
    });
    server.on('connection', (socket, request) => {
      adopt(socket, normalise(request.socket.remoteAddress), request.socket.remotePort ?? 0);
    });
  });
}

function newFlowId(): string {
  return randomBytes(9).toString('base64url');
}

function normalise(address: string | undefined): string {
  if (!address) return '';
  return address.startsWith('::ffff:') && net.isIPv4(address.slice(7)) ? address.slice(7) : address;
}

function headOf(bytes: Buffer): Buffer {
  const end = bytes.indexOf('\r\n\r\n');
  return end < 0 ? Buffer.alloc(0) : bytes.subarray(0, end + 4);
}

function toBuffer(data: Buffer | ArrayBuffer | Buffer[]): Buffer {
  if (Buffer.isBuffer(data)) return data;
  if (Array.isArray(data)) return Buffer.concat(data);
  return Buffer.from(data);
}
