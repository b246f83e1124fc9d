/**
 * A TCP link between the server and a redis-server that a test can cut at the worst moment: right
 * after a command matching a pattern has been passed on, so Redis carries it out but its reply
 * never reaches the server (the connection is lost with the write landed). While cut, new
 * connections are closed at once, as if Redis were gone; `heal()` lets them through again.
 */
import net from 'node:net';
import { freePort } from './redis-server.js';

export class RedisLink {
  private readonly clients = new Set<net.Socket>();
  private cut = false;
  private armed: { pattern: RegExp; done: () => void } | null = null;

  private constructor(
    private readonly server: net.Server,
    readonly port: number,
  ) {}

  static async start(target: { host: string; port: number }): Promise<RedisLink> {
    const server = net.createServer();
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', () => resolve()));
    const link = new RedisLink(server, port);
    server.on('connection', (client) => link.relay(client, target));
    return link;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Cuts every connection once a command matching `pattern` has gone through; resolves when cut. */
  cutAfter(pattern: RegExp): Promise<void> {
    return new Promise((done) => (this.armed = { pattern, done }));
  }

  heal(): void {
    this.cut = false;
  }

  async close(): Promise<void> {
    for (const client of this.clients) client.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }

  private relay(client: net.Socket, target: { host: string; port: number }): void {
    client.on('error', () => undefined);
    if (this.cut) return void client.destroy();
    this.clients.add(client);
    const upstream = net.connect(target);
    upstream.on('error', () => client.destroy());
    let replies = true;
    upstream.on('data', (chunk) => {
      if (replies) client.write(chunk);
      else upstream.destroy(); // the reply to the command that went through: swallowed
    });
    client.on('data', (chunk) => {
      upstream.write(chunk);
      const armed = this.armed;
      if (!armed || !armed.pattern.test(chunk.toString('latin1'))) return;
      this.armed = null;
      this.cut = true;
      replies = false;
      setTimeout(() => upstream.destroy(), 2000).unref();
      for (const other of this.clients) other.destroy();
      armed.done();
    });
    client.on('close', () => {
      this.clients.delete(client);
      // Keep the upstream side open until Redis has answered what was passed on.
      if (replies) upstream.destroy();
    });
  }
}
