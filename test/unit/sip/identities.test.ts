import { describe, expect, it } from 'vitest';
import { calledIdentity, senderIdentity } from '../../../sip/embedded/identities.js';
import { sipPackage, type SipRequest } from '../../../sip/sip-stack/sip-package.js';

function invite(uri: string, lines: string[]): SipRequest {
  const text = [`INVITE ${uri} SIP/2.0`, 'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1', 'From: "Alice" <sip:+15551230001@example.net;user=phone>;tag=a', 'To: <tel:+15551230002>', 'Call-ID: c1', 'CSeq: 1 INVITE', ...lines, 'Content-Length: 0', '', ''].join('\r\n');
  return sipPackage.parse(text) as SipRequest;
}

describe('identities of a request', () => {
  const asserted = ['P-Asserted-Identity: <sip:+15557770000@ims.example.net;user=phone>, <tel:+15557770000>', 'P-Served-User: <sip:bob@Example.NET>;sescase=term'];

  it.each([
    ['trusted: asserted identity and served user', true, asserted, 'tel:+15557770000', 'sip:bob@example.net'],
    ['untrusted: From and Request-URI', false, asserted, 'tel:+15551230001', 'tel:+15551230002'],
    ['trusted without assertions: From and Request-URI', true, [], 'tel:+15551230001', 'tel:+15551230002'],
    ['trusted with an unusable assertion: From', true, ['P-Asserted-Identity: <mailto:x@y>'], 'tel:+15551230001', 'tel:+15551230002'],
  ])('%s', (_name, trusted, lines, caller, called) => {
    const request = invite('sip:+1-555-123-0002@ims.example.net;user=phone', lines);
    expect(senderIdentity(request, trusted)).toBe(caller);
    expect(calledIdentity(request, trusted)).toBe(called);
  });

  it('gives null for an identity that cannot be normalised', () => {
    expect(calledIdentity(invite('urn:service:sos', []), false)).toBeNull();
  });
});
