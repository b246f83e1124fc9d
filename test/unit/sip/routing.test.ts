import { describe, expect, it } from 'vitest';
import { hasLooped, loopKey, maxForwardsOf, recordRoutes, routeRequest, type OwnAddress } from '../../../sip/embedded/routing.js';
import { sipPackage, type RawUri, type SipRequest } from '../../../sip/sip-stack/sip-package.js';

const own: OwnAddress = {
  publicHost: 'as.example.net',
  isOwnUri: (uri: RawUri) => uri.host === 'as.example.net' && [5060, 8443].includes(Number.isNaN(uri.port) ? 5060 : uri.port),
  portFor: (protocol) => (protocol === 'WS' ? 8443 : 5060),
};

function invite(lines: string[], uri = 'tel:+15551230002'): SipRequest {
  const text = [
    `INVITE ${uri} SIP/2.0`,
    'Via: SIP/2.0/UDP 10.0.0.1;branch=z9hG4bK1',
    'From: <sip:a@example.net>;tag=a',
    'To: <tel:+15551230002>',
    'Call-ID: c1',
    'CSeq: 1 INVITE',
    ...lines,
    'Content-Length: 0',
    '',
    '',
  ].join('\r\n');
  return sipPackage.parse(text) as SipRequest;
}

const hop = (request: SipRequest, outbound: string | null = null) => {
  const { routes, hop } = routeRequest(request, own, outbound);
  const target = hop.kind === 'uri' ? `uri ${sipPackage.stringifyUri(hop.uri)}` : hop.kind === 'flow' ? `flow ${hop.flowId}` : hop.kind === 'unroutable' ? `${hop.status}` : 'binding';
  return { target, left: routes.length };
};

describe('routeRequest', () => {
  it.each([
    ['the next Route after its own', ['Route: <sip:as.example.net;lr>, <sip:scscf.example.net;lr;orig>'], { target: 'uri sip:scscf.example.net;lr;orig', left: 1 }],
    ['the Request-URI when no Route is left', ['Route: <sip:as.example.net:5060;lr>'], { target: 'uri sip:b@10.0.0.2:5070', left: 0 }],
    ['the flow named by the last own entry', ['Route: <sip:as.example.net:5060;transport=udp;lr>, <sip:flow-AAAAAAAAAAAA@as.example.net:8443;transport=ws;lr>'], { target: 'flow AAAAAAAAAAAA', left: 0 }],
    ['the Request-URI when the flow entry came first', ['Route: <sip:flow-AAAAAAAAAAAA@as.example.net:8443;transport=ws;lr>, <sip:as.example.net:5060;lr>'], { target: 'uri sip:b@10.0.0.2:5070', left: 0 }],
    ['another server on its host but another port', ['Route: <sip:as.example.net:5090;lr>'], { target: 'uri sip:as.example.net:5090;lr', left: 1 }],
  ])('sends to %s', (_name, lines, expected) => {
    expect(hop(invite(lines, 'sip:b@10.0.0.2:5070'))).toEqual(expected);
  });

  it('answers 416 when the Request-URI is the only hop and not a SIP URI', () => {
    expect(hop(invite([]))).toEqual({ target: '416', left: 0 });
  });

  it('sends an initial request through the outbound proxy, as a loose route', () => {
    expect(hop(invite([]), 'sip:obp.example.net:5070')).toEqual({ target: 'uri sip:obp.example.net:5070;lr', left: 1 });
  });

  it('leaves in-dialog requests to their route set', () => {
    const inDialog = invite(['Route: <sip:as.example.net;lr>']);
    inDialog.headers.to.params['tag'] = 'b';
    inDialog.uri = 'sip:b@10.0.0.2';
    expect(hop(inDialog, 'sip:obp.example.net')).toEqual({ target: 'uri sip:b@10.0.0.2', left: 0 });
  });
});

describe('recordRoutes', () => {
  it.each([
    ['UDP to UDP: one entry', { protocol: 'UDP', address: '10.0.0.1', port: 5060 }, 'UDP', ['<sip:as.example.net:5060;transport=udp;lr>']],
    ['WS to UDP: both sides, the handset flow named', { protocol: 'WS', address: '10.0.0.1', port: 50000, flowId: 'AAAAAAAAAAAA' }, 'UDP', ['<sip:as.example.net:5060;transport=udp;lr>', '<sip:flow-AAAAAAAAAAAA@as.example.net:8443;transport=ws;lr>']],
    ['UDP to TCP: both transports', { protocol: 'UDP', address: '10.0.0.1', port: 5060 }, 'TCP', ['<sip:as.example.net:5060;transport=tcp;lr>', '<sip:as.example.net:5060;transport=udp;lr>']],
    [
      'WS to a registered WS handset: both flows named',
      { protocol: 'WS', address: '10.0.0.1', port: 50000, flowId: 'AAAAAAAAAAAA' },
      { protocol: 'WS', flowId: 'BBBBBBBBBBBB' },
      ['<sip:flow-BBBBBBBBBBBB@as.example.net:8443;transport=ws;lr>', '<sip:flow-AAAAAAAAAAAA@as.example.net:8443;transport=ws;lr>'],
    ],
  ] as const)('%s', (_name, from, to, expected) => {
    const next = typeof to === 'string' ? { protocol: to, address: '10.0.0.2', port: 5060 } : { ...to, address: '10.0.0.2', port: 50001 };
    expect(recordRoutes(own, from, next).map((r) => `<${r.uri as string}>`)).toEqual(expected);
  });
});

describe('loop detection', () => {
  it('recognises its own Via with the same key, not a spiral with another Request-URI', () => {
    const request = invite([]);
    const key = loopKey(request, []);
    const looped = invite([`Via: SIP/2.0/UDP as.example.net:5060;cmr-loop=${key};branch=z9hG4bK2`]);
    expect(hasLooped(looped, own, loopKey(looped, []))).toBe(true);
    const spiral = invite([`Via: SIP/2.0/UDP as.example.net:5060;cmr-loop=${key};branch=z9hG4bK2`], 'tel:+15551239999');
    expect(hasLooped(spiral, own, loopKey(spiral, []))).toBe(false);
  });

  it.each([
    [[], 70],
    [['Max-Forwards: 0'], 0],
    [['Max-Forwards: 12'], 12],
  ])('reads Max-Forwards from %j', (lines, expected) => {
    expect(maxForwardsOf(invite(lines))).toBe(expected);
  });
});
