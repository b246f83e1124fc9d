/**
 * The tests' scripted drachtio peer (`test/support/drachtio-peer`) run in a child process by the
 * project's tsx (`drachtio-peer-main.ts`), so that the app under measurement and the scripted
 * peer (playing the server's side of drachtio's wire protocol and the SIP network) do not share a
 * process's CPU time.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import readline from 'node:readline';

const MAIN = path.join(import.meta.dirname, 'drachtio-peer-main.ts');
const START_TIMEOUT_MS = 30_000;

export class PeerProcess {
  private readonly pending: Array<(line: Record<string, number>) => void> = [];

  private constructor(
    private readonly child: ChildProcess,
    lines: readline.Interface,
    /** The admin port apps connect to, and where SIP peers send. */
    readonly port: number,
    readonly sipHost: string,
    readonly sipPort: number,
  ) {
    lines.on('line', (line) => this.pending.shift()?.(JSON.parse(line) as Record<string, number>));
  }

  static async start(secret: string): Promise<PeerProcess> {
    const child = spawn(process.execPath, ['--import', 'tsx', MAIN, secret], { stdio: ['pipe', 'pipe', 'inherit'] });
    const lines = readline.createInterface({ input: child.stdout });
    // An interrupted run exits; the peer's stdin closes with it and it ends too.
    const first = await new Promise<{ port: number; sipHost: string; sipPort: number }>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('the drachtio peer process did not start')), START_TIMEOUT_MS);
      child.once('exit', (code) => reject(new Error(`the drachtio peer process exited (${code}) before listening`)));
      lines.once('line', (line) => {
        clearTimeout(timer);
        resolve(JSON.parse(line) as { port: number; sipHost: string; sipPort: number });
      });
    });
    child.removeAllListeners('exit');
    return new PeerProcess(child, lines, first.port, first.sipHost, first.sipPort);
  }

  /** The peer process's CPU time so far (user + system), ms. */
  cpuMs(): Promise<number> {
    return new Promise((resolve) => {
      this.pending.push((line) => resolve(line['cpuMs']!));
      this.child.stdin!.write('cpu\n');
    });
  }

  async close(): Promise<void> {
    const exited = new Promise((resolve) => this.child.once('exit', resolve));
    this.child.stdin!.end();
    await exited;
  }
}
