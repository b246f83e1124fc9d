/**
 * Reading and writing SIP messages: header access by lower-case name, one header line per value
 * where the package would join values with commas, and bodies as UTF-8 text at the edge.
 */
import { sipPackage, type NameAddr, type RawUri, type SipMessage } from './sip-package.js';

/** A generic (unstructured) header as one string; repeated lines come joined with commas. */
export function headerValue(message: SipMessage, name: string): string | undefined {
  const value = message.headers[name.toLowerCase()];
  if (typeof value === 'string') return value;
  if (Array.isArray(value) && value.every((v) => typeof v === 'string')) return value.join(', ');
  return undefined;
}

/** Replaces a generic header; a list is written as one line per value. */
export function setHeader(message: SipMessage, name: string, value: string | string[]): void {
  message.headers[name.toLowerCase()] = value;
}

/** Adds values to a generic header, keeping what is there, one line per value. */
export function appendHeader(message: SipMessage, name: string, values: readonly string[]): void {
  if (values.length === 0) return;
  const existing = headerValue(message, name);
  setHeader(message, name, existing === undefined ? [...values] : [existing, ...values]);
}

export function tagOf(address: NameAddr | undefined): string | null {
  const tag = address?.params?.['tag'];
  return typeof tag === 'string' && tag.length > 0 ? tag : null;
}

/** A URI as text; '' when the header had none that could be read. */
export function uriText(uri: string | RawUri | undefined): string {
  if (uri === undefined || uri === null) return '';
  return typeof uri === 'string' ? uri : sipPackage.stringifyUri(uri);
}

/**
 * The wire form. The package's serializer writes each header once, under its own spelling of
 * the name; headers written as text (generic headers, and lists of strings this stack sets one
 * line per value, such as Alert-Info) are written here, under the name they came with.
 */
export function serialize(message: SipMessage): string {
  const structured: Record<string, unknown> = {};
  let lines = '';
  for (const [name, value] of Object.entries(message.headers)) {
    if (typeof value === 'string') lines += `${displayName(name, message.headerNames)}: ${value}\r\n`;
    else if (isStringList(value)) for (const item of value) lines += `${displayName(name, message.headerNames)}: ${item}\r\n`;
    else structured[name] = value;
  }
  const text = sipPackage.stringify({ ...message, headers: structured } as unknown as SipMessage);
  if (lines === '') return text;
  const end = text.indexOf('\r\n\r\n');
  return text.slice(0, end + 2) + lines + text.slice(end + 2);
}

/** Bodies travel as byte strings; the core sees UTF-8 text. */
export function bodyText(content: string | undefined): string {
  return Buffer.from(content ?? '', 'latin1').toString('utf8');
}

export function bodyBytes(text: string): string {
  return Buffer.from(text, 'utf8').toString('latin1');
}

function isStringList(value: unknown): value is string[] {
  return Array.isArray(value) && value.length > 0 && value.every((v) => typeof v === 'string');
}

/** The name a header came with, else the capitalisation the package uses for the headers it writes. */
function displayName(name: string, spelled: Record<string, string> | undefined): string {
  const original = spelled?.[name];
  if (original !== undefined) return original;
  return name === 'call-id' ? 'Call-ID' : name.replace(/\b([a-z])/g, (c) => c.toUpperCase());
}
