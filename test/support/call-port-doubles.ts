/**
 * Neighbour doubles for the core ports a SIP front calls — stand-ins until the presentation and
 * copy services are wired. They keep to the ports' contracts (never throw, fail open) and
 * record what they were told, so front tests can check the events a call produced.
 */
import type { CallAnnotation, CallEndReason, CallEvents, CallStart } from '../../src/calls/call-events.js';
import type { InfoMessage, SipAnswer, SipCopyPort } from '../../src/copy/sip-copy-port.js';
import type { PresentingSession } from '../../src/domain/types.js';
import type { CorePorts } from '../../src/signalling.js';
import type { Services } from '../../src/wiring.js';

const NOTHING: CallAnnotation = { toCaller: [], toCalled: [] };

/**
 * Call events double: answers with a planned annotation and keeps the presenting session in
 * Redis (so another instance can find the call), failing open when Redis fails or is slow.
 */
export class PresentingDouble implements CallEvents {
  readonly started: CallStart[] = [];
  readonly answered: string[] = [];
  readonly ended: Array<{ callId: string; reason: CallEndReason }> = [];
  /** Calls that went on unannotated because the store failed. */
  failedOpen = 0;

  constructor(
    private readonly services: Pick<Services, 'redis' | 'keys' | 'config'>,
    private readonly plan: (start: CallStart) => CallAnnotation = () => NOTHING,
  ) {}

  async callStarted(start: CallStart): Promise<CallAnnotation> {
    this.started.push(start);
    const annotation = this.plan(start);
    const session: PresentingSession = { ...start, ...annotation, state: 'early', startedAt: new Date().toISOString() };
    try {
      await this.withinBudget(this.services.redis.set(this.services.keys.callSession(start.callId), JSON.stringify(session), 'EX', 600));
      return annotation;
    } catch {
      this.failedOpen++;
      return NOTHING;
    }
  }

  async callAnswered(callId: string): Promise<void> {
    this.answered.push(callId);
  }

  async callEnded(callId: string, reason: CallEndReason): Promise<void> {
    this.ended.push({ callId, reason });
  }

  async findCall(callId: string, fromTag?: string): Promise<PresentingSession | null> {
    try {
      const raw = await this.withinBudget(this.services.redis.get(this.services.keys.callSession(callId)));
      const session = raw ? (JSON.parse(raw) as PresentingSession) : null;
      return session && (fromTag === undefined || session.fromTag === fromTag) ? session : null;
    } catch {
      return null;
    }
  }

  private withinBudget<T>(operation: Promise<T>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('over budget')), this.services.config.sip.selectBudgetMs);
      operation.then(resolve, reject).finally(() => clearTimeout(timer));
    });
  }
}

/** Copy port double: answers `cmr-copy` INFO and DTMF `*` (the copy key) with a copy result; the rest passes through. */
export class CopyDouble implements SipCopyPort {
  readonly received: InfoMessage[] = [];

  async handleInfo(info: InfoMessage): Promise<SipAnswer | null> {
    this.received.push(info);
    const dtmfCopy = info.contentType === 'application/dtmf-relay' && /^signal\s*=\s*\*\s*$/im.test(info.body);
    if (info.infoPackage !== 'cmr-copy' && !dtmfCopy) return null;
    return {
      status: 200,
      reason: 'OK',
      headers: {},
      contentType: 'application/vnd.cmr.copy-result+json',
      body: JSON.stringify({ result: 'copied', entries: [], charge: null }),
    };
  }
}

export interface DoublePorts extends CorePorts {
  calls: PresentingDouble;
  copy: CopyDouble;
}

/** The ports a front test runs with: the doubles above (swap in the real services here once wired). */
export function doublePorts(plan?: (start: CallStart) => CallAnnotation): (services: Services) => DoublePorts {
  return (services) => ({ calls: new PresentingDouble(services, plan), copy: new CopyDouble() });
}
