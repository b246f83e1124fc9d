/**
 * A real rtpengine (Debian's rtpengine-daemon, installed by scripts/test-setup.sh) for one test
 * file: userspace only (`--table=-1`), on loopback, its ng control on a free UDP port and its
 * media on a range of its own, started fresh and stopped after. Started with the default delete
 * delay of 30 s, so a test proves the server asks for none itself.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createSocket } from 'node:dgram';
import rtpengine from 'rtpengine-client';
import { eventually } from './eventually.js';

export class TestRtpengine {
  private constructor(
    private readonly child: ChildProcess,
    readonly ngPort: number,
    private readonly output: string[],
  ) {}

  /** `ngPort`: the control port to listen on (a free one by default). */
  static async start(ngPort?: number): Promise<TestRtpengine> {
    ngPort ??= await freeUdpPort();
    const portMin = 20000 + Math.floor(Math.random() * 400) * 100;
    const child = spawn(
      'rtpengine',
      [
        '--config-file=none',
        '--table=-1',
        '--interface=127.0.0.1',
        `--listen-ng=127.0.0.1:${ngPort}`,
        `--port-min=${portMin}`,
        `--port-max=${portMin + 99}`,
        '--foreground',
        '--log-stderr',
        '--log-level=5',
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    const output: string[] = [];
    child.stderr.on('data', (chunk: Buffer) => output.push(chunk.toString()));
    const engine = new TestRtpengine(child, ngPort, output);
    await eventually(() => engine.ping(), 10_000);
    return engine;
  }

  get target(): string {
    return `127.0.0.1:${this.ngPort}`;
  }

  /** The calls rtpengine holds (deleted ones included while their delete delay runs). */
  async callIds(): Promise<string[]> {
    const reply = await this.command((c, t) => c.list(t));
    return (reply['calls'] as string[] | undefined) ?? [];
  }

  async stop(): Promise<void> {
    if (this.child.exitCode !== null || this.child.signalCode !== null) return;
    await new Promise<void>((resolve) => {
      this.child.once('exit', () => resolve());
      this.child.kill('SIGTERM');
    });
  }

  /** Resolves once rtpengine answers a ping; rejects (with what it logged) before that. */
  private async ping(): Promise<void> {
    if (this.child.exitCode !== null) throw new Error(`rtpengine exited: ${this.output.join('')}`);
    const reply = await this.command((c, t) => c.ping(t));
    if (reply.result !== 'pong') throw new Error(`rtpengine answered ping with ${JSON.stringify(reply)}`);
  }

  private async command(run: (client: InstanceType<typeof rtpengine.Client>, target: { host: string; port: number }) => Promise<Record<string, unknown>>): Promise<Record<string, unknown>> {
    const client = new rtpengine.Client({ timeout: 300 });
    client.on('error', () => undefined);
    try {
      return await run(client, { host: '127.0.0.1', port: this.ngPort });
    } finally {
      client.close();
    }
  }
}

/** A UDP port nobody listens on at the moment. */
export async function freeUdpPort(): Promise<number> {
  const socket = createSocket('udp4');
  await new Promise<void>((resolve) => socket.bind(0, '127.0.0.1', resolve));
  const { port } = socket.address();
  await new Promise<void>((resolve) => socket.close(() => resolve()));
  return port;
}
