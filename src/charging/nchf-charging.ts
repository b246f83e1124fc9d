/**
 * `nchf` mode: online immediate event charging against a CHF (3GPP TS 32.291) over HTTP/2.
 *
 * The configured timeout bounds the whole charge. When the connection fails before an answer
 * (refused, reset, GOAWAY, stream dropped) and time is left, the request is sent again on a new
 * connection as a retransmission of the same invocation, so a CHF that already charged it answers
 * from its record instead of charging twice. A 5xx leaves the outcome unavailable; no answer at all
 * (timeout, or the connection lost on every attempt) leaves it unavailable and `unanswered`, as the
 * CHF may have charged.
 */
import type { Logger } from '../observability/logger.js';
import type { ChargeOutcome, ChargeRequest, ChargingPort, Invocation } from './charging-port.js';
import { Http2JsonClient, NoAnswerError } from './http2-json-client.js';
import { CHARGING_DATA_PATH, chargingDataRequest, interpretAnswer } from './nchf-messages.js';

export interface NchfOptions {
  chfUrl: string;
  timeoutMs: number;
  asIdentity: string;
  /** Retry-After suggested to callers while the CHF is unreachable. */
  retryAfterSec?: number;
}

const MAX_ATTEMPTS = 3;

export class NchfCharging implements ChargingPort {
  readonly mode = 'nchf' as const;
  private readonly client: Http2JsonClient;
  private readonly basePath: string;

  constructor(
    private readonly options: NchfOptions,
    private readonly logger: Logger,
  ) {
    const url = new URL(options.chfUrl);
    this.client = new Http2JsonClient(url.origin);
    this.basePath = url.pathname.replace(/\/+$/, '');
  }

  async charge(request: ChargeRequest, invocation: Invocation): Promise<ChargeOutcome> {
    const deadline = Date.now() + this.options.timeoutMs;
    const retryAfterSec = this.options.retryAfterSec ?? 5;
    let attempt = invocation;
    for (let n = 1; ; n++) {
      const body = chargingDataRequest(request, attempt, this.options.asIdentity);
      try {
        const answer = await this.client.post(`${this.basePath}${CHARGING_DATA_PATH}`, body, Math.max(1, deadline - Date.now()));
        const outcome = interpretAnswer(answer.status, answer.body, request, invocation, answer.headers['location']);
        this.logger.debug(
          { event: 'chf-answer', chargeId: invocation.chargeId, seq: invocation.sequenceNumber, status: answer.status, outcome: outcome.status, retransmission: attempt.retransmission },
          'charging answer',
        );
        return outcome.status === 'unavailable' ? { ...outcome, retryAfterSec } : outcome;
      } catch (err) {
        if (!(err instanceof NoAnswerError)) throw err;
        const timeLeft = deadline - Date.now();
        this.logger.warn(
          { event: 'chf-no-answer', chargeId: invocation.chargeId, seq: invocation.sequenceNumber, reason: err.reason, err: err.message, attempt: n },
          'no charging answer',
        );
        if (err.reason === 'timeout' || n >= MAX_ATTEMPTS || timeLeft <= 0) {
          return { status: 'unavailable', chargeId: invocation.chargeId, reason: `CHF ${err.reason}: ${err.message}`, retryAfterSec, unanswered: true };
        }
        attempt = { ...invocation, retransmission: true };
      }
    }
  }

  close(): Promise<void> {
    return this.client.close();
  }
}
