/**
 * Runs the real server entry (`src/main.ts` through tsx) as a child process, as an operator would,
 * and reads its JSON log lines to learn when it listens.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { createInterface } from 'node:readline';

export interface ServerProcess {
  child: ChildProcess;
  httpUrl: string;
  lines: Array<Record<string, unknown>>;
  /** Resolves with the exit code once the process ends. */
  exited: Promise<number | null>;
  waitForLog(predicate: (line: Record<string, unknown>) => boolean, timeoutMs?: number): Promise<Record<string, unknown>>;
}

/** Servers still running when the test process ends (a failed assertion mid-test) are killed with it. */
const running = new Set<ChildProcess>();
process.once('exit', () => {
  for (const child of running) child.kill('SIGKILL');
});

export async function startServerProcess(env: Record<string, string>, timeoutMs = 90_000): Promise<ServerProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, CMR_LOG_LEVEL: 'info', CMR_HTTP_PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const lines: Array<Record<string, unknown>> = [];
  const waiters = new Set<() => void>();
  createInterface({ input: child.stdout }).on('line', (text) => {
    try {
      lines.push(JSON.parse(text) as Record<string, unknown>);
    } catch {
      lines.push({ msg: text });
    }
    for (const wake of waiters) wake();
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  running.add(child);
  const exited = once(child, 'exit').then(([code]) => {
    running.delete(child);
    return code as number | null;
  });

  const waitForLog = (predicate: (line: Record<string, unknown>) => boolean, limit = timeoutMs) =>
    new Promise<Record<string, unknown>>((resolve, reject) => {
      const check = () => {
        const found = lines.find(predicate);
        if (found) {
          cleanup();
          resolve(found);
        }
      };
      const timer = setTimeout(() => {
        cleanup();
        reject(new Error(`log line not seen within ${limit} ms; stderr: ${stderr}`));
      }, limit);
      const onExit = () => {
        cleanup();
        reject(new Error(`server exited; stderr: ${stderr}`));
      };
      const cleanup = () => {
        clearTimeout(timer);
        waiters.delete(check);
        child.off('exit', onExit);
      };
      waiters.add(check);
      child.once('exit', onExit);
      check();
    });

  let listening: Record<string, unknown>;
  try {
    listening = await waitForLog((l) => typeof l['msg'] === 'string' && /Server listening at http:\/\/127\.0\.0\.1:\d+/.test(l['msg']));
  } catch (err) {
    // Never leave a half-started server behind a failed test.
    child.kill('SIGKILL');
    throw err;
  }
  const httpUrl = /(http:\/\/127\.0\.0\.1:\d+)/.exec(listening['msg'] as string)![1]!;
  return { child, httpUrl, lines, exited, waitForLog };
}
