/**
 * A private redis-server for tests that stop, slow, kill or restart the store: on a free
 * ephemeral port with its own directory (append-only file, so a relaunched server keeps its
 * data), DEBUG allowed from loopback (for `DEBUG SLEEP`). Never the shared one.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { eventually } from './eventually.js';

export class PrivateRedis {
  private process: ChildProcess | null = null;

  private constructor(
    readonly port: number,
    private readonly dir: string,
  ) {}

  static async start(): Promise<PrivateRedis> {
    const server = new PrivateRedis(await freePort(), await mkdtemp(join(tmpdir(), 'cmr-redis-')));
    await server.launch();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Kills the server at once (no save, no goodbye), like a crash or a lost node. */
  async kill(): Promise<void> {
    const child = this.process;
    this.process = null;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      child.once('exit', () => resolve());
      child.kill('SIGKILL');
    });
  }

  /** Starts it (again) on the same port with the data it had written. */
  launch(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', '',
        '--appendonly', 'yes', '--appendfsync', 'always', '--enable-debug-command', 'local', '--logfile', '',
      ],
      { stdio: 'ignore' },
    );
    this.process = child;
    return waitForRedis(this.port);
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** Starts a private redis-server (see `PrivateRedis`). */
export function startRedisServer(): Promise<PrivateRedis> {
  return PrivateRedis.start();
}

/** A loopback TCP port nobody listens on right now. */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Waits until the redis-server on `port` answers and `ready` says it is ready (by default: it
 * answers PING). Polls with a fresh connection each time, as a starting server has no event to await.
 */
export async function waitForRedis(port: number, ready: (client: Redis) => Promise<boolean> = async (c) => (await c.ping()) === 'PONG', timeoutMs = 10_000): Promise<void> {
  await eventually(async () => {
    const client = new Redis({ port, host: '127.0.0.1', lazyConnect: true, maxRetriesPerRequest: 0, retryStrategy: () => null });
    client.on('error', () => undefined);
    try {
      await client.connect();
      if (!(await ready(client))) throw new Error(`redis-server on port ${port} is not ready`);
    } finally {
      client.disconnect();
    }
  }, timeoutMs);
}
