/**
 * How the front meets drachtio-server, behind one interface: inbound, it keeps one connection to
 * drachtio-server's admin port (re-established on its own); outbound, drachtio-server connects to
 * it for each call (or lone request) and the front closes that connection once nothing needs it.
 * Either way a request arrives on a connection, and a call lives and dies with the connection its
 * INVITE came on.
 */
import type { Socket } from 'node:net';
import type { Config } from '../../src/config/config.js';
import type { Logger } from '../../src/observability/logger.js';
import { OutboundConnections } from './outbound-connections.js';
import { closeConnection, type Srf, type SrfRequest } from './srf.js';

export interface DrachtioLink {
  /** Connected and authenticated (inbound), or listening (outbound, where no connection at all is the normal idle state). */
  readonly ready: boolean;
  /** Outbound: the port drachtio-server connects to; inbound: null. */
  readonly listeningPort: number | null;
  /** Starts connecting or listening; rejects when it cannot listen. */
  start(): Promise<void>;
  /** Keeps open the connection `req` came on until the returned function is called (once). */
  hold(req: SrfRequest): () => void;
  /** Ends the link for good; `graceMs`: how long open connections get to finish (outbound). */
  close(graceMs: number): Promise<void>;
}

/** Told when a connection that may carry calls is gone: those calls can no longer be heard of nor acted on. */
export type ConnectionLost = (connection: Socket) => void;

/** Longest pause between reconnection attempts to drachtio-server. */
const RECONNECT_MAX_DELAY_MS = 2000;

export function drachtioLink(srf: Srf, connection: NonNullable<Config['drachtio']>, log: Logger, lost: ConnectionLost): DrachtioLink {
  return connection.mode === 'outbound' ? new OutboundLink(srf, connection, log, lost) : new InboundLink(srf, connection, log, lost);
}

/** What either link works with. */
abstract class Link {
  constructor(
    protected readonly srf: Srf,
    protected readonly options: NonNullable<Config['drachtio']>,
    protected readonly log: Logger,
    protected readonly lost: ConnectionLost,
  ) {}
}

class InboundLink extends Link implements DrachtioLink {
  private connected = false;
  private refusalLogged = false;
  readonly listeningPort = null;

  get ready(): boolean {
    return this.connected;
  }

  start(): Promise<void> {
    const { host, port, secret, mode } = this.options;
    this.srf.on('connect', (err, hostports) => this.onConnect(err, hostports));
    this.srf.on('error', (err, socket) => this.onGone(err.message, socket));
    this.srf.on('close', (socket) => this.onGone('closed', socket));
    this.srf.connect({ host, port, secret, enablePing: true, reconnect: { retryMaxDelay: RECONNECT_MAX_DELAY_MS } });
    this.log.info({ event: 'drachtio', mode, host, port }, 'connecting to drachtio-server');
    return Promise.resolve();
  }

  hold(): () => void {
    return () => {};
  }

  close(): Promise<void> {
    closeConnection(this.srf);
    this.connected = false;
    this.log.info({ event: 'drain' }, 'disconnected from drachtio-server');
    return Promise.resolve();
  }

  private onConnect(err: Error | null, hostports: string): void {
    if (err) {
      this.connected = false;
      // Logged once per outage: drachtio-srf keeps retrying every few seconds.
      if (!this.refusalLogged) this.log.error({ event: 'drachtio', err: err.message }, 'drachtio-server refused the connection (check CMR_DRACHTIO_SECRET)');
      this.refusalLogged = true;
      return;
    }
    this.connected = true;
    this.refusalLogged = false;
    this.log.info({ event: 'drachtio', hostports }, 'connected to drachtio-server');
  }

  /** drachtio-srf reports a dropped connection as an error, a close, or both: the calls on it are lost once. */
  private onGone(reason: string, socket: Socket | undefined): void {
    if (!this.connected) return;
    this.connected = false;
    this.log.warn({ event: 'drachtio', reason }, 'lost the drachtio-server connection; reconnecting');
    if (socket) this.lost(socket);
  }
}

class OutboundLink extends Link implements DrachtioLink {
  private connections: OutboundConnections | null = null;

  get ready(): boolean {
    return this.connections?.listening ?? false;
  }

  get listeningPort(): number | null {
    return this.connections?.port ?? null;
  }

  async start(): Promise<void> {
    const { host, port, secret, mode } = this.options;
    this.srf.on('connect', (err, hostports) => {
      // One connection per call: a refused secret costs that call, so every refusal is logged.
      if (err) this.log.error({ event: 'drachtio', err: err.message }, 'drachtio-server refused a connection for a call (check CMR_DRACHTIO_SECRET)');
      else this.log.debug({ event: 'drachtio', hostports, connections: this.connections?.size }, 'drachtio-server connected for a call');
    });
    // drachtio-srf emits no errors for accepted connections, but an 'error' without a listener would crash the process.
    this.srf.on('error', (err) => this.log.warn({ event: 'drachtio', err: err.message }, 'drachtio-server connection error'));
    this.srf.on('close', (socket) => this.lost(socket));
    this.connections = await OutboundConnections.listen(this.srf, { host, port, secret }, this.log);
    this.log.info({ event: 'drachtio', mode, host, port: this.connections.port }, 'listening for drachtio-server');
  }

  hold(req: SrfRequest): () => void {
    return this.connections?.hold(req) ?? (() => {});
  }

  async close(graceMs: number): Promise<void> {
    await this.connections?.close(graceMs);
    this.log.info({ event: 'drain' }, 'stopped listening for drachtio-server');
  }
}
