/**
 * The port between the SIP fronts and the core: the handful of call events each front turns its
 * stack's messages into, and the core's answers. Nothing here knows a SIP stack.
 */
import type { Identity } from '../domain/identity.js';
import type { PresentedResource, PresentingSession } from '../domain/types.js';

export interface CallStart {
  callId: string;
  /** From tag of the initial INVITE. */
  fromTag: string;
  caller: Identity;
  called: Identity;
}

/** What to announce on the call; both lists empty when nothing is presented or on fail-open. */
export interface CallAnnotation {
  /** Resources presented to the caller (owned by the called party): Alert-Info on 18x to the caller. */
  toCaller: PresentedResource[];
  /** Resources presented to the called party (owned by the caller): Alert-Info on the forwarded INVITE. */
  toCalled: PresentedResource[];
}

export type CallEndReason = 'bye' | 'cancel' | 'failure' | 'timeout';

/** Call-time service used by both fronts. Its methods never throw and never wait past the budget. */
export interface CallEvents {
  callStarted(start: CallStart): Promise<CallAnnotation>;
  callAnswered(callId: string): Promise<void>;
  callEnded(callId: string, reason: CallEndReason): Promise<void>;
  /** The presenting session of a live or grace-period call (null when unknown or the store fails). */
  findCall(callId: string, fromTag?: string): Promise<PresentingSession | null>;
}

/** `Alert-Info` header value for one presented resource (contract §3.1). */
export function alertInfoValue(resource: PresentedResource): string {
  return `<${resource.contentUri}>;resource=${resource.resourceId}`;
}
