/** Reading load steps: which rates were sustained, and what the server counted meanwhile. */
import type { Metrics } from '../../src/observability/metrics.js';
import type { LoadResult } from '../sipp-load.js';

/** A step counts as sustained when sipp placed at least this share of the asked rate. */
export const ACHIEVED_SHARE = 0.9;

export interface Sustained {
  /** Highest step sustained: every call asked for successful, and the rate achieved. Null when none. */
  targetCps: number | null;
  /** The rate sipp achieved at that step. */
  achievedCps: number | null;
  /** True when the highest step tried was sustained: the capacity lies beyond the steps. */
  beyondSteps: boolean;
}

export function isSustained(result: LoadResult): boolean {
  return result.asked > 0 && result.failed === 0 && result.successful === result.asked && (result.achievedCps ?? 0) >= ACHIEVED_SHARE * result.targetCps;
}

export function sustainedRate(results: readonly LoadResult[]): Sustained {
  const sustained = results.filter(isSustained);
  const best = sustained.reduce<LoadResult | null>((top, r) => (top === null || r.targetCps > top.targetCps ? r : top), null);
  const highestTried = Math.max(...results.map((r) => r.targetCps));
  return { targetCps: best?.targetCps ?? null, achievedCps: best?.achievedCps ?? null, beyondSteps: best !== null && best.targetCps === highestTried };
}

/** The server's `cmr_selections_total` by result, so far. */
export async function selectionCounts(metrics: Metrics): Promise<Record<string, number>> {
  const { values } = await metrics.selections.get();
  return Object.fromEntries(values.map((v) => [String(v.labels.result), v.value]));
}

/** The server's `cmr_copies_total` by channel and result (`sip/copied`), so far. */
export async function copyCounts(metrics: Metrics): Promise<Record<string, number>> {
  const { values } = await metrics.copies.get();
  return Object.fromEntries(values.map((v) => [`${String(v.labels.channel)}/${String(v.labels.result)}`, v.value]));
}

/** What changed between two counter snapshots. */
export function delta(before: Record<string, number>, after: Record<string, number>): Record<string, number> {
  return Object.fromEntries(Object.entries(after).map(([k, v]) => [k, v - (before[k] ?? 0)]));
}

const QUIET_MS = 500;
const QUIET_LIMIT_MS = 30_000;

/** A front whose SIP messages can be counted: the server's metrics, or an anchor's own count. */
export type Front = Metrics | { readonly handled: number };

/**
 * Waits until no front has handled a SIP message for half a second (at most half a minute): after an
 * overloaded step, the retransmissions still arriving must not weigh on the next one.
 */
export async function untilQuiet(fronts: readonly Front[]): Promise<void> {
  const handled = async () => {
    let total = 0;
    for (const front of fronts) {
      if ('handled' in front) total += front.handled;
      else for (const value of (await front.sipMessages.get()).values) total += value.value;
    }
    return total;
  };
  const deadline = Date.now() + QUIET_LIMIT_MS;
  let last = await handled();
  while (Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, QUIET_MS));
    const now = await handled();
    if (now === last) return;
    last = now;
  }
}
