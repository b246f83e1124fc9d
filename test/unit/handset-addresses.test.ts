/** The handset's SIP addresses: what a dialled number becomes, identities as the server compares them, and what Alert-Info announces. */
import { describe, expect, it } from 'vitest';
import { normaliseIdentity } from '../../src/domain/identity.js';
import { announcedIn, dialled, identityOf, sipUriOf } from '../../web/handset/src/sip-addresses.js';

const DOMAIN = 'as.example.net:5060';

describe('the handset dialler', () => {
  it.each([
    ['+15551230002', 'sip:+15551230002@as.example.net:5060;user=phone', 'tel:+15551230002'],
    [' +1 (555) 123-0002 ', 'sip:+15551230002@as.example.net:5060;user=phone', 'tel:+15551230002'],
    ['tel:+15551230002', 'sip:+15551230002@as.example.net:5060;user=phone', 'tel:+15551230002'],
    ['sip:alice@Example.NET;transport=tcp', 'sip:alice@Example.NET;transport=tcp', 'sip:alice@example.net'],
    ['sip:+15551230002@ims.example.net;user=phone', 'sip:+15551230002@ims.example.net;user=phone', 'tel:+15551230002'],
  ])('calls %j at %s, the identity %s (as the server reads it)', (input, uri, identity) => {
    expect(dialled(input, DOMAIN)).toEqual({ uri, identity });
    expect(normaliseIdentity(uri)).toBe(identity);
  });

  it.each(['', '5551230002', '+1', 'tel:5551230002', 'sip:nobody', 'mailto:alice@example.net'])('refuses %j in words', (input) => {
    expect(dialled(input, DOMAIN)).toEqual({ error: 'enter a global number (+ and digits), or a tel: or sip: URI' });
  });

  it('writes its own identity as a SIP URI on the server, and reads the caller of an INVITE', () => {
    expect(sipUriOf('tel:+15551230001', DOMAIN)).toBe('sip:+15551230001@as.example.net:5060;user=phone');
    expect(sipUriOf('sip:alice@example.net', DOMAIN)).toBe('sip:alice@example.net');
    expect(identityOf('<sip:+15551230001@127.0.0.1;user=phone>')).toBe('tel:+15551230001');
    expect(identityOf('sip:Bob@Example.net:5070;transport=ws')).toBe('sip:Bob@example.net');
    expect(identityOf('mailto:bob@example.net')).toBeNull();
  });
});

describe('Alert-Info', () => {
  it('names each announced resource once, from one or several lines', () => {
    const lines = ['<https://media.example.net/a.mp3>;resource=r-a, <https://media.example.net/b.png>;foo=1;resource=r-b', '<https://media.example.net/a.mp3>;resource=r-a', '<http://example.net/plain>'];
    expect(announcedIn(lines)).toEqual([
      { contentUri: 'https://media.example.net/a.mp3', resourceId: 'r-a' },
      { contentUri: 'https://media.example.net/b.png', resourceId: 'r-b' },
    ]);
  });
});
