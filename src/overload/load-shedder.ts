/**
 * Overload: CMR work is shed before calls are (guide: "overload sheds CMR work before it sheds
 * calls"). One decision for the whole process, read by the SIP front and the REST API:
 *
 * - `normal`: everything runs.
 * - `shedding` (the event loop is busy `shedBusyShare` of the time or more, or lags `shedLagMs`
 *   or more; or, for selections, `maxSelections` are already under way): calls go through
 *   unannotated (`cmr_selections_total{result="shed"}`), copy requests get 503 with Retry-After.
 *   Busy time is the early sign: a loop that reads datagrams one by one keeps its delay low while
 *   the backlog waits in the socket buffer. REST requests get 503 from the lag alone (see
 *   `admitsRestWork`).
 * - `refusing` (the lag reaches `refuseLagMs`, beyond what the plain proxy itself carries): new
 *   calls are refused with 503 and Retry-After too; requests inside dialogs keep flowing.
 *
 * The figures come from a `LoadSignal`: the event loop's own in the server, given ones in tests,
 * so the decisions are tested without timing.
 */
import { monitorEventLoopDelay, performance, type ELDHistogram } from 'node:perf_hooks';
import type { Logger } from '../observability/logger.js';
import type { Metrics } from '../observability/metrics.js';

export interface LoadSignal {
  /** How late the event loop has been running lately, ms. */
  lagMs(): number;
  /** The share of time the event loop has been busy lately, 0 to 1. */
  busyShare(): number;
  /** Forgets what was measured so far (the start-up's own work is not load). */
  measureFromNow?(): void;
  stop(): void;
}

export interface OverloadLimits {
  shedBusyShare: number;
  shedLagMs: number;
  refuseLagMs: number;
  maxSelections: number;
  retryAfterSec: number;
}

export type LoadLevel = 'normal' | 'shedding' | 'refusing';

/** What a refusal for overload tells the client. */
export const OVERLOAD_REASON = 'Service Unavailable';

export class LoadShedder {
  private selections = 0;
  private lastLevel: LoadLevel = 'normal';

  constructor(
    private readonly signal: LoadSignal,
    private readonly limits: OverloadLimits,
    private readonly parts: { metrics: Metrics; logger: Logger },
  ) {}

  get retryAfterSec(): number {
    return this.limits.retryAfterSec;
  }

  /** The level now, from the event loop (selections under way shed only selections). */
  level(): LoadLevel {
    const lag = this.signal.lagMs();
    const busy = lag >= this.limits.shedLagMs || this.signal.busyShare() >= this.limits.shedBusyShare;
    const level: LoadLevel = lag >= this.limits.refuseLagMs ? 'refusing' : busy ? 'shedding' : 'normal';
    if (level !== this.lastLevel) {
      this.parts.logger.warn({ event: 'overload', level, was: this.lastLevel, lagMs: Math.round(lag), busyShare: round2(this.signal.busyShare()) }, level === 'normal' ? 'load back to normal' : `overload: ${level}`);
      this.lastLevel = level;
    }
    return level;
  }

  /** Whether CMR work (a copy, a REST request) may run now. */
  admitsCmrWork(): boolean {
    return this.level() === 'normal';
  }

  /**
   * Whether a REST request may run now: only the lag counts. A loop busy all the time but not
   * late is keeping up with its HTTP clients (their backlog waits on their own connections, not
   * in front of the calls' datagrams), and refusing them then would only turn full use into 503s.
   */
  admitsRestWork(): boolean {
    return this.signal.lagMs() < this.limits.shedLagMs;
  }

  /** Whether a new call may enter at all; in-dialog requests never ask. */
  admitsCall(): boolean {
    return this.level() !== 'refusing';
  }

  /**
   * Runs a call's selection unless CMR work is shed or `maxSelections` are already under way;
   * then `shed` is the answer at once, counted as `cmr_selections_total{result="shed"}`.
   */
  async select<T>(selection: () => Promise<T>, shed: T): Promise<T> {
    if (this.selections >= this.limits.maxSelections || !this.admitsCmrWork()) {
      this.parts.metrics.selections.inc({ result: 'shed' });
      return shed;
    }
    this.selections += 1;
    try {
      return await selection();
    } finally {
      this.selections -= 1;
    }
  }

  /** Called once the server is ready: the time it spent starting up blocked the loop, and was not load. */
  measureFromNow(): void {
    this.signal.measureFromNow?.();
  }

  stop(): void {
    this.signal.stop();
  }
}

/**
 * The event loop's own figures over the last `windowMs`: its delay beyond the sampling resolution
 * (mean, sampled by Node), and its utilisation (the share of time it was not idle).
 */
export class EventLoopLoad implements LoadSignal {
  private readonly histogram: ELDHistogram;
  private readonly timer: NodeJS.Timeout;
  private lastUtilization = performance.eventLoopUtilization();
  private recentLagMs = 0;
  private recentBusy = 0;

  constructor(
    private readonly resolutionMs = 10,
    windowMs = 200,
  ) {
    this.histogram = monitorEventLoopDelay({ resolution: resolutionMs });
    this.histogram.enable();
    this.timer = setInterval(() => {
      const meanMs = this.histogram.mean / 1e6;
      this.recentLagMs = Number.isFinite(meanMs) ? Math.max(0, meanMs - this.resolutionMs) : 0;
      this.histogram.reset();
      const now = performance.eventLoopUtilization();
      this.recentBusy = performance.eventLoopUtilization(now, this.lastUtilization).utilization;
      this.lastUtilization = now;
    }, windowMs);
    this.timer.unref();
  }

  lagMs(): number {
    return this.recentLagMs;
  }

  measureFromNow(): void {
    this.histogram.reset();
    this.lastUtilization = performance.eventLoopUtilization();
    this.recentLagMs = 0;
    this.recentBusy = 0;
  }

  busyShare(): number {
    return this.recentBusy;
  }

  stop(): void {
    clearInterval(this.timer);
    this.histogram.disable();
  }
}

function round2(value: number): number {
  return Math.round(value * 100) / 100;
}
