/**
 * Typed view of the parts of the untyped `sip` package (0.0.6) this stack uses: its message
 * parser and serializer, its RFC 3261 transaction state machines and its URI parser. Its
 * resolver and transports and its `start`/`send` glue are not used (see stack.ts for why).
 * Nothing outside `sip/sip-stack/` touches the package directly.
 */
import { createRequire } from 'node:module';

/** A URI as the package parses it. `port` is NaN when the URI has none. */
export interface RawUri {
  schema: string;
  user?: string;
  password?: string;
  host: string;
  port: number;
  params: Record<string, string | null>;
  headers: Record<string, string>;
}

/**
 * `name-addr` of From, To, Contact, Route, Record-Route. `uri` stays a string unless parsed, and
 * is missing when the package could not read the header at all (e.g. `Route: garbage`).
 */
export interface NameAddr {
  name?: string;
  uri: string | RawUri | undefined;
  params: Record<string, string | null>;
}

export interface Via {
  version?: string;
  protocol: string;
  host: string;
  port?: number;
  params: Record<string, string | null>;
}

export interface CSeq {
  seq: number;
  method: string;
}

/**
 * Header names are lower-case (compact forms expanded). Headers the package parses have
 * structured values; every other header is a string (repeated lines joined with commas), or a
 * list of strings when this stack adds one line per value.
 */
export interface SipHeaders {
  via: Via[];
  to: NameAddr;
  from: NameAddr;
  'call-id': string;
  cseq: CSeq;
  contact?: NameAddr[] | '*';
  route?: NameAddr[];
  'record-route'?: NameAddr[];
  'content-length'?: number;
  [name: string]: unknown;
}

export interface SipRequest {
  method: string;
  /** Request-URI as received (any scheme). */
  uri: string;
  version?: string;
  headers: SipHeaders;
  /** Body as a byte string (latin1): one character per octet. */
  content: string;
  /** Header names as they came, by key, so unknown headers leave spelled as they arrived. */
  headerNames?: Record<string, string>;
}

export interface SipResponse {
  status: number;
  reason: string;
  version?: string;
  headers: SipHeaders;
  content?: string;
  headerNames?: Record<string, string>;
}

export type SipMessage = SipRequest | SipResponse;

/** A connection the transaction layer sends through. */
export interface TransactionConnection {
  send(message: SipMessage): void;
  release(): void;
  readonly protocol: string;
}

export interface ServerTransaction {
  send(response: SipResponse): void;
  message(request: SipRequest): void;
  shutdown(): void;
}

export interface ClientTransaction {
  message(response: SipResponse, remote?: unknown): void;
  shutdown(): void;
}

export interface TransactionLayer {
  createServerTransaction(request: SipRequest, connection: TransactionConnection): ServerTransaction;
  /** Sets a fresh branch on the top Via (except for CANCEL) and starts the client state machine. */
  createClientTransaction(
    connection: TransactionConnection,
    request: SipRequest,
    onResponse: (response: SipResponse) => void,
  ): ClientTransaction;
  getServer(message: SipMessage): ServerTransaction | undefined;
  getClient(message: SipMessage): ClientTransaction | undefined;
  destroy(): void;
}

interface SipPackage {
  parse(data: Buffer | string): SipMessage | undefined;
  stringify(message: SipMessage): string;
  makeResponse(
    request: SipRequest,
    status: number,
    reason?: string,
    extension?: { headers?: Record<string, unknown>; content?: string },
  ): SipResponse;
  makeTransactionLayer(options: Record<string, unknown>, open: unknown): TransactionLayer;
  parseUri(uri: string): RawUri | undefined;
  stringifyUri(uri: RawUri | string): string;
}

export const sipPackage = createRequire(import.meta.url)('sip') as SipPackage;

export function isRequest(message: SipMessage): message is SipRequest {
  return (message as SipRequest).method !== undefined;
}
