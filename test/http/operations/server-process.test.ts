/** The server entry as an operator runs it: start-up, configuration errors, graceful shutdown. */
import { spawnSync } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer, request } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { startServerProcess } from '../../support/server-process.js';

describe('server process', () => {
  // Starting through tsx compiles on the fly: allow for a busy machine.
  it('refuses an invalid setting with one line naming it and exit code 78', { timeout: 120_000 }, () => {
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
      env: { ...process.env, CMR_CHARGING_MODE: 'free' },
      encoding: 'utf8',
      timeout: 90_000,
    });
    expect(result.status).toBe(78);
    expect(result.stderr.trim().split('\n')).toEqual(['cmr-server: invalid configuration: CMR_CHARGING_MODE: must be cdr or nchf, got "free"']);
  });

  it('names the settings behind a listener it cannot open, and exits 1', { timeout: 120_000 }, async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env: { ...process.env, CMR_HTTP_PORT: String(port), CMR_SIP_PORT: '0', CMR_LOG_LEVEL: 'silent' },
        encoding: 'utf8',
        timeout: 90_000,
      });
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`cmr-server: failed to start: CMR_HTTP_HOST/CMR_HTTP_PORT (127.0.0.1:${port}): listen EADDRINUSE`);
    } finally {
      taken.close();
    }
  });

  it('in drachtio outbound mode, names the settings behind a port it cannot listen on for drachtio-server, and exits 1', { timeout: 120_000 }, async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    const { port } = taken.address() as AddressInfo;
    try {
      const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
        env: {
          ...process.env,
          CMR_DRACHTIO_MODE: 'outbound',
          CMR_DRACHTIO_HOST: '127.0.0.1',
          CMR_DRACHTIO_PORT: String(port),
          CMR_HTTP_PORT: '0',
          CMR_LOG_LEVEL: 'silent',
        },
        encoding: 'utf8',
        timeout: 90_000,
      });
      expect(result.status).toBe(1);
      expect(result.stderr.trim().split('\n')).toEqual([
        expect.stringContaining(`cmr-server: failed to start: CMR_DRACHTIO_HOST/CMR_DRACHTIO_PORT (127.0.0.1:${port}): listen EADDRINUSE`),
      ]);
    } finally {
      taken.close();
    }
  });

  it('serves /healthz, and on SIGTERM finishes the request in flight, closes and exits 0', { timeout: 120_000 }, async () => {
    const server = await startServerProcess({ CMR_REDIS_NAMESPACE: `t-${randomUUID().slice(0, 8)}`, CMR_SIP_PORT: '0' });
    const health = await fetch(`${server.httpUrl}/healthz`);
    expect(health.status).toBe(200);
    // The start-up log says where the documentation is and how to get a token.
    const ready = await server.waitForLog((l) => l['event'] === 'ready');
    expect(ready).toMatchObject({ docs: `${server.httpUrl}/docs`, openapi: `${server.httpUrl}/openapi.json` });
    expect(ready['msg']).toMatch(/API documentation at http:\/\/127\.0\.0\.1:\d+\/docs; a token for a user: npm run -s token -- --sub/);
    expect(ready['msg']).toMatch(/the CMR Portal at http:\/\/127\.0\.0\.1:\d+\/portal\/ \(add --portal for a sign-in link\)/);

    // A request whose response has begun but is slow to finish: the metrics endpoint read over a
    // connection we keep open; SIGTERM arrives while the response is still being read.
    const inFlight = new Promise<number>((resolve, reject) => {
      const req = request(`${server.httpUrl}/metrics`, (res) => {
        server.child.kill('SIGTERM');
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      });
      req.on('error', reject);
      req.end();
    });
    expect(await inFlight).toBe(200);
    expect(await server.exited).toBe(0);
    expect(server.lines.some((l) => l['event'] === 'shutdown' && l['msg'] === 'stopped')).toBe(true);
    await expect(fetch(`${server.httpUrl}/healthz`)).rejects.toThrow();
  });
});
