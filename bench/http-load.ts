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

/** Load on `url` for `duration` seconds, or until `requests` were each sent once. */
export async function httpLoad(options: {
  url: string;
  connections: number;
  duration?: number;
  headers?: Record<string, string>;
  requests?: PlannedRequest[];
}): Promise<HttpLoadResult> {
  const dir = await mkdtemp(path.join(tmpdir(), 'cmr-bench-http-'));
  try {
    const sequence = options.requests ? await requestSequence(dir, options.requests) : null;
    const result = await autocannon({
      url: options.url,
      connections: options.connections,
      timeout: 10,
      workers: 1,
      ...(options.duration !== undefined ? { duration: options.duration } : {}),
      ...(options.headers ? { headers: options.headers } : {}),
      ...(sequence ? { amount: options.requests!.length, requests: [{ setupRequest: sequence }] } : {}),
    });
    const statusCodes = Object.fromEntries(Object.entries(result.statusCodeStats ?? {}).map(([code, stat]) => [code, stat.count ?? 0]));
    return {
      requests: result.requests.total,
      ok: result['2xx'],
      failed: result.non2xx + result.errors,
      perSec: round(result['2xx'] / result.duration, 1),
      latencyMs: { p50: result.latency.p50, p99: result.latency.p99 },
      statusCodes,
    };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
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
