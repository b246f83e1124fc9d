/**
 * Calls this front has seen start and not yet end, by Call-ID. Kept small on purpose: the stack
 * already holds every transaction for half a minute, so a call costs only what the proxy needs
 * later (the dialog's From tag for INFO, what to announce to the caller, whether it answered).
 * A call nobody ends is dropped after the longest call allowed.
 */
import type { Logger } from 'pino';
import type { PresentedResource } from '../../src/domain/types.js';

export interface CallRecord {
  readonly callId: string;
  /** From tag of the caller's INVITE. */
  readonly fromTag: string;
  /** Announced in Alert-Info on every 18x to the caller. */
  readonly toCaller: readonly PresentedResource[];
  answered: boolean;
  readonly log: Logger;
}

interface Entry {
  record: CallRecord;
  expiry: NodeJS.Timeout;
}

export class CallTable {
  private readonly calls = new Map<string, Entry>();

  constructor(
    private readonly maxCallMs: number,
    private readonly onExpired: (call: CallRecord) => void,
  ) {}

  open(callId: string, fromTag: string, toCaller: readonly PresentedResource[], log: Logger): CallRecord {
    const record: CallRecord = { callId, fromTag, toCaller, answered: false, log };
    const expiry = setTimeout(() => {
      if (this.take(callId)) this.onExpired(record);
    }, this.maxCallMs);
    expiry.unref();
    this.calls.set(callId, { record, expiry });
    return record;
  }

  get(callId: string): CallRecord | undefined {
    return this.calls.get(callId)?.record;
  }

  /** Removes the call; undefined when it was not (or no longer) open. */
  take(callId: string): CallRecord | undefined {
    const entry = this.calls.get(callId);
    if (!entry) return undefined;
    clearTimeout(entry.expiry);
    this.calls.delete(callId);
    return entry.record;
  }

  clear(): void {
    for (const entry of this.calls.values()) clearTimeout(entry.expiry);
    this.calls.clear();
  }
}
