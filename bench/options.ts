/**
 * What one benchmark run does: flags first, then environment variables, then the defaults of a
 * full run. `--smoke` is the CI run: tiny steps of a few seconds, every part still exercised.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
export const RESULTS_DIR = path.join(BENCH_DIR, 'results');

export const PARTS = ['calls', 'copies', 'management', 'growth', 'media', 'parser', 'overload', 'drachtio'] as const;
export type Part = (typeof PARTS)[number];

export interface BenchOptions {
  smoke: boolean;
  /** The parts run (all by default); a run of some parts writes only those. */
  parts: Part[];
  /** Where `<timestamp>.json` and `latest.json` go. */
  outDir: string;
  /** Call rates tried, calls per second, each for `stepSec` (the calls and drachtio parts). */
  callSteps: number[];
  /** The sustained rate the overload part multiplies when the calls part did not run, calls/s. */
  overloadBaseCps: number;
  /** Copy-call rates tried (each call copies once with INFO), per second. */
  copySteps: number[];
  stepSec: number;
  /** REST copies per charging mode. */
  restCopies: number;
  /** Seconds of load on each HTTP route of the management part. */
  httpSec: number;
  /** Concurrent HTTP connections of the REST parts. */
  connections: number;
  /** Presenting sessions and library entries written for the memory figures. */
  memorySamples: number;
  /** Calls driven through the call service for the round-trip count. */
  costCalls: number;
  /** Library sizes of the selection growth figures, and selections timed at each. */
  librarySizes: number[];
  selections: number;
  /** The server's log level during the run (its lines would go to stdout with the table). */
  logLevel: string;
  redisUrl: string;
}

const FULL = {
  callSteps: [100, 200, 400, 800, 1600],
  overloadBaseCps: 400,
  copySteps: [25, 50, 100, 200, 400],
  stepSec: 10,
  restCopies: 2000,
  httpSec: 10,
  connections: 16,
  memorySamples: 10_000,
  costCalls: 1000,
  librarySizes: [10, 100, 1000],
  selections: 500,
};

const SMOKE: typeof FULL = {
  callSteps: [20],
  overloadBaseCps: 10,
  copySteps: [20],
  stepSec: 2,
  restCopies: 40,
  httpSec: 1,
  connections: 4,
  memorySamples: 200,
  costCalls: 20,
  librarySizes: [10, 100, 1000],
  selections: 10,
};

const USAGE = `usage: npm run bench -- [options]
  --smoke                  a few seconds per part (CI); results go to a temporary directory unless --out
  --parts calls,copies,…   only these of calls, copies, management, growth, media, parser, overload,
                           drachtio (BENCH_PARTS)
  --out DIR                write <timestamp>.json and latest.json there (default bench/results)
  --steps 100,200,…        call rates, calls/s                  (BENCH_STEPS)
  --overload-base N        overload part: the sustained rate 2× and 3× are of, when the
                           calls part does not run in the same run  (BENCH_OVERLOAD_BASE)
  --copy-steps 100,200,…   copy-call rates, calls/s              (BENCH_COPY_STEPS)
  --step-sec N             seconds of load per step              (BENCH_STEP_SEC)
  --rest-copies N          REST copies per charging mode         (BENCH_REST_COPIES)
  --http-sec N             seconds per management route          (BENCH_HTTP_SEC)
  --connections N          concurrent HTTP connections           (BENCH_CONNECTIONS)
  --memory-samples N       sessions and library entries measured (BENCH_MEMORY_SAMPLES)
  --log-level LEVEL        server log level (default error)      (BENCH_LOG_LEVEL)
  environment: CMR_REDIS_URL (default redis://127.0.0.1:6379)`;

export class UsageError extends Error {
  override readonly name = 'UsageError';
  readonly usage = USAGE;
}

export function parseOptions(argv: readonly string[], env: NodeJS.ProcessEnv, tempDir: () => string): BenchOptions {
  const flags = new Map<string, string>();
  let smoke = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--smoke') smoke = true;
    else if (arg === '--help' || arg === '-h') throw new UsageError('');
    else if (arg.startsWith('--') && i + 1 < argv.length) flags.set(arg.slice(2), argv[++i]!);
    else throw new UsageError(`unknown argument: ${arg}`);
  }
  const known = ['parts', 'out', 'steps', 'overload-base', 'copy-steps', 'step-sec', 'rest-copies', 'http-sec', 'connections', 'memory-samples', 'log-level'];
  for (const name of flags.keys()) if (!known.includes(name)) throw new UsageError(`unknown option: --${name}`);

  const base = smoke ? SMOKE : FULL;
  const setting = (flag: string, variable: string) => flags.get(flag) ?? env[variable];
  const count = (flag: string, variable: string, fallback: number) => {
    const raw = setting(flag, variable);
    if (raw === undefined) return fallback;
    const value = Number(raw);
    if (!Number.isInteger(value) || value < 1) throw new UsageError(`--${flag}: a positive integer, got "${raw}"`);
    return value;
  };
  const rates = (flag: string, variable: string, fallback: number[]) => {
    const raw = setting(flag, variable);
    if (raw === undefined) return fallback;
    const values = raw.split(',').map((part) => Number(part.trim()));
    if (values.length === 0 || values.some((v) => !Number.isInteger(v) || v < 1)) throw new UsageError(`--${flag}: comma-separated positive integers, got "${raw}"`);
    return values;
  };
  const out = setting('out', 'BENCH_OUT');
  const parts = (setting('parts', 'BENCH_PARTS') ?? PARTS.join(',')).split(',').map((p) => p.trim());
  const unknown = parts.filter((p) => !(PARTS as readonly string[]).includes(p));
  if (unknown.length > 0 || parts.length === 0) throw new UsageError(`--parts: some of ${PARTS.join(', ')}, got "${unknown.join(',')}"`);
  return {
    smoke,
    parts: parts as Part[],
    outDir: out ? path.resolve(out) : smoke ? tempDir() : RESULTS_DIR,
    callSteps: rates('steps', 'BENCH_STEPS', base.callSteps),
    overloadBaseCps: count('overload-base', 'BENCH_OVERLOAD_BASE', base.overloadBaseCps),
    copySteps: rates('copy-steps', 'BENCH_COPY_STEPS', base.copySteps),
    stepSec: count('step-sec', 'BENCH_STEP_SEC', base.stepSec),
    restCopies: count('rest-copies', 'BENCH_REST_COPIES', base.restCopies),
    httpSec: count('http-sec', 'BENCH_HTTP_SEC', base.httpSec),
    connections: count('connections', 'BENCH_CONNECTIONS', base.connections),
    memorySamples: count('memory-samples', 'BENCH_MEMORY_SAMPLES', base.memorySamples),
    costCalls: base.costCalls,
    librarySizes: base.librarySizes,
    selections: base.selections,
    logLevel: setting('log-level', 'BENCH_LOG_LEVEL') ?? 'error',
    redisUrl: env['CMR_REDIS_URL'] ?? 'redis://127.0.0.1:6379',
  };
}
