/**
 * Neighbour double of the presentation service for SIP front tests: every call is presented a
 * fixed annotation, every event is recorded, and the presenting session is kept in memory so the
 * copy double (and `findCall`) see the call like the real service would.
 */
import type { CallAnnotation, CallEndReason, CallEvents, CallStart } from '../../../src/calls/call-events.js';
import type { PresentingSession } from '../../../src/domain/types.js';

export class RecordingCallEvents implements CallEvents {
  readonly started: CallStart[] = [];
  readonly answered: string[] = [];
  readonly ended: Array<{ callId: string; reason: CallEndReason }> = [];
  private readonly sessions = new Map<string, PresentingSession>();

  constructor(private readonly annotation: CallAnnotation) {}

  async callStarted(start: CallStart): Promise<CallAnnotation> {
    this.started.push(start);
    this.sessions.set(start.callId, {
      callId: start.callId,
      fromTag: start.fromTag,
      caller: start.caller,
      called: start.called,
      toCaller: this.annotation.toCaller,
      toCalled: this.annotation.toCalled,
      state: 'early',
      startedAt: new Date().toISOString(),
    });
    return this.annotation;
  }

  async callAnswered(callId: string): Promise<void> {
    this.answered.push(callId);
    const session = this.sessions.get(callId);
    if (session) session.state = 'confirmed';
  }

  async callEnded(callId: string, reason: CallEndReason): Promise<void> {
    this.ended.push({ callId, reason });
    const session = this.sessions.get(callId);
    if (session) session.state = 'ended';
  }

  async findCall(callId: string): Promise<PresentingSession | null> {
    return this.sessions.get(callId) ?? null;
  }

  /** What happened to one call, in a form tests compare whole. */
  story(callId: string): { answered: boolean; ended: CallEndReason[] } {
    return {
      answered: this.answered.includes(callId),
      ended: this.ended.filter((e) => e.callId === callId).map((e) => e.reason),
    };
  }
}
