/**
 * The shedding decisions, driven by given figures rather than by timing: CMR work goes first,
 * new calls only past the second threshold, and selections past the cap are shed even when the
 * event loop keeps up.
 */
import pino from 'pino';
import { describe, expect, it } from 'vitest';
import { Metrics } from '../../../src/observability/metrics.js';
import { LoadShedder, type LoadSignal } from '../../../src/overload/load-shedder.js';

const LIMITS = { shedBusyShare: 0.85, shedLagMs: 40, refuseLagMs: 400, maxSelections: 2, retryAfterSec: 3 };

function shedderAt(lag: { ms: number; busy?: number }) {
  const signal: LoadSignal = { lagMs: () => lag.ms, busyShare: () => lag.busy ?? 0, stop: () => {} };
  const metrics = new Metrics({ defaultMetrics: false });
  return { shedder: new LoadShedder(signal, LIMITS, { metrics, logger: pino({ level: 'silent' }) }), metrics };
}

async function shedCount(metrics: Metrics): Promise<number> {
  return (await metrics.selections.get()).values.find((v) => v.labels.result === 'shed')?.value ?? 0;
}

describe('load shedder', () => {
  it('admits everything below the shedding lag', async () => {
    const { shedder, metrics } = shedderAt({ ms: 39 });
    expect(shedder.level()).toBe('normal');
    expect(shedder.admitsCmrWork()).toBe(true);
    expect(shedder.admitsCall()).toBe(true);
    expect(await shedder.select(async () => 'selected', 'shed')).toBe('selected');
    expect(await shedCount(metrics)).toBe(0);
  });

  it('sheds CMR work but admits calls between the two lags', async () => {
    const { shedder, metrics } = shedderAt({ ms: 40 });
    expect(shedder.level()).toBe('shedding');
    expect(shedder.admitsCmrWork()).toBe(false);
    expect(shedder.admitsCall()).toBe(true);
    let ran = false;
    expect(await shedder.select(async () => ((ran = true), 'selected'), 'shed')).toBe('shed');
    expect(ran).toBe(false);
    expect(await shedCount(metrics)).toBe(1);
  });

  it('sheds CMR work when the event loop is busy enough, before it lags', () => {
    const load = { ms: 0, busy: 0.84 };
    const { shedder } = shedderAt(load);
    expect(shedder.level()).toBe('normal');
    load.busy = 0.85;
    expect(shedder.level()).toBe('shedding');
    expect(shedder.admitsCall()).toBe(true);
  });

  it('admits REST requests while the loop is busy but not late, and sheds them once it lags', () => {
    const load = { ms: 0, busy: 1 };
    const { shedder } = shedderAt(load);
    expect(shedder.admitsCmrWork()).toBe(false);
    expect(shedder.admitsRestWork()).toBe(true);
    load.ms = 40;
    expect(shedder.admitsRestWork()).toBe(false);
  });

  it('refuses new calls from the refusing lag on', () => {
    const { shedder } = shedderAt({ ms: 400 });
    expect(shedder.level()).toBe('refusing');
    expect(shedder.admitsCall()).toBe(false);
    expect(shedder.admitsCmrWork()).toBe(false);
    expect(shedder.retryAfterSec).toBe(3);
  });

  it('sheds a selection while the cap is under way, and admits again once one ends', async () => {
    const { shedder, metrics } = shedderAt({ ms: 0 });
    const releases: Array<() => void> = [];
    const hanging = () => shedder.select(() => new Promise<string>((resolve) => releases.push(() => resolve('selected'))), 'shed');
    const first = hanging();
    const second = hanging();
    expect(await shedder.select(async () => 'selected', 'shed')).toBe('shed');
    expect(await shedCount(metrics)).toBe(1);
    releases[0]!();
    expect(await first).toBe('selected');
    expect(await shedder.select(async () => 'selected', 'shed')).toBe('selected');
    releases[1]!();
    expect(await second).toBe('selected');
  });

  it('follows the lag as it falls back', () => {
    const lag = { ms: 500 };
    const { shedder } = shedderAt(lag);
    expect(shedder.level()).toBe('refusing');
    lag.ms = 100;
    expect(shedder.level()).toBe('shedding');
    lag.ms = 5;
    expect(shedder.level()).toBe('normal');
  });
});
