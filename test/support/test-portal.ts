/** A test CMR Portal: an HTTP server receiving webhook POSTs, able to fail on demand. */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Delivery {
  eventId: string;
  cursor: string;
  body: { id: string; [key: string]: unknown };
}

export class TestPortal {
  /** Every accepted delivery, duplicates included. */
  readonly deliveries: Delivery[] = [];
  /** Every POST received, accepted or not: event ids in order. */
  readonly attempts: string[] = [];
  private failing = 0;

  private constructor(
    private readonly server: Server,
    readonly url: string,
  ) {}

  static async start(): Promise<TestPortal> {
    const server = createServer();
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const portal = new TestPortal(server, `http://127.0.0.1:${(server.address() as AddressInfo).port}/cmr/activities`);
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const eventId = String(req.headers['x-cmr-event-id'] ?? '');
        portal.attempts.push(eventId);
        if (portal.failing > 0) {
          portal.failing -= 1;
          res.writeHead(500).end();
          return;
        }
        portal.deliveries.push({ eventId, cursor: String(req.headers['x-cmr-event-cursor'] ?? ''), body: JSON.parse(Buffer.concat(chunks).toString('utf8')) });
        res.writeHead(204).end();
      });
    });
    return portal;
  }

  /** Answer the next `n` deliveries with 500 (Infinity: until `recover()`). */
  fail(n = Infinity): void {
    this.failing = n;
  }
  recover(): void {
    this.failing = 0;
  }

  delivered(): Set<string> {
    return new Set(this.deliveries.map((d) => d.eventId));
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
