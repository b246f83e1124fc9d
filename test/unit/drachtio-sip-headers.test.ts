/** The drachtio front's pure header rules and early-dialog identifiers, table-driven. */
import { describe, expect, it } from 'vitest';
import { calledPartyEarlyDialog, earlyDialogHeaders, sameEarlyDialog } from '../../sip/drachtio/early-dialog.js';
import { hostPortOf, nextHop, ownAddresses } from '../../sip/drachtio/next-hop.js';
import { relayedHeaders, withoutTag } from '../../sip/drachtio/sip-headers.js';
import type { SrfResponse, SrfSentRequest } from '../../sip/drachtio/srf.js';

describe('B2BUA header rules', () => {
  it.each([
    ['"A" <sip:a@x;user=phone>;tag=123;foo=bar', '"A" <sip:a@x;user=phone>;foo=bar'],
    ['<sip:a@x>', '<sip:a@x>'],
    ['sip:a@x;tag=9', 'sip:a@x'],
  ])('%s without tag is %s', (value, expected) => {
    expect(withoutTag(value)).toBe(expected);
  });

  it('relays every header but those of the hop or the dialog, and asserted identities only from trusted peers', () => {
    const headers = {
      via: 'v',
      from: 'f',
      to: 't',
      'call-id': 'c',
      cseq: '1 INFO',
      contact: 'm',
      'content-length': '3',
      'content-type': 'text/plain',
      'info-package': 'x',
      'X-Trace': '1',
      'p-asserted-identity': '<tel:+15551230001>',
    };
    expect(relayedHeaders(headers, true)).toEqual({ 'content-type': 'text/plain', 'info-package': 'x', 'X-Trace': '1', 'p-asserted-identity': '<tel:+15551230001>' });
    expect(relayedHeaders(headers, false)).toEqual({ 'content-type': 'text/plain', 'info-package': 'x', 'X-Trace': '1' });
  });
});

describe('next hop', () => {
  const own = ownAddresses('udp/10.0.0.5:5060,tcp/10.0.0.5:5060,tls/10.0.0.5:5061', 'as.example.net');

  it('knows the drachtio-server by its endpoints and its public name', () => {
    expect([...own].sort()).toEqual(['10.0.0.5:5060', '10.0.0.5:5061', 'as.example.net:5060', 'as.example.net:5061']);
  });

  it.each([
    ['<sip:10.0.0.5;lr>, <sip:scscf.example.net;lr;odi=1>', null, { proxy: 'sip:scscf.example.net;lr;odi=1', route: '<sip:scscf.example.net;lr;odi=1>' }],
    ['<sip:AS.example.net:5060;lr>,<sip:a.net;lr>,<sip:b.net;lr>', null, { proxy: 'sip:a.net;lr', route: '<sip:a.net;lr>, <sip:b.net;lr>' }],
    ['<sip:10.0.0.5;lr>', 'sip:obp.example.net;lr', { proxy: 'sip:obp.example.net;lr' }],
    [undefined, null, {}],
    ['<sip:other.net;lr>', 'sip:obp.example.net;lr', { proxy: 'sip:other.net;lr', route: '<sip:other.net;lr>' }],
  ])('Route %s, outbound proxy %s → %o', (route, outboundProxy, hop) => {
    expect(nextHop(route, own, outboundProxy)).toEqual(hop);
  });

  it.each([
    ['sip:user@Host.Example.NET;lr', 'host.example.net:5060'],
    ['sips:h.net', 'h.net:5061'],
    ['sip:[2001:db8::1]:5070;lr', '[2001:db8::1]:5070'],
    ['tel:+15551230001', null],
  ])('host:port of %s is %s', (uri, hostPort) => {
    expect(hostPortOf(uri)).toBe(hostPort);
  });
});

describe('the called party early dialog', () => {
  /** A message view with these headers (what drachtio-srf's messages offer). */
  const message = (headers: Record<string, string>) => ({ get: (name: string) => headers[name.toLowerCase()] });
  const invite = message({ 'call-id': 'b-leg@as', from: '<sip:+15551230001@as>;tag=as1', cseq: '7 INVITE' });
  const early = (headers: Record<string, string>) =>
    calledPartyEarlyDialog(invite as unknown as SrfSentRequest, message(headers) as unknown as SrfResponse);

  it('is opened by a tagged 18x with a Contact, and its first hop is the last Record-Route (RFC 3261 §12.1.2)', () => {
    const dialog = early({
      to: '<sip:+15551230002@ims>;tag=ue9',
      contact: '<sip:ue@10.0.0.9:5060;transport=tcp>;expires=60',
      'record-route': '<sip:p2.ims;lr>, <sip:p1.ims;lr>',
    });
    expect(dialog).toEqual({
      callId: 'b-leg@as',
      from: '<sip:+15551230001@as>;tag=as1',
      to: '<sip:+15551230002@ims>;tag=ue9',
      target: 'sip:ue@10.0.0.9:5060;transport=tcp',
      firstHop: 'sip:p1.ims;lr',
      inviteCSeq: 7,
    });
    expect(earlyDialogHeaders(dialog!, 'INFO')).toEqual({
      'Call-ID': 'b-leg@as',
      From: '<sip:+15551230001@as>;tag=as1',
      To: '<sip:+15551230002@ims>;tag=ue9',
      CSeq: '8 INFO',
    });
    expect(early({ to: '<sip:+15551230002@ims>;tag=ue9', contact: '<sip:ue@10.0.0.9>' })?.firstHop).toBeNull();
  });

  it.each([
    ['no To tag', { to: '<sip:+15551230002@ims>', contact: '<sip:ue@10.0.0.9>' }],
    ['no Contact', { to: '<sip:+15551230002@ims>;tag=ue9' }],
  ])('is not opened by an 18x with %s', (_case, headers) => {
    expect(early(headers)).toBeNull();
  });

  it('is another dialog when a forked branch answers with another tag', () => {
    const first = early({ to: '<sip:b@ims>;tag=one', contact: '<sip:ue1@10.0.0.9>' })!;
    expect(sameEarlyDialog(first, early({ to: '<sip:b@ims>;tag=one', contact: '<sip:ue1@10.0.0.9>' })!)).toBe(true);
    expect(sameEarlyDialog(first, early({ to: '<sip:b@ims>;tag=two', contact: '<sip:ue2@10.0.0.8>' })!)).toBe(false);
    expect(sameEarlyDialog(null, first)).toBe(false);
  });
});
