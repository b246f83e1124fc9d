/**
 * HTTP load with autocannon, run in a worker thread so the load generator never shares the event
 * loop of the server it measures (which listens in this process). Latency percentiles are
 * autocannon's (HdrHistogram of every 2xx response, whole milliseconds).
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { round } from './stats.js';

/** How often a run of requests reads the server's completion count. */
const POLL_MS = 10;

export interface HttpLoadResult {
  requests: number;
  /** 2xx answers. */
  ok: number;
  /** Non-2xx answers and connection errors or timeouts. */
  failed: number;
  /** 2xx answers per second over the run. */
  perSec: number;
  latencyMs: { p50: number; p99: number };
  /** Status codes of the answers (for a run with failures: why). */
  statusCodes: Record<string, number>;
}

export interface PlannedRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/**
 * Load on `url`: for `duration` seconds, or until each of `requests` was sent once. A run of
 * requests ends on autocannon's next whole-second tick, so its own duration overstates the run by
 * up to a second; such a run is timed instead by the server's own count of `completions`, read
 * every few milliseconds: answers per second between the first and the last completion.
 */
export async function httpLoad(
  options: { url: string; connections: number } & (
    | { duration: number; headers?: Record<string, string> }
    | { requests: PlannedRequest[]; completions: () => Promise<number> }
  ),
): Promise<HttpLoadResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cmr-bench-http-'));
  try {
    const plan =
      'duration' in options
        ? { duration: options.duration, ...(options.headers ? { headers: options.headers } : {}) }
        : { amount: options.requests.length, requests: [{ setupRequest: await requestSequence(dir, options.requests) }] };
    // A thenable rather than a promise in workers mode.
    const load = Promise.resolve(autocannon({ url: options.url, connections: options.connections, timeout: 10, workers: 1, ...plan }));
    const timed = 'completions' in options ? await completionRate(options.completions, load) : null;
    const result = await load;
    const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count ?? 0]));
    return {
      requests: result.requests.total,
      ok: result['2xx'],
      failed: result.non2xx + result.errors,
      perSec: timed ?? round(result['2xx'] / result.duration, 1),
      latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
      statusCodes,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Completions per second while `load` runs, between the first and the last change seen (null without two). */
async function completionRate(completions: () => Promise<number>, load: Promise<unknown>): Promise<number | null> {
  let running = true;
  void load.finally(() => (running = false));
  let seen = await completions();
  let first: { at: number; count: number } | null = null;
  let last = { at: 0, count: 0 };
  while (running) {
    await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    const count = await completions();
    if (count === seen) continue;
    seen = count;
    last = { at: performance.now(), count };
    first ??= last;
  }
  return first === null || last.at === first.at ? null : round(((last.count - first.count) * 1000) / (last.at - first.at), 1);
}

/**
 * A `setupRequest` module for the worker (functions cannot cross into it): each request sent
 * takes the next of `requests`.
 */
async function requestSequence(dir: string, requests: PlannedRequest[]): Promise<string> {
  await writeFile(path.join(dir, 'requests.json'), JSON.stringify(requests));
  const module = path.join(dir, 'setup-request.cjs');
  await writeFile(
    module,
    `const requests = require('./requests.json');\nlet next = 0;\nmodule.exports = (request) => Object.assign(request, requests[next++ % requests.length]);\n`,
  );
  return module;
}
