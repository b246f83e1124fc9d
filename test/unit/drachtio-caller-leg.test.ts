/**
 * The drachtio front's decisions about the caller's leg before the answer, as tables: where an
 * early INFO goes, which 18x go reliably, and the Contact that reaches drachtio-server.
 */
import { describe, expect, it } from 'vitest';
import { earlyInfoRoute, type EarlyInfoFacts, type EarlyInfoRoute } from '../../sip/drachtio/early-info-route.js';
import { contactOn } from '../../sip/drachtio/own-sip-address.js';
import { calledPartySupported, callerReliability, sendReliably, type CallerReliability } from '../../sip/drachtio/reliable-provisionals.js';

describe('where an INFO sent before the answer goes', () => {
  const facts = (copyAnswered: boolean, callKnown: boolean, fromCaller: boolean, calledPartyEarlyDialog: boolean): EarlyInfoFacts => ({
    copyAnswered,
    callKnown,
    fromCaller,
    calledPartyEarlyDialog,
  });

  it.each<[EarlyInfoFacts, EarlyInfoRoute]>([
    // The copy service's answer wins, whatever else holds (a copy for a call no instance knows is its 404).
    [facts(true, true, true, true), 'copy'],
    [facts(true, false, true, false), 'copy'],
    [facts(true, true, false, false), 'copy'],
    // The caller's ordinary INFO goes on only into an early dialog drachtio-server keeps.
    [facts(false, true, true, true), 'relay'],
    [facts(false, true, true, false), 'refuse'],
    // The called party's own early INFO is never sent back to it.
    [facts(false, true, false, true), 'refuse'],
    [facts(false, true, false, false), 'refuse'],
    // Nobody knows the call.
    [facts(false, false, true, false), 'unknown-call'],
    [facts(false, false, false, false), 'unknown-call'],
  ])('%o → %s', (input, route) => {
    expect(earlyInfoRoute(input)).toBe(route);
  });
});

describe('100rel on the caller\'s leg', () => {
  it.each<[string | undefined, string | undefined, CallerReliability]>([
    ['100rel', undefined, 'required'],
    ['precondition, 100rel', 'timer', 'required'],
    [undefined, 'timer,100REL', 'supported'],
    [undefined, 'timer', 'none'],
    [undefined, undefined, 'none'],
  ])('Require %s, Supported %s → %s', (require, supported, reliability) => {
    expect(callerReliability(require, supported)).toBe(reliability);
  });

  it.each<[CallerReliability, number, boolean]>([
    ['required', 180, true],
    ['required', 183, true],
    ['supported', 183, true],
    ['supported', 180, true],
    ['none', 183, false],
    ['none', 180, false],
    ['required', 100, false],
    ['required', 200, false],
  ])('%s caller, %i → reliable %s', (caller, status, reliable) => {
    expect(sendReliably(caller, status)).toBe(reliable);
  });

  it('tells the called party 100rel is supported when the caller only required it', () => {
    expect(calledPartySupported('required', undefined)).toBe('100rel');
    expect(calledPartySupported('required', 'timer')).toBe('timer, 100rel');
    expect(calledPartySupported('required', 'timer, 100rel')).toBe('timer, 100rel');
    expect(calledPartySupported('supported', 'timer, 100rel')).toBe('timer, 100rel');
    expect(calledPartySupported('none', undefined)).toBeUndefined();
  });
});

describe('the Contact that reaches drachtio-server', () => {
  it.each<[string, string, string | undefined, string | null]>([
    ['udp/10.0.0.5:5060,tcp/10.0.0.5:5060', 'udp', '10.0.0.5:5060', '<sip:10.0.0.5:5060>'],
    ['udp/10.0.0.5:5060,tcp/10.0.0.5:5060', 'tcp', '10.0.0.5:5060', '<sip:10.0.0.5:5060;transport=tcp>'],
    // Several addresses: the one the call arrived at.
    ['udp/10.0.0.5:5060,udp/192.0.2.7:5060', 'udp', '192.0.2.7:5060', '<sip:192.0.2.7:5060>'],
    // An external address stands in for the local one the call arrived at: same port.
    ['udp/203.0.113.10:5060,udp/203.0.113.10:5080', 'udp', '10.0.0.5:5080', '<sip:203.0.113.10:5080>'],
    // No arrival address (a request in a dialog): the first of the transport.
    ['udp/10.0.0.5:5060,tcp/10.0.0.5:5070', 'TCP', undefined, '<sip:10.0.0.5:5070;transport=tcp>'],
    ['udp/[2001:db8::5]:5060', 'udp', undefined, '<sip:[2001:db8::5]:5060>'],
    ['udp/10.0.0.5:5060', 'tls', undefined, null],
    ['', 'udp', undefined, null],
  ])('%s on %s, arrived at %s → %s', (hostports, transport, receivedOn, contact) => {
    expect(contactOn(hostports, transport, receivedOn)).toBe(contact);
  });
});
