/**
 * What the reliability tests tried, gathered across test files into one table printed at the end
 * of the run (see `trial-summary-setup.ts`). A test records one row: what it did (calls,
 * messages, requests, faults injected) and what came of it, as named counts.
 */
import { appendFileSync } from 'node:fs';
import { join } from 'node:path';
import { inject } from 'vitest';

export type Counts = Record<string, number | string>;

export interface TrialRow {
  test: string;
  tried: Counts;
  outcomes: Counts;
}

declare module 'vitest' {
  export interface ProvidedContext {
    trialSummaryDir: string;
  }
}

export const TRIAL_ROWS_FILE = 'rows.jsonl';

/** Adds a row to the run's summary table. */
export function recordTrial(row: TrialRow): void {
  appendFileSync(join(inject('trialSummaryDir'), TRIAL_ROWS_FILE), `${JSON.stringify(row)}\n`);
}

/** Counts of each distinct value: `tally(['201', '503', '201'])` → `{ '201': 2, '503': 1 }`. */
export function tally(values: Iterable<string | number>): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of values) counts[String(value)] = (counts[String(value)] ?? 0) + 1;
  return counts;
}

/** The rows as a plain-text table, one line per row (columns aligned up to 70 characters). */
export function renderTrials(rows: TrialRow[]): string {
  const text = (counts: Counts) =>
    Object.entries(counts)
      .map(([name, value]) => `${name} ${value}`)
      .join(', ');
  const table = rows.map((row) => [row.test, text(row.tried), text(row.outcomes)]);
  const header = ['test', 'tried', 'outcomes'];
  const widths = header.map((h, i) => Math.min(70, Math.max(h.length, ...table.map((r) => r[i]!.length))));
  const line = (cells: string[]) => cells.map((c, i) => c.padEnd(widths[i]!)).join(' | ');
  return [line(header), widths.map((w) => '-'.repeat(w)).join('-+-'), ...table.map(line)].join('\n');
}
