/** The drachtio front's pure header rules and early-dialog identifiers, table-driven. */
import { describe, expect, it } from 'vitest';
import { calledPartyEarlyDialog, sameEarlyDialog } from '../../sip/drachtio/early-dialog.js';
import { hostPortOf, nextHop } from '../../sip/drachtio/next-hop.js';
import { ownAddresses } from '../../sip/drachtio/own-sip-address.js';
import { relayedHeaders, withoutTag } from '../../sip/drachtio/sip-headers.js';
import type { SrfResponse } from '../../sip/drachtio/srf.js';

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
  /** A provisional response as drachtio-srf offers it. */
  const response = (status: number, headers: Record<string, string>, stackDialogId?: string) =>
    ({ status, stackDialogId, has: (name: string) => name.toLowerCase() in headers }) as unknown as SrfResponse;

  it('is the dialog drachtio-server keeps for a reliable 18x', () => {
    expect(calledPartyEarlyDialog(response(183, { rseq: '1', require: '100rel' }, 'dlg-1'))).toEqual({ stackDialogId: 'dlg-1' });
  });

  it.each([
    ['an unreliable 180', response(180, {}, 'dlg-1')],
    ['a 100', response(100, { rseq: '1' }, 'dlg-1')],
    ['a reliable 18x without a dialog id', response(180, { rseq: '1' })],
    ['a final response', response(200, { rseq: '1' }, 'dlg-1')],
  ])('is not opened by %s', (_case, provisional) => {
    expect(calledPartyEarlyDialog(provisional)).toBeNull();
  });

  it('is another dialog when a forked branch answers reliably too', () => {
    const first = calledPartyEarlyDialog(response(180, { rseq: '1' }, 'one'))!;
    expect(sameEarlyDialog(first, { stackDialogId: 'one' })).toBe(true);
    expect(sameEarlyDialog(first, { stackDialogId: 'two' })).toBe(false);
    expect(sameEarlyDialog(null, first)).toBe(false);
  });
});
