/**
 * The one table from a copy's outcome to what each channel answers (contract §3.2 and §4), so the
 * SIP and REST channels can never disagree. Failures are `CmrError`s; their code picks the status,
 * which is the same number in SIP and HTTP for every failure a copy can meet.
 */
import { sipWarning } from '../calls/sip-warning.js';
import { CmrError, type ErrorCode } from '../domain/errors.js';
import type { SipAnswer } from './sip-copy-port.js';
import { COPY_CONTENT_TYPE, COPY_PACKAGE, COPY_RESULT_CONTENT_TYPE } from './info-classifier.js';

export interface CopiedEntry {
  resourceId: string;
  libraryEntryId: string;
  expiresAt: string;
}

export interface CopyResult {
  result: 'copied' | 'already-owned';
  entries: CopiedEntry[];
  charge: { id: string; amount: number; currency: string } | null;
}

/** HTTP status of a successful copy: 201 when entries were created, 200 when all were owned. */
export function httpStatusOf(result: CopyResult): 200 | 201 {
  return result.result === 'copied' ? 201 : 200;
}

const SIP_FAILURE: Partial<Record<ErrorCode, { status: number; reason: string }>> = {
  'bad-request': { status: 400, reason: 'Bad Request' },
  'validation-failed': { status: 400, reason: 'Bad Request' },
  'bad-identity': { status: 400, reason: 'Bad Request' },
  'charging-denied': { status: 402, reason: 'Payment Required' },
  forbidden: { status: 403, reason: 'Forbidden' },
  'privacy-forbids': { status: 403, reason: 'Forbidden' },
  unauthorized: { status: 403, reason: 'Forbidden' },
  'not-found': { status: 404, reason: 'Not Found' },
  'dialog-gone': { status: 481, reason: 'Call/Transaction Does Not Exist' },
  conflict: { status: 409, reason: 'Conflict' },
  'idempotency-key-reused': { status: 409, reason: 'Conflict' },
  'payload-too-large': { status: 413, reason: 'Request Entity Too Large' },
  'unsupported-media-type': { status: 415, reason: 'Unsupported Media Type' },
  'rate-limited': { status: 503, reason: 'Service Unavailable' },
  'dependency-unavailable': { status: 503, reason: 'Service Unavailable' },
};

export function sipSuccess(result: CopyResult): SipAnswer {
  return {
    status: 200,
    reason: 'OK',
    headers: { 'Recv-Info': COPY_PACKAGE },
    contentType: COPY_RESULT_CONTENT_TYPE,
    body: JSON.stringify(result),
  };
}

/**
 * The SIP answer for a failed copy, with `Warning: 399 <host> "<reason>"` (RFC 3261 §20.43) and
 * the headers each status calls for.
 */
export function sipFailure(error: CmrError, warningHost: string): SipAnswer {
  const { status, reason } = SIP_FAILURE[error.code] ?? { status: 500, reason: 'Server Internal Error' };
  const headers: Record<string, string> = { Warning: sipWarning(warningHost, error.detail) };
  if (status === 415) headers['Accept'] = COPY_CONTENT_TYPE;
  if (status === 503) headers['Retry-After'] = String(error.extra.retryAfterSec ?? 5);
  return { status, reason, headers };
}

/** 469 for an INFO of a package this server does not take (RFC 6086 §4.2.2). */
export function sipBadInfoPackage(infoPackage: string, warningHost: string): SipAnswer {
  return {
    status: 469,
    reason: 'Bad Info Package',
    headers: { 'Recv-Info': COPY_PACKAGE, Warning: sipWarning(warningHost, `unknown Info-Package ${infoPackage}`) },
  };
}

/** Any failure as a `CmrError` (unexpected ones become 500-class `internal`). */
export function asCmrError(err: unknown): CmrError {
  return err instanceof CmrError ? err : new CmrError('internal', 'the copy could not be completed');
}
