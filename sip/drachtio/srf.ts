/**
 * A typed facade over the part of drachtio-srf (5.0.x) the drachtio front uses.
 *
 * The typings bundled with drachtio-srf describe an older API and get several things wrong
 * (`Dialog.request` takes a request object, `responseHeaders` receives headers instead of the
 * response, no `connected`/`id` on dialogs, no `cbFinalizedUac`, no reconnect/ping options).
 * The front therefore never touches those typings: it sees drachtio-srf only through the
 * interfaces below, and the one cast from the untyped library lives in `createSrf`.
 */
import DrachtioSrf from 'drachtio-srf';
import { createRequire } from 'node:module';
import type { Server, Socket } from 'node:net';

/** Header name → value; one value per name (drachtio-srf joins repeated headers with commas). */
export type SipHeaders = Record<string, string>;

/** A parsed `From`/`To` header. */
export interface NameAddr {
  name?: string;
  uri: string;
  params: Record<string, string | undefined>;
}

/** What every SIP message object of drachtio-srf offers. */
export interface SipMessageView {
  /** Every header, by lower-cased name (`X-`/`P-` headers keep their case), repeated ones comma-joined. */
  readonly headers: SipHeaders;
  readonly body: string | undefined;
  get(name: string): string | undefined;
  has(name: string): boolean;
  getParsedHeader(name: 'from' | 'to'): NameAddr;
}

/** A request received from the network through drachtio-server. */
export interface SrfRequest extends SipMessageView {
  readonly method: string;
  readonly uri: string;
  /** Address of the peer that sent the request to drachtio-server. */
  readonly source_address: string;
  readonly source_port: number;
  /** The transport it came on (`udp`, `tcp` …; empty for an ACK). */
  readonly protocol: string;
  /** A request outside any dialog: drachtio-server's `host:port` it arrived at. */
  readonly receivedOn: string | undefined;
  readonly stackDialogId: string | undefined;
  /** An INVITE without a To tag: a new call, not a re-INVITE. */
  readonly isNewInvite: boolean;
  /** The drachtio-server connection the request came on (in outbound mode, one per call). */
  readonly socket: Socket;
  /** The drachtio-server that passed the request on: its address and its SIP endpoints (`hostports` of `connect`). */
  readonly server: { address: string; hostport: string } | undefined;
  on(event: 'cancel', listener: () => void): this;
  /** An initial INVITE being set up: an UPDATE of the caller in its early dialog. */
  on(event: 'update', listener: (req: SrfRequest, res: SrfOutgoingResponse) => void): this;
  removeAllListeners(event: 'update'): this;
}

/** A request this application sent (e.g. the B-leg INVITE), as echoed by drachtio-server. */
export interface SrfSentRequest extends SipMessageView {
  readonly method: string;
  readonly uri: string;
  cancel(): void;
  /** Every response to it, provisional ones included. */
  on(event: 'response', listener: (response: SrfResponse) => void): this;
}

/** A request sent through drachtio-server without a dialog object of drachtio-srf. */
export interface NewRequestOptions {
  method: string;
  headers: SipHeaders;
  body?: string;
  /** A dialog drachtio-server keeps (an early one included): the request goes inside it, Request-URI, route set and CSeq from the dialog. */
  stackDialogId?: string;
  /** The drachtio-server connection to send it on (default: the first one). */
  _socket?: Socket;
}

/** A response received from the network to a request this application sent. */
export interface SrfResponse extends SipMessageView {
  readonly status: number;
  readonly reason: string;
  /** drachtio-server's id of the dialog the response belongs to, if any. */
  readonly stackDialogId: string | undefined;
  /** Address of the peer that sent the response to drachtio-server. */
  readonly source_address: string;
}

export interface SendOptions {
  headers?: SipHeaders;
  body?: string;
}

/** The response object handed to request handlers; `send` writes the SIP response. */
export interface SrfOutgoingResponse {
  readonly finalResponseSent: boolean;
  /** `sent`: called once drachtio-server put the response on the wire, or with the reason it did not. */
  send(status: number, reason: string | undefined, options: SendOptions, sent?: (err: unknown) => void): void;
}

export type DialogRequestMethod = 'INVITE' | 'INFO' | 'BYE' | 'UPDATE' | 'OPTIONS' | 'MESSAGE' | 'REFER' | 'NOTIFY';

export interface DialogRequestOptions {
  method: DialogRequestMethod;
  headers?: SipHeaders;
  body?: string;
  /** INVITE only: do not ACK a 2xx without a body; the callback gets the ACK to send instead. */
  noAck?: boolean;
}

/** Sends the ACK of a 2xx to a re-INVITE this application sent (with the answer, for an offerless one). */
export type AckSender = (options?: { body?: string }) => void;

/** Called with every response to a request sent in a dialog, provisional ones included. */
export type DialogResponseCallback = (err: Error | null, response?: SrfResponse, ack?: AckSender) => void;

/** Requests a dialog hands to its listeners by the lower-cased method name. */
export type DialogRequestEvent = 'info' | 'update' | 'options' | 'message' | 'refer' | 'notify';

/** One SIP dialog of a B2BUA call (`uas` faces the caller, `uac` the called party). */
export interface SrfDialog {
  readonly id: string;
  readonly type: 'uas' | 'uac';
  /** False once a BYE was sent or received. */
  readonly connected: boolean;
  readonly sip: { callId: string; localTag: string; remoteTag: string };
  /** This side's Contact on the leg. */
  readonly local: { contact?: string } | undefined;
  on(event: 'destroy', listener: () => void): this;
  on(event: DialogRequestEvent, listener: (req: SrfRequest, res: SrfOutgoingResponse) => void): this;
  /** A re-INVITE; without a listener drachtio-srf answers it itself with the old session. */
  on(event: 'modify', listener: (req: SrfRequest, res: SrfOutgoingResponse) => void): this;
  once(event: 'ack', listener: (req: SrfRequest) => void): this;
  removeListener(event: 'ack', listener: (req: SrfRequest) => void): this;
  /** A request inside the dialog; resolves with the first response. (`dialog.info()`/`bye()` are broken in 5.0.x.) */
  request(options: DialogRequestOptions): Promise<SrfResponse>;
  /** The callback form: called with every response, and with the ACK to send when `noAck` held it back. */
  request(options: DialogRequestOptions, callback: DialogResponseCallback): this;
  /** Sends BYE. */
  destroy(): Promise<unknown>;
}

export interface B2BUAOptions {
  /** Next hop the B-leg INVITE is sent through (drachtio's outbound proxy for this request). */
  proxy?: string;
  /** false: a failure of the B leg is not relayed to the caller by drachtio-srf (the app sends it). */
  passFailure?: boolean;
  headers: SipHeaders;
  /** Headers added to every response relayed to the caller, computed per B-leg response. */
  responseHeaders: (response: SrfResponse, headers: SipHeaders) => SipHeaders;
  proxyRequestHeaders: string[];
  /** The B-leg INVITE's offer (default: the caller's). */
  localSdpB?: string;
  /** The caller's answer, from the called party's (default: the called party's as it is); awaited before the response goes. */
  localSdpA?: (calledSdp: string, response: SrfResponse) => Promise<string>;
  /** false: the called party's 18x are not relayed to the caller (`cbProvisional` still hears of each). */
  passProvisionalResponses?: boolean;
}

export interface B2BUAProgress {
  cbRequest?: (err: Error | null, request: SrfSentRequest) => void;
  /** Each 18x of the called party (relayed or not); those with a body only when they are not relayed. */
  cbProvisional?: (response: SrfResponse) => void;
  /** The B-leg dialog, as soon as the called party answered (before the caller's leg exists). */
  cbFinalizedUac?: (uac: SrfDialog) => void;
}

export interface InboundConnection {
  host: string;
  port: number;
  secret: string;
  enablePing: boolean;
  reconnect: { retryMaxDelay: number };
}

/** Outbound mode: where the app listens for the connections drachtio-server opens, one per call it routes here. */
export interface OutboundListener {
  host: string;
  port: number;
  secret: string;
}

export type InviteHandler = (req: SrfRequest, res: SrfOutgoingResponse) => void;
export type Middleware = (req: SrfRequest, res: SrfOutgoingResponse, next: () => void) => void;

export interface Srf {
  connect(options: InboundConnection): void;
  /**
   * Outbound mode: listens for drachtio-server's connections and answers each with `authenticate`
   * (no `route`: drachtio-server's request handlers decide what comes here). Returns the listening
   * server, whose own `error` (e.g. EADDRINUSE) drachtio-srf does not handle.
   */
  listen(options: OutboundListener): Server;
  disconnect(): void;
  /** Outbound mode: closes the connection a request came on; does nothing in inbound mode. */
  endSession(req: SrfRequest): void;
  invite(handler: InviteHandler): void;
  /** Requests of this method outside any dialog drachtio-srf knows; registers the method with drachtio-server. */
  use(method: 'info', handler: Middleware): void;
  /** Every request outside a dialog drachtio-srf knows, before the method handlers; registers nothing with drachtio-server. */
  use(handler: Middleware): void;
  createB2BUA(
    req: SrfRequest,
    res: SrfOutgoingResponse,
    uri: string,
    options: B2BUAOptions,
    progress: B2BUAProgress,
  ): Promise<{ uas: SrfDialog; uac: SrfDialog }>;
  request(uri: string, options: NewRequestOptions, callback: (err: Error | null, request?: SrfSentRequest) => void): this;
  /** `hostports`: the SIP endpoints of the drachtio-server, e.g. `udp/10.0.0.5:5060,tcp/10.0.0.5:5060`. */
  on(event: 'connect', listener: (err: Error | null, hostports: string, serverVersion?: string) => void): this;
  on(event: 'error', listener: (err: Error, connection?: Socket) => void): this;
  /** A drachtio-server connection closed (the only one in inbound mode, one of many in outbound mode). */
  on(event: 'close', listener: (connection: Socket) => void): this;
  on(event: 'reconnecting', listener: () => void): this;
  removeAllListeners(): this;
}

export function createSrf(): Srf {
  registerMissingStatuses();
  return new (DrachtioSrf as unknown as new () => Srf)();
}

/**
 * Status codes drachtio-srf's status table (the `sip-status` package) lacks. `Response#send`
 * refuses any code not in that table, so they are added to the very table drachtio-srf uses.
 */
const MISSING_STATUSES: Record<number, string> = { 469: 'Bad Info Package' }; // RFC 6086 §11.6

function statusTable(): Record<number, string> {
  const requireBesideSrf = createRequire(createRequire(import.meta.url).resolve('drachtio-srf'));
  return requireBesideSrf('sip-status') as Record<number, string>;
}

function registerMissingStatuses(): void {
  const table = statusTable();
  for (const [code, reason] of Object.entries(MISSING_STATUSES)) table[Number(code)] ??= reason;
}

/**
 * A status `Response#send` can send for `status`: the status itself, or the x00 of its class when
 * drachtio-srf's table does not know it (RFC 3261 §8.1.3.2: an unknown code counts as its x00).
 */
export function sendableStatus(status: number): number {
  return statusTable()[status] !== undefined ? status : Math.floor(status / 100) * 100;
}

/**
 * Calls `listener` with every dialog drachtio-srf creates, the moment it files it. `createB2BUA`
 * hands its dialogs over only after a few promise hops, and a request that arrives in between
 * (a re-INVITE right behind the ACK) finds a dialog with no listener: drachtio-srf answers a
 * re-INVITE itself with the old session then, which never reaches the other party.
 */
export function onDialogCreated(srf: Srf, listener: (dialog: SrfDialog) => void): void {
  const registry = srf as unknown as { addDialog(dialog: SrfDialog): void };
  const add = registry.addDialog.bind(srf);
  registry.addDialog = (dialog) => {
    add(dialog);
    listener(dialog);
  };
}

/**
 * Whether an answer to the request can still reach its sender, found out by sending it 100 Trying.
 * drachtio-server 0.9.10 hands an INFO of the caller's early dialog to the app outside any dialog
 * until the caller has PRACKed a reliable 18x, and answers it 500 itself as it does (it destroys
 * the transaction): the app's answer is then refused ("transport for response has been shutdown
 * or closed"), which the 100 finds out before the request is acted on.
 */
export function answerCanReachSender(res: SrfOutgoingResponse): Promise<boolean> {
  return new Promise((resolve) => res.send(100, undefined, {}, (err) => resolve(!err)));
}

/**
 * Handles the caller's UPDATEs in the early dialog of `invite` instead of drachtio-srf, which
 * answers them itself with the called party's last session description (or 500 before it has
 * one), whatever the caller offered. `createB2BUA` registers that answer when it sends the B leg,
 * just before it calls `cbRequest`: called from there, this replaces it.
 */
export function takeOverEarlyUpdates(invite: SrfRequest, handler: (req: SrfRequest, res: SrfOutgoingResponse) => void): void {
  invite.removeAllListeners('update');
  invite.on('update', handler);
}

/** Sends a request (inside the dialog `stackDialogId` names, if any) and resolves with its final response. */
export function sendRequest(srf: Srf, uri: string, options: NewRequestOptions): Promise<SrfResponse> {
  return new Promise((resolve, reject) => {
    srf.request(uri, options, (err, sent) => {
      if (err || !sent) {
        reject(err ?? new Error(`${options.method} was not sent`));
        return;
      }
      sent.on('response', (response) => {
        if (response.status >= 200) resolve(response);
      });
    });
  });
}

/** The reason phrase of the final response that failed a drachtio-srf operation, if any. */
export function sipErrorReason(err: unknown): string | undefined {
  const reason = (err as { reason?: unknown } | null)?.reason;
  return typeof reason === 'string' && reason.length > 0 ? reason : undefined;
}

/** The SIP status of a final non-2xx response that failed a drachtio-srf operation, else null. */
export function sipErrorStatus(err: unknown): number | null {
  if (err instanceof Error && err.name === 'SipError') {
    const status = (err as Error & { status?: unknown }).status;
    return typeof status === 'number' ? status : null;
  }
  return null;
}

/** True when drachtio-server no longer knows the dialog a request was sent in. */
export function isDialogGone(err: unknown): boolean {
  return err instanceof Error && (err as Error & { code?: unknown }).code === 'ENODIALOG';
}

/**
 * The bits of drachtio-srf's connection internals `closeConnection` needs: after a dropped
 * connection the wire protocol arms a retry timer that `disconnect()` does not clear.
 */
interface ConnectionInternals {
  app?: { client?: { wp?: { closing?: boolean; reconnectVars?: { retryTimer?: NodeJS.Timeout | null } } } };
}

/** Closes the connection to drachtio-server for good: no reconnection afterwards. */
export function closeConnection(srf: Srf): void {
  const wire = (srf as unknown as ConnectionInternals).app?.client?.wp;
  if (wire) {
    wire.closing = true;
    if (wire.reconnectVars?.retryTimer) {
      clearTimeout(wire.reconnectVars.retryTimer);
      wire.reconnectVars.retryTimer = null;
    }
  }
  try {
    srf.disconnect();
  } catch {
    // Not connected right now (drachtio-srf throws when it has no socket): nothing to close.
  }
}
