/** Who may use the server: S-CSCFs, access peers (handsets, winning where the lists overlap) and strangers. */
import { describe, expect, it } from 'vitest';
import { parseCidrList } from '../../../src/config/cidr.js';
import { standingOf } from '../../../sip/common/access-rule.js';

const rule = { trusted: parseCidrList('127.0.0.0/8, 10.1.0.0/16'), access: parseCidrList('127.0.0.1/32, 192.0.2.0/24, 2001:db8::/32') };

describe('standingOf', () => {
  it.each([
    ['10.1.2.3', 'trusted'],
    ['127.0.0.2', 'trusted'],
    ['127.0.0.1', 'access'],
    ['::ffff:192.0.2.44', 'access'],
    ['2001:db8::7', 'access'],
    ['198.51.100.7', 'stranger'],
    ['::1', 'stranger'],
    ['', 'stranger'],
  ])('%j is %s', (address, standing) => {
    expect(standingOf(address, rule)).toBe(standing);
  });
});
