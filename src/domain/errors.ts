/**
 * Failures the core reports to its edges. Each has a stable `code`; the HTTP layer turns it into
 * RFC 9457 problem JSON and the SIP fronts into a status with a Warning reason.
 */
export type ErrorCode =
  | 'bad-request'
  | 'validation-failed'
  | 'bad-identity'
  | 'unauthorized'
  | 'forbidden'
  | 'privacy-forbids'
  | 'not-found'
  | 'dialog-gone'
  | 'not-acceptable'
  | 'conflict'
  | 'idempotency-key-reused'
  | 'payload-too-large'
  | 'unsupported-media-type'
  | 'charging-denied'
  | 'rate-limited'
  | 'dependency-unavailable'
  | 'internal';

const STATUS: Record<ErrorCode, number> = {
  'bad-request': 400,
  'validation-failed': 400,
  'bad-identity': 400,
  unauthorized: 401,
  'charging-denied': 402,
  forbidden: 403,
  'privacy-forbids': 403,
  'not-found': 404,
  // Only SIP meets it (481 there): REST copies name the peer, not a dialog.
  'dialog-gone': 404,
  'not-acceptable': 406,
  conflict: 409,
  'idempotency-key-reused': 409,
  'payload-too-large': 413,
  'unsupported-media-type': 415,
  'rate-limited': 429,
  'dependency-unavailable': 503,
  internal: 500,
};

const TITLE: Record<ErrorCode, string> = {
  'bad-request': 'Bad request',
  'validation-failed': 'Validation failed',
  'bad-identity': 'Bad identity',
  unauthorized: 'Unauthorized',
  'charging-denied': 'Charging denied',
  forbidden: 'Forbidden',
  'privacy-forbids': 'Forbidden by privacy settings',
  'not-found': 'Not found',
  'dialog-gone': 'The call is over',
  'not-acceptable': 'Not acceptable',
  conflict: 'Conflict',
  'idempotency-key-reused': 'Idempotency key reused with another request',
  'payload-too-large': 'Payload too large',
  'unsupported-media-type': 'Unsupported media type',
  'rate-limited': 'Too many requests',
  'dependency-unavailable': 'Service temporarily unavailable',
  internal: 'Internal error',
};

export class CmrError extends Error {
  readonly status: number;
  readonly title: string;

  constructor(
    readonly code: ErrorCode,
    readonly detail: string,
    readonly extra: { retryAfterSec?: number; [key: string]: unknown } = {},
  ) {
    super(detail);
    this.name = 'CmrError';
    this.status = STATUS[code];
    this.title = TITLE[code];
  }
}

/** Every code, in the order of the table above: the values a problem's `code` may take. */
export const ERROR_CODES = Object.keys(STATUS) as ErrorCode[];

export const statusOf = (code: ErrorCode): number => STATUS[code];
export const titleOf = (code: ErrorCode): string => TITLE[code];

/** A refusal given again: the stored answer of an earlier request with the same idempotency key. */
export class ReplayedRefusal extends CmrError {}

/** The store (Redis) could not be reached or answered in time. */
export class StoreUnavailableError extends CmrError {
  constructor(cause: unknown) {
    super('dependency-unavailable', 'the data store is unavailable', { retryAfterSec: 5 });
    this.cause = cause;
  }
}
