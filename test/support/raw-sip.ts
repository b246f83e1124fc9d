/**
 * Raw SIP text for tests: parse what a SIP stack put on the wire, and build messages to send.
 * Deliberately independent of the server's SIP libraries, so assertions check the real text.
 */
import { randomBytes } from 'node:crypto';
import { headerEntries } from '../../sip/common/header-values.js';

const COMPACT: Record<string, string> = {
  i: 'call-id',
  f: 'from',
  t: 'to',
  v: 'via',
  m: 'contact',
  l: 'content-length',
  c: 'content-type',
  k: 'supported',
  s: 'subject',
  e: 'content-encoding',
};

export type HeaderList = Array<[string, string]>;

export class SipMessage {
  constructor(
    readonly raw: string,
    readonly startLine: string,
    /** Header lines in order, names lower-cased (compact forms expanded). */
    readonly headerLines: ReadonlyArray<readonly [string, string]>,
    readonly body: string,
  ) {}

  get isResponse(): boolean {
    return this.startLine.startsWith('SIP/2.0 ');
  }

  get method(): string {
    return this.isResponse ? this.cseq.method : this.startLine.split(' ')[0]!;
  }

  get uri(): string {
    if (this.isResponse) throw new Error(`a response has no Request-URI: ${this.startLine}`);
    return this.startLine.split(' ')[1]!;
  }

  get status(): number {
    if (!this.isResponse) throw new Error(`a request has no status: ${this.startLine}`);
    return Number(this.startLine.split(' ')[1]);
  }

  get reason(): string {
    return this.startLine.split(' ').slice(2).join(' ');
  }

  /** The first line of a header, or undefined. */
  header(name: string): string | undefined {
    const wanted = name.toLowerCase();
    return this.headerLines.find(([n]) => n === wanted)?.[1];
  }

  /** Every line of a header. */
  headerAll(name: string): string[] {
    const wanted = name.toLowerCase();
    return this.headerLines.filter(([n]) => n === wanted).map(([, v]) => v);
  }

  /** Every entry of a list header, whether sent as several lines or comma-separated (RFC 3261 §7.3.1). */
  values(name: string): string[] {
    return this.headerAll(name).flatMap((value) => headerEntries(value));
  }

  get callId(): string {
    return this.required('call-id');
  }

  get cseq(): { seq: number; method: string } {
    const [seq, method] = this.required('cseq').trim().split(/\s+/);
    return { seq: Number(seq), method: method! };
  }

  tag(name: 'from' | 'to'): string | undefined {
    return /;\s*tag=([^;>\s,]+)/i.exec(afterUri(this.required(name)))?.[1];
  }

  /** The URI inside a name-addr header (From, To, Contact, P-Asserted-Identity …). */
  uriOf(name: string): string {
    const value = this.required(name);
    const open = value.indexOf('<');
    return open >= 0 ? value.slice(open + 1, value.indexOf('>', open)) : value.split(';')[0]!.trim();
  }

  private required(name: string): string {
    const value = this.header(name);
    if (value === undefined) throw new Error(`no ${name} header in:\n${this.raw}`);
    return value;
  }
}

export function parseSip(raw: string): SipMessage {
  const split = raw.indexOf('\r\n\r\n');
  const head = split >= 0 ? raw.slice(0, split) : raw;
  const rest = split >= 0 ? raw.slice(split + 4) : '';
  const [startLine, ...lines] = head.split(/\r\n(?![ \t])/);
  const headers: Array<[string, string]> = lines.map((line) => {
    const colon = line.indexOf(':');
    if (colon <= 0) throw new Error(`bad header line "${line}" in:\n${raw}`);
    const name = line.slice(0, colon).trim().toLowerCase();
    return [COMPACT[name] ?? name, line.slice(colon + 1).trim()];
  });
  const length = headers.find(([n]) => n === 'content-length')?.[1];
  const body = length === undefined ? rest : Buffer.from(rest, 'utf8').subarray(0, Number(length)).toString('utf8');
  return new SipMessage(raw, startLine ?? '', headers, body);
}

/** Builds a SIP message; Content-Length is computed from the body. */
export function buildSip(startLine: string, headers: HeaderList, body = ''): string {
  const lines = headers.filter(([name]) => name.toLowerCase() !== 'content-length').map(([n, v]) => `${n}: ${v}`);
  lines.push(`Content-Length: ${Buffer.byteLength(body, 'utf8')}`);
  return `${startLine}\r\n${lines.join('\r\n')}\r\n\r\n${body}`;
}

export function randomToken(bytes = 6): string {
  return randomBytes(bytes).toString('hex');
}

function afterUri(value: string): string {
  const close = value.lastIndexOf('>');
  return close >= 0 ? value.slice(close + 1) : value;
}

/** A minimal SDP offer/answer for calls in tests. */
export function sdp(address: string, port: number): string {
  return ['v=0', `o=- 1 1 IN IP4 ${address}`, 's=-', `c=IN IP4 ${address}`, 't=0 0', `m=audio ${port} RTP/AVP 0`, 'a=sendrecv', ''].join('\r\n');
}
