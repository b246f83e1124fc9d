import { describe, expect, it } from 'vitest';
import { appendHeader, bodyBytes, bodyText, headerValue, serialize } from '../../../sip/sip-stack/message.js';
import { sipPackage, type SipRequest } from '../../../sip/sip-stack/sip-package.js';

const TEXT = [
  'INVITE sip:+15551230002@127.0.0.2;user=phone SIP/2.0',
  'Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK1',
  'From: <sip:+15551230001@example.net;user=phone>;tag=a',
  'To: <sip:+15551230002@example.net;user=phone>',
  'Call-ID: c1',
  'CSeq: 1 INVITE',
  'Alert-Info: <http://a/1>',
  'c: Application/SDP; charset=utf-8',
  'Content-Length: 0',
  '',
  '',
].join('\r\n');

describe('SIP message helpers', () => {
  it('writes added values one header line each, after what the package writes', () => {
    const message = sipPackage.parse(TEXT) as SipRequest;
    appendHeader(message, 'Alert-Info', ['<http://b/2>;resource=r2', '<http://c/3>;resource=r3']);
    const lines = serialize(message).split('\r\n');
    expect(lines.filter((l) => l.startsWith('Alert-Info:'))).toEqual(['Alert-Info: <http://a/1>', 'Alert-Info: <http://b/2>;resource=r2', 'Alert-Info: <http://c/3>;resource=r3']);
    expect(lines.at(-2)).toBe('');
  });

  it('reads generic headers by name, compact forms included', () => {
    const message = sipPackage.parse(TEXT) as SipRequest;
    expect(headerValue(message, 'Content-Type')).toBe('Application/SDP; charset=utf-8');
  });

  it('keeps bodies byte-exact on the wire and UTF-8 for the core', () => {
    const text = '{"title":"Été ☀"}';
    expect(bodyText(bodyBytes(text))).toBe(text);
    expect(bodyBytes(text)).toHaveLength(Buffer.byteLength(text));
  });
});
