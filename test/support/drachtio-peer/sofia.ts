/**
 * What drachtio-server 0.9.10 (on sofia-sip) writes itself when it puts a message of the app on
 * the wire, as the recorded transcripts show (`drachtio-wire/` in the project's reference) and its
 * source says (`makeTags` in drachtio.cpp, `doRespondToSipRequest` in sip-dialog-controller.cpp).
 * The scripted drachtio-server builds every message it sends through these rules, so a fact
 * recorded from the real server lives in one place.
 */
import { buildSip, type HeaderList, type SipMessage } from '../raw-sip.js';

/** Headers the stack writes itself: the app's values for them never reach the wire. */
export const STACK_HEADERS = new Set(['via', 'from', 'to', 'call-id', 'cseq', 'content-length', 'max-forwards']);

/** Headers drachtio-server refuses to take from the app (`m_setImmutableHdrs`): Route and RSeq included. */
const IMMUTABLE_HEADERS = new Set(['via', 'route', 'rseq', 'record-route', 'content-length']);

/**
 * sofia-sip's own headers in the order of its `sip_t`, which is the order they go on the wire in,
 * all before Content-Length (recorded: `CSeq, Contact, Allow, Supported, Content-Type,
 * Content-Length` for an app that gave supported, allow, content-type; `Warning` before
 * Content-Length). Spelt as sofia spells them.
 */
const SOFIA_HEADERS = [
  'Via', 'Route', 'Record-Route', 'Max-Forwards', 'Proxy-Require', 'From', 'To', 'Call-ID', 'CSeq', 'Contact', 'RSeq', 'RAck',
  'Request-Disposition', 'Accept-Contact', 'Reject-Contact', 'Expires', 'Date', 'Retry-After', 'Timestamp', 'Min-Expires',
  'Subject', 'Priority', 'Call-Info', 'Organization', 'Server', 'User-Agent', 'In-Reply-To', 'Accept', 'Accept-Encoding',
  'Accept-Language', 'Allow', 'Require', 'Supported', 'Unsupported', 'Event', 'Allow-Events', 'Subscription-State',
  'Proxy-Authenticate', 'Proxy-Authentication-Info', 'Proxy-Authorization', 'Authorization', 'WWW-Authenticate',
  'Authentication-Info', 'Error-Info', 'Warning', 'Refer-To', 'Referred-By', 'Replaces', 'Session-Expires', 'Min-SE', 'Path',
  'Service-Route', 'Reason', 'Security-Client', 'Security-Server', 'Security-Verify', 'Privacy', 'SIP-ETag', 'SIP-If-Match',
  'MIME-Version', 'Content-Type', 'Content-Encoding', 'Content-Language', 'Content-Disposition',
];
const SOFIA_ORDER = new Map(SOFIA_HEADERS.map((name, index) => [name.toLowerCase(), index]));
/** Headers drachtio-server knows by name but sofia keeps outside its `sip_t`: written after Content-Length. */
const EXTRA_HEADERS = new Map(['Alert-Info', 'Reply-To', 'P-Asserted-Identity', 'P-Preferred-Identity', 'Remote-Party-ID'].map((n) => [n.toLowerCase(), n]));

/**
 * The name a header the app wrote goes on the wire under (recorded: `alert-info` → `Alert-Info`,
 * `recv-info` → `Recv-Info`): sofia's spelling of its own headers, every other name capitalised
 * after each dash (`capitalizeAfterDash`), except `X-` headers, which keep the app's case.
 */
export function wireHeaderName(name: string): string {
  const lower = name.toLowerCase();
  const sofia = SOFIA_ORDER.get(lower);
  if (sofia !== undefined) return SOFIA_HEADERS[sofia]!;
  const extra = EXTRA_HEADERS.get(lower);
  if (extra) return extra;
  if (lower.startsWith('x-')) return name;
  return lower.replace(/(^|-)([a-z])/g, (_, dash: string, c: string) => dash + c.toUpperCase());
}

/**
 * Lays out a message as sofia serialises it: the stack's headers and sofia's own in `sip_t`
 * order, Content-Length, then every other header in the reverse of the order it was given in
 * (recorded: the app's `alert-info`, `recv-info` went out as `Recv-Info`, `Alert-Info`).
 */
export function sofiaMessage(startLine: string, headers: HeaderList, body: string): string {
  const own: Array<[string, string, number]> = [];
  const others: HeaderList = [];
  headers.forEach(([name, value], index) => {
    const wire = wireHeaderName(name);
    const order = SOFIA_ORDER.get(wire.toLowerCase());
    if (order === undefined) others.unshift([wire, value]);
    else own.push([wire, value, order * 10_000 + index]);
  });
  own.sort((x, y) => x[2] - y[2]);
  const lines = own.map(([name, value]) => `${name}: ${value}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body, 'utf8')}`, ...others.map(([name, value]) => `${name}: ${value}`));
  return `${startLine}\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

/** The headers of an app's message the stack copies onto the wire (its own and immutable ones left out). */
export function appHeaders(app: SipMessage): HeaderList {
  return app.headerLines.filter(([name]) => !STACK_HEADERS.has(name) && !IMMUTABLE_HEADERS.has(name)).map(([name, value]) => [name, value]);
}

/** drachtio-server refuses a body without Content-Type unless it is SDP, which it labels. */
export function withContentType(headers: HeaderList, body: string): HeaderList {
  if (!body || headers.some(([n]) => n.toLowerCase() === 'content-type')) return headers;
  if (!body.startsWith('v=0')) throw new Error('missing content-type');
  return [...headers, ['Content-Type', 'application/sdp']];
}

/** The app asked for a reliable provisional response: `Require: 100rel` in its headers (any case, any list position). */
export function asksReliable(app: SipMessage): boolean {
  return app.status > 100 && app.status < 200 && optionTags(app, 'require').includes('100rel');
}

/** Whether a UA can take reliable provisional responses: it sent `100rel` in Supported or Require (RFC 3262 §3). */
export function acceptsReliable(request: SipMessage): boolean {
  return [...optionTags(request, 'supported'), ...optionTags(request, 'require')].includes('100rel');
}

function optionTags(message: SipMessage, header: string): string[] {
  return message.headerAll(header).flatMap((v) => v.split(',').map((t) => t.trim().toLowerCase()));
}

/**
 * The largest request body drachtio-server passes on (recorded: a UDP or TCP INFO with a body
 * over 8 KiB is answered `400 Bad Request`, no Warning, by drachtio-server itself, and never
 * reaches the app; measured with the real server: 8192 bytes pass, 8193 do not, whatever the
 * headers, and over TCP the connection is closed after the 400).
 */
export const MAX_REQUEST_BODY = 8192;

/** The stack's bare 400 to a request it will not pass on. */
export function badRequest(request: SipMessage): string {
  return buildSip('SIP/2.0 400 Bad Request', responseHeaders(request, request.header('to')!), '');
}

/** Via, From, To, Call-ID and CSeq of a response to `request`, with the given To. */
export function responseHeaders(request: SipMessage, to: string): HeaderList {
  return [
    ...request.headerAll('via').map((v): [string, string] => ['Via', v]),
    ['From', request.header('from')!],
    ['To', to],
    ['Call-ID', request.callId],
    ['CSeq', request.header('cseq')!],
  ];
}

/** The ACK a SIP stack sends by itself for a non-2xx final response (RFC 3261 §17.1.1.3). */
export function stackAck(invite: SipMessage, response: SipMessage): string {
  return buildSip(
    `ACK ${invite.uri} SIP/2.0`,
    [
      ['Via', invite.header('via')!],
      ['Max-Forwards', '70'],
      ['From', invite.header('from')!],
      ['To', response.header('to')!],
      ['Call-ID', invite.callId],
      ['CSeq', `${invite.cseq.seq} ACK`],
    ],
    '',
  );
}

/** The CANCEL of an INVITE: its Request-URI, top Via, From, To and Call-ID, CSeq number and `CANCEL` (RFC 3261 §9.1). */
export function cancelOf(invite: SipMessage, extra: HeaderList = []): string {
  return buildSip(
    `CANCEL ${invite.uri} SIP/2.0`,
    [
      ['Via', invite.header('via')!],
      ['Max-Forwards', '70'],
      ['From', invite.header('from')!],
      ['To', invite.header('to')!],
      ['Call-ID', invite.callId],
      ['CSeq', `${invite.cseq.seq} CANCEL`],
      ...extra,
    ],
    '',
  );
}

export const REASONS: Record<number, string> = {
  100: 'Trying',
  180: 'Ringing',
  183: 'Session Progress',
  200: 'OK',
  400: 'Bad Request',
  415: 'Unsupported Media Type',
  481: 'Call/Transaction Does Not Exist',
  486: 'Busy Here',
  487: 'Request Terminated',
  500: 'Server Internal Error',
};
