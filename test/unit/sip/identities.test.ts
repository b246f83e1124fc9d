/** Who is calling whom and who sends a request, the same rules for both fronts (contract §3). */
import { describe, expect, it } from 'vitest';
import { calledIdentity, identityIn, senderIdentity } from '../../../sip/common/identities.js';

describe('identityIn', () => {
  it.each([
    ['"Alice" <sip:+15551230001@ims.example.net;user=phone>;tag=a1', 'tel:+15551230001'],
    ['<tel:+1-555-123-0001>', 'tel:+15551230001'],
    ['sip:Bob@Example.NET:5060;tag=x', 'sip:Bob@example.net'],
    ['<sip:invalid user@x>, <tel:+15551230001>', 'tel:+15551230001'],
    ['<mailto:x@y>, <sip:+15551230001@ims.example.net;user=phone>', 'tel:+15551230001'],
    ['"Comma, Name" <sip:carol@example.net>', 'sip:carol@example.net'],
    ['<sip:+15551230009@ims.example.net;user=phone>;sescase=term;regstate=reg', 'tel:+15551230009'],
  ])('%s → %s', (value, identity) => {
    expect(identityIn(value)).toBe(identity);
  });

  it.each([[undefined], [''], ['<sip:example.net>'], ['Anonymous <urn:x>']])('%s → null', (value) => {
    expect(identityIn(value)).toBeNull();
  });
});

describe('the parties of a request', () => {
  const asserted = '<sip:+15557770000@ims.example.net;user=phone>, <tel:+15557770000>';
  const servedUser = '<sip:bob@Example.NET>;sescase=term';
  const fromUri = 'sip:+15551230001@example.net;user=phone';
  const requestUri = 'sip:+1-555-123-0002@ims.example.net;user=phone';

  it.each([
    ['trusted: asserted identity and served user', true, asserted, servedUser, 'tel:+15557770000', 'sip:bob@example.net'],
    ['untrusted: From and Request-URI', false, asserted, servedUser, 'tel:+15551230001', 'tel:+15551230002'],
    ['trusted without assertions: From and Request-URI', true, undefined, undefined, 'tel:+15551230001', 'tel:+15551230002'],
    ['trusted with unusable assertions: From and Request-URI', true, '<mailto:x@y>', '<urn:x>', 'tel:+15551230001', 'tel:+15551230002'],
  ])('%s', (_name, trusted, pai, psu, caller, called) => {
    expect(senderIdentity(trusted, pai, fromUri)).toBe(caller);
    expect(calledIdentity(trusted, psu, requestUri)).toBe(called);
  });

  it('gives null for an identity that cannot be normalised', () => {
    expect(calledIdentity(false, undefined, 'urn:service:sos')).toBeNull();
    expect(senderIdentity(false, undefined, 'sip:example.net')).toBeNull();
  });
});
