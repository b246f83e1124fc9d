/**
 * Runs sipp scenarios from `sip/scenarios/` as child processes: one called UA (UAS) and one
 * caller (UAC) per call, each with `-m 1` and its own timeout. A run that does not exit 0 throws
 * with sipp's errors, its `<log>` lines and the messages it saw. A load run places many calls at
 * a rate, each caller taking its fields from an injection file, until told to stop.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { waitForListener } from './sockets.js';

export const SCENARIOS = fileURLToPath(new URL('../../../sip/scenarios/', import.meta.url));
export type SipTransport = 'udp' | 'tcp';

export interface SippRun {
  scenario: string;
  transport: SipTransport;
  local: { ip: string; port: number };
  /** The server, for a caller. */
  remote?: { ip: string; port: number };
  keys?: Record<string, string>;
  vars?: Record<string, string>;
  /** Call-ID of a caller's call (sipp's `-cid_str`), so the test can look the call up afterwards. */
  callId?: string;
  timeoutSec?: number;
  /** Load: calls to place at most (default 1), calls per second, and rows of `[fieldN]` values for the calls in turn. */
  calls?: number;
  rate?: number;
  injection?: string[][];
}

export interface SippResult {
  scenario: string;
  code: number | null;
  report: string;
  /** The `<log>` lines of the run, in order. */
  logs: string[];
  /** sipp's error file (unexpected messages, failed calls). */
  errors: string;
}

export interface SippProcess {
  /** Soft exit (SIGUSR1): no new calls, the calls under way finish, then sipp exits. */
  stop(): void;
  done: Promise<SippResult>;
}

export function runSipp(run: SippRun): Promise<SippResult> {
  return startSipp(run).done;
}

export function startSipp(run: SippRun): SippProcess {
  let child: ChildProcess | undefined;
  let stopRequested = false;
  const done = (async () => {
    const scenario = path.join(SCENARIOS, run.scenario);
    const declared = await declaredVariables(scenario);
    const dir = await mkdtemp(path.join(tmpdir(), 'sipp-'));
    const file = (name: string) => path.join(dir, name);
    const timeoutSec = run.timeoutSec ?? 10;
    if (run.injection) await writeFile(file('injection.csv'), ['SEQUENTIAL', ...run.injection.map((row) => `${row.join(';')};`)].join('\n'));
    const args = [
      '-sf', scenario,
      ...(run.remote ? [`${run.remote.ip}:${run.remote.port}`] : []),
      '-t', run.transport === 'udp' ? 'u1' : 't1',
      '-i', run.local.ip,
      '-p', String(run.local.port),
      '-m', String(run.calls ?? 1),
      ...(run.rate ? ['-r', String(run.rate)] : []),
      ...(run.injection ? ['-inf', file('injection.csv')] : []),
      '-timeout', `${timeoutSec}s`,
      '-timeout_error',
      '-nostdin',
      ...(run.callId ? ['-cid_str', run.callId.replace(/%/g, '%%')] : []),
      '-trace_err', '-error_file', file('errors.log'),
      '-trace_logs', '-log_file', file('actions.log'),
      // A load run's message trace would be large; one call's is what a failure report needs.
      ...((run.calls ?? 1) === 1 ? ['-trace_msg', '-message_file', file('messages.log')] : []),
      ...Object.entries(run.keys ?? {}).flatMap(([k, v]) => ['-key', k, v]),
      // sipp refuses to set a variable its scenario does not declare: pass only what it asks for.
      ...Object.entries(run.vars ?? {}).filter(([k]) => declared.has(k)).flatMap(([k, v]) => ['-set', k, v]),
    ];
    try {
      const sipp = spawn('sipp', args, { stdio: ['ignore', 'ignore', 'pipe'] });
      child = sipp;
      if (stopRequested) sipp.kill('SIGUSR1');
      let stderr = '';
      sipp.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
      // sipp stops itself at -timeout; this only guards against a sipp that hangs.
      const guard = setTimeout(() => sipp.kill('SIGKILL'), (timeoutSec + 5) * 1000);
      const code = await new Promise<number | null>((resolve) => {
        sipp.on('error', () => resolve(null));
        sipp.on('close', (exit) => resolve(exit));
      });
      clearTimeout(guard);
      const read = async (name: string) => readFile(file(name), 'utf8').catch(() => '');
      const [errors, actions] = [await read('errors.log'), await read('actions.log')];
      const report = [
        `--- sipp ${run.scenario} (${run.transport}) exited ${code}`,
        stderr.trim(),
        `--- errors\n${errors.trim()}`,
        `--- log actions\n${actions.trim()}`,
        `--- messages\n${(await read('messages.log')).trim()}`,
      ].join('\n');
      return { scenario: run.scenario, code, report, logs: actions.split('\n').filter((line) => line.trim().length > 0), errors };
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  })();
  return {
    stop() {
      stopRequested = true;
      child?.kill('SIGUSR1');
    },
    done,
  };
}

async function declaredVariables(scenario: string): Promise<Set<string>> {
  const text = await readFile(scenario, 'utf8');
  const names = [...text.matchAll(/<Global variables="([^"]*)"/g)].flatMap((m) => m[1]!.split(','));
  return new Set(names.map((n) => n.trim()));
}

/** One call: the called UA starts and listens, then the caller places the call; both must succeed. */
export async function runCall(called: SippRun, caller: SippRun): Promise<void> {
  const uas = runSipp(called);
  await waitForListener(called.local.ip, called.local.port, called.transport);
  const results = await Promise.all([uas, runSipp(caller)]);
  const failed = results.filter((r) => r.code !== 0);
  if (failed.length > 0) throw new Error(`sipp failed:\n${results.map((r) => r.report).join('\n\n')}`);
}
