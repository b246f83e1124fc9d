/**
 * Reading a SIP message off the wire: a strict check of the message as it came (RFC 3261 §25
 * grammar for the start line and for the headers a proxy must understand, RFC 4475's torture
 * cases), then the `sip` package's parser for the structured view, corrected where it changes
 * what it read (it un-escapes method and header names and takes a datagram's trailing bytes
 * as the body).
 *
 * Why a check in front of the package rather than another parser: the package's model is what
 * the rest of the stack builds on, and a single pass over the header lines that refuses the
 * faults costs less than the package's own parse (README, "The SIP parser").
 */
import { listEntries } from '../common/header-values.js';
import { isRequest, sipPackage, type SipMessage } from './sip-package.js';
import type { Protocol } from './transports.js';

/** One header line as it came: its name as written, its key (lower case, compact form expanded), its value unfolded. */
export interface WireHeader {
  name: string;
  key: string;
  value: string;
}

/** A refusal the stack sends itself: 400, 505 for another SIP version, 413 past the size cap. */
export interface Refusal {
  status: number;
  reason: string;
  /** What is wrong, for the Warning header and the log. */
  fault: string;
}

export type Reading =
  | { kind: 'message'; message: SipMessage; headers: WireHeader[] }
  /** A request with a fault that can still be answered from its own header lines. */
  | { kind: 'refused'; refusal: Refusal; headers: WireHeader[] }
  /** Nothing that can be answered: a response with a fault, or a request without a usable Via. */
  | { kind: 'unreadable'; fault: string };

const TOKEN = "[A-Za-z0-9\\-.!%*_+`'~]+";
const QUOTED = '"(?:[^"\\\\]|\\\\[\\s\\S])*"';
const LWS = '[ \\t]*';
const IS_TOKEN = new RegExp(`^${TOKEN}$`);
const REQUEST_LINE = new RegExp(`^(${TOKEN}) (\\S+) (SIP/\\d+\\.\\d+)$`);
const STATUS_LINE = /^SIP\/2\.0 ([1-6]\d\d) [^\r\n]*$/;
const SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:\S/;
/** `;name[=value]`, one or more, each with optional LWS around `;` and `=` (RFC 3261 SEMI, EQUAL). */
const PARAMS = new RegExp(`^(?:${LWS};${LWS}${TOKEN}(?:${LWS}=${LWS}(?:[A-Za-z0-9\\-.!%*_+\`'~:\\[\\]]+|${QUOTED}))?)*${LWS}$`);
const VIA = new RegExp(`^SIP${LWS}/${LWS}(\\d+\\.\\d+)${LWS}/${LWS}${TOKEN}[ \\t]+(?:\\[[0-9A-Fa-f:.]+\\]|[A-Za-z0-9\\-.]+)(?:${LWS}:${LWS}\\d{1,5})?(.*)$`);
const DISPLAY_NAME = new RegExp(`^(?:${QUOTED}|${TOKEN}(?:[ \\t]+${TOKEN})*)?${LWS}$`);
const CSEQ = new RegExp(`^\\d+[ \\t]+${TOKEN}$`);
const DIGITS = /^\d+$/;

const COMPACT: Record<string, string> = {
  i: 'call-id', m: 'contact', e: 'content-encoding', l: 'content-length', c: 'content-type',
  f: 'from', s: 'subject', k: 'supported', t: 'to', v: 'via', o: 'event', u: 'allow-events', r: 'refer-to', b: 'referred-by', x: 'session-expires',
};
/** Headers a message carries at most once (RFC 3261 §7.3.1: only list headers may repeat). */
const SINGLE = ['to', 'from', 'call-id', 'cseq', 'max-forwards', 'content-length', 'content-type'];
const REQUIRED = ['via', 'to', 'from', 'call-id', 'cseq'];
/** RFC 3261 §8.1.1.5: a CSeq number is below 2**31. */
const MAX_CSEQ = 2 ** 31 - 1;
const MAX_MAX_FORWARDS = 255;

/**
 * Reads one message: a whole datagram (UDP, WebSocket), or what the stream framer cut off a
 * TCP connection (its body exactly as long as Content-Length says).
 */
export function readMessage(bytes: Buffer, protocol: Protocol): Reading {
  const raw = bytes.toString('latin1');
  const text = raw.startsWith('\r\n') ? raw.replace(/^(?:\r\n)+/, '') : raw;
  const end = text.indexOf('\r\n\r\n');
  // A datagram's end closes a header section that has no blank line after it.
  const head = end < 0 ? text.replace(/\r\n$/, '') : text.slice(0, end);
  const rest = end < 0 ? '' : text.slice(end + 4);
  const lines = head.split(/\r\n(?![ \t])/);
  const startLine = lines[0]!;
  const headers: WireHeader[] = [];
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    const name = colon < 0 ? '' : line.slice(0, colon).trimEnd();
    if (!IS_TOKEN.test(name)) return unanswerable(headers, 'header line without a name', startLine);
    const lower = name.toLowerCase();
    const value = line.slice(colon + 1);
    headers.push({ name, key: COMPACT[lower] ?? lower, value: (value.includes('\r\n') ? value.replace(/\r\n[ \t]+/g, ' ') : value).trim() });
  }

  const request = !startLine.startsWith('SIP/');
  const fault = request ? requestFault(startLine, headers, rest, protocol) : responseFault(startLine, headers, rest, protocol);
  if (fault) return request ? unanswerable(headers, fault.fault, startLine, fault) : { kind: 'unreadable', fault: fault.fault };

  const message = packageParse(end < 0 ? `${head}\r\n\r\n` : text, headers);
  if (!message) return request ? unanswerable(headers, 'unreadable message', startLine) : { kind: 'unreadable', fault: 'unreadable response' };
  const length = headers.find((h) => h.key === 'content-length');
  message.content = length ? rest.slice(0, Number(length.value)) : rest;
  // The method as it came (the package un-escapes it: `RE%47IST%45R` is not REGISTER, RFC 4475 §3.1.1.5).
  message.headers.cseq.method = headers.find((h) => h.key === 'cseq')!.value.split(/[ \t]+/)[1]!;
  if (isRequest(message)) message.method = message.headers.cseq.method;
  return { kind: 'message', message, headers };
}

/** A request with a fault: refused when its Via, Call-ID and CSeq lines let a response find its way back. */
function unanswerable(headers: WireHeader[], fault: string, startLine: string, refusal?: Refusal): Reading {
  const answerable = !startLine.startsWith('SIP/') && headers.some((h) => h.key === 'via');
  return answerable ? { kind: 'refused', refusal: refusal ?? { status: 400, reason: 'Bad Request', fault }, headers } : { kind: 'unreadable', fault };
}

function requestFault(startLine: string, headers: WireHeader[], body: string, protocol: Protocol): Refusal | null {
  const line = REQUEST_LINE.exec(startLine);
  if (!line) return bad('malformed Request-Line');
  const [, method, uri, version] = line as unknown as [string, string, string, string];
  if (version !== 'SIP/2.0') return { status: 505, reason: 'Version Not Supported', fault: `${version} is not supported` };
  if (!SCHEME.test(uri)) return bad('malformed Request-URI');
  // Headers (`?…`) belong in a URI of a header, never in a Request-URI (RFC 3261 §19.1.5); `?` in the user part is legal.
  if (/^sips?:/i.test(uri) && uri.slice(uri.lastIndexOf('@') + 1).includes('?')) return bad('Request-URI carries headers');
  const common = headerFault(headers, body, protocol);
  if (common) return bad(common);
  const [seq, cseqMethod] = headers.find((h) => h.key === 'cseq')!.value.split(/[ \t]+/);
  if (cseqMethod !== method) return bad('CSeq method does not match the request');
  if (Number(seq) > MAX_CSEQ) return bad('CSeq number out of range');
  const maxForwards = headers.find((h) => h.key === 'max-forwards');
  if (maxForwards && (!DIGITS.test(maxForwards.value) || Number(maxForwards.value) > MAX_MAX_FORWARDS)) return bad('bad Max-Forwards');
  if (protocol === 'TCP' && !headers.some((h) => h.key === 'content-length')) return bad('no Content-Length on a stream');
  return null;
}

function responseFault(startLine: string, headers: WireHeader[], body: string, protocol: Protocol): Refusal | null {
  if (!STATUS_LINE.test(startLine)) return bad('malformed Status-Line');
  const common = headerFault(headers, body, protocol);
  if (common) return bad(common);
  if (Number(headers.find((h) => h.key === 'cseq')!.value.split(/[ \t]+/)[0]) > MAX_CSEQ) return bad('CSeq number out of range');
  return null;
}

/** Faults of the header section any message can have; null when it reads as RFC 3261 writes it. */
function headerFault(headers: WireHeader[], body: string, protocol: Protocol): string | null {
  const seen = new Map<string, number>();
  for (const { key, name, value } of headers) {
    seen.set(key, (seen.get(key) ?? 0) + 1);
    const fault = valueFault(key, value);
    if (fault) return `${name}: ${fault}`;
  }
  const missing = REQUIRED.filter((key) => !seen.has(key));
  if (missing.length > 0) return `no ${missing.join(', ')}`;
  const repeated = SINGLE.find((key) => (seen.get(key) ?? 0) > 1);
  if (repeated) return `more than one ${repeated}`;
  const length = headers.find((h) => h.key === 'content-length');
  if (length && protocol !== 'TCP' && Number(length.value) > body.length) return 'body shorter than Content-Length';
  return null;
}

function valueFault(key: string, value: string): string | null {
  switch (key) {
    case 'via':
      return listEntries(value).some((via) => !isVia(via)) ? 'malformed Via' : null;
    case 'to':
    case 'from':
      return addressFault(value);
    case 'contact':
      if (value === '*') return null;
      return firstFault(listEntries(value).map(addressFault));
    case 'route':
    case 'record-route':
      return firstFault(listEntries(value).map((entry) => (entry.includes('<') ? addressFault(entry) : 'not a name-addr')));
    case 'cseq':
      return CSEQ.test(value) ? null : 'malformed CSeq';
    case 'call-id':
      return value.length > 0 && !/\s/.test(value) ? null : 'malformed Call-ID';
    case 'content-length':
      return DIGITS.test(value) ? null : 'not a length';
    default:
      return null;
  }
}

function isVia(entry: string): boolean {
  const via = VIA.exec(entry);
  return via !== null && via[1] === '2.0' && PARAMS.test(via[2]!);
}

/**
 * A name-addr (`[display-name] <URI> *(;param)`) or addr-spec (`URI *(;param)`): balanced
 * quotes, no LWS inside `<…>` (RFC 4475 §3.1.2.14), a display name of tokens or one quoted
 * string, no empty parameter, and an addr-spec without `?` or `,` (a URI with headers must be
 * written as a name-addr, RFC 3261 §20.10; after `;` come the header's own parameters).
 */
function addressFault(entry: string): string | null {
  if (entry.length === 0) return 'empty address';
  const open = openingBracket(entry);
  if (open === -2) return 'unbalanced quotes';
  if (open >= 0) {
    const close = entry.indexOf('>', open);
    if (close < 0) return 'no closing >';
    const uri = entry.slice(open + 1, close);
    if (!SCHEME.test(uri) || /[\s<]/.test(uri)) return 'malformed URI in <…>';
    if (!DISPLAY_NAME.test(entry.slice(0, open))) return 'malformed display name';
    return PARAMS.test(entry.slice(close + 1)) ? null : 'malformed parameters';
  }
  const semi = entry.indexOf(';');
  const uri = (semi < 0 ? entry : entry.slice(0, semi)).trimEnd();
  if (!SCHEME.test(uri) || /[\s?,"<>]/.test(uri)) return 'malformed address';
  return semi < 0 || PARAMS.test(entry.slice(semi)) ? null : 'malformed parameters';
}

/** Index of the `<` outside quotes; -1 when there is none, -2 when a quoted string never closes. */
function openingBracket(entry: string): number {
  let quoted = false;
  for (let i = 0; i < entry.length; i++) {
    const c = entry[i];
    if (quoted && c === '\\') i++;
    else if (c === '"') quoted = !quoted;
    else if (!quoted && c === '<') return i;
  }
  return quoted ? -2 : -1;
}

function firstFault(faults: Array<string | null>): string | null {
  return faults.find((fault) => fault !== null) ?? null;
}

function bad(fault: string): Refusal {
  return { status: 400, reason: 'Bad Request', fault };
}

/**
 * The package's parse of a message that passed the check. Header names with `%` are handed to
 * it escaped, so it keeps them as written instead of merging `C%6Fntact` into Contact (RFC 4475
 * §3.1.1.5); names of headers written as strings keep their spelling on the way out.
 */
function packageParse(text: string, headers: WireHeader[]): SipMessage | undefined {
  let escaped = text;
  if (headers.some((h) => h.name.includes('%'))) {
    // Header lines only: not the start line, not the body.
    const [first, end] = [text.indexOf('\r\n'), text.indexOf('\r\n\r\n')];
    const section = text.slice(first, end).replace(/\r\n([^\r\n: \t]*%[^\r\n: \t]*)([ \t]*):/g, (_, name: string, space: string) => `\r\n${name.replace(/%/g, '%25')}${space}:`);
    escaped = text.slice(0, first) + section + text.slice(end);
  }
  let message: SipMessage | undefined;
  try {
    message = sipPackage.parse(escaped);
  } catch {
    return undefined;
  }
  if (!message?.headers?.via?.length || !message.headers.from || !message.headers.to || typeof message.headers.cseq?.seq !== 'number') return undefined;
  const spelled: Record<string, string> = {};
  for (const { name, key } of headers) {
    if (name.length === 1) continue; // a compact form travels in its long form
    const parsedKey = name.includes('%') ? name.toLowerCase() : key;
    spelled[parsedKey] ??= name;
  }
  message.headerNames = spelled;
  return message;
}
