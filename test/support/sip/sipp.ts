/**
 * Runs sipp scenarios from `sip/scenarios/` as child processes: one called UA (UAS) and one
 * caller (UAC) per call, each with `-m 1` and its own timeout. A run that does not exit 0 throws
 * with sipp's errors, its `<log>` lines and the messages it saw.
 */
import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
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
}

export interface SippResult {
  scenario: string;
  code: number | null;
  report: string;
}

export async function runSipp(run: SippRun): Promise<SippResult> {
  const scenario = path.join(SCENARIOS, run.scenario);
  const declared = await declaredVariables(scenario);
  const dir = await mkdtemp(path.join(tmpdir(), 'sipp-'));
  const file = (name: string) => path.join(dir, name);
  const timeoutSec = run.timeoutSec ?? 10;
  const args = [
    '-sf', scenario,
    ...(run.remote ? [`${run.remote.ip}:${run.remote.port}`] : []),
    '-t', run.transport === 'udp' ? 'u1' : 't1',
    '-i', run.local.ip,
    '-p', String(run.local.port),
    '-m', '1',
    '-timeout', `${timeoutSec}s`,
    '-timeout_error',
    '-nostdin',
    ...(run.callId ? ['-cid_str', run.callId.replace(/%/g, '%%')] : []),
    '-trace_err', '-error_file', file('errors.log'),
    '-trace_logs', '-log_file', file('actions.log'),
    '-trace_msg', '-message_file', file('messages.log'),
    ...Object.entries(run.keys ?? {}).flatMap(([k, v]) => ['-key', k, v]),
    // sipp refuses to set a variable its scenario does not declare: pass only what it asks for.
    ...Object.entries(run.vars ?? {}).filter(([k]) => declared.has(k)).flatMap(([k, v]) => ['-set', k, v]),
  ];
  try {
    const child = spawn('sipp', args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    // sipp stops itself at -timeout; this only guards against a sipp that hangs.
    const guard = setTimeout(() => child.kill('SIGKILL'), (timeoutSec + 5) * 1000);
    const code = await new Promise<number | null>((resolve) => {
      child.on('error', () => resolve(null));
      child.on('close', (exit) => resolve(exit));
    });
    clearTimeout(guard);
    const read = async (name: string) => readFile(file(name), 'utf8').catch(() => '');
    const report = [
      `--- sipp ${run.scenario} (${run.transport}) exited ${code}`,
      stderr.trim(),
      `--- errors\n${(await read('errors.log')).trim()}`,
      `--- log actions\n${(await read('actions.log')).trim()}`,
      `--- messages\n${(await read('messages.log')).trim()}`,
    ].join('\n');
    return { scenario: run.scenario, code, report };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
