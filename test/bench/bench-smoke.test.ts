/**
 * CI smoke of the benchmark, so it cannot rot: `npm run bench -- --smoke` runs every part for a
 * few seconds against the real Redis, sipp and the embedded front, and writes its JSON to a
 * temporary directory (never to bench/results). The figures must be there and sane; speed is
 * never asserted (that is what the benchmark itself reports).
 */
import { spawn } from 'node:child_process';
import { existsSync, statSync } from 'node:fs';
import { mkdtemp, readFile, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FrontStep } from '../../bench/parts/calls.js';
import type { BenchResults } from '../../bench/report.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const COMMITTED = path.join(ROOT, 'bench/results/latest.json');

interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

function run(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => (stdout += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

describe('npm run bench -- --smoke', () => {
  let out: string;
  let result: Run;
  let figures: BenchResults;
  const committedBefore = existsSync(COMMITTED) ? statSync(COMMITTED).mtimeMs : null;

  beforeAll(async () => {
    out = await mkdtemp(path.join(tmpdir(), 'cmr-bench-smoke-'));
    result = await run('npm', ['run', '-s', 'bench', '--', '--smoke', '--out', out]);
    const written = await readFile(path.join(out, 'latest.json'), 'utf8').catch(() => {
      throw new Error(`the smoke run wrote no latest.json (exit ${result.code}):\n${result.stderr}`);
    });
    figures = JSON.parse(written) as BenchResults;
  }, 180_000);
  afterAll(async () => {
    await rm(out, { recursive: true, force: true });
  });

  it('runs every part, prints one table and writes the figures where it was told', async () => {
    expect(result.code, result.stderr).toBe(0);
    const tableLines = result.stdout.trim().split('\n');
    expect(tableLines[0]).toBe('| part | measure | CMR | compared with | ratio / verdict |');
    expect(tableLines.every((line) => line.startsWith('| '))).toBe(true);
    expect((await readdir(out)).sort()).toEqual([expect.stringMatching(/^\d{4}-\d\d-\d\dT[\d-]+Z\.json$/), 'latest.json']);
    expect(figures.smoke).toBe(true);
    expect(figures.machine).toMatchObject({ nproc: expect.any(Number), cpuModel: expect.any(String), node: process.version, redis: expect.any(String) });
    expect(existsSync(COMMITTED) ? statSync(COMMITTED).mtimeMs : null).toBe(committedBefore);
  });

  it('plays ringback tones on calls through the drachtio front (real rtpengine), beside calls without, with no failed call', () => {
    const media = figures.media!;
    for (const variant of [media.withTone, media.without]) {
      expect(variant.calls).toBeGreaterThan(0);
      expect(variant.failed).toBe(0);
      expect(variant.callsPerSec).toBeGreaterThan(0);
    }
    expect(media.withTone.plays['playing']).toBeGreaterThan(0);
    expect(media.without.plays).toEqual({});
    expect(media.ratio).toEqual(expect.any(Number));
  });

  it('places calls through the front with CMR, as a plain proxy and through the null proxy on the sip package, with no failed call', () => {
    const calls = figures.calls!;
    expect(calls.steps.length).toBeGreaterThan(0);
    for (const step of calls.steps) {
      for (const variant of [step.cmr, step.baseline, step.nullProxy]) expectCarried(variant);
      // Every call of the CMR front went through selection.
      expect(Object.values(step.cmr.selections).reduce((a, b) => a + b, 0)).toBe(step.cmr.calls);
      expect(step.addedMs.p99).toEqual(expect.any(Number));
    }
    expect(calls.nullProxy.targetCps).toEqual(expect.any(Number));
    expect(figures.goals!.filter((g) => g.goal.startsWith('calls:'))).toHaveLength(3);
  });

  it('places calls through the scripted drachtio-server to the drachtio front and to the null drachtio-srf B2BUA, with no failed call', () => {
    const drachtio = figures.drachtio!;
    expect(drachtio.steps.map((s) => s.targetCps)).toEqual(figures.options['callSteps']);
    for (const step of drachtio.steps) {
      for (const variant of [step.cmr, step.nullB2bua]) {
        expectCarried(variant);
        expect(variant.peerCpuMsPerCall).toBeGreaterThan(0);
      }
      expect(Object.values(step.cmr.selections).reduce((a, b) => a + b, 0)).toBe(step.cmr.calls);
    }
    expect(drachtio.nullB2bua.targetCps).toEqual(expect.any(Number));
    expect(figures.goals!.filter((g) => g.goal.startsWith('drachtio:'))).toHaveLength(2);
  });

  it('copies over SIP INFO and REST with cdr and with the test CHF', () => {
    for (const mode of ['cdr', 'nchf'] as const) {
      const { sip, rest, perCopy } = figures.copies![mode];
      const [step] = sip.steps;
      expect(step!.calls).toBeGreaterThan(0);
      expect(step!.copies['sip/copied']).toBeGreaterThan(0);
      // A call succeeds only when its INFO was answered "copied".
      expect(step!.copies['sip/copied']).toBeGreaterThanOrEqual(step!.successful);
      expect(step!.responseTimes['2']?.p50).toEqual(expect.any(Number));
      expect(rest.requests).toBe(figures.options['restCopies']);
      expect(rest.ok).toBeGreaterThan(0);
      expect(rest.ok + rest.failed).toBe(rest.requests);
      expect(rest.latencyMs.p99).toEqual(expect.any(Number));
      expect(rest.serverCpuMsPerCopy).toBeGreaterThan(0);
      expect(perCopy.copies).toBeGreaterThan(0);
      // At least the call lookup, the lock and the settlement, each its own round trip.
      expect(perCopy.roundTrips).toBeGreaterThanOrEqual(3);
      expect(perCopy.commands).toBeGreaterThanOrEqual(perCopy.roundTrips);
    }
  });

  it('loads the service route and both anchors, the fair and the bare route', () => {
    const management = figures.management!;
    expect(management).toMatchObject({ service: { failed: 0 }, readEveryRequest: { failed: 0 }, fair: { failed: 0 }, bare: { failed: 0 } });
    expect(management.service.perSec).toBeGreaterThan(0);
    expect(management.readEveryRequest.perSec).toBeGreaterThan(0);
    expect(management.fair.perSec).toBeGreaterThan(0);
    expect(management.bare.perSec).toBeGreaterThan(0);
    expect(management.ratio).toBeGreaterThan(0);
    expect(management.fairRatio).toBeGreaterThan(0);
  });

  it('measures Redis memory, round trips per call and selection as the library grows', () => {
    const { memory, perCall, library } = figures.growth!;
    expect(memory.bytesPerSession).toBeGreaterThan(0);
    expect(memory.bytesPerSessionWithIndexes).toBeGreaterThan(memory.bytesPerSession);
    expect(memory.bytesPerLibraryEntry).toBeGreaterThan(0);
    expect(perCall.roundTrips).toBeGreaterThan(0);
    expect(perCall.startRoundTrips).toBeLessThan(perCall.roundTrips);
    expect(library.map((g) => g.entries)).toEqual([10, 100, 1000]);
    expect(figures.growth!.libraryReadEveryCall.map((g) => g.entries)).toEqual(library.map((g) => g.entries));
    for (const growth of [...library, ...figures.growth!.libraryReadEveryCall]) {
      expect(growth.ms?.count).toBe(growth.selections);
      expect(growth.roundTrips).toBeGreaterThan(0);
      expect(growth.bytesIn).toBeGreaterThan(0);
    }
    // The library is read in the same round trips whatever its size.
    expect(new Set(library.map((g) => g.roundTrips)).size).toBe(1);
    expect(figures.goals!.length).toBeGreaterThan(0);
  });

  it('times the strict SIP reading beside the sip package alone and drachtio-srf', () => {
    const { invite, archive } = figures.parser!;
    for (const times of [invite, archive]) for (const ns of [times.strict, times.packageOnly, times.drachtioSrf]) expect(ns).toBeGreaterThan(0);
    expect(archive.messages).toBeGreaterThan(0);
  });

  it('offers calls at 2× and 3× the sustained rate through the front with CMR and through the null proxy', () => {
    const overload = figures.overload!;
    expect(overload.baseFrom).toBe('calls part');
    expect(overload.steps.map((s) => s.factor)).toEqual([2, 3]);
    for (const step of overload.steps) {
      expect(step.targetCps).toBe(overload.baseCps * step.factor);
      for (const variant of [step.cmr, step.nullProxy]) expect(variant.asked).toBeGreaterThan(0);
    }
    expect(overload.copies.calls.asked).toBeGreaterThan(0);
    expect(overload.copies.problems).toEqual([]);
    expect(figures.goals!.filter((g) => g.goal.startsWith('overload:'))).toHaveLength(3);
  });
});

/** Every call asked for placed and completed, its INVITE→180 measured, and the front's CPU counted. */
function expectCarried(step: FrontStep): void {
  expect(step.asked).toBeGreaterThan(0);
  expect(step).toMatchObject({ calls: step.asked, successful: step.asked, failed: 0 });
  expect(step.responseTimes['1']).toMatchObject({ count: step.calls, p50: expect.any(Number), p99: expect.any(Number) });
  expect(step.serverCpuMsPerCall).toBeGreaterThan(0);
}

describe('npm run bench without sipp', () => {
  it('installs nothing, names what is missing and exits non-zero', async () => {
    const empty = await mkdtemp(path.join(tmpdir(), 'cmr-bench-path-'));
    try {
      const result = await run(process.execPath, ['--import', 'tsx', 'bench/main.ts', '--smoke'], { ...process.env, PATH: empty });
      expect(result.code).toBe(2);
      expect(result.stderr).toContain('sipp');
      expect(result.stderr).toContain('nothing was installed');
      expect(result.stdout).toBe('');
    } finally {
      await rm(empty, { recursive: true, force: true });
    }
  }, 60_000);
});
