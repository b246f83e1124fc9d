/**
 * A test CHF: a real HTTP/2 (h2c) server implementing the part of Nchf_ConvergedCharging
 * (TS 32.291) the server uses — immediate event charging on `POST …/chargingdata` — with
 * per-subscriber balances and switches for deny, slow, 5xx and drop. For tests only.
 *
 * A request repeating an invocation already answered (same consumer, same sequence number) is a
 * retransmission: it is answered from the record and never charged again; a repeat not marked as
 * a retransmission is refused (400), as it means the client reused a sequence number.
 */
import http2, { type Http2Server, type ServerHttp2Stream } from 'node:http2';
import type { AddressInfo } from 'node:net';
import type { ChargingDataRequest } from '../../src/charging/nchf-messages.js';

export interface StoredAnswer {
  status: number;
  body: unknown;
  headers: Record<string, string>;
}

interface Switches {
  deny: { resultCode: string; status: number };
  slow: number;
  failure: number;
  drop: 'before' | 'after';
}

/** A fault chosen for one request by `faultFor` (instead of the one-shot switches). */
export type ChfFault =
  | { kind: 'deny'; resultCode: string; status: number }
  | { kind: 'slow'; ms: number }
  | { kind: 'failure'; status: number }
  | { kind: 'drop'; when: 'before' | 'after' };

interface Switch<T> {
  value: T;
  /** Requests left that the switch applies to (Infinity: until cleared). */
  left: number;
}

export class TestChf {
  /** Every request received, in order (including dropped and retransmitted ones). */
  readonly requests: ChargingDataRequest[] = [];
  /** Events actually charged: invocation key → amount. */
  readonly charged = new Map<string, number>();
  readonly balances = new Map<string, number>();
  private readonly answers = new Map<string, StoredAnswer>();
  private readonly openSessions = new Set<http2.Http2Session>();
  private readonly switches: { [K in keyof Switches]: Switch<Switches[K]> | null } = { deny: null, slow: null, failure: null, drop: null };
  private refCounter = 0;
  /** Called after an event is charged and before it is answered (e.g. to break the store then). */
  onCharged: ((request: ChargingDataRequest) => Promise<void> | void) | null = null;
  /** Picks a fault (or none) for every request, retransmissions included; the switches then stay unused. */
  faultFor: ((request: ChargingDataRequest) => ChfFault | null) | null = null;

  private constructor(
    private readonly server: Http2Server,
    readonly url: string,
  ) {}

  static async start(options: { port?: number } = {}): Promise<TestChf> {
    const server = http2.createServer();
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(options.port ?? 0, '127.0.0.1', () => resolve());
    });
    const { port } = server.address() as AddressInfo;
    const chf = new TestChf(server, `http://127.0.0.1:${port}`);
    server.on('stream', (stream: http2.ServerHttp2Stream, headers) => chf.handle(stream, headers));
    return chf;
  }

  setBalance(subscriber: string, amount: number): void {
    this.balances.set(subscriber, amount);
  }

  /** Refuse the next `times` requests with `resultCode` (HTTP 403, or 201 carrying the code). */
  denyNext(resultCode = 'END_USER_SERVICE_DENIED', options: { status?: number; times?: number } = {}): void {
    this.switches.deny = { value: { resultCode, status: options.status ?? 403 }, left: options.times ?? Infinity };
  }
  /** Charge at once but answer the next `times` requests only after `ms`. */
  slowNext(ms: number, times = Infinity): void {
    this.switches.slow = { value: ms, left: times };
  }
  /** Answer the next `times` requests with a 5xx, charging nothing. */
  failNext(status = 503, times = Infinity): void {
    this.switches.failure = { value: status, left: times };
  }
  /** Drop the connection without answering the next `times` requests, before or after charging. */
  dropNext(when: 'before' | 'after', times = 1): void {
    this.switches.drop = { value: when, left: times };
  }
  clearSwitches(): void {
    this.switches.deny = this.switches.slow = this.switches.failure = this.switches.drop = null;
  }

  /** Every event charged, with the charge id the server sent as IMS charging identifier. */
  ledger(): Array<{ subscriber: string; sequenceNumber: number; chargeId: string | undefined; amount: number }> {
    return [...this.charged].map(([key, amount]) => {
      const [subscriber = '', nfName = '', seq = ''] = key.split('|');
      const sent = this.requests.find((r) => (r.nfConsumerIdentification?.nFName ?? '') === nfName && r.invocationSequenceNumber === Number(seq));
      return { subscriber, sequenceNumber: Number(seq), chargeId: sent?.iMSChargingInformation?.imsChargingIdentifier, amount };
    });
  }

  /** Closes every client connection the way a CHF going down for maintenance does (GOAWAY): requests in flight are still answered. */
  closeConnectionsGracefully(): void {
    for (const session of this.openSessions) session.close();
  }

  /** How many times a subscriber was charged. */
  chargesOf(subscriber: string): number {
    return [...this.charged.keys()].filter((key) => key.startsWith(`${subscriber}|`)).length;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      this.server.close(() => resolve());
      // Sessions kept open by clients would hold close() forever.
      for (const session of this.openSessions) session.destroy();
    });
  }


  private handle(stream: ServerHttp2Stream, headers: http2.IncomingHttpHeaders): void {
    const session = stream.session;
    if (session && !this.openSessions.has(session)) {
      this.openSessions.add(session);
      session.once('close', () => this.openSessions.delete(session));
    }
    stream.on('error', () => undefined);
    if (headers[':method'] !== 'POST' || headers[':path'] !== '/nchf-convergedcharging/v3/chargingdata') {
      return this.reply(stream, { status: 404, body: { status: 404, cause: 'RESOURCE_NOT_FOUND' }, headers: {} });
    }
    const chunks: Buffer[] = [];
    stream.on('data', (chunk: Buffer) => chunks.push(chunk));
    stream.on('end', () => {
      let request: ChargingDataRequest;
      try {
        request = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ChargingDataRequest;
      } catch {
        return this.reply(stream, problem(400, 'INVALID_MSG_FORMAT'));
      }
      this.requests.push(request);
      void this.process(stream, request);
    });
  }

  private async process(stream: ServerHttp2Stream, request: ChargingDataRequest): Promise<void> {
    const picked = this.faultFor?.(request) ?? null;
    const fault = <K extends keyof Switches>(name: K, value: (f: ChfFault) => Switches[K] | undefined): Switches[K] | undefined =>
      this.faultFor ? (picked ? value(picked) : undefined) : this.take(name);
    const drop = fault('drop', (f) => (f.kind === 'drop' ? f.when : undefined));
    if (drop === 'before') return dropConnection(stream);
    const failure = fault('failure', (f) => (f.kind === 'failure' ? f.status : undefined));
    if (failure !== undefined) return this.reply(stream, problem(failure, 'SYSTEM_FAILURE'));

    const answer = this.answer(request, () => fault('deny', (f) => (f.kind === 'deny' ? { resultCode: f.resultCode, status: f.status } : undefined)));
    if (answer.status === 201) await this.onCharged?.(request);
    if (drop === 'after') return dropConnection(stream);
    const slow = fault('slow', (f) => (f.kind === 'slow' ? f.ms : undefined));
    if (slow !== undefined) await new Promise((resolve) => setTimeout(resolve, slow));
    this.reply(stream, answer);
  }

  /** Charges the event (once per invocation) and returns the answer to give. */
  private answer(request: ChargingDataRequest, denial: () => Switches['deny'] | undefined): StoredAnswer {
    if (!request.nfConsumerIdentification?.nodeFunctionality || !request.invocationTimeStamp || typeof request.invocationSequenceNumber !== 'number') {
      return problem(400, 'MANDATORY_IE_MISSING');
    }
    const invocation = `${request.nfConsumerIdentification.nFName ?? ''}|${request.invocationSequenceNumber}`;
    const earlier = this.answers.get(invocation);
    if (earlier) return request.retransmissionIndicator ? earlier : problem(400, 'DUPLICATE_INVOCATION');

    const unit = request.multipleUnitUsage?.[0];
    const subscriber = request.subscriberIdentifier ?? '';
    const amount = unit?.requestedUnit?.serviceSpecificUnits ?? 0;
    const base = { invocationTimeStamp: new Date().toISOString(), invocationSequenceNumber: request.invocationSequenceNumber };
    let result: StoredAnswer;
    const deny = denial();
    const balance = this.balances.get(subscriber);
    if (!request.oneTimeEvent || request.oneTimeEventType !== 'IEC' || !unit) {
      result = problem(400, 'CHARGING_FAILED');
    } else if (deny) {
      result = refusal(deny.status, deny.resultCode, base, unit.ratingGroup);
    } else if (balance === undefined) {
      result = refusal(404, 'USER_UNKNOWN', base, unit.ratingGroup);
    } else if (balance < amount) {
      result = refusal(403, 'QUOTA_LIMIT_REACHED', base, unit.ratingGroup);
    } else {
      this.balances.set(subscriber, balance - amount);
      this.charged.set(`${subscriber}|${invocation}`, amount);
      const ref = `${++this.refCounter}`;
      result = {
        status: 201,
        headers: { location: `/nchf-convergedcharging/v3/chargingdata/${ref}` },
        body: { ...base, multipleUnitInformation: [{ ratingGroup: unit.ratingGroup, resultCode: 'SUCCESS', grantedUnit: { serviceSpecificUnits: amount } }] },
      };
    }
    this.answers.set(invocation, result);
    return result;
  }

  /** The value of a switch for this request, counting the request against it. */
  private take<K extends keyof Switches>(name: K): Switches[K] | undefined {
    const current = this.switches[name];
    if (!current) return undefined;
    current.left -= 1;
    if (current.left <= 0) this.switches[name] = null;
    return current.value;
  }

  private reply(stream: ServerHttp2Stream, answer: StoredAnswer): void {
    if (stream.destroyed || stream.closed) return;
    const body = JSON.stringify(answer.body);
    stream.respond({
      ':status': answer.status,
      'content-type': answer.status >= 400 ? 'application/problem+json' : 'application/json',
      ...answer.headers,
    });
    stream.end(body);
  }
}

/**
 * Drops the connection a request came on, with every request on it. On the next turn of the
 * event loop: Node 20's HTTP/2 server corrupts its heap when a session is destroyed from a
 * stream's own event handler while other streams of that session are still open.
 */
function dropConnection(stream: ServerHttp2Stream): void {
  const session = stream.session;
  setImmediate(() => session?.destroy());
}

function problem(status: number, cause: string): StoredAnswer {
  return { status, body: { status, cause, title: cause }, headers: {} };
}

function refusal(status: number, resultCode: string, base: Record<string, unknown>, ratingGroup: number): StoredAnswer {
  return {
    status,
    headers: {},
    body: {
      ...base,
      invocationResult: { error: { status, cause: resultCode } },
      multipleUnitInformation: [{ ratingGroup, resultCode }],
    },
  };
}
