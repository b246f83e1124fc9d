/**
 * The drachtio front in outbound mode: instead of connecting to drachtio-server, the app listens
 * and drachtio-server connects to it for each call (or lone request) its request handlers route
 * here, which lets drachtio-server choose among several app instances.
 *
 * drachtio-server never closes such a connection when the call is over: it keeps it until the
 * app closes it (drachtio-srf's `endSession`), or it would stay open for good. So a connection is
 * held while a request on it is being handled and while a call on it is up, until the last BYE
 * of that call has its answer; once nothing holds it, it is closed.
 */
import type { Server, Socket } from 'node:net';
import type { Logger } from '../../src/observability/logger.js';
import { AwaitedCondition } from './awaited-condition.js';
import type { OutboundListener, Srf, SrfRequest } from './srf.js';

export class OutboundConnections {
  private readonly open = new Set<Socket>();
  private readonly holds = new Map<Socket, number>();
  private readonly allGone = new AwaitedCondition(() => this.open.size === 0);

  private constructor(
    private readonly srf: Srf,
    private readonly server: Server,
  ) {
    server.on('connection', (socket: Socket) => {
      this.open.add(socket);
      socket.once('close', () => {
        this.open.delete(socket);
        this.holds.delete(socket);
        this.allGone.changed();
      });
    });
  }

  /**
   * Listens for drachtio-server; rejects when the address cannot be used (EADDRINUSE, an address
   * not on this host): drachtio-srf does not watch its listening server's errors.
   */
  static async listen(srf: Srf, options: OutboundListener, log: Logger): Promise<OutboundConnections> {
    const server = srf.listen(options);
    const connections = new OutboundConnections(srf, server);
    await new Promise<void>((resolve, reject) => {
      const listening = () => {
        server.off('error', failed);
        resolve();
      };
      const failed = (err: Error) => {
        server.off('listening', listening);
        reject(err);
      };
      server.once('listening', listening);
      server.once('error', failed);
    });
    // Later errors (accept failing for want of file descriptors) must not crash the process.
    server.on('error', (err) => log.error({ event: 'drachtio', err: err.message }, 'listening for drachtio-server failed'));
    return connections;
  }

  get listening(): boolean {
    return this.server.listening;
  }

  /** The port drachtio-server connects to (the one chosen for port 0). */
  get port(): number | null {
    const address = this.server.address();
    return address && typeof address === 'object' ? address.port : null;
  }

  get size(): number {
    return this.open.size;
  }

  /** Holds the connection `req` came on; the returned function lets go of it (once). */
  hold(req: SrfRequest): () => void {
    const socket = req.socket;
    if (socket.destroyed) return () => {};
    this.holds.set(socket, (this.holds.get(socket) ?? 0) + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const held = this.holds.get(socket);
      if (held === undefined) return; // already closed
      if (held > 1) {
        this.holds.set(socket, held - 1);
        return;
      }
      this.holds.delete(socket);
      this.srf.endSession(req);
    };
  }

  /**
   * Stops listening; connections still open (a call's last BYE waiting for its answer) get up to
   * `graceMs` to finish and close, then are cut.
   */
  async close(graceMs: number): Promise<void> {
    const stopped = new Promise<void>((resolve) => this.server.close(() => resolve()));
    if (!(await this.allGone.wait(graceMs))) for (const socket of this.open) socket.destroy();
    await stopped;
  }
}
