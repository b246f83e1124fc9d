/**
 * Global setup of the test run: a directory where test files record what they tried
 * (`trial-summary.ts`), and at the end of the run the table of those rows on standard output.
 */
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TestProject } from 'vitest/node';
import { renderTrials, TRIAL_ROWS_FILE, type TrialRow } from './trial-summary.js';

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const dir = await mkdtemp(join(tmpdir(), 'cmr-trials-'));
  project.provide('trialSummaryDir', dir);
  return async () => {
    const text = await readFile(join(dir, TRIAL_ROWS_FILE), 'utf8').catch(() => '');
    const rows = text
      .split('\n')
      .filter((line) => line.length > 0)
      .map((line) => JSON.parse(line) as TrialRow)
      .sort((a, b) => a.test.localeCompare(b.test));
    if (rows.length > 0) console.log(`\nReliability trials: what each test tried and what came of it\n\n${renderTrials(rows)}\n`);
    await rm(dir, { recursive: true, force: true });
  };
}
