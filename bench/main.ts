/**
 * `npm run bench`: call, copy and management capacity and Redis cost of the server, each figure
 * beside a baseline measured in the same run, on loopback. Prints one table (stdout) and writes
 * the figures as JSON to `<out>/<timestamp>.json` and, after a run of every part, `<out>/latest.json`.
 * Progress goes to stderr. It installs nothing: a missing prerequisite stops it (exit 2).
 */
import { mkdtempSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { machineFacts } from './machine.js';
import { parseOptions, PARTS, UsageError, type BenchOptions } from './options.js';
import { checkPrerequisites, MissingPrerequisites } from './prerequisites.js';
import type { BenchResults } from './report.js';
import { cleanUpOnInterrupt, type Progress } from './run.js';

async function main(): Promise<number> {
  let options: BenchOptions;
  try {
    options = parseOptions(process.argv.slice(2), process.env, () => mkdtempSync(path.join(tmpdir(), 'cmr-bench-')));
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`${err.message ? `bench: ${err.message}\n` : ''}${err.usage}\n`);
    return err.message ? 64 : 0;
  }
  let prerequisites;
  try {
    prerequisites = await checkPrerequisites(options.redisUrl);
  } catch (err) {
    if (!(err instanceof MissingPrerequisites)) throw err;
    process.stderr.write(`bench: ${err.message}\n`);
    return 2;
  }

  // The server and the parts load only once the run can go.
  const [{ benchCalls }, { benchCopies }, { benchManagement }, { benchGrowth }, { benchMedia }, { benchParser }, { benchOverload }, { benchDrachtio }, { goalsOf, renderTable }] = await Promise.all([
    import('./parts/calls.js'),
    import('./parts/copies.js'),
    import('./parts/management.js'),
    import('./parts/growth.js'),
    import('./parts/media.js'),
    import('./parts/parser.js'),
    import('./parts/overload.js'),
    import('./parts/drachtio.js'),
    import('./report.js'),
  ]);
  const startedAt = new Date();
  const progress: Progress = (line) => process.stderr.write(`bench: [${((Date.now() - startedAt.getTime()) / 1000).toFixed(1)} s] ${line}\n`);
  const machineBefore = machineFacts(prerequisites);
  cleanUpOnInterrupt(options.redisUrl, progress);
  progress(`${options.smoke ? 'smoke run' : 'full run'} on ${machineBefore.cpuModel} ×${machineBefore.nproc}, load ${machineBefore.loadAverage.join(' ')}`);
  const results: BenchResults = {
    startedAt: startedAt.toISOString(),
    finishedAt: '',
    smoke: options.smoke,
    machine: machineBefore,
    options: { callSteps: options.callSteps, overloadBaseCps: options.overloadBaseCps, copySteps: options.copySteps, stepSec: options.stepSec, restCopies: options.restCopies, httpSec: options.httpSec, connections: options.connections, memorySamples: options.memorySamples, logLevel: options.logLevel },
  };
  if (options.parts.includes('calls')) results.calls = await benchCalls(options, progress);
  if (options.parts.includes('copies')) results.copies = await benchCopies(options, progress);
  if (options.parts.includes('management')) results.management = await benchManagement(options, progress);
  if (options.parts.includes('growth')) results.growth = await benchGrowth(options, progress);
  if (options.parts.includes('media')) results.media = await benchMedia(options, progress);
  if (options.parts.includes('parser')) results.parser = benchParser(options, progress);
  if (options.parts.includes('overload')) results.overload = await benchOverload(options, progress, results.calls?.cmr.targetCps ?? null);
  if (options.parts.includes('drachtio')) results.drachtio = await benchDrachtio(options, progress);
  results.finishedAt = new Date().toISOString();
  results.machine.loadAverageAfter = machineFacts(prerequisites).loadAverage;
  results.goals = goalsOf(results);

  process.stdout.write(`${renderTable(results)}\n`);
  await mkdir(options.outDir, { recursive: true });
  const json = `${JSON.stringify(results, null, 2)}\n`;
  const stamped = path.join(options.outDir, `${startedAt.toISOString().replace(/[:.]/g, '-')}.json`);
  await writeFile(stamped, json);
  const complete = PARTS.every((part) => options.parts.includes(part));
  if (complete) await writeFile(path.join(options.outDir, 'latest.json'), json);
  progress(`figures written to ${stamped}${complete ? ' and latest.json' : ''}`);
  return 0;
}

main().then(
  (code) => process.exit(code),
  (err: unknown) => {
    process.stderr.write(`bench: failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
    process.exit(1);
  },
);
