import { describe, expect, it } from 'vitest';
import { sipWarning } from '../../../src/calls/sip-warning.js';
import { headerEntries, uriOf } from '../../../sip/common/header-values.js';

describe('header values', () => {
  it('splits list headers outside <> and quotes', () => {
    expect(headerEntries('<http://a/1,2>;resource=r1 , "x,y" <sip:b@c>,<sip:d@e>')).toEqual(['<http://a/1,2>;resource=r1', '"x,y" <sip:b@c>', '<sip:d@e>']);
    expect(headerEntries(undefined)).toEqual([]);
  });

  it.each([
    ['"Bob" <sip:bob@x;user=phone>;tag=1', 'sip:bob@x;user=phone'],
    ['sip:bob@x;tag=1', 'sip:bob@x'],
    ['<tel:+15551230001', 'tel:+15551230001'],
  ])('the URI of %s is %s', (entry, uri) => {
    expect(uriOf(entry)).toBe(uri);
  });

  it('writes a Warning with the reason quoted and made safe', () => {
    expect(sipWarning('as.example.net', 'say "hi"\r\n')).toBe(`399 as.example.net "say 'hi'''"`);
    expect(sipWarning('h', 'x'.repeat(300))).toBe(`399 h "${'x'.repeat(200)}"`);
  });
});
