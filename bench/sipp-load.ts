/**
 * One load step with sipp: a called UA (UAS) listening, then a caller placing `calls` calls at
 * `rate` calls per second through the server, over UDP.
 *
 * Figures come from sipp's own files, written in a temporary directory:
 * - calls placed, successful and failed, and retransmissions: the final line of the caller's
 *   statistics file (`-trace_stat`), cumulative counters;
 * - latency: every response time of every call (`-trace_rtt`, one line per measure, sipp's clock
 *   in whole milliseconds), so percentiles are exact over all calls rather than read from the
 *   bucketed repartition table; response time 1 is INVITE→180, 2 is the copy INFO→200;
 * - the rate achieved: calls measured over the span of their 180s.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { waitForListener } from '../test/support/sip/sockets.js';
import { stoppedOnInterrupt } from './run.js';
import { percentiles, round, type Percentiles } from './stats.js';

export interface LoadStep {
  rate: number;
  calls: number;
  /** The caller's scenario file and the server it calls. */
  caller: { scenario: string; ip: string; port: number; keys: Record<string, string> };
  server: { ip: string; port: number };
  /** The called UA's scenario file, listening on ip:port. */
  called: { scenario: string; ip: string; port: number };
  /** Lines of a sipp injection file (`[field0]`… in the caller's scenario), one per call. */
  injection?: string[];
}

export interface LoadResult {
  targetCps: number;
  /** Calls asked for, and calls sipp placed (fewer when the step ran out of time). */
  asked: number;
  calls: number;
  successful: number;
  failed: number;
  retransmissions: number;
  /** Calls per second actually placed: calls measured over the span of their 180s. */
  achievedCps: number | null;
  /** Response times in ms by sipp response-time number. */
  responseTimes: Record<string, Percentiles | null>;
}

/** A call that waits this long for an expected message fails (then counted, not hung). */
const RECEIVE_TIMEOUT_MS = 8000;
/** UDP socket buffers of sipp, so bursts are not dropped on its side. */
const SIPP_BUFFER_BYTES = 4 * 1024 * 1024;

export async function runLoadStep(step: LoadStep): Promise<LoadResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cmr-bench-sipp-'));
  const file = (name: string) => path.join(dir, name);
  const common = ['-t', 'u1', '-nostdin', '-buff_size', String(SIPP_BUFFER_BYTES), '-trace_stat', '-fd', '3600'];
  // The whole step is bounded: placing the calls, then every call's longest wait.
  const timeoutSec = Math.ceil(step.calls / step.rate) + RECEIVE_TIMEOUT_MS / 1000 + 10;
  try {
    const uas = startSipp(
      [...common, '-sf', step.called.scenario, '-i', step.called.ip, '-p', String(step.called.port), '-m', String(step.calls), '-stf', file('called.csv'), '-timeout', `${timeoutSec + 5}s`],
      dir,
    );
    await waitForListener(step.called.ip, step.called.port, 'udp');
    if (step.injection) await writeFile(file('callers.csv'), ['SEQUENTIAL', ...step.injection].join('\n') + '\n');
    const uac = startSipp(
      [
        ...common,
        '-sf', step.caller.scenario,
        `${step.server.ip}:${step.server.port}`,
        '-i', step.caller.ip,
        '-p', String(step.caller.port),
        '-r', String(step.rate),
        '-rp', '1000',
        '-m', String(step.calls),
        // No cap on open calls below what the rate asks: a slow server shows as latency and failures.
        '-l', String(Math.max(1000, step.rate * 10)),
        '-recv_timeout', String(RECEIVE_TIMEOUT_MS),
        '-timeout', `${timeoutSec}s`,
        '-trace_rtt', '-rtt_freq', '1',
        '-stf', file('caller.csv'),
        ...(step.injection ? ['-inf', file('callers.csv')] : []),
        ...Object.entries(step.caller.keys).flatMap(([k, v]) => ['-key', k, v]),
      ],
      dir,
    );
    const stopBoth = () => {
      uac.child.kill('SIGTERM');
      uas.child.kill('SIGTERM');
    };
    const callerExit = await stoppedOnInterrupt(stopBoth, uac.exited);
    // The called UA exits by itself after its last call; after a failed step it is told to stop.
    const stopUas = setTimeout(() => uas.child.kill('SIGTERM'), 2000);
    await stoppedOnInterrupt(stopBoth, uas.exited);
    clearTimeout(stopUas);

    const stats = await finalStats(file('caller.csv'));
    if (!stats) throw new Error(`sipp caller produced no statistics (exit ${callerExit}):\n${uac.stderr()}`);
    const rtt = await responseTimes(dir, path.basename(step.caller.scenario, '.xml'));
    const invites = rtt.get('1') ?? [];
    return {
      targetCps: step.rate,
      asked: step.calls,
      calls: stats.count('TotalCallCreated'),
      successful: stats.count('SuccessfulCall(C)'),
      failed: stats.count('FailedCall(C)'),
      retransmissions: stats.count('Retransmissions(C)'),
      achievedCps: achievedRate(invites.map((m) => m.at)),
      responseTimes: Object.fromEntries([...rtt].map(([id, measures]) => [id, percentiles(measures.map((m) => m.ms))])),
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

interface SippProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  stderr(): string;
}

function startSipp(args: string[], cwd: string): SippProcess {
  const child = spawn('sipp', args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve(code));
  });
  return { child, exited, stderr: () => stderr.trim() };
}

/** The last line of a `-trace_stat` file, read by column name. */
async function finalStats(file: string): Promise<{ count(column: string): number } | null> {
  const lines = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter((line) => line.trim() !== '');
  if (lines.length < 2) return null;
  const header = lines[0]!.split(';');
  const last = lines[lines.length - 1]!.split(';');
  return {
    count(column) {
      const index = header.indexOf(column);
      if (index < 0) throw new Error(`sipp statistics have no column ${column}`);
      return Number(last[index]);
    },
  };
}

interface Measure {
  at: number;
  ms: number;
}

/** `<scenario>_<pid>_rtt.csv`: `Date_ms;response_time_ms;rtd_no`, one line per measure. */
async function responseTimes(dir: string, scenario: string): Promise<Map<string, Measure[]>> {
  const name = (await readdir(dir)).find((f) => f.startsWith(`${scenario}_`) && f.endsWith('_rtt.csv'));
  const byId = new Map<string, Measure[]>();
  if (!name) return byId;
  for (const line of (await readFile(path.join(dir, name), 'utf8')).split('\n').slice(1)) {
    const [at, ms, id] = line.trim().split(';');
    if (!id) continue;
    const list = byId.get(id) ?? [];
    list.push({ at: Number(at), ms: Number(ms) });
    byId.set(id, list);
  }
  return byId;
}

function achievedRate(times: number[]): number | null {
  if (times.length < 2) return null;
  const span = (times.reduce((a, b) => Math.max(a, b)) - times.reduce((a, b) => Math.min(a, b))) / 1000;
  return span > 0 ? round((times.length - 1) / span, 1) : null;
}
