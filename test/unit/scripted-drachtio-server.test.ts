/**
 * The scripted drachtio-server lays out the app's messages as the recorded drachtio-server 0.9.10
 * did: the messages below are the app's frames and what drachtio-server put on the wire for them,
 * as recorded (only the values that vary per call shortened).
 */
import { describe, expect, it } from 'vitest';
import { appHeaders, sofiaMessage, wireHeaderName } from '../support/drachtio-peer/sofia.js';
import { parseSip, type HeaderList } from '../support/raw-sip.js';

const STACK: HeaderList = [
  ['Via', 'SIP/2.0/UDP 127.0.0.1:15071;branch=z9hG4bK-1;rport=15071'],
  ['From', '<sip:+15553517104@127.0.0.1;user=phone>;tag=1'],
  ['To', '<sip:+15565542557@127.0.0.2;user=phone>;tag=K2'],
  ['Call-ID', '1@127.0.0.1'],
  ['CSeq', '1 INVITE'],
];

function wire(app: string, extra: HeaderList = []): string[] {
  const message = parseSip(app);
  return sofiaMessage(message.startLine, [...STACK, ...extra, ...appHeaders(message)], message.body).split('\r\n');
}

describe('scripted drachtio-server, as recorded', () => {
  it('writes the 180 of the app with its lower-case headers canonical, after Content-Length, and no Contact', () => {
    const app = [
      'SIP/2.0 180 Ringing',
      'Call-ID: 1@127.0.0.1',
      'cseq: 1 INVITE',
      'from: <sip:+15553517104@127.0.0.1;user=phone>;tag=1',
      'to: <sip:+15565542557@127.0.0.2;user=phone>',
      'Content-Length: 0',
      'alert-info: <https://cdn.example.com/ring.mp3>;resource=r-1',
      'recv-info: cmr-copy',
      '',
      '',
    ].join('\r\n');
    expect(wire(app)).toEqual([
      'SIP/2.0 180 Ringing',
      ...STACK.map(([n, v]) => `${n}: ${v}`),
      'Content-Length: 0',
      'Recv-Info: cmr-copy',
      'Alert-Info: <https://cdn.example.com/ring.mp3>;resource=r-1',
      '',
      '',
    ]);
  });

  it('writes the B-leg INVITE with sofia\'s headers in its order before Content-Length and the asserted identity after it', () => {
    const app = [
      'INVITE sip:+15561137010@127.0.0.1:15090;user=phone;transport=UDP SIP/2.0',
      'p-asserted-identity: <tel:+15553688241>',
      'supported: 100rel',
      'allow: INVITE, ACK, BYE, CANCEL, PRACK, UPDATE, INFO',
      'content-type: application/sdp',
      'route: <sip:scscf.example.net;lr>',
      'Content-Length: 3',
      '',
      'v=0',
    ].join('\r\n');
    expect(wire(app, [['Contact', '<sip:127.0.0.1:15060>']]).slice(6)).toEqual([
      'Contact: <sip:127.0.0.1:15060>',
      'Allow: INVITE, ACK, BYE, CANCEL, PRACK, UPDATE, INFO',
      'Supported: 100rel',
      'Content-Type: application/sdp',
      'Content-Length: 3',
      'P-Asserted-Identity: <tel:+15553688241>',
      '',
      'v=0',
    ]);
  });

  it.each([
    ['warning', 'Warning'],
    ['rack', 'RAck'],
    ['www-authenticate', 'WWW-Authenticate'],
    ['p-charging-vector', 'P-Charging-Vector'],
    ['X-Acme-trace', 'X-Acme-trace'],
  ])('spells %s as %s', (name, spelt) => {
    expect(wireHeaderName(name)).toBe(spelt);
  });
});
